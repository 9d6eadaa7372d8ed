/* idwatch-sim's Azure side end to end, in process, over real TLS on 127.0.0.1: the Entra ID token
 * endpoint (secret, PS256/RS256 certificate assertions, refusals), ARM (auth, api-version,
 * paging by nextLink, federated credential PUT/DELETE rules, 403 on forbidden identities, rate
 * limit headers and 429), Graph (app registrations, 403), the public OIDC issuer against the
 * cluster's own keys (equal in demo, diverging when the scenario says so), /_sim/stats counting
 * token POSTs as harmless and FIC PUTs as writes, the arm fault class, the az stand-in, and the
 * scenario checks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <cmocka.h>
#include <cjson/cJSON.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/socket.h>

#include "azure_sim.h"
#include "idwatch/core.h"
#include "server.h"
#include "server_parse.h"
#include "simstate.h"

/* ---- an in-process simulator ---- */

#define MAX_ENV 16

struct fx {
    struct sim *sim;
    struct server *srv;
    char dir[64];
    char *env_name[MAX_ENV], *env_value[MAX_ENV];
    size_t n_env;
    char kube_token[128];
    SSL_CTX *ctx;
    char arm_token[80], graph_token[80];
};

static struct fx demo, keys;

static const char *env(const struct fx *f, const char *name)
{
    for (size_t i = 0; i < f->n_env; i++)
        if (strcmp(f->env_name[i], name) == 0)
            return f->env_value[i];
    return NULL;
}

static int read_state(struct fx *f)
{
    char path[128], *text;
    size_t len;
    struct idw_err err = {{0}};
    snprintf(path, sizeof path, "%s/azure.env", f->dir);
    if (file_read_all(path, 1 << 16, &text, &len, &err) != 0)
        return -1;
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *eq = strchr(line, '=');
        if (strncmp(line, "export ", 7) != 0 || !eq || f->n_env == MAX_ENV)
            continue;
        f->env_name[f->n_env] = xstrndup(line + 7, (size_t)(eq - line - 7));
        f->env_value[f->n_env++] = xstrdup(eq + 1);
    }
    free(text);
    snprintf(path, sizeof path, "%s/kubeconfig", f->dir);
    if (file_read_all(path, 1 << 20, &text, &len, &err) != 0)
        return -1;
    const char *t = strstr(text, "\n    token: ");
    int ok = t && sscanf(t, "\n    token: %127s", f->kube_token) == 1;
    free(text);
    return ok ? 0 : -1;
}

static int fx_start(struct fx *f, const char *scenario)
{
    memset(f, 0, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/idw-azsim.XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    struct sim_options so = {.scenario = scenario,
                             .scenarios_dir = IDW_SOURCE_DIR "/tests/sim/scenarios",
                             .speed = 1,
                             .seed = 1,
                             .frozen = true};
    struct idw_err err = {{0}};
    if (sim_new(&so, &f->sim, &err) != 0) {
        fprintf(stderr, "sim_new: %s\n", err.msg);
        return -1;
    }
    struct server_options opt = {.port = 0, .state_dir = f->dir, .exec_plugin = "/bin/true"};
    if (server_start(f->sim, &opt, &f->srv, &err) != 0) {
        fprintf(stderr, "server_start: %s\n", err.msg);
        return -1;
    }
    if (read_state(f) != 0)
        return -1;
    f->ctx = SSL_CTX_new(TLS_client_method());
    char path[128];
    snprintf(path, sizeof path, "%s/ca.crt", f->dir);
    SSL_CTX_load_verify_locations(f->ctx, path, NULL);
    SSL_CTX_set_verify(f->ctx, SSL_VERIFY_PEER, NULL);
    return 0;
}

static void fx_stop(struct fx *f)
{
    server_stop(f->srv);
    sim_free(f->sim);
    SSL_CTX_free(f->ctx);
    for (size_t i = 0; i < f->n_env; i++) {
        free(f->env_name[i]);
        free(f->env_value[i]);
    }
    static const char *const files[] = {"kubeconfig", "ca.crt",     "azure.env",
                                        "client.pem", "client.key", "az"};
    char path[128];
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        snprintf(path, sizeof path, "%s/%s", f->dir, files[i]);
        unlink(path);
    }
    rmdir(f->dir);
}

/* ---- HTTP/1.0 over TLS ---- */

struct reply {
    int status;
    char *headers;
    char *body;
    cJSON *json;
};

static void reply_free(struct reply *r)
{
    free(r->headers);
    free(r->body);
    cJSON_Delete(r->json);
    memset(r, 0, sizeof *r);
}

static void http(struct fx *f, const char *method, const char *target, const char *headers,
                 const char *body, struct reply *out)
{
    memset(out, 0, sizeof *out);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(server_port(f->srv))};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    SSL *ssl = SSL_new(f->ctx);
    SSL_set_fd(ssl, fd);
    assert_int_equal(SSL_connect(ssl), 1);
    struct idw_buf req = {0};
    buf_printf(&req, "%s %s HTTP/1.0\r\nHost: 127.0.0.1\r\n%s", method, target,
               headers ? headers : "");
    if (body)
        buf_printf(&req, "Content-Length: %zu\r\n", strlen(body));
    buf_puts(&req, "\r\n");
    if (body)
        buf_puts(&req, body);
    SSL_write(ssl, req.data, (int)req.len);
    buf_free(&req);
    struct idw_buf resp = {0};
    char chunk[16384];
    int n;
    while ((n = SSL_read(ssl, chunk, sizeof chunk)) > 0)
        buf_append(&resp, chunk, (size_t)n);
    SSL_free(ssl);
    close(fd);
    ERR_clear_error();
    char *sep = resp.data ? strstr(resp.data, "\r\n\r\n") : NULL;
    assert_non_null(sep);
    assert_int_equal(sscanf(resp.data, "HTTP/1.%*d %d", &out->status), 1);
    out->headers = xstrndup(resp.data, (size_t)(sep - resp.data));
    out->body = xstrdup(sep + 4);
    out->json = cJSON_Parse(out->body);
    buf_free(&resp);
}

/* A header's value (case-insensitive name) into out; false when absent. */
static bool header(const struct reply *r, const char *name, char *out, size_t n)
{
    size_t nl = strlen(name);
    for (const char *p = r->headers; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
        if (strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
            const char *v = p + nl + 1;
            while (*v == ' ')
                v++;
            size_t l = strcspn(v, "\r\n");
            snprintf(out, n, "%.*s", (int)l, v);
            return true;
        }
    }
    return false;
}

static const char *jstr(const cJSON *o, const char *dotted)
{
    char key[64];
    const char *p = dotted;
    while (o && *p) {
        size_t n = strcspn(p, ".");
        snprintf(key, sizeof key, "%.*s", (int)n, p);
        o = cJSON_GetObjectItemCaseSensitive(o, key);
        p += n + (p[n] == '.');
    }
    return cJSON_IsString(o) ? o->valuestring : NULL;
}

