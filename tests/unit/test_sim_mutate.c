/* mutate: the webhook's pod mutation reproduces the shared fixtures exactly (v1.6, v1.5, proxy
 * sidecar), and each rule of workload-identity.md §1-§2 holds on its own. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mutate.h"

#define TENANT "72f988bf-86f1-41af-91ab-2d7cd011db47"
#define CLIENT "00000000-1111-2222-3333-444444444444"

static cJSON *load(const char *path)
{
    char *text;
    size_t len;
    struct idw_err err = {{0}};
    if (file_read_all(path, 1 << 20, &text, &len, &err) != 0)
        fail_msg("%s", err.msg);
    cJSON *j = cJSON_Parse(text);
    free(text);
    if (!j)
        fail_msg("%s does not parse", path);
    return j;
}

static cJSON *parse(const char *s)
{
    cJSON *j = cJSON_Parse(s);
    if (!j)
        fail_msg("bad test JSON: %s", s);
    return j;
}

static const cJSON *spec_item(const cJSON *pod, const char *key)
{
    return cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(pod, "spec"), key);
}

static void assert_same(const cJSON *got, const cJSON *want, const char *what)
{
    if (!got && !want)
        return;
    if (!got || !want || !cJSON_Compare(got, want, 1)) {
        char *g = got ? cJSON_Print(got) : NULL, *w = want ? cJSON_Print(want) : NULL;
        fail_msg("%s differs:\n--- got\n%s\n--- want\n%s", what, g ? g : "(absent)",
                 w ? w : "(absent)");
    }
}

static const struct mutate_config cfg_v16 = {
    .layout = MUTATE_V16,
    .tenant_id = TENANT,
    .authority_host = "https://login.microsoftonline.com/",
    .proxy_image = "mcr.microsoft.com/oss/azure/workload-identity/proxy:v1.6.0",
    .proxy_init_image = "mcr.microsoft.com/oss/azure/workload-identity/proxy-init:v1.6.0",
    .native_sidecar = 1,
};

/* THE test: strip what the webhook injected (tests/data/mutate), mutate, compare with the fixture.
 */
static void check_fixture(const char *before, const char *fixture, struct mutate_config cfg)
{
    cJSON *pod = load(before);
    cJSON *sa = load(IDW_TEST_DATA "/mutate/serviceaccount.json");
    cJSON *want = load(fixture);
    struct idw_err err = {{0}};
    int rc = mutate_pod(&cfg, pod, sa, &err);
    if (rc != 0)
        fail_msg("%s: %d %s", fixture, rc, err.msg);
    const char *keys[] = {"containers", "initContainers", "volumes"};
    for (size_t i = 0; i < 3; i++) {
        char what[256];
        snprintf(what, sizeof what, "%s spec.%s", fixture, keys[i]);
        assert_same(spec_item(pod, keys[i]), spec_item(want, keys[i]), what);
    }
    cJSON_Delete(pod);
    cJSON_Delete(sa);
    cJSON_Delete(want);
}

static void test_fixture_v16(void **state)
{
    (void)state;
    check_fixture(IDW_TEST_DATA "/mutate/pod-before.json",
                  IDW_SHARED_DIR "/fixtures/wi-mutated-pod.json", cfg_v16);
}

static void test_fixture_v15(void **state)
{
    (void)state;
    struct mutate_config cfg = cfg_v16;
    cfg.layout = MUTATE_V15;
    check_fixture(IDW_TEST_DATA "/mutate/pod-before-v1.5.json",
                  IDW_SHARED_DIR "/fixtures/wi-mutated-pod-v1.5.json", cfg);
}

static void test_fixture_proxy_sidecar(void **state)
{
    (void)state;
    check_fixture(IDW_TEST_DATA "/mutate/pod-before-proxy-sidecar.json",
                  IDW_SHARED_DIR "/fixtures/wi-mutated-pod-proxy-sidecar.json", cfg_v16);
}

/* ---- rules, on a small pod ---- */

