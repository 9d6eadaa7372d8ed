#!/usr/bin/env bash
# deploy/: real kubectl reads every manifest (`kubectl create --dry-run=client -f deploy/`, its
# discovery served by idwatch-sim), and the audit's promises hold in what it read: the CronJob
# runs `idwatch report -o json --compact` as the annotated service account, non-root, on a
# read-only root filesystem; the ClusterRole only reads; the binding ties the two together; the
# Dockerfile is multi-stage, Debian slim, non-root. A broken manifest makes kubectl fail.
#
# kubectl validates fields against the API server's OpenAPI schema, which idwatch-sim does not
# serve, so --validate=false: kubectl still parses each file, maps every kind through discovery
# and builds the objects; the field checks below are this test's own.
. "$(dirname "$0")/lib/common.sh"
t_need kubectl python3
DEPLOY="$IDW_SOURCE_DIR/deploy"

t_sim_start empty
k() { KUBECONFIG="$T_KUBECONFIG" kubectl "$@"; }

# 1. kubectl accepts the directory as it is.
if k create --dry-run=client --validate=false -f "$DEPLOY/" >"$T_TMP/out" 2>"$T_TMP/err"; then
    n=$(grep -c 'created (dry run)$' "$T_TMP/out")
    [ "$n" -eq 5 ] && t_ok "kubectl create --dry-run=client -f deploy/: 5 objects" ||
        { t_fail "kubectl made $n objects"; cat "$T_TMP/out" >&2; }
else
    t_fail "kubectl rejected deploy/:"; cat "$T_TMP/err" >&2
fi

# 2. ...and fails on a broken copy (an unknown kind, a YAML error): the check can fail.
cp -r "$DEPLOY" "$T_TMP/bad1"
sed -i 's/^kind: ClusterRole$/kind: ClusterRoel/' "$T_TMP/bad1/clusterrole.yaml"
cp -r "$DEPLOY" "$T_TMP/bad2"
printf 'metadata:\n  name: [unclosed\n' >>"$T_TMP/bad2/cronjob.yaml"
for b in bad1 bad2; do
    if k create --dry-run=client --validate=false -f "$T_TMP/$b/" >/dev/null 2>&1; then
        t_fail "kubectl accepted the broken copy $b"
    else t_ok "kubectl rejects a broken copy ($b)"; fi
done

# 3. What kubectl read: one JSON object per file.
for f in "$DEPLOY"/*.yaml; do
    k create --dry-run=client --validate=false -o json -f "$f"
done >"$T_TMP/objects.json"
if python3 - "$T_TMP/objects.json" <<'PY'
import json, sys
text, objs, pos = open(sys.argv[1]).read(), [], 0
dec = json.JSONDecoder()
while pos < len(text):
    while pos < len(text) and text[pos].isspace():
        pos += 1
    if pos < len(text):
        o, pos = dec.raw_decode(text, pos)
        objs.append(o)
by = {o["kind"]: o for o in objs}
assert sorted(by) == ["ClusterRole", "ClusterRoleBinding", "CronJob", "Namespace", "ServiceAccount"], sorted(by)
ns = by["Namespace"]["metadata"]["name"]
sa = by["ServiceAccount"]
assert sa["metadata"]["namespace"] == ns
assert sa["metadata"]["annotations"].get("azure.workload.identity/client-id"), "SA not annotated"
cj = by["CronJob"]
assert cj["metadata"]["namespace"] == ns
assert cj["spec"]["concurrencyPolicy"] == "Forbid"
job = cj["spec"]["jobTemplate"]["spec"]
assert job["backoffLimit"] == 0
pod = job["template"]
assert pod["metadata"]["labels"]["azure.workload.identity/use"] == "true"
spec = pod["spec"]
assert spec["serviceAccountName"] == sa["metadata"]["name"]
assert spec["restartPolicy"] == "Never"
assert spec["securityContext"]["runAsNonRoot"] is True and spec["securityContext"]["runAsUser"] > 0
(c,) = spec["containers"]
args = c["args"]
assert args[:4] == ["report", "-o", "json", "--compact"], args
assert "--cluster-id" in args
sc = c["securityContext"]
assert sc["readOnlyRootFilesystem"] is True and sc["allowPrivilegeEscalation"] is False
assert sc["capabilities"]["drop"] == ["ALL"]
assert not c.get("volumeMounts"), "the audit needs no writable volume"
role = by["ClusterRole"]
for r in role["rules"]:
    assert "nonResourceURLs" not in r and "resourceNames" not in r, r
    for res in r["resources"]:
        assert "*" not in res and "*" not in r["apiGroups"] and "*" not in r["verbs"], r
        if res == "selfsubjectaccessreviews":
            assert r["verbs"] == ["create"] and r["apiGroups"] == ["authorization.k8s.io"], r
        elif res == "pods/log":
            assert r["verbs"] == ["get"], r
        else:
            assert set(r["verbs"]) <= {"get", "list", "watch"}, r
        assert res not in ("secrets", "configmaps"), res
b = by["ClusterRoleBinding"]
assert b["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                        "name": role["metadata"]["name"]}, b["roleRef"]
assert b["subjects"] == [{"kind": "ServiceAccount", "name": sa["metadata"]["name"],
                          "namespace": ns}], b["subjects"]
PY
then t_ok "CronJob, ServiceAccount, ClusterRole and binding say what the audit promises"
else t_fail "the manifests' contents"; fi

# 4. The Dockerfile: two stages, Debian slim at run time, a non-root user, the report as CMD.
D="$DEPLOY/Dockerfile"
if [ "$(grep -c '^FROM ' "$D")" -eq 2 ] && grep -q '^FROM debian:[a-z]*-slim AS build$' "$D" &&
    [ "$(grep '^FROM ' "$D" | tail -1)" = "FROM debian:$(sed -n 's/^FROM debian:\([a-z]*\)-slim AS build$/\1/p' "$D")-slim" ] &&
    grep -q '^USER 10001:10001$' "$D" && grep -q '^COPY --from=build ' "$D" &&
    grep -q '^CMD \["report", "-o", "json", "--compact"\]$' "$D"; then
    t_ok "Dockerfile: multi-stage, Debian slim, non-root (uid 10001 = runAsUser)"
else t_fail "Dockerfile shape"; fi
uid=$(sed -n 's/^ *runAsUser: //p' "$DEPLOY/cronjob.yaml")
[ "$uid" = 10001 ] && t_ok "the CronJob runs as the image's user" || t_fail "runAsUser $uid"

t_done
