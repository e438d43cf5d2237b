//! A minimal W3C WebDriver client driving headless Debian Chromium through
//! `chromedriver`, for end-to-end tests of the web console.
//!
//! ```text
//! let browser = Browser::start()?;
//! browser.goto("http://127.0.0.1:8080/")?;
//! browser.find("#name")?.send_keys("alice")?;
//! browser.find("button[type=submit]")?.click()?;
//! browser.wait_for(".welcome")?;
//! ```
//!
//! Everything is blocking; waits poll every 50 ms up to [`Browser::timeout`]
//! (10 s unless changed with [`Browser::set_timeout`]). Dropping the
//! [`Browser`] closes the session, stops `chromedriver` and removes the
//! temporary profile directory.

use anyhow::{Context, Result, anyhow, bail};
use serde_json::{Value, json};
use std::cell::{Cell, RefCell};
use std::fmt;
use std::fs::File;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::rc::Rc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};
use std::thread::sleep;
use std::time::{Duration, Instant};

/// The W3C key of an element reference in JSON.
pub const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// How long waits last unless changed with [`Browser::set_timeout`].
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// How often waits poll.
const POLL: Duration = Duration::from_millis(50);

/// How long `chromedriver` may take to report ready.
const DRIVER_READY_TIMEOUT: Duration = Duration::from_secs(20);

/// Debian's chromedriver.
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// Debian's Chromium. The real binary is preferred to the `/usr/bin`
/// wrapper script, which exports Google API keys and adds extension flags
/// (with them Chromium looks up accounts.google.com and others).
const CHROMIUM: &[&str] = &["/usr/lib/chromium/chromium", "/usr/bin/chromium"];

/// The message when the browser is not installed.
const MISSING: &str = "Chromium and chromedriver are missing: run `just setup` \
                       (installs Debian's chromium and chromium-driver)";

/// Chromium flags: headless, root-friendly, and never reaching out to the
/// network on its own (the machine's network is closed).
const CHROMIUM_ARGS: &[&str] = &[
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--disable-domain-reliability",
    "--disable-client-side-phishing-detection",
    "--disable-features=Translate,OptimizationHints,MediaRouter,DialMediaRouteProvider",
    "--metrics-recording-only",
    "--password-store=basic",
    "--window-size=1280,800",
    // Resolve no host name but the loopback ones: whatever Chromium would
    // fetch on its own (accounts.google.com, clients2.google.com, ...)
    // fails at once, without any DNS query.
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE localhost , EXCLUDE 127.0.0.1 , EXCLUDE [::1]",
];

/// WebDriver key codes, for [`Element::send_keys`], [`Browser::press_keys`]
/// and [`Browser::chord`]. Concatenate them with ordinary text:
/// `format!("abc{}", Key::ENTER)`.
pub struct Key;

impl Key {
    /// Releases all held modifiers (in `send_keys`/`press_keys` text).
    pub const NULL: &'static str = "\u{E000}";
    /// The cancel key.
    pub const CANCEL: &'static str = "\u{E001}";
    /// The help key.
    pub const HELP: &'static str = "\u{E002}";
    /// The backspace key.
    pub const BACKSPACE: &'static str = "\u{E003}";
    /// The tab key.
    pub const TAB: &'static str = "\u{E004}";
    /// The clear key.
    pub const CLEAR: &'static str = "\u{E005}";
    /// The return key.
    pub const RETURN: &'static str = "\u{E006}";
    /// The enter key.
    pub const ENTER: &'static str = "\u{E007}";
    /// The shift key.
    pub const SHIFT: &'static str = "\u{E008}";
    /// The control key.
    pub const CONTROL: &'static str = "\u{E009}";
    /// The alt key.
    pub const ALT: &'static str = "\u{E00A}";
    /// The pause key.
    pub const PAUSE: &'static str = "\u{E00B}";
    /// The escape key.
    pub const ESCAPE: &'static str = "\u{E00C}";
    /// The space key.
    pub const SPACE: &'static str = "\u{E00D}";
    /// The page up key.
    pub const PAGE_UP: &'static str = "\u{E00E}";
    /// The page down key.
    pub const PAGE_DOWN: &'static str = "\u{E00F}";
    /// The end key.
    pub const END: &'static str = "\u{E010}";
    /// The home key.
    pub const HOME: &'static str = "\u{E011}";
    /// The arrow left key.
    pub const ARROW_LEFT: &'static str = "\u{E012}";
    /// The arrow up key.
    pub const ARROW_UP: &'static str = "\u{E013}";
    /// The arrow right key.
    pub const ARROW_RIGHT: &'static str = "\u{E014}";
    /// The arrow down key.
    pub const ARROW_DOWN: &'static str = "\u{E015}";
    /// The insert key.
    pub const INSERT: &'static str = "\u{E016}";
    /// The delete key.
    pub const DELETE: &'static str = "\u{E017}";
    /// The F1 key.
    pub const F1: &'static str = "\u{E031}";
    /// The F2 key.
    pub const F2: &'static str = "\u{E032}";
    /// The F3 key.
    pub const F3: &'static str = "\u{E033}";
    /// The F4 key.
    pub const F4: &'static str = "\u{E034}";
    /// The F5 key.
    pub const F5: &'static str = "\u{E035}";
    /// The F6 key.
    pub const F6: &'static str = "\u{E036}";
    /// The F7 key.
    pub const F7: &'static str = "\u{E037}";
    /// The F8 key.
    pub const F8: &'static str = "\u{E038}";
    /// The F9 key.
    pub const F9: &'static str = "\u{E039}";
    /// The F10 key.
    pub const F10: &'static str = "\u{E03A}";
    /// The F11 key.
    pub const F11: &'static str = "\u{E03B}";
    /// The F12 key.
    pub const F12: &'static str = "\u{E03C}";
    /// The meta key.
    pub const META: &'static str = "\u{E03D}";
}

