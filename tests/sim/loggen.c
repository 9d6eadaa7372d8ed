/* loggen: NMI and MIC log lines as each release wrote them (reference/pod-identity.md §3-§4,
 * fixtures nmi-logs-real.txt and mic-logs-real.txt). Lines seen in the fixtures are reproduced
 * byte for byte apart from timestamps and durations; file:line values that no sample shows are
 * marked "est." in the era table. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "loggen.h"

#define LG_TOKEN_PATH "/metadata/identity/oauth2/token"
#define LG_DEFAULT_RESOURCE "https://management.azure.com/"
#define LG_DEFAULT_CLIENT "00000000-0000-0000-0000-000000000000"
#define LG_NOT_BOUND_ERR                                                                           \
    "getting assigned identities for pod %s/%s in CREATED state failed after 16 attempts, retry "  \
    "duration [5]s, error: <nil>. Check MIC pod logs for identity assignment errors"
#define LG_ID_NOT_FOUND_ERR                                                                        \
    "adal: Refresh request failed. Status Code = '400'. Response body: "                           \
    "{\"error\":\"invalid_request\",\"error_description\":\"Identity not found\"}"

/* One row per era: wording and the source line of each message. */
struct lg_era {
    const char *name;
    bool klog;
    const char *status_word;    /* "Status" until v1.6.1 */
    const char *matched_prefix; /* NULL: the era logs no "has been matched" line */
    const char *exception_word;
    const char *fetching_word;
    bool podip_old;       /* "missing podname for podip:" (<= 1.6.0) */
    int not_bound_status; /* 1.5.x: 403 when nothing reached CREATED */
    /* server.go lines */
    int l_status, l_nomatch, l_tokenfail, l_noresource, l_exception, l_fetching, l_podip;
    /* standard.go lines */
    int l_matched, l_idtype;
    int l_listpod; /* client.go */
};

