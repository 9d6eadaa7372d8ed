/* nmilog: every line of the real NMI log fixture, checked by hand (pod-identity.md §3). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "idwatch/core.h"
#include "idwatch/nmilog.h"

/* The token-request status lines of nmi-logs-real.txt (1-based line numbers), klog times read
 * with reference year 2021. Pod names come from the name-bearing lines of the same request. */
struct want {
    int line;
    int status;
    const char *ip;
    const char *time; /* RFC 3339 seconds */
    int32_t micros;
    const char *ns;
    const char *pod;
    const char *identity;
    const char *resource;
    const char *error_has;
};

static const struct want wants[] = {
    {9, 403, "10.240.0.14", "2021-07-22T05:42:33Z", 714813, NULL, NULL, NULL, NULL, NULL},
    {11, 400, "10.240.0.14", "2021-07-22T05:43:03Z", 648914, NULL, NULL, NULL, NULL,
     "parameter resource cannot be empty"},
    {17, 404, "10.30.0.19", "2021-09-20T22:53:15Z", 534377, NULL, NULL, NULL, NULL, NULL},
    {19, 404, "10.30.0.19", "2021-09-20T22:54:16Z", 614949, "kube-system", "omsagent-j5xxz", NULL,
     NULL, "context canceled"},
    {21, 404, "10.30.0.19", "2021-09-20T22:55:16Z", 677504, "kube-system", "omsagent-j5xxz", NULL,
     NULL, "context canceled"},
    {23, 404, "10.30.0.19", "2021-09-20T22:56:18Z", 727037, "kube-system", "omsagent-j5xxz", NULL,
     NULL, "context canceled"},
    {25, 404, "10.30.0.19", "2021-09-20T22:57:18Z", 787129, "kube-system", "omsagent-j5xxz", NULL,
     NULL, "context canceled"},
    {63, 404, "10.244.2.4", "2020-04-09T11:20:29Z", 0, "default",
     "projectalpha-api-7b86687f9-bpz2s", NULL, NULL, "context canceled"},
    {68, 404, "10.244.0.41", "2019-10-09T06:39:38Z", 0, "default",
     "worker-service104-56c7bd77df-tqmch", NULL, NULL, "no AzureAssignedIdentity"},
    {79, 400, "10.23.0.59", "2021-06-04T10:13:34Z", 452104, NULL, NULL, NULL, NULL,
     "parameter resource"},
    {81, 400, "10.23.0.59", "2021-06-04T10:13:34Z", 452971, NULL, NULL, NULL, NULL,
     "parameter resource"},
    {83, 400, "10.23.0.59", "2021-06-04T10:13:34Z", 453663, NULL, NULL, NULL, NULL,
     "parameter resource"},
    {88, 200, "10.240.0.117", "2021-08-21T18:22:51Z", 348117, "default", "azure-cli",
     "default/demo", "https://management.core.windows.net/", NULL},
    {91, 200, "10.244.0.25", "2018-06-07T01:30:04Z", 0, NULL, NULL, NULL, NULL, NULL},
    {107, 404, "10.30.0.19", "2021-09-20T17:25:20Z", 586787, "kube-system", "omsagent-j5xxz", NULL,
     NULL, "context canceled"},
    {138, 200, "10.244.3.192", "2021-11-06T14:32:47Z", 665450, "test-dev",
     "test-review-api-dev-5c4ddd78c8-gx9kg", "test-dev/test-dev-review-api",
     "https://storage.azure.com", NULL},
    {151, 403, "10.244.1.123", "2020-05-11T15:56:50Z", 0, NULL, NULL, NULL, NULL, NULL},
    {159, 200, "10.244.3.48", "2021-06-16T09:11:00Z", 805648, "aad",
     "aad-pod-identity-mic-55c5f48dbf-99pvx", NULL, "https://management.azure.com/", NULL},
    {163, 404, "10.244.3.49", "2021-06-16T09:14:45Z", 465034, "default", "demo", NULL, NULL,
     "context canceled"},
    {165, 404, "10.244.3.49", "2021-06-16T09:16:25Z", 467439, "default", "demo", NULL, NULL,
     "context canceled"},
};
#define N_WANTS (sizeof wants / sizeof wants[0])

static char *fixture;
static size_t fixture_len;

