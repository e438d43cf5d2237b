//! The authpipe engine: QuickJS (through the `javy` crate) plus the pipeline
//! prelude, built as a `wasm32-wasip1` reactor.
//!
//! The engine has two exports and talks to its host only through WASI:
//!
//! * `wizer-initialize` runs once, at compile time, under wasmtime-wizer.
//!   Standard input holds the function's file name on the first line, its
//!   flavour (`authing`, `auth0-rule`, `auth0-action`) on the second and its
//!   JavaScript source after them. The source is evaluated, so `pipe` (or
//!   the rule, or the action's handlers) exists in the heap that the
//!   snapshot freezes. Standard output receives one JSON
//!   line: `{"ok":true}` or `{"ok":false,"error":{…}}` for a syntax error.
//! * `_start` runs once per invocation, on a fresh instance of the snapshot.
//!   Standard input holds the input JSON (`{"user":…,"context":…}`), the WASI
//!   environment holds `env`, the arguments `authpipe TRIGGER` name the
//!   trigger when there is one, standard output receives the result JSON and
//!   standard error receives one JSON log record per line.
//!
//! Because only WASI is imported, the snapshot also runs under a stock
//! `wasmtime run`. Host capabilities beyond plain WASI are natives handed
//! to the prelude in [`natives`], the one place the JavaScript side reaches
//! the host; `fetch` uses a descriptor only authpipe's host opens
//! ([`wasi::FETCH_FD`]), so under a stock host it rejects and nothing else
//! changes.

mod bindings;
mod crypto;
mod encoding;
mod intl;
mod json;
mod tzdb;
mod url_api;
mod wasi;

use javy::quickjs::{
    ArrayBuffer, Ctx, Function, Object, Persistent, Value, context::EvalOptions, function::Opt, qjs,
};
use javy::{Config, Runtime};
use std::cell::{OnceCell, RefCell};

/// The JavaScript half of the contract: callback rules, `env`, logging,
/// `utils`, timers, `require` and the user helpers.
const PRELUDE: &str = include_str!("prelude.js");

/// The prelude's parts, each a factory the prelude calls: Buffer, URL,
/// console formatting and the other web-standard APIs; Web Crypto and
/// Node's crypto; Intl.
const PRELUDE_PARTS: [(&str, &str); 3] = [
    ("web", include_str!("web.js")),
    ("crypto", include_str!("crypto.js")),
    ("intl", include_str!("intl.js")),
];

/// The shape of the function's source, as the host names it on the second
/// line of the initializer's input (see the host's `Flavor`).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Flavor {
    /// `pipe(user, context, callback)`.
    Authing,
    /// One `function (user, context, callback)` expression.
    Auth0Rule,
    /// `exports.onExecute… = async (event, api) => …`.
    Auth0Action,
}

impl Flavor {
    fn parse(name: &str) -> Self {
        match name.trim() {
            "auth0-rule" => Flavor::Auth0Rule,
            "auth0-action" => Flavor::Auth0Action,
            _ => Flavor::Authing,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Flavor::Authing => "authing",
            Flavor::Auth0Rule => "auth0-rule",
            Flavor::Auth0Action => "auth0-action",
        }
    }
}

/// The QuickJS runtime the snapshot carries, with the prelude's entry points.
struct Engine {
    runtime: Runtime,
    /// `run(user, context, claims, custom_data)`: starts one invocation.
    run: Persistent<Function<'static>>,
    /// `settle(rejected, value)`: reports how `pipe`'s promise ended
    /// (`rejected` is null when `pipe` returned something else).
    settle: Persistent<Function<'static>>,
    /// `finish()`: decides `no_callback` if nothing was decided yet.
    finish: Persistent<Function<'static>>,
    /// `nextTimerDelay()`: milliseconds until the next timer is due, or -1
    /// when there is nothing to wait for.
    next_timer_delay: Persistent<Function<'static>>,
    /// `runTimers()`: runs the timers that are due.
    run_timers: Persistent<Function<'static>>,
    /// `warnRejection(reason)`: logs an unhandled promise rejection.
    warn_rejection: Persistent<Function<'static>>,
    /// The user helpers' names and the symbols under which input fields of
    /// those names are kept during a call (see [`json::Shadows`]).
    shadows: json::Shadows,
    /// The input's part names, made once (atoms that live as long as the
    /// runtime): looking a name up by text costs an atom-table search.
    parts: InputParts,
}

/// Atoms of the input's parts.
struct InputParts {
    user: qjs::JSAtom,
    context: qjs::JSAtom,
    claims: qjs::JSAtom,
    custom_data: qjs::JSAtom,
}

