/* server_kube: the Kubernetes API front of idwatch-sim (discovery, list, get, watch, patch, pod
 * logs, SelfSubjectAccessReview) and the cluster's OIDC discovery endpoints, shaped after
 * reference/kubernetes-api.md and real kubectl 1.32 traffic. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "patch.h"
#include "resources.h"
#include "server_internal.h"

#define NS_PER_S INT64_C(1000000000)
#define CONTINUE_TTL_NS (300LL * NS_PER_S) /* etcd compaction: tokens last about 5 minutes */
#define WATCH_DEFAULT_S 1800
#define BOOKMARK_EVERY_NS (10LL * NS_PER_S)

static const char CONTINUE_EXPIRED[] =
    "The provided continue parameter is too old to display a consistent list result. You can "
    "start a new list without the continue parameter, or use the continue token in this response "
    "to retrieve the remainder of the results. Continuing with the provided token results in an "
    "inconsistent list - objects that were created, modified, or deleted between the time the "
    "first chunk was returned and now may show up in the list.";

/* ---- small helpers ---- */

static bool has_verb(const struct sim_resource *r, const char *verb)
{
    size_t n = strlen(verb);
    for (const char *p = r->verbs; *p;) {
        size_t l = strcspn(p, ",");
        if (l == n && strncmp(p, verb, n) == 0)
            return true;
        p += l;
        if (*p)
            p++;
    }
    return false;
}

/* "deployments.apps" / "pods": how the API server names a resource in messages. */
static void res_display(const struct sim_resource *r, char *out, size_t n)
{
    if (*r->group)
        snprintf(out, n, "%s.%s", r->name, r->group);
    else
        snprintf(out, n, "%s", r->name);
}

static void group_version(const struct sim_resource *r, char *out, size_t n)
{
    if (*r->group)
        snprintf(out, n, "%s/%s", r->group, r->version);
    else
        snprintf(out, n, "%s", r->version);
}

static int not_found(struct server_resp *resp)
{
    resp_status(resp, 404, "NotFound", NULL, NULL, NULL,
                "the server could not find the requested resource");
    return 0;
}

static int method_not_allowed(struct server_resp *resp)
{
    resp_status(resp, 405, "MethodNotAllowed", NULL, NULL, NULL,
                "the server does not allow this method on the requested resource");
    return 0;
}

static int obj_not_found(struct server_resp *resp, const struct sim_resource *r, const char *name)
{
    char what[160];
    res_display(r, what, sizeof what);
    resp_status(resp, 404, "NotFound", name, *r->group ? r->group : "", r->name,
                "%s \"%s\" not found", what, name);
    return 0;
}

static cJSON *add_rv(cJSON *meta, uint64_t rv)
{
    char num[32];
    snprintf(num, sizeof num, "%" PRIu64, rv);
    return cJSON_AddStringToObject(meta, "resourceVersion", num);
}

/* RBAC from the scenario's table; fills a Forbidden Status when denied. */
static bool authorize(struct server_req *req, struct server_resp *resp,
                      const struct sim_resource *r, const char *verb, const char *sub,
                      const char *ns, const char *name)
{
    struct sim *s = req->srv->sim;
    char reason[256];
    sim_lock(s);
    bool ok = sim_rbac_allowed(s, req->user, verb, r->group, r->name, sub ? sub : "", ns,
                               name ? name : "", reason, sizeof reason);
    sim_unlock(s);
    if (ok)
        return true;
    char what[160], res[128], where[320];
    res_display(r, what, sizeof what);
    snprintf(res, sizeof res, "%s%s%s", r->name, sub ? "/" : "", sub ? sub : "");
    if (*ns)
        snprintf(where, sizeof where, "in the namespace \"%s\"", ns);
    else
        snprintf(where, sizeof where, "at the cluster scope");
    char subject[300];
    if (name && *name)
        snprintf(subject, sizeof subject, "%s \"%s\"", what, name);
    else
        snprintf(subject, sizeof subject, "%s", what);
    resp_status(resp, 403, "Forbidden", name && *name ? name : NULL, r->group, r->name,
                "%s is forbidden: User \"%s\" cannot %s resource \"%s\" in API group \"%s\" %s",
                subject, req->user, verb, res, r->group, where);
    return false;
}

/* ---- classification ---- */

bool kube_match(const struct server_req *req)
{
    (void)req;
    return true; /* the catch-all front: unknown paths get the API server's 404 */
}

enum server_class kube_classify(const struct server_req *req)
{
    switch (req->kp.kind) {
    case SERVER_PATH_VERSION:
    case SERVER_PATH_API:
    case SERVER_PATH_APIS:
    case SERVER_PATH_GROUP:
    case SERVER_PATH_GV: return SERVER_CLASS_DISCOVERY;
    case SERVER_PATH_COLLECTION:
        if (req->method == SERVER_M_POST && str_eq(req->kp.resource, "selfsubjectaccessreviews"))
            return SERVER_CLASS_SSAR;
        if (req->method == SERVER_M_GET || req->method == SERVER_M_HEAD)
            return req->q.watch ? SERVER_CLASS_WATCH : SERVER_CLASS_LIST;
        return SERVER_CLASS_OTHER;
    case SERVER_PATH_OBJECT:
    case SERVER_PATH_SUB:
        if (req->kp.kind == SERVER_PATH_SUB && str_eq(req->kp.sub, "log"))
            return SERVER_CLASS_LOG;
        if (req->method == SERVER_M_GET || req->method == SERVER_M_HEAD)
            return SERVER_CLASS_GET;
        if (req->method == SERVER_M_PATCH)
            return SERVER_CLASS_PATCH;
        return SERVER_CLASS_OTHER;
    case SERVER_PATH_NONE: break;
    }
    return SERVER_CLASS_OTHER;
}

/* ---- discovery ---- */

