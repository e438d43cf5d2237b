//! `authpipe deploy` and `authpipe logs`: a project pushed into a tenant of
//! a store-mode server, and its execution records read back.

use anyhow::{Context, Result, bail};
use authpipe_server::config::{Config, FunctionConfig, Purpose};
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::ExitCode;

/// A store-mode server's management API for one tenant.
pub struct Tenant {
    base: String,
    token: String,
    agent: ureq::Agent,
}

impl Tenant {
    /// The API of tenant `tenant` at `url`, with the token from
    /// `AUTHPIPE_TOKEN`.
    pub fn new(url: &str, tenant: &str) -> Result<Self> {
        let token = std::env::var("AUTHPIPE_TOKEN").unwrap_or_default();
        if token.is_empty() {
            bail!(
                "AUTHPIPE_TOKEN is not set: it must hold a manage key of the tenant (or the admin token)"
            );
        }
        Ok(Self {
            base: format!("{}/v1/tenants/{tenant}", url.trim_end_matches('/')),
            token,
            agent: ureq::Agent::config_builder()
                .http_status_as_error(false)
                .timeout_global(Some(std::time::Duration::from_secs(60)))
                .build()
                .into(),
        })
    }

    /// `method path` with an optional JSON body; the answer's JSON, or an
    /// error with the server's message.
    fn call(&self, method: &str, path: &str, body: Option<&Value>) -> Result<Value> {
        let url = format!("{}{path}", self.base);
        let request = ureq::http::Request::builder()
            .method(method)
            .uri(&url)
            .header("authorization", format!("Bearer {}", self.token))
            .header("content-type", "application/json")
            .body(body.map(Value::to_string).unwrap_or_default())
            .context("building a request")?;
        let mut response = self
            .agent
            .run(request)
            .with_context(|| format!("cannot reach {url}"))?;
        let status = response.status().as_u16();
        let text = response.body_mut().read_to_string().unwrap_or_default();
        if !(200..300).contains(&status) {
            let message = serde_json::from_str::<Value>(&text)
                .ok()
                .and_then(|v| v["error"]["message"].as_str().map(str::to_string))
                .unwrap_or(text);
            bail!("{method} {path}: {status}: {message}");
        }
        if text.is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_str(&text)
            .with_context(|| format!("{method} {path}: the answer is not JSON"))
    }
}

/// One change the plan makes.
#[derive(Debug)]
enum Step {
    CreateFunction(Value),
    UpdateFunction {
        name: String,
        changes: Map<String, Value>,
    },
    DeleteFunction(String),
    Deploy {
        name: String,
        version: i64,
    },
    SetEnv {
        key: String,
        value: String,
        secret: bool,
        new: bool,
    },
    DeleteEnv(String),
    SetFetch(Vec<String>),
}

impl Step {
    fn describe(&self) -> String {
        match self {
            Step::CreateFunction(body) => format!(
                "  + function {} (triggers: {})",
                body["name"].as_str().unwrap_or(""),
                body["triggers"]
                    .as_array()
                    .map(|t| t
                        .iter()
                        .filter_map(Value::as_str)
                        .collect::<Vec<_>>()
                        .join(", "))
                    .unwrap_or_default()
            ),
            Step::UpdateFunction { name, changes } => format!(
                "  ~ function {name}: {}",
                changes.keys().cloned().collect::<Vec<_>>().join(", ")
            ),
            Step::DeleteFunction(name) => format!("  - function {name}"),
            Step::Deploy { name, version } => {
                format!("  ~ function {name}: deploy version {version} (it matches the project)")
            }
            Step::SetEnv {
                key, secret, new, ..
            } => format!(
                "  {} {} {key}",
                if *new { "+" } else { "~" },
                if *secret { "secret" } else { "env" }
            ),
            Step::DeleteEnv(key) => format!("  - env {key}"),
            Step::SetFetch(allow) => format!("  ~ fetch allow = {allow:?}"),
        }
    }

    fn sign(&self) -> char {
        match self {
            Step::CreateFunction(_) => '+',
            Step::DeleteFunction(_) | Step::DeleteEnv(_) => '-',
            Step::SetEnv { new: true, .. } => '+',
            _ => '~',
        }
    }
}

