/* store: everything idwatch currently knows about one cluster, indexed, with dirty tracking.
 *
 * Single-threaded (the event loop owns it). put functions take ownership of the object and
 * replace any object of the same type with the same namespace/name; del functions free it.
 * Pointers returned by get/at functions stay valid until the next change to that type.
 * Every change bumps store_version() and marks the affected workloads dirty.
 */
#ifndef IDWATCH_STORE_H
#define IDWATCH_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "idwatch/model.h"

struct store;

struct store *store_new(void);
void store_free(struct store *s);

/* Monotonic counter bumped by every change: views redraw only when it moved. */
uint64_t store_version(const struct store *s);
/* store_version split in two: everything but NMI requests (objects, sources, Azure...), and NMI
 * requests that came or went (a busy cluster logs many a second: readers that only show
 * activity can take those at their own pace). */
uint64_t store_objects_version(const struct store *s);
uint64_t store_nmi_version(const struct store *s);

/* Fixes the store's clock (epoch seconds) for tests; 0 returns to the real clock. The clock
 * stamps IP hand-overs and ages out the IP history. */
void store_set_time(struct store *s, int64_t now);

/* ---- pods ---- */
void store_put_pod(struct store *s, struct model_pod *p);
int store_del_pod(struct store *s, const char *ns, const char *name); /* 0, or -1 if absent */
const struct model_pod *store_get_pod(const struct store *s, const char *ns, const char *name);
const struct model_pod *store_get_pod_by_uid(const struct store *s, const char *uid);
size_t store_pod_count(const struct store *s);
const struct model_pod *store_pod_at(const struct store *s, size_t i);

/* Who had pod IP `ip` (on `node`, if non-NULL) at time `when` (epoch seconds; 0 = now).
 * Remembers pods that are gone for at least 2 hours (bounded: the oldest of more than 100000
 * gone pods are forgotten first), since NMI log lines outlive their pods. A pod holds its IP
 * from its creationTimestamp (or from when the previous holder let it go) until it is deleted
 * or Succeeded/Failed; hostNetwork pods are not recorded (they share the node's address).
 * Fills namespace/name (pointers owned by the store, valid until the next change).
 * Returns 0, or -1 when nobody is known to have had that IP then. */
struct store_ip_owner {
    const char *pod_namespace;
    const char *pod_name;
    const char *node_name;
};
int store_ip_lookup(const struct store *s, const char *ip, const char *node, int64_t when,
                    struct store_ip_owner *out);

/* ---- workloads (Deployment, StatefulSet, DaemonSet, CronJob; bare pods are synthesized) ---- */
/* Kind Pod workloads are synthesized by the store: put frees one without storing it, and del
 * of kind Pod returns -1 (delete the pod instead). */
void store_put_workload(struct store *s, struct model_workload *w);
int store_del_workload(struct store *s, enum model_workload_kind k, const char *ns,
                       const char *name);
const struct model_workload *store_get_workload(const struct store *s, enum model_workload_kind k,
                                                const char *ns, const char *name);
const struct model_workload *store_get_workload_by_uid(const struct store *s, const char *uid);
/* All workloads, including one synthesized workload of kind Pod for every pod that has no
 * owner reference (a bare pod). Order is unspecified but stable between changes. */
size_t store_workload_count(const struct store *s);
const struct model_workload *store_workload_at(const struct store *s, size_t i);

/* The workload a pod belongs to (Pod -> ReplicaSet -> Deployment, Pod -> Job -> CronJob,
 * Pod -> StatefulSet/DaemonSet, bare Pod -> itself), or NULL while an owner is unknown. */
const struct model_workload *store_workload_of_pod(const struct store *s,
                                                   const struct model_pod *p);
/* The pods of a workload. *out is owned by the store; valid until the next change. */
size_t store_workload_pods(const struct store *s, const struct model_workload *w,
                           const struct model_pod *const **out);

/* ReplicaSets and Jobs: only their owner references matter. */
void store_put_link(struct store *s, struct model_link *l);
int store_del_link(struct store *s, const char *kind, const char *ns, const char *name);
const struct model_link *store_get_link(const struct store *s, const char *kind, const char *ns,
                                        const char *name);
size_t store_link_count(const struct store *s);

/* ---- service accounts, namespaces, webhook configurations ---- */
void store_put_sa(struct store *s, struct model_service_account *sa);
int store_del_sa(struct store *s, const char *ns, const char *name);
const struct model_service_account *store_get_sa(const struct store *s, const char *ns,
                                                 const char *name);
size_t store_sa_count(const struct store *s);
const struct model_service_account *store_sa_at(const struct store *s, size_t i);

void store_put_namespace(struct store *s, struct model_namespace *ns);
int store_del_namespace(struct store *s, const char *name);
const struct model_namespace *store_get_namespace(const struct store *s, const char *name);
size_t store_namespace_count(const struct store *s);
const struct model_namespace *store_namespace_at(const struct store *s, size_t i);

void store_put_mwc(struct store *s, struct model_mwc *m);
int store_del_mwc(struct store *s, const char *name);
size_t store_mwc_count(const struct store *s);
const struct model_mwc *store_mwc_at(const struct store *s, size_t i);

