/* store: owner chains in both arrival orders, bare pods, deletes, IP history, dirty sets,
 * sources, and a 50k-pod load that prints its time and memory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <cmocka.h>

#include "idwatch/core.h"
#include "idwatch/model.h"
#include "idwatch/store.h"

/* ---- builders ---------------------------------------------------------------------------- */

static void set_owner(struct model_meta *m, const char *kind, const char *name, const char *uid)
{
    m->owners = xcalloc(1, sizeof *m->owners);
    m->n_owners = 1;
    m->owners[0].kind = xstrdup(kind);
    m->owners[0].name = xstrdup(name);
    m->owners[0].uid = xstrdup(uid);
    m->owners[0].controller = true;
}

static struct model_pod *mk_pod(const char *ns, const char *name, const char *uid,
                                const char *owner_kind, const char *owner_name,
                                const char *owner_uid)
{
    struct model_pod *p = xcalloc(1, sizeof *p);
    p->meta.namespace_ = xstrdup(ns);
    p->meta.name = xstrdup(name);
    p->meta.uid = xstrdup(uid);
    p->has_spec = true;
    p->service_account = xstrdup("default");
    p->phase = MODEL_PHASE_RUNNING;
    if (owner_kind)
        set_owner(&p->meta, owner_kind, owner_name, owner_uid);
    return p;
}

static struct model_pod *mk_pod_ip(const char *ns, const char *name, const char *ip,
                                   const char *node, int64_t created)
{
    struct model_pod *p = mk_pod(ns, name, name, "ReplicaSet", "rs", "rs-uid");
    p->pod_ip = xstrdup(ip);
    p->node_name = xstrdup(node);
    p->meta.created = created;
    return p;
}

static struct model_workload *mk_wl(enum model_workload_kind k, const char *ns, const char *name,
                                    const char *uid, const char *sa)
{
    struct model_workload *w = xcalloc(1, sizeof *w);
    w->kind = k;
    w->meta.namespace_ = xstrdup(ns);
    w->meta.name = xstrdup(name);
    w->meta.uid = xstrdup(uid);
    w->tmpl.service_account = xstrdup(sa ? sa : "default");
    kv_set(&w->tmpl.labels, "app", name);
    return w;
}

static struct model_link *mk_link(const char *kind, const char *ns, const char *name,
                                  const char *uid, const char *owner_kind, const char *owner_name,
                                  const char *owner_uid)
{
    struct model_link *l = xcalloc(1, sizeof *l);
    l->kind = xstrdup(kind);
    l->meta.namespace_ = xstrdup(ns);
    l->meta.name = xstrdup(name);
    l->meta.uid = xstrdup(uid);
    if (owner_kind)
        set_owner(&l->meta, owner_kind, owner_name, owner_uid);
    return l;
}

static struct model_service_account *mk_sa(const char *ns, const char *name, const char *client)
{
    struct model_service_account *sa = xcalloc(1, sizeof *sa);
    sa->meta.namespace_ = xstrdup(ns);
    sa->meta.name = xstrdup(name);
    if (client)
        kv_set(&sa->meta.annotations, WI_ANN_CLIENT_ID, client);
    return sa;
}

static const char *wl_name_of(const struct store *s, const char *ns, const char *pod)
{
    const struct model_pod *p = store_get_pod(s, ns, pod);
    assert_non_null(p);
    const struct model_workload *w = store_workload_of_pod(s, p);
    return w ? w->meta.name : NULL;
}

static bool pods_contain(const struct store *s, const struct model_workload *w, const char *name)
{
    const struct model_pod *const *pods;
    size_t n = store_workload_pods(s, w, &pods);
    for (size_t i = 0; i < n; i++)
        if (strcmp(pods[i]->meta.name, name) == 0)
            return true;
    return false;
}

static size_t n_pods_of(const struct store *s, enum model_workload_kind k, const char *ns,
                        const char *name)
{
    const struct model_workload *w = store_get_workload(s, k, ns, name);
    assert_non_null(w);
    return store_workload_pods(s, w, NULL);
}

/* ---- owner chains ------------------------------------------------------------------------ */

static void put_deploy_chain(struct store *s, int order)
{
    struct model_pod *p1 = mk_pod("pay", "api-7c9d-a", "p1", "ReplicaSet", "api-7c9d", "rs1");
    struct model_pod *p2 = mk_pod("pay", "api-7c9d-b", "p2", "ReplicaSet", "api-7c9d", "rs1");
    struct model_link *rs =
        mk_link("ReplicaSet", "pay", "api-7c9d", "rs1", "Deployment", "api", "d1");
    struct model_workload *d = mk_wl(MODEL_KIND_DEPLOYMENT, "pay", "api", "d1", "api");
    if (order == 0) { /* top down, the order a fresh list usually gives */
        store_put_workload(s, d);
        store_put_link(s, rs);
        store_put_pod(s, p1);
        store_put_pod(s, p2);
    } else if (order == 1) { /* bottom up */
        store_put_pod(s, p1);
        store_put_pod(s, p2);
        store_put_link(s, rs);
        store_put_workload(s, d);
    } else { /* pods, then deployment, then the ReplicaSet that joins them */
        store_put_pod(s, p1);
        store_put_workload(s, d);
        store_put_pod(s, p2);
        store_put_link(s, rs);
    }
}

