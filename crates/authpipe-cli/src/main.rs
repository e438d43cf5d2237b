//! `authpipe`: compile, run and benchmark auth pipeline functions.

mod bench;
mod files;
mod fixture;
mod frame;
mod import_auth0;
mod load;
mod remote;
mod replay;
mod run;
mod templates;
mod testing;

use anyhow::{Context, Result, bail};
use authpipe::fetch::{FetchPolicy, HttpFetcher};
use authpipe::{Environ, Limits, Stage};
use clap::{Args, Parser, Subcommand};
use std::io::IsTerminal;
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
    /// Size cap of the on-disk cache, in bytes (suffixes K, M, G); the least
    /// recently used entries are removed beyond it.
    #[arg(long, global = true, env = "AUTHPIPE_CACHE_MAX_BYTES", value_name = "SIZE", default_value = "1G", value_parser = parse_size)]
    cache_max_bytes: u64,
}

/// Parses `1048576`, `512K`, `64M` or `1G`.
fn parse_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let (digits, unit) = match text.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((at, _)) => text.split_at(at),
        None => (text, ""),
    };
    let shift = match unit
        .to_ascii_uppercase()
        .trim_end_matches("IB")
        .trim_end_matches('B')
    {
        "" => 0,
        "K" => 10,
        "M" => 20,
        "G" => 30,
        _ => {
            return Err(format!(
                "{text:?}: expected a size like 1048576, 512K, 64M or 1G"
            ));
        }
    };
    digits
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(1 << shift))
        .ok_or_else(|| format!("{text:?}: expected a size like 1048576, 512K, 64M or 1G"))
}

#[derive(Subcommand)]
enum CacheCommand {
    /// Remove cached compiled code and snapshots, least recently used
    /// first, until the cache is within --cache-max-bytes (or empty with
    /// --all).
    Prune {
        /// Remove every entry.
        #[arg(long)]
        all: bool,
    },
}

