#!/usr/bin/env bash
# Embedded PostgreSQL for local runs, tests and benchmarks.
#
#   pg.sh start STATE_DIR [--tcp] [--fast]   initdb (first time) + start; prints nothing on success
#   pg.sh stop STATE_DIR                     fast shutdown
#   pg.sh kill STATE_DIR                     immediate shutdown, as in a crash (fault tests)
#   pg.sh createdb STATE_DIR NAME            a database with one schema per service
#   pg.sh bootstrap STATE_DIR NAME           (re)applies the idempotent bootstrap to a database
#   pg.sh env STATE_DIR                      prints PGHOST/PGPORT for psql
#
# STATE_DIR must be reachable by the `postgres` OS user: initdb and postgres refuse to run as
# root, so as root we run them as `postgres` (the Debian package creates that user). The server
# listens on a Unix socket inside STATE_DIR and, with --tcp, on 127.0.0.1 only (free port).
# --fast turns off fsync: for throwaway test clusters only, never for data you keep.
set -euo pipefail

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cmd=${1:?usage: pg.sh start|stop|kill|createdb|bootstrap|env STATE_DIR}
state=${2:?usage: pg.sh $cmd STATE_DIR}
mkdir -p "$state"
state=$(cd "$state" && pwd)

as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

psql_admin() {
  "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$state/sock" -p "$(cat "$state/port")" -U postgres "$@"
}

free_port() {
  local port
  for _ in $(seq 1 50); do
    port=$((20000 + RANDOM % 20000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "$port"; return; fi
  done
  echo "no free port found" >&2
  exit 1
}

case "$cmd" in
  start)
    shift 2
    tcp=0; fast=0
    for arg in "$@"; do
      case "$arg" in --tcp) tcp=1 ;; --fast) fast=1 ;; *) echo "unknown option $arg" >&2; exit 2 ;; esac
    done
    if [ "$(id -u)" = 0 ]; then chown postgres: "$state"; fi
    if [ ! -f "$state/data/PG_VERSION" ]; then
      as_pg "$PG_BIN/initdb" -D "$state/data" -U postgres --auth=trust --encoding=UTF8 \
        --locale=C.UTF-8 >"$state/initdb.log" 2>&1 || { cat "$state/initdb.log" >&2; exit 1; }
    fi
    as_pg mkdir -p "$state/sock"
    # A restart keeps the address clients already have, if that port is still free.
    port=""
    if [ -f "$state/port" ]; then
      port=$(cat "$state/port")
      if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then port=""; fi
    fi
    [ -n "$port" ] || port=$(free_port)
    listen="''"
    [ "$tcp" = 1 ] && listen=127.0.0.1
    opts="-c listen_addresses=$listen -c port=$port -c unix_socket_directories=$state/sock"
    opts="$opts -c max_connections=300 -c shared_buffers=256MB -c max_wal_size=2GB"
    [ "$fast" = 1 ] && opts="$opts -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    echo "$port" >"$state/port"
    as_pg "$PG_BIN/pg_ctl" -D "$state/data" -l "$state/postgres.log" -o "$opts" -w -t 60 start \
      >/dev/null || { tail -20 "$state/postgres.log" >&2; exit 1; }
    psql_admin -d postgres -f "$HERE/bootstrap_roles.sql" >/dev/null
    ;;
  stop)
    if [ -f "$state/data/postmaster.pid" ]; then
      as_pg "$PG_BIN/pg_ctl" -D "$state/data" -m fast -w -t 60 stop >/dev/null || true
    fi
    ;;
  kill)
    if [ -f "$state/data/postmaster.pid" ]; then
      as_pg "$PG_BIN/pg_ctl" -D "$state/data" -m immediate -w -t 60 stop >/dev/null || true
    fi
    ;;
  createdb)
    name=${3:?usage: pg.sh createdb STATE_DIR NAME}
    psql_admin -d postgres -c "CREATE DATABASE \"$name\""
    psql_admin -d "$name" -f "$HERE/bootstrap_db.sql" >/dev/null
    ;;
  bootstrap)
    name=${3:?usage: pg.sh bootstrap STATE_DIR NAME}
    psql_admin -d "$name" -f "$HERE/bootstrap_db.sql" >/dev/null
    ;;
  env)
    echo "export PGHOST=$state/sock PGPORT=$(cat "$state/port")"
    ;;
  *)
    echo "unknown command $cmd" >&2
    exit 2
    ;;
esac
