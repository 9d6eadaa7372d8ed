/* check: cluster verdicts (OIDC, webhook, pod identity components, migration, removal) and
 * incremental updates. */
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

static void add_wi_workload(struct store *s, const char *ns, const char *name)
{
    struct model_workload *d = tf_workload(MODEL_KIND_DEPLOYMENT, ns, name, name);
    tf_kv(&d->tmpl.labels, WI_LABEL_USE "=true", NULL);
    store_put_workload(s, d);
}

static void add_labelled(struct store *s, const char *ns, const char *name, const char *labels)
{
    struct model_workload *d = tf_workload(MODEL_KIND_DEPLOYMENT, ns, name, name);
    char *copy = xstrdup(labels);
    for (char *tok = strtok(copy, ","); tok; tok = strtok(NULL, ","))
        tf_kv(&d->tmpl.labels, tok, NULL);
    free(copy);
    store_put_workload(s, d);
}

/* ---- OIDC -------------------------------------------------------------------------------- */

static void set_oidc(struct store *s, enum model_oidc_status st, const char *issuer)
{
    struct model_oidc o = {0};
    o.status = st;
    o.cluster_issuer = xstrdup(issuer);
    o.detail = xstrdup("probe detail");
    store_set_oidc(s, &o);
}

static void test_oidc(void **state)
{
    (void)state;
    static const struct {
        int az;    /* 0 none, 1 enabled, 2 disabled */
        int probe; /* -1 none, else enum model_oidc_status */
        const char *probe_issuer;
        enum check_oidc want;
        enum check_code code; /* CHECK_CODE__COUNT: none expected */
    } cases[] = {
        {0, -1, NULL, CHECK_OIDC_UNKNOWN, CHECK_CODE__COUNT},
        {1, -1, NULL, CHECK_OIDC_OK, CHECK_CODE__COUNT},
        {2, -1, NULL, CHECK_OIDC_DISABLED, CHECK_CODE_OIDC_DISABLED},
        {1, MODEL_OIDC_OK, T_ISSUER, CHECK_OIDC_OK, CHECK_CODE__COUNT},
        {1, MODEL_OIDC_UNREACHABLE, T_ISSUER, CHECK_OIDC_UNREACHABLE, CHECK_CODE_OIDC_UNREACHABLE},
        {1, MODEL_OIDC_KEYS_MISMATCH, T_ISSUER, CHECK_OIDC_KEYS_MISMATCH,
         CHECK_CODE_OIDC_KEYS_MISMATCH},
        {1, MODEL_OIDC_OK, "https://oidc.prod-aks.azure.com/other/", CHECK_OIDC_OK,
         CHECK_CODE_OIDC_ISSUER_DIFFERS},
        {0, MODEL_OIDC_OK, "https://kubernetes.default.svc.cluster.local", CHECK_OIDC_OK,
         CHECK_CODE_OIDC_NOT_PUBLIC},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct store *s = store_new();
        tf_webhook(s, "kube-system", 2);
        add_wi_workload(s, "payments", "api");
        if (cases[i].az) {
            tf_azure(s, NULL, 0);
            if (cases[i].az == 2) {
                struct model_azure a = {0};
                a.state = MODEL_AZ_OK;
                a.oidc_issuer_enabled = false;
                store_set_azure(s, &a);
            }
        }
        if (cases[i].probe >= 0)
            set_oidc(s, (enum model_oidc_status)cases[i].probe, cases[i].probe_issuer);
        struct check_result *r = run(s, NULL);
        print_message("oidc case %zu: %s\n", i, check_oidc_name(r->cluster.oidc.status));
        assert_int_equal(r->cluster.oidc.status, cases[i].want);
        if (cases[i].code != CHECK_CODE__COUNT)
            assert_true(cluster_has(r, cases[i].code));
        else
            assert_int_equal(r->cluster.n_errors + r->cluster.n_warnings, 0);
        check_free(r);
        store_free(s);
    }
}

/* ---- webhook ----------------------------------------------------------------------------- */

