//! The authpipe HTTP invoke service (`authpipe serve`).
//!
//! * [`config`]: `authpipe.toml`, validated with file/line errors.
//! * [`deployment`]: the compiled functions and per-trigger pipelines of one
//!   configuration; reloads swap whole deployments.
//! * [`http`]: the API. [`http::handle`] turns a request into a response
//!   without a socket; [`serve`] binds, accepts, reloads on SIGHUP and shuts
//!   down gracefully on SIGINT/SIGTERM.
//! * [`connection`] and [`body`]: connection caps and timeouts, body limits.
//! * [`platform`]: store mode's per-tenant deployments (in progress).
#![deny(missing_docs)]

pub mod body;
pub mod config;
pub mod connection;
pub mod console;
pub mod deployment;
pub mod error;
pub mod http;
pub mod invocation_log;
pub mod metrics;
pub mod platform;
pub mod templates;

use anyhow::{Context, Result};
use authpipe::{Runtime, RuntimeConfig};
use config::Config;
use connection::{ConnectionTimeouts, GuardedBody, Tracked};
use deployment::Deployment;
use http::{AppState, Listener};
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use metrics::Metrics;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::Semaphore;

/// Settings of [`serve`].
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// The `authpipe.toml` to serve (file mode), or whose `[server]` table
    /// applies (store mode; `None` there means the defaults).
    pub config_path: Option<PathBuf>,
    /// Store mode: the SQLite database to serve tenants from.
    pub store: Option<PathBuf>,
    /// Overrides `[server] listen`.
    pub listen: Option<SocketAddr>,
    /// Runtime settings (on-disk cache).
    pub runtime: RuntimeConfig,
}

