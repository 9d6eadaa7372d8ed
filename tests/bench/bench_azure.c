/* ARM load of a federation check: the real Azure client (azure_refresh) against a fake ARM on a
 * fake clock, with per-request latency and ARM's subscription-reads token bucket (reference
 * azure-arm.md §5: bucket 250, refill 25/s; a read beyond it gets 429 + Retry-After).
 *
 * Usage: bench_azure [-i IDENTITIES] [-r REFERENCED] [-p PAGE] [-l LATENCY_MS] [-m MINUTES]
 *                    [-f MAX_IN_FLIGHT] [--no-headers]
 * Defaults: 2000 identities, 500 referenced (every 4th), 100 per identity page, 50 ms, 10 min of
 * steady state with a refresh 60 s after the previous one ended (the app's --interval), the
 * client's own max_in_flight. --no-headers drops x-ms-ratelimit-remaining-subscription-reads
 * from the answers, as the net seam does today (azure_http_response.headers is NULL there). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "idwatch/azure.h"
#include "idwatch/core.h"
#include "idwatch/model.h"

#define ARM "https://arm.test"
#define LOGIN "https://login.test"
#define SUB "00000000-0000-0000-0000-000000000000"
#define HOST "dnsprefix1-abcd1234.hcp.eastus.azmk8s.io"
#define ISSUER                                                                                     \
    "https://eastus.oic.prod-aks.azure.com/22222222-2222-2222-2222-222222222222/"                  \
    "44444444-4444-4444-4444-444444444444/"
#define BUCKET 250.0
#define REFILL 25.0 /* per second */
#define MAX_PENDING 256
#define MAX_TIMERS 64
#define MAX_MINUTES 120

/* What kind of request the fake saw (columns token, clust, idpg, fics of the report). */
enum kind { K_TOKEN, K_CLUSTERS, K_IDENTITIES, K_FICS, K_OTHER, K__COUNT };

struct pending {
    bool used, cancelled;
    int64_t due;
    enum kind kind;
    long status; /* decided on arrival (the bucket), 0 = answer normally */
    int64_t retry_after;
    int remaining;
    char *url;
    char *body;
    azure_http_done done;
    void *arg;
};

struct timer {
    bool active;
    uint64_t id;
    int64_t at;
    azure_timer_fn fire;
    void *arg;
};

struct counts {
    uint64_t by_kind[K__COUNT];
    uint64_t throttled; /* 429s the fake gave */
    uint64_t arm_reads; /* ARM GETs that reached the bucket */
};

struct fake {
    int64_t now_ms;
    int64_t latency_ms;
    bool headers;
    int n_ids, n_ref, page;
    double tokens;
    int64_t bucket_ms;
    struct pending pend[MAX_PENDING];
    int in_flight, max_seen_in_flight;
    struct timer timers[MAX_TIMERS];
    uint64_t next_timer;
    struct counts c;
    uint64_t per_minute[MAX_MINUTES];
    uint64_t per_minute_429[MAX_MINUTES];
    int64_t minute0_ms; /* start of the steady state; 0 = not counting per minute */
    char *cluster_json;
    struct idw_buf out;
    double fake_cpu; /* CPU seconds spent building answers, taken off the client's */
};

#define CLUSTER_FIXTURE "SYNTHETIC-managedCluster-get-oidc-workloadidentity.json"

static const char *dir_of(const char *file)
{
    static char d[512];
    snprintf(d, sizeof d, "%s", file);
    char *slash = strrchr(d, '/');
    if (slash)
        *slash = 0;
    else
        snprintf(d, sizeof d, ".");
    return d;
}

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void client_id(int k, char out[40])
{
    snprintf(out, 40, "%08x-0000-4000-8000-%012x", (unsigned)k + 1, (unsigned)k);
}

static enum kind classify(const char *url)
{
    if (str_has_prefix(url, LOGIN))
        return K_TOKEN;
    if (strstr(url, "/federatedIdentityCredentials"))
        return K_FICS;
    if (strstr(url, "/managedClusters"))
        return K_CLUSTERS;
    if (strstr(url, "/userAssignedIdentities"))
        return K_IDENTITIES;
    return K_OTHER;
}

