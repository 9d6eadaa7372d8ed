#!/usr/bin/env bash
# The write keys end to end: idwatch in tmux against idwatch-sim's demo scenario (Kubernetes and,
# when the simulator serves it, ARM and Entra ID through its azure.env). For every action:
# - the dialog names the intended object, and its body is captured from the screen;
# - the simulator counted exactly one dry run before the confirmation and no write;
# - after y, exactly one write, and the object read back (API server or ARM) is the object
#   before with exactly that body merged in, nothing else;
# - the action log has one JSON line per write whose change is the body shown.
# Then: undo restores the labels exactly; a dry-run rejection applies nothing; a 409 re-reads,
# shows the new state, never retries blindly, and y builds again from it; the demo RBAC (no patch
# of deployments in namespace legacy) greys w with the reason; f creates the federated credential
# through ARM; f is refused on an identity with 22 credentials; ARM's 403 greys f for that identity
# only; M runs a, f and w in order, each confirmed. The action log is private and holds no secret.
# No fixed sleeps: every step waits for what the screen or the simulator shows.
set -euo pipefail
SELF_DIR=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib/common.sh
source "$SELF_DIR/lib/common.sh"

t_need tmux python3 curl

t_sim_start demo
STATE="$T_TMP/xdg-state"
LOG="$STATE/idwatch/actions.log"
mkdir -p "$STATE"
AZURE=0
grep -q '^export AZURE_CLIENT_ID=' "$T_SIM_DIR/azure.env" 2>/dev/null && AZURE=1

# idwatch with the sim's Azure environment; sanitizer reports go to files, checked at the end
cat >"$T_TMP/run.sh" <<EOF
set -a
[ -f '$T_SIM_DIR/azure.env' ] && . '$T_SIM_DIR/azure.env'
set +a
export XDG_STATE_HOME='$STATE'
export ASAN_OPTIONS='${ASAN_OPTIONS:+$ASAN_OPTIONS:}log_path=$T_TMP/idw-asan'
export UBSAN_OPTIONS='${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}print_stacktrace=1:log_path=$T_TMP/idw-ubsan'
'$IDWATCH' --kubeconfig '$T_KUBECONFIG' "\$@"
echo "[idwatch exited \$?]"
EOF
t_tmux_start 132 40 bash "$T_TMP/run.sh"
# On an early exit, idwatch is stopped by its pid before the terminal goes away (a sanitizer
# build that loses its terminal mid-run may hang in the leak check at exit).
stop_idwatch() {
    local pane kid i
    pane=$(tmux -L "$T_TMUX" list-panes -t t -F '#{pane_pid}' 2>/dev/null) || return 0
    for kid in $(pgrep -P "$pane" 2>/dev/null); do     # bash run.sh
        for i in $(pgrep -P "$kid" 2>/dev/null); do     # idwatch
            kill "$i" 2>/dev/null || true
            for _ in $(seq 1 50); do kill -0 "$i" 2>/dev/null || break; sleep 0.1; done
            kill -9 "$i" 2>/dev/null || true
        done
    done
}
trap 'rc=$?; set +e; stop_idwatch; (exit $rc); t_cleanup' EXIT
t_tmux_wait_for " shown" 90 || { t_fail "dashboard never showed the workloads"; t_done; }
t_log "-- [${SECONDS}s] the dashboard is up"

# ---- helpers -----------------------------------------------------------------------------------

section() { t_log "-- [${SECONDS}s] $*"; }

kget() { t_kube_curl "$1"; }
kpath() { # kpath KIND NS NAME: the API path of the object
    case $1 in
    deployment) echo "/apis/apps/v1/namespaces/$2/deployments/$3" ;;
    statefulset) echo "/apis/apps/v1/namespaces/$2/statefulsets/$3" ;;
    cronjob) echo "/apis/batch/v1/namespaces/$2/cronjobs/$3" ;;
    serviceaccount) echo "/api/v1/namespaces/$2/serviceaccounts/$3" ;;
    esac
}
# stat_of writes|dry_runs|puts: a counter of /_sim/stats (no python: this machine may be slow to
# start one, and the counters are read around every step)
stat_of() {
    local js re
    js=$(t_sim_curl /_sim/stats)
    case $1 in
    puts) re='"PUT":([0-9]+)' ;;
    *) re="\"$1\":([0-9]+)" ;;
    esac
    if [[ $js =~ $re ]]; then echo "${BASH_REMATCH[1]}"; else echo 0; fi
}

