/* model: plain C structs for what idwatch observes (Kubernetes objects, NMI log events, Azure).
 *
 * These are the contract between the decoders (kube, azure, oidc), the store, the checks and the
 * views. Every struct owns its strings (heap, NUL-terminated, may be NULL when absent); the
 * model_*_free() functions release everything a struct owns; the ones for objects that the
 * store takes by pointer (pod, workload, link, sa, namespace, mwc, the four CRDs) free the struct
 * itself too, the others ("members only") do not. All are NULL-safe. Nothing here does I/O.
 */
#ifndef IDWATCH_MODEL_H
#define IDWATCH_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Well-known keys (reference/workload-identity.md §1, pod-identity.md §1). */
#define WI_LABEL_USE "azure.workload.identity/use"
#define WI_ANN_CLIENT_ID "azure.workload.identity/client-id"
#define WI_ANN_TENANT_ID "azure.workload.identity/tenant-id"
#define WI_ANN_TOKEN_EXPIRATION "azure.workload.identity/service-account-token-expiration"
#define WI_ANN_SKIP_CONTAINERS "azure.workload.identity/skip-containers"
#define WI_ANN_PROXY_SIDECAR "azure.workload.identity/inject-proxy-sidecar"
#define WI_ANN_PROXY_PORT "azure.workload.identity/proxy-sidecar-port"
#define WI_WEBHOOK_NAME "mutation.azure-workload-identity.io"
#define WI_MWC_NAME "azure-wi-webhook-mutating-webhook-configuration"
#define WI_WEBHOOK_DEPLOYMENT "azure-wi-webhook-controller-manager"
#define WI_AUDIENCE "api://AzureADTokenExchange"
#define PI_LABEL_BINDING "aadpodidbinding"
#define K8S_ANN_RESTARTED_AT "kubectl.kubernetes.io/restartedAt"

/* ---- labels and annotations ------------------------------------------------------------- */

struct model_kv {
    char *key;
    char *value;
};

/* A small ordered map (labels, annotations, selectors): linear search is fine at these sizes. */
struct model_kvlist {
    struct model_kv *items;
    size_t n;
    size_t cap;
};

const char *kv_get(const struct model_kvlist *l, const char *key); /* NULL when absent */
bool kv_has(const struct model_kvlist *l, const char *key);
/* Copies both; an existing key keeps its place and gets the new value (order = insertion). */
void kv_set(struct model_kvlist *l, const char *key, const char *value);
void kv_del(struct model_kvlist *l, const char *key);
void kv_copy(struct model_kvlist *dst, const struct model_kvlist *src); /* dst is freed first */
bool kv_equal(const struct model_kvlist *a, const struct model_kvlist *b); /* order-insensitive */
void kv_free(struct model_kvlist *l);

/* ---- object metadata -------------------------------------------------------------------- */

struct model_owner {
    char *kind; /* "ReplicaSet", "Job", "Deployment", ... */
    char *name;
    char *uid;
    bool controller;
};

struct model_meta {
    char *namespace_; /* NULL for cluster-scoped objects */
    char *name;
    char *uid;
    char *resource_version;
    int64_t generation;
    int64_t created; /* creationTimestamp, epoch seconds; 0 when unknown */
    int64_t deleted; /* deletionTimestamp, epoch seconds; 0 when not being deleted */
    struct model_kvlist labels;
    struct model_kvlist annotations;
    struct model_owner *owners;
    size_t n_owners;
};

void model_meta_free(struct model_meta *m);
void model_meta_copy(struct model_meta *dst, const struct model_meta *src); /* dst: overwritten */
/* The owner reference with controller=true, else the first one, else NULL. */
const struct model_owner *model_meta_controller(const struct model_meta *m);

/* ---- pods ------------------------------------------------------------------------------- */

struct model_env {
    char *name;       /* only AZURE_* entries are kept */
    char *value;      /* NULL when the value comes from valueFrom */
    bool value_from;  /* set through valueFrom (secret/configmap ref) */
};