impl InputParts {
    /// # Safety
    ///
    /// `ctx` must be live; the atoms are never freed.
    unsafe fn new(ctx: *mut qjs::JSContext) -> Self {
        // SAFETY: forwarded from the caller.
        let atom = |name: &std::ffi::CStr| unsafe { qjs::JS_NewAtom(ctx, name.as_ptr()) };
        Self {
            user: atom(c"user"),
            context: atom(c"context"),
            claims: atom(c"claims"),
            custom_data: atom(c"custom_data"),
        }
    }
}

/// Holder for the engine that the initializer builds and `_start` uses.
struct EngineCell(OnceCell<Engine>);

// SAFETY: wasm32-wasip1 has no threads; the cell is only touched by the one
// thread that runs the exports.
unsafe impl Sync for EngineCell {}

static ENGINE: EngineCell = EngineCell(OnceCell::new());

/// The result JSON of the call in progress, written once, when the outcome
/// is decided (empty until then; empty in the snapshot).
struct ResultCell(RefCell<Vec<u8>>);

// SAFETY: as for `EngineCell`.
unsafe impl Sync for ResultCell {}

static RESULT: ResultCell = ResultCell(RefCell::new(Vec::new()));

/// Promises rejected without a handler during the call in progress, with
/// their reasons (each value holds a reference). Reported as warnings when
/// the call ends; empty in the snapshot.
struct RejectionCell(RefCell<Vec<(qjs::JSValue, qjs::JSValue)>>);

// SAFETY: as for `EngineCell`.
unsafe impl Sync for RejectionCell {}

static REJECTIONS: RejectionCell = RejectionCell(RefCell::new(Vec::new()));

/// QuickJS's promise rejection tracker: remembers a promise rejected with
/// no handler and forgets it when a handler is attached later.
unsafe extern "C" fn track_rejection(
    ctx: *mut qjs::JSContext,
    promise: qjs::JSValue,
    reason: qjs::JSValue,
    is_handled: bool,
    _opaque: *mut std::ffi::c_void,
) {
    if is_handled {
        forget_rejection(ctx, promise);
    } else if let Ok(mut list) = REJECTIONS.0.try_borrow_mut() {
        // SAFETY: QuickJS passes live values of a live context; the
        // references taken here are released by `forget_rejection`,
        // `drop_rejections` or the report at the end of the call.
        unsafe {
            list.push((
                qjs::JS_DupValue(ctx, promise),
                qjs::JS_DupValue(ctx, reason),
            ))
        };
    }
}

/// Error kinds the prelude may decide; the host trusts no other kind from
/// the guest either.
const GUEST_ERROR_KINDS: [&str; 5] = [
    "denied",
    "exception",
    "no_callback",
    "stack_overflow",
    "invalid_output",
];

/// QuickJS stops a call chain that needs more than this much shadow stack
/// with a catchable `RangeError`; it is well below the 1 MiB the linker gives
/// the Rust shadow stack, so the guest never writes past its stack.
const MAX_JS_STACK_BYTES: usize = 512 * 1024;

/// The garbage collector runs while the function's top-level code is
/// evaluated once the heap passes this size.
const GC_THRESHOLD_BYTES: usize = 8 * 1024 * 1024;

/// During calls, the cycle collector runs once the heap has grown this much
/// beyond the snapshot's (and then whenever it grows by half again).
/// Instances live for one call, so ordinary calls never pay for a
/// collection, while a function that churns through cyclic garbage gets it
/// reclaimed long before a small memory limit.
const GC_HEADROOM_BYTES: usize = 1024 * 1024;

/// Compile-time entry point: evaluate the prelude and the user's function.
#[unsafe(export_name = "wizer-initialize")]
pub extern "C" fn initialize() {
    // Initialise the random generator's state now, so that calls only reseed it.
    fastrand::seed(0);
    let input = wasi::read_stdin();
    let input = String::from_utf8_lossy(&input);
    let (file_name, rest) = input.split_once('\n').unwrap_or(("function.js", ""));
    let (flavor, source) = rest.split_once('\n').unwrap_or((rest, ""));
    let report = match Engine::new(file_name, Flavor::parse(flavor), source) {
        Ok((engine, warnings_json)) => {
            let _ = ENGINE.0.set(engine);
            prepare_call_heap();
            format!("{{\"ok\":true,\"warnings\":{warnings_json}}}")
        }
        Err(error_json) => format!("{{\"ok\":false,\"error\":{error_json}}}"),
    };
    wasi::write_all(wasi::STDOUT, report.as_bytes());
}

/// Free heap the snapshot keeps for calls, at the top of the heap.
const CALL_HEAP_RESERVE_BYTES: usize = 256 << 10;

/// Most allocations [`prepare_call_heap`] makes to fill the heap's holes.
const MAX_HOLE_FILLERS: usize = 200_000;

