//! `authpipe import auth0` through the real CLI: a small Auth0 Deploy CLI
//! export (`a0deploy export --format directory`) becomes a project.

use authpipe_tests::{authpipe_bin, temp_dir};
use serde_json::Value;
use std::path::Path;
use std::process::Output;

fn authpipe(args: &[&str]) -> Output {
    std::process::Command::new(authpipe_bin())
        .args(args)
        .env("AUTHPIPE_CACHE_DIR", temp_dir("import-cache"))
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

fn write(dir: &Path, path: &str, text: &str) {
    let path = dir.join(path);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

const NAMED_RULE: &str = r#"function addRolesToTokens(user, context, callback) {
  const namespace = 'https://myapp.example.com/';
  const assignedRoles = (context.authorization || {}).roles || [];
  context.idToken[namespace + 'roles'] = assignedRoles;
  context.accessToken[namespace + 'roles'] = assignedRoles;
  callback(null, user, context);
}
"#;

const ANONYMOUS_RULE: &str = r#"function (user, context, callback) {
  if (!user.email_verified) {
    return callback(new UnauthorizedError('Please verify your email before logging in.'));
  }
  const namespace = configuration.CLAIM_NAMESPACE || 'https://myapp.example.com/';
  context.idToken[namespace + 'plan'] = (user.app_metadata || {}).plan || 'free';
  callback(null, user, context);
}
"#;

const ACTION: &str = r#"/**
 * @param {Event} event - Details about the user and the context in which they are logging in.
 * @param {PostLoginAPI} api - Interface whose methods can be used to change the behavior of the login.
 */
exports.onExecutePostLogin = async (event, api) => {
  if (!event.secrets.AUDIT_TOKEN) return;
  api.user.setAppMetadata('last_client', event.client.name);
  api.idToken.setCustomClaim('https://myapp.example.com/logins', event.stats.logins_count);
};
"#;

/// The export: two rules (one anonymous, using a rules-config), a post-login
/// action bound in triggers.json with a secret and two dependencies (one
/// bundled, one not), and a rules-config.
fn export_dir() -> std::path::PathBuf {
    let dir = temp_dir("import-auth0").join("tenant");
    write(
        &dir,
        "rules/Add roles to tokens.json",
        r#"{
  "enabled": true,
  "name": "Add roles to tokens",
  "order": 1,
  "script": "./Add roles to tokens.js",
  "stage": "login_success"
}"#,
    );
    write(&dir, "rules/Add roles to tokens.js", NAMED_RULE);
    write(
        &dir,
        "rules/Require-verified-email.json",
        r#"{
  "enabled": true,
  "name": "Require-verified-email",
  "order": 2,
  "script": "./Require-verified-email.js",
  "stage": "login_success"
}"#,
    );
    write(&dir, "rules/Require-verified-email.js", ANONYMOUS_RULE);
    write(
        &dir,
        "rules-configs/CLAIM_NAMESPACE.json",
        r#"{ "key": "CLAIM_NAMESPACE", "value": "https://claims.acme.test/" }"#,
    );
    write(
        &dir,
        "actions/Record last client.json",
        r#"{
  "name": "Record last client",
  "code": "./actions/Record last client/code.js",
  "runtime": "node18",
  "status": "built",
  "dependencies": [
    { "name": "lodash", "version": "4.17.21" },
    { "name": "stripe", "version": "12.0.0" }
  ],
  "secrets": [{ "name": "AUDIT_TOKEN", "value": "_VALUE_NOT_SHOWN_" }],
  "supported_triggers": [{ "id": "post-login", "version": "v3" }],
  "deployed": true
}"#,
    );
    write(&dir, "actions/Record last client/code.js", ACTION);
    write(
        &dir,
        "triggers/triggers.json",
        r#"{
  "post-login": [{ "action_name": "Record last client", "display_name": "Record last client" }],
  "credentials-exchange": [],
  "pre-user-registration": [],
  "post-user-registration": [],
  "post-change-password": [],
  "send-phone-message": []
}"#,
    );
    dir
}

/// The `[[function]]` table the import writes for one function.
fn table(name: &str, order: u32, flavor: &str) -> String {
    format!(
        "[[function]]\nname = \"{name}\"\nsource = \"functions/{name}.js\"\n\
         triggers = [\"post-authentication\"]\norder = {order}\nenabled = true\nflavor = \"{flavor}\"\n"
    )
}

