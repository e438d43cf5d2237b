//! The compiled set of functions and pipelines one configuration describes.
//!
//! A deployment is immutable; a reload builds a new one (reusing every
//! function whose source and settings did not change) and swaps it in, so
//! in-flight requests finish on the one they started with.

use crate::config::{Config, FunctionConfig, Trigger};
use crate::metrics::Metrics;
use anyhow::{Context, Result};
use authpipe::fetch::{DenyAll, FetchError, FetchRequest, FetchResponse, Fetcher, HttpFetcher};
use authpipe::{Environ, Function, Pipeline, Runtime, Stage};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// A configured, compiled function.
#[derive(Debug, Clone)]
pub struct DeployedFunction {
    /// Its configuration.
    pub config: FunctionConfig,
    /// The stage that runs it (function, env, limits, on_error).
    pub stage: Stage,
    /// SHA-256 of its source, hex.
    pub source_hash: String,
}

/// A trigger's pipeline: synchronous stages in order, then async ones.
#[derive(Debug, Clone, Default)]
pub struct TriggerPipeline {
    /// Enabled `async = false` functions, ascending `order`.
    pub sync: Pipeline,
    /// Enabled `async = true` functions, ascending `order`.
    pub background: Vec<Stage>,
}

/// Everything one configuration describes, compiled.
#[derive(Debug)]
pub struct Deployment {
    /// The configuration.
    pub config: Config,
    /// Functions by name.
    pub functions: BTreeMap<String, DeployedFunction>,
    /// Pipelines by trigger (every trigger has one, possibly empty).
    pub pipelines: HashMap<Trigger, TriggerPipeline>,
}

/// How a deployment was built.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BuildStats {
    /// Functions compiled (or loaded from the snapshot cache).
    pub compiled: usize,
    /// Functions reused unchanged from the previous deployment.
    pub reused: usize,
}

/// SHA-256 of a function's source, hex.
pub fn source_hash(source: &str) -> String {
    Sha256::digest(source.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl Deployment {
    /// Compiles `config`'s functions (concurrently, on the blocking pool),
    /// reusing those of `previous` whose source is unchanged. Their `fetch`
    /// requests are counted in `metrics`.
    pub async fn build(
        runtime: &Runtime,
        config: Config,
        previous: Option<&Deployment>,
        metrics: &Arc<Metrics>,
    ) -> Result<(Deployment, BuildStats)> {
        let env = Arc::new(Environ::new(config.env.iter().map(|(k, v)| (k, v)))?);
        let mut stats = BuildStats::default();
        let mut compiled: BTreeMap<String, Function> = BTreeMap::new();
        let hashes: BTreeMap<&str, String> = config
            .functions
            .iter()
            .map(|f| (f.name.as_str(), source_hash(&f.source)))
            .collect();
        let mut tasks = tokio::task::JoinSet::new();
        for function in &config.functions {
            let reusable = previous
                .and_then(|p| p.functions.get(&function.name))
                .filter(|old| {
                    old.source_hash == hashes[function.name.as_str()]
                        && old.config.source_file == function.source_file
                        && old.config.flavor == function.flavor
                })
                .map(|old| old.stage.function.clone());
            match reusable {
                Some(old) => {
                    stats.reused += 1;
                    compiled.insert(function.name.clone(), old);
                }
                None => {
                    stats.compiled += 1;
                    let (runtime, function) = (runtime.clone(), function.clone());
                    tasks.spawn(async move {
                        let result = runtime
                            .compile_flavored_async(
                                &function.name,
                                &function.source_file,
                                &function.source,
                                function.flavor,
                            )
                            .await;
                        (function, result)
                    });
                }
            }
        }
        let mut failures = Vec::new();
        while let Some(joined) = tasks.join_next().await {
            let (function, result) = joined.context("a compile task failed")?;
            match result {
                Ok(compiled_function) => {
                    for warning in compiled_function.warnings() {
                        tracing::warn!(function = %function.name, "{warning}");
                    }
                    compiled.insert(function.name.clone(), compiled_function);
                }
                Err(error) => failures.push(format!(
                    "{}:{}: function {:?} ({}): {error}",
                    config.path.display(),
                    function.line,
                    function.name,
                    function.source_path.display()
                )),
            }
        }
        if !failures.is_empty() {
            failures.sort();
            anyhow::bail!("{}", failures.join("\n"));
        }

        for entry in config.fetch.allow() {
            if let Some(why) = entry.unreachable_because() {
                tracing::warn!(
                    entry = entry.as_str(),
                    "this [fetch] allow entry reaches nothing: {why}"
                );
            }
        }
        let inner: Arc<dyn Fetcher> = if config.fetch.allow().is_empty() {
            Arc::new(DenyAll)
        } else {
            Arc::new(HttpFetcher::new(config.fetch.clone()))
        };
        let fetcher: Arc<dyn Fetcher> = Arc::new(MeteredFetcher {
            inner,
            metrics: metrics.clone(),
        });
        let mut functions = BTreeMap::new();
        for function in &config.functions {
            let stage = Stage {
                env: env.clone(),
                limits: function.limits,
                on_error: function.on_error,
                fetch: fetcher.clone(),
                ..Stage::new(compiled.remove(&function.name).expect("compiled above"))
            };
            functions.insert(
                function.name.clone(),
                DeployedFunction {
                    config: function.clone(),
                    stage,
                    source_hash: hashes[function.name.as_str()].clone(),
                },
            );
        }
        let pipelines = Trigger::ALL
            .into_iter()
            .map(|trigger| (trigger, pipeline_for(&config, &functions, trigger)))
            .collect();
        Ok((
            Deployment {
                config,
                functions,
                pipelines,
            },
            stats,
        ))
    }
}

/// The enabled functions of `trigger`, ascending `order` (file order on ties).
fn pipeline_for(
    config: &Config,
    functions: &BTreeMap<String, DeployedFunction>,
    trigger: Trigger,
) -> TriggerPipeline {
    let mut members: Vec<&FunctionConfig> = config
        .functions
        .iter()
        .filter(|f| f.enabled && f.triggers.contains(&trigger))
        .collect();
    members.sort_by_key(|f| f.order);
    let stage = |f: &&FunctionConfig| {
        functions[&f.name]
            .stage
            .clone()
            .in_trigger(trigger.as_str())
    };
    TriggerPipeline {
        sync: Pipeline::new(members.iter().filter(|f| !f.is_async).map(stage).collect()),
        background: members.iter().filter(|f| f.is_async).map(stage).collect(),
    }
}

/// Counts every `fetch` of the functions by host and result.
#[derive(Debug)]
struct MeteredFetcher {
    inner: Arc<dyn Fetcher>,
    metrics: Arc<Metrics>,
}

impl Fetcher for MeteredFetcher {
    fn fetch(
        &self,
        request: &FetchRequest,
        deadline: std::time::Instant,
    ) -> Result<FetchResponse, FetchError> {
        let answer = self.inner.fetch(request, deadline);
        let host = url::Url::parse(&request.url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_ascii_lowercase))
            .unwrap_or_else(|| "invalid".into());
        let status = match &answer {
            Ok(response) => response.status.to_string(),
            Err(FetchError::Denied { .. }) => "denied".into(),
            Err(FetchError::Deadline { .. }) => "timeout".into(),
            Err(FetchError::Failed(_)) => "error".into(),
        };
        self.metrics.record_fetch(&host, &status);
        answer
    }
}
