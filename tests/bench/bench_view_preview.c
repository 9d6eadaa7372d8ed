/* bench_view_preview: the dashboard over a synthetic store, for tmux checks and keypress latency.
 *
 *   bench_view_preview [-n WORKLOADS] [--read-only] [--churn] [--ascii] [--theme T]
 *
 * Fills a store with N workloads (a mix of workload identity, pod identity, both and none, with
 * some broken on purpose), runs the checks, then drives the view with its own small poll loop
 * (the app's loop does the same with curl's fds). With --churn a pod changes every 200 ms.
 * On exit prints to stderr: draws, and the latency from "stdin readable" to "frame sent". */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "idwatch/check.h"
#include "idwatch/store.h"
#include "idwatch/view.h"

static void fill(struct store *s, int n, int64_t now)
{
    static const char *const nss[] = {"payments", "shop", "search", "platform", "data"};
    for (int ns = 0; ns < 5; ns++) {
        struct model_namespace *m = xcalloc(1, sizeof *m);
        m->meta.name = xstrdup(nss[ns]);
        store_put_namespace(s, m);
    }
    for (int i = 0; i < n; i++) {
        const char *ns = nss[i % 5];
        int mech = i % 4; /* 0 WI, 1 PI, 2 both, 3 none */
        struct model_service_account *sa = xcalloc(1, sizeof *sa);
        sa->meta.namespace_ = xstrdup(ns);
        sa->meta.name = xasprintf("app-%d", i);
        if (mech == 0 || mech == 2)
            kv_set(&sa->meta.annotations, WI_ANN_CLIENT_ID, "00000000-0000-0000-0000-000000000001");
        store_put_sa(s, sa);

        struct model_workload *w = xcalloc(1, sizeof *w);
        w->kind = i % 7 == 6 ? MODEL_KIND_STATEFULSET : MODEL_KIND_DEPLOYMENT;
        w->meta.namespace_ = xstrdup(ns);
        w->meta.name = xasprintf("app-%d", i);
        w->meta.uid = xasprintf("uid-w-%d", i);
        kv_set(&w->meta.labels, "app", w->meta.name);
        kv_set(&w->tmpl.labels, "app", w->meta.name);
        if (mech == 0 || mech == 2)
            kv_set(&w->tmpl.labels, WI_LABEL_USE, "true");
        if (mech == 1 || mech == 2)
            kv_set(&w->tmpl.labels, PI_LABEL_BINDING, "sel");
        w->tmpl.service_account = xstrdup(sa->meta.name);
        w->replicas_desired = 2;
        w->replicas_ready = i % 9 == 0 ? 1 : 2;
        char *name = xstrdup(w->meta.name);
        char *uid = xstrdup(w->meta.uid);
        enum model_workload_kind kind = w->kind;
        store_put_workload(s, w);
        for (int p = 0; p < 2; p++) {
            struct model_pod *pod = xcalloc(1, sizeof *pod);
            pod->meta.namespace_ = xstrdup(ns);
            pod->meta.name = xasprintf("%s-%d", name, p);
            pod->meta.owners = xcalloc(1, sizeof *pod->meta.owners);
            pod->meta.n_owners = 1;
            pod->meta.owners[0].kind = xstrdup(model_kind_name(kind));
            pod->meta.owners[0].name = xstrdup(name);
            pod->meta.owners[0].uid = xstrdup(uid);
            pod->meta.owners[0].controller = true;
            pod->has_spec = true;
            pod->service_account = xasprintf("app-%d", i);
            pod->phase = MODEL_PHASE_RUNNING;
            pod->ready = !(i % 9 == 0 && p == 1);
            pod->pod_ip = xasprintf("10.1.%d.%d", (i / 200) % 250, (i % 200) * 2 + p);
            if (mech == 1 || mech == 2)
                kv_set(&pod->meta.labels, PI_LABEL_BINDING, "sel");
            store_put_pod(s, pod);
        }
        if (mech == 1 || mech == 2) {
            for (int r = 0; r < 5 + i % 20; r++) {
                struct model_nmi_request *q = xcalloc(1, sizeof *q);
                q->time = now - (r * 97 + i * 13) % 3500;
                q->status = r % 11 == 10 ? 403 : 200;
                q->pod_namespace = xstrdup(ns);
                char pn[200];
                snprintf(pn, sizeof pn, "%s-0", name);
                q->pod_name = xstrdup(pn);
                q->identity = xstrdup("kube-system/shared-id");
                if (q->status != 200)
                    q->error = xstrdup("no AzureAssignedIdentity found for pod");
                store_add_nmi_request(s, q);
            }
        }
        free(name);
        free(uid);
    }
    struct store_source *src = store_source(s, "pods");
    src->state = STORE_SRC_SYNCED;
    src->count = store_pod_count(s);
    src->last_success = now;
    src = store_source(s, "arm-identities");
    src->state = STORE_SRC_ERROR;
    snprintf(src->error, sizeof src->error,
             "ARM 403 AuthorizationFailed: no read on the subscription");
}