static char *replace(const char *s, const char *from, const char *to)
{
    struct idw_buf b = {0};
    const char *hit;
    while ((hit = strstr(s, from))) {
        buf_append(&b, s, (size_t)(hit - s));
        buf_puts(&b, to);
        s = hit + strlen(from);
    }
    buf_puts(&b, s);
    return b.data;
}

static void bearer_get(struct fx *f, const char *token, const char *target, struct reply *r)
{
    char h[256];
    snprintf(h, sizeof h, "Authorization: Bearer %s\r\n", token);
    http(f, "GET", target, h, NULL, r);
}

/* target is made absolute-path from an absolute nextLink. */
static const char *path_of(const char *url)
{
    const char *p = strstr(url, "://");
    return p ? strchr(p + 3, '/') : url;
}

/* ---- tokens ---- */

static void token_post(struct fx *f, const char *form, struct reply *r)
{
    char target[160];
    snprintf(target, sizeof target, "/%s/oauth2/v2.0/token", env(f, "AZURE_TENANT_ID"));
    http(f, "POST", target, "Content-Type: application/x-www-form-urlencoded\r\n", form, r);
}

static void token_with_secret(struct fx *f, const char *scope, char *out, size_t n)
{
    char form[512];
    snprintf(form, sizeof form,
             "grant_type=client_credentials&client_id=%s&client_secret=%s&scope=%s",
             env(f, "AZURE_CLIENT_ID"), env(f, "AZURE_CLIENT_SECRET"), scope);
    struct reply r;
    token_post(f, form, &r);
    if (r.status != 200)
        fail_msg("token: %d %s", r.status, r.body);
    snprintf(out, n, "%s", jstr(r.json, "access_token"));
    reply_free(&r);
}

#define ARM_SCOPE "https%3A%2F%2Fmanagement.azure.com%2F.default"
#define GRAPH_SCOPE "https%3A%2F%2Fgraph.microsoft.com%2F.default"

static int group_setup(void **state)
{
    (void)state;
    if (fx_start(&demo, "demo") != 0)
        return -1;
    token_with_secret(&demo, ARM_SCOPE, demo.arm_token, sizeof demo.arm_token);
    token_with_secret(&demo, GRAPH_SCOPE, demo.graph_token, sizeof demo.graph_token);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    fx_stop(&demo);
    return 0;
}

static void test_token_secret(void **state)
{
    (void)state;
    struct reply r;
    char form[512];
    snprintf(form, sizeof form,
             "grant_type=client_credentials&client_id=%s&client_secret=%s&scope=%s",
             env(&demo, "AZURE_CLIENT_ID"), env(&demo, "AZURE_CLIENT_SECRET"), ARM_SCOPE);
    token_post(&demo, form, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(jstr(r.json, "token_type"), "Bearer");
    assert_true(cJSON_GetObjectItem(r.json, "expires_in")->valuedouble > 60);
    assert_int_equal(strlen(jstr(r.json, "access_token")), 64);
    reply_free(&r);

    static const struct {
        const char *form; /* {ID}, {SECRET} and {ARM} are filled in */
        int status;
        const char *error, *aadsts;
    } bad[] = {
        {"grant_type=client_credentials&client_id={ID}&client_secret={SECRET}-nope&scope={ARM}",
         401, "invalid_client", "AADSTS7000215"},
        {"grant_type=client_credentials&client_id={ID}&scope={ARM}", 401, "invalid_client",
         "AADSTS7000218"},
        {"grant_type=password&client_id={ID}&client_secret={SECRET}&scope={ARM}", 400,
         "unsupported_grant_type", "AADSTS70003"},
        {"grant_type=client_credentials&client_id={ID}&client_secret={SECRET}&scope=https%3A%2F%2F"
         "management.azure.com%2Fuser_impersonation",
         400, "invalid_scope", "AADSTS1002012"},
        {"grant_type=client_credentials&client_id={ID}&client_secret={SECRET}&scope=https%3A%2F%2F"
         "vault.azure.net%2F.default",
         400, "invalid_resource", "AADSTS500011"},
        {"grant_type=client_credentials&client_id={ID}&client_id={ID}&scope={ARM}", 400,
         "invalid_request", "AADSTS90014"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char *f1 = replace(bad[i].form, "{ID}", env(&demo, "AZURE_CLIENT_ID"));
        char *f2 = replace(f1, "{SECRET}", env(&demo, "AZURE_CLIENT_SECRET"));
        char *f3 = replace(f2, "{ARM}", ARM_SCOPE);
        token_post(&demo, f3, &r);
        free(f1);
        free(f2);
        free(f3);
        if (r.status != bad[i].status)
            fail_msg("case %zu: %d %s", i, r.status, r.body);
        assert_string_equal(jstr(r.json, "error"), bad[i].error);
        assert_true(str_has_prefix(jstr(r.json, "error_description"), bad[i].aadsts));
        assert_non_null(strstr(r.body, "\"trace_id\""));
        /* the secret never comes back */
        assert_null(strstr(r.body, env(&demo, "AZURE_CLIENT_SECRET")));
        reply_free(&r);
    }
    /* another tenant, another application */
    http(&demo, "POST", "/00000000-1111-2222-3333-444444444444/oauth2/v2.0/token",
         "Content-Type: application/x-www-form-urlencoded\r\n",
         "grant_type=client_credentials&client_id=x&client_secret=y&scope=https%3A%2F%2F"
         "management.azure.com%2F.default",
         &r);
    assert_int_equal(r.status, 400);
    assert_true(str_has_prefix(jstr(r.json, "error_description"), "AADSTS90002"));
    reply_free(&r);
    snprintf(form, sizeof form,
             "grant_type=client_credentials&client_id=11111111-2222-4333-8444-555555555555&"
             "client_secret=%s&scope=%s",
             env(&demo, "AZURE_CLIENT_SECRET"), ARM_SCOPE);
    token_post(&demo, form, &r);
    assert_int_equal(r.status, 400);
    assert_string_equal(jstr(r.json, "error"), "unauthorized_client");
    reply_free(&r);
    /* GET is refused */
    char target[160];
    snprintf(target, sizeof target, "/%s/oauth2/v2.0/token", env(&demo, "AZURE_TENANT_ID"));
    http(&demo, "GET", target, NULL, NULL, &r);
    assert_int_equal(r.status, 400);
    assert_true(str_has_prefix(jstr(r.json, "error_description"), "AADSTS900561"));
    reply_free(&r);
}

/* ---- client assertions, built here with OpenSSL ---- */

struct keypair {
    EVP_PKEY *key;
    X509 *cert;
};

static void load_client_pem(struct keypair *kp)
{
    char path[128];
    snprintf(path, sizeof path, "%s/client.pem", demo.dir);
    FILE *fp = fopen(path, "r");
    assert_non_null(fp);
    kp->cert = PEM_read_X509(fp, NULL, NULL, NULL);
    rewind(fp);
    kp->key = PEM_read_PrivateKey(fp, NULL, NULL, NULL);
    fclose(fp);
    assert_non_null(kp->cert);
    assert_non_null(kp->key);
}

static void make_other(struct keypair *kp)
{
    kp->key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    kp->cert = X509_new();
    X509_set_version(kp->cert, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(kp->cert), 7);
    X509_gmtime_adj(X509_getm_notBefore(kp->cert), -60);
    X509_gmtime_adj(X509_getm_notAfter(kp->cert), 3600);
    X509_set_pubkey(kp->cert, kp->key);
    X509_NAME *n = X509_get_subject_name(kp->cert);
    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)"intruder", -1, -1, 0);
    X509_set_issuer_name(kp->cert, n);
    assert_true(X509_sign(kp->cert, kp->key, EVP_sha256()) > 0);
}