/// Serves the HTTP API until SIGINT or SIGTERM.
///
/// Prints `authpipe: listening on http://ADDR` on stderr once ready.
pub async fn serve(options: ServeOptions) -> Result<()> {
    let started = Instant::now();
    let lookup = |name: &str| std::env::var(name).ok();
    let config_path = options
        .config_path
        .clone()
        .unwrap_or_else(|| PathBuf::from("authpipe.toml"));
    let mut config = match (&options.store, &options.config_path) {
        (None, _) | (Some(_), Some(_)) => Config::load(&config_path, &lookup)?,
        (Some(_), None) => Config::parse(&config_path, "", &lookup)?,
    };
    let admin_token = match &options.store {
        Some(_) => {
            if !config.functions.is_empty() {
                anyhow::bail!(
                    "{}: in store mode the configuration may hold only [server]; push its functions into a tenant with `authpipe deploy`",
                    config_path.display()
                );
            }
            let token = std::env::var("AUTHPIPE_ADMIN_TOKEN").unwrap_or_default();
            if token.trim().len() < 16 {
                anyhow::bail!(
                    "store mode needs the platform admin token in AUTHPIPE_ADMIN_TOKEN (at least 16 characters); it is {}",
                    if token.is_empty() {
                        "not set"
                    } else {
                        "too short"
                    }
                );
            }
            // /metrics (with metrics_auth) takes the admin token.
            config.server.api_token = Some(token.trim().to_string());
            Some(token.trim().to_string())
        }
        None => None,
    };
    // Room in the sandbox pool for every admitted invocation and every
    // running async one (fixed at start; a reload cannot resize it).
    let mut runtime_config = options.runtime.clone();
    runtime_config.max_concurrent_calls(
        (config.server.max_concurrent_invocations + config::ASYNC_CONCURRENCY) as u32,
    );
    let runtime = Runtime::with_config(&runtime_config)?;
    let listen = options.listen.unwrap_or(config.server.listen);
    let metrics = Arc::new(Metrics::default());
    let (deployment, stats) = Deployment::build(&runtime, config, None, &metrics)
        .await
        .context("cannot start: a function did not compile")?;
    let listener = TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    let address = listener.local_addr()?;
    let server = deployment.config.server.clone();
    let metrics_listener = match server.metrics_listen {
        Some(at) => Some(
            TcpListener::bind(at)
                .await
                .with_context(|| format!("cannot listen on {at} (metrics_listen)"))?,
        ),
        None => None,
    };
    let functions = deployment.functions.len();
    let auth = if server.api_token.is_some() {
        "bearer token required"
    } else {
        "no auth"
    };
    let mut state = AppState::new(runtime.clone(), config_path, deployment, metrics.clone());
    let platform = match (&options.store, admin_token) {
        (Some(path), Some(admin_token)) => {
            let settings = platform::PlatformSettings {
                admin_token,
                default_quotas: state.deployment().config.platform.default_quotas.clone(),
                retention: platform::history::Retention {
                    max_records: state.deployment().config.platform.history_max_records,
                    max_age: state.deployment().config.platform.history_max_age,
                },
                node_id: platform::node_id(),
            };
            let pool_size = state.deployment().config.platform.store_pool_size;
            let platform =
                start_platform(path, pool_size, runtime, metrics.clone(), settings).await?;
            state = state.with_platform(platform.clone());
            Some(platform)
        }
        _ => None,
    };
    let state = Arc::new(state);
    match &platform {
        Some(platform) => {
            let (tenants, functions) = platform.served();
            let store = store_display(
                &options
                    .store
                    .as_deref()
                    .unwrap_or(std::path::Path::new(""))
                    .display()
                    .to_string(),
            );
            let compiled = platform.registry.compilations();
            tracing::info!(%address, %store, tenants, functions, compiled, startup_ms = started.elapsed().as_millis() as u64, "ready (store mode)");
            eprintln!(
                "authpipe: listening on http://{address} (store {store}: {tenants} tenants, {functions} functions, {compiled} compiled, ready in {} ms)",
                started.elapsed().as_millis()
            );
        }
        None => {
            tracing::info!(%address, functions, compiled = stats.compiled, startup_ms = started.elapsed().as_millis() as u64, auth, "ready");
            eprintln!(
                "authpipe: listening on http://{address} ({functions} functions, ready in {} ms, {auth})",
                started.elapsed().as_millis()
            );
        }
    }

    let timeouts = ConnectionTimeouts {
        header: server.header_timeout,
        idle: server.idle_timeout,
    };
    let connections = Arc::new(Semaphore::new(server.max_connections));
    let accept = tokio::spawn(accept_loop(
        listener,
        state.clone(),
        Listener::Api,
        connections.clone(),
        timeouts,
    ));
    let metrics_accept = metrics_listener.map(|listener| {
        let local = listener.local_addr().ok();
        tracing::info!(address = ?local, "serving /metrics and /healthz");
        tokio::spawn(accept_loop(
            listener,
            state.clone(),
            Listener::Metrics,
            Arc::new(Semaphore::new(64)),
            timeouts,
        ))
    });
    let trimmer = tokio::spawn(return_freed_memory(metrics.clone()));

    let mut hangup = signal(SignalKind::hangup()).context("cannot watch SIGHUP")?;
    let mut terminate = signal(SignalKind::terminate()).context("cannot watch SIGTERM")?;
    let mut interrupt = signal(SignalKind::interrupt()).context("cannot watch SIGINT")?;
    loop {
        tokio::select! {
            _ = hangup.recv() => {
                tracing::info!("SIGHUP: reloading the configuration");
                let state = state.clone();
                tokio::spawn(async move {
                    let _ = state.reload().await;
                });
            }
            _ = terminate.recv() => break,
            _ = interrupt.recv() => break,
        }
    }

    accept.abort();
    if let Some(task) = metrics_accept {
        task.abort();
    }
    trimmer.abort();
    tracing::info!("shutting down: no new connections; finishing requests in progress");
    state.begin_shutdown();
    let all = server.max_connections as u32;
    if tokio::time::timeout(server.shutdown_grace, connections.acquire_many(all))
        .await
        .is_err()
    {
        tracing::warn!(
            "requests still in progress after {} ms; cancelling them",
            server.shutdown_grace.as_millis()
        );
        state.cancel_requests();
    }
    let unfinished = state.drain_async(server.async_grace).await;
    if unfinished > 0 {
        tracing::warn!(
            unfinished,
            "async functions still running at the end of the grace period were cancelled"
        );
    }
    if let Some(platform) = &platform {
        platform.close(server.shutdown_grace).await;
        platform.store.close().await;
    }
    tracing::info!("stopped");
    eprintln!("authpipe: stopped");
    Ok(())
}

