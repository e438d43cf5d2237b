//! Client connections: a cap on how many are open, and timeouts for every
//! way a client can hold one without doing anything useful.
//!
//! * **Cap**: at `max_connections` open connections, a new one is answered
//!   503 and closed at once.
//! * **Header timeout**: from the first byte of a request to its complete
//!   head (slow-loris).
//! * **Body timeout**: enforced where the body is read ([`crate::body`]).
//! * **Idle timeout**: a connection with no request in progress that stays
//!   silent this long is closed (keep-alive, or never sent anything).
//! * **Shutdown**: connections without a request in progress are closed at
//!   once; the others finish their request and are closed after it.
//!
//! A watchdog task per connection sees the connection's activity through
//! [`Tracked`] (an I/O wrapper noting when bytes arrive) and [`RequestGuard`]s
//! (alive from the moment a request's head is parsed until its response
//! body is dropped by hyper, that is, written or abandoned).

use hyper::body::{Body, Frame, SizeHint};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::watch;

/// The timeouts a connection's watchdog enforces.
#[derive(Debug, Clone, Copy)]
pub struct ConnectionTimeouts {
    /// From a request's first byte to its complete head.
    pub header: Duration,
    /// Silence with no request in progress.
    pub idle: Duration,
}

/// What the watchdog of one connection knows about it. Times are
/// milliseconds since `origin`; 0 means "not set".
#[derive(Debug)]
pub struct Activity {
    origin: Instant,
    /// When the last byte arrived or a request finished.
    last_active_ms: AtomicU64,
    /// When the first byte of a request head arrived (0: not reading one).
    head_started_ms: AtomicU64,
    /// Requests whose response has not been dropped by hyper yet.
    requests: AtomicUsize,
}

impl Activity {
    fn new() -> Arc<Self> {
        Arc::new(Self {
            origin: Instant::now(),
            last_active_ms: AtomicU64::new(1),
            head_started_ms: AtomicU64::new(0),
            requests: AtomicUsize::new(0),
        })
    }

    fn now_ms(&self) -> u64 {
        self.origin.elapsed().as_millis() as u64 + 1
    }

    fn bytes_arrived(&self) {
        let now = self.now_ms();
        self.last_active_ms.store(now, Ordering::Relaxed);
        if self.requests.load(Ordering::Relaxed) == 0 {
            let _ =
                self.head_started_ms
                    .compare_exchange(0, now, Ordering::Relaxed, Ordering::Relaxed);
        }
    }

    /// A request's head was parsed: it is in progress until the guard drops.
    pub fn request_started(self: &Arc<Self>) -> RequestGuard {
        self.requests.fetch_add(1, Ordering::Relaxed);
        self.head_started_ms.store(0, Ordering::Relaxed);
        RequestGuard {
            activity: self.clone(),
        }
    }

    /// What the watchdog should do now.
    fn verdict(&self, timeouts: &ConnectionTimeouts, stopping: bool) -> Verdict {
        if self.requests.load(Ordering::Relaxed) > 0 {
            return Verdict::Busy;
        }
        if stopping {
            return Verdict::Close(CloseReason::Shutdown);
        }
        let now = self.now_ms();
        let head = self.head_started_ms.load(Ordering::Relaxed);
        if head != 0 {
            let limit = head + timeouts.header.as_millis() as u64;
            if now >= limit {
                return Verdict::Close(CloseReason::HeaderTimeout);
            }
            return Verdict::WaitUntil(limit - now);
        }
        let limit = self.last_active_ms.load(Ordering::Relaxed) + timeouts.idle.as_millis() as u64;
        if now >= limit {
            return Verdict::Close(CloseReason::IdleTimeout);
        }
        Verdict::WaitUntil(limit - now)
    }
}

enum Verdict {
    Busy,
    WaitUntil(u64),
    Close(CloseReason),
}

/// Why the server closed a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseReason {
    /// The request head did not arrive in time.
    HeaderTimeout,
    /// The connection stayed silent between requests.
    IdleTimeout,
    /// The server is shutting down.
    Shutdown,
}

impl CloseReason {
    /// The label used in metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            CloseReason::HeaderTimeout => "header_timeout",
            CloseReason::IdleTimeout => "idle_timeout",
            CloseReason::Shutdown => "shutdown",
        }
    }
}

/// Marks a request in progress on its connection.
#[derive(Debug)]
pub struct RequestGuard {
    activity: Arc<Activity>,
}