static int do_version(struct server_req *req, struct server_resp *resp)
{
    const char *v = sim_kubernetes_version(req->srv->sim);
    unsigned major = 1, minor = 32, patch = 0;
    if (!v || sscanf(v, "v%u.%u.%u", &major, &minor, &patch) < 2)
        v = "v1.32.0";
    char num[16], git[64];
    snprintf(git, sizeof git, "%s", v);
    cJSON *o = cJSON_CreateObject();
    snprintf(num, sizeof num, "%u", major);
    cJSON_AddStringToObject(o, "major", num);
    snprintf(num, sizeof num, "%u", minor);
    cJSON_AddStringToObject(o, "minor", num);
    cJSON_AddStringToObject(o, "gitVersion", git);
    cJSON_AddStringToObject(o, "gitCommit", "0000000000000000000000000000000000000000");
    cJSON_AddStringToObject(o, "gitTreeState", "clean");
    cJSON_AddStringToObject(o, "buildDate", "2025-04-22T16:00:00Z");
    cJSON_AddStringToObject(o, "goVersion", "go1.23.8");
    cJSON_AddStringToObject(o, "compiler", "gc");
    cJSON_AddStringToObject(o, "platform", "linux/amd64");
    resp_json(resp, 200, o);
    return 0;
}

static int do_api(struct server_req *req, struct server_resp *resp)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "kind", "APIVersions");
    cJSON *v = cJSON_AddArrayToObject(o, "versions");
    cJSON_AddItemToArray(v, cJSON_CreateString("v1"));
    cJSON *a = cJSON_AddArrayToObject(o, "serverAddressByClientCIDRs");
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "clientCIDR", "0.0.0.0/0");
    char addr[32];
    snprintf(addr, sizeof addr, "127.0.0.1:%u", (unsigned)req->srv->port);
    cJSON_AddStringToObject(e, "serverAddress", addr);
    cJSON_AddItemToArray(a, e);
    resp_json(resp, 200, o);
    return 0;
}

static cJSON *group_object(const char *group)
{
    const struct sim_resource *r = NULL;
    for (size_t i = 0; i < sim_resource_count() && !r; i++)
        if (str_eq(sim_resource_at(i)->group, group))
            r = sim_resource_at(i);
    if (!r)
        return NULL;
    char gv[128];
    group_version(r, gv, sizeof gv);
    cJSON *g = cJSON_CreateObject();
    cJSON_AddStringToObject(g, "name", group);
    cJSON *vs = cJSON_AddArrayToObject(g, "versions");
    cJSON *v = cJSON_CreateObject();
    cJSON_AddStringToObject(v, "groupVersion", gv);
    cJSON_AddStringToObject(v, "version", r->version);
    cJSON_AddItemToArray(vs, v);
    cJSON_AddItemToObject(g, "preferredVersion", cJSON_Duplicate(v, true));
    return g;
}

static int do_apis(struct server_resp *resp)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "kind", "APIGroupList");
    cJSON_AddStringToObject(o, "apiVersion", "v1");
    cJSON *groups = cJSON_AddArrayToObject(o, "groups");
    for (size_t i = 0; i < sim_group_count(); i++)
        if (*sim_group_at(i))
            cJSON_AddItemToArray(groups, group_object(sim_group_at(i)));
    resp_json(resp, 200, o);
    return 0;
}

static int do_group(struct server_req *req, struct server_resp *resp)
{
    cJSON *g = *req->kp.group ? group_object(req->kp.group) : NULL;
    if (!g)
        return not_found(resp);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "kind", "APIGroup");
    cJSON_AddStringToObject(o, "apiVersion", "v1");
    for (cJSON *c = g->child; c;) {
        cJSON *next = c->next;
        cJSON_AddItemToObject(o, c->string, cJSON_DetachItemViaPointer(g, c));
        c = next;
    }
    cJSON_Delete(g);
    resp_json(resp, 200, o);
    return 0;
}

static cJSON *verbs_array(const char *verbs)
{
    cJSON *a = cJSON_CreateArray();
    for (const char *p = verbs; *p;) {
        size_t l = strcspn(p, ",");
        char *v = xstrndup(p, l);
        cJSON_AddItemToArray(a, cJSON_CreateString(v));
        free(v);
        p += l;
        if (*p)
            p++;
    }
    return a;
}

static int do_group_version(struct server_req *req, struct server_resp *resp)
{
    const char *group = req->kp.group, *version = req->kp.version;
    bool core = !*group;
    if (core && strcmp(version, "v1") != 0)
        return not_found(resp);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "kind", "APIResourceList");
    cJSON_AddStringToObject(o, "apiVersion", "v1");
    char gv[128];
    snprintf(gv, sizeof gv, "%s%s%s", group, core ? "" : "/", version);
    cJSON_AddStringToObject(o, "groupVersion", gv);
    cJSON *list = cJSON_AddArrayToObject(o, "resources");
    for (size_t i = 0; i < sim_resource_count(); i++) {
        const struct sim_resource *r = sim_resource_at(i);
        if (!str_eq(r->group, group) || !str_eq(r->version, version))
            continue;
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "name", r->name);
        cJSON_AddStringToObject(e, "singularName", r->singular);
        cJSON_AddBoolToObject(e, "namespaced", r->namespaced);
        cJSON_AddStringToObject(e, "kind", r->kind);
        cJSON_AddItemToObject(e, "verbs", verbs_array(r->verbs));
        if (*r->short_names)
            cJSON_AddItemToObject(e, "shortNames", verbs_array(r->short_names));
        cJSON_AddItemToArray(list, e);
        size_t plen = strlen(r->name);
        for (size_t j = 0; j < sim_subresource_count(); j++) {
            const struct sim_subresource *sr = sim_subresource_at(j);
            if (!str_eq(sr->group, group) || !str_eq(sr->version, version) ||
                strncmp(sr->name, r->name, plen) != 0 || sr->name[plen] != '/')
                continue;
            cJSON *se = cJSON_CreateObject();
            cJSON_AddStringToObject(se, "name", sr->name);
            cJSON_AddStringToObject(se, "singularName", "");
            cJSON_AddBoolToObject(se, "namespaced", r->namespaced);
            if (sr->kind_group) {
                cJSON_AddStringToObject(se, "group", sr->kind_group);
                cJSON_AddStringToObject(se, "version", sr->kind_version);
            }
            cJSON_AddStringToObject(se, "kind", sr->kind);
            cJSON_AddItemToObject(se, "verbs", verbs_array(sr->verbs));
            cJSON_AddItemToArray(list, se);
        }
    }
    if (cJSON_GetArraySize(list) == 0) {
        cJSON_Delete(o);
        return not_found(resp);
    }
    resp_json(resp, 200, o);
    return 0;
}

