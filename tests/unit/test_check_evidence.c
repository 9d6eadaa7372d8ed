/* Verdicts rest on evidence: scope is a view (verdicts identical scoped or not), a source that is
 * forbidden/failed/stale makes what depends on it unknown (never absent/quiet/safe), NMI log
 * coverage decides "quiet", "binding removable" and "safe to remove" need complete evidence,
 * Azure failures are error findings, and the prerequisites are named with their remedies. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

#include <cmocka.h>

#include "test_check_fixture.h"

#define NODE_A "aks-nodepool1-0"
#define NODE_B "aks-nodepool1-1"
#define NMI_NS "kube-system"

static struct check_result *run(struct store *s, const struct check_options *o)
{
    struct check_result *r = check_new();
    struct check_options def = {.now = T_NOW, .window_seconds = 3600};
    check_run(r, s, o ? o : &def);
    return r;
}

static bool cluster_has(const struct check_result *r, enum check_code c)
{
    return tf_has_code(r->cluster.findings, r->cluster.n_findings, c);
}

static const struct check_workload *wl(const struct check_result *r, const char *ns,
                                       const char *name)
{
    for (size_t i = 0; i < r->n_workloads; i++)
        if (str_eq(r->workloads[i].namespace_, ns) && str_eq(r->workloads[i].name, name))
            return &r->workloads[i];
    fail_msg("no workload %s/%s", ns, name);
    return NULL;
}

static bool blockers_mention(const struct check_result *r, const char *text)
{
    for (size_t i = 0; i < r->cluster.removal.n_blockers; i++)
        if (strstr(r->cluster.removal.blockers[i], text))
            return true;
    return false;
}

/* Every Kubernetes list source of a live store, synced (a live store is judged by its sources;
 * a store without any is a snapshot). */
static const char *const list_sources[] = {
    "namespaces",        "serviceaccounts",       "deployments",           "statefulsets",
    "daemonsets",        "cronjobs",              "replicasets",           "jobs",
    "mutatingwebhookconfigurations", "azureidentities", "azureidentitybindings",
    "azureassignedidentities", "azurepodidentityexceptions", "pods", "pods-workload-identity",
    "pods-pod-identity", "pods-nmi", "pods-nmi-helm", NULL};

static void live_sources(struct store *s)
{
    for (size_t i = 0; list_sources[i]; i++) {
        struct store_source *src = store_source(s, list_sources[i]);
        src->state = STORE_SRC_SYNCED;
        src->synced_at = src->last_success = T_NOW - 10;
    }
}

static void set_source(struct store *s, const char *name, enum store_source_state st,
                       const char *error)
{
    struct store_source *src = store_source(s, name);
    src->state = st;
    snprintf(src->error, sizeof src->error, "%s", error ? error : "");
    store_source_changed(s);
}

static struct model_pod *nmi_pod(struct store *s, const char *name, const char *node)
{
    struct model_workload *ds = (struct model_workload *)store_get_workload(
        s, MODEL_KIND_DAEMONSET, NMI_NS, "nmi");
    if (!ds) {
        ds = tf_workload(MODEL_KIND_DAEMONSET, NMI_NS, "nmi", NULL);
        tf_kv(&ds->tmpl.labels, "component=nmi", NULL);
        ds->replicas_desired = ds->replicas_ready = ds->replicas_available = 2;
        store_put_workload(s, ds);
    }
    struct model_pod *p = tf_pod(NULL, NMI_NS, name);
    tf_owner(&p->meta, "DaemonSet", "nmi", "uid-" NMI_NS "-nmi-2");
    tf_kv(&p->meta.labels, "component=nmi", NULL);
    free(p->node_name);
    p->node_name = xstrdup(node);
    p->meta.created = T_NOW - 2 * 86400;
    store_put_pod(s, p);
    return p;
}

/* The log source of an NMI pod, covering [from, to] (to = 0: a live stream, up to now). */
static struct store_source *nmi_log(struct store *s, const char *pod, enum store_source_state st,
                                    int64_t from, int64_t to, const char *error)
{
    char name[128];
    snprintf(name, sizeof name, "nmi-log " NMI_NS "/%s", pod);
    struct store_source *src = store_source(s, name);
    src->state = st;
    src->covered_from = from;
    src->covered_to = to;
    snprintf(src->error, sizeof src->error, "%s", error ? error : "");
    store_source_changed(s);
    return src;
}

/* A Deployment with one pod on `node`; labels on its pod template ("k=v,k=v" or NULL), its own
 * metadata labels (for -l). */
