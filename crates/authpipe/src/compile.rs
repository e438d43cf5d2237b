//! JavaScript source → pre-initialised snapshot, with wasmtime-wizer.
//!
//! The engine is instrumented and compiled once per process (and cached on
//! disk); each compile then only instantiates it, evaluates the source and
//! snapshots the memory.

use crate::flavor::Flavor;
use crate::function::Function;
use crate::limits::MAX_SOURCE_BYTES;
use crate::runtime::{ENGINE_WASM, Runtime};
use crate::sandbox::{self, CallState, Environ};
use anyhow::{Context, Result, anyhow};
use serde::Deserialize;
use std::sync::Arc;
use std::time::{Duration, Instant};
use wasmtime::{Instance, Module, Store, Trap};
use wasmtime_wizer::{ModuleContext, SnapshotVal, ValType, Wizer};

/// Wall-clock budget for evaluating a function's top-level code.
const COMPILE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a compile waits for one of the runtime's compile slots.
const COMPILE_SLOT_WAIT: Duration = Duration::from_secs(600);
/// Fuel budget for evaluating a function's top-level code.
const COMPILE_FUEL: u64 = 10_000_000_000;
/// Memory budget for evaluating a function's top-level code.
const COMPILE_MEMORY_BYTES: u64 = 256 << 20;

/// Why a function did not compile.
#[derive(Debug, thiserror::Error)]
pub enum CompileError {
    /// The source has a syntax error, throws at top level, or does not
    /// define `pipe`. `Display` is `FILE:LINE:COL: message` when the
    /// position is known.
    #[error("{}", source_error_text(.file, *.line, *.column, .message))]
    Source {
        /// The file name the source was compiled under.
        file: String,
        /// 1-based line, when known.
        line: Option<u32>,
        /// 1-based column, when known.
        column: Option<u32>,
        /// What is wrong.
        message: String,
    },
    /// The host failed (not the source's fault).
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

fn source_error_text(file: &str, line: Option<u32>, column: Option<u32>, message: &str) -> String {
    match (line, column) {
        (Some(line), Some(column)) => format!("{file}:{line}:{column}: {message}"),
        (Some(line), None) => format!("{file}:{line}: {message}"),
        _ => format!("{file}: {message}"),
    }
}

/// The engine module instrumented for snapshotting, compiled.
pub(crate) struct Instrumented {
    context: ModuleContext<'static>,
    module: Module,
}

/// What the engine's initializer reports on stdout.
#[derive(Deserialize)]
struct InitReport {
    ok: bool,
    #[serde(default)]
    error: Option<InitError>,
    #[serde(default)]
    warnings: Vec<String>,
}

/// Name of the custom section in which a snapshot keeps its compile
/// warnings (a JSON array of strings), so that a snapshot loaded from a
/// file or the cache still has them.
pub(crate) const WARNINGS_SECTION: &str = "authpipe-warnings";

#[derive(Deserialize)]
struct InitError {
    message: String,
    #[serde(default)]
    line: Option<u32>,
    #[serde(default)]
    column: Option<u32>,
}

fn wizer() -> Wizer {
    Wizer::new()
}

impl Runtime {
    pub(crate) fn instrumented(&self) -> Result<Arc<Instrumented>> {
        if let Some(done) = self.inner.instrumented.get() {
            return Ok(done.clone());
        }
        let (context, wasm) = wizer()
            .instrument(ENGINE_WASM)
            .map_err(anyhow::Error::from)
            .context("failed to instrument the engine")?;
        let module = self
            .inner
            .module(&wasm)
            .context("failed to compile the engine")?;
        let done = Arc::new(Instrumented { context, module });
        Ok(self.inner.instrumented.get_or_init(|| done).clone())
    }

    /// Compiles `source` into a function named `name`.
    ///
    /// `name` is also the file name in stack traces and error positions
    /// (`name.js` is used when `name` has no extension); see
    /// [`Runtime::compile_as`] to give the file name separately.
    ///
    /// With an on-disk cache ([`crate::RuntimeConfig::cache_dir`]), the
    /// snapshot of an unchanged source is reused across processes.
    pub fn compile(&self, name: &str, source: &str) -> Result<Function, CompileError> {
        self.compile_as(name, &file_name(name), source)
    }

    /// Compiles `source`, read from `file`, into a function named `name`.
    /// Error positions and stack traces name `file`.
    pub fn compile_as(
        &self,
        name: &str,
        file: &str,
        source: &str,
    ) -> Result<Function, CompileError> {
        self.compile_flavored(name, file, source, None)
    }

