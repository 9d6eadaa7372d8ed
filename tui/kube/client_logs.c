/* NMI log streams: one per NMI pod (follow), polled beyond a cap, parsed by nmilog into the store.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "client_int.h"
#include "idwatch/nmilog.h"

#define LOG_SOURCE "nmi-logs"
#define LOG_BACKOFF_BASE_MS 1000
#define LOG_BACKOFF_CAP_MS 10000 /* a follow stream is one request: come back soon */
#define LOG_ONESHOT_TIMEOUT_MS 120000

struct klog {
    struct klogs *l;
    struct klog *next;
    char *ns, *name, *uid, *node, *container, *label;
    struct kreq *req;
    struct nmilog *parser;
    char last_ts[40]; /* fixed-width RFC3339Nano of the last line taken: sorts as text */
    int64_t last_epoch;
    bool follow, running, done_once, gone, dedupe;
    uint64_t timer;
    int failures;
};

struct klogs {
    struct kube_client *k;
    struct klog *head;
    int following;
    size_t pending; /* one-shot reads not finished */
    bool oneshot;
    struct store_source *ss;
};

bool kube_pod_is_nmi(const struct model_pod *p)
{
    if (!p || !p->has_spec)
        return false;
    /* Labels of the three install styles (pod-identity.md §2), and the image, which the AKS
     * add-on's unverified labels may lack. */
    if (str_eq(kv_get(&p->meta.labels, "component"), "nmi") ||
        str_eq(kv_get(&p->meta.labels, "app.kubernetes.io/component"), "nmi"))
        return true;
    for (size_t i = 0; i < p->n_containers; i++)
        if (p->containers[i].image && strstr(p->containers[i].image, "aad-pod-identity/nmi"))
            return true;
    return false;
}

static const char *nmi_container(const struct model_pod *p)
{
    for (size_t i = 0; i < p->n_containers; i++) {
        const struct model_container *c = &p->containers[i];
        if (c->type == MODEL_CONTAINER_REGULAR &&
            ((c->image && strstr(c->image, "aad-pod-identity/nmi")) || str_eq(c->name, "nmi")))
            return c->name;
    }
    const char *def = kv_get(&p->meta.annotations, "kubectl.kubernetes.io/default-container");
    if (def && model_pod_container(p, def))
        return def;
    for (size_t i = 0; i < p->n_containers; i++)
        if (p->containers[i].type == MODEL_CONTAINER_REGULAR)
            return p->containers[i].name;
    return NULL;
}

struct klogs *klogs_new(struct kube_client *k)
{
    struct klogs *l = xcalloc(1, sizeof *l);
    l->k = k;
    l->ss = store_source(kube_client_store(k), LOG_SOURCE);
    return l;
}

static void klog_free(struct klog *g)
{
    kreq_cancel(g->req);
    if (g->timer)
        net_timer_cancel(kube_client_net(g->l->k), g->timer);
    if (g->follow && g->l->following)
        g->l->following--;
    nmilog_free(g->parser);
    free(g->ns);
    free(g->name);
    free(g->uid);
    free(g->node);
    free(g->container);
    free(g->label);
    free(g);
}

void klogs_free(struct klogs *l)
{
    if (!l)
        return;
    while (l->head) {
        struct klog *g = l->head;
        l->head = g->next;
        klog_free(g);
    }
    free(l);
}

static void klog_update_source(struct klogs *l)
{
    size_t n = 0;
    for (struct klog *g = l->head; g; g = g->next)
        n++;
    l->ss->count = n;
    if (l->ss->state == STORE_SRC_IDLE || l->ss->state == STORE_SRC_LISTING)
        l->ss->state = STORE_SRC_SYNCED;
}

static void drain(struct klog *g)
{
    struct store *st = kube_client_store(g->l->k);
    struct model_nmi_request r;
    while (nmilog_next(g->parser, &r)) {
        struct model_nmi_request *h = xmalloc(sizeof *h);
        *h = r;
        store_add_nmi_request(st, h);
    }
}

