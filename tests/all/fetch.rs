//! `fetch` against a real HTTP server on 127.0.0.1: the allow-list, address
//! checks after DNS, redirects, the timeout, the size cap, axios.

use authpipe::fetch::{FetchPolicy, HttpFetcher};
use authpipe::{ErrorKind, InvocationResult, Outcome};
use authpipe_tests::{Call, WebServer, limits, runtime, stage};
use serde_json::{Value, json};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

fn server() -> &'static WebServer {
    static SERVER: OnceLock<WebServer> = OnceLock::new();
    SERVER.get_or_init(WebServer::start)
}

/// Compiles `source` and runs it once with `BASE` (the test server's
/// 127.0.0.1 origin) in `env`, fetching within `allow`.
fn run_fetching(source: &str, allow: &[String], call: Call<'_>) -> InvocationResult {
    run_with_policy(
        source,
        FetchPolicy::new(allow).expect("valid patterns"),
        call,
    )
}

fn run_with_policy(source: &str, policy: FetchPolicy, call: Call<'_>) -> InvocationResult {
    let function = runtime().compile("fetcher", source).expect("compiles");
    let base = server().url("");
    let mut env: Vec<(&str, &str)> = vec![("BASE", &base)];
    env.extend_from_slice(call.env);
    let mut stage = stage(
        &function,
        &Call {
            env: &env,
            limits: call.limits,
            input: None,
        },
    );
    stage.fetch = Arc::new(HttpFetcher::new(policy));
    stage.run_blocking(authpipe_tests::INPUT.as_bytes())
}

fn origin_allowed() -> Vec<String> {
    vec![format!("http://127.0.0.1:{}/*", server().port)]
}

fn allowed_user(result: &InvocationResult) -> &Value {
    assert_eq!(result.outcome, Outcome::Allow, "{result:#?}");
    &result.user
}

fn error_of(result: &InvocationResult) -> (ErrorKind, &str) {
    let error = result.error.as_ref().expect("an error");
    (error.kind, error.message.as_str())
}

