//! `authpipe serve` under attack: clients that disconnect, stall or flood,
//! and what an operator sees. Real processes on 127.0.0.1.

use authpipe_tests::{INPUT, Server, write_project};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// Spins until its deadline, partly in host calls (with fuel for 3 s).
const SPIN: &str = "function pipe(u, c, cb) { const b = new Uint8Array(65536); while (true) { crypto.getRandomValues(b); } }";
const FAST: &str = "function pipe(u, c, cb) { u.seen = true; cb(null, u, c) }";
const THROWS: &str = "function pipe(u, c, cb) {\n  console.warn('about to fail\\nforged INFO line');\n  throw new Error('boom at line 3');\n}";

/// A project with a spinning, a fast and a throwing function.
fn project(label: &str, server: &str) -> std::path::PathBuf {
    let config = format!(
        r#"
[server]
{server}

[[function]]
name = "spin"
source = "functions/spin.js"
triggers = ["post-authentication"]
timeout_ms = 3000
fuel = 10000000000

[[function]]
name = "fast"
source = "functions/fast.js"
triggers = ["pre-register"]

[[function]]
name = "throws"
source = "functions/throws.js"
triggers = ["pre-authentication"]
"#
    );
    write_project(
        label,
        &config,
        &[("spin", SPIN), ("fast", FAST), ("throws", THROWS)],
    )
}