/// Whether `c` is a modifier key code (held until released).
fn is_modifier(c: char) -> bool {
    matches!(c, '\u{E008}' | '\u{E009}' | '\u{E00A}' | '\u{E03D}')
}

/// An error reported by the WebDriver server (`{"value":{"error":...}}`).
/// Reachable from an `anyhow::Error` with `downcast_ref::<WebDriverError>()`.
#[derive(Debug, Clone)]
pub struct WebDriverError {
    /// The W3C error code, e.g. `no such element`.
    pub code: String,
    /// The first line of the server's message.
    pub message: String,
}

impl fmt::Display for WebDriverError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "WebDriver error `{}`: {}", self.code, self.message)
    }
}

impl std::error::Error for WebDriverError {}

/// The WebDriver error code carried by `e`, if any.
fn code_of(e: &anyhow::Error) -> Option<&str> {
    e.downcast_ref::<WebDriverError>().map(|w| w.code.as_str())
}

/// A headless Chromium driven through its own `chromedriver` process.
pub struct Browser {
    agent: ureq::Agent,
    /// `http://127.0.0.1:PORT`.
    base: String,
    /// Empty until the session exists.
    session: String,
    driver: Child,
    /// Temporary directory: the Chromium profile and the driver's log.
    dir: PathBuf,
    /// Chromium's main process, from the `goog:processID` capability.
    chromium_pid: Option<u64>,
    timeout: Cell<Duration>,
}

impl Browser {
    /// Starts `chromedriver` on a free loopback port and opens a session on a
    /// fresh headless Chromium profile. Fails (never skips) when Chromium or
    /// chromedriver is not installed.
    pub fn start() -> Result<Browser> {
        let chromedriver = find_binary(CHROMEDRIVER, "chromedriver");
        let chromium = CHROMIUM
            .iter()
            .map(PathBuf::from)
            .find(|p| p.is_file())
            .or_else(|| find_binary("/usr/bin/chromium", "chromium"));
        let (chromedriver, chromium) = match (chromedriver, chromium) {
            (Some(d), Some(c)) => (d, c),
            (d, c) => {
                let missing: Vec<&str> = [(d.is_none(), "chromedriver"), (c.is_none(), "chromium")]
                    .iter()
                    .filter(|(m, _)| *m)
                    .map(|(_, n)| *n)
                    .collect();
                bail!("{MISSING}; not found: {}", missing.join(", "));
            }
        };
        let dir = fresh_temp_dir()?;
        let log_path = dir.join("chromedriver.log");
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .proxy(None)
            .timeout_global(Some(Duration::from_secs(30)))
            .timeout_connect(Some(Duration::from_secs(5)))
            .build()
            .into();
        // Free port then spawn is racy between threads of one test binary:
        // serialise driver start-ups in this process.
        static STARTING: Mutex<()> = Mutex::new(());
        let starting = STARTING
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let spawned = free_port().and_then(|port| {
            let log = File::create(&log_path)
                .with_context(|| format!("creating {}", log_path.display()))?;
            let log2 = log
                .try_clone()
                .context("cloning the chromedriver log file")?;
            let child = Command::new(&chromedriver)
                .arg(format!("--port={port}"))
                // Chromium inherits these: its crash database and caches stay
                // in the temporary directory instead of ~/.config/chromium.
                .env("XDG_CONFIG_HOME", dir.join("config"))
                .env("XDG_CACHE_HOME", dir.join("cache"))
                .stdin(Stdio::null())
                .stdout(log)
                .stderr(log2)
                .spawn()
                .with_context(|| format!("starting {}", chromedriver.display()))?;
            Ok((port, child))
        });
        let (port, driver) = match spawned {
            Ok(spawned) => spawned,
            Err(e) => {
                let _ = std::fs::remove_dir_all(&dir);
                return Err(e);
            }
        };
        // From here on, Drop cleans up whatever exists.
        let mut browser = Browser {
            agent,
            base: format!("http://127.0.0.1:{port}"),
            session: String::new(),
            driver,
            dir,
            chromium_pid: None,
            timeout: Cell::new(DEFAULT_TIMEOUT),
        };
        browser.wait_driver_ready(&log_path)?;
        drop(starting);
        let profile = browser.dir.join("profile");
        let mut args: Vec<String> = CHROMIUM_ARGS.iter().map(|s| s.to_string()).collect();
        args.push(format!("--user-data-dir={}", profile.display()));
        let capabilities = json!({
            "capabilities": {
                "alwaysMatch": {
                    "browserName": "chrome",
                    "pageLoadStrategy": "normal",
                    "timeouts": { "implicit": 0, "pageLoad": 20000, "script": 20000 },
                    "goog:chromeOptions": {
                        "binary": chromium.to_string_lossy(),
                        "args": args,
                    },
                    "goog:loggingPrefs": { "browser": "ALL" },
                }
            }
        });
        let url = format!("{}/session", browser.base);
        let created = browser
            .request("POST", &url, Some(&capabilities))
            .with_context(|| {
                format!(
                    "creating a Chromium session ({}); chromedriver log:\n{}",
                    chromium.display(),
                    tail(&log_path)
                )
            })?;
        browser.session = created["sessionId"]
            .as_str()
            .ok_or_else(|| anyhow!("new session: no sessionId in {created}"))?
            .to_string();
        browser.chromium_pid = created["capabilities"]["goog:processID"].as_u64();
        Ok(browser)
    }

