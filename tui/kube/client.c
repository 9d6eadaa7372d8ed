/* kube client engine: authenticated requests, paged lists, watches, re-lists, into the store. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <uthash.h>

#include "client_int.h"

#define ACCEPT_JSON "application/json"
#define ACCEPT_META_LIST                                                                           \
    "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json"
#define ACCEPT_META_WATCH                                                                          \
    "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json"
#define LIST_TIMEOUT_MS 30000 /* one page; a hung server must show as an error soon */
#define WATCH_STALL_S 150     /* 2x the ~60 s between an API server's bookmarks, plus slack */
#define PROBE_TIMEOUT_MS 10000
#define FORBIDDEN_RETRY_MS 300000
#define BACKOFF_BASE_MS 1000
#define BACKOFF_CAP_MS 30000
#define ONESHOT_MAX_FAILURES 3
#define AADPODID_GROUP "aadpodidentity.k8s.io"

#define ACCEPT_TABLE "application/json;as=Table;g=meta.k8s.io;v=v1,application/json"

/* What the engine lists and watches: every kind cluster-wide. Pods come from disjoint sources,
 * split by label so that each pod is fetched once and in full only where its spec matters:
 *   - pods labelled for workload identity, or for pod identity (not both: no overlap), in full
 *     (containers, env, token volumes are what projection checks read);
 *   - NMI pods (by the labels of the Helm and YAML installs and the AKS add-on) in full: their
 *     container and start time decide how their logs are read;
 *   - every other pod as a Table row (PartialObjectMetadata + the `-o wide` cells): owners and
 *     labels for the workload links, the IP and node NMI logs are attributed by, the phase.
 * A full object of an NMI pod wins over its Table row (presence bits, src_apply).
 *
 * Measured (tests/bench/scale.sh; RESULTS.md has the figures and the machine's load). */
#define POD_PLAIN_SELECTOR "!" WI_LABEL_USE ",!" PI_LABEL_BINDING
#define POD_PI_SELECTOR PI_LABEL_BINDING ",!" WI_LABEL_USE

enum ksrc_form {
    KFORM_FULL,  /* the objects as the API serves them */
    KFORM_META,  /* PartialObjectMetadata: labels, annotations, owners */
    KFORM_TABLE, /* Table rows with metadata objects (pods: IP, node, status) */
};

#define KUBE_SOURCES(X)                                                                            \
    /* id, store source name, API prefix, plural, decode type, form, namespaced, label selector,   \
     * API group that may be absent */                                                             \
    X(NAMESPACES, "namespaces", "/api/v1", "namespaces", DECODE_NAMESPACE, KFORM_META, false,      \
      NULL, NULL)                                                                                  \
    X(SERVICEACCOUNTS, "serviceaccounts", "/api/v1", "serviceaccounts", DECODE_SERVICEACCOUNT,     \
      KFORM_META, true, NULL, NULL)                                                                \
    X(DEPLOYMENTS, "deployments", "/apis/apps/v1", "deployments", DECODE_DEPLOYMENT, KFORM_FULL,   \
      true, NULL, NULL)                                                                            \
    X(STATEFULSETS, "statefulsets", "/apis/apps/v1", "statefulsets", DECODE_STATEFULSET,           \
      KFORM_FULL, true, NULL, NULL)                                                                \
    X(DAEMONSETS, "daemonsets", "/apis/apps/v1", "daemonsets", DECODE_DAEMONSET, KFORM_FULL, true, \
      NULL, NULL)                                                                                  \
    X(CRONJOBS, "cronjobs", "/apis/batch/v1", "cronjobs", DECODE_CRONJOB, KFORM_FULL, true, NULL,  \
      NULL)                                                                                        \
    X(REPLICASETS, "replicasets", "/apis/apps/v1", "replicasets", DECODE_REPLICASET, KFORM_META,   \
      true, NULL, NULL)                                                                            \
    X(JOBS, "jobs", "/apis/batch/v1", "jobs", DECODE_JOB, KFORM_META, true, NULL, NULL)            \
    X(MWCS, "mutatingwebhookconfigurations", "/apis/admissionregistration.k8s.io/v1",              \
      "mutatingwebhookconfigurations", DECODE_MWC, KFORM_FULL, false, NULL, NULL)                  \
    X(AZIDS, "azureidentities", "/apis/" AADPODID_GROUP "/v1", "azureidentities", DECODE_AZID,     \
      KFORM_FULL, true, NULL, AADPODID_GROUP)                                                      \
    X(AZBINDINGS, "azureidentitybindings", "/apis/" AADPODID_GROUP "/v1", "azureidentitybindings", \
      DECODE_AZBINDING, KFORM_FULL, true, NULL, AADPODID_GROUP)                                    \
    X(AZASSIGNED, "azureassignedidentities", "/apis/" AADPODID_GROUP "/v1",                        \
      "azureassignedidentities", DECODE_AZASSIGNED, KFORM_FULL, true, NULL, AADPODID_GROUP)       \
    X(AZEXCEPTIONS, "azurepodidentityexceptions", "/apis/" AADPODID_GROUP "/v1",                   \
      "azurepodidentityexceptions", DECODE_AZEXCEPTION, KFORM_FULL, true, NULL, AADPODID_GROUP)    \
    X(PODS, "pods", "/api/v1", "pods", DECODE_POD, KFORM_TABLE, true, POD_PLAIN_SELECTOR, NULL)    \
    X(PODS_WI, "pods-workload-identity", "/api/v1", "pods", DECODE_POD, KFORM_FULL, true,          \
      WI_LABEL_USE, NULL)                                                                          \
    X(PODS_PI, "pods-pod-identity", "/api/v1", "pods", DECODE_POD, KFORM_FULL, true,               \
      POD_PI_SELECTOR, NULL)                                                                       \
    X(PODS_NMI, "pods-nmi", "/api/v1", "pods", DECODE_POD, KFORM_FULL, true, "component=nmi",      \
      NULL)                                                                                        \
    X(PODS_NMI_HELM, "pods-nmi-helm", "/api/v1", "pods", DECODE_POD, KFORM_FULL, true,             \
      "app.kubernetes.io/component=nmi", NULL)