static size_t ctx_list(void *ctx, const char *const **names)
{
    (void)ctx;
    static const char *const n[] = {"aks-prod", "aks-staging", "kind-local"};
    *names = n;
    return 3;
}

static int on_action(void *ctx, enum action_id a, const struct check_workload *w,
                     struct idw_err *err)
{
    (void)ctx;
    return idw_err_set(err, "%s on %s: not available yet (actions land later)", action_info(a)->id,
                       w ? w->name : "-");
}

int main(int argc, char **argv)
{
    int n = 200;
    bool ro = false, churn = false, ascii = false;
    const char *theme = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-n") && i + 1 < argc)
            n = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--read-only"))
            ro = true;
        else if (!strcmp(argv[i], "--churn"))
            churn = true;
        else if (!strcmp(argv[i], "--ascii"))
            ascii = true;
        else if (!strcmp(argv[i], "--theme") && i + 1 < argc)
            theme = argv[++i];
    }
    int64_t now = view_now();
    struct store *s = store_new();
    fill(s, n, now);
    struct check_result *cr = check_new();
    struct check_options co = {.now = now, .window_seconds = 3600};
    check_run(cr, s, &co);

    struct view_config cfg = {
        .store = s,
        .checks = cr,
        .context = "aks-prod",
        .server = "https://prod-abc123.hcp.westeurope.azmk8s.io:443",
        .read_only = ro,
        .ascii = ascii,
        .theme = theme,
        .cb = {.contexts = ctx_list, .action = on_action},
    };
    struct idw_err err = {{0}};
    struct view *v = view_new(&cfg, &err);
    if (!v) {
        fprintf(stderr, "bench_view_preview: %s\n", err.msg);
        check_free(cr);
        store_free(s);
        return 2;
    }
    long draws = 0, keys = 0;
    int64_t lat_sum = 0, lat_max = 0, last_churn = time_now_ms();
    int rc = 0;
    for (;;) {
        struct pollfd p = {.fd = view_fd(v), .events = POLLIN, .revents = 0};
        int pr = poll(&p, 1, churn ? 200 : 1000);
        int64_t t0 = time_now_ms();
        bool input = pr > 0 && p.revents;
        if (input && view_on_input(v) < 0) {
            rc = 1;
            break;
        }
        if (churn && t0 - last_churn >= 200) {
            last_churn = t0;
            size_t pc = store_pod_count(s);
            if (pc) {
                const struct model_pod *old = store_pod_at(s, (size_t)(t0 / 200) % pc);
                struct model_pod *np = xcalloc(1, sizeof *np);
                model_meta_copy(&np->meta, &old->meta);
                np->has_spec = true;
                np->service_account = xstrdup(old->service_account);
                np->pod_ip = xstrdup(old->pod_ip);
                np->phase = MODEL_PHASE_RUNNING;
                np->ready = !old->ready;
                store_put_pod(s, np);
                const struct model_workload *const *dirty;
                bool all;
                size_t nd = store_take_dirty(s, &dirty, &all);
                check_update(cr, s, dirty, nd, all, &co);
            }
        }
        view_on_tick(v, time_now());
        if (view_quit_requested(v))
            break;
        if (view_needs_redraw(v)) {
            view_draw(v);
            draws++;
            if (input) {
                int64_t lat = time_now_ms() - t0;
                keys++;
                lat_sum += lat;
                if (lat > lat_max)
                    lat_max = lat;
            }
        }
    }
    view_free(v);
    fprintf(stderr,
            "bench_view_preview: %d workloads, %ld draws, %ld key redraws, latency avg %.1f ms max "
            "%lld ms\n",
            n, draws, keys, keys ? (double)lat_sum / (double)keys : 0.0, (long long)lat_max);
    check_free(cr);
    store_free(s);
    return rc;
}