/// Lays out the heap the snapshot freezes so that a call writes to few,
/// contiguous pages.
///
/// The host keeps a sandbox's memory mapped between calls and restores only
/// the pages a call wrote, found with one page-map scan that reports a
/// bounded number of disjoint dirty regions; beyond that it unmaps the rest,
/// and every later call takes page faults on it. Compile-time work (the
/// prelude's parts, the function's top-level code) leaves freed holes all
/// over the heap, and a call's allocations would land in them, scattered.
/// So the holes are filled (their memory is left allocated, unused) and the
/// top of the heap is grown by [`CALL_HEAP_RESERVE_BYTES`] and freed again:
/// a call then allocates upwards from one place, inside the snapshot's
/// memory.
fn prepare_call_heap() {
    use std::alloc::{Layout, alloc, dealloc};
    let reserve = Layout::from_size_align(CALL_HEAP_RESERVE_BYTES, 16).expect("valid layout");
    // SAFETY: plain allocations; the fillers are leaked on purpose and the
    // reserve and the probes are freed with their own layouts.
    unsafe {
        let top = alloc(reserve);
        if top.is_null() {
            return;
        }
        dealloc(top, reserve);
        let mut budget = MAX_HOLE_FILLERS;
        for size in [65_536, 16_384, 4_096, 1_024, 256, 64, 32, 16] {
            let layout = Layout::from_size_align(size, 8).expect("valid layout");
            while budget > 0 {
                budget -= 1;
                let block = alloc(layout);
                if block.is_null() {
                    break;
                }
                if block >= top {
                    // Served from the top: no hole of this size is left.
                    dealloc(block, layout);
                    break;
                }
            }
        }
        let again = alloc(reserve);
        if !again.is_null() {
            dealloc(again, reserve);
        }
    }
}

/// Invocation entry point: one call of `pipe`, input on stdin, result on stdout.
#[unsafe(export_name = "_start")]
pub extern "C" fn start() {
    let Some(engine) = ENGINE.0.get() else {
        let result = error_result(
            "invalid_output",
            "this is the bare authpipe engine; compile a function with `authpipe compile-function` first",
            None,
        );
        wasi::write_all(wasi::STDOUT, &result);
        return;
    };
    // Fresh randomness for every call: the snapshot must not freeze it.
    fastrand::seed(wasi::random_u64());
    let input = wasi::read_stdin();
    let output = engine.invoke(&input);
    // Lazy input members (json.rs) point into `input`.
    json::end_lazy();
    wasi::write_all(wasi::STDOUT, &output);
}

/// Whether the call's result is recorded (the function has decided).
fn decided() -> bool {
    !RESULT.0.borrow().is_empty()
}

/// Records the call's result unless one was recorded already.
fn decide(result: Vec<u8>) {
    let mut slot = RESULT.0.borrow_mut();
    if slot.is_empty() {
        *slot = result;
    }
}

