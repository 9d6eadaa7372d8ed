/* oidc check: fetches the cluster's and the public issuer's documents, then oidc_evaluate(). */
#include <stdlib.h>
#include <string.h>

#include "idwatch/oidc.h"

enum doc { DOC_CLUSTER_DISCOVERY, DOC_CLUSTER_JWKS, DOC_PUBLIC_DISCOVERY, DOC_PUBLIC_JWKS, DOC__N };

struct doc_state {
    long status; /* -1 not fetched */
    struct idw_buf body;
    char *error;
    char *url;
};

struct oidc_check {
    struct oidc_check_config cfg;
    char *arm_issuer;
    oidc_check_done done;
    void *done_arg;
    struct doc_state docs[DOC__N];
    struct req *reqs[DOC__N]; /* outstanding requests, for cancelling */
    struct req *in_get;       /* the request whose get() call is running */
    int pending;
    bool started_public;
    bool finished; /* done was called (or the check was freed) */
    bool freed;
};

struct req {
    struct oidc_check *c;
    enum doc which;
    void *handle;
    bool done;
};

static void check_destroy(struct oidc_check *c)
{
    for (int i = 0; i < DOC__N; i++) {
        buf_free(&c->docs[i].body);
        free(c->docs[i].error);
        free(c->docs[i].url);
    }
    free(c->arm_issuer);
    free(c);
}

static void doc_fail(struct oidc_check *c, enum doc which, const char *url, const char *why)
{
    struct doc_state *d = &c->docs[which];
    d->status = 0;
    if (url != d->url) { /* callers pass d->url itself */
        free(d->url);
        d->url = xstrdup(url);
    }
    free(d->error);
    d->error = xstrdup(why);
}

static void on_response(void *arg, const struct oidc_response *r);

static void doc_get(struct oidc_check *c, enum doc which, const char *url)
{
    bool kube = which == DOC_CLUSTER_DISCOVERY || which == DOC_CLUSTER_JWKS;
    oidc_get_fn get = kube ? c->cfg.kube_get : c->cfg.https_get;
    void *ctx = kube ? c->cfg.kube_ctx : c->cfg.https_ctx;
    free(c->docs[which].url);
    c->docs[which].url = xstrdup(url);
    if (!get)
        return; /* stays "not fetched" */
    struct req *q = xcalloc(1, sizeof *q);
    q->c = c;
    q->which = which;
    struct idw_err err = {{0}};
    c->pending++;
    c->reqs[which] = q;
    c->in_get = q;
    int rc = get(ctx, url, on_response, q, &q->handle, &err);
    c->in_get = NULL;
    if (rc != 0) {
        c->pending--;
        c->reqs[which] = NULL;
        free(q);
        doc_fail(c, which, url, err.msg[0] ? err.msg : "request not started");
    } else if (q->done) {
        free(q); /* answered synchronously */
    }
}

/* The issuer the public side must serve: ARM's when known, else what the API server says. */
static const char *expected_issuer(struct oidc_check *c, char **owned)
{
    *owned = NULL;
    if (c->arm_issuer)
        return c->arm_issuer;
    struct doc_state *d = &c->docs[DOC_CLUSTER_DISCOVERY];
    struct oidc_discovery disc;
    if (d->status == 200 && oidc_parse_discovery(d->body.data, d->body.len, &disc, NULL) == 0) {
        *owned = xstrdup(disc.issuer);
        oidc_discovery_free(&disc);
        return *owned;
    }
    return NULL;
}

static void start_public(struct oidc_check *c)
{
    if (c->started_public)
        return;
    char *owned;
    const char *iss = expected_issuer(c, &owned);
    if (!iss)
        return;
    c->started_public = true;
    char *url = oidc_discovery_url(iss);
    if (!str_has_prefix(iss, "https://"))
        doc_fail(c, DOC_PUBLIC_DISCOVERY, url, "the issuer is not an https URL");
    else
        doc_get(c, DOC_PUBLIC_DISCOVERY, url);
    free(url);
    free(owned);
}

