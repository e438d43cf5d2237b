//! `authpipe serve` over real TCP on 127.0.0.1, with a real HTTP client.

use authpipe_tests::{INPUT, Server, source, write_project};
use serde_json::json;
use std::time::{Duration, Instant};

const TRAIL: &str = r#"
function pipe(user, context, callback) {
  user.trail = (user.trail || []).concat([env.STAGE_MARK || 'x']);
  callback(null, user, context);
}
"#;

fn trail_function(mark: &str) -> String {
    TRAIL.replace("env.STAGE_MARK || 'x'", &format!("'{mark}'"))
}

/// A project with an ordered pre-register pipeline (c, a, b by file order;
/// a, b, c by `order`), a disabled function, a failing one, an async one
/// and a slow one.
fn project(extra_server: &str) -> std::path::PathBuf {
    let config = format!(
        r#"
[server]
{extra_server}

[env]
ALLOWED_DOMAIN = "example.com"

[[function]]
name = "c"
source = "functions/c.js"
triggers = ["pre-register"]
order = 30

[[function]]
name = "a"
source = "functions/a.js"
triggers = ["pre-register"]
order = 10

[[function]]
name = "disabled"
source = "functions/disabled.js"
triggers = ["pre-register"]
order = 15
enabled = false

[[function]]
name = "b"
source = "functions/b.js"
triggers = ["pre-register"]
order = 20

[[function]]
name = "throws"
source = "functions/throws.js"
triggers = ["post-authentication"]

[[function]]
name = "notify"
source = "functions/notify.js"
triggers = ["post-register"]
async = true

[[function]]
name = "global_state"
source = "functions/global_state.js"
triggers = ["pre-authentication"]

[[function]]
name = "slow"
source = "functions/slow.js"
timeout_ms = 5000
fuel = 10000000000
"#
    );
    write_project(
        "server",
        &config,
        &[
            ("a", &trail_function("a")),
            ("b", &trail_function("b")),
            ("c", &trail_function("c")),
            ("disabled", &trail_function("disabled")),
            ("throws", &source("throws")),
            (
                "notify",
                "function pipe(u, c, cb) { console.log('notified ' + u.id); cb(null, u, c) }",
            ),
            ("global_state", &source("global_state")),
            (
                "slow",
                "function pipe(u, c, cb) { const end = Date.now() + Number(c.ms || 300); while (Date.now() < end) {} cb(null, u, c) }",
            ),
        ],
    )
}

