# Several simulated clusters at once, for fleet reports (sourced after lib/common.sh).

# t_sims_start N SCENARIO [sim args...]: starts N simulators on free ports, in parallel; their
# state dirs are T_SIMS_DIR[i], their ports T_SIMS_PORT[i]. t_cleanup stops them (T_PIDS).
T_SIMS_DIR=()
T_SIMS_PORT=()
t_sims_start() {
    local n=$1 scenario=$2 i d first=${#T_SIMS_DIR[@]}
    shift 2
    for ((i = first; i < first + n; i++)); do
        d="$T_TMP/sims/$i"
        mkdir -p "$d"
        "$IDWATCH_SIM" --scenario "$scenario" --state-dir "$d" --listen 127.0.0.1:0 "$@" \
            >"$d.out" 2>"$d.err" &
        T_PIDS+=($!)
        T_SIMS_DIR[i]=$d
    done
    for ((i = first; i < first + n; i++)); do
        d=${T_SIMS_DIR[i]}
        local k
        for k in $(seq 1 900); do
            grep -q '^READY ' "$d.out" 2>/dev/null && break
            sleep 0.1
        done
        T_SIMS_PORT[i]=$(awk '/^READY /{print $2; exit}' "$d.out")
        [ -n "${T_SIMS_PORT[i]}" ] || { t_log "simulator $i never printed READY:"; cat "$d.err" >&2; return 1; }
    done
}

# t_fleet_kubeconfig OUT NAME=INDEX|NAME=closed ...: one kubeconfig holding a context NAME for the
# simulator INDEX (its cluster and bearer token), or for a closed loopback port (a cluster that
# cannot be reached). The first context is the current one.
t_fleet_kubeconfig() {
    local out=$1
    shift
    local spec=() a
    for a in "$@"; do
        case ${a#*=} in
        closed) spec+=("${a%%=*}=closed") ;;
        *) spec+=("${a%%=*}=${T_SIMS_DIR[${a#*=}]}/kubeconfig") ;;
        esac
    done
    python3 - "$out" "${spec[@]}" <<'PY'
import os, re, sys
out, specs = sys.argv[1], sys.argv[2:]
clusters, users, contexts = [], [], []
for s in specs:
    name, src = s.split("=", 1)
    if src == "closed":
        server, ca, token = "https://127.0.0.1:1", None, "no-such-token-0000"
    else:
        text = open(src).read()
        server = re.search(r"^\s+server: (\S+)$", text, re.M).group(1)
        ca = re.search(r"certificate-authority-data: (\S+)", text).group(1)
        token = re.search(r"^\s+token: (\S+)$", text, re.M).group(1)
    clusters.append("- name: %s\n  cluster:\n    server: %s\n%s" % (
        name, server, "    certificate-authority-data: %s\n" % ca if ca else ""))
    users.append("- name: %s\n  user:\n    token: %s\n" % (name, token))
    contexts.append("- name: %s\n  context:\n    cluster: %s\n    user: %s\n" % (name, name, name))
first = specs[0].split("=", 1)[0]
fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
with os.fdopen(fd, "w") as f:
    f.write("apiVersion: v1\nkind: Config\nclusters:\n%susers:\n%scontexts:\n%scurrent-context: %s\n"
            % ("".join(clusters), "".join(users), "".join(contexts), first))
PY
}
