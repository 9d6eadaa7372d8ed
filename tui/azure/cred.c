/* The credential chain, in the Azure SDKs' default order (reference azure-arm.md §6): env secret,
 * env certificate, workload identity, managed identity (IMDS / App Service), Azure CLI. The
 * first that works is used from then on. Tokens stay in this struct only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>

#include "azure_int.h"

#define REFRESH_MARGIN 300 /* seconds before expiry a token is renewed */
#define IMDS_FIRST_TIMEOUT 1000
#define CLI_TIMEOUT 10000
#define MAX_WAITERS 16

struct waiter {
    cred_token_cb cb;
    void *arg;
};

struct attempt; /* one token request or az run in flight */

struct slot {
    struct azure_token tok;
    struct waiter waiters[MAX_WAITERS];
    size_t n_waiters;
    struct attempt *inflight;
    int kind;              /* credential being tried for this acquisition */
    struct idw_buf failed; /* lines of this acquisition's failures */
};

struct cred_chain {
    struct cred_config cfg;
    int chosen;       /* index of the credential that worked, -1 before */
    bool mi_answered; /* a managed identity endpoint answered once: no more 1 s timeout */
    struct azure_cert *cert;
    char *cli_subscription;
    struct slot slots[CRED_SLOT__N];
};

struct attempt {
    struct cred_chain *c;
    enum cred_slot slot;
    int kind;
    bool is_proc;
    void *handle;
    bool answered_sync; /* done ran before the start call returned */
    bool starting;
    char *url; /* for messages */
};

typedef int (*cred_start_fn)(struct cred_chain *c, enum cred_slot slot, struct attempt *a,
                             struct idw_err *why);

static int start_env_secret(struct cred_chain *c, enum cred_slot slot, struct attempt *a,
                            struct idw_err *why);
static int start_env_cert(struct cred_chain *c, enum cred_slot slot, struct attempt *a,
                          struct idw_err *why);
static int start_workload(struct cred_chain *c, enum cred_slot slot, struct attempt *a,
                          struct idw_err *why);
static int start_managed(struct cred_chain *c, enum cred_slot slot, struct attempt *a,
                         struct idw_err *why);
static int start_cli(struct cred_chain *c, enum cred_slot slot, struct attempt *a,
                     struct idw_err *why);

static const struct {
    const char *sdk_name;
    cred_start_fn start;
    bool prod; /* in AZURE_TOKEN_CREDENTIALS=prod; CLI is "dev" */
} kinds[AZURE_CRED__COUNT] = {
    [AZURE_CRED_ENV_SECRET] = {"EnvironmentCredential", start_env_secret, true},
    [AZURE_CRED_ENV_CERT] = {"EnvironmentCredential", start_env_cert, true},
    [AZURE_CRED_WORKLOAD] = {"WorkloadIdentityCredential", start_workload, true},
    [AZURE_CRED_MANAGED] = {"ManagedIdentityCredential", start_managed, true},
    [AZURE_CRED_CLI] = {"AzureCliCredential", start_cli, false},
};

const char *cred_env(const struct azure_io *io, const char *name)
{
    const char *v = io->getenv ? io->getenv(io->ctx, name) : getenv(name);
    return str_empty(v) ? NULL : v;
}

