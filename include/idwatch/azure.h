/* azure: the credential chain, ARM and Graph reads, and their decoders into the model.
 *
 * Everything is asynchronous and goes through a small I/O seam (struct azure_io): the program
 * plugs in net (azure_io_net), tests plug in fakes. Tokens live in memory only and never reach
 * an error message or a log. Strings from ARM/Graph/Entra are untrusted: decoders bound and
 * sanitize what they put into messages.
 */
#ifndef IDWATCH_AZURE_H
#define IDWATCH_AZURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "idwatch/core.h"
#include "idwatch/model.h"

struct net;
struct store;

/* ---- clouds (reference azure-arm.md §7) ---------------------------------------------------- */

#define AZURE_CLOUDS(X)                                                                            \
    X(PUBLIC, "AzurePublicCloud", "https://login.microsoftonline.com",                             \
      "https://management.azure.com", "https://graph.microsoft.com")                               \
    X(USGOV, "AzureUSGovernment", "https://login.microsoftonline.us",                              \
      "https://management.usgovcloudapi.net", "https://graph.microsoft.us")                        \
    X(CHINA, "AzureChinaCloud", "https://login.partner.microsoftonline.cn",                        \
      "https://management.chinacloudapi.cn", "https://microsoftgraph.chinacloudapi.cn")

struct azure_cloud {
    const char *name;      /* "AzurePublicCloud" */
    const char *authority; /* Entra ID login host URL, no trailing slash */
    const char *arm;       /* ARM base URL and token audience, no trailing slash */
    const char *graph;     /* Microsoft Graph base URL */
};

/* Case-insensitive; also accepts "AzureUSGovernmentCloud" and "public"/"usgov"/"china".
 * NULL or "" gives the public cloud; an unknown name gives NULL. */
const struct azure_cloud *azure_cloud_find(const char *name);

/* ---- the I/O seam ------------------------------------------------------------------------ */

struct azure_http_request {
    const char *method; /* "GET", "POST", "PUT" */
    const char *url;
    const char *const *headers; /* "Name: value", NULL-terminated; may be NULL */
    const char *body;
    size_t body_len;
    long timeout_ms; /* 0 = the transport's default */
};

struct azure_http_response {
    long status; /* 0 when no answer arrived (error says why) */
    const char *body;
    size_t body_len;
    const char *error;
    int64_t retry_after; /* seconds from Retry-After, 0 when absent */
    const char *headers; /* raw "Name: value\r\n" lines, or NULL when the transport has none
                          * (net does not expose them yet: no remaining-reads pacing then) */
};

typedef void (*azure_http_done)(void *arg, const struct azure_http_response *r);

struct azure_proc_result {
    int exit_code;   /* -1 when it could not run, was killed or timed out */
    const char *out; /* stdout */
    size_t out_len;
    const char *err; /* stderr */
    size_t err_len;
    const char *error; /* why exit_code is -1 */
};

typedef void (*azure_proc_done)(void *arg, const struct azure_proc_result *r);
typedef void (*azure_timer_fn)(void *arg);

/* Every started request/process calls its done exactly once unless cancelled, and never before
 * the starting call returned (net runs callbacks from its poll). */
struct azure_io {
    void *ctx;
    int (*http)(void *ctx, const struct azure_http_request *req, azure_http_done done, void *arg,
                void **handle, struct idw_err *err);
    void (*http_cancel)(void *ctx, void *handle);
    /* Runs argv[0] (searched in PATH) with no shell; stdout/stderr collected. */
    int (*spawn)(void *ctx, char *const argv[], long timeout_ms, azure_proc_done done, void *arg,
                 void **handle, struct idw_err *err);
    void (*spawn_cancel)(void *ctx, void *handle);
    uint64_t (*timer_add)(void *ctx, int64_t delay_ms, azure_timer_fn fire, void *arg);
    void (*timer_cancel)(void *ctx, uint64_t id);
    int64_t (*now_ms)(void *ctx);                       /* epoch milliseconds; NULL = real */
    const char *(*getenv)(void *ctx, const char *name); /* NULL = getenv(3) */
};

/* The program's seam: HTTP through net (so the read-only guard applies), child processes with
 * their pipes watched by net's poll, net's timers. ca_file (may be NULL) is trusted in addition
 * to the system CAs. Free with azure_io_net_free. */
int azure_io_net_new(struct net *n, const char *ca_file, struct azure_io *out, struct idw_err *err);
void azure_io_net_free(struct azure_io *io);

/* ---- tokens and credentials (reference §6) ------------------------------------------------ */

#define AZURE_CREDENTIALS(X)                                                                       \
    X(ENV_SECRET, "environment", "EnvironmentCredential")                                          \
    X(ENV_CERT, "environment-certificate", "EnvironmentCredential")                                \
    X(WORKLOAD, "workload-identity", "WorkloadIdentityCredential")                                 \
    X(MANAGED, "managed-identity", "ManagedIdentityCredential")                                    \
    X(CLI, "azure-cli", "AzureCliCredential")

