//! Test fixtures: one JSON file per case, checked by `authpipe test`.
//!
//! ```json
//! {
//!   "description": "a registration from an allowed domain",
//!   "trigger": "pre-register",
//!   "env": { "ALLOWED_DOMAINS": "example.com" },
//!   "input": { "user": { "email": "a@example.com" }, "context": {} },
//!   "fetch": [
//!     { "request": { "method": "POST", "url": "https://hooks.slack.com/services/*" },
//!       "response": { "status": 200, "body": "ok" } }
//!   ],
//!   "expect": {
//!     "outcome": "allow",
//!     "user": { "email": "a@example.com" },
//!     "claims": { "id_token": { "tier": "gold" } },
//!     "logs": ["registered"],
//!     "fetch": [ { "method": "POST", "url": "https://hooks.slack.com/services/*",
//!                  "body": { "text": "New user" } } ]
//!   }
//! }
//! ```
//!
//! Expected objects are subsets: only the keys given are compared, at any
//! depth. Strings in `error.message`, `logs` and a string request `body`
//! need only be contained in the actual text.

use authpipe::fetch::{FetchRequest, glob_matches};
use authpipe::{ErrorKind, InvocationResult, Outcome};
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;

/// One fixture file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fixture {
    /// What the case shows (printed on failure).
    #[serde(default)]
    pub description: Option<String>,
    /// The trigger the case runs under; must be one of the function's.
    #[serde(default)]
    pub trigger: Option<String>,
    /// `env` entries added to (or replacing) the configuration's `[env]`.
    #[serde(default)]
    pub env: BTreeMap<String, Value>,
    /// The input JSON: `{"user": …, "context": …}`.
    pub input: Value,
    /// Recorded responses for the function's `fetch` calls.
    #[serde(default)]
    pub fetch: Vec<Recorded>,
    /// What the result must show.
    pub expect: Expect,
}

/// A recorded exchange: a request pattern and the response to give.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Recorded {
    /// Which request it answers.
    pub request: RequestPattern,
    /// What the function receives.
    #[serde(default)]
    pub response: RecordedResponse,
}

/// A request as expected: `url` may use `*` for any run of characters;
/// `method` (any when absent) is case-insensitive; `headers` and `body`
/// are subsets.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestPattern {
    #[serde(default)]
    pub method: Option<String>,
    pub url: String,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    #[serde(default)]
    pub body: Option<Value>,
}

/// A response to replay. A non-string `body` is sent as its JSON text.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordedResponse {
    #[serde(default = "ok_status")]
    pub status: u16,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    #[serde(default)]
    pub body: Value,
}

impl Default for RecordedResponse {
    fn default() -> Self {
        Self {
            status: ok_status(),
            headers: BTreeMap::new(),
            body: Value::Null,
        }
    }
}

fn ok_status() -> u16 {
    200
}

/// The expectations of a fixture.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    pub outcome: Outcome,
    #[serde(default)]
    pub error: Option<ExpectError>,
    #[serde(default)]
    pub user: Option<Value>,
    #[serde(default)]
    pub context: Option<Value>,
    #[serde(default)]
    pub claims: Option<Value>,
    #[serde(default)]
    pub custom_data: Option<Value>,
    /// Texts that must each appear in some log message.
    #[serde(default)]
    pub logs: Vec<String>,
    /// The requests the function must have made, in order. Recorded
    /// responses must all be used either way; without it, a request no
    /// recording fits also fails the case.
    #[serde(default)]
    pub fetch: Option<Vec<RequestPattern>>,
}

/// The expected error.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectError {
    #[serde(default)]
    pub kind: Option<ErrorKind>,
    /// Contained in the actual message.
    #[serde(default)]
    pub message: Option<String>,
}

impl RequestPattern {
    /// Whether `request` fits this pattern.
    pub fn matches(&self, request: &FetchRequest) -> bool {
        self.mismatches(request).is_empty()
    }

    /// What about `request` differs from this pattern.
    pub fn mismatches(&self, request: &FetchRequest) -> Vec<String> {
        let mut problems = Vec::new();
        if let Some(method) = &self.method
            && !method.eq_ignore_ascii_case(&request.method)
        {
            problems.push(format!("method: expected {method}, got {}", request.method));
        }
        if !glob_matches(&self.url, &request.url) {
            problems.push(format!("url: expected {}, got {}", self.url, request.url));
        }
        for (name, value) in &self.headers {
            let actual = request
                .headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v);
            if actual != Some(value) {
                problems.push(format!(
                    "header {name}: expected {value:?}, got {}",
                    actual.map_or("none".into(), |v| format!("{v:?}"))
                ));
            }
        }
        match (&self.body, &request.body) {
            (None, _) => {}
            (Some(Value::String(text)), Some(body)) if body.contains(text.as_str()) => {}
            (Some(Value::String(text)), body) => problems.push(format!(
                "body: expected it to contain {text:?}, got {}",
                body.as_deref()
                    .map_or("no body".into(), |b| format!("{b:?}"))
            )),
            (Some(expected), body) => match body.as_deref().map(serde_json::from_str::<Value>) {
                Some(Ok(actual)) => subset("body", expected, Some(&actual), &mut problems),
                _ => problems.push(format!(
                    "body: expected JSON like {expected}, got {}",
                    body.as_deref()
                        .map_or("no body".into(), |b| format!("{b:?}"))
                )),
            },
        }
        problems
    }

    /// `METHOD URL` for messages.
    pub fn describe(&self) -> String {
        format!("{} {}", self.method.as_deref().unwrap_or("*"), self.url)
    }
}