fn raw_request(path: &str, body: &str) -> Vec<u8> {
    format!(
        "POST {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// Closes `stream` with a TCP reset, as a client that gives up does.
fn reset(stream: TcpStream) {
    set_linger_zero(&stream);
    drop(stream);
}

/// Sets SO_LINGER to zero so that closing sends a reset.
fn set_linger_zero(stream: &TcpStream) {
    use std::os::fd::AsRawFd;
    #[repr(C)]
    struct Linger {
        l_onoff: i32,
        l_linger: i32,
    }
    let linger = Linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: setsockopt on an open socket with a correctly sized struct.
    unsafe {
        setsockopt(
            stream.as_raw_fd(),
            1,  /* SOL_SOCKET */
            13, /* SO_LINGER */
            (&linger as *const Linger).cast(),
            std::mem::size_of::<Linger>() as u32,
        );
    }
}

unsafe extern "C" {
    fn setsockopt(fd: i32, level: i32, name: i32, value: *const u8, len: u32) -> i32;
}

fn metric(server: &Server, name: &str) -> f64 {
    let text = server.get("/metrics", None).body;
    text.lines()
        .find(|l| l.starts_with(name) && !l.starts_with('#'))
        .and_then(|l| l.rsplit(' ').next()?.parse().ok())
        .unwrap_or(0.0)
}

#[test]
fn disconnecting_clients_do_not_take_capacity_from_others() {
    let dir = project("disconnect-flood", "max_concurrent_invocations = 16");
    let server = Server::start(&dir, &[]);
    let addr = server.addr();
    let flood_until = Instant::now() + Duration::from_secs(3);
    let attackers: Vec<_> = (0..8)
        .map(|_| {
            let addr = addr.clone();
            std::thread::spawn(move || {
                let mut sent = 0;
                while Instant::now() < flood_until {
                    let Ok(mut stream) = TcpStream::connect(&addr) else {
                        continue;
                    };
                    let _ = stream.write_all(&raw_request("/v1/functions/spin/invoke", INPUT));
                    std::thread::sleep(Duration::from_millis(20));
                    reset(stream);
                    sent += 1;
                }
                sent
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    let (mut ok, mut total) = (0, 0);
    while Instant::now() < flood_until {
        let answer = server.post("/v1/functions/fast/invoke", INPUT, None);
        total += 1;
        assert!(
            !answer.body.contains("concurrent limit") && !answer.body.contains("sandbox failed"),
            "pool exhaustion must never reach a caller: {}",
            answer.body
        );
        assert!(
            answer.status == 200 || answer.status == 503,
            "{} {}",
            answer.status,
            answer.body
        );
        if answer.status == 200 && answer.json()["outcome"] == "allow" {
            ok += 1;
        }
    }
    let flooded: u32 = attackers.into_iter().map(|a| a.join().unwrap()).sum();
    assert!(flooded > 100, "the flood sent {flooded} requests");
    assert!(
        ok * 100 >= total * 95,
        "normal requests during the flood: {ok} of {total} succeeded"
    );
    // Every abandoned sandbox stops at once: nothing stays in flight.
    let deadline = Instant::now() + Duration::from_secs(2);
    while metric(&server, "authpipe_invocations_in_flight") > 0.0 {
        assert!(Instant::now() < deadline, "sandboxes still running");
        std::thread::sleep(Duration::from_millis(50));
    }
    // Operators see them.
    assert!(metric(&server, "authpipe_invocations_cancelled_total") > 50.0);
    assert!(
        server
            .stderr()
            .lines()
            .any(|l| l.contains("outcome=\"cancelled\"") && l.contains("function spin")),
        "no cancelled invocation in the log"
    );
}

#[test]
fn admission_answers_503_when_full_and_never_a_function_error() {
    let dir = project("admission", "max_concurrent_invocations = 2");
    let server = Server::start(&dir, &[]);
    let spinners: Vec<_> = (0..2)
        .map(|_| {
            let addr = server.addr();
            std::thread::spawn(move || {
                let mut stream = TcpStream::connect(addr).unwrap();
                stream
                    .write_all(&raw_request("/v1/functions/spin/invoke", INPUT))
                    .unwrap();
                let mut answer = String::new();
                let _ = stream.read_to_string(&mut answer);
                answer
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(500));
    let refused = server.post("/v1/functions/fast/invoke", INPUT, None);
    assert_eq!(refused.status, 503, "{}", refused.body);
    assert_eq!(refused.retry_after.as_deref(), Some("1"));
    for spinner in spinners {
        let answer = spinner.join().unwrap();
        assert!(answer.contains("\"kind\":\"timeout\""), "{answer}");
    }
    assert_eq!(
        server.post("/v1/functions/fast/invoke", INPUT, None).status,
        200
    );
}

#[test]
fn silent_slow_and_stalled_connections_are_closed_at_their_timeouts() {
    let dir = project(
        "slow-clients",
        "header_timeout_ms = 1000\nbody_timeout_ms = 1000\nidle_timeout_ms = 1500",
    );
    let server = Server::start(&dir, &[]);
    let closed_within = |mut stream: TcpStream, limit: Duration| -> (Duration, String) {
        let started = Instant::now();
        stream.set_read_timeout(Some(limit)).unwrap();
        let mut answer = String::new();
        let _ = stream.read_to_string(&mut answer);
        (started.elapsed(), answer)
    };

    // Never sends anything.
    let silent = TcpStream::connect(server.addr()).unwrap();
    let (took, _) = closed_within(silent, Duration::from_secs(10));
    assert!(
        (Duration::from_millis(1400)..Duration::from_millis(3500)).contains(&took),
        "idle connection closed after {took:?}"
    );

    // Sends its head one byte at a time, forever.
    let mut slow_head = TcpStream::connect(server.addr()).unwrap();
    let started = Instant::now();
    let head = b"POST /v1/functions/fast/invoke HTTP/1.1\r\nHost: x\r\nX-Padding: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    let mut cut_off = None;
    for byte in head {
        if slow_head.write_all(&[*byte]).is_err() {
            cut_off = Some(started.elapsed());
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
        if started.elapsed() > Duration::from_secs(5) {
            break;
        }
    }
    let took = cut_off
        .unwrap_or_else(|| closed_within(slow_head, Duration::from_secs(10)).0 + started.elapsed());
    assert!(
        took < Duration::from_millis(3500),
        "slow head cut off after {took:?}"
    );

    // Sends its head, then half of its body, then stalls.
    let mut stalled = TcpStream::connect(server.addr()).unwrap();
    stalled
        .write_all(b"POST /v1/functions/fast/invoke HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"user\":")
        .unwrap();
    let (took, answer) = closed_within(stalled, Duration::from_secs(10));
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(
        took < Duration::from_millis(2500),
        "stalled body answered after {took:?}"
    );

    // A keep-alive connection that goes quiet after a request is closed too.
    let mut keep_alive = TcpStream::connect(server.addr()).unwrap();
    let request = String::from_utf8(raw_request("/v1/functions/fast/invoke", INPUT))
        .unwrap()
        .replace("Connection: close\r\n", "");
    keep_alive.write_all(request.as_bytes()).unwrap();
    let (took, answer) = closed_within(keep_alive, Duration::from_secs(10));
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        (Duration::from_millis(1400)..Duration::from_millis(3500)).contains(&took),
        "idle keep-alive connection closed after {took:?}"
    );
    assert!(
        metric(
            &server,
            "authpipe_connections_closed_total{reason=\"idle_timeout\"}"
        ) >= 2.0
    );
    assert!(
        metric(
            &server,
            "authpipe_connections_closed_total{reason=\"header_timeout\"}"
        ) >= 1.0
    );
}

#[test]
fn connections_over_the_cap_get_503() {
    let dir = project("connection-cap", "max_connections = 4");
    let server = Server::start(&dir, &[]);
    let held: Vec<_> = (0..4)
        .map(|_| TcpStream::connect(server.addr()).unwrap())
        .collect();
    std::thread::sleep(Duration::from_millis(200));
    let mut extra = TcpStream::connect(server.addr()).unwrap();
    extra
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut answer = String::new();
    let _ = extra.read_to_string(&mut answer);
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    drop(held);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        server.post("/v1/functions/fast/invoke", INPUT, None).status,
        200
    );
}

#[test]
fn a_flood_of_large_bodies_is_bounded_and_memory_returns() {
    let dir = project(
        "body-flood",
        "body_timeout_ms = 2000\nmax_body_bytes_in_flight = 33554432",
    );
    let server = Server::start(&dir, &[]);
    // Warm up, then take the baseline.
    for _ in 0..20 {
        server.post("/v1/functions/fast/invoke", INPUT, None);
    }
    let baseline = server.rss_kib();
    let half = vec![b' '; 512 * 1024];
    let mut streams = Vec::new();
    let mut peak = baseline;
    for _ in 0..300 {
        let Ok(mut stream) = TcpStream::connect(server.addr()) else {
            continue;
        };
        let head = "POST /v1/functions/fast/invoke HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1048000\r\n\r\n";
        let _ = stream.write_all(head.as_bytes());
        stream.set_nonblocking(true).unwrap();
        let _ = stream.write(&half);
        streams.push(stream);
    }
    // Small requests are still served during the flood.
    for _ in 0..10 {
        let answer = server.post("/v1/functions/fast/invoke", INPUT, None);
        assert_eq!(answer.status, 200, "{}", answer.body);
    }
    for _ in 0..10 {
        peak = peak.max(server.rss_kib());
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        peak < baseline + 300 * 1024,
        "300 half-sent 1 MB bodies took RSS from {baseline} KiB to {peak} KiB"
    );
    assert!(
        metric(
            &server,
            "authpipe_request_bodies_refused_total{reason=\"no_budget\"}"
        ) > 0.0
    );
    drop(streams);
    // Body timeouts end the rest; memory goes back.
    std::thread::sleep(Duration::from_secs(5));
    let after = server.rss_kib();
    assert!(
        after < baseline + 64 * 1024,
        "RSS {after} KiB after the flood, baseline {baseline} KiB (peak {peak} KiB)"
    );
}

#[test]
fn shutdown_is_prompt_with_stalled_connections_and_running_async_functions() {
    let config = r#"
[server]
async_grace_ms = 500
shutdown_grace_ms = 2000

[[function]]
name = "fast"
source = "functions/fast.js"
triggers = ["post-register"]

[[function]]
name = "spin-later"
source = "functions/spin.js"
triggers = ["post-register"]
async = true
timeout_ms = 10000
fuel = 10000000000
"#;
    let dir = write_project("prompt-shutdown", config, &[("spin", SPIN), ("fast", FAST)]);
    let mut server = Server::start(&dir, &[]);
    assert_eq!(
        server
            .post("/v1/pipelines/post-register", INPUT, None)
            .status,
        200
    );
    let mut stalled_head = TcpStream::connect(server.addr()).unwrap();
    stalled_head.write_all(b"POST /v1/pipe").unwrap();
    let mut stalled_body = TcpStream::connect(server.addr()).unwrap();
    stalled_body
        .write_all(
            b"POST /v1/functions/fast/invoke HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{",
        )
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let started = Instant::now();
    server.signal("TERM");
    let status = server.wait();
    let took = started.elapsed();
    assert!(status.success(), "{status:?}\n{}", server.stderr());
    assert!(
        took < Duration::from_millis(1500),
        "shutdown took {took:?} with a 500 ms async grace\n{}",
        server.stderr()
    );
    assert!(
        server.stderr().contains("were cancelled"),
        "{}",
        server.stderr()
    );
}

#[test]
fn operators_see_every_invocation_and_the_functions_logs() {
    let dir = project("operator-logs", "");
    let server = Server::start(&dir, &[]);
    let answer = server.request(
        "POST",
        "/v1/pipelines/pre-authentication",
        &[
            ("content-type", "application/json"),
            ("x-request-id", "req-42"),
        ],
        Some(INPUT),
    );
    assert_eq!(answer.json()["outcome"], "error");
    std::thread::sleep(Duration::from_millis(200));
    let log = server.stderr();
    let line = log
        .lines()
        .find(|l| l.contains("authpipe::invocation") && l.contains("req-42"))
        .unwrap_or_else(|| panic!("no invocation line:\n{log}"));
    assert!(line.contains("WARN"), "{line}");
    for part in [
        "pre-authentication",
        "outcome=\"error\"",
        "error_kind=\"exception\"",
        "boom at line 3",
        "throws=error/",
    ] {
        assert!(line.contains(part), "{part} missing in {line}");
    }
    assert!(
        log.lines().any(|l| l.contains("authpipe::function")
            && l.contains("req-42")
            && l.contains("about to fail")),
        "{log}"
    );

    let metrics = server.get("/metrics", None).body;
    for series in [
        "authpipe_build_info{version=",
        "authpipe_errors_total{function=\"throws\",kind=\"exception\"} 1",
        "authpipe_http_request_duration_seconds_count",
        "authpipe_connections_open",
    ] {
        assert!(metrics.contains(series), "{series} missing:\n{metrics}");
    }
}

#[test]
fn json_logs_are_one_object_per_line() {
    let dir = project("json-logs", "");
    let server = Server::start(&dir, &[("AUTHPIPE_LOG_FORMAT", "json")]);
    server.post("/v1/pipelines/pre-authentication", INPUT, None);
    std::thread::sleep(Duration::from_millis(200));
    let log = server.stderr();
    let invocation = log
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap_or_else(|e| panic!("{e}: {l}"))
        })
        .find(|v| v["target"] == "authpipe::invocation")
        .unwrap_or_else(|| panic!("no JSON invocation line:\n{log}"));
    assert_eq!(invocation["level"], "WARN");
    assert_eq!(invocation["fields"]["error_kind"], "exception");
    assert_eq!(invocation["fields"]["name"], "pre-authentication");
}

#[test]
fn compile_errors_name_the_source_file_and_values_are_quoted_as_written() {
    let config = r#"
[[function]]
name = "a"
source = "functions/syntax.js"
"#;
    let dir = write_project(
        "named-errors",
        config,
        &[("syntax", "function pipe(u, c, cb) {\n  let x = ;\n}")],
    );
    let refused = Server::try_start(&dir, &[]).map(|_| ()).unwrap_err();
    assert!(refused.contains("functions/syntax.js:2:"), "{refused}");
    assert!(!refused.contains("a.js"), "{refused}");

    for (written, name) in [
        ("timeout_ms = -5", "timeout_ms = -5"),
        ("memory_mb = 5000000000", "memory_mb = 5000000000"),
    ] {
        let config =
            format!("[[function]]\nname = \"f\"\nsource = \"functions/f.js\"\n{written}\n");
        let dir = write_project("quoted-values", &config, &[("f", FAST)]);
        let refused = Server::try_start(&dir, &[]).map(|_| ()).unwrap_err();
        assert!(
            refused.contains(&format!("{name} is out of range")),
            "{refused}"
        );
    }
}