impl Engine {
    /// Builds the runtime, installs the prelude and evaluates the user's
    /// source. Returns the engine and the compile warnings (a JSON array);
    /// on failure, the `error` object of the report as JSON.
    fn new(file_name: &str, flavor: Flavor, source: &str) -> Result<(Self, String), String> {
        let mut config = Config::default();
        config
            .gc_threshold(GC_THRESHOLD_BYTES)
            .max_stack_size(MAX_JS_STACK_BYTES)
            .text_encoding(true);
        let runtime = Runtime::new(config).map_err(|e| internal_error(&e.to_string()))?;
        let (entries, shadows, parts, warnings) = runtime.context().with(|ctx| {
            let prelude = install_prelude(&ctx).map_err(|e| internal_error(&describe(&ctx, e)))?;
            let entry = |name: &str| -> Result<Function, String> {
                prelude
                    .get(name)
                    .map_err(|e| internal_error(&describe(&ctx, e)))
            };
            entry("preload")?
                .call::<_, ()>((source,))
                .map_err(|e| internal_error(&describe(&ctx, e)))?;
            entry("beginFlavor")?
                .call::<_, ()>((flavor.name(),))
                .map_err(|e| internal_error(&describe(&ctx, e)))?;
            let options = script_options(file_name.to_string(), false);
            // A rule is one function expression: evaluated in parentheses
            // (on the same first line, so positions hold but for one column
            // there), its value is the function.
            let wrapped;
            let text = if flavor == Flavor::Auth0Rule {
                wrapped = format!("({source}\n)");
                wrapped.as_str()
            } else {
                source
            };
            let evaluated = match ctx.eval_with_options::<Value, _>(text, options) {
                Ok(value) => value,
                Err(e) => {
                    let exception = ctx.catch();
                    let report: String = entry("compileError")?
                        .call((exception, file_name))
                        .map_err(|_| internal_error(&e.to_string()))?;
                    return Err(report);
                }
            };
            let problem: Option<String> = match flavor {
                Flavor::Authing => entry("checkPipe")?.call(()),
                Flavor::Auth0Rule => entry("adoptRule")?.call((evaluated,)),
                Flavor::Auth0Action => entry("adoptAction")?.call(()),
            }
            .map_err(|e| internal_error(&describe(&ctx, e)))?;
            if let Some(report) = problem {
                return Err(report);
            }
            let warnings: String = entry("endCompile")?
                .call(())
                .map_err(|e| internal_error(&describe(&ctx, e)))?;
            // SAFETY: the context and its runtime are live.
            unsafe {
                let runtime = qjs::JS_GetRuntime(ctx.as_raw().as_ptr());
                // Compile-time garbage goes now, before the heap is laid
                // out for calls (see `prepare_call_heap`).
                qjs::JS_RunGC(runtime);
                let mut usage: qjs::JSMemoryUsage = std::mem::zeroed();
                qjs::JS_ComputeMemoryUsage(runtime, &mut usage);
                let heap = usize::try_from(usage.malloc_size).unwrap_or(0);
                qjs::JS_SetGCThreshold(runtime, (heap + GC_HEADROOM_BYTES) as _);
            }
            let shadows =
                shadow_keys(&ctx, &prelude).map_err(|e| internal_error(&describe(&ctx, e)))?;
            // Rejections of top-level code are the compile's business.
            drop_rejections(&ctx);
            // SAFETY: the context and its runtime are live; the tracker
            // only touches `REJECTIONS`.
            unsafe {
                let runtime = qjs::JS_GetRuntime(ctx.as_raw().as_ptr());
                qjs::JS_SetHostPromiseRejectionTracker(
                    runtime,
                    Some(track_rejection),
                    std::ptr::null_mut(),
                );
            }
            let keep = |name: &str| -> Result<Persistent<Function<'static>>, String> {
                Ok(Persistent::save(&ctx, entry(name)?))
            };
            let entries = [
                keep("run")?,
                keep("settle")?,
                keep("finish")?,
                keep("nextTimerDelay")?,
                keep("runTimers")?,
                keep("warnRejection")?,
            ];
            // SAFETY: the context is live.
            let parts = unsafe { InputParts::new(ctx.as_raw().as_ptr()) };
            // Made now, so that the snapshot has it and calls do not.
            // SAFETY: as above.
            unsafe { json::to_json_atom(ctx.as_raw().as_ptr()) };
            Ok((entries, shadows, parts, warnings))
        })?;
        let [
            run,
            settle,
            finish,
            next_timer_delay,
            run_timers,
            warn_rejection,
        ] = entries;
        let engine = Self {
            runtime,
            run,
            settle,
            finish,
            next_timer_delay,
            run_timers,
            warn_rejection,
            shadows,
            parts,
        };
        Ok((engine, warnings))
    }

    /// Runs one invocation and returns the result JSON.
    fn invoke(&self, input: &[u8]) -> Vec<u8> {
        let context = self.runtime.context();
        let started = context.with(
            |ctx| -> javy::quickjs::Result<Result<Option<Persistent<Value<'static>>>, String>> {
                let raw = ctx.as_raw().as_ptr();
                json::begin_lazy(input);
                // SAFETY: the context is live for the duration of `with`; the
                // parsed value's ownership passes to `Value`.
                let parsed = match unsafe { json::parse(raw, input) } {
                    Ok(parsed) => parsed,
                    Err(message) => {
                        return Ok(Err(format!("the input is not valid JSON: {message}")));
                    }
                };
                // SAFETY: as above.
                let value = unsafe { Value::from_raw(ctx.clone(), parsed.value) };
                let Some(input) = value.as_object().filter(|_| !value.is_array()) else {
                    return Ok(Err(
                        "the input must be a JSON object with \"user\" and \"context\" objects"
                            .into(),
                    ));
                };
                let get = |atom: qjs::JSAtom| -> javy::quickjs::Result<Value> {
                    // SAFETY: `input` is a live object and `atom` a live atom;
                    // the value's ownership passes to `Value`.
                    let value = unsafe {
                        Value::from_raw(ctx.clone(), qjs::JS_GetProperty(raw, input.as_raw(), atom))
                    };
                    if value.is_exception() {
                        return Err(javy::quickjs::Error::Exception);
                    }
                    Ok(value)
                };
                let part = |name: &str,
                            atom: qjs::JSAtom|
                 -> javy::quickjs::Result<Result<Value, String>> {
                    let value: Value = get(atom)?;
                    Ok(
                        if value.is_object() && !value.is_array() && !value.is_function() {
                            Ok(value)
                        } else {
                            Err(format!("input.{name} must be a JSON object"))
                        },
                    )
                };
                let user = match part("user", self.parts.user)? {
                    Ok(user) => user,
                    Err(message) => return Ok(Err(message)),
                };
                let context = match part("context", self.parts.context)? {
                    Ok(context) => context,
                    Err(message) => return Ok(Err(message)),
                };
                if parsed.may_shadow_helpers {
                    // SAFETY: `user` is a live object of this context.
                    unsafe { self.shadows.hide(raw, user.as_raw()) };
                }
                let claims: Value = get(self.parts.claims)?;
                let custom_data: Value = get(self.parts.custom_data)?;
                let run: Function = self.run.clone().restore(&ctx)?;
                let returned: Value = run.call((user, context, claims, custom_data))?;
                if returned.is_promise() {
                    return Ok(Ok(Some(Persistent::save(&ctx, returned))));
                }
                // Decided, and nothing returned that could be a thenable
                // (the common end of a call): `settle` would change nothing.
                if !returned.is_object() && decided() {
                    return Ok(Ok(None));
                }
                let settle: Function = self.settle.clone().restore(&ctx)?;
                settle.call::<_, ()>((Value::new_null(ctx.clone()), returned))?;
                Ok(Ok(None))
            },
        );
        let promise = match started {
            Ok(Ok(promise)) => promise,
            Ok(Err(message)) => return error_result("invalid_input", &message, None),
            Err(e) => {
                let message = context.with(|ctx| describe(&ctx, e));
                return self.engine_failure(&message);
            }
        };
        if let Err(message) = self.run_to_completion(promise) {
            return self.engine_failure(&message);
        }
        let result = std::mem::take(&mut *RESULT.0.borrow_mut());
        if result.is_empty() {
            return self.engine_failure("the function ended without a result");
        }
        result
    }

    /// Runs the call's event loop: promise jobs (`await`, `.then`, async
    /// `pipe`), then timers, until the function has decided or nothing is
    /// left to wait for; then reports unhandled rejections and decides
    /// `no_callback` if nothing was decided.
    fn run_to_completion(
        &self,
        mut promise: Option<Persistent<Value<'static>>>,
    ) -> Result<(), String> {
        let context = self.runtime.context();
        let fail = |e: javy::quickjs::Error| context.with(|ctx| describe(&ctx, e));
        loop {
            // The prelude catches every rejection it cares about, so a job
            // error is an engine bug.
            self.runtime
                .resolve_pending_jobs()
                .map_err(|e| e.to_string())?;
            if let Some(pending) = promise.take() {
                let settled = context
                    .with(|ctx| self.report_if_settled(&ctx, pending.clone()))
                    .map_err(fail)?;
                if !settled {
                    promise = Some(pending);
                }
            }
            if decided() {
                break;
            }
            let delay: f64 = context
                .with(|ctx| {
                    let next: Function = self.next_timer_delay.clone().restore(&ctx)?;
                    next.call(())
                })
                .map_err(fail)?;
            if delay < 0.0 {
                break;
            }
            if !wasi::sleep_ms(delay) {
                break; // a host without clocks to wait on: the timers cannot fire
            }
            context
                .with(|ctx| {
                    let run: Function = self.run_timers.clone().restore(&ctx)?;
                    run.call::<_, ()>(())
                })
                .map_err(fail)?;
        }
        context
            .with(|ctx| -> javy::quickjs::Result<()> {
                self.warn_rejections(&ctx, promise.as_ref())?;
                // `finish` only decides what is undecided.
                if decided() {
                    return Ok(());
                }
                let finish: Function = self.finish.clone().restore(&ctx)?;
                finish.call(())
            })
            .map_err(fail)
    }

    /// Reports how `pipe`'s promise ended, once it has; false while it is
    /// pending.
    fn report_if_settled<'js>(
        &self,
        ctx: &Ctx<'js>,
        promise: Persistent<Value<'static>>,
    ) -> javy::quickjs::Result<bool> {
        let promise = promise.restore(ctx)?;
        let raw_ctx = ctx.as_raw().as_ptr();
        // SAFETY: `promise` is a live promise of this context.
        let state = unsafe { qjs::JS_PromiseState(raw_ctx, promise.as_raw()) };
        if state == qjs::JSPromiseStateEnum_JS_PROMISE_PENDING {
            return Ok(false);
        }
        let rejected = state == qjs::JSPromiseStateEnum_JS_PROMISE_REJECTED;
        if rejected {
            forget_rejection(raw_ctx, promise.as_raw());
        }
        // SAFETY: as above; the result's ownership passes to `Value`.
        let value = unsafe {
            Value::from_raw(
                ctx.clone(),
                qjs::JS_PromiseResult(raw_ctx, promise.as_raw()),
            )
        };
        // Fulfilled after the function decided (the common end of an async
        // `pipe`): `settle` would change nothing.
        if !rejected && decided() {
            return Ok(true);
        }
        let settle: Function = self.settle.clone().restore(ctx)?;
        settle.call::<_, ()>((rejected, value))?;
        Ok(true)
    }

    /// Logs the promises rejected without a handler as warnings (`pipe`'s
    /// own, still pending, is not one of them).
    fn warn_rejections<'js>(
        &self,
        ctx: &Ctx<'js>,
        pipe_promise: Option<&Persistent<Value<'static>>>,
    ) -> javy::quickjs::Result<()> {
        if let Some(pending) = pipe_promise {
            let pending = pending.clone().restore(ctx)?;
            forget_rejection(ctx.as_raw().as_ptr(), pending.as_raw());
        }
        let rejected = std::mem::take(&mut *REJECTIONS.0.borrow_mut());
        if rejected.is_empty() {
            return Ok(());
        }
        let warn: Function = self.warn_rejection.clone().restore(ctx)?;
        for (promise, reason) in rejected {
            // SAFETY: both values hold the references taken by the tracker,
            // whose ownership passes to `Value`.
            let (promise, reason) = unsafe {
                (
                    Value::from_raw(ctx.clone(), promise),
                    Value::from_raw(ctx.clone(), reason),
                )
            };
            drop(promise);
            warn.call::<_, ()>((reason,))?;
        }
        Ok(())
    }

    /// The result for a failure of the engine itself, unless the function's
    /// outcome was decided before it.
    fn engine_failure(&self, message: &str) -> Vec<u8> {
        let decided = std::mem::take(&mut *RESULT.0.borrow_mut());
        if decided.is_empty() {
            error_result("exception", &format!("engine failure: {message}"), None)
        } else {
            decided
        }
    }
}

