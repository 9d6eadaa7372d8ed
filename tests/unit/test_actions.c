/* actions, the pure part: patch bodies for every action and workload kind (the CronJob path),
 * resourceVersion preconditions, FIC names and the name rule, the 20-limit refusal, undo
 * inverses, the M plan, and the action log's format and file mode. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test_actions_fixture.h"

/* A check_workload as the checks would give it (only what the builders read). */
static struct check_workload cw(enum model_workload_kind k, const char *ns, const char *name,
                                const char *sa)
{
    struct check_workload w;
    memset(&w, 0, sizeof w);
    w.kind = k;
    w.namespace_ = (char *)ns;
    w.name = (char *)name;
    w.service_account = (char *)sa;
    w.mechanism = CHECK_MECH_PI;
    w.federation.status = CHECK_FED_NO_CLIENT_ID;
    w.projection.status = CHECK_PROJ_NOT_APPLICABLE;
    return w;
}

static struct store *store_with(const char *json)
{
    struct store *s = store_new();
    cJSON *o = cJSON_Parse(json);
    assert_non_null(o);
    ta_store_put(s, o);
    cJSON_Delete(o);
    return s;
}

static struct act_world world(const struct store *s)
{
    struct act_world wd;
    memset(&wd, 0, sizeof wd);
    wd.store = s;
    wd.issuer = TA_ISSUER;
    wd.cluster_name = "aks-demo-weu";
    wd.now = TA_NOW;
    return wd;
}

/* The body without metadata equals check_patch_json's (the remedy shown in the detail view). */
static void assert_same_as_check(const char *body, enum model_workload_kind k, enum action_id act)
{
    char *want = check_patch_json(k, act);
    assert_non_null(want);
    cJSON *a = cJSON_Parse(body), *b = cJSON_Parse(want);
    cJSON_DeleteItemFromObject(a, "metadata");
    assert_true(cJSON_Compare(a, b, true));
    cJSON_Delete(a);
    cJSON_Delete(b);
    free(want);
}

