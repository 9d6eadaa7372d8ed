/* test_sim_scenario: the simulator's scenario files and generator: demo.json and empty.json load
 * into the cluster they describe, malformed files fail with one line naming the file and the JSON
 * path, and --generate builds what it is asked for, deterministically. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "simstate.h"

#define SCEN_DIR IDW_SOURCE_DIR "/tests/sim/scenarios"
#define BAD_DIR IDW_TEST_DATA "/simstate"

static struct sim *open_sim(const char *scenario, const char *generate, uint64_t seed)
{
    struct sim_options o = {.scenario = scenario,
                            .scenarios_dir = SCEN_DIR,
                            .generate = generate,
                            .speed = 1,
                            .seed = seed,
                            .frozen = true};
    struct sim *s = NULL;
    struct idw_err err = {{0}};
    int rc = sim_new(&o, &s, &err);
    if (rc != 0)
        fail_msg("sim_new(%s): %s", scenario ? scenario : generate, err.msg);
    return s;
}

static const struct sim_resource *res(const char *group, const char *plural)
{
    const struct sim_resource *r = sim_resource_find(group, "v1", plural);
    assert_non_null(r);
    return r;
}

static size_t count(struct sim *s, const char *group, const char *plural, const char *ns,
                    const char *selector)
{
    struct selector sel = {0};
    struct idw_err err;
    if (selector)
        assert_int_equal(selector_parse(selector, &sel, &err), 0);
    const cJSON **items = NULL;
    size_t n = sim_list(s, res(group, plural), ns, selector ? &sel : NULL, NULL, &items);
    free(items);
    selector_free(&sel);
    return n;
}

static cJSON *read_json(const char *path)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    cJSON *j = cJSON_Parse(buf);
    free(buf);
    assert_non_null(j);
    return j;
}

/* demo.json: every workload the file lists is there, with the pods its replicas ask for. */
static void test_demo_loads(void **state)
{
    (void)state;
    struct sim *s = open_sim("demo", NULL, 0);
    sim_lock(s);
    cJSON *doc = read_json(SCEN_DIR "/demo.json");
    const cJSON *o;
    size_t workloads = 0, deployments = 0;
    cJSON_ArrayForEach(o, cJSON_GetObjectItem(doc, "objects"))
    {
        const char *kind = cJSON_GetObjectItem(o, "kind")->valuestring;
        const cJSON *meta = cJSON_GetObjectItem(o, "metadata");
        const char *ns = cJSON_GetObjectItem(meta, "namespace")->valuestring;
        const char *name = cJSON_GetObjectItem(meta, "name")->valuestring;
        if (strcmp(kind, "Deployment") == 0) {
            deployments++;
            const cJSON *got = sim_get(s, res("apps", "deployments"), ns, name);
            assert_non_null(got);
            assert_null(cJSON_GetObjectItem(got, "description")); /* the loader strips it */
            int want = cJSON_GetObjectItem(cJSON_GetObjectItem(o, "spec"), "replicas")->valueint;
            const cJSON *st = cJSON_GetObjectItem(got, "status");
            int ready = cJSON_GetObjectItem(st, "readyReplicas")->valueint;
            if (strcmp(name, "analytics-export") == 0)
                assert_int_equal(ready, 0); /* the webhook refuses its pods */
            else
                assert_int_equal(ready, want);
        }
        if (strcmp(kind, "Deployment") == 0 || strcmp(kind, "StatefulSet") == 0 ||
            strcmp(kind, "DaemonSet") == 0 || strcmp(kind, "CronJob") == 0 ||
            strcmp(kind, "Pod") == 0) {
            workloads++;
            /* each workload says which case it demonstrates */
            assert_true(cJSON_IsString(cJSON_GetObjectItem(o, "description")));
        }
    }
    assert_in_range(workloads, 38, 60);
    /* scenario deployments + the webhook + MIC */
    assert_int_equal(count(s, "apps", "deployments", NULL, NULL), deployments + 2);
    assert_int_equal(count(s, "", "namespaces", NULL, NULL), 8 + 4 + 2);
    /* NMI: one per node; the webhook MWC exists with a CA bundle */
    assert_int_equal(count(s, "", "pods", "aad-pod-identity", "app.kubernetes.io/component=nmi"),
                     4);
    const cJSON *mwc =
        sim_get(s, res("admissionregistration.k8s.io", "mutatingwebhookconfigurations"), NULL,
                "azure-wi-webhook-mutating-webhook-configuration");
    assert_non_null(mwc);
    const cJSON *hook = cJSON_GetArrayItem(cJSON_GetObjectItem(mwc, "webhooks"), 0);
    const cJSON *ca = cJSON_GetObjectItem(cJSON_GetObjectItem(hook, "clientConfig"), "caBundle");
    assert_true(strlen(ca->valuestring) > 20);
    assert_string_equal(sim_kubernetes_version(s), "v1.32.4");
    assert_true(strstr(sim_issuer(s), ".oic.prod-aks.azure.com/") != NULL);
    const cJSON *azure = cJSON_GetObjectItem(sim_scenario(s), "azure");
    assert_true(cJSON_GetArraySize(cJSON_GetObjectItem(azure, "userAssignedIdentities")) >= 8);
    /* MIC assigned identities for bound pods (standard mode) */
    assert_true(count(s, "aadpodidentity.k8s.io", "azureassignedidentities", "default", NULL) >= 4);
    cJSON_Delete(doc);
    sim_unlock(s);
    sim_free(s);
}

