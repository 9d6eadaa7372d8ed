/* state_ctrl: the emulated controllers of the simulated cluster: nodes and pod IPs, Deployment ->
 * ReplicaSet -> Pod, StatefulSet, DaemonSet, CronJob -> Job -> Pod, the webhook's mutation at pod
 * creation, MIC's AzureAssignedIdentities, and what happens as scenario time moves (churn,
 * schedules, NMI traffic). */
#include <stdlib.h>
#include <string.h>

#include "state_internal.h"

/* Kubernetes' SafeEncodeString alphabet (no vowels, no confusable digits). */
static const char name_alphabet[] = "bcdfghjklmnpqrstvwxz2456789";

static const char *const workload_kinds[] = {"Deployment", "StatefulSet", "DaemonSet", "CronJob",
                                             "Job"};

bool sim_is_workload_kind(const char *kind)
{
    for (size_t i = 0; i < sizeof workload_kinds / sizeof *workload_kinds; i++)
        if (str_eq(kind, workload_kinds[i]))
            return true;
    return false;
}

static int64_t ts_now(const struct sim *s)
{
    return s->now_ns;
}

static void fmt_ip(uint32_t ip, char out[16])
{
    snprintf(out, 16, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255);
}

static const cJSON *jget(const cJSON *o, const char *k)
{
    return cJSON_GetObjectItemCaseSensitive(o, k);
}

static int json_int(const cJSON *o, const char *k, int dflt)
{
    const cJSON *v = jget(o, k);
    return cJSON_IsNumber(v) ? v->valueint : dflt;
}

/* ---- nodes and pod IPs ----------------------------------------------------------------------- */

static cJSON *node_object(struct sim *s, struct sim_node *n, const char *pool, size_t idx)
{
    char cidr[24], ip[16], provider[256];
    fmt_ip(n->net, ip);
    snprintf(cidr, sizeof cidr, "%s/24", ip);
    snprintf(provider, sizeof provider,
             "azure:///subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/"
             "mc_rg_cluster_westeurope/providers/Microsoft.Compute/virtualMachineScaleSets/"
             "aks-%s-vmss/virtualMachines/%zu",
             pool, idx);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "apiVersion", "v1");
    cJSON_AddStringToObject(o, "kind", "Node");
    cJSON *meta = cJSON_AddObjectToObject(o, "metadata");
    cJSON_AddStringToObject(meta, "name", n->name);
    cJSON *l = cJSON_AddObjectToObject(meta, "labels");
    cJSON_AddStringToObject(l, "agentpool", pool);
    cJSON_AddStringToObject(l, "kubernetes.azure.com/agentpool", pool);
    cJSON_AddStringToObject(l, "kubernetes.io/arch", "amd64");
    cJSON_AddStringToObject(l, "kubernetes.io/hostname", n->name);
    cJSON_AddStringToObject(l, "kubernetes.io/os", "linux");
    cJSON_AddStringToObject(l, "node.kubernetes.io/instance-type", "Standard_D4s_v5");
    cJSON_AddStringToObject(l, "topology.kubernetes.io/region", "westeurope");
    cJSON *spec = cJSON_AddObjectToObject(o, "spec");
    cJSON_AddStringToObject(spec, "podCIDR", cidr);
    cJSON_AddItemToObject(spec, "podCIDRs", cJSON_CreateStringArray((const char *[]){cidr}, 1));
    cJSON_AddStringToObject(spec, "providerID", provider);
    cJSON *st = cJSON_AddObjectToObject(o, "status");
    cJSON *addr = cJSON_AddArrayToObject(st, "addresses");
    cJSON *a = cJSON_CreateObject();
    cJSON_AddStringToObject(a, "type", "InternalIP");
    cJSON_AddStringToObject(a, "address", n->ip);
    cJSON_AddItemToArray(addr, a);
    a = cJSON_CreateObject();
    cJSON_AddStringToObject(a, "type", "Hostname");
    cJSON_AddStringToObject(a, "address", n->name);
    cJSON_AddItemToArray(addr, a);
    cJSON *conds = cJSON_AddArrayToObject(st, "conditions");
    cJSON *c = cJSON_CreateObject();
    cJSON_AddStringToObject(c, "type", "Ready");
    cJSON_AddStringToObject(c, "status", "True");
    cJSON_AddStringToObject(c, "reason", "KubeletReady");
    cJSON_AddStringToObject(c, "message", "kubelet is posting ready status");
    cJSON_AddItemToArray(conds, c);
    cJSON *cap = cJSON_AddObjectToObject(st, "capacity");
    cJSON_AddStringToObject(cap, "cpu", "4");
    cJSON_AddStringToObject(cap, "memory", "16365884Ki");
    cJSON_AddStringToObject(cap, "pods", "250");
    cJSON_AddItemToObject(st, "allocatable", cJSON_Duplicate(cap, true));
    cJSON *info = cJSON_AddObjectToObject(st, "nodeInfo");
    cJSON_AddStringToObject(info, "architecture", "amd64");
    cJSON_AddStringToObject(info, "containerRuntimeVersion", "containerd://1.7.27-1");
    cJSON_AddStringToObject(info, "kernelVersion", "5.15.0-1079-azure");
    cJSON_AddStringToObject(info, "kubeletVersion", s->k8s_version);
    cJSON_AddStringToObject(info, "kubeProxyVersion", s->k8s_version);
    cJSON_AddStringToObject(info, "operatingSystem", "linux");
    cJSON_AddStringToObject(info, "osImage", "Ubuntu 22.04.5 LTS");
    return o;
}

int sim_nodes_init(struct sim *s, const cJSON *nodes, struct idw_err *err)
{
    const char *pool = sim_json_str(nodes, "pool");
    const char *prefix = sim_json_str(nodes, "prefix");
    const cJSON *names = jget(nodes, "names");
    size_t count = cJSON_IsArray(names) ? (size_t)cJSON_GetArraySize(names)
                                        : (size_t)json_int(nodes, "count", 3);
    if (!pool)
        pool = "nodepool1";
    char dflt[128];
    if (!prefix) {
        snprintf(dflt, sizeof dflt, "aks-%s-38097163-vmss", pool);
        prefix = dflt;
    }
    if (count == 0 || count > 3000)
        return idw_err_set(err, "node count %zu out of range 1..3000", count);
    s->nodes = xcalloc(count, sizeof *s->nodes);
    s->n_nodes = count;
    struct sim_bucket *b = sim_bucket_get(s, "", "v1", "Node");
    for (size_t i = 0; i < count; i++) {
        struct sim_node *n = &s->nodes[i];
        if (cJSON_IsArray(names)) {
            n->name = xstrdup(cJSON_GetArrayItem(names, (int)i)->valuestring);
        } else {
            char id[8];
            size_t v = i;
            for (int k = 5; k >= 0; k--) {
                id[k] = "0123456789abcdefghijklmnopqrstuvwxyz"[v % 36];
                v /= 36;
            }
            id[6] = '\0';
            n->name = xasprintf("%s%s", prefix, id);
        }
        uint32_t nip =
            (10u << 24) | (224u << 16) | ((uint32_t)(i / 250) << 8) | (uint32_t)(4 + i % 250);
        fmt_ip(nip, n->ip);
        n->net = ((10u << 24) | (244u << 16)) + ((uint32_t)i << 8);
        n->next_host = 4;
        sim_obj_add(s, b, node_object(s, n, pool, i), s->now_ns - 40 * 86400 * SIM_NS_PER_S);
    }
    return 0;
}

void sim_nodes_free(struct sim *s)
{
    for (size_t i = 0; i < s->n_nodes; i++) {
        free(s->nodes[i].name);
        free(s->nodes[i].freed);
    }
    free(s->nodes);
    s->nodes = NULL;
    s->n_nodes = 0;
}

/* A never-used address first; a freed one only after its quarantine, so an IP in an old NMI log
 * line still points at the pod that made the request. */
