#!/usr/bin/env bash
# The dashboard follows the cluster: a label the cluster changes shows in its row within 2 s;
# when the API server stops answering, the last data stays on screen with the error, and when it
# answers again the error goes. A TCP relay (lib/tcpproxy.py) between idwatch and the frozen
# simulator plays the outage, so the simulator keeps its CA and tokens.
source "$(dirname "$0")/lib/common.sh"
t_need tmux python3 curl

t_sim_start_frozen demo
t_proxy_start
T_NOW= # real time here: staleness is about the wall clock

# expect_status DESCRIPTION REGEX SECONDS: the status line (above the hints) matches REGEX.
expect_status() {
    local end=$(($(t_ms) + $3 * 1000))
    while :; do
        if t_tmux_screen | tail -n 2 | head -n 1 | grep -qE -- "$2"; then t_ok "$1"; return 0; fi
        [ "$(t_ms)" -lt "$end" ] || break
        sleep 0.1
    done
    t_log "status line never matched /$2/; screen was:"
    t_tmux_screen >&2
    t_fail "$1"
}

t_idw_start 80 24
if ! t_tmux_wait_for "synced" 60; then
    t_fail "the dashboard never finished its first sync"
    t_done
    exit 1
fi
t_screen_settle 30 >/dev/null || true

# ---- a label changes in the cluster ----
t_tmux_keys / o r d e r s - l e g a c y Enter
t_expect "the filter shows orders-legacy" "workloads, 1 shown" 10
t_expect_re "orders-legacy uses pod identity" 'orders-legacy +deploy +AAD ' 5
patch='{"spec":{"template":{"metadata":{"labels":{"azure.workload.identity/use":"true"}}}}}'
t0=$(date +%s%N)
if t_kube_curl /apis/apps/v1/namespaces/orders/deployments/orders-legacy -X PATCH \
    -H 'Content-Type: application/merge-patch+json' -d "$patch" -o /dev/null; then
    if t_tmux_wait_for "orders-legacy    deploy BOTH" 2 >/dev/null; then
        t_ok "the label shows in the row within 2 s ($((($(date +%s%N) - t0) / 1000000)) ms)"
    else
        t_fail "the row did not change within 2 s of the label; screen:"
        t_tmux_screen >&2
        t_expect "the row changes at all (within 20 s)" "orders-legacy    deploy BOTH" 20
    fi
else
    t_fail "the simulator refused the patch"
fi
t_tmux_keys Escape
t_expect_re "Esc clears the filter" 'synced  ([0-9]+) workloads, \1 shown' 10
rows_before=$(t_tmux_screen | sed -n '4,16p')

# ---- the API server stops answering ----
t_proxy_mode down
expect_status "the outage shows as an error within 15 s" '(✗|x)( |$)' 15
t_tmux_screen >"$T_TMP/down.txt"
if [ "$(sed -n '4,16p' "$T_TMP/down.txt")" = "$rows_before" ]; then
    t_ok "the last data stays on screen during the outage"
else
    t_fail "the table changed during the outage:"
    diff <(printf '%s\n' "$rows_before") <(sed -n '4,16p' "$T_TMP/down.txt") >&2 || true
fi
# the error itself (not only the ✗ marks) is readable: in the detail of a workload or the line
t_tmux_resize 132 40
expect_status "the error text is shown" '\| .*(SSL|connect|reset|refused|closed|Empty reply|EOF)' 10
t_tmux_resize 80 24

# ---- it answers again ----
t_proxy_mode up
expect_status "the error goes within 40 s of the recovery" '^synced  ([0-9]+) workloads, \1 shown' 40
if t_tmux_screen | tail -n 2 | head -n 1 | grep -qE '(✗|x)( |$)'; then
    t_fail "after the recovery sources are still marked failed"
else
    t_ok "after the recovery no source is marked failed"
fi

# ---- it hangs (accepts connections, answers nothing) ----
t_proxy_mode hang
t_tmux_keys r
expect_status "r on a hung API server shows an error within 45 s (10 s probe, slow under the sanitizers)" \
    '(✗|x)( |$)|timed out|timeout|not answering' 45
t_proxy_mode up

t_done
