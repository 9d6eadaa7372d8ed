/* simstate: the object store behind idwatch-sim (objects by resource and namespace/name, one global
 * resourceVersion, bounded watch history, lock and wake-ups) and the public API of simstate.h.
 * Controllers live in state_ctrl.c, logs in state_logs.c, the scenario format in scenario.c. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "state_internal.h"

/* ---- small helpers --------------------------------------------------------------------------- */

uint64_t sim_rand(struct sim *s)
{
    /* splitmix64: deterministic for a seed, good enough for names and jitter */
    uint64_t z = (s->rng += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

double sim_rand01(struct sim *s)
{
    return (double)(sim_rand(s) >> 11) / (double)(1ULL << 53);
}

void sim_format_time(int64_t ns, char out[32])
{
    time_format_rfc3339(ns / SIM_NS_PER_S, out);
}

void sim_new_uid(struct sim *s, char out[37])
{
    uint64_t a = sim_rand(s), b = sim_rand(s);
    snprintf(out, 37, "%08x-%04x-4%03x-%04x-%012llx", (unsigned)(a >> 32),
             (unsigned)((a >> 16) & 0xffff), (unsigned)(a & 0xfff),
             (unsigned)(0x8000 | ((b >> 48) & 0x3fff)),
             (unsigned long long)(b & 0xffffffffffffULL));
}

const char *sim_json_str(const cJSON *obj, const char *path)
{
    char part[128];
    const cJSON *cur = obj;
    while (cur && *path) {
        const char *dot = strchr(path, '.');
        size_t n = dot ? (size_t)(dot - path) : strlen(path);
        if (n >= sizeof part)
            return NULL;
        memcpy(part, path, n);
        part[n] = '\0';
        cur = cJSON_GetObjectItemCaseSensitive(cur, part);
        path += n + (dot ? 1 : 0);
    }
    return cJSON_IsString(cur) ? cur->valuestring : NULL;
}

const char *sim_label(const cJSON *obj, const char *key)
{
    const cJSON *meta = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
    const cJSON *v =
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(meta, "labels"), key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

cJSON *sim_json_obj(cJSON *obj, const char *key)
{
    cJSON *c = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (cJSON_IsObject(c))
        return c;
    if (c)
        cJSON_DeleteItemFromObjectCaseSensitive(obj, key);
    return cJSON_AddObjectToObject(obj, key);
}

void sim_json_set_str(cJSON *obj, const char *key, const char *value)
{
    cJSON *v = cJSON_CreateString(value);
    if (cJSON_GetObjectItemCaseSensitive(obj, key))
        cJSON_ReplaceItemInObjectCaseSensitive(obj, key, v);
    else
        cJSON_AddItemToObject(obj, key, v);
}

void sim_json_set_num(cJSON *obj, const char *key, double value)
{
    cJSON *v = cJSON_CreateNumber(value);
    if (cJSON_GetObjectItemCaseSensitive(obj, key))
        cJSON_ReplaceItemInObjectCaseSensitive(obj, key, v);
    else
        cJSON_AddItemToObject(obj, key, v);
}

void sim_json_set_bool(cJSON *obj, const char *key, bool value)
{
    cJSON *v = cJSON_CreateBool(value);
    if (cJSON_GetObjectItemCaseSensitive(obj, key))
        cJSON_ReplaceItemInObjectCaseSensitive(obj, key, v);
    else
        cJSON_AddItemToObject(obj, key, v);
}

void sim_kids_add(struct sim_obj ***arr, size_t *n, size_t *cap, struct sim_obj *o)
{
    xgrow((void **)arr, cap, *n + 1, sizeof **arr);
    (*arr)[(*n)++] = o;
}

void sim_kids_del(struct sim_obj **arr, size_t *n, struct sim_obj *o)
{
    for (size_t i = 0; i < *n; i++) {
        if (arr[i] == o) {
            memmove(arr + i, arr + i + 1, (*n - i - 1) * sizeof *arr);
            (*n)--;
            return;
        }
    }
}

/* ---- buckets: one per (group, kind) --------------------------------------------------------- */

/* Kinds that are cluster-scoped even when the resource table does not serve them. */
static const char *const cluster_kinds[] = {
    "Namespace",
    "Node",
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
    "ClusterRole",
    "ClusterRoleBinding",
    "CustomResourceDefinition",
    "PriorityClass",
    "StorageClass",
    "PersistentVolume",
    "APIService",
    "IngressClass",
};

static bool kind_namespaced(const char *group, const char *kind)
{
    for (size_t i = 0; i < sim_resource_count(); i++) {
        const struct sim_resource *r = sim_resource_at(i);
        if (str_eq(r->kind, kind) && str_eq(r->group, group))
            return r->namespaced;
    }
    for (size_t i = 0; i < sizeof cluster_kinds / sizeof *cluster_kinds; i++)
        if (str_eq(cluster_kinds[i], kind))
            return false;
    return true;
}

struct sim_bucket *sim_bucket_get(struct sim *s, const char *group, const char *version,
                                  const char *kind)
{
    for (struct sim_bucket *b = s->buckets; b; b = b->next)
        if (str_eq(b->kind, kind) && str_eq(b->group, group))
            return b;
    struct sim_bucket *b = xcalloc(1, sizeof *b);
    b->group = xstrdup(group);
    b->version = xstrdup(version ? version : "v1");
    b->kind = xstrdup(kind);
    b->namespaced = kind_namespaced(group, kind);
    b->oldest_rv = s->rv;
    b->next = s->buckets;
    s->buckets = b;
    return b;
}

struct sim_bucket *sim_bucket_for_object(struct sim *s, const cJSON *obj)
{
    const char *av = sim_json_str(obj, "apiVersion");
    const char *kind = sim_json_str(obj, "kind");
    if (!av || !kind)
        return NULL;
    const char *slash = strchr(av, '/');
    char group[256] = "";
    const char *version = av;
    if (slash) {
        size_t n = (size_t)(slash - av);
        if (n >= sizeof group)
            return NULL;
        memcpy(group, av, n);
        group[n] = '\0';
        version = slash + 1;
    }
    return sim_bucket_get(s, group, version, kind);
}

static struct sim_bucket *bucket_for_resource(struct sim *s, const struct sim_resource *r)
{
    return sim_bucket_get(s, r->group, r->version, r->kind);
}

static char *obj_key(const char *ns, const char *name)
{
    return xasprintf("%s/%s", ns ? ns : "", name);
}

struct sim_obj *sim_obj_find(struct sim_bucket *b, const char *ns, const char *name)
{
    if (!b || !name)
        return NULL;
    char buf[512];
    int n = snprintf(buf, sizeof buf, "%s/%s", (b->namespaced && ns) ? ns : "", name);
    if (n < 0 || (size_t)n >= sizeof buf)
        return NULL;
    struct sim_obj *o = NULL;
    HASH_FIND_STR(b->objs, buf, o);
    return o;
}

/* ---- versions and history -------------------------------------------------------------------- */

static struct sim_ver *ver_new(cJSON *json)
{
    struct sim_ver *v = xcalloc(1, sizeof *v);
    v->json = json;
    v->refs = 1;
    return v;
}

static void ver_unref(struct sim_ver *v)
{
    if (v && --v->refs == 0) {
        cJSON_Delete(v->json);
        for (int i = 0; i < SIM_TEXT__COUNT; i++)
            free(v->text[i]);
        free(v);
    }
}

static void history_drop_oldest(struct sim_bucket *b)
{
    struct sim_event_rec *e = &b->ev[b->ev_head++];
    b->oldest_rv = e->rv;
    ver_unref(e->ver);
    if (b->ev_head == b->ev_n) {
        b->ev_head = b->ev_n = 0;
    } else if (b->ev_head > SIM_HISTORY_MAX) {
        memmove(b->ev, b->ev + b->ev_head, (b->ev_n - b->ev_head) * sizeof *b->ev);
        b->ev_n -= b->ev_head;
        b->ev_head = 0;
    }
}

static void history_record(struct sim *s, struct sim_bucket *b, const char *type, struct sim_ver *v)
{
    s->changes++;
    pthread_cond_broadcast(&s->cv);
    if (s->loading) {
        b->oldest_rv = s->rv; /* the initial state is the list, not history */
        return;
    }
    if (b->ev_n - b->ev_head >= SIM_HISTORY_MAX)
        history_drop_oldest(b);
    xgrow((void **)&b->ev, &b->ev_cap, b->ev_n + 1, sizeof *b->ev);
    v->refs++;
    b->ev[b->ev_n++] = (struct sim_event_rec){.rv = s->rv, .type = type, .ver = v};
}

static void set_rv(struct sim *s, cJSON *json)
{
    char rv[24];
    snprintf(rv, sizeof rv, "%llu", (unsigned long long)++s->rv);
    sim_json_set_str(sim_json_obj(json, "metadata"), "resourceVersion", rv);
}

/* ---- objects --------------------------------------------------------------------------------- */

struct sim_obj *sim_obj_add(struct sim *s, struct sim_bucket *b, cJSON *json, int64_t created_ns)
{
    cJSON *meta = sim_json_obj(json, "metadata");
    const char *name = sim_json_str(meta, "name");
    const char *ns = b->namespaced ? sim_json_str(meta, "namespace") : NULL;
    if (b->namespaced && !ns) {
        sim_json_set_str(meta, "namespace", "default");
        ns = sim_json_str(meta, "namespace");
    }
    if (!name || sim_obj_find(b, ns, name)) {
        cJSON_Delete(json);
        return NULL;
    }
    if (!cJSON_GetObjectItemCaseSensitive(meta, "uid")) {
        char uid[37];
        sim_new_uid(s, uid);
        sim_json_set_str(meta, "uid", uid);
    }
    if (!sim_json_str(meta, "creationTimestamp")) {
        char ts[32];
        sim_format_time(created_ns, ts);
        sim_json_set_str(meta, "creationTimestamp", ts);
    }
    if (cJSON_GetObjectItemCaseSensitive(json, "spec") && !str_eq(b->kind, "Pod") &&
        !cJSON_GetObjectItemCaseSensitive(meta, "generation"))
        sim_json_set_num(meta, "generation", 1);
    set_rv(s, json);

    struct sim_obj *o = xcalloc(1, sizeof *o);
    o->bucket = b;
    o->ns = xstrdup(ns);
    o->name = xstrdup(name);
    o->key = obj_key(ns, name);
    o->ver = ver_new(json);
    o->created_ns = created_ns;
    HASH_ADD_KEYPTR(hh, b->objs, o->key, strlen(o->key), o);
    b->count++;
    b->sorted_ok = false;
    history_record(s, b, "ADDED", o->ver);
    return o;
}

cJSON *sim_obj_edit(struct sim *s, struct sim_obj *o)
{
    (void)s;
    /* in place when no watch event shares this version */
    if (o->ver->refs == 1)
        return o->ver->json;
    return cJSON_Duplicate(o->ver->json, true);
}

void sim_obj_abort(struct sim_obj *o, cJSON *json)
{
    if (json != o->ver->json)
        cJSON_Delete(json);
}

void sim_obj_commit(struct sim *s, struct sim_obj *o, cJSON *json)
{
    set_rv(s, json);
    if (json != o->ver->json) {
        ver_unref(o->ver);
        o->ver = ver_new(json);
    }
    history_record(s, o->bucket, "MODIFIED", o->ver);
}

static void obj_free(struct sim_obj *o)
{
    sim_pod_logs_free(o);
    ver_unref(o->ver);
    free(o->kids);
    free(o->pods);
    free(o->fail_msg);
    free(o->key);
    free(o->ns);
    free(o->name);
    free(o);
}

void sim_obj_delete(struct sim *s, struct sim_obj *o)
{
    struct sim_bucket *b = o->bucket;
    cJSON *json = sim_obj_edit(s, o);
    set_rv(s, json);
    if (json != o->ver->json) {
        ver_unref(o->ver);
        o->ver = ver_new(json);
    }
    history_record(s, b, "DELETED", o->ver);
    HASH_DEL(b->objs, o);
    b->count--;
    b->sorted_ok = false;
    obj_free(o);
}

/* ---- lifetime -------------------------------------------------------------------------------- */

static int64_t wall_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * SIM_NS_PER_S + ts.tv_nsec;
}

int sim_new(const struct sim_options *opt, struct sim **out, struct idw_err *err)
{
    struct sim *s = xcalloc(1, sizeof *s);
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    s->rng = opt->seed ? opt->seed : 0x1d3a7c4b;
    s->speed = opt->speed > 0 ? opt->speed : 1.0;
    if (opt->frozen)
        s->speed = 0;
    s->wall_start_ms = time_now_ms();
    s->start_ns = s->now_ns = wall_ns() / SIM_NS_PER_S * SIM_NS_PER_S;
    s->loading = true;
    *out = NULL;
    if (scenario_load(s, opt, err) != 0) {
        sim_free(s);
        return -1;
    }
    s->loading = false;
    for (struct sim_bucket *b = s->buckets; b; b = b->next)
        b->oldest_rv = s->rv;
    *out = s;
    return 0;
}

static void churn_free(struct sim_churn *c)
{
    free(c->kind);
    free(c->ns);
    free(c->name);
    free(c->key);
    free(c->value);
    free(c->replicas);
}

void sim_free(struct sim *s)
{
    if (!s)
        return;
    struct sim_bucket *b = s->buckets;
    while (b) {
        struct sim_bucket *next = b->next;
        struct sim_obj *o, *tmp;
        HASH_ITER(hh, b->objs, o, tmp)
        {
            HASH_DEL(b->objs, o);
            obj_free(o);
        }
        for (size_t i = b->ev_head; i < b->ev_n; i++)
            ver_unref(b->ev[i].ver);
        free(b->ev);
        free(b->sorted);
        free(b->group);
        free(b->version);
        free(b->kind);
        free(b);
        b = next;
    }
    sim_nodes_free(s);
    for (size_t i = 0; i < s->n_traffic; i++) {
        free(s->traffic[i].ns);
        free(s->traffic[i].kind);
        free(s->traffic[i].name);
        free(s->traffic[i].resource);
    }
    free(s->traffic);
    for (size_t i = 0; i < s->n_churn; i++)
        churn_free(&s->churn[i]);
    free(s->churn);
    free(s->cronjobs);
    free(s->k8s_version);
    free(s->issuer);
    free(s->tenant);
    free(s->authority);
    free(s->proxy_image);
    free(s->proxy_init_image);
    free(s->webhook_ns);
    free(s->pi_ns);
    free(s->pi_version);
    free(s->file);
    cJSON_Delete(s->scenario);
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

void sim_lock(struct sim *s)
{
    pthread_mutex_lock(&s->mu);
}

void sim_unlock(struct sim *s)
{
    pthread_mutex_unlock(&s->mu);
}

void sim_wait(struct sim *s, int timeout_ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += timeout_ms / 1000;
    ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    uint64_t seen = s->changes;
    while (s->changes == seen) {
        if (pthread_cond_timedwait(&s->cv, &s->mu, &ts) != 0)
            break;
    }
}

static int64_t target_ns(const struct sim *s)
{
    int64_t elapsed_ms = time_now_ms() - s->wall_start_ms;
    return s->start_ns + (int64_t)((double)elapsed_ms * s->speed * 1e6) + s->advanced_ns;
}

void sim_tick(struct sim *s)
{
    int64_t t = target_ns(s);
    if (t > s->now_ns)
        sim_ctrl_advance(s, t);
}

void sim_advance(struct sim *s, int64_t ns)
{
    if (ns > 0)
        s->advanced_ns += ns;
    sim_tick(s);
}

int64_t sim_now_ns(const struct sim *s)
{
    return s->now_ns;
}

uint64_t sim_resource_version(const struct sim *s)
{
    return s->rv;
}

/* ---- lists and gets -------------------------------------------------------------------------- */

static int cmp_obj(const void *a, const void *b)
{
    const struct sim_obj *x = *(struct sim_obj *const *)a, *y = *(struct sim_obj *const *)b;
    int c = strcmp(x->ns ? x->ns : "", y->ns ? y->ns : "");
    return c ? c : strcmp(x->name, y->name);
}

static void bucket_sort(struct sim_bucket *b)
{
    if (b->sorted_ok)
        return;
    b->sorted = xrealloc(b->sorted, (b->count ? b->count : 1) * sizeof *b->sorted);
    size_t i = 0;
    struct sim_obj *o, *tmp;
    HASH_ITER(hh, b->objs, o, tmp) b->sorted[i++] = o;
    b->n_sorted = i;
    qsort(b->sorted, b->n_sorted, sizeof *b->sorted, cmp_obj);
    b->sorted_ok = true;
}

static const char *label_of(void *ctx, const char *key)
{
    const cJSON *labels = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(ctx, "metadata"), "labels");
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(labels, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static const char *field_of(void *ctx, const char *key)
{
    return sim_json_str(ctx, key);
}

static bool obj_matches(const cJSON *j, const struct selector *labels,
                        const struct selector *fields)
{
    if (labels && labels->n && !selector_match_fn(labels, label_of, (void *)j))
        return false;
    if (fields && fields->n && !selector_match_fn(fields, field_of, (void *)j))
        return false;
    return true;
}

size_t sim_list(struct sim *s, const struct sim_resource *r, const char *ns,
                const struct selector *labels, const struct selector *fields, const cJSON ***out)
{
    struct sim_bucket *b = bucket_for_resource(s, r);
    bucket_sort(b);
    size_t lo = 0, hi = b->n_sorted;
    if (ns && b->namespaced) {
        /* the namespace's objects are one contiguous run of the sorted array */
        size_t a = 0, z = b->n_sorted;
        while (a < z) {
            size_t m = (a + z) / 2;
            if (strcmp(b->sorted[m]->ns, ns) < 0)
                a = m + 1;
            else
                z = m;
        }
        lo = hi = a;
        while (hi < b->n_sorted && strcmp(b->sorted[hi]->ns, ns) == 0)
            hi++;
    }
    const cJSON **arr = xmalloc((hi - lo + 1) * sizeof *arr);
    size_t n = 0;
    for (size_t i = lo; i < hi; i++) {
        const cJSON *j = b->sorted[i]->ver->json;
        if (obj_matches(j, labels, fields))
            arr[n++] = j;
    }
    *out = arr;
    return n;
}

static int cmp_after(const struct sim_obj *o, const char *ns, const char *name)
{
    int d = strcmp(o->ns ? o->ns : "", ns ? ns : "");
    return d ? d : strcmp(o->name, name);
}

size_t sim_list_page(struct sim *s, const struct sim_resource *r, const char *ns,
                     const struct selector *labels, const struct selector *fields,
                     const char *after_ns, const char *after_name, size_t limit,
                     const cJSON ***out, bool *more, size_t *remaining)
{
    struct sim_bucket *b = bucket_for_resource(s, r);
    bucket_sort(b);
    size_t lo = 0, hi = b->n_sorted;
    if (ns && b->namespaced) {
        size_t a = 0, z = b->n_sorted;
        while (a < z) {
            size_t m = (a + z) / 2;
            if (strcmp(b->sorted[m]->ns, ns) < 0)
                a = m + 1;
            else
                z = m;
        }
        lo = hi = a;
        while (hi < b->n_sorted && strcmp(b->sorted[hi]->ns, ns) == 0)
            hi++;
    }
    if (after_name) { /* the first object after the continue key: a binary search */
        size_t a = lo, z = hi;
        while (a < z) {
            size_t m = (a + z) / 2;
            if (cmp_after(b->sorted[m], after_ns, after_name) <= 0)
                a = m + 1;
            else
                z = m;
        }
        lo = a;
    }
    size_t cap = limit && limit < hi - lo ? limit : hi - lo;
    const cJSON **arr = xmalloc((cap + 1) * sizeof *arr);
    size_t n = 0, i = lo;
    for (; i < hi && (!limit || n < limit); i++) {
        const cJSON *j = b->sorted[i]->ver->json;
        if (obj_matches(j, labels, fields))
            arr[n++] = j;
    }
    *more = false;
    *remaining = 0;
    if (!labels && !fields) {
        *remaining = hi - i;
        *more = i < hi;
    } else {
        for (; i < hi && !*more; i++)
            *more = obj_matches(b->sorted[i]->ver->json, labels, fields);
    }
    *out = arr;
    return n;
}

const char *sim_json_text(struct sim *s, const struct sim_resource *r, const cJSON *obj,
                          enum sim_text form, size_t *len)
{
    const char *ns = sim_json_str(obj, "metadata.namespace");
    const char *name = sim_json_str(obj, "metadata.name");
    struct sim_obj *o = name ? sim_obj_find(bucket_for_resource(s, r), ns, name) : NULL;
    struct sim_ver *v = o && o->ver->json == obj ? o->ver : NULL;
    if (v && v->text[form]) {
        *len = v->text_len[form];
        return v->text[form];
    }
    cJSON *tmp = cJSON_CreateObject();
    if (form == SIM_TEXT_PARTIAL) {
        cJSON_AddStringToObject(tmp, "kind", "PartialObjectMetadata");
        cJSON_AddStringToObject(tmp, "apiVersion", "meta.k8s.io/v1");
        const cJSON *meta = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
        if (meta)
            cJSON_AddItemReferenceToObject(tmp, "metadata", (cJSON *)meta);
    } else {
        for (const cJSON *c = obj->child; c; c = c->next)
            if (form == SIM_TEXT_FULL ||
                (!str_eq(c->string, "kind") && !str_eq(c->string, "apiVersion")))
                cJSON_AddItemReferenceToObject(tmp, c->string, (cJSON *)c);
    }
    char *text = cJSON_PrintUnformatted(tmp);
    cJSON_Delete(tmp);
    char *keep = xstrdup(text ? text : "{}");
    cJSON_free(text);
    *len = strlen(keep);
    if (!v) { /* not a stored version (an event's old copy): the caller's copy, kept briefly */
        static _Thread_local char *scratch;
        free(scratch);
        scratch = keep;
        return scratch;
    }
    v->text[form] = keep;
    v->text_len[form] = *len;
    return keep;
}

const cJSON *sim_get(struct sim *s, const struct sim_resource *r, const char *ns, const char *name)
{
    struct sim_obj *o = sim_obj_find(bucket_for_resource(s, r), ns, name);
    return o ? o->ver->json : NULL;
}

/* ---- patch ----------------------------------------------------------------------------------- */

static void resource_display(const struct sim_resource *r, char *out, size_t n)
{
    if (str_empty(r->group))
        snprintf(out, n, "%s", r->name);
    else
        snprintf(out, n, "%s.%s", r->name, r->group);
}

/* Fields a PATCH of the main resource cannot change: identity, bookkeeping and status. */
static void restore_fixed(cJSON *nj, const cJSON *cur)
{
    static const char *const top[] = {"apiVersion", "kind", "status"};
    static const char *const meta[] = {"name",           "namespace",         "uid",
                                       "generateName",   "creationTimestamp", "generation",
                                       "resourceVersion"};
    for (size_t i = 0; i < sizeof top / sizeof *top; i++) {
        cJSON_DeleteItemFromObjectCaseSensitive(nj, top[i]);
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(cur, top[i]);
        if (v)
            cJSON_AddItemToObject(nj, top[i], cJSON_Duplicate(v, true));
    }
    cJSON *nm = sim_json_obj(nj, "metadata");
    const cJSON *cm = cJSON_GetObjectItemCaseSensitive(cur, "metadata");
    for (size_t i = 0; i < sizeof meta / sizeof *meta; i++) {
        cJSON_DeleteItemFromObjectCaseSensitive(nm, meta[i]);
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(cm, meta[i]);
        if (v)
            cJSON_AddItemToObject(nm, meta[i], cJSON_Duplicate(v, true));
    }
}

static bool sub_equal(const cJSON *a, const cJSON *b, const char *key)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(a, key);
    const cJSON *y = cJSON_GetObjectItemCaseSensitive(b, key);
    if (!x || !y)
        return x == y;
    return cJSON_Compare(x, y, true);
}

/* The part of the spec whose change means new pods. */
static const char *template_key(const char *kind)
{
    if (str_eq(kind, "Deployment") || str_eq(kind, "StatefulSet") || str_eq(kind, "DaemonSet"))
        return "template";
    if (str_eq(kind, "CronJob"))
        return "jobTemplate";
    return NULL;
}

int sim_patch(struct sim *s, const struct sim_resource *r, const char *ns, const char *name,
              enum patch_type type, const cJSON *patch, bool dry_run, const char *field_manager,
              cJSON **result, struct idw_err *err)
{
    (void)field_manager;
    *result = NULL;
    char what[192];
    resource_display(r, what, sizeof what);
    struct sim_obj *o = sim_obj_find(bucket_for_resource(s, r), ns, name);
    if (!o) {
        idw_err_set(err, "%s \"%s\" not found", what, name);
        return 404;
    }
    const cJSON *cur = o->ver->json;
    cJSON *nj = NULL;
    int rc = patch_apply(type, cur, patch, r->kind, &nj, err);
    if (rc != 0) {
        cJSON_Delete(nj);
        return rc;
    }
    const char *want = sim_json_str(nj, "metadata.resourceVersion");
    if (want && !str_eq(want, sim_json_str(cur, "metadata.resourceVersion"))) {
        cJSON_Delete(nj);
        idw_err_set(err,
                    "Operation cannot be fulfilled on %s \"%s\": the object has been modified; "
                    "please apply your changes to the latest version and try again",
                    what, name);
        return 409;
    }
    restore_fixed(nj, cur);
    if (cJSON_Compare(nj, cur, true)) { /* a no-op patch writes nothing */
        cJSON_Delete(nj);
        *result = cJSON_Duplicate(cur, true);
        return 200;
    }
    const cJSON *cspec = cJSON_GetObjectItemCaseSensitive(cur, "spec");
    const cJSON *nspec = cJSON_GetObjectItemCaseSensitive(nj, "spec");
    bool spec_changed = !sub_equal(cur, nj, "spec");
    const char *tkey = template_key(r->kind);
    bool template_changed = tkey && !sub_equal(cspec, nspec, tkey);
    cJSON *meta = sim_json_obj(nj, "metadata");
    const cJSON *gen = cJSON_GetObjectItemCaseSensitive(meta, "generation");
    if (spec_changed && cJSON_IsNumber(gen))
        sim_json_set_num(meta, "generation", gen->valuedouble + 1);
    if (dry_run) {
        *result = nj;
        return 200;
    }
    sim_obj_commit(s, o, nj);
    *result = cJSON_Duplicate(o->ver->json, true);
    if (spec_changed && sim_is_workload_kind(r->kind))
        sim_ctrl_reconcile(s, o, template_changed);
    return 200;
}

/* ---- watch ----------------------------------------------------------------------------------- */

int sim_events_since(struct sim *s, const struct sim_resource *r, const char *ns, uint64_t since,
                     struct sim_event **out, size_t *n)
{
    struct sim_bucket *b = bucket_for_resource(s, r);
    *out = NULL;
    *n = 0;
    if (since < b->oldest_rv)
        return -1;
    /* events are in rv order: skip what the client has seen */
    size_t a = b->ev_head, z = b->ev_n;
    while (a < z) {
        size_t m = (a + z) / 2;
        if (b->ev[m].rv <= since)
            a = m + 1;
        else
            z = m;
    }
    struct sim_event *arr = xmalloc((b->ev_n - a + 1) * sizeof *arr);
    size_t k = 0;
    for (size_t i = a; i < b->ev_n; i++) {
        const cJSON *j = b->ev[i].ver->json;
        if (ns && b->namespaced && !str_eq(sim_json_str(j, "metadata.namespace"), ns))
            continue;
        arr[k++] =
            (struct sim_event){.rv = b->ev[i].rv, .type = b->ev[i].type, .res = r, .object = j};
    }
    *out = arr;
    *n = k;
    return 0;
}

void sim_compact(struct sim *s)
{
    for (struct sim_bucket *b = s->buckets; b; b = b->next) {
        for (size_t i = b->ev_head; i < b->ev_n; i++)
            ver_unref(b->ev[i].ver);
        b->ev_head = b->ev_n = 0;
        b->oldest_rv = s->rv;
    }
}

/* ---- pods ------------------------------------------------------------------------------------ */

bool sim_pod_exists(struct sim *s, const char *ns, const char *pod)
{
    return sim_obj_find(s->b_pods, ns, pod) != NULL;
}

/* ---- RBAC: first matching row of the scenario's table wins ----------------------------------- */

static bool rule_field(const cJSON *rule, const char *key, const char *value)
{
    const char *want = sim_json_str(rule, key);
    return !want || str_eq(want, "*") || str_eq(want, value ? value : "");
}

bool sim_rbac_allowed(struct sim *s, const char *user, const char *verb, const char *group,
                      const char *resource, const char *subresource, const char *ns,
                      const char *name, char *reason, size_t reason_len)
{
    if (reason_len)
        reason[0] = '\0';
    if (!s->rbac) {
        if (reason_len)
            snprintf(reason, reason_len, "idwatch-sim: no RBAC table, everything is allowed");
        return true;
    }
    char full[256];
    if (!str_empty(subresource))
        snprintf(full, sizeof full, "%s/%s", resource ? resource : "", subresource);
    else
        snprintf(full, sizeof full, "%s", resource ? resource : "");
    const cJSON *rule;
    cJSON_ArrayForEach(rule, s->rbac)
    {
        if (!rule_field(rule, "user", user) || !rule_field(rule, "verb", verb) ||
            !rule_field(rule, "group", group) || !rule_field(rule, "resource", full) ||
            !rule_field(rule, "namespace", ns) || !rule_field(rule, "name", name))
            continue;
        const char *why = sim_json_str(rule, "reason");
        if (why && reason_len)
            snprintf(reason, reason_len, "%s", why);
        return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(rule, "allowed"));
    }
    return false;
}

/* ---- facts ----------------------------------------------------------------------------------- */

const char *sim_kubernetes_version(const struct sim *s)
{
    return s->k8s_version;
}

const char *sim_issuer(const struct sim *s)
{
    return s->issuer;
}

void sim_set_issuer(struct sim *s, const char *issuer)
{
    free(s->issuer);
    s->issuer = xstrdup(issuer);
}

const cJSON *sim_scenario(const struct sim *s)
{
    return s->scenario;
}