# wait_re REGEX [SECONDS]: until the screen matches the extended regular expression.
wait_re() {
    local i
    for i in $(seq 1 $((${2:-20} * 10))); do
        t_tmux_screen | grep -qE -- "$1" && return 0
        sleep 0.1
    done
    t_log "screen never matched /$1/; screen was:"
    t_tmux_screen >&2
    return 1
}
status_line() { t_tmux_screen | tail -n 2 | head -n 1; }
# wait_status REGEX [SECONDS]: until the status line (above the key hints) matches.
wait_status() {
    local i
    for i in $(seq 1 $((${2:-20} * 10))); do
        status_line | grep -qE -- "$1" && return 0
        sleep 0.1
    done
    t_log "status line never matched /$1/; it was: $(status_line)"
    return 1
}

# close_dialog: Esc when a dialog is still open (after a failure), then waits until it closed
# (an Esc followed at once by another key would read as Alt-key).
close_dialog() {
    t_tmux_screen | grep -qE "Esc cancel|Enter/Esc close" || return 0
    t_tmux_keys Escape
    local i
    for i in $(seq 1 50); do
        t_tmux_screen | grep -qE "Esc cancel|Enter/Esc close" || return 0
        sleep 0.1
    done
}

# hint_dim TEXT: whether TEXT in the key-hint line on stdin (with escapes) is drawn dim
hint_dim() {
    python3 -c '
import re, sys
line, text = sys.stdin.read(), sys.argv[1]
m = re.search(r"((?:\x1b\[[0-9;]*m)+)" + re.escape(text) + r"(?=[\x1b ])", line)
dim = False
for seq in re.findall(r"\x1b\[([0-9;]*)m", m.group(1) if m else ""):
    ps = [int(x) if x else 0 for x in seq.split(";")]
    i = 0
    while i < len(ps):
        if ps[i] in (38, 48):  # a colour: 38;5;N or 38;2;R;G;B
            i += 3 if i + 1 < len(ps) and ps[i + 1] == 5 else 5
            continue
        dim = (dim or ps[i] == 2) and ps[i] not in (0, 22)
        i += 1
sys.exit(0 if dim else 1)' "$1"
}

# select_wl NS NAME: filter the table down to that one workload (the cursor is on it).
select_wl() {
    close_dialog
    t_tmux_keys /
    t_tmux_keys C-u
    t_tmux_keys -l "$1/$2"
    t_tmux_keys Enter
    wait_re "^. $1 +$2 " 10 && wait_status "workloads, 1 shown" 10 || return 1
    # the filter applies while typing: the prompt gives the last line back to the hints
    local i
    for i in $(seq 1 100); do t_tmux_screen | tail -n 1 | grep -q "Enter detail" && return 0; sleep 0.1; done
    return 1
}

# the body the dialog shows (the rows after "body", joined until they parse as JSON)
shown_body() {
    t_tmux_screen | python3 -c '
import sys, json
lines = [l.strip() for l in sys.stdin.read().splitlines()]
for i, l in enumerate(lines):
    if l == "body":
        txt = ""
        for nxt in lines[i + 1:i + 12]:
            txt += nxt
            try:
                json.loads(txt); print(txt); sys.exit(0)
            except ValueError:
                continue
sys.exit(1)'
}

# compare_merge BEFORE AFTER BODY: AFTER == BEFORE with BODY merged in (RFC 7386), but for the
# fields the server moves on any write (resourceVersion, generation, managedFields, status).
compare_merge() {
    python3 - "$1" "$2" "$3" <<'EOF'
import json, sys
before, after = (json.load(open(p)) for p in sys.argv[1:3])
body = json.loads(open(sys.argv[3]).read())
def merge(t, p):
    if not isinstance(p, dict):
        return p
    t = dict(t) if isinstance(t, dict) else {}
    for k, v in p.items():
        if v is None:
            t.pop(k, None)
        else:
            t[k] = merge(t.get(k), v)
    return t
def clean(o):
    o = json.loads(json.dumps(o))
    m = o.get("metadata", {})
    for f in ("resourceVersion", "generation", "managedFields"):
        m.pop(f, None)
    o.pop("status", None)
    return o
want = clean(merge(before, body))
got = clean(after)
if want != got:
    print("want:", json.dumps(want, sort_keys=True)[:3000], file=sys.stderr)
    print("got: ", json.dumps(got, sort_keys=True)[:3000], file=sys.stderr)
    sys.exit(1)
EOF
}

