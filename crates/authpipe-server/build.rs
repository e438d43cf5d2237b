//! Bundles `templates/` and the built web console (`console/dist/`) into the
//! binary, so `authpipe new` and `/console/` work anywhere.
//!
//! Every directory of `templates/` holding a `template.toml` becomes one
//! entry of `TEMPLATES` (in `$OUT_DIR/templates.rs`) with all of its files;
//! every file of `console/dist/` one entry of `CONSOLE_FILES` (in
//! `$OUT_DIR/console.rs`).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn main() {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    bundle_console(&manifest.join("../../console/dist"));
    let root = manifest.join("../../templates");
    println!("cargo:rerun-if-changed={}", root.display());
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", root.display()))
        .map(|entry| entry.expect("readable templates directory").path())
        .filter(|path| path.join("template.toml").is_file())
        .collect();
    dirs.sort();
    let mut out = String::from("/// The templates bundled from `templates/` at build time.\n");
    out.push_str("pub static TEMPLATES: &[Bundled] = &[\n");
    for dir in dirs {
        let id = dir
            .file_name()
            .expect("a directory name")
            .to_string_lossy()
            .into_owned();
        writeln!(
            out,
            "    Bundled {{\n        id: {id:?},\n        files: &["
        )
        .unwrap();
        let mut files = Vec::new();
        collect_files(&dir, &dir, &mut files);
        files.sort();
        for (relative, absolute) in files {
            writeln!(
                out,
                "            ({relative:?}, include_str!({absolute:?})),"
            )
            .unwrap();
        }
        out.push_str("        ],\n    },\n");
    }
    out.push_str("];\n");
    let target =
        PathBuf::from(std::env::var_os("OUT_DIR").expect("set by cargo")).join("templates.rs");
    std::fs::write(&target, out)
        .unwrap_or_else(|e| panic!("cannot write {}: {e}", target.display()));
}

/// `CONSOLE_FILES`: `(path under dist/, bytes)` of the built console.
fn bundle_console(dist: &Path) {
    println!("cargo:rerun-if-changed={}", dist.display());
    let mut files = Vec::new();
    if dist.is_dir() {
        collect_files(dist, dist, &mut files);
    }
    files.sort();
    let mut out = String::from("/// The built console from `console/dist/`.\n");
    out.push_str("pub static CONSOLE_FILES: &[(&str, &[u8])] = &[\n");
    for (relative, absolute) in files {
        println!("cargo:rerun-if-changed={absolute}");
        writeln!(out, "    ({relative:?}, include_bytes!({absolute:?})),").unwrap();
    }
    out.push_str("];\n");
    let target =
        PathBuf::from(std::env::var_os("OUT_DIR").expect("set by cargo")).join("console.rs");
    std::fs::write(&target, out)
        .unwrap_or_else(|e| panic!("cannot write {}: {e}", target.display()));
}

/// Regular files under `dir`, as (path relative to `base` with `/`, absolute path).
fn collect_files(base: &Path, dir: &Path, files: &mut Vec<(String, String)>) {
    for entry in
        std::fs::read_dir(dir).unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
    {
        let path = entry.expect("readable template directory").path();
        if path.is_dir() {
            collect_files(base, &path, files);
        } else if path.is_file() {
            let relative = path
                .strip_prefix(base)
                .expect("under the template")
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/");
            let absolute = path.canonicalize().expect("an existing file");
            files.push((relative, absolute.to_string_lossy().into_owned()));
        }
    }
}
