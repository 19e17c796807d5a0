#!/usr/bin/env bash
# run.sh - every benchmark: the build/bench/bench_* binaries (e.g. the
# matcher's bench_kb), then the daemon under load (bench_daemon.py: wrk,
# signed webhooks, fake provider).  Add new benches by dropping a
# tests/bench/bench_*.c (built by make bench) or a line below.
set -u
cd "$(dirname "$0")/../.."
# 500 connections for wrk, the daemon and the sink need file descriptors.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || ulimit -n 20000 2>/dev/null || true
status=0
for b in build/bench/bench_*; do
  [ -x "$b" ] || continue
  echo "== $(basename "$b")"
  "$b" || status=1
done
if command -v wrk >/dev/null; then
  echo "== daemon under load (tests/bench/bench_daemon.py)"
  python3 tests/bench/bench_daemon.py || status=1
else
  echo "wrk is not installed (apt-get install wrk): daemon load bench skipped"
fi
exit $status
