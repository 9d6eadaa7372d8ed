/* server_tls: the simulator's throwaway PKI, made fresh at every start with OpenSSL 3: a CA, the
 * server certificate for 127.0.0.1/localhost, the admin client certificate (CN=admin,
 * O=system:masters) and the RSA key behind the cluster's OIDC JWKS. */
#ifndef IDWSIM_SERVER_TLS_H
#define IDWSIM_SERVER_TLS_H

#include <stddef.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "idwatch/core.h"

struct server_tls {
    char *ca_cert_pem;
    char *server_cert_pem, *server_key_pem;
    char *client_cert_pem, *client_key_pem;
    X509 *ca_cert;
    EVP_PKEY *ca_key;
    EVP_PKEY *oidc_key; /* RSA 2048 */
    char oidc_kid[48];  /* base64url(SHA-256(DER SubjectPublicKeyInfo)), as the API server */
    char *oidc_n;       /* base64url modulus */
    char *oidc_e;       /* base64url exponent ("AQAB") */
};

int server_tls_generate(struct server_tls *t, struct idw_err *err);
void server_tls_free(struct server_tls *t);

/* Checks that a DER certificate presented by a client was issued by our CA and is valid now.
 * 0 with its CN (and first O, "" when none) copied out, -1 otherwise. */
int server_tls_check_client(const struct server_tls *t, const unsigned char *der, size_t len,
                            char *cn, size_t cn_len, char *org, size_t org_len);

/* Standard base64 (for kubeconfig *-data fields); caller frees. */
char *server_b64_std(const void *data, size_t n);
/* base64url of a key's big-number parameter (OSSL_PKEY_PARAM_RSA_N/E): a JWK "n" or "e".
 * Caller frees; NULL when the key has no such parameter. */
char *server_b64url_bn(EVP_PKEY *k, const char *param);

/* Fills out with n random bytes as lowercase hex (out holds 2n+1). */
void server_random_hex(char *out, size_t n);

#endif
