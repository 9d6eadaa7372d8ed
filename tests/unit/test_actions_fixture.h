/* Fixtures for the actions tests: objects as JSON (decoded into a store the way kube does), and
 * a fake API server behind struct actions_io that applies merge patches for real (RFC 7386),
 * honours dryRun and the resourceVersion precondition (409), and records every request.
 * Header-only, static. */
#ifndef IDW_TEST_ACTIONS_FIXTURE_H_
#define IDW_TEST_ACTIONS_FIXTURE_H_

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "idwatch/actions.h"
#include "idwatch/decode.h"

#define TA_NOW 1795946400 /* 2026-11-29T10:00:00Z */
#define TA_ISSUER                                                                                  \
    "https://westeurope.oic.prod-aks.azure.com/72f988bf-86f1-41af-91ab-2d7cd011db47/"              \
    "5c3d7f0e-9a41-4b8e-8f21-6d0c2e7a9b14/"
#define TA_TENANT "72f988bf-86f1-41af-91ab-2d7cd011db47"
#define TA_CID "0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0"
#define TA_CID2 "11111111-2222-4333-8444-555555555555"
#define TA_IDENTITY                                                                                \
    "/subscriptions/9b3f1c2d-4e5a-4b6c-8d7e-1f2a3b4c5d6e/resourceGroups/rg-ids/providers/"         \
    "Microsoft.ManagedIdentity/userAssignedIdentities/id-payments"

/* ---- objects ---- */

static inline char *ta_deploy_json(const char *kind, const char *ns, const char *name,
                                   const char *rv, const char *tmpl_labels,
                                   const char *tmpl_annotations, const char *sa)
{
    const char *api = strcmp(kind, "CronJob") == 0 ? "batch/v1" : "apps/v1";
    char *tmpl = xasprintf("{\"metadata\":{\"labels\":%s,\"annotations\":%s},\"spec\":"
                           "{\"serviceAccountName\":\"%s\",\"containers\":[{\"name\":\"app\","
                           "\"image\":\"nginx\"}]}}",
                           tmpl_labels, tmpl_annotations, sa);
    char *spec = strcmp(kind, "CronJob") == 0
                     ? xasprintf("{\"schedule\":\"*/15 * * * *\",\"jobTemplate\":{\"spec\":"
                                 "{\"template\":%s}}}",
                                 tmpl)
                     : xasprintf("{\"replicas\":2,\"selector\":{\"matchLabels\":{\"app\":\"%s\"}},"
                                 "\"template\":%s}",
                                 name, tmpl);
    char *out = xasprintf("{\"apiVersion\":\"%s\",\"kind\":\"%s\",\"metadata\":{\"name\":\"%s\","
                          "\"namespace\":\"%s\",\"uid\":\"uid-%s\",\"resourceVersion\":\"%s\","
                          "\"generation\":3,\"labels\":{\"app\":\"%s\"}},\"spec\":%s}",
                          api, kind, name, ns, name, rv, name, spec);
    free(tmpl);
    free(spec);
    return out;
}

static inline char *ta_sa_json(const char *ns, const char *name, const char *rv,
                               const char *annotations)
{
    return xasprintf("{\"apiVersion\":\"v1\",\"kind\":\"ServiceAccount\",\"metadata\":{\"name\":"
                     "\"%s\",\"namespace\":\"%s\",\"uid\":\"uid-sa-%s\",\"resourceVersion\":\"%s\","
                     "\"annotations\":%s}}",
                     name, ns, name, rv, annotations);
}

/* Decodes obj (the kind tells the type) into the store, as a watch event would. */
static inline void ta_store_put(struct store *s, const cJSON *obj)
{
    const cJSON *kind = cJSON_GetObjectItemCaseSensitive(obj, "kind");
    enum decode_type t;
    if (!cJSON_IsString(kind) || decode_type_parse(kind->valuestring, &t) != 0)
        abort();
    struct decode_object o;
    struct idw_err err = {{0}};
    if (decode_object(obj, t, &o, &err) != 0) {
        fprintf(stderr, "decode: %s\n", err.msg);
        abort();
    }
    decode_store_apply(s, DECODE_EV_ADDED, &o);
    decode_object_free(&o);
}

/* ---- the fake API server ---- */

#define TA_MAX_OBJ 16
#define TA_MAX_REQ 64

struct ta_req {
    char method[8];
    char path[512];
    char *body;
    bool dry_run;
    int status;
};

struct ta_server {
    struct store *store; /* mirrored on every write (the watch, instantly) when mirror is set */
    bool mirror;
    char *paths[TA_MAX_OBJ];
    cJSON *objs[TA_MAX_OBJ];
    size_t n;
    unsigned long next_rv;
    struct ta_req reqs[TA_MAX_REQ];
    size_t n_reqs;
    size_t writes, dry_runs, gets, ssars, fic_puts;
    /* faults: the next dry run / apply answers this status (0: none) */
    int fail_dry, fail_apply;
    /* SSAR answers */
    bool ssar_allowed;
    char ssar_reason[128];
    const char *ssar_error; /* set: the review gets no answer (this error) */
    /* ARM */
    int fic_rc;
    char fic_error[256];
    struct azure_fic_spec fic_last;
    char fic_name[128], fic_issuer[256], fic_subject[256];
};