static void test_deployment_chain_any_order(void **state)
{
    (void)state;
    for (int order = 0; order < 3; order++) {
        struct store *s = store_new();
        put_deploy_chain(s, order);
        assert_string_equal(wl_name_of(s, "pay", "api-7c9d-a"), "api");
        assert_string_equal(wl_name_of(s, "pay", "api-7c9d-b"), "api");
        const struct model_workload *d = store_get_workload(s, MODEL_KIND_DEPLOYMENT, "pay", "api");
        assert_int_equal(store_workload_pods(s, d, NULL), 2);
        assert_true(pods_contain(s, d, "api-7c9d-a"));
        assert_true(pods_contain(s, d, "api-7c9d-b"));
        assert_int_equal(store_workload_count(s), 1); /* owned pods are not bare */
        assert_int_equal(store_link_count(s), 1);
        store_free(s);
    }
}

static void test_cronjob_chain_both_orders(void **state)
{
    (void)state;
    for (int order = 0; order < 2; order++) {
        struct store *s = store_new();
        struct model_pod *p = mk_pod("batch", "report-28911-x", "p1", "Job", "report-28911", "j1");
        struct model_link *j =
            mk_link("Job", "batch", "report-28911", "j1", "CronJob", "report", "c1");
        struct model_workload *c = mk_wl(MODEL_KIND_CRONJOB, "batch", "report", "c1", NULL);
        if (order == 0) {
            store_put_workload(s, c);
            store_put_link(s, j);
            store_put_pod(s, p);
        } else {
            store_put_pod(s, p);
            store_put_link(s, j);
            assert_null(wl_name_of(s, "batch", "report-28911-x")); /* CronJob not seen yet */
            store_put_workload(s, c);
        }
        assert_string_equal(wl_name_of(s, "batch", "report-28911-x"), "report");
        assert_int_equal(n_pods_of(s, MODEL_KIND_CRONJOB, "batch", "report"), 1);
        store_free(s);
    }
}

static void test_statefulset_direct_owner(void **state)
{
    (void)state;
    struct store *s = store_new();
    store_put_pod(s, mk_pod("db", "pg-0", "p0", "StatefulSet", "pg", "ss1"));
    assert_null(wl_name_of(s, "db", "pg-0"));
    store_put_workload(s, mk_wl(MODEL_KIND_STATEFULSET, "db", "pg", "ss1", NULL));
    store_put_pod(s, mk_pod("db", "pg-1", "p1", "StatefulSet", "pg", "ss1"));
    assert_string_equal(wl_name_of(s, "db", "pg-0"), "pg");
    assert_int_equal(n_pods_of(s, MODEL_KIND_STATEFULSET, "db", "pg"), 2);
    /* a DaemonSet of the same name is a different workload */
    store_put_workload(s, mk_wl(MODEL_KIND_DAEMONSET, "db", "pg", "ds1", NULL));
    assert_int_equal(n_pods_of(s, MODEL_KIND_DAEMONSET, "db", "pg"), 0);
    store_free(s);
}

static void test_bare_pods(void **state)
{
    (void)state;
    struct store *s = store_new();
    struct model_pod *p = mk_pod("tools", "debug", "pd", NULL, NULL, NULL);
    kv_set(&p->meta.labels, PI_LABEL_BINDING, "sel");
    kv_set(&p->meta.annotations, WI_ANN_SKIP_CONTAINERS, "x");
    free(p->service_account);
    p->service_account = xstrdup("runner");
    store_put_pod(s, p);
    assert_int_equal(store_workload_count(s), 1);
    const struct model_workload *w = store_get_workload(s, MODEL_KIND_POD, "tools", "debug");
    assert_non_null(w);
    assert_int_equal(w->kind, MODEL_KIND_POD);
    assert_string_equal(kv_get(&w->tmpl.labels, PI_LABEL_BINDING), "sel");
    assert_string_equal(kv_get(&w->tmpl.annotations, WI_ANN_SKIP_CONTAINERS), "x");
    assert_string_equal(w->tmpl.service_account, "runner");
    assert_ptr_equal(store_workload_of_pod(s, store_get_pod(s, "tools", "debug")), w);
    assert_int_equal(store_workload_pods(s, w, NULL), 1);

    /* the template follows the pod */
    p = mk_pod("tools", "debug", "pd", NULL, NULL, NULL);
    kv_set(&p->meta.labels, WI_LABEL_USE, "true");
    store_put_pod(s, p);
    w = store_get_workload(s, MODEL_KIND_POD, "tools", "debug");
    assert_string_equal(kv_get(&w->tmpl.labels, WI_LABEL_USE), "true");
    assert_false(kv_has(&w->tmpl.labels, PI_LABEL_BINDING));
    assert_string_equal(w->tmpl.service_account, "default");

    /* Pod workloads cannot be put or deleted from outside */
    store_put_workload(s, mk_wl(MODEL_KIND_POD, "tools", "other", "x", NULL));
    assert_int_equal(store_workload_count(s), 1);
    assert_int_equal(store_del_workload(s, MODEL_KIND_POD, "tools", "debug"), -1);

    /* adopted by an owner: no longer bare */
    store_put_pod(s, mk_pod("tools", "debug", "pd", "StatefulSet", "st", "st1"));
    assert_null(store_get_workload(s, MODEL_KIND_POD, "tools", "debug"));
    assert_int_equal(store_workload_count(s), 0);
    /* orphaned again, then gone */
    store_put_pod(s, mk_pod("tools", "debug", "pd", NULL, NULL, NULL));
    assert_int_equal(store_workload_count(s), 1);
    assert_int_equal(store_del_pod(s, "tools", "debug"), 0);
    assert_int_equal(store_workload_count(s), 0);
    assert_int_equal(store_pod_count(s), 0);
    assert_int_equal(store_del_pod(s, "tools", "debug"), -1);
    store_free(s);
}

