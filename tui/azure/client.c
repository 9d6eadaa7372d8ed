/* The Azure client: finds the cluster in ARM, lists user-assigned identities, lists federated
 * credentials of the identities service accounts reference (Graph for app registrations), with
 * TTL caches and a request queue that honours Retry-After and the remaining-reads header. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "azure_int.h"
#include "idwatch/store.h"

#define API_CLUSTERS "2025-10-01"
#define API_MSI "2024-11-30"
#define API_SUBSCRIPTIONS "2022-12-01"
#define MAX_ATTEMPTS 5       /* per request, 429s included */
#define MAX_PAGES 1000       /* per list: a nextLink loop stops here */
#define LOW_READS 50         /* remaining-reads below this: one request a second */
#define FEW_READS 200        /* below this: one request every 100 ms */
#define MAX_BODY (64u << 20) /* what a list page may weigh */

enum stage { ST_IDLE, ST_TOKEN, ST_CLUSTER, ST_IDENTITIES, ST_FICS, ST_DONE };

/* A cached identity (UAMI or app registration) and its credential list being assembled. */
struct ident {
    struct model_identity m;
    int64_t fics_ms;       /* when its credential list was last fetched (ok or error); 0 never */
    bool absent;           /* Graph: no application with that appId */
    bool busy;             /* a credential list is being fetched this refresh */
    struct model_fic *acc; /* pages of the list being fetched */
    size_t n_acc, cap_acc;
    int pages;
};

struct job;
typedef void (*job_fn)(struct azure *az, struct job *j, const struct azure_http_response *r);

struct job {
    struct azure *az;
    char *method;
    char *url;
    char *body;
    char *what; /* for error sentences */
    bool graph;
    bool refresh; /* counts toward the refresh stage */
    int attempt;
    int pages;
    size_t index; /* identity index, subscription index... */
    bool index_app;
    struct fic_op *op;
    job_fn on_done;
    void *handle;
    bool waiting_token;
    struct job *next, *prev; /* the in-flight list */
};

struct fic_op {
    struct azure_fic_spec spec; /* strings owned */
    char *body;
    azure_fic_done done;
    void *arg;
    struct model_fic *have;
    size_t n_have, cap_have;
};

struct azure {
    struct azure_io io;
    char *arm, *authority, *graph;
    char *subscription;
    char *cluster_id;
    char *server_host;
    char *az_command;
    int64_t identities_ttl_ms, credentials_ttl_ms;
    int max_in_flight;
    char *config_error;
    struct cred_chain *cred;

    char **referenced;
    size_t n_referenced;

    /* caches */
    struct azure_cluster cluster;
    bool have_cluster;
    int64_t cluster_ms;
    char *cluster_error;
    bool cluster_missing; /* cluster_error says: ARM answered, no cluster has our host */
    char *cred_error;
    struct ident *ids;
    size_t n_ids;
    int64_t ids_ms;
    bool ids_listed;
    char *ids_error;
    struct ident *apps;
    size_t n_apps, cap_apps;

    /* the refresh under way */
    enum stage stage;
    int stage_pending;
    azure_done_fn done;
    void *done_arg;
    char **subs;
    size_t n_subs;
    struct azure_cluster found;
    bool have_found;
    struct model_identity *new_ids;
    size_t n_new_ids, cap_new_ids;
    struct idw_buf stage_error;
    /* What failed in this refresh, per service (403/404 on one identity's credentials are that
     * identity's state, not a failure of the service). */
    char *arm_fail, *graph_fail;
    long arm_fail_status, graph_fail_status;

    /* the request queue */
    struct job **queue;
    size_t qn, qcap;
    struct job *inflight;
    int n_inflight;
    int64_t paused_until_ms;
    int64_t pacing_ms;
    int64_t last_sent_ms;
    uint64_t timer;
    struct azure_stats stats;
};

static void pump(struct azure *az);
static void stage_next(struct azure *az);

static int64_t now_ms(const struct azure *az)
{
    return cred_now_ms(&az->io);
}

static const char *env_or(const struct azure *az, const char *given, const char *env)
{
    return given ? given : cred_env(&az->io, env);
}

static char *strip_slash(const char *s)
{
    size_t n = strlen(s);
    while (n > 0 && s[n - 1] == '/')
        n--;
    return xstrndup(s, n);
}

int azure_new(const struct azure_config *cfg, const struct azure_io *io, struct azure **out,
              struct idw_err *err)
{
    if (!io->http || !io->timer_add)
        return idw_err_set(err, "azure: the I/O seam needs http and timers");
    struct azure *az = xcalloc(1, sizeof *az);
    az->io = *io;
    const char *cloud_name = env_or(az, cfg->cloud, "AZURE_ENVIRONMENT");
    const struct azure_cloud *cloud = azure_cloud_find(cloud_name);
    if (!cloud) {
        free(az);
        return idw_err_set(err,
                           "unknown cloud \"%s\" (AzurePublicCloud, AzureUSGovernment, "
                           "AzureChinaCloud)",
                           cloud_name);
    }
    az->arm = strip_slash(env_or(az, cfg->arm_endpoint, "IDWATCH_ARM_ENDPOINT")
                              ? env_or(az, cfg->arm_endpoint, "IDWATCH_ARM_ENDPOINT")
                              : cloud->arm);
    const char *auth = env_or(az, cfg->authority_host, "AZURE_AUTHORITY_HOST");
    az->authority = strip_slash(auth ? auth : cloud->authority);
    if (!str_has_prefix(az->authority, "https://") && !str_has_prefix(az->authority, "http://")) {
        char *a = xasprintf("https://%s", az->authority); /* a bare host name */
        free(az->authority);
        az->authority = a;
    }
    const char *graph = env_or(az, cfg->graph_endpoint, "IDWATCH_GRAPH_ENDPOINT");
    az->graph = strip_slash(graph ? graph : cloud->graph);
    az->subscription = xstrdup(env_or(az, cfg->subscription, "AZURE_SUBSCRIPTION_ID"));
    az->cluster_id = xstrdup(cfg->cluster_id);
    az->server_host = xstrdup(cfg->server_host);
    az->az_command = xstrdup(env_or(az, cfg->az_command, "IDWATCH_AZ"));
    az->identities_ttl_ms = (cfg->identities_ttl > 0 ? cfg->identities_ttl : 300) * 1000;
    az->credentials_ttl_ms = (cfg->credentials_ttl > 0 ? cfg->credentials_ttl : 60) * 1000;
    az->max_in_flight = cfg->max_in_flight > 0 ? cfg->max_in_flight : 8;
    if (az->cluster_id && (!str_has_prefix(az->cluster_id, "/subscriptions/") ||
                           strpbrk(az->cluster_id, "?#% \t\r\n") ||
                           azure_arm_id_split(az->cluster_id, NULL, NULL, NULL) != 0))
        az->config_error = xasprintf("--cluster-id is not an ARM resource id "
                                     "(/subscriptions/.../managedClusters/NAME)");
    struct cred_config cc = {.io = &az->io,
                             .authority = az->authority,
                             .arm_audience = cloud->arm,
                             .graph_audience = cloud->graph,
                             .az_command = az->az_command,
                             .token_requests = &az->stats.token_requests};
    az->cred = cred_new(&cc);
    *out = az;
    return 0;
}

