//! `authpipe bench`: per-invocation latency on fresh instances.

use crate::CallArgs;
use crate::load;
use anyhow::{Context, Result, bail};
use authpipe::{Outcome, Pipeline, Runtime};
use serde::Serialize;
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// Calls made before measuring, to warm caches and pooled slots.
const WARMUP_CALLS: u64 = 200;

/// The benchmark's figures (`--json` prints exactly this).
#[derive(Serialize)]
struct Report {
    function: String,
    calls: u64,
    /// Stages per call (the function repeated in one pipeline).
    stages: u32,
    /// Bytes of the input JSON.
    input_bytes: usize,
    outcome: Outcome,
    p50_us: f64,
    p90_us: f64,
    p99_us: f64,
    mean_us: f64,
    calls_per_sec: f64,
    fuel_per_call: u64,
    memory_bytes: u64,
    /// What one call writes to its sandbox's memory (the pages the pool
    /// restores afterwards).
    pages_written: Option<authpipe::PagesWritten>,
    /// Preparing the engine code shared by all functions (compiled, or
    /// loaded from the on-disk cache).
    engine_ms: f64,
    /// Compiling (or loading) this function once the engine is ready.
    compile_ms: f64,
    /// Compiling a second, different function in the same process.
    second_compile_ms: Option<f64>,
    peak_rss_kb: Option<u64>,
}

pub fn run(
    runtime: &Runtime,
    path: &Path,
    call: &CallArgs,
    calls: u64,
    stages: u32,
    json: bool,
) -> Result<ExitCode> {
    if calls == 0 {
        bail!("-n must be at least 1");
    }
    let input = match &call.input {
        Some(_) => call.read_input()?,
        None => br#"{"user":{"id":"u1","email":"alice@example.com"},"context":{"request":{"body":{"email":"alice@example.com"},"ip":"10.0.0.1"}}}"#.to_vec(),
    };
    let started = Instant::now();
    runtime.warm_up().context("cannot prepare the engine")?;
    let engine_ms = ms(started.elapsed());

    let started = Instant::now();
    let function = match load::function(runtime, path, call.flavor)? {
        Ok(function) => function,
        Err(code) => return Ok(code),
    };
    let compile_ms = ms(started.elapsed());
    let second_compile_ms = if path.extension().is_some_and(|e| e == "wasm") {
        None
    } else {
        let variant = format!("{}\n// second function\n", load::read_source(path)?);
        let started = Instant::now();
        runtime
            .compile("second", &variant)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        Some(ms(started.elapsed()))
    };

    let stage = call.stage(function)?;
    let pipeline = Pipeline::new(vec![stage.clone(); stages as usize]);
    let first = pipeline.run_blocking(&input);
    for _ in 0..WARMUP_CALLS {
        pipeline.run_blocking(&input);
    }
    let pages_written = stage.function.pages_written(&input, &stage.env).ok();
    let mut samples = Vec::with_capacity(calls as usize);
    let total = Instant::now();
    for _ in 0..calls {
        let started = Instant::now();
        std::hint::black_box(pipeline.run_blocking(&input));
        samples.push(started.elapsed());
    }
    let total = total.elapsed();
    samples.sort_unstable();
    let report = Report {
        function: stage.function.name().to_string(),
        calls,
        stages,
        input_bytes: input.len(),
        outcome: first.outcome,
        p50_us: percentile(&samples, 0.50),
        p90_us: percentile(&samples, 0.90),
        p99_us: percentile(&samples, 0.99),
        mean_us: total.as_secs_f64() * 1e6 / calls as f64,
        calls_per_sec: calls as f64 / total.as_secs_f64(),
        fuel_per_call: first.total_fuel(),
        memory_bytes: first.stages.first().map_or(0, |s| s.memory_bytes),
        pages_written,
        engine_ms,
        compile_ms,
        second_compile_ms,
        peak_rss_kb: peak_rss_kb(),
    };
    if json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        print_table(&report);
    }
    Ok(ExitCode::SUCCESS)
}

fn print_table(r: &Report) {
    let stages = match r.stages {
        1 => String::new(),
        n => format!(", {n} stages each"),
    };
    println!(
        "function        {} ({} calls{stages}, outcome {})",
        r.function,
        r.calls,
        r.outcome.as_str()
    );
    println!(
        "latency         p50 {:.1} µs   p90 {:.1} µs   p99 {:.1} µs   mean {:.1} µs",
        r.p50_us, r.p90_us, r.p99_us, r.mean_us
    );
    println!(
        "throughput      {:.0} calls/s (one thread)",
        r.calls_per_sec
    );
    println!("fuel per call   {}", r.fuel_per_call);
    println!(
        "memory          {} KiB linear memory per instance",
        r.memory_bytes / 1024
    );
    if let Some(w) = r.pages_written {
        println!(
            "pages written   {} of {} (4 KiB) per call, in {} runs",
            w.pages, w.image_pages, w.runs
        );
    }
    println!(
        "engine          {:.1} ms (shared code: compiled or loaded from cache)",
        r.engine_ms
    );
    match r.second_compile_ms {
        Some(second) => println!(
            "compile         {:.1} ms this function, {:.1} ms a second one",
            r.compile_ms, second
        ),
        None => println!("load            {:.1} ms", r.compile_ms),
    }
    if let Some(rss) = r.peak_rss_kb {
        println!("peak RSS        {} KiB", rss);
    }
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e3
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let index = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[index].as_secs_f64() * 1e6
}

/// Peak resident set size of this process (Linux), in KiB.
fn peak_rss_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
