/* azure_sim_arm: ARM (subscriptions, managedClusters, userAssignedIdentities and their
 * federatedIdentityCredentials) and Microsoft Graph (app registrations' federated credentials)
 * over the scenario's azure section. Reference: azure-arm.md §1-5; shapes from the fixtures. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "azure_sim_int.h"

#define ARM_MAX_SEGS 12
#define FIC_TYPE "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials"
#define UAMI_TYPE "Microsoft.ManagedIdentity/userAssignedIdentities"
#define AKS_TYPE "Microsoft.ContainerService/ManagedClusters"
#define FIC_LIMIT 20
#define FIC_FIELD_MAX 600

static const cJSON *jget(const cJSON *o, const char *k)
{
    return cJSON_GetObjectItemCaseSensitive(o, k);
}

static bool ieq(const char *a, const char *b)
{
    return a && b && strcasecmp(a, b) == 0;
}

bool azure_sim_fic_name_ok(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    if (n < 3 || n > 120)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        if (!alnum && (i == 0 || (c != '-' && c != '_')))
            return false;
    }
    return true;
}

/* ---- paths ---- */

struct arm_path {
    size_t n;
    char *seg[ARM_MAX_SEGS];
};

static void path_free(struct arm_path *p)
{
    for (size_t i = 0; i < p->n; i++)
        free(p->seg[i]);
    p->n = 0;
}

/* Splits and percent-decodes; -1 for too many segments, an empty one or a bad escape. */
static int path_split(const char *path, struct arm_path *out)
{
    memset(out, 0, sizeof *out);
    const char *p = path + 1;
    while (*p) {
        size_t l = strcspn(p, "/");
        char *s = l ? server_url_decode(p, l, false) : NULL;
        if (!s || out->n == ARM_MAX_SEGS || !*s) {
            free(s);
            path_free(out);
            return -1;
        }
        out->seg[out->n++] = s;
        p += l;
        if (*p == '/' && p[1] == '\0') /* a trailing slash is tolerated */
            break;
        if (*p == '/')
            p++;
    }
    return 0;
}

enum arm_route {
    R_NONE,
    R_SUBS,
    R_SUB,
    R_CLUSTERS,
    R_CLUSTER,
    R_IDENTITIES,
    R_IDENTITY,
    R_FICS,
    R_FIC,
};

struct arm_target {
    enum arm_route route;
    const char *sub, *rg, *name, *fic; /* into the path's segments; NULL when absent */
};

static const struct {
    const char *ns, *type;
    enum arm_route list, one;
} arm_types[] = {
    {"Microsoft.ContainerService", "managedClusters", R_CLUSTERS, R_CLUSTER},
    {"Microsoft.ManagedIdentity", "userAssignedIdentities", R_IDENTITIES, R_IDENTITY},
};

static struct arm_target route_of(const struct arm_path *p)
{
    struct arm_target t = {R_NONE, NULL, NULL, NULL, NULL};
    char *const *s = p->seg;
    if (p->n == 0 || !ieq(s[0], "subscriptions"))
        return t;
    if (p->n == 1)
        return t.route = R_SUBS, t;
    t.sub = s[1];
    if (p->n == 2)
        return t.route = R_SUB, t;
    size_t base = 2;
    if (ieq(s[2], "resourceGroups") && p->n >= 4) {
        t.rg = s[3];
        base = 4;
    }
    if (p->n < base + 3 || !ieq(s[base], "providers"))
        return t;
    for (size_t i = 0; i < sizeof arm_types / sizeof *arm_types; i++) {
        if (!ieq(s[base + 1], arm_types[i].ns) || !ieq(s[base + 2], arm_types[i].type))
            continue;
        size_t rest = p->n - base - 3;
        if (rest == 0)
            t.route = arm_types[i].list;
        else if (t.rg && rest == 1)
            t.route = arm_types[i].one;
        else if (t.rg && arm_types[i].one == R_IDENTITY &&
                 ieq(s[base + 4], "federatedIdentityCredentials") && rest <= 3)
            t.route = rest == 2 ? R_FICS : R_FIC;
        if (t.route != R_NONE && rest >= 1)
            t.name = s[base + 3];
        if (t.route == R_FIC)
            t.fic = s[base + 5];
    }
    return t;
}

/* ---- api-version ---- */

/* Newest first; the last three predate federated credentials. */
static const char *const msi_versions[] = {
    "2024-11-30",         "2023-01-31",         "2025-05-31-preview",
    "2025-01-31-preview", "2023-07-31-preview", "2022-01-31-preview",
    "2021-09-30-preview", "2018-11-30",         "2015-08-31-preview",
};

static bool version_shaped(const char *v)
{
    static const char *const suffixes[] = {"", "-preview", "-beta", "-alpha"};
    if (strlen(v) < 10)
        return false;
    for (int i = 0; i < 10; i++)
        if (i == 4 || i == 7 ? v[i] != '-' : v[i] < '0' || v[i] > '9')
            return false;
    for (size_t i = 0; i < sizeof suffixes / sizeof *suffixes; i++)
        if (strcmp(v + 10, suffixes[i]) == 0)
            return true;
    return false;
}

