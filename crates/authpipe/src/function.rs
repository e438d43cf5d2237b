//! A compiled function and one sandboxed call of it.

use crate::cancel::CancelToken;
use crate::fetch::{FetchError, Fetcher};
use crate::limits::{Limits, MAX_LOG_BYTES};
use crate::result::{ErrorKind, FunctionError, LogLevel, LogRecord};
use crate::runtime::Runtime;
use crate::sandbox::{self, CallState, Environ, Exit};
use crate::split::{self, MEMORY_NAME, SNAPSHOT_MODULE};
use anyhow::{Context, Result, bail};
use serde::Deserialize;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use std::sync::Arc;
use std::time::Instant;
use wasmtime::{Extern, Instance, InstancePre, Memory, Module, ModuleExport, Store, Trap};

/// A compiled function, ready to run. Cheap to clone; each call gets a fresh
/// sandbox, so nothing leaks between calls.
#[derive(Clone)]
pub struct Function {
    inner: Arc<FunctionInner>,
}

struct FunctionInner {
    runtime: Runtime,
    name: String,
    snapshot: Arc<[u8]>,
    snapshot_hash: String,
    /// Shared engine code; imports its memory from `data`.
    code: Module,
    /// The snapshot's memory, ready to instantiate.
    data: InstancePre<CallState>,
    data_memory: ModuleExport,
    start: ModuleExport,
    imports: Vec<ImportSlot>,
    warnings: Vec<String>,
}

/// Where each import of the code module comes from: the data instance's
/// memory, or one of its re-exported WASI functions.
enum ImportSlot {
    Memory,
    Export(ModuleExport),
}

/// Host page size assumed by [`Function::pages_written`].
const HOST_PAGE_BYTES: usize = 4096;

/// What one call wrote to its sandbox's memory ([`Function::pages_written`]).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct PagesWritten {
    /// 4 KiB pages whose bytes changed.
    pub pages: u64,
    /// Contiguous runs of such pages.
    pub runs: u64,
    /// 4 KiB pages in the memory when the call began.
    pub image_pages: u64,
}

/// How one stage's call ended, before it is merged into a result.
#[allow(clippy::large_enum_variant, reason = "one value per call, moved once")]
pub(crate) enum StageOutput {
    /// Allowed: the guest's result JSON as it wrote it (checked to carry
    /// `user` and `context` objects), which the next stage takes as its
    /// input unchanged; and the result's `auth0` section.
    Allow {
        flow: Vec<u8>,
        auth0: Map<String, Value>,
    },
    /// Denied or failed; with the `auth0` section of a denial.
    Refused(FunctionError, Map<String, Value>),
}

/// One call's output and measurements.
pub(crate) struct StageRun {
    pub output: StageOutput,
    pub duration_us: u64,
    pub fuel: u64,
    pub memory_bytes: u64,
    pub logs: Vec<LogRecord>,
    /// The call's input, handed back.
    pub input: Vec<u8>,
}

