#!/usr/bin/env bash
# `just cluster` / `just cluster-down`: a local authpipe cluster on this machine.
#
#   scripts/cluster.sh up      Postgres (scripts/postgres.sh), three store-mode
#                              nodes and nginx in front; prints the URL, the
#                              admin token and curl lines
#   scripts/cluster.sh down    stops exactly what `up` started (idempotent)
#   scripts/cluster.sh status  what is running
#   scripts/cluster.sh nginx-conf  only writes DIR/nginx/nginx.conf (for checks)
#
# Everything lives in one directory (target/cluster by default): pg/ (a
# throwaway Postgres made by scripts/postgres.sh; `down` removes it with its
# data), store.url, node-N.log and node-N.pid, nginx/ (config, logs, pid,
# temp files), admin.token and master.key (0600, generated once and reused:
# the same admin token across runs, and the key matches any store given with
# AUTHPIPE_CLUSTER_STORE that outlives the cluster).
#
# Environment (all optional):
#   AUTHPIPE_CLUSTER_DIR      the directory (default target/cluster)
#   AUTHPIPE_BIN              the authpipe binary (default target/release/authpipe)
#   AUTHPIPE_CLUSTER_NODES    how many nodes (default 3)
#   AUTHPIPE_CLUSTER_LB_PORT  nginx's port on 127.0.0.1 (default 8090)
#   AUTHPIPE_CLUSTER_NODE_PORT  node-1's port; node-N listens on this + N - 1 (default 8091)
#   AUTHPIPE_CLUSTER_PG_PORT  Postgres's port (default 54329)
#   AUTHPIPE_CLUSTER_STORE    use this store (e.g. an existing postgres:// URL)
#                             instead of starting Postgres
#   AUTHPIPE_CLUSTER_WAIT     seconds to wait for each node to be ready (default 60)
#   AUTHPIPE_CLUSTER_CACHE    `shared` (default: the nodes share this machine's
#                             compiled-code cache) or `per-node` (each its own
#                             under DIR/cache, as on separate machines)
#   AUTHPIPE_POSTGRES_SH      the Postgres helper (default scripts/postgres.sh)
#   NGINX                     the nginx binary (default /usr/sbin/nginx)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
abs() { case "$1" in /*) printf '%s\n' "$1" ;; *) printf '%s\n' "$PWD/$1" ;; esac; }

dir=$(abs "${AUTHPIPE_CLUSTER_DIR:-$root/target/cluster}")
bin=$(abs "${AUTHPIPE_BIN:-$root/target/release/authpipe}")
nodes=${AUTHPIPE_CLUSTER_NODES:-3}
lb_port=${AUTHPIPE_CLUSTER_LB_PORT:-8090}
node_port=${AUTHPIPE_CLUSTER_NODE_PORT:-8091}
pg_port=${AUTHPIPE_CLUSTER_PG_PORT:-54329}
wait_s=${AUTHPIPE_CLUSTER_WAIT:-60}
postgres_sh=$(abs "${AUTHPIPE_POSTGRES_SH:-$root/scripts/postgres.sh}")
nginx=${NGINX:-/usr/sbin/nginx}
template=$root/deploy/nginx.local.conf.template
ngdir=$dir/nginx

say() { printf 'cluster: %s\n' "$*"; }
die() { printf 'cluster: error: %s\n' "$*" >&2; exit 1; }

# A pid from FILE if that process is alive and is what we started there
# (its command line holds MARK), else nothing.
live_pid() {
    local file=$1 mark=$2 pid
    [ -s "$file" ] || return 0
    pid=$(tr -dc '0-9' <"$file")
    [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 0
    if tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$mark"; then echo "$pid"; fi
}

# Waits up to $2 seconds for pid $1 to exit; 1 if it is still there.
wait_gone() {
    local pid=$1 tenths=$(($2 * 10))
    while [ "$tenths" -gt 0 ]; do
        kill -0 "$pid" 2>/dev/null || return 0
        # A zombie child of this shell counts as gone.
        [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" = Z ] && return 0
        sleep 0.1
        tenths=$((tenths - 1))
    done
    return 1
}

# How to stop this cluster, as the user would type it.
down_cmd() {
    if [ -n "${AUTHPIPE_CLUSTER_DIR:-}" ]; then echo "AUTHPIPE_CLUSTER_DIR=$dir $0 down"; else echo "$0 down"; fi
}

node_port_of() { echo $((node_port + $1 - 1)); }

stop_nginx() {
    local pid
    pid=$(live_pid "$ngdir/nginx.pid" nginx)
    if [ -z "$pid" ]; then
        rm -f "$ngdir/nginx.pid"
        return 0
    fi
    "$nginx" -p "$ngdir" -c "$ngdir/nginx.conf" -e "$ngdir/error.log" -s quit 2>/dev/null || kill -QUIT "$pid" 2>/dev/null || true
    if ! wait_gone "$pid" 10; then
        kill -TERM "$pid" 2>/dev/null || true
        wait_gone "$pid" 5 || kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$ngdir/nginx.pid"
    say "stopped nginx (pid $pid)"
}

stop_nodes() {
    local file name pid pids=() names=()
    shopt -s nullglob
    for file in "$dir"/node-*.pid; do
        name=$(basename "$file" .pid)
        pid=$(live_pid "$file" serve)
        if [ -n "$pid" ]; then
            kill -TERM "$pid" 2>/dev/null || true
            pids+=("$pid")
            names+=("$name")
        else
            rm -f "$file"
            say "$name was not running (removed its pid file)"
        fi
    done
    shopt -u nullglob
    # SIGTERM drains: up to shutdown_grace_ms (30 s) + async_grace_ms (5 s).
    local i
    for i in "${!pids[@]}"; do
        if ! wait_gone "${pids[$i]}" 40; then
            kill -KILL "${pids[$i]}" 2>/dev/null || true
            wait_gone "${pids[$i]}" 5 || true
            say "killed ${names[$i]} (pid ${pids[$i]}): it did not drain within 40 s"
        else
            say "stopped ${names[$i]} (pid ${pids[$i]})"
        fi
        rm -f "$dir/${names[$i]}.pid"
    done
}

stop_postgres() {
    [ -d "$dir/pg" ] || return 0
    local pidfile pid=""
    pidfile=$(find "$dir/pg" -maxdepth 3 -name postmaster.pid 2>/dev/null | head -n 1)
    if [ -n "$pidfile" ]; then
        pid=$(head -n 1 "$pidfile" | tr -dc '0-9')
        if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then pid=""; fi
    fi
    # postgres.sh stop stops the server and removes DIR (the database is a
    # throwaway one, made anew by every `up`).
    if [ -f "$postgres_sh" ]; then
        bash "$postgres_sh" stop "$dir/pg" >/dev/null || true
    elif [ -n "$pid" ] && command -v pg_ctl >/dev/null; then
        local data owner
        data=$(dirname "$pidfile")
        owner=$(stat -c %U "$data")
        if [ "$(id -u)" -eq 0 ] && [ "$owner" != root ]; then
            runuser -u "$owner" -- pg_ctl -D "$data" stop -m fast -w >/dev/null 2>&1 || true
        else
            pg_ctl -D "$data" stop -m fast -w >/dev/null 2>&1 || true
        fi
    fi
    if [ -n "$pid" ]; then
        wait_gone "$pid" 30 || die "Postgres (pid $pid) is still running; stop it with: $postgres_sh stop $dir/pg"
        say "stopped Postgres (pid $pid) and removed $dir/pg"
    elif [ ! -d "$dir/pg" ]; then
        say "removed the stopped Postgres directory $dir/pg"
    fi
}

down() {
    [ -d "$dir" ] || { say "nothing to stop ($dir does not exist)"; return 0; }
    local before
    before=$(status_quiet)
    stop_nginx
    stop_nodes
    stop_postgres
    [ -n "$before" ] || say "nothing was running in $dir"
}

# One line per live process of this cluster (empty when none).
status_quiet() {
    local file pid pidfile
    pid=$(live_pid "$ngdir/nginx.pid" nginx)
    [ -z "$pid" ] || echo "nginx pid $pid"
    shopt -s nullglob
    for file in "$dir"/node-*.pid; do
        pid=$(live_pid "$file" serve)
        [ -z "$pid" ] || echo "$(basename "$file" .pid) pid $pid"
    done
    shopt -u nullglob
    if [ -d "$dir/pg" ]; then
        pidfile=$(find "$dir/pg" -maxdepth 3 -name postmaster.pid 2>/dev/null | head -n 1)
        if [ -n "$pidfile" ]; then
            pid=$(head -n 1 "$pidfile" | tr -dc '0-9')
            if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then echo "postgres pid $pid"; fi
        fi
    fi
}

status() {
    local out
    out=$(status_quiet)
    if [ -z "$out" ]; then say "not running ($dir)"; else printf '%s\n' "$out"; fi
}

# A secret kept in FILE (0600), made from N random bytes as hex the first time.
secret() {
    local file=$1 bytes=$2
    if [ ! -s "$file" ]; then
        (umask 077; head -c "$bytes" /dev/urandom | od -An -tx1 | tr -d ' \n' >"$file")
    fi
    chmod 600 "$file"
    tr -d ' \n' <"$file"
}

http_status() { curl -s -o /dev/null -m 2 -w '%{http_code}' "$1" 2>/dev/null || true; }

# Waits for a node's /readyz (or /healthz where /readyz answers 404: older
# binaries have no /readyz).
wait_ready() {
    local name=$1 pid=$2 url=$3 tenths=$((wait_s * 10)) code
    while [ "$tenths" -gt 0 ]; do
        kill -0 "$pid" 2>/dev/null || return 1
        code=$(http_status "$url/readyz")
        [ "$code" = 200 ] && return 0
        if [ "$code" = 404 ] && [ "$(http_status "$url/healthz")" = 200 ]; then
            say "$name has no /readyz (an older binary); /healthz answers"
            return 0
        fi
        sleep 0.1
        tenths=$((tenths - 1))
    done
    return 1
}

failed() {
    local name=$1
    echo >&2
    if [ -n "$name" ] && [ -f "$dir/$name.log" ]; then
        printf 'cluster: the last lines of %s:\n' "$dir/$name.log" >&2
        tail -n 20 "$dir/$name.log" | sed 's/^/  | /' >&2
    fi
    say "stopping what was started" >&2
    down >&2 || true
}

# Writes $ngdir/nginx.conf from deploy/nginx.local.conf.template: nginx on
# 127.0.0.1:$lb_port in front of the nodes' ports, every file under $ngdir.
render_nginx_conf() {
    local conf servers="" user_line="" i
    for i in $(seq 1 "$nodes"); do
        servers+="        server 127.0.0.1:$(node_port_of "$i") max_fails=1 fail_timeout=2s;"$'\n'
    done
    # As root, nginx would run its workers as nobody, who cannot write here.
    if [ "$(id -u)" -eq 0 ]; then user_line="user $(id -un) $(id -gn);"; fi
    mkdir -p "$ngdir/tmp"
    conf=$(<"$template")
    conf=${conf//@DIR@/$ngdir}
    conf=${conf//@LISTEN@/127.0.0.1:$lb_port}
    conf=${conf//@USER_LINE@/$user_line}
    conf=${conf//@SERVERS@/${servers%$'\n'}}
    printf '%s\n' "$conf" >"$ngdir/nginx.conf"
}

up() {
    [ -x "$bin" ] || die "$bin is not an executable; run \`just build\` (or set AUTHPIPE_BIN)"
    [ -x "$nginx" ] || die "$nginx not found; run \`just setup\` (or apt-get install nginx, or set NGINX)"
    command -v curl >/dev/null || die "curl is needed to wait for the nodes"
    [ -f "$template" ] || die "$template is missing"
    if [ -n "$(status_quiet)" ]; then
        status >&2
        die "a cluster is already running in $dir; run \`$(down_cmd)\` first"
    fi
    local i p
    for p in "$lb_port" $(for i in $(seq 1 "$nodes"); do node_port_of "$i"; done); do
        [ "$(http_status "http://127.0.0.1:$p/")" = 000 ] \
            || die "127.0.0.1:$p is already in use (see AUTHPIPE_CLUSTER_LB_PORT, AUTHPIPE_CLUSTER_NODE_PORT)"
    done
    mkdir -p "$dir" "$ngdir/tmp"
    # Traversable, not listable: as root, postgres.sh runs Postgres as the
    # user postgres, which must reach $dir/pg. The secrets are 0600.
    chmod 711 "$dir"

    local admin_token master_key store name port pid url
    admin_token=$(secret "$dir/admin.token" 24)
    master_key=$(secret "$dir/master.key" 32)
    [ ${#master_key} -eq 64 ] || die "$dir/master.key must hold 64 hex digits"
    [ ${#admin_token} -ge 16 ] || die "$dir/admin.token must hold at least 16 characters"

    trap 'failed ""' ERR
    if [ -n "${AUTHPIPE_CLUSTER_STORE:-}" ]; then
        store=$AUTHPIPE_CLUSTER_STORE
        # The nodes run in $dir: make a relative SQLite path absolute.
        case "$store" in *://*) ;; *) store=$(abs "$store") ;; esac
        say "using the store $store (AUTHPIPE_CLUSTER_STORE; no Postgres started)"
    else
        [ -f "$postgres_sh" ] || die "$postgres_sh is missing (it starts Postgres: postgres.sh start DIR PORT)"
        # A stopped cluster's leftovers: postgres.sh starts only in an empty DIR.
        if [ -d "$dir/pg" ]; then bash "$postgres_sh" stop "$dir/pg" >/dev/null; fi
        say "starting Postgres on 127.0.0.1:$pg_port ($dir/pg)"
        store=$(bash "$postgres_sh" start "$dir/pg" "$pg_port" | tail -n 1)
        case "$store" in
            postgres://*|postgresql://*) ;;
            *) trap - ERR; failed ""; die "$postgres_sh start printed no postgres:// URL (got: ${store:-nothing})" ;;
        esac
    fi
    echo "$store" >"$dir/store.url"

    # One node after another: the first runs the schema migrations and fills
    # the compiled-code cache, the others find both done.
    for i in $(seq 1 "$nodes"); do
        name=node-$i
        port=$(node_port_of "$i")
        url=http://127.0.0.1:$port
        say "starting $name on $url"
        # setsid: the node outlives this script and the terminal's Ctrl-C.
        (
            cd "$dir"
            export AUTHPIPE_NODE_ID=$name AUTHPIPE_ADMIN_TOKEN=$admin_token \
                AUTHPIPE_MASTER_KEY=$master_key AUTHPIPE_STORE=$store
            if [ "${AUTHPIPE_CLUSTER_CACHE:-shared}" = per-node ]; then
                export AUTHPIPE_CACHE_DIR=$dir/cache/$name
            fi
            exec setsid "$bin" serve --store "$store" --listen "127.0.0.1:$port" \
                </dev/null >>"$dir/$name.log" 2>&1
        ) &
        pid=$!
        echo "$pid" >"$dir/$name.pid"
        if ! wait_ready "$name" "$pid" "$url"; then
            trap - ERR
            if kill -0 "$pid" 2>/dev/null; then
                failed "$name"
                die "$name did not become ready within ${wait_s} s"
            fi
            failed "$name"
            die "$name exited; its log is $dir/$name.log"
        fi
    done

    render_nginx_conf
    "$nginx" -t -q -p "$ngdir" -c "$ngdir/nginx.conf" -e "$ngdir/error.log"
    say "starting nginx on http://127.0.0.1:$lb_port"
    "$nginx" -p "$ngdir" -c "$ngdir/nginx.conf" -e "$ngdir/error.log"
    local lb=http://127.0.0.1:$lb_port tenths=50
    until [ "$(http_status "$lb/nginx-health")" = 200 ]; do
        tenths=$((tenths - 1))
        [ "$tenths" -gt 0 ] || { trap - ERR; failed ""; die "nginx did not answer on $lb (see $ngdir/error.log)"; }
        sleep 0.1
    done
    trap - ERR

    local show_store=$store
    if [[ $show_store == *://*:*@* ]]; then show_store=$(sed -E 's#(://[^:/@]+):[^@]*@#\1:***@#' <<<"$store"); fi
    cat <<EOT

authpipe cluster: $nodes nodes behind nginx on $lb
  store:          $show_store
  nodes:          $(for i in $(seq 1 "$nodes"); do printf 'node-%s=127.0.0.1:%s ' "$i" "$(node_port_of "$i")"; done)
  admin token:    $admin_token   ($dir/admin.token)
  web console:    $lb/console/
  logs:           $dir/node-N.log, $ngdir/access.log
  stop:           $(down_cmd)   (stops everything; the database goes with it)

Try:
  export AUTHPIPE_TOKEN=\$(cat $dir/admin.token)
  curl -s $lb/readyz
  curl -s -X POST $lb/v1/tenants -H "authorization: Bearer \$AUTHPIPE_TOKEN" -H 'content-type: application/json' -d '{"id":"demo","name":"Demo tenant"}'
  $bin deploy --url $lb --tenant demo --config $root/examples/starter-project/authpipe.toml
  curl -si -X POST $lb/v1/tenants/demo/pipelines/pre-register -H "authorization: Bearer \$AUTHPIPE_TOKEN" -H 'content-type: application/json' -d @$root/examples/starter-project/requests/pre-register.json
    (the X-Authpipe-Upstream header names the node that answered)
EOT
}

case "${1:-}" in
    up) up ;;
    down) down ;;
    status) status ;;
    # Only writes the nginx configuration `up` would use (scripts/check-deploy.sh tests it).
    nginx-conf) [ -f "$template" ] || die "$template is missing"; render_nginx_conf; echo "$ngdir/nginx.conf" ;;
    *) echo "usage: $0 up|down|status|nginx-conf" >&2; exit 2 ;;
esac
