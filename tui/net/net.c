/* net: one CURLM, its transfers, timers and extra fds; retries; the read-only guard's gate. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "idwatch/net.h"

#define NET_DEFAULT_CONNECT_MS 5000
#define NET_DEFAULT_MAX_BODY ((size_t)256 << 20)
#define NET_ERROR_BODY_MAX ((size_t)64 << 10)
#define NET_RETRY_CAP_MS 30000
#define NET_RETRY_AFTER_CAP_S 120

struct net_timer {
    uint64_t id;
    int64_t due;
    net_timer_fn fn;
    void *ctx;
};

struct net_fdw {
    uint64_t id;
    int fd;
    int events;
    net_fd_fn fn;
    void *ctx;
    bool dead;
};

struct net_request {
    struct net *net;
    struct net_request *prev, *next;
    CURL *easy;
    struct curl_slist *hdrs;
    struct curl_slist *connect_to;
    char *method, *url, *body;
    size_t body_len;
    char *log_url; /* the URL as logged (no query: continue tokens are noise) */
    net_line_fn on_line;
    void (*on_open)(void *ctx, long status);
    net_done_fn on_done;
    void *ctx;
    size_t max_body;
    int max_retries;
    int64_t retry_base;
    int attempt;
    uint64_t retry_timer;
    bool attached, pending_add, cancelled, finishing, stopped, overflow;
    struct net_lines lines;
    struct idw_buf data;
    struct idw_buf resp_headers; /* the last response's headers, "Name: value\n" lines */
    char err[256];
    char errbuf[CURL_ERROR_SIZE];
    int64_t started;
};

struct net {
    CURLM *multi;
    bool read_only;
    char *authority;
    char *user_agent;
    net_log_fn log;
    void *log_ctx;
    struct net_stats stats;
    struct net_request *reqs;
    int in_perform;
    struct net_timer *timers;
    size_t n_timers, cap_timers;
    struct net_fdw *fds;
    size_t n_fds, cap_fds;
    uint64_t next_id;
    uint32_t rng;
};

static int curl_users;

static uint32_t net_rand(struct net *n)
{
    /* xorshift32: jitter only needs to differ between clients and attempts. */
    uint32_t x = n->rng;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    n->rng = x;
    return x;
}