static uint32_t ip_alloc(struct sim_node *n, int64_t now)
{
    if (n->next_host < 4 + SIM_NODE_PODS) {
        n->used[n->next_host] = 1;
        return n->net | (uint32_t)n->next_host++;
    }
    if (n->n_freed > n->freed_head &&
        n->freed[n->freed_head].freed_ns + SIM_IP_QUARANTINE_NS <= now) {
        uint8_t h = n->freed[n->freed_head++].host;
        n->used[h] = 1;
        return n->net | h;
    }
    return 0;
}

static void ip_free(struct sim_node *n, uint32_t ip, int64_t now)
{
    uint8_t h = (uint8_t)(ip & 255);
    n->used[h] = 0;
    if (n->freed_head > 0 && n->freed_head == n->n_freed)
        n->freed_head = n->n_freed = 0;
    xgrow((void **)&n->freed, &n->cap_freed, n->n_freed + 1, sizeof *n->freed);
    n->freed[n->n_freed++] = (struct sim_freeip){.host = h, .freed_ns = now};
}

/* ---- small JSON builders --------------------------------------------------------------------- */

static void add_owner(cJSON *meta, const struct sim_obj *owner)
{
    cJSON *arr = cJSON_AddArrayToObject(meta, "ownerReferences");
    cJSON *r = cJSON_CreateObject();
    cJSON_AddStringToObject(r, "apiVersion", sim_json_str(owner->ver->json, "apiVersion"));
    cJSON_AddStringToObject(r, "kind", owner->bucket->kind);
    cJSON_AddStringToObject(r, "name", owner->name);
    cJSON_AddStringToObject(r, "uid", sim_json_str(owner->ver->json, "metadata.uid"));
    cJSON_AddBoolToObject(r, "controller", 1);
    cJSON_AddBoolToObject(r, "blockOwnerDeletion", 1);
    cJSON_AddItemToArray(arr, r);
}

static void template_hash(const cJSON *tmpl, char out[11])
{
    char *txt = cJSON_PrintUnformatted(tmpl);
    uint64_t h = 0xcbf29ce484222325ULL;
    for (const char *p = txt; p && *p; p++)
        h = (h ^ (unsigned char)*p) * 0x100000001b3ULL;
    free(txt);
    for (int i = 0; i < 10; i++) {
        out[i] = name_alphabet[h % 27];
        h /= 27;
    }
    out[10] = '\0';
}

static void random_suffix(struct sim *s, char out[6])
{
    for (int i = 0; i < 5; i++)
        out[i] = name_alphabet[sim_rand(s) % 27];
    out[5] = '\0';
}

static void cond_add(cJSON *arr, const char *type, const char *status, const char *ts)
{
    cJSON *c = cJSON_CreateObject();
    cJSON_AddStringToObject(c, "type", type);
    cJSON_AddStringToObject(c, "status", status);
    cJSON_AddNullToObject(c, "lastProbeTime");
    cJSON_AddStringToObject(c, "lastTransitionTime", ts);
    cJSON_AddItemToArray(arr, c);
}

static cJSON *container_status(struct sim *s, const cJSON *c, const char *ts, bool done)
{
    const char *name = sim_json_str(c, "name");
    const char *image = sim_json_str(c, "image");
    cJSON *st = cJSON_CreateObject();
    char id[80];
    snprintf(id, sizeof id, "containerd://%016llx%016llx", (unsigned long long)sim_rand(s),
             (unsigned long long)sim_rand(s));
    cJSON_AddStringToObject(st, "name", name ? name : "");
    cJSON_AddStringToObject(st, "image", image ? image : "");
    cJSON_AddStringToObject(st, "imageID", "");
    cJSON_AddStringToObject(st, "containerID", id);
    cJSON_AddBoolToObject(st, "ready", !done);
    cJSON_AddNumberToObject(st, "restartCount", 0);
    cJSON_AddBoolToObject(st, "started", !done);
    cJSON *state = cJSON_AddObjectToObject(st, "state");
    if (done) {
        cJSON *t = cJSON_AddObjectToObject(state, "terminated");
        cJSON_AddNumberToObject(t, "exitCode", 0);
        cJSON_AddStringToObject(t, "reason", "Completed");
        cJSON_AddStringToObject(t, "startedAt", ts);
        cJSON_AddStringToObject(t, "finishedAt", ts);
    } else {
        cJSON_AddStringToObject(cJSON_AddObjectToObject(state, "running"), "startedAt", ts);
    }
    return st;
}

/* The status a kubelet would report for a running (or finished) pod. */
static void pod_fill_status(struct sim *s, cJSON *pod, const struct sim_node *n, const char *ip,
                            int64_t t, bool done)
{
    char ts[32];
    sim_format_time(t, ts);
    cJSON_DeleteItemFromObjectCaseSensitive(pod, "status");
    cJSON *st = cJSON_AddObjectToObject(pod, "status");
    cJSON_AddStringToObject(st, "phase", done ? "Succeeded" : "Running");
    cJSON *conds = cJSON_AddArrayToObject(st, "conditions");
    cond_add(conds, "PodReadyToStartContainers", done ? "False" : "True", ts);
    cond_add(conds, "Initialized", "True", ts);
    cond_add(conds, "Ready", done ? "False" : "True", ts);
    cond_add(conds, "ContainersReady", done ? "False" : "True", ts);
    cond_add(conds, "PodScheduled", "True", ts);
    cJSON_AddStringToObject(st, "hostIP", n->ip);
    cJSON *hips = cJSON_AddArrayToObject(st, "hostIPs");
    cJSON *h = cJSON_CreateObject();
    cJSON_AddStringToObject(h, "ip", n->ip);
    cJSON_AddItemToArray(hips, h);
    if (ip) {
        cJSON_AddStringToObject(st, "podIP", ip);
        cJSON *pips = cJSON_AddArrayToObject(st, "podIPs");
        cJSON *p = cJSON_CreateObject();
        cJSON_AddStringToObject(p, "ip", ip);
        cJSON_AddItemToArray(pips, p);
    }
    cJSON_AddStringToObject(st, "startTime", ts);
    cJSON_AddStringToObject(st, "qosClass", "BestEffort");
    const cJSON *spec = jget(pod, "spec");
    const cJSON *c;
    const cJSON *inits = jget(spec, "initContainers");
    if (cJSON_GetArraySize(inits) > 0) {
        cJSON *arr = cJSON_AddArrayToObject(st, "initContainerStatuses");
        cJSON_ArrayForEach(c, inits)
        {
            bool sidecar = str_eq(sim_json_str(c, "restartPolicy"), "Always");
            cJSON_AddItemToArray(arr, container_status(s, c, ts, !sidecar || done));
        }
    }
    cJSON *arr = cJSON_AddArrayToObject(st, "containerStatuses");
    cJSON_ArrayForEach(c, jget(spec, "containers"))
        cJSON_AddItemToArray(arr, container_status(s, c, ts, done));
}

static void spec_default(cJSON *spec, const char *key, cJSON *v)
{
    if (jget(spec, key))
        cJSON_Delete(v);
    else
        cJSON_AddItemToObject(spec, key, v);
}

/* ---- pod identity: bindings, identities, MIC's assignments ----------------------------------- */

static const char *spec_str2(const cJSON *o, const char *a, const char *b)
{
    const cJSON *spec = jget(o, "spec");
    const char *v = sim_json_str(spec, a);
    return v ? v : sim_json_str(spec, b);
}

/* The binding whose selector equals the pod's aadpodidbinding label (same namespace in managed
 * mode), and its AzureIdentity (may be NULL). */
