#!/usr/bin/env bash
# `just soak`: the starter project's 3-stage pre-register pipeline under
# full load (wrk) for a bounded time, the server's RSS sampled every
# INTERVAL seconds; then the sandboxes' density figures and a verdict on
# whether RSS stayed flat (the last quarter's peak within 10% of the
# second quarter's, after warm-up).
# Usage: scripts/soak.sh [MINUTES=10] [CONNECTIONS=64] [INTERVAL=10]
set -euo pipefail
cd "$(dirname "$0")/.."
minutes=${1:-10}
connections=${2:-64}
interval=${3:-10}
bin=${AUTHPIPE_BIN:-./target/release/authpipe}
project=examples/starter-project
input=$project/requests/pre-register.json
command -v wrk >/dev/null || { echo "error: wrk is not installed (just setup installs it)" >&2; exit 1; }

export AUTHPIPE_TOKEN=soak-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

# start_server, stop_server and write_post_lua.
source scripts/serve-lib.sh
AUTHPIPE_LOG=warn start_server "$project" "$work/cache"
rss() { awk '/VmRSS/ {print $2}' /proc/"$pid"/status; }
idle_rss=$(rss)

write_post_lua "$input" "$AUTHPIPE_TOKEN" "$work/post.lua"
seconds=$((minutes * 60))
echo "== soak: ${minutes} min, ${connections} connections, 3-stage pre-register pipeline; RSS every ${interval} s"
echo "idle RSS: ${idle_rss} KiB"
wrk -t2 -c"$connections" -d"${seconds}s" --latency -s "$work/post.lua" "$base/v1/pipelines/pre-register" > "$work/wrk.txt" &
wrk_pid=$!
samples=()
peak_in_flight=0
elapsed=0
while kill -0 "$wrk_pid" 2>/dev/null && [ "$elapsed" -lt "$seconds" ]; do
  sleep "$interval"
  elapsed=$((elapsed + interval))
  now=$(rss)
  in_flight=$(curl -s "$base/metrics" -H "Authorization: Bearer $AUTHPIPE_TOKEN" | awk '/^authpipe_invocations_in_flight/ {print $2}')
  in_flight=${in_flight:-0}
  [ "${in_flight%.*}" -gt "$peak_in_flight" ] && peak_in_flight=${in_flight%.*}
  samples+=("$now")
  printf '%5d s  RSS %8d KiB  in flight %s\n' "$elapsed" "$now" "$in_flight"
done
wait "$wrk_pid" || true
cat "$work/wrk.txt"
stop_server

n=${#samples[@]}
[ "$n" -ge 4 ] || { echo "too few samples for a verdict ($n); soak longer" >&2; exit 1; }
q=$((n / 4))
max_of() { printf '%s\n' "$@" | sort -n | tail -1; }
second_quarter=$(max_of "${samples[@]:q:q}")
last_quarter=$(max_of "${samples[@]:n-q:q}")
growth=$(awk "BEGIN {printf \"%.1f\", 100 * ($last_quarter - $second_quarter) / $second_quarter}")
peak=$(max_of "${samples[@]}")
rps=$(awk '/Requests\/sec/ {print $2}' "$work/wrk.txt")
echo
echo "== summary"
echo "requests/s:          $rps over ${minutes} min"
echo "RSS:                 idle ${idle_rss} KiB, peak ${peak} KiB; peak of 2nd quarter ${second_quarter} KiB, of last quarter ${last_quarter} KiB (${growth}%)"
echo "sandboxes in flight: up to ${peak_in_flight} at a sample; memory per sandbox in flight ~$(( (peak - idle_rss) / (peak_in_flight > 0 ? peak_in_flight : 1) )) KiB of RSS"
if awk "BEGIN {exit !($growth <= 10)}"; then
  echo "verdict:             RSS flat (within 10%)"
else
  echo "verdict:             RSS grew ${growth}% between the 2nd and the last quarter" >&2
  exit 1
fi
