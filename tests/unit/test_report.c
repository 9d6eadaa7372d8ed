/* report: JSON validated key by key against INTERFACE.md's idwatch.report/v1, plus text,
 * Markdown, CSV quoting and sanitizing, and the exit code rule. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "idwatch/report.h"
#include "test_check_fixture.h"

/* payments/api: workload identity, all good. orders/worker: pod identity, NMI answered 404.
 * default/plain: nothing. Plus NMI (kube-system) and the webhook deployment. */
static struct store *small_store(void)
{
    struct store *s = store_new();
    tf_webhook(s, "kube-system", 2);
    struct model_fic *fics = xcalloc(1, sizeof *fics);
    fics[0] = tf_fic("payments-api", T_ISSUER, "system:serviceaccount:payments:api", WI_AUDIENCE);
    tf_azure(s, fics, 1);

    struct model_workload *d = tf_workload(MODEL_KIND_DEPLOYMENT, "payments", "api", "api");
    tf_kv(&d->tmpl.labels, WI_LABEL_USE "=true", NULL);
    struct model_pod *p = tf_pod(d, "payments", "api-7c9d8f6b5b-abcde");
    tf_inject16(p, tf_container(p, MODEL_CONTAINER_REGULAR, "app"), true);
    struct model_service_account *sa = tf_sa("payments", "api");
    kv_set(&sa->meta.annotations, WI_ANN_CLIENT_ID, T_CID);
    tf_rs(s, d);
    store_put_workload(s, d);
    store_put_sa(s, sa);
    store_put_pod(s, p);

    struct model_workload *w = tf_workload(MODEL_KIND_DEPLOYMENT, "orders", "worker", "worker");
    tf_kv(&w->tmpl.labels, PI_LABEL_BINDING "=worker-sel", NULL);
    struct model_pod *wp = tf_pod(w, "orders", "worker-7c9d8f6b5b-qwert");
    tf_container(wp, MODEL_CONTAINER_REGULAR, "worker");
    tf_rs(s, w);
    store_put_workload(s, w);
    store_put_pod(s, wp);
    struct model_azure_identity_binding *b = xcalloc(1, sizeof *b);
    b->meta.namespace_ = xstrdup("orders");
    b->meta.name = xstrdup("worker-binding");
    b->identity = xstrdup("worker-id");
    b->selector = xstrdup("worker-sel");
    store_put_azbinding(s, b);
    struct model_azure_identity *id = xcalloc(1, sizeof *id);
    id->meta.namespace_ = xstrdup("orders");
    id->meta.name = xstrdup("worker-id");
    id->client_id = xstrdup(T_CID);
    store_put_azid(s, id);
    struct model_nmi_request *r = xcalloc(1, sizeof *r);
    r->time = T_NOW - 120;
    r->status = 404;
    r->remote_ip = xstrdup("10.244.0.9");
    r->pod_namespace = xstrdup("orders");
    r->pod_name = xstrdup("worker-7c9d8f6b5b-qwert");
    r->error = xstrdup("context canceled");
    store_add_nmi_request(s, r);

    /* a name with a comma, a quote and a control byte: CSV quoting and sanitizing */
    struct model_workload *plain =
        tf_workload(MODEL_KIND_STATEFULSET, "default", "pla\"in,x\x1b", NULL);
    store_put_workload(s, plain);

    struct model_workload *nmi = tf_workload(MODEL_KIND_DAEMONSET, "kube-system", "nmi", NULL);
    nmi->replicas_desired = 3;
    nmi->replicas_ready = nmi->replicas_available = 3;
    store_put_workload(s, nmi);
    return s;
}

static struct check_result *run(struct store *s)
{
    struct check_result *r = check_new();
    struct check_options opt = {.now = T_NOW, .window_seconds = 3600};
    check_run(r, s, &opt);
    return r;
}

