# Shared helpers for the benchmark scripts (sourced, not run).
# BUILD: a Release build without sanitizers (figures from a sanitizer build mean nothing).

BENCH_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-$BENCH_SRC/build-bench}
RUNS=${RUNS:-3}
GEN=${GEN:-deployments=10000,pods=50000,wi=0.2,pi=0.1,nmi=300}
SIM_PID=
SIM_PORT=
SIM_DIR=

# where a target lives: the tools at the top of the build, bench_* under tests/
bench_path() { if [ -x "$BUILD/$1" ]; then echo "$BUILD/$1"; else echo "$BUILD/tests/$1"; fi; }

bench_need() {
    for f in "$@"; do
        [ -x "$(bench_path "$f")" ] || { echo "missing $f in $BUILD: build it (see tests/bench/README.md)" >&2; exit 2; }
    done
}

# One line saying what else the machine was doing: the figures are only comparable with it.
bench_load() { echo "loadavg $(cut -d' ' -f1-3 /proc/loadavg) nproc $(nproc)"; }

# median and spread (min..max) of the numbers on stdin, one per line
bench_median() {
    sort -g | awk '{v[NR]=$1} END {if (!NR) exit; m = NR % 2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2;
                   printf "median %s min %s max %s n %d\n", m, v[1], v[NR], NR}'
}

# sim_start SCENARIO [GENERATE]: starts idwatch-sim, waits for READY; sets SIM_PID SIM_PORT
# SIM_DIR SIM_LOAD_S (seconds from exec to READY, wall).
sim_start() {
    SIM_DIR=$(mktemp -d /tmp/idw-bench-sim.XXXXXX)
    local t0 t1
    t0=$(date +%s.%N)
    if [ -n "${2:-}" ]; then
        "$BUILD/idwatch-sim" --scenario "$1" --generate "$2" --state-dir "$SIM_DIR" \
            >"$SIM_DIR/out" 2>"$SIM_DIR/err" &
    else
        "$BUILD/idwatch-sim" --scenario "$1" --state-dir "$SIM_DIR" >"$SIM_DIR/out" 2>"$SIM_DIR/err" &
    fi
    SIM_PID=$!
    local i=0
    until grep -q '^READY ' "$SIM_DIR/out" 2>/dev/null; do
        kill -0 "$SIM_PID" 2>/dev/null || { echo "idwatch-sim died: $(cat "$SIM_DIR/err")" >&2; exit 2; }
        sleep 0.05
        i=$((i + 1))
        [ $i -lt 6000 ] || { echo "idwatch-sim not ready after 300 s" >&2; exit 2; }
    done
    t1=$(date +%s.%N)
    SIM_LOAD_S=$(echo "$t1 - $t0" | bc)
    SIM_PORT=$(awk '/^READY/{print $2}' "$SIM_DIR/out")
    export KUBECONFIG=$SIM_DIR/kubeconfig
}

sim_stop() {
    if [ -n "$SIM_PID" ]; then
        kill "$SIM_PID" 2>/dev/null
        wait "$SIM_PID" 2>/dev/null
        SIM_PID=
    fi
    [ -n "$SIM_DIR" ] && rm -rf "$SIM_DIR"
    SIM_DIR=
}

sim_stats() { curl -sk "https://127.0.0.1:$SIM_PORT/_sim/stats"; }

# the sim's bearer token (current context sim-token) for curl
sim_token() { awk '/token:/{print $2; exit}' "$SIM_DIR/kubeconfig"; }

# kB from /proc/PID/status (VmRSS now, VmHWM peak)
proc_kb() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status"; }

# utime+stime of a process in clock ticks
proc_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# run CMD under /usr/bin/time; prints "wall user sys maxrss_kb exit" on the last line of $TIMEF
bench_time() {
    TIMEF=$(mktemp /tmp/idw-bench-time.XXXXXX)
    /usr/bin/time -f '%e %U %S %M %x' -o "$TIMEF" "$@"
    local rc=$?
    tail -n1 "$TIMEF"
    rm -f "$TIMEF"
    return $rc
}

# requests outside /_sim in a stats snapshot
STATS_KUBE='(.requests.total - .requests.by_path_class.sim)'

# stats_delta S0 S1 JQEXPR: JQEXPR(S1) - JQEXPR(S0)
stats_delta() { echo "$(echo "$2" | jq "$3") - $(echo "$1" | jq "$3")" | bc; }

# the per-path-class request counts of S1 minus S0, as "class=n ..." (zeros left out)
stats_classes() {
    jq -rn --argjson a "$1" --argjson b "$2" \
        '[$b.requests.by_path_class | to_entries[] | select(.key != "sim")
          | "\(.key)=\(.value - ($a.requests.by_path_class[.key] // 0))"
          | select(endswith("=0") | not)] | join(" ")'
}

# wait_synced SESSION PID: until the dashboard's status line says "synced  N workloads" (N > 0)
# in two captures 0.5 s apart (a source that registers late, e.g. pods-running after pods, can
# leave a moment where every source known so far is synced).
wait_synced() {
    local hits=0
    while [ $hits -lt 2 ]; do
        kill -0 "$2" 2>/dev/null || return 1
        if tmux capture-pane -p -t "$1" | grep -qE '^synced +[1-9]'; then
            hits=$((hits + 1))
        else
            hits=0
        fi
        sleep 0.5
    done
}