static void test_paths(void **state)
{
    (void)state;
    static const struct {
        struct act_target t;
        const char *path, *name;
    } rows[] = {
        {{false, MODEL_KIND_DEPLOYMENT, "payments", "api", NULL, NULL, NULL},
         "/apis/apps/v1/namespaces/payments/deployments/api",
         "Deployment payments/api"},
        {{false, MODEL_KIND_STATEFULSET, "db", "pg", NULL, NULL, NULL},
         "/apis/apps/v1/namespaces/db/statefulsets/pg",
         "StatefulSet db/pg"},
        {{false, MODEL_KIND_DAEMONSET, "kube-system", "agent", NULL, NULL, NULL},
         "/apis/apps/v1/namespaces/kube-system/daemonsets/agent",
         "DaemonSet kube-system/agent"},
        {{false, MODEL_KIND_CRONJOB, "batch", "report", NULL, NULL, NULL},
         "/apis/batch/v1/namespaces/batch/cronjobs/report",
         "CronJob batch/report"},
        {{false, MODEL_KIND_POD, "legacy", "fax", NULL, NULL, NULL},
         "/api/v1/namespaces/legacy/pods/fax",
         "Pod legacy/fax"},
        {{true, MODEL_KIND_POD, "payments", "api-sa", NULL, NULL, NULL},
         "/api/v1/namespaces/payments/serviceaccounts/api-sa",
         "ServiceAccount payments/api-sa"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
        char *p = act_object_path(&rows[i].t), *n = act_object_name(&rows[i].t);
        assert_string_equal(p, rows[i].path);
        assert_string_equal(n, rows[i].name);
        free(p);
        free(n);
    }
}

/* Every template action on every controller kind: the exact body, the precondition first. */
static void test_bodies_every_kind(void **state)
{
    (void)state;
    static const struct {
        const char *kind;
        enum model_workload_kind k;
        const char *prefix, *suffix;
    } kinds[] = {
        {"Deployment", MODEL_KIND_DEPLOYMENT, "{\"spec\":{\"template\":{\"metadata\":", "}}}"},
        {"StatefulSet", MODEL_KIND_STATEFULSET, "{\"spec\":{\"template\":{\"metadata\":", "}}}"},
        {"DaemonSet", MODEL_KIND_DAEMONSET, "{\"spec\":{\"template\":{\"metadata\":", "}}}"},
        {"CronJob", MODEL_KIND_CRONJOB,
         "{\"spec\":{\"jobTemplate\":{\"spec\":{\"template\":{\"metadata\":", "}}}}}"},
    };
    static const struct {
        enum action_id a;
        const char *labels, *annotations, *inner;
    } acts[] = {
        {ACTION_LABEL_WI, "{\"aadpodidbinding\":\"web\"}", "{}",
         "{\"labels\":{\"azure.workload.identity/use\":\"true\"}}"},
        {ACTION_PROXY_ON, "{}", "{}",
         "{\"annotations\":{\"azure.workload.identity/inject-proxy-sidecar\":\"true\"}}"},
        {ACTION_PROXY_OFF, "{}", "{\"azure.workload.identity/inject-proxy-sidecar\":\"false\"}",
         "{\"annotations\":{\"azure.workload.identity/inject-proxy-sidecar\":null}}"},
        {ACTION_RESTART, "{}", "{}",
         "{\"annotations\":{\"kubectl.kubernetes.io/restartedAt\":\"2026-11-29T10:00:00Z\"}}"},
        {ACTION_REMOVE_PI, "{\"aadpodidbinding\":\"web\",\"azure.workload.identity/use\":\"true\"}",
         "{}", "{\"labels\":{\"aadpodidbinding\":null}}"},
    };
    for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++) {
        for (size_t j = 0; j < sizeof acts / sizeof *acts; j++) {
            if (kinds[i].k == MODEL_KIND_CRONJOB && acts[j].a == ACTION_RESTART)
                continue; /* refused: tested below */
            char *json = ta_deploy_json(kinds[i].kind, "shop", "web", "48213", acts[j].labels,
                                        acts[j].annotations, "web");
            struct store *s = store_with(json);
            struct act_world wd = world(s);
            struct check_workload w = cw(kinds[i].k, "shop", "web", "web");
            if (acts[j].a == ACTION_REMOVE_PI) { /* p needs healthy workload identity */
                w.mechanism = CHECK_MECH_BOTH;
                w.federation.status = CHECK_FED_OK;
                w.federation.client_id = TA_CID;
                w.projection.status = CHECK_PROJ_OK;
            }
            struct act_change c;
            struct idw_err err = {{0}};
            if (act_build(acts[j].a, &wd, &w, NULL, &c, &err) != 0)
                fail_msg("%s %s: %s", kinds[i].kind, action_info(acts[j].a)->id, err.msg);
            char *want = xasprintf("{\"metadata\":{\"resourceVersion\":\"48213\"},%s%s%s",
                                   kinds[i].prefix + 1, acts[j].inner, kinds[i].suffix);
            assert_string_equal(c.body, want);
            assert_int_equal(c.patch_type, KUBE_PATCH_MERGE);
            assert_string_equal(c.resource_version, "48213");
            assert_int_equal(c.target, ACT_TARGET_KUBE);
            enum action_id a = acts[j].a;
            if (a == ACTION_LABEL_WI || a == ACTION_REMOVE_PI || a == ACTION_PROXY_ON ||
                a == ACTION_PROXY_OFF)
                assert_same_as_check(c.body, kinds[i].k, a);
            free(want);
            act_change_free(&c);
            store_free(s);
            free(json);
        }
    }
}

