//! `authpipe.toml`: parsing and validation.
//!
//! Every problem is reported as `FILE:LINE:COL: message`, quoting the bad
//! value, and nothing is started with a broken configuration.

use authpipe::fetch::{AllowPattern, FetchPolicy};
use authpipe::{Flavor, Limits, OnError};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;
use toml::Spanned;

/// Default address of the HTTP API (loopback only).
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
/// Default cap on a request body, in bytes (the input JSON cap).
pub const DEFAULT_MAX_BODY_BYTES: usize = authpipe::MAX_INPUT_BYTES;
/// Default number of pipeline/function invocations served at once; more
/// are answered with 503.
pub const DEFAULT_MAX_CONCURRENT_INVOCATIONS: usize = 128;
/// Default number of `async = true` invocations that may be waiting or
/// running; more are dropped (and counted).
pub const DEFAULT_MAX_ASYNC_QUEUE: usize = 1024;
/// How many `async = true` invocations run at once (the rest wait in the
/// async queue).
pub const ASYNC_CONCURRENCY: usize = 16;
/// Default grace period for async invocations at shutdown.
pub const DEFAULT_ASYNC_GRACE: Duration = Duration::from_secs(5);
/// Default time a client has to send a request's head, from its first byte
/// (nginx's `client_header_timeout` is 60 s; a pipeline request is small).
pub const DEFAULT_HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// Default time a client has to send a request's body, after its head.
pub const DEFAULT_BODY_TIMEOUT: Duration = Duration::from_secs(30);
/// Default time an open connection may stay silent between requests
/// (nginx's `keepalive_timeout` is 75 s).
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// Default number of open client connections; more are answered 503 and
/// closed.
pub const DEFAULT_MAX_CONNECTIONS: usize = 1024;
/// Default memory, in bytes, that request bodies larger than
/// [`SMALL_BODY_BYTES`] may take together while they are received.
pub const DEFAULT_MAX_BODY_BYTES_IN_FLIGHT: usize = 64 << 20;
/// Bodies up to this size are always accepted (their total is bounded by
/// the connection cap); larger ones draw on `max_body_bytes_in_flight`.
pub const SMALL_BODY_BYTES: usize = 64 << 10;
/// Default time shutdown waits for requests in progress before cancelling
/// their sandboxes.
pub const DEFAULT_SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// A trigger: the point in the authentication flow a pipeline runs at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Trigger {
    /// Before a user is created.
    PreRegister,
    /// After a user was created.
    PostRegister,
    /// Before a sign-in is accepted.
    PreAuthentication,
    /// After a sign-in succeeded.
    PostAuthentication,
    /// Before an OIDC ID token is issued.
    PreOidcIdTokenIssued,
    /// Before an OIDC access token is issued.
    PreOidcAccessTokenIssued,
    /// Before user info is completed.
    PreCompleteUserInfo,
}

impl Trigger {
    /// Every trigger, in flow order.
    pub const ALL: [Trigger; 7] = [
        Trigger::PreRegister,
        Trigger::PostRegister,
        Trigger::PreAuthentication,
        Trigger::PostAuthentication,
        Trigger::PreOidcIdTokenIssued,
        Trigger::PreOidcAccessTokenIssued,
        Trigger::PreCompleteUserInfo,
    ];

    /// The canonical (kebab-case) name.
    pub fn as_str(self) -> &'static str {
        match self {
            Trigger::PreRegister => "pre-register",
            Trigger::PostRegister => "post-register",
            Trigger::PreAuthentication => "pre-authentication",
            Trigger::PostAuthentication => "post-authentication",
            Trigger::PreOidcIdTokenIssued => "pre-oidc-id-token-issued",
            Trigger::PreOidcAccessTokenIssued => "pre-oidc-access-token-issued",
            Trigger::PreCompleteUserInfo => "pre-complete-user-info",
        }
    }

    /// [`Trigger::parse`], or the 404 naming the known triggers.
    pub fn parse_or_404(name: &str) -> Result<Trigger, crate::error::ApiError> {
        Trigger::parse(name).ok_or_else(|| {
            let known: Vec<_> = Trigger::ALL.iter().map(|t| t.as_str()).collect();
            crate::error::ApiError::not_found(format!(
                "unknown trigger {name:?}; expected one of {}",
                known.join(", ")
            ))
        })
    }

    /// Parses a canonical name or an Authing alias (`PRE_REGISTER`).
    pub fn parse(name: &str) -> Option<Trigger> {
        let canonical = name.to_ascii_lowercase().replace('_', "-");
        Trigger::ALL.into_iter().find(|t| t.as_str() == canonical)
    }
}

