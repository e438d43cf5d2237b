//! Large members of the input are parsed on first use and copied through
//! untouched otherwise: functions must not be able to tell.

use authpipe::{ErrorKind, Function, Outcome, Pipeline};
use authpipe_tests::{Call, run, runtime, stage};
use serde_json::{Value, json};

fn compile_source(name: &str, source: &str) -> Function {
    runtime()
        .compile(name, source)
        .unwrap_or_else(|e| panic!("{name} should compile: {e}"))
}

/// A user whose nested members are large enough to be lazy.
fn big_input() -> Value {
    let identities: Vec<Value> = (0..12)
        .map(|i| {
            json!({
                "provider": "google-oauth2",
                "user_id": format!("1000{i}"),
                "isSocial": true,
                "profileData": {"email": format!("a+{i}@example.com"), "locale": "en"},
            })
        })
        .collect();
    let flags: serde_json::Map<String, Value> = (0..20)
        .map(|i| {
            (
                format!("feature_{i}"),
                json!({"enabled": i % 2 == 0, "since": 1_700_000_000 + i}),
            )
        })
        .collect();
    json!({
        "user": {
            "id": "u1",
            "email": "alice@example.com",
            "identities": identities,
            "app_metadata": {"roles": ["member", "admin"], "plan": "team", "flags": flags},
            "user_metadata": {"bio": "x".repeat(300), "prefs": {"tz": "Europe/Berlin", "n": 1.5}},
        },
        "context": {"request": {"body": {"email": "alice@example.com"}, "headers": {"h": "v".repeat(250)}}},
    })
}

fn run_on(function: &Function, input: &Value) -> authpipe::InvocationResult {
    let text = input.to_string();
    run(
        function,
        Call {
            input: Some(&text),
            ..Call::default()
        },
    )
}

#[test]
fn untouched_members_come_back_exactly_also_through_a_pipeline() {
    let input = big_input();
    let function = compile_source(
        "reads-one-field",
        "function pipe(user, context, callback) { user.seen = user.email.length; callback(null, user, context) }",
    );
    let result = run_on(&function, &input);
    assert_eq!(result.outcome, Outcome::Allow, "{result:?}");
    let mut expected = input["user"].clone();
    expected["seen"] = json!(17);
    assert_eq!(result.user, expected);
    assert_eq!(result.context, input["context"]);

    // What was not touched was not converted: touching it all costs
    // several times the fuel.
    let touches_all = compile_source(
        "touches-all",
        "function pipe(user, context, callback) { user.seen = JSON.stringify(user).length; callback(null, user, context) }",
    );
    let all = run_on(&touches_all, &input);
    assert_eq!(all.outcome, Outcome::Allow, "{all:?}");
    let (lazy_fuel, all_fuel) = (result.stages[0].fuel, all.stages[0].fuel);
    assert!(
        lazy_fuel * 2 < all_fuel,
        "reading one field took {lazy_fuel} fuel, touching everything {all_fuel}"
    );

    let pipeline = Pipeline::new(vec![stage(&function, &Call::default()); 3]);
    let result = pipeline.run_blocking(input.to_string().as_bytes());
    assert_eq!(result.outcome, Outcome::Allow, "{result:?}");
    assert_eq!(result.user["identities"], input["user"]["identities"]);
    assert_eq!(result.user["app_metadata"], input["user"]["app_metadata"]);
}