static struct model_workload *app(struct store *s, const char *ns, const char *name,
                                  const char *tmpl_labels, const char *own_labels, const char *node)
{
    struct model_workload *d = tf_workload(MODEL_KIND_DEPLOYMENT, ns, name, name);
    char buf[256];
    if (tmpl_labels) {
        snprintf(buf, sizeof buf, "%s", tmpl_labels);
        for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save))
            tf_kv(&d->tmpl.labels, t, NULL);
    }
    if (own_labels) {
        snprintf(buf, sizeof buf, "%s", own_labels);
        for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save))
            tf_kv(&d->meta.labels, t, NULL);
    }
    store_put_workload(s, d);
    tf_rs(s, d);
    char pn[128];
    snprintf(pn, sizeof pn, "%s-7c9d8f6b5b-abcde", name);
    struct model_pod *p = tf_pod(d, ns, pn);
    free(p->node_name);
    p->node_name = xstrdup(node);
    char ip[32];
    snprintf(ip, sizeof ip, "10.244.%d.%d", node[strlen(node) - 1] - '0', (int)(strlen(name) % 200));
    p->pod_ip = xstrdup(ip);
    if (kv_get(&d->tmpl.labels, WI_LABEL_USE)) {
        struct model_container *c = tf_container(p, MODEL_CONTAINER_REGULAR, "app");
        tf_inject16(p, c, true);
    } else {
        tf_container(p, MODEL_CONTAINER_REGULAR, "app");
    }
    store_put_pod(s, p);
    struct model_service_account *sa = tf_sa(ns, name);
    kv_set(&sa->meta.annotations, WI_ANN_CLIENT_ID, T_CID);
    store_put_sa(s, sa);
    return d;
}

static void binding(struct store *s, const char *ns, const char *sel)
{
    struct model_azure_identity *id = xcalloc(1, sizeof *id);
    id->meta.namespace_ = xstrdup(ns);
    id->meta.name = xasprintf("%s-id", sel);
    id->client_id = xstrdup(T_CID);
    store_put_azid(s, id);
    struct model_azure_identity_binding *b = xcalloc(1, sizeof *b);
    b->meta.namespace_ = xstrdup(ns);
    b->meta.name = xasprintf("%s-binding", sel);
    b->identity = xasprintf("%s-id", sel);
    b->selector = xstrdup(sel);
    store_put_azbinding(s, b);
}

static void nmi_req(struct store *s, int64_t t, const char *ns, const char *pod, int status)
{
    struct model_nmi_request *r = xcalloc(1, sizeof *r);
    r->time = t;
    r->status = status;
    r->pod_namespace = xstrdup(ns);
    r->pod_name = xstrdup(pod);
    r->path = xstrdup("/metadata/identity/oauth2/token");
    store_add_nmi_request(s, r);
}

/* Azure with every federated credential the apps of `ns_names` need ("ns/sa", NULL-ended). */
static void azure_ok(struct store *s, const char *const *ns_sa)
{
    size_t n = 0;
    while (ns_sa[n])
        n++;
    struct model_fic *f = xcalloc(n + 1, sizeof *f);
    for (size_t i = 0; i < n; i++) {
        char subj[200], name[64];
        const char *slash = strchr(ns_sa[i], '/');
        snprintf(subj, sizeof subj, "system:serviceaccount:%.*s:%s", (int)(slash - ns_sa[i]),
                 ns_sa[i], slash + 1);
        snprintf(name, sizeof name, "fic-%zu", i);
        f[i] = tf_fic(name, T_ISSUER, subj, WI_AUDIENCE);
    }
    tf_azure(s, f, n);
    struct model_azure *az = (struct model_azure *)store_azure(s);
    az->fetched = T_NOW - 5;
    az->entra.state = az->arm.state = MODEL_AZ_OK;
}

/* A live cluster in the middle of a migration: NMI on two nodes (in kube-system), the webhook,
 * Azure, and apps in three namespaces, one of which (legacy) still asks NMI for tokens. */
static struct store *cluster(void)
{
    struct store *s = store_new();
    store_set_time(s, T_NOW);
    live_sources(s);
    tf_webhook(s, "kube-system", 2);
    nmi_pod(s, "nmi-aaaaa", NODE_A);
    nmi_pod(s, "nmi-bbbbb", NODE_B);
    nmi_log(s, "nmi-aaaaa", STORE_SRC_SYNCED, T_NOW - 3 * 3600, T_NOW, NULL);
    nmi_log(s, "nmi-bbbbb", STORE_SRC_SYNCED, T_NOW - 3 * 3600, T_NOW, NULL);
    binding(s, "legacy", "legacy-id");
    binding(s, "shop", "shop-id");
    app(s, "legacy", "billing", "aadpodidbinding=legacy-id", "team=fin", NODE_A);
    app(s, "legacy", "reports", "aadpodidbinding=legacy-id", "team=bi", NODE_B);
    app(s, "shop", "cart", WI_LABEL_USE "=true,aadpodidbinding=shop-id", "team=web", NODE_A);
    app(s, "shop", "search", WI_LABEL_USE "=true,aadpodidbinding=shop-id", "team=web", NODE_B);
    app(s, "shop", "api", WI_LABEL_USE "=true", "team=web", NODE_B);
    app(s, "batch", "etl", NULL, "team=bi", NODE_A);
    static const char *const fics[] = {"shop/cart", "shop/search", "shop/api", NULL};
    azure_ok(s, fics);
    for (int i = 0; i < 5; i++) {
        nmi_req(s, T_NOW - 600 - i * 60, "legacy", "billing-7c9d8f6b5b-abcde", 200);
        nmi_req(s, T_NOW - 900 - i * 60, "shop", "cart-7c9d8f6b5b-abcde", 200);
    }
    return s;
}

