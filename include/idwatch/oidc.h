/* oidc: the cluster's service-account token issuer — discovery documents, JWKS, and the check
 * that the public issuer Entra ID reads publishes the same issuer string and keys as the cluster.
 *
 * Parsers take untrusted bytes and never crash on them; the check is asynchronous and does its
 * GETs through caller-supplied functions (the kube client's authenticated transport for the API
 * server, plain HTTPS with system + --ca-file CAs for the public issuer). Never TokenRequest.
 */
#ifndef IDWATCH_OIDC_H
#define IDWATCH_OIDC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "idwatch/core.h"
#include "idwatch/model.h"

/* ---- base64url (RFC 4648 §5): thin names over core's b64 ---- */

/* Encodes without padding; the result is xmalloc'd and NUL-terminated. */
char *oidc_b64url_encode(const void *data, size_t len);
/* Decodes base64url (padding optional; '+' and '/' also accepted). *out is xmalloc'd (plus a NUL
 * byte not counted in *out_len). Returns 0, or -1 on a bad character or length. */
int oidc_b64url_decode(const char *s, size_t len, unsigned char **out, size_t *out_len);

/* ---- documents ---- */

struct oidc_discovery {
    char *issuer;
    char *jwks_uri;
};

/* Parses /.well-known/openid-configuration: "issuer" is required, "jwks_uri" optional. */
int oidc_parse_discovery(const char *json, size_t len, struct oidc_discovery *out,
                         struct idw_err *err);
void oidc_discovery_free(struct oidc_discovery *d); /* members only */

/* One public key of a JWKS; material is decoded from base64url (n and e without leading zeros). */
struct oidc_key {
    char *kid; /* NULL when absent */
    char *kty; /* "RSA", "EC" */
    char *alg;
    char *use;
    char *crv;
    unsigned char *n, *e, *x, *y;
    size_t n_len, e_len, x_len, y_len;
};

struct oidc_jwks {
    struct oidc_key *keys;
    size_t n_keys;
};

/* Parses a JWKS ({"keys": [...]}). Keys of unknown kty are kept with no material; a key whose
 * material does not decode fails the whole document (a publisher bug worth showing). */
int oidc_parse_jwks(const char *json, size_t len, struct oidc_jwks *out, struct idw_err *err);
void oidc_jwks_free(struct oidc_jwks *j); /* members only */
/* The key with that kid, or NULL. */
const struct oidc_key *oidc_jwks_find(const struct oidc_jwks *j, const char *kid);
/* True when both keys have the same type, curve and material (kid not compared). */
bool oidc_key_same(const struct oidc_key *a, const struct oidc_key *b);

/* Every key the cluster signs with must be published by the public issuer under the same kid
 * with the same material (the public set may hold extra keys during a rotation). Returns 0 when
 * so, else -1 with detail (one line) naming the first offending kid. */
int oidc_compare_jwks(const struct oidc_jwks *cluster, const struct oidc_jwks *published,
                      char *detail, size_t detail_len);

/* ---- the verdict, from what was fetched (pure; the async check below feeds it) ---- */

/* One fetched document: status is the HTTP code, 0 when the request never got an answer (then
 * error says why), -1 when not fetched at all. */
struct oidc_fetched {
    long status;
    const char *body;
    size_t len;
    const char *error;
    const char *url; /* for the detail text */
};

struct oidc_inputs {
    int arm_enabled;                       /* ARM oidcIssuerProfile.enabled: 1, 0, or -1 unknown */
    const char *arm_issuer;                /* ARM oidcIssuerProfile.issuerURL, NULL unknown */
    struct oidc_fetched cluster_discovery; /* API server /.well-known/openid-configuration */
    struct oidc_fetched cluster_jwks;      /* API server /openid/v1/jwks */
    struct oidc_fetched public_discovery;  /* <issuer>/.well-known/openid-configuration */
    struct oidc_fetched public_jwks;       /* the public discovery's jwks_uri */
};

/* Fills out (members owned by out; free with model_oidc_free) with ok / disabled / unreachable
 * / keys-mismatch / unknown and a one-line detail. An issuer string that differs in any byte
 * (a trailing slash included) counts as keys-mismatch with "issuer mismatch" in the detail:
 * Entra ID rejects such tokens just the same. */
void oidc_evaluate(const struct oidc_inputs *in, int64_t now, struct model_oidc *out);

/* "<issuer without trailing slash>/.well-known/openid-configuration", xmalloc'd. */
char *oidc_discovery_url(const char *issuer);

/* ---- the asynchronous check ---- */

struct oidc_response {
    long status; /* HTTP status, 0 on a transport failure */
    const char *body;
    size_t len;
    const char *error; /* transport failure text when status is 0 */
};

/* Called exactly once per successful get call (possibly before get returns). */
typedef void (*oidc_get_done)(void *arg, const struct oidc_response *r);
/* Starts a GET of url; returns 0 (with *handle for the cancel function, may stay NULL), or -1
 * with err when it could not even start. */
typedef int (*oidc_get_fn)(void *ctx, const char *url, oidc_get_done done, void *arg, void **handle,
                           struct idw_err *err);
typedef void (*oidc_cancel_fn)(void *ctx, void *handle);

struct oidc_check_config {
    oidc_get_fn kube_get;       /* gets API-server paths ("/.well-known/openid-configuration") */
    oidc_cancel_fn kube_cancel; /* may be NULL */
    void *kube_ctx;
    oidc_get_fn https_get;       /* gets absolute https URLs of the public issuer */
    oidc_cancel_fn https_cancel; /* may be NULL */
    void *https_ctx;
    int arm_enabled;        /* as in oidc_inputs */
    const char *arm_issuer; /* copied */
    size_t max_body;        /* bodies larger than this are refused; 0 = 1 MiB */
};

/* The result's members become the callee's (store_set_oidc takes them). */
typedef void (*oidc_check_done)(void *arg, struct model_oidc *result);

struct oidc_check;

/* Fetches the four documents (cluster discovery and JWKS in parallel, then the public discovery
 * and JWKS) and reports the verdict through done. When ARM says the issuer is disabled nothing
 * is fetched. Returns 0, or -1 with err if nothing could be started (done is then not called). */
int oidc_check_start(const struct oidc_check_config *cfg, oidc_check_done done, void *arg,
                     struct oidc_check **out, struct idw_err *err);
/* ---- plain HTTPS GETs over net, for the public issuer ---- */

struct net;
struct oidc_https;

int oidc_https_new(struct net *n, const char *ca_file, struct oidc_https **out,
                   struct idw_err *err);
void oidc_https_free(struct oidc_https *h); /* cancel outstanding GETs first */
/* An oidc_get_fn / oidc_cancel_fn pair (ctx = the struct oidc_https): https:// URLs only,
 * 10 s timeout, 1 MiB bodies, no retries. */
int oidc_https_get(void *ctx, const char *url, oidc_get_done done, void *arg, void **handle,
                   struct idw_err *err);
void oidc_https_cancel(void *ctx, void *handle);

/* Frees the check; safe while GETs are outstanding (they are cancelled when a cancel function
 * was given; else their callbacks become no-ops and the last one releases the memory) and after
 * done was called. done is never called after this. */
void oidc_check_free(struct oidc_check *c);

#endif