#[test]
fn endpoints_and_status_codes() {
    let server = Server::start(&project("max_body_bytes = 2048"), &[]);

    let health = server.get("/healthz", None);
    assert_eq!(health.status, 200);
    assert_eq!(health.json()["status"], "ok");
    assert!(health.request_id.is_some(), "responses carry x-request-id");
    let ready = server.get("/readyz", None);
    assert_eq!(ready.status, 200, "{}", ready.body);
    assert_eq!(ready.json()["status"], "ready");

    let pipeline = server.post("/v1/pipelines/pre-register", INPUT, None);
    assert_eq!(pipeline.status, 200);
    assert_eq!(pipeline.content_type.as_deref(), Some("application/json"));
    let result = pipeline.json();
    assert_eq!(result["outcome"], "allow");
    assert_eq!(
        result["user"]["trail"],
        json!(["a", "b", "c"]),
        "ascending order, disabled skipped"
    );
    assert_eq!(result["stages"].as_array().unwrap().len(), 3);

    let invoke = server.post("/v1/functions/b/invoke", INPUT, None);
    assert_eq!(invoke.status, 200);
    assert_eq!(invoke.json()["user"]["trail"], json!(["b"]));

    let failing = server.post("/v1/pipelines/post-authentication", INPUT, None);
    assert_eq!(failing.status, 200, "a failing function is not a 5xx");
    assert_eq!(failing.json()["outcome"], "error");
    assert_eq!(failing.json()["error"]["kind"], "exception");

    let empty = server.post("/v1/pipelines/pre-complete-user-info", INPUT, None);
    assert_eq!(
        empty.json()["outcome"],
        "allow",
        "a trigger without functions allows"
    );

    let list = server.get("/v1/functions", None).json();
    let names: Vec<_> = list["functions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "c",
            "a",
            "disabled",
            "b",
            "throws",
            "notify",
            "global_state",
            "slow"
        ]
    );
    let c = &list["functions"][0];
    assert_eq!(c["order"], 30);
    assert_eq!(c["triggers"], json!(["pre-register"]));
    assert_eq!(c["enabled"], true);
    assert_eq!(c["limits"]["timeout_ms"], 3000);
    assert_eq!(list["functions"][2]["enabled"], false);
    assert_eq!(list["functions"][5]["async"], true);
    assert_eq!(c["source_sha256"].as_str().unwrap().len(), 64);

    for (path, status) in [
        ("/v1/pipelines/pre-signin", 404),
        ("/v1/functions/nope/invoke", 404),
        ("/nope", 404),
    ] {
        let answer = server.post(path, INPUT, None);
        assert_eq!(answer.status, status, "{path}");
        assert!(answer.json()["error"]["message"].is_string());
    }
    assert_eq!(server.get("/v1/pipelines/pre-register", None).status, 405);
    let bad = server.post("/v1/pipelines/pre-register", "{not json", None);
    assert_eq!(bad.status, 400);
    assert!(
        bad.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("not valid JSON")
    );
    assert_eq!(
        server
            .post("/v1/pipelines/pre-register", r#"{"user": {}}"#, None)
            .status,
        400
    );
    let big = format!(
        r#"{{"user":{{"x":"{}"}},"context":{{}}}}"#,
        "x".repeat(4096)
    );
    assert_eq!(
        server.post("/v1/pipelines/pre-register", &big, None).status,
        413
    );

    let metrics = server.get("/metrics", None);
    assert_eq!(metrics.status, 200);
    assert!(metrics.content_type.unwrap().starts_with("text/plain"));
    for needle in [
        "authpipe_invocations_total{function=\"a\",outcome=\"allow\"} 1",
        "authpipe_invocations_total{function=\"throws\",outcome=\"error\"} 1",
        "authpipe_stage_duration_seconds_bucket{function=\"a\",le=\"+Inf\"} 1",
        "authpipe_fuel_consumed_total{function=\"a\"}",
        "authpipe_timeouts_total{function=\"a\"} 0",
        "authpipe_async_queue_depth",
        "authpipe_pipeline_requests_total{trigger=\"pre-register\",outcome=\"allow\"} 1",
    ] {
        assert!(
            metrics.body.contains(needle),
            "metrics lack {needle}:\n{}",
            metrics.body
        );
    }
}

#[test]
fn authing_trigger_names_are_aliases() {
    let server = Server::start(&project(""), &[]);
    let result = server
        .post("/v1/pipelines/PRE_REGISTER", INPUT, None)
        .json();
    assert_eq!(result["user"]["trail"], json!(["a", "b", "c"]));
}

#[test]
fn bearer_auth_when_the_token_variable_is_set() {
    let dir = project("api_token_env = \"TEST_AUTHPIPE_TOKEN\"");
    let server = Server::start(&dir, &[("TEST_AUTHPIPE_TOKEN", "s3cret-token")]);
    assert_eq!(
        server
            .post("/v1/pipelines/pre-register", INPUT, None)
            .status,
        401
    );
    assert_eq!(
        server
            .post("/v1/pipelines/pre-register", INPUT, Some("wrong"))
            .status,
        401
    );
    assert_eq!(
        server
            .get("/v1/functions", Some("s3cret-token-longer"))
            .status,
        401
    );
    assert_eq!(
        server
            .post("/v1/pipelines/pre-register", INPUT, Some("s3cret-token"))
            .status,
        200
    );
    assert_eq!(
        server.get("/v1/functions", Some("s3cret-token")).status,
        200
    );
    assert_eq!(server.post("/v1/admin/reload", "", None).status, 401);
    assert_eq!(
        server.get("/healthz", None).status,
        200,
        "health stays open"
    );

    // RFC 9110: the scheme is case-insensitive.
    for scheme in ["bearer", "BEARER", "Bearer"] {
        let answer = server.request(
            "GET",
            "/v1/functions",
            &[("authorization", &format!("{scheme} s3cret-token"))],
            None,
        );
        assert_eq!(answer.status, 200, "{scheme}");
    }
    assert_eq!(
        server.get("/metrics", None).status,
        200,
        "metrics stay open by default"
    );

    // Naming a variable that holds no token fails closed: no start.
    for env in [
        &[("TEST_AUTHPIPE_TOKEN", "")][..],
        &[("OTHER_VARIABLE", "x")][..],
    ] {
        let refused = Server::try_start(&dir, env)
            .map(|_| ())
            .expect_err("must not start without its token");
        assert!(
            refused.contains("TEST_AUTHPIPE_TOKEN") && refused.contains("not set or empty"),
            "{refused}"
        );
    }
}

