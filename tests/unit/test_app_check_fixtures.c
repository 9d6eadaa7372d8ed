/* check over the real fixtures: webhook-mutated pods (v1.6, v1.5, proxy sidecar) through the
 * JSON decoders, and the real NMI log through nmilog into the activity verdicts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "idwatch/check.h"
#include "idwatch/decode.h"
#include "idwatch/nmilog.h"
#include "test_check_fixture.h"

#define QS_CID "00000000-1111-2222-3333-444444444444"

static cJSON *load(const char *name)
{
    char *path = xasprintf(IDW_SHARED_DIR "/fixtures/%s", name);
    char *buf;
    size_t len;
    struct idw_err err;
    assert_int_equal(file_read_all(path, 1 << 20, &buf, &len, &err), 0);
    cJSON *j = cJSON_ParseWithLength(buf, len);
    assert_non_null(j);
    free(buf);
    free(path);
    return j;
}

static struct model_pod *decode_pod(cJSON *j)
{
    struct decode_object o = {0};
    struct idw_err err;
    if (decode_object(j, DECODE_POD, &o, &err) != 0)
        fail_msg("decode: %s", err.msg);
    return o.u.pod;
}

/* Deployment quick-start, its ReplicaSet (uid as in the fixture), SA workload-identity-sa. */
static struct store *quick_start(const char *fixture, void (*edit)(cJSON *),
                                 void (*edit_tmpl)(struct model_workload *))
{
    struct store *s = store_new();
    tf_webhook(s, "kube-system", 2);
    struct model_workload *d =
        tf_workload(MODEL_KIND_DEPLOYMENT, "default", "quick-start", "workload-identity-sa");
    tf_kv(&d->tmpl.labels, "app=quick-start", WI_LABEL_USE "=true", NULL);
    if (edit_tmpl)
        edit_tmpl(d);
    struct model_link *l = xcalloc(1, sizeof *l);
    l->kind = xstrdup("ReplicaSet");
    l->meta.namespace_ = xstrdup("default");
    l->meta.name = xstrdup("quick-start-7c9d8f6b5b");
    l->meta.uid = xstrdup("0d8e7c6b-5a49-4382-9170-6e5d4c3b2a19");
    tf_owner(&l->meta, "Deployment", "quick-start", d->meta.uid);
    store_put_workload(s, d);
    store_put_link(s, l);
    struct model_service_account *sa = tf_sa("default", "workload-identity-sa");
    kv_set(&sa->meta.annotations, WI_ANN_CLIENT_ID, QS_CID);
    store_put_sa(s, sa);
    cJSON *j = load(fixture);
    if (edit)
        edit(j);
    store_put_pod(s, decode_pod(j));
    cJSON_Delete(j);
    return s;
}

static const struct check_workload *run(struct store *s, struct check_result *r)
{
    struct check_options o = {.now = T_NOW, .window_seconds = 3600};
    check_run(r, s, &o);
    const struct check_workload *w = check_find(r, MODEL_KIND_DEPLOYMENT, "default", "quick-start");
    assert_non_null(w);
    for (size_t i = 0; i < w->n_findings; i++)
        print_message("  %s %s\n", check_code_name(w->findings[i].code), w->findings[i].message);
    return w;
}

/* ---- edits that reproduce failure modes on the real pods --------------------------------- */

static cJSON *container(cJSON *pod, const char *list, const char *name)
{
    cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(cJSON_GetObjectItem(pod, "spec"), list))
    {
        if (strcmp(cJSON_GetObjectItem(c, "name")->valuestring, name) == 0)
            return c;
    }
    fail_msg("no container %s", name);
    return NULL;
}

static void drop_env(cJSON *c, const char *name)
{
    cJSON *env = cJSON_GetObjectItem(c, "env");
    for (int i = cJSON_GetArraySize(env) - 1; i >= 0; i--)
        if (strcmp(cJSON_GetObjectItem(cJSON_GetArrayItem(env, i), "name")->valuestring, name) == 0)
            cJSON_DeleteItemFromArray(env, i);
}

