#!/usr/bin/env bash
# --read-only: the header says READ-ONLY in text; help lists the write keys as disabled; every
# write key pressed says why; afterwards the simulator counted zero writes and zero dry runs, and
# no action log was written. The guarantee itself lives in net (unit-tested there); this proves
# the whole program keeps it.
set -euo pipefail
SELF_DIR=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib/common.sh
source "$SELF_DIR/lib/common.sh"

command -v tmux >/dev/null || { echo "SKIP: tmux not installed"; exit 0; }

t_sim_start demo
STATE="$T_TMP/xdg-state"
mkdir -p "$STATE"
cat >"$T_TMP/run.sh" <<EOF
set -a
[ -f '$T_SIM_DIR/azure.env' ] && . '$T_SIM_DIR/azure.env'
set +a
export XDG_STATE_HOME='$STATE'
exec '$IDWATCH' --read-only --kubeconfig '$T_KUBECONFIG'
EOF
t_tmux_start 132 40 bash "$T_TMP/run.sh"
t_tmux_wait_for " shown" 60 || { t_fail "dashboard never showed the workloads"; t_done; }

t_tmux_screen | head -n 1 | grep -q "READ-ONLY" && t_ok "header says READ-ONLY" ||
    t_fail "no READ-ONLY in the header"

# help: every write key is listed as disabled
t_tmux_keys '?'
t_tmux_wait_for "Change the cluster" 10 || t_fail "help did not open"
help=$(t_tmux_screen)
if ! printf '%s\n' "$help" | grep -q "Undo the last change"; then
    t_tmux_keys NPage
    t_tmux_wait_for "Undo the last change" 10 || true
    help="$help
$(t_tmux_screen)"
fi
for key in w a f p x X R M u; do
    if printf '%s\n' "$help" | grep -E "^ *$key +.*\(read-only\)" >/dev/null; then
        t_ok "help: $key disabled"
    else
        t_fail "help: $key not marked (read-only)"
    fi
done
t_tmux_keys q

# press every write key on a workload with something to fix (and on the detail screen)
t_tmux_keys / C-u
t_tmux_keys -l orders-events
t_tmux_keys Enter
t_tmux_wait_for "orders-events" 10
for key in w a f p x X R M u; do
    t_tmux_keys "$key"
    sleep 0.3
    if t_tmux_screen | tail -n 2 | grep -q "read-only"; then
        t_ok "$key says why (read-only)"
    else
        t_fail "$key: no read-only message"
        t_tmux_screen >&2
    fi
    t_tmux_keys Escape
    sleep 0.2 # Esc then a key at once reads as Alt-key
done
t_tmux_keys Enter
t_tmux_wait_for "Findings" 10 || t_fail "detail did not open"
sleep 0.3
for key in w M; do
    t_tmux_keys "$key"
    sleep 0.5
    if t_tmux_screen | tail -n 2 | grep -q "read-only"; then
        t_ok "detail: $key refused"
    else
        t_fail "detail: $key not refused"
        t_tmux_screen >&2
    fi
done
t_tmux_keys q
sleep 1

[ "$(t_sim_stat writes)" -eq 0 ] && t_ok "sim: zero writes" || t_fail "sim counted writes"
[ "$(t_sim_stat dry_runs)" -eq 0 ] && t_ok "sim: zero dry runs" || t_fail "sim counted dry runs"
[ ! -e "$STATE/idwatch/actions.log" ] && t_ok "no action log" || t_fail "an action log was written"
t_tmux_keys q
t_done
