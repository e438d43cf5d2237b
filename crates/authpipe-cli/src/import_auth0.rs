//! `authpipe import auth0`: an authpipe project from the directory the Auth0
//! Deploy CLI writes (`a0deploy export --format directory`).
//!
//! Read from the export (paths relative to it):
//!
//! - `rules/*.json`: `name`, `script` (the code's path relative to `rules/`,
//!   `./NAME.js`), `order`, `enabled`, `stage`;
//! - `actions/*.json`: `name`, `code` (the code's path relative to the
//!   export, `./actions/NAME/code.js`), `runtime`, `dependencies`
//!   (`[{name, version}]`), `secrets` (`[{name, value}]`, values hidden),
//!   `supported_triggers` (`[{id, version}]`), `deployed`, `status`,
//!   `modules`;
//! - `triggers/triggers.json`: the actions bound to each flow, in order
//!   (`{"post-login": [{"action_name", "display_name"}], …}`);
//! - `rules-configs/*.json`: `{"key", "value"}`, the rules' `configuration`
//!   (the Deploy CLI never exports these; they are written by hand).
//!
//! Written: `authpipe.toml` (a `[[function]]` per rule and action with its
//! `flavor`; rules-configs and action secrets as `{ from_env = "NAME" }`
//! secrets, never their values), `functions/NAME.js` (the code, unmodified)
//! and `fixtures/NAME/CASE.json` (a typical Auth0 sign-in, expected to be
//! allowed). Rules run on `post-authentication` in their Auth0 order; the
//! actions come after them, as Auth0 runs rules before actions.

use crate::files::{comment, json_files, key, quoted};
use anyhow::{Context, Result, bail};
use authpipe_server::config::Trigger;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The project directory written when `--output` is not given.
pub const DEFAULT_OUTPUT: &str = "authpipe-auth0";

/// Modules an imported function may `require` (or list as an action
/// dependency): the npm packages authpipe bundles for Auth0 code, and the
/// Node.js modules it offers to every function.
const BUNDLED_MODULES: [&str; 13] = [
    "request",
    "request-promise",
    "node-fetch",
    "axios",
    "url",
    "querystring",
    "crypto",
    "uuid",
    "jsonwebtoken",
    "lodash",
    "moment",
    "buffer",
    "util",
];

/// The only rule stage there is an authpipe trigger for: a successful login.
const RULE_STAGE: &str = "login_success";

/// Writes the authpipe project for the Deploy CLI export in `dir` into
/// `output` (default [`DEFAULT_OUTPUT`]), which must be new or empty, and
/// prints what was imported, what was not, and the environment variables
/// the secrets are read from.
pub fn import(dir: &Path, output: Option<&Path>) -> Result<()> {
    let out = output.unwrap_or(Path::new(DEFAULT_OUTPUT));
    ensure_new_dir(out)?;
    let export = read_export(dir)?;
    if export.functions.is_empty() {
        bail!(
            "nothing to import: {} has no usable rules/*.json or actions/*.json \
             (is it a directory written by `a0deploy export --format directory`?){}",
            dir.display(),
            export.report.dropped_text()
        );
    }
    let files = project_files(dir, &export);
    for (path, text) in &files {
        let path = out.join(path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
    }
    print!("{}", report_text(dir, out, &export));
    Ok(())
}

/// Refuses an existing directory that is not empty (as `authpipe new` does).
fn ensure_new_dir(dir: &Path) -> Result<()> {
    if dir.exists() {
        let mut entries = std::fs::read_dir(dir)
            .with_context(|| format!("{} exists and is not a readable directory", dir.display()))?;
        if entries.next().is_some() {
            bail!(
                "{} already exists and is not empty; nothing was written (choose a new directory with --output)",
                dir.display()
            );
        }
    }
    Ok(())
}

/// Where a function came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Rule,
    Action,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Rule => "rule",
            Kind::Action => "action",
        }
    }

    /// The function's `flavor` in authpipe.toml.
    fn flavor(self) -> &'static str {
        match self {
            Kind::Rule => "auth0-rule",
            Kind::Action => "auth0-action",
        }
    }
}

/// A rule or action, as it becomes a `[[function]]`.
#[derive(Debug)]
struct Imported {
    kind: Kind,
    /// Its name in Auth0.
    auth0_name: String,
    /// The authpipe function name: unique, `[a-z0-9._-]`.
    name: String,
    /// The settings file it came from, relative to the export.
    origin: String,
    /// The code, unmodified.
    source: String,
    /// The authpipe triggers it runs on; empty when none fits.
    triggers: Vec<Trigger>,
    /// Auth0 triggers (rule stage, or action triggers) without an authpipe
    /// trigger.
    unmapped: Vec<String>,
    order: i64,
    enabled: bool,
    /// The `[env]` keys it reads: every rules-config for a rule, its
    /// secrets for an action.
    env: Vec<String>,
}

/// An `[env]` entry: a secret read from the process environment.
#[derive(Debug)]
struct Secret {
    /// The environment variable it is read from.
    var: String,
    /// Who reads it, and where its value is to be found.
    uses: Vec<String>,
}

/// What the report prints besides the imported functions.
#[derive(Debug, Default)]
struct Report {
    /// What could not be carried over.
    dropped: Vec<String>,
    /// What to check by hand.
    notes: Vec<String>,
}

impl Report {
    /// The dropped items as indented lines after a newline, or nothing.
    fn dropped_text(&self) -> String {
        self.dropped.iter().map(|d| format!("\n  - {d}")).collect()
    }
}

/// Everything read from an export.
#[derive(Debug, Default)]
struct Export {
    /// Rules (by order), then actions.
    functions: Vec<Imported>,
    /// `[env]` key → secret.
    env: BTreeMap<String, Secret>,
    report: Report,
}

/// `rules/NAME.json`.
#[derive(Deserialize)]
struct RuleFile {
    name: Option<String>,
    script: Option<String>,
    order: Option<f64>,
    enabled: Option<bool>,
    stage: Option<String>,
}

/// `actions/NAME.json`.
#[derive(Deserialize)]
struct ActionFile {
    name: Option<String>,
    code: Option<String>,
    #[serde(default)]
    dependencies: Vec<Dependency>,
    #[serde(default)]
    secrets: ActionSecrets,
    #[serde(default)]
    supported_triggers: Vec<SupportedTrigger>,
    deployed: Option<bool>,
    status: Option<String>,
    #[serde(default)]
    modules: Vec<ActionModule>,
    installed_integration_id: Option<String>,
}

#[derive(Deserialize)]
struct Dependency {
    name: String,
    version: Option<String>,
}

/// An action's secrets: a list, or a keyword placeholder (`"@@SECRETS@@"`)
/// replaced at deploy time.
#[derive(Deserialize)]
#[serde(untagged)]
enum ActionSecrets {
    List(Vec<ActionSecret>),
    Placeholder(String),
}

