//! The platform's store: tenants, their API keys, functions with immutable
//! versions, env values and secrets, fetch allow-lists and the audit log.
//!
//! * [`Store`]: the one trait the server is written against; every
//!   operation is scoped to a tenant, so one tenant's data is never
//!   reachable through another's id.
//! * [`SqliteStore`]: the embedded backend (one file, WAL, migrations
//!   applied at open, so an older database upgrades in place).
//! * [`PgStore`]: PostgreSQL, for several server nodes on one database
//!   (the same behaviour, plus change notifications, [`ChangeFeed`]).
//! * [`AnyStore`]: either, chosen by the store's spec at start.
//! * [`SecretBox`]: secrets are sealed with XChaCha20-Poly1305 before they
//!   reach the database; the plaintext never touches the file.
//!
//! The runtime (`authpipe`) does not depend on this crate.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod any;
mod models;
mod postgres;
mod secrets;
mod sqlite;

pub use any::AnyStore;

pub use models::{
    ApiKey, AuditEntry, EnvValue, ExecutionQuery, ExecutionRecord, FunctionRecord,
    FunctionSettings, FunctionVersion, NewKey, Quotas, Role, Tenant,
};
pub use postgres::{CHANGES_CHANNEL, ChangeFeed, PgStore};
pub use secrets::{MasterKeyError, SecretBox};
pub use sqlite::SqliteStore;

use std::future::Future;

/// Why a store operation failed, for callers that branch on it.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The tenant, key, function, version or env value does not exist.
    #[error("{0} not found")]
    NotFound(String),
    /// Something with this id or name exists already.
    #[error("{0} already exists")]
    Conflict(String),
    /// The caller's expectation (an ETag, a version) no longer holds.
    #[error("{0}")]
    Precondition(String),
    /// The database failed; the message is for logs, not for clients.
    #[error("store failure: {0:#}")]
    Backend(#[from] anyhow::Error),
}

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        match error {
            sqlx::Error::RowNotFound => StoreError::NotFound("the record".into()),
            other => StoreError::Backend(other.into()),
        }
    }
}

