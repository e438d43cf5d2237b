//! Several `authpipe serve` nodes on one PostgreSQL store (a real, throwaway
//! cluster): changes made through one node are served by the others within
//! a second, a node started later loads every function without compiling,
//! and concurrent deploys through two nodes leave one consistent winner.

use authpipe_tests::{Server, postgres_database, temp_dir};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const ADMIN: &str = "admin-token-for-the-cluster-0123456789";
const MASTER_KEY: &str = "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100";

/// A node `name` on the database `url`.
fn node(url: &str, name: &str) -> Server {
    let dir = temp_dir(&format!("cluster-{name}"));
    std::fs::create_dir_all(&dir).unwrap();
    Server::try_start_with(
        &dir,
        &["--store".as_ref(), url.as_ref()],
        &[
            ("AUTHPIPE_ADMIN_TOKEN", ADMIN),
            ("AUTHPIPE_MASTER_KEY", MASTER_KEY),
            ("AUTHPIPE_NODE_ID", name),
        ],
    )
    .unwrap_or_else(|e| panic!("node {name} did not start:\n{e}"))
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

fn mark(tag: &str) -> String {
    format!(
        "function pipe(user, context, callback) {{ user.trail = (user.trail || []).concat(['{tag}']); callback(null, user, context) }}"
    )
}

/// Polls `check` until it holds; how long that took. Panics after 10 s.
fn until(what: &str, mut check: impl FnMut() -> bool) -> Duration {
    let started = Instant::now();
    while !check() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "never happened: {what}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    started.elapsed()
}

fn trail(server: &Server, key: &str) -> Value {
    let (status, result) = call(
        server,
        "POST",
        "/v1/tenants/acme/pipelines/pre-register",
        key,
        Some(json!({"user": {}, "context": {}})),
    );
    if status != 200 {
        return json!(status);
    }
    result["user"]["trail"].clone()
}

fn metric(server: &Server, name: &str) -> f64 {
    let text = server.get("/metrics", None).body;
    text.lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or_else(|| panic!("no {name} in /metrics"))
}

#[test]
fn a_change_through_one_node_is_served_by_the_others_within_a_second() {
    let url = postgres_database("cluster-changes");
    let (a, b) = (node(&url, "node-a"), node(&url, "node-b"));
    let mut slowest = Duration::ZERO;
    let mut note = |what: &str, took: Duration| {
        assert!(
            took < Duration::from_secs(1),
            "{what} reached node B after {took:?}"
        );
        slowest = slowest.max(took);
    };

    // A tenant and a key made on A work on B.
    assert_eq!(
        call(
            &a,
            "POST",
            "/v1/tenants",
            ADMIN,
            Some(json!({"id": "acme", "name": "Acme"}))
        )
        .0,
        201
    );
    // Straight away through B, before any notification could arrive: B
    // finds the tenant in the store instead of answering 404.
    let (status, body) = call(&b, "GET", "/v1/tenants/acme", ADMIN, None);
    assert_eq!(status, 200, "{body}");
    let (status, key) = call(
        &a,
        "POST",
        "/v1/tenants/acme/keys",
        ADMIN,
        Some(json!({"role": "manage", "name": "m"})),
    );
    assert_eq!(status, 201);
    let key = key["token"].as_str().unwrap().to_string();
    let started = Instant::now();
    until("B knows the tenant and the key", || {
        call(&b, "GET", "/v1/tenants/acme/functions", &key, None).0 == 200
    });
    note("a new tenant and key", started.elapsed());

    // Create, update, order, enable, env: each served by B within a second.
    let create = |name: &str, order: i64| {
        let (status, body) = call(
            &a,
            "POST",
            "/v1/tenants/acme/functions",
            &key,
            Some(
                json!({"name": name, "source": mark(name), "triggers": ["pre-register"], "order": order}),
            ),
        );
        assert_eq!(status, 201, "{body}");
    };
    create("one", 10);
    note(
        "a new function",
        until("B runs one", || trail(&b, &key) == json!(["one"])),
    );
    create("two", 20);
    note(
        "a second function",
        until("B runs one, two", || {
            trail(&b, &key) == json!(["one", "two"])
        }),
    );
    assert_eq!(
        call(
            &a,
            "PATCH",
            "/v1/tenants/acme/functions/two",
            &key,
            Some(json!({"source": mark("two-v2")}))
        )
        .0,
        200
    );
    note(
        "an update",
        until("B runs two v2", || {
            trail(&b, &key) == json!(["one", "two-v2"])
        }),
    );
    assert_eq!(
        call(
            &a,
            "PUT",
            "/v1/tenants/acme/triggers/pre-register",
            &key,
            Some(json!({"order": ["two", "one"]}))
        )
        .0,
        200
    );
    note(
        "a new order",
        until("B runs the new order", || {
            trail(&b, &key) == json!(["two-v2", "one"])
        }),
    );
    assert_eq!(
        call(
            &a,
            "POST",
            "/v1/tenants/acme/functions/two/deploy",
            &key,
            Some(json!({"version": 1}))
        )
        .0,
        200
    );
    note(
        "a rollback",
        until("B runs two v1", || trail(&b, &key) == json!(["two", "one"])),
    );
    assert_eq!(
        call(
            &a,
            "PATCH",
            "/v1/tenants/acme/functions/one",
            &key,
            Some(json!({"enabled": false}))
        )
        .0,
        200
    );
    note(
        "a disable",
        until("B skips one", || trail(&b, &key) == json!(["two"])),
    );
    let env_reader = "function pipe(user, context, callback) { user.trail = [env.COLOR || 'none']; callback(null, user, context) }";
    assert_eq!(
        call(
            &a,
            "PATCH",
            "/v1/tenants/acme/functions/two",
            &key,
            Some(json!({"source": env_reader}))
        )
        .0,
        200
    );
    until("B runs the env reader", || {
        trail(&b, &key) == json!(["none"])
    });
    assert_eq!(
        call(
            &a,
            "PUT",
            "/v1/tenants/acme/env/COLOR",
            &key,
            Some(json!({"value": "blue", "secret": true}))
        )
        .0,
        200
    );
    note(
        "a secret",
        until("B sees the secret", || trail(&b, &key) == json!(["blue"])),
    );

    // Quotas: a max_rps set on A is enforced by B (sharing it with A).
    let invoke_b = || {
        call(
            &b,
            "POST",
            "/v1/tenants/acme/pipelines/pre-register",
            &key,
            Some(json!({"user": {}, "context": {}})),
        )
        .0
    };
    assert!((0..5).all(|_| invoke_b() == 200), "no rate limit yet");
    assert_eq!(
        call(
            &a,
            "PATCH",
            "/v1/tenants/acme",
            ADMIN,
            Some(json!({"quotas": {"max_rps": 1}}))
        )
        .0,
        200
    );
    note(
        "a quota",
        until("B applies max_rps", || (0..3).any(|_| invoke_b() == 429)),
    );
    assert_eq!(
        call(
            &a,
            "PATCH",
            "/v1/tenants/acme",
            ADMIN,
            Some(json!({"quotas": {"max_rps": null}}))
        )
        .0,
        200
    );
    until("B lifts it", || (0..3).all(|_| invoke_b() == 200));

    // A key revoked on A is refused by B at once.
    let (_, keys) = call(&a, "GET", "/v1/tenants/acme/keys", ADMIN, None);
    let id = keys["keys"][0]["id"].as_str().unwrap().to_string();
    assert_eq!(
        call(
            &a,
            "DELETE",
            &format!("/v1/tenants/acme/keys/{id}"),
            ADMIN,
            None
        )
        .0,
        204
    );
    note(
        "a revocation",
        until("B refuses the key", || {
            call(&b, "GET", "/v1/tenants/acme/functions", &key, None).0 == 401
        }),
    );

    // Both nodes record executions, each with its node id; both see all.
    let (_, _, on_a) = a.call_json(
        "POST",
        "/v1/tenants/acme/pipelines/pre-register",
        ADMIN,
        Some(json!({"user": {}, "context": {}})),
    );
    let (_, _, on_b) = b.call_json(
        "POST",
        "/v1/tenants/acme/pipelines/pre-register",
        ADMIN,
        Some(json!({"user": {}, "context": {}})),
    );
    for (answer, node_id) in [(on_a, "node-a"), (on_b, "node-b")] {
        let id = answer
            .header("x-authpipe-execution-id")
            .unwrap()
            .to_string();
        until("the record is stored", || {
            call(
                &a,
                "GET",
                &format!("/v1/tenants/acme/executions/{id}"),
                ADMIN,
                None,
            )
            .0 == 200
        });
        let (_, record) = call(
            &b,
            "GET",
            &format!("/v1/tenants/acme/executions/{id}"),
            ADMIN,
            None,
        );
        assert_eq!(record["node"], node_id, "{record}");
    }
    // Two live nodes share each tenant's max_rps.
    until("both nodes count two live nodes", || {
        metric(&a, "authpipe_cluster_live_nodes") == 2.0
            && metric(&b, "authpipe_cluster_live_nodes") == 2.0
    });
    eprintln!("slowest change to reach the other node: {slowest:?}");
}

#[test]
fn a_node_started_later_serves_every_function_without_compiling() {
    let url = postgres_database("cluster-join");
    let a = node(&url, "first");
    assert_eq!(
        call(
            &a,
            "POST",
            "/v1/tenants",
            ADMIN,
            Some(json!({"id": "acme", "name": "Acme", "quotas": {"max_functions": 100}}))
        )
        .0,
        201
    );
    for i in 0..50 {
        let source = mark(&format!("f{i}"));
        let (status, body) = call(
            &a,
            "POST",
            "/v1/tenants/acme/functions",
            ADMIN,
            Some(
                json!({"name": format!("f{i:02}"), "source": source, "triggers": ["post-register"]}),
            ),
        );
        assert_eq!(status, 201, "{body}");
    }
    let later = node(&url, "later");
    assert_eq!(metric(&later, "authpipe_functions_deployed"), 50.0);
    assert_eq!(
        metric(&later, "authpipe_snapshot_compilations_total"),
        0.0,
        "every snapshot came from the store"
    );
    assert!(
        later.stderr().contains("50 functions, 0 compiled"),
        "{}",
        later.stderr()
    );
    let (status, result) = call(
        &later,
        "POST",
        "/v1/tenants/acme/pipelines/post-register",
        ADMIN,
        Some(json!({"user": {}, "context": {}})),
    );
    assert_eq!(status, 200);
    assert_eq!(
        result["user"]["trail"].as_array().unwrap().len(),
        50,
        "{result}"
    );
    assert!(metric(&a, "authpipe_snapshot_compilations_total") >= 50.0);
}

#[test]
fn deploys_through_two_nodes_at_once_leave_one_consistent_winner() {
    let url = postgres_database("cluster-race");
    let (a, b) = (node(&url, "race-a"), node(&url, "race-b"));
    assert_eq!(
        call(
            &a,
            "POST",
            "/v1/tenants",
            ADMIN,
            Some(json!({"id": "acme", "name": "Acme"}))
        )
        .0,
        201
    );
    let (status, _) = call(
        &a,
        "POST",
        "/v1/tenants/acme/functions",
        ADMIN,
        Some(json!({"name": "f", "source": mark("v1"), "triggers": ["pre-register"]})),
    );
    assert_eq!(status, 201);
    for round in 0..5 {
        for v in ["v2", "v3"] {
            let (status, body) = call(
                &a,
                "PATCH",
                "/v1/tenants/acme/functions/f",
                ADMIN,
                Some(json!({"source": mark(&format!("{v}-{round}")), "deploy": false})),
            );
            assert_eq!(status, 200, "{body}");
        }
        let (_, f) = call(&a, "GET", "/v1/tenants/acme/functions/f", ADMIN, None);
        let newest = f["version"].as_i64().unwrap();
        let (x, y) = (newest - 1, newest);
        let barrier = std::sync::Barrier::new(2);
        let (ra, rb) = std::thread::scope(|s| {
            let one = s.spawn(|| {
                barrier.wait();
                call(
                    &a,
                    "POST",
                    "/v1/tenants/acme/functions/f/deploy",
                    ADMIN,
                    Some(json!({"version": x})),
                )
                .0
            });
            let two = s.spawn(|| {
                barrier.wait();
                call(
                    &b,
                    "POST",
                    "/v1/tenants/acme/functions/f/deploy",
                    ADMIN,
                    Some(json!({"version": y})),
                )
                .0
            });
            (one.join().unwrap(), two.join().unwrap())
        });
        assert_eq!((ra, rb), (200, 200));
        let (_, on_a) = call(&a, "GET", "/v1/tenants/acme/functions/f", ADMIN, None);
        let (_, on_b) = call(&b, "GET", "/v1/tenants/acme/functions/f", ADMIN, None);
        let winner = on_a["deployed_version"].as_i64().unwrap();
        assert!(winner == x || winner == y, "{on_a}");
        assert_eq!(on_b["deployed_version"], winner, "both nodes agree");
        let (_, versions) = call(
            &b,
            "GET",
            "/v1/tenants/acme/functions/f/versions",
            ADMIN,
            None,
        );
        let deployed: Vec<i64> = versions
            .as_array()
            .unwrap()
            .iter()
            .filter(|v| v["deployed"] == true)
            .map(|v| v["version"].as_i64().unwrap())
            .collect();
        assert_eq!(deployed, [winner], "exactly one deployed version");
        // Both nodes serve the winner.
        for node in [&a, &b] {
            until("the node serves the winner", || {
                let (_, result) = call(
                    node,
                    "POST",
                    "/v1/tenants/acme/pipelines/pre-register",
                    ADMIN,
                    Some(json!({"user": {}, "context": {}})),
                );
                result["stages"][0]["version"] == winner
            });
        }
    }
}

/// What `scripts/cluster.sh up` started (Postgres, three nodes, nginx) in a
/// directory of its own; `down` when dropped.
struct LocalCluster {
    dir: std::path::PathBuf,
    url: String,
    token: String,
}

impl LocalCluster {
    fn up(label: &str) -> LocalCluster {
        let dir = temp_dir(label);
        // Free ports: the balancer, Postgres, and three consecutive for the nodes.
        let free = || {
            std::net::TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port()
        };
        let node_base = (0..100)
            .map(|_| free())
            .find(|&p| {
                p < 65000
                    && (1..3).all(|i| std::net::TcpListener::bind(("127.0.0.1", p + i)).is_ok())
            })
            .expect("three free consecutive ports");
        let (lb, pg) = (free(), free());
        let output = std::process::Command::new("bash")
            .arg(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../scripts/cluster.sh"
            ))
            .arg("up")
            .env("AUTHPIPE_CLUSTER_DIR", &dir)
            .env("AUTHPIPE_BIN", authpipe_tests::authpipe_bin())
            .env("AUTHPIPE_CLUSTER_LB_PORT", lb.to_string())
            .env("AUTHPIPE_CLUSTER_NODE_PORT", node_base.to_string())
            .env("AUTHPIPE_CLUSTER_PG_PORT", pg.to_string())
            .output()
            .expect("bash runs");
        let cluster = LocalCluster {
            url: format!("http://127.0.0.1:{lb}"),
            token: std::fs::read_to_string(dir.join("admin.token"))
                .unwrap_or_default()
                .trim()
                .to_string(),
            dir,
        };
        assert!(
            output.status.success(),
            "scripts/cluster.sh up failed:\n{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        cluster
    }

    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Result<(u16, Value), String> {
        let request = ureq::http::Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.url))
            .header("authorization", format!("Bearer {}", self.token))
            .header("content-type", "application/json")
            .body(body.map(|b| b.to_string()).unwrap_or_default())
            .unwrap();
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(10)))
            .build()
            .into();
        let mut response = agent.run(request).map_err(|e| e.to_string())?;
        let status = response.status().as_u16();
        let text = response.body_mut().read_to_string().unwrap_or_default();
        Ok((status, serde_json::from_str(&text).unwrap_or(Value::Null)))
    }
}

