/* NMI log streams: one per NMI pod (follow), polled beyond a cap, parsed by nmilog into the store.
 *
 * Evidence, not just data: every NMI pod's log is a store source ("nmi-log <ns>/<pod>") whose
 * state and coverage (covered_from .. covered_to) say how much of the log window idwatch has
 * really read. A stream that ends, fails or stalls (no line for longer than the pod's usual
 * cadence) is resumed from the timestamp of the last line taken, and lines stamped at or before
 * it are recognised (same timestamp and same bytes), so nothing is lost or counted twice.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "client_int.h"
#include "idwatch/nmilog.h"

#define LOG_SOURCE_PREFIX "nmi-log "
#define LOG_BACKOFF_BASE_MS 1000
#define LOG_BACKOFF_CAP_MS 10000 /* a follow stream is one request: come back soon */
#define LOG_FORBIDDEN_RETRY_MS 300000
#define LOG_ONESHOT_TIMEOUT_MS 120000
#define STALL_MIN_MS 60000       /* never call a stream stalled sooner */
#define STALL_QUIET_MS 600000    /* a stream that has said nothing yet is re-checked this often */
#define STALL_FACTOR 8           /* silent for 8x the mean gap between lines: stalled (for
                                  * requests at random, a gap that long comes once in 3000) */
#define LOG_OPENING_MAX 16       /* log requests being set up (TLS, headers) or read at once */

struct klog {
    struct klogs *l;
    struct klog *next;
    char *ns, *name, *uid, *node, *container, *label;
    struct store_source *ss;
    struct kreq *req;
    struct nmilog *parser;
    /* The newest line taken, and the hashes of the lines that carry exactly its timestamp. */
    int64_t last_sec;
    int32_t last_nsec;
    bool have_last;
    uint64_t *seen;
    size_t n_seen, cap_seen;
    int64_t log_start;    /* when the container's log begins (newest container start), epoch */
    int64_t req_started;  /* epoch seconds the current request was sent */
    int64_t last_line_ms; /* wall clock of the last line or of the stream opening */
    int64_t gap_ms;       /* the mean gap between lines, by their timestamps (moving average) */
    int64_t gap_from_sec;
    int32_t gap_from_nsec;
    bool have_gap_from;
    bool follow, running, done_once, gone;
    bool queued;  /* waits for a free opening slot */
    bool opening; /* holds an opening slot: a follow stream until it answers, a read until done */
    uint64_t timer, stall_timer;
    int failures;
    uint64_t resumes; /* how often the stream was resumed (ended, failed or stalled) */
};

struct klogs {
    struct kube_client *k;
    struct klog *head;
    int following;
    /* re-checks of quiet streams: a budget for all of them (a token bucket) */
    double quiet_tokens;
    int64_t quiet_refill_ms;
    int opening; /* requests holding a slot: hundreds of NMI pods do not all handshake at once */
    bool closing; /* klogs_free: freed slots start nothing */
    size_t pending; /* one-shot reads not finished */
    bool oneshot;
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
    return l;
}

static struct store *klog_store(const struct klog *g)
{
    return kube_client_store(g->l->k);
}

static struct net *klog_net(const struct klog *g)
{
    return kube_client_net(g->l->k);
}

static void slot_release(struct klog *g);

static void klog_free(struct klog *g)
{
    g->queued = false;
    slot_release(g);
    kreq_cancel(g->req);
    if (g->timer)
        net_timer_cancel(klog_net(g), g->timer);
    if (g->stall_timer)
        net_timer_cancel(klog_net(g), g->stall_timer);
    if (g->follow && g->l->following)
        g->l->following--;
    if (g->ss)
        store_source_remove(klog_store(g), g->ss);
    nmilog_free(g->parser);
    free(g->seen);
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
    l->closing = true;
    while (l->head) {
        struct klog *g = l->head;
        l->head = g->next;
        klog_free(g);
    }
    free(l);
}

static void set_state(struct klog *g, enum store_source_state st, const char *error)
{
    struct store_source *ss = g->ss;
    bool changed = false;
    if (error && strcmp(ss->error, error) != 0) {
        snprintf(ss->error, sizeof ss->error, "%s", error);
        ss->error_since = time_now();
        changed = true;
    } else if (!error && ss->error[0]) {
        ss->error[0] = '\0';
        changed = true;
    }
    kube_source_set(g->l->k, ss, st);
    if (changed)
        store_source_changed(klog_store(g));
}

static void drain(struct klog *g)
{
    struct store *st = klog_store(g);
    struct model_nmi_request r;
    while (nmilog_next(g->parser, &r)) {
        struct model_nmi_request *h = xmalloc(sizeof *h);
        *h = r;
        store_add_nmi_request(st, h);
    }
}

