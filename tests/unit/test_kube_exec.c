/* exec credential plugins: protocol parsing, KUBERNETES_EXEC_INFO, and real plugin scripts
 * (tests/data/kube/plugins: ok, expiring, failing, needs-terminal, bad-json, hang, cert) run
 * as children on the net loop through kube_auth. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "idwatch/kube.h"

#define DATA IDW_TEST_DATA "/kube"

static void test_parse(void **state)
{
    (void)state;
    static const struct {
        const char *json;
        int rc;
        const char *want; /* token, or error fragment */
    } cases[] = {
        {"{\"kind\":\"ExecCredential\",\"apiVersion\":\"client.authentication.k8s.io/v1\","
         "\"status\":{\"token\":\"abc\",\"expirationTimestamp\":\"2026-11-29T10:00:00Z\"}}",
         0, "abc"},
        {"{\"kind\":\"ExecCredential\",\"apiVersion\":\"client.authentication.k8s.io/v1beta1\","
         "\"status\":{\"token\":\"abc\"}}",
         -1, "does not match"},
        {"{\"kind\":\"Other\",\"apiVersion\":\"client.authentication.k8s.io/v1\",\"status\":{}}",
         -1, "kind is not ExecCredential"},
        {"{\"kind\":\"ExecCredential\",\"apiVersion\":\"client.authentication.k8s.io/v1\"}", -1,
         "no status"},
        {"{\"kind\":\"ExecCredential\",\"apiVersion\":\"client.authentication.k8s.io/v1\","
         "\"status\":{\"clientCertificateData\":\"C\"}}",
         -1, "must both be set"},
        {"{\"kind\":\"ExecCredential\",\"apiVersion\":\"client.authentication.k8s.io/v1\","
         "\"status\":{}}",
         -1, "neither a token nor a client certificate"},
        {"{\"kind\":\"ExecCredential\",\"apiVersion\":\"client.authentication.k8s.io/v1\","
         "\"status\":{\"token\":\"a\",\"expirationTimestamp\":\"tomorrow\"}}",
         -1, "not RFC 3339"},
        {"not json", -1, "not a JSON ExecCredential"},
        {"", -1, "not a JSON ExecCredential"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct kube_cred c;
        struct idw_err err = {{0}};
        int rc = kube_exec_parse(cases[i].json, strlen(cases[i].json),
                                 "client.authentication.k8s.io/v1", &c, &err);
        assert_int_equal(rc, cases[i].rc);
        if (rc == 0) {
            assert_string_equal(c.token, cases[i].want);
            kube_cred_free(&c);
        } else if (!strstr(err.msg, cases[i].want)) {
            fail_msg("case %zu: \"%s\" lacks \"%s\"", i, err.msg, cases[i].want);
        }
    }
    struct kube_cred c;
    const char *j =
        "{\"kind\":\"ExecCredential\",\"apiVersion\":\"client.authentication.k8s.io/v1\","
        "\"status\":{\"token\":\"abc\",\"expirationTimestamp\":\"2026-11-29T10:00:00Z\"}}";
    assert_int_equal(kube_exec_parse(j, strlen(j), "client.authentication.k8s.io/v1", &c, NULL), 0);
    assert_int_equal(c.expires, 1795946400);
    kube_cred_free(&c);
}

static struct kubeconfig *kc;

