//! One store type for either backend, chosen by the store's spec at start.

use crate::models::{
    ApiKey, AuditEntry, EnvValue, ExecutionQuery, ExecutionRecord, FunctionRecord, FunctionVersion,
    NewKey, Role, Tenant,
};
use crate::postgres::{ChangeFeed, PgStore};
use crate::secrets::SecretBox;
use crate::sqlite::SqliteStore;
use crate::{Result, Store};
use anyhow::Context;
use std::path::Path;

/// The SQLite store or the PostgreSQL one.
#[derive(Debug, Clone)]
pub enum AnyStore {
    /// One SQLite file (one server node).
    Sqlite(SqliteStore),
    /// A PostgreSQL database (any number of server nodes).
    Postgres(PgStore),
}

impl AnyStore {
    /// Opens the store `spec` names: a `postgres://` or `postgresql://` URL
    /// connects to PostgreSQL with a pool of at most `pool_size`
    /// connections; anything else is the path of a SQLite file (its pool
    /// is fixed; `pool_size` is not used).
    ///
    /// `master_key` is the value of `AUTHPIPE_MASTER_KEY` (64 hex digits),
    /// if set. SQLite falls back to a 0600 key file beside the database
    /// (`<file name>.key`, created with a random key the first time);
    /// PostgreSQL has no such place, so there it is required.
    pub async fn open(
        spec: &str,
        pool_size: u32,
        master_key: Option<&str>,
    ) -> anyhow::Result<Self> {
        let master_key = master_key.filter(|key| !key.is_empty());
        if Self::is_postgres_spec(spec) {
            let key = master_key.context(
                "AUTHPIPE_MASTER_KEY must be set to use a PostgreSQL store: secrets are sealed \
                 with it and, unlike a SQLite file, a database server has no key file beside it \
                 (make one with `openssl rand -hex 32`; every node needs the same key)",
            )?;
            let secrets = SecretBox::from_hex(key, "AUTHPIPE_MASTER_KEY")
                .context("cannot set up the master key for secrets")?;
            return Ok(Self::Postgres(
                PgStore::connect(spec, pool_size, secrets).await?,
            ));
        }
        let path = Path::new(spec);
        let key_file = path.with_file_name(format!(
            "{}.key",
            path.file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("authpipe.db")
        ));
        let secrets = SecretBox::from_env_or_file(master_key, &key_file)
            .context("cannot set up the master key for secrets")?;
        Ok(Self::Sqlite(SqliteStore::open(path, secrets).await?))
    }

    /// True when `spec` names a PostgreSQL database (a `postgres://` or
    /// `postgresql://` URL).
    pub fn is_postgres_spec(spec: &str) -> bool {
        spec.starts_with("postgres://") || spec.starts_with("postgresql://")
    }

    /// True for the PostgreSQL store.
    pub fn is_postgres(&self) -> bool {
        matches!(self, Self::Postgres(_))
    }

    /// Change notifications of the PostgreSQL store; `None` for SQLite
    /// (one node: it makes every change itself).
    pub async fn changes(&self) -> Result<Option<ChangeFeed>> {
        match self {
            Self::Sqlite(_) => Ok(None),
            Self::Postgres(store) => store.changes().await.map(Some),
        }
    }

    /// Closes the pool (waits for connections to finish).
    pub async fn close(&self) {
        match self {
            Self::Sqlite(store) => store.close().await,
            Self::Postgres(store) => store.close().await,
        }
    }
}

/// Implements each listed [`Store`] method by calling the backend's.
macro_rules! delegate {
    ($(fn $method:ident(&self $(, $arg:ident: $ty:ty)*) -> $out:ty;)*) => {
        $(
            async fn $method(&self $(, $arg: $ty)*) -> $out {
                match self {
                    AnyStore::Sqlite(store) => store.$method($($arg),*).await,
                    AnyStore::Postgres(store) => store.$method($($arg),*).await,
                }
            }
        )*
    };
}

impl Store for AnyStore {
    delegate! {
        fn create_tenant(&self, tenant: &Tenant) -> Result<()>;
        fn tenant(&self, id: &str) -> Result<Tenant>;
        fn tenants(&self) -> Result<Vec<Tenant>>;
        fn update_tenant(&self, tenant: &Tenant) -> Result<()>;
        fn delete_tenant(&self, id: &str) -> Result<()>;
        fn create_key(&self, tenant: &str, name: &str, role: Role) -> Result<NewKey>;
        fn keys(&self, tenant: &str) -> Result<Vec<ApiKey>>;
        fn revoke_key(&self, tenant: &str, id: &str) -> Result<()>;
        fn key_for_token(&self, token: &str) -> Result<Option<ApiKey>>;
        fn note_key_use(&self, id: &str, at: i64) -> Result<()>;
        fn create_function(
            &self,
            tenant: &str,
            name: &str,
            version: &FunctionVersion,
            run_order: i64,
            deploy: bool
        ) -> Result<FunctionRecord>;
        fn add_version(
            &self,
            tenant: &str,
            name: &str,
            version: &FunctionVersion,
            expected_latest: Option<i64>,
            deploy: bool
        ) -> Result<FunctionRecord>;
        fn deploy(&self, tenant: &str, name: &str, version: i64) -> Result<FunctionRecord>;
        fn function(&self, tenant: &str, name: &str) -> Result<FunctionRecord>;
        fn functions(&self, tenant: &str) -> Result<Vec<FunctionRecord>>;
        fn version(&self, tenant: &str, name: &str, version: i64) -> Result<FunctionVersion>;
        fn versions(&self, tenant: &str, name: &str) -> Result<Vec<FunctionVersion>>;
        fn set_run_order(&self, tenant: &str, name: &str, run_order: i64) -> Result<FunctionRecord>;
        fn set_order(&self, tenant: &str, names: &[String]) -> Result<()>;
        fn delete_function(&self, tenant: &str, name: &str) -> Result<()>;
        fn set_env(&self, tenant: &str, key: &str, value: &str, secret: bool) -> Result<()>;
        fn env(&self, tenant: &str) -> Result<Vec<EnvValue>>;
        fn delete_env(&self, tenant: &str, key: &str) -> Result<()>;
        fn set_fetch_allow(&self, tenant: &str, allow: &[String]) -> Result<()>;
        fn fetch_allow(&self, tenant: &str) -> Result<Vec<String>>;
        fn put_snapshot(&self, key: &str, snapshot: &[u8]) -> Result<()>;
        fn snapshot(&self, key: &str) -> Result<Option<Vec<u8>>>;
        fn record_executions(&self, records: &[ExecutionRecord]) -> Result<()>;
        fn executions(&self, tenant: &str, query: &ExecutionQuery) -> Result<Vec<ExecutionRecord>>;
        fn execution(&self, tenant: &str, id: &str) -> Result<ExecutionRecord>;
        fn prune_executions(&self, tenant: &str, keep: u64, before_ms: i64) -> Result<u64>;
        fn audit(&self, tenant: &str, entry: &AuditEntry) -> Result<()>;
        fn audit_log(&self, tenant: &str, limit: u32) -> Result<Vec<AuditEntry>>;
        fn heartbeat(&self, node: &str, at_ms: i64) -> Result<()>;
        fn live_nodes(&self, since_ms: i64) -> Result<u32>;
    }
}