static void keypair_free(struct keypair *kp)
{
    EVP_PKEY_free(kp->key);
    X509_free(kp->cert);
}

static char *b64url_str(const char *s)
{
    return server_b64url_encode(s, strlen(s));
}

/* alg PS256 (x5t#S256, standard base64 as MSAL writes it) or RS256 (x5t, base64url SHA-1). The
 * thumbprint names thumb_of, the signature is made with sign_with. */
static char *make_assertion(const char *alg, const struct keypair *thumb_of,
                            const struct keypair *sign_with, const char *aud, const char *client,
                            int64_t exp)
{
    bool pss = strcmp(alg, "PS256") == 0;
    unsigned char md[32];
    unsigned int mdl = 0;
    X509_digest(thumb_of->cert, pss ? EVP_sha256() : EVP_sha1(), md, &mdl);
    char thumb[64];
    char *t64 = NULL;
    if (pss)
        EVP_EncodeBlock((unsigned char *)thumb, md, (int)mdl);
    else
        t64 = server_b64url_encode(md, mdl);
    char *hdr = xasprintf("{\"alg\":\"%s\",\"typ\":\"JWT\",\"%s\":\"%s\"}", alg,
                          pss ? "x5t#S256" : "x5t", pss ? thumb : t64);
    free(t64);
    int64_t now = time_now();
    char *claims = xasprintf("{\"aud\":\"%s\",\"iss\":\"%s\",\"sub\":\"%s\",\"jti\":\"j-1\","
                             "\"nbf\":%lld,\"exp\":%lld}",
                             aud, client, client, (long long)now, (long long)exp);
    char *h64 = b64url_str(hdr), *c64 = b64url_str(claims);
    char *signing = xasprintf("%s.%s", h64, c64);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    assert_int_equal(EVP_DigestSignInit(ctx, &pctx, EVP_sha256(), NULL, sign_with->key), 1);
    if (pss) {
        EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING);
        EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST);
    }
    size_t sl = 0;
    EVP_DigestSign(ctx, NULL, &sl, (const unsigned char *)signing, strlen(signing));
    unsigned char *sig = xmalloc(sl);
    assert_int_equal(EVP_DigestSign(ctx, sig, &sl, (const unsigned char *)signing, strlen(signing)),
                     1);
    EVP_MD_CTX_free(ctx);
    char *s64 = server_b64url_encode(sig, sl);
    char *jwt = xasprintf("%s.%s", signing, s64);
    free(hdr);
    free(claims);
    free(h64);
    free(c64);
    free(signing);
    free(sig);
    free(s64);
    return jwt;
}

static int assertion_post(const char *jwt, const char *scope, struct reply *r)
{
    char *form = xasprintf("grant_type=client_credentials&client_id=%s&client_assertion_type="
                           "urn%%3Aietf%%3Aparams%%3Aoauth%%3Aclient-assertion-type%%3Ajwt-bearer"
                           "&client_assertion=%s&scope=%s",
                           env(&demo, "AZURE_CLIENT_ID"), jwt, scope);
    token_post(&demo, form, r);
    free(form);
    return r->status;
}