struct sim_obj *sim_pi_binding(struct sim *s, const char *ns, const char *sel,
                               struct sim_obj **identity)
{
    *identity = NULL;
    if (str_empty(sel) || !s->b_aib)
        return NULL;
    struct sim_obj *o, *tmp, *found = NULL;
    HASH_ITER(hh, s->b_aib->objs, o, tmp)
    {
        if (!str_eq(spec_str2(o->ver->json, "selector", "Selector"), sel))
            continue;
        if (s->pi_managed && !str_eq(o->ns, ns))
            continue;
        if (!found || strcmp(o->key, found->key) < 0)
            found = o;
    }
    if (found && s->b_ai) {
        const char *idname = spec_str2(found->ver->json, "azureIdentity", "AzureIdentity");
        *identity = sim_obj_find(s->b_ai, found->ns, idname);
    }
    return found;
}

static void pi_assign(struct sim *s, struct sim_obj *pod, int64_t t)
{
    if (s->pi_install == SIM_PI_NONE || s->pi_managed || !s->mic_deploy)
        return;
    const char *sel = sim_label(pod->ver->json, PI_LABEL_BINDING);
    struct sim_obj *id = NULL;
    struct sim_obj *bind = sim_pi_binding(s, pod->ns, sel, &id);
    if (!bind || !id)
        return;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "apiVersion", "aadpodidentity.k8s.io/v1");
    cJSON_AddStringToObject(o, "kind", "AzureAssignedIdentity");
    cJSON *meta = cJSON_AddObjectToObject(o, "metadata");
    char *name = xasprintf("%s-%s-%s", pod->name, pod->ns, id->name);
    cJSON_AddStringToObject(meta, "name", name);
    cJSON_AddStringToObject(meta, "namespace", "default");
    cJSON_AddStringToObject(cJSON_AddObjectToObject(meta, "labels"), "nodename", pod->node->name);
    cJSON_AddItemToObject(
        meta, "finalizers",
        cJSON_CreateStringArray(
            (const char *[]){"azureassignedidentity.finalizers.aadpodidentity.k8s.io"}, 1));
    cJSON *spec = cJSON_AddObjectToObject(o, "spec");
    cJSON_AddItemToObject(spec, "azureIdentityRef", cJSON_Duplicate(id->ver->json, true));
    cJSON_AddItemToObject(spec, "azureBindingRef", cJSON_Duplicate(bind->ver->json, true));
    cJSON_AddStringToObject(spec, "pod", pod->name);
    cJSON_AddStringToObject(spec, "podNamespace", pod->ns);
    cJSON_AddStringToObject(spec, "nodename", pod->node->name);
    cJSON_AddNumberToObject(spec, "replicas", 1);
    cJSON *st = cJSON_AddObjectToObject(o, "status");
    cJSON_AddNumberToObject(st, "availableReplicas", 1);
    cJSON_AddStringToObject(st, "status", "Assigned");
    pod->aai = sim_obj_add(s, s->b_aai, o, t);
    free(name);
    sim_logs_mic_assign(s, pod, id->ns, id->name, t);
}

/* ---- pod creation and removal ---------------------------------------------------------------- */

static bool ns_excluded(struct sim *s, const char *ns)
{
    /* the AKS Admissions Enforcer keeps every webhook away from AKS-managed namespaces */
    struct sim_obj *o = sim_obj_find(s->b_ns, NULL, ns);
    if (!o)
        return false;
    const cJSON *labels = jget(jget(o->ver->json, "metadata"), "labels");
    return jget(labels, "control-plane") ||
           str_eq(sim_json_str(labels, "kubernetes.azure.com/managedby"), "aks");
}

static void failed_create(struct sim *s, struct sim_obj *owner, const char *component,
                          const char *msg)
{
    if (!owner || !s->b_events)
        return;
    free(owner->fail_msg);
    owner->fail_msg = xstrdup(msg);
    const char *uid = sim_json_str(owner->ver->json, "metadata.uid");
    uint64_t h = 0xcbf29ce484222325ULL;
    for (const char *p = uid; p && *p; p++)
        h = (h ^ (unsigned char)*p) * 0x100000001b3ULL;
    char name[300], ts[32];
    snprintf(name, sizeof name, "%s.%016llx", owner->name, (unsigned long long)h);
    sim_format_time(ts_now(s), ts);
    struct sim_obj *ev = sim_obj_find(s->b_events, owner->ns, name);
    if (ev) {
        cJSON *j = sim_obj_edit(s, ev);
        sim_json_set_num(j, "count", json_int(j, "count", 1) + 1);
        sim_json_set_str(j, "lastTimestamp", ts);
        sim_obj_commit(s, ev, j);
        return;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "apiVersion", "v1");
    cJSON_AddStringToObject(o, "kind", "Event");
    cJSON *meta = cJSON_AddObjectToObject(o, "metadata");
    cJSON_AddStringToObject(meta, "name", name);
    cJSON_AddStringToObject(meta, "namespace", owner->ns);
    cJSON *inv = cJSON_AddObjectToObject(o, "involvedObject");
    cJSON_AddStringToObject(inv, "apiVersion", sim_json_str(owner->ver->json, "apiVersion"));
    cJSON_AddStringToObject(inv, "kind", owner->bucket->kind);
    cJSON_AddStringToObject(inv, "name", owner->name);
    cJSON_AddStringToObject(inv, "namespace", owner->ns);
    cJSON_AddStringToObject(inv, "uid", uid ? uid : "");
    cJSON_AddStringToObject(o, "reason", "FailedCreate");
    char *m = xasprintf("Error creating: %s", msg);
    cJSON_AddStringToObject(o, "message", m);
    free(m);
    cJSON_AddStringToObject(o, "type", "Warning");
    cJSON_AddNumberToObject(o, "count", 1);
    cJSON_AddStringToObject(o, "firstTimestamp", ts);
    cJSON_AddStringToObject(o, "lastTimestamp", ts);
    cJSON_AddStringToObject(cJSON_AddObjectToObject(o, "source"), "component", component);
    cJSON_AddStringToObject(o, "reportingComponent", component);
    sim_obj_add(s, s->b_events, o, ts_now(s));
}

static const char *component_of(const struct sim_obj *owner)
{
    if (!owner)
        return "kubelet";
    const char *k = owner->bucket->kind;
    if (str_eq(k, "ReplicaSet"))
        return "replicaset-controller";
    if (str_eq(k, "StatefulSet"))
        return "statefulset-controller";
    if (str_eq(k, "DaemonSet"))
        return "daemonset-controller";
    return "job-controller";
}

/* The webhook's admission, as the API server would run it for this pod. 0 = admitted. */
static int pod_admit(struct sim *s, cJSON *pod, const struct sim_obj *workload, struct idw_err *err)
{
    const char *use = sim_label(pod, WI_LABEL_USE);
    const char *ns = sim_json_str(pod, "metadata.namespace");
    if (s->mcfg.layout == MUTATE_NONE || !str_eq(use, "true") || ns_excluded(s, ns))
        return 0;
    if (workload && workload->skip_mutation)
        return 0; /* created before the webhook was there */
    if (!s->webhook_reachable) {
        idw_err_set(err,
                    "Internal error occurred: failed calling webhook \"" WI_WEBHOOK_NAME
                    "\": failed to call webhook: Post "
                    "\"https://azure-wi-webhook-webhook-service.%s.svc:443/mutate-v1-pod?"
                    "timeout=10s\": no endpoints available for service "
                    "\"azure-wi-webhook-webhook-service\"",
                    s->webhook_ns);
        return 500;
    }
    const char *sa_name = sim_json_str(pod, "spec.serviceAccountName");
    struct sim_obj *sa = sim_obj_find(s->b_sa, ns, sa_name ? sa_name : "default");
    cJSON *sa_json = sa ? cJSON_Duplicate(sa->ver->json, true) : NULL;
    if (sa_json && workload && workload->stale_sa) {
        /* the pods were admitted before the client-id annotation was added */
        cJSON *ann = (cJSON *)jget(jget(sa_json, "metadata"), "annotations");
        cJSON_DeleteItemFromObjectCaseSensitive(ann, WI_ANN_CLIENT_ID);
    }
    struct idw_err merr = {{0}};
    int rc = mutate_pod(&s->mcfg, pod, sa_json, &merr);
    cJSON_Delete(sa_json);
    if (rc != 0) {
        idw_err_set(err, "admission webhook \"" WI_WEBHOOK_NAME "\" denied the request: %s",
                    merr.msg);
        return rc;
    }
    return 0;
}

