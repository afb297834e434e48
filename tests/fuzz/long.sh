#!/usr/bin/env bash
# The long fuzzing run reported in docs/reliability.md: every libFuzzer target
# for SECONDS (default 600) in turn, starting from the repository's corpus;
# new inputs and any crash go to build/fuzz-long/. Prints one line per target
# with its exec count. Usage: make fuzz-long [FUZZ_LONG_SECONDS=600]
set -uo pipefail
cd "$(dirname "$0")/../.."
secs=${1:-600}; bins=build/fuzz-long/bin; rc=0
make -s fuzz-build BUILD=build/fuzz CC=clang CFLAGS="-g -O1 -fsanitize=fuzzer-no-link,address,undefined" \
  LDFLAGS="-fsanitize=address,undefined" || exit 1
mkdir -p "$bins" && cp build/fuzz/fuzz_bin/fuzz_* "$bins"/  # a rebuild during the run does not disturb it
for bin in "$bins"/fuzz_*; do
  name=$(basename "$bin"); name=${name#fuzz_}
  out=build/fuzz-long/$name; mkdir -p "$out"; log=build/fuzz-long/$name.log
  if "$bin" -max_total_time="$secs" -print_final_stats=1 -artifact_prefix="build/fuzz-long/crash-$name-" \
      "$out" "tests/fuzz/corpus/$name" >"$log" 2>&1; then
    runs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$')
    cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -1)
    echo "fuzz $name: ${runs:-?} runs in ${secs}s, ${cov:-cov ?}, 0 crashes, corpus $(ls "$out" | wc -l) new inputs"
  else
    echo "fuzz $name: CRASH (see $log)"; rc=1
  fi
done
exit $rc
