/* Token responses (Entra ID, managed identity, az CLI), form encoding, and certificate client
 * assertions (PS256, x5t#S256) signed with OpenSSL. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "idwatch/azure.h"

/* Locale-independent (the program may run in a UTF-8 locale for ncurses). */
static bool ascii_alnum(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

#define MAX_TOKEN_LEN (64 * 1024)

static const char *const cred_names[] = {
#define X(id, name, sdk) name,
    AZURE_CREDENTIALS(X)
#undef X
};

const char *azure_cred_name(enum azure_cred_kind k)
{
    return k < AZURE_CRED__COUNT ? cred_names[k] : "?";
}

void azure_token_free(struct azure_token *t)
{
    if (t->access_token) {
        OPENSSL_cleanse(t->access_token, strlen(t->access_token));
        free(t->access_token);
    }
    free(t->subscription);
    free(t->tenant);
    memset(t, 0, sizeof *t);
}

/* A number given as JSON number or decimal string; -1 when neither. */
static int json_int64(const cJSON *v, int64_t *out)
{
    if (cJSON_IsNumber(v)) {
        if (v->valuedouble < 0 || v->valuedouble > 1e15)
            return -1;
        *out = (int64_t)v->valuedouble;
        return 0;
    }
    if (cJSON_IsString(v) && v->valuestring && *v->valuestring) {
        char *end;
        long long x = strtoll(v->valuestring, &end, 10);
        if (*end || x < 0)
            return -1;
        *out = x;
        return 0;
    }
    return -1;
}

static int token_string(const cJSON *root, const char *name, struct azure_token *out,
                        struct idw_err *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, name);
    if (!cJSON_IsString(v) || !v->valuestring || !*v->valuestring)
        return idw_err_set(err, "token response has no \"%s\"", name);
    size_t n = strlen(v->valuestring);
    if (n > MAX_TOKEN_LEN)
        return idw_err_set(err, "token response: \"%s\" is implausibly long", name);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)v->valuestring[i] <= ' ' || (unsigned char)v->valuestring[i] >= 0x7F)
            return idw_err_set(err, "token response: \"%s\" has bytes a token cannot have", name);
    out->access_token = xstrdup(v->valuestring);
    return 0;
}

int azure_parse_token_response(const char *body, size_t len, int64_t now, struct azure_token *out,
                               struct idw_err *err)
{
    memset(out, 0, sizeof *out);
    cJSON *root = cJSON_ParseWithLength(body, len);
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return idw_err_set(err, "token response is not a JSON object");
    }
    int64_t x;
    if (token_string(root, "access_token", out, err) != 0) {
        cJSON_Delete(root);
        return -1;
    }
    if (json_int64(cJSON_GetObjectItemCaseSensitive(root, "expires_on"), &x) == 0 && x > 0)
        out->expires_on = x;
    else if (json_int64(cJSON_GetObjectItemCaseSensitive(root, "expires_in"), &x) == 0)
        out->expires_on = now + x;
    cJSON_Delete(root);
    if (out->expires_on <= 0) {
        azure_token_free(out);
        return idw_err_set(err, "token response has neither expires_in nor expires_on");
    }
    return 0;
}

/* "2024-01-01 19:23:16.000000" (local time, no zone) -> epoch. */
static int parse_local_time(const char *s, int64_t *out)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    int consumed = 0;
    if (sscanf(s, "%4d-%2d-%2d %2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
               &tm.tm_min, &tm.tm_sec, &consumed) != 6)
        return -1;
    const char *rest = s + consumed;
    if (*rest == '.')
        for (rest++; isdigit((unsigned char)*rest); rest++)
            ;
    if (*rest || tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 ||
        tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60)
        return -1;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    tm.tm_isdst = -1;
    time_t t = mktime(&tm);
    if (t == (time_t)-1)
        return -1;
    *out = (int64_t)t;
    return 0;
}

