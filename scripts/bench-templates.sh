#!/usr/bin/env bash
# Per-call figures (authpipe bench) for three templates: the email allow-list,
# custom ID-token claims, and the Slack notification posting to a local
# webhook receiver on 127.0.0.1 (a real HTTP round trip per call).
# Usage: scripts/bench-templates.sh [CALLS]
set -euo pipefail
cd "$(dirname "$0")/.."
calls=${1:-10000}
bin=./target/release/authpipe
t=templates

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 scripts/webhook-sink.py "$port" &
sink=$!
trap 'kill $sink 2>/dev/null || true' EXIT
for _ in $(seq 50); do
  (echo > "/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
  sleep 0.1
done

echo "== email-domain-allowlist"
$bin bench $t/email-domain-allowlist/function.js --input $t/email-domain-allowlist/fixtures/allowed.json \
  --env ALLOWED_DOMAINS="example.com, example.org" -n "$calls"
echo "== custom-id-token-claims"
$bin bench $t/custom-id-token-claims/function.js --input $t/custom-id-token-claims/fixtures/gold-user.json \
  --env CLAIM_NAMESPACE=https://example.com/claims/ --env GOLD_DOMAINS=example.com -n "$calls"
echo "== slack-notify-on-register (POST to a local webhook receiver on 127.0.0.1:$port)"
$bin bench $t/slack-notify-on-register/function.js --input $t/slack-notify-on-register/fixtures/notified.json \
  --env SLACK_WEBHOOK="http://127.0.0.1:$port/services/T000/B000/XXXX" \
  --allow-fetch "http://127.0.0.1:$port/services/*" -n "$calls"
