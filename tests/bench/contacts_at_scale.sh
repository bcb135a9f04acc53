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

# 4. Custom fields at SCALE contacts: the 20 fields of create_contact_fields plus a unique text
# "external_id", defined through the API; every contact gets values for all of them (bulk SQL,
# the stored form the service writes: proto3 JSON in the jsonb column) and its external id's
# claim. Then a selective filter on the unique field through the service, side by side with
# pgbench running the same SQL as the same role, and one run of the same kind of filter on a
# field with no index behind it (a scan of every contact's jsonb), to show why unique fields
# are answered from the claims.
"$BUILD/tests/bench/loadgen" --target="127.0.0.1:$PORT" --jwt_secret="$SECRET" \
  --tenant="$TENANT" --method=define_fields
start=$(date +%s.%N)
$PSQL <<SQL
SET app.tenant = '$TENANT';
CREATE TEMP TABLE numbered AS
  SELECT id, row_number() OVER (ORDER BY id) AS n FROM contacts.contacts WHERE tenant_id = '$TENANT';
-- Field k's value for contact n, as loadgen's BenchFieldValue makes it (types repeat every 10).
CREATE FUNCTION pg_temp.bench_value(k int, n bigint) RETURNS jsonb LANGUAGE sql IMMUTABLE AS \$\$
  SELECT CASE (k - 1) % 10
    WHEN 1 THEN jsonb_build_object('number', (n % 100000) || '.25')
    WHEN 2 THEN jsonb_build_object('option', CASE WHEN n % 2 = 0 THEN 'gold' ELSE 'silver' END)
    WHEN 3 THEN jsonb_build_object('boolean', n % 2 = 0)
    WHEN 4 THEN jsonb_build_object('date', '2026-03-14')
    WHEN 5 THEN jsonb_build_object('email', 'billing' || n || '@bench.example')
    WHEN 6 THEN jsonb_build_object('url', 'https://bench.example/accounts/' || n)
    WHEN 7 THEN jsonb_build_object('percent', '12.5')
    WHEN 9 THEN jsonb_build_object('options', jsonb_build_object('ids', jsonb_build_array('gold', 'silver')))
    ELSE jsonb_build_object('text', 'Value ' || n || ' of field ' || k) END
\$\$;
UPDATE contacts.contacts c SET custom_fields =
  (SELECT jsonb_object_agg('f' || k, pg_temp.bench_value(k, m.n)) FROM generate_series(1, 20) k)
  || jsonb_build_object('external_id', jsonb_build_object('text', 'ext-' || m.n))
FROM numbered m WHERE c.tenant_id = '$TENANT' AND c.id = m.id;
INSERT INTO contacts.custom_field_unique (tenant_id, object_type, key, value, record)
SELECT '$TENANT', 'contact', 'external_id', 'ext-' || n, 'contacts/' || id FROM numbered;
VACUUM ANALYZE contacts.contacts;
ANALYZE contacts.custom_field_unique;
SQL
end=$(date +%s.%N)
echo "custom field values for $SCALE contacts (21 each) written in $(awk -v s="$start" -v e="$end" 'BEGIN { printf "%.0f", e - s }') s; contacts table $($PSQL -tA -c "SELECT pg_size_pretty(pg_total_relation_size('contacts.contacts'))")"

# The statement the service sends for `custom_fields.external_id = "ext-N"` (ListLiveSql with
# the compiled filter), in the transaction it runs in.
cat >"$work/filter.sql" <<SQL
\set n random(1, $SCALE)
BEGIN;
SELECT set_config('app.tenant', '$TENANT', true);
SELECT id, given_name, family_name, emails, phones, company_id, job_title, owner, creator,
       lifecycle_stage, lead_source, campaign, tags, attributes, version,
       (extract(epoch FROM create_time) * 1000000)::bigint,
       (extract(epoch FROM update_time) * 1000000)::bigint,
       (extract(epoch FROM last_contacted_time) * 1000000)::bigint, last_contacted_by, merged_into,
       custom_fields
