/* server_parse: the pure request-parsing pieces of idwatch-sim's HTTP front (no I/O, no state):
 * query strings, API paths, Accept negotiation, continue tokens, fault specs and the protobuf
 * SelfSubjectAccessReview body kubectl sends. Everything here takes untrusted bytes. */
#ifndef IDWSIM_SERVER_PARSE_H
#define IDWSIM_SERVER_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "idwatch/core.h"

/* Upper bounds on what the front accepts from a client. */
#define SERVER_MAX_QUERY 8192
#define SERVER_MAX_NAME 253

/* ---- request classes (for /_sim/stats and fault targeting) ---- */
#define SERVER_CLASSES(X)                                                                          \
    X(DISCOVERY, "discovery")                                                                      \
    X(LIST, "list")                                                                                \
    X(GET, "get")                                                                                  \
    X(WATCH, "watch")                                                                              \
    X(PATCH, "patch")                                                                              \
    X(LOG, "log")                                                                                  \
    X(SSAR, "ssar")                                                                                \
    X(OIDC, "oidc")                                                                                \
    X(SIM, "sim")                                                                                  \
    X(ARM, "arm")                                                                                  \
    X(GRAPH, "graph")                                                                              \
    X(TOKEN, "token")                                                                              \
    X(OTHER, "other")

enum server_class {
#define X(id, name) SERVER_CLASS_##id,
    SERVER_CLASSES(X)
#undef X
        SERVER_CLASS_COUNT
};

const char *server_class_name(enum server_class c);
/* 0 and *out on a known name, -1 otherwise. */
int server_class_parse(const char *name, size_t len, enum server_class *out);

/* ---- query strings ---- */
/* The query parameters the front understands; unknown ones are ignored (as the API server does
 * for most). Strings are decoded copies (NULL when absent); numbers have a has_ flag. */
struct server_query {
    char *label_selector;
    char *field_selector;
    char *continue_token;
    char *resource_version;
    char *resource_version_match;
    char *container;
    char *since_time;
    char *field_manager;
    char *dry_run;
    bool has_limit, has_timeout_seconds, has_since_seconds, has_tail_lines, has_limit_bytes,
        has_seconds;
    int64_t limit, timeout_seconds, since_seconds, tail_lines, limit_bytes, seconds;
    bool watch, allow_watch_bookmarks, follow, previous, timestamps;
};

/* Parses a raw query string (without '?'): percent-decoding, '+' as space. Returns 0, or 400
 * with err holding an API-server-like message for a malformed number or boolean. The struct is
 * filled as far as it got either way; free it with server_query_free. */
int server_query_parse(const char *raw, struct server_query *q, struct idw_err *err);
void server_query_free(struct server_query *q);

/* Percent-decodes s[0..n) ('+' becomes ' ' when plus_space); NULL for a bad escape or a NUL byte.
 */
char *server_url_decode(const char *s, size_t n, bool plus_space);

/* ---- API paths ---- */
enum server_path_kind {
    SERVER_PATH_NONE,       /* not a Kubernetes API path */
    SERVER_PATH_VERSION,    /* /version */
    SERVER_PATH_API,        /* /api */
    SERVER_PATH_APIS,       /* /apis */
    SERVER_PATH_GROUP,      /* /apis/<g> */
    SERVER_PATH_GV,         /* /api/v1, /apis/<g>/<v> */
    SERVER_PATH_COLLECTION, /* [.../namespaces/<ns>]/<resource> */
    SERVER_PATH_OBJECT,     /* .../<resource>/<name> */
    SERVER_PATH_SUB,        /* .../<resource>/<name>/<subresource> */
};

struct server_path {
    enum server_path_kind kind;
    char group[64];
    char version[16];
    char ns[SERVER_MAX_NAME + 1]; /* "" = all namespaces / cluster scope */
    char resource[64];
    char name[SERVER_MAX_NAME + 1];
    char sub[32];
};

