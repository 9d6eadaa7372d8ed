/* fleet_render: the fleet report, composed from each cluster's own report output.
 *
 * The per-cluster reports are report_render()'s text, used as it is: JSON is spliced in as the
 * value of "report" (JSON text never holds a raw newline inside a string, so re-indenting after
 * each newline is safe), Markdown gets its headings one level down, CSV records get a context
 * column in front. Nothing here knows how report.c builds its output, so a streaming JSON writer
 * there changes nothing here. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "idwatch/fleet.h"

static char *clean(const char *s)
{
    size_t n = strlen(s ? s : "") + 1;
    char *d = xmalloc(n);
    return str_sanitize(d, n, s ? s : "");
}

static void when_text(int64_t t, char out[32])
{
    time_format_rfc3339(t ? t : time_now(), out);
}

/* ---- JSON ----------------------------------------------------------------------------------- */

/* A JSON string (or null), escaped by cJSON, control bytes replaced first. */
static void json_str(struct idw_buf *out, const char *s)
{
    if (!s) {
        buf_puts(out, "null");
        return;
    }
    char *c = clean(s);
    cJSON *j = cJSON_CreateString(c);
    char *txt = j ? cJSON_PrintUnformatted(j) : NULL;
    buf_puts(out, txt ? txt : "\"\"");
    cJSON_free(txt);
    cJSON_Delete(j);
    free(c);
}

/* Appends JSON text with indent tabs after every newline (none sits inside a JSON string). */
static void json_indented(struct idw_buf *out, const char *s, size_t len, int indent)
{
    while (len && (s[len - 1] == '\n' || s[len - 1] == ' ' || s[len - 1] == '\t'))
        len--;
    size_t from = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] != '\n')
            continue;
        buf_append(out, s + from, i + 1 - from);
        for (int k = 0; k < indent; k++)
            buf_puts(out, "\t");
        from = i + 1;
    }
    buf_append(out, s + from, len - from);
}

static void render_json(struct idw_buf *out, const struct fleet_part *parts, size_t n,
                        const struct fleet_summary *sum, const char *when)
{
    buf_puts(out, "{\n\t\"schema\":\t\"idwatch.fleet/v1\",\n\t\"generated_at\":\t");
    json_str(out, when);
    buf_puts(out, ",\n\t\"reports\":\t[");
    for (size_t i = 0; i < n; i++) {
        const struct fleet_part *p = &parts[i];
        buf_puts(out, i ? ", {\n\t\t\t\"context\":\t" : "{\n\t\t\t\"context\":\t");
        json_str(out, p->row->context);
        buf_puts(out, ",\n\t\t\t\"error\":\t");
        json_str(out, p->report ? NULL : (p->row->error ? p->row->error : "not audited"));
        buf_puts(out, ",\n\t\t\t\"report\":\t");
        if (p->report && p->report_len)
            json_indented(out, p->report, p->report_len, 3);
        else
            buf_puts(out, "null");
        buf_puts(out, "\n\t\t}");
    }
    buf_puts(out, "],\n\t\"summary\":\t");
    cJSON *s = cJSON_CreateObject();
    cJSON_AddNumberToObject(s, "clusters", (double)sum->clusters);
    cJSON_AddNumberToObject(s, "failed", (double)sum->failed);
    cJSON_AddNumberToObject(s, "workloads", sum->workloads);
    cJSON_AddNumberToObject(s, "percent_migrated", sum->percent_migrated);
    cJSON_AddNumberToObject(s, "pod_identity_removable", (double)sum->removable);
    char *txt = cJSON_Print(s);
    if (!txt) /* cJSON allocation failure: follow the x-alloc rule */
        abort();
    json_indented(out, txt, strlen(txt), 1);
    cJSON_free(txt);
    cJSON_Delete(s);
    buf_puts(out, "\n}\n");
}

int fleet_json_compact(struct idw_buf *b)
{
    /* Parsed and printed again by cJSON: its cJSON_Minify (1.7.15) mistakes a string ending in
     * an escaped backslash for an open one. */
    cJSON *root = b->data ? cJSON_ParseWithLength(b->data, b->len) : NULL;
    if (!root)
        return -1;
    char *txt = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    if (!txt) /* cJSON allocation failure: follow the x-alloc rule */
        abort();
    buf_reset(b);
    buf_puts(b, txt);
    buf_puts(b, "\n");
    cJSON_free(txt);
    return 0;
}

/* ---- text ----------------------------------------------------------------------------------- */

#define SUM_COLS 11
static const char *const sum_head[SUM_COLS] = {"CONTEXT",   "STATE", "WORKLOADS", "MIGRATED",
                                               "WI",        "AAD",   "BOTH",      "ERRORS",
                                               "REMOVABLE", "EXIT",  "ERROR"};

