//! Code frames: the source line an error points at, with a caret.

use authpipe::FunctionError;

/// Lines shown before the faulting one.
const CONTEXT_LINES: u32 = 2;

/// The frame for `error` when it has a location within `source`:
///
/// ```text
///   --> fn.js:5:23
///    |
///  4 |   const b = 2;
///  5 |   return user.profile.name;
///    |                       ^
/// ```
pub fn for_error(file: &str, source: &str, error: &FunctionError) -> Option<String> {
    let location = error.location?;
    let lines: Vec<&str> = source.lines().collect();
    let index = usize::try_from(location.line).ok()?.checked_sub(1)?;
    let faulting = lines.get(index)?;
    let first = location.line.saturating_sub(CONTEXT_LINES).max(1);
    let width = location.line.to_string().len();
    let mut out = format!(
        "{:width$}--> {file}:{}:{}\n{:width$} |\n",
        "", location.line, location.column, ""
    );
    for number in first..=location.line {
        let text = lines[number as usize - 1];
        out.push_str(&format!("{number:>width$} | {text}\n"));
    }
    // The caret sits under the column'th character; tabs are kept so that
    // it lines up in a terminal.
    let pad: String = faulting
        .chars()
        .take(location.column.saturating_sub(1) as usize)
        .map(|c| if c == '\t' { '\t' } else { ' ' })
        .collect();
    out.push_str(&format!("{:width$} | {pad}^", ""));
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use authpipe::{ErrorKind, SourceLocation};

    #[test]
    fn points_at_the_column() {
        let mut error = FunctionError::new(ErrorKind::Exception, "boom");
        error.location = Some(SourceLocation {
            line: 3,
            column: 10,
        });
        let source = "function pipe() {\n  const a = 1;\n  return user.x;\n}\n";
        let frame = for_error("fn.js", source, &error).unwrap();
        assert_eq!(
            frame,
            " --> fn.js:3:10\n  |\n1 | function pipe() {\n2 |   const a = 1;\n3 |   return user.x;\n  |          ^"
        );
    }

    #[test]
    fn no_frame_without_a_location_inside_the_source() {
        let mut error = FunctionError::new(ErrorKind::Exception, "boom");
        assert!(for_error("fn.js", "x", &error).is_none());
        error.location = Some(SourceLocation { line: 9, column: 1 });
        assert!(for_error("fn.js", "x", &error).is_none());
    }
}
