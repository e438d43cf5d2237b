//! Store mode end to end: a real `authpipe serve --store` over TCP on a real
//! SQLite file, driven through the management API.
//!
//! `main.rs` compiles this file twice: as `platform` (SQLite) and as
//! `platform_postgres`, where every test runs the same way against a real
//! PostgreSQL (a throwaway cluster for the test binary, a database per
//! test).

use authpipe_tests::{Answer, Server, temp_dir};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const ADMIN: &str = "admin-token-for-tests-0123456789";
/// The secrets' key on Postgres (there is no key file beside a database).
const MASTER_KEY: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

/// True in `platform_postgres`: this file compiled against PostgreSQL.
fn on_postgres() -> bool {
    module_path!().ends_with("platform_postgres")
}

/// The `--store` of the platform kept in `dir`: its SQLite file, or on
/// Postgres a database made for it on first use (its URL kept in `dir`).
fn store_spec(dir: &Path) -> std::ffi::OsString {
    if !on_postgres() {
        return dir.join("authpipe.db").into_os_string();
    }
    let file = dir.join("store-url");
    if let Ok(url) = std::fs::read_to_string(&file) {
        return url.into();
    }
    let label = dir.file_name().unwrap().to_string_lossy().into_owned();
    let url = authpipe_tests::postgres_database(&label);
    std::fs::write(&file, &url).unwrap();
    url.into()
}

/// `env` plus the master key on Postgres.
fn store_env<'a>(env: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut env = env.to_vec();
    if on_postgres() {
        env.push(("AUTHPIPE_MASTER_KEY", MASTER_KEY));
    }
    env
}

/// `authpipe serve --store …` on the platform kept in `dir`, with `extra`
/// arguments.
fn try_start_store(
    dir: &Path,
    extra: &[&std::ffi::OsStr],
    env: &[(&str, &str)],
) -> Result<Server, String> {
    let spec = store_spec(dir);
    let mut args: Vec<&std::ffi::OsStr> = vec!["--store".as_ref(), spec.as_os_str()];
    args.extend_from_slice(extra);
    Server::try_start_with(dir, &args, &store_env(env))
}

fn start_store(dir: &Path, env: &[(&str, &str)]) -> Server {
    try_start_store(dir, &[], env).unwrap_or_else(|e| panic!("the server did not start:\n{e}"))
}

struct Platform {
    server: Server,
    dir: PathBuf,
}

fn start(label: &str) -> Platform {
    let dir = temp_dir(label);
    std::fs::create_dir_all(&dir).unwrap();
    let server = start_store(&dir, &[("AUTHPIPE_ADMIN_TOKEN", ADMIN)]);
    Platform { server, dir }
}

impl Platform {
    fn call(&self, method: &str, path: &str, token: Option<&str>, body: Option<Value>) -> Answer {
        self.call_with(method, path, token, body, &[])
    }

    fn call_with(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
        extra: &[(&str, &str)],
    ) -> Answer {
        let auth = token.map(|t| format!("Bearer {t}"));
        let mut headers: Vec<(&str, &str)> = vec![("content-type", "application/json")];
        if let Some(auth) = &auth {
            headers.push(("authorization", auth));
        }
        headers.extend_from_slice(extra);
        let body = body.map(|b| b.to_string());
        self.server.request(
            method,
            &format!("/v1/tenants{path}"),
            &headers,
            body.as_deref(),
        )
    }

    fn admin(&self, method: &str, path: &str, body: Option<Value>) -> Answer {
        self.call(method, path, Some(ADMIN), body)
    }

    /// Creates tenant `id` and a manage and an invoke key for it.
    fn tenant(&self, id: &str, quotas: Value) -> (String, String) {
        let created = self.admin(
            "POST",
            "",
            Some(json!({"id": id, "name": id, "quotas": quotas})),
        );
        assert_eq!(created.status, 201, "{}", created.body);
        let key = |role: &str| {
            let answer = self.admin(
                "POST",
                &format!("/{id}/keys"),
                Some(json!({"role": role, "name": role})),
            );
            assert_eq!(answer.status, 201, "{}", answer.body);
            answer.json()["token"].as_str().unwrap().to_string()
        };
        (key("manage"), key("invoke"))
    }

    fn create(&self, tenant: &str, key: &str, body: Value) -> Answer {
        self.call(
            "POST",
            &format!("/{tenant}/functions"),
            Some(key),
            Some(body),
        )
    }

    fn invoke(&self, tenant: &str, key: &str, trigger: &str) -> Answer {
        self.call(
            "POST",
            &format!("/{tenant}/pipelines/{trigger}"),
            Some(key),
            Some(json!({"user": {"email": "a@example.com"}, "context": {}})),
        )
    }
}

fn mark(tag: &str) -> String {
    format!(
        "function pipe(user, context, callback) {{ user.trail = (user.trail || []).concat(['{tag}']); callback(null, user, context) }}"
    )
}

fn trail(answer: &Answer) -> Value {
    assert_eq!(answer.status, 200, "{}", answer.body);
    answer.json()["user"]["trail"].clone()
}

#[test]
fn store_mode_refuses_to_start_without_an_admin_token() {
    let dir = temp_dir("platform-no-admin");
    std::fs::create_dir_all(&dir).unwrap();
    let error = match try_start_store(&dir, &[], &[("AUTHPIPE_ADMIN_TOKEN", "")]) {
        Ok(_) => panic!("store mode started without an admin token"),
        Err(stderr) => stderr,
    };
    assert!(error.contains("AUTHPIPE_ADMIN_TOKEN"), "{error}");
}

