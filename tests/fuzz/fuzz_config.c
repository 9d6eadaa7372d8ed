/* libFuzzer harness for the config file: any bytes must parse, be checked against the option
 * table and resolve into options (printed by --print-config), never crash or leak; every warning
 * names file:line or the variable. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "idwatch/app.h"
#include "idwatch/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct config *c = config_parse("fuzz.conf", (const char *)data, size);
    app_config_check(c);
    for (size_t i = 0; i < c->n_warnings; i++)
        if (c->warning_lines[i] > 0 && strncmp(c->warnings[i], "fuzz.conf:", 10) != 0)
            __builtin_trap();
    for (size_t i = 0; i < c->n; i++)
        if (!c->entries[i].key || !c->entries[i].value || c->entries[i].line < 1)
            __builtin_trap();
    char *argv[] = {"idwatch", NULL};
    struct app_cmdline cl;
    struct app_options opt;
    struct idw_err err;
    if (app_cmdline_parse(1, argv, &cl, &err) != 0)
        __builtin_trap();
    static const char *const contexts[] = {NULL, "prod-west", "dev"};
    for (size_t k = 0; k < 3; k++) {
        if (app_options_resolve(&cl, c, contexts[k], &opt, &err) != 0)
            __builtin_trap(); /* no flag given: nothing can fail */
        if (opt.interval < 5 || opt.log_window < 60 || opt.log_window > 7 * 86400)
            __builtin_trap(); /* a checked value only */
        FILE *out = fopen("/dev/null", "w");
        if (out) {
            app_print_config(out, &opt);
            fclose(out);
        }
    }
    config_free(c);
    return 0;
}