static void job_free(struct job *j)
{
    free(j->method);
    free(j->url);
    free(j->body);
    free(j->what);
    free(j);
}

static void ident_clear(struct ident *x)
{
    model_identity_free(&x->m);
    for (size_t i = 0; i < x->n_acc; i++)
        model_fic_free(&x->acc[i]);
    free(x->acc);
    memset(x, 0, sizeof *x);
}

static void fic_op_free(struct fic_op *op)
{
    if (!op)
        return;
    free((char *)op->spec.identity_arm_id);
    free((char *)op->spec.name);
    free((char *)op->spec.issuer);
    free((char *)op->spec.subject);
    free((char *)op->spec.audience);
    free(op->body);
    for (size_t i = 0; i < op->n_have; i++)
        model_fic_free(&op->have[i]);
    free(op->have);
    free(op);
}

static void refresh_reset(struct azure *az)
{
    for (size_t i = 0; i < az->n_subs; i++)
        free(az->subs[i]);
    free(az->subs);
    az->subs = NULL;
    az->n_subs = 0;
    azure_cluster_free(&az->found);
    az->have_found = false;
    for (size_t i = 0; i < az->n_new_ids; i++)
        model_identity_free(&az->new_ids[i]);
    free(az->new_ids);
    az->new_ids = NULL;
    az->n_new_ids = az->cap_new_ids = 0;
    buf_reset(&az->stage_error);
    free(az->arm_fail);
    free(az->graph_fail);
    az->arm_fail = az->graph_fail = NULL;
    az->arm_fail_status = az->graph_fail_status = 0;
}

void azure_free(struct azure *az)
{
    if (!az)
        return;
    if (az->timer && az->io.timer_cancel)
        az->io.timer_cancel(az->io.ctx, az->timer);
    cred_free(az->cred); /* drops token waiters without calling them */
    while (az->inflight) {
        struct job *j = az->inflight;
        az->inflight = j->next;
        if (j->handle && az->io.http_cancel)
            az->io.http_cancel(az->io.ctx, j->handle);
        if (j->op && !j->refresh)
            fic_op_free(j->op);
        job_free(j);
    }
    for (size_t i = 0; i < az->qn; i++) {
        if (az->queue[i]->op)
            fic_op_free(az->queue[i]->op);
        job_free(az->queue[i]);
    }
    free(az->queue);
    refresh_reset(az);
    buf_free(&az->stage_error);
    azure_cluster_free(&az->cluster);
    for (size_t i = 0; i < az->n_ids; i++)
        ident_clear(&az->ids[i]);
    free(az->ids);
    for (size_t i = 0; i < az->n_apps; i++)
        ident_clear(&az->apps[i]);
    free(az->apps);
    for (size_t i = 0; i < az->n_referenced; i++)
        free(az->referenced[i]);
    free(az->referenced);
    free(az->cluster_error);
    free(az->cred_error);
    free(az->ids_error);
    free(az->config_error);
    free(az->arm);
    free(az->authority);
    free(az->graph);
    free(az->subscription);
    free(az->cluster_id);
    free(az->server_host);
    free(az->az_command);
    free(az);
}

void azure_get_stats(const struct azure *az, struct azure_stats *out)
{
    *out = az->stats;
}

bool azure_busy(const struct azure *az)
{
    return az->stage != ST_IDLE;
}

/* ---- referenced client ids ---- */

void azure_set_referenced(struct azure *az, const char *const *client_ids, size_t n)
{
    for (size_t i = 0; i < az->n_referenced; i++)
        free(az->referenced[i]);
    free(az->referenced);
    az->referenced = n ? xcalloc(n, sizeof *az->referenced) : NULL;
    az->n_referenced = 0;
    for (size_t i = 0; i < n; i++) {
        bool dup = false;
        for (size_t k = 0; k < az->n_referenced && !dup; k++)
            dup = strcasecmp(az->referenced[k], client_ids[i]) == 0;
        if (!dup && !str_empty(client_ids[i]))
            az->referenced[az->n_referenced++] = xstrdup(client_ids[i]);
    }
}

size_t azure_collect_client_ids(const struct store *s, char ***out)
{
    size_t n = 0, cap = 0;
    char **v = NULL;
    for (size_t i = 0; i < store_sa_count(s); i++) {
        const char *id = kv_get(&store_sa_at(s, i)->meta.annotations, WI_ANN_CLIENT_ID);
        if (!id)
            continue;
        while (*id == ' ' || *id == '\t')
            id++;
        size_t l = strlen(id);
        while (l > 0 && (id[l - 1] == ' ' || id[l - 1] == '\t' || id[l - 1] == '\n'))
            l--;
        if (l == 0)
            continue;
        bool dup = false;
        for (size_t k = 0; k < n && !dup; k++)
            dup = strlen(v[k]) == l && strncasecmp(v[k], id, l) == 0;
        if (dup)
            continue;
        xgrow((void **)&v, &cap, n + 2, sizeof *v);
        v[n++] = xstrndup(id, l);
    }
    if (!v)
        v = xcalloc(1, sizeof *v);
    v[n] = NULL;
    *out = v;
    return n;
}

/* ---- the queue ---- */

static void inflight_add(struct azure *az, struct job *j)
{
    j->prev = NULL;
    j->next = az->inflight;
    if (az->inflight)
        az->inflight->prev = j;
    az->inflight = j;
    az->n_inflight++;
}

static void inflight_del(struct azure *az, struct job *j)
{
    if (j->prev)
        j->prev->next = j->next;
    else
        az->inflight = j->next;
    if (j->next)
        j->next->prev = j->prev;
    j->next = j->prev = NULL;
    az->n_inflight--;
}

static void enqueue(struct azure *az, struct job *j, bool front)
{
    xgrow((void **)&az->queue, &az->qcap, az->qn + 1, sizeof *az->queue);
    if (front) {
        memmove(az->queue + 1, az->queue, az->qn * sizeof *az->queue);
        az->queue[0] = j;
    } else {
        az->queue[az->qn] = j;
    }
    az->qn++;
}

