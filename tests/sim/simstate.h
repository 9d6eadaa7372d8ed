/* simstate: the simulated AKS cluster's state (objects, resourceVersions, watch history, pod logs,
 * controllers, scenario time) behind idwatch-sim's HTTP front (server.c).
 *
 * Objects are cJSON trees owned by the state, stored as the API server would return them from a
 * GET (with kind and apiVersion). All functions must be called with the state locked
 * (sim_lock/sim_unlock) except sim_new/sim_free; the HTTP front runs one thread per connection,
 * and a ticker thread calls sim_tick. sim_wait releases the lock while it waits.
 */
#ifndef IDWSIM_SIMSTATE_H
#define IDWSIM_SIMSTATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "idwatch/core.h"
#include "idwatch/selector.h"
#include "patch.h"

/* ---- the resources the simulated API server serves (one static table) ---- */
struct sim_resource {
    const char *group;   /* "" for the core group */
    const char *version; /* "v1" */
    const char *name;    /* plural, "deployments" */
    const char *singular;
    const char *kind;    /* "Deployment" */
    bool namespaced;
    bool custom;         /* served from a CRD: list items carry kind/apiVersion; no strategic merge */
    const char *short_names; /* comma-separated, may be "" */
    const char *verbs;       /* comma-separated, e.g. "get,list,watch,patch" */
};

size_t sim_resource_count(void);
const struct sim_resource *sim_resource_at(size_t i);
/* group "" = core. NULL when not served. */
const struct sim_resource *sim_resource_find(const char *group, const char *version,
                                             const char *plural);

/* ---- lifetime ---- */
struct sim;

struct sim_options {
    const char *scenario;      /* a name (looked up in scenarios_dir as NAME.json) or a path */
    const char *scenarios_dir; /* tests/sim/scenarios */
    const char *generate;      /* "deployments=10000,pods=50000,wi=0.2,pi=0.1,nmi=300" or NULL */
    double speed;              /* scenario time runs this many times faster (1 = real time) */
    uint64_t seed;             /* for generated names/IPs; fixed default so runs repeat */
    bool frozen;               /* tests: scenario time moves only through sim_advance */
};

/* Loads the scenario and builds the initial cluster (controllers have created pods, logs are
 * back-filled for the log window). A malformed scenario fails with err naming the file and
 * the JSON path ("demo.json: $.objects[3].metadata.name: expected a string"). */
int sim_new(const struct sim_options *opt, struct sim **out, struct idw_err *err);
void sim_free(struct sim *s);

void sim_lock(struct sim *s);
void sim_unlock(struct sim *s);
/* Waits (lock released meanwhile) until something changes or timeout_ms passes. */
void sim_wait(struct sim *s, int timeout_ms);
/* Advances scenario time to the wall clock (scaled by speed): churn, rollouts, cronjobs, NMI
 * and MIC traffic. Wakes waiters when anything changed. */
void sim_tick(struct sim *s);
/* Current scenario time, epoch nanoseconds (the time the state reflects: it moves in sim_tick). */
int64_t sim_now_ns(const struct sim *s);
/* Moves scenario time forward by ns on top of the wall clock, then ticks (tests, fault
 * injection: "an hour later" without waiting an hour). */
void sim_advance(struct sim *s, int64_t ns);

/* ---- objects ---- */
/* The newest resourceVersion (one global counter, as etcd's revision). */
uint64_t sim_resource_version(const struct sim *s);

/* Objects of a resource, sorted by namespace then name, filtered by namespace (NULL = all) and
 * selectors (NULL = none). *out is an array the caller frees (the objects are the state's). */
size_t sim_list(struct sim *s, const struct sim_resource *r, const char *ns,
                const struct selector *labels, const struct selector *fields,
                const cJSON ***out);
const cJSON *sim_get(struct sim *s, const struct sim_resource *r, const char *ns,
                     const char *name);

/* How an object is written into a list: as stored (custom resources), without kind/apiVersion
 * (built-in kinds in a list), or as PartialObjectMetadata. */
enum sim_text { SIM_TEXT_FULL, SIM_TEXT_STRIPPED, SIM_TEXT_PARTIAL, SIM_TEXT__COUNT };