static void sum_cells(const struct fleet_row *r, char *cells[SUM_COLS])
{
    bool done = r->state == FLEET_DONE;
    cells[0] = clean(r->context);
    cells[1] = xstrdup(fleet_state_name(r->state));
    cells[2] = done ? xasprintf("%d", r->workloads) : xstrdup("-");
    cells[3] = done ? xasprintf("%.1f%%", r->percent_migrated) : xstrdup("-");
    cells[4] = done ? xasprintf("%d", r->wi) : xstrdup("-");
    cells[5] = done ? xasprintf("%d", r->pi) : xstrdup("-");
    cells[6] = done ? xasprintf("%d", r->both) : xstrdup("-");
    cells[7] = done ? xasprintf("%d", r->errors) : xstrdup("-");
    cells[8] = xstrdup(done ? (r->removable ? "yes" : "no") : "-");
    cells[9] = xasprintf("%d", r->exit_code);
    cells[10] = clean(r->error ? r->error : "");
}

static void summary_line(struct idw_buf *out, const struct fleet_summary *s)
{
    buf_printf(out,
               "%zu cluster%s, %zu failed; %d workloads, %.1f%% migrated; pod identity removable "
               "on %zu of %zu audited; exit %d\n",
               s->clusters, s->clusters == 1 ? "" : "s", s->failed, s->workloads,
               s->percent_migrated, s->removable, s->clusters - s->failed, s->exit_code);
}

static void render_text(struct idw_buf *out, const struct fleet_part *parts, size_t n,
                        const struct fleet_summary *sum, const char *when)
{
    buf_printf(out, "idwatch fleet report   %zu cluster%s   %s\n", n, n == 1 ? "" : "s", when);
    for (size_t i = 0; i < n; i++) {
        const struct fleet_part *p = &parts[i];
        char *ctx = clean(p->row->context);
        buf_printf(out, "\n=== %s: %s ===\n\n", ctx, fleet_state_name(p->row->state));
        free(ctx);
        if (p->report) {
            buf_append(out, p->report, p->report_len);
        } else {
            char *e = clean(p->row->error ? p->row->error : "not audited");
            buf_printf(out, "error: %s\n", e);
            free(e);
        }
    }
    buf_puts(out, "\n=== summary ===\n\n");
    char *(*cells)[SUM_COLS] = xcalloc(n + 1, sizeof *cells);
    size_t width[SUM_COLS];
    for (int c = 0; c < SUM_COLS; c++)
        width[c] = strlen(sum_head[c]);
    for (size_t i = 0; i < n; i++) {
        sum_cells(parts[i].row, cells[i]);
        for (int c = 0; c < SUM_COLS; c++)
            if (strlen(cells[i][c]) > width[c])
                width[c] = strlen(cells[i][c]);
    }
    for (int c = 0; c < SUM_COLS; c++) {
        if (c + 1 < SUM_COLS)
            buf_printf(out, "%-*s  ", (int)width[c], sum_head[c]);
        else
            buf_printf(out, "%s\n", sum_head[c]);
    }
    for (size_t i = 0; i < n; i++) {
        for (int c = 0; c < SUM_COLS; c++) {
            if (c + 1 < SUM_COLS)
                buf_printf(out, "%-*s  ", (int)width[c], cells[i][c]);
            else
                buf_puts(out, cells[i][c]);
            free(cells[i][c]);
        }
        while (out->len && out->data[out->len - 1] == ' ') /* an empty ERROR column */
            out->data[--out->len] = '\0';
        buf_puts(out, "\n");
    }
    free(cells);
    buf_puts(out, "\n");
    summary_line(out, sum);
}

/* ---- Markdown ------------------------------------------------------------------------------- */

static void md_cell(struct idw_buf *out, const char *s)
{
    char *c = clean(s);
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

/* The cluster's Markdown with every heading one level down (its "# idwatch report" becomes a
 * section of the fleet report). */
static void md_demoted(struct idw_buf *out, const char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        const char *nl = memchr(s + i, '\n', len - i);
        size_t end = nl ? (size_t)(nl - s) + 1 : len;
        if (s[i] == '#')
            buf_puts(out, "#");
        buf_append(out, s + i, end - i);
        i = end;
    }
}

static void render_markdown(struct idw_buf *out, const struct fleet_part *parts, size_t n,
                            const struct fleet_summary *sum, const char *when)
{
    buf_printf(out, "# idwatch fleet report\n\n%zu cluster%s, generated %s.\n", n,
               n == 1 ? "" : "s", when);
    for (size_t i = 0; i < n; i++) {
        const struct fleet_part *p = &parts[i];
        buf_puts(out, "\n");
        if (p->report) {
            md_demoted(out, p->report, p->report_len);
        } else {
            buf_puts(out, "## idwatch report\n\nContext `");
            md_cell(out, p->row->context);
            buf_puts(out, "`: **failed**: ");
            md_cell(out, p->row->error ? p->row->error : "not audited");
            buf_puts(out, "\n");
        }
    }
    buf_puts(out, "\n## Summary\n\n|");
    for (int c = 0; c < SUM_COLS; c++)
        buf_printf(out, " %s |", sum_head[c]);
    buf_puts(out, "\n|");
    for (int c = 0; c < SUM_COLS; c++)
        buf_puts(out, "---|");
    buf_puts(out, "\n");
    for (size_t i = 0; i < n; i++) {
        char *cells[SUM_COLS];
        sum_cells(parts[i].row, cells);
        buf_puts(out, "|");
        for (int c = 0; c < SUM_COLS; c++) {
            buf_puts(out, " ");
            md_cell(out, cells[c]);
            buf_puts(out, " |");
            free(cells[c]);
        }
        buf_puts(out, "\n");
    }
    buf_puts(out, "\n");
    summary_line(out, sum);
}