impl Runtime {
    /// Loads a snapshot written by [`Runtime::snapshot`] (or
    /// `authpipe compile-function`).
    pub fn load(&self, name: &str, snapshot: &[u8]) -> Result<Function> {
        let engine = &self.inner.engine;
        let parts =
            split::split(snapshot).with_context(|| format!("{name}: not an authpipe function"))?;
        let code = self
            .inner
            .module(&parts.code)
            .context("failed to compile the function's code")?;
        if code.get_export("wizer-initialize").is_some() {
            bail!("{name}: this is the bare authpipe engine, not a compiled function");
        }
        let start = code
            .get_export_index("_start")
            .with_context(|| format!("{name}: not an authpipe function (no `_start` export)"))?;
        let data_module = Module::new(engine, &parts.data)
            .map_err(anyhow::Error::from)
            .context("failed to load the function's memory image")?;
        let data = self
            .inner
            .linker
            .instantiate_pre(&data_module)
            .map_err(anyhow::Error::from)
            .with_context(|| {
                format!("{name}: the function needs host functions authpipe does not provide")
            })?;
        let export = |export_name: &str| {
            data_module
                .get_export_index(export_name)
                .with_context(|| format!("{name}: the memory image lacks export `{export_name}`"))
        };
        let data_memory = export(MEMORY_NAME)?;
        let mut imports = Vec::new();
        for import in code.imports() {
            imports.push(match (import.module(), import.name()) {
                (SNAPSHOT_MODULE, MEMORY_NAME) => ImportSlot::Memory,
                (SNAPSHOT_MODULE, function) => ImportSlot::Export(export(function)?),
                (module, import_name) => {
                    bail!(
                        "{name}: imports `{module}::{import_name}`, which authpipe does not provide"
                    )
                }
            });
        }
        Ok(Function {
            inner: Arc::new(FunctionInner {
                runtime: self.clone(),
                name: name.to_string(),
                snapshot_hash: crate::cache::hex(&Sha256::digest(snapshot)),
                snapshot: snapshot.into(),
                code,
                data,
                data_memory,
                start,
                imports,
                warnings: parts.warnings,
            }),
        })
    }
}

impl Function {
    /// The function's name.
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// The snapshot `.wasm` this function runs (self-contained; runs under a
    /// stock `wasmtime run` too).
    pub fn snapshot(&self) -> &[u8] {
        &self.inner.snapshot
    }

    /// Warnings found when the function was compiled, as
    /// `FILE:LINE:COL: text` (for now: top-level code that draws random
    /// values, which the snapshot then fixes for every call).
    pub fn warnings(&self) -> &[String] {
        &self.inner.warnings
    }

    /// SHA-256 of the snapshot, hex-encoded.
    pub fn snapshot_hash(&self) -> &str {
        &self.inner.snapshot_hash
    }

    /// Runs the function once on `input` in a fresh sandbox; its `fetch`
    /// calls go to `fetcher`; `trigger` is the guest's first argument.
    /// `cancel` stops it early.
    pub(crate) fn call(
        &self,
        input: Vec<u8>,
        env: &Arc<Environ>,
        limits: &Limits,
        fetcher: &Arc<dyn Fetcher>,
        trigger: Option<&str>,
        cancel: &CancelToken,
    ) -> StageRun {
        let started = Instant::now();
        let deadline = started + limits.timeout();
        let runtime = &self.inner.runtime.inner;
        let Some(_slot) = runtime
            .call_slots
            .acquire(deadline, &|| cancel.is_cancelled())
        else {
            let message = if cancel.is_cancelled() {
                CANCELLED_MESSAGE.to_string()
            } else {
                format!(
                    "no sandbox became free within the function's {} ms timeout ({} calls run at once)",
                    limits.timeout().as_millis(),
                    runtime.call_slots.capacity()
                )
            };
            return StageRun {
                output: StageOutput::Refused(
                    FunctionError::new(ErrorKind::Timeout, message),
                    Map::new(),
                ),
                duration_us: started.elapsed().as_micros() as u64,
                fuel: 0,
                memory_bytes: 0,
                logs: Vec::new(),
                input,
            };
        };
        let mut store = Store::new(
            &runtime.engine,
            CallState::new(input, env.clone(), limits.max_memory_bytes(), deadline)
                .with_fetch(fetcher.clone())
                .with_cancel(cancel.clone())
                .with_trigger(trigger),
        );
        store.limiter(|state| state);
        let outcome = self.run_in(&mut store, limits);
        let duration_us = started.elapsed().as_micros() as u64;
        let fuel = limits.fuel_budget() - store.get_fuel().unwrap_or(0);
        let memory_bytes = store
            .data()
            .memory
            .map_or(0, |memory| memory.data_size(&store) as u64);
        let mut state = store.into_data();
        let output = self.classify(outcome, &mut state, limits);
        StageRun {
            input: state.take_stdin(),
            output,
            duration_us,
            fuel,
            memory_bytes,
            // A guest that ran out of memory may have printed the Rust
            // runtime's allocation-failure text; it is not the function's.
            logs: parse_logs(
                &state.stderr.data,
                state.stderr.overflowed,
                !state.memory_limit_hit,
            ),
        }
    }