static struct sim_node *schedule(struct sim *s, uint32_t *ip, bool host_network, int64_t t)
{
    for (size_t k = 0; k < s->n_nodes; k++) {
        struct sim_node *n = &s->nodes[s->sched_next++ % s->n_nodes];
        if (host_network) {
            *ip = 0;
            return n;
        }
        uint32_t a = ip_alloc(n, t);
        if (a) {
            *ip = a;
            return n;
        }
    }
    return NULL;
}

static enum sim_role role_of(const cJSON *pod)
{
    const cJSON *c;
    cJSON_ArrayForEach(c, jget(jget(pod, "spec"), "containers"))
    {
        const char *img = sim_json_str(c, "image");
        if (img && strstr(img, "aad-pod-identity/nmi"))
            return SIM_ROLE_NMI;
        if (img && strstr(img, "aad-pod-identity/mic"))
            return SIM_ROLE_MIC;
    }
    return SIM_ROLE_APP;
}

struct pod_req {
    struct sim_obj *parent;   /* direct controller (ReplicaSet, Job, StatefulSet, DaemonSet) */
    struct sim_obj *workload; /* top-level workload, NULL for a bare pod */
    const cJSON *tmpl;        /* {metadata, spec} */
    const char *ns;
    const char *name;          /* fixed name (StatefulSet), else NULL */
    const char *generate_name; /* "<rs>-" */
    struct sim_node *node;     /* DaemonSet: this node */
    const char *extra_key[3];
    const char *extra_val[3];
    int64_t t;
    int64_t run_for_ns; /* job pods: how long they run; 0 = forever */
};

/* Builds, admits, schedules and stores one pod. NULL when admission or scheduling refused it
 * (a FailedCreate event is recorded on the owner). */
static struct sim_obj *pod_create(struct sim *s, const struct pod_req *rq, cJSON *given)
{
    cJSON *pod = given;
    if (!pod) {
        pod = cJSON_CreateObject();
        cJSON_AddStringToObject(pod, "apiVersion", "v1");
        cJSON_AddStringToObject(pod, "kind", "Pod");
        cJSON *meta = cJSON_AddObjectToObject(pod, "metadata");
        const cJSON *tmeta = jget(rq->tmpl, "metadata");
        if (rq->name)
            cJSON_AddStringToObject(meta, "name", rq->name);
        else
            cJSON_AddStringToObject(meta, "generateName", rq->generate_name);
        cJSON_AddStringToObject(meta, "namespace", rq->ns);
        cJSON *labels = jget(tmeta, "labels") ? cJSON_Duplicate(jget(tmeta, "labels"), true)
                                              : cJSON_CreateObject();
        for (int i = 0; i < 3 && rq->extra_key[i]; i++)
            sim_json_set_str(labels, rq->extra_key[i], rq->extra_val[i]);
        cJSON_AddItemToObject(meta, "labels", labels);
        if (jget(tmeta, "annotations"))
            cJSON_AddItemToObject(meta, "annotations",
                                  cJSON_Duplicate(jget(tmeta, "annotations"), true));
        if (rq->parent)
            add_owner(meta, rq->parent);
        const cJSON *tspec = jget(rq->tmpl, "spec");
        cJSON_AddItemToObject(pod, "spec",
                              tspec ? cJSON_Duplicate(tspec, true) : cJSON_CreateObject());
    }
    cJSON *spec = sim_json_obj(pod, "spec");
    const char *sa = sim_json_str(spec, "serviceAccountName");
    if (!sa)
        sa = sim_json_str(spec, "serviceAccount");
    char sa_name[256];
    snprintf(sa_name, sizeof sa_name, "%s", sa ? sa : "default");
    sim_json_set_str(spec, "serviceAccountName", sa_name);
    sim_json_set_str(spec, "serviceAccount", sa_name);
    spec_default(spec, "restartPolicy", cJSON_CreateString("Always"));
    spec_default(spec, "dnsPolicy", cJSON_CreateString("ClusterFirst"));
    spec_default(spec, "schedulerName", cJSON_CreateString("default-scheduler"));
    spec_default(spec, "terminationGracePeriodSeconds", cJSON_CreateNumber(30));
    spec_default(spec, "enableServiceLinks", cJSON_CreateBool(1));

    struct idw_err aerr = {{0}};
    if (pod_admit(s, pod, rq->workload, &aerr) != 0) {
        failed_create(s, rq->parent, component_of(rq->parent), aerr.msg);
        cJSON_Delete(pod);
        return NULL;
    }

    cJSON *meta = sim_json_obj(pod, "metadata");
    char name[320];
    if (sim_json_str(meta, "name")) {
        snprintf(name, sizeof name, "%s", sim_json_str(meta, "name"));
    } else {
        do {
            char sfx[6];
            random_suffix(s, sfx);
            snprintf(name, sizeof name, "%s%s", rq->generate_name, sfx);
        } while (sim_obj_find(s->b_pods, rq->ns, name));
        sim_json_set_str(meta, "name", name);
    }
    if (sim_obj_find(s->b_pods, sim_json_str(meta, "namespace"), name)) {
        cJSON_Delete(pod);
        return NULL;
    }

    bool host_net = cJSON_IsTrue(jget(spec, "hostNetwork"));
    uint32_t ip = 0;
    struct sim_node *node = rq->node;
    if (node) {
        if (!host_net && !(ip = ip_alloc(node, rq->t)))
            node = NULL;
    } else {
        const char *want = sim_json_str(spec, "nodeName");
        for (size_t i = 0; want && i < s->n_nodes; i++) {
            if (str_eq(s->nodes[i].name, want)) {
                node = &s->nodes[i];
                if (!host_net && !(ip = ip_alloc(node, rq->t)))
                    node = NULL;
            }
        }
        if (!want)
            node = schedule(s, &ip, host_net, rq->t);
    }
    if (!node) {
        failed_create(s, rq->parent, "default-scheduler", "0/N nodes are available: too many pods");
        cJSON_Delete(pod);
        return NULL;
    }
    sim_json_set_str(spec, "nodeName", node->name);
    char ipbuf[16];
    if (ip)
        fmt_ip(ip, ipbuf);
    bool done = rq->run_for_ns > 0 && rq->t + rq->run_for_ns <= ts_now(s);
    pod_fill_status(s, pod, node, ip ? ipbuf : node->ip, rq->t, done);

    struct sim_obj *o = sim_obj_add(s, s->b_pods, pod, rq->t);
    if (!o) {
        if (ip)
            ip_free(node, ip, rq->t);
        return NULL;
    }
    o->node = node;
    o->ip = ip;
    o->workload = rq->workload;
    o->parent = rq->parent;
    o->role = role_of(o->ver->json);
    if (rq->run_for_ns > 0)
        o->done_ns = rq->t + rq->run_for_ns;
    node->n_pods++;
    if (rq->parent) {
        free(rq->parent->fail_msg);
        rq->parent->fail_msg = NULL;
    }
    if (o->role == SIM_ROLE_NMI)
        node->nmi_pod = o;
    if (rq->workload)
        sim_kids_add(&rq->workload->pods, &rq->workload->n_pods, &rq->workload->cap_pods, o);
    if (rq->parent && rq->parent != rq->workload)
        sim_kids_add(&rq->parent->kids, &rq->parent->n_kids, &rq->parent->cap_kids, o);
    sim_logs_pod_started(s, o);
    pi_assign(s, o, rq->t);
    return o;
}