enum ksrc_id {
#define X(id, ...) KSRC_##id,
    KUBE_SOURCES(X)
#undef X
        KSRC__COUNT
};

struct ksrc_def {
    const char *name, *prefix, *plural;
    enum decode_type type;
    enum ksrc_form form;
    bool namespaced;
    const char *label_selector, *group;
};

static const struct ksrc_def ksrc_defs[] = {
#define X(id, name, prefix, plural, type, form, nsd, ls, group)                                    \
    {name, prefix, plural, type, form, nsd, ls, group},
    KUBE_SOURCES(X)
#undef X
};

/* Sources that hold a pod's full object (a Table row of the same pod is then ignored). */
#define FULL_POD_BITS                                                                              \
    ((1u << KSRC_PODS_WI) | (1u << KSRC_PODS_PI) | (1u << KSRC_PODS_NMI) |                         \
     (1u << KSRC_PODS_NMI_HELM))

enum ksrc_phase { PH_IDLE, PH_LISTING, PH_WATCHING, PH_WAITING, PH_DONE, PH_OFF };

struct ksrc {
    struct kube_client *k;
    enum ksrc_id id;
    const struct ksrc_def *def;
    struct store_source *ss;
    enum ksrc_phase phase;
    char *rv;
    char *cont;
    size_t listed;
    size_t held; /* objects this source holds (presence bits) */
    struct kreq *req;
    uint64_t timer;
    int failures;
    bool first_done; /* first list finished one way or another */
    bool ns_only;    /* the cluster-wide list was forbidden: reading the scope namespace only */
    struct decode_table_cols cols; /* KFORM_TABLE: where the cells are (from the list) */
    bool relist;     /* the watch asked for a fresh list */
    int64_t watch_started;
    size_t watch_events;
    int watch_timeout; /* seconds asked of the server for the current watch */
    int64_t last_byte_ms; /* last line of the current watch (events, bookmarks) */
    uint64_t stall_timer;
};

/* Which sources hold an object (type + namespace/name): overlapping pod sources and the
 * clean-up after a re-list both need it. */
struct presence {
    char *key;
    uint32_t bits;
    uint32_t seen;
    UT_hash_handle hh;
};

struct kcall;

struct kube_client {
    struct kube_client_config c;
    struct net *net;
    struct store *store;
    struct kube_auth *auth;
    char *server;
    struct net_tls tls_base;
    struct ksrc src[KSRC__COUNT];
    struct presence *presence;
    struct klogs *logs;
    struct kreq *discovery;
    struct kreq *probe;
    struct kcall *calls; /* one-off requests in flight (freed with the client) */
    bool started, listed_all, logs_started;
    char *fatal;
    bool any_success;
    struct kube_client_stats stats;
};

/* ---- credentials + request -------------------------------------------------------------- */

struct kreq {
    struct kube_client *k;
    char *method, *url, *accept, *ctype, *body;
    size_t body_len;
    long timeout_ms;
    int max_retries;
    net_line_fn on_line;
    void (*on_open)(void *ctx, long status);
    kreq_done_fn done;
    void *ctx;
    uint64_t auth_wait;
    struct net_request *nr;
    uint64_t generation;
    bool retried_401;
    uint64_t fail_timer;
    char fail_msg[256];
    bool fail_refused;
};

static void kreq_free(struct kreq *r)
{
    free(r->method);
    free(r->url);
    free(r->accept);
    free(r->ctype);
    free(r->body);
    free(r);
}

static void kreq_fail_cb(void *ctx)
{
    struct kreq *r = ctx;
    r->fail_timer = 0;
    struct net_response resp = {0};
    resp.guard_refused = r->fail_refused;
    resp.body = "";
    snprintf(resp.error, sizeof resp.error, "%s", r->fail_msg);
    kreq_done_fn done = r->done;
    void *c = r->ctx;
    kreq_free(r);
    done(c, &resp);
}

/* Failures are reported from the loop, never from inside kreq_start's caller. */
static void kreq_fail_later(struct kreq *r, const char *msg, bool refused)
{
    snprintf(r->fail_msg, sizeof r->fail_msg, "%s", msg);
    r->fail_refused = refused;
    r->fail_timer = net_timer_add(r->k->net, 0, kreq_fail_cb, r);
}

static void kreq_send(void *ctx, const struct kube_cred *cred, const char *error);

static void kreq_open(void *ctx, long status)
{
    struct kreq *r = ctx;
    r->on_open(r->ctx, status);
}

static int kreq_line(void *ctx, const char *line, size_t len)
{
    struct kreq *r = ctx;
    return r->on_line(r->ctx, line, len);
}

static void kreq_net_done(void *ctx, const struct net_response *resp)
{
    struct kreq *r = ctx;
    r->nr = NULL;
    if (resp->status == 401 && !r->retried_401) {
        /* client-go re-runs the plugin for the *next* request; we also retry this one once. */
        r->retried_401 = true;
        kube_auth_invalidate(r->k->auth, r->generation);
        r->auth_wait = kube_auth_get(r->k->auth, kreq_send, r);
        return;
    }
    kreq_done_fn done = r->done;
    void *c = r->ctx;
    kreq_free(r);
    done(c, resp);
}