impl Drop for LocalCluster {
    fn drop(&mut self) {
        let _ = std::process::Command::new("bash")
            .arg(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../scripts/cluster.sh"
            ))
            .arg("down")
            .env("AUTHPIPE_CLUSTER_DIR", &self.dir)
            .output();
    }
}

#[test]
fn behind_nginx_a_node_killed_under_load_loses_nothing_and_new_requests_succeed() {
    let cluster = LocalCluster::up("cluster-lb");
    let ok = |(status, body): (u16, Value)| assert!(status < 300, "{status}: {body}");
    ok(cluster
        .call(
            "POST",
            "/v1/tenants",
            Some(json!({"id": "acme", "name": "Acme"})),
        )
        .unwrap());
    for name in ["one", "two", "three"] {
        ok(cluster
            .call(
                "POST",
                "/v1/tenants/acme/functions",
                Some(json!({"name": name, "source": mark(name), "triggers": ["pre-register"]})),
            )
            .unwrap());
    }
    let invoke = || {
        cluster.call(
            "POST",
            "/v1/tenants/acme/pipelines/pre-register",
            Some(json!({"user": {}, "context": {}})),
        )
    };
    until("every node serves the three functions", || {
        (0..6).all(|_| matches!(invoke(), Ok((200, r)) if r["user"]["trail"] == json!(["one", "two", "three"])))
    });
    let stop = std::sync::atomic::AtomicBool::new(false);
    let killed_at = std::sync::Mutex::new(None::<Instant>);
    let (before, after) = std::thread::scope(|s| {
        let workers: Vec<_> = (0..4)
            .map(|_| {
                s.spawn(|| {
                    let (mut before, mut after) = ((0u32, 0u32), (0u32, 0u32));
                    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                        let good = matches!(invoke(), Ok((200, _)));
                        // Requests started a second after the kill: after failover.
                        let settled = killed_at
                            .lock()
                            .unwrap()
                            .is_some_and(|t| t.elapsed() > Duration::from_secs(1));
                        let bucket = if settled { &mut after } else { &mut before };
                        bucket.0 += 1;
                        bucket.1 += u32::from(!good);
                    }
                    (before, after)
                })
            })
            .collect();
        std::thread::sleep(Duration::from_millis(1500));
        let pid = std::fs::read_to_string(cluster.dir.join("node-2.pid")).unwrap();
        assert!(
            std::process::Command::new("kill")
                .args(["-9", pid.trim()])
                .status()
                .unwrap()
                .success()
        );
        *killed_at.lock().unwrap() = Some(Instant::now());
        std::thread::sleep(Duration::from_secs(4));
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        workers
            .into_iter()
            .map(|w| w.join().unwrap())
            .fold(((0, 0), (0, 0)), |acc, (b, a)| {
                (
                    (acc.0.0 + b.0, acc.0.1 + b.1),
                    (acc.1.0 + a.0, acc.1.1 + a.1),
                )
            })
    });
    eprintln!(
        "through nginx: {} requests ({} failed) up to a second after the kill, {} ({} failed) after",
        before.0, before.1, after.0, after.1
    );
    assert!(after.0 > 20, "load kept running after the kill: {after:?}");
    assert_eq!(after.1, 0, "every request after failover succeeds");
    // No management data lost: everything made before the kill is there.
    let (status, functions) = cluster
        .call("GET", "/v1/tenants/acme/functions", None)
        .unwrap();
    assert_eq!(status, 200);
    assert_eq!(
        functions["functions"].as_array().unwrap().len(),
        3,
        "{functions}"
    );
    ok(cluster
        .call(
            "PATCH",
            "/v1/tenants/acme/functions/two",
            Some(json!({"source": mark("two-after")})),
        )
        .unwrap());
    until("the survivors serve the change", || {
        (0..4).all(|_| matches!(invoke(), Ok((200, r)) if r["user"]["trail"] == json!(["one", "two-after", "three"])))
    });
}

