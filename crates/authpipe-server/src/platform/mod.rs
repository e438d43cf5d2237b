//! Store mode: many tenants served from a store, managed through the API
//! under `/v1/tenants`.
//!
//! * [`registry`]: what each tenant serves, compiled, swapped atomically.
//! * [`auth`]: the platform admin and tenant keys.
//! * [`admission`]: per-tenant concurrency and rate quotas (429).
//! * [`cluster`]: following the other nodes on a shared Postgres store.
//! * [`history`]: execution records, written in batches off the request
//!   path.
//! * [`api`]: the management and invocation endpoints (with `stats` and
//!   `templates`).

pub mod admission;
pub mod api;
pub mod auth;
pub mod cluster;
mod functions;
pub mod history;
mod invoke;
pub mod openapi;
pub mod registry;
mod stats;
mod templates;
pub mod time;
mod views;

use crate::metrics::Metrics;
use admission::{InvocationQuota, TenantAdmission};
use anyhow::Result;
use auth::Authenticator;
use authpipe::Runtime;
use authpipe_store::{Quotas, Store, Tenant};
use history::{History, Retention};
use registry::Registry;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// The store the server runs on: SQLite (one node) or Postgres (any
/// number of nodes).
pub type PlatformStore = authpipe_store::AnyStore;

/// Settings of store mode.
#[derive(Debug, Clone)]
pub struct PlatformSettings {
    /// The platform admin's token (`AUTHPIPE_ADMIN_TOKEN`).
    pub admin_token: String,
    /// Quotas of tenants that do not set their own (every field set,
    /// `max_rps` may be unlimited).
    pub default_quotas: Quotas,
    /// Execution-record retention per tenant.
    pub retention: Retention,
    /// This node's name in execution records (`AUTHPIPE_NODE_ID`, else
    /// the host name).
    pub node_id: Arc<str>,
}

/// `AUTHPIPE_NODE_ID`, else the host name, else `node`.
pub fn node_id() -> Arc<str> {
    let from_env = std::env::var("AUTHPIPE_NODE_ID")
        .ok()
        .filter(|v| !v.trim().is_empty());
    let host = || {
        std::fs::read_to_string("/proc/sys/kernel/hostname")
            .ok()
            .map(|h| h.trim().to_string())
            .filter(|h| !h.is_empty())
    };
    from_env
        .or_else(host)
        .unwrap_or_else(|| "node".into())
        .into()
}

/// The default quotas: 100 functions, 32 invocations at once, no rate
/// limit, and ceilings of 30 s, 1e9 fuel and 256 MiB per function.
pub fn default_quotas() -> Quotas {
    Quotas {
        max_functions: Some(100),
        max_concurrent: Some(32),
        max_rps: None,
        max_timeout_ms: Some(30_000),
        max_fuel: Some(1_000_000_000),
        max_memory_mb: Some(256),
    }
}

impl PlatformSettings {
    /// `quotas` with every unset field taken from the defaults.
    pub fn effective(&self, quotas: &Quotas) -> Quotas {
        quotas.or(&self.default_quotas)
    }
}

/// Everything store mode shares.
pub struct Platform {
    /// The store.
    pub store: Arc<PlatformStore>,
    /// What each tenant serves.
    pub registry: Registry<PlatformStore>,
    /// Bearer tokens to principals.
    pub auth: Authenticator,
    /// Per-tenant invocation quotas.
    pub admission: TenantAdmission,
    /// Execution records.
    pub history: History,
    /// Settings.
    pub settings: PlatformSettings,
    /// One management change at a time per tenant, so checks (ETags,
    /// quotas) and the rebuild that follows a change are not interleaved.
    locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    /// One compile at a time per tenant, so that one tenant's stream of
    /// test runs or saves holds at most one of the runtime's compile slots.
    compiles: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

impl Platform {
    /// Loads every tenant from `store` (compiling nothing whose snapshot is
    /// stored) and starts the history writer.
    pub async fn start(
        store: Arc<PlatformStore>,
        runtime: Runtime,
        metrics: Arc<Metrics>,
        settings: PlatformSettings,
    ) -> Result<Self> {
        let registry = Registry::new(store.clone(), runtime);
        registry.load_all().await?;
        let platform = Self {
            auth: Authenticator::new(&settings.admin_token),
            admission: TenantAdmission::default(),
            history: History::start(store.clone(), metrics, settings.retention),
            store,
            registry,
            settings,
            locks: Mutex::new(HashMap::new()),
            compiles: Mutex::new(HashMap::new()),
        };
        for tenant in platform.store.tenants().await? {
            platform.apply_quotas(&tenant);
        }
        Ok(platform)
    }

    /// Number of tenants and functions served.
    pub fn served(&self) -> (usize, usize) {
        self.registry.counts()
    }

    /// Applies `tenant`'s invocation quotas to admission.
    pub fn apply_quotas(&self, tenant: &Tenant) {
        let quotas = self.settings.effective(&tenant.quotas);
        self.admission.set_quota(
            &tenant.id,
            InvocationQuota {
                max_concurrent: quotas.max_concurrent.unwrap_or(u64::MAX >> 8),
                max_rps: quotas.max_rps,
            },
        );
    }