static void net_logf(struct net *n, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void net_logf(struct net *n, const char *fmt, ...)
{
    if (!n->log)
        return;
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    n->log(n->log_ctx, line);
}

struct net *net_new(const struct net_config *cfg)
{
    struct net_config def = {0};
    if (!cfg)
        cfg = &def;
    if (curl_users++ == 0)
        curl_global_init(CURL_GLOBAL_DEFAULT);
    struct net *n = xcalloc(1, sizeof *n);
    n->multi = curl_multi_init();
    if (!n->multi) {
        fprintf(stderr, "idwatch: curl_multi_init failed\n");
        abort();
    }
    /* Over HTTP/2 streams share one connection; an HTTP/1.1 server needs one per stream, and
     * idwatch follows every NMI pod's log (up to 512) beside its watches. */
    long maxhost = cfg->max_host_connections > 0 ? cfg->max_host_connections : 600;
    curl_multi_setopt(n->multi, CURLMOPT_MAX_HOST_CONNECTIONS, maxhost);
    curl_multi_setopt(n->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
    n->read_only = cfg->read_only;
    n->authority = xstrdup(cfg->authority_host);
    n->user_agent =
        cfg->user_agent ? xstrdup(cfg->user_agent) : xstrdup("idwatch/" IDWATCH_VERSION);
    n->next_id = 1;
    n->rng = (uint32_t)time(NULL) ^ (uint32_t)getpid() * 2654435761u;
    if (!n->rng)
        n->rng = 0x9e3779b9u;
    return n;
}

static void request_free(struct net *n, struct net_request *r)
{
    if (r->attached)
        curl_multi_remove_handle(n->multi, r->easy);
    if (r->retry_timer)
        net_timer_cancel(n, r->retry_timer);
    if (r->prev)
        r->prev->next = r->next;
    else
        n->reqs = r->next;
    if (r->next)
        r->next->prev = r->prev;
    if (n->stats.active)
        n->stats.active--;
    curl_easy_cleanup(r->easy);
    curl_slist_free_all(r->hdrs);
    curl_slist_free_all(r->connect_to);
    free(r->method);
    free(r->url);
    free(r->log_url);
    free(r->body);
    net_lines_free(&r->lines);
    buf_free(&r->data);
    buf_free(&r->resp_headers);
    free(r);
}

void net_free(struct net *n)
{
    if (!n)
        return;
    while (n->reqs)
        request_free(n, n->reqs);
    curl_multi_cleanup(n->multi);
    free(n->timers);
    free(n->fds);
    free(n->authority);
    free(n->user_agent);
    free(n);
    if (--curl_users == 0)
        curl_global_cleanup();
}

void net_set_read_only(struct net *n, bool on)
{
    n->read_only = on;
}

bool net_read_only(const struct net *n)
{
    return n->read_only;
}

void net_set_log(struct net *n, net_log_fn fn, void *ctx)
{
    n->log = fn;
    n->log_ctx = ctx;
}

void net_get_stats(const struct net *n, struct net_stats *out)
{
    *out = n->stats;
}

/* ---- transfers ----------------------------------------------------------------------- */

static int deliver_line(void *ctx, const char *line, size_t len)
{
    struct net_request *r = ctx;
    if (r->cancelled)
        return 1;
    int stop = r->on_line(r->ctx, line, len);
    return stop || r->cancelled;
}

static size_t on_write(char *ptr, size_t size, size_t nmemb, void *ud)
{
    struct net_request *r = ud;
    size_t n = size * nmemb;
    if (r->cancelled)
        return 0;
    r->net->stats.bytes_in += n;
    long status = 0;
    curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
    if (r->on_line && status >= 200 && status < 300) {
        struct idw_err e;
        int rc = net_lines_feed(&r->lines, ptr, n, deliver_line, r, &e);
        if (rc == 1) {
            r->stopped = true;
            return 0;
        }
        if (rc < 0) {
            r->overflow = true;
            snprintf(r->err, sizeof r->err, "%s", e.msg);
            return 0;
        }
        return n;
    }
    if (r->on_line) { /* an error body of a stream: keep the start, it holds the Status */
        if (r->data.len < NET_ERROR_BODY_MAX)
            buf_append(&r->data, ptr,
                       n < NET_ERROR_BODY_MAX - r->data.len ? n : NET_ERROR_BODY_MAX - r->data.len);
        return n;
    }
    if (r->data.len + n > r->max_body) {
        r->overflow = true;
        snprintf(r->err, sizeof r->err, "response body larger than %zu bytes", r->max_body);
        return 0;
    }
    buf_append(&r->data, ptr, n);
    return n;
}

static bool method_idempotent(const char *m)
{
    return strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0;
}

static bool retryable(const struct net_request *r, CURLcode cc, long status)
{
    if (!method_idempotent(r->method) || r->on_line || r->overflow)
        return false;
    if (cc == CURLE_OK)
        return status == 429 || (status >= 500 && status != 501);
    switch (cc) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_COULDNT_RESOLVE_HOST: return true;
    default: return false;
    }
}

static int attach(struct net *n, struct net_request *r)
{
    if (n->in_perform) { /* curl refuses recursive calls: add after perform returns */
        r->pending_add = true;
        return 0;
    }
    r->pending_add = false;
    if (curl_multi_add_handle(n->multi, r->easy) != CURLM_OK)
        return -1;
    r->attached = true;
    r->started = time_now_ms();
    n->stats.requests++;
    return 0;
}

static void retry_fire(void *ctx)
{
    struct net_request *r = ctx;
    r->retry_timer = 0;
    if (r->cancelled)
        return;
    net_logf(r->net, "retry %d: %s %s", r->attempt, r->method, r->log_url);
    if (attach(r->net, r) < 0) {
        r->cancelled = true; /* cannot happen with a valid handle; drop it quietly */
    }
}

/* Keeps the headers of the final response (a new status line starts over), capped at 16 KiB.
 * Callers read rate-limit headers from them; they are never logged. */
static size_t on_header(char *data, size_t size, size_t nmemb, void *ctx)
{
    struct net_request *r = ctx;
    size_t n = size * nmemb;
    if (n >= 5 && memcmp(data, "HTTP/", 5) == 0)
        buf_reset(&r->resp_headers);
    size_t len = n;
    while (len > 0 && (data[len - 1] == '\n' || data[len - 1] == '\r'))
        len--;
    if (len > 0 && r->resp_headers.len + len + 1 <= 16384) {
        buf_append(&r->resp_headers, data, len);
        buf_append(&r->resp_headers, "\n", 1);
    }
    if (len == 0 && r->on_open && !r->cancelled) { /* the blank line: headers complete */
        long status = 0;
        curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
        if (status >= 200 && status < 300)
            r->on_open(r->ctx, status);
    }
    return n;
}

static void fill_response(struct net_request *r, CURLcode cc, struct net_response *resp)
{
    memset(resp, 0, sizeof *resp);
    long status = 0;
    curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
    resp->curl_code = (int)cc;
    resp->stopped = r->stopped;
    char *ct = NULL;
    curl_easy_getinfo(r->easy, CURLINFO_CONTENT_TYPE, &ct);
    resp->content_type = ct;
    curl_off_t ra = 0;
    if (curl_easy_getinfo(r->easy, CURLINFO_RETRY_AFTER, &ra) == CURLE_OK && ra > 0)
        resp->retry_after = (int64_t)ra;
    resp->headers = r->resp_headers.data ? r->resp_headers.data : "";
    resp->body = r->data.data ? r->data.data : "";
    resp->body_len = r->data.len;
    if (r->overflow) {
        resp->status = status;
        snprintf(resp->error, sizeof resp->error, "%s", r->err);
        return;
    }
    if (cc != CURLE_OK && !r->stopped) {
        /* A stream cut after a 2xx keeps its status, so callers can tell "ended" from "failed". */
        resp->status = status;
        const char *why = r->errbuf[0] ? r->errbuf : curl_easy_strerror(cc);
        snprintf(resp->error, sizeof resp->error, "%s", why);
        return;
    }
    resp->status = status;
}

static void finish(struct net *n, struct net_request *r, CURLcode cc)
{
    curl_multi_remove_handle(n->multi, r->easy);
    r->attached = false;
    if (r->cancelled) {
        request_free(n, r);
        return;
    }
    long status = 0;
    curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
    int64_t ms = time_now_ms() - r->started;
    net_logf(n, "%s %s -> %ld%s%s (%zu bytes, %lld ms)", r->method, r->log_url, status,
             cc ? " " : "", cc ? curl_easy_strerror(cc) : "", r->data.len, (long long)ms);

    if (r->attempt < r->max_retries && retryable(r, cc, status)) {
        int64_t delay = net_backoff_ms(r->attempt, r->retry_base, NET_RETRY_CAP_MS, net_rand(n));
        curl_off_t ra = 0;
        if (curl_easy_getinfo(r->easy, CURLINFO_RETRY_AFTER, &ra) == CURLE_OK && ra > 0)
            delay = (ra > NET_RETRY_AFTER_CAP_S ? NET_RETRY_AFTER_CAP_S : (int64_t)ra) * 1000;
        r->attempt++;
        n->stats.retries++;
        buf_reset(&r->data);
        buf_reset(&r->resp_headers);
        buf_reset(&r->lines.buf);
        r->errbuf[0] = '\0';
        r->retry_timer = net_timer_add(n, delay, retry_fire, r);
        return;
    }
    if (cc == CURLE_OK && r->on_line && status >= 200 && status < 300 && !r->stopped)
        net_lines_flush(&r->lines, deliver_line, r);
    if (r->on_done && !r->cancelled) {
        struct net_response resp;
        fill_response(r, cc, &resp);
        r->finishing = true;
        r->on_done(r->ctx, &resp);
    }
    request_free(n, r);
}

static void perform(struct net *n)
{
    int running = 0;
    n->in_perform++;
    curl_multi_perform(n->multi, &running);
    n->in_perform--;
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(n->multi, &left))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        struct net_request *r = NULL;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&r);
        if (r)
            finish(n, r, msg->data.result);
    }
    /* Requests started or cancelled from inside curl's callbacks. */
    for (struct net_request *r = n->reqs, *next; r; r = next) {
        next = r->next;
        if (r->cancelled)
            request_free(n, r);
        else if (r->pending_add)
            attach(n, r);
    }
}

