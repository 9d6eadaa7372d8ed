#!/usr/bin/env bash
# Figure for issue 13: a fleet report's wall time for 1, 5 and 20 simulated clusters (target: 20
# in less than twice the time of one) and its peak RSS. COUNTS (default "1 5 20") demo-scenario
# simulators are started first (each its own process and port, so the clusters do not share a
# server), one kubeconfig names them c1..cN, and `idwatch report --context c1,...,cK -o json
# --no-azure` runs RUNS times per K (--parallel PARALLEL, default 8; set PARALLEL=20 to compare).
# Reports CPU time too: on a shared machine wall time mostly measures the neighbours, and the
# simulators' own CPU is on the same cores. On loopback a cluster costs CPU, not waiting; a real
# API server is tens to hundreds of milliseconds away: LATENCY=MS adds that much to every
# discovery, list, get, log and OIDC answer of every simulator (its fault injection).
set -u
. "$(dirname "$0")/lib.sh"
bench_need idwatch idwatch-sim
COUNTS=${COUNTS:-1 5 20}
PARALLEL=${PARALLEL:-8}
SCENARIO=${SCENARIO:-demo}
LATENCY=${LATENCY:-0}
SIM_ARGS=()
if [ "$LATENCY" -gt 0 ]; then
    f=""
    for c in discovery list get log oidc; do f="$f${f:+,}$c:latency=${LATENCY}x*"; done
    SIM_ARGS=(--faults "$f")
fi
MAX=0
for k in $COUNTS; do [ "$k" -gt "$MAX" ] && MAX=$k; done

# tests/integration/lib/fleet.sh starts the simulators and writes the kubeconfig
T_TMP=$(mktemp -d /tmp/idw-bench-fleet.XXXXXX)
T_PIDS=()
IDWATCH_SIM="$BUILD/idwatch-sim"
t_log() { printf '%s\n' "$*" >&2; }
. "$BENCH_SRC/tests/integration/lib/fleet.sh"
cleanup() {
    local p
    for p in "${T_PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
    rm -rf "$T_TMP"
}
trap cleanup EXIT

echo "# fleet_report $(date -u +%FT%TZ) scenario=$SCENARIO parallel=$PARALLEL counts=$COUNTS latency_ms=$LATENCY"
t0=$(date +%s.%N)
t_sims_start "$MAX" "$SCENARIO" "${SIM_ARGS[@]}" || exit 2
echo "sims_ready_s $(echo "$(date +%s.%N) - $t0" | bc) sims $MAX"
specs=()
for ((i = 0; i < MAX; i++)); do specs+=("c$((i + 1))=$i"); done
t_fleet_kubeconfig "$T_TMP/kubeconfig" "${specs[@]}"
bench_load
out="$T_TMP/out.json"
for r in $(seq "$RUNS"); do
    for k in $COUNTS; do
        ctx=$(seq -s, -f 'c%g' 1 "$k")
        t=$(bench_time sh -c "'$BUILD/idwatch' report --kubeconfig '$T_TMP/kubeconfig' --context '$ctx' \
            --parallel $PARALLEL -o json --no-azure > '$out' 2>'$out.err'")
        set -- $t
        if [ "$k" -eq 1 ]; then
            n=$(jq '.workloads | length' "$out")
            failed=0
        else
            n=$(jq '.summary.workloads' "$out")
            failed=$(jq '.summary.failed' "$out")
        fi
        echo "run $r clusters $k: wall_s $1 user_s $2 sys_s $3 maxrss_kb $4 exit $5 workloads $n failed $failed bytes_out $(wc -c <"$out")"
    done
    bench_load
done