    /// The lock serialising management changes of `tenant`.
    pub fn tenant_lock(&self, tenant: &str) -> Arc<tokio::sync::Mutex<()>> {
        per_tenant(&self.locks, tenant)
    }

    /// The gate letting one source of `tenant` compile at a time.
    pub fn compile_gate(&self, tenant: &str) -> Arc<tokio::sync::Mutex<()>> {
        per_tenant(&self.compiles, tenant)
    }

    /// Applies a change of `tenant` made on another node: its functions,
    /// env and allow-list, its quotas, and its keys (a revoked key is
    /// refused at once).
    pub async fn sync_tenant(&self, tenant: &str) -> Result<()> {
        let lock = self.tenant_lock(tenant);
        let _one_change_at_a_time = lock.lock().await;
        self.registry.reload(tenant).await?;
        match self.store.tenant(tenant).await {
            Ok(record) => self.apply_quotas(&record),
            Err(authpipe_store::StoreError::NotFound(_)) => self.admission.remove(tenant),
            Err(e) => return Err(e.into()),
        }
        self.auth.forget_tenant(tenant);
        Ok(())
    }

    /// Rebuilds every tenant from the store (including ones created or
    /// deleted elsewhere); failures are logged and retried next time.
    pub async fn resync_all(&self) {
        let stored = match self.store.tenants().await {
            Ok(tenants) => tenants,
            Err(e) => {
                tracing::warn!(error = %e, "cannot list the tenants to resync");
                return;
            }
        };
        let mut names: std::collections::BTreeSet<String> =
            stored.into_iter().map(|t| t.id).collect();
        names.extend(self.registry.tenant_ids());
        for tenant in names {
            if let Err(e) = self.sync_tenant(&tenant).await {
                tracing::warn!(tenant, error = %format!("{e:#}"), "cannot resync a tenant");
            }
        }
    }

    /// Store mode's lines of `/metrics` (Prometheus text).
    pub fn metrics_text(&self) -> String {
        let (tenants, functions) = self.served();
        format!(
            "# HELP authpipe_tenants Tenants this node serves.\n\
             # TYPE authpipe_tenants gauge\n\
             authpipe_tenants {tenants}\n\
             # HELP authpipe_functions_deployed Deployed functions this node serves.\n\
             # TYPE authpipe_functions_deployed gauge\n\
             authpipe_functions_deployed {functions}\n\
             # HELP authpipe_snapshot_compilations_total Saved sources this node compiled itself instead of loading their snapshot from the store (test runs of unsaved text not counted).\n\
             # TYPE authpipe_snapshot_compilations_total counter\n\
             authpipe_snapshot_compilations_total {}\n\
             # HELP authpipe_cluster_live_nodes Nodes sharing the store, seen within the heartbeat timeout (1 on SQLite).\n\
             # TYPE authpipe_cluster_live_nodes gauge\n\
             authpipe_cluster_live_nodes {}\n",
            self.registry.compilations(),
            self.admission.live_nodes(),
        )
    }

    /// Asks the store something cheap within 2 s (`/readyz`).
    pub async fn check_store(&self) -> Result<(), String> {
        match tokio::time::timeout(std::time::Duration::from_secs(2), self.store.tenants()).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Err("no answer within 2 s".into()),
        }
    }

    /// Flushes execution records (graceful shutdown).
    pub async fn close(&self, grace: std::time::Duration) {
        self.history.close(grace).await;
    }
}

/// `tenant`'s mutex in `map`, created on first use.
fn per_tenant(
    map: &Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    tenant: &str,
) -> Arc<tokio::sync::Mutex<()>> {
    map.lock()
        .unwrap_or_else(|e| e.into_inner())
        .entry(tenant.to_string())
        .or_default()
        .clone()
}

/// Replaces every secret's plaintext in `text` with `[secret]`.
pub fn redact(text: &mut String, secrets: &[String]) {
    for secret in secrets {
        if text.contains(secret.as_str()) {
            *text = text.replace(secret.as_str(), "[secret]");
        }
    }
}

/// Redacts secrets from the logs and error messages of `result`: a
/// function that logs or throws a secret does not put it in a response,
/// a log line or an execution record.
pub fn redact_result(result: &mut authpipe::InvocationResult, secrets: &[String]) {
    if secrets.is_empty() {
        return;
    }
    let redact_error = |error: &mut authpipe::FunctionError| {
        redact(&mut error.message, secrets);
        if let Some(stack) = error.stack.as_mut() {
            redact(stack, secrets);
        }
    };
    if let Some(error) = result.error.as_mut() {
        redact_error(error);
    }
    for stage in &mut result.stages {
        for log in &mut stage.logs {
            redact(&mut log.message, secrets);
        }
        if let Some(error) = stage.error.as_mut() {
            redact_error(error);
        }
    }
}
