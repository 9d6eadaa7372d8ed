/* decode: Kubernetes JSON into model structs (see decode.h for the promises). */
#include <math.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "idwatch/decode.h"

/* Where we are in an object, for messages like "pod ns/name: spec.containers[1].name: ...". */
struct dctx {
    struct idw_err *err;
    const char *noun;
    char obj[160];
    char path[200];
    size_t plen;
};

static size_t path_push(struct dctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static size_t path_push(struct dctx *c, const char *fmt, ...)
{
    size_t old = c->plen;
    if (c->plen && c->plen + 1 < sizeof c->path)
        c->path[c->plen++] = '.';
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(c->path + c->plen, sizeof c->path - c->plen, fmt, ap);
    va_end(ap);
    if (n > 0)
        c->plen += (size_t)n < sizeof c->path - c->plen ? (size_t)n : sizeof c->path - c->plen - 1;
    return old;
}

static void path_pop(struct dctx *c, size_t old)
{
    c->plen = old;
    c->path[old] = '\0';
}

/* field may be "" (the current path itself is wrong). */
static int dfail(struct dctx *c, const char *field, const char *what)
{
    char f[80];
    str_sanitize(f, sizeof f, field);
    const char *dot = c->plen && *f ? "." : "";
    const char *colon = c->plen || *f ? ": " : "";
    return idw_err_set(c->err, "%s %s: %s%s%s%s%s", c->noun, c->obj[0] ? c->obj : "<unnamed>",
                       c->path, dot, f, colon, what);
}

static const cJSON *item(const cJSON *o, const char *key)
{
    return o ? cJSON_GetObjectItemCaseSensitive(o, key) : NULL;
}

static bool absent(const cJSON *v)
{
    return !v || cJSON_IsNull(v);
}

/* Optional string: absent/null leaves *out NULL. */
static int g_str(struct dctx *c, const cJSON *o, const char *key, char **out)
{
    const cJSON *v = item(o, key);
    if (absent(v))
        return 0;
    if (!cJSON_IsString(v) || !v->valuestring)
        return dfail(c, key, "expected a string");
    if (strlen(v->valuestring) > DECODE_MAX_STRING)
        return dfail(c, key, "string too long");
    free(*out);
    *out = xstrdup(v->valuestring);
    return 0;
}

static int g_str_req(struct dctx *c, const cJSON *o, const char *key, char **out)
{
    if (absent(item(o, key)))
        return dfail(c, key, "missing");
    return g_str(c, o, key, out);
}

/* The v1.6+ key, else the pre-1.6 capitalised one (pod-identity.md §1, "Odd casing"). */
static int g_str_either(struct dctx *c, const cJSON *o, const char *key, const char *old_key,
                        char **out, bool *old)
{
    if (!absent(item(o, key)) || absent(item(o, old_key)))
        return g_str(c, o, key, out);
    *old = true;
    return g_str(c, o, old_key, out);
}

static int g_int(struct dctx *c, const cJSON *o, const char *key, int64_t min, int64_t max,
                 int64_t *out)
{
    const cJSON *v = item(o, key);
    if (absent(v))
        return 0;
    if (!cJSON_IsNumber(v))
        return dfail(c, key, "expected an integer");
    double d = v->valuedouble;
    if (!isfinite(d) || d != floor(d))
        return dfail(c, key, "expected an integer");
    if (d < (double)min || d > (double)max)
        return dfail(c, key, "out of range");
    *out = (int64_t)d;
    return 0;
}

static int g_i32(struct dctx *c, const cJSON *o, const char *key, int32_t *out)
{
    int64_t v = *out;
    if (g_int(c, o, key, 0, INT32_MAX, &v) != 0)
        return -1;
    *out = (int32_t)v;
    return 0;
}

static int g_bool(struct dctx *c, const cJSON *o, const char *key, bool *out)
{
    const cJSON *v = item(o, key);
    if (absent(v))
        return 0;
    if (!cJSON_IsBool(v))
        return dfail(c, key, "expected a boolean");
    *out = cJSON_IsTrue(v);
    return 0;
}

static int g_obj(struct dctx *c, const cJSON *o, const char *key, const cJSON **out)
{
    const cJSON *v = item(o, key);
    *out = NULL;
    if (absent(v))
        return 0;
    if (!cJSON_IsObject(v))
        return dfail(c, key, "expected an object");
    *out = v;
    return 0;
}

static int g_arr(struct dctx *c, const cJSON *o, const char *key, const cJSON **out)
{
    const cJSON *v = item(o, key);
    *out = NULL;
    if (absent(v))
        return 0;
    if (!cJSON_IsArray(v))
        return dfail(c, key, "expected an array");
    *out = v;
    return 0;
}

/* A map of strings (labels, annotations, matchLabels). */
static int g_map(struct dctx *c, const cJSON *o, const char *key, struct model_kvlist *out)
{
    const cJSON *m;
    if (g_obj(c, o, key, &m) != 0)
        return -1;
    if (!m)
        return 0;
    const cJSON *e;
    size_t old = path_push(c, "%s", key);
    cJSON_ArrayForEach(e, m)
    {
        if (!e->string || !cJSON_IsString(e) || !e->valuestring) {
            int rc = dfail(c, e->string ? e->string : "", "expected a string");
            path_pop(c, old);
            return rc;
        }
        /* Only for kubectl: can be kilobytes per object and no check reads it. */
        if (strcmp(e->string, "kubectl.kubernetes.io/last-applied-configuration") == 0)
            continue;
        if (strlen(e->string) > DECODE_MAX_STRING || strlen(e->valuestring) > DECODE_MAX_STRING) {
            int rc = dfail(c, e->string, "string too long");
            path_pop(c, old);
            return rc;
        }
        kv_set(out, e->string, e->valuestring);
    }
    path_pop(c, old);
    return 0;
}

/* Iterates the objects of an optional array field: `path` gets "key[i]" while fn runs. */
typedef int (*elem_fn)(struct dctx *c, const cJSON *elem, size_t i, void *ctx);

static int g_each(struct dctx *c, const cJSON *o, const char *key, elem_fn fn, void *ctx)
{
    const cJSON *a;
    if (g_arr(c, o, key, &a) != 0)
        return -1;
    if (!a)
        return 0;
    size_t i = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, a)
    {
        size_t old = path_push(c, "%s[%zu]", key, i);
        int rc = cJSON_IsObject(e) ? fn(c, e, i, ctx) : dfail(c, "", "expected an object");
        path_pop(c, old);
        if (rc != 0)
            return -1;
        i++;
    }
    return 0;
}

static int64_t parse_time(const char *s)
{
    int64_t t = 0;
    if (s && time_parse_rfc3339(s, &t, NULL) != 0)
        return 0;
    return t;
}

/* Appends one zeroed element. The capacity is implied by the count (the next power of two), so
 * a pod's one container costs one slot, not eight. */
static void *arr_push(void *items_p, size_t *n, size_t elem)
{
    void **items = items_p;
    size_t k = *n;
    if ((k & (k - 1)) == 0) /* 0 or a power of two: full */
        *items = xrealloc(*items, (k ? 2 * k : 1) * elem);
    void *e = (char *)*items + k * elem;
    memset(e, 0, elem);
    (*n)++;
    return e;
}