static bool version_ok(enum arm_route r, const char *v)
{
    if (!version_shaped(v))
        return false;
    if (r != R_IDENTITIES && r != R_IDENTITY && r != R_FICS && r != R_FIC)
        return true;
    size_t n = sizeof msi_versions / sizeof *msi_versions;
    if (r == R_FICS || r == R_FIC)
        n -= 3;
    for (size_t i = 0; i < n; i++)
        if (strcmp(v, msi_versions[i]) == 0)
            return true;
    return false;
}

/* ---- rate limits (token buckets, reference §5) ---- */

static void buckets_refill(struct azure_sim *a)
{
    int64_t now = time_now_ms();
    double dt = (double)(now - a->bucket_ms) / 1000.0;
    a->bucket_ms = now;
    struct azs_bucket *bs[] = {&a->reads, &a->writes, &a->deletes};
    for (size_t i = 0; i < 3; i++)
        bs[i]->level = fmin(bs[i]->max, bs[i]->level + dt * bs[i]->refill);
}

/* Takes one request from the method's bucket: true with the remaining count in the header, or
 * false with a 429 already answered. */
static bool rate_take(struct azure_sim *a, struct server_req *req, struct server_resp *resp)
{
    struct azs_bucket *b = &a->reads;
    const char *kind = "reads", *op = "read";
    if (req->method == SERVER_M_PUT || req->method == SERVER_M_PATCH ||
        req->method == SERVER_M_POST)
        b = &a->writes, kind = "writes", op = "write";
    else if (req->method == SERVER_M_DELETE)
        b = &a->deletes, kind = "deletes", op = "delete";
    pthread_mutex_lock(&a->mu);
    buckets_refill(a);
    bool ok = b->level >= 1.0;
    double wait = ok ? 0 : (1.0 - b->level) / (b->refill > 0 ? b->refill : 1e-3);
    if (ok)
        b->level -= 1.0;
    long left = (long)floor(b->level);
    pthread_mutex_unlock(&a->mu);
    char hdr[96], v[32];
    snprintf(hdr, sizeof hdr, "x-ms-ratelimit-remaining-subscription-%s", kind);
    snprintf(v, sizeof v, "%ld", left);
    azs_header(resp, hdr, v);
    if (ok)
        return true;
    int64_t retry = (int64_t)ceil(wait);
    if (retry < 1)
        retry = 1;
    if (retry > 3600)
        retry = 3600;
    resp->retry_after = retry;
    azs_arm_error(resp, 429, "SubscriptionRequestsThrottled",
                  "Number of '%s' requests for subscription '%s' actor '%s' on tenant '%s' "
                  "exceeded. Please try again after '%lld' seconds after the last request. "
                  "Please see https://aka.ms/ARMThrottling for further details.",
                  op, a->subscription, a->sp_object_id, a->tenant, (long long)retry);
    return false;
}

/* ---- rendering ---- */

static char *identity_id(const struct azure_sim *a, const cJSON *idn)
{
    return xasprintf("/subscriptions/%s/resourcegroups/%s/providers/" UAMI_TYPE "/%s",
                     a->subscription, json_path_str(idn, "resourceGroup"),
                     json_path_str(idn, "name"));
}

static cJSON *identity_json(const struct azure_sim *a, const cJSON *idn)
{
    cJSON *o = cJSON_CreateObject();
    char *id = identity_id(a, idn);
    cJSON_AddStringToObject(o, "id", id);
    free(id);
    cJSON_AddStringToObject(o, "name", json_path_str(idn, "name"));
    cJSON_AddStringToObject(o, "type", UAMI_TYPE);
    const char *loc = json_path_str(idn, "location");
    cJSON_AddStringToObject(o, "location", loc ? loc : "westeurope");
    cJSON_AddObjectToObject(o, "tags");
    cJSON *p = cJSON_AddObjectToObject(o, "properties");
    const char *t = json_path_str(idn, "tenantId"), *pid = json_path_str(idn, "principalId");
    cJSON_AddStringToObject(p, "tenantId", t ? t : a->tenant);
    if (pid)
        cJSON_AddStringToObject(p, "principalId", pid);
    cJSON_AddStringToObject(p, "clientId", json_path_str(idn, "clientId"));
    cJSON_AddStringToObject(p, "isolationScope", "None");
    return o;
}

static cJSON *fic_json(const char *parent_id, const cJSON *fic)
{
    cJSON *o = cJSON_CreateObject();
    char *id =
        xasprintf("%s/federatedIdentityCredentials/%s", parent_id, json_path_str(fic, "name"));
    cJSON_AddStringToObject(o, "id", id);
    free(id);
    cJSON_AddStringToObject(o, "name", json_path_str(fic, "name"));
    cJSON_AddStringToObject(o, "type", FIC_TYPE);
    cJSON *p = cJSON_AddObjectToObject(o, "properties");
    cJSON_AddStringToObject(p, "issuer", json_path_str(fic, "issuer"));
    cJSON_AddStringToObject(p, "subject", json_path_str(fic, "subject"));
    cJSON_AddItemToObject(p, "audiences", cJSON_Duplicate(jget(fic, "audiences"), true));
    return o;
}