static void test_delete_paths(void **state)
{
    (void)state;
    struct store *s = store_new();
    put_deploy_chain(s, 0);
    /* pod deleted: gone from its workload's list */
    assert_int_equal(store_del_pod(s, "pay", "api-7c9d-a"), 0);
    assert_int_equal(n_pods_of(s, MODEL_KIND_DEPLOYMENT, "pay", "api"), 1);
    assert_null(store_get_pod(s, "pay", "api-7c9d-a"));
    /* ReplicaSet deleted: its pods lose their workload until it comes back */
    assert_int_equal(store_del_link(s, "ReplicaSet", "pay", "api-7c9d"), 0);
    assert_null(wl_name_of(s, "pay", "api-7c9d-b"));
    assert_int_equal(n_pods_of(s, MODEL_KIND_DEPLOYMENT, "pay", "api"), 0);
    assert_int_equal(store_del_link(s, "ReplicaSet", "pay", "api-7c9d"), -1);
    store_put_link(s, mk_link("ReplicaSet", "pay", "api-7c9d", "rs1", "Deployment", "api", "d1"));
    assert_string_equal(wl_name_of(s, "pay", "api-7c9d-b"), "api");
    /* Deployment deleted and recreated */
    assert_int_equal(store_del_workload(s, MODEL_KIND_DEPLOYMENT, "pay", "api"), 0);
    assert_null(store_get_workload(s, MODEL_KIND_DEPLOYMENT, "pay", "api"));
    assert_null(wl_name_of(s, "pay", "api-7c9d-b"));
    assert_int_equal(store_del_workload(s, MODEL_KIND_DEPLOYMENT, "pay", "api"), -1);
    store_put_workload(s, mk_wl(MODEL_KIND_DEPLOYMENT, "pay", "api", "d1", NULL));
    assert_string_equal(wl_name_of(s, "pay", "api-7c9d-b"), "api");
    /* a ReplicaSet recreated under the same name with a new uid does not adopt old pods */
    store_put_link(s, mk_link("ReplicaSet", "pay", "api-7c9d", "rs2", "Deployment", "api", "d1"));
    assert_null(wl_name_of(s, "pay", "api-7c9d-b"));
    store_put_pod(s, mk_pod("pay", "api-7c9d-c", "p3", "ReplicaSet", "api-7c9d", "rs2"));
    assert_string_equal(wl_name_of(s, "pay", "api-7c9d-c"), "api");
    /* a ReplicaSet moving to another Deployment takes its pods along */
    store_put_workload(s, mk_wl(MODEL_KIND_DEPLOYMENT, "pay", "api2", "d2", NULL));
    store_put_link(s, mk_link("ReplicaSet", "pay", "api-7c9d", "rs2", "Deployment", "api2", "d2"));
    assert_string_equal(wl_name_of(s, "pay", "api-7c9d-c"), "api2");
    assert_int_equal(n_pods_of(s, MODEL_KIND_DEPLOYMENT, "pay", "api"), 0);
    /* replacing a pod keeps one entry, and the workload's list points at the new object */
    store_put_pod(s, mk_pod("pay", "api-7c9d-c", "p3", "ReplicaSet", "api-7c9d", "rs2"));
    assert_int_equal(store_pod_count(s), 2);
    const struct model_pod *const *pods;
    const struct model_workload *w2 = store_get_workload(s, MODEL_KIND_DEPLOYMENT, "pay", "api2");
    assert_int_equal(store_workload_pods(s, w2, &pods), 1);
    assert_ptr_equal(pods[0], store_get_pod(s, "pay", "api-7c9d-c"));
    assert_ptr_equal(store_get_pod_by_uid(s, "p3"), pods[0]);
    store_free(s);
}