/// Compares `actual` with the expected subset, adding one line per
/// difference, named by its JSON path.
pub fn subset(path: &str, expected: &Value, actual: Option<&Value>, problems: &mut Vec<String>) {
    match (expected, actual) {
        (Value::Object(want), Some(Value::Object(have))) => {
            for (key, value) in want {
                subset(&format!("{path}.{key}"), value, have.get(key), problems);
            }
        }
        (Value::Array(want), Some(Value::Array(have))) if want.len() == have.len() => {
            for (i, (w, h)) in want.iter().zip(have).enumerate() {
                subset(&format!("{path}[{i}]"), w, Some(h), problems);
            }
        }
        (want, Some(have)) if want == have => {}
        (want, Some(have)) => problems.push(format!("{path}: expected {want}, got {have}")),
        (want, None) => problems.push(format!("{path}: expected {want}, but it is missing")),
    }
}

/// Checks `result` (and the requests made) against `expect`; returns one
/// line per difference.
pub fn check(expect: &Expect, result: &InvocationResult, requests: &[FetchRequest]) -> Vec<String> {
    let mut problems = Vec::new();
    if result.outcome != expect.outcome {
        let why = result
            .error
            .as_ref()
            .map(|e| format!(" ({}: {})", e.kind, e.message))
            .unwrap_or_default();
        problems.push(format!(
            "outcome: expected {}, got {}{why}",
            outcome_name(expect.outcome),
            outcome_name(result.outcome)
        ));
    }
    if let Some(want) = &expect.error {
        match &result.error {
            None => problems.push("error: expected an error, got none".into()),
            Some(error) => {
                if want.kind.is_some_and(|kind| kind != error.kind) {
                    problems.push(format!(
                        "error.kind: expected {}, got {} ({})",
                        want.kind.expect("checked"),
                        error.kind,
                        error.message
                    ));
                }
                if let Some(text) = &want.message
                    && !error.message.contains(text.as_str())
                {
                    problems.push(format!(
                        "error.message: expected it to contain {text:?}, got {:?}",
                        error.message
                    ));
                }
            }
        }
    }
    let claims = serde_json::to_value(&result.claims).expect("claims serialise");
    let custom_data = Value::Object(result.custom_data.clone());
    for (name, want, have) in [
        ("user", &expect.user, &result.user),
        ("context", &expect.context, &result.context),
        ("claims", &expect.claims, &claims),
        ("custom_data", &expect.custom_data, &custom_data),
    ] {
        if let Some(want) = want {
            subset(name, want, Some(have), &mut problems);
        }
    }
    let logs: Vec<&str> = result
        .stages
        .iter()
        .flat_map(|s| s.logs.iter().map(|l| l.message.as_str()))
        .collect();
    for text in &expect.logs {
        if !logs.iter().any(|line| line.contains(text.as_str())) {
            problems.push(format!(
                "logs: no message contains {text:?}; the messages were {}",
                serde_json::to_string(&logs).expect("strings serialise")
            ));
        }
    }
    if let Some(want) = &expect.fetch {
        if want.len() != requests.len() {
            problems.push(format!(
                "fetch: expected {} request(s), the function made {}: {}",
                want.len(),
                requests.len(),
                describe_requests(requests)
            ));
        }
        for (i, (pattern, request)) in want.iter().zip(requests).enumerate() {
            for problem in pattern.mismatches(request) {
                problems.push(format!("fetch[{i}] {problem}"));
            }
        }
    }
    problems
}

/// The `input` of `raw` when it is a fixture (an object with `input` and
/// `expect`), as JSON bytes.
pub fn input_of(raw: &[u8]) -> Option<Vec<u8>> {
    let Ok(Value::Object(mut object)) = serde_json::from_slice::<Value>(raw) else {
        return None;
    };
    if !object.contains_key("expect") {
        return None;
    }
    let input = object.remove("input")?;
    Some(serde_json::to_vec(&input).expect("JSON values serialise"))
}

/// `METHOD URL, …` of the requests made, or `none`.
pub fn describe_requests(requests: &[FetchRequest]) -> String {
    if requests.is_empty() {
        return "none".into();
    }
    requests
        .iter()
        .map(|r| format!("{} {}", r.method, r.url))
        .collect::<Vec<_>>()
        .join(", ")
}

fn outcome_name(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Allow => "allow",
        Outcome::Deny => "deny",
        Outcome::Error => "error",
    }
}

/// The fixture's `env` values as text (strings as they are, other JSON
/// values as their JSON text).
pub fn env_text(env: &BTreeMap<String, Value>) -> Vec<(String, String)> {
    env.iter()
        .map(|(key, value)| {
            let text = match value {
                Value::String(text) => text.clone(),
                other => other.to_string(),
            };
            (key.clone(), text)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn subsets_name_the_path_that_differs() {
        let mut problems = Vec::new();
        subset(
            "user",
            &json!({"a": 1, "b": {"c": [1, {"d": "x"}]}, "e": true}),
            Some(&json!({"a": 1, "b": {"c": [1, {"d": "y", "z": 0}]}, "f": 2})),
            &mut problems,
        );
        assert_eq!(
            problems,
            [
                "user.b.c[1].d: expected \"x\", got \"y\"",
                "user.e: expected true, but it is missing"
            ]
        );
    }

    #[test]
    fn globs_match_any_run() {
        assert!(glob_matches("https://a/*", "https://a/b/c?d"));
        assert!(glob_matches("*://a/*/c", "https://a/b/c"));
        assert!(!glob_matches("https://a/*/c", "https://a/b/d"));
        assert!(glob_matches("exact", "exact"));
    }
}