/* ---- metadata ---------------------------------------------------------------------------- */

static int dec_meta_obj(struct dctx *c, const cJSON *md, struct model_meta *m)
{
    size_t old = path_push(c, "metadata");
    char *created = NULL, *deleted = NULL;
    int rc = -1;
    if (g_str_req(c, md, "name", &m->name) || g_str(c, md, "namespace", &m->namespace_) ||
        g_str(c, md, "uid", &m->uid) || g_str(c, md, "resourceVersion", &m->resource_version) ||
        g_int(c, md, "generation", 0, INT64_MAX, &m->generation) ||
        g_str(c, md, "creationTimestamp", &created) ||
        g_str(c, md, "deletionTimestamp", &deleted) || g_map(c, md, "labels", &m->labels) ||
        g_map(c, md, "annotations", &m->annotations))
        goto out;
    /* owners: grown one by one so that a failure half-way still frees what was read */
    const cJSON *owners;
    if (g_arr(c, md, "ownerReferences", &owners) != 0)
        goto out;
    if (owners) {
        size_t i = 0;
        const cJSON *e;
        cJSON_ArrayForEach(e, owners)
        {
            size_t o2 = path_push(c, "ownerReferences[%zu]", i);
            struct model_owner *o = arr_push(&m->owners, &m->n_owners, sizeof *m->owners);
            int r = cJSON_IsObject(e) ? 0 : dfail(c, "", "expected an object");
            if (r == 0 &&
                (g_str_req(c, e, "kind", &o->kind) || g_str_req(c, e, "name", &o->name) ||
                 g_str(c, e, "uid", &o->uid) || g_bool(c, e, "controller", &o->controller)))
                r = -1;
            path_pop(c, o2);
            if (r != 0)
                goto out;
            i++;
        }
    }
    m->created = parse_time(created);
    m->deleted = parse_time(deleted);
    rc = 0;
out:
    free(created);
    free(deleted);
    path_pop(c, old);
    return rc;
}

static int dec_meta(struct dctx *c, const cJSON *obj, struct model_meta *m)
{
    const cJSON *md;
    if (g_obj(c, obj, "metadata", &md) != 0)
        return -1;
    if (!md)
        return dfail(c, "metadata", "missing");
    return dec_meta_obj(c, md, m);
}

/* Fills c->obj with "ns/name" (sanitized) before anything else can fail. */
static void ctx_name(struct dctx *c, const cJSON *md)
{
    const cJSON *ns = item(md, "namespace"), *name = item(md, "name");
    char a[64], b[96];
    c->obj[0] = '\0';
    if (!cJSON_IsString(name))
        return;
    str_sanitize(b, sizeof b, name->valuestring);
    if (cJSON_IsString(ns) && ns->valuestring[0]) {
        str_sanitize(a, sizeof a, ns->valuestring);
        snprintf(c->obj, sizeof c->obj, "%s/%s", a, b);
    } else {
        snprintf(c->obj, sizeof c->obj, "%s", b);
    }
}

/* ---- pods -------------------------------------------------------------------------------- */

struct pod_dec {
    struct model_pod *p;
    enum model_container_type type;
};

static int dec_env(struct dctx *c, const cJSON *e, size_t i, void *ctx)
{
    struct model_container *k = ctx;
    (void)i;
    char *name = NULL;
    if (g_str_req(c, e, "name", &name) != 0)
        return -1;
    if (!str_has_prefix(name, "AZURE_")) { /* the webhook and the SDKs only read these */
        free(name);
        return 0;
    }
    struct model_env *env = arr_push(&k->env, &k->n_env, sizeof *k->env);
    env->name = name;
    const cJSON *vf;
    if (g_str(c, e, "value", &env->value) || g_obj(c, e, "valueFrom", &vf))
        return -1;
    env->value_from = vf != NULL;
    return 0;
}

static int dec_mount(struct dctx *c, const cJSON *e, size_t i, void *ctx)
{
    struct model_container *k = ctx;
    (void)i;
    struct model_mount *m = arr_push(&k->mounts, &k->n_mounts, sizeof *k->mounts);
    if (g_str_req(c, e, "name", &m->name) || g_str(c, e, "mountPath", &m->mount_path) ||
        g_str(c, e, "subPath", &m->sub_path) || g_bool(c, e, "readOnly", &m->read_only))
        return -1;
    return 0;
}

static int dec_container(struct dctx *c, const cJSON *e, size_t i, void *ctx)
{
    struct pod_dec *pd = ctx;
    struct model_pod *p = pd->p;
    (void)i;
    struct model_container *k = arr_push(&p->containers, &p->n_containers, sizeof *p->containers);
    k->type = pd->type;
    char *restart = NULL;
    const cJSON *env_from;
    int rc = -1;
    if (g_str_req(c, e, "name", &k->name) || g_str(c, e, "image", &k->image) ||
        g_str(c, e, "restartPolicy", &restart) || g_each(c, e, "env", dec_env, k) ||
        g_arr(c, e, "envFrom", &env_from) || g_each(c, e, "volumeMounts", dec_mount, k))
        goto out;
    /* Only init containers can be native sidecars (restartPolicy is invalid elsewhere). */
    k->restart_always = pd->type == MODEL_CONTAINER_INIT && str_eq(restart, "Always");
    k->env_from = env_from && cJSON_GetArraySize(env_from) > 0;
    rc = 0;
out:
    free(restart);
    return rc;
}

static int dec_token_source(struct dctx *c, const cJSON *e, size_t i, void *ctx)
{
    void **args = ctx;
    struct model_pod *p = args[0];
    const char *volume = args[1];
    (void)i;
    const cJSON *sat;
    if (g_obj(c, e, "serviceAccountToken", &sat) != 0)
        return -1;
    if (!sat)
        return 0;
    struct model_token_volume *t = arr_push(&p->tokens, &p->n_tokens, sizeof *p->tokens);
    t->volume = xstrdup(volume);
    size_t old = path_push(c, "serviceAccountToken");
    int rc = (g_str(c, sat, "path", &t->path) || g_str(c, sat, "audience", &t->audience) ||
              g_int(c, sat, "expirationSeconds", 0, INT32_MAX, &t->expiration_seconds))
                 ? -1
                 : 0;
    path_pop(c, old);
    return rc;
}

static int dec_volume(struct dctx *c, const cJSON *e, size_t i, void *ctx)
{
    (void)i;
    char *name = NULL;
    const cJSON *proj;
    int rc = -1;
    if (g_str_req(c, e, "name", &name) || g_obj(c, e, "projected", &proj))
        goto out;
    rc = 0;
    if (proj) {
        void *args[2] = {ctx, name};
        size_t old = path_push(c, "projected");
        rc = g_each(c, proj, "sources", dec_token_source, args);
        path_pop(c, old);
    }
out:
    free(name);
    return rc;
}

static int dec_condition(struct dctx *c, const cJSON *e, size_t i, void *ctx)
{
    struct model_pod *p = ctx;
    (void)i;
    char *type = NULL, *status = NULL;
    int rc = (g_str(c, e, "type", &type) || g_str(c, e, "status", &status)) ? -1 : 0;
    if (rc == 0 && str_eq(type, "Ready"))
        p->ready = str_eq(status, "True");
    free(type);
    free(status);
    return rc;
}

