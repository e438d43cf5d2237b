//! `authpipe test`: every function's fixtures, run offline.

use crate::fixture::{self, Fixture};
use crate::replay::Replay;
use anyhow::Result;
use authpipe::{Environ, Function, Runtime, Stage};
use authpipe_server::config::{Config, FunctionConfig, Purpose, Trigger};
use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

/// Characters of the actual result shown under a failure.
const SHOWN_RESULT_CHARS: usize = 1_500;

/// Runs the fixtures of every function in `config_path` whose
/// `function/fixture` name contains `filter`; prints one line per fixture
/// and a summary line `N passed, N failed`.
pub fn run(runtime: &Runtime, config_path: &Path, filter: Option<&str>) -> Result<ExitCode> {
    let config = load_config(config_path)?;
    run_all(runtime, &config, filter)
}

/// Loads `config_path` for offline use: secrets are not needed, so an
/// unset `from_env` variable reads as empty (and is noted), as fixtures
/// supply the values they depend on.
pub fn load_config(config_path: &Path) -> Result<Config> {
    let unset = RefCell::new(Vec::new());
    let config = Config::load_for(
        config_path,
        &|name| {
            std::env::var(name).ok().or_else(|| {
                unset.borrow_mut().push(name.to_string());
                Some(String::new())
            })
        },
        Purpose::Offline,
    )?;
    for name in unset.borrow().iter() {
        println!(
            "note: ${name} is not set; env values taken from it are empty unless a fixture sets them"
        );
    }
    for entry in config.fetch.allow() {
        if let Some(why) = entry.unreachable_because() {
            println!(
                "note: [fetch] allow entry {:?} reaches nothing: {why}",
                entry.as_str()
            );
        }
    }
    Ok(config)
}