/* The subscription-reads bucket, refilled continuously; a read that finds it empty is not
 * processed and gets the time until one token is back. */
static void bucket_take(struct fake *f, struct pending *p)
{
    double dt = (double)(f->now_ms - f->bucket_ms) / 1000.0;
    f->bucket_ms = f->now_ms;
    f->tokens += dt * REFILL;
    if (f->tokens > BUCKET)
        f->tokens = BUCKET;
    f->c.arm_reads++;
    if (f->tokens < 1.0) {
        p->status = 429;
        int64_t s = (int64_t)((1.0 - f->tokens) / REFILL) + 1;
        p->retry_after = s;
        f->c.throttled++;
        return;
    }
    f->tokens -= 1.0;
    p->remaining = (int)f->tokens;
}

static int fake_http(void *ctx, const struct azure_http_request *req, azure_http_done done,
                     void *arg, void **handle, struct idw_err *err)
{
    struct fake *f = ctx;
    struct pending *p = NULL;
    for (int i = 0; i < MAX_PENDING && !p; i++)
        if (!f->pend[i].used)
            p = &f->pend[i];
    if (!p)
        return idw_err_set(err, "fake: too many requests in flight");
    *p = (struct pending){.used = true,
                          .due = f->now_ms + f->latency_ms,
                          .kind = classify(req->url),
                          .url = xstrdup(req->url),
                          .body = req->body ? xstrndup(req->body, req->body_len) : NULL,
                          .done = done,
                          .arg = arg};
    f->c.by_kind[p->kind]++;
    if (p->kind != K_TOKEN && strcmp(req->method, "GET") == 0)
        bucket_take(f, p);
    if (f->minute0_ms) {
        int64_t m = (f->now_ms - f->minute0_ms) / 60000;
        if (m >= 0 && m < MAX_MINUTES && p->kind != K_TOKEN) {
            f->per_minute[m]++;
            f->per_minute_429[m] += p->status == 429;
        }
    }
    if (++f->in_flight > f->max_seen_in_flight)
        f->max_seen_in_flight = f->in_flight;
    *handle = p;
    return 0;
}

static void pending_free(struct fake *f, struct pending *p)
{
    free(p->url);
    free(p->body);
    p->used = false;
    f->in_flight--;
}

static void fake_http_cancel(void *ctx, void *handle)
{
    pending_free(ctx, handle);
}

static uint64_t fake_timer_add(void *ctx, int64_t delay_ms, azure_timer_fn fire, void *arg)
{
    struct fake *f = ctx;
    for (int i = 0; i < MAX_TIMERS; i++)
        if (!f->timers[i].active) {
            f->timers[i] = (struct timer){true, ++f->next_timer, f->now_ms + delay_ms, fire, arg};
            return f->timers[i].id;
        }
    fprintf(stderr, "bench_azure: out of timers\n");
    exit(1);
}

static void fake_timer_cancel(void *ctx, uint64_t id)
{
    struct fake *f = ctx;
    for (int i = 0; i < MAX_TIMERS; i++)
        if (f->timers[i].id == id)
            f->timers[i].active = false;
}

static int64_t fake_now(void *ctx)
{
    return ((struct fake *)ctx)->now_ms;
}

static const char *fake_getenv(void *ctx, const char *name)
{
    (void)ctx;
    static const char *const env[][2] = {{"AZURE_TENANT_ID", "tenant1"},
                                         {"AZURE_CLIENT_ID", "cid"},
                                         {"AZURE_CLIENT_SECRET", "secret"},
                                         {"AZURE_SUBSCRIPTION_ID", SUB}};
    for (size_t i = 0; i < sizeof env / sizeof env[0]; i++)
        if (strcmp(env[i][0], name) == 0)
            return env[i][1];
    return NULL;
}

/* ---- ARM's answers, built when they are delivered ---- */