    /// How many host pages of its memory one call on `input` writes, and
    /// in how many contiguous runs: what the instance pool restores after
    /// the call (see `authpipe bench`). Writes that leave a byte unchanged
    /// are not seen.
    pub fn pages_written(&self, input: &[u8], env: &Arc<Environ>) -> Result<PagesWritten> {
        let limits = Limits::default();
        let deadline = Instant::now() + limits.timeout();
        let runtime = &self.inner.runtime.inner;
        let mut store = Store::new(
            &runtime.engine,
            CallState::new(
                input.to_vec(),
                env.clone(),
                limits.max_memory_bytes(),
                deadline,
            ),
        );
        store.limiter(|state| state);
        let mut before = Vec::new();
        self.run_in_observed(&mut store, &limits, &mut |memory, store| {
            before = memory.data(store).to_vec();
        })
        .map_err(anyhow::Error::from)
        .context("the call failed")?;
        let memory = store.data().memory.context("the call had no memory")?;
        let after = memory.data(&store);
        let mut written = PagesWritten::default();
        let mut in_run = false;
        for (page, now) in after.chunks(HOST_PAGE_BYTES).enumerate() {
            let start = page * HOST_PAGE_BYTES;
            let was = before.get(start..(start + now.len()).min(before.len()));
            let dirty = match was {
                Some(was) if was.len() == now.len() => was != now,
                _ => now.iter().any(|b| *b != 0),
            };
            if dirty {
                written.pages += 1;
                if !in_run {
                    written.runs += 1;
                }
            }
            in_run = dirty;
        }
        written.image_pages = before.len().div_ceil(HOST_PAGE_BYTES) as u64;
        Ok(written)
    }

    fn run_in(&self, store: &mut Store<CallState>, limits: &Limits) -> wasmtime::Result<()> {
        self.run_in_observed(store, limits, &mut |_, _| {})
    }

    /// [`Self::run_in`], showing `observe` the memory just before the
    /// function runs.
    fn run_in_observed(
        &self,
        store: &mut Store<CallState>,
        limits: &Limits,
        observe: &mut dyn FnMut(Memory, &Store<CallState>),
    ) -> wasmtime::Result<()> {
        store.set_fuel(limits.fuel_budget())?;
        sandbox::enforce_deadline(store);
        let inner = &*self.inner;
        let data = inner.data.instantiate(&mut *store)?;
        let Some(Extern::Memory(memory)) = data.get_module_export(&mut *store, &inner.data_memory)
        else {
            wasmtime::bail!("the memory image exports no memory");
        };
        store.data_mut().memory = Some(memory);
        let mut imports = Vec::with_capacity(inner.imports.len());
        for slot in &inner.imports {
            imports.push(match slot {
                ImportSlot::Memory => Extern::Memory(memory),
                ImportSlot::Export(export) => data
                    .get_module_export(&mut *store, export)
                    .ok_or_else(|| wasmtime::format_err!("the memory image lost an export"))?,
            });
        }
        let instance = Instance::new(&mut *store, &inner.code, &imports)?;
        let Some(Extern::Func(start)) = instance.get_module_export(&mut *store, &inner.start)
        else {
            wasmtime::bail!("the function has no `_start`");
        };
        observe(memory, store);
        start.typed::<(), ()>(&*store)?.call(&mut *store, ())?;
        Ok(())
    }