/// Forgets a tracked rejection of `promise` (the engine handles it).
fn forget_rejection(ctx: *mut qjs::JSContext, promise: qjs::JSValue) {
    let Ok(mut list) = REJECTIONS.0.try_borrow_mut() else {
        return;
    };
    // SAFETY: the held values are live references taken by the tracker.
    unsafe {
        let target = qjs::JS_VALUE_GET_PTR(promise);
        list.retain(|&(held, reason)| {
            if qjs::JS_VALUE_GET_PTR(held) == target {
                qjs::JS_FreeValue(ctx, held);
                qjs::JS_FreeValue(ctx, reason);
                false
            } else {
                true
            }
        });
    }
}

/// Releases every tracked rejection without reporting it.
fn drop_rejections(ctx: &Ctx<'_>) {
    let raw = ctx.as_raw().as_ptr();
    for (promise, reason) in std::mem::take(&mut *REJECTIONS.0.borrow_mut()) {
        // SAFETY: the values are live references taken by the tracker.
        unsafe {
            qjs::JS_FreeValue(raw, promise);
            qjs::JS_FreeValue(raw, reason);
        }
    }
}

/// Reads the prelude's `[name, symbol]` pairs of the user helpers.
fn shadow_keys<'js>(ctx: &Ctx<'js>, prelude: &Object<'js>) -> javy::quickjs::Result<json::Shadows> {
    let pairs: Vec<Vec<Value>> = prelude.get("shadowKeys")?;
    let raw = ctx.as_raw().as_ptr();
    let mut shadows = json::Shadows::default();
    for pair in pairs {
        let name: String = pair[0].get()?;
        // SAFETY: creating atoms in a live context; they are never freed, as
        // they live as long as the runtime (and in the snapshot).
        unsafe {
            let name_atom = qjs::JS_NewAtomLen(raw, name.as_ptr().cast(), name.len() as _);
            let symbol_atom = qjs::JS_ValueToAtom(raw, pair[1].as_raw());
            shadows.add(name_atom, symbol_atom);
        }
    }
    Ok(shadows)
}