same_object() { # same_object A B: equal but for the fields any write moves
    python3 - "$1" "$2" <<'EOF'
import json, sys
def clean(o):
    m = o.get("metadata", {})
    for f in ("resourceVersion", "generation", "managedFields"):
        m.pop(f, None)
    o.pop("status", None)
    return o
a, b = (clean(json.load(open(p))) for p in sys.argv[1:3])
if a != b:
    print("a:", json.dumps(a, sort_keys=True)[:3000], file=sys.stderr)
    print("b:", json.dumps(b, sort_keys=True)[:3000], file=sys.stderr)
    sys.exit(1)
EOF
}

# ARM as idwatch's principal (client credentials against the simulator's Entra ID)
arm_token() {
    (
        set -a
        . "$T_SIM_DIR/azure.env"
        curl -sS --cacert "$T_SIM_DIR/ca.crt" "$AZURE_AUTHORITY_HOST/$AZURE_TENANT_ID/oauth2/v2.0/token" \
            -d grant_type=client_credentials -d "client_id=$AZURE_CLIENT_ID" \
            --data-urlencode "client_secret=$AZURE_CLIENT_SECRET" \
            -d scope=https://management.azure.com/.default
    ) | python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])'
}
arm_get() { # arm_get PATH (without api-version)
    curl -sS --cacert "$T_SIM_DIR/ca.crt" -H "Authorization: Bearer $ARM_TOKEN" \
        "$ARM_URL$1?api-version=2023-01-31"
}
SUB=9b3f1c2d-4e5a-4b6c-8d7e-1f2a3b4c5d6e
IDS="/subscriptions/$SUB/resourceGroups/rg-aks-demo/providers/Microsoft.ManagedIdentity/userAssignedIdentities"
fic_count() { arm_get "$IDS/$1/federatedIdentityCredentials" | python3 -c 'import json, sys; print(len(json.load(sys.stdin)["value"]))'; }

# row_cell NAME TITLE: the cell of column TITLE in the table row of NAME on the screen (the
# header gives the column's position; characters, not bytes)
row_cell() {
    local LC_ALL=C.UTF-8 screen head row prefix
    screen=$(t_tmux_screen)
    head=$(grep -m1 -E '^ +NAMESPACE' <<<"$screen") || return 1
    row=$(grep -m1 -E " $1 " <<<"$screen") || return 1
    prefix=${head%% "$2" *}
    [ "$prefix" != "$head" ] || return 1
    local cell=${row:$((${#prefix} + 1)):10}
    cell=${cell%"${cell##*[! ]}"}
    printf '%s\n' "$cell"
}
wait_cell() { # wait_cell NAME TITLE TEXT SECONDS
    local i
    for i in $(seq 1 $(($4 * 5))); do
        [ "$(row_cell "$1" "$2" 2>/dev/null)" = "$3" ] && return 0
        sleep 0.2
    done
    t_log "$2 of $1 never became '$3' (is '$(row_cell "$1" "$2" 2>/dev/null)')"
    return 1
}

applied=0                  # writes applied through idwatch: one "applied" log line each
: >"$T_TMP/bodies.txt"     # the bodies shown, in order, for the log check
failed_logged=0            # writes that failed on the server: one "failed" log line each

# confirm_shown KEY KIND NS NAME: waits for the confirmation of KEY on that object; the body
# shown goes to $T_TMP/body.json. The dry run must have been counted (DRY=1) and nothing written.
confirm_shown() {
    local key=$1 kind=$2 ns=$3 name=$4
    t_tmux_wait_for "y apply" 20 || { t_fail "$key on $ns/$name: no confirmation"; return 1; }
    t_tmux_screen | grep -qF "object        $kind $ns/$name" ||
        { t_fail "$key: the dialog is not about $kind $ns/$name"; t_tmux_screen >&2; return 1; }
    shown_body >"$T_TMP/body.json" || { t_fail "$key on $ns/$name: no body on screen"; return 1; }
}

# apply_action KIND NS NAME KEY [OBJKIND OBJNAME]: KEY on workload NS/NAME; the object changed is
# OBJKIND NS/OBJNAME (default: the workload itself).
apply_action() {
    section "$4 on $2/$3"
    local kind=$1 ns=$2 name=$3 key=$4 okind=${5:-$1} oname=${6:-$3}
    local path shown before="$T_TMP/before.json" after="$T_TMP/after.json"
    path=$(kpath "$okind" "$ns" "$oname")
    case $okind in
    deployment) shown=Deployment ;;
    statefulset) shown=StatefulSet ;;
    cronjob) shown=CronJob ;;
    serviceaccount) shown=ServiceAccount ;;
    esac
    kget "$path" >"$before"
    local dry0 w0
    dry0=$(stat_of dry_runs)
    w0=$(stat_of writes)
    select_wl "$ns" "$name" || { t_fail "$key: could not select $ns/$name"; return 0; }
    t_tmux_keys "$key"
    if [ "$key" = a ]; then # the picker: the pod identity's identity is preselected
        t_tmux_wait_for "Identity for service account" 20 || { t_fail "a: no picker"; return 0; }
        t_tmux_keys Enter
    fi
    confirm_shown "$key" "$shown" "$ns" "$oname" || return 0
    [ "$(stat_of dry_runs)" -eq $((dry0 + 1)) ] || t_fail "$key: not exactly one dry run before the confirmation"
    [ "$(stat_of writes)" -eq "$w0" ] || t_fail "$key: something was written before y"
    t_tmux_keys y
    t_tmux_wait_for "$key applied: " 20 || { t_fail "$key on $ns/$name: not applied"; return 0; }
    t_tmux_keys Enter
    wait_status "^ ?$key applied: " 10 || t_fail "$key: the outcome is not in the status line"
    applied=$((applied + 1))
    cat "$T_TMP/body.json" >>"$T_TMP/bodies.txt"
    [ "$(stat_of writes)" -eq $((w0 + 1)) ] || t_fail "$key: not exactly one write"
    kget "$path" >"$after"
    if compare_merge "$before" "$after" "$T_TMP/body.json"; then
        t_ok "$key on $okind $ns/$oname: the object changed exactly by the body shown"
    else
        t_fail "$key on $okind $ns/$oname: the object does not match the shown change"
    fi
    cp "$before" "$T_TMP/last-before.json"
}