/* ---- object rendering ---- */

/* Prints obj without kind/apiVersion (built-in list items) by referencing its other members. */
static void append_json(struct idw_buf *b, const cJSON *obj)
{
    char *s = cJSON_PrintUnformatted(obj);
    buf_puts(b, s);
    cJSON_free(s);
}

static void append_partial(struct idw_buf *b, const cJSON *obj)
{
    cJSON *p = cJSON_CreateObject();
    cJSON_AddStringToObject(p, "kind", "PartialObjectMetadata");
    cJSON_AddStringToObject(p, "apiVersion", "meta.k8s.io/v1");
    const cJSON *meta = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
    if (meta)
        cJSON_AddItemReferenceToObject(p, "metadata", (cJSON *)meta);
    char *s = cJSON_PrintUnformatted(p);
    cJSON_Delete(p);
    buf_puts(b, s);
    cJSON_free(s);
}

/* ---- selectors ---- */

struct selectors {
    struct selector labels, fields;
    bool has_labels, has_fields;
};

static const char *const pod_fields[] = {"metadata.name", "metadata.namespace", "spec.nodeName",
                                         "status.podIP", "status.phase"};

/* Parses labelSelector/fieldSelector; the field keys are the ones the API server accepts. */
static int selectors_parse(struct server_req *req, const struct sim_resource *r,
                           struct selectors *sel, struct server_resp *resp)
{
    memset(sel, 0, sizeof *sel);
    struct idw_err err = {{0}};
    if (req->q.label_selector) {
        if (selector_parse(req->q.label_selector, &sel->labels, &err) != 0) {
            resp_status(resp, 400, "BadRequest", NULL, NULL, NULL,
                        "unable to parse requirement: %s", err.msg);
            return -1;
        }
        sel->has_labels = true;
    }
    if (req->q.field_selector) {
        if (selector_parse_fields(req->q.field_selector, &sel->fields, &err) != 0) {
            resp_status(resp, 400, "BadRequest", NULL, NULL, NULL, "%s", err.msg);
            goto fail;
        }
        sel->has_fields = true;
        size_t allowed = str_eq(r->name, "pods") ? 5 : 2;
        for (size_t i = 0; i < sel->fields.n; i++) {
            bool ok = false;
            for (size_t j = 0; j < allowed; j++)
                ok = ok || str_eq(sel->fields.reqs[i].key, pod_fields[j]);
            if (!ok) {
                char safe[128];
                resp_status(resp, 400, "BadRequest", NULL, NULL, NULL,
                            "field label not supported: %s",
                            str_sanitize(safe, sizeof safe, sel->fields.reqs[i].key));
                goto fail;
            }
        }
    }
    return 0;
fail:
    if (sel->has_labels)
        selector_free(&sel->labels);
    if (sel->has_fields)
        selector_free(&sel->fields);
    sel->has_labels = sel->has_fields = false;
    return -1;
}

static void selectors_free(struct selectors *sel)
{
    if (sel->has_labels)
        selector_free(&sel->labels);
    if (sel->has_fields)
        selector_free(&sel->fields);
}

