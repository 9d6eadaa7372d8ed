/* One cluster connection: wires kube, azure, oidc and check together on the net loop. */
#include <stdlib.h>
#include <string.h>

#include <stdio.h>

#include "idwatch/azure.h"
#include "idwatch/oidc.h"
#include "idwatch/selector.h"
#include "idwatch/session.h"

enum { SESSION_ACTIVITY_MS = 3000 }; /* NMI traffic alone re-checks at most this often */

/* A GET against the API server for the OIDC check, through the kube client's transport. */
struct kube_get {
    struct session *s;
    struct kube_get *prev, *next; /* outstanding GETs: kube_client_free drops them silently */
    oidc_get_done done;
    void *arg;
};

struct session {
    const struct app_options *opt;
    bool one_shot;
    struct kubeconfig_resolved cfg;
    struct net *net;
    struct store *store;
    struct kube_client *kube;
    struct check_result *checks;
    struct check_options check_opt;
    struct selector scope_sel;
    bool have_scope_sel;
    uint64_t checked_store_version;
    uint64_t shown_version;

    bool azure_on;
    struct azure_io azio;
    bool azio_made;
    struct azure *az;
    bool azure_running;
    bool azure_done_once;
    int64_t azure_next_ms;

    struct kube_get *kube_gets;
    struct oidc_https *https;
    struct oidc_check *oidc;
    int64_t next_recheck_ms; /* verdicts age with the clock (log window, coverage) */
    int64_t last_check_ms;   /* when the checks last ran (dashboard: bursts are coalesced) */
    bool nmi_pending;        /* NMI requests moved; activity is checked again at nmi_next_ms */
    int64_t nmi_next_ms;
    bool oidc_running;
    bool oidc_done_once;
    int64_t oidc_next_ms;
};

static char *url_host(const char *url)
{
    const char *p = strstr(url, "://");
    p = p ? p + 3 : url;
    size_t n = strcspn(p, "/");
    char *host = xstrndup(p, n);
    if (host[0] == '[') { /* [v6]:port */
        char *end = strchr(host, ']');
        if (end)
            end[1] = '\0';
        return host;
    }
    char *colon = strrchr(host, ':');
    if (colon)
        *colon = '\0';
    return host;
}

static void kube_get_unlink(struct kube_get *g)
{
    if (g->prev)
        g->prev->next = g->next;
    else
        g->s->kube_gets = g->next;
    if (g->next)
        g->next->prev = g->prev;
}

static void kube_get_done(void *ctx, const struct kube_result *r)
{
    struct kube_get *g = ctx;
    kube_get_unlink(g);
    struct oidc_response resp = {
        .status = r->status,
        .body = r->body,
        .len = r->body_len,
        .error = r->status == 0 ? r->message : NULL,
    };
    g->done(g->arg, &resp);
    free(g);
}

static int kube_get(void *ctx, const char *url, oidc_get_done done, void *arg, void **handle,
                    struct idw_err *err)
{
    struct session *s = ctx;
    struct kube_get *g = xcalloc(1, sizeof *g);
    g->s = s;
    g->done = done;
    g->arg = arg;
    g->next = s->kube_gets;
    if (g->next)
        g->next->prev = g;
    s->kube_gets = g;
    *handle = NULL;
    if (kube_request(s->kube, "GET", url, NULL, NULL, 0, kube_get_done, g, err) != 0) {
        kube_get_unlink(g);
        free(g);
        return -1;
    }
    return 0;
}

/* Azure and the OIDC issuer as data sources, next to the Kubernetes lists and NMI logs. */
static void source_put(struct session *s, const char *name, enum store_source_state st,
                       const char *error, const char *note)
{
    struct store_source *src = store_source(s->store, name);
    int64_t now = time_now();
    if (st == STORE_SRC_SYNCED) {
        src->last_success = now;
        src->synced_at = now;
    }
    if (error && strcmp(src->error, error) != 0)
        src->error_since = now;
    snprintf(src->error, sizeof src->error, "%s", error ? error : "");
    snprintf(src->note, sizeof src->note, "%s", note ? note : "");
    src->state = st;
    store_source_changed(s->store);
}

