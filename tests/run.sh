#!/usr/bin/env bash
# The whole test suite: C unit tests, API scenario tests on SQLite and (when
# PostgreSQL 15 is installed) on a throwaway PostgreSQL cluster, browser tests,
# then unit and scenario tests again under AddressSanitizer + UBSan, then a short
# libFuzzer run of every fuzz target over its corpus.
# Prints "N passed, N failed" at the end; exits non-zero on any failure.
set -uo pipefail
cd "$(dirname "$0")/.."
PASS=0; FAIL=0
LOG=build/test-logs; mkdir -p "$LOG"

count_node() { # file: reads node:test's summary lines
  local p f
  p=$(grep -E '^# pass ' "$1" | tail -1 | awk '{print $3}'); f=$(grep -E '^# fail ' "$1" | tail -1 | awk '{print $3}')
  PASS=$((PASS + ${p:-0})); FAIL=$((FAIL + ${f:-0}))
  if [ -z "$p" ]; then FAIL=$((FAIL + 1)); echo "   (no summary: the run crashed; see $1)"; fi
}
run_node() { # name, env..., -- files
  local name=$1; shift
  local envs=(); while [ "$1" != "--" ]; do envs+=("$1"); shift; done; shift
  echo "== $name"
  env "${envs[@]}" node --test --test-concurrency=2 --test-reporter=tap "$@" > "$LOG/$name.tap" 2>&1
  grep -E '^not ok|^# (pass|fail)' "$LOG/$name.tap" | sed 's/^/   /'
  count_node "$LOG/$name.tap"
}
run_unit() { # build dir
  local t out
  for t in "$1"/tests/test_*; do
    [ -x "$t" ] || continue
    out=$("$t" 2>&1); local rc=$?
    local p f; p=$(echo "$out" | grep -cE '^\[       OK \]'); f=$(echo "$out" | grep -cE '^\[  FAILED  \] [a-z_]+$|^\[  ERROR   \]')
    PASS=$((PASS + p)); FAIL=$((FAIL + f))
    if [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then FAIL=$((FAIL + 1)); fi
    echo "   $(basename "$t"): $p passed, $f failed"
    [ $rc -eq 0 ] || echo "$out" | tail -20
  done
}

make -s -j2 all || { echo "build failed"; echo "0 passed, 1 failed"; exit 1; }
echo "== unit"
make -s -j2 $(ls tests/unit/test_*.c 2>/dev/null | sed 's#tests/unit/\(.*\)\.c#build/tests/\1#') || { echo "unit build failed"; FAIL=$((FAIL+1)); }
run_unit build

API=(tests/api/*.test.mjs)
run_node api-sqlite CAREWATCH_BIN=build/carewatch -- "${API[@]}"
# crash safety (50 SIGKILLs under load), disk and file faults, slow clients
REL=(tests/reliability/*.test.mjs)
run_node reliability-sqlite CAREWATCH_BIN=build/carewatch -- "${REL[@]}"

PGDIR=""
if [ -x /usr/lib/postgresql/15/bin/initdb ] && [ "${CAREWATCH_SKIP_PG:-0}" != 1 ]; then
  PGDIR=$(mktemp -d /tmp/cw-pg.XXXXXX)
  if eval "$(scripts/pg-cluster.sh start "$PGDIR")"; then
    run_node api-postgresql CAREWATCH_BIN=build/carewatch CAREWATCH_TEST_PG="$CAREWATCH_PG_URI" -- "${API[@]}"
    run_node reliability-postgresql CAREWATCH_BIN=build/carewatch CAREWATCH_TEST_PG="$CAREWATCH_PG_URI" CRASH_KILLS=20 \
      -- "${REL[@]}"
  else
    echo "   PostgreSQL cluster did not start"; FAIL=$((FAIL + 1))
  fi
else
  echo "== api-postgresql skipped (PostgreSQL 15 not installed)"
fi

if [ -x /usr/bin/chromium ] && [ -d node_modules/playwright-core ] && ls tests/browser/*.test.mjs >/dev/null 2>&1; then
  run_node browser CAREWATCH_BIN=build/carewatch -- tests/browser/*.test.mjs
fi

echo "== sanitizers (ASan + UBSan)"
if make -s -j2 sanitize >/dev/null 2>"$LOG/sanitize-build.log"; then
  run_unit build/san
  SAN_ENV=(CAREWATCH_BIN=build/san/carewatch ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1)
  run_node api-sanitized "${SAN_ENV[@]}" -- "${API[@]}"
else
  echo "   sanitizer build failed"; cat "$LOG/sanitize-build.log" | tail -20; FAIL=$((FAIL + 1))
fi

echo "== fuzz (libFuzzer: corpus replay + ${FUZZ_SECONDS:-5}s per target)"
if make -s fuzz-build BUILD=build/fuzz CC=clang CFLAGS="-g -O1 -fsanitize=fuzzer-no-link,address,undefined" \
     LDFLAGS="-fsanitize=address,undefined" >"$LOG/fuzz-build.log" 2>&1; then
  while read -r line; do
    echo "   $line"
    case "$line" in *", 0 crashes") PASS=$((PASS + 1)) ;; *) FAIL=$((FAIL + 1)) ;; esac
  done < <(tests/fuzz/run.sh build/fuzz/fuzz_bin "${FUZZ_SECONDS:-5}")
else
  echo "   fuzz build failed"; tail -20 "$LOG/fuzz-build.log"; FAIL=$((FAIL + 1))
fi

[ -n "$PGDIR" ] && scripts/pg-cluster.sh stop "$PGDIR" >/dev/null 2>&1
echo
echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