static void answer_identities(struct fake *f, const char *url)
{
    const char *st = strstr(url, "skiptoken=");
    int start = st ? atoi(st + 10) : 0;
    buf_puts(&f->out, "{\"value\":[");
    for (int k = start; k < start + f->page && k < f->n_ids; k++) {
        char cid[40];
        client_id(k, cid);
        buf_printf(&f->out,
                   "%s{\"id\":\"/subscriptions/" SUB "/resourcegroups/rg%d/providers/"
                   "Microsoft.ManagedIdentity/userAssignedIdentities/id-%d\",\"name\":\"id-%d\","
                   "\"type\":\"Microsoft.ManagedIdentity/userAssignedIdentities\",\"location\":"
                   "\"eastus\",\"tags\":{},\"properties\":{\"isolationScope\":\"None\","
                   "\"tenantId\":\"22222222-2222-2222-2222-222222222222\",\"principalId\":"
                   "\"%08x-1111-4000-8000-%012x\",\"clientId\":\"%s\"}}",
                   k > start ? "," : "", k % 20, k, k, (unsigned)k, (unsigned)k, cid);
    }
    if (start + f->page < f->n_ids)
        buf_printf(&f->out,
                   "],\"nextLink\":\"" ARM "/subscriptions/" SUB "/providers/"
                   "Microsoft.ManagedIdentity/userAssignedIdentities?api-version=2024-11-30&"
                   "$skiptoken=%d\"}",
                   start + f->page);
    else
        buf_puts(&f->out, "]}");
}

static void answer_fics(struct fake *f, const char *url)
{
    const char *p = strstr(url, "userAssignedIdentities/id-");
    int k = p ? atoi(p + strlen("userAssignedIdentities/id-")) : 0;
    int n = 1 + k % 3;
    buf_puts(&f->out, "{\"value\":[");
    for (int i = 0; i < n; i++)
        buf_printf(&f->out,
                   "%s{\"id\":\"/subscriptions/" SUB "/resourcegroups/rg%d/providers/"
                   "Microsoft.ManagedIdentity/userAssignedIdentities/id-%d/"
                   "federatedIdentityCredentials/fic-%d\",\"name\":\"fic-%d\",\"type\":"
                   "\"Microsoft.ManagedIdentity/userAssignedIdentities/"
                   "federatedIdentityCredentials\",\"properties\":{\"issuer\":\"" ISSUER
                   "\",\"subject\":\"system:serviceaccount:ns%d:sa%d-%d\",\"audiences\":"
                   "[\"api://AzureADTokenExchange\"]}}",
                   i ? "," : "", k % 20, k, i, i, k % 50, k, i);
    buf_puts(&f->out, "]}");
}

static void deliver(struct fake *f, struct pending *p)
{
    double t0 = cpu_now();
    char hdr[160] = "";
    struct azure_http_response r = {.status = 200};
    buf_reset(&f->out);
    if (p->status == 429) {
        r.status = 429;
        r.retry_after = p->retry_after;
        buf_puts(&f->out, "{\"error\":{\"code\":\"SubscriptionRequestsThrottled\",\"message\":"
                          "\"Number of 'read' requests for subscription '" SUB
                          "' actor 'cid' exceeded.\"}}");
    } else if (p->kind == K_TOKEN) {
        buf_puts(&f->out, "{\"token_type\":\"Bearer\",\"expires_in\":3599,\"ext_expires_in\":"
                          "3599,\"access_token\":\"tok-arm\"}");
    } else if (p->kind == K_CLUSTERS) {
        buf_printf(&f->out, "{\"value\":[%s]}", f->cluster_json);
    } else if (p->kind == K_IDENTITIES) {
        answer_identities(f, p->url);
    } else if (p->kind == K_FICS) {
        answer_fics(f, p->url);
    } else {
        r.status = 404;
        buf_puts(&f->out, "{\"error\":{\"code\":\"NotFound\",\"message\":\"no route\"}}");
    }
    if (p->kind != K_TOKEN && f->headers) {
        snprintf(hdr, sizeof hdr,
                 "x-ms-ratelimit-remaining-subscription-reads: %d\r\nx-ms-request-id: r\r\n",
                 p->status == 429 ? 0 : p->remaining);
        r.headers = hdr;
    }
    r.body = f->out.data;
    r.body_len = f->out.len;
    azure_http_done done = p->done;
    void *arg = p->arg;
    f->fake_cpu += cpu_now() - t0;
    done(arg, &r);
}

