//! The result JSON of a stage and of a pipeline (one shape serves both).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// What a stage or a pipeline decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The function called back without an error: the flow continues.
    Allow,
    /// The function called back with an error: the flow is refused.
    Deny,
    /// The function failed (threw, hit a limit, …): fail closed.
    Error,
}

impl Outcome {
    /// The lowercase name used in JSON and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Allow => "allow",
            Outcome::Deny => "deny",
            Outcome::Error => "error",
        }
    }
}

/// Why a stage did not allow; the `error.kind` of the result JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// `callback(err)`: the function denied.
    Denied,
    /// `pipe` threw or its promise rejected.
    Exception,
    /// `pipe` settled without calling back.
    NoCallback,
    /// The wall-clock budget ran out.
    Timeout,
    /// The fuel budget ran out.
    FuelExhausted,
    /// The function needed more linear memory than allowed.
    MemoryLimit,
    /// The call stack overflowed.
    StackOverflow,
    /// The input was not `{"user": {…}, "context": {…}}` JSON within limits.
    InvalidInput,
    /// The function's result could not be used.
    InvalidOutput,
    /// The function's result exceeded the output cap.
    OutputTooLarge,
    /// `fetch` was refused by the allow-list.
    FetchDenied,
    /// The source did not compile.
    CompileError,
}

impl ErrorKind {
    /// The snake_case name used in JSON and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Denied => "denied",
            ErrorKind::Exception => "exception",
            ErrorKind::NoCallback => "no_callback",
            ErrorKind::Timeout => "timeout",
            ErrorKind::FuelExhausted => "fuel_exhausted",
            ErrorKind::MemoryLimit => "memory_limit",
            ErrorKind::StackOverflow => "stack_overflow",
            ErrorKind::InvalidInput => "invalid_input",
            ErrorKind::InvalidOutput => "invalid_output",
            ErrorKind::OutputTooLarge => "output_too_large",
            ErrorKind::FetchDenied => "fetch_denied",
            ErrorKind::CompileError => "compile_error",
        }
    }
}

impl std::fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The `error` object of a result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FunctionError {
    /// What went wrong.
    pub kind: ErrorKind,
    /// Human-readable explanation (for `denied`, the function's own message).
    pub message: String,
    /// The function that produced the error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function: Option<String>,
    /// The JavaScript stack, for exceptions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stack: Option<String>,
    /// Where in the function's source an exception was raised (the
    /// innermost frame of `stack` that has a position).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<SourceLocation>,
}

impl FunctionError {
    /// An error of `kind` with `message`, not yet attributed to a function.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            function: None,
            stack: None,
            location: None,
        }
    }
}

/// A position in a function's source: 1-based line and column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceLocation {
    /// 1-based line.
    pub line: u32,
    /// 1-based column.
    pub column: u32,
}

impl SourceLocation {
    /// The position of the innermost frame of a JavaScript `stack` that has
    /// one (`    at pipe (fn.js:4:13)`); frames of natives have none.
    pub fn from_stack(stack: &str) -> Option<Self> {
        stack.lines().find_map(|frame| {
            let inner = frame.trim_end().strip_suffix(')')?;
            let (_, place) = inner.rsplit_once('(')?;
            let mut parts = place.rsplitn(3, ':');
            let column = parts.next()?.parse().ok()?;
            let line = parts.next()?.parse().ok()?;
            parts.next()?;
            Some(Self { line, column })
        })
    }
}

/// Claims added to the tokens by `user.addIdToken` / `user.addAccessToken`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Claims {
    /// Claims for the ID token.
    #[serde(default)]
    pub id_token: Map<String, Value>,
    /// Claims for the access token.
    #[serde(default)]
    pub access_token: Map<String, Value>,
}

/// Severity of a log record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    /// `console.debug`.
    Debug,
    /// `log`, `console.log`, `console.info`.
    Info,
    /// `console.warn` and authpipe's own warnings.
    Warn,
    /// `console.error`.
    Error,
}

/// One line a function logged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogRecord {
    /// Severity.
    pub level: LogLevel,
    /// The formatted message.
    pub message: String,
}

/// Per-stage measurements and logs: one entry of `stages`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StageReport {
    /// The function's name.
    pub function: String,
    /// The function version that ran (store mode).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<i64>,
    /// What the stage decided.
    pub outcome: Outcome,
    /// Wall-clock time of the invocation, in microseconds.
    pub duration_us: u64,
    /// Fuel consumed.
    pub fuel: u64,
    /// Size of the linear memory at the end of the call, in bytes.
    pub memory_bytes: u64,
    /// Captured log records (capped, with a truncation marker).
    pub logs: Vec<LogRecord>,
    /// The stage's error, when it did not allow.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<FunctionError>,
}

/// The result of running one stage or a whole pipeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InvocationResult {
    /// `allow`, `deny` or `error`.
    pub outcome: Outcome,
    /// The user after the last stage that allowed.
    pub user: Value,
    /// The context after the last stage that allowed.
    pub context: Value,
    /// Token claims accumulated over the stages.
    pub claims: Claims,
    /// Custom data accumulated over the stages.
    pub custom_data: Map<String, Value>,
    /// What Auth0-flavoured stages asked the identity system to do
    /// (`multifactor`, `redirect`, `authentication`, …), merged over the
    /// stages; absent when empty.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub auth0: Map<String, Value>,
    /// Why the flow was refused or failed; `null` when it allowed.
    pub error: Option<FunctionError>,
    /// One report per stage that ran, in order.
    pub stages: Vec<StageReport>,
}

impl InvocationResult {
    /// Total fuel consumed over all stages.
    pub fn total_fuel(&self) -> u64 {
        self.stages.iter().map(|s| s.fuel).sum()
    }
}
