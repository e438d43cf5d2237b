//! [`HttpFetcher`]: `fetch` over the network, within a [`FetchPolicy`].

use super::address::non_public;
use super::policy::{FetchPolicy, private_reason};
use super::{FetchError, FetchRequest, FetchResponse, Fetcher, MAX_REDIRECTS, shown};
use std::io;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Instant;
use ureq::http::{self, Method, Uri};
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::{DefaultConnector, NextTimeout};
use ureq::{Agent, AsSendBody, Body};
use url::Url;

/// Makes the requests of functions over HTTP/1.1 (TLS through rustls with
/// the Mozilla root set), as allowed by a [`FetchPolicy`]. Connections are
/// pooled; cheap to share behind an `Arc`.
#[derive(Debug, Clone)]
pub struct HttpFetcher {
    policy: Arc<FetchPolicy>,
    agent: Agent,
}

impl HttpFetcher {
    /// A fetcher enforcing `policy`.
    pub fn new(policy: FetchPolicy) -> Self {
        let policy = Arc::new(policy);
        let config = Agent::config_builder()
            // Redirects are followed here, so each hop is checked.
            .max_redirects(0)
            .http_status_as_error(false)
            // A proxy from the host environment would bypass the address
            // checks, and the sandbox must not see the host environment.
            .proxy(None)
            .user_agent(concat!("authpipe/", env!("CARGO_PKG_VERSION")))
            .max_idle_connections_per_host(8)
            .build();
        let resolver = GuardedResolver {
            policy: policy.clone(),
            inner: DefaultResolver::default(),
        };
        Self {
            policy,
            agent: Agent::with_parts(config, DefaultConnector::default(), resolver),
        }
    }

    /// The policy it enforces.
    pub fn policy(&self) -> &FetchPolicy {
        &self.policy
    }

    fn send(
        &self,
        method: &Method,
        url: &Url,
        headers: &[(String, String)],
        body: Option<&str>,
        deadline: Instant,
    ) -> Result<http::Response<Body>, FetchError> {
        let remaining = deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            return Err(FetchError::Deadline { url: shown(url) });
        }
        let mut builder = http::Request::builder()
            .method(method.clone())
            .uri(url.as_str());
        for (name, value) in headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        match body {
            Some(body) => self.run(builder.body(body.as_bytes()), url, remaining),
            None => self.run(builder.body(()), url, remaining),
        }
    }

    /// Sends `request` to `url` (or reports why it could not be built),
    /// giving up after `timeout`.
    fn run<B: AsSendBody>(
        &self,
        request: http::Result<http::Request<B>>,
        url: &Url,
        timeout: std::time::Duration,
    ) -> Result<http::Response<Body>, FetchError> {
        let request = request.map_err(bad_request)?;
        let request = self
            .agent
            .configure_request(request)
            .timeout_global(Some(timeout))
            .build();
        self.agent.run(request).map_err(|e| failure(url, e))
    }
}

fn bad_request(error: http::Error) -> FetchError {
    FetchError::Failed(format!("fetch: invalid request: {error}"))
}

/// Maps a transport error onto what the function sees. Catchable failures
/// name only the origin: paths and queries of webhooks are secrets, and
/// functions log these messages.
fn failure(url: &Url, error: ureq::Error) -> FetchError {
    if let ureq::Error::Io(io) = &error
        && let Some(denied) = io.get_ref().and_then(|e| e.downcast_ref::<AddressDenied>())
    {
        return FetchError::Denied {
            url: shown(url),
            reason: denied.0.clone(),
        };
    }
    let origin = url.origin().ascii_serialization();
    match error {
        ureq::Error::Timeout(_) => FetchError::Deadline { url: shown(url) },
        ureq::Error::HostNotFound => FetchError::Failed(format!(
            "fetch failed: {origin}: the host name was not found"
        )),
        ureq::Error::BodyExceedsLimit(limit) => FetchError::Failed(format!(
            "fetch failed: {origin}: the response body exceeds {limit} bytes"
        )),
        other => FetchError::Failed(format!("fetch failed: {origin}: {other}")),
    }
}

/// Statuses a redirect is followed for, as `fetch` does.
fn is_redirect(status: http::StatusCode) -> bool {
    matches!(status.as_u16(), 301 | 302 | 303 | 307 | 308)
}

