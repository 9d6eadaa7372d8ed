/* actions/engine: the state machine of one open action (or an M sequence), the SSAR cache, the
 * undo stack and the copies of objects the server returned to us. No curses, no network of its
 * own: everything goes through struct actions_io. */
#include "idwatch/actions.h"

#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define ACT_SSAR_MAX 512 /* cached answers kept (oldest dropped first) */
#define ACT_UNDO_MAX 64
#define ACT_PICK_MAX 500

static const char *const state_names[ACT_ST__COUNT] = {
#define X(id, name) name,
    ACT_STATES(X)
#undef X
};

const char *act_state_name(enum act_state s)
{
    return (unsigned)s < ACT_ST__COUNT ? state_names[s] : "?";
}

/* An object as the server last returned it to us (after our write, or a re-read). It stays in
 * use while the store shows one of the versions known to be older: the one the store showed
 * when the request was sent and, after writes of ours in a row, the versions those wrote (each
 * carried the previous one as its precondition, so nothing came between). Once the store shows
 * anything else, it holds this copy or something later. Comparing with the store's version when
 * the answer arrives would be wrong: the watch may deliver our write and the controllers'
 * updates after it before the answer, and the older copy would then stay in use (409). */
struct fresh {
    char *path;
    bool sa;
    enum model_workload_kind kind;
    char *ns, *name;
    char *rv;
    char **older; /* versions of the object known to be older than rv */
    size_t n_older;
    struct model_kvlist labels, annotations;
    struct act_target t;
};

struct ssar {
    char *key;
    bool pending;
    bool allowed;
    char *reason;
    int64_t at;
};

struct choice {
    char *label;
    char *client_id;
    char *tenant_id;
};

enum req_type { REQ_DRY, REQ_APPLY, REQ_GET, REQ_SSAR, REQ_FIC };

/* The context of one request in flight; freed by its callback (or by actions_free). */
struct pending {
    struct actions *a;
    uint64_t run;
    enum req_type type;
    char *ssar_key;
    struct pending *prev, *next;
};

struct run {
    uint64_t id;
    enum act_state state;
    enum act_kind kind;
    bool migrate;
    enum act_kind plan[ACT_PLAN_MAX];
    size_t n_plan, pos;
    size_t n_applied;
    enum model_workload_kind wkind;
    char *ns, *name;
    /* a: the identity */
    char *client_id, *tenant_id;
    struct choice *choices;
    size_t n_choices, sel;
    bool typing;
    char typed[64];
    /* the change shown */
    struct act_change change;
    bool have_change;
    long status;
    char **answer;
    size_t n_answer;
    char **notes; /* M: steps skipped, steps done */
    size_t n_notes;
    char result[IDW_ERR_MAX];
    bool result_err;
    char **sent_older; /* when the apply or re-read was sent: versions older than its answer */
    size_t n_sent_older;
};

struct actions {
    struct actions_config cfg;
    char *context, *user, *log_path;
    uint64_t version, next_run;
    struct run *run;
    struct fresh *fresh;
    size_t n_fresh;
    struct ssar *ssar;
    size_t n_ssar;
    /* identities ARM refused us (403) in this run: ARM roles are scoped (an identity, its
     * resource group), so one refusal does not grey f for the others */
    char **arm_denied_id, **arm_denied_why;
    size_t n_arm_denied;
    struct act_change *undo;
    size_t n_undo;
    struct pending *pending;
    struct act_line *lines;
    size_t n_lines, cap_lines;
    char *title, *footer;
    char msg[IDW_ERR_MAX];
    bool msg_err, msg_new;
    bool azure_stale; /* an ARM write was applied since actions_take_azure_stale */
};

/* ---- small helpers ---------------------------------------------------------------------- */

static int64_t now_of(const struct actions *a)
{
    return a->cfg.now ? a->cfg.now() : time_now();
}

static void strv_add(char ***v, size_t *n, char *s)
{
    *v = xrealloc(*v, (*n + 1) * sizeof **v);
    (*v)[(*n)++] = s;
}

static void strv_free(char ***v, size_t *n)
{
    for (size_t i = 0; i < *n; i++)
        free((*v)[i]);
    free(*v);
    *v = NULL;
    *n = 0;
}