    /// Polls `/status` until chromedriver is ready.
    fn wait_driver_ready(&mut self, log_path: &Path) -> Result<()> {
        let deadline = Instant::now() + DRIVER_READY_TIMEOUT;
        let url = format!("{}/status", self.base);
        loop {
            if let Ok(Some(status)) = self.driver.try_wait() {
                bail!(
                    "chromedriver exited ({status}) before becoming ready; its output:\n{}",
                    tail(log_path)
                );
            }
            if let Ok(v) = self.request("GET", &url, None)
                && v["ready"].as_bool() == Some(true)
                && matches!(self.driver.try_wait(), Ok(None))
            {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!(
                    "chromedriver not ready on {} after {:?}; its output:\n{}",
                    self.base,
                    DRIVER_READY_TIMEOUT,
                    tail(log_path)
                );
            }
            sleep(POLL);
        }
    }

    /// The current wait timeout (for `find`, `wait_*`, click retries).
    pub fn timeout(&self) -> Duration {
        self.timeout.get()
    }

    /// Changes the wait timeout (default [`DEFAULT_TIMEOUT`]).
    pub fn set_timeout(&self, timeout: Duration) {
        self.timeout.set(timeout);
    }

    /// One HTTP exchange with chromedriver: returns the response's `value`,
    /// or a [`WebDriverError`] (as `anyhow::Error`) when it reports one.
    fn request(&self, method: &str, url: &str, body: Option<&Value>) -> Result<Value> {
        let response = match method {
            "GET" => self.agent.get(url).call(),
            "DELETE" => self.agent.delete(url).call(),
            "POST" => self.agent.post(url).send_json(body.unwrap_or(&json!({}))),
            other => bail!("unsupported method {other}"),
        }
        .with_context(|| format!("{method} {url}"))?;
        let status = response.status();
        let text = response
            .into_body()
            .with_config()
            .limit(256 * 1024 * 1024)
            .read_to_string()
            .with_context(|| format!("{method} {url}: reading the response"))?;
        let parsed: Value = serde_json::from_str(&text).with_context(|| {
            format!(
                "{method} {url}: HTTP {status}, not JSON: {}",
                first_line(&text)
            )
        })?;
        let value = match parsed {
            Value::Object(mut map) => map.remove("value").unwrap_or(Value::Null),
            other => other,
        };
        if let Some(code) = value.get("error").and_then(Value::as_str) {
            let message = value.get("message").and_then(Value::as_str).unwrap_or("");
            return Err(WebDriverError {
                code: code.to_string(),
                message: first_line(message),
            }
            .into());
        }
        if !status.is_success() {
            bail!("{method} {url}: HTTP {status}: {}", first_line(&text));
        }
        Ok(value)
    }

    /// A command on the session: `path` is relative to `/session/{id}`.
    fn cmd(&self, method: &str, path: &str, body: Option<Value>) -> Result<Value> {
        let url = format!("{}/session/{}{path}", self.base, self.session);
        self.request(method, &url, body.as_ref())
    }

    /// Navigates to `url` and waits for the page load.
    pub fn goto(&self, url: &str) -> Result<()> {
        self.cmd("POST", "/url", Some(json!({ "url": url })))
            .with_context(|| format!("goto {url}"))?;
        Ok(())
    }

    /// Reloads the current page.
    pub fn refresh(&self) -> Result<()> {
        self.cmd("POST", "/refresh", None).context("refresh")?;
        Ok(())
    }

    /// Goes back in history.
    pub fn back(&self) -> Result<()> {
        self.cmd("POST", "/back", None).context("back")?;
        Ok(())
    }

