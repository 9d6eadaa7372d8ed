/* scenario: the simulator's scenario format (tests/sim/scenarios/README.md): validation with
 * one-line errors naming the file and the JSON path, and building the initial cluster from it. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "azure_sim.h"
#include "state_internal.h"

#define SCENARIO_MAX_BYTES (256u << 20)

/* ---- tables ---------------------------------------------------------------------------------- */

/* outcome names in the scenario, indexed by enum loggen_outcome */
#define SIM_OUTCOMES(X)                                                                            \
    X(LOGGEN_OK, "ok")                                                                             \
    X(LOGGEN_NOT_BOUND, "not-bound")                                                               \
    X(LOGGEN_CANCELED, "canceled")                                                                 \
    X(LOGGEN_ID_NOT_FOUND, "identity-not-found")                                                   \
    X(LOGGEN_NO_RESOURCE, "no-resource")                                                           \
    X(LOGGEN_EXCEPTION, "exception")                                                               \
    X(LOGGEN_UNKNOWN_POD, "unknown-pod")

static const struct {
    enum loggen_outcome outcome;
    const char *name;
} outcome_names[] = {
#define X(e, n) {e, n},
    SIM_OUTCOMES(X)
#undef X
};

static const struct {
    const char *name;
    enum mutate_layout layout;
    const char *version;
} layouts[] = {
    {"none", MUTATE_NONE, NULL},
    {"v1.5", MUTATE_V15, "v1.5.1"},
    {"v1.6", MUTATE_V16, "v1.6.0"},
};

static const struct {
    const char *name;
    enum sim_pi_install install;
} pi_installs[] = {
    {"none", SIM_PI_NONE},
    {"helm", SIM_PI_HELM},
    {"yaml", SIM_PI_YAML},
    {"aks-addon", SIM_PI_ADDON},
};

static const struct {
    const char *name;
    enum sim_churn_action action;
} churn_actions[] = {
    {"restart", SIM_CHURN_RESTART},
    {"scale", SIM_CHURN_SCALE},
    {"label", SIM_CHURN_LABEL},
    {"annotate", SIM_CHURN_ANNOTATE},
};

#define COUNT(a) (sizeof(a) / sizeof *(a))

/* ---- validation ------------------------------------------------------------------------------ */

struct vctx {
    const char *file;
    struct idw_err *err;
};

