//! Requests to responses: routing, auth, limits and the JSON API.
//!
//! [`handle`] needs no socket, so it is the one place every endpoint and
//! status code is decided; errors become responses in one place
//! ([`ApiError::into_response`]). A failing function is never a 5xx: it is
//! outcome `error` in a 200.

use crate::body::{self, BodyLimits, BodyRefusal};
use crate::config::Trigger;
use crate::deployment::{BuildStats, Deployment};
use crate::error::{ApiError, json_response};
use crate::invocation_log::{Invoked, log_invocation};
use crate::metrics::Metrics;
use crate::platform::Platform;
use authpipe::{CancelToken, InvocationResult, OnError, Outcome, Runtime, Stage};
use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Body;
use hyper::header::{self, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};
use tokio::sync::{Notify, Semaphore, watch};
use tracing::Instrument;

/// Everything the handlers share.
pub struct AppState {
    runtime: Runtime,
    config_path: PathBuf,
    deployment: RwLock<Arc<Deployment>>,
    /// Counters for `/metrics`.
    pub metrics: Arc<Metrics>,
    invocations: Arc<Semaphore>,
    /// Async invocations waiting or running (the queue bound).
    async_slots: Arc<Semaphore>,
    /// Async invocations running.
    async_running: Arc<Semaphore>,
    async_idle: Notify,
    reloading: tokio::sync::Mutex<()>,
    next_request_id: AtomicU64,
    body_limits: BodyLimits,
    /// Becomes true when shutdown begins.
    stopping: watch::Sender<bool>,
    /// Parent of every request's cancel token: cancelled when shutdown
    /// gives up waiting for requests in progress.
    request_cancel: CancelToken,
    /// Parent of every async invocation's cancel token: cancelled at the end
    /// of `async_grace_ms`.
    async_cancel: CancelToken,
    /// Store mode: the tenants and the management API.
    platform: Option<Arc<Platform>>,
}

/// Why a reload failed (the old deployment keeps serving).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ReloadError(pub String);

impl AppState {
    /// State serving `deployment`, read from `config_path`, counting into
    /// `metrics`.
    pub fn new(
        runtime: Runtime,
        config_path: PathBuf,
        deployment: Deployment,
        metrics: Arc<Metrics>,
    ) -> Self {
        let server = &deployment.config.server;
        Self {
            invocations: Arc::new(Semaphore::new(server.max_concurrent_invocations)),
            async_slots: Arc::new(Semaphore::new(server.max_async_queue)),
            async_running: Arc::new(Semaphore::new(crate::config::ASYNC_CONCURRENCY)),
            body_limits: BodyLimits::new(
                server.max_body_bytes,
                server.body_timeout,
                server.max_body_bytes_in_flight,
            ),
            runtime,
            config_path,
            deployment: RwLock::new(Arc::new(deployment)),
            metrics,
            async_idle: Notify::new(),
            reloading: tokio::sync::Mutex::new(()),
            next_request_id: AtomicU64::new(1),
            stopping: watch::channel(false).0,
            request_cancel: CancelToken::new(),
            async_cancel: CancelToken::new(),
            platform: None,
        }
    }

    /// This state serving `platform` (store mode) as well.
    pub fn with_platform(mut self, platform: Arc<Platform>) -> Self {
        self.platform = Some(platform);
        self
    }

    /// Store mode's platform, if serving one.
    pub fn platform(&self) -> Option<&Arc<Platform>> {
        self.platform.as_ref()
    }

    /// A cancel token for one request's sandbox (cancelled when shutdown
    /// gives up waiting).
    pub fn request_cancel(&self) -> CancelToken {
        self.request_cancel.child()
    }