    /// The current page's URL.
    pub fn url(&self) -> Result<String> {
        let v = self.cmd("GET", "/url", None).context("get current URL")?;
        Ok(v.as_str().unwrap_or_default().to_string())
    }

    /// The current page's title.
    pub fn title(&self) -> Result<String> {
        let v = self.cmd("GET", "/title", None).context("get title")?;
        Ok(v.as_str().unwrap_or_default().to_string())
    }

    /// The current URL for error messages.
    fn where_(&self) -> String {
        self.url()
            .unwrap_or_else(|e| format!("<unknown URL: {e:#}>"))
    }

    /// The first element matching `css`, waiting up to the timeout for it to
    /// exist.
    pub fn find(&self, css: &str) -> Result<Element<'_>> {
        find_in(self, None, css)
    }

    /// All elements matching `css` now (possibly none; no waiting).
    pub fn find_all(&self, css: &str) -> Result<Vec<Element<'_>>> {
        find_all_in(self, None, css)
    }

    /// The first element matching `css`, waiting up to the timeout for it to
    /// exist and be displayed.
    pub fn wait_for(&self, css: &str) -> Result<Element<'_>> {
        let element = self.find(css)?;
        self.wait_until(&format!("`{css}` to be displayed"), || {
            element.is_displayed()
        })?;
        Ok(element)
    }

    /// Waits until no element matches `css`.
    pub fn wait_gone(&self, css: &str) -> Result<()> {
        self.wait_until(&format!("`{css}` to be gone"), || {
            Ok(self.find_all(css)?.is_empty())
        })
    }

    /// Polls `condition` every 50 ms until it returns `Ok(true)`, up to the
    /// timeout. An `Err` counts as "not yet" (the page may be re-rendering);
    /// the last one is reported if the wait times out. `description` says
    /// what is awaited ("the list to have 3 rows").
    pub fn wait_until(
        &self,
        description: &str,
        mut condition: impl FnMut() -> Result<bool>,
    ) -> Result<()> {
        let timeout = self.timeout();
        let deadline = Instant::now() + timeout;
        let mut last_error = None;
        loop {
            match condition() {
                Ok(true) => return Ok(()),
                Ok(false) => {}
                Err(e) => last_error = Some(e),
            }
            if Instant::now() > deadline {
                let mut message = format!(
                    "timed out after {timeout:?} waiting for {description} (at {})",
                    self.where_()
                );
                if let Some(e) = last_error {
                    message.push_str(&format!("; last error: {e:#}"));
                }
                bail!(message);
            }
            sleep(POLL);
        }
    }

    /// Runs `script` (a function body: use `arguments[i]` and `return`)
    /// synchronously and returns its result. Elements are passed and
    /// returned as `{"element-6066-11e4-a52e-4f735466cecf": id}`
    /// (see [`Element::to_value`]).
    pub fn execute(&self, script: &str, args: Vec<Value>) -> Result<Value> {
        self.cmd(
            "POST",
            "/execute/sync",
            Some(json!({ "script": script, "args": args })),
        )
        .with_context(|| format!("execute script `{}`", abbreviate(script)))
    }

    /// Runs `script` asynchronously: it finishes by calling its last argument
    /// (`arguments[arguments.length - 1](result)`), within 20 s.
    pub fn execute_async(&self, script: &str, args: Vec<Value>) -> Result<Value> {
        self.cmd(
            "POST",
            "/execute/async",
            Some(json!({ "script": script, "args": args })),
        )
        .with_context(|| format!("execute async script `{}`", abbreviate(script)))
    }

    /// `sessionStorage.getItem(key)` on the current page.
    pub fn session_storage(&self, key: &str) -> Result<Option<String>> {
        let v = self
            .execute(
                "return window.sessionStorage.getItem(arguments[0]);",
                vec![json!(key)],
            )
            .with_context(|| format!("read sessionStorage `{key}`"))?;
        Ok(v.as_str().map(str::to_string))
    }

    /// Saves a PNG screenshot of the viewport to `path` (creating its parent
    /// directories).
    pub fn screenshot(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let v = self
            .cmd("GET", "/screenshot", None)
            .context("take screenshot")?;
        write_png(&v, path)
    }

    /// Resizes the window (outer size, in CSS pixels). With `--headless=new`
    /// the viewport is about 143 px shorter (700 tall gives a 557 px
    /// viewport; the initial 1280x800 gives about 1280x657).
    pub fn set_window_size(&self, width: u32, height: u32) -> Result<()> {
        self.cmd(
            "POST",
            "/window/rect",
            Some(json!({ "width": width, "height": height })),
        )
        .with_context(|| format!("set window size {width}x{height}"))?;
        Ok(())
    }

    /// The browser console messages logged since the previous call (reading
    /// drains them), as `(level, message)`: levels are `SEVERE` (console.error,
    /// uncaught exceptions, failed loads), `WARNING`, `INFO` (console.log),
    /// `DEBUG`. Messages look like `http://host/app.js 12:5 "text"`.
    /// Uses chromedriver's legacy `POST /session/{id}/se/log`.
    pub fn browser_logs(&self) -> Result<Vec<(String, String)>> {
        let v = self
            .cmd("POST", "/se/log", Some(json!({ "type": "browser" })))
            .context("read browser logs")?;
        let entries = v.as_array().cloned().unwrap_or_default();
        Ok(entries
            .iter()
            .map(|e| {
                let level = e["level"].as_str().unwrap_or("").to_string();
                let message = e["message"].as_str().unwrap_or("").to_string();
                (level, message)
            })
            .collect())
    }

    /// Types `keys` to the focused element through the Actions API. Key
    /// codes from [`Key`] may be mixed in; modifiers (`SHIFT`, `CONTROL`,
    /// `ALT`, `META`) stay pressed until [`Key::NULL`] or the end, so
    /// `format!("{}{}", Key::ALT, Key::ARROW_DOWN)` is Alt+ArrowDown.
    pub fn press_keys(&self, keys: &str) -> Result<()> {
        let mut actions = Vec::new();
        let mut held: Vec<char> = Vec::new();
        for c in keys.chars() {
            if c == '\u{E000}' {
                for m in held.drain(..).rev() {
                    actions.push(json!({ "type": "keyUp", "value": m.to_string() }));
                }
            } else if is_modifier(c) {
                if !held.contains(&c) {
                    held.push(c);
                    actions.push(json!({ "type": "keyDown", "value": c.to_string() }));
                }
            } else {
                actions.push(json!({ "type": "keyDown", "value": c.to_string() }));
                actions.push(json!({ "type": "keyUp", "value": c.to_string() }));
            }
        }
        for m in held.drain(..).rev() {
            actions.push(json!({ "type": "keyUp", "value": m.to_string() }));
        }
        self.perform_keys(actions)
            .with_context(|| format!("press keys {}", describe_keys(keys)))
    }

    /// Presses `modifiers` down (in order), presses and releases `key`, then
    /// releases the modifiers: `chord(&[Key::CONTROL], "a")`.
    pub fn chord(&self, modifiers: &[&str], key: &str) -> Result<()> {
        let mut actions = Vec::new();
        for m in modifiers {
            actions.push(json!({ "type": "keyDown", "value": m }));
        }
        actions.push(json!({ "type": "keyDown", "value": key }));
        actions.push(json!({ "type": "keyUp", "value": key }));
        for m in modifiers.iter().rev() {
            actions.push(json!({ "type": "keyUp", "value": m }));
        }
        let all: String = modifiers.iter().copied().chain([key]).collect();
        self.perform_keys(actions)
            .with_context(|| format!("chord {}", describe_keys(&all)))
    }

    /// Performs one keyboard action sequence, then releases all keys.
    fn perform_keys(&self, actions: Vec<Value>) -> Result<()> {
        let body = json!({ "actions": [{ "type": "key", "id": "keyboard", "actions": actions }] });
        let result = self.cmd("POST", "/actions", Some(body));
        let release = self.cmd("DELETE", "/actions", None);
        result?;
        release.context("release actions")?;
        Ok(())
    }

    /// The text of the open alert/confirm/prompt, waiting for one to appear.
    pub fn alert_text(&self) -> Result<String> {
        let v = self
            .alert("GET", "/alert/text")
            .context("read alert text")?;
        Ok(v.as_str().unwrap_or_default().to_string())
    }

    /// Accepts (OK) the open alert/confirm/prompt, waiting for one to appear.
    pub fn accept_alert(&self) -> Result<()> {
        self.alert("POST", "/alert/accept")
            .context("accept alert")?;
        Ok(())
    }

    /// Dismisses (Cancel) the open alert/confirm/prompt, waiting for one to
    /// appear.
    pub fn dismiss_alert(&self) -> Result<()> {
        self.alert("POST", "/alert/dismiss")
            .context("dismiss alert")?;
        Ok(())
    }

    /// An alert command, retried while there is no alert yet.
    fn alert(&self, method: &str, path: &str) -> Result<Value> {
        let deadline = Instant::now() + self.timeout();
        loop {
            match self.cmd(method, path, None) {
                Err(e) if code_of(&e) == Some("no such alert") && Instant::now() < deadline => {
                    sleep(POLL)
                }
                other => return other,
            }
        }
    }

    /// The focused element (`document.activeElement`).
    pub fn active_element(&self) -> Result<Element<'_>> {
        let v = self
            .cmd("GET", "/element/active", None)
            .context("get active element")?;
        let id = element_id(&v).context("get active element")?;
        Ok(Element {
            browser: self,
            id: RefCell::new(id),
            locator: None,
        })
    }

    /// Wraps an element reference returned by [`Browser::execute`].
    pub fn element_from(&self, value: &Value) -> Result<Element<'_>> {
        let id = element_id(value)?;
        Ok(Element {
            browser: self,
            id: RefCell::new(id),
            locator: None,
        })
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let deleted = self.cmd("DELETE", "", None);
            if deleted.is_err()
                && let Some(pid) = self.chromium_pid
            {
                // Session teardown failed: do not leave Chromium behind.
                let _ = Command::new("kill")
                    .args(["-KILL", &pid.to_string()])
                    .status();
            }
        }
        // Ask chromedriver to exit (it quits any remaining session), then
        // make sure it is gone.
        let _ = self.request("GET", &format!("{}/shutdown", self.base), None);
        let deadline = Instant::now() + Duration::from_secs(3);
        while !matches!(self.driver.try_wait(), Ok(Some(_))) && Instant::now() < deadline {
            sleep(POLL);
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        for _ in 0..20 {
            match std::fs::remove_dir_all(&self.dir) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => sleep(POLL),
                _ => break,
            }
        }
    }
}