impl Default for ActionSecrets {
    fn default() -> Self {
        ActionSecrets::List(Vec::new())
    }
}

#[derive(Deserialize)]
struct ActionSecret {
    name: String,
}

#[derive(Deserialize)]
struct SupportedTrigger {
    id: String,
}

#[derive(Deserialize)]
struct ActionModule {
    module_name: String,
}

/// `rules-configs/NAME.json`.
#[derive(Deserialize)]
struct RulesConfigFile {
    key: Option<String>,
    #[serde(default)]
    value: Value,
}

/// One entry of `triggers/triggers.json`.
#[derive(Deserialize)]
struct Binding {
    action_name: String,
}

/// Reads everything authpipe can use from the export in `dir`.
fn read_export(dir: &Path) -> Result<Export> {
    if !dir.is_dir() {
        bail!("{} is not a directory", dir.display());
    }
    let mut export = Export::default();
    read_rules_configs(dir, &mut export)?;
    read_rules(dir, &mut export)?;
    read_actions(dir, &mut export)?;
    assign_names(&mut export.functions);
    for function in &export.functions {
        let notes = review(function);
        export.report.notes.extend(notes);
    }
    let triggerless: Vec<&str> = export
        .functions
        .iter()
        .filter(|f| f.triggers.is_empty())
        .map(|f| f.name.as_str())
        .collect();
    if !triggerless.is_empty() {
        export.report.notes.push(format!(
            "{} run(s) on no trigger (triggers = []): `authpipe serve --config` accepts that, \
             but store mode (`authpipe deploy`) needs at least one trigger per function; \
             remove them from authpipe.toml before deploying",
            triggerless.join(", ")
        ));
    }
    Ok(export)
}

/// Parses the JSON file at `path`; the error names the file and position.
fn read_json<T: DeserializeOwned>(path: &Path) -> Result<T, String> {
    let bytes = authpipe::bounded::read_file_capped(path, authpipe::MAX_SOURCE_BYTES)
        .map_err(|e| e.to_string())?;
    serde_json::from_slice(&bytes).map_err(|e| format!("line {}: {e}", e.line()))
}

/// `path` relative to the export, with `/` separators.
fn relative(dir: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(dir).unwrap_or(path);
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

/// The file stem of `path`.
fn stem(path: &Path) -> String {
    path.file_stem()
        .map_or_else(String::new, |s| s.to_string_lossy().into_owned())
}

/// The environment variable a secret named `key` is read from: `key` with
/// every character a shell cannot export replaced by `_`.
fn env_var(key: &str) -> String {
    let mut var: String = key
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    if var.is_empty() || var.starts_with(|c: char| c.is_ascii_digit()) {
        var.insert(0, '_');
    }
    var
}

/// Adds `key` to the env (once), noting who reads it.
fn add_secret(env: &mut BTreeMap<String, Secret>, key: &str, use_: String) {
    let secret = env.entry(key.to_string()).or_insert_with(|| Secret {
        var: env_var(key),
        uses: Vec::new(),
    });
    secret.uses.push(use_);
}

/// `rules-configs/*.json`: the rules' `configuration`, as secrets.
fn read_rules_configs(dir: &Path, export: &mut Export) -> Result<()> {
    for file in json_files(&dir.join("rules-configs"))? {
        let origin = relative(dir, &file);
        let config: RulesConfigFile = match read_json(&file) {
            Ok(config) => config,
            Err(e) => {
                export
                    .report
                    .dropped
                    .push(format!("{origin}: not a rules-config ({e})"));
                continue;
            }
        };
        let Some(key) = config.key.filter(|k| !k.is_empty()) else {
            if config.value.is_null() {
                continue; // `{}`: the Deploy CLI skips these too
            }
            export
                .report
                .dropped
                .push(format!("{origin}: no \"key\"; not imported"));
            continue;
        };
        let value = match &config.value {
            Value::String(text) => text.clone(),
            Value::Null => String::new(),
            other => other.to_string(),
        };
        let var = env_var(&key);
        let whence = if value.is_empty() {
            export.report.dropped.push(format!(
                "{origin}: the value of {key} is empty; set ${var} to the value the rules expect"
            ));
            "its value is empty in the export".to_string()
        } else if let Some(word) = keyword_placeholders(&value).into_iter().next() {
            // Only the keyword is shown: the rest of the value may be secret.
            format!(
                "its value in the export is a keyword placeholder: use what \
                 AUTH0_KEYWORD_REPLACE_MAPPINGS maps {word} to"
            )
        } else {
            "its value is in the export".to_string()
        };
        add_secret(
            &mut export.env,
            &key,
            format!("configuration.{key} of the rules ({origin}; {whence})"),
        );
    }
    Ok(())
}

/// `rules/*.json` with their scripts, in Auth0 order.
fn read_rules(dir: &Path, export: &mut Export) -> Result<()> {
    let rules_dir = dir.join("rules");
    let config_keys: Vec<String> = export.env.keys().cloned().collect();
    let mut rules = Vec::new();
    let mut unordered = Vec::new();
    for file in json_files(&rules_dir)? {
        let origin = relative(dir, &file);
        let rule: RuleFile = match read_json(&file) {
            Ok(rule) => rule,
            Err(e) => {
                export
                    .report
                    .dropped
                    .push(format!("{origin}: not a rule ({e}); not imported"));
                continue;
            }
        };
        let auth0_name = rule.name.clone().unwrap_or_else(|| stem(&file));
        let script = rule
            .script
            .clone()
            .unwrap_or_else(|| format!("./{}.js", stem(&file)));
        let source = match read_code(dir, &rules_dir, &[script.as_str()]) {
            Ok(source) => source,
            Err(e) => {
                export
                    .report
                    .dropped
                    .push(format!("rule {auth0_name:?} ({origin}): {e}; not imported"));
                continue;
            }
        };
        let stage = rule.stage.clone().unwrap_or_else(|| RULE_STAGE.to_string());
        let (triggers, unmapped) = if stage == RULE_STAGE {
            (vec![Trigger::PostAuthentication], Vec::new())
        } else {
            export.report.dropped.push(format!(
                "rule {auth0_name:?} ({origin}): stage {stage:?} has no authpipe trigger \
                 (only {RULE_STAGE} has: post-authentication); imported with triggers = []"
            ));
            (Vec::new(), vec![stage])
        };
        if rule.order.is_none() {
            unordered.push(rules.len());
        }
        rules.push(Imported {
            kind: Kind::Rule,
            auth0_name,
            name: String::new(),
            origin,
            source,
            triggers,
            unmapped,
            order: rule.order.map_or(0, |o| o.round() as i64),
            enabled: rule.enabled.unwrap_or(true),
            env: config_keys.clone(),
        });
    }
    // Rules without an order run after the others, in file order.
    let after_ordered = rules
        .iter()
        .enumerate()
        .filter(|(i, _)| !unordered.contains(i))
        .map(|(_, r)| r.order)
        .max()
        .unwrap_or(0)
        + 1;
    for (order, i) in (after_ordered..).zip(unordered) {
        rules[i].order = order;
        export.report.notes.push(format!(
            "rule {:?} has no order in Auth0; it runs after the ordered rules (order = {})",
            rules[i].auth0_name, rules[i].order
        ));
    }
    rules.sort_by_key(|r| r.order);
    export.functions.extend(rules);
    Ok(())
}

/// The code at the first of `candidates` (relative to `base`) that exists
/// inside the export `dir`.
fn read_code(dir: &Path, base: &Path, candidates: &[&str]) -> Result<String, String> {
    let root = dir
        .canonicalize()
        .map_err(|e| format!("cannot resolve {}: {e}", dir.display()))?;
    for candidate in candidates {
        let path = base.join(candidate.replace('\\', "/"));
        let Ok(resolved) = path.canonicalize() else {
            continue;
        };
        if !resolved.starts_with(&root) {
            return Err(format!(
                "its code {candidate:?} is outside the export; copy it into the export first"
            ));
        }
        let source = authpipe::bounded::read_source_file(&resolved).map_err(|e| e.to_string())?;
        if source.trim().is_empty() {
            return Err(format!("its code {candidate:?} is empty"));
        }
        return Ok(source);
    }
    Err(format!("its code {:?} was not found", candidates[0]))
}

/// `triggers/triggers.json`: Auth0 trigger id → the actions bound to it,
/// in order; `None` when the export has no such file.
fn read_bindings(dir: &Path) -> Result<Option<BTreeMap<String, Vec<String>>>> {
    let Some(file) = json_files(&dir.join("triggers"))?.into_iter().next() else {
        return Ok(None);
    };
    let bindings: BTreeMap<String, Vec<Binding>> = read_json(&file)
        .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))
        .context("cannot read the actions' trigger bindings")?;
    Ok(Some(
        bindings
            .into_iter()
            .map(|(trigger, list)| (trigger, list.into_iter().map(|b| b.action_name).collect()))
            .collect(),
    ))
}

