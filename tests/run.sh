#!/usr/bin/env bash
# run.sh - the whole suite: unit tests (cmocka), integration tests (Python,
# real daemon and real peers), the browser test.  Prints one line per suite
# and ends with the total: "N passed, M failed".
set -u
cd "$(dirname "$0")/.."
mkdir -p tests/out
total_pass=0
total_fail=0
suites_failed=()

# Adds up one suite's counts from its output; a suite that ends without a
# summary (crash, timeout) counts as one failure.
account() {
  local name=$1 rc=$2 log=$3 p f
  p=$(grep -E '^\[  PASSED  \] [0-9]+ test' "$log" | awk '{s+=$4} END {print s+0}')
  f=$(grep -E '^\[  FAILED  \] [0-9]+ test' "$log" | awk '{s+=$4} END {print s+0}')
  if grep -qE '^[0-9]+ passed, [0-9]+ failed' "$log"; then
    p=$((p + $(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -1 | awk '{print $1}')))
    f=$((f + $(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -1 | awk '{print $3}')))
  fi
  if [ "$rc" != 0 ] && [ "$f" = 0 ]; then f=1; fi
  if [ "$p" = 0 ] && [ "$f" = 0 ]; then f=1; fi
  total_pass=$((total_pass + p))
  total_fail=$((total_fail + f))
  if [ "$f" != 0 ]; then
    suites_failed+=("$name")
    printf '%-40s %4d passed, %d failed   (log: %s)\n' "$name" "$p" "$f" "$log"
    tail -n 30 "$log" | sed 's/^/    | /'
  else
    printf '%-40s %4d passed\n' "$name" "$p"
  fi
}

run_suite() {
  local name=$1; shift
  local log="tests/out/${name//\//_}.log"
  timeout "${SUITE_TIMEOUT:-300}" "$@" >"$log" 2>&1
  account "$name" $? "$log"
}

echo "== unit tests"
for t in build/tests/test_*; do
  [ -x "$t" ] || continue
  run_suite "unit/$(basename "$t")" "$t"
done
if [ -x tests/unit/sanitize.sh ]; then
  run_suite "unit/sanitizers" bash tests/unit/sanitize.sh
fi

echo "== integration tests"
for t in tests/integration/test_*.py; do
  [ -f "$t" ] || continue
  run_suite "integration/$(basename "$t" .py)" python3 "$t"
done

if [ -f tests/browser/run.sh ]; then
  echo "== browser test"
  run_suite "browser/console" bash tests/browser/run.sh
fi

if [ -f tests/fuzz/run.sh ] && [ "${HOTLINE_SKIP_FUZZ:-0}" != 1 ]; then
  echo "== fuzzing (short runs)"
  run_suite "fuzz/short" bash tests/fuzz/run.sh "${FUZZ_SECONDS:-10}"
fi

echo
if [ ${#suites_failed[@]} -gt 0 ]; then
  echo "failed suites: ${suites_failed[*]}"
fi
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" = 0 ]
