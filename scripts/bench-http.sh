#!/usr/bin/env bash
# HTTP load figures for `authpipe serve` on loopback:
#  1. wrk against the starter project's three-stage pre-register pipeline
#     (requests/s, p50/p99 latency) and the ratio to 3 x one-stage p50;
#  2. server start time with 20 functions, cold and with a warm disk cache;
#  3. the server's peak RSS after the load.
# Usage: scripts/bench-http.sh [SECONDS=20] [CONNECTIONS=32]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-20}
connections=${2:-32}
bin=${AUTHPIPE_BIN:-./target/release/authpipe}
project=examples/starter-project
input=$project/requests/pre-register.json

if ! command -v wrk >/dev/null; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    apt-get install -y -qq wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
  else
    echo "error: wrk is not installed; run: apt-get install wrk" >&2
    exit 1
  fi
fi

# The starter project requires a bearer token (api_token_env fails closed).
export AUTHPIPE_TOKEN=${AUTHPIPE_TOKEN:-bench-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')}

work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

# Starts the server on $1 (project dir) with cache dir $2; sets $pid, $base, $ready_ms.
start_server() {
  AUTHPIPE_CACHE_DIR=$2 AUTHPIPE_LOG=${AUTHPIPE_LOG:-info} \
    $bin serve --config "$1/authpipe.toml" --listen 127.0.0.1:0 2>"$work/server.log" &
  pid=$!
  for _ in $(seq 1 600); do
    line=$(grep -m1 '^authpipe: listening on ' "$work/server.log" || true)
    [ -n "$line" ] && break
    sleep 0.1
  done
  [ -n "$line" ] || { cat "$work/server.log" >&2; exit 1; }
  base=$(echo "$line" | awk '{print $4}')
  ready_ms=$(echo "$line" | sed -E 's/.*ready in ([0-9]+) ms.*/\1/')
}

stop_server() {
  kill -TERM "$pid"
  wait "$pid" 2>/dev/null || true
}

echo "== startup with 20 functions"
mkdir -p "$work/twenty/functions"
{
  for i in $(seq 1 20); do
    printf '[[function]]\nname = "f%02d"\nsource = "functions/f%02d.js"\ntriggers = ["pre-register"]\norder = %d\n\n' "$i" "$i" "$i"
    sed "s/Access denied./Access denied by f$i./" templates/email-domain-allowlist/function.js > "$work/twenty/functions/f$(printf %02d "$i").js"
  done
  printf '[env]\nALLOWED_DOMAINS = "example.com"\n'
} > "$work/twenty/authpipe.toml"
start_server "$work/twenty" "$work/cache-twenty"; stop_server
cold_ms=$ready_ms
start_server "$work/twenty" "$work/cache-twenty"; stop_server
warm_ms=$ready_ms
echo "cold start (empty cache): ${cold_ms} ms; warm start (disk cache): ${warm_ms} ms"

echo "== one stage (authpipe bench, for the ratio)"
stage_p50=$($bin bench $project/functions/email-domain-allowlist.js --input "$input" \
  --env ALLOWED_DOMAIN=example.com -n 20000 --json | sed -E 's/.*"p50_us":([0-9.]+).*/\1/')
echo "one-stage p50: ${stage_p50} us"

echo "== wrk: ${seconds}s, ${connections} connections, 3-stage pre-register pipeline"
start_server "$project" "$work/cache-load"
body=$(tr -d '\n' < "$input" | sed 's/"/\\"/g')
cat > "$work/post.lua" <<LUA
wrk.method = "POST"
wrk.body = "$body"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $AUTHPIPE_TOKEN"
LUA
curl -sf -X POST "$base/v1/pipelines/pre-register" -H "Authorization: Bearer $AUTHPIPE_TOKEN" -d @"$input" | grep -q '"outcome":"allow"' \
  || { echo "the pipeline does not allow the sample input" >&2; exit 1; }
wrk -t2 -c"$connections" -d"${seconds}s" --latency -s "$work/post.lua" "$base/v1/pipelines/pre-register" | tee "$work/wrk.txt"
rss_kb=$(awk '/VmHWM/ {print $2}' /proc/"$pid"/status)
errors=$(curl -s "$base/metrics" | grep -E '^authpipe_http_responses_total' || true)
stop_server

rps=$(awk '/Requests\/sec/ {print $2}' "$work/wrk.txt")
p50=$(awk '$1 == "50%" {print $2}' "$work/wrk.txt")
p99=$(awk '$1 == "99%" {print $2}' "$work/wrk.txt")
echo
echo "== summary"
echo "requests/s:        $rps"
echo "latency p50 / p99: $p50 / $p99"
echo "3 x one-stage p50: $(awk "BEGIN {print 3 * $stage_p50}") us"
echo "server peak RSS:   ${rss_kb} KiB"
echo "startup (20 fns):  cold ${cold_ms} ms, warm ${warm_ms} ms"
echo "responses:"
echo "$errors"