static void test_token_assertion(void **state)
{
    (void)state;
    struct keypair mine, other;
    load_client_pem(&mine);
    make_other(&other);
    const char *client = env(&demo, "AZURE_CLIENT_ID");
    char aud[192];
    snprintf(aud, sizeof aud, "%s/%s/oauth2/v2.0/token", env(&demo, "AZURE_AUTHORITY_HOST"),
             env(&demo, "AZURE_TENANT_ID"));
    int64_t exp = time_now() + 600;
    static const struct {
        const char *alg;
        bool thumb_other, sign_other, wrong_aud, expired;
        int status;
        const char *aadsts;
    } cases[] = {
        {"PS256", false, false, false, false, 200, NULL},
        {"RS256", false, false, false, false, 200, NULL},
        {"PS256", true, true, false, false, 401, "AADSTS700027"},  /* another certificate */
        {"PS256", false, true, false, false, 401, "AADSTS700027"}, /* forged signature */
        {"RS256", false, true, false, false, 401, "AADSTS700027"},
        {"PS256", false, false, true, false, 400, "AADSTS50027"},
        {"PS256", false, false, false, true, 401, "AADSTS700024"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char *jwt = make_assertion(
            cases[i].alg, cases[i].thumb_other ? &other : &mine,
            cases[i].sign_other ? &other : &mine,
            cases[i].wrong_aud ? "https://login.microsoftonline.com/x/oauth2/v2.0/token" : aud,
            client, cases[i].expired ? time_now() - 3600 : exp);
        struct reply r;
        if (assertion_post(jwt, ARM_SCOPE, &r) != cases[i].status)
            fail_msg("case %zu: %d %s", i, r.status, r.body);
        if (cases[i].aadsts)
            assert_true(str_has_prefix(jstr(r.json, "error_description"), cases[i].aadsts));
        else
            assert_int_equal(strlen(jstr(r.json, "access_token")), 64);
        reply_free(&r);
        free(jwt);
    }
    /* a token from an assertion works on ARM like one from the secret */
    char *jwt = make_assertion("PS256", &mine, &mine, aud, client, exp);
    struct reply r;
    assert_int_equal(assertion_post(jwt, ARM_SCOPE, &r), 200);
    char target[256];
    snprintf(target, sizeof target, "/subscriptions/%s?api-version=2022-12-01",
             env(&demo, "AZURE_SUBSCRIPTION_ID"));
    struct reply s;
    bearer_get(&demo, jstr(r.json, "access_token"), target, &s);
    assert_int_equal(s.status, 200);
    assert_string_equal(jstr(s.json, "subscriptionId"), env(&demo, "AZURE_SUBSCRIPTION_ID"));
    reply_free(&s);
    reply_free(&r);
    free(jwt);
    keypair_free(&mine);
    keypair_free(&other);
}

/* ---- ARM ---- */

static char *ids_url(const char *rg, const char *suffix)
{
    if (rg)
        return xasprintf("/subscriptions/%s/resourceGroups/%s/providers/Microsoft.ManagedIdentity/"
                         "userAssignedIdentities%s",
                         env(&demo, "AZURE_SUBSCRIPTION_ID"), rg, suffix);
    return xasprintf("/subscriptions/%s/providers/Microsoft.ManagedIdentity/"
                     "userAssignedIdentities%s",
                     env(&demo, "AZURE_SUBSCRIPTION_ID"), suffix);
}

static void test_arm_auth_and_version(void **state)
{
    (void)state;
    char *url = ids_url(NULL, "?api-version=2024-11-30");
    struct reply r;
    http(&demo, "GET", url, NULL, NULL, &r);
    assert_int_equal(r.status, 401);
    assert_string_equal(jstr(r.json, "error.code"), "AuthenticationFailed");
    char v[256];
    assert_true(header(&r, "WWW-Authenticate", v, sizeof v));
    reply_free(&r);
    bearer_get(&demo, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", url, &r);
    assert_int_equal(r.status, 401);
    assert_string_equal(jstr(r.json, "error.code"), "InvalidAuthenticationToken");
    reply_free(&r);
    bearer_get(&demo, demo.graph_token, url, &r); /* a Graph token is not for ARM */
    assert_int_equal(r.status, 401);
    assert_string_equal(jstr(r.json, "error.code"), "InvalidAuthenticationTokenAudience");
    reply_free(&r);
    /* the cluster's own bearer token is not an Azure token either */
    bearer_get(&demo, demo.kube_token, url, &r);
    assert_int_equal(r.status, 401);
    reply_free(&r);
    free(url);
    url = ids_url(NULL, "");
    bearer_get(&demo, demo.arm_token, url, &r);
    assert_int_equal(r.status, 400);
    assert_string_equal(jstr(r.json, "error.code"), "MissingApiVersionParameter");
    reply_free(&r);
    free(url);
    url = ids_url(NULL, "?api-version=2018-11-30"); /* identities exist there... */
    bearer_get(&demo, demo.arm_token, url, &r);
    assert_int_equal(r.status, 200);
    reply_free(&r);
    free(url);
    url = ids_url("rg-aks-demo", "/id-orders/federatedIdentityCredentials?api-version=2018-11-30");
    bearer_get(&demo, demo.arm_token, url, &r); /* ...federated credentials do not */
    assert_int_equal(r.status, 400);
    assert_string_equal(jstr(r.json, "error.code"), "InvalidApiVersionParameter");
    reply_free(&r);
    free(url);
    bearer_get(&demo, demo.arm_token,
               "/subscriptions/00000000-0000-0000-0000-000000000000/providers/"
               "Microsoft.ManagedIdentity/userAssignedIdentities?api-version=2024-11-30",
               &r);
    assert_int_equal(r.status, 404);
    assert_string_equal(jstr(r.json, "error.code"), "SubscriptionNotFound");
    reply_free(&r);
    url = ids_url("rg-nope", "?api-version=2024-11-30");
    bearer_get(&demo, demo.arm_token, url, &r);
    assert_int_equal(r.status, 404);
    assert_string_equal(jstr(r.json, "error.code"), "ResourceGroupNotFound");
    reply_free(&r);
    free(url);
    url = ids_url("rg-aks-demo", "/id-nope?api-version=2024-11-30");
    bearer_get(&demo, demo.arm_token, url, &r);
    assert_int_equal(r.status, 404);
    assert_string_equal(jstr(r.json, "error.code"), "ResourceNotFound");
    reply_free(&r);
    free(url);
}

static void test_arm_paging(void **state)
{
    (void)state;
    const cJSON *az = cJSON_GetObjectItem(sim_scenario(demo.sim), "azure");
    int want = cJSON_GetArraySize(cJSON_GetObjectItem(az, "userAssignedIdentities"));
    assert_true(want > 5);
    char *url = ids_url(NULL, "?api-version=2024-11-30");
    char target[1024];
    snprintf(target, sizeof target, "%s", url);
    free(url);
    int seen = 0, pages = 0;
    bool found_forbidden = false;
    for (;;) {
        struct reply r;
        bearer_get(&demo, demo.arm_token, target, &r);
        assert_int_equal(r.status, 200);
        char v[64];
        assert_true(header(&r, "x-ms-request-id", v, sizeof v));
        assert_int_equal(strlen(v), 36);
        assert_true(header(&r, "x-ms-ratelimit-remaining-subscription-reads", v, sizeof v));
        /* the bucket refills at 25/s here: the count-down itself is test_rate_limit's */
        assert_in_range(strtol(v, NULL, 10), 0, 249);
        cJSON *items = cJSON_GetObjectItem(r.json, "value");
        assert_true(cJSON_GetArraySize(items) <= 5);
        const cJSON *it;
        cJSON_ArrayForEach(it, items)
        {
            assert_string_equal(jstr(it, "type"),
                                "Microsoft.ManagedIdentity/userAssignedIdentities");
            assert_non_null(jstr(it, "properties.clientId"));
            found_forbidden |= str_eq(jstr(it, "name"), "id-payments-fx");
            seen++;
        }
        pages++;
        const char *next = jstr(r.json, "nextLink");
        if (!next) {
            reply_free(&r);
            break;
        }
        /* absolute, on this server, with the api-version and a skiptoken */
        char prefix[64];
        snprintf(prefix, sizeof prefix, "https://127.0.0.1:%u/", (unsigned)server_port(demo.srv));
        assert_true(str_has_prefix(next, prefix));
        assert_non_null(strstr(next, "api-version=2024-11-30"));
        assert_non_null(strstr(next, "$skiptoken="));
        snprintf(target, sizeof target, "%s", path_of(next));
        reply_free(&r);
    }
    assert_int_equal(seen, want);
    assert_int_equal(pages, (want + 4) / 5);
    assert_true(found_forbidden); /* listed: only its credentials are off limits */
    /* $top makes smaller pages; a bad skiptoken is refused */
    url = ids_url(NULL, "?api-version=2024-11-30&$top=2");
    struct reply r;
    bearer_get(&demo, demo.arm_token, url, &r);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(r.json, "value")), 2);
    assert_non_null(strstr(jstr(r.json, "nextLink"), "$top=2"));
    reply_free(&r);
    free(url);
    url = ids_url(NULL, "?api-version=2024-11-30&$skiptoken=garbage!");
    bearer_get(&demo, demo.arm_token, url, &r);
    assert_int_equal(r.status, 400);
    reply_free(&r);
    free(url);
    /* by resource group */
    url = ids_url("rg-finance", "?api-version=2024-11-30");
    bearer_get(&demo, demo.arm_token, url, &r);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(r.json, "value")), 1);
    reply_free(&r);
    free(url);
}

