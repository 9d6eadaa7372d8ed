/* The kube engine against the real simulator (idwatch-sim, started here as a child from the
 * build directory; the tests are skipped when it has not been built). Proves: every auth
 * variant of the sim's kubeconfig syncs the store; paging; a change made through the API reaches
 * the store through the watch; recovery from 410 (expired watch); faults (5xx, 429 with
 * Retry-After, reset, truncated bodies) converge to the same store; read-only mode sends no
 * write (the sim's own count); an unreachable server fails fast with a clear error; one-shot
 * mode reads NMI logs into the store. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "idwatch/kube.h"
#include "idwatch/store.h"

#include "test_sim_child.h"

static pid_t sim_pid = -1;
static bool sim_missing;
static char state_dir[64];
static char kc_path[128];
static struct kubeconfig *kc;
static size_t base_pods, base_workloads, base_sas;

static int sim_start(void **state)
{
    (void)state;
    unsigned port = 0;
    int rc = sim_child_start("idw-kube-sim", &sim_pid, state_dir, sizeof state_dir, &port);
    sim_missing = rc > 0;
    if (rc != 0)
        return rc > 0 ? 0 : -1; /* not built: every test skips, and main says so (77) */
    snprintf(kc_path, sizeof kc_path, "%s/kubeconfig", state_dir);
    struct kubeconfig_source src = {.explicit_path = kc_path};
    struct idw_err err;
    if (kubeconfig_load(&src, &kc, &err) < 0) {
        fprintf(stderr, "%s\n", err.msg);
        return -1;
    }
    return 0;
}

static int sim_stop(void **state)
{
    (void)state;
    kubeconfig_free(kc);
    if (sim_pid > 0) {
        kill(sim_pid, SIGTERM);
        waitpid(sim_pid, NULL, 0);
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", state_dir);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", state_dir);
    }
    return 0;
}

#define NEED_SIM()                                                                                 \
    do {                                                                                           \
        if (sim_pid <= 0)                                                                          \
            skip();                                                                                \
    } while (0)

struct rig {
    struct kubeconfig_resolved cfg;
    struct net *net;
    struct store *st;
    struct kube_client *k;
};

static void rig_open(struct rig *r, const char *context, bool read_only,
                     struct kube_client_config *extra)
{
    struct idw_err err = {{0}};
    memset(r, 0, sizeof *r);
    if (kubeconfig_resolve(kc, context, &r->cfg, &err) < 0)
        fail_msg("%s", err.msg);
    struct net_config nc = {.read_only = read_only};
    r->net = net_new(&nc);
    r->st = store_new();
    struct kube_client_config c = extra ? *extra : (struct kube_client_config){0};
    c.cfg = &r->cfg;
    c.net = r->net;
    c.store = r->st;
    assert_int_equal(kube_client_new(&c, &r->k, &err), 0);
    kube_client_start(r->k);
}

static void rig_close(struct rig *r)
{
    kube_client_free(r->k);
    store_free(r->st);
    net_free(r->net);
    kubeconfig_resolved_free(&r->cfg);
}

static bool run_until(struct rig *r, bool (*cond)(void *), void *ctx, int ms)
{
    int64_t t0 = time_now_ms();
    while (!cond(ctx)) {
        if (time_now_ms() - t0 > ms)
            return false;
        net_poll(r->net, 50);
    }
    return true;
}

/* Lists done, and every NMI log stream open (their sources leave "listing" when they answer). */
static bool client_done(void *ctx)
{
    struct rig *r = ctx;
    if (!kube_client_done(r->k))
        return false;
    for (size_t i = 0; i < store_source_count(r->st); i++) {
        const struct store_source *s = store_source_at(r->st, i);
        if (s->state == STORE_SRC_LISTING || s->state == STORE_SRC_IDLE)
            return false;
    }
    return true;
}

static void expect_synced(struct rig *r)
{
    if (!run_until(r, client_done, r, 30000))
        fail_msg("the store did not sync within 30 s");
    for (size_t i = 0; i < store_source_count(r->st); i++) {
        const struct store_source *s = store_source_at(r->st, i);
        if (s->state != STORE_SRC_SYNCED && s->state != STORE_SRC_ABSENT)
            fail_msg("source %s is %s: %s", s->name, store_source_state_name(s->state), s->error);
        if (s->skipped)
            fail_msg("source %s skipped %zu objects: %s", s->name, s->skipped, s->skip_reason);
    }
}

