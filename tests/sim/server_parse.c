/* server_parse: pure request-parsing pieces of idwatch-sim's HTTP front (see server_parse.h). */
#include "server_parse.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "simstate.h"

/* ---- classes ---- */

static const char *const class_names[] = {
#define X(id, name) name,
    SERVER_CLASSES(X)
#undef X
};

const char *server_class_name(enum server_class c)
{
    return (unsigned)c < SERVER_CLASS_COUNT ? class_names[c] : "other";
}

int server_class_parse(const char *name, size_t len, enum server_class *out)
{
    for (int i = 0; i < SERVER_CLASS_COUNT; i++) {
        if (strlen(class_names[i]) == len && memcmp(class_names[i], name, len) == 0) {
            *out = (enum server_class)i;
            return 0;
        }
    }
    return -1;
}

/* ---- query strings ---- */

enum qtype { Q_STR, Q_INT, Q_BOOL };

struct qparam {
    const char *name;
    enum qtype type;
    size_t off;
    size_t has_off; /* offset of the has_ flag for Q_INT */
};

#define QP_STR(n, f)                                                                               \
    {                                                                                              \
        n, Q_STR, offsetof(struct server_query, f), 0                                              \
    }
#define QP_INT(n, f)                                                                               \
    {                                                                                              \
        n, Q_INT, offsetof(struct server_query, f), offsetof(struct server_query, has_##f)         \
    }
#define QP_BOOL(n, f)                                                                              \
    {                                                                                              \
        n, Q_BOOL, offsetof(struct server_query, f), 0                                             \
    }

/* The query parameters the front reads: one table, the parser and free() follow it. */
static const struct qparam qparams[] = {
    QP_STR("labelSelector", label_selector),
    QP_STR("fieldSelector", field_selector),
    QP_STR("continue", continue_token),
    QP_STR("resourceVersion", resource_version),
    QP_STR("resourceVersionMatch", resource_version_match),
    QP_STR("container", container),
    QP_STR("sinceTime", since_time),
    QP_STR("fieldManager", field_manager),
    QP_STR("dryRun", dry_run),
    QP_INT("limit", limit),
    QP_INT("timeoutSeconds", timeout_seconds),
    QP_INT("sinceSeconds", since_seconds),
    QP_INT("tailLines", tail_lines),
    QP_INT("limitBytes", limit_bytes),
    QP_INT("seconds", seconds),
    QP_BOOL("watch", watch),
    QP_BOOL("allowWatchBookmarks", allow_watch_bookmarks),
    QP_BOOL("follow", follow),
    QP_BOOL("previous", previous),
    QP_BOOL("timestamps", timestamps),
};

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

char *server_url_decode(const char *s, size_t n, bool plus_space)
{
    char *out = xmalloc(n + 1);
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '%') {
            if (n - i < 3) {
                free(out);
                return NULL;
            }
            int a = hexval((unsigned char)s[i + 1]), b = hexval((unsigned char)s[i + 2]);
            if (a < 0 || b < 0) {
                free(out);
                return NULL;
            }
            c = (char)(a * 16 + b);
            i += 2;
        } else if (c == '+' && plus_space) {
            c = ' ';
        }
        if (c == '\0') {
            free(out);
            return NULL;
        }
        out[o++] = c;
    }
    out[o] = '\0';
    return out;
}

static int parse_bool(const char *v, bool *out)
{
    static const char *const yes[] = {"1", "t", "T", "true", "TRUE", "True"};
    static const char *const no[] = {"", "0", "f", "F", "false", "FALSE", "False"};
    for (size_t i = 0; i < sizeof yes / sizeof *yes; i++)
        if (strcmp(v, yes[i]) == 0)
            return *out = true, 0;
    for (size_t i = 0; i < sizeof no / sizeof *no; i++)
        if (strcmp(v, no[i]) == 0)
            return *out = false, 0;
    return -1;
}

static int parse_int(const char *v, int64_t *out)
{
    if (!*v || strlen(v) > 19)
        return -1;
    char *end;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (errno || *end || isspace((unsigned char)*v))
        return -1;
    *out = x;
    return 0;
}

