/* fleet: the per-cluster rows, the choice of contexts, and the runner that audits many clusters
 * at once on the one net loop (one session per cluster, --parallel of them at a time). */
#include <fnmatch.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "idwatch/fleet.h"
#include "idwatch/kubeconfig.h"
#include "idwatch/net.h"
#include "idwatch/session.h"

#define FLEET_DEFAULT_PARALLEL 8
#define FLEET_DEFAULT_DEADLINE_MS (180 * 1000)
#define FLEET_POLL_MS 200

static const char *const state_names[] = {
#define X(id, name) name,
    FLEET_STATES(X)
#undef X
};

const char *fleet_state_name(enum fleet_state s)
{
    return (unsigned)s < FLEET__COUNT ? state_names[s] : "failed";
}

/* ---- the model ------------------------------------------------------------------------------ */

void fleet_row_fill(struct fleet_row *row, const struct check_result *r)
{
    const struct check_cluster *cl = &r->cluster;
    row->oidc = cl->oidc.status;
    row->webhook = cl->webhook.status;
    row->pod_identity = cl->pod_identity.status;
    row->workloads = cl->migration.total;
    row->wi = cl->migration.workload_identity;
    row->pi = cl->migration.pod_identity;
    row->both = cl->migration.both;
    row->none = cl->migration.none;
    row->percent_migrated = cl->migration.percent_migrated;
    row->errors = (int)check_error_count(r);
    row->warnings = cl->n_warnings;
    for (size_t i = 0; i < r->n_workloads; i++)
        if (r->workloads[i].in_scope)
            row->warnings += r->workloads[i].n_warnings;
    row->removable = cl->removal.safe;
    row->data_age = -1;
    for (size_t i = 0; i < cl->n_sources; i++)
        if (cl->sources[i].age_seconds > row->data_age)
            row->data_age = cl->sources[i].age_seconds;
}

void fleet_row_clear(struct fleet_row *row)
{
    free(row->context);
    free(row->server);
    free(row->error);
    memset(row, 0, sizeof *row);
}

void fleet_summarize(const struct fleet_row *rows, size_t n, struct fleet_summary *out)
{
    memset(out, 0, sizeof *out);
    out->clusters = n;
    for (size_t i = 0; i < n; i++) {
        const struct fleet_row *r = &rows[i];
        if (r->exit_code > out->exit_code)
            out->exit_code = r->exit_code;
        if (r->state != FLEET_DONE) {
            out->failed += r->state == FLEET_FAILED;
            if (out->exit_code < 2)
                out->exit_code = 2; /* not audited (yet): nothing may pass on it */
            continue;
        }
        out->workloads += r->workloads;
        out->wi += r->wi;
        out->pi += r->pi;
        out->both += r->both;
        out->removable += r->removable ? 1 : 0;
    }
    int denom = out->wi + out->pi + out->both;
    out->percent_migrated = denom ? round(1000.0 * out->wi / denom) / 10.0 : 0.0;
}

/* ---- which contexts ------------------------------------------------------------------------- */

static bool is_glob(const char *s)
{
    return strpbrk(s, "*?[") != NULL;
}

static bool context_exists(const struct kubeconfig *kc, const char *name)
{
    for (size_t i = 0; i < kubeconfig_context_count(kc); i++)
        if (str_eq(kubeconfig_context_name(kc, i), name))
            return true;
    return false;
}

bool fleet_wanted(const struct app_options *opt, const struct kubeconfig *kc)
{
    if (opt->all_contexts)
        return true;
    if (str_empty(opt->context) || context_exists(kc, opt->context))
        return false;
    return strchr(opt->context, ',') || is_glob(opt->context);
}

static void names_add(char ***names, size_t *n, size_t *cap, const char *name)
{
    for (size_t i = 0; i < *n; i++)
        if (str_eq((*names)[i], name))
            return;
    void *p = *names;
    xgrow(&p, cap, *n + 1, sizeof **names);
    *names = p;
    (*names)[(*n)++] = xstrdup(name);
}

