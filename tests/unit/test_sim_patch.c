/* patch: RFC 7386 appendix A, RFC 6902 appendix A, the bodies kubectl and idwatch send
 * (kubernetes-api.md §8) and strategic-merge list semantics on a real-shaped Deployment. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "patch.h"

static cJSON *parse_or_die(const char *s)
{
    cJSON *j = cJSON_Parse(s);
    if (!j)
        fail_msg("test JSON does not parse: %s", s);
    return j;
}

static cJSON *load_deployment(void)
{
    char *text;
    size_t len;
    struct idw_err err = {{0}};
    if (file_read_all(IDW_TEST_DATA "/patch/deployment.json", 1 << 20, &text, &len, &err) != 0)
        fail_msg("%s", err.msg);
    cJSON *j = parse_or_die(text);
    free(text);
    return j;
}

static void assert_json_equal(const cJSON *got, const char *want_text, const char *what)
{
    cJSON *want = parse_or_die(want_text);
    if (!cJSON_Compare(got, want, 1)) {
        char *g = cJSON_PrintUnformatted(got);
        fail_msg("%s:\n got  %s\n want %s", what, g, want_text);
    }
    cJSON_Delete(want);
}

/* Independent JSON pointer lookup for assertions (object keys only, ~0/~1 escapes, indexes). */
static const cJSON *at(const cJSON *doc, const char *ptr)
{
    const cJSON *cur = doc;
    const char *p = ptr;
    while (cur && *p == '/') {
        p++;
        char tok[256];
        size_t n = 0;
        while (*p && *p != '/' && n + 1 < sizeof tok) {
            if (p[0] == '~' && (p[1] == '0' || p[1] == '1')) {
                tok[n++] = p[1] == '1' ? '/' : '~';
                p += 2;
            } else {
                tok[n++] = *p++;
            }
        }
        tok[n] = '\0';
        cur = cJSON_IsArray(cur) ? cJSON_GetArrayItem(cur, atoi(tok))
                                 : cJSON_GetObjectItemCaseSensitive(cur, tok);
    }
    return cur;
}

/* ---- RFC 7386 appendix A ---- */

static const struct {
    const char *target, *patch, *result;
} rfc7386[] = {
    {"{\"a\":\"b\"}", "{\"a\":\"c\"}", "{\"a\":\"c\"}"},
    {"{\"a\":\"b\"}", "{\"b\":\"c\"}", "{\"a\":\"b\",\"b\":\"c\"}"},
    {"{\"a\":\"b\"}", "{\"a\":null}", "{}"},
    {"{\"a\":\"b\",\"b\":\"c\"}", "{\"a\":null}", "{\"b\":\"c\"}"},
    {"{\"a\":[\"b\"]}", "{\"a\":\"c\"}", "{\"a\":\"c\"}"},
    {"{\"a\":\"c\"}", "{\"a\":[\"b\"]}", "{\"a\":[\"b\"]}"},
    {"{\"a\":{\"b\":\"c\"}}", "{\"a\":{\"b\":\"d\",\"c\":null}}", "{\"a\":{\"b\":\"d\"}}"},
    {"{\"a\":[{\"b\":\"c\"}]}", "{\"a\":[1]}", "{\"a\":[1]}"},
    /* the top-level non-object rows of the appendix, one level down (an API object is a map) */
    {"{\"x\":[\"a\",\"b\"]}", "{\"x\":[\"c\",\"d\"]}", "{\"x\":[\"c\",\"d\"]}"},
    {"{\"x\":{\"a\":\"b\"}}", "{\"x\":[\"c\"]}", "{\"x\":[\"c\"]}"},
    {"{\"x\":{\"a\":\"foo\"}}", "{\"x\":\"bar\"}", "{\"x\":\"bar\"}"},
    {"{\"e\":null}", "{\"a\":1}", "{\"e\":null,\"a\":1}"},
    {"{\"x\":[1,2]}", "{\"x\":{\"a\":\"b\",\"c\":null}}", "{\"x\":{\"a\":\"b\"}}"},
    {"{}", "{\"a\":{\"bb\":{\"ccc\":null}}}", "{\"a\":{\"bb\":{}}}"},
};

