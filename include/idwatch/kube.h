/* kube: authentication (token, token file, client certificate, exec plugins, in-cluster) and the
 * Kubernetes client engine: paged lists, watches and log streams feeding the store, plus the
 * PATCH and SelfSubjectAccessReview helpers of the Actions. Everything runs on the net loop:
 * nothing here blocks.
 */
#ifndef IDWATCH_KUBE_H
#define IDWATCH_KUBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "idwatch/core.h"
#include "idwatch/kubeconfig.h"
#include "idwatch/net.h"
#include "idwatch/store.h"

/* ---- credentials ------------------------------------------------------------------------ */

struct kube_cred {
    char *token;    /* bearer token, or NULL */
    char *cert_pem; /* client certificate and key (PEM), or NULL */
    size_t cert_len;
    char *key_pem;
    size_t key_len;
    int64_t expires;     /* epoch seconds; 0 = no expiry known */
    uint64_t generation; /* changes whenever the credentials change */
};
void kube_cred_free(struct kube_cred *c); /* members only; wipes secrets */

/* Parses a plugin's stdout: an ExecCredential of exactly api_version with status.token or
 * status.clientCertificateData + clientKeyData (PEM), and optional expirationTimestamp. */
int kube_exec_parse(const char *json, size_t len, const char *api_version, struct kube_cred *out,
                    struct idw_err *err);
/* The KUBERNETES_EXEC_INFO value for this config (spec.cluster only with provideClusterInfo). */
char *kube_exec_info(const struct kubeconfig_resolved *cfg, bool interactive);

/* A running exec plugin: a child process whose pipes are watched by net. */
struct kube_exec;
/* cred is NULL on failure (error then says why: the plugin's stderr, a timeout, bad output).
 * The callee owns nothing: copy what you keep. */
typedef void (*kube_exec_fn)(void *ctx, const struct kube_cred *cred, const char *error);
/* Starts the plugin of cfg->exec. Never blocks: fn is called from net_poll(). A plugin with
 * interactiveMode Always is not run (we never hand it our terminal): that fails at once with a
 * message telling the user to log in first. timeout_ms 0 = 60 s. */
int kube_exec_start(struct net *n, const struct kubeconfig_resolved *cfg, int timeout_ms,
                    kube_exec_fn fn, void *ctx, struct kube_exec **out, struct idw_err *err);
/* Kills the plugin if it still runs; fn will not be called. */
void kube_exec_cancel(struct kube_exec *x);

/* The credential source of one context: static token or certificate, token file (re-read at
 * most once a minute and after a 401), exec plugin (cached until expiry minus a margin). */
struct kube_auth;
struct kube_auth *kube_auth_new(struct net *n, const struct kubeconfig_resolved *cfg);
void kube_auth_free(struct kube_auth *a);
/* cred valid only during the call; NULL with error when no credentials could be had. */
typedef void (*kube_auth_fn)(void *ctx, const struct kube_cred *cred, const char *error);
/* Calls fn with usable credentials: at once when they are cached, else once the plugin ran.
 * Returns an id for kube_auth_cancel (0 when fn was already called). */
uint64_t kube_auth_get(struct kube_auth *a, kube_auth_fn fn, void *ctx);
void kube_auth_cancel(struct kube_auth *a, uint64_t id);
/* A request made with credentials of this generation got a 401: forget them (re-read the token
 * file, re-run the plugin) unless they have already changed. */
void kube_auth_invalidate(struct kube_auth *a, uint64_t generation);
/* How many times the exec plugin ran (for tests and the status line). */
unsigned kube_auth_exec_runs(const struct kube_auth *a);

/* ---- the client engine ------------------------------------------------------------------ */

struct kube_client;

