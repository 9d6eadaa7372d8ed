#!/usr/bin/env bash
# idwatch --demo keeps its changes out of the real action log: a change applied in the demo
# dashboard is logged in the simulator's own state directory, XDG_STATE_HOME stays untouched, and
# the state directory (with that log) goes when the demo ends. Also: a bad config line shows in
# the status line at start.
set -euo pipefail
SELF_DIR=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib/common.sh
source "$SELF_DIR/lib/common.sh"

t_need tmux pgrep

STATE="$T_TMP/xdg-state"
mkdir -p "$STATE" "$T_TMP/run"
printf 'interval = 30s\ncolour = red\n' >"$T_TMP/config"
cat >"$T_TMP/run.sh" <<EOF
echo \$\$ >'$T_TMP/idwatch.pid'
cd '$T_TMP/run'
export XDG_STATE_HOME='$STATE' IDWATCH_CONFIG='$T_TMP/config'
export ASAN_OPTIONS='${ASAN_OPTIONS:+$ASAN_OPTIONS:}log_path=$T_TMP/asan'
export UBSAN_OPTIONS='${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}print_stacktrace=1:log_path=$T_TMP/ubsan'
exec '$IDWATCH' --demo
EOF
t_tmux_start 132 40 sh "$T_TMP/run.sh"
stop_idwatch() {
    local pid
    pid=$(cat "$T_TMP/idwatch.pid" 2>/dev/null) || return 0
    kill "$pid" 2>/dev/null || return 0
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
}
trap 'rc=$?; set +e; stop_idwatch; (exit $rc); t_cleanup' EXIT

t_tmux_wait_for "aad-pod-identity-mic" 90 || { t_fail "the demo dashboard never showed the workloads"; t_done; }
t_expect "a bad config line shows in the status line" "config: $T_TMP/config:2: unknown key 'colour'" 10

# the simulator the demo started, and its state directory
IDW_PID=$(cat "$T_TMP/idwatch.pid")
SIM_PID=$(pgrep -P "$IDW_PID" -f idwatch-sim | head -n 1 || true)
SIM_DIR=""
if [ -n "$SIM_PID" ]; then
    SIM_DIR=$(tr '\0' '\n' <"/proc/$SIM_PID/cmdline" | awk 'prev == "--state-dir" {print; exit} {prev = $0}')
fi
[ -n "$SIM_DIR" ] && [ -d "$SIM_DIR" ] && t_ok "the demo's state directory: $SIM_DIR" ||
    { t_fail "no simulator state directory found"; t_done; }

# select one workload (the filter), apply w, confirm
t_tmux_keys /
t_tmux_keys -l "orders/orders-notify"
t_tmux_keys Enter
filtered() { # the table shows orders-notify and nothing else
    local i
    for i in $(seq 1 200); do
        t_tmux_screen | grep -qE '^. orders +orders-notify ' &&
            ! t_tmux_screen | grep -q 'aad-pod-identity-mic' &&
            t_tmux_screen | tail -n 1 | grep -q 'Enter detail' && return 0
        sleep 0.1
    done
    t_tmux_screen >&2
    return 1
}
if filtered; then
    t_tmux_keys w
    if t_tmux_wait_for "y apply" 30; then
        t_tmux_keys y
        t_expect "w applied in the demo" "w applied: " 30
        t_tmux_keys Enter
    else
        t_fail "w: no confirmation dialog"
    fi
else
    t_fail "could not filter to orders/orders-notify"
fi

if [ -s "$SIM_DIR/actions.log" ] && grep -q '"result"' "$SIM_DIR/actions.log" &&
    grep -q 'orders-notify' "$SIM_DIR/actions.log"; then
    t_ok "the change is logged in the demo's state directory ($(wc -l <"$SIM_DIR/actions.log") line)"
else
    t_fail "no action log in $SIM_DIR: $(ls -la "$SIM_DIR" 2>&1 | head -20)"
fi
if [ -e "$STATE/idwatch/actions.log" ]; then
    t_fail "the demo wrote into the real action log: $(cat "$STATE/idwatch/actions.log")"
else
    t_ok "the real action log (XDG_STATE_HOME) is untouched"
fi

t_tmux_keys q
for _ in $(seq 1 100); do kill -0 "$IDW_PID" 2>/dev/null || break; sleep 0.1; done
kill -0 "$IDW_PID" 2>/dev/null && t_fail "idwatch did not quit" || t_ok "idwatch quit"
[ -e "$SIM_DIR" ] && t_fail "the demo's state directory is still there" || t_ok "the demo's state directory went with it"
t_done
