/* session: one connection to one cluster (a kubeconfig context): the store, the Kubernetes client,
 * the Azure client, the OIDC check and the check results, all driven by the app's event loop.
 * Switching context closes one session and opens another on the same net. */
#ifndef IDWATCH_SESSION_H
#define IDWATCH_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#include "idwatch/app.h"
#include "idwatch/check.h"
#include "idwatch/core.h"
#include "idwatch/kube.h"
#include "idwatch/kubeconfig.h"
#include "idwatch/net.h"
#include "idwatch/store.h"

struct session;

/* Resolves `context` (NULL = the kubeconfig's current context, or opt->context) of kc and builds
 * the clients. one_shot = `idwatch report`. Nothing is sent before session_start(). */
int session_open(const struct app_options *opt, const struct kubeconfig *kc, const char *context,
                 struct net *net, bool one_shot, struct session **out, struct idw_err *err);
void session_start(struct session *s);
void session_close(struct session *s);

/* Call every loop turn: starts Azure refreshes and OIDC checks when due and re-checks dirty
 * workloads. Returns true when the check results changed. */
bool session_tick(struct session *s);
/* `r`: refresh Azure and the OIDC check now (watches are live anyway). */
void session_refresh(struct session *s);
/* Stops waiting for Azure (a report near its deadline): what was not read becomes an ARM
 * failure with `why`, so federation is unknown and explained, and the report does not pass. */
void session_give_up_azure(struct session *s, const char *why);
/* Azure is wanted and has not finished its first (or current) refresh. */
bool session_azure_pending(const struct session *s);
/* One-shot mode: everything has been read (Kubernetes lists, NMI logs, Azure, OIDC). */
bool session_done(const struct session *s);
/* The first error that made the cluster unreachable, or NULL. */
const char *session_fatal(const struct session *s);

struct store *session_store(struct session *s);
const struct check_result *session_checks(const struct session *s);
struct kube_client *session_kube(struct session *s);
struct azure *session_azure(struct session *s); /* NULL when Azure is off */
const struct kubeconfig_resolved *session_config(const struct session *s);
uint64_t session_version(const struct session *s); /* changes when anything shown changed */

#endif
