/* azure_sim: setup of the Azure side (scenario check, placeholders, the state directory's Azure
 * files), its place in the route table, error shapes, and the public OIDC issuer. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "azure_sim_int.h"

#define AZS_DEFAULT_TENANT "72f988bf-86f1-41af-91ab-2d7cd011db47" /* scenario.c's default */
#define AZS_DEFAULT_PAGE 5
#define AZS_DEFAULT_LIFETIME 3599

/* ---- the scenario's "azure" section ---- */

struct azs_field {
    const char *key;
    char type; /* s string, b bool, n number, o object, a array */
    bool required;
};

static const struct azs_field top_fields[] = {
    {"subscriptionId", 's', false},
    {"tenantId", 's', false},
    {"pageSize", 'n', false},
    {"tokenLifetime", 'n', false},
    {"managedCluster", 'o', false},
    {"otherClusters", 'a', false},
    {"userAssignedIdentities", 'a', false},
    {"applications", 'a', false},
    {"principal", 'o', false},
    {"publicIssuer", 'o', false},
    {"rateLimit", 'o', false},
};
static const struct azs_field cluster_fields[] = {
    {"name", 's', true}, {"resourceGroup", 's', true}, {"location", 's', false},
    {"id", 's', false},  {"fqdn", 's', false},         {"privateFQDN", 's', false},
};
static const struct azs_field identity_fields[] = {
    {"name", 's', true},       {"resourceGroup", 's', true},
    {"clientId", 's', true},   {"principalId", 's', false},
    {"tenantId", 's', false},  {"location", 's', false},
    {"forbidden", 'b', false}, {"federatedIdentityCredentials", 'a', false},
};
static const struct azs_field app_fields[] = {
    {"appId", 's', true},
    {"id", 's', false},
    {"displayName", 's', false},
    {"forbidden", 'b', false},
    {"federatedIdentityCredentials", 'a', false},
};
static const struct azs_field fic_fields[] = {
    {"name", 's', true},
    {"issuer", 's', true},
    {"subject", 's', true},
    {"audiences", 'a', true},
};
static const struct azs_field principal_fields[] = {
    {"clientId", 's', false}, {"objectId", 's', false}, {"name", 's', false}};
static const struct azs_field issuer_fields[] = {
    {"tenantId", 's', false}, {"uuid", 's', false}, {"keys", 's', false}, {"issuer", 's', false}};
static const struct azs_field rate_fields[] = {
    {"reads", 'n', false},          {"writes", 'n', false},          {"deletes", 'n', false},
    {"readsPerSecond", 'n', false}, {"writesPerSecond", 'n', false},
};

#define COUNT(a) (sizeof(a) / sizeof *(a))

struct azs_chk {
    const char *file;
    struct idw_err *err;
};

static int chk_fail(struct azs_chk *c, const char *path, const char *what)
{
    idw_err_set(c->err, "%s: %s: %s", c->file, path, what);
    return -1;
}

static bool type_ok(const cJSON *v, char t)
{
    switch (t) {
    case 's': return cJSON_IsString(v);
    case 'b': return cJSON_IsBool(v);
    case 'n': return cJSON_IsNumber(v);
    case 'o': return cJSON_IsObject(v);
    default: return cJSON_IsArray(v);
    }
}

static const char *type_name(char t)
{
    switch (t) {
    case 's': return "expected a string";
    case 'b': return "expected true or false";
    case 'n': return "expected a number";
    case 'o': return "expected an object";
    default: return "expected an array";
    }
}

static int chk_fields(struct azs_chk *c, const cJSON *o, const char *path,
                      const struct azs_field *f, size_t n)
{
    if (!cJSON_IsObject(o))
        return chk_fail(c, path, "expected an object");
    for (size_t i = 0; i < n; i++) {
        char p[256];
        snprintf(p, sizeof p, "%s.%s", path, f[i].key);
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, f[i].key);
        if (!v && f[i].required)
            return chk_fail(c, p, "required");
        if (v && !type_ok(v, f[i].type))
            return chk_fail(c, p, type_name(f[i].type));
    }
    return 0;
}

