/* libFuzzer harness for the theme parser: any bytes must parse or warn, never crash or leak. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "idwatch/theme.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct theme t;
    struct theme_diag d = {0};
    struct idw_err e;
    theme_parse(&t, "fuzz.theme", (const char *)data, size, &d, &e);
    for (size_t i = 0; i < d.n; i++)
        if (!strstr(d.msgs[i], "fuzz.theme:"))
            __builtin_trap(); /* every warning names file:line */
    theme_diag_free(&d);
    return 0;
}
