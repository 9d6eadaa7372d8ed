/* store: every object idwatch holds for one cluster, with the indexes the checks and views need.
 *
 * Memory: objects are kept as their model structs (never cJSON); every string of a stored object
 * is interned (one refcounted copy per distinct string: namespaces, label keys, images, env
 * values and owner names repeat thousands of times in a big cluster). So a stored object's
 * strings are NOT individually free()-able: the store releases them before model_*_free().
 *
 * Pod -> workload links are kept incrementally: each pod and link (ReplicaSet/Job) is filed under
 * its controller owner's "kind\0ns\0name" key, which is also the key of that owner's own entry,
 * so an arriving owner finds its children in one lookup and only they are re-resolved.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uthash.h>
#include <utlist.h>

#include "idwatch/core.h"
#include "idwatch/model.h"
#include "idwatch/store.h"

#define IP_KEEP_SECONDS (3 * 3600) /* gone pods' IPs stay attributable this long ... */
#define IP_MAX_CLOSED 100000       /* ... unless more than this many pods went since */
#define NMI_MAX 200000             /* requests kept in the window, oldest dropped first */

/* ---- interned strings ------------------------------------------------------------------- */

struct istr {
    uint32_t refs;
    uint32_t hash;
    char s[];
};

struct itab {
    struct istr **slots; /* open addressing, linear probing, power-of-two size */
    size_t cap;
    size_t n;
};

static uint32_t hash_str(const char *s)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

static struct istr *istr_of(const char *s)
{
    return (struct istr *)(void *)((char *)(uintptr_t)s - offsetof(struct istr, s));
}

static void itab_grow(struct itab *t)
{
    size_t ncap = t->cap ? t->cap * 2 : 1024;
    struct istr **ns = xcalloc(ncap, sizeof *ns);
    for (size_t i = 0; i < t->cap; i++) {
        struct istr *it = t->slots[i];
        if (!it)
            continue;
        size_t j = it->hash & (ncap - 1);
        while (ns[j])
            j = (j + 1) & (ncap - 1);
        ns[j] = it;
    }
    free(t->slots);
    t->slots = ns;
    t->cap = ncap;
}

static char *itab_intern(struct itab *t, const char *s)
{
    if ((t->n + 1) * 4 > t->cap * 3)
        itab_grow(t);
    uint32_t h = hash_str(s);
    size_t mask = t->cap - 1, i = h & mask;
    for (; t->slots[i]; i = (i + 1) & mask) {
        struct istr *it = t->slots[i];
        if (it->hash == h && strcmp(it->s, s) == 0) {
            it->refs++;
            return it->s;
        }
    }
    size_t len = strlen(s);
    struct istr *it = xmalloc(sizeof *it + len + 1);
    it->refs = 1;
    it->hash = h;
    memcpy(it->s, s, len + 1);
    t->slots[i] = it;
    t->n++;
    return it->s;
}

/* Another reference to a string that is already interned. */
static const char *istr_ref(const char *s)
{
    if (s)
        istr_of(s)->refs++;
    return s;
}

static void itab_release(struct itab *t, const char *s)
{
    if (!s)
        return;
    struct istr *it = istr_of(s);
    if (--it->refs > 0)
        return;
    size_t mask = t->cap - 1, i = it->hash & mask;
    while (t->slots[i] != it)
        i = (i + 1) & mask;
    t->slots[i] = NULL;
    /* Backward-shift deletion keeps every probe chain unbroken without tombstones. */
    for (size_t j = (i + 1) & mask; t->slots[j]; j = (j + 1) & mask) {
        size_t k = t->slots[j]->hash & mask;
        bool stays = i <= j ? (i < k && k <= j) : (i < k || k <= j);
        if (stays)
            continue;
        t->slots[i] = t->slots[j];
        t->slots[j] = NULL;
        i = j;
    }
    free(it);
    t->n--;
}

/* The interned copy of s, or NULL if no stored object uses that string (no reference taken). */
static const char *itab_find(const struct itab *t, const char *s)
{
    if (!s)
        return NULL;
    uint32_t h = hash_str(s);
    size_t mask = t->cap - 1;
    for (size_t i = h & mask; t->slots[i]; i = (i + 1) & mask)
        if (t->slots[i]->hash == h && strcmp(t->slots[i]->s, s) == 0)
            return t->slots[i]->s;
    return NULL;
}

/* ---- pointer tables --------------------------------------------------------------------- */

/* An open-addressing set of entry pointers, for the indexes with one entry per pod: 8-16 bytes
 * per pod where a uthash handle costs 56. Keys are interned-string pointers, so hashing and
 * comparing are pointer operations; `hash` recomputes an item's hash when slots move. */
struct ptab {
    void **slots;
    size_t cap, n;
    uint32_t (*hash)(const void *item);
};

static uint32_t hash_ptrs(const void *a, const void *b)
{
    uint64_t x = (uint64_t)(uintptr_t)a * 0x9E3779B97F4A7C15ull;
    x ^= (uint64_t)(uintptr_t)b * 0xC2B2AE3D27D4EB4Full;
    x ^= x >> 29;
    return (uint32_t)(x ^ (x >> 32));
}

static void ptab_put(struct ptab *t, void *item);

static void ptab_grow(struct ptab *t)
{
    struct ptab old = *t;
    t->cap = old.cap ? old.cap * 2 : 256;
    t->slots = xcalloc(t->cap, sizeof *t->slots);
    t->n = 0;
    for (size_t i = 0; i < old.cap; i++)
        if (old.slots[i])
            ptab_put(t, old.slots[i]);
    free(old.slots);
}

static void ptab_put(struct ptab *t, void *item)
{
    if ((t->n + 1) * 4 > t->cap * 3)
        ptab_grow(t);
    size_t mask = t->cap - 1, i = t->hash(item) & mask;
    while (t->slots[i])
        i = (i + 1) & mask;
    t->slots[i] = item;
    t->n++;
}

static void ptab_del(struct ptab *t, const void *item)
{
    if (!t->cap)
        return;
    size_t mask = t->cap - 1, i = t->hash(item) & mask;
    while (t->slots[i] && t->slots[i] != item)
        i = (i + 1) & mask;
    if (!t->slots[i])
        return;
    t->slots[i] = NULL;
    t->n--;
    for (size_t j = (i + 1) & mask; t->slots[j]; j = (j + 1) & mask) {
        size_t k = t->hash(t->slots[j]) & mask;
        bool stays = i <= j ? (i < k && k <= j) : (i < k || k <= j);
        if (stays)
            continue;
        t->slots[i] = t->slots[j];
        t->slots[j] = NULL;
        i = j;
    }
}

/* ---- keys ------------------------------------------------------------------------------- */

/* "a\0b\0c" as one byte string; names cannot contain NUL, so parts never run together. */
struct key {
    char *p;
    size_t len;
    char buf[320];
};

static void key_make(struct key *k, const char *a, const char *b, const char *c)
{
    const char *parts[3] = {a ? a : "", b ? b : "", c ? c : ""};
    size_t n = c ? 3 : 2, len = 0;
    for (size_t i = 0; i < n; i++)
        len += strlen(parts[i]) + (i ? 1 : 0);
    k->p = len <= sizeof k->buf ? k->buf : xmalloc(len);
    k->len = len;
    char *o = k->p;
    for (size_t i = 0; i < n; i++) {
        if (i)
            *o++ = '\0';
        size_t l = strlen(parts[i]);
        memcpy(o, parts[i], l);
        o += l;
    }
}

static void key_done(struct key *k)
{
    if (k->p != k->buf)
        free(k->p);
}

static char *key_dup(const struct key *k)
{
    char *p = xmalloc(k->len ? k->len : 1);
    memcpy(p, k->p, k->len);
    return p;
}

/* ---- multimap: key -> items that remember where they sit ------------------------------- */

struct mm_bucket {
    char *key;
    size_t klen;
    void **v;
    size_t n, cap;
    UT_hash_handle hh;
};

struct mm_ref {
    struct mm_bucket *b; /* NULL when not filed */
    size_t pos;
};

static struct mm_bucket *mm_find(struct mm_bucket *map, const struct key *k)
{
    struct mm_bucket *b = NULL;
    HASH_FIND(hh, map, k->p, k->len, b);
    return b;
}

