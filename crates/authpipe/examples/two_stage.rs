//! Embeds a two-stage `pre-register` pipeline: an email-domain allow-list,
//! then a function that adds custom claims. Runs it on tokio for an
//! allowed and a denied sign-up and prints the results.
//!
//! `cargo run --release -p authpipe --example two_stage`

use anyhow::Result;
use authpipe::{Environ, Limits, OnError, Pipeline, Runtime, RuntimeConfig, Stage};
use std::sync::Arc;

const ALLOW_LIST: &str = r#"
async function pipe(user, context, callback) {
  if (!context.request.body.email.endsWith('@' + env.ALLOWED_DOMAIN))
    return callback(new Error('Access denied.'));
  callback(null, user, context);
}
"#;

const CLAIMS: &str = r#"
function pipe(user, context, callback) {
  user.addIdToken('tier', 'gold');
  user.addAccessToken('roles', ['member']);
  user.addCustomData('signup_ip', context.request.ip);
  log('claims added for', user.email);
  callback(null, user, context);
}
"#;

#[tokio::main]
async fn main() -> Result<()> {
    let mut config = RuntimeConfig::default();
    if let Some(dir) = RuntimeConfig::default_cache_dir() {
        config.cache_dir(dir);
    }
    let runtime = Runtime::with_config(&config)?;

    let mut limits = Limits::default();
    limits.timeout_ms(500)?;
    let allow_list = Stage {
        env: Arc::new(Environ::new([("ALLOWED_DOMAIN", "example.com")])?),
        limits,
        ..Stage::new(runtime.compile("email-domain-allowlist", ALLOW_LIST)?)
    };
    let claims = Stage {
        on_error: OnError::Skip,
        ..Stage::new(runtime.compile("custom-claims", CLAIMS)?)
    };
    let pipeline = Pipeline::new(vec![allow_list, claims]);

    for email in ["alice@example.com", "mallory@evil.test"] {
        let input = serde_json::json!({
            "user": {"id": "u1", "email": email},
            "context": {"request": {"body": {"email": email}, "ip": "10.0.0.1"}},
        });
        let result = pipeline.run(serde_json::to_vec(&input)?).await;
        println!("{email}: {}", serde_json::to_string_pretty(&result)?);
    }
    Ok(())
}
