//! What the web console needs of the API and the server, over real HTTP:
//! `/v1/whoami`, `/v1/templates`, `/v1/tenants/{t}/stats`, test runs of a
//! whole pipeline, and the console's static files (gzip, ETag, security
//! headers). The console itself is driven in a real browser in
//! `console.rs`.

use authpipe_tests::{Server, temp_dir, write_project};
use serde_json::{Value, json};

const ADMIN: &str = "admin-token-for-console-0123456789";

fn store() -> Server {
    let dir = temp_dir("console-api");
    std::fs::create_dir_all(&dir).unwrap();
    Server::start_store(&dir, &[("AUTHPIPE_ADMIN_TOKEN", ADMIN)])
}

fn call(
    server: &Server,
    method: &str,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let (status, value, _) = server.call_json(method, path, token, body);
    (status, value)
}

/// Tenant `acme` with a manage and an invoke key.
fn tenant(server: &Server) -> (String, String) {
    let (status, body) = call(
        server,
        "POST",
        "/v1/tenants",
        ADMIN,
        Some(json!({"id": "acme", "name": "Acme"})),
    );
    assert_eq!(status, 201, "{body}");
    let key = |role: &str| {
        let (status, body) = call(
            server,
            "POST",
            "/v1/tenants/acme/keys",
            ADMIN,
            Some(json!({"role": role, "name": format!("{role} key")})),
        );
        assert_eq!(status, 201, "{body}");
        body["token"].as_str().unwrap().to_string()
    };
    (key("manage"), key("invoke"))
}

#[test]
fn whoami_names_the_admin_or_the_keys_tenant_and_role() {
    let server = store();
    let ready = server.get("/readyz", None);
    assert_eq!(ready.status, 200, "store mode is ready: {}", ready.body);
    let (manage, invoke) = tenant(&server);
    assert_eq!(
        call(&server, "GET", "/v1/whoami", ADMIN, None),
        (200, json!({"principal": "admin"}))
    );
    let (status, me) = call(&server, "GET", "/v1/whoami", &manage, None);
    assert_eq!(status, 200);
    assert_eq!(
        (
            &me["principal"],
            &me["tenant"],
            &me["role"],
            &me["key_name"]
        ),
        (
            &json!("key"),
            &json!("acme"),
            &json!("manage"),
            &json!("manage key")
        )
    );
    assert!(me["key_id"].as_str().unwrap().starts_with("key_"), "{me}");
    assert_eq!(
        call(&server, "GET", "/v1/whoami", &invoke, None).1["role"],
        "invoke"
    );
    assert_eq!(
        call(&server, "GET", "/v1/whoami", "not-a-token", None).0,
        401
    );
    let anonymous = server.get("/v1/whoami", None);
    assert_eq!(anonymous.status, 401, "{}", anonymous.body);
    assert_eq!(
        call(&server, "POST", "/v1/whoami", ADMIN, Some(json!({}))).0,
        405
    );
    // A revoked key is a stranger at once.
    let keys = call(&server, "GET", "/v1/tenants/acme/keys", ADMIN, None).1;
    let id = keys["keys"]
        .as_array()
        .or(keys.as_array())
        .unwrap()
        .iter()
        .find(|k| k["role"] == "invoke")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        call(
            &server,
            "DELETE",
            &format!("/v1/tenants/acme/keys/{id}"),
            ADMIN,
            None
        )
        .0,
        204
    );
    assert_eq!(call(&server, "GET", "/v1/whoami", &invoke, None).0, 401);
}

