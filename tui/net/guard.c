/* The read-only guard, backoff and header redaction: pure functions, the policy of net.c. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <strings.h>

#include <curl/curl.h>

#include "idwatch/net.h"

#define NET_DEFAULT_AUTHORITY "login.microsoftonline.com"

/* Where an allow-listed request may go. */
enum guard_host {
    GUARD_HOST_ANY,       /* the cluster's API server (whatever host the kubeconfig names) */
    GUARD_HOST_AUTHORITY, /* only the configured Entra ID authority host */
};

/* THE allow-list: the only non-GET/HEAD requests that may leave a read-only process. They
 * change nothing: an access review is a question, a token request only mints a token. */
#define NET_GUARD_ALLOW(X)                                                                         \
    X("POST", GUARD_HOST_ANY, "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",            \
      "SelfSubjectAccessReview")                                                                   \
    X("POST", GUARD_HOST_AUTHORITY, "/oauth2/v2.0/token", "Entra ID token request (v2)")           \
    X("POST", GUARD_HOST_AUTHORITY, "/oauth2/token", "Entra ID token request (v1)")

struct guard_rule {
    const char *method;
    enum guard_host host;
    const char *path_suffix;
    const char *what;
};

static const struct guard_rule guard_rules[] = {
#define X(m, h, p, w) {m, h, p, w},
    NET_GUARD_ALLOW(X)
#undef X
};

/* host[:port] of the authority, lower-cased, from "host", "host:port" or "https://host/...". */
static void authority_norm(const char *in, char *out, size_t n)
{
    const char *p = in && *in ? in : NET_DEFAULT_AUTHORITY;
    const char *s = strstr(p, "://");
    if (s)
        p = s + 3;
    size_t o = 0;
    for (; *p && *p != '/' && o + 1 < n; p++)
        out[o++] = (char)tolower((unsigned char)*p);
    out[o] = '\0';
    /* The default port of https is the same host. */
    if (o > 4 && strcmp(out + o - 4, ":443") == 0)
        out[o - 4] = '\0';
}

/* Paths that could be rewritten on the way (dot segments, escapes) never match the table. */
static bool path_plain(const char *path)
{
    if (strchr(path, '%') || strchr(path, '\\'))
        return false;
    if (strstr(path, "/./") || strstr(path, "/../") || str_has_suffix(path, "/.") ||
        str_has_suffix(path, "/.."))
        return false;
    return true;
}

int net_guard_check(const char *method, const char *url, const char *authority_host,
                    struct idw_err *err)
{
    if (!method || !url)
        return idw_err_set(err, "read-only: request without method or URL refused");
    if (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0)
        return 0;

    CURLU *u = curl_url();
    char *host = NULL, *path = NULL, *port = NULL, *user = NULL;
    int rc = -1;
    if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_PATH, &path, 0) != CURLUE_OK) {
        idw_err_set(err, "read-only: %s to an unparsable URL refused", method);
        goto out;
    }
    curl_url_get(u, CURLUPART_PORT, &port, 0);
    curl_url_get(u, CURLUPART_USER, &user, 0);

    char want[256], have[300];
    authority_norm(authority_host, want, sizeof want);
    snprintf(have, sizeof have, "%s%s%s", host, port && strcmp(port, "443") ? ":" : "",
             port && strcmp(port, "443") ? port : "");
    for (char *c = have; *c; c++)
        *c = (char)tolower((unsigned char)*c);

    /* curl normalises dot segments, so look at the URL as written too. */
    char *raw = xstrndup(url, strcspn(url, "?#"));
    bool plain = path_plain(path) && path_plain(raw);
    free(raw);
    for (size_t i = 0; i < sizeof guard_rules / sizeof guard_rules[0]; i++) {
        const struct guard_rule *g = &guard_rules[i];
        if (strcmp(method, g->method) != 0 || !plain || !str_has_suffix(path, g->path_suffix))
            continue;
        if (g->host == GUARD_HOST_AUTHORITY && (user || strcmp(have, want) != 0))
            continue;
        rc = 0;
        goto out;
    }
    idw_err_set(err,
                "read-only mode: %s %s refused before sending (only GET/HEAD, "
                "SelfSubjectAccessReview and Entra ID token requests are allowed)",
                method, path);
