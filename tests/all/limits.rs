//! Every limit, obeyed and violated, and the process stays healthy after.

use authpipe::{ErrorKind, Outcome};
use authpipe_tests::{Call, compile, limits, run, run_env};
use std::time::{Duration, Instant};

/// After a violation, the same function still runs normally.
fn assert_healthy() {
    let result = run(&compile("allow"), Call::default());
    assert_eq!(
        result.outcome,
        Outcome::Allow,
        "next call after a violation: {result:?}"
    );
}

#[test]
fn fuel_obeyed() {
    let function = compile("busy_loop");
    let result = run_env(&function, &[("ITERATIONS", "1000")]);
    assert_eq!(result.outcome, Outcome::Allow, "{result:?}");
    assert_eq!(result.user["total"], serde_json::json!(499_500));
}

#[test]
fn fuel_violated() {
    let function = compile("busy_loop");
    let result = run(
        &function,
        Call {
            env: &[("ITERATIONS", "100000000")],
            limits: limits(Some(60_000), Some(1_000_000), None),
            ..Call::default()
        },
    );
    assert_eq!(result.error.expect("error").kind, ErrorKind::FuelExhausted);
    assert!(result.stages[0].fuel >= 1_000_000);
    assert_healthy();
}

#[test]
fn timeout_obeyed() {
    let function = compile("busy_loop");
    let result = run(
        &function,
        Call {
            env: &[("ITERATIONS", "10000")],
            limits: limits(Some(1000), None, None),
            ..Call::default()
        },
    );
    assert_eq!(result.outcome, Outcome::Allow);
}

#[test]
fn timeout_violated_by_a_busy_loop() {
    let function = compile("infinite_loop");
    let started = Instant::now();
    let result = run(
        &function,
        Call {
            limits: limits(Some(100), Some(10_000_000_000), None),
            ..Call::default()
        },
    );
    let error = result.error.expect("error");
    assert_eq!(error.kind, ErrorKind::Timeout, "{error:?}");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "stopped after {:?}",
        started.elapsed()
    );
    assert_healthy();
}

#[test]
fn timeout_violated_by_a_loop_that_only_allocates() {
    let function = compile("alloc_loop");
    let started = Instant::now();
    let result = run(
        &function,
        Call {
            limits: limits(Some(200), Some(10_000_000_000), None),
            ..Call::default()
        },
    );
    assert_eq!(result.error.expect("error").kind, ErrorKind::Timeout);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "stopped after {:?}",
        started.elapsed()
    );
    assert_healthy();
}

#[test]
fn memory_obeyed() {
    let function = compile("alloc_bomb");
    let result = run(
        &function,
        Call {
            env: &[("MB", "8")],
            limits: limits(None, Some(10_000_000_000), Some(64)),
            ..Call::default()
        },
    );
    assert_eq!(result.outcome, Outcome::Allow, "{result:?}");
    assert_eq!(result.user["chunks"], serde_json::json!(8));
}

#[test]
fn memory_violated() {
    let function = compile("alloc_bomb");
    let result = run(
        &function,
        Call {
            env: &[("MB", "64")],
            limits: limits(None, Some(10_000_000_000), Some(16)),
            ..Call::default()
        },
    );
    assert_eq!(result.error.expect("error").kind, ErrorKind::MemoryLimit);
    assert!(result.stages[0].memory_bytes <= 16 << 20);
    assert_healthy();
}

#[test]
fn stack_obeyed() {
    let function = compile("deep_recursion");
    let result = run_env(&function, &[("DEPTH", "500")]);
    assert_eq!(result.outcome, Outcome::Allow, "{result:?}");
    assert_eq!(result.user["depth"], serde_json::json!(500));
}

#[test]
fn stack_violated() {
    let function = compile("deep_recursion");
    let result = run_env(&function, &[("DEPTH", "10000000")]);
    let error = result.error.expect("error");
    assert_eq!(error.kind, ErrorKind::StackOverflow, "{error:?}");
    assert_healthy();
}

#[test]
fn output_obeyed() {
    let function = compile("big_output");
    let result = run_env(&function, &[("KB", "512")]);
    assert_eq!(result.outcome, Outcome::Allow);
    assert_eq!(result.user["blob"].as_str().map(str::len), Some(512 * 1024));
}

#[test]
fn output_violated() {
    let function = compile("big_output");
    let result = run_env(&function, &[("KB", "1100")]);
    assert_eq!(result.error.expect("error").kind, ErrorKind::OutputTooLarge);
    assert_healthy();
}

#[test]
fn limits_out_of_range_are_rejected() {
    let mut limits = authpipe::Limits::default();
    assert!(limits.timeout_ms(0).is_err());
    assert!(limits.timeout_ms(60_001).is_err());
    assert!(limits.fuel(99_999).is_err());
    assert!(limits.fuel(10_000_000_001).is_err());
    assert!(limits.memory_mb(3).is_err());
    assert!(limits.memory_mb(1025).is_err());
}
