#!/usr/bin/env bash
# How the dashboard starts and ends: without a terminal it refuses and points to `idwatch
# report`; `q` quits and restores the terminal; when its terminal goes away (the tmux session is
# killed: SIGHUP and a dead pty) it exits and leaves nothing running, not even the simulator
# that --demo started.
source "$(dirname "$0")/lib/common.sh"
t_need tmux python3 curl

t_sim_start_frozen demo

# ---- stdout is not a terminal ----
set +e
"$IDWATCH" --kubeconfig "$T_KUBECONFIG" --no-azure >"$T_TMP/notty.out" 2>"$T_TMP/notty.err" </dev/null
rc=$?
set -e
if [ "$rc" -ne 0 ] && [ ! -s "$T_TMP/notty.out" ]; then
    t_ok "stdout not a terminal: exit status $rc, nothing on stdout"
else
    t_fail "stdout not a terminal: exit status $rc, stdout: $(head -c 200 "$T_TMP/notty.out")"
fi
if grep -q "idwatch report" "$T_TMP/notty.err"; then
    t_ok "stdout not a terminal: the message points to 'idwatch report'"
else
    t_fail "stdout not a terminal: no pointer to 'idwatch report' in: $(cat "$T_TMP/notty.err")"
fi

# ---- q quits ----
t_idw_start 80 24
t_tmux_wait_for "synced" 60 >/dev/null || true
t_tmux_keys q
t_expect "q quits with status 0" "[idwatch exited 0]" 15
if t_tmux_screen | grep -q "NAMESPACE"; then
    t_fail "after q the dashboard is still on the screen (terminal not restored)"
else
    t_ok "after q the terminal is restored"
fi

# ---- SIGHUP: the terminal goes away ----
t_idw_start 80 24
t_tmux_wait_for "synced" 60 >/dev/null || true
pid=$T_IDW_PID
tmux -L "$T_TMUX" kill-server
T_TMUX=""
if t_idw_wait_exit 10; then t_ok "the tmux session killed: idwatch exits"; else
    t_fail "idwatch ($pid) still runs 10 s after its terminal went away"
    kill -9 "$pid" 2>/dev/null || true
fi

# ---- --demo: idwatch and the simulator it started ----
before_dirs=$(ls -d /tmp/idwatch-demo.* 2>/dev/null | sort || true)
T_KUBECONFIG="" t_idw_start 80 24 -- --demo
t_tmux_wait_for "synced" 90 >/dev/null || true
pid=$T_IDW_PID
sim_pids=$(pgrep -P "$pid" || true)
if [ -n "$sim_pids" ]; then t_ok "--demo: idwatch started the simulator ($sim_pids)"; else
    t_fail "--demo: no child process under idwatch ($pid)"; fi
demo_dirs=$(comm -13 <(printf '%s\n' "$before_dirs") <(ls -d /tmp/idwatch-demo.* 2>/dev/null | sort))
tmux -L "$T_TMUX" kill-server
T_TMUX=""
if t_idw_wait_exit 10; then t_ok "--demo: idwatch exits when its terminal goes away"; else
    t_fail "--demo: idwatch ($pid) still runs 10 s after its terminal went away"
    kill -9 "$pid" 2>/dev/null || true
fi
left=""
for _ in $(seq 1 50); do
    left=""
    for p in $sim_pids; do kill -0 "$p" 2>/dev/null && left="$left $p"; done
    [ -z "$left" ] && break
    sleep 0.1
done
if [ -z "$left" ]; then t_ok "--demo: the simulator is gone too"; else
    t_fail "--demo: the simulator still runs:$left"
    for p in $left; do kill "$p" 2>/dev/null || true; done
fi
stale=""
for d in $demo_dirs; do [ -e "$d" ] && stale="$stale $d"; done
if [ -z "$stale" ]; then t_ok "--demo: its state directory is removed"; else
    t_fail "--demo: state directory left behind:$stale"
fi

t_done
