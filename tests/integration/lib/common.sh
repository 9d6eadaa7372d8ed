# Shared helpers for integration tests (sourced, not run). Everything talks to 127.0.0.1 only.
# Env from ctest: IDWATCH, IDWATCH_SIM, IDW_SOURCE_DIR, IDW_BINARY_DIR, IDW_SHARED_DIR.

set -euo pipefail

: "${IDWATCH:?IDWATCH must point at the idwatch binary}"
: "${IDWATCH_SIM:?IDWATCH_SIM must point at the idwatch-sim binary}"

T_TMP=$(mktemp -d /tmp/idw-it.XXXXXX)
T_SIM_PID=""
T_TMUX=""
T_FAILS=0
T_PASSES=0
T_PIDS=() # more helper processes to stop at exit (t_proxy_start)

t_cleanup() {
    local rc=$?
    if [ -n "$T_TMUX" ]; then tmux -L "$T_TMUX" kill-server 2>/dev/null || true; fi
    local p
    for p in "${T_PIDS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
    if [ -n "$T_SIM_PID" ]; then
        kill "$T_SIM_PID" 2>/dev/null || true
        wait "$T_SIM_PID" 2>/dev/null || true
    fi
    rm -rf "$T_TMP"
    exit $rc
}
trap t_cleanup EXIT

t_log() { printf '%s\n' "$*" >&2; }

t_ok() { T_PASSES=$((T_PASSES + 1)); t_log "ok: $*"; }

# t_need CMD...: a test that cannot run without these tools reports SKIPPED to ctest (exit 77,
# the tests' SKIP_RETURN_CODE), never "Passed"; CI fails on a skipped test (scripts/test).
T_SKIP=77
t_need() {
    local c
    for c in "$@"; do
        command -v "$c" >/dev/null 2>&1 || { echo "SKIPPED: $c is not installed"; exit "$T_SKIP"; }
    done
}

t_fail() {
    T_FAILS=$((T_FAILS + 1))
    t_log "FAIL: $*"
}

# t_done: prints the closing line and exits non-zero if anything failed (a sanitizer report of
# a dashboard run counts as a failure).
t_done() {
    local f
    for f in "$T_TMP"/asan.* "$T_TMP"/ubsan.*; do
        [ -e "$f" ] || continue
        t_fail "sanitizer report from idwatch ($(basename "$f")):"
        head -n 60 "$f" >&2
    done
    echo "$T_PASSES passed, $T_FAILS failed"
    [ "$T_FAILS" -eq 0 ]
}

# t_sim_start SCENARIO [extra sim args...]: starts idwatch-sim on a free port; sets
# T_SIM_DIR, T_SIM_PORT, T_KUBECONFIG, T_SIM_URL.
t_sim_start() {
    local scenario=$1
    shift
    T_SIM_DIR="$T_TMP/sim"
    mkdir -p "$T_SIM_DIR"
    "$IDWATCH_SIM" --scenario "$scenario" --state-dir "$T_SIM_DIR" --listen 127.0.0.1:0 "$@" \
        >"$T_TMP/sim.out" 2>"$T_TMP/sim.err" &
    T_SIM_PID=$!
    local i
    for i in $(seq 1 600); do
        if grep -q '^READY ' "$T_TMP/sim.out" 2>/dev/null; then break; fi
        if ! kill -0 "$T_SIM_PID" 2>/dev/null; then
            t_log "idwatch-sim exited early:"; cat "$T_TMP/sim.err" >&2; return 1
        fi
        sleep 0.1
    done
    T_SIM_PORT=$(awk '/^READY /{print $2; exit}' "$T_TMP/sim.out")
    [ -n "$T_SIM_PORT" ] || { t_log "idwatch-sim never printed READY"; return 1; }
    T_KUBECONFIG="$T_SIM_DIR/kubeconfig"
    T_SIM_URL="https://127.0.0.1:$T_SIM_PORT"
}

# t_sim_curl PATH [curl args...]: talks to the simulator's /_sim endpoints.
t_sim_curl() {
    local path=$1
    shift
    curl -sS --cacert "$T_SIM_DIR/ca.crt" "$@" "$T_SIM_URL$path"
}

