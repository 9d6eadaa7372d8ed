/* server: idwatch-sim's HTTPS front: libmicrohttpd plumbing, authentication, the route table of
 * fronts, request statistics, fault injection and the /_sim endpoints (see server.h). */
#define _GNU_SOURCE /* RTLD_DEFAULT */
#include "server.h"

#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <microhttpd.h>
#include <openssl/crypto.h>

#include "azure_sim.h"
#include "server_internal.h"

/* ---- Status objects ---- */

static const struct {
    int code;
    const char *reason;
} reasons[] = {
    {400, "BadRequest"},
    {401, "Unauthorized"},
    {403, "Forbidden"},
    {404, "NotFound"},
    {405, "MethodNotAllowed"},
    {406, "NotAcceptable"},
    {409, "Conflict"},
    {410, "Expired"},
    {413, "RequestEntityTooLarge"},
    {415, "UnsupportedMediaType"},
    {422, "Invalid"},
    {429, "TooManyRequests"},
    {500, "InternalError"},
    {503, "ServiceUnavailable"},
    {504, "Timeout"},
};

const char *status_reason(int code)
{
    for (size_t i = 0; i < sizeof reasons / sizeof *reasons; i++)
        if (reasons[i].code == code)
            return reasons[i].reason;
    return code >= 500 ? "InternalError" : "BadRequest";
}

/* A Status in the API server's field order (details, when given, is taken over). */
static cJSON *status_build(int code, const char *reason, const char *message, cJSON *details)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "kind", "Status");
    cJSON_AddStringToObject(o, "apiVersion", "v1");
    cJSON_AddObjectToObject(o, "metadata");
    cJSON_AddStringToObject(o, "status", "Failure");
    cJSON_AddStringToObject(o, "message", message);
    cJSON_AddStringToObject(o, "reason", reason ? reason : status_reason(code));
    if (details)
        cJSON_AddItemToObject(o, "details", details);
    cJSON_AddNumberToObject(o, "code", code);
    return o;
}

cJSON *status_object(int code, const char *reason, const char *message)
{
    return status_build(code, reason, message, NULL);
}

void resp_json(struct server_resp *r, int status, cJSON *obj)
{
    char *s = cJSON_PrintUnformatted(obj);
    cJSON_Delete(obj);
    r->status = status;
    r->content_type = "application/json";
    buf_reset(&r->body);
    buf_puts(&r->body, s);
    buf_puts(&r->body, "\n");
    cJSON_free(s);
}

void resp_status(struct server_resp *r, int code, const char *reason, const char *name,
                 const char *group, const char *kind, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = xvasprintf(fmt, ap);
    va_end(ap);
    cJSON *d = NULL;
    if (name || group || kind || r->retry_after) {
        d = cJSON_CreateObject();
        if (name)
            cJSON_AddStringToObject(d, "name", name);
        if (group)
            cJSON_AddStringToObject(d, "group", group);
        if (kind)
            cJSON_AddStringToObject(d, "kind", kind);
        if (r->retry_after)
            cJSON_AddNumberToObject(d, "retryAfterSeconds", (double)r->retry_after);
    }
    resp_json(r, code, status_build(code, reason, msg, d));
    free(msg);
}

const char *json_path_str(const cJSON *obj, const char *dotted)
{
    char key[128];
    const char *p = dotted;
    const cJSON *cur = obj;
    while (cur && *p) {
        size_t n = strcspn(p, ".");
        if (n >= sizeof key)
            return NULL;
        memcpy(key, p, n);
        key[n] = '\0';
        cur = cJSON_GetObjectItemCaseSensitive(cur, key);
        p += n;
        if (*p == '.')
            p++;
    }
    return cJSON_IsString(cur) ? cur->valuestring : NULL;
}

/* ---- statistics ---- */

static const char *const method_names[] = {
#define X(m) #m,
    SERVER_METHODS(X)
#undef X
};

static enum server_method method_parse(const char *m)
{
    for (int i = 0; i < SERVER_M_OTHER; i++)
        if (strcmp(m, method_names[i]) == 0)
            return (enum server_method)i;
    return SERVER_M_OTHER;
}