struct model_mount {
    char *name;
    char *mount_path;
    char *sub_path;
    bool read_only;
};

enum model_container_type {
    MODEL_CONTAINER_INIT,    /* spec.initContainers */
    MODEL_CONTAINER_REGULAR, /* spec.containers */
};

struct model_container {
    enum model_container_type type;
    char *name;
    char *image;
    bool restart_always; /* native sidecar: an init container with restartPolicy Always */
    struct model_env *env;
    size_t n_env;
    struct model_mount *mounts;
    size_t n_mounts;
    bool env_from; /* has envFrom entries (the webhook ignores those) */
};

/* One serviceAccountToken source of a projected volume. */
struct model_token_volume {
    char *volume;    /* volume name */
    char *path;      /* path inside the volume, e.g. "token/azure-identity-token" */
    char *audience;  /* NULL = the API server's own audience */
    int64_t expiration_seconds; /* 0 when not set */
};

enum model_pod_phase {
    MODEL_PHASE_UNKNOWN,
    MODEL_PHASE_PENDING,
    MODEL_PHASE_RUNNING,
    MODEL_PHASE_SUCCEEDED,
    MODEL_PHASE_FAILED,
};

struct model_pod {
    struct model_meta meta;
    bool has_spec;          /* false when only metadata (PartialObjectMetadata) was fetched */
    char *service_account;  /* spec.serviceAccountName ("default" when empty and has_spec) */
    char *node_name;
    char *pod_ip;           /* status.podIP */
    bool host_network;
    enum model_pod_phase phase;
    bool ready;             /* condition Ready=True */
    int32_t restarts;       /* sum of containerStatuses[].restartCount */
    int64_t started;        /* newest containerStatuses[].state.running.startedAt, 0 = none */
    struct model_container *containers; /* init containers first, in spec order, then regular */
    size_t n_containers;
    struct model_token_volume *tokens;
    size_t n_tokens;
};

void model_pod_free(struct model_pod *p); /* frees members and p itself */
const struct model_container *model_pod_container(const struct model_pod *p, const char *name);
const char *model_container_env(const struct model_container *c, const char *name);
enum model_pod_phase model_phase_parse(const char *s);
const char *model_phase_name(enum model_pod_phase p);

/* ---- workloads -------------------------------------------------------------------------- */

#define MODEL_WORKLOAD_KINDS(X)                                                                    \
    X(DEPLOYMENT, "Deployment", "deployments", "apps")                                             \
    X(STATEFULSET, "StatefulSet", "statefulsets", "apps")                                          \
    X(DAEMONSET, "DaemonSet", "daemonsets", "apps")                                                \
    X(CRONJOB, "CronJob", "cronjobs", "batch")                                                     \
    X(POD, "Pod", "pods", "")

enum model_workload_kind {
#define X(id, kind, resource, group) MODEL_KIND_##id,
    MODEL_WORKLOAD_KINDS(X)
#undef X
        MODEL_KIND__COUNT
};

const char *model_kind_name(enum model_workload_kind k);     /* "Deployment" */
const char *model_kind_resource(enum model_workload_kind k); /* "deployments" */
const char *model_kind_group(enum model_workload_kind k);    /* "apps", "" for core */
int model_kind_parse(const char *kind, enum model_workload_kind *out); /* 0 or -1 */

/* The pod template of a workload (for a bare Pod: the pod's own labels/annotations/SA). */
struct model_template {
    struct model_kvlist labels;
    struct model_kvlist annotations;
    char *service_account; /* "default" when the template leaves it empty */
};

struct model_workload {
    enum model_workload_kind kind;
    struct model_meta meta;
    struct model_template tmpl;
    int32_t replicas_desired;   /* spec.replicas / desiredNumberScheduled; CronJob: active jobs */
    int32_t replicas_ready;     /* status.readyReplicas / numberReady */
    int32_t replicas_available; /* status.availableReplicas / numberAvailable */
    int32_t replicas_updated;
    int64_t observed_generation;
    char *schedule;             /* CronJob only */
    bool suspended;             /* CronJob spec.suspend */
};