struct kube_client_config {
    const struct kubeconfig_resolved *cfg; /* must outlive the client */
    struct net *net;
    struct store *store;
    const char *namespace_; /* the scope (-n), or NULL. Everything is read cluster-wide (scope is
                             * a view: verdicts need cluster facts); only a namespaced kind whose
                             * cluster-wide list is forbidden falls back to this namespace, and
                             * its source is then marked partial. */
    int64_t log_window;     /* seconds of NMI log to read (sinceSeconds); 0 = 3600 */
    bool one_shot;          /* `idwatch report`: list once, read logs without follow, stop */
    int page_limit;         /* list page size; 0 = 500 */
    int max_log_streams;    /* NMI pods followed at once (an idle stream costs nothing; HTTP/2
                             * multiplexes them on one connection); the rest are polled; 0 = 512 */
    int log_poll_seconds;   /* polling interval for NMI pods beyond the cap; 0 = 60 */
    int log_quiet_checks;   /* silent streams are re-checked (resumed) at most this many times a
                             * minute in all, however many NMI pods there are; 0 = 6 */
    int watch_timeout_min;  /* watch timeoutSeconds range; 0 = 300..600 (client-go's) */
    int watch_timeout_max;
    long connect_timeout_ms; /* 0 = 5000 */
    int watch_stall_s; /* a watch silent this long (no event, no bookmark) is checked with a
                        * re-list; 0 = 150 (API servers send a bookmark about every 60 s) */
    long list_timeout_ms; /* one list page; 0 = 30000 */
    int log_stall_min_s;  /* a followed NMI log silent this long (at least; more for pods that
                           * log rarely) is resumed from its last line; 0 = 60 */
    int log_stall_max_s;  /* ... and at most this long (a pod that never logs); 0 = 600 */
    /* Called for every NMI log line (after nmilog parsing); may be NULL. */
    void (*on_nmi_line)(void *ctx, const char *nmi_pod, const char *line, size_t len);
    void *ctx;
};

int kube_client_new(const struct kube_client_config *c, struct kube_client **out,
                    struct idw_err *err);
/* Starts discovery, lists and (unless one_shot) watches. */
void kube_client_start(struct kube_client *k);
/* Cancels everything in flight and frees. Requests of kube_request, kube_patch and kube_ssar
 * still in flight are cancelled WITHOUT calling their fn: their callers free their contexts. */
void kube_client_free(struct kube_client *k);
/* The user asked for fresh data: probes the API server (bounded time); when it does not answer,
 * every watching source is marked failed and retried with backoff. */
void kube_client_refresh(struct kube_client *k);
/* Every source has finished its first list (synced, forbidden, absent, or failed for good in
 * one-shot mode); in one-shot mode also the NMI logs have been read. */
bool kube_client_done(const struct kube_client *k);
/* The first error that made the cluster unreachable (no source ever succeeded), or NULL. */
const char *kube_client_fatal(const struct kube_client *k);

struct kube_client_stats {
    uint64_t lists, pages, watches, relists, events, log_streams, log_lines, exec_runs;
    uint64_t log_resumes; /* NMI log streams resumed after they ended, failed or stalled */
};
void kube_client_get_stats(const struct kube_client *k, struct kube_client_stats *out);

/* The result of one API call: status is the HTTP code (0 = no answer; error says why); message
 * is the Status message of a failure, sanitized, one line. body stays valid during the call. */
struct kube_result {
    long status;
    const char *body;
    size_t body_len;
    char message[IDW_ERR_MAX];
    bool refused; /* stopped by the read-only guard: nothing was sent */
};
typedef void (*kube_result_fn)(void *ctx, const struct kube_result *r);

/* Any request against the API server (path with query). Credentials are added; on a 401 the
 * credentials are refreshed and the request is retried once. fn is always called later, from
 * the loop (also when the request could not be started). */
int kube_request(struct kube_client *k, const char *method, const char *path,
                 const char *content_type, const char *body, size_t body_len, kube_result_fn fn,
                 void *ctx, struct idw_err *err);

#define KUBE_PATCH_TYPES(X)                                                                        \
    X(MERGE, "application/merge-patch+json")                                                       \
    X(STRATEGIC, "application/strategic-merge-patch+json")                                         \
    X(JSON, "application/json-patch+json")

enum kube_patch_type {
#define X(id, ct) KUBE_PATCH_##id,
    KUBE_PATCH_TYPES(X)
#undef X
};

/* PATCH an object (path like /apis/apps/v1/namespaces/ns/deployments/web) with
 * fieldManager=idwatch, and dryRun=All when dry_run. */
int kube_patch(struct kube_client *k, const char *path, enum kube_patch_type type, const char *body,
               bool dry_run, kube_result_fn fn, void *ctx, struct idw_err *err);

/* SelfSubjectAccessReview: may I <verb> <group>/<resource>[/<subresource>] [<name>] in <ns>? */
typedef void (*kube_ssar_fn)(void *ctx, bool allowed, const char *reason, const char *error);
int kube_ssar(struct kube_client *k, const char *verb, const char *group, const char *resource,
              const char *subresource, const char *ns, const char *name, kube_ssar_fn fn, void *ctx,
              struct idw_err *err);

#endif
