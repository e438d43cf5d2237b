//! Authing Pipeline compatibility without the network: `require`,
//! `querystring`, `utils`, and the shape of the globals.

use authpipe::Outcome;
use authpipe_tests::{Call, run, runtime};
use serde_json::{Value, json};

fn user_after(source: &str) -> Value {
    let function = runtime().compile("authing", source).expect("compiles");
    let result = run(&function, Call::default());
    assert_eq!(result.outcome, Outcome::Allow, "{result:#?}");
    result.user
}

#[test]
fn require_gives_utils_querystring_and_axios() {
    let user = user_after(
        r#"const utils2 = require('./utils');
        const qs = require('querystring');
        function pipe(user, context, callback) {
            user.inRange = utils2.ipRangeCheck('10.0.0.5', ['10.0.0.1', '10.0.0.9']);
            user.outOfRange = utils2.ipRangeCheck('10.0.1.5', ['10.0.0.1', '10.0.0.9']);
            user.v6 = utils2.ipInCidr('2001:db8::1', '2001:db8::/32');
            user.emptyPrefix = utils.ipInCidr('8.8.8.8', '10.0.0.0/') || utils.ipInCidr('8.8.8.8', '10.0.0.0/ ');
            user.sameUtils = utils2 === utils && require('utils') === utils;
            user.query = qs.stringify({ a: 'x y', b: ['1', '2'], c: 3, d: true, e: null, 'k&': '=' });
            const parsed = qs.parse('a=x+y&b=1&b=2&c=%E4%BD%A0&flag');
            user.parsed = { a: parsed.a, b: parsed.b, c: parsed.c, flag: parsed.flag };
            user.axios = typeof require('axios').post;
            callback(null, user, context);
        }"#,
    );
    assert_eq!(user["inRange"], json!(true));
    assert_eq!(user["outOfRange"], json!(false));
    assert_eq!(user["v6"], json!(true));
    assert_eq!(user["emptyPrefix"], json!(false));
    assert_eq!(user["sameUtils"], json!(true));
    assert_eq!(
        user["query"],
        json!("a=x%20y&b=1&b=2&c=3&d=true&e=&k%26=%3D")
    );
    assert_eq!(
        user["parsed"],
        json!({"a": "x y", "b": ["1", "2"], "c": "你", "flag": ""})
    );
    assert_eq!(user["axios"], json!("function"));
}

#[test]
fn requiring_anything_else_names_what_is_available() {
    let function = runtime()
        .compile(
            "needs-left-pad",
            "const pad = require('left-pad');\nfunction pipe(u, c, cb) { cb(null, u, c) }",
        )
        .expect_err("a missing module fails at compile time");
    let message = function.to_string();
    assert!(
        message.contains("Cannot find module 'left-pad'"),
        "{message}"
    );
    for available in ["./utils", "querystring", "axios", "lodash", "jsonwebtoken"] {
        assert!(message.contains(available), "{message}");
    }

    let function = runtime()
        .compile(
            "needs-fs",
            "function pipe(u, c, cb) { require('fs'); cb(null, u, c) }",
        )
        .unwrap();
    let result = run(&function, Call::default());
    let error = result.error.expect("an exception");
    assert_eq!(error.kind, authpipe::ErrorKind::Exception);
    assert!(
        error.message.contains("Cannot find module 'fs'"),
        "{}",
        error.message
    );
}

#[test]
fn fetch_helpers_validate_their_input_before_any_request() {
    let user = user_after(
        r#"async function pipe(user, context, callback) {
            const attempts = {
                badMethod: () => fetch('https://example.com/', { method: 'TRACE' }),
                bodyOnGet: () => fetch('https://example.com/', { body: 'x' }),
                mapBody: () => fetch('https://example.com/', { method: 'POST', body: new Map() }),
                badHeader: () => fetch('https://example.com/', { headers: { 'bad header': 'x' } }),
                injection: () => fetch('https://example.com/', { headers: { 'x-a': 'a\r\nx-b: b' } }),
            };
            for (const [name, attempt] of Object.entries(attempts)) {
                try { await attempt(); user[name] = 'sent'; } catch (err) { user[name] = err instanceof TypeError ? 'TypeError' : String(err); }
            }
            const h = new Headers([['Accept', 'a'], ['accept', 'b']]);
            h.set('X-One', '1');
            user.headers = { accept: h.get('ACCEPT'), one: h.get('x-one'), missing: h.get('nope'), keys: [...h.keys()] };
            const made = new Response('{"a":1}', { status: 201, headers: { 'X-A': 'b' } });
            user.response = { status: made.status, ok: made.ok, header: made.headers.get('x-a'), json: await made.json() };
            callback(null, user, context);
        }"#,
    );
    for name in [
        "badMethod",
        "bodyOnGet",
        "mapBody",
        "badHeader",
        "injection",
    ] {
        assert_eq!(user[name], json!("TypeError"), "{name}: {user}");
    }
    assert_eq!(
        user["headers"],
        json!({"accept": "a, b", "one": "1", "missing": null, "keys": ["accept", "x-one"]})
    );
    assert_eq!(
        user["response"],
        json!({"status": 201, "ok": true, "header": "b", "json": {"a": 1}})
    );
}
