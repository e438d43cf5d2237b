#!/usr/bin/env bash
# The npm packages the engine bundles for Auth0 Rules and Actions (lodash,
# moment, moment-timezone, ipaddr.js): pinned by guest/npm/package-lock.json, installed
# from the npm registry with `npm ci`, and the files the engine embeds are
# copied into guest/npm/bundled/ (committed, with each package's licence,
# so `cargo build` needs no Node).
#
#   scripts/bundled-modules.sh sync    copy the files from a fresh `npm ci`
#   scripts/bundled-modules.sh check   fail when guest/npm/bundled/ differs
#                                      from what the pinned packages hold
#
# Needs node and npm (`just setup` installs Debian's nodejs and npm).
set -euo pipefail
cd "$(dirname "$0")/../guest/npm"

fail() {
    echo "bundled-modules: $*" >&2
    exit 1
}

command -v npm >/dev/null || fail "npm is not installed (run 'just setup')"

# package file -> bundled file
files=(
    "lodash/lodash.min.js lodash.min.js"
    "lodash/LICENSE lodash.LICENSE"
    "moment/min/moment.min.js moment.min.js"
    "moment/LICENSE moment.LICENSE"
    "moment-timezone/builds/moment-timezone-with-data-1970-2030.min.js moment-timezone.min.js"
    "moment-timezone/LICENSE moment-timezone.LICENSE"
    "ipaddr.js/ipaddr.min.js ipaddr.min.js"
    "ipaddr.js/LICENSE ipaddr.js.LICENSE"
)

stamp=node_modules/.authpipe-lock.sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    echo "bundled-modules: npm ci (packages pinned by guest/npm/package-lock.json)"
    npm ci --no-audit --no-fund --loglevel=error >/dev/null
    echo "$want" >"$stamp"
fi

case "${1:-}" in
sync)
    mkdir -p bundled
    for pair in "${files[@]}"; do
        set -- $pair
        cp "node_modules/$1" "bundled/$2"
    done
    echo "bundled-modules: guest/npm/bundled updated"
    ;;
check)
    for pair in "${files[@]}"; do
        set -- $pair
        cmp -s "node_modules/$1" "bundled/$2" ||
            fail "guest/npm/bundled/$2 differs from the pinned package's $1 (run scripts/bundled-modules.sh sync)"
    done
    echo "bundled-modules: ok (guest/npm/bundled matches the pinned packages)"
    ;;
*)
    fail "usage: scripts/bundled-modules.sh sync|check"
    ;;
esac
