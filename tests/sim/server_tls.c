/* server_tls: a throwaway PKI for idwatch-sim (see server_tls.h). */
#include "server_tls.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "server_parse.h"

enum cert_role { ROLE_CA, ROLE_SERVER, ROLE_CLIENT };

/* Extensions per role: what Go's crypto/x509 (kubectl) and GnuTLS expect to see. */
static const struct {
    enum cert_role role;
    int nid;
    const char *value;
} cert_exts[] = {
    {ROLE_CA, NID_basic_constraints, "critical,CA:TRUE"},
    {ROLE_CA, NID_key_usage, "critical,keyCertSign,cRLSign,digitalSignature"},
    {ROLE_CA, NID_subject_key_identifier, "hash"},
    {ROLE_SERVER, NID_basic_constraints, "critical,CA:FALSE"},
    {ROLE_SERVER, NID_key_usage, "critical,digitalSignature,keyEncipherment"},
    {ROLE_SERVER, NID_ext_key_usage, "serverAuth"},
    {ROLE_SERVER, NID_subject_alt_name, "IP:127.0.0.1,DNS:localhost"},
    {ROLE_SERVER, NID_authority_key_identifier, "keyid"},
    {ROLE_CLIENT, NID_basic_constraints, "critical,CA:FALSE"},
    {ROLE_CLIENT, NID_key_usage, "critical,digitalSignature,keyEncipherment"},
    {ROLE_CLIENT, NID_ext_key_usage, "clientAuth"},
    {ROLE_CLIENT, NID_authority_key_identifier, "keyid"},
};

static int ossl_fail(struct idw_err *err, const char *what)
{
    unsigned long e = ERR_get_error();
    char buf[256] = "";
    if (e)
        ERR_error_string_n(e, buf, sizeof buf);
    ERR_clear_error();
    return idw_err_set(err, "tls: %s failed%s%s", what, *buf ? ": " : "", buf);
}

static EVP_PKEY *make_ec_key(void)
{
    return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
}

static X509 *make_cert(EVP_PKEY *key, const char *cn, const char *org, enum cert_role role,
                       X509 *issuer, EVP_PKEY *issuer_key)
{
    X509 *c = X509_new();
    if (!c)
        return NULL;
    unsigned char serial[16];
    BIGNUM *bn = NULL;
    bool ok = X509_set_version(c, 2) && RAND_bytes(serial, sizeof serial) == 1;
    serial[0] &= 0x7F; /* positive */
    ok = ok && (bn = BN_bin2bn(serial, sizeof serial, NULL)) &&
         BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(c));
    BN_free(bn);
    ok = ok && X509_gmtime_adj(X509_getm_notBefore(c), -3600) &&
         X509_gmtime_adj(X509_getm_notAfter(c), 365L * 24 * 3600) && X509_set_pubkey(c, key);
    X509_NAME *name = X509_get_subject_name(c);
    if (ok && org)
        ok = X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)org, -1, -1,
                                        0);
    ok = ok &&
         X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    X509 *signer = issuer ? issuer : c;
    ok = ok && X509_set_issuer_name(c, X509_get_subject_name(signer));
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, signer, c, NULL, NULL, 0);
    for (size_t i = 0; ok && i < sizeof cert_exts / sizeof *cert_exts; i++) {
        if (cert_exts[i].role != role)
            continue;
        X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, cert_exts[i].nid, cert_exts[i].value);
        ok = ext && X509_add_ext(c, ext, -1);
        X509_EXTENSION_free(ext);
    }
    ok = ok && X509_sign(c, issuer_key ? issuer_key : key, EVP_sha256()) > 0;
    if (!ok) {
        X509_free(c);
        return NULL;
    }
    return c;
}

static char *bio_take(BIO *b)
{
    char *data;
    long n = BIO_get_mem_data(b, &data);
    char *s = xstrndup(data, n > 0 ? (size_t)n : 0);
    BIO_free(b);
    return s;
}

static char *cert_pem(X509 *c)
{
    BIO *b = BIO_new(BIO_s_mem());
    if (!b || !PEM_write_bio_X509(b, c)) {
        BIO_free(b);
        return NULL;
    }
    return bio_take(b);
}

static char *key_pem(EVP_PKEY *k)
{
    BIO *b = BIO_new(BIO_s_mem());
    if (!b || !PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL)) {
        BIO_free(b);
        return NULL;
    }
    return bio_take(b);
}

char *server_b64url_bn(EVP_PKEY *k, const char *param)
{
    BIGNUM *bn = NULL;
    if (!EVP_PKEY_get_bn_param(k, param, &bn))
        return NULL;
    int n = BN_num_bytes(bn);
    unsigned char *buf = xmalloc((size_t)n + 1);
    BN_bn2bin(bn, buf);
    char *s = server_b64url_encode(buf, (size_t)n);
    free(buf);
    BN_free(bn);
    return s;
}

