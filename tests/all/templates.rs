//! The bundled templates through the real CLI: `authpipe templates`,
//! `authpipe new` and `authpipe test`, passing and failing.

use authpipe_tests::{authpipe_bin, shared_cache_dir, temp_dir};
use std::path::{Path, PathBuf};
use std::process::Output;

fn templates_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../templates")
}

fn template_ids() -> Vec<String> {
    let mut ids: Vec<String> = std::fs::read_dir(templates_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("template.toml").is_file())
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    ids.sort();
    ids
}

fn authpipe(args: &[&str]) -> Output {
    std::process::Command::new(authpipe_bin())
        .args(args)
        .env("AUTHPIPE_CACHE_DIR", shared_cache_dir())
        .env_remove("AUTHPIPE_CONFIG")
        .output()
        .expect("authpipe runs")
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// `authpipe new ID DIR` into a fresh directory; returns its config path.
fn new_project(id: &str) -> PathBuf {
    let dir = temp_dir(&format!("new-{id}")).join("project");
    let output = authpipe(&["new", id, dir.to_str().unwrap()]);
    assert!(output.status.success(), "{}", text(&output));
    dir.join("authpipe.toml")
}

fn last_line(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .last()
        .unwrap_or("")
        .to_string()
}

#[test]
fn every_template_has_metadata_a_function_and_fixtures() {
    let ids = template_ids();
    assert!(ids.len() >= 14, "{ids:?}");
    for id in &ids {
        let dir = templates_dir().join(id);
        assert!(dir.join("function.js").is_file(), "{id}");
        let metadata = std::fs::read_to_string(dir.join("template.toml")).unwrap();
        for key in ["title", "description", "triggers", "use_case"] {
            assert!(metadata.contains(key), "{id}: no {key}");
        }
        let fixtures = std::fs::read_dir(dir.join("fixtures")).unwrap().count();
        assert!(fixtures >= 2, "{id}: {fixtures} fixtures");
    }
}

#[test]
fn templates_lists_every_template_with_its_title() {
    let output = authpipe(&["templates"]);
    assert!(output.status.success(), "{}", text(&output));
    let listing = String::from_utf8_lossy(&output.stdout);
    for id in template_ids() {
        let metadata: String =
            std::fs::read_to_string(templates_dir().join(&id).join("template.toml")).unwrap();
        let title = metadata
            .lines()
            .find_map(|l| l.strip_prefix("title = "))
            .unwrap()
            .trim_matches('"');
        let line = listing
            .lines()
            .find(|l| l.starts_with(&format!("{id} ")))
            .unwrap_or_else(|| panic!("{id} not listed:\n{listing}"));
        assert!(line.contains(title), "{line}");
    }
}

#[test]
fn every_template_passes_its_fixtures_after_authpipe_new() {
    let mut total = 0;
    for id in template_ids() {
        let config = new_project(&id);
        let dir = config.parent().unwrap();
        assert!(dir.join(format!("functions/{id}.js")).is_file());
        let fixtures = std::fs::read_dir(dir.join("fixtures").join(&id))
            .unwrap()
            .count();
        let output = authpipe(&["test", "--config", config.to_str().unwrap()]);
        assert!(output.status.success(), "{id}:\n{}", text(&output));
        assert_eq!(
            last_line(&output),
            format!("{fixtures} passed, 0 failed"),
            "{id}"
        );
        total += fixtures;
    }
    assert!(total >= 40, "only {total} fixtures");
}

#[test]
fn a_failing_expectation_shows_expected_and_actual_and_fails_the_run() {
    let config = new_project("custom-id-token-claims");
    let fixture = config
        .parent()
        .unwrap()
        .join("fixtures/custom-id-token-claims/gold-user.json");
    let edited = std::fs::read_to_string(&fixture)
        .unwrap()
        .replace("\"gold\"", "\"platinum\"");
    std::fs::write(&fixture, edited).unwrap();
    let output = authpipe(&["test", "--config", config.to_str().unwrap()]);
    assert!(!output.status.success());
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("FAIL custom-id-token-claims/gold-user"),
        "{stdout}"
    );
    assert!(
        stdout.contains("expected \"platinum\", got \"gold\""),
        "{stdout}"
    );
    assert!(stdout.contains("actual result: {"), "{stdout}");
    assert_eq!(last_line(&output), "1 passed, 1 failed");
}

