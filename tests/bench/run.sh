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

# One tenant is the whole load here, so it may use the whole pool and queue for it as pgbench's
# clients would (--db_tenant_share=1, --db_tenant_waiting); as many connections as pgbench gets.
"$BUILD/services/contacts/contacts" --db_url="host=$sock port=$port dbname=crm user=contacts" \
  --jwt_secret="$secret" --db_pool_size=32 --db_tenant_share=1 --db_tenant_waiting=1000 \
  --ready_file="$dir/ready" \
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

postmaster=$(head -1 "$dir/pg/data/postmaster.pid")
# Resident memory from /proc: VmRSS now, VmHWM the peak so far (KB).
rss_kb() { sed -n "s/^$2:[[:space:]]*\([0-9]*\) kB/\1/p" "/proc/$1/status"; }
sleep 1  # started, connected, idle
idle_rss="contacts $(( $(rss_kb "$pid" VmRSS) / 1024 )) MB, pipeline $(( $(rss_kb "$pipeline_pid" VmRSS) / 1024 )) MB"
load() { # METHOD [CONCURRENCY]
  "$BUILD/tests/bench/loadgen" --target="127.0.0.1:$grpc_port" --jwt_secret="$secret" \
    --concurrency="${2:-$CONCURRENCY}" --seconds="$SECONDS_EACH" --method="$1" \
    --cpu_of="service=$pid,postgres=$postmaster"
}
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$2"; }
# median3 FIELD COMMAND...: runs COMMAND three times and prints the run whose FIELD is the median,
# with the three values' range appended as FIELD_range=min-max.
median3() {
  local key=$1 runs=() line
  shift
  for _ in 1 2 3; do runs+=("$("$@")"); done
  line=$(for r in "${runs[@]}"; do echo "$(field "$key" " $r") $r"; done | sort -g | sed -n 2p | cut -d' ' -f2-)
  echo "$line ${key}_range=$(for r in "${runs[@]}"; do field "$key" " $r"; done | sort -g | sed -n '1p;$p' | paste -sd-)"
}

