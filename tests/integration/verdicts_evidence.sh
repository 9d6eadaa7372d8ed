#!/usr/bin/env bash
# Verdicts an operator can act on, off the happy path (issue "Verdicts you can trust"): a scoped
# report gives every workload the verdicts of the unscoped one (every namespace of the demo and
# of a generated cluster); -n of a missing namespace and a bad -l exit 2; -l lists only what it
# selects; a wrong client secret, ARM answering 503 and sustained ARM throttling make the report
# fail (exit 1) with the reason on stderr and nothing secret in it; one NMI pod's log forbidden
# makes its node's activity unknown and removal unsafe, never "quiet"; a workload with BOTH
# mechanisms still asking NMI gets PI_STILL_REQUESTING and is not removable; a cluster with the
# OIDC issuer disabled gets OIDC_DISABLED with the az and Terraform remedy.
. "$(dirname "$0")/lib/common.sh"
t_need python3

t_sim_start demo --frozen
KC=(--kubeconfig "$T_KUBECONFIG" --ca-file "$T_SIM_DIR/ca.crt")

report() { # report OUT ERR [args...]: exit code in $RC
    local out=$1 err=$2
    shift 2
    set +e
    "$IDWATCH" report -o json "${KC[@]}" "$@" >"$out" 2>"$err"
    RC=$?
    set -e
}

# ---- 1. scope is a view: scoped verdicts == unscoped verdicts, for every namespace ----
# (a 2h window holds all of the frozen simulator's back-filled hour: nothing ages out between runs)
scope_property() { # scope_property LABEL: compares every namespace's scoped report with the full
    local label=$1
    report "$T_TMP/all.json" "$T_TMP/all.err" --no-azure --log-window 2h
    local nss n=0 diffs=0
    nss=$(python3 -c 'import json,sys; print(" ".join(sorted({w["namespace"] for w in json.load(open(sys.argv[1]))["workloads"]})))' "$T_TMP/all.json")
    for ns in $nss; do
        report "$T_TMP/ns.json" "$T_TMP/ns.err" --no-azure --log-window 2h -n "$ns"
        n=$((n + 1))
        if ! python3 - "$T_TMP/all.json" "$T_TMP/ns.json" "$ns" <<'PY'; then diffs=$((diffs + 1)); fi
import json, sys
full, scoped, ns = (json.load(open(sys.argv[1])), json.load(open(sys.argv[2])), sys.argv[3])
key = lambda w: (w["kind"], w["namespace"], w["name"])
want = {key(w): w for w in full["workloads"] if w["namespace"] == ns}
got = {key(w): w for w in scoped["workloads"]}
assert set(got) == set(want), ("listed", sorted(set(got) ^ set(want)))
for k, w in want.items():
    for f in ("mechanism", "federation", "projection", "pod_identity_activity", "findings"):
        if f == "pod_identity_activity":  # request counts move only with traffic: frozen here
            a, b = dict(w[f]), dict(got[k][f])
        else:
            a, b = w[f], got[k][f]
        if a != b:
            print("%s %s/%s %s: unscoped %s, scoped %s" % (k[0], k[1], k[2], f, a, b))
            sys.exit(1)
c = scoped["cluster"]
assert c["scope"] == "namespace " + ns, c["scope"]
assert c["migration"]["total"] == len(got)
assert c["pod_identity_removal"]["safe"] is False
assert c["pod_identity"] == full["cluster"]["pod_identity"], "cluster facts shrank with the scope"
PY
    done
    if [ "$diffs" -eq 0 ] && [ "$n" -gt 2 ]; then
        t_ok "$label: $n namespaces, scoped verdicts equal the unscoped ones (0 differences)"
    else
        t_fail "$label: $diffs of $n namespaces differ"
    fi
}
scope_property "demo"

# ---- 2. bad scopes: exit 2 with one line ----
report "$T_TMP/x.json" "$T_TMP/x.err" --no-azure -n doesnotexist
if [ "$RC" -eq 2 ] && [ "$(wc -l <"$T_TMP/x.err")" -eq 1 ] && grep -q 'namespace "doesnotexist" not found' "$T_TMP/x.err"; then
    t_ok "-n of a missing namespace: exit 2, one line"
else t_fail "-n doesnotexist: rc $RC"; cat "$T_TMP/x.err" >&2; fi
report "$T_TMP/x.json" "$T_TMP/x.err" --no-azure -l 'app in (a'
if [ "$RC" -eq 2 ] && grep -q "at 9" "$T_TMP/x.err" && [ "$(wc -l <"$T_TMP/x.err")" -eq 1 ]; then
    t_ok "a selector that does not parse: exit 2 with the position"
else t_fail "bad selector: rc $RC"; cat "$T_TMP/x.err" >&2; fi

