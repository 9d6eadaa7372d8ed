/* check: every per-workload status and the common failure modes, table-driven over a small
 * store built object by object (payments/api, SA api, webhook v1.6 pod). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "idwatch/check.h"
#include "test_check_fixture.h"

struct scen {
    struct store *s;
    struct model_workload *d;
    struct model_service_account *sa;
    struct model_pod *pod; /* NULL = no pod */
    struct model_fic *fics;
    size_t n_fics;
    bool webhook;
    int webhook_available;
    bool azure;
    struct check_options opt;
};

static void scen_init(struct scen *x)
{
    memset(x, 0, sizeof *x);
    x->s = store_new();
    x->d = tf_workload(MODEL_KIND_DEPLOYMENT, "payments", "api", "api");
    tf_kv(&x->d->tmpl.labels, "app=api", WI_LABEL_USE "=true", NULL);
    x->sa = tf_sa("payments", "api");
    kv_set(&x->sa->meta.annotations, WI_ANN_CLIENT_ID, T_CID);
    x->pod = tf_pod(x->d, "payments", "api-7c9d8f6b5b-abcde");
    struct model_container *c = tf_container(x->pod, MODEL_CONTAINER_REGULAR, "app");
    tf_inject16(x->pod, c, true);
    x->fics = xcalloc(32, sizeof *x->fics);
    x->fics[x->n_fics++] =
        tf_fic("payments-api", T_ISSUER, "system:serviceaccount:payments:api", WI_AUDIENCE);
    x->webhook = true;
    x->webhook_available = 2;
    x->azure = true;
    x->opt.now = T_NOW;
    x->opt.window_seconds = 3600;
}

/* Pod labels follow the template unless a mutator changed the pod itself. */
static void scen_sync_pod_labels(struct scen *x)
{
    if (!x->pod)
        return;
    kv_free(&x->pod->meta.labels);
    kv_copy(&x->pod->meta.labels, &x->d->tmpl.labels);
    kv_free(&x->pod->meta.annotations);
    kv_copy(&x->pod->meta.annotations, &x->d->tmpl.annotations);
}

static const struct check_workload *scen_run(struct scen *x, struct check_result *r)
{
    if (x->webhook)
        tf_webhook(x->s, "kube-system", x->webhook_available);
    if (x->azure) {
        tf_azure(x->s, x->fics, x->n_fics);
    } else {
        struct model_identity id = {0};
        id.fics = x->fics;
        id.n_fics = x->n_fics;
        model_identity_free(&id);
    }
    x->fics = NULL;
    tf_rs(x->s, x->d);
    store_put_workload(x->s, x->d);
    if (x->sa)
        store_put_sa(x->s, x->sa);
    if (x->pod)
        store_put_pod(x->s, x->pod);
    check_run(r, x->s, &x->opt);
    return check_find(r, MODEL_KIND_DEPLOYMENT, "payments", "api");
}

/* ---- mutators ---------------------------------------------------------------------------- */

static struct model_container *pod_app(struct scen *x)
{
    return &x->pod->containers[x->pod->n_containers - 1];
}