static void test_lookups_and_objects(void **state)
{
    (void)state;
    struct store *s = store_new();
    put_deploy_chain(s, 1);
    const struct model_workload *d = store_get_workload_by_uid(s, "d1");
    assert_non_null(d);
    assert_string_equal(d->meta.name, "api");
    assert_string_equal(store_get_link(s, "ReplicaSet", "pay", "api-7c9d")->meta.uid, "rs1");
    assert_null(store_get_link(s, "Job", "pay", "api-7c9d"));
    assert_null(store_get_pod_by_uid(s, "nope"));
    /* _at walks every object exactly once */
    size_t seen = 0;
    for (size_t i = 0; i < store_pod_count(s); i++)
        seen += store_pod_at(s, i) != NULL;
    assert_int_equal(seen, 2);
    assert_null(store_pod_at(s, 2));

    store_put_sa(s, mk_sa("pay", "api", "cid"));
    store_put_sa(s, mk_sa("pay", "api", "cid2")); /* replace */
    assert_int_equal(store_sa_count(s), 1);
    assert_string_equal(kv_get(&store_get_sa(s, "pay", "api")->meta.annotations, WI_ANN_CLIENT_ID),
                        "cid2");
    assert_null(store_get_sa(s, "other", "api"));

    struct model_namespace *ns = xcalloc(1, sizeof *ns);
    ns->meta.name = xstrdup("pay");
    store_put_namespace(s, ns);
    assert_non_null(store_get_namespace(s, "pay"));
    assert_int_equal(store_namespace_count(s), 1);
    assert_int_equal(store_del_namespace(s, "pay"), 0);
    assert_int_equal(store_namespace_count(s), 0);

    struct model_azure_identity_binding *b = xcalloc(1, sizeof *b);
    b->meta.namespace_ = xstrdup("pay");
    b->meta.name = xstrdup("bind");
    b->selector = xstrdup("api");
    store_put_azbinding(s, b);
    assert_int_equal(store_azbinding_count(s), 1);
    assert_string_equal(store_azbinding_at(s, 0)->selector, "api");
    assert_int_equal(store_del_azbinding(s, "pay", "nope"), -1);
    /* left in the store on purpose: store_free must release it */
    store_free(s);
}

/* ---- IP history ---------------------------------------------------------------------------- */

static void test_ip_history(void **state)
{
    (void)state;
    struct store *s = store_new();
    struct store_ip_owner o;
    store_set_time(s, 1000);
    store_put_pod(s, mk_pod_ip("a", "old", "10.0.0.5", "node-1", 900));
    store_set_time(s, 2000);
    assert_int_equal(store_del_pod(s, "a", "old"), 0);
    store_set_time(s, 2500);
    store_put_pod(s, mk_pod_ip("b", "new", "10.0.0.5", "node-2", 2400));

    assert_int_equal(store_ip_lookup(s, "10.0.0.5", NULL, 1500, &o), 0);
    assert_string_equal(o.pod_name, "old");
    assert_string_equal(o.pod_namespace, "a");
    assert_string_equal(o.node_name, "node-1");
    assert_int_equal(store_ip_lookup(s, "10.0.0.5", NULL, 2450, &o), 0);
    assert_string_equal(o.pod_name, "new");
    assert_int_equal(store_ip_lookup(s, "10.0.0.5", NULL, 0, &o), 0); /* now */
    assert_string_equal(o.pod_name, "new");
    assert_int_equal(store_ip_lookup(s, "10.0.0.5", "node-1", 1500, &o), 0);
    assert_int_equal(store_ip_lookup(s, "10.0.0.5", "node-2", 1500, &o), -1); /* wrong node */
    assert_int_equal(store_ip_lookup(s, "10.0.0.5", NULL, 800, &o), -1);      /* before both */
    assert_int_equal(store_ip_lookup(s, "10.0.0.6", NULL, 0, &o), -1);
    assert_int_equal(store_ip_lookup(s, "", NULL, 0, &o), -1);

    /* the old pod is remembered for hours, then forgotten */
    store_set_time(s, 2000 + 2 * 3600);
    assert_int_equal(store_ip_lookup(s, "10.0.0.5", NULL, 1500, &o), 0);
    store_set_time(s, 2000 + 4 * 3600);
    store_put_pod(s, mk_pod_ip("c", "trigger", "10.0.0.9", "node-1", 0)); /* prunes */
    assert_int_equal(store_ip_lookup(s, "10.0.0.5", NULL, 1500, &o), -1);
    assert_int_equal(store_ip_lookup(s, "10.0.0.5", NULL, 0, &o), 0);
    assert_string_equal(o.pod_name, "new");
    store_free(s);
}