static int chk_fics(struct azs_chk *c, const cJSON *owner, const char *path)
{
    const cJSON *fic;
    int i = 0;
    cJSON_ArrayForEach(fic, cJSON_GetObjectItemCaseSensitive(owner, "federatedIdentityCredentials"))
    {
        char p[256];
        snprintf(p, sizeof p, "%s.federatedIdentityCredentials[%d]", path, i++);
        if (chk_fields(c, fic, p, fic_fields, COUNT(fic_fields)))
            return -1;
        const cJSON *aud;
        cJSON_ArrayForEach(aud, cJSON_GetObjectItemCaseSensitive(fic, "audiences"))
        {
            if (!cJSON_IsString(aud))
                return chk_fail(c, p, "audiences: expected strings");
        }
    }
    return 0;
}

static int chk_list(struct azs_chk *c, const cJSON *az, const char *key, const struct azs_field *f,
                    size_t n, bool fics)
{
    const cJSON *item;
    int i = 0;
    cJSON_ArrayForEach(item, cJSON_GetObjectItemCaseSensitive(az, key))
    {
        char p[128];
        snprintf(p, sizeof p, "$.azure.%s[%d]", key, i++);
        if (chk_fields(c, item, p, f, n) || (fics && chk_fics(c, item, p)))
            return -1;
    }
    return 0;
}

int azure_sim_check(const cJSON *az, const char *file, struct idw_err *err)
{
    struct azs_chk c = {file, err};
    if (chk_fields(&c, az, "$.azure", top_fields, COUNT(top_fields)))
        return -1;
    const cJSON *mc = cJSON_GetObjectItemCaseSensitive(az, "managedCluster");
    if (mc && chk_fields(&c, mc, "$.azure.managedCluster", cluster_fields, COUNT(cluster_fields)))
        return -1;
    if (chk_list(&c, az, "otherClusters", cluster_fields, COUNT(cluster_fields), false) ||
        chk_list(&c, az, "userAssignedIdentities", identity_fields, COUNT(identity_fields), true) ||
        chk_list(&c, az, "applications", app_fields, COUNT(app_fields), true))
        return -1;
    const cJSON *o = cJSON_GetObjectItemCaseSensitive(az, "principal");
    if (o && chk_fields(&c, o, "$.azure.principal", principal_fields, COUNT(principal_fields)))
        return -1;
    o = cJSON_GetObjectItemCaseSensitive(az, "rateLimit");
    if (o && chk_fields(&c, o, "$.azure.rateLimit", rate_fields, COUNT(rate_fields)))
        return -1;
    o = cJSON_GetObjectItemCaseSensitive(az, "publicIssuer");
    if (o && chk_fields(&c, o, "$.azure.publicIssuer", issuer_fields, COUNT(issuer_fields)))
        return -1;
    const char *keys = json_path_str(o, "keys");
    if (keys && !str_eq(keys, "cluster") && !str_eq(keys, "different") && !str_eq(keys, "none"))
        return chk_fail(&c, "$.azure.publicIssuer.keys", "expected cluster, different or none");
    const cJSON *ps = cJSON_GetObjectItemCaseSensitive(az, "pageSize");
    if (ps && (ps->valuedouble < 1 || ps->valuedouble > 1000))
        return chk_fail(&c, "$.azure.pageSize", "expected 1..1000");
    return 0;
}

/* ---- small shared helpers ---- */

void azs_header(struct server_resp *resp, const char *name, const char *value)
{
    buf_printf(&resp->headers, "%s: %s\n", name, value);
}

void azs_random_uuid(char out[37])
{
    unsigned char b[16];
    if (RAND_bytes(b, sizeof b) != 1)
        abort();
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
             b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
             b[14], b[15]);
}

void azs_arm_ids(struct server_req *req, struct server_resp *resp)
{
    (void)req;
    char id[37], routing[96], ts[32];
    azs_random_uuid(id);
    azs_header(resp, "x-ms-request-id", id);
    azs_header(resp, "x-ms-correlation-request-id", id);
    time_format_rfc3339(time_now(), ts);
    /* REGION:TIMESTAMP:GUID, the timestamp without punctuation as ARM writes it */
    char compact[20];
    size_t k = 0;
    for (const char *p = ts; *p && k + 1 < sizeof compact; p++)
        if (*p != '-' && *p != ':')
            compact[k++] = *p;
    compact[k] = '\0';
    snprintf(routing, sizeof routing, "WESTEUROPE:%s:%s", compact, id);
    azs_header(resp, "x-ms-routing-request-id", routing);
}

