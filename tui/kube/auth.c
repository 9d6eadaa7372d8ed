/* auth: the credentials of one context, kept fresh (token file, exec plugin) without blocking. */
#include <stdlib.h>
#include <string.h>

#include "idwatch/kube.h"

#define AUTH_TOKEN_FILE_MAX ((size_t)1 << 20)
#define AUTH_TOKEN_FILE_TTL_MS 60000 /* client-go re-reads a token file at most once a minute */
#define AUTH_EXEC_MARGIN_MAX 60      /* seconds before expiry that a credential counts as stale */

struct auth_waiter {
    uint64_t id;
    kube_auth_fn fn;
    void *ctx;
};

struct kube_auth {
    struct net *net;
    const struct kubeconfig_resolved *cfg;
    /* token file */
    char *file_token;
    int64_t file_read_ms;
    bool file_valid;
    /* exec plugin */
    struct kube_cred exec_cred;
    bool exec_valid;
    int64_t exec_stale_at; /* epoch seconds; 0 = never */
    struct kube_exec *running;
    char *exec_error; /* last failure, handed to waiters */
    unsigned exec_runs;
    struct auth_waiter *waiters;
    size_t n_waiters, cap_waiters;
    uint64_t next_id;
    uint64_t generation;
    struct kube_cred view; /* what callers see: the merge of static, file and exec parts */
};

struct kube_auth *kube_auth_new(struct net *n, const struct kubeconfig_resolved *cfg)
{
    struct kube_auth *a = xcalloc(1, sizeof *a);
    a->net = n;
    a->cfg = cfg;
    a->next_id = 1;
    a->generation = 1;
    return a;
}

void kube_auth_free(struct kube_auth *a)
{
    if (!a)
        return;
    kube_exec_cancel(a->running);
    if (a->file_token)
        memset(a->file_token, 0, strlen(a->file_token));
    free(a->file_token);
    kube_cred_free(&a->exec_cred);
    free(a->exec_error);
    free(a->waiters);
    free(a);
}

unsigned kube_auth_exec_runs(const struct kube_auth *a)
{
    return a->exec_runs;
}

static int read_token_file(struct kube_auth *a, struct idw_err *err)
{
    int64_t now = time_now_ms();
    if (a->file_valid && now - a->file_read_ms < AUTH_TOKEN_FILE_TTL_MS)
        return 0;
    char *data = NULL;
    size_t len = 0;
    if (file_read_all(a->cfg->token_file, AUTH_TOKEN_FILE_MAX, &data, &len, err) < 0)
        return idw_err_prefix(err, "tokenFile");
    while (len && (data[len - 1] == '\n' || data[len - 1] == '\r' || data[len - 1] == ' '))
        data[--len] = '\0';
    if (!len) {
        free(data);
        return idw_err_set(err, "tokenFile %s is empty", a->cfg->token_file);
    }
    if (!str_eq(data, a->file_token))
        a->generation++;
    if (a->file_token)
        memset(a->file_token, 0, strlen(a->file_token));
    free(a->file_token);
    a->file_token = data;
    a->file_read_ms = now;
    a->file_valid = true;
    return 0;
}

/* The merged view: exec credentials override the static ones; a static token beats a file. */
static const struct kube_cred *auth_view(struct kube_auth *a)
{
    const struct kubeconfig_resolved *c = a->cfg;
    struct kube_cred *v = &a->view;
    memset(v, 0, sizeof *v); /* borrowed pointers only: nothing to free */
    v->token = c->token ? c->token : a->file_token;
    v->cert_pem = c->cert_pem;
    v->cert_len = c->cert_len;
    v->key_pem = c->key_pem;
    v->key_len = c->key_len;
    if (a->exec_valid) {
        if (a->exec_cred.token)
            v->token = a->exec_cred.token;
        if (a->exec_cred.cert_pem) {
            v->cert_pem = a->exec_cred.cert_pem;
            v->cert_len = a->exec_cred.cert_len;
            v->key_pem = a->exec_cred.key_pem;
            v->key_len = a->exec_cred.key_len;
        }
        v->expires = a->exec_cred.expires;
    }
    v->generation = a->generation;
    return v;
}