static char *url_strip_query(const char *url)
{
    size_t k = strcspn(url, "?#");
    return xstrndup(url, k);
}

/* tls-server-name: the URL names the TLS name (so SNI and the certificate check use it) and
 * CONNECT_TO sends the connection to the kubeconfig's real host. */
static int apply_server_name(struct net_request *r, const char *server_name, struct idw_err *err)
{
    CURLU *u = curl_url();
    char *host = NULL, *port = NULL, *nurl = NULL;
    int rc = -1;
    if (curl_url_set(u, CURLUPART_URL, r->url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK) {
        idw_err_set(err, "cannot parse URL for tls-server-name");
        goto out;
    }
    if (strcmp(host, server_name) != 0) {
        if (curl_url_set(u, CURLUPART_HOST, server_name, 0) != CURLUE_OK ||
            curl_url_get(u, CURLUPART_URL, &nurl, 0) != CURLUE_OK) {
            idw_err_set(err, "invalid tls-server-name '%s'", server_name);
            goto out;
        }
        char *ct = xasprintf("%s:%s:%s:%s", server_name, port, host, port);
        r->connect_to = curl_slist_append(NULL, ct);
        free(ct);
        free(r->url);
        r->url = xstrdup(nurl);
    }
    rc = 0;
out:
    curl_free(host);
    curl_free(port);
    curl_free(nurl);
    curl_url_cleanup(u);
    return rc;
}

static int setup_tls(struct net_request *r, const struct net_tls *t, struct idw_err *err)
{
    CURL *e = r->easy;
    if (!t)
        return 0;
    if (t->server_name && *t->server_name) {
        if (apply_server_name(r, t->server_name, err) < 0)
            return -1;
        if (r->connect_to)
            curl_easy_setopt(e, CURLOPT_CONNECT_TO, r->connect_to);
    }
    if (t->ca_pem && t->ca_len) {
        struct curl_blob b = {(void *)t->ca_pem, t->ca_len, CURL_BLOB_COPY};
        curl_easy_setopt(e, CURLOPT_CAINFO_BLOB, &b);
        curl_easy_setopt(e, CURLOPT_CAPATH, NULL); /* only the kubeconfig's CA, like client-go */
    }
    if (t->cert_pem && t->cert_len) {
        struct curl_blob b = {(void *)t->cert_pem, t->cert_len, CURL_BLOB_COPY};
        curl_easy_setopt(e, CURLOPT_SSLCERT_BLOB, &b);
        curl_easy_setopt(e, CURLOPT_SSLCERTTYPE, "PEM");
    }
    if (t->key_pem && t->key_len) {
        struct curl_blob b = {(void *)t->key_pem, t->key_len, CURL_BLOB_COPY};
        curl_easy_setopt(e, CURLOPT_SSLKEY_BLOB, &b);
        curl_easy_setopt(e, CURLOPT_SSLKEYTYPE, "PEM");
    }
    if (t->insecure) {
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    if (t->proxy && *t->proxy)
        curl_easy_setopt(e, CURLOPT_PROXY, t->proxy);
    if (!t->no_compression)
        curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
    return 0;
}

int net_start(struct net *n, const struct net_opts *o, struct net_request **out,
              struct idw_err *err)
{
    if (out)
        *out = NULL;
    if (!o || !o->url || !*o->url)
        return idw_err_set(err, "request without URL");
    const char *method = o->method && *o->method ? o->method : "GET";
    if (n->read_only && net_guard_check(method, o->url, n->authority, err) < 0) {
        n->stats.guard_refused++;
        net_logf(n, "refused (read-only): %s", err ? err->msg : method);
        return -1;
    }
    if (!str_has_prefix(o->url, "https://") && !str_has_prefix(o->url, "http://"))
        return idw_err_set(err, "unsupported URL scheme (https or http only)");

    struct net_request *r = xcalloc(1, sizeof *r);
    r->net = n;
    r->easy = curl_easy_init();
    if (!r->easy) {
        free(r);
        return idw_err_set(err, "curl_easy_init failed");
    }
    r->method = xstrdup(method);
    r->url = xstrdup(o->url);
    r->log_url = url_strip_query(o->url);
    r->on_line = o->on_line;
    r->on_open = o->on_open;
    r->on_done = o->on_done;
    r->ctx = o->ctx;
    r->max_body = o->max_body ? o->max_body : NET_DEFAULT_MAX_BODY;
    r->lines.max_line = o->max_line;
    r->max_retries = method_idempotent(method) ? o->max_retries : 0;
    r->retry_base = o->retry_base_ms > 0 ? o->retry_base_ms : 500;
    /* Linked before the setup so that request_free() can undo a half-built request. */
    r->next = n->reqs;
    if (n->reqs)
        n->reqs->prev = r;
    n->reqs = r;
    n->stats.active++;

    CURL *e = r->easy;
    if (setup_tls(r, o->tls, err) < 0) {
        request_free(n, r);
        return -1;
    }
    curl_easy_setopt(e, CURLOPT_URL, r->url);
    curl_easy_setopt(e, CURLOPT_PRIVATE, (char *)r);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->errbuf);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(e, CURLOPT_USERAGENT, n->user_agent);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
                     o->connect_timeout_ms > 0 ? o->connect_timeout_ms
                                               : (long)NET_DEFAULT_CONNECT_MS);
    if (o->timeout_ms > 0)
        curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, o->timeout_ms);
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
    curl_easy_setopt(e, CURLOPT_PIPEWAIT, 1L);
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(e, CURLOPT_TCP_KEEPIDLE, 30L);
    curl_easy_setopt(e, CURLOPT_TCP_KEEPINTVL, 15L);

    for (const char *const *h = o->headers; h && *h; h++)
        r->hdrs = curl_slist_append(r->hdrs, *h);
    if (o->body)
        r->hdrs = curl_slist_append(r->hdrs, "Expect:");
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->hdrs);

    if (strcmp(method, "HEAD") == 0) {
        curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
    } else if (strcmp(method, "GET") != 0) {
        if (strcmp(method, "POST") != 0)
            curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
        r->body = xmalloc(o->body_len + 1);
        if (o->body_len)
            memcpy(r->body, o->body, o->body_len);
        r->body_len = o->body_len;
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->body_len);
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, r->body);
    }

    if (n->log) {
        net_logf(n, "%s %s", method, r->log_url);
        for (const char *const *h = o->headers; h && *h; h++) {
            char red[256];
            net_redact_header(*h, red, sizeof red);
            net_logf(n, "  %s", red);
        }
    }
    if (attach(n, r) < 0) {
        request_free(n, r);
        return idw_err_set(err, "cannot add transfer");
    }
    if (out)
        *out = r;
    return 0;
}