    /// The deployment new requests use.
    pub fn deployment(&self) -> Arc<Deployment> {
        self.deployment
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Tells connections and body reads that shutdown has begun.
    pub fn begin_shutdown(&self) {
        self.stopping.send_replace(true);
    }

    /// Becomes true when shutdown begins.
    pub fn stopping(&self) -> watch::Receiver<bool> {
        self.stopping.subscribe()
    }

    /// Stops the sandboxes of requests still in progress (the end of the
    /// shutdown grace period).
    pub fn cancel_requests(&self) {
        self.request_cancel.cancel();
    }

    /// Re-reads the configuration and swaps in the new deployment, compiling
    /// only what changed. On any error the current deployment stays.
    pub async fn reload(&self) -> Result<BuildStats, ReloadError> {
        let _one_at_a_time = self.reloading.lock().await;
        if let Some(platform) = &self.platform {
            let result = platform.registry.load_all().await;
            self.metrics.record_reload(result.is_ok());
            return match result {
                Ok(tenants) => {
                    tracing::info!(tenants, "tenants reloaded from the store");
                    Ok(BuildStats::default())
                }
                Err(e) => {
                    tracing::error!(error = %format!("{e:#}"), "reloading from the store failed; the previous deployments keep serving");
                    Err(ReloadError(format!("{e:#}")))
                }
            };
        }
        let result = async {
            let config =
                crate::config::Config::load(&self.config_path, &|name| std::env::var(name).ok())
                    .map_err(|e| ReloadError(e.to_string()))?;
            let current = self.deployment();
            let (deployment, stats) =
                Deployment::build(&self.runtime, config, Some(&current), &self.metrics)
                    .await
                    .map_err(|e| ReloadError(format!("{e:#}")))?;
            *self.deployment.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(deployment);
            Ok(stats)
        }
        .await;
        self.metrics.record_reload(result.is_ok());
        match &result {
            Ok(stats) => tracing::info!(
                compiled = stats.compiled,
                reused = stats.reused,
                "configuration reloaded"
            ),
            Err(e) => {
                tracing::error!(error = %e, "reload failed; the previous configuration keeps serving")
            }
        }
        result
    }

    /// Waits until no async invocation runs, or `grace` has passed; then
    /// cancels those still running and returns how many there were.
    pub async fn drain_async(&self, grace: Duration) -> i64 {
        let wait = async {
            loop {
                let notified = self.async_idle.notified();
                if self.metrics.async_queue_depth.load(Ordering::SeqCst) <= 0 {
                    return;
                }
                notified.await;
            }
        };
        let _ = tokio::time::timeout(grace, wait).await;
        let unfinished = self.metrics.async_queue_depth.load(Ordering::SeqCst);
        if unfinished > 0 {
            self.async_cancel.cancel();
        }
        unfinished
    }

    fn request_id(&self, request: &Request<impl Body>) -> String {
        let given = request
            .headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .filter(|v| !v.is_empty() && v.len() <= 64 && v.bytes().all(|b| b.is_ascii_graphic()));
        match given {
            Some(id) => id.to_string(),
            None => format!(
                "{:08x}",
                self.next_request_id.fetch_add(1, Ordering::Relaxed)
            ),
        }
    }
}

type HttpResponse = Response<Full<Bytes>>;

/// Which endpoints a listener serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listener {
    /// The whole API.
    Api,
    /// Only `/metrics` and `/healthz` (`[server] metrics_listen`).
    Metrics,
}

/// Answers one request.
pub async fn handle<B>(
    state: &Arc<AppState>,
    listener: Listener,
    request: Request<B>,
) -> HttpResponse
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let request_id = state.request_id(&request);
    let (parts, body) = request.into_parts();
    let (body, body_read) = body::ReadToEnd::new(body);
    let request = Request::from_parts(parts, body);
    let span = tracing::info_span!("request", id = %request_id, method = %request.method(), path = %request.uri().path());
    async {
        let started = Instant::now();
        let mut response = route(state, listener, request)
            .await
            .unwrap_or_else(ApiError::into_response);
        let status = response.status();
        state.metrics.record_http(status.as_u16());
        state
            .metrics
            .record_http_duration(started.elapsed().as_secs_f64());
        if let Ok(value) = HeaderValue::from_str(&request_id) {
            response.headers_mut().insert("x-request-id", value);
        }
        if !body_read.load(Ordering::Relaxed) {
            // hyper closes the connection after answering without the body
            // read; say so, or a client reusing it sees it drop.
            response
                .headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        tracing::debug!(
            status = status.as_u16(),
            duration_us = started.elapsed().as_micros() as u64,
            "request done"
        );
        response
    }
    .instrument(span)
    .await
}