/* The object has exactly these keys, in this order. */
static void assert_keys(const cJSON *o, const char *const *keys, size_t n)
{
    assert_true(cJSON_IsObject(o));
    size_t i = 0;
    for (const cJSON *c = o->child; c; c = c->next, i++) {
        assert_true(i < n);
        assert_string_equal(c->string, keys[i]);
    }
    assert_int_equal(i, n);
}
#define KEYS(o, ...)                                                                               \
    do {                                                                                           \
        static const char *const k_[] = {__VA_ARGS__};                                             \
        assert_keys(o, k_, sizeof k_ / sizeof k_[0]);                                              \
    } while (0)

static const char *s_of(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    assert_non_null(v);
    if (cJSON_IsNull(v))
        return NULL;
    assert_true(cJSON_IsString(v));
    return v->valuestring;
}

static double n_of(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    assert_non_null(v);
    assert_true(cJSON_IsNumber(v));
    return v->valuedouble;
}

static const cJSON *workload(const cJSON *ws, const char *ns, const char *name)
{
    const cJSON *w;
    cJSON_ArrayForEach(w, ws)
    {
        if (strcmp(s_of(w, "namespace"), ns) == 0 && strcmp(s_of(w, "name"), name) == 0)
            return w;
    }
    fail_msg("workload %s/%s not in the report", ns, name);
    return NULL;
}

