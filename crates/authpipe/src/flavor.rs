//! Function flavours: the shapes of source authpipe runs.
//!
//! Every flavour compiles into the same kind of snapshot and runs under the
//! same limits; the flavour only tells the engine's prelude which adapter
//! calls the user's code:
//!
//! * [`Flavor::Authing`]: `async function pipe(user, context, callback)`.
//! * [`Flavor::Auth0Rule`]: the file is one `function (user, context,
//!   callback) {…}`, named or anonymous (an Auth0 Rule).
//! * [`Flavor::Auth0Action`]: the file assigns `exports.onExecute…` handlers
//!   taking `(event, api)` (an Auth0 Action).
//!
//! [`Flavor::detect`] tells them apart without running anything.

use std::fmt;
use std::str::FromStr;

/// The shape of a function's source.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum Flavor {
    /// `pipe(user, context, callback)`, Authing's pipeline function.
    #[default]
    Authing,
    /// An Auth0 Rule: `function (user, context, callback)`.
    Auth0Rule,
    /// An Auth0 Action: `exports.onExecutePostLogin = async (event, api) => …`.
    Auth0Action,
}

impl Flavor {
    /// Every flavour, in documentation order.
    pub const ALL: [Flavor; 3] = [Flavor::Authing, Flavor::Auth0Rule, Flavor::Auth0Action];

    /// The name used in configuration and the API (`authing`, `auth0-rule`,
    /// `auth0-action`).
    pub fn name(self) -> &'static str {
        match self {
            Flavor::Authing => "authing",
            Flavor::Auth0Rule => "auth0-rule",
            Flavor::Auth0Action => "auth0-action",
        }
    }

    /// The flavour of `source`: a file that defines `pipe` at top level is
    /// `authing`; one that assigns an `exports.onExecute…` handler is an
    /// action; one whose only top-level code is a single function taking
    /// three parameters is a rule. Anything else is `authing` (whose
    /// compile then explains that `pipe` is missing).
    pub fn detect(source: &str) -> Flavor {
        let tokens = top_level_tokens(source);
        let defines_pipe = tokens.windows(2).any(|w| {
            matches!(
                (w[0].text, w[1].text),
                ("function", "pipe") | ("const" | "let" | "var", "pipe")
            )
        }) || tokens
            .windows(2)
            .any(|w| w[0].text == "pipe" && w[1].text == "=" && w[0].first);
        if defines_pipe {
            return Flavor::Authing;
        }
        let assigns_handler = tokens.windows(3).any(|w| {
            w[0].text == "exports" && w[1].text == "." && w[2].text.starts_with("onExecute")
        }) || (tokens
            .windows(3)
            .any(|w| w[0].text == "module" && w[1].text == "." && w[2].text == "exports")
            && source.contains("onExecute"));
        if assigns_handler {
            return Flavor::Auth0Action;
        }
        if rule_span(source).is_some() {
            return Flavor::Auth0Rule;
        }
        Flavor::Authing
    }

    /// The source as the engine evaluates it: a rule's trailing `;` (after
    /// the function) is blanked out, keeping every position, so that the
    /// engine can evaluate the function as one expression.
    pub(crate) fn prepare(self, source: &str) -> String {
        let mut text = source.to_string();
        if self == Flavor::Auth0Rule
            && let Some(end) = rule_span(source)
        {
            // SAFETY of the byte edit: only ASCII `;` bytes become spaces.
            let tail: String = text[end..]
                .chars()
                .map(|c| if c == ';' { ' ' } else { c })
                .collect();
            text.truncate(end);
            text.push_str(&tail);
        }
        text
    }
}

