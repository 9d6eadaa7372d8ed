/* check: per-workload and per-cluster verdicts from the store (workload-identity.md §8,
 * pod-identity.md §1 and §6). Pure: no I/O; "now" comes from the options. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <uthash.h>

#include "check_int.h"
#include "idwatch/core.h"

#define FIC_WARN_AT 18 /* Azure allows 20 per identity (workload-identity.md §5) */
#define EXP_MIN 3600
#define EXP_MAX 86400

/* ---- private state ----------------------------------------------------------------------- */

/* NMI token requests attributed to one workload over the window. */
struct activity {
    char *key;
    int64_t requests;
    int64_t errors;
    int64_t last_seen;
    int last_status;
    char *last_error;
    UT_hash_handle hh;
};

/* Workload key -> index into r->workloads. */
struct windex {
    size_t idx;
    bool seen;
    UT_hash_handle hh;
    char key[]; /* one allocation per entry */
};

/* Bindings grouped by selector. */
struct selgroup {
    const char *selector;
    const struct model_azure_identity_binding **items;
    size_t n;
    size_t cap;
    UT_hash_handle hh;
};

/* What every workload check needs, computed once per full run. Pointers into the store stay
 * valid between full runs: changes to these types make store_take_dirty report `all`. */
struct check_ctx {
    const struct store *s;
    int64_t now;
    int64_t window;
    bool logs_unavailable;
    char *logs_reason;
    const struct model_azure *az;
    const struct model_oidc *oidc;
    const char *issuer;    /* the cluster issuer FICs must carry */
    bool webhook_known;    /* MWCs were listed */
    bool webhook_usable;   /* new labelled pods can be mutated */
    char *webhook_problem; /* why not */
    bool nmi_present;
    bool mic_present;
    bool managed_mode;
    char *nmi_ns;
    const struct model_workload *infra[8]; /* NMI, MIC and webhook workloads */
    size_t n_infra;
    struct selgroup *selectors;
    struct activity *activity;
    int64_t nmi_requests;
    int64_t nmi_unattributed;
    int64_t nmi_blocking; /* requests from non-exception senders */
    struct finding_list cluster_findings;
    /* evidence */
    bool live;              /* the store has data sources (not a snapshot) */
    int64_t window_start;   /* now - window */
    bool podid_known;       /* the NMI/MIC verdict rests on complete lists */
    char podid_why[320];    /* why not */
    bool bindings_known;    /* AzureIdentityBinding/AzureIdentity lists are complete */
    char bindings_why[320];
    bool sa_known;          /* service accounts are listed completely */
    char sa_why[320];
    struct nmi_cov *covs;   /* every NMI pod's log coverage */
    size_t n_covs;
    bool logs_complete;     /* every NMI log covers the whole window */
    /* scope */
    const struct selector *scope_sel;
    const char *scope_sel_text;
    char *scope_ns;
    bool scoped;
    /* the AKS cluster, for remedies */
    char *az_rg, *az_cluster;
};

struct check_state {
    struct check_ctx ctx;
    bool have_ctx;
    struct windex *index;
};

/* ---- small helpers ----------------------------------------------------------------------- */

static char *wkey(enum model_workload_kind k, const char *ns, const char *name)
{
    return xasprintf("%d\x1f%s\x1f%s", (int)k, ns ? ns : "", name ? name : "");
}

static struct windex *windex_new(const char *key, size_t idx)
{
    size_t n = strlen(key);
    struct windex *e = xcalloc(1, sizeof *e + n + 1);
    memcpy(e->key, key, n + 1);
    e->idx = idx;
    return e;
}

static void fvars_init(struct fvars *v, const struct model_workload *w)
{
    memset(v, 0, sizeof *v);
    v->wkind = w ? (int)w->kind : -1;
    if (w) {
        v->kind = model_kind_name(w->kind);
        v->res = check_kind_res(w->kind);
        v->ns = w->meta.namespace_;
        v->name = w->meta.name;
        v->sa = w->tmpl.service_account ? w->tmpl.service_account : "default";
    }
}

static void window_text(int64_t seconds, char out[24])
{
    if (seconds % 3600 == 0)
        snprintf(out, 24, "%lldh", (long long)(seconds / 3600));
    else if (seconds % 60 == 0)
        snprintf(out, 24, "%lldm", (long long)(seconds / 60));
    else
        snprintf(out, 24, "%llds", (long long)seconds);
}

/* Strict base-10 integer (the webhook's strconv.ParseInt). */
static bool parse_int(const char *s, long long *out)
{
    if (str_empty(s))
        return false;
    const char *p = s;
    if (*p == '-' || *p == '+')
        p++;
    if (!*p)
        return false;
    long long v = 0;
    for (; *p; p++) {
        if (*p < '0' || *p > '9' || v > 100000000000LL)
            return false;
        v = v * 10 + (*p - '0');
    }
    *out = s[0] == '-' ? -v : v;
    return true;
}

static bool labels_contain(const struct model_kvlist *labels, const struct model_kvlist *want)
{
    if (want->n == 0)
        return false;
    for (size_t i = 0; i < want->n; i++)
        if (!str_eq(kv_get(labels, want->items[i].key), want->items[i].value))
            return false;
    return true;
}

static bool pod_live(const struct model_pod *p)
{
    return p->meta.deleted == 0 && p->phase != MODEL_PHASE_SUCCEEDED &&
           p->phase != MODEL_PHASE_FAILED;
}

/* ---- pod identity bindings --------------------------------------------------------------- */

static void selectors_build(struct check_ctx *c)
{
    size_t n = store_azbinding_count(c->s);
    for (size_t i = 0; i < n; i++) {
        const struct model_azure_identity_binding *b = store_azbinding_at(c->s, i);
        if (str_empty(b->selector))
            continue;
        struct selgroup *g;
        HASH_FIND_STR(c->selectors, b->selector, g);
        if (!g) {
            g = xcalloc(1, sizeof *g);
            g->selector = b->selector;
            HASH_ADD_KEYPTR(hh, c->selectors, g->selector, strlen(g->selector), g);
        }
        xgrow((void **)&g->items, &g->cap, g->n + 1, sizeof *g->items);
        g->items[g->n++] = b;
    }
}

static const struct model_azure_identity *azid_find(const struct store *s, const char *ns,
                                                    const char *name, bool same_ns_only)
{
    const struct model_azure_identity *any = NULL;
    size_t n = store_azid_count(s);
    for (size_t i = 0; i < n; i++) {
        const struct model_azure_identity *x = store_azid_at(s, i);
        if (!str_eq(x->meta.name, name))
            continue;
        if (str_eq(x->meta.namespace_, ns))
            return x;
        if (!any)
            any = x;
    }
    return same_ns_only ? NULL : any;
}

struct pi_match {
    const struct model_azure_identity_binding *binding; /* a binding that selects the label */
    const struct model_azure_identity *identity;        /* its AzureIdentity, when it exists */
    const struct model_managed_pod_identity *managed;   /* or the AKS-managed pod identity */
    const struct model_azure_identity_binding
        *elsewhere; /* managed mode: same selector, other ns */
};

/* Which binding serves pods labelled aadpodidbinding=sel in namespace ns (pod-identity.md §1):
 * standard mode matches across namespaces, managed mode only in the pod's namespace. */
static void pi_match_find(const struct check_ctx *c, const char *ns, const char *sel,
                          struct pi_match *m)
{
    memset(m, 0, sizeof *m);
    struct selgroup *g = NULL;
    HASH_FIND_STR(c->selectors, sel, g);
    for (size_t i = 0; g && i < g->n; i++) {
        const struct model_azure_identity_binding *b = g->items[i];
        bool same = str_eq(b->meta.namespace_, ns);
        if (c->managed_mode && !same) {
            if (!m->elsewhere)
                m->elsewhere = b;
            continue;
        }
        const struct model_azure_identity *id =
            azid_find(c->s, b->meta.namespace_, b->identity, c->managed_mode);
        if (!m->binding || (id && !m->identity) || (same && id)) {
            m->binding = b;
            m->identity = id;
        }
        if (same && id)
            break;
    }
    if (m->binding || !c->az)
        return;
    for (size_t i = 0; i < c->az->n_managed_identities; i++) {
        const struct model_managed_pod_identity *mi = &c->az->managed_identities[i];
        const char *bs = str_empty(mi->binding_selector) ? mi->name : mi->binding_selector;
        if (str_eq(bs, sel) && str_eq(mi->namespace_, ns)) {
            m->managed = mi;
            return;
        }
    }
}

/* ---- NMI activity ------------------------------------------------------------------------ */

static bool is_infra(const struct check_ctx *c, const struct model_workload *w)
{
    for (size_t i = 0; i < c->n_infra; i++)
        if (c->infra[i] == w)
            return true;
    return false;
}

/* A pod whose name was logged but which is gone: guess its workload from the name shape
 * (<deploy>-<rs hash>-<id>, <cronjob>-<job id>-<id>, <ds>-<id>, <sts>-<ordinal>). */
static const struct model_workload *guess_workload(const struct store *s, const char *ns,
                                                   const char *pod)
{
    static const struct {
        enum model_workload_kind kind;
        int strip;
    } shapes[] = {{MODEL_KIND_DEPLOYMENT, 2},
                  {MODEL_KIND_CRONJOB, 2},
                  {MODEL_KIND_DAEMONSET, 1},
                  {MODEL_KIND_STATEFULSET, 1}};
    char buf[256];
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        snprintf(buf, sizeof buf, "%s", pod);
        int k = 0;
        for (; k < shapes[i].strip; k++) {
            char *dash = strrchr(buf, '-');
            if (!dash || dash == buf)
                break;
            *dash = '\0';
        }
        if (k < shapes[i].strip)
            continue;
        const struct model_workload *w = store_get_workload(s, shapes[i].kind, ns, buf);
        if (w)
            return w;
    }
    return NULL;
}

static bool pod_is_exception(const struct store *s, const struct model_pod *p)
{
    size_t n = store_azexception_count(s);
    for (size_t i = 0; i < n; i++) {
        const struct model_azure_pod_identity_exception *x = store_azexception_at(s, i);
        if (str_eq(x->meta.namespace_, p->meta.namespace_) &&
            labels_contain(&p->meta.labels, &x->pod_labels))
            return true;
    }
    return false;
}

static void activity_build(struct check_ctx *c)
{
    if (c->logs_unavailable)
        return;
    size_t n = store_nmi_count(c->s);
    int64_t from = c->now - c->window;
    for (size_t i = 0; i < n; i++) {
        const struct model_nmi_request *r = store_nmi_at(c->s, i);
        if (r->time < from || r->time > c->now + 60)
            continue;
        c->nmi_requests++;
        const char *ns = r->pod_namespace, *name = r->pod_name;
        struct store_ip_owner own;
        if (!name && !str_empty(r->remote_ip) &&
            store_ip_lookup(c->s, r->remote_ip, r->node_name, r->time, &own) == 0) {
            ns = own.pod_namespace;
            name = own.pod_name;
        }
        const struct model_workload *w = NULL;
        bool exempt = false;
        if (name) {
            const struct model_pod *p = store_get_pod(c->s, ns, name);
            if (p) {
                w = store_workload_of_pod(c->s, p);
                exempt = pod_is_exception(c->s, p);
            } else {
                w = guess_workload(c->s, ns, name);
            }
        }
        if (w && is_infra(c, w))
            exempt = true; /* MIC's own token calls go through the exception path */
        if (!exempt)
            c->nmi_blocking++;
        if (!w) {
            c->nmi_unattributed++;
            continue;
        }
        char *key = wkey(w->kind, w->meta.namespace_, w->meta.name);
        struct activity *a;
        HASH_FIND_STR(c->activity, key, a);
        if (!a) {
            a = xcalloc(1, sizeof *a);
            a->key = key;
            HASH_ADD_KEYPTR(hh, c->activity, a->key, strlen(a->key), a);
        } else {
            free(key);
        }
        a->requests++;
        if (r->status >= 400)
            a->errors++;
        if (r->time >= a->last_seen) {
            a->last_seen = r->time;
            a->last_status = r->status;
            if (r->status >= 400) {
                free(a->last_error);
                a->last_error = r->error ? xstrdup(r->error) : xasprintf("HTTP %d", r->status);
            }
        }
    }
}