static void test_refusals(void **state)
{
    (void)state;
    char *json = ta_deploy_json("CronJob", "batch", "report", "7",
                                "{\"azure.workload.identity/use\":\"true\"}", "{}", "report");
    struct store *s = store_with(json);
    struct act_world wd = world(s);
    struct check_workload w = cw(MODEL_KIND_CRONJOB, "batch", "report", "report");
    struct act_change c;
    struct idw_err err = {{0}};
    assert_int_equal(act_build(ACTION_RESTART, &wd, &w, NULL, &c, &err), -1);
    assert_non_null(strstr(err.msg, "nothing to restart"));
    assert_int_equal(act_build(ACTION_LABEL_WI, &wd, &w, NULL, &c, &err), -1);
    assert_non_null(strstr(err.msg, "already labelled"));
    assert_int_equal(act_build(ACTION_PROXY_OFF, &wd, &w, NULL, &c, &err), -1);
    assert_non_null(strstr(err.msg, "has no azure.workload.identity/inject-proxy-sidecar"));
    assert_int_equal(act_build(ACTION_REMOVE_PI, &wd, &w, NULL, &c, &err), -1);
    assert_non_null(strstr(err.msg, "has no aadpodidbinding"));
    /* a bare pod: no controller re-creates it */
    struct check_workload pod = cw(MODEL_KIND_POD, "batch", "lonely", "default");
    assert_int_equal(act_build(ACTION_LABEL_WI, &wd, &pod, NULL, &c, &err), -1);
    assert_non_null(strstr(err.msg, "bare pod"));
    /* names that are not DNS names never reach a path */
    struct check_workload bad = cw(MODEL_KIND_DEPLOYMENT, "batch", "../x", "sa");
    assert_int_equal(act_build(ACTION_LABEL_WI, &wd, &bad, NULL, &c, &err), -1);
    store_free(s);
    free(json);
}

/* The precondition comes from the freshest copy: the server's answer beats the store. */
static const struct act_target *fresh_fn(void *ctx, const char *path)
{
    const struct act_target *t = ctx;
    return strcmp(path, "/apis/apps/v1/namespaces/shop/deployments/web") == 0 ? t : NULL;
}

static void test_precondition_fresh(void **state)
{
    (void)state;
    char *json = ta_deploy_json("Deployment", "shop", "web", "100", "{}", "{}", "web");
    struct store *s = store_with(json);
    struct act_world wd = world(s);
    struct model_kvlist labels = {0}, ann = {0};
    kv_set(&labels, WI_LABEL_USE, "yes");
    struct act_target fresh = {false, MODEL_KIND_DEPLOYMENT, "shop", "web", "105", &labels, &ann};
    wd.fresh = fresh_fn;
    wd.fresh_ctx = &fresh;
    struct check_workload w = cw(MODEL_KIND_DEPLOYMENT, "shop", "web", "web");
    struct act_change c;
    assert_int_equal(act_build(ACTION_LABEL_WI, &wd, &w, NULL, &c, NULL), 0);
    assert_string_equal(c.resource_version, "105");
    assert_non_null(strstr(c.body, "\"resourceVersion\":\"105\""));
    assert_int_equal(c.n_edits, 1);
    assert_string_equal(c.edits[0].old, "yes"); /* the undo restores "yes" */
    act_change_free(&c);
    kv_free(&labels);
    store_free(s);
    free(json);
}