/* ---- a small synchronous API call for the tests (sim endpoints, patches) ---- */

struct call {
    bool done;
    long status;
    bool refused;
    char message[IDW_ERR_MAX];
    cJSON *json;
};

static void call_done(void *ctx, const struct kube_result *res)
{
    struct call *c = ctx;
    c->done = true;
    c->status = res->status;
    c->refused = res->refused;
    snprintf(c->message, sizeof c->message, "%s", res->message);
    c->json = res->body_len ? cJSON_ParseWithLength(res->body, res->body_len) : NULL;
}

static bool call_finished(void *ctx)
{
    return ((struct call *)ctx)->done;
}

static struct call call(struct rig *r, const char *method, const char *path, const char *body)
{
    struct call c = {0};
    struct idw_err err;
    assert_int_equal(kube_request(r->k, method, path, body ? "application/json" : NULL, body,
                                  body ? strlen(body) : 0, call_done, &c, &err),
                     0);
    assert_true(run_until(r, call_finished, &c, 20000));
    return c;
}

static double sim_stat(struct rig *r, const char *field)
{
    struct call c = call(r, "GET", "/_sim/stats", NULL);
    assert_int_equal(c.status, 200);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(c.json, field);
    double d = cJSON_IsNumber(v) ? v->valuedouble : -1;
    cJSON_Delete(c.json);
    return d;
}

static void sim_faults(struct rig *r, const char *spec)
{
    struct call c = call(r, "POST", "/_sim/faults", spec);
    assert_int_equal(c.status, 200);
    cJSON_Delete(c.json);
}

/* ---- tests ---- */

static void test_auth_variants(void **state)
{
    (void)state;
    NEED_SIM();
    static const char *const contexts[] = {"sim-token", "sim-cert", "sim-exec"};
    for (size_t i = 0; i < 3; i++) {
        struct rig r;
        rig_open(&r, contexts[i], true, NULL);
        expect_synced(&r);
        assert_true(store_pod_count(r.st) > 10);
        assert_true(store_workload_count(r.st) > 10);
        if (i == 0) {
            base_pods = store_pod_count(r.st);
            base_workloads = store_workload_count(r.st);
            base_sas = store_sa_count(r.st);
        } else { /* the same cluster whatever the credentials */
            assert_int_equal(store_pod_count(r.st), base_pods);
            assert_int_equal(store_workload_count(r.st), base_workloads);
        }
        struct kube_client_stats ks;
        kube_client_get_stats(r.k, &ks);
        assert_int_equal(ks.exec_runs, i == 2 ? 1 : 0);
        rig_close(&r);
    }
}

static void test_paging(void **state)
{
    (void)state;
    NEED_SIM();
    struct kube_client_config c = {.page_limit = 7};
    struct rig r;
    rig_open(&r, NULL, true, &c);
    expect_synced(&r);
    struct kube_client_stats ks;
    kube_client_get_stats(r.k, &ks);
    assert_true(ks.pages > ks.lists + 10); /* several pages per list, continue tokens followed */
    assert_int_equal(store_pod_count(r.st), base_pods);
    assert_int_equal(store_sa_count(r.st), base_sas);
    rig_close(&r);
}

struct label_wait {
    struct rig *r;
    const struct model_workload *w0;
    char ns[64], name[128];
    const char *value;
};

static bool label_is(void *ctx)
{
    struct label_wait *lw = ctx;
    const struct model_workload *w =
        store_get_workload(lw->r->st, MODEL_KIND_DEPLOYMENT, lw->ns, lw->name);
    return w && str_eq(kv_get(&w->meta.labels, "idwatch-test"), lw->value);
}

static void patch_label(struct rig *r, struct label_wait *lw, const char *value, bool dry)
{
    char path[256], body[128];
    snprintf(path, sizeof path, "/apis/apps/v1/namespaces/%s/deployments/%s", lw->ns, lw->name);
    snprintf(body, sizeof body, "{\"metadata\":{\"labels\":{\"idwatch-test\":\"%s\"}}}", value);
    struct call c = {0};
    struct idw_err err;
    assert_int_equal(kube_patch(r->k, path, KUBE_PATCH_MERGE, body, dry, call_done, &c, &err), 0);
    assert_true(run_until(r, call_finished, &c, 20000));
    if (c.status != 200)
        fail_msg("patch: %ld %s", c.status, c.message);
    cJSON_Delete(c.json);
}

