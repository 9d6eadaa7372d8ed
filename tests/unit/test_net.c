/* net: the read-only guard table, backoff, header redaction and the stream line splitter. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "idwatch/net.h"

struct guard_case {
    const char *method;
    const char *url;
    const char *authority;
    int want;
};

static const struct guard_case guard_cases[] = {
    /* reads always pass */
    {"GET", "https://aks.hcp.westeurope.azmk8s.io:443/api/v1/pods", NULL, 0},
    {"HEAD", "https://x/anything", NULL, 0},
    /* the two allow-listed POSTs */
    {"POST", "https://aks.example:443/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", NULL,
     0},
    {"POST", "https://127.0.0.1:6443/apis/authorization.k8s.io/v1/selfsubjectaccessreviews?x=1",
     NULL, 0},
    {"POST", "https://login.microsoftonline.com/tenant/oauth2/v2.0/token", NULL, 0},
    {"POST", "https://login.microsoftonline.com:443/tenant/oauth2/token", NULL, 0},
    {"POST", "https://LOGIN.microsoftonline.com/t/oauth2/v2.0/token", NULL, 0},
    {"POST", "https://127.0.0.1:8443/tenant/oauth2/v2.0/token", "https://127.0.0.1:8443/", 0},
    {"POST", "https://login.microsoftonline.us/t/oauth2/v2.0/token", "login.microsoftonline.us", 0},
    /* writes are refused */
    {"PATCH", "https://aks/apis/apps/v1/namespaces/a/deployments/web", NULL, -1},
    {"PUT", "https://aks/apis/apps/v1/namespaces/a/deployments/web", NULL, -1},
    {"DELETE", "https://aks/api/v1/namespaces/a/pods/p", NULL, -1},
    {"POST", "https://aks/api/v1/namespaces/a/serviceaccounts/sa/token", NULL, -1},
    {"POST", "https://aks/apis/authorization.k8s.io/v1/selfsubjectrulesreviews", NULL, -1},
    {"POST", "https://aks/apis/authorization.k8s.io/v1/subjectaccessreviews", NULL, -1},
    {"PUT", "https://aks/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", NULL, -1},
    /* the token paths only on the authority host */
    {"POST", "https://aks.example/oauth2/v2.0/token", NULL, -1},
    {"POST", "https://evil.example/t/oauth2/v2.0/token", NULL, -1},
    {"POST", "https://login.microsoftonline.com.evil.example/t/oauth2/token", NULL, -1},
    {"POST", "https://login.microsoftonline.com:8443/t/oauth2/token", NULL, -1},
    {"POST", "https://user@login.microsoftonline.com/t/oauth2/token", NULL, -1},
    /* Graph and ARM writes to otherwise trusted hosts */
    {"PUT",
     "https://management.azure.com/subscriptions/s/resourceGroups/r/providers/"
     "Microsoft.ManagedIdentity/userAssignedIdentities/i/federatedIdentityCredentials/f",
     NULL, -1},
    {"POST", "https://graph.microsoft.com/v1.0/applications/x/federatedIdentityCredentials", NULL,
     -1},
    /* paths that a server might rewrite into something else */
    {"POST",
     "https://aks/api/v1/pods/x/../../apis/authorization.k8s.io/v1/selfsubjectaccessreviews", NULL,
     -1},
    {"POST",
     "https://aks/api/v1/namespaces/a%2Fapis/authorization.k8s.io/v1/selfsubjectaccessreviews",
     NULL, -1},
    {"POST", "https://aks/apis/authorization.k8s.io/v1/selfsubjectaccessreviewsX", NULL, -1},
    {"post", "https://aks/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", NULL, -1},
    {"get", "https://aks/api/v1/pods", NULL, -1},
    {"POST", "not a url", NULL, -1},
};

static void test_guard_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof guard_cases / sizeof guard_cases[0]; i++) {
        const struct guard_case *c = &guard_cases[i];
        struct idw_err err = {{0}};
        int rc = net_guard_check(c->method, c->url, c->authority, &err);
        if (rc != c->want)
            fail_msg("case %zu: %s %s -> %d (%s), want %d", i, c->method, c->url, rc, err.msg,
                     c->want);
        if (rc < 0)
            assert_non_null(strstr(err.msg, "read-only"));
    }
}