void model_workload_free(struct model_workload *w); /* frees members and w itself */

/* An intermediate owner (ReplicaSet or Job) kept only to link pods to their workload. */
struct model_link {
    struct model_meta meta; /* kind is in link_kind; owners[] point up (Deployment, CronJob) */
    char *kind;             /* "ReplicaSet" or "Job" */
};

void model_link_free(struct model_link *l); /* frees members and l itself */

/* ---- service accounts, namespaces, webhook configurations ------------------------------- */

struct model_service_account {
    struct model_meta meta; /* labels + annotations carry the WI keys */
};

void model_sa_free(struct model_service_account *sa); /* frees members and sa itself */

struct model_namespace {
    struct model_meta meta;
};

void model_namespace_free(struct model_namespace *ns); /* frees members and ns itself */

struct model_webhook {
    char *name;              /* e.g. mutation.azure-workload-identity.io */
    char *service_namespace; /* clientConfig.service.namespace */
    char *service_name;
    char *url;               /* clientConfig.url when not a service */
    size_t ca_bundle_len;    /* length of clientConfig.caBundle (0 = empty) */
    char *failure_policy;    /* "Fail" / "Ignore" */
    struct model_kvlist object_selector; /* matchLabels only */
    bool has_object_selector; /* selects something: non-empty matchLabels or matchExpressions
                               * (the API server stores a missing selector as {}) */
};

struct model_mwc {
    struct model_meta meta;
    struct model_webhook *webhooks;
    size_t n_webhooks;
};

void model_mwc_free(struct model_mwc *m); /* frees members and m itself */

/* ---- AAD Pod Identity CRDs (aadpodidentity.k8s.io/v1; both field casings decoded) ---------- */

struct model_azure_identity {
    struct model_meta meta;
    int type; /* 0 user-assigned MSI, 1 SP secret, 2 SP certificate (missing = 0) */
    char *client_id;
    char *resource_id;
    char *tenant_id;
    bool old_casing; /* decoded from pre-1.6 capitalised keys */
};

struct model_azure_identity_binding {
    struct model_meta meta;
    char *identity; /* spec.azureIdentity: the AzureIdentity's name */
    char *selector; /* spec.selector: compared with the pod label aadpodidbinding */
    bool old_casing;
};

struct model_azure_assigned_identity {
    struct model_meta meta;
    char *pod;
    char *pod_namespace;
    char *node_name;
    char *identity_name;         /* spec.azureIdentityRef.metadata.name */
    char *identity_namespace;
    char *binding_name;          /* spec.azureBindingRef.metadata.name */
    char *status;                /* "Created", "Assigned", "Unassigned" or NULL */
};

struct model_azure_pod_identity_exception {
    struct model_meta meta;
    struct model_kvlist pod_labels;
};

/* These four free members and x itself (like every object the store takes by pointer). */
void model_azid_free(struct model_azure_identity *x);
void model_azbinding_free(struct model_azure_identity_binding *x);
void model_azassigned_free(struct model_azure_assigned_identity *x);
void model_azexception_free(struct model_azure_pod_identity_exception *x);

/* ---- NMI log events ----------------------------------------------------------------------- */

/* One token request as NMI logged it: the status line, completed with the name-bearing lines
 * of the same request where the parser could pair them (pod-identity.md §3.4). */
struct model_nmi_request {
    int64_t time;          /* epoch seconds of the status line */
    int32_t time_nanos;
    int status;            /* HTTP code: 200, 403, 404, ... */
    int64_t duration_ns;
    char *remote_ip;       /* req.remote */
    char *path;            /* reg.path / req.path */
    char *pod_namespace;   /* NULL when only the IP is known */
    char *pod_name;
    char *identity;        /* "<ns>/<name>" of the matched AzureIdentity, when logged */
    char *resource;        /* requested resource (audience), when logged */
    char *error;           /* the error text of a failed request, when logged */
    char *nmi_pod;         /* the NMI pod whose log carried it */
    char *node_name;       /* that NMI pod's node */
};