/* ---- cluster context --------------------------------------------------------------------- */

static bool source_not_synced(const struct store *s, const char *name)
{
    char why[16];
    return !evidence_source(s, name, false, why, sizeof why);
}

/* Lists the NMI/MIC verdict rests on: their workloads and their pods, cluster-wide. */
static const char *const podid_sources[] = {"daemonsets", "deployments", "pods", "pods-nmi",
                                            "pods-nmi-helm", NULL};
static const char *const binding_sources[] = {"azureidentitybindings", "azureidentities", NULL};

static bool has_label(const struct model_kvlist *l, const char *k, const char *v)
{
    return str_eq(kv_get(l, k), v);
}

static bool is_nmi_workload(const struct model_workload *w)
{
    const char *n = w->meta.name;
    if (w->kind != MODEL_KIND_DAEMONSET || !n)
        return false;
    if (strcmp(n, "nmi") == 0 || strcmp(n, "aad-pod-identity-nmi") == 0)
        return true;
    const struct model_kvlist *l = &w->tmpl.labels;
    return strstr(n, "nmi") &&
           (has_label(l, "component", "nmi") || has_label(l, "app.kubernetes.io/component", "nmi"));
}

static bool is_mic_workload(const struct model_workload *w)
{
    const char *n = w->meta.name;
    if (w->kind != MODEL_KIND_DEPLOYMENT || !n)
        return false;
    if (strcmp(n, "mic") == 0 || strcmp(n, "aad-pod-identity-mic") == 0)
        return true;
    const struct model_kvlist *l = &w->tmpl.labels;
    return strstr(n, "mic") &&
           (has_label(l, "component", "mic") || has_label(l, "app.kubernetes.io/component", "mic"));
}

static bool pod_has_image(const struct model_pod *p, const char *needle)
{
    for (size_t i = 0; i < p->n_containers; i++)
        if (p->containers[i].image && strstr(p->containers[i].image, needle))
            return true;
    return false;
}

static void activity_free(struct activity *map)
{
    struct activity *a, *at;
    HASH_ITER(hh, map, a, at)
    {
        HASH_DEL(map, a);
        free(a->key);
        free(a->last_error);
        free(a);
    }
}

static void ctx_free(struct check_ctx *c)
{
    struct selgroup *g, *gt;
    HASH_ITER(hh, c->selectors, g, gt)
    {
        HASH_DEL(c->selectors, g);
        free(g->items);
        free(g);
    }
    activity_free(c->activity);
    c->activity = NULL;
    for (size_t i = 0; i < c->cluster_findings.n; i++)
        finding_free(&c->cluster_findings.items[i]);
    free(c->cluster_findings.items);
    free(c->webhook_problem);
    free(c->nmi_ns);
    free(c->logs_reason);
    evidence_nmi_logs_free(c->covs, c->n_covs);
    free(c->scope_ns);
    free(c->az_rg);
    free(c->az_cluster);
    memset(c, 0, sizeof *c);
}

static void cluster_clear(struct check_cluster *cl)
{
    free(cl->arm_id);
    free(cl->oidc_issuer);
    free(cl->oidc.detail);
    free(cl->webhook.namespace_);
    free(cl->webhook.detail);
    free(cl->pod_identity.namespace_);
    free(cl->pod_identity.detail);
    for (size_t i = 0; i < cl->removal.n_blockers; i++)
        free(cl->removal.blockers[i]);
    free(cl->removal.blockers);
    for (size_t i = 0; i < cl->n_findings; i++)
        finding_free(&cl->findings[i]);
    free(cl->findings);
    for (size_t i = 0; i < cl->n_sources; i++)
        check_source_clear(&cl->sources[i]);
    free(cl->sources);
    free(cl->scope);
    memset(cl, 0, sizeof *cl);
}

/* OIDC: the oidc layer's probe wins; else what ARM says. */
static void cluster_oidc(struct check_ctx *c, struct check_cluster *cl)
{
    const struct model_azure *az = c->az;
    const struct model_oidc *o = c->oidc;
    bool az_ok = az && az->state == MODEL_AZ_OK;
    if (az_ok && !str_empty(az->oidc_issuer_url))
        c->issuer = az->oidc_issuer_url;
    else if (o && !str_empty(o->cluster_issuer))
        c->issuer = o->cluster_issuer;
    cl->oidc_issuer = xstrdup(c->issuer);
    cl->arm_id = az ? xstrdup(az->cluster_arm_id) : NULL;

    struct fvars v;
    fvars_init(&v, NULL);
    v.issuer = c->issuer;
    if (o && o->status != MODEL_OIDC_UNKNOWN) {
        static const enum check_oidc map[] = {
            [MODEL_OIDC_UNKNOWN] = CHECK_OIDC_UNKNOWN,
            [MODEL_OIDC_OK] = CHECK_OIDC_OK,
            [MODEL_OIDC_DISABLED] = CHECK_OIDC_DISABLED,
            [MODEL_OIDC_UNREACHABLE] = CHECK_OIDC_UNREACHABLE,
            [MODEL_OIDC_KEYS_MISMATCH] = CHECK_OIDC_KEYS_MISMATCH,
        };
        cl->oidc.status =
            (unsigned)o->status <= MODEL_OIDC_KEYS_MISMATCH ? map[o->status] : CHECK_OIDC_UNKNOWN;
        cl->oidc.detail = xstrdup(o->detail);
        v.detail = o->detail;
        if (cl->oidc.status == CHECK_OIDC_UNREACHABLE)
            finding_add(&c->cluster_findings, CHECK_CODE_OIDC_UNREACHABLE, &v, o->detail);
        else if (cl->oidc.status == CHECK_OIDC_KEYS_MISMATCH)
            finding_add(&c->cluster_findings, CHECK_CODE_OIDC_KEYS_MISMATCH, &v, o->detail);
    } else if (az_ok) {
        cl->oidc.status = az->oidc_issuer_enabled ? CHECK_OIDC_OK : CHECK_OIDC_DISABLED;
        cl->oidc.detail =
            xstrdup(az->oidc_issuer_enabled ? "issuer enabled in ARM; discovery not probed"
                                            : "oidcIssuerProfile.enabled is false");
    } else {
        cl->oidc.status = CHECK_OIDC_UNKNOWN;
        cl->oidc.detail = xstrdup(az && az->error ? az->error : "Azure not queried");
    }
    if (c->issuer && str_has_prefix(c->issuer, "https://kubernetes.default.svc"))
        finding_add(&c->cluster_findings, CHECK_CODE_OIDC_NOT_PUBLIC, &v, c->issuer);
    if (az_ok && o && !str_empty(az->oidc_issuer_url) && !str_empty(o->cluster_issuer) &&
        !str_eq(az->oidc_issuer_url, o->cluster_issuer)) {
        v.issuer = az->oidc_issuer_url;
        v.value = o->cluster_issuer;
        finding_add(&c->cluster_findings, CHECK_CODE_OIDC_ISSUER_DIFFERS, &v, NULL);
    }
}

/* The workload identity webhook (workload-identity.md §3). */
static void cluster_webhook(struct check_ctx *c, struct check_cluster *cl)
{
    const struct model_mwc *mwc = NULL;
    const struct model_webhook *wh = NULL;
    struct idw_buf where = {0};
    size_t n = store_mwc_count(c->s);
    struct fvars v;
    fvars_init(&v, NULL);
    for (size_t i = 0; i < n; i++) {
        const struct model_mwc *m = store_mwc_at(c->s, i);
        for (size_t k = 0; k < m->n_webhooks; k++) {
            const struct model_webhook *h = &m->webhooks[k];
            if (!str_eq(h->name, WI_WEBHOOK_NAME))
                continue;
            cl->webhook.installs++;
            buf_printf(&where, "%s%s in %s", where.len ? ", " : "",
                       m->meta.name ? m->meta.name : "?",
                       h->service_namespace ? h->service_namespace : "(url)");
            if (!wh || str_eq(m->meta.name, WI_MWC_NAME)) {
                mwc = m;
                wh = h;
            }
        }
    }
    c->webhook_known = !source_not_synced(c->s, "mutatingwebhookconfigurations");
    if (!wh) {
        buf_free(&where);
        if (!c->webhook_known) {
            cl->webhook.status = CHECK_WEBHOOK_UNKNOWN;
            cl->webhook.detail = xstrdup("mutating webhook configurations not listed");
            c->webhook_usable = true; /* cannot tell: do not blame the pods */
            return;
        }
        cl->webhook.status = CHECK_WEBHOOK_MISSING;
        cl->webhook.detail = xstrdup("no webhook named " WI_WEBHOOK_NAME);
        c->webhook_problem = xstrdup("the workload identity webhook is not installed");
        return;
    }
    if (cl->webhook.installs > 1) {
        v.count = cl->webhook.installs;
        v.detail = where.data;
        finding_add(&c->cluster_findings, CHECK_CODE_WEBHOOK_DOUBLE_INSTALL, &v, where.data);
    }
    buf_free(&where);
    const char *ns = wh->service_namespace;
    cl->webhook.namespace_ = xstrdup(ns);
    v.ns = ns;
    v.name = mwc->meta.name;
    c->webhook_usable = true;
    bool ca_empty = wh->ca_bundle_len == 0;
    if (ca_empty) {
        finding_add(&c->cluster_findings, CHECK_CODE_WEBHOOK_CA_EMPTY, &v, NULL);
        c->webhook_usable = false;
        c->webhook_problem = xstrdup("the webhook's caBundle is empty");
    }
    if (str_eq(wh->failure_policy, "Ignore") || !wh->has_object_selector) {
        v.detail = !wh->has_object_selector ? "no objectSelector on azure.workload.identity/use"
                                            : "failurePolicy Ignore";
        finding_add(&c->cluster_findings, CHECK_CODE_WEBHOOK_POLICY, &v, NULL);
    }
    static const char *const homes[] = {NULL, "kube-system", "azure-workload-identity-system"};
    const struct model_workload *dep = NULL;
    for (size_t i = 0; i < 3 && !dep; i++)
        dep = store_get_workload(c->s, MODEL_KIND_DEPLOYMENT, i ? homes[i] : ns,
                                 WI_WEBHOOK_DEPLOYMENT);
    if (!dep) {
        cl->webhook.status = ca_empty ? CHECK_WEBHOOK_DEGRADED : CHECK_WEBHOOK_UNKNOWN;
        cl->webhook.detail = xasprintf(
            "webhook configured (service in %s); deployment " WI_WEBHOOK_DEPLOYMENT " not visible",
            ns ? ns : "?");
        return;
    }
    if (c->n_infra < sizeof c->infra / sizeof c->infra[0])
        c->infra[c->n_infra++] = dep;
    cl->webhook.ready = dep->replicas_available;
    cl->webhook.desired = dep->replicas_desired;
    v.ns = dep->meta.namespace_;
    v.count = dep->replicas_available;
    v.total = dep->replicas_desired;
    if (dep->replicas_available <= 0) {
        cl->webhook.status = CHECK_WEBHOOK_DEGRADED;
        cl->webhook.detail = xstrdup("no available webhook replicas");
        finding_add(&c->cluster_findings, CHECK_CODE_WEBHOOK_DOWN, &v, NULL);
        c->webhook_usable = false;
        free(c->webhook_problem);
        c->webhook_problem =
            xasprintf("webhook deployment %s/" WI_WEBHOOK_DEPLOYMENT " has no available replicas",
                      dep->meta.namespace_ ? dep->meta.namespace_ : "?");
    } else if (dep->replicas_available < dep->replicas_desired || ca_empty) {
        cl->webhook.status = CHECK_WEBHOOK_DEGRADED;
        cl->webhook.detail = xstrdup(ca_empty ? "caBundle empty" : "fewer replicas than desired");
        if (!ca_empty)
            finding_add(&c->cluster_findings, CHECK_CODE_WEBHOOK_DEGRADED, &v, NULL);
    } else {
        cl->webhook.status = CHECK_WEBHOOK_OK;
        cl->webhook.detail =
            xasprintf("%s install in %s, failurePolicy %s",
                      str_eq(ns, "kube-system") ? "AKS add-on" : "self-managed", ns ? ns : "?",
                      wh->failure_policy ? wh->failure_policy : "?");
    }
}