struct sim_obj *sim_pod_create_bare(struct sim *s, cJSON *json, int64_t created_ns,
                                    struct idw_err *err)
{
    struct pod_req rq = {.ns = sim_json_str(json, "metadata.namespace"), .t = created_ns};
    struct sim_obj *o = pod_create(s, &rq, json);
    if (!o)
        idw_err_set(err, "pod could not be created (admission refused it or no node had room)");
    return o;
}

void sim_pod_remove(struct sim *s, struct sim_obj *pod)
{
    if (pod->node) {
        if (pod->ip)
            ip_free(pod->node, pod->ip, ts_now(s));
        pod->node->n_pods--;
        if (pod->node->nmi_pod == pod)
            pod->node->nmi_pod = NULL;
    }
    if (pod->workload)
        sim_kids_del(pod->workload->pods, &pod->workload->n_pods, pod);
    if (pod->parent && pod->parent != pod->workload)
        sim_kids_del(pod->parent->kids, &pod->parent->n_kids, pod);
    if (pod->aai)
        sim_obj_delete(s, pod->aai);
    sim_obj_delete(s, pod);
}

/* ---- status helpers -------------------------------------------------------------------------- */

static int pods_ready(struct sim_obj **pods, size_t n, int64_t now)
{
    int k = 0;
    for (size_t i = 0; i < n; i++)
        if (!pods[i]->done_ns || pods[i]->done_ns > now)
            k++;
    return k;
}

static int64_t initial_time(struct sim *s, const struct sim_obj *w)
{
    if (!s->loading)
        return ts_now(s);
    int64_t age = w && w->pod_age_ns ? w->pod_age_ns : 2 * 86400 * SIM_NS_PER_S;
    return ts_now(s) - age;
}

static int replicas_of(const cJSON *j)
{
    int r = json_int(jget(j, "spec"), "replicas", 1);
    return r < 0 ? 0 : r;
}

static void set_cond(cJSON *conds, const char *type, const char *status, const char *reason,
                     const char *msg, const char *ts)
{
    cJSON *c = cJSON_CreateObject();
    cJSON_AddStringToObject(c, "type", type);
    cJSON_AddStringToObject(c, "status", status);
    cJSON_AddStringToObject(c, "reason", reason);
    cJSON_AddStringToObject(c, "message", msg);
    cJSON_AddStringToObject(c, "lastUpdateTime", ts);
    cJSON_AddStringToObject(c, "lastTransitionTime", ts);
    cJSON_AddItemToArray(conds, c);
}

static void rs_status(struct sim *s, struct sim_obj *rs)
{
    cJSON *j = sim_obj_edit(s, rs);
    cJSON_DeleteItemFromObjectCaseSensitive(j, "status");
    cJSON *st = cJSON_AddObjectToObject(j, "status");
    int n = (int)rs->n_kids;
    cJSON_AddNumberToObject(st, "replicas", n);
    cJSON_AddNumberToObject(st, "fullyLabeledReplicas", n);
    cJSON_AddNumberToObject(st, "readyReplicas", n);
    cJSON_AddNumberToObject(st, "availableReplicas", n);
    cJSON_AddNumberToObject(st, "observedGeneration",
                            json_int(jget(j, "metadata"), "generation", 1));
    sim_obj_commit(s, rs, j);
}

static void deploy_status(struct sim *s, struct sim_obj *d, struct sim_obj *cur_rs)
{
    cJSON *j = sim_obj_edit(s, d);
    int want = replicas_of(j);
    int total = (int)d->n_pods;
    int updated = cur_rs ? (int)cur_rs->n_kids : 0;
    char ts[32], msg[512];
    sim_format_time(ts_now(s), ts);
    cJSON_DeleteItemFromObjectCaseSensitive(j, "status");
    cJSON *st = cJSON_AddObjectToObject(j, "status");
    cJSON_AddNumberToObject(st, "observedGeneration",
                            json_int(jget(j, "metadata"), "generation", 1));
    cJSON_AddNumberToObject(st, "replicas", total);
    cJSON_AddNumberToObject(st, "updatedReplicas", updated);
    cJSON_AddNumberToObject(st, "readyReplicas", total);
    cJSON_AddNumberToObject(st, "availableReplicas", total);
    if (want > total)
        cJSON_AddNumberToObject(st, "unavailableReplicas", want - total);
    cJSON *conds = cJSON_AddArrayToObject(st, "conditions");
    if (total >= want)
        set_cond(conds, "Available", "True", "MinimumReplicasAvailable",
                 "Deployment has minimum availability.", ts);
    else
        set_cond(conds, "Available", "False", "MinimumReplicasUnavailable",
                 "Deployment does not have minimum availability.", ts);
    if (cur_rs && updated < want && cur_rs->fail_msg)
        set_cond(conds, "ReplicaFailure", "True", "FailedCreate", cur_rs->fail_msg, ts);
    snprintf(msg, sizeof msg, "ReplicaSet \"%s\" has successfully progressed.",
             cur_rs ? cur_rs->name : d->name);
    set_cond(conds, "Progressing", "True", "NewReplicaSetAvailable", msg, ts);
    sim_obj_commit(s, d, j);
}

/* ---- Deployment -> ReplicaSet -> Pod --------------------------------------------------------- */

static void scale_pods(struct sim *s, struct sim_obj *owner, struct sim_obj ***pods, size_t *n,
                       int want, const struct pod_req *base)
{
    while ((int)*n > want)
        sim_pod_remove(s, (*pods)[*n - 1]);
    while ((int)*n < want) {
        size_t before = *n;
        if (!pod_create(s, base, NULL) || *n == before)
            break;
    }
    (void)owner;
}

static cJSON *rs_object(struct sim_obj *d, const cJSON *dj, const char *name, const char *hash,
                        int revision, int replicas)
{
    const cJSON *dspec = jget(dj, "spec");
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "apiVersion", "apps/v1");
    cJSON_AddStringToObject(o, "kind", "ReplicaSet");
    cJSON *meta = cJSON_AddObjectToObject(o, "metadata");
    cJSON_AddStringToObject(meta, "name", name);
    cJSON_AddStringToObject(meta, "namespace", d->ns);
    const cJSON *tl = jget(jget(jget(dspec, "template"), "metadata"), "labels");
    cJSON *labels = tl ? cJSON_Duplicate(tl, true) : cJSON_CreateObject();
    sim_json_set_str(labels, "pod-template-hash", hash);
    cJSON_AddItemToObject(meta, "labels", labels);
    cJSON *ann = cJSON_AddObjectToObject(meta, "annotations");
    char buf[24];
    snprintf(buf, sizeof buf, "%d", replicas);
    cJSON_AddStringToObject(ann, "deployment.kubernetes.io/desired-replicas", buf);
    cJSON_AddStringToObject(ann, "deployment.kubernetes.io/max-replicas", buf);
    snprintf(buf, sizeof buf, "%d", revision);
    cJSON_AddStringToObject(ann, "deployment.kubernetes.io/revision", buf);
    add_owner(meta, d);
    cJSON *spec = cJSON_AddObjectToObject(o, "spec");
    cJSON_AddNumberToObject(spec, "replicas", replicas);
    cJSON *sel = jget(dspec, "selector") ? cJSON_Duplicate(jget(dspec, "selector"), true)
                                         : cJSON_CreateObject();
    sim_json_set_str(sim_json_obj(sel, "matchLabels"), "pod-template-hash", hash);
    cJSON_AddItemToObject(spec, "selector", sel);
    cJSON *tmpl = jget(dspec, "template") ? cJSON_Duplicate(jget(dspec, "template"), true)
                                          : cJSON_CreateObject();
    sim_json_set_str(sim_json_obj(sim_json_obj(tmpl, "metadata"), "labels"), "pod-template-hash",
                     hash);
    cJSON_AddItemToObject(spec, "template", tmpl);
    return o;
}