#[derive(Subcommand)]
enum ImportCommand {
    /// Auth0 Rules and Actions, from the directory `a0deploy export
    /// --format directory` (the Auth0 Deploy CLI) wrote.
    ///
    /// Writes authpipe.toml (a function per rule and action, with its
    /// flavor, trigger, order and enabled state; rules-configs and action
    /// secrets as `from_env` secrets, never their values), the code
    /// unmodified in functions/, and a fixture per function (a typical
    /// Auth0 sign-in, expected to be allowed). Prints what was imported,
    /// what was not, and the environment variables to set.
    Auth0 {
        /// The export: a directory with rules/, actions/, rules-configs/
        /// and triggers/.
        dir: PathBuf,
        /// The project directory to write [default: ./authpipe-auth0];
        /// must be new or empty.
        #[arg(long, short, value_name = "DIR")]
        output: Option<PathBuf>,
    },
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
        /// The shape of the source: authing (`pipe`), auth0-rule or
        /// auth0-action [default: detected].
        #[arg(long, value_name = "FLAVOR", value_parser = parse_flavor)]
        flavor: Option<authpipe::Flavor>,
    },
    /// Run one function once and print its result JSON on stdout.
    Run {
        /// The function: JavaScript (.js) or TypeScript (.ts) source, or a
        /// compiled snapshot (.wasm). Omit it with --config and --function.
        function: Option<PathBuf>,
        /// Run function NAME of this configuration (with --function), with
        /// its limits, [env] and [fetch] allow-list; flags override them.
        #[arg(long, short, value_name = "FILE")]
        config: Option<PathBuf>,
        /// The function of --config to run.
        #[arg(long = "function", value_name = "NAME")]
        name: Option<String>,
        /// A test fixture: its input, env and recorded fetch responses are
        /// used (fetches it has no recording for are refused).
        #[arg(long, value_name = "FILE", conflicts_with = "input")]
        fixture: Option<PathBuf>,
        #[command(flatten)]
        call: CallArgs,
    },
    /// Serve the HTTP API for the functions of an authpipe.toml (file mode)
    /// or for many tenants from a store (store mode, `--store`).
    ///
    /// File mode: POST /v1/pipelines/{trigger}, POST
    /// /v1/functions/{name}/invoke, GET /v1/functions, POST /v1/admin/reload.
    /// Store mode: the management and invocation API under /v1/tenants
    /// (docs/platform.md) and the web console at /console/; it needs
    /// AUTHPIPE_ADMIN_TOKEN, and secrets are sealed with AUTHPIPE_MASTER_KEY
    /// or a key file beside a SQLite database. AUTHPIPE_NODE_ID names this
    /// node in execution records (default: the host name).
    /// Both: GET /healthz, GET /readyz, GET /metrics. SIGHUP reloads; SIGINT/SIGTERM shut
    /// down gracefully. Logs go to stderr, one line per invocation: filter
    /// with AUTHPIPE_LOG (e.g. `warn`, or `info,authpipe::function=debug`),
    /// and set AUTHPIPE_LOG_FORMAT=json for JSON lines.
    Serve {
        /// The configuration file (default authpipe.toml). In store mode
        /// only its [server] table is used.
        #[arg(long, short, env = "AUTHPIPE_CONFIG")]
        config: Option<PathBuf>,
        /// Store mode: a SQLite database file (created if missing; one
        /// node), or a postgres://user:password@host:port/db URL (any number
        /// of nodes; needs AUTHPIPE_MASTER_KEY, the same on every node).
        #[arg(long, value_name = "PATH|URL", env = "AUTHPIPE_STORE")]
        store: Option<PathBuf>,
        /// Listen address, overriding `[server] listen`.
        #[arg(long, value_name = "ADDR", env = "AUTHPIPE_LISTEN")]
        listen: Option<std::net::SocketAddr>,
    },
    /// Make a tenant of a store-mode server match a project (functions as
    /// code): functions (a new version only where something changed),
    /// order, env (`from_env` values are read here and stored as secrets)
    /// and the fetch allow-list. Prints the plan first; a second run prints
    /// "No changes". The token (a manage key of the tenant, or the admin
    /// token) comes from AUTHPIPE_TOKEN.
    Deploy {
        /// The server, e.g. http://127.0.0.1:8080.
        #[arg(long, env = "AUTHPIPE_URL")]
        url: String,
        /// The tenant id.
        #[arg(long)]
        tenant: String,
        /// The project's configuration.
        #[arg(long, short, default_value = "authpipe.toml")]
        config: PathBuf,
        /// Print the plan and change nothing.
        #[arg(long)]
        dry_run: bool,
        /// Also delete functions and env values the project does not have.
        #[arg(long)]
        prune: bool,
    },
    /// Print a tenant's execution records (store mode), oldest first.
    /// The token comes from AUTHPIPE_TOKEN.
    Logs {
        /// The server, e.g. http://127.0.0.1:8080.
        #[arg(long, env = "AUTHPIPE_URL")]
        url: String,
        /// The tenant id.
        #[arg(long)]
        tenant: String,
        /// Only invocations with a stage of this function.
        #[arg(long)]
        function: Option<String>,
        /// How many recent records to print.
        #[arg(long, short = 'n', default_value_t = 20)]
        limit: u32,
        /// Keep printing new records as they arrive.
        #[arg(long, short)]
        follow: bool,
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
    /// Write an authpipe project from another product's exported
    /// functions.
    Import {
        #[command(subcommand)]
        command: ImportCommand,
    },
    /// Manage the on-disk cache of compiled functions.
    Cache {
        #[command(subcommand)]
        command: CacheCommand,
    },
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
        /// Run the function this many times in one pipeline, as that many
        /// stages (each on its own fresh instance, the flow passed on).
        #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=100))]
        stages: u32,
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
    /// Wall-clock limit in milliseconds (1–60000) [default: 3000, or the
    /// function's in --config].
    #[arg(long, value_name = "N")]
    timeout_ms: Option<u64>,
    /// Fuel limit, in Wasm instructions (1e5–1e10) [default: 100000000,
    /// or the function's in --config].
    #[arg(long, value_name = "N")]
    fuel: Option<u64>,
    /// Linear-memory limit in MiB (4–1024) [default: 32, or the function's
    /// in --config].
    #[arg(long, value_name = "N")]
    memory_mb: Option<u32>,
    /// Let `fetch` reach URLs matching PATTERN, as a `[fetch] allow` entry
    /// (repeatable; e.g. "https://hooks.slack.com/*"). Without it, every
    /// fetch is denied.
    #[arg(long = "allow-fetch", value_name = "PATTERN")]
    allow_fetch: Vec<String>,
    /// The shape of the source: authing (`pipe`), auth0-rule or
    /// auth0-action [default: the function's in --config, else detected].
    #[arg(long, value_name = "FLAVOR", value_parser = parse_flavor)]
    flavor: Option<authpipe::Flavor>,
    /// Run as part of this trigger's pipeline: picks an Auth0 action's
    /// handler (post-authentication runs onExecutePostLogin, pre-register
    /// onExecutePreUserRegistration, …) [default: the function's first
    /// trigger in --config].
    #[arg(long, value_name = "TRIGGER", value_parser = parse_trigger)]
    trigger: Option<authpipe_server::config::Trigger>,
}

