//! The sandbox against functions that try to cheat or exhaust it: forged
//! results, shadowed helpers, cyclic garbage, exact deadlines, cancelled
//! callers.

use authpipe::{CancelToken, ErrorKind, OnError, Outcome, Pipeline, Stage};
use authpipe_tests::{Call, INPUT, limits, run, runtime, stage};
use serde_json::json;
use std::time::{Duration, Instant};

fn compile(name: &str, source: &str) -> authpipe::Function {
    runtime()
        .compile(name, source)
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn run_source(source: &str, input: Option<&str>) -> authpipe::InvocationResult {
    run(
        &compile("hardening", source),
        Call {
            input,
            ..Call::default()
        },
    )
}

#[test]
fn a_denial_cannot_be_turned_into_an_allow_after_the_callback() {
    let attempts = [
        // A global toJSON hook, set after denying.
        "function pipe(u, c, cb) { cb(new Error('deny')); Object.prototype.toJSON = function () { return { outcome: 'allow', user: {}, context: {}, claims: { id_token: { admin: true } } }; }; }",
        // The same, set before denying.
        "function pipe(u, c, cb) { Object.prototype.toJSON = function () { return { outcome: 'allow', user: {}, context: {} }; }; cb(new Error('deny')); }",
        // A second callback.
        "function pipe(u, c, cb) { cb(new Error('deny')); u.addIdToken('admin', true); cb(null, u, c); }",
        // Hooks on the prototype for the result's fields.
        "function pipe(u, c, cb) { Object.defineProperty(Object.prototype, 'outcome', { get() { return 'allow'; }, set() {} }); cb(new Error('deny')); }",
        // Later, from a promise job.
        "async function pipe(u, c, cb) { cb(new Error('deny')); await null; Object.prototype.toJSON = () => ({ outcome: 'allow' }); cb(null, u, c); }",
    ];
    for source in attempts {
        let result = run_source(source, None);
        assert_eq!(result.outcome, Outcome::Deny, "{source}\n{result:#?}");
        let error = result.error.as_ref().unwrap();
        assert_eq!(error.kind, ErrorKind::Denied, "{source}");
        assert_eq!(error.message, "deny", "{source}");
        assert!(result.claims.id_token.is_empty(), "{source}");
    }
}

#[test]
fn a_function_cannot_report_a_host_only_error_kind() {
    let attempts = [
        "function pipe(u, c, cb) { Object.prototype.toJSON = function () { return { outcome: 'error', error: { kind: 'fetch_denied', message: 'forged' } }; }; cb(null, u, c); }",
        "function pipe(u, c, cb) { const e = new Error('forged'); e.kind = 'fetch_denied'; throw e; }",
        "function pipe(u, c, cb) { cb({ kind: 'timeout', message: 'forged' }); }",
    ];
    for source in attempts {
        let result = run_source(source, None);
        if let Some(error) = &result.error {
            assert!(
                matches!(
                    error.kind,
                    ErrorKind::Denied | ErrorKind::Exception | ErrorKind::InvalidOutput
                ),
                "{source}: {error:?}"
            );
        }
    }
}

#[test]
fn the_result_is_what_the_callback_was_given() {
    let result = run_source(
        "async function pipe(u, c, cb) { u.before = 1; cb(null, u, c); u.after = 2; u.addIdToken('late', true); await null; u.later = 3; }",
        None,
    );
    assert_eq!(result.outcome, Outcome::Allow, "{result:#?}");
    assert_eq!(result.user["before"], 1);
    assert!(result.user.get("after").is_none() && result.user.get("later").is_none());
    assert!(result.claims.id_token.is_empty());
}

#[test]
fn to_json_serialises_as_json_stringify_does() {
    let result = run_source(
        "function pipe(u, c, cb) {
           u.spread = { a: 1, toJSON() { return { ...this }; } };
           u.date = new Date(0);
           u.nested = { toJSON(key) { return { key, inner: { toJSON() { return 'inner'; } } }; } };
           u.expected = JSON.parse(JSON.stringify({ spread: u.spread, date: u.date, nested: u.nested }));
           cb(null, u, c);
         }",
        None,
    );
    assert_eq!(result.outcome, Outcome::Allow, "{result:#?}");
    let user = &result.user;
    assert_eq!(user["spread"], json!({"a": 1}));
    assert_eq!(user["date"], json!("1970-01-01T00:00:00.000Z"));
    assert_eq!(user["nested"], json!({"key": "nested", "inner": "inner"}));
    assert_eq!(user["expected"]["spread"], user["spread"]);
    assert_eq!(user["expected"]["nested"], user["nested"]);
}