static void kreq_send(void *ctx, const struct kube_cred *cred, const char *error)
{
    struct kreq *r = ctx;
    r->auth_wait = 0;
    if (!cred) {
        char msg[256];
        snprintf(msg, sizeof msg, "credentials: %s", error ? error : "unavailable");
        kreq_fail_later(r, msg, false);
        return;
    }
    r->generation = cred->generation;
    const char *hdrs[5];
    size_t nh = 0;
    char *auth = NULL, *accept = NULL, *ctype = NULL;
    if (cred->token) {
        auth = xasprintf("Authorization: Bearer %s", cred->token);
        hdrs[nh++] = auth;
    }
    accept = xasprintf("Accept: %s", r->accept ? r->accept : ACCEPT_JSON);
    hdrs[nh++] = accept;
    if (r->ctype) {
        ctype = xasprintf("Content-Type: %s", r->ctype);
        hdrs[nh++] = ctype;
    }
    hdrs[nh] = NULL;
    struct net_tls tls = r->k->tls_base;
    if (cred->cert_pem) {
        tls.cert_pem = cred->cert_pem;
        tls.cert_len = cred->cert_len;
        tls.key_pem = cred->key_pem;
        tls.key_len = cred->key_len;
    }
    struct net_opts o = {
        .method = r->method,
        .url = r->url,
        .headers = hdrs,
        .body = r->body,
        .body_len = r->body_len,
        .tls = &tls,
        .connect_timeout_ms = r->k->c.connect_timeout_ms,
        .timeout_ms = r->timeout_ms,
        .max_retries = r->max_retries,
        .on_line = r->on_line ? kreq_line : NULL,
        .on_open = r->on_open ? kreq_open : NULL,
        .on_done = kreq_net_done,
        .ctx = r,
    };
    struct idw_err err = {{0}};
    int rc = net_start(r->k->net, &o, &r->nr, &err);
    if (auth) {
        memset(auth, 0, strlen(auth));
        free(auth);
    }
    free(accept);
    free(ctype);
    if (rc < 0)
        kreq_fail_later(r, err.msg, net_read_only(r->k->net));
}

struct kreq *kreq_start(struct kube_client *k, const struct kreq_opts *o)
{
    struct kreq *r = xcalloc(1, sizeof *r);
    r->k = k;
    r->method = xstrdup(o->method ? o->method : "GET");
    r->url = xasprintf("%s%s", k->server, o->path);
    r->accept = xstrdup(o->accept);
    r->ctype = xstrdup(o->content_type);
    if (o->body) {
        r->body = xstrndup(o->body, o->body_len);
        r->body_len = o->body_len;
    }
    r->timeout_ms = o->timeout_ms;
    r->max_retries = o->max_retries;
    r->on_line = o->on_line;
    r->on_open = o->on_open;
    r->done = o->done;
    r->ctx = o->ctx;
    r->auth_wait = kube_auth_get(k->auth, kreq_send, r);
    return r;
}

void kreq_cancel(struct kreq *r)
{
    if (!r)
        return;
    if (r->auth_wait)
        kube_auth_cancel(r->k->auth, r->auth_wait);
    if (r->nr)
        net_cancel(r->k->net, r->nr);
    if (r->fail_timer)
        net_timer_cancel(r->k->net, r->fail_timer);
    kreq_free(r);
}

void kube_describe_failure(const struct net_response *r, char *out, size_t n)
{
    if (r->status == 0 || r->error[0]) {
        char e[256];
        str_sanitize(e, sizeof e, r->error[0] ? r->error : "no response");
        snprintf(out, n, "%s", e);
        return;
    }
    char msg[300] = "";
    cJSON *j = r->body_len ? cJSON_ParseWithLength(r->body, r->body_len) : NULL;
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(j, "message");
    const cJSON *reason = cJSON_GetObjectItemCaseSensitive(j, "reason");
    if (cJSON_IsString(m))
        str_sanitize(msg, sizeof msg, m->valuestring);
    char rs[64] = "";
    if (cJSON_IsString(reason))
        str_sanitize(rs, sizeof rs, reason->valuestring);
    cJSON_Delete(j);
    if (msg[0])
        snprintf(out, n, "%ld %s: %s", r->status, rs[0] ? rs : "error", msg);
    else
        snprintf(out, n, "HTTP %ld", r->status);
}

static char *curl_escape_str(const char *s)
{
    char *e = curl_easy_escape(NULL, s, 0);
    char *r = xstrdup(e ? e : "");
    curl_free(e);
    return r;
}

/* ---- presence ------------------------------------------------------------------------- */

static char *presence_key(enum decode_type t, const struct model_meta *m)
{
    return xasprintf("%d:%s/%s", (int)t, m->namespace_ ? m->namespace_ : "",
                     m->name ? m->name : "");
}

static struct presence *presence_get(struct kube_client *k, const char *key, bool create)
{
    struct presence *p = NULL;
    HASH_FIND_STR(k->presence, key, p);
    if (!p && create) {
        p = xcalloc(1, sizeof *p);
        p->key = xstrdup(key);
        HASH_ADD_KEYPTR(hh, k->presence, p->key, strlen(p->key), p);
    }
    return p;
}

static void presence_drop(struct kube_client *k, struct presence *p)
{
    HASH_DEL(k->presence, p);
    free(p->key);
    free(p);
}

/* Removes an object the store holds, by the type and "ns/name" of a presence key. */
static void store_forget(struct kube_client *k, const char *key)
{
    int t = atoi(key);
    const char *colon = strchr(key, ':');
    if (!colon)
        return;
    char *ns = xstrdup(colon + 1);
    char *slash = strchr(ns, '/');
    if (!slash) {
        free(ns);
        return;
    }
    *slash = '\0';
    const char *name = slash + 1;
    switch ((enum decode_type)t) {
    case DECODE_POD:
        store_del_pod(k->store, ns, name);
        klogs_pod_gone(k->logs, ns, name);
        break;
    case DECODE_DEPLOYMENT: store_del_workload(k->store, MODEL_KIND_DEPLOYMENT, ns, name); break;
    case DECODE_STATEFULSET: store_del_workload(k->store, MODEL_KIND_STATEFULSET, ns, name); break;
    case DECODE_DAEMONSET: store_del_workload(k->store, MODEL_KIND_DAEMONSET, ns, name); break;
    case DECODE_CRONJOB: store_del_workload(k->store, MODEL_KIND_CRONJOB, ns, name); break;
    case DECODE_REPLICASET: store_del_link(k->store, "ReplicaSet", ns, name); break;
    case DECODE_JOB: store_del_link(k->store, "Job", ns, name); break;
    case DECODE_SERVICEACCOUNT: store_del_sa(k->store, ns, name); break;
    case DECODE_NAMESPACE: store_del_namespace(k->store, name); break;
    case DECODE_MWC: store_del_mwc(k->store, name); break;
    case DECODE_AZID: store_del_azid(k->store, ns, name); break;
    case DECODE_AZBINDING: store_del_azbinding(k->store, ns, name); break;
    case DECODE_AZASSIGNED: store_del_azassigned(k->store, ns, name); break;
    case DECODE_AZEXCEPTION: store_del_azexception(k->store, ns, name); break;
    default: break;
    }
    free(ns);
}