static void m_none(struct scen *x)
{
    kv_del(&x->d->tmpl.labels, WI_LABEL_USE);
    model_pod_free(x->pod);
    x->pod = tf_pod(x->d, "payments", "api-7c9d8f6b5b-abcde");
    tf_container(x->pod, MODEL_CONTAINER_REGULAR, "app");
}
static void m_label_True(struct scen *x)
{
    m_none(x);
    kv_set(&x->d->tmpl.labels, WI_LABEL_USE, "True");
    scen_sync_pod_labels(x);
}
static void m_label_on_sa(struct scen *x)
{
    m_none(x);
    kv_set(&x->sa->meta.labels, WI_LABEL_USE, "true");
}
static void m_label_on_meta(struct scen *x)
{
    m_none(x);
    kv_set(&x->d->meta.labels, WI_LABEL_USE, "true");
}
static void m_no_client_id(struct scen *x)
{
    kv_del(&x->sa->meta.annotations, WI_ANN_CLIENT_ID);
}
static void m_client_id_wrong_key(struct scen *x)
{
    kv_del(&x->sa->meta.annotations, WI_ANN_CLIENT_ID);
    kv_set(&x->sa->meta.annotations, "azure.workload.identity/client_id", T_CID);
}
static void m_no_sa(struct scen *x)
{
    model_sa_free(x->sa);
    x->sa = NULL;
}
static void m_identity_not_found(struct scen *x)
{
    kv_set(&x->sa->meta.annotations, WI_ANN_CLIENT_ID, "99999999-1111-2222-3333-444444444444");
}
static void replace_fic(struct scen *x, const char *issuer, const char *subject, const char *aud)
{
    struct model_identity id = {0};
    id.fics = xcalloc(1, sizeof *id.fics);
    id.fics[0] = x->fics[0];
    id.n_fics = 1;
    model_identity_free(&id);
    x->fics[0] = tf_fic("payments-api", issuer, subject, aud);
}
static void m_fic_missing(struct scen *x)
{
    replace_fic(x, T_ISSUER, "system:serviceaccount:orders:worker", WI_AUDIENCE);
}
static void m_fic_issuer_slash(struct scen *x)
{
    char *noslash = xstrndup(T_ISSUER, strlen(T_ISSUER) - 1);
    replace_fic(x, noslash, "system:serviceaccount:payments:api", WI_AUDIENCE);
    free(noslash);
}
static void m_fic_subject_case(struct scen *x)
{
    replace_fic(x, T_ISSUER, "system:serviceaccount:Payments:api", WI_AUDIENCE);
}
static void m_fic_audience(struct scen *x)
{
    replace_fic(x, T_ISSUER, "system:serviceaccount:payments:api", "api://AzureADTokenExchange/");
}
static void m_no_azure(struct scen *x)
{
    x->azure = false;
}
static void m_fic_limit(struct scen *x)
{
    for (int i = 0; i < 18; i++) {
        char sub[80];
        snprintf(sub, sizeof sub, "system:serviceaccount:team%d:app", i);
        x->fics[x->n_fics++] = tf_fic(sub + 22, T_ISSUER, sub, WI_AUDIENCE);
    }
}
static void m_tenant_mismatch(struct scen *x)
{
    kv_set(&x->sa->meta.annotations, WI_ANN_TENANT_ID, "11111111-2222-3333-4444-555555555555");
}
static void m_tenant_empty(struct scen *x)
{
    kv_set(&x->sa->meta.annotations, WI_ANN_TENANT_ID, "");
}
static void m_not_injected(struct scen *x)
{
    model_pod_free(x->pod);
    x->pod = tf_pod(x->d, "payments", "api-7c9d8f6b5b-abcde");
    tf_container(x->pod, MODEL_CONTAINER_REGULAR, "app");
}
static void m_partial(struct scen *x)
{
    tf_container(x->pod, MODEL_CONTAINER_REGULAR, "sidecar");
}
static void m_partial_skipped(struct scen *x)
{
    tf_container(x->pod, MODEL_CONTAINER_REGULAR, "sidecar");
    kv_set(&x->pod->meta.annotations, WI_ANN_SKIP_CONTAINERS, "logger; sidecar ");
}
static void m_env_wrong_path(struct scen *x)
{
    struct model_container *c = pod_app(x);
    for (size_t i = 0; i < c->n_env; i++)
        if (strcmp(c->env[i].name, "AZURE_FEDERATED_TOKEN_FILE") == 0) {
            free(c->env[i].value);
            c->env[i].value = xstrdup("/var/run/secrets/azure/tokens/azure-identity-token");
        }
}
static void m_wrong_audience_volume(struct scen *x)
{
    free(x->pod->tokens[0].audience);
    x->pod->tokens[0].audience = xstrdup("https://kubernetes.default.svc");
}
static void m_v15(struct scen *x)
{
    model_pod_free(x->pod);
    x->pod = tf_pod(x->d, "payments", "api-7c9d8f6b5b-abcde");
    tf_inject15(x->pod, tf_container(x->pod, MODEL_CONTAINER_REGULAR, "app"), true);
}
static void m_init_container(struct scen *x)
{
    /* an init container that the webhook also injects: must have the env too */
    struct model_container *c = tf_container(x->pod, MODEL_CONTAINER_INIT, "migrate");
    tf_inject16(x->pod, c, false);
}
static void m_no_webhook(struct scen *x)
{
    x->webhook = false;
}
static void m_webhook_down(struct scen *x)
{
    x->webhook_available = 0;
}
static void m_exp_pod_100(struct scen *x)
{
    kv_set(&x->d->tmpl.annotations, WI_ANN_TOKEN_EXPIRATION, "100");
}
static void m_exp_sa_invalid(struct scen *x)
{
    kv_set(&x->sa->meta.annotations, WI_ANN_TOKEN_EXPIRATION, "invalid");
}
static void m_exp_86400(struct scen *x)
{
    kv_set(&x->d->tmpl.annotations, WI_ANN_TOKEN_EXPIRATION, "86400");
}
static void m_nospec(struct scen *x)
{
    x->pod->has_spec = false;
}
static void m_no_pods(struct scen *x)
{
    model_pod_free(x->pod);
    x->pod = NULL;
}
static void m_stale_client(struct scen *x)
{
    struct model_container *c = pod_app(x);
    for (size_t i = 0; i < c->n_env; i++)
        if (strcmp(c->env[i].name, "AZURE_CLIENT_ID") == 0) {
            free(c->env[i].value);
            c->env[i].value = xstrdup("aaaaaaaa-1111-2222-3333-444444444444");
        }
}
static void m_proxy_missing(struct scen *x)
{
    kv_set(&x->d->tmpl.annotations, WI_ANN_PROXY_SIDECAR, "true");
    scen_sync_pod_labels(x);
}
static void m_proxy_false(struct scen *x)
{
    kv_set(&x->d->tmpl.annotations, WI_ANN_PROXY_SIDECAR, "false");
    scen_sync_pod_labels(x);
    struct model_container *pi = tf_container(x->pod, MODEL_CONTAINER_INIT, "azwi-proxy-init");
    tf_inject16(x->pod, pi, false);
    struct model_container *px = tf_container(x->pod, MODEL_CONTAINER_INIT, "azwi-proxy");
    px->restart_always = true;
    tf_inject16(x->pod, px, false);
}