/// Evaluates the prelude and returns its table of entry points.
fn install_prelude<'js>(ctx: &Ctx<'js>) -> javy::quickjs::Result<Object<'js>> {
    let factory: Function =
        ctx.eval_with_options(PRELUDE, script_options("authpipe:prelude".into(), true))?;
    let parts = Object::new(ctx.clone())?;
    for (name, source) in PRELUDE_PARTS {
        parts.set(name, prelude_part(ctx, name, source)?)?;
    }
    factory.call((natives(ctx)?, parts))
}

/// Options to evaluate a global script named `file_name`.
fn script_options(file_name: String, strict: bool) -> EvalOptions {
    let mut options = EvalOptions::default();
    options.global = true;
    options.strict = strict;
    options.filename = Some(file_name);
    options
}

/// The factory of the prelude part `name` (its file evaluates to one
/// function), built in or served by the host.
fn prelude_part<'js>(
    ctx: &Ctx<'js>,
    name: &str,
    source: &str,
) -> javy::quickjs::Result<Function<'js>> {
    ctx.eval_with_options(
        source,
        script_options(format!("authpipe:prelude/{name}.js"), true),
    )
}

/// The host capabilities the prelude may use. The prelude captures them in
/// a closure, so user code never sees this object.
fn natives<'js>(ctx: &Ctx<'js>) -> javy::quickjs::Result<Object<'js>> {
    let natives = Object::new(ctx.clone())?;
    // log(level, message): one JSON log record on stderr.
    natives.set(
        "log",
        Function::new(ctx.clone(), |level: String, message: String| {
            let mut line = Vec::with_capacity(message.len() + 32);
            line.extend_from_slice(b"{\"level\":");
            json::write_escaped(&mut line, level.as_bytes());
            line.extend_from_slice(b",\"message\":");
            json::write_escaped(&mut line, message.as_bytes());
            line.extend_from_slice(b"}\n");
            wasi::write_all(wasi::STDERR, &line);
        })?,
    )?;
    // env(): this call's WASI environment as an object.
    natives.set(
        "env",
        Function::new(ctx.clone(), |ctx: Ctx<'js>| wasi_env(&ctx))?,
    )?;
    // fetch(request): sends the request object ({method, url, headers:
    // [[name, value]…], body}) to the host as JSON; returns the host's
    // response as an object ({status, status_text, url, redirected, headers,
    // body} or {error}), or null when the host offers no fetch.
    natives.set(
        "fetch",
        Function::new(ctx.clone(), |ctx: Ctx<'js>, request: Value<'js>| {
            let raw = ctx.as_raw().as_ptr();
            let mut body = Vec::with_capacity(256);
            // SAFETY: `request` is a live value of this live context.
            if let Err(message) = unsafe { json::stringify(raw, request.as_raw(), &mut body) } {
                return Err(javy::quickjs::Exception::throw_type(
                    &ctx,
                    &format!("fetch: the request cannot be sent: {message}"),
                ));
            }
            let Some(response) = wasi::fetch(&body) else {
                return Ok(Value::new_null(ctx));
            };
            // SAFETY: the context is live; the parsed value's ownership
            // passes to `Value`.
            match unsafe { json::parse(raw, &response) } {
                Ok(value) => Ok(unsafe { Value::from_raw(ctx.clone(), value.value) }),
                Err(message) => Err(javy::quickjs::Exception::throw_type(
                    &ctx,
                    &format!("fetch: the host's response is not JSON: {message}"),
                )),
            }
        })?,
    )?;
    // allow(user, context, idTokenClaims, accessTokenClaims, customData,
    // auth0): the function allowed; its result is serialised now, once.
    // `auth0` (an object, or null) is the Auth0 flavours' section.
    natives.set(
        "allow",
        Function::new(
            ctx.clone(),
            |ctx: Ctx<'js>,
             user: Value<'js>,
             context: Value<'js>,
             id_token: Value<'js>,
             access_token: Value<'js>,
             custom_data: Value<'js>,
             auth0: Opt<Value<'js>>| {
                let shadows = ENGINE.0.get().map(|engine| &engine.shadows);
                let raw = ctx.as_raw().as_ptr();
                // SAFETY: every value is a live value of this live context.
                let result = unsafe {
                    json::write_allow(
                        raw,
                        json::AllowParts {
                            user: user.as_raw(),
                            context: context.as_raw(),
                            id_token: id_token.as_raw(),
                            access_token: access_token.as_raw(),
                            custom_data: custom_data.as_raw(),
                            auth0: auth0.0.filter(Value::is_object).map(|v| v.as_raw()),
                        },
                        shadows,
                    )
                };
                let result = result.unwrap_or_else(|message| {
                    // A throwing `toJSON` or getter left an exception pending.
                    let _ = ctx.catch();
                    error_result(
                        "invalid_output",
                        &format!("the result cannot be serialised as JSON: {message}"),
                        None,
                    )
                });
                decide(result);
            },
        )?,
    )?;
    // refuse(kind, message, stack, auth0): the function denied or failed;
    // `auth0` (JSON text, or null) is the Auth0 flavours' section.
    natives.set(
        "refuse",
        Function::new(
            ctx.clone(),
            |kind: String, message: String, stack: Option<String>, auth0: Opt<Option<String>>| {
                let result = if GUEST_ERROR_KINDS.contains(&kind.as_str()) {
                    let mut result = error_result(&kind, &message, stack.as_deref());
                    if let Some(section) = auth0.0.flatten() {
                        // `{…}}` becomes `{…},"auth0":SECTION}`.
                        result.pop();
                        result.extend_from_slice(b",\"auth0\":");
                        result.extend_from_slice(section.as_bytes());
                        result.push(b'}');
                    }
                    result
                } else {
                    error_result(
                        "exception",
                        &format!("engine failure: unknown error kind {kind:?}"),
                        None,
                    )
                };
                decide(result);
            },
        )?,
    )?;
    // loadPart(name): the factory of one of the `LAZY_PARTS`.
    natives.set(
        "loadPart",
        Function::new(ctx.clone(), |ctx: Ctx<'js>, name: String| {
            let source = host_source(&ctx, &format!("part/{name}"))?;
            prelude_part(&ctx, &name, &source)
        })?,
    )?;
    // loadBundled(name): the CommonJS factory `(exports, require, module,
    // __filename, __dirname, global, self)` of a bundled npm package.
    natives.set(
        "loadBundled",
        Function::new(ctx.clone(), |ctx: Ctx<'js>, name: String| {
            let source = host_source(&ctx, &format!("npm/{name}"))?;
            let wrapped = format!(
                "(function (exports, require, module, __filename, __dirname, global, self) {{{source}\n}})"
            );
            ctx.eval_with_options::<Function, _>(
                wrapped,
                script_options(format!("authpipe:npm/{name}.js"), false),
            )
        })?,
    )?;
    // trigger(): the trigger this call runs for (the host's first WASI
    // argument), or null.
    natives.set(
        "trigger",
        Function::new(
            ctx.clone(),
            |ctx: Ctx<'js>| -> javy::quickjs::Result<Value<'js>> {
                match wasi::args().into_iter().nth(1) {
                    Some(trigger) => {
                        javy::quickjs::String::from_str(ctx, &trigger).map(Value::from)
                    }
                    None => Ok(Value::new_null(ctx)),
                }
            },
        )?,
    )?;
    // randomBytes(n): n bytes from the host's secure random source.
    natives.set(
        "randomBytes",
        Function::new(ctx.clone(), |ctx: Ctx<'js>, len: usize| {
            let mut bytes = vec![0u8; len.min(65_536)];
            wasi::random_fill(&mut bytes);
            ArrayBuffer::new(ctx, bytes)
        })?,
    )?;
    bindings::install(ctx, &natives)?;
    Ok(natives)
}

