/* scenario_gen: big synthetic clusters for load tests ("deployments=10000,pods=50000,wi=0.2,
 * pi=0.1,nmi=300,namespaces=50"), built as an ordinary scenario document so the same loader
 * checks and builds it. Deterministic for a seed. */
#include <stdlib.h>
#include <string.h>

#include "state_internal.h"

struct gen_spec {
    long deployments, pods, nodes, namespaces;
    double wi, pi;
};

static const struct {
    const char *key;
    bool fraction;
    size_t off;
} gen_keys[] = {
    {"deployments", false, offsetof(struct gen_spec, deployments)},
    {"pods", false, offsetof(struct gen_spec, pods)},
    {"nmi", false, offsetof(struct gen_spec, nodes)},
    {"namespaces", false, offsetof(struct gen_spec, namespaces)},
    {"wi", true, offsetof(struct gen_spec, wi)},
    {"pi", true, offsetof(struct gen_spec, pi)},
};

static int gen_parse(const char *text, struct gen_spec *g, struct idw_err *err)
{
    *g = (struct gen_spec){.deployments = 100, .pods = 0, .nodes = 3, .namespaces = 50};
    char *copy = xstrdup(text), *save = NULL;
    for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(tok, '=');
        size_t i;
        for (i = 0; eq && i < sizeof gen_keys / sizeof *gen_keys; i++)
            if (strlen(gen_keys[i].key) == (size_t)(eq - tok) &&
                strncmp(tok, gen_keys[i].key, (size_t)(eq - tok)) == 0)
                break;
        if (!eq || i == sizeof gen_keys / sizeof *gen_keys) {
            idw_err_set(err,
                        "--generate: unknown item \"%s\" (expected deployments=, pods=, wi=, pi=, "
                        "nmi=, namespaces=)",
                        tok);
            free(copy);
            return -1;
        }
        char *end;
        if (gen_keys[i].fraction) {
            double d = strtod(eq + 1, &end);
            if (*end || end == eq + 1 || d < 0 || d > 1) {
                idw_err_set(err, "--generate: %s must be a fraction from 0 to 1", gen_keys[i].key);
                free(copy);
                return -1;
            }
            *(double *)((char *)g + gen_keys[i].off) = d;
        } else {
            long v = strtol(eq + 1, &end, 10);
            if (*end || end == eq + 1 || v < 0 || v > 1000000) {
                idw_err_set(err, "--generate: %s must be a count", gen_keys[i].key);
                free(copy);
                return -1;
            }
            *(long *)((char *)g + gen_keys[i].off) = v;
        }
    }
    free(copy);
    if (g->pods == 0)
        g->pods = g->deployments * 2;
    if (g->nodes < 1 || g->nodes > 3000)
        return idw_err_set(err, "--generate: nmi must be from 1 to 3000 nodes");
    if (g->namespaces < 1)
        g->namespaces = 1;
    if (g->pods > g->nodes * SIM_NODE_PODS)
        return idw_err_set(err, "--generate: %ld pods do not fit on %ld nodes (%d each)", g->pods,
                           g->nodes, SIM_NODE_PODS);
    return 0;
}

static uint64_t gen_rand(uint64_t *st)
{
    uint64_t z = (*st += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static double gen_01(uint64_t *st)
{
    return (double)(gen_rand(st) >> 11) / (double)(1ULL << 53);
}

static void gen_uuid(uint64_t *st, char out[37])
{
    uint64_t a = gen_rand(st), b = gen_rand(st);
    snprintf(out, 37, "%08x-%04x-4%03x-%04x-%012llx", (unsigned)(a >> 32),
             (unsigned)((a >> 16) & 0xffff), (unsigned)(a & 0xfff),
             (unsigned)(0x8000 | ((b >> 48) & 0x3fff)),
             (unsigned long long)(b & 0xffffffffffffULL));
}

static cJSON *meta_obj(cJSON *objs, const char *api, const char *kind, const char *ns,
                       const char *name)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "apiVersion", api);
    cJSON_AddStringToObject(o, "kind", kind);
    cJSON *m = cJSON_AddObjectToObject(o, "metadata");
    cJSON_AddStringToObject(m, "name", name);
    cJSON_AddStringToObject(m, "namespace", ns);
    cJSON_AddItemToArray(objs, o);
    return o;
}

