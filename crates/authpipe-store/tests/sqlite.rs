//! The SQLite store on a real database file.

use authpipe_store::{
    AuditEntry, FunctionSettings, FunctionVersion, Quotas, Role, SecretBox, SqliteStore, Store,
    StoreError, Tenant, now_ms,
};
use std::path::PathBuf;

fn temp_db(label: &str) -> PathBuf {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir =
        std::env::temp_dir().join(format!("authpipe-store-{label}-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir.join("authpipe.db")
}

async fn open(path: &std::path::Path) -> SqliteStore {
    SqliteStore::open(path, SecretBox::new(&[42; 32]))
        .await
        .unwrap()
}

fn tenant(id: &str) -> Tenant {
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

fn version(source: &str) -> FunctionVersion {
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
        },
        created_at: 0,
        created_by: "admin".into(),
    }
}

#[tokio::test]
async fn tenants_keys_and_isolation() {
    let path = temp_db("tenants");
    let store = open(&path).await;
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

    // Another tenant cannot revoke acme's key.
    assert!(matches!(
        store.revoke_key("globex", &invoke.key.id).await,
        Err(StoreError::NotFound(_))
    ));
    store.revoke_key("acme", &invoke.key.id).await.unwrap();
    assert!(store.key_for_token(&invoke.token).await.unwrap().is_none());

    // The token itself is not in the database file.
    store.close().await;
    let bytes = std::fs::read(&path).unwrap();
    let wal = std::fs::read(path.with_extension("db-wal")).unwrap_or_default();
    for file in [&bytes, &wal] {
        assert!(
            !file
                .windows(manage.token.len())
                .any(|w| w == manage.token.as_bytes())
        );
    }

    let store = open(&path).await;
    store.delete_tenant("acme").await.unwrap();
    assert!(matches!(
        store.tenant("acme").await,
        Err(StoreError::NotFound(_))
    ));
    assert!(store.key_for_token(&manage.token).await.unwrap().is_none());
}

#[tokio::test]
async fn functions_versions_deploy_and_order() {
    let store = open(&temp_db("functions")).await;
    store.create_tenant(&tenant("acme")).await.unwrap();
    let created = store
        .create_function("acme", "allow", &version("v1"), 10, true)
        .await
        .unwrap();
    assert_eq!(
        (created.latest.version, created.deployed_version),
        (1, Some(1))
    );
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
    let promoted = store.deploy("acme", "allow", 2).await.unwrap();
    assert_eq!(promoted.deployed_version, Some(2));
    let rolled_back = store.deploy("acme", "allow", 1).await.unwrap();
    assert_eq!(rolled_back.deployed_version, Some(1));
    assert_ne!(promoted.etag(), rolled_back.etag());
    assert!(matches!(
        store.deploy("acme", "allow", 9).await,
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(
        store.version("acme", "allow", 1).await.unwrap().source,
        "v1"
    );
    let versions = store.versions("acme", "allow").await.unwrap();
    assert_eq!(
        versions.iter().map(|v| v.version).collect::<Vec<_>>(),
        [1, 2]
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

    store.delete_function("acme", "allow").await.unwrap();
    assert!(matches!(
        store.function("acme", "allow").await,
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        store.versions("acme", "allow").await,
        Err(StoreError::NotFound(_))
    ));
}

#[tokio::test]
async fn secrets_are_sealed_in_the_file() {
    let path = temp_db("secrets");
    let store = open(&path).await;
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
    assert_eq!(env[1].key, "SLACK");
    assert_eq!(env[1].value, plaintext);
    assert!(env[1].secret);
    assert!(store.env("globex").await.unwrap().is_empty());
    assert!(matches!(
        store.set_env("globex", "X", "y", false).await,
        Err(StoreError::NotFound(_))
    ));
    store.close().await;
    for suffix in ["db", "db-wal", "db-shm"] {
        let bytes = std::fs::read(path.with_extension(suffix)).unwrap_or_default();
        assert!(
            !bytes
                .windows(plaintext.len())
                .any(|w| w == plaintext.as_bytes()),
            "the plaintext is in {suffix}"
        );
    }
    // Another master key cannot open it.
    let other = SqliteStore::open(&path, SecretBox::new(&[1; 32]))
        .await
        .unwrap();
    assert!(matches!(
        other.env("acme").await,
        Err(StoreError::Backend(_))
    ));
}

#[tokio::test]
async fn allow_lists_audit_and_reopening() {
    let path = temp_db("reopen");
    {
        let store = open(&path).await;
        store.create_tenant(&tenant("acme")).await.unwrap();
        assert!(store.fetch_allow("acme").await.unwrap().is_empty());
        store
            .set_fetch_allow("acme", &["https://hooks.slack.com/*".into()])
            .await
            .unwrap();
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
        store.close().await;
    }
    // Migrations run again on an existing file without harm; state is back.
    let store = open(&path).await;
    assert_eq!(
        store.fetch_allow("acme").await.unwrap(),
        ["https://hooks.slack.com/*"]
    );
    let log = store.audit_log("acme", 10).await.unwrap();
    assert_eq!(log[0].action, "function.deploy");
    assert_eq!(log[1].version, Some(1));
    assert_eq!(
        store
            .function("acme", "allow")
            .await
            .unwrap()
            .deployed_version,
        Some(1)
    );
}

#[tokio::test]
async fn snapshots_are_kept_once_per_key() {
    let store = open(&temp_db("snapshots")).await;
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

#[tokio::test]
async fn execution_history_filters_pages_and_prunes() {
    let store = open(&temp_db("executions")).await;
    store.create_tenant(&tenant("acme")).await.unwrap();
    store.create_tenant(&tenant("globex")).await.unwrap();
    let record = |tenant: &str, at: i64, trigger: &str, functions: &[&str], outcome: &str| {
        authpipe_store::ExecutionRecord {
            id: format!("{at:012x}{:04x}", at % 7),
            tenant: tenant.into(),
            at,
            trigger: Some(trigger.into()),
            functions: functions.iter().map(|f| f.to_string()).collect(),
            outcome: outcome.into(),
            json: format!("{{\"at\":{at}}}"),
        }
    };
    let records: Vec<_> = (1..=10)
        .map(|at| {
            let function = if at % 2 == 0 { "even" } else { "odd" };
            let outcome = if at % 5 == 0 { "deny" } else { "allow" };
            record("acme", at, "pre-register", &["first", function], outcome)
        })
        .chain([record("globex", 11, "pre-register", &["even"], "allow")])
        .collect();
    store.record_executions(&records).await.unwrap();
    let query = |function: Option<&str>, outcome: Option<&str>, before: Option<String>, limit| {
        authpipe_store::ExecutionQuery {
            trigger: None,
            function: function.map(str::to_string),
            outcome: outcome.map(str::to_string),
            before,
            limit,
        }
    };
    let ats =
        |list: Vec<authpipe_store::ExecutionRecord>| list.iter().map(|r| r.at).collect::<Vec<_>>();
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
    let one = store.execution("acme", &records[0].id).await.unwrap();
    assert_eq!(one.json, "{\"at\":1}");
    assert!(store.execution("globex", &records[0].id).await.is_err());

    assert_eq!(store.prune_executions("acme", 4, 0).await.unwrap(), 6);
    assert_eq!(store.prune_executions("acme", 100, 9).await.unwrap(), 2);
    let left = store
        .executions("acme", &query(None, None, None, 100))
        .await
        .unwrap();
    assert_eq!(ats(left), [10, 9]);
    assert_eq!(
        store
            .executions("globex", &query(None, None, None, 100))
            .await
            .unwrap()
            .len(),
        1
    );
}