/// How an element was found, to find it again when it goes stale.
struct Locator<'a> {
    parent: Option<Element<'a>>,
    css: String,
    index: usize,
}

/// An element of the current page.
#[derive(Clone)]
pub struct Element<'a> {
    browser: &'a Browser,
    id: RefCell<String>,
    locator: Option<Rc<Locator<'a>>>,
}

impl fmt::Debug for Element<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Element({} = {})", self.describe(), self.id.borrow())
    }
}

impl<'a> Element<'a> {
    /// The selector chain that found this element, for messages.
    pub fn describe(&self) -> String {
        match &self.locator {
            None => "element".to_string(),
            Some(l) => {
                let own = if l.index == 0 {
                    format!("`{}`", l.css)
                } else {
                    format!("`{}`[{}]", l.css, l.index)
                };
                match &l.parent {
                    Some(p) => format!("{} >> {own}", p.describe()),
                    None => own,
                }
            }
        }
    }

    /// The W3C JSON reference, to pass to [`Browser::execute`].
    pub fn to_value(&self) -> Value {
        json!({ ELEMENT_KEY: self.id.borrow().as_str() })
    }

    /// Finds this element again from its selector (after it went stale).
    fn relocate(&self) -> Result<bool> {
        let Some(l) = &self.locator else {
            return Ok(false);
        };
        let all = find_all_in(self.browser, l.parent.as_ref(), &l.css)?;
        match all.get(l.index) {
            Some(found) => {
                let id = found.id.borrow().clone();
                *self.id.borrow_mut() = id;
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// Runs an element command (`suffix` after `/element/{id}`), finding the
    /// element again while it is stale and retrying `also_retry` error codes,
    /// up to the timeout.
    fn run(
        &self,
        method: &str,
        suffix: &str,
        body: Option<Value>,
        also_retry: &[&str],
    ) -> Result<Value> {
        let deadline = Instant::now() + self.browser.timeout();
        loop {
            let path = format!("/element/{}{suffix}", self.id.borrow());
            let error = match self.browser.cmd(method, &path, body.clone()) {
                Ok(v) => return Ok(v),
                Err(e) => e,
            };
            let code = code_of(&error).unwrap_or("");
            let stale = code == "stale element reference" && self.locator.is_some();
            if !(stale || also_retry.contains(&code)) || Instant::now() > deadline {
                return Err(error);
            }
            if stale {
                let _ = self.relocate();
            }
            sleep(POLL);
        }
    }

    /// A string result of an element command.
    fn string(&self, method: &str, suffix: &str, action: &str) -> Result<String> {
        let v = self
            .run(method, suffix, None, &[])
            .with_context(|| format!("{action} of {}", self.describe()))?;
        Ok(v.as_str().unwrap_or_default().to_string())
    }

    /// Clicks the element (scrolling it into view). Retries while it is stale
    /// (re-finding it by selector), covered by another element, or not yet
    /// interactable, up to the timeout.
    pub fn click(&self) -> Result<()> {
        self.run(
            "POST",
            "/click",
            None,
            &["element click intercepted", "element not interactable"],
        )
        .with_context(|| format!("click {}", self.describe()))?;
        Ok(())
    }

    /// Focuses the element and types `text`, which may contain [`Key`] codes
    /// (modifiers stay pressed until [`Key::NULL`] or the end). Works on
    /// inputs, textareas and contenteditable elements.
    pub fn send_keys(&self, text: &str) -> Result<()> {
        self.run(
            "POST",
            "/value",
            Some(json!({ "text": text })),
            &["element not interactable"],
        )
        .with_context(|| format!("send keys {} to {}", describe_keys(text), self.describe()))?;
        Ok(())
    }

    /// Clears an input, textarea or contenteditable element.
    pub fn clear(&self) -> Result<()> {
        self.run("POST", "/clear", None, &["element not interactable"])
            .with_context(|| format!("clear {}", self.describe()))?;
        Ok(())
    }

    /// The rendered text (`innerText`-like; empty when hidden).
    pub fn text(&self) -> Result<String> {
        self.string("GET", "/text", "get text")
    }

    /// The lower-case tag name.
    pub fn tag_name(&self) -> Result<String> {
        self.string("GET", "/name", "get tag name")
    }

    /// An HTML attribute, except `value` (the current value, a property) and
    /// `checked`/`selected` (`Some("true")` when set, else `None`).
    pub fn attr(&self, name: &str) -> Result<Option<String>> {
        let context = || format!("get attribute `{name}` of {}", self.describe());
        match name {
            "value" => Ok(self.prop("value")?.as_str().map(str::to_string)),
            "checked" | "selected" => {
                Ok((self.prop(name)?.as_bool() == Some(true)).then(|| "true".to_string()))
            }
            _ => {
                let v = self
                    .run("GET", &format!("/attribute/{name}"), None, &[])
                    .with_context(context)?;
                Ok(v.as_str().map(str::to_string))
            }
        }
    }

    /// A DOM property (`value`, `checked`, `disabled`, `className`, ...).
    pub fn prop(&self, name: &str) -> Result<Value> {
        self.run("GET", &format!("/property/{name}"), None, &[])
            .with_context(|| format!("get property `{name}` of {}", self.describe()))
    }

    /// Whether the element is visible.
    pub fn is_displayed(&self) -> Result<bool> {
        let v = self
            .run("GET", "/displayed", None, &[])
            .with_context(|| format!("is {} displayed", self.describe()))?;
        Ok(v.as_bool() == Some(true))
    }

    /// Whether the element is enabled (not `disabled`).
    pub fn is_enabled(&self) -> Result<bool> {
        let v = self
            .run("GET", "/enabled", None, &[])
            .with_context(|| format!("is {} enabled", self.describe()))?;
        Ok(v.as_bool() == Some(true))
    }

    /// The first descendant matching `css`, waiting up to the timeout.
    pub fn find(&self, css: &str) -> Result<Element<'a>> {
        find_in(self.browser, Some(self), css)
    }

    /// All descendants matching `css` now (no waiting).
    pub fn find_all(&self, css: &str) -> Result<Vec<Element<'a>>> {
        find_all_in(self.browser, Some(self), css)
    }

    /// Saves a PNG screenshot of the element to `path` (creating parent
    /// directories).
    pub fn screenshot(&self, path: impl AsRef<Path>) -> Result<()> {
        let v = self
            .run("GET", "/screenshot", None, &[])
            .with_context(|| format!("screenshot of {}", self.describe()))?;
        write_png(&v, path.as_ref())
    }
}

/// `find` for the page or within `parent`: waits for the first match.
fn find_in<'a>(
    browser: &'a Browser,
    parent: Option<&Element<'a>>,
    css: &str,
) -> Result<Element<'a>> {
    let deadline = Instant::now() + browser.timeout();
    let what = || match parent {
        Some(p) => format!("{} >> `{css}`", p.describe()),
        None => format!("`{css}`"),
    };
    loop {
        let result = match parent {
            None => browser.cmd("POST", "/element", Some(locate(css))),
            Some(p) => p.run("POST", "/element", Some(locate(css)), &[]),
        };
        match result {
            Ok(v) => {
                let id = element_id(&v).with_context(|| format!("find {}", what()))?;
                return Ok(Element {
                    browser,
                    id: RefCell::new(id),
                    locator: Some(Rc::new(Locator {
                        parent: parent.cloned(),
                        css: css.to_string(),
                        index: 0,
                    })),
                });
            }
            Err(e) if code_of(&e) == Some("no such element") => {
                if Instant::now() > deadline {
                    bail!(
                        "find {}: no such element after {:?} (at {})",
                        what(),
                        browser.timeout(),
                        browser.where_()
                    );
                }
                sleep(POLL);
            }
            Err(e) => return Err(e.context(format!("find {} (at {})", what(), browser.where_()))),
        }
    }
}