static uint64_t line_hash(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ULL;
    }
    return h;
}

/* True when this line was taken before (a resumed stream repeats the last second). */
static bool already_taken(struct klog *g, int64_t sec, int32_t nsec, const char *line, size_t len)
{
    if (g->have_last && (sec < g->last_sec || (sec == g->last_sec && nsec < g->last_nsec)))
        return true;
    uint64_t h = line_hash(line, len);
    if (g->have_last && sec == g->last_sec && nsec == g->last_nsec) {
        for (size_t i = 0; i < g->n_seen; i++)
            if (g->seen[i] == h)
                return true;
    } else {
        g->last_sec = sec;
        g->last_nsec = nsec;
        g->have_last = true;
        g->n_seen = 0;
    }
    xgrow((void **)&g->seen, &g->cap_seen, g->n_seen + 1, sizeof *g->seen);
    g->seen[g->n_seen++] = h;
    return false;
}

static void note_activity(struct klog *g)
{
    g->last_line_ms = time_now_ms();
    g->ss->covered_to = time_now();
}

/* The pod's cadence, from the log's own timestamps (a backlog teaches it at once): the mean
 * gap between new lines. */
static void note_gap(struct klog *g, int64_t sec, int32_t nsec)
{
    if (g->have_gap_from) {
        int64_t gap = (sec - g->gap_from_sec) * 1000 + (nsec - g->gap_from_nsec) / 1000000;
        if (gap >= 0)
            g->gap_ms = g->gap_ms ? g->gap_ms + (gap - g->gap_ms) / 8 : gap;
    }
    g->gap_from_sec = sec;
    g->gap_from_nsec = nsec;
    g->have_gap_from = true;
}

