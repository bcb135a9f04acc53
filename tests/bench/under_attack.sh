#!/usr/bin/env bash
# Another tenant's latency while one client attacks, called by run.sh with its PostgreSQL:
#   under_attack.sh BUILD_DIR PG_DIR SECRET
# Starts contacts, tasks and the gateway on a database of their own and runs tests/bench/victim
# in each mode: the victim's p99 alone (the baseline, same calls, same run) and under the attack.
# Prints the NAME: p99 X ms (target <= Y ms) lines, and the gateway's open SSE streams with its
# resident memory per stream.
set -euo pipefail
BUILD=$1
PG_DIR=$2
SECRET=$3
# The service identity's secret, from run.sh's environment or made here.
export CRM_SERVICE_SECRET=${CRM_SERVICE_SECRET:-attack-service-$(openssl rand -hex 16)}
PG="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/deploy/local/pg.sh"
sock="$PG_DIR/sock"
port=$(cat "$PG_DIR/port")
SECONDS_EACH=${BENCH_ATTACK_SECONDS:-10}
work=$(mktemp -d /tmp/crm-attack-bench.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null && wait "$p" 2>/dev/null || true; done
  [ -n "${KEEP_WORK:-}" ] || rm -rf "$work"
}
trap cleanup EXIT

db=attack_$(date +%s)
"$PG" createdb "$PG_DIR" "$db" >/dev/null
# start NAME COMMAND...: runs COMMAND in this shell (so cleanup can stop it) and sets port_NAME.
start() {
  local name=$1
  shift
  "$@" --ready_file="$work/$name.ready" --log_level=warn >"$work/$name.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 100); do [ -f "$work/$name.ready" ] && break; sleep 0.1; done
  [ -f "$work/$name.ready" ] || { echo "$name did not start:" >&2; cat "$work/$name.log" >&2; exit 1; }
  printf -v "port_$name" '%s' "$(sed -n 's/grpc_port=//p' "$work/$name.ready")"
}
start contacts "$BUILD/services/contacts/contacts" \
  --db_url="host=$sock port=$port dbname=$db user=contacts" --jwt_secret="$SECRET" \
  --grpc_address=127.0.0.1:0
start tasks "$BUILD/services/tasks/tasks" \
  --db_url="host=$sock port=$port dbname=$db user=tasks" --jwt_secret="$SECRET" \
  --contacts_address= --pipeline_address= --grpc_address=127.0.0.1:0
start gateway "$BUILD/services/gateway/gateway" --http_address=127.0.0.1:0 \
  --jwt_secret="$SECRET" --contacts_address="127.0.0.1:$port_contacts" \
  --tasks_address="127.0.0.1:$port_tasks" --rate_burst=1000000 --rate_per_second=1000000
gateway_pid=${pids[-1]}

victim() { "$BUILD/tests/bench/victim" --jwt_secret="$SECRET" --seconds="$SECONDS_EACH" "$@"; }
field() { echo "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"; }

stalled=$(victim --mode=stalled_http --gateway="127.0.0.1:$port_gateway" --attackers=1000)
echo "$stalled"
streams=$(victim --mode=idle_streams --target="127.0.0.1:$port_tasks" --attackers=2000)
echo "$streams"
share=$(victim --mode=pool_share --target="127.0.0.1:$port_contacts" --attackers=32)
echo "$share"
sse=$(victim --mode=sse --gateway="127.0.0.1:$port_gateway" --attackers=5000 \
  --gateway_pid="$gateway_pid") || true
echo "$sse"

# One line per figure in the form NAME: p99 X ms (target <= Y ms), its baseline on the next.
line() { # NAME OUTPUT TARGET WHAT
  echo "$1: p99 $(field attacked_p99_ms "$2") ms (target <= $3 ms)"
  echo "  baseline, the same calls alone: p99 $(field baseline_p99_ms "$2") ms; $4"
}
echo
line "Gateway, 1,000 stalled HTTP connections" "$stalled" 100 "another tenant's /healthz + GET contact"
line "Service, 2,000 idle streams of one tenant" "$streams" 50 "another tenant's ListTasks + Health"
line "Service, one tenant saturating its pool share" "$share" 50 \
  "another tenant's GetContact ($(field heavy_served "$share") heavy lists served, $(field heavy_shed "$share") shed)"
echo "Gateway SSE streams open: $(field streams_open "$sse") (target >= 5000), $(field rss_per_stream_kb "$sse") KB resident per stream"