# ---- w, u, and w on a CronJob ----------------------------------------------------------------
section "w, u, and w on a CronJob"
apply_action deployment orders orders-events w
python3 - "$T_TMP/body.json" <<'EOF' || t_fail "w: the body is not the minimal label change"
import json, sys
b = json.load(open(sys.argv[1]))
assert b["spec"]["template"]["metadata"]["labels"] == {"azure.workload.identity/use": "true"}, b
assert list(b["metadata"]) == ["resourceVersion"], b
EOF

w0=$(stat_of writes)
t_tmux_keys u
if t_tmux_wait_for "y apply" 20 && t_tmux_wait_for "u: undo w" 5; then
    shown_body >"$T_TMP/body.json" || t_fail "u: no body on screen"
    t_tmux_keys y
    if t_tmux_wait_for "u applied: " 20; then
        t_tmux_keys Enter
        applied=$((applied + 1))
        cat "$T_TMP/body.json" >>"$T_TMP/bodies.txt"
        kget "$(kpath deployment orders orders-events)" >"$T_TMP/undone.json"
        [ "$(stat_of writes)" -eq $((w0 + 1)) ] || t_fail "u: not exactly one write"
        same_object "$T_TMP/last-before.json" "$T_TMP/undone.json" &&
            t_ok "u restored the label exactly (\"True\")" || t_fail "u did not restore the object"
    else
        t_fail "u was not applied"
    fi
else
    t_fail "u: no confirmation"
fi

apply_action cronjob orders orders-cleanup w
python3 - "$T_TMP/body.json" <<'EOF' || t_fail "CronJob: the label is not on spec.jobTemplate.spec.template"
import json, sys
b = json.load(open(sys.argv[1]))
assert b["spec"] == {"jobTemplate": {"spec": {"template": {"metadata": {"labels": {"azure.workload.identity/use": "true"}}}}}}, b
EOF

# ---- x, X, and R right after x on the same object (built on the version x left) --------------
section "x, X, and R right after x on the same object (built on the version x left)"
apply_action deployment payments payments-api x
apply_action deployment payments payments-legacy-sdk X
apply_action deployment payments payments-api R
python3 - "$T_TMP/body.json" <<'EOF' || t_fail "R: not kubectl's restartedAt annotation"
import json, sys, re
b = json.load(open(sys.argv[1]))
a = b["spec"]["template"]["metadata"]["annotations"]
assert list(a) == ["kubectl.kubernetes.io/restartedAt"], a
assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", a["kubectl.kubernetes.io/restartedAt"]), a
EOF

