//! Auth0 Rules and Actions run unmodified: detection, the rule and action
//! adapters with every `context`/`event`/`api` mapping, and the npm modules
//! they require, with known answers.

use authpipe::fetch::{FetchPolicy, HttpFetcher};
use authpipe::{ErrorKind, Flavor, InvocationResult, Outcome, Pipeline};
use authpipe_tests::{Call, WebServer, runtime, stage};
use serde_json::{Value, json};
use std::sync::{Arc, OnceLock};

/// An Auth0-shaped login: the user as Auth0 stores it, the context of a
/// post-login.
const AUTH0_LOGIN: &str = r#"{
  "user": {
    "user_id": "auth0|5f7c8ec7c33c6c004bbafe82",
    "email": "jane@example.com",
    "email_verified": true,
    "name": "Jane Doe",
    "nickname": "jane",
    "picture": "https://s.gravatar.com/avatar/jane.png",
    "identities": [{"provider": "auth0", "user_id": "5f7c8ec7c33c6c004bbafe82", "connection": "Username-Password-Authentication", "isSocial": false}],
    "app_metadata": {"roles": ["admin", "billing"], "plan": "pro"},
    "user_metadata": {"theme": "dark"},
    "logins_count": 12,
    "roles": ["admin", "billing"]
  },
  "context": {
    "clientID": "Z2xvYmFsLWNsaWVudA",
    "clientName": "Acme Dashboard",
    "clientMetadata": {"tier": "gold"},
    "connection": "Username-Password-Authentication",
    "connectionStrategy": "auth0",
    "protocol": "oidc-basic-profile",
    "sessionID": "sess-42",
    "request": {
      "ip": "203.0.113.7",
      "userAgent": "Mozilla/5.0",
      "hostname": "acme.eu.auth0.com",
      "query": {"scope": "openid profile email", "audience": "https://api.acme.com"},
      "body": {},
      "geoip": {"country_code": "DE", "country_name": "Germany", "city_name": "Berlin"}
    },
    "stats": {"loginsCount": 12},
    "authentication": {"methods": [{"name": "pwd", "timestamp": 1700000000000}]},
    "authorization": {"roles": ["admin", "billing"]}
  }
}"#;

/// The same login in Authing's names.
const AUTHING_LOGIN: &str = r#"{
  "user": {
    "id": "62a0e3f5c4a1b2",
    "email": "jane@example.com",
    "emailVerified": false,
    "photo": "https://files.authing.co/jane.png",
    "loginsCount": 3,
    "roles": [{"code": "admin", "name": "admin"}]
  },
  "context": {
    "appId": "app-1",
    "appName": "Console",
    "ip": "198.51.100.9",
    "protocol": "oidc",
    "request": {
      "headers": {"user-agent": "curl/8.0", "host": "acme.authing.cn"},
      "geo": {"country": "China", "city": "Shanghai"},
      "query": {},
      "body": {}
    }
  }
}"#;

/// Compiles `source` as `flavor` (detected when `None`).
fn compile(source: &str, flavor: Option<Flavor>) -> authpipe::Function {
    runtime()
        .compile_flavored("fn", "fn.js", source, flavor)
        .unwrap_or_else(|e| panic!("compiles: {e}"))
}

/// Runs `source` once on `input` (as part of `trigger`'s pipeline when
/// given) with `env`.
fn run_with(
    source: &str,
    input: &str,
    trigger: Option<&str>,
    env: &[(&str, &str)],
) -> InvocationResult {
    let function = compile(source, None);
    let mut stage = stage(
        &function,
        &Call {
            env,
            ..Call::default()
        },
    );
    if let Some(trigger) = trigger {
        stage = stage.in_trigger(trigger);
    }
    stage.run_blocking(input.as_bytes())
}

fn allowed(source: &str, input: &str) -> InvocationResult {
    let result = run_with(source, input, None, &[]);
    assert_eq!(result.outcome, Outcome::Allow, "{result:#?}");
    result
}

#[test]
fn flavours_are_detected_and_can_be_forced() {
    let rule = "function (user, context, callback) { callback(null, user, context); }";
    let named =
        "function myRule(user, context, callback) {\n  callback(null, user, context);\n};\n";
    let action = "exports.onExecutePostLogin = async (event, api) => {};";
    let authing = "async function pipe(user, context, callback) { callback(null, user, context) }";
    assert_eq!(Flavor::detect(rule), Flavor::Auth0Rule);
    assert_eq!(Flavor::detect(named), Flavor::Auth0Rule);
    assert_eq!(Flavor::detect(action), Flavor::Auth0Action);
    assert_eq!(Flavor::detect(authing), Flavor::Authing);
    for source in [rule, named, action, authing] {
        allowed(source, AUTH0_LOGIN);
    }
    // Forced to the wrong flavour, each is a clear compile error.
    let error = runtime()
        .compile_flavored("fn", "fn.js", authing, Some(Flavor::Auth0Action))
        .unwrap_err()
        .to_string();
    assert!(error.contains("must export a handler"), "{error}");
    let error = runtime()
        .compile_flavored("fn", "fn.js", action, Some(Flavor::Auth0Rule))
        .unwrap_err()
        .to_string();
    assert!(error.contains("fn.js:1"), "{error}");
    let error = runtime()
        .compile_flavored("fn", "fn.js", rule, Some(Flavor::Authing))
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("fn.js:1"),
        "a bare anonymous function is a syntax error: {error}"
    );
}