static void test_json(void **state)
{
    (void)state;
    struct store *s = small_store();
    struct check_result *r = run(s);
    struct idw_buf b = {0};
    struct report_meta m = {.context = "aks-prod",
                            .server = "https://prod-abc123.hcp.westeurope.azmk8s.io:443",
                            .generated_at = T_NOW};
    report_render(&b, REPORT_JSON, r, &m);
    cJSON *root = cJSON_Parse(b.data);
    assert_non_null(root);
    KEYS(root, "schema", "generated_at", "cluster", "workloads");
    assert_string_equal(s_of(root, "schema"), "idwatch.report/v1");
    assert_string_equal(s_of(root, "generated_at"), "2026-11-29T10:00:00Z");

    const cJSON *cl = cJSON_GetObjectItemCaseSensitive(root, "cluster");
    KEYS(cl, "context", "server", "arm_id", "oidc_issuer", "oidc", "workload_identity_webhook",
         "pod_identity", "migration", "pod_identity_removal", "findings", "scope", "sources");
    assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(cl, "scope")));
    /* a snapshot store has no data sources: an empty list, not a missing key */
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(cl, "sources")), 0);
    assert_string_equal(s_of(cl, "context"), "aks-prod");
    assert_string_equal(s_of(cl, "server"), "https://prod-abc123.hcp.westeurope.azmk8s.io:443");
    assert_non_null(strstr(s_of(cl, "arm_id"), "managedClusters/prod"));
    assert_string_equal(s_of(cl, "oidc_issuer"), T_ISSUER);

    const cJSON *o = cJSON_GetObjectItemCaseSensitive(cl, "oidc");
    KEYS(o, "status", "detail");
    assert_string_equal(s_of(o, "status"), "ok");

    o = cJSON_GetObjectItemCaseSensitive(cl, "workload_identity_webhook");
    KEYS(o, "status", "ready", "desired", "namespace");
    assert_string_equal(s_of(o, "status"), "ok");
    assert_int_equal((int)n_of(o, "ready"), 2);
    assert_int_equal((int)n_of(o, "desired"), 2);
    assert_string_equal(s_of(o, "namespace"), "kube-system");

    o = cJSON_GetObjectItemCaseSensitive(cl, "pod_identity");
    KEYS(o, "status", "nmi_ready", "nmi_desired", "mic_ready", "mic_desired", "identities",
         "bindings");
    assert_string_equal(s_of(o, "status"), "running"); /* managed mode: no MIC needed */
    assert_int_equal((int)n_of(o, "nmi_ready"), 3);
    assert_int_equal((int)n_of(o, "nmi_desired"), 3);
    assert_int_equal((int)n_of(o, "mic_ready"), 0);
    assert_int_equal((int)n_of(o, "identities"), 1);
    assert_int_equal((int)n_of(o, "bindings"), 1);

    /* 5 workloads: api (WI), worker (PI), the odd StatefulSet, nmi, the webhook (none) */
    o = cJSON_GetObjectItemCaseSensitive(cl, "migration");
    KEYS(o, "total", "workload_identity", "pod_identity", "both", "none", "percent_migrated");
    assert_int_equal((int)n_of(o, "total"), 5);
    assert_int_equal((int)n_of(o, "workload_identity"), 1);
    assert_int_equal((int)n_of(o, "pod_identity"), 1);
    assert_int_equal((int)n_of(o, "both"), 0);
    assert_int_equal((int)n_of(o, "none"), 3);
    assert_true(n_of(o, "percent_migrated") == 50.0);
    assert_non_null(strstr(b.data, "\"percent_migrated\":\t50"));

    o = cJSON_GetObjectItemCaseSensitive(cl, "pod_identity_removal");
    KEYS(o, "safe", "blockers");
    assert_true(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(o, "safe")));
    const cJSON *bl = cJSON_GetObjectItemCaseSensitive(o, "blockers");
    assert_int_equal(cJSON_GetArraySize(bl), 3);
    assert_string_equal(cJSON_GetArrayItem(bl, 0)->valuestring,
                        "1 workload still labelled aadpodidbinding");
    assert_string_equal(cJSON_GetArrayItem(bl, 1)->valuestring,
                        "1 live pod selected by an AzureIdentityBinding");
    assert_string_equal(cJSON_GetArrayItem(bl, 2)->valuestring,
                        "NMI served 1 token request in the last 1h");

    const cJSON *ws = cJSON_GetObjectItemCaseSensitive(root, "workloads");
    assert_int_equal(cJSON_GetArraySize(ws), 5);
    /* sorted by namespace, then name */
    assert_string_equal(s_of(cJSON_GetArrayItem(ws, 0), "namespace"), "default");
    assert_string_equal(s_of(cJSON_GetArrayItem(ws, 4), "namespace"), "payments");

    const cJSON *w = workload(ws, "payments", "api");
    KEYS(w, "kind", "namespace", "name", "service_account", "mechanism", "federation", "projection",
         "pod_identity_activity", "findings");
    assert_string_equal(s_of(w, "kind"), "Deployment");
    assert_string_equal(s_of(w, "service_account"), "api");
    assert_string_equal(s_of(w, "mechanism"), "workload-identity");
    o = cJSON_GetObjectItemCaseSensitive(w, "federation");
    KEYS(o, "status", "client_id", "identity", "credential", "detail");
    assert_string_equal(s_of(o, "status"), "ok");
    assert_string_equal(s_of(o, "client_id"), T_CID);
    assert_non_null(strstr(s_of(o, "identity"), "/userAssignedIdentities/id-api"));
    assert_string_equal(s_of(o, "credential"), "payments-api");
    o = cJSON_GetObjectItemCaseSensitive(w, "projection");
    KEYS(o, "status", "pods_ok", "pods_total", "detail");
    assert_string_equal(s_of(o, "status"), "ok");
    assert_int_equal((int)n_of(o, "pods_ok"), 1);
    assert_int_equal((int)n_of(o, "pods_total"), 1);
    o = cJSON_GetObjectItemCaseSensitive(w, "pod_identity_activity");
    KEYS(o, "status", "requests", "errors", "last_seen", "window_seconds", "detail",
         "binding_removable", "binding_removable_reason");
    assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(o, "binding_removable")));
    assert_string_equal(s_of(o, "status"), "not-applicable");
    assert_null(s_of(o, "last_seen"));
    assert_int_equal((int)n_of(o, "window_seconds"), 3600);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(w, "findings")), 0);

    w = workload(ws, "orders", "worker");
    assert_string_equal(s_of(w, "mechanism"), "pod-identity");
    o = cJSON_GetObjectItemCaseSensitive(w, "federation");
    assert_string_equal(s_of(o, "status"), "not-applicable");
    assert_null(s_of(o, "client_id"));
    assert_null(s_of(o, "identity"));
    assert_null(s_of(o, "credential"));
    o = cJSON_GetObjectItemCaseSensitive(w, "pod_identity_activity");
    assert_string_equal(s_of(o, "status"), "errors");
    assert_int_equal((int)n_of(o, "requests"), 1);
    assert_int_equal((int)n_of(o, "errors"), 1);
    assert_string_equal(s_of(o, "last_seen"), "2026-11-29T09:58:00Z");
    assert_true(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(o, "binding_removable")));
    assert_non_null(strstr(s_of(o, "binding_removable_reason"), "asked NMI for 1 tokens"));
    const cJSON *fs = cJSON_GetObjectItemCaseSensitive(w, "findings");
    assert_true(cJSON_GetArraySize(fs) >= 1);
    const cJSON *f = cJSON_GetArrayItem(fs, 0);
    KEYS(f, "severity", "code", "message", "remedy");
    assert_string_equal(s_of(f, "severity"), "warning");
    assert_string_equal(s_of(f, "code"), "PI_REQUEST_ERRORS");

    /* control bytes never reach the output */
    w = workload(ws, "default", "pla\"in,x?");
    assert_non_null(w);
    assert_null(strchr(b.data, '\x1b'));

    cJSON_Delete(root);
    buf_free(&b);
    assert_int_equal(report_exit_code(r), 0); /* warnings only */
    check_free(r);
    store_free(s);
}