/* AAD Pod Identity components: Helm, plain YAML and the AKS add-on (pod-identity.md §2). */
static void cluster_podid(struct check_ctx *c, struct check_cluster *cl)
{
    const struct model_workload *nmi = NULL, *mic = NULL;
    size_t n = store_workload_count(c->s);
    for (size_t i = 0; i < n && (!nmi || !mic); i++) {
        const struct model_workload *w = store_workload_at(c->s, i);
        if (!nmi && is_nmi_workload(w))
            nmi = w;
        else if (!mic && is_mic_workload(w))
            mic = w;
    }
    int pods_nmi = 0, pods_nmi_ready = 0, pods_mic = 0, pods_mic_ready = 0;
    const char *pod_ns = NULL;
    if (!nmi) { /* DaemonSets not visible (or renamed): look at the pods, by image and labels */
        size_t np = store_pod_count(c->s);
        for (size_t i = 0; i < np; i++) {
            const struct model_pod *p = store_pod_at(c->s, i);
            const struct model_kvlist *l = &p->meta.labels;
            bool is_nmi = pod_has_image(p, "aad-pod-identity/nmi") ||
                          ((has_label(l, "component", "nmi") ||
                            has_label(l, "app.kubernetes.io/component", "nmi")) &&
                           p->meta.name && strstr(p->meta.name, "nmi"));
            bool is_mic = !is_nmi && (pod_has_image(p, "aad-pod-identity/mic") ||
                                      ((has_label(l, "component", "mic") ||
                                        has_label(l, "app.kubernetes.io/component", "mic")) &&
                                       p->meta.name && strstr(p->meta.name, "mic")));
            if (is_nmi && !nmi) {
                pods_nmi++;
                pods_nmi_ready += p->ready;
                pod_ns = p->meta.namespace_;
            } else if (is_mic && !mic) {
                pods_mic++;
                pods_mic_ready += p->ready;
            }
        }
    }
    if (nmi) {
        cl->pod_identity.nmi_ready = nmi->replicas_ready;
        cl->pod_identity.nmi_desired = nmi->replicas_desired;
        c->nmi_ns = xstrdup(nmi->meta.namespace_);
        c->infra[c->n_infra++] = nmi;
    } else {
        cl->pod_identity.nmi_ready = pods_nmi_ready;
        cl->pod_identity.nmi_desired = pods_nmi;
        c->nmi_ns = xstrdup(pod_ns);
    }
    if (mic) {
        cl->pod_identity.mic_ready = mic->replicas_ready;
        cl->pod_identity.mic_desired = mic->replicas_desired;
        c->infra[c->n_infra++] = mic;
    } else {
        cl->pod_identity.mic_ready = pods_mic_ready;
        cl->pod_identity.mic_desired = pods_mic;
    }
    c->nmi_present = nmi || pods_nmi > 0;
    c->mic_present = mic || pods_mic > 0;
    cl->pod_identity.identities = (int)store_azid_count(c->s);
    cl->pod_identity.bindings = (int)store_azbinding_count(c->s);
    cl->pod_identity.namespace_ = xstrdup(c->nmi_ns);
    /* Managed mode: the AKS add-on (ARM says so) or an NMI in kube-system with no MIC. */
    c->managed_mode = (c->az && c->az->pod_identity_profile_enabled) ||
                      (c->nmi_present && !c->mic_present && str_eq(c->nmi_ns, "kube-system"));
    cl->pod_identity.managed_mode = c->managed_mode;

    struct fvars v;
    fvars_init(&v, NULL);
    v.ns = c->nmi_ns;
    v.name = nmi ? nmi->meta.name : "nmi";
    c->podid_known = evidence_sources(c->s, podid_sources, false, c->podid_why,
                                      sizeof c->podid_why);
    bool lists_complete = c->podid_known;
    if (!c->nmi_present && !c->mic_present && !c->podid_known) {
        /* Not seeing NMI in an incomplete list is no evidence that it is absent. */
        cl->pod_identity.status = CHECK_PODID_UNKNOWN;
        cl->pod_identity.detail = xstrdup(c->podid_why);
        return;
    }
    c->podid_known = true; /* NMI or MIC seen (their state below), or complete lists without them */
    if (!c->nmi_present && !c->mic_present) {
        cl->pod_identity.status = CHECK_PODID_ABSENT;
        if (cl->pod_identity.identities || cl->pod_identity.bindings)
            cl->pod_identity.detail =
                xasprintf("not running; %d AzureIdentity and %d "
                          "AzureIdentityBinding objects remain",
                          cl->pod_identity.identities, cl->pod_identity.bindings);
        else
            cl->pod_identity.detail = xstrdup("not installed");
        return;
    }
    const char *mode = c->managed_mode ? "managed mode" : "standard mode";
    bool nmi_ok = cl->pod_identity.nmi_desired > 0 &&
                  cl->pod_identity.nmi_ready >= cl->pod_identity.nmi_desired;
    bool mic_ok = c->managed_mode || (cl->pod_identity.mic_desired > 0 &&
                                      cl->pod_identity.mic_ready >= cl->pod_identity.mic_desired);
    if (c->nmi_present && !c->mic_present && !c->managed_mode && !lists_complete) {
        /* NMI is there; MIC may be too, in a list that could not be read */
        cl->pod_identity.status = CHECK_PODID_UNKNOWN;
        cl->pod_identity.detail =
            xasprintf("NMI runs in %s; MIC unknown: %s", c->nmi_ns ? c->nmi_ns : "?", c->podid_why);
        return;
    }
    if (c->nmi_present && !c->mic_present && !c->managed_mode) {
        finding_add(&c->cluster_findings, CHECK_CODE_PODID_HALF_REMOVED, &v, NULL);
        cl->pod_identity.status = CHECK_PODID_DEGRADED;
        cl->pod_identity.detail = xasprintf("NMI in %s without MIC", c->nmi_ns ? c->nmi_ns : "?");
        return;
    }
    if (!nmi_ok) {
        v.value = "NMI";
        v.count = cl->pod_identity.nmi_ready;
        v.total = cl->pod_identity.nmi_desired;
        finding_add(&c->cluster_findings, CHECK_CODE_PODID_DEGRADED, &v, NULL);
    }
    if (!mic_ok) {
        v.value = "MIC";
        v.count = cl->pod_identity.mic_ready;
        v.total = cl->pod_identity.mic_desired;
        finding_add(&c->cluster_findings, CHECK_CODE_PODID_DEGRADED, &v, NULL);
    }
    cl->pod_identity.status = nmi_ok && mic_ok ? CHECK_PODID_RUNNING : CHECK_PODID_DEGRADED;
    cl->pod_identity.detail = xasprintf("%s, NMI in %s", mode, c->nmi_ns ? c->nmi_ns : "?");
}

/* Resource group and name of an ARM id (/subscriptions/S/resourceGroups/G/providers/.../N). */
static void azure_id_parts(const char *id, char **rg, char **name)
{
    static const char key[] = "/resourceGroups/";
    for (const char *g = id; *g; g++) {
        if (strncasecmp(g, key, sizeof key - 1) == 0) {
            g += sizeof key - 1;
            *rg = xstrndup(g, strcspn(g, "/"));
            break;
        }
    }
    const char *last = strrchr(id, '/');
    if (last && last[1])
        *name = xstrdup(last + 1);
}

static void ctx_build(struct check_ctx *c, struct check_cluster *cl, const struct store *s,
                      const struct check_options *opt)
{
    memset(c, 0, sizeof *c);
    c->s = s;
    c->now = opt && opt->now ? opt->now : time_now();
    c->window = opt && opt->window_seconds > 0 ? opt->window_seconds : 3600;
    c->logs_unavailable = opt && opt->nmi_logs_unavailable;
    c->logs_reason = opt && opt->nmi_logs_reason ? xstrdup(opt->nmi_logs_reason) : NULL;
    c->az = store_azure(s);
    c->oidc = store_oidc(s);
    c->live = evidence_live(s);
    c->window_start = c->now - c->window;
    if (opt && opt->scope_namespace)
        c->scope_ns = xstrdup(opt->scope_namespace);
    c->scope_sel = opt ? opt->scope_selector : NULL;
    c->scope_sel_text = opt ? opt->scope_selector_text : NULL;
    c->scoped = c->scope_ns || (c->scope_sel && c->scope_sel->n > 0);
    if (c->az && c->az->cluster_arm_id)
        azure_id_parts(c->az->cluster_arm_id, &c->az_rg, &c->az_cluster);
    c->bindings_known = evidence_sources(s, binding_sources, false, c->bindings_why,
                                         sizeof c->bindings_why);
    c->sa_known = evidence_source(s, "serviceaccounts", false, c->sa_why, sizeof c->sa_why);
    c->n_covs = evidence_nmi_logs(s, c->now, &c->covs);
    c->logs_complete = !c->logs_unavailable;
    for (size_t i = 0; i < c->n_covs; i++)
        if (!evidence_cov_covers(&c->covs[i], c->window_start, c->now))
            c->logs_complete = false;
    cluster_oidc(c, cl);
    cluster_webhook(c, cl);
    cluster_podid(c, cl);
    selectors_build(c);
    activity_build(c);
}

/* ---- per workload: mechanism ------------------------------------------------------------- */

struct wctx {
    struct check_ctx *c;
    const struct model_workload *w;
    const struct model_service_account *sa;
    struct check_workload *out;
    struct finding_list fl;
    const struct model_pod *const *pods;
    size_t n_pods;
    struct pi_match pim;
    const char *pi_client_id; /* the client id pod identity used, for the migration remedy */
};

