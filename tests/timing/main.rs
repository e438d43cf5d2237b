//! Wall-clock limits, measured. A test binary of its own, so that no other
//! test loads the machine while it measures: cargo runs test binaries one
//! at a time.

use authpipe::ErrorKind;
use authpipe_tests::{Call, INPUT, limits, runtime, stage};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The tests of this binary measure one at a time.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// A function that runs until its deadline: bursts of computation (about
/// 1.5M fuel each), each followed by a 1 ms timer, so that the largest fuel
/// budget outlasts a 3 s timeout on any machine and the deadline falls both
/// in computation (epoch interruption) and in a wait (the host's sleep).
/// The rate does not depend on how fast a host call is.
const SPIN: &str = "async function pipe(u, c, cb) { for (;;) { let x = 0; for (let i = 0; i < 2000; i++) x += i; await new Promise((r) => setTimeout(r, 1)); } }";

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

/// Store mode: one tenant with every allowed invocation spinning at its
/// limits (`max_concurrent` of them) does not slow another tenant's
/// ordinary invocations beyond noise. Long-running calls share the cores in
/// turns; short calls never wait for them.
#[test]
fn a_spinning_tenant_does_not_slow_another() {
    let _alone = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    const ADMIN: &str = "admin-token-for-timing-0123456789";
    let dir = authpipe_tests::temp_dir("timing-fairness");
    std::fs::create_dir_all(&dir).unwrap();
    let server = authpipe_tests::Server::start_store(&dir, &[("AUTHPIPE_ADMIN_TOKEN", ADMIN)]);
    let call = |method: &str, path: &str, token: &str, body: serde_json::Value| {
        let auth = format!("Bearer {token}");
        server.request(
            method,
            path,
            &[
                ("authorization", &auth),
                ("content-type", "application/json"),
            ],
            Some(&body.to_string()),
        )
    };
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let spinners = cores * 2;
    for (tenant, quotas) in [
        ("spinner", serde_json::json!({"max_concurrent": spinners})),
        ("calm", serde_json::json!({})),
    ] {
        let created = call(
            "POST",
            "/v1/tenants",
            ADMIN,
            serde_json::json!({"id": tenant, "quotas": quotas}),
        );
        assert_eq!(created.status, 201, "{}", created.body);
    }
    let spin = call(
        "POST",
        "/v1/tenants/spinner/functions",
        ADMIN,
        serde_json::json!({
        "name": "spin", "source": "function pipe(u, c, cb) { while (true) {} }",
        "triggers": ["pre-register"], "timeout_ms": 500, "fuel": 1_000_000_000u64}),
    );
    assert_eq!(spin.status, 201, "{}", spin.body);
    let ok = call(
        "POST",
        "/v1/tenants/calm/functions",
        ADMIN,
        serde_json::json!({
        "name": "ok", "source": "function pipe(u, c, cb) { u.seen = true; cb(null, u, c) }",
        "triggers": ["pre-register"]}),
    );
    assert_eq!(ok.status, 201, "{}", ok.body);
    let input = serde_json::json!({"user": {"email": "a@example.com"}, "context": {}});
    let calm_p50 = |n: usize| {
        let mut times: Vec<Duration> = (0..n)
            .map(|_| {
                let started = Instant::now();
                let answer = call(
                    "POST",
                    "/v1/tenants/calm/pipelines/pre-register",
                    ADMIN,
                    input.clone(),
                );
                assert_eq!(answer.status, 200, "{}", answer.body);
                started.elapsed()
            })
            .collect();
        times.sort();
        times[n / 2]
    };
    calm_p50(50);
    let quiet = calm_p50(300);
    let stop = std::sync::atomic::AtomicBool::new(false);
    let busy = std::thread::scope(|scope| {
        for _ in 0..spinners {
            let (stop, input) = (&stop, &input);
            scope.spawn(move || {
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let answer = call(
                        "POST",
                        "/v1/tenants/spinner/pipelines/pre-register",
                        ADMIN,
                        input.clone(),
                    );
                    assert_eq!(answer.status, 200, "{}", answer.body);
                }
            });
        }
        std::thread::sleep(Duration::from_millis(300));
        let busy = calm_p50(300);
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        busy
    });
    eprintln!(
        "calm tenant p50: {quiet:?} alone, {busy:?} beside {spinners} spinning sandboxes of another tenant"
    );
    assert!(
        busy < quiet * 2 + Duration::from_micros(500),
        "a spinning tenant slowed another: p50 {quiet:?} alone, {busy:?} beside it"
    );
}