FROM contacts.contacts WHERE tenant_id = '$TENANT' AND delete_time IS NULL
  AND (NULL::uuid IS NULL OR id > NULL::uuid)
  AND (((custom_fields -> 'external_id' ->> 'text') = 'ext-' || :n) AND id = ANY(ARRAY(
    SELECT split_part(u.record, '/', 2)::uuid FROM contacts.custom_field_unique u
    WHERE u.tenant_id = current_setting('app.tenant', true) AND u.object_type = 'contact'
      AND u.key = 'external_id' AND u.value = 'ext-' || :n)))
ORDER BY id LIMIT 21;
COMMIT;
SQL
filter_load() { # FILTER
  "$BUILD/tests/bench/loadgen" --target="127.0.0.1:$PORT" --jwt_secret="$SECRET" \
    --tenant="$TENANT" --method=filter_contacts --concurrency=8 --seconds=10 \
    --filter="$1" --filter_range="$SCALE"
}
unique_filter=$(filter_load 'custom_fields.external_id = "ext-{n}"')
echo "ListContacts filter custom_fields.external_id = \"ext-N\" (unique), 8 in flight: $unique_filter"
combined=$(filter_load 'custom_fields.external_id = "ext-{n}" AND (custom_fields.f3 = gold OR custom_fields.f3 = silver)')
echo "  the same AND a select field (either option): $combined"
pgbench_filter=$(/usr/lib/postgresql/15/bin/pgbench -h "$PGDIR/sock" -p "$(cat "$PGDIR/port")" \
  -U contacts -n -M prepared -c 8 -j 8 -T 10 -r -f "$work/filter.sql" crm 2>&1)
pg_tps=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' <<<"$pgbench_filter" | head -1)
pg_latency=$(sed -n 's/^latency average = \([0-9.]*\) ms/\1/p' <<<"$pgbench_filter" | head -1)
echo "pgbench, the same SQL, 8 clients: tps=$pg_tps latency_avg_ms=$pg_latency"
echo "Selective filter on a unique custom field at $SCALE contacts: p99 $(field p99_ms "$unique_filter") ms (target <= 50), $(awk -v a="$(field qps "$unique_filter")" -v b="$pg_tps" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')x the same SQL in pgbench"
plan=$($PSQL -tA <<SQL
SET app.tenant = '$TENANT';
SET ROLE contacts;
EXPLAIN (COSTS OFF) SELECT id FROM contacts.contacts WHERE tenant_id = '$TENANT'
  AND delete_time IS NULL AND (custom_fields -> 'external_id' ->> 'text') = 'ext-7'
  AND id = ANY(ARRAY(SELECT split_part(u.record, '/', 2)::uuid FROM contacts.custom_field_unique u
    WHERE u.tenant_id = current_setting('app.tenant', true) AND u.object_type = 'contact'
      AND u.key = 'external_id' AND u.value = 'ext-7')) ORDER BY id LIMIT 21;
SQL
)
echo "  plan: $(grep -o 'Index[A-Za-z ]* Scan using [a-z_]*' <<<"$plan" | paste -sd';')"
scan=$($PSQL -tA <<SQL
SET app.tenant = '$TENANT';
SET ROLE contacts;
EXPLAIN (ANALYZE, TIMING OFF) SELECT id FROM contacts.contacts WHERE tenant_id = '$TENANT'
  AND delete_time IS NULL AND (custom_fields -> 'f1' ->> 'text') = 'Value 7 of field 1'
  ORDER BY id LIMIT 21;
SQL
)
echo "  the same kind of filter on a text field with no index (custom_fields.f1 = \"Value 7 of field 1\"): $(sed -n 's/.*Execution Time: \([0-9.]*\) ms/\1/p' <<<"$scan") ms for one query (a scan)"
