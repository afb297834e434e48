#!/usr/bin/env bash
# Replays each fuzz target's corpus, then fuzzes it for SECONDS. The corpus in
# the repository is only read; inputs found now go to build/fuzz/found/TARGET.
# Prints one line per target: "fuzz TARGET: N runs, 0 crashes" (exit 1 on a crash).
set -uo pipefail
cd "$(dirname "$0")/../.."
bins=${1:-build/fuzz/fuzz_bin}; secs=${2:-10}; rc=0
for bin in "$bins"/fuzz_*; do
  t=$(basename "$bin"); name=${t#fuzz_}
  found=build/fuzz/found/$name; mkdir -p "$found"
  log=build/fuzz/$name.log
  if ! "$bin" -runs=0 "tests/fuzz/corpus/$name" >"$log" 2>&1; then
    echo "fuzz $name: corpus replay FAILED (see $log)"; rc=1; continue
  fi
  if "$bin" -max_total_time="$secs" -print_final_stats=1 -artifact_prefix="build/fuzz/crash-$name-" \
      "$found" "tests/fuzz/corpus/$name" >"$log" 2>&1; then
    runs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$')
    echo "fuzz $name: ${runs:-?} runs in ${secs}s, 0 crashes"
  else
    echo "fuzz $name: CRASH (see $log and build/fuzz/crash-$name-*)"; rc=1
  fi
done
exit $rc