/* The scenario keys that are not managedCluster properties. */
static bool cluster_top_key(const char *k)
{
    static const char *const top[] = {"name", "resourceGroup", "location", "id",
                                      "tags", "identity",      "sku",      "description"};
    for (size_t i = 0; i < sizeof top / sizeof *top; i++)
        if (str_eq(k, top[i]))
            return true;
    return false;
}

static cJSON *cluster_json(const struct azure_sim *a, const cJSON *mc, bool main)
{
    cJSON *o = cJSON_CreateObject();
    const char *name = json_path_str(mc, "name"), *rg = json_path_str(mc, "resourceGroup");
    const char *loc = json_path_str(mc, "location");
    char *id = xasprintf("/subscriptions/%s/resourceGroups/%s/providers/"
                         "Microsoft.ContainerService/managedClusters/%s",
                         a->subscription, rg, name);
    cJSON_AddStringToObject(o, "id", id);
    free(id);
    cJSON_AddStringToObject(o, "location", loc ? loc : "westeurope");
    cJSON_AddStringToObject(o, "name", name);
    cJSON_AddStringToObject(o, "type", AKS_TYPE);
    cJSON_AddObjectToObject(o, "tags");
    cJSON *idy = cJSON_AddObjectToObject(o, "identity");
    cJSON_AddStringToObject(idy, "type", "SystemAssigned");
    cJSON_AddStringToObject(idy, "tenantId", a->tenant);
    cJSON *sku = cJSON_AddObjectToObject(o, "sku");
    cJSON_AddStringToObject(sku, "name", "Base");
    cJSON_AddStringToObject(sku, "tier", "Standard");
    cJSON *p = cJSON_AddObjectToObject(o, "properties");
    cJSON_AddStringToObject(p, "provisioningState", "Succeeded");
    cJSON_AddItemToObject(p, "powerState", cJSON_Parse("{\"code\":\"Running\"}"));
    const cJSON *c;
    cJSON_ArrayForEach(c, mc)
    {
        if (!cluster_top_key(c->string) && !jget(p, c->string))
            cJSON_AddItemToObject(p, c->string, cJSON_Duplicate(c, true));
    }
    /* the client finds its cluster by the API server host: the simulator listens on 127.0.0.1 */
    if (main && !jget(p, "privateFQDN"))
        cJSON_AddStringToObject(p, "privateFQDN", "127.0.0.1");
    if (!jget(p, "dnsPrefix"))
        cJSON_AddStringToObject(p, "dnsPrefix", name);
    if (!jget(p, "aadProfile")) {
        cJSON *aad = cJSON_AddObjectToObject(p, "aadProfile");
        cJSON_AddBoolToObject(aad, "managed", true);
        cJSON_AddBoolToObject(aad, "enableAzureRBAC", false);
        cJSON_AddStringToObject(aad, "tenantID", a->tenant);
    }
    cJSON *oidc = cJSON_GetObjectItemCaseSensitive(p, "oidcIssuerProfile");
    if (!oidc)
        oidc = cJSON_AddObjectToObject(p, "oidcIssuerProfile");
    if (!jget(oidc, "enabled"))
        cJSON_AddBoolToObject(oidc, "enabled", false);
    if (main && cJSON_IsTrue(jget(oidc, "enabled")) && !jget(oidc, "issuerURL"))
        cJSON_AddStringToObject(oidc, "issuerURL", a->issuer);
    if (!jget(p, "enableRBAC"))
        cJSON_AddBoolToObject(p, "enableRBAC", true);
    char *mcrg = xasprintf("MC_%s_%s_%s", rg, name, loc ? loc : "westeurope");
    if (!jget(p, "nodeResourceGroup"))
        cJSON_AddStringToObject(p, "nodeResourceGroup", mcrg);
    free(mcrg);
    return o;
}

/* ---- lookups (a->mu held) ---- */

static bool rg_known(const struct azure_sim *a, const char *rg)
{
    const cJSON *x;
    if (ieq(json_path_str(jget(a->az, "managedCluster"), "resourceGroup"), rg))
        return true;
    static const char *const lists[] = {"otherClusters", "userAssignedIdentities"};
    for (size_t i = 0; i < 2; i++)
        cJSON_ArrayForEach(x, jget(a->az, lists[i]))
        {
            if (ieq(json_path_str(x, "resourceGroup"), rg))
                return true;
        }
    return false;
}

static cJSON *identity_find(const struct azure_sim *a, const char *rg, const char *name)
{
    cJSON *x;
    cJSON_ArrayForEach(x, jget(a->az, "userAssignedIdentities"))
    {
        if (ieq(json_path_str(x, "resourceGroup"), rg) && ieq(json_path_str(x, "name"), name))
            return x;
    }
    return NULL;
}