#[test]
fn fetch_reads_status_headers_and_body_of_an_allowed_url() {
    let result = run_fetching(
        r#"async function pipe(user, context, callback) {
            const res = await fetch(env.BASE + '/hello');
            user.status = res.status;
            user.ok = res.ok;
            user.statusText = res.statusText;
            user.header = res.headers.get('X-Test');
            user.body = await res.text();
            const echo = await fetch(env.BASE + '/echo', {
                method: 'post',
                headers: { 'Content-Type': 'application/json', 'X-Custom': 'abc' },
                body: JSON.stringify({ id: user.id }),
            });
            user.echo = await echo.json();
            const empty = await fetch(env.BASE + '/echo', { method: 'POST' });
            user.empty = (await empty.json()).headers;
            const asJson = await fetch(env.BASE + '/echo', { method: 'PUT', body: { a: [1] } });
            user.asJson = await asJson.json();
            callback(null, user, context);
        }"#,
        &origin_allowed(),
        Call::default(),
    );
    let user = allowed_user(&result);
    assert_eq!(user["status"], json!(200));
    assert_eq!(user["ok"], json!(true));
    assert_eq!(user["statusText"], json!("OK"));
    assert_eq!(user["header"], json!("yes"));
    assert_eq!(user["body"], json!("hello"));
    assert_eq!(user["echo"]["method"], json!("POST"));
    assert_eq!(user["echo"]["headers"]["x-custom"], json!("abc"));
    assert_eq!(
        user["echo"]["headers"]["content-type"],
        json!("application/json")
    );
    assert_eq!(user["echo"]["body"], json!(r#"{"id":"u1"}"#));
    // A POST without a body says so with a length, not a chunked body.
    assert_eq!(
        user["empty"]["content-length"],
        json!("0"),
        "{}",
        user["empty"]
    );
    assert!(user["empty"].get("transfer-encoding").is_none());
    // A plain object is sent as JSON.
    assert_eq!(user["asJson"]["body"], json!(r#"{"a":[1]}"#));
    assert_eq!(
        user["asJson"]["headers"]["content-type"],
        json!("application/json")
    );
}

#[test]
fn network_failures_reject_and_name_only_the_origin() {
    // Port 1 on loopback: nothing listens, so the connection is refused.
    let result = run_fetching(
        r#"async function pipe(user, context, callback) {
            try { await fetch('http://127.0.0.1:1/services/T0/SECRET?token=abc'); } catch (err) {
                user.error = { type: err.constructor.name, message: err.message };
            }
            callback(null, user, context);
        }"#,
        &["http://127.0.0.1:1/*".to_string()],
        Call::default(),
    );
    let user = allowed_user(&result);
    assert_eq!(user["error"]["type"], json!("TypeError"), "{user}");
    let message = user["error"]["message"].as_str().unwrap();
    assert!(message.contains("http://127.0.0.1:1"), "{message}");
    assert!(
        !message.contains("SECRET") && !message.contains("token"),
        "{message}"
    );
}

#[test]
fn a_url_outside_the_allow_list_is_fetch_denied_even_when_caught() {
    let hello_only = vec![server().url("/hello")];
    // The query is left out of the message: webhook tokens live there.
    let target = server().url("/json");
    let result = run_fetching(
        r#"async function pipe(user, context, callback) {
            try { await fetch(env.BASE + '/json?denied-test'); } catch (err) { user.caught = String(err); }
            callback(null, user, context);
        }"#,
        &hello_only,
        Call::default(),
    );
    assert_eq!(result.outcome, Outcome::Error, "{result:#?}");
    let (kind, message) = error_of(&result);
    assert_eq!(kind, ErrorKind::FetchDenied);
    assert!(message.contains(&target), "names the URL: {message}");
    assert!(
        !message.contains("denied-test") && !message.contains('?'),
        "no query in the message: {message}"
    );
    assert!(message.contains("no [fetch] allow entry"), "{message}");
    assert!(
        !server()
            .requests()
            .iter()
            .any(|r| r.contains("denied-test")),
        "a denied request must not be sent"
    );
}

#[test]
fn redirects_are_followed_within_the_allow_list_and_rechecked() {
    let result = run_fetching(
        r#"async function pipe(user, context, callback) {
            const res = await fetch(env.BASE + '/redirect-to-hello');
            user.status = res.status;
            user.redirected = res.redirected;
            user.url = res.url;
            user.body = await res.text();
            callback(null, user, context);
        }"#,
        &origin_allowed(),
        Call::default(),
    );
    let user = allowed_user(&result);
    assert_eq!(user["status"], json!(200));
    assert_eq!(user["redirected"], json!(true));
    assert_eq!(user["url"], json!(server().url("/hello")));
    assert_eq!(user["body"], json!("hello"));

    let result = run_fetching(
        r#"async function pipe(user, context, callback) {
            await fetch(env.BASE + '/redirect-to-metadata');
            callback(null, user, context);
        }"#,
        &origin_allowed(),
        Call::default(),
    );
    let (kind, message) = error_of(&result);
    assert_eq!(kind, ErrorKind::FetchDenied, "{message}");
    assert!(
        message.contains("http://169.254.169.254/latest/meta-data/"),
        "names the redirect target: {message}"
    );
    assert!(message.contains("redirected from"), "{message}");
}

#[test]
fn a_slow_server_is_cut_off_by_the_function_timeout() {
    let started = Instant::now();
    let result = run_fetching(
        r#"async function pipe(user, context, callback) {
            try { await fetch(env.BASE + '/slow'); } catch (err) { user.caught = String(err); }
            callback(null, user, context);
        }"#,
        &origin_allowed(),
        Call {
            limits: limits(Some(500), None, None),
            ..Call::default()
        },
    );
    let elapsed = started.elapsed();
    let (kind, message) = error_of(&result);
    assert_eq!(kind, ErrorKind::Timeout, "{message}");
    assert!(message.contains("500 ms"), "{message}");
    // The server answers after 3 s; the call ends at its 500 ms deadline.
    assert!(elapsed < Duration::from_millis(2_500), "took {elapsed:?}");
}

#[test]
fn a_body_over_the_size_cap_rejects_the_fetch() {
    let source = r#"async function pipe(user, context, callback) {
        try {
            const res = await fetch(env.BASE + '/huge');
            user.length = (await res.text()).length;
        } catch (err) {
            user.error = err.message;
        }
        callback(null, user, context);
    }"#;
    let result = run_fetching(source, &origin_allowed(), Call::default());
    let user = allowed_user(&result);
    assert!(
        user["error"]
            .as_str()
            .unwrap_or("")
            .contains("exceeds 1048576 bytes"),
        "{user}"
    );
    let roomy = FetchPolicy::new(origin_allowed())
        .unwrap()
        .with_max_response_bytes(4 << 20);
    let result = run_with_policy(
        source,
        roomy,
        Call {
            limits: limits(None, None, Some(64)),
            ..Call::default()
        },
    );
    assert_eq!(allowed_user(&result)["length"], json!(2 << 20));
}