static void src_set_bit(struct ksrc *s, struct presence *p)
{
    uint32_t bit = 1u << s->id;
    if (!(p->bits & bit))
        s->held++;
    p->bits |= bit;
    p->seen |= bit;
}

static void src_clear_bit(struct ksrc *s, struct presence *p)
{
    uint32_t bit = 1u << s->id;
    if ((p->bits & bit) && s->held)
        s->held--;
    p->bits &= ~bit;
}

/* Puts an object into the store (o is consumed). */
static void store_put_object(struct kube_client *k, struct decode_object *o)
{
    if (o->type == DECODE_POD && o->u.pod && o->u.pod->has_spec) {
        struct model_pod *pod = o->u.pod;
        klogs_pod_seen(k->logs, pod); /* before the store owns (and may intern) it */
    }
    decode_store_apply(k->store, DECODE_EV_ADDED, o);
}

/* One object from a list or a watch event of source s (o is consumed). */
static void src_apply(struct ksrc *s, enum decode_event_type ev, struct decode_object *o)
{
    struct kube_client *k = s->k;
    const struct model_meta *m = decode_object_meta(o);
    if (!m || !m->name) {
        decode_object_free(o);
        return;
    }
    char *key = presence_key(o->type, m);
    struct presence *p = presence_get(k, key, ev != DECODE_EV_DELETED);
    free(key);
    if (ev != DECODE_EV_DELETED) {
        src_set_bit(s, p);
        if (s->def->form != KFORM_FULL && o->type == DECODE_POD && (p->bits & FULL_POD_BITS))
            decode_object_free(o); /* a full source holds this pod: it has more */
        else
            store_put_object(k, o);
        return;
    }
    if (!p) {
        decode_object_free(o);
        return;
    }
    src_clear_bit(s, p);
    if (!p->bits) {
        char *pk = xstrdup(p->key);
        presence_drop(k, p);
        decode_object_free(o);
        store_forget(k, pk);
        free(pk);
    } else if (o->type == DECODE_POD && s->def->form == KFORM_FULL && !(p->bits & FULL_POD_BITS)) {
        /* Left a full source's selector (label removed, pod no longer Running) but still
         * exists: the event carries its latest state, keep that. */
        store_put_object(k, o);
    } else {
        decode_object_free(o);
    }
}

/* ---- sources: list, watch, back off -------------------------------------------------- */

static void src_list(struct ksrc *s);
static void src_watch(struct ksrc *s);
static void check_all_listed(struct kube_client *k);

static void src_timer_fire(void *ctx)
{
    struct ksrc *s = ctx;
    s->timer = 0;
    if (s->relist || !s->rv)
        src_list(s);
    else
        src_watch(s);
}

static void src_later(struct ksrc *s, int64_t ms)
{
    s->phase = PH_WAITING;
    if (s->timer)
        net_timer_cancel(s->k->net, s->timer);
    s->timer = net_timer_add(s->k->net, ms, src_timer_fire, s);
}

void kube_source_set(struct kube_client *k, struct store_source *ss, enum store_source_state st)
{
    if (ss->state == st)
        return;
    ss->state = st;
    store_source_changed(k->store);
}

static uint32_t src_rand(void)
{
    return (uint32_t)rand();
}

static void src_error(struct ksrc *s, const char *msg, enum store_source_state st)
{
    struct store_source *ss = s->ss;
    if (ss->state != st || strcmp(ss->error, msg) != 0)
        ss->error_since = time_now();
    bool changed = strcmp(ss->error, msg) != 0;
    snprintf(ss->error, sizeof ss->error, "%s", msg);
    kube_source_set(s->k, ss, st);
    if (changed)
        store_source_changed(s->k->store);
}

static void src_give_up_oneshot(struct ksrc *s)
{
    s->phase = PH_DONE;
    s->first_done = true;
    check_all_listed(s->k);
}

static void src_failed(struct ksrc *s, const struct net_response *r)
{
    char msg[256];
    kube_describe_failure(r, msg, sizeof msg);
    if (r->status == 403 && s->def->namespaced && s->k->c.namespace_ && !s->ns_only) {
        /* Scope is a view, but a user may only be allowed one namespace: read that one, and
         * say that every cluster fact this source feeds is incomplete. */
        s->ns_only = true;
        s->ss->partial = true;
        snprintf(s->ss->note, sizeof s->ss->note, "namespace %s only: %s", s->k->c.namespace_,
                 msg);
        store_source_changed(s->k->store);
        s->relist = true;
        src_list(s);
        return;
    }
    if (r->status == 403) {
        src_error(s, msg, STORE_SRC_FORBIDDEN);
        s->first_done = true;
        check_all_listed(s->k);
        if (s->k->c.one_shot)
            src_give_up_oneshot(s);
        else
            src_later(s, FORBIDDEN_RETRY_MS); /* never hot: permissions rarely change */
        return;
    }
    if (r->status == 404 && s->def->group) {
        src_error(s, "API group " AADPODID_GROUP " is not served", STORE_SRC_ABSENT);
        s->ss->error[0] = '\0';
        snprintf(s->ss->note, sizeof s->ss->note, "API group " AADPODID_GROUP " is not served");
        s->phase = PH_OFF;
        s->first_done = true;
        check_all_listed(s->k);
        return;
    }
    src_error(s, msg, STORE_SRC_ERROR);
    if (!s->k->any_success && !s->k->fatal)
        s->k->fatal = xstrdup(msg);
    s->failures++;
    if (s->k->c.one_shot && s->failures >= ONESHOT_MAX_FAILURES) {
        src_give_up_oneshot(s);
        return;
    }
    int64_t d = net_backoff_ms(s->failures - 1, BACKOFF_BASE_MS, BACKOFF_CAP_MS, src_rand());
    if (r->retry_after > 0 && r->retry_after * 1000 > d)
        d = r->retry_after * 1000;
    src_later(s, d);
}