static void wl_mechanism(struct wctx *x)
{
    const struct model_workload *w = x->w;
    const char *use = kv_get(&w->tmpl.labels, WI_LABEL_USE);
    const char *pi = kv_get(&w->tmpl.labels, PI_LABEL_BINDING);
    bool wi = str_eq(use, "true");
    bool has_pi = !str_empty(pi);
    x->out->mechanism = wi && has_pi ? CHECK_MECH_BOTH
                        : wi         ? CHECK_MECH_WI
                        : has_pi     ? CHECK_MECH_PI
                                     : CHECK_MECH_NONE;
    x->out->pi_selector = has_pi ? xstrdup(pi) : NULL;
    struct fvars v;
    fvars_init(&v, w);
    if (use && !wi) {
        v.value = use;
        finding_add(&x->fl, CHECK_CODE_WI_LABEL_VALUE, &v, NULL);
    } else if (!use) {
        const char *on_sa = x->sa ? kv_get(&x->sa->meta.labels, WI_LABEL_USE) : NULL;
        if (!on_sa && x->sa)
            on_sa = kv_get(&x->sa->meta.annotations, WI_LABEL_USE);
        const char *on_meta = kv_get(&w->meta.labels, WI_LABEL_USE);
        if (on_meta && w->kind != MODEL_KIND_POD) {
            v.value = on_meta;
            finding_add(&x->fl, CHECK_CODE_WI_LABEL_ON_WORKLOAD, &v, NULL);
        } else if (on_sa) {
            v.value = on_sa;
            finding_add(&x->fl, CHECK_CODE_WI_LABEL_ON_SA, &v, NULL);
        }
    }
    if (!has_pi)
        return;
    v.value = pi;
    pi_match_find(x->c, w->meta.namespace_, pi, &x->pim);
    if (x->pim.identity)
        x->pi_client_id = x->pim.identity->client_id;
    else if (x->pim.managed)
        x->pi_client_id = x->pim.managed->client_id;
    if (!x->c->nmi_present && (x->pim.binding || x->pim.managed)) {
        /* reported below with the activity */
    } else if (!x->pim.binding && !x->pim.managed && !x->c->bindings_known) {
        /* the bindings could not all be read: no verdict on the label */
    } else if (!x->pim.binding && !x->pim.managed) {
        char detail[300] = "";
        if (x->pim.elsewhere)
            snprintf(detail, sizeof detail,
                     " in namespace %s (managed mode: binding %s/%s is in another namespace)",
                     w->meta.namespace_ ? w->meta.namespace_ : "?",
                     x->pim.elsewhere->meta.namespace_ ? x->pim.elsewhere->meta.namespace_ : "?",
                     x->pim.elsewhere->meta.name ? x->pim.elsewhere->meta.name : "?");
        v.detail = detail;
        finding_add(&x->fl, CHECK_CODE_PI_NO_BINDING, &v, NULL);
    } else if (x->pim.binding && !x->pim.identity && x->c->bindings_known) {
        char detail[300];
        snprintf(detail, sizeof detail, " (binding %s/%s)",
                 x->pim.binding->meta.namespace_ ? x->pim.binding->meta.namespace_ : "?",
                 x->pim.binding->meta.name ? x->pim.binding->meta.name : "?");
        v.value = x->pim.binding->meta.name;
        v.identity = x->pim.binding->identity;
        v.detail = detail;
        finding_add(&x->fl, CHECK_CODE_PI_IDENTITY_MISSING, &v, NULL);
    }
}

/* ---- per workload: federation ------------------------------------------------------------ */

/* How two issuer URLs differ, for a message a human can act on. */
static void issuer_diff(const char *fic, const char *cluster, char *out, size_t n)
{
    size_t a = strlen(fic), b = strlen(cluster);
    if (a + 1 == b && cluster[b - 1] == '/' && strncmp(fic, cluster, a) == 0)
        snprintf(out, n, "the credential's issuer lacks the trailing '/' of %s", cluster);
    else if (b + 1 == a && fic[a - 1] == '/' && strncmp(fic, cluster, b) == 0)
        snprintf(out, n, "the credential's issuer has a trailing '/' that %s lacks", cluster);
    else if (strcasecmp(fic, cluster) == 0)
        snprintf(out, n, "differs only in letter case: %s vs %s", fic, cluster);
    else {
        size_t i = 0;
        while (fic[i] && fic[i] == cluster[i])
            i++;
        snprintf(out, n, "credential has %s, cluster has %s (first difference at byte %zu)", fic,
                 cluster, i);
    }
}

/* Same subject up to case, blanks or '/' for ':' (a typo rather than another SA's credential). */
static bool subject_near(const char *have, const char *want)
{
    if (!have)
        return false;
    const char *p = have, *q = want;
    for (;;) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (!*p || !*q)
            break;
        char a = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
        char b = (char)(*q >= 'A' && *q <= 'Z' ? *q - 'A' + 'a' : *q);
        if (a == '/')
            a = ':';
        if (a != b)
            return false;
        p++;
        q++;
    }
    return !*p && !*q;
}

static char *audiences_text(const struct model_fic *f)
{
    struct idw_buf b = {0};
    buf_puts(&b, "[");
    for (size_t i = 0; i < f->n_audiences; i++)
        buf_printf(&b, "%s%s", i ? "," : "", f->audiences[i] ? f->audiences[i] : "");
    buf_puts(&b, "]");
    return b.data;
}

static void fed_set(struct check_workload *o, enum check_federation st, char *detail)
{
    o->federation.status = st;
    free(o->federation.detail);
    o->federation.detail = detail;
}

/* Azure was wanted and has answered (or failed) at least once: an unknown federation is then
 * something the operator must hear about, not a transient "loading". */
static bool azure_settled(const struct model_azure *az)
{
    return az && !az->skipped && az->fetched > 0;
}

/* Federation unknown: detail is taken (xmalloc'd). A warning when Azure was wanted. */
static void fed_unknown(struct wctx *x, struct fvars *v, char *detail)
{
    fed_set(x->out, CHECK_FED_UNKNOWN, detail);
    if (azure_settled(x->c->az)) {
        v->detail = detail;
        finding_add(&x->fl, CHECK_CODE_FED_UNKNOWN, v, NULL);
        v->detail = NULL;
    }
}

static char *azure_unavailable_text(const struct model_azure *az)
{
    if (!az || az->skipped)
        return xstrdup("Azure skipped (--no-azure)");
    if (az->entra.state == MODEL_AZ_ERROR)
        return xasprintf("Azure sign-in failed: %s", az->entra.error ? az->entra.error : "?");
    if (az->arm.state == MODEL_AZ_ERROR)
        return xasprintf("ARM: %s", az->arm.error ? az->arm.error : "?");
    if (az->identities_state != MODEL_AZ_OK && az->identities_error)
        return xasprintf("identities not listed: %s", az->identities_error);
    if (az->error)
        return xasprintf("Azure not available: %s", az->error);
    return xstrdup(az->state == MODEL_AZ_LOADING || !az->fetched ? "Azure still loading"
                                                                 : "Azure not available");
}

static void wl_federation(struct wctx *x)
{
    struct check_workload *o = x->out;
    const struct model_workload *w = x->w;
    struct fvars v;
    fvars_init(&v, w);
    if (o->mechanism != CHECK_MECH_WI && o->mechanism != CHECK_MECH_BOTH) {
        fed_set(o, CHECK_FED_NOT_APPLICABLE, NULL); /* nothing to say: no allocation */
        return;
    }
    if (!x->sa && !x->c->sa_known) {
        fed_set(o, CHECK_FED_UNKNOWN,
                xasprintf("service account %s not seen: %s", w->tmpl.service_account,
                          x->c->sa_why));
        return;
    }
    if (!x->sa) {
        finding_add(&x->fl, CHECK_CODE_WI_SA_NOT_FOUND, &v, NULL);
        fed_set(o, CHECK_FED_NO_CLIENT_ID,
                xasprintf("service account %s not found", w->tmpl.service_account));
        return;
    }
    const char *cid = kv_get(&x->sa->meta.annotations, WI_ANN_CLIENT_ID);
    if (str_empty(cid)) {
        /* Name the near-miss keys people use (client_id, clientId, on a label). */
        char hint[200] = "";
        const struct model_kvlist *lists[] = {&x->sa->meta.annotations, &x->sa->meta.labels};
        for (size_t li = 0; li < 2 && !hint[0]; li++)
            for (size_t i = 0; i < lists[li]->n && !hint[0]; i++) {
                const char *k = lists[li]->items[i].key;
                if (k && strncasecmp(k, "azure.workload.identity/client", 30) == 0 &&
                    !(li == 0 && strcmp(k, WI_ANN_CLIENT_ID) == 0))
                    snprintf(hint, sizeof hint, " (found %s %s instead)",
                             li ? "label" : "annotation", k);
            }
        v.detail = hint;
        v.client_id = x->pi_client_id;
        finding_add(&x->fl, CHECK_CODE_FED_NO_CLIENT_ID, &v, NULL);
        fed_set(o, CHECK_FED_NO_CLIENT_ID,
                xasprintf("service account %s has no " WI_ANN_CLIENT_ID " annotation%s",
                          w->tmpl.service_account, hint));
        return;
    }
    o->federation.client_id = xstrdup(cid);
    v.client_id = cid;
    const struct model_azure *az = x->c->az;
    /* The identity list is what federation needs; a cluster ARM cannot find only costs the
     * ARM view of the issuer (the API server's discovery still gives it). */
    if (!az || az->identities_state != MODEL_AZ_OK ||
        (az->state != MODEL_AZ_OK && !az->cluster_not_found)) {
        fed_unknown(x, &v, azure_unavailable_text(az));
        return;
    }
    const struct model_identity *id = model_azure_identity_by_client_id(az, cid);
    if (!id) {
        finding_add(&x->fl, CHECK_CODE_FED_IDENTITY_NOT_FOUND, &v, NULL);
        fed_set(o, CHECK_FED_IDENTITY_NOT_FOUND,
                xasprintf("client id %s is not among the %zu identities idwatch can see", cid,
                          az->n_identities));
        return;
    }
    o->federation.identity = xstrdup(id->arm_id ? id->arm_id : id->client_id);
    v.identity = id->name ? id->name : o->federation.identity;
    v.id_name = id->name;
    v.rg = id->resource_group;
    v.issuer = x->c->issuer;

    const char *tenant = kv_get(&x->sa->meta.annotations, WI_ANN_TENANT_ID);
    if (tenant && !*tenant) {
        finding_add(&x->fl, CHECK_CODE_FED_TENANT_EMPTY, &v, NULL);
    } else if (tenant && id->tenant_id && strcasecmp(tenant, id->tenant_id) != 0) {
        v.value = tenant;
        v.detail = id->tenant_id;
        finding_add(&x->fl, CHECK_CODE_FED_TENANT_MISMATCH, &v, NULL);
        v.value = v.detail = NULL;
    }
    if (id->n_fics >= FIC_WARN_AT) {
        v.count = (long)id->n_fics;
        finding_add(&x->fl, CHECK_CODE_FIC_NEAR_LIMIT, &v, NULL);
    }
    if (id->fic_state != MODEL_AZ_OK) {
        fed_unknown(x, &v,
                    xasprintf("federated credentials of %s not listed: %s", v.identity,
                              id->fic_error ? id->fic_error : "still loading"));
        return;
    }
    if (str_empty(x->c->issuer)) {
        fed_unknown(x, &v, xstrdup("the cluster's OIDC issuer is unknown"));
        return;
    }
    char *want =
        xasprintf("system:serviceaccount:%s:%s", w->meta.namespace_, w->tmpl.service_account);
    /* Best near-match: audience (issuer+subject right) > issuer (subject right) > subject typo. */
    const struct model_fic *best = NULL;
    enum check_federation best_st = CHECK_FED_MISSING;
    int best_rank = 0;
    for (size_t i = 0; i < id->n_fics; i++) {
        const struct model_fic *f = &id->fics[i];
        bool iss = str_eq(f->issuer, x->c->issuer);
        bool sub = str_eq(f->subject, want);
        bool aud = f->n_audiences == 1 && str_eq(f->audiences[0], WI_AUDIENCE);
        int rank = 0;
        enum check_federation st = CHECK_FED_MISSING;
        if (iss && sub && aud) {
            rank = 4;
            st = CHECK_FED_OK;
        } else if (iss && sub) {
            rank = 3;
            st = CHECK_FED_AUDIENCE_MISMATCH;
        } else if (sub) {
            rank = 2;
            st = CHECK_FED_ISSUER_MISMATCH;
        } else if (subject_near(f->subject, want)) {
            rank = 1;
            st = CHECK_FED_SUBJECT_MISMATCH;
        }
        if (rank > best_rank) {
            best_rank = rank;
            best = f;
            best_st = st;
        }
    }
    char detail[1024];
    char fic_name[160];
    snprintf(fic_name, sizeof fic_name, "%s-%s", w->meta.namespace_, w->tmpl.service_account);
    v.fic = best ? best->name : fic_name;
    if (best)
        o->federation.credential = xstrdup(best->name);
    switch (best_st) {
    case CHECK_FED_OK:
        fed_set(o, CHECK_FED_OK,
                xasprintf("credential %s on %s matches issuer, subject and audience",
                          best->name ? best->name : "?", v.identity));
        break;
    case CHECK_FED_AUDIENCE_MISMATCH: {
        char *aud = audiences_text(best);
        v.value = aud;
        finding_add(&x->fl, CHECK_CODE_FIC_AUDIENCE_MISMATCH, &v, NULL);
        fed_set(o, best_st, xasprintf("credential %s has audiences %s", best->name, aud));
        free(aud);
        break;
    }
    case CHECK_FED_ISSUER_MISMATCH: {
        issuer_diff(best->issuer ? best->issuer : "", x->c->issuer, detail, sizeof detail);
        v.detail = detail;
        char *ev = xasprintf("credential issuer: %s\ncluster issuer:    %s",
                             best->issuer ? best->issuer : "", x->c->issuer);
        finding_add(&x->fl, CHECK_CODE_FIC_ISSUER_MISMATCH, &v, ev);
        free(ev);
        fed_set(o, best_st, xstrdup(detail));
        break;
    }
    case CHECK_FED_SUBJECT_MISMATCH:
        v.value = best->subject;
        snprintf(detail, sizeof detail, " (subjects match case-sensitively)");
        v.detail = detail;
        finding_add(&x->fl, CHECK_CODE_FIC_SUBJECT_MISMATCH, &v, NULL);
        fed_set(
            o, best_st,
            xasprintf("credential %s has subject %s, want %s", best->name, best->subject, want));
        break;
    default:
        finding_add(&x->fl, CHECK_CODE_FIC_MISSING, &v, NULL);
        fed_set(
            o, CHECK_FED_MISSING,
            xasprintf("none of the %zu credentials on %s is for %s", id->n_fics, v.identity, want));
        break;
    }
    free(want);
}