#[test]
fn requests_are_asserted_recorded_responses_must_be_used() {
    let config = new_project("slack-notify-on-register");
    let dir = config
        .parent()
        .unwrap()
        .join("fixtures/slack-notify-on-register");
    // The function posts one message; a fixture expecting a different body
    // fails, and so does one whose recorded response is never requested.
    let notified = std::fs::read_to_string(dir.join("notified.json")).unwrap();
    std::fs::write(
        dir.join("wrong-body.json"),
        notified.replace("New user registered to Portal", "Someone registered"),
    )
    .unwrap();
    let mut unused: serde_json::Value = serde_json::from_str(&notified).unwrap();
    unused["input"]["user"] = serde_json::json!({});
    unused["input"]["context"] = serde_json::json!({});
    unused["env"]["SLACK_WEBHOOK"] = serde_json::json!("");
    unused["expect"] = serde_json::json!({"outcome": "allow"});
    std::fs::write(dir.join("unused.json"), unused.to_string()).unwrap();
    let output = authpipe(&["test", "--config", config.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(!output.status.success(), "{stdout}");
    assert!(
        stdout.contains("FAIL slack-notify-on-register/wrong-body"),
        "{stdout}"
    );
    assert!(stdout.contains("fetch[0] body.text: expected"), "{stdout}");
    assert!(
        stdout.contains("FAIL slack-notify-on-register/unused"),
        "{stdout}"
    );
    assert!(stdout.contains("was never requested"), "{stdout}");
    assert_eq!(last_line(&output), "2 passed, 2 failed");
}

#[test]
fn a_fetch_outside_the_allow_list_fails_the_fixture_as_fetch_denied() {
    let config = new_project("slack-notify-on-register");
    let toml = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        toml.replace(
            "https://hooks.slack.com/services/*",
            "https://hooks.slack.com/other/*",
        ),
    )
    .unwrap();
    let output = authpipe(&["test", "--config", config.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(!output.status.success(), "{stdout}");
    assert!(stdout.contains("fetch_denied"), "{stdout}");
    assert_eq!(last_line(&output), "0 passed, 2 failed");
}

#[test]
fn broken_fixtures_and_wrong_triggers_are_reported_with_their_location() {
    let config = new_project("email-domain-allowlist");
    let dir = config
        .parent()
        .unwrap()
        .join("fixtures/email-domain-allowlist");
    std::fs::write(dir.join("broken.json"), "{\n  \"input\": {,\n}").unwrap();
    let allowed = std::fs::read_to_string(dir.join("allowed.json")).unwrap();
    std::fs::write(
        dir.join("wrong-trigger.json"),
        allowed.replace("\"pre-register\"", "\"post-authentication\""),
    )
    .unwrap();
    let output = authpipe(&["test", "--config", config.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(!output.status.success());
    assert!(stdout.contains("broken.json:2:"), "{stdout}");
    assert!(
        stdout.contains("email-domain-allowlist does not run on post-authentication"),
        "{stdout}"
    );
    assert_eq!(last_line(&output), "5 passed, 2 failed");
    // A filter runs a subset.
    let output = authpipe(&["test", "--config", config.to_str().unwrap(), "/denied"]);
    assert!(output.status.success(), "{}", text(&output));
    assert_eq!(last_line(&output), "1 passed, 0 failed");
}

#[test]
fn new_refuses_a_non_empty_directory_and_unknown_templates() {
    let dir = temp_dir("new-occupied");
    std::fs::write(dir.join("keep.txt"), "mine").unwrap();
    let output = authpipe(&["new", "email-domain-allowlist", dir.to_str().unwrap()]);
    assert!(!output.status.success());
    assert!(text(&output).contains("not empty"), "{}", text(&output));
    assert_eq!(
        std::fs::read_to_string(dir.join("keep.txt")).unwrap(),
        "mine"
    );
    assert!(!dir.join("authpipe.toml").exists());

    let output = authpipe(&[
        "new",
        "no-such-template",
        temp_dir("new-unknown").join("x").to_str().unwrap(),
    ]);
    assert!(!output.status.success());
    let message = text(&output);
    assert!(
        message.contains("no template \"no-such-template\""),
        "{message}"
    );
    assert!(
        message.contains("email-domain-allowlist"),
        "lists the templates: {message}"
    );
}

#[test]
fn a_new_project_serves_and_runs_with_the_cli() {
    let config = new_project("email-domain-allowlist");
    let dir = config.parent().unwrap();
    let fixture = dir.join("fixtures/email-domain-allowlist/denied.json");
    let output = authpipe(&[
        "run",
        dir.join("functions/email-domain-allowlist.js")
            .to_str()
            .unwrap(),
        "--input",
        fixture.to_str().unwrap(),
        "--env",
        "ALLOWED_DOMAINS=example.com",
    ]);
    assert!(output.status.success(), "{}", text(&output));
    let result: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        result["outcome"], "deny",
        "a fixture works as --input: {result}"
    );
    let server = authpipe_tests::Server::start(dir, &[]);
    let body = r#"{"user":{"email":"a@example.org"},"context":{"request":{"body":{}}}}"#;
    let answer = server.post("/v1/pipelines/pre-register", body, None);
    assert_eq!(answer.json()["outcome"], "allow", "{}", answer.body);
}

#[test]
fn offline_fixtures_enforce_what_production_enforces() {
    // `authpipe test` refuses what the network fetcher refuses: a loopback
    // name, and headers the host sets itself.
    let dir = authpipe_tests::write_project(
        "test-parity",
        r#"[fetch]
allow = ["http://localhost:9/*", "https://api.example.com/*"]

[[function]]
name = "local"
source = "functions/local.js"

[[function]]
name = "length"
source = "functions/length.js"
"#,
        &[
            (
                "local",
                "async function pipe(u, c, cb) { await fetch('http://localhost:9/x'); cb(null, u, c) }",
            ),
            (
                "length",
                "async function pipe(u, c, cb) { try { await fetch('https://api.example.com/x', { method: 'POST', headers: { 'content-length': '1' }, body: 'x' }) } catch (e) { u.error = e.message } cb(null, u, c) }",
            ),
        ],
    );
    let case = |expect: &str| {
        format!(
            r#"{{"input": {{"user": {{}}, "context": {{}}}}, "fetch": [], "expect": {expect}}}"#
        )
    };
    for (function, expect) in [
        (
            "local",
            r#"{"outcome": "error", "error": {"kind": "fetch_denied", "message": "loopback"}}"#,
        ),
        (
            "length",
            r#"{"outcome": "allow", "user": {"error": "fetch: the \"content-length\" header is set by the host, not by functions"}, "fetch": []}"#,
        ),
    ] {
        let fixtures = dir.join("fixtures").join(function);
        std::fs::create_dir_all(&fixtures).unwrap();
        std::fs::write(fixtures.join("case.json"), case(expect)).unwrap();
    }
    let config = dir.join("authpipe.toml");
    let output = authpipe(&["test", "--config", config.to_str().unwrap()]);
    assert!(output.status.success(), "{}", text(&output));
    assert_eq!(last_line(&output), "2 passed, 0 failed");
}
