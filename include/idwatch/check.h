/* check: the verdicts. Pure functions from the store to per-workload and per-cluster results
 * (mechanism, federation, projection, pod-identity activity, findings). No I/O, no curses, no curl.
 *
 * Every status enum and the finding codes are X-macro tables: the report strings, severities,
 * message and remedy templates live there and nowhere else.
 */
#ifndef IDWATCH_CHECK_H
#define IDWATCH_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "idwatch/action.h"
#include "idwatch/model.h"
#include "idwatch/selector.h"
#include "idwatch/store.h"

/* ---- status enums: X(ID, "report string") ------------------------------------------------- */

#define CHECK_SEVERITIES(X)                                                                        \
    X(ERROR, "error")                                                                              \
    X(WARNING, "warning")                                                                          \
    X(INFO, "info")

#define CHECK_MECHANISMS(X)                                                                        \
    X(WI, "workload-identity")                                                                     \
    X(PI, "pod-identity")                                                                          \
    X(BOTH, "both")                                                                                \
    X(NONE, "none")

#define CHECK_FEDERATIONS(X)                                                                       \
    X(OK, "ok")                                                                                    \
    X(MISSING, "missing")                                                                          \
    X(ISSUER_MISMATCH, "issuer-mismatch")                                                          \
    X(SUBJECT_MISMATCH, "subject-mismatch")                                                        \
    X(AUDIENCE_MISMATCH, "audience-mismatch")                                                      \
    X(IDENTITY_NOT_FOUND, "identity-not-found")                                                    \
    X(NO_CLIENT_ID, "no-client-id")                                                                \
    X(NOT_APPLICABLE, "not-applicable")                                                            \
    X(UNKNOWN, "unknown")

#define CHECK_PROJECTIONS(X)                                                                       \
    X(OK, "ok")                                                                                    \
    X(NOT_INJECTED, "not-injected")                                                                \
    X(PARTIAL, "partial")                                                                          \
    X(WEBHOOK_MISSING, "webhook-missing")                                                          \
    X(INVALID_EXPIRATION, "invalid-expiration")                                                    \
    X(NOT_APPLICABLE, "not-applicable")                                                            \
    X(UNKNOWN, "unknown")

#define CHECK_ACTIVITIES(X)                                                                        \
    X(ACTIVE, "active")                                                                            \
    X(ERRORS, "errors")                                                                            \
    X(QUIET, "quiet")                                                                              \
    X(NOT_APPLICABLE, "not-applicable")                                                            \
    X(UNKNOWN, "unknown")

#define CHECK_OIDCS(X)                                                                             \
    X(OK, "ok")                                                                                    \
    X(DISABLED, "disabled")                                                                        \
    X(UNREACHABLE, "unreachable")                                                                  \
    X(KEYS_MISMATCH, "keys-mismatch")                                                              \
    X(UNKNOWN, "unknown")

#define CHECK_WEBHOOKS(X)                                                                          \
    X(OK, "ok")                                                                                    \
    X(DEGRADED, "degraded")                                                                        \
    X(MISSING, "missing")                                                                          \
    X(UNKNOWN, "unknown")

#define CHECK_PODIDS(X)                                                                            \
    X(RUNNING, "running")                                                                          \
    X(DEGRADED, "degraded")                                                                        \
    X(ABSENT, "absent")                                                                            \
    X(UNKNOWN, "unknown")

/* How a data source reads in the report and the header (INTERFACE.md cluster.sources). */
#define CHECK_SOURCE_STATES(X)                                                                     \
    X(OK, "ok")                                                                                    \
    X(LOADING, "loading")                                                                          \
    X(STALE, "stale")                                                                              \
    X(FAILED, "failed")                                                                            \
    X(FORBIDDEN, "forbidden")                                                                      \
    X(SKIPPED, "skipped")