/// The authpipe trigger of an Auth0 Actions trigger, if there is one.
fn action_trigger(id: &str) -> Option<Trigger> {
    match id {
        "post-login" => Some(Trigger::PostAuthentication),
        "pre-user-registration" => Some(Trigger::PreRegister),
        "post-user-registration" => Some(Trigger::PostRegister),
        "credentials-exchange" => Some(Trigger::PreOidcAccessTokenIssued),
        _ => None,
    }
}

/// An action before its order is known.
struct PendingAction {
    function: Imported,
    /// Its place in the flow it is bound to (`usize::MAX`: unbound).
    position: usize,
}

/// `actions/*.json` with their code; ordered after the rules, by their
/// place in `triggers/triggers.json`.
fn read_actions(dir: &Path, export: &mut Export) -> Result<()> {
    let bindings = read_bindings(dir)?;
    let mut pending = Vec::new();
    for file in json_files(&dir.join("actions"))? {
        let origin = relative(dir, &file);
        let action: ActionFile = match read_json(&file) {
            Ok(action) => action,
            Err(e) => {
                export
                    .report
                    .dropped
                    .push(format!("{origin}: not an action ({e}); not imported"));
                continue;
            }
        };
        if let Some(action) = read_action(dir, &file, action, bindings.as_ref(), export) {
            pending.push(action);
        }
    }
    if let Some(bindings) = &bindings {
        note_missing_bound_actions(bindings, &pending, &mut export.report);
    } else if !pending.is_empty() {
        export.report.notes.push(
            "the export has no triggers/triggers.json: every action is enabled on all its \
             supported triggers; check which are bound to a flow in the tenant"
                .into(),
        );
    }
    let first = export
        .functions
        .iter()
        .map(|f| f.order)
        .max()
        .unwrap_or(0)
        .max(0)
        + 1;
    pending.sort_by_key(|p| p.position);
    for (i, mut action) in pending.into_iter().enumerate() {
        action.function.order = first + i as i64;
        export.functions.push(action.function);
    }
    Ok(())
}

/// One action; `None` (and a report line) when it cannot be imported.
fn read_action(
    dir: &Path,
    file: &Path,
    action: ActionFile,
    bindings: Option<&BTreeMap<String, Vec<String>>>,
    export: &mut Export,
) -> Option<PendingAction> {
    let origin = relative(dir, file);
    let auth0_name = action.name.clone().unwrap_or_else(|| stem(file));
    let label = format!("action {auth0_name:?} ({origin})");
    let fallback = format!("actions/{}/code.js", stem(file));
    let mut candidates = vec![fallback.as_str()];
    if let Some(code) = action.code.as_deref().filter(|c| !c.is_empty()) {
        candidates.insert(0, code);
    }
    let source = match read_code(dir, dir, &candidates) {
        Ok(source) => source,
        Err(e) => {
            export
                .report
                .dropped
                .push(format!("{label}: {e}; not imported"));
            return None;
        }
    };
    note_action_settings(&label, &action, &mut export.report);
    let mut env = Vec::new();
    match &action.secrets {
        ActionSecrets::List(secrets) => {
            for secret in secrets {
                add_secret(
                    &mut export.env,
                    &secret.name,
                    format!(
                        "event.secrets.{} of action {auth0_name:?} (the export hides its value: \
                         copy it from the Auth0 dashboard)",
                        secret.name
                    ),
                );
                env.push(secret.name.clone());
            }
        }
        ActionSecrets::Placeholder(text) => export.report.dropped.push(format!(
            "{label}: secrets is {text:?}, a keyword placeholder; add its secrets to [env] by hand"
        )),
    }
    let (auth0_triggers, position, enabled) =
        action_bindings(&label, &auth0_name, &action, bindings, &mut export.report);
    let mut triggers = Vec::new();
    let mut unmapped = Vec::new();
    for id in auth0_triggers {
        match action_trigger(&id) {
            Some(trigger) if !triggers.contains(&trigger) => triggers.push(trigger),
            Some(_) => {}
            None => unmapped.push(id),
        }
    }
    if !unmapped.is_empty() {
        let also = if triggers.is_empty() {
            "imported with triggers = []".to_string()
        } else {
            "imported for its other triggers".to_string()
        };
        export.report.dropped.push(format!(
            "{label}: Auth0 trigger {} has no authpipe trigger; {also}",
            unmapped.join(", ")
        ));
    }
    Some(PendingAction {
        function: Imported {
            kind: Kind::Action,
            auth0_name,
            name: String::new(),
            origin,
            source,
            triggers,
            unmapped,
            order: 0,
            enabled,
            env,
        },
        position,
    })
}