static void start_public_jwks(struct oidc_check *c)
{
    struct doc_state *d = &c->docs[DOC_PUBLIC_DISCOVERY];
    struct oidc_discovery disc;
    if (d->status != 200 || oidc_parse_discovery(d->body.data, d->body.len, &disc, NULL) != 0)
        return;
    if (disc.jwks_uri && str_has_prefix(disc.jwks_uri, "https://"))
        doc_get(c, DOC_PUBLIC_JWKS, disc.jwks_uri);
    else if (disc.jwks_uri)
        doc_fail(c, DOC_PUBLIC_JWKS, disc.jwks_uri, "jwks_uri is not an https URL");
    oidc_discovery_free(&disc);
}

static void maybe_finish(struct oidc_check *c)
{
    if (c->pending > 0 || c->finished)
        return;
    c->finished = true;
    struct oidc_inputs in = {.arm_enabled = c->cfg.arm_enabled, .arm_issuer = c->arm_issuer};
    struct oidc_fetched *f[DOC__N] = {&in.cluster_discovery, &in.cluster_jwks, &in.public_discovery,
                                      &in.public_jwks};
    for (int i = 0; i < DOC__N; i++) {
        struct doc_state *d = &c->docs[i];
        *f[i] = (struct oidc_fetched){.status = d->status,
                                      .body = d->body.data,
                                      .len = d->body.len,
                                      .error = d->error,
                                      .url = d->url};
    }
    struct model_oidc result;
    oidc_evaluate(&in, time_now(), &result);
    c->done(c->done_arg, &result);
}

static void on_response(void *arg, const struct oidc_response *r)
{
    struct req *q = arg;
    struct oidc_check *c = q->c;
    enum doc which = q->which;
    /* a synchronous answer arrives before get() returned: doc_get frees q then */
    c->reqs[which] = NULL;
    if (c->in_get == q)
        q->done = true;
    else
        free(q);
    c->pending--;
    if (c->freed) {
        if (c->pending == 0)
            check_destroy(c);
        return;
    }
    struct doc_state *d = &c->docs[which];
    size_t max = c->cfg.max_body ? c->cfg.max_body : 1u << 20;
    if (r->status == 0) {
        doc_fail(c, which, d->url, r->error ? r->error : "no answer");
    } else if (r->len > max) {
        doc_fail(c, which, d->url, "response too large");
    } else {
        d->status = r->status;
        buf_reset(&d->body);
        buf_append(&d->body, r->body ? r->body : "", r->len);
    }
    if (which == DOC_CLUSTER_DISCOVERY)
        start_public(c);
    else if (which == DOC_PUBLIC_DISCOVERY)
        start_public_jwks(c);
    maybe_finish(c);
}

int oidc_check_start(const struct oidc_check_config *cfg, oidc_check_done done, void *arg,
                     struct oidc_check **out, struct idw_err *err)
{
    if (!done)
        return idw_err_set(err, "oidc check: no completion callback");
    struct oidc_check *c = xcalloc(1, sizeof *c);
    c->cfg = *cfg;
    c->arm_issuer = xstrdup(cfg->arm_issuer);
    c->cfg.arm_issuer = NULL;
    c->done = done;
    c->done_arg = arg;
    for (int i = 0; i < DOC__N; i++)
        c->docs[i].status = -1;
    *out = c;
    c->pending++; /* hold completion until every first request is issued */
    if (cfg->arm_enabled != 0) {
        doc_get(c, DOC_CLUSTER_DISCOVERY, "/.well-known/openid-configuration");
        doc_get(c, DOC_CLUSTER_JWKS, "/openid/v1/jwks");
        if (c->arm_issuer)
            start_public(c);
    }
    c->pending--;
    maybe_finish(c);
    return 0;
}

void oidc_check_free(struct oidc_check *c)
{
    if (!c)
        return;
    for (int i = 0; i < DOC__N; i++) {
        struct req *q = c->reqs[i];
        bool kube = i == DOC_CLUSTER_DISCOVERY || i == DOC_CLUSTER_JWKS;
        oidc_cancel_fn cancel = kube ? c->cfg.kube_cancel : c->cfg.https_cancel;
        if (q && cancel && q->handle) {
            cancel(kube ? c->cfg.kube_ctx : c->cfg.https_ctx, q->handle);
            c->reqs[i] = NULL;
            free(q);
            c->pending--;
        }
    }
    if (c->pending > 0) {
        c->freed = true;
        c->finished = true;
        return;
    }
    check_destroy(c);
}
