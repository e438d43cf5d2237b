//! Shared helpers for the end-to-end tests: one runtime per test binary,
//! fixtures compiled through the real guest, and the real `authpipe` binary.

use authpipe::{Environ, Function, InvocationResult, Limits, Runtime, Stage};
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

/// The sample input of the design document, plus a top-level `context.ip`.
pub const INPUT: &str = include_str!("fixtures/input.json");

/// Directory of the JavaScript fixtures.
pub fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

/// The process-wide runtime (as an embedder would keep it).
pub fn runtime() -> &'static Runtime {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| Runtime::new().expect("runtime"))
}

/// Reads fixture `name` (without `.js`).
pub fn source(name: &str) -> String {
    let path = fixtures_dir().join(format!("{name}.js"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Compiles fixture `name` through the real guest.
pub fn compile(name: &str) -> Function {
    runtime()
        .compile(name, &source(name))
        .unwrap_or_else(|e| panic!("{name} should compile: {e}"))
}

/// Options for one call.
#[derive(Default)]
pub struct Call<'a> {
    pub env: &'a [(&'a str, &'a str)],
    pub limits: Limits,
    pub input: Option<&'a str>,
}

/// Runs `function` once as a single stage.
pub fn run(function: &Function, call: Call<'_>) -> InvocationResult {
    stage(function, &call).run_blocking(call.input.unwrap_or(INPUT).as_bytes())
}

/// A stage for `function` with the call's env and limits.
pub fn stage(function: &Function, call: &Call<'_>) -> Stage {
    Stage {
        env: Arc::new(Environ::new(call.env.iter().copied()).expect("env")),
        limits: call.limits,
        ..Stage::new(function.clone())
    }
}

/// Runs `function` once with `env` and otherwise default settings.
pub fn run_env(function: &Function, env: &[(&str, &str)]) -> InvocationResult {
    run(
        function,
        Call {
            env,
            ..Call::default()
        },
    )
}

/// Compiles and runs fixture `name` once with default settings.
pub fn run_fixture(name: &str) -> InvocationResult {
    run(&compile(name), Call::default())
}

/// Limits with the given overrides.
pub fn limits(timeout_ms: Option<u64>, fuel: Option<u64>, memory_mb: Option<u32>) -> Limits {
    let mut limits = Limits::default();
    if let Some(ms) = timeout_ms {
        limits.timeout_ms(ms).expect("timeout in range");
    }
    if let Some(fuel) = fuel {
        limits.fuel(fuel).expect("fuel in range");
    }
    if let Some(mb) = memory_mb {
        limits.memory_mb(mb).expect("memory in range");
    }
    limits
}

/// The `authpipe` binary built beside this test binary
/// (`target/<profile>/authpipe`).
pub fn authpipe_bin() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile> directory");
    let bin = dir.join("authpipe");
    assert!(
        bin.exists(),
        "{} is missing: build it first with `cargo build --release --workspace` (`just test` does)",
        bin.display()
    );
    bin
}

/// A fresh, empty directory under the target directory.
pub fn temp_dir(label: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    let base = exe
        .parent()
        .and_then(Path::parent)
        .expect("target dir")
        .join("test-tmp");
    let dir = base.join(format!("{label}-{}-{}", std::process::id(), unique()));
    std::fs::create_dir_all(&dir).expect("create temp dir");
    dir
}

fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// Runs a compiled function's `.wasm` under wasmtime-wasi's standard WASI
/// preview-1 host, the way `wasmtime run FN.wasm < input.json` does, and
/// returns what it printed on stdout.
pub fn run_under_stock_wasi(
    wasm: &[u8],
    env: &[(&str, &str)],
    input: &str,
) -> anyhow::Result<Vec<u8>> {
    use wasmtime_wasi::p2::pipe::{MemoryInputPipe, MemoryOutputPipe};
    let engine = wasmtime::Engine::default();
    let module = wasmtime::Module::new(&engine, wasm)?;
    let mut linker = wasmtime::Linker::new(&engine);
    wasmtime_wasi::p1::add_to_linker_sync(&mut linker, |ctx| ctx)?;
    let stdout = MemoryOutputPipe::new(4 << 20);
    let wasi = wasmtime_wasi::WasiCtxBuilder::new()
        .stdin(MemoryInputPipe::new(input.as_bytes().to_vec()))
        .stdout(stdout.clone())
        .envs(env)
        .build_p1();
    let mut store = wasmtime::Store::new(&engine, wasi);
    let instance = linker.instantiate(&mut store, &module)?;
    instance
        .get_typed_func::<(), ()>(&mut store, "_start")?
        .call(&mut store, ())?;
    drop(store);
    Ok(stdout.contents().to_vec())
}