static void test_rfc7386_appendix(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof rfc7386 / sizeof rfc7386[0]; i++) {
        cJSON *t = parse_or_die(rfc7386[i].target), *p = parse_or_die(rfc7386[i].patch), *r;
        struct idw_err err = {{0}};
        int rc = patch_apply(PATCH_MERGE, t, p, "ConfigMap", &r, &err);
        if (rc != 0)
            fail_msg("rfc7386 row %zu: %d %s", i, rc, err.msg);
        char what[32];
        snprintf(what, sizeof what, "rfc7386 row %zu", i);
        assert_json_equal(r, rfc7386[i].result, what);
        /* the target is never modified */
        assert_json_equal(t, rfc7386[i].target, "target untouched");
        cJSON_Delete(t);
        cJSON_Delete(p);
        cJSON_Delete(r);
    }
}

static void test_merge_rejects_non_object(void **state)
{
    (void)state;
    const char *bad[] = {"[\"c\"]", "null", "\"bar\""};
    for (size_t i = 0; i < 3; i++) {
        cJSON *t = parse_or_die("{\"a\":\"foo\"}"), *p = parse_or_die(bad[i]), *r = NULL;
        struct idw_err err = {{0}};
        assert_int_equal(patch_apply(PATCH_MERGE, t, p, "Pod", &r, &err), 400);
        assert_int_equal(patch_apply(PATCH_STRATEGIC, t, p, "Pod", &r, &err), 400);
        assert_null(r);
        assert_non_null(strstr(err.msg, "cannot unmarshal"));
        cJSON_Delete(t);
        cJSON_Delete(p);
    }
}

/* ---- RFC 6902 appendix A ---- */

struct jp_case {
    const char *name, *target, *patch;
    int status;
    const char *result_or_msg; /* the result when status is 0, else a substring of the message */
};