fn parse_flavor(text: &str) -> Result<authpipe::Flavor, String> {
    text.parse()
        .map_err(|e: authpipe::UnknownFlavor| e.to_string())
}

fn parse_trigger(text: &str) -> Result<authpipe_server::config::Trigger, String> {
    authpipe_server::config::Trigger::parse(text).ok_or_else(|| {
        let known: Vec<&str> = authpipe_server::config::Trigger::ALL
            .iter()
            .map(|t| t.as_str())
            .collect();
        format!(
            "unknown trigger {text:?}; expected one of {}",
            known.join(", ")
        )
    })
}

/// Largest `--input` accepted: the input limit of an invocation.
const MAX_INPUT_FILE_BYTES: usize = authpipe::MAX_INPUT_BYTES;

fn parse_env(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((key, value)) if !key.is_empty() => Ok((key.to_string(), value.to_string())),
        _ => Err(format!("expected K=V, got {text:?}")),
    }
}

impl CallArgs {
    fn limits(&self) -> Result<Limits> {
        self.limits_over(Limits::default())
    }

    /// `base` with the limits the flags set.
    fn limits_over(&self, mut limits: Limits) -> Result<Limits> {
        if let Some(ms) = self.timeout_ms {
            limits.timeout_ms(ms)?;
        }
        if let Some(fuel) = self.fuel {
            limits.fuel(fuel)?;
        }
        if let Some(mb) = self.memory_mb {
            limits.memory_mb(mb)?;
        }
        Ok(limits)
    }