static void src_success(struct ksrc *s)
{
    if (s->ss->state == STORE_SRC_ERROR) { /* it answers again: the error is over */
        kube_source_set(s->k, s->ss, s->first_done ? STORE_SRC_SYNCED : STORE_SRC_LISTING);
        s->ss->error[0] = '\0';
    }
    s->failures = 0;
    s->ss->last_success = time_now();
    s->k->any_success = true;
    free(s->k->fatal);
    s->k->fatal = NULL;
}

static void src_stall_stop(struct ksrc *s)
{
    if (s->stall_timer)
        net_timer_cancel(s->k->net, s->stall_timer);
    s->stall_timer = 0;
}

static int64_t src_stall_ms(const struct ksrc *s)
{
    return (int64_t)(s->k->c.watch_stall_s > 0 ? s->k->c.watch_stall_s : WATCH_STALL_S) * 1000;
}

/* A watch that says nothing (not even a bookmark) may sit on a hung server: a re-list tells,
 * and fails within the list timeout when the server does not answer. */
static void src_stall_fire(void *ctx)
{
    struct ksrc *s = ctx;
    s->stall_timer = 0;
    int64_t idle = time_now_ms() - s->last_byte_ms;
    if (idle < src_stall_ms(s)) {
        s->stall_timer = net_timer_add(s->k->net, src_stall_ms(s) - idle, src_stall_fire, s);
        return;
    }
    s->relist = true;
    src_list(s);
}

static char *src_path(struct ksrc *s, bool watch)
{
    const struct ksrc_def *d = s->def;
    struct kube_client *k = s->k;
    struct idw_buf b = {0};
    buf_puts(&b, d->prefix);
    if (d->namespaced && s->ns_only) {
        char *e = curl_escape_str(k->c.namespace_);
        buf_printf(&b, "/namespaces/%s", e);
        free(e);
    }
    buf_printf(&b, "/%s?", d->plural);
    char sep[2] = "";
    if (d->label_selector) {
        char *e = curl_escape_str(d->label_selector);
        buf_printf(&b, "labelSelector=%s", e);
        free(e);
        sep[0] = '&';
    }
    if (watch) {
        int lo = k->c.watch_timeout_min > 0 ? k->c.watch_timeout_min : 300;
        int hi = k->c.watch_timeout_max >= lo ? k->c.watch_timeout_max : 2 * lo;
        int t = lo + (hi > lo ? rand() % (hi - lo + 1) : 0);
        char *rv = curl_escape_str(s->rv ? s->rv : "");
        buf_printf(&b, "%swatch=1&resourceVersion=%s&allowWatchBookmarks=true&timeoutSeconds=%d",
                   sep, rv, t);
        free(rv);
        s->watch_started = time_now_ms();
        s->watch_events = 0;
        s->watch_timeout = t;
    } else {
        buf_printf(&b, "%slimit=%d", sep, k->c.page_limit > 0 ? k->c.page_limit : 500);
        if (s->cont) {
            char *c = curl_escape_str(s->cont);
            buf_printf(&b, "&continue=%s", c);
            free(c);
        }
    }
    return b.data;
}

static void src_item(void *ctx, struct decode_object *obj, const struct idw_err *item_err)
{
    struct ksrc *s = ctx;
    if (!obj) {
        s->ss->skipped++;
        snprintf(s->ss->skip_reason, sizeof s->ss->skip_reason, "%s",
                 item_err ? item_err->msg : "did not decode");
        return;
    }
    src_apply(s, DECODE_EV_ADDED, obj);
}

/* After a complete list: objects this source held but the new list lacks are gone. */
static void src_sweep(struct ksrc *s)
{
    uint32_t bit = 1u << s->id;
    struct presence *p, *tmp;
    HASH_ITER(hh, s->k->presence, p, tmp)
    {
        if (!(p->bits & bit) || (p->seen & bit))
            continue;
        src_clear_bit(s, p);
        if (!p->bits) {
            char *pk = xstrdup(p->key);
            presence_drop(s->k, p);
            store_forget(s->k, pk);
            free(pk);
        }
    }
}

static void src_list_done(void *ctx, const struct net_response *r);

static const char *src_accept(const struct ksrc *s, bool watch)
{
    switch (s->def->form) {
    case KFORM_META: return watch ? ACCEPT_META_WATCH : ACCEPT_META_LIST;
    case KFORM_TABLE: return ACCEPT_TABLE;
    case KFORM_FULL: break;
    }
    return ACCEPT_JSON;
}

static void src_list_page(struct ksrc *s)
{
    char *path = src_path(s, false);
    struct kreq_opts o = {
        .path = path,
        .accept = src_accept(s, false),
        .timeout_ms = s->k->c.list_timeout_ms > 0 ? s->k->c.list_timeout_ms : LIST_TIMEOUT_MS,
        .max_retries = 3,
        .done = src_list_done,
        .ctx = s,
    };
    s->req = kreq_start(s->k, &o);
    s->k->stats.pages++;
    free(path);
}

static void src_list(struct ksrc *s)
{
    struct kube_client *k = s->k;
    src_stall_stop(s);
    if (s->req) {
        kreq_cancel(s->req);
        s->req = NULL;
    }
    if (s->rv)
        k->stats.relists++;
    k->stats.lists++;
    s->relist = false;
    s->phase = PH_LISTING;
    free(s->cont);
    s->cont = NULL;
    s->listed = 0;
    uint32_t bit = 1u << s->id;
    struct presence *p, *tmp;
    HASH_ITER(hh, k->presence, p, tmp)
    p->seen &= ~bit;
    if (s->ss->state != STORE_SRC_SYNCED && s->ss->state != STORE_SRC_ERROR)
        kube_source_set(k, s->ss, STORE_SRC_LISTING); /* an error stays shown until a page
                                                       * succeeds */
    src_list_page(s);
}

