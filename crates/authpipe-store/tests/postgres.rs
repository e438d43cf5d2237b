//! The store's behaviour (`common`) on PostgreSQL, plus what only the
//! Postgres store does (change notifications, the retention lock).
//!
//! One throwaway cluster per test binary (`scripts/postgres.sh start`, on a
//! free port), one fresh database per test. A watchdog process stops the
//! cluster when this process exits, however it exits. Without PostgreSQL
//! installed these tests fail with the script's message.

#[macro_use]
mod common;

use authpipe_store::{AnyStore, PgStore, Role, SecretBox, Store, StoreError};
use common::{Harness, tenant, version};
use sqlx::{Connection, PgConnection};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/postgres.sh");

/// The running cluster.
struct Cluster {
    /// `postgres://postgres@127.0.0.1:PORT` (no database).
    server: String,
    /// Waits for this process to exit (its stdin closes), then stops the
    /// cluster. Held, never used, so the pipe stays open until exit.
    _watchdog: Child,
}

/// The cluster, started by the first test that needs it. A failure to start
/// it fails every test with the script's message.
fn cluster() -> &'static Cluster {
    static CLUSTER: OnceLock<Cluster> = OnceLock::new();
    CLUSTER.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("authpipe-pg-{}", std::process::id()));
        // Left over from an earlier process with this id: stop and remove.
        let _ = Command::new("bash")
            .args([SCRIPT, "stop"])
            .arg(&dir)
            .stderr(Stdio::null())
            .status();
        // The watchdog first: whatever happens next, it cleans up.
        use std::os::unix::process::CommandExt;
        let watchdog = Command::new("bash")
            .arg("-c")
            .arg("read -r _ || true; exec bash \"$0\" stop \"$1\"")
            .arg(SCRIPT)
            .arg(&dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            // Its own process group, so a Ctrl-C of `cargo test` does not
            // stop it before it stops the cluster.
            .process_group(0)
            .spawn()
            .expect("bash runs");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let output = Command::new("bash")
            .args([SCRIPT, "start"])
            .arg(&dir)
            .arg(port.to_string())
            .output()
            .expect("bash runs");
        if !output.status.success() {
            panic!(
                "scripts/postgres.sh start failed: {}",
                String::from_utf8_lossy(&output.stderr).trim()
            );
        }
        let url = String::from_utf8(output.stdout).unwrap();
        let url = url.trim();
        let server = url
            .strip_suffix("/authpipe")
            .unwrap_or_else(|| panic!("unexpected URL {url:?}"))
            .to_string();
        Cluster {
            server,
            _watchdog: watchdog,
        }
    })
}

/// A fresh database on the cluster.
struct Postgres {
    url: String,
}

impl Postgres {
    async fn connect(&self) -> PgConnection {
        PgConnection::connect(&self.url).await.unwrap()
    }
}

impl Harness for Postgres {
    type S = PgStore;