enum azure_cred_kind {
#define X(id, name, sdk) AZURE_CRED_##id,
    AZURE_CREDENTIALS(X)
#undef X
        AZURE_CRED__COUNT
};

const char *azure_cred_name(enum azure_cred_kind k); /* "azure-cli" */

struct azure_token {
    char *access_token;
    int64_t expires_on; /* epoch seconds */
    char *subscription; /* az CLI only: the default subscription, else NULL */
    char *tenant;       /* az CLI only */
};
void azure_token_free(struct azure_token *t); /* members only; wipes the token bytes */

/* Entra ID / managed-identity token response: access_token plus expires_in (number or string,
 * relative to now) or expires_on (epoch, number or string). */
int azure_parse_token_response(const char *body, size_t len, int64_t now, struct azure_token *out,
                               struct idw_err *err);
/* `az account get-access-token -o json` output of any CLI version: expires_on (epoch, CLI >=
 * 2.54) first, else expiresOn as local time "YYYY-MM-DD HH:MM:SS[.ffffff]". */
int azure_parse_cli_token(const char *out, size_t len, struct azure_token *tok,
                          struct idw_err *err);
/* One line about a failed token request: "HTTP 401 invalid_client: AADSTS7000215: ...". */
void azure_describe_token_error(long status, const char *body, size_t len, char *out, size_t n);

/* application/x-www-form-urlencoded value encoding, xmalloc'd. */
char *azure_form_encode(const char *s);

/* A certificate credential loaded from a PEM (certificate + private key) or PKCS#12 file. */
struct azure_cert;
/* password may be NULL. Errors name the file and carry OpenSSL's reason. */
int azure_cert_load(const char *path, const char *password, struct azure_cert **out,
                    struct idw_err *err);
void azure_cert_free(struct azure_cert *c);
/* The client assertion (reference §6 b): header {alg PS256, typ JWT, x5t#S256}, claims aud =
 * token endpoint, iss = sub = client_id, jti (random UUID), nbf = now, exp = now + 600; signed
 * RSASSA-PSS SHA-256 (salt = 32). xmalloc'd. */
char *azure_cert_assertion(const struct azure_cert *c, const char *client_id, const char *token_url,
                           int64_t now, struct idw_err *err);

/* ---- ARM and Graph decoders --------------------------------------------------------------- */

/* The fields of a managedCluster idwatch uses. */
struct azure_cluster {
    char *id;
    char *name;
    char *subscription_id;
    char *resource_group;
    char *fqdn;
    char *private_fqdn;
    char *tenant_id; /* aadProfile.tenantID, else identity.tenantId */
    bool oidc_enabled;
    char *issuer_url;
    bool workload_identity_enabled;
    bool pod_identity_enabled;
    struct model_managed_pod_identity *pod_identities;
    size_t n_pod_identities;
};
void azure_cluster_free(struct azure_cluster *c); /* members only */

/* A managedCluster GET body. */
int azure_parse_cluster(const char *json, size_t len, struct azure_cluster *out,
                        struct idw_err *err);

/* One page of a list: the decoded items, items that did not decode, and nextLink. */
struct azure_cluster_page {
    struct azure_cluster *items;
    size_t n;
    char *next_link;
    size_t skipped;
};
int azure_parse_cluster_list(const char *json, size_t len, struct azure_cluster_page *out,
                             struct idw_err *err);
void azure_cluster_page_free(struct azure_cluster_page *p);

struct azure_identity_page {
    struct model_identity *items;
    size_t n;
    char *next_link;
    size_t skipped;
};
/* userAssignedIdentities list (subscription or resource group). */
int azure_parse_identity_list(const char *json, size_t len, struct azure_identity_page *out,
                              struct idw_err *err);
void azure_identity_page_free(struct azure_identity_page *p);

struct azure_fic_page {
    struct model_fic *items;
    size_t n;
    char *next_link; /* ARM nextLink or Graph @odata.nextLink */
    size_t skipped;
};
/* ARM federatedIdentityCredentials list (properties.issuer...) or the Graph collection
 * (issuer... at the top level); a single FIC object (PUT answer) gives a page of one. */
int azure_parse_fic_list(const char *json, size_t len, struct azure_fic_page *out,
                         struct idw_err *err);
void azure_fic_page_free(struct azure_fic_page *p);

/* subscriptions list: subscriptionId values. */
int azure_parse_subscription_list(const char *json, size_t len, char ***ids, size_t *n,
                                  char **next_link, struct idw_err *err);

/* One plain line for an ARM/Graph error answer, about `what` ("listing federated credentials of
 * identity id1"): "AuthorizationFailed: no permission for <action> on <scope> (listing ...)".
 * Works on any body (garbage gives "HTTP 500 (listing ...)"). */