impl Drop for RequestGuard {
    fn drop(&mut self) {
        let now = self.activity.now_ms();
        self.activity.last_active_ms.store(now, Ordering::Relaxed);
        self.activity.requests.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A response body that keeps its request's [`RequestGuard`] until hyper
/// drops it, that is, until the response was written (or abandoned).
pub struct GuardedBody<B> {
    inner: B,
    _guard: Option<RequestGuard>,
}

impl<B> GuardedBody<B> {
    /// `inner`, holding `guard`.
    pub fn new(inner: B, guard: Option<RequestGuard>) -> Self {
        Self {
            inner,
            _guard: guard,
        }
    }
}

impl<B: Body + Unpin> Body for GuardedBody<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// An I/O stream that reports arriving bytes to its [`Activity`].
pub struct Tracked<S> {
    inner: S,
    activity: Arc<Activity>,
}

impl<S> Tracked<S> {
    /// Wraps `inner`; returns the wrapper and the activity it reports to.
    pub fn new(inner: S) -> (Self, Arc<Activity>) {
        let activity = Activity::new();
        (
            Self {
                inner,
                activity: activity.clone(),
            },
            activity,
        )
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Tracked<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.activity.bytes_arrived();
        }
        polled
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Tracked<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

/// Drives one hyper connection under its watchdog until it ends, times
/// out, or the server stops. Returns why the server closed it, if it did.
pub async fn supervise<C>(
    connection: C,
    activity: Arc<Activity>,
    timeouts: ConnectionTimeouts,
    mut stopping: watch::Receiver<bool>,
) -> Option<CloseReason>
where
    C: std::future::Future + GracefulConnection,
{
    let mut connection = std::pin::pin!(connection);
    let mut graceful_started = false;
    loop {
        let is_stopping = *stopping.borrow();
        let wait = match activity.verdict(&timeouts, is_stopping) {
            Verdict::Close(reason) => return Some(reason),
            Verdict::Busy => {
                if is_stopping && !graceful_started {
                    // Finish the request in progress, then close.
                    connection.as_mut().graceful_shutdown();
                    graceful_started = true;
                }
                // Re-check once the request may have ended (shutdown wakes
                // the watchdog at once).
                timeouts.header.min(Duration::from_secs(1))
            }
            Verdict::WaitUntil(ms) => Duration::from_millis(ms),
        };
        tokio::select! {
            _ = connection.as_mut() => return None,
            _ = tokio::time::sleep(wait) => {}
            _ = stopping.changed(), if !is_stopping => {}
        }
    }
}

/// A connection that can be asked to finish its request and close.
pub trait GracefulConnection {
    /// Stop accepting requests on this connection after the current one.
    fn graceful_shutdown(self: Pin<&mut Self>);
}

impl<I, S> GracefulConnection for hyper::server::conn::http1::Connection<I, S>
where
    S: hyper::service::HttpService<hyper::body::Incoming>,
    S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    I: hyper::rt::Read + hyper::rt::Write + Unpin,
    S::ResBody: 'static,
    <S::ResBody as Body>::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    fn graceful_shutdown(self: Pin<&mut Self>) {
        hyper::server::conn::http1::Connection::graceful_shutdown(self);
    }
}

/// The minimal answer to a connection over the cap: 503, then close.
pub const OVER_CAPACITY_RESPONSE: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\n\
content-type: application/json\r\n\
retry-after: 1\r\n\
connection: close\r\n\
content-length: 78\r\n\r\n\
{\"error\":{\"status\":503,\"message\":\"too many open connections; retry shortly\"}}\n";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_canned_response_has_the_declared_length() {
        let text = std::str::from_utf8(OVER_CAPACITY_RESPONSE).unwrap();
        let (_, body) = text.split_once("\r\n\r\n").unwrap();
        assert_eq!(body.len(), 78);
        let _: serde_json::Value = serde_json::from_str(body).unwrap();
    }

    #[test]
    fn verdicts_follow_activity() {
        let activity = Activity::new();
        let timeouts = ConnectionTimeouts {
            header: Duration::from_millis(0),
            idle: Duration::from_secs(60),
        };
        assert!(matches!(
            activity.verdict(&timeouts, false),
            Verdict::WaitUntil(_)
        ));
        assert!(matches!(
            activity.verdict(&timeouts, true),
            Verdict::Close(CloseReason::Shutdown)
        ));
        activity.bytes_arrived();
        assert!(matches!(
            activity.verdict(&timeouts, false),
            Verdict::Close(CloseReason::HeaderTimeout)
        ));
        let guard = activity.request_started();
        assert!(matches!(activity.verdict(&timeouts, true), Verdict::Busy));
        drop(guard);
        assert!(matches!(
            activity.verdict(&timeouts, false),
            Verdict::WaitUntil(_)
        ));
    }
}
