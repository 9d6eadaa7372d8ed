/* Cost of the verdicts: a full check of N workloads / 5N pods, and an update of one dirty
 * workload. Usage: bench_check [workloads] (default 10000). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../unit/test_check_fixture.h"

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 10000;
    struct store *s = store_new();
    tf_webhook(s, "kube-system", 2);
    struct model_fic *fics = xcalloc(1, sizeof *fics);
    fics[0] = tf_fic("f", T_ISSUER, "system:serviceaccount:ns0:sa0", WI_AUDIENCE);
    tf_azure(s, fics, 1);
    struct model_workload *ds = tf_workload(MODEL_KIND_DAEMONSET, "kube-system", "nmi", NULL);
    store_put_workload(s, ds);
    for (int b = 0; b < 50; b++) {
        struct model_azure_identity_binding *x = xcalloc(1, sizeof *x);
        x->meta.namespace_ = xasprintf("ns%d", b);
        x->meta.name = xasprintf("b%d", b);
        x->identity = xasprintf("id%d", b);
        x->selector = xasprintf("sel%d", b);
        store_put_azbinding(s, x);
    }
    for (int i = 0; i < n; i++) {
        char ns[16], name[32], sa[32];
        snprintf(ns, sizeof ns, "ns%d", i % 50);
        snprintf(name, sizeof name, "app%d", i);
        snprintf(sa, sizeof sa, "sa%d", i);
        struct model_workload *d = tf_workload(MODEL_KIND_DEPLOYMENT, ns, name, sa);
        bool wi = i % 5 == 0, pi = i % 10 == 1;
        if (wi)
            kv_set(&d->tmpl.labels, WI_LABEL_USE, "true");
        if (pi) {
            char sel[16];
            snprintf(sel, sizeof sel, "sel%d", i % 50);
            kv_set(&d->tmpl.labels, PI_LABEL_BINDING, sel);
        }
        struct model_service_account *a = tf_sa(ns, sa);
        if (wi)
            kv_set(&a->meta.annotations, WI_ANN_CLIENT_ID, T_CID);
        tf_rs(s, d);
        for (int k = 0; k < 5; k++) {
            char pn[48];
            snprintf(pn, sizeof pn, "%s-7c9d8f6b5b-%05d", name, k);
            struct model_pod *p = tf_pod(d, ns, pn);
            struct model_container *c = tf_container(p, MODEL_CONTAINER_REGULAR, "app");
            if (wi)
                tf_inject16(p, c, true);
            c = tf_container(p, MODEL_CONTAINER_REGULAR, "sidecar"); /* may move the array */
            if (wi)
                tf_inject16(p, c, false);
            p->pod_ip = xasprintf("10.%d.%d.%d", i / 65536, (i / 256) % 256, i % 256);
            store_put_pod(s, p);
        }
        store_put_workload(s, d);
        store_put_sa(s, a);
    }
    for (int q = 0; q < 2000; q++) {
        struct model_nmi_request *r = xcalloc(1, sizeof *r);
        int i = (q * 10 + 1) % n;
        r->time = T_NOW - q;
        r->status = q % 7 ? 200 : 404;
        r->pod_namespace = xasprintf("ns%d", i % 50);
        r->pod_name = xasprintf("app%d-7c9d8f6b5b-%05d", i, q % 5);
        store_add_nmi_request(s, r);
    }
    const struct model_workload *const *dirty;
    bool all;
    store_take_dirty(s, &dirty, &all);
    struct check_options o = {.now = T_NOW, .window_seconds = 3600};
    struct check_result *r = check_new();
    /* CPU time, not wall time: the build machine is shared */
    double best = -1;
    for (int k = 0; k < 5; k++) {
        struct timespec c0, c1;
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
        check_run(r, s, &o);
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
        double ms = (double)(c1.tv_sec - c0.tv_sec) * 1e3 + (double)(c1.tv_nsec - c0.tv_nsec) / 1e6;
        if (best < 0 || ms < best)
            best = ms;
    }
    printf("full check: %d workloads, %zu pods: best %.1f ms CPU; %zu errors\n", n,
           store_pod_count(s), best, check_error_count(r));
    /* one dirty workload, 1000 times */
    struct timespec a, b;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &a);
    int rounds = 1000;
    for (int k = 0; k < rounds; k++) {
        struct model_workload *d = tf_workload(MODEL_KIND_DEPLOYMENT, "ns7", "app7", "sa7");
        if (k % 2)
            kv_set(&d->tmpl.labels, WI_LABEL_USE, "true");
        store_put_workload(s, d);
        size_t nd = store_take_dirty(s, &dirty, &all);
        check_update(r, s, dirty, nd, all, &o);
    }
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &b);
    double us =
        ((double)(b.tv_sec - a.tv_sec) * 1e6 + (double)(b.tv_nsec - a.tv_nsec) / 1e3) / rounds;
    printf("one dirty workload (store put + take_dirty + check_update): %.1f us CPU\n", us);
    check_free(r);
    store_free(s);
    return 0;
}
