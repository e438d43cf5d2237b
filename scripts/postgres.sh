#!/usr/bin/env bash
# A throwaway PostgreSQL cluster, for tests and local runs of the Postgres
# store.
#
#   scripts/postgres.sh start DIR PORT   creates a cluster in DIR (which must
#                                        not exist or be empty), listening on
#                                        127.0.0.1:PORT only, creates the
#                                        database `authpipe` and prints its URL
#                                        (the only line on stdout)
#   scripts/postgres.sh stop DIR         stops that cluster and removes DIR
#
# No passwords (trust), no fsync: for data nobody needs to keep. Postgres
# refuses to run as root; as root, the cluster belongs to the user `postgres`
# (Debian's package creates it) or else `nobody`.
set -euo pipefail

usage() {
  echo "usage: $0 start DIR PORT | stop DIR" >&2
  exit 2
}

pg_bin() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
  if [ -z "$dir" ] || [ ! -x "$dir/initdb" ] || [ ! -x "$dir/pg_ctl" ]; then
    echo "PostgreSQL is not installed: run \`just setup\` (installs Debian's postgresql)" >&2
    exit 1
  fi
  echo "$dir"
}

# The user the cluster runs as when this script runs as root.
cluster_user() {
  if id -u postgres >/dev/null 2>&1; then echo postgres; else echo nobody; fi
}

# Runs "$@" as USER ($1) when root, directly otherwise.
as_user() {
  local user=$1
  shift
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u "$user" -- "$@"
  else
    "$@"
  fi
}

start() {
  local dir=$1 port=$2
  case $port in '' | *[!0-9]*) echo "error: PORT must be a number, not '$port'" >&2; exit 2 ;; esac
  local bin user=""
  bin=$(pg_bin)
  dir=$(realpath -m -- "$dir")
  if [ -e "$dir" ] && [ -n "$(ls -A -- "$dir")" ]; then
    echo "error: $dir is not empty; a cluster is made in a new directory" >&2
    exit 1
  fi
  mkdir -p -- "$dir"
  if [ "$(id -u)" -eq 0 ]; then
    user=$(cluster_user)
    chown "$user" "$dir"
    chmod 700 "$dir"
    if ! runuser -u "$user" -- test -w "$dir"; then
      echo "error: the user $user cannot write to $dir (is a parent directory private to root?)" >&2
      exit 1
    fi
  fi
  local log="$dir/postgres.log"
  if ! as_user "$user" "$bin/initdb" -D "$dir/data" --auth=trust --username=postgres \
    -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1; then
    echo "error: initdb failed (see $dir/initdb.log):" >&2
    tail -n 20 "$dir/initdb.log" >&2
    exit 1
  fi
  as_user "$user" mkdir -p "$dir/sock"
  # pg_ctl hands -o to a shell: quote the socket directory.
  local options="-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories='$dir/sock'"
  options+=" -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
  if ! as_user "$user" "$bin/pg_ctl" -D "$dir/data" -l "$log" -o "$options" -w -t 30 start \
    >"$dir/pg_ctl.log" 2>&1; then
    echo "error: PostgreSQL did not start on 127.0.0.1:$port (see $log):" >&2
    tail -n 20 "$log" >&2 2>/dev/null || cat "$dir/pg_ctl.log" >&2
    exit 1
  fi
  local tries=0
  until "$bin/pg_isready" -q -h 127.0.0.1 -p "$port" -U postgres; do
    tries=$((tries + 1))
    if [ $tries -ge 300 ]; then
      echo "error: PostgreSQL on 127.0.0.1:$port accepts no connections after 30 s (see $log)" >&2
      exit 1
    fi
    sleep 0.1
  done
  "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres authpipe >&2
  echo "postgres://postgres@127.0.0.1:$port/authpipe"
}

stop() {
  local dir
  dir=$(realpath -m -- "$1")
  if [ -f "$dir/data/PG_VERSION" ]; then
    local bin user
    bin=$(pg_bin)
    user=$(stat -c %U "$dir/data")
    if as_user "$user" "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
      as_user "$user" "$bin/pg_ctl" -D "$dir/data" stop -m fast -w -t 30 >/dev/null
    fi
  fi
  rm -rf -- "$dir"
}

case "${1:-}" in
  start) [ $# -eq 3 ] || usage; start "$2" "$3" ;;
  stop) [ $# -eq 2 ] || usage; stop "$2" ;;
  *) usage ;;
esac
