/* net: all HTTP of the program, over one libcurl multi handle, plus the timers and extra file
 * descriptors the event loop waits on (one curl_multi_poll() for everything).
 *
 * Single-threaded. Callbacks run from net_poll(); they may start and cancel requests and timers.
 * THE READ-ONLY GUARD lives here: with net_set_read_only(), a request whose method is not
 * GET/HEAD fails in net_start() before anything leaves the process, except the POSTs of one
 * allow-list table (SelfSubjectAccessReview, Entra ID token requests to the authority host).
 */
#ifndef IDWATCH_NET_H
#define IDWATCH_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "idwatch/core.h"

struct net;
struct net_request;

/* ---- pure helpers (unit-tested) -------------------------------------------------------- */

/* The read-only guard: 0 when the request may leave the process with the flag set, else -1 with
 * err saying what was refused and why. authority_host is the Entra ID login host ("host" or
 * "host:port"; NULL = login.microsoftonline.com). */
int net_guard_check(const char *method, const char *url, const char *authority_host,
                    struct idw_err *err);

/* Jittered exponential backoff: attempt 0,1,2... gives about base*2^attempt (capped at cap_ms),
 * uniformly within [half, full] of that, using rnd as the random source. */
int64_t net_backoff_ms(int attempt, int64_t base_ms, int64_t cap_ms, uint32_t rnd);

/* Copies a "Name: value" header into out, replacing the value of credential-bearing headers
 * (Authorization, Proxy-Authorization, Cookie, X-Api-Key...) with "<redacted>". */
void net_redact_header(const char *header, char *out, size_t n);

/* System CAs followed by ca_file (curl's CA blob replaces the store, so both go in one PEM);
 * *pem NULL when ca_file is NULL (the system store alone). Errors name the file. The system
 * bundle is the first of $SSL_CERT_FILE and the usual Debian, Fedora and BSD paths that reads. */
int net_ca_bundle(const char *ca_file, char **pem, size_t *len, struct idw_err *err);

/* Newline splitter for streams: feed bytes, get complete lines (without '\n', and without a
 * trailing '\r'); a partial line is kept until its end arrives. */
struct net_lines {
    struct idw_buf buf;
    size_t max_line; /* a longer line is an error; 0 = 16 MiB */
};
/* line is NOT NUL-terminated; return nonzero to stop the stream. */
typedef int (*net_line_fn)(void *ctx, const char *line, size_t len);
/* Returns 0, 1 when fn asked to stop, or -1 when a line exceeds max_line (err filled). */
int net_lines_feed(struct net_lines *l, const char *data, size_t n, net_line_fn fn, void *ctx,
                   struct idw_err *err);
/* Delivers a last line that had no '\n' (if any). Same return values. */
int net_lines_flush(struct net_lines *l, net_line_fn fn, void *ctx);
void net_lines_free(struct net_lines *l);

/* ---- the multi handle ---------------------------------------------------------------- */

struct net_config {
    int max_host_connections;   /* cap on concurrent connections per host; 0 = 600 */
    const char *user_agent;     /* NULL = "idwatch/<version>" */
    const char *authority_host; /* Entra ID host for the guard; NULL = login.microsoftonline.com */
    bool read_only;
};

struct net *net_new(const struct net_config *cfg);
/* Cancels everything (no callbacks) and frees. */
void net_free(struct net *n);

void net_set_read_only(struct net *n, bool on);
bool net_read_only(const struct net *n);

/* Optional debug log: one line per request start/end; credentials never appear in it. */
typedef void (*net_log_fn)(void *ctx, const char *line);
void net_set_log(struct net *n, net_log_fn fn, void *ctx);

struct net_stats {
    uint64_t requests; /* transfers started (retries included) */
    uint64_t retries;
    uint64_t bytes_in;      /* body bytes received */
    uint64_t guard_refused; /* requests stopped by the read-only guard */
    uint64_t active;        /* transfers running now */
};
void net_get_stats(const struct net *n, struct net_stats *out);

/* ---- requests ------------------------------------------------------------------------ */