static void test_ip_handover_and_exclusions(void **state)
{
    (void)state;
    struct store *s = store_new();
    struct store_ip_owner o;
    /* a new pod reports the address before the old one's DELETED arrives */
    store_set_time(s, 100);
    store_put_pod(s, mk_pod_ip("a", "first", "10.1.0.1", "n", 50));
    store_set_time(s, 200);
    store_put_pod(s, mk_pod_ip("a", "second", "10.1.0.1", "n", 150));
    assert_int_equal(store_ip_lookup(s, "10.1.0.1", NULL, 120, &o), 0);
    assert_string_equal(o.pod_name, "first");
    /* created at 150, but "first" held the address until we saw the hand-over at 200 */
    assert_int_equal(store_ip_lookup(s, "10.1.0.1", NULL, 170, &o), 0);
    assert_string_equal(o.pod_name, "first");
    assert_int_equal(store_ip_lookup(s, "10.1.0.1", NULL, 250, &o), 0);
    assert_string_equal(o.pod_name, "second");
    store_set_time(s, 300);
    store_del_pod(s, "a", "first"); /* late delete must not disturb the new holder */
    assert_int_equal(store_ip_lookup(s, "10.1.0.1", NULL, 0, &o), 0);
    assert_string_equal(o.pod_name, "second");

    /* a finished pod gives its address back */
    struct model_pod *p = mk_pod_ip("a", "second", "10.1.0.1", "n", 150);
    p->phase = MODEL_PHASE_SUCCEEDED;
    store_set_time(s, 400);
    store_put_pod(s, p);
    assert_int_equal(store_ip_lookup(s, "10.1.0.1", NULL, 350, &o), 0);
    assert_int_equal(store_ip_lookup(s, "10.1.0.1", NULL, 500, &o), -1);

    /* hostNetwork pods share the node's address: not recorded */
    p = mk_pod_ip("kube-system", "nmi-x", "10.224.0.4", "n", 10);
    p->host_network = true;
    store_put_pod(s, p);
    assert_int_equal(store_ip_lookup(s, "10.224.0.4", NULL, 0, &o), -1);
    store_free(s);
}

/* ---- dirty tracking ------------------------------------------------------------------------ */

static bool dirty_has(const struct model_workload *const *d, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(d[i]->meta.name, name) == 0)
            return true;
    return false;
}

static void test_dirty_sets(void **state)
{
    (void)state;
    struct store *s = store_new();
    const struct model_workload *const *d;
    bool all;
    put_deploy_chain(s, 0);
    store_put_workload(s, mk_wl(MODEL_KIND_DEPLOYMENT, "pay", "worker", "d9", "worker"));
    store_put_workload(s, mk_wl(MODEL_KIND_DEPLOYMENT, "ops", "api", "d8", "api"));
    size_t n = store_take_dirty(s, &d, &all);
    assert_int_equal(n, 3);
    assert_false(all);
    assert_int_equal(store_take_dirty(s, &d, &all), 0); /* cleared */

    /* a pod change dirties its workload only */
    store_put_pod(s, mk_pod("pay", "api-7c9d-a", "p1", "ReplicaSet", "api-7c9d", "rs1"));
    n = store_take_dirty(s, &d, &all);
    assert_int_equal(n, 1);
    assert_string_equal(d[0]->meta.name, "api");
    assert_string_equal(d[0]->meta.namespace_, "pay");
    assert_false(all);

    /* an SA change dirties the workloads using it in that namespace */
    store_put_sa(s, mk_sa("pay", "api", "cid"));
    n = store_take_dirty(s, &d, &all);
    assert_int_equal(n, 1);
    assert_string_equal(d[0]->meta.namespace_, "pay");
    assert_string_equal(d[0]->meta.name, "api");
    assert_false(all);
    store_put_sa(s, mk_sa("pay", "unused", "cid"));
    assert_int_equal(store_take_dirty(s, &d, &all), 0);
    assert_int_equal(store_del_sa(s, "pay", "api"), 0);
    n = store_take_dirty(s, &d, &all);
    assert_int_equal(n, 1);
    /* a workload switching SA is found under the new one */
    store_put_workload(s, mk_wl(MODEL_KIND_DEPLOYMENT, "pay", "worker", "d9", "api"));
    store_take_dirty(s, &d, &all);
    store_put_sa(s, mk_sa("pay", "api", "cid"));
    n = store_take_dirty(s, &d, &all);
    assert_int_equal(n, 2);
    assert_true(dirty_has(d, n, "worker"));
    assert_true(dirty_has(d, n, "api"));

    /* cluster-wide changes set all */
    struct model_mwc *m = xcalloc(1, sizeof *m);
    m->meta.name = xstrdup(WI_MWC_NAME);
    store_put_mwc(s, m);
    n = store_take_dirty(s, &d, &all);
    assert_true(all);
    store_take_dirty(s, &d, &all);
    assert_false(all);
    struct model_azure_identity *id = xcalloc(1, sizeof *id);
    id->meta.namespace_ = xstrdup("pay");
    id->meta.name = xstrdup("id");
    store_put_azid(s, id);
    store_take_dirty(s, &d, &all);
    assert_true(all);
    struct model_azure az = {0};
    az.cluster_name = xstrdup("aks");
    store_set_azure(s, &az);
    assert_null(az.cluster_name); /* taken */
    store_take_dirty(s, &d, &all);
    assert_true(all);
    assert_string_equal(store_azure(s)->cluster_name, "aks");

    /* a deleted workload never comes back out of the dirty set */
    store_put_pod(s, mk_pod("ops", "api-x", "px", "Deployment", "api", "d8"));
    assert_int_equal(store_del_workload(s, MODEL_KIND_DEPLOYMENT, "ops", "api"), 0);
    n = store_take_dirty(s, &d, &all);
    assert_false(dirty_has(d, n, "api") && strcmp(d[0]->meta.namespace_, "ops") == 0);
    for (size_t i = 0; i < n; i++)
        assert_string_not_equal(d[i]->meta.namespace_, "ops");
    assert_true(all);
    store_free(s);
}