static void test_fic_name(void **state)
{
    (void)state;
    regex_t re;
    assert_int_equal(regcomp(&re, "^[a-zA-Z0-9][a-zA-Z0-9_-]{2,119}$", REG_EXTENDED | REG_NOSUB),
                     0);
    char out[ACT_FIC_NAME_MAX + 1];
    act_fic_name("aks-demo-weu", "payments", "payments-api", out);
    assert_string_equal(out, "aks-demo-weu-ServiceAccount-payments-payments-api");
    act_fic_name(NULL, "a", "b", out);
    assert_string_equal(out, "ServiceAccount-a-b");
    act_fic_name("my.cluster_01", "ns.x", "sa", out); /* dots are not allowed */
    assert_string_equal(out, "my-cluster_01-ServiceAccount-ns-x-sa");
    act_fic_name("--_odd", "n", "s", out); /* must start with a letter or digit */
    assert_string_equal(out, "odd-ServiceAccount-n-s");
    assert_int_equal(regexec(&re, out, 0, NULL, 0), 0);
    /* too long: cut to 120 with a hash of the whole name, so names stay distinct */
    char ns[80], sa1[80], sa2[80];
    memset(ns, 'n', 63), ns[63] = '\0';
    memset(sa1, 's', 63), sa1[63] = '\0';
    memcpy(sa2, sa1, 64), sa2[62] = 't';
    char out2[ACT_FIC_NAME_MAX + 1];
    act_fic_name("aks-demo-weu", ns, sa1, out);
    act_fic_name("aks-demo-weu", ns, sa2, out2);
    assert_int_equal(strlen(out), 120);
    assert_int_equal(strlen(out2), 120);
    assert_string_not_equal(out, out2);
    assert_int_equal(strncmp(out, "aks-demo-weu-ServiceAccount-nnnn", 32), 0);
    assert_int_equal(regexec(&re, out, 0, NULL, 0), 0);
    assert_true(azure_fic_name_valid(out));
    /* every fitted name obeys the rule, whatever goes in */
    const char *odd[] = {"ü", "..", "", "a b", "UPPER", "x\n", "-"};
    for (size_t i = 0; i < sizeof odd / sizeof *odd; i++) {
        act_fic_name(odd[i], odd[i], "sa", out);
        if (regexec(&re, out, 0, NULL, 0) != 0)
            fail_msg("'%s' gave '%s'", odd[i], out);
    }
    regfree(&re);
}

static struct store *fic_store(size_t n_fics, const char *subject0)
{
    char *sa = ta_sa_json("payments", "api", "9",
                          "{\"azure.workload.identity/client-id\":\"" TA_CID "\"}");
    struct store *s = store_with(sa);
    ta_azure(s, n_fics, subject0);
    free(sa);
    return s;
}

static void test_fic_build_and_limit(void **state)
{
    (void)state;
    struct check_workload w = cw(MODEL_KIND_DEPLOYMENT, "payments", "api", "api");
    struct act_change c;
    struct idw_err err = {{0}};
    /* 19 credentials: created, issuer exactly the cluster's (trailing slash kept) */
    struct store *s = fic_store(19, NULL);
    struct act_world wd = world(s);
    assert_int_equal(act_build(ACTION_CREATE_FIC, &wd, &w, NULL, &c, &err), 0);
    assert_int_equal(c.target, ACT_TARGET_ARM);
    assert_string_equal(c.identity_arm_id, TA_IDENTITY);
    assert_string_equal(c.fic_name, "aks-demo-weu-ServiceAccount-payments-api");
    assert_string_equal(c.issuer, TA_ISSUER);
    assert_string_equal(c.subject, "system:serviceaccount:payments:api");
    assert_string_equal(c.audience, "api://AzureADTokenExchange");
    assert_string_equal(c.body, "{\"properties\":{\"issuer\":\"" TA_ISSUER
                                "\",\"subject\":\"system:serviceaccount:payments:api\","
                                "\"audiences\":[\"api://AzureADTokenExchange\"]}}");
    assert_int_equal(c.fic_count, 19);
    act_change_free(&c);
    store_free(s);
    /* 20: refused with the reason */
    s = fic_store(20, NULL);
    wd = world(s);
    assert_int_equal(act_build(ACTION_CREATE_FIC, &wd, &w, NULL, &c, &err), -1);
    assert_non_null(strstr(err.msg, "already has 20 federated credentials (the limit is 20)"));
    store_free(s);
    /* the pair issuer+subject exists already */
    s = fic_store(3, "system:serviceaccount:payments:api");
    wd = world(s);
    assert_int_equal(act_build(ACTION_CREATE_FIC, &wd, &w, NULL, &c, &err), -1);
    assert_non_null(strstr(err.msg, "already has credential other-0"));
    /* no issuer known: refused */
    wd.issuer = NULL;
    assert_int_equal(act_build(ACTION_CREATE_FIC, &wd, &w, NULL, &c, &err), -1);
    assert_non_null(strstr(err.msg, "issuer"));
    store_free(s);
}

