//! The `[fetch] allow` list: which URLs a function may reach.
//!
//! An entry is `scheme://host[:port][/path]`:
//!
//! * `scheme` is `http` or `https`;
//! * `host` is a name (`hooks.slack.com`), `*.example.com` (any subdomain,
//!   not the apex), `*` (any host), or an IP address (`127.0.0.1`,
//!   `[::1]`);
//! * `port` is a number or `*`; without one, only the scheme's default port
//!   matches;
//! * `path` may use `*` for any run of characters (including `/` and the
//!   query); without a path, every path matches.
//!
//! URLs are normalised (WHATWG rules: case, IDNA, `..` segments, default
//! ports) before matching, so `https://hooks.slack.com/services/../admin`
//! does not match `https://hooks.slack.com/services/*`.

use super::FetchError;
use super::address::non_public;
use std::net::IpAddr;
use url::{Host, Url};

/// What allow entries are called in messages, by default.
const CONFIG_ENTRY: &str = "[fetch] allow entry";

/// Why a URL no entry matches is refused, worded for `authpipe.toml`.
pub(crate) const NO_MATCH: &str = "no [fetch] allow entry matches it";

/// An allow entry that is not of the accepted form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("fetch allow pattern {pattern:?}: {reason}")]
pub struct PatternError {
    /// The rejected entry.
    pub pattern: String,
    /// What is wrong with it.
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum HostPattern {
    Any,
    /// Strict subdomains of this (normalised) name.
    Subdomains(String),
    Name(String),
    Ip(IpAddr),
}

/// One parsed `[fetch] allow` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowPattern {
    text: String,
    scheme: &'static str,
    host: HostPattern,
    /// `None` matches any port.
    port: Option<u16>,
    /// Glob over the path and query.
    path: String,
}

impl AllowPattern {
    /// Parses an entry such as `https://hooks.slack.com/services/*`.
    pub fn parse(text: &str) -> Result<Self, PatternError> {
        let error = |reason: &str| PatternError {
            pattern: text.to_string(),
            reason: reason.to_string(),
        };
        let (scheme, rest) = if let Some(rest) = text.strip_prefix("https://") {
            ("https", rest)
        } else if let Some(rest) = text.strip_prefix("http://") {
            ("http", rest)
        } else {
            return Err(error(
                "it must start with http:// or https://, like \"https://hooks.slack.com/*\"",
            ));
        };
        let (authority, path) = match rest.find('/') {
            Some(slash) => rest.split_at(slash),
            None => (rest, "/*"),
        };
        if authority.contains(['@', '?', '#']) {
            return Err(error("the host part must not contain '@', '?' or '#'"));
        }
        let (host, port) =
            split_port(authority).ok_or_else(|| error("the port must be a number or *"))?;
        if host.is_empty() {
            return Err(error("it names no host"));
        }
        let default_port = if scheme == "https" { 443 } else { 80 };
        let port = match port {
            None => Some(default_port),
            Some("*") => None,
            Some(digits) => Some(
                digits
                    .parse::<u16>()
                    .ok()
                    .filter(|p| *p != 0)
                    .ok_or_else(|| error("the port must be a number or *"))?,
            ),
        };
        let host = if host == "*" {
            HostPattern::Any
        } else if let Some(domain) = host.strip_prefix("*.") {
            match normalise_host(scheme, domain) {
                Some(Host::Domain(name)) if !name.contains('*') => HostPattern::Subdomains(name),
                _ => return Err(error("a wildcard host must look like *.example.com")),
            }
        } else {
            match normalise_host(scheme, host) {
                _ if host.contains('*') => {
                    return Err(error(
                        "'*' in a host is allowed only as the whole host or as a leading *.",
                    ));
                }
                Some(Host::Domain(name)) => HostPattern::Name(name),
                Some(Host::Ipv4(ip)) => HostPattern::Ip(ip.into()),
                Some(Host::Ipv6(ip)) => HostPattern::Ip(ip.into()),
                None => return Err(error("the host is not a valid host name or IP address")),
            }
        };
        if path.contains('#') {
            return Err(error("a pattern must not contain a fragment ('#')"));
        }
        Ok(Self {
            text: text.to_string(),
            scheme,
            host,
            port,
            path: path.to_string(),
        })
    }