/// Reports what of an action's settings does not carry over.
fn note_action_settings(label: &str, action: &ActionFile, report: &mut Report) {
    if action.installed_integration_id.is_some() {
        report.notes.push(format!(
            "{label} comes from a Marketplace integration; its code may rely on the integration's settings"
        ));
    }
    if action.deployed == Some(false) {
        report.notes.push(format!(
            "{label}: the exported code is a draft that is not deployed (status {:?}); \
             the tenant runs an earlier version",
            action.status.as_deref().unwrap_or("unknown")
        ));
    }
    for dependency in &action.dependencies {
        if !is_bundled(&dependency.name) {
            report.dropped.push(format!(
                "{label}: npm dependency {}@{} is not bundled by authpipe (bundled: {})",
                dependency.name,
                dependency.version.as_deref().unwrap_or("latest"),
                BUNDLED_MODULES.join(", ")
            ));
        }
    }
    if !action.modules.is_empty() {
        let names: Vec<&str> = action
            .modules
            .iter()
            .map(|m| m.module_name.as_str())
            .collect();
        report.dropped.push(format!(
            "{label}: action modules ({}) are not carried over",
            names.join(", ")
        ));
    }
}

/// The Auth0 triggers an action runs on, its place in its flow
/// (`usize::MAX` when unknown) and whether it is enabled: from
/// `triggers.json` when the export has it, else its supported triggers.
fn action_bindings(
    label: &str,
    auth0_name: &str,
    action: &ActionFile,
    bindings: Option<&BTreeMap<String, Vec<String>>>,
    report: &mut Report,
) -> (Vec<String>, usize, bool) {
    let supported: Vec<String> = action
        .supported_triggers
        .iter()
        .map(|t| t.id.clone())
        .collect();
    match bindings {
        None => (supported, usize::MAX, true),
        Some(bindings) => {
            let bound: Vec<(String, usize)> = bindings
                .iter()
                .filter_map(|(trigger, names)| {
                    let at = names.iter().position(|n| *n == auth0_name)?;
                    Some((trigger.clone(), at))
                })
                .collect();
            if bound.is_empty() {
                report.notes.push(format!(
                    "{label} is not bound to any flow in triggers/triggers.json; imported with enabled = false"
                ));
                (supported, usize::MAX, false)
            } else {
                let position = bound.iter().map(|(_, at)| *at).min().unwrap_or(0);
                (bound.into_iter().map(|(t, _)| t).collect(), position, true)
            }
        }
    }
}

/// Notes bindings of `triggers.json` that name no exported action.
fn note_missing_bound_actions(
    bindings: &BTreeMap<String, Vec<String>>,
    actions: &[PendingAction],
    report: &mut Report,
) {
    for (trigger, names) in bindings {
        for name in names {
            if !actions.iter().any(|a| a.function.auth0_name == *name) {
                report.dropped.push(format!(
                    "triggers/triggers.json binds {name:?} to {trigger}, but actions/ has no such action \
                     (the Deploy CLI does not export Marketplace actions)"
                ));
            }
        }
    }
}

/// Whether `module` (an npm name, maybe with a `@version` or a `/path`) is
/// one authpipe provides.
fn is_bundled(module: &str) -> bool {
    BUNDLED_MODULES.contains(&package_name(module))
}

/// `lodash` of `lodash@4.17.21` or `lodash/fp`; `@scope/pkg` of
/// `@scope/pkg@1.0.0/sub`.
fn package_name(module: &str) -> &str {
    let scoped = module.starts_with('@');
    let body = if scoped { &module[1..] } else { module };
    let mut end = body.len();
    let mut slashes = 0;
    for (i, c) in body.char_indices() {
        if c == '@' || (c == '/' && (!scoped || slashes == 1)) {
            end = i;
            break;
        }
        if c == '/' {
            slashes += 1;
        }
    }
    &module[..end + usize::from(scoped)]
}

/// Gives every function a unique authpipe name derived from its Auth0 name.
fn assign_names(functions: &mut [Imported]) {
    let mut taken = BTreeSet::new();
    for function in functions {
        let base = function_name(&function.auth0_name, function.kind);
        let mut name = base.clone();
        let mut n = 2;
        while !taken.insert(name.clone()) {
            name = format!("{base}-{n}");
            n += 1;
        }
        function.name = name;
    }
}

/// `Add roles to token` → `add-roles-to-token`: lower case, runs of other
/// characters than letters, digits, `.` and `_` as one `-`.
fn function_name(auth0_name: &str, kind: Kind) -> String {
    let mut name = String::new();
    for c in auth0_name.chars() {
        if c.is_ascii_alphanumeric() || c == '_' || c == '.' {
            name.push(c.to_ascii_lowercase());
        } else if !name.is_empty() && !name.ends_with('-') {
            name.push('-');
        }
    }
    let name = name.trim_matches(['-', '.']).to_string();
    if name.is_empty() {
        kind.as_str().to_string()
    } else {
        name
    }
}

/// The names `X` of the Deploy CLI keyword placeholders `@@X@@` and `##X##`
/// in `text`.
fn keyword_placeholders(text: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for marker in ["@@", "##"] {
        let mut rest = text;
        while let Some(at) = rest.find(marker) {
            let after = &rest[at + 2..];
            let word_len = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(after.len());
            if word_len > 0 && after[word_len..].starts_with(marker) {
                found.insert(after[..word_len].to_string());
                rest = &after[word_len + 2..];
            } else {
                rest = after;
            }
        }
    }
    found
}

/// The modules `source` passes to `require('…')`.
fn required_modules(source: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut rest = source;
    while let Some(at) = rest.find("require(") {
        let after = rest[at + "require(".len()..].trim_start();
        if let Some(quote) = after.chars().next().filter(|c| "'\"`".contains(*c))
            && let Some(end) = after[1..].find(quote)
        {
            found.insert(after[1..1 + end].to_string());
        }
        rest = &rest[at + "require(".len()..];
    }
    found
}

/// Whether `source` uses the free identifier `name` as a call or an object
/// (`name(` or `name.`), not as a property (`context.name`).
fn uses_global(source: &str, name: &str) -> bool {
    source.match_indices(name).any(|(at, _)| {
        let before = source[..at].chars().next_back();
        let after = source[at + name.len()..].chars().next();
        !before.is_some_and(|c| c.is_alphanumeric() || "_$.".contains(c))
            && matches!(after, Some('(' | '.'))
    })
}

