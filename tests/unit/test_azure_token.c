/* azure tokens: Entra/IMDS token responses, az output across CLI versions (through the real
 * child-process runner and the az stand-in), certificate client assertions checked with
 * OpenSSL (PS256 signature, x5t#S256, claims), certificate load errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <cjson/cJSON.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "idwatch/azure.h"
#include "idwatch/net.h"
#include "test_azure_fake.h"

static void test_token_response(void **state)
{
    (void)state;
    struct azure_token t;
    struct idw_err err;
    const char *v2 = "{\"token_type\":\"Bearer\",\"expires_in\":3599,\"ext_expires_in\":3599,"
                     "\"access_token\":\"eyJ0.abc.def\"}";
    assert_int_equal(azure_parse_token_response(v2, strlen(v2), 1000, &t, &err), 0);
    assert_string_equal(t.access_token, "eyJ0.abc.def");
    assert_int_equal(t.expires_on, 4599);
    azure_token_free(&t);
    const char *str_in = "{\"access_token\":\"x\",\"expires_in\":\"60\"}";
    assert_int_equal(azure_parse_token_response(str_in, strlen(str_in), 10, &t, &err), 0);
    assert_int_equal(t.expires_on, 70);
    azure_token_free(&t);
    const char *imds = "{\"access_token\":\"x\",\"client_id\":\"c\",\"expires_in\":\"86399\","
                       "\"expires_on\":\"1795950000\",\"resource\":\"https://management.azure."
                       "com/\",\"token_type\":\"Bearer\"}";
    assert_int_equal(azure_parse_token_response(imds, strlen(imds), 10, &t, &err), 0);
    assert_int_equal(t.expires_on, 1795950000); /* expires_on wins */
    azure_token_free(&t);
    const char *bad[] = {"",
                         "[]",
                         "{\"access_token\":\"x\"}",
                         "{\"expires_in\":5}",
                         "{\"access_token\":\"a b\",\"expires_in\":5}",
                         "{\"access_token\":\"x\",\"expires_in\":\"soon\"}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(azure_parse_token_response(bad[i], strlen(bad[i]), 1, &t, &err), -1);

    char line[300];
    const char *aad = "{\"error\":\"invalid_client\",\"error_description\":\"AADSTS7000215: "
                      "Invalid client secret provided. Ensure the secret being sent in the request "
                      "is the client secret value.\\r\\nTrace ID: 1\\r\\nCorrelation ID: 2\","
                      "\"error_codes\":[7000215],\"trace_id\":\"1\"}";
    azure_describe_token_error(401, aad, strlen(aad), line, sizeof line);
    assert_string_equal(line, "HTTP 401 invalid_client: AADSTS7000215: Invalid client secret "
                              "provided. Ensure the secret being sent in the request is the "
                              "client secret value.");
    azure_describe_token_error(502, "<html>", 6, line, sizeof line);
    assert_string_equal(line, "HTTP 502");
}

/* ---- az across CLI versions, through the real process runner ---- */

struct proc_out {
    bool done;
    int exit_code;
    char *out, *err, *error;
};

static void on_proc(void *arg, const struct azure_proc_result *r)
{
    struct proc_out *p = arg;
    p->done = true;
    p->exit_code = r->exit_code;
    p->out = xstrndup(r->out, r->out_len);
    p->err = xstrndup(r->err, r->err_len);
    p->error = xstrdup(r->error);
}

static void run_az(const char *version, const char *program, struct proc_out *p)
{
    struct net_config nc = {0};
    struct net *n = net_new(&nc);
    struct azure_io io;
    assert_int_equal(azure_io_net_new(n, NULL, &io, NULL), 0);
    setenv("IDW_AZ_VERSION", version, 1);
    char *argv[] = {(char *)program,
                    "account",
                    "get-access-token",
                    "--resource",
                    "https://management.azure.com/",
                    "-o",
                    "json",
                    NULL};
    void *h;
    struct idw_err err;
    memset(p, 0, sizeof *p);
    if (io.spawn(io.ctx, argv, 10000, on_proc, p, &h, &err) != 0) {
        p->done = true;
        p->exit_code = -1;
        p->error = xstrdup(err.msg);
    }
    for (int i = 0; i < 1000 && !p->done; i++)
        net_poll(n, 50);
    assert_true(p->done);
    azure_io_net_free(&io);
    net_free(n);
}

static void proc_out_free(struct proc_out *p)
{
    free(p->out);
    free(p->err);
    free(p->error);
}