/* Pod identity pieces. */
static void add_nmi(struct store *s, const char *ns, int ready)
{
    struct model_workload *ds = tf_workload(MODEL_KIND_DAEMONSET, ns, "nmi", NULL);
    tf_kv(&ds->tmpl.labels, "component=nmi", "tier=node", NULL);
    ds->replicas_desired = 3;
    ds->replicas_ready = ds->replicas_available = ready;
    store_put_workload(s, ds);
}
static void add_mic(struct store *s, const char *ns)
{
    struct model_workload *d = tf_workload(MODEL_KIND_DEPLOYMENT, ns, "mic", NULL);
    tf_kv(&d->tmpl.labels, "component=mic", "app=mic", NULL);
    d->replicas_desired = d->replicas_ready = d->replicas_available = 2;
    store_put_workload(s, d);
}
static void add_binding(struct store *s, const char *ns, const char *name, const char *idname,
                        const char *sel, bool with_identity)
{
    struct model_azure_identity_binding *b = xcalloc(1, sizeof *b);
    b->meta.namespace_ = xstrdup(ns);
    b->meta.name = xstrdup(name);
    b->identity = xstrdup(idname);
    b->selector = xstrdup(sel);
    store_put_azbinding(s, b);
    if (!with_identity)
        return;
    struct model_azure_identity *id = xcalloc(1, sizeof *id);
    id->meta.namespace_ = xstrdup(ns);
    id->meta.name = xstrdup(idname);
    id->client_id = xstrdup(T_CID);
    id->resource_id = xstrdup("/subscriptions/s1/resourcegroups/rg/providers/"
                              "Microsoft.ManagedIdentity/userAssignedIdentities/id-api");
    store_put_azid(s, id);
}
static void to_pi(struct scen *x)
{
    m_none(x);
    kv_set(&x->d->tmpl.labels, PI_LABEL_BINDING, "api-sel");
    scen_sync_pod_labels(x);
    x->pod->pod_ip = xstrdup("10.244.1.17");
}
static void m_pi_bound(struct scen *x)
{
    to_pi(x);
    add_nmi(x->s, "kube-system", 3);
    add_binding(x->s, "payments", "api-binding", "api-id", "api-sel", true);
}
static void m_pi_nobinding(struct scen *x)
{
    to_pi(x);
    add_nmi(x->s, "kube-system", 3);
}
static void m_pi_managed_other_ns(struct scen *x)
{
    to_pi(x);
    add_nmi(x->s, "kube-system", 3);
    add_binding(x->s, "orders", "api-binding", "api-id", "api-sel", true);
}
static void m_pi_standard_other_ns(struct scen *x)
{
    to_pi(x);
    add_nmi(x->s, "aad-pod-identity", 3);
    add_mic(x->s, "aad-pod-identity");
    add_binding(x->s, "orders", "api-binding", "api-id", "api-sel", true);
}
static void m_pi_identity_missing(struct scen *x)
{
    to_pi(x);
    add_nmi(x->s, "kube-system", 3);
    add_binding(x->s, "payments", "api-binding", "api-id", "api-sel", false);
}
static void m_pi_aks_managed(struct scen *x)
{
    to_pi(x);
    add_nmi(x->s, "kube-system", 3);
    /* the AKS add-on: identity from ARM's podIdentityProfile, selector defaults to the name */
    struct model_azure a = {0};
    a.state = MODEL_AZ_OK;
    a.pod_identity_profile_enabled = true;
    a.managed_identities = xcalloc(1, sizeof *a.managed_identities);
    a.n_managed_identities = 1;
    a.managed_identities[0].name = xstrdup("api-sel");
    a.managed_identities[0].namespace_ = xstrdup("payments");
    a.managed_identities[0].client_id = xstrdup(T_CID);
    store_set_azure(x->s, &a);
    x->azure = false;
}
static void m_pi_no_nmi(struct scen *x)
{
    to_pi(x);
    add_binding(x->s, "payments", "api-binding", "api-id", "api-sel", true);
}
static void m_both_ok(struct scen *x)
{
    kv_set(&x->d->tmpl.labels, PI_LABEL_BINDING, "api-sel");
    scen_sync_pod_labels(x);
    add_nmi(x->s, "kube-system", 3);
    add_binding(x->s, "payments", "api-binding", "api-id", "api-sel", true);
}
static void nmi_req(struct store *s, int64_t t, int status, const char *ns, const char *pod,
                    const char *ip)
{
    struct model_nmi_request *r = xcalloc(1, sizeof *r);
    r->time = t;
    r->status = status;
    r->remote_ip = xstrdup(ip);
    r->path = xstrdup("/metadata/identity/oauth2/token");
    r->pod_namespace = xstrdup(ns);
    r->pod_name = xstrdup(pod);
    r->nmi_pod = xstrdup("nmi-abcde");
    r->node_name = xstrdup("aks-nodepool1-0");
    if (status >= 400)
        r->error = xstrdup("context canceled");
    store_add_nmi_request(s, r);
}
static void m_act_active(struct scen *x)
{
    m_pi_bound(x);
    nmi_req(x->s, T_NOW - 600, 200, "payments", "api-7c9d8f6b5b-abcde", "10.244.1.17");
    nmi_req(x->s, T_NOW - 60, 200, "payments", "api-7c9d8f6b5b-abcde", "10.244.1.17");
}
static void m_act_errors(struct scen *x)
{
    m_pi_bound(x);
    nmi_req(x->s, T_NOW - 600, 200, "payments", "api-7c9d8f6b5b-abcde", "10.244.1.17");
    nmi_req(x->s, T_NOW - 60, 404, "payments", "api-7c9d8f6b5b-abcde", "10.244.1.17");
}
static void m_act_by_ip(struct scen *x)
{
    m_pi_bound(x);
    nmi_req(x->s, T_NOW - 60, 200, NULL, NULL, "10.244.1.17");
}
static void m_act_gone_pod(struct scen *x)
{
    /* the pod that asked is gone; its name still tells the Deployment */
    m_pi_bound(x);
    nmi_req(x->s, T_NOW - 60, 200, "payments", "api-7c9d8f6b5b-zzzzz", "10.244.1.99");
}
static void m_act_old(struct scen *x)
{
    m_pi_bound(x);
    nmi_req(x->s, T_NOW - 7200, 200, "payments", "api-7c9d8f6b5b-abcde", "10.244.1.17");
}
static void m_act_unknown(struct scen *x)
{
    m_pi_bound(x);
    x->opt.nmi_logs_unavailable = true;
    x->opt.nmi_logs_reason = "pods/log forbidden";
}
static void m_act_wi_still(struct scen *x)
{
    add_nmi(x->s, "kube-system", 3);
    nmi_req(x->s, T_NOW - 60, 200, "payments", "api-7c9d8f6b5b-abcde", "10.244.1.17");
}