static int query_set(struct server_query *q, const struct qparam *p, char *value,
                     struct idw_err *err)
{
    char *base = (char *)q;
    char safe[64];
    switch (p->type) {
    case Q_STR: {
        char **slot = (char **)(base + p->off);
        if (*slot) /* the first value wins, as in Go's url.Values.Get */
            free(value);
        else
            *slot = value;
        return 0;
    }
    case Q_INT: {
        int64_t x;
        if (parse_int(value, &x) != 0) {
            idw_err_set(err, "invalid value for %s: \"%s\": invalid syntax", p->name,
                        str_sanitize(safe, sizeof safe, value));
            free(value);
            return 400;
        }
        *(int64_t *)(base + p->off) = x;
        *(bool *)(base + p->has_off) = true;
        free(value);
        return 0;
    }
    case Q_BOOL: {
        bool b;
        if (parse_bool(value, &b) != 0) {
            idw_err_set(err, "invalid value for %s: \"%s\": invalid syntax", p->name,
                        str_sanitize(safe, sizeof safe, value));
            free(value);
            return 400;
        }
        *(bool *)(base + p->off) = b;
        free(value);
        return 0;
    }
    }
    free(value);
    return 0;
}

int server_query_parse(const char *raw, struct server_query *q, struct idw_err *err)
{
    memset(q, 0, sizeof *q);
    if (!raw)
        return 0;
    if (strlen(raw) > SERVER_MAX_QUERY)
        return idw_err_set(err, "query string too long"), 400;
    const char *p = raw;
    while (*p) {
        size_t len = strcspn(p, "&");
        const char *eq = memchr(p, '=', len);
        size_t klen = eq ? (size_t)(eq - p) : len;
        char *key = server_url_decode(p, klen, true);
        char *val = eq ? server_url_decode(eq + 1, len - klen - 1, true) : xstrdup("");
        if (!key || !val) {
            free(key);
            free(val);
            return idw_err_set(err, "invalid URL escape in query"), 400;
        }
        const struct qparam *found = NULL;
        for (size_t i = 0; i < sizeof qparams / sizeof *qparams; i++)
            if (strcmp(qparams[i].name, key) == 0)
                found = &qparams[i];
        free(key);
        if (found) {
            int rc = query_set(q, found, val, err);
            if (rc)
                return rc;
        } else {
            free(val);
        }
        p += len;
        if (*p == '&')
            p++;
    }
    return 0;
}

void server_query_free(struct server_query *q)
{
    for (size_t i = 0; i < sizeof qparams / sizeof *qparams; i++)
        if (qparams[i].type == Q_STR)
            free(*(char **)((char *)q + qparams[i].off));
    memset(q, 0, sizeof *q);
}

/* ---- API paths ---- */

/* A path segment: DNS-subdomain-ish characters only (names, groups, versions, resources). */
static bool segment_ok(const char *s, size_t n, size_t max)
{
    if (n == 0 || n > max || (s[0] == '.' && (n == 1 || (n == 2 && s[1] == '.'))))
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!(isalnum(c) || c == '-' || c == '.' || c == '_' || c == ':'))
            return false;
    }
    return true;
}

#define MAX_SEGS 9

static void copy_seg(char *dst, size_t cap, const char *s, size_t n)
{
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, s, n);
    dst[n] = '\0';
}

