//! `authpipe templates` and `authpipe new`: the bundled templates (see
//! [`authpipe_server::templates`]) listed, and written out as projects.

use crate::files::{comment, key, quoted};
use anyhow::{Context, Result, bail};
use authpipe_server::templates::{Metadata, TEMPLATES, find};
use std::path::Path;

/// Prints every template with its title.
pub fn list() -> Result<()> {
    let width = TEMPLATES.iter().map(|t| t.id.len()).max().unwrap_or(0);
    for template in TEMPLATES {
        let metadata = template.metadata()?;
        let mode = if metadata.is_async { ", async" } else { "" };
        println!(
            "{:<width$}  {}  [{}: {}{mode}]",
            template.id,
            metadata.title,
            metadata.use_case,
            metadata.triggers.join(", ")
        );
    }
    println!(
        "\n{} templates. `authpipe new TEMPLATE [DIR]` writes a project from one.",
        TEMPLATES.len()
    );
    Ok(())
}

/// Writes a runnable project from template `id` into `dir` (default:
/// `./ID`), which must not exist or be empty.
pub fn new(id: &str, dir: Option<&Path>) -> Result<()> {
    let template = find(id)?;
    let metadata = template.metadata()?;
    let dir = dir.unwrap_or(Path::new(id));
    if dir.exists() {
        let mut entries = std::fs::read_dir(dir)
            .with_context(|| format!("{} exists and is not a readable directory", dir.display()))?;
        if entries.next().is_some() {
            bail!(
                "{} already exists and is not empty; nothing was written (choose a new directory)",
                dir.display()
            );
        }
    }
    let fixtures_dir = dir.join("fixtures").join(id);
    let functions_dir = dir.join("functions");
    for d in [&fixtures_dir, &functions_dir] {
        std::fs::create_dir_all(d).with_context(|| format!("cannot create {}", d.display()))?;
    }
    let write = |path: &Path, text: &str| {
        std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
    };
    write(&dir.join("authpipe.toml"), &config_text(id, &metadata))?;
    write(&functions_dir.join(format!("{id}.js")), template.source()?)?;
    let mut count = 0;
    for (name, text) in template.fixtures() {
        write(&fixtures_dir.join(name), text)?;
        count += 1;
    }
    println!(
        "created {} from template {id:?} ({}):",
        dir.display(),
        metadata.title
    );
    println!("  {}", dir.join("authpipe.toml").display());
    println!("  {}", functions_dir.join(format!("{id}.js")).display());
    println!("  {} ({count} fixtures)", fixtures_dir.display());
    println!(
        "next: `authpipe test --config {0}` runs the fixtures; `authpipe serve --config {0}` serves it",
        dir.join("authpipe.toml").display()
    );
    Ok(())
}

/// The `authpipe.toml` of a new project.
fn config_text(id: &str, metadata: &Metadata) -> String {
    let mut out = format!(
        "# {title}: made by `authpipe new {id}`.\n",
        title = comment(&metadata.title)
    );
    for line in textwrap(&metadata.description, 76) {
        out.push_str(&format!("# {line}\n"));
    }
    out.push_str(
        "#\n# `authpipe test` runs the fixtures in fixtures/; `authpipe serve` serves it.\n\n",
    );
    out.push_str("[server]\nlisten = \"127.0.0.1:8080\"\n\n[env]\n");
    for (name, spec) in &metadata.env {
        out.push_str(&format!("# {}\n", comment(&spec.description)));
        if spec.secret {
            out.push_str(&format!(
                "{} = {{ from_env = {} }}\n",
                key(name),
                quoted(name)
            ));
        } else {
            out.push_str(&format!(
                "{} = {}\n",
                key(name),
                quoted(spec.example.as_deref().unwrap_or(""))
            ));
        }
    }
    let allow: Vec<String> = metadata.fetch.allow.iter().map(|a| quoted(a)).collect();
    out.push_str(&format!("\n[fetch]\nallow = [{}]\n\n", allow.join(", ")));
    let triggers: Vec<String> = metadata.triggers.iter().map(|t| quoted(t)).collect();
    out.push_str(&format!(
        "[[function]]\nname = {}\nsource = {}\ntriggers = [{}]\nasync = {}\n",
        quoted(id),
        quoted(&format!("functions/{id}.js")),
        triggers.join(", "),
        metadata.is_async
    ));
    if metadata.flavor != "authing" {
        out.push_str(&format!("flavor = {}\n", quoted(&metadata.flavor)));
    }
    out
}

/// Splits `text` into lines of at most `width` characters, at spaces.
fn textwrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.len() + 1 + word.len() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    const USE_CASES: [&str; 5] = [
        "whitelist",
        "event-notification",
        "privilege-control",
        "extended-user-fields",
        "custom-token",
    ];

    #[test]
    fn every_template_is_complete() {
        assert!(TEMPLATES.len() >= 14, "only {} templates", TEMPLATES.len());
        let mut use_cases = std::collections::BTreeSet::new();
        for template in TEMPLATES {
            let metadata = template.metadata().unwrap();
            assert!(template.source().is_ok(), "{}", template.id);
            assert!(
                template.fixtures().count() >= 2,
                "{}: fewer than 2 fixtures",
                template.id
            );
            assert!(!metadata.triggers.is_empty(), "{}", template.id);
            let flavor: authpipe::Flavor = metadata.flavor.parse().unwrap();
            assert_eq!(
                authpipe::Flavor::detect(template.source().unwrap()),
                flavor,
                "{}: the source is detected as its flavor",
                template.id
            );
            for trigger in &metadata.triggers {
                assert!(
                    authpipe_server::config::Trigger::parse(trigger).is_some(),
                    "{}: {trigger}",
                    template.id
                );
            }
            assert!(
                USE_CASES.contains(&metadata.use_case.as_str()),
                "{}",
                template.id
            );
            use_cases.insert(metadata.use_case);
        }
        assert_eq!(
            use_cases.len(),
            USE_CASES.len(),
            "use cases covered: {use_cases:?}"
        );
    }
}