static void test_arm_cluster(void **state)
{
    (void)state;
    char target[256];
    snprintf(target, sizeof target,
             "/subscriptions/%s/providers/Microsoft.ContainerService/managedClusters?api-version="
             "2025-10-01",
             env(&demo, "AZURE_SUBSCRIPTION_ID"));
    struct reply r;
    bearer_get(&demo, demo.arm_token, target, &r);
    assert_int_equal(r.status, 200);
    const cJSON *c = cJSON_GetArrayItem(cJSON_GetObjectItem(r.json, "value"), 0);
    assert_string_equal(jstr(c, "name"), "aks-demo-weu");
    assert_string_equal(jstr(c, "properties.privateFQDN"), "127.0.0.1");
    assert_string_equal(jstr(c, "properties.fqdn"),
                        "aks-demo-weu-dns-4f2a1c3e.hcp.westeurope.azmk8s.io");
    /* the issuer ARM reports is the simulator's public issuer, which the cluster reports too */
    const char *iss = jstr(c, "properties.oidcIssuerProfile.issuerURL");
    char want[128];
    snprintf(want, sizeof want,
             "https://127.0.0.1:%u/oidc/72f988bf-86f1-41af-91ab-2d7cd011db47/"
             "5c3d7f0e-9a41-4b8e-8f21-6d0c2e7a9b14/",
             (unsigned)server_port(demo.srv));
    assert_string_equal(iss, want);
    sim_lock(demo.sim);
    assert_string_equal(sim_issuer(demo.sim), want);
    sim_unlock(demo.sim);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(
        cJSON_GetObjectItem(
            cJSON_GetObjectItem(cJSON_GetObjectItem(c, "properties"), "securityProfile"),
            "workloadIdentity"),
        "enabled")));
    reply_free(&r);
    /* get by id */
    snprintf(target, sizeof target,
             "/subscriptions/%s/resourceGroups/rg-aks-demo/providers/Microsoft.ContainerService/"
             "managedClusters/aks-demo-weu?api-version=2026-01-01",
             env(&demo, "AZURE_SUBSCRIPTION_ID"));
    bearer_get(&demo, demo.arm_token, target, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(jstr(r.json, "properties.oidcIssuerProfile.issuerURL"), want);
    reply_free(&r);
    /* placeholders: the classic mistake keeps its missing slash */
    char *url = ids_url("rg-aks-demo", "/id-orders/federatedIdentityCredentials/orders?"
                                       "api-version=2024-11-30");
    bearer_get(&demo, demo.arm_token, url, &r);
    assert_int_equal(r.status, 200);
    want[strlen(want) - 1] = '\0';
    assert_string_equal(jstr(r.json, "properties.issuer"), want);
    reply_free(&r);
    free(url);
}

static int put_fic(const char *identity, const char *name, const char *issuer, const char *subject,
                   struct reply *r)
{
    char *suffix =
        xasprintf("/%s/federatedIdentityCredentials/%s?api-version=2024-11-30", identity, name);
    char *url = ids_url("rg-aks-demo", suffix);
    char *body = xasprintf("{\"properties\":{\"issuer\":\"%s\",\"subject\":\"%s\","
                           "\"audiences\":[\"api://AzureADTokenExchange\"]}}",
                           issuer, subject);
    char h[256];
    snprintf(h, sizeof h, "Authorization: Bearer %s\r\nContent-Type: application/json\r\n",
             demo.arm_token);
    http(&demo, "PUT", url, h, body, r);
    free(suffix);
    free(url);
    free(body);
    return r->status;
}

static int del_fic(const char *identity, const char *name)
{
    char *suffix =
        xasprintf("/%s/federatedIdentityCredentials/%s?api-version=2024-11-30", identity, name);
    char *url = ids_url("rg-aks-demo", suffix);
    char h[256];
    snprintf(h, sizeof h, "Authorization: Bearer %s\r\n", demo.arm_token);
    struct reply r;
    http(&demo, "DELETE", url, h, NULL, &r);
    int st = r.status;
    reply_free(&r);
    free(suffix);
    free(url);
    return st;
}

static int fic_count(const char *identity)
{
    char *suffix =
        xasprintf("/%s/federatedIdentityCredentials?api-version=2024-11-30&$top=100", identity);
    char *url = ids_url("rg-aks-demo", suffix);
    struct reply r;
    bearer_get(&demo, demo.arm_token, url, &r);
    assert_int_equal(r.status, 200);
    int n = cJSON_GetArraySize(cJSON_GetObjectItem(r.json, "value"));
    reply_free(&r);
    free(suffix);
    free(url);
    return n;
}

static void test_arm_fic_rules(void **state)
{
    (void)state;
    char issuer[160];
    snprintf(issuer, sizeof issuer, "https://127.0.0.1:%u/oidc/x/y/",
             (unsigned)server_port(demo.srv));
    struct reply r;
    /* the name rule */
    static const char *const bad_names[] = {"ab", "-abc", "a.bc", "_abc"};
    for (size_t i = 0; i < sizeof bad_names / sizeof *bad_names; i++) {
        assert_int_equal(put_fic("id-data-catalog", bad_names[i], issuer, "s", &r), 400);
        assert_string_equal(jstr(r.json, "error.code"), "BadRequest");
        reply_free(&r);
    }
    char long_name[130];
    memset(long_name, 'a', 121);
    long_name[121] = '\0';
    assert_int_equal(put_fic("id-data-catalog", long_name, issuer, "s", &r), 400);
    reply_free(&r);
    long_name[120] = '\0';
    assert_int_equal(put_fic("id-data-catalog", long_name, issuer, "s-long", &r), 201);
    reply_free(&r);
    assert_int_equal(del_fic("id-data-catalog", long_name), 200);
    /* a body without audiences, an http issuer */
    assert_int_equal(put_fic("id-data-catalog", "ok-name", "http://x/", "s", &r), 400);
    reply_free(&r);
    /* create 201, same again 200 (update), GET it back */
    assert_int_equal(put_fic("id-data-catalog", "data-catalog", issuer,
                             "system:serviceaccount:data:data-catalog", &r),
                     201);
    assert_string_equal(
        jstr(r.json, "type"),
        "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials");
    assert_string_equal(jstr(r.json, "properties.issuer"), issuer);
    reply_free(&r);
    assert_int_equal(put_fic("id-data-catalog", "data-catalog", issuer,
                             "system:serviceaccount:data:data-catalog", &r),
                     200);
    reply_free(&r);
    assert_int_equal(fic_count("id-data-catalog"), 1);
    /* the issuer+subject pair is unique per identity */
    assert_int_equal(put_fic("id-data-catalog", "data-catalog-2", issuer,
                             "system:serviceaccount:data:data-catalog", &r),
                     400);
    assert_non_null(strstr(jstr(r.json, "error.message"), "data-catalog"));
    reply_free(&r);
    /* 20 per identity: id-shared already has 22, so nothing new, but updates go through */
    assert_int_equal(fic_count("id-shared"), 22);
    assert_int_equal(put_fic("id-shared", "team-new", issuer, "system:serviceaccount:n:n", &r),
                     400);
    assert_non_null(strstr(jstr(r.json, "error.message"), "Too many Federated Identity"));
    reply_free(&r);
    assert_int_equal(put_fic("id-shared", "cert-manager", issuer,
                             "system:serviceaccount:platform:cert-manager", &r),
                     200);
    reply_free(&r);
    /* fill one up to the limit: the 21st is refused */
    for (int i = 0; i < 19; i++) {
        char name[32], sub[64];
        snprintf(name, sizeof name, "fill-%02d", i);
        snprintf(sub, sizeof sub, "system:serviceaccount:fill:%d", i);
        assert_int_equal(put_fic("id-data-catalog", name, issuer, sub, &r), 201);
        reply_free(&r);
    }
    assert_int_equal(fic_count("id-data-catalog"), 20);
    assert_int_equal(put_fic("id-data-catalog", "fill-20", issuer, "x", &r), 400);
    reply_free(&r);
    /* DELETE: 200, then 204; GET after: 404 */
    for (int i = 0; i < 19; i++) {
        char name[32];
        snprintf(name, sizeof name, "fill-%02d", i);
        assert_int_equal(del_fic("id-data-catalog", name), 200);
    }
    assert_int_equal(del_fic("id-data-catalog", "data-catalog"), 200);
    assert_int_equal(del_fic("id-data-catalog", "data-catalog"), 204);
    assert_int_equal(fic_count("id-data-catalog"), 0);
    char *url = ids_url("rg-aks-demo", "/id-data-catalog/federatedIdentityCredentials/"
                                       "data-catalog?api-version=2024-11-30");
    bearer_get(&demo, demo.arm_token, url, &r);
    assert_int_equal(r.status, 404);
    reply_free(&r);
    free(url);
}

