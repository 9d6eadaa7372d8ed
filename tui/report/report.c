/* report: text, JSON (idwatch.report/v1), Markdown and CSV renderings of the check results. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


#include "idwatch/report.h"
#include "jsonw.h"

static const char *const format_names[] = {
#define X(id, name) name,
    REPORT_FORMATS(X)
#undef X
};

int report_format_parse(const char *s, enum report_format *out, struct idw_err *err)
{
    for (int i = 0; s && i < REPORT__COUNT; i++) {
        if (strcmp(s, format_names[i]) == 0) {
            *out = (enum report_format)i;
            return 0;
        }
    }
    return idw_err_set(err, "unknown output format '%s' (want text, json, markdown or csv)",
                       s ? s : "");
}

const char *report_format_name(enum report_format f)
{
    return (unsigned)f < REPORT__COUNT ? format_names[f] : "text";
}

int report_exit_code(const struct check_result *r)
{
    return check_error_count(r) > 0 ? 1 : 0;
}

/* ---- shared helpers ---------------------------------------------------------------------- */

/* A sanitized heap copy: untrusted cluster strings never carry control bytes into the output. */
static char *clean(const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s) + 1;
    char *d = xmalloc(n);
    return str_sanitize(d, n, s);
}

static int cmp_workload(const void *a, const void *b)
{
    const struct check_workload *x = *(const struct check_workload *const *)a;
    const struct check_workload *y = *(const struct check_workload *const *)b;
    int c = strcmp(x->namespace_ ? x->namespace_ : "", y->namespace_ ? y->namespace_ : "");
    if (c)
        return c;
    c = strcmp(x->name ? x->name : "", y->name ? y->name : "");
    if (c)
        return c;
    return (int)x->kind - (int)y->kind;
}

/* The workloads in scope (-n, -l), sorted; *n gets their number. */
static const struct check_workload **sorted(const struct check_result *r, size_t *n)
{
    const struct check_workload **v = xcalloc(r->n_workloads + 1, sizeof *v);
    size_t k = 0;
    for (size_t i = 0; i < r->n_workloads; i++)
        if (r->workloads[i].in_scope)
            v[k++] = &r->workloads[i];
    qsort(v, k, sizeof *v, cmp_workload);
    *n = k;
    return v;
}

/* "3 ok, 1 stale, 1 forbidden" over the sources. */
static void sources_summary(const struct check_cluster *cl, struct idw_buf *b)
{
    size_t count[CHECK_SRC__COUNT] = {0};
    for (size_t i = 0; i < cl->n_sources; i++)
        count[cl->sources[i].state]++;
    for (int st = 0; st < CHECK_SRC__COUNT; st++)
        if (count[st])
            buf_printf(b, "%s%zu %s", b->len ? ", " : "", count[st],
                       check_source_state_name((enum check_source_state)st));
    if (!b->len)
        buf_puts(b, "none");
}

static void when_text(const struct report_meta *m, char out[32])
{
    time_format_rfc3339(m && m->generated_at ? m->generated_at : time_now(), out);
}

/* ---- JSON -------------------------------------------------------------------------------- */

/* Strings from the cluster are sanitized before they are written. */
static void j_str(struct jsonw *w, const char *k, const char *v)
{
    if (!v) {
        jsonw_null(w, k);
        return;
    }
    char *c = clean(v);
    jsonw_string(w, k, c);
    free(c);
}

static void j_int(struct jsonw *w, const char *k, double v, bool known)
{
    if (known)
        jsonw_number(w, k, v);
    else
        jsonw_null(w, k);
}

static void j_findings(struct jsonw *w, const char *key, const struct check_finding *f, size_t n)
{
    jsonw_array(w, key);
    for (size_t i = 0; i < n; i++) {
        jsonw_object(w, NULL);
        j_str(w, "severity", check_severity_name(f[i].severity));
        j_str(w, "code", check_code_name(f[i].code));
        j_str(w, "message", f[i].message);
        j_str(w, "remedy", f[i].remedy);
        jsonw_end(w, '}');
    }
    jsonw_end(w, ']');
}