static void src_list_done(void *ctx, const struct net_response *r)
{
    struct ksrc *s = ctx;
    s->req = NULL;
    if (r->status == 410) { /* continue token expired: start over */
        s->relist = true;
        src_list(s);
        return;
    }
    if (r->status != 200) {
        src_failed(s, r);
        return;
    }
    struct decode_list_meta meta = {0};
    struct idw_err err = {{0}};
    int rc = decode_list_page_cols(r->body, r->body_len, s->def->type, &s->cols, src_item, s,
                                   &meta, &err);
    if (rc == 410) {
        decode_list_meta_free(&meta);
        src_list(s);
        return;
    }
    if (rc != 0) {
        decode_list_meta_free(&meta);
        struct net_response fake = *r;
        snprintf(fake.error, sizeof fake.error, "list %s: %s", s->def->name, err.msg);
        src_failed(s, &fake);
        return;
    }
    s->listed += meta.items;
    s->ss->count = s->held;
    s->ss->total_hint = meta.remaining > 0 ? s->listed + (size_t)meta.remaining : 0;
    src_success(s);
    if (!str_empty(meta.continue_token)) {
        free(s->cont);
        s->cont = meta.continue_token;
        meta.continue_token = NULL;
        decode_list_meta_free(&meta);
        src_list_page(s);
        return;
    }
    free(s->rv);
    s->rv = meta.resource_version;
    meta.resource_version = NULL;
    decode_list_meta_free(&meta);
    free(s->cont);
    s->cont = NULL;
    src_sweep(s);
    s->ss->count = s->held;
    s->ss->total_hint = 0;
    s->ss->synced_at = time_now();
    kube_source_set(s->k, s->ss, STORE_SRC_SYNCED);
    s->ss->error[0] = '\0';
    s->first_done = true;
    if (s->k->c.one_shot) {
        s->phase = PH_DONE;
        check_all_listed(s->k);
        return;
    }
    check_all_listed(s->k);
    src_watch(s);
}

static int src_watch_line(void *ctx, const char *line, size_t len)
{
    struct ksrc *s = ctx;
    struct decode_event ev;
    struct idw_err err = {{0}};
    s->last_byte_ms = time_now_ms();
    if (s->ss->state == STORE_SRC_ERROR) { /* the stream answers (HTTP 200): recovered */
        kube_source_set(s->k, s->ss, STORE_SRC_SYNCED);
        s->ss->error[0] = '\0';
        s->ss->last_success = time_now();
        s->failures = 0;
    }
    if (len == 0)
        return 0;
    int rc = decode_watch_event_cols(line, len, s->def->type, &s->cols, &ev, &err);
    s->k->stats.events++;
    s->watch_events++;
    if (rc < 0) {
        bool envelope_ok = ev.resource_version != NULL &&
                           (ev.type == DECODE_EV_ADDED || ev.type == DECODE_EV_MODIFIED ||
                            ev.type == DECODE_EV_DELETED);
        if (envelope_ok) { /* a bad object: skip it, keep our place */
            s->ss->skipped++;
            snprintf(s->ss->skip_reason, sizeof s->ss->skip_reason, "%s", err.msg);
            free(s->rv);
            s->rv = ev.resource_version;
            ev.resource_version = NULL;
            decode_event_free(&ev);
            return 0;
        }
        /* A broken event line: we may have missed a change, so list again. */
        decode_event_free(&ev);
        snprintf(s->ss->skip_reason, sizeof s->ss->skip_reason, "%s", err.msg);
        s->relist = true;
        return 1;
    }
    switch (ev.type) {
    case DECODE_EV_ERROR:
        if (ev.status_code == 410 || str_eq(ev.status_reason, "Expired") ||
            str_eq(ev.status_reason, "Gone"))
            s->relist = true;
        else {
            char msg[256];
            char safe[200];
            str_sanitize(safe, sizeof safe, ev.status_message ? ev.status_message : "");
            snprintf(msg, sizeof msg, "watch: %d %s", ev.status_code, safe);
            src_error(s, msg, STORE_SRC_ERROR);
        }
        decode_event_free(&ev);
        return 1;
    case DECODE_EV_BOOKMARK: break;
    default:
        src_apply(s, ev.type, &ev.obj);
        s->ss->count = s->held;
        break;
    }
    if (ev.resource_version) {
        free(s->rv);
        s->rv = ev.resource_version;
        ev.resource_version = NULL;
    }
    s->ss->last_success = time_now();
    decode_event_free(&ev);
    return 0;
}

static void src_watch_done(void *ctx, const struct net_response *r)
{
    struct ksrc *s = ctx;
    s->req = NULL;
    src_stall_stop(s);
    if (s->relist || r->status == 410) {
        s->relist = true;
        src_list(s);
        return;
    }
    if (r->status == 200 && (r->curl_code == 0 || r->stopped)) {
        if (s->ss->state == STORE_SRC_ERROR && !r->stopped)
            kube_source_set(s->k, s->ss, STORE_SRC_SYNCED);
        /* The server's timeout: watch again from where we are (not hot if it ended at once). */
        if (time_now_ms() - s->watch_started < 1000 && s->watch_events == 0) {
            s->failures++;
            src_later(s, net_backoff_ms(s->failures, BACKOFF_BASE_MS, BACKOFF_CAP_MS, src_rand()));
        } else {
            src_watch(s);
        }
        return;
    }
    if (r->status == 200) { /* cut mid-stream (reset, truncated): reconnect soon */
        s->failures++;
        src_later(s, net_backoff_ms(s->failures - 1, 200, BACKOFF_CAP_MS, src_rand()));
        return;
    }
    /* No answer or an error status: we may have missed changes, and a list's first page is
     * what shows the recovery (an idle watch may say nothing for a minute). */
    if (r->status != 403)
        s->relist = true;
    src_failed(s, r);
}

static void src_watch(struct ksrc *s)
{
    s->phase = PH_WATCHING;
    char *path = src_path(s, true);
    struct kreq_opts o = {
        .path = path,
        .accept = src_accept(s, true),
        .timeout_ms = ((long)s->watch_timeout + 30) * 1000, /* the server should end it first */
        .on_line = src_watch_line,
        .done = src_watch_done,
        .ctx = s,
    };
    s->req = kreq_start(s->k, &o);
    s->k->stats.watches++;
    free(path);
    s->last_byte_ms = time_now_ms();
    src_stall_stop(s);
    s->stall_timer = net_timer_add(s->k->net, src_stall_ms(s), src_stall_fire, s);
}