static void resp_body(struct server_resp *resp, int status, cJSON *o)
{
    resp_json(resp, status, o); /* prints and frees */
}

void azs_arm_error(struct server_resp *resp, int status, const char *code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = xvasprintf(fmt, ap);
    va_end(ap);
    cJSON *o = cJSON_CreateObject();
    cJSON *e = cJSON_AddObjectToObject(o, "error");
    cJSON_AddStringToObject(e, "code", code);
    cJSON_AddStringToObject(e, "message", msg);
    free(msg);
    resp_body(resp, status, o);
}

void azs_graph_error(struct server_resp *resp, int status, const char *code, const char *msg)
{
    char id[37], ts[32];
    azs_random_uuid(id);
    time_format_rfc3339(time_now(), ts);
    cJSON *o = cJSON_CreateObject();
    cJSON *e = cJSON_AddObjectToObject(o, "error");
    cJSON_AddStringToObject(e, "code", code);
    cJSON_AddStringToObject(e, "message", msg);
    cJSON *in = cJSON_AddObjectToObject(e, "innerError");
    cJSON_AddStringToObject(in, "date", ts);
    cJSON_AddStringToObject(in, "request-id", id);
    cJSON_AddStringToObject(in, "client-request-id", id);
    azs_header(resp, "request-id", id);
    azs_header(resp, "client-request-id", id);
    resp_body(resp, status, o);
}

void azs_token_error(struct azure_sim *a, struct server_resp *resp, int status, const char *error,
                     int aadsts, const char *text)
{
    (void)a;
    char trace[37], corr[37], ts[32];
    azs_random_uuid(trace);
    azs_random_uuid(corr);
    time_format_rfc3339(time_now(), ts);
    char *desc = xasprintf("AADSTS%d: %s Trace ID: %s Correlation ID: %s Timestamp: %s", aadsts,
                           text, trace, corr, ts);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "error", error);
    cJSON_AddStringToObject(o, "error_description", desc);
    cJSON *codes = cJSON_AddArrayToObject(o, "error_codes");
    cJSON_AddItemToArray(codes, cJSON_CreateNumber(aadsts));
    cJSON_AddStringToObject(o, "timestamp", ts);
    cJSON_AddStringToObject(o, "trace_id", trace);
    cJSON_AddStringToObject(o, "correlation_id", corr);
    char uri[96];
    snprintf(uri, sizeof uri, "https://login.microsoftonline.com/error?code=%d", aadsts);
    cJSON_AddStringToObject(o, "error_uri", uri);
    free(desc);
    azs_header(resp, "x-ms-request-id", trace);
    resp_body(resp, status, o);
}

char *azs_query(const struct server_req *req, const char *name)
{
    const char *p = req->raw_query;
    size_t nl = strlen(name);
    while (p && *p) {
        size_t len = strcspn(p, "&");
        const char *eq = memchr(p, '=', len);
        size_t klen = eq ? (size_t)(eq - p) : len;
        char *key = server_url_decode(p, klen, true);
        bool hit = key && strlen(key) == nl && strcasecmp(key, name) == 0;
        free(key);
        if (hit)
            return eq ? server_url_decode(eq + 1, len - klen - 1, true) : xstrdup("");
        p += len;
        if (*p == '&')
            p++;
    }
    return NULL;
}

/* ---- placeholders ---- */

static char *replace_all(const char *s, const char *from, const char *to)
{
    struct idw_buf b = {0};
    size_t fl = strlen(from);
    const char *hit;
    while ((hit = strstr(s, from))) {
        buf_append(&b, s, (size_t)(hit - s));
        buf_puts(&b, to);
        s = hit + fl;
    }
    buf_puts(&b, s);
    return b.data;
}