int server_path_parse(const char *path, struct server_path *out)
{
    memset(out, 0, sizeof *out);
    if (!path || path[0] != '/')
        return -1;
    const char *seg[MAX_SEGS];
    size_t len[MAX_SEGS];
    size_t n = 0;
    const char *p = path + 1;
    while (*p) {
        size_t l = strcspn(p, "/");
        if (n == MAX_SEGS)
            return -1;
        if (!segment_ok(p, l, SERVER_MAX_NAME))
            return -1;
        seg[n] = p;
        len[n++] = l;
        p += l;
        if (*p == '/') {
            p++;
            if (!*p)
                break; /* a trailing slash is tolerated */
        }
    }
#define SEG_IS(i, lit) (len[i] == strlen(lit) && memcmp(seg[i], lit, len[i]) == 0)
    if (n == 0)
        return -1;
    if (n == 1 && SEG_IS(0, "version"))
        return out->kind = SERVER_PATH_VERSION, 0;
    size_t i;
    if (SEG_IS(0, "api")) {
        if (n == 1)
            return out->kind = SERVER_PATH_API, 0;
        if (len[1] >= sizeof out->version)
            return -1;
        copy_seg(out->version, sizeof out->version, seg[1], len[1]);
        i = 2;
    } else if (SEG_IS(0, "apis")) {
        if (n == 1)
            return out->kind = SERVER_PATH_APIS, 0;
        if (len[1] >= sizeof out->group)
            return -1;
        copy_seg(out->group, sizeof out->group, seg[1], len[1]);
        if (n == 2)
            return out->kind = SERVER_PATH_GROUP, 0;
        if (len[2] >= sizeof out->version)
            return -1;
        copy_seg(out->version, sizeof out->version, seg[2], len[2]);
        i = 3;
    } else {
        return -1;
    }
    if (n == i)
        return out->kind = SERVER_PATH_GV, 0;
    size_t rest = n - i;
    /* namespaces/<ns>/<resource>... when <resource> is a namespaced resource of this group */
    if (rest >= 3 && SEG_IS(i, "namespaces") && len[i + 2] < sizeof out->resource) {
        char res[64];
        copy_seg(res, sizeof res, seg[i + 2], len[i + 2]);
        const struct sim_resource *r = sim_resource_find(out->group, out->version, res);
        if (r && r->namespaced) {
            copy_seg(out->ns, sizeof out->ns, seg[i + 1], len[i + 1]);
            i += 2;
            rest -= 2;
        }
    }
    if (len[i] >= sizeof out->resource)
        return -1;
    copy_seg(out->resource, sizeof out->resource, seg[i], len[i]);
    if (rest == 1)
        return out->kind = SERVER_PATH_COLLECTION, 0;
    copy_seg(out->name, sizeof out->name, seg[i + 1], len[i + 1]);
    if (rest == 2)
        return out->kind = SERVER_PATH_OBJECT, 0;
    if (rest == 3 && len[i + 2] < sizeof out->sub) {
        copy_seg(out->sub, sizeof out->sub, seg[i + 2], len[i + 2]);
        return out->kind = SERVER_PATH_SUB, 0;
    }
#undef SEG_IS
    return -1;
}

/* ---- Accept ---- */

/* Trims spaces of [s, s+n) in place (returns the new start and length). */
static const char *trim(const char *s, size_t *n)
{
    while (*n && isspace((unsigned char)*s))
        s++, (*n)--;
    while (*n && isspace((unsigned char)s[*n - 1]))
        (*n)--;
    return s;
}

/* Value of parameter `key` in a media range's parameter list "a=b;c=d" (copied to out). */
static bool media_param(const char *params, size_t n, const char *key, char *out, size_t cap)
{
    size_t klen = strlen(key);
    while (n) {
        size_t l = 0;
        while (l < n && params[l] != ';')
            l++;
        size_t tl = l;
        const char *t = trim(params, &tl);
        if (tl > klen && memcmp(t, key, klen) == 0 && t[klen] == '=') {
            size_t vl = tl - klen - 1;
            if (vl >= cap)
                vl = cap - 1;
            memcpy(out, t + klen + 1, vl);
            out[vl] = '\0';
            return true;
        }
        params += l;
        n -= l;
        if (n)
            params++, n--;
    }
    return false;
}