static void check_all_listed(struct kube_client *k)
{
    for (int i = 0; i < KSRC__COUNT; i++)
        if (k->src[i].phase != PH_OFF && !k->src[i].first_done)
            return;
    k->listed_all = true;
    if (k->c.one_shot && !k->logs_started) {
        k->logs_started = true;
        klogs_start_oneshot(k->logs);
    }
}

/* ---- discovery -------------------------------------------------------------------------- */

static void src_start(struct ksrc *s)
{
    if (s->phase == PH_OFF)
        return;
    src_list(s);
}

static void discovery_done(void *ctx, const struct net_response *r)
{
    struct kube_client *k = ctx;
    k->discovery = NULL;
    bool have_group = true; /* unknown: try, a 404 will tell */
    if (r->status == 200) {
        have_group = false;
        cJSON *j = cJSON_ParseWithLength(r->body, r->body_len);
        const cJSON *g;
        cJSON_ArrayForEach(g, cJSON_GetObjectItemCaseSensitive(j, "groups"))
        {
            const cJSON *n = cJSON_GetObjectItemCaseSensitive(g, "name");
            if (cJSON_IsString(n) && !strcmp(n->valuestring, AADPODID_GROUP))
                have_group = true;
        }
        cJSON_Delete(j);
    }
    for (int i = 0; i < KSRC__COUNT; i++) {
        struct ksrc *s = &k->src[i];
        if (s->def->group && !have_group) {
            s->phase = PH_OFF;
            s->first_done = true;
            kube_source_set(k, s->ss, STORE_SRC_ABSENT);
            s->ss->error[0] = '\0';
            snprintf(s->ss->note, sizeof s->ss->note,
                     "API group " AADPODID_GROUP " is not served");
        }
    }
    for (int i = 0; i < KSRC__COUNT; i++)
        src_start(&k->src[i]);
    check_all_listed(k);
}

/* ---- public ----------------------------------------------------------------------------- */

static void kcalls_free(struct kube_client *k);

/* The probe of kube_client_refresh: no answer means every open watch or list is suspect. */
static void probe_done(void *ctx, const struct net_response *r)
{
    struct kube_client *k = ctx;
    k->probe = NULL;
    if (r->status != 0 && r->status < 500)
        return; /* it answers (even 401/403 are answers) */
    char msg[200], full[256];
    kube_describe_failure(r, msg, sizeof msg);
    snprintf(full, sizeof full, "API server not answering: %s", msg);
    struct net_response fake = *r;
    fake.status = 0;
    snprintf(fake.error, sizeof fake.error, "%s", full);
    for (int i = 0; i < KSRC__COUNT; i++) {
        struct ksrc *s = &k->src[i];
        if (!s->req || (s->phase != PH_WATCHING && s->phase != PH_LISTING))
            continue;
        kreq_cancel(s->req);
        s->req = NULL;
        src_stall_stop(s);
        s->relist = true;
        src_failed(s, &fake);
    }
}

void kube_client_refresh(struct kube_client *k)
{
    if (!k->started || k->probe || k->c.one_shot)
        return;
    struct kreq_opts o = {
        .path = "/version", .timeout_ms = PROBE_TIMEOUT_MS, .done = probe_done, .ctx = k};
    k->probe = kreq_start(k, &o);
}

struct store *kube_client_store(struct kube_client *k)
{
    return k->store;
}

struct net *kube_client_net(struct kube_client *k)
{
    return k->net;
}

const struct kube_client_config *kube_client_cfg(const struct kube_client *k)
{
    return &k->c;
}

void kube_client_count_log(struct kube_client *k, bool stream, size_t lines)
{
    if (stream)
        k->stats.log_streams++;
    k->stats.log_lines += lines;
}

int kube_client_new(const struct kube_client_config *c, struct kube_client **out,
                    struct idw_err *err)
{
    *out = NULL;
    if (!c || !c->cfg || !c->net || !c->store)
        return idw_err_set(err, "kube client: missing config, net or store");
    if (str_empty(c->cfg->server))
        return idw_err_set(err, "kube client: no server");
    struct kube_client *k = xcalloc(1, sizeof *k);
    k->c = *c;
    if (!k->c.log_window)
        k->c.log_window = 3600;
    k->net = c->net;
    k->store = c->store;
    k->server = xstrdup(c->cfg->server);
    k->auth = kube_auth_new(c->net, c->cfg);
    k->tls_base = (struct net_tls){
        .ca_pem = c->cfg->ca_pem,
        .ca_len = c->cfg->ca_len,
        .insecure = c->cfg->insecure,
        .server_name = c->cfg->tls_server_name,
        .proxy = c->cfg->proxy_url,
        .no_compression = c->cfg->disable_compression,
    };
    for (int i = 0; i < KSRC__COUNT; i++) {
        struct ksrc *s = &k->src[i];
        s->k = k;
        s->id = (enum ksrc_id)i;
        s->def = &ksrc_defs[i];
        s->phase = PH_IDLE;
        s->ss = store_source(k->store, s->def->name);
        decode_table_cols_init(&s->cols);
    }
    k->logs = klogs_new(k);
    *out = k;
    return 0;
}

void kube_client_start(struct kube_client *k)
{
    if (k->started)
        return;
    k->started = true;
    struct kreq_opts o = {
        .path = "/apis", .timeout_ms = 30000, .max_retries = 2, .done = discovery_done, .ctx = k};
    k->discovery = kreq_start(k, &o);
}

void kube_client_free(struct kube_client *k)
{
    if (!k)
        return;
    kreq_cancel(k->discovery);
    kreq_cancel(k->probe);
    kcalls_free(k);
    for (int i = 0; i < KSRC__COUNT; i++) {
        struct ksrc *s = &k->src[i];
        kreq_cancel(s->req);
        src_stall_stop(s);
        if (s->timer)
            net_timer_cancel(k->net, s->timer);
        free(s->rv);
        free(s->cont);
    }
    klogs_free(k->logs);
    struct presence *p, *tmp;
    HASH_ITER(hh, k->presence, p, tmp)
    presence_drop(k, p);
    kube_auth_free(k->auth);
    free(k->server);
    free(k->fatal);
    free(k);
}

bool kube_client_done(const struct kube_client *k)
{
    if (!k->listed_all)
        return false;
    return !k->c.one_shot || klogs_done(k->logs);
}

