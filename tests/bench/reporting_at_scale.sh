#!/usr/bin/env bash
# Reporting at scale, called by run.sh with its durable PostgreSQL and services:
#   reporting_at_scale.sh BUILD_DIR PG_DIR CONTACTS_PORT PIPELINE_PORT SECRET
# Loads 1,000,000 deals and 5,000,000 activities into the reporting read models (and their
# rollups, built the way a rebuild builds them), then prints the yearly-by-month-by-rep report's
# latency through the service next to a naive GROUP BY over the raw facts as the same role, and
# the lag from a pipeline commit to the report reflecting it.
set -euo pipefail
BUILD=$1
PG_DIR=$2
CONTACTS_PORT=$3
PIPELINE_PORT=$4
SECRET=$5
PG_BIN=/usr/lib/postgresql/15/bin
sock="$PG_DIR/sock"
port=$(cat "$PG_DIR/port")
DEALS=${BENCH_DEALS:-1000000}
ACTIVITIES=${BENCH_ACTIVITIES:-5000000}
work=$(mktemp -d /tmp/crm-report-bench.XXXXXX)
reporting_pid=""
cleanup() {
  [ -n "$reporting_pid" ] && kill -TERM "$reporting_pid" 2>/dev/null && wait "$reporting_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

"$BUILD/services/reporting/reporting" --db_url="host=$sock port=$port dbname=crm user=reporting" \
  --jwt_secret="$SECRET" --ready_file="$work/ready" --log_level=warn \
  --contacts_address="127.0.0.1:$CONTACTS_PORT" --pipeline_address="127.0.0.1:$PIPELINE_PORT" \
  --tasks_address= >"$work/reporting.log" 2>&1 &
reporting_pid=$!
for _ in $(seq 1 100); do [ -f "$work/ready" ] && break; sleep 0.1; done
reporting_port=$(sed -n 's/grpc_port=//p' "$work/ready")

psql_su() { "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$sock" -p "$port" -U postgres -d crm "$@"; }
start=$(date +%s.%N)
psql_su <<SQL
DELETE FROM reporting.deals WHERE tenant_id = 'bench-scale';
DELETE FROM reporting.closed_deals_daily WHERE tenant_id = 'bench-scale';
DELETE FROM reporting.activities WHERE tenant_id = 'bench-scale';
DELETE FROM reporting.activities_daily WHERE tenant_id = 'bench-scale';
INSERT INTO reporting.tenant_settings VALUES ('bench-scale', 'UTC', 1) ON CONFLICT DO NOTHING;
-- Two years of deals over 20 reps: a third won, a third lost, a third open.
INSERT INTO reporting.deals (tenant_id, deal_id, version, owner, amount_minor, currency_code,
  probability_percent, lead_source, expected_close_date, create_time, close_time, outcome)
SELECT 'bench-scale', gen_random_uuid(), 1, 'rep' || (i % 20), 1000 + (i::bigint * 7919) % 500000,
  CASE WHEN i % 5 = 0 THEN 'EUR' ELSE 'USD' END, 50,
  (ARRAY['paid_ads', 'referral', 'website', 'event'])[1 + i % 4], date '2025-01-01' + (i % 730),
  timestamptz '2025-01-01 00:00Z' + (i % 730) * interval '1 day',
  CASE WHEN i % 3 = 2 THEN NULL ELSE timestamptz '2025-01-01 00:00Z' + (i % 730) * interval '1 day'
    + (i % 40) * interval '1 day' + (i % 86400) * interval '1 second' END,
  CASE i % 3 WHEN 0 THEN 'won' WHEN 1 THEN 'lost' ELSE 'open' END
FROM generate_series(1, $DEALS) i;
INSERT INTO reporting.closed_deals_daily (tenant_id, day, owner, currency_code, lead_source,
  outcome, deals, amount_minor, cycle_seconds)
SELECT tenant_id, (close_time AT TIME ZONE 'UTC')::date, owner, currency_code, lead_source,
  outcome, count(*), sum(amount_minor),
  sum(floor(extract(epoch FROM close_time - create_time))::bigint)
FROM reporting.deals WHERE tenant_id = 'bench-scale' AND close_time IS NOT NULL
GROUP BY 1, 2, 3, 4, 5, 6;
INSERT INTO reporting.activities (tenant_id, activity_id, kind, author, occur_time)
SELECT 'bench-scale', gen_random_uuid(), (ARRAY['call', 'email', 'meeting', 'note'])[1 + i % 4],
  'rep' || (i % 20), timestamptz '2025-01-01 00:00Z' + (i::bigint * 730 * 86400 / $ACTIVITIES) * interval '1 second'
FROM generate_series(1, $ACTIVITIES) i;
INSERT INTO reporting.activities_daily (tenant_id, day, author, kind, activities)
SELECT tenant_id, (occur_time AT TIME ZONE 'UTC')::date, author, kind, count(*)
FROM reporting.activities WHERE tenant_id = 'bench-scale' GROUP BY 1, 2, 3, 4;
ANALYZE reporting.deals; ANALYZE reporting.closed_deals_daily;
ANALYZE reporting.activities; ANALYZE reporting.activities_daily;
SQL
echo "loaded $DEALS deals and $ACTIVITIES activities in $(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.0f", e - s }') s"