#define X(id, str) CHECK_SRC_##id,
enum check_source_state { CHECK_SOURCE_STATES(X) CHECK_SRC__COUNT };
#undef X
#define X(id, str) CHECK_SEV_##id,
enum check_severity { CHECK_SEVERITIES(X) CHECK_SEV__COUNT };
#undef X
#define X(id, str) CHECK_MECH_##id,
enum check_mechanism { CHECK_MECHANISMS(X) CHECK_MECH__COUNT };
#undef X
#define X(id, str) CHECK_FED_##id,
enum check_federation { CHECK_FEDERATIONS(X) CHECK_FED__COUNT };
#undef X
#define X(id, str) CHECK_PROJ_##id,
enum check_projection { CHECK_PROJECTIONS(X) CHECK_PROJ__COUNT };
#undef X
#define X(id, str) CHECK_ACT_##id,
enum check_activity { CHECK_ACTIVITIES(X) CHECK_ACT__COUNT };
#undef X
#define X(id, str) CHECK_OIDC_##id,
enum check_oidc { CHECK_OIDCS(X) CHECK_OIDC__COUNT };
#undef X
#define X(id, str) CHECK_WEBHOOK_##id,
enum check_webhook { CHECK_WEBHOOKS(X) CHECK_WEBHOOK__COUNT };
#undef X
#define X(id, str) CHECK_PODID_##id,
enum check_podid { CHECK_PODIDS(X) CHECK_PODID__COUNT };
#undef X

/* The report strings ("issuer-mismatch", ...). Out-of-range values give "unknown". */
const char *check_severity_name(enum check_severity v);
const char *check_mechanism_name(enum check_mechanism v);
const char *check_federation_name(enum check_federation v);
const char *check_projection_name(enum check_projection v);
const char *check_activity_name(enum check_activity v);
const char *check_oidc_name(enum check_oidc v);
const char *check_webhook_name(enum check_webhook v);
const char *check_podid_name(enum check_podid v);
const char *check_source_state_name(enum check_source_state v);

/* ---- finding codes ------------------------------------------------------------------------
 * X(CODE, severity, action, message template, remedy template)
 * Templates expand ${var} from the finding's context (ns, name, kind, res, sa, value, client_id,
 * identity, id_name, rg, issuer, fic, pod, container, count, total, detail, patch, window).
 * The action is the id of the action that applies the remedy (a remedy row of ACTION_TABLE in
 * action.h, without the ACTION_ prefix: LABEL_WI, ANNOTATE_SA, CREATE_FIC, REMOVE_PI, PROXY_ON,
 * PROXY_OFF, RESTART); NONE = nothing idwatch can apply (the remedy is a command for the user).
 * Its key, name and gating come from the action table. */
#define CHECK_PATCH_CMD "kubectl -n ${ns} patch ${res} ${name} --type merge -p '${patch}'"
#define CHECK_RESTART_CMD "kubectl -n ${ns} rollout restart ${res}/${name}"
#define CHECK_FIC_CREATE_CMD                                                                       \
    "az identity federated-credential create --name ${fic} --identity-name ${id_name} "            \
    "--resource-group ${rg} --issuer ${issuer} --subject system:serviceaccount:${ns}:${sa} "       \
    "--audiences api://AzureADTokenExchange"
#define CHECK_FIC_UPDATE_CMD                                                                       \
    "az identity federated-credential update --name ${fic} --identity-name ${id_name} "            \
    "--resource-group ${rg} --issuer ${issuer} --subject system:serviceaccount:${ns}:${sa} "       \
    "--audiences api://AzureADTokenExchange"

#define CHECK_OIDC_ENABLE_CMD                                                                      \
    "az aks update -g ${rg} -n ${cluster} --enable-oidc-issuer   "                                 \
    "# Terraform: oidc_issuer_enabled = true"
#define CHECK_WEBHOOK_ENABLE_CMD                                                                   \
    "az aks update -g ${rg} -n ${cluster} --enable-workload-identity   "                           \
    "# Terraform: workload_identity_enabled = true; self-managed clusters: the Helm chart "        \
    "workload-identity-webhook"