    /// The entry as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Why the entry lets nothing through, if it cannot: it names
    /// `localhost` (or a name under it), which is always a loopback address,
    /// and a host name never reaches one.
    pub fn unreachable_because(&self) -> Option<&'static str> {
        match &self.host {
            HostPattern::Name(name) | HostPattern::Subdomains(name) if is_localhost(name) => Some(
                "localhost is a loopback name; only an entry naming the address \
                 (like http://127.0.0.1:PORT/*), with the address in the URL, reaches loopback",
            ),
            _ => None,
        }
    }

    fn matches(&self, url: &Url) -> bool {
        if url.scheme() != self.scheme {
            return false;
        }
        if self.port.is_some() && url.port_or_known_default() != self.port {
            return false;
        }
        let host_matches = match (&self.host, url.host()) {
            (HostPattern::Any, Some(_)) => true,
            (HostPattern::Name(name), Some(Host::Domain(host))) => host == name,
            (HostPattern::Subdomains(domain), Some(Host::Domain(host))) => host
                .strip_suffix(domain.as_str())
                .is_some_and(|prefix| prefix.len() > 1 && prefix.ends_with('.')),
            (HostPattern::Ip(ip), Some(Host::Ipv4(host))) => *ip == IpAddr::from(host),
            (HostPattern::Ip(ip), Some(Host::Ipv6(host))) => *ip == IpAddr::from(host),
            _ => false,
        };
        host_matches && glob_matches(&self.path, &path_and_query(url))
    }

    fn names_ip(&self, ip: IpAddr) -> bool {
        self.host == HostPattern::Ip(ip)
    }
}

/// `localhost` or a name under it: loopback whatever a resolver says
/// (RFC 6761).
fn is_localhost(name: &str) -> bool {
    name == "localhost" || name.ends_with(".localhost")
}

/// Splits `host[:port]` (with `[v6]` hosts); `None` for a malformed port.
fn split_port(authority: &str) -> Option<(&str, Option<&str>)> {
    if authority.starts_with('[') {
        let end = authority.find(']')?;
        let (host, rest) = authority.split_at(end + 1);
        return match rest {
            "" => Some((host, None)),
            _ => Some((host, Some(rest.strip_prefix(':')?))),
        };
    }
    match authority.rsplit_once(':') {
        Some((host, port)) if !port.is_empty() => Some((host, Some(port))),
        Some(_) => None,
        None => Some((authority, None)),
    }
}

fn normalise_host(scheme: &str, host: &str) -> Option<Host<String>> {
    let url = Url::parse(&format!("{scheme}://{host}/")).ok()?;
    url.host().map(|h| h.to_owned())
}

fn path_and_query(url: &Url) -> String {
    match url.query() {
        Some(query) => format!("{}?{query}", url.path()),
        None => url.path().to_string(),
    }
}

