# Shared by scripts/bench-http.sh and scripts/soak.sh (sourced, not run).
# Expects $bin (the authpipe binary) and $work (a scratch directory).

# Starts the server on $1 (project dir, or store:DB) with cache dir $2; sets $pid, $base, $ready_ms.
start_server() {
  case "$1" in
    store:*) source_args=(--store "${1#store:}") ;;
    *) source_args=(--config "$1/authpipe.toml") ;;
  esac
  AUTHPIPE_CACHE_DIR=$2 AUTHPIPE_LOG=${AUTHPIPE_LOG:-info} \
    $bin serve "${source_args[@]}" --listen 127.0.0.1:0 2>"$work/server.log" &
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

# Writes a wrk script POSTing the JSON file $1 with bearer token $2 to $3.
write_post_lua() {
  local body
  body=$(tr -d '\n' < "$1" | sed 's/"/\\"/g')
  cat > "$3" <<LUA
wrk.method = "POST"
wrk.body = "$body"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $2"
LUA
}
