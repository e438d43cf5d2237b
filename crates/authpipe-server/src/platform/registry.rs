//! Store mode: what each tenant serves, built from the store.
//!
//! A [`Registry`] keeps, per tenant, an immutable [`TenantDeployment`]: the
//! deployed version of every function compiled into a stage (with the
//! tenant's env, secrets and fetch allow-list), and the pipelines of every
//! trigger in run order. A change to a tenant rebuilds its deployment and
//! swaps it in atomically; calls in flight finish on the one they started
//! with. Snapshots of unchanged versions are reused, so a rebuild compiles
//! only what changed.

use crate::config::Trigger;
use crate::deployment::TriggerPipeline;
use anyhow::{Context, Result};
use authpipe::fetch::{AllowPattern, DenyAll, FetchPolicy, Fetcher, HttpFetcher};
use authpipe::{
    CompileError, Environ, Flavor, Function, Limits, OnError, Pipeline, Runtime, Stage,
};
use authpipe_store::{FunctionRecord, FunctionSettings, Store, StoreError};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, RwLock};

/// A function as a tenant serves it.
#[derive(Debug, Clone)]
pub struct LiveFunction {
    /// The function's record (newest version, deployed version, order).
    pub record: FunctionRecord,
    /// The deployed version's number.
    pub version: i64,
    /// The stage running the deployed version.
    pub stage: Stage,
    /// The deployed version's settings.
    pub settings: FunctionSettings,
    /// SHA-256 of the deployed version's source.
    pub sha256: String,
}

/// Everything one tenant serves, compiled.
#[derive(Debug)]
pub struct TenantDeployment {
    /// Deployed functions by name.
    pub functions: BTreeMap<String, LiveFunction>,
    /// Pipelines by trigger (every trigger has one, possibly empty).
    pub pipelines: HashMap<Trigger, TriggerPipeline>,
    /// The tenant's env and secrets, as functions see them.
    pub env: Arc<Environ>,
    /// The tenant's fetch allow-list.
    pub fetch: Arc<dyn Fetcher>,
    /// The plaintext of the tenant's secrets, to redact from logs, error
    /// messages and execution records.
    pub secrets: Vec<String>,
}

impl Default for TenantDeployment {
    fn default() -> Self {
        Self {
            functions: BTreeMap::new(),
            pipelines: Trigger::ALL
                .into_iter()
                .map(|t| (t, TriggerPipeline::default()))
                .collect(),
            env: Arc::new(Environ::default()),
            fetch: Arc::new(DenyAll),
            secrets: Vec::new(),
        }
    }
}

/// The limits and error policy of `settings`.
pub fn stage_settings(settings: &FunctionSettings) -> Result<(Limits, OnError)> {
    let mut limits = Limits::default();
    limits
        .timeout_ms(settings.timeout_ms)?
        .fuel(settings.fuel)?
        .memory_mb(settings.memory_mb)?;
    let on_error = match settings.on_error.as_str() {
        "skip" => OnError::Skip,
        _ => OnError::Deny,
    };
    Ok((limits, on_error))
}

