#!/usr/bin/env bash
# `just run`: serves store mode on 127.0.0.1:8080 from target/demo/authpipe.db,
# with the starter project deployed into tenant "demo" (idempotently, through
# `authpipe deploy`), and prints the tokens and curl lines to try it.
set -euo pipefail
cd "$(dirname "$0")/.."
authpipe=./target/release/authpipe
project=examples/starter-project
listen="${AUTHPIPE_LISTEN:-127.0.0.1:8080}"
url="http://$listen"
data=target/demo
mkdir -p "$data"

export AUTHPIPE_ADMIN_TOKEN="${AUTHPIPE_ADMIN_TOKEN:-$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')}"
"$authpipe" serve --store "$data/authpipe.db" --listen "$listen" &
server=$!
trap 'kill $server 2>/dev/null || true' INT TERM
for _ in $(seq 1 100); do
    curl -sf "$url/healthz" >/dev/null 2>&1 && break
    kill -0 $server 2>/dev/null || { echo "authpipe serve did not start" >&2; exit 1; }
    sleep 0.1
done

admin=(-H "authorization: Bearer $AUTHPIPE_ADMIN_TOKEN" -H 'content-type: application/json')
status=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$url/v1/tenants" "${admin[@]}" -d '{"id":"demo","name":"Demo tenant"}')
case "$status" in
    201|409) ;;
    *) echo "creating the demo tenant failed: HTTP $status" >&2; exit 1 ;;
esac
AUTHPIPE_TOKEN="$AUTHPIPE_ADMIN_TOKEN" "$authpipe" deploy --url "$url" --tenant demo --config "$project/authpipe.toml"

# A manage key for the demo tenant, kept beside the database and reused while valid.
key_file="$data/demo-manage.key"
key=""
if [ -s "$key_file" ]; then
    key=$(cat "$key_file")
    [ "$(curl -s -o /dev/null -w '%{http_code}' "$url/v1/tenants/demo/functions" -H "authorization: Bearer $key")" = 200 ] || key=""
fi
if [ -z "$key" ]; then
    key=$(curl -sf -X POST "$url/v1/tenants/demo/keys" "${admin[@]}" -d '{"role":"manage","name":"just run"}' \
        | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
    (umask 077; echo "$key" > "$key_file")
fi

cat <<EOT

authpipe store mode on $url (database $data/authpipe.db)
  web console:           $url/console/   (sign in with the tenant key or the admin token)
  admin token:           $AUTHPIPE_ADMIN_TOKEN
  demo tenant key:       $key   (role manage)

Try, in another terminal:
  curl -s -X POST $url/v1/tenants/demo/pipelines/pre-register -H 'authorization: Bearer $key' -H 'content-type: application/json' -d @$project/requests/pre-register.json
  curl -s -X POST $url/v1/tenants/demo/pipelines/pre-register -H 'authorization: Bearer $key' -H 'content-type: application/json' -d @$project/requests/pre-register-denied.json
  curl -s $url/v1/tenants/demo/functions -H 'authorization: Bearer $key'
  curl -s '$url/v1/tenants/demo/executions?limit=5' -H 'authorization: Bearer $key'
  AUTHPIPE_TOKEN=$key $authpipe logs --url $url --tenant demo --follow

File mode (one authpipe.toml, no tenants) is still: $authpipe serve --config $project/authpipe.toml
EOT
wait $server