static inline void ta_server_add(struct ta_server *ts, const char *path, const char *json)
{
    ts->paths[ts->n] = xstrdup(path);
    ts->objs[ts->n] = cJSON_Parse(json);
    if (!ts->objs[ts->n])
        abort();
    if (ts->store)
        ta_store_put(ts->store, ts->objs[ts->n]);
    ts->n++;
}

static inline cJSON *ta_server_obj(struct ta_server *ts, const char *path)
{
    for (size_t i = 0; i < ts->n; i++)
        if (strcmp(ts->paths[i], path) == 0)
            return ts->objs[i];
    return NULL;
}

static inline void ta_server_free(struct ta_server *ts)
{
    for (size_t i = 0; i < ts->n; i++) {
        free(ts->paths[i]);
        cJSON_Delete(ts->objs[i]);
    }
    for (size_t i = 0; i < ts->n_reqs; i++)
        free(ts->reqs[i].body);
}

/* RFC 7386 */
static inline void ta_merge(cJSON *target, const cJSON *patch)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, patch)
    {
        if (cJSON_IsNull(it)) {
            cJSON_DeleteItemFromObjectCaseSensitive(target, it->string);
        } else if (cJSON_IsObject(it)) {
            cJSON *t = cJSON_GetObjectItemCaseSensitive(target, it->string);
            if (!cJSON_IsObject(t)) {
                cJSON_DeleteItemFromObjectCaseSensitive(target, it->string);
                t = cJSON_AddObjectToObject(target, it->string);
            }
            ta_merge(t, it);
        } else {
            cJSON_DeleteItemFromObjectCaseSensitive(target, it->string);
            cJSON_AddItemToObject(target, it->string, cJSON_Duplicate(it, true));
        }
    }
}

static inline void ta_record(struct ta_server *ts, const char *method, const char *path,
                             const char *body, bool dry, int status)
{
    if (ts->n_reqs == TA_MAX_REQ)
        abort();
    struct ta_req *r = &ts->reqs[ts->n_reqs++];
    snprintf(r->method, sizeof r->method, "%s", method);
    snprintf(r->path, sizeof r->path, "%s", path);
    r->body = body ? xstrdup(body) : NULL;
    r->dry_run = dry;
    r->status = status;
}

static inline void ta_answer(kube_result_fn fn, void *arg, long status, const char *body,
                             const char *msg)
{
    struct kube_result res = {.status = status, .body = body, .body_len = body ? strlen(body) : 0};
    snprintf(res.message, sizeof res.message, "%s", msg ? msg : "");
    fn(arg, &res);
}

static inline int ta_patch(void *ctx, const char *path, enum kube_patch_type type, const char *body,
                           bool dry_run, kube_result_fn fn, void *arg, struct idw_err *err)
{
    struct ta_server *ts = ctx;
    (void)err;
    cJSON *cur = ta_server_obj(ts, path);
    int fail = dry_run ? ts->fail_dry : ts->fail_apply;
    if (dry_run)
        ts->fail_dry = 0;
    else
        ts->fail_apply = 0;
    if (!cur || type != KUBE_PATCH_MERGE) {
        ta_record(ts, "PATCH", path, body, dry_run, 404);
        ta_answer(fn, arg, 404, NULL, "404 NotFound: not found");
        return 0;
    }
    if (fail) {
        ta_record(ts, "PATCH", path, body, dry_run, fail);
        ta_answer(fn, arg, fail, NULL,
                  fail == 403   ? "403 Forbidden: User \"alice\" cannot patch resource"
                  : fail == 422 ? "422 Invalid: spec.template: denied by policy"
                                : "500 InternalError: boom");
        return 0;
    }
    cJSON *patch = cJSON_Parse(body);
    const cJSON *want = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(patch, "metadata"), "resourceVersion");
    const cJSON *have = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(cur, "metadata"), "resourceVersion");
    if (want && (!cJSON_IsString(want) || strcmp(want->valuestring, have->valuestring) != 0)) {
        cJSON_Delete(patch);
        ta_record(ts, "PATCH", path, body, dry_run, 409);
        ta_answer(fn, arg, 409, NULL,
                  "409 Conflict: Operation cannot be fulfilled: the object has been modified");
        return 0;
    }
    cJSON *next = cJSON_Duplicate(cur, true);
    ta_merge(next, patch);
    cJSON_Delete(patch);
    char rv[32];
    snprintf(rv, sizeof rv, "%lu", ts->next_rv++);
    cJSON *meta = cJSON_GetObjectItemCaseSensitive(next, "metadata");
    cJSON_ReplaceItemInObjectCaseSensitive(meta, "resourceVersion", cJSON_CreateString(rv));
    char *out = cJSON_PrintUnformatted(next);
    ta_record(ts, "PATCH", path, body, dry_run, 200);
    if (dry_run) {
        ts->dry_runs++;
        cJSON_Delete(next);
    } else {
        ts->writes++;
        for (size_t i = 0; i < ts->n; i++)
            if (ts->objs[i] == cur) {
                cJSON_Delete(cur);
                ts->objs[i] = next;
            }
        if (ts->store && ts->mirror)
            ta_store_put(ts->store, next);
    }
    ta_answer(fn, arg, 200, out, NULL);
    cJSON_free(out);
    return 0;
}