struct net_tls {
    const char *ca_pem; /* trusted CAs (PEM, from memory); NULL = the system store */
    size_t ca_len;
    const char *cert_pem; /* client certificate and key (PEM) */
    size_t cert_len;
    const char *key_pem;
    size_t key_len;
    bool insecure;           /* insecure-skip-tls-verify: only when the kubeconfig says so */
    const char *server_name; /* tls-server-name: SNI and the name the certificate must carry */
    const char *proxy;       /* proxy-url; NULL = the environment's http(s)_proxy */
    bool no_compression;     /* disable-compression */
};

struct net_response {
    long status;      /* HTTP status; 0 when no response arrived */
    int curl_code;    /* CURLcode, 0 ok */
    const char *body; /* whole body (non-stream), or the error body of a stream (non-2xx) */
    size_t body_len;
    const char *content_type; /* may be NULL */
    const char *headers;      /* the final response's headers, "Name: value\n" lines ("" if none) */
    int64_t retry_after;      /* seconds from Retry-After, 0 when absent */
    bool guard_refused;       /* stopped by the read-only guard (never sent) */
    bool stopped;             /* the line callback asked to stop */
    char error[256]; /* one line when the transfer itself failed (status 0) or was refused */
};

typedef void (*net_done_fn)(void *ctx, const struct net_response *r);

struct net_opts {
    const char *method; /* NULL = GET */
    const char *url;
    const char *const *headers; /* "Name: value" strings, NULL-terminated; may be NULL */
    const char *body;           /* copied */
    size_t body_len;
    const struct net_tls *tls; /* may be NULL; copied */
    long connect_timeout_ms;   /* 0 = 5000 */
    long timeout_ms;           /* whole transfer; 0 = none */
    int max_retries;           /* GET/HEAD only: on connection errors, 5xx and 429 */
    int64_t retry_base_ms;     /* 0 = 500 */
    size_t max_body;           /* 0 = 256 MiB; larger bodies fail */
    /* Streaming: when on_line is set, 2xx bodies are split into lines for on_line instead of
     * being collected; a non-2xx body is collected (64 KiB) for on_done. */
    net_line_fn on_line;
    size_t max_line;     /* 0 = 16 MiB */
    /* Streaming: called once the final 2xx response's headers are complete, before any line
     * (a stream that is open but quiet has answered). May be NULL. */
    void (*on_open)(void *ctx, long status);
    net_done_fn on_done; /* called exactly once, unless the request is cancelled */
    void *ctx;
};

/* Starts a request. Returns 0 with *out set (may be NULL if the caller does not need it), or -1
 * with err (bad options, or refused by the read-only guard; nothing is sent then and on_done is
 * not called). The handle is valid until on_done returns or net_cancel() is called. */
int net_start(struct net *n, const struct net_opts *o, struct net_request **out,
              struct idw_err *err);
/* Stops a request; its callbacks will not be called any more. */
void net_cancel(struct net *n, struct net_request *r);

/* ---- timers and file descriptors (the loop's other inputs) ---------------------------- */

typedef void (*net_timer_fn)(void *ctx);
/* Runs fn once after delay_ms. Returns an id > 0 for net_timer_cancel. */
uint64_t net_timer_add(struct net *n, int64_t delay_ms, net_timer_fn fn, void *ctx);
void net_timer_cancel(struct net *n, uint64_t id); /* 0 or an expired id: no-op */

enum { NET_FD_IN = 1, NET_FD_OUT = 2 };
typedef void (*net_fd_fn)(void *ctx, int fd, int events);
/* Calls fn whenever fd is ready (events: NET_FD_IN/OUT); the fd stays the caller's. */
uint64_t net_fd_watch(struct net *n, int fd, int events, net_fd_fn fn, void *ctx);
void net_fd_unwatch(struct net *n, uint64_t id);

/* Waits at most max_wait_ms (or until the next timer, transfer or fd event), then runs every
 * callback that is due. Returns the number of transfers still running. */
int net_poll(struct net *n, int max_wait_ms);
/* Makes a net_poll() in progress (or the next one) return early; safe from other threads. */
void net_wakeup(struct net *n);

#endif