static bool exec_fresh(const struct kube_auth *a)
{
    return a->exec_valid && (!a->exec_stale_at || time_now() < a->exec_stale_at);
}

static void exec_done(void *ctx, const struct kube_cred *cred, const char *error)
{
    struct kube_auth *a = ctx;
    a->running = NULL;
    free(a->exec_error);
    a->exec_error = NULL;
    kube_cred_free(&a->exec_cred);
    a->exec_valid = false;
    if (cred) {
        a->exec_cred.token = xstrdup(cred->token);
        if (cred->cert_pem) {
            a->exec_cred.cert_pem = xstrndup(cred->cert_pem, cred->cert_len);
            a->exec_cred.cert_len = cred->cert_len;
            a->exec_cred.key_pem = xstrndup(cred->key_pem, cred->key_len);
            a->exec_cred.key_len = cred->key_len;
        }
        a->exec_cred.expires = cred->expires;
        a->exec_valid = true;
        a->exec_stale_at = 0;
        if (cred->expires) {
            /* Refresh ahead of expiry: a minute, or a quarter of a short lifetime. */
            int64_t life = cred->expires - time_now();
            int64_t margin = life / 4 < AUTH_EXEC_MARGIN_MAX ? life / 4 : AUTH_EXEC_MARGIN_MAX;
            a->exec_stale_at = cred->expires - (margin > 0 ? margin : 0);
        }
        a->generation++;
    } else {
        a->exec_error = xstrdup(error ? error : "exec plugin failed");
    }
    /* Waiters may add or cancel waiters: work on a snapshot. */
    size_t n = a->n_waiters;
    struct auth_waiter *w = a->waiters;
    a->waiters = NULL;
    a->n_waiters = a->cap_waiters = 0;
    for (size_t i = 0; i < n; i++) {
        if (!w[i].fn)
            continue;
        if (a->exec_valid)
            w[i].fn(w[i].ctx, auth_view(a), NULL);
        else
            w[i].fn(w[i].ctx, NULL, a->exec_error);
    }
    free(w);
}

uint64_t kube_auth_get(struct kube_auth *a, kube_auth_fn fn, void *ctx)
{
    const struct kubeconfig_resolved *c = a->cfg;
    struct idw_err err = {{0}};
    if (!c->token && c->token_file && read_token_file(a, &err) < 0) {
        fn(ctx, NULL, err.msg);
        return 0;
    }
    if (!c->exec || exec_fresh(a)) {
        fn(ctx, auth_view(a), NULL);
        return 0;
    }
    if (!a->running) {
        a->exec_runs++;
        if (kube_exec_start(a->net, c, 0, exec_done, a, &a->running, &err) < 0) {
            a->running = NULL;
            fn(ctx, NULL, err.msg);
            return 0;
        }
    }
    void *p = a->waiters;
    xgrow(&p, &a->cap_waiters, a->n_waiters + 1, sizeof *a->waiters);
    a->waiters = p;
    struct auth_waiter *w = &a->waiters[a->n_waiters++];
    w->id = a->next_id++;
    w->fn = fn;
    w->ctx = ctx;
    return w->id;
}

void kube_auth_cancel(struct kube_auth *a, uint64_t id)
{
    for (size_t i = 0; id && i < a->n_waiters; i++)
        if (a->waiters[i].id == id)
            a->waiters[i].fn = NULL;
}

void kube_auth_invalidate(struct kube_auth *a, uint64_t generation)
{
    if (generation != a->generation)
        return; /* already refreshed since that request left */
    a->file_valid = false;
    if (a->exec_valid) {
        kube_cred_free(&a->exec_cred);
        a->exec_valid = false;
    }
    a->generation++;
}
