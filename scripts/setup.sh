#!/usr/bin/env bash
# Installs what building and testing authpipe needs on Debian, idempotently:
# the wasm32-wasip1 Rust target, clang-19 + llvm-19 + wasi-libc (to build
# QuickJS for WebAssembly), wasmtime-py (the stock-runtime test),
# Node.js with npm (the type check of types/authpipe.d.ts and the console's
# build check), Chromium with its WebDriver (the console's browser tests),
# PostgreSQL (the Postgres store's tests and `just cluster` start throwaway
# clusters with scripts/postgres.sh) and nginx (the load balancer of
# `just cluster` and the cluster tests, run as the current user on its own
# port; Debian's own nginx service, if the package starts one, is not used).
set -euo pipefail

missing=()
command -v clang-19 >/dev/null || missing+=(clang-19)
command -v llvm-ar-19 >/dev/null || missing+=(llvm-19)
[ -f /usr/include/wasm32-wasi/stdio.h ] || missing+=(wasi-libc)
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ -x /usr/bin/chromedriver ] || missing+=(chromium-driver)
[ -x /usr/sbin/nginx ] || missing+=(nginx)
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || missing+=(postgresql)

if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then apt="apt-get"; elif command -v sudo >/dev/null; then apt="sudo apt-get"; else apt=""; fi
  if [ -z "$apt" ] || ! command -v apt-get >/dev/null; then
    echo "error: missing Debian packages: ${missing[*]}" >&2
    echo "  help: install them as root: apt-get install ${missing[*]}" >&2
    exit 1
  fi
  echo "setup: installing ${missing[*]}"
  $apt update -qq
  DEBIAN_FRONTEND=noninteractive $apt install -y -qq "${missing[@]}" >/dev/null
fi

if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-wasip1; then
  echo "setup: adding the Rust target wasm32-wasip1"
  rustup target add wasm32-wasip1
fi

if ! python3 -c 'import wasmtime' 2>/dev/null; then
  echo "setup: installing wasmtime-py (runs compiled functions under stock Wasmtime in tests)"
  python3 -m pip install --quiet --disable-pip-version-check wasmtime \
    || echo "warning: could not install wasmtime-py; the stock-runtime test will fail in CI" >&2
fi
if ! python3 -c 'import quickjs' 2>/dev/null; then
  echo "setup: installing python quickjs (the native QuickJS peer of \`just bench\`)"
  python3 -m pip install --quiet --disable-pip-version-check quickjs \
    || echo "warning: could not install python quickjs; \`just bench\` prints no peer figure" >&2
fi
echo "setup: ok"