int azure_parse_cli_token(const char *text, size_t len, struct azure_token *tok,
                          struct idw_err *err)
{
    memset(tok, 0, sizeof *tok);
    cJSON *root = cJSON_ParseWithLength(text, len);
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return idw_err_set(err, "az printed something that is not a JSON object");
    }
    if (token_string(root, "accessToken", tok, err) != 0) {
        cJSON_Delete(root);
        return idw_err_prefix(err, "az output");
    }
    int64_t x;
    const cJSON *on = cJSON_GetObjectItemCaseSensitive(root, "expires_on");
    const cJSON *local = cJSON_GetObjectItemCaseSensitive(root, "expiresOn");
    if (json_int64(on, &x) == 0 && x > 0) {
        tok->expires_on = x;
    } else if (cJSON_IsString(local) && local->valuestring) {
        int64_t t;
        int32_t ns;
        if (parse_local_time(local->valuestring, &t) == 0 ||
            time_parse_rfc3339(local->valuestring, &t, &ns) == 0) /* Cloud Shell */
            tok->expires_on = t;
    }
    const cJSON *sub = cJSON_GetObjectItemCaseSensitive(root, "subscription");
    const cJSON *ten = cJSON_GetObjectItemCaseSensitive(root, "tenant");
    if (cJSON_IsString(sub) && sub->valuestring && strlen(sub->valuestring) < 128)
        tok->subscription = xstrdup(sub->valuestring);
    if (cJSON_IsString(ten) && ten->valuestring && strlen(ten->valuestring) < 128)
        tok->tenant = xstrdup(ten->valuestring);
    cJSON_Delete(root);
    if (tok->expires_on <= 0) {
        azure_token_free(tok);
        return idw_err_set(err, "az output has no readable expires_on/expiresOn");
    }
    return 0;
}

void azure_describe_token_error(long status, const char *body, size_t len, char *out, size_t n)
{
    cJSON *root = body ? cJSON_ParseWithLength(body, len) : NULL;
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(root, "error");
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(root, "error_description");
    char code[96] = "", desc[300] = "";
    if (cJSON_IsString(e) && e->valuestring)
        str_sanitize(code, sizeof code, e->valuestring);
    if (cJSON_IsString(d) && d->valuestring) {
        char tmp[300];
        snprintf(tmp, sizeof tmp, "%s", d->valuestring);
        tmp[strcspn(tmp, "\r\n")] = '\0'; /* drop Trace ID / Correlation ID lines */
        char *trace = strstr(tmp, " Trace ID");
        if (trace)
            *trace = '\0';
        str_sanitize(desc, sizeof desc, tmp);
    } else if (cJSON_IsObject(e)) { /* App Service / ARM-style {"error":{...}} */
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(e, "message");
        if (cJSON_IsString(m) && m->valuestring)
            str_sanitize(desc, sizeof desc, m->valuestring);
    }
    cJSON_Delete(root);
    if (code[0] && desc[0])
        snprintf(out, n, "HTTP %ld %s: %s", status, code, desc);
    else if (code[0] || desc[0])
        snprintf(out, n, "HTTP %ld %s", status, code[0] ? code : desc);
    else
        snprintf(out, n, "HTTP %ld", status);
}

char *azure_form_encode(const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = s ? strlen(s) : 0;
    char *out = xmalloc(n * 3 + 1), *o = out;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (ascii_alnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
            *o++ = (char)c;
        } else {
            *o++ = '%';
            *o++ = hex[c >> 4];
            *o++ = hex[c & 15];
        }
    }
    *o = '\0';
    return out;
}

/* ---- certificates ---- */

struct azure_cert {
    X509 *cert;
    EVP_PKEY *key;
    char thumb_s256[64]; /* base64(SHA-256(DER)) */
};

static int ssl_fail(struct idw_err *err, const char *path, const char *what)
{
    unsigned long e = ERR_peek_last_error();
    char reason[256] = "no detail";
    if (e)
        ERR_error_string_n(e, reason, sizeof reason);
    ERR_clear_error();
    return idw_err_set(err, "%s: %s (%s)", path, what, reason);
}