#[test]
fn tenants_keys_and_roles() {
    let p = start("platform-keys");
    assert_eq!(p.admin("GET", "", None).json()["tenants"], json!([]));
    let (manage, invoke) = p.tenant("acme", json!({}));
    let (globex, _) = p.tenant("globex", json!({"max_functions": 3}));

    // Tenant ids, duplicates, unknown fields.
    assert_eq!(
        p.admin("POST", "", Some(json!({"id": "Bad_Id"}))).status,
        400
    );
    assert_eq!(p.admin("POST", "", Some(json!({"id": "acme"}))).status, 409);
    let unknown = p.admin("POST", "", Some(json!({"id": "x", "nmae": "typo"})));
    assert_eq!(unknown.status, 400);
    assert_eq!(unknown.json()["error"]["field"], "nmae");

    // 401 without or with a wrong token.
    for token in [None, Some("ap_manage_wrong"), Some("")] {
        let answer = p.call("GET", "/acme/functions", token, None);
        assert_eq!(answer.status, 401, "{token:?}: {}", answer.body);
    }
    // A tenant key: its own tenant only; admin routes 403.
    assert_eq!(
        p.call("GET", "/acme/functions", Some(&manage), None).status,
        200
    );
    assert_eq!(p.call("GET", "", Some(&manage), None).status, 403);
    assert_eq!(p.call("GET", "/acme", Some(&manage), None).status, 403);
    assert_eq!(p.call("DELETE", "/acme", Some(&manage), None).status, 403);
    // Another tenant's key: 404 for everything, the same as no tenant.
    for path in [
        "/acme",
        "/acme/functions",
        "/acme/keys",
        "/acme/env",
        "/acme/executions",
        "/acme/audit",
    ] {
        let answer = p.call("GET", path, Some(&globex), None);
        assert_eq!(answer.status, 404, "{path}: {}", answer.body);
    }
    let foreign = p.call("GET", "/acme/functions", Some(&globex), None).json();
    let missing = p.admin("GET", "/nobody/functions", None).json();
    assert_eq!(
        foreign["error"]["message"]
            .as_str()
            .unwrap()
            .replace("acme", "X"),
        missing["error"]["message"]
            .as_str()
            .unwrap()
            .replace("nobody", "X"),
        "no existence leak"
    );
    // The invoke role only invokes.
    assert_eq!(
        p.call("GET", "/acme/functions", Some(&invoke), None).status,
        403
    );
    assert_eq!(p.call("GET", "/acme/keys", Some(&invoke), None).status, 403);
    assert_eq!(p.invoke("acme", &invoke, "pre-register").status, 200);

    // Keys list without tokens; revoking takes effect at once.
    let keys = p.call("GET", "/acme/keys", Some(&manage), None);
    assert!(!keys.body.contains(&manage) && !keys.body.contains(&invoke));
    let list = keys.json()["keys"].as_array().unwrap().clone();
    assert_eq!(list.len(), 2);
    for key in &list {
        for field in ["id", "name", "role", "prefix", "created_at", "last_used_at"] {
            assert!(key.get(field).is_some(), "{field} in {key}");
        }
    }
    let invoke_id = list.iter().find(|k| k["role"] == "invoke").unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        p.call(
            "DELETE",
            &format!("/acme/keys/{invoke_id}"),
            Some(&manage),
            None
        )
        .status,
        204
    );
    assert_eq!(p.invoke("acme", &invoke, "pre-register").status, 401);
    assert_eq!(
        p.call("DELETE", "/acme/keys/key_nothere", Some(&manage), None)
            .status,
        404
    );
    assert_eq!(
        p.call(
            "POST",
            "/acme/keys",
            Some(&manage),
            Some(json!({"role": "root", "name": "x"}))
        )
        .json()["error"]["field"],
        "role"
    );

    // PATCH and DELETE a tenant.
    let patched = p.admin(
        "PATCH",
        "/globex",
        Some(json!({"name": "Globex Inc", "quotas": {"max_rps": 5}})),
    );
    assert_eq!(patched.status, 200, "{}", patched.body);
    assert_eq!(patched.json()["quotas"]["max_rps"], 5);
    assert_eq!(patched.json()["quotas"]["max_functions"], 3);
    assert_eq!(p.admin("DELETE", "/globex", None).status, 204);
    assert_eq!(p.admin("GET", "/globex", None).status, 404);
    assert_eq!(
        p.call("GET", "/globex/functions", Some(&globex), None)
            .status,
        401
    );
    assert_eq!(
        p.server
            .request("PUT", "/v1/tenants/acme", &[], None)
            .status,
        405
    );
}