/* ---- AAD Pod Identity CRDs ---- */
void store_put_azid(struct store *s, struct model_azure_identity *x);
int store_del_azid(struct store *s, const char *ns, const char *name);
size_t store_azid_count(const struct store *s);
const struct model_azure_identity *store_azid_at(const struct store *s, size_t i);

void store_put_azbinding(struct store *s, struct model_azure_identity_binding *x);
int store_del_azbinding(struct store *s, const char *ns, const char *name);
size_t store_azbinding_count(const struct store *s);
const struct model_azure_identity_binding *store_azbinding_at(const struct store *s, size_t i);

void store_put_azassigned(struct store *s, struct model_azure_assigned_identity *x);
int store_del_azassigned(struct store *s, const char *ns, const char *name);
size_t store_azassigned_count(const struct store *s);
const struct model_azure_assigned_identity *store_azassigned_at(const struct store *s, size_t i);

void store_put_azexception(struct store *s, struct model_azure_pod_identity_exception *x);
int store_del_azexception(struct store *s, const char *ns, const char *name);
size_t store_azexception_count(const struct store *s);
const struct model_azure_pod_identity_exception *store_azexception_at(const struct store *s,
                                                                       size_t i);

/* ---- NMI token requests (a window of them, oldest first) ---- */
/* Takes ownership of r itself (heap-allocated with the xmalloc family) and of its members;
 * keeps requests in time order (several NMI streams interleave) and at most 200000 of them. */
void store_add_nmi_request(struct store *s, struct model_nmi_request *r);
size_t store_nmi_count(const struct store *s);
const struct model_nmi_request *store_nmi_at(const struct store *s, size_t i);
void store_prune_nmi(struct store *s, int64_t older_than); /* drops requests before this time */

/* ---- Azure and OIDC (replaced whole by their layers) ---- */
void store_set_azure(struct store *s, struct model_azure *a); /* takes ownership of a's members */
const struct model_azure *store_azure(const struct store *s);
void store_set_oidc(struct store *s, struct model_oidc *o); /* takes ownership of o's members */
const struct model_oidc *store_oidc(const struct store *s);

/* ---- dirty tracking ---- */
/* Workloads changed since the last call, directly or through their pods or service account.
 * Changes that concern every workload (webhook, bindings, identities, exceptions, assigned
 * identities, namespaces, Azure, OIDC, sources) set *all; so does a workload that went away
 * (it cannot be handed out any more: recompute the list). NMI requests that came or went are
 * told apart (store_take_nmi_dirty): they only move pod identity activity.
 * Clears the set. *out is owned by the store; valid until the next change. */
size_t store_take_dirty(struct store *s, const struct model_workload *const **out, bool *all);
/* NMI requests were added or pruned since the last call; clears the flag. */
bool store_take_nmi_dirty(struct store *s);

/* ---- data sources (one per resource list/watch, log stream, Azure call) ---- */
enum store_source_state {
    STORE_SRC_IDLE,      /* not started */
    STORE_SRC_LISTING,   /* first list under way: count so far */
    STORE_SRC_SYNCED,    /* listed, watching or polled */
    STORE_SRC_ERROR,     /* last attempt failed: error, retrying */
    STORE_SRC_FORBIDDEN, /* 403: shown as "no permission", never retried hot */
    STORE_SRC_ABSENT,    /* the API group is not served (e.g. pod identity not installed) */
    STORE_SRC_STALE,     /* data held but no longer confirmed (a stalled stream being resumed) */
    STORE_SRC_SKIPPED,   /* not read on purpose (--no-azure) */
};

struct store_source {
    char name[128];          /* "pods", "deployments", "nmi-log ns/pod", "azure-arm", ... */
    enum store_source_state state;
    size_t count;            /* objects held */
    size_t total_hint;       /* count + remainingItemCount while listing, 0 if unknown */
    size_t skipped;          /* objects that did not decode */
    char skip_reason[256];   /* why the last one did not */
    char error[256];         /* last error, one line */
    char note[192];          /* what the state does not say: "namespace legacy only: ...",
                              * "credential environment", ... */
    int64_t error_since;     /* epoch seconds */
    int64_t last_success;    /* epoch seconds of the last good list/event/poll */
    int64_t synced_at;       /* epoch seconds of the last complete list, 0 = never */
    bool partial;            /* holds less than the whole cluster (RBAC fallback to a namespace) */
    /* Log streams: the data is complete from covered_from up to covered_to (epoch seconds;
     * 0 = nothing covered). A healthy followed stream keeps covered_to at "now". */
    int64_t covered_from;
    int64_t covered_to;
};

/* Finds or creates the source with that name (at most 127 bytes are kept). The pointer stays
 * valid until store_source_remove() or the store's end. */
struct store_source *store_source(struct store *s, const char *name);
/* Forgets a source (e.g. the log of an NMI pod that is gone). */
void store_source_remove(struct store *s, struct store_source *src);
/* A source's state, error or coverage changed in a way verdicts depend on: bumps the version
 * and marks every workload dirty. Callers call it on transitions, not on every event. */
void store_source_changed(struct store *s);
size_t store_source_count(const struct store *s);
const struct store_source *store_source_at(const struct store *s, size_t i);
const struct store_source *store_source_find(const struct store *s, const char *name);
const char *store_source_state_name(enum store_source_state st); /* "synced", ... */

#endif
