/* azure_sim_token: the Entra ID side of the simulator: the service principal (secret and
 * certificate), the v2.0 token endpoint for client credentials (client_secret, or a client
 * assertion JWT signed PS256/RS256 with the registered certificate) and the tokens it handed out,
 * which ARM and Graph then accept. Errors carry Entra's shape and AADSTS numbers. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/bn.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "azure_sim_int.h"

#define AZS_MAX_TOKENS 4096
#define AZS_MAX_FORM (64u * 1024)
#define AZS_CLOCK_SKEW 300 /* seconds Entra tolerates on nbf/exp */
#define JWT_BEARER "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

/* ---- the principal's certificate ---- */

static char *pem_of(int (*write)(BIO *, void *), void *obj)
{
    BIO *b = BIO_new(BIO_s_mem());
    if (!b || !write(b, obj)) {
        BIO_free(b);
        return NULL;
    }
    char *p;
    long n = BIO_get_mem_data(b, &p);
    char *s = xstrndup(p, (size_t)n);
    BIO_free(b);
    return s;
}

static int write_cert(BIO *b, void *x)
{
    return PEM_write_bio_X509(b, x);
}

static int write_key(BIO *b, void *k)
{
    return PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL);
}

int azs_principal_init(struct azure_sim *a, struct idw_err *err)
{
    a->sp_key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    X509 *c = X509_new();
    bool ok = a->sp_key && c;
    unsigned char serial[16];
    ok = ok && RAND_bytes(serial, sizeof serial) == 1;
    if (ok)
        serial[0] &= 0x7f;
    BIGNUM *bn = ok ? BN_bin2bn(serial, sizeof serial, NULL) : NULL;
    ok = ok && bn && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(c));
    BN_free(bn);
    ok = ok && X509_set_version(c, 2);
    ok = ok && X509_gmtime_adj(X509_getm_notBefore(c), -3600);
    ok = ok && X509_gmtime_adj(X509_getm_notAfter(c), 365L * 24 * 3600);
    ok = ok && X509_set_pubkey(c, a->sp_key);
    X509_NAME *name = ok ? X509_get_subject_name(c) : NULL;
    ok = ok && X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                          (const unsigned char *)a->sp_name, -1, -1, 0);
    ok = ok && X509_set_issuer_name(c, name);
    ok = ok && X509_sign(c, a->sp_key, EVP_sha256()) > 0;
    if (!ok) {
        X509_free(c);
        unsigned long e = ERR_get_error();
        ERR_clear_error();
        return idw_err_set(err, "azure: principal certificate: %s",
                           e ? ERR_reason_error_string(e) : "failed");
    }
    a->sp_cert = c;
    unsigned int n = 0;
    X509_digest(c, EVP_sha256(), a->thumb_s256, &n);
    X509_digest(c, EVP_sha1(), a->thumb_s1, &n);
    a->cert_pem = pem_of(write_cert, c);
    a->key_pem = pem_of(write_key, a->sp_key);
    if (!a->cert_pem || !a->key_pem)
        return idw_err_set(err, "azure: principal certificate: PEM encoding failed");
    return 0;
}

void azs_principal_free(struct azure_sim *a)
{
    EVP_PKEY_free(a->sp_key);
    X509_free(a->sp_cert);
    if (a->key_pem)
        OPENSSL_cleanse(a->key_pem, strlen(a->key_pem));
    free(a->key_pem);
    free(a->cert_pem);
    a->sp_key = NULL;
    a->sp_cert = NULL;
    a->key_pem = a->cert_pem = NULL;
}

/* ---- tokens handed out ---- */

