#!/usr/bin/env bash
# --read-only: the header says READ-ONLY in text; help lists the write keys as disabled and the key
# hints grey them; every write key pressed (on the table and on the detail screen) says why;
# afterwards the simulator counted zero writes and zero dry runs (Kubernetes and ARM), and no
# action log was written. The guarantee itself lives in net (unit-tested there); this proves the
# whole program keeps it. Azure is on (the sim's azure.env) when the simulator serves it, so the
# ARM side is covered too. No fixed sleeps: each key waits for its own message.
set -euo pipefail
SELF_DIR=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib/common.sh
source "$SELF_DIR/lib/common.sh"

t_need tmux python3 curl

t_sim_start demo
STATE="$T_TMP/xdg-state"
mkdir -p "$STATE"
cat >"$T_TMP/run.sh" <<EOF
set -a
[ -f '$T_SIM_DIR/azure.env' ] && . '$T_SIM_DIR/azure.env'
set +a
export XDG_STATE_HOME='$STATE'
export ASAN_OPTIONS='${ASAN_OPTIONS:+$ASAN_OPTIONS:}log_path=$T_TMP/idw-asan'
export UBSAN_OPTIONS='${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}print_stacktrace=1:log_path=$T_TMP/idw-ubsan'
'$IDWATCH' --read-only --kubeconfig '$T_KUBECONFIG'
echo "[idwatch exited \$?]"
EOF
t_tmux_start 132 40 bash "$T_TMP/run.sh"
stop_idwatch() { # on an early exit: idwatch by its pid, before its terminal goes
    local pane kid i
    pane=$(tmux -L "$T_TMUX" list-panes -t t -F '#{pane_pid}' 2>/dev/null) || return 0
    for kid in $(pgrep -P "$pane" 2>/dev/null); do
        for i in $(pgrep -P "$kid" 2>/dev/null); do
            kill "$i" 2>/dev/null || true
            for _ in $(seq 1 50); do kill -0 "$i" 2>/dev/null || break; sleep 0.1; done
            kill -9 "$i" 2>/dev/null || true
        done
    done
}
trap 'rc=$?; set +e; stop_idwatch; (exit $rc); t_cleanup' EXIT
t_tmux_wait_for " shown" 90 || { t_fail "dashboard never showed the workloads"; t_done; }

status_line() { t_tmux_screen | tail -n 2 | head -n 1; }
wait_status() { # wait_status REGEX [SECONDS]: until the status line matches
    local i
    for i in $(seq 1 $((${2:-10} * 10))); do
        status_line | grep -qE -- "$1" && return 0
        sleep 0.1
    done
    t_log "status line never matched /$1/; it was: $(status_line)"
    return 1
}

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
t_tmux_keys '?'
t_tmux_wait_for " NAMESPACE" 10 || t_fail "help did not close"

# a workload with something to fix
t_tmux_keys /
t_tmux_keys C-u
t_tmux_keys -l orders/orders-events
t_tmux_keys Enter
wait_status "workloads, 1 shown" 10 || t_fail "could not select orders/orders-events"
# the filter applies while typing: wait for the prompt to give the last line back to the hints
for _ in $(seq 1 100); do t_tmux_screen | tail -n 1 | grep -q "Enter detail" && break; sleep 0.1; done

# the hints grey the write keys (dim, as for any disallowed key)
hints=$(tmux -L "$T_TMUX" capture-pane -p -e -t t | tail -n 1)
if python3 -c '
import re, sys
line = sys.stdin.read()
def dim(text):
    m = re.search(r"((?:\x1b\[[0-9;]*m)+)" + re.escape(text) + r"(?=[\x1b ]|$)", line.rstrip("\n"))
    on = False
    for seq in re.findall(r"\x1b\[([0-9;]*)m", m.group(1) if m else ""):
        ps = [int(x) if x else 0 for x in seq.split(";")]
        i = 0
        while i < len(ps):
            if ps[i] in (38, 48):
                i += 3 if i + 1 < len(ps) and ps[i + 1] == 5 else 5
                continue
            on = (on or ps[i] == 2) and ps[i] not in (0, 22)
            i += 1
    return on
sys.exit(0 if dim("w label") and dim("M migrate") and not dim("detail") else 1)' <<<"$hints"; then
    t_ok "key hints: the write keys are greyed"
else
    t_fail "key hints: the write keys are not greyed"
fi

# every write key says why, on the table and on the detail screen
for key in w a f p x X R M u; do
    t_tmux_keys "$key"
    if wait_status "^ ?$key: .*read-only" 10; then
        t_ok "$key says why (read-only)"
    else
        t_fail "$key: no read-only message"
        t_tmux_screen >&2
    fi
done
t_tmux_keys Enter
t_tmux_wait_for "Findings" 10 || t_fail "detail did not open"
for key in w M; do
    t_tmux_keys "$key"
    if wait_status "^ ?$key: .*read-only" 10; then
        t_ok "detail: $key refused"
    else
        t_fail "detail: $key not refused"
        t_tmux_screen >&2
    fi
done
t_tmux_keys q # back to the table
t_tmux_wait_for " NAMESPACE" 10 || t_fail "detail did not close"
t_tmux_keys q
t_tmux_wait_for "[idwatch exited 0]" 30 && t_ok "idwatch exited 0" || t_fail "idwatch did not exit cleanly"

stats=$(t_sim_curl /_sim/stats)
python3 - "$stats" <<'EOF' && t_ok "sim: zero writes and zero dry runs (Kubernetes and ARM)" || t_fail "sim counted writes"
import json, sys
s = json.loads(sys.argv[1])
assert s["writes"] == 0 and s["dry_runs"] == 0, s
m = s["requests"]["by_method"]
assert not any(m.get(k) for k in ("PUT", "PATCH", "DELETE")), m
EOF
[ ! -e "$STATE/idwatch/actions.log" ] && t_ok "no action log" || t_fail "an action log was written"
for f in "$T_TMP"/idw-asan.* "$T_TMP"/idw-ubsan.*; do
    [ -e "$f" ] || continue
    t_fail "sanitizer report from idwatch ($(basename "$f")):"
    head -n 60 "$f" >&2
done
t_done