/* One page of a list without rebuilding it: the objects after (after_ns, after_name) in
 * (namespace, name) order (after_name NULL = from the start) that match, at most limit (0 = no
 * limit). *more: more matching objects follow. *remaining: how many (known only without
 * selectors; else 0). out: the caller frees the array; the objects stay the state's (locked). */
size_t sim_list_page(struct sim *s, const struct sim_resource *r, const char *ns,
                     const struct selector *labels, const struct selector *fields,
                     const char *after_ns, const char *after_name, size_t limit,
                     const cJSON ***out, bool *more, size_t *remaining);
/* The object's text in that form, rendered once per version (valid while the state is locked
 * and the object unchanged). */
const char *sim_json_text(struct sim *s, const struct sim_resource *r, const cJSON *obj,
                          enum sim_text form, size_t *len);

/* Applies a patch as the API server does: returns the HTTP status (200, 404, 409 resourceVersion
 * conflict, 415, 422, 400) with err holding the Status message on failure. On success *result
 * is a copy of the new object (caller frees). dry_run stores nothing. A pod-template change bumps
 * metadata.generation and rolls the pods (new names, new IPs, webhook mutation for labelled ones). */
int sim_patch(struct sim *s, const struct sim_resource *r, const char *ns, const char *name,
              enum patch_type type, const cJSON *patch, bool dry_run, const char *field_manager,
              cJSON **result, struct idw_err *err);

/* ---- watch ---- */
struct sim_event {
    uint64_t rv;
    const char *type; /* "ADDED", "MODIFIED", "DELETED" */
    const struct sim_resource *res;
    const cJSON *object; /* the object as of that event (owned by the state) */
};

/* Events of resource r with rv > since (namespace NULL = all), oldest first. Returns 0 with
 * *out (caller frees the array) and *n, or -1 when `since` is older than the history kept
 * (the HTTP front answers 410 Gone / "too old resource version"). The history starts at the
 * resourceVersion the scenario loaded with (the initial objects are the list, not events), keeps
 * the last 10,000 events per resource, and is dropped by sim_compact. `since` is a number: map
 * a watch without resourceVersion (or "0") to sim_resource_version() first. Event objects, like
 * sim_list/sim_get results, stay valid only while the state is locked. */
int sim_events_since(struct sim *s, const struct sim_resource *r, const char *ns, uint64_t since,
                     struct sim_event **out, size_t *n);
/* For tests and fault injection: forget history so any older watch gets 410. */
void sim_compact(struct sim *s);

/* ---- pod logs ---- */
struct sim_log_line {
    int64_t time_ns; /* when the line was written (scenario time) */
    const char *text; /* without the trailing newline */
};

/* Lines of a container's log written after since_ns (0 = from the start), oldest first; the
 * array is the caller's to free, the texts are the state's. Returns 0, 404 (no such pod),
 * 400 (container not valid / container name required) with err filled. `container` NULL means
 * the default container (annotation kubectl.kubernetes.io/default-container, else the first). */
int sim_pod_log(struct sim *s, const char *ns, const char *pod, const char *container,
                int64_t since_ns, struct sim_log_line **out, size_t *n, struct idw_err *err);
/* True while the pod exists (a following log stream ends when it goes). */
bool sim_pod_exists(struct sim *s, const char *ns, const char *pod);

/* ---- authorization (SelfSubjectAccessReview), from the scenario's RBAC table ---- */
/* First matching row wins (a missing field or "*" matches; resource may be "pods/log"); no match
 * is denied; a scenario without an rbac table allows everything. reason gets the row's reason. */
bool sim_rbac_allowed(struct sim *s, const char *user, const char *verb, const char *group,
                      const char *resource, const char *subresource, const char *ns,
                      const char *name, char *reason, size_t reason_len);

/* ---- cluster facts the HTTP front needs ---- */
const char *sim_kubernetes_version(const struct sim *s); /* "v1.32.4" */
const char *sim_issuer(const struct sim *s);             /* the cluster's OIDC issuer URL */
/* Replaces it (the Azure side serves the public issuer at a URL known only once listening). */
void sim_set_issuer(struct sim *s, const char *issuer);
/* The scenario object itself (the "azure" section etc.), for fronts added later (ARM, Entra). */
const cJSON *sim_scenario(const struct sim *s);

#endif