/* ---- the table --------------------------------------------------------------------------- */

#define NOCODE CHECK_CODE__COUNT

struct wcase {
    const char *name;
    void (*mut)(struct scen *);
    enum check_mechanism mech;
    enum check_federation fed;
    enum check_projection proj;
    enum check_activity act;
    enum check_code want; /* must be among the findings (NOCODE: no error/warning at all) */
    enum check_code want2;
    enum check_code absent;
};

static const struct wcase wcases[] = {
    {"wi all ok", NULL, CHECK_MECH_WI, CHECK_FED_OK, CHECK_PROJ_OK, CHECK_ACT_NOT_APPLICABLE,
     NOCODE, NOCODE, NOCODE},
    {"plain workload", m_none, CHECK_MECH_NONE, CHECK_FED_NOT_APPLICABLE, CHECK_PROJ_NOT_APPLICABLE,
     CHECK_ACT_NOT_APPLICABLE, NOCODE, NOCODE, NOCODE},
    {"label True", m_label_True, CHECK_MECH_NONE, CHECK_FED_NOT_APPLICABLE,
     CHECK_PROJ_NOT_APPLICABLE, CHECK_ACT_NOT_APPLICABLE, CHECK_CODE_WI_LABEL_VALUE, NOCODE,
     NOCODE},
    {"label on SA only", m_label_on_sa, CHECK_MECH_NONE, CHECK_FED_NOT_APPLICABLE,
     CHECK_PROJ_NOT_APPLICABLE, CHECK_ACT_NOT_APPLICABLE, CHECK_CODE_WI_LABEL_ON_SA, NOCODE,
     NOCODE},
    {"label on deployment metadata", m_label_on_meta, CHECK_MECH_NONE, CHECK_FED_NOT_APPLICABLE,
     CHECK_PROJ_NOT_APPLICABLE, CHECK_ACT_NOT_APPLICABLE, CHECK_CODE_WI_LABEL_ON_WORKLOAD, NOCODE,
     NOCODE},
    {"no client id", m_no_client_id, CHECK_MECH_WI, CHECK_FED_NO_CLIENT_ID, CHECK_PROJ_OK,
     CHECK_ACT_NOT_APPLICABLE, CHECK_CODE_FED_NO_CLIENT_ID, NOCODE, NOCODE},
    {"client_id key", m_client_id_wrong_key, CHECK_MECH_WI, CHECK_FED_NO_CLIENT_ID, CHECK_PROJ_OK,
     CHECK_ACT_NOT_APPLICABLE, CHECK_CODE_FED_NO_CLIENT_ID, NOCODE, NOCODE},
    {"no service account", m_no_sa, CHECK_MECH_WI, CHECK_FED_NO_CLIENT_ID, CHECK_PROJ_OK,
     CHECK_ACT_NOT_APPLICABLE, CHECK_CODE_WI_SA_NOT_FOUND, NOCODE, NOCODE},
    {"identity not found", m_identity_not_found, CHECK_MECH_WI, CHECK_FED_IDENTITY_NOT_FOUND,
     CHECK_PROJ_OK, CHECK_ACT_NOT_APPLICABLE, CHECK_CODE_FED_IDENTITY_NOT_FOUND,
     CHECK_CODE_PROJ_CLIENT_ID_STALE, NOCODE},
    {"fic missing", m_fic_missing, CHECK_MECH_WI, CHECK_FED_MISSING, CHECK_PROJ_OK,
     CHECK_ACT_NOT_APPLICABLE, CHECK_CODE_FIC_MISSING, NOCODE, NOCODE},
    {"fic issuer slash", m_fic_issuer_slash, CHECK_MECH_WI, CHECK_FED_ISSUER_MISMATCH,
     CHECK_PROJ_OK, CHECK_ACT_NOT_APPLICABLE, CHECK_CODE_FIC_ISSUER_MISMATCH, NOCODE, NOCODE},
    {"fic subject case", m_fic_subject_case, CHECK_MECH_WI, CHECK_FED_SUBJECT_MISMATCH,
     CHECK_PROJ_OK, CHECK_ACT_NOT_APPLICABLE, CHECK_CODE_FIC_SUBJECT_MISMATCH, NOCODE, NOCODE},
    {"fic audience", m_fic_audience, CHECK_MECH_WI, CHECK_FED_AUDIENCE_MISMATCH, CHECK_PROJ_OK,
     CHECK_ACT_NOT_APPLICABLE, CHECK_CODE_FIC_AUDIENCE_MISMATCH, NOCODE, NOCODE},
    {"no azure", m_no_azure, CHECK_MECH_WI, CHECK_FED_UNKNOWN, CHECK_PROJ_OK,
     CHECK_ACT_NOT_APPLICABLE, NOCODE, NOCODE, NOCODE},
    {"fic near limit", m_fic_limit, CHECK_MECH_WI, CHECK_FED_OK, CHECK_PROJ_OK,
     CHECK_ACT_NOT_APPLICABLE, CHECK_CODE_FIC_NEAR_LIMIT, NOCODE, NOCODE},
    {"tenant mismatch", m_tenant_mismatch, CHECK_MECH_WI, CHECK_FED_OK, CHECK_PROJ_OK,
     CHECK_ACT_NOT_APPLICABLE, CHECK_CODE_FED_TENANT_MISMATCH, NOCODE, NOCODE},
    {"tenant empty", m_tenant_empty, CHECK_MECH_WI, CHECK_FED_OK, CHECK_PROJ_OK,
     CHECK_ACT_NOT_APPLICABLE, CHECK_CODE_FED_TENANT_EMPTY, NOCODE, NOCODE},
    {"pod not injected", m_not_injected, CHECK_MECH_WI, CHECK_FED_OK, CHECK_PROJ_NOT_INJECTED,
     CHECK_ACT_NOT_APPLICABLE, CHECK_CODE_PROJ_NOT_INJECTED, NOCODE, NOCODE},
    {"partial", m_partial, CHECK_MECH_WI, CHECK_FED_OK, CHECK_PROJ_PARTIAL,
     CHECK_ACT_NOT_APPLICABLE, CHECK_CODE_PROJ_PARTIAL, NOCODE, NOCODE},
    {"partial but skipped", m_partial_skipped, CHECK_MECH_WI, CHECK_FED_OK, CHECK_PROJ_OK,
     CHECK_ACT_NOT_APPLICABLE, NOCODE, NOCODE, NOCODE},
    {"env names another path", m_env_wrong_path, CHECK_MECH_WI, CHECK_FED_OK, CHECK_PROJ_PARTIAL,
     CHECK_ACT_NOT_APPLICABLE, CHECK_CODE_PROJ_PARTIAL, NOCODE, NOCODE},
    {"token volume for the API server", m_wrong_audience_volume, CHECK_MECH_WI, CHECK_FED_OK,
     CHECK_PROJ_PARTIAL, CHECK_ACT_NOT_APPLICABLE, CHECK_CODE_PROJ_PARTIAL, NOCODE, NOCODE},
    {"v1.5 layout", m_v15, CHECK_MECH_WI, CHECK_FED_OK, CHECK_PROJ_OK, CHECK_ACT_NOT_APPLICABLE,
     NOCODE, NOCODE, NOCODE},
    {"init container injected", m_init_container, CHECK_MECH_WI, CHECK_FED_OK, CHECK_PROJ_OK,
     CHECK_ACT_NOT_APPLICABLE, NOCODE, NOCODE, NOCODE},
    {"webhook missing", m_no_webhook, CHECK_MECH_WI, CHECK_FED_OK, CHECK_PROJ_WEBHOOK_MISSING,
     CHECK_ACT_NOT_APPLICABLE, CHECK_CODE_PROJ_WEBHOOK_MISSING, NOCODE, NOCODE},
    {"webhook down", m_webhook_down, CHECK_MECH_WI, CHECK_FED_OK, CHECK_PROJ_WEBHOOK_MISSING,
     CHECK_ACT_NOT_APPLICABLE, CHECK_CODE_PROJ_WEBHOOK_MISSING, NOCODE, NOCODE},
    {"expiration 100 on pod", m_exp_pod_100, CHECK_MECH_WI, CHECK_FED_OK,
     CHECK_PROJ_INVALID_EXPIRATION, CHECK_ACT_NOT_APPLICABLE,
     CHECK_CODE_PROJ_INVALID_EXPIRATION_POD, NOCODE, NOCODE},
    {"expiration invalid on SA", m_exp_sa_invalid, CHECK_MECH_WI, CHECK_FED_OK,
     CHECK_PROJ_INVALID_EXPIRATION, CHECK_ACT_NOT_APPLICABLE, CHECK_CODE_PROJ_INVALID_EXPIRATION,
     NOCODE, NOCODE},
    {"expiration 86400", m_exp_86400, CHECK_MECH_WI, CHECK_FED_OK, CHECK_PROJ_OK,
     CHECK_ACT_NOT_APPLICABLE, NOCODE, NOCODE, NOCODE},
    {"pods without spec", m_nospec, CHECK_MECH_WI, CHECK_FED_OK, CHECK_PROJ_UNKNOWN,
     CHECK_ACT_NOT_APPLICABLE, NOCODE, NOCODE, NOCODE},
    {"no pods", m_no_pods, CHECK_MECH_WI, CHECK_FED_OK, CHECK_PROJ_UNKNOWN,
     CHECK_ACT_NOT_APPLICABLE, NOCODE, NOCODE, NOCODE},
    {"stale client id env", m_stale_client, CHECK_MECH_WI, CHECK_FED_OK, CHECK_PROJ_OK,
     CHECK_ACT_NOT_APPLICABLE, CHECK_CODE_PROJ_CLIENT_ID_STALE, NOCODE, NOCODE},
    {"proxy asked, not injected", m_proxy_missing, CHECK_MECH_WI, CHECK_FED_OK, CHECK_PROJ_OK,
     CHECK_ACT_NOT_APPLICABLE, CHECK_CODE_PROXY_NOT_INJECTED, NOCODE, NOCODE},
    {"proxy false", m_proxy_false, CHECK_MECH_WI, CHECK_FED_OK, CHECK_PROJ_OK,
     CHECK_ACT_NOT_APPLICABLE, CHECK_CODE_PROXY_FALSE_VALUE, NOCODE, CHECK_CODE_PROXY_NOT_INJECTED},
    {"pod identity bound", m_pi_bound, CHECK_MECH_PI, CHECK_FED_NOT_APPLICABLE,
     CHECK_PROJ_NOT_APPLICABLE, CHECK_ACT_QUIET, CHECK_CODE_PI_IN_USE, NOCODE,
     CHECK_CODE_PI_NO_BINDING},
    {"pod identity no binding", m_pi_nobinding, CHECK_MECH_PI, CHECK_FED_NOT_APPLICABLE,
     CHECK_PROJ_NOT_APPLICABLE, CHECK_ACT_QUIET, CHECK_CODE_PI_NO_BINDING, NOCODE,
     CHECK_CODE_PI_IN_USE},
    {"managed mode, binding elsewhere", m_pi_managed_other_ns, CHECK_MECH_PI,
     CHECK_FED_NOT_APPLICABLE, CHECK_PROJ_NOT_APPLICABLE, CHECK_ACT_QUIET, CHECK_CODE_PI_NO_BINDING,
     NOCODE, NOCODE},
    {"standard mode, binding elsewhere", m_pi_standard_other_ns, CHECK_MECH_PI,
     CHECK_FED_NOT_APPLICABLE, CHECK_PROJ_NOT_APPLICABLE, CHECK_ACT_QUIET, CHECK_CODE_PI_IN_USE,
     NOCODE, CHECK_CODE_PI_NO_BINDING},
    {"binding without identity", m_pi_identity_missing, CHECK_MECH_PI, CHECK_FED_NOT_APPLICABLE,
     CHECK_PROJ_NOT_APPLICABLE, CHECK_ACT_QUIET, CHECK_CODE_PI_IDENTITY_MISSING, NOCODE, NOCODE},
    {"AKS managed pod identity", m_pi_aks_managed, CHECK_MECH_PI, CHECK_FED_NOT_APPLICABLE,
     CHECK_PROJ_NOT_APPLICABLE, CHECK_ACT_QUIET, CHECK_CODE_PI_IN_USE, NOCODE,
     CHECK_CODE_PI_NO_BINDING},
    {"pod identity without NMI", m_pi_no_nmi, CHECK_MECH_PI, CHECK_FED_NOT_APPLICABLE,
     CHECK_PROJ_NOT_APPLICABLE, CHECK_ACT_QUIET, CHECK_CODE_PI_NMI_ABSENT, NOCODE, NOCODE},
    {"both, verified", m_both_ok, CHECK_MECH_BOTH, CHECK_FED_OK, CHECK_PROJ_OK, CHECK_ACT_QUIET,
     CHECK_CODE_PI_LABEL_LEFTOVER, NOCODE, NOCODE},
    {"activity active", m_act_active, CHECK_MECH_PI, CHECK_FED_NOT_APPLICABLE,
     CHECK_PROJ_NOT_APPLICABLE, CHECK_ACT_ACTIVE, CHECK_CODE_PI_IN_USE, NOCODE,
     CHECK_CODE_PI_REQUEST_ERRORS},
    {"activity errors", m_act_errors, CHECK_MECH_PI, CHECK_FED_NOT_APPLICABLE,
     CHECK_PROJ_NOT_APPLICABLE, CHECK_ACT_ERRORS, CHECK_CODE_PI_REQUEST_ERRORS, NOCODE, NOCODE},
    {"activity by IP", m_act_by_ip, CHECK_MECH_PI, CHECK_FED_NOT_APPLICABLE,
     CHECK_PROJ_NOT_APPLICABLE, CHECK_ACT_ACTIVE, CHECK_CODE_PI_IN_USE, NOCODE, NOCODE},
    {"activity of a gone pod", m_act_gone_pod, CHECK_MECH_PI, CHECK_FED_NOT_APPLICABLE,
     CHECK_PROJ_NOT_APPLICABLE, CHECK_ACT_ACTIVE, CHECK_CODE_PI_IN_USE, NOCODE, NOCODE},
    {"activity outside window", m_act_old, CHECK_MECH_PI, CHECK_FED_NOT_APPLICABLE,
     CHECK_PROJ_NOT_APPLICABLE, CHECK_ACT_QUIET, CHECK_CODE_PI_IN_USE, NOCODE, NOCODE},
    {"activity unknown", m_act_unknown, CHECK_MECH_PI, CHECK_FED_NOT_APPLICABLE,
     CHECK_PROJ_NOT_APPLICABLE, CHECK_ACT_UNKNOWN, CHECK_CODE_PI_IN_USE, NOCODE, NOCODE},
    {"migrated but still asking NMI", m_act_wi_still, CHECK_MECH_WI, CHECK_FED_OK, CHECK_PROJ_OK,
     CHECK_ACT_ACTIVE, CHECK_CODE_PI_STILL_REQUESTING, NOCODE, NOCODE},
};