static void rs_set_replicas(struct sim *s, struct sim_obj *rs, int replicas)
{
    cJSON *j = sim_obj_edit(s, rs);
    if (json_int(jget(j, "spec"), "replicas", -1) == replicas) {
        sim_obj_abort(rs, j);
        return;
    }
    sim_json_set_num(sim_json_obj(j, "spec"), "replicas", replicas);
    sim_obj_commit(s, rs, j);
}

static void deploy_reconcile(struct sim *s, struct sim_obj *d)
{
    const cJSON *dj = d->ver->json;
    const cJSON *tmpl = jget(jget(dj, "spec"), "template");
    int want = replicas_of(dj);
    char hash[11];
    template_hash(tmpl, hash);
    char *rsname = xasprintf("%s-%s", d->name, hash);
    struct sim_obj *cur = NULL;
    int maxrev = 0;
    for (size_t i = 0; i < d->n_kids; i++) {
        if (str_eq(d->kids[i]->name, rsname))
            cur = d->kids[i];
        if (d->kids[i]->revision > maxrev)
            maxrev = d->kids[i]->revision;
    }
    if (!cur) {
        cJSON *o = rs_object(d, dj, rsname, hash, maxrev + 1, want);
        cur = sim_obj_add(s, s->b_rs, o, s->loading ? initial_time(s, d) : ts_now(s));
        if (!cur) {
            free(rsname);
            return;
        }
        cur->workload = d;
        cur->parent = d;
        sim_kids_add(&d->kids, &d->n_kids, &d->cap_kids, cur);
    }
    cur->revision = cur->revision ? cur->revision : maxrev + 1;
    if (cur->revision <= maxrev && d->n_kids > 1) {
        /* rolled back to an older template: it becomes the newest revision */
        cur->revision = maxrev + 1;
        cJSON *j = sim_obj_edit(s, cur);
        char buf[24];
        snprintf(buf, sizeof buf, "%d", cur->revision);
        sim_json_set_str(sim_json_obj(sim_json_obj(j, "metadata"), "annotations"),
                         "deployment.kubernetes.io/revision", buf);
        sim_obj_commit(s, cur, j);
    }
    free(rsname);
    /* the old ReplicaSets go to zero at once (a rollout that finished instantly) */
    for (size_t i = 0; i < d->n_kids; i++) {
        struct sim_obj *rs = d->kids[i];
        if (rs == cur)
            continue;
        while (rs->n_kids)
            sim_pod_remove(s, rs->kids[rs->n_kids - 1]);
        rs_set_replicas(s, rs, 0);
        rs_status(s, rs);
    }
    /* keep a short revision history */
    while (d->n_kids > 4) {
        struct sim_obj *old = NULL;
        for (size_t i = 0; i < d->n_kids; i++)
            if (d->kids[i] != cur && (!old || d->kids[i]->revision < old->revision))
                old = d->kids[i];
        sim_kids_del(d->kids, &d->n_kids, old);
        sim_obj_delete(s, old);
    }
    rs_set_replicas(s, cur, want);
    struct pod_req rq = {.parent = cur,
                         .workload = d,
                         .tmpl = jget(jget(cur->ver->json, "spec"), "template"),
                         .ns = d->ns,
                         .t = initial_time(s, d)};
    char *gen = xasprintf("%s-", cur->name);
    rq.generate_name = gen;
    scale_pods(s, cur, &cur->kids, &cur->n_kids, want, &rq);
    free(gen);
    rs_status(s, cur);
    deploy_status(s, d, cur);
}

/* ---- StatefulSet ----------------------------------------------------------------------------- */

static void sts_status(struct sim *s, struct sim_obj *w, const char *rev)
{
    cJSON *j = sim_obj_edit(s, w);
    int n = (int)w->n_pods;
    cJSON_DeleteItemFromObjectCaseSensitive(j, "status");
    cJSON *st = cJSON_AddObjectToObject(j, "status");
    cJSON_AddNumberToObject(st, "observedGeneration",
                            json_int(jget(j, "metadata"), "generation", 1));
    cJSON_AddNumberToObject(st, "replicas", n);
    cJSON_AddNumberToObject(st, "readyReplicas", n);
    cJSON_AddNumberToObject(st, "currentReplicas", n);
    cJSON_AddNumberToObject(st, "updatedReplicas", n);
    cJSON_AddNumberToObject(st, "availableReplicas", n);
    cJSON_AddStringToObject(st, "currentRevision", rev);
    cJSON_AddStringToObject(st, "updateRevision", rev);
    cJSON_AddNumberToObject(st, "collisionCount", 0);
    sim_obj_commit(s, w, j);
}

static void sts_reconcile(struct sim *s, struct sim_obj *w, bool rolled)
{
    const cJSON *tmpl = jget(jget(w->ver->json, "spec"), "template");
    int want = replicas_of(w->ver->json);
    char hash[11];
    template_hash(tmpl, hash);
    char *rev = xasprintf("%s-%s", w->name, hash);
    if (rolled) /* ordered recreation: same names, new uids and IPs */
        while (w->n_pods)
            sim_pod_remove(s, w->pods[w->n_pods - 1]);
    for (size_t i = w->n_pods; i-- > 0;) {
        const char *nm = w->pods[i]->name;
        const char *dash = strrchr(nm, '-');
        if (dash && atoi(dash + 1) >= want)
            sim_pod_remove(s, w->pods[i]);
    }
    for (int i = 0; i < want; i++) {
        char name[300], idx[16];
        snprintf(name, sizeof name, "%s-%d", w->name, i);
        snprintf(idx, sizeof idx, "%d", i);
        if (sim_obj_find(s->b_pods, w->ns, name))
            continue;
        struct pod_req rq = {.parent = w,
                             .workload = w,
                             .tmpl = tmpl,
                             .ns = w->ns,
                             .name = name,
                             .extra_key = {"controller-revision-hash",
                                           "statefulset.kubernetes.io/pod-name",
                                           "apps.kubernetes.io/pod-index"},
                             .extra_val = {rev, name, idx},
                             .t = initial_time(s, w)};
        if (!pod_create(s, &rq, NULL))
            break;
    }
    sts_status(s, w, rev);
    free(rev);
}

/* ---- DaemonSet ------------------------------------------------------------------------------- */

static void ds_status(struct sim *s, struct sim_obj *w)
{
    cJSON *j = sim_obj_edit(s, w);
    int n = (int)w->n_pods;
    cJSON_DeleteItemFromObjectCaseSensitive(j, "status");
    cJSON *st = cJSON_AddObjectToObject(j, "status");
    cJSON_AddNumberToObject(st, "currentNumberScheduled", n);
    cJSON_AddNumberToObject(st, "desiredNumberScheduled", (double)s->n_nodes);
    cJSON_AddNumberToObject(st, "numberAvailable", n);
    cJSON_AddNumberToObject(st, "numberMisscheduled", 0);
    cJSON_AddNumberToObject(st, "numberReady", n);
    if ((size_t)n < s->n_nodes)
        cJSON_AddNumberToObject(st, "numberUnavailable", (double)(s->n_nodes - (size_t)n));
    cJSON_AddNumberToObject(st, "observedGeneration",
                            json_int(jget(j, "metadata"), "generation", 1));
    cJSON_AddNumberToObject(st, "updatedNumberScheduled", n);
    sim_obj_commit(s, w, j);
}