static void answer_add(struct run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void answer_add(struct run *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    strv_add(&r->answer, &r->n_answer, xvasprintf(fmt, ap));
    va_end(ap);
}

static void note_add(struct run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note_add(struct run *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    strv_add(&r->notes, &r->n_notes, xvasprintf(fmt, ap));
    va_end(ap);
}

static void run_free(struct run *r)
{
    if (!r)
        return;
    free(r->ns);
    free(r->name);
    free(r->client_id);
    free(r->tenant_id);
    for (size_t i = 0; i < r->n_choices; i++) {
        free(r->choices[i].label);
        free(r->choices[i].client_id);
        free(r->choices[i].tenant_id);
    }
    free(r->choices);
    act_change_free(&r->change);
    strv_free(&r->answer, &r->n_answer);
    strv_free(&r->notes, &r->n_notes);
    strv_free(&r->sent_older, &r->n_sent_older);
    free(r);
}

static void fresh_free(struct fresh *f)
{
    free(f->path);
    free(f->ns);
    free(f->name);
    free(f->rv);
    strv_free(&f->older, &f->n_older);
    kv_free(&f->labels);
    kv_free(&f->annotations);
}

static void lines_clear(struct actions *a)
{
    for (size_t i = 0; i < a->n_lines; i++)
        free(a->lines[i].text);
    a->n_lines = 0;
}

static void ssar_clear(struct actions *a)
{
    for (size_t i = 0; i < a->n_ssar; i++) {
        free(a->ssar[i].key);
        free(a->ssar[i].reason);
    }
    free(a->ssar);
    a->ssar = NULL;
    a->n_ssar = 0;
}

static void undo_clear(struct actions *a)
{
    for (size_t i = 0; i < a->n_undo; i++)
        act_change_free(&a->undo[i]);
    free(a->undo);
    a->undo = NULL;
    a->n_undo = 0;
}

static void fresh_clear(struct actions *a)
{
    for (size_t i = 0; i < a->n_fresh; i++)
        fresh_free(&a->fresh[i]);
    free(a->fresh);
    a->fresh = NULL;
    a->n_fresh = 0;
}

static void arm_denied_clear(struct actions *a)
{
    size_t n = a->n_arm_denied;
    strv_free(&a->arm_denied_id, &a->n_arm_denied);
    strv_free(&a->arm_denied_why, &n);
}

static struct pending *pending_new(struct actions *a, enum req_type type)
{
    struct pending *p = xcalloc(1, sizeof *p);
    p->a = a;
    p->run = a->run ? a->run->id : 0;
    p->type = type;
    p->next = a->pending;
    if (a->pending)
        a->pending->prev = p;
    a->pending = p;
    return p;
}

static void pending_done(struct pending *p)
{
    if (p->a) {
        if (p->prev)
            p->prev->next = p->next;
        else
            p->a->pending = p->next;
        if (p->next)
            p->next->prev = p->prev;
    }
    free(p->ssar_key);
    free(p);
}

/* The run a callback belongs to, or NULL when that dialog was closed meanwhile. */
static struct run *pending_run(const struct pending *p)
{
    return p->a && p->a->run && p->a->run->id == p->run ? p->a->run : NULL;
}

/* ---- lifecycle ---------------------------------------------------------------------------- */

int actions_new(const struct actions_config *cfg, struct actions **out, struct idw_err *err)
{
    *out = NULL;
    if (!cfg->io.patch || !cfg->io.get)
        return idw_err_set(err, "actions need a transport (patch and get)");
    struct actions *a = xcalloc(1, sizeof *a);
    a->cfg = *cfg;
    a->context = xstrdup(cfg->context);
    a->user = xstrdup(cfg->user);
    a->log_path = cfg->log_path ? xstrdup(cfg->log_path) : act_log_default_path();
    a->cfg.context = a->context;
    a->cfg.user = a->user;
    a->cfg.log_path = a->log_path;
    a->cfg.cluster_name = NULL;
    if (cfg->cluster_name)
        a->cfg.cluster_name = xstrdup(cfg->cluster_name);
    a->next_run = 1;
    *out = a;
    return 0;
}

void actions_free(struct actions *a)
{
    if (!a)
        return;
    while (a->pending) {
        struct pending *p = a->pending;
        a->pending = p->next;
        free(p->ssar_key);
        free(p);
    }
    run_free(a->run);
    fresh_clear(a);
    ssar_clear(a);
    undo_clear(a);
    lines_clear(a);
    free(a->lines);
    free(a->title);
    free(a->footer);
    arm_denied_clear(a);
    free(a->context);
    free(a->user);
    free(a->log_path);
    free((char *)a->cfg.cluster_name);
    free(a);
}

void actions_set_source(struct actions *a, const struct store *s, const struct check_result *r,
                        const char *context, const char *user)
{
    a->cfg.store = s;
    a->cfg.checks = r;
    free(a->context);
    free(a->user);
    a->context = xstrdup(context);
    a->user = xstrdup(user);
    a->cfg.context = a->context;
    a->cfg.user = a->user;
    run_free(a->run);
    a->run = NULL;
    /* answers in flight belong to the old cluster: detach them */
    for (struct pending *p = a->pending; p; p = p->next)
        p->run = 0;
    fresh_clear(a);
    ssar_clear(a);
    undo_clear(a);
    arm_denied_clear(a);
    a->version++;
}

bool actions_open(const struct actions *a)
{
    return a->run != NULL;
}

enum act_state actions_state(const struct actions *a)
{
    return a->run ? a->run->state : ACT_ST_IDLE;
}

const struct act_change *actions_change(const struct actions *a)
{
    return a->run && a->run->have_change ? &a->run->change : NULL;
}

uint64_t actions_version(const struct actions *a)
{
    return a ? a->version : 0;
}

size_t actions_undo_depth(const struct actions *a)
{
    return a->n_undo;
}

const char *actions_take_message(struct actions *a, bool *error)
{
    if (error)
        *error = a->msg_err;
    if (!a->msg_new)
        return "";
    a->msg_new = false;
    return a->msg;
}

bool actions_take_azure_stale(struct actions *a)
{
    bool s = a && a->azure_stale;
    if (a)
        a->azure_stale = false;
    return s;
}

/* ---- fresh copies ------------------------------------------------------------------------- */

/* The store's resourceVersion of an object (NULL when the store does not hold it). */
static const char *store_rv(const struct actions *a, bool sa, enum model_workload_kind k,
                            const char *ns, const char *name)
{
    const struct store *s = a->cfg.store;
    if (!s)
        return NULL;
    if (sa) {
        const struct model_service_account *x = store_get_sa(s, ns, name);
        return x ? x->meta.resource_version : NULL;
    }
    if (k == MODEL_KIND_POD) {
        const struct model_pod *p = store_get_pod(s, ns, name);
        return p ? p->meta.resource_version : NULL;
    }
    const struct model_workload *w = store_get_workload(s, k, ns, name);
    return w ? w->meta.resource_version : NULL;
}

static const struct act_target *fresh_lookup(void *ctx, const char *path)
{
    struct actions *a = ctx;
    for (size_t i = 0; i < a->n_fresh; i++) {
        struct fresh *f = &a->fresh[i];
        if (!str_eq(f->path, path))
            continue;
        /* the watch delivers in order: once the store moved past the version we had, it is at
         * least as new as our copy */
        const char *cur = store_rv(a, f->sa, f->kind, f->ns, f->name);
        if (!cur)
            return &f->t;
        for (size_t j = 0; j < f->n_older; j++)
            if (str_eq(cur, f->older[j]))
                return &f->t;
        return NULL;
    }
    return NULL;
}

static const cJSON *jpath(const cJSON *o, const char *const *keys)
{
    for (; o && *keys; keys++)
        o = cJSON_GetObjectItemCaseSensitive(o, *keys);
    return o;
}

static void kv_from_json(struct model_kvlist *l, const cJSON *o)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, o) if (cJSON_IsString(it) && it->string)
        kv_set(l, it->string, it->valuestring);
}

/* The metadata object that the edits of this kind of target apply to. */
static const cJSON *edit_meta(const cJSON *obj, bool sa, enum model_workload_kind k)
{
    static const char *const meta[] = {"metadata", NULL};
    static const char *const tmpl[] = {"spec", "template", "metadata", NULL};
    static const char *const cron[] = {"spec", "jobTemplate", "spec", "template", "metadata", NULL};
    if (sa || k == MODEL_KIND_POD)
        return jpath(obj, meta);
    return jpath(obj, k == MODEL_KIND_CRONJOB ? cron : tmpl);
}

/* The versions of the object at path known to be older than the answer of a request sent now
 * (see struct fresh): the store's, and while a fresh copy is in use, its own and those before.
 * A write carries the precondition, so after it the version it was built on is older too. */
static void sent_older_of(struct actions *a, struct run *r, const char *path, bool sa,
                          enum model_workload_kind k, const char *ns, const char *name)
{
    strv_free(&r->sent_older, &r->n_sent_older);
    const char *cur = store_rv(a, sa, k, ns, name);
    if (cur)
        strv_add(&r->sent_older, &r->n_sent_older, xstrdup(cur));
    if (!fresh_lookup(a, path))
        return;
    for (size_t i = 0; i < a->n_fresh; i++) {
        struct fresh *f = &a->fresh[i];
        if (!str_eq(f->path, path))
            continue;
        for (size_t j = 0; j < f->n_older && r->n_sent_older < 32; j++)
            if (!str_eq(f->older[j], cur))
                strv_add(&r->sent_older, &r->n_sent_older, xstrdup(f->older[j]));
        strv_add(&r->sent_older, &r->n_sent_older, xstrdup(f->rv));
    }
}

/* Keeps the object of a server answer (body) as the fresh copy of path; older: the versions
 * known to be older (sent_older_of when the request went out). */
static void fresh_put(struct actions *a, const char *path, bool sa, enum model_workload_kind k,
                      const char *ns, const char *name, char *const *older, size_t n_older,
                      const char *body, size_t len)
{
    cJSON *obj = body && len ? cJSON_ParseWithLength(body, len) : NULL;
    static const char *const rvp[] = {"metadata", "resourceVersion", NULL};
    const cJSON *rv = jpath(obj, rvp);
    if (!cJSON_IsString(rv)) {
        cJSON_Delete(obj);
        return;
    }
    size_t i = 0;
    while (i < a->n_fresh && !str_eq(a->fresh[i].path, path))
        i++;
    if (i == a->n_fresh)
        a->fresh = xrealloc(a->fresh, ++a->n_fresh * sizeof *a->fresh);
    else
        fresh_free(&a->fresh[i]);
    struct fresh *f = &a->fresh[i];
    memset(f, 0, sizeof *f);
    f->path = xstrdup(path);
    f->sa = sa;
    f->kind = k;
    f->ns = xstrdup(ns);
    f->name = xstrdup(name);
    f->rv = xstrdup(rv->valuestring);
    for (size_t j = 0; j < n_older; j++)
        strv_add(&f->older, &f->n_older, xstrdup(older[j]));
    const cJSON *m = edit_meta(obj, sa, k);
    kv_from_json(&f->labels, cJSON_GetObjectItemCaseSensitive(m, "labels"));
    kv_from_json(&f->annotations, cJSON_GetObjectItemCaseSensitive(m, "annotations"));
    f->t = (struct act_target){.service_account = sa,
                               .kind = k,
                               .ns = f->ns,
                               .name = f->name,
                               .resource_version = f->rv,
                               .labels = &f->labels,
                               .annotations = &f->annotations};
    cJSON_Delete(obj);
}

