/* actions/engine_perm: may this action run on this workload? The SelfSubjectAccessReview cache,
 * what 403 answers taught us, and the identities ARM refused. */
#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine_int.h"

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

static void arm_denied_clear(struct actions *a)
{
    size_t n = a->n_arm_denied;
    strv_free(&a->arm_denied_id, &a->n_arm_denied);
    strv_free(&a->arm_denied_why, &n);
}

void act_perm_clear(struct actions *a)
{
    ssar_clear(a);
    arm_denied_clear(a);
}

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
    s->at = act_now(a);
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
                s->at = act_now(p->a) - ttl + (ttl > 30 ? 30 : 0);
            }
        } else {
            char why[300];
            snprintf(why, sizeof why, "no permission (SelfSubjectAccessReview)%s%s",
                     reason && *reason ? ": " : "", reason ? reason : "");
            ssar_set(p->a, p->ssar_key, allowed, allowed ? NULL : why);
        }
    }
    act_pending_done(p);
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
void act_perm_learn(struct actions *a, const struct act_change *c, const char *msg)
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
    if (s && (s->pending || act_now(a) - s->at < ttl)) {
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
    struct pending *p = act_pending_new(a, REQ_SSAR);
    p->run = 0;
    p->ssar_key = xstrdup(key);
    struct idw_err err = {{0}};
    int rc = a->cfg.io.ssar(a->cfg.io.ctx, "patch", pm->group, pm->resource, pm->ns, pm->name,
                            on_ssar, p, &err);
    s = ssar_find(a, key); /* the slot may have moved */
    if (rc != 0) {
        if (s)
            s->pending = false, s->at = 0;
        act_pending_done(p);
        return true;
    }
    if (s && !s->pending && !s->allowed) { /* answered during the call */
        *why = s->reason ? s->reason : "no permission";
        return false;
    }
    return true;
}

/* What each mutating action writes, which decides the permission it needs. MIGRATE writes the
 * workload and, when the credential is missing, creates one in ARM. */
enum writes { WRITES_NOTHING, WRITES_WORKLOAD, WRITES_SA, WRITES_ARM, WRITES_PLAN };
static const enum writes writes_of[ACTION__COUNT] = {
    [ACTION_LABEL_WI] = WRITES_WORKLOAD, [ACTION_REMOVE_PI] = WRITES_WORKLOAD,
    [ACTION_PROXY_ON] = WRITES_WORKLOAD, [ACTION_PROXY_OFF] = WRITES_WORKLOAD,
    [ACTION_RESTART] = WRITES_WORKLOAD,  [ACTION_ANNOTATE_SA] = WRITES_SA,
    [ACTION_CREATE_FIC] = WRITES_ARM,    [ACTION_MIGRATE] = WRITES_PLAN,
    [ACTION_UNDO] = WRITES_NOTHING, /* the undo record's object, checked by its dry run */
};

bool actions_allowed(struct actions *a, enum action_id k, const struct check_workload *w,
                     const char **why)
{
    const char *dummy;
    if (!why)
        why = &dummy;
    if (a->cfg.read_only) { /* the engine runs nothing in read-only mode */
        *why = ACTION_READ_ONLY_WHY;
        return false;
    }
    enum writes what = (unsigned)k < ACTION__COUNT ? writes_of[k] : WRITES_NOTHING;
    if (what == WRITES_NOTHING)
        return true;
    if (what == WRITES_ARM ||
        (what == WRITES_PLAN && w && w->federation.status == CHECK_FED_MISSING)) {
        const char *denied = arm_denied_for(a, w);
        if (denied) {
            *why = denied;
            return false;
        }
        if (what == WRITES_ARM)
            return true;
    }
    if (!w || !w->namespace_ || !w->name)
        return true;
    struct perm pm = {.ns = w->namespace_};
    if (what == WRITES_SA) {
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