int64_t cred_now_ms(const struct azure_io *io)
{
    if (io->now_ms)
        return io->now_ms(io->ctx);
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

static int64_t now_s(const struct cred_chain *c)
{
    return cred_now_ms(c->cfg.io) / 1000;
}

struct cred_chain *cred_new(const struct cred_config *cfg)
{
    struct cred_chain *c = xcalloc(1, sizeof *c);
    c->cfg = *cfg;
    c->chosen = -1;
    return c;
}

static void attempt_cancel(struct cred_chain *c, struct attempt *a)
{
    const struct azure_io *io = c->cfg.io;
    if (a->is_proc && io->spawn_cancel && a->handle)
        io->spawn_cancel(io->ctx, a->handle);
    else if (!a->is_proc && io->http_cancel && a->handle)
        io->http_cancel(io->ctx, a->handle);
    free(a->url);
    free(a);
}

void cred_free(struct cred_chain *c)
{
    if (!c)
        return;
    for (int i = 0; i < CRED_SLOT__N; i++) {
        struct slot *s = &c->slots[i];
        if (s->inflight)
            attempt_cancel(c, s->inflight);
        azure_token_free(&s->tok);
        buf_free(&s->failed);
    }
    azure_cert_free(c->cert);
    free(c->cli_subscription);
    free(c);
}

const char *cred_used(const struct cred_chain *c)
{
    return c->chosen >= 0 ? azure_cred_name((enum azure_cred_kind)c->chosen) : NULL;
}

const char *cred_cli_subscription(const struct cred_chain *c)
{
    return c->cli_subscription;
}

/* ---- AZURE_TOKEN_CREDENTIALS ---- */

static bool kind_enabled(const struct cred_chain *c, int k)
{
    const char *sel = cred_env(c->cfg.io, "AZURE_TOKEN_CREDENTIALS");
    if (!sel)
        return true;
    if (strcasecmp(sel, "prod") == 0)
        return kinds[k].prod;
    if (strcasecmp(sel, "dev") == 0)
        return !kinds[k].prod;
    return strcasecmp(sel, kinds[k].sdk_name) == 0;
}

/* ---- completion ---- */

static void slot_finish(struct cred_chain *c, enum cred_slot slot, const char *error)
{
    struct slot *s = &c->slots[slot];
    struct waiter w[MAX_WAITERS];
    size_t n = s->n_waiters;
    memcpy(w, s->waiters, n * sizeof *w);
    s->n_waiters = 0;
    buf_reset(&s->failed);
    for (size_t i = 0; i < n; i++)
        w[i].cb(w[i].arg, error ? NULL : s->tok.access_token, error);
}

static void try_next(struct cred_chain *c, enum cred_slot slot);

static void attempt_result(struct attempt *a, struct azure_token *tok, const char *why)
{
    struct cred_chain *c = a->c;
    enum cred_slot slot = a->slot;
    struct slot *s = &c->slots[slot];
    int kind = a->kind;
    s->inflight = NULL;
    if (a->starting)
        a->answered_sync = true; /* the starter frees it */
    else {
        free(a->url);
        free(a);
    }
    if (tok) {
        azure_token_free(&s->tok);
        s->tok = *tok;
        c->chosen = kind;
        slot_finish(c, slot, NULL);
        return;
    }
    buf_printf(&s->failed, "%s%s: %s", s->failed.len ? "\n" : "",
               azure_cred_name((enum azure_cred_kind)kind), why);
    if (c->chosen >= 0) { /* the chain is settled: no fallback to others */
        char *msg = xstrdup(s->failed.data);
        slot_finish(c, slot, msg);
        free(msg);
        return;
    }
    s->kind = kind + 1;
    try_next(c, slot);
}

/* Starts kind s->kind or a later one; reports when none is left. */
static void try_next(struct cred_chain *c, enum cred_slot slot)
{
    struct slot *s = &c->slots[slot];
    while (s->kind < AZURE_CRED__COUNT) {
        int k = s->kind;
        if (c->chosen >= 0 && k != c->chosen) {
            s->kind++;
            continue;
        }
        if (!kind_enabled(c, k)) {
            buf_printf(&s->failed, "%s%s: excluded by AZURE_TOKEN_CREDENTIALS",
                       s->failed.len ? "\n" : "", azure_cred_name((enum azure_cred_kind)k));
            s->kind++;
            continue;
        }
        struct attempt *a = xcalloc(1, sizeof *a);
        a->c = c;
        a->slot = slot;
        a->kind = k;
        a->starting = true;
        s->inflight = a;
        struct idw_err why = {{0}};
        int rc = kinds[k].start(c, slot, a, &why);
        a->starting = false;
        if (rc == 0) {
            if (a->answered_sync) {
                free(a->url);
                free(a);
            }
            return; /* in flight, or already reported */
        }
        s->inflight = NULL;
        free(a->url);
        free(a);
        buf_printf(&s->failed, "%s%s: %s", s->failed.len ? "\n" : "",
                   azure_cred_name((enum azure_cred_kind)k), why.msg);
        if (c->chosen >= 0)
            break;
        s->kind++;
    }
    char *msg = xasprintf("%s%s", c->chosen >= 0 ? "" : "no Azure credential worked:\n",
                          s->failed.len ? s->failed.data : "no credential is enabled");
    slot_finish(c, slot, msg);
    free(msg);
}

void cred_get(struct cred_chain *c, enum cred_slot slot, cred_token_cb cb, void *arg)
{
    struct slot *s = &c->slots[slot];
    if (s->tok.access_token && s->tok.expires_on - now_s(c) > REFRESH_MARGIN) {
        cb(arg, s->tok.access_token, NULL);
        return;
    }
    if (s->n_waiters == MAX_WAITERS) {
        cb(arg, NULL, "too many token requests waiting");
        return;
    }
    s->waiters[s->n_waiters++] = (struct waiter){cb, arg};
    if (s->inflight || s->n_waiters > 1)
        return;
    buf_reset(&s->failed);
    s->kind = c->chosen >= 0 ? c->chosen : 0;
    try_next(c, slot);
}

/* ---- helpers shared by the credentials ---- */

static const char *slot_audience(const struct cred_chain *c, enum cred_slot slot)
{
    return slot == CRED_SLOT_ARM ? c->cfg.arm_audience : c->cfg.graph_audience;
}

/* Tenant ids are GUIDs or domain names: anything else would change the token URL. */
static bool tenant_valid(const char *t)
{
    if (!t || !*t || strlen(t) > 256)
        return false;
    for (const char *p = t; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
              *p == '-' || *p == '.'))
            return false;
    return true;
}