static const char *label_get(void *ctx, const char *key)
{
    const cJSON *l = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive((const cJSON *)ctx, "metadata"), "labels");
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(l, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static const char *field_get(void *ctx, const char *key)
{
    return json_path_str(ctx, key);
}

static bool selectors_match(const struct selectors *sel, const cJSON *obj)
{
    if (sel->has_labels && !selector_match_fn(&sel->labels, label_get, (void *)obj))
        return false;
    if (sel->has_fields && !selector_match_fn(&sel->fields, field_get, (void *)obj))
        return false;
    return true;
}

/* ---- list ---- */

static int do_list(struct server_req *req, struct server_resp *resp, const struct sim_resource *r)
{
    struct sim *s = req->srv->sim;
    const char *ns = req->kp.ns;
    if (!has_verb(r, "list"))
        return method_not_allowed(resp);
    if (!authorize(req, resp, r, "list", NULL, ns, NULL))
        return 0;
    enum server_accept acc = server_accept_parse(req->accept, true);
    if (acc == SERVER_ACCEPT_NONE) {
        resp_status(resp, 406, "NotAcceptable", NULL, NULL, NULL,
                    "only the following media types are accepted: application/json, "
                    "application/json;as=Table;v=v1;g=meta.k8s.io, "
                    "application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io");
        return 0;
    }
    struct server_continue cont;
    bool continued = req->q.continue_token != NULL;
    if (continued && server_continue_decode(req->q.continue_token, &cont) != 0) {
        resp_status(resp, 400, "BadRequest", NULL, NULL, NULL,
                    "continue key is not valid: illegal base64 data or incorrect format");
        return 0;
    }
    struct selectors sel;
    if (selectors_parse(req, r, &sel, resp) != 0)
        return 0;
    sim_lock(s);
    int64_t now = sim_now_ns(s);
    if (continued && (req->gone_fault || now - cont.time_ns > CONTINUE_TTL_NS)) {
        sim_unlock(s);
        selectors_free(&sel);
        resp_status(resp, 410, "Expired", NULL, NULL, NULL, "%s", CONTINUE_EXPIRED);
        return 0;
    }
    const cJSON **objs = NULL;
    bool more = false;
    size_t left = 0;
    size_t limit = req->q.has_limit && req->q.limit > 0 ? (size_t)req->q.limit : 0;
    size_t n = sim_list_page(s, r, *ns ? ns : NULL, sel.has_labels ? &sel.labels : NULL,
                             sel.has_fields ? &sel.fields : NULL, continued ? cont.ns : NULL,
                             continued ? cont.name : NULL, limit, &objs, &more, &left);
    uint64_t rv = continued ? cont.rv : sim_resource_version(s);
    char *token = NULL;
    if (more && n > 0) {
        struct server_continue next = {.rv = rv, .time_ns = continued ? cont.time_ns : now};
        const char *lns = json_path_str(objs[n - 1], "metadata.namespace");
        const char *lname = json_path_str(objs[n - 1], "metadata.name");
        snprintf(next.ns, sizeof next.ns, "%s", lns ? lns : "");
        snprintf(next.name, sizeof next.name, "%s", lname ? lname : "");
        token = server_continue_encode(&next);
    }
    bool remaining = token && !sel.has_labels && !sel.has_fields;
    struct idw_buf *b = &resp->body;
    if (acc == SERVER_ACCEPT_TABLE) {
        struct idw_buf md = {0};
        buf_printf(&md, "{\"resourceVersion\":\"%" PRIu64 "\"", rv);
        if (token)
            buf_printf(&md, ",\"continue\":\"%s\"", token);
        if (remaining)
            buf_printf(&md, ",\"remainingItemCount\":%zu", left);
        buf_puts(&md, "}");
        table_write_list(b, s, r, objs, n, now / NS_PER_S, md.data);
        buf_free(&md);
    } else {
        char gv[128];
        group_version(r, gv, sizeof gv);
        bool partial = acc == SERVER_ACCEPT_PARTIAL_LIST;
        if (partial)
            buf_puts(b,
                     "{\"kind\":\"PartialObjectMetadataList\",\"apiVersion\":\"meta.k8s.io/v1\"");
        else
            buf_printf(b, "{\"kind\":\"%sList\",\"apiVersion\":\"%s\"", r->kind, gv);
        buf_printf(b, ",\"metadata\":{\"resourceVersion\":\"%" PRIu64 "\"", rv);
        if (token)
            buf_printf(b, ",\"continue\":\"%s\"", token);
        if (remaining)
            buf_printf(b, ",\"remainingItemCount\":%zu", left);
        buf_puts(b, "},\"items\":[");
        enum sim_text form = partial ? SIM_TEXT_PARTIAL : r->custom ? SIM_TEXT_FULL
                                                                   : SIM_TEXT_STRIPPED;
        for (size_t i = 0; i < n; i++) {
            if (i)
                buf_puts(b, ",");
            size_t len;
            const char *text = sim_json_text(s, r, objs[i], form, &len);
            buf_append(b, text, len);
        }
        buf_puts(b, "]}");
    }
    buf_puts(b, "\n");
    sim_unlock(s);
    free(objs);
    free(token);
    selectors_free(&sel);
    resp->status = 200;
    resp->content_type = "application/json";
    return 0;
}

/* ---- get ---- */

static int do_get(struct server_req *req, struct server_resp *resp, const struct sim_resource *r)
{
    struct sim *s = req->srv->sim;
    const char *ns = req->kp.ns, *name = req->kp.name;
    if (r->namespaced != (*ns != '\0'))
        return not_found(resp);
    if (!has_verb(r, "get"))
        return method_not_allowed(resp);
    if (!authorize(req, resp, r, "get", NULL, ns, name))
        return 0;
    enum server_accept acc = server_accept_parse(req->accept, false);
    if (acc == SERVER_ACCEPT_NONE) {
        resp_status(resp, 406, "NotAcceptable", NULL, NULL, NULL,
                    "only the following media types are accepted: application/json, "
                    "application/json;as=Table;v=v1;g=meta.k8s.io, "
                    "application/json;as=PartialObjectMetadata;v=v1;g=meta.k8s.io");
        return 0;
    }
    sim_lock(s);
    const cJSON *obj = sim_get(s, r, *ns ? ns : NULL, name);
    if (!obj) {
        sim_unlock(s);
        return obj_not_found(resp, r, name);
    }
    if (acc == SERVER_ACCEPT_TABLE) {
        cJSON *t = table_build(r, &obj, 1, sim_now_ns(s) / NS_PER_S, true);
        add_rv(cJSON_GetObjectItemCaseSensitive(t, "metadata"), sim_resource_version(s));
        append_json(&resp->body, t);
        cJSON_Delete(t);
    } else if (acc == SERVER_ACCEPT_PARTIAL) {
        append_partial(&resp->body, obj);
    } else {
        append_json(&resp->body, obj);
    }
    sim_unlock(s);
    buf_puts(&resp->body, "\n");
    resp->status = 200;
    resp->content_type = "application/json";
    return 0;
}

/* ---- watch ---- */

struct watch {
    struct server_stream base;
    const struct sim_resource *r;
    char ns[SERVER_MAX_NAME + 1];
    struct selectors sel;
    enum server_accept accept;
    uint64_t rv;
    bool initial; /* send the current objects as ADDED first (resourceVersion unset or 0) */
    bool gone;    /* a 410 fault: one ERROR event, then the end */
    bool reset;   /* drop the connection after the first batch */
    bool stall;   /* a stuck stream: open, but nothing (not even a bookmark) comes */
    bool bookmarks;
    bool columns_sent;
    int64_t start_ms, deadline_ms;
    int64_t next_bookmark_ns;
};

static void watch_event(struct watch *w, struct idw_buf *out, const char *type, const cJSON *obj,
                        int64_t now_s)
{
    buf_printf(out, "{\"type\":\"%s\",\"object\":", type);
    if (w->accept == SERVER_ACCEPT_TABLE) {
        cJSON *t = table_build(w->r, &obj, 1, now_s, !w->columns_sent);
        w->columns_sent = true;
        append_json(out, t);
        cJSON_Delete(t);
    } else if (w->accept == SERVER_ACCEPT_PARTIAL) {
        append_partial(out, obj);
    } else {
        append_json(out, obj);
    }
    buf_puts(out, "}\n");
}

static void watch_error(struct idw_buf *out, int code, const char *reason, const char *msg)
{
    cJSON *st = status_object(code, reason, msg);
    buf_puts(out, "{\"type\":\"ERROR\",\"object\":");
    append_json(out, st);
    buf_puts(out, "}\n");
    cJSON_Delete(st);
}

static void watch_bookmark(struct watch *w, struct idw_buf *out, uint64_t rv)
{
    char gv[128];
    group_version(w->r, gv, sizeof gv);
    buf_printf(out,
               "{\"type\":\"BOOKMARK\",\"object\":{\"kind\":\"%s\",\"apiVersion\":\"%s\","
               "\"metadata\":{\"resourceVersion\":\"%" PRIu64 "\"}}}\n",
               w->r->kind, gv, rv);
}

/* One batch of the stream; called with the lock held. 1 when the stream is over. */
static int watch_collect(struct watch *w, struct sim *s, struct idw_buf *out)
{
    int64_t now_ns = sim_now_ns(s);
    const char *ns = *w->ns ? w->ns : NULL;
    if (w->gone) {
        char msg[96];
        snprintf(msg, sizeof msg, "too old resource version: %" PRIu64 " (%" PRIu64 ")", w->rv,
                 sim_resource_version(s));
        watch_error(out, 410, "Expired", msg);
        return 1;
    }
    if (w->initial) {
        const cJSON **objs;
        size_t n = sim_list(s, w->r, ns, w->sel.has_labels ? &w->sel.labels : NULL,
                            w->sel.has_fields ? &w->sel.fields : NULL, &objs);
        for (size_t i = 0; i < n; i++)
            watch_event(w, out, "ADDED", objs[i], now_ns / NS_PER_S);
        free(objs);
        w->rv = sim_resource_version(s);
        w->initial = false;
        return 0;
    }
    struct sim_event *ev;
    size_t n;
    if (sim_events_since(s, w->r, ns, w->rv, &ev, &n) != 0) {
        char msg[96];
        snprintf(msg, sizeof msg, "too old resource version: %" PRIu64 " (%" PRIu64 ")", w->rv,
                 sim_resource_version(s));
        watch_error(out, 410, "Expired", msg);
        return 1;
    }
    for (size_t i = 0; i < n; i++) {
        w->rv = ev[i].rv;
        if (selectors_match(&w->sel, ev[i].object))
            watch_event(w, out, ev[i].type, ev[i].object, now_ns / NS_PER_S);
    }
    free(ev);
    if (out->len == 0 && w->bookmarks && now_ns >= w->next_bookmark_ns) {
        uint64_t rv = sim_resource_version(s);
        if (rv > w->rv)
            w->rv = rv; /* every event of this resource up to rv has been looked at */
        watch_bookmark(w, out, w->rv);
    }
    if (out->len)
        w->next_bookmark_ns = now_ns + BOOKMARK_EVERY_NS;
    return 0;
}

static int watch_next(struct server_stream *st, struct idw_buf *out)
{
    struct watch *w = (struct watch *)st;
    struct sim *s = st->srv->sim;
    for (;;) {
        int64_t now = time_now_ms();
        if (atomic_load(&st->srv->stopping) || now >= w->deadline_ms)
            return 1;
        if (w->reset && (st->sent > 0 || now - w->start_ms > 1000))
            return -1;
        sim_lock(s);
        if (w->stall) { /* events and bookmarks never come; the stream stays open */
            sim_wait(s, SERVER_WAIT_MS);
            sim_unlock(s);
            continue;
        }
        int rc = watch_collect(w, s, out);
        if (rc == 0 && out->len == 0) {
            int64_t left = w->deadline_ms - now;
            sim_wait(s, (int)(left < SERVER_WAIT_MS ? left : SERVER_WAIT_MS));
        }
        sim_unlock(s);
        if (rc || out->len)
            return rc;
    }
}

static void watch_free(struct server_stream *st)
{
    struct watch *w = (struct watch *)st;
    selectors_free(&w->sel);
    free(w);
}

static int parse_rv(const char *s, uint64_t *out)
{
    if (!s || !*s)
        return *out = 0, 0;
    char *end;
    if (strlen(s) > 20 || *s < '0' || *s > '9')
        return -1;
    unsigned long long v = strtoull(s, &end, 10);
    if (*end)
        return -1;
    *out = v;
    return 0;
}

static int do_watch(struct server_req *req, struct server_resp *resp, const struct sim_resource *r)
{
    const char *ns = req->kp.ns;
    if (!has_verb(r, "watch"))
        return method_not_allowed(resp);
    if (!authorize(req, resp, r, "watch", NULL, ns, NULL))
        return 0;
    uint64_t rv;
    if (parse_rv(req->q.resource_version, &rv) != 0) {
        char safe[64];
        resp_status(resp, 400, "BadRequest", NULL, NULL, NULL,
                    "resourceVersion: Invalid value: \"%s\": must be a decimal number",
                    str_sanitize(safe, sizeof safe, req->q.resource_version));
        return 0;
    }
    /* events carry one object each: a list Accept means the single-object form */
    enum server_accept acc = server_accept_parse(req->accept, false);
    if (acc == SERVER_ACCEPT_NONE &&
        server_accept_parse(req->accept, true) == SERVER_ACCEPT_PARTIAL_LIST)
        acc = SERVER_ACCEPT_PARTIAL;
    if (acc == SERVER_ACCEPT_NONE)
        acc = SERVER_ACCEPT_JSON;
    struct watch *w = xcalloc(1, sizeof *w);
    if (selectors_parse(req, r, &w->sel, resp) != 0) {
        free(w);
        return 0;
    }
    w->base.next = watch_next;
    w->base.free = watch_free;
    w->base.fail_after = -1;
    w->r = r;
    snprintf(w->ns, sizeof w->ns, "%s", ns);
    w->accept = acc;
    w->rv = rv;
    w->initial = rv == 0;
    w->gone = req->gone_fault;
    w->reset = req->reset_fault;
    req->reset_fault = false; /* handled by the stream itself */
    w->stall = req->stall_fault;
    w->bookmarks = req->q.allow_watch_bookmarks;
    int64_t timeout = req->q.has_timeout_seconds && req->q.timeout_seconds > 0
                          ? req->q.timeout_seconds
                          : WATCH_DEFAULT_S;
    if (timeout > 24 * 3600)
        timeout = 24 * 3600;
    w->start_ms = time_now_ms();
    w->deadline_ms = w->start_ms + timeout * 1000;
    sim_lock(req->srv->sim);
    w->next_bookmark_ns = sim_now_ns(req->srv->sim) + BOOKMARK_EVERY_NS;
    sim_unlock(req->srv->sim);
    resp->status = 200;
    resp->content_type = "application/json";
    resp->stream = &w->base;
    return 0;
}

/* ---- patch ---- */

static int do_patch(struct server_req *req, struct server_resp *resp, const struct sim_resource *r)
{
    const char *ns = req->kp.ns, *name = req->kp.name;
    if (r->namespaced != (*ns != '\0'))
        return not_found(resp);
    if (!has_verb(r, "patch"))
        return method_not_allowed(resp);
    if (!authorize(req, resp, r, "patch", NULL, ns, name))
        return 0;
    enum patch_type type;
    if (!req->content_type || patch_type_from_content_type(req->content_type, &type) != 0) {
        char safe[128];
        resp_status(resp, 415, "UnsupportedMediaType", NULL, NULL, NULL,
                    "the body of the request was in an unknown format - accepted media types "
                    "include: application/json-patch+json, application/merge-patch+json, "
                    "application/strategic-merge-patch+json (got \"%s\")",
                    str_sanitize(safe, sizeof safe, req->content_type));
        return 0;
    }
    if (req->q.dry_run && !str_eq(req->q.dry_run, "All")) {
        char safe[64];
        resp_status(resp, 400, "BadRequest", NULL, NULL, NULL,
                    "Invalid dryRun value: \"%s\"; only \"All\" is supported",
                    str_sanitize(safe, sizeof safe, req->q.dry_run));
        return 0;
    }
    cJSON *patch = req->body.len ? cJSON_ParseWithLength(req->body.data, req->body.len) : NULL;
    if (!patch) {
        resp_status(resp, 400, "BadRequest", NULL, NULL, NULL,
                    "error decoding patch: the body is not valid JSON");
        return 0;
    }
    struct idw_err err = {{0}};
    cJSON *result = NULL;
    struct sim *s = req->srv->sim;
    sim_lock(s);
    int rc = sim_patch(s, r, *ns ? ns : NULL, name, type, patch, req->q.dry_run != NULL,
                       req->q.field_manager, &result, &err);
    sim_unlock(s);
    cJSON_Delete(patch);
    if (rc == 200 && result) {
        resp_json(resp, 200, result);
        return 0;
    }
    cJSON_Delete(result);
    if (rc < 400 || rc > 599)
        rc = 500;
    resp_status(resp, rc, rc == 409 ? "Conflict" : status_reason(rc),
                rc == 404 || rc == 409 || rc == 422 ? name : NULL,
                rc == 404 || rc == 409 || rc == 422 ? r->group : NULL,
                rc == 404 || rc == 409 || rc == 422 ? r->name : NULL, "%s",
                err.msg[0] ? err.msg : "patch failed");
    return 0;
}

/* ---- pod logs ---- */

struct logstream {
    struct server_stream base;
    char ns[SERVER_MAX_NAME + 1], pod[SERVER_MAX_NAME + 1], container[SERVER_MAX_NAME + 1];
    bool has_container, timestamps, reset, stall;
    unsigned drop_gen; /* the server's drop-logs count when the stream began */
    int64_t last_ns;
    size_t at_last; /* lines stamped exactly last_ns already sent (one request's lines share a
                     * timestamp: a cursor on time alone would drop all but the first) */
    int64_t bytes_left; /* <0 = unlimited */
    int64_t start_ms;
};

static void log_format(struct idw_buf *out, const struct sim_log_line *l, bool timestamps,
                       int64_t *bytes_left)
{
    size_t before = out->len;
    if (timestamps) {
        time_t t = (time_t)(l->time_ns / NS_PER_S);
        struct tm tm;
        gmtime_r(&t, &tm);
        char ts[40];
        strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
        buf_printf(out, "%s.%09" PRId64 "Z ", ts, l->time_ns % NS_PER_S);
    }
    buf_puts(out, l->text ? l->text : "");
    buf_puts(out, "\n");
    if (*bytes_left >= 0) {
        size_t added = out->len - before;
        if ((int64_t)added > *bytes_left) {
            out->len = before + (size_t)*bytes_left;
            out->data[out->len] = '\0';
            *bytes_left = 0;
        } else {
            *bytes_left -= (int64_t)added;
        }
    }
}

static int log_next(struct server_stream *st, struct idw_buf *out)
{
    struct logstream *ls = (struct logstream *)st;
    struct sim *s = st->srv->sim;
    for (;;) {
        if (atomic_load(&st->srv->stopping) || ls->bytes_left == 0)
            return 1;
        if (ls->reset && (st->sent > 0 || time_now_ms() - ls->start_ms > 1000))
            return -1;
        if (atomic_load(&st->srv->drop_logs) != ls->drop_gen)
            return -1;
        sim_lock(s);
        if (ls->stall) { /* a kubelet that lost the file: the connection stays, lines stop */
            sim_wait(s, SERVER_WAIT_MS);
            sim_unlock(s);
            continue;
        }
        if (!sim_pod_exists(s, ls->ns, ls->pod)) {
            sim_unlock(s);
            return 1;
        }
        struct sim_log_line *lines = NULL;
        size_t n = 0;
        struct idw_err err = {{0}};
        int rc = sim_pod_log(s, ls->ns, ls->pod, ls->has_container ? ls->container : NULL,
                             ls->last_ns - 1, &lines, &n, &err);
        size_t skip = ls->at_last;
        for (size_t i = 0; rc == 0 && i < n && ls->bytes_left != 0; i++) {
            if (lines[i].time_ns < ls->last_ns)
                continue;
            if (lines[i].time_ns == ls->last_ns && skip > 0) {
                skip--;
                continue;
            }
            log_format(out, &lines[i], ls->timestamps, &ls->bytes_left);
            if (lines[i].time_ns == ls->last_ns) {
                ls->at_last++;
            } else {
                ls->last_ns = lines[i].time_ns;
                ls->at_last = 1;
            }
        }
        free(lines);
        if (rc != 0) {
            sim_unlock(s);
            return 1;
        }
        if (out->len == 0)
            sim_wait(s, SERVER_WAIT_MS);
        sim_unlock(s);
        if (out->len)
            return 0;
    }
}

static const char *default_container(const cJSON *pod)
{
    const cJSON *anns = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(pod, "metadata"), "annotations");
    const cJSON *d =
        cJSON_GetObjectItemCaseSensitive(anns, "kubectl.kubernetes.io/default-container");
    if (cJSON_IsString(d))
        return d->valuestring;
    const cJSON *cs = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(pod, "spec"), "containers");
    return json_path_str(cJSON_GetArrayItem(cs, 0), "name");
}