/* ---- CSV ------------------------------------------------------------------------------------ */

static void csv_field(struct idw_buf *out, const char *s)
{
    char *c = clean(s);
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
}

/* Calls fn for each RFC 4180 record of s (without its line break). */
static void csv_records(const char *s, size_t len,
                        void (*fn)(void *ctx, size_t idx, const char *rec, size_t n), void *ctx)
{
    size_t start = 0, idx = 0;
    bool quoted = false;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '"') {
            quoted = !quoted; /* "" inside a field toggles twice */
        } else if (!quoted && s[i] == '\n') {
            size_t end = i > start && s[i - 1] == '\r' ? i - 1 : i;
            fn(ctx, idx++, s + start, end - start);
            start = i + 1;
        }
    }
    if (start < len)
        fn(ctx, idx, s + start, len - start);
}

struct csv_ctx {
    struct idw_buf *out;
    const char *context;
    size_t *n_cols;
    bool header_needed;
};

static size_t csv_count_fields(const char *rec, size_t n)
{
    size_t fields = 1;
    bool quoted = false;
    for (size_t i = 0; i < n; i++) {
        if (rec[i] == '"')
            quoted = !quoted;
        else if (rec[i] == ',' && !quoted)
            fields++;
    }
    return fields;
}

static void csv_record(void *ctx, size_t idx, const char *rec, size_t n)
{
    struct csv_ctx *c = ctx;
    if (idx == 0) { /* a report's header: the first one (of an empty report) is the fleet's */
        if (c->header_needed) {
            buf_puts(c->out, "context,");
            buf_append(c->out, rec, n);
            buf_puts(c->out, ",cluster_error\r\n");
            *c->n_cols = csv_count_fields(rec, n);
            c->header_needed = false;
        }
        return;
    }
    csv_field(c->out, c->context);
    buf_puts(c->out, ",");
    buf_append(c->out, rec, n);
    buf_puts(c->out, ",\r\n");
}

static void render_csv(struct idw_buf *out, const struct fleet_part *parts, size_t n,
                       const char *empty_header, size_t empty_len)
{
    size_t n_cols = 0;
    struct csv_ctx c = {.out = out, .n_cols = &n_cols, .header_needed = true};
    /* the header comes from a report with no workloads: the columns stay report.c's */
    csv_records(empty_header, empty_len, csv_record, &c);
    for (size_t i = 0; i < n; i++) {
        const struct fleet_part *p = &parts[i];
        c.context = p->row->context;
        if (p->report) {
            csv_records(p->report, p->report_len, csv_record, &c);
            continue;
        }
        csv_field(out, p->row->context);
        for (size_t k = 0; k < n_cols; k++)
            buf_puts(out, ",");
        buf_puts(out, ",");
        csv_field(out, p->row->error ? p->row->error : "not audited");
        buf_puts(out, "\r\n");
    }
}

void fleet_render(struct idw_buf *out, enum report_format f, bool compact,
                  const struct fleet_part *parts, size_t n, int64_t generated_at)
{
    struct fleet_row *rows = xcalloc(n + 1, sizeof *rows);
    for (size_t i = 0; i < n; i++)
        rows[i] = *parts[i].row; /* shallow: only for the sums */
    struct fleet_summary sum;
    fleet_summarize(rows, n, &sum);
    free(rows);
    char when[32];
    when_text(generated_at, when);
    switch (f) {
    case REPORT_JSON: {
        size_t from = out->len;
        render_json(out, parts, n, &sum, when);
        if (compact) {
            struct idw_buf tmp = {0};
            buf_append(&tmp, out->data + from, out->len - from);
            if (fleet_json_compact(&tmp) == 0) { /* it is our own JSON: it always parses */
                out->len = from;
                out->data[from] = '\0';
                buf_append(out, tmp.data, tmp.len);
            }
            buf_free(&tmp);
        }
        break;
    }
    case REPORT_MARKDOWN: render_markdown(out, parts, n, &sum, when); break;
    case REPORT_CSV: {
        struct check_result *empty = check_new();
        struct idw_buf head = {0};
        report_render(&head, REPORT_CSV, empty, NULL);
        render_csv(out, parts, n, head.data ? head.data : "", head.len);
        buf_free(&head);
        check_free(empty);
        break;
    }
    default: render_text(out, parts, n, &sum, when); break;
    }
}
