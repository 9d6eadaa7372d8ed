/* state_logs: container logs of the simulated pods. NMI pods carry loggen's lines for the token
 * requests of pods on their node, the MIC leader carries its assignments, other containers get a
 * few plain lines made on demand. Every log is bounded (SIM_LOG_MAX lines). */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "state_internal.h"

#define SIM_APP_HEARTBEAT_NS (600LL * SIM_NS_PER_S)

/* ---- bounded, time-ordered line store -------------------------------------------------------- */

void sim_log_append(struct sim_logv *l, int64_t t, const char *text, size_t len)
{
    xgrow((void **)&l->lines, &l->cap, l->n + 1, sizeof *l->lines);
    size_t at = l->n;
    if (l->n > l->head && l->lines[l->n - 1].time_ns > t) {
        /* an older line (back-filled history): keep the order by time */
        size_t a = l->head, z = l->n;
        while (a < z) {
            size_t m = (a + z) / 2;
            if (l->lines[m].time_ns <= t)
                a = m + 1;
            else
                z = m;
        }
        at = a;
        memmove(l->lines + at + 1, l->lines + at, (l->n - at) * sizeof *l->lines);
    }
    l->lines[at] = (struct sim_log_line){.time_ns = t, .text = xstrndup(text, len)};
    l->n++;
    while (l->n - l->head > SIM_LOG_MAX)
        free((char *)l->lines[l->head++].text);
    if (l->head > SIM_LOG_MAX) {
        memmove(l->lines, l->lines + l->head, (l->n - l->head) * sizeof *l->lines);
        l->n -= l->head;
        l->head = 0;
    }
}

void sim_log_append_buf(struct sim_logv *l, int64_t t, const char *text)
{
    while (text && *text) {
        const char *nl = strchr(text, '\n');
        size_t len = nl ? (size_t)(nl - text) : strlen(text);
        if (len)
            sim_log_append(l, t, text, len);
        text += len + (nl ? 1 : 0);
    }
}

void sim_logv_free(struct sim_logv *l)
{
    for (size_t i = l->head; i < l->n; i++)
        free((char *)l->lines[i].text);
    free(l->lines);
    memset(l, 0, sizeof *l);
}

void sim_pod_logs_free(struct sim_obj *pod)
{
    for (size_t i = 0; i < pod->n_logs; i++) {
        sim_logv_free(&pod->logs[i].log);
        free(pod->logs[i].container);
    }
    free(pod->logs);
    pod->logs = NULL;
    pod->n_logs = 0;
}

struct sim_clog *sim_pod_clog(struct sim *s, struct sim_obj *pod, const char *container)
{
    (void)s;
    for (size_t i = 0; i < pod->n_logs; i++)
        if (str_eq(pod->logs[i].container, container))
            return &pod->logs[i];
    pod->logs = xrealloc(pod->logs, (pod->n_logs + 1) * sizeof *pod->logs);
    struct sim_clog *c = &pod->logs[pod->n_logs++];
    memset(c, 0, sizeof *c);
    c->container = xstrdup(container);
    return c;
}

static const char *first_container(const struct sim_obj *pod)
{
    const cJSON *cs = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(pod->ver->json, "spec"), "containers");
    const char *n = sim_json_str(cJSON_GetArrayItem(cs, 0), "name");
    return n ? n : "";
}

/* "I1129 10:00:00.123456       1 file.go:12] msg" */
static void klog_line(struct idw_buf *b, char level, int64_t t, const char *where, const char *msg)
{
    time_t sec = (time_t)(t / SIM_NS_PER_S);
    struct tm tm;
    gmtime_r(&sec, &tm);
    buf_printf(b, "%c%02d%02d %02d:%02d:%02d.%06ld       1 %s] %s\n", level, tm.tm_mon + 1,
               tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (long)((t % SIM_NS_PER_S) / 1000),
               where, msg);
}