static void test_annotate(void **state)
{
    (void)state;
    char *sa = ta_sa_json("payments", "api", "9", "{\"other\":\"x\"}");
    struct store *s = store_with(sa);
    struct act_world wd = world(s);
    struct check_workload w = cw(MODEL_KIND_DEPLOYMENT, "payments", "api", "api");
    struct act_change c;
    struct idw_err err = {{0}};
    struct act_params p = {.client_id = "not-a-guid"};
    assert_int_equal(act_build(ACTION_ANNOTATE_SA, &wd, &w, &p, &c, &err), -1);
    assert_non_null(strstr(err.msg, "GUID"));
    p.client_id = TA_CID;
    p.tenant_id = TA_TENANT;
    assert_int_equal(act_build(ACTION_ANNOTATE_SA, &wd, &w, &p, &c, &err), 0);
    assert_string_equal(c.path, "/api/v1/namespaces/payments/serviceaccounts/api");
    assert_string_equal(c.body, "{\"metadata\":{\"resourceVersion\":\"9\",\"annotations\":{"
                                "\"azure.workload.identity/client-id\":\"" TA_CID "\","
                                "\"azure.workload.identity/tenant-id\":\"" TA_TENANT "\"}}}");
    for (size_t i = 0; i < c.n_warnings; i++) /* no other workload uses the SA yet */
        assert_null(strstr(c.warnings[i], "other workload"));
    act_change_free(&c);
    /* the annotation is the SA's: two other workloads on it are named in a warning */
    const char *kinds[] = {"Deployment", "CronJob", "Deployment"};
    const char *names[] = {"api", "nightly", "batch"};
    for (int i = 0; i < 3; i++) {
        char *d = ta_deploy_json(kinds[i], "payments", names[i], "5", "{}", "{}", "api");
        cJSON *o = cJSON_Parse(d);
        ta_store_put(s, o);
        cJSON_Delete(o);
        free(d);
    }
    char *other = ta_deploy_json("Deployment", "payments", "elsewhere", "5", "{}", "{}", "web");
    cJSON *oo = cJSON_Parse(other);
    ta_store_put(s, oo);
    cJSON_Delete(oo);
    free(other);
    assert_int_equal(act_build(ACTION_ANNOTATE_SA, &wd, &w, &p, &c, &err), 0);
    bool warned = false;
    for (size_t i = 0; i < c.n_warnings; i++)
        warned = warned || strcmp(c.warnings[i],
                                  "2 other workloads in payments use service account api too") == 0;
    assert_true(warned);
    act_change_free(&c);
    store_free(s);
    free(sa);
    /* already annotated with that id: nothing to do */
    s = fic_store(0, NULL);
    wd = world(s);
    p.tenant_id = NULL;
    assert_int_equal(act_build(ACTION_ANNOTATE_SA, &wd, &w, &p, &c, &err), -1);
    assert_non_null(strstr(err.msg, "already has client-id"));
    /* a missing service account is named */
    struct check_workload w2 = cw(MODEL_KIND_DEPLOYMENT, "payments", "api", "ghost");
    assert_int_equal(act_build(ACTION_ANNOTATE_SA, &wd, &w2, &p, &c, &err), -1);
    assert_non_null(strstr(err.msg, "ghost does not exist"));
    store_free(s);
    assert_true(act_client_id_valid(TA_CID));
    assert_false(act_client_id_valid("0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f"));
    assert_false(act_client_id_valid("0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f00"));
    assert_false(act_client_id_valid("0f1e2d3c_4b5a-4968-8776-a5b4c3d2e1f0"));
    assert_false(act_client_id_valid(NULL));
}

