/* azure_sim_int: what the Azure side's files share (azure_sim.c: setup, routing, state files,
 * the public issuer; azure_sim_arm.c: ARM and Graph; azure_sim_token.c: Entra ID). Not a
 * contract. */
#ifndef IDWSIM_AZURE_SIM_INT_H
#define IDWSIM_AZURE_SIM_INT_H

#include <pthread.h>

#include <openssl/x509.h>

#include "azure_sim.h"
#include "server_internal.h"

#define AZS_AUD_ARM 1
#define AZS_AUD_GRAPH 2

struct azs_token {
    char token[65];
    int aud;            /* AZS_AUD_* */
    int64_t expires_ms; /* monotonic; 0 = never (the az stand-in's) */
};

/* A token bucket (reference azure-arm.md §5): reads, writes, deletes per subscription. */
struct azs_bucket {
    double level, max, refill; /* refill per second */
};

enum azs_keys { AZS_KEYS_CLUSTER, AZS_KEYS_DIFFERENT, AZS_KEYS_NONE };

struct azure_sim {
    struct server *srv;
    char url[64];          /* https://127.0.0.1:PORT */
    char tenant[64];       /* the directory everything lives in */
    char subscription[64]; /* "" when the scenario has no azure section */
    char issuer[256];      /* public issuer URL with trailing slash, "" when off */
    char issuer_path[192]; /* "/oidc/<tenant>/<uuid>/" */
    char *issuer_claimed;  /* what the public discovery document says (default: issuer) */
    enum azs_keys keys;
    char *other_n, *other_e; /* the diverging key's material (AZS_KEYS_DIFFERENT) */

    /* the service principal idwatch signs in as */
    char sp_client_id[64], sp_object_id[64], sp_name[128];
    char sp_secret[65];
    char *cert_pem, *key_pem;
    EVP_PKEY *sp_key;
    X509 *sp_cert;
    unsigned char thumb_s256[32], thumb_s1[20];
    char cli_arm[65], cli_graph[65]; /* tokens the az stand-in prints (never expire) */

    int page_size;
    int64_t token_lifetime_s;

    pthread_mutex_t mu; /* everything below */
    cJSON *az;          /* the scenario's azure section, placeholders expanded; FICs mutate */
    struct azs_token *tokens;
    size_t n_tokens, cap_tokens;
    struct azs_bucket reads, writes, deletes;
    int64_t bucket_ms;
};

/* ---- azure_sim.c ---- */
/* Adds "Name: value" to the answer's extra headers. */
void azs_header(struct server_resp *resp, const char *name, const char *value);
/* The x-ms-request-id family on an ARM answer. */
void azs_arm_ids(struct server_req *req, struct server_resp *resp);
/* ARM's {"error":{"code","message"}} (message printf-style). */
void azs_arm_error(struct server_resp *resp, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Graph's {"error":{"code","message","innerError":{...}}}. */
void azs_graph_error(struct server_resp *resp, int status, const char *code, const char *msg);
/* Entra ID's token error: error, error_description "AADSTS<n>: <text>\r\nTrace ID...". */
void azs_token_error(struct azure_sim *a, struct server_resp *resp, int status, const char *error,
                     int aadsts, const char *text);
void azs_random_uuid(char out[37]);
/* A query parameter's decoded value (xmalloc'd), NULL when absent. */
char *azs_query(const struct server_req *req, const char *name);

/* ---- azure_sim_token.c ---- */
/* Makes the principal's key and self-signed certificate (and thumbprints). */
int azs_principal_init(struct azure_sim *a, struct idw_err *err);
void azs_principal_free(struct azure_sim *a);
/* Issues a token for aud (lifetime_s 0 = never expires); out holds 65 bytes. Locks a->mu. */
void azs_token_issue(struct azure_sim *a, int aud, int64_t lifetime_s, char *out);
/* 0 when the bearer token is known, unexpired and for aud; else 1 unknown, 2 expired, 3 another
 * audience. Locks a->mu. */
int azs_token_check(struct azure_sim *a, const char *bearer, int aud);
void azs_token_handle(struct azure_sim *a, struct server_req *req, struct server_resp *resp);

/* ---- azure_sim_arm.c ---- */
void azs_arm_handle(struct azure_sim *a, struct server_req *req, struct server_resp *resp);
void azs_graph_handle(struct azure_sim *a, struct server_req *req, struct server_resp *resp);

#endif