static void test_webhook(void **state)
{
    (void)state;
    struct store *s;
    struct check_result *r;

    s = store_new();
    tf_webhook(s, "kube-system", 2);
    r = run(s, NULL);
    assert_int_equal(r->cluster.webhook.status, CHECK_WEBHOOK_OK);
    assert_int_equal(r->cluster.webhook.ready, 2);
    assert_int_equal(r->cluster.webhook.desired, 2);
    assert_string_equal(r->cluster.webhook.namespace_, "kube-system");
    assert_int_equal(r->cluster.webhook.installs, 1);
    check_free(r);
    store_free(s);

    /* Helm install with one of two replicas */
    s = store_new();
    tf_webhook(s, "azure-workload-identity-system", 1);
    r = run(s, NULL);
    assert_int_equal(r->cluster.webhook.status, CHECK_WEBHOOK_DEGRADED);
    assert_true(cluster_has(r, CHECK_CODE_WEBHOOK_DEGRADED));
    check_free(r);
    store_free(s);

    /* none available: every labelled pod create is rejected */
    s = store_new();
    tf_webhook(s, "kube-system", 0);
    r = run(s, NULL);
    assert_int_equal(r->cluster.webhook.status, CHECK_WEBHOOK_DEGRADED);
    assert_true(cluster_has(r, CHECK_CODE_WEBHOOK_DOWN));
    check_free(r);
    store_free(s);

    /* missing: an error only when someone uses workload identity */
    s = store_new();
    r = run(s, NULL);
    assert_int_equal(r->cluster.webhook.status, CHECK_WEBHOOK_MISSING);
    assert_false(cluster_has(r, CHECK_CODE_WEBHOOK_MISSING));
    check_free(r);
    add_wi_workload(s, "payments", "api");
    r = run(s, NULL);
    assert_true(cluster_has(r, CHECK_CODE_WEBHOOK_MISSING));
    check_free(r);
    store_free(s);

    /* MWCs not listable: unknown, and pods are not blamed */
    s = store_new();
    store_source(s, "mutatingwebhookconfigurations")->state = STORE_SRC_FORBIDDEN;
    add_wi_workload(s, "payments", "api");
    r = run(s, NULL);
    assert_int_equal(r->cluster.webhook.status, CHECK_WEBHOOK_UNKNOWN);
    assert_int_not_equal(r->workloads[0].projection.status, CHECK_PROJ_WEBHOOK_MISSING);
    check_free(r);
    store_free(s);

    /* double install (add-on + Helm), empty caBundle, failurePolicy Ignore, other MWC name */
    s = store_new();
    tf_webhook(s, "kube-system", 2);
    struct model_mwc *m = xcalloc(1, sizeof *m);
    m->meta.name = xstrdup("workload-identity-webhook-mutating");
    m->webhooks = xcalloc(1, sizeof *m->webhooks);
    m->n_webhooks = 1;
    m->webhooks[0].name = xstrdup(WI_WEBHOOK_NAME);
    m->webhooks[0].service_namespace = xstrdup("azure-workload-identity-system");
    m->webhooks[0].failure_policy = xstrdup("Ignore");
    store_put_mwc(s, m);
    r = run(s, NULL);
    assert_int_equal(r->cluster.webhook.installs, 2);
    assert_true(cluster_has(r, CHECK_CODE_WEBHOOK_DOUBLE_INSTALL));
    /* the MWC with the well-known name is the one judged */
    assert_string_equal(r->cluster.webhook.namespace_, "kube-system");
    check_free(r);
    store_free(s);

    s = store_new();
    m = xcalloc(1, sizeof *m);
    m->meta.name = xstrdup("custom-name");
    m->webhooks = xcalloc(1, sizeof *m->webhooks);
    m->n_webhooks = 1;
    m->webhooks[0].name = xstrdup(WI_WEBHOOK_NAME);
    m->webhooks[0].service_namespace = xstrdup("azure-workload-identity-system");
    m->webhooks[0].failure_policy = xstrdup("Ignore");
    store_put_mwc(s, m);
    struct model_workload *d = tf_workload(MODEL_KIND_DEPLOYMENT, "azure-workload-identity-system",
                                           WI_WEBHOOK_DEPLOYMENT, NULL);
    store_put_workload(s, d);
    add_wi_workload(s, "payments", "api");
    r = run(s, NULL);
    assert_int_equal(r->cluster.webhook.status, CHECK_WEBHOOK_DEGRADED);
    assert_true(cluster_has(r, CHECK_CODE_WEBHOOK_CA_EMPTY));
    assert_true(cluster_has(r, CHECK_CODE_WEBHOOK_POLICY));
    const struct check_workload *w = check_find(r, MODEL_KIND_DEPLOYMENT, "payments", "api");
    assert_int_equal(w->projection.status, CHECK_PROJ_WEBHOOK_MISSING);
    check_free(r);
    store_free(s);
}

