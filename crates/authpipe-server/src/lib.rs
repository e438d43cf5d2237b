//! The authpipe HTTP invoke service (`authpipe serve`).
//!
//! * [`config`]: `authpipe.toml`, validated with file/line errors.
//! * [`deployment`]: the compiled functions and per-trigger pipelines of one
//!   configuration; reloads swap whole deployments.
//! * [`http`]: the API. [`http::handle`] turns a request into a response
//!   without a socket; [`serve`] binds, accepts, reloads on SIGHUP and shuts
//!   down gracefully on SIGINT/SIGTERM.
#![deny(missing_docs)]

pub mod config;
pub mod deployment;
pub mod http;
pub mod metrics;

use anyhow::{Context, Result};
use authpipe::{Runtime, RuntimeConfig};
use config::Config;
use deployment::Deployment;
use http::AppState;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio::signal::unix::{SignalKind, signal};

/// How long shutdown waits for in-flight requests.
const REQUEST_GRACE: Duration = Duration::from_secs(30);

/// Settings of [`serve`].
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// The `authpipe.toml` to serve.
    pub config_path: PathBuf,
    /// Overrides `[server] listen`.
    pub listen: Option<SocketAddr>,
    /// Runtime settings (on-disk cache).
    pub runtime: RuntimeConfig,
}

/// The API token in force: the value of `[server] api_token_env`, when that
/// variable is set and non-empty.
pub fn api_token(config: &Config) -> Option<String> {
    let name = config.server.api_token_env.as_deref()?;
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// Serves the HTTP API until SIGINT or SIGTERM.
///
/// Prints `authpipe: listening on http://ADDR` on stderr once ready.
pub async fn serve(options: ServeOptions) -> Result<()> {
    let started = Instant::now();
    let config = Config::load(&options.config_path, &|name| std::env::var(name).ok())?;
    // Room in the sandbox pool for every admitted invocation and every
    // running async one (fixed at start; a reload cannot resize it).
    let mut runtime_config = options.runtime.clone();
    runtime_config.max_concurrent_calls(
        (config.server.max_concurrent_invocations + config::ASYNC_CONCURRENCY + 8) as u32,
    );
    let runtime = Runtime::with_config(&runtime_config)?;
    let token = api_token(&config);
    let listen = options.listen.unwrap_or(config.server.listen);
    let (deployment, stats) = Deployment::build(&runtime, config, None, token)
        .await
        .context("cannot start: a function did not compile")?;
    let listener = TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    let address = listener.local_addr()?;
    let functions = deployment.functions.len();
    let auth = if deployment.api_token.is_some() {
        "bearer token required"
    } else {
        "no auth"
    };
    let grace = deployment.config.server.async_grace;
    let state = Arc::new(AppState::new(
        runtime,
        options.config_path.clone(),
        deployment,
    ));
    tracing::info!(%address, functions, compiled = stats.compiled, startup_ms = started.elapsed().as_millis() as u64, auth, "ready");
    eprintln!(
        "authpipe: listening on http://{address} ({functions} functions, ready in {} ms, {auth})",
        started.elapsed().as_millis()
    );

    let mut hangup = signal(SignalKind::hangup()).context("cannot watch SIGHUP")?;
    let mut terminate = signal(SignalKind::terminate()).context("cannot watch SIGTERM")?;
    let mut interrupt = signal(SignalKind::interrupt()).context("cannot watch SIGINT")?;
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(accepted) => accepted,
                    Err(e) => {
                        tracing::warn!(error = %e, "accept failed");
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let state = state.clone();
                let service = service_fn(move |request| {
                    let state = state.clone();
                    async move { Ok::<_, Infallible>(http::handle(&state, request).await) }
                });
                let connection = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service);
                let connection = graceful.watch(connection);
                tokio::spawn(async move {
                    if let Err(e) = connection.await {
                        tracing::debug!(%peer, error = %e, "connection ended with an error");
                    }
                });
            }
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

    drop(listener);
    tracing::info!("shutting down: no new connections; finishing in-flight requests");
    if tokio::time::timeout(REQUEST_GRACE, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            "some connections did not finish within {} s",
            REQUEST_GRACE.as_secs()
        );
    }
    let unfinished = state.drain_async(grace).await;
    if unfinished > 0 {
        tracing::warn!(
            unfinished,
            "async functions still running at the end of the grace period"
        );
    }
    tracing::info!("stopped");
    eprintln!("authpipe: stopped");
    Ok(())
}