# ---- a dry-run rejection applies nothing ----------------------------------------------------
section "a dry-run rejection applies nothing"
w0=$(stat_of writes)
d0=$(stat_of dry_runs)
kget "$(kpath deployment orders orders-notify)" >"$T_TMP/notify0.json"
t_sim_curl /_sim/faults -X POST --data 'patch:5xx=500x1' >/dev/null
if select_wl orders orders-notify; then
    t_tmux_keys w
    if t_tmux_wait_for "nothing was applied" 20 && t_tmux_screen | grep -qF "HTTP 500"; then
        t_tmux_keys y # closes the rejected dialog, applies nothing
        wait_status "^ ?w: the dry run was rejected" 10 || t_fail "dry-run rejection: not in the status line"
        kget "$(kpath deployment orders orders-notify)" >"$T_TMP/notify1.json"
        if [ "$(stat_of writes)" -eq "$w0" ] && [ "$(stat_of dry_runs)" -eq $((d0 + 1)) ] &&
            same_object "$T_TMP/notify0.json" "$T_TMP/notify1.json"; then
            t_ok "dry-run rejection: shown, nothing applied"
        else
            t_fail "dry-run rejection: something was written"
        fi
    else
        t_fail "dry-run rejection not shown"
    fi
else
    t_fail "dry-run rejection: could not select orders/orders-notify"
fi
t_sim_curl /_sim/faults -X DELETE >/dev/null

# ---- 409: someone writes between the dry run and y --------------------------------------------
section "409: someone writes between the dry run and y"
if select_wl orders orders-notify && t_tmux_keys w && t_tmux_wait_for "y apply" 20; then
    t_kube_curl "$(kpath deployment orders orders-notify)" -X PATCH \
        -H 'Content-Type: application/merge-patch+json' \
        --data '{"metadata":{"annotations":{"someone":"else"}}}' >/dev/null
    kget "$(kpath deployment orders orders-notify)" >"$T_TMP/notify2.json"
    rv2=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["metadata"]["resourceVersion"])' "$T_TMP/notify2.json")
    w0=$(stat_of writes)
    t_tmux_keys y
    if t_tmux_wait_for "Conflict (409)" 20 && wait_re "resourceVersion $rv2 \(was [0-9]+\)" 10 &&
        t_tmux_wait_for 'label azure.workload.identity/use = "yes"' 5; then
        failed_logged=$((failed_logged + 1))
        kget "$(kpath deployment orders orders-notify)" >"$T_TMP/notify3.json"
        # the refused PATCH is the one write the simulator counts; the object is someone else's
        if [ "$(stat_of writes)" -eq $((w0 + 1)) ] && same_object "$T_TMP/notify2.json" "$T_TMP/notify3.json"; then
            t_ok "409: re-read and the new state shown, no blind retry"
        else
            t_fail "409: a write went through"
        fi
        # y builds the change again on the version just read: dry run, confirmation, apply
        t_tmux_keys y
        if t_tmux_wait_for "y apply" 20 && t_tmux_screen | grep -qF "precondition  resourceVersion $rv2"; then
            shown_body >"$T_TMP/body.json" || t_fail "409: no body on screen"
            t_tmux_keys y
            if t_tmux_wait_for "w applied: " 20; then
                t_tmux_keys Enter
                applied=$((applied + 1))
                cat "$T_TMP/body.json" >>"$T_TMP/bodies.txt"
                kget "$(kpath deployment orders orders-notify)" >"$T_TMP/notify4.json"
                compare_merge "$T_TMP/notify2.json" "$T_TMP/notify4.json" "$T_TMP/body.json" &&
                    t_ok "409: built again from the new state and applied (someone's annotation kept)" ||
                    t_fail "409: the second build did not apply exactly"
            else
                t_fail "409: the rebuilt change was not applied"
            fi
        else
            t_fail "409: y did not build the change again on resourceVersion $rv2"
        fi
    else
        t_fail "409 path not shown"
    fi
else
    t_fail "409 setup: no confirmation"
fi
close_dialog

# ---- RBAC: the demo forbids patching deployments in namespace legacy -----------------------------
section "RBAC: the demo forbids patching deployments in namespace legacy"
w0=$(stat_of writes)
d0=$(stat_of dry_runs)
if select_wl legacy legacy-billing; then
    # the review starts when the key is first offered for the row; its answer greys the key
    t_tmux_keys Enter
    if t_tmux_wait_for "key:      w  (no permission (SelfSubjectAccessReview)" 20; then
        t_ok "RBAC: the detail shows w greyed with the reason"
    else
        t_fail "RBAC: w not greyed in the detail"
    fi
    t_tmux_keys w
    wait_status "^ ?w: no permission" 10 && t_ok "RBAC: w refused with the reason" ||
        t_fail "RBAC: the key was not refused"
    t_tmux_keys Escape
    wait_re "^. legacy +legacy-billing " 10 || true
    # greyed = the dim attribute among the escapes right before "w label" (f, allowed, is not)
    hints=$(tmux -L "$T_TMUX" capture-pane -p -e -t t | tail -n 1)
    if hint_dim "w label" <<<"$hints" && ! hint_dim "f" <<<"$hints"; then
        t_ok "RBAC: w is greyed in the key hints"
    else
        t_fail "RBAC: w not greyed in the key hints"
        printf '%s\n' "$hints" | cat -v >&2
    fi
    t_tmux_keys M
    wait_status "^ ?M: no permission" 10 && t_ok "RBAC: M refused too" || t_fail "RBAC: M was not refused"