/// `*` matches any run of characters; everything else matches itself. The
/// path syntax of allow entries, also used by `authpipe test` to match
/// recorded requests.
pub fn glob_matches(pattern: &str, text: &str) -> bool {
    let (p, t) = (pattern.as_bytes(), text.as_bytes());
    let (mut pi, mut ti) = (0, 0);
    let mut backtrack: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && p[pi] == b'*' {
            backtrack = Some((pi, ti));
            pi += 1;
        } else if pi < p.len() && p[pi] == t[ti] {
            pi += 1;
            ti += 1;
        } else if let Some((star, from)) = backtrack {
            pi = star + 1;
            ti = from + 1;
            backtrack = Some((star, from + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&b| b == b'*')
}

/// Where functions may send requests, and how much they may read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchPolicy {
    allow: Vec<AllowPattern>,
    max_response_bytes: usize,
    /// How messages name an allow entry.
    entry_name: &'static str,
}

impl Default for FetchPolicy {
    /// Nothing is allowed.
    fn default() -> Self {
        Self {
            allow: Vec::new(),
            max_response_bytes: super::DEFAULT_MAX_RESPONSE_BYTES,
            entry_name: CONFIG_ENTRY,
        }
    }
}

/// A URL the policy let through, normalised.
#[derive(Debug, Clone)]
pub(crate) struct Checked {
    pub url: Url,
    /// The private address the matching entry names, if any.
    pub explicit_ip: Option<IpAddr>,
}

impl FetchPolicy {
    /// A policy allowing the URLs that match one of `patterns`.
    pub fn new<S: AsRef<str>>(patterns: impl IntoIterator<Item = S>) -> Result<Self, PatternError> {
        let allow = patterns
            .into_iter()
            .map(|p| AllowPattern::parse(p.as_ref()))
            .collect::<Result<_, _>>()?;
        Ok(Self::from_patterns(allow))
    }

    /// A policy allowing the URLs that match one of the parsed `allow`
    /// entries.
    pub fn from_patterns(allow: Vec<AllowPattern>) -> Self {
        Self {
            allow,
            ..Self::default()
        }
    }

    /// Caps response bodies at `bytes` (default
    /// [`DEFAULT_MAX_RESPONSE_BYTES`](super::DEFAULT_MAX_RESPONSE_BYTES)).
    pub fn with_max_response_bytes(mut self, bytes: usize) -> Self {
        self.max_response_bytes = bytes;
        self
    }

    /// Names the allow entries `name` in messages (default "[fetch] allow
    /// entry"; the command line says "--allow-fetch pattern").
    pub fn with_entry_name(mut self, name: &'static str) -> Self {
        self.entry_name = name;
        self
    }

    /// The allow entries.
    pub fn allow(&self) -> &[AllowPattern] {
        &self.allow
    }

    /// The response size cap, in bytes.
    pub fn max_response_bytes(&self) -> usize {
        self.max_response_bytes
    }

    /// Decides whether `url` may be requested, without the network: the
    /// allow entries, the scheme, and literal IP addresses. (Host names are
    /// checked again by [`HttpFetcher`](super::HttpFetcher), address by
    /// address, once resolved.)
    pub fn permits(&self, url: &str) -> Result<(), FetchError> {
        self.check(url).map(drop)
    }

    pub(crate) fn check(&self, url: &str) -> Result<Checked, FetchError> {
        let parsed =
            Url::parse(url).map_err(|e| FetchError::Failed(format!("fetch: invalid URL: {e}")))?;
        let denied = |reason: String| FetchError::Denied {
            url: super::shown(&parsed),
            reason,
        };
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(denied(format!(
                "only http and https URLs can be fetched, not {}:",
                parsed.scheme()
            )));
        }
        if !parsed.username().is_empty() || parsed.password().is_some() {
            return Err(denied(
                "URLs with credentials are refused; send an Authorization header instead".into(),
            ));
        }
        let matching: Vec<&AllowPattern> =
            self.allow.iter().filter(|p| p.matches(&parsed)).collect();
        if matching.is_empty() {
            return Err(denied(format!("no {} matches it", self.entry_name)));
        }
        let literal = match parsed.host() {
            Some(Host::Ipv4(ip)) => Some(IpAddr::from(ip)),
            Some(Host::Ipv6(ip)) => Some(IpAddr::from(ip)),
            Some(Host::Domain(name)) if is_localhost(name) => {
                return Err(denied(private_reason(
                    &parsed,
                    IpAddr::from([127, 0, 0, 1]),
                    "loopback",
                )));
            }
            _ => None,
        };
        let mut explicit_ip = None;
        if let Some(ip) = literal
            && let Some(class) = non_public(ip)
        {
            if !matching.iter().any(|p| p.names_ip(ip)) {
                return Err(denied(private_reason(&parsed, ip, class)));
            }
            explicit_ip = Some(ip);
        }
        Ok(Checked {
            url: parsed,
            explicit_ip,
        })
    }
}