static char *token_url(const struct cred_chain *c, const char *tenant)
{
    return xasprintf("%s/%s/oauth2/v2.0/token", c->cfg.authority, tenant);
}

static void on_token_http(void *arg, const struct azure_http_response *r)
{
    struct attempt *a = arg;
    struct cred_chain *c = a->c;
    char why[IDW_ERR_MAX];
    if (a->kind == AZURE_CRED_MANAGED && r->status != 0)
        c->mi_answered = true;
    if (r->status == 0) {
        char e[200];
        str_sanitize(e, sizeof e, r->error ? r->error : "no answer");
        if (a->kind == AZURE_CRED_MANAGED)
            snprintf(why, sizeof why, "no managed identity endpoint answered (%s)", e);
        else
            snprintf(why, sizeof why, "POST %s: %s", a->url ? a->url : "?", e);
        attempt_result(a, NULL, why);
        return;
    }
    if (r->status != 200) {
        azure_describe_token_error(r->status, r->body, r->body_len, why, sizeof why);
        attempt_result(a, NULL, why);
        return;
    }
    struct azure_token tok;
    struct idw_err err;
    if (azure_parse_token_response(r->body, r->body_len, now_s(c), &tok, &err) != 0) {
        snprintf(why, sizeof why, "malformed token response: %s", err.msg);
        attempt_result(a, NULL, why);
        return;
    }
    attempt_result(a, &tok, NULL);
}

static int post_form(struct cred_chain *c, struct attempt *a, const char *url, const char *form,
                     struct idw_err *why)
{
    const struct azure_io *io = c->cfg.io;
    static const char *const hdrs[] = {"Content-Type: application/x-www-form-urlencoded",
                                       "Accept: application/json", NULL};
    struct azure_http_request req = {
        .method = "POST", .url = url, .headers = hdrs, .body = form, .body_len = strlen(form)};
    a->url = xstrdup(url);
    if (c->cfg.token_requests)
        (*c->cfg.token_requests)++;
    return io->http(io->ctx, &req, on_token_http, a, &a->handle, why);
}

/* client_credentials POST with a secret or an assertion. */
static int client_credentials(struct cred_chain *c, enum cred_slot slot, struct attempt *a,
                              const char *tenant, const char *client_id, const char *secret,
                              const char *assertion, struct idw_err *why)
{
    char *url = token_url(c, tenant);
    char *scope = xasprintf("%s/.default", slot_audience(c, slot));
    char *e_id = azure_form_encode(client_id), *e_scope = azure_form_encode(scope);
    char *e_cred = azure_form_encode(secret ? secret : assertion);
    char *form = secret ? xasprintf("grant_type=client_credentials&client_id=%s&client_secret=%s"
                                    "&scope=%s",
                                    e_id, e_cred, e_scope)
                        : xasprintf("grant_type=client_credentials&client_id=%s"
                                    "&client_assertion_type=urn%%3Aietf%%3Aparams%%3Aoauth%%3A"
                                    "client-assertion-type%%3Ajwt-bearer"
                                    "&client_assertion=%s&scope=%s",
                                    e_id, e_cred, e_scope);
    int rc = post_form(c, a, url, form, why);
    size_t fl = strlen(form), cl = strlen(e_cred);
    memset(form, 0, fl);
    memset(e_cred, 0, cl);
    free(form);
    free(e_cred);
    free(e_id);
    free(e_scope);
    free(scope);
    free(url);
    return rc;
}

