/* libFuzzer harness for idwatch-sim's request parsing: every parser of server_parse.c gets the
 * same input (query string, API path, Accept header, continue token, fault spec, and the
 * protobuf and JSON SelfSubjectAccessReview bodies). Nothing may crash, leak or read out of
 * bounds; results must be self-consistent. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "server_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 65536)
        return 0;
    char *s = malloc(size + 1);
    memcpy(s, data, size);
    s[size] = '\0';
    struct idw_err err = {{0}};

    struct server_query q;
    server_query_parse(s, &q, &err);
    server_query_free(&q);

    struct server_path p;
    if (server_path_parse(s, &p) == 0 && p.kind == SERVER_PATH_NONE)
        abort();

    server_accept_parse(s, true);
    server_accept_parse(s, false);

    struct server_continue c;
    if (server_continue_decode(s, &c) == 0) {
        /* a token that decodes re-encodes to one that decodes to the same position */
        char *again = server_continue_encode(&c);
        struct server_continue d;
        if (server_continue_decode(again, &d) != 0 || d.rv != c.rv || strcmp(d.ns, c.ns) != 0 ||
            strcmp(d.name, c.name) != 0)
            abort();
        free(again);
    }

    struct server_fault *f = NULL;
    size_t n = 0, cap = 0;
    if (server_faults_parse(s, &f, &n, &cap, &err) == 0) {
        char spec[96];
        for (size_t i = 0; i < n; i++)
            server_fault_format(&f[i], spec, sizeof spec);
    }
    free(f);

    struct server_ssar a;
    if (server_ssar_decode_protobuf(data, size, &a, &err) == 0)
        server_ssar_free(&a);
    if (server_ssar_decode_json(s, size, &a, &err) == 0)
        server_ssar_free(&a);

    free(s);
    return 0;
}