static void pick_deployment(struct rig *r, struct label_wait *lw)
{
    for (size_t i = 0; i < store_workload_count(r->st); i++) {
        const struct model_workload *w = store_workload_at(r->st, i);
        if (w->kind == MODEL_KIND_DEPLOYMENT) {
            snprintf(lw->ns, sizeof lw->ns, "%s", w->meta.namespace_);
            snprintf(lw->name, sizeof lw->name, "%s", w->meta.name);
            return;
        }
    }
    fail_msg("no deployment in the store");
}

static void test_watch_sees_change(void **state)
{
    (void)state;
    NEED_SIM();
    struct rig r;
    rig_open(&r, NULL, false, NULL);
    expect_synced(&r);
    struct label_wait lw = {.r = &r};
    pick_deployment(&r, &lw);
    double dry0 = sim_stat(&r, "dry_runs");
    patch_label(&r, &lw, "dry", true); /* dry run: the server answers, nothing changes */
    assert_true(sim_stat(&r, "dry_runs") > dry0);
    patch_label(&r, &lw, "one", false);
    lw.value = "one";
    assert_true(run_until(&r, label_is, &lw, 15000));
    struct kube_client_stats ks;
    kube_client_get_stats(r.k, &ks);
    assert_int_equal(ks.relists, 0); /* it came through the watch, not a re-list */
    assert_true(ks.events > 0);
    lw.value = "dry";
    assert_false(label_is(&lw));
    rig_close(&r);
}

static bool relisted(void *ctx)
{
    struct kube_client_stats ks;
    kube_client_get_stats(((struct rig *)ctx)->k, &ks);
    return ks.relists >= 2;
}

static void test_410_recovery(void **state)
{
    (void)state;
    NEED_SIM();
    struct kube_client_config c = {.watch_timeout_min = 1, .watch_timeout_max = 2};
    struct rig r;
    rig_open(&r, NULL, false, &c);
    expect_synced(&r);
    sim_faults(&r, "watch:410x2");
    assert_true(run_until(&r, relisted, &r, 20000)); /* watches renewed, got 410, re-listed */
    struct label_wait lw = {.r = &r, .value = "after-410"};
    pick_deployment(&r, &lw);
    patch_label(&r, &lw, "after-410", false);
    assert_true(run_until(&r, label_is, &lw, 15000));
    assert_int_equal(store_pod_count(r.st), base_pods);
    rig_close(&r);
}

static void test_faults_converge(void **state)
{
    (void)state;
    NEED_SIM();
    struct rig r;
    rig_open(&r, NULL, false, NULL);
    sim_faults(&r, "list:5xx=503x3,list:429=1x2,list:truncatex2,list:resetx1");
    expect_synced(&r);
    struct net_stats ns;
    net_get_stats(r.net, &ns);
    assert_true(ns.retries >= 3);
    assert_int_equal(store_pod_count(r.st), base_pods);
    assert_int_equal(store_workload_count(r.st), base_workloads);
    assert_int_equal(store_sa_count(r.st), base_sas);
    /* a watch cut mid-stream: reconnect and still see changes */
    sim_faults(&r, "watch:resetx3,watch:truncatex2");
    struct label_wait lw = {.r = &r, .value = "after-reset"};
    pick_deployment(&r, &lw);
    patch_label(&r, &lw, "after-reset", false);
    assert_true(run_until(&r, label_is, &lw, 20000));
    struct call c = call(&r, "DELETE", "/_sim/faults", NULL);
    cJSON_Delete(c.json);
    rig_close(&r);
}

struct ssar_got {
    bool done, allowed;
    char error[IDW_ERR_MAX];
};

static void on_ssar(void *ctx, bool allowed, const char *reason, const char *error)
{
    struct ssar_got *g = ctx;
    (void)reason;
    g->done = true;
    g->allowed = allowed;
    snprintf(g->error, sizeof g->error, "%s", error ? error : "");
}

