#!/usr/bin/env bash
# The RBAC contract of the in-cluster audit: idwatch-sim serves an RBAC table made from
# deploy/clusterrole.yaml and its binding as real kubectl reads them (not a copy), and idwatch runs
# as that service account with the in-cluster configuration (KUBERNETES_SERVICE_HOST/PORT and a
# service-account directory, IDWATCH_SA_DIR standing in for /var/run/secrets/...).
#  - With the role: the same verdicts as with full rights, every source ok.
#  - The role is exactly what the report reads: every request it makes is allowed by a rule, and
#    every resource the role names is read (selfsubjectaccessreviews: the dashboard's gating).
#  - Without any single rule: every verdict is the full-rights one or unknown, never another one
#    (tests/integration/lib/rbac_table.py compare); a rule the report uses shows as a forbidden
#    source; a rule only the dashboard uses (watch, get) changes nothing in the report.
. "$(dirname "$0")/lib/common.sh"
t_need kubectl python3
RBAC="python3 $IDW_SOURCE_DIR/tests/integration/lib/rbac_table.py"
VERDICTS="python3 $IDW_SOURCE_DIR/tests/integration/lib/verdicts.py"
DEPLOY="$IDW_SOURCE_DIR/deploy"

# 1. kubectl reads the role and its binding (discovery from a first simulator).
t_sim_start empty
for f in clusterrole.yaml clusterrolebinding.yaml; do
    KUBECONFIG="$T_KUBECONFIG" kubectl create --dry-run=client --validate=false -o json \
        -f "$DEPLOY/$f"
done >"$T_TMP/objects.json"
kill "$T_SIM_PID"
wait "$T_SIM_PID" 2>/dev/null || true
T_SIM_PID=""

# 2. The demo cluster with that table: the service account, one account per missing rule, admin.
mkdir -p "$T_TMP/rbac"
$RBAC scenario "$T_TMP/objects.json" "$IDW_SOURCE_DIR/tests/sim/scenarios/demo.json" \
    "$T_TMP/rbac.json" "$T_TMP/rbac"
n_rows=$(wc -l <"$T_TMP/rbac/rows.tsv")
t_log "the role has $n_rows rows (verb, group, resource)"
t_sim_start "$T_TMP/rbac.json"
for d in "$T_TMP"/rbac/sa-*; do cp "$T_SIM_DIR/ca.crt" "$d/ca.crt"; done
mkdir -p "$T_TMP/home"

# in_cluster VARIANT OUT: the CronJob's command line, in a pod of this cluster (no kubeconfig).
in_cluster() {
    env -u KUBECONFIG HOME="$T_TMP/home" KUBERNETES_SERVICE_HOST=127.0.0.1 \
        KUBERNETES_SERVICE_PORT="$T_SIM_PORT" IDWATCH_SA_DIR="$T_TMP/rbac/sa-$1" \
        IDWATCH_CA_FILE="$T_SIM_DIR/ca.crt" \
        "$IDWATCH" report -o json --compact --no-azure >"$2" 2>"$2.err"
}

# 3. Full rights (admin, through the kubeconfig) and the role (in-cluster): the same verdicts.
set +e
IDWATCH_NET_LOG="$T_TMP/net-full.log" IDWATCH_CA_FILE="$T_SIM_DIR/ca.crt" \
    "$IDWATCH" report -o json --no-azure \
    --kubeconfig "$T_KUBECONFIG" >"$T_TMP/admin.json" 2>"$T_TMP/admin.err"
ra=$?
in_cluster full "$T_TMP/sa.json"
rs=$?
set -e
[ "$ra" -le 1 ] && [ "$rs" -le 1 ] && t_ok "admin and in-cluster reports ran (exit $ra, $rs)" ||
    { t_fail "admin rc $ra, in-cluster rc $rs"; cat "$T_TMP/admin.err" "$T_TMP/sa.json.err" >&2; }
[ "$(wc -l <"$T_TMP/sa.json")" -eq 1 ] && t_ok "in-cluster --compact: one line of JSON" ||
    t_fail "in-cluster output is $(wc -l <"$T_TMP/sa.json") lines"