static void test_p_only_when_healthy(void **state)
{
    (void)state;
    char *json = ta_deploy_json(
        "Deployment", "shop", "web", "3",
        "{\"aadpodidbinding\":\"web\",\"azure.workload.identity/use\":\"true\"}", "{}", "web");
    struct store *s = store_with(json);
    struct act_world wd = world(s);
    struct check_workload w = cw(MODEL_KIND_DEPLOYMENT, "shop", "web", "web");
    w.mechanism = CHECK_MECH_BOTH;
    w.federation.status = CHECK_FED_MISSING;
    w.projection.status = CHECK_PROJ_OK;
    struct act_change c;
    struct idw_err err = {{0}};
    assert_int_equal(act_build(ACTION_REMOVE_PI, &wd, &w, NULL, &c, &err), -1);
    assert_non_null(strstr(err.msg, "not healthy yet (its federation is not ok)"));
    w.federation.status = CHECK_FED_OK;
    w.projection.status = CHECK_PROJ_NOT_INJECTED;
    assert_int_equal(act_build(ACTION_REMOVE_PI, &wd, &w, NULL, &c, &err), -1);
    assert_non_null(strstr(err.msg, "projected Azure token"));
    w.projection.status = CHECK_PROJ_OK;
    w.activity.requests = 42;
    wd.window_seconds = 3600;
    assert_int_equal(act_build(ACTION_REMOVE_PI, &wd, &w, NULL, &c, &err), 0);
    bool warned = false;
    for (size_t i = 0; i < c.n_warnings; i++)
        warned |= strstr(c.warnings[i], "NMI saw 42 token requests from it in the last 1h") != NULL;
    assert_true(warned);
    act_change_free(&c);
    /* quiet: no warning */
    w.activity.requests = 0;
    assert_int_equal(act_build(ACTION_REMOVE_PI, &wd, &w, NULL, &c, &err), 0);
    assert_int_equal(c.n_warnings, 0);
    act_change_free(&c);
    store_free(s);
    free(json);
}

static void test_undo_inverse(void **state)
{
    (void)state;
    /* the label had "True" (wrong case) and the proxy annotation was absent */
    char *json = ta_deploy_json("Deployment", "shop", "web", "10",
                                "{\"azure.workload.identity/use\":\"True\"}", "{}", "web");
    struct store *s = store_with(json);
    struct act_world wd = world(s);
    struct check_workload w = cw(MODEL_KIND_DEPLOYMENT, "shop", "web", "web");
    struct act_change lab, prox, inv;
    struct idw_err err = {{0}};
    assert_int_equal(act_build(ACTION_LABEL_WI, &wd, &w, NULL, &lab, &err), 0);
    assert_int_equal(act_build(ACTION_PROXY_ON, &wd, &w, NULL, &prox, &err), 0);
    /* the object after both were applied */
    struct model_kvlist labels = {0}, ann = {0};
    kv_set(&labels, WI_LABEL_USE, "true");
    kv_set(&ann, WI_ANN_PROXY_SIDECAR, "true");
    struct act_target now = {false, MODEL_KIND_DEPLOYMENT, "shop", "web", "12", &labels, &ann};
    assert_int_equal(act_build_undo(&lab, &now, &inv, &err), 0);
    assert_int_equal(inv.kind, ACTION_UNDO);
    assert_int_equal(inv.undo_of, ACTION_LABEL_WI);
    assert_string_equal(inv.body,
                        "{\"metadata\":{\"resourceVersion\":\"12\"},\"spec\":{\"template\":"
                        "{\"metadata\":{\"labels\":{\"azure.workload.identity/use\":"
                        "\"True\"}}}}}");
    assert_int_equal(inv.n_warnings, 0);
    act_change_free(&inv);
    assert_int_equal(act_build_undo(&prox, &now, &inv, &err), 0);
    assert_string_equal(inv.body,
                        "{\"metadata\":{\"resourceVersion\":\"12\"},\"spec\":{\"template\":"
                        "{\"metadata\":{\"annotations\":{\"azure.workload.identity/"
                        "inject-proxy-sidecar\":null}}}}}");
    act_change_free(&inv);
    /* someone changed it since: still restored, with a warning */
    kv_set(&ann, WI_ANN_PROXY_SIDECAR, "yes");
    assert_int_equal(act_build_undo(&prox, &now, &inv, &err), 0);
    assert_int_equal(inv.n_warnings, 1);
    assert_non_null(strstr(inv.warnings[0], "changed since: yes"));
    act_change_free(&inv);
    /* already back to the old values: nothing to undo */
    kv_del(&ann, WI_ANN_PROXY_SIDECAR);
    assert_int_equal(act_build_undo(&prox, &now, &inv, &err), -1);
    assert_non_null(strstr(err.msg, "nothing to undo"));
    /* ARM changes have no inverse here: the message names the az command */
    struct act_change arm = {.target = ACT_TARGET_ARM, .kind = ACTION_CREATE_FIC};
    arm.fic_name = "n1";
    arm.identity_name = "id1";
    assert_int_equal(act_build_undo(&arm, &now, &inv, &err), -1);
    assert_non_null(strstr(err.msg, "az identity federated-credential delete --name n1"));
    kv_free(&labels);
    kv_free(&ann);
    act_change_free(&lab);
    act_change_free(&prox);
    store_free(s);
    free(json);
}