impl std::fmt::Display for Trigger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A configuration problem, located in its file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}:{line}:{column}: {message}", file.display())]
pub struct ConfigError {
    /// The file with the problem.
    pub file: PathBuf,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// What is wrong, quoting the bad value.
    pub message: String,
}

/// The `[server]` table.
#[derive(Clone, PartialEq)]
pub struct ServerConfig {
    /// Where the HTTP API listens.
    pub listen: SocketAddr,
    /// Name of the environment variable holding the API token.
    pub api_token_env: Option<String>,
    /// The API token read from `api_token_env` (requests then need
    /// `Authorization: Bearer <token>`); never printed.
    pub api_token: Option<String>,
    /// `/metrics` requires the API token too.
    pub metrics_auth: bool,
    /// Serve `/metrics` (and `/healthz`) on this separate address as well,
    /// e.g. one only the monitoring network reaches.
    pub metrics_listen: Option<SocketAddr>,
    /// Time to receive a request's head, from its first byte.
    pub header_timeout: Duration,
    /// Time to receive a request's body, after its head.
    pub body_timeout: Duration,
    /// Time a connection may stay silent between requests.
    pub idle_timeout: Duration,
    /// Open connections at most; more are answered 503 and closed.
    pub max_connections: usize,
    /// Memory that large request bodies may take together while being
    /// received; beyond it they are answered 503.
    pub max_body_bytes_in_flight: usize,
    /// How long shutdown waits for requests in progress.
    pub shutdown_grace: Duration,
    /// Largest accepted request body, in bytes.
    pub max_body_bytes: usize,
    /// Invocations served at once before answering 503.
    pub max_concurrent_invocations: usize,
    /// Async invocations waiting or running before new ones are dropped.
    pub max_async_queue: usize,
    /// How long shutdown waits for async invocations.
    pub async_grace: Duration,
}

impl std::fmt::Debug for ServerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerConfig")
            .field("listen", &self.listen)
            .field("api_token_env", &self.api_token_env)
            .field("api_token", &self.api_token.as_ref().map(|_| "<redacted>"))
            .field("metrics_auth", &self.metrics_auth)
            .field("metrics_listen", &self.metrics_listen)
            .field("max_connections", &self.max_connections)
            .finish_non_exhaustive()
    }
}

/// One `[[function]]`.
#[derive(Debug, Clone, PartialEq)]
pub struct FunctionConfig {
    /// Unique name.
    pub name: String,
    /// The source's path as written (`functions/f.js`): the file name
    /// that error positions and stack traces show.
    pub source_file: String,
    /// Path of the source, resolved against the config file's directory.
    pub source_path: PathBuf,
    /// The JavaScript source.
    pub source: String,
    /// Directory of its test fixtures (`fixtures = "…"`, default
    /// `fixtures/<name>` beside the config file), used by `authpipe test`.
    pub fixtures: PathBuf,
    /// Triggers whose pipelines include it.
    pub triggers: Vec<Trigger>,
    /// Position within a trigger (ascending).
    pub order: i64,
    /// Disabled functions are skipped by pipelines (still invocable by name).
    pub enabled: bool,
    /// Runs after the response; the result is only logged and counted.
    pub is_async: bool,
    /// Its limits.
    pub limits: Limits,
    /// What an error in it does to its pipeline.
    pub on_error: OnError,
    /// The shape of its source (`flavor = "…"`); `None`: detected.
    pub flavor: Option<Flavor>,
    /// Line of its `[[function]]` table, for later error messages.
    pub line: usize,
}

