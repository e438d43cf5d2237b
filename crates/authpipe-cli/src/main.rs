//! `authpipe`: compile, run and benchmark auth pipeline functions.

mod bench;
mod fixture;
mod load;
mod replay;
mod templates;
mod testing;

use anyhow::{Context, Result, bail};
use authpipe::fetch::{FetchPolicy, HttpFetcher};
use authpipe::{Environ, Limits, Stage};
use clap::{Args, Parser, Subcommand};
use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

/// Run user-written JavaScript auth pipeline functions in a WebAssembly sandbox.
#[derive(Parser)]
#[command(name = "authpipe", version, about)]
struct Cli {
    #[command(flatten)]
    cache: CacheArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Args)]
struct CacheArgs {
    /// Directory for compiled machine code, reused across runs
    /// [default: $XDG_CACHE_HOME/authpipe or ~/.cache/authpipe].
    #[arg(long, global = true, env = "AUTHPIPE_CACHE_DIR", value_name = "DIR")]
    cache_dir: Option<PathBuf>,
    /// Do not read or write the on-disk cache of compiled code.
    #[arg(long, global = true, env = "AUTHPIPE_NO_CACHE")]
    no_cache: bool,
}

#[derive(Subcommand)]
enum Command {
    /// Compile FN.js into a pre-initialised, self-contained FN.wasm.
    ///
    /// The .wasm runs with `authpipe run` and also under a stock
    /// `wasmtime run FN.wasm < input.json`. Syntax errors are reported as
    /// FILE:LINE:COL on stderr with a non-zero exit status.
    CompileFunction {
        /// The function's JavaScript source.
        source: PathBuf,
        /// Where to write the snapshot [default: FN.wasm beside FN.js].
        #[arg(short, long, value_name = "FN.wasm")]
        output: Option<PathBuf>,
    },
    /// Run one function once and print its result JSON on stdout.
    Run {
        /// The function: JavaScript source (.js) or compiled snapshot (.wasm).
        function: PathBuf,
        #[command(flatten)]
        call: CallArgs,
    },
    /// Serve the HTTP API for the functions of an authpipe.toml.
    ///
    /// POST /v1/pipelines/{trigger}, POST /v1/functions/{name}/invoke,
    /// GET /v1/functions, GET /healthz, GET /metrics, POST /v1/admin/reload.
    /// SIGHUP reloads the configuration; SIGINT/SIGTERM shut down gracefully.
    /// Logs go to stderr (filter with AUTHPIPE_LOG, e.g. `warn`).
    Serve {
        /// The configuration file.
        #[arg(long, short, default_value = "authpipe.toml", env = "AUTHPIPE_CONFIG")]
        config: PathBuf,
        /// Listen address, overriding `[server] listen`.
        #[arg(long, value_name = "ADDR", env = "AUTHPIPE_LISTEN")]
        listen: Option<std::net::SocketAddr>,
    },
    /// Run every function's fixtures, offline, and report what failed.
    ///
    /// A function's fixtures are the *.json files in `fixtures/<name>/`
    /// beside the configuration (or its `fixtures = "DIR"`). Each gives an
    /// input, optional `env` and `trigger`, recorded `fetch` responses, and
    /// expectations (outcome, error, subsets of user, context, claims and
    /// custom_data, log texts, the requests made). The last line is
    /// `N passed, N failed`; the exit status is non-zero on any failure.
    Test {
        /// The configuration file.
        #[arg(long, short, default_value = "authpipe.toml", env = "AUTHPIPE_CONFIG")]
        config: PathBuf,
        /// Only cases whose `function/fixture` name contains this text.
        filter: Option<String>,
    },
    /// Write a runnable project (authpipe.toml, the function, its fixtures)
    /// from a template.
    New {
        /// Template name, as listed by `authpipe templates`.
        template: String,
        /// Directory to create [default: ./TEMPLATE]; must be new or empty.
        dir: Option<PathBuf>,
    },
    /// List the bundled templates with their titles.
    Templates,
    /// Measure per-invocation latency, throughput and fuel of one function.
    ///
    /// Every call runs on a fresh instance; compile time is measured
    /// separately and excluded.
    Bench {
        /// The function: JavaScript source (.js) or compiled snapshot (.wasm).
        function: PathBuf,
        #[command(flatten)]
        call: CallArgs,
        /// Number of measured calls.
        #[arg(short = 'n', long = "calls", default_value_t = 10_000)]
        calls: u64,
        /// Print one JSON object instead of a table.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Args)]
struct CallArgs {
    /// Input JSON file, or `-` for stdin ({"user": {…}, "context": {…}});
    /// a test fixture file works too (its `input` is used).
    #[arg(long, value_name = "FILE|-")]
    input: Option<PathBuf>,
    /// Set `env.K` inside the function (repeatable).
    #[arg(long = "env", value_name = "K=V", value_parser = parse_env)]
    env: Vec<(String, String)>,
    /// Wall-clock limit in milliseconds (1–60000).
    #[arg(long, value_name = "N", default_value_t = authpipe::DEFAULT_TIMEOUT.as_millis() as u64)]
    timeout_ms: u64,
    /// Fuel limit, in Wasm instructions (1e5–1e10).
    #[arg(long, value_name = "N", default_value_t = authpipe::DEFAULT_FUEL)]
    fuel: u64,
    /// Linear-memory limit in MiB (4–1024).
    #[arg(long, value_name = "N", default_value_t = authpipe::DEFAULT_MEMORY_MB)]
    memory_mb: u32,
    /// Let `fetch` reach URLs matching PATTERN, as a `[fetch] allow` entry
    /// (repeatable; e.g. "https://hooks.slack.com/*"). Without it, every
    /// fetch is denied.
    #[arg(long = "allow-fetch", value_name = "PATTERN")]
    allow_fetch: Vec<String>,
}

fn parse_env(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((key, value)) if !key.is_empty() => Ok((key.to_string(), value.to_string())),
        _ => Err(format!("expected K=V, got {text:?}")),
    }
}

impl CallArgs {
    fn limits(&self) -> Result<Limits> {
        let mut limits = Limits::default();
        limits
            .timeout_ms(self.timeout_ms)?
            .fuel(self.fuel)?
            .memory_mb(self.memory_mb)?;
        Ok(limits)
    }

