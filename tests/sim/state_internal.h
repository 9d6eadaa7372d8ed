/* state_internal: what simstate.c, state_ctrl.c, state_logs.c and scenario*.c share. Not a public
 * contract: only the simulator's own state files include it. */
#ifndef IDWSIM_STATE_INTERNAL_H
#define IDWSIM_STATE_INTERNAL_H

#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>
#include <uthash.h>

#include "idwatch/core.h"
#include "loggen.h"
#include "mutate.h"
#include "simstate.h"

#define SIM_LOG_MAX 5000                            /* lines kept per container */
#define SIM_HISTORY_MAX 10000                       /* watch events kept per resource */
#define SIM_NODE_PODS 250                           /* pod IPs per node (.2 .. .251 of its /24) */
#define SIM_IP_QUARANTINE_NS (300LL * 1000000000LL) /* a freed IP is reused after 5 minutes */
#define SIM_NS_PER_S 1000000000LL

/* One immutable-once-shared version of an object: the live object and any number of watch
 * events point at it; refs counts them. */
struct sim_ver {
    cJSON *json;
    int refs;
    char *text[SIM_TEXT__COUNT]; /* rendered once, on first use (a list page is then memcpy) */
    size_t text_len[SIM_TEXT__COUNT];
};

struct sim_logv {
    struct sim_log_line *lines; /* [head, n) are live, time-ordered */
    size_t head, n, cap;
};

struct sim_clog {
    char *container;
    struct sim_logv log;
    int64_t synth_ns; /* app containers: plain lines are made up to this time */
};

enum sim_role {
    SIM_ROLE_APP,
    SIM_ROLE_NMI,
    SIM_ROLE_MIC,
};

struct sim_node;
struct sim_bucket;

struct sim_obj {
    UT_hash_handle hh;
    char *key; /* "ns/name" ("/name" for cluster-scoped) */
    char *ns;  /* NULL for cluster-scoped */
    char *name;
    struct sim_bucket *bucket;
    struct sim_ver *ver;
    /* controller links (pods, ReplicaSets, Jobs point at their top-level workload) */
    struct sim_obj *workload;
    struct sim_obj *parent; /* the direct controller (ReplicaSet of a pod, Job of a pod) */
    struct sim_obj **kids;  /* workloads: live pods; Deployments: ReplicaSets; CronJobs: Jobs */
    size_t n_kids, cap_kids;
    struct sim_obj **pods; /* workloads: live pods (all generations) */
    size_t n_pods, cap_pods;
    /* pods */
    struct sim_node *node;
    uint32_t ip; /* allocated from the node's range; 0 for hostNetwork */
    enum sim_role role;
    struct sim_clog *logs;
    size_t n_logs;
    bool logs_ready;
    int64_t created_ns;
    int64_t done_ns; /* job pods: when they complete */
    /* bookkeeping */
    bool skip_mutation;  /* scenario: pods created before the webhook existed */
    bool stale_sa;       /* scenario: pods mutated before the SA got its client-id */
    int64_t pod_age_ns;  /* scenario: how old the initial pods are */
    int64_t next_run_ns; /* CronJobs: next schedule */
    int64_t period_ns;   /* CronJobs: the cron string read as "every N" */
    struct sim_obj *aai; /* pods: the AzureAssignedIdentity MIC made for it */
    char *fail_msg;      /* controllers: why the last pod create failed (NULL = it did not) */
    int revision;        /* ReplicaSets: deployment.kubernetes.io/revision */
};

struct sim_event_rec {
    uint64_t rv;
    const char *type;
    struct sim_ver *ver;
};

struct sim_bucket {
    struct sim_bucket *next;
    char *group;
    char *version;
    char *kind;
    bool namespaced;
    struct sim_obj *objs; /* uthash by key */
    size_t count;
    struct sim_obj **sorted; /* by namespace then name; rebuilt lazily */
    size_t n_sorted;
    bool sorted_ok;
    struct sim_event_rec *ev; /* [ev_head, ev_n) */
    size_t ev_head, ev_n, ev_cap;
    uint64_t oldest_rv; /* every event with rv > oldest_rv is still kept */
};

struct sim_freeip {
    uint8_t host;
    int64_t freed_ns;
};

struct sim_node {
    char *name;
    char ip[16];
    uint32_t net; /* the node's /24, host byte order */
    uint8_t used[256];
    int next_host;
    struct sim_freeip *freed; /* FIFO */
    size_t freed_head, n_freed, cap_freed;
    int n_pods;
    struct sim_obj *nmi_pod;
};

enum sim_outcome_idx {
    SIM_OUT_N = 7,
};

struct sim_traffic {
    char *ns;
    char *kind;
    char *name;
    double per_minute;
    double weights[SIM_OUT_N]; /* indexed by enum loggen_outcome */
    char *resource;
    int64_t next_ns;
};

enum sim_churn_action {
    SIM_CHURN_RESTART,
    SIM_CHURN_SCALE,
    SIM_CHURN_LABEL,
    SIM_CHURN_ANNOTATE,
};

struct sim_churn {
    enum sim_churn_action action;
    char *kind, *ns, *name;
    int64_t every_ns;
    int64_t next_ns;
    bool on_template;
    char *key, *value;
    int *replicas;
    size_t n_replicas;
    size_t step;
};

enum sim_pi_install {
    SIM_PI_NONE,
    SIM_PI_HELM,
    SIM_PI_YAML,
    SIM_PI_ADDON,
};

struct sim {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    uint64_t changes;

    cJSON *scenario;
    char *file; /* base name for messages */
    uint64_t rv;
    uint64_t rng;
    int64_t start_ns, now_ns, advanced_ns;
    int64_t wall_start_ms;
    double speed;
    bool loading;

