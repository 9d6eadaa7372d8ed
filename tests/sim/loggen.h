/* loggen: NMI and MIC log lines in the real formats of each era (reference/pod-identity.md §3, §4,
 * fixtures nmi-logs-real.txt, mic-logs-real.txt). */
#ifndef IDWSIM_LOGGEN_H
#define IDWSIM_LOGGEN_H

#include <stddef.h>
#include <stdint.h>

#include "idwatch/core.h"

enum loggen_era {
    LOGGEN_LOGRUS_15, /* <= 1.5.x: logrus text, "Status (%d) took %d ns", req.path= */
    LOGGEN_KLOG_161,  /* 1.6.0-1.6.1: klog, capital "Status", server.go:191 */
    LOGGEN_KLOG_175,  /* 1.7.5-1.8.1: klog, server.go:196 */
    LOGGEN_KLOG_1817, /* 1.8.13-1.8.17: klog, server.go:239 */
};

int loggen_era_parse(const char *s, enum loggen_era *out); /* "logrus-1.5", "klog-1.6", "klog-1.7", "klog-1.8" */

enum loggen_outcome {
    LOGGEN_OK,            /* matched, token 200 */
    LOGGEN_NOT_BOUND,     /* 404 after ~80 s: no AzureAssignedIdentity (CREATED failed after 16 attempts) */
    LOGGEN_CANCELED,      /* 404 context canceled (unbound pod, client gave up) */
    LOGGEN_ID_NOT_FOUND,  /* 403: Identity not found (not on the VMSS) */
    LOGGEN_NO_RESOURCE,   /* 400: parameter resource cannot be empty (IP only) */
    LOGGEN_EXCEPTION,     /* exception pod: served straight from IMDS, 200 */
    LOGGEN_UNKNOWN_POD,   /* 500: failed to get pod info from pod IP (IP only) */
};

struct loggen_request {
    enum loggen_outcome outcome;
    int64_t time;          /* epoch seconds */
    int32_t micros;        /* sub-second part */
    const char *pod_namespace;
    const char *pod_name;
    const char *pod_ip;
    const char *identity_namespace;
    const char *identity_name;
    const char *client_id; /* printed redacted, as NMI does */
    const char *resource;  /* e.g. https://vault.azure.net */
};

/* Appends the lines NMI writes for one token request (each ending in '\n') to out. The status
 * line is always last and carries req->time/micros; earlier lines precede it by the outcome's
 * typical duration. IP-only outcomes (NO_RESOURCE, UNKNOWN_POD) name no pod. In the logrus era
 * there is no "has been matched" line (1.5.x did not log one) and NOT_BOUND is a 403. */
void loggen_nmi_request(enum loggen_era era, const struct loggen_request *req, struct idw_buf *out);
/* Appends NMI's startup lines (version banner, mode, listening). */
void loggen_nmi_startup(enum loggen_era era, int64_t time, int managed_mode, struct idw_buf *out);
/* Appends a MIC cycle: assignment lines for one pod/identity and the cycle summary. */
void loggen_mic_assign(int64_t time, const char *pod_namespace, const char *pod_name,
                       const char *identity_namespace, const char *identity_name,
                       const char *node, struct idw_buf *out);

#endif
