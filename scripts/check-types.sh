#!/usr/bin/env bash
# Type-checks types/authpipe.d.ts against the code that uses it:
#
#   1. every bundled template's function file (templates/*/*.js|ts) and the
#      examples' function files (examples/**/*.js|ts), as plain JavaScript
#      (allowJs + checkJs, lib es2022, strict off), with `pipe` annotated as
#      AuthpipePipe so that `user`, `context` and `callback` are typed too;
#   2. types/test/usage.ts, a TypeScript function, with strict on;
#   3. types/test/wrong.ts, which must FAIL: with an error on every line
#      marked `// expect-error` and on no other line (so the checks above
#      cannot pass merely because nothing is declared or checked).
#
# Needs node >= 18 and npm (`just setup` installs Debian's nodejs and npm).
# Installs the pinned `typescript` into target/node-tools (once). Exit
# status 0 only when all three hold.
set -euo pipefail

TS_VERSION=7.0.2
cd "$(dirname "$0")/.."
ROOT=$PWD
TOOLS=target/node-tools
TSC=$TOOLS/node_modules/.bin/tsc
WORK=target/type-check
START_NS=$(date +%s%N)

fail() {
    echo "check-types: $*" >&2
    exit 1
}

command -v node >/dev/null || fail "node is not installed (needs node >= 18; run 'just setup')"
command -v npm >/dev/null || fail "npm is not installed (run 'just setup')"
NODE_MAJOR=$(node -p 'process.versions.node.split(".")[0]')
[ "$NODE_MAJOR" -ge 18 ] || fail "node $(node --version) is too old: needs node >= 18"

installed=$(node -p "try { require('./$TOOLS/node_modules/typescript/package.json').version } catch (_) { '' }")
if [ "$installed" != "$TS_VERSION" ] || [ ! -x "$TSC" ]; then
    echo "installing typescript@$TS_VERSION into $TOOLS"
    mkdir -p "$TOOLS"
    npm install --prefix "$TOOLS" --no-save --no-audit --no-fund --loglevel=error "typescript@$TS_VERSION" >/dev/null
fi
echo "typescript: $("$TSC" --version)"

# ------------------------------------------- 1. templates and examples

rm -rf "$WORK"
mkdir -p "$WORK"
# Auth0-flavoured templates (flavor = "auth0-…" in template.toml) are Auth0
# Rules and Actions, not `pipe` functions: authpipe.d.ts does not describe them.
mapfile -t sources < <(
    { find templates -mindepth 2 -maxdepth 2 -type f \( -name '*.js' -o -name '*.ts' \) ! -name '*.d.ts' |
        while read -r file; do grep -q '^flavor = "auth0-' "$(dirname "$file")/template.toml" || echo "$file"; done;
      find examples -type f \( -name '*.js' -o -name '*.ts' \) ! -name '*.d.ts' ! -path '*/node_modules/*'; } | LC_ALL=C sort
)
[ "${#sources[@]}" -gt 0 ] || fail "no function files found under templates/ and examples/"

for src in "${sources[@]}"; do
    copy="$WORK/$src"
    mkdir -p "$(dirname "$copy")"
    case "$src" in
    *.js)
        count=$(grep -cE '^(async[[:space:]]+)?function[[:space:]]+pipe[[:space:]]*\(' "$src" || true)
        [ "$count" = 1 ] || fail "$src: expected one top-level 'function pipe(' (found $count)"
        # Same line, so line numbers in errors are the original's.
        sed -E 's#^((async[[:space:]]+)?function[[:space:]]+pipe[[:space:]]*\()#/** @type {AuthpipePipe} */ \1#' "$src" >"$copy"
        ;;
    *.ts)
        cp "$src" "$copy"
        ;;
    esac
    cp types/utils.d.ts "$(dirname "$copy")/utils.d.ts"
done

# Every prepared file must really be in the program.
listed=$("$TSC" -p types/tsconfig.templates.json --listFilesOnly)
for src in "${sources[@]}"; do
    grep -qxF "$ROOT/$WORK/$src" <<<"$listed" || fail "$src is not part of types/tsconfig.templates.json's program"
done

echo "checking ${#sources[@]} function files (strict off, pipe typed as AuthpipePipe):"
printf '  %s\n' "${sources[@]}"
if ! out=$("$TSC" -p types/tsconfig.templates.json --pretty false 2>&1); then
    # Report the errors against the original files.
    sed "s#^$WORK/##" <<<"$out" >&2
    fail "type errors in templates or examples (columns on a 'function pipe' line are shifted by the added annotation)"
fi

# ------------------------------------------------------------ 2. usage.ts

echo "checking types/test/usage.ts (strict)"
"$TSC" -p types/test/tsconfig.json --pretty false || fail "types/test/usage.ts does not type-check"

# ------------------------------------------------------------ 3. wrong.ts

echo "checking that types/test/wrong.ts fails where marked"
if out=$("$TSC" -p types/test/tsconfig.wrong.json --pretty false 2>&1); then
    fail "types/test/wrong.ts type-checked without errors: the typings accept what they must reject"
fi
expected=$(grep -n '// expect-error' types/test/wrong.ts | cut -d: -f1 | sort -n | uniq)
actual=$(grep -oE '^types/test/wrong\.ts\(([0-9]+),' <<<"$out" | grep -oE '[0-9]+' | sort -n | uniq)
[ -n "$expected" ] || fail "types/test/wrong.ts has no '// expect-error' lines"
missing=$(comm -23 <(echo "$expected") <(echo "$actual") | tr '\n' ' ')
extra=$(comm -13 <(echo "$expected") <(echo "$actual") | tr '\n' ' ')
if [ -n "$missing" ] || [ -n "$extra" ]; then
    echo "$out" >&2
    [ -z "$missing" ] || echo "no error on marked lines: $missing" >&2
    [ -z "$extra" ] || echo "errors on unmarked lines: $extra" >&2
    fail "types/test/wrong.ts did not fail as expected"
fi
echo "  $(wc -w <<<"$expected") expected errors, all reported"

echo "check-types: ok ($(( ($(date +%s%N) - START_NS) / 1000000 )) ms)"