/* Requests that change nothing even though they are not GET: the read-only allow-list of net. */
static bool req_is_harmless_post(const struct server_req *req)
{
    if (req->cls == SERVER_CLASS_SSAR || req->cls == SERVER_CLASS_TOKEN)
        return true;
    return req->kp_ok && req->kp.kind == SERVER_PATH_SUB &&
           str_eq(req->kp.resource, "serviceaccounts") && str_eq(req->kp.sub, "token");
}

static void stats_count(struct server_req *req)
{
    struct server *srv = req->srv;
    bool mutating = req->method == SERVER_M_POST || req->method == SERVER_M_PUT ||
                    req->method == SERVER_M_PATCH || req->method == SERVER_M_DELETE;
    bool counted_write = mutating && req->cls != SERVER_CLASS_SIM && !req_is_harmless_post(req);
    bool dry = str_eq(req->q.dry_run, "All");
    pthread_mutex_lock(&srv->mu);
    srv->stats.total++;
    srv->stats.by_method[req->method]++;
    srv->stats.by_class[req->cls]++;
    if (req->method != SERVER_M_GET && req->method != SERVER_M_HEAD && req->cls != SERVER_CLASS_SIM)
        srv->stats.non_get++;
    if (counted_write) {
        if (dry)
            srv->stats.dry_runs++;
        else
            srv->stats.writes++;
    }
    pthread_mutex_unlock(&srv->mu);
}

static void stats_add_bytes(struct server *srv, uint64_t n)
{
    pthread_mutex_lock(&srv->mu);
    srv->stats.bytes_sent += n;
    pthread_mutex_unlock(&srv->mu);
}

static cJSON *stats_json(struct server *srv)
{
    pthread_mutex_lock(&srv->mu);
    struct server_stats st = srv->stats;
    pthread_mutex_unlock(&srv->mu);
    cJSON *o = cJSON_CreateObject();
    cJSON *rq = cJSON_AddObjectToObject(o, "requests");
    cJSON_AddNumberToObject(rq, "total", (double)st.total);
    cJSON *bm = cJSON_AddObjectToObject(rq, "by_method");
    for (int i = 0; i < SERVER_M_COUNT; i++)
        if (st.by_method[i])
            cJSON_AddNumberToObject(bm, method_names[i], (double)st.by_method[i]);
    cJSON *bc = cJSON_AddObjectToObject(rq, "by_path_class");
    for (int i = 0; i < SERVER_CLASS_COUNT; i++)
        cJSON_AddNumberToObject(bc, server_class_name((enum server_class)i),
                                (double)st.by_class[i]);
    cJSON_AddNumberToObject(o, "bytes_sent", (double)st.bytes_sent);
    cJSON_AddNumberToObject(o, "non_get", (double)st.non_get);
    cJSON_AddNumberToObject(o, "writes", (double)st.writes);
    cJSON_AddNumberToObject(o, "dry_runs", (double)st.dry_runs);
    return o;
}

/* ---- faults ---- */

/* Takes one use of the first fault of (class, kind); true (and its value) when there was one. */
static bool fault_take(struct server *srv, enum server_class cls, enum server_fault_kind kind,
                       int64_t *value)
{
    bool found = false;
    pthread_mutex_lock(&srv->mu);
    for (size_t i = 0; i < srv->n_faults; i++) {
        struct server_fault *f = &srv->faults[i];
        if (f->cls != cls || f->kind != kind)
            continue;
        found = true;
        if (value)
            *value = f->value;
        if (f->count > 0 && --f->count == 0) {
            memmove(f, f + 1, (srv->n_faults - i - 1) * sizeof *f);
            srv->n_faults--;
        }
        break;
    }
    pthread_mutex_unlock(&srv->mu);
    return found;
}

static cJSON *faults_json(struct server *srv)
{
    cJSON *arr = cJSON_CreateArray();
    pthread_mutex_lock(&srv->mu);
    for (size_t i = 0; i < srv->n_faults; i++) {
        char spec[96];
        server_fault_format(&srv->faults[i], spec, sizeof spec);
        cJSON_AddItemToArray(arr, cJSON_CreateString(spec));
    }
    pthread_mutex_unlock(&srv->mu);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "faults", arr);
    return o;
}