/* ---- the credentials ---- */

static int env_tenant_client(struct cred_chain *c, const char **tenant, const char **client,
                             const char *third, const char **third_val, struct idw_err *why)
{
    *tenant = cred_env(c->cfg.io, "AZURE_TENANT_ID");
    *client = cred_env(c->cfg.io, "AZURE_CLIENT_ID");
    *third_val = cred_env(c->cfg.io, third);
    if (!*tenant || !*client || !*third_val)
        return idw_err_set(why, "AZURE_TENANT_ID, AZURE_CLIENT_ID and %s are not all set", third);
    if (!tenant_valid(*tenant))
        return idw_err_set(why, "AZURE_TENANT_ID is not a tenant id or domain");
    return 0;
}

static int start_env_secret(struct cred_chain *c, enum cred_slot slot, struct attempt *a,
                            struct idw_err *why)
{
    const char *tenant, *client, *secret;
    if (env_tenant_client(c, &tenant, &client, "AZURE_CLIENT_SECRET", &secret, why) != 0)
        return -1;
    return client_credentials(c, slot, a, tenant, client, secret, NULL, why);
}

static int start_env_cert(struct cred_chain *c, enum cred_slot slot, struct attempt *a,
                          struct idw_err *why)
{
    const char *tenant, *client, *path;
    if (env_tenant_client(c, &tenant, &client, "AZURE_CLIENT_CERTIFICATE_PATH", &path, why) != 0)
        return -1;
    if (!c->cert && azure_cert_load(path, cred_env(c->cfg.io, "AZURE_CLIENT_CERTIFICATE_PASSWORD"),
                                    &c->cert, why) != 0)
        return -1;
    char *url = token_url(c, tenant);
    char *jwt = azure_cert_assertion(c->cert, client, url, now_s(c), why);
    free(url);
    if (!jwt)
        return -1;
    int rc = client_credentials(c, slot, a, tenant, client, NULL, jwt, why);
    free(jwt);
    return rc;
}

static int start_workload(struct cred_chain *c, enum cred_slot slot, struct attempt *a,
                          struct idw_err *why)
{
    const char *tenant, *client, *file;
    if (env_tenant_client(c, &tenant, &client, "AZURE_FEDERATED_TOKEN_FILE", &file, why) != 0)
        return -1;
    char *sa_token;
    size_t len;
    /* re-read every time: the kubelet rotates the projected token */
    if (file_read_all(file, 64 * 1024, &sa_token, &len, why) != 0)
        return idw_err_prefix(why, "AZURE_FEDERATED_TOKEN_FILE");
    while (len > 0 &&
           (sa_token[len - 1] == '\n' || sa_token[len - 1] == '\r' || sa_token[len - 1] == ' '))
        sa_token[--len] = '\0';
    int rc;
    if (len == 0)
        rc = idw_err_set(why, "AZURE_FEDERATED_TOKEN_FILE %s is empty", file);
    else
        rc = client_credentials(c, slot, a, tenant, client, NULL, sa_token, why);
    memset(sa_token, 0, len);
    free(sa_token);
    return rc;
}

