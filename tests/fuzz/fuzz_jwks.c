/* Fuzz harness: OIDC discovery documents and JWKS (parse, compare, verdict) on untrusted bytes. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "idwatch/oidc.h"

static const char *ref_jwks = "{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"k1\",\"n\":"
                              "\"AKxsSqY8Zq3d2KlYb5w0xTxx\",\"e\":\"AQAB\"}]}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    struct idw_err err;
    struct oidc_discovery d;
    if (oidc_parse_discovery(s, size, &d, &err) == 0)
        oidc_discovery_free(&d);
    struct oidc_jwks j, ref;
    char detail[256];
    if (oidc_parse_jwks(s, size, &j, &err) == 0) {
        if (oidc_parse_jwks(ref_jwks, strlen(ref_jwks), &ref, NULL) == 0) {
            oidc_compare_jwks(&j, &ref, detail, sizeof detail);
            oidc_compare_jwks(&ref, &j, detail, sizeof detail);
            oidc_jwks_free(&ref);
        }
        oidc_jwks_free(&j);
    }
    /* the same bytes as every document of a check */
    struct oidc_fetched f = {.status = 200, .body = s, .len = size, .url = "https://x/"};
    struct oidc_inputs in = {.arm_enabled = 1,
                             .cluster_discovery = f,
                             .cluster_jwks = f,
                             .public_discovery = f,
                             .public_jwks = f};
    struct model_oidc o;
    oidc_evaluate(&in, 0, &o);
    model_oidc_free(&o);
    unsigned char *raw;
    size_t n;
    if (oidc_b64url_decode(s, size, &raw, &n) == 0) {
        char *back = oidc_b64url_encode(raw, n);
        free(back);
        free(raw);
    }
    return 0;
}