static int do_log(struct server_req *req, struct server_resp *resp, const struct sim_resource *r)
{
    struct sim *s = req->srv->sim;
    const char *ns = req->kp.ns, *name = req->kp.name;
    const struct server_query *q = &req->q;
    if (!*ns || req->method != SERVER_M_GET)
        return req->method != SERVER_M_GET ? method_not_allowed(resp) : not_found(resp);
    if (!authorize(req, resp, r, "get", "log", ns, name))
        return 0;
    if (q->has_since_seconds && q->since_time) {
        resp_status(resp, 400, "BadRequest", NULL, NULL, NULL,
                    "at most one of sinceTime or sinceSeconds may be specified");
        return 0;
    }
    struct {
        bool has;
        int64_t v;
        const char *field;
    } const positive[] = {{q->has_since_seconds, q->since_seconds, "sinceSeconds"},
                          {q->has_limit_bytes, q->limit_bytes, "limitBytes"}};
    for (size_t i = 0; i < sizeof positive / sizeof *positive; i++) {
        if (positive[i].has && positive[i].v < 1) {
            resp_status(resp, 422, "Invalid", name, "", "pods",
                        "PodLogOptions \"%s\" is invalid: %s: Invalid value: %" PRId64
                        ": must be greater than 0",
                        name, positive[i].field, positive[i].v);
            return 0;
        }
    }
    if (q->has_tail_lines && q->tail_lines < 0) {
        resp_status(resp, 422, "Invalid", name, "", "pods",
                    "PodLogOptions \"%s\" is invalid: tailLines: Invalid value: %" PRId64
                    ": must be greater than or equal to 0",
                    name, q->tail_lines);
        return 0;
    }
    int64_t since_time = 0;
    int32_t since_nanos = 0;
    if (q->since_time && time_parse_rfc3339(q->since_time, &since_time, &since_nanos) != 0) {
        resp_status(resp, 400, "BadRequest", NULL, NULL, NULL,
                    "sinceTime: invalid value, expected RFC 3339");
        return 0;
    }
    sim_lock(s);
    const cJSON *pod = sim_get(s, r, ns, name);
    if (!pod) {
        sim_unlock(s);
        return obj_not_found(resp, r, name);
    }
    if (q->previous) {
        char c[SERVER_MAX_NAME + 1];
        snprintf(c, sizeof c, "%s", q->container ? q->container : default_container(pod));
        sim_unlock(s);
        resp_status(resp, 400, "BadRequest", NULL, NULL, NULL,
                    "previous terminated container \"%s\" in pod \"%s\" not found", c, name);
        return 0;
    }
    int64_t since_ns = 0;
    if (q->has_since_seconds)
        since_ns = sim_now_ns(s) - q->since_seconds * NS_PER_S;
    else if (q->since_time)
        since_ns = since_time * NS_PER_S + since_nanos - 1;
    struct sim_log_line *lines = NULL;
    size_t n = 0;
    struct idw_err err = {{0}};
    int rc = sim_pod_log(s, ns, name, q->container, since_ns, &lines, &n, &err);
    if (rc != 0) {
        sim_unlock(s);
        free(lines);
        resp_status(resp, rc == 404 ? 404 : 400, rc == 404 ? "NotFound" : "BadRequest", NULL, NULL,
                    NULL, "%s", err.msg);
        return 0;
    }
    size_t first = 0;
    if (q->has_tail_lines && (uint64_t)q->tail_lines < n)
        first = n - (size_t)q->tail_lines;
    int64_t bytes_left = q->has_limit_bytes ? q->limit_bytes : -1;
    struct idw_buf *out = &resp->body;
    struct logstream *ls = NULL;
    if (q->follow) {
        ls = xcalloc(1, sizeof *ls);
        out = &ls->base.pending;
    }
    for (size_t i = first; i < n && bytes_left != 0; i++)
        log_format(out, &lines[i], q->timestamps, &bytes_left);
    if (ls) {
        ls->base.next = log_next;
        ls->base.fail_after = -1;
        snprintf(ls->ns, sizeof ls->ns, "%s", ns);
        snprintf(ls->pod, sizeof ls->pod, "%s", name);
        if (q->container) {
            ls->has_container = true;
            snprintf(ls->container, sizeof ls->container, "%s", q->container);
        }
        ls->timestamps = q->timestamps;
        ls->last_ns = n ? lines[n - 1].time_ns : (since_ns > 0 ? since_ns : sim_now_ns(s));
        for (size_t i = n; i > first && lines[i - 1].time_ns == ls->last_ns; i--)
            ls->at_last++;
        if (!n)
            ls->at_last = 0;
        ls->stall = req->stall_fault;
        ls->drop_gen = atomic_load(&req->srv->drop_logs);
        ls->bytes_left = bytes_left;
        ls->reset = req->reset_fault;
        ls->start_ms = time_now_ms();
        req->reset_fault = false;
        resp->stream = &ls->base;
    }
    sim_unlock(s);
    free(lines);
    resp->status = 200;
    resp->content_type = "text/plain";
    return 0;
}