static enum server_accept accept_offer(const char *s, size_t n, bool list)
{
    s = trim(s, &n);
    size_t tlen = 0;
    while (tlen < n && s[tlen] != ';')
        tlen++;
    size_t type_len = tlen;
    const char *type = trim(s, &type_len);
    const char *params = tlen < n ? s + tlen + 1 : s + n;
    size_t plen = tlen < n ? n - tlen - 1 : 0;
    bool json = type_len == 16 && memcmp(type, "application/json", 16) == 0;
    bool any = (type_len == 3 && memcmp(type, "*/*", 3) == 0) ||
               (type_len == 13 && memcmp(type, "application/*", 13) == 0);
    if (any)
        return SERVER_ACCEPT_JSON;
    if (!json)
        return SERVER_ACCEPT_NONE;
    char as[48] = "", g[48] = "", v[16] = "";
    if (!media_param(params, plen, "as", as, sizeof as))
        return SERVER_ACCEPT_JSON;
    media_param(params, plen, "g", g, sizeof g);
    media_param(params, plen, "v", v, sizeof v);
    if (strcmp(g, "meta.k8s.io") != 0 || (strcmp(v, "v1") != 0 && strcmp(v, "v1beta1") != 0))
        return SERVER_ACCEPT_NONE; /* e.g. aggregated discovery: we serve the legacy shape */
    if (strcmp(as, "Table") == 0)
        return SERVER_ACCEPT_TABLE;
    if (strcmp(as, "PartialObjectMetadataList") == 0)
        return list ? SERVER_ACCEPT_PARTIAL_LIST : SERVER_ACCEPT_NONE;
    if (strcmp(as, "PartialObjectMetadata") == 0)
        return list ? SERVER_ACCEPT_NONE : SERVER_ACCEPT_PARTIAL;
    return SERVER_ACCEPT_NONE;
}

enum server_accept server_accept_parse(const char *accept, bool list)
{
    if (!accept)
        return SERVER_ACCEPT_JSON;
    size_t total = strlen(accept);
    if (total == 0)
        return SERVER_ACCEPT_JSON;
    const char *p = accept;
    while (*p) {
        size_t l = strcspn(p, ",");
        enum server_accept a = accept_offer(p, l, list);
        if (a != SERVER_ACCEPT_NONE)
            return a;
        p += l;
        if (*p == ',')
            p++;
    }
    return SERVER_ACCEPT_NONE;
}

/* ---- base64 (core's b64 under the sim's names) ---- */

char *server_b64url_encode(const void *data, size_t n)
{
    return b64_encode(data, n, true);
}

int server_b64_decode(const char *s, size_t len, unsigned char **out, size_t *out_len)
{
    return b64_decode(s, len, true, out, out_len);
}

/* ---- continue tokens ---- */

char *server_continue_encode(const struct server_continue *c)
{
    cJSON *o = cJSON_CreateObject();
    char num[32];
    cJSON_AddStringToObject(o, "v", "meta.k8s.io/v1");
    snprintf(num, sizeof num, "%" PRIu64, c->rv);
    cJSON_AddStringToObject(o, "rv", num);
    snprintf(num, sizeof num, "%" PRId64, c->time_ns);
    cJSON_AddStringToObject(o, "t", num);
    cJSON_AddStringToObject(o, "ns", c->ns);
    cJSON_AddStringToObject(o, "start", c->name);
    char *json = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    char *tok = server_b64url_encode(json, strlen(json));
    cJSON_free(json);
    return tok;
}

static int json_u64(const cJSON *o, const char *key, uint64_t *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsString(v) || !*v->valuestring || strlen(v->valuestring) > 20)
        return -1;
    char *end;
    errno = 0;
    unsigned long long x = strtoull(v->valuestring, &end, 10);
    if (errno || *end || v->valuestring[0] == '-')
        return -1;
    *out = x;
    return 0;
}

static int json_name(const cJSON *o, const char *key, char *out, size_t cap, bool may_be_empty)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsString(v))
        return -1;
    size_t n = strlen(v->valuestring);
    if (n == 0 ? !may_be_empty : !segment_ok(v->valuestring, n, cap - 1))
        return -1;
    memcpy(out, v->valuestring, n + 1);
    return 0;
}

int server_continue_decode(const char *token, struct server_continue *out)
{
    memset(out, 0, sizeof *out);
    if (!token || strlen(token) > 2048)
        return -1;
    unsigned char *raw;
    size_t n;
    if (server_b64_decode(token, strlen(token), &raw, &n) != 0)
        return -1;
    cJSON *o = cJSON_ParseWithLength((const char *)raw, n);
    free(raw);
    int rc = -1;
    uint64_t t;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "v");
    if (cJSON_IsObject(o) && cJSON_IsString(v) && strcmp(v->valuestring, "meta.k8s.io/v1") == 0 &&
        json_u64(o, "rv", &out->rv) == 0 && json_u64(o, "t", &t) == 0 && t <= INT64_MAX &&
        json_name(o, "ns", out->ns, sizeof out->ns, true) == 0 &&
        json_name(o, "start", out->name, sizeof out->name, false) == 0) {
        out->time_ns = (int64_t)t;
        rc = 0;
    }
    cJSON_Delete(o);
    return rc;
}

