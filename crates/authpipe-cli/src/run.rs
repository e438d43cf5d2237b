//! `authpipe run`: one call of one function, printed as result JSON; a
//! runtime error's position is shown as a code frame on stderr.

use crate::replay::Replay;
use crate::{CallArgs, load, testing};
use anyhow::{Result, bail};
use authpipe::fetch::{FetchPolicy, Fetcher, HttpFetcher};
use authpipe::{Environ, Function, Limits, Runtime, Stage};
use authpipe_server::config::Trigger;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

/// Which function to run, and with what.
pub struct Target {
    /// A source (`.js`, `.ts`) or compiled (`.wasm`) file.
    pub path: Option<PathBuf>,
    /// A configuration whose function `name` is run with its settings.
    pub config: Option<PathBuf>,
    /// The function's name in `config`.
    pub name: Option<String>,
    /// A test fixture: its input, env and recorded `fetch` responses.
    pub fixture: Option<PathBuf>,
}

/// The function with what the call starts from before the flags apply.
struct Loaded {
    function: Function,
    /// File name and source, for code frames (none for a `.wasm`).
    source: Option<(String, String)>,
    env: Vec<(String, String)>,
    fetch_allow: Vec<String>,
    limits: Limits,
    /// The trigger it runs for unless `--trigger` says otherwise.
    trigger: Option<Trigger>,
}

/// Runs the target once and prints the result JSON.
pub fn run(runtime: &Runtime, target: Target, call: &CallArgs) -> Result<ExitCode> {
    let fixture = match &target.fixture {
        Some(path) => Some(testing::read_fixture(path).map_err(anyhow::Error::msg)?),
        None => None,
    };
    let loaded = match load_target(runtime, &target, call)? {
        Ok(loaded) => loaded,
        Err(code) => return Ok(code),
    };
    let mut env = loaded.env;
    let overrides = fixture
        .as_ref()
        .map(|f| crate::fixture::env_text(&f.env))
        .unwrap_or_default()
        .into_iter()
        .chain(call.env.iter().cloned());
    for (key, value) in overrides {
        env.retain(|(k, _)| *k != key);
        env.push((key, value));
    }
    let mut patterns = loaded.fetch_allow;
    patterns.extend(call.allow_fetch.iter().cloned());
    if target.config.is_none()
        && let Some(fixture) = &fixture
    {
        // Without a configuration, what the fixture recorded is allowed.
        patterns.extend(fixture.fetch.iter().map(|r| r.request.url.clone()));
    }
    let mut policy = FetchPolicy::new(&patterns)?;
    if target.config.is_none() {
        // Refusals name the flag that would allow the URL.
        policy = policy.with_entry_name("--allow-fetch pattern");
    }
    let (input, replay) = match fixture {
        Some(mut fixture) => {
            let recorded = std::mem::take(&mut fixture.fetch);
            let input = serde_json::to_vec(&fixture.input)?;
            (input, Some(Arc::new(Replay::new(policy.clone(), recorded))))
        }
        None => (call.read_input()?, None),
    };
    let fetch: Arc<dyn Fetcher> = match &replay {
        Some(replay) => replay.clone(),
        None => Arc::new(HttpFetcher::new(policy)),
    };
    let mut stage = Stage {
        env: Arc::new(Environ::new(env)?),
        limits: call.limits_over(loaded.limits)?,
        fetch,
        ..Stage::new(loaded.function)
    };
    if let Some(trigger) = call.trigger.or(loaded.trigger) {
        stage = stage.in_trigger(trigger.as_str());
    }
    let result = stage.run_blocking(&input);
    let mut stdout = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut stdout, &result)?;
    writeln!(stdout)?;
    if let (Some(error), Some((file, source))) = (&result.error, &loaded.source)
        && let Some(frame) = crate::frame::for_error(file, source, error)
    {
        eprintln!("error: {}\n{frame}", error.message);
    }
    if let Some(replay) = replay {
        for request in replay.report().unanswered {
            eprintln!(
                "note: no recorded response in the fixture fits {} {}",
                request.method, request.url
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn load_target(
    runtime: &Runtime,
    target: &Target,
    call: &CallArgs,
) -> Result<Result<Loaded, ExitCode>> {
    match (&target.path, &target.config, &target.name) {
        (Some(path), None, None) => {
            let source = match path.extension().is_some_and(|e| e == "wasm") {
                true => None,
                false => Some((load::display_name(path), load::read_source(path)?)),
            };
            Ok(
                load::function(runtime, path, call.flavor)?.map(|function| Loaded {
                    function,
                    source,
                    env: Vec::new(),
                    fetch_allow: Vec::new(),
                    limits: Limits::default(),
                    trigger: None,
                }),
            )
        }
        (None, Some(config_path), Some(name)) => {
            let config = testing::load_config(config_path)?;
            let Some(found) = config.functions.iter().find(|f| f.name == *name) else {
                let names: Vec<&str> = config.functions.iter().map(|f| f.name.as_str()).collect();
                bail!(
                    "{} has no function named {name:?} (its functions: {})",
                    config_path.display(),
                    names.join(", ")
                );
            };
            let flavor = call.flavor.or(found.flavor);
            let compiled =
                runtime.compile_flavored(&found.name, &found.source_file, &found.source, flavor);
            let function = match compiled {
                Ok(function) => function,
                Err(error) => {
                    return Ok(Err(load::report_compile_error(&found.source_path, error)));
                }
            };
            load::print_warnings(function.warnings());
            Ok(Ok(Loaded {
                function,
                source: Some((found.source_file.clone(), found.source.clone())),
                env: config.env.clone(),
                fetch_allow: config.fetch_allow.clone(),
                limits: found.limits,
                trigger: found.triggers.first().copied(),
            }))
        }
        (Some(_), Some(_), _) => {
            bail!("give either the function's file or --config with --function, not both")
        }
        (None, Some(_), None) => bail!("--config needs --function NAME: which function to run"),
        (_, None, Some(_)) => bail!("--function needs --config FILE: the configuration it is in"),
        (None, None, None) => {
            bail!(
                "no function: give its file (.js, .ts or .wasm), or --config FILE --function NAME"
            )
        }
    }
}