static void mm_add(struct mm_bucket **map, const struct key *k, void *item, struct mm_ref *ref)
{
    struct mm_bucket *b = mm_find(*map, k);
    if (!b) {
        b = xcalloc(1, sizeof *b);
        b->key = key_dup(k);
        b->klen = k->len;
        HASH_ADD_KEYPTR(hh, *map, b->key, b->klen, b);
    }
    xgrow((void **)&b->v, &b->cap, b->n + 1, sizeof *b->v);
    b->v[b->n] = item;
    ref->b = b;
    ref->pos = b->n++;
}

/* ref_off: where the struct mm_ref sits inside each item (to fix the one that moves). */
static void mm_remove(struct mm_bucket **map, struct mm_ref *ref, size_t ref_off)
{
    struct mm_bucket *b = ref->b;
    if (!b)
        return;
    void *last = b->v[--b->n];
    if (ref->pos != b->n) {
        b->v[ref->pos] = last;
        ((struct mm_ref *)(void *)((char *)last + ref_off))->pos = ref->pos;
    }
    ref->b = NULL;
    if (b->n == 0) {
        HASH_DELETE(hh, *map, b);
        free(b->key);
        free(b->v);
        free(b);
    }
}

static void mm_free_all(struct mm_bucket **map)
{
    struct mm_bucket *b, *tmp;
    HASH_ITER(hh, *map, b, tmp)
    {
        HASH_DELETE(hh, *map, b);
        free(b->key);
        free(b->v);
        free(b);
    }
}

/* ---- entries ---------------------------------------------------------------------------- */

struct wl_entry;

/* One pod address: its current holder (a live pod, whose entry knows since when) and the pods
 * that held it before. Live pods cost no history record: one is written when they let go. */
struct ip_rec;
struct pod_entry;
struct ip_bucket {
    const char *ip; /* interned reference */
    struct pod_entry *holder;
    struct ip_rec *gone; /* earlier holders */
};

struct ip_rec {
    const char *ns, *name, *node; /* interned references */
    int64_t from, to;
    struct ip_bucket *b;
    struct ip_rec *next;  /* in b->gone */
    struct ip_rec *qnext; /* all records, oldest first */
};

struct pod_entry {
    struct model_pod *pod;
    uint32_t idx;
    uint32_t wl_pos;
    struct wl_entry *wl;   /* resolved workload, NULL while an owner is unknown */
    struct wl_entry *bare; /* synthesized workload of a pod without owners */
    struct mm_ref owner_ref;
    struct ip_bucket *ipb; /* the address this pod holds, and since when */
    int64_t ip_from;
};

struct link_entry {
    struct model_link *link;
    char *key;
    size_t klen;
    size_t idx;
    struct mm_ref owner_ref;
    bool uid_indexed;
    UT_hash_handle hh, hh_uid;
};

struct wl_entry {
    struct model_workload *w;
    char *key;
    size_t klen;
    size_t idx;
    struct pod_entry **pe; /* parallel arrays: pods[] is what store_workload_pods hands out */
    const struct model_pod **pods;
    size_t n_pods, cap_pods, cap_pe;
    struct mm_ref sa_ref;
    bool dirty;
    size_t dirty_pos;
    bool synthetic;
    bool uid_indexed;
    UT_hash_handle hh, hh_uid;
};

/* Generic table for objects that are only looked up by namespace/name. */
struct obj_entry {
    void *obj;
    char *key;
    size_t klen;
    size_t idx;
    UT_hash_handle hh;
};

struct obj_table {
    struct obj_entry *hash;
    struct obj_entry **items;
    size_t n, cap;
};

enum obj_type {
    OBJ_SA,
    OBJ_NS,
    OBJ_MWC,
    OBJ_AZID,
    OBJ_AZBINDING,
    OBJ_AZASSIGNED,
    OBJ_AZEXCEPTION,
    OBJ__COUNT
};

struct store {
    uint64_t version;
    uint64_t nmi_version; /* the part of version that NMI requests moved */
    int64_t fixed_now; /* test clock; 0 = real time */
    struct itab strs;

    struct ptab pods_by_key, pods_by_uid; /* by interned (ns, name) and uid */
    struct pod_entry **pods;
    size_t n_pods, cap_pods;

    struct wl_entry *wls_by_key, *wls_by_uid;
    struct wl_entry **wls;
    size_t n_wls, cap_wls;

    struct link_entry *links_by_key, *links_by_uid;
    struct link_entry **links;
    size_t n_links, cap_links;

    struct mm_bucket *pods_by_owner;  /* owner "kind\0ns\0name" -> pod_entry */
    struct mm_bucket *links_by_owner; /* owner "kind\0ns\0name" -> link_entry */
    struct mm_bucket *wls_by_sa;      /* "ns\0sa" -> wl_entry */

    struct obj_table objs[OBJ__COUNT];

    struct ptab ips;                 /* ip_bucket by interned address */
    struct ip_rec *gone, *gone_tail; /* FIFO through qnext */
    size_t n_closed;

    struct model_nmi_request **nmi;
    size_t n_nmi, cap_nmi;
    size_t nmi_sorted; /* nmi[0, nmi_sorted) is in time order; the rest arrived since */

    struct model_azure azure;
    struct model_oidc oidc;

    struct wl_entry **dirty;
    size_t n_dirty, cap_dirty;
    bool dirty_all;
    bool nmi_dirty; /* requests came or went: activity changes, nothing else */
    const struct model_workload **dirty_out;
    size_t cap_dirty_out;

    struct store_source **sources;
    size_t n_sources, cap_sources;
};

static int64_t store_now(const struct store *s)
{
    return s->fixed_now ? s->fixed_now : time_now();
}

/* ---- interning whole objects ------------------------------------------------------------ */

enum { STR_INTERN, STR_RELEASE, STR_DROP /* forget the pointer: the table goes as a whole */ };

static void v_str(struct store *s, char **p, int op)
{
    if (!*p)
        return;
    if (op == STR_INTERN) {
        char *i = itab_intern(&s->strs, *p);
        free(*p);
        *p = i;
    } else if (op == STR_DROP) {
        *p = NULL;
    } else {
        itab_release(&s->strs, *p);
        *p = NULL;
    }
}

static void v_kv(struct store *s, struct model_kvlist *l, int op)
{
    if (op == STR_INTERN && l->cap > l->n) { /* kv_set grows by 8: trim what we keep */
        if (l->n) {
            l->items = xrealloc(l->items, l->n * sizeof *l->items);
        } else {
            free(l->items);
            l->items = NULL;
        }
        l->cap = l->n;
    }
    for (size_t i = 0; i < l->n; i++) {
        v_str(s, &l->items[i].key, op);
        v_str(s, &l->items[i].value, op);
    }
}

static void v_meta(struct store *s, struct model_meta *m, int op)
{
    v_str(s, &m->namespace_, op);
    v_str(s, &m->name, op);
    v_str(s, &m->uid, op);
    v_str(s, &m->resource_version, op);
    v_kv(s, &m->labels, op);
    v_kv(s, &m->annotations, op);
    for (size_t i = 0; i < m->n_owners; i++) {
        v_str(s, &m->owners[i].kind, op);
        v_str(s, &m->owners[i].name, op);
        v_str(s, &m->owners[i].uid, op);
    }
}

static void v_pod(struct store *s, struct model_pod *p, int op)
{
    v_meta(s, &p->meta, op);
    v_str(s, &p->service_account, op);
    v_str(s, &p->node_name, op);
    v_str(s, &p->pod_ip, op);
    for (size_t i = 0; i < p->n_containers; i++) {
        struct model_container *c = &p->containers[i];
        v_str(s, &c->name, op);
        v_str(s, &c->image, op);
        for (size_t k = 0; k < c->n_env; k++) {
            v_str(s, &c->env[k].name, op);
            v_str(s, &c->env[k].value, op);
        }
        for (size_t k = 0; k < c->n_mounts; k++) {
            v_str(s, &c->mounts[k].name, op);
            v_str(s, &c->mounts[k].mount_path, op);
            v_str(s, &c->mounts[k].sub_path, op);
        }
    }
    for (size_t i = 0; i < p->n_tokens; i++) {
        v_str(s, &p->tokens[i].volume, op);
        v_str(s, &p->tokens[i].path, op);
        v_str(s, &p->tokens[i].audience, op);
    }
}