/* The clusters in scope, main one first. */
static size_t clusters_in(const struct azure_sim *a, const char *rg, const cJSON **out, size_t cap,
                          bool *main_first)
{
    size_t n = 0;
    const cJSON *mc = jget(a->az, "managedCluster");
    *main_first = false;
    if (mc && (!rg || ieq(json_path_str(mc, "resourceGroup"), rg))) {
        out[n++] = mc;
        *main_first = true;
    }
    const cJSON *x;
    cJSON_ArrayForEach(x, jget(a->az, "otherClusters"))
    {
        if (n < cap && (!rg || ieq(json_path_str(x, "resourceGroup"), rg)))
            out[n++] = x;
    }
    return n;
}

/* ---- paging ---- */

static int skip_decode(const char *tok, size_t *off)
{
    unsigned char *raw = NULL;
    size_t rl = 0;
    if (server_b64_decode(tok, strlen(tok), &raw, &rl) != 0)
        return -1;
    char *end;
    int rc = -1;
    if (rl > 2 && memcmp(raw, "o=", 2) == 0) {
        unsigned long long v = strtoull((char *)raw + 2, &end, 10);
        if (*end == '\0' && v < 1000000) {
            *off = (size_t)v;
            rc = 0;
        }
    }
    free(raw);
    return rc;
}

struct page {
    size_t off, size;
};

/* Reads $skiptoken and $top. false when they are bad (400 answered). */
static bool page_of(struct azure_sim *a, struct server_req *req, struct server_resp *resp,
                    struct page *pg)
{
    pg->off = 0;
    pg->size = (size_t)a->page_size;
    char *skip = azs_query(req, "$skiptoken"), *top = azs_query(req, "$top");
    bool ok = true;
    if (skip && skip_decode(skip, &pg->off) != 0) {
        azs_arm_error(resp, 400, "InvalidSkipToken", "The provided skip token is not valid.");
        ok = false;
    }
    if (ok && top) {
        char *end;
        long t = strtol(top, &end, 10);
        if (*end || t < 1 || t > 1000) {
            azs_arm_error(resp, 400, "InvalidTopParameter",
                          "The value of $top must be an integer between 1 and 1000.");
            ok = false;
        } else {
            pg->size = (size_t)t; /* "number of records to return" */
        }
    }
    free(skip);
    free(top);
    return ok;
}

/* Adds nextLink (absolute, api-version and $skiptoken; $top kept) when more items follow. */
static void page_link(struct azure_sim *a, struct server_req *req, cJSON *body, const char *ver,
                      const struct page *pg, size_t total)
{
    if (pg->off + pg->size >= total)
        return;
    char raw[32];
    snprintf(raw, sizeof raw, "o=%zu", pg->off + pg->size);
    char *tok = server_b64url_encode(raw, strlen(raw));
    char *top = azs_query(req, "$top");
    char *link = xasprintf("%s%s?api-version=%s%s%s&$skiptoken=%s", a->url, req->path, ver,
                           top ? "&$top=" : "", top ? top : "", tok);
    cJSON_AddStringToObject(body, "nextLink", link);
    free(link);
    free(tok);
    free(top);
}

/* ---- handlers ---- */

static void forbidden(struct azure_sim *a, struct server_resp *resp, const char *action,
                      const char *scope)
{
    azs_arm_error(resp, 403, "AuthorizationFailed",
                  "The client '%s' with object id '%s' does not have authorization to perform "
                  "action '%s' over scope '%s' or the scope is invalid. If access was recently "
                  "granted, please refresh your credentials.",
                  a->sp_client_id, a->sp_object_id, action, scope);
}

static void not_found(struct server_resp *resp, const char *type, const char *name, const char *rg)
{
    char n[160], g[100];
    str_sanitize(n, sizeof n, name);
    str_sanitize(g, sizeof g, rg);
    azs_arm_error(resp, 404, "ResourceNotFound",
                  "The Resource '%s/%s' under resource group '%s' was not found. For more "
                  "details please go to https://aka.ms/ARMResourceNotFoundFix",
                  type, n, g);
}

static cJSON *subscription_json(const struct azure_sim *a)
{
    cJSON *s = cJSON_CreateObject();
    char *id = xasprintf("/subscriptions/%s", a->subscription);
    cJSON_AddStringToObject(s, "id", id);
    free(id);
    cJSON_AddStringToObject(s, "subscriptionId", a->subscription);
    cJSON_AddStringToObject(s, "tenantId", a->tenant);
    cJSON_AddStringToObject(s, "displayName", "idwatch-sim");
    cJSON_AddStringToObject(s, "state", "Enabled");
    return s;
}

static void list_subscriptions(struct azure_sim *a, struct server_resp *resp)
{
    cJSON *o = cJSON_CreateObject();
    cJSON *v = cJSON_AddArrayToObject(o, "value");
    if (a->subscription[0])
        cJSON_AddItemToArray(v, subscription_json(a));
    cJSON *count = cJSON_AddObjectToObject(o, "count");
    cJSON_AddStringToObject(count, "type", "Total");
    cJSON_AddNumberToObject(count, "value", a->subscription[0] ? 1 : 0);
    resp_json(resp, 200, o);
}