/// A source the host serves over [`wasi::SOURCES_FD`] (`part/NAME`,
/// `npm/PACKAGE`); an exception when there is none.
fn host_source(ctx: &Ctx<'_>, name: &str) -> javy::quickjs::Result<String> {
    match wasi::exchange(wasi::SOURCES_FD, name.as_bytes()) {
        Some(source) if !source.is_empty() => String::from_utf8(source).map_err(|_| {
            javy::quickjs::Exception::throw_type(ctx, &format!("{name} is not UTF-8"))
        }),
        _ => Err(javy::quickjs::Exception::throw_type(
            ctx,
            &format!("{name} is available only under authpipe's host"),
        )),
    }
}

/// Builds the read-only `env` object from the WASI environment of this call:
/// enumerable, non-writable, non-configurable properties on a
/// non-extensible object (what `Object.freeze` makes, built directly).
fn wasi_env<'js>(ctx: &Ctx<'js>) -> javy::quickjs::Result<Object<'js>> {
    let env = Object::new(ctx.clone())?;
    let raw = ctx.as_raw().as_ptr();
    for (key, value) in wasi::environment() {
        let value = javy::quickjs::String::from_str(ctx.clone(), &value)?;
        // SAFETY: `raw` and `env` are live; the atom is freed after use and
        // defining the property takes over the duplicated value.
        unsafe {
            let atom = qjs::JS_NewAtomLen(raw, key.as_ptr().cast(), key.len() as _);
            qjs::JS_DefinePropertyValue(
                raw,
                env.as_raw(),
                atom,
                qjs::JS_DupValue(raw, value.as_raw()),
                qjs::JS_PROP_ENUMERABLE as _,
            );
            qjs::JS_FreeAtom(raw, atom);
        }
    }
    // SAFETY: `env` is a live object.
    unsafe { qjs::JS_PreventExtensions(raw, env.as_raw()) };
    Ok(env)
}

