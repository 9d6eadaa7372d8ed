/* azure_sim: idwatch-sim's Azure side, served by the same HTTPS server and port as the cluster:
 * ARM (managedClusters, userAssignedIdentities, federatedIdentityCredentials; paging by nextLink,
 * rate-limit headers, 429), Microsoft Graph (app registrations' federated credentials), the Entra
 * ID token endpoint (client secret and certificate assertions) and the cluster's public OIDC
 * issuer. Everything comes from the scenario's "azure" section (scenarios/README.md); the ARM
 * state (federated credentials) changes with PUT/DELETE for the life of the process. */
#ifndef IDWSIM_AZURE_SIM_H
#define IDWSIM_AZURE_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>
#include <openssl/evp.h>

#include "idwatch/core.h"
#include "server_parse.h"

struct server;
struct server_req;
struct server_resp;
struct azure_sim;

/* Checks a scenario's "azure" section (called by the scenario loader): errors read
 * "<file>: $.azure.userAssignedIdentities[2].name: expected a string". 0 or -1. */
int azure_sim_check(const cJSON *azure, const char *file, struct idw_err *err);

/* Builds the Azure side for a listening server (its URL is known): expands the placeholders
 * (${ISSUER}, ${ISSUER_NO_SLASH}, ${SIM_URL}), makes the service principal's secret and
 * certificate, and, when the scenario's cluster has its OIDC issuer enabled, makes the cluster's
 * issuer the simulator's public issuer URL (sim_issuer). 0, or -1 with err. */
int azure_sim_new(struct server *srv, struct azure_sim **out, struct idw_err *err);
void azure_sim_free(struct azure_sim *a);

/* Writes DIR/azure.env, DIR/client.pem (certificate + key), DIR/client.key and DIR/az. */
int azure_sim_write_state(struct azure_sim *a, const char *dir, struct idw_err *err);

/* The route-table row (server.c): match, the stats/fault class of a request (SERVER_CLASS_OTHER
 * when it is not Azure's), the handler, and the rewrite of an injected fault's answer into the
 * error shape of ARM, Graph or Entra ID. */
bool azure_sim_match(const struct server_req *req);
enum server_class azure_sim_classify(const struct server_req *req);
void azure_sim_handle(struct server_req *req, struct server_resp *resp);
void azure_sim_fault_body(struct server_req *req, struct server_resp *resp);

/* The public issuer URL with its trailing slash ("" when the scenario's OIDC issuer is off). */
const char *azure_sim_issuer(const struct azure_sim *a);

/* ---- pure pieces (unit tests, fuzzing) ---- */

/* An application/x-www-form-urlencoded body; values are decoded copies, NULL when absent.
 * Unknown keys are ignored; a repeated key or a bad escape fails. */
struct azure_sim_form {
    char *grant_type, *client_id, *client_secret, *client_assertion_type, *client_assertion, *scope;
};
int azure_sim_form_parse(const char *body, size_t len, struct azure_sim_form *out);
void azure_sim_form_free(struct azure_sim_form *f);

/* What a client assertion must satisfy. thumb_s256/thumb_s1 are the certificate's SHA-256 and
 * SHA-1 digests (an x5t#S256 / x5t header, when present, must name this certificate). */
struct azure_sim_assertion_rules {
    EVP_PKEY *key; /* the registered certificate's public key */
    const unsigned char *thumb_s256, *thumb_s1;
    const char *audience;  /* the token endpoint URL */
    const char *client_id; /* iss and sub */
    int64_t now;           /* epoch seconds */
};
/* Verifies a client-assertion JWT (PS256 or RS256). 0, or the AADSTS number of the failure with
 * why filled (one line, no secret material). */
int azure_sim_assertion_verify(const char *jwt, const struct azure_sim_assertion_rules *r,
                               char *why, size_t why_len);

/* The federated credential name rule: ^[a-zA-Z0-9][a-zA-Z0-9-_]{2,119}$. */
bool azure_sim_fic_name_ok(const char *name);

#endif
