#!/usr/bin/env bash
# Runs CTest with the clock of the whole process tree shifted: the tests, the service binaries they
# start and the PostgreSQL of the run all see the same shifted wall clock (libfaketime, one offset
# for every process, so they agree with each other). Monotonic clocks are left alone: timeouts and
# waits still measure real time.
#
#   shifted_ctest.sh BUILD_DIR all [CTEST_ARGS...]        every date below, one after the other
#   shifted_ctest.sh BUILD_DIR rotating [CTEST_ARGS...]   one date, chosen by today's day of year
#   shifted_ctest.sh BUILD_DIR "YYYY-MM-DD HH:MM:SS" [CTEST_ARGS...]   that UTC time
#
# The dates are the ones calendars get wrong: month ends of 31 days, February of a leap year, both
# daylight-saving changes of America/New_York (started a minute before, so the run crosses them),
# the turn of a year, and a week boundary (Sunday -> Monday).
set -euo pipefail

DATES=(
  "2027-01-31 12:00:00"
  "2028-02-28 12:00:00"
  "2028-02-29 12:00:00"
  "2027-03-31 12:00:00"
  "2027-03-14 06:59:00"  # 02:00 EST -> 03:00 EDT at 07:00 UTC
  "2027-11-07 05:59:00"  # 02:00 EDT -> 01:00 EST at 06:00 UTC
  "2026-12-31 23:59:30"
  "2027-01-03 23:59:30"  # Sunday -> Monday
)

build=${1:?BUILD_DIR}
which=${2:?all|rotating|"YYYY-MM-DD HH:MM:SS"}
shift 2

LIB=/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1
[ -f "$LIB" ] || { echo "libfaketime is missing (make deps installs it)" >&2; exit 1; }
# What libfaketime gets wrong for a whole process tree (see faketime_fixups.cc).
SHIFT=$(cd "$build" && pwd)/tests/dates/libfaketime_fixups.so
[ -f "$SHIFT" ] || { echo "$SHIFT is missing (make build makes it)" >&2; exit 1; }

case "$which" in
  all) chosen=("${DATES[@]}") ;;
  rotating) chosen=("${DATES[$((10#$(date -u +%j) % ${#DATES[@]}))]}") ;;
  *) chosen=("$which") ;;
esac

cd "$build"
failed=()
for when in "${chosen[@]}"; do
  target=$(date -u -d "$when UTC" +%s)
  offset=$((target - $(date -u +%s)))
  echo "== tests with the clock at $when UTC (offset ${offset}s)"
  if ! LD_PRELOAD="$SHIFT $LIB" FAKETIME="$(printf '%+d' "$offset")" FAKETIME_DONT_FAKE_MONOTONIC=1 \
      CRM_SHIFTED_CLOCK="$when" ctest --output-on-failure "$@"; then
    failed+=("$when")
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "failed with the clock at: ${failed[*]}" >&2
  exit 1
fi