/// Opens the store `spec` — a SQLite file (the master key from
/// `AUTHPIPE_MASTER_KEY` or a 0600 key file beside it) or a `postgres://`
/// URL (the master key from `AUTHPIPE_MASTER_KEY`; `pool_size`
/// connections) — loads every tenant, and follows the other nodes on a
/// shared store.
async fn start_platform(
    spec: &std::path::Path,
    pool_size: u32,
    runtime: Runtime,
    metrics: Arc<Metrics>,
    settings: platform::PlatformSettings,
) -> Result<Arc<platform::Platform>> {
    let spec = spec
        .to_str()
        .context("the --store path or URL is not UTF-8")?;
    let shown = store_display(spec);
    let master = std::env::var("AUTHPIPE_MASTER_KEY").ok();
    let store = authpipe_store::AnyStore::open(spec, pool_size, master.as_deref())
        .await
        .with_context(|| format!("cannot open the store {shown}"))?;
    let platform = platform::Platform::start(Arc::new(store), runtime, metrics, settings)
        .await
        .with_context(|| format!("cannot load the tenants of {shown}"))?;
    let platform = Arc::new(platform);
    platform::cluster::follow(&platform);
    Ok(platform)
}

/// `spec` without a password (`postgres://user:secret@host/db` →
/// `postgres://user:***@host/db`), for messages and logs.
pub fn store_display(spec: &str) -> String {
    match url::Url::parse(spec) {
        Ok(mut url) if url.password().is_some() => {
            let _ = url.set_password(Some("***"));
            url.to_string()
        }
        _ => spec.to_string(),
    }
}

/// Accepts connections on `listener` until aborted, each under
/// `connections` (the cap) and the connection timeouts.
async fn accept_loop(
    listener: TcpListener,
    state: Arc<AppState>,
    which: Listener,
    connections: Arc<Semaphore>,
    timeouts: ConnectionTimeouts,
) {
    loop {
        let (mut stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                // Out of file descriptors and the like: back off briefly.
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        let Ok(permit) = connections.clone().try_acquire_owned() else {
            state
                .metrics
                .connections_refused
                .fetch_add(1, Ordering::Relaxed);
            tokio::spawn(async move {
                let write = stream.write_all(connection::OVER_CAPACITY_RESPONSE);
                let _ = tokio::time::timeout(Duration::from_secs(1), write).await;
                let _ = stream.shutdown().await;
            });
            continue;
        };
        let _ = stream.set_nodelay(true);
        let state = state.clone();
        tokio::spawn(async move {
            state
                .metrics
                .connections_open
                .fetch_add(1, Ordering::Relaxed);
            let (io, activity) = Tracked::new(stream);
            let service = {
                let (state, activity) = (state.clone(), activity.clone());
                service_fn(move |request| {
                    let guard = activity.request_started();
                    let state = state.clone();
                    async move {
                        let response = http::handle(&state, which, request).await;
                        Ok::<_, Infallible>(
                            response.map(|body| GuardedBody::new(body, Some(guard))),
                        )
                    }
                })
            };
            let connection = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(None)
                .serve_connection(TokioIo::new(io), service);
            let closed =
                connection::supervise(connection, activity, timeouts, state.stopping()).await;
            if let Some(reason) = closed {
                tracing::debug!(%peer, reason = reason.as_str(), "connection closed by the server");
                state.metrics.record_closed(reason.as_str());
            }
            state
                .metrics
                .connections_open
                .fetch_sub(1, Ordering::Relaxed);
            drop(permit);
        });
    }
}

/// Gives memory freed after a burst (request bodies, connection buffers)
/// back to the operating system: glibc's allocator keeps freed memory in
/// its arenas otherwise, and the process would stay at its peak size.
async fn return_freed_memory(metrics: Arc<Metrics>) {
    let mut last_open = 0;
    loop {
        tokio::time::sleep(Duration::from_secs(2)).await;
        let open = metrics.connections_open.load(Ordering::Relaxed);
        if open + 16 < last_open || (open == 0 && last_open > 0) {
            trim();
        }
        last_open = open;
    }
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn trim() {
    // SAFETY: malloc_trim only releases free memory of the allocator.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn trim() {}