/* net_start refuses before sending: nothing is listening on this port, so a request that
 * was let through would fail later in on_done, not synchronously. */
static void test_guard_in_net_start(void **state)
{
    (void)state;
    struct net_config cfg = {.read_only = true};
    struct net *n = net_new(&cfg);
    struct idw_err err = {{0}};
    struct net_opts o = {.method = "PATCH",
                         .url = "https://127.0.0.1:9/apis/apps/v1/x",
                         .body = "{}",
                         .body_len = 2};
    struct net_request *r = (struct net_request *)1;
    assert_int_equal(net_start(n, &o, &r, &err), -1);
    assert_null(r);
    assert_non_null(strstr(err.msg, "read-only mode: PATCH /apis/apps/v1/x refused"));
    struct net_stats st;
    net_get_stats(n, &st);
    assert_int_equal(st.guard_refused, 1);
    assert_int_equal(st.requests, 0);
    /* With the flag off the same request is started. */
    net_set_read_only(n, false);
    assert_int_equal(net_start(n, &o, &r, &err), 0);
    assert_non_null(r);
    net_cancel(n, r);
    net_free(n);
}

static void test_backoff(void **state)
{
    (void)state;
    /* bounds: [d/2, d] with d = base * 2^attempt, capped */
    for (int a = 0; a < 12; a++) {
        int64_t d = 500;
        for (int i = 0; i < a && d < 30000; i++)
            d *= 2;
        if (d > 30000)
            d = 30000;
        for (uint32_t rnd = 0; rnd < 2000; rnd += 37) {
            int64_t v = net_backoff_ms(a, 500, 30000, rnd * 2654435761u);
            assert_true(v >= d / 2);
            assert_true(v <= d);
        }
    }
    assert_int_equal(net_backoff_ms(0, 500, 30000, 0), 250);
    assert_int_equal(net_backoff_ms(3, 500, 30000, 0), 2000);
    assert_int_equal(net_backoff_ms(3, 500, 30000, 2000), 4000);
    assert_int_equal(net_backoff_ms(30, 500, 30000, 15000), 30000);
    assert_int_equal(net_backoff_ms(1000, 500, 30000, 0), 15000); /* no overflow */
    /* jitter really varies */
    int64_t a = net_backoff_ms(4, 500, 30000, 1), b = net_backoff_ms(4, 500, 30000, 3001);
    assert_true(a != b);
}

static void test_redact(void **state)
{
    (void)state;
    char out[128];
    net_redact_header("Authorization: Bearer eyJhbGciOi.secret", out, sizeof out);
    assert_string_equal(out, "Authorization: <redacted>");
    net_redact_header("authorization:Basic Zm9vOmJhcg==", out, sizeof out);
    assert_string_equal(out, "authorization: <redacted>");
    net_redact_header("Proxy-Authorization: x", out, sizeof out);
    assert_string_equal(out, "Proxy-Authorization: <redacted>");
    net_redact_header("Impersonate-Extra-scopes: x", out, sizeof out);
    assert_string_equal(out, "Impersonate-Extra-scopes: <redacted>");
    net_redact_header("Accept: application/json", out, sizeof out);
    assert_string_equal(out, "Accept: application/json");
    net_redact_header("Authorizationx: keep", out, sizeof out);
    assert_string_equal(out, "Authorizationx: keep");
}

struct collected {
    char lines[16][64];
    size_t n;
    size_t stop_after;
};

static int collect(void *ctx, const char *line, size_t len)
{
    struct collected *c = ctx;
    assert_true(c->n < 16);
    assert_true(len < 64);
    memcpy(c->lines[c->n], line, len);
    c->lines[c->n][len] = '\0';
    c->n++;
    return c->stop_after && c->n >= c->stop_after;
}