static int klog_line(void *ctx, const char *line, size_t len)
{
    struct klog *g = ctx;
    const char *sp = memchr(line, ' ', len);
    size_t tl = sp ? (size_t)(sp - line) : 0;
    note_activity(g);
    if (g->ss->state != STORE_SRC_SYNCED && g->ss->state != STORE_SRC_LISTING)
        set_state(g, STORE_SRC_SYNCED, NULL); /* the stream answers again */
    g->ss->last_success = time_now();
    if (tl > 0 && tl < 48) {
        char ts[48];
        memcpy(ts, line, tl);
        ts[tl] = '\0';
        int64_t sec;
        int32_t nsec = 0;
        if (time_parse_rfc3339(ts, &sec, &nsec) == 0) {
            if (already_taken(g, sec, nsec, line, len))
                return 0;
            note_gap(g, sec, nsec);
        }
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

static int64_t stall_after_ms(const struct klog *g)
{
    const struct kube_client_config *c = kube_client_cfg(g->l->k);
    int64_t lo = c->log_stall_min_s > 0 ? (int64_t)c->log_stall_min_s * 1000 : STALL_MIN_MS;
    int64_t hi = c->log_stall_max_s > 0 ? (int64_t)c->log_stall_max_s * 1000 : STALL_QUIET_MS;
    if (hi < lo)
        hi = lo;
    if (!g->have_last)
        return hi;
    int64_t t = g->gap_ms * STALL_FACTOR;
    return t < lo ? lo : t > hi ? hi : t;
}

static void stall_arm(struct klog *g);

static bool quiet_token(struct klogs *l)
{
    const struct kube_client_config *c = kube_client_cfg(l->k);
    double per_min = c->log_quiet_checks > 0 ? c->log_quiet_checks : 6;
    int64_t now = time_now_ms();
    if (!l->quiet_refill_ms) {
        l->quiet_refill_ms = now;
        l->quiet_tokens = per_min;
    }
    l->quiet_tokens += (double)(now - l->quiet_refill_ms) * per_min / 60000.0;
    l->quiet_refill_ms = now;
    if (l->quiet_tokens > per_min)
        l->quiet_tokens = per_min;
    if (l->quiet_tokens < 1)
        return false;
    l->quiet_tokens -= 1;
    return true;
}

/* A followed stream silent for longer than its pod's cadence may be stuck (a kubelet that lost
 * the file after a log rotation keeps the connection open): resume it from the last line. The
 * resumed request answering proves the quiet was real. */
static void stall_fire(void *ctx)
{
    struct klog *g = ctx;
    g->stall_timer = 0;
    if (!g->running || !g->follow)
        return;
    int64_t idle = time_now_ms() - g->last_line_ms;
    if (idle < stall_after_ms(g)) {
        stall_arm(g);
        return;
    }
    char why[128], age[16];
    time_format_age(idle / 1000, age);
    if (!quiet_token(g->l)) {
        /* re-checks share one small budget, so that idle cost does not grow with NMI pods:
         * a real stall waits for a token (a minute or so), a quiet pod costs little */
        snprintf(why, sizeof why, "no line for %s: re-check queued", age);
        set_state(g, STORE_SRC_STALE, why);
        g->stall_timer = net_timer_add(klog_net(g), 10000, stall_fire, g);
        return;
    }
    snprintf(why, sizeof why, "no line for %s: resuming the stream", age);
    set_state(g, STORE_SRC_STALE, why);
    kreq_cancel(g->req);
    g->req = NULL;
    g->running = false;
    g->resumes++;
    slot_release(g); /* (a stream that never answered still held its slot) */
    klog_start(g);
}

static void stall_arm(struct klog *g)
{
    if (g->stall_timer)
        net_timer_cancel(klog_net(g), g->stall_timer);
    /* The threshold moves as lines teach the cadence: look again at least every minimum. */
    const struct kube_client_config *c = kube_client_cfg(g->l->k);
    int64_t lo = c->log_stall_min_s > 0 ? (int64_t)c->log_stall_min_s * 1000 : STALL_MIN_MS;
    int64_t idle = time_now_ms() - g->last_line_ms;
    int64_t wait = stall_after_ms(g) - idle;
    if (wait > lo)
        wait = lo;
    g->stall_timer = net_timer_add(klog_net(g), wait > 500 ? wait : 500, stall_fire, g);
}

static void klog_open(void *ctx, long status)
{
    struct klog *g = ctx;
    (void)status;
    if (g->follow)
        slot_release(g); /* streaming now: the next one may set up */
    g->last_line_ms = time_now_ms();
    struct store_source *ss = g->ss;
    if (!ss->covered_from) {
        const struct kube_client_config *c = kube_client_cfg(g->l->k);
        int64_t from = g->req_started - c->log_window;
        ss->covered_from = g->log_start > from ? g->log_start : from;
    }
    if (g->follow) {
        ss->covered_to = time_now();
        ss->last_success = time_now();
        set_state(g, STORE_SRC_SYNCED, NULL);
        stall_arm(g);
    }
}

static void klog_done(void *ctx, const struct net_response *r)
{
    struct klog *g = ctx;
    struct klogs *l = g->l;
    const struct kube_client_config *c = kube_client_cfg(l->k);
    g->req = NULL;
    g->running = false;
    slot_release(g);
    if (g->stall_timer) {
        net_timer_cancel(klog_net(g), g->stall_timer);
        g->stall_timer = 0;
    }
    if (r->status == 200 && (r->curl_code == 0 || g->follow)) {
        nmilog_finish(g->parser);
        drain(g);
    }
    bool ok = r->status == 200 && r->curl_code == 0;
    if (!ok && !(r->status == 200 && g->follow)) {
        char msg[256], full[256];
        kube_describe_failure(r, msg, sizeof msg);
        snprintf(full, sizeof full, "%s/%s: %s", g->ns, g->name, msg);
        set_state(g, r->status == 403 ? STORE_SRC_FORBIDDEN : STORE_SRC_ERROR, full);
        g->failures++;
    } else {
        g->failures = 0;
        g->ss->last_success = time_now();
        if (!g->follow || c->one_shot) /* the whole log up to the request was read */
            g->ss->covered_to = g->req_started;
        if (!g->follow)
            set_state(g, STORE_SRC_SYNCED, NULL);
    }
    if (c->one_shot) {
        if (!ok && g->failures < 3 && r->status != 403 && r->status != 404 && r->status != 400) {
            g->timer = net_timer_add(
                klog_net(g),
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
    if (r->status == 403)
        d = LOG_FORBIDDEN_RETRY_MS;
    else if (g->follow) {
        if (r->status == 200) { /* the stream ended or was cut: the pod may still be logging */
            g->resumes++;
            set_state(g, STORE_SRC_STALE, "stream ended: resuming");
        }
        d = g->failures ? net_backoff_ms(g->failures - 1, LOG_BACKOFF_BASE_MS, LOG_BACKOFF_CAP_MS,
                                         (uint32_t)rand())
                        : 1000;
    } else
        d = (int64_t)(c->log_poll_seconds > 0 ? c->log_poll_seconds : 60) * 1000;
    g->timer = net_timer_add(klog_net(g), d, klog_timer, g);
}

/* Where the next read starts: the second of the last line taken (repeats are recognised), else
 * the end of what was covered, else the log window. */
static char *since_param(const struct klog *g, int64_t window)
{
    int64_t from = 0;
    if (g->have_last)
        from = g->last_sec;
    else if (g->ss->covered_to)
        from = g->ss->covered_to - 1;
    if (from > 0 && from > time_now() - window) {
        char ts[32];
        time_format_rfc3339(from, ts);
        char *e = curl_easy_escape(NULL, ts, 0);
        char *p = xasprintf("sinceTime=%s", e);
        curl_free(e);
        return p;
    }
    return xasprintf("sinceSeconds=%lld", (long long)(window > 0 ? window : 1));
}

/* Frees g's opening slot and gives it to the oldest queued log. */
static void slot_release(struct klog *g)
{
    struct klogs *l = g->l;
    if (!g->opening)
        return;
    g->opening = false;
    l->opening--;
    struct klog *next = NULL;
    for (struct klog *h = l->closing ? NULL : l->head; h; h = h->next)
        if (h->queued)
            next = h; /* the list is newest first: the last queued is the oldest */
    if (next) {
        next->queued = false;
        klog_start(next);
    }
}

static void klog_start(struct klog *g)
{
    struct klogs *l = g->l;
    const struct kube_client_config *c = kube_client_cfg(l->k);
    if (g->opening || g->queued)
        return;
    if (l->opening >= LOG_OPENING_MAX) {
        g->queued = true;
        return;
    }
    g->opening = true;
    l->opening++;
    char *since = since_param(g, c->log_window);
    char *ns = curl_easy_escape(NULL, g->ns, 0), *name = curl_easy_escape(NULL, g->name, 0);
    char *cont = curl_easy_escape(NULL, g->container ? g->container : "", 0);
    char *path = xasprintf("/api/v1/namespaces/%s/pods/%s/log?container=%s&timestamps=true&%s%s",
                           ns, name, cont, since, g->follow ? "&follow=true" : "");
    curl_free(ns);
    curl_free(name);
    curl_free(cont);
    free(since);
    struct kreq_opts o = {
        .path = path,
        .accept = "*/*",
        .timeout_ms = g->follow ? 0 : LOG_ONESHOT_TIMEOUT_MS,
        .on_line = klog_line,
        .on_open = klog_open,
        .done = klog_done,
        .ctx = g,
    };
    g->running = true;
    g->req_started = time_now();
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
}

void klogs_pod_seen(struct klogs *l, const struct model_pod *p)
{
    if (!kube_pod_is_nmi(p) || p->phase != MODEL_PHASE_RUNNING || !p->meta.name)
        return;
    struct klog *g = klog_find(l, p->meta.namespace_, p->meta.name);
    int64_t log_start = p->started ? p->started : p->meta.created;
    if (g && str_eq(g->uid, p->meta.uid)) {
        if (log_start > g->log_start) { /* the container restarted: its earlier log is gone */
            g->log_start = log_start;
            if (g->ss->covered_from && g->ss->covered_from < log_start) {
                g->ss->covered_from = log_start;
                store_source_changed(kube_client_store(l->k));
            }
        }
        return;
    }
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
    g->log_start = log_start;
    char src[160];
    snprintf(src, sizeof src, LOG_SOURCE_PREFIX "%s", g->label);
    g->ss = store_source(kube_client_store(l->k), src);
    memset(g->ss->error, 0, sizeof g->ss->error);
    g->ss->covered_from = g->ss->covered_to = 0;
    snprintf(g->ss->note, sizeof g->ss->note, "node %s", g->node ? g->node : "?");
    kube_source_set(l->k, g->ss, STORE_SRC_LISTING);
    struct nmilog_config nc = {.nmi_pod = g->label, .node_name = g->node};
    g->parser = nmilog_new(&nc);
    g->next = l->head;
    l->head = g;
    if (c->one_shot) {
        if (l->oneshot) { /* the one-shot read is under way: read this one too */
            l->pending++;
            klog_start(g);
        }
        return;
    }
    int cap = c->max_log_streams > 0 ? c->max_log_streams : 512;
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
    g->gone = true;
    klog_remove(l, g);
    if (!followed)
        return;
    /* A follow slot came free: promote a polled pod. */
    for (struct klog *h = l->head; h; h = h->next) {
        if (!h->follow) {
            h->follow = true;
            l->following++;
            if (!h->running) {
                net_timer_cancel(klog_net(h), h->timer);
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
}

bool klogs_done(const struct klogs *l)
{
    return l->oneshot && l->pending == 0;
}

uint64_t klogs_resumes(const struct klogs *l)
{
    uint64_t n = 0;
    for (const struct klog *g = l->head; g; g = g->next)
        n += g->resumes;
    return n;
}