# The exact statements the service sends for a CreateContact with an email and a phone (copied
# from PostgreSQL's statement log; see docs/benchmarks.md), as the contacts role with row-level
# security on: the three settings, the contact with its search text and keys (ON CONFLICT on the
# request id), the outbox row with its position count and a payload of the size the service
# writes, and the announcer's NOTIFY (at most one per 5 ms: at these rates about one per 16 commits).
# `naive` sends one statement per round trip; `pipelined` sends them as the service does.
uuid_v7="substr(lpad(to_hex((extract(epoch FROM clock_timestamp()) * 1000)::bigint), 12, '0'), 1, 8) || '-' || substr(lpad(to_hex((extract(epoch FROM clock_timestamp()) * 1000)::bigint), 12, '0'), 9, 4) || '-7' || substr(md5(:n::text), 1, 3) || '-8' || substr(md5(:n::text), 4, 3) || '-' || substr(md5(:n::text), 7, 12)"
create_statements() {
  cat <<SQL
SELECT set_config('app.tenant', :tenant, true), set_config('statement_timeout', '10000', true), set_config('app.all_tenants', 'off', true);
WITH c AS (INSERT INTO contacts.contacts (tenant_id, id, given_name, family_name, emails, phones, company_id, job_title, owner, creator, lifecycle_stage, lead_source, campaign, tags, attributes, create_request_id, create_time, update_time, search_text) VALUES (:tenant, ($uuid_v7)::uuid, 'Bench', 'W1', ARRAY['w' || :n || '@bench.example'], ARRAY['+' || :n], NULL::uuid, '', 'bench', 'bench', '', '', '', '{}'::text[], '{}'::jsonb, NULL, now(), now(), concat_ws(' ', 'Bench'::text, 'W1'::text, array_to_string(ARRAY['w' || :n || '@bench.example'], ' '), array_to_string(ARRAY['+' || :n], ' '))) ON CONFLICT (tenant_id, creator, create_request_id) WHERE create_request_id IS NOT NULL DO NOTHING RETURNING *), k AS (INSERT INTO contacts.contact_keys (tenant_id, kind, value, contact_id) SELECT c.tenant_id, 'email', e, c.id FROM c, unnest(ARRAY['w' || :n || '@bench.example']) e UNION ALL SELECT c.tenant_id, 'phone', p, c.id FROM c, unnest(c.phones) p) SELECT count(*) FROM c;
WITH base AS (SELECT pg_current_xact_id()::text::bigint << 20 AS p), ins AS (INSERT INTO contacts.outbox (position, event_id, tenant_id, aggregate_type, aggregate_id, event_type, actor, occurred_at, payload) SELECT base.p + (SELECT count(*) FROM contacts.outbox o WHERE o.position >= base.p AND o.position < base.p + 1048576), gen_random_uuid(), :tenant, 'crm.contacts.v1.Contact', 'contacts/' || :n, 'crm.contacts.v1.ContactCreated', 'bench', now(), decode(:payload, 'hex') FROM base RETURNING position) SELECT position FROM ins;
SQL
}
{
  echo '\set n random(1, 9000000000000000)'
  echo 'BEGIN;'
  create_statements
  echo 'COMMIT;'
  echo '\if :n % 16 = 0'
  echo "SELECT pg_notify('crm_outbox_contacts', '');"
  echo '\endif'
} >"$dir/create_naive.sql"
{
  echo '\set n random(1, 9000000000000000)'
  echo '\startpipeline'
  create_statements
  echo '\endpipeline'
  echo '\if :n % 16 = 0'
  echo "SELECT pg_notify('crm_outbox_contacts', '');"
  echo '\endif'
} >"$dir/create_pipelined.sql"
# The size of a ContactCreated event with one email and one phone (an Any of about 200 bytes).
payload=$(head -c 200 /dev/urandom | od -An -tx1 | tr -d ' \n')
pgbench_run() { # SCRIPT CONCURRENCY: prints tps=N and PostgreSQL's CPU per transaction
  local before after out
  before=$(postgres_ticks)
  out=$("$PG_BIN/pgbench" -h "$sock" -p "$port" -U contacts -n -M prepared -c "$2" -j "$2" \
    -T "$SECONDS_EACH" -D tenant="pgbench-$RANDOM$RANDOM" -D payload="$payload" -f "$1" crm 2>&1)
  after=$(postgres_ticks)
  local tps
  tps=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' <<<"$out" | head -1)
  awk -v t="$tps" -v d="$((after - before))" -v s="$SECONDS_EACH" -v hz="$(getconf CLK_TCK)" \
    'BEGIN { printf "script tps=%s postgres_cpu_us=%.0f\n", t, (t > 0 ? d * 1e6 / hz / (t * s) : 0) }'
}
# PostgreSQL's CPU in clock ticks: the postmaster, its reaped children and its live ones.
postgres_ticks() {
  local total=0 f
  read -r -a f <<<"$(sed 's/.*) //' "/proc/$postmaster/stat")"
  total=$((f[11] + f[12] + f[13] + f[14]))
  for stat in /proc/[0-9]*/stat; do
    read -r -a f <<<"$(sed 's/.*) //' "$stat" 2>/dev/null)" || continue
    [ "${f[1]:-}" = "$postmaster" ] && total=$((total + f[11] + f[12]))
  done
  echo "$total"
}

echo "machine: $(nproc) cores; ${SECONDS_EACH}s per run, the median of three (range beside it)"
declare -A figure
for c in $CONCURRENCY 32; do
  figure[health_$c]=$(median3 qps load health "$c"); echo "${figure[health_$c]}"
  figure[get_$c]=$(median3 qps load get_contact "$c"); echo "${figure[get_$c]}"
  figure[create_$c]=$(median3 qps load create_contact "$c"); echo "${figure[create_$c]}"
  figure[naive_$c]=$(median3 tps pgbench_run "$dir/create_naive.sql" "$c")
  echo "pgbench exact create, naive, concurrency=$c: ${figure[naive_$c]}"
  figure[pipelined_$c]=$(median3 tps pgbench_run "$dir/create_pipelined.sql" "$c")
  echo "pgbench exact create, pipelined, concurrency=$c: ${figure[pipelined_$c]}"
