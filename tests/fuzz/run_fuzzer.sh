#!/usr/bin/env bash
# Runs one fuzz target: replays its committed seeds and regressions (tests/fuzz/corpus/<name>,
# tests/fuzz/regressions/<name>), then fuzzes for SECONDS, adding what it finds to WORK/<name>
# (never to the committed corpus). Exits non-zero on any crash, leak, timeout or broken invariant;
# the reproducer is left in WORK/crashes. Prints one summary line "fuzz <name> runs=N seconds=S".
set -euo pipefail
binary=$1 seconds=$2 source_dir=$3 work=$4
name=$(basename "$binary")
mkdir -p "$work/$name" "$work/crashes"
seeds=()
for dir in "$source_dir/corpus/$name" "$source_dir/regressions/$name"; do
  [ -d "$dir" ] && seeds+=("$dir")
done
log="$work/$name.log"
set +e
# Container-overflow checks need every library instrumented; Debian's are not.
ASAN_OPTIONS=detect_container_overflow=0:detect_leaks=1 \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  "$binary" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
  -print_final_stats=1 -artifact_prefix="$work/crashes/$name-" "$work/$name" "${seeds[@]}" \
  >"$log" 2>&1
status=$?
set -e
runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
echo "fuzz $name runs=${runs:-0} seconds=$seconds exit=$status"
if [ $status -ne 0 ]; then
  tail -60 "$log"
  exit 1
fi