$VERDICTS extract "$T_TMP/admin.json" >"$T_TMP/v-admin.json"
$VERDICTS extract "$T_TMP/sa.json" >"$T_TMP/v-sa.json"
if diff -u "$T_TMP/v-admin.json" "$T_TMP/v-sa.json" >&2; then
    t_ok "with deploy/clusterrole.yaml: the verdicts of full rights"
else t_fail "the role's report differs from full rights (diff above)"; fi
if python3 - "$T_TMP/sa.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["cluster"]["context"] == "in-cluster", r["cluster"]["context"]
bad = [(s["name"], s["state"]) for s in r["cluster"]["sources"]
       if s["state"] != "ok" and not (s["name"].startswith("azure-") and s["state"] == "skipped")]
assert not bad, bad
PY
then t_ok "in-cluster configuration; every source ok under the role (Azure skipped)"
else t_fail "in-cluster sources"; fi

# 4. The role is exactly what the report reads.
$RBAC requests "$T_TMP/net-full.log" >"$T_TMP/used.txt"
awk -F'\t' '{print $2, $3, $4}' "$T_TMP/rbac/rows.tsv" | sort >"$T_TMP/granted.txt"
extra=$(comm -23 "$T_TMP/used.txt" "$T_TMP/granted.txt")
[ -z "$extra" ] && t_ok "every request of the report is granted by a rule ($(wc -l <"$T_TMP/used.txt") kinds of request)" ||
    t_fail "requests the role does not grant: $extra"
unused=$(comm -13 <(awk '{print $2, $3}' "$T_TMP/used.txt" | sort -u) \
    <(awk '{print $2, $3}' "$T_TMP/granted.txt" | sort -u) | grep -v '^authorization.k8s.io selfsubjectaccessreviews$' || true)
[ -z "$unused" ] && t_ok "every resource the role names is read by the report" ||
    t_fail "resources in the role that idwatch never reads: $unused"

# 5. Without each single rule.
forbidden_rows=0 silent_rows=0 unknowns=0
while IFS=$'\t' read -r k verb group res; do
    what="$verb $group $res"
    set +e
    in_cluster "$k" "$T_TMP/var-$k.json"
    rv=$?
    set -e
    if [ "$rv" -gt 1 ]; then
        t_fail "without '$what': exit $rv"; cat "$T_TMP/var-$k.json.err" >&2; continue
    fi
    if ! $RBAC compare "$T_TMP/sa.json" "$T_TMP/var-$k.json" >"$T_TMP/cmp-$k.txt"; then
        t_fail "without '$what': a wrong verdict:"; grep WRONG "$T_TMP/cmp-$k.txt" >&2; continue
    fi
    u=$(grep -c '^unknown:' "$T_TMP/cmp-$k.txt" || true)
    unknowns=$((unknowns + u))
    forb=$(python3 -c 'import json,sys; print(" ".join(s["name"] for s in json.load(open(sys.argv[1]))["cluster"]["sources"] if s["state"] == "forbidden"))' "$T_TMP/var-$k.json")
    if grep -qxF "$what" "$T_TMP/used.txt"; then
        if [ -n "$forb" ]; then
            forbidden_rows=$((forbidden_rows + 1))
            t_ok "without '$what': forbidden [$forb], $u verdicts unknown, none wrong"
        else t_fail "without '$what': the report reads it, yet no source says forbidden"; fi
    else
        $VERDICTS extract "$T_TMP/var-$k.json" >"$T_TMP/v-var-$k.json"
        if [ -z "$forb" ] && cmp -s "$T_TMP/v-sa.json" "$T_TMP/v-var-$k.json"; then
            silent_rows=$((silent_rows + 1))
            t_ok "without '$what' (the dashboard's): the report is unchanged"
        else t_fail "without '$what': the report changed though it never uses it [$forb]"; fi
    fi
done <"$T_TMP/rbac/rows.tsv"
t_log "rules: $n_rows; shown as forbidden: $forbidden_rows; dashboard-only: $silent_rows; verdicts that became unknown: $unknowns"
[ $((forbidden_rows + silent_rows)) -eq "$n_rows" ] && t_ok "every rule accounted for" ||
    t_fail "only $((forbidden_rows + silent_rows)) of $n_rows rules behaved"

t_done