static int faults_add(struct server *srv, const char *spec, struct idw_err *err)
{
    pthread_mutex_lock(&srv->mu);
    int rc = server_faults_parse(spec, &srv->faults, &srv->n_faults, &srv->cap_faults, err);
    pthread_mutex_unlock(&srv->mu);
    return rc;
}

static void ms_sleep(struct server *srv, int64_t ms)
{
    while (ms > 0 && !atomic_load(&srv->stopping)) {
        int64_t step = ms > 100 ? 100 : ms;
        struct timespec ts = {0, step * 1000000L};
        nanosleep(&ts, NULL);
        ms -= step;
    }
}

/* Faults decided before a request is handled. True when the response is already made. */
static bool faults_before(struct server_req *req, struct server_resp *resp)
{
    struct server *srv = req->srv;
    int64_t v;
    if (req->cls == SERVER_CLASS_SIM)
        return false;
    if (fault_take(srv, req->cls, SERVER_FAULT_LATENCY, &v))
        ms_sleep(srv, v);
    if (fault_take(srv, req->cls, SERVER_FAULT_THROTTLE, &v)) {
        resp->retry_after = v;
        resp_status(resp, 429, "TooManyRequests", NULL, NULL, NULL,
                    "Too many requests, please try again later.");
        return true;
    }
    if (fault_take(srv, req->cls, SERVER_FAULT_FORBIDDEN, NULL)) {
        resp_status(resp, 403, "Forbidden", NULL, NULL, NULL,
                    "forbidden: User \"%s\" cannot %s this resource (injected by idwatch-sim)",
                    req->user[0] ? req->user : "system:anonymous",
                    req->method == SERVER_M_GET ? "get" : "change");
        return true;
    }
    if (fault_take(srv, req->cls, SERVER_FAULT_ERROR5XX, &v)) {
        int code = (int)v;
        resp_status(resp, code, status_reason(code), NULL, NULL, NULL,
                    code == 503 ? "the server is currently unable to handle the request"
                                : "Internal error occurred: injected by idwatch-sim");
        return true;
    }
    /* 410: a watch answers with an ERROR event, a continued list with Expired; elsewhere Gone */
    bool continued_list = req->cls == SERVER_CLASS_LIST && req->q.continue_token;
    if ((req->cls != SERVER_CLASS_LIST || continued_list) &&
        fault_take(srv, req->cls, SERVER_FAULT_GONE, NULL)) {
        if (req->cls == SERVER_CLASS_WATCH || continued_list) {
            req->gone_fault = true;
            return false;
        }
        resp_status(resp, 410, "Gone", NULL, NULL, NULL, "the resource is gone (injected)");
        return true;
    }
    if (fault_take(srv, req->cls, SERVER_FAULT_RESET, NULL))
        req->reset_fault = true;
    if (fault_take(srv, req->cls, SERVER_FAULT_STALL, NULL))
        req->stall_fault = true;
    return false;
}

/* ---- streams ---- */

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    struct server_stream *st = cls;
    while (st->off >= st->pending.len) {
        if (st->done || atomic_load(&st->srv->stopping))
            return MHD_CONTENT_READER_END_OF_STREAM;
        buf_reset(&st->pending);
        st->off = 0;
        int rc = st->next(st, &st->pending);
        if (rc < 0)
            return MHD_CONTENT_READER_END_WITH_ERROR;
        if (rc > 0)
            st->done = true;
    }
    size_t n = st->pending.len - st->off;
    if (n > max)
        n = max;
    if (st->fail_after >= 0) {
        if (st->sent >= (uint64_t)st->fail_after)
            return MHD_CONTENT_READER_END_WITH_ERROR;
        if (st->sent + n > (uint64_t)st->fail_after)
            n = (size_t)((uint64_t)st->fail_after - st->sent);
    }
    memcpy(buf, st->pending.data + st->off, n);
    st->off += n;
    st->sent += n;
    stats_add_bytes(st->srv, n);
    return (ssize_t)n;
}