/* The object an undo record names, as last seen (fresh copy, else the store). */
static int current_target(struct actions *a, const struct act_change *c, struct act_target *t,
                          struct idw_err *err)
{
    const struct act_target *f = fresh_lookup(a, c->path);
    if (f) {
        *t = *f;
        return 0;
    }
    memset(t, 0, sizeof *t);
    t->service_account = c->service_account;
    t->kind = c->wkind;
    t->ns = c->ns;
    t->name = c->name;
    const struct store *s = a->cfg.store;
    const struct model_meta *meta = NULL;
    if (c->service_account) {
        const struct model_service_account *x = s ? store_get_sa(s, c->ns, c->name) : NULL;
        meta = x ? &x->meta : NULL;
    } else if (c->wkind == MODEL_KIND_POD) {
        const struct model_pod *p = s ? store_get_pod(s, c->ns, c->name) : NULL;
        meta = p ? &p->meta : NULL;
    } else {
        const struct model_workload *w = s ? store_get_workload(s, c->wkind, c->ns, c->name) : NULL;
        if (w) {
            t->resource_version = w->meta.resource_version;
            t->labels = &w->tmpl.labels;
            t->annotations = &w->tmpl.annotations;
            return 0;
        }
    }
    if (!meta)
        return idw_err_set(err, "%s is gone", c->object ? c->object : "the object");
    t->resource_version = meta->resource_version;
    t->labels = &meta->labels;
    t->annotations = &meta->annotations;
    return 0;
}

/* ---- SSAR cache ---------------------------------------------------------------------------- */

static struct ssar *ssar_find(struct actions *a, const char *key)
{
    for (size_t i = 0; i < a->n_ssar; i++)
        if (str_eq(a->ssar[i].key, key))
            return &a->ssar[i];
    return NULL;
}

static struct ssar *ssar_slot(struct actions *a, const char *key)
{
    struct ssar *s = ssar_find(a, key);
    if (s)
        return s;
    if (a->n_ssar >= ACT_SSAR_MAX) { /* drop the oldest */
        free(a->ssar[0].key);
        free(a->ssar[0].reason);
        memmove(a->ssar, a->ssar + 1, --a->n_ssar * sizeof *a->ssar);
    }
    a->ssar = xrealloc(a->ssar, (a->n_ssar + 1) * sizeof *a->ssar);
    s = &a->ssar[a->n_ssar++];
    memset(s, 0, sizeof *s);
    s->key = xstrdup(key);
    return s;
}

static void ssar_set(struct actions *a, const char *key, bool allowed, const char *reason)
{
    struct ssar *s = ssar_slot(a, key);
    s->pending = false;
    s->allowed = allowed;
    free(s->reason);
    s->reason = xstrdup(reason);
    s->at = now_of(a);
    a->version++;
}

static void on_ssar(void *ctx, bool allowed, const char *reason, const char *error)
{
    struct pending *p = ctx;
    if (p->a) {
        if (error) {
            /* no answer (no SSAR API, a network error): allowed, as without a review, and asked
             * again in 30 s, not at every frame */
            struct ssar *s = ssar_find(p->a, p->ssar_key);
            int64_t ttl = p->a->cfg.ssar_ttl > 0 ? p->a->cfg.ssar_ttl : 300;
            if (s) {
                s->pending = false;
                s->allowed = true;
                free(s->reason);
                s->reason = NULL;
                s->at = now_of(p->a) - ttl + (ttl > 30 ? 30 : 0);
            }
        } else {
            char why[300];
            snprintf(why, sizeof why, "no permission (SelfSubjectAccessReview)%s%s",
                     reason && *reason ? ": " : "", reason ? reason : "");
            ssar_set(p->a, p->ssar_key, allowed, allowed ? NULL : why);
        }
    }
    pending_done(p);
}

struct perm {
    const char *group, *resource, *ns, *name;
};

static void ssar_key_of(const struct perm *pm, char *out, size_t n)
{
    snprintf(out, n, "patch %s/%s %s/%s", pm->group, pm->resource, pm->ns, pm->name);
}

static void perm_of_change(const struct act_change *c, struct perm *pm)
{
    pm->group = c->service_account ? "" : model_kind_group(c->wkind);
    pm->resource = c->service_account ? "serviceaccounts" : model_kind_resource(c->wkind);
    pm->ns = c->ns;
    pm->name = c->name;
}

/* A 403 on a write teaches the same as a denied SSAR. */
static void learn_forbidden(struct actions *a, const struct act_change *c, const char *msg)
{
    if (c->target == ACT_TARGET_ARM) {
        const char *id = c->identity_arm_id ? c->identity_arm_id : "";
        size_t i = 0;
        while (i < a->n_arm_denied && strcasecmp(a->arm_denied_id[i], id) != 0)
            i++;
        char *why =
            xasprintf("Azure refused it for %s: %s", c->identity_name ? c->identity_name : id, msg);
        if (i < a->n_arm_denied) {
            free(a->arm_denied_why[i]);
            a->arm_denied_why[i] = why;
        } else {
            size_t n = a->n_arm_denied;
            strv_add(&a->arm_denied_id, &a->n_arm_denied, xstrdup(id));
            strv_add(&a->arm_denied_why, &n, why);
        }
        a->version++;
        return;
    }
    struct perm pm;
    perm_of_change(c, &pm);
    char key[600];
    ssar_key_of(&pm, key, sizeof key);
    ssar_set(a, key, false, msg);
}

/* Why ARM refused us the identity w's service account names, or NULL. */
static const char *arm_denied_for(const struct actions *a, const struct check_workload *w)
{
    if (!a->n_arm_denied || !w)
        return NULL;
    const char *id = w->federation.identity;
    if (!id || strncasecmp(id, "/subscriptions/", 15) != 0) {
        /* not checked (a workload not on workload identity yet): the SA's client id */
        const struct store *s = a->cfg.store;
        const char *cid = w->federation.client_id;
        const struct model_service_account *sa =
            !cid && s && w->namespace_
                ? store_get_sa(s, w->namespace_,
                               w->service_account ? w->service_account : "default")
                : NULL;
        if (sa)
            cid = kv_get(&sa->meta.annotations, WI_ANN_CLIENT_ID);
        const struct model_azure *az = s ? store_azure(s) : NULL;
        id = NULL;
        for (size_t i = 0; az && cid && i < az->n_identities; i++)
            if (az->identities[i].client_id && az->identities[i].arm_id &&
                strcasecmp(az->identities[i].client_id, cid) == 0)
                id = az->identities[i].arm_id;
    }
    for (size_t i = 0; id && i < a->n_arm_denied; i++)
        if (strcasecmp(a->arm_denied_id[i], id) == 0)
            return a->arm_denied_why[i];
    return NULL;
}