    /// [`Runtime::compile_as`] of a source of the given flavour
    /// ([`Flavor::detect`]ed when `None`).
    pub fn compile_flavored(
        &self,
        name: &str,
        file: &str,
        source: &str,
        flavor: Option<Flavor>,
    ) -> Result<Function, CompileError> {
        let cached = self.inner.modules.snapshot_path(file, flavor, source);
        if let Some((path, snapshot)) = cached
            .as_ref()
            .and_then(|p| Some((p, std::fs::read(p).ok()?)))
        {
            match self.load(name, &snapshot) {
                Ok(function) => {
                    crate::cache::mark_used(path);
                    return Ok(function);
                }
                Err(e) => {
                    tracing::warn!(path = %path.display(), error = %e, "ignoring unusable cached snapshot")
                }
            }
        }
        let snapshot = self.snapshot_flavored(file, source, flavor)?;
        if let Some(path) = &cached {
            self.inner.modules.store_snapshot(path, &snapshot);
        }
        Ok(self.load(name, &snapshot)?)
    }

    /// [`Runtime::compile`] on tokio's blocking pool, so the reactor never
    /// waits on a compile (milliseconds, or about a second for the very first
    /// one without a warm cache).
    pub async fn compile_async(&self, name: &str, source: &str) -> Result<Function, CompileError> {
        self.compile_as_async(name, &file_name(name), source).await
    }

    /// [`Runtime::compile_as`] on tokio's blocking pool.
    pub async fn compile_as_async(
        &self,
        name: &str,
        file: &str,
        source: &str,
    ) -> Result<Function, CompileError> {
        self.compile_flavored_async(name, file, source, None).await
    }

    /// [`Runtime::compile_flavored`] on tokio's blocking pool.
    pub async fn compile_flavored_async(
        &self,
        name: &str,
        file: &str,
        source: &str,
        flavor: Option<Flavor>,
    ) -> Result<Function, CompileError> {
        let (runtime, name, file, source) = (
            self.clone(),
            name.to_string(),
            file.to_string(),
            source.to_string(),
        );
        match tokio::task::spawn_blocking(move || {
            runtime.compile_flavored(&name, &file, &source, flavor)
        })
        .await
        {
            Ok(result) => result,
            Err(e) => Err(CompileError::Internal(
                anyhow::Error::new(e).context("the compile task failed"),
            )),
        }
    }

    /// Compiles `source` into a self-contained snapshot `.wasm` (what
    /// `authpipe compile-function` writes); `name` as for
    /// [`Runtime::compile`].
    pub fn snapshot(&self, name: &str, source: &str) -> Result<Vec<u8>, CompileError> {
        self.snapshot_as(&file_name(name), source)
    }

    /// The compile warnings a snapshot from [`Runtime::snapshot`] carries
    /// (what [`crate::Function::warnings`] returns once it is loaded), read
    /// without loading it.
    pub fn snapshot_warnings(snapshot: &[u8]) -> Result<Vec<String>> {
        crate::split::warnings(snapshot)
    }

    /// [`Runtime::snapshot`] of `source` read from `file` (the name error
    /// positions and stack traces use).
    pub fn snapshot_as(&self, file: &str, source: &str) -> Result<Vec<u8>, CompileError> {
        self.snapshot_flavored(file, source, None)
    }