/// The function body a project's `[[function]]` asks for.
fn wanted(function: &FunctionConfig) -> Value {
    json!({
        "name": function.name,
        "source": function.source,
        "triggers": function.triggers.iter().map(|t| t.as_str()).collect::<Vec<_>>(),
        "order": function.order,
        "enabled": function.enabled,
        "async": function.is_async,
        "timeout_ms": function.limits.timeout().as_millis() as u64,
        "fuel": function.limits.fuel_budget(),
        "memory_mb": function.limits.max_memory_bytes() >> 20,
        "on_error": match function.on_error {
            authpipe::OnError::Deny => "deny",
            authpipe::OnError::Skip => "skip",
        },
        "language": if function.source_file.ends_with(".ts") { "typescript" } else { "javascript" },
    })
}

/// `authpipe deploy`: makes the tenant match the project.
pub fn deploy(
    url: &str,
    tenant: &str,
    config_path: &Path,
    dry_run: bool,
    prune: bool,
) -> Result<ExitCode> {
    let config = Config::load_for(
        config_path,
        &|name| std::env::var(name).ok(),
        Purpose::Offline,
    )?;
    let api = Tenant::new(url, tenant)?;
    let steps = plan(&api, &config, prune)?;
    let kept: Vec<String> = if prune {
        Vec::new()
    } else {
        unmanaged(&api, &config)?
    };
    println!("authpipe deploy: tenant {tenant} at {url}");
    if steps.is_empty() {
        println!("No changes. The tenant matches {}.", config_path.display());
    } else {
        for step in &steps {
            println!("{}", step.describe());
        }
        let count = |sign| steps.iter().filter(|s| s.sign() == sign).count();
        println!(
            "Plan: {} to add, {} to change, {} to delete.",
            count('+'),
            count('~'),
            count('-')
        );
    }
    for name in &kept {
        println!("  (kept: {name} is in the tenant but not in the project; --prune deletes it)");
    }
    if dry_run || steps.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    for step in &steps {
        apply(&api, step).with_context(|| format!("applying `{}`", step.describe().trim()))?;
    }
    println!("Applied {} changes.", steps.len());
    Ok(ExitCode::SUCCESS)
}