/* Lists (clusters or identities) with paging; a->mu held. */
static void list_items(struct azure_sim *a, struct server_req *req, struct server_resp *resp,
                       const struct arm_target *t, const char *ver)
{
    struct page pg;
    if (!page_of(a, req, resp, &pg))
        return;
    cJSON *o = cJSON_CreateObject();
    cJSON *v = cJSON_AddArrayToObject(o, "value");
    size_t total = 0;
    if (t->route == R_CLUSTERS) {
        const cJSON *cs[256];
        bool main_first;
        total = clusters_in(a, t->rg, cs, 256, &main_first);
        for (size_t i = pg.off; i < total && i < pg.off + pg.size; i++)
            cJSON_AddItemToArray(v, cluster_json(a, cs[i], i == 0 && main_first));
    } else if (t->route == R_IDENTITIES) {
        const cJSON *x;
        cJSON_ArrayForEach(x, jget(a->az, "userAssignedIdentities"))
        {
            if (t->rg && !ieq(json_path_str(x, "resourceGroup"), t->rg))
                continue;
            if (total >= pg.off && total < pg.off + pg.size)
                cJSON_AddItemToArray(v, identity_json(a, x));
            total++;
        }
    }
    page_link(a, req, o, ver, &pg, total);
    resp_json(resp, 200, o);
}

static void get_cluster(struct azure_sim *a, struct server_resp *resp, const struct arm_target *t)
{
    const cJSON *cs[256];
    bool main_first;
    size_t n = clusters_in(a, t->rg, cs, 256, &main_first);
    for (size_t i = 0; i < n; i++)
        if (ieq(json_path_str(cs[i], "name"), t->name)) {
            resp_json(resp, 200, cluster_json(a, cs[i], i == 0 && main_first));
            return;
        }
    not_found(resp, "Microsoft.ContainerService/managedClusters", t->name, t->rg);
}

static const char *fic_check_body(const cJSON *body, const cJSON **props)
{
    *props = jget(body, "properties");
    if (!cJSON_IsObject(*props))
        return "The request content was invalid and could not be deserialized: 'properties' "
               "is required.";
    const char *iss = json_path_str(*props, "issuer"), *sub = json_path_str(*props, "subject");
    const cJSON *aud = jget(*props, "audiences");
    if (str_empty(iss) || strlen(iss) > FIC_FIELD_MAX || !str_has_prefix(iss, "https://"))
        return "Federated identity credential issuer must be an https URL of at most 600 "
               "characters.";
    if (str_empty(sub) || strlen(sub) > FIC_FIELD_MAX)
        return "Federated identity credential subject must be 1-600 characters.";
    if (!cJSON_IsArray(aud) || cJSON_GetArraySize(aud) != 1 ||
        !cJSON_IsString(cJSON_GetArrayItem(aud, 0)) ||
        str_empty(cJSON_GetArrayItem(aud, 0)->valuestring) ||
        strlen(cJSON_GetArrayItem(aud, 0)->valuestring) > FIC_FIELD_MAX)
        return "Federated identity credential audiences must hold exactly one value of 1-600 "
               "characters.";
    return NULL;
}

static void put_fic(struct azure_sim *a, struct server_req *req, struct server_resp *resp,
                    cJSON *idn, const char *idn_id, const char *name)
{
    char safe[160];
    str_sanitize(safe, sizeof safe, name);
    if (!azure_sim_fic_name_ok(name)) {
        azs_arm_error(resp, 400, "BadRequest",
                      "The federated identity credential name '%s' is invalid. It must "
                      "be 3-120 characters long, start with a letter or a number and "
                      "contain only letters, numbers, hyphens and underscores.",
                      safe);
        return;
    }
    cJSON *body = cJSON_ParseWithLength(req->body.data ? req->body.data : "", req->body.len);
    const cJSON *props = NULL;
    const char *bad = body ? fic_check_body(body, &props)
                           : "The request content was invalid and could not be deserialized.";
    if (bad) {
        cJSON_Delete(body);
        azs_arm_error(resp, 400, "BadRequest", "%s", bad);
        return;
    }
    const char *iss = json_path_str(props, "issuer"), *sub = json_path_str(props, "subject");
    cJSON *fics = cJSON_GetObjectItemCaseSensitive(idn, "federatedIdentityCredentials");
    if (!fics)
        fics = cJSON_AddArrayToObject(idn, "federatedIdentityCredentials");
    cJSON *same = NULL, *x;
    int count = 0;
    cJSON_ArrayForEach(x, fics)
    {
        count++;
        if (ieq(json_path_str(x, "name"), name))
            same = x;
    }
    cJSON_ArrayForEach(x, fics)
    {
        if (x != same && str_eq(json_path_str(x, "issuer"), iss) &&
            str_eq(json_path_str(x, "subject"), sub)) {
            char other[160];
            str_sanitize(other, sizeof other, json_path_str(x, "name"));
            cJSON_Delete(body);
            azs_arm_error(resp, 400, "BadRequest",
                          "Federated identity credential '%s' already has this issuer "
                          "and subject: the issuer and subject combination must be unique "
                          "per identity.",
                          other);
            return;
        }
    }
    if (!same && count >= FIC_LIMIT) {
        cJSON_Delete(body);
        azs_arm_error(resp, 400, "BadRequest",
                      "Too many Federated Identity Credentials are written to Managed "
                      "Identity '%s'. An identity can have at most %d federated identity "
                      "credentials.",
                      idn_id, FIC_LIMIT);
        return;
    }
    cJSON *fic = cJSON_CreateObject();
    cJSON_AddStringToObject(fic, "name", same ? json_path_str(same, "name") : name);
    cJSON_AddStringToObject(fic, "issuer", iss);
    cJSON_AddStringToObject(fic, "subject", sub);
    cJSON_AddItemToObject(fic, "audiences", cJSON_Duplicate(jget(props, "audiences"), true));
    cJSON_Delete(body);
    if (same)
        cJSON_ReplaceItemViaPointer(fics, same, fic);
    else
        cJSON_AddItemToArray(fics, fic);
    resp_json(resp, same ? 200 : 201, fic_json(idn_id, fic));
}