static void mic_startup(struct sim *s, struct sim_obj *pod, int64_t t)
{
    struct idw_buf b = {0};
    char msg[256];
    snprintf(msg, sizeof msg, "starting mic process. Version: %s. Build date: 2023-06-16-18:47.",
             s->pi_version ? s->pi_version : "v1.8.17");
    klog_line(&b, 'I', t, "main.go:114", msg);
    klog_line(&b, 'I', t + 1000000, "mic.go:346",
              "MIC using user assigned identity: 5cd4##### REDACTED #####9f1a for authentication.");
    klog_line(&b, 'I', t + 2000000, "mic.go:397", "initiating MIC Leader election");
    klog_line(&b, 'I', t + 3000000, "leaderelection.go:248",
              "attempting to acquire leader lease default/aad-pod-identity-mic...");
    sim_log_append_buf(&sim_pod_clog(s, pod, first_container(pod))->log, t, b.data);
    buf_free(&b);
}

void sim_logs_pod_started(struct sim *s, struct sim_obj *pod)
{
    int64_t t = pod->created_ns + 2 * SIM_NS_PER_S;
    if (pod->role == SIM_ROLE_NMI) {
        struct idw_buf b = {0};
        loggen_nmi_startup(s->pi_era, t / SIM_NS_PER_S, s->pi_managed, &b);
        sim_log_append_buf(&sim_pod_clog(s, pod, first_container(pod))->log, t, b.data);
        buf_free(&b);
        s->changes++;
    } else if (pod->role == SIM_ROLE_MIC) {
        mic_startup(s, pod, t);
        s->changes++;
    }
}

static struct sim_obj *mic_leader(struct sim *s)
{
    if (!s->mic_deploy || s->mic_deploy->n_pods == 0)
        return NULL;
    return s->mic_deploy->pods[0];
}

void sim_logs_mic_assign(struct sim *s, struct sim_obj *pod, const char *id_ns, const char *id_name,
                         int64_t t)
{
    struct sim_obj *mic = mic_leader(s);
    if (!mic)
        return;
    struct idw_buf b = {0};
    int64_t when = t + 3 * SIM_NS_PER_S; /* MIC's next cycle */
    loggen_mic_assign(when / SIM_NS_PER_S, pod->ns, pod->name, id_ns, id_name, pod->node->name, &b);
    sim_log_append_buf(&sim_pod_clog(s, mic, first_container(mic))->log, when, b.data);
    buf_free(&b);
    s->changes++;
}

void sim_logs_nmi_request(struct sim *s, struct sim_obj *from, enum loggen_outcome outcome,
                          const char *resource, int64_t t)
{
    struct sim_obj *nmi = from->node ? from->node->nmi_pod : NULL;
    if (!nmi || nmi->created_ns > t)
        return;
    const char *sel = sim_label(from->ver->json, PI_LABEL_BINDING);
    struct sim_obj *id = NULL;
    struct sim_obj *bind = sim_pi_binding(s, from->ns, sel, &id);
    const cJSON *idspec = id ? cJSON_GetObjectItemCaseSensitive(id->ver->json, "spec") : NULL;
    const char *client = sim_json_str(idspec, "clientID");
    if (!client)
        client = sim_json_str(idspec, "ClientID");
    char ip[16];
    snprintf(ip, sizeof ip, "%u.%u.%u.%u", from->ip >> 24, (from->ip >> 16) & 255,
             (from->ip >> 8) & 255, from->ip & 255);
    struct loggen_request rq = {
        .outcome = outcome,
        .time = t / SIM_NS_PER_S,
        .micros = (int32_t)((t % SIM_NS_PER_S) / 1000),
        .pod_namespace = from->ns,
        .pod_name = from->name,
        .pod_ip = ip,
        .identity_namespace = id ? id->ns : (bind ? bind->ns : from->ns),
        .identity_name = id ? id->name : (sel ? sel : ""),
        .client_id = client ? client : "00000000-0000-0000-0000-000000000000",
        .resource = resource ? resource : "https://management.azure.com/",
    };
    struct idw_buf b = {0};
    loggen_nmi_request(s->pi_era, &rq, &b);
    sim_log_append_buf(&sim_pod_clog(s, nmi, first_container(nmi))->log, t, b.data);
    buf_free(&b);
    s->changes++;
}

