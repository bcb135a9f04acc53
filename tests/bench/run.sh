#!/usr/bin/env bash
# `make bench`: each figure next to its baseline, measured in this one run on this machine.
#   tests/bench/run.sh BUILD_DIR
# Starts a durable PostgreSQL (fsync on) and the contacts service, then measures at the same
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
cleanup() {
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

"$BUILD/services/contacts/contacts" --db_url="host=$sock port=$port dbname=crm user=contacts" \
  --jwt_secret="$secret" --db_pool_size=$((CONCURRENCY * 2)) --ready_file="$dir/ready" \
  --log_level=warn >"$dir/contacts.log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do [ -f "$dir/ready" ] && break; sleep 0.1; done
grpc_port=$(sed -n 's/grpc_port=//p' "$dir/ready")

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

events=$("$BUILD/tests/bench/event_latency" --target="127.0.0.1:$grpc_port" \
  --jwt_secret="$secret" --events=1000 --rate=200)
echo "$events"

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
echo
echo "CreateContact / pgbench naive transaction: $(ratio "$(field qps "$create")" "$tps")x (target >= 1.0)"
echo "GetContact / Health.Check:                 $(ratio "$(field qps "$get")" "$(field qps "$health")")x (target >= 0.5)"
echo "Commit -> Subscribe stream p99:            $(field p99_ms "$events") ms (target <= 100 ms, at 200 creates/s)"

if [ "${BENCH_SCALE:-1}" = 1 ]; then
  echo
  "$ROOT/tests/bench/contacts_at_scale.sh" "$BUILD" "$dir/pg" "$grpc_port" "$secret"
fi