#[test]
fn templates_are_served_with_source_env_and_fixtures() {
    let server = store();
    let (manage, invoke) = tenant(&server);
    let on_disk: Vec<String> = {
        let mut names: Vec<String> =
            std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../templates"))
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
        names.sort();
        names
    };
    let (status, list) = call(&server, "GET", "/v1/templates", &invoke, None);
    assert_eq!(status, 200, "any valid key may read the templates");
    let listed: Vec<&str> = list["templates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(listed, on_disk);
    for template in list["templates"].as_array().unwrap() {
        assert!(
            !template["title"].as_str().unwrap().is_empty(),
            "{template}"
        );
        assert!(
            !template["triggers"].as_array().unwrap().is_empty(),
            "{template}"
        );
        assert!(
            template["use_case"].is_string() && template["async"].is_boolean(),
            "{template}"
        );
    }
    let (status, one) = call(
        &server,
        "GET",
        "/v1/templates/email-domain-allowlist",
        &manage,
        None,
    );
    assert_eq!(status, 200);
    let source = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../templates/email-domain-allowlist/function.js"
    ))
    .unwrap();
    assert_eq!(one["source"], source.as_str());
    assert_eq!(one["language"], "javascript");
    assert_eq!(one["env"][0]["key"], "ALLOWED_DOMAINS");
    assert_eq!(one["env"][0]["secret"], false);
    let fixtures = one["fixtures"].as_array().unwrap();
    assert_eq!(fixtures.len(), 5);
    assert_eq!(fixtures[0]["name"], "allowed", "sorted by file name");
    assert!(
        fixtures[0]["input"]["user"].is_object() && fixtures[0]["input"]["context"].is_object()
    );
    assert_eq!(fixtures[0]["expect"]["outcome"], "allow");

    // The template, created as a function with its first fixture, behaves as the fixture says.
    let (status, created) = call(
        &server,
        "POST",
        "/v1/tenants/acme/functions",
        &manage,
        Some(json!({
            "name": "allowlist", "source": one["source"], "triggers": one["triggers"],
        })),
    );
    assert_eq!(status, 201, "{created}");
    for (key, value) in fixtures[0]["env"].as_object().unwrap() {
        assert_eq!(
            call(
                &server,
                "PUT",
                &format!("/v1/tenants/acme/env/{key}"),
                &manage,
                Some(json!({"value": value}))
            )
            .0,
            200
        );
    }
    let (status, result) = call(
        &server,
        "POST",
        "/v1/tenants/acme/functions/allowlist/test",
        &manage,
        Some(json!({"input": fixtures[0]["input"]})),
    );
    assert_eq!(
        (status, &result["outcome"]),
        (200, &json!("allow")),
        "{result}"
    );

    let (status, missing) = call(
        &server,
        "GET",
        "/v1/templates/no-such-template",
        &manage,
        None,
    );
    assert_eq!(status, 404);
    assert!(
        missing["error"]["message"]
            .as_str()
            .unwrap()
            .contains("no-such-template"),
        "{missing}"
    );
    assert_eq!(call(&server, "GET", "/v1/templates", "wrong", None).0, 401);
}

fn mark(tag: &str) -> String {
    format!(
        "function pipe(user, context, callback) {{ user.trail = (user.trail || []).concat(['{tag}']); callback(null, user, context) }}"
    )
}