/* Delivers answers and fires timers in time order until nothing is left or stop is set. */
static void fake_run(struct fake *f, const bool *stop)
{
    while (!*stop) {
        struct pending *np = NULL;
        struct timer *nt = NULL;
        for (int i = 0; i < MAX_PENDING; i++)
            if (f->pend[i].used && (!np || f->pend[i].due < np->due))
                np = &f->pend[i];
        for (int i = 0; i < MAX_TIMERS; i++)
            if (f->timers[i].active && (!nt || f->timers[i].at < nt->at))
                nt = &f->timers[i];
        if (!np && !nt)
            return;
        if (np && (!nt || np->due <= nt->at)) {
            if (np->due > f->now_ms)
                f->now_ms = np->due;
            /* copy out: done() may reuse the slot for a new request */
            struct pending p = *np;
            np->used = false;
            f->in_flight--;
            deliver(f, &p);
            free(p.url);
            free(p.body);
        } else {
            if (nt->at > f->now_ms)
                f->now_ms = nt->at;
            nt->active = false;
            nt->fire(nt->arg);
        }
    }
}

/* ---- one refresh, measured ---- */

struct run {
    bool done;
    int64_t done_ms;
    struct model_azure m;
    bool have_m;
};

static void on_done(void *arg, struct model_azure *m)
{
    struct run *r = arg;
    if (r->have_m)
        model_azure_free(&r->m);
    r->m = *m;
    r->have_m = true;
    r->done = true;
}

struct measure {
    struct counts c;
    struct azure_stats st;
    int64_t sim_ms;
    double cpu_ms;
    size_t n_identities, n_with_fics;
    int state;
};

static void counts_diff(struct counts *d, const struct counts *a, const struct counts *b)
{
    for (int k = 0; k < K__COUNT; k++)
        d->by_kind[k] = a->by_kind[k] - b->by_kind[k];
    d->throttled = a->throttled - b->throttled;
    d->arm_reads = a->arm_reads - b->arm_reads;
}

static void refresh(struct fake *f, struct azure *az, struct run *r, struct measure *out)
{
    struct counts c0 = f->c;
    struct azure_stats s0, s1;
    azure_get_stats(az, &s0);
    int64_t t0 = f->now_ms;
    double fake0 = f->fake_cpu, cpu0 = cpu_now();
    struct idw_err err = {{0}};
    r->done = false;
    if (azure_refresh(az, on_done, r, &err) != 0) {
        fprintf(stderr, "bench_azure: refresh: %s\n", err.msg);
        exit(1);
    }
    fake_run(f, &r->done);
    double cpu = cpu_now() - cpu0 - (f->fake_cpu - fake0);
    if (!r->done) {
        fprintf(stderr, "bench_azure: refresh never finished\n");
        exit(1);
    }
    azure_get_stats(az, &s1);
    memset(out, 0, sizeof *out);
    counts_diff(&out->c, &f->c, &c0);
    out->st.arm_requests = s1.arm_requests - s0.arm_requests;
    out->st.token_requests = s1.token_requests - s0.token_requests;
    out->st.throttled = s1.throttled - s0.throttled;
    out->st.cache_hits = s1.cache_hits - s0.cache_hits;
    out->st.slowdowns = s1.slowdowns - s0.slowdowns;
    out->sim_ms = f->now_ms - t0;
    out->cpu_ms = cpu * 1000.0;
    out->state = r->m.state;
    out->n_identities = r->m.n_identities;
    for (size_t i = 0; i < r->m.n_identities; i++)
        out->n_with_fics += r->m.identities[i].n_fics > 0;
}