static int dec_cstatus(struct dctx *c, const cJSON *e, size_t i, void *ctx)
{
    struct model_pod *p = ctx;
    (void)i;
    int32_t n = 0;
    if (g_i32(c, e, "restartCount", &n) != 0)
        return -1;
    p->restarts = n > INT32_MAX - p->restarts ? INT32_MAX : p->restarts + n;
    /* The newest container start: a container's log (kubectl logs) begins there. */
    const cJSON *state = NULL, *running = NULL;
    char *started = NULL;
    if (g_obj(c, e, "state", &state) || (state && g_obj(c, state, "running", &running)) ||
        (running && g_str(c, running, "startedAt", &started)))
        return -1;
    int64_t t = parse_time(started);
    free(started);
    if (t > p->started)
        p->started = t;
    return 0;
}

static int dec_pod(struct dctx *c, const cJSON *obj, bool meta_only, void **out)
{
    struct model_pod *p = xcalloc(1, sizeof *p);
    *out = p;
    if (dec_meta(c, obj, &p->meta) != 0)
        return -1;
    const cJSON *spec = NULL, *status = NULL;
    if (!meta_only && (g_obj(c, obj, "spec", &spec) || g_obj(c, obj, "status", &status)))
        return -1;
    p->has_spec = spec != NULL;
    if (spec) {
        size_t old = path_push(c, "spec");
        struct pod_dec init = {p, MODEL_CONTAINER_INIT}, reg = {p, MODEL_CONTAINER_REGULAR};
        int rc = -1;
        if (g_str(c, spec, "serviceAccountName", &p->service_account) ||
            (!p->service_account && g_str(c, spec, "serviceAccount", &p->service_account)) ||
            g_str(c, spec, "nodeName", &p->node_name) ||
            g_bool(c, spec, "hostNetwork", &p->host_network) ||
            g_each(c, spec, "initContainers", dec_container, &init) ||
            g_each(c, spec, "containers", dec_container, &reg) ||
            g_each(c, spec, "volumes", dec_volume, p))
            goto spec_out;
        if (str_empty(p->service_account)) {
            free(p->service_account);
            p->service_account = xstrdup("default");
        }
        rc = 0;
    spec_out:
        path_pop(c, old);
        if (rc != 0)
            return -1;
    }
    if (status) {
        size_t old = path_push(c, "status");
        char *phase = NULL;
        int rc = (g_str(c, status, "phase", &phase) || g_str(c, status, "podIP", &p->pod_ip) ||
                  g_each(c, status, "conditions", dec_condition, p) ||
                  g_each(c, status, "containerStatuses", dec_cstatus, p))
                     ? -1
                     : 0;
        p->phase = model_phase_parse(phase);
        free(phase);
        path_pop(c, old);
        if (rc != 0)
            return -1;
    }
    return 0;
}

/* ---- workloads ----------------------------------------------------------------------------- */

static int dec_template(struct dctx *c, const cJSON *tmpl, struct model_template *t)
{
    const cJSON *md, *spec;
    if (g_obj(c, tmpl, "metadata", &md) || g_obj(c, tmpl, "spec", &spec))
        return -1;
    size_t old = path_push(c, "metadata");
    int rc = (g_map(c, md, "labels", &t->labels) || g_map(c, md, "annotations", &t->annotations))
                 ? -1
                 : 0;
    path_pop(c, old);
    if (rc != 0)
        return -1;
    old = path_push(c, "spec");
    rc = g_str(c, spec, "serviceAccountName", &t->service_account);
    if (rc == 0 && !t->service_account)
        rc = g_str(c, spec, "serviceAccount", &t->service_account);
    path_pop(c, old);
    if (rc != 0)
        return -1;
    if (str_empty(t->service_account)) {
        free(t->service_account);
        t->service_account = xstrdup("default");
    }
    return 0;
}

/* Where each kind keeps its replica counts: one row per kind, NULL = not reported. */
struct replica_fields {
    const char *desired_spec, *desired_status, *ready, *available, *updated;
};
static const struct replica_fields replica_fields[MODEL_KIND__COUNT] = {
    [MODEL_KIND_DEPLOYMENT] = {"replicas", NULL, "readyReplicas", "availableReplicas",
                               "updatedReplicas"},
    [MODEL_KIND_STATEFULSET] = {"replicas", NULL, "readyReplicas", "availableReplicas",
                                "updatedReplicas"},
    [MODEL_KIND_DAEMONSET] = {NULL, "desiredNumberScheduled", "numberReady", "numberAvailable",
                              "updatedNumberScheduled"},
    [MODEL_KIND_CRONJOB] = {NULL, NULL, NULL, NULL, NULL},
};

static int dec_workload_kind(struct dctx *c, const cJSON *obj, bool meta_only,
                             enum model_workload_kind kind, void **out)
{
    struct model_workload *w = xcalloc(1, sizeof *w);
    *out = w;
    w->kind = kind;
    if (dec_meta(c, obj, &w->meta) != 0)
        return -1;
    const cJSON *spec = NULL, *status = NULL;
    if (meta_only)
        return 0;
    if (g_obj(c, obj, "spec", &spec) || g_obj(c, obj, "status", &status))
        return -1;
    const struct replica_fields *rf = &replica_fields[kind];
    int rc = 0;
    if (spec) {
        size_t old = path_push(c, "spec");
        const cJSON *tmpl = NULL;
        if (kind == MODEL_KIND_DEPLOYMENT || kind == MODEL_KIND_STATEFULSET)
            w->replicas_desired = 1; /* the API's default */
        if (rf->desired_spec)
            rc = g_i32(c, spec, rf->desired_spec, &w->replicas_desired);
        if (rc == 0 && kind == MODEL_KIND_CRONJOB) {
            const cJSON *jt = NULL, *js = NULL;
            rc = g_str(c, spec, "schedule", &w->schedule) ||
                 g_bool(c, spec, "suspend", &w->suspended) || g_obj(c, spec, "jobTemplate", &jt);
            if (rc == 0 && jt) {
                size_t o2 = path_push(c, "jobTemplate");
                rc = g_obj(c, jt, "spec", &js);
                if (rc == 0 && js) {
                    size_t o3 = path_push(c, "spec");
                    rc = g_obj(c, js, "template", &tmpl);
                    if (rc == 0 && tmpl) {
                        size_t o4 = path_push(c, "template");
                        rc = dec_template(c, tmpl, &w->tmpl);
                        path_pop(c, o4);
                    }
                    path_pop(c, o3);
                }
                path_pop(c, o2);
            }
        } else if (rc == 0) {
            rc = g_obj(c, spec, "template", &tmpl);
            if (rc == 0 && tmpl) {
                size_t o2 = path_push(c, "template");
                rc = dec_template(c, tmpl, &w->tmpl);
                path_pop(c, o2);
            }
        }
        path_pop(c, old);
        if (rc != 0)
            return -1;
    }
    if (status) {
        size_t old = path_push(c, "status");
        rc = g_int(c, status, "observedGeneration", 0, INT64_MAX, &w->observed_generation);
        if (rc == 0 && rf->desired_status)
            rc = g_i32(c, status, rf->desired_status, &w->replicas_desired);
        if (rc == 0 && rf->ready)
            rc = g_i32(c, status, rf->ready, &w->replicas_ready);
        if (rc == 0 && rf->available)
            rc = g_i32(c, status, rf->available, &w->replicas_available);
        if (rc == 0 && rf->updated)
            rc = g_i32(c, status, rf->updated, &w->replicas_updated);
        if (rc == 0 && kind == MODEL_KIND_CRONJOB) {
            const cJSON *active;
            rc = g_arr(c, status, "active", &active);
            if (rc == 0 && active)
                w->replicas_desired = cJSON_GetArraySize(active);
        }
        path_pop(c, old);
        if (rc != 0)
            return -1;
    }
    return 0;
}