else
    t_fail "RBAC: could not select legacy/legacy-billing"
fi
[ "$(stat_of writes)" -eq "$w0" ] && [ "$(stat_of dry_runs)" -eq "$d0" ] ||
    t_fail "RBAC: something was sent"

# ---- Azure: f, the 20-credential refusal, ARM's 403, M --------------------------------------
section "Azure: f, the 20-credential refusal, ARM's 403, M"
if [ "$AZURE" = 1 ]; then
    ARM_URL=$(set -a; . "$T_SIM_DIR/azure.env"; echo "$IDWATCH_ARM_ENDPOINT")
    ARM_TOKEN=$(arm_token)
    # the cluster's issuer, as ARM gives it (what the credentials must name exactly)
    issuer=$(curl -sS --cacert "$T_SIM_DIR/ca.crt" -H "Authorization: Bearer $ARM_TOKEN" \
        "$ARM_URL/subscriptions/$SUB/resourceGroups/rg-aks-demo/providers/Microsoft.ContainerService/managedClusters/aks-demo-weu?api-version=2024-02-01" |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["properties"]["oidcIssuerProfile"]["issuerURL"])') ||
        t_fail "ARM: no issuer for the cluster"

    # a on legacy/legacy-crm: its pod identity is shared-identity, i.e. id-shared (22 credentials)
    select_wl legacy legacy-crm && t_tmux_keys a
    if t_tmux_wait_for "> id-shared " 20; then
        t_ok "a: the picker preselects the identity of the workload's pod identity"
    else
        t_fail "a: id-shared not preselected"
    fi
    t_tmux_keys Escape
    wait_status "a: cancelled" 10 || t_fail "a: Esc did not cancel"
    apply_action deployment legacy legacy-crm a serviceaccount default
    grep -q '"7c80d1c9-a305-4ebe-a185-c09c5de4df78"' "$T_TMP/body.json" || t_fail "a: not id-shared's client id"

    section "f past the limit"
    # f: refused before anything is sent, with the reason
    p0=$(stat_of puts)
    n0=$(fic_count id-shared)
    t_tmux_keys f
    if wait_status "^ ?f: identity id-shared already has 22 federated credentials \(the limit is 20\)" 20; then
        t_ok "f: refused on an identity with 22 credentials, with the reason"
    else
        t_fail "f: the 20-credential limit was not enforced"
    fi
    [ "$(stat_of puts)" -eq "$p0" ] && [ "$(fic_count id-shared)" -eq "$n0" ] || t_fail "f: a credential was written past the limit"

    section "ARM 403"
    # ARM refuses (403) for id-payments-fx (rg-finance): f fails, then is greyed for it only
    w0=$(stat_of writes)
    if select_wl payments payments-fx && t_tmux_keys f && t_tmux_wait_for "y apply" 20; then
        t_tmux_keys y
        if t_tmux_wait_for "AuthorizationFailed" 20; then
            failed_logged=$((failed_logged + 1))
            t_tmux_keys Enter
            wait_status "^ ?f failed: AuthorizationFailed" 10 || t_fail "ARM 403: not in the status line"
            t_tmux_keys f
            wait_status "^ ?f: Azure refused it for id-payments-fx: AuthorizationFailed" 10 &&
                t_ok "ARM 403: f greyed for that identity, with the reason" ||
                t_fail "ARM 403: f not greyed afterwards"
        else
            t_fail "ARM 403: not shown"
        fi
    else
        t_fail "ARM 403: no f dialog on payments/payments-fx"
    fi
    [ "$(stat_of writes)" -eq "$w0" ] || t_fail "ARM 403: something was written"

    section "f on payments-worker"
    # f on payments/payments-worker (id-payments-api): created through ARM, exactly as shown
    p0=$(stat_of puts)
    w0=$(stat_of writes)
    d0=$(stat_of dry_runs)
    fic=aks-demo-weu-ServiceAccount-payments-payments-worker
    select_wl payments payments-worker || true
    [ "$(row_cell payments-worker FED)" = "✗ missing" ] || t_fail "f: the federation of payments-worker was not missing before"
    if t_tmux_keys f && t_tmux_wait_for "y apply" 20 &&
        t_tmux_wait_for "federated credential $fic on identity" 5; then
        shown_body >"$T_TMP/body.json" || t_fail "f: no body on screen"
        [ "$(stat_of writes)" -eq "$w0" ] && [ "$(stat_of dry_runs)" -eq "$d0" ] || t_fail "f: something was sent before y"
        t_tmux_keys y
        if t_tmux_wait_for "f applied: " 20; then
            t_tmux_keys Enter
            applied=$((applied + 1))
            cat "$T_TMP/body.json" >>"$T_TMP/bodies.txt"
            [ "$(stat_of puts)" -eq $((p0 + 1)) ] && [ "$(stat_of writes)" -eq $((w0 + 1)) ] ||
                t_fail "f: not exactly one PUT"
            arm_get "$IDS/id-payments-api/federatedIdentityCredentials/$fic" >"$T_TMP/fic.json"
            python3 - "$T_TMP/fic.json" "$T_TMP/body.json" "$issuer" <<'EOF' && t_ok "f: the credential in ARM is exactly the body shown" || t_fail "f: the credential in ARM differs"