static void expand(cJSON *node, const char *const (*subst)[2], size_t n)
{
    for (cJSON *c = node ? node->child : NULL; c; c = c->next) {
        if (cJSON_IsString(c) && strstr(c->valuestring, "${")) {
            char *v = xstrdup(c->valuestring);
            for (size_t i = 0; i < n; i++) {
                char *w = replace_all(v, subst[i][0], subst[i][1]);
                free(v);
                v = w;
            }
            size_t len = strlen(v);
            char *dst = cJSON_malloc(len + 1);
            if (!dst)
                abort();
            memcpy(dst, v, len + 1);
            cJSON_free(c->valuestring);
            c->valuestring = dst;
            free(v);
        } else {
            expand(c, subst, n);
        }
    }
}

/* ---- setup ---- */

static bool uuid_like(const char *s, size_t n)
{
    if (n != 36)
        return false;
    for (size_t i = 0; i < n; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? s[i] != '-' : !strchr("0123456789abcdefABCDEF", s[i]))
            return false;
    }
    return true;
}

/* The AKS issuer ends in /<tenant>/<uuid>/: the public issuer keeps both, so the simulated
 * one reads like the scenario's. */
static void issuer_parts(const char *iss, char *tenant, char *uuid)
{
    if (!iss)
        return;
    const char *seg[8];
    size_t len[8], n = 0;
    const char *p = strstr(iss, "://");
    p = p ? strchr(p + 3, '/') : NULL;
    while (p && *p) {
        while (*p == '/')
            p++;
        size_t l = strcspn(p, "/");
        if (l == 0)
            break;
        if (n == 8)
            memmove(seg, seg + 1, 7 * sizeof *seg), memmove(len, len + 1, 7 * sizeof *len), n--;
        seg[n] = p;
        len[n++] = l;
        p += l;
    }
    if (n >= 1 && uuid_like(seg[n - 1], len[n - 1]))
        snprintf(uuid, 37, "%.*s", (int)len[n - 1], seg[n - 1]);
    if (n >= 2 && uuid_like(seg[n - 2], len[n - 2]))
        snprintf(tenant, 37, "%.*s", (int)len[n - 2], seg[n - 2]);
}

static void copy_str(char *dst, size_t cap, const char *v, const char *dflt)
{
    snprintf(dst, cap, "%s", v ? v : dflt);
}

static double num_or(const cJSON *o, const char *key, double dflt)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : dflt;
}

static void bucket_init(struct azs_bucket *b, double max, double refill)
{
    b->level = b->max = max;
    b->refill = refill;
}

static int other_key_make(struct azure_sim *a, struct idw_err *err)
{
    EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    if (!k)
        return idw_err_set(err, "azure: RSA key generation failed");
    a->other_n = server_b64url_bn(k, OSSL_PKEY_PARAM_RSA_N);
    a->other_e = server_b64url_bn(k, OSSL_PKEY_PARAM_RSA_E);
    EVP_PKEY_free(k);
    return a->other_n && a->other_e ? 0 : idw_err_set(err, "azure: RSA parameters");
}

static void issuer_setup(struct azure_sim *a, const cJSON *az, const char *cluster_issuer)
{
    const cJSON *mc = cJSON_GetObjectItemCaseSensitive(az, "managedCluster");
    const cJSON *en = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(mc, "oidcIssuerProfile"), "enabled");
    if (!cJSON_IsTrue(en))
        return;
    const cJSON *pi = cJSON_GetObjectItemCaseSensitive(az, "publicIssuer");
    char tenant[37], uuid[37];
    copy_str(tenant, sizeof tenant, a->tenant, "");
    copy_str(uuid, sizeof uuid, "5c3d7f0e-9a41-4b8e-8f21-6d0c2e7a9b14", "");
    issuer_parts(cluster_issuer, tenant, uuid);
    const char *t = json_path_str(pi, "tenantId"), *u = json_path_str(pi, "uuid");
    if (t && strlen(t) < sizeof tenant && !strpbrk(t, "/?#%"))
        copy_str(tenant, sizeof tenant, t, "");
    if (u && strlen(u) < sizeof uuid && !strpbrk(u, "/?#%"))
        copy_str(uuid, sizeof uuid, u, "");
    snprintf(a->issuer_path, sizeof a->issuer_path, "/oidc/%s/%s/", tenant, uuid);
    snprintf(a->issuer, sizeof a->issuer, "%s%s", a->url, a->issuer_path);
    const char *keys = json_path_str(pi, "keys");
    a->keys = str_eq(keys, "different") ? AZS_KEYS_DIFFERENT
              : str_eq(keys, "none")    ? AZS_KEYS_NONE
                                        : AZS_KEYS_CLUSTER;
}

