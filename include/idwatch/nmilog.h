/* nmilog: a streaming parser for the log of one NMI pod (AAD Pod Identity), every era of
 * pod-identity.md §3: logrus (<= 1.5.x), klog (1.6 - 1.8.x, "Status"/"status", "reg.path"),
 * with optional `kubectl logs --timestamps` (RFC 3339) and `--prefix` ("[pod/x/c] ") prefixes.
 * Wrapped, cut or foreign lines are skipped, never fatal.
 *
 * One token request is emitted per status line of a token path (/metadata/identity/oauth2/token,
 * /host/token). Name-bearing lines of the same request (has been matched, failed to get matching
 * identities, failed to get service principal token, exception pod, no AzureAssignedIdentity
 * found) fill in namespace/name/identity/resource/error: lines that carry req.remote pair by IP;
 * klog lines (no IP) pair with the next status line when they were written while that request ran
 * (between status time - duration - 2 s and the status time), nearest first.
 */
#ifndef IDWATCH_NMILOG_H
#define IDWATCH_NMILOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "idwatch/model.h"

struct nmilog_config {
    const char *nmi_pod;   /* copied into every request (may be NULL) */
    const char *node_name; /* idem */
    int year;              /* for klog headers, which have no year; 0 = the current UTC year */
    bool all_paths; /* also emit status lines of non-token paths (pre-1.8 /metadata/instance) */
};

struct nmilog_stats {
    uint64_t lines;
    uint64_t bytes;
    uint64_t requests;     /* emitted */
    uint64_t status_lines; /* status lines seen (token and other paths) */
    uint64_t unparsed;     /* lines with no recognised header (stack dumps, wrapped tails, ...) */
};

struct nmilog;

struct nmilog *nmilog_new(const struct nmilog_config *cfg);
void nmilog_free(struct nmilog *p);

/* Feeds bytes of the log; complete lines are parsed at once, a trailing partial line waits for
 * the next call (lines longer than 64 KiB are cut). */
void nmilog_feed(struct nmilog *p, const char *data, size_t len);
/* Feeds one complete line (without its newline). */
void nmilog_feed_line(struct nmilog *p, const char *line, size_t len);
/* Parses a pending partial line, as at the end of a stream. */
void nmilog_finish(struct nmilog *p);

/* Moves the oldest parsed request into *out (the caller then owns its members; free with
 * model_nmi_request_free). Returns false when there is none. */
bool nmilog_next(struct nmilog *p, struct model_nmi_request *out);

/* What the startup line said: "v1.7.5", "1.5.5", ... or NULL; mode "standard"/"managed" or NULL. */
const char *nmilog_version(const struct nmilog *p);
const char *nmilog_mode(const struct nmilog *p);
const struct nmilog_stats *nmilog_get_stats(const struct nmilog *p);

#endif
