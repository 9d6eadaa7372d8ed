/* actions/build: the pure part — paths, minimal merge patches, undo inverses, FIC names and the
 * migration plan. No I/O. */
#include "idwatch/actions.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- names ------------------------------------------------------------------------------ */

static uint32_t fnv1a(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 16777619u;
    }
    return h;
}

void act_fic_name(const char *cluster, const char *ns, const char *sa,
                  char out[ACT_FIC_NAME_MAX + 1])
{
    char *raw = str_empty(cluster)
                    ? xasprintf("ServiceAccount-%s-%s", ns ? ns : "", sa ? sa : "")
                    : xasprintf("%s-ServiceAccount-%s-%s", cluster, ns ? ns : "", sa ? sa : "");
    size_t n = 0;
    for (const char *p = raw; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (n == 0 && !isalnum(c))
            continue; /* the first character must be a letter or digit */
        bool ok = (c < 0x80 && isalnum(c)) || c == '-' || c == '_';
        if (n < 4096)
            raw[n++] = ok ? (char)c : '-';
    }
    raw[n] = '\0';
    if (n > ACT_FIC_NAME_MAX) {
        uint32_t h = fnv1a(raw);
        snprintf(out, ACT_FIC_NAME_MAX + 1, "%.*s-%08x", ACT_FIC_NAME_MAX - 9, raw, (unsigned)h);
    } else {
        snprintf(out, ACT_FIC_NAME_MAX + 1, "%s", raw);
    }
    free(raw);
}

bool act_client_id_valid(const char *s)
{
    static const int groups[] = {8, 4, 4, 4, 12};
    if (!s)
        return false;
    for (size_t g = 0; g < 5; g++) {
        for (int i = 0; i < groups[g]; i++, s++)
            if (!isxdigit((unsigned char)*s))
                return false;
        if (g < 4 && *s++ != '-')
            return false;
    }
    return *s == '\0';
}

/* Kubernetes names and namespaces: DNS subdomain characters only, so they are safe in a path. */
static bool k8s_name_ok(const char *s)
{
    if (str_empty(s) || strlen(s) > 253)
        return false;
    for (; *s; s++)
        if (!(islower((unsigned char)*s) || isdigit((unsigned char)*s) || *s == '-' || *s == '.'))
            return false;
    return true;
}

char *act_object_path(const struct act_target *t)
{
    if (t->service_account)
        return xasprintf("/api/v1/namespaces/%s/serviceaccounts/%s", t->ns, t->name);
    const char *group = model_kind_group(t->kind);
    if (str_empty(group))
        return xasprintf("/api/v1/namespaces/%s/%s/%s", t->ns, model_kind_resource(t->kind),
                         t->name);
    return xasprintf("/apis/%s/v1/namespaces/%s/%s/%s", group, t->ns, model_kind_resource(t->kind),
                     t->name);
}

char *act_object_name(const struct act_target *t)
{
    return xasprintf("%s %s/%s", t->service_account ? "ServiceAccount" : model_kind_name(t->kind),
                     t->ns, t->name);
}

/* ---- patches ------------------------------------------------------------------------------ */

static cJSON *obj_child(cJSON *parent, const char *key)
{
    cJSON *c = cJSON_GetObjectItemCaseSensitive(parent, key);
    return c ? c : cJSON_AddObjectToObject(parent, key);
}

char *act_merge_patch(const struct act_target *t, const struct act_edit *edits, size_t n)
{
    cJSON *root = cJSON_CreateObject();
    if (t->resource_version)
        cJSON_AddStringToObject(obj_child(root, "metadata"), "resourceVersion",
                                t->resource_version);
    cJSON *meta;
    if (t->service_account || t->kind == MODEL_KIND_POD)
        meta = obj_child(root, "metadata");
    else if (t->kind == MODEL_KIND_CRONJOB)
        meta = obj_child(
            obj_child(obj_child(obj_child(obj_child(root, "spec"), "jobTemplate"), "spec"),
                      "template"),
            "metadata");
    else
        meta = obj_child(obj_child(obj_child(root, "spec"), "template"), "metadata");
    for (size_t i = 0; i < n; i++) {
        cJSON *m = obj_child(meta, edits[i].map == ACT_MAP_LABELS ? "labels" : "annotations");
        cJSON_DeleteItemFromObjectCaseSensitive(m, edits[i].key);
        if (edits[i].value)
            cJSON_AddStringToObject(m, edits[i].key, edits[i].value);
        else
            cJSON_AddNullToObject(m, edits[i].key);
    }
    char *s = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    char *out = xstrdup(s);
    cJSON_free(s);
    return out;
}

