//! Nothing leaks between calls; randomness is fresh per call.

use authpipe::Outcome;
use authpipe_tests::{Call, compile, run};
use serde_json::json;

#[test]
fn a_global_set_in_one_call_is_absent_in_the_next() {
    let function = compile("global_state");
    for _ in 0..3 {
        let result = run(&function, Call::default());
        assert_eq!(result.outcome, Outcome::Allow);
        assert_eq!(result.user["calls"], json!(1), "module state starts fresh");
        assert_eq!(result.user["leaked"], json!(1), "globals start fresh");
    }
}

#[test]
fn randomness_differs_across_calls() {
    let function = compile("random");
    let first = run(&function, Call::default());
    let second = run(&function, Call::default());
    assert_eq!(first.outcome, Outcome::Allow, "{first:?}");
    for key in ["random", "bytes", "uuid"] {
        assert_ne!(
            first.user[key], second.user[key],
            "{key} repeated across calls"
        );
    }
    let uuid = first.user["uuid"].as_str().unwrap();
    assert_eq!(uuid.len(), 36);
    assert_eq!(&uuid[14..15], "4", "version 4 UUID: {uuid}");
}

#[test]
fn randomness_used_at_compile_time_is_not_frozen() {
    let function = authpipe_tests::runtime()
        .compile(
            "random_top_level",
            "const atCompile = Math.random();\nfunction pipe(u, c, cb) { u.now = Math.random(); cb(null, u, c) }",
        )
        .expect("compiles");
    let first = run(&function, Call::default());
    let second = run(&function, Call::default());
    assert_ne!(first.user["now"], second.user["now"]);
}

#[test]
fn concurrent_calls_are_isolated() {
    let function = compile("global_state");
    let handles: Vec<_> = (0..8)
        .map(|_| {
            let function = function.clone();
            std::thread::spawn(move || {
                (0..20)
                    .map(|_| run(&function, Call::default()).user["leaked"].clone())
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    for handle in handles {
        assert!(handle.join().unwrap().iter().all(|v| *v == json!(1)));
    }
}