/// `find_all` for the page or within `parent`.
fn find_all_in<'a>(
    browser: &'a Browser,
    parent: Option<&Element<'a>>,
    css: &str,
) -> Result<Vec<Element<'a>>> {
    let result = match parent {
        None => browser.cmd("POST", "/elements", Some(locate(css))),
        Some(p) => p.run("POST", "/elements", Some(locate(css)), &[]),
    };
    let what = || match parent {
        Some(p) => format!("{} >> `{css}`", p.describe()),
        None => format!("`{css}`"),
    };
    let v = result.with_context(|| format!("find all {}", what()))?;
    let items = v
        .as_array()
        .ok_or_else(|| anyhow!("find all {}: not a list: {v}", what()))?;
    items
        .iter()
        .enumerate()
        .map(|(index, item)| {
            Ok(Element {
                browser,
                id: RefCell::new(element_id(item).with_context(|| format!("find all {}", what()))?),
                locator: Some(Rc::new(Locator {
                    parent: parent.cloned(),
                    css: css.to_string(),
                    index,
                })),
            })
        })
        .collect()
}

/// The body of a CSS find command.
fn locate(css: &str) -> Value {
    json!({ "using": "css selector", "value": css })
}

/// The id of a W3C element reference.
fn element_id(v: &Value) -> Result<String> {
    v.get(ELEMENT_KEY)
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| anyhow!("not an element reference: {v}"))
}

