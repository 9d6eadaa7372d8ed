/* Unit tests of idwatch-sim's throwaway PKI (server_tls.c): the certificates carry what kubectl
 * (Go crypto/x509) checks, client certificates from our CA pass and foreign ones do not, and the
 * OIDC key is published as the API server does. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "idwatch/core.h"
#include "server_parse.h"
#include "server_tls.h"

static struct server_tls tls;

static int setup(void **state)
{
    (void)state;
    struct idw_err err = {{0}};
    return server_tls_generate(&tls, &err);
}

static int teardown(void **state)
{
    (void)state;
    server_tls_free(&tls);
    return 0;
}

static X509 *pem_cert(const char *pem)
{
    BIO *b = BIO_new_mem_buf(pem, -1);
    X509 *c = PEM_read_bio_X509(b, NULL, NULL, NULL);
    BIO_free(b);
    return c;
}

static int cert_der(X509 *c, unsigned char **der)
{
    *der = NULL;
    return i2d_X509(c, der);
}

static void test_server_cert(void **state)
{
    (void)state;
    X509 *ca = pem_cert(tls.ca_cert_pem), *srv = pem_cert(tls.server_cert_pem);
    assert_non_null(ca);
    assert_non_null(srv);
    assert_int_equal(X509_check_ca(ca), 1);
    assert_int_equal(X509_check_issued(ca, srv), X509_V_OK);
    assert_int_equal(X509_check_ip_asc(srv, "127.0.0.1", 0), 1);
    assert_int_equal(X509_check_host(srv, "localhost", 0, 0, NULL), 1);
    assert_int_equal(X509_check_host(srv, "example.com", 0, 0, NULL), 0);
    assert_int_equal(X509_check_purpose(srv, X509_PURPOSE_SSL_SERVER, 0), 1);
    /* the key in server_key_pem belongs to the certificate */
    BIO *b = BIO_new_mem_buf(tls.server_key_pem, -1);
    EVP_PKEY *k = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
    BIO_free(b);
    assert_non_null(k);
    assert_int_equal(X509_check_private_key(srv, k), 1);
    EVP_PKEY_free(k);
    X509_free(ca);
    X509_free(srv);
}

static void test_client_cert(void **state)
{
    (void)state;
    X509 *cl = pem_cert(tls.client_cert_pem);
    unsigned char *der;
    int n = cert_der(cl, &der);
    assert_true(n > 0);
    char cn[64], org[64];
    assert_int_equal(server_tls_check_client(&tls, der, (size_t)n, cn, sizeof cn, org, sizeof org),
                     0);
    assert_string_equal(cn, "admin");
    assert_string_equal(org, "system:masters");
    /* one flipped byte in the signature: refused */
    der[n - 5] ^= 0x40;
    assert_int_equal(server_tls_check_client(&tls, der, (size_t)n, cn, sizeof cn, org, sizeof org),
                     -1);
    assert_int_equal(server_tls_check_client(&tls, der, 10, cn, sizeof cn, org, sizeof org), -1);
    OPENSSL_free(der);
    X509_free(cl);

    /* the server certificate is not a client certificate (extendedKeyUsage serverAuth) */
    X509 *srv = pem_cert(tls.server_cert_pem);
    n = cert_der(srv, &der);
    assert_int_equal(server_tls_check_client(&tls, der, (size_t)n, cn, sizeof cn, org, sizeof org),
                     -1);
    OPENSSL_free(der);
    X509_free(srv);

    /* a client certificate from another run's CA: refused */
    struct server_tls other;
    struct idw_err err = {{0}};
    assert_int_equal(server_tls_generate(&other, &err), 0);
    X509 *foreign = pem_cert(other.client_cert_pem);
    n = cert_der(foreign, &der);
    assert_int_equal(server_tls_check_client(&tls, der, (size_t)n, cn, sizeof cn, org, sizeof org),
                     -1);
    OPENSSL_free(der);
    X509_free(foreign);
    server_tls_free(&other);
}

static void test_oidc_key(void **state)
{
    (void)state;
    assert_string_equal(tls.oidc_e, "AQAB");
    unsigned char *nbytes;
    size_t nlen;
    assert_int_equal(server_b64_decode(tls.oidc_n, strlen(tls.oidc_n), &nbytes, &nlen), 0);
    assert_int_equal(nlen, 256); /* RSA 2048 */
    assert_true(nbytes[0] & 0x80);
    free(nbytes);
    /* kid = base64url(SHA-256(DER public key)) */
    unsigned char *der = NULL;
    int n = i2d_PUBKEY(tls.oidc_key, &der);
    unsigned char md[32];
    unsigned int mdlen;
    EVP_Digest(der, (size_t)n, md, &mdlen, EVP_sha256(), NULL);
    OPENSSL_free(der);
    char *kid = server_b64url_encode(md, mdlen);
    assert_string_equal(tls.oidc_kid, kid);
    free(kid);
}

static void test_helpers(void **state)
{
    (void)state;
    char *s = server_b64_std("hello", 5);
    assert_string_equal(s, "aGVsbG8=");
    free(s);
    char a[65], b[65];
    server_random_hex(a, 32);
    server_random_hex(b, 32);
    assert_int_equal(strlen(a), 64);
    assert_int_not_equal(strcmp(a, b), 0);
    assert_int_equal(strspn(a, "0123456789abcdef"), 64);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_server_cert),
        cmocka_unit_test(test_client_cert),
        cmocka_unit_test(test_oidc_key),
        cmocka_unit_test(test_helpers),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