static const struct jp_case rfc6902[] = {
    {"A.1", "{\"foo\":\"bar\"}", "[{\"op\":\"add\",\"path\":\"/baz\",\"value\":\"qux\"}]", 0,
     "{\"baz\":\"qux\",\"foo\":\"bar\"}"},
    {"A.2", "{\"foo\":[\"bar\",\"baz\"]}",
     "[{\"op\":\"add\",\"path\":\"/foo/1\",\"value\":\"qux\"}]", 0,
     "{\"foo\":[\"bar\",\"qux\",\"baz\"]}"},
    {"A.3", "{\"baz\":\"qux\",\"foo\":\"bar\"}", "[{\"op\":\"remove\",\"path\":\"/baz\"}]", 0,
     "{\"foo\":\"bar\"}"},
    {"A.4", "{\"foo\":[\"bar\",\"qux\",\"baz\"]}", "[{\"op\":\"remove\",\"path\":\"/foo/1\"}]", 0,
     "{\"foo\":[\"bar\",\"baz\"]}"},
    {"A.5", "{\"baz\":\"qux\",\"foo\":\"bar\"}",
     "[{\"op\":\"replace\",\"path\":\"/baz\",\"value\":\"boo\"}]", 0,
     "{\"baz\":\"boo\",\"foo\":\"bar\"}"},
    {"A.6", "{\"foo\":{\"bar\":\"baz\",\"waldo\":\"fred\"},\"qux\":{\"corge\":\"grault\"}}",
     "[{\"op\":\"move\",\"from\":\"/foo/waldo\",\"path\":\"/qux/thud\"}]", 0,
     "{\"foo\":{\"bar\":\"baz\"},\"qux\":{\"corge\":\"grault\",\"thud\":\"fred\"}}"},
    {"A.7", "{\"foo\":[\"all\",\"grass\",\"cows\",\"eats\"]}",
     "[{\"op\":\"move\",\"from\":\"/foo/1\",\"path\":\"/foo/3\"}]", 0,
     "{\"foo\":[\"all\",\"cows\",\"eats\",\"grass\"]}"},
    {"A.8", "{\"baz\":\"qux\",\"foo\":[\"a\",2,\"c\"]}",
     "[{\"op\":\"test\",\"path\":\"/baz\",\"value\":\"qux\"},"
     "{\"op\":\"test\",\"path\":\"/foo/1\",\"value\":2}]",
     0, "{\"baz\":\"qux\",\"foo\":[\"a\",2,\"c\"]}"},
    {"A.9", "{\"baz\":\"qux\"}", "[{\"op\":\"test\",\"path\":\"/baz\",\"value\":\"bar\"}]", 422,
     "testing value /baz failed"},
    {"A.10", "{\"foo\":\"bar\"}",
     "[{\"op\":\"add\",\"path\":\"/child\",\"value\":{\"grandchild\":{}}}]", 0,
     "{\"foo\":\"bar\",\"child\":{\"grandchild\":{}}}"},
    {"A.11", "{\"foo\":\"bar\"}",
     "[{\"op\":\"add\",\"path\":\"/baz\",\"value\":\"qux\",\"xyz\":123}]", 0,
     "{\"foo\":\"bar\",\"baz\":\"qux\"}"},
    {"A.12", "{\"foo\":\"bar\"}", "[{\"op\":\"add\",\"path\":\"/baz/bat\",\"value\":\"qux\"}]", 422,
     "jsonpatch add operation does not apply: doc is missing path: \"/baz/bat\""},
    {"A.14", "{\"/\":9,\"~1\":10}", "[{\"op\":\"test\",\"path\":\"/~01\",\"value\":10}]", 0,
     "{\"/\":9,\"~1\":10}"},
    {"A.15", "{\"/\":9,\"~1\":10}", "[{\"op\":\"test\",\"path\":\"/~01\",\"value\":\"10\"}]", 422,
     "testing value /~01 failed"},
    {"A.16", "{\"foo\":[\"bar\"]}",
     "[{\"op\":\"add\",\"path\":\"/foo/-\",\"value\":[\"abc\",\"def\"]}]", 0,
     "{\"foo\":[\"bar\",[\"abc\",\"def\"]]}"},
    /* beyond the appendix */
    {"~1 in a key", "{\"a\":{}}", "[{\"op\":\"add\",\"path\":\"/a/x~1y\",\"value\":1}]", 0,
     "{\"a\":{\"x/y\":1}}"},
    {"copy", "{\"a\":{\"b\":[1]}}", "[{\"op\":\"copy\",\"from\":\"/a/b\",\"path\":\"/c\"}]", 0,
     "{\"a\":{\"b\":[1]},\"c\":[1]}"},
    {"remove missing key", "{\"a\":{}}", "[{\"op\":\"remove\",\"path\":\"/a/b\"}]", 422,
     "Unable to remove nonexistent key: b: missing value"},
    {"remove missing parent", "{\"a\":{}}", "[{\"op\":\"remove\",\"path\":\"/x/b\"}]", 422,
     "jsonpatch remove operation does not apply: doc is missing path: \"/x/b\""},
    {"replace missing", "{}", "[{\"op\":\"replace\",\"path\":\"/a\",\"value\":1}]", 422,
     "jsonpatch replace operation does not apply: doc is missing key: /a"},
    {"index past end", "{\"a\":[1]}", "[{\"op\":\"add\",\"path\":\"/a/5\",\"value\":1}]", 422,
     "invalid index"},
    {"leading zero index", "{\"a\":[1,2]}", "[{\"op\":\"remove\",\"path\":\"/a/01\"}]", 422,
     "Unable to remove invalid index: 01"},
    {"move into itself", "{\"a\":{\"b\":1}}",
     "[{\"op\":\"move\",\"from\":\"/a\",\"path\":\"/a/b/c\"}]", 422, "prefix"},
    {"unknown op", "{}", "[{\"op\":\"frob\",\"path\":\"/a\"}]", 422, "Unexpected kind: frob"},
    {"missing value", "{}", "[{\"op\":\"add\",\"path\":\"/a\"}]", 400, "missing \"value\""},
    {"not an array", "{}", "{\"op\":\"add\"}", 400, "cannot unmarshal object"},
    {"atomic", "{\"a\":1}",
     "[{\"op\":\"add\",\"path\":\"/b\",\"value\":2},{\"op\":\"remove\",\"path\":\"/zz\"}]", 422,
     "nonexistent key: zz"},
};