    /// Turns how the call ended into the stage's output, trusting the guest
    /// only for what only the guest can know.
    fn classify(
        &self,
        outcome: wasmtime::Result<()>,
        state: &mut CallState,
        limits: &Limits,
    ) -> StageOutput {
        let refuse = |kind, message: String| {
            StageOutput::Refused(FunctionError::new(kind, message), Map::new())
        };
        if state.memory_limit_hit {
            return refuse(
                ErrorKind::MemoryLimit,
                format!(
                    "the function needed more than {} MiB of memory",
                    limits.max_memory_bytes() >> 20
                ),
            );
        }
        if state.stdout.overflowed {
            return refuse(
                ErrorKind::OutputTooLarge,
                format!(
                    "the result exceeded {} bytes",
                    crate::limits::MAX_OUTPUT_BYTES
                ),
            );
        }
        if let Err(error) = outcome {
            return match error.downcast_ref::<Trap>() {
                Some(Trap::OutOfFuel) => refuse(
                    ErrorKind::FuelExhausted,
                    format!("the function used up its fuel ({})", limits.fuel_budget()),
                ),
                Some(Trap::Interrupt) if state.cancelled => {
                    refuse(ErrorKind::Timeout, CANCELLED_MESSAGE.to_string())
                }
                Some(Trap::Interrupt) => refuse(
                    ErrorKind::Timeout,
                    format!(
                        "the function ran longer than {} ms",
                        limits.timeout().as_millis()
                    ),
                ),
                Some(Trap::StackOverflow) => {
                    refuse(ErrorKind::StackOverflow, "the call stack overflowed".into())
                }
                Some(trap) => refuse(
                    ErrorKind::Exception,
                    format!("the function's sandbox trapped: {trap}"),
                ),
                None => match (
                    error.downcast_ref::<Exit>(),
                    error.downcast_ref::<FetchError>(),
                ) {
                    (Some(exit), _) => refuse(ErrorKind::Exception, exit.to_string()),
                    (_, Some(denied)) => refuse(ErrorKind::FetchDenied, denied.to_string()),
                    (None, None) => {
                        tracing::error!(function = %self.name(), error = ?error, "sandbox failure");
                        refuse(
                            ErrorKind::Exception,
                            format!("the sandbox failed: {error:#}"),
                        )
                    }
                },
            };
        }
        parse_output(std::mem::take(&mut state.stdout.data))
    }
}

/// The error message of a call stopped through its [`CancelToken`].
const CANCELLED_MESSAGE: &str =
    "the invocation was cancelled: its caller went away or the server is shutting down";

/// What the guest writes on stdout, checked without building the flow's
/// values: `user`, `context`, `claims` and `custom_data` are only
/// recognised as JSON objects (and skipped); [`Flow::parse`] reads them
/// once the pipeline has ended (`Flow` in pipeline.rs).
#[derive(Deserialize)]
struct GuestOutput {
    outcome: crate::result::Outcome,
    #[serde(default)]
    user: Option<JsonObject>,
    #[serde(default)]
    context: Option<JsonObject>,
    #[serde(default)]
    #[allow(dead_code, reason = "checked for shape only")]
    claims: Option<ClaimsShape>,
    #[serde(default)]
    #[allow(dead_code, reason = "checked for shape only")]
    custom_data: Option<JsonObject>,
    #[serde(default)]
    auth0: Option<Map<String, Value>>,
    #[serde(default)]
    error: Option<GuestError>,
}

/// A JSON object, recognised and skipped.
struct JsonObject;

impl<'de> Deserialize<'de> for JsonObject {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = JsonObject;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<JsonObject, A::Error> {
                while map
                    .next_entry::<serde::de::IgnoredAny, serde::de::IgnoredAny>()?
                    .is_some()
                {}
                Ok(JsonObject)
            }
        }
        deserializer.deserialize_map(Visitor)
    }
}

/// The shape of [`crate::result::Claims`]: two objects.
#[derive(Deserialize)]
struct ClaimsShape {
    #[serde(default)]
    #[allow(dead_code, reason = "checked for shape only")]
    id_token: Option<JsonObject>,
    #[serde(default)]
    #[allow(dead_code, reason = "checked for shape only")]
    access_token: Option<JsonObject>,
}

