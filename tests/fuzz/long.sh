#!/usr/bin/env bash
# The long fuzzing run reported in docs/reliability.md: every libFuzzer target
# in turn, starting from the repository's corpus, until it has executed RUNS
# inputs (default 10,000,000) or SECONDS have passed (default 3600, a cap that a
# target on an idle 2-core machine does not reach); new inputs and any crash go
# to build/fuzz-long/. Prints one line per target with its exec count, and
# exits 1 on a crash or when a target stopped short of RUNS.
# Usage: make fuzz-long [FUZZ_LONG_RUNS=10000000] [FUZZ_LONG_SECONDS=3600]
#
# ASan keeps no allocation stacks here (malloc_context_size=0): the template
# target spends most of its time allocating jansson's nodes, and recording a
# stack for each made it ~40 % slower. A crash still reports where it happened;
# rerun its input with the default options for the allocation's stack.
set -uo pipefail
cd "$(dirname "$0")/../.."
secs=${1:-3600}; want=${2:-10000000}; bins=build/fuzz-long/bin; rc=0
export ASAN_OPTIONS=${ASAN_OPTIONS:-malloc_context_size=0}
make -s fuzz-build BUILD=build/fuzz CC=clang CFLAGS="-g -O1 -fsanitize=fuzzer-no-link,address,undefined" \
  LDFLAGS="-fsanitize=address,undefined" || exit 1
mkdir -p "$bins" && cp build/fuzz/fuzz_bin/fuzz_* "$bins"/  # a rebuild during the run does not disturb it
for bin in "$bins"/fuzz_*; do
  name=$(basename "$bin"); name=${name#fuzz_}
  out=build/fuzz-long/$name; mkdir -p "$out"; log=build/fuzz-long/$name.log
  start=$(date +%s)
  if "$bin" -runs="$want" -max_total_time="$secs" -print_final_stats=1 -artifact_prefix="build/fuzz-long/crash-$name-" \
      "$out" "tests/fuzz/corpus/$name" >"$log" 2>&1; then
    took=$(( $(date +%s) - start ))
    runs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$')
    cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -1)
    verdict="reached $want"; [ "${runs:-0}" -ge "$want" ] || { verdict="SHORT of $want"; rc=1; }
    echo "fuzz $name: ${runs:-?} runs in ${took}s ($verdict), ${cov:-cov ?}, 0 crashes, corpus $(ls "$out" | wc -l) new inputs"
  else
    echo "fuzz $name: CRASH (see $log)"; rc=1
  fi
done
exit $rc
