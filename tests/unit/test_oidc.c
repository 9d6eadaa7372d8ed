/* oidc: base64url, discovery and JWKS parsing, key comparison, the verdict and the async check. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "idwatch/oidc.h"

#define ISSUER                                                                                     \
    "https://eastus.oic.prod-aks.azure.com/22222222-2222-2222-2222-222222222222/"                  \
    "44444444-4444-4444-4444-444444444444/"

static const char *disc_json =
    "{\"issuer\":\"" ISSUER "\",\"jwks_uri\":\"https://eastus.oic.prod-aks.azure.com/"
    "22222222-2222-2222-2222-222222222222/44444444-4444-4444-4444-444444444444/openid/v1/jwks\","
    "\"response_types_supported\":[\"id_token\"],\"subject_types_supported\":[\"public\"],"
    "\"id_token_signing_alg_values_supported\":[\"RS256\"]}";

/* Two RSA keys (n shortened: only the bytes matter here) and one EC key. */
static const char *jwks_a =
    "{\"keys\":[{\"use\":\"sig\",\"kty\":\"RSA\",\"kid\":\"k1\",\"alg\":\"RS256\","
    "\"n\":\"AKxsSqY8Zq3d2KlYb5w0xTxx\",\"e\":\"AQAB\"},"
    "{\"kty\":\"EC\",\"kid\":\"e1\",\"crv\":\"P-256\",\"x\":"
    "\"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU\","
    "\"y\":\"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0\"}]}";
/* The same keys: n without the leading zero byte, order changed, an extra key published. */
static const char *jwks_a_published =
    "{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"old\",\"n\":\"AQID\",\"e\":\"AQAB\"},"
    "{\"kty\":\"EC\",\"kid\":\"e1\",\"crv\":\"P-256\",\"x\":"
    "\"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU\","
    "\"y\":\"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0\"},"
    "{\"use\":\"sig\",\"kty\":\"RSA\",\"kid\":\"k1\",\"alg\":\"RS256\","
    "\"n\":\"rGxKpjxmrd3YqVhvnDTFPHE\",\"e\":\"AQAB\"}]}";
static const char *jwks_kid_changed = "{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"k2\",\"n\":"
                                      "\"AKxsSqY8Zq3d2KlYb5w0xTxx\",\"e\":\"AQAB\"}]}";
static const char *jwks_n_changed =
    "{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"k1\",\"n\":\"AKxsSqY8Zq3d2KlYb5w0xTxy\",\"e\":\"AQAB\"},"
    "{\"kty\":\"EC\",\"kid\":\"e1\",\"crv\":\"P-256\",\"x\":"
    "\"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU\","
    "\"y\":\"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0\"}]}";

static void test_b64url(void **state)
{
    (void)state;
    const char *cases[][2] = {{"", ""},        {"f", "Zg"},        {"fo", "Zm8"},
                              {"foo", "Zm9v"}, {"foob", "Zm9vYg"}, {"\xfb\xff", "-_8"}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *e = oidc_b64url_encode(cases[i][0], strlen(cases[i][0]));
        assert_string_equal(e, cases[i][1]);
        unsigned char *d;
        size_t n;
        assert_int_equal(oidc_b64url_decode(e, strlen(e), &d, &n), 0);
        assert_int_equal(n, strlen(cases[i][0]));
        assert_memory_equal(d, cases[i][0], n);
        free(d);
        free(e);
    }
    unsigned char *d;
    size_t n;
    assert_int_equal(oidc_b64url_decode("Zg==", 4, &d, &n), 0); /* padding tolerated */
    assert_int_equal(n, 1);
    free(d);
    assert_int_equal(oidc_b64url_decode("Z", 1, &d, &n), -1);
    assert_int_equal(oidc_b64url_decode("Z!==", 4, &d, &n), -1);
}