static void test_empty_loads(void **state)
{
    (void)state;
    struct sim *s = open_sim("empty", NULL, 0);
    sim_lock(s);
    assert_int_equal(count(s, "", "namespaces", NULL, NULL), 4);
    assert_non_null(sim_get(s, res("", "namespaces"), NULL, "kube-system"));
    assert_int_equal(
        count(s, "admissionregistration.k8s.io", "mutatingwebhookconfigurations", NULL, NULL), 0);
    /* coredns 2 + metrics-server 2 + konnectivity 2 + kube-proxy on 2 nodes */
    assert_int_equal(count(s, "", "pods", NULL, NULL), 8);
    assert_int_equal(count(s, "", "pods", "default", NULL), 0);
    sim_unlock(s);
    sim_free(s);
}

/* A scenario given as a path works too (not only a name in the scenarios dir). */
static void test_scenario_by_path(void **state)
{
    (void)state;
    struct sim *s = open_sim(SCEN_DIR "/empty.json", NULL, 0);
    sim_lock(s);
    assert_int_equal(count(s, "", "nodes", NULL, NULL), 2);
    sim_unlock(s);
    sim_free(s);
}

static const struct {
    const char *file;
    const char *message;
} bad_files[] = {
    {"bad_name.json", "bad_name.json: $.objects[3].metadata.name: expected a string"},
    {"bad_layout.json",
     "bad_layout.json: $.cluster.webhook.layout: unknown value \"v2\" (expected one of none, "
     "v1.5, v1.6)"},
    {"bad_json.json", "bad_json.json: invalid JSON near line 4"},
    {"bad_traffic.json", "bad_traffic.json: $.traffic[0].name: no Deployment shop/nope in the "
                         "scenario"},
    {"bad_outcome.json",
     "bad_outcome.json: $.traffic[0].outcomes.maybe: unknown value \"maybe\" (expected one of ok, "
     "not-bound, canceled, identity-not-found, no-resource, exception, unknown-pod)"},
    {"bad_containers.json",
     "bad_containers.json: $.objects[0].spec.template.spec.containers: expected an array"},
    {"bad_label.json", "bad_label.json: $.objects[0].metadata.labels.app: expected a string"},
    {"bad_churn.json",
     "bad_churn.json: $.churn[0].every: expected a duration like \"90s\", \"10m\" or \"2h\""},
    {"bad_rbac.json", "bad_rbac.json: $.rbac[0].allowed: expected true or false"},
    {"dup.json", "dup.json: $.objects[1]: duplicate Deployment shop/web"},
    {"not_object.json", "not_object.json: $: expected an object"},
    {"bad_era.json",
     "bad_era.json: $.cluster.podIdentity.logEra: unknown value \"klog-2.0\" (expected one of "
     "logrus-1.5, klog-1.6, klog-1.7, klog-1.8)"},
};

static void test_malformed(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof bad_files / sizeof *bad_files; i++) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s", BAD_DIR, bad_files[i].file);
        struct sim_options o = {.scenario = path, .speed = 1, .frozen = true};
        struct sim *s = (struct sim *)&o; /* must be reset to NULL on failure */
        struct idw_err err = {{0}};
        int rc = sim_new(&o, &s, &err);
        if (rc == 0)
            sim_free(s);
        assert_int_not_equal(rc, 0);
        assert_null(s);
        assert_null(strchr(err.msg, '\n'));
        if (strcmp(err.msg, bad_files[i].message) != 0)
            fail_msg("%s:\n  got  %s\n  want %s", bad_files[i].file, err.msg, bad_files[i].message);
    }
}

static void test_missing_file(void **state)
{
    (void)state;
    struct sim_options o = {.scenario = "no-such-scenario", .scenarios_dir = SCEN_DIR};
    struct sim *s = NULL;
    struct idw_err err = {{0}};
    assert_int_not_equal(sim_new(&o, &s, &err), 0);
    assert_non_null(strstr(err.msg, "no-such-scenario.json"));
}