/// Why a private address was refused, and how to allow it on purpose.
pub(crate) fn private_reason(url: &Url, ip: IpAddr, class: &str) -> String {
    let host = match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => format!("[{v6}]"),
    };
    let port = url.port().map(|p| format!(":{p}")).unwrap_or_default();
    let example = format!("\"{}://{host}{port}/*\"", url.scheme());
    match url.host() {
        Some(Host::Domain(name)) => format!(
            "{name} resolves to {ip}, a {class} address; a host name never reaches such an \
             address: use the address itself in the URL, with an allow entry naming it, like {example}"
        ),
        _ => format!(
            "{ip} is a {class} address; only an allow entry naming the address reaches it, like {example}"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allowed(patterns: &[&str], url: &str) -> bool {
        FetchPolicy::new(patterns).unwrap().check(url).is_ok()
    }

    #[test]
    fn patterns_match_scheme_host_port_and_path() {
        let slack = ["https://hooks.slack.com/services/*"];
        assert!(allowed(&slack, "https://hooks.slack.com/services/T/B/X"));
        assert!(allowed(
            &slack,
            "https://HOOKS.slack.com:443/services/x?y=1"
        ));
        assert!(!allowed(&slack, "http://hooks.slack.com/services/T"));
        assert!(!allowed(&slack, "https://hooks.slack.com:8443/services/T"));
        assert!(!allowed(
            &slack,
            "https://hooks.slack.com/services/../admin"
        ));
        assert!(!allowed(
            &slack,
            "https://hooks.slack.com.evil.test/services/T"
        ));
        assert!(!allowed(&slack, "https://evil.test/services/T"));
        assert!(!allowed(
            &slack,
            "https://hooks.slack.com@evil.test/services/T"
        ));
        let sub = ["https://*.example.com"];
        assert!(allowed(&sub, "https://api.example.com/x"));
        assert!(!allowed(&sub, "https://example.com/x"));
        assert!(!allowed(&sub, "https://badexample.com/x"));
        assert!(allowed(&["http://*:*/*"], "http://a.test:81/"));
        assert!(allowed(&["https://a.test/x"], "https://a.test/x"));
        assert!(!allowed(&["https://a.test/x"], "https://a.test/x?y"));
        assert!(!allowed(&["https://*/*"], "file:///etc/passwd"));
    }

    #[test]
    fn private_addresses_need_an_entry_naming_them() {
        assert!(!allowed(&["http://*:*/*"], "http://127.0.0.1:8080/"));
        assert!(!allowed(&["http://*:*/*"], "http://[::1]:8080/"));
        assert!(!allowed(
            &["http://*/*"],
            "http://169.254.169.254/latest/meta-data"
        ));
        assert!(allowed(&["http://127.0.0.1:*/*"], "http://127.0.0.1:8080/"));
        assert!(allowed(&["http://[::1]:8080/*"], "http://[::1]:8080/x"));
        let Err(FetchError::Denied { reason, .. }) = FetchPolicy::new(["http://*/*"])
            .unwrap()
            .check("http://10.0.0.1/")
        else {
            panic!("expected a denial");
        };
        assert!(reason.contains("10.0.0.1 is a private address"), "{reason}");
        assert!(reason.contains("\"http://10.0.0.1/*\""), "{reason}");
    }

    #[test]
    fn bad_patterns_are_rejected_with_a_reason() {
        for bad in [
            "hooks.slack.com/*",
            "ftp://x/*",
            "https://",
            "https://a.*.com/",
            "https://x:y/",
            "https://u@x/",
        ] {
            assert!(AllowPattern::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn globs() {
        assert!(glob_matches("/a/*", "/a/b/c"));
        assert!(glob_matches("/*/c", "/a/b/c"));
        assert!(glob_matches("*", ""));
        assert!(!glob_matches("/a", "/ab"));
        assert!(glob_matches("/a*b*c", "/axxbyyc"));
        assert!(!glob_matches("/a*b*c", "/axxbyy"));
    }
}