static void test_arm_forbidden(void **state)
{
    (void)state;
    char *url = xasprintf("/subscriptions/%s/resourceGroups/rg-finance/providers/"
                          "Microsoft.ManagedIdentity/userAssignedIdentities/id-payments-fx/"
                          "federatedIdentityCredentials?api-version=2024-11-30",
                          env(&demo, "AZURE_SUBSCRIPTION_ID"));
    struct reply r;
    bearer_get(&demo, demo.arm_token, url, &r);
    assert_int_equal(r.status, 403);
    assert_string_equal(jstr(r.json, "error.code"), "AuthorizationFailed");
    const char *m = jstr(r.json, "error.message");
    assert_non_null(strstr(m, "'Microsoft.ManagedIdentity/userAssignedIdentities/"
                              "federatedIdentityCredentials/read'"));
    assert_non_null(strstr(m,
                           "/resourcegroups/rg-finance/providers/Microsoft.ManagedIdentity/"
                           "userAssignedIdentities/id-payments-fx/federatedIdentityCredentials"));
    assert_non_null(strstr(m, env(&demo, "AZURE_CLIENT_ID")));
    reply_free(&r);
    free(url);
}

static void test_graph(void **state)
{
    (void)state;
    struct reply r;
    bearer_get(&demo, demo.graph_token,
               "/v1.0/applications(appId='b5d7f9a1-3c5e-4a7b-9d1f-4e6a8b0c2d3e')/"
               "federatedIdentityCredentials",
               &r);
    assert_int_equal(r.status, 200);
    const cJSON *f = cJSON_GetArrayItem(cJSON_GetObjectItem(r.json, "value"), 0);
    assert_string_equal(jstr(f, "subject"), "system:serviceaccount:orders:orders-webhooks");
    sim_lock(demo.sim);
    assert_string_equal(jstr(f, "issuer"), sim_issuer(demo.sim)); /* "${ISSUER}" expanded */
    sim_unlock(demo.sim);
    assert_string_equal(jstr(cJSON_GetArrayItem(cJSON_GetObjectItem(f, "audiences"), 0), ""),
                        "api://AzureADTokenExchange");
    reply_free(&r);
    /* by object id, and the application itself */
    bearer_get(&demo, demo.graph_token,
               "/v1.0/applications/c6e8a0b2-4d6f-4b8c-8e2a-5f7b9c1d3e4f/"
               "federatedIdentityCredentials",
               &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(r.json, "value")), 1);
    reply_free(&r);
    bearer_get(&demo, demo.graph_token,
               "/v1.0/applications(appId='b5d7f9a1-3c5e-4a7b-9d1f-4e6a8b0c2d3e')", &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(jstr(r.json, "displayName"), "orders-webhooks");
    reply_free(&r);
    /* forbidden, absent, wrong token */
    bearer_get(&demo, demo.graph_token,
               "/v1.0/applications(appId='d7f9b1c3-5e7a-4c9d-9f3b-6a8c0d2e4f5a')/"
               "federatedIdentityCredentials",
               &r);
    assert_int_equal(r.status, 403);
    assert_string_equal(jstr(r.json, "error.code"), "Authorization_RequestDenied");
    assert_non_null(jstr(r.json, "error.innerError.request-id"));
    reply_free(&r);
    bearer_get(&demo, demo.graph_token,
               "/v1.0/applications(appId='6b7fc0b8-92f4-4dad-9074-bf8b4cd3ce67')/"
               "federatedIdentityCredentials",
               &r);
    assert_int_equal(r.status, 404);
    assert_string_equal(jstr(r.json, "error.code"), "Request_ResourceNotFound");
    reply_free(&r);
    bearer_get(&demo, demo.arm_token,
               "/v1.0/applications(appId='b5d7f9a1-3c5e-4a7b-9d1f-4e6a8b0c2d3e')/"
               "federatedIdentityCredentials",
               &r);
    assert_int_equal(r.status, 401);
    assert_string_equal(jstr(r.json, "error.code"), "InvalidAuthenticationToken");
    reply_free(&r);
}

static void get_json_public(struct fx *f, const char *target, struct reply *r)
{
    http(f, "GET", target, NULL, NULL, r);
    assert_int_equal(r->status, 200);
    assert_non_null(r->json);
}

