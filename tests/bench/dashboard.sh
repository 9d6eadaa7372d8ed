#!/usr/bin/env bash
# Figure 4a: what the dashboard writes to its terminal, and its CPU, when nothing changes; and
# the bytes of one changed row.
#
# Scenario "quiet": demo.json with "churn" and "traffic" removed and its CronJobs dropped (their
# runs create pods, i.e. changes), so the cluster is still after load. idwatch --no-azure runs in
# a detached tmux session of COLSxLINES (default 160x50) with TERM=xterm-256color; every byte it
# writes goes through `tmux pipe-pane -o 'cat >> FILE'`.
#   1. wait until the status line says "synced", then SETTLE seconds;
#   2. idle window: IDLE seconds (default 60): bytes written, utime+stime of idwatch;
#   3. one label change: `kubectl label pod -n data data-shell aadpodidbinding=bench` (a bare pod:
#      no controller recreates it, so exactly one workload row changes: MECH - -> AAD; the header's
#      migration counts change with it), bytes written in the next AFTER seconds (default 5);
#      then the label is removed and that update measured the same way.
# RUNS rounds, each on a fresh sim and idwatch.
set -u
. "$(dirname "$0")/lib.sh"
bench_need idwatch idwatch-sim
command -v tmux >/dev/null || { echo "tmux not found" >&2; exit 2; }
COLS=${COLS:-160}
LINES_=${LINES_:-50}
IDLE=${IDLE:-60}
AFTER=${AFTER:-5}
SETTLE=${SETTLE:-5}
SESSION=idwbench-dash-$$
WORK=$(mktemp -d /tmp/idw-bench-dash.XXXXXX)
cleanup() {
    tmux kill-session -t "$SESSION" 2>/dev/null
    sim_stop
    rm -rf "$WORK"
}
trap cleanup EXIT
jq 'del(.churn, .traffic) | .objects |= map(select(.kind != "CronJob"))' \
    "$BENCH_SRC/tests/sim/scenarios/demo.json" >"$WORK/quiet.json"
HZ=$(getconf CLK_TCK)

fsize() { stat -c %s "$1"; }

# label_update VALUE|-: sets (or removes) the label, prints the bytes written in the next AFTER s
label_update() {
    local b0 b1 arg
    if [ "$1" = - ]; then arg=aadpodidbinding-; else arg=aadpodidbinding=$1; fi
    b0=$(fsize "$PIPE")
    kubectl label pod -n data data-shell "$arg" --overwrite >/dev/null || return 1
    sleep "$AFTER"
    b1=$(fsize "$PIPE")
    echo $((b1 - b0))
}

echo "# dashboard $(date -u +%FT%TZ) terminal ${COLS}x${LINES_} idle ${IDLE}s after ${AFTER}s"
for r in $(seq "$RUNS"); do
    sim_start "$WORK/quiet.json"
    PIPE=$WORK/pipe.$r
    : >"$PIPE"
    tmux new-session -d -s "$SESSION" -x "$COLS" -y "$LINES_" \
        "env TERM=xterm-256color '$BUILD/idwatch' --kubeconfig '$KUBECONFIG' --no-azure 2>'$WORK/err'"
    tmux set-option -t "$SESSION" status off >/dev/null  # the pane gets all COLSxLINES
    tmux pipe-pane -o -t "$SESSION" "cat >> '$PIPE'"
    pid=$(tmux display -p -t "$SESSION" '#{pane_pid}')
    # the pane runs sh -c ...: the idwatch process is its child (or the pane itself after exec)
    for _ in 1 2 3 4 5 6 7 8 9 10; do
        ipid=$(pgrep -P "$pid" -x idwatch || true)
        [ "$(cat /proc/$pid/comm 2>/dev/null)" = idwatch ] && ipid=$pid
        [ -n "$ipid" ] && break
        sleep 0.2
    done
    [ -n "$ipid" ] || { echo "idwatch did not start: $(cat "$WORK/err")" >&2; exit 1; }
    t0=$(date +%s.%N)
    wait_synced "$SESSION" "$ipid" || { echo "idwatch exited: $(cat "$WORK/err")" >&2; exit 1; }
    t1=$(echo "$(date +%s.%N) - 0.5" | bc)
    sleep "$SETTLE"
    b0=$(fsize "$PIPE")
    c0=$(proc_ticks "$ipid")
    sleep "$IDLE"
    b1=$(fsize "$PIPE")
    c1=$(proc_ticks "$ipid")
    idle_bytes=$((b1 - b0))
    cpu_pct=$(echo "scale=3; 100 * ($c1 - $c0) / $HZ / $IDLE" | bc)
    set_bytes=$(label_update bench)
    row=$(tmux capture-pane -p -t "$SESSION" | grep -E ' data-shell ' | tr -s ' ')
    unset_bytes=$(label_update -)
    echo "run $r: sync_s $(echo "$t1 - $t0" | bc) startup_bytes $b0 idle_bytes_per_${IDLE}s $idle_bytes" \
         "idle_cpu_ticks $((c1 - c0)) idle_cpu_pct $cpu_pct label_set_bytes $set_bytes" \
         "label_unset_bytes $unset_bytes rss_kb $(proc_kb "$ipid" VmRSS)"
    echo "  row after set: $row"
    bench_load
    tmux kill-session -t "$SESSION"
    sim_stop
done