#[test]
fn functions_versions_deploy_rollback_and_order() {
    let p = start("platform-functions");
    let (key, invoke) = p.tenant("acme", json!({"max_timeout_ms": 5000}));
    let create = |body: Value| p.create("acme", &key, body);

    let first = create(
        json!({"name": "a", "source": mark("a1"), "triggers": ["PRE_REGISTER"], "order": 20, "description": "first"}),
    );
    assert_eq!(first.status, 201, "{}", first.body);
    let a = first.json();
    assert_eq!(
        (a["version"].clone(), a["deployed_version"].clone()),
        (json!(1), json!(1))
    );
    assert_eq!(a["triggers"], json!(["pre-register"]));
    assert_eq!(first.header("etag"), a["etag"].as_str());
    assert_eq!(
        create(
            json!({"name": "b", "source": mark("b1"), "triggers": ["pre-register"], "order": 10})
        )
        .status,
        201
    );
    assert_eq!(
        trail(&p.invoke("acme", &invoke, "pre-register")),
        json!(["b1", "a1"])
    );

    // Errors: nothing is stored.
    let broken = create(
        json!({"name": "c", "source": "function pipe(u, c, cb) {\n  let x = ;\n}", "triggers": ["pre-register"]}),
    );
    assert_eq!(broken.status, 422, "{}", broken.body);
    assert_eq!(broken.json()["error"]["line"], 2);
    assert!(broken.json()["error"]["column"].as_u64().is_some());
    assert_eq!(
        p.call("GET", "/acme/functions/c", Some(&key), None).status,
        404
    );
    assert_eq!(
        create(json!({"name": "a", "source": mark("x"), "triggers": ["pre-register"]})).status,
        409
    );
    let ceiling = create(
        json!({"name": "d", "source": mark("d"), "triggers": ["pre-register"], "timeout_ms": 6000}),
    );
    assert_eq!(ceiling.status, 422);
    assert_eq!(ceiling.json()["error"]["field"], "timeout_ms");
    assert_eq!(
        create(json!({"name": "d", "source": mark("d"), "triggers": ["pre-register"], "fuel": 1}))
            .status,
        400
    );
    assert_eq!(
        create(json!({"name": "bad name", "source": mark("d"), "triggers": ["pre-register"]}))
            .status,
        400
    );
    assert_eq!(
        create(json!({"name": "d", "source": mark("d"), "triggers": ["on-sneeze"]})).status,
        400
    );
    let typo = create(
        json!({"name": "d", "source": mark("d"), "triggers": ["pre-register"], "timeout": 5}),
    );
    assert_eq!(
        (typo.status, typo.json()["error"]["field"].clone()),
        (400, json!("timeout"))
    );
    assert_eq!(
        p.call("GET", "/acme/functions", Some(&key), None).json()["functions"]
            .as_array()
            .unwrap()
            .len(),
        2
    );

    // PATCH: a version when something changed, none otherwise; drafts.
    let path = "/acme/functions/a";
    let same = p.call(
        "PATCH",
        path,
        Some(&key),
        Some(json!({"source": mark("a1")})),
    );
    assert_eq!(
        (same.status, same.json()["version"].clone()),
        (200, json!(1))
    );
    let v2 = p.call(
        "PATCH",
        path,
        Some(&key),
        Some(json!({"source": mark("a2")})),
    );
    assert_eq!(v2.json()["version"], 2);
    assert_eq!(v2.json()["deployed_version"], 2);
    assert_eq!(
        trail(&p.invoke("acme", &invoke, "pre-register")),
        json!(["b1", "a2"])
    );
    let draft = p.call(
        "PATCH",
        path,
        Some(&key),
        Some(json!({"source": mark("a3"), "deploy": false})),
    );
    assert_eq!(
        (
            draft.json()["version"].clone(),
            draft.json()["deployed_version"].clone()
        ),
        (json!(3), json!(2))
    );
    assert_eq!(
        trail(&p.invoke("acme", &invoke, "pre-register")),
        json!(["b1", "a2"])
    );
    let settings = p.call(
        "PATCH",
        path,
        Some(&key),
        Some(json!({"timeout_ms": 4000, "deploy": false})),
    );
    assert_eq!(settings.json()["version"], 4);
    assert_eq!(settings.json()["timeout_ms"], 4000);

    // If-Match.
    let etag = settings.json()["etag"].as_str().unwrap().to_string();
    let stale = p.call_with(
        "PATCH",
        path,
        Some(&key),
        Some(json!({"description": "x"})),
        &[("if-match", "\"1-1-20-0\"")],
    );
    assert_eq!(stale.status, 412, "{}", stale.body);
    let fresh = p.call_with(
        "PATCH",
        path,
        Some(&key),
        Some(json!({"description": "x", "deploy": false})),
        &[("if-match", &etag)],
    );
    assert_eq!(fresh.status, 200, "{}", fresh.body);

    // Versions, one version, deploy (promote, roll back).
    let versions = p
        .call("GET", "/acme/functions/a/versions", Some(&key), None)
        .json();
    let numbers: Vec<i64> = versions
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["version"].as_i64().unwrap())
        .collect();
    assert_eq!(numbers, [1, 2, 3, 4, 5]);
    assert_eq!(versions[1]["deployed"], true);
    assert!(
        versions[0]["created_by"]
            .as_str()
            .unwrap()
            .starts_with("key:")
    );
    let three = p
        .call("GET", "/acme/functions/a/versions/3", Some(&key), None)
        .json();
    assert_eq!(three["source"], mark("a3"));
    assert_eq!(
        p.call("GET", "/acme/functions/a/versions/9", Some(&key), None)
            .status,
        404
    );
    let promote = p.call(
        "POST",
        "/acme/functions/a/deploy",
        Some(&key),
        Some(json!({"version": 3})),
    );
    assert_eq!(promote.json()["deployed_version"], 3);
    assert_eq!(
        trail(&p.invoke("acme", &invoke, "pre-register")),
        json!(["b1", "a3"])
    );
    let rollback = p.call(
        "POST",
        "/acme/functions/a/deploy",
        Some(&key),
        Some(json!({"version": 1})),
    );
    assert_eq!(rollback.status, 200);
    let answer = p.invoke("acme", &invoke, "pre-register");
    assert_eq!(trail(&answer), json!(["b1", "a1"]));
    let stages = answer.json()["stages"].clone();
    assert_eq!(
        (stages[0]["version"].clone(), stages[1]["version"].clone()),
        (json!(1), json!(1))
    );
    assert!(answer.header("x-authpipe-execution-id").is_some());
    assert_eq!(
        p.call(
            "POST",
            "/acme/functions/a/deploy",
            Some(&key),
            Some(json!({"version": 42}))
        )
        .status,
        404
    );

    // Trigger order.
    let order = p
        .call("GET", "/acme/triggers/pre-register", Some(&key), None)
        .json();
    let names: Vec<&str> = order["functions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["b", "a"]);
    let wrong = p.call(
        "PUT",
        "/acme/triggers/pre-register",
        Some(&key),
        Some(json!({"order": ["a"]})),
    );
    assert_eq!(wrong.status, 409);
    assert!(wrong.body.contains("\"b\""), "{}", wrong.body);
    let reordered = p.call(
        "PUT",
        "/acme/triggers/pre-register",
        Some(&key),
        Some(json!({"order": ["a", "b"]})),
    );
    assert_eq!(reordered.status, 200, "{}", reordered.body);
    assert_eq!(
        trail(&p.invoke("acme", &invoke, "pre-register")),
        json!(["a1", "b1"])
    );
    assert_eq!(
        p.call("GET", "/acme/triggers/nope", Some(&key), None)
            .status,
        404
    );

    // Disable, invoke one function, delete.
    p.call(
        "PATCH",
        "/acme/functions/b",
        Some(&key),
        Some(json!({"enabled": false})),
    );
    assert_eq!(
        trail(&p.invoke("acme", &invoke, "pre-register")),
        json!(["a1"])
    );
    let one = p.call(
        "POST",
        "/acme/functions/b/invoke",
        Some(&invoke),
        Some(json!({"user": {}, "context": {}})),
    );
    assert_eq!(trail(&one), json!(["b1"]));
    assert_eq!(
        p.call("DELETE", "/acme/functions/b", Some(&key), None)
            .status,
        204
    );
    assert_eq!(
        p.call("GET", "/acme/functions/b", Some(&key), None).status,
        404
    );
    assert_eq!(
        p.call(
            "POST",
            "/acme/functions/b/invoke",
            Some(&invoke),
            Some(json!({"user": {}, "context": {}}))
        )
        .status,
        404
    );

    // The audit log names who did what.
    let audit = p.call("GET", "/acme/audit", Some(&key), None).json();
    let actions: Vec<&str> = audit
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for expected in [
        "function.create",
        "function.update",
        "function.draft",
        "function.deploy",
        "trigger.order",
        "function.delete",
    ] {
        assert!(actions.contains(&expected), "{expected} in {actions:?}");
    }
    let deploy = audit
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "function.deploy")
        .unwrap();
    assert_eq!(deploy["version"], 1);
}