fn unmanaged(api: &Tenant, config: &Config) -> Result<Vec<String>> {
    let names: BTreeSet<&str> = config.functions.iter().map(|f| f.name.as_str()).collect();
    let current = api.call("GET", "/functions", None)?;
    Ok(current["functions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| f["name"].as_str())
        .filter(|n| !names.contains(n))
        .map(str::to_string)
        .collect())
}

fn plan(api: &Tenant, config: &Config, prune: bool) -> Result<Vec<Step>> {
    let mut steps = Vec::new();
    let current = api.call("GET", "/functions", None)?;
    let current: BTreeMap<String, Value> = current["functions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| Some((f["name"].as_str()?.to_string(), f.clone())))
        .collect();
    for function in &config.functions {
        let want = wanted(function);
        match current.get(&function.name) {
            None => steps.push(Step::CreateFunction(want)),
            Some(have) => {
                let mut changes = Map::new();
                for (field, value) in want.as_object().expect("an object") {
                    if field != "name" && have.get(field) != Some(value) {
                        changes.insert(field.clone(), value.clone());
                    }
                }
                // The newest version matches but is not deployed: deploy it.
                if changes.is_empty() && have["version"] != have["deployed_version"] {
                    steps.push(Step::Deploy {
                        name: function.name.clone(),
                        version: have["version"].as_i64().unwrap_or(0),
                    });
                } else if !changes.is_empty() {
                    steps.push(Step::UpdateFunction {
                        name: function.name.clone(),
                        changes,
                    });
                }
            }
        }
    }
    if prune {
        let names: BTreeSet<&str> = config.functions.iter().map(|f| f.name.as_str()).collect();
        for name in current.keys().filter(|n| !names.contains(n.as_str())) {
            steps.push(Step::DeleteFunction(name.clone()));
        }
    }

    let env = api.call("GET", "/env", None)?;
    let env: BTreeMap<String, Value> = env["env"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| Some((v["key"].as_str()?.to_string(), v.clone())))
        .collect();
    for (key, value) in &config.env {
        let secret = config.secret_env.contains(key);
        let existing = env.get(key);
        let new = existing.is_none();
        let changed = if new {
            true
        } else if secret || existing.is_some_and(|v| v["secret"] == true) {
            // Secrets cannot be read back: ask whether this would change.
            api.call(
                "PUT",
                &format!("/env/{key}?dry_run=true"),
                Some(&json!({"value": value, "secret": secret})),
            )?["changed"]
                == true
        } else {
            existing.and_then(|v| v["value"].as_str()) != Some(value.as_str())
        };
        if changed {
            steps.push(Step::SetEnv {
                key: key.clone(),
                value: value.clone(),
                secret,
                new,
            });
        }
    }
    if prune {
        let keys: BTreeSet<&str> = config.env.iter().map(|(k, _)| k.as_str()).collect();
        for key in env.keys().filter(|k| !keys.contains(k.as_str())) {
            steps.push(Step::DeleteEnv(key.clone()));
        }
    }

    let allow = api.call("GET", "/fetch", None)?;
    let have: Vec<String> = allow["allow"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect();
    if have != config.fetch_allow {
        steps.push(Step::SetFetch(config.fetch_allow.clone()));
    }
    Ok(steps)
}

fn apply(api: &Tenant, step: &Step) -> Result<()> {
    match step {
        Step::CreateFunction(body) => api.call("POST", "/functions", Some(body)).map(drop),
        Step::UpdateFunction { name, changes } => api
            .call(
                "PATCH",
                &format!("/functions/{name}"),
                Some(&Value::Object(changes.clone())),
            )
            .map(drop),
        Step::DeleteFunction(name) => api
            .call("DELETE", &format!("/functions/{name}"), None)
            .map(drop),
        Step::Deploy { name, version } => api
            .call(
                "POST",
                &format!("/functions/{name}/deploy"),
                Some(&json!({ "version": version })),
            )
            .map(drop),
        Step::SetEnv {
            key, value, secret, ..
        } => api
            .call(
                "PUT",
                &format!("/env/{key}"),
                Some(&json!({"value": value, "secret": secret})),
            )
            .map(drop),
        Step::DeleteEnv(key) => api.call("DELETE", &format!("/env/{key}"), None).map(drop),
        Step::SetFetch(allow) => api
            .call("PUT", "/fetch", Some(&json!({ "allow": allow })))
            .map(drop),
    }
}

/// `authpipe logs`: prints execution records, oldest first; with `follow`,
/// keeps printing new ones.
pub fn logs(
    url: &str,
    tenant: &str,
    function: Option<&str>,
    limit: u32,
    follow: bool,
) -> Result<ExitCode> {
    let api = Tenant::new(url, tenant)?;
    let mut path = format!("/executions?limit={limit}");
    if let Some(function) = function {
        path.push_str(&format!("&function={function}"));
    }
    let mut last_seen = String::new();
    loop {
        let page = api.call("GET", &path, None)?;
        let mut records: Vec<&Value> = page["executions"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|r| r["id"].as_str().is_some_and(|id| id > last_seen.as_str()))
            .collect();
        records.reverse();
        for record in records {
            println!("{}", describe(record));
            last_seen = record["id"].as_str().unwrap_or_default().to_string();
        }
        if !follow {
            return Ok(ExitCode::SUCCESS);
        }
        std::thread::sleep(std::time::Duration::from_secs(1));
    }
}

/// One line per record: time, id, what ran, outcome, duration, stages and
/// the error; then the stages' logs, indented.
fn describe(record: &Value) -> String {
    let what = record["trigger"]
        .as_str()
        .or_else(|| record["function"].as_str())
        .unwrap_or("?");
    let stages: Vec<String> = record["stages"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|s| {
            format!(
                "{}@v{}:{}",
                s["function"].as_str().unwrap_or("?"),
                s["version"].as_i64().unwrap_or(0),
                s["outcome"].as_str().unwrap_or("?")
            )
        })
        .collect();
    let mut line = format!(
        "{} {} {what} {} {}µs [{}]",
        record["at"].as_str().unwrap_or(""),
        record["id"].as_str().unwrap_or(""),
        record["outcome"].as_str().unwrap_or("?"),
        record["duration_us"].as_u64().unwrap_or(0),
        stages.join(" ")
    );
    if let Some(error) = record["error"].as_object() {
        line.push_str(&format!(
            " {}: {}",
            error.get("kind").and_then(Value::as_str).unwrap_or(""),
            error.get("message").and_then(Value::as_str).unwrap_or("")
        ));
    }
    for stage in record["stages"].as_array().into_iter().flatten() {
        for log in stage["logs"].as_array().into_iter().flatten() {
            line.push_str(&format!(
                "\n    {} {}: {}",
                stage["function"].as_str().unwrap_or("?"),
                log["level"].as_str().unwrap_or(""),
                log["message"].as_str().unwrap_or("")
            ));
        }
    }
    line
}