/* Queues a request; refresh jobs hold the current stage open until they are answered. */
static struct job *job_add(struct azure *az, const char *method, const char *url, bool graph,
                           bool refresh, job_fn fn, const char *what)
{
    struct job *j = xcalloc(1, sizeof *j);
    j->az = az;
    j->method = xstrdup(method);
    j->url = xstrdup(url);
    j->graph = graph;
    j->refresh = refresh;
    j->on_done = fn;
    j->what = xstrdup(what);
    if (refresh)
        az->stage_pending++;
    enqueue(az, j, false);
    return j;
}

static void on_fics(struct azure *az, struct job *j, const struct azure_http_response *r);

/* Remembers the first failure of a refresh per service, with its status. */
static void note_failure(struct azure *az, const struct job *j, const struct azure_http_response *r)
{
    if (!j->refresh || (r->status >= 200 && r->status < 300))
        return;
    if (j->on_done == on_fics && (r->status == 403 || r->status == 404))
        return;
    char **slot = j->graph ? &az->graph_fail : &az->arm_fail;
    if (*slot)
        return;
    char line[IDW_ERR_MAX];
    if (r->status == 0)
        snprintf(line, sizeof line, "%s: %s", j->what, r->error ? r->error : "no answer");
    else {
        char desc[IDW_ERR_MAX - 16];
        azure_describe_error(r->status, r->body, r->body_len, j->what, desc, sizeof desc);
        if (str_has_prefix(desc, "HTTP "))
            snprintf(line, sizeof line, "%s", desc);
        else
            snprintf(line, sizeof line, "HTTP %ld %s", r->status, desc);
    }
    *slot = xstrdup(line);
    if (j->graph)
        az->graph_fail_status = r->status;
    else
        az->arm_fail_status = r->status;
}

static void job_finish(struct azure *az, struct job *j, const struct azure_http_response *r)
{
    bool refresh = j->refresh;
    note_failure(az, j, r);
    j->on_done(az, j, r);
    job_free(j);
    if (refresh && --az->stage_pending == 0)
        stage_next(az);
}

static void on_timer(void *arg)
{
    struct azure *az = arg;
    az->timer = 0;
    pump(az);
}

/* Slows down when ARM says few reads are left in the bucket (reference §5). */
static void note_rate_limit(struct azure *az, const struct azure_http_response *r)
{
    char v[32];
    if (azure_header(r->headers, "x-ms-ratelimit-remaining-subscription-reads", v, sizeof v) != 0)
        return;
    long left = strtol(v, NULL, 10);
    az->pacing_ms = left < LOW_READS ? 1000 : left < FEW_READS ? 100 : 0;
}

static int64_t retry_after_ms(const struct azure_http_response *r, int attempt)
{
    int64_t s = r->retry_after;
    char v[64];
    if (s <= 0 && azure_header(r->headers, "Retry-After", v, sizeof v) == 0) {
        char *end;
        long x = strtol(v, &end, 10);
        if (end != v && x > 0)
            s = x;
    }
    if (s <= 0)
        s = (int64_t)1 << (attempt < 5 ? attempt : 5); /* no hint: 2, 4, 8... s */
    if (s > 600)
        s = 600;
    return s * 1000;
}

static void on_http(void *arg, const struct azure_http_response *r)
{
    struct job *j = arg;
    struct azure *az = j->az;
    j->handle = NULL;
    inflight_del(az, j);
    note_rate_limit(az, r);
    if (r->status == 429 && j->attempt + 1 < MAX_ATTEMPTS) {
        az->stats.throttled++;
        j->attempt++;
        int64_t until = now_ms(az) + retry_after_ms(r, j->attempt);
        if (until > az->paused_until_ms)
            az->paused_until_ms = until;
        enqueue(az, j, true);
        pump(az);
        return;
    }
    if (r->status == 429)
        az->stats.throttled++;
    job_finish(az, j, r);
    pump(az);
}

static void send_with_token(void *arg, const char *token, const char *error)
{
    struct job *j = arg;
    struct azure *az = j->az;
    j->waiting_token = false;
    struct azure_http_response fail = {.status = 0};
    if (!token) {
        fail.error = error;
        inflight_del(az, j);
        job_finish(az, j, &fail);
        pump(az);
        return;
    }
    char *auth = xasprintf("Authorization: Bearer %s", token);
    const char *hdrs[] = {auth, "Accept: application/json",
                          j->body ? "Content-Type: application/json" : NULL, NULL};
    struct azure_http_request req = {.method = j->method,
                                     .url = j->url,
                                     .headers = hdrs,
                                     .body = j->body,
                                     .body_len = j->body ? strlen(j->body) : 0};
    if (j->graph)
        az->stats.graph_requests++;
    else
        az->stats.arm_requests++;
    struct idw_err err = {{0}};
    int rc = az->io.http(az->io.ctx, &req, on_http, j, &j->handle, &err);
    memset(auth, 0, strlen(auth));
    free(auth);
    if (rc != 0) { /* refused before sending (read-only guard, bad URL) */
        fail.error = err.msg;
        inflight_del(az, j);
        job_finish(az, j, &fail);
        pump(az);
    }
}

static void pump(struct azure *az)
{
    while (az->qn > 0 && !az->timer) {
        int limit = az->pacing_ms > 0 ? 1 : az->max_in_flight;
        if (az->n_inflight >= limit)
            return;
        int64_t now = now_ms(az);
        int64_t wait = az->paused_until_ms - now;
        if (az->pacing_ms > 0 && az->last_sent_ms + az->pacing_ms - now > wait) {
            wait = az->last_sent_ms + az->pacing_ms - now;
            if (wait > 0)
                az->stats.slowdowns++;
        }
        if (wait > 0) {
            az->timer = az->io.timer_add(az->io.ctx, wait, on_timer, az);
            return;
        }
        struct job *j = az->queue[0];
        memmove(az->queue, az->queue + 1, (az->qn - 1) * sizeof *az->queue);
        az->qn--;
        az->last_sent_ms = now;
        inflight_add(az, j);
        j->waiting_token = true;
        cred_get(az->cred, j->graph ? CRED_SLOT_GRAPH : CRED_SLOT_ARM, send_with_token, j);
    }
}

/* A nextLink is followed only on the host it came from: the bearer token goes with it. */
static bool link_ok(const struct azure *az, const char *link, bool graph)
{
    const char *base = graph ? az->graph : az->arm;
    size_t n = strlen(base);
    return link && strncmp(link, base, n) == 0 && link[n] == '/';
}

static void add_sub(struct azure *az, const char *sub);

static void stage_fail(struct azure *az, const char *line)
{
    buf_printf(&az->stage_error, "%s%s", az->stage_error.len ? "; " : "", line);
}

/* ---- stage: cluster ---- */