/* ---- tests ----------------------------------------------------------------------------------- */

static void test_source_describe(void **state)
{
    (void)state;
    struct store_source src = {0};
    struct check_source out;
    snprintf(src.name, sizeof src.name, "pods");
    src.state = STORE_SRC_LISTING;
    src.count = 500;
    src.total_hint = 2000;
    check_source_describe(&src, T_NOW, &out);
    assert_int_equal(out.state, CHECK_SRC_LOADING);
    assert_string_equal(out.detail, "500 of 2000");
    assert_int_equal(out.age_seconds, -1);
    check_source_clear(&out);

    src.state = STORE_SRC_ERROR;
    snprintf(src.error, sizeof src.error, "HTTP 503");
    src.last_success = T_NOW - 30;
    check_source_describe(&src, T_NOW, &out);
    assert_int_equal(out.state, CHECK_SRC_FAILED); /* never listed completely */
    assert_int_equal(out.age_seconds, 30);
    check_source_clear(&out);
    src.synced_at = T_NOW - 40;
    check_source_describe(&src, T_NOW, &out);
    assert_int_equal(out.state, CHECK_SRC_STALE); /* listed once: what it holds is stale */
    assert_string_equal(out.detail, "HTTP 503");
    check_source_clear(&out);

    src.state = STORE_SRC_SYNCED;
    src.partial = true;
    snprintf(src.note, sizeof src.note, "namespace legacy only: 403 Forbidden");
    check_source_describe(&src, T_NOW, &out);
    assert_int_equal(out.state, CHECK_SRC_FORBIDDEN); /* a partial list is not "ok" */
    check_source_clear(&out);

    src.partial = false;
    src.state = STORE_SRC_SKIPPED;
    snprintf(src.note, sizeof src.note, "--no-azure");
    check_source_describe(&src, T_NOW, &out);
    assert_int_equal(out.state, CHECK_SRC_SKIPPED);
    assert_string_equal(check_source_state_name(out.state), "skipped");
    check_source_clear(&out);
}

/* A workload's verdicts are the same whether it is seen scoped (-n, -l) or not. */
static void assert_same(const struct check_workload *a, const struct check_workload *b)
{
    assert_int_equal(a->mechanism, b->mechanism);
    assert_int_equal(a->federation.status, b->federation.status);
    assert_int_equal(a->projection.status, b->projection.status);
    assert_int_equal(a->activity.status, b->activity.status);
    assert_int_equal(a->activity.requests, b->activity.requests);
    assert_int_equal(a->binding_removable, b->binding_removable);
    assert_int_equal(a->n_findings, b->n_findings);
    for (size_t i = 0; i < a->n_findings; i++) {
        assert_int_equal(a->findings[i].code, b->findings[i].code);
        assert_string_equal(a->findings[i].message, b->findings[i].message);
    }
}

static void test_scope_is_a_view(void **state)
{
    (void)state;
    struct store *s = cluster();
    struct check_result *all = run(s, NULL);
    assert_false(all->cluster.scope);
    const char *const nss[] = {"legacy", "shop", "batch", NMI_NS, "doesnotexist"};
    size_t compared = 0;
    for (size_t k = 0; k < sizeof nss / sizeof *nss; k++) {
        struct check_options o = {.now = T_NOW, .window_seconds = 3600, .scope_namespace = nss[k]};
        struct check_result *r = run(s, &o);
        int listed = 0;
        for (size_t i = 0; i < r->n_workloads; i++) {
            const struct check_workload *w = &r->workloads[i];
            assert_int_equal(w->in_scope, str_eq(w->namespace_, nss[k]));
            listed += w->in_scope;
            assert_same(w, wl(all, w->namespace_, w->name));
            compared++;
        }
        assert_int_equal(r->cluster.migration.total, listed);
        assert_false(r->cluster.removal.safe);
        assert_true(blockers_mention(r, "scoped"));
        /* cluster facts do not shrink with the scope */
        assert_int_equal(r->cluster.pod_identity.status, all->cluster.pod_identity.status);
        assert_int_equal(r->cluster.webhook.status, all->cluster.webhook.status);
        check_free(r);
    }
    struct selector sel;
    struct idw_err err;
    assert_int_equal(selector_parse("team in (web,bi)", &sel, &err), 0);
    struct check_options o = {.now = T_NOW, .window_seconds = 3600, .scope_selector = &sel,
                              .scope_selector_text = "team in (web,bi)"};
    struct check_result *r = run(s, &o);
    int listed = 0;
    for (size_t i = 0; i < r->n_workloads; i++) {
        listed += r->workloads[i].in_scope;
        assert_same(&r->workloads[i], wl(all, r->workloads[i].namespace_, r->workloads[i].name));
    }
    assert_int_equal(listed, 5); /* reports, cart, search, api, etl */
    assert_false(wl(r, "legacy", "billing")->in_scope);
    assert_string_equal(r->cluster.scope, "selector team in (web,bi)");
    check_free(r);
    selector_free(&sel);
    assert_true(compared > 30);
    check_free(all);
    store_free(s);
}

