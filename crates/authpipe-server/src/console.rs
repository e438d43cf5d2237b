//! The web console at `/console/` (store mode): the static files built from
//! `console/` and embedded at build time (see `build.rs`).
//!
//! Everything the console does goes through the public API under `/v1`;
//! these files are open (the page asks for a token itself). Each answer
//! carries a strict Content-Security-Policy (scripts from this origin only),
//! an `ETag` for revalidation, and the gzip copy built beside each file when
//! the client accepts gzip.

use crate::error::ApiError;
use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{self, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::OnceLock;

include!(concat!(env!("OUT_DIR"), "/console.rs"));

/// Where the console is served.
pub const PREFIX: &str = "/console/";

/// The console's Content-Security-Policy: its own script and styles (and
/// CodeMirror's inline styles), API calls to this origin, no framing.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; \
     base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// One embedded file, with what its answers need.
struct Asset {
    bytes: &'static [u8],
    gzip: Option<&'static [u8]>,
    content_type: &'static str,
    etag: HeaderValue,
}

fn assets() -> &'static HashMap<&'static str, Asset> {
    static ASSETS: OnceLock<HashMap<&'static str, Asset>> = OnceLock::new();
    ASSETS.get_or_init(|| {
        let find = |name: &str| CONSOLE_FILES.iter().find(|(n, _)| *n == name).map(|f| f.1);
        CONSOLE_FILES
            .iter()
            .filter(|(name, _)| !name.ends_with(".gz"))
            .map(|&(name, bytes)| {
                let digest = Sha256::digest(bytes);
                let etag = format!("\"{}\"", hex(&digest[..12]));
                let asset = Asset {
                    bytes,
                    gzip: find(&format!("{name}.gz")),
                    content_type: content_type(name),
                    etag: HeaderValue::from_str(&etag).expect("hex is a valid header value"),
                };
                (name, asset)
            })
            .collect()
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn content_type(name: &str) -> &'static str {
    match name.rsplit_once('.').map(|(_, ext)| ext) {
        Some("html") => "text/html; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("json") => "application/json",
        Some("png") => "image/png",
        Some("woff2") => "font/woff2",
        Some("txt") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// Answers a request for `/console` or a path under it.
pub fn serve<B>(request: &Request<B>) -> Response<Full<Bytes>> {
    let path = request.uri().path();
    if !matches!(*request.method(), Method::GET | Method::HEAD) {
        return ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            format!("{path} accepts GET, HEAD"),
        )
        .with_header(header::ALLOW, "GET, HEAD")
        .into_response();
    }
    let Some(name) = path.strip_prefix(PREFIX) else {
        // `/console` (or `/console//…`): the page lives at `/console/`.
        return redirect(PREFIX);
    };
    if CONSOLE_FILES.is_empty() {
        return ApiError::unavailable(
            "this binary was built without the console (console/dist was empty); run `just console` and rebuild",
        )
        .into_response();
    }
    let name = if name.is_empty() { "index.html" } else { name };
    let Some(asset) = assets().get(name) else {
        return ApiError::not_found(format!("no such file: {path}")).into_response();
    };
    let headers = request.headers();
    let mut response = if headers
        .get(header::IF_NONE_MATCH)
        .is_some_and(|tags| etag_matches(tags, &asset.etag))
    {
        let mut response = Response::new(Full::new(Bytes::new()));
        *response.status_mut() = StatusCode::NOT_MODIFIED;
        response
    } else {
        let gzip = asset.gzip.filter(|_| accepts_gzip(headers));
        let mut response =
            Response::new(Full::new(Bytes::from_static(gzip.unwrap_or(asset.bytes))));
        // (hyper sends no body to a HEAD, but its length.)
        if gzip.is_some() {
            response
                .headers_mut()
                .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        }
        response
    };
    let out = response.headers_mut();
    out.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(asset.content_type),
    );
    out.insert(header::ETAG, asset.etag.clone());
    // Names are not content-hashed: revalidate (a 304 is cheap).
    out.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    out.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    security_headers(out);
    response
}

fn security_headers(out: &mut hyper::HeaderMap) {
    out.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    out.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    out.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    out.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
}

fn redirect(to: &'static str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::new()));
    *response.status_mut() = StatusCode::PERMANENT_REDIRECT;
    response
        .headers_mut()
        .insert(header::LOCATION, HeaderValue::from_static(to));
    response
}

/// True when `If-None-Match` lists `etag` (or `*`).
fn etag_matches(tags: &HeaderValue, etag: &HeaderValue) -> bool {
    let Ok(tags) = tags.to_str() else {
        return false;
    };
    let etag = etag.to_str().unwrap_or_default();
    tags.split(',')
        .map(|t| t.trim().trim_start_matches("W/"))
        .any(|t| t == "*" || t == etag)
}

/// True when `Accept-Encoding` allows gzip (`q=0` refuses it).
fn accepts_gzip(headers: &hyper::HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|coding| {
            let mut parts = coding.split(';').map(str::trim);
            let name = parts.next().unwrap_or_default();
            let refused = parts.any(|p| {
                p.strip_prefix("q=")
                    .and_then(|q| q.parse::<f32>().ok())
                    .is_some_and(|q| q == 0.0)
            });
            (name.eq_ignore_ascii_case("gzip") || name == "*") && !refused
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gzip_negotiation() {
        let with = |value: &str| {
            let mut headers = hyper::HeaderMap::new();
            headers.insert(
                header::ACCEPT_ENCODING,
                HeaderValue::from_str(value).unwrap(),
            );
            accepts_gzip(&headers)
        };
        assert!(with("gzip, deflate, br"));
        assert!(with("br;q=1.0, GZIP;q=0.5"));
        assert!(with("*"));
        assert!(!with("gzip;q=0"));
        assert!(!with("br, deflate"));
        assert!(!accepts_gzip(&hyper::HeaderMap::new()));
    }

    #[test]
    fn etags_match_lists_and_weak_forms() {
        let etag = HeaderValue::from_static("\"abc\"");
        let matches = |v: &'static str| etag_matches(&HeaderValue::from_static(v), &etag);
        assert!(matches("\"abc\""));
        assert!(matches("\"x\", W/\"abc\""));
        assert!(matches("*"));
        assert!(!matches("\"abd\""));
    }
}