static void test_migrate_plan(void **state)
{
    (void)state;
    enum action_id p[ACT_PLAN_MAX];
    /* pod identity only: a, f, w (p waits until workload identity is healthy) */
    struct check_workload w = cw(MODEL_KIND_DEPLOYMENT, "shop", "web", "web");
    w.pi_selector = "web";
    assert_int_equal(act_migrate_plan(&w, p), 3);
    assert_int_equal(p[0], ACTION_ANNOTATE_SA);
    assert_int_equal(p[1], ACTION_CREATE_FIC);
    assert_int_equal(p[2], ACTION_LABEL_WI);
    /* annotated, credential missing, labelled, pods not injected yet: f, R */
    w.federation.status = CHECK_FED_MISSING;
    w.federation.client_id = TA_CID;
    w.mechanism = CHECK_MECH_BOTH;
    w.projection.status = CHECK_PROJ_NOT_INJECTED;
    assert_int_equal(act_migrate_plan(&w, p), 2);
    assert_int_equal(p[0], ACTION_CREATE_FIC);
    assert_int_equal(p[1], ACTION_RESTART);
    /* everything healthy, label left over: p only */
    w.federation.status = CHECK_FED_OK;
    w.projection.status = CHECK_PROJ_OK;
    assert_int_equal(act_migrate_plan(&w, p), 1);
    assert_int_equal(p[0], ACTION_REMOVE_PI);
    /* done */
    w.pi_selector = NULL;
    w.mechanism = CHECK_MECH_WI;
    assert_int_equal(act_migrate_plan(&w, p), 0);
    /* a CronJob is never restarted */
    w.kind = MODEL_KIND_CRONJOB;
    w.projection.status = CHECK_PROJ_NOT_INJECTED;
    assert_int_equal(act_migrate_plan(&w, p), 0);
}

/* ---- the action log ---- */

static char tmpdir[256];

static int log_setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/idw-actlog.XXXXXX");
    assert_non_null(mkdtemp(tmpdir));
    return 0;
}