/* "a, b, c" (names the kubeconfig knows, for messages), at most ~400 bytes. */
static void known_list(const struct kubeconfig *kc, char *out, size_t len)
{
    size_t o = 0;
    out[0] = '\0';
    for (size_t i = 0; i < kubeconfig_context_count(kc) && o + 8 < len; i++) {
        int w = snprintf(out + o, len - o, "%s%s", i ? ", " : "", kubeconfig_context_name(kc, i));
        if (w < 0 || (size_t)w >= len - o) {
            snprintf(out + (o > len - 5 ? len - 5 : o), 5, "...");
            return;
        }
        o += (size_t)w;
    }
    if (!o)
        snprintf(out, len, "none");
}

int fleet_select(const struct kubeconfig *kc, const char *spec, bool all, char ***names, size_t *n,
                 struct idw_err *err)
{
    *names = NULL;
    *n = 0;
    size_t cap = 0, nk = kubeconfig_context_count(kc);
    if (all) {
        for (size_t i = 0; i < nk; i++)
            names_add(names, n, &cap, kubeconfig_context_name(kc, i));
        if (!*n)
            return idw_err_set(err, "--all-contexts: the kubeconfig has no contexts");
        return 0;
    }
    char known[400];
    char *list = xstrdup(spec ? spec : "");
    char *save = NULL;
    int rc = 0;
    for (char *tok = strtok_r(list, ",", &save); tok && rc == 0; tok = strtok_r(NULL, ",", &save)) {
        while (*tok == ' ')
            tok++;
        size_t tl = strlen(tok);
        while (tl && tok[tl - 1] == ' ')
            tok[--tl] = '\0';
        if (!*tok)
            continue;
        if (context_exists(kc, tok)) {
            names_add(names, n, &cap, tok);
        } else if (is_glob(tok)) {
            bool matched = false;
            for (size_t i = 0; i < nk; i++) {
                const char *c = kubeconfig_context_name(kc, i);
                if (fnmatch(tok, c, 0) == 0) {
                    names_add(names, n, &cap, c);
                    matched = true;
                }
            }
            if (!matched) {
                known_list(kc, known, sizeof known);
                rc = idw_err_set(err, "--context: '%s' matches no context (known: %s)", tok, known);
            }
        } else {
            known_list(kc, known, sizeof known);
            rc = idw_err_set(err, "--context: no context named '%s' (known: %s)", tok, known);
        }
    }
    free(list);
    if (rc == 0 && !*n)
        rc = idw_err_set(err, "--context: no context given");
    if (rc != 0) {
        fleet_names_free(*names, *n);
        *names = NULL;
        *n = 0;
    }
    return rc;
}

