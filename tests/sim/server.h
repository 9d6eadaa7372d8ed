/* server: idwatch-sim's HTTPS front (libmicrohttpd, one thread per connection) over a struct sim.
 * It serves the Kubernetes API subset kubectl and idwatch use, the cluster's OIDC discovery
 * endpoints and the simulator's own /_sim endpoints (stats, faults, compaction). Fronts are rows
 * of one route table, so the Azure side (ARM, Entra token endpoint) can join the same process. */
#ifndef IDWSIM_SERVER_H
#define IDWSIM_SERVER_H

#include <stdint.h>

#include "idwatch/core.h"
#include "simstate.h"

struct server_options {
    uint16_t port;           /* 0 = any free port; the address is always 127.0.0.1 */
    const char *state_dir;   /* kubeconfig, ca.crt, azure.env are written here */
    const char *exec_plugin; /* absolute path of exec-plugin.sh, named by the sim-exec user */
    const char *faults;      /* initial fault spec (server_parse.h syntax) or NULL */
};

struct server;

/* Generates the PKI and tokens, starts listening and writes the state directory. The state
 * must outlive the server. 0, or -1 with err filled (nothing left running). */
int server_start(struct sim *s, const struct server_options *opt, struct server **out,
                 struct idw_err *err);
uint16_t server_port(const struct server *srv);
/* Stops accepting, ends open watch and log streams, joins every connection thread, frees. */
void server_stop(struct server *srv);

#endif
