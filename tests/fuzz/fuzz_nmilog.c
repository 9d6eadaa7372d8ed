/* libFuzzer harness for the NMI log parser: arbitrary bytes, fed in uneven chunks. */
#include <stddef.h>
#include <stdint.h>

#include "idwatch/model.h"
#include "idwatch/nmilog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct nmilog_config cfg = {.nmi_pod = "nmi-fuzz",
                                .node_name = "node-0",
                                .year = 2021,
                                .all_paths = size > 0 && (data[0] & 1)};
    struct nmilog *p = nmilog_new(&cfg);
    /* The first byte picks the chunk size, so line splitting across feeds is exercised too. */
    size_t chunk = size > 0 ? (size_t)(data[0] % 61) + 1 : 1;
    for (size_t off = 0; off < size; off += chunk) {
        size_t n = size - off < chunk ? size - off : chunk;
        nmilog_feed(p, (const char *)data + off, n);
        struct model_nmi_request r;
        while (nmilog_next(p, &r))
            model_nmi_request_free(&r);
    }
    nmilog_finish(p);
    struct model_nmi_request r;
    while (nmilog_next(p, &r))
        model_nmi_request_free(&r);
    (void)nmilog_version(p);
    (void)nmilog_mode(p);
    nmilog_free(p);
    return 0;
}