/// Runs the fixtures, filtered; prints one line each and the summary.
fn run_all(runtime: &Runtime, config: &Config, filter: Option<&str>) -> Result<ExitCode> {
    let mut summary = Summary::default();
    let mut matched = 0usize;
    for function in &config.functions {
        let files = crate::files::json_files(&function.fixtures)?;
        let files: Vec<PathBuf> = files
            .into_iter()
            .filter(|file| filter.is_none_or(|f| case_name(function, file).contains(f)))
            .collect();
        if files.is_empty() {
            if filter.is_none() {
                println!(
                    "-- {}: no fixtures (looked for *.json in {})",
                    function.name,
                    function.fixtures.display()
                );
            }
            continue;
        }
        matched += files.len();
        let compiled = runtime.compile_flavored(
            &function.name,
            &function.source_file,
            &function.source,
            function.flavor,
        );
        if let Ok(compiled) = &compiled {
            for warning in compiled.warnings() {
                println!("warning: {}: {warning}", function.name);
            }
        }
        for file in files {
            let name = case_name(function, &file);
            let started = Instant::now();
            let problems = match &compiled {
                Ok(compiled) => run_case(config, function, compiled, &file),
                Err(error) => Err(vec![format!(
                    "{}: the function does not compile: {error}",
                    function.source_path.display()
                )]),
            };
            summary.record(&name, started, problems);
        }
    }
    if let Some(filter) = filter.filter(|_| matched == 0) {
        println!("no test case matches {filter:?} (cases are named function/fixture)");
        return Ok(ExitCode::FAILURE);
    }
    println!("{} passed, {} failed", summary.passed, summary.failed);
    Ok(if summary.failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

#[derive(Default)]
struct Summary {
    passed: usize,
    failed: usize,
}

impl Summary {
    fn record(&mut self, name: &str, started: Instant, problems: Result<(), Vec<String>>) {
        let ms = started.elapsed().as_secs_f64() * 1e3;
        match problems {
            Ok(()) => {
                self.passed += 1;
                println!("ok   {name} ({ms:.1} ms)");
            }
            Err(problems) => {
                self.failed += 1;
                println!("FAIL {name} ({ms:.1} ms)");
                for problem in problems {
                    for (i, line) in problem.lines().enumerate() {
                        println!("{}{line}", if i == 0 { "     " } else { "       " });
                    }
                }
            }
        }
    }
}

/// `function/fixture-file-stem`.
fn case_name(function: &FunctionConfig, file: &Path) -> String {
    let stem = file
        .file_stem()
        .map_or_else(String::new, |s| s.to_string_lossy().into_owned());
    format!("{}/{stem}", function.name)
}

/// Runs one fixture; `Err` lists what did not match.
fn run_case(
    config: &Config,
    function: &FunctionConfig,
    compiled: &Function,
    file: &Path,
) -> Result<(), Vec<String>> {
    let mut fixture = read_fixture(file).map_err(|e| vec![e])?;
    let mut problems = Vec::new();
    if let Some(name) = &fixture.trigger {
        match Trigger::parse(name) {
            None => problems.push(format!("trigger: {name:?} is not a trigger")),
            Some(trigger) if !function.triggers.contains(&trigger) => problems.push(format!(
                "trigger: {} does not run on {trigger} (it runs on: {})",
                function.name,
                list(&function.triggers)
            )),
            Some(_) => {}
        }
    }
    let mut env = config.env.clone();
    for (key, value) in fixture::env_text(&fixture.env) {
        env.retain(|(k, _)| *k != key);
        env.push((key, value));
    }
    let environ = Environ::new(env).map_err(|e| vec![format!("env: {e}")])?;
    let recorded = std::mem::take(&mut fixture.fetch);
    let replay = Arc::new(Replay::new(config.fetch.clone(), recorded));
    let mut stage = Stage {
        env: Arc::new(environ),
        limits: function.limits,
        fetch: replay.clone(),
        ..Stage::new(compiled.clone())
    };
    if let Some(trigger) = function.triggers.first() {
        stage = stage.in_trigger(trigger.as_str());
    }
    let input = serde_json::to_vec(&fixture.input).expect("JSON values serialise");
    let result = stage.run_blocking(&input);
    let report = replay.report();
    let mut mismatches = fixture::check(&fixture.expect, &result, &report.made);
    if fixture.expect.fetch.is_none() {
        for request in &report.unanswered {
            mismatches.push(format!(
                "fetch: unexpected request {} {} (no recorded response fits it)",
                request.method, request.url
            ));
        }
    }
    for pattern in &report.unused {
        mismatches.push(format!(
            "fetch: the recorded response for {} was never requested (requests made: {})",
            pattern.describe(),
            fixture::describe_requests(&report.made)
        ));
    }
    problems.extend(mismatches);
    if !problems.is_empty()
        && let Some(frame) = result
            .error
            .as_ref()
            .and_then(|e| crate::frame::for_error(&function.source_file, &function.source, e))
    {
        problems.push(frame);
    }
    if problems.is_empty() {
        return Ok(());
    }
    if let Some(description) = &fixture.description {
        problems.insert(0, format!("({description})"));
    }
    let mut shown = serde_json::to_string(&result).expect("results serialise");
    if shown.len() > SHOWN_RESULT_CHARS {
        let mut cut = SHOWN_RESULT_CHARS;
        while !shown.is_char_boundary(cut) {
            cut -= 1;
        }
        shown.truncate(cut);
        shown.push_str(" …");
    }
    problems.push(format!("actual result: {shown}"));
    Err(problems)
}

pub fn read_fixture(file: &Path) -> Result<Fixture, String> {
    let bytes = authpipe::bounded::read_file_capped(file, authpipe::MAX_SOURCE_BYTES)
        .map_err(|e| e.to_string())?;
    let text = String::from_utf8(bytes)
        .map_err(|_| format!("{}: the fixture is not UTF-8 text", file.display()))?;
    serde_json::from_str(&text).map_err(|e| {
        format!(
            "{}:{}:{}: not a valid fixture: {e}",
            file.display(),
            e.line(),
            e.column()
        )
    })
}

fn list(triggers: &[Trigger]) -> String {
    triggers
        .iter()
        .map(|t| t.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}