/// Per-tenant deployments over a store.
pub struct Registry<S: Store> {
    store: Arc<S>,
    runtime: Runtime,
    tenants: RwLock<HashMap<String, Arc<TenantDeployment>>>,
    /// Compiled functions by (source hash, file name, flavour), shared by tenants
    /// and versions with the same source.
    compiled: RwLock<HashMap<(String, String, &'static str), Function>>,
    /// Sources run through the snapshot compiler (not loaded from a
    /// stored snapshot) since start.
    compilations: std::sync::atomic::AtomicU64,
}

impl<S: Store> Registry<S> {
    /// An empty registry over `store`.
    pub fn new(store: Arc<S>, runtime: Runtime) -> Self {
        Self {
            store,
            runtime,
            tenants: RwLock::new(HashMap::new()),
            compiled: RwLock::new(HashMap::new()),
            compilations: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// The store.
    pub fn store(&self) -> &Arc<S> {
        &self.store
    }

    /// What `tenant` serves now (empty when it has nothing deployed).
    pub fn tenant(&self, tenant: &str) -> Arc<TenantDeployment> {
        self.tenants
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(tenant)
            .cloned()
            .unwrap_or_default()
    }

    /// What `tenant` serves, or `None` for a tenant this node does not
    /// know (it does not exist).
    pub fn get(&self, tenant: &str) -> Option<Arc<TenantDeployment>> {
        self.tenants
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(tenant)
            .cloned()
    }

    /// The tenants served.
    pub fn tenant_ids(&self) -> Vec<String> {
        self.tenants
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .keys()
            .cloned()
            .collect()
    }

    /// Sources compiled since start (not loaded from stored snapshots).
    pub fn compilations(&self) -> u64 {
        self.compilations.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Tenants and deployed functions served.
    pub fn counts(&self) -> (usize, usize) {
        let tenants = self.tenants.read().unwrap_or_else(|e| e.into_inner());
        (
            tenants.len(),
            tenants.values().map(|t| t.functions.len()).sum(),
        )
    }

    /// Builds every tenant's deployment from the store; returns how many
    /// tenants there are.
    pub async fn load_all(&self) -> Result<usize> {
        let tenants = self.store.tenants().await?;
        for tenant in &tenants {
            self.reload(&tenant.id)
                .await
                .with_context(|| format!("cannot load tenant {:?}", tenant.id))?;
        }
        Ok(tenants.len())
    }

    /// Rebuilds `tenant`'s deployment from the store and swaps it in; a
    /// deleted tenant is dropped.
    pub async fn reload(&self, tenant: &str) -> Result<()> {
        match self.store.tenant(tenant).await {
            Ok(_) => {}
            Err(StoreError::NotFound(_)) => {
                self.tenants
                    .write()
                    .unwrap_or_else(|e| e.into_inner())
                    .remove(tenant);
                self.forget_unused();
                return Ok(());
            }
            Err(e) => return Err(e.into()),
        }
        let env = self.store.env(tenant).await?;
        let secrets = env
            .iter()
            .filter(|v| v.secret && !v.value.is_empty())
            .map(|v| v.value.clone())
            .collect();
        let env = Arc::new(Environ::new(env.iter().map(|v| (&v.key, &v.value)))?);
        let allow = self.store.fetch_allow(tenant).await?;
        let fetcher: Arc<dyn Fetcher> = if allow.is_empty() {
            Arc::new(DenyAll)
        } else {
            let patterns = allow
                .iter()
                .map(|p| AllowPattern::parse(p))
                .collect::<Result<Vec<_>, _>>()
                .context("a stored allow entry does not parse")?;
            Arc::new(HttpFetcher::new(FetchPolicy::from_patterns(patterns)))
        };
        let mut functions = BTreeMap::new();
        for record in self.store.functions(tenant).await? {
            let Some(version) = record.deployed_version else {
                continue;
            };
            let deployed = if version == record.latest.version {
                record.latest.clone()
            } else {
                self.store.version(tenant, &record.name, version).await?
            };
            let function = self
                .compile(
                    &record.name,
                    &deployed.settings,
                    &deployed.source,
                    &deployed.sha256,
                )
                .await?;
            let (limits, on_error) = stage_settings(&deployed.settings)?;
            let stage = Stage {
                env: env.clone(),
                limits,
                on_error,
                fetch: fetcher.clone(),
                version: Some(version),
                ..Stage::new(function)
            };
            functions.insert(
                record.name.clone(),
                LiveFunction {
                    sha256: deployed.sha256.clone(),
                    settings: deployed.settings.clone(),
                    record,
                    version,
                    stage,
                },
            );
        }
        let pipelines = Trigger::ALL
            .into_iter()
            .map(|trigger| (trigger, pipeline_for(&functions, trigger)))
            .collect();
        let deployment = Arc::new(TenantDeployment {
            functions,
            pipelines,
            env,
            fetch: fetcher,
            secrets,
        });
        self.tenants
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(tenant.to_string(), deployment);
        self.forget_unused();
        Ok(())
    }

    /// Drops compiled functions no tenant deploys (drafts, versions rolled
    /// away from, deleted functions), so that a stream of edits cannot grow
    /// memory; their snapshots stay in the store for a fast reload.
    fn forget_unused(&self) {
        let in_use: std::collections::HashSet<(String, String, &'static str)> = self
            .tenants
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .flat_map(|t| t.functions.values())
            .map(|f| {
                (
                    f.sha256.clone(),
                    f.settings.file_name(&f.record.name),
                    super::functions::flavor_of(&f.settings).map_or("detect", Flavor::name),
                )
            })
            .collect();
        self.compiled
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|key, _| in_use.contains(key));
    }

    /// Compiled functions kept in memory.
    pub fn compiled_in_memory(&self) -> usize {
        self.compiled
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .len()
    }

    /// The compiled function for a stored source; a source that no longer
    /// compiles is an error here (it compiled when it was saved).
    async fn compile(
        &self,
        name: &str,
        settings: &FunctionSettings,
        source: &str,
        sha256: &str,
    ) -> Result<Function> {
        self.function_for(
            name,
            &settings.file_name(name),
            super::functions::flavor_of(settings),
            source,
            sha256,
        )
        .await?
        .map_err(|e| anyhow::anyhow!("{e}"))
        .with_context(|| format!("stored function {name:?} does not compile"))
    }

    /// The compiled function for `source` (named `name`, file `file`):
    /// from memory, from a snapshot in the store (made by any node with the
    /// same engine), or compiled once and its snapshot stored. The outer
    /// error is the store's; the inner one the source's.
    pub async fn function_for(
        &self,
        name: &str,
        file: &str,
        flavor: Option<Flavor>,
        source: &str,
        sha256: &str,
    ) -> Result<Result<Function, CompileError>> {
        let file = file.to_string();
        let flavor_name = flavor.map_or("detect", Flavor::name);
        let key = (sha256.to_string(), file.clone(), flavor_name);
        if let Some(function) = self
            .compiled
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
        {
            return Ok(Ok(function.clone()));
        }
        let snapshot_key = format!("{}/{file}/{flavor_name}/{sha256}", self.runtime.engine_id());
        let stored = self.store.snapshot(&snapshot_key).await?;
        let loaded = stored.and_then(|snapshot| match self.runtime.load(name, &snapshot) {
            Ok(function) => Some(function),
            Err(e) => {
                tracing::warn!(function = name, error = %e, "ignoring an unusable stored snapshot");
                None
            }
        });
        let function = match loaded {
            Some(function) => function,
            None => {
                self.compilations
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let compiled = self
                    .runtime
                    .compile_flavored_async(name, &file, source, flavor)
                    .await;
                let function = match compiled {
                    Ok(function) => function,
                    Err(e) => return Ok(Err(e)),
                };
                self.store
                    .put_snapshot(&snapshot_key, function.snapshot())
                    .await?;
                function
            }
        };
        self.compiled
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, function.clone());
        Ok(Ok(function))
    }

    /// The runtime functions run on.
    pub fn runtime(&self) -> &Runtime {
        &self.runtime
    }
}

/// The enabled functions of `trigger`, by run order then name.
fn pipeline_for(functions: &BTreeMap<String, LiveFunction>, trigger: Trigger) -> TriggerPipeline {
    let mut members: Vec<&LiveFunction> = functions
        .values()
        .filter(|f| {
            f.settings.enabled
                && f.settings
                    .triggers
                    .iter()
                    .any(|t| Trigger::parse(t) == Some(trigger))
        })
        .collect();
    members.sort_by(|a, b| {
        (a.record.run_order, &a.record.name).cmp(&(b.record.run_order, &b.record.name))
    });
    TriggerPipeline {
        sync: Pipeline::new(
            members
                .iter()
                .filter(|f| !f.settings.is_async)
                .map(|f| f.stage.clone().in_trigger(trigger.as_str()))
                .collect(),
        ),
        background: members
            .iter()
            .filter(|f| f.settings.is_async)
            .map(|f| f.stage.clone().in_trigger(trigger.as_str()))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use authpipe_store::{FunctionVersion, Quotas, SecretBox, SqliteStore, Tenant, now_ms};

    fn version(source: &str, triggers: &[&str]) -> FunctionVersion {
        FunctionVersion {
            version: 0,
            source: source.into(),
            sha256: format!("{:x}", content_hash(source)),
            settings: FunctionSettings {
                description: String::new(),
                triggers: triggers.iter().map(|t| t.to_string()).collect(),
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

    /// A stand-in for the source's SHA-256 (distinct per source).
    fn content_hash(text: &str) -> u64 {
        text.bytes().fold(1469598103934665603u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(1099511628211)
        })
    }

    const MARK: &str = "function pipe(u, c, cb) { u.trail = (u.trail || []).concat(['MARK']); u.secret = env.SECRET; cb(null, u, c) }";

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn tenants_serve_their_deployed_versions_in_order() {
        let dir = std::env::temp_dir().join(format!("authpipe-registry-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let store = Arc::new(
            SqliteStore::open(&dir.join("db"), SecretBox::new(&[3; 32]))
                .await
                .unwrap(),
        );
        for id in ["acme", "globex"] {
            store
                .create_tenant(&Tenant {
                    id: id.into(),
                    name: id.into(),
                    quotas: Quotas::default(),
                    created_at: now_ms(),
                    updated_at: now_ms(),
                })
                .await
                .unwrap();
        }
        let first = MARK.replace("'MARK'", "'first'");
        let second = MARK.replace("'MARK'", "'second'");
        store
            .create_function("acme", "b", &version(&second, &["pre-register"]), 20, true)
            .await
            .unwrap();
        store
            .create_function("acme", "a", &version(&first, &["PRE_REGISTER"]), 10, true)
            .await
            .unwrap();
        store
            .add_version(
                "acme",
                "a",
                &version(&MARK.replace("'MARK'", "'draft'"), &["pre-register"]),
                None,
                false,
            )
            .await
            .unwrap();
        store
            .set_env("acme", "SECRET", "s3cret", true)
            .await
            .unwrap();

        let registry = Registry::new(store.clone(), Runtime::new().unwrap());
        registry.load_all().await.unwrap();
        let input = br#"{"user":{},"context":{}}"#.to_vec();
        let acme = registry.tenant("acme");
        let result = acme.pipelines[&Trigger::PreRegister]
            .sync
            .run(input.clone())
            .await;
        assert_eq!(
            result.user["trail"],
            serde_json::json!(["first", "second"]),
            "{result:#?}"
        );
        assert_eq!(
            result.user["secret"], "s3cret",
            "secrets reach the function"
        );
        assert!(registry.tenant("globex").functions.is_empty());

        // Promote the draft: only this tenant changes.
        store.deploy("acme", "a", 2).await.unwrap();
        registry.reload("acme").await.unwrap();
        let result = registry.tenant("acme").pipelines[&Trigger::PreRegister]
            .sync
            .run(input.clone())
            .await;
        assert_eq!(result.user["trail"], serde_json::json!(["draft", "second"]));
        assert_eq!(registry.tenant("acme").functions["a"].version, 2);
        assert_eq!(
            registry.compiled_in_memory(),
            2,
            "the version rolled away from is not kept in memory"
        );

        // A second node (a new registry over the same store) loads the
        // stored snapshots instead of compiling.
        let engine = Runtime::new().unwrap().engine_id();
        let key = format!(
            "{engine}/a.js/detect/{}",
            registry.tenant("acme").functions["a"].record.latest.sha256
        );
        assert!(
            store.snapshot(&key).await.unwrap().is_some(),
            "snapshot stored"
        );
        let second = Registry::new(store.clone(), Runtime::new().unwrap());
        second.load_all().await.unwrap();
        assert_eq!(second.tenant("acme").functions["a"].version, 2);

        store.delete_tenant("acme").await.unwrap();
        registry.reload("acme").await.unwrap();
        assert!(registry.tenant("acme").functions.is_empty());
        assert_eq!(registry.compiled_in_memory(), 0);
    }
}
