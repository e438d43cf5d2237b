//! `fetch` for functions: the host side.
//!
//! A function's `fetch(url, init)` becomes one [`FetchRequest`] handed to the
//! stage's [`Fetcher`] while the guest waits. The sandbox itself has no
//! sockets: whatever answers is host code, bounded by the call's wall-clock
//! deadline.
//!
//! * [`HttpFetcher`] goes to the network: only URLs matching a
//!   [`FetchPolicy`] allow entry, never a private, loopback, link-local or
//!   metadata address unless the matching entry names that address, with
//!   redirects re-checked and the response size capped.
//! * [`DenyAll`] refuses everything (the default of a [`Stage`]).
//! * Callers may implement [`Fetcher`] themselves, as `authpipe test` does to
//!   answer from recorded responses.
//!
//! [`Stage`]: crate::Stage

mod address;
mod http;
mod policy;

pub use http::HttpFetcher;
pub use policy::{AllowPattern, FetchPolicy, PatternError, glob_matches};

use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Instant;

/// Default cap on a response body, in bytes (1 MiB).
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 1 << 20;
/// Largest request body a function may send, in bytes (1 MiB).
pub const MAX_REQUEST_BODY_BYTES: usize = 1 << 20;
/// Redirects followed per request, each re-checked against the policy.
pub const MAX_REDIRECTS: usize = 5;

/// One HTTP request a function made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FetchRequest {
    /// Upper-case method (`GET`, `POST`, …).
    pub method: String,
    /// Absolute `http`/`https` URL, as the function gave it.
    pub url: String,
    /// Header names and values, in the order given.
    #[serde(default)]
    pub headers: Vec<(String, String)>,
    /// The body, if any.
    #[serde(default)]
    pub body: Option<String>,
}

/// The answer to a [`FetchRequest`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FetchResponse {
    /// HTTP status code.
    pub status: u16,
    /// The status code's reason phrase (`OK`, `Not Found`), if it has one.
    #[serde(default)]
    pub status_text: String,
    /// The URL that answered (after redirects).
    pub url: String,
    /// True when at least one redirect was followed.
    #[serde(default)]
    pub redirected: bool,
    /// Header names (lower-case) and values, in the order received.
    #[serde(default)]
    pub headers: Vec<(String, String)>,
    /// The body as text (invalid UTF-8 is replaced).
    #[serde(default)]
    pub body: String,
}

/// The methods a function may use.
pub const METHODS: [&str; 7] = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

/// Request headers the host sets itself.
const RESERVED_HEADERS: [&str; 7] = [
    "host",
    "content-length",
    "transfer-encoding",
    "connection",
    "upgrade",
    "te",
    "trailer",
];

impl FetchRequest {
    /// Checks what holds for every request, whoever answers it: a known
    /// method, no header the host sets itself, a body within
    /// [`MAX_REQUEST_BODY_BYTES`]. The sandbox checks this before any
    /// [`Fetcher`] sees the request.
    pub fn validate(&self) -> Result<(), FetchError> {
        if !METHODS.contains(&self.method.as_str()) {
            return Err(FetchError::Failed(format!(
                "fetch: unsupported method {:?} (use one of {})",
                self.method,
                METHODS.join(", ")
            )));
        }
        if let Some((name, _)) = self
            .headers
            .iter()
            .find(|(name, _)| RESERVED_HEADERS.contains(&name.to_ascii_lowercase().as_str()))
        {
            return Err(FetchError::Failed(format!(
                "fetch: the {name:?} header is set by the host, not by functions"
            )));
        }
        if self
            .body
            .as_ref()
            .is_some_and(|b| b.len() > MAX_REQUEST_BODY_BYTES)
        {
            return Err(FetchError::Failed(format!(
                "fetch: the request body exceeds {MAX_REQUEST_BODY_BYTES} bytes"
            )));
        }
        Ok(())
    }
}

/// `url` as messages show it: without credentials, query or fragment,
/// which may carry secrets (webhook tokens, e-mail addresses).
pub(crate) fn shown(url: &url::Url) -> String {
    let mut url = url.clone();
    let _ = url.set_username("");
    let _ = url.set_password(None);
    url.set_fragment(None);
    url.set_query(None);
    url.to_string()
}

/// [`shown`] for a URL that may not parse.
pub(crate) fn shown_text(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(parsed) => shown(&parsed),
        Err(_) => "an invalid URL".into(),
    }
}

/// The reason phrase of an HTTP status code (`200` → `OK`), or `""`.
pub fn status_text(status: u16) -> &'static str {
    ureq::http::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("")
}

/// Why a request got no response.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    /// The policy refused the URL (or an address it resolved to, or a
    /// redirect target). Ends the call with error kind `fetch_denied`; the
    /// function cannot catch it.
    #[error("fetch to {url} denied: {reason}")]
    Denied {
        /// The refused URL.
        url: String,
        /// Why, in words an admin can act on.
        reason: String,
    },
    /// The call's wall-clock deadline passed while waiting. Ends the call
    /// with error kind `timeout`.
    #[error("fetch to {url} was cut off by the function's timeout")]
    Deadline {
        /// The URL being fetched.
        url: String,
    },
    /// Anything else (bad URL or header, DNS or connection failure, a
    /// response over the size cap). The function's promise rejects with
    /// this message, as a browser `fetch` rejects with a `TypeError`.
    #[error("{0}")]
    Failed(String),
}

/// Answers the `fetch` calls of functions. Runs on the thread executing the
/// sandbox (never on an async reactor), so it may block until `deadline`.
pub trait Fetcher: std::fmt::Debug + Send + Sync + 'static {
    /// Performs `request`, giving up at `deadline` with
    /// [`FetchError::Deadline`].
    fn fetch(&self, request: &FetchRequest, deadline: Instant)
    -> Result<FetchResponse, FetchError>;
}

/// Refuses every request: what a function gets when no `[fetch] allow`
/// entry exists.
#[derive(Debug, Clone, Copy, Default)]
pub struct DenyAll;

impl Fetcher for DenyAll {
    fn fetch(
        &self,
        request: &FetchRequest,
        _deadline: Instant,
    ) -> Result<FetchResponse, FetchError> {
        Err(FetchError::Denied {
            url: shown_text(&request.url),
            reason: policy::NO_MATCH.into(),
        })
    }
}

/// The shared [`DenyAll`] fetcher.
pub(crate) fn deny_all() -> Arc<dyn Fetcher> {
    static DENY: std::sync::OnceLock<Arc<dyn Fetcher>> = std::sync::OnceLock::new();
    DENY.get_or_init(|| Arc::new(DenyAll)).clone()
}