static cJSON *small_pod(const char *labels, const char *annotations, const char *extra_spec)
{
    char *s = xasprintf(
        "{\"metadata\":{\"name\":\"web-0\",\"namespace\":\"demo\",\"labels\":%s,\"annotations\":%s}"
        ","
        "\"spec\":{\"serviceAccountName\":\"web\",%s\"containers\":["
        "{\"name\":\"app\",\"image\":\"app:1\",\"env\":[{\"name\":\"AZURE_CLIENT_ID\",\"value\":"
        "\"user-set\"}],\"envFrom\":[{\"configMapRef\":{\"name\":\"x\"}}]},"
        "{\"name\":\"sidecar\",\"image\":\"s:1\"},{\"name\":\"other\",\"image\":\"o:1\"}]}}",
        labels, annotations, extra_spec);
    cJSON *j = parse(s);
    free(s);
    return j;
}

static cJSON *small_sa(const char *annotations)
{
    char *s = xasprintf(
        "{\"metadata\":{\"name\":\"web\",\"namespace\":\"demo\",\"annotations\":%s}}", annotations);
    cJSON *j = parse(s);
    free(s);
    return j;
}

static const cJSON *container(const cJSON *pod, const char *list, int i)
{
    return cJSON_GetArrayItem(spec_item(pod, list), i);
}

static const char *env_of(const cJSON *c, const char *name)
{
    const cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(c, "env"))
    {
        const cJSON *n = cJSON_GetObjectItemCaseSensitive(e, "name");
        if (cJSON_IsString(n) && strcmp(n->valuestring, name) == 0) {
            const cJSON *v = cJSON_GetObjectItemCaseSensitive(e, "value");
            return cJSON_IsString(v) ? v->valuestring : "";
        }
    }
    return NULL;
}

static int env_count(const cJSON *c)
{
    return cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(c, "env"));
}

static const cJSON *token_source(const cJSON *pod, int volume)
{
    const cJSON *v = cJSON_GetArrayItem(spec_item(pod, "volumes"), volume);
    const cJSON *src =
        cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(
                               cJSON_GetObjectItemCaseSensitive(v, "projected"), "sources"),
                           0);
    return cJSON_GetObjectItemCaseSensitive(src, "serviceAccountToken");
}

static void test_untouched(void **state)
{
    (void)state;
    const char *labels[] = {"{}", "{\"azure.workload.identity/use\":\"True\"}",
                            "{\"azure.workload.identity/use\":\"yes\"}"};
    cJSON *sa = small_sa("{\"azure.workload.identity/client-id\":\"" CLIENT "\"}");
    for (size_t i = 0; i < 3; i++) {
        cJSON *pod = small_pod(labels[i], "{}", ""), *orig = cJSON_Duplicate(pod, 1);
        struct idw_err err = {{0}};
        assert_int_equal(mutate_pod(&cfg_v16, pod, sa, &err), 0);
        assert_same(pod, orig, labels[i]);
        cJSON_Delete(pod);
        cJSON_Delete(orig);
    }
    /* no webhook installed: even labelled pods are created as they are */
    struct mutate_config none = cfg_v16;
    none.layout = MUTATE_NONE;
    cJSON *pod = small_pod("{\"azure.workload.identity/use\":\"true\"}", "{}", "");
    cJSON *orig = cJSON_Duplicate(pod, 1);
    struct idw_err err = {{0}};
    assert_int_equal(mutate_pod(&none, pod, sa, &err), 0);
    assert_same(pod, orig, "MUTATE_NONE");
    cJSON_Delete(pod);
    cJSON_Delete(orig);
    cJSON_Delete(sa);
}