/* Pod names of a whole cluster, sorted, as one string. */
static char *pod_names(struct sim *s)
{
    const cJSON **items = NULL;
    size_t n = sim_list(s, res("", "pods"), NULL, NULL, NULL, &items);
    size_t len = 1;
    for (size_t i = 0; i < n; i++)
        len += strlen(cJSON_GetObjectItem(cJSON_GetObjectItem(items[i], "metadata"), "name")
                          ->valuestring) +
               1;
    char *out = calloc(1, len);
    for (size_t i = 0; i < n; i++) {
        strcat(out,
               cJSON_GetObjectItem(cJSON_GetObjectItem(items[i], "metadata"), "name")->valuestring);
        strcat(out, ",");
    }
    free(items);
    return out;
}

static const char *env_of(const cJSON *pod, const char *name)
{
    const cJSON *c, *e;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(cJSON_GetObjectItem(pod, "spec"), "containers"))
    {
        cJSON_ArrayForEach(e, cJSON_GetObjectItem(c, "env"))
        {
            const cJSON *n = cJSON_GetObjectItem(e, "name");
            if (n && strcmp(n->valuestring, name) == 0)
                return cJSON_GetObjectItem(e, "value")
                           ? cJSON_GetObjectItem(e, "value")->valuestring
                           : "";
        }
    }
    return NULL;
}

static void test_generate_small(void **state)
{
    (void)state;
    const char *spec = "deployments=20,pods=50,wi=0.5,pi=0.25,nmi=5,namespaces=4";
    struct sim *s = open_sim(NULL, spec, 11);
    sim_lock(s);
    /* 20 generated + the add-on webhook */
    assert_int_equal(count(s, "apps", "deployments", NULL, NULL), 21);
    assert_int_equal(count(s, "", "namespaces", NULL, NULL), 4 + 4);
    assert_int_equal(count(s, "", "nodes", NULL, NULL), 5);
    /* 50 app pods, one NMI per node, two webhook replicas */
    assert_int_equal(count(s, "", "pods", NULL, NULL), 50 + 5 + 2);
    assert_int_equal(count(s, "", "pods", "kube-system", "component=nmi"), 5);
    size_t wi = count(s, "", "pods", NULL, "azure.workload.identity/use=true");
    size_t pi = count(s, "", "pods", NULL, "aadpodidbinding");
    assert_in_range(wi, 1, 49);
    assert_in_range(pi, 1, 49);
    /* every labelled pod went through the webhook */
    struct selector sel = {0};
    struct idw_err err;
    assert_int_equal(selector_parse("azure.workload.identity/use=true", &sel, &err), 0);
    const cJSON **items = NULL;
    size_t n = sim_list(s, res("", "pods"), NULL, &sel, NULL, &items);
    for (size_t i = 0; i < n; i++)
        assert_non_null(env_of(items[i], "AZURE_FEDERATED_TOKEN_FILE"));
    free(items);
    selector_free(&sel);
    char *a = pod_names(s);
    sim_unlock(s);
    sim_free(s);

    /* same seed, same cluster; another seed, other names */
    s = open_sim(NULL, spec, 11);
    sim_lock(s);
    char *b = pod_names(s);
    sim_unlock(s);
    sim_free(s);
    s = open_sim(NULL, spec, 12);
    sim_lock(s);
    char *c = pod_names(s);
    sim_unlock(s);
    sim_free(s);
    assert_string_equal(a, b);
    assert_string_not_equal(a, c);
    free(a);
    free(b);
    free(c);
}

static void test_generate_bad_spec(void **state)
{
    (void)state;
    struct sim_options o = {.generate = "deployments=10,bogus=3", .speed = 1};
    struct sim *s = NULL;
    struct idw_err err = {{0}};
    assert_int_not_equal(sim_new(&o, &s, &err), 0);
    assert_non_null(strstr(err.msg, "bogus=3"));
    o.generate = "wi=1.5";
    assert_int_not_equal(sim_new(&o, &s, &err), 0);
    assert_non_null(strstr(err.msg, "wi"));
}

/* The load spec of the brief: prints the time, asserts only what was built. */
static void test_generate_big(void **state)
{
    (void)state;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    struct sim *s = open_sim(NULL, "deployments=10000,pods=50000,wi=0.2,pi=0.1,nmi=300", 1);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double load = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    sim_lock(s);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    size_t pods = count(s, "", "pods", NULL, NULL);
    size_t one_ns = count(s, "", "pods", "team-007", NULL);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double list = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("# generate deployments=10000,pods=50000,wi=0.2,pi=0.1,nmi=300: load %.2f s, "
           "two lists (all pods, one namespace) %.3f s\n",
           load, list);
    assert_int_equal(pods, 50000 + 300 + 2);
    assert_int_equal(one_ns, 1000);
    assert_int_equal(count(s, "apps", "deployments", NULL, NULL), 10001);
    sim_unlock(s);
    sim_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_demo_loads),        cmocka_unit_test(test_empty_loads),
        cmocka_unit_test(test_scenario_by_path),  cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_missing_file),      cmocka_unit_test(test_generate_small),
        cmocka_unit_test(test_generate_bad_spec), cmocka_unit_test(test_generate_big),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