int scenario_generate(const char *spec, uint64_t seed, cJSON **out, struct idw_err *err)
{
    struct gen_spec g;
    if (gen_parse(spec, &g, err) != 0)
        return -1;
    uint64_t st = seed ? seed : 0x1d3a7c4b;
    char tenant[37], uuid[37];
    gen_uuid(&st, tenant);
    gen_uuid(&st, uuid);

    cJSON *doc = cJSON_CreateObject();
    cJSON_AddStringToObject(doc, "name", "generated");
    cJSON_AddStringToObject(doc, "description", spec);
    cJSON *cl = cJSON_AddObjectToObject(doc, "cluster");
    cJSON_AddStringToObject(cl, "kubernetesVersion", "v1.32.4");
    char issuer[160];
    snprintf(issuer, sizeof issuer, "https://westeurope.oic.prod-aks.azure.com/%s/%s/", tenant,
             uuid);
    cJSON_AddStringToObject(cl, "oidcIssuer", issuer);
    cJSON_AddStringToObject(cl, "tenantId", tenant);
    cJSON_AddNumberToObject(cJSON_AddObjectToObject(cl, "nodes"), "count", (double)g.nodes);
    cJSON *wh = cJSON_AddObjectToObject(cl, "webhook");
    cJSON_AddStringToObject(wh, "layout", "v1.6");
    cJSON_AddStringToObject(wh, "install", "aks-addon");
    cJSON *pi = cJSON_AddObjectToObject(cl, "podIdentity");
    cJSON_AddStringToObject(pi, "install", "aks-addon");
    cJSON_AddStringToObject(pi, "logEra", "klog-1.8");

    cJSON *nss = cJSON_AddArrayToObject(doc, "namespaces");
    cJSON *objs = cJSON_AddArrayToObject(doc, "objects");
    cJSON *traffic = cJSON_AddArrayToObject(doc, "traffic");
    char ns[64], name[96];
    for (long n = 0; n < g.namespaces; n++) {
        snprintf(ns, sizeof ns, "team-%03ld", n);
        cJSON_AddItemToArray(nss, cJSON_CreateString(ns));
        /* one WI service account and one pod identity per namespace */
        cJSON *sa = meta_obj(objs, "v1", "ServiceAccount", ns, "workload");
        gen_uuid(&st, uuid);
        cJSON_AddStringToObject(
            cJSON_AddObjectToObject(cJSON_GetObjectItem(sa, "metadata"), "annotations"),
            WI_ANN_CLIENT_ID, uuid);
        snprintf(name, sizeof name, "%s-identity", ns);
        cJSON *id = meta_obj(objs, "aadpodidentity.k8s.io/v1", "AzureIdentity", ns, name);
        cJSON *ids = cJSON_AddObjectToObject(id, "spec");
        cJSON_AddNumberToObject(ids, "type", 0);
        cJSON_AddStringToObject(ids, "clientID", uuid);
        char rid[256];
        snprintf(rid, sizeof rid,
                 "/subscriptions/00000000-0000-0000-0000-000000000000/resourcegroups/rg-gen/"
                 "providers/Microsoft.ManagedIdentity/userAssignedIdentities/%s",
                 name);
        cJSON_AddStringToObject(ids, "resourceID", rid);
        char bname[112];
        snprintf(bname, sizeof bname, "%s-binding", name);
        cJSON *b = meta_obj(objs, "aadpodidentity.k8s.io/v1", "AzureIdentityBinding", ns, bname);
        cJSON *bs = cJSON_AddObjectToObject(b, "spec");
        cJSON_AddStringToObject(bs, "azureIdentity", name);
        cJSON_AddStringToObject(bs, "selector", name);
    }
    long base = g.deployments ? g.pods / g.deployments : 0;
    long extra = g.deployments ? g.pods % g.deployments : 0;
    for (long d = 0; d < g.deployments; d++) {
        long nsi = d % g.namespaces;
        snprintf(ns, sizeof ns, "team-%03ld", nsi);
        snprintf(name, sizeof name, "svc-%05ld", d);
        bool wi = gen_01(&st) < g.wi;
        bool pid = gen_01(&st) < g.pi;
        cJSON *o = meta_obj(objs, "apps/v1", "Deployment", ns, name);
        cJSON_AddStringToObject(
            cJSON_AddObjectToObject(cJSON_GetObjectItem(o, "metadata"), "labels"), "app", name);
        cJSON *sp = cJSON_AddObjectToObject(o, "spec");
        cJSON_AddNumberToObject(sp, "replicas", (double)(base + (d < extra ? 1 : 0)));
        cJSON_AddStringToObject(
            cJSON_AddObjectToObject(cJSON_AddObjectToObject(sp, "selector"), "matchLabels"), "app",
            name);
        cJSON *t = cJSON_AddObjectToObject(sp, "template");
        cJSON *tl = cJSON_AddObjectToObject(cJSON_AddObjectToObject(t, "metadata"), "labels");
        cJSON_AddStringToObject(tl, "app", name);
        if (wi)
            cJSON_AddStringToObject(tl, WI_LABEL_USE, "true");
        char sel[96];
        snprintf(sel, sizeof sel, "%s-identity", ns);
        if (pid)
            cJSON_AddStringToObject(tl, PI_LABEL_BINDING, sel);
        cJSON *ps = cJSON_AddObjectToObject(t, "spec");
        if (wi)
            cJSON_AddStringToObject(ps, "serviceAccountName", "workload");
        cJSON *c = cJSON_CreateObject();
        cJSON_AddStringToObject(c, "name", "app");
        cJSON_AddStringToObject(c, "image", "contoso.azurecr.io/app:1.0");
        cJSON_AddItemToArray(cJSON_AddArrayToObject(ps, "containers"), c);
        if (pid) {
            cJSON *tr = cJSON_CreateObject();
            cJSON_AddStringToObject(tr, "namespace", ns);
            cJSON_AddStringToObject(tr, "name", name);
            cJSON_AddNumberToObject(tr, "perMinute", 0.2);
            cJSON *oc = cJSON_AddObjectToObject(tr, "outcomes");
            cJSON_AddNumberToObject(oc, "ok", 0.95);
            cJSON_AddNumberToObject(oc, "identity-not-found", 0.05);
            cJSON_AddStringToObject(tr, "resource", "https://vault.azure.net");
            cJSON_AddItemToArray(traffic, tr);
        }
    }
    *out = doc;
    return 0;
}
