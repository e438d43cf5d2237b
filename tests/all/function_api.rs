//! The web-standard globals and Node modules functions use, with known
//! answers: crypto (FIPS 180-4 and RFC 4231 vectors, JWTs verified against a
//! JWK set served over HTTP), encodings, URL, structuredClone, timers,
//! dates and Intl, console formatting, and error positions.

use authpipe::fetch::{FetchPolicy, HttpFetcher};
use authpipe::{ErrorKind, InvocationResult, LogLevel, Outcome, SourceLocation};
use authpipe_tests::{Call, WebServer, limits, run, runtime, stage};
use serde_json::{Value, json};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

/// Compiles `source` (file `fn.js`) and runs it once with default settings.
fn result_of(source: &str) -> InvocationResult {
    let function = runtime()
        .compile_as("api", "fn.js", source)
        .unwrap_or_else(|e| panic!("compiles: {e}"));
    run(&function, Call::default())
}

/// The `user` an allowing run of `source` returns.
fn user_after(source: &str) -> Value {
    let result = result_of(source);
    assert_eq!(result.outcome, Outcome::Allow, "{result:#?}");
    result.user
}

fn server() -> &'static WebServer {
    static SERVER: OnceLock<WebServer> = OnceLock::new();
    SERVER.get_or_init(WebServer::start)
}