/* ---- per workload: projection ------------------------------------------------------------ */

static bool skipped(const char *list, const char *name)
{
    if (str_empty(list) || !name)
        return false;
    size_t n = strlen(name);
    const char *p = list;
    while (*p) {
        while (*p == ' ' || *p == '\t')
            p++;
        const char *e = strchr(p, ';');
        const char *end = e ? e : p + strlen(p);
        const char *t = end;
        while (t > p && (t[-1] == ' ' || t[-1] == '\t'))
            t--;
        if ((size_t)(t - p) == n && memcmp(p, name, n) == 0)
            return true;
        if (!e)
            break;
        p = e + 1;
    }
    return false;
}

/* The mount that serves file: its path is a prefix of file, its volume a projected SA token
 * with the exchange audience whose path is the rest of file. */
static bool token_mount_ok(const struct model_pod *p, const struct model_container *c,
                           const char *file, const char **layout)
{
    for (size_t i = 0; i < c->n_mounts; i++) {
        const struct model_mount *m = &c->mounts[i];
        if (!m->mount_path || !m->name)
            continue;
        size_t n = strlen(m->mount_path);
        while (n > 1 && m->mount_path[n - 1] == '/')
            n--;
        if (strncmp(file, m->mount_path, n) != 0 || file[n] != '/')
            continue;
        const char *rest = file + n + 1;
        for (size_t k = 0; k < p->n_tokens; k++) {
            const struct model_token_volume *t = &p->tokens[k];
            if (str_eq(t->volume, m->name) && str_eq(t->path, rest) &&
                str_eq(t->audience, WI_AUDIENCE)) {
                if (layout)
                    *layout = m->mount_path;
                return true;
            }
        }
    }
    return false;
}

static bool pod_has_wi_volume(const struct model_pod *p)
{
    for (size_t k = 0; k < p->n_tokens; k++)
        if (str_eq(p->tokens[k].audience, WI_AUDIENCE))
            return true;
    return false;
}

static const char *layout_name(const char *mount_path)
{
    if (!mount_path)
        return NULL;
    if (strcmp(mount_path, "/var/run/secrets/azure/wi") == 0)
        return "v1.6";
    if (strcmp(mount_path, "/var/run/secrets/azure/tokens") == 0)
        return "v1.5";
    if (strcmp(mount_path, "/var/run/secrets/tokens") == 0)
        return "pre-v0.8";
    return "custom";
}

/* Judges one pod; fills st and returns the first container at fault (or NULL). */
static enum check_projection pod_projection(const struct model_pod *p, struct check_pod *st,
                                            const char **bad_container)
{
    const char *skip = kv_get(&p->meta.annotations, WI_ANN_SKIP_CONTAINERS);
    bool any_env = false;
    const char *bad = NULL, *why = NULL, *layout = NULL;
    for (size_t i = 0; i < p->n_containers; i++) {
        const struct model_container *c = &p->containers[i];
        if (skipped(skip, c->name))
            continue;
        if (c->name && strcmp(c->name, "azwi-proxy") == 0)
            st->proxy = true;
        const char *file = model_container_env(c, "AZURE_FEDERATED_TOKEN_FILE");
        if (file)
            any_env = true;
        const char *lay = NULL;
        if (!file) {
            if (!bad) {
                bad = c->name;
                why = "no AZURE_FEDERATED_TOKEN_FILE";
            }
        } else if (!token_mount_ok(p, c, file, &lay)) {
            if (!bad) {
                bad = c->name;
                why = "no projected token mounted at AZURE_FEDERATED_TOKEN_FILE";
            }
        } else if (!layout) {
            layout = lay;
        }
    }
    st->layout = layout_name(layout);
    *bad_container = bad;
    if (!any_env && !pod_has_wi_volume(p)) {
        st->detail = xstrdup("not mutated by the webhook");
        return CHECK_PROJ_NOT_INJECTED;
    }
    if (bad) {
        st->detail = xasprintf("container %s: %s", bad, why);
        return CHECK_PROJ_PARTIAL;
    }
    return CHECK_PROJ_OK;
}

static void wl_projection(struct wctx *x)
{
    struct check_workload *o = x->out;
    const struct model_workload *w = x->w;
    struct fvars v;
    fvars_init(&v, w);
    if (o->mechanism != CHECK_MECH_WI && o->mechanism != CHECK_MECH_BOTH) {
        o->projection.status = CHECK_PROJ_NOT_APPLICABLE;
        return;
    }
    enum check_projection st = CHECK_PROJ_OK;
    char *detail = NULL;

    /* Token expiration: the pod annotation wins over the SA's (workload-identity.md §1). */
    const char *exp = kv_get(&w->tmpl.annotations, WI_ANN_TOKEN_EXPIRATION);
    bool exp_on_pod = exp != NULL;
    if (!exp && x->sa)
        exp = kv_get(&x->sa->meta.annotations, WI_ANN_TOKEN_EXPIRATION);
    long long secs;
    if (exp && (!parse_int(exp, &secs) || secs < EXP_MIN || secs > EXP_MAX)) {
        v.value = exp;
        char *patch = exp_on_pod ? check_patch_expiration(w->kind) : NULL;
        v.patch = patch;
        finding_add(&x->fl,
                    exp_on_pod ? CHECK_CODE_PROJ_INVALID_EXPIRATION_POD
                               : CHECK_CODE_PROJ_INVALID_EXPIRATION,
                    &v, NULL);
        free(patch);
        v.patch = NULL;
        v.value = NULL;
        st = CHECK_PROJ_INVALID_EXPIRATION;
        detail = xasprintf("token expiration \"%s\" on %s is outside 3600..86400", exp,
                           exp_on_pod ? "the pod template" : "the service account");
    }
    if (!x->c->webhook_usable) {
        v.detail = x->c->webhook_problem;
        finding_add(&x->fl, CHECK_CODE_PROJ_WEBHOOK_MISSING, &v, NULL);
        v.detail = NULL;
        if (st == CHECK_PROJ_OK) {
            st = CHECK_PROJ_WEBHOOK_MISSING;
            detail = xstrdup(x->c->webhook_problem ? x->c->webhook_problem : "webhook missing");
        }
    }

    /* Proxy sidecar annotation (migration aid): presence of the key is what counts. */
    const char *proxy = kv_get(&w->tmpl.annotations, WI_ANN_PROXY_SIDECAR);
    if (proxy && strcasecmp(proxy, "true") != 0) {
        v.value = proxy;
        finding_add(&x->fl, CHECK_CODE_PROXY_FALSE_VALUE, &v, NULL);
        v.value = NULL;
    }

    /* The live pods. */
    const char *sa_cid = x->sa ? kv_get(&x->sa->meta.annotations, WI_ANN_CLIENT_ID) : NULL;
    int total = 0, ok = 0, not_inj = 0, partial = 0, nospec = 0;
    bool reported_partial = false, reported_stale = false, reported_proxy = false,
         reported_hostnet = false;
    o->projection.pods = xcalloc(x->n_pods ? x->n_pods : 1, sizeof *o->projection.pods);
    for (size_t i = 0; i < x->n_pods; i++) {
        const struct model_pod *p = x->pods[i];
        if (!pod_live(p))
            continue;
        struct check_pod *cp = &o->projection.pods[o->projection.n_pods++];
        cp->name = xstrdup(p->meta.name);
        cp->ready = p->ready;
        total++;
        if (!p->has_spec && !str_eq(kv_get(&p->meta.labels, WI_LABEL_USE), "true")) {
            /* the webhook mutates only pods labelled use=true: this one predates the label */
            cp->status = CHECK_PROJ_NOT_INJECTED;
            cp->detail = xstrdup("no azure.workload.identity/use=true label: created before it");
            not_inj++;
            continue;
        }
        if (!p->has_spec) {
            cp->status = CHECK_PROJ_UNKNOWN;
            cp->detail = xstrdup("fetched without spec");
            nospec++;
            continue;
        }
        const char *bad = NULL;
        cp->status = pod_projection(p, cp, &bad);
        v.pod = p->meta.name;
        if (cp->status == CHECK_PROJ_OK)
            ok++;
        else if (cp->status == CHECK_PROJ_NOT_INJECTED)
            not_inj++;
        else if (cp->status == CHECK_PROJ_PARTIAL) {
            partial++;
            if (!reported_partial) {
                v.container = bad;
                finding_add(&x->fl, CHECK_CODE_PROJ_PARTIAL, &v, cp->detail);
                v.container = NULL;
                reported_partial = true;
            }
        }
        if (cp->status != CHECK_PROJ_NOT_INJECTED && !str_empty(sa_cid) && !reported_stale) {
            /* AZURE_CLIENT_ID of the first regular, non-skipped container. */
            const char *skip = kv_get(&p->meta.annotations, WI_ANN_SKIP_CONTAINERS);
            for (size_t k = 0; k < p->n_containers; k++) {
                const struct model_container *c = &p->containers[k];
                if (c->type != MODEL_CONTAINER_REGULAR || skipped(skip, c->name) ||
                    (c->name && strncmp(c->name, "azwi-proxy", 10) == 0))
                    continue;
                const char *env = model_container_env(c, "AZURE_CLIENT_ID");
                bool from = false;
                for (size_t e = 0; e < c->n_env; e++)
                    if (str_eq(c->env[e].name, "AZURE_CLIENT_ID") && c->env[e].value_from)
                        from = true;
                if (!from && !str_eq(env, sa_cid)) {
                    v.value = env ? env : "(unset)";
                    v.client_id = sa_cid;
                    finding_add(&x->fl, CHECK_CODE_PROJ_CLIENT_ID_STALE, &v, NULL);
                    v.value = v.client_id = NULL;
                    reported_stale = true;
                }
                break;
            }
        }
        if (proxy && p->host_network && !reported_hostnet) {
            finding_add(&x->fl, CHECK_CODE_PROXY_HOST_NETWORK, &v, NULL);
            reported_hostnet = true;
        }
        if (proxy && cp->status != CHECK_PROJ_NOT_INJECTED && !reported_proxy) {
            const char *missing = !model_pod_container(p, "azwi-proxy-init") ? "azwi-proxy-init"
                                  : !model_pod_container(p, "azwi-proxy")    ? "azwi-proxy"
                                                                             : NULL;
            if (missing) {
                v.container = missing;
                finding_add(&x->fl, CHECK_CODE_PROXY_NOT_INJECTED, &v, NULL);
                v.container = NULL;
                reported_proxy = true;
            }
        }
        v.pod = NULL;
    }
    o->projection.pods_ok = ok;
    o->projection.pods_total = total;
    if (not_inj) {
        v.count = not_inj;
        v.total = total;
        finding_add(&x->fl, CHECK_CODE_PROJ_NOT_INJECTED, &v, NULL);
    }
    if (st == CHECK_PROJ_OK) {
        if (not_inj) {
            st = CHECK_PROJ_NOT_INJECTED;
            detail = xasprintf("%d of %d pods not mutated by the webhook", not_inj, total);
        } else if (partial) {
            st = CHECK_PROJ_PARTIAL;
            detail = xasprintf("%d of %d pods lack the token in some container", partial, total);
        } else if (nospec) {
            st = CHECK_PROJ_UNKNOWN;
            detail = xstrdup("pods fetched without spec");
        } else if (total == 0) {
            st = CHECK_PROJ_UNKNOWN;
            detail = xstrdup("no running pods to inspect");
        } else {
            const char *lay = o->projection.pods[0].layout;
            detail = xasprintf("%d of %d pods have the projected token%s%s", ok, total,
                               lay ? ", layout " : "", lay ? lay : "");
        }
    }
    o->projection.status = st;
    o->projection.detail = detail;
}