static void test_namespace_missing(void **state)
{
    (void)state;
    struct store *s = cluster();
    struct model_namespace *ns = xcalloc(1, sizeof *ns);
    ns->meta.name = xstrdup("legacy");
    store_put_namespace(s, ns);
    struct check_options o = {.now = T_NOW, .window_seconds = 3600, .scope_namespace = "nope"};
    struct check_result *r = run(s, &o);
    assert_true(r->cluster.namespace_missing);
    assert_int_equal(r->cluster.migration.total, 0);
    check_free(r);
    o.scope_namespace = "legacy";
    r = run(s, &o);
    assert_false(r->cluster.namespace_missing);
    check_free(r);
    /* the namespace list itself is forbidden: it cannot be said to be missing */
    set_source(s, "namespaces", STORE_SRC_FORBIDDEN, "403 Forbidden");
    o.scope_namespace = "nope";
    r = run(s, &o);
    assert_false(r->cluster.namespace_missing);
    check_free(r);
    store_free(s);
}

static void test_happy_path_evidence(void **state)
{
    (void)state;
    struct store *s = cluster();
    struct check_result *r = run(s, NULL);
    const struct check_workload *billing = wl(r, "legacy", "billing");
    const struct check_workload *reports = wl(r, "legacy", "reports");
    const struct check_workload *cart = wl(r, "shop", "cart");
    const struct check_workload *search = wl(r, "shop", "search");
    assert_int_equal(billing->activity.status, CHECK_ACT_ACTIVE);
    assert_int_equal(billing->binding_removable, 0);
    assert_int_equal(reports->activity.status, CHECK_ACT_QUIET); /* complete logs, no request */
    assert_non_null(strstr(reports->activity.detail, "whole window"));
    /* BOTH and still asking NMI: a warning, never "remove it" */
    assert_int_equal(cart->mechanism, CHECK_MECH_BOTH);
    assert_int_equal(cart->federation.status, CHECK_FED_OK);
    assert_int_equal(cart->projection.status, CHECK_PROJ_OK);
    assert_int_equal(cart->activity.status, CHECK_ACT_ACTIVE);
    const struct check_finding *f = tf_get_code(cart, CHECK_CODE_PI_STILL_REQUESTING);
    assert_non_null(f);
    assert_int_equal(f->severity, CHECK_SEV_WARNING);
    assert_non_null(strstr(f->message, "do not remove the binding"));
    assert_null(tf_get_code(cart, CHECK_CODE_PI_LABEL_LEFTOVER));
    assert_int_equal(cart->binding_removable, 0);
    assert_non_null(strstr(cart->binding_reason, "asked NMI for 5 tokens"));
    /* BOTH, verified and quiet for the whole window: the binding may go */
    assert_int_equal(search->binding_removable, 1);
    assert_non_null(tf_get_code(search, CHECK_CODE_PI_LABEL_LEFTOVER));
    assert_int_equal(wl(r, "shop", "api")->binding_removable, -1);
    assert_false(r->cluster.removal.safe);
    assert_false(cluster_has(r, CHECK_CODE_SOURCE_UNREADABLE));
    assert_false(cluster_has(r, CHECK_CODE_NMI_LOG_INCOMPLETE));
    check_free(r);
    store_free(s);
}