/// Everything the store holds, as bytes: the SQLite files, or a dump of the
/// Postgres database.
fn db_bytes(dir: &Path) -> Vec<u8> {
    if on_postgres() {
        let output = std::process::Command::new("pg_dump")
            .arg("--data-only")
            .arg(store_spec(dir))
            .output()
            .expect("pg_dump runs (Debian's postgresql-client)");
        assert!(output.status.success(), "pg_dump failed");
        assert!(output.stdout.len() > 1000, "the dump holds the data");
        // Byte columns are dumped as `\x` and hex: add them decoded.
        let text = String::from_utf8_lossy(&output.stdout).into_owned();
        let mut bytes = output.stdout.clone();
        for chunk in text.split("\\x").skip(1) {
            let hex: String = chunk.chars().take_while(char::is_ascii_hexdigit).collect();
            bytes.extend(
                (0..hex.len() / 2).map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap()),
            );
            bytes.push(b'\n');
        }
        return bytes;
    }
    let mut bytes = Vec::new();
    for name in ["authpipe.db", "authpipe.db-wal"] {
        if let Ok(more) = std::fs::read(dir.join(name)) {
            bytes.extend(more);
        }
    }
    bytes
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[test]
fn secrets_env_fetch_test_runs_and_history() {
    let p = start("platform-secrets");
    let (key, invoke) = p.tenant("acme", json!({}));
    let secret = "sk_live_Very-Secret-Value-42";
    let set = p.call(
        "PUT",
        "/acme/env/API_KEY",
        Some(&key),
        Some(json!({"value": secret, "secret": true})),
    );
    assert_eq!(set.status, 200, "{}", set.body);
    assert_eq!(
        p.call(
            "PUT",
            "/acme/env/PLAIN",
            Some(&key),
            Some(json!({"value": "visible"}))
        )
        .status,
        200
    );
    assert_eq!(
        p.call(
            "PUT",
            "/acme/env/1BAD",
            Some(&key),
            Some(json!({"value": "x"}))
        )
        .status,
        400
    );
    let source = "function pipe(user, context, callback) {\n  console.log('key is ' + env.API_KEY);\n  user.has_key = env.API_KEY.length > 0;\n  user.plain = env.PLAIN;\n  if (user.fail) throw new Error('bad ' + env.API_KEY);\n  callback(null, user, context);\n}";
    assert_eq!(
        p.create(
            "acme",
            &key,
            json!({"name": "uses-secret", "source": source, "triggers": ["post-register"]})
        )
        .status,
        201
    );
    let allowed = p.invoke("acme", &invoke, "post-register");
    assert_eq!(allowed.json()["user"]["has_key"], true, "{}", allowed.body);
    assert_eq!(allowed.json()["user"]["plain"], "visible");
    let failed = p.call(
        "POST",
        "/acme/pipelines/post-register",
        Some(&invoke),
        Some(json!({"user": {"fail": true}, "context": {}})),
    );
    assert_eq!(failed.json()["outcome"], "error");
    let env = p.call("GET", "/acme/env", Some(&key), None);
    assert_eq!(env.json()["env"].as_array().unwrap().len(), 2);

    // Test runs: unsaved source, not recorded.
    let test = p.call("POST", "/acme/functions/uses-secret/test", Some(&key), Some(json!({
        "input": {"user": {}, "context": {}},
        "source": "function pipe(u, c, cb) { u.tested = env.PLAIN; console.log(env.API_KEY); cb(null, u, c) }"
    })));
    assert_eq!(test.status, 200, "{}", test.body);
    assert_eq!(test.json()["user"]["tested"], "visible");
    let broken = p.call(
        "POST",
        "/acme/functions/uses-secret/test",
        Some(&key),
        Some(json!({"input": {"user": {}, "context": {}}, "source": "function pipe( {"})),
    );
    assert_eq!(broken.status, 422);
    let by_version = p.call(
        "POST",
        "/acme/functions/uses-secret/test",
        Some(&key),
        Some(json!({"input": {"user": {}, "context": {}}, "version": 1})),
    );
    assert_eq!(by_version.json()["stages"][0]["version"], 1);

    // Fetch allow-list.
    assert_eq!(
        p.call(
            "PUT",
            "/acme/fetch",
            Some(&key),
            Some(json!({"allow": ["not a url"]}))
        )
        .status,
        400
    );
    assert_eq!(
        p.call(
            "PUT",
            "/acme/fetch",
            Some(&key),
            Some(json!({"allow": ["https://hooks.slack.com/*"]}))
        )
        .status,
        200
    );
    assert_eq!(
        p.call("GET", "/acme/fetch", Some(&key), None).json()["allow"],
        json!(["https://hooks.slack.com/*"])
    );

    // Execution history (written in batches: wait for it).
    let deadline = Instant::now() + Duration::from_secs(10);
    let history = loop {
        let page = p.call("GET", "/acme/executions", Some(&key), None).json();
        if page["executions"].as_array().unwrap().len() >= 2 || Instant::now() > deadline {
            break page;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let records = history["executions"].as_array().unwrap();
    assert_eq!(records.len(), 2, "test runs are not recorded: {history}");
    assert_eq!(records[0]["outcome"], "error");
    assert_eq!(
        records[0]["id"].as_str(),
        failed.header("x-authpipe-execution-id")
    );
    assert_eq!(records[1]["stages"][0]["version"], 1);
    for field in [
        "id",
        "at",
        "trigger",
        "outcome",
        "duration_us",
        "error",
        "stages",
    ] {
        assert!(records[0].get(field).is_some(), "{field}");
    }
    let denied_only = p
        .call(
            "GET",
            "/acme/executions?outcome=allow&function=uses-secret&limit=1",
            Some(&key),
            None,
        )
        .json();
    assert_eq!(denied_only["executions"].as_array().unwrap().len(), 1);
    assert_eq!(
        p.call("GET", "/acme/executions?colour=red", Some(&key), None)
            .status,
        400
    );
    let one = p.call(
        "GET",
        &format!("/acme/executions/{}", records[1]["id"].as_str().unwrap()),
        Some(&key),
        None,
    );
    assert_eq!(one.json()["outcome"], "allow");

    // The secret is in no response, log line or database byte.
    let mut bodies = vec![
        set.body,
        allowed.body,
        failed.body,
        env.body,
        test.body,
        history.to_string(),
        one.body,
    ];
    bodies.push(p.call("GET", "/acme/audit", Some(&key), None).body);
    bodies.push(p.call("GET", "/acme/functions", Some(&key), None).body);
    for body in &bodies {
        assert!(!body.contains(secret), "secret in a response: {body}");
    }
    assert!(
        !p.server.stderr().contains(secret),
        "secret in the server log"
    );
    assert!(
        p.server.stderr().contains("[secret]") || bodies.iter().any(|b| b.contains("[secret]"))
    );
    let bytes = db_bytes(&p.dir);
    assert!(!bytes.is_empty());
    assert!(
        !contains(&bytes, secret),
        "secret's plaintext in the database file"
    );
    assert!(contains(&bytes, "visible"), "the check reads the real file");
    assert_eq!(
        p.call("DELETE", "/acme/env/API_KEY", Some(&key), None)
            .status,
        204
    );
    assert_eq!(
        p.call("DELETE", "/acme/env/API_KEY", Some(&key), None)
            .status,
        404
    );
}

#[test]
fn everything_is_back_after_kill_9_without_compiling() {
    let mut p = start("platform-restart");
    let (key, invoke) = p.tenant("acme", json!({"max_functions": 7}));
    p.create(
        "acme",
        &key,
        json!({"name": "a", "source": mark("a1"), "triggers": ["pre-register"]}),
    );
    p.call(
        "PATCH",
        "/acme/functions/a",
        Some(&key),
        Some(json!({"source": mark("a2")})),
    );
    p.call(
        "POST",
        "/acme/functions/a/deploy",
        Some(&key),
        Some(json!({"version": 1})),
    );
    p.create(
        "acme",
        &key,
        json!({"name": "b", "source": mark("b1"), "triggers": ["pre-register"], "order": 1}),
    );
    p.call(
        "PUT",
        "/acme/env/K",
        Some(&key),
        Some(json!({"value": "s3cr3t-value", "secret": true})),
    );
    let before = trail(&p.invoke("acme", &invoke, "pre-register"));
    assert_eq!(before, json!(["b1", "a1"]));

    p.server.signal("KILL");
    p.server.wait();
    let server = start_store(&p.dir, &[("AUTHPIPE_ADMIN_TOKEN", ADMIN)]);
    assert!(
        server.stderr().contains(" 0 compiled"),
        "{}",
        server.stderr()
    );
    p.server = server;
    assert_eq!(trail(&p.invoke("acme", &invoke, "pre-register")), before);
    let a = p.call("GET", "/acme/functions/a", Some(&key), None).json();
    assert_eq!(
        (a["version"].clone(), a["deployed_version"].clone()),
        (json!(2), json!(1))
    );
    assert_eq!(
        p.admin("GET", "/acme", None).json()["quotas"]["max_functions"],
        7
    );
    assert_eq!(
        p.call("GET", "/acme/env", Some(&key), None).json()["env"][0]["secret"],
        true
    );
}

#[test]
fn concurrent_edits_with_if_match_let_exactly_one_win() {
    let p = start("platform-if-match");
    let (key, _) = p.tenant("acme", json!({}));
    let created = p.create(
        "acme",
        &key,
        json!({"name": "a", "source": mark("0"), "triggers": ["pre-register"]}),
    );
    let etag = created.json()["etag"].as_str().unwrap().to_string();
    let statuses: Vec<u16> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..6)
            .map(|i| {
                let (p, key, etag) = (&p, &key, &etag);
                scope.spawn(move || {
                    p.call_with(
                        "PATCH",
                        "/acme/functions/a",
                        Some(key),
                        Some(json!({"source": mark(&format!("edit{i}"))})),
                        &[("if-match", etag)],
                    )
                    .status
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 412).count(),
        5,
        "{statuses:?}"
    );
    let versions = p
        .call("GET", "/acme/functions/a/versions", Some(&key), None)
        .json();
    assert_eq!(versions.as_array().unwrap().len(), 2);
}

#[test]
fn deploys_switch_under_load_without_a_failed_request() {
    let p = start("platform-switch");
    let (key, invoke) = p.tenant("acme", json!({"max_concurrent": 64}));
    p.create(
        "acme",
        &key,
        json!({"name": "a", "source": mark("v1"), "triggers": ["pre-register"]}),
    );
    p.call(
        "PATCH",
        "/acme/functions/a",
        Some(&key),
        Some(json!({"source": mark("v2"), "deploy": false})),
    );
    let stop = std::sync::atomic::AtomicBool::new(false);
    let (seen, failures) = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..4)
            .map(|_| {
                let (p, invoke, stop) = (&p, &invoke, &stop);
                scope.spawn(move || {
                    let (mut seen, mut failures) = (std::collections::BTreeSet::new(), Vec::new());
                    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                        let answer = p.invoke("acme", invoke, "pre-register");
                        if answer.status != 200 || answer.json()["outcome"] != "allow" {
                            failures.push(answer.body);
                        } else {
                            seen.insert(
                                answer.json()["user"]["trail"][0]
                                    .as_str()
                                    .unwrap()
                                    .to_string(),
                            );
                        }
                    }
                    (seen, failures)
                })
            })
            .collect();
        let mut deploys = Vec::new();
        for round in 0..10 {
            let version = if round % 2 == 0 { 2 } else { 1 };
            let answer = p.call(
                "POST",
                "/acme/functions/a/deploy",
                Some(&key),
                Some(json!({"version": version})),
            );
            deploys.push((answer.status, answer.body));
            std::thread::sleep(Duration::from_millis(50));
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        assert!(
            deploys.iter().all(|(status, _)| *status == 200),
            "{deploys:?}"
        );
        workers.into_iter().fold(
            (std::collections::BTreeSet::new(), Vec::new()),
            |(mut s, mut f), w| {
                let (seen, failures) = w.join().unwrap();
                s.extend(seen);
                f.extend(failures);
                (s, f)
            },
        )
    });
    assert!(
        failures.is_empty(),
        "{} failed: {:?}",
        failures.len(),
        failures.first()
    );
    assert_eq!(seen.into_iter().collect::<Vec<_>>(), ["v1", "v2"]);
}