/// Text of the pending exception (or of a Rust-side error).
fn describe(ctx: &Ctx<'_>, error: javy::quickjs::Error) -> String {
    if error.is_exception() {
        let exception = ctx.catch();
        if let Some(obj) = exception.as_object() {
            if let Ok(message) = obj.get::<_, String>("message") {
                return message;
            }
        }
        if let Ok(text) = exception.get::<javy::quickjs::Coerced<String>>() {
            return text.0;
        }
    }
    error.to_string()
}

fn internal_error(message: &str) -> String {
    let mut out = b"{\"kind\":\"compile_error\",\"message\":".to_vec();
    json::write_escaped(&mut out, format!("engine failure: {message}").as_bytes());
    out.push(b'}');
    String::from_utf8(out).expect("escaped JSON is UTF-8")
}

/// A refusing result with `kind`, `message` and the JavaScript stack.
fn error_result(kind: &str, message: &str, stack: Option<&str>) -> Vec<u8> {
    let outcome = if kind == "denied" { "deny" } else { "error" };
    let mut out = Vec::with_capacity(message.len() + 64);
    out.extend_from_slice(b"{\"outcome\":\"");
    out.extend_from_slice(outcome.as_bytes());
    out.extend_from_slice(b"\",\"error\":{\"kind\":");
    json::write_escaped(&mut out, kind.as_bytes());
    out.extend_from_slice(b",\"message\":");
    json::write_escaped(&mut out, message.as_bytes());
    if let Some(stack) = stack {
        out.extend_from_slice(b",\"stack\":");
        json::write_escaped(&mut out, stack.as_bytes());
    }
    out.extend_from_slice(b"}}");
    out
}