static void test_rfc6902(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof rfc6902 / sizeof rfc6902[0]; i++) {
        const struct jp_case *c = &rfc6902[i];
        cJSON *t = parse_or_die(c->target), *p = parse_or_die(c->patch), *r = NULL;
        struct idw_err err = {{0}};
        int rc = patch_apply(PATCH_JSON, t, p, "Deployment", &r, &err);
        if (rc != c->status)
            fail_msg("%s: status %d want %d (%s)", c->name, rc, c->status, err.msg);
        if (rc == 0) {
            assert_json_equal(r, c->result_or_msg, c->name);
        } else {
            assert_null(r);
            if (!strstr(err.msg, c->result_or_msg))
                fail_msg("%s: message '%s' lacks '%s'", c->name, err.msg, c->result_or_msg);
        }
        assert_json_equal(t, c->target, "target untouched");
        cJSON_Delete(t);
        cJSON_Delete(p);
        cJSON_Delete(r);
    }
}

/* ---- the bodies of kubernetes-api.md §8, on a Deployment ---- */

struct check {
    const char *ptr;
    const char *json; /* NULL = must be absent */
};

struct k8s_case {
    const char *name;
    enum patch_type type;
    const char *patch;
    int status;
    const char *msg;
    struct check checks[6];
};

#define USE_PTR "/spec/template/metadata/labels/azure.workload.identity~1use"