#[test]
fn metrics_can_require_the_token_or_move_to_their_own_address() {
    let dir = project("api_token_env = \"TEST_AUTHPIPE_TOKEN\"\nmetrics_auth = true");
    let server = Server::start(&dir, &[("TEST_AUTHPIPE_TOKEN", "tok")]);
    assert_eq!(server.get("/metrics", None).status, 401);
    assert_eq!(server.get("/metrics", Some("tok")).status, 200);
    assert_eq!(server.get("/healthz", None).status, 200);

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = project(&format!("metrics_listen = \"127.0.0.1:{port}\""));
    let server = Server::start(&dir, &[]);
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut metrics = agent
        .get(format!("http://127.0.0.1:{port}/metrics"))
        .call()
        .unwrap();
    assert_eq!(metrics.status(), 200);
    assert!(
        metrics
            .body_mut()
            .read_to_string()
            .unwrap()
            .contains("authpipe_build_info")
    );
    let api = agent
        .post(format!("http://127.0.0.1:{port}/v1/pipelines/pre-register"))
        .send(INPUT)
        .unwrap();
    assert_eq!(api.status(), 404, "the metrics address serves no API");
    assert_eq!(server.get("/metrics", None).status, 200);
}

#[test]
fn async_functions_run_after_the_response() {
    let server = Server::start(&project(""), &[]);
    let answer = server.post("/v1/pipelines/post-register", INPUT, None);
    assert_eq!(answer.status, 200);
    assert!(
        answer.json()["stages"].as_array().unwrap().is_empty(),
        "async stages are not in the response"
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let metrics = server.get("/metrics", None).body;
        if metrics.contains("authpipe_invocations_total{function=\"notify\",outcome=\"allow\"} 1") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the async function never ran:\n{metrics}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        server.stderr().contains("notified u1"),
        "its logs are logged:\n{}",
        server.stderr()
    );
}

#[test]
fn a_global_set_by_one_request_is_invisible_to_the_next() {
    let server = Server::start(&project(""), &[]);
    for _ in 0..3 {
        let result = server
            .post("/v1/pipelines/pre-authentication", INPUT, None)
            .json();
        assert_eq!(result["user"]["leaked"], 1, "{result}");
    }
}