/* ---- pod identity components ------------------------------------------------------------- */

static void put_ds(struct store *s, const char *ns, const char *name, const char *labels, int ready,
                   int desired)
{
    struct model_workload *w = tf_workload(MODEL_KIND_DAEMONSET, ns, name, NULL);
    char *copy = xstrdup(labels);
    for (char *tok = strtok(copy, ","); tok; tok = strtok(NULL, ","))
        tf_kv(&w->tmpl.labels, tok, NULL);
    free(copy);
    w->replicas_ready = w->replicas_available = ready;
    w->replicas_desired = desired;
    store_put_workload(s, w);
}

static void put_deploy(struct store *s, const char *ns, const char *name, const char *labels,
                       int ready, int desired)
{
    struct model_workload *w = tf_workload(MODEL_KIND_DEPLOYMENT, ns, name, NULL);
    char *copy = xstrdup(labels);
    for (char *tok = strtok(copy, ","); tok; tok = strtok(NULL, ","))
        tf_kv(&w->tmpl.labels, tok, NULL);
    free(copy);
    w->replicas_ready = w->replicas_available = ready;
    w->replicas_desired = desired;
    store_put_workload(s, w);
}

static void test_pod_identity(void **state)
{
    (void)state;
    struct store *s;
    struct check_result *r;

    /* Helm in "default": NMI + MIC, standard mode */
    s = store_new();
    put_ds(s, "default", "aad-pod-identity-nmi",
           "app.kubernetes.io/component=nmi,app.kubernetes.io/name=aad-pod-identity,tier=node", 3,
           3);
    put_deploy(s, "default", "aad-pod-identity-mic",
               "app.kubernetes.io/component=mic,app.kubernetes.io/name=aad-pod-identity", 2, 2);
    r = run(s, NULL);
    assert_int_equal(r->cluster.pod_identity.status, CHECK_PODID_RUNNING);
    assert_false(r->cluster.pod_identity.managed_mode);
    assert_int_equal(r->cluster.pod_identity.nmi_ready, 3);
    assert_int_equal(r->cluster.pod_identity.mic_desired, 2);
    check_free(r);
    store_free(s);

    /* plain YAML, NMI 2/3 */
    s = store_new();
    put_ds(s, "default", "nmi", "component=nmi,tier=node", 2, 3);
    put_deploy(s, "default", "mic", "component=mic,app=mic", 2, 2);
    r = run(s, NULL);
    assert_int_equal(r->cluster.pod_identity.status, CHECK_PODID_DEGRADED);
    assert_true(cluster_has(r, CHECK_CODE_PODID_DEGRADED));
    check_free(r);
    store_free(s);

    /* NMI left in default, MIC gone: half removed */
    s = store_new();
    put_ds(s, "default", "nmi", "component=nmi,tier=node", 3, 3);
    r = run(s, NULL);
    assert_int_equal(r->cluster.pod_identity.status, CHECK_PODID_DEGRADED);
    assert_true(cluster_has(r, CHECK_CODE_PODID_HALF_REMOVED));
    check_free(r);
    store_free(s);

    /* AKS add-on: only pods are visible, found by image; kube-system => managed mode */
    s = store_new();
    for (int i = 0; i < 2; i++) {
        char name[32];
        snprintf(name, sizeof name, "nmi-%c", 'a' + i);
        struct model_pod *p = tf_pod(NULL, "kube-system", name);
        struct model_container *c = tf_container(p, MODEL_CONTAINER_REGULAR, "nmi");
        free(c->image);
        c->image = xstrdup("mcr.microsoft.com/oss/azure/aad-pod-identity/nmi:v1.8.17");
        p->ready = i == 0;
        store_put_pod(s, p);
    }
    r = run(s, NULL);
    assert_true(r->cluster.pod_identity.managed_mode);
    assert_int_equal(r->cluster.pod_identity.nmi_ready, 1);
    assert_int_equal(r->cluster.pod_identity.nmi_desired, 2);
    assert_int_equal(r->cluster.pod_identity.status, CHECK_PODID_DEGRADED);
    assert_string_equal(r->cluster.pod_identity.namespace_, "kube-system");
    check_free(r);
    store_free(s);

    /* absent */
    s = store_new();
    r = run(s, NULL);
    assert_int_equal(r->cluster.pod_identity.status, CHECK_PODID_ABSENT);
    assert_true(r->cluster.removal.safe);
    assert_false(cluster_has(r, CHECK_CODE_PODID_REMOVAL_SAFE)); /* nothing to remove */
    check_free(r);
    store_free(s);

    /* not listed yet: unknown */
    s = store_new();
    store_source(s, "daemonsets")->state = STORE_SRC_LISTING;
    r = run(s, NULL);
    assert_int_equal(r->cluster.pod_identity.status, CHECK_PODID_UNKNOWN);
    check_free(r);
    store_free(s);
}