static enum store_source_state step_source_state(const struct model_azure_step *st)
{
    switch (st->state) {
    case MODEL_AZ_OK: return STORE_SRC_SYNCED;
    case MODEL_AZ_ERROR: return st->status == 403 ? STORE_SRC_FORBIDDEN : STORE_SRC_ERROR;
    case MODEL_AZ_LOADING: return STORE_SRC_LISTING;
    case MODEL_AZ_UNKNOWN: break;
    }
    return STORE_SRC_IDLE;
}

static void azure_sources(struct session *s, const struct model_azure *m)
{
    if (m->skipped) {
        source_put(s, "azure-entra", STORE_SRC_SKIPPED, NULL, "--no-azure");
        source_put(s, "azure-arm", STORE_SRC_SKIPPED, NULL, "--no-azure");
        return;
    }
    char note[192];
    snprintf(note, sizeof note, "credential %s", m->credential ? m->credential : "?");
    source_put(s, "azure-entra", step_source_state(&m->entra), m->entra.error,
               m->entra.state == MODEL_AZ_OK ? note : NULL);
    if (m->entra.state == MODEL_AZ_ERROR) {
        source_put(s, "azure-arm", STORE_SRC_SKIPPED, NULL, "no Azure token");
        return;
    }
    snprintf(note, sizeof note, "%zu identities%s%s", m->n_identities,
             m->cluster_name ? ", cluster " : "", m->cluster_name ? m->cluster_name : "");
    source_put(s, "azure-arm", step_source_state(&m->arm), m->arm.error,
               m->cluster_not_found ? m->error : note);
    if (m->graph.state != MODEL_AZ_UNKNOWN || store_source_find(s->store, "azure-graph"))
        source_put(s, "azure-graph", step_source_state(&m->graph), m->graph.error, NULL);
}

static void on_oidc(void *arg, struct model_oidc *result)
{
    struct session *s = arg;
    static const enum store_source_state states[] = {
        [MODEL_OIDC_UNKNOWN] = STORE_SRC_ERROR,     [MODEL_OIDC_OK] = STORE_SRC_SYNCED,
        [MODEL_OIDC_DISABLED] = STORE_SRC_SYNCED,   [MODEL_OIDC_UNREACHABLE] = STORE_SRC_ERROR,
        [MODEL_OIDC_KEYS_MISMATCH] = STORE_SRC_SYNCED};
    enum store_source_state st =
        (unsigned)result->status <= MODEL_OIDC_KEYS_MISMATCH ? states[result->status]
                                                             : STORE_SRC_ERROR;
    source_put(s, "oidc-issuer", st, st == STORE_SRC_ERROR ? result->detail : NULL,
               st == STORE_SRC_SYNCED ? result->cluster_issuer : NULL);
    store_set_oidc(s->store, result);
    s->oidc_running = false;
    s->oidc_done_once = true;
    s->oidc_next_ms = time_now_ms() + s->opt->interval * 1000;
}

static void start_oidc(struct session *s)
{
    if (s->oidc_running)
        return;
    oidc_check_free(s->oidc);
    s->oidc = NULL;
    const struct model_azure *az = store_azure(s->store);
    struct oidc_check_config c = {
        .kube_get = kube_get,
        .kube_ctx = s,
        .https_get = s->https ? oidc_https_get : NULL,
        .https_cancel = s->https ? oidc_https_cancel : NULL,
        .https_ctx = s->https,
        .arm_enabled = az->state == MODEL_AZ_OK ? (az->oidc_issuer_enabled ? 1 : 0) : -1,
        .arm_issuer = az->state == MODEL_AZ_OK ? az->oidc_issuer_url : NULL,
    };
    struct idw_err err;
    s->oidc_running = true;
    if (oidc_check_start(&c, on_oidc, s, &s->oidc, &err) != 0) {
        s->oidc_running = false;
        struct model_oidc o = {.status = MODEL_OIDC_UNKNOWN, .detail = xstrdup(err.msg)};
        store_set_oidc(s->store, &o);
        s->oidc_done_once = true;
        s->oidc_next_ms = time_now_ms() + s->opt->interval * 1000;
    }
}

static void on_azure(void *arg, struct model_azure *m)
{
    struct session *s = arg;
    azure_sources(s, m);
    store_set_azure(s->store, m);
    s->azure_running = false;
    s->azure_done_once = true;
    s->azure_next_ms = time_now_ms() + s->opt->interval * 1000;
    /* The OIDC check compares with what ARM says: run it once ARM has answered. */
    start_oidc(s);
}