# t_sim_stat KEY: a top-level number from /_sim/stats (writes, dry_runs, non_get, bytes_sent).
t_sim_stat() {
    t_sim_curl /_sim/stats | python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"
}

# ---- tmux ----
# t_tmux_start COLS ROWS CMD...: runs CMD in a detached tmux session of that size.
t_tmux_start() {
    local cols=$1 rows=$2
    shift 2
    T_TMUX="idw-$$-$RANDOM"
    tmux -L "$T_TMUX" -f /dev/null new-session -d -s t -x "$cols" -y "$rows" \
        "env TERM=xterm-256color LANG=C.UTF-8 LC_ALL=C.UTF-8 $*; sleep 30"
    tmux -L "$T_TMUX" set-option -t t status off >/dev/null
}

t_tmux_keys() { tmux -L "$T_TMUX" send-keys -t t "$@"; }

t_tmux_screen() { tmux -L "$T_TMUX" capture-pane -p -t t; }

# t_tmux_wait_for TEXT [SECONDS]: waits until the screen shows TEXT (fixed string).
# (Waits count wall-clock time: on a busy machine a capture can take longer than the sleep.)
t_ms() { echo $(($(date +%s%N) / 1000000)); }

t_tmux_wait_for() {
    local text=$1 secs=${2:-20}
    local end=$(($(t_ms) + secs * 1000))
    while :; do
        if t_tmux_screen | grep -qF -- "$text"; then return 0; fi
        [ "$(t_ms)" -lt "$end" ] || break
        sleep 0.1
    done
    t_log "screen never showed '$text'; screen was:"
    t_tmux_screen >&2
    return 1
}

# ---- dashboard tests (tui_*.sh): a frozen simulator, idwatch in tmux, golden screens ----
# Golden screens live in tests/integration/golden/<name>.txt. After an intended change of the
# screen, rewrite them with IDW_UPDATE_GOLDEN=1 (e.g. `IDW_UPDATE_GOLDEN=1 ctest -R tui_`), read
# the diff in git, and commit it with the change.

T_SRC=${IDW_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)}
T_GOLDEN_DIR=${IDW_GOLDEN_DIR:-$T_SRC/tests/integration/golden} # (override: test-the-tests)
T_IDW_PID_FILE="$T_TMP/idwatch.pid"

