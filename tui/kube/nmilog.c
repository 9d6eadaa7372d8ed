/* nmilog: NMI log lines -> token requests (pod-identity.md §3). Plain byte scanning, no regex:
 * the status line is the event, name-bearing lines of the same request complete it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "idwatch/core.h"
#include "idwatch/nmilog.h"

#define NMILOG_LINE_MAX 65536
#define NMILOG_PENDING_MAX 64
#define NS_PER_S 1000000000LL
/* A name-bearing line pairs with a status line only if written while that request ran. */
#define NMILOG_SLACK_NS (2 * NS_PER_S)
/* Pending lines older than this (relative to the newest line) can no longer pair: NMI gives up
 * after 100 s (pod-identity.md §3.5). */
#define NMILOG_PENDING_TTL_NS (300 * NS_PER_S)

struct sl {
    const char *p;
    size_t n;
};

/* A name-bearing (or error) line waiting for its request's status line. */
struct pending {
    int64_t t;   /* epoch nanoseconds */
    char ip[48]; /* "" when the line carries no req.remote */
    char *ns;
    char *pod;
    char *identity;
    char *resource;
    char *error;
};

struct nmilog {
    char *nmi_pod;
    char *node_name;
    int year;
    bool all_paths;
    char *partial;
    size_t partial_len;
    size_t partial_cap;
    bool partial_cut; /* the current partial line exceeded the limit: drop the rest */
    struct pending pend[NMILOG_PENDING_MAX];
    size_t n_pend;
    struct model_nmi_request *out;
    size_t out_head;
    size_t out_n;
    size_t out_cap;
    char version[32];
    char mode[16];
    struct nmilog_stats stats;
    char *scratch; /* logrus messages are unescaped here: grown to the longest line seen */
    size_t scratch_cap;
};

/* ---- small helpers ----------------------------------------------------------------------- */

static bool sl_prefix(struct sl s, const char *lit)
{
    size_t n = strlen(lit);
    return s.n >= n && memcmp(s.p, lit, n) == 0;
}

static struct sl sl_skip(struct sl s, size_t k)
{
    if (k > s.n)
        k = s.n;
    return (struct sl){s.p + k, s.n - k};
}

/* Advances *s past lit when s starts with it. */
static bool sl_eat(struct sl *s, const char *lit)
{
    if (!sl_prefix(*s, lit))
        return false;
    *s = sl_skip(*s, strlen(lit));
    return true;
}

static struct sl sl_trim(struct sl s)
{
    while (s.n && (s.p[0] == ' ' || s.p[0] == '\t'))
        s = sl_skip(s, 1);
    while (s.n && (s.p[s.n - 1] == ' ' || s.p[s.n - 1] == '\t' || s.p[s.n - 1] == '\r'))
        s.n--;
    return s;
}

static const char *sl_find(struct sl s, const char *lit)
{
    size_t n = strlen(lit);
    if (n == 0 || s.n < n)
        return NULL;
    const char *end = s.p + s.n - n;
    for (const char *q = s.p; q <= end; q++) {
        q = memchr(q, lit[0], (size_t)(end - q) + 1);
        if (!q)
            return NULL;
        if (memcmp(q, lit, n) == 0)
            return q;
    }
    return NULL;
}

