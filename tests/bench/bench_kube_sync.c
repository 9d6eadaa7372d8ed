/* bench_kube_sync: how long the kube engine takes to fill the store from an API server, and at
 * what cost (peak RSS, bytes received, requests). Not a test: run it by hand, e.g.
 *
 *   idwatch-sim --scenario demo --generate deployments=10000,pods=50000,wi=0.2,pi=0.1,nmi=300 \
 *       --state-dir /tmp/s --listen 127.0.0.1:0 &
 *   bench_kube_sync --kubeconfig /tmp/s/kubeconfig [--context sim-token] [--watch SECONDS]
 *                   [--one-shot] [--limit N]
 *
 * "synced" = every source finished its first list (the watches then run for --watch seconds).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "idwatch/kube.h"
#include "idwatch/store.h"

static int64_t t_start;

static void netlog(void *ctx, const char *line)
{
    (void)ctx;
    fprintf(stderr, "%6lld %s\n", (long long)(time_now_ms() - t_start), line);
}

static long rss_kb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

int main(int argc, char **argv)
{
    const char *path = NULL, *context = NULL;
    int watch_s = 0, limit = 0;
    bool one_shot = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--kubeconfig") && i + 1 < argc)
            path = argv[++i];
        else if (!strcmp(argv[i], "--context") && i + 1 < argc)
            context = argv[++i];
        else if (!strcmp(argv[i], "--watch") && i + 1 < argc)
            watch_s = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--limit") && i + 1 < argc)
            limit = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--one-shot"))
            one_shot = true;
        else {
            fprintf(stderr,
                    "usage: %s --kubeconfig PATH [--context C] [--watch S] [--limit N] "
                    "[--one-shot]\n",
                    argv[0]);
            return 2;
        }
    }
    struct kubeconfig_source src = {.explicit_path = path};
    struct kubeconfig *kc;
    struct kubeconfig_resolved cfg;
    struct idw_err err;
    if (kubeconfig_load(&src, &kc, &err) < 0 || kubeconfig_resolve(kc, context, &cfg, &err) < 0) {
        fprintf(stderr, "bench_kube_sync: %s\n", err.msg);
        return 2;
    }
    long rss0 = rss_kb();
    struct net_config nc = {.read_only = true};
    struct net *net = net_new(&nc);
    t_start = time_now_ms();
    if (getenv("BENCH_NETLOG")) /* credentials never appear in this log */
        net_set_log(net, netlog, NULL);
    struct store *st = store_new();
    struct kube_client_config cc = {.cfg = &cfg,
                                    .net = net,
                                    .store = st,
                                    .one_shot = one_shot,
                                    .page_limit = limit};
    struct kube_client *k;
    if (kube_client_new(&cc, &k, &err) < 0) {
        fprintf(stderr, "bench_kube_sync: %s\n", err.msg);
        return 2;
    }
    int64_t t0 = time_now_ms();
    kube_client_start(k);
    while (!kube_client_done(k) && time_now_ms() - t0 < 600000)
        net_poll(net, 100);
    int64_t synced = time_now_ms() - t0;
    struct net_stats ns;
    net_get_stats(net, &ns);
    struct kube_client_stats ks;
    kube_client_get_stats(k, &ks);
    printf("synced_ms %lld\npeak_rss_kb %ld (start %ld)\nbytes_in %llu\nrequests %llu\n"
           "pages %llu\nlists %llu\n",
           (long long)synced, rss_kb(), rss0, (unsigned long long)ns.bytes_in,
           (unsigned long long)ns.requests, (unsigned long long)ks.pages,
           (unsigned long long)ks.lists);
    printf("pods %zu workloads %zu links %zu sas %zu namespaces %zu mwcs %zu nmi_requests %zu\n",
           store_pod_count(st), store_workload_count(st), store_link_count(st), store_sa_count(st),
           store_namespace_count(st), store_mwc_count(st), store_nmi_count(st));
    for (size_t i = 0; i < store_source_count(st); i++) {
        const struct store_source *s = store_source_at(st, i);
        printf("  %-32s %-9s count=%zu skipped=%zu %s\n", s->name,
               store_source_state_name(s->state), s->count, s->skipped, s->error);
    }
    if (watch_s > 0) {
        int64_t t1 = time_now_ms();
        while (time_now_ms() - t1 < watch_s * 1000LL)
            net_poll(net, 200);
        kube_client_get_stats(k, &ks);
        net_get_stats(net, &ns);
        printf("after %ds of watching: events %llu log_lines %llu bytes_in %llu nmi_requests %zu\n",
               watch_s, (unsigned long long)ks.events, (unsigned long long)ks.log_lines,
               (unsigned long long)ns.bytes_in, store_nmi_count(st));
    }
    kube_client_free(k);
    store_free(st);
    net_free(net);
    kubeconfig_resolved_free(&cfg);
    kubeconfig_free(kc);
    return 0;
}