int azure_sim_new(struct server *srv, struct azure_sim **out, struct idw_err *err)
{
    struct azure_sim *a = xcalloc(1, sizeof *a);
    a->srv = srv;
    pthread_mutex_init(&a->mu, NULL);
    snprintf(a->url, sizeof a->url, "%s", srv->url);
    sim_lock(srv->sim);
    const cJSON *sc = sim_scenario(srv->sim);
    const cJSON *az = cJSON_GetObjectItemCaseSensitive(sc, "azure");
    a->az = az ? cJSON_Duplicate(az, true) : cJSON_CreateObject();
    const char *cluster_tenant =
        json_path_str(cJSON_GetObjectItemCaseSensitive(sc, "cluster"), "tenantId");
    copy_str(a->tenant, sizeof a->tenant, json_path_str(a->az, "tenantId"),
             cluster_tenant ? cluster_tenant : AZS_DEFAULT_TENANT);
    copy_str(a->subscription, sizeof a->subscription, json_path_str(a->az, "subscriptionId"), "");
    issuer_setup(a, a->az, sim_issuer(srv->sim));
    if (a->issuer[0])
        sim_set_issuer(srv->sim, a->issuer);
    sim_unlock(srv->sim);

    /* ${ISSUER} and friends: the port is known only now */
    char no_slash[256];
    snprintf(no_slash, sizeof no_slash, "%s", a->issuer);
    size_t l = strlen(no_slash);
    if (l && no_slash[l - 1] == '/')
        no_slash[l - 1] = '\0';
    const char *const subst[][2] = {
        {"${ISSUER}", a->issuer}, {"${ISSUER_NO_SLASH}", no_slash}, {"${SIM_URL}", a->url}};
    expand(a->az, subst, COUNT(subst));
    const char *claimed =
        json_path_str(cJSON_GetObjectItemCaseSensitive(a->az, "publicIssuer"), "issuer");
    a->issuer_claimed = xstrdup(claimed ? claimed : a->issuer);

    const cJSON *pr = cJSON_GetObjectItemCaseSensitive(a->az, "principal");
    copy_str(a->sp_client_id, sizeof a->sp_client_id, json_path_str(pr, "clientId"),
             "e6f2b8a4-1d3c-4b5e-9f70-8a1b2c3d4e5f");
    copy_str(a->sp_object_id, sizeof a->sp_object_id, json_path_str(pr, "objectId"),
             "f7a3c9b5-2e4d-4c6f-8a81-9b2c3d4e5f60");
    copy_str(a->sp_name, sizeof a->sp_name, json_path_str(pr, "name"), "idwatch-reader");
    server_random_hex(a->sp_secret, 20);
    a->page_size = (int)num_or(a->az, "pageSize", AZS_DEFAULT_PAGE);
    a->token_lifetime_s = (int64_t)num_or(a->az, "tokenLifetime", AZS_DEFAULT_LIFETIME);
    if (a->token_lifetime_s < 1)
        a->token_lifetime_s = 1;
    const cJSON *rl = cJSON_GetObjectItemCaseSensitive(a->az, "rateLimit");
    bucket_init(&a->reads, num_or(rl, "reads", 250), num_or(rl, "readsPerSecond", 25));
    bucket_init(&a->writes, num_or(rl, "writes", 200), num_or(rl, "writesPerSecond", 10));
    bucket_init(&a->deletes, num_or(rl, "deletes", 200), num_or(rl, "writesPerSecond", 10));
    a->bucket_ms = time_now_ms();
    if (azs_principal_init(a, err) != 0 ||
        (a->keys == AZS_KEYS_DIFFERENT && other_key_make(a, err) != 0)) {
        azure_sim_free(a);
        return -1;
    }
    azs_token_issue(a, AZS_AUD_ARM, 0, a->cli_arm);
    azs_token_issue(a, AZS_AUD_GRAPH, 0, a->cli_graph);
    *out = a;
    return 0;
}