static int oidc_key_make(struct server_tls *t, struct idw_err *err)
{
    t->oidc_key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    if (!t->oidc_key)
        return ossl_fail(err, "RSA key generation");
    unsigned char *der = NULL;
    int n = i2d_PUBKEY(t->oidc_key, &der);
    if (n <= 0)
        return ossl_fail(err, "public key encoding");
    unsigned char md[32];
    unsigned int mdlen = 0;
    EVP_Digest(der, (size_t)n, md, &mdlen, EVP_sha256(), NULL);
    OPENSSL_free(der);
    char *kid = server_b64url_encode(md, mdlen);
    snprintf(t->oidc_kid, sizeof t->oidc_kid, "%s", kid);
    free(kid);
    t->oidc_n = server_b64url_bn(t->oidc_key, OSSL_PKEY_PARAM_RSA_N);
    t->oidc_e = server_b64url_bn(t->oidc_key, OSSL_PKEY_PARAM_RSA_E);
    if (!t->oidc_n || !t->oidc_e)
        return ossl_fail(err, "RSA parameters");
    return 0;
}

int server_tls_generate(struct server_tls *t, struct idw_err *err)
{
    memset(t, 0, sizeof *t);
    EVP_PKEY *server_key = NULL, *client_key = NULL;
    X509 *server_cert = NULL, *client_cert = NULL;
    int rc = -1;
    if (!(t->ca_key = make_ec_key()) || !(server_key = make_ec_key()) ||
        !(client_key = make_ec_key())) {
        ossl_fail(err, "EC key generation");
        goto out;
    }
    t->ca_cert = make_cert(t->ca_key, "idwatch-sim-ca", NULL, ROLE_CA, NULL, NULL);
    if (t->ca_cert)
        server_cert =
            make_cert(server_key, "kube-apiserver", NULL, ROLE_SERVER, t->ca_cert, t->ca_key);
    if (server_cert)
        client_cert =
            make_cert(client_key, "admin", "system:masters", ROLE_CLIENT, t->ca_cert, t->ca_key);
    if (!client_cert) {
        ossl_fail(err, "certificate signing");
        goto out;
    }
    t->ca_cert_pem = cert_pem(t->ca_cert);
    t->server_cert_pem = cert_pem(server_cert);
    t->server_key_pem = key_pem(server_key);
    t->client_cert_pem = cert_pem(client_cert);
    t->client_key_pem = key_pem(client_key);
    if (!t->ca_cert_pem || !t->server_cert_pem || !t->server_key_pem || !t->client_cert_pem ||
        !t->client_key_pem) {
        ossl_fail(err, "PEM encoding");
        goto out;
    }
    rc = oidc_key_make(t, err);
out:
    EVP_PKEY_free(server_key);
    EVP_PKEY_free(client_key);
    X509_free(server_cert);
    X509_free(client_cert);
    if (rc)
        server_tls_free(t);
    return rc;
}

void server_tls_free(struct server_tls *t)
{
    free(t->ca_cert_pem);
    free(t->server_cert_pem);
    if (t->server_key_pem)
        OPENSSL_cleanse(t->server_key_pem, strlen(t->server_key_pem));
    free(t->server_key_pem);
    free(t->client_cert_pem);
    if (t->client_key_pem)
        OPENSSL_cleanse(t->client_key_pem, strlen(t->client_key_pem));
    free(t->client_key_pem);
    X509_free(t->ca_cert);
    EVP_PKEY_free(t->ca_key);
    EVP_PKEY_free(t->oidc_key);
    free(t->oidc_n);
    free(t->oidc_e);
    memset(t, 0, sizeof *t);
}

int server_tls_check_client(const struct server_tls *t, const unsigned char *der, size_t len,
                            char *cn, size_t cn_len, char *org, size_t org_len)
{
    if (!t->ca_cert || len == 0 || len > 65536)
        return -1;
    const unsigned char *p = der;
    X509 *c = d2i_X509(NULL, &p, (long)len);
    if (!c)
        return ERR_clear_error(), -1;
    X509_STORE *store = X509_STORE_new();
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    int rc = -1;
    if (store && ctx && X509_STORE_add_cert(store, t->ca_cert) &&
        X509_STORE_CTX_init(ctx, store, c, NULL) &&
        X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_CLIENT) && X509_verify_cert(ctx) == 1) {
        X509_NAME *name = X509_get_subject_name(c);
        cn[0] = org[0] = '\0';
        if (X509_NAME_get_text_by_NID(name, NID_commonName, cn, (int)cn_len) > 0) {
            if (X509_NAME_get_text_by_NID(name, NID_organizationName, org, (int)org_len) < 0)
                org[0] = '\0';
            rc = 0;
        }
    }
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(store);
    X509_free(c);
    ERR_clear_error();
    return rc;
}

char *server_b64_std(const void *data, size_t n)
{
    return b64_encode(data, n, false);
}

void server_random_hex(char *out, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char b[64];
    if (n > sizeof b)
        n = sizeof b;
    if (RAND_bytes(b, (int)n) != 1)
        abort(); /* no randomness: never hand out a guessable token */
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex[b[i] >> 4];
        out[2 * i + 1] = hex[b[i] & 15];
    }
    out[2 * n] = '\0';
}