static bool perm_allowed(struct actions *a, const struct perm *pm, const char **why)
{
    char key[600];
    ssar_key_of(pm, key, sizeof key);
    int64_t ttl = a->cfg.ssar_ttl > 0 ? a->cfg.ssar_ttl : 300;
    struct ssar *s = ssar_find(a, key);
    if (s && (s->pending || now_of(a) - s->at < ttl)) {
        if (!s->pending && !s->allowed) {
            if (why)
                *why = s->reason ? s->reason : "no permission";
            return false;
        }
        return true;
    }
    if (!a->cfg.io.ssar)
        return true;
    s = ssar_slot(a, key);
    s->pending = true;
    struct pending *p = pending_new(a, REQ_SSAR);
    p->run = 0;
    p->ssar_key = xstrdup(key);
    struct idw_err err = {{0}};
    int rc = a->cfg.io.ssar(a->cfg.io.ctx, "patch", pm->group, pm->resource, pm->ns, pm->name,
                            on_ssar, p, &err);
    s = ssar_find(a, key); /* the slot may have moved */
    if (rc != 0) {
        if (s)
            s->pending = false, s->at = 0;
        pending_done(p);
        return true;
    }
    if (s && !s->pending && !s->allowed) { /* answered during the call */
        *why = s->reason ? s->reason : "no permission";
        return false;
    }
    return true;
}

bool actions_allowed(struct actions *a, int key, const struct check_workload *w, const char **why)
{
    const char *dummy;
    if (!why)
        why = &dummy;
    if (a->cfg.read_only) {
        *why = "disabled in read-only mode (--read-only): it would change the cluster";
        return false;
    }
    if (key == 'u')
        return true;
    if (key == 'f' || (key == 'M' && w && w->federation.status == CHECK_FED_MISSING)) {
        const char *denied = arm_denied_for(a, w);
        if (denied) {
            *why = denied;
            return false;
        }
        if (key == 'f')
            return true;
    }
    if (!w || !w->namespace_ || !w->name)
        return true;
    struct perm pm = {.ns = w->namespace_};
    if (key == 'a') {
        pm.group = "";
        pm.resource = "serviceaccounts";
        pm.name = w->service_account ? w->service_account : "default";
    } else {
        pm.group = model_kind_group(w->kind);
        pm.resource = model_kind_resource(w->kind);
        pm.name = w->name;
    }
    return perm_allowed(a, &pm, why);
}

/* ---- the steps --------------------------------------------------------------------------------
 */

static const struct check_workload *run_workload(const struct actions *a, const struct run *r)
{
    return a->cfg.checks && r->name ? check_find(a->cfg.checks, r->wkind, r->ns, r->name) : NULL;
}

static void world_of(struct actions *a, struct act_world *wd)
{
    const struct model_azure *az = a->cfg.store ? store_azure(a->cfg.store) : NULL;
    memset(wd, 0, sizeof *wd);
    wd->store = a->cfg.store;
    wd->issuer = a->cfg.checks ? a->cfg.checks->cluster.oidc_issuer : NULL;
    wd->cluster_name = a->cfg.cluster_name ? a->cfg.cluster_name : az ? az->cluster_name : NULL;
    wd->now = now_of(a);
    wd->window_seconds = a->cfg.window_seconds;
    wd->fresh = fresh_lookup;
    wd->fresh_ctx = a;
}

static void finish(struct actions *a, enum act_state st, bool error, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void finish(struct actions *a, enum act_state st, bool error, const char *fmt, ...)
{
    struct run *r = a->run;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->result, sizeof r->result, fmt, ap);
    va_end(ap);
    r->result_err = error;
    r->state = st;
    a->version++;
}

static void close_run(struct actions *a)
{
    struct run *r = a->run;
    if (!r)
        return;
    if (r->result[0]) {
        snprintf(a->msg, sizeof a->msg, "%s", r->result);
        a->msg_err = r->result_err;
    } else if (r->n_applied) {
        snprintf(a->msg, sizeof a->msg, "M: stopped after %zu applied step%s", r->n_applied,
                 r->n_applied > 1 ? "s" : "");
    } else {
        snprintf(a->msg, sizeof a->msg, "%c: cancelled, nothing was applied",
                 act_kind_key(r->kind));
        a->msg_err = false;
    }
    a->msg_new = true;
    run_free(r);
    a->run = NULL;
    a->version++;
}

static void on_dry_run(void *ctx, const struct kube_result *res);
static void on_apply(void *ctx, const struct kube_result *res);
static void start_step(struct actions *a);

/* Sends the dry run of the built change (ARM: the local checks stand in for it). */
static void send_dry_run(struct actions *a)
{
    struct run *r = a->run;
    struct act_change *c = &r->change;
    strv_free(&r->answer, &r->n_answer);
    r->status = 0;
    if (c->target == ACT_TARGET_ARM) {
        answer_add(r, "ARM has no dry run; checked here and again right before the PUT:");
        answer_add(r, "  name %s fits ^[a-zA-Z0-9][a-zA-Z0-9-_]{2,119}$", c->fic_name);
        if (c->fics_listed) {
            answer_add(r, "  the identity has %zu of at most %d credentials", c->fic_count,
                       AZURE_FIC_MAX);
            answer_add(r, "  no credential on it has this issuer and subject");
        } else {
            answer_add(r, "  its credentials could not be listed: the limit and duplicates are "
                          "checked with a fresh list before the PUT");
        }
        r->state = ACT_ST_CONFIRM;
        a->version++;
        return;
    }
    r->state = ACT_ST_DRY_RUN;
    a->version++;
    struct pending *p = pending_new(a, REQ_DRY);
    struct idw_err err = {{0}};
    if (a->cfg.io.patch(a->cfg.io.ctx, c->path, c->patch_type, c->body, true, on_dry_run, p,
                        &err) != 0) {
        pending_done(p);
        answer_add(r, "not sent: %s", err.msg);
        finish(a, ACT_ST_REJECTED, true, "%c: dry run not sent: %s", act_kind_key(c->kind),
               err.msg);
    }
}

/* The value the server's object holds for each edited key, to show what the change would do. */
static void answer_values(struct run *r, const struct act_change *c, const char *body, size_t len)
{
    cJSON *obj = body && len ? cJSON_ParseWithLength(body, len) : NULL;
    const cJSON *m = edit_meta(obj, c->service_account, c->wkind);
    for (size_t i = 0; i < c->n_edits && obj; i++) {
        const struct act_edit *e = &c->edits[i];
        const cJSON *map = cJSON_GetObjectItemCaseSensitive(
            m, e->map == ACT_MAP_LABELS ? "labels" : "annotations");
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(map, e->key);
        char val[256];
        if (cJSON_IsString(v))
            answer_add(r, "  %s %s = \"%s\"", e->map == ACT_MAP_LABELS ? "label" : "annotation",
                       e->key, str_sanitize(val, sizeof val, v->valuestring));
        else
            answer_add(r, "  %s %s: absent", e->map == ACT_MAP_LABELS ? "label" : "annotation",
                       e->key);
    }
    static const char *const rvp[] = {"metadata", "resourceVersion", NULL};
    const cJSON *rv = jpath(obj, rvp);
    char val[128];
    if (cJSON_IsString(rv))
        answer_add(r, "  resourceVersion %s", str_sanitize(val, sizeof val, rv->valuestring));
    cJSON_Delete(obj);
}