#[test]
fn a_rule_adds_namespaced_claims_and_scopes_and_keeps_the_rest() {
    let result = allowed(
        r#"function addClaims(user, context, callback) {
          const namespace = 'https://acme.com/';
          context.idToken[namespace + 'roles'] = user.app_metadata.roles;
          context.idToken[namespace + 'client'] = context.clientName;
          context.accessToken[namespace + 'plan'] = user.app_metadata.plan;
          context.accessToken.scope = context.accessToken.scope.concat(['read:reports']);
          callback(null, user, context);
        }"#,
        AUTH0_LOGIN,
    );
    assert_eq!(
        result.claims.id_token,
        json!({"https://acme.com/roles": ["admin", "billing"], "https://acme.com/client": "Acme Dashboard"})
            .as_object()
            .unwrap()
            .clone()
    );
    assert_eq!(result.claims.access_token["https://acme.com/plan"], "pro");
    assert_eq!(
        result.claims.access_token["scope"],
        "openid profile email read:reports"
    );
    let input: Value = serde_json::from_str(AUTH0_LOGIN).unwrap();
    assert_eq!(result.user, input["user"], "the user comes back as it came");
    assert_eq!(
        result.context, input["context"],
        "idToken/accessToken become claims, not context fields"
    );
}

#[test]
fn a_rule_sees_auth0_names_for_an_authing_input_and_writes_back_to_them() {
    let result = allowed(
        r#"function (user, context, callback) {
          user.seen = {
            user_id: user.user_id, email_verified: user.email_verified, picture: user.picture,
            logins: context.stats.loginsCount, roles: context.authorization.roles,
            clientID: context.clientID, clientName: context.clientName, ip: context.request.ip,
            userAgent: context.request.userAgent, hostname: context.request.hostname,
            geoip: context.request.geoip, protocol: context.protocol, metadata: user.app_metadata,
          };
          user.email_verified = true;
          callback(null, user, context);
        }"#,
        AUTHING_LOGIN,
    );
    assert_eq!(
        result.user["seen"],
        json!({
            "user_id": "62a0e3f5c4a1b2", "email_verified": false,
            "picture": "https://files.authing.co/jane.png", "logins": 3, "roles": ["admin"],
            "clientID": "app-1", "clientName": "Console", "ip": "198.51.100.9",
            "userAgent": "curl/8.0", "hostname": "acme.authing.cn",
            "geoip": {"country_name": "China", "city_name": "Shanghai"},
            "protocol": "oidc", "metadata": {},
        })
    );
    assert_eq!(
        result.user["emailVerified"], true,
        "a write to an Auth0 name lands in the Authing field"
    );
    for added in ["email_verified", "user_id", "app_metadata", "picture"] {
        assert!(
            result.user.get(added).is_none(),
            "{added} was only an alias: {}",
            result.user
        );
    }
    let input: Value = serde_json::from_str(AUTHING_LOGIN).unwrap();
    assert_eq!(result.context, input["context"]);
}

#[test]
fn rules_deny_with_unauthorized_error_or_error_and_fail_on_exceptions() {
    let deny = |source: &str| {
        let result = run_with(source, AUTH0_LOGIN, None, &[]);
        assert_eq!(result.outcome, Outcome::Deny, "{result:#?}");
        result.error.unwrap().message
    };
    assert_eq!(
        deny(
            "function (user, context, callback) { return callback(new UnauthorizedError('Access denied: unverified')); }"
        ),
        "Access denied: unverified"
    );
    assert_eq!(
        deny("function (user, context, callback) { callback(new Error('blocked')); }"),
        "blocked"
    );
    let result = run_with(
        "function (user, context, callback) {\n  const x = user.nothing.deeper;\n}",
        AUTH0_LOGIN,
        None,
        &[],
    );
    assert_eq!(result.error.as_ref().unwrap().kind, ErrorKind::Exception);
    assert_eq!(result.error.unwrap().location.unwrap().line, 2);
    let result = run_with(
        "function (user, context, callback) { }",
        AUTH0_LOGIN,
        None,
        &[],
    );
    let error = result.error.unwrap();
    assert_eq!(error.kind, ErrorKind::NoCallback);
    assert!(
        error.message.starts_with("the rule returned"),
        "{}",
        error.message
    );
    // `err instanceof UnauthorizedError` works as in Auth0.
    let result = allowed(
        "function (user, context, callback) { const e = new UnauthorizedError('x'); user.kind = [e instanceof Error, e.name]; callback(null, user, context); }",
        AUTH0_LOGIN,
    );
    assert_eq!(result.user["kind"], json!([true, "UnauthorizedError"]));
}

