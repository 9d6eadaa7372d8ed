#!/usr/bin/env bash
# Dashboard options and modes in tmux on a frozen simulator: --ascii (golden, ASCII bytes only),
# NO_COLOR (attributes but no colours), the theme key, --read-only (badge, a write key says why
# it is disabled, nothing written) and the kubeconfig context switch.
# Rewrite the goldens after an intended change: IDW_UPDATE_GOLDEN=1 (see lib/common.sh).
source "$(dirname "$0")/lib/common.sh"
t_need tmux python3 curl

t_sim_start_frozen demo

main_ready() {
    t_tmux_wait_for "synced" 60 >/dev/null || true
    t_screen_settle 30 >/dev/null || true
    t_tmux_keys g
    t_screen_settle 10 >/dev/null || true
}

# sgr_count colour|attr: how many SGR parameters of `capture-pane -e` output (stdin) set a
# colour (30-37 40-47 90-97 100-107 38;.. 48;..; not 39/49, the defaults) or bold/reverse (1, 7).
sgr_count() {
    python3 -c '
import re, sys
want, n = sys.argv[1], 0
for m in re.finditer(r"\x1b\[([0-9;]*)m", sys.stdin.read()):
    ps = [int(p) for p in m.group(1).split(";") if p]
    i = 0
    while i < len(ps):
        p = ps[i]
        if p in (38, 48):
            n += want == "colour"
            i += 3 if i + 1 < len(ps) and ps[i + 1] == 5 else 5
            continue
        if want == "colour" and (30 <= p <= 37 or 40 <= p <= 47 or 90 <= p <= 97 or 100 <= p <= 107):
            n += 1
        if want == "attr" and p in (1, 7):
            n += 1
        i += 1
print(n)' "$1"
}

# ---- --ascii ----
t_idw_start 80 24 -- --ascii
main_ready
t_golden main-ascii-80x24
if t_tmux_screen | LC_ALL=C grep -q $'[\x80-\xff]'; then
    t_fail "--ascii: the screen holds non-ASCII characters:"
    t_tmux_screen | LC_ALL=C grep $'[\x80-\xff]' | head -3 >&2
else
    t_ok "--ascii: only ASCII on the screen"
fi
t_tmux_keys '?'
t_expect "--ascii: ? opens the help" ": keys" 10
t_tmux_keys G
t_expect "--ascii: the help legend is ASCII too" "+ ok   x broken" 10

# ---- colours, the theme key ----
t_idw_start 80 24
main_ready
n=$(t_tmux_screen_attrs | sgr_count colour)
before=$(t_screen_cells | sed -n 1,22p)
if [ "$n" -gt 0 ]; then t_ok "the default theme draws in colour ($n colour changes)"; else
    t_fail "the default theme drew no colour at all"; fi
t_tmux_keys t
t_expect "t switches to the next theme" "theme high-contrast" 10
after=$(t_screen_cells | sed -n 1,22p)
if [ "$before" != "$after" ]; then
    t_ok "the theme changed the colours of the table"
else
    t_fail "t: the screen's colours stayed the same"
fi
if [ "$(printf '%s\n' "$before" | sed -E 's/\[[^]]*\]//g')" = \
    "$(printf '%s\n' "$after" | sed -E 's/\[[^]]*\]//g')" ]; then
    t_ok "the theme changed nothing but colours above the status line"
else
    t_fail "t: the text of the screen changed"
fi
# the five shipped themes cycle back to the first
for _ in 1 2 3 4; do t_tmux_keys t; sleep 0.3; done
t_expect "t cycles back to the default theme" "theme default" 10
back=$(t_screen_cells | sed -n 1,22p)
if [ "$before" = "$back" ]; then
    t_ok "the default theme looks as before"
else
    t_fail "after a full theme cycle the screen differs from the start"
fi

