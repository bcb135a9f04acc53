#!/usr/bin/env bash
# Part of `make bench`: CSV import throughput, ListContacts before and after statistics, and
# search latency at 1,000,000 contacts.
#   contacts_at_scale.sh BUILD_DIR PG_STATE_DIR GRPC_PORT SECRET
# Runs after run.sh's throughput figures, against the same PostgreSQL and service.
set -euo pipefail
BUILD=$1; PGDIR=$2; PORT=$3; SECRET=$4
PSQL="/usr/lib/postgresql/15/bin/psql -X -q -v ON_ERROR_STOP=1 -h $PGDIR/sock -p $(cat "$PGDIR/port") -U postgres -d crm"
PSQL_CONTACTS="/usr/lib/postgresql/15/bin/psql -X -q -v ON_ERROR_STOP=1 -h $PGDIR/sock -p $(cat "$PGDIR/port") -U contacts -d crm"
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

# PostgreSQL's own ceiling for the same work, as the contacts role with row-level security on:
# COPY the file into a staging table, then set-based dedup (first row per folded email wins,
# emails already held in the tenant skipped), the contacts with their search text, their email and
# phone keys, and one outbox event each of the service's payload size, in one transaction.
cat >"$work/ceiling.sql" <<SQL
BEGIN;
SELECT set_config('app.tenant', '$TENANT-copy', true);
CREATE TEMP TABLE staging (line bigserial, given text, family text, email text, phone text,
                           source text) ON COMMIT DROP;
\copy staging (given, family, email, phone, source) FROM '$work/leads.csv' WITH (FORMAT csv, HEADER true)
CREATE TEMP TABLE fresh ON COMMIT DROP AS
  SELECT DISTINCT ON (lower(trim(email))) gen_random_uuid() AS id, trim(given) AS given,
         trim(family) AS family, trim(email) AS email, lower(trim(email)) AS email_key,
         '+' || regexp_replace(phone, '[^0-9]', '', 'g') AS phone
  FROM staging s
  WHERE NOT EXISTS (SELECT 1 FROM contacts.contact_keys k WHERE k.tenant_id = '$TENANT-copy'
                    AND k.kind = 'email' AND k.value = lower(trim(s.email)))
  ORDER BY lower(trim(email)), line;
INSERT INTO contacts.contacts (tenant_id, id, given_name, family_name, emails, phones, owner,
                               creator, lead_source, search_text)
SELECT '$TENANT-copy', id, given, family, ARRAY[email], ARRAY[phone], 'bench', 'bench',
       'paid_ads', concat_ws(' ', given, family, email, phone) FROM fresh;
INSERT INTO contacts.contact_keys (tenant_id, kind, value, contact_id)
SELECT '$TENANT-copy', 'email', email_key, id FROM fresh
UNION ALL SELECT '$TENANT-copy', 'phone', phone, id FROM fresh ON CONFLICT DO NOTHING;
INSERT INTO contacts.outbox (position, event_id, tenant_id, aggregate_type, aggregate_id,
                             event_type, actor, occurred_at, payload)
SELECT (pg_current_xact_id()::text::bigint << 20) + row_number() OVER (), gen_random_uuid(),
       '$TENANT-copy', 'crm.contacts.v1.Contact', 'contacts/' || id,
       'crm.contacts.v1.ContactCreated', 'bench', now(), decode(repeat('ab', 200), 'hex')
FROM fresh;
COMMIT;
SQL
start=$(date +%s.%N)
$PSQL_CONTACTS -f "$work/ceiling.sql" >/dev/null
end=$(date +%s.%N)
ceiling=$(awk -v r="$ROWS" -v s="$start" -v e="$end" 'BEGIN { printf "%.0f", r / (e - s) }')
echo "method=copy_ceiling rows=$ROWS rows_per_s=$ceiling ($($PSQL -tA -c "SELECT count(*) FROM contacts.contacts WHERE tenant_id = '$TENANT-copy'") created)"
echo "CSV import with dedup, $ROWS rows: $rate rows/s (target >= 20000); PostgreSQL's ceiling (COPY + set-based dedup): $ceiling rows/s"

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