static int dec_deployment(struct dctx *c, const cJSON *o, bool mo, void **out)
{
    return dec_workload_kind(c, o, mo, MODEL_KIND_DEPLOYMENT, out);
}
static int dec_statefulset(struct dctx *c, const cJSON *o, bool mo, void **out)
{
    return dec_workload_kind(c, o, mo, MODEL_KIND_STATEFULSET, out);
}
static int dec_daemonset(struct dctx *c, const cJSON *o, bool mo, void **out)
{
    return dec_workload_kind(c, o, mo, MODEL_KIND_DAEMONSET, out);
}
static int dec_cronjob(struct dctx *c, const cJSON *o, bool mo, void **out)
{
    return dec_workload_kind(c, o, mo, MODEL_KIND_CRONJOB, out);
}

static int dec_link_kind(struct dctx *c, const cJSON *obj, const char *kind, void **out)
{
    struct model_link *l = xcalloc(1, sizeof *l);
    *out = l;
    l->kind = xstrdup(kind);
    return dec_meta(c, obj, &l->meta);
}

static int dec_replicaset(struct dctx *c, const cJSON *o, bool mo, void **out)
{
    (void)mo;
    return dec_link_kind(c, o, "ReplicaSet", out);
}
static int dec_job(struct dctx *c, const cJSON *o, bool mo, void **out)
{
    (void)mo;
    return dec_link_kind(c, o, "Job", out);
}

static int dec_sa(struct dctx *c, const cJSON *o, bool mo, void **out)
{
    (void)mo;
    struct model_service_account *sa = xcalloc(1, sizeof *sa);
    *out = sa;
    return dec_meta(c, o, &sa->meta);
}

static int dec_ns(struct dctx *c, const cJSON *o, bool mo, void **out)
{
    (void)mo;
    struct model_namespace *ns = xcalloc(1, sizeof *ns);
    *out = ns;
    return dec_meta(c, o, &ns->meta);
}

/* ---- mutating webhook configurations ------------------------------------------------------ */

static int dec_webhook(struct dctx *c, const cJSON *e, size_t i, void *ctx)
{
    struct model_mwc *m = ctx;
    (void)i;
    struct model_webhook *h = arr_push(&m->webhooks, &m->n_webhooks, sizeof *m->webhooks);
    const cJSON *cc, *svc = NULL, *sel, *exprs = NULL;
    if (g_str_req(c, e, "name", &h->name) || g_str(c, e, "failurePolicy", &h->failure_policy) ||
        g_obj(c, e, "clientConfig", &cc) || g_obj(c, e, "objectSelector", &sel))
        return -1;
    if (cc) {
        size_t old = path_push(c, "clientConfig");
        int rc = g_str(c, cc, "url", &h->url) || g_obj(c, cc, "service", &svc);
        if (rc == 0 && svc) {
            size_t o2 = path_push(c, "service");
            rc = g_str(c, svc, "namespace", &h->service_namespace) ||
                 g_str(c, svc, "name", &h->service_name);
            path_pop(c, o2);
        }
        const cJSON *ca = item(cc, "caBundle");
        if (rc == 0 && !absent(ca)) {
            if (!cJSON_IsString(ca) || !ca->valuestring)
                rc = dfail(c, "caBundle", "expected a string");
            else
                h->ca_bundle_len = strlen(ca->valuestring); /* only its size matters */
        }
        path_pop(c, old);
        if (rc != 0)
            return -1;
    }
    if (sel) {
        size_t old = path_push(c, "objectSelector");
        int rc = g_map(c, sel, "matchLabels", &h->object_selector) ||
                 g_arr(c, sel, "matchExpressions", &exprs);
        path_pop(c, old);
        if (rc != 0)
            return -1;
        /* The API server turns a missing selector into {}: only a non-empty one selects. */
        h->has_object_selector =
            h->object_selector.n > 0 || (exprs && cJSON_GetArraySize(exprs) > 0);
    }
    return 0;
}

static int dec_mwc(struct dctx *c, const cJSON *o, bool mo, void **out)
{
    struct model_mwc *m = xcalloc(1, sizeof *m);
    *out = m;
    if (dec_meta(c, o, &m->meta) != 0)
        return -1;
    return mo ? 0 : g_each(c, o, "webhooks", dec_webhook, m);
}

/* ---- AAD Pod Identity CRDs ------------------------------------------------------------------ */

static int crd_spec(struct dctx *c, const cJSON *o, bool mo, const cJSON **spec)
{
    *spec = NULL;
    return mo ? 0 : g_obj(c, o, "spec", spec);
}

static int dec_azid(struct dctx *c, const cJSON *o, bool mo, void **out)
{
    struct model_azure_identity *x = xcalloc(1, sizeof *x);
    *out = x;
    const cJSON *spec;
    if (dec_meta(c, o, &x->meta) || crd_spec(c, o, mo, &spec))
        return -1;
    if (!spec)
        return 0;
    size_t old = path_push(c, "spec");
    int64_t type = 0;
    const char *type_key =
        absent(item(spec, "type")) && !absent(item(spec, "Type")) ? "Type" : "type";
    int rc = g_int(c, spec, type_key, 0, INT32_MAX, &type) ||
             g_str_either(c, spec, "clientID", "ClientID", &x->client_id, &x->old_casing) ||
             g_str_either(c, spec, "resourceID", "ResourceID", &x->resource_id, &x->old_casing) ||
             g_str_either(c, spec, "tenantID", "TenantID", &x->tenant_id, &x->old_casing);
    x->type = (int)type;
    path_pop(c, old);
    return rc ? -1 : 0;
}

static int dec_azbinding(struct dctx *c, const cJSON *o, bool mo, void **out)
{
    struct model_azure_identity_binding *x = xcalloc(1, sizeof *x);
    *out = x;
    const cJSON *spec;
    if (dec_meta(c, o, &x->meta) || crd_spec(c, o, mo, &spec))
        return -1;
    if (!spec)
        return 0;
    size_t old = path_push(c, "spec");
    int rc =
        g_str_either(c, spec, "azureIdentity", "AzureIdentity", &x->identity, &x->old_casing) ||
        g_str_either(c, spec, "selector", "Selector", &x->selector, &x->old_casing);
    path_pop(c, old);
    return rc ? -1 : 0;
}

/* spec.<ref>.metadata.{name,namespace} of an embedded object. */
static int ref_meta(struct dctx *c, const cJSON *spec, const char *ref, char **name, char **ns)
{
    const cJSON *r, *md = NULL;
    if (g_obj(c, spec, ref, &r) != 0)
        return -1;
    if (!r)
        return 0;
    size_t old = path_push(c, "%s", ref);
    int rc = g_obj(c, r, "metadata", &md);
    if (rc == 0 && md) {
        size_t o2 = path_push(c, "metadata");
        rc = g_str(c, md, "name", name) || (ns && g_str(c, md, "namespace", ns));
        path_pop(c, o2);
    }
    path_pop(c, old);
    return rc ? -1 : 0;
}