static bool ssar_done(void *ctx)
{
    return ((struct ssar_got *)ctx)->done;
}

static void test_read_only(void **state)
{
    (void)state;
    NEED_SIM();
    struct rig r;
    rig_open(&r, NULL, true, NULL);
    double writes0 = sim_stat(&r, "writes");
    expect_synced(&r);
    struct label_wait lw = {.r = &r};
    pick_deployment(&r, &lw);
    char path[256];
    snprintf(path, sizeof path, "/apis/apps/v1/namespaces/%s/deployments/%s", lw.ns, lw.name);
    struct call c = {0};
    struct idw_err err;
    assert_int_equal(kube_patch(r.k, path, KUBE_PATCH_STRATEGIC,
                                "{\"metadata\":{\"labels\":{\"idwatch-test\":\"ro\"}}}", false,
                                call_done, &c, &err),
                     0);
    assert_true(run_until(&r, call_finished, &c, 5000));
    assert_true(c.refused);
    assert_int_equal(c.status, 0);
    assert_non_null(strstr(c.message, "read-only"));
    /* the allow-listed POST goes through */
    struct ssar_got g = {0};
    assert_int_equal(
        kube_ssar(r.k, "patch", "apps", "deployments", NULL, lw.ns, lw.name, on_ssar, &g, &err), 0);
    assert_true(run_until(&r, ssar_done, &g, 10000));
    assert_string_equal(g.error, "");
    struct net_stats ns;
    net_get_stats(r.net, &ns);
    assert_int_equal(ns.guard_refused, 1);
    assert_true(sim_stat(&r, "writes") == writes0); /* the sim counted no write */
    rig_close(&r);
}

static void test_unreachable(void **state)
{
    (void)state;
    struct kubeconfig_resolved cfg = {.server = "https://127.0.0.1:1", .token = "x"};
    struct net *n = net_new(NULL);
    struct store *st = store_new();
    struct kube_client_config c = {.cfg = &cfg, .net = n, .store = st, .one_shot = true};
    struct kube_client *k;
    struct idw_err err;
    assert_int_equal(kube_client_new(&c, &k, &err), 0);
    kube_client_start(k);
    int64_t t0 = time_now_ms();
    while (!kube_client_fatal(k) && time_now_ms() - t0 < 15000)
        net_poll(n, 50);
    assert_non_null(kube_client_fatal(k));
    assert_true(time_now_ms() - t0 < 12000);
    assert_non_null(strstr(kube_client_fatal(k), "127.0.0.1"));
    kube_client_free(k);
    store_free(st);
    net_free(n);
}

static void test_oneshot_logs(void **state)
{
    (void)state;
    NEED_SIM();
    struct kube_client_config c = {.one_shot = true};
    struct rig r;
    rig_open(&r, NULL, true, &c);
    expect_synced(&r);
    struct kube_client_stats ks;
    kube_client_get_stats(r.k, &ks);
    assert_int_equal(ks.watches, 0);
    assert_true(ks.log_streams > 0);
    assert_true(store_nmi_count(r.st) > 0); /* NMI log lines became token requests */
    const struct model_nmi_request *q = store_nmi_at(r.st, 0);
    assert_non_null(q->nmi_pod);
    rig_close(&r);
}


/* ---- recovery: a source in error returns to synced as soon as the server answers ---- */

static bool any_source_error(void *ctx)
{
    struct rig *r = ctx;
    for (size_t i = 0; i < store_source_count(r->st); i++)
        if (store_source_at(r->st, i)->state == STORE_SRC_ERROR)
            return true;
    return false;
}

static bool all_sources_clean(void *ctx)
{
    struct rig *r = ctx;
    for (size_t i = 0; i < store_source_count(r->st); i++) {
        const struct store_source *s = store_source_at(r->st, i);
        if (s->state != STORE_SRC_SYNCED && s->state != STORE_SRC_ABSENT)
            return false;
        if (s->error[0])
            return false;
    }
    return true;
}