/* ---- per workload: pod identity activity ------------------------------------------------- */

/* Whether the NMI logs that could have served this workload's pods were read over the part of
 * the window those pods lived in (a pod asks the NMI of its own node). Without live pods, every
 * NMI log must cover the window (where the workload's pods ran is unknown). why says what lacks. */
static bool activity_evidence(const struct wctx *x, char *why, size_t n)
{
    const struct check_ctx *c = x->c;
    if (c->logs_unavailable) {
        snprintf(why, n, "NMI logs not readable: %s", c->logs_reason ? c->logs_reason : "?");
        return false;
    }
    if (!c->podid_known) {
        snprintf(why, n, "pod identity state unknown: %s", c->podid_why);
        return false;
    }
    if (!c->live)
        return true; /* a snapshot: its NMI requests are all there is */
    /* A request names a pod (or its IP); the pod names its owner: without these lists the
     * workload's requests cannot be told from anyone else's. */
#define OWNER_PODS "pods", "pods-workload-identity", "pods-pod-identity"
    static const char *const owner_deploy[] = {OWNER_PODS, "replicasets", NULL};
    static const char *const owner_cronjob[] = {OWNER_PODS, "jobs", NULL};
    static const char *const owner_other[] = {OWNER_PODS, NULL};
#undef OWNER_PODS
    const char *const *owners = x->w->kind == MODEL_KIND_DEPLOYMENT ? owner_deploy
                                : x->w->kind == MODEL_KIND_CRONJOB  ? owner_cronjob
                                                                    : owner_other;
    char owner_why[256];
    if (c->nmi_present && !evidence_sources(c->s, owners, false, owner_why, sizeof owner_why)) {
        snprintf(why, n, "NMI requests cannot be tied to this workload: %s", owner_why);
        return false;
    }
    if (c->nmi_present && c->n_covs == 0) {
        snprintf(why, n, "no NMI pod log has been read yet");
        return false;
    }
    bool any_live = false;
    for (size_t i = 0; i < x->n_pods; i++) {
        const struct model_pod *p = x->pods[i];
        if (!pod_live(p) || !p->node_name)
            continue;
        any_live = true;
        int64_t from = p->meta.created > c->window_start ? p->meta.created : c->window_start;
        for (size_t k = 0; k < c->n_covs; k++) {
            const struct nmi_cov *cv = &c->covs[k];
            if (!str_eq(cv->node, p->node_name) || evidence_cov_covers(cv, from, c->now))
                continue;
            char gap[256];
            evidence_cov_gap(cv, c->window_start, gap, sizeof gap);
            snprintf(why, n, "NMI log of %s/%s on node %s %s", cv->ns, cv->pod, p->node_name, gap);
            return false;
        }
    }
    if (any_live)
        return true;
    for (size_t k = 0; k < c->n_covs; k++) {
        const struct nmi_cov *cv = &c->covs[k];
        if (evidence_cov_covers(cv, c->window_start, c->now))
            continue;
        char gap[256];
        evidence_cov_gap(cv, c->window_start, gap, sizeof gap);
        snprintf(why, n, "no live pods, and the NMI log of %s/%s %s", cv->ns, cv->pod, gap);
        return false;
    }
    return true;
}

static void wl_activity(struct wctx *x, const char *key)
{
    struct check_workload *o = x->out;
    struct check_ctx *c = x->c;
    bool pi = o->mechanism == CHECK_MECH_PI || o->mechanism == CHECK_MECH_BOTH;
    o->activity.window_seconds = c->window;
    struct fvars v;
    fvars_init(&v, x->w);
    char win[24];
    window_text(c->window, win);
    v.window = win;
    v.value = o->pi_selector;

    /* Live pods a binding selects (a removal blocker). */
    if (pi && (x->pim.binding || x->pim.managed)) {
        for (size_t i = 0; i < x->n_pods; i++) {
            const struct model_pod *p = x->pods[i];
            const char *sel = kv_get(&p->meta.labels, PI_LABEL_BINDING);
            if (pod_live(p) && str_eq(sel, o->pi_selector))
                o->pods_bound++;
        }
    }
    if (pi && !c->nmi_present && c->podid_known) {
        o->activity.status = CHECK_ACT_QUIET;
        o->activity.detail = xstrdup("no NMI runs in the cluster");
        finding_add(&x->fl, CHECK_CODE_PI_NMI_ABSENT, &v, NULL);
        return;
    }
    char why[512];
    bool complete = activity_evidence(x, why, sizeof why);
    struct activity *a = NULL;
    if (!c->logs_unavailable)
        HASH_FIND_STR(c->activity, key, a);
    if (!a || a->requests == 0) {
        /* No request seen proves nothing when a log is missing: for any workload, since NMI
         * intercepts every IMDS call on its node. */
        if (!pi && complete) {
            o->activity.status = CHECK_ACT_NOT_APPLICABLE;
        } else if (complete) {
            o->activity.status = CHECK_ACT_QUIET;
            o->activity.detail = xasprintf("no NMI request in the last %s (NMI logs read for the "
                                           "whole window)",
                                           win);
        } else {
            o->activity.status = CHECK_ACT_UNKNOWN;
            o->activity.detail = xstrdup(why);
        }
        return;
    }
    /* Requests seen are a fact even when some log is missing: the count is then a floor. */
    o->activity.requests = a->requests;
    o->activity.errors = a->errors;
    o->activity.last_seen = a->last_seen;
    o->activity.last_status = a->last_status;
    o->activity.status = a->errors ? CHECK_ACT_ERRORS : CHECK_ACT_ACTIVE;
    o->activity.detail = complete ? xasprintf("%lld NMI requests in the last %s",
                                              (long long)a->requests, win)
                                  : xasprintf("at least %lld NMI requests in the last %s (%s)",
                                              (long long)a->requests, win, why);
    if (a->errors) {
        v.count = (long)a->errors;
        v.total = (long)a->requests;
        v.detail = a->last_error;
        finding_add(&x->fl, CHECK_CODE_PI_REQUEST_ERRORS, &v, a->last_error);
        v.detail = NULL;
    }
    if (o->mechanism == CHECK_MECH_WI || o->mechanism == CHECK_MECH_BOTH) {
        v.count = (long)a->requests;
        v.detail = o->mechanism == CHECK_MECH_BOTH
                       ? ": the app still uses pod identity; do not remove the binding"
                       : " though it uses workload identity (its pods still call IMDS)";
        finding_add(&x->fl, CHECK_CODE_PI_STILL_REQUESTING, &v, NULL);
    }
}

/* May aadpodidbinding go? Only on complete evidence: workload identity verified end to end, and
 * every NMI log that could have served the workload read for the whole window without a request
 * from it. */
static void wl_binding_removable(struct wctx *x)
{
    struct check_workload *o = x->out;
    char win[24];
    window_text(x->c->window, win);
    if (!o->pi_selector) {
        o->binding_removable = -1;
        return;
    }
    o->binding_removable = 0;
    /* The most decisive reason first: an app that still asks NMI needs its binding. */
    if (o->activity.status == CHECK_ACT_ACTIVE || o->activity.status == CHECK_ACT_ERRORS) {
        o->binding_reason = xasprintf("its pods asked NMI for %lld tokens in the last %s",
                                      (long long)o->activity.requests, win);
        return;
    }
    if (o->mechanism == CHECK_MECH_PI) {
        o->binding_reason = xstrdup("workload identity is not set up yet (no "
                                    "azure.workload.identity/use=true on the pod template)");
        return;
    }
    if (o->federation.status != CHECK_FED_OK) {
        o->binding_reason = xasprintf("federation is %s%s%s",
                                      check_federation_name(o->federation.status),
                                      o->federation.detail ? ": " : "",
                                      o->federation.detail ? o->federation.detail : "");
        return;
    }
    if (o->projection.status != CHECK_PROJ_OK) {
        o->binding_reason = xasprintf("token projection is %s%s%s",
                                      check_projection_name(o->projection.status),
                                      o->projection.detail ? ": " : "",
                                      o->projection.detail ? o->projection.detail : "");
        return;
    }
    if (o->activity.status == CHECK_ACT_QUIET) {
        o->binding_removable = 1;
        o->binding_reason = xasprintf("workload identity verified and no NMI request in the "
                                      "last %s",
                                      win);
        return;
    }
    o->binding_reason = xasprintf("NMI activity unknown: %s",
                                  o->activity.detail ? o->activity.detail : "?");
}