#[test]
fn digests_and_hmac_match_the_standard_vectors() {
    let user = user_after(
        r#"const nodeCrypto = require('crypto');
        const hex = (buffer) => Array.from(new Uint8Array(buffer), (b) => b.toString(16).padStart(2, '0')).join('');
        async function pipe(user, context, callback) {
          const abc = new TextEncoder().encode('abc');
          user.sha1 = hex(await crypto.subtle.digest('SHA-1', abc));
          user.sha256 = hex(await crypto.subtle.digest('SHA-256', abc));
          user.sha384 = hex(await crypto.subtle.digest({ name: 'SHA-384' }, abc));
          user.sha512 = hex(await crypto.subtle.digest('SHA-512', abc.buffer));
          user.md5 = nodeCrypto.createHash('md5').update('abc').digest('hex');
          user.nodeSha256 = nodeCrypto.createHash('sha256').update('a').update('bc').digest('hex');
          // RFC 4231 test case 2 (key "Jefe") and test case 1 (key 0x0b × 20).
          const jefe = await crypto.subtle.importKey('raw', new TextEncoder().encode('Jefe'),
            { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']);
          const data = new TextEncoder().encode('what do ya want for nothing?');
          const mac = await crypto.subtle.sign('HMAC', jefe, data);
          user.hmac256 = hex(mac);
          user.verified = await crypto.subtle.verify('HMAC', jefe, mac, data);
          user.forged = await crypto.subtle.verify('HMAC', jefe, new Uint8Array(32), data);
          user.hmac512 = nodeCrypto.createHmac('sha512', 'Jefe').update('what do ya want for nothing?').digest('base64');
          user.hmacCase1 = nodeCrypto.createHmac('sha256', Buffer.alloc(20, 0x0b)).update('Hi There').digest('base64url');
          user.safeEqual = nodeCrypto.timingSafeEqual(Buffer.from('abc'), Buffer.from('abc'));
          callback(null, user, context);
        }"#,
    );
    assert_eq!(
        user["sha1"],
        json!("a9993e364706816aba3e25717850c26c9cd0d89d")
    );
    assert_eq!(
        user["sha256"],
        json!("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    );
    assert_eq!(
        user["sha384"],
        json!(
            "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7"
        )
    );
    assert_eq!(
        user["sha512"],
        json!(
            "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"
        )
    );
    assert_eq!(user["md5"], json!("900150983cd24fb0d6963f7d28e17f72"));
    assert_eq!(user["nodeSha256"], user["sha256"]);
    assert_eq!(
        user["hmac256"],
        json!("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    );
    assert_eq!(user["verified"], json!(true));
    assert_eq!(user["forged"], json!(false));
    assert_eq!(
        user["hmac512"],
        json!(
            "Fkt6e/z4GeLjlfvnO1bgo4e9ZCIugx/WECcM1+olBVSXWL91wFqZSm0DT2X48Ob9yuqxo01Ka0tjbgcKOLznNw=="
        )
    );
    assert_eq!(
        user["hmacCase1"],
        json!("sDRMYdjbOFNcqK_OrwvxK4gdwgDJgz2nJuk3bC4yz_c")
    );
    assert_eq!(user["safeEqual"], json!(true));
}

/// A function that verifies `context.token` (a JWT) against the JWK set at
/// `env.JWKS` and allows with the verified subject, or denies.
const JWT_VERIFIER: &str = r#"
const b64url = (text) => Uint8Array.from(atob(text.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));
const ALGORITHMS = {
  RS256: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
  ES256: { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' },
};
async function pipe(user, context, callback) {
  const [head, body, signature] = context.token.split('.');
  const header = JSON.parse(new TextDecoder().decode(b64url(head)));
  const { keys } = await (await fetch(env.JWKS)).json();
  const jwk = keys.find((k) => k.kid === header.kid);
  const algorithm = ALGORITHMS[header.alg];
  const key = await crypto.subtle.importKey('jwk', jwk, algorithm, false, ['verify']);
  const ok = await crypto.subtle.verify(algorithm, key, b64url(signature), new TextEncoder().encode(`${head}.${body}`));
  if (!ok) return callback(new Error('invalid token signature'));
  user.sub = JSON.parse(new TextDecoder().decode(b64url(body))).sub;
  user.alg = key.algorithm.name;
  callback(null, user, context);
}
"#;

fn verify_token(token: &str) -> InvocationResult {
    let function = runtime().compile("jwt", JWT_VERIFIER).expect("compiles");
    let jwks = server().url("/.well-known/jwks.json");
    let env = [("JWKS", jwks.as_str())];
    let input = json!({"user": {}, "context": {"token": token}}).to_string();
    let mut stage = stage(
        &function,
        &Call {
            env: &env,
            ..Call::default()
        },
    );
    let policy = FetchPolicy::new(&[server().url("/.well-known/*")]).expect("valid pattern");
    stage.fetch = Arc::new(HttpFetcher::new(policy));
    stage.run_blocking(input.as_bytes())
}

fn tokens() -> Value {
    serde_json::from_str(include_str!("../fixtures/jwt/tokens.json")).expect("tokens JSON")
}

#[test]
fn rs256_and_es256_jwts_verify_against_a_fetched_jwk_set() {
    let tokens = tokens();
    for (token, alg) in [("rs256", "RSASSA-PKCS1-v1_5"), ("es256", "ECDSA")] {
        let result = verify_token(tokens[token].as_str().unwrap());
        assert_eq!(result.outcome, Outcome::Allow, "{token}: {result:#?}");
        assert_eq!(result.user["sub"], json!("auth0|42"));
        assert_eq!(result.user["alg"], json!(alg));
    }
    let result = verify_token(tokens["rs256_tampered"].as_str().unwrap());
    assert_eq!(result.outcome, Outcome::Deny, "{result:#?}");
    assert_eq!(result.error.unwrap().message, "invalid token signature");
}

#[test]
fn spki_keys_import_and_unsupported_operations_say_so() {
    let spki = include_str!("../fixtures/jwt/rsa-public.spki.b64").trim();
    let source = format!(
        r#"async function pipe(user, context, callback) {{
          const der = Uint8Array.from(atob('{spki}'), (c) => c.charCodeAt(0));
          const key = await crypto.subtle.importKey('spki', der, {{ name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }}, true, ['verify']);
          user.modulusLength = key.algorithm.modulusLength;
          user.type = key.type;
          try {{ await crypto.subtle.encrypt({{ name: 'RSA-OAEP' }}, key, new Uint8Array(1)); }}
          catch (e) {{ user.encrypt = e.name; }}
          try {{ await crypto.subtle.importKey('jwk', {{ kty: 'RSA', n: 'AQAB', e: 'AQAB', d: 'AQAB' }}, {{ name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }}, false, ['sign']); }}
          catch (e) {{ user.privateKey = e.name; }}
          callback(null, user, context);
        }}"#
    );
    let user = user_after(&source);
    assert_eq!(user["modulusLength"], json!(2048));
    assert_eq!(user["type"], json!("public"));
    assert_eq!(user["encrypt"], json!("NotSupportedError"));
    assert!(user["privateKey"].is_string(), "{user}");
}

#[test]
fn randomness_is_fresh_on_every_call() {
    let function = runtime()
        .compile(
            "random",
            "function pipe(user, context, callback) {
               user.bytes = require('crypto').randomBytes(16).toString('hex');
               user.uuid = crypto.randomUUID();
               callback(null, user, context);
             }",
        )
        .expect("compiles");
    let first = run(&function, Call::default()).user;
    let second = run(&function, Call::default()).user;
    assert_ne!(first["bytes"], second["bytes"]);
    assert_ne!(first["uuid"], second["uuid"]);
    assert_eq!(first["bytes"].as_str().unwrap().len(), 32);
}

#[test]
fn encodings_buffer_and_structured_clone() {
    let user = user_after(
        r#"function pipe(user, context, callback) {
          const bytes = new TextEncoder().encode('héllo ✓');
          user.utf8 = Array.from(bytes);
          user.decoded = new TextDecoder().decode(bytes);
          user.btoa = btoa('hello');
          user.atob = atob(' aGVs bG8= ');
          try { atob('*'); } catch (e) { user.atobError = e.name; }
          const b = Buffer.from('héllo', 'utf8');
          user.hex = b.toString('hex');
          user.base64 = Buffer.from('68c3a96c6c6f', 'hex').toString('base64');
          user.base64url = Buffer.from([0xfb, 0xff]).toString('base64url');
          user.fromBase64url = Buffer.from('-_8', 'base64url').toString('hex');
          user.byteLength = Buffer.byteLength('héllo');
          user.concat = Buffer.concat([Buffer.from('ab'), Buffer.from('cd')]).toString();
          user.equals = Buffer.from('abc').equals(Buffer.from([97, 98, 99]));
          user.json = Buffer.from('hi').toJSON();
          const original = { when: new Date(0), tags: new Set(['a']), map: new Map([['k', 1]]), nested: { list: [1, 2] } };
          original.self = original;
          const copy = structuredClone(original);
          user.clone = copy !== original && copy.self === copy && copy.when instanceof Date
            && copy.when.getTime() === 0 && copy.tags.has('a') && copy.map.get('k') === 1
            && copy.nested.list[1] === 2 && copy.nested !== original.nested;
          try { structuredClone({ f() {} }); } catch (e) { user.cloneError = e.name; }
          callback(null, user, context);
        }"#,
    );
    assert_eq!(
        user["utf8"],
        json!([104, 195, 169, 108, 108, 111, 32, 226, 156, 147])
    );
    assert_eq!(user["decoded"], json!("héllo ✓"));
    assert_eq!(user["btoa"], json!("aGVsbG8="));
    assert_eq!(user["atob"], json!("hello"));
    assert_eq!(user["atobError"], json!("InvalidCharacterError"));
    assert_eq!(user["hex"], json!("68c3a96c6c6f"));
    assert_eq!(user["base64"], json!("aMOpbGxv"));
    assert_eq!(user["base64url"], json!("-_8"));
    assert_eq!(user["fromBase64url"], json!("fbff"));
    assert_eq!(user["byteLength"], json!(6));
    assert_eq!(user["concat"], json!("abcd"));
    assert_eq!(user["equals"], json!(true));
    assert_eq!(user["json"], json!({"type": "Buffer", "data": [104, 105]}));
    assert_eq!(user["clone"], json!(true));
    assert_eq!(user["cloneError"], json!("DataCloneError"));
}

#[test]
fn urls_parse_as_the_whatwg_standard_says() {
    let user = user_after(
        r#"function pipe(user, context, callback) {
          const u = new URL('https://user:pa%20ss@EXAMPLE.com:443/a/./b/../c?q=1&r=a+b#frag');
          user.parts = [u.href, u.protocol, u.username, u.host, u.port, u.pathname, u.search, u.hash, u.origin];
          user.r = u.searchParams.get('r');
          user.relative = new URL('../c', 'http://a/b/d').href;
          user.ipv6 = new URL('http://[::1]:8080/x').hostname;
          user.idna = new URL('HTTP://bücher.example/').host;
          const edit = new URL('https://example.com/path');
          edit.searchParams.append('redirect_uri', 'https://app.example/cb?x=1');
          edit.hash = 'top';
          edit.port = '8443';
          user.edited = edit.toString();
          try { new URL('not a url'); } catch (e) { user.invalid = e instanceof TypeError; }
          user.canParse = URL.canParse('/x', 'https://a.example');
          const params = new URLSearchParams('?b=2&a=1&a=3');
          params.sort();
          user.params = params.toString();
          user.all = params.getAll('a');
          user.fromObject = new URLSearchParams({ q: 'a b&c' }).toString();
          user.urlModule = require('url').URL === URL;
          callback(null, user, context);
        }"#,
    );
    assert_eq!(
        user["parts"],
        json!([
            "https://user:pa%20ss@example.com/a/c?q=1&r=a+b#frag",
            "https:",
            "user",
            "example.com",
            "",
            "/a/c",
            "?q=1&r=a+b",
            "#frag",
            "https://example.com"
        ])
    );
    assert_eq!(user["r"], json!("a b"));
    assert_eq!(user["relative"], json!("http://a/c"));
    assert_eq!(user["ipv6"], json!("[::1]"));
    assert_eq!(user["idna"], json!("xn--bcher-kva.example"));
    assert_eq!(
        user["edited"],
        json!(
            "https://example.com:8443/path?redirect_uri=https%3A%2F%2Fapp.example%2Fcb%3Fx%3D1#top"
        )
    );
    assert_eq!(user["invalid"], json!(true));
    assert_eq!(user["canParse"], json!(true));
    assert_eq!(user["params"], json!("a=1&a=3&b=2"));
    assert_eq!(user["all"], json!(["1", "3"]));
    assert_eq!(user["fromObject"], json!("q=a+b%26c"));
    assert_eq!(user["urlModule"], json!(true));
}

#[test]
fn timers_really_wait_and_a_retry_with_back_off_works() {
    let started = Instant::now();
    let user = user_after(
        r#"const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
        async function pipe(user, context, callback) {
          const t0 = Date.now();
          let attempts = 0;
          for (let delay = 20; ; delay *= 2) {
            attempts += 1;
            if (attempts === 3) break;
            await sleep(delay);
          }
          user.attempts = attempts;
          user.waited = Date.now() - t0;
          const cleared = setTimeout(() => { user.cleared = 'fired'; }, 1);
          clearTimeout(cleared);
          let ticks = 0;
          await new Promise((resolve) => {
            const interval = setInterval(() => { ticks += 1; if (ticks === 3) { clearInterval(interval); resolve(); } }, 5);
          });
          user.ticks = ticks;
          setTimeout(() => callback(null, user, context), 10);
        }"#,
    );
    assert_eq!(user["attempts"], json!(3));
    let waited = user["waited"].as_u64().unwrap();
    assert!(
        (60..1000).contains(&waited),
        "waited {waited} ms for 20 + 40 ms of back-off"
    );
    assert!(user.get("cleared").is_none(), "{user}");
    assert_eq!(user["ticks"], json!(3));
    assert!(started.elapsed() >= Duration::from_millis(85));
}

#[test]
fn a_timer_past_the_deadline_ends_the_call_as_a_timeout_at_the_deadline() {
    let function = runtime()
        .compile(
            "late-timer",
            "function pipe(user, context, callback) {
               setTimeout(() => callback(null, user, context), 5000);
             }",
        )
        .expect("compiles");
    let started = Instant::now();
    let result = run(
        &function,
        Call {
            limits: limits(Some(200), None, None),
            ..Call::default()
        },
    );
    let took = started.elapsed();
    assert_eq!(result.outcome, Outcome::Error);
    assert_eq!(result.error.unwrap().kind, ErrorKind::Timeout);
    assert!(
        took >= Duration::from_millis(195) && took < Duration::from_millis(1000),
        "took {took:?} for a 200 ms limit"
    );
}

#[test]
fn a_timer_set_at_load_time_never_fires_and_is_a_compile_warning() {
    let function = runtime()
        .compile(
            "load-timer",
            "setTimeout(() => { throw new Error('never'); }, 0);
             function pipe(user, context, callback) { callback(null, user, context); }",
        )
        .expect("compiles");
    assert!(
        function.warnings().iter().any(|w| w.contains("timer")),
        "{:?}",
        function.warnings()
    );
    assert_eq!(run(&function, Call::default()).outcome, Outcome::Allow);
}

#[test]
fn dates_format_in_time_zones_across_a_dst_change() {
    let user = user_after(
        r#"function pipe(user, context, callback) {
          const at = (...parts) => new Date(Date.UTC(...parts));
          user.beforeDst = at(2026, 2, 8, 6, 59, 59).toLocaleString('en-US', { timeZone: 'America/New_York' });
          user.afterDst = at(2026, 2, 8, 7, 0, 0).toLocaleString('en-US', { timeZone: 'America/New_York' });
          user.shanghai = new Date(0).toLocaleString('en-US', { timeZone: 'Asia/Shanghai' });
          user.kolkata = at(2026, 10, 29, 13, 7, 28).toLocaleString('en-US', { timeZone: 'Asia/Kolkata' });
          user.named = at(2026, 6, 1, 12, 0, 0).toLocaleString('en-US', { timeZone: 'America/New_York', timeZoneName: 'short' });
          user.full = new Intl.DateTimeFormat('en-US', { timeZone: 'Asia/Shanghai', dateStyle: 'full', timeStyle: 'long' })
            .format(at(2026, 10, 29, 13, 7, 28));
          user.dateOnly = at(2026, 10, 29, 13, 7, 28).toLocaleDateString('en-US', { timeZone: 'Asia/Shanghai' });
          user.time24 = at(2026, 10, 29, 13, 7, 28).toLocaleTimeString('en-US', { timeZone: 'Asia/Shanghai', hour12: false });
          user.defaultZone = Intl.DateTimeFormat().resolvedOptions().timeZone;
          user.number = new Intl.NumberFormat('en-US').format(1234567.891);
          user.fixed = (1234.5).toLocaleString('en-US', { minimumFractionDigits: 2 });
          try { new Date().toLocaleString('de-DE'); } catch (e) { user.locale = `${e.name}: ${e.message}`; }
          try { new Date().toLocaleString('en-US', { timeZone: 'Mars/Base' }); } catch (e) { user.zone = e.name; }
          callback(null, user, context);
        }"#,
    );
    assert_eq!(user["beforeDst"], json!("3/8/2026, 1:59:59 AM"));
    assert_eq!(user["afterDst"], json!("3/8/2026, 3:00:00 AM"));
    assert_eq!(user["shanghai"], json!("1/1/1970, 8:00:00 AM"));
    assert_eq!(user["kolkata"], json!("11/29/2026, 6:37:28 PM"));
    assert_eq!(user["named"], json!("7/1/2026, 8:00:00 AM EDT"));
    assert_eq!(
        user["full"],
        json!("Sunday, November 29, 2026 at 9:07:28 PM GMT+8")
    );
    assert_eq!(user["dateOnly"], json!("11/29/2026"));
    assert_eq!(user["time24"], json!("21:07:28"));
    assert_eq!(user["defaultZone"], json!("UTC"));
    assert_eq!(user["number"], json!("1,234,567.891"));
    assert_eq!(user["fixed"], json!("1,234.50"));
    let locale = user["locale"].as_str().unwrap();
    assert!(
        locale.starts_with("RangeError") && locale.contains("en-US"),
        "{locale}"
    );
    assert_eq!(user["zone"], json!("RangeError"));
}

