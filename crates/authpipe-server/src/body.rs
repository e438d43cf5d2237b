//! Receiving request bodies within a size cap, a time limit and a shared
//! memory budget.
//!
//! Small bodies (up to [`SMALL_BODY_BYTES`], every ordinary pipeline call)
//! are always accepted: their total is bounded by the connection cap. A
//! larger body first reserves its size from the server-wide
//! `max_body_bytes_in_flight` budget; when the budget is spent the request
//! is answered 503 at once, so a flood of large uploads cannot take the
//! process's memory, and small requests keep being served meanwhile.

use crate::config::SMALL_BODY_BYTES;
use crate::error::ApiError;
use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::Body;
use hyper::{Request, StatusCode};
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Semaphore, SemaphorePermit, watch};

/// How much of an oversized body is read and discarded before answering
/// 413, so that the client sees the answer instead of a reset connection.
const DRAIN_LIMIT_BYTES: usize = 16 << 20;

/// The budget is counted in units of this many bytes.
const BUDGET_UNIT_BYTES: usize = 1024;

/// The limits every request body is received under.
#[derive(Debug, Clone)]
pub struct BodyLimits {
    /// Largest accepted body (413 beyond).
    pub max_bytes: usize,
    /// Time to receive the whole body (408 beyond).
    pub timeout: Duration,
    /// Server-wide memory for large bodies being received, in
    /// [`BUDGET_UNIT_BYTES`] units.
    pub budget: Arc<Semaphore>,
}

impl BodyLimits {
    /// Limits with a budget of `budget_bytes` for bodies over
    /// [`SMALL_BODY_BYTES`].
    pub fn new(max_bytes: usize, timeout: Duration, budget_bytes: usize) -> Self {
        Self {
            max_bytes,
            timeout,
            budget: Arc::new(Semaphore::new(
                (budget_bytes / BUDGET_UNIT_BYTES).min(Semaphore::MAX_PERMITS),
            )),
        }
    }
}

/// Why a body was refused (each maps to one response).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyRefusal {
    /// Over `max_bytes`.
    TooLarge,
    /// Not received within the timeout.
    TooSlow,
    /// The large-body budget is spent.
    NoBudget,
    /// The server is shutting down.
    ShuttingDown,
}

/// Receives the body of `request` and checks that it is the JSON object
/// `{"user": {…}, "context": {…}}`. `on_refusal` is told why a body was
/// refused (for metrics).
pub async fn read_input<B>(
    request: Request<B>,
    limits: &BodyLimits,
    shutdown: watch::Receiver<bool>,
    on_refusal: impl FnOnce(BodyRefusal),
) -> Result<Vec<u8>, ApiError>
where
    B: Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let body = read_body(request, limits, shutdown, on_refusal).await?;
    check_input(&body)?;
    Ok(body)
}

/// Receives the body of `request` within `limits` (413, 408, 503, 400),
/// whatever it holds.
pub async fn read_body<B>(
    request: Request<B>,
    limits: &BodyLimits,
    mut shutdown: watch::Receiver<bool>,
    on_refusal: impl FnOnce(BodyRefusal),
) -> Result<Vec<u8>, ApiError>
where
    B: Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let declared = request
        .headers()
        .get(hyper::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    let receive = receive(request.into_body(), limits, declared);
    let outcome = tokio::select! {
        outcome = tokio::time::timeout(limits.timeout, receive) => match outcome {
            Ok(outcome) => outcome,
            Err(_) => Err(Received::Refused(BodyRefusal::TooSlow)),
        },
        _ = shutdown.wait_for(|stopping| *stopping) => Err(Received::Refused(BodyRefusal::ShuttingDown)),
    };
    let body = match outcome {
        Ok(body) => body,
        Err(Received::Refused(refusal)) => {
            on_refusal(refusal);
            return Err(refusal_error(refusal, limits));
        }
        Err(Received::Broken(message)) => {
            return Err(ApiError::bad_request(format!(
                "cannot read the request body: {message}"
            )));
        }
    };
    Ok(body)
}

fn refusal_error(refusal: BodyRefusal, limits: &BodyLimits) -> ApiError {
    match refusal {
        BodyRefusal::TooLarge => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the request body is over {} bytes", limits.max_bytes),
        ),
        BodyRefusal::TooSlow => ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            format!(
                "the request body did not arrive within {} ms",
                limits.timeout.as_millis()
            ),
        ),
        BodyRefusal::NoBudget => {
            ApiError::unavailable("too many large request bodies are being received; retry shortly")
        }
        BodyRefusal::ShuttingDown => ApiError::unavailable("the server is shutting down"),
    }
}

/// How receiving ended when it did not produce a body.
enum Received {
    Refused(BodyRefusal),
    Broken(String),
}

impl From<BodyRefusal> for Received {
    fn from(refusal: BodyRefusal) -> Self {
        Received::Refused(refusal)
    }
}

async fn receive<B>(
    body: B,
    limits: &BodyLimits,
    declared: Option<usize>,
) -> Result<Vec<u8>, Received>
where
    B: Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let mut body = std::pin::pin!(body);
    if declared.is_some_and(|n| n > limits.max_bytes) {
        drain(body.as_mut()).await;
        return Err(BodyRefusal::TooLarge.into());
    }
    let mut reserved = Reservation::default();
    if let Some(size) = declared.filter(|&n| n > SMALL_BODY_BYTES) {
        reserved.grow_to(&limits.budget, size)?;
    }
    let mut bytes = Vec::with_capacity(declared.unwrap_or(0).min(SMALL_BODY_BYTES));
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| Received::Broken(e.into().to_string()))?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        let total = bytes.len() + data.len();
        if total > limits.max_bytes {
            drop(bytes);
            drain(body.as_mut()).await;
            return Err(BodyRefusal::TooLarge.into());
        }
        if total > SMALL_BODY_BYTES {
            reserved.grow_to(&limits.budget, total)?;
        }
        bytes.extend_from_slice(&data);
    }
    Ok(bytes)
}