/* Splits a (not yet decoded) path. The namespaces ambiguity (/api/v1/namespaces/X/pods is a
 * collection, /api/v1/namespaces/X/status a subresource) is settled with sim_resource_find.
 * Returns 0 with *out, or -1 when the path is not well-formed (the caller answers 404). */
int server_path_parse(const char *path, struct server_path *out);

/* ---- Accept negotiation ---- */
enum server_accept {
    SERVER_ACCEPT_NONE, /* nothing acceptable: 406 */
    SERVER_ACCEPT_JSON,
    SERVER_ACCEPT_TABLE,        /* meta.k8s.io Table (v1 or v1beta1) */
    SERVER_ACCEPT_PARTIAL,      /* PartialObjectMetadata (single object or watch event) */
    SERVER_ACCEPT_PARTIAL_LIST, /* PartialObjectMetadataList */
};

/* Picks the first offer of an Accept header the front can serve for a list (list=true) or a
 * single object. Aggregated discovery and protobuf offers are skipped (we answer JSON); a missing
 * header, any-type and application/json mean plain JSON. */
enum server_accept server_accept_parse(const char *accept, bool list);

/* ---- continue tokens (opaque to clients: base64url of a small JSON) ---- */
struct server_continue {
    uint64_t rv;
    int64_t time_ns; /* scenario time when the list started */
    char ns[SERVER_MAX_NAME + 1];
    char name[SERVER_MAX_NAME + 1];
};

char *server_continue_encode(const struct server_continue *c);              /* caller frees */
int server_continue_decode(const char *token, struct server_continue *out); /* 0 or -1 */

char *server_b64url_encode(const void *data, size_t n);
/* Decodes base64url or standard base64, padding optional. 0 or -1; *out is NUL-terminated. */
int server_b64_decode(const char *s, size_t len, unsigned char **out, size_t *out_len);

/* ---- fault injection specs: class:kind[=value][xCOUNT], comma or semicolon separated ---- */
#define SERVER_FAULT_KINDS(X)                                                                      \
    X(LATENCY, "latency")                                                                          \
    X(GONE, "410")                                                                                 \
    X(ERROR5XX, "5xx")                                                                             \
    X(THROTTLE, "429")                                                                             \
    X(RESET, "reset")                                                                              \
    X(TRUNCATE, "truncate")                                                                        \
    X(MALFORMED, "malformed")                                                                      \
    X(STALL, "stall")                                                                              \
    X(FORBIDDEN, "403")

enum server_fault_kind {
#define X(id, name) SERVER_FAULT_##id,
    SERVER_FAULT_KINDS(X)
#undef X
        SERVER_FAULT_KIND_COUNT
};

struct server_fault {
    enum server_class cls;
    enum server_fault_kind kind;
    int64_t value; /* latency ms, 5xx status, 429 Retry-After seconds; 0 otherwise */
    int64_t count; /* remaining uses; -1 = forever */
};

/* Appends the faults of spec to the faults array (growing n, cap). 0, or -1 with err naming the
 * bad item. */
int server_faults_parse(const char *spec, struct server_fault **faults, size_t *n, size_t *cap,
                        struct idw_err *err);
/* "list:latency=2000x3", the inverse of the parser. */
void server_fault_format(const struct server_fault *f, char *out, size_t len);

/* ---- SelfSubjectAccessReview request bodies ---- */
struct server_ssar {
    char *ns, *verb, *group, *version, *resource, *subresource, *name; /* "" when absent */
    char *path; /* nonResourceAttributes.path, NULL for a resource review */
};

/* kubectl's protobuf ("k8s\0" + runtime.Unknown{typeMeta, raw}) and the JSON form. 0, or 400
 * with err filled. */
int server_ssar_decode_protobuf(const unsigned char *body, size_t len, struct server_ssar *out,
                                struct idw_err *err);
int server_ssar_decode_json(const char *body, size_t len, struct server_ssar *out,
                            struct idw_err *err);
void server_ssar_free(struct server_ssar *s);

#endif
