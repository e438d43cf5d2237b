//! The authpipe engine: QuickJS (through the `javy` crate) plus the pipeline
//! prelude, built as a `wasm32-wasip1` reactor.
//!
//! The engine has two exports and talks to its host only through WASI:
//!
//! * `wizer-initialize` runs once, at compile time, under wasmtime-wizer.
//!   Standard input holds the function's file name on the first line and its
//!   JavaScript source after it. The source is evaluated, so `pipe` exists in
//!   the heap that the snapshot freezes. Standard output receives one JSON
//!   line: `{"ok":true}` or `{"ok":false,"error":{…}}` for a syntax error.
//! * `_start` runs once per invocation, on a fresh instance of the snapshot.
//!   Standard input holds the input JSON (`{"user":…,"context":…}`), the WASI
//!   environment holds `env`, standard output receives the result JSON and
//!   standard error receives one JSON log record per line.
//!
//! Because only WASI is imported, the snapshot also runs under a stock
//! `wasmtime run`. Host capabilities beyond plain WASI are natives handed
//! to the prelude in [`natives`], the one place the JavaScript side reaches
//! the host; `fetch` uses a descriptor only authpipe's host opens
//! ([`wasi::FETCH_FD`]), so under a stock host it rejects and nothing else
//! changes.

mod json;
mod wasi;

use javy::quickjs::{
    ArrayBuffer, Ctx, Function, Object, Persistent, Value, context::EvalOptions, qjs,
};
use javy::{Config, Runtime};
use std::cell::{OnceCell, RefCell};

