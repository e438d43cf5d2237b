//! Turning command-line arguments into a runtime and functions.

use crate::CacheArgs;
use anyhow::{Context, Result};
use authpipe::{CompileError, Function, Runtime, RuntimeConfig};
use std::path::Path;
use std::process::ExitCode;

/// Runtime settings: the on-disk cache unless disabled.
pub fn runtime_config(cache: &CacheArgs) -> RuntimeConfig {
    let mut config = RuntimeConfig::default();
    let dir = cache
        .cache_dir
        .clone()
        .or_else(RuntimeConfig::default_cache_dir);
    if let Some(dir) = dir.filter(|_| !cache.no_cache) {
        config.cache_dir(dir);
    }
    config
}

/// The runtime, with the on-disk cache unless disabled.
pub fn runtime(cache: &CacheArgs) -> Result<Runtime> {
    Runtime::with_config(&runtime_config(cache))
}

/// The function's name: the file name without its extension, or the
/// directory's name for a template's `function.js`.
pub fn function_name(path: &Path) -> String {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "function".into());
    if stem != "function" {
        return stem;
    }
    path.canonicalize()
        .ok()
        .and_then(|p| Some(p.parent()?.file_name()?.to_string_lossy().into_owned()))
        .unwrap_or(stem)
}

/// Reads a JavaScript source file.
pub fn read_source(path: &Path) -> Result<String> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    String::from_utf8(bytes).with_context(|| format!("{} is not UTF-8 text", path.display()))
}

/// Prints a compile error as `FILE:LINE:COL: message` and returns the exit
/// status for it.
pub fn report_compile_error(path: &Path, error: CompileError) -> ExitCode {
    match error {
        CompileError::Source {
            line,
            column,
            message,
            ..
        } => {
            let file = path.display();
            match (line, column) {
                (Some(line), Some(column)) => eprintln!("{file}:{line}:{column}: error: {message}"),
                (Some(line), None) => eprintln!("{file}:{line}: error: {message}"),
                _ => eprintln!("{file}: error: {message}"),
            }
        }
        CompileError::Internal(error) => eprintln!("error: {error:#}"),
    }
    ExitCode::FAILURE
}

/// Loads FN.wasm or compiles FN.js. A compile error is reported here and
/// comes back as the exit status to use.
pub fn function(runtime: &Runtime, path: &Path) -> Result<Result<Function, ExitCode>> {
    let name = function_name(path);
    if path.extension().is_some_and(|e| e == "wasm") {
        let snapshot =
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        return Ok(Ok(runtime.load(&name, &snapshot)?));
    }
    let source = read_source(path)?;
    Ok(runtime
        .compile(&name, &source)
        .map_err(|error| report_compile_error(path, error)))
}
