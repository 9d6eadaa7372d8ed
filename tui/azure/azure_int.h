/* Internal to tui/azure: the credential chain used by the client. */
#ifndef IDWATCH_AZURE_INT_H
#define IDWATCH_AZURE_INT_H

#include "idwatch/azure.h"

enum cred_slot { CRED_SLOT_ARM, CRED_SLOT_GRAPH, CRED_SLOT__N };

struct cred_config {
    const struct azure_io *io;
    const char *authority;    /* URL, no trailing slash */
    const char *arm_audience; /* "https://management.azure.com" */
    const char *graph_audience;
    const char *az_command;
    uint64_t *token_requests; /* stats counter */
};

struct cred_chain;

/* token is NULL on failure, then error holds one line per failed credential ('\n'-joined). */
typedef void (*cred_token_cb)(void *arg, const char *token, const char *error);

struct cred_chain *cred_new(const struct cred_config *cfg);
/* Cancels outstanding work without callbacks. */
void cred_free(struct cred_chain *c);
/* A valid token for the slot (cached until 5 min before expiry), possibly synchronously. */
void cred_get(struct cred_chain *c, enum cred_slot slot, cred_token_cb cb, void *arg);
/* The credential that worked (NULL before any success). */
const char *cred_used(const struct cred_chain *c);
/* The az CLI's default subscription, when the CLI credential was used. */
const char *cred_cli_subscription(const struct cred_chain *c);
/* Environment lookup through the seam. */
const char *cred_env(const struct azure_io *io, const char *name);
int64_t cred_now_ms(const struct azure_io *io);

#endif
