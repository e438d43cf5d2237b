//! What an operator sees of each invocation in the server log.
//!
//! One line per invocation (target `authpipe::invocation`): trigger or
//! function, outcome, error kind and message, and per stage its function,
//! outcome, duration and fuel. Allowed and denied invocations log at
//! `info`, failed ones at `warn`. Each line a function logged follows at its
//! own level (target `authpipe::function`, `console.debug` at `debug`), all
//! inside the request's span, so they carry its request id. With
//! `AUTHPIPE_LOG_FORMAT=json` every line is a JSON object.

use authpipe::{InvocationResult, LogLevel, Outcome};
use std::fmt::Write;

/// What was invoked.
#[derive(Debug, Clone, Copy)]
pub enum Invoked<'a> {
    /// The pipeline of a trigger.
    Pipeline(&'a str),
    /// One function by name.
    Function(&'a str),
    /// An `async = true` function after a pipeline of `trigger`.
    Async(&'a str),
}

impl<'a> Invoked<'a> {
    /// What kind of thing was invoked (`pipeline`, `function`, `async`) and
    /// its trigger or name.
    pub fn parts(&self) -> (&'static str, &'a str) {
        match *self {
            Invoked::Pipeline(trigger) => ("pipeline", trigger),
            Invoked::Function(name) => ("function", name),
            Invoked::Async(name) => ("async", name),
        }
    }

    /// `pipeline pre-register`, `function name` or `async name`.
    pub fn describe(&self) -> String {
        let (kind, name) = self.parts();
        format!("{kind} {name}")
    }
}

/// Logs `result` and the stages' own log lines.
pub fn log_invocation(invoked: Invoked<'_>, result: &InvocationResult) {
    for stage in &result.stages {
        for record in &stage.logs {
            let function = stage.function.as_str();
            let message = one_line(&record.message);
            match record.level {
                LogLevel::Debug => {
                    tracing::debug!(target: "authpipe::function", function, "{message}")
                }
                LogLevel::Info => {
                    tracing::info!(target: "authpipe::function", function, "{message}")
                }
                LogLevel::Warn => {
                    tracing::warn!(target: "authpipe::function", function, "{message}")
                }
                LogLevel::Error => {
                    tracing::error!(target: "authpipe::function", function, "{message}")
                }
            }
        }
    }
    let (kind, name) = invoked.parts();
    let stages = stages_summary(result);
    let duration_us: u64 = result.stages.iter().map(|s| s.duration_us).sum();
    let fuel = result.total_fuel();
    let outcome = result.outcome.as_str();
    match &result.error {
        None => tracing::info!(
            target: "authpipe::invocation",
            invoked = kind, name, outcome, duration_us, fuel, stages, "invocation"
        ),
        Some(error) if result.outcome == Outcome::Deny => tracing::info!(
            target: "authpipe::invocation",
            invoked = kind, name, outcome, error_kind = error.kind.as_str(),
            error_message = %one_line(&error.message),
            error_function = error.function.as_deref().unwrap_or(""),
            duration_us, fuel, stages, "invocation"
        ),
        Some(error) => tracing::warn!(
            target: "authpipe::invocation",
            invoked = kind, name, outcome, error_kind = error.kind.as_str(),
            error_message = %one_line(&error.message),
            error_function = error.function.as_deref().unwrap_or(""),
            duration_us, fuel, stages, "invocation"
        ),
    }
}

/// `text` with line breaks and other control characters escaped (`\n`,
/// `\u{1b}`), so that a function cannot forge log lines of its own.
fn one_line(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// `fn=outcome/123us/4567fuel` per stage, space-separated.
fn stages_summary(result: &InvocationResult) -> String {
    let mut out = String::new();
    for stage in &result.stages {
        if !out.is_empty() {
            out.push(' ');
        }
        let _ = write!(
            out,
            "{}={}/{}us/{}fuel",
            stage.function,
            stage.outcome.as_str(),
            stage.duration_us,
            stage.fuel
        );
        if let Some(error) = &stage.error {
            let _ = write!(out, "/{}", error.kind);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::one_line;

    #[test]
    fn control_characters_cannot_start_a_new_log_line() {
        assert_eq!(one_line("plain text"), "plain text");
        assert_eq!(
            one_line("a\n2026-01-01 INFO forged\r\u{1b}[31m"),
            "a\\n2026-01-01 INFO forged\\r\\u{1b}[31m"
        );
    }
}