static void j_cluster(struct jsonw *w, const struct check_result *r, const struct report_meta *m)
{
    const struct check_cluster *cl = &r->cluster;
    jsonw_object(w, "cluster");
    j_str(w, "context", m ? m->context : NULL);
    j_str(w, "server", m ? m->server : NULL);
    j_str(w, "arm_id", cl->arm_id);
    j_str(w, "oidc_issuer", cl->oidc_issuer);

    jsonw_object(w, "oidc");
    j_str(w, "status", check_oidc_name(cl->oidc.status));
    j_str(w, "detail", cl->oidc.detail ? cl->oidc.detail : "");
    jsonw_end(w, '}');

    bool wk = cl->webhook.status != CHECK_WEBHOOK_UNKNOWN;
    jsonw_object(w, "workload_identity_webhook");
    j_str(w, "status", check_webhook_name(cl->webhook.status));
    j_int(w, "ready", cl->webhook.ready, wk);
    j_int(w, "desired", cl->webhook.desired, wk);
    j_str(w, "namespace", cl->webhook.namespace_);
    jsonw_end(w, '}');

    bool pk = cl->pod_identity.status != CHECK_PODID_UNKNOWN;
    jsonw_object(w, "pod_identity");
    j_str(w, "status", check_podid_name(cl->pod_identity.status));
    j_int(w, "nmi_ready", cl->pod_identity.nmi_ready, pk);
    j_int(w, "nmi_desired", cl->pod_identity.nmi_desired, pk);
    j_int(w, "mic_ready", cl->pod_identity.mic_ready, pk);
    j_int(w, "mic_desired", cl->pod_identity.mic_desired, pk);
    j_int(w, "identities", cl->pod_identity.identities, true);
    j_int(w, "bindings", cl->pod_identity.bindings, true);
    jsonw_end(w, '}');

    jsonw_object(w, "migration");
    j_int(w, "total", cl->migration.total, true);
    j_int(w, "workload_identity", cl->migration.workload_identity, true);
    j_int(w, "pod_identity", cl->migration.pod_identity, true);
    j_int(w, "both", cl->migration.both, true);
    j_int(w, "none", cl->migration.none, true);
    j_int(w, "percent_migrated", cl->migration.percent_migrated, true);
    jsonw_end(w, '}');

    jsonw_object(w, "pod_identity_removal");
    jsonw_bool(w, "safe", cl->removal.safe);
    jsonw_array(w, "blockers");
    for (size_t i = 0; i < cl->removal.n_blockers; i++)
        j_str(w, NULL, cl->removal.blockers[i]);
    jsonw_end(w, ']');
    jsonw_end(w, '}');
    /* Extension: cluster-wide findings (they count for the exit code too). */
    j_findings(w, "findings", cl->findings, cl->n_findings);
    /* Additive in v1: the scope of the workloads listed, and every data source's state. */
    j_str(w, "scope", cl->scope);
    jsonw_array(w, "sources");
    for (size_t i = 0; i < cl->n_sources; i++) {
        const struct check_source *sr = &cl->sources[i];
        jsonw_object(w, NULL);
        j_str(w, "name", sr->name);
        j_str(w, "state", check_source_state_name(sr->state));
        j_str(w, "detail", sr->detail);
        j_int(w, "age_seconds", (double)sr->age_seconds, sr->age_seconds >= 0);
        jsonw_end(w, '}');
    }
    jsonw_end(w, ']');
    jsonw_end(w, '}');
}

static void j_workload(struct jsonw *w, const struct check_workload *cw)
{
    jsonw_object(w, NULL);
    j_str(w, "kind", model_kind_name(cw->kind));
    j_str(w, "namespace", cw->namespace_);
    j_str(w, "name", cw->name);
    j_str(w, "service_account", cw->service_account);
    j_str(w, "mechanism", check_mechanism_name(cw->mechanism));

    jsonw_object(w, "federation");
    j_str(w, "status", check_federation_name(cw->federation.status));
    j_str(w, "client_id", cw->federation.client_id);
    j_str(w, "identity", cw->federation.identity);
    j_str(w, "credential", cw->federation.credential);
    j_str(w, "detail", cw->federation.detail ? cw->federation.detail : "");
    jsonw_end(w, '}');

    jsonw_object(w, "projection");
    j_str(w, "status", check_projection_name(cw->projection.status));
    j_int(w, "pods_ok", cw->projection.pods_ok, true);
    j_int(w, "pods_total", cw->projection.pods_total, true);
    j_str(w, "detail", cw->projection.detail ? cw->projection.detail : "");
    jsonw_end(w, '}');

    bool known = cw->activity.status != CHECK_ACT_UNKNOWN;
    jsonw_object(w, "pod_identity_activity");
    j_str(w, "status", check_activity_name(cw->activity.status));
    j_int(w, "requests", (double)cw->activity.requests, known);
    j_int(w, "errors", (double)cw->activity.errors, known);
    if (cw->activity.last_seen) {
        char t[32];
        time_format_rfc3339(cw->activity.last_seen, t);
        j_str(w, "last_seen", t);
    } else {
        jsonw_null(w, "last_seen");
    }
    j_int(w, "window_seconds", (double)cw->activity.window_seconds, true);
    j_str(w, "detail", cw->activity.detail);
    if (cw->binding_removable < 0)
        jsonw_null(w, "binding_removable");
    else
        jsonw_bool(w, "binding_removable", cw->binding_removable == 1);
    j_str(w, "binding_removable_reason", cw->binding_reason);
    jsonw_end(w, '}');

    j_findings(w, "findings", cw->findings, cw->n_findings);
    jsonw_end(w, '}');
}

