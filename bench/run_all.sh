#!/bin/sh
# Builds and runs every trellis benchmark program, then prints the summary
# table: one line per target, with the floor, trellis and their ratio (or
# the absolute figure where a target has no floor), and PASS or MISS; lines
# ending in INFO are comparisons without a target (Trio's echo server).
#
#   bench/run_all.sh [builddir] [extra Google Benchmark flags...]
#
# builddir defaults to build-bench in the project root; configure it with
#   meson setup build-bench --buildtype=release -Db_ndebug=true
# Extra flags go to every program (for example --benchmark_repetitions=15
# or --benchmark_min_time=0.1). The programs' full output goes to stderr;
# the table goes to stdout.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
build=${1:-"$here/../build-bench"}
[ $# -gt 0 ] && shift

# Every *_bench program this build directory knows (the host benchmarks
# exist only when their adapter is built).
targets=$(ninja -C "$build" -t targets all | sed -n 's|^\(bench/[a-z0-9_]*_bench\): .*|\1|p' | sort -u)
[ -n "$targets" ] || { echo "no benchmark programs in $build (is Google Benchmark installed?)" >&2; exit 1; }
# Helper programs the benchmarks start (echo_load, the load generator).
helpers=$(ninja -C "$build" -t targets all | sed -n 's|^\(bench/[a-z0-9_]*\): .*|\1|p' | grep -v '_bench$' | sort -u)
# shellcheck disable=SC2086
ninja -C "$build" $targets $helpers >&2

summary=$(mktemp)
output=$(mktemp)
trap 'rm -f "$summary" "$output"' EXIT
for target in $targets; do
    echo "== $target" >&2
    "$build/$target" "$@" >"$output" || echo "$target failed (exit status $?)" >&2
    cat "$output" >&2
    grep -E ' (PASS|MISS|INFO)$' "$output" >>"$summary" || true
done

echo
echo "trellis benchmarks ($(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg))"
echo "------------------------------------------------------------------------"
cat "$summary"