static void stream_free(void *cls)
{
    struct server_stream *st = cls;
    buf_free(&st->pending);
    if (st->free)
        st->free(st);
    else
        free(st);
}

/* A fixed body delivered as a stream (for the truncate fault: a full Content-Length, half a body).
 */
static int body_next(struct server_stream *st, struct idw_buf *out)
{
    (void)st;
    (void)out;
    return 1;
}

/* ---- authentication ---- */

typedef int (*get_peers_fn)(gnutls_session_t, unsigned int *);

static bool auth_client_cert(struct server *srv, struct MHD_Connection *conn, char *user,
                             size_t user_len)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);
    if (!ci || !ci->tls_session)
        return false;
    /* libmicrohttpd brings GnuTLS into the process; we only borrow its peer-certificate getter
     * (the build does not link GnuTLS itself) and verify with OpenSSL. */
    const gnutls_datum_t *(*get_peers)(gnutls_session_t, unsigned int *);
    *(void **)(&get_peers) = dlsym(RTLD_DEFAULT, "gnutls_certificate_get_peers");
    if (!get_peers)
        return false;
    unsigned int n = 0;
    const gnutls_datum_t *certs = get_peers((gnutls_session_t)ci->tls_session, &n);
    if (!certs || n == 0)
        return false;
    char cn[128], org[128];
    if (server_tls_check_client(&srv->tls, certs[0].data, certs[0].size, cn, sizeof cn, org,
                                sizeof org) != 0)
        return false;
    snprintf(user, user_len, "%s", cn);
    return true;
}

static bool authenticate(struct server_req *req, struct MHD_Connection *conn)
{
    struct server *srv = req->srv;
    const char *h = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
    if (h && strncmp(h, "Bearer ", 7) == 0) {
        const char *tok = h + 7;
        size_t n = strlen(tok);
        for (size_t i = 0; i < srv->n_tokens; i++) {
            if (strlen(srv->tokens[i].token) == n &&
                CRYPTO_memcmp(srv->tokens[i].token, tok, n) == 0) {
                snprintf(req->user, sizeof req->user, "%s", srv->tokens[i].user);
                return true;
            }
        }
    }
    return auth_client_cert(srv, conn, req->user, sizeof req->user);
}

/* ---- the /_sim front ---- */

static bool sim_match(const struct server_req *req)
{
    return str_has_prefix(req->path, "/_sim/");
}

static void sim_handle(struct server_req *req, struct server_resp *resp)
{
    struct server *srv = req->srv;
    const char *what = req->path + 6;
    struct idw_err err = {{0}};
    if (strcmp(what, "stats") == 0 && req->method == SERVER_M_GET) {
        resp_json(resp, 200, stats_json(srv));
    } else if (strcmp(what, "faults") == 0 && req->method == SERVER_M_GET) {
        resp_json(resp, 200, faults_json(srv));
    } else if (strcmp(what, "faults") == 0 && req->method == SERVER_M_POST) {
        if (faults_add(srv, req->body.data ? req->body.data : "", &err) != 0)
            resp_status(resp, 400, "BadRequest", NULL, NULL, NULL, "%s", err.msg);
        else
            resp_json(resp, 200, faults_json(srv));
    } else if (strcmp(what, "faults") == 0 && req->method == SERVER_M_DELETE) {
        pthread_mutex_lock(&srv->mu);
        srv->n_faults = 0;
        pthread_mutex_unlock(&srv->mu);
        resp_json(resp, 200, faults_json(srv));
    } else if (strcmp(what, "compact") == 0 && req->method == SERVER_M_POST) {
        sim_lock(srv->sim);
        sim_compact(srv->sim);
        uint64_t rv = sim_resource_version(srv->sim);
        sim_unlock(srv->sim);
        cJSON *o = cJSON_CreateObject();
        char num[32];
        snprintf(num, sizeof num, "%" PRIu64, rv);
        cJSON_AddStringToObject(o, "resourceVersion", num);
        resp_json(resp, 200, o);
    } else if (strcmp(what, "advance") == 0 && req->method == SERVER_M_POST) {
        if (!req->q.has_seconds || req->q.seconds < 1 || req->q.seconds > 30LL * 24 * 3600) {
            resp_status(resp, 400, "BadRequest", NULL, NULL, NULL,
                        "advance needs ?seconds=N with 1 <= N <= 2592000");
            return;
        }
        sim_lock(srv->sim);
        sim_advance(srv->sim, req->q.seconds * INT64_C(1000000000));
        int64_t now = sim_now_ns(srv->sim);
        sim_unlock(srv->sim);
        char ts[32];
        time_format_rfc3339(now / INT64_C(1000000000), ts);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "now", ts);
        resp_json(resp, 200, o);
    } else if (strcmp(what, "drop-logs") == 0 && req->method == SERVER_M_POST) {
        atomic_fetch_add(&srv->drop_logs, 1);
        resp_json(resp, 200, cJSON_CreateObject());
    } else if (strcmp(what, "stats") == 0 || strcmp(what, "faults") == 0 ||
               strcmp(what, "compact") == 0 || strcmp(what, "advance") == 0 ||
               strcmp(what, "drop-logs") == 0) {
        resp_status(resp, 405, "MethodNotAllowed", NULL, NULL, NULL,
                    "the server does not allow this method on the requested resource");
    } else {
        resp_status(resp, 404, "NotFound", NULL, NULL, NULL,
                    "the server could not find the requested resource");
    }
}