#[test]
fn quotas_refuse_one_tenant_and_leave_the_other_alone() {
    let p = start("platform-quotas");
    let (spin_key, spin_invoke) = p.tenant("spinner", json!({"max_concurrent": 4}));
    let (calm_key, calm_invoke) = p.tenant("calm", json!({}));
    let (rate_key, rate_invoke) = p.tenant("rated", json!({"max_rps": 5}));
    let spin = "function pipe(u, c, cb) { while (true) {} }";
    assert_eq!(p.create("spinner", &spin_key, json!({"name": "spin", "source": spin, "triggers": ["pre-register"], "timeout_ms": 400, "fuel": 1000000000u64})).status, 201);
    for (tenant, key) in [("calm", &calm_key), ("rated", &rate_key)] {
        assert_eq!(
            p.create(
                tenant,
                key,
                json!({"name": "ok", "source": mark("ok"), "triggers": ["pre-register"]})
            )
            .status,
            201
        );
    }

    // max_rps: a burst beyond the rate is refused with 429 + Retry-After.
    let burst: Vec<Answer> = (0..12)
        .map(|_| p.invoke("rated", &rate_invoke, "pre-register"))
        .collect();
    let refused: Vec<&Answer> = burst.iter().filter(|a| a.status == 429).collect();
    assert!(
        !refused.is_empty() && refused.len() <= 7,
        "{:?}",
        burst.iter().map(|a| a.status).collect::<Vec<_>>()
    );
    assert!(refused.iter().all(|a| a.retry_after.is_some()));

    let calm_latency = |n: usize| {
        let mut times: Vec<Duration> = (0..n)
            .map(|_| {
                let started = Instant::now();
                let answer = p.invoke("calm", &calm_invoke, "pre-register");
                assert_eq!(answer.status, 200, "{}", answer.body);
                started.elapsed()
            })
            .collect();
        times.sort();
        times[n / 2]
    };
    calm_latency(50);
    let quiet = calm_latency(200);

    // The spinner at its limits: max_concurrent (4) clients spinning, and
    // one more refused with 429.
    let stop = std::sync::atomic::AtomicBool::new(false);
    let (busy, statuses, extra) = std::thread::scope(|scope| {
        let spinners: Vec<_> = (0..4)
            .map(|_| {
                let (p, key, stop) = (&p, &spin_invoke, &stop);
                scope.spawn(move || {
                    let mut statuses = Vec::new();
                    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                        statuses.push(p.invoke("spinner", key, "pre-register").status);
                    }
                    statuses
                })
            })
            .collect();
        std::thread::sleep(Duration::from_millis(300));
        let extra = p.invoke("spinner", &spin_invoke, "pre-register");
        let busy = calm_latency(200);
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let statuses: Vec<u16> = spinners
            .into_iter()
            .flat_map(|s| s.join().unwrap())
            .collect();
        (busy, statuses, extra)
    });
    eprintln!(
        "calm tenant p50: {quiet:?} alone, {busy:?} beside a tenant spinning at max_concurrent"
    );
    assert_eq!(extra.status, 429, "beyond max_concurrent: {}", extra.body);
    assert!(extra.retry_after.is_some());
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    assert!(
        busy < quiet * 3 + Duration::from_millis(2),
        "a spinning tenant slowed another: p50 {quiet:?} alone, {busy:?} beside it"
    );
}