static void start_reread(struct actions *a);

static void on_dry_run(void *ctx, const struct kube_result *res)
{
    struct pending *p = ctx;
    struct actions *a = p->a;
    struct run *r = pending_run(p);
    pending_done(p);
    if (!r || r->state != ACT_ST_DRY_RUN)
        return;
    struct act_change *c = &r->change;
    r->status = res->status;
    char k = act_kind_key(c->kind);
    if (res->refused) {
        answer_add(r, "refused before sending: %s", res->message);
        finish(a, ACT_ST_REJECTED, true, "%c: %s", k, res->message);
    } else if (res->status >= 200 && res->status < 300) {
        answer_add(r,
                   "HTTP %ld: the server accepts it (dryRun=All, nothing stored); it would give:",
                   res->status);
        answer_values(r, c, res->body, res->body_len);
        r->state = ACT_ST_CONFIRM;
        a->version++;
    } else if (res->status == 409) {
        answer_add(r, "HTTP 409: %s", res->message);
        start_reread(a);
    } else {
        if (res->status == 403)
            learn_forbidden(a, c, res->message);
        answer_add(r, "HTTP %ld: %s", res->status, res->message);
        answer_add(r, "nothing was applied");
        finish(a, ACT_ST_REJECTED, true, "%c: the dry run was rejected: %s", k, res->message);
    }
}

static void log_write(struct actions *a, const struct act_change *c, const char *result)
{
    struct act_log_entry e = {
        .time = now_of(a), .context = a->context, .user = a->user, .change = c, .result = result};
    struct idw_err err = {{0}};
    if (act_log_append(a->log_path, &e, &err) != 0 && a->run)
        answer_add(a->run, "action log: %s", err.msg);
}

static void undo_push(struct actions *a, struct act_change *c)
{
    if (a->n_undo == ACT_UNDO_MAX) {
        act_change_free(&a->undo[0]);
        memmove(a->undo, a->undo + 1, --a->n_undo * sizeof *a->undo);
    }
    a->undo = xrealloc(a->undo, (a->n_undo + 1) * sizeof *a->undo);
    a->undo[a->n_undo++] = *c;
    memset(c, 0, sizeof *c);
}

/* After an applied step: the next step of M, or done. */
static void step_done(struct actions *a, const char *what)
{
    struct run *r = a->run;
    if (r->migrate && r->pos + 1 < r->n_plan) {
        note_add(r, "%c done: %s", act_kind_key(r->kind), what);
        r->pos++;
        start_step(a);
        return;
    }
    if (r->migrate)
        finish(a, ACT_ST_DONE, false, "M: %zu step%s done; last: %s", r->n_plan,
               r->n_plan > 1 ? "s" : "", what);
    else
        finish(a, ACT_ST_DONE, false, "%s", what);
}

static void applied(struct actions *a, struct run *r, const char *body, size_t len)
{
    struct act_change *c = &r->change;
    log_write(a, c, "applied");
    r->n_applied++;
    char what[IDW_ERR_MAX];
    snprintf(what, sizeof what, "%c applied: %s (%s)", act_kind_key(c->kind), c->object,
             c->kind == ACT_UNDO ? "undone" : act_kind_name(c->kind));
    bool kube = c->target == ACT_TARGET_KUBE;
    if (kube)
        fresh_put(a, c->path, c->service_account, c->wkind, c->ns, c->name, r->sent_older,
                  r->n_sent_older, body, len);
    else
        a->azure_stale = true; /* no watch on Azure: the app reloads it */
    answer_add(r, "applied%s",
               kube ? "; the row updates from the watch" : "; Azure is read again for the row");
    if (c->kind == ACT_UNDO) {
        if (a->n_undo)
            act_change_free(&a->undo[--a->n_undo]);
    } else {
        undo_push(a, c); /* c is empty from here */
        r->have_change = false;
    }
    step_done(a, what);
}

static void on_apply(void *ctx, const struct kube_result *res)
{
    struct pending *p = ctx;
    struct actions *a = p->a;
    struct run *r = pending_run(p);
    pending_done(p);
    if (!r || r->state != ACT_ST_APPLYING)
        return;
    struct act_change *c = &r->change;
    r->status = res->status;
    char k = act_kind_key(c->kind);
    strv_free(&r->answer, &r->n_answer);
    if (res->status >= 200 && res->status < 300 && !res->refused) {
        answer_add(r, "HTTP %ld", res->status);
        applied(a, r, res->body, res->body_len);
        return;
    }
    char result[IDW_ERR_MAX + 32];
    snprintf(result, sizeof result, "failed: %s", res->message[0] ? res->message : "no answer");
    log_write(a, c, result);
    answer_add(r, "HTTP %ld: %s", res->status, res->message);
    if (res->status == 409) {
        start_reread(a);
        return;
    }
    if (res->status == 403)
        learn_forbidden(a, c, res->message);
    finish(a, ACT_ST_FAILED, true, "%c failed: %s", k, res->message);
}

static void on_fic(void *ctx, int rc, const struct idw_err *e)
{
    struct pending *p = ctx;
    struct actions *a = p->a;
    struct run *r = pending_run(p);
    pending_done(p);
    if (!r || r->state != ACT_ST_APPLYING)
        return;
    strv_free(&r->answer, &r->n_answer);
    if (rc == 0) {
        applied(a, r, NULL, 0);
        return;
    }
    const char *msg = e && e->msg[0] ? e->msg : "failed";
    char result[IDW_ERR_MAX + 32];
    snprintf(result, sizeof result, "failed: %s", msg);
    log_write(a, &r->change, result);
    answer_add(r, "%s", msg);
    /* azure_fic_create reports no HTTP code: ARM's error code tells a 403 */
    if (strstr(msg, "AuthorizationFailed") || strstr(msg, "HTTP 403") ||
        strstr(msg, "LinkedAuthorizationFailed"))
        learn_forbidden(a, &r->change, msg);
    finish(a, ACT_ST_FAILED, true, "f failed: %s", msg);
}

static void send_apply(struct actions *a)
{
    struct run *r = a->run;
    struct act_change *c = &r->change;
    r->state = ACT_ST_APPLYING;
    a->version++;
    struct idw_err err = {{0}};
    int rc;
    if (c->target == ACT_TARGET_ARM) {
        if (!a->cfg.io.fic_put) {
            rc = idw_err_set(&err, "Azure is not available (no credentials or --no-azure)");
        } else {
            struct azure_fic_spec spec = {.identity_arm_id = c->identity_arm_id,
                                          .name = c->fic_name,
                                          .issuer = c->issuer,
                                          .subject = c->subject,
                                          .audience = c->audience};
            struct pending *p = pending_new(a, REQ_FIC);
            rc = a->cfg.io.fic_put(a->cfg.io.ctx, &spec, on_fic, p, &err);
            if (rc != 0)
                pending_done(p);
        }
    } else {
        sent_older_of(a, r, c->path, c->service_account, c->wkind, c->ns, c->name);
        struct pending *p = pending_new(a, REQ_APPLY);
        rc = a->cfg.io.patch(a->cfg.io.ctx, c->path, c->patch_type, c->body, false, on_apply, p,
                             &err);
        if (rc != 0)
            pending_done(p);
    }
    if (rc != 0 && a->run == r && r->state == ACT_ST_APPLYING)
        finish(a, ACT_ST_FAILED, true, "%c: not sent: %s", act_kind_key(c->kind), err.msg);
}