static void test_parse_discovery(void **state)
{
    (void)state;
    struct oidc_discovery d;
    struct idw_err err;
    assert_int_equal(oidc_parse_discovery(disc_json, strlen(disc_json), &d, &err), 0);
    assert_string_equal(d.issuer, ISSUER);
    assert_non_null(strstr(d.jwks_uri, "/openid/v1/jwks"));
    oidc_discovery_free(&d);
    assert_int_equal(oidc_parse_discovery("{\"jwks_uri\":\"x\"}", 16, &d, &err), -1);
    assert_non_null(strstr(err.msg, "issuer"));
    assert_int_equal(oidc_parse_discovery("<html>", 6, &d, &err), -1);
    char *u = oidc_discovery_url(ISSUER);
    assert_int_equal(strncmp(u, ISSUER, strlen(ISSUER) - 1), 0);
    assert_true(str_has_suffix(u, "444444444444/.well-known/openid-configuration"));
    free(u);
}

static void test_parse_jwks(void **state)
{
    (void)state;
    struct oidc_jwks j;
    struct idw_err err;
    assert_int_equal(oidc_parse_jwks(jwks_a, strlen(jwks_a), &j, &err), 0);
    assert_int_equal(j.n_keys, 2);
    const struct oidc_key *k = oidc_jwks_find(&j, "k1");
    assert_non_null(k);
    assert_string_equal(k->kty, "RSA");
    assert_int_equal(k->e_len, 3);
    assert_int_equal(k->n_len, 17); /* 18 bytes minus the leading zero */
    assert_int_equal(oidc_jwks_find(&j, "e1")->x_len, 32);
    oidc_jwks_free(&j);
    const char *bad = "{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"k\",\"n\":\"**\",\"e\":\"AQAB\"}]}";
    assert_int_equal(oidc_parse_jwks(bad, strlen(bad), &j, &err), -1);
    assert_non_null(strstr(err.msg, "\"n\""));
    assert_int_equal(oidc_parse_jwks("{\"keys\":{}}", 11, &j, &err), -1);
}

static int compare(const char *cluster, const char *published, char *detail, size_t n)
{
    struct oidc_jwks a, b;
    assert_int_equal(oidc_parse_jwks(cluster, strlen(cluster), &a, NULL), 0);
    assert_int_equal(oidc_parse_jwks(published, strlen(published), &b, NULL), 0);
    int rc = oidc_compare_jwks(&a, &b, detail, n);
    oidc_jwks_free(&a);
    oidc_jwks_free(&b);
    return rc;
}

static void test_compare(void **state)
{
    (void)state;
    char d[256];
    assert_int_equal(compare(jwks_a, jwks_a_published, d, sizeof d), 0);
    assert_non_null(strstr(d, "2 signing key"));
    assert_int_equal(compare(jwks_a, jwks_kid_changed, d, sizeof d), -1);
    assert_non_null(strstr(d, "kid k1"));
    assert_non_null(strstr(d, "does not publish"));
    assert_int_equal(compare(jwks_a, jwks_n_changed, d, sizeof d), -1);
    assert_non_null(strstr(d, "kid k1"));
    assert_non_null(strstr(d, "(n)"));
}

static struct oidc_fetched ok_doc(const char *body, const char *url)
{
    return (struct oidc_fetched){.status = 200, .body = body, .len = strlen(body), .url = url};
}

static void evaluate(const struct oidc_inputs *in, enum model_oidc_status want, const char *needle)
{
    struct model_oidc o;
    oidc_evaluate(in, 1000, &o);
    if (o.status != want || !strstr(o.detail, needle))
        fail_msg("status %d detail \"%s\" (wanted %d with \"%s\")", o.status, o.detail, want,
                 needle);
    assert_int_equal(o.checked, 1000);
    model_oidc_free(&o);
}