#[test]
fn a_name_resolving_to_loopback_is_refused_unless_the_address_is_named() {
    let port = server().port;
    let by_name = vec![format!("http://localhost:{port}/*")];
    let result = run_fetching(
        &format!(
            "async function pipe(user, context, callback) {{
                await fetch('http://localhost:{port}/hello?via-localhost');
                callback(null, user, context);
            }}"
        ),
        &by_name,
        Call::default(),
    );
    let (kind, message) = error_of(&result);
    assert_eq!(kind, ErrorKind::FetchDenied, "{message}");
    assert!(
        message.contains(&format!("http://localhost:{port}/hello")),
        "{message}"
    );
    assert!(message.contains("loopback"), "{message}");
    assert!(
        !server()
            .requests()
            .iter()
            .any(|r| r.contains("via-localhost"))
    );
}

#[test]
fn private_loopback_and_metadata_addresses_need_an_entry_naming_them() {
    let anything = vec!["http://*:*/*".to_string(), "https://*:*/*".to_string()];
    let port = server().port;
    for (url, class) in [
        (
            format!("http://127.0.0.1:{port}/hello?wildcard"),
            "loopback",
        ),
        (format!("http://[::1]:{port}/hello?wildcard"), "loopback"),
        (
            "http://169.254.169.254/latest/meta-data/".to_string(),
            "cloud metadata",
        ),
        ("http://10.1.2.3/".to_string(), "private"),
        ("http://[fd00::1]/".to_string(), "private"),
    ] {
        let result = run_fetching(
            &format!(
                "async function pipe(user, context, callback) {{ await fetch({url:?}); callback(null, user, context); }}"
            ),
            &anything,
            Call::default(),
        );
        let (kind, message) = error_of(&result);
        assert_eq!(kind, ErrorKind::FetchDenied, "{url}: {message}");
        assert!(message.contains(class), "{url}: {message}");
    }
    assert!(!server().requests().iter().any(|r| r.contains("wildcard")));
    for url in ["file:///etc/passwd", "ftp://127.0.0.1/x"] {
        let result = run_fetching(
            &format!(
                "async function pipe(user, context, callback) {{ await fetch({url:?}); callback(null, user, context); }}"
            ),
            &anything,
            Call::default(),
        );
        let (kind, message) = error_of(&result);
        assert_eq!(kind, ErrorKind::FetchDenied, "{url}: {message}");
        assert!(message.contains("only http and https"), "{message}");
    }
}

#[test]
fn axios_resolves_2xx_and_rejects_other_statuses() {
    let result = run_fetching(
        r#"async function pipe(user, context, callback) {
            const posted = await axios.post(env.BASE + '/echo', { id: user.id }, { params: { q: 'a b' } });
            user.posted = { status: posted.status, data: posted.data };
            const got = await axios.get(env.BASE + '/json');
            user.json = got.data;
            try {
                await axios.get(env.BASE + '/status/404');
                user.rejected = false;
            } catch (err) {
                user.rejected = { message: err.message, status: err.response.status, data: err.response.data, isAxiosError: axios.isAxiosError(err) };
            }
            axios.defaults.headers.common['X-Common'] = 'c';
            const echoed = await axios.get(env.BASE + '/echo', {
                params: { a: [1, 2], n: null, u: undefined, d: new Date(0) },
            });
            user.params = { path: echoed.data.path, common: echoed.data.headers['x-common'] };
            const local = require('axios');
            user.same = local === axios;
            callback(null, user, context);
        }"#,
        &origin_allowed(),
        Call::default(),
    );
    let user = allowed_user(&result);
    assert_eq!(user["posted"]["status"], json!(200));
    assert_eq!(user["posted"]["data"]["path"], json!("/echo?q=a%20b"));
    assert_eq!(user["posted"]["data"]["body"], json!(r#"{"id":"u1"}"#));
    assert_eq!(
        user["posted"]["data"]["headers"]["content-type"],
        json!("application/json")
    );
    assert_eq!(user["json"], json!({"ok": true, "n": 42}));
    assert_eq!(
        user["rejected"],
        json!({"message": "Request failed with status code 404", "status": 404, "data": "not here", "isAxiosError": true})
    );
    assert_eq!(user["same"], json!(true));
    assert_eq!(
        user["params"],
        json!({"path": "/echo?a%5B%5D=1&a%5B%5D=2&d=1970-01-01T00%3A00%3A00.000Z", "common": "c"})
    );
}

#[test]
fn a_function_without_allow_entries_cannot_fetch() {
    let function = runtime()
        .compile(
            "no-fetch",
            "async function pipe(u, c, cb) { await fetch('https://example.com/'); cb(null, u, c) }",
        )
        .unwrap();
    let result = authpipe_tests::run(&function, Call::default());
    let (kind, message) = error_of(&result);
    assert_eq!(kind, ErrorKind::FetchDenied);
    assert!(message.contains("https://example.com/"), "{message}");
}

#[test]
fn under_a_stock_wasi_host_fetch_rejects_and_the_rest_runs() {
    let snapshot = runtime()
        .snapshot(
            "stock-fetch",
            r#"async function pipe(user, context, callback) {
                try { await fetch('https://example.com/'); } catch (err) { user.fetch = err.message; }
                callback(null, user, context);
            }"#,
        )
        .unwrap();
    let out = authpipe_tests::run_under_stock_wasi(&snapshot, &[], authpipe_tests::INPUT).unwrap();
    let result: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(result["outcome"], json!("allow"), "{result}");
    assert!(
        result["user"]["fetch"]
            .as_str()
            .unwrap()
            .contains("not available"),
        "{result}"
    );
}