/* Failure mode 2/6: the pod predates the label (no env, no volume, no mount). */
static void e_unmutated(cJSON *pod)
{
    cJSON *c = container(pod, "containers", "oidc");
    drop_env(c, "AZURE_CLIENT_ID");
    drop_env(c, "AZURE_TENANT_ID");
    drop_env(c, "AZURE_FEDERATED_TOKEN_FILE");
    drop_env(c, "AZURE_AUTHORITY_HOST");
    cJSON *mounts = cJSON_GetObjectItem(c, "volumeMounts");
    cJSON_DeleteItemFromArray(mounts, 1);
    cJSON *vols = cJSON_GetObjectItem(cJSON_GetObjectItem(pod, "spec"), "volumes");
    cJSON_DeleteItemFromArray(vols, 1);
}

/* Failure mode 3: client id annotation added after the pod started. */
static void e_no_client_env(cJSON *pod)
{
    drop_env(container(pod, "containers", "oidc"), "AZURE_CLIENT_ID");
}

/* A container injected by someone else after the webhook (no reinvocation): partial. */
static void e_late_sidecar(cJSON *pod)
{
    cJSON *cs = cJSON_GetObjectItem(cJSON_GetObjectItem(pod, "spec"), "containers");
    cJSON *c = cJSON_CreateObject();
    cJSON_AddStringToObject(c, "name", "istio-proxy");
    cJSON_AddStringToObject(c, "image", "docker.io/istio/proxyv2:1.22.0");
    cJSON_AddItemToArray(cs, c);
}

/* The proxy pod without its azwi-proxy-init (annotation kept). */
static void e_no_proxy_init(cJSON *pod)
{
    cJSON *ic = cJSON_GetObjectItem(cJSON_GetObjectItem(pod, "spec"), "initContainers");
    for (int i = cJSON_GetArraySize(ic) - 1; i >= 0; i--)
        if (strcmp(cJSON_GetObjectItem(cJSON_GetArrayItem(ic, i), "name")->valuestring,
                   "azwi-proxy-init") == 0)
            cJSON_DeleteItemFromArray(ic, i);
}

static void t_proxy(struct model_workload *d)
{
    kv_set(&d->tmpl.annotations, WI_ANN_PROXY_SIDECAR, "true");
}

static const struct {
    const char *fixture;
    void (*edit)(cJSON *);
    void (*edit_tmpl)(struct model_workload *);
    enum check_projection want;
    const char *layout;
    enum check_code code; /* CHECK_CODE__COUNT: no finding at all */
} cases[] = {
    {"wi-mutated-pod.json", NULL, NULL, CHECK_PROJ_OK, "v1.6", CHECK_CODE__COUNT},
    {"wi-mutated-pod-v1.5.json", NULL, NULL, CHECK_PROJ_OK, "v1.5", CHECK_CODE__COUNT},
    {"wi-mutated-pod-proxy-sidecar.json", NULL, t_proxy, CHECK_PROJ_OK, "v1.6", CHECK_CODE__COUNT},
    {"wi-mutated-pod.json", e_unmutated, NULL, CHECK_PROJ_NOT_INJECTED, NULL,
     CHECK_CODE_PROJ_NOT_INJECTED},
    {"wi-mutated-pod-v1.5.json", e_no_client_env, NULL, CHECK_PROJ_OK, "v1.5",
     CHECK_CODE_PROJ_CLIENT_ID_STALE},
    {"wi-mutated-pod.json", e_late_sidecar, NULL, CHECK_PROJ_PARTIAL, "v1.6",
     CHECK_CODE_PROJ_PARTIAL},
    {"wi-mutated-pod-proxy-sidecar.json", e_no_proxy_init, t_proxy, CHECK_PROJ_OK, "v1.6",
     CHECK_CODE_PROXY_NOT_INJECTED},
};