/* ---- routing ---- */

struct front {
    const char *name;
    bool needs_auth;
    bool (*match)(const struct server_req *req);
    void (*handle)(struct server_req *req, struct server_resp *resp);
    void (*fault_body)(struct server_req *req, struct server_resp *resp); /* NULL: a Status */
};

/* First match wins. The Azure side (ARM, Entra token endpoint) adds rows here. */
static const struct front fronts[] = {
    {"sim", false, sim_match, sim_handle, NULL},
    {"azure", false, azure_sim_match, azure_sim_handle, azure_sim_fault_body}, /* own auth */
    {"oidc", true, oidc_match, oidc_handle, NULL},
    {"kube", true, kube_match, kube_handle, NULL},
};

static enum server_class classify(const struct server_req *req)
{
    if (sim_match(req))
        return SERVER_CLASS_SIM;
    if (azure_sim_match(req))
        return azure_sim_classify(req);
    if (oidc_match(req))
        return SERVER_CLASS_OIDC;
    if (req->kp_ok)
        return kube_classify(req);
    return SERVER_CLASS_OTHER;
}

static void dispatch(struct server_req *req, struct MHD_Connection *conn, struct server_resp *resp)
{
    struct idw_err err = {{0}};
    int qrc = server_query_parse(req->raw_query, &req->q, &err);
    req->kp_ok = server_path_parse(req->path, &req->kp) == 0;
    req->cls = classify(req);
    stats_count(req);
    const struct front *f = NULL;
    for (size_t i = 0; i < sizeof fronts / sizeof *fronts && !f; i++)
        if (fronts[i].match(req))
            f = &fronts[i];
    if (f && f->needs_auth && !authenticate(req, conn)) {
        resp_json(resp, 401, status_object(401, "Unauthorized", "Unauthorized"));
        return;
    }
    if (req->body_too_large) {
        resp_status(resp, 413, "RequestEntityTooLarge", NULL, NULL, NULL,
                    "the request body exceeds %u bytes", SERVER_MAX_BODY);
        return;
    }
    if (qrc) {
        resp_status(resp, 400, "BadRequest", NULL, NULL, NULL, "%s", err.msg);
        return;
    }
    if (!f) {
        resp_status(resp, 404, "NotFound", NULL, NULL, NULL,
                    "the server could not find the requested resource");
        return;
    }
    if (faults_before(req, resp)) {
        if (f->fault_body)
            f->fault_body(req, resp);
        return;
    }
    f->handle(req, resp);
    if (req->cls == SERVER_CLASS_SIM)
        return;
    if (fault_take(req->srv, req->cls, SERVER_FAULT_MALFORMED, NULL)) {
        if (resp->stream) /* a stream gets one line that is not JSON */
            buf_puts(&resp->stream->pending, "{\"type\":\"ADDED\",\"object\":{\"kind\":\n");
        else if (resp->body.len > 1)
            resp->body.data[resp->body.len /= 2] = '\0';
    }
    if (fault_take(req->srv, req->cls, SERVER_FAULT_TRUNCATE, NULL)) {
        if (!resp->stream) {
            struct server_stream *st = xcalloc(1, sizeof *st);
            st->next = body_next;
            st->pending = resp->body;
            st->fail_after = (int64_t)(resp->body.len / 2);
            memset(&resp->body, 0, sizeof resp->body);
            resp->stream = st;
        }
        req->reset_fault = true;
    }
    if (req->reset_fault && !resp->stream)
        resp->drop = true;
}

