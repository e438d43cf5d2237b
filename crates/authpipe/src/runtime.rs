//! The process-wide runtime: one wasmtime engine, its epoch ticker and the
//! caches of compiled modules.

use crate::cache::ModuleCache;
use crate::sandbox::{self, CallState};
use crate::slots::SlotGate;
use anyhow::{Context, Result};
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use wasmtime::{
    Config, Engine, InstanceAllocationStrategy, Linker, Module, PoolingAllocationConfig,
};

/// The engine module: QuickJS plus the prelude, built from `guest/`.
pub(crate) static ENGINE_WASM: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/engine.wasm"));

/// Period of the epoch ticker. At every tick a running sandbox compares the
/// monotonic clock with its deadline and checks its [`crate::CancelToken`],
/// so wall-clock limits hold to about this precision however late the
/// ticker runs.
pub(crate) const EPOCH_TICK: Duration = Duration::from_millis(1);

/// Default number of invocations that may run at the same time.
pub const DEFAULT_MAX_CONCURRENT_CALLS: u32 = 256;

/// Compiles (snapshots) that may run at the same time; more wait. Each
/// holds one instance of the engine while the function's top-level code
/// runs. They have their own slots so that compiling never takes room from
/// invocations.
pub(crate) const COMPILE_SLOTS: u32 = 4;

/// Idle pool slots kept warm (their memory resident, for fast reuse); the
/// memory of further idle slots is returned to the operating system, so a
/// burst of calls does not leave the process large.
const MAX_WARM_SLOTS: u32 = 32;

/// Largest linear memory any function may be given (the top of the
/// `memory_mb` range).
const MAX_MEMORY_BYTES: usize = 1024 << 20;

/// Settings of a [`Runtime`].
#[derive(Debug, Clone)]
pub struct RuntimeConfig {
    cache_dir: Option<PathBuf>,
    cache_max_bytes: u64,
    max_concurrent_calls: u32,
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        Self {
            cache_dir: None,
            cache_max_bytes: crate::cache::DEFAULT_CACHE_MAX_BYTES,
            max_concurrent_calls: DEFAULT_MAX_CONCURRENT_CALLS,
        }
    }
}

impl RuntimeConfig {
    /// Keeps compiled machine code in `dir` so that later processes skip
    /// Cranelift. Default: no on-disk cache.
    ///
    /// The directory must only be writable by trusted users: its files are
    /// loaded as native code.
    pub fn cache_dir(&mut self, dir: impl Into<PathBuf>) -> &mut Self {
        self.cache_dir = Some(dir.into());
        self
    }

    /// Caps the on-disk cache at `bytes` (default 1 GiB): beyond it, the
    /// least recently used entries are removed when a new one is written.
    pub fn cache_max_bytes(&mut self, bytes: u64) -> &mut Self {
        self.cache_max_bytes = bytes;
        self
    }

    /// The default on-disk cache location: `$AUTHPIPE_CACHE_DIR`, else
    /// `$XDG_CACHE_HOME/authpipe`, else `$HOME/.cache/authpipe`.
    pub fn default_cache_dir() -> Option<PathBuf> {
        let var = |name| {
            std::env::var_os(name)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        var("AUTHPIPE_CACHE_DIR")
            .or_else(|| var("XDG_CACHE_HOME").map(|d| d.join("authpipe")))
            .or_else(|| var("HOME").map(|d| d.join(".cache").join("authpipe")))
    }

    /// How many invocations may run at once (default 256). Memory for this
    /// many sandboxes is reserved (virtually) up front; a call beyond it
    /// waits for a free sandbox (up to its own timeout) instead of failing.
    pub fn max_concurrent_calls(&mut self, calls: u32) -> &mut Self {
        self.max_concurrent_calls = calls.max(1);
        self
    }
}

/// One per process: the wasmtime engine, the epoch ticker and compiled-code
/// caches. Cheap to clone (it is a handle); every [`crate::Function`] keeps
/// its runtime alive.
#[derive(Clone)]
pub struct Runtime {
    pub(crate) inner: Arc<RuntimeInner>,
}

pub(crate) struct RuntimeInner {
    pub engine: Engine,
    pub linker: Linker<CallState>,
    pub modules: ModuleCache,
    /// The engine module instrumented for wasmtime-wizer, compiled lazily.
    pub instrumented: OnceLock<Arc<crate::compile::Instrumented>>,
    /// Admission of invocations to the instance pool.
    pub call_slots: SlotGate,
    /// Admission of compiles to the instance pool.
    pub compile_slots: SlotGate,
}

impl Runtime {
    /// A runtime with default settings and no on-disk cache.
    pub fn new() -> Result<Self> {
        Self::with_config(&RuntimeConfig::default())
    }

