/* mutate: what the Azure Workload Identity webhook does to a new pod
 * (reference/workload-identity.md §2). */
#ifndef IDWSIM_MUTATE_H
#define IDWSIM_MUTATE_H

#include <cjson/cJSON.h>

#include "idwatch/core.h"

enum mutate_layout {
    MUTATE_NONE, /* no webhook installed: pods are created as they are */
    MUTATE_V15,  /* v0.8.0..v1.5.x: volume azure-identity-token at /var/run/secrets/azure/tokens */
    MUTATE_V16,  /* v1.6.0: azure-workload-identity-reserved-<hash> at /var/run/secrets/azure/wi */
};

struct mutate_config {
    enum mutate_layout layout;
    const char *tenant_id;      /* webhook ConfigMap AZURE_TENANT_ID */
    const char *authority_host; /* "https://login.microsoftonline.com/" */
    const char *proxy_image;    /* mcr.microsoft.com/oss/azure/workload-identity/proxy:v1.6.0 */
    const char *proxy_init_image;
    int native_sidecar;    /* API server >= 1.32: azwi-proxy is a native sidecar */
    const char *log_level; /* the webhook's log level, passed to the proxy (NULL: "info") */
    int webhook_only;      /* 1: only the webhook's own patch. 0 (default): the pod as the API
                            * server stores it: injected containers also get the defaulted
                            * fields (resources, terminationMessage*, port protocol) and the
                            * service-account token mount that the ServiceAccount admission
                            * plugin adds when reinvoked, and the new volume gets
                            * defaultMode 420. */
};

/* Mutates `pod` (a full Pod object, metadata.name or generateName set) in place as the webhook
 * would at CREATE, given its ServiceAccount object `sa` (may be NULL: the pod is rejected, as the
 * webhook does when it cannot read the SA). Pods without label azure.workload.identity/use="true"
 * are left untouched, as are all pods with layout MUTATE_NONE. Returns 0, or the admission error's
 * HTTP code (400) with err holding the webhook's own message (invalid token expiration, hostNetwork
 * with the proxy, bad proxy port, SA not found); the API server shows it to the client as
 * `admission webhook "mutation.azure-workload-identity.io" denied the request: <message>`.
 * On error the pod is unchanged. Null/NULL strings in cfg take the v1.6.0 / public-cloud defaults.
 */
int mutate_pod(const struct mutate_config *cfg, cJSON *pod, const cJSON *sa, struct idw_err *err);

#endif
