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

t_cleanup() {
    local rc=$?
    if [ -n "$T_TMUX" ]; then tmux -L "$T_TMUX" kill-server 2>/dev/null || true; fi
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

t_fail() {
    T_FAILS=$((T_FAILS + 1))
    t_log "FAIL: $*"
}

# t_done: prints the closing line and exits non-zero if anything failed.
t_done() {
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
t_tmux_wait_for() {
    local text=$1 secs=${2:-20} i
    for i in $(seq 1 $((secs * 10))); do
        if t_tmux_screen | grep -qF -- "$text"; then return 0; fi
        sleep 0.1
    done
    t_log "screen never showed '$text'; screen was:"
    t_tmux_screen >&2
    return 1
}
