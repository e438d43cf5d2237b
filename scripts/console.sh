#!/usr/bin/env bash
# The web console's frontend (console/): its npm packages are pinned by
# console/package-lock.json and installed with `npm ci`; the built files in
# console/dist/ are committed, so `cargo build` embeds them without Node.
#
#   scripts/console.sh build   rebuild console/dist/ from console/src/
#   scripts/console.sh check   type-check the sources and fail when
#                              console/dist/ differs from a fresh build
#
# Needs node >= 18 and npm (`just setup` installs Debian's nodejs and npm).
set -euo pipefail
cd "$(dirname "$0")/../console"

fail() {
    echo "console: $*" >&2
    exit 1
}

command -v node >/dev/null || fail "node is not installed (run 'just setup')"
command -v npm >/dev/null || fail "npm is not installed (run 'just setup')"

# `npm ci` again only when the lock file changed since the last install.
stamp=node_modules/.authpipe-lock.sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    echo "console: npm ci (packages pinned by console/package-lock.json)"
    npm ci --no-audit --no-fund --loglevel=error >/dev/null
    echo "$want" >"$stamp"
fi

case "${1:-}" in
build)
    node build.mjs
    ;;
check)
    npx --no-install tsc --noEmit -p tsconfig.json || fail "type errors in console/src"
    node build.mjs --check
    echo "console: ok (sources type-check; console/dist matches them)"
    ;;
*)
    fail "usage: scripts/console.sh build|check"
    ;;
esac