bench() {
  "$BUILD/tests/bench/report_bench" --reporting="127.0.0.1:$reporting_port" --jwt_secret="$SECRET" "$@"
}
# The same figures by a naive GROUP BY over the raw facts, as the reporting role (RLS on).
naive() {
  cat >"$work/naive.sql"
  "$PG_BIN/pgbench" -h "$sock" -p "$port" -U reporting -n -t 5 -f "$work/naive.sql" crm 2>&1 |
    sed -n 's/^latency average = \([0-9.]*\) ms/\1/p'
}
won=$(bench --mode=latency --kind=won_lost --runs=50)
echo "$won"
won_naive=$(naive <<'SQL'
SELECT set_config('app.tenant', 'bench-scale', false);
SELECT date_trunc('month', close_time AT TIME ZONE 'UTC')::date, owner, currency_code,
  count(*) FILTER (WHERE outcome = 'won'), sum(amount_minor) FILTER (WHERE outcome = 'won'),
  count(*) FILTER (WHERE outcome = 'lost'), sum(amount_minor) FILTER (WHERE outcome = 'lost'),
  sum(floor(extract(epoch FROM close_time - create_time))) FILTER (WHERE outcome = 'won')
FROM reporting.deals WHERE tenant_id = 'bench-scale' AND NOT deleted
  AND close_time >= '2026-01-01 00:00Z' AND close_time < '2027-01-01 00:00Z'
  AND outcome IN ('won', 'lost') GROUP BY 1, 2, 3;
SQL
)
echo "naive GROUP BY over 1M deals (won/lost, 2026 by month x rep): latency_ms=$won_naive"
acts=$(bench --mode=latency --kind=activities_by_rep --runs=50)
echo "$acts"
acts_naive=$(naive <<'SQL'
SELECT set_config('app.tenant', 'bench-scale', false);
SELECT date_trunc('month', occur_time AT TIME ZONE 'UTC')::date, author,
  count(*) FILTER (WHERE kind = 'call'), count(*) FILTER (WHERE kind = 'email'),
  count(*) FILTER (WHERE kind = 'meeting'), count(*) FILTER (WHERE kind = 'note')
FROM reporting.activities WHERE tenant_id = 'bench-scale'
  AND occur_time >= '2026-01-01 00:00Z' AND occur_time < '2027-01-01 00:00Z' GROUP BY 1, 2;
SQL
)
echo "naive GROUP BY over 5M activities (2026 by month x rep): latency_ms=$acts_naive"
lag=$("$BUILD/tests/bench/report_bench" --mode=lag --reporting="127.0.0.1:$reporting_port" \
  --pipeline="127.0.0.1:$PIPELINE_PORT" --jwt_secret="$SECRET" --tenant=bench-lag --runs=200) || true
echo "$lag"

field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$2"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1f", a / b; else print "n/a" }'; }
echo
echo "Yearly won/lost by month x rep, 1M deals: p50 $(field p50_ms "$won") ms vs naive $won_naive ms: $(ratio "$won_naive" "$(field p50_ms "$won")")x faster (target >= 50x, p50 <= 10 ms)"
echo "Yearly activities by month x rep, 5M activities: p50 $(field p50_ms "$acts") ms vs naive $acts_naive ms: $(ratio "$acts_naive" "$(field p50_ms "$acts")")x faster"
echo "Pipeline commit -> report reflects it: p50 $(field p50_ms "$lag") ms, p99 $(field p99_ms "$lag") ms (target p99 <= 1 s)"