int azure_cert_load(const char *path, const char *password, struct azure_cert **out,
                    struct idw_err *err)
{
    char *data;
    size_t len;
    if (file_read_all(path, 1 << 20, &data, &len, err) != 0)
        return -1;
    struct azure_cert *c = xcalloc(1, sizeof *c);
    ERR_clear_error();
    BIO *bio = BIO_new_mem_buf(data, (int)len);
    c->cert = PEM_read_bio_X509(bio, NULL, NULL, (void *)password);
    BIO_free(bio);
    if (c->cert) {
        bio = BIO_new_mem_buf(data, (int)len);
        c->key = PEM_read_bio_PrivateKey(bio, NULL, NULL, (void *)(password ? password : ""));
        BIO_free(bio);
        if (!c->key) {
            free(data);
            azure_cert_free(c);
            return ssl_fail(err, path, "no readable private key");
        }
    } else {
        ERR_clear_error();
        bio = BIO_new_mem_buf(data, (int)len);
        PKCS12 *p12 = d2i_PKCS12_bio(bio, NULL);
        BIO_free(bio);
        if (!p12) {
            free(data);
            azure_cert_free(c);
            return ssl_fail(err, path, "neither a PEM certificate nor PKCS#12");
        }
        int ok = PKCS12_parse(p12, password ? password : "", &c->key, &c->cert, NULL);
        PKCS12_free(p12);
        if (!ok || !c->cert || !c->key) {
            free(data);
            azure_cert_free(c);
            return ssl_fail(err, path, "cannot open the PKCS#12 file");
        }
    }
    OPENSSL_cleanse(data, len);
    free(data);
    if (EVP_PKEY_get_base_id(c->key) != EVP_PKEY_RSA) {
        azure_cert_free(c);
        return idw_err_set(err, "%s: the private key is not RSA (Entra ID needs RS256/PS256)",
                           path);
    }
    if (X509_check_private_key(c->cert, c->key) != 1) {
        azure_cert_free(c);
        return ssl_fail(err, path, "the private key does not belong to the certificate");
    }
    unsigned char md[32];
    unsigned int mdlen = 0;
    X509_digest(c->cert, EVP_sha256(), md, &mdlen);
    EVP_EncodeBlock((unsigned char *)c->thumb_s256, md, (int)mdlen);
    *out = c;
    return 0;
}

void azure_cert_free(struct azure_cert *c)
{
    if (!c)
        return;
    X509_free(c->cert);
    EVP_PKEY_free(c->key);
    free(c);
}

static void uuid4(char out[37])
{
    unsigned char b[16];
    if (RAND_bytes(b, sizeof b) != 1)
        for (size_t i = 0; i < sizeof b; i++)
            b[i] = (unsigned char)rand();
    b[6] = (unsigned char)((b[6] & 0x0F) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3F) | 0x80);
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
             b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
             b[14], b[15]);
}

static char *json_b64(cJSON *obj)
{
    char *s = cJSON_PrintUnformatted(obj);
    char *b = b64_encode(s, strlen(s), true);
    cJSON_free(s);
    return b;
}

char *azure_cert_assertion(const struct azure_cert *c, const char *client_id, const char *token_url,
                           int64_t now, struct idw_err *err)
{
    cJSON *hdr = cJSON_CreateObject();
    cJSON_AddStringToObject(hdr, "alg", "PS256");
    cJSON_AddStringToObject(hdr, "typ", "JWT");
    cJSON_AddStringToObject(hdr, "x5t#S256", c->thumb_s256);
    char jti[37];
    uuid4(jti);
    cJSON *cl = cJSON_CreateObject();
    cJSON_AddStringToObject(cl, "aud", token_url);
    cJSON_AddStringToObject(cl, "iss", client_id);
    cJSON_AddStringToObject(cl, "sub", client_id);
    cJSON_AddStringToObject(cl, "jti", jti);
    cJSON_AddNumberToObject(cl, "nbf", (double)now);
    cJSON_AddNumberToObject(cl, "exp", (double)(now + 600));
    char *h64 = json_b64(hdr), *c64 = json_b64(cl);
    cJSON_Delete(hdr);
    cJSON_Delete(cl);
    char *input = xasprintf("%s.%s", h64, c64);
    free(h64);
    free(c64);

    EVP_MD_CTX *md = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    unsigned char *sig = NULL;
    size_t siglen = 0;
    char *jwt = NULL;
    if (!md || EVP_DigestSignInit(md, &pctx, EVP_sha256(), NULL, c->key) != 1 ||
        EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
        EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1 ||
        EVP_DigestSign(md, NULL, &siglen, (const unsigned char *)input, strlen(input)) != 1) {
        ssl_fail(err, "client assertion", "cannot sign");
        goto out;
    }
    sig = xmalloc(siglen);
    if (EVP_DigestSign(md, sig, &siglen, (const unsigned char *)input, strlen(input)) != 1) {
        ssl_fail(err, "client assertion", "cannot sign");
        goto out;
    }
    char *s64 = b64_encode(sig, siglen, true);
    jwt = xasprintf("%s.%s", input, s64);
    free(s64);
out:
    EVP_MD_CTX_free(md);
    free(sig);
    free(input);
    return jwt;
}