/* ---- libmicrohttpd callbacks ---- */

static void *uri_log_cb(void *cls, const char *uri, struct MHD_Connection *conn)
{
    (void)conn;
    struct server_req *req = xcalloc(1, sizeof *req);
    req->srv = cls;
    req->uri = xstrdup(uri ? uri : "/");
    return req;
}

static void completed_cb(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)conn;
    (void)toe;
    struct server_req *req = *con_cls;
    if (!req)
        return;
    server_query_free(&req->q);
    free(req->uri);
    free(req->path);
    buf_free(&req->body);
    free(req);
    *con_cls = NULL;
}

static enum MHD_Result queue(struct server_req *req, struct MHD_Connection *conn,
                             struct server_resp *resp)
{
    struct MHD_Response *r;
    if (resp->stream) {
        struct server_stream *st = resp->stream;
        st->srv = req->srv;
        if (req->reset_fault && st->fail_after < 0)
            st->fail_after = st->pending.len ? (int64_t)st->pending.len : 1;
        uint64_t size = st->next == body_next ? st->pending.len : MHD_SIZE_UNKNOWN;
        r = MHD_create_response_from_callback(size, 32 * 1024, stream_read, st, stream_free);
        if (!r) {
            stream_free(st);
            return MHD_NO;
        }
    } else {
        size_t len = resp->body.len;
        r = MHD_create_response_from_buffer(len, len ? resp->body.data : (void *)"",
                                            MHD_RESPMEM_MUST_COPY);
        if (!r)
            return MHD_NO;
        stats_add_bytes(req->srv, len);
    }
    if (resp->content_type)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, resp->content_type);
    if (resp->retry_after) {
        char v[32];
        snprintf(v, sizeof v, "%" PRId64, resp->retry_after);
        MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, v);
    }
    if (resp->cache_control)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, resp->cache_control);
    for (char *line = resp->headers.data, *nl; line && (nl = strchr(line, '\n')); line = nl + 1) {
        char *colon = memchr(line, ':', (size_t)(nl - line));
        if (!colon)
            continue;
        *colon = *nl = '\0'; /* the buffer is ours and freed right after */
        MHD_add_response_header(r, line, colon + 2 <= nl ? colon + 2 : "");
    }
    enum MHD_Result rc = MHD_queue_response(conn, (unsigned)resp->status, r);
    MHD_destroy_response(r);
    return rc;
}

static enum MHD_Result access_cb(void *cls, struct MHD_Connection *conn, const char *url,
                                 const char *method, const char *version, const char *upload,
                                 size_t *upload_size, void **con_cls)
{
    (void)cls;
    (void)url;
    (void)version;
    struct server_req *req = *con_cls;
    if (!req)
        return MHD_NO;
    if (!req->started) {
        req->started = true;
        req->method_str = method;
        req->method = method_parse(method);
        size_t plen = strcspn(req->uri, "?");
        req->path = xstrndup(req->uri, plen);
        req->raw_query = req->uri[plen] == '?' ? req->uri + plen + 1 : NULL;
        req->accept = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Accept");
        req->content_type = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Type");
        req->authorization = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
        const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
        if (cl && strtoull(cl, NULL, 10) > SERVER_MAX_BODY)
            req->body_too_large = true;
        return MHD_YES;
    }
    if (*upload_size) {
        if (!req->body_too_large && req->body.len + *upload_size <= SERVER_MAX_BODY)
            buf_append(&req->body, upload, *upload_size);
        else
            req->body_too_large = true;
        *upload_size = 0;
        return MHD_YES;
    }
    struct server_resp resp = {.status = 200, .content_type = "application/json"};
    dispatch(req, conn, &resp);
    enum MHD_Result rc;
    if (resp.drop) {
        rc = MHD_NO; /* closes the connection: what a reset looks like to the client */
    } else {
        rc = queue(req, conn, &resp);
    }
    buf_free(&resp.body);
    buf_free(&resp.headers);
    return rc;
}

