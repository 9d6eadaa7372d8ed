/* libFuzzer harness: label and field selector parsing and matching. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "idwatch/selector.h"

static const char *fuzz_field(void *ctx, const char *key)
{
    (void)ctx;
    return strcmp(key, "metadata.name") == 0 ? "web-1" : NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = xstrndup((const char *)data, size);
    struct model_kv items[] = {
        {"app", "web"}, {"azure.workload.identity/use", "true"}, {"empty", ""}};
    struct model_kvlist labels = {.items = items, .n = 3, .cap = 3};
    struct selector sel;
    struct idw_err err;
    if (selector_parse(text, &sel, &err) == 0) {
        (void)selector_match(&sel, &labels);
        selector_free(&sel);
    }
    if (selector_parse_fields(text, &sel, &err) == 0) {
        (void)selector_match_fn(&sel, fuzz_field, NULL);
        selector_free(&sel);
    }
    free(text);
    return 0;
}
