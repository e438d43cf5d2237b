//! The web console in a real browser: Debian's Chromium, driven through
//! chromedriver (WebDriver), against a real `authpipe serve --store` on a
//! temporary SQLite store. Screenshots of the main views go to
//! `target/console-screenshots/`; the load and round-trip figures to
//! `target/console-screenshots/figures.json`.

use anyhow::{Context, Result, bail, ensure};
use authpipe_tests::webdriver::{Browser, Key};
use authpipe_tests::{Server, temp_dir};
use serde_json::{Value, json};
use std::path::PathBuf;

const ADMIN: &str = "admin-token-for-the-browser-0123456789";

fn screenshots() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../target/console-screenshots"
    ))
}

fn shot(browser: &Browser, name: &str) -> Result<()> {
    browser.screenshot(screenshots().join(format!("{name}.png")))
}

/// A screenshot with `css` scrolled into view.
fn shot_of(browser: &Browser, css: &str, name: &str) -> Result<()> {
    browser.execute(
        "document.querySelector(arguments[0]).scrollIntoView({block: 'start'})",
        vec![json!(css)],
    )?;
    shot(browser, name)?;
    browser.execute("window.scrollTo(0, 0)", vec![]).map(|_| ())
}

fn api(
    server: &Server,
    method: &str,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> (u16, Value, Option<String>) {
    let (status, value, answer) = server.call_json(method, path, token, body);
    let execution = answer.header("x-authpipe-execution-id").map(str::to_string);
    (status, value, execution)
}

fn store(label: &str) -> Server {
    let dir = temp_dir(label);
    std::fs::create_dir_all(&dir).unwrap();
    Server::start_store(&dir, &[("AUTHPIPE_ADMIN_TOKEN", ADMIN)])
}

/// Tenant `id` and a key of `role` for it.
fn tenant_key(server: &Server, id: &str, role: &str) -> String {
    let (status, _, _) = api(
        server,
        "POST",
        "/v1/tenants",
        ADMIN,
        Some(json!({"id": id, "name": id})),
    );
    assert!(status == 201 || status == 409, "{status}");
    let (status, key, _) = api(
        server,
        "POST",
        &format!("/v1/tenants/{id}/keys"),
        ADMIN,
        Some(json!({"role": role, "name": role})),
    );
    assert_eq!(status, 201, "{key}");
    key["token"].as_str().unwrap().to_string()
}

/// Waits until the page has loaded its data.
fn ready(browser: &Browser) -> Result<()> {
    browser.wait_for("main[data-ready=\"true\"]").map(|_| ())
}

fn sign_in(browser: &Browser, token: &str) -> Result<()> {
    let input = browser.wait_for("#signin-token")?;
    input.clear()?;
    input.send_keys(token)?;
    browser.find("#signin-submit")?.click()
}

/// The text of the page's CodeMirror editor, one entry per line.
fn editor_lines(browser: &Browser) -> Result<Vec<String>> {
    let lines = browser.execute(
        "return [...document.querySelectorAll('#editor .cm-content .cm-line')].map(l => l.textContent)",
        vec![],
    )?;
    Ok(serde_json::from_value(lines)?)
}

/// Names of the functions shown for `trigger`, in order.
fn pipeline_rows(browser: &Browser, trigger: &str) -> Result<Vec<String>> {
    let names = browser.execute(
        "return [...document.querySelectorAll(`section.trigger[data-trigger=\"${arguments[0]}\"] li.function-row`)].map(r => r.dataset.function)",
        vec![json!(trigger)],
    )?;
    Ok(serde_json::from_value(names)?)
}

fn server_order(server: &Server, key: &str, trigger: &str) -> Vec<String> {
    let (_, order, _) = api(
        server,
        "GET",
        &format!("/v1/tenants/acme/triggers/{trigger}"),
        key,
        None,
    );
    order["functions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap().to_string())
        .collect()
}

/// Browser log entries that are errors, except the failed requests the test
/// provokes on purpose (a wrong key, a compile error, a revoked key).
fn unexpected_errors(browser: &Browser) -> Result<Vec<String>> {
    Ok(browser
        .browser_logs()?
        .into_iter()
        .filter(|(level, _)| level == "SEVERE" || level == "WARNING")
        .map(|(_, message)| message)
        .filter(|m| !(m.contains("status of 401") || m.contains("status of 422")))
        .collect())
}

fn no_horizontal_scroll(browser: &Browser) -> Result<bool> {
    Ok(browser.execute(
        "return document.documentElement.scrollWidth <= document.documentElement.clientWidth",
        vec![],
    )? == json!(true))
}

const SECRET_VALUE: &str = "s3cr3t-value-that-must-never-show";

#[test]
fn a_tenant_manages_edits_tests_and_watches_its_pipeline_in_the_browser() -> Result<()> {
    let server = store("console-browser");
    let manage = tenant_key(&server, "acme", "manage");
    let invoke = tenant_key(&server, "acme", "invoke");
    let first = "function pipe(user, context, callback) {\n  user.trail = ['first'];\n  callback(null, user, context);\n}\n";
    let (status, body, _) = api(
        &server,
        "POST",
        "/v1/tenants/acme/functions",
        &manage,
        Some(json!({"name": "first", "source": first, "triggers": ["pre-register"], "order": 10})),
    );
    ensure!(status == 201, "{body}");
    let console = format!("{}/console/", server.base);
    let browser = Browser::start()?;
    // The whole suite runs beside this test: be patient with a busy machine.
    browser.set_timeout(std::time::Duration::from_secs(20));
    let mut figures = serde_json::Map::new();

    // ---- first load: what it costs
    browser.goto(&console)?;
    browser.wait_for("form#signin")?;
    ready(&browser)?;
    let load = browser.execute(
        "const nav = performance.getEntriesByType('navigation')[0];
         const all = [nav, ...performance.getEntriesByType('resource')];
         return {transfer_bytes: all.reduce((n, e) => n + e.transferSize, 0),
                 decoded_bytes: all.reduce((n, e) => n + e.decodedBodySize, 0),
                 resources: all.map(e => e.name.split('/').pop() || 'index.html'),
                 interactive_ms: Math.round(performance.now()),
                 dom_content_loaded_ms: Math.round(nav.domContentLoadedEventEnd)}",
        vec![],
    )?;
    let transfer = load["transfer_bytes"].as_u64().context("transferSize")?;
    ensure!(
        transfer > 0 && transfer < 1_000_000,
        "first load transferred {transfer} bytes: {load}"
    );
    figures.insert("first_load".into(), load);
    shot(&browser, "01-sign-in")?;

    // ---- sign-in: a wrong key, an invoke key, then the manage key
    sign_in(&browser, "ap_manage_not-a-real-key")?;
    browser.wait_until("the wrong key is refused", || {
        Ok(!browser.find("#signin-error")?.text()?.is_empty())
    })?;
    ensure!(
        browser.session_storage("authpipe.token")?.is_none(),
        "a refused key is not kept"
    );
    sign_in(&browser, &invoke)?;
    browser.wait_until("the invoke key is refused", || {
        Ok(browser.find("#signin-error")?.text()?.contains("invoke"))
    })?;
    sign_in(&browser, &manage)?;
    browser.wait_for("section.trigger[data-trigger=\"pre-register\"]")?;
    ready(&browser)?;
    ensure!(browser.find("#current-tenant")?.text()? == "acme");
    ensure!(
        browser.session_storage("authpipe.token")?.as_deref() == Some(manage.as_str()),
        "the key lives in sessionStorage"
    );
    let local = browser.execute(
        "return localStorage.length + document.cookie.length",
        vec![],
    )?;
    ensure!(
        local == json!(0),
        "nothing in localStorage or cookies: {local}"
    );
    ensure!(
        browser.find_all("section.trigger")?.len() == 7,
        "the seven triggers"
    );

    // ---- env and a secret
    browser.find("#nav-env")?.click()?;
    browser.wait_for("#env-key")?;
    ready(&browser)?;
    browser.find("#env-key")?.send_keys("ALLOWED_DOMAINS")?;
    browser.find("#env-value")?.send_keys("example.com")?;
    browser.find("#env-save")?.click()?;
    browser.wait_for("tr[data-key=\"ALLOWED_DOMAINS\"]")?;
    browser.find("#env-key")?.send_keys("API_SECRET")?;
    browser.find("#env-secret")?.click()?;
    browser.find("#env-value")?.send_keys(SECRET_VALUE)?;
    browser.find("#env-save")?.click()?;
    let secret = browser.wait_for("tr[data-key=\"API_SECRET\"] .env-value")?;
    ensure!(secret.attr("data-secret")?.as_deref() == Some("true"));
    let visible = browser.execute(
        "const v = arguments[0]; return document.documentElement.outerHTML.includes(v) || [...document.querySelectorAll('input, textarea')].some(e => e.value.includes(v))",
        vec![json!(SECRET_VALUE)],
    )?;
    ensure!(
        visible == json!(false),
        "the secret's value is not in the page after saving"
    );
    let (_, env, _) = api(&server, "GET", "/v1/tenants/acme/env", &manage, None);
    ensure!(
        env.to_string().contains("ALLOWED_DOMAINS") && !env.to_string().contains(SECRET_VALUE),
        "{env}"
    );
    shot(&browser, "02-env-and-secrets")?;

    // ---- new from a template
    browser.find("#nav-templates")?.click()?;
    let card =
        browser.wait_for("article.template-card[data-template=\"email-domain-allowlist\"]")?;
    ready(&browser)?;
    shot(&browser, "03-templates")?;
    card.find("button.use-template")?.click()?;
    let name = browser.wait_for("#name-dialog-input")?;
    name.clear()?;
    name.send_keys("allowlist")?;
    browser.find("#name-dialog-ok")?.click()?;
    browser.wait_for("#editor .cm-editor")?;
    browser.wait_until("the template's source is in the editor", || {
        Ok(editor_lines(&browser)?
            .iter()
            .any(|l| l.contains("ALLOWED_DOMAINS")))
    })?;
    let input = browser
        .find("#test-input")?
        .attr("value")?
        .unwrap_or_default();
    ensure!(
        input.contains("alice@example.com"),
        "the first fixture is the test input: {input}"
    );
    browser.find("button#save")?.click()?;
    browser.wait_until("the new function is saved", || {
        Ok(browser
            .find("#editor-status")?
            .text()?
            .contains("version 1"))
    })?;
    let (status, created, _) = api(
        &server,
        "GET",
        "/v1/tenants/acme/functions/allowlist",
        &manage,
        None,
    );
    ensure!(status == 200 && created["version"] == 1, "{created}");

    // ---- a syntax error: shown at its line, the text kept, nothing saved
    let content = browser.find("#editor .cm-content")?;
    content.click()?;
    browser.chord(&[Key::CONTROL], Key::END)?;
    browser.press_keys(&format!("{}let x = ;", Key::ENTER))?;
    let lines = editor_lines(&browser)?;
    let bad_line = lines
        .iter()
        .position(|l| l.trim() == "let x = ;")
        .context("typed line")?
        + 1;
    ensure!(
        browser.find("#dirty-indicator")?.is_displayed()?,
        "unsaved changes are shown"
    );
    browser.find("button#save")?.click()?;
    let status = browser.wait_for("#editor-status[data-error-line]")?;
    ensure!(
        status.attr("data-error-line")?.as_deref() == Some(bad_line.to_string().as_str()),
        "error at line {bad_line}: {:?}",
        status.attr("data-error-line")?
    );
    ensure!(
        status.text()?.contains(&format!("line {bad_line}")),
        "{}",
        status.text()?
    );
    browser.wait_for("#editor .cm-lintRange-error, #editor .cm-lint-marker-error")?;
    ensure!(
        editor_lines(&browser)?
            .iter()
            .any(|l| l.trim() == "let x = ;"),
        "the unsaved text stays"
    );
    let (_, unchanged, _) = api(
        &server,
        "GET",
        "/v1/tenants/acme/functions/allowlist",
        &manage,
        None,
    );
    ensure!(unchanged["version"] == 1, "nothing was saved: {unchanged}");
    shot(&browser, "04-editor-compile-error")?;
    // Leaving with unsaved changes asks first; cancelling keeps the text.
    browser.find("#nav-pipeline")?.click()?;
    browser.wait_for("dialog#confirm[open]")?;
    browser.find("#confirm-cancel")?.click()?;
    browser.wait_gone("dialog#confirm[open]")?;
    ensure!(
        browser.url()?.ends_with("#/functions/allowlist"),
        "{}",
        browser.url()?
    );
    ensure!(
        editor_lines(&browser)?
            .iter()
            .any(|l| l.trim() == "let x = ;"),
        "cancelling keeps the unsaved text"
    );
    // Fix it: replace the bad line with a comment, save a second version.
    browser.execute(
        "document.querySelector('#editor .cm-content').focus()",
        vec![],
    )?;
    browser.press_keys(&format!("{}{}", Key::CONTROL, Key::END))?;
    browser.press_keys(Key::NULL)?;
    browser.chord(&[Key::SHIFT], Key::HOME)?;
    browser.press_keys("// reviewed")?;
    ensure!(
        !editor_lines(&browser)?
            .iter()
            .any(|l| l.contains("let x = ;")),
        "{:?}",
        editor_lines(&browser)?
    );
    browser.find("button#save")?.click()?;
    browser.wait_until("the second version is saved", || {
        Ok(browser
            .find("#editor-status")?
            .text()?
            .contains("version 2"))
    })?;

    // ---- test runs: allow, deny, and the whole pipeline
    browser.find("button#tab-test")?.click()?;
    browser.find("button#run-test")?.click()?;
    let result = browser.wait_for("#test-result[data-outcome]")?;
    ensure!(
        result.attr("data-outcome")?.as_deref() == Some("allow"),
        "{}",
        result.text()?
    );
    let roundtrip = result.attr("data-roundtrip-ms")?.unwrap_or_default();
    figures.insert(
        "test_run_roundtrip_ms".into(),
        json!(roundtrip.parse::<f64>().ok()),
    );
    shot_of(&browser, "#test-result", "05-test-run-allow")?;
    let (_, template, _) = api(
        &server,
        "GET",
        "/v1/templates/email-domain-allowlist",
        &manage,
        None,
    );
    let denied = template["fixtures"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "denied")
        .context("denied fixture")?["input"]
        .to_string();
    let textarea = browser.find("#test-input")?;
    textarea.clear()?;
    textarea.send_keys(&denied)?;
    browser.find("button#run-test")?.click()?;
    browser.wait_until("the denied run", || {
        Ok(browser
            .find("#test-result")?
            .attr("data-outcome")?
            .as_deref()
            == Some("deny"))
    })?;
    ensure!(
        browser
            .find("#test-result .error-message")?
            .text()?
            .contains("Access denied")
    );
    shot_of(&browser, "#test-result", "06-test-run-deny")?;
    browser.find("button#run-pipeline")?.click()?;
    browser.wait_until("the pipeline run", || {
        let result = browser.find("#test-result")?;
        Ok(result.attr("data-outcome")?.as_deref() == Some("deny")
            && result.text()?.contains("first"))
    })?;

    // ---- versions: diff and rollback
    browser.find("button#tab-versions")?.click()?;
    browser.wait_for("#versions-list tr[data-version=\"2\"]")?;
    browser.execute(
        "for (const [id, v] of [['#diff-from', '1'], ['#diff-to', '2']]) { const s = document.querySelector(id); s.value = v; s.dispatchEvent(new Event('change', {bubbles: true})); }",
        vec![],
    )?;
    browser.find("button#show-diff")?.click()?;
    browser.wait_until("the diff shows the change", || {
        Ok(browser.find("#diff-view")?.text()?.contains("// reviewed"))
    })?;
    shot_of(&browser, "#diff-view", "07-versions-diff")?;
    browser
        .find("#versions-list tr[data-version=\"1\"] button.deploy-version")?
        .click()?;
    browser.wait_for("dialog#confirm[open]")?;
    browser.find("#confirm-ok")?.click()?;
    browser.wait_for("#versions-list tr[data-version=\"1\"] .deployed-marker")?;
    let (_, rolled_back, _) = api(
        &server,
        "GET",
        "/v1/tenants/acme/functions/allowlist",
        &manage,
        None,
    );
    ensure!(rolled_back["deployed_version"] == 1, "{rolled_back}");

    // ---- pipeline: reorder by keyboard, then disable a function
    browser.find("#nav-pipeline")?.click()?;
    browser.wait_for("li.function-row[data-function=\"allowlist\"]")?;
    ready(&browser)?;
    let before = pipeline_rows(&browser, "pre-register")?;
    ensure!(before == ["first", "allowlist"], "{before:?}");
    let up = browser.find("li.function-row[data-function=\"allowlist\"] button.move-up")?;
    browser.execute("arguments[0].focus()", vec![up.to_value()])?;
    browser.press_keys(Key::ENTER)?;
    browser.wait_until("the new order is shown", || {
        Ok(pipeline_rows(&browser, "pre-register")? == ["allowlist", "first"])
    })?;
    ensure!(
        server_order(&server, &manage, "pre-register") == ["allowlist", "first"],
        "saved with PUT"
    );
    let focused = browser.execute(
        "return document.activeElement.closest('li.function-row')?.dataset.function",
        vec![],
    )?;
    ensure!(
        focused == json!("allowlist"),
        "focus stays on the moved row: {focused}"
    );
    // And back down with Alt+ArrowDown on the focused row.
    browser.chord(&[Key::ALT], Key::ARROW_DOWN)?;
    browser.wait_until("moved back", || {
        Ok(pipeline_rows(&browser, "pre-register")? == ["first", "allowlist"])
    })?;
    ensure!(server_order(&server, &manage, "pre-register") == ["first", "allowlist"]);
    browser
        .find("li.function-row[data-function=\"first\"] input.enabled-toggle")?
        .click()?;
    browser.wait_until("first is disabled", || {
        let (_, f, _) = api(
            &server,
            "GET",
            "/v1/tenants/acme/functions/first",
            &manage,
            None,
        );
        Ok(f["enabled"] == false)
    })?;
    shot(&browser, "08-pipeline")?;
    let (status, run, execution) = api(
        &server,
        "POST",
        "/v1/tenants/acme/pipelines/pre-register",
        &invoke,
        Some(
            json!({"user": {"email": "bob@example.com"}, "context": {"request": {"body": {"email": "bob@example.com"}}}}),
        ),
    );
    ensure!(status == 200 && run["outcome"] == "allow", "{run}");
    let stages: Vec<&str> = run["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["function"].as_str().unwrap())
        .collect();
    ensure!(
        stages == ["allowlist"],
        "the disabled function is skipped: {stages:?}"
    );
    let execution = execution.context("execution id")?;

    // ---- executions: the run just made appears live, and opens
    browser.find("#nav-executions")?.click()?;
    let row = browser.wait_for(&format!("tr[data-execution=\"{execution}\"]"))?;
    ready(&browser)?;
    browser.wait_for("svg#executions-chart")?;
    shot(&browser, "09-executions")?;
    // A run made while the page is open shows up without a reload.
    let (_, _, live) = api(
        &server,
        "POST",
        "/v1/tenants/acme/pipelines/pre-register",
        &invoke,
        Some(json!({"user": {"email": "eve@evil.test"}, "context": {}})),
    );
    browser.wait_for(&format!(
        "tr[data-execution=\"{}\"]",
        live.context("live id")?
    ))?;
    row.click()?;
    browser.wait_for("#execution-detail .stage[data-function=\"allowlist\"]")?;
    // An error with a location opens with its code frame.
    let thrower =
        "function pipe(user, context, callback) {\n  const x = 1;\n  missing.call(x);\n}\n";
    let (status, body, _) = api(
        &server,
        "POST",
        "/v1/tenants/acme/functions",
        &manage,
        Some(json!({"name": "thrower", "source": thrower, "triggers": ["post-register"]})),
    );
    ensure!(status == 201, "{body}");
    let (_, failed, failed_id) = api(
        &server,
        "POST",
        "/v1/tenants/acme/pipelines/post-register",
        &invoke,
        Some(json!({"user": {}, "context": {}})),
    );
    ensure!(failed["outcome"] == "error", "{failed}");
    let failed_id = failed_id.context("execution id")?;
    browser.wait_until("the failed run is recorded", || {
        let (status, _, _) = api(
            &server,
            "GET",
            &format!("/v1/tenants/acme/executions/{failed_id}"),
            &manage,
            None,
        );
        Ok(status == 200)
    })?;
    browser.goto(&format!("{console}#/executions/{failed_id}"))?;
    let marked = browser.wait_for("#execution-detail .code-frame .marked")?;
    ensure!(
        marked.text()?.contains("missing.call(x)"),
        "{}",
        marked.text()?
    );
    shot(&browser, "10-execution-detail")?;

    // ---- a phone-sized screen
    browser.set_window_size(390, 844)?;
    browser.goto(&format!("{console}#/pipeline"))?;
    browser.wait_for("li.function-row[data-function=\"allowlist\"]")?;
    ready(&browser)?;
    ensure!(
        no_horizontal_scroll(&browser)?,
        "no sideways scrolling at 390 px (pipeline)"
    );
    shot(&browser, "11-pipeline-phone")?;
    browser.goto(&format!("{console}#/functions/allowlist"))?;
    browser.wait_for("#editor .cm-editor")?;
    ready(&browser)?;
    ensure!(
        no_horizontal_scroll(&browser)?,
        "no sideways scrolling at 390 px (editor)"
    );
    shot(&browser, "12-editor-phone")?;
    browser.set_window_size(1280, 800)?;

    // ---- sign-out clears the key; a revoked key returns to sign-in
    browser.find("#signout")?.click()?;
    browser.wait_for("form#signin")?;
    ensure!(
        browser.session_storage("authpipe.token")?.is_none(),
        "sign-out clears the key"
    );
    sign_in(&browser, &manage)?;
    browser.wait_for("section.trigger")?;
    let (_, keys, _) = api(&server, "GET", "/v1/tenants/acme/keys", ADMIN, None);
    let id = keys["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["role"] == "manage")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    ensure!(
        api(
            &server,
            "DELETE",
            &format!("/v1/tenants/acme/keys/{id}"),
            ADMIN,
            None
        )
        .0 == 204
    );
    browser.find("#nav-env")?.click()?;
    browser.wait_for("form#signin")?;
    browser.wait_until("a message says why", || {
        Ok(!browser.find("#signin-error")?.text()?.is_empty())
    })?;
    ensure!(browser.session_storage("authpipe.token")?.is_none());

    let errors = unexpected_errors(&browser)?;
    ensure!(errors.is_empty(), "console errors: {errors:#?}");
    std::fs::create_dir_all(screenshots())?;
    std::fs::write(
        screenshots().join("figures.json"),
        serde_json::to_string_pretty(&figures)?,
    )?;
    eprintln!("console figures: {}", Value::Object(figures));
    Ok(())
}

#[test]
fn the_admin_picks_and_creates_tenants_in_the_browser() -> Result<()> {
    let server = store("console-admin");
    tenant_key(&server, "acme", "manage");
    let browser = Browser::start()?;
    browser.set_timeout(std::time::Duration::from_secs(20));
    browser.goto(&format!("{}/console/", server.base))?;
    sign_in(&browser, ADMIN)?;
    browser.wait_for("#tenant-list button[data-tenant=\"acme\"]")?;
    ready(&browser)?;
    browser.find("#tenant-new-id")?.send_keys("beta")?;
    browser.find("#tenant-new-name")?.send_keys("Beta Corp")?;
    browser.find("#tenant-create")?.click()?;
    let beta = browser.wait_for("#tenant-list button[data-tenant=\"beta\"]")?;
    let (status, created, _) = api(&server, "GET", "/v1/tenants/beta", ADMIN, None);
    ensure!(status == 200 && created["name"] == "Beta Corp", "{created}");
    shot(&browser, "13-tenants")?;
    beta.click()?;
    browser.wait_for("section.trigger[data-trigger=\"pre-register\"]")?;
    ensure!(browser.find("#current-tenant")?.text()? == "beta");
    // A duplicate id is refused with the server's message, nothing lost.
    browser.find("#nav-tenants")?.click()?;
    browser.wait_for("#tenant-new-id")?.send_keys("acme")?;
    browser.find("#tenant-new-name")?.send_keys("Again")?;
    browser.find("#tenant-create")?.click()?;
    browser.wait_until("the duplicate is refused", || {
        Ok(!browser.find("#tenant-status")?.text()?.is_empty())
    })?;
    if browser.find("#tenant-new-id")?.attr("value")?.as_deref() != Some("acme") {
        bail!("the form keeps what was typed after a refusal");
    }
    let errors: Vec<String> = unexpected_errors(&browser)?
        .into_iter()
        .filter(|m| !m.contains("status of 409"))
        .collect();
    ensure!(errors.is_empty(), "console errors: {errors:#?}");
    Ok(())
}