impl fmt::Display for Flavor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A flavour name that is not one of [`Flavor::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown flavor {0:?}: expected authing, auth0-rule or auth0-action")]
pub struct UnknownFlavor(pub String);

impl FromStr for Flavor {
    type Err = UnknownFlavor;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "authing" => Ok(Flavor::Authing),
            "auth0-rule" => Ok(Flavor::Auth0Rule),
            "auth0-action" => Ok(Flavor::Auth0Action),
            other => Err(UnknownFlavor(other.to_string())),
        }
    }
}

/// A token of the source outside comments, strings and nested brackets.
#[derive(Debug, Clone, Copy)]
struct Token<'a> {
    text: &'a str,
    /// The token starts a statement (first in the file or after `;`/`}`).
    first: bool,
    /// Byte offset just past the token.
    end: usize,
}

/// If the top level of `source` is exactly one function (optionally
/// `async`, named or not) with three parameters, followed by nothing but
/// `;`, returns the byte offset just past its closing brace.
fn rule_span(source: &str) -> Option<usize> {
    let all = tokens(source);
    let mut at = 0;
    if all.get(at).map(|t| t.0.text) == Some("async") {
        at += 1;
    }
    if all.get(at).map(|t| t.0.text) != Some("function") {
        return None;
    }
    at += 1;
    if all.get(at).is_some_and(|t| is_identifier(t.0.text)) {
        at += 1;
    }
    if all.get(at).map(|t| t.0.text) != Some("(") {
        return None;
    }
    // Parameters: three identifiers separated by commas.
    let params: Vec<&str> = all[at + 1..]
        .iter()
        .take_while(|t| t.0.text != ")")
        .map(|t| t.0.text)
        .collect();
    let names: Vec<&str> = params.iter().copied().filter(|p| *p != ",").collect();
    if names.len() != 3 || !names.iter().all(|n| is_identifier(n)) {
        return None;
    }
    at += 1 + params.len() + 1;
    if all.get(at).map(|t| t.0.text) != Some("{") {
        return None;
    }
    let body_depth = all[at].1;
    let close = all[at + 1..]
        .iter()
        .position(|t| t.0.text == "}" && t.1 == body_depth)?
        + at
        + 1;
    if all[close + 1..].iter().all(|t| t.0.text == ";") {
        Some(all[close].0.end)
    } else {
        None
    }
}

fn is_identifier(text: &str) -> bool {
    let mut chars = text.chars();
    chars
        .next()
        .is_some_and(|c| c.is_alphabetic() || c == '_' || c == '$')
        && chars.all(|c| c.is_alphanumeric() || c == '_' || c == '$')
}

/// The tokens at bracket depth 0.
fn top_level_tokens(source: &str) -> Vec<Token<'_>> {
    tokens(source)
        .into_iter()
        .filter(|(_, depth)| *depth == 0)
        .map(|(token, _)| token)
        .collect()
}

/// Every token of `source` (identifiers, numbers, punctuation, with
/// comments, strings, template literals and regular expressions skipped)
/// with its bracket depth: an opening bracket has the depth outside it and
/// its closing bracket the same.
fn tokens(source: &str) -> Vec<(Token<'_>, usize)> {
    let bytes = source.as_bytes();
    let mut out: Vec<(Token<'_>, usize)> = Vec::new();
    let mut depth = 0usize;
    let mut i = 0;
    let mut first = true;
    while i < bytes.len() {
        let c = bytes[i];
        match c {
            b' ' | b'\t' | b'\n' | b'\r' => i += 1,
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                i = source[i..].find('\n').map_or(bytes.len(), |n| i + n);
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i = source[i + 2..]
                    .find("*/")
                    .map_or(bytes.len(), |n| i + 2 + n + 2);
            }
            b'\'' | b'"' | b'`' => {
                i = skip_quoted(bytes, i);
                first = false;
            }
            b'/' if regex_may_start(out.last().map(|t| t.0.text)) => {
                i = skip_regex(bytes, i);
                first = false;
            }
            _ if c.is_ascii_alphanumeric() || c == b'_' || c == b'$' || c >= 0x80 => {
                let start = i;
                while i < bytes.len()
                    && (bytes[i].is_ascii_alphanumeric()
                        || bytes[i] == b'_'
                        || bytes[i] == b'$'
                        || bytes[i] >= 0x80)
                {
                    i += 1;
                }
                out.push((
                    Token {
                        text: &source[start..i],
                        first,
                        end: i,
                    },
                    depth,
                ));
                first = false;
            }
            _ => {
                let text = &source[i..i + 1];
                let token_depth = match c {
                    b'(' | b'[' | b'{' => {
                        depth += 1;
                        depth - 1
                    }
                    b')' | b']' | b'}' => {
                        depth = depth.saturating_sub(1);
                        depth
                    }
                    _ => depth,
                };
                out.push((
                    Token {
                        text,
                        first,
                        end: i + 1,
                    },
                    token_depth,
                ));
                first = matches!(c, b';' | b'}') && token_depth == 0;
                i += 1;
            }
        }
    }
    out
}