static void v_workload(struct store *s, struct model_workload *w, int op)
{
    v_meta(s, &w->meta, op);
    v_kv(s, &w->tmpl.labels, op);
    v_kv(s, &w->tmpl.annotations, op);
    v_str(s, &w->tmpl.service_account, op);
    v_str(s, &w->schedule, op);
}

static void v_link(struct store *s, struct model_link *l, int op)
{
    v_meta(s, &l->meta, op);
    v_str(s, &l->kind, op);
}

static void v_mwc(struct store *s, struct model_mwc *m, int op)
{
    v_meta(s, &m->meta, op);
    for (size_t i = 0; i < m->n_webhooks; i++) {
        struct model_webhook *h = &m->webhooks[i];
        v_str(s, &h->name, op);
        v_str(s, &h->service_namespace, op);
        v_str(s, &h->service_name, op);
        v_str(s, &h->url, op);
        v_str(s, &h->failure_policy, op);
        v_kv(s, &h->object_selector, op);
    }
}

static void v_azid(struct store *s, struct model_azure_identity *x, int op)
{
    v_meta(s, &x->meta, op);
    v_str(s, &x->client_id, op);
    v_str(s, &x->resource_id, op);
    v_str(s, &x->tenant_id, op);
}

static void v_azbinding(struct store *s, struct model_azure_identity_binding *x, int op)
{
    v_meta(s, &x->meta, op);
    v_str(s, &x->identity, op);
    v_str(s, &x->selector, op);
}

static void v_azassigned(struct store *s, struct model_azure_assigned_identity *x, int op)
{
    v_meta(s, &x->meta, op);
    v_str(s, &x->pod, op);
    v_str(s, &x->pod_namespace, op);
    v_str(s, &x->node_name, op);
    v_str(s, &x->identity_name, op);
    v_str(s, &x->identity_namespace, op);
    v_str(s, &x->binding_name, op);
    v_str(s, &x->status, op);
}

static void v_azexception(struct store *s, struct model_azure_pod_identity_exception *x, int op)
{
    v_meta(s, &x->meta, op);
    v_kv(s, &x->pod_labels, op);
}

static void v_nmi(struct store *s, struct model_nmi_request *r, int op)
{
    v_str(s, &r->remote_ip, op);
    v_str(s, &r->path, op);
    v_str(s, &r->pod_namespace, op);
    v_str(s, &r->pod_name, op);
    v_str(s, &r->identity, op);
    v_str(s, &r->resource, op);
    v_str(s, &r->error, op);
    v_str(s, &r->nmi_pod, op);
    v_str(s, &r->node_name, op);
}

static void pod_release(struct store *s, struct model_pod *p)
{
    v_pod(s, p, STR_RELEASE);
    model_pod_free(p);
}

static void workload_release(struct store *s, struct model_workload *w)
{
    v_workload(s, w, STR_RELEASE);
    model_workload_free(w);
}

static void link_release(struct store *s, struct model_link *l)
{
    v_link(s, l, STR_RELEASE);
    model_link_free(l);
}

/* ---- generic object tables (SA, namespace, MWC, the four CRDs) -------------------------- */

/* Dirty effect of a change: the workloads using a service account, or every workload. */
enum dirty_effect { EFFECT_SA, EFFECT_ALL };

#define OBJ_TYPES(X)                                                                               \
    X(OBJ_SA, struct model_service_account, model_sa_free, v_sa, EFFECT_SA)                        \
    X(OBJ_NS, struct model_namespace, model_namespace_free, v_ns, EFFECT_ALL)                      \
    X(OBJ_MWC, struct model_mwc, model_mwc_free, v_mwc, EFFECT_ALL)                                \
    X(OBJ_AZID, struct model_azure_identity, model_azid_free, v_azid, EFFECT_ALL)                  \
    X(OBJ_AZBINDING, struct model_azure_identity_binding, model_azbinding_free, v_azbinding,       \
      EFFECT_ALL)                                                                                  \
    X(OBJ_AZASSIGNED, struct model_azure_assigned_identity, model_azassigned_free, v_azassigned,   \
      EFFECT_ALL)                                                                                  \
    X(OBJ_AZEXCEPTION, struct model_azure_pod_identity_exception, model_azexception_free,          \
      v_azexception, EFFECT_ALL)

static void v_sa(struct store *s, struct model_service_account *x, int op)
{
    v_meta(s, &x->meta, op);
}

static void v_ns(struct store *s, struct model_namespace *x, int op)
{
    v_meta(s, &x->meta, op);
}

