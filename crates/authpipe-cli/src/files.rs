//! Small file and TOML-text helpers shared by the commands that read
//! directories of JSON (`test`, `import auth0`) and write `authpipe.toml`
//! (`new`, `import auth0`).

use anyhow::{Context, Result};
use std::path::{Path, PathBuf};

/// The `*.json` files directly in `dir`, sorted; none when it does not
/// exist.
pub fn json_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e).with_context(|| format!("cannot list {}", dir.display())),
    };
    let mut files = Vec::new();
    for entry in entries {
        let path = entry
            .with_context(|| format!("cannot list {}", dir.display()))?
            .path();
        if path.extension().is_some_and(|e| e == "json") && path.is_file() {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// `text` as a TOML string.
pub fn quoted(text: &str) -> String {
    toml::Value::String(text.to_string()).to_string()
}

/// `name` as a TOML key: bare when it can be, quoted otherwise.
pub fn key(name: &str) -> String {
    let bare = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if bare { name.to_string() } else { quoted(name) }
}

/// `text` on one comment line.
pub fn comment(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