static void test_unknowns_are_null(void **state)
{
    (void)state;
    struct store *s = store_new();
    store_source(s, "mutatingwebhookconfigurations")->state = STORE_SRC_FORBIDDEN;
    store_source(s, "daemonsets")->state = STORE_SRC_LISTING;
    struct check_result *r = run(s);
    struct idw_buf b = {0};
    report_render(&b, REPORT_JSON, r, NULL);
    cJSON *root = cJSON_Parse(b.data);
    const cJSON *cl = cJSON_GetObjectItemCaseSensitive(root, "cluster");
    assert_null(s_of(cl, "context"));
    assert_null(s_of(cl, "server"));
    assert_null(s_of(cl, "arm_id"));
    assert_null(s_of(cl, "oidc_issuer"));
    const cJSON *o = cJSON_GetObjectItemCaseSensitive(cl, "workload_identity_webhook");
    assert_string_equal(s_of(o, "status"), "unknown");
    assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(o, "ready")));
    assert_null(s_of(o, "namespace"));
    o = cJSON_GetObjectItemCaseSensitive(cl, "pod_identity");
    assert_string_equal(s_of(o, "status"), "unknown");
    assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(o, "nmi_ready")));
    o = cJSON_GetObjectItemCaseSensitive(cl, "oidc");
    assert_string_equal(s_of(o, "status"), "unknown");
    o = cJSON_GetObjectItemCaseSensitive(cl, "migration");
    assert_int_equal((int)n_of(o, "total"), 0);
    assert_true(n_of(o, "percent_migrated") == 0.0);
    /* nothing was seen, but nothing could be read either: never "safe" (it once was) */
    o = cJSON_GetObjectItemCaseSensitive(cl, "pod_identity_removal");
    assert_true(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(o, "safe")));
    const cJSON *bl = cJSON_GetObjectItemCaseSensitive(o, "blockers");
    assert_non_null(strstr(cJSON_GetArrayItem(bl, 0)->valuestring,
                           "pod identity state unknown: daemonsets not listed yet"));
    const cJSON *srcs = cJSON_GetObjectItemCaseSensitive(cl, "sources");
    assert_int_equal(cJSON_GetArraySize(srcs), 2);
    assert_string_equal(s_of(cJSON_GetArrayItem(srcs, 0), "state"), "forbidden");
    assert_string_equal(s_of(cJSON_GetArrayItem(srcs, 1), "state"), "loading");
    assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(srcs, 1),
                                                              "age_seconds")));
    cJSON_Delete(root);
    buf_free(&b);
    check_free(r);
    store_free(s);
}