static char *sl_dup(struct sl s)
{
    return xstrndup(s.p, s.n);
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool num(const char *s, size_t n, int *out)
{
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (!is_digit(s[i]))
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int year_of(int64_t epoch)
{
    time_t t = (time_t)epoch;
    struct tm tm;
    if (!gmtime_r(&t, &tm))
        return 1970;
    return tm.tm_year + 1900;
}

/* ---- pending name-bearing lines ---------------------------------------------------------- */

static void pending_clear(struct pending *e)
{
    free(e->ns);
    free(e->pod);
    free(e->identity);
    free(e->resource);
    free(e->error);
    memset(e, 0, sizeof *e);
}

static void pending_drop(struct nmilog *p, size_t i)
{
    pending_clear(&p->pend[i]);
    memmove(&p->pend[i], &p->pend[i + 1], (p->n_pend - i - 1) * sizeof p->pend[0]);
    p->n_pend--;
    memset(&p->pend[p->n_pend], 0, sizeof p->pend[0]);
}

static struct pending *pending_add(struct nmilog *p, int64_t t, struct sl ip)
{
    while (p->n_pend && p->pend[0].t < t - NMILOG_PENDING_TTL_NS)
        pending_drop(p, 0);
    if (p->n_pend == NMILOG_PENDING_MAX)
        pending_drop(p, 0);
    struct pending *e = &p->pend[p->n_pend++];
    memset(e, 0, sizeof *e);
    e->t = t;
    if (ip.n && ip.n < sizeof e->ip) {
        memcpy(e->ip, ip.p, ip.n);
        e->ip[ip.n] = '\0';
    }
    return e;
}

/* Splits "ns/name" (stops at the first space or comma) into the entry. */
static void pending_set_pod(struct pending *e, struct sl s)
{
    size_t n = 0;
    while (n < s.n && s.p[n] != ' ' && s.p[n] != ',')
        n++;
    const char *slash = memchr(s.p, '/', n);
    if (!slash || slash == s.p || slash == s.p + n - 1)
        return;
    e->ns = xstrndup(s.p, (size_t)(slash - s.p));
    e->pod = xstrndup(slash + 1, n - (size_t)(slash - s.p) - 1);
}

/* ---- output queue ------------------------------------------------------------------------ */

static void out_push(struct nmilog *p, struct model_nmi_request *r)
{
    if (p->out_head > 0 && p->out_head == p->out_n) {
        p->out_head = p->out_n = 0;
    }
    if (p->out_n == p->out_cap && p->out_head > 0) {
        memmove(p->out, p->out + p->out_head, (p->out_n - p->out_head) * sizeof *p->out);
        p->out_n -= p->out_head;
        p->out_head = 0;
    }
    xgrow((void **)&p->out, &p->out_cap, p->out_n + 1, sizeof *p->out);
    p->out[p->out_n++] = *r;
}

bool nmilog_next(struct nmilog *p, struct model_nmi_request *out)
{
    if (!p || p->out_head >= p->out_n)
        return false;
    *out = p->out[p->out_head++];
    if (p->out_head == p->out_n)
        p->out_head = p->out_n = 0;
    return true;
}

/* ---- message classification -------------------------------------------------------------- */

struct line {
    int64_t t;        /* epoch nanoseconds */
    struct sl msg;    /* message text (logrus: unescaped into scratch) */
    struct sl method; /* logrus fields, or parsed from a klog status line */
    struct sl path;
    struct sl remote;
};

static bool token_path(struct sl path)
{
    static const char *const paths[] = {"/metadata/identity/oauth2/token", "/host/token"};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        size_t n = strlen(paths[i]);
        if (path.n < n)
            continue;
        bool eq = true;
        for (size_t k = 0; k < n && eq; k++) {
            char c = path.p[k];
            if (c >= 'A' && c <= 'Z')
                c = (char)(c - 'A' + 'a');
            eq = c == paths[i][k];
        }
        if (eq && (path.n == n || path.p[n] == '/' || path.p[n] == '?'))
            return true;
    }
    return false;
}

/* Reads "key=value" out of " key=value key2=value2" (values end at a space). */
static struct sl field_after(struct sl s, const char *key)
{
    const char *q = sl_find(s, key);
    if (!q)
        return (struct sl){NULL, 0};
    q += strlen(key);
    const char *end = s.p + s.n;
    const char *e = q;
    while (e < end && *e != ' ' && *e != '\t')
        e++;
    return (struct sl){q, (size_t)(e - q)};
}

static void emit_status(struct nmilog *p, const struct line *ln, int code, int64_t dur)
{
    p->stats.status_lines++;
    if (!p->all_paths && !token_path(ln->path))
        return;
    struct model_nmi_request r = {0};
    r.time = ln->t / NS_PER_S;
    r.time_nanos = (int32_t)(ln->t % NS_PER_S);
    r.status = code;
    r.duration_ns = dur;
    r.remote_ip = ln->remote.n ? sl_dup(ln->remote) : NULL;
    r.path = ln->path.n ? sl_dup(ln->path) : NULL;
    r.nmi_pod = xstrdup(p->nmi_pod);
    r.node_name = xstrdup(p->node_name);

    /* Complete from pending lines written while this request ran, nearest first. */
    int64_t start = ln->t - dur - NMILOG_SLACK_NS;
    for (size_t i = p->n_pend; i-- > 0;) {
        struct pending *e = &p->pend[i];
        if (e->t > ln->t || e->t < start)
            continue;
        if (e->ip[0] &&
            (ln->remote.n != strlen(e->ip) || memcmp(e->ip, ln->remote.p, ln->remote.n)))
            continue;
        if (e->pod && r.pod_name &&
            (!str_eq(e->pod, r.pod_name) || !str_eq(e->ns, r.pod_namespace)))
            continue;
        if (e->pod && !r.pod_name) {
            r.pod_namespace = e->ns;
            r.pod_name = e->pod;
            e->ns = e->pod = NULL;
        }
        if (e->identity && !r.identity) {
            r.identity = e->identity;
            e->identity = NULL;
        }
        if (e->resource && !r.resource) {
            r.resource = e->resource;
            e->resource = NULL;
        }
        if (e->error && !r.error) {
            r.error = e->error;
            e->error = NULL;
        }
        pending_drop(p, i);
    }
    out_push(p, &r);
    p->stats.requests++;
}

/* "Status (404) took 60059794219 ns[ for req.method=GET reg.path=/x req.remote=1.2.3.4]" */
static bool parse_status(struct nmilog *p, struct line *ln)
{
    struct sl m = ln->msg;
    if (!(sl_prefix(m, "status (") || sl_prefix(m, "Status (")))
        return false;
    m = sl_skip(m, 8);
    int code;
    if (m.n < 4 || !num(m.p, 3, &code) || m.p[3] != ')')
        return false;
    m = sl_skip(m, 4);
    if (!sl_prefix(m, " took "))
        return false;
    m = sl_skip(m, 6);
    int64_t dur = 0;
    size_t k = 0;
    while (k < m.n && is_digit(m.p[k]) && k < 18)
        dur = dur * 10 + (m.p[k++] - '0');
    if (k == 0)
        return false;
    m = sl_skip(m, k);
    if (!sl_prefix(m, " ns"))
        return false;
    m = sl_skip(m, 3);
    if (m.n) { /* klog: the request fields are part of the message */
        ln->method = field_after(m, "req.method=");
        ln->path = field_after(m, "reg.path=");
        if (!ln->path.p)
            ln->path = field_after(m, "req.path=");
        ln->remote = field_after(m, "req.remote=");
    }
    emit_status(p, ln, code, dur);
    return true;
}

static void note_version(struct nmilog *p, struct sl m)
{
    const char *v = sl_find(m, "Version: ");
    if (!v)
        return;
    struct sl s = {v + 9, (size_t)(m.p + m.n - v - 9)};
    size_t n = 0;
    while (n < s.n && s.p[n] != ' ' && n + 1 < sizeof p->version)
        n++;
    if (n && s.p[n - 1] == '.')
        n--;
    memcpy(p->version, s.p, n);
    p->version[n] = '\0';
}

/* Name-bearing and error lines: remember them until their status line comes. */
static void parse_other(struct nmilog *p, const struct line *ln)
{
    struct sl m = ln->msg;
    const char *q;
    struct pending *e;
    struct sl rest = m;
    if (m.n == 0)
        return;
    switch (m.p[0]) {
    case 'n':
    case 'N':
    case 'c':
        if ((q = sl_find(m, " has been matched with azure identity ")) != NULL) {
            /* "<prefix> ns/pod has been matched with azure identity idns/idname" */
            const char *b = q;
            while (b > m.p && b[-1] != ' ')
                b--;
            e = pending_add(p, ln->t, ln->remote);
            pending_set_pod(e, (struct sl){b, (size_t)(q - b)});
            struct sl id = sl_trim(sl_skip(m, (size_t)(q - m.p) + 38));
            if (id.n)
                e->identity = sl_dup(id);
            return;
        }
        if (sl_eat(&rest, "no AzureAssignedIdentity found for pod:")) {
            e = pending_add(p, ln->t, ln->remote);
            pending_set_pod(e, rest);
            e->error = sl_dup(sl_trim(m));
            return;
        }
        break;
    case 'm':
        if (sl_prefix(m, "matched identityType:")) {
            const char *r = sl_find(m, " resource:");
            if (!r)
                return;
            struct sl res = sl_trim(sl_skip(m, (size_t)(r - m.p) + strlen(" resource:")));
            if (res.n) {
                e = pending_add(p, ln->t, ln->remote);
                e->resource = sl_dup(res);
            }
            return;
        }
        if (sl_eat(&rest, "missing podname for podip:")) {
            size_t n = 0;
            while (n < rest.n && rest.p[n] != ',' && rest.p[n] != ' ')
                n++;
            e = pending_add(p, ln->t, (struct sl){rest.p, n});
            e->error = sl_dup(sl_trim(m));
            return;
        }
        if (sl_prefix(m, "metadata header is not specified")) {
            struct sl ip = field_after(m, "req.remote=");
            e = pending_add(p, ln->t, ip.n ? ip : ln->remote);
            e->error = xstrdup("metadata header is not specified");
            return;
        }
        break;
    case 'f':
        if (sl_eat(&rest, "failed to get matching identities for pod: ")) {
            e = pending_add(p, ln->t, ln->remote);
            pending_set_pod(e, rest);
            const char *er = sl_find(rest, ", error: ");
            e->error = er ? sl_dup(sl_trim((struct sl){er + 9, (size_t)(rest.p + rest.n - er - 9)}))
                          : sl_dup(sl_trim(rest));
            return;
        }
        if (sl_eat(&rest, "failed to get service principal token for pod:")) {
            rest = sl_trim(rest);
            e = pending_add(p, ln->t, ln->remote);
            pending_set_pod(e, rest);
            const char *er = sl_find(rest, ", ");
            struct sl err = er ? (struct sl){er + 2, (size_t)(rest.p + rest.n - er - 2)} : rest;
            if (sl_prefix(err, "error: "))
                err = sl_skip(err, 7);
            e->error = sl_dup(sl_trim(err));
            return;
        }
        if (sl_eat(&rest, "failed to get pod info from pod IP: ")) {
            size_t n = 0;
            while (n < rest.n && rest.p[n] != ',' && rest.p[n] != ' ')
                n++;
            e = pending_add(p, ln->t, (struct sl){rest.p, n});
            e->error = sl_dup(sl_trim(m));
            return;
        }
        if (sl_eat(&rest, "failed to get assigned ids for pod:")) { /* logrus 1.5 retry */
            e = pending_add(p, ln->t, ln->remote);
            pending_set_pod(e, rest);
            return;
        }
        if (sl_eat(&rest, "fetching token for user assigned MSI for resource: ")) {
            struct sl res = sl_trim(rest);
            if (res.n) {
                e = pending_add(p, ln->t, ln->remote);
                e->resource = sl_dup(res);
            }
            return;
        }
        break;
    case 'e':
    case 'E':
        rest = sl_skip(m, 1);
        if (sl_eat(&rest, "xception pod ")) {
            e = pending_add(p, ln->t, ln->remote);
            pending_set_pod(e, rest);
            return;
        }
        break;
    case 'p':
        if (sl_prefix(m, "parameter resource cannot be empty")) {
            e = pending_add(p, ln->t, ln->remote);
            e->error = xstrdup("parameter resource cannot be empty");
            return;
        }
        break;
    case 'S':
    case 's':
        if (sl_prefix(m, "Starting nmi process.") || sl_prefix(m, "starting nmi process."))
            note_version(p, m);
        break;
    case 'I':
    case 'i':
        if (sl_prefix(sl_skip(m, 1), "nitializing in standard mode"))
            snprintf(p->mode, sizeof p->mode, "standard");
        else if (sl_prefix(sl_skip(m, 1), "nitializing in managed mode"))
            snprintf(p->mode, sizeof p->mode, "managed");
        break;
    default: break;
    }
}

static void parse_message(struct nmilog *p, struct line *ln)
{
    if (!parse_status(p, ln))
        parse_other(p, ln);
}

/* ---- line headers ------------------------------------------------------------------------ */

/* klog: "Lmmdd hh:mm:ss.uuuuuu <tid> file.go:123] msg". */
static bool parse_klog(struct nmilog *p, struct sl s, int year_hint, int64_t prefix_t)
{
    if (s.n < 22)
        return false;
    char lvl = s.p[0];
    if (lvl != 'I' && lvl != 'W' && lvl != 'E' && lvl != 'F')
        return false;
    int mo, d, h, mi, se, us;
    if (!num(s.p + 1, 2, &mo) || !num(s.p + 3, 2, &d) || s.p[5] != ' ' || !num(s.p + 6, 2, &h) ||
        s.p[8] != ':' || !num(s.p + 9, 2, &mi) || s.p[11] != ':' || !num(s.p + 12, 2, &se) ||
        s.p[14] != '.' || !num(s.p + 15, 6, &us))
        return false;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60)
        return false;
    struct sl rest = sl_skip(s, 21);
    size_t lim = rest.n < 256 ? rest.n : 256;
    const char *br = memchr(rest.p, ']', lim);
    if (!br)
        return false;
    int year = year_hint;
    if (prefix_t) { /* the --timestamps prefix knows the year; mind New Year's Eve */
        year = year_of(prefix_t / NS_PER_S);
        time_t tt = (time_t)(prefix_t / NS_PER_S);
        struct tm tm;
        if (gmtime_r(&tt, &tm) && tm.tm_mon == 0 && mo == 12)
            year--;
    }
    struct line ln = {0};
    int64_t days = days_from_civil(year, mo, d);
    ln.t = ((days * 86400 + h * 3600 + mi * 60 + se) * NS_PER_S) + (int64_t)us * 1000;
    struct sl msg = sl_skip(rest, (size_t)(br - rest.p) + 1);
    if (msg.n && msg.p[0] == ' ')
        msg = sl_skip(msg, 1);
    while (msg.n && (msg.p[msg.n - 1] == ' ' || msg.p[msg.n - 1] == '\r'))
        msg.n--;
    ln.msg = msg;
    parse_message(p, &ln);
    return true;
}

