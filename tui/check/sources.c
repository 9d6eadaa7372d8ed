/* Evidence: how complete each data source is, and how much of the NMI log window was read.
 * Pure functions of the store (no I/O): a verdict that rests on an incomplete source is
 * "unknown" with the reason, never a confident "absent", "quiet" or "safe". */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_int.h"
#include "idwatch/core.h"

#define NMI_LOG_PREFIX "nmi-log "
#define COVER_SLACK_S 5 /* a log read a few seconds after the window start still covers it */

static void detail_set(struct check_source *out, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void detail_set(struct check_source *out, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char buf[512];
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    free(out->detail);
    out->detail = buf[0] ? xstrdup(buf) : NULL;
}

void check_source_describe(const struct store_source *src, int64_t now, struct check_source *out)
{
    memset(out, 0, sizeof *out);
    out->name = xstrdup(src->name);
    out->age_seconds = src->last_success ? (now > src->last_success ? now - src->last_success : 0)
                                         : -1;
    const char *err = src->error[0] ? src->error : NULL;
    switch (src->state) {
    case STORE_SRC_IDLE:
    case STORE_SRC_LISTING:
        out->state = CHECK_SRC_LOADING;
        if (err)
            detail_set(out, "%s", err);
        else if (src->total_hint)
            detail_set(out, "%zu of %zu", src->count, src->total_hint);
        break;
    case STORE_SRC_SYNCED:
    case STORE_SRC_ABSENT:
        out->state = src->partial ? CHECK_SRC_FORBIDDEN : CHECK_SRC_OK;
        if (src->note[0])
            detail_set(out, "%s", src->note);
        break;
    case STORE_SRC_ERROR:
        /* Data that was complete once and now cannot be refreshed is stale; data never read is
         * a failure. */
        out->state = src->synced_at ? CHECK_SRC_STALE : CHECK_SRC_FAILED;
        detail_set(out, "%s", err ? err : "failed");
        break;
    case STORE_SRC_STALE:
        out->state = CHECK_SRC_STALE;
        detail_set(out, "%s", err ? err : "not confirmed lately");
        break;
    case STORE_SRC_FORBIDDEN:
        out->state = CHECK_SRC_FORBIDDEN;
        detail_set(out, "%s", err ? err : "forbidden");
        break;
    case STORE_SRC_SKIPPED:
        out->state = CHECK_SRC_SKIPPED;
        detail_set(out, "%s", src->note[0] ? src->note : "not read");
        break;
    }
}

void check_source_clear(struct check_source *s)
{
    free(s->name);
    free(s->detail);
    memset(s, 0, sizeof *s);
}

bool evidence_live(const struct store *s)
{
    return store_source_count(s) > 0;
}

bool evidence_source(const struct store *s, const char *name, bool strict, char *why, size_t n)
{
    const struct store_source *src = store_source_find(s, name);
    if (!src) {
        /* A store built without sources is a snapshot (tests, replays): complete as given. A
         * live store lacks a source only when it was never started. */
        if (!evidence_live(s))
            return true;
        snprintf(why, n, "%s not read", name);
        return false;
    }
    switch (src->state) {
    case STORE_SRC_ABSENT: return true;
    case STORE_SRC_SYNCED:
        if (!src->partial)
            return true;
        snprintf(why, n, "%s: %s", name, src->note);
        return false;
    case STORE_SRC_ERROR:
        if (!strict && src->synced_at && !src->partial)
            return true; /* stale: the last complete list stands until the next one */
        snprintf(why, n, "%s: %s", name, src->error[0] ? src->error : "failed");
        return false;
    case STORE_SRC_STALE:
        if (!strict && !src->partial)
            return true;
        snprintf(why, n, "%s: %s", name, src->error[0] ? src->error : "stale");
        return false;
    case STORE_SRC_FORBIDDEN:
        snprintf(why, n, "forbidden: list %s (%s)", name, src->error[0] ? src->error : "403");
        return false;
    case STORE_SRC_SKIPPED:
        snprintf(why, n, "%s not read (%s)", name, src->note[0] ? src->note : "skipped");
        return false;
    case STORE_SRC_IDLE:
    case STORE_SRC_LISTING: break;
    }
    snprintf(why, n, "%s not listed yet", name);
    return false;
}

bool evidence_sources(const struct store *s, const char *const *names, bool strict, char *why,
                      size_t n)
{
    for (size_t i = 0; names[i]; i++)
        if (!evidence_source(s, names[i], strict, why, n))
            return false;
    return true;
}

static void cov_describe(struct nmi_cov *c, const struct store_source *src, int64_t now)
{
    char age[16];
    switch (src->state) {
    case STORE_SRC_SYNCED:
        c->read = src->covered_from > 0;
        c->from = src->covered_from;
        c->to = now;
        if (!c->read)
            c->why = xstrdup("has not been read yet");
        return;
    case STORE_SRC_STALE:
    case STORE_SRC_ERROR:
        c->read = src->covered_from > 0 && src->covered_to > 0;
        c->from = src->covered_from;
        c->to = src->covered_to;
        time_format_age(now - (src->covered_to ? src->covered_to : now), age);
        c->why = xasprintf("is %s (%s)%s%s", src->state == STORE_SRC_STALE ? "stale" : "failing",
                           src->error[0] ? src->error : "no detail",
                           c->read ? ": read up to " : "", c->read ? age : "");
        if (c->read) {
            char *w = xasprintf("%s ago", c->why);
            free(c->why);
            c->why = w;
        }
        return;
    case STORE_SRC_FORBIDDEN:
        c->why = xasprintf("could not be read (%s)", src->error[0] ? src->error : "forbidden");
        return;
    default: c->why = xstrdup("has not been read yet"); return;
    }
}

size_t evidence_nmi_logs(const struct store *s, int64_t now, struct nmi_cov **out)
{
    *out = NULL;
    size_t n = 0, cap = 0;
    size_t ns = store_source_count(s);
    for (size_t i = 0; i < ns; i++) {
        const struct store_source *src = store_source_at(s, i);
        if (strncmp(src->name, NMI_LOG_PREFIX, strlen(NMI_LOG_PREFIX)) != 0)
            continue;
        const char *label = src->name + strlen(NMI_LOG_PREFIX);
        const char *slash = strchr(label, '/');
        if (!slash)
            continue;
        xgrow((void **)out, &cap, n + 1, sizeof **out);
        struct nmi_cov *c = &(*out)[n++];
        memset(c, 0, sizeof *c);
        c->ns = xstrndup(label, (size_t)(slash - label));
        c->pod = xstrdup(slash + 1);
        const struct model_pod *p = store_get_pod(s, c->ns, c->pod);
        c->node = p ? p->node_name : NULL;
        cov_describe(c, src, now);
    }
    return n;
}

void evidence_nmi_logs_free(struct nmi_cov *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(v[i].ns);
        free(v[i].pod);
        free(v[i].why);
    }
    free(v);
}

bool evidence_cov_covers(const struct nmi_cov *c, int64_t from, int64_t to)
{
    return c->read && c->from <= from + COVER_SLACK_S && c->to + COVER_SLACK_S >= to;
}

void evidence_cov_gap(const struct nmi_cov *c, int64_t window_start, char *out, size_t n)
{
    if (!c->read || c->why) {
        snprintf(out, n, "%s", c->why ? c->why : "has not been read");
        return;
    }
    char age[16];
    time_format_age(c->to - c->from, age);
    (void)window_start;
    snprintf(out, n, "covers only the last %s of the window (the container started then)", age);
}
