#!/usr/bin/env bash
# The action is one enum from the key to the network: rebinding an action in one place (the
# keymap, here through IDWATCH_KEYS) moves its key everywhere at once — the hint bar, the help
# screen, the remedy hint in the detail, the dialog's title and the status line — and the key
# does the action (the old key then does nothing). Nothing is applied: the dialog is cancelled.
source "$(dirname "$0")/lib/common.sh"
t_need tmux python3 curl

t_sim_start_frozen demo
t_idw_start 132 40 IDWATCH_KEYS='LABEL_WI=W'
if ! t_tmux_wait_for "synced" 60; then
    t_fail "the dashboard never finished its first sync"
    t_done
    exit 1
fi

hints() { t_tmux_screen | tail -n 1; }
status_line() { t_tmux_screen | tail -n 2 | head -n 1; }

# the hint bar
if hints | grep -q " W label " && ! hints | grep -q " w label "; then
    t_ok "hint bar: W label"
else
    t_fail "hint bar does not show W for label: $(hints)"
fi

# the help screen
t_tmux_keys '?'
t_tmux_wait_for "Change the cluster" 10 || t_fail "help did not open"
help=$(t_tmux_screen)
if printf '%s\n' "$help" | grep -qE '^  W +Label the pod template' &&
    ! printf '%s\n' "$help" | grep -qE '^  w +Label the pod template'; then
    t_ok "help: W labels the pod template"
else
    t_fail "help does not list W for the label action"
    printf '%s\n' "$help" >&2
fi
t_tmux_keys '?'
t_tmux_wait_for " NAMESPACE" 10 || t_fail "help did not close"

# the detail of a workload whose finding the label action fixes (label use=True)
t_tmux_keys /
t_tmux_keys C-u
t_tmux_keys -l orders/orders-events
t_tmux_keys Enter
t_tmux_wait_for "1 shown" 10 || t_fail "the filter did not select orders-events"
t_tmux_keys Enter
t_expect_re "detail: the remedy hint names W" "^ +key: +W +applies this remedy" 10
if t_tmux_screen | grep -qE "^ +key: +w "; then t_fail "detail still names w"; fi
t_tmux_keys Escape
t_tmux_wait_for " NAMESPACE" 10 || t_fail "the detail did not close"

# behaviour: the old key does nothing, the new one opens the label dialog titled with it
dry0=$(t_sim_stat dry_runs)
t_tmux_keys w
sleep 1
if t_tmux_screen | grep -q "label the pod template azure.workload.identity/use=true"; then
    t_fail "w still opens the label dialog"
else
    t_ok "w does nothing once the action is bound to W"
fi
t_tmux_keys W
t_expect "W opens the label dialog, titled W" "W: label the pod template azure.workload.identity/use=true" 20
t_expect "the dry run of the label change is shown" "y apply" 20
[ "$(t_sim_stat dry_runs)" -eq $((dry0 + 1)) ] && t_ok "W sent exactly one dry run" ||
    t_fail "W: expected one dry run, the simulator counted $(($(t_sim_stat dry_runs) - dry0))"
t_tmux_keys Escape
for _ in $(seq 1 50); do status_line | grep -q "W: cancelled" && break; sleep 0.1; done
status_line | grep -q "W: cancelled, nothing was applied" && t_ok "status line names W" ||
    t_fail "status line: $(status_line)"
[ "$(t_sim_stat writes)" -eq 0 ] && t_ok "nothing was written" || t_fail "something was written"

t_done
