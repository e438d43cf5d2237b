//! Builds the guest engine (`guest/`, QuickJS + prelude) for wasm32-wasip1
//! and places it in `OUT_DIR/engine.wasm` for `include_bytes!`.
//!
//! Set `AUTHPIPE_ENGINE_WASM=/path/engine.wasm` to use a prebuilt engine.
//! Otherwise the engine's C code (QuickJS) is built with Debian's clang-19
//! against Debian's wasi-libc; `just setup` installs both.

use std::path::{Path, PathBuf};
use std::process::Command;

const TARGET: &str = "wasm32-wasip1";
const CLANG: &str = "clang-19";
const LLVM_AR: &str = "llvm-ar-19";
const WASI_INCLUDE: &str = "/usr/include/wasm32-wasi";
const WASI_LIB: &str = "/usr/lib/wasm32-wasi";

fn main() {
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let manifest = PathBuf::from(
        std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"),
    );
    let root = manifest.join("../..");
    let guest = root.join("guest");
    println!("cargo:rerun-if-env-changed=AUTHPIPE_ENGINE_WASM");
    for watched in ["src", "vendor", "npm/bundled", "Cargo.toml", "Cargo.lock"] {
        println!("cargo:rerun-if-changed={}", guest.join(watched).display());
    }

    let engine = match std::env::var_os("AUTHPIPE_ENGINE_WASM") {
        Some(path) => PathBuf::from(path),
        None => build_guest(&root, &guest),
    };
    if let Err(e) = std::fs::copy(&engine, out.join("engine.wasm")) {
        fail(
            &format!("cannot copy the engine from {}: {e}", engine.display()),
            "run `just build`",
        );
    }
}

fn build_guest(root: &Path, guest: &Path) -> PathBuf {
    check_prerequisites();
    let target_dir = root.join("target").join("guest");
    let sysroot = target_dir.join("sysroot");
    make_sysroot(&sysroot);
    let sysroot_flag = format!("--sysroot={}", sysroot.display());
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .args([
            "build",
            "--release",
            "--locked",
            "--target",
            TARGET,
            "--manifest-path",
        ])
        .arg(guest.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(&target_dir)
        .env("RQUICKJS_SYS_NO_WASI_SDK", "1")
        .env("CC_wasm32_wasip1", CLANG)
        .env("AR_wasm32_wasip1", LLVM_AR)
        .env("CFLAGS_wasm32_wasip1", &sysroot_flag)
        .env("BINDGEN_EXTRA_CLANG_ARGS_wasm32_wasip1", &sysroot_flag);
    // The outer build's settings are for the host, not for the guest.
    for var in [
        "CARGO_ENCODED_RUSTFLAGS",
        "RUSTFLAGS",
        "CARGO_BUILD_TARGET",
        "CARGO_TARGET_DIR",
        "RUSTC_WORKSPACE_WRAPPER",
    ] {
        command.env_remove(var);
    }
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("CARGO_PROFILE_") {
            command.env_remove(key);
        }
    }
    let output = command.output().unwrap_or_else(|e| {
        fail(
            &format!("cannot run cargo to build the guest: {e}"),
            "check that cargo is on PATH",
        )
    });
    if !output.status.success() {
        eprintln!("{}", String::from_utf8_lossy(&output.stderr));
        fail(
            "building the guest engine (guest/) failed; its output is above",
            "run `just setup`, then `just build`",
        );
    }
    target_dir
        .join(TARGET)
        .join("release")
        .join("authpipe_guest.wasm")
}

fn check_prerequisites() {
    let sysroot = Command::new(std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into()))
        .args(["--print", "sysroot"])
        .output()
        .ok()
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
    if !sysroot.is_some_and(|s| s.join("lib/rustlib").join(TARGET).exists()) {
        fail(
            &format!("the Rust target {TARGET} is not installed"),
            &format!("rustup target add {TARGET}"),
        );
    }
    for tool in [CLANG, LLVM_AR] {
        if Command::new(tool).arg("--version").output().is_err() {
            fail(
                &format!("`{tool}` was not found; it compiles QuickJS for WebAssembly"),
                "run `just setup` (or apt-get install clang-19 llvm-19 wasi-libc)",
            );
        }
    }
    if !Path::new(WASI_INCLUDE).join("stdio.h").exists() {
        fail(
            &format!("wasi-libc headers are missing from {WASI_INCLUDE}"),
            "run `just setup` (or apt-get install wasi-libc)",
        );
    }
}

/// clang 19 looks for `wasm32-wasip1` directories; Debian ships `wasm32-wasi`.
fn make_sysroot(sysroot: &Path) {
    for (kind, real) in [("include", WASI_INCLUDE), ("lib", WASI_LIB)] {
        let dir = sysroot.join(kind);
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| {
            fail(
                &format!("cannot create {}: {e}", dir.display()),
                "check permissions",
            )
        });
        for name in ["wasm32-wasip1", "wasm32-wasi"] {
            let link = dir.join(name);
            if std::fs::read_link(&link).is_ok_and(|t| t == Path::new(real)) {
                continue;
            }
            let _ = std::fs::remove_file(&link);
            if let Err(e) = std::os::unix::fs::symlink(real, &link) {
                fail(
                    &format!("cannot link {} to {real}: {e}", link.display()),
                    "check permissions",
                );
            }
        }
    }
}

fn fail(message: &str, help: &str) -> ! {
    println!("cargo::error={message}");
    eprintln!("error: {message}\n  help: {help}");
    std::process::exit(1);
}