static int klog_line(void *ctx, const char *line, size_t len)
{
    struct klog *g = ctx;
    if (g->l->ss->state == STORE_SRC_ERROR) { /* the stream answers again: recovered */
        g->l->ss->state = STORE_SRC_SYNCED;
        g->l->ss->error[0] = '\0';
    }
    g->l->ss->last_success = time_now();
    const char *sp = memchr(line, ' ', len);
    size_t tl = sp ? (size_t)(sp - line) : 0;
    if (tl > 0 && tl < sizeof g->last_ts) {
        /* After a reconnect the server repeats lines of the last second: skip what we had. */
        if (g->dedupe && tl == strlen(g->last_ts) && memcmp(line, g->last_ts, tl) <= 0)
            return 0;
        g->dedupe = false;
        memcpy(g->last_ts, line, tl);
        g->last_ts[tl] = '\0';
        int64_t t;
        if (time_parse_rfc3339(g->last_ts, &t, NULL) == 0)
            g->last_epoch = t;
    }
    nmilog_feed_line(g->parser, line, len);
    drain(g);
    const struct kube_client_config *c = kube_client_cfg(g->l->k);
    if (c->on_nmi_line)
        c->on_nmi_line(c->ctx, g->label, line, len);
    kube_client_count_log(g->l->k, false, 1);
    return 0;
}

static void klog_start(struct klog *g);

static void klog_timer(void *ctx)
{
    struct klog *g = ctx;
    g->timer = 0;
    klog_start(g);
}

static void klog_done(void *ctx, const struct net_response *r)
{
    struct klog *g = ctx;
    struct klogs *l = g->l;
    const struct kube_client_config *c = kube_client_cfg(l->k);
    g->req = NULL;
    g->running = false;
    if (r->status == 200 && (r->curl_code == 0 || g->follow)) {
        nmilog_finish(g->parser);
        drain(g);
    }
    bool ok = r->status == 200 && r->curl_code == 0;
    if (!ok && !(r->status == 200 && g->follow)) {
        char msg[256], full[256];
        kube_describe_failure(r, msg, sizeof msg);
        snprintf(full, sizeof full, "%s/%s: %s", g->ns, g->name, msg);
        if (strcmp(l->ss->error, full) != 0)
            l->ss->error_since = time_now();
        snprintf(l->ss->error, sizeof l->ss->error, "%s", full);
        l->ss->state = r->status == 403 ? STORE_SRC_FORBIDDEN : STORE_SRC_ERROR;
        g->failures++;
    } else {
        g->failures = 0;
        l->ss->last_success = time_now();
        if (l->ss->state == STORE_SRC_ERROR)
            l->ss->state = STORE_SRC_SYNCED;
    }
    if (c->one_shot) {
        if (!ok && g->failures < 3 && r->status != 403 && r->status != 404 && r->status != 400) {
            g->timer = net_timer_add(
                kube_client_net(l->k),
                net_backoff_ms(g->failures, LOG_BACKOFF_BASE_MS, 10000, (uint32_t)rand()),
                klog_timer, g);
            return;
        }
        if (!g->done_once) {
            g->done_once = true;
            if (l->pending)
                l->pending--;
        }
        return;
    }
    if (g->gone || r->status == 404)
        return; /* the pod watch removes it */
    int64_t d;
    if (g->follow)
        d = g->failures ? net_backoff_ms(g->failures - 1, LOG_BACKOFF_BASE_MS, LOG_BACKOFF_CAP_MS,
                                         (uint32_t)rand())
                        : 1000; /* the stream ended (container restart): follow again */
    else
        d = (int64_t)(c->log_poll_seconds > 0 ? c->log_poll_seconds : 60) * 1000;
    g->timer = net_timer_add(kube_client_net(l->k), d, klog_timer, g);
}