/// What in a function's code will not simply work, or its fixture will not
/// show: one line each.
fn review(function: &Imported) -> Vec<String> {
    let source = &function.source;
    let label = format!("{} {}", function.kind.as_str(), function.name);
    let mut notes = Vec::new();
    let placeholders = keyword_placeholders(source);
    if !placeholders.is_empty() {
        let shown: Vec<String> = placeholders
            .iter()
            .map(|w| format!("@@{w}@@/##{w}##"))
            .collect();
        notes.push(format!(
            "{label}: functions/{}.js contains Deploy CLI keyword placeholders ({}) that a0deploy \
             replaces from AUTH0_KEYWORD_REPLACE_MAPPINGS; replace them by hand",
            function.name,
            shown.join(", ")
        ));
    }
    if function.kind == Kind::Rule {
        let missing: Vec<String> = required_modules(source)
            .into_iter()
            .filter(|m| !is_bundled(m))
            .collect();
        if !missing.is_empty() {
            notes.push(format!(
                "{label}: requires {}, which authpipe does not bundle",
                missing.join(", ")
            ));
        }
    }
    let calls_out = ["request", "fetch", "axios", "got", "superagent"]
        .iter()
        .any(|name| uses_global(source, name));
    if calls_out {
        notes.push(format!(
            "{label}: makes HTTP requests; allow their URLs under [fetch] and record the responses \
             in fixtures/{}/ (a request without a recording fails the fixture)",
            function.name
        ));
    }
    let checks: [(&[&str], &str); 5] = [
        (
            &["auth0.users", "auth0.accessToken", "ManagementClient"],
            "uses the Auth0 Management API; check that it can reach your tenant from authpipe",
        ),
        (
            &["context.redirect", "api.redirect."],
            "redirects the login; authpipe answers allow or deny, check what the redirect should become",
        ),
        (
            &["context.multifactor", "api.multifactor."],
            "asks for multi-factor authentication; check how your authpipe host handles it",
        ),
        (
            &["global."],
            "keeps values in `global`, which authpipe does not keep between calls",
        ),
        (
            &[
                "UnauthorizedError",
                "callback(new Error",
                "callback(err",
                "callback(error",
                "api.access.deny(",
            ],
            "can deny the login; its fixture expects a typical sign-in to be allowed, add a fixture for the denial",
        ),
    ];
    for (needles, what) in checks {
        if needles.iter().any(|n| source.contains(n)) {
            notes.push(format!("{label}: {what}"));
        }
    }
    notes
}

/// The URLs' origins named in `source` (`https://host/*`), for the
/// commented suggestions of `[fetch] allow`.
fn named_origins(source: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for scheme in ["https://", "http://"] {
        for (at, _) in source.match_indices(scheme) {
            let rest = &source[at + scheme.len()..];
            let host_len = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || "-.:".contains(c)))
                .unwrap_or(rest.len());
            let host = rest[..host_len].trim_end_matches(['.', ':']);
            if host.contains('.') {
                found.insert(format!("{scheme}{host}/*"));
            }
        }
    }
    found
}

/// Every file of the project, relative to its directory.
fn project_files(dir: &Path, export: &Export) -> Vec<(PathBuf, String)> {
    let mut files = vec![(PathBuf::from("authpipe.toml"), config_text(dir, export))];
    for function in &export.functions {
        files.push((
            PathBuf::from("functions").join(format!("{}.js", function.name)),
            function.source.clone(),
        ));
        if let Some((case, fixture)) = fixture(function) {
            let text = serde_json::to_string_pretty(&fixture).expect("JSON values serialise");
            files.push((
                PathBuf::from("fixtures")
                    .join(&function.name)
                    .join(format!("{case}.json")),
                text + "\n",
            ));
        }
    }
    files
}

/// The project's `authpipe.toml`.
fn config_text(dir: &Path, export: &Export) -> String {
    let mut out = format!(
        "# Imported by `authpipe import auth0` from the Auth0 Deploy CLI export in {}.\n\
         # Rules run on post-authentication in their Auth0 order, then the actions in the\n\
         # order of their flows (Auth0 runs rules before actions). Secrets are read from\n\
         # the environment variables named by `from_env`: no secret is written here.\n\
         #\n\
         # `authpipe test` runs the fixtures in fixtures/; `authpipe serve` serves it.\n\n",
        comment(&dir.display().to_string())
    );
    out.push_str("[server]\nlisten = \"127.0.0.1:8080\"\n\n[env]\n");
    for (name, secret) in &export.env {
        for use_ in &secret.uses {
            out.push_str(&format!("# {}\n", comment(use_)));
        }
        out.push_str(&format!(
            "{} = {{ from_env = {} }}\n",
            key(name),
            quoted(&secret.var)
        ));
    }
    out.push_str("\n[fetch]\n");
    let origins: BTreeSet<String> = export
        .functions
        .iter()
        .flat_map(|f| named_origins(&f.source))
        .collect();
    if !origins.is_empty() {
        out.push_str(
            "# Nothing may be fetched until it is allowed. URLs named in the imported code\n\
             # (custom claim namespaces among them; allow only what the functions call):\n",
        );
        for origin in &origins {
            out.push_str(&format!("#   {},\n", quoted(origin)));
        }
    }
    out.push_str("allow = []\n");
    for function in &export.functions {
        out.push_str(&function_table(function));
    }
    out
}

/// One `[[function]]` table, after a comment naming where it came from.
fn function_table(function: &Imported) -> String {
    let mut out = format!(
        "\n# {} {} ({})\n",
        function.kind.as_str(),
        comment(&quoted(&function.auth0_name)),
        comment(&function.origin)
    );
    if !function.unmapped.is_empty() {
        let what = match function.kind {
            Kind::Rule => "rule stage",
            Kind::Action => "trigger",
        };
        out.push_str(&format!(
            "# Auth0 {what} {} has no authpipe trigger (`authpipe deploy` needs one).\n",
            comment(&function.unmapped.join(", "))
        ));
    }
    let triggers: Vec<String> = function
        .triggers
        .iter()
        .map(|t| quoted(t.as_str()))
        .collect();
    out.push_str(&format!(
        "[[function]]\nname = {}\nsource = {}\ntriggers = [{}]\norder = {}\nenabled = {}\nflavor = {}\n",
        quoted(&function.name),
        quoted(&format!("functions/{}.js", function.name)),
        triggers.join(", "),
        function.order,
        function.enabled,
        quoted(function.kind.flavor()),
    ));
    out
}

/// The fixture of `function`: its case name and JSON, a typical Auth0
/// sign-in on its first trigger that is expected to be allowed; `None`
/// without a trigger.
fn fixture(function: &Imported) -> Option<(&'static str, Value)> {
    let trigger = *function.triggers.first()?;
    let (case, what, user, context) = match trigger {
        Trigger::PreRegister => (
            "registration",
            "a sign-up with email and password",
            registering_user(),
            registration_context(),
        ),
        Trigger::PostRegister => (
            "registered",
            "a new user signed up with email and password",
            registered_user(),
            registration_context(),
        ),
        Trigger::PreOidcAccessTokenIssued => (
            "client-credentials",
            "a machine-to-machine client credentials exchange",
            json!({}),
            credentials_context(),
        ),
        _ => (
            "login",
            "a returning user's password login",
            login_user(),
            login_context(),
        ),
    };
    let env: serde_json::Map<String, Value> = function
        .env
        .iter()
        .map(|k| (k.clone(), Value::String(format!("fixture-value-of-{k}"))))
        .collect();
    let fixture = json!({
        "description": format!(
            "imported from Auth0: {what} passes {} {:?}",
            function.kind.as_str(),
            function.auth0_name
        ),
        "trigger": trigger.as_str(),
        "env": env,
        "input": { "user": user, "context": context },
        "expect": { "outcome": "allow" }
    });
    Some((case, fixture))
}

