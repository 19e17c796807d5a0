#!/usr/bin/env bash
# sanitize.sh - every unit test rebuilt with ASan + UBSan (build/asan/) and
# run; any sanitizer report fails that test.  Also builds build/asan/hotline,
# the daemon under the sanitizers (HOTLINE_BIN=build/asan/hotline makes
# test_hostile.py and test_faults.py use it).  Ends with "N passed, M failed".
set -u
cd "$(dirname "$0")/../.."
if ! make --no-print-directory -s -f tests/unit/sanitize.mk -j"${SANITIZE_JOBS:-2}" >build/asan-build.log 2>&1; then
  cat build/asan-build.log
  echo "0 passed, 1 failed"
  exit 1
fi
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
pass=0
fail=0
mkdir -p build/asan/logs
for t in build/asan/test_*; do
  [ -x "$t" ] || continue
  name=$(basename "$t")
  log=build/asan/logs/$name.log
  timeout 120 "$t" >"$log" 2>&1
  rc=$?
  p=$(grep -E '^\[  PASSED  \] [0-9]+ test' "$log" | awk '{s+=$4} END {print s+0}')
  f=$(grep -E '^\[  FAILED  \] [0-9]+ test' "$log" | awk '{s+=$4} END {print s+0}')
  if [ $rc != 0 ] || grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$log"; then
    [ "$f" = 0 ] && f=1
    echo "FAIL $name (log: $log)"
    grep -E 'ERROR: |SUMMARY: |runtime error:|FAILED' "$log" | head -8 | sed 's/^/    /'
  else
    echo "ok   $name: $p passed"
  fi
  pass=$((pass + p))
  fail=$((fail + f))
done
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