    /// The stage the arguments describe, around `function`.
    fn stage(&self, function: authpipe::Function) -> Result<Stage> {
        let mut stage = Stage {
            env: self.environ()?,
            limits: self.limits()?,
            ..Stage::new(function)
        };
        if !self.allow_fetch.is_empty() {
            let policy = FetchPolicy::new(&self.allow_fetch)?;
            stage.fetch = Arc::new(HttpFetcher::new(policy));
        }
        Ok(stage)
    }

    fn environ(&self) -> Result<Arc<Environ>> {
        Ok(Arc::new(Environ::new(
            self.env.iter().map(|(k, v)| (k, v)),
        )?))
    }

    fn read_input(&self) -> Result<Vec<u8>> {
        let raw = self.read_raw_input()?;
        Ok(fixture::input_of(&raw).unwrap_or(raw))
    }

    fn read_raw_input(&self) -> Result<Vec<u8>> {
        match self.input.as_deref() {
            Some(path) if path != Path::new("-") => {
                std::fs::read(path).with_context(|| format!("cannot read input {}", path.display()))
            }
            _ => {
                let stdin = std::io::stdin();
                if self.input.is_none() && stdin.is_terminal() {
                    bail!("no input: pass --input FILE, or pipe the input JSON into stdin");
                }
                let mut input = Vec::new();
                stdin
                    .lock()
                    .read_to_end(&mut input)
                    .context("cannot read stdin")?;
                Ok(input)
            }
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Serve { config, listen } => return serve(&cli.cache, config, listen),
        Command::Templates => {
            templates::list()?;
            return Ok(ExitCode::SUCCESS);
        }
        Command::New { template, dir } => {
            templates::new(&template, dir.as_deref())?;
            return Ok(ExitCode::SUCCESS);
        }
        _ => {}
    }
    let runtime = load::runtime(&cli.cache)?;
    match cli.command {
        Command::Serve { .. } | Command::Templates | Command::New { .. } => {
            unreachable!("handled above")
        }
        Command::Test { config, filter } => testing::run(&runtime, &config, filter.as_deref()),
        Command::CompileFunction { source, output } => {
            let output = output.unwrap_or_else(|| source.with_extension("wasm"));
            let text = load::read_source(&source)?;
            let snapshot = match runtime.snapshot(&load::function_name(&source), &text) {
                Ok(snapshot) => snapshot,
                Err(error) => return Ok(load::report_compile_error(&source, error)),
            };
            std::fs::write(&output, snapshot)
                .with_context(|| format!("cannot write {}", output.display()))?;
            eprintln!("compiled {} -> {}", source.display(), output.display());
            Ok(ExitCode::SUCCESS)
        }
        Command::Run { function, call } => {
            call.limits()?;
            let input = call.read_input()?;
            let function = match load::function(&runtime, &function)? {
                Ok(function) => function,
                Err(code) => return Ok(code),
            };
            let stage = call.stage(function)?;
            let result = stage.run_blocking(&input);
            let mut stdout = std::io::stdout().lock();
            serde_json::to_writer_pretty(&mut stdout, &result)?;
            writeln!(stdout)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench {
            function,
            call,
            calls,
            json,
        } => bench::run(&runtime, &function, &call, calls, json),
    }
}

fn serve(
    cache: &CacheArgs,
    config_path: PathBuf,
    listen: Option<std::net::SocketAddr>,
) -> Result<ExitCode> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("AUTHPIPE_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    let options = authpipe_server::ServeOptions {
        config_path,
        listen,
        runtime: load::runtime_config(cache),
    };
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the tokio runtime")?
        .block_on(authpipe_server::serve(options))?;
    Ok(ExitCode::SUCCESS)
}