#define CHECK_FINDINGS(X)                                                                          \
    /* mechanism */                                                                                \
    X(WI_LABEL_VALUE, ERROR, LABEL_WI,                                                             \
      "${kind} ${ns}/${name}: label azure.workload.identity/use=\"${value}\" is not exactly "      \
      "\"true\", so the webhook ignores its pods",                                                 \
      CHECK_PATCH_CMD)                                                                             \
    X(WI_LABEL_ON_SA, WARNING, LABEL_WI,                                                           \
      "${kind} ${ns}/${name}: azure.workload.identity/use is on service account ${sa}, not on "    \
      "the pod template (ignored since webhook v1.0)",                                             \
      CHECK_PATCH_CMD)                                                                             \
    X(WI_LABEL_ON_WORKLOAD, WARNING, LABEL_WI,                                                     \
      "${kind} ${ns}/${name}: azure.workload.identity/use is on the ${kind}'s own metadata, not "  \
      "on its pod template",                                                                       \
      CHECK_PATCH_CMD)                                                                             \
    X(WI_SA_NOT_FOUND, ERROR, NONE,                                                                \
      "${kind} ${ns}/${name}: service account ${sa} does not exist (the webhook rejects its "      \
      "pods)",                                                                                     \
      "kubectl -n ${ns} create serviceaccount ${sa}")                                              \
    /* federation */                                                                               \
    X(FED_NO_CLIENT_ID, ERROR, ANNOTATE_SA,                                                        \
      "service account ${ns}/${sa} (used by ${kind} ${name}) has no "                              \
      "azure.workload.identity/client-id annotation${detail}",                                     \
      "kubectl -n ${ns} annotate serviceaccount ${sa} "                                            \
      "azure.workload.identity/client-id=${client_id}")                                            \
    X(FED_IDENTITY_NOT_FOUND, ERROR, NONE,                                                         \
      "service account ${ns}/${sa}: client id ${client_id} names no managed identity or app "      \
      "registration idwatch can see",                                                              \
      "az identity list --query \"[?clientId=='${client_id}']\" -o table")                         \
    X(FIC_MISSING, ERROR, CREATE_FIC,                                                              \
      "identity ${identity} has no federated credential for system:serviceaccount:${ns}:${sa}",    \
      CHECK_FIC_CREATE_CMD)                                                                        \
    X(FIC_ISSUER_MISMATCH, ERROR, CREATE_FIC,                                                      \
      "federated credential ${fic} on ${identity}: issuer does not match the cluster issuer "      \
      "(${detail})",                                                                               \
      CHECK_FIC_UPDATE_CMD)                                                                        \
    X(FIC_SUBJECT_MISMATCH, ERROR, CREATE_FIC,                                                     \
      "federated credential ${fic} on ${identity}: subject ${value} is not "                       \
      "system:serviceaccount:${ns}:${sa}${detail}",                                                \
      CHECK_FIC_UPDATE_CMD)                                                                        \
    X(FIC_AUDIENCE_MISMATCH, ERROR, CREATE_FIC,                                                    \
      "federated credential ${fic} on ${identity}: audiences ${value} are not exactly "            \
      "[api://AzureADTokenExchange]",                                                              \
      CHECK_FIC_UPDATE_CMD)                                                                        \
    X(FIC_NEAR_LIMIT, WARNING, NONE,                                                               \
      "identity ${identity} (used by ${ns}/${sa}) has ${count} federated credentials (max 20)",    \
      "az identity federated-credential list --identity-name ${id_name} --resource-group ${rg} "   \
      "-o table")                                                                                  \
    X(FED_TENANT_MISMATCH, ERROR, NONE,                                                            \
      "service account ${ns}/${sa}: tenant-id annotation ${value} differs from the identity's "    \
      "tenant ${detail}",                                                                          \
      "kubectl -n ${ns} annotate --overwrite serviceaccount ${sa} "                                \
      "azure.workload.identity/tenant-id=${detail}")                                               \
    X(FED_TENANT_EMPTY, WARNING, NONE,                                                             \
      "service account ${ns}/${sa}: tenant-id annotation is empty, so AZURE_TENANT_ID is not "     \
      "injected",                                                                                  \
      "kubectl -n ${ns} annotate serviceaccount ${sa} azure.workload.identity/tenant-id-")         \
    /* projection */                                                                               \
    X(PROJ_NOT_INJECTED, ERROR, RESTART,                                                           \
      "${kind} ${ns}/${name}: ${count} of ${total} pods have no projected Azure token (created "   \
      "before the label or the webhook)",                                                          \
      CHECK_RESTART_CMD)                                                                           \
    X(PROJ_PARTIAL, ERROR, RESTART,                                                                \
      "${kind} ${ns}/${name}: container ${container} of pod ${pod} lacks "                         \
      "AZURE_FEDERATED_TOKEN_FILE or its token mount",                                             \
      CHECK_RESTART_CMD)                                                                           \
    X(PROJ_WEBHOOK_MISSING, ERROR, NONE,                                                           \
      "${kind} ${ns}/${name}: new pods cannot get an Azure token: ${detail}",                      \
      "az aks update -g <resource-group> -n <cluster> --enable-oidc-issuer "                       \
      "--enable-workload-identity")                                                                \
    X(PROJ_INVALID_EXPIRATION, ERROR, NONE,                                                        \
      "${kind} ${ns}/${name}: service-account-token-expiration=\"${value}\" on service account "   \
      "${sa} is not an integer in 3600..86400, so the webhook rejects new pods",                   \
      "kubectl -n ${ns} annotate --overwrite serviceaccount ${sa} "                                \
      "azure.workload.identity/service-account-token-expiration=3600")                             \
    X(PROJ_INVALID_EXPIRATION_POD, ERROR, NONE,                                                    \
      "${kind} ${ns}/${name}: service-account-token-expiration=\"${value}\" on the pod template "  \
      "is not an integer in 3600..86400, so the webhook rejects new pods",                         \
      CHECK_PATCH_CMD)                                                                             \
    X(PROJ_CLIENT_ID_STALE, WARNING, RESTART,                                                      \
      "${kind} ${ns}/${name}: pod ${pod} has AZURE_CLIENT_ID=${value} but service account ${sa} "  \
      "says ${client_id} (pod older than the annotation, or set by hand)",                         \
      CHECK_RESTART_CMD)                                                                           \
    X(PROXY_NOT_INJECTED, WARNING, RESTART,                                                        \
      "${kind} ${ns}/${name}: pod ${pod} asks for the proxy sidecar but has no ${container} "      \
      "container",                                                                                 \
      CHECK_RESTART_CMD)                                                                           \
    X(PROXY_FALSE_VALUE, WARNING, PROXY_OFF,                                                       \
      "${kind} ${ns}/${name}: inject-proxy-sidecar=\"${value}\" still injects the proxy (the "     \
      "webhook only checks that the key exists)",                                                  \
      CHECK_PATCH_CMD)                                                                             \
    X(PROXY_HOST_NETWORK, ERROR, PROXY_OFF,                                                        \
      "${kind} ${ns}/${name}: hostNetwork pods cannot get the proxy sidecar; the webhook "         \
      "rejects them",                                                                              \
      CHECK_PATCH_CMD)                                                                             \
    /* pod identity, per workload */                                                               \
    X(PI_NO_BINDING, ERROR, REMOVE_PI,                                                             \
      "${kind} ${ns}/${name}: label aadpodidbinding=${value} matches no "                          \
      "AzureIdentityBinding${detail}",                                                             \
      CHECK_PATCH_CMD)                                                                             \
    X(PI_IDENTITY_MISSING, ERROR, NONE,                                                            \
      "${kind} ${ns}/${name}: AzureIdentityBinding ${value} names AzureIdentity ${identity}, "     \
      "which does not exist${detail}",                                                             \
      "kubectl get azureidentities -A")                                                            \
    X(PI_IN_USE, WARNING, LABEL_WI,                                                                \
      "${kind} ${ns}/${name} still uses AAD Pod Identity (aadpodidbinding=${value}), deprecated "  \
      "since 2022-10",                                                                             \
      CHECK_PATCH_CMD)                                                                             \
    X(PI_LABEL_LEFTOVER, INFO, REMOVE_PI,                                                          \
      "${kind} ${ns}/${name} uses workload identity and still carries aadpodidbinding=${value}; "  \
      "${detail}: the binding can be removed",                                                     \
      CHECK_PATCH_CMD)                                                                             \
    X(PI_STILL_REQUESTING, WARNING, NONE,                                                          \
      "${kind} ${ns}/${name} still asked NMI for ${count} tokens in the last ${window}${detail}",  \
      "kubectl -n ${ns} get pods -o wide   # find the pods still calling IMDS")                    \
    X(PI_REQUEST_ERRORS, WARNING, NONE,                                                            \
      "${kind} ${ns}/${name}: NMI answered ${count} of ${total} token requests with an error in "  \
      "the last ${window} (${detail})",                                                            \
      "kubectl get azureassignedidentities -A -o wide")                                            \
    X(PI_NMI_ABSENT, WARNING, REMOVE_PI,                                                           \
      "${kind} ${ns}/${name}: labelled aadpodidbinding=${value} but no NMI runs, so the label "    \
      "does nothing",                                                                              \
      CHECK_PATCH_CMD)                                                                             \
    /* cluster */                                                                                  \
    X(OIDC_DISABLED, ERROR, NONE,                                                                     \
      "the cluster's OIDC issuer is disabled (${detail}); workload identity cannot work for the "  \
      "${count} workloads that use it",                                                            \
      CHECK_OIDC_ENABLE_CMD)                                                                       \
    X(OIDC_NOT_ENABLED, WARNING, NONE,                                                                \
      "the cluster's OIDC issuer is disabled (${detail}): enable it before migrating any "         \
      "workload to workload identity",                                                             \
      CHECK_OIDC_ENABLE_CMD)                                                                       \
    X(OIDC_UNREACHABLE, ERROR, NONE, "the OIDC issuer ${issuer} is not reachable: ${detail}",         \
      "curl -fsS ${issuer}.well-known/openid-configuration")                                       \
    X(OIDC_KEYS_MISMATCH, ERROR, NONE,                                                             \
      "the public JWKS of ${issuer} does not hold the cluster's signing keys: ${detail}",          \
      "az aks update -g <resource-group> -n <cluster>   # reconciles the issuer")                  \
    X(OIDC_NOT_PUBLIC, ERROR, NONE,                                                                \
      "the cluster issuer ${issuer} is not a public URL; no federated credential can match it",    \
      "az aks update -g <resource-group> -n <cluster> --enable-oidc-issuer")                       \
    X(OIDC_ISSUER_DIFFERS, WARNING, NONE,                                                          \
      "ARM reports issuer ${issuer} but the API server issues tokens for ${value}",                \
      "kubectl get --raw /.well-known/openid-configuration")                                       \
    X(WEBHOOK_MISSING, ERROR, NONE,                                                                \
      "no mutating webhook mutation.azure-workload-identity.io: ${count} workloads use workload "  \
      "identity",                                                                                  \
      CHECK_WEBHOOK_ENABLE_CMD)                                                                    \
    X(WEBHOOK_NOT_INSTALLED, WARNING, NONE,                                                           \
      "the workload identity webhook (mutation.azure-workload-identity.io) is not installed: "     \
      "install it before migrating any workload to workload identity",                             \
      CHECK_WEBHOOK_ENABLE_CMD)                                                                    \
    X(WEBHOOK_DOWN, ERROR, NONE,                                                                      \
      "webhook deployment ${ns}/azure-wi-webhook-controller-manager has no available replicas; "   \
      "labelled pods cannot be created",                                                           \
      "kubectl -n ${ns} get deploy,pods,endpointslices -l azure-workload-identity.io/system=true") \
    X(WEBHOOK_DEGRADED, WARNING, NONE,                                                             \
      "webhook deployment ${ns}/azure-wi-webhook-controller-manager: ${count} of ${total} "        \
      "replicas available",                                                                        \
      "kubectl -n ${ns} describe deployment azure-wi-webhook-controller-manager")                  \
    X(WEBHOOK_CA_EMPTY, ERROR, NONE,                                                               \
      "mutating webhook configuration ${name} has an empty caBundle; every labelled pod create "   \
      "fails TLS",                                                                                 \
      "kubectl -n ${ns} logs deployment/azure-wi-webhook-controller-manager")                      \
    X(WEBHOOK_POLICY, WARNING, NONE,                                                               \
      "mutating webhook configuration ${name}: ${detail} (pre-v1.0 install or patched)",           \
      "kubectl get mutatingwebhookconfiguration ${name} -o yaml")                                  \
    X(WEBHOOK_DOUBLE_INSTALL, WARNING, NONE,                                                       \
      "workload identity webhook is installed ${count} times (${detail})",                         \
      "helm -n azure-workload-identity-system uninstall workload-identity-webhook")                \
    X(PODID_DEGRADED, WARNING, NONE, "AAD Pod Identity ${value}: ${count} of ${total} ready",      \
      "kubectl -n ${ns} get pods -o wide")                                                         \
    X(PODID_HALF_REMOVED, ERROR, NONE,                                                             \
      "NMI runs in ${ns} without MIC (standard mode): every IMDS call of an unbound pod waits "    \
      "80 s and fails",                                                                            \
      "kubectl -n ${ns} delete daemonset ${name}")                                                 \
    X(PODID_REMOVAL_SAFE, INFO, NONE, "nothing uses AAD Pod Identity any more; it can be removed",    \
      "${detail}")                                                                                 \
    /* evidence: what could not be read */                                                        \
    X(AZURE_AUTH_FAILED, ERROR, NONE,                                                                 \
      "Azure sign-in failed, so no federation could be verified: ${detail}",                       \
      "az login   # or fix AZURE_TENANT_ID/AZURE_CLIENT_ID/AZURE_CLIENT_SECRET; --no-azure skips " \
      "Azure")                                                                                     \
    X(ARM_UNAVAILABLE, ERROR, NONE,                                                                   \
      "Azure Resource Manager could not be read, so federation was not verified: ${detail}",       \
      "az rest --method get --url /subscriptions?api-version=2022-12-01   # is ARM reachable? "    \
      "--no-azure skips Azure")                                                                    \
    X(GRAPH_UNAVAILABLE, WARNING, NONE,                                                               \
      "Microsoft Graph could not be read, so app registrations' credentials were not verified: "   \
      "${detail}",                                                                                 \
      "az ad app federated-credential list --id <app id>")                                         \
    X(AKS_CLUSTER_NOT_FOUND, WARNING, NONE,                                                           \
      "the AKS cluster was not found in ARM (${detail}); its OIDC and workload identity settings " \
      "come from the API server only",                                                             \
      "idwatch --cluster-id /subscriptions/<subscription>/resourceGroups/<resource-group>/"        \
      "providers/Microsoft.ContainerService/managedClusters/<cluster>")                            \
    X(SOURCE_UNREADABLE, WARNING, NONE,                                                               \
      "${name} could not be read completely (${detail}): verdicts that need it are unknown",      \
      "kubectl auth can-i --list   # idwatch needs get/list/watch cluster-wide, pods/log")         \
    X(FED_UNKNOWN, WARNING, NONE,                                                                     \
      "${kind} ${ns}/${name}: federation of service account ${sa} could not be verified: "         \
      "${detail}",                                                                                 \
      "az identity federated-credential list --identity-name ${id_name} --resource-group ${rg}")   \
    X(NMI_LOG_INCOMPLETE, WARNING, NONE,                                                              \
      "NMI log of ${pod} (node ${value}) ${detail}: pod identity activity on that node is "        \
      "unknown",                                                                                   \
      "kubectl -n ${ns} logs ${pod} --since=${window} --timestamps")