static int fail(struct vctx *v, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(struct vctx *v, const char *path, const char *fmt, ...)
{
    char msg[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return idw_err_set(v->err, "%s: %s: %s", v->file, path, msg);
}

static const cJSON *jget(const cJSON *o, const char *k)
{
    return cJSON_GetObjectItemCaseSensitive(o, k);
}

/* Typed getters: absent is fine unless required; the wrong type is an error. */
static int want_type(struct vctx *v, const cJSON *parent, const char *key, const char *path,
                     int (*is)(const cJSON *), const char *what, bool required, const cJSON **out)
{
    const cJSON *c = jget(parent, key);
    char p[320];
    snprintf(p, sizeof p, "%s.%s", path, key);
    if (out)
        *out = c;
    if (!c || cJSON_IsNull(c)) {
        if (out)
            *out = NULL;
        return required ? fail(v, p, "expected %s", what) : 0;
    }
    if (!is(c))
        return fail(v, p, "expected %s", what);
    return 0;
}

static int is_string(const cJSON *c)
{
    return cJSON_IsString(c);
}
static int is_object(const cJSON *c)
{
    return cJSON_IsObject(c);
}
static int is_array(const cJSON *c)
{
    return cJSON_IsArray(c);
}
static int is_number(const cJSON *c)
{
    return cJSON_IsNumber(c);
}
static int is_bool(const cJSON *c)
{
    return cJSON_IsBool(c);
}

#define W_STR(v, o, k, path, req, out) want_type(v, o, k, path, is_string, "a string", req, out)
#define W_OBJ(v, o, k, path, req, out) want_type(v, o, k, path, is_object, "an object", req, out)
#define W_ARR(v, o, k, path, req, out) want_type(v, o, k, path, is_array, "an array", req, out)
#define W_NUM(v, o, k, path, req, out) want_type(v, o, k, path, is_number, "a number", req, out)
#define W_BOOL(v, o, k, path, req, out) want_type(v, o, k, path, is_bool, "true or false", req, out)

static int check_string_map(struct vctx *v, const cJSON *map, const char *path)
{
    const cJSON *c;
    cJSON_ArrayForEach(c, map)
    {
        if (!cJSON_IsString(c)) {
            char p[400];
            snprintf(p, sizeof p, "%s.%s", path, c->string);
            return fail(v, p, "expected a string");
        }
    }
    return 0;
}

static int check_duration(struct vctx *v, const cJSON *o, const char *key, const char *path,
                          bool required, int64_t *out)
{
    const cJSON *c;
    if (W_STR(v, o, key, path, required, &c))
        return -1;
    if (!c)
        return 0;
    int64_t sec;
    if (time_parse_duration(c->valuestring, &sec) != 0 || sec <= 0) {
        char p[320];
        snprintf(p, sizeof p, "%s.%s", path, key);
        return fail(v, p, "expected a duration like \"90s\", \"10m\" or \"2h\"");
    }
    if (out)
        *out = sec * SIM_NS_PER_S;
    return 0;
}

static int check_containers(struct vctx *v, const cJSON *pspec, const char *path)
{
    const cJSON *cs;
    if (W_ARR(v, pspec, "containers", path, true, &cs))
        return -1;
    char p[400];
    snprintf(p, sizeof p, "%s.containers", path);
    if (cJSON_GetArraySize(cs) == 0)
        return fail(v, p, "expected at least one container");
    const cJSON *c;
    int i = 0;
    cJSON_ArrayForEach(c, cs)
    {
        char pc[420];
        snprintf(pc, sizeof pc, "%s[%d]", p, i++);
        if (!cJSON_IsObject(c))
            return fail(v, pc, "expected an object");
        if (W_STR(v, c, "name", pc, true, NULL) || W_STR(v, c, "image", pc, true, NULL))
            return -1;
    }
    if (W_ARR(v, pspec, "initContainers", path, false, NULL) ||
        W_STR(v, pspec, "serviceAccountName", path, false, NULL))
        return -1;
    return 0;
}

static int check_template(struct vctx *v, const cJSON *parent, const char *key, const char *path)
{
    const cJSON *t, *tm, *ts;
    if (W_OBJ(v, parent, key, path, true, &t))
        return -1;
    char p[340];
    snprintf(p, sizeof p, "%s.%s", path, key);
    if (W_OBJ(v, t, "metadata", p, false, &tm) || W_OBJ(v, t, "spec", p, true, &ts))
        return -1;
    if (tm) {
        char pm[360];
        snprintf(pm, sizeof pm, "%s.metadata", p);
        const cJSON *l, *a;
        if (W_OBJ(v, tm, "labels", pm, false, &l) || W_OBJ(v, tm, "annotations", pm, false, &a))
            return -1;
        char pl[380];
        snprintf(pl, sizeof pl, "%s.labels", pm);
        if (l && check_string_map(v, l, pl))
            return -1;
        snprintf(pl, sizeof pl, "%s.annotations", pm);
        if (a && check_string_map(v, a, pl))
            return -1;
    }
    char ps[360];
    snprintf(ps, sizeof ps, "%s.spec", p);
    return check_containers(v, ts, ps);
}

static int check_object(struct vctx *v, const cJSON *o, const char *path)
{
    if (!cJSON_IsObject(o))
        return fail(v, path, "expected an object");
    const cJSON *kind, *meta, *spec, *sim;
    if (W_STR(v, o, "apiVersion", path, true, NULL) || W_STR(v, o, "kind", path, true, &kind) ||
        W_OBJ(v, o, "metadata", path, true, &meta) || W_OBJ(v, o, "spec", path, false, &spec) ||
        W_STR(v, o, "description", path, false, NULL) || W_OBJ(v, o, "_sim", path, false, &sim))
        return -1;
    char pm[300];
    snprintf(pm, sizeof pm, "%s.metadata", path);
    const cJSON *l, *a;
    if (W_STR(v, meta, "name", pm, true, NULL) || W_STR(v, meta, "namespace", pm, false, NULL) ||
        W_OBJ(v, meta, "labels", pm, false, &l) || W_OBJ(v, meta, "annotations", pm, false, &a))
        return -1;
    char pl[320];
    snprintf(pl, sizeof pl, "%s.labels", pm);
    if (l && check_string_map(v, l, pl))
        return -1;
    snprintf(pl, sizeof pl, "%s.annotations", pm);
    if (a && check_string_map(v, a, pl))
        return -1;
    if (sim) {
        char p[300];
        snprintf(p, sizeof p, "%s._sim", path);
        if (W_BOOL(v, sim, "skipMutation", p, false, NULL) ||
            W_BOOL(v, sim, "staleServiceAccount", p, false, NULL) ||
            check_duration(v, sim, "podAge", p, false, NULL) ||
            check_duration(v, sim, "age", p, false, NULL))
            return -1;
    }
    const char *k = kind->valuestring;
    char ps[300];
    snprintf(ps, sizeof ps, "%s.spec", path);
    if (str_eq(k, "Deployment") || str_eq(k, "StatefulSet") || str_eq(k, "DaemonSet")) {
        if (!spec)
            return fail(v, ps, "expected an object");
        const cJSON *r;
        if (W_NUM(v, spec, "replicas", ps, false, &r))
            return -1;
        if (r && (r->valuedouble < 0 || r->valuedouble > 10000)) {
            char pr[320];
            snprintf(pr, sizeof pr, "%s.replicas", ps);
            return fail(v, pr, "expected a number from 0 to 10000");
        }
        return check_template(v, spec, "template", ps);
    }
    if (str_eq(k, "CronJob")) {
        if (!spec)
            return fail(v, ps, "expected an object");
        const cJSON *jt, *js;
        if (W_STR(v, spec, "schedule", ps, true, NULL) ||
            W_OBJ(v, spec, "jobTemplate", ps, true, &jt))
            return -1;
        char pj[320];
        snprintf(pj, sizeof pj, "%s.jobTemplate", ps);
        if (W_OBJ(v, jt, "spec", pj, true, &js))
            return -1;
        snprintf(pj, sizeof pj, "%s.jobTemplate.spec", ps);
        return check_template(v, js, "template", pj);
    }
    if (str_eq(k, "Job")) {
        if (!spec)
            return fail(v, ps, "expected an object");
        return check_template(v, spec, "template", ps);
    }
    if (str_eq(k, "Pod")) {
        if (!spec)
            return fail(v, ps, "expected an object");
        return check_containers(v, spec, ps);
    }
    return 0;
}

static int pick_name(struct vctx *v, const char *path, const char *value, const char *const *names,
                     size_t n, size_t *out)
{
    for (size_t i = 0; i < n; i++) {
        if (str_eq(value, names[i])) {
            *out = i;
            return 0;
        }
    }
    char list[200] = "";
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(list);
        snprintf(list + len, sizeof list - len, "%s%s", i ? ", " : "", names[i]);
    }
    return fail(v, path, "unknown value \"%s\" (expected one of %s)", value, list);
}

static int check_cluster(struct vctx *v, const cJSON *c)
{
    const char *path = "$.cluster";
    const cJSON *kv, *nodes, *wh, *pi, *st;
    if (W_STR(v, c, "kubernetesVersion", path, false, &kv) ||
        W_STR(v, c, "oidcIssuer", path, false, NULL) ||
        W_STR(v, c, "tenantId", path, false, NULL) ||
        W_STR(v, c, "authorityHost", path, false, NULL) ||
        W_STR(v, c, "startTime", path, false, &st) || W_OBJ(v, c, "nodes", path, false, &nodes) ||
        W_OBJ(v, c, "webhook", path, false, &wh) || W_OBJ(v, c, "podIdentity", path, false, &pi))
        return -1;
    if (kv && (!str_has_prefix(kv->valuestring, "v1.") || strlen(kv->valuestring) < 6))
        return fail(v, "$.cluster.kubernetesVersion", "expected a version like \"v1.32.4\"");
    int64_t e;
    int32_t ns;
    if (st && time_parse_rfc3339(st->valuestring, &e, &ns) != 0)
        return fail(v, "$.cluster.startTime", "expected an RFC 3339 time");
    if (nodes) {
        const cJSON *cnt, *names;
        if (W_NUM(v, nodes, "count", "$.cluster.nodes", false, &cnt) ||
            W_STR(v, nodes, "pool", "$.cluster.nodes", false, NULL) ||
            W_STR(v, nodes, "prefix", "$.cluster.nodes", false, NULL) ||
            W_ARR(v, nodes, "names", "$.cluster.nodes", false, &names))
            return -1;
        if (cnt && (cnt->valuedouble < 1 || cnt->valuedouble > 3000))
            return fail(v, "$.cluster.nodes.count", "expected a number from 1 to 3000");
        const cJSON *n;
        int i = 0;
        cJSON_ArrayForEach(n, names)
        {
            char p[64];
            snprintf(p, sizeof p, "$.cluster.nodes.names[%d]", i++);
            if (!cJSON_IsString(n))
                return fail(v, p, "expected a string");
        }
        if (names && i == 0)
            return fail(v, "$.cluster.nodes.names", "expected at least one node");
    }
    if (wh) {
        const cJSON *lay, *inst;
        const char *p = "$.cluster.webhook";
        if (W_STR(v, wh, "layout", p, false, &lay) || W_STR(v, wh, "install", p, false, &inst) ||
            W_STR(v, wh, "version", p, false, NULL) || W_NUM(v, wh, "replicas", p, false, NULL) ||
            W_BOOL(v, wh, "reachable", p, false, NULL) || W_BOOL(v, wh, "caBundle", p, false, NULL))
            return -1;
        size_t i;
        const char *lnames[COUNT(layouts)];
        for (i = 0; i < COUNT(layouts); i++)
            lnames[i] = layouts[i].name;
        if (lay &&
            pick_name(v, "$.cluster.webhook.layout", lay->valuestring, lnames, COUNT(layouts), &i))
            return -1;
        static const char *const inames[] = {"helm", "aks-addon"};
        if (inst && pick_name(v, "$.cluster.webhook.install", inst->valuestring, inames, 2, &i))
            return -1;
    }
    if (pi) {
        const cJSON *inst, *era, *mode;
        const char *p = "$.cluster.podIdentity";
        if (W_STR(v, pi, "install", p, false, &inst) || W_STR(v, pi, "namespace", p, false, NULL) ||
            W_STR(v, pi, "version", p, false, NULL) || W_STR(v, pi, "logEra", p, false, &era) ||
            W_STR(v, pi, "mode", p, false, &mode) || W_NUM(v, pi, "micReplicas", p, false, NULL))
            return -1;
        size_t i;
        const char *names[COUNT(pi_installs)];
        for (i = 0; i < COUNT(pi_installs); i++)
            names[i] = pi_installs[i].name;
        if (inst && pick_name(v, "$.cluster.podIdentity.install", inst->valuestring, names,
                              COUNT(pi_installs), &i))
            return -1;
        enum loggen_era e2;
        if (era && loggen_era_parse(era->valuestring, &e2) != 0)
            return fail(v, "$.cluster.podIdentity.logEra",
                        "unknown value \"%s\" (expected one of logrus-1.5, klog-1.6, klog-1.7, "
                        "klog-1.8)",
                        era->valuestring);
        static const char *const modes[] = {"standard", "managed"};
        if (mode && pick_name(v, "$.cluster.podIdentity.mode", mode->valuestring, modes, 2, &i))
            return -1;
    }
    return 0;
}

static int check_traffic(struct vctx *v, const cJSON *t, int i)
{
    char p[64];
    snprintf(p, sizeof p, "$.traffic[%d]", i);
    if (!cJSON_IsObject(t))
        return fail(v, p, "expected an object");
    const cJSON *rate, *out;
    if (W_STR(v, t, "namespace", p, true, NULL) || W_STR(v, t, "name", p, true, NULL) ||
        W_STR(v, t, "kind", p, false, NULL) || W_NUM(v, t, "perMinute", p, true, &rate) ||
        W_OBJ(v, t, "outcomes", p, false, &out) || W_STR(v, t, "resource", p, false, NULL))
        return -1;
    if (rate->valuedouble < 0 || rate->valuedouble > 6000) {
        char pr[96];
        snprintf(pr, sizeof pr, "%s.perMinute", p);
        return fail(v, pr, "expected a number from 0 to 6000");
    }
    const cJSON *o;
    cJSON_ArrayForEach(o, out)
    {
        char po[160];
        snprintf(po, sizeof po, "%s.outcomes.%s", p, o->string);
        size_t k;
        const char *names[COUNT(outcome_names)];
        for (k = 0; k < COUNT(outcome_names); k++)
            names[k] = outcome_names[k].name;
        if (pick_name(v, po, o->string, names, COUNT(outcome_names), &k))
            return -1;
        if (!cJSON_IsNumber(o) || o->valuedouble < 0)
            return fail(v, po, "expected a number >= 0");
    }
    return 0;
}

static int check_churn(struct vctx *v, const cJSON *c, int i)
{
    char p[64];
    snprintf(p, sizeof p, "$.churn[%d]", i);
    if (!cJSON_IsObject(c))
        return fail(v, p, "expected an object");
    const cJSON *act, *reps;
    if (check_duration(v, c, "every", p, true, NULL) || W_STR(v, c, "action", p, true, &act) ||
        W_STR(v, c, "kind", p, false, NULL) || W_STR(v, c, "namespace", p, true, NULL) ||
        W_STR(v, c, "name", p, true, NULL) || W_BOOL(v, c, "template", p, false, NULL) ||
        W_STR(v, c, "key", p, false, NULL) || W_STR(v, c, "value", p, false, NULL) ||
        W_ARR(v, c, "replicas", p, false, &reps))
        return -1;
    const char *names[COUNT(churn_actions)];
    size_t k;
    for (k = 0; k < COUNT(churn_actions); k++)
        names[k] = churn_actions[k].name;
    char pa[96];
    snprintf(pa, sizeof pa, "%s.action", p);
    if (pick_name(v, pa, act->valuestring, names, COUNT(churn_actions), &k))
        return -1;
    enum sim_churn_action a = churn_actions[k].action;
    if ((a == SIM_CHURN_LABEL || a == SIM_CHURN_ANNOTATE) && !jget(c, "key"))
        return fail(v, p, "action \"%s\" needs \"key\"", act->valuestring);
    if (a == SIM_CHURN_SCALE && cJSON_GetArraySize(reps) == 0)
        return fail(v, p, "action \"scale\" needs \"replicas\": [n, ...]");
    const cJSON *r;
    int j = 0;
    cJSON_ArrayForEach(r, reps)
    {
        char pr[96];
        snprintf(pr, sizeof pr, "%s.replicas[%d]", p, j++);
        if (!cJSON_IsNumber(r) || r->valuedouble < 0)
            return fail(v, pr, "expected a number >= 0");
    }
    return 0;
}

static int check_rbac(struct vctx *v, const cJSON *r, int i)
{
    char p[64];
    snprintf(p, sizeof p, "$.rbac[%d]", i);
    if (!cJSON_IsObject(r))
        return fail(v, p, "expected an object");
    static const char *const keys[] = {"user",      "verb", "group", "resource",
                                       "namespace", "name", "reason"};
    for (size_t k = 0; k < COUNT(keys); k++)
        if (W_STR(v, r, keys[k], p, false, NULL))
            return -1;
    return W_BOOL(v, r, "allowed", p, true, NULL);
}

static int scenario_check(struct vctx *v, const cJSON *doc)
{
    if (!cJSON_IsObject(doc))
        return fail(v, "$", "expected an object");
    const cJSON *cluster, *nss, *objs, *traffic, *churn, *rbac, *azure;
    if (W_STR(v, doc, "name", "$", false, NULL) || W_STR(v, doc, "description", "$", false, NULL) ||
        W_OBJ(v, doc, "cluster", "$", false, &cluster) ||
        W_ARR(v, doc, "namespaces", "$", false, &nss) ||
        W_ARR(v, doc, "objects", "$", false, &objs) ||
        W_ARR(v, doc, "traffic", "$", false, &traffic) ||
        W_ARR(v, doc, "churn", "$", false, &churn) || W_ARR(v, doc, "rbac", "$", false, &rbac) ||
        W_OBJ(v, doc, "azure", "$", false, &azure))
        return -1;
    if (azure && azure_sim_check(azure, v->file, v->err) != 0)
        return -1;
    if (cluster && check_cluster(v, cluster))
        return -1;
    const cJSON *c;
    int i = 0;
    cJSON_ArrayForEach(c, nss)
    {
        char p[64];
        snprintf(p, sizeof p, "$.namespaces[%d]", i++);
        if (cJSON_IsString(c))
            continue;
        if (!cJSON_IsObject(c))
            return fail(v, p, "expected a string or an object");
        const cJSON *l;
        if (W_STR(v, c, "name", p, true, NULL) || W_OBJ(v, c, "labels", p, false, &l))
            return -1;
        char pl[96];
        snprintf(pl, sizeof pl, "%s.labels", p);
        if (l && check_string_map(v, l, pl))
            return -1;
    }
    i = 0;
    cJSON_ArrayForEach(c, objs)
    {
        char p[64];
        snprintf(p, sizeof p, "$.objects[%d]", i++);
        if (check_object(v, c, p))
            return -1;
    }
    i = 0;
    cJSON_ArrayForEach(c, traffic) if (check_traffic(v, c, i++)) return -1;
    i = 0;
    cJSON_ArrayForEach(c, churn) if (check_churn(v, c, i++)) return -1;
    i = 0;
    cJSON_ArrayForEach(c, rbac) if (check_rbac(v, c, i++)) return -1;
    return 0;
}

/* ---- building -------------------------------------------------------------------------------- */

static cJSON *obj_new(const char *api, const char *kind, const char *ns, const char *name)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "apiVersion", api);
    cJSON_AddStringToObject(o, "kind", kind);
    cJSON *m = cJSON_AddObjectToObject(o, "metadata");
    cJSON_AddStringToObject(m, "name", name);
    if (ns)
        cJSON_AddStringToObject(m, "namespace", ns);
    return o;
}