/* ---- migration and removal --------------------------------------------------------------- */

static void test_migration_counts(void **state)
{
    (void)state;
    struct store *s = store_new();
    tf_webhook(s, "kube-system", 2); /* counts as a workload of mechanism none */
    char name[32];
    for (int i = 0; i < 7; i++) {
        snprintf(name, sizeof name, "wi-%d", i);
        add_wi_workload(s, "apps", name);
    }
    for (int i = 0; i < 3; i++) {
        snprintf(name, sizeof name, "pi-%d", i);
        add_labelled(s, "apps", name, PI_LABEL_BINDING "=sel");
    }
    add_labelled(s, "apps", "both", WI_LABEL_USE "=true," PI_LABEL_BINDING "=sel");
    struct check_result *r = run(s, NULL);
    assert_int_equal(r->cluster.migration.total, 12);
    assert_int_equal(r->cluster.migration.workload_identity, 7);
    assert_int_equal(r->cluster.migration.pod_identity, 3);
    assert_int_equal(r->cluster.migration.both, 1);
    assert_int_equal(r->cluster.migration.none, 1);
    assert_true(r->cluster.migration.percent_migrated == 63.6); /* 7/11, one decimal */
    assert_false(r->cluster.removal.safe);
    assert_string_equal(r->cluster.removal.blockers[0],
                        "4 workloads still labelled aadpodidbinding");
    check_free(r);
    store_free(s);

    /* 2 of 3 rounds to 66.7, not 66.6 */
    s = store_new();
    add_wi_workload(s, "apps", "a");
    add_wi_workload(s, "apps", "b");
    add_labelled(s, "apps", "c", PI_LABEL_BINDING "=sel");
    r = run(s, NULL);
    assert_true(r->cluster.migration.percent_migrated == 66.7);
    check_free(r);
    store_free(s);
}

static void nmi_req(struct store *s, int64_t t, const char *ns, const char *pod)
{
    struct model_nmi_request *q = xcalloc(1, sizeof *q);
    q->time = t;
    q->status = 200;
    q->remote_ip = xstrdup("10.244.0.77");
    q->pod_namespace = xstrdup(ns);
    q->pod_name = xstrdup(pod);
    store_add_nmi_request(s, q);
}

static void test_removal(void **state)
{
    (void)state;
    struct store *s = store_new();
    put_ds(s, "kube-system", "nmi", "component=nmi,tier=node", 3, 3);
    add_wi_workload(s, "payments", "api");
    struct check_result *r = run(s, NULL);
    assert_true(r->cluster.removal.safe);
    assert_int_equal(r->cluster.removal.n_blockers, 0);
    assert_true(cluster_has(r, CHECK_CODE_PODID_REMOVAL_SAFE));
    const struct check_finding *f = NULL;
    for (size_t i = 0; i < r->cluster.n_findings; i++)
        if (r->cluster.findings[i].code == CHECK_CODE_PODID_REMOVAL_SAFE)
            f = &r->cluster.findings[i];
    assert_non_null(strstr(f->remedy, "--disable-pod-identity")); /* managed mode */
    check_free(r);

    /* no log access: cannot prove it */
    struct check_options o = {.now = T_NOW,
                              .window_seconds = 3600,
                              .nmi_logs_unavailable = true,
                              .nmi_logs_reason = "pods/log is forbidden"};
    r = run(s, &o);
    assert_false(r->cluster.removal.safe);
    assert_string_equal(r->cluster.removal.blockers[0],
                        "NMI token activity unknown: pods/log is forbidden");
    check_free(r);

    /* a token request from an unknown sender blocks; one from an exception pod does not */
    struct model_pod *p = tf_pod(NULL, "monitoring", "omsagent-x");
    tf_kv(&p->meta.labels, "app=omsagent", NULL);
    store_put_pod(s, p);
    struct model_azure_pod_identity_exception *x = xcalloc(1, sizeof *x);
    x->meta.namespace_ = xstrdup("monitoring");
    x->meta.name = xstrdup("oms-exception");
    tf_kv(&x->pod_labels, "app=omsagent", NULL);
    store_put_azexception(s, x);
    nmi_req(s, T_NOW - 30, "monitoring", "omsagent-x");
    r = run(s, NULL);
    assert_true(r->cluster.removal.safe);
    assert_int_equal(r->cluster.nmi_requests, 1);
    check_free(r);
    nmi_req(s, T_NOW - 20, NULL, NULL);
    nmi_req(s, T_NOW - 10, NULL, NULL);
    r = run(s, NULL);
    assert_false(r->cluster.removal.safe);
    assert_string_equal(r->cluster.removal.blockers[0],
                        "NMI served 2 token requests in the last 1h");
    assert_int_equal(r->cluster.nmi_unattributed, 2);
    check_free(r);
    store_free(s);
}