static const struct k8s_case k8s_cases[] = {
    {"label set (merge)",
     PATCH_MERGE,
     "{\"spec\":{\"template\":{\"metadata\":{\"labels\":{\"azure.workload.identity/"
     "use\":\"true\"}}}"
     "}}",
     0,
     NULL,
     {{USE_PTR, "\"true\""},
      {"/spec/template/metadata/labels/app", "\"web\""},
      {"/metadata/labels/azure.workload.identity~1use", NULL},
      {"/spec/template/spec/containers/1/name", "\"log-shipper\""}}},
    {"label set (strategic)",
     PATCH_STRATEGIC,
     "{\"spec\":{\"template\":{\"metadata\":{\"labels\":{\"azure.workload.identity/"
     "use\":\"true\"}}}"
     "}}",
     0,
     NULL,
     {{USE_PTR, "\"true\""},
      {"/spec/template/metadata/labels/aadpodidbinding", "\"web-binding\""}}},
    {"label remove (merge)",
     PATCH_MERGE,
     "{\"spec\":{\"template\":{\"metadata\":{\"labels\":{\"aadpodidbinding\":null}}}}}",
     0,
     NULL,
     {{"/spec/template/metadata/labels/aadpodidbinding", NULL},
      {"/spec/template/metadata/labels/app", "\"web\""}}},
    {"label remove (strategic)",
     PATCH_STRATEGIC,
     "{\"spec\":{\"template\":{\"metadata\":{\"labels\":{\"aadpodidbinding\":null}}}}}",
     0,
     NULL,
     {{"/spec/template/metadata/labels/aadpodidbinding", NULL},
      {"/spec/template/metadata/labels/app", "\"web\""}}},
    {"label set (json patch)",
     PATCH_JSON,
     "[{\"op\":\"add\",\"path\":\"/spec/template/metadata/labels/azure.workload.identity~1use\","
     "\"value\":\"true\"}]",
     0,
     NULL,
     {{USE_PTR, "\"true\""}, {"/spec/template/metadata/labels/app", "\"web\""}}},
    {"label set on absent labels (json patch)",
     PATCH_JSON,
     "[{\"op\":\"add\",\"path\":\"/spec/template/metadata/annotations/x~1y\",\"value\":\"1\"}]",
     422,
     "doc is missing path: \"/spec/template/metadata/annotations/x~1y\": missing value",
     {{NULL, NULL}}},
    {"label remove absent (json patch)",
     PATCH_JSON,
     "[{\"op\":\"remove\",\"path\":\"/spec/template/metadata/labels/azure.workload.identity~1use\"}"
     "]",
     422,
     "Unable to remove nonexistent key: azure.workload.identity/use: missing value",
     {{NULL, NULL}}},
    {"compare-and-set (json patch)",
     PATCH_JSON,
     "[{\"op\":\"test\",\"path\":\"/spec/template/metadata/labels/aadpodidbinding\",\"value\":"
     "\"web-binding\"},{\"op\":\"remove\",\"path\":\"/spec/template/metadata/labels/"
     "aadpodidbinding\"}]",
     0,
     NULL,
     {{"/spec/template/metadata/labels/aadpodidbinding", NULL}}},
    {"rollout restart (strategic)",
     PATCH_STRATEGIC,
     "{\"spec\":{\"template\":{\"metadata\":{\"annotations\":{\"kubectl.kubernetes.io/"
     "restartedAt\":\"2026-11-29T02:45:34Z\"}}}}}",
     0,
     NULL,
     {{"/spec/template/metadata/annotations/kubectl.kubernetes.io~1restartedAt",
       "\"2026-11-29T02:45:34Z\""},
      {"/spec/template/metadata/labels/app", "\"web\""},
      {"/spec/template/spec/containers/0/image", "\"registry.example.com/web:1.4.2\""}}},
    {"kubectl label (merge on metadata)",
     PATCH_MERGE,
     "{\"metadata\":{\"labels\":{\"team\":\"payments\"}}}",
     0,
     NULL,
     {{"/metadata/labels/team", "\"payments\""},
      {"/metadata/labels/app", "\"web\""},
      {"/spec/template/metadata/labels/team", NULL}}},
    {"kubectl label k- (merge on metadata)",
     PATCH_MERGE,
     "{\"metadata\":{\"labels\":{\"app\":null}}}",
     0,
     NULL,
     {{"/metadata/labels/app", NULL}, {"/metadata/labels", "{}"}}},
    {"merge replaces lists",
     PATCH_MERGE,
     "{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"app\",\"image\":\"x:2\"}]}}}}",
     0,
     NULL,
     {{"/spec/template/spec/containers", "[{\"name\":\"app\",\"image\":\"x:2\"}]"}}},
    {"strategic merges containers by name, env by name",
     PATCH_STRATEGIC,
     "{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"app\",\"image\":\"x:2\","
     "\"env\":[{\"name\":\"AZURE_CLIENT_ID\",\"value\":\"new\"},{\"name\":\"B\",\"value\":\"2\"}]},"
     "{\"name\":\"new-one\",\"image\":\"n:1\",\"args\":null}]}}}}",
     0,
     NULL,
     {{"/spec/template/spec/containers/0/image", "\"x:2\""},
      {"/spec/template/spec/containers/0/env",
       "[{\"name\":\"LOG_LEVEL\",\"value\":\"info\"},{\"name\":\"AZURE_CLIENT_ID\",\"value\":"
       "\"new\"},{\"name\":\"B\",\"value\":\"2\"}]"},
      {"/spec/template/spec/containers/0/ports", "[{\"containerPort\":8080,\"protocol\":\"TCP\"}]"},
      {"/spec/template/spec/containers/1/name", "\"log-shipper\""},
      {"/spec/template/spec/containers/2", "{\"name\":\"new-one\",\"image\":\"n:1\"}"}}},
    {"strategic volumeMounts by mountPath, ports by containerPort",
     PATCH_STRATEGIC,
     "{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"app\",\"volumeMounts\":[{"
     "\"mountPath\":\"/etc/web\",\"readOnly\":true}],\"ports\":[{\"containerPort\":8080,\"name\":"
     "\"http\"},{\"containerPort\":9090}]}]}}}}",
     0,
     NULL,
     {{"/spec/template/spec/containers/0/volumeMounts",
       "[{\"name\":\"config\",\"mountPath\":\"/etc/web\",\"readOnly\":true},{\"name\":\"cache\","
       "\"mountPath\":\"/var/cache/web\"}]"},
      {"/spec/template/spec/containers/0/ports", "[{\"containerPort\":8080,\"protocol\":\"TCP\","
                                                 "\"name\":\"http\"},{\"containerPort\":9090}]"}}},
    {"strategic $patch delete on a list element",
     PATCH_STRATEGIC,
     "{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"log-shipper\",\"$patch\":"
     "\"delete\"}],\"volumes\":[{\"name\":\"cache\",\"$patch\":\"delete\"}]}}}}",
     0,
     NULL,
     {{"/spec/template/spec/containers/1", NULL},
      {"/spec/template/spec/containers/0/name", "\"app\""},
      {"/spec/template/spec/volumes",
       "[{\"name\":\"config\",\"configMap\":{\"name\":\"web-config\"}}]"}}},
    {"strategic $patch replace on a list",
     PATCH_STRATEGIC,
     "{\"spec\":{\"template\":{\"spec\":{\"volumes\":[{\"$patch\":\"replace\"},{\"name\":\"v2\","
     "\"emptyDir\":{}}]}}}}",
     0,
     NULL,
     {{"/spec/template/spec/volumes", "[{\"name\":\"v2\",\"emptyDir\":{}}]"}}},
    {"strategic $patch replace on a map",
     PATCH_STRATEGIC,
     "{\"spec\":{\"template\":{\"metadata\":{\"labels\":{\"$patch\":\"replace\",\"only\":\"this\"}"
     "}}}}",
     0,
     NULL,
     {{"/spec/template/metadata/labels", "{\"only\":\"this\"}"}}},
    {"strategic $patch delete on a map",
     PATCH_STRATEGIC,
     "{\"spec\":{\"template\":{\"metadata\":{\"labels\":{\"$patch\":\"delete\"}}}}}",
     0,
     NULL,
     {{"/spec/template/metadata/labels", NULL}, {"/spec/template/metadata", "{}"}}},
    {"strategic tolerations are replaced",
     PATCH_STRATEGIC,
     "{\"spec\":{\"template\":{\"spec\":{\"tolerations\":[{\"key\":\"other\",\"operator\":"
     "\"Exists\"}]}}}}",
     0,
     NULL,
     {{"/spec/template/spec/tolerations", "[{\"key\":\"other\",\"operator\":\"Exists\"}]"}}},
    {"strategic $setElementOrder and $retainKeys",
     PATCH_STRATEGIC,
     "{\"spec\":{\"$setElementOrder/x\":[],\"strategy\":{\"$retainKeys\":[\"type\"],\"type\":"
     "\"Recreate\"}}}",
     0,
     NULL,
     {{"/spec/$setElementOrder~1x", NULL}, {"/spec/strategy", "{\"type\":\"Recreate\"}"}}},
    {"strategic missing merge key",
     PATCH_STRATEGIC,
     "{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"image\":\"x\"}]}}}}",
     400,
     "does not contain declared merge key: name",
     {{NULL, NULL}}},
    {"strategic unknown directive",
     PATCH_STRATEGIC,
     "{\"metadata\":{\"labels\":{\"$patch\":\"frob\"}}}",
     400,
     "Unknown patch type",
     {{NULL, NULL}}},
};