    /// The stage the arguments describe, around `function`.
    fn stage(&self, function: authpipe::Function) -> Result<Stage> {
        let mut stage = Stage {
            env: self.environ()?,
            limits: self.limits()?,
            ..Stage::new(function)
        };
        // Always through a policy, even an empty one, so that refusals name
        // the flag that would allow the URL.
        let policy = FetchPolicy::new(&self.allow_fetch)?.with_entry_name("--allow-fetch pattern");
        stage.fetch = Arc::new(HttpFetcher::new(policy));
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

    /// The input file or stdin, at most [`MAX_INPUT_FILE_BYTES`].
    fn read_raw_input(&self) -> Result<Vec<u8>> {
        match self.input.as_deref() {
            Some(path) if path != Path::new("-") => Ok(authpipe::bounded::read_file_capped(
                path,
                MAX_INPUT_FILE_BYTES,
            )?),
            _ => {
                let stdin = std::io::stdin();
                if self.input.is_none() && stdin.is_terminal() {
                    bail!("no input: pass --input FILE, or pipe the input JSON into stdin");
                }
                Ok(authpipe::bounded::read_capped(
                    stdin.lock(),
                    MAX_INPUT_FILE_BYTES,
                    "the input on stdin",
                )?)
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
        Command::Serve {
            config,
            store,
            listen,
        } => return serve(&cli.cache, config, store, listen),
        Command::Templates => {
            templates::list()?;
            return Ok(ExitCode::SUCCESS);
        }
        Command::Deploy {
            url,
            tenant,
            config,
            dry_run,
            prune,
        } => return remote::deploy(&url, &tenant, &config, dry_run, prune),
        Command::Logs {
            url,
            tenant,
            function,
            limit,
            follow,
        } => return remote::logs(&url, &tenant, function.as_deref(), limit, follow),
        Command::New { template, dir } => {
            templates::new(&template, dir.as_deref())?;
            return Ok(ExitCode::SUCCESS);
        }
        Command::Cache {
            command: CacheCommand::Prune { all },
        } => return prune_cache(&cli.cache, all),
        Command::Import {
            command: ImportCommand::Auth0 { dir, output },
        } => {
            import_auth0::import(&dir, output.as_deref())?;
            return Ok(ExitCode::SUCCESS);
        }
        _ => {}
    }
    let runtime = load::runtime(&cli.cache)?;
    match cli.command {
        Command::Serve { .. }
        | Command::Deploy { .. }
        | Command::Logs { .. }
        | Command::Templates
        | Command::New { .. }
        | Command::Import { .. }
        | Command::Cache { .. } => {
            unreachable!("handled above")
        }
        Command::Test { config, filter } => testing::run(&runtime, &config, filter.as_deref()),
        Command::CompileFunction {
            source,
            output,
            flavor,
        } => {
            let output = output.unwrap_or_else(|| source.with_extension("wasm"));
            let text = load::read_source(&source)?;
            let snapshot =
                match runtime.snapshot_flavored(&load::display_name(&source), &text, flavor) {
                    Ok(snapshot) => snapshot,
                    Err(error) => return Ok(load::report_compile_error(&source, error)),
                };
            load::print_warnings(&authpipe::Runtime::snapshot_warnings(&snapshot)?);
            std::fs::write(&output, snapshot)
                .with_context(|| format!("cannot write {}", output.display()))?;
            eprintln!("compiled {} -> {}", source.display(), output.display());
            Ok(ExitCode::SUCCESS)
        }
        Command::Run {
            function,
            config,
            name,
            fixture,
            call,
        } => {
            call.limits()?;
            let target = run::Target {
                path: function,
                config,
                name,
                fixture,
            };
            run::run(&runtime, target, &call)
        }
        Command::Bench {
            function,
            call,
            calls,
            stages,
            json,
        } => bench::run(&runtime, &function, &call, calls, stages, json),
    }
}

fn prune_cache(cache: &CacheArgs, all: bool) -> Result<ExitCode> {
    let dir = cache
        .cache_dir
        .clone()
        .or_else(authpipe::RuntimeConfig::default_cache_dir)
        .context("no cache directory: set --cache-dir or AUTHPIPE_CACHE_DIR")?;
    let limit = if all { 0 } else { cache.cache_max_bytes };
    let stats = authpipe::prune_cache(&dir, limit, None)?;
    println!(
        "{}: removed {} entries ({} bytes); {} entries ({} bytes) kept",
        dir.display(),
        stats.removed_files,
        stats.removed_bytes,
        stats.kept_files,
        stats.kept_bytes
    );
    Ok(ExitCode::SUCCESS)
}

fn serve(
    cache: &CacheArgs,
    config_path: Option<PathBuf>,
    store: Option<PathBuf>,
    listen: Option<std::net::SocketAddr>,
) -> Result<ExitCode> {
    let filter = tracing_subscriber::EnvFilter::try_from_env("AUTHPIPE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let format = std::env::var("AUTHPIPE_LOG_FORMAT").unwrap_or_default();
    match format.as_str() {
        "json" => tracing_subscriber::fmt()
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .init(),
        "" | "text" => tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .with_ansi(std::io::stderr().is_terminal())
            .init(),
        other => bail!("AUTHPIPE_LOG_FORMAT={other:?}: expected \"text\" or \"json\""),
    }
    let options = authpipe_server::ServeOptions {
        config_path,
        store,
        listen,
        runtime: load::runtime_config(cache),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the tokio runtime")?;
    let served = runtime.block_on(authpipe_server::serve(options));
    // Cancelled sandboxes stop within a millisecond; one blocked in a
    // `fetch` stops at its request's deadline. Do not wait for it.
    runtime.shutdown_timeout(std::time::Duration::from_millis(200));
    served?;
    Ok(ExitCode::SUCCESS)
}
