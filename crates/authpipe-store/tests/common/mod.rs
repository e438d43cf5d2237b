//! The store's behaviour, written once against [`Store`] and run against
//! every backend: each backend's test file implements [`Harness`] and
//! expands [`store_tests!`].

use authpipe_store::{
    AuditEntry, ExecutionQuery, ExecutionRecord, FunctionSettings, FunctionVersion, Quotas, Role,
    Store, StoreError, Tenant, now_ms,
};

/// A fresh database of one backend, and stores opened on it.
pub(crate) trait Harness: Sized {
    /// The store type.
    type S: Store;
    /// A new, empty database (`label` names it in paths and logs).
    async fn new(label: &str) -> Self;
    /// A store on this database whose secrets are sealed with `key`.
    async fn open_with(&self, key: [u8; 32]) -> Self::S;
    /// Closes `store`, so everything it wrote is in the database.
    async fn close(&self, store: Self::S);
    /// Whether `needle` occurs anywhere in what the database keeps (for a
    /// store that is closed).
    async fn stored_contains(&self, needle: &[u8]) -> bool;

    /// A store on this database with the tests' master key.
    async fn open(&self) -> Self::S {
        self.open_with([42; 32]).await
    }
}

/// One `#[tokio::test]` per behaviour, on the backend `$harness`.
macro_rules! store_tests {
    ($harness:ty: $($test:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $test() {
                common::$test::<$harness>().await
            }
        )*
    };
}

pub(crate) fn tenant(id: &str) -> Tenant {
    Tenant {
        id: id.into(),
        name: format!("Tenant {id}"),
        quotas: Quotas {
            max_functions: Some(10),
            ..Quotas::default()
        },
        created_at: now_ms(),
        updated_at: now_ms(),
    }
}

pub(crate) fn version(source: &str) -> FunctionVersion {
    FunctionVersion {
        version: 0,
        source: source.into(),
        sha256: format!("{:x}", source.len()),
        settings: FunctionSettings {
            description: String::new(),
            triggers: vec!["pre-register".into()],
            enabled: true,
            is_async: false,
            timeout_ms: 3000,
            fuel: 100_000_000,
            memory_mb: 32,
            on_error: "deny".into(),
            language: "javascript".into(),
            flavor: None,
        },
        created_at: 0,
        created_by: "admin".into(),
    }
}

pub(crate) fn record(
    tenant: &str,
    at: i64,
    trigger: &str,
    functions: &[&str],
    outcome: &str,
) -> ExecutionRecord {
    ExecutionRecord {
        id: format!("{at:012x}{:04x}", at % 7),
        tenant: tenant.into(),
        at,
        trigger: Some(trigger.into()),
        functions: functions.iter().map(|f| f.to_string()).collect(),
        outcome: outcome.into(),
        json: format!("{{\"at\":{at}}}"),
    }
}

fn all(limit: u32) -> ExecutionQuery {
    ExecutionQuery {
        limit,
        ..ExecutionQuery::default()
    }
}