import json, sys
got, shown, issuer = json.load(open(sys.argv[1])), json.load(open(sys.argv[2])), sys.argv[3]
p = got["properties"]
assert p == shown["properties"] or {k: p[k] for k in shown["properties"]} == shown["properties"], (p, shown)
assert p["issuer"] == issuer, (p["issuer"], issuer)
assert p["subject"] == "system:serviceaccount:payments:payments-worker", p
assert p["audiences"] == ["api://AzureADTokenExchange"], p
EOF
            section "the row after f"
            wait_cell payments-worker FED "✓ ok" 60 && t_ok "f: the row shows the federation ok (Azure read again)" ||
                t_fail "f: the row's federation did not update"
        else
            t_fail "f on payments/payments-worker: not applied"
        fi
    else
        t_fail "f on payments/payments-worker: no confirmation (greyed by another identity's 403?)"
        t_tmux_screen >&2
    fi

    section "M on payments-ledger"
    # M on payments/payments-ledger (StatefulSet on pod identity): a, f, w in order, each confirmed
    sa_path=$(kpath serviceaccount payments default)
    sts_path=$(kpath statefulset payments payments-ledger)
    kget "$sa_path" >"$T_TMP/m-sa0.json"
    kget "$sts_path" >"$T_TMP/m-sts0.json"
    d0=$(stat_of dry_runs)
    w0=$(stat_of writes)
    p0=$(stat_of puts)
    fic=aks-demo-weu-ServiceAccount-payments-default
    m_ok=1
    m_step() { # m_step N KEY: waits for step N's confirmation, keeps its body in m-N.json, applies
        [ $m_ok = 1 ] || return 0
        if ! { t_tmux_wait_for "step $1 of 3: $2" 20 && t_tmux_wait_for "y apply" 20; }; then
            t_fail "M: no confirmation of step $1 ($2)"
            m_ok=0
            return 0
        fi
        shown_body >"$T_TMP/m-$1.json" || { t_fail "M: no body in step $1"; m_ok=0; return 0; }
        cat "$T_TMP/m-$1.json" >>"$T_TMP/bodies.txt"
        t_tmux_keys y
    }
    if select_wl payments payments-ledger && t_tmux_keys M && t_tmux_wait_for "> id-payments-api " 20; then
        t_tmux_keys Enter
        m_step 1 a
        [ "$(stat_of dry_runs)" -eq $((d0 + 1)) ] || t_fail "M: not exactly one dry run before a"
        m_step 2 f
        m_step 3 w
        [ "$(stat_of dry_runs)" -eq $((d0 + 2)) ] || t_fail "M: not exactly one dry run before w"
        if [ $m_ok = 1 ] && t_tmux_wait_for "M: 3 steps done" 20; then
            t_tmux_keys Enter
            applied=$((applied + 3))
            [ "$(stat_of writes)" -eq $((w0 + 3)) ] && [ "$(stat_of puts)" -eq $((p0 + 1)) ] ||
                t_fail "M: not exactly three writes (one of them the PUT)"
            kget "$sa_path" >"$T_TMP/m-sa1.json"
            kget "$sts_path" >"$T_TMP/m-sts1.json"
            arm_get "$IDS/id-payments-api/federatedIdentityCredentials/$fic" >"$T_TMP/m-fic.json"
            compare_merge "$T_TMP/m-sa0.json" "$T_TMP/m-sa1.json" "$T_TMP/m-1.json" &&
                grep -q '"azure.workload.identity/client-id":"0b1f6a52-3c9e-4d47-9a1e-5f2b8c7d6e01"' "$T_TMP/m-1.json" &&
                t_ok "M step a: the service account annotated exactly" || t_fail "M step a: the service account differs"
            python3 - "$T_TMP/m-fic.json" "$T_TMP/m-2.json" "$issuer" <<'EOF' && t_ok "M step f: the credential created exactly" || t_fail "M step f: the credential differs"