#[test]
fn console_formats_like_node_and_unhandled_rejections_are_warnings() {
    let result = result_of(
        r#"async function pipe(user, context, callback) {
          console.log('%s has %d items costing %i, %f %j %%', 'cart', 3, 42.9, '1.5', { a: 1 });
          console.log({ a: [1, 2, { b: new Map([['k', new Set([1])]]) }] });
          const o = { name: 'x' };
          o.self = o;
          console.info(o);
          console.error(new Set(['a']), [undefined, null], () => 1);
          console.debug('debug');
          Promise.reject(new Error('nobody waits for me'));
          callback(null, user, context);
        }"#,
    );
    assert_eq!(result.outcome, Outcome::Allow, "{result:#?}");
    let logs = &result.stages[0].logs;
    let messages: Vec<&str> = logs.iter().map(|l| l.message.as_str()).collect();
    assert_eq!(messages[0], "cart has 3 items costing 42, 1.5 {\"a\":1} %");
    assert_eq!(messages[1], "{ a: [ 1, 2, { b: [Map] } ] }");
    assert_eq!(messages[2], "<ref *1> { name: 'x', self: [Circular *1] }");
    assert_eq!(
        messages[3],
        "Set(1) { 'a' } [ undefined, null ] [Function (anonymous)]"
    );
    assert_eq!(logs[3].level, LogLevel::Error);
    assert_eq!(logs[4].level, LogLevel::Debug);
    let warning = &logs[5];
    assert_eq!(warning.level, LogLevel::Warn);
    assert!(
        warning.message.starts_with(
            "Unhandled promise rejection: Error: nobody waits for me\n    at pipe (fn.js:9:"
        ),
        "{}",
        warning.message
    );
}