#define X(code, sev, action, msg, remedy) CHECK_CODE_##code,
enum check_code { CHECK_FINDINGS(X) CHECK_CODE__COUNT };
#undef X

const char *check_code_name(enum check_code c); /* "FIC_ISSUER_MISMATCH" */
enum check_severity check_code_severity(enum check_code c);
enum action_id check_code_action(enum check_code c);          /* ACTION_NONE: none */
int check_code_parse(const char *name, enum check_code *out); /* 0 or -1 */

/* The JSON merge patch that the actions LABEL_WI, REMOVE_PI, PROXY_ON and PROXY_OFF apply to a
 * workload of kind k (the pod template path differs for CronJobs). NULL for other actions or for
 * bare Pods. Caller frees. */
char *check_patch_json(enum model_workload_kind k, enum action_id a);
/* The merge patch that resets the token-expiration annotation of k's pod template to 3600 (no
 * action applies it: it is a command for the user). NULL for bare Pods. Caller frees. */
char *check_patch_expiration(enum model_workload_kind k);

struct check_finding {
    enum check_code code;
    enum check_severity severity;
    char *message;         /* one line naming the object */
    char *evidence;        /* what idwatch saw (may be NULL) */
    char *remedy;          /* the command to run (may be NULL) */
    enum action_id action; /* the action that applies the remedy, or ACTION_NONE */
};