static cJSON *labels_of(cJSON *o)
{
    return sim_json_obj(sim_json_obj(o, "metadata"), "labels");
}

static void ensure_namespace(struct sim *s, const char *name, const cJSON *labels)
{
    if (!name || sim_obj_find(s->b_ns, NULL, name))
        return;
    cJSON *o = obj_new("v1", "Namespace", NULL, name);
    cJSON *l = labels_of(o);
    sim_json_set_str(l, "kubernetes.io/metadata.name", name);
    const cJSON *c;
    cJSON_ArrayForEach(c, labels) sim_json_set_str(l, c->string, c->valuestring);
    if (str_eq(name, "kube-system")) {
        /* what AKS puts there; the admissions enforcer keys on the last two */
        sim_json_set_str(l, "addonmanager.kubernetes.io/mode", "Reconcile");
        sim_json_set_str(l, "control-plane", "true");
        sim_json_set_str(l, "kubernetes.azure.com/managedby", "aks");
        sim_json_set_str(l, "kubernetes.io/cluster-service", "true");
    }
    cJSON_AddItemToObject(o, "spec", cJSON_CreateObject());
    cJSON_AddItemToArray(cJSON_AddArrayToObject(cJSON_GetObjectItem(o, "spec"), "finalizers"),
                         cJSON_CreateString("kubernetes"));
    cJSON_AddStringToObject(cJSON_AddObjectToObject(o, "status"), "phase", "Active");
    sim_obj_add(s, s->b_ns, o, s->now_ns - 60 * 86400 * SIM_NS_PER_S);
}

