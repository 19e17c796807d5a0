#!/usr/bin/env bash
# run.sh - builds the libFuzzer harnesses (clang, ASan + UBSan, build/fuzz/)
# and runs each for SECONDS (default 120 with make fuzz; make test passes 10;
# FUZZ_SECONDS=600 make fuzz for longer), two at a time.  The working corpus is build/fuzz/corpus/<name>,
# seeded from tests/fuzz/corpus/<name>; a crash leaves its input in
# build/fuzz/artifacts/ and fails the harness.  Ends with "N passed, M failed"
# (one test per harness).
set -u
cd "$(dirname "$0")/../.."
secs=${1:-120}
[ -n "$secs" ] || secs=120
jobs=${FUZZ_JOBS:-2}
if ! command -v clang-14 >/dev/null && ! command -v clang >/dev/null; then
  echo "clang is not installed (apt-get install clang-14 libclang-rt-14-dev)"
  echo "0 passed, 1 failed"
  exit 1
fi
echo "building harnesses (clang, -fsanitize=fuzzer,address,undefined)"
if ! make --no-print-directory -s -f tests/fuzz/fuzz.mk -j"$jobs" >build/fuzz-build.log 2>&1; then
  cat build/fuzz-build.log
  echo "0 passed, 1 failed"
  exit 1
fi
mkdir -p build/fuzz/artifacts build/fuzz/logs
# libFuzzer's own leak checker stays on: a leak is a failure too.
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

run_one() {
  local h=$1 name
  name=$(basename "$h")
  mkdir -p "build/fuzz/corpus/$name"
  [ -d "tests/fuzz/corpus/$name" ] && cp -n tests/fuzz/corpus/"$name"/* "build/fuzz/corpus/$name/" 2>/dev/null
  local dict=()
  [ -f "tests/fuzz/$name.dict" ] && dict=(-dict="tests/fuzz/$name.dict")
  # Short runs (make test) use a fixed seed so CI repeats what was run
  # here; make fuzz explores with a fresh seed each time.
  if [ "$secs" -le 30 ]; then dict+=(-seed="${FUZZ_SEED:-1}"); fi
  if "$h" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=8192 \
       -print_final_stats=1 -artifact_prefix="build/fuzz/artifacts/$name-" "${dict[@]}" \
       "build/fuzz/corpus/$name" >"build/fuzz/logs/$name.log" 2>&1; then
    local execs
    execs=$(grep -E '^stat::number_of_executed_units' "build/fuzz/logs/$name.log" | awk '{print $2}')
    echo "ok   $name: ${execs:-?} runs in ${secs}s, corpus $(ls "build/fuzz/corpus/$name" | wc -l)"
  else
    echo "FAIL $name (log: build/fuzz/logs/$name.log)"
    grep -E 'ERROR: |SUMMARY: |runtime error|Test unit written' "build/fuzz/logs/$name.log" | head -8 | sed 's/^/    /'
    return 1
  fi
}
export -f run_one
export secs

results=$(ls build/fuzz/fuzz_* | grep -v '\.d$' | xargs -P "$jobs" -I{} bash -c 'run_one {}')
echo "$results"
pass=$(grep -c '^ok ' <<<"$results")
fail=$(grep -c '^FAIL ' <<<"$results")
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