static void render_json(struct idw_buf *out, const struct check_result *r,
                        const struct report_meta *m)
{
    struct jsonw w;
    jsonw_init(&w, out, true);
    jsonw_object(&w, NULL);
    jsonw_string(&w, "schema", "idwatch.report/v1");
    char t[32];
    when_text(m, t);
    jsonw_string(&w, "generated_at", t);
    j_cluster(&w, r, m);
    jsonw_array(&w, "workloads");
    size_t nv;
    const struct check_workload **v = sorted(r, &nv);
    for (size_t i = 0; i < nv; i++)
        j_workload(&w, v[i]);
    free(v);
    jsonw_end(&w, ']');
    jsonw_end(&w, '}');
}

/* ---- text -------------------------------------------------------------------------------- */

#define N_COLS 8
static const char *const col_names[N_COLS] = {"KIND",       "NAMESPACE",  "NAME",       "MECHANISM",
                                              "FEDERATION", "PROJECTION", "POD-ID USE", "FINDINGS"};

static void row_cells(const struct check_workload *w, char *cells[N_COLS])
{
    cells[0] = xstrdup(model_kind_name(w->kind));
    cells[1] = clean(w->namespace_ ? w->namespace_ : "");
    cells[2] = clean(w->name ? w->name : "");
    cells[3] = xstrdup(check_mechanism_name(w->mechanism));
    cells[4] = xstrdup(check_federation_name(w->federation.status));
    if (w->projection.status == CHECK_PROJ_NOT_APPLICABLE)
        cells[5] = xstrdup(check_projection_name(w->projection.status));
    else
        cells[5] = xasprintf("%s %d/%d", check_projection_name(w->projection.status),
                             w->projection.pods_ok, w->projection.pods_total);
    if (w->activity.requests)
        cells[6] = xasprintf("%s %lld/%lld", check_activity_name(w->activity.status),
                             (long long)w->activity.errors, (long long)w->activity.requests);
    else
        cells[6] = xstrdup(check_activity_name(w->activity.status));
    if (w->n_errors || w->n_warnings)
        cells[7] = xasprintf("%d error%s, %d warning%s", w->n_errors, w->n_errors == 1 ? "" : "s",
                             w->n_warnings, w->n_warnings == 1 ? "" : "s");
    else
        cells[7] = xstrdup(w->n_findings ? "info" : "-");
}

static void text_cell(struct idw_buf *out, const char *s, int col, size_t width)
{
    if (col + 1 < N_COLS)
        buf_printf(out, "%-*s  ", (int)width, s);
    else
        buf_printf(out, "%s\n", s);
}

static void text_finding(struct idw_buf *out, const struct check_finding *f)
{
    char *msg = clean(f->message);
    buf_printf(out, "  %-7s %s: %s\n", check_severity_name(f->severity), check_code_name(f->code),
               msg);
    free(msg);
    if (f->evidence) {
        char *e = clean(f->evidence);
        buf_printf(out, "          evidence: %s\n", e);
        free(e);
    }
    if (f->remedy) {
        char *rm = clean(f->remedy);
        buf_printf(out, "          remedy:   %s\n", rm);
        char key[16];
        action_default_key(f->action, key);
        if (key[0])
            buf_printf(out, "          (key '%s' in the dashboard applies it)\n", key);
        free(rm);
    }
}