#[test]
fn an_auth0_export_becomes_a_project_with_its_secrets_left_in_the_environment() {
    let export = export_dir();
    let out = export.parent().unwrap().join("project");
    let output = authpipe(&[
        "import",
        "auth0",
        export.to_str().unwrap(),
        "--output",
        out.to_str().unwrap(),
    ]);
    assert!(output.status.success(), "{}", text(&output));

    let config = std::fs::read_to_string(out.join("authpipe.toml")).unwrap();
    for expected in [
        table("add-roles-to-tokens", 1, "auth0-rule"),
        table("require-verified-email", 2, "auth0-rule"),
        table("record-last-client", 3, "auth0-action"),
        "CLAIM_NAMESPACE = { from_env = \"CLAIM_NAMESPACE\" }\n".into(),
        "AUDIT_TOKEN = { from_env = \"AUDIT_TOKEN\" }\n".into(),
        "allow = []\n".into(),
    ] {
        assert!(config.contains(&expected), "{expected}\nnot in:\n{config}");
    }
    assert!(!config.contains("claims.acme.test"), "{config}");
    assert!(!config.contains("_VALUE_NOT_SHOWN_"), "{config}");

    for (name, source) in [
        ("add-roles-to-tokens", NAMED_RULE),
        ("require-verified-email", ANONYMOUS_RULE),
        ("record-last-client", ACTION),
    ] {
        let written = std::fs::read_to_string(out.join(format!("functions/{name}.js"))).unwrap();
        assert_eq!(written, source, "{name}");
        let fixture: Value = serde_json::from_str(
            &std::fs::read_to_string(out.join(format!("fixtures/{name}/login.json"))).unwrap(),
        )
        .unwrap();
        assert_eq!(fixture["trigger"], "post-authentication", "{name}");
        assert_eq!(fixture["expect"], serde_json::json!({"outcome": "allow"}));
        let user = &fixture["input"]["user"];
        assert!(user["user_id"].as_str().unwrap().starts_with("auth0|"));
        assert_eq!(user["email_verified"], true);
        assert_eq!(user["identities"][0]["provider"], "auth0");
        let context = &fixture["input"]["context"];
        assert_eq!(context["connectionStrategy"], "auth0");
        assert!(context["request"]["geoip"]["country_code"].is_string());
    }
    let action_fixture =
        std::fs::read_to_string(out.join("fixtures/record-last-client/login.json")).unwrap();
    assert!(
        action_fixture.contains("\"AUDIT_TOKEN\""),
        "{action_fixture}"
    );

    let report = String::from_utf8_lossy(&output.stdout);
    for expected in [
        "imported 3 function(s)",
        "rule   \"Add roles to tokens\" -> add-roles-to-tokens (post-authentication, order 1)",
        "rule   \"Require-verified-email\" -> require-verified-email (post-authentication, order 2)",
        "action \"Record last client\" -> record-last-client (post-authentication, order 3)",
        "CLAIM_NAMESPACE ",
        "AUDIT_TOKEN ",
        "not carried over:",
        "stripe@12.0.0",
        "rule require-verified-email: can deny the login",
    ] {
        assert!(report.contains(expected), "{expected:?} not in:\n{report}");
    }
    assert!(!report.contains("lodash@"), "{report}");
    assert!(!report.contains("claims.acme.test"), "{report}");

    // The imported rules and action pass their fixtures unmodified.
    let tested = std::process::Command::new(authpipe_bin())
        .args([
            "test",
            "--config",
            out.join("authpipe.toml").to_str().unwrap(),
        ])
        .env("AUTHPIPE_CACHE_DIR", temp_dir("import-cache"))
        .env("CLAIM_NAMESPACE", "https://claims.example.com/")
        .env("AUDIT_TOKEN", "audit-token")
        .output()
        .expect("authpipe test runs");
    assert!(tested.status.success(), "{}", text(&tested));
    assert!(
        text(&tested).contains("3 passed, 0 failed"),
        "{}",
        text(&tested)
    );

    // A second import into the same directory is refused, and changes nothing.
    let again = authpipe(&[
        "import",
        "auth0",
        export.to_str().unwrap(),
        "--output",
        out.to_str().unwrap(),
    ]);
    assert!(!again.status.success());
    assert!(text(&again).contains("is not empty"), "{}", text(&again));
    assert_eq!(
        std::fs::read_to_string(out.join("authpipe.toml")).unwrap(),
        config
    );
}
