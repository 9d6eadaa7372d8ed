/* server_internal: what server.c (plumbing, auth, stats, faults, /_sim) shares with the fronts
 * (server_kube.c: Kubernetes API and OIDC; server_table.c: Table rendering). Not a contract. */
#ifndef IDWSIM_SERVER_INTERNAL_H
#define IDWSIM_SERVER_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "idwatch/core.h"
#include "server.h"
#include "server_parse.h"
#include "server_tls.h"
#include "simstate.h"

#define SERVER_MAX_BODY (3u * 1024 * 1024) /* the API server's own limit is 3 MiB */
#define SERVER_WAIT_MS 250                 /* streams re-check stop and deadlines this often */

#define SERVER_METHODS(X) X(GET) X(HEAD) X(POST) X(PUT) X(PATCH) X(DELETE) X(OPTIONS) X(OTHER)
enum server_method {
#define X(m) SERVER_M_##m,
    SERVER_METHODS(X)
#undef X
        SERVER_M_COUNT
};

struct server_stats {
    uint64_t total;
    uint64_t by_method[SERVER_M_COUNT];
    uint64_t by_class[SERVER_CLASS_COUNT];
    uint64_t bytes_sent;
    uint64_t non_get;
    uint64_t writes;
    uint64_t dry_runs;
};

struct server_token {
    char *token;
    char *user;
};

struct server {
    struct sim *sim;
    struct MHD_Daemon *daemon;
    uint16_t port;
    char url[64]; /* https://127.0.0.1:PORT */
    struct server_tls tls;
    struct server_token *tokens; /* kubeconfig token, exec token, scenario tokens */
    size_t n_tokens;
    atomic_bool stopping;
    atomic_uint drop_logs; /* POST /_sim/drop-logs: every open log stream is cut mid-body */

    pthread_mutex_t mu; /* guards stats and faults (never held together with the sim lock) */
    struct server_stats stats;
    struct server_fault *faults;
    size_t n_faults, cap_faults;

    struct azure_sim *azure; /* ARM, Graph, Entra ID, public issuer (azure_sim.h) */
};

/* A response being built: a buffered body, or a stream. */
struct server_stream;
struct server_stream {
    /* Appends the next bytes to out; returns 0 (more may come), 1 (done) or -1 (abort: the
     * connection is dropped mid-body). May block (it runs on the connection's own thread). */
    int (*next)(struct server_stream *st, struct idw_buf *out);
    void (*free)(struct server_stream *st);
    struct server *srv;
    struct idw_buf pending;
    size_t off;
    bool done;
    int64_t fail_after; /* bytes after which to drop the connection (faults); <0 = never */
    uint64_t sent;
};

struct server_resp {
    int status;
    const char *content_type;
    struct idw_buf body;
    int64_t retry_after;       /* seconds, 0 = no header */
    const char *cache_control; /* NULL = none */
    bool drop;                 /* close the connection without an answer */
    struct server_stream *stream;
    struct idw_buf headers; /* extra "Name: value\n" lines (ARM request ids, rate limits) */
};

struct server_req {
    struct server *srv;
    const char *method_str;
    enum server_method method;
    char *uri;  /* raw request target, owned */
    char *path; /* raw path (before '?'), owned */
    const char *raw_query;
    const char *accept;
    const char *content_type;
    const char *authorization; /* the header, for fronts with their own tokens (Azure) */
    struct server_query q;
    struct server_path kp;
    bool kp_ok;
    enum server_class cls;
    struct idw_buf body;
    bool body_too_large;
    bool started; /* the handler ran the first (headers) pass */
    char user[128];
    bool gone_fault;  /* a 410 fault is due (watch: ERROR event; list: expired continue) */
    bool reset_fault; /* drop the stream after its first bytes */
    bool stall_fault; /* a stream that sends what it has, then nothing more (kept open) */
};

/* ---- responses (server.c) ---- */
void resp_json(struct server_resp *r, int status, cJSON *obj); /* prints and frees obj */
/* A Status object; name/group/kind fill details when non-NULL. */
void resp_status(struct server_resp *r, int code, const char *reason, const char *name,
                 const char *group, const char *kind, const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));
cJSON *status_object(int code, const char *reason, const char *message);
/* Reason phrase for an HTTP status ("NotFound"). */
const char *status_reason(int code);

/* ---- fronts ---- */
/* Kubernetes API + OIDC (server_kube.c). */
bool kube_match(const struct server_req *req);
void kube_handle(struct server_req *req, struct server_resp *resp);
enum server_class kube_classify(const struct server_req *req);
bool oidc_match(const struct server_req *req);
void oidc_handle(struct server_req *req, struct server_resp *resp);

/* ---- Table rendering (server_table.c) ---- */
/* A meta.k8s.io/v1 Table of the given objects (with column definitions when with_columns). */
cJSON *table_build(const struct sim_resource *r, const cJSON *const *objs, size_t n, int64_t now_s,
                   bool with_columns);
/* The PartialObjectMetadata of an object (copy). */
cJSON *table_partial(const cJSON *obj);
/* A list page as a Table, written straight into b (rows' objects from the rendered cache);
 * list_meta is the page's metadata object as JSON text. */
struct sim;
void table_write_list(struct idw_buf *b, struct sim *s, const struct sim_resource *r,
                      const cJSON *const *objs, size_t n, int64_t now_s, const char *list_meta);

/* ---- helpers ---- */
const char *json_path_str(const cJSON *obj, const char *dotted); /* NULL when absent */

#endif