static int dec_azassigned(struct dctx *c, const cJSON *o, bool mo, void **out)
{
    struct model_azure_assigned_identity *x = xcalloc(1, sizeof *x);
    *out = x;
    const cJSON *spec, *status = NULL;
    if (dec_meta(c, o, &x->meta) || crd_spec(c, o, mo, &spec) ||
        (!mo && g_obj(c, o, "status", &status)))
        return -1;
    if (spec) {
        size_t old = path_push(c, "spec");
        /* MIC writes "nodename" (lower-case n); accept the spelling a human would use too */
        int rc = g_str(c, spec, "pod", &x->pod) ||
                 g_str(c, spec, "podNamespace", &x->pod_namespace) ||
                 g_str_either(c, spec, "nodename", "nodeName", &x->node_name, &(bool){false}) ||
                 ref_meta(c, spec, "azureIdentityRef", &x->identity_name, &x->identity_namespace) ||
                 ref_meta(c, spec, "azureBindingRef", &x->binding_name, NULL);
        path_pop(c, old);
        if (rc)
            return -1;
    }
    if (status) {
        size_t old = path_push(c, "status");
        int rc = g_str(c, status, "status", &x->status);
        path_pop(c, old);
        if (rc)
            return -1;
    }
    return 0;
}

static int dec_azexception(struct dctx *c, const cJSON *o, bool mo, void **out)
{
    struct model_azure_pod_identity_exception *x = xcalloc(1, sizeof *x);
    *out = x;
    const cJSON *spec;
    if (dec_meta(c, o, &x->meta) || crd_spec(c, o, mo, &spec))
        return -1;
    if (!spec)
        return 0;
    size_t old = path_push(c, "spec");
    const char *key = absent(item(spec, "podLabels")) && !absent(item(spec, "PodLabels"))
                          ? "PodLabels"
                          : "podLabels";
    int rc = g_map(c, spec, key, &x->pod_labels);
    path_pop(c, old);
    return rc ? -1 : 0;
}

/* ---- the type table ------------------------------------------------------------------------- */

static void free_pod(void *o)
{
    model_pod_free(o);
}
static void free_workload(void *o)
{
    model_workload_free(o);
}
static void free_link(void *o)
{
    model_link_free(o);
}
static void free_sa(void *o)
{
    model_sa_free(o);
}
static void free_ns(void *o)
{
    model_namespace_free(o);
}
static void free_mwc(void *o)
{
    model_mwc_free(o);
}
static void free_azid(void *o)
{
    model_azid_free(o);
}
static void free_azbinding(void *o)
{
    model_azbinding_free(o);
}
static void free_azassigned(void *o)
{
    model_azassigned_free(o);
}
static void free_azexception(void *o)
{
    model_azexception_free(o);
}

static void put_pod(struct store *s, void *o)
{
    store_put_pod(s, o);
}
static void put_workload(struct store *s, void *o)
{
    store_put_workload(s, o);
}
static void put_link(struct store *s, void *o)
{
    store_put_link(s, o);
}
static void put_sa(struct store *s, void *o)
{
    store_put_sa(s, o);
}
static void put_ns(struct store *s, void *o)
{
    store_put_namespace(s, o);
}
static void put_mwc(struct store *s, void *o)
{
    store_put_mwc(s, o);
}
static void put_azid(struct store *s, void *o)
{
    store_put_azid(s, o);
}
static void put_azbinding(struct store *s, void *o)
{
    store_put_azbinding(s, o);
}
static void put_azassigned(struct store *s, void *o)
{
    store_put_azassigned(s, o);
}
static void put_azexception(struct store *s, void *o)
{
    store_put_azexception(s, o);
}

static int del_pod(struct store *s, const struct decode_object *o)
{
    return store_del_pod(s, o->u.pod->meta.namespace_, o->u.pod->meta.name);
}
static int del_workload(struct store *s, const struct decode_object *o)
{
    const struct model_workload *w = o->u.workload;
    return store_del_workload(s, w->kind, w->meta.namespace_, w->meta.name);
}
static int del_link(struct store *s, const struct decode_object *o)
{
    const struct model_link *l = o->u.link;
    return store_del_link(s, l->kind, l->meta.namespace_, l->meta.name);
}
static int del_sa(struct store *s, const struct decode_object *o)
{
    return store_del_sa(s, o->u.sa->meta.namespace_, o->u.sa->meta.name);
}
static int del_ns(struct store *s, const struct decode_object *o)
{
    return store_del_namespace(s, o->u.ns->meta.name);
}
static int del_mwc(struct store *s, const struct decode_object *o)
{
    return store_del_mwc(s, o->u.mwc->meta.name);
}
static int del_azid(struct store *s, const struct decode_object *o)
{
    return store_del_azid(s, o->u.azid->meta.namespace_, o->u.azid->meta.name);
}
static int del_azbinding(struct store *s, const struct decode_object *o)
{
    return store_del_azbinding(s, o->u.azbinding->meta.namespace_, o->u.azbinding->meta.name);
}
static int del_azassigned(struct store *s, const struct decode_object *o)
{
    return store_del_azassigned(s, o->u.azassigned->meta.namespace_, o->u.azassigned->meta.name);
}
static int del_azexception(struct store *s, const struct decode_object *o)
{
    return store_del_azexception(s, o->u.azexception->meta.namespace_, o->u.azexception->meta.name);
}

/* Per type: decoder, free, store put/del. Every model object starts with its meta, except
 * workloads (kind first): meta_off says where it is. */
#define DECODE_OPS(X)                                                                              \
    X(POD, dec_pod, free_pod, put_pod, del_pod, struct model_pod)                                  \
    X(DEPLOYMENT, dec_deployment, free_workload, put_workload, del_workload,                       \
      struct model_workload)                                                                       \
    X(STATEFULSET, dec_statefulset, free_workload, put_workload, del_workload,                     \
      struct model_workload)                                                                       \
    X(DAEMONSET, dec_daemonset, free_workload, put_workload, del_workload, struct model_workload)  \
    X(CRONJOB, dec_cronjob, free_workload, put_workload, del_workload, struct model_workload)      \
    X(REPLICASET, dec_replicaset, free_link, put_link, del_link, struct model_link)                \
    X(JOB, dec_job, free_link, put_link, del_link, struct model_link)                              \
    X(SERVICEACCOUNT, dec_sa, free_sa, put_sa, del_sa, struct model_service_account)               \
    X(NAMESPACE, dec_ns, free_ns, put_ns, del_ns, struct model_namespace)                          \
    X(MWC, dec_mwc, free_mwc, put_mwc, del_mwc, struct model_mwc)                                  \
    X(AZID, dec_azid, free_azid, put_azid, del_azid, struct model_azure_identity)                  \
    X(AZBINDING, dec_azbinding, free_azbinding, put_azbinding, del_azbinding,                      \
      struct model_azure_identity_binding)                                                         \
    X(AZASSIGNED, dec_azassigned, free_azassigned, put_azassigned, del_azassigned,                 \
      struct model_azure_assigned_identity)                                                        \
    X(AZEXCEPTION, dec_azexception, free_azexception, put_azexception, del_azexception,            \
      struct model_azure_pod_identity_exception)

