//! Compiled modules, shared in memory and optionally kept on disk.

use anyhow::{Context, Result};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use wasmtime::{Engine, Module};

/// Bump when the engine configuration changes in a way wasmtime's own
/// compatibility check cannot see.
const CACHE_FORMAT: &str = "authpipe-cache-1";

/// One cache entry: filled once, by the first thread that asks.
type Slot = Arc<Mutex<Option<Module>>>;

/// Compiled modules by content hash. Compiling the same bytes twice in one
/// process returns the same module; with a directory, compiled code
/// survives restarts.
pub(crate) struct ModuleCache {
    engine: Engine,
    dir: Option<PathBuf>,
    memory: Mutex<HashMap<[u8; 32], Slot>>,
}

impl ModuleCache {
    pub fn new(engine: Engine, dir: Option<PathBuf>) -> Self {
        Self {
            engine,
            dir,
            memory: Mutex::new(HashMap::new()),
        }
    }

    /// The module for `wasm`, compiling it at most once per process even when
    /// several threads ask at the same time.
    pub fn get_or_compile(&self, wasm: &[u8]) -> Result<Module> {
        let key: [u8; 32] = Sha256::digest(wasm).into();
        let slot = self
            .memory
            .lock()
            .expect("module cache lock poisoned")
            .entry(key)
            .or_default()
            .clone();
        let mut slot = slot.lock().expect("module slot lock poisoned");
        if let Some(module) = slot.as_ref() {
            return Ok(module.clone());
        }
        let module = self.load_or_compile(&key, wasm)?;
        *slot = Some(module.clone());
        Ok(module)
    }

    fn load_or_compile(&self, key: &[u8; 32], wasm: &[u8]) -> Result<Module> {
        let Some(dir) = &self.dir else {
            return compile(&self.engine, wasm);
        };
        let path = dir.join(format!(
            "{CACHE_FORMAT}-{}-{}.cwasm",
            env!("CARGO_PKG_VERSION"),
            hex(key)
        ));
        if path.exists() {
            // SAFETY: the file was written by `Module::serialize` below into
            // the runtime's own cache directory, which the embedder promises
            // is writable only by trusted users (see `RuntimeConfig::cache_dir`).
            // wasmtime checks that it was compiled by this wasmtime with a
            // compatible configuration and rejects it otherwise.
            match unsafe { Module::deserialize_file(&self.engine, &path) } {
                Ok(module) => return Ok(module),
                Err(e) => {
                    tracing::warn!(path = %path.display(), error = %e, "ignoring unusable cache entry")
                }
            }
        }
        let module = compile(&self.engine, wasm)?;
        if let Err(e) = self.store(&path, &module) {
            tracing::warn!(path = %path.display(), error = %e, "could not write the module cache");
        }
        Ok(module)
    }

    fn store(&self, path: &std::path::Path, module: &Module) -> Result<()> {
        write_atomically(path, &module.serialize()?)
    }

    /// Where the snapshot of `source` (compiled as `file`) is kept, when
    /// there is a cache directory. The key covers the engine, so a new
    /// engine never reuses an old snapshot.
    pub fn snapshot_path(&self, file: &str, source: &str) -> Option<PathBuf> {
        let dir = self.dir.as_ref()?;
        let mut hasher = Sha256::new();
        hasher.update(engine_digest());
        hasher.update(file.as_bytes());
        hasher.update([0]);
        hasher.update(source.as_bytes());
        Some(dir.join(format!(
            "{CACHE_FORMAT}-snapshot-{}.wasm",
            hex(&hasher.finalize())
        )))
    }

    /// Keeps a snapshot for [`ModuleCache::snapshot_path`]; failures are
    /// only logged (the cache is an optimisation).
    pub fn store_snapshot(&self, path: &std::path::Path, snapshot: &[u8]) {
        if let Err(e) = write_atomically(path, snapshot) {
            tracing::warn!(path = %path.display(), error = %e, "could not write the snapshot cache");
        }
    }
}

/// `bytes` as lowercase hex.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// SHA-256 of the engine module, computed once.
fn engine_digest() -> &'static [u8; 32] {
    static DIGEST: std::sync::OnceLock<[u8; 32]> = std::sync::OnceLock::new();
    DIGEST.get_or_init(|| Sha256::digest(crate::runtime::ENGINE_WASM).into())
}

/// Writes `bytes` to `path` through a temporary file and a rename, so a
/// reader never sees half a file.
fn write_atomically(path: &std::path::Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().context("cache path has no directory")?;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    std::fs::write(&tmp, bytes).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("renaming to {}", path.display()))?;
    Ok(())
}

fn compile(engine: &Engine, wasm: &[u8]) -> Result<Module> {
    Module::new(engine, wasm)
        .map_err(anyhow::Error::from)
        .context("failed to compile a module")
}