void azure_describe_error(long status, const char *body, size_t len, const char *what, char *out,
                          size_t n);
/* The ARM error code of a body ("AuthorizationFailed"), copied into out; "" when none. */
void azure_error_code(const char *body, size_t len, char *out, size_t n);

/* Header value from a raw header block (case-insensitive name), copied into out. 0 or -1. */
int azure_header(const char *headers, const char *name, char *out, size_t n);

/* True when host (no scheme/port) is the cluster's fqdn or privateFQDN, case-insensitively. */
bool azure_cluster_matches_host(const struct azure_cluster *c, const char *host);
/* The host of an https URL ("https://h:443/x" -> "h"), xmalloc'd; NULL if not parseable. */
char *azure_url_host(const char *url);

/* Splits /subscriptions/S/resourceGroups/G/providers/.../N (any segment case); each out may be
 * NULL. Returns 0 or -1. */
int azure_arm_id_split(const char *id, char **sub, char **rg, char **name);

/* The federated credential name rule: ^[a-zA-Z0-9][a-zA-Z0-9-_]{2,119}$. */
bool azure_fic_name_valid(const char *name);
#define AZURE_FIC_MAX 20 /* per identity or app registration */

/* ---- the client --------------------------------------------------------------------------- */

struct azure_config {
    const char *cloud;          /* NULL: AZURE_ENVIRONMENT, else public */
    const char *arm_endpoint;   /* NULL: IDWATCH_ARM_ENDPOINT, else the cloud's */
    const char *authority_host; /* NULL: AZURE_AUTHORITY_HOST, else the cloud's */
    const char *graph_endpoint; /* NULL: IDWATCH_GRAPH_ENDPOINT, else the cloud's */
    const char *subscription;   /* NULL: AZURE_SUBSCRIPTION_ID, else the az CLI's, else all */
    const char *cluster_id;     /* NULL: found by server_host */
    const char *server_host;    /* the kubeconfig server's host */
    const char *az_command;     /* NULL: IDWATCH_AZ, else "az" */
    int64_t identities_ttl;     /* seconds; 0 = 300 (cluster + identity list) */
    int64_t credentials_ttl;    /* seconds; 0 = 60 (federated credential lists) */
    int max_in_flight;          /* 0 = 8 */
};

struct azure;

int azure_new(const struct azure_config *cfg, const struct azure_io *io, struct azure **out,
              struct idw_err *err);
/* Cancels whatever is outstanding (no callbacks) and frees. */
void azure_free(struct azure *az);

/* The client ids some ServiceAccount references: federated credentials are listed for these
 * only (UAMIs through ARM, other ids as app registrations through Graph). Copied. */
void azure_set_referenced(struct azure *az, const char *const *client_ids, size_t n);
/* The referenced set from the store's service accounts (annotation azure.workload.identity/
 * client-id, trimmed, deduplicated). *out is a NULL-terminated xmalloc'd array; free with
 * azure_strv_free. Returns the count. */
size_t azure_collect_client_ids(const struct store *s, char ***out);
void azure_strv_free(char **v);

/* The result's members become the callee's (store_set_azure takes them). */
typedef void (*azure_done_fn)(void *arg, struct model_azure *m);

/* Refreshes what is stale (caches: cluster and identities identities_ttl, credential lists
 * credentials_ttl; tokens until 5 min before expiry) and reports the whole picture through
 * done (before azure_refresh returns when nothing needed asking). Returns -1 with err when a
 * refresh is already running. */
int azure_refresh(struct azure *az, azure_done_fn done, void *arg, struct idw_err *err);
bool azure_busy(const struct azure *az);

/* Creates (PUT) a federated credential on a UAMI after checking the name rule and, with a fresh
 * list, the 20-per-identity limit and an existing issuer+subject pair. done gets 0, or -1 with a
 * one-line err. */
struct azure_fic_spec {
    const char *identity_arm_id;
    const char *name;
    const char *issuer;
    const char *subject;
    const char *audience; /* NULL = api://AzureADTokenExchange */
};
typedef void (*azure_fic_done)(void *arg, int rc, const struct idw_err *err);
int azure_fic_create(struct azure *az, const struct azure_fic_spec *spec, azure_fic_done done,
                     void *arg, struct idw_err *err);

struct azure_stats {
    uint64_t arm_requests; /* ARM requests sent (pages and retries included) */
    uint64_t graph_requests;
    uint64_t token_requests; /* token endpoint, IMDS and az runs */
    uint64_t throttled;      /* 429 answers */
    uint64_t cache_hits;     /* identity credential lists served from the cache */
    int64_t slowdowns;       /* requests delayed for a low remaining-reads count */
};
void azure_get_stats(const struct azure *az, struct azure_stats *out);

#endif