static const struct {
    const char *kind, *noun;
} types[DECODE__COUNT] = {
#define X(id, kind, noun) [DECODE_##id] = {kind, noun},
    DECODE_TYPES(X)
#undef X
};

static const struct {
    int (*decode)(struct dctx *, const cJSON *, bool, void **);
    void (*free)(void *);
    void (*put)(struct store *, void *);
    int (*del)(struct store *, const struct decode_object *);
    size_t meta_off;
} ops[DECODE__COUNT] = {
#define X(id, dec, fr, put, del, type) [DECODE_##id] = {dec, fr, put, del, offsetof(type, meta)},
    DECODE_OPS(X)
#undef X
};

const char *decode_type_kind(enum decode_type t)
{
    return (size_t)t < DECODE__COUNT ? types[t].kind : "?";
}

int decode_type_parse(const char *kind, enum decode_type *out)
{
    for (size_t i = 0; i < DECODE__COUNT; i++) {
        if (str_eq(kind, types[i].kind)) {
            if (out)
                *out = (enum decode_type)i;
            return 0;
        }
    }
    return -1;
}

void decode_object_free(struct decode_object *o)
{
    if (!o)
        return;
    if (o->u.any && (size_t)o->type < DECODE__COUNT)
        ops[o->type].free(o->u.any);
    o->u.any = NULL;
}

const struct model_meta *decode_object_meta(const struct decode_object *o)
{
    if (!o || !o->u.any || (size_t)o->type >= DECODE__COUNT)
        return NULL;
    return (const struct model_meta *)(const void *)((const char *)o->u.any +
                                                     ops[o->type].meta_off);
}

int decode_object(const cJSON *obj, enum decode_type t, struct decode_object *out,
                  struct idw_err *err)
{
    memset(out, 0, sizeof *out);
    if ((size_t)t >= DECODE__COUNT)
        return idw_err_set(err, "decode: unknown object type %d", (int)t);
    struct dctx c = {.err = err, .noun = types[t].noun};
    if (!cJSON_IsObject(obj))
        return dfail(&c, "", "expected a JSON object");
    ctx_name(&c, item(obj, "metadata"));
    bool meta_only = false;
    const cJSON *kind = item(obj, "kind");
    if (!absent(kind)) {
        if (!cJSON_IsString(kind))
            return dfail(&c, "kind", "expected a string");
        meta_only = strcmp(kind->valuestring, "PartialObjectMetadata") == 0;
        if (!meta_only && strcmp(kind->valuestring, types[t].kind) != 0) {
            char k[64];
            str_sanitize(k, sizeof k, kind->valuestring);
            char what[128];
            snprintf(what, sizeof what, "expected %s, got %s", types[t].kind, k);
            return dfail(&c, "kind", what);
        }
    }
    out->type = t;
    if (ops[t].decode(&c, obj, meta_only, &out->u.any) != 0) {
        decode_object_free(out);
        return -1;
    }
    return 0;
}

int decode_meta(const cJSON *metadata, struct model_meta *out, struct idw_err *err)
{
    memset(out, 0, sizeof *out);
    struct dctx c = {.err = err, .noun = "object"};
    if (!cJSON_IsObject(metadata))
        return dfail(&c, "metadata", "expected an object");
    ctx_name(&c, metadata);
    int rc = dec_meta_obj(&c, metadata, out);
    if (rc != 0)
        model_meta_free(out);
    return rc;
}

/* ---- list pages ------------------------------------------------------------------------------ */

void decode_list_meta_free(struct decode_list_meta *m)
{
    if (!m)
        return;
    free(m->resource_version);
    free(m->continue_token);
    memset(m, 0, sizeof *m);
    m->remaining = -1;
}

/* A Status body: its code (or -1) with "<reason>: <message>". */
static int status_error(const cJSON *st, struct idw_err *err)
{
    const cJSON *code = item(st, "code"), *reason = item(st, "reason"), *msg = item(st, "message");
    char r[64], m[300];
    str_sanitize(r, sizeof r, cJSON_IsString(reason) ? reason->valuestring : "Failure");
    str_sanitize(m, sizeof m, cJSON_IsString(msg) ? msg->valuestring : "");
    idw_err_set(err, "%s: %s", r, m);
    if (cJSON_IsNumber(code) && code->valuedouble >= 100 && code->valuedouble <= 599)
        return (int)code->valuedouble;
    return -1;
}

static bool is_kind(const cJSON *o, const char *kind)
{
    const cJSON *k = item(o, "kind");
    return cJSON_IsString(k) && strcmp(k->valuestring, kind) == 0;
}

int decode_list_page_json(const cJSON *root, enum decode_type t, decode_item_fn cb, void *ctx,
                          struct decode_list_meta *meta, struct idw_err *err)
{
    struct decode_list_meta scratch;
    if (!meta)
        meta = &scratch;
    memset(meta, 0, sizeof *meta);
    meta->remaining = -1;
    if ((size_t)t >= DECODE__COUNT)
        return idw_err_set(err, "decode: unknown object type %d", (int)t);
    if (!cJSON_IsObject(root))
        return idw_err_set(err, "%s list: expected a JSON object", types[t].kind);
    if (is_kind(root, "Status"))
        return status_error(root, err);
    const cJSON *kind = item(root, "kind");
    if (!absent(kind)) {
        char want[64];
        snprintf(want, sizeof want, "%sList", types[t].kind);
        if (!cJSON_IsString(kind) || (strcmp(kind->valuestring, want) != 0 &&
                                      strcmp(kind->valuestring, "PartialObjectMetadataList") != 0 &&
                                      strcmp(kind->valuestring, "List") != 0)) {
            char k[64];
            str_sanitize(k, sizeof k, cJSON_IsString(kind) ? kind->valuestring : "?");
            return idw_err_set(err, "%s list: expected kind %s, got %s", types[t].kind, want, k);
        }
    }
    struct dctx c = {.err = err, .noun = "list"};
    snprintf(c.obj, sizeof c.obj, "%s", types[t].kind);
    const cJSON *md, *items;
    int64_t remaining = -1;
    if (g_obj(&c, root, "metadata", &md) || g_arr(&c, root, "items", &items))
        return -1;
    if (md) {
        size_t old = path_push(&c, "metadata");
        int rc = g_str(&c, md, "resourceVersion", &meta->resource_version) ||
                 g_str(&c, md, "continue", &meta->continue_token) ||
                 g_int(&c, md, "remainingItemCount", 0, INT64_MAX, &remaining);
        path_pop(&c, old);
        if (rc) {
            decode_list_meta_free(meta);
            return -1;
        }
        meta->remaining = remaining;
    }
    const cJSON *e;
    cJSON_ArrayForEach(e, items)
    {
        struct decode_object o;
        struct idw_err item_err = {{0}};
        meta->items++;
        if (decode_object(e, t, &o, &item_err) == 0) {
            if (cb)
                cb(ctx, &o, NULL);
            decode_object_free(&o); /* no-op if the callback took it */
        } else {
            meta->failed++;
            if (cb)
                cb(ctx, NULL, &item_err);
        }
    }
    if (meta == &scratch)
        decode_list_meta_free(meta);
    return 0;
}