static void cluster_consider(struct azure *az, struct azure_cluster *c)
{
    if (!az->have_found && azure_cluster_matches_host(c, az->server_host)) {
        az->found = *c;
        az->have_found = true;
        memset(c, 0, sizeof *c);
    }
}

static void on_cluster_get(struct azure *az, struct job *j, const struct azure_http_response *r)
{
    char line[IDW_ERR_MAX];
    if (r->status != 200) {
        if (r->status == 0)
            snprintf(line, sizeof line, "%s: %s", j->what, r->error ? r->error : "no answer");
        else
            azure_describe_error(r->status, r->body, r->body_len, j->what, line, sizeof line);
        stage_fail(az, line);
        return;
    }
    struct idw_err err;
    struct azure_cluster c;
    if (azure_parse_cluster(r->body, r->body_len, &c, &err) != 0) {
        snprintf(line, sizeof line, "unreadable answer from ARM (%s): %s", j->what, err.msg);
        stage_fail(az, line);
        return;
    }
    azure_cluster_free(&az->found);
    az->found = c;
    az->have_found = true;
}

static void on_cluster_list(struct azure *az, struct job *j, const struct azure_http_response *r)
{
    char line[IDW_ERR_MAX];
    if (r->status != 200) {
        if (r->status == 0)
            snprintf(line, sizeof line, "%s: %s", j->what, r->error ? r->error : "no answer");
        else
            azure_describe_error(r->status, r->body, r->body_len, j->what, line, sizeof line);
        stage_fail(az, line);
        return;
    }
    struct azure_cluster_page page;
    struct idw_err err;
    if (azure_parse_cluster_list(r->body, r->body_len, &page, &err) != 0) {
        snprintf(line, sizeof line, "unreadable answer from ARM (%s): %s", j->what, err.msg);
        stage_fail(az, line);
        return;
    }
    for (size_t i = 0; i < page.n; i++)
        cluster_consider(az, &page.items[i]);
    if (page.next_link && !az->have_found && j->pages + 1 < MAX_PAGES) {
        if (link_ok(az, page.next_link, false)) {
            struct job *k =
                job_add(az, "GET", page.next_link, false, true, on_cluster_list, j->what);
            k->pages = j->pages + 1;
        } else {
            stage_fail(az, "managedClusters nextLink points outside ARM: not followed");
        }
    }
    azure_cluster_page_free(&page);
}

static void list_clusters_in(struct azure *az, const char *sub)
{
    char *url = xasprintf("%s/subscriptions/%s/providers/Microsoft.ContainerService/"
                          "managedClusters?api-version=" API_CLUSTERS,
                          az->arm, sub);
    char *what = xasprintf("listing AKS clusters of subscription %s", sub);
    job_add(az, "GET", url, false, true, on_cluster_list, what);
    free(what);
    free(url);
}

/* Subscription ids go into URLs: GUID-ish characters only. */
static bool sub_valid(const char *s)
{
    if (str_empty(s) || strlen(s) > 64)
        return false;
    for (; *s; s++)
        if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
              *s == '-'))
            return false;
    return true;
}

static void on_subscriptions(struct azure *az, struct job *j, const struct azure_http_response *r)
{
    char line[IDW_ERR_MAX];
    if (r->status != 200) {
        if (r->status == 0)
            snprintf(line, sizeof line, "%s: %s", j->what, r->error ? r->error : "no answer");
        else
            azure_describe_error(r->status, r->body, r->body_len, j->what, line, sizeof line);
        stage_fail(az, line);
        return;
    }
    char **ids, *next = NULL;
    size_t n;
    struct idw_err err;
    if (azure_parse_subscription_list(r->body, r->body_len, &ids, &n, &next, &err) != 0) {
        snprintf(line, sizeof line, "unreadable answer from ARM (%s): %s", j->what, err.msg);
        stage_fail(az, line);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        if (sub_valid(ids[i])) {
            add_sub(az, ids[i]);
            list_clusters_in(az, ids[i]);
        }
        free(ids[i]);
    }
    free(ids);
    if (next && link_ok(az, next, false) && j->pages + 1 < MAX_PAGES) {
        struct job *k = job_add(az, "GET", next, false, true, on_subscriptions, j->what);
        k->pages = j->pages + 1;
    }
    free(next);
}

static void add_sub(struct azure *az, const char *sub)
{
    if (!sub_valid(sub))
        return;
    for (size_t i = 0; i < az->n_subs; i++)
        if (strcasecmp(az->subs[i], sub) == 0)
            return;
    az->subs = xrealloc(az->subs, (az->n_subs + 1) * sizeof *az->subs);
    az->subs[az->n_subs++] = xstrdup(sub);
}

static void stage_cluster(struct azure *az)
{
    if (az->have_cluster && now_ms(az) - az->cluster_ms < az->identities_ttl_ms)
        return;
    if (az->config_error) {
        stage_fail(az, az->config_error);
        return;
    }
    if (az->cluster_id) {
        char *url = xasprintf("%s%s?api-version=" API_CLUSTERS, az->arm, az->cluster_id);
        char *name = NULL;
        azure_arm_id_split(az->cluster_id, NULL, NULL, &name);
        char *what = xasprintf("reading AKS cluster %s", name ? name : "?");
        job_add(az, "GET", url, false, true, on_cluster_get, what);
        free(what);
        free(name);
        free(url);
        return;
    }
    if (str_empty(az->server_host)) {
        stage_fail(az, "no API server host to look for in ARM (give --cluster-id)");
        return;
    }
    const char *sub = az->subscription ? az->subscription : cred_cli_subscription(az->cred);
    if (sub) {
        /* a comma-separated --subscription list is allowed */
        char *copy = xstrdup(sub), *save = NULL;
        for (char *t = strtok_r(copy, ", ", &save); t; t = strtok_r(NULL, ", ", &save)) {
            if (!sub_valid(t)) {
                stage_fail(az, "--subscription is not a subscription id");
                continue;
            }
            add_sub(az, t);
            list_clusters_in(az, t);
        }
        free(copy);
        return;
    }
    char *url = xasprintf("%s/subscriptions?api-version=" API_SUBSCRIPTIONS, az->arm);
    job_add(az, "GET", url, false, true, on_subscriptions, "listing subscriptions");
    free(url);
}