/* ---- faults ---- */

static const char *const fault_names[] = {
#define X(id, name) name,
    SERVER_FAULT_KINDS(X)
#undef X
};

static int fault_parse_one(const char *s, size_t n, struct server_fault *f, struct idw_err *err)
{
    char item[128];
    if (n >= sizeof item)
        return idw_err_set(err, "fault spec item too long");
    memcpy(item, s, n);
    item[n] = '\0';
    char safe[128];
    str_sanitize(safe, sizeof safe, item);
    char *colon = strchr(item, ':');
    if (!colon)
        return idw_err_set(err, "fault '%s': expected class:kind", safe);
    if (server_class_parse(item, (size_t)(colon - item), &f->cls) != 0)
        return idw_err_set(err, "fault '%s': unknown class", safe);
    char *kind = colon + 1;
    f->count = 1;
    f->value = 0;
    char *x = strrchr(kind, 'x');
    if (x && x != kind) {
        if (strcmp(x + 1, "*") == 0) {
            f->count = -1;
        } else if (parse_int(x + 1, &f->count) != 0 || f->count < 1) {
            return idw_err_set(err, "fault '%s': bad count", safe);
        }
        *x = '\0';
    }
    char *eq = strchr(kind, '=');
    if (eq) {
        *eq = '\0';
        if (parse_int(eq + 1, &f->value) != 0 || f->value < 0)
            return idw_err_set(err, "fault '%s': bad value", safe);
    }
    int k = -1;
    for (int i = 0; i < SERVER_FAULT_KIND_COUNT; i++)
        if (strcmp(fault_names[i], kind) == 0)
            k = i;
    if (k < 0)
        return idw_err_set(err,
                           "fault '%s': unknown kind (latency, 410, 5xx, 429, reset, "
                           "truncate, malformed)",
                           safe);
    f->kind = (enum server_fault_kind)k;
    switch (f->kind) {
    case SERVER_FAULT_LATENCY:
        if (!eq || f->value > 600000)
            return idw_err_set(err, "fault '%s': latency needs =MILLISECONDS (<= 600000)", safe);
        break;
    case SERVER_FAULT_ERROR5XX:
        if (!eq)
            f->value = 503;
        if (f->value < 500 || f->value > 599)
            return idw_err_set(err, "fault '%s': 5xx status must be 500..599", safe);
        break;
    case SERVER_FAULT_THROTTLE:
        if (!eq)
            f->value = 1;
        if (f->value > 3600)
            return idw_err_set(err, "fault '%s': Retry-After must be <= 3600", safe);
        break;
    default:
        if (eq)
            return idw_err_set(err, "fault '%s': this kind takes no value", safe);
    }
    return 0;
}

int server_faults_parse(const char *spec, struct server_fault **faults, size_t *n, size_t *cap,
                        struct idw_err *err)
{
    if (!spec)
        return 0;
    if (strlen(spec) > 4096)
        return idw_err_set(err, "fault spec too long");
    size_t start = *n;
    const char *p = spec;
    while (*p) {
        size_t l = strcspn(p, ",;");
        size_t tl = l;
        const char *t = trim(p, &tl);
        if (tl) {
            struct server_fault f;
            if (fault_parse_one(t, tl, &f, err) != 0) {
                *n = start;
                return -1;
            }
            xgrow((void **)faults, cap, *n + 1, sizeof **faults);
            (*faults)[(*n)++] = f;
        }
        p += l;
        if (*p)
            p++;
    }
    return 0;
}

