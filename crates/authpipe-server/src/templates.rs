//! The bundled templates: ready-made functions with test fixtures, embedded
//! at build time from `templates/` (served by `GET /v1/templates`, written
//! out by `authpipe new`).
//!
//! A template is a directory of `templates/`:
//!
//! * `template.toml`: title, description, use case, triggers, `async`, the
//!   `env` it needs (with an example value, or `secret = true` to read it
//!   from the process environment) and its `[fetch] allow` entries;
//! * `function.js`: the function;
//! * `fixtures/*.json`: its test cases.

use anyhow::{Context, Result};
use serde::Deserialize;
use std::collections::BTreeMap;

/// One template's files, embedded at build time.
pub struct Bundled {
    /// Directory name: what `authpipe new` takes.
    pub id: &'static str,
    /// `(path relative to the template, contents)`.
    pub files: &'static [(&'static str, &'static str)],
}

include!(concat!(env!("OUT_DIR"), "/templates.rs"));

/// `template.toml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Metadata {
    /// One line, for lists.
    pub title: String,
    /// What it does, a sentence or two.
    pub description: String,
    /// whitelist, event-notification, privilege-control,
    /// extended-user-fields or custom-token.
    pub use_case: String,
    /// The triggers it is made for.
    pub triggers: Vec<String>,
    /// Runs after the response (notifications).
    #[serde(default, rename = "async")]
    pub is_async: bool,
    /// `auth0-rule` or `auth0-action` for an Auth0-flavoured template;
    /// `authing` (the default) otherwise.
    #[serde(default = "authing")]
    pub flavor: String,
    /// The `env` entries the function reads.
    #[serde(default)]
    pub env: BTreeMap<String, EnvSpec>,
    /// What its `fetch` calls need allowed.
    #[serde(default)]
    pub fetch: FetchSpec,
}

fn authing() -> String {
    "authing".into()
}

/// An `env` entry the function reads.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvSpec {
    /// What the value is for.
    pub description: String,
    /// Written into the generated `[env]` (not for secrets).
    #[serde(default)]
    pub example: Option<String>,
    /// Read from the process environment variable of the same name.
    #[serde(default)]
    pub secret: bool,
}

/// `[fetch]` of a template.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FetchSpec {
    /// `[fetch] allow` entries.
    #[serde(default)]
    pub allow: Vec<String>,
}

impl Bundled {
    /// The contents of `name` (relative to the template).
    pub fn file(&self, name: &str) -> Option<&'static str> {
        self.files
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, text)| *text)
    }

    /// The parsed `template.toml`.
    pub fn metadata(&self) -> Result<Metadata> {
        let text = self.file("template.toml").context("no template.toml")?;
        toml::from_str(text)
            .with_context(|| format!("templates/{}/template.toml is invalid", self.id))
    }

    /// The function's source.
    pub fn source(&self) -> Result<&'static str> {
        self.file("function.js")
            .with_context(|| format!("templates/{} has no function.js", self.id))
    }

    /// `(file name, contents)` of the fixtures.
    pub fn fixtures(&self) -> impl Iterator<Item = (&'static str, &'static str)> {
        self.files
            .iter()
            .filter_map(|(name, text)| Some((name.strip_prefix("fixtures/")?, *text)))
            .filter(|(name, _)| name.ends_with(".json") && !name.contains('/'))
    }
}

/// The template called `id`; the error lists the templates.
pub fn find(id: &str) -> Result<&'static Bundled> {
    TEMPLATES.iter().find(|t| t.id == id).with_context(|| {
        let ids: Vec<&str> = TEMPLATES.iter().map(|t| t.id).collect();
        format!("no template {id:?}; the templates are: {}", ids.join(", "))
    })
}
