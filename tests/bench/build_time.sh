#!/usr/bin/env bash
# Figure 1a: build time from scratch (configure + build of all targets, -j2) of the Release build
# and of the sanitizer test build (-DIDWATCH_SANITIZE=ON -DIDWATCH_WERROR=ON, what CI runs), in
# fresh directories under /tmp (RUNS times each, wall and CPU of the whole configure+build), then
# the full `ctest -j2` of the last sanitizer build, timed once (CTEST=0 skips it).
# Other people's half-edited files can break a full build at any moment: a failed build is
# reported with its exit code and the first error line, not retried.
set -u
. "$(dirname "$0")/lib.sh"
JOBS=${JOBS:-2}
CTEST=${CTEST:-1}
KEEP=$(mktemp -d /tmp/idw-bench-build.XXXXXX)
trap 'rm -rf "$KEEP"' EXIT

one_build() { # LABEL DIR CMAKE-ARGS...
    local label=$1 dir=$2
    shift 2
    rm -rf "$dir"
    t=$(bench_time sh -c "cmake -S '$BENCH_SRC' -B '$dir' $* > '$dir.log' 2>&1 && cmake --build '$dir' -j$JOBS >> '$dir.log' 2>&1")
    echo "$label: [wall user sys maxrss_kb exit: $t] warnings $(grep -c 'warning:' "$dir.log")" \
         "$(grep -m1 -E 'error:|Error [0-9]' "$dir.log")"
}

echo "# build_time $(date -u +%FT%TZ) -j$JOBS $(git -C "$BENCH_SRC" rev-parse --short HEAD) + working tree ($(git -C "$BENCH_SRC" status --porcelain | wc -l) changed/untracked paths)"
echo "# $(${CC:-cc} --version | head -1), $(cmake --version | head -1)"
bench_load
for r in $(seq "$RUNS"); do
    one_build "run $r release" "$KEEP/release" -DCMAKE_BUILD_TYPE=Release
    bench_load
    one_build "run $r sanitize" "$KEEP/san" -DIDWATCH_SANITIZE=ON -DIDWATCH_WERROR=ON
    bench_load
done
if [ "$CTEST" = 1 ]; then
    t=$(bench_time sh -c "cd '$KEEP/san' && ctest -j2 > '$KEEP/ctest.log' 2>&1")
    echo "ctest -j2 (sanitizer build): [wall user sys maxrss_kb exit: $t]"
    grep -E 'tests passed|tests failed|Total Test time' "$KEEP/ctest.log"
    grep -E '^\s+[0-9]+ - .*\((Failed|Timeout|SEGFAULT|Subprocess)' "$KEEP/ctest.log" | head -20
    echo "slowest:"
    grep -E 'Test +#' "$KEEP/ctest.log" | sort -t' ' -k1 | awk '{print $(NF-1), $0}' | sort -gr | head -8 | cut -d' ' -f2-
    bench_load
fi