void net_cancel(struct net *n, struct net_request *r)
{
    if (!r || r->cancelled || r->finishing)
        return;
    r->cancelled = true;
    if (r->retry_timer) {
        net_timer_cancel(n, r->retry_timer);
        r->retry_timer = 0;
    }
    if (!n->in_perform)
        request_free(n, r);
    /* else: freed by perform() once curl's callbacks have returned */
}

/* ---- timers and fds ------------------------------------------------------------------- */

uint64_t net_timer_add(struct net *n, int64_t delay_ms, net_timer_fn fn, void *ctx)
{
    void *p = n->timers;
    xgrow(&p, &n->cap_timers, n->n_timers + 1, sizeof *n->timers);
    n->timers = p;
    struct net_timer *t = &n->timers[n->n_timers++];
    t->id = n->next_id++;
    t->due = time_now_ms() + (delay_ms > 0 ? delay_ms : 0);
    t->fn = fn;
    t->ctx = ctx;
    return t->id;
}

void net_timer_cancel(struct net *n, uint64_t id)
{
    for (size_t i = 0; id && i < n->n_timers; i++) {
        if (n->timers[i].id == id) {
            n->timers[i] = n->timers[--n->n_timers];
            return;
        }
    }
}

uint64_t net_fd_watch(struct net *n, int fd, int events, net_fd_fn fn, void *ctx)
{
    void *p = n->fds;
    xgrow(&p, &n->cap_fds, n->n_fds + 1, sizeof *n->fds);
    n->fds = p;
    struct net_fdw *w = &n->fds[n->n_fds++];
    *w = (struct net_fdw){n->next_id++, fd, events, fn, ctx, false};
    return w->id;
}

