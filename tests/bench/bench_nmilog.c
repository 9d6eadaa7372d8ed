/* Throughput of the NMI log parser: the real fixture (all eras) replicated to ~64 MiB, parsed
 * on one core. Usage: bench_nmilog [MiB] [fixture]. Prints MB/s and requests/s. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "idwatch/core.h"
#include "idwatch/model.h"
#include "idwatch/nmilog.h"

#ifndef IDW_SHARED_DIR_BENCH
#define IDW_SHARED_DIR_BENCH "../shared"
#endif

int main(int argc, char **argv)
{
    size_t mib = argc > 1 ? (size_t)atoi(argv[1]) : 64;
    const char *path = argc > 2 ? argv[2] : IDW_SHARED_DIR_BENCH "/fixtures/nmi-logs-real.txt";
    char *seed;
    size_t seed_len;
    struct idw_err err;
    if (file_read_all(path, 1 << 24, &seed, &seed_len, &err) != 0) {
        fprintf(stderr, "bench_nmilog: %s (give the fixture path as 2nd argument)\n", err.msg);
        return 2;
    }
    size_t want = (mib ? mib : 1) << 20;
    char *data = xmalloc(want + seed_len);
    size_t len = 0;
    while (len < want) {
        memcpy(data + len, seed, seed_len);
        len += seed_len;
    }
    free(seed);
    int rounds = 3;
    double best = 0;
    unsigned long long reqs = 0;
    for (int k = 0; k < rounds; k++) {
        struct nmilog_config cfg = {.nmi_pod = "nmi-bench", .node_name = "node", .year = 2021};
        struct nmilog *p = nmilog_new(&cfg);
        int64_t t0 = time_now_ms();
        /* 64 KiB chunks, like a log stream read */
        for (size_t off = 0; off < len; off += 65536) {
            nmilog_feed(p, data + off, len - off < 65536 ? len - off : 65536);
            struct model_nmi_request r;
            while (nmilog_next(p, &r))
                model_nmi_request_free(&r);
        }
        nmilog_finish(p);
        int64_t ms = time_now_ms() - t0;
        reqs = nmilog_get_stats(p)->requests;
        nmilog_free(p);
        double mbs = (double)len / 1e6 / ((double)(ms ? ms : 1) / 1000.0);
        if (mbs > best)
            best = mbs;
        printf("round %d: %.1f MB in %lld ms = %.0f MB/s, %llu requests\n", k + 1, len / 1e6,
               (long long)ms, mbs, reqs);
    }
    printf("best: %.0f MB/s (%.2f M requests/s)\n", best,
           best * 1e6 / ((double)len / (double)reqs) / 1e6);
    free(data);
    return 0;
}