static void render_text(struct idw_buf *out, const struct check_result *r,
                        const struct report_meta *m)
{
    const struct check_cluster *cl = &r->cluster;
    char t[32];
    when_text(m, t);
    char *ctx = clean(m && m->context ? m->context : "-");
    char *srv = clean(m && m->server ? m->server : "-");
    buf_printf(out, "idwatch report   context %s   server %s   %s\n\n", ctx, srv, t);
    free(ctx);
    free(srv);

    char *iss = clean(cl->oidc_issuer ? cl->oidc_issuer : "-");
    char *od = clean(cl->oidc.detail ? cl->oidc.detail : "");
    buf_printf(out, "OIDC issuer           %-9s %s%s%s\n", check_oidc_name(cl->oidc.status), iss,
               od[0] ? "  " : "", od);
    free(iss);
    free(od);
    char *wns = clean(cl->webhook.namespace_ ? cl->webhook.namespace_ : "-");
    buf_printf(out, "Workload identity     %-9s webhook %d/%d ready in %s\n",
               check_webhook_name(cl->webhook.status), cl->webhook.ready, cl->webhook.desired, wns);
    free(wns);
    buf_printf(out, "AAD Pod Identity      %-9s NMI %d/%d, MIC %d/%d, %d identities, %d bindings\n",
               check_podid_name(cl->pod_identity.status), cl->pod_identity.nmi_ready,
               cl->pod_identity.nmi_desired, cl->pod_identity.mic_ready,
               cl->pod_identity.mic_desired, cl->pod_identity.identities,
               cl->pod_identity.bindings);
    buf_printf(out,
               "Migration             %.1f%%      %d workloads: %d workload identity, %d pod "
               "identity, %d both, %d none\n",
               cl->migration.percent_migrated, cl->migration.total, cl->migration.workload_identity,
               cl->migration.pod_identity, cl->migration.both, cl->migration.none);
    buf_printf(out, "Remove pod identity   %s\n", cl->removal.safe ? "safe" : "not yet");
    for (size_t i = 0; i < cl->removal.n_blockers; i++) {
        char *b = clean(cl->removal.blockers[i]);
        buf_printf(out, "                      - %s\n", b ? b : "");
        free(b);
    }
    if (cl->scope) {
        char *sc = clean(cl->scope);
        buf_printf(out, "Scope                 %s (cluster facts are read cluster-wide)\n", sc);
        free(sc);
    }
    struct idw_buf sum = {0};
    sources_summary(cl, &sum);
    buf_printf(out, "Sources               %s\n", sum.data);
    buf_free(&sum);
    for (size_t i = 0; i < cl->n_sources; i++) {
        const struct check_source *sr = &cl->sources[i];
        if (sr->state == CHECK_SRC_OK)
            continue;
        char *nm = clean(sr->name), *d = clean(sr->detail ? sr->detail : "");
        buf_printf(out, "                      - %s: %s%s%s\n", nm,
                   check_source_state_name(sr->state), d[0] ? ": " : "", d);
        free(nm);
        free(d);
    }
    buf_puts(out, "\n");

    size_t nv;
    const struct check_workload **v = sorted(r, &nv);
    size_t width[N_COLS];
    for (int c = 0; c < N_COLS; c++)
        width[c] = strlen(col_names[c]);
    char *(*cells)[N_COLS] = xcalloc(nv + 1, sizeof *cells);
    for (size_t i = 0; i < nv; i++) {
        row_cells(v[i], cells[i]);
        for (int c = 0; c < N_COLS; c++)
            if (strlen(cells[i][c]) > width[c])
                width[c] = strlen(cells[i][c]);
    }
    for (int c = 0; c < N_COLS; c++)
        text_cell(out, col_names[c], c, width[c]);
    for (size_t i = 0; i < nv; i++) {
        for (int c = 0; c < N_COLS; c++) {
            text_cell(out, cells[i][c], c, width[c]);
            free(cells[i][c]);
        }
    }
    free(cells);

    size_t nf = cl->n_findings;
    for (size_t i = 0; i < nv; i++)
        nf += v[i]->n_findings;
    if (nf) {
        buf_printf(out, "\nFindings (%zu errors)\n", check_error_count(r));
        for (size_t i = 0; i < cl->n_findings; i++)
            text_finding(out, &cl->findings[i]);
        for (size_t i = 0; i < nv; i++)
            for (size_t k = 0; k < v[i]->n_findings; k++)
                text_finding(out, &v[i]->findings[k]);
    }
    free(v);
}