#[test]
fn lazy_members_behave_as_plain_data() {
    let input = big_input();
    let function = compile_source(
        "plain-data",
        r#"
function pipe(user, context, callback) {
  const d = Object.getOwnPropertyDescriptor(user, 'app_metadata');
  const copy = { ...user.user_metadata };
  const report = {
    descriptor: [typeof d.value, d.writable, d.enumerable, d.configurable, 'get' in d],
    keys: Object.keys(user),
    identities: [Array.isArray(user.identities), user.identities.length, user.identities[3].user_id],
    flags: Object.keys(user.app_metadata.flags).length,
    json: JSON.stringify(user.app_metadata) === JSON.stringify(JSON.parse(JSON.stringify(user.app_metadata))),
    copy: copy.prefs.tz,
    has: ['identities' in user, user.hasOwnProperty('user_metadata')],
    entries: Object.entries(context.request).length,
    headers: Object.values(context.request.headers)[0].length,
  };
  delete user.identities;
  user.user_metadata = { replaced: true };
  user.app_metadata.plan = 'enterprise';
  Object.freeze(user.app_metadata.flags);
  user.report = report;
  callback(null, user, context);
}
"#,
    );
    let result = run_on(&function, &input);
    assert_eq!(result.outcome, Outcome::Allow, "{result:?}");
    let report = &result.user["report"];
    assert_eq!(
        report["descriptor"],
        json!(["object", true, true, true, false])
    );
    assert_eq!(
        report["keys"],
        json!(["id", "email", "identities", "app_metadata", "user_metadata"])
    );
    assert_eq!(report["identities"], json!([true, 12, "10003"]));
    assert_eq!(report["flags"], json!(20));
    assert_eq!(report["json"], json!(true));
    assert_eq!(report["copy"], json!("Europe/Berlin"));
    assert_eq!(report["has"], json!([true, true]));
    assert_eq!(report["entries"], json!(2));
    assert_eq!(report["headers"], json!(250));
    assert!(result.user.get("identities").is_none());
    assert_eq!(result.user["user_metadata"], json!({"replaced": true}));
    assert_eq!(result.user["app_metadata"]["plan"], json!("enterprise"));
    assert_eq!(
        result.user["app_metadata"]["flags"],
        input["user"]["app_metadata"]["flags"]
    );
}

/// The same function run untouched and after touching every member gives
/// the same result, whatever the member's text holds.
#[test]
fn copied_text_and_parsed_values_agree_on_escapes_numbers_and_repeated_keys() {
    let odd = format!(
        r#"{{"user":{{"id":"u1","odd":{{"pad":"{pad}","e":"caf\u00e9 \ud83d\ude00","lone":"\ud800x","n":[1e3,-0,1.50,12345678901234567890,0.1,-7],"dup":1,"dup":2,"slash":"a\/b","ctl":"\t\n"}},"arr":[{{"pad":"{pad}"}},[],{{}}]}},"context":{{}}}}"#,
        pad = "p".repeat(600)
    );
    let untouched = compile_source(
        "untouched",
        "function pipe(user, context, callback) { callback(null, user, context) }",
    );
    let touched = compile_source(
        "touched",
        "function pipe(user, context, callback) { JSON.stringify(user.odd); JSON.stringify(user.arr); callback(null, user, context) }",
    );
    let call = |function: &Function| {
        run(
            function,
            Call {
                input: Some(&odd),
                ..Call::default()
            },
        )
    };
    let (a, b) = (call(&untouched), call(&touched));
    assert_eq!(a.outcome, Outcome::Allow, "{a:?}");
    assert_eq!(b.outcome, Outcome::Allow, "{b:?}");
    assert_eq!(a.user, b.user);
    assert_eq!(a.user["odd"]["dup"], json!(2));
    assert_eq!(a.user["odd"]["lone"], json!("\u{fffd}x"));
    assert_eq!(a.user["odd"]["n"][0], json!(1000));

    // A function that gives arrays a toJSON sees it honoured on members it
    // never touched, as on the ones it did.
    let to_json = compile_source(
        "to-json",
        "function pipe(user, context, callback) { Array.prototype.toJSON = function () { return 'array' }; callback(null, user, context) }",
    );
    let c = call(&to_json);
    assert_eq!(c.outcome, Outcome::Allow, "{c:?}");
    assert_eq!(c.user["arr"], json!("array"));
    assert_eq!(c.user["odd"]["n"], json!("array"));
}

#[test]
fn bad_json_deep_in_a_large_member_is_still_invalid_input() {
    let bad = format!(
        r#"{{"user":{{"deep":{{"pad":"{pad}","list":[1,2,]}}}},"context":{{}}}}"#,
        pad = "p".repeat(1200)
    );
    let function = compile_source(
        "never-reads",
        "function pipe(user, context, callback) { callback(null, user, context) }",
    );
    let result = run(
        &function,
        Call {
            input: Some(&bad),
            ..Call::default()
        },
    );
    assert_eq!(result.outcome, Outcome::Error, "{result:?}");
    let error = result.error.expect("error");
    assert_eq!(error.kind, ErrorKind::InvalidInput);
    assert!(error.message.contains("line 1"), "{}", error.message);
}