# t_scenario_pinned NAME [EPOCH]: writes $T_TMP/NAME-pinned.json, the scenario with its clock pinned
# (cluster.startTime = now, to the second) and its OIDC issuer on a closed loopback port (so the
# issuer check fails the same way with or without internet). Sets T_NOW to that time: pass it as
# IDWATCH_FAKE_NOW so ages, windows and sparklines match the frozen simulator exactly.
t_scenario_pinned() {
    local name=$1 src="$T_SRC/tests/sim/scenarios/$1.json"
    T_NOW=${2:-$(date -u +%s)}
    T_SCENARIO="$T_TMP/$name-pinned.json"
    python3 - "$src" "$T_SCENARIO" "$T_NOW" <<'PY'
import datetime, json, sys
src, dst, now = sys.argv[1], sys.argv[2], int(sys.argv[3])
d = json.load(open(src))
c = d.setdefault("cluster", {})
c["startTime"] = datetime.datetime.fromtimestamp(now, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
c["oidcIssuer"] = "https://127.0.0.1:9/idwatch-test-issuer/"
json.dump(d, open(dst, "w"), indent=1)
PY
}

# t_sim_start_frozen NAME [sim args...]: the pinned scenario on a simulator whose time stands
# still (--frozen): no NMI traffic, churn or cronjobs unless the test advances it.
t_sim_start_frozen() {
    local name=$1
    shift
    t_scenario_pinned "$name" "${T_PIN_EPOCH:-}"
    t_sim_start "$T_SCENARIO" --frozen "$@"
}

# t_sim_token: the bearer token of the simulator's kubeconfig (context sim-token).
t_sim_token() { awk '$1 == "token:" {print $2; exit}' "$T_KUBECONFIG"; }

# t_kube_curl PATH [curl args...]: the simulator's Kubernetes API as user admin.
t_kube_curl() {
    local path=$1
    shift
    curl -sS --fail --cacert "$T_SIM_DIR/ca.crt" -H "Authorization: Bearer $(t_sim_token)" "$@" \
        "$T_SIM_URL$path"
}

# t_idw_start COLS ROWS [ENV=VALUE...] [--] [idwatch args...]: idwatch in a detached tmux
# session of that size, against the simulator, with --no-azure (T_IDW_AZURE=1: with the
# simulator's Azure instead, from its azure.env) and IDWATCH_FAKE_NOW=$T_NOW
# (override either by passing them), in an empty directory, with XDG_CONFIG_HOME holding only the
# shipped themes and without the user's IDWATCH_THEME, NO_COLOR or IDWATCH_READ_ONLY. The pid of idwatch itself goes to $T_IDW_PID_FILE; when it
# exits, the pane shows "[idwatch exited N]" and stays.
t_idw_start() {
    local cols=$1 rows=$2
    shift 2
    local envs=() arg
    while [ $# -gt 0 ]; do
        case $1 in
        --) shift; break ;;
        [A-Z_]*=*) envs+=("$1"); shift ;;
        *) break ;;
        esac
    done
    local launcher="$T_TMP/launch-idwatch.sh"
    # a config dir of our own: the shipped themes and nothing of the user's
    mkdir -p "$T_TMP/config/idwatch" "$T_TMP/run"
    ln -sfn "$T_SRC/themes" "$T_TMP/config/idwatch/themes"
    {
        echo '#!/bin/sh'
        printf 'echo $$ >%q\n' "$T_IDW_PID_FILE"
        printf 'cd %q || exit 1\n' "$T_TMP/run"
        if [ "${T_IDW_AZURE:-0}" = 1 ]; then printf 'set -a; . %q; set +a\n' "$T_SIM_DIR/azure.env"; fi
        printf 'exec env -u IDWATCH_THEME -u NO_COLOR -u IDWATCH_READ_ONLY XDG_CONFIG_HOME=%q' "$T_TMP/config"
        printf ' TERM=xterm-256color LANG=C.UTF-8 LC_ALL=C.UTF-8 IDWATCH_FAKE_NOW=%q' "${T_NOW:-}"
        # sanitizer reports go to files (t_done fails on them), not into the screen
        printf ' ASAN_OPTIONS=%q' "${ASAN_OPTIONS:+$ASAN_OPTIONS:}log_path=$T_TMP/asan"
        printf ' UBSAN_OPTIONS=%q' "${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}print_stacktrace=1:log_path=$T_TMP/ubsan"
        for arg in "${envs[@]}"; do printf ' %q' "$arg"; done
        printf ' %q' "$IDWATCH"
        if [ -n "${T_KUBECONFIG:-}" ]; then printf ' --kubeconfig %q' "$T_KUBECONFIG"; fi
        if [ -n "${T_KUBECONFIG:-}" ] && [ "${T_IDW_AZURE:-0}" != 1 ]; then printf ' --no-azure'; fi
        for arg in "$@"; do printf ' %q' "$arg"; done
        echo
    } >"$launcher"
    rm -f "$T_IDW_PID_FILE"
    if [ -n "$T_TMUX" ]; then tmux -L "$T_TMUX" kill-server 2>/dev/null || true; fi
    T_TMUX="idw-$$-$RANDOM"
    tmux -L "$T_TMUX" -f /dev/null new-session -d -s t -x "$cols" -y "$rows" \
        "sh $launcher; echo \"[idwatch exited \$?]\"; sleep 600"
    tmux -L "$T_TMUX" set-option -t t status off >/dev/null
    # the window follows resize-window, not the size of a (nonexistent) client
    tmux -L "$T_TMUX" set-option -g window-size manual >/dev/null 2>&1 || true
    local i
    for i in $(seq 1 50); do [ -s "$T_IDW_PID_FILE" ] && break; sleep 0.1; done
    T_IDW_PID=$(cat "$T_IDW_PID_FILE" 2>/dev/null || true)
}

# t_tmux_resize COLS ROWS: resizes the window (idwatch gets SIGWINCH).
t_tmux_resize() { tmux -L "$T_TMUX" resize-window -t t -x "$1" -y "$2"; }