/// Decodes a base64 PNG screenshot value and writes it to `path`.
fn write_png(v: &Value, path: &Path) -> Result<()> {
    let encoded = v
        .as_str()
        .ok_or_else(|| anyhow!("screenshot: not a string"))?;
    let png = base64_decode(encoded).context("screenshot: decoding base64")?;
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
    }
    std::fs::write(path, png).with_context(|| format!("writing {}", path.display()))
}

/// Standard base64 (with or without padding; whitespace ignored).
fn base64_decode(text: &str) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    let mut acc: u32 = 0;
    let mut bits = 0;
    for byte in text.bytes() {
        let sextet = match byte {
            b'A'..=b'Z' => byte - b'A',
            b'a'..=b'z' => byte - b'a' + 26,
            b'0'..=b'9' => byte - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' => break,
            b' ' | b'\n' | b'\r' | b'\t' => continue,
            other => bail!("invalid base64 byte {other:#04x}"),
        };
        acc = (acc << 6) | u32::from(sextet);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Ok(out)
}

/// `path` if it exists, else `name` searched on `PATH`.
fn find_binary(path: &str, name: &str) -> Option<PathBuf> {
    let direct = Path::new(path);
    if direct.is_file() {
        return Some(direct.to_path_buf());
    }
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

/// A free TCP port on 127.0.0.1 (bound, then released for chromedriver).
fn free_port() -> Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0").context("finding a free port")?;
    Ok(listener.local_addr().context("finding a free port")?.port())
}

