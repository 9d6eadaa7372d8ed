/* The check tables: status report strings, finding codes, template expansion, merge patches. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "check_int.h"
#include "idwatch/core.h"

#define NAME_FN(fn, type, TABLE, count)                                                            \
    const char *fn(type v)                                                                         \
    {                                                                                              \
        static const char *const names[] = {TABLE(X)};                                             \
        return (unsigned)v < (unsigned)(count) ? names[v] : "unknown";                             \
    }

#define X(id, str) str,
NAME_FN(check_severity_name, enum check_severity, CHECK_SEVERITIES, CHECK_SEV__COUNT)
NAME_FN(check_mechanism_name, enum check_mechanism, CHECK_MECHANISMS, CHECK_MECH__COUNT)
NAME_FN(check_federation_name, enum check_federation, CHECK_FEDERATIONS, CHECK_FED__COUNT)
NAME_FN(check_projection_name, enum check_projection, CHECK_PROJECTIONS, CHECK_PROJ__COUNT)
NAME_FN(check_activity_name, enum check_activity, CHECK_ACTIVITIES, CHECK_ACT__COUNT)
NAME_FN(check_oidc_name, enum check_oidc, CHECK_OIDCS, CHECK_OIDC__COUNT)
NAME_FN(check_webhook_name, enum check_webhook, CHECK_WEBHOOKS, CHECK_WEBHOOK__COUNT)
NAME_FN(check_podid_name, enum check_podid, CHECK_PODIDS, CHECK_PODID__COUNT)
NAME_FN(check_source_state_name, enum check_source_state, CHECK_SOURCE_STATES, CHECK_SRC__COUNT)
#undef X

struct code_def {
    const char *name;
    enum check_severity severity;
    enum action_id action;
    const char *message;
    const char *remedy;
};

static const struct code_def codes[] = {
#define X(code, sev, action, msg, remedy) {#code, CHECK_SEV_##sev, ACTION_##action, msg, remedy},
    CHECK_FINDINGS(X)
#undef X
};

const char *check_code_name(enum check_code c)
{
    return (unsigned)c < CHECK_CODE__COUNT ? codes[c].name : "UNKNOWN";
}

enum check_severity check_code_severity(enum check_code c)
{
    return (unsigned)c < CHECK_CODE__COUNT ? codes[c].severity : CHECK_SEV_INFO;
}

enum action_id check_code_action(enum check_code c)
{
    return (unsigned)c < CHECK_CODE__COUNT ? codes[c].action : ACTION_NONE;
}

int check_code_parse(const char *name, enum check_code *out)
{
    for (size_t i = 0; name && i < CHECK_CODE__COUNT; i++) {
        if (strcmp(codes[i].name, name) == 0) {
            *out = (enum check_code)i;
            return 0;
        }
    }
    return -1;
}

const char *check_kind_res(enum model_workload_kind k)
{
    static const char *const res[] = {"deployment", "statefulset", "daemonset", "cronjob", "pod"};
    return (unsigned)k < MODEL_KIND__COUNT ? res[k] : "pod";
}

/* The merge patch setting inner as the pod template's metadata of a workload of kind k. */
static char *template_patch(enum model_workload_kind k, const char *inner)
{
    if (k == MODEL_KIND_POD || (unsigned)k >= MODEL_KIND__COUNT)
        return NULL;
    if (k == MODEL_KIND_CRONJOB)
        return xasprintf("{\"spec\":{\"jobTemplate\":{\"spec\":{\"template\":{\"metadata\":%s}}}}}",
                         inner);
    return xasprintf("{\"spec\":{\"template\":{\"metadata\":%s}}}", inner);
}

/* What each template-patching action sets in the pod template's metadata. */
static const char *const template_edits[ACTION__COUNT] = {
    [ACTION_LABEL_WI] = "{\"labels\":{\"" WI_LABEL_USE "\":\"true\"}}",
    [ACTION_REMOVE_PI] = "{\"labels\":{\"" PI_LABEL_BINDING "\":null}}",
    [ACTION_PROXY_ON] = "{\"annotations\":{\"" WI_ANN_PROXY_SIDECAR "\":\"true\"}}",
    [ACTION_PROXY_OFF] = "{\"annotations\":{\"" WI_ANN_PROXY_SIDECAR "\":null}}",
};

char *check_patch_json(enum model_workload_kind k, enum action_id a)
{
    const char *inner = (unsigned)a < ACTION__COUNT ? template_edits[a] : NULL;
    return inner ? template_patch(k, inner) : NULL;
}