#[test]
fn rule_globals_configuration_global_and_metadata_updates() {
    let source = r#"function (user, context, callback) {
      user.config = configuration.API_KEY;
      user.globalWas = Object.keys(global).length;
      global.cache = 'set by this call';
      user.user_metadata.locale = 'de';
      auth0.users.updateUserMetadata(user.user_id, user.user_metadata)
        .then(() => auth0.users.updateAppMetadata(user.user_id, { plan: 'enterprise', roles: null }, function (err) {
          if (err) return callback(err);
          user.domain = auth0.domain;
          user.baseUrl = auth0.baseUrl;
          callback(null, user, context);
        }))
        .catch(callback);
    }"#;
    let env = [("API_KEY", "k-123"), ("AUTH0_DOMAIN", "acme.eu.auth0.com")];
    for _ in 0..2 {
        let result = run_with(source, AUTH0_LOGIN, None, &env);
        assert_eq!(result.outcome, Outcome::Allow, "{result:#?}");
        assert_eq!(result.user["config"], "k-123");
        assert_eq!(
            result.user["globalWas"], 0,
            "global starts empty on every call"
        );
        assert_eq!(
            result.user["user_metadata"],
            json!({"theme": "dark", "locale": "de"})
        );
        assert_eq!(
            result.user["app_metadata"],
            json!({"plan": "enterprise"}),
            "keys merge, null deletes"
        );
        assert_eq!(result.user["domain"], "acme.eu.auth0.com");
        assert_eq!(result.user["baseUrl"], "https://acme.eu.auth0.com/api/v2");
    }
}

#[test]
fn metadata_a_rule_stored_before_denying_is_returned() {
    let result = run_with(
        r#"function (user, context, callback) {
          user.app_metadata.is_signup = true;
          auth0.users.updateAppMetadata(user.user_id, user.app_metadata)
            .then(() => callback(new UnauthorizedError('Signup disabled')));
        }"#,
        AUTH0_LOGIN,
        None,
        &[],
    );
    assert_eq!(result.outcome, Outcome::Deny, "{result:#?}");
    assert_eq!(
        result.auth0["app_metadata"],
        json!({"roles": ["admin", "billing"], "plan": "pro", "is_signup": true}),
        "Auth0 stored the update before the denial; so must the identity system"
    );
    // An exception keeps nothing.
    let result = run_with(
        "function (user, context, callback) { auth0.users.updateAppMetadata(user.user_id, {x: 1}).then(() => { throw new Error('boom'); }); }",
        AUTH0_LOGIN,
        None,
        &[],
    );
    assert_eq!(result.outcome, Outcome::Error);
    assert!(result.auth0.is_empty());
}

#[test]
fn multifactor_and_redirect_are_returned_for_the_identity_system() {
    let result = allowed(
        r#"function (user, context, callback) {
          context.multifactor = { provider: 'any', allowRememberBrowser: false };
          context.redirect = { url: 'https://example.com/consent' };
          callback(null, user, context);
        }"#,
        AUTH0_LOGIN,
    );
    assert_eq!(
        Value::Object(result.auth0.clone()),
        json!({
            "multifactor": {"provider": "any", "allowRememberBrowser": false},
            "redirect": {"url": "https://example.com/consent"},
        })
    );
    assert!(result.context.get("multifactor").is_none());
    let plain = allowed("function (u, c, cb) { cb(null, u, c) }", AUTH0_LOGIN);
    let text = serde_json::to_string(&plain).unwrap();
    assert!(
        !text.contains("\"auth0\":"),
        "no auth0 section when empty: {text}"
    );
}

const POST_LOGIN: &str = r#"
exports.onExecutePostLogin = async (event, api) => {
  const ns = 'https://acme.com/';
  if (!event.user.email_verified) {
    return api.access.deny('Please verify your email before logging in.');
  }
  api.idToken.setCustomClaim(ns + 'roles', event.authorization.roles);
  api.accessToken.setCustomClaim(ns + 'client', event.client.client_id);
  api.accessToken.addScope('read:reports');
  api.accessToken.removeScope('email');
  api.user.setAppMetadata('last_ip', event.request.ip);
  api.user.setUserMetadata('theme', undefined);
  api.idToken.setCustomClaim(ns + 'seen', {
    connection: event.connection.name, strategy: event.connection.strategy,
    logins: event.stats.logins_count, country: event.request.geoip.country_code,
    secret: event.secrets.API_KEY, tenant: event.tenant.id, session: event.session.id,
    transaction: event.transaction.requested_scopes, ua: event.request.user_agent,
  });
};
"#;