fn authpipe(args: &[&str], token: &str) -> (bool, String) {
    let output = std::process::Command::new(authpipe_tests::authpipe_bin())
        .args(args)
        .env("AUTHPIPE_TOKEN", token)
        .env("DEPLOY_TEST_SECRET", "s3cret-from-the-ci")
        .output()
        .expect("authpipe runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

#[test]
fn deploy_plans_applies_and_is_idempotent() {
    let p = start("platform-deploy");
    let (key, invoke) = p.tenant("acme", json!({}));
    let project = authpipe_tests::write_project(
        "platform-deploy-project",
        r#"
[env]
GREETING = "hello"
TOKEN = { from_env = "DEPLOY_TEST_SECRET" }

[fetch]
allow = ["https://hooks.example.com/*"]

[[function]]
name = "first"
source = "functions/first.js"
triggers = ["pre-register"]
order = 10

[[function]]
name = "second"
source = "functions/second.js"
triggers = ["pre-register"]
order = 20
timeout_ms = 1500
"#,
        &[("first", &mark("first")), ("second", &mark("second"))],
    );
    let config = project.join("authpipe.toml");
    let config = config.to_str().unwrap();
    // An extra function the project does not have.
    p.create(
        "acme",
        &key,
        json!({"name": "extra", "source": mark("extra"), "triggers": ["post-register"]}),
    );
    let url = p.server.base.clone();
    let deploy = |extra: &[&str]| {
        let mut args = vec![
            "deploy", "--url", &url, "--tenant", "acme", "--config", config,
        ];
        args.extend_from_slice(extra);
        let output = std::process::Command::new(authpipe_tests::authpipe_bin())
            .args(&args)
            .env("AUTHPIPE_TOKEN", &key)
            .env("DEPLOY_TEST_SECRET", "s3cret-from-the-ci")
            .output()
            .expect("authpipe deploy runs");
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).to_string()
    };

    let plan = deploy(&["--dry-run"]);
    for line in [
        "+ function first",
        "+ function second",
        "+ env GREETING",
        "+ secret TOKEN",
        "~ fetch allow",
    ] {
        assert!(plan.contains(line), "{line:?} in\n{plan}");
    }
    assert!(plan.contains("kept: extra"), "{plan}");
    assert_eq!(
        p.call("GET", "/acme/functions", Some(&key), None).json()["functions"]
            .as_array()
            .unwrap()
            .len(),
        1,
        "a dry run changes nothing"
    );

    let applied = deploy(&[]);
    assert!(applied.contains("Applied"), "{applied}");
    assert_eq!(
        trail(&p.invoke("acme", &invoke, "pre-register")),
        json!(["first", "second"])
    );
    let env = p.call("GET", "/acme/env", Some(&key), None);
    assert!(!env.body.contains("s3cret-from-the-ci"));
    assert_eq!(
        p.call("GET", "/acme/fetch", Some(&key), None).json()["allow"],
        json!(["https://hooks.example.com/*"])
    );

    let again = deploy(&[]);
    assert!(again.contains("No changes"), "{again}");

    // A change in one function makes one new version of it only.
    std::fs::write(project.join("functions/second.js"), mark("second-v2")).unwrap();
    let plan = deploy(&["--dry-run"]);
    assert!(
        plan.contains("~ function second: source") && !plan.contains("function first"),
        "{plan}"
    );
    deploy(&[]);
    let second = p
        .call("GET", "/acme/functions/second", Some(&key), None)
        .json();
    assert_eq!(
        (second["version"].clone(), second["timeout_ms"].clone()),
        (json!(2), json!(1500))
    );
    assert_eq!(
        p.call("GET", "/acme/functions/first", Some(&key), None)
            .json()["version"],
        1
    );

    let pruned = deploy(&["--prune"]);
    assert!(pruned.contains("- function extra"), "{pruned}");
    assert_eq!(
        p.call("GET", "/acme/functions/extra", Some(&key), None)
            .status,
        404
    );

    // logs prints the records.
    let (ok, logs) = authpipe(
        &["logs", "--url", &url, "--tenant", "acme", "-n", "5"],
        &key,
    );
    assert!(ok, "{logs}");
    std::thread::sleep(Duration::from_millis(1500));
    let (_, logs) = authpipe(
        &["logs", "--url", &url, "--tenant", "acme", "-n", "5"],
        &key,
    );
    assert!(
        logs.contains("pre-register allow") && logs.contains("first@v1:allow"),
        "{logs}"
    );
    let (ok, refused) = authpipe(
        &[
            "deploy", "--url", &url, "--tenant", "acme", "--config", config,
        ],
        "ap_manage_wrong",
    );
    assert!(!ok && refused.contains("401"), "{refused}");
}

#[test]
fn openapi_describes_every_route_the_server_answers() {
    let p = start("platform-openapi");
    p.tenant("acme", json!({}));
    let answer = p.server.get("/v1/openapi.json", None);
    assert_eq!(answer.status, 200);
    let doc = answer.json();
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        doc["openapi"]
    );
    let paths = doc["paths"].as_object().unwrap();
    let mut operations = 0;
    for (path, item) in paths {
        for (method, operation) in item.as_object().unwrap() {
            operations += 1;
            assert!(
                operation["responses"].get("401").is_some(),
                "{method} {path} documents 401"
            );
            let concrete = path
                .replace("{tenant}", "acme")
                .replace("{name}", "nope")
                .replace("{version}", "1")
                .replace("{trigger}", "pre-register")
                .replace("{key}", "SOME_KEY")
                .replace("{id}", "nope");
            let answer = p.server.request(
                &method.to_uppercase(),
                &concrete,
                // Each probe on a connection of its own: a pooled connection
                // the server closed after an error answer must not fail the
                // next probe (seen once under the full suite's load).
                &[
                    ("authorization", &format!("Bearer {ADMIN}")),
                    ("connection", "close"),
                ],
                Some("{}"),
            );
            assert_ne!(answer.status, 405, "{method} {path}: {}", answer.body);
            assert!(
                !answer.body.contains("no such endpoint"),
                "{method} {path}: {}",
                answer.body
            );
        }
    }
    assert_eq!(operations, 33, "every route of the API is described");
    for schema in [
        "FunctionBody",
        "NewTenant",
        "Quotas",
        "ErrorBody",
        "TestBody",
    ] {
        assert!(
            doc["components"]["schemas"].get(schema).is_some(),
            "{schema}"
        );
    }
}

