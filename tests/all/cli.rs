//! The `authpipe` command line, as a user runs it.

use authpipe::{InvocationResult, Outcome};
use authpipe_tests::{authpipe_bin, fixtures_dir, temp_dir};
use std::io::Write;
use std::process::{Command, Output, Stdio};

fn authpipe(args: &[&str], stdin: Option<&str>) -> Output {
    let cache = temp_dir("cli-cache");
    let mut child = Command::new(authpipe_bin())
        .args(args)
        .env("AUTHPIPE_CACHE_DIR", &cache)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("authpipe runs");
    let mut pipe = child.stdin.take().unwrap();
    if let Some(stdin) = stdin {
        pipe.write_all(stdin.as_bytes()).unwrap();
    }
    drop(pipe);
    child.wait_with_output().unwrap()
}

fn fixture(name: &str) -> String {
    fixtures_dir().join(name).display().to_string()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn compile_then_run_the_wasm() {
    let dir = temp_dir("cli-compile");
    let wasm = dir.join("deny.wasm");
    let wasm = wasm.to_str().unwrap();
    let output = authpipe(&["compile-function", &fixture("deny.js"), "-o", wasm], None);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(std::fs::metadata(wasm).unwrap().len() > 100_000);

    let output = authpipe(
        &[
            "run",
            wasm,
            "--input",
            &fixture("input.json"),
            "--env",
            "ALLOWED_DOMAIN=example.com",
        ],
        None,
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let result: InvocationResult = serde_json::from_slice(&output.stdout).expect("result JSON");
    assert_eq!(result.outcome, Outcome::Allow);
    assert_eq!(result.claims.id_token["tier"], "gold");
    assert_eq!(result.stages[0].function, "deny");
}

#[test]
fn run_reads_stdin_and_reports_a_deny() {
    let input = std::fs::read_to_string(fixtures_dir().join("input.json")).unwrap();
    let output = authpipe(
        &[
            "run",
            &fixture("deny.js"),
            "--input",
            "-",
            "--env",
            "ALLOWED_DOMAIN=corp.example",
        ],
        Some(&input),
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let result: InvocationResult = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(result.outcome, Outcome::Deny);
    assert_eq!(result.error.unwrap().message, "Access denied.");
}

#[test]
fn run_applies_limits_from_flags() {
    let output = authpipe(
        &[
            "run",
            &fixture("infinite_loop.js"),
            "--input",
            &fixture("input.json"),
            "--timeout-ms",
            "50",
            "--fuel",
            "10000000000",
        ],
        None,
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let result: InvocationResult = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(result.error.unwrap().kind, authpipe::ErrorKind::Timeout);
}

#[test]
fn syntax_error_exits_non_zero_with_file_line_col() {
    let path = fixture("syntax_error.js");
    let dir = temp_dir("cli-syntax");
    let out = dir.join("x.wasm");
    let output = authpipe(
        &["compile-function", &path, "-o", out.to_str().unwrap()],
        None,
    );
    assert!(!output.status.success());
    let text = stderr(&output);
    assert!(text.starts_with(&format!("{path}:2:")), "{text}");
    assert!(text.contains("SyntaxError"), "{text}");
    assert!(!out.exists(), "nothing is written on error");

    let output = authpipe(&["run", &path, "--input", &fixture("input.json")], None);
    assert!(!output.status.success());
    assert!(stderr(&output).starts_with(&format!("{path}:2:")));
}

#[test]
fn out_of_range_limits_are_refused() {
    let output = authpipe(
        &[
            "run",
            &fixture("allow.js"),
            "--input",
            &fixture("input.json"),
            "--timeout-ms",
            "0",
        ],
        None,
    );
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("timeout_ms = 0 is out of range"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn missing_files_are_named() {
    let output = authpipe(
        &[
            "run",
            "/nonexistent/fn.js",
            "--input",
            &fixture("input.json"),
        ],
        None,
    );
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("/nonexistent/fn.js"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn bench_json_reports_the_figures() {
    let output = authpipe(
        &[
            "bench",
            &fixture("deny.js"),
            "--env",
            "ALLOWED_DOMAIN=example.com",
            "-n",
            "200",
            "--json",
        ],
        None,
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let report: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("one JSON object");
    for key in [
        "p50_us",
        "p90_us",
        "p99_us",
        "calls_per_sec",
        "fuel_per_call",
        "compile_ms",
    ] {
        assert!(
            report[key].as_f64().is_some_and(|v| v > 0.0),
            "{key} in {report}"
        );
    }
    assert_eq!(report["calls"], 200);
    assert_eq!(report["outcome"], "allow");
    assert!(report["p50_us"].as_f64() <= report["p99_us"].as_f64());
}

#[test]
fn unbounded_inputs_fail_at_once() {
    let started = std::time::Instant::now();
    let output = authpipe(
        &["run", "/dev/zero", "--input", &fixture("input.json")],
        None,
    );
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("larger than 4194304 bytes"),
        "{}",
        stderr(&output)
    );

    let output = authpipe(&["run", &fixture("allow.js"), "--input", "/dev/zero"], None);
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("larger than 1048576 bytes"),
        "{}",
        stderr(&output)
    );

    let dir = temp_dir("cli-dev-zero");
    std::fs::write(
        dir.join("authpipe.toml"),
        "[[function]]\nname = \"zero\"\nsource = \"/dev/zero\"\n",
    )
    .unwrap();
    let config = dir.join("authpipe.toml");
    let output = authpipe(&["test", "--config", config.to_str().unwrap()], None);
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("larger than 4194304 bytes"),
        "{}",
        stderr(&output)
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
}

#[test]
fn fetch_refusals_on_the_command_line_name_the_flag_and_hide_the_query() {
    let dir = temp_dir("cli-fetch-words");
    let source = dir.join("risk.js");
    std::fs::write(
        &source,
        "async function pipe(u, c, cb) { await fetch('https://risk.example.com/check?email=alice%40example.com#frag'); cb(null, u, c); }",
    )
    .unwrap();
    let output = authpipe(
        &[
            "run",
            source.to_str().unwrap(),
            "--input",
            &fixture("input.json"),
        ],
        None,
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let result: InvocationResult = serde_json::from_slice(&output.stdout).unwrap();
    let message = &result.error.unwrap().message;
    assert!(message.contains("--allow-fetch"), "{message}");
    assert!(!message.contains("[fetch] allow"), "{message}");
    assert!(
        !message.contains("alice") && !message.contains("frag") && !message.contains('?'),
        "{message}"
    );
}

#[test]
fn top_level_randomness_is_reported_when_compiling() {
    let dir = temp_dir("cli-warnings");
    let source = dir.join("seeded.js");
    std::fs::write(
        &source,
        "const id = crypto.randomUUID();\nfunction pipe(u, c, cb) { u.id = id; cb(null, u, c); }\n",
    )
    .unwrap();
    let output = authpipe(&["compile-function", source.to_str().unwrap()], None);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("warning: seeded.js:1:")
            && stderr(&output).contains("crypto.randomUUID()"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn the_cache_stays_within_its_size_and_can_be_pruned() {
    let cache = temp_dir("cli-cache-prune");
    let run_with_cap = |source: &str, cap: &str| {
        let dir = temp_dir("cli-cache-src");
        let file = dir.join("f.js");
        std::fs::write(&file, source).unwrap();
        let output = Command::new(authpipe_bin())
            .args([
                "run",
                file.to_str().unwrap(),
                "--input",
                &fixture("input.json"),
            ])
            .env("AUTHPIPE_CACHE_DIR", &cache)
            .env("AUTHPIPE_CACHE_MAX_BYTES", cap)
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", stderr(&output));
    };
    let size = || -> u64 {
        std::fs::read_dir(&cache)
            .unwrap()
            .map(|e| e.unwrap().metadata().unwrap().len())
            .sum()
    };
    // The shared engine code (several MB) plus one snapshot per function.
    for i in 0..3 {
        run_with_cap(
            &format!("function pipe(u, c, cb) {{ u.n = {i}; cb(null, u, c) }}"),
            "1G",
        );
    }
    let full = size();
    let entries = std::fs::read_dir(&cache).unwrap().count();
    assert!(entries >= 4, "{entries} entries");
    // A cap below the current size evicts the least recently used entries.
    run_with_cap(
        "function pipe(u, c, cb) { u.n = 'new'; cb(null, u, c) }",
        &(full - 1).to_string(),
    );
    assert!(size() <= full, "{} > {full}", size());

    let output = Command::new(authpipe_bin())
        .args(["cache", "prune", "--all"])
        .env("AUTHPIPE_CACHE_DIR", &cache)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(String::from_utf8_lossy(&output.stdout).contains("0 entries (0 bytes) kept"));
    assert_eq!(size(), 0);
}

/// A project whose function fetches a webhook and reads `env.GREETING`,
/// with one fixture that records the webhook's answer.
fn fixture_project() -> std::path::PathBuf {
    let dir = temp_dir("cli-run-project");
    std::fs::create_dir_all(dir.join("fixtures/greet")).unwrap();
    std::fs::write(
        dir.join("authpipe.toml"),
        "[env]\nGREETING = \"hello\"\n\n[fetch]\nallow = [\"https://hooks.example.com/*\"]\n\n\
         [[function]]\nname = \"greet\"\nsource = \"greet.js\"\ntriggers = [\"pre-register\"]\ntimeout_ms = 1500\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("greet.js"),
        "async function pipe(user, context, callback) {\n  const answer = await fetch('https://hooks.example.com/x', { method: 'POST', body: 'hi' });\n  user.greeting = `${env.GREETING} ${await answer.text()}`;\n  callback(null, user, context);\n}\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("fixtures/greet/recorded.json"),
        r#"{"env": {"GREETING": "hey"}, "input": {"user": {}, "context": {}},
            "fetch": [{"request": {"method": "POST", "url": "https://hooks.example.com/*"}, "response": {"status": 200, "body": "there"}}],
            "expect": {"outcome": "allow", "user": {"greeting": "hey there"}}}"#,
    )
    .unwrap();
    dir
}

#[test]
fn run_with_a_fixture_and_a_configured_function() {
    let dir = fixture_project();
    let config = dir.join("authpipe.toml");
    let recorded = dir.join("fixtures/greet/recorded.json");
    let output = authpipe(
        &[
            "run",
            "--config",
            config.to_str().unwrap(),
            "--function",
            "greet",
            "--fixture",
            recorded.to_str().unwrap(),
        ],
        None,
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let result: InvocationResult = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(result.outcome, Outcome::Allow, "{result:#?}");
    assert_eq!(result.user["greeting"], "hey there");

    // The file alone, with the fixture: the recording answers the fetch.
    let output = authpipe(
        &[
            "run",
            dir.join("greet.js").to_str().unwrap(),
            "--fixture",
            recorded.to_str().unwrap(),
        ],
        None,
    );
    let result: InvocationResult = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(result.user["greeting"], "hey there", "{}", stderr(&output));

    // An unknown function name lists the configuration's functions.
    let output = authpipe(
        &[
            "run",
            "--config",
            config.to_str().unwrap(),
            "--function",
            "nope",
        ],
        Some("{}"),
    );
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("its functions: greet"),
        "{}",
        stderr(&output)
    );

    // A filter that matches no case fails, saying so.
    let output = authpipe(&["test", "--config", config.to_str().unwrap(), "zzz"], None);
    assert!(!output.status.success());
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("no test case matches \"zzz\""), "{stdout}");
    let output = authpipe(
        &["test", "--config", config.to_str().unwrap(), "greet"],
        None,
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
}

#[test]
fn run_prints_a_code_frame_for_a_runtime_error() {
    let dir = temp_dir("cli-code-frame");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("broken.js");
    std::fs::write(
        &file,
        "function pipe(user, context, callback) {\n  const a = 1;\n  return user.profile.name;\n}\n",
    )
    .unwrap();
    let output = authpipe(
        &["run", file.to_str().unwrap()],
        Some(r#"{"user":{},"context":{}}"#),
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stderr(&output);
    assert!(text.contains("--> broken.js:3:23"), "{text}");
    assert!(text.contains("3 |   return user.profile.name;"), "{text}");
    assert!(text.contains("  |                       ^"), "{text}");
}