static void ds_reconcile(struct sim *s, struct sim_obj *w, bool rolled)
{
    const cJSON *tmpl = jget(jget(w->ver->json, "spec"), "template");
    char hash[11], gen[24];
    template_hash(tmpl, hash);
    snprintf(gen, sizeof gen, "%d", json_int(jget(w->ver->json, "metadata"), "generation", 1));
    if (rolled)
        while (w->n_pods)
            sim_pod_remove(s, w->pods[w->n_pods - 1]);
    char *prefix = xasprintf("%s-", w->name);
    for (size_t k = 0; k < s->n_nodes; k++) {
        struct sim_node *n = &s->nodes[k];
        bool have = false;
        for (size_t i = 0; i < w->n_pods && !have; i++)
            have = w->pods[i]->node == n;
        if (have)
            continue;
        struct pod_req rq = {.parent = w,
                             .workload = w,
                             .tmpl = tmpl,
                             .ns = w->ns,
                             .generate_name = prefix,
                             .node = n,
                             .extra_key = {"controller-revision-hash", "pod-template-generation"},
                             .extra_val = {hash, gen},
                             .t = initial_time(s, w)};
        pod_create(s, &rq, NULL);
    }
    free(prefix);
    ds_status(s, w);
}

/* ---- CronJob -> Job -> Pod ------------------------------------------------------------------- */

/* "every N minutes" reading of a cron string: every N minutes when the minute field is a step,
 * hourly for "M * * * *", every H hours for a step in the hour field, else daily. */
static int64_t cron_period(const char *sched)
{
    char f[5][32] = {{0}};
    if (!sched || sscanf(sched, "%31s %31s %31s %31s %31s", f[0], f[1], f[2], f[3], f[4]) < 2)
        return 3600 * SIM_NS_PER_S;
    int64_t min = 60 * SIM_NS_PER_S;
    if (str_has_prefix(f[0], "*/") && atoi(f[0] + 2) > 0)
        return atoi(f[0] + 2) * min;
    if (str_eq(f[0], "*"))
        return min;
    if (str_eq(f[1], "*"))
        return 60 * min;
    if (str_has_prefix(f[1], "*/") && atoi(f[1] + 2) > 0)
        return atoi(f[1] + 2) * 60 * min;
    return 1440 * min;
}

static void job_status(struct sim *s, struct sim_obj *job)
{
    cJSON *j = sim_obj_edit(s, job);
    int64_t now = ts_now(s);
    int active = pods_ready(job->kids, job->n_kids, now);
    int done = (int)job->n_kids - active;
    char start[32], end[32];
    sim_format_time(job->created_ns, start);
    cJSON_DeleteItemFromObjectCaseSensitive(j, "status");
    cJSON *st = cJSON_AddObjectToObject(j, "status");
    cJSON_AddStringToObject(st, "startTime", start);
    if (active)
        cJSON_AddNumberToObject(st, "active", active);
    cJSON_AddNumberToObject(st, "ready", active);
    if (done) {
        sim_format_time(job->kids[0]->done_ns, end);
        cJSON_AddNumberToObject(st, "succeeded", done);
        cJSON_AddStringToObject(st, "completionTime", end);
        cJSON *conds = cJSON_AddArrayToObject(st, "conditions");
        cJSON *c = cJSON_CreateObject();
        cJSON_AddStringToObject(c, "type", "Complete");
        cJSON_AddStringToObject(c, "status", "True");
        cJSON_AddStringToObject(c, "lastProbeTime", end);
        cJSON_AddStringToObject(c, "lastTransitionTime", end);
        cJSON_AddItemToArray(conds, c);
    }
    sim_obj_commit(s, job, j);
}

static int64_t job_runtime(const struct sim_obj *cj)
{
    int64_t r = cj && cj->period_ns ? cj->period_ns / 2 : 60 * SIM_NS_PER_S;
    return r > 60 * SIM_NS_PER_S ? 60 * SIM_NS_PER_S : r;
}

static void job_start_pods(struct sim *s, struct sim_obj *job, struct sim_obj *w, int64_t t)
{
    const cJSON *tmpl = jget(jget(job->ver->json, "spec"), "template");
    char *prefix = xasprintf("%s-", job->name);
    const char *uid = sim_json_str(job->ver->json, "metadata.uid");
    struct pod_req rq = {
        .parent = job,
        .workload = w,
        .tmpl = tmpl,
        .ns = job->ns,
        .generate_name = prefix,
        .extra_key = {"batch.kubernetes.io/controller-uid", "batch.kubernetes.io/job-name"},
        .extra_val = {uid, job->name},
        .t = t,
        .run_for_ns = job_runtime(w != job ? w : NULL)};
    pod_create(s, &rq, NULL);
    free(prefix);
    job_status(s, job);
}

static void cron_spawn(struct sim *s, struct sim_obj *cj, int64_t t)
{
    const cJSON *jt = jget(jget(cj->ver->json, "spec"), "jobTemplate");
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "apiVersion", "batch/v1");
    cJSON_AddStringToObject(o, "kind", "Job");
    cJSON *meta = cJSON_AddObjectToObject(o, "metadata");
    char name[300];
    snprintf(name, sizeof name, "%s-%lld", cj->name, (long long)(t / (60 * SIM_NS_PER_S)));
    cJSON_AddStringToObject(meta, "name", name);
    cJSON_AddStringToObject(meta, "namespace", cj->ns);
    const cJSON *jl = jget(jget(jt, "metadata"), "labels");
    if (jl)
        cJSON_AddItemToObject(meta, "labels", cJSON_Duplicate(jl, true));
    add_owner(meta, cj);
    const cJSON *jspec = jget(jt, "spec");
    cJSON *spec = jspec ? cJSON_Duplicate(jspec, true) : cJSON_CreateObject();
    spec_default(spec, "completions", cJSON_CreateNumber(1));
    spec_default(spec, "parallelism", cJSON_CreateNumber(1));
    spec_default(spec, "backoffLimit", cJSON_CreateNumber(6));
    cJSON_AddItemToObject(o, "spec", spec);
    struct sim_obj *job = sim_obj_add(s, s->b_job, o, t);
    if (!job)
        return;
    job->workload = cj;
    job->parent = cj;
    sim_kids_add(&cj->kids, &cj->n_kids, &cj->cap_kids, job);
    job_start_pods(s, job, cj, t);
    /* successfulJobsHistoryLimit: 3 */
    while (cj->n_kids > 3) {
        struct sim_obj *old = cj->kids[0];
        while (old->n_kids)
            sim_pod_remove(s, old->kids[old->n_kids - 1]);
        sim_kids_del(cj->kids, &cj->n_kids, old);
        sim_obj_delete(s, old);
    }
    cJSON *j = sim_obj_edit(s, cj);
    char ts[32];
    sim_format_time(t, ts);
    cJSON *st = sim_json_obj(j, "status");
    sim_json_set_str(st, "lastScheduleTime", ts);
    sim_obj_commit(s, cj, j);
}

/* Finishes job pods whose run time is over. */
static void cron_settle(struct sim *s, struct sim_obj *cj, int64_t now)
{
    for (size_t k = 0; k < cj->n_kids; k++) {
        struct sim_obj *job = cj->kids[k];
        bool changed = false;
        for (size_t i = 0; i < job->n_kids; i++) {
            struct sim_obj *p = job->kids[i];
            if (!p->done_ns || p->done_ns > now ||
                str_eq(sim_json_str(p->ver->json, "status.phase"), "Succeeded"))
                continue;
            cJSON *j = sim_obj_edit(s, p);
            char ip[16];
            if (p->ip)
                fmt_ip(p->ip, ip);
            pod_fill_status(s, j, p->node, p->ip ? ip : p->node->ip, p->done_ns, true);
            sim_obj_commit(s, p, j);
            changed = true;
            if (p->ip) { /* a finished pod gives its IP back */
                ip_free(p->node, p->ip, p->done_ns);
                p->ip = 0;
            }
        }
        if (changed) {
            job_status(s, job);
            cJSON *j = sim_obj_edit(s, cj);
            char ts[32];
            sim_format_time(job->kids[0]->done_ns, ts);
            sim_json_set_str(sim_json_obj(j, "status"), "lastSuccessfulTime", ts);
            sim_obj_commit(s, cj, j);
        }
    }
}