/* Identity, its credentials, one credential; a->mu held. */
static void identity_ops(struct azure_sim *a, struct server_req *req, struct server_resp *resp,
                         const struct arm_target *t, const char *ver)
{
    cJSON *idn = identity_find(a, t->rg, t->name);
    if (!idn) {
        not_found(resp, UAMI_TYPE, t->name, t->rg);
        return;
    }
    char *id = identity_id(a, idn);
    if (t->route == R_IDENTITY) {
        resp_json(resp, 200, identity_json(a, idn));
        free(id);
        return;
    }
    static const struct {
        enum server_method m;
        const char *verb;
    } verbs[] = {{SERVER_M_GET, "read"}, {SERVER_M_PUT, "write"}, {SERVER_M_DELETE, "delete"}};
    const char *verb = "read";
    for (size_t i = 0; i < sizeof verbs / sizeof *verbs; i++)
        if (req->method == verbs[i].m)
            verb = verbs[i].verb;
    if (cJSON_IsTrue(jget(idn, "forbidden"))) {
        char action[160], fn[160];
        snprintf(action, sizeof action, "%s/%s", FIC_TYPE, verb);
        str_sanitize(fn, sizeof fn, t->fic ? t->fic : "");
        char *scope = xasprintf("%s/federatedIdentityCredentials%s%s", id, t->fic ? "/" : "", fn);
        forbidden(a, resp, action, scope);
        free(scope);
        free(id);
        return;
    }
    cJSON *fics = cJSON_GetObjectItemCaseSensitive(idn, "federatedIdentityCredentials");
    if (t->route == R_FICS) {
        struct page pg;
        if (page_of(a, req, resp, &pg)) {
            cJSON *o = cJSON_CreateObject();
            cJSON *v = cJSON_AddArrayToObject(o, "value");
            size_t total = (size_t)cJSON_GetArraySize(fics), i = 0;
            const cJSON *x;
            cJSON_ArrayForEach(x, fics)
            {
                if (i >= pg.off && i < pg.off + pg.size)
                    cJSON_AddItemToArray(v, fic_json(id, x));
                i++;
            }
            page_link(a, req, o, ver, &pg, total);
            resp_json(resp, 200, o);
        }
        free(id);
        return;
    }
    cJSON *fic = NULL, *x;
    cJSON_ArrayForEach(x, fics)
    {
        if (ieq(json_path_str(x, "name"), t->fic))
            fic = x;
    }
    if (req->method == SERVER_M_PUT) {
        put_fic(a, req, resp, idn, id, t->fic);
    } else if (req->method == SERVER_M_DELETE) {
        resp->status = fic ? 200 : 204;
        resp->content_type = NULL;
        buf_reset(&resp->body);
        if (fic)
            cJSON_Delete(cJSON_DetachItemViaPointer(fics, fic));
    } else if (fic) {
        resp_json(resp, 200, fic_json(id, fic));
    } else {
        not_found(resp, FIC_TYPE, t->fic, t->rg);
    }
    free(id);
}

static bool method_fits(enum arm_route r, enum server_method m)
{
    if (r == R_FIC)
        return m == SERVER_M_GET || m == SERVER_M_PUT || m == SERVER_M_DELETE;
    return m == SERVER_M_GET;
}

/* 401 unless the request carries a token this simulator issued for aud. */
static bool bearer_ok(struct azure_sim *a, struct server_req *req, struct server_resp *resp)
{
    const char *h = req->authorization;
    const char *code = "AuthenticationFailed", *msg = NULL;
    if (!h)
        msg = "Authentication failed. The 'Authorization' header is missing.";
    else if (strncasecmp(h, "Bearer ", 7) != 0)
        msg = "Authentication failed. The 'Authorization' header is provided in an invalid "
              "format.";
    else {
        switch (azs_token_check(a, h + 7, AZS_AUD_ARM)) {
        case 0: return true;
        case 2:
            code = "ExpiredAuthenticationToken";
            msg = "The access token expiry UTC time is earlier than current UTC time.";
            break;
        case 3:
            code = "InvalidAuthenticationTokenAudience";
            msg = "The access token has been obtained for wrong audience or resource "
                  "'https://graph.microsoft.com'. It should exactly match with one of the "
                  "allowed audiences 'https://management.core.windows.net/','https://"
                  "management.core.windows.net','https://management.azure.com/','https://"
                  "management.azure.com'.";
            break;
        default: code = "InvalidAuthenticationToken"; msg = "The access token is invalid.";
        }
    }
    char www[256];
    snprintf(www, sizeof www,
             "Bearer authorization_uri=\"%s/%s\", error=\"invalid_token\", "
             "error_description=\"The authentication failed.\"",
             a->url, a->tenant);
    azs_header(resp, "WWW-Authenticate", www);
    azs_arm_error(resp, 401, code, "%s", msg);
    return false;
}