#[test]
fn add_token_is_the_legacy_name_of_add_id_token() {
    let result = result_of(
        "function pipe(user, context, callback) {
           user.addToken('legacy', 'yes');
           callback(null, user, context);
         }",
    );
    assert_eq!(result.outcome, Outcome::Allow, "{result:#?}");
    assert_eq!(result.claims.id_token["legacy"], json!("yes"));
    assert!(result.user.get("addToken").is_none());
}

/// The location and first stack frame of the exception `source` raises.
fn error_position(source: &str) -> (SourceLocation, String) {
    let result = result_of(source);
    assert_eq!(result.outcome, Outcome::Error, "{result:#?}");
    let error = result.error.expect("an error");
    assert_eq!(error.kind, ErrorKind::Exception, "{error:#?}");
    let stack = error.stack.unwrap_or_default();
    (error.location.expect("a location"), stack)
}

fn at(line: u32, column: u32) -> SourceLocation {
    SourceLocation { line, column }
}

#[test]
fn error_positions_point_at_the_faulting_expression() {
    let cases = [
        // A misspelt name.
        (
            "async function pipe(user, context, callback) {\n  const a = 1;\n  const b = 2;\n  const email = usr.email;\n  callback(null, user, context);\n}\n",
            at(4, 17),
        ),
        // A property read on undefined, in a return statement.
        (
            "function pipe(user, context, callback) {\n  const a = 1;\n  return user.profile.name;\n}\n",
            at(3, 23),
        ),
        // An element read on null (the expression `list[0]`).
        (
            "function pipe(user, context, callback) {\n  const list = null;\n  const first = list[0];\n}\n",
            at(3, 17),
        ),
        // Calling something that is not a function.
        (
            "function pipe(user, context, callback) {\n  const f = user.notAFunction;\n  f(1);\n}\n",
            at(3, 3),
        ),
        // After one await (an assignment: its operator) and after two.
        (
            "async function pipe(user, context, callback) {\n  await Promise.resolve();\n  const x = 1;\n  user.missing.field = x;\n}\n",
            at(4, 22),
        ),
        (
            "async function pipe(user, context, callback) {\n  const a = await Promise.resolve(1);\n  const b = await Promise.resolve(2);\n\n  return user.profile.name;\n}\n",
            at(5, 23),
        ),
        // Inside a helper function, called from an arrow function.
        (
            "function helper(u) {\n  const q = 1;\n  return u.nope.deeper;\n}\nasync function pipe(user, context, callback) {\n  const run = () => helper(user);\n  run();\n}\n",
            at(3, 17),
        ),
        // Inside an arrow function.
        (
            "function pipe(user, context, callback) {\n  const names = [1].map((n) => n.x.y);\n}\n",
            at(2, 36),
        ),
    ];
    for (source, expected) in cases {
        let (location, stack) = error_position(source);
        assert_eq!(location, expected, "{source}\nstack: {stack}");
        let frame = format!("(fn.js:{}:{})", expected.line, expected.column);
        assert!(
            stack.lines().next().unwrap_or("").contains(&frame),
            "{source}\nstack: {stack}"
        );
    }
}