#[test]
fn a_post_login_action_sets_claims_scopes_and_metadata() {
    let result = run_with(
        POST_LOGIN,
        AUTH0_LOGIN,
        Some("post-authentication"),
        &[("API_KEY", "k-9")],
    );
    assert_eq!(result.outcome, Outcome::Allow, "{result:#?}");
    assert_eq!(
        result.claims.id_token["https://acme.com/roles"],
        json!(["admin", "billing"])
    );
    assert_eq!(
        result.claims.id_token["https://acme.com/seen"],
        json!({
            "connection": "Username-Password-Authentication", "strategy": "auth0", "logins": 12,
            "country": "DE", "secret": "k-9", "tenant": "", "session": "sess-42",
            "transaction": ["openid", "profile", "email"], "ua": "Mozilla/5.0",
        })
    );
    assert_eq!(
        result.claims.access_token["https://acme.com/client"],
        "Z2xvYmFsLWNsaWVudA"
    );
    assert_eq!(
        result.claims.access_token["scope"],
        "openid profile read:reports"
    );
    assert_eq!(
        result.user["app_metadata"],
        json!({"roles": ["admin", "billing"], "plan": "pro", "last_ip": "203.0.113.7"})
    );
    assert_eq!(result.user["user_metadata"], json!({}));

    let unverified = AUTH0_LOGIN.replace("\"email_verified\": true", "\"email_verified\": false");
    let result = run_with(POST_LOGIN, &unverified, Some("post-authentication"), &[]);
    assert_eq!(result.outcome, Outcome::Deny);
    assert_eq!(
        result.error.unwrap().message,
        "Please verify your email before logging in."
    );
}

#[test]
fn the_trigger_picks_the_handler() {
    let source = r#"
      exports.onExecutePostLogin = async (event, api) => { api.idToken.setCustomClaim('ran', 'post-login'); };
      exports.onExecutePreUserRegistration = async (event, api) => {
        if (event.request.body.invite !== 'yes') api.validation.error('invalid_invite', 'An invitation is needed.');
        api.user.setUserMetadata('ran', 'pre-registration');
      };
      exports.onExecutePostUserRegistration = async (event, api) => { console.log('registered', event.user.user_id); };
      exports.onExecuteCredentialsExchange = async (event, api) => {
        api.accessToken.setCustomClaim('ran', 'credentials-exchange');
        if (event.client.client_id === 'blocked') api.access.deny('invalid_request', 'Client blocked.');
      };
    "#;
    let claim = |trigger: &str| {
        let result = run_with(source, AUTH0_LOGIN, Some(trigger), &[]);
        assert_eq!(result.outcome, Outcome::Allow, "{trigger}: {result:#?}");
        result
    };
    for trigger in [
        "post-authentication",
        "pre-oidc-id-token-issued",
        "pre-authentication",
    ] {
        assert_eq!(
            claim(trigger).claims.id_token["ran"],
            "post-login",
            "{trigger}"
        );
    }
    assert_eq!(
        claim("pre-oidc-access-token-issued").claims.access_token["ran"],
        "credentials-exchange"
    );
    let post_register = claim("post-register");
    assert_eq!(
        post_register.stages[0].logs[0].message,
        "registered auth0|5f7c8ec7c33c6c004bbafe82"
    );
    let invited = AUTH0_LOGIN.replace("\"body\": {}", "\"body\": {\"invite\": \"yes\"}");
    let result = run_with(source, &invited, Some("pre-register"), &[]);
    assert_eq!(result.user["user_metadata"]["ran"], "pre-registration");
    let result = run_with(source, AUTH0_LOGIN, Some("pre-register"), &[]);
    assert_eq!(result.outcome, Outcome::Deny);
    assert_eq!(result.error.unwrap().message, "An invitation is needed.");
    let blocked = AUTH0_LOGIN.replace("Z2xvYmFsLWNsaWVudA", "blocked");
    let result = run_with(source, &blocked, Some("pre-oidc-access-token-issued"), &[]);
    assert_eq!(result.error.unwrap().message, "Client blocked.");
    // Outside a pipeline, with several handlers: post-login.
    assert_eq!(
        run_with(source, AUTH0_LOGIN, None, &[]).claims.id_token["ran"],
        "post-login"
    );
    // A trigger with no handler of its own and several exported: an error naming both.
    let result = run_with(source, AUTH0_LOGIN, Some("pre-complete-user-info"), &[]);
    assert_eq!(
        result.outcome,
        Outcome::Allow,
        "pre-complete-user-info runs post-login"
    );
    let only_registration = "exports.onExecutePreUserRegistration = async () => {};\nexports.onExecutePostUserRegistration = async () => {};";
    let result = run_with(
        only_registration,
        AUTH0_LOGIN,
        Some("post-authentication"),
        &[],
    );
    assert_eq!(result.outcome, Outcome::Error);
    assert!(
        result
            .error
            .unwrap()
            .message
            .contains("runs onExecutePostLogin"),
        "the mismatch is explained"
    );
}