async fn route<B>(
    state: &Arc<AppState>,
    listener: Listener,
    request: Request<B>,
) -> Result<HttpResponse, ApiError>
where
    B: Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let path = request.uri().path().to_string();
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let not_found = || ApiError::not_found(format!("no such endpoint: {path}"));
    if let (Some(platform), Listener::Api) = (&state.platform, listener) {
        match segments.as_slice() {
            ["v1", "openapi.json"] => {
                return Ok(json_response(
                    StatusCode::OK,
                    crate::platform::openapi::document().into_bytes(),
                ));
            }
            ["v1", "tenants", rest @ ..] => {
                return crate::platform::api::route(state, platform, request, rest).await;
            }
            ["v1", "whoami" | "templates", ..] => {
                let rest = &segments[1..];
                return crate::platform::api::route_shared(state, platform, request, rest).await;
            }
            ["console", ..] => return Ok(crate::console::serve(&request)),
            ["v1", ..] => {
                return Err(ApiError::not_found(format!(
                    "no such endpoint: {path} (store mode serves functions under /v1/tenants/{{tenant}}/…)"
                )));
            }
            _ => {}
        }
    }
    let allowed = match (listener, segments.as_slice()) {
        (_, ["healthz"] | ["readyz"] | ["metrics"]) | (Listener::Api, ["v1", "functions"]) => {
            Method::GET
        }
        (
            Listener::Api,
            ["v1", "pipelines", _] | ["v1", "functions", _, "invoke"] | ["v1", "admin", "reload"],
        ) => Method::POST,
        _ => return Err(not_found()),
    };
    if request.method() != allowed {
        let allow = if allowed == Method::GET {
            "GET"
        } else {
            "POST"
        };
        return Err(ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            format!("{path} accepts {allowed} only"),
        )
        .with_header(header::ALLOW, allow));
    }
    let deployment = state.deployment();
    match segments.as_slice() {
        ["healthz"] => Ok(json_response(
            StatusCode::OK,
            br#"{"status":"ok"}"#.to_vec(),
        )),
        ["readyz"] => readiness(state).await,
        ["metrics"] => {
            if deployment.config.server.metrics_auth {
                authorize(&deployment, &request)?;
            }
            let mut text = state.metrics.render(state.runtime.calls_in_flight());
            if let Some(platform) = &state.platform {
                text.push_str(&platform.metrics_text());
            }
            let mut response = Response::new(Full::new(Bytes::from(text)));
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
            );
            Ok(response)
        }
        _ => {
            authorize(&deployment, &request)?;
            match segments.as_slice() {
                ["v1", "functions"] => Ok(list_functions(&deployment)),
                ["v1", "pipelines", trigger] => {
                    let trigger = trigger.to_string();
                    run_pipeline(state, deployment, &trigger, request).await
                }
                ["v1", "functions", name, "invoke"] => {
                    let name = name.to_string();
                    invoke_function(state, deployment, &name, request).await
                }
                ["v1", "admin", "reload"] => match state.reload().await {
                    Ok(stats) => Ok(json_response(
                        StatusCode::OK,
                        json!({"status": "reloaded", "compiled": stats.compiled, "reused": stats.reused})
                            .to_string()
                            .into_bytes(),
                    )),
                    Err(e) => Err(ApiError::bad_request(format!(
                        "reload failed, previous configuration kept: {e}"
                    ))),
                },
                _ => Err(not_found()),
            }
        }
    }
}

/// `GET /readyz`: 200 while this node should get traffic — serving (not
/// draining) and, in store mode, its store answering; 503 with the reason
/// otherwise. `/healthz` only says the process is alive.
async fn readiness(state: &Arc<AppState>) -> Result<HttpResponse, ApiError> {
    if *state.stopping().borrow() {
        return Err(ApiError::unavailable("shutting down"));
    }
    if let Some(platform) = &state.platform {
        platform
            .check_store()
            .await
            .map_err(|e| ApiError::unavailable(format!("the store does not answer: {e}")))?;
    }
    Ok(json_response(
        StatusCode::OK,
        br#"{"status":"ready"}"#.to_vec(),
    ))
}

/// Checks the bearer token when one is configured (constant-time compare;
/// the scheme is case-insensitive, RFC 9110).
fn authorize<B>(deployment: &Deployment, request: &Request<B>) -> Result<(), ApiError> {
    let Some(expected) = deployment.config.server.api_token.as_deref() else {
        return Ok(());
    };
    let given = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(bearer_token)
        .unwrap_or("");
    if constant_time_eq(given.as_bytes(), expected.as_bytes()) {
        Ok(())
    } else {
        Err(ApiError::unauthorized())
    }
}