/* ---- SelfSubjectAccessReview ---- */

static int do_ssar(struct server_req *req, struct server_resp *resp)
{
    struct server_ssar a;
    struct idw_err err = {{0}};
    const char *ct = req->content_type ? req->content_type : "";
    int rc;
    if (str_has_prefix(ct, "application/vnd.kubernetes.protobuf")) {
        rc = server_ssar_decode_protobuf((const unsigned char *)req->body.data, req->body.len, &a,
                                         &err);
    } else if (str_has_prefix(ct, "application/json")) {
        rc = server_ssar_decode_json(req->body.data ? req->body.data : "", req->body.len, &a, &err);
    } else {
        resp_status(resp, 415, "UnsupportedMediaType", NULL, NULL, NULL,
                    "the body of the request was in an unknown format - accepted media types "
                    "include: application/json, application/yaml, "
                    "application/vnd.kubernetes.protobuf");
        return 0;
    }
    if (rc != 0) {
        resp_status(resp, rc, status_reason(rc), NULL, NULL, NULL, "%s", err.msg);
        return 0;
    }
    struct sim *s = req->srv->sim;
    char reason[256];
    sim_lock(s);
    bool allowed = a.path ? sim_rbac_allowed(s, req->user, a.verb, "", a.path, "", "", "", reason,
                                             sizeof reason)
                          : sim_rbac_allowed(s, req->user, a.verb, a.group, a.resource,
                                             a.subresource, a.ns, a.name, reason, sizeof reason);
    sim_unlock(s);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "kind", "SelfSubjectAccessReview");
    cJSON_AddStringToObject(o, "apiVersion", "authorization.k8s.io/v1");
    cJSON_AddNullToObject(cJSON_AddObjectToObject(o, "metadata"), "creationTimestamp");
    cJSON *spec = cJSON_AddObjectToObject(o, "spec");
    cJSON *attrs =
        cJSON_AddObjectToObject(spec, a.path ? "nonResourceAttributes" : "resourceAttributes");
    const struct {
        const char *key, *value;
    } fields[] = {{"namespace", a.ns},    {"verb", a.verb},         {"group", a.group},
                  {"version", a.version}, {"resource", a.resource}, {"subresource", a.subresource},
                  {"name", a.name},       {"path", a.path}};
    for (size_t i = 0; i < sizeof fields / sizeof *fields; i++)
        if (!str_empty(fields[i].value))
            cJSON_AddStringToObject(attrs, fields[i].key, fields[i].value);
    cJSON *st = cJSON_AddObjectToObject(o, "status");
    cJSON_AddBoolToObject(st, "allowed", allowed);
    if (!allowed)
        cJSON_AddBoolToObject(st, "denied", true);
    if (*reason)
        cJSON_AddStringToObject(st, "reason", reason);
    server_ssar_free(&a);
    resp_json(resp, 201, o);
    return 0;
}