void azs_token_issue(struct azure_sim *a, int aud, int64_t lifetime_s, char *out)
{
    server_random_hex(out, 32);
    int64_t now = time_now_ms();
    pthread_mutex_lock(&a->mu);
    size_t k = 0;
    for (size_t i = 0; i < a->n_tokens; i++) /* forget expired ones */
        if (!a->tokens[i].expires_ms || a->tokens[i].expires_ms > now)
            a->tokens[k++] = a->tokens[i];
    a->n_tokens = k;
    if (a->n_tokens >= AZS_MAX_TOKENS) { /* the oldest expiring one goes */
        size_t drop = 0;
        while (drop < a->n_tokens && !a->tokens[drop].expires_ms)
            drop++;
        if (drop == a->n_tokens)
            drop = 0;
        memmove(a->tokens + drop, a->tokens + drop + 1,
                (a->n_tokens - drop - 1) * sizeof *a->tokens);
        a->n_tokens--;
    }
    xgrow((void **)&a->tokens, &a->cap_tokens, a->n_tokens + 1, sizeof *a->tokens);
    struct azs_token *t = &a->tokens[a->n_tokens++];
    snprintf(t->token, sizeof t->token, "%s", out);
    t->aud = aud;
    t->expires_ms = lifetime_s > 0 ? now + lifetime_s * 1000 : 0;
    pthread_mutex_unlock(&a->mu);
}

int azs_token_check(struct azure_sim *a, const char *bearer, int aud)
{
    size_t n = bearer ? strlen(bearer) : 0;
    if (n != 64)
        return 1;
    int rc = 1;
    int64_t now = time_now_ms();
    pthread_mutex_lock(&a->mu);
    for (size_t i = 0; i < a->n_tokens; i++) {
        const struct azs_token *t = &a->tokens[i];
        if (CRYPTO_memcmp(t->token, bearer, n) != 0)
            continue;
        rc = t->expires_ms && t->expires_ms <= now ? 2 : t->aud != aud ? 3 : 0;
        break;
    }
    pthread_mutex_unlock(&a->mu);
    return rc;
}

/* ---- form bodies ---- */

static const struct {
    const char *key;
    size_t off;
} form_keys[] = {
    {"grant_type", offsetof(struct azure_sim_form, grant_type)},
    {"client_id", offsetof(struct azure_sim_form, client_id)},
    {"client_secret", offsetof(struct azure_sim_form, client_secret)},
    {"client_assertion_type", offsetof(struct azure_sim_form, client_assertion_type)},
    {"client_assertion", offsetof(struct azure_sim_form, client_assertion)},
    {"scope", offsetof(struct azure_sim_form, scope)},
};

int azure_sim_form_parse(const char *body, size_t len, struct azure_sim_form *out)
{
    memset(out, 0, sizeof *out);
    if (len > AZS_MAX_FORM)
        return -1;
    size_t i = 0;
    while (i < len) {
        const char *p = body + i;
        const char *amp = memchr(p, '&', len - i);
        size_t n = amp ? (size_t)(amp - p) : len - i;
        const char *eq = memchr(p, '=', n);
        size_t kl = eq ? (size_t)(eq - p) : n;
        char *key = server_url_decode(p, kl, true);
        char *val = eq ? server_url_decode(eq + 1, n - kl - 1, true) : xstrdup("");
        if (!key || !val) {
            free(key);
            free(val);
            azure_sim_form_free(out);
            return -1;
        }
        char **slot = NULL;
        for (size_t k = 0; k < sizeof form_keys / sizeof *form_keys; k++)
            if (strcmp(key, form_keys[k].key) == 0)
                slot = (char **)((char *)out + form_keys[k].off);
        free(key);
        if (slot && *slot) { /* a repeated parameter: Entra refuses those */
            free(val);
            azure_sim_form_free(out);
            return -1;
        }
        if (slot)
            *slot = val;
        else
            free(val);
        i += n + 1;
    }
    return 0;
}

void azure_sim_form_free(struct azure_sim_form *f)
{
    for (size_t k = 0; k < sizeof form_keys / sizeof *form_keys; k++) {
        char **slot = (char **)((char *)f + form_keys[k].off);
        if (*slot)
            OPENSSL_cleanse(*slot, strlen(*slot));
        free(*slot);
        *slot = NULL;
    }
}

/* ---- client assertions ---- */

static cJSON *b64_json(const char *s, size_t n)
{
    unsigned char *raw = NULL;
    size_t rl = 0;
    if (n == 0 || server_b64_decode(s, n, &raw, &rl) != 0)
        return NULL;
    cJSON *j = cJSON_ParseWithLength((const char *)raw, rl);
    free(raw);
    if (j && !cJSON_IsObject(j)) {
        cJSON_Delete(j);
        j = NULL;
    }
    return j;
}

