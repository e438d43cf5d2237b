//! Shared helpers for the end-to-end tests: one runtime per test binary,
//! fixtures compiled through the real guest, and the real `authpipe` binary.

pub mod webdriver;

use authpipe::{Environ, Function, InvocationResult, Limits, Runtime, Stage};
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

/// The sample input of the design document, plus a top-level `context.ip`.
pub const INPUT: &str = include_str!("fixtures/input.json");

/// Directory of the JavaScript fixtures.
pub fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

/// The process-wide runtime (as an embedder would keep it).
pub fn runtime() -> &'static Runtime {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| Runtime::new().expect("runtime"))
}

/// Reads fixture `name` (without `.js`).
pub fn source(name: &str) -> String {
    let path = fixtures_dir().join(format!("{name}.js"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Compiles fixture `name` through the real guest.
pub fn compile(name: &str) -> Function {
    runtime()
        .compile(name, &source(name))
        .unwrap_or_else(|e| panic!("{name} should compile: {e}"))
}

/// Options for one call.
#[derive(Default)]
pub struct Call<'a> {
    pub env: &'a [(&'a str, &'a str)],
    pub limits: Limits,
    pub input: Option<&'a str>,
}

/// Runs `function` once as a single stage.
pub fn run(function: &Function, call: Call<'_>) -> InvocationResult {
    stage(function, &call).run_blocking(call.input.unwrap_or(INPUT).as_bytes())
}

/// A stage for `function` with the call's env and limits.
pub fn stage(function: &Function, call: &Call<'_>) -> Stage {
    Stage {
        env: Arc::new(Environ::new(call.env.iter().copied()).expect("env")),
        limits: call.limits,
        ..Stage::new(function.clone())
    }
}

/// Runs `function` once with `env` and otherwise default settings.
pub fn run_env(function: &Function, env: &[(&str, &str)]) -> InvocationResult {
    run(
        function,
        Call {
            env,
            ..Call::default()
        },
    )
}

/// Compiles and runs fixture `name` once with default settings.
pub fn run_fixture(name: &str) -> InvocationResult {
    run(&compile(name), Call::default())
}

/// Limits with the given overrides.
pub fn limits(timeout_ms: Option<u64>, fuel: Option<u64>, memory_mb: Option<u32>) -> Limits {
    let mut limits = Limits::default();
    if let Some(ms) = timeout_ms {
        limits.timeout_ms(ms).expect("timeout in range");
    }
    if let Some(fuel) = fuel {
        limits.fuel(fuel).expect("fuel in range");
    }
    if let Some(mb) = memory_mb {
        limits.memory_mb(mb).expect("memory in range");
    }
    limits
}

/// The `authpipe` binary built beside this test binary
/// (`target/<profile>/authpipe`).
pub fn authpipe_bin() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile> directory");
    let bin = dir.join("authpipe");
    assert!(
        bin.exists(),
        "{} is missing: build it first with `cargo build --release --workspace` (`just test` does)",
        bin.display()
    );
    bin
}

/// A fresh, empty directory under the target directory.
pub fn temp_dir(label: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    let base = exe
        .parent()
        .and_then(Path::parent)
        .expect("target dir")
        .join("test-tmp");
    let dir = base.join(format!("{label}-{}-{}", std::process::id(), unique()));
    std::fs::create_dir_all(&dir).expect("create temp dir");
    dir
}

/// An on-disk cache shared by the servers of one test run.
pub fn shared_cache_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    exe.parent()
        .and_then(Path::parent)
        .expect("target dir")
        .join("test-tmp")
        .join("shared-cache")
}

fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// Runs a compiled function's `.wasm` under wasmtime-wasi's standard WASI
/// preview-1 host, the way `wasmtime run FN.wasm < input.json` does, and
/// returns what it printed on stdout.
pub fn run_under_stock_wasi(
    wasm: &[u8],
    env: &[(&str, &str)],
    input: &str,
) -> anyhow::Result<Vec<u8>> {
    use wasmtime_wasi::p2::pipe::{MemoryInputPipe, MemoryOutputPipe};
    let engine = wasmtime::Engine::default();
    let module = wasmtime::Module::new(&engine, wasm)?;
    let mut linker = wasmtime::Linker::new(&engine);
    wasmtime_wasi::p1::add_to_linker_sync(&mut linker, |ctx| ctx)?;
    let stdout = MemoryOutputPipe::new(4 << 20);
    let wasi = wasmtime_wasi::WasiCtxBuilder::new()
        .stdin(MemoryInputPipe::new(input.as_bytes().to_vec()))
        .stdout(stdout.clone())
        .envs(env)
        .build_p1();
    let mut store = wasmtime::Store::new(&engine, wasi);
    let instance = linker.instantiate(&mut store, &module)?;
    instance
        .get_typed_func::<(), ()>(&mut store, "_start")?
        .call(&mut store, ())?;
    drop(store);
    Ok(stdout.contents().to_vec())
}

/// A real `authpipe serve` process on 127.0.0.1 (ephemeral port), with its
/// own project directory. Killed (SIGTERM) when dropped.
pub struct Server {
    child: std::process::Child,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// The project directory (holds authpipe.toml).
    pub dir: PathBuf,
    stderr: Arc<std::sync::Mutex<String>>,
    agent: ureq::Agent,
}

/// An HTTP answer: status, headers of interest and body.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: String,
    pub retry_after: Option<String>,
    pub request_id: Option<String>,
    pub content_type: Option<String>,
    /// Every header, names in lowercase.
    pub headers: Vec<(String, String)>,
}

impl Answer {
    /// The first value of header `name` (lowercase).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

/// Writes a project: `authpipe.toml` with `config`, and `functions/NAME.js`
/// for each `(NAME, source)`.
pub fn write_project(label: &str, config: &str, functions: &[(&str, &str)]) -> PathBuf {
    let dir = temp_dir(label);
    std::fs::create_dir_all(dir.join("functions")).unwrap();
    std::fs::write(dir.join("authpipe.toml"), config).unwrap();
    for (name, source) in functions {
        std::fs::write(dir.join("functions").join(format!("{name}.js")), source).unwrap();
    }
    dir
}

impl Server {
    /// Starts `authpipe serve` on the project in `dir` with extra process
    /// environment `env`; panics with the server's stderr if it does not
    /// become ready.
    pub fn start(dir: &Path, env: &[(&str, &str)]) -> Server {
        match Server::try_start(dir, env) {
            Ok(server) => server,
            Err(stderr) => panic!("the server did not start:\n{stderr}"),
        }
    }

    /// Like [`Server::start`], but returns the server's stderr (and exit) on
    /// failure.
    pub fn try_start(dir: &Path, env: &[(&str, &str)]) -> Result<Server, String> {
        let config = dir.join("authpipe.toml");
        Server::try_start_with(dir, &["--config".as_ref(), config.as_os_str()], env)
    }

    /// Starts `authpipe serve --store DIR/authpipe.db` (store mode) with
    /// `env` (which needs `AUTHPIPE_ADMIN_TOKEN`).
    pub fn start_store(dir: &Path, env: &[(&str, &str)]) -> Server {
        match Server::try_start_store(dir, env) {
            Ok(server) => server,
            Err(stderr) => panic!("the server did not start:\n{stderr}"),
        }
    }

    /// Like [`Server::start_store`], but returns the server's stderr on
    /// failure.
    pub fn try_start_store(dir: &Path, env: &[(&str, &str)]) -> Result<Server, String> {
        let db = dir.join("authpipe.db");
        Server::try_start_with(dir, &["--store".as_ref(), db.as_os_str()], env)
    }