/* ---- Markdown ---------------------------------------------------------------------------- */

/* Table cells: no '|' (breaks the table) and no backticks (break code spans). */
static void md_put(struct idw_buf *out, const char *s)
{
    char *c = clean(s ? s : "");
    for (const char *p = c; *p; p++) {
        if (*p == '|')
            buf_puts(out, "\\|");
        else if (*p == '`')
            buf_puts(out, "'");
        else
            buf_append(out, p, 1);
    }
    free(c);
}

static void md_finding(struct idw_buf *out, const struct check_finding *f)
{
    buf_printf(out, "- **%s** `%s` ", check_severity_name(f->severity), check_code_name(f->code));
    md_put(out, f->message);
    buf_puts(out, "\n");
    if (f->remedy) {
        buf_puts(out, "  - remedy: `");
        md_put(out, f->remedy);
        buf_puts(out, "`\n");
    }
}

static void render_markdown(struct idw_buf *out, const struct check_result *r,
                            const struct report_meta *m)
{
    const struct check_cluster *cl = &r->cluster;
    char t[32];
    when_text(m, t);
    buf_puts(out, "# idwatch report\n\n");
    buf_puts(out, "Context `");
    md_put(out, m && m->context ? m->context : "-");
    buf_puts(out, "`, server `");
    md_put(out, m && m->server ? m->server : "-");
    buf_printf(out, "`, generated %s.\n\n", t);

    buf_puts(out, "## Cluster\n\n| | status | detail |\n|---|---|---|\n");
    buf_printf(out, "| OIDC issuer | %s | ", check_oidc_name(cl->oidc.status));
    md_put(out, cl->oidc_issuer ? cl->oidc_issuer : "-");
    buf_puts(out, " |\n");
    buf_printf(out, "| Workload identity webhook | %s | %d/%d ready in ",
               check_webhook_name(cl->webhook.status), cl->webhook.ready, cl->webhook.desired);
    md_put(out, cl->webhook.namespace_ ? cl->webhook.namespace_ : "-");
    buf_puts(out, " |\n");
    buf_printf(
        out, "| AAD Pod Identity | %s | NMI %d/%d, MIC %d/%d, %d identities, %d bindings |\n",
        check_podid_name(cl->pod_identity.status), cl->pod_identity.nmi_ready,
        cl->pod_identity.nmi_desired, cl->pod_identity.mic_ready, cl->pod_identity.mic_desired,
        cl->pod_identity.identities, cl->pod_identity.bindings);
    buf_printf(out,
               "| Migration | %.1f%% | %d workloads: %d workload identity, %d pod identity, %d "
               "both, %d none |\n",
               cl->migration.percent_migrated, cl->migration.total, cl->migration.workload_identity,
               cl->migration.pod_identity, cl->migration.both, cl->migration.none);
    buf_printf(out, "| Remove pod identity | %s | ", cl->removal.safe ? "safe" : "not yet");
    for (size_t i = 0; i < cl->removal.n_blockers; i++) {
        if (i)
            buf_puts(out, "; ");
        md_put(out, cl->removal.blockers[i]);
    }
    buf_puts(out, " |\n");
    if (cl->scope) {
        buf_puts(out, "| Scope | listed | ");
        md_put(out, cl->scope);
        buf_puts(out, " (cluster facts are read cluster-wide) |\n");
    }
    struct idw_buf sum = {0};
    sources_summary(cl, &sum);
    buf_puts(out, "| Sources | | ");
    md_put(out, sum.data);
    buf_free(&sum);
    for (size_t i = 0; i < cl->n_sources; i++) {
        const struct check_source *sr = &cl->sources[i];
        if (sr->state == CHECK_SRC_OK)
            continue;
        buf_puts(out, "; ");
        md_put(out, sr->name);
        buf_printf(out, " %s", check_source_state_name(sr->state));
        if (sr->detail) {
            buf_puts(out, ": ");
            md_put(out, sr->detail);
        }
    }
    buf_puts(out, " |\n\n");

    size_t nv;
    const struct check_workload **v = sorted(r, &nv);
    buf_puts(out,
             "## Workloads\n\n| kind | namespace | name | mechanism | federation | "
             "projection | pod identity use | findings |\n|---|---|---|---|---|---|---|---|\n");
    for (size_t i = 0; i < nv; i++) {
        char *cells[N_COLS];
        row_cells(v[i], cells);
        buf_puts(out, "|");
        for (int c = 0; c < N_COLS; c++) {
            buf_puts(out, " ");
            md_put(out, cells[c]);
            buf_puts(out, " |");
            free(cells[c]);
        }
        buf_puts(out, "\n");
    }
    size_t nf = cl->n_findings;
    for (size_t i = 0; i < nv; i++)
        nf += v[i]->n_findings;
    if (nf) {
        buf_puts(out, "\n## Findings\n\n");
        for (size_t i = 0; i < cl->n_findings; i++)
            md_finding(out, &cl->findings[i]);
        for (size_t i = 0; i < nv; i++)
            for (size_t k = 0; k < v[i]->n_findings; k++)
                md_finding(out, &v[i]->findings[k]);
    }
    free(v);
}

