/* Unit tests of idwatch-sim's request parsing (server_parse.c): what real kubectl 1.32 sends
 * (fixtures/kubectl-1.32-requests.txt) must parse, and malformed input must be refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "idwatch/core.h"
#include "server_parse.h"

/* ---- query strings ---- */

static void test_query_kubectl(void **state)
{
    (void)state;
    struct server_query q;
    struct idw_err err = {{0}};
    assert_int_equal(server_query_parse(
                         "labelSelector=azure.workload.identity%2Fuse%3Dtrue&limit=500", &q, &err),
                     0);
    assert_string_equal(q.label_selector, "azure.workload.identity/use=true");
    assert_true(q.has_limit);
    assert_int_equal(q.limit, 500);
    assert_false(q.watch);
    server_query_free(&q);

    assert_int_equal(server_query_parse("resourceVersion=200&watch=true&allowWatchBookmarks=1&"
                                        "timeoutSeconds=5",
                                        &q, &err),
                     0);
    assert_string_equal(q.resource_version, "200");
    assert_true(q.watch);
    assert_true(q.allow_watch_bookmarks);
    assert_int_equal(q.timeout_seconds, 5);
    server_query_free(&q);

    assert_int_equal(
        server_query_parse("container=c&sinceSeconds=3600&tailLines=5&timestamps=true", &q, &err),
        0);
    assert_string_equal(q.container, "c");
    assert_int_equal(q.since_seconds, 3600);
    assert_int_equal(q.tail_lines, 5);
    assert_true(q.timestamps);
    assert_false(q.has_limit);
    server_query_free(&q);

    /* first value wins; unknown parameters are ignored; '+' is a space */
    assert_int_equal(server_query_parse("fieldManager=a&fieldManager=b&timeout=32s&"
                                        "fieldSelector=status.phase%3DRunning+x",
                                        &q, &err),
                     0);
    assert_string_equal(q.field_manager, "a");
    assert_string_equal(q.field_selector, "status.phase=Running x");
    server_query_free(&q);

    assert_int_equal(server_query_parse(NULL, &q, &err), 0);
    assert_null(q.label_selector);
    server_query_free(&q);
}

static void test_query_bad(void **state)
{
    (void)state;
    struct server_query q;
    struct idw_err err = {{0}};
    assert_int_equal(server_query_parse("limit=abc", &q, &err), 400);
    assert_non_null(strstr(err.msg, "limit"));
    server_query_free(&q);
    assert_int_equal(server_query_parse("watch=maybe", &q, &err), 400);
    server_query_free(&q);
    assert_int_equal(server_query_parse("limit=99999999999999999999", &q, &err), 400);
    server_query_free(&q);
    assert_int_equal(server_query_parse("labelSelector=%zz", &q, &err), 400);
    server_query_free(&q);
    assert_int_equal(server_query_parse("labelSelector=a%00b", &q, &err), 400); /* NUL byte */
    server_query_free(&q);
    assert_int_equal(server_query_parse("labelSelector=%4", &q, &err), 400);
    server_query_free(&q);
}

/* ---- paths ---- */

