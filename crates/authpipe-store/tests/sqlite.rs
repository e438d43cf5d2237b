//! The store's behaviour (`common`) on SQLite files.

#[macro_use]
mod common;

use authpipe_store::{AnyStore, SecretBox, SqliteStore, Store, Tenant, now_ms};
use common::Harness;
use std::path::PathBuf;

/// A database file in a directory of its own.
struct Sqlite {
    path: PathBuf,
}

impl Harness for Sqlite {
    type S = SqliteStore;

    async fn new(label: &str) -> Self {
        Sqlite {
            path: temp_dir(label).join("authpipe.db"),
        }
    }

    async fn open_with(&self, key: [u8; 32]) -> SqliteStore {
        SqliteStore::open(&self.path, SecretBox::new(&key))
            .await
            .unwrap()
    }

    async fn close(&self, store: SqliteStore) {
        store.close().await;
    }

    async fn stored_contains(&self, needle: &[u8]) -> bool {
        ["db", "db-wal", "db-shm"].iter().any(|suffix| {
            std::fs::read(self.path.with_extension(suffix))
                .unwrap_or_default()
                .windows(needle.len())
                .any(|w| w == needle)
        })
    }
}

impl Drop for Sqlite {
    fn drop(&mut self) {
        if let Some(dir) = self.path.parent() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

fn temp_dir(label: &str) -> PathBuf {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir =
        std::env::temp_dir().join(format!("authpipe-store-{label}-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

store_tests!(Sqlite:
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

#[tokio::test]
async fn any_store_opens_a_file_with_a_key_file_beside_it() {
    let dir = temp_dir("any");
    let path = dir.join("platform.db");
    let spec = path.to_str().unwrap();
    fn send<T: Send>(value: T) -> T {
        value
    }
    let store = send(AnyStore::open(spec, 4, None)).await.unwrap();
    assert!(!store.is_postgres());
    assert!(store.changes().await.unwrap().is_none());
    store.create_tenant(&common::tenant("acme")).await.unwrap();
    store.set_env("acme", "S", "sealed", true).await.unwrap();
    store.close().await;
    assert!(dir.join("platform.db.key").is_file());
    // The key file is reused: the secret opens again.
    let again = AnyStore::open(spec, 4, Some("")).await.unwrap();
    assert_eq!(again.env("acme").await.unwrap()[0].value, "sealed");
    again.close().await;
    // AUTHPIPE_MASTER_KEY wins over the file (so this key cannot open it).
    let other = AnyStore::open(spec, 4, Some(&"ab".repeat(32)))
        .await
        .unwrap();
    assert!(other.env("acme").await.is_err());
    let error = AnyStore::open(spec, 4, Some("not hex")).await.unwrap_err();
    assert!(
        format!("{error:#}").contains("AUTHPIPE_MASTER_KEY"),
        "{error:#}"
    );
    let tenant: Tenant = other.tenant("acme").await.unwrap();
    assert!(tenant.created_at <= now_ms());
    other.close().await;
    let _ = std::fs::remove_dir_all(&dir);
}