void server_fault_format(const struct server_fault *f, char *out, size_t len)
{
    char value[32] = "", count[32] = "";
    bool show_value = f->kind == SERVER_FAULT_LATENCY || f->kind == SERVER_FAULT_ERROR5XX ||
                      f->kind == SERVER_FAULT_THROTTLE;
    if (show_value)
        snprintf(value, sizeof value, "=%" PRId64, f->value);
    if (f->count < 0)
        snprintf(count, sizeof count, "x*");
    else
        snprintf(count, sizeof count, "x%" PRId64, f->count);
    snprintf(out, len, "%s:%s%s%s", server_class_name(f->cls),
             (unsigned)f->kind < SERVER_FAULT_KIND_COUNT ? fault_names[f->kind] : "?", value,
             count);
}

/* ---- SelfSubjectAccessReview ---- */

/* A minimal protobuf reader: enough for length-delimited and varint fields. */
struct pb {
    const unsigned char *p, *end;
};

static int pb_varint(struct pb *b, uint64_t *out)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (b->p >= b->end)
            return -1;
        unsigned char c = *b->p++;
        v |= (uint64_t)(c & 0x7F) << shift;
        if (!(c & 0x80)) {
            *out = v;
            return 0;
        }
    }
    return -1;
}

/* Next field into field; for wire type 2, data and len point into the buffer. 1 = field read,
 * 0 = end, -1 = malformed. */
static int pb_next(struct pb *b, uint32_t *field, const unsigned char **data, size_t *len)
{
    if (b->p >= b->end)
        return 0;
    uint64_t key, v;
    if (pb_varint(b, &key) != 0 || (key >> 3) == 0 || (key >> 3) > 0xFFFF)
        return -1;
    *field = (uint32_t)(key >> 3);
    *data = NULL;
    *len = 0;
    switch (key & 7) {
    case 0: return pb_varint(b, &v) == 0 ? 1 : -1;
    case 1:
        if (b->end - b->p < 8)
            return -1;
        b->p += 8;
        return 1;
    case 2:
        if (pb_varint(b, &v) != 0 || v > (uint64_t)(b->end - b->p))
            return -1;
        *data = b->p;
        *len = (size_t)v;
        b->p += v;
        return 1;
    case 5:
        if (b->end - b->p < 4)
            return -1;
        b->p += 4;
        return 1;
    default: return -1;
    }
}

/* Finds length-delimited field `want` (the last one wins, as in protobuf). */
static int pb_find(const unsigned char *d, size_t n, uint32_t want, const unsigned char **out,
                   size_t *out_len)
{
    struct pb b = {d, d + n};
    uint32_t f;
    const unsigned char *data;
    size_t len;
    int rc, found = 0;
    while ((rc = pb_next(&b, &f, &data, &len)) == 1) {
        if (f == want && data) {
            *out = data;
            *out_len = len;
            found = 1;
        }
    }
    return rc < 0 ? -1 : found;
}

static char *pb_string(const unsigned char *d, size_t n, uint32_t field)
{
    const unsigned char *s;
    size_t l;
    if (pb_find(d, n, field, &s, &l) != 1)
        return xstrdup("");
    if (l > 1024 || memchr(s, 0, l))
        return NULL;
    return xstrndup((const char *)s, l);
}

static void ssar_fill_empty(struct server_ssar *o)
{
    char **f[] = {&o->ns,       &o->verb,        &o->group, &o->version,
                  &o->resource, &o->subresource, &o->name};
    for (size_t i = 0; i < sizeof f / sizeof *f; i++)
        if (!*f[i])
            *f[i] = xstrdup("");
}