out:
    curl_free(host);
    curl_free(path);
    curl_free(port);
    curl_free(user);
    curl_url_cleanup(u);
    return rc;
}

int64_t net_backoff_ms(int attempt, int64_t base_ms, int64_t cap_ms, uint32_t rnd)
{
    if (base_ms <= 0)
        base_ms = 1;
    if (cap_ms < base_ms)
        cap_ms = base_ms;
    int64_t d = base_ms;
    for (int i = 0; i < attempt && d < cap_ms; i++)
        d *= 2;
    if (d > cap_ms)
        d = cap_ms;
    /* "Equal jitter": never less than half, so a fleet of clients spreads out but still waits. */
    int64_t half = d / 2;
    return half + (int64_t)(rnd % (uint64_t)(d - half + 1));
}

static const char *const redacted_headers[] = {"authorization",
                                               "proxy-authorization",
                                               "cookie",
                                               "set-cookie",
                                               "x-api-key",
                                               "x-ms-authorization-auxiliary",
                                               "impersonate-extra-",
                                               NULL};

void net_redact_header(const char *header, char *out, size_t n)
{
    if (n == 0)
        return;
    const char *colon = header ? strchr(header, ':') : NULL;
    if (!colon) {
        snprintf(out, n, "%s", header ? header : "");
        return;
    }
    size_t klen = (size_t)(colon - header);
    for (size_t i = 0; redacted_headers[i]; i++) {
        size_t rl = strlen(redacted_headers[i]);
        bool prefix = redacted_headers[i][rl - 1] == '-';
        if ((klen == rl || (prefix && klen > rl)) &&
            strncasecmp(header, redacted_headers[i], rl) == 0) {
            snprintf(out, n, "%.*s: <redacted>", (int)klen, header);
            return;
        }
    }
    snprintf(out, n, "%s", header);
}

int net_lines_feed(struct net_lines *l, const char *data, size_t n, net_line_fn fn, void *ctx,
                   struct idw_err *err)
{
    size_t max = l->max_line ? l->max_line : (size_t)16 << 20;
    while (n > 0) {
        const char *nl = memchr(data, '\n', n);
        size_t take = nl ? (size_t)(nl - data) : n;
        if (l->buf.len + take > max) {
            buf_reset(&l->buf);
            return idw_err_set(err, "stream line longer than %zu bytes", max);
        }
        if (!nl) {
            buf_append(&l->buf, data, take);
            return 0;
        }
        const char *line = data;
        size_t len = take;
        if (l->buf.len) { /* complete a buffered partial line */
            buf_append(&l->buf, data, take);
            line = l->buf.data;
            len = l->buf.len;
        }
        if (len && line[len - 1] == '\r')
            len--;
        int stop = fn(ctx, line, len);
        if (l->buf.cap > ((size_t)1 << 20))
            buf_free(&l->buf); /* don't keep a huge line's buffer for the stream's lifetime */
        else
            buf_reset(&l->buf);
        if (stop)
            return 1;
        data += take + 1;
        n -= take + 1;
    }
    return 0;
}

int net_lines_flush(struct net_lines *l, net_line_fn fn, void *ctx)
{
    if (!l->buf.len)
        return 0;
    size_t len = l->buf.len;
    if (l->buf.data[len - 1] == '\r')
        len--;
    int stop = fn(ctx, l->buf.data, len);
    buf_reset(&l->buf);
    return stop ? 1 : 0;
}

void net_lines_free(struct net_lines *l)
{
    buf_free(&l->buf);
}
