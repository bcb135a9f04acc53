#!/usr/bin/env bash
# `make run`: embedded PostgreSQL + every service on loopback, until Ctrl-C.
#   deploy/local/run.sh BUILD_DIR
# Data lives in .run/ (git-ignored) and survives restarts. Ports can be overridden with
# CONTACTS_PORT / CONTACTS_METRICS_PORT, PIPELINE_PORT / ..., TASKS_PORT / ..., REPORTING_PORT / REPORTING_METRICS_PORT.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=$(cd "${1:-$ROOT/build}" && pwd)
HERE="$ROOT/deploy/local"
mkdir -p "$ROOT/.run"
RUN="$ROOT/.run"

# initdb/postgres run as the `postgres` user, which may not reach a checkout under /root:
# then the cluster lives in a private folder under /tmp, remembered in .run/pg-dir.
pg_dir="$RUN/pg"
if [ "$(id -u)" = 0 ] && ! runuser -u postgres -- test -x "$RUN" 2>/dev/null; then
  if [ -f "$RUN/pg-dir" ] && [ -d "$(cat "$RUN/pg-dir")" ]; then
    pg_dir=$(cat "$RUN/pg-dir")
  else
    pg_dir=$(mktemp -d /tmp/crm-run-pg.XXXXXX)
    chmod 755 "$pg_dir"
    echo "$pg_dir" >"$RUN/pg-dir"
  fi
fi

supervisors=()
stop_all() {
  trap - INT TERM EXIT
  echo
  echo "stopping services..."
  touch "$RUN/stopping"
  for pid in "${supervisors[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${supervisors[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -f "$RUN/stopping"
  "$HERE/pg.sh" stop "$pg_dir"
  echo "stopped."
}
trap stop_all INT TERM EXIT
rm -f "$RUN/stopping"

"$HERE/pg.sh" stop "$pg_dir" 2>/dev/null || true
"$HERE/pg.sh" start "$pg_dir" --tcp
pg_port=$(cat "$pg_dir/port")
if ! /usr/lib/postgresql/15/bin/psql -X -q -h "$pg_dir/sock" -p "$pg_port" -U postgres -d crm \
     -c 'SELECT 1' >/dev/null 2>&1; then
  "$HERE/pg.sh" createdb "$pg_dir" crm >/dev/null
fi
# Schemas, roles' grants and extensions of newer versions reach an existing database too.
"$HERE/pg.sh" bootstrap "$pg_dir" crm

# The local signing secret for user tokens, and the service identity's own one, made once.
for secret in jwt service; do
  if [ ! -s "$RUN/$secret.secret" ]; then
    (umask 077 && openssl rand -hex 32 >"$RUN/$secret.secret")
  fi
done

db_url() { echo "host=$pg_dir/sock port=$pg_port dbname=crm user=$1"; }

# Runs one process and starts it again whenever it dies, with a log line saying so: one crashed
# process must not stop the stack. A process that keeps dying is restarted less and less often.
supervise() {
  local name=$1
  shift
  local child=0 delay=1 started
  trap '[ "$child" -gt 0 ] && kill -TERM "$child" 2>/dev/null; wait 2>/dev/null; exit 0' TERM
  while :; do
    started=$(date +%s)
    "$@" >>"$RUN/$name.log" 2>&1 &
    child=$!
    local status=0
    wait "$child" || status=$?
    [ -f "$RUN/stopping" ] && exit 0
    if [ $(($(date +%s) - started)) -ge 30 ]; then delay=1; fi
    echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) run.sh: $name exited with status $status;" \
      "restarting it in ${delay}s" | tee -a "$RUN/$name.log" >&2
    sleep "$delay"
    delay=$((delay < 16 ? delay * 2 : 30))
  done
}