static void test_workload_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof wcases / sizeof wcases[0]; i++) {
        const struct wcase *c = &wcases[i];
        struct scen x;
        scen_init(&x);
        if (c->mut)
            c->mut(&x);
        struct check_result *r = check_new();
        const struct check_workload *w = scen_run(&x, r);
        print_message("case %s: mech=%s fed=%s proj=%s act=%s findings=%zu\n", c->name,
                      check_mechanism_name(w ? w->mechanism : 0),
                      check_federation_name(w ? w->federation.status : 0),
                      check_projection_name(w ? w->projection.status : 0),
                      check_activity_name(w ? w->activity.status : 0), w ? w->n_findings : 0);
        assert_non_null(w);
        for (size_t k = 0; k < w->n_findings; k++)
            print_message("   %s %s: %s\n", check_severity_name(w->findings[k].severity),
                          check_code_name(w->findings[k].code), w->findings[k].message);
        assert_string_equal(check_mechanism_name(w->mechanism), check_mechanism_name(c->mech));
        assert_string_equal(check_federation_name(w->federation.status),
                            check_federation_name(c->fed));
        assert_string_equal(check_projection_name(w->projection.status),
                            check_projection_name(c->proj));
        assert_string_equal(check_activity_name(w->activity.status), check_activity_name(c->act));
        if (c->want == NOCODE) {
            assert_int_equal(w->n_errors, 0);
            assert_int_equal(w->n_warnings, 0);
        } else {
            assert_true(tf_has_code(w->findings, w->n_findings, c->want));
        }
        if (c->want2 != NOCODE)
            assert_true(tf_has_code(w->findings, w->n_findings, c->want2));
        if (c->absent != NOCODE)
            assert_false(tf_has_code(w->findings, w->n_findings, c->absent));
        for (size_t k = 0; k < w->n_findings; k++) {
            const struct check_finding *f = &w->findings[k];
            assert_non_null(strstr(f->message, "payments"));
            assert_null(strstr(f->message, "${"));
            assert_null(strstr(f->remedy, "${"));
        }
        check_free(r);
        store_free(x.s);
    }
}