/* ---- changes ------------------------------------------------------------------------------- */

void act_change_free(struct act_change *c)
{
    if (!c)
        return;
    free(c->object);
    free(c->path);
    free(c->ns);
    free(c->name);
    free(c->resource_version);
    free(c->body);
    for (size_t i = 0; i < c->n_edits; i++) {
        free(c->edits[i].key);
        free(c->edits[i].value);
        free(c->edits[i].old);
    }
    free(c->edits);
    free(c->identity_arm_id);
    free(c->identity_name);
    free(c->fic_name);
    free(c->issuer);
    free(c->subject);
    free(c->audience);
    for (size_t i = 0; i < c->n_warnings; i++)
        free(c->warnings[i]);
    free(c->warnings);
    memset(c, 0, sizeof *c);
}

void act_change_warn(struct act_change *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = xvasprintf(fmt, ap);
    va_end(ap);
    c->warnings = xrealloc(c->warnings, (c->n_warnings + 1) * sizeof *c->warnings);
    c->warnings[c->n_warnings++] = s;
}

static void edit_add(struct act_change *c, enum act_map map, const char *key, const char *value,
                     const char *old)
{
    c->edits = xrealloc(c->edits, (c->n_edits + 1) * sizeof *c->edits);
    c->edits[c->n_edits++] = (struct act_edit){map, xstrdup(key), xstrdup(value), xstrdup(old)};
}

static const struct model_kvlist *edit_map(const struct act_target *t, enum act_map m)
{
    return m == ACT_MAP_LABELS ? t->labels : t->annotations;
}

static const char *target_get(const struct act_target *t, enum act_map m, const char *key)
{
    const struct model_kvlist *l = edit_map(t, m);
    return l ? kv_get(l, key) : NULL;
}

/* Fills path, object, precondition and body of a Kubernetes change from its edits. */
static void finish_kube(struct act_change *c, const struct act_target *t)
{
    c->target = ACT_TARGET_KUBE;
    c->service_account = t->service_account;
    c->wkind = t->kind;
    c->ns = xstrdup(t->ns);
    c->name = xstrdup(t->name);
    c->path = act_object_path(t);
    c->object = act_object_name(t);
    c->resource_version = xstrdup(t->resource_version);
    c->patch_type = KUBE_PATCH_MERGE;
    c->body = act_merge_patch(t, c->edits, c->n_edits);
}

static const struct act_target *fresh_of(const struct act_world *wd, const struct act_target *t)
{
    if (!wd->fresh)
        return NULL;
    char *path = act_object_path(t);
    const struct act_target *f = wd->fresh(wd->fresh_ctx, path);
    free(path);
    return f;
}

/* The workload (template) or bare pod (metadata) as last seen. */
static int workload_target(const struct act_world *wd, const struct check_workload *w,
                           struct act_target *t, struct idw_err *err)
{
    memset(t, 0, sizeof *t);
    t->kind = w->kind;
    t->ns = w->namespace_;
    t->name = w->name;
    if (!k8s_name_ok(t->ns) || !k8s_name_ok(t->name))
        return idw_err_set(err, "not a valid object name");
    const struct act_target *f = fresh_of(wd, t);
    if (f) {
        *t = *f;
        return 0;
    }
    if (w->kind == MODEL_KIND_POD) {
        const struct model_pod *p = wd->store ? store_get_pod(wd->store, t->ns, t->name) : NULL;
        if (!p)
            return idw_err_set(err, "pod %s/%s is not in the cache any more", t->ns, t->name);
        t->resource_version = p->meta.resource_version;
        t->labels = &p->meta.labels;
        t->annotations = &p->meta.annotations;
        return 0;
    }
    const struct model_workload *mw =
        wd->store ? store_get_workload(wd->store, w->kind, t->ns, t->name) : NULL;
    if (!mw)
        return idw_err_set(err, "%s %s/%s is not in the cache any more", model_kind_name(w->kind),
                           t->ns, t->name);
    t->resource_version = mw->meta.resource_version;
    t->labels = &mw->tmpl.labels;
    t->annotations = &mw->tmpl.annotations;
    return 0;
}