static void print_row(const char *what, const struct measure *m)
{
    printf("| %-22s | %5llu | %5llu | %5llu | %5llu | %5llu | %5llu | %4llu | %5llu | %8.1f | "
           "%7.2f | %4zu/%-4zu |\n",
           what, (unsigned long long)m->st.arm_requests, (unsigned long long)m->c.by_kind[K_TOKEN],
           (unsigned long long)m->c.by_kind[K_CLUSTERS],
           (unsigned long long)m->c.by_kind[K_IDENTITIES], (unsigned long long)m->c.by_kind[K_FICS],
           (unsigned long long)m->st.cache_hits, (unsigned long long)m->c.throttled,
           (unsigned long long)m->st.slowdowns, (double)m->sim_ms / 1000.0, m->cpu_ms,
           m->n_with_fics, m->n_identities);
}

static void usage(void)
{
    fprintf(stderr, "usage: bench_azure [-i IDENTITIES] [-r REFERENCED] [-p PAGE] [-l LATENCY_MS] "
                    "[-m MINUTES] [-f MAX_IN_FLIGHT] [--no-headers]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    static struct fake f;
    f.n_ids = 2000;
    f.n_ref = 500;
    f.page = 100;
    f.latency_ms = 50;
    f.headers = true;
    int minutes = 10, max_in_flight = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--no-headers") == 0) {
            f.headers = false;
            continue;
        }
        if (i + 1 >= argc)
            usage();
        int v = atoi(argv[++i]);
        if (strcmp(a, "-i") == 0)
            f.n_ids = v;
        else if (strcmp(a, "-r") == 0)
            f.n_ref = v;
        else if (strcmp(a, "-p") == 0)
            f.page = v;
        else if (strcmp(a, "-l") == 0)
            f.latency_ms = v;
        else if (strcmp(a, "-m") == 0)
            minutes = v;
        else if (strcmp(a, "-f") == 0)
            max_in_flight = v;
        else
            usage();
    }
    if (f.n_ids < 1 || f.n_ref < 0 || f.n_ref > f.n_ids || f.page < 1 || minutes < 0 ||
        minutes >= MAX_MINUTES)
        usage();

    /* benches get no IDW_SHARED_DIR definition: $IDW_SHARED_DIR, else next to the tree */
    char path[1024];
    size_t len;
    const char *shared = getenv("IDW_SHARED_DIR");
    if (shared && *shared)
        snprintf(path, sizeof path, "%s/fixtures/arm/%s", shared, CLUSTER_FIXTURE);
    else
        snprintf(path, sizeof path, "%s/../../../shared/fixtures/arm/%s", dir_of(__FILE__),
                 CLUSTER_FIXTURE);
    if (file_read_all(path, 1 << 20, &f.cluster_json, &len, NULL) != 0) {
        fprintf(stderr, "bench_azure: cannot read %s\n", path);
        return 1;
    }
    f.now_ms = 1795946400000;
    f.bucket_ms = f.now_ms;
    f.tokens = BUCKET;

    struct azure_io io = {.ctx = &f,
                          .http = fake_http,
                          .http_cancel = fake_http_cancel,
                          .timer_add = fake_timer_add,
                          .timer_cancel = fake_timer_cancel,
                          .now_ms = fake_now,
                          .getenv = fake_getenv};
    struct azure_config cfg = {.arm_endpoint = ARM,
                               .authority_host = LOGIN,
                               .graph_endpoint = "https://graph.test",
                               .server_host = HOST,
                               .max_in_flight = max_in_flight};
    struct azure *az;
    struct idw_err err = {{0}};
    if (azure_new(&cfg, &io, &az, &err) != 0) {
        fprintf(stderr, "bench_azure: %s\n", err.msg);
        return 1;
    }
    /* every 4th identity when 500 of 2000: spread over all pages */
    char(*ids)[40] = xcalloc((size_t)f.n_ref + 1, sizeof *ids);
    const char **ref = xcalloc((size_t)f.n_ref + 1, sizeof *ref);
    for (int i = 0; i < f.n_ref; i++) {
        client_id((int)((long)i * f.n_ids / (f.n_ref ? f.n_ref : 1)), ids[i]);
        ref[i] = ids[i];
    }
    azure_set_referenced(az, ref, (size_t)f.n_ref);

    printf("bench_azure: %d identities (%d per page), %d referenced with 1-3 credentials each, "
           "ARM latency %lld ms, max_in_flight %d%s, bucket %.0f refill %.0f/s, remaining-reads "
           "header %s\n\n",
           f.n_ids, f.page, f.n_ref, (long long)f.latency_ms, max_in_flight ? max_in_flight : 8,
           max_in_flight ? "" : " (client default)", BUCKET, REFILL,
           f.headers ? "sent" : "not sent (like the net seam)");
    printf("| %-22s | %5s | %5s | %5s | %5s | %5s | %5s | %4s | %5s | %8s | %7s | %9s |\n",
           "refresh", "ARM", "token", "clust", "idpg", "fics", "hits", "429", "slow", "sim s",
           "CPU ms", "fics/ids");
    printf(
        "|------------------------|-------|-------|-------|-------|-------|-------|------|-------|"
        "----------|---------|-----------|\n");

    struct run r = {0};
    struct measure cold, warm, m;
    refresh(&f, az, &r, &cold);
    print_row("cold", &cold);
    refresh(&f, az, &r, &warm);
    print_row("warm (right after)", &warm);

    /* steady state: the app starts the next refresh --interval after the previous one ended */
    f.minute0_ms = f.now_ms;
    int64_t end = f.now_ms + (int64_t)minutes * 60000;
    uint64_t max_fics = 0, total_429 = 0, n_ref = 0;
    int k = 0;
    for (;;) {
        f.now_ms += 60000;
        if (f.now_ms >= end)
            break;
        /* idle until then: no timers should be pending, but fire any that are */
        refresh(&f, az, &r, &m);
        char what[32];
        snprintf(what, sizeof what, "steady #%d (t=%llds)", ++k,
                 (long long)((f.now_ms - f.minute0_ms - m.sim_ms) / 1000));
        print_row(what, &m);
        if (m.c.by_kind[K_FICS] > max_fics)
            max_fics = m.c.by_kind[K_FICS];
        total_429 += m.c.throttled;
        n_ref++;
    }
    printf("\nARM: requests the client sent (stats); token/clust/idpg/fics: requests the fake "
           "saw by kind, 429'd ones included; hits: credential lists served from the cache; "
           "slow: sends delayed by remaining-reads pacing; sim s: fake-clock time of the "
           "refresh; CPU ms: the client's CPU (the fake's answer building taken off); "
           "fics/ids: identities with credentials / identities in the result\n");
    printf("\nsteady state, %d min: ARM requests per minute (minute: requests/429s):", minutes);
    uint64_t total = 0, peak = 0;
    for (int i = 0; i < minutes; i++) {
        printf(" %llu/%llu", (unsigned long long)f.per_minute[i],
               (unsigned long long)f.per_minute_429[i]);
        total += f.per_minute[i];
        if (f.per_minute[i] > peak)
            peak = f.per_minute[i];
    }
    printf("\n  total %llu in %llu refreshes, mean %.1f/min, peak %llu/min, 429s %llu; peak "
           "in flight seen %d\n",
           (unsigned long long)total, (unsigned long long)n_ref,
           minutes ? (double)total / minutes : 0.0, (unsigned long long)peak,
           (unsigned long long)total_429, f.max_seen_in_flight);
    printf("  target: credential lists per refresh (TTL 60 s) <= %d: max %llu -> %s; no 429: "
           "cold %llu, steady %llu -> %s\n",
           f.n_ref, (unsigned long long)max_fics, max_fics <= (uint64_t)f.n_ref ? "met" : "NOT met",
           (unsigned long long)cold.c.throttled, (unsigned long long)total_429,
           cold.c.throttled + warm.c.throttled + total_429 == 0 ? "met" : "NOT met");

    azure_free(az);
    if (r.have_m)
        model_azure_free(&r.m);
    buf_free(&f.out);
    free(f.cluster_json);
    free(ids);
    free(ref);
    return 0;
}