static void test_log_coverage(void **state)
{
    (void)state;
    struct store *s = cluster();
    /* node B's NMI was restarted 20 minutes ago: what it served before is not readable */
    nmi_log(s, "nmi-bbbbb", STORE_SRC_SYNCED, T_NOW - 1200, T_NOW, NULL);
    struct check_result *r = run(s, NULL);
    const struct check_workload *reports = wl(r, "legacy", "reports"); /* on node B */
    assert_int_equal(reports->activity.status, CHECK_ACT_UNKNOWN);
    assert_non_null(strstr(reports->activity.detail, "nmi-bbbbb"));
    const struct check_workload *search = wl(r, "shop", "search"); /* BOTH, on node B */
    assert_int_equal(search->activity.status, CHECK_ACT_UNKNOWN);
    assert_int_equal(search->binding_removable, 0);
    assert_null(tf_get_code(search, CHECK_CODE_PI_LABEL_LEFTOVER));
    /* node A is unaffected */
    assert_int_equal(wl(r, "legacy", "billing")->activity.status, CHECK_ACT_ACTIVE);
    assert_true(cluster_has(r, CHECK_CODE_NMI_LOG_INCOMPLETE));
    assert_true(blockers_mention(r, "nmi-bbbbb"));
    check_free(r);

    /* a stream that stalled 10 minutes ago: activity since then is unknown */
    nmi_log(s, "nmi-bbbbb", STORE_SRC_STALE, T_NOW - 3 * 3600, T_NOW - 600,
            "no line for 10m: resuming the stream");
    r = run(s, NULL);
    reports = wl(r, "legacy", "reports");
    assert_int_equal(reports->activity.status, CHECK_ACT_UNKNOWN);
    assert_non_null(strstr(reports->activity.detail, "stale"));
    check_free(r);

    /* one NMI pod's log is forbidden: its node's workloads are unknown, never quiet */
    nmi_log(s, "nmi-bbbbb", STORE_SRC_FORBIDDEN, 0, 0, "403 Forbidden: pods/log");
    r = run(s, NULL);
    assert_int_equal(wl(r, "legacy", "reports")->activity.status, CHECK_ACT_UNKNOWN);
    assert_int_equal(wl(r, "legacy", "billing")->activity.status, CHECK_ACT_ACTIVE);
    assert_false(r->cluster.removal.safe);
    check_free(r);

    /* resumed and complete again */
    nmi_log(s, "nmi-bbbbb", STORE_SRC_SYNCED, T_NOW - 3 * 3600, T_NOW, NULL);
    r = run(s, NULL);
    assert_int_equal(wl(r, "legacy", "reports")->activity.status, CHECK_ACT_QUIET);
    assert_int_equal(wl(r, "shop", "search")->binding_removable, 1);
    check_free(r);
    store_free(s);
}

static void test_forbidden_lists(void **state)
{
    (void)state;
    /* No NMI in the store, but the lists that would show it are forbidden: unknown, not absent */
    struct store *s = store_new();
    store_set_time(s, T_NOW);
    live_sources(s);
    set_source(s, "daemonsets", STORE_SRC_FORBIDDEN, "403 daemonsets.apps is forbidden");
    set_source(s, "pods-nmi", STORE_SRC_FORBIDDEN, "403 pods is forbidden");
    binding(s, "legacy", "legacy-id");
    app(s, "legacy", "billing", "aadpodidbinding=legacy-id", NULL, NODE_A);
    struct check_result *r = run(s, NULL);
    assert_int_equal(r->cluster.pod_identity.status, CHECK_PODID_UNKNOWN);
    assert_non_null(strstr(r->cluster.pod_identity.detail, "forbidden"));
    const struct check_workload *b = wl(r, "legacy", "billing");
    assert_int_equal(b->activity.status, CHECK_ACT_UNKNOWN);
    assert_null(tf_get_code(b, CHECK_CODE_PI_NMI_ABSENT)); /* never "no NMI runs" */
    assert_true(cluster_has(r, CHECK_CODE_SOURCE_UNREADABLE));
    assert_false(r->cluster.removal.safe);
    assert_true(blockers_mention(r, "pod identity state unknown"));
    check_free(r);

    /* the bindings cannot be read: no "matches no binding" verdict */
    set_source(s, "daemonsets", STORE_SRC_SYNCED, NULL);
    set_source(s, "pods-nmi", STORE_SRC_SYNCED, NULL);
    set_source(s, "azureidentitybindings", STORE_SRC_FORBIDDEN, "403 forbidden");
    app(s, "legacy", "orphan", "aadpodidbinding=nobody", NULL, NODE_A);
    r = run(s, NULL);
    assert_null(tf_get_code(wl(r, "legacy", "orphan"), CHECK_CODE_PI_NO_BINDING));
    check_free(r);
    set_source(s, "azureidentitybindings", STORE_SRC_SYNCED, NULL);
    r = run(s, NULL);
    assert_non_null(tf_get_code(wl(r, "legacy", "orphan"), CHECK_CODE_PI_NO_BINDING));
    /* with complete lists and no NMI anywhere: absent, and the label does nothing */
    assert_int_equal(r->cluster.pod_identity.status, CHECK_PODID_ABSENT);
    assert_non_null(tf_get_code(wl(r, "legacy", "billing"), CHECK_CODE_PI_NMI_ABSENT));
    check_free(r);

    /* a namespace-only fallback (RBAC) is partial: not evidence for cluster facts */
    struct store_source *pods = store_source(s, "pods-nmi");
    pods->partial = true;
    snprintf(pods->note, sizeof pods->note, "namespace legacy only: 403");
    store_source_changed(s);
    r = run(s, NULL);
    assert_int_equal(r->cluster.pod_identity.status, CHECK_PODID_UNKNOWN);
    check_free(r);
    store_free(s);
}

