/* ARM and Graph decoders: managedClusters, userAssignedIdentities, federated credentials,
 * subscriptions, error bodies, and the small string rules around them. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "idwatch/azure.h"

/* Locale-independent (the program may run in a UTF-8 locale for ncurses). */
static bool ascii_alnum(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

#define MAX_FIELD 4096 /* longer strings from ARM are not plausible: dropped */

static const cJSON *jget(const cJSON *o, const char *name)
{
    return cJSON_IsObject(o) ? cJSON_GetObjectItemCaseSensitive(o, name) : NULL;
}

static char *jstr(const cJSON *o, const char *name)
{
    const cJSON *v = jget(o, name);
    if (!cJSON_IsString(v) || !v->valuestring || strlen(v->valuestring) > MAX_FIELD)
        return NULL;
    return xstrdup(v->valuestring);
}

static bool jbool(const cJSON *o, const char *name)
{
    return cJSON_IsTrue(jget(o, name));
}

static char *segment_after(const char *id, const char *key)
{
    size_t kl = strlen(key);
    for (const char *p = id; p && *p; p = strchr(p + 1, '/')) {
        if (*p != '/')
            continue;
        if (strncasecmp(p + 1, key, kl) == 0 && p[1 + kl] == '/') {
            const char *v = p + 2 + kl;
            size_t n = strcspn(v, "/");
            return n ? xstrndup(v, n) : NULL;
        }
    }
    return NULL;
}

int azure_arm_id_split(const char *id, char **sub, char **rg, char **name)
{
    if (!id || !str_has_prefix(id, "/") || strncasecmp(id, "/subscriptions/", 15) != 0)
        return -1;
    char *s = segment_after(id, "subscriptions");
    char *g = segment_after(id, "resourceGroups");
    const char *last = strrchr(id, '/');
    if (!s || !last || !last[1]) {
        free(s);
        free(g);
        return -1;
    }
    if (sub)
        *sub = s;
    else
        free(s);
    if (rg)
        *rg = g;
    else
        free(g);
    if (name)
        *name = xstrdup(last + 1);
    return 0;
}

/* ---- managedClusters ---- */

void azure_cluster_free(struct azure_cluster *c)
{
    free(c->id);
    free(c->name);
    free(c->subscription_id);
    free(c->resource_group);
    free(c->fqdn);
    free(c->private_fqdn);
    free(c->tenant_id);
    free(c->issuer_url);
    for (size_t i = 0; i < c->n_pod_identities; i++)
        model_managed_pod_identity_free(&c->pod_identities[i]);
    free(c->pod_identities);
    memset(c, 0, sizeof *c);
}

static int cluster_decode(const cJSON *root, struct azure_cluster *out, struct idw_err *err)
{
    memset(out, 0, sizeof *out);
    if (!cJSON_IsObject(root))
        return idw_err_set(err, "managedCluster is not a JSON object");
    out->id = jstr(root, "id");
    out->name = jstr(root, "name");
    const cJSON *props = jget(root, "properties");
    if (!out->id || !cJSON_IsObject(props)) {
        azure_cluster_free(out);
        return idw_err_set(err, "managedCluster without id or properties");
    }
    azure_arm_id_split(out->id, &out->subscription_id, &out->resource_group, NULL);
    out->fqdn = jstr(props, "fqdn");
    out->private_fqdn = jstr(props, "privateFQDN");
    out->tenant_id = jstr(jget(props, "aadProfile"), "tenantID");
    if (!out->tenant_id)
        out->tenant_id = jstr(jget(root, "identity"), "tenantId");
    const cJSON *oidc = jget(props, "oidcIssuerProfile");
    out->oidc_enabled = jbool(oidc, "enabled");
    out->issuer_url = jstr(oidc, "issuerURL");
    out->workload_identity_enabled =
        jbool(jget(jget(props, "securityProfile"), "workloadIdentity"), "enabled");
    const cJSON *pip = jget(props, "podIdentityProfile");
    out->pod_identity_enabled = jbool(pip, "enabled");
    const cJSON *uais = jget(pip, "userAssignedIdentities");
    if (cJSON_IsArray(uais)) {
        size_t n = (size_t)cJSON_GetArraySize(uais);
        out->pod_identities = n ? xcalloc(n, sizeof *out->pod_identities) : NULL;
        const cJSON *u;
        cJSON_ArrayForEach(u, uais)
        {
            if (!cJSON_IsObject(u))
                continue;
            struct model_managed_pod_identity *p = &out->pod_identities[out->n_pod_identities++];
            p->name = jstr(u, "name");
            p->namespace_ = jstr(u, "namespace");
            p->binding_selector = jstr(u, "bindingSelector");
            const cJSON *ident = jget(u, "identity");
            p->client_id = jstr(ident, "clientId");
            p->resource_id = jstr(ident, "resourceId");
            p->provisioning_state = jstr(u, "provisioningState");
        }
    }
    return 0;
}

int azure_parse_cluster(const char *json, size_t len, struct azure_cluster *out,
                        struct idw_err *err)
{
    memset(out, 0, sizeof *out);
    cJSON *root = cJSON_ParseWithLength(json, len);
    if (!root)
        return idw_err_set(err, "managedCluster answer is not JSON");
    int rc = cluster_decode(root, out, err);
    cJSON_Delete(root);
    return rc;
}

/* The value array and nextLink of a list body; -1 when there is no value array. */
static int list_open(const char *json, size_t len, const char *what, cJSON **root,
                     const cJSON **value, char **next_link, struct idw_err *err)
{
    *root = cJSON_ParseWithLength(json, len);
    if (!*root)
        return idw_err_set(err, "%s answer is not JSON", what);
    *value = jget(*root, "value");
    if (!cJSON_IsArray(*value)) {
        cJSON_Delete(*root);
        *root = NULL;
        return idw_err_set(err, "%s answer has no \"value\" array", what);
    }
    if (next_link) {
        *next_link = jstr(*root, "nextLink");
        if (!*next_link)
            *next_link = jstr(*root, "@odata.nextLink");
        if (*next_link && !str_has_prefix(*next_link, "https://") &&
            !str_has_prefix(*next_link, "http://")) {
            free(*next_link); /* only absolute links are followed */
            *next_link = NULL;
        }
    }
    return 0;
}

int azure_parse_cluster_list(const char *json, size_t len, struct azure_cluster_page *out,
                             struct idw_err *err)
{
    memset(out, 0, sizeof *out);
    cJSON *root;
    const cJSON *value;
    if (list_open(json, len, "managedClusters list", &root, &value, &out->next_link, err) != 0)
        return -1;
    size_t n = (size_t)cJSON_GetArraySize(value);
    out->items = n ? xcalloc(n, sizeof *out->items) : NULL;
    const cJSON *it;
    cJSON_ArrayForEach(it, value)
    {
        if (cluster_decode(it, &out->items[out->n], NULL) == 0)
            out->n++;
        else
            out->skipped++;
    }
    cJSON_Delete(root);
    return 0;
}

void azure_cluster_page_free(struct azure_cluster_page *p)
{
    for (size_t i = 0; i < p->n; i++)
        azure_cluster_free(&p->items[i]);
    free(p->items);
    free(p->next_link);
    memset(p, 0, sizeof *p);
}

static bool ascii_ieq(const char *a, const char *b)
{
    return a && b && strcasecmp(a, b) == 0;
}

bool azure_cluster_matches_host(const struct azure_cluster *c, const char *host)
{
    return host && (ascii_ieq(c->fqdn, host) || ascii_ieq(c->private_fqdn, host));
}

char *azure_url_host(const char *url)
{
    if (!url)
        return NULL;
    const char *p = strstr(url, "://");
    p = p ? p + 3 : url;
    const char *at = strpbrk(p, "@/");
    if (at && *at == '@')
        p = at + 1;
    size_t n;
    if (*p == '[') { /* IPv6 literal */
        const char *e = strchr(p, ']');
        if (!e)
            return NULL;
        n = (size_t)(e - p) + 1;
    } else {
        n = strcspn(p, ":/?#");
    }
    return n ? xstrndup(p, n) : NULL;
}

/* ---- userAssignedIdentities ---- */

static int identity_decode(const cJSON *it, struct model_identity *out)
{
    memset(out, 0, sizeof *out);
    const cJSON *props = jget(it, "properties");
    out->arm_id = jstr(it, "id");
    out->client_id = jstr(props, "clientId");
    if (!out->arm_id || !out->client_id) {
        model_identity_free(out);
        memset(out, 0, sizeof *out);
        return -1;
    }
    out->name = jstr(it, "name");
    out->location = jstr(it, "location");
    out->principal_id = jstr(props, "principalId");
    out->tenant_id = jstr(props, "tenantId");
    azure_arm_id_split(out->arm_id, &out->subscription_id, &out->resource_group,
                       out->name ? NULL : &out->name);
    out->fic_state = MODEL_AZ_UNKNOWN;
    return 0;
}

int azure_parse_identity_list(const char *json, size_t len, struct azure_identity_page *out,
                              struct idw_err *err)
{
    memset(out, 0, sizeof *out);
    cJSON *root;
    const cJSON *value;
    if (list_open(json, len, "userAssignedIdentities list", &root, &value, &out->next_link, err) !=
        0)
        return -1;
    size_t n = (size_t)cJSON_GetArraySize(value);
    out->items = n ? xcalloc(n, sizeof *out->items) : NULL;
    const cJSON *it;
    cJSON_ArrayForEach(it, value)
    {
        if (identity_decode(it, &out->items[out->n]) == 0)
            out->n++;
        else
            out->skipped++;
    }
    cJSON_Delete(root);
    return 0;
}

void azure_identity_page_free(struct azure_identity_page *p)
{
    for (size_t i = 0; i < p->n; i++)
        model_identity_free(&p->items[i]);
    free(p->items);
    free(p->next_link);
    memset(p, 0, sizeof *p);
}

/* ---- federated identity credentials (ARM and Graph) ---- */

static int fic_decode(const cJSON *it, struct model_fic *out)
{
    memset(out, 0, sizeof *out);
    if (!cJSON_IsObject(it))
        return -1;
    const cJSON *props = jget(it, "properties");
    const cJSON *src = cJSON_IsObject(props) ? props : it; /* Graph has no properties{} */
    out->name = jstr(it, "name");
    out->id = jstr(it, "id");
    out->issuer = jstr(src, "issuer");
    out->subject = jstr(src, "subject");
    const cJSON *aud = jget(src, "audiences");
    if (!out->name || !out->issuer || !cJSON_IsArray(aud)) {
        model_fic_free(out);
        return -1;
    }
    size_t n = (size_t)cJSON_GetArraySize(aud);
    out->audiences = n ? xcalloc(n, sizeof *out->audiences) : NULL;
    const cJSON *a;
    cJSON_ArrayForEach(a, aud)
    {
        if (cJSON_IsString(a) && a->valuestring && strlen(a->valuestring) <= MAX_FIELD)
            out->audiences[out->n_audiences++] = xstrdup(a->valuestring);
    }
    return 0;
}

int azure_parse_fic_list(const char *json, size_t len, struct azure_fic_page *out,
                         struct idw_err *err)
{
    memset(out, 0, sizeof *out);
    cJSON *root = cJSON_ParseWithLength(json, len);
    if (!root)
        return idw_err_set(err, "federated credentials answer is not JSON");
    if (cJSON_IsObject(root) && !jget(root, "value")) { /* one object (a PUT's answer) */
        out->items = xcalloc(1, sizeof *out->items);
        if (fic_decode(root, &out->items[0]) == 0)
            out->n = 1;
        else
            out->skipped = 1;
        cJSON_Delete(root);
        if (out->n == 0) {
            azure_fic_page_free(out);
            return idw_err_set(err, "federated credential without name, issuer or audiences");
        }
        return 0;
    }
    cJSON_Delete(root);
    const cJSON *value;
    if (list_open(json, len, "federated credentials", &root, &value, &out->next_link, err) != 0)
        return -1;
    size_t n = (size_t)cJSON_GetArraySize(value);
    out->items = n ? xcalloc(n, sizeof *out->items) : NULL;
    const cJSON *it;
    cJSON_ArrayForEach(it, value)
    {
        if (fic_decode(it, &out->items[out->n]) == 0)
            out->n++;
        else
            out->skipped++;
    }
    cJSON_Delete(root);
    return 0;
}

void azure_fic_page_free(struct azure_fic_page *p)
{
    for (size_t i = 0; i < p->n; i++)
        model_fic_free(&p->items[i]);
    free(p->items);
    free(p->next_link);
    memset(p, 0, sizeof *p);
}

/* ---- subscriptions ---- */

void azure_strv_free(char **v)
{
    for (size_t i = 0; v && v[i]; i++)
        free(v[i]);
    free(v);
}

int azure_parse_subscription_list(const char *json, size_t len, char ***ids, size_t *n,
                                  char **next_link, struct idw_err *err)
{
    *ids = NULL;
    *n = 0;
    cJSON *root;
    const cJSON *value;
    if (list_open(json, len, "subscriptions list", &root, &value, next_link, err) != 0)
        return -1;
    size_t cap = (size_t)cJSON_GetArraySize(value);
    *ids = xcalloc(cap + 1, sizeof **ids);
    const cJSON *it;
    cJSON_ArrayForEach(it, value)
    {
        char *id = jstr(it, "subscriptionId");
        if (id)
            (*ids)[(*n)++] = id;
    }
    cJSON_Delete(root);
    return 0;
}

/* ---- errors ---- */

void azure_error_code(const char *body, size_t len, char *out, size_t n)
{
    out[0] = '\0';
    if (!body)
        return;
    cJSON *root = cJSON_ParseWithLength(body, len);
    const cJSON *e = jget(root, "error");
    const cJSON *code = jget(e, "code");
    if (cJSON_IsString(code) && code->valuestring)
        str_sanitize(out, n, code->valuestring);
    cJSON_Delete(root);
}

/* The text between `key'` and the next quote, e.g. "perform action 'X'". */
static bool quoted_after(const char *msg, const char *key, char *out, size_t n)
{
    const char *p = msg ? strstr(msg, key) : NULL;
    if (!p)
        return false;
    p += strlen(key);
    const char *e = strchr(p, '\'');
    if (!e || e == p)
        return false;
    char tmp[512];
    size_t l = (size_t)(e - p) < sizeof tmp - 1 ? (size_t)(e - p) : sizeof tmp - 1;
    memcpy(tmp, p, l);
    tmp[l] = '\0';
    str_sanitize(out, n, tmp);
    return true;
}

void azure_describe_error(long status, const char *body, size_t len, const char *what, char *out,
                          size_t n)
{
    cJSON *root = body ? cJSON_ParseWithLength(body, len) : NULL;
    const cJSON *e = jget(root, "error");
    const cJSON *code = jget(e, "code");
    const cJSON *msg = jget(e, "message");
    char c[96], m[1024], action[200], scope[600];
    str_sanitize(c, sizeof c, cJSON_IsString(code) && code->valuestring ? code->valuestring : "");
    str_sanitize(m, sizeof m, cJSON_IsString(msg) && msg->valuestring ? msg->valuestring : "");
    const char *w = what ? what : "request";
    if (strcmp(c, "AuthorizationFailed") == 0 &&
        quoted_after(m, "perform action '", action, sizeof action)) {
        if (!quoted_after(m, "over scope '", scope, sizeof scope))
            snprintf(scope, sizeof scope, "(scope not named)");
        snprintf(out, n, "AuthorizationFailed: no permission for %s on %s (%s)", action, scope, w);
    } else if (status == 403 && str_eq(c, "Authorization_RequestDenied")) {
        snprintf(out, n, "%s: not allowed (%s)", c, w);
    } else if (c[0] && m[0]) {
        /* keep the first sentence of the message */
        char *dot = strstr(m, ". ");
        if (dot)
            dot[1] = '\0';
        snprintf(out, n, "%s: %s (%s)", c, m, w);
    } else if (c[0]) {
        snprintf(out, n, "%s: HTTP %ld (%s)", c, status, w);
    } else {
        snprintf(out, n, "HTTP %ld (%s)", status, w);
    }
    cJSON_Delete(root);
}

int azure_header(const char *headers, const char *name, char *out, size_t n)
{
    if (!headers || n == 0)
        return -1;
    size_t nl = strlen(name);
    for (const char *p = headers; *p;) {
        const char *eol = strchr(p, '\n');
        size_t ll = eol ? (size_t)(eol - p) : strlen(p);
        if (ll > nl && strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
            const char *v = p + nl + 1;
            const char *end = p + ll;
            while (v < end && (*v == ' ' || *v == '\t'))
                v++;
            while (end > v && (end[-1] == '\r' || end[-1] == ' ' || end[-1] == '\t'))
                end--;
            size_t vl = (size_t)(end - v) < n - 1 ? (size_t)(end - v) : n - 1;
            memcpy(out, v, vl);
            out[vl] = '\0';
            return 0;
        }
        if (!eol)
            break;
        p = eol + 1;
    }
    return -1;
}

bool azure_fic_name_valid(const char *name)
{
    if (!name)
        return false;
    size_t n = strlen(name);
    if (n < 3 || n > 120 || !ascii_alnum((unsigned char)name[0]))
        return false;
    for (size_t i = 1; i < n; i++) {
        unsigned char ch = (unsigned char)name[i];
        if (!(ascii_alnum(ch) || ch == '-' || ch == '_'))
            return false;
    }
    return true;
}
