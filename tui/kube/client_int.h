/* Internal to the kube client engine (client.c, client_logs.c): not a contract. */
#ifndef IDWATCH_KUBE_CLIENT_INT_H
#define IDWATCH_KUBE_CLIENT_INT_H

#include "idwatch/decode.h"
#include "idwatch/kube.h"

/* A request with credentials: retried once after a 401 with fresh credentials. */
struct kreq;
typedef void (*kreq_done_fn)(void *ctx, const struct net_response *r);
struct kreq_opts {
    const char *method;
    const char *path; /* path + query, appended to the server URL */
    const char *accept;
    const char *content_type;
    const char *body;
    size_t body_len;
    long timeout_ms;
    int max_retries;
    net_line_fn on_line;
    void (*on_open)(void *ctx, long status); /* streams: headers of a 2xx answer arrived */
    kreq_done_fn done;
    void *ctx;
};
struct kreq *kreq_start(struct kube_client *k, const struct kreq_opts *o);
void kreq_cancel(struct kreq *r);

/* "403 Forbidden: pods is forbidden: ..." from a response (Status message when there is one). */
void kube_describe_failure(const struct net_response *r, char *out, size_t n);

/* NMI log streams (client_logs.c). */
struct klogs;
struct klogs *klogs_new(struct kube_client *k);
void klogs_free(struct klogs *l);
/* A full pod was put into the store (or replaced): follow it if it is an NMI pod. */
void klogs_pod_seen(struct klogs *l, const struct model_pod *p);
/* A pod left the store. */
void klogs_pod_gone(struct klogs *l, const char *ns, const char *name);
/* One-shot: start reading every known NMI pod's log once. */
void klogs_start_oneshot(struct klogs *l);
bool klogs_done(const struct klogs *l);
uint64_t klogs_resumes(const struct klogs *l);
bool kube_pod_is_nmi(const struct model_pod *p);

/* Sets a source's state; a change tells the store (verdicts depend on source states). */
void kube_source_set(struct kube_client *k, struct store_source *ss, enum store_source_state st);

/* Accessors the log module needs. */
struct store *kube_client_store(struct kube_client *k);
struct net *kube_client_net(struct kube_client *k);
const struct kube_client_config *kube_client_cfg(const struct kube_client *k);
void kube_client_count_log(struct kube_client *k, bool stream, size_t lines);

#endif