static void check_issuer(struct fx *f, bool keys_equal, bool issuer_claim_exact)
{
    sim_lock(f->sim);
    char *issuer = xstrdup(sim_issuer(f->sim));
    sim_unlock(f->sim);
    /* the API server's discovery says the same issuer */
    struct reply cd, cj, pd, pj;
    bearer_get(f, f->kube_token, "/.well-known/openid-configuration", &cd);
    assert_int_equal(cd.status, 200);
    assert_string_equal(jstr(cd.json, "issuer"), issuer);
    bearer_get(f, f->kube_token, "/openid/v1/jwks", &cj);
    assert_int_equal(cj.status, 200);
    char target[256];
    snprintf(target, sizeof target, "%s.well-known/openid-configuration", path_of(issuer));
    get_json_public(f, target, &pd);
    if (issuer_claim_exact) {
        assert_string_equal(jstr(pd.json, "issuer"), issuer);
    } else {
        assert_string_not_equal(jstr(pd.json, "issuer"), issuer);
        assert_true(strncmp(jstr(pd.json, "issuer"), issuer, strlen(issuer) - 1) == 0);
    }
    char jw[256];
    snprintf(jw, sizeof jw, "%sopenid/v1/jwks", issuer);
    assert_string_equal(jstr(pd.json, "jwks_uri"), jw);
    get_json_public(f, path_of(jw), &pj);
    const cJSON *ck = cJSON_GetArrayItem(cJSON_GetObjectItem(cj.json, "keys"), 0);
    const cJSON *pk = cJSON_GetArrayItem(cJSON_GetObjectItem(pj.json, "keys"), 0);
    assert_non_null(pk);
    assert_string_equal(jstr(ck, "kid"), jstr(pk, "kid"));
    assert_string_equal(jstr(ck, "e"), jstr(pk, "e"));
    if (keys_equal)
        assert_string_equal(jstr(ck, "n"), jstr(pk, "n"));
    else
        assert_string_not_equal(jstr(ck, "n"), jstr(pk, "n"));
    /* anything else under /oidc/ is not there */
    struct reply r;
    http(f, "GET", "/oidc/nope/.well-known/openid-configuration", NULL, NULL, &r);
    assert_int_equal(r.status, 404);
    reply_free(&r);
    reply_free(&cd);
    reply_free(&cj);
    reply_free(&pd);
    reply_free(&pj);
    free(issuer);
}

static void test_issuer_demo(void **state)
{
    (void)state;
    check_issuer(&demo, true, true);
}