static void ensure_default_sa(struct sim *s, const char *ns)
{
    if (sim_obj_find(s->b_sa, ns, "default"))
        return;
    sim_obj_add(s, s->b_sa, obj_new("v1", "ServiceAccount", ns, "default"),
                s->now_ns - 60 * 86400 * SIM_NS_PER_S);
}

/* A container {name, image, args...}. */
static cJSON *container(const char *name, const char *image)
{
    cJSON *c = cJSON_CreateObject();
    cJSON_AddStringToObject(c, "name", name);
    cJSON_AddStringToObject(c, "image", image);
    cJSON_AddStringToObject(c, "imagePullPolicy", "IfNotPresent");
    return c;
}

/* A workload {kind, ns, name} whose template carries `labels` (a flat list of key, value). */
static cJSON *workload(const char *kind, const char *ns, const char *name, int replicas,
                       const char *const *labels, cJSON *ctr, const char *sa, bool host_net)
{
    cJSON *o = obj_new("apps/v1", kind, ns, name);
    cJSON *ml = labels_of(o);
    cJSON *spec = cJSON_AddObjectToObject(o, "spec");
    if (replicas >= 0)
        cJSON_AddNumberToObject(spec, "replicas", replicas);
    cJSON *sel = cJSON_AddObjectToObject(cJSON_AddObjectToObject(spec, "selector"), "matchLabels");
    cJSON *tmpl = cJSON_AddObjectToObject(spec, "template");
    cJSON *tl = cJSON_AddObjectToObject(cJSON_AddObjectToObject(tmpl, "metadata"), "labels");
    for (size_t i = 0; labels[i]; i += 2) {
        sim_json_set_str(ml, labels[i], labels[i + 1]);
        sim_json_set_str(tl, labels[i], labels[i + 1]);
        if (i < 4)
            sim_json_set_str(sel, labels[i], labels[i + 1]);
    }
    cJSON *ps = cJSON_AddObjectToObject(tmpl, "spec");
    if (sa)
        cJSON_AddStringToObject(ps, "serviceAccountName", sa);
    if (host_net)
        cJSON_AddBoolToObject(ps, "hostNetwork", 1);
    cJSON_AddStringToObject(cJSON_AddObjectToObject(ps, "nodeSelector"), "kubernetes.io/os",
                            "linux");
    cJSON_AddItemToArray(cJSON_AddArrayToObject(ps, "containers"), ctr);
    return o;
}

struct pending {
    struct sim_obj **items;
    size_t n, cap;
};

static struct sim_obj *add_built(struct sim *s, cJSON *o, struct pending *p, int64_t age_ns)
{
    struct sim_bucket *b = sim_bucket_for_object(s, o);
    if (!b) {
        cJSON_Delete(o);
        return NULL;
    }
    struct sim_obj *x = sim_obj_add(s, b, o, s->now_ns - age_ns);
    if (x && p && sim_is_workload_kind(b->kind))
        sim_kids_add(&p->items, &p->n, &p->cap, x);
    return x;
}

