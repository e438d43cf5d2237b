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
