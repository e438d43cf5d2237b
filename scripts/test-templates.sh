#!/usr/bin/env bash
# Writes a project from every bundled template and runs its fixtures.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$PWD/target/release/authpipe
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
status=0
for dir in templates/*/; do
  id=$(basename "$dir")
  "$bin" new "$id" "$work/$id" > /dev/null
  echo "== $id"
  "$bin" test --config "$work/$id/authpipe.toml" | grep -v '^note:' || status=1
done
exit $status