static int sa_target(const struct act_world *wd, const struct check_workload *w,
                     struct act_target *t, struct idw_err *err)
{
    memset(t, 0, sizeof *t);
    t->service_account = true;
    t->ns = w->namespace_;
    t->name = w->service_account ? w->service_account : "default";
    if (!k8s_name_ok(t->ns) || !k8s_name_ok(t->name))
        return idw_err_set(err, "not a valid service account name");
    const struct act_target *f = fresh_of(wd, t);
    if (f) {
        *t = *f;
        return 0;
    }
    const struct model_service_account *sa =
        wd->store ? store_get_sa(wd->store, t->ns, t->name) : NULL;
    if (!sa)
        return idw_err_set(err, "service account %s/%s does not exist (create it first)", t->ns,
                           t->name);
    t->resource_version = sa->meta.resource_version;
    t->labels = &sa->meta.labels;
    t->annotations = &sa->meta.annotations;
    return 0;
}

/* "1h", "90m", "45s": the NMI window as people say it. */
static void window_text(int64_t s, char out[24])
{
    if (s >= 3600 && s % 3600 == 0)
        snprintf(out, 24, "%lldh", (long long)(s / 3600));
    else if (s >= 60 && s % 60 == 0)
        snprintf(out, 24, "%lldm", (long long)(s / 60));
    else
        snprintf(out, 24, "%llds", (long long)s);
}

bool act_wi_healthy(const struct check_workload *w, const char **why)
{
    const char *r = NULL;
    if (w->mechanism != CHECK_MECH_WI && w->mechanism != CHECK_MECH_BOTH)
        r = "the pod template is not labelled azure.workload.identity/use=true";
    else if (w->federation.status != CHECK_FED_OK)
        r = "its federation is not ok";
    else if (w->projection.status != CHECK_PROJ_OK)
        r = "its pods do not all have a projected Azure token";
    if (why)
        *why = r;
    return r == NULL;
}

static int build_template_key(enum action_id k, const struct act_world *wd,
                              const struct check_workload *w, struct act_change *c,
                              struct idw_err *err)
{
    const char *kind = model_kind_name(w->kind);
    if (w->kind == MODEL_KIND_POD && k != ACTION_REMOVE_PI)
        return idw_err_set(err,
                           "%s/%s is a bare pod: no controller re-creates it, so changing it "
                           "does nothing; recreate it instead",
                           w->namespace_, w->name);
    struct act_target t;
    if (workload_target(wd, w, &t, err) != 0)
        return -1;
    switch (k) {
    case ACTION_LABEL_WI: {
        const char *cur = target_get(&t, ACT_MAP_LABELS, WI_LABEL_USE);
        if (str_eq(cur, "true"))
            return idw_err_set(err, "%s %s/%s: the pod template is already labelled %s=true", kind,
                               w->namespace_, w->name, WI_LABEL_USE);
        edit_add(c, ACT_MAP_LABELS, WI_LABEL_USE, "true", cur);
        if (!w->federation.client_id)
            act_change_warn(c,
                            "service account %s has no client-id annotation yet: new pods "
                            "get no AZURE_CLIENT_ID (annotate it first with a)",
                            w->service_account ? w->service_account : "default");
        act_change_warn(c, "changing the pod template starts a rollout (new pods)");
        break;
    }
    case ACTION_REMOVE_PI: {
        const char *cur = target_get(&t, ACT_MAP_LABELS, PI_LABEL_BINDING);
        if (!cur)
            return idw_err_set(err, "%s %s/%s has no %s label", kind, w->namespace_, w->name,
                               PI_LABEL_BINDING);
        const char *why = NULL;
        if (!act_wi_healthy(w, &why))
            return idw_err_set(err,
                               "%s %s/%s: workload identity is not healthy yet (%s); remove "
                               "aadpodidbinding only once it is",
                               kind, w->namespace_, w->name, why);
        edit_add(c, ACT_MAP_LABELS, PI_LABEL_BINDING, NULL, cur);
        if (w->activity.requests > 0) {
            char win[24];
            window_text(w->activity.window_seconds ? w->activity.window_seconds
                        : wd->window_seconds       ? wd->window_seconds
                                                   : 3600,
                        win);
            act_change_warn(c,
                            "NMI saw %lld token requests from it in the last %s: some code may "
                            "still call IMDS (consider the proxy sidecar, x)",
                            (long long)w->activity.requests, win);
        }
        break;
    }
    case ACTION_PROXY_ON: {
        const char *cur = target_get(&t, ACT_MAP_ANNOTATIONS, WI_ANN_PROXY_SIDECAR);
        if (cur)
            return idw_err_set(err, "%s %s/%s already has %s=%s", kind, w->namespace_, w->name,
                               WI_ANN_PROXY_SIDECAR, cur);
        edit_add(c, ACT_MAP_ANNOTATIONS, WI_ANN_PROXY_SIDECAR, "true", NULL);
        act_change_warn(c, "hostNetwork pods cannot get the proxy: the webhook rejects them");
        break;
    }
    case ACTION_PROXY_OFF: {
        const char *cur = target_get(&t, ACT_MAP_ANNOTATIONS, WI_ANN_PROXY_SIDECAR);
        if (!cur)
            return idw_err_set(err, "%s %s/%s has no %s annotation", kind, w->namespace_, w->name,
                               WI_ANN_PROXY_SIDECAR);
        edit_add(c, ACT_MAP_ANNOTATIONS, WI_ANN_PROXY_SIDECAR, NULL, cur);
        break;
    }
    case ACTION_RESTART: {
        if (w->kind == MODEL_KIND_CRONJOB)
            return idw_err_set(err,
                               "CronJob %s/%s: its next job uses the current template; "
                               "there is nothing to restart",
                               w->namespace_, w->name);
        char ts[32];
        time_format_rfc3339(wd->now ? wd->now : time_now(), ts);
        const char *cur = target_get(&t, ACT_MAP_ANNOTATIONS, K8S_ANN_RESTARTED_AT);
        edit_add(c, ACT_MAP_ANNOTATIONS, K8S_ANN_RESTARTED_AT, ts, cur);
        break;
    }
    default: return idw_err_set(err, "not a pod-template action");
    }
    finish_kube(c, &t);
    return 0;
}