/* Migration advice once the other verdicts are known. */
static void wl_migration(struct wctx *x)
{
    struct check_workload *o = x->out;
    struct fvars v;
    fvars_init(&v, x->w);
    v.value = o->pi_selector;
    wl_binding_removable(x);
    if (o->mechanism == CHECK_MECH_PI && x->c->nmi_present && (x->pim.binding || x->pim.managed))
        finding_add(&x->fl, CHECK_CODE_PI_IN_USE, &v, NULL);
    else if (o->mechanism == CHECK_MECH_BOTH && o->binding_removable == 1) {
        char win[24];
        window_text(x->c->window, win);
        char detail[80];
        snprintf(detail, sizeof detail, "no NMI request in the last %s", win);
        v.detail = detail;
        finding_add(&x->fl, CHECK_CODE_PI_LABEL_LEFTOVER, &v, NULL);
    }
}

static void workload_clear(struct check_workload *o)
{
    free(o->namespace_);
    free(o->name);
    free(o->service_account);
    free(o->pi_selector);
    free(o->federation.client_id);
    free(o->federation.identity);
    free(o->federation.credential);
    free(o->federation.detail);
    free(o->projection.detail);
    for (size_t i = 0; i < o->projection.n_pods; i++) {
        free(o->projection.pods[i].name);
        free(o->projection.pods[i].detail);
    }
    free(o->projection.pods);
    free(o->activity.detail);
    free(o->binding_reason);
    for (size_t i = 0; i < o->n_findings; i++)
        finding_free(&o->findings[i]);
    free(o->findings);
    memset(o, 0, sizeof *o);
}

static void check_one(struct check_ctx *c, const struct model_workload *w, const char *key,
                      struct check_workload *o)
{
    struct wctx x = {0};
    x.c = c;
    x.w = w;
    x.out = o;
    o->kind = w->kind;
    o->namespace_ = xstrdup(w->meta.namespace_);
    o->name = xstrdup(w->meta.name);
    o->service_account = xstrdup(w->tmpl.service_account ? w->tmpl.service_account : "default");
    x.sa = store_get_sa(c->s, w->meta.namespace_, o->service_account);
    /* -l matches the workload's own labels (a bare pod's are its pod labels), as kubectl get. */
    o->in_scope = (!c->scope_ns || str_eq(c->scope_ns, w->meta.namespace_)) &&
                  (!c->scope_sel || selector_match(c->scope_sel, &w->meta.labels));
    x.n_pods = store_workload_pods(c->s, w, &x.pods);
    wl_mechanism(&x);
    wl_federation(&x);
    wl_projection(&x);
    wl_activity(&x, key);
    wl_migration(&x);
    o->findings = x.fl.items;
    o->n_findings = x.fl.n;
    for (size_t i = 0; i < o->n_findings; i++) {
        o->n_errors += o->findings[i].severity == CHECK_SEV_ERROR;
        o->n_warnings += o->findings[i].severity == CHECK_SEV_WARNING;
    }
}

/* ---- cluster summary --------------------------------------------------------------------- */

static void findings_copy(struct check_cluster *cl, const struct finding_list *src)
{
    cl->findings = xcalloc(src->n + 2, sizeof *cl->findings);
    for (size_t i = 0; i < src->n; i++) {
        const struct check_finding *f = &src->items[i];
        struct check_finding *d = &cl->findings[cl->n_findings++];
        *d = *f;
        d->message = xstrdup(f->message);
        d->evidence = xstrdup(f->evidence);
        d->remedy = xstrdup(f->remedy);
    }
}

static void add_blocker(struct check_cluster *cl, char *text)
{
    cl->removal.blockers =
        xrealloc(cl->removal.blockers, (cl->removal.n_blockers + 1) * sizeof(char *));
    cl->removal.blockers[cl->removal.n_blockers++] = text;
}

static void cluster_reset(struct check_cluster *cl)
{
    for (size_t i = 0; i < cl->removal.n_blockers; i++)
        free(cl->removal.blockers[i]);
    free(cl->removal.blockers);
    cl->removal.blockers = NULL;
    cl->removal.n_blockers = 0;
    for (size_t i = 0; i < cl->n_findings; i++)
        finding_free(&cl->findings[i]);
    free(cl->findings);
    cl->findings = NULL;
    cl->n_findings = 0;
    for (size_t i = 0; i < cl->n_sources; i++)
        check_source_clear(&cl->sources[i]);
    free(cl->sources);
    cl->sources = NULL;
    cl->n_sources = 0;
    free(cl->scope);
    cl->scope = NULL;
    memset(&cl->migration, 0, sizeof cl->migration);
}

static void summary_sources(struct check_ctx *c, struct check_cluster *cl)
{
    size_t n = store_source_count(c->s);
    cl->sources = n ? xcalloc(n, sizeof *cl->sources) : NULL;
    for (size_t i = 0; i < n; i++)
        check_source_describe(store_source_at(c->s, i), c->now, &cl->sources[cl->n_sources++]);
    if (c->scoped) {
        struct idw_buf b = {0};
        if (c->scope_ns)
            buf_printf(&b, "namespace %s", c->scope_ns);
        if (c->scope_sel && c->scope_sel->n)
            buf_printf(&b, "%sselector %s", b.len ? ", " : "",
                       c->scope_sel_text ? c->scope_sel_text : "(given)");
        cl->scope = b.data;
    }
    char why[16];
    cl->namespace_missing = c->scope_ns && evidence_source(c->s, "namespaces", false, why,
                                                           sizeof why) &&
                            evidence_live(c->s) && !store_get_namespace(c->s, c->scope_ns);
}

/* OIDC issuer and webhook: prerequisites of workload identity, named even before any workload
 * uses it (then as warnings), with the command and the Terraform attribute that enable them. */
static void summary_prereqs(struct check_ctx *c, struct check_cluster *cl, int wi_users,
                            struct finding_list *extra)
{
    struct fvars v;
    fvars_init(&v, NULL);
    v.rg = c->az_rg;
    v.cluster = c->az_cluster;
    v.count = wi_users;
    if (cl->webhook.status == CHECK_WEBHOOK_MISSING)
        finding_add(extra, wi_users ? CHECK_CODE_WEBHOOK_MISSING : CHECK_CODE_WEBHOOK_NOT_INSTALLED,
                    &v, cl->webhook.detail);
    if (cl->oidc.status == CHECK_OIDC_DISABLED) {
        v.detail = cl->oidc.detail ? cl->oidc.detail : "disabled";
        finding_add(extra, wi_users ? CHECK_CODE_OIDC_DISABLED : CHECK_CODE_OIDC_NOT_ENABLED, &v,
                    NULL);
    }
}

/* Azure was wanted and a step failed: the report must not pass (INTERFACE.md exit codes). */
static void summary_azure(struct check_ctx *c, struct finding_list *extra)
{
    const struct model_azure *az = c->az;
    if (!azure_settled(az))
        return;
    struct fvars v;
    fvars_init(&v, NULL);
    if (az->entra.state == MODEL_AZ_ERROR) {
        v.detail = az->entra.error;
        finding_add(extra, CHECK_CODE_AZURE_AUTH_FAILED, &v, NULL);
        return;
    }
    if (az->arm.state == MODEL_AZ_ERROR) {
        v.detail = az->arm.error;
        finding_add(extra, CHECK_CODE_ARM_UNAVAILABLE, &v, NULL);
    }
    if (az->graph.state == MODEL_AZ_ERROR) {
        v.detail = az->graph.error;
        finding_add(extra, CHECK_CODE_GRAPH_UNAVAILABLE, &v, NULL);
    }
    if (az->cluster_not_found) {
        v.detail = az->error;
        finding_add(extra, CHECK_CODE_AKS_CLUSTER_NOT_FOUND, &v, NULL);
    }
}

/* Kubernetes lists that failed or were forbidden, and NMI logs with a gap: what they hide. */
static void summary_evidence(struct check_ctx *c, struct finding_list *extra)
{
    struct fvars v;
    fvars_init(&v, NULL);
    size_t n = store_source_count(c->s);
    for (size_t i = 0; i < n; i++) {
        const struct store_source *src = store_source_at(c->s, i);
        if (strncmp(src->name, "nmi-log ", 8) == 0 || strncmp(src->name, "azure-", 6) == 0 ||
            strcmp(src->name, "oidc-issuer") == 0)
            continue; /* logs below; Azure has its own findings; OIDC its status */
        bool bad = src->state == STORE_SRC_FORBIDDEN || src->partial ||
                   (src->state == STORE_SRC_ERROR && !src->synced_at);
        if (!bad)
            continue;
        v.name = src->name;
        v.detail = src->partial ? src->note : src->error[0] ? src->error : "no detail";
        finding_add(extra, CHECK_CODE_SOURCE_UNREADABLE, &v, NULL);
    }
    char win[24];
    window_text(c->window, win);
    for (size_t i = 0; i < c->n_covs; i++) {
        const struct nmi_cov *cv = &c->covs[i];
        if (evidence_cov_covers(cv, c->window_start, c->now))
            continue;
        const struct store_source *src = NULL;
        char name[160];
        snprintf(name, sizeof name, "nmi-log %s/%s", cv->ns, cv->pod);
        src = store_source_find(c->s, name);
        if (src && (src->state == STORE_SRC_LISTING || src->state == STORE_SRC_IDLE))
            continue; /* being read for the first time: the source says "loading" */
        char gap[256];
        evidence_cov_gap(cv, c->window_start, gap, sizeof gap);
        fvars_init(&v, NULL);
        v.ns = cv->ns;
        v.pod = cv->pod;
        v.value = cv->node ? cv->node : "?";
        v.detail = gap;
        v.window = win;
        finding_add(extra, CHECK_CODE_NMI_LOG_INCOMPLETE, &v, NULL);
    }
}

/* The lists "nothing uses pod identity" rests on: every workload kind, the pods and their
 * owners, and the bindings. Stale data does not count here. */
static const char *const removal_sources[] = {
    "pods", "pods-pod-identity", "deployments", "statefulsets", "daemonsets", "cronjobs",
    "replicasets", "jobs", "azureidentitybindings", NULL};

static void summary_removal(struct check_ctx *c, struct check_cluster *cl, int labelled,
                           int bound_pods)
{
    char win[24];
    window_text(c->window, win);
    if (labelled)
        add_blocker(cl, xasprintf("%d workload%s still labelled aadpodidbinding", labelled,
                                  labelled == 1 ? "" : "s"));
    if (bound_pods)
        add_blocker(cl, xasprintf("%d live pod%s selected by an AzureIdentityBinding", bound_pods,
                                  bound_pods == 1 ? "" : "s"));
    if (c->nmi_present && c->logs_unavailable)
        add_blocker(cl, xasprintf("NMI token activity unknown: %s",
                                  c->logs_reason ? c->logs_reason : "NMI logs not readable"));
    else if (c->nmi_blocking)
        add_blocker(cl,
                    xasprintf("NMI served %lld token request%s in the last %s",
                              (long long)c->nmi_blocking, c->nmi_blocking == 1 ? "" : "s", win));
    if (c->scoped)
        add_blocker(cl, xasprintf("the view is scoped (%s): the verdict needs every namespace; "
                                  "run without -n/-l",
                                  cl->scope ? cl->scope : "?"));
    if (!c->podid_known)
        add_blocker(cl, xasprintf("pod identity state unknown: %s", c->podid_why));
    char why[320];
    for (size_t i = 0; removal_sources[i]; i++)
        if (!evidence_source(c->s, removal_sources[i], true, why, sizeof why))
            add_blocker(cl, xasprintf("incomplete evidence: %s", why));
    size_t gaps = 0;
    for (size_t i = 0; i < c->n_covs; i++) {
        const struct nmi_cov *cv = &c->covs[i];
        if (evidence_cov_covers(cv, c->window_start, c->now))
            continue;
        if (++gaps > 3)
            continue;
        char gap[256];
        evidence_cov_gap(cv, c->window_start, gap, sizeof gap);
        add_blocker(cl, xasprintf("NMI log of %s/%s %s", cv->ns, cv->pod, gap));
    }
    if (gaps > 3)
        add_blocker(cl, xasprintf("%zu more NMI logs are incomplete for the last %s", gaps - 3,
                                  win));
    cl->removal.safe = cl->removal.n_blockers == 0;
}