static void on_reread(void *ctx, const struct kube_result *res)
{
    struct pending *p = ctx;
    struct actions *a = p->a;
    struct run *r = pending_run(p);
    pending_done(p);
    if (!r || r->state != ACT_ST_REREAD)
        return;
    struct act_change *c = &r->change;
    if (res->status != 200) {
        answer_add(r, "re-reading %s failed: %s", c->object, res->message);
        finish(a, ACT_ST_FAILED, true, "%c: conflict, and the object could not be re-read: %s",
               act_kind_key(c->kind), res->message);
        return;
    }
    fresh_put(a, c->path, c->service_account, c->wkind, c->ns, c->name, r->sent_older,
              r->n_sent_older, res->body, res->body_len);
    /* the copy just read, or the store when the watch already moved past it */
    struct act_target cur;
    struct idw_err gone = {{0}};
    const struct act_target *t = current_target(a, c, &cur, &gone) == 0 ? &cur : NULL;
    answer_add(r, "%s changed since it was read; now:", c->object);
    for (size_t i = 0; t && i < c->n_edits; i++) {
        const struct act_edit *e = &c->edits[i];
        const struct model_kvlist *l = e->map == ACT_MAP_LABELS ? t->labels : t->annotations;
        const char *v = kv_get(l, e->key);
        char val[256];
        answer_add(r, "  %s %s = %s%s%s", e->map == ACT_MAP_LABELS ? "label" : "annotation", e->key,
                   v ? "\"" : "", v ? str_sanitize(val, sizeof val, v) : "(absent)", v ? "\"" : "");
    }
    if (t)
        answer_add(r, "  resourceVersion %s (was %s)", t->resource_version,
                   c->resource_version ? c->resource_version : "?");
    answer_add(r, "nothing was applied; y builds the change again from this state");
    r->state = ACT_ST_CONFLICT;
    r->result_err = true;
    snprintf(r->result, sizeof r->result, "%c: conflict (the object changed); nothing applied",
             act_kind_key(c->kind));
    a->version++;
}

static void start_reread(struct actions *a)
{
    struct run *r = a->run;
    r->state = ACT_ST_REREAD;
    a->version++;
    struct act_change *c = &r->change;
    sent_older_of(a, r, c->path, c->service_account, c->wkind, c->ns, c->name);
    struct pending *p = pending_new(a, REQ_GET);
    struct idw_err err = {{0}};
    if (a->cfg.io.get(a->cfg.io.ctx, r->change.path, on_reread, p, &err) != 0) {
        pending_done(p);
        finish(a, ACT_ST_FAILED, true, "%c: conflict; re-read not sent: %s",
               act_kind_key(r->change.kind), err.msg);
    }
}

/* ---- the identity picker (a) -------------------------------------------------------------- */

/* The client id of the AzureIdentity the workload's aadpodidbinding selects: the natural
 * choice when migrating from pod identity (what azwi podidentity detect does). */
static const char *pod_identity_client_id(const struct actions *a, const struct check_workload *w)
{
    const struct store *s = a->cfg.store;
    if (!s || !w || !w->pi_selector)
        return NULL;
    for (size_t i = 0; i < store_azbinding_count(s); i++) {
        const struct model_azure_identity_binding *b = store_azbinding_at(s, i);
        if (!str_eq(b->selector, w->pi_selector))
            continue;
        for (size_t j = 0; j < store_azid_count(s); j++) {
            const struct model_azure_identity *id = store_azid_at(s, j);
            if (str_eq(id->meta.name, b->identity) &&
                str_eq(id->meta.namespace_, b->meta.namespace_) && id->client_id)
                return id->client_id;
        }
    }
    return NULL;
}

static void open_picker(struct actions *a, const struct check_workload *w)
{
    struct run *r = a->run;
    const struct model_azure *az = a->cfg.store ? store_azure(a->cfg.store) : NULL;
    const char *want = pod_identity_client_id(a, w);
    for (size_t i = 0; az && i < az->n_identities && r->n_choices < ACT_PICK_MAX; i++) {
        const struct model_identity *id = &az->identities[i];
        if (!act_client_id_valid(id->client_id))
            continue;
        r->choices = xrealloc(r->choices, (r->n_choices + 1) * sizeof *r->choices);
        struct choice *ch = &r->choices[r->n_choices++];
        memset(ch, 0, sizeof *ch);
        char n[96], g[96];
        ch->label =
            xasprintf("%-28s %-22s %s", str_sanitize(n, sizeof n, id->name ? id->name : "?"),
                      str_sanitize(g, sizeof g, id->resource_group ? id->resource_group : "-"),
                      id->client_id);
        ch->client_id = xstrdup(id->client_id);
        /* the tenant annotation only when it differs from the cluster's (the webhook default) */
        if (id->tenant_id && az->tenant_id && strcasecmp(id->tenant_id, az->tenant_id) != 0)
            ch->tenant_id = xstrdup(id->tenant_id);
        if (want && strcasecmp(id->client_id, want) == 0)
            r->sel = r->n_choices - 1;
    }
    bool listed = false;
    for (size_t i = 0; want && i < r->n_choices; i++)
        listed = listed || strcasecmp(r->choices[i].client_id, want) == 0;
    if (!r->n_choices || (want && !listed)) { /* pod identity's client id, typed in already */
        r->typing = true;
        if (want)
            snprintf(r->typed, sizeof r->typed, "%s", want);
    }
    r->state = ACT_ST_PICK;
    a->version++;
}

static void pick_done(struct actions *a)
{
    struct run *r = a->run;
    const char *cid = NULL, *tid = NULL;
    if (r->typing) {
        cid = r->typed;
    } else if (r->sel < r->n_choices) {
        cid = r->choices[r->sel].client_id;
        tid = r->choices[r->sel].tenant_id;
    }
    if (!act_client_id_valid(cid)) {
        strv_free(&r->answer, &r->n_answer);
        answer_add(r, "a client id is a GUID: 8-4-4-4-12 hex digits");
        a->version++;
        return;
    }
    free(r->client_id);
    free(r->tenant_id);
    r->client_id = xstrdup(cid);
    r->tenant_id = xstrdup(tid);
    strv_free(&r->answer, &r->n_answer);
    start_step(a);
}

/* ---- starting ------------------------------------------------------------------------------- */

/* Builds the current step and sends its dry run; in M a step that does not apply is skipped
 * with its reason. */
static void start_step(struct actions *a)
{
    struct run *r = a->run;
    for (;;) {
        if (r->migrate)
            r->kind = r->plan[r->pos];
        const struct check_workload *w = run_workload(a, r);
        if (!w) {
            finish(a, ACT_ST_FAILED, true, "%s/%s is gone", r->ns, r->name);
            return;
        }
        if (r->kind == ACT_ANNOTATE_SA && !r->client_id) {
            open_picker(a, w);
            return;
        }
        act_change_free(&r->change);
        r->have_change = false;
        struct act_world wd;
        world_of(a, &wd);
        struct act_params prm = {.client_id = r->client_id, .tenant_id = r->tenant_id};
        struct idw_err err = {{0}};
        if (act_build(r->kind, &wd, w, &prm, &r->change, &err) == 0) {
            r->have_change = true;
            send_dry_run(a);
            return;
        }
        if (!r->migrate) {
            finish(a, ACT_ST_FAILED, true, "%c: %s", act_kind_key(r->kind), err.msg);
            return;
        }
        note_add(r, "%c skipped: %s", act_kind_key(r->kind), err.msg);
        if (++r->pos >= r->n_plan) {
            finish(a, ACT_ST_DONE, false, "M: nothing more to apply (%s)", err.msg);
            return;
        }
    }
}