/* Every object type starts with its struct model_meta, so a void * doubles as a meta *. */
#define X(id, type, freefn, visit, effect)                                                         \
    _Static_assert(offsetof(type, meta) == 0, #type " must start with its meta");                  \
    static void obj_visit_##id(struct store *s, void *o, int op)                                   \
    {                                                                                              \
        visit(s, (type *)o, op);                                                                   \
    }                                                                                              \
    static void obj_free_##id(void *o)                                                             \
    {                                                                                              \
        freefn((type *)o);                                                                         \
    }
OBJ_TYPES(X)
#undef X

static const struct {
    void (*visit)(struct store *, void *, int);
    void (*free)(void *);
    enum dirty_effect effect;
} obj_ops[OBJ__COUNT] = {
#define X(id, type, freefn, visit, effect) [id] = {obj_visit_##id, obj_free_##id, effect},
    OBJ_TYPES(X)
#undef X
};

static void mark_dirty(struct store *s, struct wl_entry *we);

static void obj_effect(struct store *s, enum obj_type t, const struct model_meta *m)
{
    if (obj_ops[t].effect == EFFECT_ALL) {
        s->dirty_all = true;
        return;
    }
    struct key k;
    key_make(&k, m->namespace_, m->name, NULL);
    struct mm_bucket *b = mm_find(s->wls_by_sa, &k);
    key_done(&k);
    for (size_t i = 0; b && i < b->n; i++)
        mark_dirty(s, b->v[i]);
}

static struct obj_entry *obj_find(const struct store *s, enum obj_type t, const char *ns,
                                  const char *name)
{
    struct key k;
    key_make(&k, ns, name, NULL);
    struct obj_entry *e = NULL;
    HASH_FIND(hh, s->objs[t].hash, k.p, k.len, e);
    key_done(&k);
    return e;
}

static void obj_put(struct store *s, enum obj_type t, void *o)
{
    struct obj_table *tab = &s->objs[t];
    struct model_meta *m = o;
    obj_ops[t].visit(s, o, STR_INTERN);
    struct key k;
    key_make(&k, m->namespace_, m->name, NULL);
    struct obj_entry *e = NULL;
    HASH_FIND(hh, tab->hash, k.p, k.len, e);
    if (e) {
        obj_ops[t].visit(s, e->obj, STR_RELEASE);
        obj_ops[t].free(e->obj);
        e->obj = o;
    } else {
        e = xcalloc(1, sizeof *e);
        e->obj = o;
        e->key = key_dup(&k);
        e->klen = k.len;
        HASH_ADD_KEYPTR(hh, tab->hash, e->key, e->klen, e);
        xgrow((void **)&tab->items, &tab->cap, tab->n + 1, sizeof *tab->items);
        e->idx = tab->n;
        tab->items[tab->n++] = e;
    }
    key_done(&k);
    obj_effect(s, t, m);
    s->version++;
}

static int obj_del(struct store *s, enum obj_type t, const char *ns, const char *name)
{
    struct obj_table *tab = &s->objs[t];
    struct obj_entry *e = obj_find(s, t, ns, name);
    if (!e)
        return -1;
    obj_effect(s, t, e->obj);
    HASH_DELETE(hh, tab->hash, e);
    struct obj_entry *last = tab->items[--tab->n];
    if (e->idx != tab->n) {
        tab->items[e->idx] = last;
        last->idx = e->idx;
    }
    obj_ops[t].visit(s, e->obj, STR_RELEASE);
    obj_ops[t].free(e->obj);
    free(e->key);
    free(e);
    s->version++;
    return 0;
}

static const void *obj_at(const struct store *s, enum obj_type t, size_t i)
{
    return i < s->objs[t].n ? s->objs[t].items[i]->obj : NULL;
}

/* ---- dirty set -------------------------------------------------------------------------- */

static void mark_dirty(struct store *s, struct wl_entry *we)
{
    if (!we || we->dirty)
        return;
    xgrow((void **)&s->dirty, &s->cap_dirty, s->n_dirty + 1, sizeof *s->dirty);
    we->dirty = true;
    we->dirty_pos = s->n_dirty;
    s->dirty[s->n_dirty++] = we;
}

static void unmark_dirty(struct store *s, struct wl_entry *we)
{
    if (!we->dirty)
        return;
    struct wl_entry *last = s->dirty[--s->n_dirty];
    if (we->dirty_pos != s->n_dirty) {
        s->dirty[we->dirty_pos] = last;
        last->dirty_pos = we->dirty_pos;
    }
    we->dirty = false;
}

size_t store_take_dirty(struct store *s, const struct model_workload *const **out, bool *all)
{
    xgrow((void **)&s->dirty_out, &s->cap_dirty_out, s->n_dirty, sizeof *s->dirty_out);
    size_t n = s->n_dirty;
    for (size_t i = 0; i < n; i++) {
        s->dirty_out[i] = s->dirty[i]->w;
        s->dirty[i]->dirty = false;
    }
    s->n_dirty = 0;
    if (all)
        *all = s->dirty_all;
    s->dirty_all = false;
    if (out)
        *out = s->dirty_out;
    return n;
}

bool store_take_nmi_dirty(struct store *s)
{
    bool d = s->nmi_dirty;
    s->nmi_dirty = false;
    return d;
}

/* ---- workloads -------------------------------------------------------------------------- */

static struct wl_entry *wl_find(const struct store *s, enum model_workload_kind kind,
                                const char *ns, const char *name)
{
    struct key k;
    key_make(&k, model_kind_name(kind), ns, name);
    struct wl_entry *we = NULL;
    HASH_FIND(hh, s->wls_by_key, k.p, k.len, we);
    key_done(&k);
    return we;
}

static void wl_attach_pod(struct store *s, struct wl_entry *we, struct pod_entry *pe)
{
    xgrow((void **)&we->pods, &we->cap_pods, we->n_pods + 1, sizeof *we->pods);
    xgrow((void **)&we->pe, &we->cap_pe, we->n_pods + 1, sizeof *we->pe);
    we->pods[we->n_pods] = pe->pod;
    we->pe[we->n_pods] = pe;
    pe->wl = we;
    pe->wl_pos = we->n_pods++;
    mark_dirty(s, we);
}

static void wl_detach_pod(struct store *s, struct pod_entry *pe)
{
    struct wl_entry *we = pe->wl;
    if (!we)
        return;
    size_t last = --we->n_pods;
    if (pe->wl_pos != last) {
        we->pods[pe->wl_pos] = we->pods[last];
        we->pe[pe->wl_pos] = we->pe[last];
        we->pe[pe->wl_pos]->wl_pos = pe->wl_pos;
    }
    pe->wl = NULL;
    mark_dirty(s, we);
}

static void wl_index_sa(struct store *s, struct wl_entry *we)
{
    struct key k;
    key_make(&k, we->w->meta.namespace_,
             we->w->tmpl.service_account ? we->w->tmpl.service_account : "default", NULL);
    mm_add(&s->wls_by_sa, &k, we, &we->sa_ref);
    key_done(&k);
}

static void wl_index_uid(struct store *s, struct wl_entry *we)
{
    const char *uid = we->w->meta.uid;
    we->uid_indexed = false;
    if (str_empty(uid))
        return;
    struct wl_entry *other = NULL;
    HASH_FIND(hh_uid, s->wls_by_uid, uid, strlen(uid), other);
    if (other)
        return; /* a duplicate uid stays findable by name */
    HASH_ADD_KEYPTR(hh_uid, s->wls_by_uid, uid, strlen(uid), we);
    we->uid_indexed = true;
}

static void wl_unindex_uid(struct store *s, struct wl_entry *we)
{
    if (we->uid_indexed)
        HASH_DELETE(hh_uid, s->wls_by_uid, we);
    we->uid_indexed = false;
}

static void resolve_children(struct store *s, const char *kind, const char *ns, const char *name);
static void resolve_pod(struct store *s, struct pod_entry *pe);

/* Inserts or replaces (by kind/ns/name) an interned workload. */
static struct wl_entry *wl_insert(struct store *s, struct model_workload *w, bool synthetic)
{
    struct key k;
    key_make(&k, model_kind_name(w->kind), w->meta.namespace_, w->meta.name);
    struct wl_entry *we = NULL;
    HASH_FIND(hh, s->wls_by_key, k.p, k.len, we);
    bool uid_changed = true;
    if (we) {
        uid_changed = !str_eq(we->w->meta.uid, w->meta.uid);
        wl_unindex_uid(s, we);
        mm_remove(&s->wls_by_sa, &we->sa_ref, offsetof(struct wl_entry, sa_ref));
        workload_release(s, we->w);
        we->w = w;
    } else {
        we = xcalloc(1, sizeof *we);
        we->w = w;
        we->key = key_dup(&k);
        we->klen = k.len;
        HASH_ADD_KEYPTR(hh, s->wls_by_key, we->key, we->klen, we);
        xgrow((void **)&s->wls, &s->cap_wls, s->n_wls + 1, sizeof *s->wls);
        we->idx = s->n_wls;
        s->wls[s->n_wls++] = we;
    }
    key_done(&k);
    we->synthetic = synthetic;
    wl_index_uid(s, we);
    wl_index_sa(s, we);
    mark_dirty(s, we);
    if (uid_changed && !synthetic) {
        /* A new (or recreated) owner: its old pods may not be its own any more, and pods or
         * links that were waiting for it are filed under its name. */
        size_t n = we->n_pods;
        struct pod_entry **old = n ? xmalloc(n * sizeof *old) : NULL;
        if (n)
            memcpy(old, we->pe, n * sizeof *old);
        for (size_t i = 0; i < n; i++)
            resolve_pod(s, old[i]);
        free(old);
        resolve_children(s, model_kind_name(w->kind), w->meta.namespace_, w->meta.name);
    }
    return we;
}

static void wl_remove(struct store *s, struct wl_entry *we)
{
    while (we->n_pods)
        wl_detach_pod(s, we->pe[we->n_pods - 1]);
    unmark_dirty(s, we);
    s->dirty_all = true; /* checks must forget it: a removed workload cannot be handed out */
    wl_unindex_uid(s, we);
    mm_remove(&s->wls_by_sa, &we->sa_ref, offsetof(struct wl_entry, sa_ref));
    HASH_DELETE(hh, s->wls_by_key, we);
    struct wl_entry *last = s->wls[--s->n_wls];
    if (we->idx != s->n_wls) {
        s->wls[we->idx] = last;
        last->idx = we->idx;
    }
    workload_release(s, we->w);
    free(we->key);
    free(we->pods);
    free(we->pe);
    free(we);
}

void store_put_workload(struct store *s, struct model_workload *w)
{
    if (!w)
        return;
    if (w->kind == MODEL_KIND_POD || (size_t)w->kind >= MODEL_KIND__COUNT) {
        model_workload_free(w); /* Pod workloads are synthesized from bare pods only */
        return;
    }
    v_workload(s, w, STR_INTERN);
    wl_insert(s, w, false);
    s->version++;
}

int store_del_workload(struct store *s, enum model_workload_kind k, const char *ns,
                       const char *name)
{
    if (k == MODEL_KIND_POD)
        return -1;
    struct wl_entry *we = wl_find(s, k, ns, name);
    if (!we)
        return -1;
    wl_remove(s, we);
    s->version++;
    return 0;
}

const struct model_workload *store_get_workload(const struct store *s, enum model_workload_kind k,
                                                const char *ns, const char *name)
{
    struct wl_entry *we = wl_find(s, k, ns, name);
    return we ? we->w : NULL;
}

const struct model_workload *store_get_workload_by_uid(const struct store *s, const char *uid)
{
    if (str_empty(uid))
        return NULL;
    struct wl_entry *we = NULL;
    HASH_FIND(hh_uid, s->wls_by_uid, uid, strlen(uid), we);
    return we ? we->w : NULL;
}

size_t store_workload_count(const struct store *s)
{
    return s->n_wls;
}

const struct model_workload *store_workload_at(const struct store *s, size_t i)
{
    return i < s->n_wls ? s->wls[i]->w : NULL;
}

size_t store_workload_pods(const struct store *s, const struct model_workload *w,
                           const struct model_pod *const **out)
{
    static const struct model_pod *const none[1] = {NULL};
    struct wl_entry *we = w ? wl_find(s, w->kind, w->meta.namespace_, w->meta.name) : NULL;
    if (!we || we->n_pods == 0) {
        if (out)
            *out = none;
        return 0;
    }
    if (out)
        *out = we->pods;
    return we->n_pods;
}

/* ---- links (ReplicaSet, Job) ------------------------------------------------------------ */

static struct link_entry *link_find(const struct store *s, const char *kind, const char *ns,
                                    const char *name)
{
    struct key k;
    key_make(&k, kind, ns, name);
    struct link_entry *le = NULL;
    HASH_FIND(hh, s->links_by_key, k.p, k.len, le);
    key_done(&k);
    return le;
}

static bool uid_compatible(const char *want, const char *have)
{
    return str_empty(want) || str_empty(have) || strcmp(want, have) == 0;
}

/* The link an owner reference points to: by uid when it has one, else by name (with a uid that
 * does not contradict it, so a recreated ReplicaSet of the same name does not adopt old pods). */
static struct link_entry *link_for_owner(const struct store *s, const char *ns,
                                         const struct model_owner *o)
{
    struct link_entry *le = NULL;
    if (!str_empty(o->uid)) {
        HASH_FIND(hh_uid, s->links_by_uid, o->uid, strlen(o->uid), le);
        if (le && str_eq(le->link->kind, o->kind) && str_eq(le->link->meta.namespace_, ns))
            return le;
    }
    le = link_find(s, o->kind, ns, o->name);
    return le && uid_compatible(o->uid, le->link->meta.uid) ? le : NULL;
}

static struct wl_entry *wl_for_owner(const struct store *s, const char *ns,
                                     const struct model_owner *o)
{
    enum model_workload_kind k;
    if (model_kind_parse(o->kind, &k) != 0 || k == MODEL_KIND_POD)
        return NULL;
    struct wl_entry *we = NULL;
    if (!str_empty(o->uid)) {
        HASH_FIND(hh_uid, s->wls_by_uid, o->uid, strlen(o->uid), we);
        if (we && we->w->kind == k && str_eq(we->w->meta.namespace_, ns))
            return we;
    }
    we = wl_find(s, k, ns, o->name);
    return we && uid_compatible(o->uid, we->w->meta.uid) ? we : NULL;
}

static struct wl_entry *pod_target(const struct store *s, const struct pod_entry *pe)
{
    const struct model_pod *p = pe->pod;
    if (pe->bare)
        return pe->bare;
    const struct model_owner *o = model_meta_controller(&p->meta);
    if (!o)
        return NULL;
    struct wl_entry *we = wl_for_owner(s, p->meta.namespace_, o);
    if (we)
        return we;
    if (!str_eq(o->kind, "ReplicaSet") && !str_eq(o->kind, "Job"))
        return NULL;
    struct link_entry *le = link_for_owner(s, p->meta.namespace_, o);
    const struct model_owner *lo = le ? model_meta_controller(&le->link->meta) : NULL;
    return lo ? wl_for_owner(s, le->link->meta.namespace_, lo) : NULL;
}

static void resolve_pod(struct store *s, struct pod_entry *pe)
{
    struct wl_entry *we = pod_target(s, pe);
    if (we == pe->wl)
        return;
    wl_detach_pod(s, pe);
    if (we)
        wl_attach_pod(s, we, pe);
}

static void resolve_pods_under(struct store *s, const struct key *k)
{
    struct mm_bucket *b = mm_find(s->pods_by_owner, k);
    for (size_t i = 0; b && i < b->n; i++)
        resolve_pod(s, b->v[i]); /* moves pods between workloads, never between buckets */
}

/* Re-resolves the pods filed under an owner, directly or through its links. */
static void resolve_children(struct store *s, const char *kind, const char *ns, const char *name)
{
    struct key k;
    key_make(&k, kind, ns, name);
    resolve_pods_under(s, &k);
    struct mm_bucket *lb = mm_find(s->links_by_owner, &k);
    key_done(&k);
    for (size_t i = 0; lb && i < lb->n; i++) {
        struct link_entry *le = lb->v[i];
        struct key lk;
        key_make(&lk, le->link->kind, le->link->meta.namespace_, le->link->meta.name);
        resolve_pods_under(s, &lk);
        key_done(&lk);
    }
}

static void file_under_owner(struct mm_bucket **map, const struct model_meta *m, void *item,
                             struct mm_ref *ref)
{
    const struct model_owner *o = model_meta_controller(m);
    if (!o)
        return;
    struct key k;
    key_make(&k, o->kind, m->namespace_, o->name);
    mm_add(map, &k, item, ref);
    key_done(&k);
}

static bool same_controller(const struct model_meta *a, const struct model_meta *b)
{
    const struct model_owner *x = model_meta_controller(a), *y = model_meta_controller(b);
    if (!x || !y)
        return x == y;
    return str_eq(x->kind, y->kind) && str_eq(x->name, y->name) && str_eq(x->uid, y->uid);
}

void store_put_link(struct store *s, struct model_link *l)
{
    if (!l)
        return;
    v_link(s, l, STR_INTERN);
    struct key k;
    key_make(&k, l->kind, l->meta.namespace_, l->meta.name);
    struct link_entry *le = NULL;
    HASH_FIND(hh, s->links_by_key, k.p, k.len, le);
    bool relink = true;
    if (le) {
        relink =
            !same_controller(&le->link->meta, &l->meta) || !str_eq(le->link->meta.uid, l->meta.uid);
        if (le->uid_indexed)
            HASH_DELETE(hh_uid, s->links_by_uid, le);
        mm_remove(&s->links_by_owner, &le->owner_ref, offsetof(struct link_entry, owner_ref));
        link_release(s, le->link);
        le->link = l;
    } else {
        le = xcalloc(1, sizeof *le);
        le->link = l;
        le->key = key_dup(&k);
        le->klen = k.len;
        HASH_ADD_KEYPTR(hh, s->links_by_key, le->key, le->klen, le);
        xgrow((void **)&s->links, &s->cap_links, s->n_links + 1, sizeof *s->links);
        le->idx = s->n_links;
        s->links[s->n_links++] = le;
    }
    le->uid_indexed = false;
    if (!str_empty(l->meta.uid)) {
        struct link_entry *other = NULL;
        HASH_FIND(hh_uid, s->links_by_uid, l->meta.uid, strlen(l->meta.uid), other);
        if (!other) {
            HASH_ADD_KEYPTR(hh_uid, s->links_by_uid, l->meta.uid, strlen(l->meta.uid), le);
            le->uid_indexed = true;
        }
    }
    file_under_owner(&s->links_by_owner, &l->meta, le, &le->owner_ref);
    if (relink) /* status-only updates (the common case) leave the pods where they are */
        resolve_pods_under(s, &k);
    key_done(&k);
    s->version++;
}

int store_del_link(struct store *s, const char *kind, const char *ns, const char *name)
{
    struct link_entry *le = link_find(s, kind, ns, name);
    if (!le)
        return -1;
    if (le->uid_indexed)
        HASH_DELETE(hh_uid, s->links_by_uid, le);
    mm_remove(&s->links_by_owner, &le->owner_ref, offsetof(struct link_entry, owner_ref));
    HASH_DELETE(hh, s->links_by_key, le);
    struct link_entry *last = s->links[--s->n_links];
    if (le->idx != s->n_links) {
        s->links[le->idx] = last;
        last->idx = le->idx;
    }
    struct key k = {.p = le->key, .len = le->klen};
    resolve_pods_under(s, &k); /* they lose their workload until the link comes back */
    link_release(s, le->link);
    free(le->key);
    free(le);
    s->version++;
    return 0;
}

const struct model_link *store_get_link(const struct store *s, const char *kind, const char *ns,
                                        const char *name)
{
    struct link_entry *le = link_find(s, kind, ns, name);
    return le ? le->link : NULL;
}

size_t store_link_count(const struct store *s)
{
    return s->n_links;
}

/* ---- pod IP history --------------------------------------------------------------------- */

static uint32_t hash_ip_bucket(const void *item)
{
    return hash_ptrs(((const struct ip_bucket *)item)->ip, NULL);
}

static struct ip_bucket *ip_find(const struct store *s, const char *interned_ip)
{
    if (!interned_ip || !s->ips.cap)
        return NULL;
    size_t mask = s->ips.cap - 1;
    for (size_t i = hash_ptrs(interned_ip, NULL) & mask; s->ips.slots[i]; i = (i + 1) & mask) {
        struct ip_bucket *b = s->ips.slots[i];
        if (b->ip == interned_ip)
            return b;
    }
    return NULL;
}

static void ip_bucket_maybe_free(struct store *s, struct ip_bucket *b)
{
    if (b->holder || b->gone)
        return;
    ptab_del(&s->ips, b);
    itab_release(&s->strs, b->ip);
    free(b);
}

/* The holder lets go of its address at `when`: what it did is kept as a record. */
static void ip_let_go(struct store *s, struct pod_entry *pe, int64_t when)
{
    struct ip_bucket *b = pe->ipb;
    if (!b)
        return;
    const struct model_pod *p = pe->pod;
    struct ip_rec *r = xcalloc(1, sizeof *r);
    r->ns = istr_ref(p->meta.namespace_);
    r->name = istr_ref(p->meta.name);
    r->node = istr_ref(p->node_name);
    r->from = pe->ip_from;
    r->to = when > r->from ? when : r->from;
    r->b = b;
    r->next = b->gone;
    b->gone = r;
    if (s->gone_tail)
        s->gone_tail->qnext = r;
    else
        s->gone = r;
    s->gone_tail = r;
    s->n_closed++;
    b->holder = NULL;
    pe->ipb = NULL;
}

static void ip_drop_oldest(struct store *s)
{
    struct ip_rec *r = s->gone;
    s->gone = r->qnext;
    if (!s->gone)
        s->gone_tail = NULL;
    s->n_closed--;
    struct ip_bucket *b = r->b;
    struct ip_rec **pp = &b->gone;
    while (*pp != r)
        pp = &(*pp)->next;
    *pp = r->next;
    itab_release(&s->strs, r->ns);
    itab_release(&s->strs, r->name);
    itab_release(&s->strs, r->node);
    free(r);
    ip_bucket_maybe_free(s, b);
}

static void ip_prune(struct store *s)
{
    int64_t horizon = store_now(s) - IP_KEEP_SECONDS;
    while (s->gone && (s->gone->to < horizon || s->n_closed > IP_MAX_CLOSED))
        ip_drop_oldest(s);
}

/* Keeps pe->ipb in step with the pod: an address is held from the pod's creation (or from when
 * the previous holder let it go) until the pod is gone or has finished. */
static void ip_track(struct store *s, struct pod_entry *pe)
{
    const struct model_pod *p = pe->pod;
    int64_t now = store_now(s);
    bool holds = !str_empty(p->pod_ip) && !p->host_network && p->phase != MODEL_PHASE_SUCCEEDED &&
                 p->phase != MODEL_PHASE_FAILED;
    if (pe->ipb && holds && pe->ipb->ip == p->pod_ip) /* both interned */
        return;
    struct ip_bucket *old = pe->ipb;
    ip_let_go(s, pe, now);
    if (old)
        ip_bucket_maybe_free(s, old);
    if (holds) {
        struct ip_bucket *b = ip_find(s, p->pod_ip);
        if (!b) {
            b = xcalloc(1, sizeof *b);
            b->ip = istr_ref(p->pod_ip);
            ptab_put(&s->ips, b);
        }
        if (b->holder) /* whoever else held it has let it go */
            ip_let_go(s, b->holder, now);
        int64_t from = p->meta.created > 0 ? p->meta.created : now;
        for (const struct ip_rec *r = b->gone; r; r = r->next)
            if (r->to > from)
                from = r->to;
        b->holder = pe;
        pe->ipb = b;
        pe->ip_from = from;
    }
    ip_prune(s);
}

int store_ip_lookup(const struct store *s, const char *ip, const char *node, int64_t when,
                    struct store_ip_owner *out)
{
    if (str_empty(ip))
        return -1;
    if (when == 0)
        when = store_now(s);
    struct ip_bucket *b = ip_find(s, itab_find(&s->strs, ip));
    if (!b)
        return -1;
    const char *ns = NULL, *name = NULL, *at = NULL;
    int64_t best_from = INT64_MIN;
    if (b->holder) {
        const struct model_pod *p = b->holder->pod;
        if ((!node || !p->node_name || strcmp(node, p->node_name) == 0) &&
            b->holder->ip_from <= when) {
            ns = p->meta.namespace_;
            name = p->meta.name;
            at = p->node_name;
            best_from = b->holder->ip_from;
        }
    }
    for (const struct ip_rec *r = b->gone; r; r = r->next) {
        if (node && r->node && strcmp(node, r->node) != 0)
            continue;
        if (r->from > when || when > r->to || r->from <= best_from)
            continue; /* at a hand-over instant the newcomer wins */
        ns = r->ns;
        name = r->name;
        at = r->node;
        best_from = r->from;
    }
    if (!name)
        return -1;
    if (out) {
        out->pod_namespace = ns;
        out->pod_name = name;
        out->node_name = at;
    }
    return 0;
}

/* ---- pods ------------------------------------------------------------------------------- */

static uint32_t hash_pod_key(const void *item)
{
    const struct model_pod *p = ((const struct pod_entry *)item)->pod;
    return hash_ptrs(p->meta.namespace_, p->meta.name);
}

static uint32_t hash_pod_uid(const void *item)
{
    return hash_ptrs(((const struct pod_entry *)item)->pod->meta.uid, NULL);
}

static struct pod_entry *pod_find(const struct store *s, const char *ns, const char *name)
{
    const char *ins = itab_find(&s->strs, ns), *iname = itab_find(&s->strs, name);
    if ((ns && !ins) || !iname || !s->pods_by_key.cap)
        return NULL; /* a string no object uses */
    size_t mask = s->pods_by_key.cap - 1;
    for (size_t i = hash_ptrs(ins, iname) & mask; s->pods_by_key.slots[i]; i = (i + 1) & mask) {
        struct pod_entry *pe = s->pods_by_key.slots[i];
        if (pe->pod->meta.namespace_ == ins && pe->pod->meta.name == iname)
            return pe;
    }
    return NULL;
}

/* The workload of kind Pod that stands for a bare pod: same identity, template = the pod. */
static struct model_workload *bare_workload(const struct model_pod *p)
{
    struct model_workload *w = xcalloc(1, sizeof *w);
    w->kind = MODEL_KIND_POD;
    w->meta.namespace_ = xstrdup(p->meta.namespace_);
    w->meta.name = xstrdup(p->meta.name);
    w->meta.uid = xstrdup(p->meta.uid);
    w->meta.resource_version = xstrdup(p->meta.resource_version);
    w->meta.generation = p->meta.generation;
    w->meta.created = p->meta.created;
    w->meta.deleted = p->meta.deleted;
    kv_copy(&w->meta.labels, &p->meta.labels);
    kv_copy(&w->meta.annotations, &p->meta.annotations);
    kv_copy(&w->tmpl.labels, &p->meta.labels);
    kv_copy(&w->tmpl.annotations, &p->meta.annotations);
    w->tmpl.service_account = xstrdup(p->service_account ? p->service_account : "default");
    w->replicas_desired = 1;
    w->replicas_ready = p->ready ? 1 : 0;
    w->replicas_available = w->replicas_ready;
    w->replicas_updated = 1;
    return w;
}

static void pod_drop_bare(struct store *s, struct pod_entry *pe)
{
    if (!pe->bare)
        return;
    struct wl_entry *we = pe->bare;
    pe->bare = NULL;
    wl_remove(s, we); /* detaches pe too */
}

void store_put_pod(struct store *s, struct model_pod *p)
{
    if (!p)
        return;
    v_pod(s, p, STR_INTERN);
    struct pod_entry *pe = pod_find(s, p->meta.namespace_, p->meta.name);
    if (pe) {
        if (!str_empty(pe->pod->meta.uid))
            ptab_del(&s->pods_by_uid, pe); /* hashed by the old uid pointer */
        bool refile = !same_controller(&pe->pod->meta, &p->meta);
        if (refile)
            mm_remove(&s->pods_by_owner, &pe->owner_ref, offsetof(struct pod_entry, owner_ref));
        /* ns and name are the same interned strings in both: the key slot stays valid */
        pod_release(s, pe->pod);
        pe->pod = p;
        if (pe->wl)
            pe->wl->pods[pe->wl_pos] = p;
        if (refile)
            file_under_owner(&s->pods_by_owner, &p->meta, pe, &pe->owner_ref);
    } else {
        pe = xcalloc(1, sizeof *pe);
        pe->pod = p;
        ptab_put(&s->pods_by_key, pe);
        xgrow((void **)&s->pods, &s->cap_pods, s->n_pods + 1, sizeof *s->pods);
        pe->idx = (uint32_t)s->n_pods;
        s->pods[s->n_pods++] = pe;
        file_under_owner(&s->pods_by_owner, &p->meta, pe, &pe->owner_ref);
    }
    if (!str_empty(p->meta.uid))
        ptab_put(&s->pods_by_uid, pe);

    if (p->meta.n_owners == 0) {
        struct model_workload *w = bare_workload(p);
        v_workload(s, w, STR_INTERN);
        pe->bare = wl_insert(s, w, true);
    } else {
        pod_drop_bare(s, pe);
    }
    resolve_pod(s, pe);
    mark_dirty(s, pe->wl); /* the pod itself changed */
    ip_track(s, pe);
    s->version++;
}

int store_del_pod(struct store *s, const char *ns, const char *name)
{
    struct pod_entry *pe = pod_find(s, ns, name);
    if (!pe)
        return -1;
    wl_detach_pod(s, pe);
    pod_drop_bare(s, pe);
    struct ip_bucket *b = pe->ipb;
    ip_let_go(s, pe, store_now(s));
    if (b)
        ip_bucket_maybe_free(s, b);
    ip_prune(s);
    mm_remove(&s->pods_by_owner, &pe->owner_ref, offsetof(struct pod_entry, owner_ref));
    if (!str_empty(pe->pod->meta.uid))
        ptab_del(&s->pods_by_uid, pe);
    ptab_del(&s->pods_by_key, pe);
    struct pod_entry *last = s->pods[--s->n_pods];
    if (pe->idx != s->n_pods) {
        s->pods[pe->idx] = last;
        last->idx = pe->idx;
    }
    pod_release(s, pe->pod);
    free(pe);
    s->version++;
    return 0;
}

const struct model_pod *store_get_pod(const struct store *s, const char *ns, const char *name)
{
    struct pod_entry *pe = pod_find(s, ns, name);
    return pe ? pe->pod : NULL;
}

const struct model_pod *store_get_pod_by_uid(const struct store *s, const char *uid)
{
    const char *iuid = itab_find(&s->strs, uid);
    if (str_empty(iuid) || !s->pods_by_uid.cap)
        return NULL;
    size_t mask = s->pods_by_uid.cap - 1;
    for (size_t i = hash_ptrs(iuid, NULL) & mask; s->pods_by_uid.slots[i]; i = (i + 1) & mask) {
        struct pod_entry *pe = s->pods_by_uid.slots[i];
        if (pe->pod->meta.uid == iuid)
            return pe->pod;
    }
    return NULL;
}

size_t store_pod_count(const struct store *s)
{
    return s->n_pods;
}

const struct model_pod *store_pod_at(const struct store *s, size_t i)
{
    return i < s->n_pods ? s->pods[i]->pod : NULL;
}

const struct model_workload *store_workload_of_pod(const struct store *s, const struct model_pod *p)
{
    if (!p)
        return NULL;
    struct pod_entry *pe = pod_find(s, p->meta.namespace_, p->meta.name);
    return pe && pe->wl ? pe->wl->w : NULL;
}

/* ---- service accounts, namespaces, MWCs, CRDs ------------------------------------------- */

void store_put_sa(struct store *s, struct model_service_account *sa)
{
    if (sa)
        obj_put(s, OBJ_SA, sa);
}
int store_del_sa(struct store *s, const char *ns, const char *name)
{
    return obj_del(s, OBJ_SA, ns, name);
}
const struct model_service_account *store_get_sa(const struct store *s, const char *ns,
                                                 const char *name)
{
    struct obj_entry *e = obj_find(s, OBJ_SA, ns, name);
    return e ? e->obj : NULL;
}
size_t store_sa_count(const struct store *s)
{
    return s->objs[OBJ_SA].n;
}
const struct model_service_account *store_sa_at(const struct store *s, size_t i)
{
    return obj_at(s, OBJ_SA, i);
}

void store_put_namespace(struct store *s, struct model_namespace *ns)
{
    if (ns)
        obj_put(s, OBJ_NS, ns);
}
int store_del_namespace(struct store *s, const char *name)
{
    return obj_del(s, OBJ_NS, NULL, name);
}
const struct model_namespace *store_get_namespace(const struct store *s, const char *name)
{
    struct obj_entry *e = obj_find(s, OBJ_NS, NULL, name);
    return e ? e->obj : NULL;
}
size_t store_namespace_count(const struct store *s)
{
    return s->objs[OBJ_NS].n;
}
const struct model_namespace *store_namespace_at(const struct store *s, size_t i)
{
    return obj_at(s, OBJ_NS, i);
}

void store_put_mwc(struct store *s, struct model_mwc *m)
{
    if (m)
        obj_put(s, OBJ_MWC, m);
}
int store_del_mwc(struct store *s, const char *name)
{
    return obj_del(s, OBJ_MWC, NULL, name);
}
size_t store_mwc_count(const struct store *s)
{
    return s->objs[OBJ_MWC].n;
}
const struct model_mwc *store_mwc_at(const struct store *s, size_t i)
{
    return obj_at(s, OBJ_MWC, i);
}

#define CRD_FUNCS(id, suffix, type)                                                                \
    void store_put_##suffix(struct store *s, type *x)                                              \
    {                                                                                              \
        if (x)                                                                                     \
            obj_put(s, id, x);                                                                     \
    }                                                                                              \
    int store_del_##suffix(struct store *s, const char *ns, const char *name)                      \
    {                                                                                              \
        return obj_del(s, id, ns, name);                                                           \
    }                                                                                              \
    size_t store_##suffix##_count(const struct store *s)                                           \
    {                                                                                              \
        return s->objs[id].n;                                                                      \
    }                                                                                              \
    const type *store_##suffix##_at(const struct store *s, size_t i)                               \
    {                                                                                              \
        return obj_at(s, id, i);                                                                   \
    }

CRD_FUNCS(OBJ_AZID, azid, struct model_azure_identity)
CRD_FUNCS(OBJ_AZBINDING, azbinding, struct model_azure_identity_binding)
CRD_FUNCS(OBJ_AZASSIGNED, azassigned, struct model_azure_assigned_identity)
CRD_FUNCS(OBJ_AZEXCEPTION, azexception, struct model_azure_pod_identity_exception)
#undef CRD_FUNCS

/* ---- NMI requests ----------------------------------------------------------------------- */

static void nmi_free(struct store *s, struct model_nmi_request *r)
{
    v_nmi(s, r, STR_RELEASE);
    model_nmi_request_free(r);
    free(r);
}

static int nmi_cmp(const void *a, const void *b)
{
    const struct model_nmi_request *x = *(const struct model_nmi_request *const *)a;
    const struct model_nmi_request *y = *(const struct model_nmi_request *const *)b;
    if (x->time != y->time)
        return x->time < y->time ? -1 : 1;
    if (x->time_nanos != y->time_nanos)
        return x->time_nanos < y->time_nanos ? -1 : 1;
    return x < y ? -1 : x > y; /* arrival order among equals: the address is as good as any */
}

/* Several NMI streams interleave (300 at once on a large cluster): requests are appended and
 * put in time order when someone reads them, once per batch (inserting each in place was
 * quadratic). */
static void nmi_sort(struct store *s)
{
    if (s->nmi_sorted == s->n_nmi)
        return;
    bool in_order = true;
    for (size_t i = s->nmi_sorted ? s->nmi_sorted : 1; i < s->n_nmi && in_order; i++)
        in_order = nmi_cmp(&s->nmi[i - 1], &s->nmi[i]) <= 0;
    if (!in_order)
        qsort(s->nmi, s->n_nmi, sizeof *s->nmi, nmi_cmp);
    s->nmi_sorted = s->n_nmi;
}

void store_add_nmi_request(struct store *s, struct model_nmi_request *r)
{
    if (!r)
        return;
    v_nmi(s, r, STR_INTERN);
    if (s->n_nmi >= NMI_MAX) { /* drop the oldest */
        nmi_sort(s);
        size_t k = s->n_nmi / 8;
        for (size_t i = 0; i < k; i++)
            nmi_free(s, s->nmi[i]);
        memmove(s->nmi, s->nmi + k, (s->n_nmi - k) * sizeof *s->nmi);
        s->n_nmi -= k;
        s->nmi_sorted = s->n_nmi;
    }
    xgrow((void **)&s->nmi, &s->cap_nmi, s->n_nmi + 1, sizeof *s->nmi);
    s->nmi[s->n_nmi++] = r;
    s->nmi_dirty = true;
    s->nmi_version++;
    s->version++;
}

size_t store_nmi_count(const struct store *s)
{
    return s->n_nmi;
}

const struct model_nmi_request *store_nmi_at(const struct store *s, size_t i)
{
    nmi_sort((struct store *)(uintptr_t)s); /* the order is part of what reading means */
    return i < s->n_nmi ? s->nmi[i] : NULL;
}

void store_prune_nmi(struct store *s, int64_t older_than)
{
    nmi_sort(s);
    size_t k = 0;
    while (k < s->n_nmi && s->nmi[k]->time < older_than)
        nmi_free(s, s->nmi[k++]);
    if (k == 0)
        return;
    memmove(s->nmi, s->nmi + k, (s->n_nmi - k) * sizeof *s->nmi);
    s->n_nmi -= k;
    s->nmi_sorted = s->n_nmi;
    s->nmi_dirty = true;
    s->nmi_version++;
    s->version++;
}

/* ---- Azure and OIDC --------------------------------------------------------------------- */

void store_set_azure(struct store *s, struct model_azure *a)
{
    model_azure_free(&s->azure);
    if (a) {
        s->azure = *a;
        memset(a, 0, sizeof *a);
    }
    s->dirty_all = true;
    s->version++;
}

const struct model_azure *store_azure(const struct store *s)
{
    return &s->azure;
}

void store_set_oidc(struct store *s, struct model_oidc *o)
{
    model_oidc_free(&s->oidc);
    if (o) {
        s->oidc = *o;
        memset(o, 0, sizeof *o);
    }
    s->dirty_all = true;
    s->version++;
}

const struct model_oidc *store_oidc(const struct store *s)
{
    return &s->oidc;
}

/* ---- sources ---------------------------------------------------------------------------- */

#define STORE_SOURCE_STATES(X)                                                                     \
    X(STORE_SRC_IDLE, "idle")                                                                      \
    X(STORE_SRC_LISTING, "listing")                                                                \
    X(STORE_SRC_SYNCED, "synced")                                                                  \
    X(STORE_SRC_ERROR, "error")                                                                    \
    X(STORE_SRC_FORBIDDEN, "forbidden")                                                            \
    X(STORE_SRC_ABSENT, "absent")                                                                  \
    X(STORE_SRC_STALE, "stale")                                                                    \
    X(STORE_SRC_SKIPPED, "skipped")

const char *store_source_state_name(enum store_source_state st)
{
    static const char *const names[] = {
#define X(id, name) [id] = name,
        STORE_SOURCE_STATES(X)
#undef X
    };
    return (size_t)st < sizeof names / sizeof names[0] ? names[st] : "unknown";
}

struct store_source *store_source(struct store *s, const char *name)
{
    char want[sizeof s->sources[0]->name];
    snprintf(want, sizeof want, "%s", name ? name : "");
    for (size_t i = 0; i < s->n_sources; i++)
        if (strcmp(s->sources[i]->name, want) == 0)
            return s->sources[i];
    /* Each source is its own allocation: callers keep the pointer across later additions. */
    struct store_source *src = xcalloc(1, sizeof *src);
    memcpy(src->name, want, sizeof want);
    xgrow((void **)&s->sources, &s->cap_sources, s->n_sources + 1, sizeof *s->sources);
    s->sources[s->n_sources++] = src;
    s->version++;
    return src;
}

void store_source_remove(struct store *s, struct store_source *src)
{
    for (size_t i = 0; i < s->n_sources; i++) {
        if (s->sources[i] != src)
            continue;
        free(src);
        memmove(s->sources + i, s->sources + i + 1, (s->n_sources - i - 1) * sizeof *s->sources);
        s->n_sources--;
        store_source_changed(s);
        return;
    }
}

void store_source_changed(struct store *s)
{
    s->dirty_all = true;
    s->version++;
}

const struct store_source *store_source_find(const struct store *s, const char *name)
{
    for (size_t i = 0; i < s->n_sources; i++)
        if (strcmp(s->sources[i]->name, name) == 0)
            return s->sources[i];
    return NULL;
}

size_t store_source_count(const struct store *s)
{
    return s->n_sources;
}

const struct store_source *store_source_at(const struct store *s, size_t i)
{
    return i < s->n_sources ? s->sources[i] : NULL;
}

/* ---- lifetime --------------------------------------------------------------------------- */

struct store *store_new(void)
{
    struct store *s = xcalloc(1, sizeof *s);
    itab_grow(&s->strs);
    s->pods_by_key.hash = hash_pod_key;
    s->pods_by_uid.hash = hash_pod_uid;
    s->ips.hash = hash_ip_bucket;
    return s;
}

uint64_t store_version(const struct store *s)
{
    return s->version;
}

uint64_t store_objects_version(const struct store *s)
{
    return s->version - s->nmi_version;
}

uint64_t store_nmi_version(const struct store *s)
{
    return s->nmi_version;
}

void store_set_time(struct store *s, int64_t now)
{
    s->fixed_now = now;
}

void store_free(struct store *s)
{
    if (!s)
        return;
    /* Everything goes at once: no index is kept up to date on the way (that is most of the cost
     * of deleting objects one by one), and every interned string goes with its table at the end
     * (the objects only drop their pointers). */
    for (size_t i = 0; i < s->n_pods; i++) {
        v_pod(s, s->pods[i]->pod, STR_DROP);
        model_pod_free(s->pods[i]->pod);
        free(s->pods[i]);
    }
    HASH_CLEAR(hh, s->wls_by_key); /* (reads the head entry: before the entries go) */
    HASH_CLEAR(hh_uid, s->wls_by_uid);
    for (size_t i = 0; i < s->n_wls; i++) {
        struct wl_entry *we = s->wls[i];
        v_workload(s, we->w, STR_DROP);
        model_workload_free(we->w);
        free(we->key);
        free(we->pods);
        free(we->pe);
        free(we);
    }
    HASH_CLEAR(hh, s->links_by_key);
    HASH_CLEAR(hh_uid, s->links_by_uid);
    for (size_t i = 0; i < s->n_links; i++) {
        struct link_entry *le = s->links[i];
        v_link(s, le->link, STR_DROP);
        model_link_free(le->link);
        free(le->key);
        free(le);
    }
    for (size_t t = 0; t < OBJ__COUNT; t++) {
        struct obj_table *tab = &s->objs[t];
        HASH_CLEAR(hh, tab->hash);
        for (size_t i = 0; i < tab->n; i++) {
            obj_ops[t].visit(s, tab->items[i]->obj, STR_DROP);
            obj_ops[t].free(tab->items[i]->obj);
            free(tab->items[i]->key);
            free(tab->items[i]);
        }
        free(tab->items);
    }
    for (struct ip_rec *r = s->gone, *next; r; r = next) {
        next = r->qnext;
        free(r);
    }
    for (size_t i = 0; i < s->ips.cap; i++)
        free(s->ips.slots[i]);
    for (size_t i = 0; i < s->n_nmi; i++) {
        v_nmi(s, s->nmi[i], STR_DROP);
        model_nmi_request_free(s->nmi[i]);
        free(s->nmi[i]);
    }
    free(s->nmi);
    for (size_t i = 0; i < s->strs.cap; i++)
        free(s->strs.slots[i]);
    free(s->strs.slots);
    free(s->pods_by_key.slots);
    free(s->pods_by_uid.slots);
    free(s->ips.slots);
    model_azure_free(&s->azure);
    model_oidc_free(&s->oidc);
    for (size_t i = 0; i < s->n_sources; i++)
        free(s->sources[i]);
    free(s->sources);
    mm_free_all(&s->pods_by_owner);
    mm_free_all(&s->links_by_owner);
    mm_free_all(&s->wls_by_sa);
    free(s->pods);
    free(s->wls);
    free(s->links);
    free(s->dirty);
    free(s->dirty_out);
    free(s);
}