#[test]
fn a_hundred_concurrent_clients_are_all_answered_correctly() {
    let server = std::sync::Arc::new(Server::start(&project(""), &[]));
    let clients: Vec<_> = (0..100)
        .map(|i| {
            let server = server.clone();
            std::thread::spawn(move || {
                let input = format!(r#"{{"user":{{"id":"u{i}"}},"context":{{}}}}"#);
                let answer = server.post("/v1/pipelines/pre-register", &input, None);
                (i, answer)
            })
        })
        .collect();
    for client in clients {
        let (i, answer) = client.join().unwrap();
        assert_eq!(answer.status, 200, "client {i}: {}", answer.body);
        let result = answer.json();
        assert_eq!(result["user"]["id"], format!("u{i}"));
        assert_eq!(result["user"]["trail"], json!(["a", "b", "c"]));
    }
}

/// Starts a `slow` invocation (busy for `ms`) in a thread, retrying while
/// the server refuses it, and returns once the server reports it in flight.
fn start_slow(
    server: &std::sync::Arc<Server>,
    ms: u64,
) -> std::thread::JoinHandle<authpipe_tests::Answer> {
    let busy = {
        let server = server.clone();
        std::thread::spawn(move || {
            let input = format!(r#"{{"user":{{"id":"u1"}},"context":{{"ms":{ms}}}}}"#);
            loop {
                let answer = server.post("/v1/functions/slow/invoke", &input, None);
                if answer.status != 503 {
                    return answer;
                }
            }
        })
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    while !server
        .get("/metrics", None)
        .body
        .contains("authpipe_invocations_in_flight 1")
    {
        assert!(
            Instant::now() < deadline,
            "the slow invocation never started"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    busy
}

#[test]
fn overload_is_answered_503_with_retry_after() {
    let server = std::sync::Arc::new(Server::start(
        &project("max_concurrent_invocations = 1"),
        &[],
    ));
    let busy = start_slow(&server, 1000);
    let refused = server.post("/v1/functions/b/invoke", INPUT, None);
    assert_eq!(refused.status, 503, "{}", refused.body);
    assert_eq!(refused.retry_after.as_deref(), Some("1"));
    let busy = busy.join().unwrap();
    assert_eq!(busy.status, 200, "the admitted request completes");
    assert_eq!(busy.json()["outcome"], "allow", "{}", busy.body);
    assert_eq!(
        server.post("/v1/functions/b/invoke", INPUT, None).status,
        200,
        "capacity comes back"
    );
    assert!(
        server
            .get("/metrics", None)
            .body
            .contains("authpipe_overloaded_total 1")
    );
}

#[test]
fn reload_picks_up_changes_and_keeps_serving_on_a_broken_config() {
    let dir = project("");
    let server = Server::start(&dir, &[]);
    let trail = |s: &Server| {
        s.post("/v1/pipelines/pre-register", INPUT, None).json()["user"]["trail"].clone()
    };
    assert_eq!(trail(&server), json!(["a", "b", "c"]));

    // A changed function, through the admin endpoint.
    std::fs::write(dir.join("functions/b.js"), trail_function("B2")).unwrap();
    let reloaded = server.post("/v1/admin/reload", "", None);
    assert_eq!(reloaded.status, 200, "{}", reloaded.body);
    assert_eq!(
        reloaded.json()["compiled"],
        1,
        "only the changed function is recompiled"
    );
    assert_eq!(trail(&server), json!(["a", "B2", "c"]));

    // A syntax error: refused, the old functions keep serving.
    std::fs::write(
        dir.join("functions/b.js"),
        "function pipe(u, c, cb) { if ( }",
    )
    .unwrap();
    let broken = server.post("/v1/admin/reload", "", None);
    assert_eq!(broken.status, 400);
    assert!(broken.body.contains("b.js"), "{}", broken.body);
    assert_eq!(trail(&server), json!(["a", "B2", "c"]));

    // A broken config file: refused with file and line.
    let config = std::fs::read_to_string(dir.join("authpipe.toml")).unwrap();
    std::fs::write(dir.join("authpipe.toml"), format!("{config}\n[bogus]\n")).unwrap();
    let broken = server.post("/v1/admin/reload", "", None);
    assert_eq!(broken.status, 400);
    assert!(broken.body.contains("authpipe.toml:"), "{}", broken.body);
    assert_eq!(trail(&server), json!(["a", "B2", "c"]));

    // Fixed again, reloaded by SIGHUP.
    std::fs::write(dir.join("authpipe.toml"), config).unwrap();
    std::fs::write(dir.join("functions/b.js"), trail_function("B3")).unwrap();
    server.signal("HUP");
    let deadline = Instant::now() + Duration::from_secs(30);
    while trail(&server) != json!(["a", "B3", "c"]) {
        assert!(
            Instant::now() < deadline,
            "SIGHUP did not reload:\n{}",
            server.stderr()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn graceful_shutdown_finishes_in_flight_requests() {
    let server = std::sync::Arc::new(Server::start(&project(""), &[]));
    let in_flight = start_slow(&server, 1000);
    server.signal("TERM");
    let answer = in_flight.join().unwrap();
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(
        answer.json()["outcome"],
        "allow",
        "the slow function completed: {}",
        answer.body
    );
    let mut server = std::sync::Arc::into_inner(server).expect("only owner");
    assert!(server.wait().success());
    assert!(server.stderr().contains("authpipe: stopped"));
}

#[test]
fn a_bad_configuration_stops_startup_with_file_line_and_value() {
    let dir = write_project(
        "bad-config",
        "[[function]]\nname = \"x\"\nsource = \"functions/x.js\"\ntriggers = [\"pre-signin\"]\n",
        &[("x", &source("allow"))],
    );
    let stderr = Server::try_start(&dir, &[]).err().expect("must not start");
    assert!(stderr.contains("authpipe.toml:4:"), "{stderr}");
    assert!(stderr.contains("\"pre-signin\""), "{stderr}");

    let dir = write_project(
        "bad-source",
        "[[function]]\nname = \"x\"\nsource = \"functions/x.js\"\ntriggers = [\"pre-register\"]\n",
        &[("x", &source("syntax_error"))],
    );
    let stderr = Server::try_start(&dir, &[]).err().expect("must not start");
    assert!(stderr.contains("x.js:2:"), "{stderr}");
}
