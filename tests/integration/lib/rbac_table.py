#!/usr/bin/env python3
"""The RBAC contract of deploy/clusterrole.yaml, served by idwatch-sim (tests/integration/rbac_contract.sh).

usage: rbac_table.py scenario OBJECTS.json SCENARIO_IN SCENARIO_OUT DIR
         OBJECTS.json: what `kubectl create --dry-run=client -o json` read from deploy/ (the
         ClusterRole and its ClusterRoleBinding). Writes SCENARIO_OUT: SCENARIO_IN with an `rbac`
         table and `auth` tokens. The binding's service account gets one row per (verb, group,
         resource) of the role; for every row k a second user, the same account less row k; the
         simulator's admin everything; nobody anything else. DIR/rows.tsv lists the rows
         (k, verb, group, resource) and DIR/sa-<variant>/ holds what a pod would have under
         /var/run/secrets/kubernetes.io/serviceaccount (token, namespace) for "full" and each k.
       rbac_table.py requests NETLOG
         the (verb group resource) of every Kubernetes API request in an IDWATCH_NET_LOG, sorted
       rbac_table.py compare FULL.json VARIANT.json
         every verdict of VARIANT (a report with one rule missing) is the full-rights one or
         unknown, and no finding appears that the full report lacks, other than one that says
         evidence is missing; prints what differs and exits 1 if any is wrong
"""
import json
import os
import re
import secrets
import sys

EVIDENCE_CODES = {"SOURCE_UNREADABLE", "NMI_LOG_INCOMPLETE", "FED_UNKNOWN"}


def load_objects(path):
    text, objs, pos, dec = open(path).read(), [], 0, json.JSONDecoder()
    while pos < len(text):
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if pos < len(text):
            o, pos = dec.raw_decode(text, pos)
            objs.extend(o["items"] if o.get("kind") == "List" else [o])
    return objs


def role_rows(objs):
    """The bound service account's user name and the role's rows."""
    roles = {o["metadata"]["name"]: o for o in objs if o["kind"] == "ClusterRole"}
    binds = [o for o in objs if o["kind"] == "ClusterRoleBinding"]
    assert len(binds) == 1, "want one ClusterRoleBinding, got %d" % len(binds)
    b = binds[0]
    role = roles[b["roleRef"]["name"]]
    (subj,) = [s for s in b["subjects"] if s["kind"] == "ServiceAccount"]
    user = "system:serviceaccount:%s:%s" % (subj["namespace"], subj["name"])
    rows = []
    for r in role["rules"]:
        assert "nonResourceURLs" not in r, "the simulator's RBAC table has no non-resource rows"
        for g in r["apiGroups"]:
            for res in r["resources"]:
                for v in r["verbs"]:
                    row = {"verb": v, "group": g, "resource": res}
                    for name in r.get("resourceNames", []):
                        rows.append(dict(row, name=name))
                    if not r.get("resourceNames"):
                        rows.append(row)
    return subj, user, rows


def cmd_scenario(objects, scen_in, scen_out, out_dir):
    subj, user, rows = role_rows(load_objects(objects))
    scen = json.load(open(scen_in))
    table, tokens = [], []

    def account(variant, who, allowed):
        token = "idw-rbac-%s-%s" % (variant, secrets.token_hex(12))
        tokens.append({"token": token, "user": who})
        for row in allowed:
            table.append(dict(row, user=who, allowed=True, reason="idwatch-reader"))
        d = os.path.join(out_dir, "sa-%s" % variant)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "token"), "w") as f:
            f.write(token)
        with open(os.path.join(d, "namespace"), "w") as f:
            f.write(subj["namespace"])

    account("full", user, rows)
    for k in range(len(rows)):
        account(str(k), "%s-without-%d" % (user, k), rows[:k] + rows[k + 1:])
    table.append({"user": "admin", "allowed": True, "reason": "system:masters"})
    scen["rbac"] = table
    scen.setdefault("auth", {}).setdefault("tokens", []).extend(tokens)
    json.dump(scen, open(scen_out, "w"), indent=1)
    with open(os.path.join(out_dir, "rows.tsv"), "w") as f:
        for k, r in enumerate(rows):
            f.write("%d\t%s\t%s\t%s\n" % (k, r["verb"], r["group"] or '""', r["resource"]))
    return 0