    /// `authpipe serve ARGS --listen 127.0.0.1:0` in `dir`.
    pub fn try_start_with(
        dir: &Path,
        args: &[&std::ffi::OsStr],
        env: &[(&str, &str)],
    ) -> Result<Server, String> {
        use std::io::BufRead;
        let mut command = std::process::Command::new(authpipe_bin());
        command
            .arg("serve")
            .args(args)
            .args(["--listen", "127.0.0.1:0"])
            .current_dir(dir)
            .env("AUTHPIPE_CACHE_DIR", shared_cache_dir())
            .env("AUTHPIPE_LOG", "info")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped());
        for (k, v) in env {
            command.env(k, v);
        }
        let mut child = command.spawn().expect("authpipe serve starts");
        let stderr = Arc::new(std::sync::Mutex::new(String::new()));
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let reader = std::io::BufReader::new(child.stderr.take().unwrap());
        let sink = stderr.clone();
        std::thread::spawn(move || {
            for line in reader.lines().map_while(Result::ok) {
                {
                    let mut all = sink.lock().unwrap();
                    all.push_str(&line);
                    all.push('\n');
                }
                if let Some(rest) = line.strip_prefix("authpipe: listening on ") {
                    let base = rest
                        .split_whitespace()
                        .next()
                        .unwrap_or_default()
                        .to_string();
                    let _ = ready_tx.send(base);
                }
            }
        });
        match ready_rx.recv_timeout(std::time::Duration::from_secs(120)) {
            Ok(base) => Ok(Server {
                child,
                base,
                dir: dir.to_path_buf(),
                stderr,
                agent: ureq::Agent::config_builder()
                    .http_status_as_error(false)
                    .build()
                    .into(),
            }),
            Err(_) => {
                let status = child.wait().ok();
                std::thread::sleep(std::time::Duration::from_millis(100));
                Err(format!("exit {status:?}\n{}", stderr.lock().unwrap()))
            }
        }
    }

    /// Everything the server wrote on stderr so far.
    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The server's `host:port`.
    pub fn addr(&self) -> String {
        self.base.trim_start_matches("http://").to_string()
    }

    /// The server's resident memory, in KiB.
    pub fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()))
            .expect("/proc status of the server");
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
            .expect("VmRSS")
    }

    /// `method` `path` with extra `headers` and `body`.
    pub fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&str>,
    ) -> Answer {
        let uri = format!("{}{path}", self.base);
        let mut builder = ureq::http::Request::builder().method(method).uri(uri);
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        let request = builder
            .body(body.unwrap_or_default().to_string())
            .expect("request");
        answer(self.agent.run(request))
    }

    /// `method` `path` with bearer `token` and JSON `body`: the status and
    /// the answer's JSON (`null` when it is not JSON), and the whole answer.
    pub fn call_json(
        &self,
        method: &str,
        path: &str,
        token: &str,
        body: Option<serde_json::Value>,
    ) -> (u16, serde_json::Value, Answer) {
        let auth = format!("Bearer {token}");
        let body = body.map(|b| b.to_string());
        let answer = self.request(
            method,
            path,
            &[
                ("authorization", &auth),
                ("content-type", "application/json"),
            ],
            body.as_deref(),
        );
        let value = serde_json::from_str(&answer.body).unwrap_or(serde_json::Value::Null);
        (answer.status, value, answer)
    }

    /// GET `path`.
    pub fn get(&self, path: &str, token: Option<&str>) -> Answer {
        let mut request = self.agent.get(format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.header("Authorization", format!("Bearer {token}"));
        }
        answer(request.call())
    }

    /// POST `body` to `path`.
    pub fn post(&self, path: &str, body: &str, token: Option<&str>) -> Answer {
        let mut request = self
            .agent
            .post(format!("{}{path}", self.base))
            .header("Content-Type", "application/json");
        if let Some(token) = token {
            request = request.header("Authorization", format!("Bearer {token}"));
        }
        answer(request.send(body))
    }

    /// Sends `signal` (e.g. "HUP", "TERM") to the server.
    pub fn signal(&self, signal: &str) {
        let status = std::process::Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.pid().to_string())
            .status()
            .expect("kill runs");
        assert!(status.success());
    }

    /// Waits for the process to exit (after a signal); its exit status.
    pub fn wait(&mut self) -> std::process::ExitStatus {
        self.child.wait().expect("wait")
    }
}