    /// A runtime with `config`.
    pub fn with_config(config: &RuntimeConfig) -> Result<Self> {
        let engine = Engine::new(&wasmtime_config(config)?)
            .map_err(anyhow::Error::from)
            .context("failed to create the wasmtime engine")?;
        spawn_epoch_ticker(&engine)?;
        let mut linker = Linker::new(&engine);
        sandbox::add_to_linker(&mut linker)?;
        Ok(Self {
            inner: Arc::new(RuntimeInner {
                modules: ModuleCache::new(
                    engine.clone(),
                    config.cache_dir.clone(),
                    config.cache_max_bytes,
                ),
                engine,
                linker,
                instrumented: OnceLock::new(),
                call_slots: SlotGate::new(config.max_concurrent_calls as usize),
                compile_slots: SlotGate::new(COMPILE_SLOTS as usize),
            }),
        })
    }

    /// Prepares the code shared by all functions now (compiling it, or
    /// loading it from the on-disk cache) rather than on the first
    /// [`Runtime::compile`] or [`Runtime::load`], so that those stay fast.
    pub fn warm_up(&self) -> Result<()> {
        self.compile(
            "authpipe-warm-up",
            "function pipe(user, context, callback) { callback(null, user, context) }",
        )
        .map_err(|e| anyhow::anyhow!("warming up the engine failed: {e}"))?;
        Ok(())
    }
}

fn wasmtime_config(config: &RuntimeConfig) -> Result<Config> {
    let mut pool = PoolingAllocationConfig::new();
    // Each call instantiates a data module (the memory) and a code module;
    // each compile one instance of the engine. The slot gates admit no more
    // than this, so an instantiation never fails for want of room.
    let calls = config.max_concurrent_calls;
    pool.total_core_instances(calls * 2 + COMPILE_SLOTS)
        .total_memories(calls + COMPILE_SLOTS)
        .total_tables(calls + COMPILE_SLOTS)
        .max_unused_warm_slots(MAX_WARM_SLOTS)
        .total_component_instances(0)
        .max_memory_size(MAX_MEMORY_BYTES)
        .table_elements(32_768)
        .max_core_instance_size(2 << 20)
        // Reset only the pages a call dirtied, with memcpy, and keep them
        // mapped: the next call on the slot takes no page faults.
        .linear_memory_keep_resident(4 << 20)
        .table_keep_resident(256 << 10)
        .pagemap_scan(wasmtime::Enabled::Auto);
    let mut wasm = Config::new();
    wasm.allocation_strategy(InstanceAllocationStrategy::Pooling(pool))
        .consume_fuel(true)
        .epoch_interruption(true)
        .max_wasm_stack(1 << 20)
        .memory_init_cow(true)
        .parallel_compilation(true)
        .cranelift_opt_level(wasmtime::OptLevel::Speed);
    // `AUTHPIPE_PROFILE=perfmap` lets `perf` name the functions of the
    // engine (QuickJS and the prelude's Rust) when measuring where time goes.
    if std::env::var_os("AUTHPIPE_PROFILE").is_some_and(|v| v == "perfmap") {
        wasm.profiler(wasmtime::ProfilingStrategy::PerfMap);
    }
    Ok(wasm)
}

/// Ticks the engine's epoch every [`EPOCH_TICK`] until the engine is gone.
fn spawn_epoch_ticker(engine: &Engine) -> Result<()> {
    let weak = engine.weak();
    std::thread::Builder::new()
        .name("authpipe-epoch".into())
        .spawn(move || {
            loop {
                std::thread::sleep(EPOCH_TICK);
                match weak.upgrade() {
                    Some(engine) => engine.increment_epoch(),
                    None => return,
                }
            }
        })
        .context("failed to start the epoch ticker thread")?;
    Ok(())
}

impl Runtime {
    /// Identifies the engine snapshots are made from (hex SHA-256 of the
    /// engine module): a stored snapshot is only reusable by a runtime
    /// with the same engine id.
    pub fn engine_id(&self) -> String {
        crate::cache::hex(crate::cache::engine_digest())
    }

    /// How many invocations run now (for metrics).
    pub fn calls_in_flight(&self) -> usize {
        self.inner.call_slots.in_use()
    }
}

impl RuntimeInner {
    /// A compiled module for `wasm`, from memory, disk or Cranelift.
    pub fn module(&self, wasm: &[u8]) -> Result<Module> {
        self.modules.get_or_compile(wasm)
    }
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime").finish_non_exhaustive()
    }
}
