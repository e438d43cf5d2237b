//! Requests to responses: routing, auth, limits and the JSON API.
//!
//! [`handle`] needs no socket, so it is the one place every endpoint and
//! status code is decided. A failing function is never a 5xx: it is outcome
//! `error` in a 200.
#![allow(
    clippy::result_large_err,
    reason = "an early-return response is built once per request and moved straight out"
)]

use crate::config::Trigger;
use crate::deployment::{BuildStats, Deployment};
use crate::metrics::Metrics;
use authpipe::{InvocationResult, OnError, Outcome, Runtime, Stage};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Body;
use hyper::header::{self, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;
use tokio::sync::{Notify, Semaphore};
use tracing::Instrument;

/// Everything the handlers share.
pub struct AppState {
    runtime: Runtime,
    config_path: PathBuf,
    deployment: RwLock<Arc<Deployment>>,
    /// Counters for `/metrics`.
    pub metrics: Metrics,
    invocations: Arc<Semaphore>,
    /// The size of `invocations` (fixed at start).
    max_invocations: usize,
    /// Async invocations waiting or running (the queue bound).
    async_slots: Arc<Semaphore>,
    /// Async invocations running.
    async_running: Arc<Semaphore>,
    async_idle: Notify,
    reloading: tokio::sync::Mutex<()>,
    next_request_id: AtomicU64,
}

/// Why a reload failed (the old deployment keeps serving).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ReloadError(pub String);

impl AppState {
    /// State serving `deployment`, read from `config_path`.
    pub fn new(runtime: Runtime, config_path: PathBuf, deployment: Deployment) -> Self {
        let server = &deployment.config.server;
        Self {
            invocations: Arc::new(Semaphore::new(server.max_concurrent_invocations)),
            max_invocations: server.max_concurrent_invocations,
            async_slots: Arc::new(Semaphore::new(server.max_async_queue)),
            async_running: Arc::new(Semaphore::new(crate::config::ASYNC_CONCURRENCY)),
            runtime,
            config_path,
            deployment: RwLock::new(Arc::new(deployment)),
            metrics: Metrics::default(),
            async_idle: Notify::new(),
            reloading: tokio::sync::Mutex::new(()),
            next_request_id: AtomicU64::new(1),
        }
    }

    /// The deployment new requests use.
    pub fn deployment(&self) -> Arc<Deployment> {
        self.deployment.read().expect("deployment lock").clone()
    }

    /// Re-reads the configuration and swaps in the new deployment, compiling
    /// only what changed. On any error the current deployment stays.
    pub async fn reload(&self) -> Result<BuildStats, ReloadError> {
        let _one_at_a_time = self.reloading.lock().await;
        let result = async {
            let config =
                crate::config::Config::load(&self.config_path, &|name| std::env::var(name).ok())
                    .map_err(|e| ReloadError(e.to_string()))?;
            let token = crate::api_token(&config);
            let current = self.deployment();
            let (deployment, stats) =
                Deployment::build(&self.runtime, config, Some(&current), token)
                    .await
                    .map_err(|e| ReloadError(format!("{e:#}")))?;
            *self.deployment.write().expect("deployment lock") = Arc::new(deployment);
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

    /// Waits until no async invocation runs, or `grace` has passed; returns
    /// how many were still running.
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
        self.metrics.async_queue_depth.load(Ordering::SeqCst)
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

/// Answers one request.
pub async fn handle<B>(state: &Arc<AppState>, request: Request<B>) -> HttpResponse
where
    B: Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let request_id = state.request_id(&request);
    let span = tracing::info_span!("request", id = %request_id, method = %request.method(), path = %request.uri().path());
    async {
        let started = std::time::Instant::now();
        let mut response = route(state, request).await;
        let status = response.status();
        state.metrics.record_http(status.as_u16());
        if let Ok(value) = HeaderValue::from_str(&request_id) {
            response.headers_mut().insert("x-request-id", value);
        }
        tracing::info!(
            status = status.as_u16(),
            duration_us = started.elapsed().as_micros() as u64,
            "request done"
        );
        response
    }
    .instrument(span)
    .await
}

async fn route<B>(state: &Arc<AppState>, request: Request<B>) -> HttpResponse
where
    B: Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let path = request.uri().path().to_string();
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let method = request.method().clone();
    let allowed = match segments.as_slice() {
        ["healthz"] | ["metrics"] | ["v1", "functions"] => Method::GET,
        ["v1", "pipelines", _] | ["v1", "functions", _, "invoke"] | ["v1", "admin", "reload"] => {
            Method::POST
        }
        _ => return error(StatusCode::NOT_FOUND, format!("no such endpoint: {path}")),
    };
    if method != allowed {
        let allow = if allowed == Method::GET {
            "GET"
        } else {
            "POST"
        };
        return error_with_header(
            StatusCode::METHOD_NOT_ALLOWED,
            format!("{path} accepts {allowed} only"),
            header::ALLOW,
            allow,
        );
    }
    match segments.as_slice() {
        ["healthz"] => json_response(StatusCode::OK, &json!({"status": "ok"})),
        ["metrics"] => {
            let in_flight = state.max_invocations
                - state
                    .invocations
                    .available_permits()
                    .min(state.max_invocations);
            let text = state.metrics.render(in_flight);
            let mut response = Response::new(Full::new(Bytes::from(text)));
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
            );
            response
        }
        _ => {
            let deployment = state.deployment();
            if let Some(denied) = authorize(&deployment, &request) {
                return denied;
            }
            match segments.as_slice() {
                ["v1", "functions"] => list_functions(&deployment),
                ["v1", "pipelines", trigger] => {
                    let trigger_name = trigger.to_string();
                    run_pipeline(state, deployment, &trigger_name, request).await
                }
                ["v1", "functions", name, "invoke"] => {
                    let name = name.to_string();
                    invoke_function(state, deployment, &name, request).await
                }
                ["v1", "admin", "reload"] => match state.reload().await {
                    Ok(stats) => json_response(
                        StatusCode::OK,
                        &json!({"status": "reloaded", "compiled": stats.compiled, "reused": stats.reused}),
                    ),
                    Err(e) => error(
                        StatusCode::BAD_REQUEST,
                        format!("reload failed, previous configuration kept: {e}"),
                    ),
                },
                _ => error(StatusCode::NOT_FOUND, format!("no such endpoint: {path}")),
            }
        }
    }
}

/// Checks the bearer token when one is configured (constant-time compare).
fn authorize<B>(deployment: &Deployment, request: &Request<B>) -> Option<HttpResponse> {
    let expected = deployment.api_token.as_deref()?;
    let given = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    if constant_time_eq(given.as_bytes(), expected.as_bytes()) {
        return None;
    }
    Some(error_with_header(
        StatusCode::UNAUTHORIZED,
        "missing or wrong bearer token".into(),
        header::WWW_AUTHENTICATE,
        "Bearer",
    ))
}

/// Compares without an early exit, so timing does not reveal the prefix.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
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
    json_response(StatusCode::OK, &json!({ "functions": functions }))
}