/// The token of an `Authorization: Bearer TOKEN` value (any case of
/// "Bearer", spaces around the token ignored).
pub(crate) fn bearer_token(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim_start().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

/// Compares without an early exit, so timing does not reveal the prefix.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let mut diff = (a.len() ^ b.len()) as u8 | u8::from(a.len() != b.len());
    for (i, &x) in a.iter().enumerate() {
        diff |= x ^ b.get(i).copied().unwrap_or(0);
    }
    diff == 0
}

fn list_functions(deployment: &Deployment) -> HttpResponse {
    let functions: Vec<Value> = deployment
        .config
        .functions
        .iter()
        .map(|f| {
            let deployed = &deployment.functions[&f.name];
            json!({
                "name": f.name,
                "triggers": f.triggers.iter().map(|t| t.as_str()).collect::<Vec<_>>(),
                "order": f.order,
                "enabled": f.enabled,
                "async": f.is_async,
                "on_error": match f.on_error { OnError::Deny => "deny", OnError::Skip => "skip" },
                "limits": {
                    "timeout_ms": f.limits.timeout().as_millis() as u64,
                    "fuel": f.limits.fuel_budget(),
                    "memory_mb": f.limits.max_memory_bytes() >> 20,
                },
                "source": f.source_path.display().to_string(),
                "source_sha256": deployed.source_hash,
            })
        })
        .collect();
    json_response(
        StatusCode::OK,
        json!({ "functions": functions }).to_string().into_bytes(),
    )
}

/// Receives and checks an invocation's body (413, 408, 503, 400).
pub(crate) async fn read_input<B>(
    state: &AppState,
    request: Request<B>,
) -> Result<Vec<u8>, ApiError>
where
    B: Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let body = read_body(state, request).await?;
    body::check_input(&body)?;
    Ok(body)
}

/// Receives a request body within the limits (413, 408, 503, 400).
pub(crate) async fn read_body<B>(state: &AppState, request: Request<B>) -> Result<Vec<u8>, ApiError>
where
    B: Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    body::read_body(request, &state.body_limits, state.stopping(), |refusal| {
        state.metrics.record_body_refusal(match refusal {
            BodyRefusal::TooLarge => "too_large",
            BodyRefusal::TooSlow => "too_slow",
            BodyRefusal::NoBudget => "no_budget",
            BodyRefusal::ShuttingDown => "shutting_down",
        })
    })
    .await
}

/// A slot among `max_concurrent_invocations`, or the 503 to send. The
/// permit goes with the sandbox and is released when it has stopped, not
/// when the client goes away.
pub(crate) fn admit(state: &AppState) -> Result<tokio::sync::OwnedSemaphorePermit, ApiError> {
    state.invocations.clone().try_acquire_owned().map_err(|_| {
        state.metrics.overloaded.fetch_add(1, Ordering::Relaxed);
        ApiError::unavailable("too many invocations in flight; retry shortly")
    })
}

async fn run_pipeline<B>(
    state: &Arc<AppState>,
    deployment: Arc<Deployment>,
    trigger_name: &str,
    request: Request<B>,
) -> Result<HttpResponse, ApiError>
where
    B: Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let trigger = Trigger::parse_or_404(trigger_name)?;
    let input = read_input(state, request).await?;
    let permit = admit(state)?;
    let pipeline = &deployment.pipelines[&trigger];
    let background = if pipeline.background.is_empty() {
        None
    } else {
        Some(input.clone())
    };
    let cancel = state.request_cancel.child();
    let watch = CancelWatch::new(state, &cancel, Invoked::Pipeline(trigger.as_str()));
    let result = pipeline.sync.run_with(input, cancel, (permit, watch)).await;
    state.metrics.record_stages(&result);
    state.metrics.record_pipeline(trigger.as_str(), &result);
    log_invocation(Invoked::Pipeline(trigger.as_str()), &result);
    if let (Some(input), Outcome::Allow) = (background, result.outcome) {
        for stage in &pipeline.background {
            spawn_background(state, trigger.as_str(), stage.clone(), input.clone());
        }
    }
    result_response(&result)
}