static inline int ta_get(void *ctx, const char *path, kube_result_fn fn, void *arg,
                         struct idw_err *err)
{
    struct ta_server *ts = ctx;
    (void)err;
    ts->gets++;
    cJSON *cur = ta_server_obj(ts, path);
    ta_record(ts, "GET", path, NULL, false, cur ? 200 : 404);
    if (!cur) {
        ta_answer(fn, arg, 404, NULL, "404 NotFound");
        return 0;
    }
    char *out = cJSON_PrintUnformatted(cur);
    ta_answer(fn, arg, 200, out, NULL);
    cJSON_free(out);
    return 0;
}

static inline int ta_ssar(void *ctx, const char *verb, const char *group, const char *resource,
                          const char *ns, const char *name, kube_ssar_fn fn, void *arg,
                          struct idw_err *err)
{
    struct ta_server *ts = ctx;
    (void)err;
    ts->ssars++;
    char path[512];
    snprintf(path, sizeof path, "%s %s/%s %s/%s", verb, group, resource, ns, name);
    ta_record(ts, "SSAR", path, NULL, false, 201);
    if (ts->ssar_error)
        fn(arg, false, NULL, ts->ssar_error);
    else
        fn(arg, ts->ssar_allowed, ts->ssar_reason, NULL);
    return 0;
}

static inline int ta_fic(void *ctx, const struct azure_fic_spec *spec, azure_fic_done fn, void *arg,
                         struct idw_err *err)
{
    struct ta_server *ts = ctx;
    (void)err;
    ts->fic_puts++;
    snprintf(ts->fic_name, sizeof ts->fic_name, "%s", spec->name);
    snprintf(ts->fic_issuer, sizeof ts->fic_issuer, "%s", spec->issuer);
    snprintf(ts->fic_subject, sizeof ts->fic_subject, "%s", spec->subject);
    ta_record(ts, "PUT", spec->identity_arm_id, spec->name, false, ts->fic_rc ? 403 : 201);
    struct idw_err e = {{0}};
    snprintf(e.msg, sizeof e.msg, "%s", ts->fic_error);
    fn(arg, ts->fic_rc, ts->fic_rc ? &e : NULL);
    return 0;
}

static inline struct actions_io ta_io(struct ta_server *ts)
{
    return (struct actions_io){
        .ctx = ts, .patch = ta_patch, .get = ta_get, .ssar = ta_ssar, .fic_put = ta_fic};
}

/* An Azure picture: the cluster (issuer, tenant) and one identity with n_fics credentials. */
static inline void ta_azure(struct store *s, size_t n_fics, const char *fic_subject0)
{
    struct model_azure m;
    memset(&m, 0, sizeof m);
    m.state = MODEL_AZ_OK;
    m.cluster_name = xstrdup("aks-demo-weu");
    m.tenant_id = xstrdup(TA_TENANT);
    m.oidc_issuer_enabled = true;
    m.oidc_issuer_url = xstrdup(TA_ISSUER);
    m.identities_state = MODEL_AZ_OK;
    m.n_identities = 2;
    m.identities = xcalloc(2, sizeof *m.identities);
    struct model_identity *id = &m.identities[0];
    id->arm_id = xstrdup(TA_IDENTITY);
    id->name = xstrdup("id-payments");
    id->resource_group = xstrdup("rg-ids");
    id->client_id = xstrdup(TA_CID);
    id->tenant_id = xstrdup(TA_TENANT);
    id->fic_state = MODEL_AZ_OK;
    id->n_fics = n_fics;
    id->fics = xcalloc(n_fics ? n_fics : 1, sizeof *id->fics);
    for (size_t i = 0; i < n_fics; i++) {
        id->fics[i].name = xasprintf("other-%zu", i);
        id->fics[i].issuer = xstrdup(TA_ISSUER);
        id->fics[i].subject = i == 0 && fic_subject0
                                  ? xstrdup(fic_subject0)
                                  : xasprintf("system:serviceaccount:x:sa%zu", i);
        id->fics[i].n_audiences = 1;
        id->fics[i].audiences = xcalloc(1, sizeof(char *));
        id->fics[i].audiences[0] = xstrdup(WI_AUDIENCE);
    }
    struct model_identity *id2 = &m.identities[1];
    id2->arm_id = xstrdup(
        "/subscriptions/9b3f1c2d-4e5a-4b6c-8d7e-1f2a3b4c5d6e/resourceGroups/rg-other/providers/"
        "Microsoft.ManagedIdentity/userAssignedIdentities/id-other");
    id2->name = xstrdup("id-other");
    id2->resource_group = xstrdup("rg-other");
    id2->client_id = xstrdup(TA_CID2);
    id2->tenant_id = xstrdup("aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee");
    id2->fic_state = MODEL_AZ_OK;
    store_set_azure(s, &m);
}

#endif