    async fn new(label: &str) -> Self {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let server = &cluster().server;
        let name = format!(
            "t_{}_{}",
            label.replace('-', "_"),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let mut admin = PgConnection::connect(&format!("{server}/postgres"))
            .await
            .unwrap();
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await
            .unwrap();
        admin.close().await.unwrap();
        Postgres {
            url: format!("{server}/{name}"),
        }
    }

    async fn open_with(&self, key: [u8; 32]) -> PgStore {
        PgStore::connect(&self.url, 4, SecretBox::new(&key))
            .await
            .unwrap()
    }

    async fn close(&self, store: PgStore) {
        store.close().await;
    }

    async fn stored_contains(&self, needle: &[u8]) -> bool {
        // Every row of every table as text (bytea shows as \x + hex).
        let hex: String = needle.iter().map(|b| format!("{b:02x}")).collect();
        let text = String::from_utf8_lossy(needle).into_owned();
        let mut connection = self.connect().await;
        let tables: Vec<String> =
            sqlx::query_scalar("SELECT tablename::text FROM pg_tables WHERE schemaname = 'public'")
                .fetch_all(&mut connection)
                .await
                .unwrap();
        assert!(tables.len() >= 8, "{tables:?}");
        for table in tables {
            let found: bool = sqlx::query_scalar(&format!(
                "SELECT EXISTS (SELECT 1 FROM {table} t \
                 WHERE strpos(t::text, $1) > 0 OR strpos(t::text, $2) > 0)"
            ))
            .bind(&text)
            .bind(&hex)
            .fetch_one(&mut connection)
            .await
            .unwrap();
            if found {
                return true;
            }
        }
        false
    }
}

store_tests!(Postgres:
    tenants_keys_and_isolation,
    tenant_updates,
    functions_versions_deploy_and_order,
    secrets_are_sealed_in_the_database,
    allow_lists_audit_and_reopening,
    snapshots_are_kept_once_per_key,
    execution_history_filters_pages_and_prunes,
    many_executions_in_one_batch,
    live_nodes_count_recent_heartbeats,
    concurrent_pruners_prune_once,
    concurrent_deploys_leave_one_winner,
    concurrent_new_versions_do_not_collide,
);

/// The next change on `feed`, failing after a few seconds.
async fn next_change(feed: &mut authpipe_store::ChangeFeed) -> String {
    tokio::time::timeout(Duration::from_secs(5), feed.next())
        .await
        .expect("a change notification within 5 s")
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_are_notified_to_other_handles_on_commit() {
    let db = Postgres::new("changes").await;
    let (store, other) = (db.open().await, db.open().await);
    let mut feed = other.changes().await.unwrap();

    store.create_tenant(&tenant("acme")).await.unwrap();
    assert_eq!(next_change(&mut feed).await, "acme");
    // A failed change (rolled back) sends nothing, nor do executions,
    // audit entries, snapshots, key use and heartbeats: the next
    // notification is the next successful change's.
    assert!(matches!(
        store.create_tenant(&tenant("acme")).await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        store.set_env("nobody", "K", "v", false).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        store.revoke_key("acme", "key_missing").await,
        Err(StoreError::NotFound(_))
    ));
    store
        .record_executions(&[common::record("acme", 1, "pre-register", &["f"], "allow")])
        .await
        .unwrap();
    store.prune_executions("acme", 0, 0).await.unwrap();
    store
        .audit(
            "acme",
            &authpipe_store::AuditEntry {
                at: 1,
                actor: "admin".into(),
                action: "tenant.create".into(),
                target: "acme".into(),
                version: None,
            },
        )
        .await
        .unwrap();
    store.put_snapshot("k", b"s").await.unwrap();
    store.heartbeat("node", 1).await.unwrap();
    store.create_tenant(&tenant("globex")).await.unwrap();
    assert_eq!(next_change(&mut feed).await, "globex");

    // Every change of a tenant's state notifies, once committed.
    let key = store.create_key("acme", "ci", Role::Manage).await.unwrap();
    store.note_key_use(&key.key.id, 5).await.unwrap();
    let mut acme = tenant("acme");
    acme.name = "Acme Inc.".into();
    store.update_tenant(&acme).await.unwrap();
    store.revoke_key("acme", &key.key.id).await.unwrap();
    store
        .create_function("acme", "f", &version("v1"), 0, true)
        .await
        .unwrap();
    store
        .add_version("acme", "f", &version("v2"), None, false)
        .await
        .unwrap();
    store.deploy("acme", "f", 2).await.unwrap();
    store.set_run_order("acme", "f", 5).await.unwrap();
    store.set_order("acme", &["f".into()]).await.unwrap();
    store.set_env("acme", "K", "v", true).await.unwrap();
    store.delete_env("acme", "K").await.unwrap();
    store.set_fetch_allow("acme", &[]).await.unwrap();
    store.delete_function("acme", "f").await.unwrap();
    store.delete_tenant("globex").await.unwrap();
    let expected = [
        "acme", // create_key
        "acme", // update_tenant
        "acme", // revoke_key
        "acme", // create_function
        "acme", // add_version
        "acme", // deploy
        "acme", // set_run_order
        "acme", // set_order
        "acme", // set_env
        "acme", // delete_env
        "acme", // set_fetch_allow
        "acme", // delete_function
        "globex",
    ];
    for (i, want) in expected.iter().enumerate() {
        assert_eq!(next_change(&mut feed).await, *want, "change {i}");
    }
    // Nothing more.
    assert!(
        tokio::time::timeout(Duration::from_millis(300), feed.next())
            .await
            .is_err()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_notification_is_sent_only_when_its_change_commits() {
    let db = Postgres::new("commit").await;
    let store = db.open().await;
    store.create_tenant(&tenant("acme")).await.unwrap();
    let mut feed = store.changes().await.unwrap();
    // Hold a lock the change needs: its notification waits with it.
    let mut blocker = db.connect().await;
    sqlx::query("BEGIN").execute(&mut blocker).await.unwrap();
    sqlx::query("SELECT 1 FROM tenants WHERE id = 'acme' FOR UPDATE")
        .execute(&mut blocker)
        .await
        .unwrap();
    let writer = {
        let store = store.clone();
        tokio::spawn(async move { store.update_tenant(&tenant("acme")).await })
    };
    assert!(
        tokio::time::timeout(Duration::from_millis(500), feed.next())
            .await
            .is_err(),
        "notified before the change committed"
    );
    sqlx::query("COMMIT").execute(&mut blocker).await.unwrap();
    writer.await.unwrap().unwrap();
    assert_eq!(next_change(&mut feed).await, "acme");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_node_prunes_at_a_time() {
    let db = Postgres::new("retention").await;
    let store = db.open().await;
    let records: Vec<_> = (1..=20)
        .map(|at| common::record("acme", at, "pre-register", &["f"], "allow"))
        .collect();
    store.record_executions(&records).await.unwrap();
    // Another node holds the retention lock: this one prunes nothing.
    let mut other_node = db.connect().await;
    sqlx::query("BEGIN").execute(&mut other_node).await.unwrap();
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(PgStore::RETENTION_LOCK)
        .execute(&mut other_node)
        .await
        .unwrap();
    assert_eq!(store.prune_executions("acme", 5, 0).await.unwrap(), 0);
    let all = authpipe_store::ExecutionQuery {
        limit: 100,
        ..Default::default()
    };
    assert_eq!(store.executions("acme", &all).await.unwrap().len(), 20);
    sqlx::query("COMMIT")
        .execute(&mut other_node)
        .await
        .unwrap();
    assert_eq!(store.prune_executions("acme", 5, 0).await.unwrap(), 15);
    // The lock ends with the transaction: the next prune may run.
    assert_eq!(store.prune_executions("acme", 2, 0).await.unwrap(), 3);
}

#[tokio::test]
async fn an_unreachable_database_is_named_in_the_error() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap()
        .port();
    let url = format!("postgres://postgres:hunter2@127.0.0.1:{port}/authpipe");
    let started = std::time::Instant::now();
    let error = PgStore::connect(&url, 2, SecretBox::new(&[0; 32]))
        .await
        .unwrap_err();
    let message = format!("{error:#}");
    assert!(message.contains(&format!("127.0.0.1:{port}")), "{message}");
    assert!(message.to_lowercase().contains("refused"), "{message}");
    assert!(!message.contains("hunter2"), "{message}");
    assert!(started.elapsed() < Duration::from_secs(5), "fails fast");
}

#[tokio::test]
async fn any_store_connects_to_postgres_with_the_master_key() {
    let db = Postgres::new("any").await;
    let error = AnyStore::open(&db.url, 2, None).await.unwrap_err();
    assert!(
        format!("{error:#}").contains("AUTHPIPE_MASTER_KEY must be set"),
        "{error:#}"
    );
    let key = "42".repeat(32);
    // What the server spawns must be Send.
    fn send<T: Send>(value: T) -> T {
        value
    }
    let store = send(AnyStore::open(&db.url, 2, Some(&key))).await.unwrap();
    assert!(store.is_postgres());
    let mut feed = send(store.changes()).await.unwrap().expect("a change feed");
    let listening = tokio::spawn(async move { feed.next().await });
    store.create_tenant(&tenant("acme")).await.unwrap();
    store.set_env("acme", "S", "sealed", true).await.unwrap();
    let changed = tokio::time::timeout(Duration::from_secs(5), listening).await;
    assert_eq!(changed.unwrap().unwrap().unwrap(), "acme");
    // Sealed with the same key as PgStore with [0x42; 32].
    let direct = PgStore::connect(&db.url, 2, SecretBox::new(&[0x42; 32]))
        .await
        .unwrap();
    assert_eq!(direct.env("acme").await.unwrap()[0].value, "sealed");
    let postgresql = db.url.replacen("postgres://", "postgresql://", 1);
    let again = AnyStore::open(&postgresql, 2, Some(&key)).await.unwrap();
    assert!(again.is_postgres());
    assert_eq!(again.tenants().await.unwrap().len(), 1);
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_migrating_at_once_do_not_collide() {
    let db = Postgres::new("migrate").await;
    let opens: Vec<_> = (0..4)
        .map(|_| {
            let url = db.url.clone();
            tokio::spawn(async move { PgStore::connect(&url, 1, SecretBox::new(&[1; 32])).await })
        })
        .collect();
    for open in opens {
        let store = open.await.unwrap().unwrap();
        assert!(store.tenants().await.unwrap().is_empty());
    }
}