static void test_mutated_pods(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        print_message("case %zu: %s\n", i, cases[i].fixture);
        struct store *s = quick_start(cases[i].fixture, cases[i].edit, cases[i].edit_tmpl);
        struct check_result *r = check_new();
        const struct check_workload *w = run(s, r);
        assert_int_equal(w->mechanism, CHECK_MECH_WI);
        assert_string_equal(check_projection_name(w->projection.status),
                            check_projection_name(cases[i].want));
        assert_int_equal(w->projection.pods_total, 1);
        assert_int_equal(w->projection.n_pods, 1);
        assert_string_equal(w->projection.pods[0].name, "quick-start-7c9d8f6b5b-x2x9k");
        if (cases[i].layout)
            assert_string_equal(w->projection.pods[0].layout, cases[i].layout);
        if (cases[i].code == CHECK_CODE__COUNT)
            assert_int_equal(w->n_findings, 0);
        else
            assert_true(tf_has_code(w->findings, w->n_findings, cases[i].code));
        check_free(r);
        store_free(s);
    }

    /* the proxy pod really has its native sidecar */
    struct store *s = quick_start("wi-mutated-pod-proxy-sidecar.json", NULL, t_proxy);
    struct check_result *r = check_new();
    const struct check_workload *w = run(s, r);
    assert_true(w->projection.pods[0].proxy);
    check_free(r);
    store_free(s);
}

/* The real NMI log, attributed to workloads by pod name (the pods are long gone). */
static void test_nmi_log_activity(void **state)
{
    (void)state;
    char *buf;
    size_t len;
    struct idw_err err;
    assert_int_equal(
        file_read_all(IDW_SHARED_DIR "/fixtures/nmi-logs-real.txt", 1 << 20, &buf, &len, &err), 0);
    struct store *s = store_new();
    struct model_workload *nmi = tf_workload(MODEL_KIND_DAEMONSET, "kube-system", "nmi", NULL);
    nmi->replicas_desired = nmi->replicas_ready = 3;
    store_put_workload(s, nmi);
    struct model_workload *d =
        tf_workload(MODEL_KIND_DEPLOYMENT, "test-dev", "test-review-api-dev", "default");
    tf_kv(&d->tmpl.labels, PI_LABEL_BINDING "=review", NULL);
    store_put_workload(s, d);
    struct model_workload *oms = tf_workload(MODEL_KIND_DAEMONSET, "kube-system", "omsagent", NULL);
    store_put_workload(s, oms);

    struct nmilog_config cfg = {.nmi_pod = "nmi-x", .node_name = "aks-0", .year = 2021};
    struct nmilog *p = nmilog_new(&cfg);
    nmilog_feed(p, buf, len);
    nmilog_finish(p);
    free(buf);
    struct model_nmi_request q;
    size_t n = 0;
    while (nmilog_next(p, &q)) {
        struct model_nmi_request *h = xmalloc(sizeof *h);
        *h = q;
        store_add_nmi_request(s, h);
        n++;
    }
    nmilog_free(p);
    assert_int_equal(n, 20);

    /* a window over all of 2021: 2021-11-06 is the review API's 200, Sept the omsagent 404s */
    struct check_options o = {.now = 1640995200 /* 2022-01-01 */, .window_seconds = 366 * 86400};
    struct check_result *r = check_new();
    check_run(r, s, &o);
    const struct check_workload *w =
        check_find(r, MODEL_KIND_DEPLOYMENT, "test-dev", "test-review-api-dev");
    assert_int_equal(w->activity.status, CHECK_ACT_ACTIVE);
    assert_int_equal(w->activity.requests, 1);
    assert_int_equal(w->activity.errors, 0);
    assert_int_equal(w->activity.last_seen, 1636209167); /* 2021-11-06T14:32:47Z */
    w = check_find(r, MODEL_KIND_DAEMONSET, "kube-system", "omsagent");
    assert_int_equal(w->activity.status, CHECK_ACT_ERRORS);
    assert_int_equal(w->activity.requests, 5); /* lines 19..25 and 107 */
    assert_int_equal(w->activity.errors, 5);
    assert_true(tf_has_code(w->findings, w->n_findings, CHECK_CODE_PI_REQUEST_ERRORS));
    assert_false(r->cluster.removal.safe);
    /* 2021 lines: 9 11 17 19 21 23 25 79 81 83 88 107 138 159 163 165 = 16 requests */
    assert_int_equal(r->cluster.nmi_requests, 16);
    assert_int_equal(r->cluster.nmi_unattributed, 10);
    check_free(r);
    store_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mutated_pods),
        cmocka_unit_test(test_nmi_log_activity),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
