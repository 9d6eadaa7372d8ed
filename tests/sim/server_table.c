/* server_table: meta.k8s.io/v1 Table responses (what `kubectl get` prints) for the common kinds;
 * other kinds get Name and Age, custom resources Name and Created At, as the API server does. */
#include <stdio.h>
#include <string.h>

#include "server_internal.h"

typedef cJSON *(*cell_fn)(const cJSON *obj, int64_t now_s);

struct column {
    const char *name;
    const char *type;
    const char *format;
    int priority; /* 0 = shown by default, 1 = with -o wide */
    const char *description;
    cell_fn cell;
};

static const cJSON *get(const cJSON *o, const char *a, const char *b)
{
    return cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(o, a), b);
}

static int num(const cJSON *o, const char *a, const char *b)
{
    const cJSON *v = get(o, a, b);
    return cJSON_IsNumber(v) ? v->valueint : 0;
}

static cJSON *str_or(const char *s, const char *dflt)
{
    return cJSON_CreateString(s && *s ? s : dflt);
}

static cJSON *cell_name(const cJSON *o, int64_t now_s)
{
    (void)now_s;
    return str_or(json_path_str(o, "metadata.name"), "");
}

static cJSON *cell_age(const cJSON *o, int64_t now_s)
{
    int64_t t;
    const char *ts = json_path_str(o, "metadata.creationTimestamp");
    if (!ts || time_parse_rfc3339(ts, &t, NULL) != 0)
        return cJSON_CreateString("<unknown>");
    char age[16];
    time_format_age(now_s > t ? now_s - t : 0, age);
    return cJSON_CreateString(age);
}

static cJSON *cell_created(const cJSON *o, int64_t now_s)
{
    (void)now_s;
    return str_or(json_path_str(o, "metadata.creationTimestamp"), "<unknown>");
}

static cJSON *cell_deploy_ready(const cJSON *o, int64_t now_s)
{
    (void)now_s;
    char s[32];
    snprintf(s, sizeof s, "%d/%d", num(o, "status", "readyReplicas"), num(o, "spec", "replicas"));
    return cJSON_CreateString(s);
}

static cJSON *cell_updated(const cJSON *o, int64_t now_s)
{
    (void)now_s;
    return cJSON_CreateNumber(num(o, "status", "updatedReplicas"));
}

static cJSON *cell_available(const cJSON *o, int64_t now_s)
{
    (void)now_s;
    return cJSON_CreateNumber(num(o, "status", "availableReplicas"));
}

static cJSON *cell_pod_ready(const cJSON *o, int64_t now_s)
{
    (void)now_s;
    int ready = 0;
    const cJSON *cs;
    cJSON_ArrayForEach(cs, get(o, "status", "containerStatuses")) ready +=
        cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(cs, "ready"));
    char s[32];
    snprintf(s, sizeof s, "%d/%d", ready, cJSON_GetArraySize(get(o, "spec", "containers")));
    return cJSON_CreateString(s);
}

static cJSON *cell_pod_status(const cJSON *o, int64_t now_s)
{
    (void)now_s;
    if (json_path_str(o, "metadata.deletionTimestamp"))
        return cJSON_CreateString("Terminating");
    return str_or(json_path_str(o, "status.phase"), "Unknown");
}

static cJSON *cell_restarts(const cJSON *o, int64_t now_s)
{
    (void)now_s;
    int n = 0;
    const cJSON *cs;
    cJSON_ArrayForEach(cs, get(o, "status", "containerStatuses"))
    {
        const cJSON *rc = cJSON_GetObjectItemCaseSensitive(cs, "restartCount");
        n += cJSON_IsNumber(rc) ? rc->valueint : 0;
    }
    return cJSON_CreateNumber(n);
}

static cJSON *cell_pod_ip(const cJSON *o, int64_t now_s)
{
    (void)now_s;
    return str_or(json_path_str(o, "status.podIP"), "<none>");
}