static void test_text_markdown_csv(void **state)
{
    (void)state;
    struct store *s = small_store();
    struct check_result *r = run(s);
    struct report_meta m = {.context = "aks|prod", .server = "https://x", .generated_at = T_NOW};

    struct idw_buf b = {0};
    report_render(&b, REPORT_TEXT, r, &m);
    assert_non_null(strstr(b.data, "KIND"));
    assert_non_null(strstr(b.data, "payments"));
    assert_non_null(strstr(b.data, "Migration             50.0%"));
    assert_non_null(strstr(b.data, "PI_REQUEST_ERRORS"));
    assert_null(strchr(b.data, '\x1b'));
    buf_free(&b);

    report_render(&b, REPORT_MARKDOWN, r, &m);
    assert_true(str_has_prefix(b.data, "# idwatch report\n"));
    assert_non_null(strstr(b.data, "Context `aks\\|prod`"));
    assert_non_null(strstr(b.data, "| Deployment | payments | api | workload-identity | ok |"));
    assert_null(strchr(b.data, '\x1b'));
    buf_free(&b);

    report_render(&b, REPORT_CSV, r, &m);
    assert_true(str_has_prefix(b.data, "kind,namespace,name,service_account,mechanism,federation,"
                                       "client_id,projection,pods_ok,pods_total,"
                                       "pod_identity_activity,requests,errors,last_seen,severity,"
                                       "findings,binding_removable\r\n"));
    assert_non_null(strstr(b.data, "\r\nStatefulSet,default,\"pla\"\"in,x?\",default,none,"));
    assert_non_null(strstr(b.data, "\r\nDeployment,payments,api,api,workload-identity,ok," T_CID
                                   ",ok,1,1,not-applicable,0,0,,,,\r\n"));
    assert_non_null(strstr(b.data, "Deployment,orders,worker,worker,pod-identity,not-applicable,,"
                                   "not-applicable,0,0,errors,1,1,2026-11-29T09:58:00Z,warning,"
                                   "PI_REQUEST_ERRORS;PI_IN_USE,false\r\n"));
    /* every record ends in CRLF, and there is one per workload plus the header */
    size_t lines = 0;
    for (const char *p = b.data; (p = strstr(p, "\r\n")) != NULL; p += 2)
        lines++;
    assert_int_equal(lines, 6);
    buf_free(&b);
    check_free(r);
    store_free(s);
}

static void test_exit_code_and_formats(void **state)
{
    (void)state;
    enum report_format f;
    struct idw_err err;
    assert_int_equal(report_format_parse("markdown", &f, &err), 0);
    assert_int_equal(f, REPORT_MARKDOWN);
    assert_int_equal(report_format_parse("yaml", &f, &err), -1);
    assert_non_null(strstr(err.msg, "yaml"));
    assert_string_equal(report_format_name(REPORT_CSV), "csv");

    /* one error finding anywhere makes the exit code 1 */
    struct store *s = small_store();
    struct model_workload *d = tf_workload(MODEL_KIND_DEPLOYMENT, "shop", "web", "web");
    tf_kv(&d->tmpl.labels, WI_LABEL_USE "=True", NULL);
    store_put_workload(s, d);
    struct check_result *r = run(s);
    assert_int_equal(report_exit_code(r), 1);
    assert_int_equal(check_error_count(r), 1);
    check_free(r);
    store_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json),
        cmocka_unit_test(test_unknowns_are_null),
        cmocka_unit_test(test_text_markdown_csv),
        cmocka_unit_test(test_exit_code_and_formats),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