static void install_webhook(struct sim *s, const cJSON *wh, struct pending *p)
{
    int64_t age = 90 * 86400 * SIM_NS_PER_S;
    const char *version = sim_json_str(wh, "version");
    for (size_t i = 0; !version && i < COUNT(layouts); i++)
        if (layouts[i].layout == s->mcfg.layout)
            version = layouts[i].version;
    bool helm = !str_eq(sim_json_str(wh, "install"), "aks-addon");
    const char *ns = s->webhook_ns;
    if (helm) {
        cJSON *l = cJSON_CreateObject();
        cJSON_AddStringToObject(l, "azure-workload-identity.io/system", "true");
        cJSON_AddStringToObject(l, "pod-security.kubernetes.io/enforce", "restricted");
        ensure_namespace(s, ns, l);
        cJSON_Delete(l);
    }
    cJSON *sa = obj_new("v1", "ServiceAccount", ns, "azure-wi-webhook-admin");
    sim_json_set_str(labels_of(sa), "azure-workload-identity.io/system", "true");
    add_built(s, sa, p, age);
    cJSON *cm = obj_new("v1", "ConfigMap", ns, "azure-wi-webhook-config");
    cJSON *d = cJSON_AddObjectToObject(cm, "data");
    cJSON_AddStringToObject(d, "AZURE_ENVIRONMENT", "AzurePublicCloud");
    cJSON_AddStringToObject(d, "AZURE_TENANT_ID", s->tenant);
    add_built(s, cm, p, age);
    cJSON *svc = obj_new("v1", "Service", ns, "azure-wi-webhook-webhook-service");
    cJSON *ss = cJSON_AddObjectToObject(svc, "spec");
    cJSON_AddStringToObject(ss, "type", "ClusterIP");
    cJSON_AddStringToObject(ss, "clusterIP", "10.0.118.12");
    cJSON *port = cJSON_CreateObject();
    cJSON_AddNumberToObject(port, "port", 443);
    cJSON_AddNumberToObject(port, "targetPort", 9443);
    cJSON_AddStringToObject(port, "protocol", "TCP");
    cJSON_AddItemToArray(cJSON_AddArrayToObject(ss, "ports"), port);
    cJSON_AddStringToObject(cJSON_AddObjectToObject(ss, "selector"),
                            "azure-workload-identity.io/system", "true");
    add_built(s, svc, p, age);

    char image[200];
    snprintf(image, sizeof image, "mcr.microsoft.com/oss/azure/workload-identity/webhook:%s",
             version);
    cJSON *ctr = container("manager", image);
    cJSON *args = cJSON_AddArrayToObject(ctr, "args");
    static const char *const a[] = {"--log-level=info", "--metrics-addr=:8095",
                                    "--metrics-backend=prometheus"};
    for (size_t i = 0; i < COUNT(a); i++)
        cJSON_AddItemToArray(args, cJSON_CreateString(a[i]));
    static const char *const helm_labels[] = {"azure-workload-identity.io/system",
                                              "true",
                                              "app",
                                              "workload-identity-webhook",
                                              "chart",
                                              "workload-identity-webhook",
                                              "release",
                                              "workload-identity-webhook",
                                              NULL};
    static const char *const addon_labels[] = {"azure-workload-identity.io/system", "true",
                                               "kubernetes.azure.com/managedby", "aks", NULL};
    int replicas = jget(wh, "replicas") ? jget(wh, "replicas")->valueint : 2;
    if (!s->webhook_reachable)
        replicas = 0; /* no endpoints: every labelled pod create is refused */
    cJSON *dep = workload("Deployment", ns, WI_WEBHOOK_DEPLOYMENT, replicas,
                          helm ? helm_labels : addon_labels, ctr, "azure-wi-webhook-admin", false);
    add_built(s, dep, p, age);

    cJSON *mwc = obj_new("admissionregistration.k8s.io/v1", "MutatingWebhookConfiguration", NULL,
                         WI_MWC_NAME);
    sim_json_set_str(labels_of(mwc), "azure-workload-identity.io/system", "true");
    cJSON *hook = cJSON_CreateObject();
    cJSON_AddStringToObject(hook, "name", WI_WEBHOOK_NAME);
    cJSON *cc = cJSON_AddObjectToObject(hook, "clientConfig");
    bool ca = !jget(wh, "caBundle") || cJSON_IsTrue(jget(wh, "caBundle"));
    cJSON_AddStringToObject(cc, "caBundle",
                            ca ? "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSURCVENDQWUyZ0F3SUJB"
                                 "Z0lJYXp1cmUtd29ya2xvYWQtaWRlbnRpdHktY2EKLS0tLS1FTkQgQ0VSVElGSU"
                                 "NBVEUtLS0tLQo="
                               : "");
    cJSON *svcref = cJSON_AddObjectToObject(cc, "service");
    cJSON_AddStringToObject(svcref, "name", "azure-wi-webhook-webhook-service");
    cJSON_AddStringToObject(svcref, "namespace", ns);
    cJSON_AddStringToObject(svcref, "path", "/mutate-v1-pod");
    cJSON_AddNumberToObject(svcref, "port", 443);
    cJSON_AddItemToObject(hook, "admissionReviewVersions",
                          cJSON_CreateStringArray((const char *[]){"v1", "v1beta1"}, 2));
    cJSON_AddStringToObject(hook, "failurePolicy", "Fail");
    cJSON_AddStringToObject(hook, "matchPolicy", "Equivalent");
    cJSON_AddStringToObject(hook, "reinvocationPolicy", "IfNeeded");
    cJSON_AddStringToObject(hook, "sideEffects", "None");
    cJSON_AddNumberToObject(hook, "timeoutSeconds", 10);
    cJSON_AddObjectToObject(hook, "namespaceSelector");
    cJSON_AddStringToObject(
        cJSON_AddObjectToObject(cJSON_AddObjectToObject(hook, "objectSelector"), "matchLabels"),
        WI_LABEL_USE, "true");
    cJSON *rule = cJSON_CreateObject();
    cJSON_AddItemToObject(rule, "apiGroups", cJSON_CreateStringArray((const char *[]){""}, 1));
    cJSON_AddItemToObject(rule, "apiVersions", cJSON_CreateStringArray((const char *[]){"v1"}, 1));
    cJSON_AddItemToObject(rule, "operations",
                          cJSON_CreateStringArray((const char *[]){"CREATE"}, 1));
    cJSON_AddItemToObject(rule, "resources", cJSON_CreateStringArray((const char *[]){"pods"}, 1));
    cJSON_AddStringToObject(rule, "scope", "*");
    cJSON_AddItemToArray(cJSON_AddArrayToObject(hook, "rules"), rule);
    cJSON_AddItemToArray(cJSON_AddArrayToObject(mwc, "webhooks"), hook);
    add_built(s, mwc, p, age);
}

static void add_crd(struct sim *s, const char *plural, const char *kind)
{
    char name[128];
    snprintf(name, sizeof name, "%s.aadpodidentity.k8s.io", plural);
    cJSON *o = obj_new("apiextensions.k8s.io/v1", "CustomResourceDefinition", NULL, name);
    cJSON *spec = cJSON_AddObjectToObject(o, "spec");
    cJSON_AddStringToObject(spec, "group", "aadpodidentity.k8s.io");
    cJSON *names = cJSON_AddObjectToObject(spec, "names");
    cJSON_AddStringToObject(names, "kind", kind);
    cJSON_AddStringToObject(names, "plural", plural);
    cJSON_AddStringToObject(spec, "scope", "Namespaced");
    cJSON *v = cJSON_CreateObject();
    cJSON_AddStringToObject(v, "name", "v1");
    cJSON_AddBoolToObject(v, "served", 1);
    cJSON_AddBoolToObject(v, "storage", 1);
    cJSON_AddItemToArray(cJSON_AddArrayToObject(spec, "versions"), v);
    add_built(s, o, NULL, 400 * 86400 * SIM_NS_PER_S);
}

static void add_exception(struct sim *s, const char *ns, const char *name, const char *k1,
                          const char *v1, const char *k2, const char *v2)
{
    cJSON *o = obj_new("aadpodidentity.k8s.io/v1", "AzurePodIdentityException", ns, name);
    cJSON *pl = cJSON_AddObjectToObject(cJSON_AddObjectToObject(o, "spec"), "podLabels");
    cJSON_AddStringToObject(pl, k1, v1);
    if (k2)
        cJSON_AddStringToObject(pl, k2, v2);
    add_built(s, o, NULL, 400 * 86400 * SIM_NS_PER_S);
}