static int start_managed(struct cred_chain *c, enum cred_slot slot, struct attempt *a,
                         struct idw_err *why)
{
    const struct azure_io *io = c->cfg.io;
    char *resource = xasprintf("%s/", slot_audience(c, slot));
    char *e_res = azure_form_encode(resource);
    const char *client = cred_env(io, "AZURE_CLIENT_ID");
    char *e_client = client ? azure_form_encode(client) : NULL;
    const char *endpoint = cred_env(io, "IDENTITY_ENDPOINT");
    const char *secret = cred_env(io, "IDENTITY_HEADER");
    char *url, *hdr;
    if (endpoint && secret) { /* App Service and friends */
        url = xasprintf("%s%capi-version=2019-08-01&resource=%s%s%s", endpoint,
                        strchr(endpoint, '?') ? '&' : '?', e_res, e_client ? "&client_id=" : "",
                        e_client ? e_client : "");
        hdr = xasprintf("X-IDENTITY-HEADER: %s", secret);
    } else {
        const char *host = cred_env(io, "AZURE_POD_IDENTITY_AUTHORITY_HOST");
        size_t hl = host ? strlen(host) : 0;
        while (hl > 0 && host[hl - 1] == '/')
            hl--;
        url =
            xasprintf("%.*s/metadata/identity/oauth2/token?api-version=2018-02-01&resource=%s%s%s",
                      host ? (int)hl : 22, host ? host : "http://169.254.169.254", e_res,
                      e_client ? "&client_id=" : "", e_client ? e_client : "");
        hdr = xstrdup("Metadata: true");
    }
    const char *hdrs[] = {hdr, "Accept: application/json", NULL};
    struct azure_http_request req = {.method = "GET",
                                     .url = url,
                                     .headers = hdrs,
                                     .timeout_ms = c->mi_answered ? 0 : IMDS_FIRST_TIMEOUT};
    a->url = xstrdup(url);
    if (c->cfg.token_requests)
        (*c->cfg.token_requests)++;
    int rc = io->http(io->ctx, &req, on_token_http, a, &a->handle, why);
    free(hdr);
    free(url);
    free(e_client);
    free(e_res);
    free(resource);
    return rc;
}

/* The resource goes on az's command line: keep it to the characters a URL resource needs. */
static bool resource_safe(const char *r)
{
    for (const char *p = r; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
              strchr("-.:/", *p)))
            return false;
    return *r != '\0';
}

static void on_cli(void *arg, const struct azure_proc_result *r)
{
    struct attempt *a = arg;
    struct cred_chain *c = a->c;
    char why[IDW_ERR_MAX], line[200];
    if (r->exit_code != 0) {
        char *errtext = xstrndup(r->err ? r->err : "", r->err ? r->err_len : 0);
        errtext[strcspn(errtext, "\n")] = '\0';
        str_sanitize(line, sizeof line, errtext);
        if (r->exit_code == 127 ||
            (r->exit_code < 0 && r->error && strstr(r->error, "No such file")))
            snprintf(why, sizeof why, "az not found (Azure CLI not installed)");
        else if (r->err && strstr(errtext, "az login"))
            snprintf(why, sizeof why, "not logged in (run az login): %s", line);
        else if (r->exit_code < 0)
            snprintf(why, sizeof why, "az did not finish: %s", r->error ? r->error : "killed");
        else
            snprintf(why, sizeof why, "az exited with %d: %s", r->exit_code, line);
        free(errtext);
        attempt_result(a, NULL, why);
        return;
    }
    struct azure_token tok;
    struct idw_err err;
    if (azure_parse_cli_token(r->out ? r->out : "", r->out_len, &tok, &err) != 0) {
        snprintf(why, sizeof why, "malformed az output: %s", err.msg);
        attempt_result(a, NULL, why);
        return;
    }
    if (tok.subscription && !c->cli_subscription)
        c->cli_subscription = xstrdup(tok.subscription);
    attempt_result(a, &tok, NULL);
}

static int start_cli(struct cred_chain *c, enum cred_slot slot, struct attempt *a,
                     struct idw_err *why)
{
    const struct azure_io *io = c->cfg.io;
    if (!io->spawn)
        return idw_err_set(why, "cannot run programs here");
    char *resource = xasprintf("%s/", slot_audience(c, slot));
    if (!resource_safe(resource)) {
        free(resource);
        return idw_err_set(why, "resource has characters az must not see");
    }
    char *argv[] = {(char *)(c->cfg.az_command ? c->cfg.az_command : "az"),
                    "account",
                    "get-access-token",
                    "--resource",
                    resource,
                    "-o",
                    "json",
                    NULL};
    a->is_proc = true;
    if (c->cfg.token_requests)
        (*c->cfg.token_requests)++;
    int rc = io->spawn(io->ctx, argv, CLI_TIMEOUT, on_cli, a, &a->handle, why);
    free(resource);
    return rc;
}
