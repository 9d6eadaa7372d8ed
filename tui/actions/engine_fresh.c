/* actions/engine_fresh: the objects as the server last returned them to us, and the object an
 * undo record names as it is now. */
#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine_int.h"

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

void act_fresh_clear(struct actions *a)
{
    for (size_t i = 0; i < a->n_fresh; i++)
        fresh_free(&a->fresh[i]);
    free(a->fresh);
    a->fresh = NULL;
    a->n_fresh = 0;
}

/* The store's resourceVersion of an object (NULL when the store does not hold it). */
static const char *stored_rv(const struct actions *a, bool sa, enum model_workload_kind k,
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

const struct act_target *act_fresh_lookup(void *ctx, const char *path)
{
    struct actions *a = ctx;
    for (size_t i = 0; i < a->n_fresh; i++) {
        struct fresh *f = &a->fresh[i];
        if (!str_eq(f->path, path))
            continue;
        /* the watch delivers in order: once the store moved past the version we had, it is at
         * least as new as our copy */
        const char *cur = stored_rv(a, f->sa, f->kind, f->ns, f->name);
        if (!cur)
            return &f->t;
        for (size_t j = 0; j < f->n_older; j++)
            if (str_eq(cur, f->older[j]))
                return &f->t;
        return NULL;
    }
    return NULL;
}

const cJSON *act_json_path(const cJSON *o, const char *const *keys)
{
    for (; o && *keys; keys++)
        o = cJSON_GetObjectItemCaseSensitive(o, *keys);
    return o;
}

static void map_from_json(struct model_kvlist *l, const cJSON *o)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, o) if (cJSON_IsString(it) && it->string)
        kv_set(l, it->string, it->valuestring);
}

/* The metadata object that the edits of this kind of target apply to. */
const cJSON *act_edit_meta(const cJSON *obj, bool sa, enum model_workload_kind k)
{
    static const char *const meta[] = {"metadata", NULL};
    static const char *const tmpl[] = {"spec", "template", "metadata", NULL};
    static const char *const cron[] = {"spec", "jobTemplate", "spec", "template", "metadata", NULL};
    if (sa || k == MODEL_KIND_POD)
        return act_json_path(obj, meta);
    return act_json_path(obj, k == MODEL_KIND_CRONJOB ? cron : tmpl);
}

/* The versions of the object at path known to be older than the answer of a request sent now
 * (see struct fresh): the store's, and while a fresh copy is in use, its own and those before.
 * A write carries the precondition, so after it the version it was built on is older too. */
void act_fresh_sent_older(struct actions *a, struct run *r, const char *path, bool sa,
                          enum model_workload_kind k, const char *ns, const char *name)
{
    strv_free(&r->sent_older, &r->n_sent_older);
    const char *cur = stored_rv(a, sa, k, ns, name);
    if (cur)
        strv_add(&r->sent_older, &r->n_sent_older, xstrdup(cur));
    if (!act_fresh_lookup(a, path))
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
void act_fresh_put(struct actions *a, const char *path, bool sa, enum model_workload_kind k,
                   const char *ns, const char *name, char *const *older, size_t n_older,
                   const char *body, size_t len)
{
    cJSON *obj = body && len ? cJSON_ParseWithLength(body, len) : NULL;
    static const char *const rvp[] = {"metadata", "resourceVersion", NULL};
    const cJSON *rv = act_json_path(obj, rvp);
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
    const cJSON *m = act_edit_meta(obj, sa, k);
    map_from_json(&f->labels, cJSON_GetObjectItemCaseSensitive(m, "labels"));
    map_from_json(&f->annotations, cJSON_GetObjectItemCaseSensitive(m, "annotations"));
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
int act_fresh_current(struct actions *a, const struct act_change *c, struct act_target *t,
                      struct idw_err *err)
{
    const struct act_target *f = act_fresh_lookup(a, c->path);
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