static void test_k8s_bodies(void **state)
{
    (void)state;
    cJSON *dep = load_deployment();
    for (size_t i = 0; i < sizeof k8s_cases / sizeof k8s_cases[0]; i++) {
        const struct k8s_case *c = &k8s_cases[i];
        cJSON *p = parse_or_die(c->patch), *r = NULL;
        struct idw_err err = {{0}};
        int rc = patch_apply(c->type, dep, p, "Deployment", &r, &err);
        if (rc != c->status)
            fail_msg("%s: status %d want %d (%s)", c->name, rc, c->status, err.msg);
        if (rc != 0) {
            assert_null(r);
            if (!strstr(err.msg, c->msg))
                fail_msg("%s: message '%s' lacks '%s'", c->name, err.msg, c->msg);
        }
        for (size_t k = 0; rc == 0 && k < 6 && c->checks[k].ptr; k++) {
            const cJSON *v = at(r, c->checks[k].ptr);
            char what[256];
            snprintf(what, sizeof what, "%s: %s", c->name, c->checks[k].ptr);
            if (!c->checks[k].json) {
                if (v)
                    fail_msg("%s should be absent", what);
                continue;
            }
            if (!v)
                fail_msg("%s is missing", what);
            assert_json_equal(v, c->checks[k].json, what);
        }
        /* untouched parts stay: status and name always survive these patches */
        if (rc == 0) {
            assert_json_equal(at(r, "/metadata/name"), "\"web\"", c->name);
            assert_json_equal(at(r, "/status/readyReplicas"), "2", c->name);
        }
        cJSON_Delete(p);
        cJSON_Delete(r);
    }
    cJSON_Delete(dep);
}

