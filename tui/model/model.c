/* model: small helpers over the plain structs of model.h (kv lists, frees, kind and phase tables).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "idwatch/core.h"
#include "idwatch/model.h"

/* ---- kv lists ---------------------------------------------------------------------------- */

static struct model_kv *kv_find(const struct model_kvlist *l, const char *key)
{
    if (!l || !key)
        return NULL;
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->items[i].key, key) == 0)
            return &l->items[i];
    return NULL;
}

const char *kv_get(const struct model_kvlist *l, const char *key)
{
    const struct model_kv *kv = kv_find(l, key);
    return kv ? kv->value : NULL;
}

bool kv_has(const struct model_kvlist *l, const char *key)
{
    return kv_find(l, key) != NULL;
}

void kv_set(struct model_kvlist *l, const char *key, const char *value)
{
    struct model_kv *kv = kv_find(l, key);
    if (kv) { /* replace in place: insertion order is what users see */
        char *v = xstrdup(value ? value : "");
        free(kv->value);
        kv->value = v;
        return;
    }
    xgrow((void **)&l->items, &l->cap, l->n + 1, sizeof *l->items);
    l->items[l->n].key = xstrdup(key);
    l->items[l->n].value = xstrdup(value ? value : "");
    l->n++;
}

void kv_del(struct model_kvlist *l, const char *key)
{
    struct model_kv *kv = kv_find(l, key);
    if (!kv)
        return;
    size_t i = (size_t)(kv - l->items);
    free(kv->key);
    free(kv->value);
    memmove(&l->items[i], &l->items[i + 1], (l->n - i - 1) * sizeof *l->items);
    l->n--;
}

void kv_copy(struct model_kvlist *dst, const struct model_kvlist *src)
{
    kv_free(dst);
    if (!src || src->n == 0)
        return;
    dst->items = xcalloc(src->n, sizeof *dst->items);
    dst->cap = src->n;
    for (size_t i = 0; i < src->n; i++) {
        dst->items[i].key = xstrdup(src->items[i].key);
        dst->items[i].value = xstrdup(src->items[i].value);
    }
    dst->n = src->n;
}

bool kv_equal(const struct model_kvlist *a, const struct model_kvlist *b)
{
    size_t na = a ? a->n : 0, nb = b ? b->n : 0;
    if (na != nb)
        return false;
    for (size_t i = 0; i < na; i++) {
        const char *v = kv_get(b, a->items[i].key);
        if (!v || strcmp(v, a->items[i].value) != 0)
            return false;
    }
    return true;
}

void kv_free(struct model_kvlist *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->n; i++) {
        free(l->items[i].key);
        free(l->items[i].value);
    }
    free(l->items);
    l->items = NULL;
    l->n = l->cap = 0;
}

/* ---- metadata ---------------------------------------------------------------------------- */

void model_meta_free(struct model_meta *m)
{
    if (!m)
        return;
    free(m->namespace_);
    free(m->name);
    free(m->uid);
    free(m->resource_version);
    kv_free(&m->labels);
    kv_free(&m->annotations);
    for (size_t i = 0; i < m->n_owners; i++) {
        free(m->owners[i].kind);
        free(m->owners[i].name);
        free(m->owners[i].uid);
    }
    free(m->owners);
    memset(m, 0, sizeof *m);
}

void model_meta_copy(struct model_meta *dst, const struct model_meta *src)
{
    memset(dst, 0, sizeof *dst);
    dst->namespace_ = xstrdup(src->namespace_);
    dst->name = xstrdup(src->name);
    dst->uid = xstrdup(src->uid);
    dst->resource_version = xstrdup(src->resource_version);
    dst->generation = src->generation;
    dst->created = src->created;
    dst->deleted = src->deleted;
    kv_copy(&dst->labels, &src->labels);
    kv_copy(&dst->annotations, &src->annotations);
    if (src->n_owners) {
        dst->owners = xcalloc(src->n_owners, sizeof *dst->owners);
        for (size_t i = 0; i < src->n_owners; i++) {
            dst->owners[i].kind = xstrdup(src->owners[i].kind);
            dst->owners[i].name = xstrdup(src->owners[i].name);
            dst->owners[i].uid = xstrdup(src->owners[i].uid);
            dst->owners[i].controller = src->owners[i].controller;
        }
        dst->n_owners = src->n_owners;
    }
}

const struct model_owner *model_meta_controller(const struct model_meta *m)
{
    if (!m || m->n_owners == 0)
        return NULL;
    for (size_t i = 0; i < m->n_owners; i++)
        if (m->owners[i].controller)
            return &m->owners[i];
    return &m->owners[0];
}