/// The result of store operations.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// The platform's state. Every method is one transaction.
pub trait Store: Send + Sync + 'static {
    /// Creates a tenant (409 [`StoreError::Conflict`] if the id is taken).
    fn create_tenant(&self, tenant: &Tenant) -> impl Future<Output = Result<()>> + Send;
    /// One tenant.
    fn tenant(&self, id: &str) -> impl Future<Output = Result<Tenant>> + Send;
    /// Every tenant, by id.
    fn tenants(&self) -> impl Future<Output = Result<Vec<Tenant>>> + Send;
    /// Replaces a tenant's name and quotas.
    fn update_tenant(&self, tenant: &Tenant) -> impl Future<Output = Result<()>> + Send;
    /// Deletes a tenant and everything it owns.
    fn delete_tenant(&self, id: &str) -> impl Future<Output = Result<()>> + Send;

    /// Creates an API key; the token is returned once, only its hash kept.
    fn create_key(
        &self,
        tenant: &str,
        name: &str,
        role: Role,
    ) -> impl Future<Output = Result<NewKey>> + Send;
    /// A tenant's keys (without tokens).
    fn keys(&self, tenant: &str) -> impl Future<Output = Result<Vec<ApiKey>>> + Send;
    /// Revokes a key at once.
    fn revoke_key(&self, tenant: &str, id: &str) -> impl Future<Output = Result<()>> + Send;
    /// The key a token belongs to, or `None`.
    fn key_for_token(&self, token: &str) -> impl Future<Output = Result<Option<ApiKey>>> + Send;
    /// Notes that key `id` was used at `at` (ms).
    fn note_key_use(&self, id: &str, at: i64) -> impl Future<Output = Result<()>> + Send;

    /// Creates a function with its first version (deployed unless
    /// `deploy` is false).
    fn create_function(
        &self,
        tenant: &str,
        name: &str,
        version: &FunctionVersion,
        run_order: i64,
        deploy: bool,
    ) -> impl Future<Output = Result<FunctionRecord>> + Send;
    /// Adds the next version of a function, deployed unless `deploy` is
    /// false. `expected_latest` guards against a concurrent edit.
    fn add_version(
        &self,
        tenant: &str,
        name: &str,
        version: &FunctionVersion,
        expected_latest: Option<i64>,
        deploy: bool,
    ) -> impl Future<Output = Result<FunctionRecord>> + Send;
    /// Makes `version` the deployed one.
    fn deploy(
        &self,
        tenant: &str,
        name: &str,
        version: i64,
    ) -> impl Future<Output = Result<FunctionRecord>> + Send;
    /// One function.
    fn function(
        &self,
        tenant: &str,
        name: &str,
    ) -> impl Future<Output = Result<FunctionRecord>> + Send;
    /// A tenant's functions, by run order then name.
    fn functions(&self, tenant: &str) -> impl Future<Output = Result<Vec<FunctionRecord>>> + Send;
    /// One version of a function, with its source.
    fn version(
        &self,
        tenant: &str,
        name: &str,
        version: i64,
    ) -> impl Future<Output = Result<FunctionVersion>> + Send;
    /// Every version of a function, oldest first.
    fn versions(
        &self,
        tenant: &str,
        name: &str,
    ) -> impl Future<Output = Result<Vec<FunctionVersion>>> + Send;
    /// Sets one function's place in the run order (not a new version).
    fn set_run_order(
        &self,
        tenant: &str,
        name: &str,
        run_order: i64,
    ) -> impl Future<Output = Result<FunctionRecord>> + Send;
    /// Sets the run order of `names` (in that order), in one transaction.
    fn set_order(&self, tenant: &str, names: &[String]) -> impl Future<Output = Result<()>> + Send;
    /// Deletes a function and its versions.
    fn delete_function(&self, tenant: &str, name: &str) -> impl Future<Output = Result<()>> + Send;

    /// Sets an env value; secrets are sealed before they are stored.
    fn set_env(
        &self,
        tenant: &str,
        key: &str,
        value: &str,
        secret: bool,
    ) -> impl Future<Output = Result<()>> + Send;
    /// A tenant's env, secrets opened (for running functions only: never
    /// send a secret's value to a client).
    fn env(&self, tenant: &str) -> impl Future<Output = Result<Vec<EnvValue>>> + Send;
    /// Deletes an env value.
    fn delete_env(&self, tenant: &str, key: &str) -> impl Future<Output = Result<()>> + Send;

    /// Replaces a tenant's fetch allow-list.
    fn set_fetch_allow(
        &self,
        tenant: &str,
        allow: &[String],
    ) -> impl Future<Output = Result<()>> + Send;
    /// A tenant's fetch allow-list (empty when never set).
    fn fetch_allow(&self, tenant: &str) -> impl Future<Output = Result<Vec<String>>> + Send;

    /// Keeps a compiled snapshot under `key` (engine, file and source
    /// hash), so that no node compiles the same source twice.
    fn put_snapshot(&self, key: &str, snapshot: &[u8]) -> impl Future<Output = Result<()>> + Send;
    /// The snapshot kept under `key`, if any.
    fn snapshot(&self, key: &str) -> impl Future<Output = Result<Option<Vec<u8>>>> + Send;

    /// Appends execution records (of any tenants) in one transaction.
    fn record_executions(
        &self,
        records: &[ExecutionRecord],
    ) -> impl Future<Output = Result<()>> + Send;
    /// A tenant's execution records matching `query`, newest first.
    fn executions(
        &self,
        tenant: &str,
        query: &ExecutionQuery,
    ) -> impl Future<Output = Result<Vec<ExecutionRecord>>> + Send;
    /// One execution record.
    fn execution(
        &self,
        tenant: &str,
        id: &str,
    ) -> impl Future<Output = Result<ExecutionRecord>> + Send;
    /// Deletes a tenant's records beyond the newest `keep` and those older
    /// than `before_ms`; returns how many went.
    fn prune_executions(
        &self,
        tenant: &str,
        keep: u64,
        before_ms: i64,
    ) -> impl Future<Output = Result<u64>> + Send;

    /// Appends to a tenant's audit log.
    fn audit(&self, tenant: &str, entry: &AuditEntry) -> impl Future<Output = Result<()>> + Send;
    /// A tenant's audit log, newest first, at most `limit` entries.
    fn audit_log(
        &self,
        tenant: &str,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<AuditEntry>>> + Send;

    /// Notes that server node `node` is alive at `at_ms` (its first
    /// heartbeat also records when it started).
    fn heartbeat(&self, node: &str, at_ms: i64) -> impl Future<Output = Result<()>> + Send;
    /// How many nodes sent a heartbeat at or after `since_ms`.
    fn live_nodes(&self, since_ms: i64) -> impl Future<Output = Result<u32>> + Send;
}