static const struct lg_era lg_eras[] = {
    [LOGGEN_LOGRUS_15] = {"logrus-1.5", false, "Status", NULL, "Exception", "Fetching", true, 403,
                          0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
    /* v1.6.1: status 191, nomatch 370, matched 72 from samples; type-0 idtype 166 est. (type 1
     * is 170), tokenfail 377, noresource 335, exception 352, fetching 307, podip 323 est. */
    [LOGGEN_KLOG_161] = {"klog-1.6", true, "Status", "No clientID in request.", "Exception",
                         "fetching", false, 404, 191, 370, 377, 335, 352, 307, 323, 72, 166, 208},
    /* v1.7.5-v1.8.1: status 196, nomatch 375, tokenfail 382, noresource 340, standard.go 73/179,
     * client.go 208 from samples; exception 362, fetching 305, podip 330 est. */
    [LOGGEN_KLOG_175] = {"klog-1.7", true, "status", "no clientID or resourceID in request.",
                         "exception", "fetching", false, 404, 196, 375, 382, 340, 362, 305, 330, 73,
                         179, 208},
    /* v1.8.13-v1.8.17: status 239, nomatch 427 from the version table; the rest est. */
    [LOGGEN_KLOG_1817] = {"klog-1.8", true, "status", "no clientID or resourceID in request.",
                          "exception", "fetching", false, 404, 239, 427, 434, 381, 414, 357, 395,
                          73, 179, 208},
};

int loggen_era_parse(const char *s, enum loggen_era *out)
{
    for (size_t i = 0; s && i < sizeof lg_eras / sizeof lg_eras[0]; i++) {
        if (strcmp(s, lg_eras[i].name) == 0) {
            *out = (enum loggen_era)i;
            return 0;
        }
    }
    return -1;
}

/* ---- line writers ---------------------------------------------------------------------------- */

/* A point in time in microseconds since the epoch. */
static int64_t lg_us(int64_t sec, int32_t micros)
{
    return sec * 1000000 + micros;
}

static void lg_tm(int64_t us, struct tm *tm)
{
    time_t t = (time_t)(us / 1000000);
    gmtime_r(&t, tm);
}

/* klog: "Lmmdd hh:mm:ss.uuuuuu <pid %7d> file:line] msg" */
static void lg_klog(struct idw_buf *out, char level, int64_t us, const char *file, int line,
                    const char *msg)
{
    struct tm tm;
    lg_tm(us, &tm);
    buf_printf(out, "%c%02d%02d %02d:%02d:%02d.%06d %7d %s:%d] %s\n", level, tm.tm_mon + 1,
               tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(us % 1000000), 1, file, line,
               msg);
}

/* logrus text formatter: time="..." level=... msg="..." [request fields] */
static void lg_logrus(struct idw_buf *out, char level, int64_t us, const char *msg,
                      const char *remote)
{
    struct tm tm;
    lg_tm(us, &tm);
    const char *word = level == 'E' ? "error" : level == 'W' ? "warning" : "info";
    buf_printf(out, "time=\"%04d-%02d-%02dT%02d:%02d:%02dZ\" level=%s msg=\"", tm.tm_year + 1900,
               tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, word);
    for (const char *c = msg; *c; c++) {
        if (*c == '"' || *c == '\\')
            buf_append(out, "\\", 1);
        buf_append(out, c, 1);
    }
    buf_puts(out, "\"");
    if (remote)
        buf_printf(out, " req.method=GET req.path=%s req.remote=%s", LG_TOKEN_PATH, remote);
    buf_puts(out, "\n");
}

struct lg_req {
    const struct lg_era *era;
    const struct loggen_request *req;
    struct idw_buf *out;
    const char *ip;
};

__attribute__((format(printf, 6, 7))) static void
lg_emit(struct lg_req *r, char level, int64_t us, const char *file, int line, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (r->era->klog)
        lg_klog(r->out, level, us, file, line, msg);
    else
        lg_logrus(r->out, level, us, msg, r->ip);
}

/* utils.RedactClientID: first four + "##### REDACTED #####" + last four (8+ characters). */
static void lg_redact(const char *id, char out[64])
{
    size_t n = strlen(id);
    if (n < 8 || strchr(id, ' ')) {
        snprintf(out, 64, "%s", id);
        return;
    }
    snprintf(out, 64, "%.4s##### REDACTED #####%s", id, id + n - 4);
}

/* Deterministic, outcome-typical durations (pod-identity.md §3.4-§3.5), varied by the clock. */
static int64_t lg_duration_ns(enum loggen_outcome o, int64_t us)
{
    int64_t j = us < 0 ? -us : us;
    switch (o) {
    case LOGGEN_OK: return 5000000 + (j % 500000) * 1000;
    case LOGGEN_NOT_BOUND: return 80000000000LL + (j % 250000) * 1000;
    case LOGGEN_CANCELED: return 60000000000LL + (j % 100000) * 1000;
    case LOGGEN_ID_NOT_FOUND: return 60000000 + (j % 10000) * 1000;
    case LOGGEN_NO_RESOURCE: return 40000 + j % 40000;
    case LOGGEN_EXCEPTION: return 400000000 + (j % 200000) * 1000;
    case LOGGEN_UNKNOWN_POD: return 300000000 + (j % 100000) * 1000;
    }
    return 1000000;
}

static int lg_status_code(const struct lg_era *e, enum loggen_outcome o)
{
    switch (o) {
    case LOGGEN_OK:
    case LOGGEN_EXCEPTION: return 200;
    case LOGGEN_NOT_BOUND: return e->not_bound_status;
    case LOGGEN_CANCELED: return 404;
    case LOGGEN_ID_NOT_FOUND: return 403;
    case LOGGEN_NO_RESOURCE: return 400;
    case LOGGEN_UNKNOWN_POD: return 500;
    }
    return 500;
}

void loggen_nmi_request(enum loggen_era era, const struct loggen_request *req, struct idw_buf *out)
{
    const struct lg_era *e = &lg_eras[era];
    const char *ns = req->pod_namespace ? req->pod_namespace : "default";
    const char *pod = req->pod_name ? req->pod_name : "unknown";
    const char *idns = req->identity_namespace ? req->identity_namespace : ns;
    const char *idname = req->identity_name ? req->identity_name : "identity";
    const char *res = req->resource ? req->resource : LG_DEFAULT_RESOURCE;
    const char *ip = req->pod_ip ? req->pod_ip : "10.244.0.1";
    char cid[64];
    lg_redact(req->client_id ? req->client_id : LG_DEFAULT_CLIENT, cid);

    struct lg_req r = {.era = e, .req = req, .out = out, .ip = ip};
    int64_t end = lg_us(req->time, req->micros);
    int64_t dur = lg_duration_ns(req->outcome, end);
    int64_t start = end - dur / 1000;
    /* the lines of one request, in the order NMI's handler writes them; the status line, written
     * by the wrapping handler after it returns, is always last */
    switch (req->outcome) {
    case LOGGEN_OK:
    case LOGGEN_ID_NOT_FOUND:
        if (e->matched_prefix)
            lg_emit(&r, 'I', start + 40, "standard.go", e->l_matched,
                    "%s %s/%s has been matched with azure identity %s/%s", e->matched_prefix, ns,
                    pod, idns, idname);
        lg_emit(&r, 'I', start + 180, "standard.go", e->l_idtype,
                "matched identityType:0 clientid:%s resource:%s", cid, res);
        if (req->outcome == LOGGEN_ID_NOT_FOUND) {
            if (e->klog)
                lg_emit(&r, 'E', end - 60, "server.go", e->l_tokenfail,
                        "failed to get service principal token for pod: %s/%s, error: failed to "
                        "refresh token, error: " LG_ID_NOT_FOUND_ERR,
                        ns, pod);
            else
                lg_emit(&r, 'E', end - 60, NULL, 0,
                        "failed to get service principal token for pod:%s/%s, " LG_ID_NOT_FOUND_ERR,
                        ns, pod);
        }
        break;
    case LOGGEN_NOT_BOUND:
    case LOGGEN_CANCELED: {
        char why[512];
        if (req->outcome == LOGGEN_CANCELED)
            snprintf(why, sizeof why, "context canceled");
        else
            snprintf(why, sizeof why, LG_NOT_BOUND_ERR, ns, pod);
        if (e->klog)
            lg_emit(&r, 'E', end - 40, "server.go", e->l_nomatch,
                    "failed to get matching identities for pod: %s/%s, error: %s", ns, pod, why);
        else
            lg_emit(&r, 'E', end - 40, NULL, 0,
                    "no AzureAssignedIdentity found for pod:%s/%s in assigned state, %s", ns, pod,
                    why);
        break;
    }
    case LOGGEN_NO_RESOURCE: /* IP only: NMI has not looked the pod up yet */
        lg_emit(&r, 'W', end - 30, "server.go", e->l_noresource,
                "parameter resource cannot be empty");
        break;
    case LOGGEN_EXCEPTION:
        lg_emit(&r, 'I', start + 20, "server.go", e->l_exception, "%s pod %s/%s token handling",
                e->exception_word, ns, pod);
        if (req->client_id)
            lg_emit(&r, 'I', start + 40, "server.go", e->l_fetching,
                    "%s token for user assigned MSI for resource: %s", e->fetching_word, res);
        else
            lg_emit(&r, 'I', start + 40, "server.go", e->l_fetching,
                    "%s token for system assigned MSI", e->fetching_word);
        break;
    case LOGGEN_UNKNOWN_POD: /* IP only: no pod has that IP in NMI's cache */
        if (e->klog) {
            lg_emit(&r, 'W', start + 50000, "client.go", e->l_listpod,
                    "list pod error: pod list is empty. Retrying, attempt number: 1");
            lg_emit(&r, 'W', start + 150000, "client.go", e->l_listpod,
                    "list pod error: pod list is empty. Retrying, attempt number: 2");
        }
        if (e->podip_old)
            lg_emit(&r, 'E', end - 50, "server.go", e->l_podip,
                    "missing podname for podip:%s, pod list is empty", ip);
        else
            lg_emit(&r, 'E', end - 50, "server.go", e->l_podip,
                    "failed to get pod info from pod IP: %s, error: pod list is empty", ip);
        break;
    }
    int code = lg_status_code(e, req->outcome);
    if (e->klog)
        lg_emit(&r, 'I', end, "server.go", e->l_status,
                "%s (%d) took %lld ns for req.method=GET reg.path=" LG_TOKEN_PATH " req.remote=%s",
                e->status_word, code, (long long)dur, ip);
    else
        lg_emit(&r, 'I', end, NULL, 0, "Status (%d) took %lld ns", code, (long long)dur);
}

/* ---- startup --------------------------------------------------------------------------------- */

struct lg_startup_line {
    char level;
    int offset_us; /* after the first line */
    const char *file;
    int line;
    const char *msg; /* may contain one %s: the mode */
};

/* The startup sequences of the fixture samples (1.5.5 #556, 1.6.1 #799, 1.7.5 dev-spaces#407);
 * 1.8.x follows 1.7.5 with the v1.8.10+ listening line (address est.). */
static const struct lg_startup_line lg_start_logrus[] = {
    {'I', 0, NULL, 0,
     "Starting nmi process. Version: 1.5.5. Build date: 2020-01-28-23:10. Log level: info."},
    {'I', 1000, NULL, 0, "CRD lite informers started "},
    {'I', 2000, NULL, 0, "Initialized health probe on port &[8080]"},
    {'I', 3000, NULL, 0, "Started health probe"},
    {'I', 4000, NULL, 0, "Registered views for metric%!(EXTRA *[]interface {}=&[])"},
    {'I', 5000, NULL, 0, "Starting Prometheus exporter"},
    {'I', 6000, NULL, 0, "Registered and exported metrics on port &[9090]"},
    {'I', 7000, NULL, 0, "Listening on port 2579"},
    {'W', 8000, NULL, 0, "Flushing iptables to add aad-metadata custom chains"},
};

static const struct lg_startup_line lg_start_161[] = {
    {'I', 0, "main.go", 61, "Starting nmi process. Version: 1.6.1. Build date: 2020-05-22-17:50."},
    {'I', 201641, "crd.go", 447, "CRD lite informers started"},
    {'I', 301864, "main.go", 85, "Running NMI in namespaced mode: false"},
    {'I', 301889, "nmi.go", 52, "Initializing in %s mode"},
    {'I', 301897, "probes.go", 42, "Initialized health probe on port 8080"},
    {'I', 301939, "probes.go", 45, "Started health probe"},
    {'I', 302124, "metrics.go", 329, "Registered views for metric"},
    {'I', 302276, "prometheus_exporter.go", 22, "Starting Prometheus exporter"},
    {'I', 302288, "metrics.go", 336, "Registered and exported metrics on port 9090"},
    {'I', 302299, "server.go", 97, "Listening on port 2579"},
    {'W', 343814, "iptables.go", 104, "Flushing iptables to add aad-metadata custom chains"},
};

static const struct lg_startup_line lg_start_175[] = {
    {'I', 0, "main.go", 86, "starting nmi process. Version: v1.7.5. Build date: 2021-04-02-21:14."},
    {'I', 202489, "crd.go", 447, "CRD lite informers started"},
    {'I', 202517, "main.go", 113, "running NMI in namespaced mode: false"},
    {'I', 202531, "nmi.go", 53, "initializing in %s mode"},
    {'I', 202537, "probes.go", 41, "initialized health probe on port 8085"},
    {'I', 202542, "probes.go", 44, "started health probe"},
    {'I', 202623, "metrics.go", 341, "registered views for metric"},
    {'I', 202692, "prometheus_exporter.go", 21, "starting Prometheus exporter"},
    {'I', 202702, "metrics.go", 347, "registered and exported metrics on port 9090"},
    {'I', 202795, "server.go", 102, "listening on port 2579"},
    {'W', 1447079, "iptables.go", 123, "flushing iptables to add aad-metadata custom chains"},
};

static const struct lg_startup_line lg_start_1817[] = {
    {'I', 0, "main.go", 86,
     "starting nmi process. Version: v1.8.17. Build date: 2023-05-09-18:56."},
    {'I', 202489, "crd.go", 447, "CRD lite informers started"},
    {'I', 202517, "main.go", 113, "running NMI in namespaced mode: false"},
    {'I', 202531, "nmi.go", 53, "initializing in %s mode"},
    {'I', 202537, "probes.go", 41, "initialized health probe on port 8085"},
    {'I', 202542, "probes.go", 44, "started health probe"},
    {'I', 202623, "metrics.go", 341, "registered views for metric"},
    {'I', 202692, "prometheus_exporter.go", 21, "starting Prometheus exporter"},
    {'I', 202702, "metrics.go", 347, "registered and exported metrics on port 9090"},
    {'I', 202795, "server.go", 125, "listening on 0.0.0.0:2579"},
    {'W', 1447079, "iptables.go", 123, "flushing iptables to add aad-metadata custom chains"},
};

static const struct {
    const struct lg_startup_line *lines;
    size_t n;
} lg_startups[] = {
    [LOGGEN_LOGRUS_15] = {lg_start_logrus, sizeof lg_start_logrus / sizeof lg_start_logrus[0]},
    [LOGGEN_KLOG_161] = {lg_start_161, sizeof lg_start_161 / sizeof lg_start_161[0]},
    [LOGGEN_KLOG_175] = {lg_start_175, sizeof lg_start_175 / sizeof lg_start_175[0]},
    [LOGGEN_KLOG_1817] = {lg_start_1817, sizeof lg_start_1817 / sizeof lg_start_1817[0]},
};

void loggen_nmi_startup(enum loggen_era era, int64_t time, int managed_mode, struct idw_buf *out)
{
    const struct lg_era *e = &lg_eras[era];
    int64_t t0 = lg_us(time, 0);
    for (size_t i = 0; i < lg_startups[era].n; i++) {
        const struct lg_startup_line *l = &lg_startups[era].lines[i];
        char msg[256];
        const char *mode = strstr(l->msg, "%s"); /* only the mode line has one (1.5.x: none) */
        if (mode)
            snprintf(msg, sizeof msg, "%.*s%s%s", (int)(mode - l->msg), l->msg,
                     managed_mode ? "managed" : "standard", mode + 2);
        else
            snprintf(msg, sizeof msg, "%s", l->msg);
        if (e->klog)
            lg_klog(out, l->level, t0 + l->offset_us, l->file, l->line, msg);
        else
            lg_logrus(out, l->level, t0 + l->offset_us, msg, NULL);
    }
}

/* ---- MIC ------------------------------------------------------------------------------------- */

/* The VMSS of an AKS node: "aks-pool-123-vmss000002" -> "aks-pool-123-vmss". */
static void lg_vmss(const char *node, char *out, size_t n)
{
    snprintf(out, n, "%s", node ? node : "aks-nodepool1-00000000-vmss000000");
    size_t len = strlen(out), d = len;
    while (d > 0 && out[d - 1] >= '0' && out[d - 1] <= '9')
        d--;
    if (d >= 4 && d < len && strncmp(out + d - 4, "vmss", 4) == 0)
        out[d] = '\0';
}

void loggen_mic_assign(int64_t time, const char *pod_namespace, const char *pod_name,
                       const char *identity_namespace, const char *identity_name, const char *node,
                       struct idw_buf *out)
{
    char vmss[256], msg[768];
    lg_vmss(node, vmss, sizeof vmss);
    const char *nd = node ? node : vmss;
    int64_t t = lg_us(time, 278725);
    /* v1.8.13+ (fixture #1402): mic.go:1040, crd.go:514, cloudprovider.go:210, crd.go:777 */
    snprintf(msg, sizeof msg, "processing node %s, add [1], del [0], update [0]", vmss);
    lg_klog(out, 'I', t, "mic.go", 1040, msg);
    snprintf(msg, sizeof msg, "creating assigned id %s/%s-%s-%s", pod_namespace, pod_name,
             pod_namespace, identity_name);
    lg_klog(out, 'I', t + 73, "crd.go", 514, msg);
    snprintf(msg, sizeof msg, "updating user-assigned identities on %s, assign [1], unassign [0]",
             vmss);
    lg_klog(out, 'I', t + 147328, "cloudprovider.go", 210, msg);
    /* line numbers of the next and the summary lines: est. */
    snprintf(msg, sizeof msg, "identity %s/%s has successfully been assigned to node %s",
             identity_namespace, identity_name, nd);
    lg_klog(out, 'I', t + 10898995, "mic.go", 1180, msg);
    snprintf(msg, sizeof msg, "updating AzureAssignedIdentity %s/%s-%s-%s status to Assigned",
             pod_namespace, pod_name, pod_namespace, identity_name);
    lg_klog(out, 'I', t + 10899105, "crd.go", 777, msg);
    lg_klog(out, 'I', t + 10899402, "mic.go", 560,
            "work done: true. Found 1 pods, 1 ids, 1 bindings");
    lg_klog(out, 'I', t + 10899450, "mic.go", 561,
            "total work cycles: 1, out of which work was done in: 1");
}