#[test]
fn platform_defaults_come_from_the_config_and_shutdown_keeps_every_record() {
    let dir = temp_dir("platform-config");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("server.toml"),
        "[platform]\nhistory_max_records = 500\n\n[platform.default_quotas]\nmax_functions = 2\nmax_timeout_ms = 5000\n",
    )
    .unwrap();
    let config = dir.join("server.toml");
    let args = ["--config".as_ref(), config.as_os_str()];
    let env = [("AUTHPIPE_ADMIN_TOKEN", ADMIN)];
    let server = try_start_store(&dir, &args, &env).expect("starts");
    let mut p = Platform {
        server,
        dir: dir.clone(),
    };
    let (key, invoke) = p.tenant("acme", json!({}));
    assert_eq!(
        p.admin("GET", "/acme", None).json()["quotas"]["max_functions"],
        2
    );
    for name in ["a", "b"] {
        assert_eq!(
            p.create(
                "acme",
                &key,
                json!({"name": name, "source": mark(name), "triggers": ["pre-register"]})
            )
            .status,
            201
        );
    }
    let over = p.create(
        "acme",
        &key,
        json!({"name": "c", "source": mark("c"), "triggers": ["pre-register"]}),
    );
    assert_eq!(over.status, 422, "{}", over.body);
    let ceiling = p.call(
        "PATCH",
        "/acme/functions/a",
        Some(&key),
        Some(json!({"timeout_ms": 6000})),
    );
    assert_eq!(ceiling.status, 422, "{}", ceiling.body);

    // Every acknowledged invocation is in the history after a graceful stop.
    let ids: Vec<String> = (0..50)
        .map(|_| {
            let answer = p.invoke("acme", &invoke, "pre-register");
            assert_eq!(answer.status, 200);
            answer
                .header("x-authpipe-execution-id")
                .unwrap()
                .to_string()
        })
        .collect();
    p.server.signal("TERM");
    assert!(p.server.wait().success());
    p.server = try_start_store(&dir, &args, &env).expect("restarts");
    let page = p
        .call("GET", "/acme/executions?limit=100", Some(&key), None)
        .json();
    let stored: std::collections::BTreeSet<&str> = page["executions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    for id in &ids {
        assert!(stored.contains(id.as_str()), "record {id} lost at shutdown");
    }

    // A bad [platform] table stops start-up with its line.
    std::fs::write(
        dir.join("bad.toml"),
        "[platform]\nhistory_max_records = 0\n",
    )
    .unwrap();
    let bad = dir.join("bad.toml");
    let error = try_start_store(&dir, &["--config".as_ref(), bad.as_os_str()], &env)
        .err()
        .expect("refused");
    assert!(
        error.contains("bad.toml:2") && error.contains("history_max_records"),
        "{error}"
    );
}

