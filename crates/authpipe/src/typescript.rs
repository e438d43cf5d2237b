//! TypeScript sources: types are removed before the engine sees the code.
//!
//! swc's strip-only mode (the one Node.js uses for `.ts` files) replaces
//! every type annotation, interface, type alias, `as` cast and the like with
//! whitespace of the same length, keeping line breaks. The JavaScript that
//! comes out has each remaining token at the line and column it had in the
//! TypeScript source, so stack traces and error positions need no mapping.
//!
//! Constructs that generate code (`enum`, `namespace` with values,
//! constructor parameter properties) cannot be stripped and are reported as
//! compile errors at their position; nothing is type-checked.

use std::sync::{Arc, Mutex};
use swc_common::errors::{DiagnosticBuilder, Emitter, Handler};
use swc_common::sync::Lrc;
use swc_common::{BytePos, GLOBALS, Globals, SourceMap};
use swc_ts_fast_strip::{ErrorCode, Mode, Options};

/// A TypeScript source that cannot be turned into JavaScript.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StripError {
    /// What is wrong.
    pub message: String,
    /// 1-based line, when known.
    pub line: Option<u32>,
    /// 1-based column, when known.
    pub column: Option<u32>,
}

/// True for the file names compiled as TypeScript.
pub(crate) fn is_typescript(file: &str) -> bool {
    file.ends_with(".ts") || file.ends_with(".mts") || file.ends_with(".cts")
}

/// The JavaScript of `source` (a script, as functions are), positions kept.
pub(crate) fn strip_types(file: &str, source: &str) -> Result<String, StripError> {
    let diagnostics: Diagnostics = Arc::new(Mutex::new(Vec::new()));
    let emitter = Collect(diagnostics.clone());
    let handler = Handler::with_emitter(false, false, Box::new(emitter));
    let map: Lrc<SourceMap> = Default::default();
    let options = Options {
        module: Some(false),
        filename: Some(file.to_string()),
        mode: Mode::StripOnly,
        ..Default::default()
    };
    let result = GLOBALS.set(&Globals::new(), || {
        swc_ts_fast_strip::operate(&map, &handler, source.to_string(), options)
    });
    match result {
        Ok(output) => Ok(output.code),
        Err(error) => {
            let first = diagnostics
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .first()
                .cloned();
            let kind = match error.code {
                ErrorCode::UnsupportedSyntax => {
                    "TypeScript syntax that generates code is not supported (only types are removed)"
                }
                _ => "TypeScript syntax error",
            };
            Err(match first {
                Some((message, Some(lo))) => {
                    let at = map.lookup_char_pos(lo);
                    StripError {
                        message: format!("{kind}: {message}"),
                        line: u32::try_from(at.line).ok(),
                        column: u32::try_from(at.col.0 + 1).ok(),
                    }
                }
                Some((message, None)) => StripError {
                    message: format!("{kind}: {message}"),
                    line: None,
                    column: None,
                },
                None => StripError {
                    message: format!("{kind}: {}", error.message),
                    line: None,
                    column: None,
                },
            })
        }
    }
}

/// Diagnostics as collected: each message with the start of its primary span.
type Diagnostics = Arc<Mutex<Vec<(String, Option<BytePos>)>>>;

/// Keeps each diagnostic's message and the start of its primary span.
struct Collect(Diagnostics);

impl Emitter for Collect {
    fn emit(&mut self, db: &mut DiagnosticBuilder<'_>) {
        let span = db.span.primary_span().map(|span| span.lo);
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push((db.message(), span));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_become_whitespace_and_positions_stay() {
        let source = "interface U { email: string }\nasync function pipe(user: U, context: any, callback: (e: Error | null) => void): Promise<void> {\n  const n = (user.email as string).length!;\n  return missing.x;\n}\n";
        let js = strip_types("f.ts", source).unwrap();
        assert_eq!(js.len(), source.len());
        assert!(!js.contains("interface"));
        assert!(js.contains("async function pipe(user"));
        let line = js.lines().nth(3).unwrap();
        assert_eq!(
            line.find("missing"),
            source.lines().nth(3).unwrap().find("missing")
        );
    }

    #[test]
    fn syntax_errors_have_positions() {
        let error = strip_types("f.ts", "function pipe(user: ) {}\n").unwrap_err();
        assert!(
            error.message.starts_with("TypeScript syntax error"),
            "{error:?}"
        );
        assert_eq!(error.line, Some(1));
        assert!(error.column.is_some());
    }

    #[test]
    fn enums_are_refused_with_their_position() {
        let error = strip_types("f.ts", "const a = 1;\nenum Role { Admin }\n").unwrap_err();
        assert!(error.message.contains("not supported"), "{error:?}");
        assert_eq!(error.line, Some(2));
    }
}
