#!/bin/sh
# Runs every trellis benchmark program and prints the summary table: one
# line per target, with the floor, trellis and their ratio (or the absolute
# figure where a target has no floor), and PASS or MISS.
#
#   bench/run_all.sh [builddir] [extra Google Benchmark flags...]
#
# builddir defaults to build-bench next to this script's parent directory;
# configure it with
#   meson setup build-bench --buildtype=release -Db_ndebug=true
# Extra flags go to every program (for example --benchmark_repetitions=15).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
build=${1:-"$here/../build-bench"}
[ $# -gt 0 ] && shift

programs="checkpoint_bench spawn_bench cancel_bench memory_bench pingpong_bench"

ninja -C "$build" $(for p in $programs; do printf 'bench/%s ' "$p"; done) >/dev/null

summary=$(mktemp)
trap 'rm -f "$summary"' EXIT
for p in $programs; do
    echo "== $p" >&2
    # The full Google Benchmark output goes to stderr, the summary lines
    # (those ending in PASS or MISS) are kept for the table.
    "$build/bench/$p" "$@" | tee /dev/stderr | grep -E ' (PASS|MISS)$' >>"$summary" || true
done

echo
echo "trellis benchmarks ($(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg))"
echo "------------------------------------------------------------------------"
cat "$summary"
