#!/usr/bin/env bash
# A 429 storm and garbage from ARM: `idwatch report` slows down (honours Retry-After), finishes,
# and still reaches the same verdicts; an identity whose answer is garbage is `unknown` with the
# reason while everything else goes on.
. "$(dirname "$0")/lib/common.sh"
t_need python3 curl
VERDICTS="python3 $IDW_SOURCE_DIR/tests/integration/lib/verdicts.py"

t_sim_start demo
set -a; . "$T_SIM_DIR/azure.env"; set +a

arm_requests() {
    t_sim_curl /_sim/stats | python3 -c 'import json,sys; print(json.load(sys.stdin)["requests"]["by_path_class"].get("arm", 0))'
}

# 1. Four 429s in a row (Retry-After 1 s each; the client gives up on a request after 5 tries),
#    then service again.
t_sim_curl /_sim/faults -X POST --data 'arm:429=1x4' >/dev/null
before=$(arm_requests)
start=$(date +%s)
set +e
"$IDWATCH" report -o json --kubeconfig "$T_KUBECONFIG" >"$T_TMP/storm.json" 2>"$T_TMP/storm.err"
rc=$?
set -e
took=$(( $(date +%s) - start ))
after=$(arm_requests)
pending=$(t_sim_curl /_sim/faults)
[ "$rc" -eq 1 ] && t_ok "report finished through the 429 storm (rc 1, ${took}s)" ||
    { t_fail "report rc $rc after the storm"; cat "$T_TMP/storm.err" >&2; }
if printf '%s' "$pending" | python3 -c 'import json,sys; sys.exit(0 if not json.load(sys.stdin)["faults"] else 1)'; then
    t_ok "all four 429s were served"
else t_fail "faults still pending: $pending"; fi
[ "$took" -ge 4 ] && t_ok "it waited out Retry-After (${took}s for 4 x 1s)" ||
    t_fail "finished in ${took}s: Retry-After not honoured"
n=$((after - before))
# 4 throttled answers plus the normal refresh (cluster list, identities pages, credential lists):
# a client that retried without waiting would need far more.
[ "$n" -le 60 ] && t_ok "ARM requests in the storm: $n" || t_fail "ARM requests in the storm: $n (> 60)"
if $VERDICTS compare "$T_TMP/storm.json" "$IDW_SOURCE_DIR/tests/sim/scenarios/demo.expected.json" >"$T_TMP/d1"; then
    t_ok "verdicts after the storm equal demo.expected.json"
else t_fail "verdicts after the storm differ"; cat "$T_TMP/d1" >&2; fi

# 2. Garbage once: some identity (or list) becomes unknown with a reason; the report still ends.
t_sim_curl /_sim/faults -X POST --data 'arm:malformed x3' >/dev/null 2>&1 ||
    t_sim_curl /_sim/faults -X POST --data 'arm:malformedx3' >/dev/null
set +e
"$IDWATCH" report -o json --kubeconfig "$T_KUBECONFIG" >"$T_TMP/garbage.json" 2>"$T_TMP/garbage.err"
rc=$?
set -e
if [ "$rc" -le 1 ] && python3 - "$T_TMP/garbage.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert len(r["workloads"]) > 40
# Kubernetes verdicts are untouched by ARM garbage
m = {w["name"]: w for w in r["workloads"]}
assert m["payments-api"]["mechanism"] == "workload-identity"
assert m["payments-ledger"]["mechanism"] == "pod-identity"
PY
then t_ok "ARM garbage: the report still ends with every Kubernetes verdict"
else t_fail "ARM garbage: rc $rc"; cat "$T_TMP/garbage.err" >&2; fi

t_done