#[test]
fn an_error_in_load_time_code_is_a_compile_error_at_its_position() {
    let error = runtime()
        .compile_as(
            "load-time",
            "fn.js",
            "const config = { a: 1 };\nconst value = config.missing.value;\nfunction pipe(u, c, cb) { cb(null, u, c) }\n",
        )
        .expect_err("top-level code throws");
    let text = error.to_string();
    assert!(text.starts_with("fn.js:2:30:"), "{text}");
}

#[test]
fn typescript_functions_compile_run_and_report_ts_positions() {
    let source = "interface Profile { name?: string }\n\
        type User = { email: string; profile?: Profile; [key: string]: unknown };\n\
        async function pipe(user: User, context: Record<string, unknown>, callback: (e: Error | null, u?: User, c?: unknown) => void): Promise<void> {\n\
        \x20 const domain: string = (user.email as string).split('@')[1]!;\n\
        \x20 if (domain !== 'example.com') return callback(new Error(`domain ${domain} is not allowed`));\n\
        \x20 user.domain = domain;\n\
        \x20 callback(null, user, context);\n\
        }\n";
    let function = runtime()
        .compile_as("typed", "typed.ts", source)
        .expect("TypeScript compiles");
    let result = run(
        &function,
        Call {
            input: Some(r#"{"user":{"email":"a@example.com"},"context":{}}"#),
            ..Call::default()
        },
    );
    assert_eq!(result.outcome, Outcome::Allow, "{result:#?}");
    assert_eq!(result.user["domain"], json!("example.com"));
    let failing = "type U = { profile?: { name: string } };\nfunction pipe(user: U, context: unknown, callback: unknown): string {\n  return user.profile!.name;\n}\n";
    let function = runtime()
        .compile_as("typed-fail", "fail.ts", failing)
        .expect("compiles");
    let error = run(&function, Call::default()).error.expect("fails");
    assert_eq!(error.location, Some(at(3, 24)));
    assert!(error.stack.unwrap().contains("(fail.ts:3:24)"));
    let error = runtime()
        .compile_as(
            "enum",
            "enum.ts",
            "const a = 1;\nenum Role { Admin }\nfunction pipe() {}\n",
        )
        .expect_err("enums generate code");
    assert!(error.to_string().starts_with("enum.ts:2:"), "{error}");
}