static void cluster_done(struct azure *az)
{
    if (az->have_found) {
        azure_cluster_free(&az->cluster);
        az->cluster = az->found;
        memset(&az->found, 0, sizeof az->found);
        az->have_found = false;
        az->have_cluster = true;
        az->cluster_ms = now_ms(az);
        free(az->cluster_error);
        az->cluster_error = NULL;
        az->cluster_missing = false;
        return;
    }
    if (az->have_cluster && now_ms(az) - az->cluster_ms < az->identities_ttl_ms)
        return; /* cache still fresh: nothing was asked */
    free(az->cluster_error);
    az->cluster_missing = !az->stage_error.len;
    if (az->stage_error.len) {
        az->cluster_error = xstrdup(az->stage_error.data);
    } else {
        char host[256];
        str_sanitize(host, sizeof host, az->server_host ? az->server_host : "");
        struct idw_buf b = {0};
        for (size_t i = 0; i < az->n_subs; i++)
            buf_printf(&b, "%s%s", i ? ", " : "", az->subs[i]);
        az->cluster_error = xasprintf("no AKS cluster with API server host %s in subscription(s) "
                                      "%s",
                                      host, b.len ? b.data : "(none visible)");
        buf_free(&b);
    }
}

/* ---- stage: identities ---- */

static void on_identities(struct azure *az, struct job *j, const struct azure_http_response *r)
{
    char line[IDW_ERR_MAX];
    if (r->status != 200) {
        if (r->status == 0)
            snprintf(line, sizeof line, "%s: %s", j->what, r->error ? r->error : "no answer");
        else
            azure_describe_error(r->status, r->body, r->body_len, j->what, line, sizeof line);
        stage_fail(az, line);
        return;
    }
    struct azure_identity_page page;
    struct idw_err err;
    if (azure_parse_identity_list(r->body, r->body_len, &page, &err) != 0) {
        snprintf(line, sizeof line, "unreadable answer from ARM (%s): %s", j->what, err.msg);
        stage_fail(az, line);
        return;
    }
    xgrow((void **)&az->new_ids, &az->cap_new_ids, az->n_new_ids + page.n, sizeof *az->new_ids);
    if (page.n)
        memcpy(az->new_ids + az->n_new_ids, page.items, page.n * sizeof *page.items);
    az->n_new_ids += page.n;
    page.n = 0;
    if (page.next_link && j->pages + 1 < MAX_PAGES) {
        if (link_ok(az, page.next_link, false)) {
            struct job *k = job_add(az, "GET", page.next_link, false, true, on_identities, j->what);
            k->pages = j->pages + 1;
        } else {
            stage_fail(az, "userAssignedIdentities nextLink points outside ARM: not followed");
        }
    }
    azure_identity_page_free(&page);
}

static void stage_identities(struct azure *az)
{
    if (az->ids_listed && now_ms(az) - az->ids_ms < az->identities_ttl_ms)
        return;
    if (az->have_cluster)
        add_sub(az, az->cluster.subscription_id);
    if (az->subscription) {
        char *copy = xstrdup(az->subscription), *save = NULL;
        for (char *t = strtok_r(copy, ", ", &save); t; t = strtok_r(NULL, ", ", &save))
            add_sub(az, t);
        free(copy);
    }
    if (az->n_subs == 0) {
        stage_fail(az, "no subscription known to list managed identities in (give "
                       "--subscription)");
        return;
    }
    for (size_t i = 0; i < az->n_subs; i++) {
        char *url = xasprintf("%s/subscriptions/%s/providers/Microsoft.ManagedIdentity/"
                              "userAssignedIdentities?api-version=" API_MSI,
                              az->arm, az->subs[i]);
        char *what = xasprintf("listing managed identities of subscription %s", az->subs[i]);
        job_add(az, "GET", url, false, true, on_identities, what);
        free(what);
        free(url);
    }
}

static struct ident *ident_by_arm_id(struct ident *v, size_t n, const char *arm_id)
{
    for (size_t i = 0; i < n; i++)
        if (v[i].m.arm_id && arm_id && strcasecmp(v[i].m.arm_id, arm_id) == 0)
            return &v[i];
    return NULL;
}

static void identities_done(struct azure *az)
{
    if (az->ids_listed && now_ms(az) - az->ids_ms < az->identities_ttl_ms && !az->n_new_ids &&
        !az->stage_error.len)
        return; /* cache fresh, nothing asked */
    free(az->ids_error);
    az->ids_error = NULL;
    if (az->stage_error.len) {
        az->ids_error = xstrdup(az->stage_error.data); /* keep the old list, if any */
        for (size_t i = 0; i < az->n_new_ids; i++)
            model_identity_free(&az->new_ids[i]);
        az->n_new_ids = 0;
        return;
    }
    /* the new list replaces the old; credential lists carry over by ARM id */
    struct ident *ids = az->n_new_ids ? xcalloc(az->n_new_ids, sizeof *ids) : NULL;
    size_t n = 0;
    for (size_t i = 0; i < az->n_new_ids; i++) {
        if (ident_by_arm_id(ids, n, az->new_ids[i].arm_id)) { /* listed twice */
            model_identity_free(&az->new_ids[i]);
            continue;
        }
        struct ident *x = &ids[n++];
        x->m = az->new_ids[i];
        struct ident *old = ident_by_arm_id(az->ids, az->n_ids, x->m.arm_id);
        if (old) {
            x->m.fic_state = old->m.fic_state;
            x->m.fic_error = old->m.fic_error;
            x->m.fics = old->m.fics;
            x->m.n_fics = old->m.n_fics;
            x->m.fic_fetched = old->m.fic_fetched;
            x->fics_ms = old->fics_ms;
            old->m.fic_error = NULL;
            old->m.fics = NULL;
            old->m.n_fics = 0;
        }
    }
    for (size_t i = 0; i < az->n_ids; i++)
        ident_clear(&az->ids[i]);
    free(az->ids);
    az->ids = ids;
    az->n_ids = n;
    free(az->new_ids);
    az->new_ids = NULL;
    az->n_new_ids = az->cap_new_ids = 0;
    az->ids_listed = true;
    az->ids_ms = now_ms(az);
}

/* ---- stage: federated credentials ---- */

static struct ident *job_ident(struct azure *az, const struct job *j)
{
    if (j->index_app)
        return j->index < az->n_apps ? &az->apps[j->index] : NULL;
    return j->index < az->n_ids ? &az->ids[j->index] : NULL;
}

static void ident_set_error(struct ident *x, const char *line, int64_t now)
{
    for (size_t i = 0; i < x->m.n_fics; i++)
        model_fic_free(&x->m.fics[i]);
    free(x->m.fics);
    x->m.fics = NULL;
    x->m.n_fics = 0;
    free(x->m.fic_error);
    x->m.fic_error = xstrdup(line);
    x->m.fic_state = MODEL_AZ_ERROR;
    x->fics_ms = now;
}

static void acc_clear(struct ident *x)
{
    for (size_t i = 0; i < x->n_acc; i++)
        model_fic_free(&x->acc[i]);
    free(x->acc);
    x->acc = NULL;
    x->n_acc = x->cap_acc = 0;
}