static cJSON *cell_node(const cJSON *o, int64_t now_s)
{
    (void)now_s;
    return str_or(json_path_str(o, "spec.nodeName"), "<none>");
}

static cJSON *cell_phase(const cJSON *o, int64_t now_s)
{
    (void)now_s;
    return str_or(json_path_str(o, "status.phase"), "Active");
}

static cJSON *cell_secrets(const cJSON *o, int64_t now_s)
{
    (void)now_s;
    return cJSON_CreateNumber(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(o, "secrets")));
}

#define NAME_COL                                                                                   \
    {                                                                                              \
        "Name", "string", "name", 0, "Name must be unique within a namespace.", cell_name          \
    }
#define AGE_COL                                                                                    \
    {                                                                                              \
        "Age", "string", "", 0,                                                                    \
            "CreationTimestamp is a timestamp representing the server time "                       \
            "when this object was created.",                                                       \
            cell_age                                                                               \
    }

static const struct column cols_default[] = {NAME_COL, AGE_COL};
static const struct column cols_custom[] = {
    NAME_COL,
    {"Created At", "date", "", 0,
     "Custom resource definition column (in JSONPath format): "
     ".metadata.creationTimestamp",
     cell_created},
};
static const struct column cols_deployment[] = {
    NAME_COL,
    {"Ready", "string", "", 0, "Number of the pod with ready state", cell_deploy_ready},
    {"Up-to-date", "string", "", 0,
     "Total number of non-terminated pods targeted by this "
     "deployment that have the desired template spec.",
     cell_updated},
    {"Available", "string", "", 0,
     "Total number of available pods (ready for at least "
     "minReadySeconds) targeted by this deployment.",
     cell_available},
    AGE_COL,
};
static const struct column cols_pod[] = {
    NAME_COL,
    {"Ready", "string", "", 0,
     "The aggregate readiness state of this pod for accepting "
     "traffic.",
     cell_pod_ready},
    {"Status", "string", "", 0, "The aggregate status of the containers in this pod.",
     cell_pod_status},
    {"Restarts", "string", "", 0,
     "The number of times the containers in this pod have been "
     "restarted and when the last container in this pod has "
     "restarted.",
     cell_restarts},
    AGE_COL,
    {"IP", "string", "", 1,
     "IP address allocated to the pod. Routable at least within the "
     "cluster. Empty if not yet allocated.",
     cell_pod_ip},
    {"Node", "string", "", 1, "NodeName is a request to schedule this pod onto a specific node.",
     cell_node},
};
static const struct column cols_namespace[] = {
    NAME_COL,
    {"Status", "string", "", 0, "The status of the namespace", cell_phase},
    AGE_COL,
};
static const struct column cols_serviceaccount[] = {
    NAME_COL,
    {"Secrets", "string", "", 0,
     "Secrets is a list of the secrets in the same namespace that "
     "pods running using this ServiceAccount are allowed to use.",
     cell_secrets},
    AGE_COL,
};

#define COLS(a) a, sizeof(a) / sizeof *(a)
static const struct {
    const char *kind;
    const struct column *cols;
    size_t n;
} printers[] = {
    {"Deployment", COLS(cols_deployment)},
    {"Pod", COLS(cols_pod)},
    {"Namespace", COLS(cols_namespace)},
    {"ServiceAccount", COLS(cols_serviceaccount)},
};

cJSON *table_partial(const cJSON *obj)
{
    cJSON *p = cJSON_CreateObject();
    cJSON_AddStringToObject(p, "kind", "PartialObjectMetadata");
    cJSON_AddStringToObject(p, "apiVersion", "meta.k8s.io/v1");
    const cJSON *meta = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
    cJSON_AddItemToObject(p, "metadata", meta ? cJSON_Duplicate(meta, true) : cJSON_CreateObject());
    return p;
}