static bool thumb_is(const cJSON *hdr, const char *name, const unsigned char *want, size_t wl)
{
    const char *v = json_path_str(hdr, name);
    unsigned char *raw = NULL;
    size_t rl = 0;
    if (!v || !want || server_b64_decode(v, strlen(v), &raw, &rl) != 0)
        return false;
    bool same = rl == wl && CRYPTO_memcmp(raw, want, wl) == 0;
    free(raw);
    return same;
}

static bool aud_ok(const cJSON *aud, const char *want)
{
    if (cJSON_IsString(aud))
        return str_eq(aud->valuestring, want);
    const cJSON *x;
    cJSON_ArrayForEach(x, aud)
    {
        if (cJSON_IsString(x) && str_eq(x->valuestring, want))
            return true;
    }
    return false;
}

static bool sig_ok(EVP_PKEY *key, bool pss, const char *data, size_t dl, const unsigned char *sig,
                   size_t sl)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    bool ok = ctx && EVP_DigestVerifyInit(ctx, &pctx, EVP_sha256(), NULL, key) == 1;
    if (ok && pss)
        ok = EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
             EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) == 1;
    ok = ok && EVP_DigestVerify(ctx, sig, sl, (const unsigned char *)data, dl) == 1;
    EVP_MD_CTX_free(ctx);
    ERR_clear_error();
    return ok;
}

static int why_set(char *why, size_t n, int code, const char *msg)
{
    snprintf(why, n, "%s", msg);
    return code;
}

int azure_sim_assertion_verify(const char *jwt, const struct azure_sim_assertion_rules *r,
                               char *why, size_t why_len)
{
    const char *d1 = strchr(jwt, '.');
    const char *d2 = d1 ? strchr(d1 + 1, '.') : NULL;
    if (!d1 || !d2 || strchr(d2 + 1, '.') || d2[1] == '\0' || strlen(jwt) > AZS_MAX_FORM)
        return why_set(why, why_len, 50027, "JWT token is invalid or malformed.");
    cJSON *hdr = b64_json(jwt, (size_t)(d1 - jwt));
    cJSON *claims = b64_json(d1 + 1, (size_t)(d2 - d1 - 1));
    unsigned char *sig = NULL;
    size_t sl = 0;
    int rc = 0;
    const char *alg = json_path_str(hdr, "alg");
    if (!hdr || !claims || server_b64_decode(d2 + 1, strlen(d2 + 1), &sig, &sl) != 0) {
        rc = why_set(why, why_len, 50027, "JWT token is invalid or malformed.");
    } else if (!str_eq(alg, "PS256") && !str_eq(alg, "RS256")) {
        rc = why_set(why, why_len, 50027,
                     "JWT token is invalid or malformed: unsupported signing algorithm.");
    } else if (!thumb_is(hdr, "x5t#S256", r->thumb_s256, 32) &&
               !thumb_is(hdr, "x5t", r->thumb_s1, 20)) {
        rc = why_set(why, why_len, 700027,
                     "Client assertion failed signature validation. [Reason - The key was not "
                     "found.]");
    } else if (!sig_ok(r->key, str_eq(alg, "PS256"), jwt, (size_t)(d2 - jwt), sig, sl)) {
        rc = why_set(why, why_len, 700027,
                     "Client assertion failed signature validation. [Reason - The provided "
                     "signature value did not match the expected signature value.]");
    } else if (!aud_ok(cJSON_GetObjectItemCaseSensitive(claims, "aud"), r->audience)) {
        rc = why_set(why, why_len, 50027,
                     "JWT token is invalid or malformed: the audience is not this token "
                     "endpoint.");
    } else if (!str_eq(json_path_str(claims, "iss"), r->client_id) ||
               !str_eq(json_path_str(claims, "sub"), r->client_id)) {
        rc = why_set(why, why_len, 50027,
                     "JWT token is invalid or malformed: iss and sub must be the client id.");
    } else {
        const cJSON *exp = cJSON_GetObjectItemCaseSensitive(claims, "exp");
        const cJSON *nbf = cJSON_GetObjectItemCaseSensitive(claims, "nbf");
        if (!cJSON_IsNumber(exp) || exp->valuedouble + AZS_CLOCK_SKEW < (double)r->now ||
            (cJSON_IsNumber(nbf) && nbf->valuedouble - AZS_CLOCK_SKEW > (double)r->now))
            rc = why_set(why, why_len, 700024,
                         "Client assertion is not within its valid time range.");
    }
    free(sig);
    cJSON_Delete(hdr);
    cJSON_Delete(claims);
    return rc;
}