static void start_azure(struct session *s)
{
    if (!s->azure_on || s->azure_running)
        return;
    char **ids = NULL;
    size_t n = azure_collect_client_ids(s->store, &ids);
    azure_set_referenced(s->az, (const char *const *)ids, n);
    azure_strv_free(ids);
    struct idw_err err;
    s->azure_running = true;
    if (azure_refresh(s->az, on_azure, s, &err) != 0)
        s->azure_running = false; /* one is already under way: its answer will do */
}

static void set_azure_off(struct session *s, const char *why)
{
    struct model_azure a = {.state = MODEL_AZ_UNKNOWN, .error = xstrdup(why),
                            .identities_state = MODEL_AZ_UNKNOWN, .skipped = true};
    azure_sources(s, &a);
    store_set_azure(s->store, &a);
    s->azure_done_once = true;
}

int session_open(const struct app_options *opt, const struct kubeconfig *kc, const char *context,
                 struct net *net, bool one_shot, struct session **out, struct idw_err *err)
{
    struct session *s = xcalloc(1, sizeof *s);
    s->opt = opt;
    s->one_shot = one_shot;
    s->net = net;
    if (kubeconfig_resolve(kc, context ? context : opt->context, &s->cfg, err) != 0) {
        free(s);
        return -1;
    }
    s->store = store_new();
    s->checks = check_new();
    s->check_opt.window_seconds = opt->log_window;
    s->check_opt.scope_namespace = opt->namespace_;
    if (!str_empty(opt->selector)) {
        struct idw_err serr;
        if (selector_parse(opt->selector, &s->scope_sel, &serr) != 0) {
            idw_err_set(err, "-l/--selector: %s", serr.msg);
            goto fail;
        }
        s->have_scope_sel = true;
        s->check_opt.scope_selector = &s->scope_sel;
        s->check_opt.scope_selector_text = opt->selector;
    }

    struct kube_client_config kcfg = {
        .cfg = &s->cfg,
        .net = net,
        .store = s->store,
        .namespace_ = opt->namespace_,
        .log_window = opt->log_window,
        .one_shot = one_shot,
    };
    if (kube_client_new(&kcfg, &s->kube, err) != 0)
        goto fail;

    if (oidc_https_new(net, opt->ca_file, &s->https, err) != 0)
        goto fail;

    if (opt->no_azure) {
        set_azure_off(s, "Azure skipped (--no-azure)");
    } else {
        if (azure_io_net_new(net, opt->ca_file, &s->azio, err) != 0)
            goto fail;
        s->azio_made = true;
        char *host = url_host(s->cfg.server);
        struct azure_config acfg = {
            .cloud = opt->cloud,
            .arm_endpoint = opt->arm_endpoint,
            .authority_host = opt->authority_host,
            .subscription = opt->subscription,
            .cluster_id = opt->cluster_id,
            .server_host = host,
            .identities_ttl = opt->interval > 300 ? opt->interval : 0,
            .credentials_ttl = opt->interval > 60 ? opt->interval : 0,
        };
        int rc = azure_new(&acfg, &s->azio, &s->az, err);
        free(host);
        if (rc != 0)
            goto fail;
        s->azure_on = true;
    }
    *out = s;
    return 0;
fail:
    session_close(s);
    return -1;
}

void session_start(struct session *s)
{
    kube_client_start(s->kube);
}

void session_close(struct session *s)
{
    if (!s)
        return;
    oidc_check_free(s->oidc);
    azure_free(s->az);
    if (s->azio_made)
        azure_io_net_free(&s->azio);
    kube_client_free(s->kube);
    while (s->kube_gets) { /* their callbacks will never run now */
        struct kube_get *g = s->kube_gets;
        kube_get_unlink(g);
        free(g);
    }
    oidc_https_free(s->https);
    check_free(s->checks);
    store_free(s->store);
    kubeconfig_resolved_free(&s->cfg);
    if (s->have_scope_sel)
        selector_free(&s->scope_sel);
    free(s);
}

