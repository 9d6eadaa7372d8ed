#!/usr/bin/env bash
# The dashboard's screens against golden files (like tig's tests): idwatch in tmux on a frozen
# simulator, at 80x24 and 132x40; the main table, help, filter, detail, sort, the namespace
# picker, "terminal too small" and resizes. Volatile parts are masked (t_mask in lib/common.sh).
# Rewrite the goldens after an intended change: IDW_UPDATE_GOLDEN=1 (see lib/common.sh).
source "$(dirname "$0")/lib/common.sh"
t_need tmux python3 curl

t_sim_start_frozen demo

# settles the screen, puts the cursor on the first row, settles again
main_ready() {
    t_tmux_wait_for "synced" 60 >/dev/null || true
    t_screen_settle 30 >/dev/null || true
    t_tmux_keys g
    t_screen_settle 10 >/dev/null || true
}

# ---- 80x24 ----
t_idw_start 80 24
if ! t_tmux_wait_for "synced" 60; then
    t_fail "the dashboard never finished its first sync"
    t_done
    exit 1
fi
main_ready
t_golden main-80x24

t_tmux_keys '?'
t_expect "? opens the help" "$("$IDWATCH" --version): keys" 10
t_golden help-80x24
t_tmux_keys q
t_expect "q leaves the help" "NAMESPACE" 10

# filter: typing narrows at once, Enter keeps it
t_tmux_keys / a n a l y t i c s - e x p
t_expect "the filter narrows while typing" "workloads, 1 shown" 10
t_tmux_keys Enter
t_screen_settle 10 >/dev/null || true
t_golden filter-80x24

t_tmux_keys Enter
t_expect "Enter opens the detail" "Findings (" 10
t_golden detail-80x24
t_tmux_keys Escape
t_expect "Esc leaves the detail" "NAMESPACE" 10
t_tmux_keys Escape
t_expect_re "Esc clears the filter" 'synced  ([0-9]+) workloads, \1 shown' 10

# sort by name, then reversed
# (keys that re-sort and keys that move go in separate batches: a move in the same batch acts on
# the old order)
t_tmux_keys g
sleep 0.3
t_tmux_keys s
t_expect "s sorts by the next column" "sorted by NAME" 10
t_tmux_keys g
t_screen_settle 10 >/dev/null || true
t_golden sort-name-80x24
t_tmux_keys S
t_expect "S reverses the order" "NAME↑" 10
t_tmux_keys g
t_screen_settle 10 >/dev/null || true
t_golden sort-name-reverse-80x24
# back to the namespace order (the cycle's length is the view's business)
for _ in $(seq 1 12); do
    t_tmux_screen | grep -qF "NAMESPACE↓" && break
    t_tmux_keys S
    sleep 0.3
    t_tmux_screen | grep -qF "NAMESPACE↓" && break
    t_tmux_keys s
    sleep 0.3
done
t_expect "the sort cycles back to NAMESPACE" "NAMESPACE↓" 5

# namespace picker: pick "legacy", then all namespaces again
t_tmux_keys n
t_expect "n opens the namespace picker" "Namespace (Enter picks" 10
t_golden ns-picker-80x24
for _ in $(seq 1 10); do t_tmux_keys j; done
t_tmux_keys Enter
t_expect "picking legacy narrows to it" "| ns legacy |" 10
t_tmux_keys g
t_screen_settle 10 >/dev/null || true
t_golden ns-legacy-80x24
t_tmux_keys n
t_expect "n again opens the picker" "Namespace (Enter picks" 10
t_tmux_keys g
sleep 0.3
t_tmux_keys Enter
t_expect "(all namespaces) widens again" "| ns all |" 10

# too small, then back
t_tmux_keys g
t_tmux_resize 60 20
t_expect "a 60x20 terminal says it is too small" \
    "terminal too small: need 80x24, have 60x20 (q quits)" 10
t_tmux_keys j j # ignored while too small
t_tmux_resize 80 24
t_expect "back at 80x24 the table returns" "NAMESPACE↓" 10
t_screen_settle 10 >/dev/null || true
t_golden main-80x24

# a resize to 132x40 draws the same screen as a fresh start there
t_tmux_resize 132 40
t_expect "the resize to 132x40 redraws" "migrated ███" 10
t_screen_settle 10 >/dev/null || true
t_golden main-132x40

# ---- 132x40 from the start ----
t_idw_start 132 40
main_ready
t_golden main-132x40
t_tmux_keys '?'
t_expect "? opens the help at 132x40" "Change the cluster" 10
t_golden help-132x40
t_tmux_keys q / a n a l y t i c s - e x p Enter
t_expect "the filter at 132x40" "workloads, 1 shown" 10
t_tmux_keys Enter
t_expect "the detail at 132x40" "Findings (" 10
t_golden detail-132x40

# ---- with Azure on (the simulator's ARM, Graph, Entra ID): real federation verdicts ----
T_IDW_AZURE=1
t_idw_start 80 24
if t_tmux_wait_for "synced" 60; then
    t_expect "the header shows Azure read" "azure ✓" 30
    t_expect "federation verdicts, not unknown" "✗ issuer" 30
    main_ready
    t_golden main-azure-80x24
    t_tmux_keys / p a y m e n t s - f x Enter
    t_screen_settle 10 >/dev/null || true
    t_tmux_keys Enter
    t_expect "the detail of a forbidden identity says why" "could not be verified" 10
    t_golden detail-azure-80x24
else
    t_fail "the dashboard with Azure never finished its first sync"
fi
t_idw_start 132 40
if t_tmux_wait_for "synced" 60; then
    t_expect "the header shows Azure read (132x40)" "azure ✓" 30
    main_ready
    t_golden main-azure-132x40
else
    t_fail "the dashboard with Azure never finished its first sync (132x40)"
fi
T_IDW_AZURE=0

t_done