/* logrus: time="2020-04-09T11:07:28Z" level=info msg="..." req.method=GET req.path=/x req.remote=ip
 */
static bool parse_logrus(struct nmilog *p, struct sl s)
{
    if (!sl_prefix(s, "time=\""))
        return false;
    struct sl r = sl_skip(s, 6);
    const char *q = memchr(r.p, '"', r.n);
    if (!q || q - r.p >= 40)
        return false;
    char tbuf[48];
    memcpy(tbuf, r.p, (size_t)(q - r.p));
    tbuf[q - r.p] = '\0';
    int64_t epoch;
    int32_t nanos;
    if (time_parse_rfc3339(tbuf, &epoch, &nanos) != 0)
        return false;
    struct line ln = {0};
    ln.t = epoch * NS_PER_S + nanos;
    r = (struct sl){q + 1, (size_t)(r.p + r.n - q - 1)};
    const char *mk = sl_find(r, " msg=\"");
    if (!mk)
        return false;
    /* Unescape the message into scratch, stopping at the closing quote. */
    const char *c = mk + 6;
    const char *end = r.p + r.n;
    xgrow((void **)&p->scratch, &p->scratch_cap, (size_t)(end - c) + 1, 1);
    size_t o = 0;
    bool closed = false;
    while (c < end) {
        if (*c == '\\' && c + 1 < end) {
            p->scratch[o++] = c[1];
            c += 2;
            continue;
        }
        if (*c == '"') {
            closed = true;
            c++;
            break;
        }
        p->scratch[o++] = *c++;
    }
    ln.msg = sl_trim((struct sl){p->scratch, o});
    if (closed) {
        struct sl fields = {c, (size_t)(end - c)};
        ln.method = field_after(fields, "req.method=");
        ln.path = field_after(fields, "req.path=");
        ln.remote = field_after(fields, "req.remote=");
    }
    parse_message(p, &ln);
    return true;
}