static void on_fics(struct azure *az, struct job *j, const struct azure_http_response *r)
{
    struct ident *x = job_ident(az, j);
    if (!x)
        return;
    char line[IDW_ERR_MAX];
    int64_t now = now_ms(az);
    if (r->status != 200) {
        acc_clear(x);
        x->busy = false;
        if (j->graph && r->status == 404) {
            x->absent = true; /* not an app registration: the checks say identity-not-found */
            x->fics_ms = now;
            return;
        }
        if (j->graph && r->status == 403)
            snprintf(line, sizeof line, "no Graph permission (Application.Read.All)");
        else if (r->status == 0)
            snprintf(line, sizeof line, "%s: %s", j->what, r->error ? r->error : "no answer");
        else
            azure_describe_error(r->status, r->body, r->body_len, j->what, line, sizeof line);
        x->absent = false;
        ident_set_error(x, line, now);
        return;
    }
    struct azure_fic_page page;
    struct idw_err err;
    if (azure_parse_fic_list(r->body, r->body_len, &page, &err) != 0) {
        acc_clear(x);
        x->busy = false;
        snprintf(line, sizeof line, "unreadable answer (%s): %s", j->what, err.msg);
        ident_set_error(x, line, now);
        return;
    }
    xgrow((void **)&x->acc, &x->cap_acc, x->n_acc + page.n, sizeof *x->acc);
    if (page.n)
        memcpy(x->acc + x->n_acc, page.items, page.n * sizeof *page.items);
    x->n_acc += page.n;
    page.n = 0;
    if (page.next_link && j->pages + 1 < MAX_PAGES) {
        if (link_ok(az, page.next_link, j->graph)) {
            struct job *k = job_add(az, "GET", page.next_link, j->graph, true, on_fics, j->what);
            k->index = j->index;
            k->index_app = j->index_app;
            k->pages = j->pages + 1;
            azure_fic_page_free(&page);
            return;
        }
        acc_clear(x);
        x->busy = false;
        ident_set_error(x, "federated credentials nextLink points elsewhere: not followed", now);
        azure_fic_page_free(&page);
        return;
    }
    azure_fic_page_free(&page);
    for (size_t i = 0; i < x->m.n_fics; i++)
        model_fic_free(&x->m.fics[i]);
    free(x->m.fics);
    x->m.fics = x->acc;
    x->m.n_fics = x->n_acc;
    x->acc = NULL;
    x->n_acc = x->cap_acc = 0;
    free(x->m.fic_error);
    x->m.fic_error = NULL;
    x->m.fic_state = MODEL_AZ_OK;
    x->m.fic_fetched = now / 1000;
    x->fics_ms = now;
    x->absent = false;
    x->busy = false;
}

/* App ids go into a Graph URL: GUID characters only. */
static bool guid_like(const char *s)
{
    size_t n = strlen(s);
    if (n < 32 || n > 40)
        return false;
    for (; *s; s++)
        if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f') || (*s >= 'A' && *s <= 'F') ||
              *s == '-'))
            return false;
    return true;
}

static struct ident *ident_find_app(struct azure *az, const char *client_id, size_t *index)
{
    for (size_t i = 0; i < az->n_apps; i++)
        if (strcasecmp(az->apps[i].m.client_id, client_id) == 0) {
            *index = i;
            return &az->apps[i];
        }
    xgrow((void **)&az->apps, &az->cap_apps, az->n_apps + 1, sizeof *az->apps);
    struct ident *x = &az->apps[az->n_apps];
    memset(x, 0, sizeof *x);
    x->m.client_id = xstrdup(client_id);
    x->m.name = xstrdup(client_id);
    x->m.app_registration = true;
    x->m.fic_state = MODEL_AZ_UNKNOWN;
    *index = az->n_apps++;
    return x;
}

static void stage_fics(struct azure *az)
{
    if (!az->ids_listed)
        return; /* without the UAMI list nobody can tell a UAMI from an app registration */
    int64_t now = now_ms(az);
    for (size_t r = 0; r < az->n_referenced; r++) {
        const char *cid = az->referenced[r];
        size_t idx = SIZE_MAX;
        for (size_t i = 0; i < az->n_ids; i++)
            if (az->ids[i].m.client_id && strcasecmp(az->ids[i].m.client_id, cid) == 0) {
                idx = i;
                break;
            }
        struct ident *x;
        bool app = idx == SIZE_MAX;
        if (app) {
            if (!guid_like(cid))
                continue; /* not a client id at all: the checks will say so */
            x = ident_find_app(az, cid, &idx);
        } else {
            x = &az->ids[idx];
        }
        if (x->busy)
            continue; /* one request per identity per refresh */
        if (x->fics_ms && now - x->fics_ms < az->credentials_ttl_ms) {
            az->stats.cache_hits++;
            continue;
        }
        x->busy = true;
        char *url, *what;
        if (app) {
            url = xasprintf("%s/v1.0/applications(appId='%s')/federatedIdentityCredentials",
                            az->graph, cid);
            what = xasprintf("listing federated credentials of app registration %s", cid);
        } else {
            url = xasprintf("%s%s/federatedIdentityCredentials?api-version=" API_MSI, az->arm,
                            x->m.arm_id);
            char name[160];
            str_sanitize(name, sizeof name, x->m.name ? x->m.name : x->m.arm_id);
            what = xasprintf("listing federated credentials of identity %s", name);
        }
        struct job *j = job_add(az, "GET", url, app, true, on_fics, what);
        j->index = idx;
        j->index_app = app;
        free(url);
        free(what);
    }
}

/* ---- the model ---- */

static void fic_copy(struct model_fic *d, const struct model_fic *s)
{
    d->name = xstrdup(s->name);
    d->issuer = xstrdup(s->issuer);
    d->subject = xstrdup(s->subject);
    d->id = xstrdup(s->id);
    d->n_audiences = s->n_audiences;
    d->audiences = s->n_audiences ? xcalloc(s->n_audiences, sizeof *d->audiences) : NULL;
    for (size_t i = 0; i < s->n_audiences; i++)
        d->audiences[i] = xstrdup(s->audiences[i]);
}

static void identity_copy(struct model_identity *d, const struct model_identity *s)
{
    memset(d, 0, sizeof *d);
    d->arm_id = xstrdup(s->arm_id);
    d->name = xstrdup(s->name);
    d->resource_group = xstrdup(s->resource_group);
    d->subscription_id = xstrdup(s->subscription_id);
    d->client_id = xstrdup(s->client_id);
    d->principal_id = xstrdup(s->principal_id);
    d->tenant_id = xstrdup(s->tenant_id);
    d->location = xstrdup(s->location);
    d->app_registration = s->app_registration;
    d->fic_state = s->fic_state;
    d->fic_error = xstrdup(s->fic_error);
    d->fic_fetched = s->fic_fetched;
    d->n_fics = s->n_fics;
    d->fics = s->n_fics ? xcalloc(s->n_fics, sizeof *d->fics) : NULL;
    for (size_t i = 0; i < s->n_fics; i++)
        fic_copy(&d->fics[i], &s->fics[i]);
}