static int setup(void **state)
{
    (void)state;
    struct kubeconfig_source src = {.explicit_path = DATA "/exec.yaml"};
    struct idw_err err;
    if (kubeconfig_load(&src, &kc, &err) < 0) {
        fprintf(stderr, "%s\n", err.msg);
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    kubeconfig_free(kc);
    return 0;
}

static void resolve(const char *ctx, struct kubeconfig_resolved *r)
{
    struct idw_err err = {{0}};
    if (kubeconfig_resolve(kc, ctx, r, &err) < 0)
        fail_msg("%s: %s", ctx, err.msg);
}

static void test_exec_info(void **state)
{
    (void)state;
    struct kubeconfig_resolved r;
    resolve("ok-v1", &r);
    char *info = kube_exec_info(&r, false);
    /* the exact shape observed from kubectl (reference §2) */
    assert_string_equal(info, "{\"kind\":\"ExecCredential\",\"apiVersion\":\"client.authentication."
                              "k8s.io/v1\",\"spec\":{\"cluster\":{\"server\":\"https://127.0.0.1:"
                              "18003\",\"tls-server-name\":\"127.0.0.1\",\"certificate-authority-"
                              "data\":\"Q0EgREFUQQo=\",\"config\":null},\"interactive\":false}}");
    free(info);
    kubeconfig_resolved_free(&r);
    resolve("ok", &r); /* no provideClusterInfo: no spec.cluster */
    info = kube_exec_info(&r, false);
    assert_string_equal(info, "{\"kind\":\"ExecCredential\",\"apiVersion\":\"client.authentication."
                              "k8s.io/v1beta1\",\"spec\":{\"interactive\":false}}");
    free(info);
    kubeconfig_resolved_free(&r);
}

struct got {
    bool done;
    char token[128];
    char error[IDW_ERR_MAX];
    bool has_cert;
    uint64_t generation;
};

static void on_cred(void *ctx, const struct kube_cred *c, const char *error)
{
    struct got *g = ctx;
    g->done = true;
    if (c) {
        snprintf(g->token, sizeof g->token, "%s", c->token ? c->token : "");
        g->has_cert = c->cert_pem && c->key_pem && strstr(c->cert_pem, "BEGIN CERTIFICATE");
        g->generation = c->generation;
    } else {
        snprintf(g->error, sizeof g->error, "%s", error);
    }
}

/* Drives the loop until the callback ran (the plugin is a child: this must not block). */
static void wait_for(struct net *n, struct got *g)
{
    int64_t t0 = time_now_ms();
    while (!g->done && time_now_ms() - t0 < 10000)
        net_poll(n, 50);
    assert_true(g->done);
}

static struct got auth_once(struct net *n, struct kube_auth *a)
{
    struct got g = {0};
    kube_auth_get(a, on_cred, &g);
    wait_for(n, &g);
    return g;
}

static char logpath[64];

static void fresh_log(void)
{
    snprintf(logpath, sizeof logpath, "/tmp/idw-plugin-%d.log", (int)getpid());
    unlink(logpath);
    setenv("PLUGIN_LOG", logpath, 1);
}

static int log_lines(char *first, size_t n)
{
    FILE *f = fopen(logpath, "r");
    if (!f)
        return 0;
    int lines = 0;
    char buf[4096];
    while (fgets(buf, sizeof buf, f)) {
        if (lines == 0 && first)
            snprintf(first, n, "%s", buf);
        lines++;
    }
    fclose(f);
    return lines;
}

static void test_plugin_ok_cached(void **state)
{
    (void)state;
    fresh_log();
    setenv("PLUGIN_TAG", "from-parent", 1); /* the kubeconfig's env entry must win */
    struct net *n = net_new(NULL);
    struct kubeconfig_resolved r;
    resolve("ok", &r);
    struct kube_auth *a = kube_auth_new(n, &r);
    struct got g = auth_once(n, a);
    assert_string_equal(g.error, "");
    assert_string_equal(g.token, "tok-from-kubeconfig-first-arg");
    char first[4096] = "";
    assert_int_equal(log_lines(first, sizeof first), 1);
    assert_non_null(strstr(first, "\"apiVersion\":\"client.authentication.k8s.io/v1beta1\""));
    assert_non_null(strstr(first, "\"interactive\":false"));
    /* no expiry: cached, the plugin does not run again */
    g = auth_once(n, a);
    assert_string_equal(g.token, "tok-from-kubeconfig-first-arg");
    assert_int_equal(log_lines(NULL, 0), 1);
    assert_int_equal(kube_auth_exec_runs(a), 1);
    /* a 401 with these credentials: the next request runs the plugin again */
    uint64_t gen = g.generation;
    kube_auth_invalidate(a, gen);
    kube_auth_invalidate(a, gen); /* a second 401 of the same generation changes nothing more */
    g = auth_once(n, a);
    assert_int_equal(log_lines(NULL, 0), 2);
    assert_int_equal(kube_auth_exec_runs(a), 2);
    assert_true(g.generation != gen);
    kube_auth_free(a);
    kubeconfig_resolved_free(&r);
    net_free(n);
    unlink(logpath);
    unsetenv("PLUGIN_TAG");
}

static void test_plugin_expiring(void **state)
{
    (void)state;
    fresh_log();
    setenv("PLUGIN_TTL", "4", 1); /* margin = 1 s: stale 3 s after it was issued */
    struct net *n = net_new(NULL);
    struct kubeconfig_resolved r;
    resolve("expiring", &r);
    struct kube_auth *a = kube_auth_new(n, &r);
    struct got g = auth_once(n, a);
    assert_string_equal(g.token, "expiring-1");
    g = auth_once(n, a);
    assert_string_equal(g.token, "expiring-1"); /* still fresh */
    assert_int_equal(log_lines(NULL, 0), 1);
    sleep(4);
    g = auth_once(n, a);
    assert_string_equal(g.token, "expiring-2"); /* re-run after expiry */
    assert_int_equal(log_lines(NULL, 0), 2);
    kube_auth_free(a);
    kubeconfig_resolved_free(&r);
    net_free(n);
    unlink(logpath);
    unsetenv("PLUGIN_TTL");
}

static void expect_error(const char *ctx, const char *want, const char *must_not)
{
    struct net *n = net_new(NULL);
    struct kubeconfig_resolved r;
    resolve(ctx, &r);
    struct kube_auth *a = kube_auth_new(n, &r);
    struct got g = auth_once(n, a);
    assert_string_equal(g.token, "");
    if (!strstr(g.error, want))
        fail_msg("%s: \"%s\" lacks \"%s\"", ctx, g.error, want);
    if (must_not && strstr(g.error, must_not))
        fail_msg("%s: \"%s\" must not contain \"%s\"", ctx, g.error, must_not);
    assert_null(strchr(g.error, '\n'));
    kube_auth_free(a);
    kubeconfig_resolved_free(&r);
    net_free(n);
}

static void test_plugin_failures(void **state)
{
    (void)state;
    /* stderr is the message; stdout (where a token would be) never is */
    expect_error("failing",
                 "exec plugin " DATA "/plugins/failing failed (exit status 1): Error: failed to "
                 "get token: AADSTS70043",
                 "secret-token");
    expect_error("needs-terminal", "interactive login required but no terminal", NULL);
    expect_error("needs-terminal", "log in first", NULL);
    expect_error("needs-terminal-always", "needs an interactive terminal (interactiveMode: Always)",
                 NULL);
    expect_error("needs-terminal-always", "az login", NULL);
    expect_error("bad-json", "not a JSON ExecCredential", NULL);
    expect_error("wrong-version", "does not match the kubeconfig's", NULL);
    expect_error("missing",
                 "exec plugin idwatch-no-such-plugin not found: idwatch-no-such-plugin is not "
                 "installed. See https://example.invalid/install",
                 NULL);
}

static void test_plugin_cert(void **state)
{
    (void)state;
    struct net *n = net_new(NULL);
    struct kubeconfig_resolved r;
    resolve("cert", &r);
    struct kube_auth *a = kube_auth_new(n, &r);
    struct got g = auth_once(n, a);
    assert_string_equal(g.error, "");
    assert_true(g.has_cert);
    kube_auth_free(a);
    kubeconfig_resolved_free(&r);
    net_free(n);
}

static void on_exec(void *ctx, const struct kube_cred *c, const char *error)
{
    on_cred(ctx, c, error);
}

static int ticks;
static void tick(void *ctx)
{
    struct net *n = ctx;
    ticks++;
    net_timer_add(n, 10, tick, n);
}

static void test_plugin_timeout_never_blocks(void **state)
{
    (void)state;
    struct net *n = net_new(NULL);
    struct kubeconfig_resolved r;
    resolve("hang", &r);
    struct kube_exec *x;
    struct got g = {0};
    struct idw_err err;
    ticks = 0;
    net_timer_add(n, 10, tick, n);
    int64_t t0 = time_now_ms();
    assert_int_equal(kube_exec_start(n, &r, 400, on_exec, &g, &x, &err), 0);
    wait_for(n, &g);
    int64_t took = time_now_ms() - t0;
    assert_non_null(strstr(g.error, "did not finish in time"));
    assert_true(took >= 400 && took < 3000);
    assert_true(ticks >= 10); /* the loop kept turning while the plugin hung */
    /* cancel of a running plugin: no callback, no zombie */
    struct got g2 = {0};
    assert_int_equal(kube_exec_start(n, &r, 5000, on_exec, &g2, &x, &err), 0);
    kube_exec_cancel(x);
    net_poll(n, 50);
    assert_false(g2.done);
    kubeconfig_resolved_free(&r);
    net_free(n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_exec_info),
        cmocka_unit_test(test_plugin_ok_cached),
        cmocka_unit_test(test_plugin_expiring),
        cmocka_unit_test(test_plugin_failures),
        cmocka_unit_test(test_plugin_cert),
        cmocka_unit_test(test_plugin_timeout_never_blocks),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