done
# The same create carrying values for 20 custom fields of common types (defined by the load
# generator for its tenant first), side by side with the create above at the same concurrency.
figure[create_fields]=$(median3 qps load create_contact_fields "$CONCURRENCY")
echo "create with 20 custom fields: ${figure[create_fields]}"
# The contacts service's peak after the runs at 32 in flight (nothing larger has run yet).
busy_rss_mb=$(( $(rss_kb "$pid" VmHWM) / 1024 ))
echo
echo "Latency against load (one run each):"
for c in 8 32 128; do
  for m in get_contact create_contact; do
    out=$(load "$m" "$c")
    echo "  $m in flight=$c: qps=$(field qps "$out") p50=$(field p50_ms "$out") ms p99=$(field p99_ms "$out") ms; CPU per call: service $(field service_cpu_us "$out") us, postgres $(field postgres_cpu_us "$out") us, load generator $(field loadgen_cpu_us "$out") us"
  done
done
health=${figure[health_$CONCURRENCY]}
get=${figure[get_$CONCURRENCY]}
create=${figure[create_$CONCURRENCY]}
tps=$(field tps "${figure[naive_$CONCURRENCY]}")

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
sleep 1
idle_rss="$idle_rss, gateway $(( $(rss_kb "$gateway_pid" VmRSS) / 1024 )) MB"
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
sleep 1
idle_rss="$idle_rss, tasks $(( $(rss_kb "$tasks_pid" VmRSS) / 1024 )) MB"
reminders=""
if [ "${BENCH_REMINDERS:-10000}" != 0 ]; then
  reminders=$("$BUILD/tests/bench/reminder_delay" --target="127.0.0.1:$tasks_port" \
    --jwt_secret="$secret" --reminders="${BENCH_REMINDERS:-10000}" --window_seconds=60) || true
  echo "$reminders"
fi

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
echo
for c in $CONCURRENCY 32; do
  echo "CreateContact / pgbench exact naive, $c in flight: $(ratio "$(field qps "${figure[create_$c]}")" "$(field tps "${figure[naive_$c]}")")x (target >= 1.0)"
  echo "CreateContact / pgbench exact pipelined, $c in flight: $(ratio "$(field qps "${figure[create_$c]}")" "$(field tps "${figure[pipelined_$c]}")")x"
  echo "GetContact / Health.Check (both callback API), $c in flight: $(ratio "$(field qps "${figure[get_$c]}")" "$(field qps "${figure[health_$c]}")")x (target >= 0.5)"
done
echo "GetContact at 32 in flight: p99 $(field p99_ms "${figure[get_32]}") ms (target <= 10 ms)"
echo "CreateContact at 32 in flight: p99 $(field p99_ms "${figure[create_32]}") ms (target <= 10 ms)"
echo "CreateContact with 20 custom fields, time per create / with none: $(ratio "$(field qps "${figure[create_$CONCURRENCY]}")" "$(field qps "${figure[create_fields]}")")x (target <= 1.2)"
echo "MoveDeal / pgbench naive move:              $(ratio "$(field qps "$move")" "$move_tps")x (target >= 1.0)"
echo "Idle RSS per service: $idle_rss (target <= 30 MB each); contacts at 32 in flight: peak $busy_rss_mb MB"
echo "Gateway GET contact / gRPC GetContact:    $(ratio "$(field qps "$http_get")" "$(field qps "$grpc_get")")x (target >= 0.8)"
echo "Gateway POST contact / gRPC CreateContact: $(ratio "$(field qps "$http_create")" "$(field qps "$grpc_create")")x (target >= 0.8)"
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