static void cron_reconcile(struct sim *s, struct sim_obj *cj)
{
    cj->period_ns = cron_period(sim_json_str(cj->ver->json, "spec.schedule"));
    int64_t now = ts_now(s);
    if (!cj->next_run_ns) {
        bool listed = false;
        for (size_t i = 0; i < s->n_cronjobs; i++)
            listed |= s->cronjobs[i] == cj;
        if (!listed)
            sim_kids_add(&s->cronjobs, &s->n_cronjobs, &s->cap_cronjobs, cj);
        int64_t last = now / cj->period_ns * cj->period_ns;
        bool suspended = cJSON_IsTrue(jget(jget(cj->ver->json, "spec"), "suspend"));
        /* the last three runs already happened */
        for (int k = 2; k >= 0 && !suspended; k--) {
            int64_t t = last - k * cj->period_ns;
            if (t > cj->created_ns)
                cron_spawn(s, cj, t);
        }
        cron_settle(s, cj, now);
        cj->next_run_ns = last + cj->period_ns;
    }
}

static void job_reconcile(struct sim *s, struct sim_obj *job)
{
    if (job->n_kids == 0 && !job->next_run_ns) {
        job->next_run_ns = 1; /* a Job runs once */
        job_start_pods(s, job, job, initial_time(s, job));
    }
}

void sim_ctrl_reconcile(struct sim *s, struct sim_obj *o, bool template_changed)
{
    const char *kind = o->bucket->kind;
    if (str_eq(kind, "Deployment"))
        deploy_reconcile(s, o);
    else if (str_eq(kind, "StatefulSet"))
        sts_reconcile(s, o, template_changed);
    else if (str_eq(kind, "DaemonSet"))
        ds_reconcile(s, o, template_changed);
    else if (str_eq(kind, "CronJob"))
        cron_reconcile(s, o);
    else if (str_eq(kind, "Job") && !o->parent)
        job_reconcile(s, o);
}

/* ---- time: churn, schedules, traffic --------------------------------------------------------- */

static struct sim_obj *find_workload(struct sim *s, const char *kind, const char *ns,
                                     const char *name)
{
    for (struct sim_bucket *b = s->buckets; b; b = b->next)
        if (str_eq(b->kind, kind))
            return sim_obj_find(b, ns, name);
    return NULL;
}

static void churn_apply(struct sim *s, struct sim_churn *c)
{
    struct sim_obj *w = find_workload(s, c->kind, c->ns, c->name);
    if (!w)
        return;
    char ts[32];
    sim_format_time(ts_now(s), ts);
    cJSON *patch = cJSON_CreateObject();
    cJSON *meta =
        c->on_template
            ? sim_json_obj(sim_json_obj(sim_json_obj(patch, "spec"), "template"), "metadata")
            : sim_json_obj(patch, "metadata");
    switch (c->action) {
    case SIM_CHURN_RESTART:
        meta = sim_json_obj(sim_json_obj(sim_json_obj(patch, "spec"), "template"), "metadata");
        sim_json_set_str(sim_json_obj(meta, "annotations"), K8S_ANN_RESTARTED_AT, ts);
        break;
    case SIM_CHURN_SCALE:
        if (c->n_replicas)
            sim_json_set_num(sim_json_obj(patch, "spec"), "replicas",
                             c->replicas[c->step % c->n_replicas]);
        break;
    case SIM_CHURN_LABEL:
    case SIM_CHURN_ANNOTATE: {
        const char *where = c->action == SIM_CHURN_LABEL ? "labels" : "annotations";
        const cJSON *cur_meta = c->on_template
                                    ? jget(jget(jget(w->ver->json, "spec"), "template"), "metadata")
                                    : jget(w->ver->json, "metadata");
        bool present = jget(jget(cur_meta, where), c->key) != NULL;
        cJSON *m = sim_json_obj(meta, where);
        if (present)
            cJSON_AddNullToObject(m, c->key);
        else
            cJSON_AddStringToObject(m, c->key, c->value ? c->value : "true");
        break;
    }
    }
    c->step++;
    const struct sim_resource *r = NULL;
    for (size_t i = 0; i < sim_resource_count() && !r; i++)
        if (str_eq(sim_resource_at(i)->kind, c->kind))
            r = sim_resource_at(i);
    if (r) {
        cJSON *res = NULL;
        struct idw_err err;
        sim_patch(s, r, c->ns, c->name, PATCH_MERGE, patch, false, "idwatch-sim-churn", &res, &err);
        cJSON_Delete(res);
    }
    cJSON_Delete(patch);
}

static enum loggen_outcome pick_outcome(struct sim *s, const struct sim_traffic *tr)
{
    double sum = 0;
    for (int i = 0; i < SIM_OUT_N; i++)
        sum += tr->weights[i];
    double x = sim_rand01(s) * sum;
    for (int i = 0; i < SIM_OUT_N; i++) {
        if (x < tr->weights[i])
            return (enum loggen_outcome)i;
        x -= tr->weights[i];
    }
    return LOGGEN_OK;
}

static void traffic_fire(struct sim *s, struct sim_traffic *tr, int64_t t)
{
    struct sim_obj *w = find_workload(s, tr->kind, tr->ns, tr->name);
    if (!w) { /* a bare pod */
        w = sim_obj_find(s->b_pods, tr->ns, tr->name);
        if (!w || !str_eq(tr->kind, "Pod"))
            return;
        if (w->created_ns <= t)
            sim_logs_nmi_request(s, w, pick_outcome(s, tr), tr->resource, t);
        return;
    }
    size_t live = 0;
    struct sim_obj *pick = NULL;
    /* reservoir pick among the pods alive at t */
    for (size_t i = 0; i < w->n_pods; i++) {
        struct sim_obj *p = w->pods[i];
        if (p->created_ns > t || (p->done_ns && p->done_ns <= t) || !p->ip)
            continue;
        if (sim_rand(s) % ++live == 0)
            pick = p;
    }
    if (pick)
        sim_logs_nmi_request(s, pick, pick_outcome(s, tr), tr->resource, t);
}

void sim_ctrl_advance(struct sim *s, int64_t now)
{
    uint64_t before = s->changes;
    /* everything that happened since the last tick, in scenario time */
    for (size_t i = 0; i < s->n_churn; i++) {
        struct sim_churn *c = &s->churn[i];
        while (c->every_ns > 0 && c->next_ns <= now) {
            s->now_ns = c->next_ns;
            churn_apply(s, c);
            c->next_ns += c->every_ns;
        }
    }
    for (size_t i = 0; i < s->n_cronjobs; i++) {
        struct sim_obj *cj = s->cronjobs[i];
        bool suspended = cJSON_IsTrue(jget(jget(cj->ver->json, "spec"), "suspend"));
        while (cj->period_ns > 0 && cj->next_run_ns <= now) {
            s->now_ns = cj->next_run_ns;
            if (!suspended)
                cron_spawn(s, cj, cj->next_run_ns);
            cron_settle(s, cj, cj->next_run_ns);
            cj->next_run_ns += cj->period_ns;
        }
    }
    s->now_ns = now;
    for (size_t i = 0; i < s->n_cronjobs; i++)
        cron_settle(s, s->cronjobs[i], now);
    for (size_t i = 0; i < s->n_traffic; i++) {
        struct sim_traffic *tr = &s->traffic[i];
        if (tr->per_minute <= 0)
            continue;
        double gap_s = 60.0 / tr->per_minute;
        while (tr->next_ns <= now) {
            traffic_fire(s, tr, tr->next_ns);
            double jitter = 0.7 + 0.6 * sim_rand01(s);
            int64_t step = (int64_t)(gap_s * jitter * 1e9);
            tr->next_ns += step > 0 ? step : 1;
        }
    }
    if (s->changes != before)
        pthread_cond_broadcast(&s->cv);
}
