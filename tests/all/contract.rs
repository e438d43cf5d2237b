//! The JavaScript function contract: callback rules, env, logs, helpers.

use authpipe::{ErrorKind, LogLevel, Outcome};
use authpipe_tests::{Call, INPUT, compile, run, run_env, run_fixture};
use serde_json::json;

#[test]
fn allow_passes_the_changed_user_on() {
    let result = run_fixture("allow");
    assert_eq!(result.outcome, Outcome::Allow);
    assert_eq!(result.user["seen"], json!(true));
    assert_eq!(result.user["email"], json!("alice@example.com"));
    assert_eq!(result.context["request"]["ip"], json!("10.0.0.1"));
    assert!(result.error.is_none());
    assert_eq!(result.stages.len(), 1);
    assert_eq!(result.stages[0].function, "allow");
    assert!(result.stages[0].fuel > 0 && result.stages[0].memory_bytes > 0);
}

#[test]
fn allowed_domain_is_allowed_and_gets_a_claim() {
    let deny = compile("deny");
    let result = run_env(&deny, &[("ALLOWED_DOMAIN", "example.com")]);
    assert_eq!(result.outcome, Outcome::Allow, "{result:?}");
    assert_eq!(result.claims.id_token["tier"], json!("gold"));
}

#[test]
fn other_domain_is_denied_with_the_functions_message() {
    let deny = compile("deny");
    let result = run_env(&deny, &[("ALLOWED_DOMAIN", "corp.example")]);
    assert_eq!(result.outcome, Outcome::Deny);
    let error = result.error.expect("deny carries an error");
    assert_eq!(error.kind, ErrorKind::Denied);
    assert_eq!(error.message, "Access denied.");
    assert_eq!(error.function.as_deref(), Some("deny"));
    assert!(
        result.claims.id_token.is_empty(),
        "claims of a denying stage are dropped"
    );
    assert_eq!(
        result.user["email"],
        json!("alice@example.com"),
        "user is the input's on deny"
    );
}

#[test]
fn async_pipe_allows_after_await() {
    let result = run_fixture("async_allow");
    assert_eq!(result.outcome, Outcome::Allow, "{result:?}");
    assert_eq!(result.user["tier"], json!("gold"));
}

#[test]
fn a_throw_is_an_exception_pointing_at_the_users_line() {
    let result = run_fixture("throws");
    assert_eq!(result.outcome, Outcome::Error);
    let error = result.error.expect("error");
    assert_eq!(error.kind, ErrorKind::Exception);
    assert!(error.message.contains("TypeError"), "{}", error.message);
    let stack = error.stack.expect("exceptions carry a stack");
    assert!(
        stack.contains("throws.js:3:"),
        "stack should point at line 3: {stack}"
    );
}

#[test]
fn a_rejection_is_an_exception_with_its_message() {
    let result = run_fixture("rejects");
    assert_eq!(result.outcome, Outcome::Error);
    let error = result.error.expect("error");
    assert_eq!(error.kind, ErrorKind::Exception);
    assert!(
        error.message.contains("RangeError: quota exceeded"),
        "{}",
        error.message
    );
    assert!(error.stack.unwrap_or_default().contains("rejects.js:3:"));
}

#[test]
fn settling_without_callback_is_no_callback() {
    let result = run_fixture("no_callback");
    assert_eq!(result.outcome, Outcome::Error);
    assert_eq!(result.error.expect("error").kind, ErrorKind::NoCallback);
    assert!(
        result.user.get("forgot").is_none(),
        "an erroring stage does not pass its changes on"
    );
}

#[test]
fn a_promise_that_never_settles_is_no_callback() {
    let result = run_fixture("pending_forever");
    let error = result.error.expect("error");
    assert_eq!(error.kind, ErrorKind::NoCallback);
    assert!(error.message.contains("never settles"), "{}", error.message);
}

#[test]
fn the_first_callback_wins_and_later_ones_are_warned_about() {
    let result = run_fixture("double_callback");
    assert_eq!(result.outcome, Outcome::Allow);
    assert_eq!(result.user["first"], json!(true));
    let logs = &result.stages[0].logs;
    assert!(
        logs.iter()
            .any(|l| l.level == LogLevel::Warn && l.message.contains("more than once")),
        "{logs:?}"
    );
}

#[test]
fn env_is_readable_and_read_only() {
    let function = compile("env");
    let result = run_env(&function, &[("ALLOWED_DOMAIN", "example.com")]);
    assert_eq!(result.outcome, Outcome::Allow, "{result:?}");
    assert_eq!(result.user["domain"], json!("example.com"));
    assert_eq!(result.user["missing"], json!(true));
    assert_eq!(result.user["after_write"], json!("example.com"));
}

#[test]
fn the_host_environment_is_not_visible() {
    assert!(
        std::env::var_os("PATH").is_some(),
        "the test process has a PATH"
    );
    let function = authpipe_tests::runtime()
        .compile("hostenv", "function pipe(u, c, cb) { u.path = env.PATH; u.keys = Object.keys(env); cb(null, u, c) }")
        .expect("compiles");
    let result = run_env(&function, &[("ONLY", "this")]);
    assert_eq!(
        result.user.get("path"),
        None,
        "PATH must not leak: {:?}",
        result.user
    );
    assert_eq!(result.user["keys"], json!(["ONLY"]));
}