# t_tmux_screen_attrs: the screen with its colours and attributes as escape sequences.
t_tmux_screen_attrs() { tmux -L "$T_TMUX" capture-pane -p -e -t t; }

# t_screen_cells: the screen as runs of "attributes|text", one line per screen line: the same
# picture always gives the same text (capture-pane -e may place the same colour changes
# differently from one capture to the next).
t_screen_cells() {
    t_tmux_screen_attrs | python3 -c '
import re, sys
st = {}
def sgr(ps):
    i = 0
    while i < len(ps):
        p = ps[i]
        if p == 0: st.clear()
        elif p in (38, 48):
            key = "fg" if p == 38 else "bg"
            if i + 1 < len(ps) and ps[i + 1] == 5: st[key] = "5;%d" % ps[i + 2]; i += 2
            elif i + 1 < len(ps) and ps[i + 1] == 2: st[key] = "2;%d;%d;%d" % tuple(ps[i + 2:i + 5]); i += 4
        elif 30 <= p <= 37 or 90 <= p <= 97: st["fg"] = str(p)
        elif 40 <= p <= 47 or 100 <= p <= 107: st["bg"] = str(p)
        elif p == 39: st.pop("fg", None)
        elif p == 49: st.pop("bg", None)
        elif p == 22: st.pop("a1", None); st.pop("a2", None)
        elif 1 <= p <= 9: st["a%d" % p] = "1"
        elif 23 <= p <= 29: st.pop("a%d" % (p - 20), None)
        i += 1
for line in sys.stdin.read().split("\n"):
    runs, prev = [], None
    for m in re.finditer(r"\x1b\[([0-9;]*)m|([^\x1b]+)|\x1b", line):
        if m.group(1) is not None:
            sgr([int(x) for x in m.group(1).split(";") if x] or [0])
        elif m.group(2):
            key = ",".join("%s=%s" % kv for kv in sorted(st.items()))
            if runs and prev == key: runs[-1] += m.group(2)
            else: runs.append("[" + key + "]" + m.group(2)); prev = key
    print("".join(runs))
'
}

# t_mask: stdin to stdout with the volatile parts of a screen replaced by fixed tokens: the
# simulator's port, request counts (they move with NMI traffic), ages and sparklines.
t_mask() {
    sed -E \
        -e 's/127\.0\.0\.1:[0-9]+/127.0.0.1:PORT/g' \
        -e 's/: [0-9,]+ requests, [0-9,]+ unattributed/: N requests, N unattributed/' \
        -e 's/\| [0-9,]+ req, [0-9,]+ unattrib/| N req, N unattrib/' \
        -e 's/newest [0-9]{2}:[0-9]{2}:[0-9]{2}/newest TIME/' \
        -e 's/^( .*[^ ]) +[0-9,]+ req +[0-9]+ err +(<1m|[0-9]+[mhd]) .*$/\1  N req  N err  AGE SPARK/' \
        -e 's/(●|\*) [0-9]+( |$)/\1 N\2/g' \
        -e 's/! [0-9]+\/[0-9]*~?( |$)/! N\/N\1/g' \
        -e 's/! [0-9]+\/[0-9]+/! N\/N/g' \
        -e 's/requests +[0-9]+ in the last ([0-9]+[mhd]), [0-9]+ errors, last (never|<1m ago|[0-9]+[mhd] ago)/requests        N in the last \1, N errors, last AGE/' \
        -e 's/^([0-9]{2}:[0-9]{2}:[0-9]{2}) +[0-9]{3} /TIME STS /' \
        -e 's/[0-9]+ of [0-9]+ token requests/N of N token requests/'
}

# t_screen_settle [SECONDS]: waits until the masked screen has stayed the same for a second
# (the first sync, the NMI logs and the checks have landed); prints it.
t_screen_settle() {
    local end=$(($(t_ms) + ${1:-20} * 1000)) prev="" cur since=0
    while [ "$(t_ms)" -lt "$end" ]; do
        cur=$(t_tmux_screen | t_mask)
        if [ "$cur" != "$prev" ]; then
            prev=$cur
            since=$(t_ms)
        elif [ $(($(t_ms) - since)) -ge 1000 ]; then
            printf '%s\n' "$cur"
            return 0
        fi
        sleep 0.2
    done
    t_log "screen never settled; last screen was:"
    printf '%s\n' "$cur" >&2
    return 1
}