void fleet_names_free(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

/* ---- the runner ----------------------------------------------------------------------------- */

struct fleet_run {
    struct session *s;
    int64_t started_ms;
    struct app_options opt; /* the options for this context ([context PATTERN] sections) */
};

struct fleet {
    struct fleet_config c;
    struct fleet_row *rows;
    struct fleet_run *runs;
    size_t next;    /* first cluster not started yet */
    size_t running; /* sessions open */
    size_t finished;
};

struct fleet *fleet_new(const struct fleet_config *c)
{
    struct fleet *f = xcalloc(1, sizeof *f);
    f->c = *c;
    if (f->c.parallel <= 0)
        f->c.parallel = FLEET_DEFAULT_PARALLEL;
    if (f->c.deadline_ms <= 0)
        f->c.deadline_ms = FLEET_DEFAULT_DEADLINE_MS;
    if (f->c.azure_grace_ms <= 0 || f->c.azure_grace_ms >= f->c.deadline_ms)
        f->c.azure_grace_ms = f->c.deadline_ms / 4;
    f->rows = xcalloc(c->n + 1, sizeof *f->rows);
    f->runs = xcalloc(c->n + 1, sizeof *f->runs);
    for (size_t i = 0; i < c->n; i++) {
        f->rows[i].context = xstrdup(c->names[i]);
        f->rows[i].state = FLEET_QUEUED;
        f->rows[i].data_age = -1;
    }
    return f;
}

/* Ends cluster i: the caller sees the row (and the session, while it is still open). */
static void finish(struct fleet *f, size_t i)
{
    struct fleet_run *run = &f->runs[i];
    if (f->c.done)
        f->c.done(f->c.ctx, i, &f->rows[i], run->s);
    if (run->s) {
        session_close(run->s);
        run->s = NULL;
        f->running--;
    }
    f->finished++;
}

static void fail(struct fleet *f, size_t i, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void fail(struct fleet *f, size_t i, const char *fmt, ...)
{
    struct fleet_row *row = &f->rows[i];
    va_list ap;
    va_start(ap, fmt);
    char line[IDW_ERR_MAX];
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    free(row->error);
    row->error = xstrdup(line);
    row->state = FLEET_FAILED;
    row->exit_code = 2;
    finish(f, i);
}

static void start(struct fleet *f, size_t i)
{
    struct fleet_row *row = &f->rows[i];
    struct fleet_run *run = &f->runs[i];
    struct idw_err err;
    /* Each cluster with its own settings: the config file's sections for its context (its
     * subscription, cluster id, namespace...), as the dashboard's context switch does. */
    if (row->context && f->c.opt->cmdline)
        app_options_for_context(f->c.opt, row->context, &run->opt);
    else
        run->opt = *f->c.opt;
    if (session_open(&run->opt, f->c.kc, row->context, f->c.net, true, &run->s, &err) != 0) {
        run->s = NULL;
        fail(f, i, "%s", err.msg);
        return;
    }
    f->running++;
    row->state = FLEET_LOADING;
    if (!row->context) /* the current context */
        row->context = xstrdup(session_config(run->s)->context);
    row->server = xstrdup(session_config(run->s)->server);
    run->started_ms = time_now_ms();
    session_start(run->s);
}

static void step(struct fleet *f, size_t i)
{
    struct fleet_run *run = &f->runs[i];
    struct session *s = run->s;
    session_tick(s);
    int64_t now = time_now_ms();
    int64_t deadline = run->started_ms + f->c.deadline_ms;
    if (session_azure_pending(s) && now > deadline - f->c.azure_grace_ms) {
        char why[128];
        snprintf(why, sizeof why, "Azure gave no complete answer within %lld s",
                 (long long)((now - run->started_ms) / 1000));
        session_give_up_azure(s, why);
    }
    if (session_fatal(s)) {
        fail(f, i, "cannot reach the cluster: %s", session_fatal(s));
        return;
    }
    if (!session_done(s)) {
        if (now > deadline)
            fail(f, i, "gave up after %lld s waiting for the cluster",
                 (long long)(f->c.deadline_ms / 1000));
        return;
    }
    session_tick(s); /* the last changes */
    const struct check_result *cr = session_checks(s);
    if (cr->cluster.namespace_missing) {
        fail(f, i, "namespace \"%s\" not found", run->opt.namespace_ ? run->opt.namespace_ : "");
        return;
    }
    struct fleet_row *row = &f->rows[i];
    fleet_row_fill(row, cr);
    row->state = FLEET_DONE;
    row->exit_code = report_exit_code(cr);
    finish(f, i);
}

void fleet_tick(struct fleet *f)
{
    while (f->next < f->c.n && f->running < (size_t)f->c.parallel)
        start(f, f->next++);
    for (size_t i = 0; i < f->next; i++)
        if (f->runs[i].s)
            step(f, i);
    /* a slot freed this turn: fill it now rather than a poll later */
    while (f->next < f->c.n && f->running < (size_t)f->c.parallel)
        start(f, f->next++);
}

bool fleet_done(const struct fleet *f)
{
    return f->finished == f->c.n;
}

int fleet_poll_ms(const struct fleet *f)
{
    (void)f;
    return FLEET_POLL_MS;
}

size_t fleet_count(const struct fleet *f)
{
    return f->c.n;
}

const struct fleet_row *fleet_row(const struct fleet *f, size_t i)
{
    return i < f->c.n ? &f->rows[i] : NULL;
}

void fleet_free(struct fleet *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->c.n; i++) {
        session_close(f->runs[i].s);
        fleet_row_clear(&f->rows[i]);
    }
    free(f->runs);
    free(f->rows);
    free(f);
}