const char *kube_client_fatal(const struct kube_client *k)
{
    return k->any_success ? NULL : k->fatal;
}

void kube_client_get_stats(const struct kube_client *k, struct kube_client_stats *out)
{
    *out = k->stats;
    out->exec_runs = kube_auth_exec_runs(k->auth);
    out->log_resumes = klogs_resumes(k->logs);
}

/* ---- one-off requests: generic, PATCH, SSAR -------------------------------------------- */

struct kcall {
    kube_result_fn fn;
    kube_ssar_fn ssar;
    void *ctx;
    struct kube_client *k;
    struct kreq *req;
    struct kcall *prev, *next;
};

static void kcall_unlink(struct kcall *c)
{
    if (c->prev)
        c->prev->next = c->next;
    else
        c->k->calls = c->next;
    if (c->next)
        c->next->prev = c->prev;
    c->prev = c->next = NULL;
}

static void kcall_start(struct kube_client *k, struct kcall *c, const struct kreq_opts *o)
{
    c->k = k;
    c->next = k->calls;
    if (k->calls)
        k->calls->prev = c;
    k->calls = c;
    c->req = kreq_start(k, o);
}

static void kcalls_free(struct kube_client *k)
{
    while (k->calls) {
        struct kcall *c = k->calls;
        kcall_unlink(c);
        kreq_cancel(c->req);
        free(c);
    }
}

static void kcall_done(void *ctx, const struct net_response *r)
{
    struct kcall *c = ctx;
    kcall_unlink(c); /* its kreq is already freed */
    struct kube_result res = {
        .status = r->status, .body = r->body, .body_len = r->body_len, .refused = r->guard_refused};
    if (r->status < 200 || r->status >= 300 || r->error[0])
        kube_describe_failure(r, res.message, sizeof res.message);
    if (c->fn) {
        c->fn(c->ctx, &res);
    } else if (c->ssar) {
        if (r->status != 201 && r->status != 200) {
            c->ssar(c->ctx, false, NULL, res.message);
        } else {
            cJSON *j = cJSON_ParseWithLength(r->body, r->body_len);
            const cJSON *st = cJSON_GetObjectItemCaseSensitive(j, "status");
            const cJSON *al = cJSON_GetObjectItemCaseSensitive(st, "allowed");
            const cJSON *rs = cJSON_GetObjectItemCaseSensitive(st, "reason");
            const cJSON *ee = cJSON_GetObjectItemCaseSensitive(st, "evaluationError");
            char reason[256] = "";
            if (cJSON_IsString(rs))
                str_sanitize(reason, sizeof reason, rs->valuestring);
            if (!cJSON_IsBool(al))
                c->ssar(c->ctx, false, NULL, "SelfSubjectAccessReview: no status.allowed");
            else if (cJSON_IsString(ee) && *ee->valuestring && !cJSON_IsTrue(al)) {
                char e[256];
                str_sanitize(e, sizeof e, ee->valuestring);
                c->ssar(c->ctx, false, reason, e);
            } else
                c->ssar(c->ctx, cJSON_IsTrue(al), reason, NULL);
            cJSON_Delete(j);
        }
    }
    free(c);
}

int kube_request(struct kube_client *k, const char *method, const char *path,
                 const char *content_type, const char *body, size_t body_len, kube_result_fn fn,
                 void *ctx, struct idw_err *err)
{
    if (!path || path[0] != '/')
        return idw_err_set(err, "request path must start with '/'");
    struct kcall *c = xcalloc(1, sizeof *c);
    c->fn = fn;
    c->ctx = ctx;
    struct kreq_opts o = {.method = method,
                          .path = path,
                          .content_type = content_type,
                          .body = body,
                          .body_len = body_len,
                          .timeout_ms = 60000,
                          .max_retries = 2,
                          .done = kcall_done,
                          .ctx = c};
    kcall_start(k, c, &o);
    return 0;
}

static const char *const patch_ctypes[] = {
#define X(id, ct) ct,
    KUBE_PATCH_TYPES(X)
#undef X
};

int kube_patch(struct kube_client *k, const char *path, enum kube_patch_type type, const char *body,
               bool dry_run, kube_result_fn fn, void *ctx, struct idw_err *err)
{
    if ((size_t)type >= sizeof patch_ctypes / sizeof patch_ctypes[0])
        return idw_err_set(err, "unknown patch type");
    char *full = xasprintf("%s%sfieldManager=idwatch%s", path, strchr(path, '?') ? "&" : "?",
                           dry_run ? "&dryRun=All" : "");
    int rc = kube_request(k, "PATCH", full, patch_ctypes[type], body, body ? strlen(body) : 0, fn,
                          ctx, err);
    free(full);
    return rc;
}

int kube_ssar(struct kube_client *k, const char *verb, const char *group, const char *resource,
              const char *subresource, const char *ns, const char *name, kube_ssar_fn fn, void *ctx,
              struct idw_err *err)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "apiVersion", "authorization.k8s.io/v1");
    cJSON_AddStringToObject(root, "kind", "SelfSubjectAccessReview");
    cJSON *ra =
        cJSON_AddObjectToObject(cJSON_AddObjectToObject(root, "spec"), "resourceAttributes");
    if (ns)
        cJSON_AddStringToObject(ra, "namespace", ns);
    cJSON_AddStringToObject(ra, "verb", verb ? verb : "get");
    cJSON_AddStringToObject(ra, "group", group ? group : "");
    cJSON_AddStringToObject(ra, "resource", resource ? resource : "");
    if (subresource)
        cJSON_AddStringToObject(ra, "subresource", subresource);
    if (name)
        cJSON_AddStringToObject(ra, "name", name);
    char *body = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    struct kcall *c = xcalloc(1, sizeof *c);
    c->ssar = fn;
    c->ctx = ctx;
    struct kreq_opts o = {.method = "POST",
                          .path = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
                          .content_type = "application/json",
                          .body = body,
                          .body_len = strlen(body),
                          .timeout_ms = 30000,
                          .done = kcall_done,
                          .ctx = c};
    kcall_start(k, c, &o);
    cJSON_free(body);
    (void)err;
    return 0;
}