#[test]
fn logs_are_captured_with_levels() {
    let result = run_fixture("logs");
    let logs: Vec<(LogLevel, &str)> = result.stages[0]
        .logs
        .iter()
        .map(|l| (l.level, l.message.as_str()))
        .collect();
    assert_eq!(
        logs,
        vec![
            (LogLevel::Info, "plain log 42"),
            (LogLevel::Info, "console.log { a: 1 }"),
            (LogLevel::Info, "info line"),
            (LogLevel::Warn, "warn line"),
            (LogLevel::Error, "error line"),
            (LogLevel::Debug, "debug line"),
        ]
    );
}

#[test]
fn logs_over_the_cap_are_truncated_with_a_marker() {
    let result = run_fixture("log_flood");
    assert_eq!(result.outcome, Outcome::Allow);
    let logs = &result.stages[0].logs;
    let kept: usize = logs[..logs.len() - 1].iter().map(|l| l.message.len()).sum();
    assert!(kept <= authpipe::MAX_LOG_BYTES, "kept {kept} bytes");
    assert!(kept > authpipe::MAX_LOG_BYTES / 2, "kept only {kept} bytes");
    let marker = logs.last().expect("marker");
    assert_eq!(marker.level, LogLevel::Warn);
    assert!(marker.message.contains("truncated"), "{marker:?}");
}

#[test]
fn logs_under_the_cap_have_no_marker() {
    let result = run_fixture("logs");
    assert!(
        !result.stages[0]
            .logs
            .iter()
            .any(|l| l.message.contains("truncated"))
    );
}

#[test]
fn claims_and_custom_data_are_collected_not_serialised_as_user_fields() {
    let result = run_fixture("claims");
    assert_eq!(result.outcome, Outcome::Allow, "{result:?}");
    assert_eq!(
        result.claims.id_token,
        json!({"tier": "gold"}).as_object().unwrap().clone()
    );
    assert_eq!(
        result.claims.access_token["scope"],
        json!(["read", "write"])
    );
    assert_eq!(result.custom_data["lastIp"], json!("10.0.0.7"));
    let user = result.user.as_object().unwrap();
    assert_eq!(
        user.keys().collect::<Vec<_>>(),
        vec!["id", "email"],
        "helpers are not user fields"
    );
}

#[test]
fn ip_helpers_handle_ranges_and_cidrs() {
    let result = run_fixture("ip_utils");
    assert_eq!(result.user["in_range"], json!(true));
    assert_eq!(result.user["out_of_range"], json!(false));
    assert_eq!(result.user["in_cidr"], json!(true));
    assert_eq!(result.user["v6_in_cidr"], json!(true));
    assert_eq!(result.user["v6_out"], json!(false));
}

#[test]
fn bad_input_json_is_invalid_input() {
    let function = compile("allow");
    for (input, needle) in [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "JSON object"),
        (r#"{"user": {}}"#, "input.context"),
        (r#"{"user": "u1", "context": {}}"#, "input.user"),
    ] {
        let result = run(
            &function,
            Call {
                input: Some(input),
                ..Call::default()
            },
        );
        assert_eq!(result.outcome, Outcome::Error, "{input}");
        let error = result.error.expect("error");
        assert_eq!(error.kind, ErrorKind::InvalidInput, "{input}");
        assert!(error.message.contains(needle), "{input}: {}", error.message);
    }
}

#[test]
fn input_over_one_mib_is_invalid_input() {
    let function = compile("allow");
    let big = format!(
        r#"{{"user":{{"blob":"{}"}},"context":{{}}}}"#,
        "x".repeat(authpipe::MAX_INPUT_BYTES)
    );
    let result = run(
        &function,
        Call {
            input: Some(&big),
            ..Call::default()
        },
    );
    assert_eq!(result.error.expect("error").kind, ErrorKind::InvalidInput);
    // Just under the cap is fine.
    let fits = format!(
        r#"{{"user":{{"blob":"{}"}},"context":{{}}}}"#,
        "x".repeat(authpipe::MAX_INPUT_BYTES - 1024)
    );
    let result = run(
        &function,
        Call {
            input: Some(&fits),
            ..Call::default()
        },
    );
    assert_eq!(result.outcome, Outcome::Allow, "{:?}", result.error);
}

#[test]
fn a_syntax_error_reports_line_and_column() {
    let error = authpipe_tests::runtime()
        .compile("syntax_error", &authpipe_tests::source("syntax_error"))
        .expect_err("must not compile");
    match &error {
        authpipe::CompileError::Source {
            file, line, column, ..
        } => {
            assert_eq!(file, "syntax_error.js");
            assert_eq!(*line, Some(2));
            assert!(column.is_some());
        }
        other => panic!("expected a source error, got {other:?}"),
    }
    assert!(
        error.to_string().starts_with("syntax_error.js:2:"),
        "{error}"
    );
}

#[test]
fn a_source_without_pipe_does_not_compile() {
    let error = authpipe_tests::runtime()
        .compile("nopipe", "const x = 1;")
        .expect_err("no pipe");
    assert!(error.to_string().contains("must define"), "{error}");
}

#[test]
fn unchanged_input_round_trips() {
    let result = run_fixture("allow");
    let input: serde_json::Value = serde_json::from_str(INPUT).unwrap();
    assert_eq!(result.context, input["context"]);
}