/* ---- the token endpoint ---- */

/* The resource of a "<resource>/.default" scope: AZS_AUD_*, 0 unknown, -1 not a .default. */
static int scope_audience(const char *scope, char *res, size_t res_len)
{
    static const struct {
        const char *resource;
        int aud;
    } resources[] = {
        {"https://management.azure.com", AZS_AUD_ARM},
        {"https://management.core.windows.net", AZS_AUD_ARM},
        {"https://graph.microsoft.com", AZS_AUD_GRAPH},
    };
    char *copy = xstrdup(scope), *save = NULL;
    int aud = -1;
    res[0] = '\0';
    for (char *t = strtok_r(copy, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
        if (str_eq(t, "openid") || str_eq(t, "profile") || str_eq(t, "offline_access"))
            continue;
        str_sanitize(res, res_len, t);
        if (!str_has_suffix(t, "/.default")) {
            aud = -1;
            break;
        }
        t[strlen(t) - strlen("/.default")] = '\0';
        size_t l = strlen(t);
        if (l && t[l - 1] == '/')
            t[l - 1] = '\0';
        aud = 0;
        for (size_t i = 0; i < sizeof resources / sizeof *resources; i++)
            if (strcasecmp(t, resources[i].resource) == 0)
                aud = resources[i].aud;
        break;
    }
    free(copy);
    return aud;
}

/* Entra's error answer; returns 0 so that handlers can end with it. */
static int terr(struct azure_sim *a, struct server_resp *resp, int status, const char *error,
                int aadsts, const char *text)
{
    azs_token_error(a, resp, status, error, aadsts, text);
    return 0;
}

static int token_answer(struct azure_sim *a, struct server_resp *resp, int aud)
{
    char tok[65];
    azs_token_issue(a, aud, a->token_lifetime_s, tok);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "token_type", "Bearer");
    cJSON_AddNumberToObject(o, "expires_in", (double)a->token_lifetime_s);
    cJSON_AddNumberToObject(o, "ext_expires_in", (double)a->token_lifetime_s);
    cJSON_AddStringToObject(o, "access_token", tok);
    OPENSSL_cleanse(tok, sizeof tok);
    char id[37];
    azs_random_uuid(id);
    azs_header(resp, "x-ms-request-id", id);
    resp->cache_control = "no-store, no-cache";
    resp_json(resp, 200, o);
    resp->content_type = "application/json; charset=utf-8";
    return 0;
}

