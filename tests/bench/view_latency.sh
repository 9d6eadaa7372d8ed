#!/usr/bin/env bash
# Figure 4b: keypress-to-screen latency while scrolling N (default 10000) rows, with
# bench_view_preview (a synthetic store, no network) in a detached tmux session of COLSxLINES.
# bench_view_preview measures, per key that causes a redraw, the time from "stdin readable" to
# "frame written" (view_on_input + view_draw; ms resolution), and prints avg and max on exit.
# Per run: KEYS (default 300) `j` presses, then KEYS/3 PgDn presses then `G`,`g` each in its
# own bench_view_preview process, paced by GAP seconds (default 0.03) so that each key is a frame.
# The CPU time (user+sys) of the whole bench_view_preview process (store fill + checks included)
# is printed too.
set -u
. "$(dirname "$0")/lib.sh"
bench_need bench_view_preview
command -v tmux >/dev/null || { echo "tmux not found" >&2; exit 2; }
N=${N:-10000}
KEYS=${KEYS:-300}
GAP=${GAP:-0.03}
COLS=${COLS:-160}
LINES_=${LINES_:-50}
SESSION=idwbench-view-$$
WORK=$(mktemp -d /tmp/idw-bench-view.XXXXXX)
trap 'tmux kill-session -t "$SESSION" 2>/dev/null; rm -rf "$WORK"' EXIT

# one_run LABEL KEY COUNT: prints the bench's summary line
one_run() {
    local label=$1 key=$2 count=$3
    rm -f "$WORK/err" "$WORK/time"
    tmux new-session -d -s "$SESSION" -x "$COLS" -y "$LINES_" \
        "env TERM=xterm-256color /usr/bin/time -f '%U %S' -o '$WORK/time' '$(bench_path bench_view_preview)' -n $N 2>'$WORK/err'"
    tmux set-option -t "$SESSION" status off >/dev/null
    until tmux capture-pane -p -t "$SESSION" 2>/dev/null | grep -q 'ctx aks-prod'; do
        tmux has-session -t "$SESSION" 2>/dev/null || { echo "bench_view_preview died: $(cat "$WORK/err")" >&2; exit 1; }
        sleep 0.1
    done
    sleep 0.5
    for _ in $(seq "$count"); do
        tmux send-keys -t "$SESSION" "$key"
        sleep "$GAP"
    done
    if [ "$key" = G ]; then # G/g alternately: the longest jumps
        for _ in $(seq "$count"); do
            tmux send-keys -t "$SESSION" g; sleep "$GAP"
            tmux send-keys -t "$SESSION" G; sleep "$GAP"
        done
    fi
    sleep 0.3
    tmux send-keys -t "$SESSION" q
    while tmux has-session -t "$SESSION" 2>/dev/null; do sleep 0.1; done
    echo "$label: $(grep bench_view_preview "$WORK/err" | sed 's/^bench_view_preview: //')" \
         "cpu_user_sys_s $(cat "$WORK/time" 2>/dev/null)"
}

echo "# view_latency $(date -u +%FT%TZ) N=$N terminal ${COLS}x${LINES_} keys $KEYS gap ${GAP}s"
bench_load
for r in $(seq "$RUNS"); do
    one_run "run $r j" j "$KEYS"
    one_run "run $r PgDn" NPage $((KEYS / 3))
    one_run "run $r G/g" G $((KEYS / 10))
    bench_load
done