void nmilog_feed_line(struct nmilog *p, const char *line, size_t len)
{
    if (!p || !line)
        return;
    p->stats.lines++;
    p->stats.bytes += len + 1;
    if (len > NMILOG_LINE_MAX - 1)
        len = NMILOG_LINE_MAX - 1;
    struct sl s = {line, len};
    while (s.n && (s.p[s.n - 1] == '\r' || s.p[s.n - 1] == '\n'))
        s.n--;
    int64_t prefix_t = 0;
    /* kubectl adds "[pod/x/c] " (--prefix) then an RFC 3339 time (--timestamps). */
    for (int round = 0; round < 2; round++) {
        if (s.n > 2 && s.p[0] == '[' && (sl_prefix(s, "[pod/") || sl_prefix(s, "[po/"))) {
            const char *b = memchr(s.p, ']', s.n < 512 ? s.n : 512);
            if (b && b + 1 < s.p + s.n && b[1] == ' ')
                s = sl_skip(s, (size_t)(b - s.p) + 2);
        }
        if (s.n > 20 && is_digit(s.p[0]) && s.p[4] == '-' && s.p[10] == 'T') {
            const char *sp = memchr(s.p, ' ', s.n < 48 ? s.n : 48);
            if (sp) {
                char tbuf[48];
                memcpy(tbuf, s.p, (size_t)(sp - s.p));
                tbuf[sp - s.p] = '\0';
                int64_t e;
                int32_t ns;
                if (time_parse_rfc3339(tbuf, &e, &ns) == 0) {
                    prefix_t = e * NS_PER_S + ns;
                    s = sl_skip(s, (size_t)(sp - s.p) + 1);
                }
            }
        }
    }
    if (s.n == 0)
        return;
    bool ok = s.p[0] == 't' ? parse_logrus(p, s) : parse_klog(p, s, p->year, prefix_t);
    if (!ok)
        p->stats.unparsed++;
}