/* ---- state directory ---- */

static int write_file(const char *dir, const char *name, const char *content, mode_t mode,
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

/* YAML double-quoted scalar (paths may hold anything). */
static void yaml_quote(struct idw_buf *b, const char *s)
{
    buf_puts(b, "\"");
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            buf_printf(b, "\\%c", *s);
        else if ((unsigned char)*s < 0x20)
            buf_printf(b, "\\x%02x", (unsigned char)*s);
        else
            buf_append(b, s, 1);
    }
    buf_puts(b, "\"");
}

static int write_state_dir(struct server *srv, const struct server_options *opt,
                           struct idw_err *err)
{
    char *ca = server_b64_std(srv->tls.ca_cert_pem, strlen(srv->tls.ca_cert_pem));
    char *cc = server_b64_std(srv->tls.client_cert_pem, strlen(srv->tls.client_cert_pem));
    char *ck = server_b64_std(srv->tls.client_key_pem, strlen(srv->tls.client_key_pem));
    struct idw_buf b = {0};
    buf_printf(&b,
               "apiVersion: v1\n"
               "kind: Config\n"
               "preferences: {}\n"
               "clusters:\n"
               "- name: idwatch-sim\n"
               "  cluster:\n"
               "    server: %s\n"
               "    certificate-authority-data: %s\n"
               "contexts:\n",
               srv->url, ca);
    static const char *const users[] = {"sim-token", "sim-cert", "sim-exec"};
    for (size_t i = 0; i < 3; i++)
        buf_printf(&b,
                   "- name: %s\n"
                   "  context:\n"
                   "    cluster: idwatch-sim\n"
                   "    user: %s\n",
                   users[i], users[i]);
    buf_printf(&b,
               "current-context: sim-token\n"
               "users:\n"
               "- name: sim-token\n"
               "  user:\n"
               "    token: %s\n"
               "- name: sim-cert\n"
               "  user:\n"
               "    client-certificate-data: %s\n"
               "    client-key-data: %s\n"
               "- name: sim-exec\n"
               "  user:\n"
               "    exec:\n"
               "      apiVersion: client.authentication.k8s.io/v1\n"
               "      command: ",
               srv->tokens[0].token, cc, ck);
    yaml_quote(&b, opt->exec_plugin ? opt->exec_plugin : "exec-plugin.sh");
    buf_printf(&b,
               "\n"
               "      args: null\n"
               "      env:\n"
               "      - name: IDWSIM_EXEC_TOKEN\n"
               "        value: %s\n"
               "      interactiveMode: Never\n"
               "      provideClusterInfo: false\n",
               srv->tokens[1].token);
    int rc = write_file(opt->state_dir, "kubeconfig", b.data, 0600, err);
    OPENSSL_cleanse(b.data, b.len);
    buf_free(&b);
    OPENSSL_cleanse(ck, strlen(ck));
    free(ca);
    free(cc);
    free(ck);
    if (rc == 0)
        rc = write_file(opt->state_dir, "ca.crt", srv->tls.ca_cert_pem, 0644, err);
    if (rc == 0)
        rc = azure_sim_write_state(srv->azure, opt->state_dir, err);
    return rc;
}

/* ---- tokens ---- */

static void token_add(struct server *srv, const char *token, const char *user)
{
    srv->tokens = xrealloc(srv->tokens, (srv->n_tokens + 1) * sizeof *srv->tokens);
    srv->tokens[srv->n_tokens].token = xstrdup(token);
    srv->tokens[srv->n_tokens].user = xstrdup(user);
    srv->n_tokens++;
}

