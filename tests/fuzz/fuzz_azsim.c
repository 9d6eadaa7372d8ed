/* Fuzz harness: idwatch-sim's Azure-side parsers on untrusted bytes: token-request form bodies,
 * client-assertion JWTs (against a fixed key), and the scenario's azure section checker. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <openssl/evp.h>

#include "azure_sim.h"

static EVP_PKEY *key; /* made once; reachable until exit */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!key)
        key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    static const unsigned char s256[32] = {1}, s1[20] = {2};
    struct azure_sim_assertion_rules rules = {.key = key,
                                              .thumb_s256 = s256,
                                              .thumb_s1 = s1,
                                              .audience = "https://127.0.0.1:1/t/oauth2/v2.0/token",
                                              .client_id = "c",
                                              .now = 1700000000};
    char why[256];
    struct azure_sim_form f;
    if (azure_sim_form_parse((const char *)data, size, &f) == 0) {
        if (f.client_assertion)
            azure_sim_assertion_verify(f.client_assertion, &rules, why, sizeof why);
        azure_sim_form_free(&f);
    }
    char *s = malloc(size + 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    azure_sim_assertion_verify(s, &rules, why, sizeof why);
    azure_sim_fic_name_ok(s);
    cJSON *j = cJSON_ParseWithLength(s, size);
    if (j) {
        struct idw_err err;
        azure_sim_check(j, "fuzz.json", &err);
        cJSON_Delete(j);
    }
    free(s);
    return 0;
}