static void test_path(void **state)
{
    (void)state;
    static const struct {
        const char *path;
        int rc;
        enum server_path_kind kind;
        const char *group, *version, *ns, *resource, *name, *sub;
    } cases[] = {
        {"/version", 0, SERVER_PATH_VERSION, "", "", "", "", "", ""},
        {"/api", 0, SERVER_PATH_API, "", "", "", "", "", ""},
        {"/apis", 0, SERVER_PATH_APIS, "", "", "", "", "", ""},
        {"/apis/apps", 0, SERVER_PATH_GROUP, "apps", "", "", "", "", ""},
        {"/api/v1", 0, SERVER_PATH_GV, "", "v1", "", "", "", ""},
        {"/apis/aadpodidentity.k8s.io/v1", 0, SERVER_PATH_GV, "aadpodidentity.k8s.io", "v1", "", "",
         "", ""},
        {"/apis/apps/v1/deployments", 0, SERVER_PATH_COLLECTION, "apps", "v1", "", "deployments",
         "", ""},
        {"/apis/apps/v1/namespaces/demo/deployments/web", 0, SERVER_PATH_OBJECT, "apps", "v1",
         "demo", "deployments", "web", ""},
        {"/api/v1/namespaces/demo/pods/web-abc/log", 0, SERVER_PATH_SUB, "", "v1", "demo", "pods",
         "web-abc", "log"},
        /* a namespace object and its subresource, not a collection in a namespace */
        {"/api/v1/namespaces/demo", 0, SERVER_PATH_OBJECT, "", "v1", "", "namespaces", "demo", ""},
        {"/api/v1/namespaces/demo/status", 0, SERVER_PATH_SUB, "", "v1", "", "namespaces", "demo",
         "status"},
        {"/api/v1/namespaces", 0, SERVER_PATH_COLLECTION, "", "v1", "", "namespaces", "", ""},
        {"/apis/aadpodidentity.k8s.io/v1/namespaces/default/azureidentities", 0,
         SERVER_PATH_COLLECTION, "aadpodidentity.k8s.io", "v1", "default", "azureidentities", "",
         ""},
        {"/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", 0, SERVER_PATH_COLLECTION,
         "authorization.k8s.io", "v1", "", "selfsubjectaccessreviews", "", ""},
        {"/api/v1/pods/", 0, SERVER_PATH_COLLECTION, "", "v1", "", "pods", "", ""},
        {"/openapi/v3", -1, SERVER_PATH_NONE, "", "", "", "", "", ""},
        {"/", -1, SERVER_PATH_NONE, "", "", "", "", "", ""},
        {"", -1, SERVER_PATH_NONE, "", "", "", "", "", ""},
        {"/apis//v1", -1, SERVER_PATH_NONE, "", "", "", "", "", ""},
        {"/api/v1/namespaces/demo/pods/../secrets", -1, SERVER_PATH_NONE, "", "", "", "", "", ""},
        {"/api/v1/namespaces/demo/pods/a%2Fb", -1, SERVER_PATH_NONE, "", "", "", "", "", ""},
        {"/api/v1/namespaces/demo/pods/x/log/extra", -1, SERVER_PATH_NONE, "", "", "", "", "", ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        struct server_path p;
        int rc = server_path_parse(cases[i].path, &p);
        if (rc != cases[i].rc)
            fail_msg("%s: rc %d, want %d", cases[i].path, rc, cases[i].rc);
        if (rc)
            continue;
        assert_int_equal(p.kind, cases[i].kind);
        assert_string_equal(p.group, cases[i].group);
        assert_string_equal(p.version, cases[i].version);
        assert_string_equal(p.ns, cases[i].ns);
        assert_string_equal(p.resource, cases[i].resource);
        assert_string_equal(p.name, cases[i].name);
        assert_string_equal(p.sub, cases[i].sub);
    }
    char long_path[600];
    memset(long_path, 'a', sizeof long_path);
    memcpy(long_path, "/api/v1/pods/", 13);
    long_path[sizeof long_path - 1] = '\0';
    struct server_path p;
    assert_int_equal(server_path_parse(long_path, &p), -1); /* a name over 253 characters */
}

/* ---- Accept ---- */

#define AGG                                                                                        \
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;"       \
    "g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json"
#define TABLE                                                                                      \
    "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;"            \
    "g=meta.k8s.io,application/json"

static void test_accept(void **state)
{
    (void)state;
    assert_int_equal(server_accept_parse(NULL, true), SERVER_ACCEPT_JSON);
    assert_int_equal(server_accept_parse("", true), SERVER_ACCEPT_JSON);
    assert_int_equal(server_accept_parse("application/json, */*", true), SERVER_ACCEPT_JSON);
    assert_int_equal(server_accept_parse(AGG, false), SERVER_ACCEPT_JSON); /* legacy discovery */
    assert_int_equal(server_accept_parse(TABLE, true), SERVER_ACCEPT_TABLE);
    assert_int_equal(server_accept_parse(TABLE, false), SERVER_ACCEPT_TABLE);
    assert_int_equal(server_accept_parse("application/json;as=PartialObjectMetadataList;"
                                         "g=meta.k8s.io;v=v1",
                                         true),
                     SERVER_ACCEPT_PARTIAL_LIST);
    /* a list type for a single object: 406 unless a fallback follows */
    assert_int_equal(server_accept_parse("application/json;as=PartialObjectMetadataList;"
                                         "g=meta.k8s.io;v=v1",
                                         false),
                     SERVER_ACCEPT_NONE);
    assert_int_equal(server_accept_parse("application/json;as=PartialObjectMetadataList;"
                                         "g=meta.k8s.io;v=v1,application/json",
                                         false),
                     SERVER_ACCEPT_JSON);
    assert_int_equal(server_accept_parse(" application/json ; as=PartialObjectMetadata ; "
                                         "g=meta.k8s.io ; v=v1",
                                         false),
                     SERVER_ACCEPT_PARTIAL);
    assert_int_equal(
        server_accept_parse("application/vnd.kubernetes.protobuf,application/json", false),
        SERVER_ACCEPT_JSON);
    assert_int_equal(server_accept_parse("application/yaml", true), SERVER_ACCEPT_NONE);
    assert_int_equal(server_accept_parse("application/json;as=Table;g=other.io;v=v1", true),
                     SERVER_ACCEPT_NONE);
}

/* ---- continue tokens ---- */

static void test_continue(void **state)
{
    (void)state;
    struct server_continue c = {.rv = 4711, .time_ns = 1795946400123456789LL};
    strcpy(c.ns, "kube-system");
    strcpy(c.name, "nmi-x7k2p");
    char *tok = server_continue_encode(&c);
    assert_null(strpbrk(tok, "+/=%&")); /* safe in a query string without escaping */
    struct server_continue d;
    assert_int_equal(server_continue_decode(tok, &d), 0);
    assert_int_equal(d.rv, 4711);
    assert_int_equal(d.time_ns, c.time_ns);
    assert_string_equal(d.ns, "kube-system");
    assert_string_equal(d.name, "nmi-x7k2p");
    tok[3] ^= 1; /* tampered */
    assert_int_equal(server_continue_decode(tok, &d), -1);
    free(tok);

    strcpy(c.ns, ""); /* cluster-scoped */
    tok = server_continue_encode(&c);
    assert_int_equal(server_continue_decode(tok, &d), 0);
    assert_string_equal(d.ns, "");
    free(tok);

    assert_int_equal(server_continue_decode("tok-page2", &d), -1);
    assert_int_equal(server_continue_decode("", &d), -1);
    /* valid base64 of JSON that is not ours, and of a name with a slash */
    const char *alien =
        "{\"v\":\"meta.k8s.io/v1\",\"rv\":\"1\",\"t\":\"1\",\"ns\":\"a\",\"start\":\"x/y\"}";
    tok = server_b64url_encode(alien, strlen(alien));
    assert_int_equal(server_continue_decode(tok, &d), -1);
    free(tok);
}

static void test_base64(void **state)
{
    (void)state;
    unsigned char *out;
    size_t n;
    assert_int_equal(server_b64_decode("aGVsbG8=", 8, &out, &n), 0);
    assert_int_equal(n, 5);
    assert_memory_equal(out, "hello", 5);
    free(out);
    assert_int_equal(server_b64_decode("-_8", 3, &out, &n), 0); /* url alphabet */
    assert_int_equal(n, 2);
    assert_int_equal(out[0], 0xfb);
    assert_int_equal(out[1], 0xff);
    free(out);
    assert_int_equal(server_b64_decode("a", 1, &out, &n), -1);
    assert_int_equal(server_b64_decode("a*bc", 4, &out, &n), -1);
    char *e = server_b64url_encode("\xfb\xff", 2);
    assert_string_equal(e, "-_8");
    free(e);
}

/* ---- faults ---- */

static void test_faults(void **state)
{
    (void)state;
    struct server_fault *f = NULL;
    size_t n = 0, cap = 0;
    struct idw_err err = {{0}};
    assert_int_equal(server_faults_parse("list:latency=2000x3;watch:410x1;list:5xx=503x2,"
                                         "list:429=2x1; watch:reset, list:truncate;"
                                         "list:malformed;log:reset;get:5xxx*",
                                         &f, &n, &cap, &err),
                     0);
    assert_int_equal(n, 9);
    assert_int_equal(f[0].cls, SERVER_CLASS_LIST);
    assert_int_equal(f[0].kind, SERVER_FAULT_LATENCY);
    assert_int_equal(f[0].value, 2000);
    assert_int_equal(f[0].count, 3);
    assert_int_equal(f[1].kind, SERVER_FAULT_GONE);
    assert_int_equal(f[1].cls, SERVER_CLASS_WATCH);
    assert_int_equal(f[3].kind, SERVER_FAULT_THROTTLE);
    assert_int_equal(f[3].value, 2);
    assert_int_equal(f[4].kind, SERVER_FAULT_RESET);
    assert_int_equal(f[4].count, 1);
    assert_int_equal(f[8].kind, SERVER_FAULT_ERROR5XX);
    assert_int_equal(f[8].value, 503); /* default status */
    assert_int_equal(f[8].count, -1);
    char s[96];
    server_fault_format(&f[0], s, sizeof s);
    assert_string_equal(s, "list:latency=2000x3");
    server_fault_format(&f[8], s, sizeof s);
    assert_string_equal(s, "get:5xx=503x*");
    server_fault_format(&f[6], s, sizeof s);
    assert_string_equal(s, "list:malformedx1");

    static const char *const bad[] = {"list",         "nope:latency=1",  "list:latency",
                                      "list:5xx=404", "list:reset=3",    "list:latency=5x0",
                                      "list:teapot",  "list:latency=-5", "list:429=99999"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        size_t before = n;
        if (server_faults_parse(bad[i], &f, &n, &cap, &err) != -1)
            fail_msg("'%s' should be refused", bad[i]);
        assert_int_equal(n, before);
        assert_true(err.msg[0] != '\0');
    }
    /* a bad item anywhere leaves the list as it was */
    assert_int_equal(server_faults_parse("get:reset;list:bogus", &f, &n, &cap, &err), -1);
    assert_int_equal(n, 9);
    free(f);
}

/* ---- SelfSubjectAccessReview protobuf ---- */

static void pb_bytes(struct idw_buf *b, unsigned field, const void *data, size_t len)
{
    unsigned char hdr[12];
    size_t h = 0;
    hdr[h++] = (unsigned char)(field << 3 | 2);
    size_t v = len;
    do {
        hdr[h++] = (unsigned char)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
        v >>= 7;
    } while (v);
    buf_append(b, hdr, h);
    buf_append(b, data, len);
}

static void pb_str(struct idw_buf *b, unsigned field, const char *s)
{
    pb_bytes(b, field, s, strlen(s));
}

/* The body `kubectl auth can-i patch deployments -n demo` sends (reference §11). */
static void kubectl_ssar(struct idw_buf *out, const char *ns, const char *verb)
{
    struct idw_buf attrs = {0}, spec = {0}, ssar = {0}, tm = {0}, unknown = {0};
    pb_str(&attrs, 1, ns);
    pb_str(&attrs, 2, verb);
    pb_str(&attrs, 3, "apps");
    pb_str(&attrs, 4, "");
    pb_str(&attrs, 5, "deployments");
    pb_str(&attrs, 6, "");
    pb_str(&attrs, 7, "");
    pb_bytes(&spec, 1, attrs.data, attrs.len);
    pb_bytes(&ssar, 1, "", 0); /* ObjectMeta */
    pb_bytes(&ssar, 2, spec.data, spec.len);
    pb_bytes(&ssar, 3, "\x08\x00", 2); /* status {allowed:false} */
    pb_str(&tm, 1, "authorization.k8s.io/v1");
    pb_str(&tm, 2, "SelfSubjectAccessReview");
    pb_bytes(&unknown, 1, tm.data, tm.len);
    pb_bytes(&unknown, 2, ssar.data, ssar.len);
    pb_str(&unknown, 3, "");
    pb_str(&unknown, 4, "");
    buf_append(out, "k8s\0", 4);
    buf_append(out, unknown.data, unknown.len);
    buf_free(&attrs);
    buf_free(&spec);
    buf_free(&ssar);
    buf_free(&tm);
    buf_free(&unknown);
}

static void test_ssar_protobuf(void **state)
{
    (void)state;
    struct idw_buf body = {0};
    kubectl_ssar(&body, "demo", "patch");
    struct server_ssar a;
    struct idw_err err = {{0}};
    assert_int_equal(server_ssar_decode_protobuf((unsigned char *)body.data, body.len, &a, &err),
                     0);
    assert_string_equal(a.ns, "demo");
    assert_string_equal(a.verb, "patch");
    assert_string_equal(a.group, "apps");
    assert_string_equal(a.resource, "deployments");
    assert_string_equal(a.subresource, "");
    assert_string_equal(a.name, "");
    assert_null(a.path);
    server_ssar_free(&a);
    /* every truncation is refused, never read past the end (ASan watches) */
    for (size_t cut = 0; cut < body.len; cut++) {
        unsigned char *copy = malloc(cut ? cut : 1);
        memcpy(copy, body.data, cut);
        int rc = server_ssar_decode_protobuf(copy, cut, &a, &err);
        if (rc == 0)
            server_ssar_free(&a);
        free(copy);
    }
    body.data[0] = 'x';
    assert_int_equal(server_ssar_decode_protobuf((unsigned char *)body.data, body.len, &a, &err),
                     400);
    buf_free(&body);

    /* a TokenRequest in an Unknown is not an SSAR */
    struct idw_buf tm = {0}, unknown = {0};
    pb_str(&tm, 1, "authentication.k8s.io/v1");
    pb_str(&tm, 2, "TokenRequest");
    pb_bytes(&unknown, 1, tm.data, tm.len);
    pb_bytes(&unknown, 2, "", 0);
    buf_append(&body, "k8s\0", 4);
    buf_append(&body, unknown.data, unknown.len);
    assert_int_equal(server_ssar_decode_protobuf((unsigned char *)body.data, body.len, &a, &err),
                     400);
    buf_free(&tm);
    buf_free(&unknown);
    buf_free(&body);
}

static void test_ssar_json(void **state)
{
    (void)state;
    const char *j =
        "{\"apiVersion\":\"authorization.k8s.io/v1\",\"kind\":\"SelfSubjectAccessReview\","
        "\"spec\":{\"resourceAttributes\":{\"namespace\":\"demo\",\"verb\":\"get\","
        "\"resource\":\"pods\",\"subresource\":\"log\"}}}";
    struct server_ssar a;
    struct idw_err err = {{0}};
    assert_int_equal(server_ssar_decode_json(j, strlen(j), &a, &err), 0);
    assert_string_equal(a.verb, "get");
    assert_string_equal(a.resource, "pods");
    assert_string_equal(a.subresource, "log");
    assert_string_equal(a.group, "");
    server_ssar_free(&a);
    const char *nr =
        "{\"spec\":{\"nonResourceAttributes\":{\"path\":\"/version\",\"verb\":\"get\"}}}";
    assert_int_equal(server_ssar_decode_json(nr, strlen(nr), &a, &err), 0);
    assert_string_equal(a.path, "/version");
    server_ssar_free(&a);
    assert_int_equal(server_ssar_decode_json("{\"spec\":{}}", 11, &a, &err), 422);
    assert_int_equal(server_ssar_decode_json("{nope", 5, &a, &err), 400);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_query_kubectl), cmocka_unit_test(test_query_bad),
        cmocka_unit_test(test_path),          cmocka_unit_test(test_accept),
        cmocka_unit_test(test_continue),      cmocka_unit_test(test_base64),
        cmocka_unit_test(test_faults),        cmocka_unit_test(test_ssar_protobuf),
        cmocka_unit_test(test_ssar_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