const USER_ID: &str = "64f1c2a9e4b0a7d3c5e8f912";
const CLIENT_ID: &str = "k5u3o2fiAA8XweXEEX604KCwCjzjtMU6";
const CONNECTION: &str = "Username-Password-Authentication";
const IP: &str = "203.0.113.24";
const USER_AGENT: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36";

/// An Auth0 user profile (database connection) signing in for the 43rd time.
fn login_user() -> Value {
    json!({
        "user_id": format!("auth0|{USER_ID}"),
        "email": "jane.doe@example.com",
        "email_verified": true,
        "username": "janedoe",
        "name": "Jane Doe",
        "given_name": "Jane",
        "family_name": "Doe",
        "nickname": "jane.doe",
        "picture": "https://s.gravatar.com/avatar/9e26471d35a78862c17e467d87cddedf?s=480&r=pg&d=https%3A%2F%2Fcdn.auth0.com%2Favatars%2Fjd.png",
        "created_at": "2024-03-11T09:24:51.337Z",
        "updated_at": "2025-06-02T07:41:12.908Z",
        "last_login": "2025-06-02T07:41:12.908Z",
        "last_ip": IP,
        "logins_count": 43,
        "identities": [{
            "provider": "auth0",
            "user_id": USER_ID,
            "connection": CONNECTION,
            "isSocial": false
        }],
        "app_metadata": { "roles": ["member"], "plan": "pro", "customer_id": "cus_4821" },
        "user_metadata": { "preferred_language": "en", "timezone": "America/Los_Angeles" }
    })
}

/// The user of a sign-up, before Auth0 has created it.
fn registering_user() -> Value {
    json!({
        "email": "sam.lee@example.com",
        "email_verified": false,
        "name": "Sam Lee",
        "given_name": "Sam",
        "family_name": "Lee",
        "nickname": "sam.lee",
        "picture": "https://s.gravatar.com/avatar/3c7d5b1f0e2a4d6c8b9a0f1e2d3c4b5a?s=480&r=pg&d=https%3A%2F%2Fcdn.auth0.com%2Favatars%2Fsl.png",
        "app_metadata": {},
        "user_metadata": { "preferred_language": "en" }
    })
}

/// The user just created by a sign-up.
fn registered_user() -> Value {
    let mut user = registering_user();
    let fields = json!({
        "user_id": "auth0|6650b3e1c9d2f4a7b8e1d0c3",
        "created_at": "2025-06-02T07:45:03.114Z",
        "updated_at": "2025-06-02T07:45:03.114Z",
        "logins_count": 0,
        "identities": [{
            "provider": "auth0",
            "user_id": "6650b3e1c9d2f4a7b8e1d0c3",
            "connection": CONNECTION,
            "isSocial": false
        }]
    });
    if let (Value::Object(user), Value::Object(fields)) = (&mut user, fields) {
        user.extend(fields);
    }
    user
}

/// Where the example requests come from.
fn geoip() -> Value {
    json!({
        "country_code": "US",
        "country_code3": "USA",
        "country_name": "United States",
        "city_name": "Seattle",
        "latitude": 47.6062,
        "longitude": -122.3321,
        "time_zone": "America/Los_Angeles",
        "continent_code": "NA"
    })
}

/// The Auth0 context of a password login to a web app (Universal Login,
/// authorization code flow).
fn login_context() -> Value {
    json!({
        "tenant": "example-tenant",
        "clientID": CLIENT_ID,
        "clientName": "Example Web App",
        "clientMetadata": {},
        "connection": CONNECTION,
        "connectionID": "con_Xq3B1dL9zT7pW2mK",
        "connectionStrategy": "auth0",
        "connectionMetadata": {},
        "protocol": "oidc-basic-profile",
        "sessionID": "hQ7v2YkP3sNw8LrT1cZb5mXa9dEf4GjU",
        "stats": { "loginsCount": 43 },
        "authentication": { "methods": [{ "name": "pwd", "timestamp": 1_748_850_072_908_u64 }] },
        "authorization": { "roles": ["member"] },
        "request": {
            "userAgent": USER_AGENT,
            "ip": IP,
            "hostname": "example-tenant.us.auth0.com",
            "language": "en-US,en;q=0.9",
            "query": {
                "client_id": CLIENT_ID,
                "response_type": "code",
                "redirect_uri": "https://app.example.com/callback",
                "scope": "openid profile email",
                "state": "bXlTdGF0ZVZhbHVl",
                "audience": "https://api.example.com/"
            },
            "body": {},
            "geoip": geoip()
        }
    })
}

/// The Auth0 context of a sign-up with a database connection.
fn registration_context() -> Value {
    json!({
        "tenant": "example-tenant",
        "clientID": CLIENT_ID,
        "clientName": "Example Web App",
        "clientMetadata": {},
        "connection": CONNECTION,
        "connectionID": "con_Xq3B1dL9zT7pW2mK",
        "connectionStrategy": "auth0",
        "protocol": "oidc-basic-profile",
        "request": {
            "userAgent": USER_AGENT,
            "ip": IP,
            "hostname": "example-tenant.us.auth0.com",
            "language": "en-US,en;q=0.9",
            "query": {},
            "body": {},
            "geoip": geoip()
        }
    })
}

/// The Auth0 context of a client credentials exchange (no user).
fn credentials_context() -> Value {
    json!({
        "tenant": "example-tenant",
        "clientID": "Zc4Q9mV2nR7tX1pL5sB8dF3gH6jK0wYe",
        "clientName": "Reporting Service",
        "clientMetadata": {},
        "protocol": "oauth2-client-credentials",
        "audience": "https://api.example.com/",
        "scope": ["read:reports"],
        "request": {
            "userAgent": "axios/1.6.8",
            "ip": "198.51.100.7",
            "hostname": "example-tenant.us.auth0.com",
            "query": {},
            "body": { "grant_type": "client_credentials", "audience": "https://api.example.com/" },
            "geoip": geoip()
        }
    })
}