/* What tests/integration/rbac_contract.sh found with one rule of the ClusterRole missing: a
 * verdict must then be unknown, never another confident one. */
static void test_owner_lists_and_unseen_mic(void **state)
{
    (void)state;
    struct store *s = cluster();
    /* ReplicaSets unreadable: a Deployment's pods (and so its NMI requests) are not known to be
     * its own, so no request seen is not "quiet" */
    set_source(s, "replicasets", STORE_SRC_FORBIDDEN, "403 replicasets.apps is forbidden");
    struct check_result *r = run(s, NULL);
    const struct check_workload *reports = wl(r, "legacy", "reports");
    assert_int_equal(reports->activity.status, CHECK_ACT_UNKNOWN);
    assert_non_null(strstr(reports->activity.detail, "replicasets"));
    assert_int_equal(wl(r, "shop", "search")->binding_removable, 0);
    assert_int_equal(wl(r, "legacy", "billing")->activity.status, CHECK_ACT_ACTIVE); /* a fact */
    check_free(r);
    set_source(s, "replicasets", STORE_SRC_SYNCED, NULL);

    /* A workload without the label is "not-applicable" only when the NMI logs of its node were
     * read: otherwise its pods may be calling NMI unseen */
    nmi_log(s, "nmi-aaaaa", STORE_SRC_FORBIDDEN, 0, 0, "403 Forbidden: pods/log");
    r = run(s, NULL);
    assert_int_equal(wl(r, "batch", "etl")->activity.status, CHECK_ACT_UNKNOWN);       /* node A */
    assert_int_equal(wl(r, "shop", "api")->activity.status, CHECK_ACT_NOT_APPLICABLE); /* B */
    check_free(r);
    nmi_log(s, "nmi-aaaaa", STORE_SRC_SYNCED, T_NOW - 3 * 3600, T_NOW, NULL);
    r = run(s, NULL);
    assert_int_equal(wl(r, "batch", "etl")->activity.status, CHECK_ACT_NOT_APPLICABLE);
    check_free(r);
    store_free(s);

    /* Standard-mode NMI seen, MIC not seen: "half removed" only when the lists that would show
     * MIC are complete */
    s = store_new();
    store_set_time(s, T_NOW);
    live_sources(s);
    struct model_workload *ds = tf_workload(MODEL_KIND_DAEMONSET, "pi", "nmi", NULL);
    tf_kv(&ds->tmpl.labels, "component=nmi", NULL);
    ds->replicas_desired = ds->replicas_ready = ds->replicas_available = 2;
    store_put_workload(s, ds);
    set_source(s, "deployments", STORE_SRC_FORBIDDEN, "403 deployments.apps is forbidden");
    r = run(s, NULL);
    assert_int_equal(r->cluster.pod_identity.status, CHECK_PODID_UNKNOWN);
    assert_non_null(strstr(r->cluster.pod_identity.detail, "MIC unknown"));
    assert_false(cluster_has(r, CHECK_CODE_PODID_HALF_REMOVED));
    check_free(r);
    set_source(s, "deployments", STORE_SRC_SYNCED, NULL);
    r = run(s, NULL);
    assert_int_equal(r->cluster.pod_identity.status, CHECK_PODID_DEGRADED);
    assert_true(cluster_has(r, CHECK_CODE_PODID_HALF_REMOVED));
    check_free(r);
    store_free(s);
}

