//! Compiled modules, shared in memory and optionally kept on disk.

use anyhow::{Context, Result};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use wasmtime::{Engine, Module};

/// Bump when the engine configuration changes in a way wasmtime's own
/// compatibility check cannot see.
const CACHE_FORMAT: &str = "authpipe-cache-1";

/// One cache entry: filled once, by the first thread that asks.
type Slot = Arc<Mutex<Option<Module>>>;

/// Default size cap of the on-disk cache (1 GiB).
pub const DEFAULT_CACHE_MAX_BYTES: u64 = 1 << 30;

/// Compiled modules by content hash. Compiling the same bytes twice in one
/// process returns the same module; with a directory, compiled code
/// survives restarts, and the least recently used files are removed once
/// the directory grows past `max_bytes`.
pub(crate) struct ModuleCache {
    engine: Engine,
    dir: Option<PathBuf>,
    max_bytes: u64,
    memory: Mutex<HashMap<[u8; 32], Slot>>,
}

impl ModuleCache {
    pub fn new(engine: Engine, dir: Option<PathBuf>, max_bytes: u64) -> Self {
        Self {
            engine,
            dir,
            max_bytes,
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
                Ok(module) => {
                    mark_used(&path);
                    return Ok(module);
                }
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

    fn store(&self, path: &Path, module: &Module) -> Result<()> {
        write_atomically(path, &module.serialize()?)?;
        self.evict_beyond_cap(path);
        Ok(())
    }

    /// Removes least recently used entries while the directory is over its
    /// cap, never `keep` (the entry just written).
    fn evict_beyond_cap(&self, keep: &Path) {
        let Some(dir) = &self.dir else {
            return;
        };
        if let Err(e) = prune(dir, self.max_bytes, Some(keep)) {
            tracing::warn!(dir = %dir.display(), error = %e, "could not prune the cache");
        }
    }

    /// Where the snapshot of `source` (compiled as `file`, as `flavor` or detected) is kept, when
    /// there is a cache directory. The key covers the engine, so a new
    /// engine never reuses an old snapshot.
    pub fn snapshot_path(
        &self,
        file: &str,
        flavor: Option<crate::Flavor>,
        source: &str,
    ) -> Option<PathBuf> {
        let dir = self.dir.as_ref()?;
        let mut hasher = Sha256::new();
        hasher.update(engine_digest());
        hasher.update(file.as_bytes());
        hasher.update([0]);
        // Unset (detected) and each flavour are distinct keys.
        hasher.update(flavor.map_or("detect", crate::Flavor::name).as_bytes());
        hasher.update([0]);
        hasher.update(source.as_bytes());
        Some(dir.join(format!(
            "{CACHE_FORMAT}-snapshot-{}.wasm",
            hex(&hasher.finalize())
        )))
    }

    /// Keeps a snapshot for [`ModuleCache::snapshot_path`]; failures are
    /// only logged (the cache is an optimisation).
    pub fn store_snapshot(&self, path: &Path, snapshot: &[u8]) {
        match write_atomically(path, snapshot) {
            Ok(()) => self.evict_beyond_cap(path),
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "could not write the snapshot cache")
            }
        }
    }
}

/// Notes that a cache entry was used now (its modification time), which is
/// what eviction orders by.
pub(crate) fn mark_used(path: &Path) {
    if let Ok(file) = std::fs::File::options().append(true).open(path) {
        let _ = file.set_modified(std::time::SystemTime::now());
    }
}

/// What [`prune`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PruneStats {
    /// Entries removed.
    pub removed_files: u64,
    /// Bytes they took.
    pub removed_bytes: u64,
    /// Entries left.
    pub kept_files: u64,
    /// Bytes they take.
    pub kept_bytes: u64,
}

/// Removes authpipe's cache entries in `dir`, least recently used first,
/// until they take at most `max_bytes` (0 removes them all). Only files
/// authpipe wrote are considered; `keep` is never removed.
pub fn prune(dir: &Path, max_bytes: u64, keep: Option<&Path>) -> Result<PruneStats> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(PruneStats::default()),
        Err(e) => return Err(e).with_context(|| format!("reading {}", dir.display())),
    };
    let mut files = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name();
        if !name.to_string_lossy().starts_with("authpipe-cache-") {
            continue;
        }
        let Ok(meta) = entry.metadata() else { continue };
        if !meta.is_file() {
            continue;
        }
        let used = meta.modified().unwrap_or(std::time::UNIX_EPOCH);
        files.push((used, meta.len(), entry.path()));
    }
    files.sort();
    let mut total: u64 = files.iter().map(|f| f.1).sum();
    let mut stats = PruneStats::default();
    for (_, size, path) in &files {
        if total <= max_bytes {
            break;
        }
        if keep == Some(path.as_path()) {
            continue;
        }
        if std::fs::remove_file(path).is_ok() {
            total -= size;
            stats.removed_files += 1;
            stats.removed_bytes += size;
        }
    }
    stats.kept_files = files.len() as u64 - stats.removed_files;
    stats.kept_bytes = total;
    Ok(stats)
}

/// `bytes` as lowercase hex.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// SHA-256 of the engine module, computed once.
pub(crate) fn engine_digest() -> &'static [u8; 32] {
    static DIGEST: std::sync::OnceLock<[u8; 32]> = std::sync::OnceLock::new();
    DIGEST.get_or_init(|| Sha256::digest(crate::runtime::ENGINE_WASM).into())
}

/// Writes `bytes` to `path` through a temporary file and a rename, so a
/// reader never sees half a file.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
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