impl Fetcher for HttpFetcher {
    fn fetch(
        &self,
        request: &FetchRequest,
        deadline: Instant,
    ) -> Result<FetchResponse, FetchError> {
        // The sandbox checks every request before any fetcher; this keeps
        // direct callers of `HttpFetcher` to the same rules.
        request.validate()?;
        let mut method = Method::from_bytes(request.method.as_bytes()).map_err(|_| {
            FetchError::Failed(format!("fetch: invalid method {:?}", request.method))
        })?;
        let mut headers = request.headers.clone();
        // POST, PUT and PATCH always carry a body (an empty one is sent with
        // `content-length: 0`, as browsers do, not chunked).
        let mut body = match (&request.body, method.as_str()) {
            (None, "POST" | "PUT" | "PATCH") => Some(String::new()),
            (body, _) => body.clone(),
        };
        let mut checked = self.policy.check(&request.url)?;
        let mut redirects = 0;
        loop {
            let started = Instant::now();
            let mut response =
                self.send(&method, &checked.url, &headers, body.as_deref(), deadline)?;
            let status = response.status();
            tracing::debug!(
                method = %method,
                origin = %checked.url.origin().ascii_serialization(),
                status = status.as_u16(),
                ms = started.elapsed().as_secs_f64() * 1e3,
                "fetch"
            );
            let location = response
                .headers()
                .get(http::header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            if let (true, Some(location)) = (is_redirect(status), location) {
                if redirects == MAX_REDIRECTS {
                    return Err(FetchError::Failed(format!(
                        "fetch failed: {}: more than {MAX_REDIRECTS} redirects",
                        checked.url.origin().ascii_serialization()
                    )));
                }
                redirects += 1;
                let next = checked.url.join(&location).map_err(|e| {
                    FetchError::Failed(format!("fetch failed: a redirect to an invalid URL: {e}"))
                })?;
                let from = shown(&checked.url);
                let from_origin = checked.url.origin();
                checked = self.policy.check(next.as_str()).map_err(|e| match e {
                    FetchError::Denied { url, reason } => FetchError::Denied {
                        url,
                        reason: format!("redirected from {from}: {reason}"),
                    },
                    other => other,
                })?;
                let see_other = status == http::StatusCode::SEE_OTHER && method != Method::HEAD;
                let post_to_get = matches!(status.as_u16(), 301 | 302) && method == Method::POST;
                if see_other || post_to_get {
                    method = Method::GET;
                    body = None;
                    headers.retain(|(name, _)| !name.eq_ignore_ascii_case("content-type"));
                }
                if checked.url.origin() != from_origin {
                    headers.retain(|(name, _)| {
                        !name.eq_ignore_ascii_case("authorization")
                            && !name.eq_ignore_ascii_case("proxy-authorization")
                            && !name.eq_ignore_ascii_case("cookie")
                    });
                }
                continue;
            }
            let headers = response
                .headers()
                .iter()
                .map(|(name, value)| {
                    (
                        name.as_str().to_string(),
                        String::from_utf8_lossy(value.as_bytes()).into_owned(),
                    )
                })
                .collect();
            let bytes = if method == Method::HEAD {
                Vec::new()
            } else {
                response
                    .body_mut()
                    .with_config()
                    .limit(self.policy.max_response_bytes() as u64)
                    .read_to_vec()
                    .map_err(|e| failure(&checked.url, e))?
            };
            return Ok(FetchResponse {
                status: status.as_u16(),
                status_text: super::status_text(status.as_u16()).to_string(),
                url: checked.url.to_string(),
                redirected: redirects > 0,
                headers,
                body: String::from_utf8(bytes)
                    .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
            });
        }
    }
}

/// A resolved address the policy refuses; carried through ureq's I/O error.
#[derive(Debug)]
struct AddressDenied(String);

impl std::fmt::Display for AddressDenied {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for AddressDenied {}

/// Resolves names as usual, then refuses any non-public address the
/// matching allow entry does not name. Checking what was resolved (rather
/// than the name) catches public names pointing at internal addresses.
#[derive(Debug)]
struct GuardedResolver {
    policy: Arc<FetchPolicy>,
    inner: DefaultResolver,
}

impl Resolver for GuardedResolver {
    fn resolve(
        &self,
        uri: &Uri,
        config: &ureq::config::Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let denied = |reason: String| {
            ureq::Error::Io(io::Error::new(
                io::ErrorKind::PermissionDenied,
                AddressDenied(reason),
            ))
        };
        let checked = self.policy.check(&uri.to_string()).map_err(|e| match e {
            FetchError::Denied { reason, .. } => denied(reason),
            other => denied(other.to_string()),
        })?;
        let addresses = self.inner.resolve(uri, config, timeout)?;
        for address in addresses.iter() {
            let ip: IpAddr = address.ip();
            if let Some(class) = non_public(ip)
                && checked.explicit_ip != Some(ip)
            {
                return Err(denied(private_reason(&checked.url, ip, class)));
            }
        }
        Ok(addresses)
    }
}