/* Details that the verdict alone does not show. */
static void test_workload_details(void **state)
{
    (void)state;
    struct scen x;
    struct check_result *r;
    const struct check_workload *w;
    const struct check_finding *f;

    scen_init(&x);
    m_fic_issuer_slash(&x);
    r = check_new();
    w = scen_run(&x, r);
    assert_non_null(strstr(w->federation.detail, "trailing '/'"));
    f = tf_get_code(w, CHECK_CODE_FIC_ISSUER_MISMATCH);
    assert_int_equal(f->action, ACTION_CREATE_FIC);
    assert_non_null(strstr(f->remedy, "--issuer " T_ISSUER " "));
    assert_non_null(strstr(f->remedy, "--identity-name id-api --resource-group rg"));
    assert_string_equal(w->federation.credential, "payments-api");
    assert_string_equal(w->federation.client_id, T_CID);
    assert_non_null(strstr(w->federation.identity, "userAssignedIdentities/id-api"));
    check_free(r);
    store_free(x.s);

    scen_init(&x);
    m_client_id_wrong_key(&x);
    r = check_new();
    w = scen_run(&x, r);
    assert_non_null(strstr(w->federation.detail, "client_id"));
    f = tf_get_code(w, CHECK_CODE_FED_NO_CLIENT_ID);
    assert_int_equal(f->action, ACTION_ANNOTATE_SA);
    assert_string_equal(f->remedy, "kubectl -n payments annotate serviceaccount api "
                                   "azure.workload.identity/client-id=<client_id>");
    check_free(r);
    store_free(x.s);

    /* migration: the remedy for the client id is the one pod identity used */
    scen_init(&x);
    m_both_ok(&x);
    m_no_client_id(&x);
    r = check_new();
    w = scen_run(&x, r);
    f = tf_get_code(w, CHECK_CODE_FED_NO_CLIENT_ID);
    assert_non_null(strstr(f->remedy, "client-id=" T_CID));
    check_free(r);
    store_free(x.s);

    scen_init(&x);
    m_not_injected(&x);
    r = check_new();
    w = scen_run(&x, r);
    f = tf_get_code(w, CHECK_CODE_PROJ_NOT_INJECTED);
    assert_int_equal(f->action, ACTION_RESTART);
    assert_string_equal(f->remedy, "kubectl -n payments rollout restart deployment/api");
    assert_int_equal(w->projection.pods_ok, 0);
    assert_int_equal(w->projection.pods_total, 1);
    assert_int_equal(w->projection.n_pods, 1);
    assert_int_equal(w->projection.pods[0].status, CHECK_PROJ_NOT_INJECTED);
    check_free(r);
    store_free(x.s);

    scen_init(&x);
    m_v15(&x);
    r = check_new();
    w = scen_run(&x, r);
    assert_string_equal(w->projection.pods[0].layout, "v1.5");
    assert_int_equal(w->projection.pods_ok, 1);
    check_free(r);
    store_free(x.s);

    scen_init(&x);
    m_label_True(&x);
    r = check_new();
    w = scen_run(&x, r);
    f = tf_get_code(w, CHECK_CODE_WI_LABEL_VALUE);
    assert_int_equal(f->action, ACTION_LABEL_WI);
    assert_string_equal(f->remedy, "kubectl -n payments patch deployment api --type merge -p "
                                   "'{\"spec\":{\"template\":{\"metadata\":{\"labels\":"
                                   "{\"azure.workload.identity/use\":\"true\"}}}}}'");
    check_free(r);
    store_free(x.s);

    scen_init(&x);
    m_act_errors(&x);
    r = check_new();
    w = scen_run(&x, r);
    assert_int_equal(w->activity.requests, 2);
    assert_int_equal(w->activity.errors, 1);
    assert_int_equal(w->activity.last_seen, T_NOW - 60);
    assert_int_equal(w->activity.last_status, 404);
    assert_int_equal(w->activity.window_seconds, 3600);
    assert_int_equal(w->pods_bound, 1);
    check_free(r);
    store_free(x.s);
}