static const struct column *columns_of(const struct sim_resource *r, size_t *ncols)
{
    const struct column *cols = r->custom ? cols_custom : cols_default;
    *ncols = 2;
    for (size_t i = 0; i < sizeof printers / sizeof *printers; i++) {
        if (str_eq(printers[i].kind, r->kind)) {
            cols = printers[i].cols;
            *ncols = printers[i].n;
        }
    }
    return cols;
}

void table_write_list(struct idw_buf *b, struct sim *s, const struct sim_resource *r,
                      const cJSON *const *objs, size_t n, int64_t now_s, const char *list_meta)
{
    size_t ncols;
    const struct column *cols = columns_of(r, &ncols);
    buf_printf(b, "{\"kind\":\"Table\",\"apiVersion\":\"meta.k8s.io/v1\",\"metadata\":%s,"
                  "\"columnDefinitions\":[",
               list_meta);
    for (size_t i = 0; i < ncols; i++) {
        cJSON *d = cJSON_CreateObject();
        cJSON_AddStringToObject(d, "name", cols[i].name);
        cJSON_AddStringToObject(d, "type", cols[i].type);
        cJSON_AddStringToObject(d, "format", cols[i].format);
        cJSON_AddStringToObject(d, "description", cols[i].description);
        cJSON_AddNumberToObject(d, "priority", cols[i].priority);
        char *t = cJSON_PrintUnformatted(d);
        buf_printf(b, "%s%s", i ? "," : "", t);
        cJSON_free(t);
        cJSON_Delete(d);
    }
    buf_puts(b, "],\"rows\":[");
    for (size_t i = 0; i < n; i++) {
        buf_puts(b, i ? ",{\"cells\":[" : "{\"cells\":[");
        for (size_t c = 0; c < ncols; c++) {
            cJSON *cell = cols[c].cell(objs[i], now_s);
            char *t = cJSON_PrintUnformatted(cell);
            buf_printf(b, "%s%s", c ? "," : "", t);
            cJSON_free(t);
            cJSON_Delete(cell);
        }
        size_t len;
        const char *obj = sim_json_text(s, r, objs[i], SIM_TEXT_PARTIAL, &len);
        buf_puts(b, "],\"object\":");
        buf_append(b, obj, len);
        buf_puts(b, "}");
    }
    buf_puts(b, "]}");
}

cJSON *table_build(const struct sim_resource *r, const cJSON *const *objs, size_t n, int64_t now_s,
                   bool with_columns)
{
    size_t ncols;
    const struct column *cols = columns_of(r, &ncols);
    cJSON *t = cJSON_CreateObject();
    cJSON_AddStringToObject(t, "kind", "Table");
    cJSON_AddStringToObject(t, "apiVersion", "meta.k8s.io/v1");
    cJSON_AddObjectToObject(t, "metadata");
    if (with_columns) {
        cJSON *defs = cJSON_AddArrayToObject(t, "columnDefinitions");
        for (size_t i = 0; i < ncols; i++) {
            cJSON *d = cJSON_CreateObject();
            cJSON_AddStringToObject(d, "name", cols[i].name);
            cJSON_AddStringToObject(d, "type", cols[i].type);
            cJSON_AddStringToObject(d, "format", cols[i].format);
            cJSON_AddStringToObject(d, "description", cols[i].description);
            cJSON_AddNumberToObject(d, "priority", cols[i].priority);
            cJSON_AddItemToArray(defs, d);
        }
    }
    cJSON *rows = cJSON_AddArrayToObject(t, "rows");
    for (size_t i = 0; i < n; i++) {
        cJSON *row = cJSON_CreateObject();
        cJSON *cells = cJSON_AddArrayToObject(row, "cells");
        for (size_t c = 0; c < ncols; c++)
            cJSON_AddItemToArray(cells, cols[c].cell(objs[i], now_s));
        cJSON_AddItemToObject(row, "object", table_partial(objs[i]));
        cJSON_AddItemToArray(rows, row);
    }
    return t;
}