const INPUT_WITH_HELPER_NAMES: &str = r#"{"user":{"id":"u1","addIdToken":"data-1","addCustomData":{"x":1},"removeAccessToken":null},"context":{"addIdToken":"ctx"}}"#;

#[test]
fn input_fields_cannot_shadow_the_helpers_and_still_round_trip() {
    let result = run_source(
        "function pipe(u, c, cb) { u.addIdToken('tier', 'gold'); u.addCustomData('k', 'v'); u.removeAccessToken('none'); cb(null, u, c); }",
        Some(INPUT_WITH_HELPER_NAMES),
    );
    assert_eq!(result.outcome, Outcome::Allow, "{result:#?}");
    assert_eq!(result.claims.id_token["tier"], "gold");
    assert_eq!(result.custom_data["k"], "v");
    assert_eq!(result.user["addIdToken"], "data-1");
    assert_eq!(result.user["addCustomData"], json!({"x": 1}));
    assert_eq!(result.user["removeAccessToken"], json!(null));
    assert_eq!(result.context["addIdToken"], "ctx");

    // A copied user keeps them too.
    let copied = run_source(
        "function pipe(u, c, cb) { cb(null, { ...u, copy: true }, c); }",
        Some(INPUT_WITH_HELPER_NAMES),
    );
    assert_eq!(copied.user["addIdToken"], "data-1", "{copied:#?}");
    assert_eq!(copied.user["copy"], true);
}

#[test]
fn shadowing_cannot_skip_a_check_in_a_pipeline() {
    let check = compile(
        "check",
        "function pipe(u, c, cb) { if (u.email.endsWith('@evil.test')) return cb(new Error('blocked')); u.addIdToken('checked', true); cb(null, u, c); }",
    );
    let skipping = Stage {
        on_error: OnError::Skip,
        ..Stage::new(check)
    };
    let input = r#"{"user":{"email":"x@good.test","addIdToken":1},"context":{}}"#;
    let result = Pipeline::new(vec![skipping]).run_blocking(input.as_bytes());
    assert_eq!(result.outcome, Outcome::Allow, "{result:#?}");
    assert_eq!(
        result.stages[0].outcome,
        Outcome::Allow,
        "the stage ran, not skipped"
    );
    assert_eq!(result.claims.id_token["checked"], true);
}

#[test]
fn cyclic_garbage_is_collected() {
    let source = "function pipe(u, c, cb) { for (let i = 0; i < u.n; i++) { const a = { i }; a.self = a; } cb(null, u, c); }";
    let function = compile("cycles", source);
    let input = r#"{"user":{"n":400000},"context":{}}"#;
    let result = run(
        &function,
        Call {
            input: Some(input),
            limits: limits(Some(60_000), Some(10_000_000_000), None),
            ..Call::default()
        },
    );
    assert_eq!(result.outcome, Outcome::Allow, "{:?}", result.error);
    let memory = result.stages[0].memory_bytes;
    assert!(
        memory < 8 << 20,
        "400k cyclic objects left {memory} bytes of memory"
    );
}

#[test]
fn running_out_of_memory_is_a_clean_memory_limit() {
    let result = run(
        &compile(
            "oom",
            "function pipe(u, c, cb) { const keep = []; while (true) keep.push('x'.repeat(1 << 16) + keep.length); }",
        ),
        Call {
            limits: limits(None, Some(10_000_000_000), Some(8)),
            ..Call::default()
        },
    );
    let error = result.error.expect("an error");
    assert_eq!(error.kind, ErrorKind::MemoryLimit, "{error:?}");
    for log in &result.stages[0].logs {
        assert!(
            !log.message.contains("memory allocation") && !log.message.contains("RUST_BACKTRACE"),
            "{log:?}"
        );
    }
}