static int setup(void **state)
{
    (void)state;
    struct idw_err err;
    if (file_read_all(IDW_SHARED_DIR "/fixtures/nmi-logs-real.txt", 1 << 20, &fixture, &fixture_len,
                      &err) != 0) {
        fprintf(stderr, "%s\n", err.msg);
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    free(fixture);
    return 0;
}

static struct nmilog *parser(void)
{
    struct nmilog_config cfg = {
        .nmi_pod = "nmi-7xk2p", .node_name = "aks-nodepool1-0", .year = 2021};
    return nmilog_new(&cfg);
}

static void check_req(const struct model_nmi_request *r, const struct want *w)
{
    print_message("line %d: %d %s %s/%s\n", w->line, r->status, r->remote_ip,
                  r->pod_namespace ? r->pod_namespace : "-", r->pod_name ? r->pod_name : "-");
    assert_int_equal(r->status, w->status);
    assert_string_equal(r->remote_ip, w->ip);
    char t[32];
    time_format_rfc3339(r->time, t);
    assert_string_equal(t, w->time);
    assert_int_equal(r->time_nanos, w->micros * 1000);
    assert_string_equal(r->path, "/metadata/identity/oauth2/token");
    if (w->pod) {
        assert_non_null(r->pod_name);
        assert_string_equal(r->pod_namespace, w->ns);
        assert_string_equal(r->pod_name, w->pod);
    } else {
        assert_null(r->pod_name);
        assert_null(r->pod_namespace);
    }
    if (w->identity)
        assert_string_equal(r->identity, w->identity);
    else
        assert_null(r->identity);
    if (w->resource)
        assert_string_equal(r->resource, w->resource);
    else
        assert_null(r->resource);
    if (w->error_has) {
        assert_non_null(r->error);
        assert_non_null(strstr(r->error, w->error_has));
    } else {
        assert_null(r->error);
    }
    assert_string_equal(r->nmi_pod, "nmi-7xk2p");
    assert_string_equal(r->node_name, "aks-nodepool1-0");
}

/* Feeds the fixture in chunks of `chunk` bytes (0 = all at once) and checks every request. */
static void run_whole(size_t chunk)
{
    struct nmilog *p = parser();
    if (chunk == 0) {
        nmilog_feed(p, fixture, fixture_len);
    } else {
        for (size_t off = 0; off < fixture_len; off += chunk)
            nmilog_feed(p, fixture + off, off + chunk <= fixture_len ? chunk : fixture_len - off);
    }
    nmilog_finish(p);
    struct model_nmi_request r;
    size_t n = 0;
    while (nmilog_next(p, &r)) {
        assert_true(n < N_WANTS);
        check_req(&r, &wants[n]);
        model_nmi_request_free(&r);
        n++;
    }
    assert_int_equal(n, N_WANTS);
    const struct nmilog_stats *st = nmilog_get_stats(p);
    assert_int_equal(st->requests, N_WANTS);
    assert_int_equal(st->status_lines, N_WANTS + 1); /* + the /metadata/instance line 61 */
    assert_int_equal(st->lines, 166);
    nmilog_free(p);
}

static void test_whole_file(void **state)
{
    (void)state;
    run_whole(0);
}

static void test_byte_by_byte(void **state)
{
    (void)state;
    run_whole(1);
    run_whole(7);
    run_whole(4096);
}

/* Every line alone: only the token status lines yield a request, with the right code/IP/time. */
static void test_every_line(void **state)
{
    (void)state;
    const char *p = fixture;
    const char *end = fixture + fixture_len;
    int line = 0;
    size_t seen = 0;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        line++;
        struct nmilog *ps = parser();
        nmilog_feed_line(ps, p, n);
        struct model_nmi_request r;
        const struct want *w = NULL;
        for (size_t i = 0; i < N_WANTS; i++)
            if (wants[i].line == line)
                w = &wants[i];
        if (w) {
            assert_true(nmilog_next(ps, &r));
            assert_int_equal(r.status, w->status);
            assert_string_equal(r.remote_ip, w->ip);
            char t[32];
            time_format_rfc3339(r.time, t);
            assert_string_equal(t, w->time);
            assert_null(r.pod_name); /* alone, a status line knows only the IP */
            model_nmi_request_free(&r);
            seen++;
        }
        if (nmilog_next(ps, &r)) {
            print_message("line %d yielded an unexpected request\n", line);
            model_nmi_request_free(&r);
            fail();
        }
        nmilog_free(ps);
        p += n + 1;
    }
    assert_int_equal(seen, N_WANTS);
}