#[test]
fn action_multifactor_redirect_authentication_and_cache() {
    let result = run_with(
        r#"exports.onExecutePostLogin = async (event, api) => {
          api.multifactor.enable('duo', { allowRememberBrowser: true });
          api.authentication.challengeWith({ type: 'otp' }, { additionalFactors: [{ type: 'email' }] });
          api.authentication.setPrimaryUser('auth0|primary');
          api.redirect.sendUserTo('https://example.com/profile', { query: { step: 'phone' } });
          const token = api.redirect.encodeToken({ secret: event.secrets.SECRET, payload: { step: 'phone' }, expiresInSeconds: 60 });
          api.cache.set('k', 'v');
          api.idToken.setCustomClaim('cache', [api.cache.get('k').value, api.cache.get('missing') === undefined]);
          api.idToken.setCustomClaim('token_parts', token.split('.').length);
        };
        exports.onContinuePostLogin = async (event, api) => {};"#,
        AUTH0_LOGIN,
        Some("post-authentication"),
        &[("SECRET", "shh")],
    );
    assert_eq!(result.outcome, Outcome::Allow, "{result:#?}");
    assert_eq!(
        Value::Object(result.auth0.clone()),
        json!({
            "multifactor": {"provider": "duo", "allowRememberBrowser": true},
            "authentication": {
                "challenge": {"factor": {"type": "otp"}, "additionalFactors": [{"type": "email"}]},
                "primary_user": "auth0|primary",
            },
            "redirect": {"url": "https://example.com/profile?step=phone"},
        })
    );
    assert_eq!(result.claims.id_token["cache"], json!(["v", true]));
    assert_eq!(result.claims.id_token["token_parts"], 3);
    // The cache lives for one call only.
    let result = run_with(
        "exports.onExecutePostLogin = async (event, api) => { api.idToken.setCustomClaim('had', api.cache.get('k') !== undefined); api.cache.set('k', 'v'); };",
        AUTH0_LOGIN,
        None,
        &[],
    );
    assert_eq!(result.claims.id_token["had"], false);
}

#[test]
fn redirect_tokens_round_trip_and_tampering_is_refused() {
    let source = r#"exports.onExecutePostLogin = async (event, api) => {
      const payload = api.redirect.validateToken({ secret: event.secrets.SECRET, tokenParameterName: 'session_token' });
      api.idToken.setCustomClaim('step', payload.step);
    };"#;
    let issued = run_with(
        r#"exports.onExecutePostLogin = async (event, api) => {
          api.idToken.setCustomClaim('t', api.redirect.encodeToken({ secret: event.secrets.SECRET, payload: { step: 'done' } }));
        };"#,
        AUTH0_LOGIN,
        None,
        &[("SECRET", "shh")],
    );
    let token = issued.claims.id_token["t"].as_str().unwrap().to_string();
    let with_token = |token: &str| {
        AUTH0_LOGIN.replace(
            "\"audience\": \"https://api.acme.com\"",
            &format!("\"audience\": \"https://api.acme.com\", \"session_token\": \"{token}\""),
        )
    };
    let result = run_with(source, &with_token(&token), None, &[("SECRET", "shh")]);
    assert_eq!(result.claims.id_token["step"], "done", "{result:#?}");
    let result = run_with(source, &with_token(&token), None, &[("SECRET", "other")]);
    assert_eq!(result.outcome, Outcome::Error);
    assert!(
        result
            .error
            .unwrap()
            .message
            .contains("signature is invalid")
    );
}

#[test]
fn a_pipeline_mixes_flavours() {
    let rule = compile(
        "function (user, context, callback) { context.idToken['https://acme.com/a'] = 1; user.app_metadata.rule = true; callback(null, user, context); }",
        None,
    );
    let authing = compile(
        "async function pipe(user, context, callback) { user.addIdToken('b', 2); callback(null, user, context); }",
        None,
    );
    let action = compile(
        "exports.onExecutePostLogin = async (event, api) => { api.idToken.setCustomClaim('c', Object.keys(event.user.app_metadata).length); };",
        None,
    );
    let pipeline = Pipeline::new(
        [&rule, &authing, &action]
            .into_iter()
            .map(|f| stage(f, &Call::default()).in_trigger("post-authentication"))
            .collect(),
    );
    let result = pipeline.run_blocking(AUTHING_LOGIN.as_bytes());
    assert_eq!(result.outcome, Outcome::Allow, "{result:#?}");
    assert_eq!(
        Value::Object(result.claims.id_token.clone()),
        json!({"https://acme.com/a": 1, "b": 2, "c": 1})
    );
    assert_eq!(result.user["app_metadata"], json!({"rule": true}));
}