/// Reads and discards the rest of a body, up to [`DRAIN_LIMIT_BYTES`].
async fn drain<B>(mut body: std::pin::Pin<&mut B>)
where
    B: Body<Data = Bytes>,
{
    let mut drained = 0usize;
    while let Some(Ok(frame)) = body.frame().await {
        drained += frame.data_ref().map_or(0, Bytes::len);
        if drained > DRAIN_LIMIT_BYTES {
            return;
        }
    }
}

/// Budget units held by one body.
#[derive(Default)]
struct Reservation<'a> {
    permits: Vec<SemaphorePermit<'a>>,
    bytes: usize,
}

impl<'a> Reservation<'a> {
    /// Holds budget for `size` bytes, reserving more in 64 KiB steps.
    fn grow_to(&mut self, budget: &'a Semaphore, size: usize) -> Result<(), BodyRefusal> {
        if size <= self.bytes {
            return Ok(());
        }
        let target = size.div_ceil(SMALL_BODY_BYTES) * SMALL_BODY_BYTES;
        let units = (target - self.bytes).div_ceil(BUDGET_UNIT_BYTES);
        let units = u32::try_from(units).map_err(|_| BodyRefusal::NoBudget)?;
        let permit = budget
            .try_acquire_many(units)
            .map_err(|_| BodyRefusal::NoBudget)?;
        self.permits.push(permit);
        self.bytes = target;
        Ok(())
    }
}

/// Checks that `body` is `{"user": {…}, "context": {…}}` JSON (400).
pub fn check_input(body: &[u8]) -> Result<(), ApiError> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("the body is not valid JSON: {e}")))?;
    for part in ["user", "context"] {
        if !value.get(part).is_some_and(Value::is_object) {
            return Err(ApiError::bad_request(format!(
                "the body must be a JSON object with \"user\" and \"context\" objects; {part} is missing or not an object"
            )));
        }
    }
    Ok(())
}

/// A request body that notes when it has been read to its end.
///
/// hyper closes a connection whose request body was not read when the
/// response went out, but without saying so; a client that reuses the
/// connection then sees it drop. [`handle`](crate::http::handle) uses this
/// to answer such requests (a 401 or 404 to a POST, say) with
/// `Connection: close`, so clients open a new connection instead.
pub struct ReadToEnd<B> {
    inner: B,
    finished: Arc<std::sync::atomic::AtomicBool>,
}

impl<B: Body> ReadToEnd<B> {
    /// `inner`, and a flag that becomes true once it is read to its end
    /// (true at once for an empty body).
    pub fn new(inner: B) -> (Self, Arc<std::sync::atomic::AtomicBool>) {
        let finished = Arc::new(std::sync::atomic::AtomicBool::new(inner.is_end_stream()));
        (
            Self {
                inner,
                finished: finished.clone(),
            },
            finished,
        )
    }
}

impl<B: Body + Unpin> Body for ReadToEnd<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<B::Data>, B::Error>>> {
        let this = self.get_mut();
        let polled = std::pin::Pin::new(&mut this.inner).poll_frame(cx);
        if matches!(polled, std::task::Poll::Ready(None)) || this.inner.is_end_stream() {
            this.finished
                .store(true, std::sync::atomic::Ordering::Relaxed);
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::Full;

    fn request(body: &str) -> Request<Full<Bytes>> {
        Request::builder()
            .header("content-length", body.len())
            .body(Full::new(Bytes::from(body.to_string())))
            .unwrap()
    }

    async fn read(body: &str, limits: &BodyLimits) -> Result<Vec<u8>, StatusCode> {
        let (_keep, shutdown) = watch::channel(false);
        read_input(request(body), limits, shutdown, |_| {})
            .await
            .map_err(|e| e.status)
    }

    #[tokio::test]
    async fn large_bodies_draw_on_the_budget() {
        let limits = BodyLimits::new(1 << 20, Duration::from_secs(5), 200 << 10);
        let small = r#"{"user":{},"context":{}}"#;
        assert!(read(small, &limits).await.is_ok());
        let large = format!(
            r#"{{"user":{{"x":"{}"}},"context":{{}}}}"#,
            "x".repeat(90 << 10)
        );
        assert!(read(&large, &limits).await.is_ok(), "fits the budget");
        let held = limits.budget.try_acquire_many(150).unwrap();
        assert_eq!(
            read(&large, &limits).await,
            Err(StatusCode::SERVICE_UNAVAILABLE)
        );
        assert!(
            read(small, &limits).await.is_ok(),
            "small bodies still pass"
        );
        drop(held);
        assert!(read(&large, &limits).await.is_ok(), "budget returned");
    }

    #[tokio::test]
    async fn size_and_shape_are_checked() {
        let limits = BodyLimits::new(64, Duration::from_secs(5), 1 << 20);
        let big = format!(r#"{{"user":{{"x":"{}"}},"context":{{}}}}"#, "x".repeat(100));
        assert_eq!(
            read(&big, &limits).await,
            Err(StatusCode::PAYLOAD_TOO_LARGE)
        );
        assert_eq!(read("{nope", &limits).await, Err(StatusCode::BAD_REQUEST));
        assert_eq!(
            read(r#"{"user":{}}"#, &limits).await,
            Err(StatusCode::BAD_REQUEST)
        );
    }
}