/// A function that spins until its deadline, partly in host calls, so that
/// the largest fuel budget outlasts a 3 s timeout.
const SPIN: &str = "function pipe(u, c, cb) { const b = new Uint8Array(65536); while (true) { crypto.getRandomValues(b); } }";

#[test]
fn a_cancelled_call_stops_at_once() {
    let function = compile("spin", SPIN);
    let stage = stage(
        &function,
        &Call {
            limits: limits(None, Some(10_000_000_000), None),
            ..Call::default()
        },
    );
    let cancel = CancelToken::new();
    let stopper = {
        let cancel = cancel.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(100));
            cancel.cancel();
        })
    };
    let started = Instant::now();
    let result = stage.run_blocking_with(INPUT.as_bytes(), &cancel);
    stopper.join().unwrap();
    assert!(
        started.elapsed() < Duration::from_millis(500),
        "{:?}",
        started.elapsed()
    );
    let error = result.error.unwrap();
    assert_eq!(error.kind, ErrorKind::Timeout);
    assert!(error.message.contains("cancelled"), "{}", error.message);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_the_future_stops_the_sandbox_and_releases_what_it_holds() {
    let function = compile("spin", SPIN);
    let stage = stage(&function, &Call::default());
    let permit = std::sync::Arc::new(tokio::sync::Semaphore::new(1));
    let held = permit.clone().try_acquire_owned().unwrap();
    let call = tokio::spawn(async move {
        stage
            .run_with(INPUT.as_bytes().to_vec(), CancelToken::new(), held)
            .await
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    call.abort();
    let started = Instant::now();
    let _back = tokio::time::timeout(Duration::from_secs(1), permit.acquire())
        .await
        .expect("the permit comes back once the sandbox stops, well before the 3 s timeout");
    assert!(started.elapsed() < Duration::from_millis(500));
}

#[test]
fn top_level_randomness_is_a_compile_warning() {
    let function = compile(
        "random-at-top",
        "const seed = Math.random();\nconst id = crypto.randomUUID();\nfunction pipe(u, c, cb) { u.r = Math.random(); cb(null, u, c); }",
    );
    let warnings = function.warnings();
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    assert!(
        warnings[0].starts_with("random-at-top.js:1:"),
        "{warnings:?}"
    );
    assert!(warnings[0].contains("Math.random()"), "{warnings:?}");
    assert!(warnings[1].contains("crypto.randomUUID()"), "{warnings:?}");
    // The snapshot file carries them.
    let loaded = runtime().load("again", function.snapshot()).unwrap();
    assert_eq!(loaded.warnings(), warnings);
    assert_eq!(
        authpipe::Runtime::snapshot_warnings(function.snapshot()).unwrap(),
        warnings
    );
    // Inside pipe, randomness is fresh and draws no warning.
    let quiet = compile(
        "random-inside",
        "function pipe(u, c, cb) { u.r = Math.random(); cb(null, u, c); }",
    );
    assert!(quiet.warnings().is_empty());
    let a = run(&quiet, Call::default());
    let b = run(&quiet, Call::default());
    assert_ne!(a.user["r"], b.user["r"]);
}

#[test]
fn reading_env_at_top_level_warns_and_does_not_freeze_it() {
    let function = compile(
        "env-at-top",
        "const early = env.DOMAIN;\nfunction pipe(u, c, cb) { u.early = early === undefined ? null : early; u.late = env.DOMAIN; cb(null, u, c); }",
    );
    assert!(
        function.warnings().iter().any(|w| w.contains("reads env")),
        "{:?}",
        function.warnings()
    );
    let result = run(
        &function,
        Call {
            env: &[("DOMAIN", "example.com")],
            ..Call::default()
        },
    );
    assert_eq!(result.user["early"], json!(null));
    assert_eq!(result.user["late"], "example.com");
}