/* ---- dispatch ---- */

static int kube_route(struct server_req *req, struct server_resp *resp)
{
    const struct server_path *kp = &req->kp;
    if (!req->kp_ok)
        return not_found(resp);
    bool read = req->method == SERVER_M_GET || req->method == SERVER_M_HEAD;
    switch (kp->kind) {
    case SERVER_PATH_VERSION: return read ? do_version(req, resp) : method_not_allowed(resp);
    case SERVER_PATH_API: return read ? do_api(req, resp) : method_not_allowed(resp);
    case SERVER_PATH_APIS: return read ? do_apis(resp) : method_not_allowed(resp);
    case SERVER_PATH_GROUP: return read ? do_group(req, resp) : method_not_allowed(resp);
    case SERVER_PATH_GV: return read ? do_group_version(req, resp) : method_not_allowed(resp);
    default: break;
    }
    const struct sim_resource *r = sim_resource_find(kp->group, kp->version, kp->resource);
    if (!r)
        return not_found(resp);
    if (kp->kind == SERVER_PATH_COLLECTION) {
        if (req->method == SERVER_M_POST && str_eq(r->name, "selfsubjectaccessreviews"))
            return do_ssar(req, resp);
        if (!read)
            return method_not_allowed(resp);
        if (r->namespaced == false && *kp->ns)
            return not_found(resp);
        return req->q.watch ? do_watch(req, resp, r) : do_list(req, resp, r);
    }
    if (kp->kind == SERVER_PATH_OBJECT) {
        if (read)
            return do_get(req, resp, r);
        if (req->method == SERVER_M_PATCH)
            return do_patch(req, resp, r);
        return method_not_allowed(resp);
    }
    /* subresources: pods/log is served, status reads as the object, the rest is listed only */
    if (!sim_subresource_find(r, kp->sub))
        return not_found(resp);
    if (str_eq(r->name, "pods") && str_eq(kp->sub, "log"))
        return do_log(req, resp, r);
    if (str_eq(kp->sub, "status") && read)
        return do_get(req, resp, r);
    return not_found(resp);
}