#[test]
fn serve_fetches_within_the_configured_allow_list() {
    let port = server().port;
    let config = format!(
        r#"[env]
BASE = "http://127.0.0.1:{port}"

[fetch]
allow = ["http://127.0.0.1:{port}/json"]

[[function]]
name = "reads-json"
source = "functions/reads-json.js"
triggers = ["pre-register"]

[[function]]
name = "reads-hello"
source = "functions/reads-hello.js"
"#
    );
    let dir = authpipe_tests::write_project(
        "fetch-serve",
        &config,
        &[
            (
                "reads-json",
                "async function pipe(u, c, cb) { u.n = (await (await fetch(env.BASE + '/json')).json()).n; cb(null, u, c) }",
            ),
            (
                "reads-hello",
                "async function pipe(u, c, cb) { await fetch(env.BASE + '/hello?serve'); cb(null, u, c) }",
            ),
        ],
    );
    let served = authpipe_tests::Server::start(&dir, &[]);
    let body = authpipe_tests::INPUT;
    let answer = served.post("/v1/pipelines/pre-register", body, None);
    assert_eq!(answer.status, 200, "{}", answer.body);
    let result = answer.json();
    assert_eq!(result["outcome"], json!("allow"), "{result}");
    assert_eq!(result["user"]["n"], json!(42));
    let answer = served.post("/v1/functions/reads-hello/invoke", body, None);
    let result = answer.json();
    assert_eq!(result["error"]["kind"], json!("fetch_denied"), "{result}");
    assert!(!server().requests().iter().any(|r| r.contains("?serve")));
}

#[test]
fn credentials_are_dropped_when_a_redirect_changes_origin() {
    let other = WebServer::start();
    let allow = vec![server().url("/*"), other.url("/*")];
    let source = format!(
        r#"async function pipe(user, context, callback) {{
            const headers = {{ authorization: 'Bearer secret', 'proxy-authorization': 'Basic secret', cookie: 'session=secret', 'x-kept': 'yes' }};
            const same = await fetch(env.BASE + '/redirect?to=/echo', {{ headers }});
            const cross = await fetch(env.BASE + '/redirect?to={}', {{ headers }});
            user.same = (await same.json()).headers;
            user.cross = (await cross.json()).headers;
            callback(null, user, context);
        }}"#,
        other.url("/echo")
    );
    let result = run_fetching(&source, &allow, Call::default());
    assert_eq!(result.outcome, Outcome::Allow, "{result:#?}");
    let (same, cross) = (&result.user["same"], &result.user["cross"]);
    assert_eq!(
        same["authorization"], "Bearer secret",
        "same origin keeps them"
    );
    assert_eq!(same["proxy-authorization"], "Basic secret");
    for header in ["authorization", "proxy-authorization", "cookie"] {
        assert!(
            cross.get(header).is_none(),
            "{header} crossed origins: {cross}"
        );
    }
    assert_eq!(cross["x-kept"], "yes");
}