/// The report printed after writing the project.
fn report_text(dir: &Path, out: &Path, export: &Export) -> String {
    let mut text = format!(
        "imported {} function(s) from the Auth0 export in {} into {}:\n",
        export.functions.len(),
        dir.display(),
        out.display()
    );
    for function in &export.functions {
        text.push_str(&imported_line(function));
    }
    let fixtures = export
        .functions
        .iter()
        .filter(|f| !f.triggers.is_empty())
        .count();
    text.push_str(&format!(
        "  wrote {}, {} and {} ({fixtures} fixture(s))\n",
        out.join("authpipe.toml").display(),
        out.join("functions").display(),
        out.join("fixtures").display()
    ));
    if !export.env.is_empty() {
        text.push_str(
            "\nset these environment variables before `authpipe serve` \
             (secrets are never written to authpipe.toml):\n",
        );
        for secret in export.env.values() {
            for use_ in &secret.uses {
                text.push_str(&format!("  {:<24} {use_}\n", secret.var));
            }
        }
    }
    if !export.report.dropped.is_empty() {
        text.push_str("\nnot carried over:");
        text.push_str(&export.report.dropped_text());
        text.push('\n');
    }
    if !export.report.notes.is_empty() {
        text.push_str("\nto check:\n");
        for note in &export.report.notes {
            text.push_str(&format!("  - {note}\n"));
        }
    }
    text.push_str(&format!(
        "\nnext: `authpipe test --config {0}` runs the fixtures; `authpipe serve --config {0}` serves it\n",
        out.join("authpipe.toml").display()
    ));
    text
}

