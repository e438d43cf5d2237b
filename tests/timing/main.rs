//! Wall-clock limits, measured. A test binary of its own, so that no other
//! test loads the machine while it measures: cargo runs test binaries one
//! at a time.

use authpipe::ErrorKind;
use authpipe_tests::{Call, INPUT, limits, runtime, stage};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The tests of this binary measure one at a time.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// A function that spins until its deadline, partly in host calls, so that
/// the largest fuel budget outlasts a 3 s timeout.
const SPIN: &str = "function pipe(u, c, cb) { const b = new Uint8Array(65536); while (true) { crypto.getRandomValues(b); } }";

fn timed_run(function: &authpipe::Function, timeout_ms: u64) -> Duration {
    let stage = stage(
        function,
        &Call {
            limits: limits(Some(timeout_ms), Some(10_000_000_000), None),
            ..Call::default()
        },
    );
    let started = Instant::now();
    let result = stage.run_blocking(INPUT.as_bytes());
    let took = started.elapsed();
    assert_eq!(result.error.unwrap().kind, ErrorKind::Timeout);
    took
}

fn assert_within_ten_percent(took: Duration, timeout_ms: u64, what: &str) {
    let limit = Duration::from_millis(timeout_ms);
    assert!(took >= limit, "{what}: ended early, after {took:?}");
    assert!(
        took <= limit + limit / 10,
        "{what}: a {timeout_ms} ms timeout ended after {took:?}"
    );
}

#[test]
fn timeouts_end_within_ten_percent_idle_and_under_load() {
    let _alone = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let function = runtime().compile("spin", SPIN).expect("compiles");
    for timeout_ms in [100, 1000, 3000] {
        let took = timed_run(&function, timeout_ms);
        assert_within_ten_percent(took, timeout_ms, "idle");
    }
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    // One unmeasured round first: a fresh process touches the memory of
    // cores × 4 new pool slots for the first time (page faults, zeroing),
    // a start-up cost that is not the wall-clock limit under load.
    let warm_up: Vec<_> = (0..cores * 4)
        .map(|_| {
            let function = function.clone();
            std::thread::spawn(move || timed_run(&function, 100))
        })
        .collect();
    for thread in warm_up {
        thread.join().unwrap();
    }
    for timeout_ms in [100, 1000, 3000] {
        let threads: Vec<_> = (0..cores * 4)
            .map(|_| {
                let function = function.clone();
                std::thread::spawn(move || timed_run(&function, timeout_ms))
            })
            .collect();
        let mut worst = Duration::ZERO;
        for thread in threads {
            let took = thread.join().unwrap();
            worst = worst.max(took);
            assert_within_ten_percent(took, timeout_ms, &format!("{} concurrent", cores * 4));
        }
        eprintln!(
            "timeout {timeout_ms} ms, {} concurrent: worst {worst:?}",
            cores * 4
        );
    }
}

#[test]
fn timeouts_hold_over_http_with_concurrent_calls() {
    let _alone = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let config = "[[function]]\nname = \"spin\"\nsource = \"functions/spin.js\"\ntimeout_ms = 1000\nfuel = 10000000000\n";
    let dir = authpipe_tests::write_project("timing-http", config, &[("spin", SPIN)]);
    let server = authpipe_tests::Server::start(&dir, &[]);
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let calls: Vec<_> = (0..cores * 4)
        .map(|_| {
            let addr = server.addr();
            std::thread::spawn(move || {
                use std::io::{Read, Write};
                let body = INPUT;
                let request = format!(
                    "POST /v1/functions/spin/invoke HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                    body.len()
                );
                let started = Instant::now();
                let mut stream = std::net::TcpStream::connect(addr).unwrap();
                stream.write_all(request.as_bytes()).unwrap();
                let mut answer = String::new();
                stream.read_to_string(&mut answer).unwrap();
                (started.elapsed(), answer)
            })
        })
        .collect();
    for call in calls {
        let (took, answer) = call.join().unwrap();
        assert!(answer.contains("\"kind\":\"timeout\""), "{answer}");
        assert_within_ten_percent(took, 1000, "over HTTP");
    }
}
