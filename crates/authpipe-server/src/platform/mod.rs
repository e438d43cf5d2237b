//! Store mode: many tenants served from a store, managed through the API
//! under `/v1/tenants`.
//!
//! * [`registry`]: what each tenant serves, compiled, swapped atomically.
//! * [`auth`]: the platform admin and tenant keys.
//! * [`admission`]: per-tenant concurrency and rate quotas (429).
//! * [`history`]: execution records, written in batches off the request
//!   path.
//! * [`api`]: the management and invocation endpoints (with `stats` and
//!   `templates`).

pub mod admission;
pub mod api;
pub mod auth;
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
use authpipe_store::{Quotas, SqliteStore, Store, Tenant};
use history::{History, Retention};
use registry::Registry;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// The store the server runs on.
pub type PlatformStore = SqliteStore;

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