start_service() {
  local name=$1 grpc_port=$2 metrics_port=$3
  shift 3
  local auth=(--jwt_secret="@$RUN/jwt.secret")
  # The service identity's secret is for the backend services only, never the gateway.
  [ "$name" = gateway ] || auth+=(--service_secret="@$RUN/service.secret")
  rm -f "$RUN/$name.ready"
  supervise "$name" "$BUILD/services/$name/$name" \
    --grpc_address="127.0.0.1:$grpc_port" --metrics_address="127.0.0.1:$metrics_port" \
    --db_url="$(db_url "$name")" "${auth[@]}" \
    --ready_file="$RUN/$name.ready" "$@" &
  supervisors+=($!)
  for _ in $(seq 1 100); do
    [ -f "$RUN/$name.ready" ] && return 0
    sleep 0.1
  done
  echo "$name did not start; see $RUN/$name.log" >&2
  tail -20 "$RUN/$name.log" >&2
  exit 1
}

start_service contacts "${CONTACTS_PORT:-50051}" "${CONTACTS_METRICS_PORT:-9461}"
start_service pipeline "${PIPELINE_PORT:-50052}" "${PIPELINE_METRICS_PORT:-9462}" \
  --contacts_address="127.0.0.1:${CONTACTS_PORT:-50051}"
start_service tasks "${TASKS_PORT:-50053}" "${TASKS_METRICS_PORT:-9463}" \
  --contacts_address="127.0.0.1:${CONTACTS_PORT:-50051}" \
  --pipeline_address="127.0.0.1:${PIPELINE_PORT:-50052}" --webhook_allow_private_addresses
start_service reporting "${REPORTING_PORT:-50054}" "${REPORTING_METRICS_PORT:-9464}" \
  --contacts_address="127.0.0.1:${CONTACTS_PORT:-50051}" \
  --pipeline_address="127.0.0.1:${PIPELINE_PORT:-50052}" \
  --tasks_address="127.0.0.1:${TASKS_PORT:-50053}"
# The gateway writes the same ready file; its "grpc_port" is its HTTP port.
start_service gateway "${GATEWAY_PORT:-8080}" "${GATEWAY_PORT:-8080}" \
  --http_address="127.0.0.1:${GATEWAY_PORT:-8080}" \
  --contacts_address="127.0.0.1:${CONTACTS_PORT:-50051}" \
  --pipeline_address="127.0.0.1:${PIPELINE_PORT:-50052}" \
  --tasks_address="127.0.0.1:${TASKS_PORT:-50053}" \
  --reporting_address="127.0.0.1:${REPORTING_PORT:-50054}" \
  --docs_dir="$ROOT/.deps/node_modules/swagger-ui-dist" --cors_origins="http://localhost:3000"

cat <<INFO

CRM is running (logs in .run/*.log; a process that dies is restarted). Ctrl-C stops everything.

  gateway      http://127.0.0.1:${GATEWAY_PORT:-8080}   (API docs: http://127.0.0.1:${GATEWAY_PORT:-8080}/docs)
  PostgreSQL   127.0.0.1:$pg_port  (psql -h 127.0.0.1 -p $pg_port -U postgres crm)
  contacts     gRPC 127.0.0.1:${CONTACTS_PORT:-50051}   metrics http://127.0.0.1:${CONTACTS_METRICS_PORT:-9461}/metrics
  pipeline     gRPC 127.0.0.1:${PIPELINE_PORT:-50052}   metrics http://127.0.0.1:${PIPELINE_METRICS_PORT:-9462}/metrics
  tasks        gRPC 127.0.0.1:${TASKS_PORT:-50053}   metrics http://127.0.0.1:${TASKS_METRICS_PORT:-9463}/metrics
  reporting    gRPC 127.0.0.1:${REPORTING_PORT:-50054}   metrics http://127.0.0.1:${REPORTING_METRICS_PORT:-9464}/metrics

Try it:
  export CRM_JWT_SECRET=@$RUN/jwt.secret
  export CRM_TOKEN=\$($BUILD/services/crmctl/crmctl token --tenant acme --user alice --roles rep)
  $BUILD/services/crmctl/crmctl contacts create --given Anna --family Petrosyan --email anna@example.com
  $BUILD/services/crmctl/crmctl contacts list
  $BUILD/services/crmctl/crmctl tasks create --title "Call Anna" --due +2h --remind +1h
  $BUILD/services/crmctl/crmctl tasks list --mine
  $BUILD/services/crmctl/crmctl report won_lost --period month --svg won.svg
INFO

# Until Ctrl-C; the supervisors restart whatever dies.
wait