/// Reads and checks the request body: size cap (413), JSON with `user` and
/// `context` objects (400).
async fn read_input<B>(
    deployment: &Deployment,
    request: Request<B>,
) -> Result<Vec<u8>, HttpResponse>
where
    B: Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let cap = deployment.config.server.max_body_bytes;
    let mut body = std::pin::pin!(request.into_body());
    let mut bytes = Vec::new();
    let mut too_large = false;
    let mut drained = 0usize;
    // Read to the end even past the cap (up to DRAIN_LIMIT_BYTES), so that the
    // 413 reaches the client instead of a reset connection.
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| {
            error(
                StatusCode::BAD_REQUEST,
                format!("cannot read the request body: {}", e.into()),
            )
        })?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        if too_large || bytes.len() + data.len() > cap {
            too_large = true;
            bytes.clear();
            drained += data.len();
            if drained > DRAIN_LIMIT_BYTES {
                break;
            }
        } else {
            bytes.extend_from_slice(&data);
        }
    }
    if too_large {
        return Err(error(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the request body is over {cap} bytes"),
        ));
    }
    let body = bytes;
    let value: Value = serde_json::from_slice(&body).map_err(|e| {
        error(
            StatusCode::BAD_REQUEST,
            format!("the body is not valid JSON: {e}"),
        )
    })?;
    for part in ["user", "context"] {
        if !value.get(part).is_some_and(Value::is_object) {
            return Err(error(
                StatusCode::BAD_REQUEST,
                format!(
                    "the body must be a JSON object with \"user\" and \"context\" objects; {part} is missing or not an object"
                ),
            ));
        }
    }
    Ok(body)
}

/// How much of an oversized body is read and discarded before answering 413.
const DRAIN_LIMIT_BYTES: usize = 16 << 20;

/// A slot among `max_concurrent_invocations`, or the 503 to send.
fn admit(state: &AppState) -> Result<tokio::sync::OwnedSemaphorePermit, HttpResponse> {
    state.invocations.clone().try_acquire_owned().map_err(|_| {
        state.metrics.overloaded.fetch_add(1, Ordering::Relaxed);
        error_with_header(
            StatusCode::SERVICE_UNAVAILABLE,
            "too many invocations in flight; retry shortly".into(),
            header::RETRY_AFTER,
            "1",
        )
    })
}