/* ---- per-workload result ------------------------------------------------------------------ */

/* One pod's token projection, for the detail pane. */
struct check_pod {
    char *name;
    enum check_projection status; /* ok, not-injected, partial, or unknown (no spec) */
    bool ready;
    bool proxy;         /* has the azwi-proxy sidecar */
    const char *layout; /* static: "v1.6" (azure/wi), "v1.5" (azure/tokens), "pre-v0.8",
                           "custom", or NULL when not injected */
    char *detail;       /* e.g. "container worker: no AZURE_FEDERATED_TOKEN_FILE" */
};

struct check_workload {
    enum model_workload_kind kind;
    char *namespace_;
    char *name;
    char *service_account;
    enum check_mechanism mechanism;
    char *pi_selector; /* value of aadpodidbinding on the template, or NULL */
    struct {
        enum check_federation status;
        char *client_id;  /* from the SA annotation, or NULL */
        char *identity;   /* ARM id (or app id) of the identity, or NULL */
        char *credential; /* name of the matching (or nearest) FIC, or NULL */
        char *detail;     /* one line: why this status (NULL for not-applicable) */
    } federation;
    struct {
        enum check_projection status;
        int pods_ok;
        int pods_total;
        char *detail; /* NULL for not-applicable */
        struct check_pod *pods;
        size_t n_pods;
    } projection;
    struct {
        enum check_activity status;
        int64_t requests;
        int64_t errors;
        int64_t last_seen; /* epoch seconds, 0 = never in the window */
        int64_t window_seconds;
        int last_status; /* HTTP code of the last request, 0 if none */
        char *detail;    /* what the status rests on (or why it is unknown) */
    } activity;
    /* May aadpodidbinding be removed from this workload? -1 = not applicable (no label), 0 = no,
     * 1 = yes (WI verified and NMI read for the whole window without a request from it). */
    int binding_removable;
    char *binding_reason; /* why (NULL when not applicable) */
    bool in_scope;        /* listed under the current scope (-n, -l); verdicts do not depend on it */
    int pods_bound; /* live pods whose aadpodidbinding a binding selects */
    struct check_finding *findings;
    size_t n_findings;
    int n_errors;
    int n_warnings;
};