#[derive(Deserialize)]
struct GuestError {
    kind: ErrorKind,
    message: String,
    #[serde(default)]
    stack: Option<String>,
}

/// Error kinds the guest may report; the rest are the host's to decide.
fn guest_may_report(kind: ErrorKind) -> bool {
    matches!(
        kind,
        ErrorKind::Denied
            | ErrorKind::Exception
            | ErrorKind::NoCallback
            | ErrorKind::StackOverflow
            | ErrorKind::InvalidInput
            | ErrorKind::InvalidOutput
    )
}

fn parse_output(stdout: Vec<u8>) -> StageOutput {
    let invalid = |message: String| {
        StageOutput::Refused(
            FunctionError::new(ErrorKind::InvalidOutput, message),
            Map::new(),
        )
    };
    let output: GuestOutput = match serde_json::from_slice(&stdout) {
        Ok(output) => output,
        Err(e) if stdout.is_empty() => {
            return invalid(format!("the function produced no result ({e})"));
        }
        Err(e) => return invalid(format!("the function's result is not valid: {e}")),
    };
    match output.outcome {
        crate::result::Outcome::Allow => match (output.user, output.context) {
            (Some(JsonObject), Some(JsonObject)) => StageOutput::Allow {
                flow: stdout,
                auth0: output.auth0.unwrap_or_default(),
            },
            _ => invalid("an allowing result must carry user and context objects".into()),
        },
        _ => match output.error {
            Some(error) if guest_may_report(error.kind) => StageOutput::Refused(
                FunctionError {
                    kind: error.kind,
                    message: error.message,
                    function: None,
                    location: error
                        .stack
                        .as_deref()
                        .and_then(crate::result::SourceLocation::from_stack),
                    stack: error.stack,
                },
                // Only a denial keeps what it asked to store.
                if error.kind == ErrorKind::Denied {
                    output.auth0.unwrap_or_default()
                } else {
                    Map::new()
                },
            ),
            Some(error) => invalid(format!(
                "the function reported a reserved error kind `{}`",
                error.kind
            )),
            None => invalid("a refusing result must carry an error".into()),
        },
    }
}

/// Parses the JSON-lines log stream, keeping [`MAX_LOG_BYTES`] of messages
/// and marking any cut. Lines that are not log records (text the engine's
/// runtime printed) are kept as `info` when `keep_plain_lines`, else dropped.
pub(crate) fn parse_logs(raw: &[u8], overflowed: bool, keep_plain_lines: bool) -> Vec<LogRecord> {
    let mut logs = Vec::new();
    let mut kept = 0usize;
    let mut truncated = overflowed;
    for line in raw.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        let mut record = match serde_json::from_slice::<LogRecord>(line) {
            Ok(record) => record,
            Err(_) if keep_plain_lines => LogRecord {
                level: LogLevel::Info,
                message: String::from_utf8_lossy(line).into_owned(),
            },
            Err(_) => continue,
        };
        if kept + record.message.len() > MAX_LOG_BYTES {
            let mut cut = MAX_LOG_BYTES - kept;
            while !record.message.is_char_boundary(cut) {
                cut -= 1;
            }
            record.message.truncate(cut);
            if !record.message.is_empty() {
                logs.push(record);
            }
            truncated = true;
            break;
        }
        kept += record.message.len();
        logs.push(record);
    }
    if truncated {
        logs.push(LogRecord {
            level: LogLevel::Warn,
            message: format!("[authpipe] log output truncated: a stage keeps at most {MAX_LOG_BYTES} bytes of logs"),
        });
    }
    logs
}

impl std::fmt::Debug for Function {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Function")
            .field("name", &self.inner.name)
            .finish_non_exhaustive()
    }
}