fn answer(result: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Answer {
    let mut response = result.expect("HTTP request");
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let (retry_after, request_id, content_type) = (
        header("retry-after"),
        header("x-request-id"),
        header("content-type"),
    );
    let headers = response
        .headers()
        .iter()
        .map(|(n, v)| (n.as_str().to_string(), v.to_str().unwrap_or("").to_string()))
        .collect();
    Answer {
        headers,
        status: response.status().as_u16(),
        body: response.body_mut().read_to_string().unwrap_or_default(),
        retry_after,
        request_id,
        content_type,
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = std::process::Command::new("kill")
                .arg(self.child.id().to_string())
                .status();
        }
        let _ = self.child.wait();
    }
}

/// A real HTTP/1.1 server on 127.0.0.1 (ephemeral port) for `fetch` tests,
/// one thread per connection, each connection closed after one answer.
///
/// Routes: `/hello` (text, header `x-test: yes`), `/json`,
/// `/.well-known/jwks.json` (the JWK set of `fixtures/jwt`), `/echo` (the
/// request as JSON), `/status/404`, `/redirect-to-hello`,
/// `/redirect-to-metadata` (to 169.254.169.254), `/slow` (answers after 3 s),
/// `/huge` (a 2 MiB body). Every request is recorded as `METHOD PATH`.
pub struct WebServer {
    /// The port it listens on.
    pub port: u16,
    requests: Arc<std::sync::Mutex<Vec<String>>>,
}

impl WebServer {
    /// Starts the server; it lives as long as the test process.
    pub fn start() -> WebServer {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let port = listener.local_addr().expect("local address").port();
        let requests = Arc::new(std::sync::Mutex::new(Vec::new()));
        let log = requests.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let log = log.clone();
                std::thread::spawn(move || serve_one(stream, &log));
            }
        });
        WebServer { port, requests }
    }

    /// `http://127.0.0.1:PORT{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// The requests received so far, as `METHOD PATH`.
    pub fn requests(&self) -> Vec<String> {
        self.requests.lock().expect("request log").clone()
    }
}

fn serve_one(mut stream: std::net::TcpStream, log: &std::sync::Mutex<Vec<String>>) {
    use std::io::{BufRead, BufReader, Read, Write};
    let mut reader = BufReader::new(stream.try_clone().expect("clone stream"));
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    let mut parts = request_line.split_whitespace();
    let (method, path) = (
        parts.next().unwrap_or("").to_string(),
        parts.next().unwrap_or("").to_string(),
    );
    let mut headers = serde_json::Map::new();
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
            break;
        }
        if let Some((name, value)) = line.trim_end().split_once(':') {
            let (name, value) = (name.trim().to_ascii_lowercase(), value.trim().to_string());
            if name == "content-length" {
                length = value.parse().unwrap_or(0);
            }
            headers.insert(name, value.into());
        }
    }
    let mut body = vec![0u8; length];
    if reader.read_exact(&mut body).is_err() {
        return;
    }
    log.lock()
        .expect("request log")
        .push(format!("{method} {path}"));
    let text = |status: &str, extra: &str, body: &[u8]| {
        let mut out = format!(
            "HTTP/1.1 {status}\r\ncontent-length: {}\r\nconnection: close\r\n{extra}\r\n",
            body.len()
        )
        .into_bytes();
        out.extend_from_slice(body);
        out
    };
    let route = path.split('?').next().unwrap_or_default();
    let answer = match route {
        "/hello" => text(
            "200 OK",
            "content-type: text/plain\r\nx-test: yes\r\n",
            b"hello",
        ),
        "/json" => text(
            "200 OK",
            "content-type: application/json\r\n",
            br#"{"ok":true,"n":42}"#,
        ),
        "/.well-known/jwks.json" => text(
            "200 OK",
            "content-type: application/json\r\n",
            include_bytes!("fixtures/jwt/jwks.json"),
        ),
        "/echo" => {
            let echo = serde_json::json!({
                "method": method,
                "path": path,
                "headers": headers,
                "body": String::from_utf8_lossy(&body),
            });
            text(
                "200 OK",
                "content-type: application/json\r\n",
                echo.to_string().as_bytes(),
            )
        }
        "/status/404" => text("404 Not Found", "content-type: text/plain\r\n", b"not here"),
        "/redirect-to-hello" => text("302 Found", "location: /hello\r\n", b""),
        // `/redirect?to=URL`: a redirect to URL (given without escapes).
        "/redirect" => {
            let target = path.split_once("?to=").map_or("/hello", |(_, to)| to);
            text(
                "307 Temporary Redirect",
                &format!("location: {target}\r\n"),
                b"",
            )
        }
        "/redirect-to-metadata" => text(
            "302 Found",
            "location: http://169.254.169.254/latest/meta-data/\r\n",
            b"",
        ),
        "/slow" => {
            std::thread::sleep(std::time::Duration::from_secs(3));
            text("200 OK", "", b"finally")
        }
        "/huge" => text(
            "200 OK",
            "content-type: text/plain\r\n",
            &vec![b'x'; 2 << 20],
        ),
        _ => text("404 Not Found", "", b""),
    };
    let _ = stream.write_all(&answer);
}