void kube_handle(struct server_req *req, struct server_resp *resp)
{
    kube_route(req, resp);
}

/* ---- OIDC issuer discovery (pkg/routes/openidmetadata.go) ---- */

bool oidc_match(const struct server_req *req)
{
    return str_eq(req->path, "/.well-known/openid-configuration") ||
           str_eq(req->path, "/openid/v1/jwks");
}

void oidc_handle(struct server_req *req, struct server_resp *resp)
{
    struct server *srv = req->srv;
    if (req->method != SERVER_M_GET && req->method != SERVER_M_HEAD) {
        method_not_allowed(resp);
        return;
    }
    cJSON *o = cJSON_CreateObject();
    if (str_eq(req->path, "/openid/v1/jwks")) {
        cJSON *keys = cJSON_AddArrayToObject(o, "keys");
        cJSON *k = cJSON_CreateObject();
        cJSON_AddStringToObject(k, "use", "sig");
        cJSON_AddStringToObject(k, "kty", "RSA");
        cJSON_AddStringToObject(k, "kid", srv->tls.oidc_kid);
        cJSON_AddStringToObject(k, "alg", "RS256");
        cJSON_AddStringToObject(k, "n", srv->tls.oidc_n);
        cJSON_AddStringToObject(k, "e", srv->tls.oidc_e);
        cJSON_AddItemToArray(keys, k);
        resp_json(resp, 200, o);
        resp->content_type = "application/jwk-set+json";
    } else {
        sim_lock(srv->sim);
        const char *issuer = sim_issuer(srv->sim);
        char *iss = xstrdup(issuer ? issuer : srv->url);
        sim_unlock(srv->sim);
        size_t l = strlen(iss);
        char *jwks = xasprintf("%s%sopenid/v1/jwks", iss, l && iss[l - 1] == '/' ? "" : "/");
        cJSON_AddStringToObject(o, "issuer", iss);
        cJSON_AddStringToObject(o, "jwks_uri", jwks);
        free(iss);
        free(jwks);
        cJSON *a = cJSON_AddArrayToObject(o, "response_types_supported");
        cJSON_AddItemToArray(a, cJSON_CreateString("id_token"));
        a = cJSON_AddArrayToObject(o, "subject_types_supported");
        cJSON_AddItemToArray(a, cJSON_CreateString("public"));
        a = cJSON_AddArrayToObject(o, "id_token_signing_alg_values_supported");
        cJSON_AddItemToArray(a, cJSON_CreateString("RS256"));
        resp_json(resp, 200, o);
    }
    resp->cache_control = "public, max-age=3600";
}