static void step_set(struct model_azure_step *st, enum model_azure_state state, const char *error,
                     long status)
{
    st->state = state;
    st->error = xstrdup(error);
    st->status = status;
}

static void build_model(struct azure *az, struct model_azure *m)
{
    memset(m, 0, sizeof *m);
    m->fetched = now_ms(az) / 1000;
    m->credential = xstrdup(cred_used(az->cred));
    if (az->cred_error) {
        m->state = MODEL_AZ_UNKNOWN;
        m->error = xstrdup(az->cred_error);
        m->identities_state = MODEL_AZ_UNKNOWN;
        step_set(&m->entra, MODEL_AZ_ERROR, az->cred_error, 0);
        return;
    }
    step_set(&m->entra, MODEL_AZ_OK, NULL, 0);
    m->cluster_not_found = az->cluster_error && az->cluster_missing;
    if (az->arm_fail)
        step_set(&m->arm, MODEL_AZ_ERROR, az->arm_fail, az->arm_fail_status);
    else if (az->config_error || (az->cluster_error && !m->cluster_not_found))
        step_set(&m->arm, MODEL_AZ_ERROR, az->config_error ? az->config_error : az->cluster_error,
                 0);
    else if (az->ids_error)
        step_set(&m->arm, MODEL_AZ_ERROR, az->ids_error, 0);
    else
        step_set(&m->arm, MODEL_AZ_OK, NULL, 0);
    if (az->graph_fail)
        step_set(&m->graph, MODEL_AZ_ERROR, az->graph_fail, az->graph_fail_status);
    else
        step_set(&m->graph, az->n_apps ? MODEL_AZ_OK : MODEL_AZ_UNKNOWN, NULL, 0);
    m->state = az->cluster_error ? MODEL_AZ_ERROR : MODEL_AZ_OK;
    m->error = xstrdup(az->cluster_error);
    if (az->have_cluster) {
        const struct azure_cluster *c = &az->cluster;
        m->cluster_arm_id = xstrdup(c->id);
        m->cluster_name = xstrdup(c->name);
        m->tenant_id = xstrdup(c->tenant_id);
        m->oidc_issuer_enabled = c->oidc_enabled;
        m->oidc_issuer_url = xstrdup(c->issuer_url);
        m->workload_identity_enabled = c->workload_identity_enabled;
        m->pod_identity_profile_enabled = c->pod_identity_enabled;
        m->n_managed_identities = c->n_pod_identities;
        m->managed_identities = c->n_pod_identities
                                    ? xcalloc(c->n_pod_identities, sizeof *m->managed_identities)
                                    : NULL;
        for (size_t i = 0; i < c->n_pod_identities; i++) {
            const struct model_managed_pod_identity *s = &c->pod_identities[i];
            struct model_managed_pod_identity *d = &m->managed_identities[i];
            d->name = xstrdup(s->name);
            d->namespace_ = xstrdup(s->namespace_);
            d->binding_selector = xstrdup(s->binding_selector);
            d->client_id = xstrdup(s->client_id);
            d->resource_id = xstrdup(s->resource_id);
            d->provisioning_state = xstrdup(s->provisioning_state);
        }
    }
    m->identities_state = az->ids_error    ? MODEL_AZ_ERROR
                          : az->ids_listed ? MODEL_AZ_OK
                                           : MODEL_AZ_UNKNOWN;
    m->identities_error = xstrdup(az->ids_error);
    size_t n = az->n_ids;
    for (size_t i = 0; i < az->n_apps; i++)
        n += !az->apps[i].absent && az->apps[i].fics_ms;
    m->identities = n ? xcalloc(n, sizeof *m->identities) : NULL;
    for (size_t i = 0; i < az->n_ids; i++)
        identity_copy(&m->identities[m->n_identities++], &az->ids[i].m);
    for (size_t i = 0; i < az->n_apps; i++)
        if (!az->apps[i].absent && az->apps[i].fics_ms)
            identity_copy(&m->identities[m->n_identities++], &az->apps[i].m);
}

/* ---- stage machine ---- */

static void on_arm_token(void *arg, const char *token, const char *error)
{
    struct azure *az = arg;
    free(az->cred_error);
    az->cred_error = token ? NULL : xstrdup(error ? error : "no token");
    az->stage_pending--;
    stage_next(az);
}

static void stage_next(struct azure *az)
{
    for (;;) {
        switch (az->stage) {
        case ST_IDLE:
        case ST_DONE: return;
        case ST_TOKEN:
            if (az->cred_error) {
                az->stage = ST_DONE;
                break;
            }
            az->stage = ST_CLUSTER;
            buf_reset(&az->stage_error);
            stage_cluster(az);
            break;
        case ST_CLUSTER:
            cluster_done(az);
            az->stage = ST_IDENTITIES;
            buf_reset(&az->stage_error);
            stage_identities(az);
            break;
        case ST_IDENTITIES:
            identities_done(az);
            az->stage = ST_FICS;
            buf_reset(&az->stage_error);
            stage_fics(az);
            break;
        case ST_FICS: az->stage = ST_DONE; break;
        }
        if (az->stage == ST_DONE) {
            struct model_azure m;
            build_model(az, &m);
            refresh_reset(az);
            az->stage = ST_IDLE;
            az->done(az->done_arg, &m);
            return;
        }
        if (az->stage_pending > 0) {
            pump(az);
            return;
        }
    }
}

int azure_refresh(struct azure *az, azure_done_fn done, void *arg, struct idw_err *err)
{
    if (az->stage != ST_IDLE)
        return idw_err_set(err, "an Azure refresh is already running");
    az->done = done;
    az->done_arg = arg;
    az->stage = ST_TOKEN;
    az->stage_pending = 1; /* the token */
    cred_get(az->cred, CRED_SLOT_ARM, on_arm_token, az);
    return 0;
}

/* ---- creating a federated credential ---- */

static void fic_op_finish(struct fic_op *op, int rc, const char *msg)
{
    struct idw_err e = {{0}};
    if (msg)
        snprintf(e.msg, sizeof e.msg, "%s", msg);
    op->done(op->arg, rc, rc ? &e : NULL);
    fic_op_free(op);
}