static void test_removal_safe_only_on_complete_evidence(void **state)
{
    (void)state;
    /* pod identity installed, nothing uses it, every log complete: safe */
    struct store *s = store_new();
    store_set_time(s, T_NOW);
    live_sources(s);
    tf_webhook(s, "kube-system", 2);
    nmi_pod(s, "nmi-aaaaa", NODE_A);
    nmi_log(s, "nmi-aaaaa", STORE_SRC_SYNCED, T_NOW - 7200, T_NOW, NULL);
    struct model_workload *mic = tf_workload(MODEL_KIND_DEPLOYMENT, NMI_NS, "mic", NULL);
    tf_kv(&mic->tmpl.labels, "component=mic", NULL);
    store_put_workload(s, mic);
    app(s, "shop", "api", WI_LABEL_USE "=true", NULL, NODE_A);
    struct check_result *r = run(s, NULL);
    assert_true(r->cluster.removal.safe);
    assert_true(cluster_has(r, CHECK_CODE_PODID_REMOVAL_SAFE));
    check_free(r);

    /* a watch that failed after its list: stale data is not enough for "safe" */
    struct store_source *deps = store_source(s, "deployments");
    deps->state = STORE_SRC_ERROR;
    snprintf(deps->error, sizeof deps->error, "HTTP 503");
    store_source_changed(s);
    r = run(s, NULL);
    assert_false(r->cluster.removal.safe);
    assert_true(blockers_mention(r, "deployments: HTTP 503"));
    /* ... while the per-workload verdicts keep using the last complete list */
    assert_int_equal(wl(r, "shop", "api")->mechanism, CHECK_MECH_WI);
    check_free(r);
    set_source(s, "deployments", STORE_SRC_SYNCED, NULL);

    /* the NMI log covers only half the window */
    nmi_log(s, "nmi-aaaaa", STORE_SRC_SYNCED, T_NOW - 1800, T_NOW, NULL);
    r = run(s, NULL);
    assert_false(r->cluster.removal.safe);
    assert_true(blockers_mention(r, "nmi-aaaaa"));
    check_free(r);
    nmi_log(s, "nmi-aaaaa", STORE_SRC_SYNCED, T_NOW - 7200, T_NOW, NULL);

    /* a scoped run never says safe */
    struct check_options o = {.now = T_NOW, .window_seconds = 3600, .scope_namespace = "shop"};
    r = run(s, &o);
    assert_false(r->cluster.removal.safe);
    check_free(r);
    store_free(s);
}

static void test_azure_failures(void **state)
{
    (void)state;
    struct store *s = cluster();
    struct model_azure a = {.state = MODEL_AZ_UNKNOWN,
                            .error = xstrdup("environment: HTTP 401 invalid_client: AADSTS7000215: "
                                             "Invalid client secret provided."),
                            .fetched = T_NOW - 3,
                            .identities_state = MODEL_AZ_UNKNOWN,
                            .entra = {.state = MODEL_AZ_ERROR,
                                      .error = xstrdup("environment: HTTP 401 invalid_client: "
                                                       "AADSTS7000215: Invalid client secret "
                                                       "provided.")}};
    store_set_azure(s, &a);
    struct check_result *r = run(s, NULL);
    assert_true(cluster_has(r, CHECK_CODE_AZURE_AUTH_FAILED));
    assert_true(check_error_count(r) > 0);
    const struct check_workload *api = wl(r, "shop", "api");
    assert_int_equal(api->federation.status, CHECK_FED_UNKNOWN);
    const struct check_finding *f = tf_get_code(api, CHECK_CODE_FED_UNKNOWN);
    assert_non_null(f);
    assert_int_equal(f->severity, CHECK_SEV_WARNING);
    assert_non_null(strstr(f->message, "AADSTS7000215"));
    check_free(r);

    struct model_azure b = {.state = MODEL_AZ_ERROR,
                            .error = xstrdup("reading AKS cluster: HTTP 503"),
                            .fetched = T_NOW - 3,
                            .identities_state = MODEL_AZ_ERROR,
                            .identities_error = xstrdup("HTTP 503"),
                            .entra = {.state = MODEL_AZ_OK},
                            .arm = {.state = MODEL_AZ_ERROR,
                                    .error = xstrdup("ServiceUnavailable: HTTP 503 (listing)"),
                                    .status = 503}};
    store_set_azure(s, &b);
    r = run(s, NULL);
    assert_true(cluster_has(r, CHECK_CODE_ARM_UNAVAILABLE));
    assert_false(cluster_has(r, CHECK_CODE_AZURE_AUTH_FAILED));
    assert_int_equal(wl(r, "shop", "api")->federation.status, CHECK_FED_UNKNOWN);
    check_free(r);

    /* --no-azure: unknown, explained, and no finding */
    struct model_azure c = {.state = MODEL_AZ_UNKNOWN, .skipped = true,
                            .error = xstrdup("Azure skipped (--no-azure)")};
    store_set_azure(s, &c);
    r = run(s, NULL);
    assert_false(cluster_has(r, CHECK_CODE_ARM_UNAVAILABLE));
    assert_false(cluster_has(r, CHECK_CODE_AZURE_AUTH_FAILED));
    assert_null(tf_get_code(wl(r, "shop", "api"), CHECK_CODE_FED_UNKNOWN));
    assert_non_null(strstr(wl(r, "shop", "api")->federation.detail, "--no-azure"));
    check_free(r);
    store_free(s);
}