static int build_annotate(const struct act_world *wd, const struct check_workload *w,
                          const struct act_params *p, struct act_change *c, struct idw_err *err)
{
    struct act_target t;
    if (sa_target(wd, w, &t, err) != 0)
        return -1;
    const char *cid = p ? p->client_id : NULL;
    if (!act_client_id_valid(cid))
        return idw_err_set(err, "client id must be a GUID (8-4-4-4-12 hex digits)");
    const char *tid = p && !str_empty(p->tenant_id) ? p->tenant_id : NULL;
    if (tid && !act_client_id_valid(tid))
        return idw_err_set(err, "tenant id must be a GUID (8-4-4-4-12 hex digits)");
    const char *cur = target_get(&t, ACT_MAP_ANNOTATIONS, WI_ANN_CLIENT_ID);
    const char *cur_t = target_get(&t, ACT_MAP_ANNOTATIONS, WI_ANN_TENANT_ID);
    if (!str_eq(cur, cid))
        edit_add(c, ACT_MAP_ANNOTATIONS, WI_ANN_CLIENT_ID, cid, cur);
    if (tid && !str_eq(cur_t, tid))
        edit_add(c, ACT_MAP_ANNOTATIONS, WI_ANN_TENANT_ID, tid, cur_t);
    if (!c->n_edits)
        return idw_err_set(err, "service account %s/%s already has client-id %s", t.ns, t.name,
                           cid);
    if (cur)
        act_change_warn(c, "replaces client-id %s", cur);
    /* the annotation is the SA's, not the workload's: every workload on that SA gets it */
    size_t others = 0;
    for (size_t i = 0; wd->store && i < store_workload_count(wd->store); i++) {
        const struct model_workload *o = store_workload_at(wd->store, i);
        if (str_eq(o->meta.namespace_, t.ns) && str_eq(o->tmpl.service_account, t.name) &&
            !(o->kind == w->kind && str_eq(o->meta.name, w->name)))
            others++;
    }
    if (others)
        act_change_warn(c, "%zu other workload%s in %s use%s service account %s too", others,
                        others > 1 ? "s" : "", t.ns, others > 1 ? "" : "s", t.name);
    if (w->mechanism == CHECK_MECH_WI || w->mechanism == CHECK_MECH_BOTH)
        act_change_warn(c, "running pods keep their old environment until restarted (R)");
    finish_kube(c, &t);
    return 0;
}