void azs_arm_handle(struct azure_sim *a, struct server_req *req, struct server_resp *resp)
{
    azs_arm_ids(req, resp);
    if (!bearer_ok(a, req, resp))
        return;
    char *ver = azs_query(req, "api-version");
    struct arm_path p;
    struct arm_target t = {R_NONE, NULL, NULL, NULL, NULL};
    bool split = path_split(req->path, &p) == 0;
    if (split)
        t = route_of(&p);
    char vs[64];
    str_sanitize(vs, sizeof vs, ver ? ver : "");
    if (!ver) {
        azs_arm_error(resp, 400, "MissingApiVersionParameter",
                      "The api-version query parameter (?api-version=) is required for all "
                      "requests.");
    } else if (t.route == R_NONE) {
        azs_arm_error(resp, 404, "InvalidResourceType",
                      "The resource type could not be found in the namespace for api version "
                      "'%s'.",
                      vs);
    } else if (!version_ok(t.route, ver)) {
        azs_arm_error(resp, 400, "InvalidApiVersionParameter",
                      "The api-version '%s' is invalid. The supported versions are '%s'.", vs,
                      t.route >= R_IDENTITIES ? "2024-11-30,2023-01-31,2025-05-31-preview,"
                                                "2025-01-31-preview,2023-07-31-preview,"
                                                "2022-01-31-preview"
                                              : "2026-03-01,2026-01-01,2025-10-01");
    } else if (!method_fits(t.route, req->method)) {
        azs_arm_error(resp, 405, "MethodNotAllowed",
                      "The requested resource does not support http method '%s'.",
                      req->method_str ? req->method_str : "?");
    } else if (rate_take(a, req, resp)) {
        pthread_mutex_lock(&a->mu);
        char sub[80], rg[100];
        str_sanitize(sub, sizeof sub, t.sub ? t.sub : "");
        str_sanitize(rg, sizeof rg, t.rg ? t.rg : "");
        if (t.route == R_SUBS)
            list_subscriptions(a, resp);
        else if (!a->subscription[0] || !ieq(t.sub, a->subscription))
            azs_arm_error(resp, 404, "SubscriptionNotFound",
                          "The subscription '%s' could not be found.", sub);
        else if (t.route == R_SUB)
            resp_json(resp, 200, subscription_json(a));
        else if (t.rg && !rg_known(a, t.rg))
            azs_arm_error(resp, 404, "ResourceGroupNotFound",
                          "Resource group '%s' could not be found.", rg);
        else if (t.route == R_CLUSTERS || t.route == R_IDENTITIES)
            list_items(a, req, resp, &t, ver);
        else if (t.route == R_CLUSTER)
            get_cluster(a, resp, &t);
        else
            identity_ops(a, req, resp, &t, ver);
        pthread_mutex_unlock(&a->mu);
    }
    if (split)
        path_free(&p);
    free(ver);
}

/* ---- Microsoft Graph ---- */

static void graph_fic_id(const char *app, const char *name, char out[37])
{
    unsigned char md[32];
    unsigned int n = 0;
    char *s = xasprintf("%s/%s", app, name);
    EVP_Digest(s, strlen(s), md, &n, EVP_sha256(), NULL);
    free(s);
    md[6] = (unsigned char)((md[6] & 0x0f) | 0x50);
    md[8] = (unsigned char)((md[8] & 0x3f) | 0x80);
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", md[0],
             md[1], md[2], md[3], md[4], md[5], md[6], md[7], md[8], md[9], md[10], md[11], md[12],
             md[13], md[14], md[15]);
}

static cJSON *graph_fic_json(const char *app_id, const cJSON *fic)
{
    cJSON *o = cJSON_CreateObject();
    char id[37];
    const char *given = json_path_str(fic, "id");
    graph_fic_id(app_id, json_path_str(fic, "name"), id);
    cJSON_AddStringToObject(o, "id", given ? given : id);
    cJSON_AddStringToObject(o, "name", json_path_str(fic, "name"));
    cJSON_AddStringToObject(o, "issuer", json_path_str(fic, "issuer"));
    cJSON_AddStringToObject(o, "subject", json_path_str(fic, "subject"));
    const char *d = json_path_str(fic, "description");
    if (d)
        cJSON_AddStringToObject(o, "description", d);
    else
        cJSON_AddNullToObject(o, "description");
    cJSON_AddItemToObject(o, "audiences", cJSON_Duplicate(jget(fic, "audiences"), true));
    return o;
}