void azure_sim_free(struct azure_sim *a)
{
    if (!a)
        return;
    azs_principal_free(a);
    OPENSSL_cleanse(a->sp_secret, sizeof a->sp_secret);
    OPENSSL_cleanse(a->tokens, a->cap_tokens * sizeof *a->tokens);
    free(a->tokens);
    cJSON_Delete(a->az);
    free(a->issuer_claimed);
    free(a->other_n);
    free(a->other_e);
    pthread_mutex_destroy(&a->mu);
    free(a);
}

const char *azure_sim_issuer(const struct azure_sim *a)
{
    return a->issuer;
}

/* ---- the state directory ---- */

static int put_file(const char *dir, const char *name, const char *content, mode_t mode,
                    struct idw_err *err)
{
    char path[4096], tmp[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    snprintf(tmp, sizeof tmp, "%s/.%s.tmp", dir, name);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0)
        return idw_err_set(err, "%s: %s", tmp, strerror(errno));
    size_t len = strlen(content), off = 0;
    while (off < len) {
        ssize_t w = write(fd, content + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            close(fd);
            unlink(tmp);
            return idw_err_set(err, "%s: %s", tmp, strerror(errno));
        }
        off += (size_t)w;
    }
    if (close(fd) != 0 || rename(tmp, path) != 0) {
        unlink(tmp);
        return idw_err_set(err, "%s: %s", path, strerror(errno));
    }
    return 0;
}

/* Single-quoted for sh (paths may hold anything but a NUL). */
static void sh_quote(struct idw_buf *b, const char *s)
{
    buf_puts(b, "'");
    for (; *s; s++) {
        if (*s == '\'')
            buf_puts(b, "'\\''");
        else
            buf_append(b, s, 1);
    }
    buf_puts(b, "'");
}

static void env_line(struct idw_buf *b, const char *name, const char *value)
{
    buf_printf(b, "export %s=", name);
    if (value[0] && strspn(value, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                                  ":/._-") == strlen(value))
        buf_puts(b, value); /* plain values stay plain: easy to read for tools too */
    else
        sh_quote(b, value);
    buf_puts(b, "\n");
}

int azure_sim_write_state(struct azure_sim *a, const char *dir, struct idw_err *err)
{
    struct idw_buf b = {0};
    char path[4096];
    buf_printf(&b,
               "# idwatch-sim: Azure endpoints and credentials for idwatch (ARM, Microsoft Graph\n"
               "# and Entra ID are served by the simulator itself). Source this file.\n"
               "# Service principal %s (client id %s) signs in with the secret below; for the\n"
               "# certificate path use AZURE_CLIENT_CERTIFICATE_PATH=%s/client.pem (certificate\n"
               "# and key; client.key holds the key alone) instead of AZURE_CLIENT_SECRET.\n"
               "# %s/az stands in for the Azure CLI (IDWATCH_AZ=%s/az) with tokens of this run.\n",
               a->sp_name, a->sp_client_id, dir, dir, dir);
    env_line(&b, "AZURE_TENANT_ID", a->tenant);
    env_line(&b, "AZURE_CLIENT_ID", a->sp_client_id);
    env_line(&b, "AZURE_CLIENT_SECRET", a->sp_secret);
    env_line(&b, "AZURE_AUTHORITY_HOST", a->url);
    env_line(&b, "IDWATCH_ARM_ENDPOINT", a->url);
    env_line(&b, "IDWATCH_GRAPH_ENDPOINT", a->url);
    snprintf(path, sizeof path, "%s/ca.crt", dir);
    env_line(&b, "IDWATCH_CA_FILE", path);
    if (a->subscription[0])
        env_line(&b, "AZURE_SUBSCRIPTION_ID", a->subscription);
    int rc = put_file(dir, "azure.env", b.data, 0600, err);
    OPENSSL_cleanse(b.data, b.len);
    buf_reset(&b);
    buf_puts(&b, a->cert_pem);
    buf_puts(&b, a->key_pem);
    if (rc == 0)
        rc = put_file(dir, "client.pem", b.data, 0600, err);
    OPENSSL_cleanse(b.data, b.len);
    buf_reset(&b);
    if (rc == 0)
        rc = put_file(dir, "client.key", a->key_pem, 0600, err);
    /* the az stand-in: `az account get-access-token -o json [--resource R | --scope S]` */
    buf_printf(&b,
               "#!/bin/sh\n"
               "# idwatch-sim: `az account get-access-token -o json` with this run's tokens (ARM,\n"
               "# or Microsoft Graph when --resource/--scope names graph). Written at start.\n"
               "case \"$1 $2\" in\n"
               "\"account get-access-token\") ;;\n"
               "*) echo \"ERROR: 'az $1 $2' is not in this stand-in\" >&2; exit 2 ;;\n"
               "esac\n"
               "tok=%s\n"
               "for a in \"$@\"; do\n"
               "    case \"$a\" in *graph.microsoft.com*) tok=%s ;; esac\n"
               "done\n"
               "exp=$(($(date +%%s) + 3599))\n"
               "lt=$(date -d \"@$exp\" '+%%Y-%%m-%%d %%H:%%M:%%S')\n"
               "printf '{\\n  \"accessToken\": \"%%s\",\\n  \"expiresOn\": \"%%s.000000\",\\n"
               "  \"expires_on\": %%s,\\n  \"subscription\": \"%s\",\\n  \"tenant\": \"%s\",\\n"
               "  \"tokenType\": \"Bearer\"\\n}\\n' \"$tok\" \"$lt\" \"$exp\"\n",
               a->cli_arm, a->cli_graph, a->subscription, a->tenant);
    if (rc == 0)
        rc = put_file(dir, "az", b.data, 0700, err);
    OPENSSL_cleanse(b.data, b.len);
    buf_free(&b);
    return rc;
}