static void test_env_rules(void **state)
{
    (void)state;
    cJSON *pod = small_pod("{\"azure.workload.identity/use\":\"true\"}",
                           "{\"azure.workload.identity/skip-containers\":\" sidecar ; nope\"}", "");
    cJSON *sa = small_sa("{\"azure.workload.identity/client-id\":\"" CLIENT "\"}");
    struct idw_err err = {{0}};
    assert_int_equal(mutate_pod(&cfg_v16, pod, sa, &err), 0);
    const cJSON *app = container(pod, "containers", 0);
    /* an existing AZURE_CLIENT_ID wins and is not duplicated; the others are appended in order */
    assert_string_equal(env_of(app, "AZURE_CLIENT_ID"), "user-set");
    assert_int_equal(env_count(app), 4);
    const char *order[] = {"AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AZURE_FEDERATED_TOKEN_FILE",
                           "AZURE_AUTHORITY_HOST"};
    for (int i = 0; i < 4; i++)
        assert_string_equal(
            cJSON_GetObjectItemCaseSensitive(
                cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(app, "env"), i), "name")
                ->valuestring,
            order[i]);
    assert_string_equal(env_of(app, "AZURE_FEDERATED_TOKEN_FILE"),
                        "/var/run/secrets/azure/wi/token/azure-identity-token");
    /* skip-containers is split at ';' and trimmed */
    const cJSON *sidecar = container(pod, "containers", 1);
    assert_null(cJSON_GetObjectItemCaseSensitive(sidecar, "env"));
    assert_null(cJSON_GetObjectItemCaseSensitive(sidecar, "volumeMounts"));
    const cJSON *other = container(pod, "containers", 2);
    assert_string_equal(env_of(other, "AZURE_CLIENT_ID"), CLIENT);
    assert_string_equal(env_of(other, "AZURE_TENANT_ID"), TENANT);
    /* the named pod hashes its own name: sha256("web-0")[:30] */
    const cJSON *vol = cJSON_GetArrayItem(spec_item(pod, "volumes"), 0);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(vol, "name")->valuestring,
                        "azure-workload-identity-reserved-1ae6fac6e0a6c45234c7f9a125d492");
    assert_int_equal(
        cJSON_GetObjectItemCaseSensitive(token_source(pod, 0), "expirationSeconds")->valueint,
        3600);
    cJSON_Delete(pod);
    cJSON_Delete(sa);
}

static void test_tenant_rules(void **state)
{
    (void)state;
    struct {
        const char *sa_ann;
        const char *tenant; /* expected AZURE_TENANT_ID, NULL = absent */
        const char *client; /* expected AZURE_CLIENT_ID on container "other" */
    } cases[] = {
        {"{\"azure.workload.identity/client-id\":\"c\",\"azure.workload.identity/tenant-id\":\"\"}",
         NULL, "c"},
        {"{\"azure.workload.identity/tenant-id\":\"sa-tenant\"}", "sa-tenant", NULL},
        {"{}", TENANT, NULL},
    };
    for (size_t i = 0; i < 3; i++) {
        cJSON *pod = small_pod("{\"azure.workload.identity/use\":\"true\"}", "{}", "");
        cJSON *sa = small_sa(cases[i].sa_ann);
        struct idw_err err = {{0}};
        assert_int_equal(mutate_pod(&cfg_v16, pod, sa, &err), 0);
        const cJSON *other = container(pod, "containers", 2);
        const char *t = env_of(other, "AZURE_TENANT_ID"), *c = env_of(other, "AZURE_CLIENT_ID");
        if (!str_eq(t, cases[i].tenant) || !str_eq(c, cases[i].client))
            fail_msg("tenant case %zu: tenant=%s client=%s", i, t ? t : "(absent)",
                     c ? c : "(absent)");
        cJSON_Delete(pod);
        cJSON_Delete(sa);
    }
}