static void cluster_summary(struct check_ctx *c, struct check_result *r)
{
    struct check_cluster *cl = &r->cluster;
    cluster_reset(cl);
    int labelled = 0, bound_pods = 0, wi_users = 0;
    for (size_t i = 0; i < r->n_workloads; i++) {
        const struct check_workload *o = &r->workloads[i];
        /* Removal and prerequisites are cluster-wide; the migration counts follow the scope. */
        if (o->pi_selector)
            labelled++;
        bound_pods += o->pods_bound;
        wi_users += o->mechanism == CHECK_MECH_WI || o->mechanism == CHECK_MECH_BOTH;
        if (!o->in_scope)
            continue;
        cl->migration.total++;
        switch (o->mechanism) {
        case CHECK_MECH_WI: cl->migration.workload_identity++; break;
        case CHECK_MECH_PI: cl->migration.pod_identity++; break;
        case CHECK_MECH_BOTH: cl->migration.both++; break;
        default: cl->migration.none++; break;
        }
    }
    int denom = cl->migration.workload_identity + cl->migration.pod_identity + cl->migration.both;
    cl->migration.percent_migrated =
        denom ? round(1000.0 * cl->migration.workload_identity / denom) / 10.0 : 0.0;
    summary_sources(c, cl);

    findings_copy(cl, &c->cluster_findings);
    struct finding_list extra = {0};
    summary_prereqs(c, cl, wi_users, &extra);
    summary_azure(c, &extra);
    summary_evidence(c, &extra);
    summary_removal(c, cl, labelled, bound_pods);
    cl->nmi_requests = c->nmi_requests;
    cl->nmi_unattributed = c->nmi_unattributed;
    if (cl->removal.safe && (c->nmi_present || c->mic_present)) {
        struct fvars v;
        fvars_init(&v, NULL);
        v.detail = c->managed_mode ? "az aks update -g <resource-group> -n <cluster> "
                                     "--disable-pod-identity"
                                   : "helm uninstall aad-pod-identity   # or delete the nmi "
                                     "DaemonSet, the mic Deployment and the CRDs";
        finding_add(&extra, CHECK_CODE_PODID_REMOVAL_SAFE, &v, NULL);
    }
    if (extra.n) {
        cl->findings = xrealloc(cl->findings, (cl->n_findings + extra.n) * sizeof *cl->findings);
        memcpy(cl->findings + cl->n_findings, extra.items, extra.n * sizeof *extra.items);
        cl->n_findings += extra.n;
    }
    free(extra.items);
    cl->n_errors = cl->n_warnings = 0;
    for (size_t i = 0; i < cl->n_findings; i++) {
        cl->n_errors += cl->findings[i].severity == CHECK_SEV_ERROR;
        cl->n_warnings += cl->findings[i].severity == CHECK_SEV_WARNING;
    }
}

/* ---- public API -------------------------------------------------------------------------- */

struct check_result *check_new(void)
{
    struct check_result *r = xcalloc(1, sizeof *r);
    r->state_ = xcalloc(1, sizeof *r->state_);
    return r;
}

static void index_clear(struct check_state *st)
{
    struct windex *e, *t;
    HASH_ITER(hh, st->index, e, t)
    {
        HASH_DEL(st->index, e);
        free(e);
    }
}

void check_free(struct check_result *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n_workloads; i++)
        workload_clear(&r->workloads[i]);
    free(r->workloads);
    cluster_clear(&r->cluster);
    if (r->state_) {
        ctx_free(&r->state_->ctx);
        index_clear(r->state_);
        free(r->state_);
    }
    free(r);
}

void check_run(struct check_result *r, const struct store *s, const struct check_options *opt)
{
    int64_t t0 = time_now_ms();
    struct check_state *st = r->state_;
    for (size_t i = 0; i < r->n_workloads; i++)
        workload_clear(&r->workloads[i]);
    cluster_clear(&r->cluster);
    ctx_free(&st->ctx);
    index_clear(st);
    ctx_build(&st->ctx, &r->cluster, s, opt);
    st->have_ctx = true;

    size_t n = store_workload_count(s);
    r->workloads = xrealloc(r->workloads, (n ? n : 1) * sizeof *r->workloads);
    memset(r->workloads, 0, (n ? n : 1) * sizeof *r->workloads);
    r->n_workloads = 0;
    for (size_t i = 0; i < n; i++) {
        const struct model_workload *w = store_workload_at(s, i);
        char *key = wkey(w->kind, w->meta.namespace_, w->meta.name);
        struct windex *e;
        HASH_FIND_STR(st->index, key, e);
        if (e) { /* a duplicate key would be a store bug; keep the first */
            free(key);
            continue;
        }
        check_one(&st->ctx, w, key, &r->workloads[r->n_workloads]);
        e = windex_new(key, r->n_workloads++);
        free(key);
        HASH_ADD_KEYPTR(hh, st->index, e->key, strlen(e->key), e);
    }
    cluster_summary(&st->ctx, r);
    r->version++;
    r->last_run_ms = time_now_ms() - t0;
}

static void remove_at(struct check_result *r, size_t idx)
{
    struct check_state *st = r->state_;
    workload_clear(&r->workloads[idx]);
    memmove(&r->workloads[idx], &r->workloads[idx + 1],
            (r->n_workloads - idx - 1) * sizeof *r->workloads);
    r->n_workloads--;
    struct windex *e, *t;
    HASH_ITER(hh, st->index, e, t)
    {
        if (e->idx == idx) {
            HASH_DEL(st->index, e);
            free(e);
        } else if (e->idx > idx) {
            e->idx--;
        }
    }
}

void check_update(struct check_result *r, const struct store *s,
                  const struct model_workload *const *dirty, size_t n_dirty, bool all,
                  const struct check_options *opt)
{
    struct check_state *st = r->state_;
    if (all || !st->have_ctx) {
        check_run(r, s, opt);
        return;
    }
    for (size_t i = 0; i < n_dirty; i++) /* NMI/MIC/webhook changes move cluster verdicts */
        if (dirty[i] &&
            (is_infra(&st->ctx, dirty[i]) || is_nmi_workload(dirty[i]) ||
             is_mic_workload(dirty[i]) || str_eq(dirty[i]->meta.name, WI_WEBHOOK_DEPLOYMENT))) {
            check_run(r, s, opt);
            return;
        }
    int64_t t0 = time_now_ms();
    st->ctx.s = s;
    if (opt && opt->now)
        st->ctx.now = opt->now;
    for (size_t i = 0; i < n_dirty; i++) {
        const struct model_workload *w = dirty[i];
        if (!w)
            continue;
        char *key = wkey(w->kind, w->meta.namespace_, w->meta.name);
        struct windex *e;
        HASH_FIND_STR(st->index, key, e);
        if (e) {
            workload_clear(&r->workloads[e->idx]);
            check_one(&st->ctx, w, key, &r->workloads[e->idx]);
            free(key);
            continue;
        }
        r->workloads = xrealloc(r->workloads, (r->n_workloads + 1) * sizeof *r->workloads);
        memset(&r->workloads[r->n_workloads], 0, sizeof *r->workloads);
        check_one(&st->ctx, w, key, &r->workloads[r->n_workloads]);
        e = windex_new(key, r->n_workloads++);
        free(key);
        HASH_ADD_KEYPTR(hh, st->index, e->key, strlen(e->key), e);
    }
    /* Deleted workloads: only look when the counts disagree. */
    size_t n = store_workload_count(s);
    if (n != r->n_workloads) {
        struct windex *e, *t;
        HASH_ITER(hh, st->index, e, t) e->seen = false;
        for (size_t i = 0; i < n; i++) {
            const struct model_workload *w = store_workload_at(s, i);
            char *key = wkey(w->kind, w->meta.namespace_, w->meta.name);
            HASH_FIND_STR(st->index, key, e);
            if (e)
                e->seen = true;
            free(key);
        }
        for (size_t i = r->n_workloads; i-- > 0;) {
            char *key =
                wkey(r->workloads[i].kind, r->workloads[i].namespace_, r->workloads[i].name);
            HASH_FIND_STR(st->index, key, e);
            free(key);
            if (e && !e->seen)
                remove_at(r, i);
        }
    }
    cluster_summary(&st->ctx, r);
    r->version++;
    r->last_run_ms = time_now_ms() - t0;
}

static bool activity_same(const struct activity *a, const struct activity *b)
{
    if (!a || !b)
        return (!a || !a->requests) && (!b || !b->requests);
    return a->requests == b->requests && a->errors == b->errors &&
           a->last_seen == b->last_seen && a->last_status == b->last_status;
}

void check_update_activity(struct check_result *r, const struct store *s,
                           const struct check_options *opt)
{
    struct check_state *st = r->state_;
    if (!st->have_ctx || (opt && opt->nmi_logs_unavailable != st->ctx.logs_unavailable)) {
        check_run(r, s, opt);
        return;
    }
    int64_t t0 = time_now_ms();
    struct check_ctx *c = &st->ctx;
    c->s = s;
    c->now = opt && opt->now ? opt->now : time_now();
    c->window_start = c->now - c->window;
    struct activity *old = c->activity;
    c->activity = NULL;
    c->nmi_requests = c->nmi_unattributed = c->nmi_blocking = 0;
    activity_build(c);
    for (size_t i = 0; i < r->n_workloads; i++) {
        struct check_workload *o = &r->workloads[i];
        char *key = wkey(o->kind, o->namespace_, o->name);
        struct activity *a = NULL, *b = NULL;
        HASH_FIND_STR(old, key, a);
        HASH_FIND_STR(c->activity, key, b);
        const struct model_workload *w = activity_same(a, b)
                                             ? NULL
                                             : store_get_workload(s, o->kind, o->namespace_,
                                                                  o->name);
        if (w) { /* only the workloads whose requests moved are checked again */
            workload_clear(o);
            check_one(c, w, key, o);
        }
        free(key);
    }
    activity_free(old);
    cluster_summary(c, r);
    r->version++;
    r->last_run_ms = time_now_ms() - t0;
}

const struct check_workload *check_find(const struct check_result *r, enum model_workload_kind k,
                                        const char *ns, const char *name)
{
    if (!r || !r->state_)
        return NULL;
    char *key = wkey(k, ns, name);
    struct windex *e;
    HASH_FIND_STR(r->state_->index, key, e);
    free(key);
    return e ? &r->workloads[e->idx] : NULL;
}

size_t check_error_count(const struct check_result *r)
{
    if (!r)
        return 0;
    size_t n = (size_t)r->cluster.n_errors;
    for (size_t i = 0; i < r->n_workloads; i++)
        if (r->workloads[i].in_scope)
            n += (size_t)r->workloads[i].n_errors;
    return n;
}