// ------------------------------------------------------------------ modules

fn server() -> &'static WebServer {
    static SERVER: OnceLock<WebServer> = OnceLock::new();
    SERVER.get_or_init(WebServer::start)
}

/// The user an Authing function returns.
fn user_of(source: &str) -> Value {
    allowed(source, AUTH0_LOGIN).user
}

#[test]
fn lodash_moment_and_moment_timezone_are_the_real_packages() {
    let user = user_of(
        r#"const _ = require('lodash');
        async function pipe(user, context, callback) {
          const moment = require('moment');
          const momentTz = require('moment-timezone@0.5');
          callback(null, {
            version: _.VERSION, pinned: require('lodash@4.17.21') === _, get: require('lodash/get')({ a: { b: 7 } }, 'a.b'),
            chunk: _.chunk([1, 2, 3, 4, 5], 2), merged: _.merge({ a: { x: 1 } }, { a: { y: 2 } }),
            picked: _.pick(user, ['email']), intersects: _.intersection(user.app_metadata.roles, ['billing', 'ops']),
            moment: moment.version, added: moment.utc('2024-01-31').add(1, 'month').format('YYYY-MM-DD'),
            diff: moment.utc('2024-03-01').diff(moment.utc('2024-02-01'), 'days'),
            shanghai: momentTz.tz('2024-06-01T12:00:00Z', 'Asia/Shanghai').format('YYYY-MM-DD HH:mm Z'),
            newYork: momentTz.tz('2024-01-15T12:00:00Z', 'America/New_York').format('HH:mm z'),
          }, context);
        }"#,
    );
    assert_eq!(
        user,
        json!({
            "version": "4.17.21", "pinned": true, "get": 7, "chunk": [[1, 2], [3, 4], [5]],
            "merged": {"a": {"x": 1, "y": 2}}, "picked": {"email": "jane@example.com"},
            "intersects": ["billing"], "moment": "2.30.1", "added": "2024-02-29", "diff": 29,
            "shanghai": "2024-06-01 20:00 +08:00", "newYork": "07:00 EST",
        })
    );
    let result = run_with(
        "async function pipe(u, c, cb) { require('lodash@3.10.1'); cb(null, u, c) }",
        AUTH0_LOGIN,
        None,
        &[],
    );
    let message = result.error.unwrap().message;
    assert!(
        message.contains("authpipe bundles lodash 4.17.21, not major version 3"),
        "{message}"
    );
}

#[test]
fn url_querystring_and_uuid_match_node() {
    let user = user_of(
        r#"const url = require('url');
        const querystring = require('querystring');
        const uuid = require('uuid');
        async function pipe(user, context, callback) {
          const parsed = url.parse('https://user:pw@Example.COM:8443/a/b?x=1&y=two#frag', true);
          callback(null, {
            parsed: { protocol: parsed.protocol, auth: parsed.auth, host: parsed.host, hostname: parsed.hostname,
              port: parsed.port, pathname: parsed.pathname, search: parsed.search, query: parsed.query,
              hash: parsed.hash, path: parsed.path, href: parsed.href },
            raw: url.parse('/callback?code=abc').query,
            formatted: url.format({ protocol: 'https', hostname: 'acme.com', pathname: '/cb', query: { a: 'x y', b: ['1', '2'] } }),
            resolved: url.resolve('https://acme.com/a/b', '../c'),
            whatwg: new url.URL('https://acme.com/p?q=1').searchParams.get('q'),
            qs: querystring.stringify({ scope: 'openid email', n: 2 }),
            qsParsed: querystring.parse('a=1&a=2&b=%20x'),
            uuid: [uuid.validate(uuid.v4()), uuid.version(uuid.v4()), require('uuid/v4')() !== uuid.v4(), uuid.validate(uuid())],
            pinnedCore: require('url@0.10.3') === url,
            ip: (() => { const ipaddr = require('ipaddr.js'); const addr = ipaddr.parse('10.1.2.3');
              return [addr.kind(), addr.match(ipaddr.parseCIDR('10.0.0.0/8')), addr.match(ipaddr.parseCIDR('192.168.0.0/16'))]; })(),
          }, context);
        }"#,
    );
    assert_eq!(
        user,
        json!({
            "parsed": {"protocol": "https:", "auth": "user:pw", "host": "example.com:8443",
                "hostname": "example.com", "port": "8443", "pathname": "/a/b", "search": "?x=1&y=two",
                "query": {"x": "1", "y": "two"}, "hash": "#frag", "path": "/a/b?x=1&y=two",
                "href": "https://user:pw@example.com:8443/a/b?x=1&y=two#frag"},
            "raw": "code=abc",
            "formatted": "https://acme.com/cb?a=x%20y&b=1&b=2",
            "resolved": "https://acme.com/c",
            "whatwg": "1",
            "qs": "scope=openid%20email&n=2",
            "qsParsed": {"a": ["1", "2"], "b": " x"},
            "uuid": [true, 4, true, true],
            "pinnedCore": true,
            "ip": ["ipv4", true, false],
        })
    );
}