#[test]
fn typescript_functions_through_the_management_api() {
    let p = start("platform-typescript");
    let (manage, invoke) = p.tenant("ts", json!({}));
    let source = "type U = { email: string; tier?: string };\nfunction pipe(user: U, context: unknown, callback: (e: Error | null, u?: U, c?: unknown) => void): void {\n  user.tier = (user.email as string).endsWith('@example.com') ? 'gold' : 'basic';\n  callback(null, user, context);\n}\n";
    let created = p.create(
        "ts",
        &manage,
        json!({"name": "typed", "source": source, "language": "typescript", "triggers": ["pre-register"]}),
    );
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(created.json()["language"], json!("typescript"));
    let answer = p.invoke("ts", &invoke, "pre-register");
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.json()["user"]["tier"], json!("gold"));

    // TypeScript sent as JavaScript is a compile error at the type.
    let wrong = p.create(
        "ts",
        &manage,
        json!({"name": "untyped", "source": source, "triggers": ["pre-register"]}),
    );
    assert_eq!(wrong.status, 422, "{}", wrong.body);
    assert_eq!(wrong.json()["error"]["line"], json!(1));
    // An unknown language names the field.
    let bad = p.create(
        "ts",
        &manage,
        json!({"name": "x", "source": source, "language": "coffee", "triggers": ["pre-register"]}),
    );
    assert_eq!(bad.status, 400, "{}", bad.body);
    assert_eq!(bad.json()["error"]["field"], json!("language"));
    // A test run of unsaved TypeScript reports positions in the .ts source.
    let test = p.call(
        "POST",
        "/ts/functions/typed/test",
        Some(&manage),
        Some(json!({
            "input": {"user": {}, "context": {}},
            "source": "function pipe(user: any): void {\n  const n: number = user.profile.name;\n}\n",
            "language": "typescript",
        })),
    );
    assert_eq!(test.status, 200, "{}", test.body);
    let error = &test.json()["error"];
    assert_eq!(
        error["location"],
        json!({"line": 2, "column": 34}),
        "{error}"
    );
    assert!(
        error["stack"].as_str().unwrap().contains("typed.ts:2:34"),
        "{error}"
    );
}

#[test]
fn auth0_rules_and_actions_through_the_management_api() {
    let p = start("platform-auth0");
    let (manage, invoke) = p.tenant("a0", json!({}));
    let rule = "function (user, context, callback) {\n  context.idToken['https://acme.com/plan'] = user.app_metadata.plan || 'free';\n  callback(null, user, context);\n}\n";
    let created = p.create(
        "a0",
        &manage,
        json!({"name": "rule", "source": rule, "triggers": ["post-authentication"], "order": 1}),
    );
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(created.json()["flavor"], json!("auth0-rule"));
    assert_eq!(created.json()["flavor_detected"], json!(true));
    let action = "exports.onExecutePostLogin = async (event, api) => {\n  if (event.user.email.endsWith('@blocked.test')) api.access.deny('blocked');\n  api.accessToken.setCustomClaim('https://acme.com/client', event.client.client_id);\n};\n";
    let created = p.create(
        "a0",
        &manage,
        json!({"name": "action", "source": action, "triggers": ["post-authentication"], "order": 2, "flavor": "auth0-action"}),
    );
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(created.json()["flavor_detected"], json!(false));

    let login = |email: &str| {
        p.call(
            "POST",
            "/a0/pipelines/post-authentication",
            Some(&invoke),
            Some(json!({"user": {"user_id": "auth0|1", "email": email, "app_metadata": {"plan": "pro"}}, "context": {"clientID": "c1"}})),
        )
    };
    let answer = login("jane@example.com");
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(
        answer.json()["claims"],
        json!({"id_token": {"https://acme.com/plan": "pro"}, "access_token": {"https://acme.com/client": "c1"}})
    );
    let denied = login("eve@blocked.test").json();
    assert_eq!(denied["outcome"], json!("deny"));
    assert_eq!(denied["error"]["message"], json!("blocked"));

    // A wrong flavour is a compile error with its position, an unknown one a 400.
    let wrong = p.call(
        "PATCH",
        "/a0/functions/rule",
        Some(&manage),
        Some(json!({"flavor": "auth0-action"})),
    );
    assert_eq!(wrong.status, 422, "{}", wrong.body);
    assert_eq!(wrong.json()["error"]["kind"], json!("compile_error"));
    assert_eq!(wrong.json()["error"]["line"], json!(1), "{}", wrong.body);
    let kept = p.call("GET", "/a0/functions/rule", Some(&manage), None);
    assert_eq!(
        kept.json()["flavor"],
        json!("auth0-rule"),
        "nothing changed"
    );
    let unknown = p.call(
        "PATCH",
        "/a0/functions/rule",
        Some(&manage),
        Some(json!({"flavor": "auth0"})),
    );
    assert_eq!(unknown.status, 400, "{}", unknown.body);
    assert_eq!(unknown.json()["error"]["field"], json!("flavor"));
    // A test run of unsaved source takes a flavour too.
    let test = p.call(
        "POST",
        "/a0/functions/rule/test",
        Some(&manage),
        Some(json!({
            "input": {"user": {"user_id": "auth0|1"}, "context": {}},
            "source": "function named(user, context, callback) { callback(new UnauthorizedError('nope')); }",
            "flavor": "auto",
        })),
    );
    assert_eq!(test.status, 200, "{}", test.body);
    assert_eq!(test.json()["error"]["message"], json!("nope"));
}