void net_fd_unwatch(struct net *n, uint64_t id)
{
    for (size_t i = 0; id && i < n->n_fds; i++)
        if (n->fds[i].id == id)
            n->fds[i].dead = true; /* compacted after dispatch: callers may unwatch in a callback */
}

static void fds_compact(struct net *n)
{
    size_t o = 0;
    for (size_t i = 0; i < n->n_fds; i++)
        if (!n->fds[i].dead)
            n->fds[o++] = n->fds[i];
    n->n_fds = o;
}

static void run_timers(struct net *n)
{
    uint64_t last = n->next_id; /* timers added by these callbacks wait for the next round */
    for (;;) {
        int64_t now = time_now_ms();
        size_t best = SIZE_MAX;
        for (size_t i = 0; i < n->n_timers; i++)
            if (n->timers[i].id < last && n->timers[i].due <= now &&
                (best == SIZE_MAX || n->timers[i].due < n->timers[best].due))
                best = i;
        if (best == SIZE_MAX)
            return;
        struct net_timer t = n->timers[best];
        n->timers[best] = n->timers[--n->n_timers];
        t.fn(t.ctx);
    }
}

int net_poll(struct net *n, int max_wait_ms)
{
    int64_t wait = max_wait_ms < 0 ? 0 : max_wait_ms;
    int64_t now = time_now_ms();
    for (size_t i = 0; i < n->n_timers; i++) {
        int64_t d = n->timers[i].due - now;
        if (d < wait)
            wait = d < 0 ? 0 : d;
    }
    fds_compact(n);
    size_t nf = n->n_fds;
    struct curl_waitfd *w = nf ? xcalloc(nf, sizeof *w) : NULL;
    uint64_t *ids = nf ? xcalloc(nf, sizeof *ids) : NULL;
    for (size_t i = 0; i < nf; i++) {
        w[i].fd = n->fds[i].fd;
        w[i].events = (short)((n->fds[i].events & NET_FD_IN ? CURL_WAIT_POLLIN : 0) |
                              (n->fds[i].events & NET_FD_OUT ? CURL_WAIT_POLLOUT : 0));
        ids[i] = n->fds[i].id;
    }
    curl_multi_poll(n->multi, w, (unsigned)nf, (int)wait, NULL);
    perform(n);
    /* curl reports only POLLIN/OUT/PRI for extra fds; a pipe whose writer exited signals
     * POLLHUP alone, so ask poll() directly (no wait) for the real state. */
    struct pollfd *pf = nf ? xcalloc(nf, sizeof *pf) : NULL;
    for (size_t i = 0; i < nf; i++) {
        pf[i].fd = w[i].fd;
        pf[i].events = (short)((w[i].events & CURL_WAIT_POLLIN ? POLLIN : 0) |
                               (w[i].events & CURL_WAIT_POLLOUT ? POLLOUT : 0));
    }
    if (nf && poll(pf, nf, 0) > 0) {
        for (size_t i = 0; i < nf; i++) {
            if (!pf[i].revents)
                continue;
            int ev = (pf[i].revents & (POLLIN | POLLPRI | POLLHUP | POLLERR | POLLNVAL) ? NET_FD_IN
                                                                                        : 0) |
                     (pf[i].revents & POLLOUT ? NET_FD_OUT : 0);
            for (size_t j = 0; j < n->n_fds; j++) {
                struct net_fdw *f = &n->fds[j];
                if (f->id != ids[i] || f->dead)
                    continue;
                f->fn(f->ctx, f->fd, ev);
                break; /* f may be stale now (the array can grow in the callback) */
            }
        }
    }
    free(pf);
    free(w);
    free(ids);
    run_timers(n);
    fds_compact(n);
    return (int)n->stats.active;
}

void net_wakeup(struct net *n)
{
    curl_multi_wakeup(n->multi);
}