/* ---- plain application lines, made when someone reads them ----------------------------------- */

static void app_line(struct sim_logv *l, int64_t t, const char *msg)
{
    char ts[32], text[600];
    time_t sec = (time_t)(t / SIM_NS_PER_S);
    struct tm tm;
    gmtime_r(&sec, &tm);
    strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(text, sizeof text, "%s.%03dZ %s", ts, (int)((t % SIM_NS_PER_S) / 1000000), msg);
    sim_log_append(l, t, text, strlen(text));
}

static void app_synth(struct sim *s, struct sim_obj *pod, struct sim_clog *c, const cJSON *ctr)
{
    int64_t now = s->now_ns;
    int64_t end = pod->done_ns && pod->done_ns < now ? pod->done_ns : now;
    if (!c->synth_ns) {
        int64_t t = pod->created_ns + SIM_NS_PER_S;
        const char *image = sim_json_str(ctr, "image");
        char msg[400];
        snprintf(msg, sizeof msg, "INFO starting %s (%s)", c->container, image ? image : "");
        app_line(&c->log, t, msg);
        snprintf(msg, sizeof msg, "INFO configuration loaded for %s/%s", pod->ns, pod->name);
        app_line(&c->log, t + 200000000, msg);
        app_line(&c->log, t + 400000000, "INFO listening on :8080");
        c->synth_ns = t + 400000000;
        /* only the last hundred heartbeats are worth making */
        if (end - c->synth_ns > 100 * SIM_APP_HEARTBEAT_NS)
            c->synth_ns = end - 100 * SIM_APP_HEARTBEAT_NS;
    }
    while (c->synth_ns + SIM_APP_HEARTBEAT_NS <= end) {
        c->synth_ns += SIM_APP_HEARTBEAT_NS;
        app_line(&c->log, c->synth_ns, "INFO health check ok");
    }
}

static const cJSON *find_container(const cJSON *pod, const char *name)
{
    const cJSON *spec = cJSON_GetObjectItemCaseSensitive(pod, "spec");
    static const char *const lists[] = {"initContainers", "containers"};
    for (int k = 0; k < 2; k++) {
        const cJSON *c;
        cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(spec, lists[k]))
        {
            if (str_eq(sim_json_str(c, "name"), name))
                return c;
        }
    }
    return NULL;
}

int sim_pod_log(struct sim *s, const char *ns, const char *pod, const char *container,
                int64_t since_ns, struct sim_log_line **out, size_t *n, struct idw_err *err)
{
    *out = NULL;
    *n = 0;
    struct sim_obj *o = sim_obj_find(s->b_pods, ns, pod);
    if (!o) {
        idw_err_set(err, "pods \"%s\" not found", pod);
        return 404;
    }
    const char *name = container;
    if (!name) {
        const cJSON *ann = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(o->ver->json, "metadata"), "annotations");
        const cJSON *d =
            cJSON_GetObjectItemCaseSensitive(ann, "kubectl.kubernetes.io/default-container");
        const char *dflt = cJSON_IsString(d) ? d->valuestring : NULL;
        name = dflt && find_container(o->ver->json, dflt) ? dflt : first_container(o);
    }
    const cJSON *ctr = find_container(o->ver->json, name);
    if (!ctr) {
        idw_err_set(err, "container %s is not valid for pod %s", name, pod);
        return 400;
    }
    struct sim_clog *c = sim_pod_clog(s, o, name);
    if (o->role == SIM_ROLE_APP || (!str_eq(name, first_container(o)) && c->log.n == c->log.head))
        app_synth(s, o, c, ctr);
    struct sim_logv *l = &c->log;
    size_t a = l->head, z = l->n;
    while (a < z) {
        size_t m = (a + z) / 2;
        if (l->lines[m].time_ns <= since_ns)
            a = m + 1;
        else
            z = m;
    }
    *n = l->n - a;
    *out = xmalloc((*n + 1) * sizeof **out);
    memcpy(*out, l->lines + a, *n * sizeof **out);
    return 0;
}