/* ---- incremental ------------------------------------------------------------------------- */

static void test_incremental(void **state)
{
    (void)state;
    struct store *s = store_new();
    tf_webhook(s, "kube-system", 2);
    add_wi_workload(s, "payments", "api");
    add_labelled(s, "orders", "worker", PI_LABEL_BINDING "=sel");
    struct check_options o = {.now = T_NOW, .window_seconds = 3600};
    struct check_result *r = check_new();
    const struct model_workload *const *dirty;
    bool all;
    store_take_dirty(s, &dirty, &all);
    check_run(r, s, &o);
    assert_int_equal(r->n_workloads, 3);
    uint64_t v0 = r->version;
    assert_int_equal(r->cluster.migration.pod_identity, 1);

    /* the worker migrates: relabel it */
    struct model_workload *w = tf_workload(MODEL_KIND_DEPLOYMENT, "orders", "worker", "worker");
    tf_kv(&w->tmpl.labels, WI_LABEL_USE "=true", NULL);
    store_put_workload(s, w);
    size_t n = store_take_dirty(s, &dirty, &all);
    assert_false(all);
    assert_true(n >= 1);
    check_update(r, s, dirty, n, all, &o);
    assert_true(r->version > v0);
    assert_int_equal(r->n_workloads, 3);
    const struct check_workload *cw = check_find(r, MODEL_KIND_DEPLOYMENT, "orders", "worker");
    assert_int_equal(cw->mechanism, CHECK_MECH_WI);
    assert_int_equal(r->cluster.migration.workload_identity, 2);
    assert_int_equal(r->cluster.migration.pod_identity, 0);
    assert_true(r->cluster.migration.percent_migrated == 100.0);

    /* a new workload, then a deleted one */
    add_wi_workload(s, "shop", "web");
    n = store_take_dirty(s, &dirty, &all);
    check_update(r, s, dirty, n, all, &o);
    assert_int_equal(r->n_workloads, 4);
    assert_non_null(check_find(r, MODEL_KIND_DEPLOYMENT, "shop", "web"));
    assert_int_equal(store_del_workload(s, MODEL_KIND_DEPLOYMENT, "payments", "api"), 0);
    n = store_take_dirty(s, &dirty, &all);
    check_update(r, s, dirty, n, all, &o);
    assert_int_equal(r->n_workloads, 3);
    assert_null(check_find(r, MODEL_KIND_DEPLOYMENT, "payments", "api"));
    assert_non_null(check_find(r, MODEL_KIND_DEPLOYMENT, "shop", "web"));
    assert_non_null(check_find(r, MODEL_KIND_DEPLOYMENT, "orders", "worker"));
    assert_int_equal(r->cluster.migration.total, 3);

    /* the same as a full run */
    struct check_result *full = run(s, &o);
    assert_int_equal(full->n_workloads, r->n_workloads);
    assert_int_equal(full->cluster.migration.workload_identity,
                     r->cluster.migration.workload_identity);
    check_free(full);
    check_free(r);
    store_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_oidc),         cmocka_unit_test(test_webhook),
        cmocka_unit_test(test_pod_identity), cmocka_unit_test(test_migration_counts),
        cmocka_unit_test(test_removal),      cmocka_unit_test(test_incremental),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