static double stat_of(const char *path)
{
    struct reply r;
    http(&demo, "GET", "/_sim/stats", NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    const cJSON *o = r.json;
    char key[64];
    const char *p = path;
    while (o && *p) {
        size_t n = strcspn(p, ".");
        snprintf(key, sizeof key, "%.*s", (int)n, p);
        o = cJSON_GetObjectItemCaseSensitive(o, key);
        p += n + (p[n] == '.');
    }
    double v = cJSON_IsNumber(o) ? o->valuedouble : 0;
    reply_free(&r);
    return v;
}

static void test_stats(void **state)
{
    (void)state;
    double writes = stat_of("writes"), non_get = stat_of("non_get");
    double tokens = stat_of("requests.by_path_class.token");
    double posts = stat_of("requests.by_method.POST");
    char tok[80];
    token_with_secret(&demo, ARM_SCOPE, tok, sizeof tok);
    assert_true(stat_of("requests.by_path_class.token") == tokens + 1);
    assert_true(stat_of("requests.by_method.POST") == posts + 1);
    assert_true(stat_of("non_get") == non_get + 1);
    assert_true(stat_of("writes") == writes); /* a token request changes nothing */
    struct reply r;
    double arm = stat_of("requests.by_path_class.arm");
    char issuer[96];
    snprintf(issuer, sizeof issuer, "https://127.0.0.1:%u/oidc/a/b/",
             (unsigned)server_port(demo.srv));
    assert_int_equal(put_fic("id-data-catalog", "stats-probe", issuer, "s", &r), 201);
    reply_free(&r);
    assert_true(stat_of("writes") == writes + 1);
    assert_true(stat_of("requests.by_path_class.arm") == arm + 1);
    assert_int_equal(del_fic("id-data-catalog", "stats-probe"), 200);
    assert_true(stat_of("writes") == writes + 2);
}

static void test_faults(void **state)
{
    (void)state;
    struct reply r;
    http(&demo, "POST", "/_sim/faults", NULL, "arm:429=7x1,arm:5xx=503x1,arm:malformedx1", &r);
    assert_int_equal(r.status, 200);
    reply_free(&r);
    char *url = ids_url(NULL, "?api-version=2024-11-30");
    bearer_get(&demo, demo.arm_token, url, &r);
    assert_int_equal(r.status, 429);
    char v[64];
    assert_true(header(&r, "Retry-After", v, sizeof v));
    assert_string_equal(v, "7");
    assert_string_equal(jstr(r.json, "error.code"), "TooManyRequests");
    assert_true(header(&r, "x-ms-request-id", v, sizeof v));
    reply_free(&r);
    bearer_get(&demo, demo.arm_token, url, &r);
    assert_int_equal(r.status, 503);
    assert_string_equal(jstr(r.json, "error.code"), "ServiceUnavailable");
    reply_free(&r);
    bearer_get(&demo, demo.arm_token, url, &r);
    assert_int_equal(r.status, 200);
    assert_null(r.json); /* half a body */
    reply_free(&r);
    bearer_get(&demo, demo.arm_token, url, &r);
    assert_int_equal(r.status, 200);
    assert_non_null(r.json);
    reply_free(&r);
    /* Kubernetes requests do not take arm faults */
    http(&demo, "POST", "/_sim/faults", NULL, "arm:5xx=500x1", &r);
    reply_free(&r);
    bearer_get(&demo, demo.kube_token, "/version", &r);
    assert_int_equal(r.status, 200);
    reply_free(&r);
    http(&demo, "DELETE", "/_sim/faults", NULL, NULL, &r);
    reply_free(&r);
    free(url);
}

/* The az stand-in prints the CLI's JSON with a token ARM (or Graph) accepts. */
static void test_az_standin(void **state)
{
    (void)state;
    static const struct {
        const char *arg, *target;
    } cases[] = {
        {"https://management.azure.com/", NULL},
        {"https://graph.microsoft.com/",
         "/v1.0/applications(appId='b5d7f9a1-3c5e-4a7b-9d1f-4e6a8b0c2d3e')"},
    };
    for (size_t i = 0; i < 2; i++) {
        char cmd[256];
        snprintf(cmd, sizeof cmd, "%s/az account get-access-token -o json --resource %s", demo.dir,
                 cases[i].arg);
        FILE *p = popen(cmd, "r");
        assert_non_null(p);
        struct idw_buf out = {0};
        char chunk[512];
        size_t n;
        while ((n = fread(chunk, 1, sizeof chunk, p)) > 0)
            buf_append(&out, chunk, n);
        assert_int_equal(pclose(p), 0);
        cJSON *j = cJSON_Parse(out.data);
        buf_free(&out);
        assert_non_null(j);
        assert_string_equal(jstr(j, "tokenType"), "Bearer");
        assert_string_equal(jstr(j, "subscription"), env(&demo, "AZURE_SUBSCRIPTION_ID"));
        assert_true(cJSON_GetObjectItem(j, "expires_on")->valuedouble > (double)time_now());
        char def[256];
        if (!cases[i].target)
            snprintf(def, sizeof def, "/subscriptions/%s?api-version=2022-12-01",
                     env(&demo, "AZURE_SUBSCRIPTION_ID"));
        struct reply r;
        bearer_get(&demo, jstr(j, "accessToken"), cases[i].target ? cases[i].target : def, &r);
        assert_int_equal(r.status, 200);
        reply_free(&r);
        cJSON_Delete(j);
    }
}

/* ---- the scenario whose public issuer diverges, with a tiny read budget ---- */

static void test_issuer_diverging(void **state)
{
    (void)state;
    assert_int_equal(fx_start(&keys, IDW_TEST_DATA "/azsim/keys-different.json"), 0);
    check_issuer(&keys, false, false);
    /* the issuer kept the tenant and uuid of the scenario's cluster issuer */
    sim_lock(keys.sim);
    assert_non_null(strstr(sim_issuer(keys.sim), "/oidc/0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d/"
                                                 "11111111-2222-4333-8444-555555555555/"));
    sim_unlock(keys.sim);
    fx_stop(&keys);
}

static void test_rate_limit(void **state)
{
    (void)state;
    assert_int_equal(fx_start(&keys, IDW_TEST_DATA "/azsim/keys-different.json"), 0);
    token_with_secret(&keys, ARM_SCOPE, keys.arm_token, sizeof keys.arm_token);
    char target[256];
    snprintf(target, sizeof target,
             "/subscriptions/%s/providers/Microsoft.ContainerService/managedClusters?api-version="
             "2025-10-01&$top=1",
             env(&keys, "AZURE_SUBSCRIPTION_ID"));
    struct reply r;
    char v[64];
    for (int i = 0; i < 3; i++) {
        bearer_get(&keys, keys.arm_token, target, &r);
        assert_int_equal(r.status, 200);
        assert_true(header(&r, "x-ms-ratelimit-remaining-subscription-reads", v, sizeof v));
        assert_int_equal(strtol(v, NULL, 10), 2 - i);
        if (i == 0) { /* one per page: the main cluster first, the other behind nextLink */
            assert_string_equal(
                jstr(cJSON_GetArrayItem(cJSON_GetObjectItem(r.json, "value"), 0), "name"),
                "aks-keys");
            assert_non_null(jstr(r.json, "nextLink"));
        }
        reply_free(&r);
    }
    bearer_get(&keys, keys.arm_token, target, &r);
    assert_int_equal(r.status, 429);
    assert_string_equal(jstr(r.json, "error.code"), "SubscriptionRequestsThrottled");
    assert_true(header(&r, "Retry-After", v, sizeof v));
    assert_true(strtol(v, NULL, 10) >= 1);
    reply_free(&r);
    fx_stop(&keys);
}

/* ---- pure pieces ---- */

static void test_scenario_check(void **state)
{
    (void)state;
    static const struct {
        const char *json, *msg;
    } cases[] = {
        {"{\"userAssignedIdentities\":[{\"resourceGroup\":\"g\",\"clientId\":\"c\"}]}",
         "f.json: $.azure.userAssignedIdentities[0].name: required"},
        {"{\"userAssignedIdentities\":[{\"name\":\"n\",\"resourceGroup\":\"g\",\"clientId\":\"c\","
         "\"federatedIdentityCredentials\":[{\"name\":\"x\",\"issuer\":\"i\",\"subject\":1,"
         "\"audiences\":[]}]}]}",
         "f.json: $.azure.userAssignedIdentities[0].federatedIdentityCredentials[0].subject: "
         "expected a string"},
        {"{\"publicIssuer\":{\"keys\":\"rotated\"}}",
         "f.json: $.azure.publicIssuer.keys: expected cluster, different or none"},
        {"{\"pageSize\":0}", "f.json: $.azure.pageSize: expected 1..1000"},
        {"{\"applications\":[{\"appId\":\"a\",\"forbidden\":\"yes\"}]}",
         "f.json: $.azure.applications[0].forbidden: expected true or false"},
        {"{\"managedCluster\":{\"name\":\"c\"}}",
         "f.json: $.azure.managedCluster.resourceGroup: required"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        cJSON *j = cJSON_Parse(cases[i].json);
        struct idw_err err = {{0}};
        assert_int_equal(azure_sim_check(j, "f.json", &err), -1);
        assert_string_equal(err.msg, cases[i].msg);
        cJSON_Delete(j);
    }
    /* demo's section passes (the loader ran it) and a minimal one does too */
    cJSON *j = cJSON_Parse("{\"subscriptionId\":\"s\"}");
    struct idw_err err = {{0}};
    assert_int_equal(azure_sim_check(j, "f.json", &err), 0);
    cJSON_Delete(j);
}

static void test_form_and_names(void **state)
{
    (void)state;
    struct azure_sim_form f;
    const char *body = "grant_type=client_credentials&scope=a%2Fb+c&client_id=x&other=1";
    assert_int_equal(azure_sim_form_parse(body, strlen(body), &f), 0);
    assert_string_equal(f.grant_type, "client_credentials");
    assert_string_equal(f.scope, "a/b c");
    assert_null(f.client_secret);
    azure_sim_form_free(&f);
    body = "client_id=a&client_id=b";
    assert_int_equal(azure_sim_form_parse(body, strlen(body), &f), -1);
    body = "client_id=%zz";
    assert_int_equal(azure_sim_form_parse(body, strlen(body), &f), -1);
    static const struct {
        const char *name;
        bool ok;
    } names[] = {{"abc", true},  {"a-_", true},  {"9ab", true}, {"ab", false},
                 {"-ab", false}, {"a b", false}, {"", false},   {"a.b.c", false}};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        assert_int_equal(azure_sim_fic_name_ok(names[i].name), names[i].ok);
}

int main(void)
{
    const struct CMUnitTest with_demo[] = {
        cmocka_unit_test(test_token_secret),
        cmocka_unit_test(test_token_assertion),
        cmocka_unit_test(test_arm_auth_and_version),
        cmocka_unit_test(test_arm_paging),
        cmocka_unit_test(test_arm_cluster),
        cmocka_unit_test(test_arm_fic_rules),
        cmocka_unit_test(test_arm_forbidden),
        cmocka_unit_test(test_graph),
        cmocka_unit_test(test_issuer_demo),
        cmocka_unit_test(test_stats),
        cmocka_unit_test(test_faults),
        cmocka_unit_test(test_az_standin),
    };
    const struct CMUnitTest alone[] = {
        cmocka_unit_test(test_issuer_diverging),
        cmocka_unit_test(test_rate_limit),
        cmocka_unit_test(test_scenario_check),
        cmocka_unit_test(test_form_and_names),
    };
    int rc = cmocka_run_group_tests_name("sim_azure_demo", with_demo, group_setup, group_teardown);
    return rc + cmocka_run_group_tests_name("sim_azure", alone, NULL, NULL);
}
