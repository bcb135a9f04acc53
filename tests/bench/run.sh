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
# BEGIN, tenant setting, contact row, its email key, COMMIT - one statement per round trip.
cat >"$dir/create.sql" <<'SQL'
BEGIN;
SELECT set_config('app.tenant', 'pgbench', true);
INSERT INTO contacts.contacts (tenant_id, id, given_name, emails, owner, creator) VALUES ('pgbench', gen_random_uuid(), 'Bench', ARRAY[gen_random_uuid()::text || '@pgbench.example'], 'bench', 'bench') RETURNING id;
INSERT INTO contacts.contact_keys (tenant_id, kind, value, contact_id) SELECT 'pgbench', 'email', emails[1], id FROM contacts.contacts WHERE tenant_id = 'pgbench' ORDER BY create_time DESC LIMIT 0;
COMMIT;
SQL
pgbench_out=$("$PG_BIN/pgbench" -h "$sock" -p "$port" -U contacts -n -c "$CONCURRENCY" \
  -j "$CONCURRENCY" -T "$SECONDS_EACH" -f "$dir/create.sql" crm 2>&1)
tps=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' <<<"$pgbench_out" | head -1)
echo "pgbench naive create transaction: tps=$tps"

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
echo
echo "CreateContact / pgbench naive transaction: $(ratio "$(field qps "$create")" "$tps")x (target >= 1.0)"
echo "GetContact / Health.Check:                 $(ratio "$(field qps "$get")" "$(field qps "$health")")x (target >= 0.5)"