static void test_version_and_sources(void **state)
{
    (void)state;
    struct store *s = store_new();
    uint64_t v = store_version(s);
    store_put_pod(s, mk_pod("a", "b", "c", NULL, NULL, NULL));
    assert_true(store_version(s) > v);
    v = store_version(s);
    assert_int_equal(store_del_pod(s, "x", "y"), -1);
    assert_int_equal(store_version(s), v); /* nothing changed */

    struct store_source *pods = store_source(s, "pods");
    pods->state = STORE_SRC_SYNCED;
    pods->count = 12;
    char name[32];
    for (int i = 0; i < 100; i++) { /* growth must not move earlier sources */
        snprintf(name, sizeof name, "src-%d", i);
        store_source(s, name);
    }
    assert_ptr_equal(store_source(s, "pods"), pods);
    assert_int_equal(store_source_count(s), 101);
    assert_string_equal(store_source_at(s, 0)->name, "pods");
    assert_int_equal(store_source_at(s, 0)->count, 12);
    assert_null(store_source_at(s, 101));
    assert_string_equal(store_source_state_name(STORE_SRC_SYNCED), "synced");
    assert_string_equal(store_source_state_name(STORE_SRC_FORBIDDEN), "forbidden");
    assert_string_equal(store_source_state_name(STORE_SRC_ABSENT), "absent");
    assert_string_equal(store_source_state_name((enum store_source_state)77), "unknown");
    /* long names are cut, not overflowed */
    struct store_source *lng =
        store_source(s, "a-very-long-source-name-that-goes-on-and-on-and-on-forever-and-ever-and-"
                        "ever-until-it-no-longer-fits-the-name-field-of-a-source-at-all");
    assert_int_equal(strlen(lng->name), sizeof lng->name - 1);
    store_free(s);
}

static struct model_nmi_request *mk_nmi(int64_t t, const char *ip)
{
    struct model_nmi_request *r = xcalloc(1, sizeof *r);
    r->time = t;
    r->status = 200;
    r->remote_ip = xstrdup(ip);
    r->path = xstrdup("/metadata/identity/oauth2/token");
    return r;
}

static void test_nmi_window(void **state)
{
    (void)state;
    struct store *s = store_new();
    uint64_t ov = store_objects_version(s), nv = store_nmi_version(s);
    store_add_nmi_request(s, mk_nmi(100, "10.0.0.1"));
    store_add_nmi_request(s, mk_nmi(300, "10.0.0.3"));
    store_add_nmi_request(s, mk_nmi(200, "10.0.0.2")); /* from another NMI stream, late */
    assert_int_equal(store_nmi_count(s), 3);
    assert_int_equal(store_nmi_at(s, 0)->time, 100);
    assert_int_equal(store_nmi_at(s, 1)->time, 200);
    assert_string_equal(store_nmi_at(s, 1)->remote_ip, "10.0.0.2");
    assert_int_equal(store_nmi_at(s, 2)->time, 300);
    const struct model_workload *const *d;
    bool all;
    store_take_dirty(s, &d, &all);
    assert_false(all); /* requests move activity only: no workload is dirty */
    assert_true(store_take_nmi_dirty(s));
    assert_false(store_take_nmi_dirty(s));
    assert_int_equal(store_objects_version(s), ov);
    assert_int_equal(store_nmi_version(s), nv + 3);
    store_prune_nmi(s, 250);
    assert_int_equal(store_nmi_count(s), 1);
    assert_int_equal(store_nmi_at(s, 0)->time, 300);
    assert_true(store_take_nmi_dirty(s));
    assert_int_equal(store_objects_version(s), ov);
    store_free(s);
}

/* ---- 50k pods -------------------------------------------------------------------------------- */

static long rss_kb(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long pages = 0, resident = 0;
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
            resident = 0;
        fclose(f);
    }
    return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