/* Each "# source" block is one NMI pod's log: per-block parsers give the same requests. */
static void test_per_block(void **state)
{
    (void)state;
    const char *p = fixture;
    const char *end = fixture + fixture_len;
    struct nmilog *ps = NULL;
    size_t n = 0;
    struct model_nmi_request r;
    while (p <= end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
        bool boundary = len >= 9 && memcmp(p, "# source:", 9) == 0;
        if (boundary || !nl) {
            if (!nl && ps)
                nmilog_feed_line(ps, p, len);
            if (ps) {
                nmilog_finish(ps);
                while (nmilog_next(ps, &r)) {
                    assert_true(n < N_WANTS);
                    check_req(&r, &wants[n++]);
                    model_nmi_request_free(&r);
                }
                nmilog_free(ps);
            }
            ps = parser();
        } else if (ps) {
            nmilog_feed_line(ps, p, len);
        }
        if (!nl)
            break;
        p = nl + 1;
    }
    nmilog_free(ps);
    assert_int_equal(n, N_WANTS);
}

static void test_versions(void **state)
{
    (void)state;
    static const struct {
        const char *line;
        const char *version;
        const char *mode;
    } cases[] = {
        {"I1203 19:15:00.444171       1 main.go:84] starting nmi process. Version: v1.7.0. Build "
         "date: 2020-11-13-00:18.",
         "v1.7.0", NULL},
        {"time=\"2020-04-09T11:06:58Z\" level=info msg=\"Starting nmi process. Version: 1.5.5. "
         "Build date: 2020-01-28-23:10. Log level: info.\"",
         "1.5.5", NULL},
        {"I1222 12:02:59.285511       1 nmi.go:53] initializing in managed mode", NULL, "managed"},
        {"I0920 17:12:02.015874       1 nmi.go:52] Initializing in standard mode", NULL,
         "standard"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct nmilog *p = parser();
        nmilog_feed_line(p, cases[i].line, strlen(cases[i].line));
        if (cases[i].version)
            assert_string_equal(nmilog_version(p), cases[i].version);
        else
            assert_null(nmilog_version(p));
        if (cases[i].mode)
            assert_string_equal(nmilog_mode(p), cases[i].mode);
        nmilog_free(p);
    }
}

/* kubectl logs --timestamps / --prefix, CRLF, all_paths, and pairing limits. */
static void test_prefixes_and_pairing(void **state)
{
    (void)state;
    struct idw_err err;
    char *buf;
    size_t len;
    assert_int_equal(
        file_read_all(IDW_TEST_DATA "/check/nmi-kubectl-prefixed.txt", 1 << 20, &buf, &len, &err),
        0);
    struct nmilog *p = parser();
    nmilog_feed(p, buf, len);
    nmilog_finish(p);
    free(buf);
    struct model_nmi_request r;
    char t[32];

    /* 1: --prefix + --timestamps, New Year's Eve: klog says 12-31, kubectl says 2026-01-01 */
    assert_true(nmilog_next(p, &r));
    time_format_rfc3339(r.time, t);
    assert_string_equal(t, "2025-12-31T23:59:59Z");
    assert_int_equal(r.status, 200);
    assert_string_equal(r.pod_name, "api-7c9d8f6b5b-abcde");
    assert_string_equal(r.identity, "payments/api-id");
    assert_string_equal(r.resource, "https://vault.azure.net");
    model_nmi_request_free(&r);

    /* 2: --timestamps only, CRLF line ends, /host/token path */
    assert_true(nmilog_next(p, &r));
    assert_int_equal(r.status, 404);
    assert_string_equal(r.path, "/host/token");
    assert_string_equal(r.remote_ip, "10.244.3.7");
    assert_string_equal(r.pod_name, "worker-0");
    time_format_rfc3339(r.time, t);
    assert_string_equal(t, "2026-03-02T08:00:20Z");
    model_nmi_request_free(&r);

    /* 3: a matched line written 5 minutes before the status line cannot belong to it */
    assert_true(nmilog_next(p, &r));
    assert_int_equal(r.status, 200);
    assert_null(r.pod_name);
    model_nmi_request_free(&r);

    /* 4: logrus: the name line of another IP does not pair */
    assert_true(nmilog_next(p, &r));
    assert_int_equal(r.status, 403);
    assert_string_equal(r.remote_ip, "10.244.9.9");
    assert_null(r.pod_name);
    model_nmi_request_free(&r);

    /* 5: failed to get pod info (IP only) pairs by IP, and the path is matched case-insensitively
     */
    assert_true(nmilog_next(p, &r));
    assert_int_equal(r.status, 500);
    assert_non_null(strstr(r.error, "failed to get pod info from pod IP: 10.244.9.10"));
    model_nmi_request_free(&r);

    assert_false(nmilog_next(p, &r));
    nmilog_free(p);

    /* all_paths: the pre-1.8 /metadata/instance status line is emitted too */
    struct nmilog_config cfg = {.year = 2020, .all_paths = true};
    p = nmilog_new(&cfg);
    const char *l = "time=\"2020-04-09T11:07:28Z\" level=info msg=\"Status (200) took 4589573 ns\" "
                    "req.method=GET req.path=/metadata/instance req.remote=10.244.2.2";
    nmilog_feed_line(p, l, strlen(l));
    assert_true(nmilog_next(p, &r));
    assert_string_equal(r.path, "/metadata/instance");
    assert_int_equal(r.duration_ns, 4589573);
    assert_null(r.nmi_pod);
    model_nmi_request_free(&r);
    nmilog_free(p);
}

/* Hostile input: never crashes, never leaks, bounded memory. */
/* Garbage never becomes a request and never wedges the parser: every line is counted, none is
 * emitted, and the real status line fed after it is the one request that comes out, with
 * nothing of the garbage paired into it. */
static void test_garbage(void **state)
{
    (void)state;
    struct nmilog *p = parser();
    static const char *const junk[] = {
        "",
        "I",
        "I0722",
        "I0722 05:42:33.714813",
        "I1399 25:99:99.999999 1 x.go:1] status (200)",
        "I0722 05:42:33.714813       1 server.go:196] status (",
        "I0722 05:42:33.714813 1 s.go:1] "
        "status (2000) took 1 ns for req.method=GET reg.path=/metadata/identity/oauth2/token",
        "time=\"",
        "time=\"2020-04-09T11:07:28Z\" level=info msg=\"unterminated",
        "[pod/x/c] ",
        "[pod/x/c] 2026-01-01T00:00:00Z",
        "2026-01-01T00:00:00.123Z ",
        "I0722 05:43:03.650814 1 standard.go:73] no clientID or resourceID in request.  has been "
        "matched with azure identity ",
        "E0722 05:43:03.719474 1 server.go:382] failed to get service principal token for pod:",
        "E0616 09:14:45.464983 1 server.go:399] failed to get matching identities for pod: /, "
        "error: ",
    };
    size_t n_junk = sizeof junk / sizeof junk[0];
    for (size_t i = 0; i < n_junk; i++)
        nmilog_feed_line(p, junk[i], strlen(junk[i]));
    char *big = xmalloc(200000);
    memset(big, 'I', 200000);
    nmilog_feed(p, big, 200000);
    nmilog_feed(p, "\n", 1);
    free(big);
    struct model_nmi_request r;
    assert_false(nmilog_next(p, &r));
    const struct nmilog_stats *st = nmilog_get_stats(p);
    assert_int_equal(st->lines, n_junk + 1);
    assert_int_equal(st->requests, 0);
    assert_null(nmilog_version(p));

    static const char ok[] = "I0722 05:42:33.714813       1 server.go:196] status (403) took "
                             "63547724 ns for req.method=GET reg.path=/metadata/identity/oauth2/"
                             "token req.remote=10.240.0.14";
    nmilog_feed_line(p, ok, strlen(ok));
    assert_true(nmilog_next(p, &r));
    assert_int_equal(r.status, 403);
    assert_int_equal(r.duration_ns, 63547724);
    assert_string_equal(r.remote_ip, "10.240.0.14");
    assert_string_equal(r.path, "/metadata/identity/oauth2/token");
    assert_null(r.pod_namespace);
    assert_null(r.pod_name);
    assert_null(r.error);
    model_nmi_request_free(&r);
    assert_false(nmilog_next(p, &r));
    assert_int_equal(nmilog_get_stats(p)->requests, 1);
    nmilog_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_whole_file), cmocka_unit_test(test_byte_by_byte),
        cmocka_unit_test(test_every_line), cmocka_unit_test(test_per_block),
        cmocka_unit_test(test_versions),   cmocka_unit_test(test_prefixes_and_pairing),
        cmocka_unit_test(test_garbage),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