static void on_fic_put(struct azure *az, struct job *j, const struct azure_http_response *r)
{
    struct fic_op *op = j->op;
    j->op = NULL;
    char line[IDW_ERR_MAX];
    if (r->status == 200 || r->status == 201) {
        /* the next refresh lists this identity's credentials again */
        struct ident *x = ident_by_arm_id(az->ids, az->n_ids, op->spec.identity_arm_id);
        if (x)
            x->fics_ms = 0;
        fic_op_finish(op, 0, NULL);
        return;
    }
    if (r->status == 0)
        snprintf(line, sizeof line, "%s: %s", j->what, r->error ? r->error : "not sent");
    else
        azure_describe_error(r->status, r->body, r->body_len, j->what, line, sizeof line);
    fic_op_finish(op, -1, line);
}

static void on_fic_precheck(struct azure *az, struct job *j, const struct azure_http_response *r)
{
    struct fic_op *op = j->op;
    j->op = NULL;
    char line[IDW_ERR_MAX];
    if (r->status != 200) {
        if (r->status == 0)
            snprintf(line, sizeof line, "%s: %s", j->what, r->error ? r->error : "no answer");
        else
            azure_describe_error(r->status, r->body, r->body_len, j->what, line, sizeof line);
        fic_op_finish(op, -1, line);
        return;
    }
    struct azure_fic_page page;
    struct idw_err err;
    if (azure_parse_fic_list(r->body, r->body_len, &page, &err) != 0) {
        snprintf(line, sizeof line, "unreadable answer (%s): %s", j->what, err.msg);
        fic_op_finish(op, -1, line);
        return;
    }
    xgrow((void **)&op->have, &op->cap_have, op->n_have + page.n, sizeof *op->have);
    if (page.n)
        memcpy(op->have + op->n_have, page.items, page.n * sizeof *page.items);
    op->n_have += page.n;
    page.n = 0;
    if (page.next_link && link_ok(az, page.next_link, false) && j->pages + 1 < 50) {
        struct job *k = job_add(az, "GET", page.next_link, false, false, on_fic_precheck, j->what);
        k->op = op;
        k->pages = j->pages + 1;
        azure_fic_page_free(&page);
        return;
    }
    azure_fic_page_free(&page);
    char name[160];
    str_sanitize(name, sizeof name, op->spec.identity_arm_id);
    if (op->n_have >= AZURE_FIC_MAX) {
        snprintf(line, sizeof line,
                 "identity %s already has %zu federated credentials (the limit is %d)", name,
                 op->n_have, AZURE_FIC_MAX);
        fic_op_finish(op, -1, line);
        return;
    }
    for (size_t i = 0; i < op->n_have; i++) {
        const struct model_fic *f = &op->have[i];
        char fn[160];
        str_sanitize(fn, sizeof fn, f->name);
        if (f->name && strcasecmp(f->name, op->spec.name) == 0) {
            snprintf(line, sizeof line, "a federated credential named %s already exists on %s", fn,
                     name);
            fic_op_finish(op, -1, line);
            return;
        }
        if (str_eq(f->issuer, op->spec.issuer) && str_eq(f->subject, op->spec.subject)) {
            snprintf(line, sizeof line,
                     "federated credential %s on %s already has this issuer and subject", fn, name);
            fic_op_finish(op, -1, line);
            return;
        }
    }
    char *url = xasprintf("%s%s/federatedIdentityCredentials/%s?api-version=" API_MSI, az->arm,
                          op->spec.identity_arm_id, op->spec.name);
    char *what = xasprintf("creating federated credential %s on %s", op->spec.name, name);
    struct job *k = job_add(az, "PUT", url, false, false, on_fic_put, what);
    k->body = xstrdup(op->body);
    k->op = op;
    free(what);
    free(url);
}

static bool contains_ci(const char *s, const char *needle)
{
    size_t n = strlen(needle);
    for (; *s; s++)
        if (strncasecmp(s, needle, n) == 0)
            return true;
    return false;
}

static bool identity_id_valid(const char *id)
{
    return id && str_has_prefix(id, "/subscriptions/") && !strpbrk(id, "?#% \t\r\n") &&
           !strstr(id, "..") &&
           contains_ci(id, "/providers/Microsoft.ManagedIdentity/"
                           "userAssignedIdentities/") &&
           azure_arm_id_split(id, NULL, NULL, NULL) == 0;
}

int azure_fic_create(struct azure *az, const struct azure_fic_spec *spec, azure_fic_done done,
                     void *arg, struct idw_err *err)
{
    if (!azure_fic_name_valid(spec->name))
        return idw_err_set(err, "federated credential name must be 3-120 characters: letters, "
                                "digits, '-' and '_', starting with a letter or digit");
    if (!identity_id_valid(spec->identity_arm_id))
        return idw_err_set(err, "not a user-assigned identity resource id");
    if (str_empty(spec->issuer) || !str_has_prefix(spec->issuer, "https://") ||
        strlen(spec->issuer) > 600)
        return idw_err_set(err, "the issuer must be an https URL of at most 600 characters");
    if (str_empty(spec->subject) || strlen(spec->subject) > 600)
        return idw_err_set(err, "the subject must be 1-600 characters");
    const char *aud = spec->audience ? spec->audience : WI_AUDIENCE;
    if (str_empty(aud) || strlen(aud) > 600)
        return idw_err_set(err, "the audience must be 1-600 characters");
    struct fic_op *op = xcalloc(1, sizeof *op);
    op->spec.identity_arm_id = xstrdup(spec->identity_arm_id);
    op->spec.name = xstrdup(spec->name);
    op->spec.issuer = xstrdup(spec->issuer);
    op->spec.subject = xstrdup(spec->subject);
    op->spec.audience = xstrdup(aud);
    op->done = done;
    op->arg = arg;
    cJSON *root = cJSON_CreateObject();
    cJSON *props = cJSON_AddObjectToObject(root, "properties");
    cJSON_AddStringToObject(props, "issuer", spec->issuer);
    cJSON_AddStringToObject(props, "subject", spec->subject);
    cJSON *auds = cJSON_AddArrayToObject(props, "audiences");
    cJSON_AddItemToArray(auds, cJSON_CreateString(aud));
    char *body = cJSON_PrintUnformatted(root);
    op->body = xstrdup(body);
    cJSON_free(body);
    cJSON_Delete(root);
    /* a fresh list first: the limit and duplicates are checked before anything is written */
    char *url = xasprintf("%s%s/federatedIdentityCredentials?api-version=" API_MSI, az->arm,
                          spec->identity_arm_id);
    char name[160];
    str_sanitize(name, sizeof name, spec->identity_arm_id);
    char *what = xasprintf("listing federated credentials of %s", name);
    struct job *j = job_add(az, "GET", url, false, false, on_fic_precheck, what);
    j->op = op;
    free(what);
    free(url);
    pump(az);
    return 0;
}