# ---- NO_COLOR ----
t_idw_start 80 24 NO_COLOR=1
main_ready
shot=$(t_tmux_screen_attrs)
n=$(printf '%s' "$shot" | sgr_count colour)
if [ "$n" -eq 0 ]; then t_ok "NO_COLOR: no colour on the screen"; else
    t_fail "NO_COLOR: $n colour changes on the screen"
    printf '%s\n' "$shot" | cat -v | head -5 >&2
fi
if [ "$(printf '%s' "$shot" | sgr_count attr)" -gt 0 ]; then
    t_ok "NO_COLOR: bold/reverse still mark the header and the cursor"
else
    t_fail "NO_COLOR: no attributes at all (the cursor is invisible)"
fi
t_tmux_screen | t_mask >"$T_TMP/nocolor.txt"
t_golden main-80x24 "$(cat "$T_TMP/nocolor.txt")"
t_tmux_keys t
t_expect "NO_COLOR: the theme key says the screen stays monochrome" "(monochrome: NO_COLOR" 10

# ---- --read-only ----
writes0=$(t_sim_stat writes)
t_idw_start 80 24 -- --read-only
main_ready
t_expect "--read-only: READ-ONLY in the header" "READ-ONLY" 5
t_golden main-readonly-80x24
t_tmux_keys w
t_expect "--read-only: w says why it is disabled" \
    "w: disabled in read-only mode (--read-only): it would change the cluster" 10
t_golden readonly-w-80x24
t_tmux_keys '?'
t_expect "--read-only: ? opens the help" ": keys" 10
t_tmux_keys G
t_expect "--read-only: the help marks the write keys" "(read-only)" 10
t_tmux_keys q
writes1=$(t_sim_stat writes)
if [ "$writes1" = "$writes0" ]; then t_ok "--read-only: the simulator saw no writes"; else
    t_fail "--read-only: the simulator counted $((writes1 - writes0)) writes"; fi

# ---- context switch ----
t_idw_start 80 24
main_ready
t_tmux_keys c
t_expect "c opens the context picker" "Context (Enter switches" 10
t_golden ctx-picker-80x24
t_tmux_keys j
sleep 0.3
t_tmux_keys Enter
t_expect "picking sim-cert switches the context" "| ctx sim-cert |" 15
t_expect "the switch is confirmed" "switched to context sim-cert" 10
t_tmux_keys g # (the message lasts until a key)
t_expect_re "the new context syncs the same cluster" 'synced  ([0-9]+) workloads, \1 shown' 30
t_screen_settle 20 >/dev/null || true
t_tmux_screen | t_mask | sed '1s/ctx sim-cert/ctx sim-token/' >"$T_TMP/ctx.txt"
t_golden main-80x24 "$(cat "$T_TMP/ctx.txt")"

# switching back and forth while moving: every switch replaces the data under the table, and
# keys that come before the next frame must not touch the old rows (ASan reports land in t_done)
for i in 1 2 3 4; do
    t_tmux_keys c
    sleep 0.4
    if [ $((i % 2)) = 1 ]; then t_tmux_keys k; else t_tmux_keys j; fi
    sleep 0.2
    t_tmux_keys Enter
    for _ in $(seq 1 25); do t_tmux_keys j k; sleep 0.05; done
    t_tmux_wait_for "synced" 30 >/dev/null || true
done
if kill -0 "$T_IDW_PID" 2>/dev/null; then t_ok "idwatch survives four context switches"; else
    t_fail "idwatch died during the context switches; screen:"
    t_tmux_screen >&2
fi

# -l lists only the workloads it selects (their own labels); the rest of the screen is the
# cluster's: the header keeps every cluster fact
t_idw_start 80 24 -- -l 'app in (payments-api,orders-api)'
t_expect "-l: two workloads shown" "workloads, 2 shown" 30
t_expect "-l: the status line names the selector" "-l app in (payments-api,orders-api)" 10
t_expect "-l: the header still counts the cluster's NMI pods" "pod-id ●" 10
# -n of a namespace that does not exist: the header says so
t_idw_start 80 24 -- -n doesnotexist
t_expect "-n of a missing namespace: the header says it does not exist" "(does not exist)" 30

t_done