static void test_expiration(void **state)
{
    (void)state;
    struct {
        const char *pod_ann, *sa_ann;
        int status;
        int64_t seconds;
        const char *msg;
    } cases[] = {
        {"{}", "{}", 0, 3600, NULL},
        {"{}", "{\"azure.workload.identity/service-account-token-expiration\":\"86400\"}", 0, 86400,
         NULL},
        {"{\"azure.workload.identity/service-account-token-expiration\":\"7200\"}",
         "{\"azure.workload.identity/service-account-token-expiration\":\"86400\"}", 0, 7200, NULL},
        {"{\"azure.workload.identity/service-account-token-expiration\":\"\"}",
         "{\"azure.workload.identity/service-account-token-expiration\":\"5000\"}", 0, 5000, NULL},
        {"{\"azure.workload.identity/service-account-token-expiration\":\"100\"}", "{}", 400, 0,
         "token expiration 100 not valid. Expected value to be between 3600 and 86400"},
        {"{}", "{\"azure.workload.identity/service-account-token-expiration\":\"86401\"}", 400, 0,
         "token expiration 86401 not valid. Expected value to be between 3600 and 86400"},
        {"{\"azure.workload.identity/service-account-token-expiration\":\"invalid\"}", "{}", 400, 0,
         "strconv.ParseInt: parsing \"invalid\": invalid syntax"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cJSON *pod = small_pod("{\"azure.workload.identity/use\":\"true\"}", cases[i].pod_ann, "");
        cJSON *orig = cJSON_Duplicate(pod, 1);
        cJSON *sa = small_sa(cases[i].sa_ann);
        struct idw_err err = {{0}};
        int rc = mutate_pod(&cfg_v16, pod, sa, &err);
        if (rc != cases[i].status)
            fail_msg("expiration case %zu: %d (%s)", i, rc, err.msg);
        if (rc == 0) {
            assert_int_equal(
                cJSON_GetObjectItemCaseSensitive(token_source(pod, 0), "expirationSeconds")
                    ->valueint,
                cases[i].seconds);
        } else {
            assert_string_equal(err.msg, cases[i].msg);
            assert_same(pod, orig, "rejected pod is unchanged");
        }
        cJSON_Delete(pod);
        cJSON_Delete(orig);
        cJSON_Delete(sa);
    }
}

static void test_proxy_rules(void **state)
{
    (void)state;
    cJSON *sa = small_sa("{\"azure.workload.identity/client-id\":\"" CLIENT "\"}");
    struct idw_err err = {{0}};

    /* hostNetwork + proxy is rejected, whatever the annotation value ("false" counts) */
    cJSON *pod = small_pod("{\"azure.workload.identity/use\":\"true\"}",
                           "{\"azure.workload.identity/inject-proxy-sidecar\":\"false\"}",
                           "\"hostNetwork\":true,");
    cJSON *orig = cJSON_Duplicate(pod, 1);
    assert_int_equal(mutate_pod(&cfg_v16, pod, sa, &err), 400);
    assert_string_equal(err.msg, "hostNetwork is set to true, cannot inject proxy sidecar");
    assert_same(pod, orig, "hostNetwork pod unchanged");
    cJSON_Delete(pod);
    cJSON_Delete(orig);

    pod = small_pod("{\"azure.workload.identity/use\":\"true\"}",
                    "{\"azure.workload.identity/inject-proxy-sidecar\":\"true\","
                    "\"azure.workload.identity/proxy-sidecar-port\":\"80a\"}",
                    "");
    assert_int_equal(mutate_pod(&cfg_v16, pod, sa, &err), 400);
    assert_string_equal(err.msg, "failed to parse proxy sidecar port: strconv.ParseInt: parsing "
                                 "\"80a\": invalid syntax");
    cJSON_Delete(pod);

    /* before 1.32: azwi-proxy is prepended to containers; the init container is appended */
    struct mutate_config old = cfg_v16;
    old.native_sidecar = 0;
    old.log_level = "debug";
    pod = small_pod("{\"azure.workload.identity/use\":\"true\"}",
                    "{\"azure.workload.identity/inject-proxy-sidecar\":\"\","
                    "\"azure.workload.identity/proxy-sidecar-port\":\"9000\"}",
                    "\"initContainers\":[{\"name\":\"migrate\",\"image\":\"m:1\"}],");
    assert_int_equal(mutate_pod(&old, pod, sa, &err), 0);
    const cJSON *proxy = container(pod, "containers", 0);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(proxy, "name")->valuestring, "azwi-proxy");
    assert_null(cJSON_GetObjectItemCaseSensitive(proxy, "restartPolicy"));
    cJSON *want_args = parse("[\"--proxy-port=9000\",\"--log-level=debug\"]");
    assert_same(cJSON_GetObjectItemCaseSensitive(proxy, "args"), want_args, "proxy args");
    cJSON_Delete(want_args);
    assert_string_equal(env_of(proxy, "AZURE_CLIENT_ID"), CLIENT);
    assert_int_equal(cJSON_GetArraySize(spec_item(pod, "containers")), 4);
    assert_string_equal(
        cJSON_GetObjectItemCaseSensitive(container(pod, "initContainers", 0), "name")->valuestring,
        "migrate");
    const cJSON *init = container(pod, "initContainers", 1);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(init, "name")->valuestring,
                        "azwi-proxy-init");
    assert_string_equal(env_of(init, "PROXY_PORT"), "9000");
    assert_string_equal(env_of(container(pod, "initContainers", 0), "AZURE_CLIENT_ID"), CLIENT);
    cJSON_Delete(pod);
    cJSON_Delete(sa);
}