/* ---- routing ---- */

static bool is_token_path(const char *p)
{
    /* /{tenant}/oauth2/v2.0/token */
    if (p[0] != '/')
        return false;
    size_t t = strcspn(p + 1, "/");
    return t > 0 && t <= 64 && strcmp(p + 1 + t, "/oauth2/v2.0/token") == 0;
}

bool azure_sim_match(const struct server_req *req)
{
    const char *p = req->path;
    if (!req->srv->azure)
        return false;
    return str_eq(p, "/subscriptions") || str_has_prefix(p, "/subscriptions/") ||
           str_has_prefix(p, "/v1.0/") || str_has_prefix(p, "/oidc/") || is_token_path(p);
}

enum server_class azure_sim_classify(const struct server_req *req)
{
    const char *p = req->path;
    if (str_has_prefix(p, "/subscriptions"))
        return SERVER_CLASS_ARM;
    if (str_has_prefix(p, "/v1.0/"))
        return SERVER_CLASS_GRAPH;
    if (str_has_prefix(p, "/oidc/"))
        return SERVER_CLASS_OIDC;
    if (is_token_path(p))
        return SERVER_CLASS_TOKEN;
    return SERVER_CLASS_OTHER;
}

/* The public issuer (what Entra ID reads): discovery and JWKS, no authentication. */
static void issuer_handle(struct azure_sim *a, struct server_req *req, struct server_resp *resp)
{
    const char *rest = a->issuer_path[0] && str_has_prefix(req->path, a->issuer_path)
                           ? req->path + strlen(a->issuer_path)
                           : NULL;
    bool disc = rest && str_eq(rest, ".well-known/openid-configuration");
    bool jwks = rest && str_eq(rest, "openid/v1/jwks");
    if (!disc && !jwks) {
        resp->status = 404;
        resp->content_type = "text/plain";
        buf_puts(&resp->body, "The specified resource does not exist.\n");
        return;
    }
    if (req->method != SERVER_M_GET && req->method != SERVER_M_HEAD) {
        resp->status = 405;
        resp->content_type = "text/plain";
        buf_puts(&resp->body, "The requested method is not allowed.\n");
        return;
    }
    cJSON *o = cJSON_CreateObject();
    if (disc) {
        char *jwks_uri = xasprintf("%sopenid/v1/jwks", a->issuer);
        cJSON_AddStringToObject(o, "issuer", a->issuer_claimed);
        cJSON_AddStringToObject(o, "jwks_uri", jwks_uri);
        free(jwks_uri);
        cJSON *x = cJSON_AddArrayToObject(o, "response_types_supported");
        cJSON_AddItemToArray(x, cJSON_CreateString("id_token"));
        x = cJSON_AddArrayToObject(o, "subject_types_supported");
        cJSON_AddItemToArray(x, cJSON_CreateString("public"));
        x = cJSON_AddArrayToObject(o, "id_token_signing_alg_values_supported");
        cJSON_AddItemToArray(x, cJSON_CreateString("RS256"));
    } else {
        const struct server_tls *t = &req->srv->tls;
        cJSON *keys = cJSON_AddArrayToObject(o, "keys");
        if (a->keys != AZS_KEYS_NONE) {
            cJSON *k = cJSON_CreateObject();
            cJSON_AddStringToObject(k, "use", "sig");
            cJSON_AddStringToObject(k, "kty", "RSA");
            cJSON_AddStringToObject(k, "kid", t->oidc_kid); /* same kid, maybe other material */
            cJSON_AddStringToObject(k, "alg", "RS256");
            bool other = a->keys == AZS_KEYS_DIFFERENT;
            cJSON_AddStringToObject(k, "n", other ? a->other_n : t->oidc_n);
            cJSON_AddStringToObject(k, "e", other ? a->other_e : t->oidc_e);
            cJSON_AddItemToArray(keys, k);
        }
    }
    resp_json(resp, 200, o);
    resp->cache_control = "public, max-age=3600";
}