int server_ssar_decode_protobuf(const unsigned char *body, size_t len, struct server_ssar *out,
                                struct idw_err *err)
{
    memset(out, 0, sizeof *out);
    if (len < 4 || memcmp(body, "k8s\0", 4) != 0)
        return idw_err_set(err, "protobuf body without the k8s magic prefix"), 400;
    body += 4;
    len -= 4;
    const unsigned char *tm, *raw, *spec, *attrs;
    size_t tm_len, raw_len, spec_len, attrs_len;
    if (pb_find(body, len, 1, &tm, &tm_len) != 1 || pb_find(body, len, 2, &raw, &raw_len) != 1)
        return idw_err_set(err, "protobuf body is not a runtime.Unknown"), 400;
    char *kind = pb_string(tm, tm_len, 2);
    bool ok = kind && strcmp(kind, "SelfSubjectAccessReview") == 0;
    free(kind);
    if (!ok)
        return idw_err_set(err, "expected kind SelfSubjectAccessReview"), 400;
    int rc = pb_find(raw, raw_len, 2, &spec, &spec_len);
    if (rc < 0)
        return idw_err_set(err, "malformed SelfSubjectAccessReview"), 400;
    if (rc == 0)
        spec_len = 0, spec = raw;
    if ((rc = pb_find(spec, spec_len, 1, &attrs, &attrs_len)) == 1) {
        char **f[] = {&out->ns,       &out->verb,        &out->group, &out->version,
                      &out->resource, &out->subresource, &out->name};
        for (uint32_t i = 0; i < 7; i++) {
            *f[i] = pb_string(attrs, attrs_len, i + 1);
            if (!*f[i]) {
                server_ssar_free(out);
                return idw_err_set(err, "malformed resourceAttributes"), 400;
            }
        }
    } else if (rc == 0 && (rc = pb_find(spec, spec_len, 2, &attrs, &attrs_len)) == 1) {
        out->path = pb_string(attrs, attrs_len, 1);
        out->verb = pb_string(attrs, attrs_len, 2);
        if (!out->path || !out->verb) {
            server_ssar_free(out);
            return idw_err_set(err, "malformed nonResourceAttributes"), 400;
        }
    }
    if (rc < 0) {
        server_ssar_free(out);
        return idw_err_set(err, "malformed SelfSubjectAccessReview spec"), 400;
    }
    if (!out->verb) {
        server_ssar_free(out);
        return idw_err_set(err, "SelfSubjectAccessReview.authorization.k8s.io \"\" is invalid: "
                                "spec.resourceAttributes: Invalid value: \"null\": exactly one "
                                "of nonResourceAttributes or resourceAttributes must be "
                                "specified"),
               422;
    }
    ssar_fill_empty(out);
    return 0;
}

static char *json_str(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (cJSON_IsString(v) && strlen(v->valuestring) <= 1024)
        return xstrdup(v->valuestring);
    return xstrdup("");
}

int server_ssar_decode_json(const char *body, size_t len, struct server_ssar *out,
                            struct idw_err *err)
{
    memset(out, 0, sizeof *out);
    cJSON *o = cJSON_ParseWithLength(body, len);
    if (!cJSON_IsObject(o)) {
        cJSON_Delete(o);
        return idw_err_set(err, "the body of the request was in an unknown format"), 400;
    }
    const cJSON *spec = cJSON_GetObjectItemCaseSensitive(o, "spec");
    const cJSON *ra = cJSON_GetObjectItemCaseSensitive(spec, "resourceAttributes");
    const cJSON *nra = cJSON_GetObjectItemCaseSensitive(spec, "nonResourceAttributes");
    int rc = 0;
    if (cJSON_IsObject(ra) && !nra) {
        out->ns = json_str(ra, "namespace");
        out->verb = json_str(ra, "verb");
        out->group = json_str(ra, "group");
        out->version = json_str(ra, "version");
        out->resource = json_str(ra, "resource");
        out->subresource = json_str(ra, "subresource");
        out->name = json_str(ra, "name");
    } else if (cJSON_IsObject(nra) && !ra) {
        out->path = json_str(nra, "path");
        out->verb = json_str(nra, "verb");
        ssar_fill_empty(out);
    } else {
        rc = idw_err_set(err, "SelfSubjectAccessReview.authorization.k8s.io \"\" is invalid: "
                              "spec.resourceAttributes: Invalid value: \"null\": exactly one of "
                              "nonResourceAttributes or resourceAttributes must be specified"),
        rc = 422;
    }
    cJSON_Delete(o);
    return rc;
}

void server_ssar_free(struct server_ssar *s)
{
    free(s->ns);
    free(s->verb);
    free(s->group);
    free(s->version);
    free(s->resource);
    free(s->subresource);
    free(s->name);
    free(s->path);
    memset(s, 0, sizeof *s);
}
