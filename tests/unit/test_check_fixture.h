/* Builders for check tests: small stores assembled object by object (header-only, static). */
#ifndef IDW_TEST_CHECK_FIXTURE_H_
#define IDW_TEST_CHECK_FIXTURE_H_

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "idwatch/check.h"
#include "idwatch/core.h"
#include "idwatch/model.h"
#include "idwatch/store.h"

#define T_NOW 1795946400 /* 2026-11-29T10:00:00Z */
#define T_ISSUER                                                                                   \
    "https://westeurope.oic.prod-aks.azure.com/72f988bf-86f1-41af-91ab-2d7cd011db47/"              \
    "1d3b5c7e-0000-4000-8000-000000000001/"
#define T_TENANT "72f988bf-86f1-41af-91ab-2d7cd011db47"
#define T_CID "00000000-1111-2222-3333-444444444444"

/* kv pairs from "k=v" strings, NULL-terminated. */
static inline void tf_kv(struct model_kvlist *l, ...)
{
    va_list ap;
    va_start(ap, l);
    const char *s;
    while ((s = va_arg(ap, const char *)) != NULL) {
        const char *eq = strchr(s, '=');
        char *k = xstrndup(s, (size_t)(eq - s));
        kv_set(l, k, eq + 1);
        free(k);
    }
    va_end(ap);
}

static inline struct model_workload *tf_workload(enum model_workload_kind kind, const char *ns,
                                                 const char *name, const char *sa)
{
    struct model_workload *w = xcalloc(1, sizeof *w);
    w->kind = kind;
    w->meta.namespace_ = xstrdup(ns);
    w->meta.name = xstrdup(name);
    w->meta.uid = xasprintf("uid-%s-%s-%d", ns, name, (int)kind);
    w->tmpl.service_account = xstrdup(sa ? sa : "default");
    w->replicas_desired = w->replicas_ready = w->replicas_available = 1;
    return w;
}

static inline void tf_owner(struct model_meta *m, const char *kind, const char *name,
                            const char *uid)
{
    m->owners = xcalloc(1, sizeof *m->owners);
    m->n_owners = 1;
    m->owners[0].kind = xstrdup(kind);
    m->owners[0].name = xstrdup(name);
    m->owners[0].uid = xstrdup(uid);
    m->owners[0].controller = true;
}

/* A ReplicaSet link <deploy>-rs owned by the deployment. */
static inline void tf_rs(struct store *s, const struct model_workload *d)
{
    struct model_link *l = xcalloc(1, sizeof *l);
    l->kind = xstrdup("ReplicaSet");
    l->meta.namespace_ = xstrdup(d->meta.namespace_);
    l->meta.name = xasprintf("%s-7c9d8f6b5b", d->meta.name);
    l->meta.uid = xasprintf("uid-rs-%s", d->meta.name);
    tf_owner(&l->meta, "Deployment", d->meta.name, d->meta.uid);
    store_put_link(s, l);
}

/* A running pod of deployment d (through its ReplicaSet), or a bare pod when d is NULL. */
static inline struct model_pod *tf_pod(const struct model_workload *d, const char *ns,
                                       const char *name)
{
    struct model_pod *p = xcalloc(1, sizeof *p);
    p->meta.namespace_ = xstrdup(ns);
    p->meta.name = xstrdup(name);
    p->meta.uid = xasprintf("uid-pod-%s-%s", ns, name);
    p->meta.created = T_NOW - 86400;
    if (d) {
        char *rs = xasprintf("%s-7c9d8f6b5b", d->meta.name);
        char *rsuid = xasprintf("uid-rs-%s", d->meta.name);
        tf_owner(&p->meta, "ReplicaSet", rs, rsuid);
        free(rs);
        free(rsuid);
        kv_copy(&p->meta.labels, &d->tmpl.labels);
        kv_copy(&p->meta.annotations, &d->tmpl.annotations);
        p->service_account = xstrdup(d->tmpl.service_account);
    } else {
        p->service_account = xstrdup("default");
    }
    p->has_spec = true;
    p->phase = MODEL_PHASE_RUNNING;
    p->ready = true;
    p->node_name = xstrdup("aks-nodepool1-0");
    return p;
}

static inline struct model_container *tf_container(struct model_pod *p,
                                                   enum model_container_type type, const char *name)
{
    p->containers = xrealloc(p->containers, (p->n_containers + 1) * sizeof *p->containers);
    struct model_container *c = &p->containers[p->n_containers++];
    memset(c, 0, sizeof *c);
    c->type = type;
    c->name = xstrdup(name);
    c->image = xstrdup("example.azurecr.io/app:1");
    return c;
}

static inline void tf_env(struct model_container *c, const char *name, const char *value)
{
    c->env = xrealloc(c->env, (c->n_env + 1) * sizeof *c->env);
    c->env[c->n_env].name = xstrdup(name);
    c->env[c->n_env].value = xstrdup(value);
    c->env[c->n_env].value_from = false;
    c->n_env++;
}

static inline void tf_mount(struct model_container *c, const char *vol, const char *path)
{
    c->mounts = xrealloc(c->mounts, (c->n_mounts + 1) * sizeof *c->mounts);
    memset(&c->mounts[c->n_mounts], 0, sizeof *c->mounts);
    c->mounts[c->n_mounts].name = xstrdup(vol);
    c->mounts[c->n_mounts].mount_path = xstrdup(path);
    c->mounts[c->n_mounts].read_only = true;
    c->n_mounts++;
}

