/* Fuzz harness: ARM/Graph/Entra/az decoders of the azure layer on untrusted bytes. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "idwatch/azure.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    struct idw_err err;
    struct azure_cluster c;
    if (azure_parse_cluster(s, size, &c, &err) == 0) {
        azure_cluster_matches_host(&c, "dnsprefix1-abcd1234.hcp.eastus.azmk8s.io");
        azure_cluster_free(&c);
    }
    struct azure_cluster_page cp;
    if (azure_parse_cluster_list(s, size, &cp, &err) == 0)
        azure_cluster_page_free(&cp);
    struct azure_identity_page ip;
    if (azure_parse_identity_list(s, size, &ip, &err) == 0)
        azure_identity_page_free(&ip);
    struct azure_fic_page fp;
    if (azure_parse_fic_list(s, size, &fp, &err) == 0)
        azure_fic_page_free(&fp);
    char **ids, *next = NULL;
    size_t n;
    if (azure_parse_subscription_list(s, size, &ids, &n, &next, &err) == 0) {
        azure_strv_free(ids);
        free(next);
    }
    struct azure_token t;
    if (azure_parse_token_response(s, size, 1795946400, &t, &err) == 0)
        azure_token_free(&t);
    if (azure_parse_cli_token(s, size, &t, &err) == 0)
        azure_token_free(&t);
    char line[IDW_ERR_MAX];
    azure_describe_error(403, s, size, "fuzzing", line, sizeof line);
    azure_describe_token_error(400, s, size, line, sizeof line);
    azure_error_code(s, size, line, 64);
    /* string rules take NUL-terminated input */
    char *z = xstrndup(s, size);
    azure_fic_name_valid(z);
    char *host = azure_url_host(z);
    free(host);
    char *sub = NULL, *rg = NULL, *name = NULL;
    if (azure_arm_id_split(z, &sub, &rg, &name) == 0) {
        free(sub);
        free(rg);
        free(name);
    }
    char v[64];
    azure_header(z, "Retry-After", v, sizeof v);
    free(z);
    return 0;
}