def api_request(method, path):
    """(verb, group, resource) of a Kubernetes API path, or None (discovery, OIDC)."""
    segs = path.strip("/").split("/")
    if segs[:2] == ["api", "v1"]:
        group, rest = "", segs[2:]
    elif segs[0] == "apis" and len(segs) >= 3:
        group, rest = segs[1], segs[3:]
    else:
        return None
    if not rest:
        return None
    if rest[0] == "namespaces" and len(rest) >= 3:
        rest = rest[2:]  # a namespaced resource
    res = rest[0] + ("/" + rest[2] if len(rest) > 2 else "")
    verb = {"POST": "create", "PATCH": "patch", "PUT": "update", "DELETE": "delete"}.get(method)
    if not verb:
        verb = "get" if len(rest) > 1 else "list"  # the log hides the query: watch reads as list
    return verb, group, res


def cmd_requests(netlog):
    seen = set()
    for line in open(netlog):
        m = re.match(r"^\S+ ([A-Z]+) https://[^/]+(/\S*) -> ", line)
        r = m and api_request(*m.groups())
        if r:
            seen.add("%s %s %s" % (r[0], r[1] or '""', r[2]))
    for s in sorted(seen):
        print(s)
    return 0


def index(report):
    ws = {}
    for w in report["workloads"]:
        ws["%s %s/%s" % (w["kind"], w["namespace"], w["name"])] = w
    return ws


def cmd_compare(full_path, var_path):
    full, var = json.load(open(full_path)), json.load(open(var_path))
    wrong, unknown = [], []

    def same_or_unknown(where, f, v):
        if v == f:
            return
        if v == "unknown":
            unknown.append("%s: %s -> unknown" % (where, f))
        else:
            wrong.append("%s: %s, full rights say %s" % (where, v, f))

    fc, vc = full["cluster"], var["cluster"]
    for k in ("oidc", "workload_identity_webhook", "pod_identity"):
        same_or_unknown("cluster." + k, fc[k]["status"], vc[k]["status"])
    if vc["pod_identity_removal"]["safe"] and not fc["pod_identity_removal"]["safe"]:
        wrong.append("cluster.pod_identity_removal.safe: true, full rights say false")
    fcodes = {f["code"] for f in fc["findings"]}
    for f in vc["findings"]:
        if f["code"] not in fcodes and f["code"] not in EVIDENCE_CODES:
            wrong.append("cluster finding %s: %s" % (f["code"], f["message"]))
    fw, vw = index(full), index(var)
    for key in sorted(set(vw) - set(fw)):
        wrong.append("%s: listed, but not with full rights" % key)
    for key in sorted(set(fw) - set(vw)):
        unknown.append("%s: not listed" % key)
    for key in sorted(set(fw) & set(vw)):
        f, v = fw[key], vw[key]
        same_or_unknown(key + " mechanism", f["mechanism"], v["mechanism"])
        same_or_unknown(key + " federation", f["federation"]["status"], v["federation"]["status"])
        same_or_unknown(key + " projection", f["projection"]["status"], v["projection"]["status"])
        same_or_unknown(key + " pod_identity_activity", f["pod_identity_activity"]["status"],
                        v["pod_identity_activity"]["status"])
        fb, vb = (x["pod_identity_activity"]["binding_removable"] for x in (f, v))
        if vb is True and fb is not True:
            wrong.append("%s binding_removable: true, full rights say %s" % (key, fb))
        codes = {x["code"] for x in f["findings"]}
        for x in v["findings"]:
            if x["code"] not in codes and x["code"] not in EVIDENCE_CODES:
                wrong.append("%s finding %s: %s" % (key, x["code"], x["message"]))
    # A workload that is not listed changes the counts: only when the report says why.
    if set(fw) - set(vw):
        bad = [s for s in vc["sources"] if s["state"] in ("forbidden", "failed")]
        if not bad:
            wrong.append("workloads missing and no source forbidden or failed")
    for line in unknown:
        print("unknown: " + line)
    for line in wrong:
        print("WRONG: " + line)
    return 1 if wrong else 0


def main():
    a = sys.argv[1:]
    if len(a) == 5 and a[0] == "scenario":
        return cmd_scenario(*a[1:])
    if len(a) == 2 and a[0] == "requests":
        return cmd_requests(a[1])
    if len(a) == 3 and a[0] == "compare":
        return cmd_compare(a[1], a[2])
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main())
