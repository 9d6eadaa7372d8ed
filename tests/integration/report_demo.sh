#!/usr/bin/env bash
# `idwatch report` end to end against idwatch-sim's demo scenario: the verdicts equal the ones
# stored beside the scenario, every output format renders, the exit codes follow INTERFACE.md,
# and the report changed nothing (/_sim/stats shows zero writes and zero dry runs).
. "$(dirname "$0")/lib/common.sh"
t_need python3
VERDICTS="python3 $IDW_SOURCE_DIR/tests/integration/lib/verdicts.py"
SCEN="$IDW_SOURCE_DIR/tests/sim/scenarios"

t_sim_start demo

# 1. JSON without Azure: federation is unknown (never guessed), everything else as expected.
set +e
"$IDWATCH" report -o json --kubeconfig "$T_KUBECONFIG" --no-azure --ca-file "$T_SIM_DIR/ca.crt" \
    >"$T_TMP/noazure.json" 2>"$T_TMP/noazure.err"
rc=$?
set -e
if [ "$rc" -eq 1 ]; then t_ok "report exits 1 when there are error findings"; else
    t_fail "report exit code $rc (want 1)"; cat "$T_TMP/noazure.err" >&2; fi
if $VERDICTS compare "$T_TMP/noazure.json" "$SCEN/demo.expected-noazure.json" >"$T_TMP/diff.txt"; then
    t_ok "verdicts without Azure match demo.expected-noazure.json"
else
    t_fail "verdicts without Azure differ:"; cat "$T_TMP/diff.txt" >&2
fi
if python3 - "$T_TMP/noazure.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
wi = [w for w in r["workloads"] if w["mechanism"] in ("workload-identity", "both")]
assert wi, "no workload-identity workloads"
bad = [w["name"] for w in wi if w["federation"]["status"] not in ("unknown", "no-client-id")]
assert not bad, "federation guessed without Azure: %s" % bad
m = r["cluster"]["migration"]
den = m["workload_identity"] + m["pod_identity"] + m["both"]
want = round(m["workload_identity"] * 100.0 / den, 1) if den else 0
assert abs(m["percent_migrated"] - want) < 1e-9, (m["percent_migrated"], want)
assert m["total"] == len(r["workloads"])
PY
then t_ok "no federation verdict without Azure; percent_migrated and total per INTERFACE.md"
else t_fail "federation/migration rules"; fi

# 2. With the simulator's Azure (ARM, Graph, Entra ID, public OIDC issuer): every federation
#    status of INTERFACE.md is reached, as stored beside the scenario.
set +e
( set -a; . "$T_SIM_DIR/azure.env"; set +a
  "$IDWATCH" report -o json --kubeconfig "$T_KUBECONFIG" >"$T_TMP/azure.json" 2>"$T_TMP/azure.err" )
rc=$?
set -e
[ "$rc" -eq 1 ] && t_ok "report with Azure exits 1" || { t_fail "report with Azure: rc $rc"; cat "$T_TMP/azure.err" >&2; }
if $VERDICTS compare "$T_TMP/azure.json" "$SCEN/demo.expected.json" >"$T_TMP/diff2.txt"; then
    t_ok "verdicts with Azure match demo.expected.json"
else
    t_fail "verdicts with Azure differ:"; cat "$T_TMP/diff2.txt" >&2
fi
if python3 - "$T_TMP/azure.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
seen = {w["federation"]["status"] for w in r["workloads"]}
want = {"ok", "missing", "issuer-mismatch", "subject-mismatch", "audience-mismatch",
        "identity-not-found", "no-client-id", "not-applicable", "unknown"}
assert want <= seen, "federation statuses never reached: %s" % sorted(want - seen)
assert r["cluster"]["arm_id"].endswith("/managedClusters/aks-demo-weu"), r["cluster"]["arm_id"]
assert r["cluster"]["oidc"]["status"] == "ok", r["cluster"]["oidc"]
slash = [w for w in r["workloads"] if w["name"] == "orders-api"][0]
assert slash["federation"]["status"] == "issuer-mismatch" and "trailing" in slash["federation"]["detail"], slash
PY
then t_ok "every federation status reached end to end; the missing trailing slash is named"
else t_fail "federation statuses"; fi
if grep -q "$(sed -n 's/^export AZURE_CLIENT_SECRET=//p' "$T_SIM_DIR/azure.env" | tr -d "'\"")" \
    "$T_TMP/azure.json" "$T_TMP/azure.err"; then t_fail "the client secret appears in the output"
else t_ok "no secret in the report"; fi

# 3. The other formats render the same workloads.
for fmt in text markdown csv; do
    set +e
    "$IDWATCH" report -o "$fmt" --kubeconfig "$T_KUBECONFIG" --no-azure >"$T_TMP/r.$fmt" 2>&1
    rc=$?
    set -e
    if [ "$rc" -le 1 ] && grep -q "payments-ledger" "$T_TMP/r.$fmt"; then t_ok "-o $fmt renders"
    else t_fail "-o $fmt (rc $rc)"; head -5 "$T_TMP/r.$fmt" >&2; fi
done
rows=$(python3 -c 'import csv,sys; print(sum(1 for _ in csv.reader(open(sys.argv[1])))-1)' "$T_TMP/r.csv")
want=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["workloads"]))' "$T_TMP/noazure.json")
if [ "$rows" -eq "$want" ]; then t_ok "CSV has one row per workload ($rows)"; else
    t_fail "CSV rows $rows, want $want"; fi

# 4. Nothing changed the cluster: a report is read-only.
writes=$(t_sim_stat writes); dry=$(t_sim_stat dry_runs)
if [ "$writes" = 0 ] && [ "$dry" = 0 ]; then t_ok "zero writes and zero dry runs after the reports"
else t_fail "the reports wrote: writes=$writes dry_runs=$dry"; fi

# 5. Exit code 2 with a one-line reason: bad flag, bad kubeconfig, unreachable cluster.
set +e
"$IDWATCH" report --output xml >/dev/null 2>"$T_TMP/e1"; r1=$?
printf 'apiVersion: v1\nclusters: [\n' >"$T_TMP/bad.yaml"
"$IDWATCH" report --kubeconfig "$T_TMP/bad.yaml" >/dev/null 2>"$T_TMP/e2"; r2=$?
sed "s#127.0.0.1:$T_SIM_PORT#127.0.0.1:1#" "$T_KUBECONFIG" >"$T_TMP/closed.yaml"
timeout 120 "$IDWATCH" report --kubeconfig "$T_TMP/closed.yaml" --no-azure >/dev/null 2>"$T_TMP/e3"; r3=$?
set -e
[ "$r1" -eq 2 ] && [ "$(wc -l <"$T_TMP/e1")" -eq 1 ] && t_ok "bad flag: exit 2, one line" ||
    { t_fail "bad flag: rc $r1"; cat "$T_TMP/e1" >&2; }
[ "$r2" -eq 2 ] && grep -q "bad.yaml:" "$T_TMP/e2" && [ "$(wc -l <"$T_TMP/e2")" -eq 1 ] &&
    t_ok "bad kubeconfig: exit 2, names the file" || { t_fail "bad kubeconfig: rc $r2"; cat "$T_TMP/e2" >&2; }
[ "$r3" -eq 2 ] && [ "$(wc -l <"$T_TMP/e3")" -eq 1 ] && t_ok "unreachable cluster: exit 2, one line" ||
    { t_fail "unreachable cluster: rc $r3"; cat "$T_TMP/e3" >&2; }

t_done