static inline void tf_token(struct model_pod *p, const char *vol, const char *path, const char *aud,
                            int64_t exp)
{
    p->tokens = xrealloc(p->tokens, (p->n_tokens + 1) * sizeof *p->tokens);
    p->tokens[p->n_tokens].volume = xstrdup(vol);
    p->tokens[p->n_tokens].path = xstrdup(path);
    p->tokens[p->n_tokens].audience = xstrdup(aud);
    p->tokens[p->n_tokens].expiration_seconds = exp;
    p->n_tokens++;
}

#define TF_VOL16 "azure-workload-identity-reserved-0779e921c53268d2371def0b4e7be8"

/* What webhook v1.6 adds to container c (and the pod's volume, once). */
static inline void tf_inject16(struct model_pod *p, struct model_container *c, bool add_volume)
{
    tf_env(c, "AZURE_CLIENT_ID", T_CID);
    tf_env(c, "AZURE_TENANT_ID", T_TENANT);
    tf_env(c, "AZURE_FEDERATED_TOKEN_FILE", "/var/run/secrets/azure/wi/token/azure-identity-token");
    tf_env(c, "AZURE_AUTHORITY_HOST", "https://login.microsoftonline.com/");
    tf_mount(c, TF_VOL16, "/var/run/secrets/azure/wi");
    if (add_volume)
        tf_token(p, TF_VOL16, "token/azure-identity-token", WI_AUDIENCE, 3600);
}

static inline void tf_inject15(struct model_pod *p, struct model_container *c, bool add_volume)
{
    tf_env(c, "AZURE_CLIENT_ID", T_CID);
    tf_env(c, "AZURE_TENANT_ID", T_TENANT);
    tf_env(c, "AZURE_FEDERATED_TOKEN_FILE", "/var/run/secrets/azure/tokens/azure-identity-token");
    tf_mount(c, "azure-identity-token", "/var/run/secrets/azure/tokens");
    if (add_volume)
        tf_token(p, "azure-identity-token", "azure-identity-token", WI_AUDIENCE, 3600);
}

static inline struct model_service_account *tf_sa(const char *ns, const char *name)
{
    struct model_service_account *sa = xcalloc(1, sizeof *sa);
    sa->meta.namespace_ = xstrdup(ns);
    sa->meta.name = xstrdup(name);
    return sa;
}

/* The webhook as AKS installs it: MWC + deployment in kube-system, healthy. */
static inline void tf_webhook(struct store *s, const char *ns, int available)
{
    struct model_mwc *m = xcalloc(1, sizeof *m);
    m->meta.name = xstrdup(WI_MWC_NAME);
    m->webhooks = xcalloc(1, sizeof *m->webhooks);
    m->n_webhooks = 1;
    m->webhooks[0].name = xstrdup(WI_WEBHOOK_NAME);
    m->webhooks[0].service_namespace = xstrdup(ns);
    m->webhooks[0].service_name = xstrdup("azure-wi-webhook-webhook-service");
    m->webhooks[0].ca_bundle_len = 1200;
    m->webhooks[0].failure_policy = xstrdup("Fail");
    m->webhooks[0].has_object_selector = true;
    kv_set(&m->webhooks[0].object_selector, WI_LABEL_USE, "true");
    store_put_mwc(s, m);
    struct model_workload *d = tf_workload(MODEL_KIND_DEPLOYMENT, ns, WI_WEBHOOK_DEPLOYMENT, NULL);
    d->replicas_desired = 2;
    d->replicas_ready = d->replicas_available = available;
    store_put_workload(s, d);
}

static inline struct model_fic tf_fic(const char *name, const char *issuer, const char *subject,
                                      const char *aud)
{
    struct model_fic f = {0};
    f.name = xstrdup(name);
    f.issuer = xstrdup(issuer);
    f.subject = xstrdup(subject);
    if (aud) {
        f.audiences = xcalloc(1, sizeof(char *));
        f.audiences[0] = xstrdup(aud);
        f.n_audiences = 1;
    }
    return f;
}

/* Azure: cluster with the issuer enabled and one identity (client id T_CID) with given FICs. */
static inline void tf_azure(struct store *s, struct model_fic *fics, size_t n)
{
    struct model_azure a = {0};
    a.state = MODEL_AZ_OK;
    a.cluster_arm_id = xstrdup("/subscriptions/s1/resourceGroups/rg/providers/"
                               "Microsoft.ContainerService/managedClusters/prod");
    a.oidc_issuer_enabled = true;
    a.oidc_issuer_url = xstrdup(T_ISSUER);
    a.workload_identity_enabled = true;
    a.identities_state = MODEL_AZ_OK;
    a.identities = xcalloc(1, sizeof *a.identities);
    a.n_identities = 1;
    struct model_identity *id = &a.identities[0];
    id->arm_id = xstrdup("/subscriptions/s1/resourceGroups/rg/providers/"
                         "Microsoft.ManagedIdentity/userAssignedIdentities/id-api");
    id->name = xstrdup("id-api");
    id->resource_group = xstrdup("rg");
    id->client_id = xstrdup(T_CID);
    id->tenant_id = xstrdup(T_TENANT);
    id->fic_state = MODEL_AZ_OK;
    id->fics = fics;
    id->n_fics = n;
    store_set_azure(s, &a);
}

static inline bool tf_has_code(const struct check_finding *f, size_t n, enum check_code code)
{
    for (size_t i = 0; i < n; i++)
        if (f[i].code == code)
            return true;
    return false;
}

static inline const struct check_finding *tf_get_code(const struct check_workload *w,
                                                      enum check_code code)
{
    for (size_t i = 0; i < w->n_findings; i++)
        if (w->findings[i].code == code)
            return &w->findings[i];
    return NULL;
}

#endif
