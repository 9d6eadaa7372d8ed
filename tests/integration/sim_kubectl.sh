#!/usr/bin/env bash
# Real kubectl (1.32, through the gcloud dispatcher) against idwatch-sim's demo scenario: if kubectl
# is happy, the simulator speaks the real protocol. Each step checks the scenario's data, not just
# the exit status. Env from ctest: IDWATCH_SIM (and IDW_SOURCE_DIR for the scenario file).
set -euo pipefail

: "${IDWATCH_SIM:?IDWATCH_SIM must point at idwatch-sim}"
SRC=${IDW_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
KUBECTL=${KUBECTL:-kubectl}
# a missing tool is SKIPPED for ctest (SKIP_RETURN_CODE 77), never "Passed"
for tool in "$KUBECTL" python3 curl; do
    if ! command -v "$tool" >/dev/null; then
        echo "SKIPPED: $tool is not installed"
        exit 77
    fi
done

TMP=$(mktemp -d /tmp/idw-simkubectl.XXXXXX)
SIM_PID=""
cleanup() {
    local rc=$?
    if [ -n "$SIM_PID" ] && kill -0 "$SIM_PID" 2>/dev/null; then
        kill "$SIM_PID" 2>/dev/null || true
        wait "$SIM_PID" 2>/dev/null || true
    fi
    if [ $rc -ne 0 ]; then
        echo "--- idwatch-sim stderr ---" >&2
        tail -n 30 "$TMP/sim.err" >&2 || true
    fi
    rm -rf "$TMP"
    exit $rc
}
trap cleanup EXIT

fail() {
    echo "FAIL: $*" >&2
    exit 1
}
ok() { echo "ok: $*"; }

# ---- start the simulator -------------------------------------------------------------------
"$IDWATCH_SIM" --scenario demo --state-dir "$TMP/state" --listen 127.0.0.1:0 \
    >"$TMP/sim.out" 2>"$TMP/sim.err" &
SIM_PID=$!
for _ in $(seq 1 300); do
    grep -q '^READY ' "$TMP/sim.out" 2>/dev/null && break
    kill -0 "$SIM_PID" 2>/dev/null || fail "idwatch-sim exited before READY"
    sleep 0.1
done
PORT=$(awk '/^READY /{print $2}' "$TMP/sim.out")
[ -n "$PORT" ] || fail "no READY line"
[ "$(wc -l <"$TMP/sim.out")" -eq 1 ] || fail "stdout must hold exactly the READY line"
ok "idwatch-sim listening on $PORT"

export KUBECONFIG="$TMP/state/kubeconfig"
export HOME="$TMP/home" # fresh ~/.kube/cache: discovery is fetched from the sim
mkdir -p "$HOME"
export IDWSIM_EXEC_LOG="$TMP/exec.log"
k() { timeout 60 "$KUBECTL" --cache-dir "$TMP/cache" --request-timeout=30s "$@"; }
stats() { curl -sS --fail --cacert "$TMP/state/ca.crt" "https://127.0.0.1:$PORT/_sim/stats"; }
stat_of() { # stat_of EXPR: a number out of /_sim/stats (python expression over s)
    stats | python3 -c "import json,sys; s=json.load(sys.stdin); print($1)"
}

[ -s "$TMP/state/ca.crt" ] && [ -f "$TMP/state/azure.env" ] || fail "state dir incomplete"
[ "$(stat -c %a "$KUBECONFIG")" = 600 ] || fail "kubeconfig must be private (0600)"

# ---- get deployments -A -o json --------------------------------------------------------------
k get deployments -A -o json >"$TMP/deploy.json"
python3 - "$TMP/deploy.json" <<'EOF' || fail "get deployments -A -o json"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["kind"] == "List", d["kind"]
names = {(i["metadata"]["namespace"], i["metadata"]["name"]) for i in d["items"]}
for want in [("payments", "payments-api"), ("orders", "orders-api"), ("inventory", "inventory-search")]:
    assert want in names, want
assert all(i["kind"] == "Deployment" for i in d["items"])
assert len(d["items"]) >= 20, len(d["items"])
EOF
ok "get deployments -A -o json"

# ---- paging ------------------------------------------------------------------------------------
lists_before=$(stat_of 's["requests"]["by_path_class"]["list"]')
k get pods -A --chunk-size=5 --no-headers >"$TMP/pods-chunked.txt"
lists_after=$(stat_of 's["requests"]["by_path_class"]["list"]')
npods=$(wc -l <"$TMP/pods-chunked.txt")
k get pods -A --chunk-size=0 --no-headers >"$TMP/pods-all.txt"
[ "$npods" -ge 20 ] || fail "only $npods pods"
diff <(awk '{print $1, $2}' "$TMP/pods-chunked.txt") <(awk '{print $1, $2}' "$TMP/pods-all.txt") >/dev/null ||
    fail "paged and unpaged pod lists differ"
pages=$((lists_after - lists_before))
[ "$pages" -ge $(((npods + 4) / 5)) ] || fail "--chunk-size=5 over $npods pods made $pages list requests"
ok "get pods -A --chunk-size=5: $npods pods in $pages pages"

# ---- label selector ----------------------------------------------------------------------------
k get pods -A -l azure.workload.identity/use=true -o json >"$TMP/wi.json"
python3 - "$TMP/wi.json" "$npods" <<'EOF' || fail "label selector"
import json, sys
d = json.load(open(sys.argv[1]))
items = d["items"]
assert items, "no workload identity pods"
assert len(items) < int(sys.argv[2]), "the selector filtered nothing"
for i in items:
    assert i["metadata"]["labels"].get("azure.workload.identity/use") == "true", i["metadata"]["name"]
EOF
ok "get pods -l azure.workload.identity/use=true"

# ---- custom resources --------------------------------------------------------------------------
k get azureidentitybindings.aadpodidentity.k8s.io -A >"$TMP/aib.txt"
grep -Eq '^payments +payments-identity-binding ' "$TMP/aib.txt" || fail "azureidentitybindings: $(cat "$TMP/aib.txt")"
ok "get azureidentitybindings.aadpodidentity.k8s.io -A"

# ---- label / unlabel ---------------------------------------------------------------------------
k label deployment -n payments payments-api x=y >/dev/null
[ "$(k get deployment -n payments payments-api -o jsonpath='{.metadata.labels.x}')" = y ] ||
    fail "label x=y not visible"
k label deployment -n payments payments-api x- >/dev/null
k get deployment -n payments payments-api -o json |
    python3 -c 'import json,sys; l=json.load(sys.stdin)["metadata"]["labels"]; assert "x" not in l and l["app"]=="payments-api", l' ||
    fail "label x- did not remove the label"
ok "label and unlabel"

# ---- patch: merge and JSON patch ---------------------------------------------------------------
k patch deployment -n payments payments-api --type merge -p '{"metadata":{"annotations":{"idw/merge":"m1"}}}' >/dev/null
k patch deployment -n payments payments-api --type json \
    -p '[{"op":"add","path":"/metadata/annotations/idw~1json","value":"j1"}]' >/dev/null
ann=$(k get deployment -n payments payments-api -o jsonpath='{.metadata.annotations.idw/merge},{.metadata.annotations.idw/json}')
[ "$ann" = "m1,j1" ] || fail "patches not applied: $ann"
if k patch deployment -n payments payments-api --type json \
    -p '[{"op":"remove","path":"/metadata/annotations/absent"}]' >"$TMP/p.out" 2>&1; then
    fail "a JSON patch removing a missing path must fail"
fi
ok "patch --type merge and --type json"

# ---- dry run -----------------------------------------------------------------------------------
writes_before=$(stat_of 's["writes"]')
k patch deployment -n payments payments-api --type merge --dry-run=server \
    -p '{"metadata":{"annotations":{"idw/merge":"dry"}}}' >/dev/null
[ "$(k get deployment -n payments payments-api -o jsonpath='{.metadata.annotations.idw/merge}')" = m1 ] ||
    fail "--dry-run=server changed the object"
[ "$(stat_of 's["dry_runs"]')" = 1 ] || fail "dry run not counted"
[ "$(stat_of 's["writes"]')" = "$writes_before" ] || fail "a dry run counted as a write"
ok "patch --dry-run=server"

# ---- rollout restart -----------------------------------------------------------------------------
before=$(k get pods -n payments -l app=payments-worker -o name | sort)
[ -n "$before" ] || fail "no payments-worker pods"
k rollout restart deployment -n payments payments-worker >/dev/null
new=""
for _ in $(seq 1 60); do
    now=$(k get pods -n payments -l app=payments-worker -o name | sort)
    new=$(comm -13 <(echo "$before") <(echo "$now"))
    [ -n "$new" ] && break
    sleep 0.5
done
[ -n "$new" ] || fail "rollout restart made no new pods"
ok "rollout restart: new pods $(echo $new)"

# ---- logs of an NMI pod ----------------------------------------------------------------------------
nmis=$(k get pods -n aad-pod-identity -l app.kubernetes.io/component=nmi -o name)
nmi=${nmis%%$'\n'*}
[ -n "$nmi" ] || fail "no NMI pod"
k logs -n aad-pod-identity "$nmi" --since=1h --timestamps >"$TMP/nmi.log"
grep -q 'oauth2/token' "$TMP/nmi.log" || fail "no token-request lines in $nmi's log"
bad=$(grep -cvE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{9}Z ' "$TMP/nmi.log" || true)
[ "$bad" = 0 ] || fail "$bad log lines without an RFC3339Nano timestamp"
if k logs -n aad-pod-identity "$nmi" --previous >/dev/null 2>"$TMP/prev.err"; then
    fail "--previous must fail"
fi
grep -q 'previous terminated container' "$TMP/prev.err" || fail "--previous: $(cat "$TMP/prev.err")"
ok "logs $nmi --since=1h --timestamps ($(wc -l <"$TMP/nmi.log") lines)"

# ---- watch while something changes -------------------------------------------------------------------
(timeout 30 "$KUBECTL" --cache-dir "$TMP/cache" get deployments -n orders -w --request-timeout=5s \
    >"$TMP/watch.out" 2>"$TMP/watch.err" || true) &
watcher=$!
for _ in $(seq 1 50); do
    grep -q orders-api "$TMP/watch.out" 2>/dev/null && break
    sleep 0.1
done
k patch deployment -n orders orders-api --type merge -p '{"spec":{"replicas":5}}' >/dev/null
wait "$watcher"
grep -Eq '^orders-api +[0-9]+/5 ' "$TMP/watch.out" || fail "the watch did not show the change: $(cat "$TMP/watch.out")"
ok "get deployments -w saw the patch"

# ---- the other two users --------------------------------------------------------------------------
k --context sim-cert get namespaces >"$TMP/ns.txt"
grep -q '^payments ' "$TMP/ns.txt" || fail "--context sim-cert: $(cat "$TMP/ns.txt")"
ok "--context sim-cert (client certificate)"
k --context sim-exec get serviceaccounts -n payments >"$TMP/sa.txt"
grep -q '^payments-api ' "$TMP/sa.txt" || fail "--context sim-exec: $(cat "$TMP/sa.txt")"
[ -s "$IDWSIM_EXEC_LOG" ] || fail "the exec plugin did not run"
ok "--context sim-exec (exec plugin)"
if k --token not-a-valid-token get namespaces >/dev/null 2>"$TMP/401.err"; then
    fail "a wrong token was accepted"
fi
grep -qi 'unauthorized' "$TMP/401.err" || fail "wrong token: $(cat "$TMP/401.err")"
ok "a wrong token gets 401"

# ---- auth can-i (protobuf SelfSubjectAccessReview) ---------------------------------------------------
ssar_before=$(stat_of 's["requests"]["by_path_class"]["ssar"]')
[ "$(k auth can-i patch deployments -n payments)" = yes ] || fail "can-i patch in payments"
[ "$(k auth can-i patch deployments -n legacy || true)" = no ] || fail "can-i patch in legacy (denied by the scenario's RBAC)"
[ "$(stat_of 's["requests"]["by_path_class"]["ssar"]')" = $((ssar_before + 2)) ] || fail "SSARs not seen"
ok "auth can-i (yes in payments, no in legacy)"

# ---- OIDC issuer discovery ---------------------------------------------------------------------------
# The simulator serves the public issuer itself, at its own address, with the scenario's path.
issuer=$(python3 -c 'import json,sys; i=json.load(open(sys.argv[1]))["cluster"]["oidcIssuer"].rstrip("/").split("/"); print("https://127.0.0.1:%s/oidc/%s/%s/" % (sys.argv[2], i[-2], i[-1]))' \
    "$SRC/tests/sim/scenarios/demo.json" "$PORT")
k get --raw /.well-known/openid-configuration |
    python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["issuer"]==sys.argv[1], d; assert d["jwks_uri"].endswith("/openid/v1/jwks")' "$issuer" ||
    fail "openid-configuration"
k get --raw /openid/v1/jwks |
    python3 -c 'import json,sys; k=json.load(sys.stdin)["keys"][0]; assert k["kty"]=="RSA" and k["e"]=="AQAB" and k["kid"] and len(k["n"])>300, k' ||
    fail "jwks"
ok "OIDC discovery"

# ---- what the simulator counted ------------------------------------------------------------------
# label, unlabel, merge patch, JSON patch, the failed JSON patch, rollout restart, the watched patch
stats >"$TMP/stats.json"
python3 - "$TMP/stats.json" <<'EOF' || fail "stats: $(cat "$TMP/stats.json")"
import json, sys
s = json.load(open(sys.argv[1]))
assert s["writes"] == 7, s["writes"]
assert s["dry_runs"] == 1, s["dry_runs"]
assert s["requests"]["by_method"]["PATCH"] == 8, s["requests"]["by_method"]
assert s["requests"]["by_path_class"]["patch"] == 8
assert s["requests"]["by_path_class"]["watch"] >= 1
assert s["requests"]["by_path_class"]["log"] >= 2
assert s["requests"]["by_path_class"]["discovery"] >= 3
assert s["bytes_sent"] > 10000
EOF
ok "/_sim/stats counted 7 writes and 1 dry run"

# ---- secrets stay out of the output; SIGTERM stops cleanly --------------------------------------------
token=$(awk '/^    token: /{print $2}' "$KUBECONFIG")
[ -n "$token" ] || fail "no token in the kubeconfig"
! grep -qF "$token" "$TMP/sim.out" "$TMP/sim.err" || fail "the token was printed"
kill -TERM "$SIM_PID"
rc=0
wait "$SIM_PID" || rc=$?
SIM_PID=""
[ "$rc" -eq 0 ] || fail "idwatch-sim exited $rc on SIGTERM"
ok "SIGTERM: exit 0"
echo "sim_kubectl: all passed"
