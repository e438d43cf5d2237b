//! The shared backend: PostgreSQL, for several server nodes on one
//! database.
//!
//! It behaves as [`crate::SqliteStore`] does, method for method (the same
//! errors, orderings, ETags and sealed secrets), and adds what several nodes
//! need:
//!
//! * every change to a tenant's state sends `pg_notify('authpipe_changes',
//!   <tenant id>)` inside its transaction, so the notification is delivered
//!   exactly when the change commits; [`PgStore::changes`] listens to them;
//! * [`Store::prune_executions`] runs on one node at a time (a transaction
//!   advisory lock, [`PgStore::RETENTION_LOCK`]); the others prune nothing;
//! * migrations take sqlx's advisory lock, so nodes may start together.

use crate::models::{
    ApiKey, AuditEntry, EnvValue, ExecutionQuery, ExecutionRecord, FunctionRecord,
    FunctionSettings, FunctionVersion, NewKey, Role, Tenant,
};
use crate::secrets::SecretBox;
use crate::sqlite::{
    PREFIX_CHARS, conflict_or, function_list, not_found, random_hex, secret_context, settings_json,
    token_hash, unknown_tenant_or,
};
use crate::{Result, Store, StoreError, now_ms};
use anyhow::Context;
use sqlx::postgres::{PgConnectOptions, PgListener, PgPoolOptions, PgRow};
use sqlx::{Connection, PgConnection, PgPool, Row};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

/// The channel change notifications are sent on; the payload is the id of
/// the tenant that changed.
pub const CHANGES_CHANNEL: &str = "authpipe_changes";

/// How long connecting, or waiting for a pooled connection, may take
/// before the operation fails (so an outage fails requests, not hangs
/// them).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The platform state in a PostgreSQL database, shared by any number of
/// server nodes.
#[derive(Clone)]
pub struct PgStore {
    pool: PgPool,
    /// For change feeds' connections (shared: it is large).
    options: Arc<PgConnectOptions>,
    secrets: SecretBox,
}

impl std::fmt::Debug for PgStore {
    // Not derived: the connect options hold the password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore")
            .field("server", &server(&self.options))
            .field("database", &self.options.get_database())
            .finish_non_exhaustive()
    }
}

/// `host:port` (or the socket directory and port) of `options`, for
/// messages; never the user or password.
fn server(options: &PgConnectOptions) -> String {
    match options.get_socket() {
        Some(socket) => format!("{}:{}", socket.display(), options.get_port()),
        None => format!("{}:{}", options.get_host(), options.get_port()),
    }
}

impl PgStore {
    /// The key of the transaction advisory lock
    /// [`Store::prune_executions`] takes (`ap_retn` in ASCII), so that one
    /// node prunes at a time.
    pub const RETENTION_LOCK: i64 = 0x6170_5f72_6574_6e00;

    /// Connects to the database at `url` (`postgres://user:pass@host:port/db`)
    /// with a pool of at most `pool_size` connections, and applies the
    /// migrations. Secrets are sealed with `secrets`. A server that is down
    /// or unreachable is an error naming its `host:port` and the cause.
    pub async fn connect(url: &str, pool_size: u32, secrets: SecretBox) -> anyhow::Result<Self> {
        let options = PgConnectOptions::from_str(url)
            .context("the store's URL is not a valid PostgreSQL URL")?;
        let server = server(&options);
        // One connection first, to report why the server cannot be reached
        // (the pool retries a refused connection until its timeout and then
        // only says that it timed out).
        match tokio::time::timeout(CONNECT_TIMEOUT, PgConnection::connect_with(&options)).await {
            Ok(Ok(connection)) => connection.close().await.ok(),
            Ok(Err(e)) => anyhow::bail!("cannot connect to the PostgreSQL store at {server}: {e}"),
            Err(_) => anyhow::bail!(
                "cannot connect to the PostgreSQL store at {server}: no answer within {} s",
                CONNECT_TIMEOUT.as_secs()
            ),
        };
        let pool = PgPoolOptions::new()
            .max_connections(pool_size.max(1))
            .acquire_timeout(CONNECT_TIMEOUT)
            .connect_lazy_with(options.clone());
        sqlx::migrate!("migrations/postgres")
            .run(&pool)
            .await
            .with_context(|| format!("cannot migrate the PostgreSQL store at {server}"))?;
        Ok(Self {
            pool,
            options: Arc::new(options),
            secrets,
        })
    }

