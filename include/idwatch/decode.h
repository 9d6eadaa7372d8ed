/* decode: Kubernetes JSON (cJSON trees, list pages, watch event lines) into model structs.
 *
 * Strict about types (a field that is present must have the right JSON type), lenient about
 * absent optional fields. Every failure fills err with one line naming the object and the field:
 *   "pod payments/api-7c9d: spec.containers[1].name: expected a string"
 * so the caller can skip the object and count it. Names in messages are sanitized (no control
 * bytes); strings longer than DECODE_MAX_STRING are refused. No cJSON tree is kept.
 */
#ifndef IDWATCH_DECODE_H
#define IDWATCH_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "idwatch/core.h"
#include "idwatch/model.h"
#include "idwatch/store.h"

#define DECODE_MAX_STRING (256 * 1024) /* the API server's limit for all annotations together */

/* The object types idwatch reads: id, Kind, noun used in messages. */
#define DECODE_TYPES(X)                                                                            \
    X(POD, "Pod", "pod")                                                                           \
    X(DEPLOYMENT, "Deployment", "deployment")                                                      \
    X(STATEFULSET, "StatefulSet", "statefulset")                                                   \
    X(DAEMONSET, "DaemonSet", "daemonset")                                                         \
    X(CRONJOB, "CronJob", "cronjob")                                                               \
    X(REPLICASET, "ReplicaSet", "replicaset")                                                      \
    X(JOB, "Job", "job")                                                                           \
    X(SERVICEACCOUNT, "ServiceAccount", "serviceaccount")                                          \
    X(NAMESPACE, "Namespace", "namespace")                                                         \
    X(MWC, "MutatingWebhookConfiguration", "mutatingwebhookconfiguration")                         \
    X(AZID, "AzureIdentity", "azureidentity")                                                      \
    X(AZBINDING, "AzureIdentityBinding", "azureidentitybinding")                                   \
    X(AZASSIGNED, "AzureAssignedIdentity", "azureassignedidentity")                                \
    X(AZEXCEPTION, "AzurePodIdentityException", "azurepodidentityexception")

enum decode_type {
#define X(id, kind, noun) DECODE_##id,
    DECODE_TYPES(X)
#undef X
        DECODE__COUNT
};

const char *decode_type_kind(enum decode_type t);               /* "Deployment" */
int decode_type_parse(const char *kind, enum decode_type *out); /* 0, or -1 if not ours */

/* One decoded object; exactly the union member of `type` is set (heap, owned by the holder). */
struct decode_object {
    enum decode_type type;
    union {
        struct model_pod *pod;
        struct model_workload *workload; /* Deployment, StatefulSet, DaemonSet, CronJob */
        struct model_link *link;         /* ReplicaSet, Job */
        struct model_service_account *sa;
        struct model_namespace *ns;
        struct model_mwc *mwc;
        struct model_azure_identity *azid;
        struct model_azure_identity_binding *azbinding;
        struct model_azure_assigned_identity *azassigned;
        struct model_azure_pod_identity_exception *azexception;
        void *any;
    } u;
};

void decode_object_free(struct decode_object *o); /* frees the member, leaves o empty */
const struct model_meta *decode_object_meta(const struct decode_object *o);

/* Decodes one object of type t (a list item, a watch event's object, a GET body). A "kind" in
 * the object must match t, or be PartialObjectMetadata (metadata-only: a pod then has
 * has_spec=false, other types keep only their metadata). Returns 0 or -1 (err set). */
int decode_object(const cJSON *obj, enum decode_type t, struct decode_object *out,
                  struct idw_err *err);

/* Object metadata alone (also the core of every decoder). */
int decode_meta(const cJSON *metadata, struct model_meta *out, struct idw_err *err);

/* ---- list pages ---- */

struct decode_list_meta {
    char *resource_version; /* metadata.resourceVersion (NULL if absent) */
    char *continue_token;   /* metadata.continue; NULL or "" = last page */
    int64_t remaining;      /* metadata.remainingItemCount; -1 when absent */
    size_t items;           /* items seen on this page */
    size_t failed;          /* of which did not decode */
};

void decode_list_meta_free(struct decode_list_meta *m);

/* Called once per item, in order: obj is the decoded item (the callback takes ownership of its
 * member, e.g. hands it to the store), or NULL with item_err saying why the item was skipped. */