static void test_lines(void **state)
{
    (void)state;
    struct net_lines l = {0};
    struct collected c = {0};
    struct idw_err err;
    const char *stream = "{\"type\":\"ADDED\"}\n{\"type\":\"MOD\r\nIFIED\"}\n\npartial";
    /* feed one byte at a time: every split point */
    for (size_t i = 0; stream[i]; i++)
        assert_int_equal(net_lines_feed(&l, stream + i, 1, collect, &c, &err), 0);
    assert_int_equal(c.n, 4);
    assert_string_equal(c.lines[0], "{\"type\":\"ADDED\"}");
    assert_string_equal(c.lines[1], "{\"type\":\"MOD");
    assert_string_equal(c.lines[2], "IFIED\"}");
    assert_string_equal(c.lines[3], "");
    assert_int_equal(net_lines_flush(&l, collect, &c), 0);
    assert_int_equal(c.n, 5);
    assert_string_equal(c.lines[4], "partial");
    assert_int_equal(net_lines_flush(&l, collect, &c), 0);
    assert_int_equal(c.n, 5);

    /* whole buffer at once, stop requested after the second line */
    struct collected d = {.stop_after = 2};
    assert_int_equal(net_lines_feed(&l, "a\nb\nc\n", 6, collect, &d, &err), 1);
    assert_int_equal(d.n, 2);

    /* the cap: a line longer than max_line is an error, and the buffer is dropped */
    struct net_lines cap = {.max_line = 8};
    struct collected e = {0};
    assert_int_equal(net_lines_feed(&cap, "12345", 5, collect, &e, &err), 0);
    assert_int_equal(net_lines_feed(&cap, "6789", 4, collect, &e, &err), -1);
    assert_non_null(strstr(err.msg, "longer than 8"));
    assert_int_equal(net_lines_feed(&cap, "ok\n", 3, collect, &e, &err), 0);
    assert_string_equal(e.lines[0], "ok");
    net_lines_free(&cap);
    net_lines_free(&l);
}

static int fired;
static void on_timer(void *ctx)
{
    fired = fired * 10 + (int)(intptr_t)ctx;
}

static void test_timers(void **state)
{
    (void)state;
    struct net *n = net_new(NULL);
    fired = 0;
    net_timer_add(n, 40, on_timer, (void *)2);
    net_timer_add(n, 10, on_timer, (void *)1);
    uint64_t c = net_timer_add(n, 20, on_timer, (void *)9);
    net_timer_cancel(n, c);
    int64_t t0 = time_now_ms();
    while (fired < 12 && time_now_ms() - t0 < 2000)
        net_poll(n, 100);
    assert_int_equal(fired, 12); /* in due order, the cancelled one never */
    assert_true(time_now_ms() - t0 >= 40);
    net_free(n);
}

/* The CA bundle: the system store first, then --ca-file, in one PEM; no file, no bundle; a file
 * that cannot be read is an error naming --ca-file. */
static void test_ca_bundle(void **state)
{
    (void)state;
    char sys_path[] = "/tmp/idw-ca-sys.XXXXXX", extra_path[] = "/tmp/idw-ca-extra.XXXXXX";
    int fs = mkstemp(sys_path), fe = mkstemp(extra_path);
    assert_true(fs >= 0 && fe >= 0);
    assert_int_equal(write(fs, "SYSTEM\n", 7), 7);
    assert_int_equal(write(fe, "EXTRA\n", 6), 6);
    close(fs);
    close(fe);
    const char *old = getenv("SSL_CERT_FILE");
    char *saved = old ? strdup(old) : NULL;
    setenv("SSL_CERT_FILE", sys_path, 1);

    char *pem;
    size_t len;
    struct idw_err err = {{0}};
    assert_int_equal(net_ca_bundle(NULL, &pem, &len, &err), 0);
    assert_null(pem);
    assert_int_equal(len, 0);
    assert_int_equal(net_ca_bundle(extra_path, &pem, &len, &err), 0);
    assert_string_equal(pem, "SYSTEM\n\nEXTRA\n");
    assert_int_equal(len, strlen(pem));
    free(pem);
    assert_int_equal(net_ca_bundle("/nonexistent/idw-ca.pem", &pem, &len, &err), -1);
    assert_non_null(strstr(err.msg, "--ca-file"));

    if (saved)
        setenv("SSL_CERT_FILE", saved, 1);
    else
        unsetenv("SSL_CERT_FILE");
    free(saved);
    unlink(sys_path);
    unlink(extra_path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_guard_table), cmocka_unit_test(test_guard_in_net_start),
        cmocka_unit_test(test_backoff),     cmocka_unit_test(test_redact),
        cmocka_unit_test(test_lines),       cmocka_unit_test(test_timers),
        cmocka_unit_test(test_ca_bundle),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
