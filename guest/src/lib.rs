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
use std::cell::OnceCell;

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
    /// `finish()`: returns the result object once the job queue is empty.
    finish: Persistent<Function<'static>>,
}

/// Holder for the engine that the initializer builds and `_start` uses.
struct EngineCell(OnceCell<Engine>);

// SAFETY: wasm32-wasip1 has no threads; the cell is only touched by the one
// thread that runs the exports.
unsafe impl Sync for EngineCell {}

static ENGINE: EngineCell = EngineCell(OnceCell::new());

/// QuickJS stops a call chain that needs more than this much shadow stack
/// with a catchable `RangeError`; it is well below the 1 MiB the linker gives
/// the Rust shadow stack, so the guest never writes past its stack.
const MAX_JS_STACK_BYTES: usize = 512 * 1024;

/// The garbage collector runs once the heap passes this size. Instances live
/// for one call, so small calls never pay for a collection, while a
/// function that churns through cyclic garbage still gets it reclaimed.
const GC_THRESHOLD_BYTES: usize = 8 * 1024 * 1024;

/// Compile-time entry point: evaluate the prelude and the user's function.
#[unsafe(export_name = "wizer-initialize")]
pub extern "C" fn initialize() {
    // Initialise the random generator's state now, so that calls only reseed it.
    fastrand::seed(0);
    let input = wasi::read_stdin();
    let input = String::from_utf8_lossy(&input);
    let (file_name, source) = input.split_once('\n').unwrap_or(("function.js", ""));
    let report = match Engine::new(file_name, source) {
        Ok(engine) => {
            let _ = ENGINE.0.set(engine);
            "{\"ok\":true}".to_string()
        }
        Err(error_json) => format!("{{\"ok\":false,\"error\":{error_json}}}"),
    };
    wasi::write_all(wasi::STDOUT, report.as_bytes());
}

/// Invocation entry point: one call of `pipe`, input on stdin, result on stdout.
#[unsafe(export_name = "_start")]
pub extern "C" fn start() {
    let Some(engine) = ENGINE.0.get() else {
        let msg = r#"{"outcome":"error","error":{"kind":"invalid_output","message":"this is the bare authpipe engine; compile a function with `authpipe compile-function` first"}}"#;
        wasi::write_all(wasi::STDOUT, msg.as_bytes());
        return;
    };
    // Fresh randomness for every call: the snapshot must not freeze it.
    fastrand::seed(wasi::random_u64());
    let output = engine.invoke(&wasi::read_stdin());
    wasi::write_all(wasi::STDOUT, &output);
}

impl Engine {
    /// Builds the runtime, installs the prelude and evaluates the user's
    /// source. On failure returns the `error` object of the report as JSON.
    fn new(file_name: &str, source: &str) -> Result<Self, String> {
        let mut config = Config::default();
        config
            .gc_threshold(GC_THRESHOLD_BYTES)
            .max_stack_size(MAX_JS_STACK_BYTES);
        let runtime = Runtime::new(config).map_err(|e| internal_error(&e.to_string()))?;
        let (run, settle, finish) = runtime.context().with(|ctx| {
            let prelude = install_prelude(&ctx).map_err(|e| internal_error(&describe(&ctx, e)))?;
            let mut options = EvalOptions::default();
            options.global = true;
            options.strict = false;
            options.filename = Some(file_name.to_string());
            if let Err(e) = ctx.eval_with_options::<(), _>(source, options) {
                let exception = ctx.catch();
                let check: Function = prelude
                    .get("compileError")
                    .map_err(|e| internal_error(&e.to_string()))?;
                let report: String = check
                    .call((exception, file_name))
                    .map_err(|_| internal_error(&e.to_string()))?;
                return Err(report);
            }
            let check: Function = prelude
                .get("checkPipe")
                .map_err(|e| internal_error(&e.to_string()))?;
            let problem: Option<String> = check
                .call(())
                .map_err(|e| internal_error(&describe(&ctx, e)))?;
            if let Some(report) = problem {
                return Err(report);
            }
            let get = |name: &str| -> Result<Persistent<Function<'static>>, String> {
                let f: Function = prelude
                    .get(name)
                    .map_err(|e| internal_error(&e.to_string()))?;
                Ok(Persistent::save(&ctx, f))
            };
            Ok((get("run")?, get("settle")?, get("finish")?))
        })?;
        Ok(Self {
            runtime,
            run,
            settle,
            finish,
        })
    }

    /// Runs one invocation and returns the result JSON.
    fn invoke(&self, input: &[u8]) -> Vec<u8> {
        let context = self.runtime.context();
        let started = context.with(
            |ctx| -> javy::quickjs::Result<Result<Option<Persistent<Value<'static>>>, String>> {
                // SAFETY: the context is live for the duration of `with`; the
                // parsed value's ownership passes to `Value`.
                let parsed = match unsafe { json::parse(ctx.as_raw().as_ptr(), input) } {
                    Ok(raw) => unsafe { Value::from_raw(ctx.clone(), raw) },
                    Err(message) => {
                        return Ok(Err(format!("the input is not valid JSON: {message}")));
                    }
                };
                let Some(input) = parsed.as_object().filter(|_| !parsed.is_array()) else {
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
            Ok(Err(message)) => return error_result("invalid_input", &message),
            Err(e) => return error_result("exception", &format!("engine failure: {e}")),
        };
        // Promise jobs: `await`, `.then` and async `pipe`. The prelude catches
        // every rejection it cares about, so a job error is an engine bug.
        if let Err(e) = self.runtime.resolve_pending_jobs() {
            return error_result("exception", &format!("engine failure: {e}"));
        }
        context.with(|ctx| {
            let finished = (|| -> javy::quickjs::Result<Value> {
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
            })();
            let result = match finished {
                Ok(result) => result,
                Err(e) => {
                    return error_result(
                        "exception",
                        &format!("engine failure: {}", describe(&ctx, e)),
                    );
                }
            };
            let mut out = Vec::with_capacity(input.len() + 256);
            // SAFETY: `result` is a live value of this live context.
            match unsafe { json::stringify(ctx.as_raw().as_ptr(), result.as_raw(), &mut out) } {
                Ok(()) => out,
                Err(message) => {
                    // An exception thrown by a `toJSON` is pending; clear it.
                    let _ = ctx.catch();
                    error_result(
                        "invalid_output",
                        &format!("the result cannot be serialised as JSON: {message}"),
                    )
                }
            }
        })
    }
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
                Ok(value) => Ok(unsafe { Value::from_raw(ctx.clone(), value) }),
                Err(message) => Err(javy::quickjs::Exception::throw_type(
                    &ctx,
                    &format!("fetch: the host's response is not JSON: {message}"),
                )),
            }
        })?,
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

/// A refusing result with `kind` and `message`.
fn error_result(kind: &str, message: &str) -> Vec<u8> {
    let mut out = format!("{{\"outcome\":\"error\",\"error\":{{\"kind\":\"{kind}\",\"message\":")
        .into_bytes();
    json::write_escaped(&mut out, message.as_bytes());
    out.extend_from_slice(b"}}");
    out
}