# ---- 3. -l selects workloads by their own labels, sent nowhere else ----
report "$T_TMP/l.json" "$T_TMP/l.err" --no-azure --log-window 2h -l 'app in (payments-api,payments-worker,orders-api)' -n payments
if python3 - "$T_TMP/l.json" "$T_TMP/all.json" <<'PY'
import json, sys
r, full = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
names = sorted(w["name"] for w in r["workloads"])
assert names == ["payments-api", "payments-worker"], names
assert r["cluster"]["scope"] == "namespace payments, selector app in (payments-api,payments-worker,orders-api)", r["cluster"]["scope"]
f = {w["name"]: w for w in full["workloads"]}
for w in r["workloads"]:
    assert w["findings"] == f[w["name"]]["findings"], w["name"]
PY
then t_ok "-l combined with -n lists exactly the selected workloads, verdicts unchanged"
else t_fail "-l in report"; fi

# ---- 4. BOTH and still asking NMI: a warning, not removable ----
if python3 - "$T_TMP/all.json" <<'PY'
import json, sys
w = [w for w in json.load(open(sys.argv[1]))["workloads"] if w["name"] == "payments-worker"][0]
assert w["mechanism"] == "both", w["mechanism"]
a = w["pod_identity_activity"]
assert a["status"] in ("active", "errors") and a["requests"] > 0, a
codes = {f["code"]: f for f in w["findings"]}
assert "PI_STILL_REQUESTING" in codes and codes["PI_STILL_REQUESTING"]["severity"] == "warning"
assert "do not remove the binding" in codes["PI_STILL_REQUESTING"]["message"]
assert "PI_LABEL_LEFTOVER" not in codes
assert a["binding_removable"] is False and "asked NMI for" in a["binding_removable_reason"], a
PY
then t_ok "BOTH with NMI traffic: PI_STILL_REQUESTING, binding not removable"
else t_fail "BOTH with active traffic"; fi

# ---- 5. one NMI pod's log forbidden: its node is unknown, removal unsafe ----
t_sim_curl /_sim/faults -X POST --data 'log:403x1' >/dev/null
report "$T_TMP/f.json" "$T_TMP/f.err" --no-azure --log-window 2h
t_sim_curl /_sim/faults -X DELETE >/dev/null
if python3 - "$T_TMP/f.json" "$T_TMP/all.json" <<'PY'
import json, sys
r, full = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
src = [s for s in r["cluster"]["sources"] if s["name"].startswith("nmi-log ")]
bad = [s for s in src if s["state"] == "forbidden"]
assert len(bad) == 1 and "403" in bad[0]["detail"], src
assert all(s["state"] == "ok" for s in src if s not in bad)
full_act = {w["name"]: w["pod_identity_activity"]["status"] for w in full["workloads"]}
quiet_now = [w["name"] for w in r["workloads"] if w["pod_identity_activity"]["status"] == "quiet"
             and full_act[w["name"]] != "quiet"]
assert not quiet_now, "quiet on incomplete logs: %s" % quiet_now
unknown = [w["name"] for w in r["workloads"] if w["pod_identity_activity"]["status"] == "unknown"]
assert unknown, "no workload's activity became unknown"
for w in r["workloads"]:  # every verdict is the full one or unknown
    if w["pod_identity_activity"]["status"] not in (full_act[w["name"]], "unknown"):
        raise SystemExit("%s: %s vs %s" % (w["name"], w["pod_identity_activity"]["status"], full_act[w["name"]]))
assert r["cluster"]["pod_identity_removal"]["safe"] is False
assert any(b.startswith("NMI log of") for b in r["cluster"]["pod_identity_removal"]["blockers"])
assert "NMI_LOG_INCOMPLETE" in {f["code"] for f in r["cluster"]["findings"]}
PY
then t_ok "one NMI log forbidden: that source forbidden, its node's activity unknown (never quiet)"
else t_fail "NMI log forbidden"; fi

# ---- 6. Azure wanted and failing: exit 1, the reason on stderr, no secret ----
secret=$(sed -n "s/^export AZURE_CLIENT_SECRET=//p" "$T_SIM_DIR/azure.env" | tr -d "'\"")
set +e
( set -a; . "$T_SIM_DIR/azure.env"; set +a; AZURE_CLIENT_SECRET=not-the-secret-0123
  "$IDWATCH" report -o json "${KC[@]}" >"$T_TMP/s.json" 2>"$T_TMP/s.err" )
RC=$?
set -e
if [ "$RC" -eq 1 ] && grep -q 'AZURE_AUTH_FAILED.*AADSTS7000215' "$T_TMP/s.err" &&
    python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); assert "AZURE_AUTH_FAILED" in {f["code"] for f in r["cluster"]["findings"]}; assert [s for s in r["cluster"]["sources"] if s["name"]=="azure-entra"][0]["state"]=="failed"' "$T_TMP/s.json"; then
    t_ok "wrong client secret: exit 1, AZURE_AUTH_FAILED with AADSTS7000215 on stderr"