static struct run *run_new(struct actions *a, enum act_kind k, const struct check_workload *w)
{
    struct run *r = xcalloc(1, sizeof *r);
    r->id = a->next_run++;
    r->kind = k;
    if (w) {
        r->wkind = w->kind;
        r->ns = xstrdup(w->namespace_);
        r->name = xstrdup(w->name);
    }
    a->run = r;
    return r;
}

static int start_undo(struct actions *a, struct idw_err *err)
{
    if (!a->n_undo)
        return idw_err_set(err, "nothing to undo: no change was applied in this session");
    struct act_change *rec = &a->undo[a->n_undo - 1];
    struct act_target now;
    struct act_change inv;
    if (rec->target == ACT_TARGET_ARM) {
        act_build_undo(rec, NULL, &inv, err);
        act_change_free(&a->undo[--a->n_undo]); /* the next u reverts the change before it */
        return -1;
    }
    if (current_target(a, rec, &now, err) != 0 || act_build_undo(rec, &now, &inv, err) != 0)
        return -1;
    struct run *r = run_new(a, ACT_UNDO, NULL);
    r->change = inv;
    r->have_change = true;
    send_dry_run(a);
    return 0;
}

int actions_start(struct actions *a, int key, const struct check_workload *w, struct idw_err *err)
{
    if (a->cfg.read_only)
        return idw_err_set(err, "%c: disabled in read-only mode (--read-only)", key);
    if (a->run)
        return idw_err_set(err, "finish the open dialog first");
    const char *why = NULL;
    if (!actions_allowed(a, key, w, &why))
        return idw_err_set(err, "%c: %s", key, why);
    if (key == 'u')
        return start_undo(a, err);
    if (!w)
        return idw_err_set(err, "%c: select a workload first", key);
    if (key == 'M') {
        enum act_kind plan[ACT_PLAN_MAX];
        size_t n = act_migrate_plan(w, plan);
        if (!n) {
            const char *h = NULL;
            bool healthy = act_wi_healthy(w, &h);
            return idw_err_set(err, "M: nothing left to migrate for %s/%s%s%s", w->namespace_,
                               w->name, healthy ? "" : " that idwatch can apply (",
                               healthy ? "" : h);
        }
        struct run *r = run_new(a, plan[0], w);
        r->migrate = true;
        memcpy(r->plan, plan, sizeof plan);
        r->n_plan = n;
        start_step(a);
        return 0;
    }
    enum act_kind k;
    if (act_kind_from_key(key, &k) != 0 || k == ACT_UNDO)
        return idw_err_set(err, "'%c' is not an action key", key);
    if (k != ACT_ANNOTATE_SA) {
        /* refusals of a single action go to the status line, without a dialog */
        struct act_world wd;
        world_of(a, &wd);
        struct act_change probe;
        if (act_build(k, &wd, w, NULL, &probe, err) != 0)
            return -1;
        struct run *r = run_new(a, k, w);
        r->change = probe;
        r->have_change = true;
        send_dry_run(a);
        return 0;
    }
    run_new(a, k, w);
    start_step(a);
    return 0;
}

/* ---- keys ----------------------------------------------------------------------------------- */

static int pick_key(struct actions *a, int key)
{
    struct run *r = a->run;
    if (key == ACT_KEY_ESC) {
        close_run(a);
        return 0;
    }
    if (key == ACT_KEY_TAB && r->n_choices) {
        r->typing = !r->typing;
    } else if (key == ACT_KEY_ENTER || key == '\r') {
        pick_done(a);
    } else if (r->typing) {
        size_t n = strlen(r->typed);
        if (key == ACT_KEY_BACKSPACE || key == 8) {
            if (n)
                r->typed[n - 1] = '\0';
        } else if (key > 0x20 && key < 0x7f && n + 1 < sizeof r->typed) {
            r->typed[n] = (char)key;
            r->typed[n + 1] = '\0';
        }
    } else if (key == ACT_KEY_UP || key == 'k') {
        if (r->sel)
            r->sel--;
    } else if (key == ACT_KEY_DOWN || key == 'j') {
        if (r->sel + 1 < r->n_choices)
            r->sel++;
    } else if (key == 'y') {
        pick_done(a);
    } else if (key == 'n' || key == 'q') {
        close_run(a);
        return 0;
    }
    a->version++;
    return a->run ? 1 : 0;
}

int actions_key(struct actions *a, int key)
{
    struct run *r = a->run;
    if (!r)
        return 0;
    bool cancel = key == ACT_KEY_ESC || key == 'n' || key == 'q';
    switch (r->state) {
    case ACT_ST_PICK: return pick_key(a, key);
    case ACT_ST_CONFIRM:
        if (key == 'y' || key == 'Y') {
            send_apply(a);
        } else if (key == 's' && r->migrate) {
            note_add(r, "%c skipped by you", act_kind_key(r->kind));
            if (r->kind == ACT_ANNOTATE_SA) { /* the SA does not name it: later steps must not */
                free(r->client_id);
                r->client_id = NULL;
            }
            if (++r->pos < r->n_plan)
                start_step(a);
            else
                finish(a, ACT_ST_DONE, false, "M: done (last step skipped)");
        } else if (cancel) {
            close_run(a);
        }
        break;
    case ACT_ST_CONFLICT:
        if (key == 'y' || key == 'Y') {
            if (r->change.kind == ACT_UNDO) {
                /* build the inverse again, against the object as it is now */
                struct act_change *rec = a->n_undo ? &a->undo[a->n_undo - 1] : NULL;
                struct act_target now;
                struct act_change inv;
                struct idw_err err = {{0}};
                if (!rec || current_target(a, rec, &now, &err) != 0 ||
                    act_build_undo(rec, &now, &inv, &err) != 0) {
                    finish(a, ACT_ST_FAILED, true, "u: %s", err.msg[0] ? err.msg : "no record");
                } else {
                    act_change_free(&r->change);
                    r->change = inv;
                    send_dry_run(a);
                }
            } else {
                r->result[0] = '\0';
                start_step(a);
            }
        } else if (cancel) {
            close_run(a);
        }
        break;
    case ACT_ST_DRY_RUN:
    case ACT_ST_REREAD:
        if (cancel)
            close_run(a); /* the answer, when it comes, is dropped */
        break;
    case ACT_ST_APPLYING: break; /* the outcome must be seen and logged */
    case ACT_ST_REJECTED:
    case ACT_ST_DONE:
    case ACT_ST_FAILED:
    case ACT_ST_IDLE:
        if (cancel || key == ACT_KEY_ENTER || key == '\r' || key == 'y' || key == ' ')
            close_run(a);
        break;
    default: break;
    }
    a->version++;
    return a->run ? 1 : 0;
}

/* ---- the dialog's content ------------------------------------------------------------------- */

