#!/usr/bin/env bash
# `make bench`: each figure next to its baseline, measured in this one run on this machine.
#   tests/bench/run.sh BUILD_DIR
# Starts a durable PostgreSQL (fsync on) and the services, then measures at the same
# concurrency: Health/Check (the gRPC ceiling), GetContact, CreateContact, and pgbench running the
# equivalent SQL transaction as the same database role. Prints the ratios.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=$(cd "${1:-$ROOT/build}" && pwd)
PG="$ROOT/deploy/local/pg.sh"
PG_BIN=/usr/lib/postgresql/15/bin
CONCURRENCY=${BENCH_CONCURRENCY:-8}
SECONDS_EACH=${BENCH_SECONDS:-10}

dir=$(mktemp -d /tmp/crm-bench.XXXXXX)
chmod 755 "$dir"
pid=""
pipeline_pid=""
tasks_pid=""
cleanup() {
  [ -n "$tasks_pid" ] && kill -TERM "$tasks_pid" 2>/dev/null && wait "$tasks_pid" 2>/dev/null || true
  [ -n "$pipeline_pid" ] && kill -TERM "$pipeline_pid" 2>/dev/null && wait "$pipeline_pid" 2>/dev/null || true
  [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  "$PG" stop "$dir/pg" || true
  rm -rf "$dir"
}
trap cleanup EXIT

"$PG" start "$dir/pg"
"$PG" createdb "$dir/pg" crm >/dev/null
sock="$dir/pg/sock"
port=$(cat "$dir/pg/port")
secret="bench-secret-$(openssl rand -hex 16)"
# The service identity's own secret, for every service started here (read from the environment).
export CRM_SERVICE_SECRET="bench-service-$(openssl rand -hex 16)"

"$BUILD/services/contacts/contacts" --db_url="host=$sock port=$port dbname=crm user=contacts" \
  --jwt_secret="$secret" --db_pool_size=$((CONCURRENCY * 2)) --ready_file="$dir/ready" \
  --log_level=warn >"$dir/contacts.log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do [ -f "$dir/ready" ] && break; sleep 0.1; done
grpc_port=$(sed -n 's/grpc_port=//p' "$dir/ready")
"$BUILD/services/pipeline/pipeline" --db_url="host=$sock port=$port dbname=crm user=pipeline" \
  --jwt_secret="$secret" --db_pool_size=$((CONCURRENCY * 2)) --ready_file="$dir/pipeline.ready" \
  --contacts_address="127.0.0.1:$grpc_port" --log_level=warn >"$dir/pipeline.log" 2>&1 &
pipeline_pid=$!
for _ in $(seq 1 100); do [ -f "$dir/pipeline.ready" ] && break; sleep 0.1; done
pipeline_port=$(sed -n 's/grpc_port=//p' "$dir/pipeline.ready")

load() {
  "$BUILD/tests/bench/loadgen" --target="127.0.0.1:$grpc_port" --jwt_secret="$secret" \
    --concurrency="$CONCURRENCY" --seconds="$SECONDS_EACH" --method="$1"
}
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$2"; }

echo "machine: $(nproc) cores; concurrency $CONCURRENCY; ${SECONDS_EACH}s per measurement"
health=$(load health); echo "$health"
get=$(load get_contact); echo "$get"
create=$(load create_contact); echo "$create"

# The naive SQL equivalent of CreateContact, as the contacts role (row-level security on):
# BEGIN, tenant setting, the contact row, its email key, its outbox event, COMMIT - one statement
# per round trip, as an application without pipelining would send them (bound parameters,
# prepared statements: the strongest form of the naive transaction).
cat >"$dir/create.sql" <<'SQL'
\set n random(1, 9000000000000000)
BEGIN;
SELECT set_config('app.tenant', 'pgbench', true);
INSERT INTO contacts.contacts (tenant_id, id, given_name, emails, owner, creator) VALUES ('pgbench', gen_random_uuid(), 'Bench', ARRAY['e' || :n || '@pgbench.example'], 'bench', 'bench') RETURNING id \gset
INSERT INTO contacts.contact_keys (tenant_id, kind, value, contact_id) VALUES ('pgbench', 'email', 'e' || :n || '@pgbench.example', :id);
INSERT INTO contacts.outbox (position, event_id, tenant_id, aggregate_type, aggregate_id, event_type, actor, occurred_at, payload) VALUES (pg_current_xact_id()::text::bigint << 20, gen_random_uuid(), 'pgbench', 'crm.contacts.v1.Contact', 'contacts/' || :id, 'crm.contacts.v1.ContactCreated', 'bench', now(), '\x00');
COMMIT;
SQL
pgbench_out=$("$PG_BIN/pgbench" -h "$sock" -p "$port" -U contacts -n -M prepared -c "$CONCURRENCY" \
  -j "$CONCURRENCY" -T "$SECONDS_EACH" -f "$dir/create.sql" crm 2>&1)
tps=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' <<<"$pgbench_out" | head -1)
echo "pgbench naive create transaction (contact + key + outbox): tps=$tps"

move=$("$BUILD/tests/bench/loadgen" --target="127.0.0.1:$pipeline_port" --jwt_secret="$secret" \
  --concurrency="$CONCURRENCY" --seconds="$SECONDS_EACH" --method=move_deal)
echo "$move"
# The naive SQL of a move: lock the deal, update it, write the history row and the event.
"$PG_BIN/psql" -X -q -h "$sock" -p "$port" -U postgres -d crm >/dev/null <<SQL
SET app.tenant = 'pgbench';
INSERT INTO pipeline.pipelines (tenant_id, id, display_name) VALUES ('pgbench', '00000000-0000-7000-8000-000000000001', 'bench');
INSERT INTO pipeline.stages VALUES ('pgbench', '00000000-0000-7000-8000-000000000002', '00000000-0000-7000-8000-000000000001', 0, 'A', 10, 'pipeline', 'open'),
  ('pgbench', '00000000-0000-7000-8000-000000000003', '00000000-0000-7000-8000-000000000001', 1, 'B', 20, 'pipeline', 'open');
INSERT INTO pipeline.deals (tenant_id, id, display_name, owner, creator, currency_code, pipeline_id, stage_id, probability_percent)
SELECT 'pgbench', ('00000000-0000-7000-9000-' || lpad(i::text, 12, '0'))::uuid, 'd', 'b', 'b', 'USD', '00000000-0000-7000-8000-000000000001', '00000000-0000-7000-8000-000000000002', 10 FROM generate_series(1, 64) i;
SQL
cat >"$dir/move.sql" <<'SQL'
\set d random(1, 64)
BEGIN;
SELECT set_config('app.tenant', 'pgbench', true);
SELECT version FROM pipeline.deals WHERE tenant_id = 'pgbench' AND id = ('00000000-0000-7000-9000-' || lpad(:d::text, 12, '0'))::uuid FOR UPDATE;
UPDATE pipeline.deals SET stage_id = CASE WHEN stage_id = '00000000-0000-7000-8000-000000000002' THEN '00000000-0000-7000-8000-000000000003'::uuid ELSE '00000000-0000-7000-8000-000000000002'::uuid END, version = version + 1, update_time = now() WHERE tenant_id = 'pgbench' AND id = ('00000000-0000-7000-9000-' || lpad(:d::text, 12, '0'))::uuid;
INSERT INTO pipeline.stage_history VALUES ('pgbench', gen_random_uuid(), ('00000000-0000-7000-9000-' || lpad(:d::text, 12, '0'))::uuid, '00000000-0000-7000-8000-000000000002', '00000000-0000-7000-8000-000000000003', 'b', now());
INSERT INTO pipeline.outbox (position, event_id, tenant_id, aggregate_type, aggregate_id, event_type, actor, occurred_at, payload) VALUES ((pg_current_xact_id()::text::bigint << 20), gen_random_uuid(), 'pgbench', 'crm.pipeline.v1.Deal', 'deals/x', 'crm.pipeline.v1.DealMoved', 'b', now(), '\x00');
COMMIT;
SQL
move_tps=$("$PG_BIN/pgbench" -h "$sock" -p "$port" -U pipeline -n -M prepared -c "$CONCURRENCY" \
  -j "$CONCURRENCY" -T "$SECONDS_EACH" -f "$dir/move.sql" crm 2>&1 | sed -n 's/^tps = \([0-9.]*\).*/\1/p' | head -1)
echo "pgbench naive move transaction (lock, update, history, outbox): tps=$move_tps"

# The gateway in front of contacts: the same GetContact and CreateContact over HTTP/JSON.
"$BUILD/services/gateway/gateway" --http_address=127.0.0.1:0 --ready_file="$dir/gateway.ready" \
  --contacts_address="127.0.0.1:$grpc_port" --jwt_secret="$secret" --log_level=warn --rate_burst=1000000 \
  --rate_per_second=1000000 >"$dir/gateway.log" 2>&1 &
gateway_pid=$!
for _ in $(seq 1 100); do [ -f "$dir/gateway.ready" ] && break; sleep 0.1; done
http_port=$(sed -n 's/grpc_port=//p' "$dir/gateway.ready")
http_load() {
  "$BUILD/tests/bench/loadgen" --target="127.0.0.1:$grpc_port" --http_target="127.0.0.1:$http_port" \
    --jwt_secret="$secret" --concurrency="$CONCURRENCY" --seconds="$SECONDS_EACH" --method="$1"
}
http_get=$(http_load http_get_contact); echo "$http_get"
grpc_get=$(load get_contact); echo "$grpc_get"
http_create=$(http_load http_create_contact); echo "$http_create"
grpc_create=$(load create_contact); echo "$grpc_create"
kill -TERM "$gateway_pid" 2>/dev/null && wait "$gateway_pid" 2>/dev/null || true

events=$("$BUILD/tests/bench/event_latency" --target="127.0.0.1:$grpc_port" \
  --service_secret="$CRM_SERVICE_SECRET" --jwt_secret="$secret" --events=1000 --rate=200)
echo "$events"

# Reminders: 10,000 due within one minute, fired by the tasks service's scheduler and watched live.
"$BUILD/services/tasks/tasks" --db_url="host=$sock port=$port dbname=crm user=tasks" \
  --jwt_secret="$secret" --db_pool_size=$((CONCURRENCY * 2)) --ready_file="$dir/tasks.ready" \
  --contacts_address= --pipeline_address= --log_level=warn >"$dir/tasks.log" 2>&1 &
tasks_pid=$!
for _ in $(seq 1 100); do [ -f "$dir/tasks.ready" ] && break; sleep 0.1; done
tasks_port=$(sed -n 's/grpc_port=//p' "$dir/tasks.ready")
reminders=""
if [ "${BENCH_REMINDERS:-10000}" != 0 ]; then
  reminders=$("$BUILD/tests/bench/reminder_delay" --target="127.0.0.1:$tasks_port" \
    --jwt_secret="$secret" --reminders="${BENCH_REMINDERS:-10000}" --window_seconds=60) || true
  echo "$reminders"
fi

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
echo
echo "CreateContact / pgbench naive transaction: $(ratio "$(field qps "$create")" "$tps")x (target >= 1.0)"
echo "GetContact / Health.Check:                 $(ratio "$(field qps "$get")" "$(field qps "$health")")x (target >= 0.5)"
echo "MoveDeal / pgbench naive move:              $(ratio "$(field qps "$move")" "$move_tps")x"
echo "Gateway GET contact / gRPC GetContact:    $(ratio "$(field qps "$http_get")" "$(field qps "$grpc_get")")x (target >= 0.6)"
echo "Gateway POST contact / gRPC CreateContact: $(ratio "$(field qps "$http_create")" "$(field qps "$grpc_create")")x"
echo "Commit -> Subscribe stream p99:            $(field p99_ms "$events") ms (target <= 100 ms, at 200 creates/s)"
[ -z "$reminders" ] || echo "Reminder delay (fired) p50 / p99:          $(field fire_p50_ms "$reminders") / $(field fire_p99_ms "$reminders") ms ($(field fired "$reminders") fired, $(field duplicates "$reminders") twice; 10,000 due within a minute)"
[ -z "$reminders" ] || echo "Reminder delay (on the watch) p50 / p99:   $(field watch_p50_ms "$reminders") / $(field watch_p99_ms "$reminders") ms"

if [ "${BENCH_SCALE:-1}" = 1 ]; then
  echo
  "$ROOT/tests/bench/contacts_at_scale.sh" "$BUILD" "$dir/pg" "$grpc_port" "$secret"
fi
if [ "${BENCH_ATTACK:-1}" = 1 ]; then
  echo
  "$ROOT/tests/bench/under_attack.sh" "$BUILD" "$dir/pg" "$secret"
fi
if [ "${BENCH_REPORTING:-1}" = 1 ]; then
  echo
  "$ROOT/tests/bench/reporting_at_scale.sh" "$BUILD" "$dir/pg" "$grpc_port" "$pipeline_port" "$secret"
fi