/// A new, empty, uniquely named temporary directory.
fn fresh_temp_dir() -> Result<PathBuf> {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let dir = std::env::temp_dir().join(format!(
        "authpipe-webdriver-{}-{}-{nanos}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir(&dir).with_context(|| format!("creating {}", dir.display()))?;
    Ok(dir)
}

/// The last 4 KB of a log file, for error messages.
fn tail(path: &Path) -> String {
    match std::fs::read(path) {
        Ok(bytes) => {
            let start = bytes.len().saturating_sub(4096);
            String::from_utf8_lossy(&bytes[start..]).into_owned()
        }
        Err(e) => format!("<cannot read {}: {e}>", path.display()),
    }
}

/// The first line of `text`.
fn first_line(text: &str) -> String {
    text.lines().next().unwrap_or("").trim().to_string()
}

/// The first line of a script, shortened, for messages.
fn abbreviate(script: &str) -> String {
    let line = first_line(script);
    if line.chars().count() > 60 {
        format!("{}…", line.chars().take(60).collect::<String>())
    } else {
        line
    }
}

/// Keys for messages, with key codes named (`"ab" + <ENTER>`).
fn describe_keys(keys: &str) -> String {
    const NAMES: &[(char, &str)] = &[
        ('\u{E000}', "NULL"),
        ('\u{E003}', "BACKSPACE"),
        ('\u{E004}', "TAB"),
        ('\u{E006}', "RETURN"),
        ('\u{E007}', "ENTER"),
        ('\u{E008}', "SHIFT"),
        ('\u{E009}', "CONTROL"),
        ('\u{E00A}', "ALT"),
        ('\u{E00C}', "ESCAPE"),
        ('\u{E00D}', "SPACE"),
        ('\u{E00E}', "PAGE_UP"),
        ('\u{E00F}', "PAGE_DOWN"),
        ('\u{E010}', "END"),
        ('\u{E011}', "HOME"),
        ('\u{E012}', "ARROW_LEFT"),
        ('\u{E013}', "ARROW_UP"),
        ('\u{E014}', "ARROW_RIGHT"),
        ('\u{E015}', "ARROW_DOWN"),
        ('\u{E017}', "DELETE"),
        ('\u{E03D}', "META"),
    ];
    let mut out = String::from("\"");
    for c in keys.chars() {
        if ('\u{E000}'..='\u{F8FF}').contains(&c) {
            match NAMES.iter().find(|(k, _)| *k == c) {
                Some((_, name)) => out.push_str(&format!("<{name}>")),
                None => out.push_str(&format!("<U+{:04X}>", c as u32)),
            }
        } else {
            out.push(c);
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_round_trips_known_values() -> Result<()> {
        assert_eq!(base64_decode("")?, b"");
        assert_eq!(base64_decode("Zg==")?, b"f");
        assert_eq!(base64_decode("Zm8=")?, b"fo");
        assert_eq!(base64_decode("Zm9v")?, b"foo");
        assert_eq!(base64_decode("Zm9vYmFy")?, b"foobar");
        assert_eq!(base64_decode("iVBORw0KGgo=")?, b"\x89PNG\r\n\x1a\n");
        assert!(base64_decode("Zm9v!").is_err());
        Ok(())
    }

    #[test]
    fn key_names_in_messages() {
        assert_eq!(
            describe_keys(&format!("a{}{}", Key::ALT, Key::ARROW_DOWN)),
            "\"a<ALT><ARROW_DOWN>\""
        );
    }
}