/// A PostgreSQL of a test's own (to be stopped mid-test); stopped and
/// removed when dropped.
struct OwnPostgres {
    dir: std::path::PathBuf,
    url: String,
}

const POSTGRES_SH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/postgres.sh");

impl OwnPostgres {
    fn start(label: &str) -> OwnPostgres {
        let dir = temp_dir(label).join("pg");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let output = std::process::Command::new("bash")
            .args([POSTGRES_SH, "start"])
            .arg(&dir)
            .arg(port.to_string())
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let url = String::from_utf8(output.stdout).unwrap().trim().to_string();
        OwnPostgres { dir, url }
    }

    fn stop(&self) {
        let status = std::process::Command::new("bash")
            .args([POSTGRES_SH, "stop"])
            .arg(&self.dir)
            .status()
            .unwrap();
        assert!(status.success());
    }
}

impl Drop for OwnPostgres {
    fn drop(&mut self) {
        if self.dir.exists() {
            self.stop();
        }
    }
}

#[test]
fn with_the_database_gone_invocations_go_on_and_management_answers_503() {
    let postgres = OwnPostgres::start("cluster-outage");
    let a = node(&postgres.url, "outage");
    assert_eq!(
        call(
            &a,
            "POST",
            "/v1/tenants",
            ADMIN,
            Some(json!({"id": "acme", "name": "Acme"}))
        )
        .0,
        201
    );
    let (status, body) = call(
        &a,
        "POST",
        "/v1/tenants/acme/functions",
        ADMIN,
        Some(json!({"name": "f", "source": mark("f"), "triggers": ["pre-register"]})),
    );
    assert_eq!(status, 201, "{body}");
    assert_eq!(a.get("/readyz", None).status, 200);

    postgres.stop();
    let invoke = || {
        call(
            &a,
            "POST",
            "/v1/tenants/acme/pipelines/pre-register",
            ADMIN,
            Some(json!({"user": {}, "context": {}})),
        )
    };
    for _ in 0..20 {
        let (status, result) = invoke();
        assert_eq!(status, 200, "invocations run on what is loaded: {result}");
        assert_eq!(result["user"]["trail"], json!(["f"]));
    }
    let started = Instant::now();
    let (status, body) = call(&a, "GET", "/v1/tenants/acme/functions", ADMIN, None);
    assert_eq!(status, 503, "{body}");
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "fails fast: {:?}",
        started.elapsed()
    );
    let (status, _) = call(
        &a,
        "PATCH",
        "/v1/tenants/acme/functions/f",
        ADMIN,
        Some(json!({"source": mark("g")})),
    );
    assert_eq!(status, 503);
    let ready = a.get("/readyz", None);
    assert_eq!(ready.status, 503, "{}", ready.body);
    assert!(ready.body.contains("store"), "{}", ready.body);
    assert_eq!(a.get("/healthz", None).status, 200, "alive all the same");
    assert_eq!(invoke().0, 200, "and still serving");

    // A database that is down at start is a clear error.
    let dir = temp_dir("cluster-outage-start");
    std::fs::create_dir_all(&dir).unwrap();
    let refused = Server::try_start_with(
        &dir,
        &["--store".as_ref(), postgres.url.as_ref()],
        &[
            ("AUTHPIPE_ADMIN_TOKEN", ADMIN),
            ("AUTHPIPE_MASTER_KEY", MASTER_KEY),
        ],
    )
    .err()
    .expect("no start without the database");
    let port = postgres
        .url
        .rsplit(':')
        .next()
        .unwrap()
        .split('/')
        .next()
        .unwrap();
    assert!(refused.contains(&format!("127.0.0.1:{port}")), "{refused}");
}
