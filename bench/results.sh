# SPDX-License-Identifier: LGPL-2.1-or-later
# Sourced by the benchmarks.  bench_result KEY RATIO [NOTE]: one figure for
# the table `make bench` prints at the end (bench/summary.sh, which knows
# each KEY's row, reference and goal).  RATIO: Shuttle / reference, both
# measured in the same run.  Outside `make bench` (no BENCH_RESULTS) it does
# nothing.
bench_result() {
        [ -n "${BENCH_RESULTS:-}" ] || return 0
        printf '%s\t%s\t%s\n' "$1" "$2" "${3:-}" >>"$BENCH_RESULTS"
}
