//! A compiled function is a self-contained WASI program: it runs under a
//! stock Wasmtime (wasmtime-py), and a reloaded snapshot behaves the same.

use authpipe::Outcome;
use authpipe_tests::{Call, INPUT, compile, run, run_under_stock_wasi, runtime, temp_dir};
use std::io::Write;
use std::process::{Command, Stdio};

#[test]
fn snapshot_runs_under_the_standard_wasi_host() {
    let function = compile("deny");
    for (domain, outcome) in [("example.com", "allow"), ("corp.example", "deny")] {
        let stdout =
            run_under_stock_wasi(function.snapshot(), &[("ALLOWED_DOMAIN", domain)], INPUT)
                .expect("runs");
        let result: serde_json::Value =
            serde_json::from_slice(&stdout).expect("result JSON on stdout");
        assert_eq!(result["outcome"], outcome, "{result}");
    }
}

#[test]
fn snapshot_file_runs_under_stock_wasmtime_py() {
    // An independent runtime binary (wasmtime-py), fed the file on disk.
    if !Command::new("python3")
        .args(["-c", "import wasmtime"])
        .status()
        .is_ok_and(|s| s.success())
    {
        assert!(
            std::env::var_os("CI").is_none(),
            "`just setup` installs wasmtime-py; CI must have it"
        );
        eprintln!("skipping: python3 wasmtime module not installed (run `just setup`)");
        return;
    }
    let function = compile("deny");
    let wasm = temp_dir("stock").join("deny.wasm");
    std::fs::write(&wasm, function.snapshot()).unwrap();
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("stock/run_wasi.py");
    let mut child = Command::new("python3")
        .arg(&script)
        .arg(&wasm)
        .arg("ALLOWED_DOMAIN=example.com")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(INPUT.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success());
    let result: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("result JSON on stdout");
    assert_eq!(result["outcome"], "allow", "{result}");
}

#[test]
fn a_loaded_snapshot_behaves_like_the_compiled_function() {
    let compiled = compile("claims");
    let loaded = runtime().load("claims", compiled.snapshot()).expect("load");
    let a = run(&compiled, Call::default());
    let b = run(&loaded, Call::default());
    assert_eq!(a.outcome, Outcome::Allow);
    assert_eq!(
        (a.user, a.claims, a.custom_data),
        (b.user, b.claims, b.custom_data)
    );
}

#[test]
fn loading_something_else_fails_clearly() {
    let error = runtime()
        .load("junk", b"\0asm\x01\0\0\0")
        .expect_err("empty module");
    assert!(
        format!("{error:#}").contains("not an authpipe"),
        "{error:#}"
    );
    let error = runtime()
        .load("junk", b"not wasm at all")
        .expect_err("not wasm");
    assert!(format!("{error:#}").contains("junk"), "{error:#}");
}
