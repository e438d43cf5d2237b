# authpipe: run user-written auth pipeline functions in a WebAssembly sandbox.
# One build profile everywhere (release): wasmtime is slow to compile twice.

# The DESIGN.md example function and its 126-byte input (the per-call benchmark).
example := "examples/email-domain-allowlist"
project := "examples/starter-project"
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

# Run every test (unit, end-to-end through the real guest, CLI, a real browser for the console and a real PostgreSQL for the store and the cluster), then type-check the typings, check that console/dist matches its sources, and check the deployment files.
test: build
    cargo test --release --workspace
    bash scripts/check-types.sh
    bash scripts/console.sh check
    bash scripts/bundled-modules.sh check
    bash scripts/check-deploy.sh

# Refresh guest/npm/bundled (lodash, moment, moment-timezone for Auth0 rules) from the packages pinned in guest/npm/package-lock.json.
bundled-modules:
    bash scripts/bundled-modules.sh sync

# Rebuild the web console (console/ → console/dist/, committed so `cargo build` needs no Node) with its pinned npm packages.
console:
    bash scripts/console.sh build

# Serve store mode on 127.0.0.1:8080 (target/demo/authpipe.db) with the starter project deployed into tenant "demo"; prints the admin token, a tenant key and curl lines.
run: build
    bash scripts/run-demo.sh

# Three store-mode nodes on one local Postgres behind nginx on 127.0.0.1:8090 (target/cluster; scripts/cluster.sh); prints the admin token and curl lines.
cluster: build
    bash scripts/cluster.sh up

# Stop what `just cluster` started (nginx, the nodes, Postgres with its throwaway database).
cluster-down:
    bash scripts/cluster.sh down

# Cluster figures: req/s and p99 through nginx with 1 and 3 nodes, change propagation over N changes, a new node's ready time with F functions in the store.
bench-cluster changes="100" functions="1000": build
    python3 scripts/bench-cluster.py --changes {{changes}} --functions {{functions}}

# Check the deployment files (Dockerfile, deploy/compose.yaml, deploy/kubernetes/, nginx configs) without Docker or a cluster.
check-deploy:
    bash scripts/check-deploy.sh

# Serve the starter project in file mode (one authpipe.toml, no tenants), with a fresh API token.
run-file: build
    #!/usr/bin/env bash
    set -euo pipefail
    export AUTHPIPE_TOKEN="${AUTHPIPE_TOKEN:-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')}"
    echo "API token: $AUTHPIPE_TOKEN"
    echo "In another terminal:"
    echo "  curl -s -X POST http://127.0.0.1:8080/v1/pipelines/pre-register -H 'authorization: Bearer $AUTHPIPE_TOKEN' -H 'content-type: application/json' -d @{{project}}/requests/pre-register.json"
    exec {{authpipe}} serve --config {{project}}/authpipe.toml

# Compile and run the example function once with the CLI (allowed, then denied).
run-once: build
    {{authpipe}} compile-function {{example}}.js -o target/email-domain-allowlist.wasm
    {{authpipe}} run target/email-domain-allowlist.wasm --input {{example}}.input.json --env ALLOWED_DOMAIN=example.com
    {{authpipe}} run target/email-domain-allowlist.wasm --input {{example}}.denied.json --env ALLOWED_DOMAIN=example.com

# Per-call figures of the example function (fresh instance per call), side by side with native QuickJS (fresh context, python quickjs), and the growth table (1/10/100 KB users, 1/3/10 stages).
bench n="20000": build
    python3 scripts/bench.py {{n}}

# Per-call figures of three templates, the Slack one posting to a local webhook receiver.
bench-templates calls="10000": build
    bash scripts/bench-templates.sh {{calls}}

# Run the fixtures of every bundled template (each through `authpipe new` + `authpipe test`).
test-templates: build
    bash scripts/test-templates.sh

# HTTP load figures: wrk on loopback against the 3-stage pre-register pipeline and against the raw HTTP floor (bare hyper), start times, first request after a deploy, RSS.
bench-http seconds="20" connections="16": build
    bash scripts/bench-http.sh {{seconds}} {{connections}}

# Soak: the 3-stage pipeline under full load for a bounded time, RSS sampled; fails if RSS grows more than 10%.
soak minutes="10" connections="64": build
    bash scripts/soak.sh {{minutes}} {{connections}}

# Attack figures: normal traffic during a disconnect flood and a slow-body flood, RSS, real timeout durations.
flood seconds="10": build
    python3 scripts/flood.py {{authpipe}} {{seconds}}

# Formatting and clippy, warnings denied.
lint: setup
    cargo fmt --all --check
    cargo fmt --manifest-path guest/Cargo.toml --check
    cargo clippy --release --workspace --all-targets -- -D warnings