static void test_evaluate(void **state)
{
    (void)state;
    struct oidc_inputs in = {.arm_enabled = 1,
                             .arm_issuer = ISSUER,
                             .cluster_discovery =
                                 ok_doc(disc_json, "/.well-known/openid-configuration"),
                             .cluster_jwks = ok_doc(jwks_a, "/openid/v1/jwks"),
                             .public_discovery = ok_doc(disc_json, "https://pub/disc"),
                             .public_jwks = ok_doc(jwks_a_published, "https://pub/jwks")};
    evaluate(&in, MODEL_OIDC_OK, "match");

    /* a trailing slash is enough for Entra ID to refuse the token */
    char *noslash = xstrdup(disc_json);
    char *p = strstr(noslash, "444444444444/\"");
    memmove(p + 12, p + 13, strlen(p + 13) + 1);
    struct oidc_inputs t = in;
    t.public_discovery = ok_doc(noslash, "https://pub/disc");
    evaluate(&t, MODEL_OIDC_KEYS_MISMATCH, "issuer mismatch");
    t = in;
    t.cluster_discovery = ok_doc(noslash, "/.well-known/openid-configuration");
    evaluate(&t, MODEL_OIDC_KEYS_MISMATCH, "ARM's issuerURL");
    free(noslash);

    t = in;
    t.public_jwks = ok_doc(jwks_kid_changed, "https://pub/jwks");
    evaluate(&t, MODEL_OIDC_KEYS_MISMATCH, "kid k1");
    t.public_jwks = ok_doc(jwks_n_changed, "https://pub/jwks");
    evaluate(&t, MODEL_OIDC_KEYS_MISMATCH, "material differs (n)");

    t = in;
    t.public_discovery = (struct oidc_fetched){
        .status = 0, .error = "Could not resolve host", .url = "https://pub/disc"};
    evaluate(&t, MODEL_OIDC_UNREACHABLE, "Could not resolve host");
    t.public_discovery = (struct oidc_fetched){.status = 404, .url = "https://pub/disc"};
    evaluate(&t, MODEL_OIDC_UNREACHABLE, "HTTP 404");
    t = in;
    t.public_jwks = ok_doc("not json", "https://pub/jwks");
    evaluate(&t, MODEL_OIDC_UNREACHABLE, "JWKS is not JSON");

    t = in;
    t.arm_enabled = 0;
    evaluate(&t, MODEL_OIDC_DISABLED, "disabled");

    t = in;
    t.cluster_jwks = (struct oidc_fetched){.status = 403, .url = "/openid/v1/jwks"};
    evaluate(&t, MODEL_OIDC_UNKNOWN, "cluster keys not readable");

    /* no ARM: the API server's issuer is the one to check */
    t = in;
    t.arm_issuer = NULL;
    t.arm_enabled = -1;
    evaluate(&t, MODEL_OIDC_OK, "match");
    t.cluster_discovery = (struct oidc_fetched){.status = 0, .error = "refused", .url = "/x"};
    evaluate(&t, MODEL_OIDC_UNKNOWN, "refused");

    /* control bytes in a hostile issuer never reach the detail */
    const char *evil = "{\"issuer\":\"https://x/\\u001b[2J\"}";
    t = in;
    t.public_discovery = ok_doc(evil, "https://pub/disc");
    struct model_oidc o;
    oidc_evaluate(&t, 1, &o);
    assert_int_equal(o.status, MODEL_OIDC_KEYS_MISMATCH);
    assert_null(strchr(o.detail, 0x1b));
    model_oidc_free(&o);
}

/* ---- the async check with fake getters ---- */

struct fake_get {
    char urls[8][300];
    oidc_get_done done[8];
    void *arg[8];
    int n;
    int cancelled;
};

static int fake_get(void *ctx, const char *url, oidc_get_done done, void *arg, void **handle,
                    struct idw_err *err)
{
    struct fake_get *f = ctx;
    assert_true(f->n < 8);
    snprintf(f->urls[f->n], sizeof f->urls[0], "%s", url);
    f->done[f->n] = done;
    f->arg[f->n] = arg;
    *handle = (void *)(intptr_t)(f->n + 1);
    f->n++;
    return 0;
}

