#!/usr/bin/env bash
# HTTP load figures for `authpipe serve` on loopback:
#  1. wrk against the starter project's three-stage pre-register pipeline
#     (requests/s, p50/p99 latency) and the ratio to 3 x one-stage p50;
#  2. the same pipeline in store mode (tenant "bench", execution history on),
#     same wrk settings, and its ratio to file mode; execution records
#     written per second and dropped;
#  3. store mode: create-function latency (new source; same source in a
#     second tenant) and start-up with 100 tenants x 10 functions, warm;
#  4. server start time with 20 functions, cold and with a warm disk cache;
#  5. the server's peak RSS after the load;
#  6. the raw HTTP floor: authpipe-http-floor (bare hyper + serde_json,
#     answering the pipeline's own result JSON) under the same wrk load,
#     right after the pipeline, and the pipeline's share of it.
# Usage: scripts/bench-http.sh [SECONDS=20] [CONNECTIONS=32]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-20}
connections=${2:-32}
bin=${AUTHPIPE_BIN:-./target/release/authpipe}
floor_bin=${AUTHPIPE_FLOOR_BIN:-$(dirname "$bin")/authpipe-http-floor}
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

# start_server, stop_server and write_post_lua.
source scripts/serve-lib.sh

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
write_post_lua "$input" "$AUTHPIPE_TOKEN" "$work/post.lua"
curl -sf -X POST "$base/v1/pipelines/pre-register" -H "Authorization: Bearer $AUTHPIPE_TOKEN" -d @"$input" > "$work/answer.json"
grep -q '"outcome":"allow"' "$work/answer.json" || { echo "the pipeline does not allow the sample input" >&2; exit 1; }
wrk -t2 -c"$connections" -d"${seconds}s" --latency -s "$work/post.lua" "$base/v1/pipelines/pre-register" | tee "$work/wrk.txt"
rss_kb=$(awk '/VmHWM/ {print $2}' /proc/"$pid"/status)
errors=$(curl -s "$base/metrics" | grep -E '^authpipe_http_responses_total' || true)
stop_server

echo "== wrk: ${seconds}s, ${connections} connections, the raw HTTP floor (bare hyper + serde_json, same body and answer)"
"$floor_bin" --answer "$work/answer.json" > "$work/floor.log" 2>&1 &
floor_pid=$!
for _ in $(seq 1 100); do grep -q '^listening on ' "$work/floor.log" && break; sleep 0.05; done
floor_base="http://$(awk '/^listening on / {print $3}' "$work/floor.log")"
wrk -t2 -c"$connections" -d"${seconds}s" --latency -s "$work/post.lua" "$floor_base/" | tee "$work/wrk-floor.txt"
kill "$floor_pid"; wait "$floor_pid" 2>/dev/null || true
floor_rps=$(awk '/Requests\/sec/ {print $2}' "$work/wrk-floor.txt")
floor_p99=$(awk '$1 == "99%" {print $2}' "$work/wrk-floor.txt")

rps=$(awk '/Requests\/sec/ {print $2}' "$work/wrk.txt")
p50=$(awk '$1 == "50%" {print $2}' "$work/wrk.txt")
p99=$(awk '$1 == "99%" {print $2}' "$work/wrk.txt")

echo "== wrk: ${seconds}s, ${connections} connections, the same pipeline in store mode (execution history on)"
export AUTHPIPE_ADMIN_TOKEN=bench-admin-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
admin=(-H "Authorization: Bearer $AUTHPIPE_ADMIN_TOKEN" -H "Content-Type: application/json")
start_server "store:$work/store.db" "$work/cache-load"
curl -sf -X POST "$base/v1/tenants" "${admin[@]}" -d '{"id":"bench","quotas":{"max_concurrent":1024}}' >/dev/null
AUTHPIPE_TOKEN=$AUTHPIPE_ADMIN_TOKEN $bin deploy --url "$base" --tenant bench --config "$project/authpipe.toml" >/dev/null
key=$(curl -sf -X POST "$base/v1/tenants/bench/keys" "${admin[@]}" -d '{"role":"invoke","name":"bench"}' \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
sed "s/Bearer $AUTHPIPE_TOKEN/Bearer $key/" "$work/post.lua" > "$work/post-store.lua"
curl -sf -X POST "$base/v1/tenants/bench/pipelines/pre-register" -H "Authorization: Bearer $key" -d @"$input" | grep -q '"outcome":"allow"' \
  || { echo "the store-mode pipeline does not allow the sample input" >&2; exit 1; }
wrk -t2 -c"$connections" -d"${seconds}s" --latency -s "$work/post-store.lua" "$base/v1/tenants/bench/pipelines/pre-register" | tee "$work/wrk-store.txt"
sleep 2
recorded=$(curl -s "$base/metrics" | awk '/^authpipe_executions_recorded_total/ {print $2}')
dropped=$(curl -s "$base/metrics" | awk '/^authpipe_executions_dropped_total/ {print $2}')
store_rss_kb=$(awk '/VmHWM/ {print $2}' /proc/"$pid"/status)

echo "== store mode: create-function latency, then 100 tenants x 10 functions"
platform=$(python3 scripts/bench-platform.py "$base" "$AUTHPIPE_ADMIN_TOKEN" 100 10)
echo "$platform"
stop_server
start_server "store:$work/store.db" "$work/cache-load"; stop_server
store_warm_ms=$ready_ms
store_rps=$(awk '/Requests\/sec/ {print $2}' "$work/wrk-store.txt")
store_p50=$(awk '$1 == "50%" {print $2}' "$work/wrk-store.txt")
store_p99=$(awk '$1 == "99%" {print $2}' "$work/wrk-store.txt")
echo
echo "== summary"
echo "requests/s:        $rps"
echo "HTTP floor:        $floor_rps req/s (p99 $floor_p99); the pipeline reaches $(awk "BEGIN {printf \"%.1f\", 100 * $rps / $floor_rps}")% of it (target 25%)"
echo "latency p50 / p99: $p50 / $p99"
echo "3 x one-stage p50: $(awk "BEGIN {print 3 * $stage_p50}") us"
echo "store mode:        $store_rps req/s, p50 / p99 $store_p50 / $store_p99 ($(awk "BEGIN {printf \"%.0f\", 100 * $store_rps / $rps}")% of file mode)"
echo "execution records: $recorded written ($(awk "BEGIN {printf \"%.0f\", $recorded / $seconds}")/s over the run), $dropped dropped"
echo "store peak RSS:    ${store_rss_kb} KiB"
create_new=$(echo "$platform" | python3 -c 'import json,sys; print(json.load(sys.stdin)["create_new_source_p50_ms"])')
create_same=$(echo "$platform" | python3 -c 'import json,sys; print(json.load(sys.stdin)["create_same_source_p50_ms"])')
echo "create function:   p50 ${create_new} ms (new source), ${create_same} ms (same source, second tenant)"
first_p50=$(echo "$platform" | python3 -c 'import json,sys; print(json.load(sys.stdin)["first_request_after_deploy_p50_ms"])')
first_max=$(echo "$platform" | python3 -c 'import json,sys; print(json.load(sys.stdin)["first_request_after_deploy_max_ms"])')
echo "first request:     p50 ${first_p50} ms, max ${first_max} ms after deploying a new function (target 30 ms)"
echo "store start-up:    ${store_warm_ms} ms with 100 tenants x 10 functions (+60 latency functions), warm"
echo "server peak RSS:   ${rss_kb} KiB"
echo "startup (20 fns):  cold ${cold_ms} ms, warm ${warm_ms} ms"
echo "responses:"
echo "$errors"