static void test_error_clears_on_recovery(void **state)
{
    (void)state;
    NEED_SIM();
    /* Watches of 6 s: a watch ending cleanly (the old and only way back to synced) cannot
     * happen within the 4 s this test allows after the faults end. */
    struct kube_client_config c = {.watch_timeout_min = 6, .watch_timeout_max = 6};
    struct rig r;
    rig_open(&r, NULL, false, &c);
    expect_synced(&r);
    sim_faults(&r, "watch:5xx=503x*");
    assert_true(run_until(&r, any_source_error, &r, 15000));
    struct call d = call(&r, "DELETE", "/_sim/faults", NULL);
    cJSON_Delete(d.json);
    if (!run_until(&r, all_sources_clean, &r, 4000)) {
        for (size_t i = 0; i < store_source_count(r.st); i++) {
            const struct store_source *s = store_source_at(r.st, i);
            print_message("%s: %s %s\n", s->name, store_source_state_name(s->state), s->error);
        }
        fail_msg("sources did not return to synced within 4 s of the recovery");
    }
    for (size_t i = 0; i < store_source_count(r.st); i++)
        assert_true(store_source_at(r.st, i)->last_success > 0);
    assert_int_equal(store_pod_count(r.st), base_pods);
    rig_close(&r);
}

/* ---- a watch that says nothing for watch_stall_s is checked with a re-list ---- */

static void test_watch_stall_relists(void **state)
{
    (void)state;
    NEED_SIM();
    /* the sim sends a bookmark every 10 s: with a 1 s stall limit every watch stalls */
    struct kube_client_config c = {.watch_stall_s = 1};
    struct rig r;
    rig_open(&r, NULL, false, &c);
    expect_synced(&r);
    struct kube_client_stats ks0, ks;
    kube_client_get_stats(r.k, &ks0);
    int64_t t0 = time_now_ms();
    while (time_now_ms() - t0 < 3000)
        net_poll(r.net, 50);
    kube_client_get_stats(r.k, &ks);
    assert_true(ks.relists >= ks0.relists + 17); /* every source re-listed at least once */
    assert_true(all_sources_clean(&r));          /* a healthy server: no error shown */
    /* the refresh probe on a healthy server changes nothing */
    kube_client_refresh(r.k);
    t0 = time_now_ms();
    while (time_now_ms() - t0 < 1000)
        net_poll(r.net, 50);
    assert_true(all_sources_clean(&r));
    rig_close(&r);
}

/* ---- freeing the client with one-off requests in flight: no leak, no callback ---- */

static void test_free_with_calls_in_flight(void **state)
{
    (void)state;
    NEED_SIM();
    struct rig r;
    rig_open(&r, NULL, false, NULL);
    expect_synced(&r);
    struct ssar_got g = {0};
    struct call c = {0}, pc = {0};
    struct idw_err err;
    assert_int_equal(kube_ssar(r.k, "get", "", "pods", NULL, "default", NULL, on_ssar, &g, &err),
                     0);
    assert_int_equal(kube_request(r.k, "GET", "/api/v1/namespaces", NULL, NULL, 0, call_done, &c,
                                  &err),
                     0);
    assert_int_equal(kube_patch(r.k, "/apis/apps/v1/namespaces/default/deployments/x",
                                KUBE_PATCH_MERGE, "{}", true, call_done, &pc, &err),
                     0);
    net_poll(r.net, 0); /* let them get on the wire (or not): both states must be freed */
    kube_client_free(r.k);
    r.k = NULL;
    assert_false(g.done);
    assert_false(c.done);
    assert_false(pc.done);
    rig_close(&r); /* LeakSanitizer checks the rest at exit */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_auth_variants),     cmocka_unit_test(test_paging),
        cmocka_unit_test(test_watch_sees_change), cmocka_unit_test(test_410_recovery),
        cmocka_unit_test(test_faults_converge),   cmocka_unit_test(test_read_only),
        cmocka_unit_test(test_unreachable),       cmocka_unit_test(test_oneshot_logs),
        cmocka_unit_test(test_error_clears_on_recovery),
        cmocka_unit_test(test_watch_stall_relists),
        cmocka_unit_test(test_free_with_calls_in_flight),
    };
    int rc = cmocka_run_group_tests(tests, sim_start, sim_stop);
    if (rc == 0 && sim_missing) {
        printf("SKIPPED: idwatch-sim is not built next to the tests\n");
        return 77; /* the tests' SKIP_RETURN_CODE: ctest reports them skipped, not passed */
    }
    return rc;
}