void nmilog_feed(struct nmilog *p, const char *data, size_t len)
{
    if (!p || !data)
        return;
    while (len > 0) {
        const char *nl = memchr(data, '\n', len);
        size_t n = nl ? (size_t)(nl - data) : len;
        if (p->partial_len == 0 && nl && !p->partial_cut) {
            nmilog_feed_line(p, data, n); /* the common case: no copy */
        } else {
            size_t room = NMILOG_LINE_MAX - 1 - p->partial_len;
            size_t take = n < room ? n : room;
            if (take < n)
                p->partial_cut = true;
            xgrow((void **)&p->partial, &p->partial_cap, p->partial_len + take + 1, 1);
            memcpy(p->partial + p->partial_len, data, take);
            p->partial_len += take;
            if (nl) {
                nmilog_feed_line(p, p->partial, p->partial_len);
                p->partial_len = 0;
                p->partial_cut = false;
            }
        }
        if (!nl)
            break;
        data = nl + 1;
        len -= n + 1;
    }
}

void nmilog_finish(struct nmilog *p)
{
    if (!p || p->partial_len == 0)
        return;
    nmilog_feed_line(p, p->partial, p->partial_len);
    p->partial_len = 0;
    p->partial_cut = false;
}

struct nmilog *nmilog_new(const struct nmilog_config *cfg)
{
    struct nmilog *p = xcalloc(1, sizeof *p);
    if (cfg) {
        p->nmi_pod = xstrdup(cfg->nmi_pod);
        p->node_name = xstrdup(cfg->node_name);
        p->year = cfg->year;
        p->all_paths = cfg->all_paths;
    }
    if (p->year <= 0)
        p->year = year_of(time_now());
    return p;
}

void nmilog_free(struct nmilog *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n_pend; i++)
        pending_clear(&p->pend[i]);
    for (size_t i = p->out_head; i < p->out_n; i++)
        model_nmi_request_free(&p->out[i]);
    free(p->out);
    free(p->partial);
    free(p->scratch);
    free(p->nmi_pod);
    free(p->node_name);
    free(p);
}

const char *nmilog_version(const struct nmilog *p)
{
    return p && p->version[0] ? p->version : NULL;
}

const char *nmilog_mode(const struct nmilog *p)
{
    return p && p->mode[0] ? p->mode : NULL;
}

const struct nmilog_stats *nmilog_get_stats(const struct nmilog *p)
{
    return p ? &p->stats : NULL;
}
