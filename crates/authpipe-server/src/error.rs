//! The one error type of the API, and the one place it becomes a response.

use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{self, HeaderName, HeaderValue};
use hyper::{Response, StatusCode};
use serde_json::json;

/// A request the API answers with an error status. The message is for the
/// client: it says what was wrong with the request, never internal details
/// (those are logged).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status}: {message}")]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// What was wrong.
    pub message: String,
    /// One extra header (`Allow`, `WWW-Authenticate`, `Retry-After`).
    pub header: Option<(HeaderName, &'static str)>,
    /// More members of the error object: the `field` at fault, a compile
    /// error's `line` and `column`.
    pub details: Option<Box<serde_json::Map<String, serde_json::Value>>>,
}

impl ApiError {
    /// An error with `status` and `message`.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            header: None,
            details: None,
        }
    }

    /// 403: the principal may not do this.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, message)
    }

    /// 409.
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, message)
    }

    /// 422: well-formed but not acceptable (a compile error, a limit above
    /// a ceiling).
    pub fn unprocessable(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, message)
    }

    /// 429 with `Retry-After: 1`: the tenant is at a quota.
    pub fn too_many(message: impl Into<String>) -> Self {
        Self::new(StatusCode::TOO_MANY_REQUESTS, message).with_header(header::RETRY_AFTER, "1")
    }

    /// 500 for a failure of the server (the cause is logged, not sent).
    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal error; the server log has the cause",
        )
    }

    /// This error with one more member in its object (`field`, `line`, …).
    pub fn with(mut self, key: &str, value: impl Into<serde_json::Value>) -> Self {
        self.details
            .get_or_insert_default()
            .insert(key.to_string(), value.into());
        self
    }

    /// The extra member `key`, if set.
    pub fn detail(&self, key: &str) -> Option<&serde_json::Value> {
        self.details.as_ref()?.get(key)
    }

    /// 400: the request is malformed.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    /// 404.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }

    /// 401 with `WWW-Authenticate: Bearer`.
    pub fn unauthorized() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "missing or wrong bearer token")
            .with_header(header::WWW_AUTHENTICATE, "Bearer")
    }

    /// 503 with `Retry-After: 1`: the server is at a limit; retrying soon
    /// may succeed.
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, message).with_header(header::RETRY_AFTER, "1")
    }

    /// This error with one more header.
    pub fn with_header(mut self, name: HeaderName, value: &'static str) -> Self {
        self.header = Some((name, value));
        self
    }

    /// The response: `{"error": {"status": 404, "message": "…"}}`.
    pub fn into_response(self) -> Response<Full<Bytes>> {
        let mut error = serde_json::Map::new();
        error.insert("status".into(), self.status.as_u16().into());
        error.insert("message".into(), self.message.into());
        if let Some(details) = self.details {
            error.extend(*details);
        }
        let body = json!({ "error": error });
        let mut response = json_response(self.status, body.to_string().into_bytes());
        if let Some((name, value)) = self.header {
            response
                .headers_mut()
                .insert(name, HeaderValue::from_static(value));
        }
        response
    }
}

/// A response with a JSON body.
pub fn json_response(status: StatusCode, body: Vec<u8>) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}