static int log_teardown(void **state)
{
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static void test_log_default_path(void **state)
{
    (void)state;
    char *old_x = xstrdup(getenv("XDG_STATE_HOME")), *old_h = xstrdup(getenv("HOME"));
    setenv("XDG_STATE_HOME", "/srv/state", 1);
    char *p = act_log_default_path();
    assert_string_equal(p, "/srv/state/idwatch/actions.log");
    free(p);
    unsetenv("XDG_STATE_HOME");
    setenv("HOME", "/home/u", 1);
    p = act_log_default_path();
    assert_string_equal(p, "/home/u/.local/state/idwatch/actions.log");
    free(p);
    setenv("XDG_STATE_HOME", "relative/dir", 1); /* ignored, as the spec says */
    p = act_log_default_path();
    assert_string_equal(p, "/home/u/.local/state/idwatch/actions.log");
    free(p);
    if (old_x)
        setenv("XDG_STATE_HOME", old_x, 1);
    else
        unsetenv("XDG_STATE_HOME");
    if (old_h)
        setenv("HOME", old_h, 1);
    free(old_x);
    free(old_h);
}

static void test_log_lines(void **state)
{
    (void)state;
    char *json = ta_deploy_json("Deployment", "shop", "web", "10", "{}", "{}", "web");
    struct store *s = store_with(json);
    struct act_world wd = world(s);
    struct check_workload w = cw(MODEL_KIND_DEPLOYMENT, "shop", "web", "web");
    struct act_change c;
    assert_int_equal(act_build(ACTION_LABEL_WI, &wd, &w, NULL, &c, NULL), 0);
    char path[400];
    snprintf(path, sizeof path, "%s/state/idwatch/actions.log", tmpdir);
    struct act_log_entry e = {.time = TA_NOW,
                              .context = "aks-demo",
                              .user = "clusterUser_x",
                              .change = &c,
                              .result = "applied"};
    struct idw_err err = {{0}};
    if (act_log_append(path, &e, &err) != 0)
        fail_msg("%s", err.msg);
    e.result = "failed: 409 Conflict: the object has been modified";
    e.context = "ctx\x1b[31m"; /* control bytes never reach the file */
    assert_int_equal(act_log_append(path, &e, &err), 0);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    char dir[400];
    snprintf(dir, sizeof dir, "%s/state/idwatch", tmpdir);
    assert_int_equal(stat(dir, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    char *data;
    size_t len;
    assert_int_equal(file_read_all(path, 1 << 20, &data, &len, &err), 0);
    assert_null(strchr(data, '\x1b'));
    assert_null(strstr(data, "Bearer"));
    assert_null(strstr(data, "token"));
    size_t lines = 0;
    for (char *line = data, *nl; (nl = strchr(line, '\n')); line = nl + 1, lines++) {
        *nl = '\0';
        cJSON *o = cJSON_Parse(line);
        assert_non_null(o);
        assert_string_equal(cJSON_GetObjectItem(o, "time")->valuestring, "2026-11-29T10:00:00Z");
        assert_string_equal(cJSON_GetObjectItem(o, "user")->valuestring, "clusterUser_x");
        assert_string_equal(cJSON_GetObjectItem(o, "object")->valuestring, "Deployment shop/web");
        const cJSON *ch = cJSON_GetObjectItem(o, "change");
        assert_string_equal(cJSON_GetObjectItem(ch, "key")->valuestring, "w");
        assert_string_equal(cJSON_GetObjectItem(ch, "method")->valuestring, "PATCH");
        assert_string_equal(cJSON_GetObjectItem(ch, "path")->valuestring,
                            "/apis/apps/v1/namespaces/shop/deployments/web");
        assert_string_equal(cJSON_GetObjectItem(ch, "content_type")->valuestring,
                            "application/merge-patch+json");
        cJSON *body = cJSON_Parse(c.body);
        assert_true(cJSON_Compare(cJSON_GetObjectItem(ch, "body"), body, true));
        cJSON_Delete(body);
        assert_string_equal(cJSON_GetObjectItem(o, "result")->valuestring,
                            lines == 0 ? "applied"
                                       : "failed: 409 Conflict: the object has been modified");
        cJSON_Delete(o);
    }
    assert_int_equal(lines, 2);
    free(data);
    /* an existing file with a loose mode is made private */
    chmod(path, 0644);
    assert_int_equal(act_log_append(path, &e, &err), 0);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    act_change_free(&c);
    store_free(s);
    free(json);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_paths),
        cmocka_unit_test(test_bodies_every_kind),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_precondition_fresh),
        cmocka_unit_test(test_fic_name),
        cmocka_unit_test(test_fic_build_and_limit),
        cmocka_unit_test(test_annotate),
        cmocka_unit_test(test_p_only_when_healthy),
        cmocka_unit_test(test_undo_inverse),
        cmocka_unit_test(test_migrate_plan),
        cmocka_unit_test(test_log_default_path),
        cmocka_unit_test_setup_teardown(test_log_lines, log_setup, log_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