    struct sim_bucket *buckets;
    struct sim_bucket *b_pods, *b_rs, *b_deploy, *b_sts, *b_ds, *b_job, *b_cron, *b_sa, *b_ns,
        *b_events, *b_aib, *b_ai, *b_aai;

    struct sim_node *nodes;
    size_t n_nodes;
    size_t sched_next;

    char *k8s_version;
    char *issuer;
    char *tenant;
    char *authority;
    char *proxy_image, *proxy_init_image;
    struct mutate_config mcfg;
    char *webhook_ns;
    bool webhook_reachable;

    enum sim_pi_install pi_install;
    char *pi_ns;
    char *pi_version;
    enum loggen_era pi_era;
    bool pi_managed;
    struct sim_obj *nmi_ds;
    struct sim_obj *mic_deploy;

    struct sim_traffic *traffic;
    size_t n_traffic;
    struct sim_churn *churn;
    size_t n_churn;
    struct sim_obj **cronjobs;
    size_t n_cronjobs, cap_cronjobs;
    const cJSON *rbac; /* the scenario's array, NULL = allow everything */
};

/* ---- simstate.c: the store ---- */
uint64_t sim_rand(struct sim *s);
double sim_rand01(struct sim *s);
void sim_format_time(int64_t ns, char out[32]);
void sim_new_uid(struct sim *s, char out[37]);
struct sim_bucket *sim_bucket_get(struct sim *s, const char *group, const char *version,
                                  const char *kind);
struct sim_bucket *sim_bucket_for_object(struct sim *s, const cJSON *obj);
struct sim_obj *sim_obj_find(struct sim_bucket *b, const char *ns, const char *name);
/* Takes json; fills metadata (uid, resourceVersion, creationTimestamp at created_ns,
 * generation for objects with a spec) and records ADDED. NULL if the name is taken. */
struct sim_obj *sim_obj_add(struct sim *s, struct sim_bucket *b, cJSON *json, int64_t created_ns);
/* A JSON the caller may change, then must pass to sim_obj_commit (or sim_obj_abort). */
cJSON *sim_obj_edit(struct sim *s, struct sim_obj *o);
void sim_obj_commit(struct sim *s, struct sim_obj *o, cJSON *json);
void sim_obj_abort(struct sim_obj *o, cJSON *json);
/* Records DELETED, unlinks and frees the object (not its kids). */
void sim_obj_delete(struct sim *s, struct sim_obj *o);
void sim_kids_add(struct sim_obj ***arr, size_t *n, size_t *cap, struct sim_obj *o);
void sim_kids_del(struct sim_obj **arr, size_t *n, struct sim_obj *o);
const char *sim_json_str(const cJSON *obj, const char *path); /* dotted path, NULL if absent */
const char *sim_label(const cJSON *obj, const char *key);     /* metadata.labels[key] */
cJSON *sim_json_obj(cJSON *obj, const char *key);             /* get or create a child object */
void sim_json_set_str(cJSON *obj, const char *key, const char *value);
void sim_json_set_num(cJSON *obj, const char *key, double value);
void sim_json_set_bool(cJSON *obj, const char *key, bool value);

/* ---- state_ctrl.c: nodes, pods, controllers, time ---- */
int sim_nodes_init(struct sim *s, const cJSON *nodes, struct idw_err *err);
void sim_nodes_free(struct sim *s);
/* Runs the controller of a workload object (after creation or a spec change). */
void sim_ctrl_reconcile(struct sim *s, struct sim_obj *o, bool template_changed);
/* Removes a pod: frees its IP, its logs, its AzureAssignedIdentity, records DELETED. */
void sim_pod_remove(struct sim *s, struct sim_obj *pod);
/* Creates a bare pod from a scenario Pod object (takes json). */
struct sim_obj *sim_pod_create_bare(struct sim *s, cJSON *json, int64_t created_ns,
                                    struct idw_err *err);
/* Moves scenario time to now_ns: churn, cronjobs, job completion, NMI/MIC traffic. */
void sim_ctrl_advance(struct sim *s, int64_t now_ns);
bool sim_is_workload_kind(const char *kind);
/* The AzureIdentityBinding whose selector equals `sel` (same namespace in managed mode) and its
 * AzureIdentity (NULL when missing). */
struct sim_obj *sim_pi_binding(struct sim *s, const char *ns, const char *sel,
                               struct sim_obj **identity);

/* ---- state_logs.c ---- */
void sim_log_append(struct sim_logv *l, int64_t t, const char *text, size_t len);
void sim_log_append_buf(struct sim_logv *l, int64_t t, const char *text);
void sim_logv_free(struct sim_logv *l);
struct sim_clog *sim_pod_clog(struct sim *s, struct sim_obj *pod, const char *container);
void sim_pod_logs_free(struct sim_obj *pod);
/* Writes the lines a new pod starts with (NMI banner, MIC startup, app lines). */
void sim_logs_pod_started(struct sim *s, struct sim_obj *pod);
/* One token request from pod `from` at t (NMI lines on the NMI pod of its node). */
void sim_logs_nmi_request(struct sim *s, struct sim_obj *from, enum loggen_outcome outcome,
                          const char *resource, int64_t t);
void sim_logs_mic_assign(struct sim *s, struct sim_obj *pod, const char *id_ns, const char *id_name,
                         int64_t t);

/* ---- scenario.c ---- */
int scenario_load(struct sim *s, const struct sim_options *opt, struct idw_err *err);
/* ---- scenario_gen.c ---- */
/* Builds a scenario (same format as the files) from "deployments=N,pods=M,...". */
int scenario_generate(const char *spec, uint64_t seed, cJSON **out, struct idw_err *err);

#endif