/* ---- cluster result ----------------------------------------------------------------------- */

/* One data source as reported (INTERFACE.md cluster.sources). */
struct check_source {
    char *name;
    enum check_source_state state;
    char *detail;        /* the error, what is partial, or what was read; may be NULL */
    int64_t age_seconds; /* since the last success; -1 = never */
};

/* How a store source reads: state, one-line detail, age at `now`. Pure. */
void check_source_describe(const struct store_source *src, int64_t now, struct check_source *out);
void check_source_clear(struct check_source *s);

struct check_cluster {
    char *arm_id;      /* NULL when unknown */
    char *oidc_issuer; /* ARM issuer URL, else the API server's; NULL when unknown */
    struct {
        enum check_oidc status;
        char *detail;
    } oidc;
    struct {
        enum check_webhook status;
        int ready;
        int desired;
        char *namespace_; /* where the webhook's service runs, NULL when missing */
        int installs;     /* number of webhooks named mutation.azure-workload-identity.io */
        char *detail;
    } webhook;
    struct {
        enum check_podid status;
        int nmi_ready;
        int nmi_desired;
        int mic_ready;
        int mic_desired;
        int identities;    /* AzureIdentity objects */
        int bindings;      /* AzureIdentityBinding objects */
        bool managed_mode; /* AKS add-on / managed-mode NMI: bindings only match in their namespace
                            */
        char *namespace_;  /* where NMI runs, or NULL */
        char *detail;
    } pod_identity;
    struct {
        int total;
        int workload_identity;
        int pod_identity;
        int both;
        int none;
        double percent_migrated; /* rounded to one decimal */
    } migration;
    struct {
        bool safe;
        char **blockers;
        size_t n_blockers;
    } removal;
    struct check_source *sources; /* every data source, in store order */
    size_t n_sources;
    char *scope;            /* "namespace legacy", "selector app=x", both, or NULL (all) */
    bool namespace_missing; /* the scope's namespace does not exist */
    int64_t nmi_requests;     /* token requests in the window (all senders) */
    int64_t nmi_unattributed; /* of those, requests idwatch could not tie to a workload */
    struct check_finding *findings;
    size_t n_findings;
    int n_errors;
    int n_warnings;
};