void azure_sim_handle(struct server_req *req, struct server_resp *resp)
{
    struct azure_sim *a = req->srv->azure;
    switch (req->cls) {
    case SERVER_CLASS_ARM: azs_arm_handle(a, req, resp); break;
    case SERVER_CLASS_GRAPH: azs_graph_handle(a, req, resp); break;
    case SERVER_CLASS_TOKEN: azs_token_handle(a, req, resp); break;
    default: issuer_handle(a, req, resp); break;
    }
}

static const struct {
    int status;
    const char *arm, *graph, *entra;
} fault_codes[] = {
    {429, "TooManyRequests", "TooManyRequests", "temporarily_unavailable"},
    {500, "InternalServerError", "generalException", "server_error"},
    {502, "BadGateway", "serviceNotAvailable", "temporarily_unavailable"},
    {503, "ServiceUnavailable", "serviceNotAvailable", "temporarily_unavailable"},
    {504, "GatewayTimeout", "timeout", "temporarily_unavailable"},
    {410, "Gone", "resourceGone", "invalid_request"},
    {403, "AuthorizationFailed", "Authorization_RequestDenied", "unauthorized_client"},
};

void azure_sim_fault_body(struct server_req *req, struct server_resp *resp)
{
    struct azure_sim *a = req->srv->azure;
    const char *arm = "InternalServerError", *graph = "generalException", *entra = "server_error";
    for (size_t i = 0; i < COUNT(fault_codes); i++)
        if (fault_codes[i].status == resp->status) {
            arm = fault_codes[i].arm;
            graph = fault_codes[i].graph;
            entra = fault_codes[i].entra;
        }
    int st = resp->status;
    switch (req->cls) {
    case SERVER_CLASS_ARM:
        azs_arm_ids(req, resp);
        if (st == 403)
            azs_arm_error(resp, st, arm,
                          "The client does not have authorization to perform this action "
                          "(injected by idwatch-sim).");
        else if (st == 429)
            azs_arm_error(resp, st, arm,
                          "The request is being throttled as the limit has been reached for "
                          "operation type - Read_ObservationWindow_00:05:00. For more information, "
                          "see - https://aka.ms/srpthrottlinglimits");
        else
            azs_arm_error(resp, st, arm,
                          "The server encountered an internal error (injected by idwatch-sim). "
                          "Please retry the request.");
        break;
    case SERVER_CLASS_GRAPH:
        azs_graph_error(resp, st, graph, "The service is busy (injected by idwatch-sim).");
        break;
    case SERVER_CLASS_TOKEN:
        azs_token_error(a, resp, st, entra, 90033,
                        "A transient error has occurred. Please try again.");
        break;
    default: break; /* the public issuer: the Status body is as good as any */
    }
}