static int64_t cpu_ms(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (int64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000 +
           (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000;
}

static size_t heap_in_use(void)
{
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
    return mallinfo2().uordblks; /* 0 under ASan, which has its own allocator */
#else
    return 0;
#endif
}

/* A pod shaped like the real mutated fixture (wi-mutated-pod.json), as the decoder builds it. */
static struct model_pod *mk_big_pod(size_t d, size_t i)
{
    char ns[32], name[96], rs[64], uid[48], rsuid[48], ip[32], node[64], vol[64], rv[16];
    snprintf(ns, sizeof ns, "team-%zu", d % 50);
    snprintf(rs, sizeof rs, "service-%05zu-7c9d8f6b5b", d);
    snprintf(name, sizeof name, "%s-%05zx", rs, i * 7919 % 99991);
    snprintf(uid, sizeof uid, "5b2f6c1e-8a44-4c1e-%04zx-%012zx", i, d * 16 + i);
    snprintf(rsuid, sizeof rsuid, "0d8e7c6b-5a49-4382-9170-%012zx", d);
    snprintf(ip, sizeof ip, "10.%zu.%zu.%zu", 244 + d % 4, (d * 5 + i) / 256 % 256,
             (d * 5 + i) % 256);
    snprintf(node, sizeof node, "aks-nodepool1-38097163-vmss%06zu", (d * 5 + i) % 200);
    snprintf(vol, sizeof vol, "kube-api-access-%05zx", (d * 5 + i) % 0xfffff);
    snprintf(rv, sizeof rv, "%zu", 1843392 + d * 5 + i);
    struct model_pod *p = mk_pod(ns, name, uid, "ReplicaSet", rs, rsuid);
    p->meta.resource_version = xstrdup(rv);
    p->meta.created = 1781255643;
    kv_set(&p->meta.labels, "app", rs);
    kv_set(&p->meta.labels, WI_LABEL_USE, "true");
    kv_set(&p->meta.labels, "pod-template-hash", "7c9d8f6b5b");
    free(p->service_account);
    p->service_account = xstrdup("workload-identity-sa");
    p->node_name = xstrdup(node);
    p->pod_ip = xstrdup(ip);
    p->ready = true;
    p->n_containers = 1;
    p->containers = xcalloc(1, sizeof *p->containers);
    struct model_container *c = &p->containers[0];
    c->type = MODEL_CONTAINER_REGULAR;
    c->name = xstrdup("oidc");
    c->image = xstrdup("ghcr.io/azure/azure-workload-identity/msal-go:latest");
    static const char *const env[][2] = {
        {"AZURE_CLIENT_ID", "00000000-1111-2222-3333-444444444444"},
        {"AZURE_TENANT_ID", "72f988bf-86f1-41af-91ab-2d7cd011db47"},
        {"AZURE_FEDERATED_TOKEN_FILE", "/var/run/secrets/azure/wi/token/azure-identity-token"},
        {"AZURE_AUTHORITY_HOST", "https://login.microsoftonline.com/"},
    };
    c->n_env = 4;
    c->env = xcalloc(4, sizeof *c->env);
    for (size_t k = 0; k < 4; k++) {
        c->env[k].name = xstrdup(env[k][0]);
        c->env[k].value = xstrdup(env[k][1]);
    }
    c->n_mounts = 2;
    c->mounts = xcalloc(2, sizeof *c->mounts);
    c->mounts[0].name = xstrdup(vol);
    c->mounts[0].mount_path = xstrdup("/var/run/secrets/kubernetes.io/serviceaccount");
    c->mounts[0].read_only = true;
    c->mounts[1].name = xstrdup("azure-workload-identity-reserved-0779e921c53268d2371def0b4e7be8");
    c->mounts[1].mount_path = xstrdup("/var/run/secrets/azure/wi");
    c->mounts[1].read_only = true;
    p->n_tokens = 2;
    p->tokens = xcalloc(2, sizeof *p->tokens);
    p->tokens[0].volume = xstrdup(vol);
    p->tokens[0].path = xstrdup("token");
    p->tokens[0].expiration_seconds = 3607;
    p->tokens[1].volume = xstrdup(c->mounts[1].name);
    p->tokens[1].path = xstrdup("token/azure-identity-token");
    p->tokens[1].audience = xstrdup(WI_AUDIENCE);
    p->tokens[1].expiration_seconds = 3600;
    return p;
}

static void test_50k_pods(void **state)
{
    (void)state;
    enum { DEPLOYS = 10000, PODS_PER = 5 };
    size_t heap0 = heap_in_use();
    long rss0 = rss_kb();
    struct model_pod **pods = xmalloc(DEPLOYS * PODS_PER * sizeof *pods);
    struct model_workload **ws = xmalloc(DEPLOYS * sizeof *ws);
    struct model_link **ls = xmalloc(DEPLOYS * sizeof *ls);
    for (size_t d = 0; d < DEPLOYS; d++) {
        char ns[32], name[64], uid[48], rs[64], rsuid[48];
        snprintf(ns, sizeof ns, "team-%zu", d % 50);
        snprintf(name, sizeof name, "service-%05zu", d);
        snprintf(uid, sizeof uid, "9a8b7c6d-1234-4321-aaaa-%012zx", d);
        snprintf(rs, sizeof rs, "service-%05zu-7c9d8f6b5b", d);
        snprintf(rsuid, sizeof rsuid, "0d8e7c6b-5a49-4382-9170-%012zx", d);
        ws[d] = mk_wl(MODEL_KIND_DEPLOYMENT, ns, name, uid, "workload-identity-sa");
        kv_set(&ws[d]->tmpl.labels, WI_LABEL_USE, "true");
        kv_set(&ws[d]->meta.labels, "app", name);
        ws[d]->replicas_desired = PODS_PER;
        ls[d] = mk_link("ReplicaSet", ns, rs, rsuid, "Deployment", name, uid);
        kv_set(&ls[d]->meta.labels, "pod-template-hash", "7c9d8f6b5b");
        for (size_t i = 0; i < PODS_PER; i++)
            pods[d * PODS_PER + i] = mk_big_pod(d, i);
    }
    size_t heap_decoded = heap_in_use();
    long rss_decoded = rss_kb();

    struct store *s = store_new();
    int64_t t0 = time_now_ms(), c0 = cpu_ms();
    /* pods first (the worst order: every owner arrives after its pods) */
    for (size_t i = 0; i < DEPLOYS * PODS_PER; i++)
        store_put_pod(s, pods[i]);
    for (size_t d = 0; d < DEPLOYS; d++)
        store_put_workload(s, ws[d]);
    for (size_t d = 0; d < DEPLOYS; d++)
        store_put_link(s, ls[d]);
    int64_t t1 = time_now_ms(), c1 = cpu_ms();
    free(pods);
    free(ws);
    free(ls);
    size_t heap1 = heap_in_use();
    long rss1 = rss_kb();
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("store: %d pods + %d deployments + %d replicasets inserted in %lld ms "
           "(%lld ms CPU)\n",
           DEPLOYS * PODS_PER, DEPLOYS, DEPLOYS, (long long)(t1 - t0), (long long)(c1 - c0));
    if (heap1)
        printf("store: heap as decoded %.1f MB, held by the store %.1f MB\n",
               (double)(heap_decoded - heap0) / 1048576.0, (double)(heap1 - heap0) / 1048576.0);
    printf("store: RSS %ld MB before, %ld MB with decoded objects, %ld MB after insert "
           "(max RSS %ld MB%s)\n",
           rss0 / 1024, rss_decoded / 1024, rss1 / 1024, ru.ru_maxrss / 1024,
           heap1 ? "" : "; ASan build: shadow memory and redzones included");

    assert_int_equal(store_pod_count(s), DEPLOYS * PODS_PER);
    assert_int_equal(store_workload_count(s), DEPLOYS);
    assert_int_equal(store_link_count(s), DEPLOYS);
    for (size_t d = 0; d < DEPLOYS; d += 997) {
        char ns[32], name[64];
        snprintf(ns, sizeof ns, "team-%zu", d % 50);
        snprintf(name, sizeof name, "service-%05zu", d);
        assert_int_equal(n_pods_of(s, MODEL_KIND_DEPLOYMENT, ns, name), PODS_PER);
    }
    struct store_ip_owner o;
    assert_int_equal(store_ip_lookup(s, "10.244.0.0", NULL, 0, &o), 0);
    assert_string_equal(o.pod_namespace, "team-0");

    /* a rollout touch of one ReplicaSet costs its pods, not the cluster */
    int64_t t2 = time_now_ms();
    for (int k = 0; k < 1000; k++)
        store_put_link(s, mk_link("ReplicaSet", "team-7", "service-00007-7c9d8f6b5b",
                                  "0d8e7c6b-5a49-4382-9170-000000000007", "Deployment",
                                  "service-00007", "9a8b7c6d-1234-4321-aaaa-000000000007"));
    printf("store: 1000 ReplicaSet updates in %lld ms\n", (long long)(time_now_ms() - t2));
    assert_int_equal(n_pods_of(s, MODEL_KIND_DEPLOYMENT, "team-7", "service-00007"), PODS_PER);

    int64_t t3 = time_now_ms();
    store_free(s);
    printf("store: freed in %lld ms\n", (long long)(time_now_ms() - t3));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_deployment_chain_any_order),
        cmocka_unit_test(test_cronjob_chain_both_orders),
        cmocka_unit_test(test_statefulset_direct_owner),
        cmocka_unit_test(test_bare_pods),
        cmocka_unit_test(test_delete_paths),
        cmocka_unit_test(test_lookups_and_objects),
        cmocka_unit_test(test_ip_history),
        cmocka_unit_test(test_ip_handover_and_exclusions),
        cmocka_unit_test(test_dirty_sets),
        cmocka_unit_test(test_version_and_sources),
        cmocka_unit_test(test_nmi_window),
        cmocka_unit_test(test_50k_pods),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