static const struct model_identity *identity_for(const struct act_world *wd, const char *arm_id,
                                                 const char *client_id)
{
    const struct model_azure *az = wd->store ? store_azure(wd->store) : NULL;
    if (!az)
        return NULL;
    for (size_t i = 0; i < az->n_identities; i++) {
        const struct model_identity *id = &az->identities[i];
        if (arm_id ? str_eq(id->arm_id, arm_id) : str_eq(id->client_id, client_id))
            return id;
    }
    return NULL;
}

static int build_fic(const struct act_world *wd, const struct check_workload *w,
                     const struct act_params *p, struct act_change *c, struct idw_err *err)
{
    const char *sa = w->service_account ? w->service_account : "default";
    if (!k8s_name_ok(w->namespace_) || !k8s_name_ok(sa))
        return idw_err_set(err, "not a valid service account name");
    /* the client id the SA names now (fresh copy first), else the one just chosen (M after a) */
    struct act_target t;
    struct idw_err ignore;
    const char *cid = NULL;
    if (sa_target(wd, w, &t, &ignore) == 0)
        cid = target_get(&t, ACT_MAP_ANNOTATIONS, WI_ANN_CLIENT_ID);
    if (!cid && p)
        cid = p->client_id;
    const char *arm = p ? p->identity_arm_id : NULL;
    if (!cid && !arm)
        return idw_err_set(err,
                           "service account %s/%s has no client-id annotation: pick the "
                           "identity first (a)",
                           w->namespace_, sa);
    const struct model_identity *id = identity_for(wd, arm, cid);
    if (!id)
        return idw_err_set(err, "client id %s names no user-assigned identity idwatch can see",
                           cid ? cid : arm);
    if (id->app_registration || !id->arm_id)
        return idw_err_set(err,
                           "%s is an app registration: create its credential with "
                           "Microsoft Graph (az ad app federated-credential create)",
                           id->name ? id->name : cid);
    if (str_empty(wd->issuer))
        return idw_err_set(err, "the cluster's OIDC issuer is not known (is the issuer enabled?)");
    char *subject = xasprintf("system:serviceaccount:%s:%s", w->namespace_, sa);
    char name[ACT_FIC_NAME_MAX + 1];
    act_fic_name(wd->cluster_name, w->namespace_, sa, name);
    const char *idn = id->name ? id->name : id->arm_id;
    int rc = 0;
    for (size_t i = 0; i < id->n_fics && rc == 0; i++) {
        const struct model_fic *f = &id->fics[i];
        if (str_eq(f->issuer, wd->issuer) && str_eq(f->subject, subject))
            rc = idw_err_set(err, "identity %s already has credential %s for %s", idn,
                             f->name ? f->name : "?", subject);
        else if (f->name && strcasecmp(f->name, name) == 0)
            rc = idw_err_set(err,
                             "identity %s already has a credential named %s (with another "
                             "issuer or subject): fix or delete it",
                             idn, name);
    }
    if (rc == 0 && id->fic_state == MODEL_AZ_OK && id->n_fics >= AZURE_FIC_MAX)
        rc = idw_err_set(err,
                         "identity %s already has %zu federated credentials (the limit is %d): "
                         "use another identity or delete unused credentials",
                         idn, id->n_fics, AZURE_FIC_MAX);
    if (rc != 0) {
        free(subject);
        return -1;
    }
    c->target = ACT_TARGET_ARM;
    c->ns = xstrdup(w->namespace_);
    c->name = xstrdup(sa);
    c->identity_arm_id = xstrdup(id->arm_id);
    c->identity_name = xstrdup(idn);
    c->fic_name = xstrdup(name);
    c->issuer = xstrdup(wd->issuer);
    c->subject = subject;
    c->audience = xstrdup(WI_AUDIENCE);
    c->fics_listed = id->fic_state == MODEL_AZ_OK;
    c->fic_count = c->fics_listed ? id->n_fics : 0;
    c->object = xasprintf("federated credential %s on identity %s", name, idn);
    cJSON *root = cJSON_CreateObject();
    cJSON *props = cJSON_AddObjectToObject(root, "properties");
    cJSON_AddStringToObject(props, "issuer", c->issuer);
    cJSON_AddStringToObject(props, "subject", c->subject);
    cJSON_AddItemToArray(cJSON_AddArrayToObject(props, "audiences"),
                         cJSON_CreateString(c->audience));
    char *s = cJSON_PrintUnformatted(root);
    c->body = xstrdup(s);
    cJSON_free(s);
    cJSON_Delete(root);
    c->path = xasprintf("%s/federatedIdentityCredentials/%s", id->arm_id, name);
    if (id->fic_state != MODEL_AZ_OK)
        act_change_warn(c,
                        "the identity's credentials were not listed yet: the limit of %d is "
                        "checked again before the PUT",
                        AZURE_FIC_MAX);
    else if (id->n_fics + 1 >= AZURE_FIC_MAX - 2)
        act_change_warn(c, "the identity will have %zu of at most %d credentials", id->n_fics + 1,
                        AZURE_FIC_MAX);
    act_change_warn(c, "Entra needs a few seconds (sometimes minutes) before tokens match it");
    return 0;
}