static int token_request(struct azure_sim *a, struct server_req *req, struct server_resp *resp,
                         const struct azure_sim_form *f)
{
    char msg[512], safe[160];
    if (!f->grant_type)
        return terr(a, resp, 400, "invalid_request", 900144,
                    "The request body must contain the following parameter: "
                    "'grant_type'.");
    if (!str_eq(f->grant_type, "client_credentials")) {
        str_sanitize(safe, sizeof safe, f->grant_type);
        snprintf(msg, sizeof msg, "The app requested an unsupported grant type '%s'.", safe);
        return terr(a, resp, 400, "unsupported_grant_type", 70003, msg);
    }
    if (!f->client_id)
        return terr(a, resp, 400, "invalid_request", 900144,
                    "The request body must contain the following parameter: "
                    "'client_id'.");
    if (strcasecmp(f->client_id, a->sp_client_id) != 0) {
        str_sanitize(safe, sizeof safe, f->client_id);
        snprintf(msg, sizeof msg,
                 "Application with identifier '%s' was not found in the directory '%s'. This can "
                 "happen if the application has not been installed by the administrator of the "
                 "tenant or consented to by any user in the tenant.",
                 safe, a->tenant);
        return terr(a, resp, 400, "unauthorized_client", 700016, msg);
    }
    if (!f->scope)
        return terr(a, resp, 400, "invalid_request", 900144,
                    "The request body must contain the following parameter: "
                    "'scope'.");
    int aud = scope_audience(f->scope, safe, sizeof safe);
    if (aud < 0) {
        snprintf(msg, sizeof msg,
                 "The provided value for scope %s is not valid. Client credential flows must "
                 "have a scope value with /.default suffixed to the resource identifier "
                 "(application ID URI).",
                 safe);
        return terr(a, resp, 400, "invalid_scope", 1002012, msg);
    }
    if (aud == 0) {
        snprintf(msg, sizeof msg,
                 "The resource principal named %s was not found in the tenant named %s.", safe,
                 a->tenant);
        return terr(a, resp, 400, "invalid_resource", 500011, msg);
    }
    if (f->client_secret) {
        size_t n = strlen(f->client_secret);
        if (n != strlen(a->sp_secret) || CRYPTO_memcmp(f->client_secret, a->sp_secret, n) != 0) {
            snprintf(msg, sizeof msg,
                     "Invalid client secret provided. Ensure the secret being sent in the "
                     "request is the client secret value, not the client secret ID, for a secret "
                     "added to app '%s'.",
                     a->sp_client_id);
            return terr(a, resp, 401, "invalid_client", 7000215, msg);
        }
        return token_answer(a, resp, aud);
    }
    if (!f->client_assertion)
        return terr(a, resp, 401, "invalid_client", 7000218,
                    "The request body must contain the following parameter: "
                    "'client_assertion' or 'client_secret'.");
    if (!str_eq(f->client_assertion_type, JWT_BEARER))
        return terr(a, resp, 400, "invalid_request", 700025,
                    "Client assertion type is missing or not supported: expected "
                    "'" JWT_BEARER "'.");
    char *endpoint = xasprintf("%s%s", a->url, req->path);
    struct azure_sim_assertion_rules rules = {.key = a->sp_key,
                                              .thumb_s256 = a->thumb_s256,
                                              .thumb_s1 = a->thumb_s1,
                                              .audience = endpoint,
                                              .client_id = a->sp_client_id,
                                              .now = time_now()};
    int code = azure_sim_assertion_verify(f->client_assertion, &rules, msg, sizeof msg);
    free(endpoint);
    if (code)
        return terr(a, resp, code == 50027 ? 400 : 401,
                    code == 50027 ? "invalid_request" : "invalid_client", code, msg);
    return token_answer(a, resp, aud);
}

static int token_handle(struct azure_sim *a, struct server_req *req, struct server_resp *resp)
{
    if (req->method != SERVER_M_POST) {
        char msg[128];
        snprintf(msg, sizeof msg,
                 "The endpoint only accepts POST, OPTIONS requests. Received a %s "
                 "request.",
                 req->method_str ? req->method_str : "?");
        return terr(a, resp, 400, "invalid_request", 900561, msg);
    }
    const char *tenant = req->path + 1;
    size_t tl = strcspn(tenant, "/");
    if (tl != strlen(a->tenant) || strncasecmp(tenant, a->tenant, tl) != 0) {
        char safe[80], msg[256];
        char *t = xstrndup(tenant, tl);
        str_sanitize(safe, sizeof safe, t);
        free(t);
        snprintf(msg, sizeof msg,
                 "Tenant '%s' not found. Check to make sure you have the correct tenant ID and "
                 "are signing into the correct cloud.",
                 safe);
        return terr(a, resp, 400, "invalid_request", 90002, msg);
    }
    if (!req->content_type ||
        strncasecmp(req->content_type, "application/x-www-form-urlencoded", 33) != 0)
        return terr(a, resp, 400, "invalid_request", 900144,
                    "The request body must contain the following parameter: "
                    "'grant_type'.");
    struct azure_sim_form f;
    if (azure_sim_form_parse(req->body.data ? req->body.data : "", req->body.len, &f) != 0)
        return terr(a, resp, 400, "invalid_request", 90014,
                    "The request body is not a valid form (bad escape or a repeated "
                    "parameter).");
    token_request(a, req, resp, &f);
    azure_sim_form_free(&f);
    return 0;
}

void azs_token_handle(struct azure_sim *a, struct server_req *req, struct server_resp *resp)
{
    token_handle(a, req, resp);
}
