# authpipe: run user-written auth pipeline functions in a WebAssembly sandbox.
# One build profile everywhere (release): wasmtime is slow to compile twice.

example := "templates/email-domain-allowlist"
authpipe := "./target/release/authpipe"

# List the recipes.
default:
    @just --list

# Install what the build needs (Debian packages, the wasm target, wasmtime-py). Idempotent.
setup:
    bash scripts/setup.sh

# Build the guest engine and the host (library + CLI).
build: setup
    cargo build --release --workspace

# Run every test (unit, end-to-end through the real guest and CLI).
test: build
    cargo test --release --workspace

# Compile and run the bundled example function (allowed, then denied).
run: build
    {{authpipe}} compile-function {{example}}/function.js -o target/email-domain-allowlist.wasm
    {{authpipe}} run target/email-domain-allowlist.wasm --input {{example}}/fixtures/allowed.json --env ALLOWED_DOMAIN=example.com
    {{authpipe}} run target/email-domain-allowlist.wasm --input {{example}}/fixtures/denied.json --env ALLOWED_DOMAIN=example.com

# Benchmark one invocation of the example (fresh instance per call).
bench n="20000": build
    {{authpipe}} bench {{example}}/function.js --input {{example}}/fixtures/allowed.json --env ALLOWED_DOMAIN=example.com -n {{n}}
    {{authpipe}} bench {{example}}/function.js --input {{example}}/fixtures/allowed.json --env ALLOWED_DOMAIN=example.com -n {{n}} --json

# Formatting and clippy, warnings denied.
lint: setup
    cargo fmt --all --check
    cargo fmt --manifest-path guest/Cargo.toml --check
    cargo clippy --release --workspace --all-targets -- -D warnings
