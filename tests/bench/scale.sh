#!/usr/bin/env bash
# The scale figures side by side on one simulator per size (issue "Scale"): `idwatch report -o
# json --no-azure` against kubectl fetching the same kinds, alternating, RUNS rounds (default 3):
# wall, CPU (user+sys), peak RSS, bytes and requests the simulator served to each, and the
# simulator's own CPU during each run (its share of the wall time); then the growth from the
# small cluster to the large one; then the dashboard idle after sync on the large one (CPU % and
# requests per minute over IDLE seconds, default 60). Prints one line per run and the table with
# the targets at the end. Run it alone on the machine (see README.md: wall times measure the
# neighbours too); `uptime` lines are printed with the figures.
#   GEN_LARGE (deployments=10000,pods=50000,wi=0.2,pi=0.1,nmi=300)
#   GEN_SMALL (deployments=2000,pods=10000,wi=0.2,pi=0.1,nmi=60)
set -u
. "$(dirname "$0")/lib.sh"
bench_need idwatch idwatch-sim
for t in kubectl tmux jq bc; do
    command -v "$t" >/dev/null || { echo "$t not found" >&2; exit 2; }
done
GEN_LARGE=${GEN_LARGE:-deployments=10000,pods=50000,wi=0.2,pi=0.1,nmi=300}
GEN_SMALL=${GEN_SMALL:-deployments=2000,pods=10000,wi=0.2,pi=0.1,nmi=60}
IDLE=${IDLE:-60}
KINDS=deployments,statefulsets,daemonsets,cronjobs,pods,serviceaccounts
HZ=$(getconf CLK_TCK)
SESSION=idwbench-scale-$$
OUT=$(mktemp -d /tmp/idw-bench-scale.XXXXXX)
trap 'tmux kill-session -t "$SESSION" 2>/dev/null; sim_stop; rm -rf "$OUT"' EXIT

# one_run LABEL CMD: times CMD; prints wall cpu rss bytes requests sim_cpu on one line
one_run() {
    local label=$1
    shift
    local s0 s1 c0 c1 t
    s0=$(sim_stats)
    c0=$(proc_ticks "$SIM_PID")
    t=$(bench_time sh -c "$*")
    c1=$(proc_ticks "$SIM_PID")
    s1=$(sim_stats)
    set -- $t
    local cpu sim
    cpu=$(echo "$2 + $3" | bc)
    sim=$(echo "scale=2; ($c1 - $c0) / $HZ" | bc)
    echo "$label wall $1 cpu $cpu rss_kb $4 exit $5 bytes $(stats_delta "$s0" "$s1" .bytes_sent)" \
         "requests $(stats_delta "$s0" "$s1" "$STATS_KUBE") sim_cpu $sim"
}

# size GEN TAG: RUNS alternating rounds on one simulator
size() {
    local gen=$1 tag=$2
    sim_start demo "$gen"
    echo "# $tag GEN=$gen sim_load_s $SIM_LOAD_S sim_rss_kb $(proc_kb "$SIM_PID" VmRSS)"
    bench_load
    for r in $(seq "$RUNS"); do
        one_run "$tag run $r idwatch" "'$BUILD/idwatch' report -o json --no-azure >'$OUT/r.json' 2>'$OUT/r.err'" \
            | tee -a "$OUT/$tag.idwatch"
        one_run "$tag run $r kubectl" "kubectl get $KINDS -A -o json >/dev/null 2>'$OUT/k.err'" \
            | tee -a "$OUT/$tag.kubectl"
        bench_load
    done
    [ "$tag" = large ] && idle
    sim_stop
}

idle() {
    tmux new-session -d -s "$SESSION" -x 160 -y 50 \
        "exec env TERM=xterm-256color '$BUILD/idwatch' --kubeconfig '$KUBECONFIG' --no-azure 2>'$OUT/idw.err'"
    tmux set-option -t "$SESSION" status off >/dev/null
    local ipid
    ipid=$(tmux display -p -t "$SESSION" '#{pane_pid}')
    wait_synced "$SESSION" "$ipid" || { echo "idwatch exited: $(cat "$OUT/idw.err")" >&2; return; }
    sleep 20 # the NMI logs' backlog and the first checks
    local s0 s1 c0 c1 n
    s0=$(sim_stats)
    c0=$(proc_ticks "$ipid")
    sleep "$IDLE"
    s1=$(sim_stats)
    c1=$(proc_ticks "$ipid")
    n=$(stats_delta "$s0" "$s1" "$STATS_KUBE")
    echo "idle ${IDLE}s cpu_pct $(echo "scale=2; 100 * ($c1 - $c0) / $HZ / $IDLE" | bc)" \
         "requests_per_min $(echo "scale=1; $n * 60 / $IDLE" | bc) [$(stats_classes "$s0" "$s1")]" \
         "rss_kb $(proc_kb "$ipid" VmRSS)" | tee "$OUT/idle"
    tmux kill-session -t "$SESSION" 2>/dev/null
}

field() { awk -v k="$2" '{for (i = 1; i < NF; i++) if ($i == k) print $(i + 1)}' "$1"; }
med() { field "$1" "$2" | bench_median | awk '{print $2}'; }

echo "# scale $(date -u +%FT%TZ) RUNS=$RUNS"
size "$GEN_SMALL" small
size "$GEN_LARGE" large

lw=$(med "$OUT/large.idwatch" wall); kw=$(med "$OUT/large.kubectl" wall)
lc=$(med "$OUT/large.idwatch" cpu); lr=$(med "$OUT/large.idwatch" rss_kb)
lb=$(med "$OUT/large.idwatch" bytes); kb=$(med "$OUT/large.kubectl" bytes)
ls=$(med "$OUT/large.idwatch" sim_cpu); ks=$(med "$OUT/large.kubectl" sim_cpu)
sw=$(med "$OUT/small.idwatch" wall); sc=$(med "$OUT/small.idwatch" cpu)
ratios=$(paste <(field "$OUT/large.idwatch" wall) <(field "$OUT/large.kubectl" wall) |
    awk '{printf "%s%.2f", NR > 1 ? " " : "", $1 / $2}')
echo
echo "| figure | measured (median of $RUNS) | target |"
echo "|---|---|---|"
echo "| idwatch report -o json --no-azure, wall (50k pods) | ${lw} s ($(echo "scale=2; $lw / $kw" | bc)x kubectl; per round: $ratios) | <= 0.15x kubectl and < 3 s |"
echo "| kubectl get $KINDS -A -o json, wall | ${kw} s | (reference) |"
echo "| idwatch CPU (user+sys) | ${lc} s | < 1.5 s |"
echo "| idwatch peak RSS | $((lr / 1024)) MB | < 120 MB |"
echo "| bytes the sim sent to idwatch vs kubectl | $((lb / 1000000)) MB vs $((kb / 1000000)) MB ($(echo "scale=2; $lb / $kb" | bc)x) | <= 1.0x (ideally <= 0.6x) |"
echo "| the sim's CPU while serving idwatch / kubectl | ${ls} s / ${ks} s | (its share of the wall times) |"
echo "| growth 10k -> 50k pods | wall $(echo "scale=1; $lw / $sw" | bc)x, CPU $(echo "scale=1; $lc / $sc" | bc)x | <= 6x |"
if [ -s "$OUT/idle" ]; then
    echo "| dashboard idle after sync: CPU / requests per min | $(field "$OUT/idle" cpu_pct) % / $(field "$OUT/idle" requests_per_min) | < 0.5 % / <= 10 |"
fi
bench_load