    /// Closes the pool (waits for connections to finish).
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Listens to change notifications, on a connection of its own (not
    /// one of the pool's).
    pub async fn changes(&self) -> Result<ChangeFeed> {
        let pool = PgPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(CONNECT_TIMEOUT)
            .connect_lazy_with(PgConnectOptions::clone(&self.options));
        let mut listener = PgListener::connect_with(&pool).await?;
        listener.listen(CHANGES_CHANNEL).await?;
        Ok(ChangeFeed { listener })
    }
}

/// Change notifications: the ids of tenants whose state changed, as their
/// changes commit (on any node).
///
/// When the connection is lost, the feed reconnects on the next call of
/// [`ChangeFeed::next`]; notifications sent while it was disconnected are
/// lost, which is why callers also reload everything periodically rather
/// than rely on the feed alone.
#[derive(Debug)]
pub struct ChangeFeed {
    listener: PgListener,
}

impl ChangeFeed {
    /// Waits for the next change; returns its tenant's id. An error means
    /// the database could not be reached (call again to retry).
    pub async fn next(&mut self) -> Result<String> {
        let notification = self.listener.recv().await?;
        Ok(notification.payload().to_string())
    }
}

/// Tells listeners that `tenant` changed, when the transaction commits.
async fn notify(connection: &mut PgConnection, tenant: &str) -> Result<()> {
    sqlx::query("SELECT pg_notify($1, $2)")
        .bind(CHANGES_CHANNEL)
        .bind(tenant)
        .execute(connection)
        .await?;
    Ok(())
}

fn tenant_row(row: &PgRow) -> Result<Tenant> {
    let quotas: String = row.try_get("quotas")?;
    Ok(Tenant {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        quotas: serde_json::from_str(&quotas).context("stored quotas are not JSON")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

fn key_row(row: &PgRow) -> Result<ApiKey> {
    let role: String = row.try_get("role")?;
    Ok(ApiKey {
        id: row.try_get("id")?,
        tenant: row.try_get("tenant_id")?,
        name: row.try_get("name")?,
        role: Role::parse(&role).context("a stored key has an unknown role")?,
        prefix: row.try_get("prefix")?,
        created_at: row.try_get("created_at")?,
        last_used_at: row.try_get("last_used_at")?,
    })
}

fn version_row(row: &PgRow) -> Result<FunctionVersion> {
    let settings: String = row.try_get("settings")?;
    Ok(FunctionVersion {
        version: row.try_get("version")?,
        source: row.try_get("source")?,
        sha256: row.try_get("sha256")?,
        settings: serde_json::from_str::<FunctionSettings>(&settings)
            .context("stored settings are not JSON")?,
        created_at: row.try_get("created_at")?,
        created_by: row.try_get("created_by")?,
    })
}

const FUNCTION_SELECT: &str = "SELECT f.tenant_id, f.name, f.run_order, f.deployed_version, \
     f.created_at AS f_created, f.updated_at AS f_updated, v.version, v.source, v.sha256, \
     v.settings, v.created_at, v.created_by \
     FROM functions f JOIN function_versions v \
     ON v.tenant_id = f.tenant_id AND v.name = f.name AND v.version = f.latest_version";

fn function_row(row: &PgRow) -> Result<FunctionRecord> {
    Ok(FunctionRecord {
        tenant: row.try_get("tenant_id")?,
        name: row.try_get("name")?,
        run_order: row.try_get("run_order")?,
        latest: version_row(row)?,
        deployed_version: row.try_get("deployed_version")?,
        created_at: row.try_get("f_created")?,
        updated_at: row.try_get("f_updated")?,
    })
}

/// One function, read on `connection` (inside a change's transaction, so
/// the record returned is the one the change made).
async fn function_on(
    connection: &mut PgConnection,
    tenant: &str,
    name: &str,
) -> Result<FunctionRecord> {
    let row = sqlx::query(&format!(
        "{FUNCTION_SELECT} WHERE f.tenant_id = $1 AND f.name = $2"
    ))
    .bind(tenant)
    .bind(name)
    .fetch_one(connection)
    .await
    .map_err(not_found(format!("function {name:?}")))?;
    function_row(&row)
}

fn execution_row(row: &PgRow) -> Result<ExecutionRecord> {
    let functions: String = row.try_get("functions")?;
    Ok(ExecutionRecord {
        id: row.try_get("id")?,
        tenant: row.try_get("tenant_id")?,
        at: row.try_get("at")?,
        trigger: row.try_get("trigger_name")?,
        functions: functions
            .split('|')
            .filter(|f| !f.is_empty())
            .map(str::to_string)
            .collect(),
        outcome: row.try_get("outcome")?,
        json: row.try_get("record")?,
    })
}

async fn insert_version(
    connection: &mut PgConnection,
    tenant: &str,
    name: &str,
    number: i64,
    version: &FunctionVersion,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO function_versions (tenant_id, name, version, source, sha256, settings, created_at, created_by) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(tenant)
    .bind(name)
    .bind(number)
    .bind(&version.source)
    .bind(&version.sha256)
    .bind(settings_json(&version.settings)?)
    .bind(now)
    .bind(&version.created_by)
    .execute(connection)
    .await?;
    Ok(())
}

impl Store for PgStore {
    async fn create_tenant(&self, tenant: &Tenant) -> Result<()> {
        let quotas = serde_json::to_string(&tenant.quotas).context("encoding quotas")?;
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO tenants (id, name, quotas, created_at, updated_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&tenant.id)
        .bind(&tenant.name)
        .bind(quotas)
        .bind(tenant.created_at)
        .bind(tenant.updated_at)
        .execute(&mut *tx)
        .await
        .map_err(conflict_or(format!("tenant {:?}", tenant.id)))?;
        notify(&mut tx, &tenant.id).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn tenant(&self, id: &str) -> Result<Tenant> {
        let row = sqlx::query("SELECT * FROM tenants WHERE id = $1")
            .bind(id)
            .fetch_one(&self.pool)
            .await
            .map_err(not_found(format!("tenant {id:?}")))?;
        tenant_row(&row)
    }

    async fn tenants(&self) -> Result<Vec<Tenant>> {
        let rows = sqlx::query("SELECT * FROM tenants ORDER BY id")
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(tenant_row).collect()
    }

    async fn update_tenant(&self, tenant: &Tenant) -> Result<()> {
        let quotas = serde_json::to_string(&tenant.quotas).context("encoding quotas")?;
        let mut tx = self.pool.begin().await?;
        let done =
            sqlx::query("UPDATE tenants SET name = $1, quotas = $2, updated_at = $3 WHERE id = $4")
                .bind(&tenant.name)
                .bind(quotas)
                .bind(now_ms())
                .bind(&tenant.id)
                .execute(&mut *tx)
                .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("tenant {:?}", tenant.id)));
        }
        notify(&mut tx, &tenant.id).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn delete_tenant(&self, id: &str) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query("DELETE FROM tenants WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("tenant {id:?}")));
        }
        for table in ["audit", "executions"] {
            sqlx::query(&format!("DELETE FROM {table} WHERE tenant_id = $1"))
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        notify(&mut tx, id).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn create_key(&self, tenant: &str, name: &str, role: Role) -> Result<NewKey> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("SELECT 1 FROM tenants WHERE id = $1")
            .bind(tenant)
            .fetch_one(&mut *tx)
            .await
            .map_err(not_found(format!("tenant {tenant:?}")))?;
        let token = format!("ap_{}_{}", role.as_str(), random_hex(32));
        let key = ApiKey {
            id: format!("key_{}", random_hex(8)),
            tenant: tenant.to_string(),
            name: name.to_string(),
            role,
            prefix: token.chars().take(PREFIX_CHARS).collect(),
            created_at: now_ms(),
            last_used_at: None,
        };
        sqlx::query(
            "INSERT INTO api_keys (id, tenant_id, name, role, prefix, token_sha256, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&key.id)
        .bind(tenant)
        .bind(name)
        .bind(role.as_str())
        .bind(&key.prefix)
        .bind(token_hash(&token))
        .bind(key.created_at)
        .execute(&mut *tx)
        .await
        .map_err(unknown_tenant_or(tenant, StoreError::from))?;
        notify(&mut tx, tenant).await?;
        tx.commit().await?;
        Ok(NewKey { key, token })
    }

    async fn keys(&self, tenant: &str) -> Result<Vec<ApiKey>> {
        let rows =
            sqlx::query("SELECT * FROM api_keys WHERE tenant_id = $1 ORDER BY created_at, id")
                .bind(tenant)
                .fetch_all(&self.pool)
                .await?;
        rows.iter().map(key_row).collect()
    }

    async fn revoke_key(&self, tenant: &str, id: &str) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query("DELETE FROM api_keys WHERE tenant_id = $1 AND id = $2")
            .bind(tenant)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("key {id:?}")));
        }
        notify(&mut tx, tenant).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn key_for_token(&self, token: &str) -> Result<Option<ApiKey>> {
        let row = sqlx::query("SELECT * FROM api_keys WHERE token_sha256 = $1")
            .bind(token_hash(token))
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(key_row).transpose()
    }

    async fn note_key_use(&self, id: &str, at: i64) -> Result<()> {
        sqlx::query("UPDATE api_keys SET last_used_at = $1 WHERE id = $2")
            .bind(at)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn create_function(
        &self,
        tenant: &str,
        name: &str,
        version: &FunctionVersion,
        run_order: i64,
        deploy: bool,
    ) -> Result<FunctionRecord> {
        let now = now_ms();
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO functions (tenant_id, name, run_order, latest_version, deployed_version, created_at, updated_at) \
             VALUES ($1, $2, $3, 1, $4, $5, $6)",
        )
        .bind(tenant)
        .bind(name)
        .bind(run_order)
        .bind(deploy.then_some(1i64))
        .bind(now)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(unknown_tenant_or(tenant, conflict_or(format!("function {name:?}"))))?;
        insert_version(&mut tx, tenant, name, 1, version, now).await?;
        notify(&mut tx, tenant).await?;
        let record = function_on(&mut tx, tenant, name).await?;
        tx.commit().await?;
        Ok(record)
    }

    async fn add_version(
        &self,
        tenant: &str,
        name: &str,
        version: &FunctionVersion,
        expected_latest: Option<i64>,
        deploy: bool,
    ) -> Result<FunctionRecord> {
        let now = now_ms();
        let mut tx = self.pool.begin().await?;
        // The row lock serialises changes of one function, as SQLite's
        // single writer does.
        let latest: i64 = sqlx::query_scalar(
            "SELECT latest_version FROM functions WHERE tenant_id = $1 AND name = $2 FOR UPDATE",
        )
        .bind(tenant)
        .bind(name)
        .fetch_one(&mut *tx)
        .await
        .map_err(not_found(format!("function {name:?}")))?;
        if expected_latest.is_some_and(|expected| expected != latest) {
            return Err(StoreError::Precondition(format!(
                "function {name:?} changed meanwhile: its newest version is {latest}"
            )));
        }
        let next = latest + 1;
        insert_version(&mut tx, tenant, name, next, version, now).await?;
        sqlx::query(
            "UPDATE functions SET latest_version = $1, \
             deployed_version = CASE WHEN $2 THEN $1 ELSE deployed_version END, updated_at = $3 \
             WHERE tenant_id = $4 AND name = $5",
        )
        .bind(next)
        .bind(deploy)
        .bind(now)
        .bind(tenant)
        .bind(name)
        .execute(&mut *tx)
        .await?;
        notify(&mut tx, tenant).await?;
        let record = function_on(&mut tx, tenant, name).await?;
        tx.commit().await?;
        Ok(record)
    }

    async fn deploy(&self, tenant: &str, name: &str, version: i64) -> Result<FunctionRecord> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("SELECT 1 FROM functions WHERE tenant_id = $1 AND name = $2 FOR UPDATE")
            .bind(tenant)
            .bind(name)
            .fetch_optional(&mut *tx)
            .await?;
        let exists: Option<i64> = sqlx::query_scalar(
            "SELECT version FROM function_versions WHERE tenant_id = $1 AND name = $2 AND version = $3",
        )
        .bind(tenant)
        .bind(name)
        .bind(version)
        .fetch_optional(&mut *tx)
        .await?;
        if exists.is_none() {
            return Err(StoreError::NotFound(format!(
                "version {version} of function {name:?}"
            )));
        }
        sqlx::query(
            "UPDATE functions SET deployed_version = $1, updated_at = $2 WHERE tenant_id = $3 AND name = $4",
        )
        .bind(version)
        .bind(now_ms())
        .bind(tenant)
        .bind(name)
        .execute(&mut *tx)
        .await?;
        notify(&mut tx, tenant).await?;
        let record = function_on(&mut tx, tenant, name).await?;
        tx.commit().await?;
        Ok(record)
    }