#[test]
fn jsonwebtoken_hs256_matches_the_known_token_and_round_trips() {
    // jwt.io's example token.
    let known = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c";
    let user = user_of(&format!(
        r#"const jwt = require('jsonwebtoken');
        async function pipe(user, context, callback) {{
          const known = '{known}';
          const made = jwt.sign({{ sub: '1234567890', name: 'John Doe', iat: 1516239022 }}, 'your-256-bit-secret');
          const fresh = jwt.sign({{ sub: user.user_id }}, 'k', {{ expiresIn: '1h', audience: 'api', issuer: 'https://acme/' }});
          const verified = jwt.verify(fresh, 'k', {{ audience: 'api', issuer: 'https://acme/' }});
          const failures = [];
          for (const attempt of [
            () => jwt.verify(fresh, 'wrong'),
            () => jwt.verify(fresh, 'k', {{ audience: 'other' }}),
            () => jwt.verify(jwt.sign({{ exp: 1 }}, 'k'), 'k'),
            () => jwt.verify(fresh, 'k', {{ algorithms: ['RS256'] }}),
            () => jwt.verify('not.a.jwt', 'k'),
          ]) {{
            try {{ attempt(); failures.push('accepted'); }} catch (e) {{ failures.push(e.name + ': ' + e.message); }}
          }}
          jwt.verify(fresh, 'k', (err, payload) => {{
            callback(null, {{
              same: made === known, decoded: jwt.decode(known), header: jwt.decode(known, {{ complete: true }}).header,
              sub: verified.sub, lifetime: verified.exp - verified.iat, failures, callbackForm: err === null && payload.aud === 'api',
            }}, context);
          }});
        }}"#
    ));
    assert_eq!(
        user,
        json!({
            "same": true,
            "decoded": {"sub": "1234567890", "name": "John Doe", "iat": 1516239022},
            "header": {"alg": "HS256", "typ": "JWT"},
            "sub": "auth0|5f7c8ec7c33c6c004bbafe82",
            "lifetime": 3600,
            "failures": [
                "JsonWebTokenError: invalid signature",
                "JsonWebTokenError: jwt audience invalid. expected: other",
                "TokenExpiredError: jwt expired",
                "JsonWebTokenError: invalid algorithm",
                "JsonWebTokenError: invalid token",
            ],
            "callbackForm": true,
        })
    );
}

/// `source` run with `BASE` (the test server's origin) in env, fetching
/// within `allow`.
fn run_fetching(source: &str, allow: &[String]) -> InvocationResult {
    let function = compile(source, None);
    let base = server().url("");
    let mut stage = stage(
        &function,
        &Call {
            env: &[("BASE", &base)],
            ..Call::default()
        },
    );
    stage.fetch = Arc::new(HttpFetcher::new(
        FetchPolicy::new(allow).expect("valid patterns"),
    ));
    stage.run_blocking(AUTH0_LOGIN.as_bytes())
}

#[test]
fn request_and_its_promise_form_go_through_fetch_and_its_allow_list() {
    let source = r#"function (user, context, callback) {
      const request = require('request');
      const rp = require('request-promise');
      const fetch = require('node-fetch');
      request.post({ url: configuration.BASE + '/echo', json: { id: user.user_id }, qs: { a: 1 }, auth: { bearer: 't0k' } },
        function (err, response, body) {
          if (err) return callback(err);
          user.app_metadata.echo = { status: response.statusCode, method: body.method, path: body.path,
            auth: body.headers.authorization, sent: JSON.parse(body.body) };
          rp({ uri: configuration.BASE + '/json', json: true })
            .then((json) => { user.app_metadata.rp = json.n; return rp(configuration.BASE + '/status/404'); })
            .catch((err) => { user.app_metadata.rpError = [err.name, err.statusCode]; })
            .then(() => request.post({ url: configuration.BASE + '/echo', form: { a: 'b c' } }, (err, res, body) => {
              user.app_metadata.form = [JSON.parse(body).headers['content-type'], JSON.parse(body).body];
              return fetch(configuration.BASE + '/hello').then((r) => r.text());
            }))
            .then(() => fetch(configuration.BASE + '/hello'))
            .then((r) => r.text())
            .then((text) => { user.app_metadata.fetched = text; callback(null, user, context); })
            .catch(callback);
        });
    }"#;
    let result = run_fetching(source, &[server().url("/*")]);
    assert_eq!(result.outcome, Outcome::Allow, "{result:#?}");
    assert_eq!(
        result.user["app_metadata"],
        json!({
            "roles": ["admin", "billing"], "plan": "pro",
            "echo": {"status": 200, "method": "POST", "path": "/echo?a=1", "auth": "Bearer t0k",
                "sent": {"id": "auth0|5f7c8ec7c33c6c004bbafe82"}},
            "rp": 42,
            "rpError": ["StatusCodeError", 404],
            "form": ["application/x-www-form-urlencoded", "a=b%20c"],
            "fetched": "hello",
        })
    );
    // Outside the allow-list, the call ends as fetch_denied.
    let result = run_fetching(source, &[server().url("/hello")]);
    assert_eq!(result.outcome, Outcome::Error);
    assert_eq!(result.error.unwrap().kind, ErrorKind::FetchDenied);
}

