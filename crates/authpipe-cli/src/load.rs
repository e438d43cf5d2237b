//! Turning command-line arguments into a runtime and functions.

use crate::CacheArgs;
use anyhow::Result;
use authpipe::{CompileError, Function, Runtime, RuntimeConfig};
use std::path::Path;
use std::process::ExitCode;

/// Runtime settings: the on-disk cache unless disabled.
pub fn runtime_config(cache: &CacheArgs) -> RuntimeConfig {
    let mut config = RuntimeConfig::default();
    config.cache_max_bytes(cache.cache_max_bytes);
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

/// Largest compiled function (`.wasm`) accepted, in bytes.
const MAX_SNAPSHOT_BYTES: usize = 256 << 20;

/// Reads a JavaScript source file (at most [`authpipe::MAX_SOURCE_BYTES`]).
pub fn read_source(path: &Path) -> Result<String> {
    Ok(authpipe::bounded::read_source_file(path)?)
}

/// Prints compile warnings on stderr.
pub fn print_warnings(warnings: &[String]) {
    for warning in warnings {
        eprintln!("warning: {warning}");
    }
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

/// Loads FN.wasm or compiles FN.js (as `flavor`, or the detected one). A
/// compile error is reported here and comes back as the exit status to use.
pub fn function(
    runtime: &Runtime,
    path: &Path,
    flavor: Option<authpipe::Flavor>,
) -> Result<Result<Function, ExitCode>> {
    let name = function_name(path);
    if path.extension().is_some_and(|e| e == "wasm") {
        let snapshot = authpipe::bounded::read_file_capped(path, MAX_SNAPSHOT_BYTES)?;
        return Ok(Ok(runtime.load(&name, &snapshot)?));
    }
    let source = read_source(path)?;
    let compiled = runtime
        .compile_flavored(&name, &display_name(path), &source, flavor)
        .map_err(|error| report_compile_error(path, error));
    if let Ok(function) = &compiled {
        print_warnings(function.warnings());
    }
    Ok(compiled)
}

/// The file name error positions and stack traces show for `path`.
pub fn display_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}