    async fn function(&self, tenant: &str, name: &str) -> Result<FunctionRecord> {
        let mut connection = self.pool.acquire().await?;
        function_on(&mut connection, tenant, name).await
    }

    async fn functions(&self, tenant: &str) -> Result<Vec<FunctionRecord>> {
        let rows = sqlx::query(&format!(
            "{FUNCTION_SELECT} WHERE f.tenant_id = $1 ORDER BY f.run_order, f.name"
        ))
        .bind(tenant)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(function_row).collect()
    }

    async fn version(&self, tenant: &str, name: &str, version: i64) -> Result<FunctionVersion> {
        let row = sqlx::query(
            "SELECT * FROM function_versions WHERE tenant_id = $1 AND name = $2 AND version = $3",
        )
        .bind(tenant)
        .bind(name)
        .bind(version)
        .fetch_one(&self.pool)
        .await
        .map_err(not_found(format!("version {version} of function {name:?}")))?;
        version_row(&row)
    }

    async fn versions(&self, tenant: &str, name: &str) -> Result<Vec<FunctionVersion>> {
        // One snapshot for both reads.
        let mut tx = self
            .pool
            .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            .await?;
        function_on(&mut tx, tenant, name).await?;
        let rows = sqlx::query(
            "SELECT * FROM function_versions WHERE tenant_id = $1 AND name = $2 ORDER BY version",
        )
        .bind(tenant)
        .bind(name)
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        rows.iter().map(version_row).collect()
    }