static void install_pod_identity(struct sim *s, const cJSON *pi, struct pending *p)
{
    int64_t age = 400 * 86400 * SIM_NS_PER_S;
    const char *ver = s->pi_version;
    char nmi_img[200], mic_img[200];
    snprintf(nmi_img, sizeof nmi_img, "mcr.microsoft.com/oss/azure/aad-pod-identity/nmi:%s", ver);
    snprintf(mic_img, sizeof mic_img, "mcr.microsoft.com/oss/azure/aad-pod-identity/mic:%s", ver);
    const char *ns = s->pi_ns;
    ensure_namespace(s, ns, NULL);
    static const char *const kinds[][2] = {
        {"azureidentities", "AzureIdentity"},
        {"azureidentitybindings", "AzureIdentityBinding"},
        {"azureassignedidentities", "AzureAssignedIdentity"},
        {"azurepodidentityexceptions", "AzurePodIdentityException"}};
    for (size_t i = 0; i < COUNT(kinds); i++)
        add_crd(s, kinds[i][0], kinds[i][1]);
    cJSON *nmi_c = container("nmi", nmi_img);
    cJSON *args = cJSON_AddArrayToObject(nmi_c, "args");
    cJSON_AddItemToArray(args, cJSON_CreateString("--node=$(NODE_NAME)"));
    cJSON_AddItemToArray(args, cJSON_CreateString("--http-probe-port=8085"));
    if (s->pi_managed)
        cJSON_AddItemToArray(args, cJSON_CreateString("--operation-mode=managed"));
    int mic_replicas = jget(pi, "micReplicas") ? jget(pi, "micReplicas")->valueint : 2;
    switch (s->pi_install) {
    case SIM_PI_HELM: {
        static const char *const nl[] = {"app.kubernetes.io/component",
                                         "nmi",
                                         "app.kubernetes.io/name",
                                         "aad-pod-identity",
                                         "app.kubernetes.io/instance",
                                         "aad-pod-identity",
                                         "app.kubernetes.io/managed-by",
                                         "Helm",
                                         "helm.sh/chart",
                                         "aad-pod-identity-4.1.18",
                                         "tier",
                                         "node",
                                         NULL};
        static const char *const ml[] = {"app.kubernetes.io/component",
                                         "mic",
                                         "app.kubernetes.io/name",
                                         "aad-pod-identity",
                                         "app.kubernetes.io/instance",
                                         "aad-pod-identity",
                                         "app.kubernetes.io/managed-by",
                                         "Helm",
                                         "helm.sh/chart",
                                         "aad-pod-identity-4.1.18",
                                         NULL};
        add_built(s, obj_new("v1", "ServiceAccount", ns, "aad-pod-identity-nmi"), p, age);
        add_built(s, obj_new("v1", "ServiceAccount", ns, "aad-pod-identity-mic"), p, age);
        s->nmi_ds = add_built(s,
                              workload("DaemonSet", ns, "aad-pod-identity-nmi", -1, nl, nmi_c,
                                       "aad-pod-identity-nmi", true),
                              p, age);
        s->mic_deploy =
            add_built(s,
                      workload("Deployment", ns, "aad-pod-identity-mic", mic_replicas, ml,
                               container("mic", mic_img), "aad-pod-identity-mic", false),
                      p, age);
        add_exception(s, ns, "aad-pod-identity-mic", "app.kubernetes.io/component", "mic",
                      "app.kubernetes.io/name", "aad-pod-identity");
        break;
    }
    case SIM_PI_YAML: {
        static const char *const nl[] = {"component", "nmi", "tier", "node", NULL};
        static const char *const ml[] = {"component", "mic", "app", "mic", NULL};
        add_built(s, obj_new("v1", "ServiceAccount", ns, "aad-pod-id-nmi-service-account"), p, age);
        add_built(s, obj_new("v1", "ServiceAccount", ns, "aad-pod-id-mic-service-account"), p, age);
        s->nmi_ds = add_built(
            s,
            workload("DaemonSet", ns, "nmi", -1, nl, nmi_c, "aad-pod-id-nmi-service-account", true),
            p, age);
        if (!s->pi_managed)
            s->mic_deploy = add_built(s,
                                      workload("Deployment", ns, "mic", mic_replicas, ml,
                                               container("mic", mic_img),
                                               "aad-pod-id-mic-service-account", false),
                                      p, age);
        add_exception(s, ns, "mic-exception", "app", "mic", "component", "mic");
        break;
    }
    case SIM_PI_ADDON: {
        static const char *const nl[] = {
            "component", "nmi", "tier", "node", "kubernetes.azure.com/managedby", "aks", NULL};
        add_built(s, obj_new("v1", "ServiceAccount", ns, "nmi"), p, age);
        s->nmi_ds =
            add_built(s, workload("DaemonSet", ns, "nmi", -1, nl, nmi_c, "nmi", true), p, age);
        add_exception(s, ns, "aks-addon-exception", "kubernetes.azure.com/managedby", "aks", NULL,
                      NULL);
        break;
    }
    case SIM_PI_NONE: cJSON_Delete(nmi_c); break;
    }
}

static void set_str(char **dst, const char *v, const char *dflt)
{
    free(*dst);
    *dst = xstrdup(v ? v : dflt);
}

static int cluster_setup(struct sim *s, const cJSON *c, struct idw_err *err)
{
    set_str(&s->k8s_version, sim_json_str(c, "kubernetesVersion"), "v1.32.4");
    set_str(&s->tenant, sim_json_str(c, "tenantId"), "72f988bf-86f1-41af-91ab-2d7cd011db47");
    set_str(&s->issuer, sim_json_str(c, "oidcIssuer"),
            "https://kubernetes.default.svc.cluster.local");
    set_str(&s->authority, sim_json_str(c, "authorityHost"), "https://login.microsoftonline.com/");
    const char *st = sim_json_str(c, "startTime");
    if (st) {
        int64_t e;
        int32_t ns;
        time_parse_rfc3339(st, &e, &ns);
        s->start_ns = s->now_ns = e * SIM_NS_PER_S;
    }
    const cJSON *wh = jget(c, "webhook");
    const char *lay = wh ? sim_json_str(wh, "layout") : "none";
    s->mcfg.layout = MUTATE_NONE;
    const char *wver = sim_json_str(wh, "version");
    for (size_t i = 0; i < COUNT(layouts); i++) {
        if (str_eq(lay ? lay : "v1.6", layouts[i].name)) {
            s->mcfg.layout = layouts[i].layout;
            if (!wver)
                wver = layouts[i].version;
        }
    }
    s->webhook_reachable = !jget(wh, "reachable") || cJSON_IsTrue(jget(wh, "reachable"));
    set_str(&s->webhook_ns, str_eq(sim_json_str(wh, "install"), "aks-addon") ? "kube-system" : NULL,
            "azure-workload-identity-system");
    char img[200];
    snprintf(img, sizeof img, "mcr.microsoft.com/oss/azure/workload-identity/proxy:%s",
             wver ? wver : "v1.6.0");
    set_str(&s->proxy_image, img, NULL);
    snprintf(img, sizeof img, "mcr.microsoft.com/oss/azure/workload-identity/proxy-init:%s",
             wver ? wver : "v1.6.0");
    set_str(&s->proxy_init_image, img, NULL);
    s->mcfg.tenant_id = s->tenant;
    s->mcfg.authority_host = s->authority;
    s->mcfg.proxy_image = s->proxy_image;
    s->mcfg.proxy_init_image = s->proxy_init_image;
    int minor = atoi(s->k8s_version + 3);
    s->mcfg.native_sidecar = minor >= 32;

    const cJSON *pi = jget(c, "podIdentity");
    const char *inst = sim_json_str(pi, "install");
    s->pi_install = SIM_PI_NONE;
    for (size_t i = 0; i < COUNT(pi_installs); i++)
        if (str_eq(inst, pi_installs[i].name))
            s->pi_install = pi_installs[i].install;
    const char *mode = sim_json_str(pi, "mode");
    s->pi_managed = mode ? str_eq(mode, "managed") : s->pi_install == SIM_PI_ADDON;
    const char *dflt_ns = s->pi_install == SIM_PI_ADDON ? "kube-system" : "default";
    set_str(&s->pi_ns, sim_json_str(pi, "namespace"), dflt_ns);
    set_str(&s->pi_version, sim_json_str(pi, "version"), "v1.8.17");
    s->pi_era = LOGGEN_KLOG_1817;
    const char *era = sim_json_str(pi, "logEra");
    if (era)
        loggen_era_parse(era, &s->pi_era);

    static const cJSON empty_nodes = {0};
    const cJSON *nodes = jget(c, "nodes");
    return sim_nodes_init(s, nodes ? nodes : &empty_nodes, err);
}