static void test_custom_kinds(void **state)
{
    (void)state;
    cJSON *t = parse_or_die("{\"apiVersion\":\"aadpodidentity.k8s.io/v1\",\"kind\":"
                            "\"AzureIdentityBinding\",\"metadata\":{\"name\":\"b\"},\"spec\":{"
                            "\"azureIdentity\":\"id\",\"selector\":\"web\"}}");
    cJSON *p = parse_or_die("{\"spec\":{\"selector\":\"web2\"}}"), *r = NULL;
    const char *kinds[] = {"AzureIdentity", "AzureIdentityBinding", "AzureAssignedIdentity",
                           "AzurePodIdentityException"};
    for (size_t i = 0; i < 4; i++) {
        struct idw_err err = {{0}};
        assert_int_equal(patch_apply(PATCH_STRATEGIC, t, p, kinds[i], &r, &err), 415);
        assert_null(r);
        assert_non_null(strstr(err.msg, "application/merge-patch+json"));
    }
    struct idw_err err = {{0}};
    assert_int_equal(patch_apply(PATCH_MERGE, t, p, "AzureIdentityBinding", &r, &err), 0);
    assert_json_equal(at(r, "/spec/selector"), "\"web2\"", "merge on a CRD");
    cJSON_Delete(r);
    cJSON_Delete(t);
    cJSON_Delete(p);
}

static void test_content_types(void **state)
{
    (void)state;
    enum patch_type t = PATCH_JSON;
    assert_int_equal(patch_type_from_content_type("application/merge-patch+json", &t), 0);
    assert_int_equal(t, PATCH_MERGE);
    assert_int_equal(
        patch_type_from_content_type("application/strategic-merge-patch+json; charset=utf-8", &t),
        0);
    assert_int_equal(t, PATCH_STRATEGIC);
    assert_int_equal(patch_type_from_content_type(" Application/JSON-Patch+JSON ", &t), 0);
    assert_int_equal(t, PATCH_JSON);
    assert_int_equal(patch_type_from_content_type("application/apply-patch+yaml", &t), -1);
    assert_int_equal(patch_type_from_content_type("application/json", &t), -1);
    assert_int_equal(patch_type_from_content_type("application/merge-patch+json2", &t), -1);
    assert_int_equal(patch_type_from_content_type(NULL, &t), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc7386_appendix), cmocka_unit_test(test_merge_rejects_non_object),
        cmocka_unit_test(test_rfc6902),          cmocka_unit_test(test_k8s_bodies),
        cmocka_unit_test(test_custom_kinds),     cmocka_unit_test(test_content_types),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