static void test_cli_versions(void **state)
{
    (void)state;
    /* a zone 5:30 east of UTC: local-time expiresOn must still give the right epoch */
    setenv("TZ", "IDW-5:30", 1);
    tzset();
    const char *az = IDW_TEST_DATA "/azure/az";
    const char *versions[] = {"2.60", "2.53", "adal", "cloudshell"};
    for (size_t i = 0; i < 4; i++) {
        struct proc_out p;
        run_az(versions[i], az, &p);
        assert_int_equal(p.exit_code, 0);
        struct azure_token t;
        struct idw_err err;
        if (azure_parse_cli_token(p.out, strlen(p.out), &t, &err) != 0)
            fail_msg("CLI %s: %s", versions[i], err.msg);
        int64_t want = (int64_t)time(NULL) + 3600;
        if (t.expires_on < want - 5 || t.expires_on > want + 1)
            fail_msg("CLI %s: expires_on %lld, wanted about %lld", versions[i],
                     (long long)t.expires_on, (long long)want);
        assert_non_null(strstr(t.access_token, "stand-in"));
        if (i < 3)
            assert_string_equal(t.subscription, "33b83be5-faf7-42ea-a712-320a5f9dd111");
        azure_token_free(&t);
        proc_out_free(&p);
    }
    /* the fixture sample: expires_on is taken over expiresOn */
    char *sample;
    size_t len;
    assert_int_equal(file_read_all(IDW_SHARED_DIR "/fixtures/arm/az-account-get-access-token."
                                                  "sample.json",
                                   1 << 16, &sample, &len, NULL),
                     0);
    struct azure_token t;
    assert_int_equal(azure_parse_cli_token(sample, len, &t, NULL), 0);
    assert_int_equal(t.expires_on, 1704158596);
    assert_string_equal(t.tenant, "065e9f5e-870d-4ed1-af2b-1b58092353f3");
    azure_token_free(&t);
    free(sample);

    struct proc_out p;
    run_az("notloggedin", az, &p);
    assert_int_equal(p.exit_code, 1);
    assert_non_null(strstr(p.err, "az login"));
    proc_out_free(&p);
    run_az("garbage", az, &p);
    assert_int_equal(p.exit_code, 0);
    struct idw_err err;
    assert_int_equal(azure_parse_cli_token(p.out, strlen(p.out), &t, &err), -1);
    assert_string_equal(err.msg, "az printed something that is not a JSON object");
    proc_out_free(&p);
    run_az("2.60", "/nonexistent/az", &p);
    assert_int_equal(p.exit_code, -1);
    assert_non_null(strstr(p.error, "No such file"));
    proc_out_free(&p);
    unsetenv("TZ");
    tzset();
}

/* ---- certificates ---- */

static EVP_PKEY *make_key(bool ec)
{
    return ec ? EVP_EC_gen("P-256") : EVP_RSA_gen(2048);
}

static X509 *make_cert(EVP_PKEY *key)
{
    X509 *x = X509_new();
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 7);
    X509_gmtime_adj(X509_getm_notBefore(x), 0);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_set_pubkey(x, key);
    X509_NAME *name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"idwatch-test", -1,
                               -1, 0);
    X509_set_issuer_name(x, name);
    X509_sign(x, key, EVP_sha256());
    return x;
}

static void write_pem(const char *path, X509 *cert, EVP_PKEY *key)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    if (cert)
        PEM_write_X509(f, cert);
    if (key)
        PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL);
    fclose(f);
}

static cJSON *decode_part(const char *s, size_t n)
{
    unsigned char *raw;
    size_t len;
    assert_int_equal(b64_decode(s, n, true, &raw, &len), 0);
    cJSON *j = cJSON_ParseWithLength((char *)raw, len);
    free(raw);
    assert_non_null(j);
    return j;
}

/* Checks the assertion like Entra ID would; returns 0 when the PS256 signature verifies. */
static int check_assertion(const char *jwt, X509 *cert, const char *client, const char *aud,
                           int64_t now)
{
    const char *d1 = strchr(jwt, '.');
    const char *d2 = d1 ? strchr(d1 + 1, '.') : NULL;
    assert_non_null(d2);
    cJSON *h = decode_part(jwt, (size_t)(d1 - jwt));
    assert_string_equal(cJSON_GetObjectItem(h, "alg")->valuestring, "PS256");
    assert_string_equal(cJSON_GetObjectItem(h, "typ")->valuestring, "JWT");
    unsigned char md[32];
    unsigned int mdlen;
    X509_digest(cert, EVP_sha256(), md, &mdlen);
    unsigned char thumb[64];
    EVP_EncodeBlock(thumb, md, 32);
    assert_string_equal(cJSON_GetObjectItem(h, "x5t#S256")->valuestring, (char *)thumb);
    cJSON_Delete(h);
    cJSON *c = decode_part(d1 + 1, (size_t)(d2 - d1 - 1));
    assert_string_equal(cJSON_GetObjectItem(c, "aud")->valuestring, aud);
    assert_string_equal(cJSON_GetObjectItem(c, "iss")->valuestring, client);
    assert_string_equal(cJSON_GetObjectItem(c, "sub")->valuestring, client);
    const char *jti = cJSON_GetObjectItem(c, "jti")->valuestring;
    assert_int_equal(strlen(jti), 36);
    assert_int_equal(jti[14], '4'); /* a version 4 UUID */
    assert_int_equal((int64_t)cJSON_GetObjectItem(c, "nbf")->valuedouble, now);
    assert_int_equal((int64_t)cJSON_GetObjectItem(c, "exp")->valuedouble, now + 600);
    cJSON_Delete(c);
    unsigned char *sig;
    size_t siglen;
    assert_int_equal(b64_decode(d2 + 1, strlen(d2 + 1), true, &sig, &siglen), 0);
    EVP_PKEY *pub = X509_get0_pubkey(cert);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx;
    EVP_DigestVerifyInit(ctx, &pctx, EVP_sha256(), NULL, pub);
    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING);
    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 32);
    int ok = EVP_DigestVerify(ctx, sig, siglen, (const unsigned char *)jwt, (size_t)(d2 - jwt));
    EVP_MD_CTX_free(ctx);
    free(sig);
    return ok == 1 ? 0 : -1;
}