/* ---- pods -------------------------------------------------------------------------------- */

static void container_free(struct model_container *c)
{
    free(c->name);
    free(c->image);
    for (size_t i = 0; i < c->n_env; i++) {
        free(c->env[i].name);
        free(c->env[i].value);
    }
    free(c->env);
    for (size_t i = 0; i < c->n_mounts; i++) {
        free(c->mounts[i].name);
        free(c->mounts[i].mount_path);
        free(c->mounts[i].sub_path);
    }
    free(c->mounts);
}

void model_pod_free(struct model_pod *p)
{
    if (!p)
        return;
    model_meta_free(&p->meta);
    free(p->service_account);
    free(p->node_name);
    free(p->pod_ip);
    for (size_t i = 0; i < p->n_containers; i++)
        container_free(&p->containers[i]);
    free(p->containers);
    for (size_t i = 0; i < p->n_tokens; i++) {
        free(p->tokens[i].volume);
        free(p->tokens[i].path);
        free(p->tokens[i].audience);
    }
    free(p->tokens);
    free(p);
}

const struct model_container *model_pod_container(const struct model_pod *p, const char *name)
{
    if (!p || !name)
        return NULL;
    for (size_t i = 0; i < p->n_containers; i++)
        if (str_eq(p->containers[i].name, name))
            return &p->containers[i];
    return NULL;
}

const char *model_container_env(const struct model_container *c, const char *name)
{
    if (!c || !name)
        return NULL;
    for (size_t i = 0; i < c->n_env; i++)
        if (str_eq(c->env[i].name, name))
            return c->env[i].value;
    return NULL;
}

#define MODEL_PHASES(X)                                                                            \
    X(UNKNOWN, "Unknown")                                                                          \
    X(PENDING, "Pending")                                                                          \
    X(RUNNING, "Running")                                                                          \
    X(SUCCEEDED, "Succeeded")                                                                      \
    X(FAILED, "Failed")

static const char *const phase_names[] = {
#define X(id, name) [MODEL_PHASE_##id] = name,
    MODEL_PHASES(X)
#undef X
};

enum model_pod_phase model_phase_parse(const char *s)
{
    for (size_t i = 0; i < sizeof phase_names / sizeof phase_names[0]; i++)
        if (str_eq(s, phase_names[i]))
            return (enum model_pod_phase)i;
    return MODEL_PHASE_UNKNOWN;
}

const char *model_phase_name(enum model_pod_phase p)
{
    if ((size_t)p >= sizeof phase_names / sizeof phase_names[0])
        return "Unknown";
    return phase_names[p];
}

/* ---- workload kinds ---------------------------------------------------------------------- */

static const struct {
    const char *kind, *resource, *group;
} kind_table[] = {
#define X(id, kind, resource, group) [MODEL_KIND_##id] = {kind, resource, group},
    MODEL_WORKLOAD_KINDS(X)
#undef X
};

const char *model_kind_name(enum model_workload_kind k)
{
    return (size_t)k < MODEL_KIND__COUNT ? kind_table[k].kind : "?";
}

const char *model_kind_resource(enum model_workload_kind k)
{
    return (size_t)k < MODEL_KIND__COUNT ? kind_table[k].resource : "?";
}

const char *model_kind_group(enum model_workload_kind k)
{
    return (size_t)k < MODEL_KIND__COUNT ? kind_table[k].group : "";
}

int model_kind_parse(const char *kind, enum model_workload_kind *out)
{
    for (size_t i = 0; i < MODEL_KIND__COUNT; i++) {
        if (str_eq(kind, kind_table[i].kind)) {
            if (out)
                *out = (enum model_workload_kind)i;
            return 0;
        }
    }
    return -1;
}

/* ---- workloads and the other objects ------------------------------------------------------ */

static void template_free(struct model_template *t)
{
    kv_free(&t->labels);
    kv_free(&t->annotations);
    free(t->service_account);
    t->service_account = NULL;
}

void model_workload_free(struct model_workload *w)
{
    if (!w)
        return;
    model_meta_free(&w->meta);
    template_free(&w->tmpl);
    free(w->schedule);
    free(w);
}

void model_link_free(struct model_link *l)
{
    if (!l)
        return;
    model_meta_free(&l->meta);
    free(l->kind);
    free(l);
}

void model_sa_free(struct model_service_account *sa)
{
    if (!sa)
        return;
    model_meta_free(&sa->meta);
    free(sa);
}

