/* patch: the three JSON patch types the API server accepts, applied to cJSON objects. */
#ifndef IDWSIM_PATCH_H
#define IDWSIM_PATCH_H

#include <cjson/cJSON.h>

#include "idwatch/core.h"

enum patch_type {
    PATCH_MERGE,     /* application/merge-patch+json (RFC 7386) */
    PATCH_STRATEGIC, /* application/strategic-merge-patch+json */
    PATCH_JSON,      /* application/json-patch+json (RFC 6902) */
};

/* Maps a Content-Type (parameters ignored) to a patch type; -1 when unsupported (415). */
int patch_type_from_content_type(const char *content_type, enum patch_type *out);

/* Applies `patch` to a deep copy of `target` and returns it in *result (caller frees).
 * `kind` is the object's kind ("Deployment", "Pod", ...): strategic merge uses it to know which
 * lists merge by key (containers, initContainers, volumes, env, volumeMounts, ports, ...) and
 * refuses custom resources. Errors are API-server-like: the return value is the HTTP status
 * (400 bad patch, 415 strategic on a CRD, 422 JSON patch path missing / test failed) and err
 * holds the message. 0 on success.
 * Merge and strategic patches must be JSON objects (400 otherwise: the result would not be an API
 * object). Strategic merge also honours `$patch: replace|delete|merge` on maps and list elements,
 * `$retainKeys`, `$deleteFromPrimitiveList/<f>` and ignores `$setElementOrder/<f>`. JSON patch
 * errors carry the texts of evanphx/json-patch as the API server returns them, e.g.
 * "Unable to remove nonexistent key: azure.workload.identity/use: missing value". */
int patch_apply(enum patch_type type, const cJSON *target, const cJSON *patch, const char *kind,
                cJSON **result, struct idw_err *err);

#endif