# t_golden NAME [SCREEN]: compares the masked screen (or SCREEN, already masked) with
# golden/NAME.txt; prints a unified diff on mismatch (a failure is counted, the script goes on).
# IDW_UPDATE_GOLDEN=1 rewrites the golden.
t_golden() {
    local name=$1 file="$T_GOLDEN_DIR/$1.txt" got="$T_TMP/got-$1.txt"
    if [ $# -ge 2 ]; then printf '%s\n' "$2" >"$got"; else t_tmux_screen | t_mask >"$got"; fi
    if [ "${IDW_UPDATE_GOLDEN:-0}" = 1 ]; then
        mkdir -p "$T_GOLDEN_DIR"
        cp "$got" "$file"
        t_ok "golden $name (rewritten)"
        return 0
    fi
    if [ ! -f "$file" ]; then
        t_fail "golden $name: $file is missing (IDW_UPDATE_GOLDEN=1 writes it); screen was:"
        cat "$got" >&2
        return 0
    fi
    if diff -u --label "golden/$name.txt" --label "screen" "$file" "$got" >&2; then
        t_ok "golden $name"
    else
        t_fail "golden $name: the screen differs (diff above)"
    fi
}

# t_expect DESCRIPTION TEXT [SECONDS]: ok when the screen shows TEXT within the time.
t_expect() {
    if t_tmux_wait_for "$2" "${3:-20}"; then t_ok "$1"; else t_fail "$1"; fi
}

# t_expect_re DESCRIPTION REGEX [SECONDS]: the same with an extended regular expression.
t_expect_re() {
    local end=$(($(t_ms) + ${3:-20} * 1000))
    while :; do
        if t_tmux_screen | grep -qE -- "$2"; then t_ok "$1"; return 0; fi
        [ "$(t_ms)" -lt "$end" ] || break
        sleep 0.1
    done
    t_log "screen never matched /$2/; screen was:"
    t_tmux_screen >&2
    t_fail "$1"
}

# t_idw_wait_exit [SECONDS]: waits until idwatch's process is gone; 0 when it went.
t_idw_wait_exit() {
    local end=$(($(t_ms) + ${1:-10} * 1000))
    while :; do
        kill -0 "$T_IDW_PID" 2>/dev/null || return 0
        [ "$(t_ms)" -lt "$end" ] || return 1
        sleep 0.1
    done
}

# t_proxy_start: puts lib/tcpproxy.py between idwatch and the simulator (after t_sim_start) and
# points T_KUBECONFIG at it. t_proxy_mode up|down|hang then switches the cluster on and off.
t_proxy_start() {
    T_PROXY_MODE="$T_TMP/proxy.mode"
    echo up >"$T_PROXY_MODE"
    python3 "$T_SRC/tests/integration/lib/tcpproxy.py" "$T_SIM_PORT" "$T_PROXY_MODE" \
        >"$T_TMP/proxy.out" 2>"$T_TMP/proxy.err" &
    T_PIDS+=($!)
    local i
    for i in $(seq 1 100); do
        grep -q '^READY ' "$T_TMP/proxy.out" 2>/dev/null && break
        sleep 0.1
    done
    T_PROXY_PORT=$(awk '/^READY /{print $2; exit}' "$T_TMP/proxy.out")
    [ -n "$T_PROXY_PORT" ] || { t_log "tcpproxy never printed READY"; cat "$T_TMP/proxy.err" >&2; return 1; }
    sed "s#https://127.0.0.1:$T_SIM_PORT#https://127.0.0.1:$T_PROXY_PORT#" "$T_KUBECONFIG" \
        >"$T_TMP/proxy-kubeconfig"
    chmod 600 "$T_TMP/proxy-kubeconfig"
    T_KUBECONFIG="$T_TMP/proxy-kubeconfig"
}

t_proxy_mode() { echo "$1" >"$T_PROXY_MODE"; }