/* The kubeconfig's token and the exec plugin's are random per run; a scenario may add more
 * ("auth": {"tokens": [{"token": "...", "user": "reader"}]}) to test other users' RBAC. */
static void tokens_init(struct server *srv)
{
    char tok[65];
    server_random_hex(tok, 32);
    token_add(srv, tok, "admin");
    server_random_hex(tok, 32);
    token_add(srv, tok, "admin");
    OPENSSL_cleanse(tok, sizeof tok);
    const cJSON *auth = cJSON_GetObjectItemCaseSensitive(sim_scenario(srv->sim), "auth");
    const cJSON *t;
    cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(auth, "tokens"))
    {
        const char *token = json_path_str(t, "token"), *user = json_path_str(t, "user");
        if (token && user && strlen(token) >= 8)
            token_add(srv, token, user);
    }
}

/* ---- lifetime ---- */

uint16_t server_port(const struct server *srv)
{
    return srv->port;
}

static void server_free(struct server *srv)
{
    for (size_t i = 0; i < srv->n_tokens; i++) {
        OPENSSL_cleanse(srv->tokens[i].token, strlen(srv->tokens[i].token));
        free(srv->tokens[i].token);
        free(srv->tokens[i].user);
    }
    free(srv->tokens);
    free(srv->faults);
    azure_sim_free(srv->azure);
    server_tls_free(&srv->tls);
    pthread_mutex_destroy(&srv->mu);
    free(srv);
}

int server_start(struct sim *s, const struct server_options *opt, struct server **out,
                 struct idw_err *err)
{
    *out = NULL;
    struct server *srv = xcalloc(1, sizeof *srv);
    srv->sim = s;
    pthread_mutex_init(&srv->mu, NULL);
    atomic_init(&srv->stopping, false);
    if (opt->faults && server_faults_parse(opt->faults, &srv->faults, &srv->n_faults,
                                           &srv->cap_faults, err) != 0) {
        idw_err_prefix(err, "--faults");
        server_free(srv);
        return -1;
    }
    if (server_tls_generate(&srv->tls, err) != 0) {
        server_free(srv);
        return -1;
    }
    sim_lock(s);
    tokens_init(srv);
    sim_unlock(s);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(opt->port)};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    srv->daemon = MHD_start_daemon(
        MHD_USE_TLS | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
            MHD_USE_POLL,
        opt->port,
        NULL, NULL, access_cb, srv, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
        MHD_OPTION_HTTPS_MEM_KEY, srv->tls.server_key_pem, MHD_OPTION_HTTPS_MEM_CERT,
        srv->tls.server_cert_pem, MHD_OPTION_HTTPS_MEM_TRUST, srv->tls.ca_cert_pem,
        MHD_OPTION_URI_LOG_CALLBACK, uri_log_cb, srv, MHD_OPTION_NOTIFY_COMPLETED, completed_cb,
        srv, MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024), MHD_OPTION_CONNECTION_TIMEOUT,
        300u, MHD_OPTION_CONNECTION_LIMIT, 1500u, MHD_OPTION_END);
    if (!srv->daemon) {
        idw_err_set(err, "cannot listen on 127.0.0.1:%u (port in use, or TLS setup failed)",
                    (unsigned)opt->port);
        server_free(srv);
        return -1;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(srv->daemon, MHD_DAEMON_INFO_BIND_PORT);
    srv->port = di ? di->port : opt->port;
    snprintf(srv->url, sizeof srv->url, "https://127.0.0.1:%u", (unsigned)srv->port);
    if (azure_sim_new(srv, &srv->azure, err) != 0 || write_state_dir(srv, opt, err) != 0) {
        MHD_stop_daemon(srv->daemon);
        server_free(srv);
        return -1;
    }
    *out = srv;
    return 0;
}

void server_stop(struct server *srv)
{
    if (!srv)
        return;
    MHD_quiesce_daemon(srv->daemon);
    atomic_store(&srv->stopping, true); /* streams see it within SERVER_WAIT_MS */
    MHD_stop_daemon(srv->daemon);
    server_free(srv);
}
