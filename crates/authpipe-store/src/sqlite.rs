//! The embedded backend: one SQLite file in WAL mode.

use crate::models::{
    ApiKey, AuditEntry, EnvValue, ExecutionQuery, ExecutionRecord, FunctionRecord,
    FunctionSettings, FunctionVersion, NewKey, Role, Tenant,
};
use crate::secrets::SecretBox;
use crate::{Result, Store, StoreError, now_ms};
use anyhow::Context;
use sha2::{Digest, Sha256};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row, SqlitePool};
use std::path::Path;

/// The platform state in one SQLite file.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    secrets: SecretBox,
}

/// Characters of a token kept to recognise it.
pub(crate) const PREFIX_CHARS: usize = 12;

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` and applies the
    /// migrations. Secrets are sealed with `secrets`.
    pub async fn open(path: &Path, secrets: SecretBox) -> anyhow::Result<Self> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(std::time::Duration::from_secs(5));
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await
            .with_context(|| format!("cannot open the store {}", path.display()))?;
        sqlx::migrate!("migrations/sqlite")
            .run(&pool)
            .await
            .with_context(|| format!("cannot migrate the store {}", path.display()))?;
        Ok(Self { pool, secrets })
    }

    /// Closes the pool (waits for connections to finish).
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

pub(crate) fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

pub(crate) fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).expect("the operating system provides randomness");
    buf.iter().map(|b| format!("{b:02x}")).collect()
}

pub(crate) fn not_found(what: String) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |e| match e {
        sqlx::Error::RowNotFound => StoreError::NotFound(what),
        other => StoreError::from(other),
    }
}

pub(crate) fn conflict_or(what: String) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |e| match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict(what),
        _ => StoreError::from(e),
    }
}

/// Maps a foreign-key violation (the tenant does not exist) to
/// [`StoreError::NotFound`], anything else with `otherwise`.
pub(crate) fn unknown_tenant_or(
    tenant: &str,
    otherwise: impl FnOnce(sqlx::Error) -> StoreError,
) -> impl FnOnce(sqlx::Error) -> StoreError {
    let missing = format!("tenant {tenant:?}");
    move |e| match &e {
        sqlx::Error::Database(db) if db.is_foreign_key_violation() => StoreError::NotFound(missing),
        _ => otherwise(e),
    }
}

fn tenant_row(row: &sqlx::sqlite::SqliteRow) -> Result<Tenant> {
    let quotas: String = row.try_get("quotas")?;
    Ok(Tenant {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        quotas: serde_json::from_str(&quotas).context("stored quotas are not JSON")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

fn key_row(row: &sqlx::sqlite::SqliteRow) -> Result<ApiKey> {
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

fn version_row(row: &sqlx::sqlite::SqliteRow) -> Result<FunctionVersion> {
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

const FUNCTION_COLUMNS: &str = "f.tenant_id, f.name, f.run_order, f.deployed_version, \
     f.created_at AS f_created, f.updated_at AS f_updated, v.version, v.source, v.sha256, \
     v.settings, v.created_at, v.created_by";

fn function_row(row: &sqlx::sqlite::SqliteRow) -> Result<FunctionRecord> {
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

pub(crate) fn settings_json(settings: &FunctionSettings) -> Result<String> {
    Ok(serde_json::to_string(settings).context("encoding settings")?)
}

impl Store for SqliteStore {
    async fn create_tenant(&self, tenant: &Tenant) -> Result<()> {
        let quotas = serde_json::to_string(&tenant.quotas).context("encoding quotas")?;
        sqlx::query(
            "INSERT INTO tenants (id, name, quotas, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
        )
        .bind(&tenant.id)
        .bind(&tenant.name)
        .bind(quotas)
        .bind(tenant.created_at)
        .bind(tenant.updated_at)
        .execute(&self.pool)
        .await
        .map_err(conflict_or(format!("tenant {:?}", tenant.id)))?;
        Ok(())
    }

    async fn tenant(&self, id: &str) -> Result<Tenant> {
        let row = sqlx::query("SELECT * FROM tenants WHERE id = ?")
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
        let done =
            sqlx::query("UPDATE tenants SET name = ?, quotas = ?, updated_at = ? WHERE id = ?")
                .bind(&tenant.name)
                .bind(quotas)
                .bind(now_ms())
                .bind(&tenant.id)
                .execute(&self.pool)
                .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("tenant {:?}", tenant.id)));
        }
        Ok(())
    }

    async fn delete_tenant(&self, id: &str) -> Result<()> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let done = sqlx::query("DELETE FROM tenants WHERE id = ?")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("tenant {id:?}")));
        }
        for table in ["audit", "executions"] {
            sqlx::query(&format!("DELETE FROM {table} WHERE tenant_id = ?"))
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn create_key(&self, tenant: &str, name: &str, role: Role) -> Result<NewKey> {
        self.tenant(tenant).await?;
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
             VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&key.id)
        .bind(tenant)
        .bind(name)
        .bind(role.as_str())
        .bind(&key.prefix)
        .bind(token_hash(&token))
        .bind(key.created_at)
        .execute(&self.pool)
        .await?;
        Ok(NewKey { key, token })
    }

    async fn keys(&self, tenant: &str) -> Result<Vec<ApiKey>> {
        let rows =
            sqlx::query("SELECT * FROM api_keys WHERE tenant_id = ? ORDER BY created_at, id")
                .bind(tenant)
                .fetch_all(&self.pool)
                .await?;
        rows.iter().map(key_row).collect()
    }

    async fn revoke_key(&self, tenant: &str, id: &str) -> Result<()> {
        let done = sqlx::query("DELETE FROM api_keys WHERE tenant_id = ? AND id = ?")
            .bind(tenant)
            .bind(id)
            .execute(&self.pool)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("key {id:?}")));
        }
        Ok(())
    }

    async fn key_for_token(&self, token: &str) -> Result<Option<ApiKey>> {
        let hash = token_hash(token);
        let row = sqlx::query("SELECT * FROM api_keys WHERE token_sha256 = ?")
            .bind(&hash)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(key_row).transpose()
    }

    async fn note_key_use(&self, id: &str, at: i64) -> Result<()> {
        sqlx::query("UPDATE api_keys SET last_used_at = ? WHERE id = ?")
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
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        sqlx::query(
            "INSERT INTO functions (tenant_id, name, run_order, latest_version, deployed_version, created_at, updated_at) \
             VALUES (?, ?, ?, 1, ?, ?, ?)",
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
        tx.commit().await?;
        self.function(tenant, name).await
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
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let latest: i64 = sqlx::query_scalar(
            "SELECT latest_version FROM functions WHERE tenant_id = ? AND name = ?",
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
            "UPDATE functions SET latest_version = ?, \
             deployed_version = CASE WHEN ? THEN ? ELSE deployed_version END, updated_at = ? \
             WHERE tenant_id = ? AND name = ?",
        )
        .bind(next)
        .bind(deploy)
        .bind(next)
        .bind(now)
        .bind(tenant)
        .bind(name)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        self.function(tenant, name).await
    }

    async fn deploy(&self, tenant: &str, name: &str, version: i64) -> Result<FunctionRecord> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let exists: Option<i64> = sqlx::query_scalar(
            "SELECT version FROM function_versions WHERE tenant_id = ? AND name = ? AND version = ?",
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
            "UPDATE functions SET deployed_version = ?, updated_at = ? WHERE tenant_id = ? AND name = ?",
        )
        .bind(version)
        .bind(now_ms())
        .bind(tenant)
        .bind(name)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        self.function(tenant, name).await
    }

    async fn function(&self, tenant: &str, name: &str) -> Result<FunctionRecord> {
        let row = sqlx::query(&format!(
            "SELECT {FUNCTION_COLUMNS} FROM functions f JOIN function_versions v \
             ON v.tenant_id = f.tenant_id AND v.name = f.name AND v.version = f.latest_version \
             WHERE f.tenant_id = ? AND f.name = ?"
        ))
        .bind(tenant)
        .bind(name)
        .fetch_one(&self.pool)
        .await
        .map_err(not_found(format!("function {name:?}")))?;
        function_row(&row)
    }

    async fn functions(&self, tenant: &str) -> Result<Vec<FunctionRecord>> {
        let rows = sqlx::query(&format!(
            "SELECT {FUNCTION_COLUMNS} FROM functions f JOIN function_versions v \
             ON v.tenant_id = f.tenant_id AND v.name = f.name AND v.version = f.latest_version \
             WHERE f.tenant_id = ? ORDER BY f.run_order, f.name"
        ))
        .bind(tenant)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(function_row).collect()
    }

    async fn version(&self, tenant: &str, name: &str, version: i64) -> Result<FunctionVersion> {
        let row = sqlx::query(
            "SELECT * FROM function_versions WHERE tenant_id = ? AND name = ? AND version = ?",
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
        self.function(tenant, name).await?;
        let rows = sqlx::query(
            "SELECT * FROM function_versions WHERE tenant_id = ? AND name = ? ORDER BY version",
        )
        .bind(tenant)
        .bind(name)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(version_row).collect()
    }

    async fn set_run_order(
        &self,
        tenant: &str,
        name: &str,
        run_order: i64,
    ) -> Result<FunctionRecord> {
        let done = sqlx::query(
            "UPDATE functions SET run_order = ?, updated_at = ? WHERE tenant_id = ? AND name = ?",
        )
        .bind(run_order)
        .bind(now_ms())
        .bind(tenant)
        .bind(name)
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("function {name:?}")));
        }
        self.function(tenant, name).await
    }

    async fn set_order(&self, tenant: &str, names: &[String]) -> Result<()> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let now = now_ms();
        for (position, name) in names.iter().enumerate() {
            let done = sqlx::query(
                "UPDATE functions SET run_order = ?, updated_at = ? WHERE tenant_id = ? AND name = ?",
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
        tx.commit().await?;
        Ok(())
    }

    async fn delete_function(&self, tenant: &str, name: &str) -> Result<()> {
        let done = sqlx::query("DELETE FROM functions WHERE tenant_id = ? AND name = ?")
            .bind(tenant)
            .bind(name)
            .execute(&self.pool)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("function {name:?}")));
        }
        Ok(())
    }

    async fn set_env(&self, tenant: &str, key: &str, value: &str, secret: bool) -> Result<()> {
        let stored = if secret {
            self.secrets
                .seal(value.as_bytes(), &secret_context(tenant, key))
        } else {
            value.as_bytes().to_vec()
        };
        sqlx::query(
            "INSERT INTO env_vars (tenant_id, key, secret, value, updated_at) VALUES (?, ?, ?, ?, ?) \
             ON CONFLICT (tenant_id, key) DO UPDATE SET secret = excluded.secret, \
             value = excluded.value, updated_at = excluded.updated_at",
        )
        .bind(tenant)
        .bind(key)
        .bind(secret)
        .bind(stored)
        .bind(now_ms())
        .execute(&self.pool)
        .await
        .map_err(unknown_tenant_or(tenant, StoreError::from))?;
        Ok(())
    }

    async fn env(&self, tenant: &str) -> Result<Vec<EnvValue>> {
        let rows = sqlx::query("SELECT * FROM env_vars WHERE tenant_id = ? ORDER BY key")
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
        let done = sqlx::query("DELETE FROM env_vars WHERE tenant_id = ? AND key = ?")
            .bind(tenant)
            .bind(key)
            .execute(&self.pool)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("env {key:?}")));
        }
        Ok(())
    }

    async fn set_fetch_allow(&self, tenant: &str, allow: &[String]) -> Result<()> {
        let list = serde_json::to_string(allow).context("encoding the allow-list")?;
        sqlx::query(
            "INSERT INTO fetch_allow (tenant_id, allow, updated_at) VALUES (?, ?, ?) \
             ON CONFLICT (tenant_id) DO UPDATE SET allow = excluded.allow, updated_at = excluded.updated_at",
        )
        .bind(tenant)
        .bind(list)
        .bind(now_ms())
        .execute(&self.pool)
        .await
        .map_err(unknown_tenant_or(tenant, StoreError::from))?;
        Ok(())
    }

    async fn fetch_allow(&self, tenant: &str) -> Result<Vec<String>> {
        let list: Option<String> =
            sqlx::query_scalar("SELECT allow FROM fetch_allow WHERE tenant_id = ?")
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
            "INSERT INTO snapshots (key, snapshot, created_at) VALUES (?, ?, ?) \
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
            sqlx::query_scalar("SELECT snapshot FROM snapshots WHERE key = ?")
                .bind(key)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    async fn record_executions(&self, records: &[ExecutionRecord]) -> Result<()> {
        // Multi-row inserts (SQLite binds at most 32766 parameters).
        const ROWS_PER_STATEMENT: usize = 128;
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        for chunk in records.chunks(ROWS_PER_STATEMENT) {
            let mut sql = String::from(
                "INSERT OR IGNORE INTO executions (tenant_id, id, at, trigger_name, functions, outcome, record) VALUES ",
            );
            for i in 0..chunk.len() {
                sql.push_str(if i == 0 {
                    "(?, ?, ?, ?, ?, ?, ?)"
                } else {
                    ", (?, ?, ?, ?, ?, ?, ?)"
                });
            }
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
            "SELECT * FROM executions WHERE tenant_id = ? \
             AND (? IS NULL OR id < ?) \
             AND (? IS NULL OR trigger_name = ?) \
             AND (? IS NULL OR outcome = ?) \
             AND (? IS NULL OR instr(functions, ?) > 0) \
             ORDER BY id DESC LIMIT ?",
        )
        .bind(tenant)
        .bind(&query.before)
        .bind(&query.before)
        .bind(&query.trigger)
        .bind(&query.trigger)
        .bind(&query.outcome)
        .bind(&query.outcome)
        .bind(&query.function)
        .bind(query.function.as_ref().map(|f| format!("|{f}|")))
        .bind(query.limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(execution_row).collect()
    }

    async fn execution(&self, tenant: &str, id: &str) -> Result<ExecutionRecord> {
        let row = sqlx::query("SELECT * FROM executions WHERE tenant_id = ? AND id = ?")
            .bind(tenant)
            .bind(id)
            .fetch_one(&self.pool)
            .await
            .map_err(not_found(format!("execution {id:?}")))?;
        execution_row(&row)
    }

    async fn prune_executions(&self, tenant: &str, keep: u64, before_ms: i64) -> Result<u64> {
        let done = sqlx::query(
            "DELETE FROM executions WHERE tenant_id = ? AND (at < ? OR id <= \
             (SELECT id FROM executions WHERE tenant_id = ? ORDER BY id DESC LIMIT 1 OFFSET ?))",
        )
        .bind(tenant)
        .bind(before_ms)
        .bind(tenant)
        .bind(keep as i64)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }

    async fn audit(&self, tenant: &str, entry: &AuditEntry) -> Result<()> {
        sqlx::query(
            "INSERT INTO audit (tenant_id, at, actor, action, target, version) VALUES (?, ?, ?, ?, ?, ?)",
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
            "SELECT at, actor, action, target, version FROM audit WHERE tenant_id = ? \
             ORDER BY id DESC LIMIT ?",
        )
        .bind(tenant)
        .bind(limit)
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
            "INSERT INTO nodes (id, started_at, seen_at) VALUES (?, ?, ?) \
             ON CONFLICT (id) DO UPDATE SET seen_at = excluded.seen_at",
        )
        .bind(node)
        .bind(at_ms)
        .bind(at_ms)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn live_nodes(&self, since_ms: i64) -> Result<u32> {
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM nodes WHERE seen_at >= ?")
            .bind(since_ms)
            .fetch_one(&self.pool)
            .await?;
        Ok(u32::try_from(count).unwrap_or(u32::MAX))
    }
}

/// `|a|b|`: the stage functions of a record, for `instr` matching.
pub(crate) fn function_list(functions: &[String]) -> String {
    let mut list = String::from("|");
    for name in functions {
        list.push_str(name);
        list.push('|');
    }
    list
}

fn execution_row(row: &sqlx::sqlite::SqliteRow) -> Result<ExecutionRecord> {
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

/// What a secret is bound to: its tenant and name.
pub(crate) fn secret_context(tenant: &str, key: &str) -> Vec<u8> {
    format!("{tenant}\0{key}").into_bytes()
}

async fn insert_version(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    tenant: &str,
    name: &str,
    number: i64,
    version: &FunctionVersion,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO function_versions (tenant_id, name, version, source, sha256, settings, created_at, created_by) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(tenant)
    .bind(name)
    .bind(number)
    .bind(&version.source)
    .bind(&version.sha256)
    .bind(settings_json(&version.settings)?)
    .bind(now)
    .bind(&version.created_by)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