/// Past the string or template literal starting at `start`.
fn skip_quoted(bytes: &[u8], start: usize) -> usize {
    let quote = bytes[start];
    let mut i = start + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            c if c == quote => return i + 1,
            _ => i += 1,
        }
    }
    bytes.len()
}

/// Past the regular expression literal starting at `start`.
fn skip_regex(bytes: &[u8], start: usize) -> usize {
    let mut i = start + 1;
    let mut in_class = false;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'[' => {
                in_class = true;
                i += 1;
            }
            b']' => {
                in_class = false;
                i += 1;
            }
            b'/' if !in_class => return i + 1,
            b'\n' => return i,
            _ => i += 1,
        }
    }
    bytes.len()
}

/// Whether a `/` after `previous` starts a regular expression (rather than
/// dividing).
fn regex_may_start(previous: Option<&str>) -> bool {
    match previous {
        None => true,
        Some(text) => {
            matches!(
                text,
                "return" | "typeof" | "case" | "do" | "else" | "in" | "of"
            ) || (text.len() == 1 && "(,=:[!&|?{};+-*%<>~^".contains(text))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_each_flavour() {
        let cases = [
            (
                "async function pipe(user, context, callback) { callback(null, user, context) }",
                Flavor::Authing,
            ),
            (
                "const pipe = async (u, c, cb) => cb(null, u, c);",
                Flavor::Authing,
            ),
            (
                "function (user, context, callback) {\n  callback(null, user, context);\n}\n",
                Flavor::Auth0Rule,
            ),
            (
                "// adds claims\nfunction addClaims(user, context, callback) { callback(null, user, context); };\n",
                Flavor::Auth0Rule,
            ),
            (
                "async function (user, context, cb) { cb(null, user, context) }",
                Flavor::Auth0Rule,
            ),
            (
                "/** @param {Event} event */\nexports.onExecutePostLogin = async (event, api) => {};",
                Flavor::Auth0Action,
            ),
            (
                "module.exports = { onExecutePostLogin: async () => {} };",
                Flavor::Auth0Action,
            ),
            (
                "function helper(a, b, c) {}\nfunction other(a, b, c) {}",
                Flavor::Authing,
            ),
            ("function (user, context) { }", Flavor::Authing),
            (
                "// function pipe(user, context, callback) in a comment\nfunction (u, c, cb) { cb(null, u, c) }",
                Flavor::Auth0Rule,
            ),
            (
                "function (u, c, cb) { const s = '}'; const r = /}/; cb(null, u, c) }",
                Flavor::Auth0Rule,
            ),
            ("", Flavor::Authing),
        ];
        for (source, flavor) in cases {
            assert_eq!(Flavor::detect(source), flavor, "{source}");
        }
    }

    #[test]
    fn a_rule_keeps_its_positions_and_loses_its_trailing_semicolon() {
        let source = "function (u, c, cb) {\n  cb(null, u, c);\n};\n// end\n";
        let prepared = Flavor::Auth0Rule.prepare(source);
        assert_eq!(prepared.len(), source.len());
        assert_eq!(
            prepared,
            "function (u, c, cb) {\n  cb(null, u, c);\n} \n// end\n"
        );
        assert_eq!(Flavor::Authing.prepare(source), source);
    }

    #[test]
    fn names_round_trip() {
        for flavor in Flavor::ALL {
            assert_eq!(flavor.name().parse::<Flavor>(), Ok(flavor));
        }
        assert!("auth0".parse::<Flavor>().is_err());
    }
}