static void fake_cancel(void *ctx, void *handle)
{
    struct fake_get *f = ctx;
    f->cancelled++;
    (void)handle;
}

static int find_url(struct fake_get *f, const char *suffix)
{
    for (int i = 0; i < f->n; i++)
        if (str_has_suffix(f->urls[i], suffix))
            return i;
    return -1;
}

static void answer(struct fake_get *f, const char *suffix, long status, const char *body)
{
    int i = find_url(f, suffix);
    assert_true(i >= 0);
    struct oidc_response r = {.status = status, .body = body, .len = body ? strlen(body) : 0};
    f->done[i](f->arg[i], &r);
}

static void on_result(void *arg, struct model_oidc *m)
{
    struct model_oidc *out = arg;
    *out = *m;
}

static void test_check_async(void **state)
{
    (void)state;
    struct fake_get kube = {0}, https = {0};
    struct oidc_check_config cfg = {.kube_get = fake_get,
                                    .kube_cancel = fake_cancel,
                                    .kube_ctx = &kube,
                                    .https_get = fake_get,
                                    .https_cancel = fake_cancel,
                                    .https_ctx = &https,
                                    .arm_enabled = 1,
                                    .arm_issuer = ISSUER};
    struct model_oidc result = {.status = 99};
    struct oidc_check *c;
    assert_int_equal(oidc_check_start(&cfg, on_result, &result, &c, NULL), 0);
    /* cluster documents and (ARM issuer known) the public discovery start at once */
    assert_int_equal(kube.n, 2);
    assert_int_equal(https.n, 1);
    assert_string_equal(kube.urls[0], "/.well-known/openid-configuration");
    assert_true(str_has_suffix(https.urls[0], "444444444444/.well-known/openid-configuration"));
    answer(&kube, "openid-configuration", 200, disc_json);
    answer(&kube, "/openid/v1/jwks", 200, jwks_a);
    answer(&https, "openid-configuration", 200, disc_json);
    assert_int_equal(result.status, 99); /* still waiting for the public JWKS */
    assert_int_equal(https.n, 2);
    assert_true(str_has_suffix(https.urls[1], "/openid/v1/jwks"));
    answer(&https, "/openid/v1/jwks", 200, jwks_a_published);
    assert_int_equal(result.status, MODEL_OIDC_OK);
    assert_string_equal(result.cluster_issuer, ISSUER);
    model_oidc_free(&result);
    oidc_check_free(c);

    /* freed half-way: outstanding GETs are cancelled, nothing leaks, done never runs */
    struct fake_get k2 = {0}, h2 = {0};
    cfg.kube_ctx = &k2;
    cfg.https_ctx = &h2;
    result.status = 99;
    assert_int_equal(oidc_check_start(&cfg, on_result, &result, &c, NULL), 0);
    answer(&k2, "openid-configuration", 200, disc_json);
    oidc_check_free(c);
    assert_int_equal(k2.cancelled + h2.cancelled, 2);
    assert_int_equal(result.status, 99);

    /* ARM says disabled: nothing is fetched */
    struct fake_get k3 = {0}, h3 = {0};
    cfg.kube_ctx = &k3;
    cfg.https_ctx = &h3;
    cfg.arm_enabled = 0;
    assert_int_equal(oidc_check_start(&cfg, on_result, &result, &c, NULL), 0);
    assert_int_equal(k3.n + h3.n, 0);
    assert_int_equal(result.status, MODEL_OIDC_DISABLED);
    model_oidc_free(&result);
    oidc_check_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_b64url),     cmocka_unit_test(test_parse_discovery),
        cmocka_unit_test(test_parse_jwks), cmocka_unit_test(test_compare),
        cmocka_unit_test(test_evaluate),   cmocka_unit_test(test_check_async),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