/* ---- Table pages ---------------------------------------------------------------------------- */

void decode_table_cols_init(struct decode_table_cols *c)
{
    c->status = c->ready = c->restarts = c->ip = c->node = -1;
    c->known = false;
}

static void table_cols_read(const cJSON *defs, struct decode_table_cols *c)
{
    if (!cJSON_IsArray(defs))
        return;
    decode_table_cols_init(c);
    int i = 0;
    const cJSON *d;
    cJSON_ArrayForEach(d, defs)
    {
        const cJSON *n = item(d, "name");
        if (cJSON_IsString(n)) {
            const char *s = n->valuestring;
            if (!strcmp(s, "Status"))
                c->status = i;
            else if (!strcmp(s, "Ready"))
                c->ready = i;
            else if (!strcmp(s, "Restarts"))
                c->restarts = i;
            else if (!strcmp(s, "IP"))
                c->ip = i;
            else if (!strcmp(s, "Node"))
                c->node = i;
        }
        i++;
    }
    c->known = true;
}

enum model_pod_phase decode_pod_status_phase(const char *st)
{
    if (!st || !*st)
        return MODEL_PHASE_UNKNOWN;
    static const char *const pending[] = {"Pending", "ContainerCreating", "PodInitializing",
                                          "SchedulingGated", "ErrImagePull", "ImagePullBackOff",
                                          "InvalidImageName", "CreateContainerConfigError"};
    static const char *const done[] = {"Completed", "Succeeded"};
    static const char *const failed[] = {"Failed", "Evicted", "ContainerStatusUnknown",
                                         "NodeLost", "Shutdown", "Terminated"};
    for (size_t i = 0; i < sizeof pending / sizeof *pending; i++)
        if (!strcmp(st, pending[i]))
            return MODEL_PHASE_PENDING;
    if (!strncmp(st, "Init:", 5))
        return MODEL_PHASE_PENDING;
    for (size_t i = 0; i < sizeof done / sizeof *done; i++)
        if (!strcmp(st, done[i]))
            return MODEL_PHASE_SUCCEEDED;
    for (size_t i = 0; i < sizeof failed / sizeof *failed; i++)
        if (!strcmp(st, failed[i]))
            return MODEL_PHASE_FAILED;
    if (!strcmp(st, "Unknown"))
        return MODEL_PHASE_UNKNOWN;
    return MODEL_PHASE_RUNNING;
}