int act_build(enum action_id k, const struct act_world *world, const struct check_workload *w,
              const struct act_params *p, struct act_change *out, struct idw_err *err)
{
    memset(out, 0, sizeof *out);
    out->kind = k;
    out->undo_of = k;
    if (!w)
        return idw_err_set(err, "select a workload first");
    int rc;
    switch (k) {
    case ACTION_ANNOTATE_SA: rc = build_annotate(world, w, p, out, err); break;
    case ACTION_CREATE_FIC: rc = build_fic(world, w, p, out, err); break;
    case ACTION_LABEL_WI:
    case ACTION_REMOVE_PI:
    case ACTION_PROXY_ON:
    case ACTION_PROXY_OFF:
    case ACTION_RESTART: rc = build_template_key(k, world, w, out, err); break;
    case ACTION_UNDO: rc = idw_err_set(err, "undo is built from the undo record"); break;
    default:
        rc = idw_err_set(err, "%s is not one change",
                         action_info(k) ? action_info(k)->name : "no action");
        break;
    }
    if (rc != 0)
        act_change_free(out);
    return rc;
}

int act_build_undo(const struct act_change *applied, const struct act_target *now,
                   struct act_change *out, struct idw_err *err)
{
    memset(out, 0, sizeof *out);
    if (applied->target != ACT_TARGET_KUBE)
        return idw_err_set(err,
                           "%s cannot be undone from here: delete it with az identity "
                           "federated-credential delete --name %s --identity-name %s",
                           applied->object ? applied->object : "the credential",
                           applied->fic_name ? applied->fic_name : "?",
                           applied->identity_name ? applied->identity_name : "?");
    out->kind = ACTION_UNDO;
    out->undo_of = applied->kind;
    bool changed = false;
    for (size_t i = 0; i < applied->n_edits; i++) {
        const struct act_edit *e = &applied->edits[i];
        const char *cur = target_get(now, e->map, e->key);
        if (!str_eq(cur, e->value))
            act_change_warn(out, "%s was changed since: %s (it is restored all the same)", e->key,
                            cur ? cur : "removed");
        if (!str_eq(cur, e->old))
            changed = true;
        edit_add(out, e->map, e->key, e->old, cur);
    }
    if (!changed) {
        act_change_free(out);
        return idw_err_set(err, "%s already has its previous values: nothing to undo",
                           applied->object ? applied->object : "the object");
    }
    finish_kube(out, now);
    return 0;
}

size_t act_migrate_plan(const struct check_workload *w, enum action_id out[ACT_PLAN_MAX])
{
    size_t n = 0;
    bool labelled = w->mechanism == CHECK_MECH_WI || w->mechanism == CHECK_MECH_BOTH;
    bool no_cid = w->federation.status == CHECK_FED_NO_CLIENT_ID || !w->federation.client_id;
    if (no_cid)
        out[n++] = ACTION_ANNOTATE_SA;
    if (no_cid || w->federation.status == CHECK_FED_MISSING)
        out[n++] = ACTION_CREATE_FIC;
    bool controlled = w->kind != MODEL_KIND_POD;
    if (!labelled && controlled)
        out[n++] = ACTION_LABEL_WI;
    if (labelled && controlled && w->kind != MODEL_KIND_CRONJOB &&
        (w->projection.status == CHECK_PROJ_NOT_INJECTED ||
         w->projection.status == CHECK_PROJ_PARTIAL))
        out[n++] = ACTION_RESTART;
    if (w->pi_selector && act_wi_healthy(w, NULL))
        out[n++] = ACTION_REMOVE_PI;
    return n;
}