import json, sys
got, shown, issuer = json.load(open(sys.argv[1])), json.load(open(sys.argv[2])), sys.argv[3]
p = got["properties"]
assert {k: p[k] for k in shown["properties"]} == shown["properties"], (p, shown)
assert p["issuer"] == issuer and p["subject"] == "system:serviceaccount:payments:default", p
EOF
            compare_merge "$T_TMP/m-sts0.json" "$T_TMP/m-sts1.json" "$T_TMP/m-3.json" &&
                python3 -c 'import json,sys; b=json.load(open(sys.argv[1])); assert b["spec"]["template"]["metadata"]["labels"] == {"azure.workload.identity/use": "true"}' "$T_TMP/m-3.json" &&
                t_ok "M step w: the StatefulSet's pod template labelled exactly" || t_fail "M step w: the StatefulSet differs"
        else
            t_fail "M did not finish"
        fi
    else
        t_fail "M: no picker with id-payments-api preselected on payments/payments-ledger"
    fi
else
    t_fail "the simulator's azure.env has no credentials: f and M were not tested end to end"
fi

# ---- the action log -------------------------------------------------------------------------
section "the action log"
if [ -f "$LOG" ]; then
    [ "$(stat -c %a "$LOG")" = 600 ] && t_ok "action log is 0600" || t_fail "action log mode"
    python3 - "$LOG" "$applied" "$failed_logged" "$T_TMP/bodies.txt" "$T_SIM_DIR/azure.env" <<'EOF' && t_ok "action log: one JSON line per write, the change as shown, no secret" || t_fail "action log content"
import json, sys, re
text = open(sys.argv[1]).read()
entries = [json.loads(l) for l in text.splitlines()]
applied = [e for e in entries if e["result"] == "applied"]
failed = [e for e in entries if e["result"].startswith("failed")]
assert len(applied) == int(sys.argv[2]), (len(applied), sys.argv[2])
assert len(failed) == int(sys.argv[3]), (len(failed), sys.argv[3], failed)
assert len(entries) == len(applied) + len(failed)
for e in entries:
    for f in ("time", "context", "user", "object", "change", "result"):
        assert f in e, (f, e)
    assert e["context"] == "sim-token", e
# the bodies shown, in order, are the changes logged as applied
dec = json.JSONDecoder()
raw, shown = open(sys.argv[4]).read(), []
i = 0
while i < len(raw):
    if raw[i].isspace():
        i += 1
        continue
    o, i = dec.raw_decode(raw, i)
    shown.append(o)
assert len(shown) == len(applied), (len(shown), len(applied))
for s, e in zip(shown, applied):
    ch = e["change"]
    if ch["method"] == "PUT":
        assert s["properties"]["subject"] == ch["subject"] and s["properties"]["issuer"] == ch["issuer"], (s, ch)
    else:
        assert ch["body"] == s, (ch["body"], s)
env = open(sys.argv[5]).read()
m = re.search(r"AZURE_CLIENT_SECRET=['\"]?([^'\"\n]+)", env)
assert not m or m.group(1) not in text
assert "Bearer" not in text and "BEGIN" not in text and "eyJ" not in text
EOF
else
    t_fail "no action log at $LOG"
fi

# ---- quit (a second q in case a dialog was left open); a sanitizer report is a failure ----
t_tmux_keys q
if ! t_tmux_wait_for "[idwatch exited" 5 2>/dev/null; then t_tmux_keys q; fi
t_tmux_wait_for "[idwatch exited 0]" 30 && t_ok "idwatch exited 0" || t_fail "idwatch did not exit cleanly"
for f in "$T_TMP"/idw-asan.* "$T_TMP"/idw-ubsan.*; do
    [ -e "$f" ] || continue
    t_fail "sanitizer report from idwatch ($(basename "$f")):"
    head -n 60 "$f" >&2
done
t_done