    async fn set_run_order(
        &self,
        tenant: &str,
        name: &str,
        run_order: i64,
    ) -> Result<FunctionRecord> {
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query(
            "UPDATE functions SET run_order = $1, updated_at = $2 WHERE tenant_id = $3 AND name = $4",
        )
        .bind(run_order)
        .bind(now_ms())
        .bind(tenant)
        .bind(name)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("function {name:?}")));
        }
        notify(&mut tx, tenant).await?;
        let record = function_on(&mut tx, tenant, name).await?;
        tx.commit().await?;
        Ok(record)
    }

    async fn set_order(&self, tenant: &str, names: &[String]) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        let now = now_ms();
        for (position, name) in names.iter().enumerate() {
            let done = sqlx::query(
                "UPDATE functions SET run_order = $1, updated_at = $2 WHERE tenant_id = $3 AND name = $4",
            )
            .bind((position as i64 + 1) * 10)
            .bind(now)
            .bind(tenant)
            .bind(name)
            .execute(&mut *tx)
            .await?;
            if done.rows_affected() == 0 {
                return Err(StoreError::NotFound(format!("function {name:?}")));
            }
        }
        notify(&mut tx, tenant).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn delete_function(&self, tenant: &str, name: &str) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query("DELETE FROM functions WHERE tenant_id = $1 AND name = $2")
            .bind(tenant)
            .bind(name)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("function {name:?}")));
        }
        notify(&mut tx, tenant).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn set_env(&self, tenant: &str, key: &str, value: &str, secret: bool) -> Result<()> {
        let stored = if secret {
            self.secrets
                .seal(value.as_bytes(), &secret_context(tenant, key))
        } else {
            value.as_bytes().to_vec()
        };
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO env_vars (tenant_id, key, secret, value, updated_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (tenant_id, key) DO UPDATE SET secret = excluded.secret, \
             value = excluded.value, updated_at = excluded.updated_at",
        )
        .bind(tenant)
        .bind(key)
        .bind(secret)
        .bind(stored)
        .bind(now_ms())
        .execute(&mut *tx)
        .await
        .map_err(unknown_tenant_or(tenant, StoreError::from))?;
        notify(&mut tx, tenant).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn env(&self, tenant: &str) -> Result<Vec<EnvValue>> {
        let rows = sqlx::query("SELECT * FROM env_vars WHERE tenant_id = $1 ORDER BY key")
            .bind(tenant)
            .fetch_all(&self.pool)
            .await?;
        let mut values = Vec::with_capacity(rows.len());
        for row in rows {
            let key: String = row.try_get("key")?;
            let secret: bool = row.try_get("secret")?;
            let stored: Vec<u8> = row.try_get("value")?;
            let plain = if secret {
                self.secrets
                    .open(&stored, &secret_context(tenant, &key))
                    .with_context(|| {
                        format!("the secret {key:?} does not open with this master key")
                    })?
            } else {
                stored
            };
            values.push(EnvValue {
                value: String::from_utf8(plain).context("an env value is not UTF-8")?,
                key,
                secret,
                updated_at: row.try_get("updated_at")?,
            });
        }
        Ok(values)
    }

    async fn delete_env(&self, tenant: &str, key: &str) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query("DELETE FROM env_vars WHERE tenant_id = $1 AND key = $2")
            .bind(tenant)
            .bind(key)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("env {key:?}")));
        }
        notify(&mut tx, tenant).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn set_fetch_allow(&self, tenant: &str, allow: &[String]) -> Result<()> {
        let list = serde_json::to_string(allow).context("encoding the allow-list")?;
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO fetch_allow (tenant_id, allow, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (tenant_id) DO UPDATE SET allow = excluded.allow, updated_at = excluded.updated_at",
        )
        .bind(tenant)
        .bind(list)
        .bind(now_ms())
        .execute(&mut *tx)
        .await
        .map_err(unknown_tenant_or(tenant, StoreError::from))?;
        notify(&mut tx, tenant).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn fetch_allow(&self, tenant: &str) -> Result<Vec<String>> {
        let list: Option<String> =
            sqlx::query_scalar("SELECT allow FROM fetch_allow WHERE tenant_id = $1")
                .bind(tenant)
                .fetch_optional(&self.pool)
                .await?;
        match list {
            None => Ok(Vec::new()),
            Some(list) => {
                Ok(serde_json::from_str(&list).context("a stored allow-list is not JSON")?)
            }
        }
    }

    async fn put_snapshot(&self, key: &str, snapshot: &[u8]) -> Result<()> {
        sqlx::query(
            "INSERT INTO snapshots (key, snapshot, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (key) DO NOTHING",
        )
        .bind(key)
        .bind(snapshot)
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn snapshot(&self, key: &str) -> Result<Option<Vec<u8>>> {
        Ok(
            sqlx::query_scalar("SELECT snapshot FROM snapshots WHERE key = $1")
                .bind(key)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    async fn record_executions(&self, records: &[ExecutionRecord]) -> Result<()> {
        // Multi-row inserts (Postgres binds at most 65535 parameters).
        const ROWS_PER_STATEMENT: usize = 128;
        const COLUMNS: usize = 7;
        let mut tx = self.pool.begin().await?;
        for chunk in records.chunks(ROWS_PER_STATEMENT) {
            let mut sql = String::from(
                "INSERT INTO executions (tenant_id, id, at, trigger_name, functions, outcome, record) VALUES ",
            );
            for i in 0..chunk.len() {
                if i > 0 {
                    sql.push_str(", ");
                }
                sql.push('(');
                for column in 0..COLUMNS {
                    if column > 0 {
                        sql.push_str(", ");
                    }
                    sql.push_str(&format!("${}", i * COLUMNS + column + 1));
                }
                sql.push(')');
            }
            sql.push_str(" ON CONFLICT (tenant_id, id) DO NOTHING");
            let mut query = sqlx::query(&sql);
            for record in chunk {
                query = query
                    .bind(&record.tenant)
                    .bind(&record.id)
                    .bind(record.at)
                    .bind(&record.trigger)
                    .bind(function_list(&record.functions))
                    .bind(&record.outcome)
                    .bind(&record.json);
            }
            query.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn executions(
        &self,
        tenant: &str,
        query: &ExecutionQuery,
    ) -> Result<Vec<ExecutionRecord>> {
        let rows = sqlx::query(
            "SELECT * FROM executions WHERE tenant_id = $1 \
             AND ($2::text IS NULL OR id < $2) \
             AND ($3::text IS NULL OR trigger_name = $3) \
             AND ($4::text IS NULL OR outcome = $4) \
             AND ($5::text IS NULL OR strpos(functions, $5) > 0) \
             ORDER BY id DESC LIMIT $6",
        )
        .bind(tenant)
        .bind(&query.before)
        .bind(&query.trigger)
        .bind(&query.outcome)
        .bind(query.function.as_ref().map(|f| format!("|{f}|")))
        .bind(i64::from(query.limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(execution_row).collect()
    }

    async fn execution(&self, tenant: &str, id: &str) -> Result<ExecutionRecord> {
        let row = sqlx::query("SELECT * FROM executions WHERE tenant_id = $1 AND id = $2")
            .bind(tenant)
            .bind(id)
            .fetch_one(&self.pool)
            .await
            .map_err(not_found(format!("execution {id:?}")))?;
        execution_row(&row)
    }

    async fn prune_executions(&self, tenant: &str, keep: u64, before_ms: i64) -> Result<u64> {
        let mut tx = self.pool.begin().await?;
        let ours: bool = sqlx::query_scalar("SELECT pg_try_advisory_xact_lock($1)")
            .bind(Self::RETENTION_LOCK)
            .fetch_one(&mut *tx)
            .await?;
        if !ours {
            // Another node is pruning.
            return Ok(0);
        }
        let done = sqlx::query(
            "DELETE FROM executions WHERE tenant_id = $1 AND (at < $2 OR id <= \
             (SELECT id FROM executions WHERE tenant_id = $1 ORDER BY id DESC LIMIT 1 OFFSET $3))",
        )
        .bind(tenant)
        .bind(before_ms)
        .bind(i64::try_from(keep).unwrap_or(i64::MAX))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(done.rows_affected())
    }

    async fn audit(&self, tenant: &str, entry: &AuditEntry) -> Result<()> {
        sqlx::query(
            "INSERT INTO audit (tenant_id, at, actor, action, target, version) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(tenant)
        .bind(entry.at)
        .bind(&entry.actor)
        .bind(&entry.action)
        .bind(&entry.target)
        .bind(entry.version)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn audit_log(&self, tenant: &str, limit: u32) -> Result<Vec<AuditEntry>> {
        let rows = sqlx::query(
            "SELECT at, actor, action, target, version FROM audit WHERE tenant_id = $1 \
             ORDER BY id DESC LIMIT $2",
        )
        .bind(tenant)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(AuditEntry {
                    at: row.try_get("at")?,
                    actor: row.try_get("actor")?,
                    action: row.try_get("action")?,
                    target: row.try_get("target")?,
                    version: row.try_get("version")?,
                })
            })
            .collect()
    }

    async fn heartbeat(&self, node: &str, at_ms: i64) -> Result<()> {
        sqlx::query(
            "INSERT INTO nodes (id, started_at, seen_at) VALUES ($1, $2, $2) \
             ON CONFLICT (id) DO UPDATE SET seen_at = excluded.seen_at",
        )
        .bind(node)
        .bind(at_ms)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn live_nodes(&self, since_ms: i64) -> Result<u32> {
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM nodes WHERE seen_at >= $1")
            .bind(since_ms)
            .fetch_one(&self.pool)
            .await?;
        Ok(u32::try_from(count).unwrap_or(u32::MAX))
    }
}