    /// [`Runtime::snapshot_as`] of a source of the given flavour
    /// ([`Flavor::detect`]ed when `None`).
    pub fn snapshot_flavored(
        &self,
        file: &str,
        source: &str,
        flavor: Option<Flavor>,
    ) -> Result<Vec<u8>, CompileError> {
        let file = file.to_string();
        if source.len() > MAX_SOURCE_BYTES {
            return Err(CompileError::Source {
                file,
                line: None,
                column: None,
                message: format!(
                    "the source is {} bytes; the limit is {MAX_SOURCE_BYTES}",
                    source.len()
                ),
            });
        }
        let stripped;
        let source = if crate::typescript::is_typescript(&file) {
            stripped = crate::typescript::strip_types(&file, source).map_err(|e| {
                CompileError::Source {
                    file: file.clone(),
                    line: e.line,
                    column: e.column,
                    message: e.message,
                }
            })?;
            stripped.as_str()
        } else {
            source
        };
        let flavor = flavor.unwrap_or_else(|| Flavor::detect(source));
        let source = flavor.prepare(source);
        let instrumented = self.instrumented()?;
        let stdin = format!("{file}\n{flavor}\n{source}").into_bytes();
        // Waiting for a compile slot does not count against the top-level
        // code's time budget.
        let _slot = self
            .inner
            .compile_slots
            .acquire(Instant::now() + COMPILE_SLOT_WAIT, &|| false)
            .ok_or_else(|| anyhow!("no compile slot became free within {COMPILE_SLOT_WAIT:?}"))?;
        let deadline = Instant::now() + COMPILE_TIMEOUT;
        let mut store = Store::new(
            &self.inner.engine,
            CallState::new(
                stdin,
                Arc::new(Environ::default()),
                COMPILE_MEMORY_BYTES,
                deadline,
            ),
        );
        store.limiter(|state| state);
        store.set_fuel(COMPILE_FUEL).map_err(anyhow::Error::from)?;
        sandbox::enforce_deadline(&mut store);

        let instance = self
            .inner
            .linker
            .instantiate(&mut store, &instrumented.module)
            .map_err(anyhow::Error::from)
            .context("failed to instantiate the engine")?;
        let memory = instance
            .get_memory(&mut store, "memory")
            .context("the engine exports no memory")?;
        store.data_mut().memory = Some(memory);

        for export in ["_initialize", wizer().get_init_func()] {
            let Some(func) = instance.get_func(&mut store, export) else {
                continue;
            };
            let func = func.typed::<(), ()>(&store).map_err(anyhow::Error::from)?;
            if let Err(trap) = func.call(&mut store, ()) {
                return Err(init_failure(&file, &store, trap));
            }
        }

        let report: InitReport =
            serde_json::from_slice(&store.data().stdout.data).with_context(|| {
                format!(
                    "the engine's compile report is not JSON: {:?}",
                    String::from_utf8_lossy(&store.data().stdout.data)
                )
            })?;
        if !report.ok {
            let error = report
                .error
                .ok_or_else(|| anyhow!("the engine reported a failure without details"))?;
            return Err(CompileError::Source {
                file,
                line: error.line,
                column: error.column,
                message: error.message,
            });
        }

        let mut state = SnapshotState {
            store: &mut store,
            instance,
        };
        let mut snapshot = block_on_ready(wizer().snapshot(&instrumented.context, &mut state))
            .map_err(anyhow::Error::from)
            .context("failed to snapshot the initialised engine")?;
        if !report.warnings.is_empty() {
            let warnings = serde_json::to_vec(&report.warnings).context("encoding warnings")?;
            wasm_encoder::Section::append_to(
                &wasm_encoder::CustomSection {
                    name: WARNINGS_SECTION.into(),
                    data: warnings.into(),
                },
                &mut snapshot,
            );
        }
        Ok(snapshot)
    }
}

/// `name` with a `.js` extension unless it already has one (`.ts` names
/// are compiled as TypeScript).
fn file_name(name: &str) -> String {
    if name.ends_with(".js")
        || name.ends_with(".mjs")
        || name.ends_with(".cjs")
        || crate::typescript::is_typescript(name)
    {
        name.to_string()
    } else {
        format!("{name}.js")
    }
}

fn init_failure(file: &str, store: &Store<CallState>, error: wasmtime::Error) -> CompileError {
    let message = match error.downcast_ref::<Trap>() {
        Some(Trap::OutOfFuel) => {
            "the top-level code ran out of fuel while the function was compiled".to_string()
        }
        Some(Trap::Interrupt) => format!(
            "the top-level code ran for more than {} s while the function was compiled",
            COMPILE_TIMEOUT.as_secs()
        ),
        _ if store.data().memory_limit_hit => format!(
            "the top-level code needed more than {} MiB of memory while the function was compiled",
            COMPILE_MEMORY_BYTES >> 20
        ),
        Some(Trap::StackOverflow) => "the top-level code overflowed the stack".to_string(),
        _ => {
            return CompileError::Internal(
                anyhow::Error::from(error)
                    .context("the engine failed while compiling the function"),
            );
        }
    };
    CompileError::Source {
        file: file.to_string(),
        line: None,
        column: None,
        message,
    }
}

/// Gives wasmtime-wizer read access to the initialised instance.
struct SnapshotState<'a> {
    store: &'a mut Store<CallState>,
    instance: Instance,
}

impl wasmtime_wizer::InstanceState for SnapshotState<'_> {
    async fn global_get(&mut self, name: &str, _type_hint: ValType) -> SnapshotVal {
        let global = self
            .instance
            .get_global(&mut *self.store, name)
            .expect("wizer asks only for globals it exported");
        match global.get(&mut *self.store) {
            wasmtime::Val::I32(x) => SnapshotVal::I32(x),
            wasmtime::Val::I64(x) => SnapshotVal::I64(x),
            wasmtime::Val::F32(x) => SnapshotVal::F32(x),
            wasmtime::Val::F64(x) => SnapshotVal::F64(x),
            wasmtime::Val::V128(x) => SnapshotVal::V128(x.as_u128()),
            other => panic!("unsupported global value {other:?}"),
        }
    }

    async fn memory_contents(&mut self, name: &str, contents: impl FnOnce(&[u8]) + Send) {
        let memory = self
            .instance
            .get_memory(&mut *self.store, name)
            .expect("wizer asks only for memories it exported");
        contents(memory.data(&*self.store));
    }
}

/// Drives a future that never waits (wizer's snapshot over in-memory state)
/// to completion without an executor.
fn block_on_ready<F: std::future::Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    loop {
        if let std::task::Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
    }
}