else t_fail "wrong secret: rc $RC"; cat "$T_TMP/s.err" >&2; fi
if grep -qF -e "$secret" -e not-the-secret-0123 "$T_TMP/s.json" "$T_TMP/s.err"; then
    t_fail "a client secret appears in the output"
else t_ok "no secret echoed"; fi

t_sim_curl /_sim/faults -X POST --data 'arm:5xx=503x*' >/dev/null
set +e
( set -a; . "$T_SIM_DIR/azure.env"; set +a
  "$IDWATCH" report -o json "${KC[@]}" >"$T_TMP/a.json" 2>"$T_TMP/a.err" )
RC=$?
set -e
t_sim_curl /_sim/faults -X DELETE >/dev/null
if [ "$RC" -eq 1 ] && grep -q 'ARM_UNAVAILABLE.*HTTP 503' "$T_TMP/a.err" &&
    python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); w=[w for w in r["workloads"] if w["name"]=="payments-api"][0]; assert w["federation"]["status"]=="unknown"; assert "FED_UNKNOWN" in {f["code"] for f in w["findings"]}' "$T_TMP/a.json"; then
    t_ok "ARM answering 503: exit 1, ARM_UNAVAILABLE on stderr, federation unknown with a warning"
else t_fail "ARM 503: rc $RC"; cat "$T_TMP/a.err" >&2; fi

# sustained throttling: the report gives up on Azure before its deadline and still prints
t_sim_curl /_sim/faults -X POST --data 'arm:429=30x*' >/dev/null
t0=$(date +%s)
set +e
( set -a; . "$T_SIM_DIR/azure.env"; set +a
  IDWATCH_REPORT_TIMEOUT=24 "$IDWATCH" report -o json "${KC[@]}" >"$T_TMP/t.json" 2>"$T_TMP/t.err" )
RC=$?
set -e
took=$(($(date +%s) - t0))
t_sim_curl /_sim/faults -X DELETE >/dev/null
if [ "$RC" -eq 1 ] && [ "$took" -lt 24 ] && grep -q 'ARM_UNAVAILABLE' "$T_TMP/t.err" &&
    python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); assert len(r["workloads"]) > 40; assert "429" in [s for s in r["cluster"]["sources"] if s["name"]=="azure-arm"][0]["detail"]' "$T_TMP/t.json"; then
    t_ok "a 429 storm: the report prints Kubernetes' verdicts before its deadline (${took}s of 24), exit 1"
else t_fail "429 storm: rc $RC after ${took}s"; cat "$T_TMP/t.err" >&2; fi

# ---- 7. OIDC issuer disabled: an error with the az and Terraform remedy ----
kill "$T_SIM_PID" 2>/dev/null; wait "$T_SIM_PID" 2>/dev/null || true
python3 - "$IDW_SOURCE_DIR/tests/sim/scenarios/demo.json" "$T_TMP/nooidc.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d["azure"]["managedCluster"]["oidcIssuerProfile"] = {"enabled": False}
d["azure"]["managedCluster"].setdefault("securityProfile", {})["workloadIdentity"] = {"enabled": False}
json.dump(d, open(sys.argv[2], "w"))
PY
rm -rf "$T_SIM_DIR"
t_sim_start "$T_TMP/nooidc.json" --frozen
KC=(--kubeconfig "$T_KUBECONFIG" --ca-file "$T_SIM_DIR/ca.crt")
set +e
( set -a; . "$T_SIM_DIR/azure.env"; set +a
  "$IDWATCH" report -o json "${KC[@]}" >"$T_TMP/o.json" 2>"$T_TMP/o.err" )
RC=$?
set -e
if [ "$RC" -eq 1 ] && python3 - "$T_TMP/o.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["cluster"]["oidc"]["status"] == "disabled", r["cluster"]["oidc"]
f = {f["code"]: f for f in r["cluster"]["findings"]}
assert f["OIDC_DISABLED"]["severity"] == "error"
rem = f["OIDC_DISABLED"]["remedy"]
assert "az aks update -g rg-aks-demo -n aks-demo-weu --enable-oidc-issuer" in rem, rem
assert "oidc_issuer_enabled = true" in rem, rem
PY
then t_ok "OIDC issuer disabled: OIDC_DISABLED error with the az command and the Terraform attribute"
else t_fail "OIDC disabled: rc $RC"; cat "$T_TMP/o.err" >&2; fi
kill "$T_SIM_PID" 2>/dev/null; wait "$T_SIM_PID" 2>/dev/null || true
rm -rf "$T_SIM_DIR"

# ---- 8. the same property on a generated cluster ----
t_sim_start generated --frozen --generate deployments=120,pods=400,wi=0.3,pi=0.2,nmi=6,namespaces=8
KC=(--kubeconfig "$T_KUBECONFIG" --ca-file "$T_SIM_DIR/ca.crt")
scope_property "generated cluster"

t_done
