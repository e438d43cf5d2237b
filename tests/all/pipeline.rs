//! Stages in order, passing user/context, accumulating claims, failing closed.

use authpipe::{ErrorKind, OnError, Outcome, Pipeline, Stage};
use authpipe_tests::{INPUT, compile};
use serde_json::json;

#[test]
fn two_stages_pass_user_context_and_claims_along() {
    let pipeline = Pipeline::new(vec![
        Stage::new(compile("stage_enrich")),
        Stage::new(compile("stage_check")),
    ]);
    let result = pipeline.run_blocking(INPUT.as_bytes());
    assert_eq!(result.outcome, Outcome::Allow, "{result:?}");
    assert_eq!(result.user["department"], json!("engineering"));
    assert_eq!(result.context["checked"], json!("stage_enrich"));
    assert_eq!(
        result.claims.id_token,
        json!({"department": "engineering"})
            .as_object()
            .unwrap()
            .clone()
    );
    assert_eq!(result.claims.access_token["role"], json!("engineer"));
    assert_eq!(result.custom_data["source"], json!("hr"));
    let names: Vec<_> = result.stages.iter().map(|s| s.function.as_str()).collect();
    assert_eq!(names, ["stage_enrich", "stage_check"]);
}

#[test]
fn order_matters() {
    let pipeline = Pipeline::new(vec![
        Stage::new(compile("stage_check")),
        Stage::new(compile("stage_enrich")),
    ]);
    let result = pipeline.run_blocking(INPUT.as_bytes());
    assert_eq!(result.outcome, Outcome::Deny);
    assert_eq!(
        result.error.unwrap().function.as_deref(),
        Some("stage_check")
    );
    assert_eq!(result.stages.len(), 1, "a deny ends the pipeline");
}

#[test]
fn an_error_fails_closed_by_default() {
    let pipeline = Pipeline::new(vec![
        Stage::new(compile("throws")),
        Stage::new(compile("allow")),
    ]);
    let result = pipeline.run_blocking(INPUT.as_bytes());
    assert_eq!(result.outcome, Outcome::Error);
    let error = result.error.unwrap();
    assert_eq!(error.kind, ErrorKind::Exception);
    assert_eq!(error.function.as_deref(), Some("throws"));
    assert_eq!(result.stages.len(), 1);
}

#[test]
fn on_error_skip_continues_with_the_previous_user() {
    let skipping = Stage {
        on_error: OnError::Skip,
        ..Stage::new(compile("throws"))
    };
    let pipeline = Pipeline::new(vec![
        Stage::new(compile("stage_enrich")),
        skipping,
        Stage::new(compile("stage_check")),
    ]);
    let result = pipeline.run_blocking(INPUT.as_bytes());
    assert_eq!(result.outcome, Outcome::Allow, "{result:?}");
    assert!(result.error.is_none());
    assert_eq!(result.stages.len(), 3);
    assert_eq!(result.stages[1].outcome, Outcome::Error);
    assert_eq!(
        result.stages[1].error.as_ref().unwrap().kind,
        ErrorKind::Exception
    );
    assert_eq!(result.context["checked"], json!("stage_enrich"));
}

#[test]
fn on_error_skip_does_not_skip_a_deny() {
    let skipping = Stage {
        on_error: OnError::Skip,
        ..Stage::new(compile("stage_check"))
    };
    let result =
        Pipeline::new(vec![skipping, Stage::new(compile("allow"))]).run_blocking(INPUT.as_bytes());
    assert_eq!(result.outcome, Outcome::Deny);
}

#[test]
fn a_skipped_first_stage_keeps_the_callers_input() {
    let skipping = Stage {
        on_error: OnError::Skip,
        ..Stage::new(compile("throws"))
    };
    let result = Pipeline::new(vec![skipping]).run_blocking(INPUT.as_bytes());
    assert_eq!(result.outcome, Outcome::Allow);
    assert_eq!(result.user["email"], json!("alice@example.com"));
}

#[test]
fn the_async_api_runs_off_the_reactor() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let pipeline = Pipeline::new(vec![
        Stage::new(compile("stage_enrich")),
        Stage::new(compile("stage_check")),
    ]);
    let results = runtime.block_on(async {
        let tasks: Vec<_> = (0..16)
            .map(|_| {
                let pipeline = pipeline.clone();
                tokio::spawn(async move { pipeline.run(INPUT.as_bytes().to_vec()).await })
            })
            .collect();
        // The single reactor thread stays free while sandboxes run elsewhere.
        let ticker = tokio::time::sleep(std::time::Duration::from_millis(1));
        ticker.await;
        let mut results = Vec::new();
        for task in tasks {
            results.push(task.await.expect("task"));
        }
        results
    });
    assert_eq!(results.len(), 16);
    assert!(results.iter().all(|r| r.outcome == Outcome::Allow));
}
