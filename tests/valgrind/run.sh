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
echo "logs and valgrind reports in $work"
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
          --errors-for-leak-kinds=definite,indirect --error-exitcode=99)

# Waits for a process's ready file; fails with its log if the process dies first.
await_ready() {
  local pid=$1 file=$2 name=$3
  for _ in $(seq 1 120); do
    [ -f "$file" ] && return 0
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "$name exited before it was ready:" >&2
      tail -20 "$work/$name.log" "$work/$name.vg" >&2 || true
      exit 1
    fi
    sleep 1
  done
  echo "$name not ready after 120 s" >&2
  exit 1
}

"${memcheck[@]}" --log-file="$work/contacts.vg" "$BUILD/services/contacts/contacts" \
  --db_url="$db" --jwt_secret="$secret" --service_secret="valgrind-service-0123456789abcdef-01" \
  --grpc_address=127.0.0.1:0 \
  --metrics_address=127.0.0.1:0 --ready_file="$work/contacts.ready" >"$work/contacts.log" 2>&1 &
contacts=$!
await_ready $contacts "$work/contacts.ready" contacts
port=$(sed -n 's/^grpc_port=//p' "$work/contacts.ready")
"${memcheck[@]}" --log-file="$work/gateway.vg" "$BUILD/services/gateway/gateway" \
  --http_address=127.0.0.1:0 --jwt_secret="$secret" --ready_file="$work/gateway.ready" \
  --contacts_address=127.0.0.1:$port --pipeline_address=127.0.0.1:$port \
  --tasks_address=127.0.0.1:$port --reporting_address=127.0.0.1:$port >"$work/gateway.log" 2>&1 &
gateway=$!
await_ready $gateway "$work/gateway.ready" gateway
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
# Each call must answer as expected, or the leak report would be about a process that did nothing.
status=0
expect() {
  local want=$1 what=$2
  shift 2
  local got
  got=$(curl -s --max-time 60 -o /dev/null -w "%{http_code}" "$@" || true)
  if [ "$got" != "$want" ]; then
    echo "$what: HTTP $got, expected $want" >&2
    status=1
  fi
}
auth=(-H "Authorization: Bearer $token")
for i in $(seq 1 50); do
  expect 200 "create $i" "${auth[@]}" \
    -d "{\"givenName\":\"V$i\",\"emails\":[\"v$i@vg.example\"],\"tags\":[\"vg\"]}" "$base/v1/contacts"
done
expect 200 list "${auth[@]}" "$base/v1/contacts?pageSize=50&filter=tags%3Avg"
expect 200 search "${auth[@]}" "$base/v1/contacts:search?query=V1"
expect 400 "malformed JSON" "${auth[@]}" -d '{"givenName":' "$base/v1/contacts"
expect 401 "no token" "$base/v1/contacts"
expect 409 duplicate "${auth[@]}" -d '{"givenName":"X","emails":["v1@vg.example"]}' "$base/v1/contacts"
expect 200 import "${auth[@]}" -d '{"csv":"email\na@imp.example\n","options":{"importId":"vg-1"}}' \
  "$base/v1/contacts:import"
echo "56 calls made"

kill -TERM $gateway && wait $gateway || status=$?
kill -TERM $contacts && wait $contacts || status=$?
for name in contacts gateway; do
  echo "$name: $(grep -E 'definitely lost|indirectly lost|ERROR SUMMARY' "$work/$name.vg" | sed 's/==[0-9]*== *//' | tr '\n' ';')"
done
exit $status