/// Runs an `async = true` function after the response, bounded by the async
/// queue; its result is only logged and counted.
pub(crate) fn spawn_background(
    state: &Arc<AppState>,
    trigger: &'static str,
    stage: Stage,
    input: Vec<u8>,
) {
    let Ok(slot) = state.async_slots.clone().try_acquire_owned() else {
        state.metrics.async_dropped.fetch_add(1, Ordering::Relaxed);
        tracing::warn!(function = %stage.function.name(), trigger, "async queue full; invocation dropped");
        return;
    };
    state
        .metrics
        .async_queue_depth
        .fetch_add(1, Ordering::SeqCst);
    let state = state.clone();
    tokio::spawn(
        async move {
            let running = state.async_running.clone().acquire_owned().await;
            let result = stage
                .run_with(input, state.async_cancel.child(), (running, slot))
                .await;
            state.metrics.record_stages(&result);
            log_invocation(Invoked::Async(stage.function.name()), &result);
            if state
                .metrics
                .async_queue_depth
                .fetch_sub(1, Ordering::SeqCst)
                == 1
            {
                state.async_idle.notify_waiters();
            }
        }
        .in_current_span(),
    );
}

async fn invoke_function<B>(
    state: &Arc<AppState>,
    deployment: Arc<Deployment>,
    name: &str,
    request: Request<B>,
) -> Result<HttpResponse, ApiError>
where
    B: Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let Some(function) = deployment.functions.get(name) else {
        return Err(ApiError::not_found(format!("unknown function {name:?}")));
    };
    let input = read_input(state, request).await?;
    let permit = admit(state)?;
    let cancel = state.request_cancel.child();
    let watch = CancelWatch::new(state, &cancel, Invoked::Function(name));
    let result = function
        .stage
        .run_with(input, cancel, (permit, watch))
        .await;
    state.metrics.record_stages(&result);
    log_invocation(Invoked::Function(name), &result);
    result_response(&result)
}

/// Held by a sandbox until it stops: counts and logs the invocation when it
/// was cancelled (its client went away, or shutdown gave up waiting),
/// since the request handler that would have logged it is gone.
pub(crate) struct CancelWatch {
    metrics: Arc<Metrics>,
    cancel: CancelToken,
    invoked: String,
    span: tracing::Span,
}

impl CancelWatch {
    pub(crate) fn new(state: &AppState, cancel: &CancelToken, invoked: Invoked<'_>) -> Self {
        Self {
            metrics: state.metrics.clone(),
            cancel: cancel.clone(),
            invoked: invoked.describe(),
            span: tracing::Span::current(),
        }
    }
}

impl Drop for CancelWatch {
    fn drop(&mut self) {
        if self.cancel.is_cancelled() {
            self.metrics.cancelled.fetch_add(1, Ordering::Relaxed);
            let _entered = self.span.enter();
            tracing::info!(
                target: "authpipe::invocation",
                invoked = %self.invoked,
                outcome = "cancelled",
                "invocation cancelled: the client went away or the server is shutting down"
            );
        }
    }
}

pub(crate) fn result_response(result: &InvocationResult) -> Result<HttpResponse, ApiError> {
    match serde_json::to_vec(result) {
        Ok(body) => Ok(json_response(StatusCode::OK, body)),
        Err(e) => {
            tracing::error!(error = %e, "cannot serialise a result");
            Err(ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "the result could not be serialised",
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{bearer_token, constant_time_eq};

    #[test]
    fn bearer_scheme_is_case_insensitive() {
        assert_eq!(bearer_token("Bearer abc"), Some("abc"));
        assert_eq!(bearer_token("bearer abc"), Some("abc"));
        assert_eq!(bearer_token("BEARER   abc "), Some("abc"));
        assert_eq!(bearer_token("Basic abc"), None);
        assert_eq!(bearer_token("Bearer"), None);
        assert_eq!(bearer_token("Bearer "), None);
    }

    #[test]
    fn token_comparison() {
        assert!(constant_time_eq(b"secret", b"secret"));
        assert!(!constant_time_eq(b"secret", b"secreT"));
        assert!(!constant_time_eq(b"secret", b"secret2"));
        assert!(!constant_time_eq(b"", b"secret"));
        assert!(constant_time_eq(b"", b""));
    }
}