/* ---- running the checks ------------------------------------------------------------------- */

struct check_options {
    int64_t now;                 /* epoch seconds used as "now"; 0 = the current time */
    int64_t window_seconds;      /* NMI activity window; 0 = 3600 */
    bool nmi_logs_unavailable;   /* NMI logs could not be read at all: activity is unknown (the
                                  * per-pod log sources in the store say the same per node) */
    const char *nmi_logs_reason; /* why (shown in details), may be NULL */
    /* The scope: which workloads are listed (in_scope). Verdicts never depend on it; the cluster
     * summary counts listed workloads, and pod identity removal is never "safe" in a scope. */
    const char *scope_namespace;          /* NULL = all namespaces */
    const struct selector *scope_selector; /* workload labels; NULL = all */
    const char *scope_selector_text;      /* for messages */
};

struct check_result {
    struct check_cluster cluster;
    struct check_workload *workloads; /* one per store workload; order is stable between runs */
    size_t n_workloads;
    uint64_t version;           /* bumped by every run or update that changed anything */
    int64_t last_run_ms;        /* duration of the last run (monotonic ms), for the header */
    struct check_state *state_; /* private: indexes and caches for incremental updates */
};

struct check_result *check_new(void);
void check_free(struct check_result *r);

/* Re-checks everything in the store. */
void check_run(struct check_result *r, const struct store *s, const struct check_options *opt);
/* Re-checks only the given workloads (as returned by store_take_dirty), drops results of
 * workloads that are gone, and recomputes the cluster summary. all = true runs check_run. */
void check_update(struct check_result *r, const struct store *s,
                  const struct model_workload *const *dirty, size_t n_dirty, bool all,
                  const struct check_options *opt);

/* New or expired NMI requests only: rebuilds the attribution and checks again the workloads
 * whose requests changed (a full run when nothing was run yet). */
void check_update_activity(struct check_result *r, const struct store *s,
                           const struct check_options *opt);

/* The result for one workload, or NULL. */
const struct check_workload *check_find(const struct check_result *r, enum model_workload_kind k,
                                        const char *ns, const char *name);

/* Number of error findings over the cluster and the workloads in scope (the report exit code
 * rule). */
size_t check_error_count(const struct check_result *r);

#endif
