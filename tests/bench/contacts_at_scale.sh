#!/usr/bin/env bash
# Part of `make bench`: CSV import throughput, ListContacts before and after statistics, and
# search latency at 1,000,000 contacts.
#   contacts_at_scale.sh BUILD_DIR PG_STATE_DIR GRPC_PORT SECRET
# Runs after run.sh's throughput figures, against the same PostgreSQL and service.
set -euo pipefail
BUILD=$1; PGDIR=$2; PORT=$3; SECRET=$4
PSQL="/usr/lib/postgresql/15/bin/psql -X -q -v ON_ERROR_STOP=1 -h $PGDIR/sock -p $(cat "$PGDIR/port") -U postgres -d crm"
CTL="$BUILD/services/crmctl/crmctl --contacts_addr=127.0.0.1:$PORT --timeout_seconds=600"
TENANT=bench-scale
ROWS=${BENCH_IMPORT_ROWS:-100000}
SCALE=${BENCH_SEARCH_CONTACTS:-1000000}
work=$(mktemp -d /tmp/crm-scale.XXXXXX)
trap 'rm -rf "$work"' EXIT
export CRM_TOKEN=$("$BUILD/services/crmctl/crmctl" token --jwt_secret="$SECRET" --tenant "$TENANT" \
  --user bench --roles manager)

# 1. Import: ROWS rows, one in ten repeating an earlier person with a differently cased email.
awk -v n="$ROWS" 'BEGIN {
  print "First Name,Last Name,Email,Phone,Source";
  for (i = 0; i < n; i++) {
    p = (i % 10 == 9) ? i - 9 : i;
    e = (i % 10 == 9) ? "Lead" p "@Import.Example" : "lead" p "@import.example";
    printf "Name%d,Family%d,%s,+1 202 %03d %04d,paid ads\n", p, p, e, (p / 10000) % 1000 + 200, p % 10000;
  }
}' >"$work/leads.csv"
# Statistics come when this script says (the list figures below compare before and after).
$PSQL -c "ALTER TABLE contacts.contacts SET (autovacuum_enabled = off)"
start=$(date +%s.%N)
$CTL contacts import "$work/leads.csv" --import_id="bench-$(date +%s)" >"$work/import.out"
end=$(date +%s.%N)
rate=$(awk -v r="$ROWS" -v s="$start" -v e="$end" 'BEGIN { printf "%.0f", r / (e - s) }')
echo "method=import rows=$ROWS seconds=$(awk -v s="$start" -v e="$end" 'BEGIN { printf "%.1f", e - s }') rows_per_s=$rate ($(head -1 "$work/import.out"))"

# 2. The first page of ListContacts right after the import, before any ANALYZE has seen this
# tenant, then analysed: the plan must not depend on the statistics.
list_load() {
  "$BUILD/tests/bench/loadgen" --target="127.0.0.1:$PORT" --jwt_secret="$SECRET" \
    --tenant="$TENANT" --method=list_contacts --concurrency=8 --seconds=10
}
list_fresh=$(list_load)
echo "ListContacts (20 a page) right after the import, not analysed: $list_fresh"
$PSQL -c "ANALYZE contacts.contacts" -c "ALTER TABLE contacts.contacts RESET (autovacuum_enabled)"
list_analysed=$(list_load)
echo "ListContacts (20 a page) analysed: $list_analysed"
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<" $2"; }
echo "ListContacts after a bulk import / analysed: $(awk -v a="$(field qps "$list_fresh")" \
  -v b="$(field qps "$list_analysed")" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')x (target >= 0.5)"

# 3. Search at SCALE contacts: bulk-load the rest with SQL (as the data would be after imports),
# then measure SearchContacts latency through the service.
existing=$($PSQL -tA -c "SELECT count(*) FROM contacts.contacts WHERE tenant_id = '$TENANT'")
$PSQL <<SQL
SET app.tenant = '$TENANT';
INSERT INTO contacts.contacts (tenant_id, id, given_name, family_name, emails, owner, creator,
                               search_text)
SELECT '$TENANT', gen_random_uuid(), g, f, ARRAY[lower(g || '.' || f || i || '@scale.example')],
       'bench', 'bench', concat_ws(' ', g, f, lower(g || '.' || f || i || '@scale.example'))
FROM generate_series($existing + 1, $SCALE) i,
     LATERAL (SELECT (ARRAY['Anna','Boris','Carla','Dana','Eve','Gor','Lilit','Aram','Mariam',
                            'Tigran','John','Maria','Wei','Fatima','Olga'])[1 + i % 15] AS g,
                     (ARRAY['Petrosyan','Ivanov','Garcia','Smith','Lee','Müller','Hakobyan',
                            'Sargsyan','Chen','Kowalski','Nguyen','Rossi'])[1 + (i / 15) % 12]
                       || (i % 997)::text AS f) names;
ANALYZE contacts.contacts;
SQL
echo "contacts in tenant: $($PSQL -tA -c "SELECT count(*) FROM contacts.contacts WHERE tenant_id = '$TENANT'")"
for c in 1 4; do
  "$BUILD/tests/bench/loadgen" --target="127.0.0.1:$PORT" --jwt_secret="$SECRET" \
    --tenant="$TENANT" --method=search_contacts --concurrency=$c --seconds=10 \
    --queries="petrosian,hakobyan12,tigran sargsyan,lilit,garcia55,mariam.chen,ivanov9,wei"
done