#[test]
fn slack_notify_posts_to_its_webhook_through_fetch() {
    let source = r#"function (user, context, callback) {
      const slack = require('slack-notify')(configuration.BASE + '/echo');
      slack.alert({ text: 'New login', fields: { user: user.email } }, function (err) {
        if (err) return callback(err);
        slack.send('plain').then(function (body) {
          user.app_metadata.slack = JSON.parse(JSON.parse(body).body);
          callback(null, user, context);
        }, callback);
      });
    }"#;
    let result = run_fetching(source, &[server().url("/echo")]);
    assert_eq!(result.outcome, Outcome::Allow, "{result:#?}");
    assert_eq!(
        result.user["app_metadata"]["slack"],
        json!({"text": "plain"})
    );
    let requests = server().requests();
    assert!(
        requests.iter().filter(|r| *r == "POST /echo").count() >= 2,
        "{requests:?}"
    );
}

#[test]
fn jsonwebtoken_rs256_and_es256_round_trip_with_pem_keys() {
    let fixture = |name: &str| {
        std::fs::read_to_string(authpipe_tests::fixtures_dir().join("jwt").join(name))
            .unwrap_or_else(|e| panic!("{name}: {e}"))
    };
    let known = fixture("rs256-known.txt").trim().to_string();
    let source = r#"const jwt = require('jsonwebtoken');
    async function pipe(user, context, callback) {
      const keys = JSON.parse(env.KEYS);
      const rs = jwt.sign({ sub: 'auth0|known', iat: 1700000000 }, keys.rsa);
      const rsPkcs1 = jwt.sign({ sub: 'auth0|known', iat: 1700000000 }, keys.rsaPkcs1, { algorithm: 'RS256' });
      const ps = jwt.sign({ sub: 'p' }, keys.rsa, { algorithm: 'PS256', expiresIn: 60 });
      const es = jwt.sign({ sub: 'e' }, keys.ec, { algorithm: 'ES256', keyid: 'k1' });
      const esSec1 = jwt.sign({ sub: 'e1' }, keys.ecSec1, { algorithm: 'ES256' });
      let forged;
      try { jwt.verify(rs.slice(0, -4) + 'AAAA', keys.rsaPublic); forged = 'accepted'; } catch (e) { forged = e.message; }
      let wrongKey;
      try { jwt.verify(es, keys.rsaPublic, { algorithms: ['ES256'] }); wrongKey = 'accepted'; } catch (e) { wrongKey = e.name; }
      callback(null, {
        knownAnswer: rs === env.KNOWN, pkcs1Same: rsPkcs1 === rs,
        rs: jwt.verify(env.KNOWN, keys.rsaPublic).sub,
        ps: jwt.verify(ps, keys.rsaPublic, { algorithms: ['PS256'] }).sub,
        es: jwt.verify(es, keys.ecPublic).sub, esHeader: jwt.decode(es, { complete: true }).header,
        esSignatureBytes: Buffer.from(es.split('.')[2], 'base64url').length,
        esSec1: jwt.verify(esSec1, keys.ecPublic).sub,
        forged, wrongKey,
      }, context);
    }"#;
    let keys = json!({
        "rsa": fixture("rsa-private.pem"), "rsaPkcs1": fixture("rsa-private.pkcs1.pem"),
        "rsaPublic": fixture("rsa-public.pem"), "ec": fixture("ec-private.pem"),
        "ecSec1": fixture("ec-private.sec1.pem"), "ecPublic": fixture("ec-public.pem"),
    })
    .to_string();
    let result = run_with(
        source,
        AUTH0_LOGIN,
        None,
        &[("KEYS", &keys), ("KNOWN", &known)],
    );
    assert_eq!(result.outcome, Outcome::Allow, "{result:#?}");
    assert_eq!(
        result.user,
        json!({
            "knownAnswer": true, "pkcs1Same": true, "rs": "auth0|known", "ps": "p", "es": "e",
            "esHeader": {"alg": "ES256", "typ": "JWT", "kid": "k1"}, "esSignatureBytes": 64,
            "esSec1": "e1", "forged": "invalid signature", "wrongKey": "JsonWebTokenError",
        })
    );
}