async fn run_pipeline<B>(
    state: &Arc<AppState>,
    deployment: Arc<Deployment>,
    trigger_name: &str,
    request: Request<B>,
) -> HttpResponse
where
    B: Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let Some(trigger) = Trigger::parse(trigger_name) else {
        let known: Vec<_> = Trigger::ALL.iter().map(|t| t.as_str()).collect();
        return error(
            StatusCode::NOT_FOUND,
            format!(
                "unknown trigger {trigger_name:?}; expected one of {}",
                known.join(", ")
            ),
        );
    };
    let input = match read_input(&deployment, request).await {
        Ok(input) => input,
        Err(response) => return response,
    };
    let permit = match admit(state) {
        Ok(permit) => permit,
        Err(response) => return response,
    };
    let pipeline = &deployment.pipelines[&trigger];
    let background = if pipeline.background.is_empty() {
        None
    } else {
        Some(input.clone())
    };
    let result = pipeline.sync.run(input).await;
    drop(permit);
    state.metrics.record_stages(&result);
    state.metrics.record_pipeline(trigger.as_str(), &result);
    if let (Some(input), Outcome::Allow) = (background, result.outcome) {
        for stage in &pipeline.background {
            spawn_background(state, stage.clone(), input.clone());
        }
    }
    result_response(&result)
}

/// Runs an `async = true` function after the response, bounded by the async
/// queue; its result is only logged and counted.
fn spawn_background(state: &Arc<AppState>, stage: Stage, input: Vec<u8>) {
    let Ok(slot) = state.async_slots.clone().try_acquire_owned() else {
        state.metrics.async_dropped.fetch_add(1, Ordering::Relaxed);
        tracing::warn!(function = %stage.function.name(), "async queue full; invocation dropped");
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
            let result = stage.run(input).await;
            drop((running, slot));
            state.metrics.record_stages(&result);
            let report = &result.stages[0];
            match &result.error {
                None => tracing::info!(function = %report.function, outcome = report.outcome.as_str(), duration_us = report.duration_us, logs = ?report.logs, "async function finished"),
                Some(error) => tracing::warn!(function = %report.function, outcome = report.outcome.as_str(), kind = %error.kind, message = %error.message, logs = ?report.logs, "async function failed"),
            }
            if state.metrics.async_queue_depth.fetch_sub(1, Ordering::SeqCst) == 1 {
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
) -> HttpResponse
where
    B: Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let Some(function) = deployment.functions.get(name) else {
        return error(StatusCode::NOT_FOUND, format!("unknown function {name:?}"));
    };
    let input = match read_input(&deployment, request).await {
        Ok(input) => input,
        Err(response) => return response,
    };
    let permit = match admit(state) {
        Ok(permit) => permit,
        Err(response) => return response,
    };
    let result = function.stage.run(input).await;
    drop(permit);
    state.metrics.record_stages(&result);
    result_response(&result)
}

fn result_response(result: &InvocationResult) -> HttpResponse {
    match serde_json::to_vec(result) {
        Ok(body) => with_json(Response::new(Full::new(Bytes::from(body)))),
        Err(e) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("cannot serialise the result: {e}"),
        ),
    }
}

fn json_response(status: StatusCode, value: &Value) -> HttpResponse {
    let mut response = with_json(Response::new(Full::new(Bytes::from(value.to_string()))));
    *response.status_mut() = status;
    response
}

fn with_json(mut response: HttpResponse) -> HttpResponse {
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// [`error`] with one more header (`Allow`, `WWW-Authenticate`, `Retry-After`).
fn error_with_header(
    status: StatusCode,
    message: String,
    name: header::HeaderName,
    value: &'static str,
) -> HttpResponse {
    let mut response = error(status, message);
    response
        .headers_mut()
        .insert(name, HeaderValue::from_static(value));
    response
}

/// A client error: `{"error": {"status": 404, "message": "…"}}`.
fn error(status: StatusCode, message: String) -> HttpResponse {
    json_response(
        status,
        &json!({"error": {"status": status.as_u16(), "message": message}}),
    )
}

#[cfg(test)]
mod tests {
    use super::constant_time_eq;

    #[test]
    fn token_comparison() {
        assert!(constant_time_eq(b"secret", b"secret"));
        assert!(!constant_time_eq(b"secret", b"secreT"));
        assert!(!constant_time_eq(b"secret", b"secret2"));
        assert!(!constant_time_eq(b"", b"secret"));
        assert!(constant_time_eq(b"", b""));
    }
}