static void sim_flags(struct sim_obj *o, const cJSON *sim)
{
    if (!o || !sim)
        return;
    o->skip_mutation = cJSON_IsTrue(jget(sim, "skipMutation"));
    o->stale_sa = cJSON_IsTrue(jget(sim, "staleServiceAccount"));
    int64_t sec;
    if (sim_json_str(sim, "podAge") && time_parse_duration(sim_json_str(sim, "podAge"), &sec) == 0)
        o->pod_age_ns = sec * SIM_NS_PER_S;
}

/* Scenario objects: first everything pods depend on (namespaces, service accounts, identities),
 * then workloads and bare pods. */
static int objects_load(struct sim *s, struct vctx *v, const cJSON *objs, struct pending *p)
{
    for (int pass = 0; pass < 2; pass++) {
        const cJSON *c;
        int i = 0;
        cJSON_ArrayForEach(c, objs)
        {
            char path[64];
            snprintf(path, sizeof path, "$.objects[%d]", i++);
            const char *kind = sim_json_str(c, "kind");
            bool late = sim_is_workload_kind(kind) || str_eq(kind, "Pod");
            if (late != (pass == 1))
                continue;
            cJSON *o = cJSON_Duplicate(c, true);
            cJSON_DeleteItemFromObjectCaseSensitive(o, "description");
            cJSON_DeleteItemFromObjectCaseSensitive(o, "_sim");
            const cJSON *sim = jget(c, "_sim");
            int64_t age = 30 * 86400 * SIM_NS_PER_S, sec;
            if (sim_json_str(sim, "age") &&
                time_parse_duration(sim_json_str(sim, "age"), &sec) == 0)
                age = sec * SIM_NS_PER_S;
            struct sim_bucket *b = sim_bucket_for_object(s, o);
            if (!b) {
                cJSON_Delete(o);
                return fail(v, path, "bad apiVersion");
            }
            const char *ns = sim_json_str(o, "metadata.namespace");
            if (b->namespaced)
                ensure_namespace(s, ns ? ns : "default", NULL);
            if (str_eq(kind, "Namespace")) {
                const char *name = sim_json_str(o, "metadata.name");
                if (sim_obj_find(s->b_ns, NULL, name)) {
                    /* merge labels into the one made from $.namespaces */
                    struct sim_obj *nso = sim_obj_find(s->b_ns, NULL, name);
                    cJSON *j = sim_obj_edit(s, nso);
                    const cJSON *l;
                    cJSON_ArrayForEach(l, jget(jget(o, "metadata"), "labels"))
                        sim_json_set_str(labels_of(j), l->string, l->valuestring);
                    sim_obj_commit(s, nso, j);
                    cJSON_Delete(o);
                    continue;
                }
            }
            struct sim_obj *x;
            if (str_eq(kind, "Pod")) {
                if (sim_obj_find(s->b_pods, ns ? ns : "default",
                                 sim_json_str(o, "metadata.name"))) {
                    cJSON_Delete(o);
                    return fail(v, path, "duplicate Pod %s/%s", ns ? ns : "default",
                                sim_json_str(c, "metadata.name"));
                }
                if (!ns)
                    sim_json_set_str(sim_json_obj(o, "metadata"), "namespace", "default");
                int64_t pod_age = 2 * 86400 * SIM_NS_PER_S;
                if (sim_json_str(sim, "podAge") &&
                    time_parse_duration(sim_json_str(sim, "podAge"), &sec) == 0)
                    pod_age = sec * SIM_NS_PER_S;
                struct idw_err perr;
                /* a refused bare pod is a scenario fact (e.g. a bad expiration), not an error */
                (void)sim_pod_create_bare(s, o, s->now_ns - pod_age, &perr);
                continue;
            }
            x = sim_obj_add(s, b, o, s->now_ns - age); /* takes o */
            if (!x) {
                const char *cns = b->namespaced ? sim_json_str(c, "metadata.namespace") : NULL;
                if (b->namespaced && !cns)
                    cns = "default";
                return fail(v, path, "duplicate %s %s%s%s", kind, cns ? cns : "", cns ? "/" : "",
                            sim_json_str(c, "metadata.name"));
            }
            sim_flags(x, sim);
            if (sim_is_workload_kind(kind))
                sim_kids_add(&p->items, &p->n, &p->cap, x);
        }
    }
    return 0;
}

static struct sim_obj *workload_of(struct sim *s, const char *kind, const char *ns,
                                   const char *name)
{
    for (struct sim_bucket *b = s->buckets; b; b = b->next)
        if (str_eq(b->kind, kind))
            return sim_obj_find(b, ns, name);
    return NULL;
}

static int traffic_load(struct sim *s, struct vctx *v, const cJSON *arr)
{
    int n = cJSON_GetArraySize(arr);
    s->traffic = xcalloc((size_t)n + 1, sizeof *s->traffic);
    const cJSON *t;
    int i = 0;
    cJSON_ArrayForEach(t, arr)
    {
        char path[64];
        snprintf(path, sizeof path, "$.traffic[%d]", i++);
        struct sim_traffic *tr = &s->traffic[s->n_traffic++];
        const char *kind = sim_json_str(t, "kind");
        tr->kind = xstrdup(kind ? kind : "Deployment");
        tr->ns = xstrdup(sim_json_str(t, "namespace"));
        tr->name = xstrdup(sim_json_str(t, "name"));
        tr->resource = xstrdup(sim_json_str(t, "resource"));
        tr->per_minute = jget(t, "perMinute")->valuedouble;
        bool pod = str_eq(tr->kind, "Pod");
        if (!(pod ? sim_obj_find(s->b_pods, tr->ns, tr->name)
                  : workload_of(s, tr->kind, tr->ns, tr->name))) {
            char p[96];
            snprintf(p, sizeof p, "%s.name", path);
            return fail(v, p, "no %s %s/%s in the scenario", tr->kind, tr->ns, tr->name);
        }
        const cJSON *out = jget(t, "outcomes");
        if (!out)
            tr->weights[LOGGEN_OK] = 1;
        const cJSON *o;
        cJSON_ArrayForEach(o, out)
        {
            for (size_t k = 0; k < COUNT(outcome_names); k++)
                if (str_eq(o->string, outcome_names[k].name))
                    tr->weights[outcome_names[k].outcome] = o->valuedouble;
        }
        /* back-fill the last hour; a random phase keeps workloads from firing together */
        double gap = tr->per_minute > 0 ? 60.0 / tr->per_minute : 0;
        tr->next_ns = s->now_ns - 3600 * SIM_NS_PER_S + (int64_t)(gap * sim_rand01(s) * 1e9);
    }
    return 0;
}