static void line(struct actions *a, enum act_style st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void line(struct actions *a, enum act_style st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = xvasprintf(fmt, ap);
    va_end(ap);
    xgrow((void **)&a->lines, &a->cap_lines, a->n_lines + 1, sizeof *a->lines);
    a->lines[a->n_lines++] = (struct act_line){st, s};
}

static const char *const ctypes[] = {
#define X(id, ct) ct,
    KUBE_PATCH_TYPES(X)
#undef X
};

static void view_change(struct actions *a, const struct act_change *c)
{
    line(a, ACT_STYLE_TEXT, "object        %s", c->object);
    if (c->target == ACT_TARGET_ARM) {
        line(a, ACT_STYLE_TEXT, "request       PUT <ARM>%s?api-version=2024-11-30", c->path);
        line(a, ACT_STYLE_TEXT, "content type  application/json");
        line(a, ACT_STYLE_HEAD, "body");
        line(a, ACT_STYLE_CODE, "%s", c->body);
    } else {
        line(a, ACT_STYLE_TEXT, "request       PATCH %s?fieldManager=idwatch", c->path);
        line(a, ACT_STYLE_TEXT, "patch type    %s", ctypes[c->patch_type]);
        line(a, ACT_STYLE_TEXT, "precondition  %s%s",
             c->resource_version ? "resourceVersion " : "none",
             c->resource_version ? c->resource_version : "");
        line(a, ACT_STYLE_HEAD, "body");
        line(a, ACT_STYLE_CODE, "%s", c->body);
        for (size_t i = 0; i < c->n_edits; i++) {
            const struct act_edit *e = &c->edits[i];
            line(a, ACT_STYLE_DIM, "  %s %s: %s%s%s -> %s%s%s",
                 e->map == ACT_MAP_LABELS ? "label" : "annotation", e->key, e->old ? "\"" : "",
                 e->old ? e->old : "(absent)", e->old ? "\"" : "", e->value ? "\"" : "",
                 e->value ? e->value : "(removed)", e->value ? "\"" : "");
        }
    }
    for (size_t i = 0; i < c->n_warnings; i++)
        line(a, ACT_STYLE_WARN, "! %s", c->warnings[i]);
}

void actions_view(struct actions *a, struct act_view *out)
{
    lines_clear(a);
    free(a->title);
    free(a->footer);
    a->title = a->footer = NULL;
    memset(out, 0, sizeof *out);
    struct run *r = a->run;
    if (!r)
        return;
    const char *what = r->migrate ? "M: migrate" : NULL;
    char k = act_kind_key(r->kind);
    if (r->kind == ACT_UNDO && r->have_change)
        a->title = xasprintf("u: undo %c (%s)", act_kind_key(r->change.undo_of),
                             act_kind_name(r->change.undo_of));
    else if (what)
        a->title = xasprintf("%s %s/%s, step %zu of %zu: %c %s", what, r->ns, r->name, r->pos + 1,
                             r->n_plan, k, act_kind_name(r->kind));
    else
        a->title = xasprintf("%c: %s", k, act_kind_name(r->kind));
    for (size_t i = 0; i < r->n_notes; i++)
        line(a, ACT_STYLE_DIM, "%s", r->notes[i]);
    if (r->state == ACT_ST_PICK) {
        const struct check_workload *w = run_workload(a, r);
        line(a, ACT_STYLE_HEAD, "Identity for service account %s/%s", r->ns,
             w && w->service_account ? w->service_account : "default");
        if (!r->n_choices)
            line(a, ACT_STYLE_DIM, "no user-assigned identities are known (Azure not available?)");
        for (size_t i = 0; i < r->n_choices; i++)
            line(a, !r->typing && i == r->sel ? ACT_STYLE_SELECTED : ACT_STYLE_CHOICE, "%s %s",
                 !r->typing && i == r->sel ? ">" : " ", r->choices[i].label);
        line(a, r->typing ? ACT_STYLE_INPUT : ACT_STYLE_DIM, "client id: %s%s", r->typed,
             r->typing ? "_" : "  (Tab to type one)");
        for (size_t i = 0; i < r->n_answer; i++)
            line(a, ACT_STYLE_ERR, "%s", r->answer[i]);
        a->footer =
            xstrdup(r->typing ? "type the client id  Enter use it  Tab list  Esc cancel"
                              : "j/k choose  Enter use it  Tab type a client id  Esc cancel");
    } else {
        if (r->have_change)
            view_change(a, &r->change);
        const char *head = r->state == ACT_ST_DRY_RUN    ? "Server answer (dry run): waiting..."
                           : r->state == ACT_ST_APPLYING ? "Applying..."
                           : r->state == ACT_ST_REREAD   ? "Conflict: re-reading the object..."
                           : r->state == ACT_ST_CONFLICT ? "Conflict (409)"
                           : r->state == ACT_ST_DONE || r->state == ACT_ST_FAILED
                               ? "Result"
                               : "Server answer (dry run)";
        line(a, ACT_STYLE_HEAD, "%s", head);
        enum act_style ans = r->state == ACT_ST_CONFIRM || r->state == ACT_ST_DONE ? ACT_STYLE_OK
                             : r->state == ACT_ST_REJECTED || r->state == ACT_ST_FAILED ||
                                     r->state == ACT_ST_CONFLICT
                                 ? ACT_STYLE_ERR
                                 : ACT_STYLE_TEXT;
        for (size_t i = 0; i < r->n_answer; i++)
            line(a, ans, "%s", r->answer[i]);
        if ((r->state == ACT_ST_DONE || r->state == ACT_ST_FAILED) && r->result[0])
            line(a, r->result_err ? ACT_STYLE_ERR : ACT_STYLE_OK, "%s", r->result);
        switch (r->state) {
        case ACT_ST_DRY_RUN:
        case ACT_ST_REREAD: a->footer = xstrdup("Esc cancel"); break;
        case ACT_ST_CONFIRM:
            a->footer = xstrdup(r->migrate ? "y apply  s skip this step  n/Esc cancel"
                                           : "y apply  n/Esc cancel");
            break;
        case ACT_ST_CONFLICT:
            a->footer = xstrdup("y build again from this state  n/Esc cancel");
            break;
        case ACT_ST_APPLYING: a->footer = xstrdup("waiting for the server..."); break;
        default: a->footer = xstrdup("nothing more to do  Enter/Esc close"); break;
        }
    }
    out->title = a->title;
    out->danger = r->state == ACT_ST_CONFIRM;
    out->lines = a->lines;
    out->n_lines = a->n_lines;
    out->footer = a->footer;
}

/* ---- the real transport --------------------------------------------------------------------- */

static int io_patch(void *ctx, const char *path, enum kube_patch_type type, const char *body,
                    bool dry_run, kube_result_fn fn, void *arg, struct idw_err *err)
{
    struct actions_io_kube *k = ctx;
    return kube_patch(k->kube, path, type, body, dry_run, fn, arg, err);
}

static int io_get(void *ctx, const char *path, kube_result_fn fn, void *arg, struct idw_err *err)
{
    struct actions_io_kube *k = ctx;
    return kube_request(k->kube, "GET", path, NULL, NULL, 0, fn, arg, err);
}

static int io_ssar(void *ctx, const char *verb, const char *group, const char *resource,
                   const char *ns, const char *name, kube_ssar_fn fn, void *arg,
                   struct idw_err *err)
{
    struct actions_io_kube *k = ctx;
    return kube_ssar(k->kube, verb, group, resource, NULL, ns, name, fn, arg, err);
}

static int io_fic(void *ctx, const struct azure_fic_spec *spec, azure_fic_done fn, void *arg,
                  struct idw_err *err)
{
    struct actions_io_kube *k = ctx;
    if (!k->azure)
        return idw_err_set(err, "Azure is not available (no credentials or --no-azure)");
    return azure_fic_create(k->azure, spec, fn, arg, err);
}

void actions_io_kube(struct actions_io_kube *kio, struct actions_io *out)
{
    *out = (struct actions_io){
        .ctx = kio, .patch = io_patch, .get = io_get, .ssar = io_ssar, .fic_put = io_fic};
}