static void test_prerequisites(void **state)
{
    (void)state;
    /* no webhook, OIDC disabled in ARM, no workload on WI yet: warnings with the remedies */
    struct store *s = store_new();
    store_set_time(s, T_NOW);
    live_sources(s);
    struct model_azure a = {.state = MODEL_AZ_OK,
                            .fetched = T_NOW,
                            .cluster_arm_id = xstrdup("/subscriptions/s1/resourceGroups/rg-prod/"
                                                      "providers/Microsoft.ContainerService/"
                                                      "managedClusters/aks-prod"),
                            .oidc_issuer_enabled = false,
                            .identities_state = MODEL_AZ_OK,
                            .entra = {.state = MODEL_AZ_OK},
                            .arm = {.state = MODEL_AZ_OK}};
    store_set_azure(s, &a);
    app(s, "legacy", "billing", "aadpodidbinding=x", NULL, NODE_A);
    struct check_result *r = run(s, NULL);
    assert_int_equal(r->cluster.oidc.status, CHECK_OIDC_DISABLED);
    assert_true(cluster_has(r, CHECK_CODE_OIDC_NOT_ENABLED));
    assert_true(cluster_has(r, CHECK_CODE_WEBHOOK_NOT_INSTALLED));
    assert_false(cluster_has(r, CHECK_CODE_OIDC_DISABLED));
    for (size_t i = 0; i < r->cluster.n_findings; i++) {
        const struct check_finding *f = &r->cluster.findings[i];
        if (f->code == CHECK_CODE_OIDC_NOT_ENABLED) {
            assert_int_equal(f->severity, CHECK_SEV_WARNING);
            assert_non_null(strstr(f->remedy, "az aks update -g rg-prod -n aks-prod "
                                              "--enable-oidc-issuer"));
            assert_non_null(strstr(f->remedy, "oidc_issuer_enabled = true"));
        }
        if (f->code == CHECK_CODE_WEBHOOK_NOT_INSTALLED) {
            assert_non_null(strstr(f->remedy, "--enable-workload-identity"));
            assert_non_null(strstr(f->remedy, "workload_identity_enabled = true"));
            assert_non_null(strstr(f->remedy, "workload-identity-webhook"));
        }
    }
    check_free(r);
    /* once a workload uses WI they are errors */
    app(s, "shop", "api", WI_LABEL_USE "=true", NULL, NODE_A);
    r = run(s, NULL);
    assert_true(cluster_has(r, CHECK_CODE_OIDC_DISABLED));
    assert_true(cluster_has(r, CHECK_CODE_WEBHOOK_MISSING));
    assert_true(check_error_count(r) >= 2);
    check_free(r);
    store_free(s);
}

/* New NMI requests re-check only what they touch, and end where a full run ends. */
static void test_activity_update_equals_full_run(void **state)
{
    (void)state;
    struct store *s = cluster();
    struct check_options o = {.now = T_NOW, .window_seconds = 3600};
    struct check_result *inc = run(s, &o);
    assert_int_equal(wl(inc, "legacy", "reports")->activity.status, CHECK_ACT_QUIET);
    uint64_t v0 = inc->version;
    bool all = false;
    const struct model_workload *const *d;
    store_take_dirty(s, &d, &all); /* what building the cluster changed: seen by the run */
    store_take_nmi_dirty(s);
    nmi_req(s, T_NOW - 30, "legacy", "reports-7c9d8f6b5b-abcde", 200);
    nmi_req(s, T_NOW - 20, "legacy", "reports-7c9d8f6b5b-abcde", 403);
    nmi_req(s, T_NOW - 10, "shop", "search-7c9d8f6b5b-abcde", 200);
    assert_true(store_take_nmi_dirty(s));
    store_take_dirty(s, &d, &all);
    assert_false(all); /* requests alone do not dirty every workload */
    check_update_activity(inc, s, &o);
    assert_true(inc->version > v0);
    struct check_result *full = run(s, &o);
    for (size_t i = 0; i < full->n_workloads; i++)
        assert_same(&full->workloads[i],
                    wl(inc, full->workloads[i].namespace_, full->workloads[i].name));
    assert_int_equal(wl(inc, "legacy", "reports")->activity.status, CHECK_ACT_ERRORS);
    assert_int_equal(wl(inc, "shop", "search")->binding_removable, 0);
    assert_int_equal(inc->cluster.nmi_requests, full->cluster.nmi_requests);
    check_free(full);
    check_free(inc);
    store_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_source_describe),
        cmocka_unit_test(test_scope_is_a_view),
        cmocka_unit_test(test_namespace_missing),
        cmocka_unit_test(test_happy_path_evidence),
        cmocka_unit_test(test_log_coverage),
        cmocka_unit_test(test_forbidden_lists),
        cmocka_unit_test(test_owner_lists_and_unseen_mic),
        cmocka_unit_test(test_removal_safe_only_on_complete_evidence),
        cmocka_unit_test(test_azure_failures),
        cmocka_unit_test(test_prerequisites),
        cmocka_unit_test(test_activity_update_equals_full_run),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