void model_nmi_request_free(struct model_nmi_request *r); /* members only */

/* ---- Azure (filled by the azure and oidc layers) ------------------------------------------ */

struct model_fic {
    char *name;
    char *issuer;
    char *subject;
    char **audiences;
    size_t n_audiences;
    char *id; /* ARM id, or Graph object id */
};

enum model_azure_state {
    MODEL_AZ_UNKNOWN,  /* not looked at yet, or no credentials */
    MODEL_AZ_LOADING,
    MODEL_AZ_OK,
    MODEL_AZ_ERROR,    /* error holds the reason (ARM code + sentence) */
};

struct model_identity {
    char *arm_id;       /* /subscriptions/.../userAssignedIdentities/<name>; NULL for app registrations */
    char *name;
    char *resource_group;
    char *subscription_id;
    char *client_id;
    char *principal_id;
    char *tenant_id;
    char *location;
    bool app_registration; /* an Entra application (Graph), not a managed identity */
    enum model_azure_state fic_state;
    char *fic_error;
    struct model_fic *fics;
    size_t n_fics;
    int64_t fic_fetched; /* epoch seconds of the last successful credential list */
};

/* AKS-managed pod identity (managedCluster.properties.podIdentityProfile). */
struct model_managed_pod_identity {
    char *name;
    char *namespace_;
    char *binding_selector;
    char *client_id;
    char *resource_id;
    char *provisioning_state;
};

enum model_oidc_status {
    MODEL_OIDC_UNKNOWN,
    MODEL_OIDC_OK,
    MODEL_OIDC_DISABLED,
    MODEL_OIDC_UNREACHABLE,
    MODEL_OIDC_KEYS_MISMATCH,
};

/* One step of reading Azure (Entra token, ARM, Graph): its own state and last error. */
struct model_azure_step {
    enum model_azure_state state; /* UNKNOWN: not tried (an earlier step failed, or not needed) */
    char *error;                  /* one line, never a secret */
    long status;                  /* HTTP status of the failure, 0 = none or no answer */
};

struct model_azure {
    enum model_azure_state state;
    char *error;              /* why Azure is unknown/error (no credentials, each failure) */
    bool skipped;             /* --no-azure: not read on purpose */
    bool cluster_not_found;   /* ARM answered, but no managedCluster has the API server's host */
    struct model_azure_step entra; /* the token for ARM (the credential chain) */
    struct model_azure_step arm;   /* cluster, identities, federated credential lists */
    struct model_azure_step graph; /* app registrations' credentials (only when referenced) */
    char *credential;         /* which credential was used ("environment", "azure-cli", ...) */
    char *cluster_arm_id;
    char *cluster_name;
    char *tenant_id;
    bool oidc_issuer_enabled;
    char *oidc_issuer_url;    /* ARM oidcIssuerProfile.issuerURL */
    bool workload_identity_enabled;
    bool pod_identity_profile_enabled;
    struct model_managed_pod_identity *managed_identities;
    size_t n_managed_identities;
    enum model_azure_state identities_state;
    char *identities_error;
    struct model_identity *identities;
    size_t n_identities;
    int64_t fetched;
};

struct model_oidc {
    enum model_oidc_status status;
    char *cluster_issuer;   /* from the API server's /.well-known/openid-configuration */
    char *detail;
    int64_t checked;
};

void model_azure_free(struct model_azure *a);       /* members only */
void model_identity_free(struct model_identity *i); /* members only */
void model_fic_free(struct model_fic *f);           /* members only */
void model_managed_pod_identity_free(struct model_managed_pod_identity *p); /* members only */
void model_oidc_free(struct model_oidc *o);         /* members only */
const struct model_identity *model_azure_identity_by_client_id(const struct model_azure *a,
                                                                const char *client_id);

#endif