/// The JavaScript half of the contract: callback rules, `env`, logging,
/// `utils`, `crypto` and the user helpers.
const PRELUDE: &str = include_str!("prelude.js");

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
    /// The user helpers' names and the symbols under which input fields of
    /// those names are kept during a call (see [`json::Shadows`]).
    shadows: json::Shadows,
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
    let (file_name, source) = input.split_once('\n').unwrap_or(("function.js", ""));
    let report = match Engine::new(file_name, source) {
        Ok((engine, warnings_json)) => {
            let _ = ENGINE.0.set(engine);
            format!("{{\"ok\":true,\"warnings\":{warnings_json}}}")
        }
        Err(error_json) => format!("{{\"ok\":false,\"error\":{error_json}}}"),
    };
    wasi::write_all(wasi::STDOUT, report.as_bytes());
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
    let output = engine.invoke(&wasi::read_stdin());
    wasi::write_all(wasi::STDOUT, &output);
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
    fn new(file_name: &str, source: &str) -> Result<(Self, String), String> {
        let mut config = Config::default();
        config
            .gc_threshold(GC_THRESHOLD_BYTES)
            .max_stack_size(MAX_JS_STACK_BYTES)
            .text_encoding(true);
        let runtime = Runtime::new(config).map_err(|e| internal_error(&e.to_string()))?;
        let (run, settle, finish, shadows, warnings) = runtime.context().with(|ctx| {
            let prelude = install_prelude(&ctx).map_err(|e| internal_error(&describe(&ctx, e)))?;
            let entry = |name: &str| -> Result<Function, String> {
                prelude
                    .get(name)
                    .map_err(|e| internal_error(&describe(&ctx, e)))
            };
            let mut options = EvalOptions::default();
            options.global = true;
            options.strict = false;
            options.filename = Some(file_name.to_string());
            if let Err(e) = ctx.eval_with_options::<(), _>(source, options) {
                let exception = ctx.catch();
                let report: String = entry("compileError")?
                    .call((exception, file_name))
                    .map_err(|_| internal_error(&e.to_string()))?;
                return Err(report);
            }
            let problem: Option<String> = entry("checkPipe")?
                .call(())
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
                let mut usage: qjs::JSMemoryUsage = std::mem::zeroed();
                qjs::JS_ComputeMemoryUsage(runtime, &mut usage);
                let heap = usize::try_from(usage.malloc_size).unwrap_or(0);
                qjs::JS_SetGCThreshold(runtime, (heap + GC_HEADROOM_BYTES) as _);
            }
            let shadows =
                shadow_keys(&ctx, &prelude).map_err(|e| internal_error(&describe(&ctx, e)))?;
            let keep = |name: &str| -> Result<Persistent<Function<'static>>, String> {
                Ok(Persistent::save(&ctx, entry(name)?))
            };
            Ok((
                keep("run")?,
                keep("settle")?,
                keep("finish")?,
                shadows,
                warnings,
            ))
        })?;
        let engine = Self {
            runtime,
            run,
            settle,
            finish,
            shadows,
        };
        Ok((engine, warnings))
    }

    /// Runs one invocation and returns the result JSON.
    fn invoke(&self, input: &[u8]) -> Vec<u8> {
        let context = self.runtime.context();
        let started = context.with(
            |ctx| -> javy::quickjs::Result<Result<Option<Persistent<Value<'static>>>, String>> {
                let raw = ctx.as_raw().as_ptr();
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
                let part = |name: &str| -> javy::quickjs::Result<Result<Value, String>> {
                    let value: Value = input.get(name)?;
                    Ok(
                        if value.is_object() && !value.is_array() && !value.is_function() {
                            Ok(value)
                        } else {
                            Err(format!("input.{name} must be a JSON object"))
                        },
                    )
                };
                let user = match part("user")? {
                    Ok(user) => user,
                    Err(message) => return Ok(Err(message)),
                };
                let context = match part("context")? {
                    Ok(context) => context,
                    Err(message) => return Ok(Err(message)),
                };
                if parsed.may_shadow_helpers {
                    // SAFETY: `user` is a live object of this context.
                    unsafe { self.shadows.hide(raw, user.as_raw()) };
                }
                let claims: Value = input.get("claims")?;
                let custom_data: Value = input.get("custom_data")?;
                let run: Function = self.run.clone().restore(&ctx)?;
                let returned: Value = run.call((user, context, claims, custom_data))?;
                if returned.is_promise() {
                    return Ok(Ok(Some(Persistent::save(&ctx, returned))));
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
        // Promise jobs: `await`, `.then` and async `pipe`. The prelude catches
        // every rejection it cares about, so a job error is an engine bug.
        if let Err(e) = self.runtime.resolve_pending_jobs() {
            return self.engine_failure(&e.to_string());
        }
        let finished = context.with(|ctx| -> javy::quickjs::Result<()> {
            if let Some(promise) = promise {
                let promise = promise.restore(&ctx)?;
                let raw_ctx = ctx.as_raw().as_ptr();
                // SAFETY: `promise` is a live promise of this context.
                let state = unsafe { qjs::JS_PromiseState(raw_ctx, promise.as_raw()) };
                if state != qjs::JSPromiseStateEnum_JS_PROMISE_PENDING {
                    let rejected = state == qjs::JSPromiseStateEnum_JS_PROMISE_REJECTED;
                    // SAFETY: as above; the result's ownership passes to `Value`.
                    let value = unsafe {
                        Value::from_raw(
                            ctx.clone(),
                            qjs::JS_PromiseResult(raw_ctx, promise.as_raw()),
                        )
                    };
                    let settle: Function = self.settle.clone().restore(&ctx)?;
                    settle.call::<_, ()>((rejected, value))?;
                }
            }
            let finish: Function = self.finish.clone().restore(&ctx)?;
            finish.call(())
        });
        if let Err(e) = finished {
            let message = context.with(|ctx| describe(&ctx, e));
            return self.engine_failure(&message);
        }
        let result = std::mem::take(&mut *RESULT.0.borrow_mut());
        if result.is_empty() {
            return self.engine_failure("the function ended without a result");
        }
        result
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
    let mut options = EvalOptions::default();
    options.global = true;
    options.strict = true;
    options.filename = Some("authpipe:prelude".to_string());
    let factory: Function = ctx.eval_with_options(PRELUDE, options)?;
    factory.call((natives(ctx)?,))
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
    // allow(user, context, idTokenClaims, accessTokenClaims, customData):
    // the function allowed; its result is serialised now, once.
    natives.set(
        "allow",
        Function::new(
            ctx.clone(),
            |ctx: Ctx<'js>,
             user: Value<'js>,
             context: Value<'js>,
             id_token: Value<'js>,
             access_token: Value<'js>,
             custom_data: Value<'js>| {
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
    // refuse(kind, message, stack): the function denied or failed.
    natives.set(
        "refuse",
        Function::new(
            ctx.clone(),
            |kind: String, message: String, stack: Option<String>| {
                let result = if GUEST_ERROR_KINDS.contains(&kind.as_str()) {
                    error_result(&kind, &message, stack.as_deref())
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
    // randomBytes(n): n bytes from the host's secure random source.
    natives.set(
        "randomBytes",
        Function::new(ctx.clone(), |ctx: Ctx<'js>, len: usize| {
            let mut bytes = vec![0u8; len.min(65_536)];
            wasi::random_fill(&mut bytes);
            ArrayBuffer::new(ctx, bytes)
        })?,
    )?;
    Ok(natives)
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
