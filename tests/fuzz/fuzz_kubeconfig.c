/* libFuzzer harness: kubeconfig parsing (libyaml walk, merge-ready structs) and base64.
 * Resolution is not exercised here: it reads the files a kubeconfig names (/dev/stdin would
 * block the fuzzer); tests/unit/test_kube_kubeconfig.c covers it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "idwatch/kubeconfig.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct kubeconfig *kc = NULL;
    struct idw_err err;
    if (kubeconfig_parse((const char *)data, size, "fuzz.yaml", "/nonexistent", &kc, &err) == 0) {
        for (size_t i = 0; i < kubeconfig_context_count(kc); i++)
            (void)strlen(kubeconfig_context_name(kc, i));
        (void)kubeconfig_current_context(kc);
        kubeconfig_free(kc);
    }
    char *s = malloc(size + 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    size_t n;
    free(kubeconfig_base64_decode(s, &n));
    free(s);
    return 0;
}