/// `  rule   "Name" -> name  (post-authentication, order 1)`.
fn imported_line(function: &Imported) -> String {
    let triggers = if function.triggers.is_empty() {
        "no trigger".to_string()
    } else {
        function
            .triggers
            .iter()
            .map(|t| t.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let disabled = if function.enabled { "" } else { ", disabled" };
    format!(
        "  {:<6} {:?} -> {} ({triggers}, order {}{disabled})\n",
        function.kind.as_str(),
        function.auth0_name,
        function.name,
        function.order
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use authpipe_server::config::{Config, Purpose};

    /// A fresh directory under the system's temporary directory.
    fn temp_dir(label: &str) -> PathBuf {
        use std::sync::atomic::{AtomicU64, Ordering};
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let dir = std::env::temp_dir().join(format!(
            "authpipe-import-{label}-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    /// Removes what a test made (left in place when it fails).
    fn remove(dirs: &[&Path]) {
        for dir in dirs {
            std::fs::remove_dir_all(dir).unwrap();
        }
    }

    fn write(dir: &Path, path: &str, text: &str) {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    const NAMED_RULE: &str = "function addRolesToTokens(user, context, callback) {\n  \
        const namespace = 'https://myapp.example.com/';\n  \
        const roles = (context.authorization || {}).roles || [];\n  \
        context.idToken[namespace + 'roles'] = roles;\n  \
        callback(null, user, context);\n}\n";

    const ANONYMOUS_RULE: &str = "function (user, context, callback) {\n  \
        const _ = require('lodash@4.17.21');\n  \
        user.app_metadata = user.app_metadata || {};\n  \
        if (!configuration.THISDATA_API_KEY) return callback(null, user, context);\n  \
        request.post({ url: 'https://api.thisdata.io/v1/verify', json: { ip: context.request.ip } }, function () {\n    \
        callback(null, user, context);\n  });\n}\n";

    const ACTION: &str = "exports.onExecutePostLogin = async (event, api) => {\n  \
        if (event.stats.logins_count === 1) api.user.setAppMetadata('first_login', true);\n};\n";

    /// A small export: two rules (one failure-stage rule besides), a bound
    /// post-login action with a secret and a dependency authpipe lacks, an
    /// unbound post-change-password action, and a rules-config.
    fn sample_export() -> PathBuf {
        let dir = temp_dir("export");
        write(
            &dir,
            "rules/Add-roles-to-tokens.json",
            r#"{"name": "Add roles to tokens", "script": "./Add-roles-to-tokens.js", "order": 2, "enabled": true, "stage": "login_success"}"#,
        );
        write(&dir, "rules/Add-roles-to-tokens.js", NAMED_RULE);
        write(
            &dir,
            "rules/ThisData.json",
            r#"{"name": "ThisData", "script": "./ThisData.js", "order": 1, "enabled": false, "stage": "login_success"}"#,
        );
        write(&dir, "rules/ThisData.js", ANONYMOUS_RULE);
        write(
            &dir,
            "rules/Log-failures.json",
            r#"{"name": "Log failures", "script": "./Log-failures.js", "order": 3, "stage": "login_failure"}"#,
        );
        write(
            &dir,
            "rules/Log-failures.js",
            "function (user, context, callback) { callback(null, user, context); }\n",
        );
        write(
            &dir,
            "rules-configs/THISDATA_API_KEY.json",
            r#"{"key": "THISDATA_API_KEY", "value": "s3cr3t-value-not-for-toml"}"#,
        );
        write(
            &dir,
            "rules-configs/EMPTY.json",
            r#"{"key": "EMPTY", "value": ""}"#,
        );
        write(
            &dir,
            "rules-configs/API_URL.json",
            r#"{"key": "API-URL", "value": "https://##API_HOST##/v2"}"#,
        );
        write(
            &dir,
            "actions/Mark first login.json",
            r#"{
              "name": "Mark first login",
              "code": "./actions/Mark first login/code.js",
              "runtime": "node18",
              "status": "built",
              "dependencies": [{"name": "lodash", "version": "4.17.21"}, {"name": "stripe", "version": "12.0.0"}],
              "secrets": [{"name": "STRIPE_KEY", "value": "_VALUE_NOT_SHOWN_"}],
              "supported_triggers": [{"id": "post-login", "version": "v3"}],
              "deployed": true
            }"#,
        );
        write(&dir, "actions/Mark first login/code.js", ACTION);
        write(
            &dir,
            "actions/notify-password-change.json",
            r#"{"name": "notify-password-change", "code": "./actions/notify-password-change/code.js",
                "secrets": [], "supported_triggers": [{"id": "post-change-password", "version": "v2"}], "deployed": true}"#,
        );
        write(
            &dir,
            "actions/notify-password-change/code.js",
            "exports.onExecutePostChangePassword = async (event) => {};\n",
        );
        write(
            &dir,
            "triggers/triggers.json",
            r#"{"post-login": [{"action_name": "Mark first login", "display_name": "Mark first login"}],
                "post-change-password": [{"action_name": "notify-password-change", "display_name": "n"}],
                "credentials-exchange": []}"#,
        );
        dir
    }

    #[test]
    fn an_export_becomes_a_project() {
        let export_dir = sample_export();
        let export = read_export(&export_dir).unwrap();
        let names: Vec<(&str, i64, bool)> = export
            .functions
            .iter()
            .map(|f| (f.name.as_str(), f.order, f.enabled))
            .collect();
        assert_eq!(
            names,
            [
                ("thisdata", 1, false),
                ("add-roles-to-tokens", 2, true),
                ("log-failures", 3, true),
                ("mark-first-login", 4, true),
                ("notify-password-change", 5, true),
            ]
        );
        let dropped = export.report.dropped.join("\n");
        for text in [
            "stage \"login_failure\"",
            "stripe@12.0.0",
            "post-change-password has no authpipe trigger",
            "EMPTY is empty",
        ] {
            assert!(dropped.contains(text), "{text:?} not in:\n{dropped}");
        }
        assert!(!dropped.contains("lodash@"), "{dropped}");
        let notes = export.report.notes.join("\n");
        assert!(
            notes.contains("rule thisdata: makes HTTP requests"),
            "{notes}"
        );
        assert!(!notes.contains("rule thisdata: requires"), "{notes}");
        assert!(!notes.contains("add-roles-to-tokens: makes"), "{notes}");

        let out = temp_dir("out").join("project");
        import(&export_dir, Some(&out)).unwrap();
        let toml_text = std::fs::read_to_string(out.join("authpipe.toml")).unwrap();
        assert!(!toml_text.contains("s3cr3t"), "{toml_text}");
        assert!(toml_text.contains("THISDATA_API_KEY = { from_env = \"THISDATA_API_KEY\" }"));
        assert!(toml_text.contains("#   \"https://api.thisdata.io/*\","));
        assert!(toml_text.contains("API-URL = { from_env = \"API_URL\" }"));
        assert!(toml_text.contains("maps API_HOST to"), "{toml_text}");
        assert!(!toml_text.contains("/v2"), "{toml_text}");
        let table: toml::Table = toml_text.parse().unwrap();
        let functions = table["function"].as_array().unwrap();
        assert_eq!(functions.len(), 5);
        assert_eq!(functions[1]["flavor"].as_str(), Some("auth0-rule"));
        assert_eq!(functions[3]["flavor"].as_str(), Some("auth0-action"));
        assert_eq!(
            functions[4]["triggers"].as_array().map(Vec::len),
            Some(0),
            "{toml_text}"
        );
        for (name, source) in [
            ("thisdata", ANONYMOUS_RULE),
            ("add-roles-to-tokens", NAMED_RULE),
            ("mark-first-login", ACTION),
        ] {
            let written = std::fs::read_to_string(out.join(format!("functions/{name}.js")));
            assert_eq!(written.unwrap(), source, "{name}");
        }

        // Until the config knows `flavor`, load it without: names, triggers,
        // env and sources must all be acceptable as they are.
        let without_flavor: String = toml_text
            .lines()
            .filter(|l| !l.starts_with("flavor = "))
            .map(|l| format!("{l}\n"))
            .collect();
        std::fs::write(out.join("authpipe.toml"), without_flavor).unwrap();
        let config = Config::load_for(
            &out.join("authpipe.toml"),
            &|_| Some(String::new()),
            Purpose::Offline,
        )
        .unwrap();
        assert_eq!(config.functions.len(), 5);
        for function in &config.functions {
            let fixtures: Vec<_> = std::fs::read_dir(&function.fixtures)
                .map(|d| d.map(|e| e.unwrap().path()).collect())
                .unwrap_or_default();
            if function.triggers.is_empty() {
                assert!(fixtures.is_empty(), "{}", function.name);
                continue;
            }
            assert_eq!(fixtures.len(), 1, "{}", function.name);
            let fixture = crate::testing::read_fixture(&fixtures[0]).unwrap();
            assert_eq!(fixture.expect.outcome, authpipe::Outcome::Allow);
            let trigger = Trigger::parse(fixture.trigger.as_deref().unwrap()).unwrap();
            assert!(function.triggers.contains(&trigger));
        }
        let thisdata =
            crate::testing::read_fixture(&out.join("fixtures/thisdata/login.json")).unwrap();
        assert_eq!(
            thisdata.env["THISDATA_API_KEY"],
            "fixture-value-of-THISDATA_API_KEY"
        );
        assert_eq!(thisdata.input["user"]["identities"][0]["provider"], "auth0");
        assert_eq!(thisdata.input["context"]["stats"]["loginsCount"], 43);
        remove(&[&export_dir, out.parent().unwrap()]);
    }

    #[test]
    fn a_non_empty_output_is_refused() {
        let export_dir = sample_export();
        let out = temp_dir("busy");
        write(&out, "keep.txt", "mine");
        let error = import(&export_dir, Some(&out)).unwrap_err().to_string();
        assert!(error.contains("is not empty"), "{error}");
        assert_eq!(std::fs::read_dir(&out).unwrap().count(), 1);
        remove(&[&export_dir, &out]);
    }

    #[test]
    fn a_directory_without_rules_or_actions_is_refused() {
        let empty = temp_dir("empty");
        let unused = temp_dir("unused");
        let error = import(&empty, Some(&unused.join("p")))
            .unwrap_err()
            .to_string();
        assert!(error.contains("nothing to import"), "{error}");
        assert!(!unused.join("p").exists());
        remove(&[&empty, &unused]);
    }

    #[test]
    fn the_command_line_reaches_the_import() {
        use clap::Parser;
        let out = temp_dir("cli").join("project");
        let export_dir = sample_export();
        let cli = crate::Cli::try_parse_from([
            "authpipe",
            "import",
            "auth0",
            export_dir.to_str().unwrap(),
            "--output",
            out.to_str().unwrap(),
        ])
        .unwrap();
        crate::run(cli).unwrap();
        assert!(out.join("authpipe.toml").is_file());
        remove(&[&export_dir, out.parent().unwrap()]);
    }

    #[test]
    fn names_modules_and_placeholders() {
        assert_eq!(
            function_name("Add roles to  tokens!", Kind::Rule),
            "add-roles-to-tokens"
        );
        assert_eq!(function_name("  ", Kind::Action), "action");
        assert_eq!(package_name("lodash@4.17.21"), "lodash");
        assert_eq!(package_name("lodash/fp"), "lodash");
        assert_eq!(package_name("@slack/webhook@6.1.0"), "@slack/webhook");
        assert_eq!(package_name("@slack/webhook/dist/x"), "@slack/webhook");
        assert!(is_bundled("request-promise@1.0.2"));
        assert!(!is_bundled("stripe"));
        assert_eq!(
            keyword_placeholders("a = @@ENV@@; b = '##API_URL##'; c = '## not ##'"),
            BTreeSet::from(["API_URL".to_string(), "ENV".to_string()])
        );
        assert_eq!(
            required_modules("const a = require('axios'); const b = require(\"x@1\");"),
            BTreeSet::from(["axios".to_string(), "x@1".to_string()])
        );
        assert!(uses_global("request.post({})", "request"));
        assert!(!uses_global("context.request.ip", "request"));
        assert!(!uses_global("const requested = 1", "request"));
        assert_eq!(env_var("my-key"), "my_key");
        assert_eq!(env_var("1X"), "_1X");
    }
}