char *check_patch_expiration(enum model_workload_kind k)
{
    return template_patch(k, "{\"annotations\":{\"" WI_ANN_TOKEN_EXPIRATION "\":\"3600\"}}");
}

/* ---- template expansion ------------------------------------------------------------------ */

#define FVAR(n)                                                                                    \
    {                                                                                              \
#n, offsetof(struct fvars, n)                                                              \
    }
static const struct {
    const char *name;
    size_t off;
} fvar_table[] = {
    FVAR(kind),      FVAR(res),       FVAR(ns),      FVAR(name),  FVAR(sa),     FVAR(value),
    FVAR(client_id), FVAR(identity),  FVAR(id_name), FVAR(rg),    FVAR(issuer), FVAR(fic),
    FVAR(pod),       FVAR(container), FVAR(detail),  FVAR(patch), FVAR(window), FVAR(cluster),
};
#undef FVAR

/* Appends s with control bytes replaced: values come from the cluster and are untrusted. */
static void put_clean(struct idw_buf *b, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        const unsigned char *q = p;
        while (*q >= 0x20 && *q != 0x7f)
            q++;
        buf_append(b, p, (size_t)(q - p));
        if (!*q)
            break;
        buf_append(b, "?", 1);
        p = q + 1;
    }
}

static char *expand(const char *tmpl, const struct fvars *v)
{
    struct idw_buf b = {0};
    const char *p = tmpl;
    while (*p) {
        const char *d = strstr(p, "${");
        if (!d) {
            buf_puts(&b, p);
            break;
        }
        buf_append(&b, p, (size_t)(d - p));
        const char *e = strchr(d, '}');
        if (!e) {
            buf_puts(&b, d);
            break;
        }
        size_t n = (size_t)(e - d - 2);
        const char *name = d + 2;
        bool done = false;
        if (n == 5 && memcmp(name, "count", 5) == 0) {
            buf_printf(&b, "%ld", v->count);
            done = true;
        } else if (n == 5 && memcmp(name, "total", 5) == 0) {
            buf_printf(&b, "%ld", v->total);
            done = true;
        }
        for (size_t i = 0; !done && i < sizeof fvar_table / sizeof fvar_table[0]; i++) {
            if (strlen(fvar_table[i].name) == n && memcmp(fvar_table[i].name, name, n) == 0) {
                const char *val = *(const char *const *)((const char *)v + fvar_table[i].off);
                if (val) {
                    put_clean(&b, val);
                } else {
                    buf_puts(&b, "<");
                    buf_append(&b, name, n);
                    buf_puts(&b, ">");
                }
                done = true;
            }
        }
        if (!done)
            buf_append(&b, d, n + 3);
        p = e + 1;
    }
    if (!b.data)
        return xstrdup("");
    return b.data;
}

void finding_add(struct finding_list *l, enum check_code code, const struct fvars *v,
                 const char *evidence)
{
    const struct code_def *def = &codes[code];
    struct fvars vv = *v;
    char *patch = NULL;
    enum action_id action = def->action;
    if (vv.wkind >= 0 && !vv.patch) {
        patch = check_patch_json((enum model_workload_kind)vv.wkind, action);
        vv.patch = patch;
    }
    xgrow((void **)&l->items, &l->cap, l->n + 1, sizeof *l->items);
    struct check_finding *f = &l->items[l->n++];
    memset(f, 0, sizeof *f);
    f->code = code;
    f->severity = def->severity;
    f->message = expand(def->message, &vv);
    if (evidence) {
        struct idw_buf b = {0};
        put_clean(&b, evidence);
        f->evidence = b.data ? b.data : xstrdup("");
    }
    bool uses_template = strstr(def->remedy, "${patch}") || strstr(def->remedy, "rollout restart");
    if (vv.wkind == MODEL_KIND_POD && uses_template) {
        /* A bare pod has no template to patch and nothing restarts it: it must be recreated. */
        action = ACTION_NONE;
        f->remedy = expand("kubectl -n ${ns} get pod ${name} -o yaml > pod.yaml   # fix it there, "
                           "then: kubectl replace --force -f pod.yaml",
                           &vv);
    } else if (vv.wkind == MODEL_KIND_CRONJOB && action == ACTION_RESTART) {
        action = ACTION_NONE; /* there is nothing to roll: the next job gets new pods */
        f->remedy = expand("kubectl -n ${ns} create job --from=cronjob/${name} ${name}-idwatch   "
                           "# or wait for the next run",
                           &vv);
    } else {
        f->remedy = expand(def->remedy, &vv);
    }
    f->action = action;
    free(patch);
}

void finding_free(struct check_finding *f)
{
    free(f->message);
    free(f->evidence);
    free(f->remedy);
}
