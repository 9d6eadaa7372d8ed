/* GETs of the public issuer's documents over net (system CAs + --ca-file). */
#include <stdlib.h>
#include <string.h>

#include "idwatch/net.h"
#include "idwatch/oidc.h"

struct oidc_https {
    struct net *n;
    char *ca;
    size_t ca_len;
};

struct get_call {
    struct net_request *req;
    oidc_get_done done;
    void *arg;
};

int oidc_https_new(struct net *n, const char *ca_file, struct oidc_https **out, struct idw_err *err)
{
    struct oidc_https *h = xcalloc(1, sizeof *h);
    h->n = n;
    if (net_ca_bundle(ca_file, &h->ca, &h->ca_len, err) != 0) {
        free(h);
        return -1;
    }
    *out = h;
    return 0;
}

void oidc_https_free(struct oidc_https *h)
{
    if (!h)
        return;
    free(h->ca);
    free(h);
}

static void get_done(void *ctx, const struct net_response *r)
{
    struct get_call *c = ctx;
    struct oidc_response out = {.status = r->status,
                                .body = r->body,
                                .len = r->body_len,
                                .error = r->error[0] ? r->error : NULL};
    oidc_get_done done = c->done;
    void *arg = c->arg;
    free(c);
    done(arg, &out);
}

int oidc_https_get(void *ctx, const char *url, oidc_get_done done, void *arg, void **handle,
                   struct idw_err *err)
{
    struct oidc_https *h = ctx;
    if (!str_has_prefix(url, "https://"))
        return idw_err_set(err, "not an https URL");
    struct get_call *c = xcalloc(1, sizeof *c);
    c->done = done;
    c->arg = arg;
    struct net_tls tls = {.ca_pem = h->ca, .ca_len = h->ca_len};
    static const char *const hdrs[] = {"Accept: application/json", NULL};
    struct net_opts o = {.method = "GET",
                         .url = url,
                         .headers = hdrs,
                         .tls = h->ca ? &tls : NULL,
                         .timeout_ms = 10000,
                         .max_body = 1u << 20,
                         .on_done = get_done,
                         .ctx = c};
    if (net_start(h->n, &o, &c->req, err) != 0) {
        free(c);
        return -1;
    }
    *handle = c;
    return 0;
}

void oidc_https_cancel(void *ctx, void *handle)
{
    struct oidc_https *h = ctx;
    struct get_call *c = handle;
    if (c->req)
        net_cancel(h->n, c->req);
    free(c);
}