/* "/v1.0/applications(appId='X')REST" or "/v1.0/applications/ID REST": key and rest. */
static int graph_split(const char *path, char **key, bool *by_app_id, const char **rest)
{
    const char *p = path + strlen("/v1.0/applications");
    if (!str_has_prefix(path, "/v1.0/applications"))
        return -1;
    const char *end;
    if (str_has_prefix(p, "(appId='") || str_has_prefix(p, "(appId=%27")) {
        p += p[7] == '\'' ? 8 : 10;
        end = strstr(p, "')");
        const char *end2 = strstr(p, "%27)");
        if (!end || (end2 && end2 < end))
            end = end2;
        if (!end)
            return -1;
        *by_app_id = true;
        *key = server_url_decode(p, (size_t)(end - p), false);
        *rest = end + (*end == '\'' ? 2 : 4);
    } else if (*p == '/') {
        p++;
        size_t l = strcspn(p, "/");
        *by_app_id = false;
        *key = l ? server_url_decode(p, l, false) : NULL;
        *rest = p + l;
    } else {
        return -1;
    }
    return *key ? 0 : -1;
}

static bool graph_auth(struct azure_sim *a, struct server_req *req, struct server_resp *resp)
{
    const char *h = req->authorization;
    const char *msg = NULL;
    if (!h || strncasecmp(h, "Bearer ", 7) != 0 || !h[7])
        msg = "Access token is empty.";
    else {
        switch (azs_token_check(a, h + 7, AZS_AUD_GRAPH)) {
        case 0: return true;
        case 2: msg = "Lifetime validation failed, the token is expired."; break;
        case 3: msg = "Access token validation failure. Invalid audience."; break;
        default: msg = "CompactToken parsing failed with error code: 80049217";
        }
    }
    azs_graph_error(resp, 401, "InvalidAuthenticationToken", msg);
    return false;
}

void azs_graph_handle(struct azure_sim *a, struct server_req *req, struct server_resp *resp)
{
    if (!graph_auth(a, req, resp))
        return;
    char *key = NULL;
    bool by_app_id = false;
    const char *rest = NULL;
    if (graph_split(req->path, &key, &by_app_id, &rest) != 0) {
        free(key);
        azs_graph_error(resp, 400, "BadRequest",
                        "Resource not found for the segment in the request URL.");
        return;
    }
    bool want_fics = str_eq(rest, "/federatedIdentityCredentials");
    if (!want_fics && !str_eq(rest, "")) {
        free(key);
        azs_graph_error(resp, 400, "BadRequest",
                        "Resource not found for the segment in the request URL.");
        return;
    }
    if (req->method != SERVER_M_GET) {
        free(key);
        azs_graph_error(resp, 405, "Request_BadRequest",
                        "Specified HTTP method is not allowed for the request target.");
        return;
    }
    pthread_mutex_lock(&a->mu);
    const cJSON *app = NULL, *x;
    cJSON_ArrayForEach(x, jget(a->az, "applications"))
    {
        if (ieq(json_path_str(x, by_app_id ? "appId" : "id"), key))
            app = x;
    }
    char safe[160];
    str_sanitize(safe, sizeof safe, key);
    if (!app) {
        char msg[256];
        snprintf(msg, sizeof msg,
                 "Resource '%s' does not exist or one of its queried reference-property objects "
                 "are not present.",
                 safe);
        azs_graph_error(resp, 404, "Request_ResourceNotFound", msg);
    } else if (cJSON_IsTrue(jget(app, "forbidden"))) {
        azs_graph_error(resp, 403, "Authorization_RequestDenied",
                        "Insufficient privileges to complete the operation.");
    } else {
        const char *app_id = json_path_str(app, "appId");
        const char *obj = json_path_str(app, "id");
        char oid[37];
        if (!obj)
            graph_fic_id(app_id, "application", oid), obj = oid;
        cJSON *o = cJSON_CreateObject();
        char *ctx = want_fics ? xasprintf("https://graph.microsoft.com/v1.0/$metadata#"
                                          "applications('%s')/federatedIdentityCredentials",
                                          obj)
                              : xstrdup("https://graph.microsoft.com/v1.0/$metadata#"
                                        "applications/$entity");
        cJSON_AddStringToObject(o, "@odata.context", ctx);
        free(ctx);
        if (want_fics) {
            cJSON *v = cJSON_AddArrayToObject(o, "value");
            cJSON_ArrayForEach(x, jget(app, "federatedIdentityCredentials"))
            {
                cJSON_AddItemToArray(v, graph_fic_json(app_id, x));
            }
        } else {
            const char *dn = json_path_str(app, "displayName");
            cJSON_AddStringToObject(o, "id", obj);
            cJSON_AddStringToObject(o, "appId", app_id);
            cJSON_AddStringToObject(o, "displayName", dn ? dn : app_id);
            cJSON_AddStringToObject(o, "signInAudience", "AzureADMyOrg");
        }
        char id[37];
        azs_random_uuid(id);
        azs_header(resp, "request-id", id);
        resp_json(resp, 200, o);
    }
    pthread_mutex_unlock(&a->mu);
    free(key);
}