static int churn_load(struct sim *s, struct vctx *v, const cJSON *arr)
{
    int n = cJSON_GetArraySize(arr);
    s->churn = xcalloc((size_t)n + 1, sizeof *s->churn);
    const cJSON *c;
    int i = 0;
    cJSON_ArrayForEach(c, arr)
    {
        char path[64];
        snprintf(path, sizeof path, "$.churn[%d]", i++);
        struct sim_churn *ch = &s->churn[s->n_churn++];
        const char *act = sim_json_str(c, "action");
        for (size_t k = 0; k < COUNT(churn_actions); k++)
            if (str_eq(act, churn_actions[k].name))
                ch->action = churn_actions[k].action;
        const char *kind = sim_json_str(c, "kind");
        ch->kind = xstrdup(kind ? kind : "Deployment");
        ch->ns = xstrdup(sim_json_str(c, "namespace"));
        ch->name = xstrdup(sim_json_str(c, "name"));
        ch->key = xstrdup(sim_json_str(c, "key"));
        ch->value = xstrdup(sim_json_str(c, "value"));
        ch->on_template = !jget(c, "template") || cJSON_IsTrue(jget(c, "template"));
        int64_t sec = 0;
        time_parse_duration(sim_json_str(c, "every"), &sec);
        ch->every_ns = sec * SIM_NS_PER_S;
        ch->next_ns = s->now_ns + ch->every_ns;
        const cJSON *reps = jget(c, "replicas");
        ch->n_replicas = (size_t)cJSON_GetArraySize(reps);
        ch->replicas = xcalloc(ch->n_replicas + 1, sizeof *ch->replicas);
        const cJSON *r;
        size_t k = 0;
        cJSON_ArrayForEach(r, reps) ch->replicas[k++] = r->valueint;
        if (!workload_of(s, ch->kind, ch->ns, ch->name)) {
            char p[96];
            snprintf(p, sizeof p, "%s.name", path);
            return fail(v, p, "no %s %s/%s in the scenario", ch->kind, ch->ns, ch->name);
        }
    }
    return 0;
}

static char *scenario_path(const struct sim_options *opt)
{
    const char *sc = opt->scenario ? opt->scenario : "demo";
    if (strchr(sc, '/') || str_has_suffix(sc, ".json") || !opt->scenarios_dir)
        return xstrdup(sc);
    return xasprintf("%s/%s.json", opt->scenarios_dir, sc);
}

static int parse_file(const char *path, const char *base, cJSON **out, struct idw_err *err)
{
    char *text = NULL;
    size_t len = 0;
    if (file_read_all(path, SCENARIO_MAX_BYTES, &text, &len, err) != 0)
        return idw_err_prefix(err, "scenario %s", path);
    const char *end = NULL;
    cJSON *doc = cJSON_ParseWithLengthOpts(text, len, &end, false);
    if (!doc) {
        int line = 1;
        for (const char *p = text; end && p < end && *p; p++)
            line += *p == '\n';
        free(text);
        return idw_err_set(err, "%s: invalid JSON near line %d", base, line);
    }
    free(text);
    *out = doc;
    return 0;
}

int scenario_load(struct sim *s, const struct sim_options *opt, struct idw_err *err)
{
    cJSON *doc = NULL;
    if (opt->generate) {
        if (scenario_generate(opt->generate, opt->seed, &doc, err) != 0)
            return -1;
        s->file = xstrdup("generated");
    } else {
        char *path = scenario_path(opt);
        const char *slash = strrchr(path, '/');
        s->file = xstrdup(slash ? slash + 1 : path);
        int rc = parse_file(path, s->file, &doc, err);
        free(path);
        if (rc != 0)
            return -1;
    }
    s->scenario = doc;
    struct vctx v = {.file = s->file, .err = err};
    if (scenario_check(&v, doc) != 0)
        return -1;

    s->b_ns = sim_bucket_get(s, "", "v1", "Namespace");
    s->b_pods = sim_bucket_get(s, "", "v1", "Pod");
    s->b_sa = sim_bucket_get(s, "", "v1", "ServiceAccount");
    s->b_events = sim_bucket_get(s, "", "v1", "Event");
    s->b_rs = sim_bucket_get(s, "apps", "v1", "ReplicaSet");
    s->b_deploy = sim_bucket_get(s, "apps", "v1", "Deployment");
    s->b_sts = sim_bucket_get(s, "apps", "v1", "StatefulSet");
    s->b_ds = sim_bucket_get(s, "apps", "v1", "DaemonSet");
    s->b_job = sim_bucket_get(s, "batch", "v1", "Job");
    s->b_cron = sim_bucket_get(s, "batch", "v1", "CronJob");
    s->b_ai = sim_bucket_get(s, "aadpodidentity.k8s.io", "v1", "AzureIdentity");
    s->b_aib = sim_bucket_get(s, "aadpodidentity.k8s.io", "v1", "AzureIdentityBinding");
    s->b_aai = sim_bucket_get(s, "aadpodidentity.k8s.io", "v1", "AzureAssignedIdentity");

    static const cJSON empty = {0};
    const cJSON *cluster = jget(doc, "cluster");
    if (cluster_setup(s, cluster ? cluster : &empty, err) != 0)
        return idw_err_prefix(err, "%s: $.cluster.nodes", s->file);

    static const char *const base_ns[] = {"default", "kube-system", "kube-public",
                                          "kube-node-lease"};
    for (size_t i = 0; i < COUNT(base_ns); i++)
        ensure_namespace(s, base_ns[i], NULL);
    const cJSON *c;
    cJSON_ArrayForEach(c, jget(doc, "namespaces"))
    {
        if (cJSON_IsString(c))
            ensure_namespace(s, c->valuestring, NULL);
        else
            ensure_namespace(s, sim_json_str(c, "name"), jget(c, "labels"));
    }

    struct pending p = {0};
    if (s->mcfg.layout != MUTATE_NONE)
        install_webhook(s, jget(cluster, "webhook"), &p);
    if (s->pi_install != SIM_PI_NONE)
        install_pod_identity(s, jget(cluster, "podIdentity"), &p);
    int rc = objects_load(s, &v, jget(doc, "objects"), &p);
    if (rc == 0) {
        struct sim_obj *o, *tmp;
        HASH_ITER(hh, s->b_ns->objs, o, tmp) ensure_default_sa(s, o->name);
        /* pod identity and the webhook first: their pods exist before anyone asks for tokens */
        for (size_t i = 0; i < p.n; i++)
            sim_ctrl_reconcile(s, p.items[i], false);
        rc = traffic_load(s, &v, jget(doc, "traffic"));
    }
    if (rc == 0)
        rc = churn_load(s, &v, jget(doc, "churn"));
    free(p.items);
    if (rc != 0)
        return -1;
    const cJSON *rbac = jget(doc, "rbac");
    s->rbac = rbac;
    sim_ctrl_advance(s, s->now_ns); /* back-fills the last hour of NMI traffic */
    return 0;
}