typedef void (*decode_item_fn)(void *ctx, struct decode_object *obj,
                               const struct idw_err *item_err);

/* Decodes a list page `{"kind":"XList","metadata":{...},"items":[...]}` item by item.
 * A page that is a Status object returns its HTTP code (e.g. 410 for an expired continue
 * token) with err = "<reason>: <message>"; a page that is not a list returns -1. 0 on success
 * (even if some items failed: see meta->failed). buf need not be NUL-terminated. */
int decode_list_page(const char *buf, size_t len, enum decode_type t, decode_item_fn cb, void *ctx,
                     struct decode_list_meta *meta, struct idw_err *err);
int decode_list_page_json(const cJSON *root, enum decode_type t, decode_item_fn cb, void *ctx,
                          struct decode_list_meta *meta, struct idw_err *err);

/* ---- Table responses (Accept: application/json;as=Table;g=meta.k8s.io;v=v1) ----
 * Pods only: each row's object (PartialObjectMetadata) gives the metadata, the cells give what
 * `kubectl get pods -o wide` shows: Status (read as a phase), Ready, Restarts, IP, Node. The
 * pod then has has_spec=false. The column positions come from columnDefinitions, which a list
 * page carries and a watch sends with its first event only: keep one per source. */
struct decode_table_cols {
    int status, ready, restarts, ip, node; /* cell index, -1 = not served */
    bool known;
};
void decode_table_cols_init(struct decode_table_cols *c);
/* Phase from the Status cell (the kubectl printer's reason or phase). Unknown reasons of a
 * pod that runs (CrashLoopBackOff, Error, NotReady...) read as Running: it keeps its IP. */
enum model_pod_phase decode_pod_status_phase(const char *status);

/* A list page that may be a Table (kind "Table") or a plain list; cols is updated from the
 * page's columnDefinitions (may be NULL for non-Table sources). */
int decode_list_page_cols(const char *buf, size_t len, enum decode_type t,
                          struct decode_table_cols *cols, decode_item_fn cb, void *ctx,
                          struct decode_list_meta *meta, struct idw_err *err);

/* ---- watch events ---- */

#define DECODE_EVENT_TYPES(X)                                                                      \
    X(ADDED, "ADDED")                                                                              \
    X(MODIFIED, "MODIFIED")                                                                        \
    X(DELETED, "DELETED")                                                                          \
    X(BOOKMARK, "BOOKMARK")                                                                        \
    X(ERROR, "ERROR")

enum decode_event_type {
#define X(id, name) DECODE_EV_##id,
    DECODE_EVENT_TYPES(X)
#undef X
};

struct decode_event {
    enum decode_event_type type;
    struct decode_object obj; /* ADDED/MODIFIED/DELETED: the object (u.any NULL otherwise) */
    char *resource_version;   /* the object's (or the bookmark's) metadata.resourceVersion */
    bool initial_events_end;  /* BOOKMARK with annotation k8s.io/initial-events-end=true */
    int status_code;          /* ERROR: Status.code (410 = resource version too old) */
    char *status_reason;      /* ERROR: Status.reason ("Expired", ...) */
    char *status_message;     /* ERROR: Status.message */
};

void decode_event_free(struct decode_event *ev); /* members only */

/* Decodes one watch line `{"type":..,"object":{..}}`. On -1, err says why; if the envelope was
 * fine but the object did not decode, ev->type is still set and ev->resource_version too when
 * it could be read (so the caller can skip the object, count it, and keep its place). */
int decode_watch_event(const char *line, size_t len, enum decode_type t, struct decode_event *ev,
                       struct idw_err *err);
/* The same for a Table watch (an event's object is a one-row Table); cols as above. */
int decode_watch_event_cols(const char *line, size_t len, enum decode_type t,
                            struct decode_table_cols *cols, struct decode_event *ev,
                            struct idw_err *err);

/* ---- into the store ---- */

/* Hands a decoded object to the store (o is emptied): put for ADDED/MODIFIED, del for DELETED.
 * BOOKMARK/ERROR are not applied (returns 0). Returns 0, or -1 for a delete of an unknown
 * object. */
int decode_store_apply(struct store *s, enum decode_event_type ev, struct decode_object *o);

#endif