/// A throwaway PostgreSQL cluster shared by the tests of one test binary
/// (`scripts/postgres.sh`, on a free port), stopped by a watchdog process
/// when the binary exits however it exits. Without PostgreSQL installed,
/// the tests that ask for it fail with the script's message.
struct PostgresCluster {
    /// `postgres://postgres@127.0.0.1:PORT` (no database).
    server: String,
    /// Waits for this process to exit (its stdin closes), then stops the
    /// cluster; held so the pipe stays open until exit.
    _watchdog: std::process::Child,
}

fn postgres_cluster() -> &'static PostgresCluster {
    use std::os::unix::process::CommandExt;
    use std::process::{Command, Stdio};
    static CLUSTER: OnceLock<PostgresCluster> = OnceLock::new();
    CLUSTER.get_or_init(|| {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/postgres.sh");
        let dir = std::env::temp_dir().join(format!("authpipe-e2e-pg-{}", std::process::id()));
        let _ = Command::new("bash")
            .args([script, "stop"])
            .arg(&dir)
            .stderr(Stdio::null())
            .status();
        let watchdog = Command::new("bash")
            .arg("-c")
            .arg("read -r _ || true; exec bash \"$0\" stop \"$1\"")
            .arg(script)
            .arg(&dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .expect("bash runs");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let output = Command::new("bash")
            .args([script, "start"])
            .arg(&dir)
            .arg(port.to_string())
            .output()
            .expect("bash runs");
        assert!(
            output.status.success(),
            "scripts/postgres.sh start failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        );
        let url = String::from_utf8(output.stdout).expect("UTF-8");
        let server = url
            .trim()
            .strip_suffix("/authpipe")
            .unwrap_or_else(|| panic!("unexpected URL {url:?}"))
            .to_string();
        PostgresCluster {
            server,
            _watchdog: watchdog,
        }
    })
}

/// The URL of a fresh, empty database on the test binary's PostgreSQL
/// cluster (started on first use).
pub fn postgres_database(label: &str) -> String {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let server = &postgres_cluster().server;
    let name = format!(
        "e2e_{}_{}",
        label.replace(|c: char| !c.is_ascii_alphanumeric(), "_"),
        NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    );
    let status = std::process::Command::new("psql")
        .args(["-q", "-v", "ON_ERROR_STOP=1", "-c"])
        .arg(format!("CREATE DATABASE {name}"))
        .arg(format!("{server}/postgres"))
        .status()
        .expect("psql runs (Debian's postgresql-client)");
    assert!(status.success(), "cannot create database {name}");
    format!("{server}/{name}")
}