/* ---- CSV (RFC 4180: CRLF, quote fields holding , " CR LF, double the quotes) -------------- */

static void csv_field(struct idw_buf *out, const char *s, bool last)
{
    char *c = clean(s ? s : "");
    if (strpbrk(c, ",\"\r\n")) {
        buf_puts(out, "\"");
        for (const char *p = c; *p; p++) {
            if (*p == '"')
                buf_puts(out, "\"\"");
            else
                buf_append(out, p, 1);
        }
        buf_puts(out, "\"");
    } else {
        buf_puts(out, c);
    }
    free(c);
    buf_puts(out, last ? "\r\n" : ",");
}

static void render_csv(struct idw_buf *out, const struct check_result *r)
{
    static const char *const head[] = {"kind",
                                       "namespace",
                                       "name",
                                       "service_account",
                                       "mechanism",
                                       "federation",
                                       "client_id",
                                       "projection",
                                       "pods_ok",
                                       "pods_total",
                                       "pod_identity_activity",
                                       "requests",
                                       "errors",
                                       "last_seen",
                                       "severity",
                                       "findings",
                                       "binding_removable"};
    size_t nh = sizeof head / sizeof head[0];
    for (size_t i = 0; i < nh; i++)
        csv_field(out, head[i], i + 1 == nh);
    size_t nv;
    const struct check_workload **v = sorted(r, &nv);
    for (size_t i = 0; i < nv; i++) {
        const struct check_workload *w = v[i];
        char num[6][24];
        snprintf(num[0], sizeof num[0], "%d", w->projection.pods_ok);
        snprintf(num[1], sizeof num[1], "%d", w->projection.pods_total);
        snprintf(num[2], sizeof num[2], "%lld", (long long)w->activity.requests);
        snprintf(num[3], sizeof num[3], "%lld", (long long)w->activity.errors);
        char seen[32] = "";
        if (w->activity.last_seen)
            time_format_rfc3339(w->activity.last_seen, seen);
        struct idw_buf codes = {0};
        for (size_t k = 0; k < w->n_findings; k++)
            buf_printf(&codes, "%s%s", k ? ";" : "", check_code_name(w->findings[k].code));
        const char *sev = w->n_errors     ? "error"
                          : w->n_warnings ? "warning"
                          : w->n_findings ? "info"
                                          : "";
        csv_field(out, model_kind_name(w->kind), false);
        csv_field(out, w->namespace_, false);
        csv_field(out, w->name, false);
        csv_field(out, w->service_account, false);
        csv_field(out, check_mechanism_name(w->mechanism), false);
        csv_field(out, check_federation_name(w->federation.status), false);
        csv_field(out, w->federation.client_id, false);
        csv_field(out, check_projection_name(w->projection.status), false);
        csv_field(out, num[0], false);
        csv_field(out, num[1], false);
        csv_field(out, check_activity_name(w->activity.status), false);
        csv_field(out, num[2], false);
        csv_field(out, num[3], false);
        csv_field(out, seen, false);
        csv_field(out, sev, false);
        csv_field(out, codes.data ? codes.data : "", false);
        csv_field(out, w->binding_removable < 0 ? "" : w->binding_removable ? "true" : "false",
                  true);
        buf_free(&codes);
    }
    free(v);
}

void report_render(struct idw_buf *out, enum report_format f, const struct check_result *r,
                   const struct report_meta *meta)
{
    switch (f) {
    case REPORT_JSON: render_json(out, r, meta); break;
    case REPORT_MARKDOWN: render_markdown(out, r, meta); break;
    case REPORT_CSV: render_csv(out, r); break;
    default: render_text(out, r, meta); break;
    }
}
