#!/bin/sh
# Runs every benchmark of issue 5 at the sizes bench/RESULTS.md reports, appending one row per run
# to bench/RESULTS.md. Builds nothing: build first (cmake -S . -B build -G Ninja && cmake --build
# build -j2). About an hour on a 2-core machine at the new core's speed of December 2026 (the
# 30-day core run, 63 million events, is a third of it).
#
#   bench/run-all.sh [--build DIR] [--big] [--only core|e2e|latency]
#
#   --big    also larger sizes (core: a year of 45,000 officers, 1M officers x 7 days; e2e at
#            250K officers): hours at the current speed, and several GiB of memory.
set -eu

build=build
big=no
only=all
while [ $# -gt 0 ]; do
  case "$1" in
    --build) build="$2"; shift 2 ;;
    --big) big=yes; shift ;;
    --only) only="$2"; shift 2 ;;
    -h|--help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run-all.sh: unknown option $1 (try --help)" >&2; exit 2 ;;
  esac
done
cd "$(dirname "$0")/.."
for bench in core_throughput e2e_throughput latency; do
  if [ ! -x "$build/bench/$bench" ]; then
    echo "run-all.sh: $build/bench/$bench is missing: build first" >&2
    exit 1
  fi
done

run() {
  echo "== $*" >&2
  "$@"
}

if [ "$only" = all ] || [ "$only" = core ]; then
  # At the realistic volume (about 45 access events per officer a day: 2 million a day for 45,000
  # officers): history length at 45,000 officers (a mid-sized force), then force size at 1 day,
  # then events/s against the memory budget at a fixed force.
  for days in 1 7 30; do run "$build/bench/core_throughput" --officers 45000 --days "$days"; done
  for officers in 250000 1000000; do run "$build/bench/core_throughput" --officers "$officers" --days 1; done
  for budget in 256 512 2048; do
    run "$build/bench/core_throughput" --officers 45000 --days 7 --memory-budget-mb "$budget"
  done
  if [ "$big" = yes ]; then
    run "$build/bench/core_throughput" --officers 45000 --days 365
    run "$build/bench/core_throughput" --officers 1000000 --days 7
  fi
fi
if [ "$only" = all ] || [ "$only" = e2e ]; then
  run "$build/bench/e2e_throughput" --officers 45000 --days 7
  if [ "$big" = yes ]; then
    run "$build/bench/e2e_throughput" --officers 250000 --days 7 --partitions 128
  fi
fi
if [ "$only" = all ] || [ "$only" = latency ]; then
  # The issue's rate, then a rate the engine sustains on this machine (the checkpoint-bound floor).
  run "$build/bench/latency" --rate 10000 --checkpoint-interval-ms 1000
  run "$build/bench/latency" --rate 3000 --officers 10000 --days 16 --checkpoint-interval-ms 1000
fi
echo "results appended to bench/RESULTS.md" >&2