void model_namespace_free(struct model_namespace *ns)
{
    if (!ns)
        return;
    model_meta_free(&ns->meta);
    free(ns);
}

void model_mwc_free(struct model_mwc *m)
{
    if (!m)
        return;
    model_meta_free(&m->meta);
    for (size_t i = 0; i < m->n_webhooks; i++) {
        struct model_webhook *h = &m->webhooks[i];
        free(h->name);
        free(h->service_namespace);
        free(h->service_name);
        free(h->url);
        free(h->failure_policy);
        kv_free(&h->object_selector);
    }
    free(m->webhooks);
    free(m);
}

void model_azid_free(struct model_azure_identity *x)
{
    if (!x)
        return;
    model_meta_free(&x->meta);
    free(x->client_id);
    free(x->resource_id);
    free(x->tenant_id);
    free(x);
}

void model_azbinding_free(struct model_azure_identity_binding *x)
{
    if (!x)
        return;
    model_meta_free(&x->meta);
    free(x->identity);
    free(x->selector);
    free(x);
}

void model_azassigned_free(struct model_azure_assigned_identity *x)
{
    if (!x)
        return;
    model_meta_free(&x->meta);
    free(x->pod);
    free(x->pod_namespace);
    free(x->node_name);
    free(x->identity_name);
    free(x->identity_namespace);
    free(x->binding_name);
    free(x->status);
    free(x);
}

void model_azexception_free(struct model_azure_pod_identity_exception *x)
{
    if (!x)
        return;
    model_meta_free(&x->meta);
    kv_free(&x->pod_labels);
    free(x);
}

void model_nmi_request_free(struct model_nmi_request *r)
{
    if (!r)
        return;
    free(r->remote_ip);
    free(r->path);
    free(r->pod_namespace);
    free(r->pod_name);
    free(r->identity);
    free(r->resource);
    free(r->error);
    free(r->nmi_pod);
    free(r->node_name);
    memset(r, 0, sizeof *r);
}

/* ---- Azure --------------------------------------------------------------------------------- */

void model_fic_free(struct model_fic *f)
{
    free(f->name);
    free(f->issuer);
    free(f->subject);
    for (size_t i = 0; i < f->n_audiences; i++)
        free(f->audiences[i]);
    free(f->audiences);
    free(f->id);
    memset(f, 0, sizeof *f);
}

void model_managed_pod_identity_free(struct model_managed_pod_identity *p)
{
    free(p->name);
    free(p->namespace_);
    free(p->binding_selector);
    free(p->client_id);
    free(p->resource_id);
    free(p->provisioning_state);
    memset(p, 0, sizeof *p);
}

void model_identity_free(struct model_identity *i)
{
    if (!i)
        return;
    free(i->arm_id);
    free(i->name);
    free(i->resource_group);
    free(i->subscription_id);
    free(i->client_id);
    free(i->principal_id);
    free(i->tenant_id);
    free(i->location);
    free(i->fic_error);
    for (size_t k = 0; k < i->n_fics; k++)
        model_fic_free(&i->fics[k]);
    free(i->fics);
    memset(i, 0, sizeof *i);
}

void model_azure_free(struct model_azure *a)
{
    if (!a)
        return;
    free(a->error);
    free(a->entra.error);
    free(a->arm.error);
    free(a->graph.error);
    free(a->credential);
    free(a->cluster_arm_id);
    free(a->cluster_name);
    free(a->tenant_id);
    free(a->oidc_issuer_url);
    for (size_t i = 0; i < a->n_managed_identities; i++)
        model_managed_pod_identity_free(&a->managed_identities[i]);
    free(a->managed_identities);
    free(a->identities_error);
    for (size_t i = 0; i < a->n_identities; i++)
        model_identity_free(&a->identities[i]);
    free(a->identities);
    memset(a, 0, sizeof *a);
}

void model_oidc_free(struct model_oidc *o)
{
    if (!o)
        return;
    free(o->cluster_issuer);
    free(o->detail);
    memset(o, 0, sizeof *o);
}

const struct model_identity *model_azure_identity_by_client_id(const struct model_azure *a,
                                                               const char *client_id)
{
    if (!a || str_empty(client_id))
        return NULL;
    /* Client ids are GUIDs: Azure returns them lower-case, people paste them upper-case. */
    for (size_t i = 0; i < a->n_identities; i++)
        if (a->identities[i].client_id && strcasecmp(a->identities[i].client_id, client_id) == 0)
            return &a->identities[i];
    return NULL;
}