#[test]
fn a_test_run_can_put_the_edited_function_into_its_triggers_pipeline() {
    let server = store();
    let (manage, _) = tenant(&server);
    let create = |name: &str, order: i64, extra: Value| {
        let mut body = json!({"name": name, "source": mark(name), "triggers": ["pre-register"], "order": order});
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        let (status, answer) = call(
            &server,
            "POST",
            "/v1/tenants/acme/functions",
            &manage,
            Some(body),
        );
        assert_eq!(status, 201, "{answer}");
    };
    create("first", 10, json!({}));
    create("middle", 20, json!({}));
    create("last", 30, json!({}));
    create("off", 25, json!({"enabled": false}));
    create("later", 26, json!({"async": true}));
    let input = json!({"user": {"email": "a@example.com"}, "context": {}});
    let test = |name: &str, extra: Value| {
        let mut body = json!({"input": input});
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        call(
            &server,
            "POST",
            &format!("/v1/tenants/acme/functions/{name}/test"),
            &manage,
            Some(body),
        )
    };
    // One function alone, as before.
    let (status, alone) = test("middle", json!({"source": mark("EDITED")}));
    assert_eq!(status, 200, "{alone}");
    assert_eq!(alone["user"]["trail"], json!(["EDITED"]));
    // The pipeline, with the unsaved text in the middle function's place;
    // disabled and async functions are left out as in production.
    let (status, whole) = test(
        "middle",
        json!({"source": mark("EDITED"), "trigger": "pre-register"}),
    );
    assert_eq!(status, 200, "{whole}");
    assert_eq!(whole["user"]["trail"], json!(["first", "EDITED", "last"]));
    let functions: Vec<&str> = whole["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["function"].as_str().unwrap())
        .collect();
    assert_eq!(functions, ["first", "middle", "last"]);
    // A disabled function under test runs at its place.
    let (_, with_off) = test("off", json!({"trigger": "pre-register"}));
    assert_eq!(
        with_off["user"]["trail"],
        json!(["first", "middle", "off", "last"]),
        "{with_off}"
    );
    // A new function (no record yet) runs last; the Authing alias works.
    let (_, new) = test(
        "brand-new",
        json!({"source": mark("new"), "trigger": "PRE_REGISTER"}),
    );
    assert_eq!(
        new["user"]["trail"],
        json!(["first", "middle", "last", "new"]),
        "{new}"
    );
    // A deny in the pipeline ends it with that function named.
    let deny = "function pipe(u, c, cb) { cb(new Error('no entry')) }";
    let (_, denied) = test("middle", json!({"source": deny, "trigger": "pre-register"}));
    assert_eq!(
        (&denied["outcome"], &denied["error"]["function"]),
        (&json!("deny"), &json!("middle")),
        "{denied}"
    );
    // Test runs are not recorded.
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let (_, history) = call(&server, "GET", "/v1/tenants/acme/executions", &manage, None);
    assert_eq!(history["executions"], json!([]), "{history}");
    let (status, bad) = test("middle", json!({"trigger": "nope"}));
    assert_eq!(
        (status, &bad["error"]["field"]),
        (400, &json!("trigger")),
        "{bad}"
    );
    // A syntax error in the edited text is a 422 at its line; nothing runs.
    let (status, broken) = test(
        "middle",
        json!({"source": "function pipe(u, c, cb) {\n  let x = ;\n}", "trigger": "pre-register"}),
    );
    assert_eq!(
        (status, &broken["error"]["line"]),
        (422, &json!(2)),
        "{broken}"
    );
}

#[test]
fn stats_count_invocations_errors_and_latency_per_function() {
    let server = store();
    let (manage, invoke) = tenant(&server);
    for (name, order, source) in [
        ("ok", 10, mark("ok")),
        (
            "flaky",
            20,
            "function pipe(u, c, cb) { if (u.fail) throw new Error('boom'); cb(null, u, c) }"
                .to_string(),
        ),
    ] {
        let (status, answer) = call(
            &server,
            "POST",
            "/v1/tenants/acme/functions",
            &manage,
            Some(json!({
                "name": name, "source": source, "triggers": ["pre-register"], "order": order,
            })),
        );
        assert_eq!(status, 201, "{answer}");
    }
    for fail in [false, false, false, true] {
        let (status, _) = call(
            &server,
            "POST",
            "/v1/tenants/acme/pipelines/pre-register",
            &invoke,
            Some(json!({"user": {"fail": fail}, "context": {}})),
        );
        assert_eq!(status, 200);
    }
    // Records are written in batches off the request path.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let stats = loop {
        let (status, stats) = call(
            &server,
            "GET",
            "/v1/tenants/acme/stats?window=86400&buckets=24",
            &manage,
            None,
        );
        assert_eq!(status, 200, "{stats}");
        if stats["functions"].as_array().unwrap().len() == 2
            && stats["functions"][0]["invocations"] == 4
        {
            break stats;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "stats never showed the calls: {stats}"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    };
    assert_eq!(stats["window_s"], 86400);
    assert_eq!(stats["bucket_s"], 3600.0);
    let flaky = &stats["functions"][0];
    assert_eq!(flaky["name"], "flaky");
    assert_eq!(
        (
            &flaky["invocations"],
            &flaky["errors"],
            &flaky["error_rate"]
        ),
        (&json!(4), &json!(1), &json!(0.25))
    );
    let ok = &stats["functions"][1];
    assert_eq!(
        (&ok["name"], &ok["invocations"], &ok["errors"]),
        (&json!("ok"), &json!(4), &json!(0))
    );
    let (p50, p99) = (
        ok["p50_us"].as_u64().unwrap(),
        ok["p99_us"].as_u64().unwrap(),
    );
    assert!(p50 > 0 && p50 <= p99, "{ok}");
    let buckets = ok["buckets"].as_array().unwrap();
    assert_eq!(buckets.len(), 24);
    assert_eq!(
        buckets[23]["invocations"], 4,
        "the newest bucket holds them"
    );
    assert_eq!(buckets[0]["p50_us"], Value::Null);
    // Parameters are checked; another tenant's key sees nothing.
    for bad in [
        "window=10",
        "window=x",
        "buckets=0",
        "buckets=500",
        "since=1",
    ] {
        let (status, answer) = call(
            &server,
            "GET",
            &format!("/v1/tenants/acme/stats?{bad}"),
            &manage,
            None,
        );
        assert_eq!(status, 400, "{bad}: {answer}");
    }
    assert_eq!(
        call(&server, "GET", "/v1/tenants/acme/stats", &invoke, None).0,
        403
    );
    let (status, _) = call(
        &server,
        "POST",
        "/v1/tenants",
        ADMIN,
        Some(json!({"id": "other", "name": "Other"})),
    );
    assert_eq!(status, 201);
    let (_, other) = call(&server, "GET", "/v1/tenants/other/stats", ADMIN, None);
    assert_eq!(other["functions"], json!([]));
}

#[test]
fn the_console_is_served_gzipped_cacheable_and_locked_down() {
    let server = store();
    let index = server.get("/console/", None);
    assert_eq!(index.status, 200, "open, like /healthz: {}", index.body);
    assert_eq!(
        index.content_type.as_deref(),
        Some("text/html; charset=utf-8")
    );
    assert!(
        index.body.contains("<script") && index.body.contains("app.js"),
        "{}",
        index.body
    );
    let csp = index.header("content-security-policy").unwrap();
    assert!(
        csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"),
        "{csp}"
    );
    assert_eq!(index.header("x-content-type-options"), Some("nosniff"));
    let etag = index.header("etag").unwrap().to_string();
    let again = server.request("GET", "/console/", &[("if-none-match", &etag)], None);
    assert_eq!(again.status, 304);
    assert_eq!(again.body, "");

    let script = server.get("/console/app.js", None);
    assert_eq!(script.status, 200);
    assert_eq!(
        script.content_type.as_deref(),
        Some("text/javascript; charset=utf-8")
    );
    let plain_length: usize = script.header("content-length").unwrap().parse().unwrap();
    assert_eq!(plain_length, script.body.len());
    let gzipped = server.request(
        "GET",
        "/console/app.js",
        &[("accept-encoding", "gzip, br")],
        None,
    );
    assert_eq!(gzipped.status, 200);
    assert_eq!(gzipped.header("content-encoding"), Some("gzip"));
    let gzip_length: usize = gzipped.header("content-length").unwrap().parse().unwrap();
    assert!(
        gzip_length * 2 < plain_length,
        "gzip {gzip_length} of {plain_length}"
    );
    assert_eq!(
        server
            .request(
                "GET",
                "/console/app.js",
                &[("accept-encoding", "gzip;q=0")],
                None
            )
            .header("content-encoding"),
        None
    );

    // `/console` redirects to `/console/` (raw HTTP: the client follows redirects).
    let raw = {
        use std::io::{Read, Write};
        let mut stream = std::net::TcpStream::connect(server.addr()).unwrap();
        stream
            .write_all(b"GET /console HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
            .unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        answer.to_ascii_lowercase()
    };
    assert!(raw.starts_with("http/1.1 308"), "{raw}");
    assert!(raw.contains("\r\nlocation: /console/\r\n"), "{raw}");
    for missing in [
        "/console/nope.js",
        "/console/../authpipe.db",
        "/console/app.js.gz",
        "/console/%2e%2e/authpipe.db",
    ] {
        assert_eq!(server.get(missing, None).status, 404, "{missing}");
    }
    assert_eq!(
        server.request("POST", "/console/", &[], Some("{}")).status,
        405
    );

    // File mode has no management API, so no console.
    let project = write_project(
        "console-file-mode",
        "[server]\nlisten = \"127.0.0.1:0\"\n",
        &[],
    );
    let file_mode = Server::start(&project, &[]);
    assert_eq!(file_mode.get("/console/", None).status, 404);
}
