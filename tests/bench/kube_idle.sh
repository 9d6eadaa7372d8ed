#!/usr/bin/env bash
# Figure 2b: the interactive client once synced, on the generated large cluster with nothing
# changing: requests per minute (by /_sim/stats path class) and bytes over WINDOW seconds
# (default 120), plus idwatch's CPU and RSS. The generated scenario has no churn; its NMI pods
# do log (pod-identity traffic), which arrives on the already open log streams.
# idwatch --no-azure runs in a detached tmux session (COLSxLINES, default 160x50).
set -u
. "$(dirname "$0")/lib.sh"
bench_need idwatch idwatch-sim
command -v tmux >/dev/null || { echo "tmux not found" >&2; exit 2; }
COLS=${COLS:-160}
LINES_=${LINES_:-50}
WINDOW=${WINDOW:-120}
SETTLE=${SETTLE:-10}
SESSION=idwbench-idle-$$
trap 'tmux kill-session -t "$SESSION" 2>/dev/null; sim_stop' EXIT
HZ=$(getconf CLK_TCK)

echo "# kube_idle $(date -u +%FT%TZ) GEN=$GEN window ${WINDOW}s"
sim_start demo "$GEN"
echo "sim_load_s $SIM_LOAD_S"
bench_load
s_start=$(sim_stats)
tmux new-session -d -s "$SESSION" -x "$COLS" -y "$LINES_" \
    "exec env TERM=xterm-256color '$BUILD/idwatch' --kubeconfig '$KUBECONFIG' --no-azure 2>'$SIM_DIR/idw.err'"
tmux set-option -t "$SESSION" status off >/dev/null
ipid=$(tmux display -p -t "$SESSION" '#{pane_pid}')
t0=$(date +%s.%N)
wait_synced "$SESSION" "$ipid" || { echo "idwatch exited: $(cat "$SIM_DIR/idw.err")" >&2; exit 1; }
t1=$(echo "$(date +%s.%N) - 0.5" | bc) # the second sighting is 0.5 s late
c_sync=$(proc_ticks "$ipid")
s_sync=$(sim_stats)
echo "synced_s $(echo "$t1 - $t0" | bc) cpu_to_sync_s $(echo "scale=2; $c_sync / $HZ" | bc)" \
     "rss_kb $(proc_kb "$ipid" VmRSS) peak_rss_kb $(proc_kb "$ipid" VmHWM)" \
     "requests $(stats_delta "$s_start" "$s_sync" "$STATS_KUBE") [$(stats_classes "$s_start" "$s_sync")]"
sleep "$SETTLE"
s0=$(sim_stats)
c0=$(proc_ticks "$ipid")
sleep "$WINDOW"
s1=$(sim_stats)
c1=$(proc_ticks "$ipid")
n=$(stats_delta "$s0" "$s1" "$STATS_KUBE")
echo "window ${WINDOW}s: requests $n = $(echo "scale=1; $n * 60 / $WINDOW" | bc)/min" \
     "[$(stats_classes "$s0" "$s1")] bytes $(stats_delta "$s0" "$s1" .bytes_sent)" \
     "cpu_pct $(echo "scale=2; 100 * ($c1 - $c0) / $HZ / $WINDOW" | bc)" \
     "rss_kb $(proc_kb "$ipid" VmRSS) peak_rss_kb $(proc_kb "$ipid" VmHWM)"
bench_load