static const char *cell_str(const cJSON *cells, int i)
{
    const cJSON *v = i >= 0 ? cJSON_GetArrayItem(cells, i) : NULL;
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* What a pod row's cells say, into the metadata-only pod. */
static void pod_cells(struct model_pod *p, const cJSON *cells, const struct decode_table_cols *c)
{
    const char *st = cell_str(cells, c->status);
    p->phase = decode_pod_status_phase(st);
    const char *ip = cell_str(cells, c->ip);
    if (ip && *ip && *ip != '<' && strlen(ip) < 64)
        p->pod_ip = xstrdup(ip);
    const char *node = cell_str(cells, c->node);
    if (node && *node && *node != '<' && strlen(node) < 254)
        p->node_name = xstrdup(node);
    const char *ready = cell_str(cells, c->ready);
    int a = 0, b = 0;
    if (ready && sscanf(ready, "%d/%d", &a, &b) == 2)
        p->ready = b > 0 && a == b;
    const cJSON *rs = c->restarts >= 0 ? cJSON_GetArrayItem(cells, c->restarts) : NULL;
    if (cJSON_IsNumber(rs) && rs->valuedouble >= 0 && rs->valuedouble < INT32_MAX)
        p->restarts = (int32_t)rs->valuedouble;
    else if (cJSON_IsString(rs))
        p->restarts = (int32_t)strtol(rs->valuestring, NULL, 10); /* "2 (5m ago)" */
}

/* One Table row: its object, completed from the cells (pods). */
static int table_row(const cJSON *row, enum decode_type t, const struct decode_table_cols *cols,
                     struct decode_object *o, struct idw_err *err)
{
    const cJSON *obj = item(row, "object");
    if (!cJSON_IsObject(obj))
        return idw_err_set(err, "%s table row: no object (includeObject=Metadata wanted)",
                           decode_type_kind(t));
    if (decode_object(obj, t, o, err) != 0)
        return -1;
    if (t == DECODE_POD && o->u.pod && !o->u.pod->has_spec)
        pod_cells(o->u.pod, item(row, "cells"), cols);
    return 0;
}

static int table_page(const cJSON *root, enum decode_type t, struct decode_table_cols *cols,
                      decode_item_fn cb, void *ctx, struct decode_list_meta *meta,
                      struct idw_err *err)
{
    struct decode_table_cols local;
    decode_table_cols_init(&local);
    if (!cols)
        cols = &local;
    table_cols_read(item(root, "columnDefinitions"), cols);
    struct dctx c = {.err = err, .noun = "table"};
    snprintf(c.obj, sizeof c.obj, "%s", types[t].kind);
    const cJSON *md, *rows;
    int64_t remaining = -1;
    if (g_obj(&c, root, "metadata", &md) || g_arr(&c, root, "rows", &rows))
        return -1;
    if (md && (g_str(&c, md, "resourceVersion", &meta->resource_version) ||
               g_str(&c, md, "continue", &meta->continue_token) ||
               g_int(&c, md, "remainingItemCount", 0, INT64_MAX, &remaining))) {
        decode_list_meta_free(meta);
        return -1;
    }
    meta->remaining = remaining;
    const cJSON *row;
    cJSON_ArrayForEach(row, rows)
    {
        struct decode_object o;
        struct idw_err item_err = {{0}};
        meta->items++;
        if (table_row(row, t, cols, &o, &item_err) == 0) {
            if (cb)
                cb(ctx, &o, NULL);
            decode_object_free(&o);
        } else {
            meta->failed++;
            if (cb)
                cb(ctx, NULL, &item_err);
        }
    }
    return 0;
}

/* ---- parsing into an arena --------------------------------------------------------------------
 * A list page is parsed into a tree of tens of thousands of small nodes that all die together a
 * moment later. Parsing them from a bump allocator and dropping the arena at once (instead of a
 * malloc and a free per node) halves the CPU of a sync. Only the parse itself allocates there
 * (the flag is per thread: the simulator's threads, where linked in, never see it); decoders copy
 * what they keep, so no arena memory outlives the page. */

#define ARENA_BLOCK ((size_t)1 << 20)
#define ARENA_KEEP ((size_t)4 << 20) /* retained between pages */

struct arena_block {
    struct arena_block *next;
    size_t cap, used;
    max_align_t data[];
};

static _Thread_local bool arena_on;
static _Thread_local struct arena_block *arena_head;

static void *arena_alloc(size_t n)
{
    n = (n + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
    struct arena_block *b = arena_head;
    if (!b || b->cap - b->used < n) {
        size_t cap = n > ARENA_BLOCK ? n : ARENA_BLOCK;
        b = xmalloc(sizeof *b + cap);
        b->cap = cap;
        b->used = 0;
        b->next = arena_head;
        arena_head = b;
    }
    void *p = (char *)b->data + b->used;
    b->used += n;
    return p;
}

/* Forgets every node: keeps up to ARENA_KEEP of blocks for the next page. */
static void arena_reset(void)
{
    size_t kept = 0;
    struct arena_block **pp = &arena_head;
    while (*pp) {
        struct arena_block *b = *pp;
        if (kept + b->cap <= ARENA_KEEP) {
            kept += b->cap;
            b->used = 0;
            pp = &b->next;
        } else {
            *pp = b->next;
            free(b);
        }
    }
    /* the emptied blocks are all usable again: the newest first is fine */
}

static void *hook_malloc(size_t n)
{
    return arena_on ? arena_alloc(n) : malloc(n);
}

static void hook_free(void *p)
{
    if (!arena_on)
        free(p);
}

static void arena_hooks_once(void)
{
    static bool done;
    if (done)
        return;
    done = true;
    cJSON_Hooks h = {.malloc_fn = hook_malloc, .free_fn = hook_free};
    cJSON_InitHooks(&h);
}

/* Parses into the arena; release with arena_release() (never cJSON_Delete). */
static cJSON *arena_parse(const char *buf, size_t len)
{
    arena_hooks_once();
    arena_on = true;
    cJSON *root = cJSON_ParseWithLength(buf, len);
    arena_on = false;
    return root;
}

static void arena_release(void)
{
    arena_reset();
}

int decode_list_page_cols(const char *buf, size_t len, enum decode_type t,
                          struct decode_table_cols *cols, decode_item_fn cb, void *ctx,
                          struct decode_list_meta *meta, struct idw_err *err)
{
    struct decode_list_meta scratch;
    if (!meta)
        meta = &scratch;
    memset(meta, 0, sizeof *meta);
    meta->remaining = -1;
    if ((size_t)t >= DECODE__COUNT)
        return idw_err_set(err, "decode: unknown object type %d", (int)t);
    cJSON *root = buf ? arena_parse(buf, len) : NULL;
    if (!root) {
        arena_release();
        return idw_err_set(err, "%s list: not valid JSON", decode_type_kind(t));
    }
    int rc = is_kind(root, "Table") ? table_page(root, t, cols, cb, ctx, meta, err)
                                    : decode_list_page_json(root, t, cb, ctx, meta, err);
    arena_release();
    if (meta == &scratch)
        decode_list_meta_free(meta);
    return rc;
}

int decode_list_page(const char *buf, size_t len, enum decode_type t, decode_item_fn cb, void *ctx,
                     struct decode_list_meta *meta, struct idw_err *err)
{
    return decode_list_page_cols(buf, len, t, NULL, cb, ctx, meta, err);
}

/* ---- watch events ------------------------------------------------------------------------------
 */

static const char *const event_names[] = {
#define X(id, name) [DECODE_EV_##id] = name,
    DECODE_EVENT_TYPES(X)
#undef X
};

void decode_event_free(struct decode_event *ev)
{
    if (!ev)
        return;
    decode_object_free(&ev->obj);
    free(ev->resource_version);
    free(ev->status_reason);
    free(ev->status_message);
    memset(ev, 0, sizeof *ev);
}

static char *dup_checked(const cJSON *v)
{
    if (!cJSON_IsString(v) || !v->valuestring || strlen(v->valuestring) > DECODE_MAX_STRING)
        return NULL;
    return xstrdup(v->valuestring);
}

int decode_watch_event(const char *line, size_t len, enum decode_type t, struct decode_event *ev,
                       struct idw_err *err)
{
    return decode_watch_event_cols(line, len, t, NULL, ev, err);
}

int decode_watch_event_cols(const char *line, size_t len, enum decode_type t,
                            struct decode_table_cols *cols, struct decode_event *ev,
                            struct idw_err *err)
{
    memset(ev, 0, sizeof *ev);
    cJSON *root = line ? cJSON_ParseWithLength(line, len) : NULL;
    if (!root)
        return idw_err_set(err, "%s watch: event is not valid JSON", decode_type_kind(t));
    int rc = -1;
    const cJSON *type = item(root, "type"), *obj = item(root, "object");
    if (!cJSON_IsObject(root) || !cJSON_IsString(type)) {
        idw_err_set(err, "%s watch: event without a type", decode_type_kind(t));
        goto out;
    }
    size_t k = 0;
    while (k < sizeof event_names / sizeof event_names[0] &&
           strcmp(event_names[k], type->valuestring))
        k++;
    if (k == sizeof event_names / sizeof event_names[0]) {
        char tn[32];
        str_sanitize(tn, sizeof tn, type->valuestring);
        idw_err_set(err, "%s watch: unknown event type %s", decode_type_kind(t), tn);
        goto out;
    }
    ev->type = (enum decode_event_type)k;
    if (!cJSON_IsObject(obj)) {
        idw_err_set(err, "%s watch: %s event without an object", decode_type_kind(t),
                    event_names[k]);
        goto out;
    }
    const cJSON *row = NULL;
    if (is_kind(obj, "Table") && ev->type != DECODE_EV_ERROR && ev->type != DECODE_EV_BOOKMARK) {
        /* a Table watch: one row, its object; the columns come with the first event only */
        struct decode_table_cols local;
        decode_table_cols_init(&local);
        if (!cols)
            cols = &local;
        table_cols_read(item(obj, "columnDefinitions"), cols);
        row = cJSON_GetArrayItem(item(obj, "rows"), 0);
        if (!cJSON_IsObject(row) || !cJSON_IsObject(item(row, "object"))) {
            idw_err_set(err, "%s watch: Table event without a row object", decode_type_kind(t));
            goto out;
        }
        obj = item(row, "object");
    }
    const cJSON *md = item(obj, "metadata");
    ev->resource_version = dup_checked(item(md, "resourceVersion"));
    if (row) {
        rc = table_row(row, t, cols, &ev->obj, err);
        goto out;
    }
    switch (ev->type) {
    case DECODE_EV_ERROR:
        ev->status_code = status_error(obj, err);
        ev->status_reason = dup_checked(item(obj, "reason"));
        ev->status_message = dup_checked(item(obj, "message"));
        if (ev->status_code < 0)
            ev->status_code = 0;
        rc = 0;
        break;
    case DECODE_EV_BOOKMARK: {
        const cJSON *end = item(item(md, "annotations"), "k8s.io/initial-events-end");
        ev->initial_events_end = cJSON_IsString(end) && strcmp(end->valuestring, "true") == 0;
        rc = 0;
        break;
    }
    default: rc = decode_object(obj, t, &ev->obj, err); break;
    }
out:
    cJSON_Delete(root);
    return rc;
}

/* ---- into the store
 * ------------------------------------------------------------------------------ */

int decode_store_apply(struct store *s, enum decode_event_type ev, struct decode_object *o)
{
    if (!o || !o->u.any || (size_t)o->type >= DECODE__COUNT)
        return 0;
    int rc = 0;
    if (ev == DECODE_EV_ADDED || ev == DECODE_EV_MODIFIED) {
        ops[o->type].put(s, o->u.any);
        o->u.any = NULL;
        return 0;
    }
    if (ev == DECODE_EV_DELETED)
        rc = ops[o->type].del(s, o);
    decode_object_free(o);
    return rc;
}