static void noop_done(void *arg, struct model_azure *m)
{
    (void)arg;
    model_azure_free(m);
}

static void test_cert_assertion(void **state)
{
    (void)state;
    char path[] = "/tmp/idw-cert-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    EVP_PKEY *key = make_key(false);
    X509 *cert = make_cert(key);
    write_pem(path, cert, key);
    struct azure_cert *c;
    struct idw_err err;
    assert_int_equal(azure_cert_load(path, NULL, &c, &err), 0);
    const char *url = "https://login.microsoftonline.com/tenant1/oauth2/v2.0/token";
    char *jwt = azure_cert_assertion(c, "client-1", url, 1795946400, &err);
    assert_non_null(jwt);
    assert_int_equal(check_assertion(jwt, cert, "client-1", url, 1795946400), 0);
    /* a damaged signature no longer verifies: the check above really checks */
    char *sig = strrchr(jwt, '.') + 10;
    *sig = *sig == 'A' ? 'B' : 'A';
    assert_int_equal(check_assertion(jwt, cert, "client-1", url, 1795946400), -1);
    free(jwt);
    azure_cert_free(c);

    /* through the chain: AZURE_CLIENT_CERTIFICATE_PATH gives a client_assertion POST */
    struct fake_io f = {.now_ms = 1795946400000};
    fake_setenv(&f, "AZURE_TENANT_ID", "tenant1");
    fake_setenv(&f, "AZURE_CLIENT_ID", "client-1");
    fake_setenv(&f, "AZURE_CLIENT_CERTIFICATE_PATH", path);
    struct azure_io io = fake_io_seam(&f);
    struct azure *az;
    struct azure_config cfg = {.server_host = "h", .authority_host = "https://login.test"};
    assert_int_equal(azure_new(&cfg, &io, &az, NULL), 0);
    assert_int_equal(azure_refresh(az, noop_done, NULL, NULL), 0);
    assert_int_equal(f.n_reqs, 1);
    const char *body = f.reqs[0].body;
    assert_non_null(strstr(body, "client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-"
                                 "assertion-type%3Ajwt-bearer"));
    const char *a = strstr(body, "client_assertion=");
    assert_non_null(a);
    a += strlen("client_assertion=");
    char *assertion = xstrndup(a, strcspn(a, "&")); /* base64url and dots: no %-escapes */
    assert_int_equal(check_assertion(assertion, cert, "client-1",
                                     "https://login.test/tenant1/oauth2/v2.0/token", 1795946400),
                     0);
    free(assertion);
    azure_free(az);
    fake_free(&f);

    /* load errors name the file and carry OpenSSL's reason */
    assert_int_equal(azure_cert_load("/nonexistent/cert.pem", NULL, &c, &err), -1);
    assert_non_null(strstr(err.msg, "/nonexistent/cert.pem"));
    FILE *fp = fopen(path, "w");
    fputs("this is not a certificate\n", fp);
    fclose(fp);
    assert_int_equal(azure_cert_load(path, NULL, &c, &err), -1);
    assert_non_null(strstr(err.msg, path));
    assert_non_null(strstr(err.msg, "neither a PEM certificate nor PKCS#12"));
    assert_non_null(strstr(err.msg, "error:")); /* OpenSSL's reason string */
    write_pem(path, cert, NULL);
    assert_int_equal(azure_cert_load(path, NULL, &c, &err), -1);
    assert_non_null(strstr(err.msg, "no readable private key"));
    EVP_PKEY *ec = make_key(true);
    X509 *ec_cert = make_cert(ec);
    write_pem(path, ec_cert, ec);
    assert_int_equal(azure_cert_load(path, NULL, &c, &err), -1);
    assert_non_null(strstr(err.msg, "not RSA"));
    EVP_PKEY *other = make_key(false);
    write_pem(path, cert, other);
    assert_int_equal(azure_cert_load(path, NULL, &c, &err), -1);
    assert_non_null(strstr(err.msg, "does not belong"));
    EVP_PKEY_free(other);
    X509_free(ec_cert);
    EVP_PKEY_free(ec);
    X509_free(cert);
    EVP_PKEY_free(key);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_token_response),
        cmocka_unit_test(test_cli_versions),
        cmocka_unit_test(test_cert_assertion),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