/* ---- tables ------------------------------------------------------------------------------ */

static void test_tables(void **state)
{
    (void)state;
    /* every report string, exactly as INTERFACE.md lists it */
    static const char *const mech[] = {"workload-identity", "pod-identity", "both", "none"};
    static const char *const fed[] = {"ok",
                                      "missing",
                                      "issuer-mismatch",
                                      "subject-mismatch",
                                      "audience-mismatch",
                                      "identity-not-found",
                                      "no-client-id",
                                      "not-applicable",
                                      "unknown"};
    static const char *const proj[] = {"ok",
                                       "not-injected",
                                       "partial",
                                       "webhook-missing",
                                       "invalid-expiration",
                                       "not-applicable",
                                       "unknown"};
    static const char *const act[] = {"active", "errors", "quiet", "not-applicable", "unknown"};
    static const char *const oidc[] = {"ok", "disabled", "unreachable", "keys-mismatch", "unknown"};
    static const char *const wh[] = {"ok", "degraded", "missing", "unknown"};
    static const char *const pi[] = {"running", "degraded", "absent", "unknown"};
    static const char *const sev[] = {"error", "warning", "info"};
    assert_int_equal(CHECK_MECH__COUNT, 4);
    assert_int_equal(CHECK_FED__COUNT, 9);
    assert_int_equal(CHECK_PROJ__COUNT, 7);
    assert_int_equal(CHECK_ACT__COUNT, 5);
    assert_int_equal(CHECK_OIDC__COUNT, 5);
    assert_int_equal(CHECK_WEBHOOK__COUNT, 4);
    assert_int_equal(CHECK_PODID__COUNT, 4);
    for (int i = 0; i < 4; i++)
        assert_string_equal(check_mechanism_name(i), mech[i]);
    for (int i = 0; i < 9; i++)
        assert_string_equal(check_federation_name(i), fed[i]);
    for (int i = 0; i < 7; i++)
        assert_string_equal(check_projection_name(i), proj[i]);
    for (int i = 0; i < 5; i++)
        assert_string_equal(check_activity_name(i), act[i]);
    for (int i = 0; i < 5; i++)
        assert_string_equal(check_oidc_name(i), oidc[i]);
    for (int i = 0; i < 4; i++)
        assert_string_equal(check_webhook_name(i), wh[i]);
    for (int i = 0; i < 4; i++)
        assert_string_equal(check_podid_name(i), pi[i]);
    for (int i = 0; i < 3; i++)
        assert_string_equal(check_severity_name(i), sev[i]);
    assert_string_equal(check_federation_name((enum check_federation)99), "unknown");

    for (int c = 0; c < CHECK_CODE__COUNT; c++) {
        enum check_code back;
        assert_int_equal(check_code_parse(check_code_name(c), &back), 0);
        assert_int_equal(back, c);
        enum action_id a = check_code_action(c);
        assert_true(a == ACTION_NONE || action_info(a)->remedy);
    }
    assert_int_equal(check_code_parse("NOPE", &(enum check_code){0}), -1);
    assert_string_equal(check_code_name(CHECK_CODE_FIC_ISSUER_MISMATCH), "FIC_ISSUER_MISMATCH");
    assert_int_equal(check_code_severity(CHECK_CODE_FIC_ISSUER_MISMATCH), CHECK_SEV_ERROR);

    char *p = check_patch_json(MODEL_KIND_CRONJOB, ACTION_REMOVE_PI);
    assert_string_equal(p, "{\"spec\":{\"jobTemplate\":{\"spec\":{\"template\":{\"metadata\":"
                           "{\"labels\":{\"aadpodidbinding\":null}}}}}}}");
    free(p);
    p = check_patch_json(MODEL_KIND_STATEFULSET, ACTION_PROXY_ON);
    assert_string_equal(p, "{\"spec\":{\"template\":{\"metadata\":{\"annotations\":"
                           "{\"azure.workload.identity/inject-proxy-sidecar\":\"true\"}}}}}");
    free(p);
    assert_null(check_patch_json(MODEL_KIND_POD, ACTION_LABEL_WI));
    assert_null(check_patch_json(MODEL_KIND_DEPLOYMENT, ACTION_RESTART));
    assert_null(check_patch_json(MODEL_KIND_DEPLOYMENT, ACTION_NONE));
    assert_null(check_patch_json(MODEL_KIND_DEPLOYMENT, ACTION__COUNT));
    p = check_patch_expiration(MODEL_KIND_CRONJOB);
    assert_string_equal(p, "{\"spec\":{\"jobTemplate\":{\"spec\":{\"template\":{\"metadata\":"
                           "{\"annotations\":{\"azure.workload.identity/service-account-token-"
                           "expiration\":\"3600\"}}}}}}}");
    free(p);
    assert_null(check_patch_expiration(MODEL_KIND_POD));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tables),
        cmocka_unit_test(test_workload_table),
        cmocka_unit_test(test_workload_details),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