static void klog_start(struct klog *g)
{
    struct klogs *l = g->l;
    const struct kube_client_config *c = kube_client_cfg(l->k);
    int64_t since = c->log_window;
    if (g->last_epoch) {
        int64_t back = time_now() - g->last_epoch + 1;
        since = back < since ? (back > 0 ? back : 1) : since;
    }
    char *ns = curl_easy_escape(NULL, g->ns, 0), *name = curl_easy_escape(NULL, g->name, 0);
    char *cont = curl_easy_escape(NULL, g->container ? g->container : "", 0);
    char *path = xasprintf("/api/v1/namespaces/%s/pods/%s/log?container=%s&timestamps=true&"
                           "sinceSeconds=%lld%s",
                           ns, name, cont, (long long)since, g->follow ? "&follow=true" : "");
    curl_free(ns);
    curl_free(name);
    curl_free(cont);
    struct kreq_opts o = {
        .path = path,
        .accept = "*/*",
        .timeout_ms = g->follow ? 0 : LOG_ONESHOT_TIMEOUT_MS,
        .on_line = klog_line,
        .done = klog_done,
        .ctx = g,
    };
    g->running = true;
    g->dedupe = g->last_ts[0] != '\0';
    g->req = kreq_start(l->k, &o);
    kube_client_count_log(l->k, true, 0);
    free(path);
}

static struct klog *klog_find(struct klogs *l, const char *ns, const char *name)
{
    for (struct klog *g = l->head; g; g = g->next)
        if (str_eq(g->ns, ns) && str_eq(g->name, name))
            return g;
    return NULL;
}

static void klog_remove(struct klogs *l, struct klog *g)
{
    for (struct klog **pp = &l->head; *pp; pp = &(*pp)->next) {
        if (*pp == g) {
            *pp = g->next;
            break;
        }
    }
    if (l->oneshot && !g->done_once && l->pending)
        l->pending--;
    klog_free(g);
    klog_update_source(l);
}

void klogs_pod_seen(struct klogs *l, const struct model_pod *p)
{
    if (!kube_pod_is_nmi(p) || p->phase != MODEL_PHASE_RUNNING || !p->meta.name)
        return;
    struct klog *g = klog_find(l, p->meta.namespace_, p->meta.name);
    if (g && str_eq(g->uid, p->meta.uid))
        return;
    if (g) /* the NMI pod was replaced under the same name: start over */
        klog_remove(l, g);
    const struct kube_client_config *c = kube_client_cfg(l->k);
    g = xcalloc(1, sizeof *g);
    g->l = l;
    g->ns = xstrdup(p->meta.namespace_ ? p->meta.namespace_ : "");
    g->name = xstrdup(p->meta.name);
    g->uid = xstrdup(p->meta.uid);
    g->node = xstrdup(p->node_name);
    g->container = xstrdup(nmi_container(p));
    g->label = xasprintf("%s/%s", g->ns, g->name);
    struct nmilog_config nc = {.nmi_pod = g->label, .node_name = g->node};
    g->parser = nmilog_new(&nc);
    g->next = l->head;
    l->head = g;
    klog_update_source(l);
    if (c->one_shot) {
        if (l->oneshot) { /* the one-shot read is under way: read this one too */
            l->pending++;
            klog_start(g);
        }
        return;
    }
    int cap = c->max_log_streams > 0 ? c->max_log_streams : 32;
    if (l->following < cap) {
        g->follow = true;
        l->following++;
    }
    klog_start(g);
}

void klogs_pod_gone(struct klogs *l, const char *ns, const char *name)
{
    struct klog *g = klog_find(l, ns, name);
    if (!g)
        return;
    bool followed = g->follow;
    klog_remove(l, g);
    if (!followed)
        return;
    /* A follow slot came free: promote a polled pod. */
    for (struct klog *h = l->head; h; h = h->next) {
        if (!h->follow) {
            h->follow = true;
            l->following++;
            if (!h->running) {
                net_timer_cancel(kube_client_net(l->k), h->timer);
                h->timer = 0;
                klog_start(h);
            }
            break;
        }
    }
}

void klogs_start_oneshot(struct klogs *l)
{
    l->oneshot = true;
    for (struct klog *g = l->head; g; g = g->next) {
        l->pending++;
        klog_start(g);
    }
    klog_update_source(l);
}

bool klogs_done(const struct klogs *l)
{
    return l->oneshot && l->pending == 0;
}