pub(crate) async fn tenants_keys_and_isolation<H: Harness>() {
    let db = H::new("tenants").await;
    let store = db.open().await;
    store.create_tenant(&tenant("acme")).await.unwrap();
    store.create_tenant(&tenant("globex")).await.unwrap();
    assert!(matches!(
        store.create_tenant(&tenant("acme")).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(store.tenants().await.unwrap().len(), 2);
    assert_eq!(
        store.tenant("acme").await.unwrap().quotas.max_functions,
        Some(10)
    );

    let manage = store.create_key("acme", "ci", Role::Manage).await.unwrap();
    let invoke = store.create_key("acme", "app", Role::Invoke).await.unwrap();
    assert!(manage.token.starts_with("ap_manage_"));
    let found = store.key_for_token(&manage.token).await.unwrap().unwrap();
    assert_eq!((found.tenant.as_str(), found.role), ("acme", Role::Manage));
    assert!(found.last_used_at.is_none());
    store.note_key_use(&found.id, 42).await.unwrap();
    let found = store.key_for_token(&manage.token).await.unwrap().unwrap();
    assert_eq!(found.last_used_at, Some(42));
    assert!(
        store
            .key_for_token("ap_manage_wrong")
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(store.keys("acme").await.unwrap().len(), 2);
    assert!(store.keys("globex").await.unwrap().is_empty());
    assert!(matches!(
        store.create_key("nobody", "x", Role::Invoke).await,
        Err(StoreError::NotFound(_))
    ));

    // Another tenant cannot revoke acme's key.
    assert!(matches!(
        store.revoke_key("globex", &invoke.key.id).await,
        Err(StoreError::NotFound(_))
    ));
    store.revoke_key("acme", &invoke.key.id).await.unwrap();
    assert!(store.key_for_token(&invoke.token).await.unwrap().is_none());

    // The token itself is not in the database.
    db.close(store).await;
    assert!(!db.stored_contains(manage.token.as_bytes()).await);

    let store = db.open().await;
    store.delete_tenant("acme").await.unwrap();
    assert!(matches!(
        store.tenant("acme").await,
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        store.delete_tenant("acme").await,
        Err(StoreError::NotFound(_))
    ));
    assert!(store.key_for_token(&manage.token).await.unwrap().is_none());
}

pub(crate) async fn tenant_updates<H: Harness>() {
    let db = H::new("tenant-updates").await;
    let store = db.open().await;
    let mut acme = tenant("acme");
    assert!(matches!(
        store.update_tenant(&acme).await,
        Err(StoreError::NotFound(_))
    ));
    store.create_tenant(&acme).await.unwrap();
    acme.name = "Acme Inc.".into();
    acme.quotas.max_rps = Some(7);
    store.update_tenant(&acme).await.unwrap();
    let stored = store.tenant("acme").await.unwrap();
    assert_eq!(stored.name, "Acme Inc.");
    assert_eq!(stored.quotas.max_rps, Some(7));
    assert!(stored.updated_at >= stored.created_at);
    // Ids sort bytewise, whatever the database's locale.
    for id in ["b", "a-2", "a2", "0z", "a"] {
        store.create_tenant(&tenant(id)).await.unwrap();
    }
    let ids: Vec<_> = store
        .tenants()
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.id)
        .collect();
    assert_eq!(ids, ["0z", "a", "a-2", "a2", "acme", "b"]);
}

pub(crate) async fn functions_versions_deploy_and_order<H: Harness>() {
    let db = H::new("functions").await;
    let store = db.open().await;
    store.create_tenant(&tenant("acme")).await.unwrap();
    let created = store
        .create_function("acme", "allow", &version("v1"), 10, true)
        .await
        .unwrap();
    assert_eq!(
        (created.latest.version, created.deployed_version),
        (1, Some(1))
    );
    assert_eq!(created.latest.source, "v1");
    assert!(matches!(
        store
            .create_function("acme", "allow", &version("again"), 0, true)
            .await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        store
            .create_function("nobody", "f", &version("x"), 0, true)
            .await,
        Err(StoreError::NotFound(_))
    ));

    let draft = store
        .add_version("acme", "allow", &version("v2"), Some(1), false)
        .await
        .unwrap();
    assert_eq!((draft.latest.version, draft.deployed_version), (2, Some(1)));
    assert!(matches!(
        store
            .add_version("acme", "allow", &version("v3"), Some(1), true)
            .await,
        Err(StoreError::Precondition(_))
    ));
    assert!(matches!(
        store
            .add_version("acme", "nothing", &version("v1"), None, true)
            .await,
        Err(StoreError::NotFound(_))
    ));
    let promoted = store.deploy("acme", "allow", 2).await.unwrap();
    assert_eq!(promoted.deployed_version, Some(2));
    let rolled_back = store.deploy("acme", "allow", 1).await.unwrap();
    assert_eq!(rolled_back.deployed_version, Some(1));
    assert_ne!(promoted.etag(), rolled_back.etag());
    assert!(matches!(
        store.deploy("acme", "allow", 9).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        store.deploy("acme", "nothing", 1).await,
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(
        store.version("acme", "allow", 1).await.unwrap().source,
        "v1"
    );
    assert!(matches!(
        store.version("acme", "allow", 3).await,
        Err(StoreError::NotFound(_))
    ));
    let versions = store.versions("acme", "allow").await.unwrap();
    assert_eq!(
        versions.iter().map(|v| v.version).collect::<Vec<_>>(),
        [1, 2]
    );
    assert_eq!(versions[1].settings, version("v2").settings);
    let deployed_too = store
        .add_version("acme", "allow", &version("v3"), None, true)
        .await
        .unwrap();
    assert_eq!(
        (deployed_too.latest.version, deployed_too.deployed_version),
        (3, Some(3))
    );
    assert_eq!(
        store.function("acme", "allow").await.unwrap(),
        deployed_too,
        "a change returns what it stored"
    );

    store
        .create_function("acme", "second", &version("s"), 20, true)
        .await
        .unwrap();
    store
        .set_order("acme", &["second".into(), "allow".into()])
        .await
        .unwrap();
    let names: Vec<_> = store
        .functions("acme")
        .await
        .unwrap()
        .into_iter()
        .map(|f| f.name)
        .collect();
    assert_eq!(names, ["second", "allow"]);
    assert!(matches!(
        store
            .set_order("acme", &["allow".into(), "missing".into()])
            .await,
        Err(StoreError::NotFound(_))
    ));
    let names: Vec<_> = store
        .functions("acme")
        .await
        .unwrap()
        .into_iter()
        .map(|f| (f.name, f.run_order))
        .collect();
    assert_eq!(
        names,
        [("second".to_string(), 10), ("allow".to_string(), 20)],
        "a failed reorder changes nothing"
    );
    let moved = store.set_run_order("acme", "allow", 5).await.unwrap();
    assert_eq!(moved.run_order, 5);
    assert!(matches!(
        store.set_run_order("acme", "missing", 5).await,
        Err(StoreError::NotFound(_))
    ));
    let names: Vec<_> = store
        .functions("acme")
        .await
        .unwrap()
        .into_iter()
        .map(|f| f.name)
        .collect();
    assert_eq!(names, ["allow", "second"]);

    store.delete_function("acme", "allow").await.unwrap();
    assert!(matches!(
        store.delete_function("acme", "allow").await,
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        store.function("acme", "allow").await,
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        store.versions("acme", "allow").await,
        Err(StoreError::NotFound(_))
    ));
    // Deleting the tenant takes its functions.
    store.delete_tenant("acme").await.unwrap();
    store.create_tenant(&tenant("acme")).await.unwrap();
    assert!(store.functions("acme").await.unwrap().is_empty());
}

pub(crate) async fn secrets_are_sealed_in_the_database<H: Harness>() {
    let db = H::new("secrets").await;
    let store = db.open().await;
    store.create_tenant(&tenant("acme")).await.unwrap();
    let plaintext = "xoxb-very-secret-webhook-token-1234567890";
    store
        .set_env("acme", "SLACK", plaintext, true)
        .await
        .unwrap();
    store
        .set_env("acme", "DOMAIN", "example.com", false)
        .await
        .unwrap();
    let env = store.env("acme").await.unwrap();
    assert_eq!(env.len(), 2);
    assert_eq!(env[0].key, "DOMAIN");
    assert_eq!(env[1].key, "SLACK");
    assert_eq!(env[1].value, plaintext);
    assert!(env[1].secret);
    assert!(!env[0].secret);
    assert!(store.env("globex").await.unwrap().is_empty());
    assert!(matches!(
        store.set_env("globex", "X", "y", false).await,
        Err(StoreError::NotFound(_))
    ));
    // Overwriting turns a secret into a plain value and back.
    store
        .set_env("acme", "DOMAIN", "example.org", true)
        .await
        .unwrap();
    let env = store.env("acme").await.unwrap();
    assert_eq!(
        (env[0].value.as_str(), env[0].secret),
        ("example.org", true)
    );
    store.delete_env("acme", "DOMAIN").await.unwrap();
    assert!(matches!(
        store.delete_env("acme", "DOMAIN").await,
        Err(StoreError::NotFound(_))
    ));
    db.close(store).await;
    assert!(
        !db.stored_contains(plaintext.as_bytes()).await,
        "the plaintext is in the database"
    );
    // Another master key cannot open it.
    let other = db.open_with([1; 32]).await;
    assert!(matches!(
        other.env("acme").await,
        Err(StoreError::Backend(_))
    ));
}

pub(crate) async fn allow_lists_audit_and_reopening<H: Harness>() {
    let db = H::new("reopen").await;
    {
        let store = db.open().await;
        store.create_tenant(&tenant("acme")).await.unwrap();
        assert!(store.fetch_allow("acme").await.unwrap().is_empty());
        store
            .set_fetch_allow("acme", &["https://example.com/*".into()])
            .await
            .unwrap();
        store
            .set_fetch_allow("acme", &["https://hooks.slack.com/*".into()])
            .await
            .unwrap();
        assert!(matches!(
            store.set_fetch_allow("nobody", &[]).await,
            Err(StoreError::NotFound(_))
        ));
        for (i, action) in ["function.create", "function.deploy"].iter().enumerate() {
            store
                .audit(
                    "acme",
                    &AuditEntry {
                        at: now_ms(),
                        actor: "admin".into(),
                        action: action.to_string(),
                        target: "allow".into(),
                        version: Some(i as i64 + 1),
                    },
                )
                .await
                .unwrap();
        }
        store
            .create_function("acme", "allow", &version("v1"), 0, true)
            .await
            .unwrap();
        db.close(store).await;
    }
    // Migrations run again on an existing database without harm; state is
    // back.
    let store = db.open().await;
    assert_eq!(
        store.fetch_allow("acme").await.unwrap(),
        ["https://hooks.slack.com/*"]
    );
    let log = store.audit_log("acme", 10).await.unwrap();
    assert_eq!(log.len(), 2);
    assert_eq!(log[0].action, "function.deploy");
    assert_eq!(log[1].version, Some(1));
    assert_eq!(store.audit_log("acme", 1).await.unwrap().len(), 1);
    assert_eq!(
        store
            .function("acme", "allow")
            .await
            .unwrap()
            .deployed_version,
        Some(1)
    );
    // Deleting a tenant deletes its audit log.
    store.delete_tenant("acme").await.unwrap();
    store.create_tenant(&tenant("acme")).await.unwrap();
    assert!(store.audit_log("acme", 10).await.unwrap().is_empty());
}

pub(crate) async fn snapshots_are_kept_once_per_key<H: Harness>() {
    let db = H::new("snapshots").await;
    let store = db.open().await;
    assert!(store.snapshot("engine/f.js/abc").await.unwrap().is_none());
    store
        .put_snapshot("engine/f.js/abc", b"first")
        .await
        .unwrap();
    store
        .put_snapshot("engine/f.js/abc", b"second")
        .await
        .unwrap();
    assert_eq!(
        store.snapshot("engine/f.js/abc").await.unwrap().as_deref(),
        Some(&b"first"[..]),
        "a key's snapshot never changes"
    );
}

pub(crate) async fn execution_history_filters_pages_and_prunes<H: Harness>() {
    let db = H::new("executions").await;
    let store = db.open().await;
    store.create_tenant(&tenant("acme")).await.unwrap();
    store.create_tenant(&tenant("globex")).await.unwrap();
    let records: Vec<_> = (1..=10)
        .map(|at| {
            let function = if at % 2 == 0 { "even" } else { "odd" };
            let outcome = if at % 5 == 0 { "deny" } else { "allow" };
            let trigger = if at == 3 { "pre-login" } else { "pre-register" };
            record("acme", at, trigger, &["first", function], outcome)
        })
        .chain([record("globex", 11, "pre-register", &["even"], "allow")])
        .collect();
    store.record_executions(&records).await.unwrap();
    // Recording the same records again changes nothing.
    store.record_executions(&records[..2]).await.unwrap();
    let query = |function: Option<&str>, outcome: Option<&str>, before: Option<String>, limit| {
        ExecutionQuery {
            trigger: None,
            function: function.map(str::to_string),
            outcome: outcome.map(str::to_string),
            before,
            limit,
        }
    };
    let ats = |list: Vec<ExecutionRecord>| list.iter().map(|r| r.at).collect::<Vec<_>>();
    let page = store
        .executions("acme", &query(None, None, None, 3))
        .await
        .unwrap();
    assert_eq!(ats(page.clone()), [10, 9, 8]);
    let next = store
        .executions("acme", &query(None, None, Some(page[2].id.clone()), 3))
        .await
        .unwrap();
    assert_eq!(ats(next), [7, 6, 5]);
    let even = store
        .executions("acme", &query(Some("even"), None, None, 100))
        .await
        .unwrap();
    assert_eq!(
        ats(even),
        [10, 8, 6, 4, 2],
        "globex's record stays in globex"
    );
    let ev = store
        .executions("acme", &query(Some("eve"), None, None, 100))
        .await
        .unwrap();
    assert!(ev.is_empty(), "function names match whole");
    let denied = store
        .executions("acme", &query(None, Some("deny"), None, 100))
        .await
        .unwrap();
    assert_eq!(ats(denied), [10, 5]);
    let login = store
        .executions(
            "acme",
            &ExecutionQuery {
                trigger: Some("pre-login".into()),
                ..all(100)
            },
        )
        .await
        .unwrap();
    assert_eq!(ats(login), [3]);
    let one = store.execution("acme", &records[0].id).await.unwrap();
    assert_eq!(one, records[0]);
    assert!(matches!(
        store.execution("globex", &records[0].id).await,
        Err(StoreError::NotFound(_))
    ));

    assert_eq!(store.prune_executions("acme", 4, 0).await.unwrap(), 6);
    assert_eq!(store.prune_executions("acme", 100, 9).await.unwrap(), 2);
    assert_eq!(store.prune_executions("acme", 100, 9).await.unwrap(), 0);
    let left = store.executions("acme", &all(100)).await.unwrap();
    assert_eq!(ats(left), [10, 9]);
    assert_eq!(
        store.executions("globex", &all(100)).await.unwrap().len(),
        1
    );
    // Deleting a tenant deletes its history.
    store.delete_tenant("globex").await.unwrap();
    assert!(
        store
            .executions("globex", &all(100))
            .await
            .unwrap()
            .is_empty()
    );
}

pub(crate) async fn many_executions_in_one_batch<H: Harness>() {
    let db = H::new("batch").await;
    let store = db.open().await;
    let records: Vec<_> = (1..=1000)
        .map(|at| record("acme", at, "pre-register", &["f"], "allow"))
        .collect();
    store.record_executions(&records).await.unwrap();
    assert_eq!(
        store.executions("acme", &all(5000)).await.unwrap().len(),
        1000
    );
}

pub(crate) async fn live_nodes_count_recent_heartbeats<H: Harness>() {
    let db = H::new("nodes").await;
    let store = db.open().await;
    assert_eq!(store.live_nodes(0).await.unwrap(), 0);
    store.heartbeat("node-a", 1_000).await.unwrap();
    store.heartbeat("node-b", 2_000).await.unwrap();
    assert_eq!(store.live_nodes(0).await.unwrap(), 2);
    assert_eq!(store.live_nodes(1_500).await.unwrap(), 1);
    assert_eq!(store.live_nodes(2_000).await.unwrap(), 1, "inclusive");
    store.heartbeat("node-a", 3_000).await.unwrap();
    assert_eq!(store.live_nodes(1_500).await.unwrap(), 2);
    assert_eq!(store.live_nodes(2_500).await.unwrap(), 1);
    // Another handle on the same database sees the same nodes.
    let other = db.open().await;
    assert_eq!(other.live_nodes(0).await.unwrap(), 2);
}

pub(crate) async fn concurrent_pruners_prune_once<H: Harness>() {
    let db = H::new("pruners").await;
    let (a, b) = (db.open().await, db.open().await);
    for round in 0..5 {
        let records: Vec<_> = (1..=200)
            .map(|at| record("acme", round * 1000 + at, "pre-register", &["f"], "allow"))
            .collect();
        a.record_executions(&records).await.unwrap();
        let (pruned_a, pruned_b) = tokio::join!(
            a.prune_executions("acme", 10, 0),
            b.prune_executions("acme", 10, 0)
        );
        let (pruned_a, pruned_b) = (pruned_a.unwrap(), pruned_b.unwrap());
        assert!(
            pruned_a == 0 || pruned_b == 0,
            "round {round}: both pruned ({pruned_a}, {pruned_b})"
        );
        let expected = if round == 0 { 190 } else { 200 };
        assert_eq!(pruned_a + pruned_b, expected, "round {round}");
        assert_eq!(a.executions("acme", &all(1000)).await.unwrap().len(), 10);
    }
}

pub(crate) async fn concurrent_deploys_leave_one_winner<H: Harness>() {
    let db = H::new("deploys").await;
    let (a, b) = (db.open().await, db.open().await);
    a.create_tenant(&tenant("acme")).await.unwrap();
    a.create_function("acme", "f", &version("v1"), 0, true)
        .await
        .unwrap();
    a.add_version("acme", "f", &version("v2"), None, false)
        .await
        .unwrap();
    a.add_version("acme", "f", &version("v3"), None, false)
        .await
        .unwrap();
    let mut winners = std::collections::BTreeSet::new();
    for round in 0..20 {
        let (first, second) = tokio::join!(a.deploy("acme", "f", 2), b.deploy("acme", "f", 3));
        first.unwrap();
        second.unwrap();
        let function = a.function("acme", "f").await.unwrap();
        let deployed = function.deployed_version.unwrap();
        assert!([2, 3].contains(&deployed), "round {round}: {deployed}");
        let versions = b.versions("acme", "f").await.unwrap();
        assert_eq!(
            versions.iter().map(|v| v.version).collect::<Vec<_>>(),
            [1, 2, 3]
        );
        assert_eq!(function.latest.version, 3);
        winners.insert(deployed);
        // Both handles agree.
        assert_eq!(b.function("acme", "f").await.unwrap(), function);
    }
    assert!(!winners.is_empty());
}

pub(crate) async fn concurrent_new_versions_do_not_collide<H: Harness>() {
    let db = H::new("versions").await;
    let (a, b) = (db.open().await, db.open().await);
    a.create_tenant(&tenant("acme")).await.unwrap();
    a.create_function("acme", "f", &version("v1"), 0, true)
        .await
        .unwrap();
    // Both expect version 1 to be the newest: exactly one succeeds.
    let (from_a, from_b) = (version("from a"), version("from b"));
    let (first, second) = tokio::join!(
        a.add_version("acme", "f", &from_a, Some(1), true),
        b.add_version("acme", "f", &from_b, Some(1), true)
    );
    let (won, lost) = match (first, second) {
        (Ok(won), Err(lost)) | (Err(lost), Ok(won)) => (won, lost),
        other => panic!("expected one winner: {other:?}"),
    };
    assert!(matches!(lost, StoreError::Precondition(_)), "{lost:?}");
    assert_eq!((won.latest.version, won.deployed_version), (2, Some(2)));
    // Without an expectation both succeed, as versions 3 and 4.
    let (third, fourth) = (version("third"), version("fourth"));
    let (first, second) = tokio::join!(
        a.add_version("acme", "f", &third, None, true),
        b.add_version("acme", "f", &fourth, None, true)
    );
    let mut numbers = [
        first.unwrap().latest.version,
        second.unwrap().latest.version,
    ];
    numbers.sort();
    assert_eq!(numbers, [3, 4]);
    let function = a.function("acme", "f").await.unwrap();
    assert_eq!(function.latest.version, 4);
    let versions = a.versions("acme", "f").await.unwrap();
    assert_eq!(
        versions.iter().map(|v| v.version).collect::<Vec<_>>(),
        [1, 2, 3, 4]
    );
    assert_eq!(
        function.deployed_version,
        Some(4),
        "the later change deployed its version"
    );
}
