/* libFuzzer harness: merge, strategic and JSON patches.
 * Input: "<merge|strategic|json> <Kind>\n<target JSON>\n----\n<patch JSON>". Without a valid
 * header line the first byte picks the type and the rest is split at the separator. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "patch.h"

static const struct {
    const char *name;
    enum patch_type type;
} fuzz_types[] = {{"merge", PATCH_MERGE}, {"strategic", PATCH_STRATEGIC}, {"json", PATCH_JSON}};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = xstrndup((const char *)data, size);
    enum patch_type type = size ? fuzz_types[data[0] % 3].type : PATCH_MERGE;
    char kind[64] = "Deployment";
    char *body = text;
    char *nl = strchr(text, '\n');
    for (size_t i = 0; nl && i < 3; i++) {
        size_t n = strlen(fuzz_types[i].name);
        if (strncmp(text, fuzz_types[i].name, n) == 0 && text[n] == ' ') {
            type = fuzz_types[i].type;
            size_t kl = (size_t)(nl - (text + n + 1));
            if (kl < sizeof kind) {
                memcpy(kind, text + n + 1, kl);
                kind[kl] = '\0';
            }
            body = nl + 1;
            break;
        }
    }
    char *sep = strstr(body, "\n----\n");
    if (sep) {
        *sep = '\0';
        cJSON *target = cJSON_Parse(body);
        cJSON *patch = cJSON_Parse(sep + 6);
        if (target && patch) {
            cJSON *result = NULL;
            struct idw_err err;
            if (patch_apply(type, target, patch, kind, &result, &err) == 0)
                cJSON_Delete(result);
        }
        cJSON_Delete(target);
        cJSON_Delete(patch);
    }
    free(text);
    return 0;
}
