#!/usr/bin/env bash
# Leak check of the contacts service and the gateway under valgrind memcheck: a throwaway
# PostgreSQL, both processes under valgrind on loopback, a bounded round of HTTP calls (creates,
# list, search, import, and 400/401/409 answers), then SIGTERM, as in production. Prints each
# process's leak summary; exits non-zero on any memcheck error or definitely lost block.
#   tests/valgrind/run.sh [BUILD_DIR]
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=$(cd "${1:-$ROOT/build}" && pwd)
work=$(mktemp -d /tmp/crm-valgrind.XXXXXX)
chmod 755 "$work"
secret="valgrind-secret-0123456789abcdef-0123456789"
cleanup() {
  pkill -TERM -P $$ 2>/dev/null || true
  "$ROOT/deploy/local/pg.sh" stop "$work/pg" || true
  rm -rf "$work/pg"
}
trap cleanup EXIT

"$ROOT/deploy/local/pg.sh" start "$work/pg" --fast
"$ROOT/deploy/local/pg.sh" createdb "$work/pg" crm >/dev/null
db="host=$work/pg/sock port=$(cat "$work/pg/port") dbname=crm user=contacts"
memcheck=(valgrind --leak-check=full --show-leak-kinds=definite,indirect
          --errors-for-leak-kinds=definite --error-exitcode=99)

"${memcheck[@]}" --log-file="$work/contacts.vg" "$BUILD/services/contacts/contacts" \
  --db_url="$db" --jwt_secret="$secret" --grpc_address=127.0.0.1:0 \
  --metrics_address=127.0.0.1:0 --ready_file="$work/contacts.ready" >"$work/contacts.log" 2>&1 &
contacts=$!
for _ in $(seq 1 120); do [ -f "$work/contacts.ready" ] && break; sleep 1; done
port=$(sed -n 's/^grpc_port=//p' "$work/contacts.ready")
"${memcheck[@]}" --log-file="$work/gateway.vg" "$BUILD/services/gateway/gateway" \
  --http_address=127.0.0.1:0 --metrics_address=127.0.0.1:0 --ready_file="$work/gateway.ready" \
  --contacts_address=127.0.0.1:$port --pipeline_address=127.0.0.1:$port \
  --tasks_address=127.0.0.1:$port --reporting_address=127.0.0.1:$port >"$work/gateway.log" 2>&1 &
gateway=$!
for _ in $(seq 1 120); do [ -f "$work/gateway.ready" ] && break; sleep 1; done
base="http://127.0.0.1:$(sed -n 's/^grpc_port=//p' "$work/gateway.ready")"

token=$(python3 - "$secret" <<'PY'
import base64, hashlib, hmac, json, sys, time
enc = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
head = enc(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
body = enc(json.dumps({"sub": "val", "tenant": "vg", "roles": ["admin"],
                       "exp": int(time.time()) + 3600}).encode())
mac = hmac.new(sys.argv[1].encode(), f"{head}.{body}".encode(), hashlib.sha256).digest()
print(f"{head}.{body}.{enc(mac)}")
PY
)
call() { curl -s -o /dev/null -w "%{http_code}" -H "Authorization: Bearer $token" "$@"; }
for i in $(seq 1 50); do
  call -d "{\"givenName\":\"V$i\",\"emails\":[\"v$i@vg.example\"],\"tags\":[\"vg\"]}" "$base/v1/contacts" >/dev/null
done
echo "list $(call "$base/v1/contacts?pageSize=50&filter=tags%3Avg") search $(call "$base/v1/contacts:search?query=V1")" \
     "bad-json $(call -d '{"givenName":' "$base/v1/contacts") no-token $(curl -s -o /dev/null -w "%{http_code}" "$base/v1/contacts")" \
     "duplicate $(call -d '{"givenName":"X","emails":["v1@vg.example"]}' "$base/v1/contacts")" \
     "import $(call -d '{"csv":"email\na@imp.example\n","options":{"importId":"vg-1"}}' "$base/v1/contacts:import")"

status=0
kill -TERM $gateway && wait $gateway || status=$?
kill -TERM $contacts && wait $contacts || status=$?
for name in contacts gateway; do
  echo "$name: $(grep -E 'definitely lost|indirectly lost|ERROR SUMMARY' "$work/$name.vg" | sed 's/==[0-9]*== *//' | tr '\n' ';')"
done
exit $status