bool session_tick(struct session *s)
{
    bool synced = kube_client_done(s->kube);
    int64_t now = time_now_ms();
    if (synced) {
        if (s->azure_on && !s->azure_running &&
            (!s->azure_done_once || (!s->one_shot && now >= s->azure_next_ms)))
            start_azure(s);
        if (!s->azure_on && !s->oidc_running &&
            (!s->oidc_done_once || (!s->one_shot && now >= s->oidc_next_ms)))
            start_oidc(s);
    }
    if (now >= s->next_recheck_ms) {
        /* Requests leave the window and logs cover more of it as time passes, with or without
         * news from the cluster: re-check, and drop requests older than the window. */
        s->next_recheck_ms = now + 30000;
        if (s->checked_store_version) {
            store_prune_nmi(s->store, now / 1000 - s->opt->log_window - 60);
            store_source_changed(s->store);
        }
    }
    uint64_t v = store_version(s->store);
    bool nmi_due = s->nmi_pending && now >= s->nmi_next_ms;
    if (v == s->checked_store_version && !nmi_due)
        return false;
    /* A report checks once, when everything is read. The dashboard coalesces bursts (pages,
     * log lines): at most one run per 250 ms, and never more than a fifth of the time. */
    if (s->one_shot && !session_done(s))
        return false;
    if (!s->one_shot) {
        int64_t gap = s->checks->last_run_ms * 4;
        if (gap < 250)
            gap = 250;
        if (now - s->last_check_ms < gap)
            return false;
        s->last_check_ms = now;
    }
    const struct model_workload *const *dirty = NULL;
    bool all = false;
    size_t n = store_take_dirty(s->store, &dirty, &all);
    bool nmi = store_take_nmi_dirty(s->store) || s->nmi_pending;
    s->nmi_pending = false;
    if (s->checked_store_version == 0)
        all = true;
    bool ran = all || n;
    if (ran)
        check_update(s->checks, s->store, dirty, n, all, &s->check_opt);
    if (nmi && !all) { /* (a full run counted the requests already) */
        /* Pod identity traffic comes line by line from every NMI pod: its verdicts (still
         * requesting, safe to remove) move at most every few seconds, not with each line. */
        if (!s->one_shot && now < s->nmi_next_ms) {
            s->nmi_pending = true;
        } else {
            check_update_activity(s->checks, s->store, &s->check_opt);
            s->nmi_next_ms = now + SESSION_ACTIVITY_MS;
            ran = true;
        }
    }
    s->checked_store_version = v;
    return ran;
}

void session_give_up_azure(struct session *s, const char *why)
{
    if (!s->azure_on || !s->azure_running)
        return;
    struct azure_stats st;
    azure_get_stats(s->az, &st);
    azure_free(s->az); /* cancels what is outstanding: no callback will come */
    s->az = NULL;
    s->azure_on = false;
    s->azure_running = false;
    char line[IDW_ERR_MAX];
    snprintf(line, sizeof line, "%s (%llu ARM requests, %llu answered 429)", why,
             (unsigned long long)st.arm_requests, (unsigned long long)st.throttled);
    struct model_azure a = {.state = MODEL_AZ_ERROR,
                            .error = xstrdup(line),
                            .identities_state = MODEL_AZ_ERROR,
                            .identities_error = xstrdup(line),
                            .fetched = time_now(),
                            .entra = {.state = MODEL_AZ_OK},
                            .arm = {.state = MODEL_AZ_ERROR, .error = xstrdup(line),
                                    .status = st.throttled ? 429 : 0}};
    azure_sources(s, &a);
    store_set_azure(s->store, &a);
    s->azure_done_once = true;
    start_oidc(s);
}

bool session_azure_pending(const struct session *s)
{
    return s->azure_on && (s->azure_running || !s->azure_done_once);
}

void session_refresh(struct session *s)
{
    kube_client_refresh(s->kube); /* a hung API server shows as an error within seconds */
    if (s->azure_on)
        start_azure(s);
    else
        start_oidc(s);
}

bool session_done(const struct session *s)
{
    return kube_client_done(s->kube) && s->azure_done_once && s->oidc_done_once &&
           !s->azure_running && !s->oidc_running;
}

const char *session_fatal(const struct session *s)
{
    return kube_client_fatal(s->kube);
}

struct store *session_store(struct session *s)
{
    return s->store;
}

const struct check_result *session_checks(const struct session *s)
{
    return s->checks;
}

struct kube_client *session_kube(struct session *s)
{
    return s->kube;
}

struct azure *session_azure(struct session *s)
{
    return s->az;
}

const struct kubeconfig_resolved *session_config(const struct session *s)
{
    return &s->cfg;
}

uint64_t session_version(const struct session *s)
{
    return store_version(s->store) ^ (s->checks->version << 32);
}