static void test_rejections(void **state)
{
    (void)state;
    cJSON *pod = small_pod("{\"azure.workload.identity/use\":\"true\"}", "{}", "");
    struct idw_err err = {{0}};
    assert_int_equal(mutate_pod(&cfg_v16, pod, NULL, &err), 400);
    assert_string_equal(err.msg, "serviceaccounts \"web\" not found");
    cJSON_Delete(pod);
}

/* The webhook is reinvoked (reinvocationPolicy IfNeeded): a second pass must change nothing. */
static void test_reinvocation(void **state)
{
    (void)state;
    cJSON *sa = load(IDW_TEST_DATA "/mutate/serviceaccount.json");
    const char *before[] = {IDW_TEST_DATA "/mutate/pod-before-proxy-sidecar.json",
                            IDW_TEST_DATA "/mutate/pod-before-v1.5.json"};
    for (size_t i = 0; i < 2; i++) {
        struct mutate_config cfg = cfg_v16;
        cfg.layout = i ? MUTATE_V15 : MUTATE_V16;
        cJSON *pod = load(before[i]);
        struct idw_err err = {{0}};
        assert_int_equal(mutate_pod(&cfg, pod, sa, &err), 0);
        cJSON *once = cJSON_Duplicate(pod, 1);
        assert_int_equal(mutate_pod(&cfg, pod, sa, &err), 0);
        assert_same(pod, once, before[i]);
        cJSON_Delete(once);
        cJSON_Delete(pod);
    }
    cJSON_Delete(sa);
}

static void test_webhook_only(void **state)
{
    (void)state;
    struct mutate_config cfg = cfg_v16;
    cfg.webhook_only = 1;
    cJSON *pod = load(IDW_TEST_DATA "/mutate/pod-before-proxy-sidecar.json");
    cJSON *sa = load(IDW_TEST_DATA "/mutate/serviceaccount.json");
    struct idw_err err = {{0}};
    assert_int_equal(mutate_pod(&cfg, pod, sa, &err), 0);
    const cJSON *proxy = container(pod, "initContainers", 0);
    assert_null(cJSON_GetObjectItemCaseSensitive(proxy, "resources"));
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(proxy, "volumeMounts")),
                     1);
    const cJSON *vol = cJSON_GetArrayItem(spec_item(pod, "volumes"), 1);
    assert_null(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(vol, "projected"),
                                                 "defaultMode"));
    cJSON_Delete(pod);
    cJSON_Delete(sa);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixture_v16),
        cmocka_unit_test(test_fixture_v15),
        cmocka_unit_test(test_fixture_proxy_sidecar),
        cmocka_unit_test(test_untouched),
        cmocka_unit_test(test_env_rules),
        cmocka_unit_test(test_tenant_rules),
        cmocka_unit_test(test_expiration),
        cmocka_unit_test(test_proxy_rules),
        cmocka_unit_test(test_rejections),
        cmocka_unit_test(test_reinvocation),
        cmocka_unit_test(test_webhook_only),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
