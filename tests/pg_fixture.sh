#!/usr/bin/env bash
# CTest fixture: starts a throwaway PostgreSQL for the test run, and stops it.
#   pg_fixture.sh setup ENV_FILE     writes the cluster's conninfo ("host=... port=...") to ENV_FILE
#   pg_fixture.sh cleanup ENV_FILE   stops the cluster and removes its folder
# Test suites create their own databases in it (common/testing/pg_test_db.h).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PG="$HERE/../deploy/local/pg.sh"
cmd=${1:?setup|cleanup}
env_file=${2:?ENV_FILE}

case "$cmd" in
  setup)
    if [ -f "$env_file.dir" ]; then "$PG" stop "$(cat "$env_file.dir")" || true; fi
    dir=$(mktemp -d /tmp/crm-test-pg.XXXXXX)
    chmod 755 "$dir"
    "$PG" start "$dir" --fast
    echo "$dir" >"$env_file.dir"
    echo "host=$dir/sock port=$(cat "$dir/port")" >"$env_file"
    ;;
  cleanup)
    if [ -f "$env_file.dir" ]; then
      dir=$(cat "$env_file.dir")
      "$PG" stop "$dir" || true
      rm -rf "$dir" "$env_file.dir" "$env_file"
    fi
    ;;
esac