/// A validated `authpipe.toml`.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// The file it was read from.
    pub path: PathBuf,
    /// `[server]`.
    pub server: ServerConfig,
    /// `[env]`, with `from_env` secrets resolved.
    pub env: Vec<(String, String)>,
    /// The `[env]` names whose value comes `from_env` (secrets).
    pub secret_env: std::collections::BTreeSet<String>,
    /// `[fetch] allow` as written.
    pub fetch_allow: Vec<String>,
    /// `[fetch]`: the allow-list and response cap of functions' `fetch`.
    pub fetch: FetchPolicy,
    /// `[[function]]`s in file order.
    pub functions: Vec<FunctionConfig>,
    /// `[platform]`: store mode's defaults.
    pub platform: PlatformConfig,
}

/// The `[platform]` table: defaults of store mode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlatformConfig {
    /// Connections to a Postgres store at most (per node).
    pub store_pool_size: u32,
    /// Execution records kept per tenant (the newest).
    pub history_max_records: u64,
    /// Execution records older than this are deleted.
    pub history_max_age: Duration,
    /// Quotas of tenants that do not set their own (`[platform.default_quotas]`
    /// over the built-in defaults).
    pub default_quotas: authpipe_store::Quotas,
}

impl Default for PlatformConfig {
    fn default() -> Self {
        Self {
            store_pool_size: 16,
            history_max_records: 10_000,
            history_max_age: Duration::from_secs(30 * 24 * 3600),
            default_quotas: crate::platform::default_quotas(),
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawPlatform {
    store_pool_size: Option<Spanned<i64>>,
    history_max_records: Option<Spanned<i64>>,
    history_max_age_days: Option<Spanned<i64>>,
    default_quotas: Option<Spanned<authpipe_store::Quotas>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    server: RawServer,
    #[serde(default)]
    platform: RawPlatform,
    #[serde(default)]
    env: BTreeMap<String, Spanned<RawEnvValue>>,
    #[serde(default)]
    fetch: RawFetch,
    #[serde(default, rename = "function")]
    functions: Vec<Spanned<RawFunction>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawServer {
    listen: Option<Spanned<String>>,
    api_token_env: Option<Spanned<String>>,
    #[serde(default)]
    metrics_auth: bool,
    metrics_listen: Option<Spanned<String>>,
    max_body_bytes: Option<Spanned<i64>>,
    max_concurrent_invocations: Option<Spanned<i64>>,
    max_async_queue: Option<Spanned<i64>>,
    async_grace_ms: Option<Spanned<i64>>,
    header_timeout_ms: Option<Spanned<i64>>,
    body_timeout_ms: Option<Spanned<i64>>,
    idle_timeout_ms: Option<Spanned<i64>>,
    max_connections: Option<Spanned<i64>>,
    max_body_bytes_in_flight: Option<Spanned<i64>>,
    shutdown_grace_ms: Option<Spanned<i64>>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawEnvValue {
    Text(String),
    Integer(i64),
    Float(f64),
    Bool(bool),
    FromEnv(RawFromEnv),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFromEnv {
    from_env: String,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawFetch {
    #[serde(default)]
    allow: Vec<Spanned<String>>,
    max_response_bytes: Option<Spanned<i64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFunction {
    name: Spanned<String>,
    source: Spanned<String>,
    #[serde(default)]
    triggers: Vec<Spanned<String>>,
    #[serde(default)]
    order: i64,
    #[serde(default = "yes")]
    enabled: bool,
    #[serde(default, rename = "async")]
    is_async: bool,
    timeout_ms: Option<Spanned<i64>>,
    fuel: Option<Spanned<i64>>,
    memory_mb: Option<Spanned<i64>>,
    on_error: Option<Spanned<String>>,
    flavor: Option<Spanned<String>>,
    fixtures: Option<Spanned<String>>,
}

fn yes() -> bool {
    true
}

/// Converts byte offsets into line/column errors for one file.
struct Locator<'a> {
    file: &'a Path,
    text: &'a str,
}

impl Locator<'_> {
    fn at(&self, offset: usize, message: impl Into<String>) -> ConfigError {
        let before = &self.text[..offset.min(self.text.len())];
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        ConfigError {
            file: self.file.to_path_buf(),
            line,
            column,
            message: message.into(),
        }
    }

    fn span<T>(&self, value: &Spanned<T>, message: impl Into<String>) -> ConfigError {
        self.at(value.span().start, message)
    }

    /// The text of `value` as written in the file.
    fn text_of<T>(&self, value: &Spanned<T>) -> String {
        self.text
            .get(value.span())
            .map_or_else(String::new, |t| t.trim().to_string())
    }

    fn line_of<T>(&self, value: &Spanned<T>) -> usize {
        self.text[..value.span().start.min(self.text.len())]
            .matches('\n')
            .count()
            + 1
    }
}

/// What a configuration is loaded for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Serving it: the API token named by `api_token_env` must be set.
    Serve,
    /// Running its fixtures offline: the API token is not needed.
    Offline,
}

impl Config {
    /// Reads and validates the configuration at `path` for serving, loading
    /// every function's source. `lookup_env` resolves `from_env` secrets and
    /// the API token (normally `std::env::var`).
    pub fn load(
        path: &Path,
        lookup_env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Config, ConfigError> {
        Config::load_for(path, lookup_env, Purpose::Serve)
    }

    /// [`Config::load`] for `purpose`.
    pub fn load_for(
        path: &Path,
        lookup_env: &dyn Fn(&str) -> Option<String>,
        purpose: Purpose,
    ) -> Result<Config, ConfigError> {
        let bytes =
            authpipe::bounded::read_file_capped(path, authpipe::MAX_SOURCE_BYTES).map_err(|e| {
                ConfigError {
                    file: path.to_path_buf(),
                    line: 1,
                    column: 1,
                    message: format!("cannot read the configuration: {e}"),
                }
            })?;
        let text = String::from_utf8(bytes).map_err(|_| ConfigError {
            file: path.to_path_buf(),
            line: 1,
            column: 1,
            message: "the configuration is not UTF-8 text".into(),
        })?;
        Config::parse_for(path, &text, lookup_env, purpose)
    }

    /// Validates configuration `text` for serving, as if read from `path`
    /// (relative source paths resolve against its directory).
    pub fn parse(
        path: &Path,
        text: &str,
        lookup_env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Config, ConfigError> {
        Config::parse_for(path, text, lookup_env, Purpose::Serve)
    }

    /// [`Config::parse`] for `purpose`.
    pub fn parse_for(
        path: &Path,
        text: &str,
        lookup_env: &dyn Fn(&str) -> Option<String>,
        purpose: Purpose,
    ) -> Result<Config, ConfigError> {
        let at = Locator { file: path, text };
        let raw: RawConfig = toml::from_str(text).map_err(|e| {
            let offset = e.span().map_or(0, |s| s.start);
            at.at(offset, e.message().trim_end().to_string())
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        let secret_env = raw
            .env
            .iter()
            .filter(|(_, v)| matches!(v.get_ref(), RawEnvValue::FromEnv(_)))
            .map(|(k, _)| k.clone())
            .collect();
        let fetch_allow = raw
            .fetch
            .allow
            .iter()
            .map(|p| p.get_ref().clone())
            .collect();
        let platform = platform(&at, raw.platform)?;
        Ok(Config {
            platform,
            secret_env,
            fetch_allow,
            path: path.to_path_buf(),
            server: server(&at, raw.server, lookup_env, purpose)?,
            env: environment(&at, raw.env, lookup_env)?,
            fetch: fetch_policy(&at, raw.fetch)?,
            functions: functions(&at, base, raw.functions)?,
        })
    }
}

fn address(
    at: &Locator<'_>,
    name: &str,
    value: &Spanned<String>,
) -> Result<SocketAddr, ConfigError> {
    value.get_ref().parse().map_err(|_| {
        at.span(
            value,
            format!(
                "{name} = {:?} is not an address like \"127.0.0.1:8080\"",
                value.get_ref()
            ),
        )
    })
}

fn server(
    at: &Locator<'_>,
    raw: RawServer,
    lookup_env: &dyn Fn(&str) -> Option<String>,
    purpose: Purpose,
) -> Result<ServerConfig, ConfigError> {
    let listen = match &raw.listen {
        None => DEFAULT_LISTEN.parse().expect("valid default"),
        Some(value) => address(at, "listen", value)?,
    };
    let metrics_listen = match &raw.metrics_listen {
        None => None,
        Some(value) => Some(address(at, "metrics_listen", value)?),
    };
    let count = |value: &Option<Spanned<i64>>,
                 name: &str,
                 default: usize,
                 max: i64|
     -> Result<usize, ConfigError> {
        match value {
            None => Ok(default),
            Some(v) if (1..=max).contains(v.get_ref()) => Ok(*v.get_ref() as usize),
            Some(v) => Err(at.span(
                v,
                format!(
                    "{name} = {} is out of range: expected 1..={max}",
                    at.text_of(v)
                ),
            )),
        }
    };
    // Fail closed: naming a token variable that holds no token is an error,
    // never a silent "no auth".
    let (api_token_env, api_token) = match raw.api_token_env {
        None => (None, None),
        Some(name) if name.get_ref().is_empty() => {
            return Err(at.span(&name, "api_token_env must name a variable"));
        }
        Some(name) if purpose == Purpose::Offline => (Some(name.into_inner()), None),
        Some(name) => match lookup_env(name.get_ref()).filter(|v| !v.is_empty()) {
            Some(token) => (Some(name.into_inner()), Some(token)),
            None => {
                return Err(at.span(
                    &name,
                    format!(
                        "api_token_env = {:?}, but that environment variable is not set or empty: \
                         set it to the API token, or remove api_token_env to serve without auth",
                        name.get_ref()
                    ),
                ));
            }
        },
    };
    if raw.metrics_auth && api_token_env.is_none() {
        let span = raw.metrics_listen.as_ref().map_or(0, |v| v.span().start);
        return Err(at.at(
            span,
            "metrics_auth = true needs api_token_env (the token it requires)",
        ));
    }
    let millis = |value: &Option<Spanned<i64>>, name: &str, default: Duration, max: i64| {
        count(value, name, default.as_millis() as usize, max)
            .map(|ms| Duration::from_millis(ms as u64))
    };
    Ok(ServerConfig {
        listen,
        api_token_env,
        api_token,
        metrics_auth: raw.metrics_auth,
        metrics_listen,
        header_timeout: millis(
            &raw.header_timeout_ms,
            "header_timeout_ms",
            DEFAULT_HEADER_TIMEOUT,
            3_600_000,
        )?,
        body_timeout: millis(
            &raw.body_timeout_ms,
            "body_timeout_ms",
            DEFAULT_BODY_TIMEOUT,
            3_600_000,
        )?,
        idle_timeout: millis(
            &raw.idle_timeout_ms,
            "idle_timeout_ms",
            DEFAULT_IDLE_TIMEOUT,
            3_600_000,
        )?,
        max_connections: count(
            &raw.max_connections,
            "max_connections",
            DEFAULT_MAX_CONNECTIONS,
            1_000_000,
        )?,
        max_body_bytes_in_flight: count(
            &raw.max_body_bytes_in_flight,
            "max_body_bytes_in_flight",
            DEFAULT_MAX_BODY_BYTES_IN_FLIGHT,
            1 << 40,
        )?,
        shutdown_grace: millis(
            &raw.shutdown_grace_ms,
            "shutdown_grace_ms",
            DEFAULT_SHUTDOWN_GRACE,
            600_000,
        )?,
        max_body_bytes: count(
            &raw.max_body_bytes,
            "max_body_bytes",
            DEFAULT_MAX_BODY_BYTES,
            64 << 20,
        )?,
        max_concurrent_invocations: count(
            &raw.max_concurrent_invocations,
            "max_concurrent_invocations",
            DEFAULT_MAX_CONCURRENT_INVOCATIONS,
            4096,
        )?,
        max_async_queue: count(
            &raw.max_async_queue,
            "max_async_queue",
            DEFAULT_MAX_ASYNC_QUEUE,
            100_000,
        )?,
        async_grace: Duration::from_millis(count(
            &raw.async_grace_ms,
            "async_grace_ms",
            DEFAULT_ASYNC_GRACE.as_millis() as usize,
            600_000,
        )? as u64),
    })
}

fn environment(
    at: &Locator<'_>,
    raw: BTreeMap<String, Spanned<RawEnvValue>>,
    lookup_env: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<(String, String)>, ConfigError> {
    let mut env = Vec::new();
    for (key, value) in raw {
        if key.is_empty() || key.contains(['=', '\0']) {
            return Err(at.span(
                &value,
                format!("env name {key:?} must be non-empty, without '=' or NUL"),
            ));
        }
        let text = match value.get_ref() {
            RawEnvValue::Text(text) => text.clone(),
            RawEnvValue::Integer(n) => n.to_string(),
            RawEnvValue::Float(n) => n.to_string(),
            RawEnvValue::Bool(b) => b.to_string(),
            RawEnvValue::FromEnv(from) => lookup_env(&from.from_env).ok_or_else(|| {
                at.span(
                    &value,
                    format!(
                        "env {key}: the process environment variable {:?} is not set",
                        from.from_env
                    ),
                )
            })?,
        };
        if text.contains('\0') {
            return Err(at.span(&value, format!("env {key}: the value contains a NUL byte")));
        }
        env.push((key, text));
    }
    Ok(env)
}

fn platform(at: &Locator<'_>, raw: RawPlatform) -> Result<PlatformConfig, ConfigError> {
    let mut config = PlatformConfig::default();
    let positive = |value: &Spanned<i64>, name: &str, max: i64| {
        let n = *value.get_ref();
        if (1..=max).contains(&n) {
            Ok(n)
        } else {
            Err(at.span(value, format!("[platform] {name} must be 1..={max}")))
        }
    };
    if let Some(value) = &raw.history_max_records {
        config.history_max_records = positive(value, "history_max_records", 100_000_000)? as u64;
    }
    if let Some(value) = &raw.store_pool_size {
        config.store_pool_size = positive(value, "store_pool_size", 1000)? as u32;
    }
    if let Some(value) = &raw.history_max_age_days {
        config.history_max_age =
            Duration::from_secs(positive(value, "history_max_age_days", 3650)? as u64 * 86_400);
    }
    if let Some(quotas) = raw.default_quotas {
        let given = quotas.get_ref();
        if given.fields().iter().any(|(_, value)| *value == Some(0)) {
            return Err(at.span(
                &quotas,
                "[platform.default_quotas] values must be at least 1",
            ));
        }
        config.default_quotas = given.or(&config.default_quotas);
    }
    Ok(config)
}

/// Largest accepted `[fetch] max_response_bytes` (64 MiB).
const MAX_FETCH_RESPONSE_BYTES: i64 = 64 << 20;

fn fetch_policy(at: &Locator<'_>, raw: RawFetch) -> Result<FetchPolicy, ConfigError> {
    let patterns = raw
        .allow
        .iter()
        .map(|p| AllowPattern::parse(p.get_ref()).map_err(|e| at.span(p, e.to_string())))
        .collect::<Result<_, _>>()?;
    let policy = FetchPolicy::from_patterns(patterns);
    Ok(match raw.max_response_bytes {
        None => policy,
        Some(value) if (1..=MAX_FETCH_RESPONSE_BYTES).contains(value.get_ref()) => {
            policy.with_max_response_bytes(*value.get_ref() as usize)
        }
        Some(value) => {
            return Err(at.span(
                &value,
                format!(
                    "max_response_bytes = {} is out of range: expected 1..={MAX_FETCH_RESPONSE_BYTES}",
                    value.get_ref()
                ),
            ));
        }
    })
}

/// Applies a limit with `set`; an out-of-range value is reported as written
/// (`timeout_ms = -5`, not a converted value).
fn limit<T>(
    at: &Locator<'_>,
    name: &str,
    value: &Option<Spanned<i64>>,
    set: impl FnOnce(u64) -> Result<T, authpipe::LimitError>,
) -> Result<(), ConfigError> {
    let Some(value) = value else {
        return Ok(());
    };
    let written = at.text_of(value);
    let result = u64::try_from(*value.get_ref())
        .map_err(|_| None)
        .and_then(|n| set(n).map(|_| ()).map_err(Some));
    match result {
        Ok(()) => Ok(()),
        Err(error) => {
            let expected = error
                .map(|e| format!("expected {}..={}", e.min, e.max))
                .unwrap_or_else(|| "expected a positive number".into());
            Err(at.span(
                value,
                format!("{name} = {written} is out of range: {expected}"),
            ))
        }
    }
}

fn functions(
    at: &Locator<'_>,
    base: &Path,
    raw: Vec<Spanned<RawFunction>>,
) -> Result<Vec<FunctionConfig>, ConfigError> {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut functions = Vec::new();
    for table in raw {
        let line = at.line_of(&table);
        let f = table.into_inner();
        let name = f.name.get_ref().clone();
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        {
            return Err(at.span(
                &f.name,
                format!("function name {name:?} may only use letters, digits, '-', '_' and '.'"),
            ));
        }
        if let Some(first) = seen.insert(name.clone(), line) {
            return Err(at.span(
                &f.name,
                format!("duplicate function name {name:?} (first defined on line {first})"),
            ));
        }
        let mut triggers = Vec::new();
        for trigger in &f.triggers {
            let parsed = Trigger::parse(trigger.get_ref()).ok_or_else(|| {
                let known: Vec<_> = Trigger::ALL.iter().map(|t| t.as_str()).collect();
                at.span(
                    trigger,
                    format!(
                        "unknown trigger {:?}; expected one of {}",
                        trigger.get_ref(),
                        known.join(", ")
                    ),
                )
            })?;
            if !triggers.contains(&parsed) {
                triggers.push(parsed);
            }
        }
        let mut limits = Limits::default();
        limit(at, "timeout_ms", &f.timeout_ms, |n| {
            limits.timeout_ms(n).map(|_| ())
        })?;
        limit(at, "fuel", &f.fuel, |n| limits.fuel(n).map(|_| ()))?;
        limit(at, "memory_mb", &f.memory_mb, |n| {
            limits
                .memory_mb(u32::try_from(n).unwrap_or(u32::MAX))
                .map(|_| ())
        })?;
        let on_error = match f.on_error.as_ref().map(|v| v.get_ref().as_str()) {
            None | Some("deny") => OnError::Deny,
            Some("skip") => OnError::Skip,
            Some(other) => {
                let value = f.on_error.as_ref().expect("matched Some");
                return Err(at.span(
                    value,
                    format!("on_error = {other:?}; expected \"deny\" or \"skip\""),
                ));
            }
        };
        let flavor = match &f.flavor {
            None => None,
            Some(value) => Some(
                value
                    .get_ref()
                    .parse::<Flavor>()
                    .map_err(|e| at.span(value, format!("flavor = {:?}: {e}", value.get_ref())))?,
            ),
        };
        let source_path = base.join(f.source.get_ref());
        let source = authpipe::bounded::read_source_file(&source_path)
            .map_err(|e| at.span(&f.source, format!("source = {:?}: {e}", f.source.get_ref())))?;
        let fixtures = match &f.fixtures {
            Some(dir) => base.join(dir.get_ref()),
            None => base.join("fixtures").join(&name),
        };
        functions.push(FunctionConfig {
            name,
            source_file: f.source.get_ref().clone(),
            source_path,
            source,
            fixtures,
            triggers,
            order: f.order,
            enabled: f.enabled,
            is_async: f.is_async,
            limits,
            on_error,
            flavor,
            line,
        });
    }
    Ok(functions)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(Path::new("/nonexistent/authpipe.toml"), text, &|name| {
            (name == "SECRET").then(|| "s3cret".to_string())
        })
    }

    #[test]
    fn triggers_accept_authing_aliases() {
        assert_eq!(Trigger::parse("pre-register"), Some(Trigger::PreRegister));
        assert_eq!(Trigger::parse("PRE_REGISTER"), Some(Trigger::PreRegister));
        assert_eq!(
            Trigger::parse("PRE_OIDC_ID_TOKEN_ISSUED"),
            Some(Trigger::PreOidcIdTokenIssued)
        );
        assert_eq!(Trigger::parse("pre-login"), None);
    }

    #[test]
    fn defaults_and_env() {
        let config = parse("[env]\nA = \"x\"\nB = 3\nC = { from_env = \"SECRET\" }\n").unwrap();
        assert_eq!(config.server.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(
            config.env,
            vec![
                ("A".into(), "x".into()),
                ("B".into(), "3".into()),
                ("C".into(), "s3cret".into())
            ]
        );
    }

    #[test]
    fn errors_name_file_line_and_value() {
        let err = parse("[server]\nlisten = \"127.0.0.1:8080\"\nbogus = 1\n").unwrap_err();
        assert_eq!((err.line, err.column), (3, 1));
        assert!(
            err.to_string()
                .starts_with("/nonexistent/authpipe.toml:3:1: "),
            "{err}"
        );
        assert!(err.message.contains("bogus"), "{err}");

        let err = parse("[env]\nX = { from_env = \"MISSING\" }\n").unwrap_err();
        assert_eq!(err.line, 2);
        assert!(err.message.contains("MISSING"), "{err}");

        let err = parse("[server]\nlisten = \"nowhere\"\n").unwrap_err();
        assert!(err.message.contains("\"nowhere\""), "{err}");
    }

    /// A project directory with `functions/f.js`, and its config path.
    fn project(config: &str) -> Result<Config, ConfigError> {
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let unique = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!(
            "authpipe-config-test-{}-{unique}",
            std::process::id()
        ));
        std::fs::create_dir_all(dir.join("functions")).unwrap();
        std::fs::write(
            dir.join("functions/f.js"),
            "function pipe(u, c, cb) { cb(null, u, c) }",
        )
        .unwrap();
        Config::parse(&dir.join("authpipe.toml"), config, &|_| None)
    }

    const FUNCTION: &str =
        "[[function]]\nname = \"f\"\nsource = \"functions/f.js\"\ntriggers = [\"PRE_REGISTER\"]\n";

    #[test]
    fn functions_resolve_relative_to_the_config_file() {
        let config = project(FUNCTION).unwrap();
        let f = &config.functions[0];
        assert_eq!(f.triggers, vec![Trigger::PreRegister]);
        assert!(f.source.contains("function pipe"));
        assert_eq!(
            (f.order, f.enabled, f.is_async, f.on_error),
            (0, true, false, OnError::Deny)
        );
    }

    #[test]
    fn function_problems_are_located() {
        let duplicate = project(&format!("{FUNCTION}\n{FUNCTION}")).unwrap_err();
        assert_eq!(duplicate.line, 7);
        assert!(
            duplicate
                .message
                .contains("duplicate function name \"f\" (first defined on line 1)"),
            "{duplicate}"
        );

        let limit = project(&format!("{FUNCTION}timeout_ms = 0\n")).unwrap_err();
        assert_eq!(limit.line, 5);
        assert!(
            limit.message.contains("timeout_ms = 0 is out of range"),
            "{limit}"
        );

        let memory = project(&format!("{FUNCTION}memory_mb = 4096\n")).unwrap_err();
        assert!(memory.message.contains("memory_mb = 4096"), "{memory}");

        let missing =
            project("[[function]]\nname = \"g\"\nsource = \"functions/missing.js\"\n").unwrap_err();
        assert_eq!(missing.line, 3);
        assert!(
            missing.message.contains("functions/missing.js"),
            "{missing}"
        );

        let policy = project(&format!("{FUNCTION}on_error = \"retry\"\n")).unwrap_err();
        assert!(policy.message.contains("\"retry\""), "{policy}");

        let unknown = project(&format!("{FUNCTION}colour = 1\n")).unwrap_err();
        assert!(unknown.message.contains("colour"), "{unknown}");
    }
}
