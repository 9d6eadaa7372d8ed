/* wtable: filter, sort and layout of the workloads table. */
#include "idwatch/wtable.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
    const char *title;
    int minw, maxw, prio;
    bool sortable;
} cols[WTABLE_COL__COUNT] = {
#define X(id, title, minw, maxw, prio, sortable) {title, minw, maxw, prio, sortable},
    WTABLE_COLUMNS(X)
#undef X
};

const char *wtable_col_title(enum wtable_col c)
{
    return (unsigned)c < WTABLE_COL__COUNT ? cols[c].title : "?";
}

/* ---- filter ---- */

static void lower_copy(char *dst, size_t n, const char *s)
{
    size_t i = 0;
    for (; s[i] && i + 1 < n; i++)
        dst[i] = (char)tolower((unsigned char)s[i]);
    dst[i] = '\0';
}

static bool contains_ci(const char *hay, const char *needle)
{
    if (!hay)
        return false;
    size_t nl = strlen(needle);
    for (const char *p = hay; *p; p++) {
        size_t i = 0;
        while (i < nl && p[i] && tolower((unsigned char)p[i]) == needle[i])
            i++;
        if (i == nl)
            return true;
    }
    return nl == 0;
}

int wtable_filter_parse(struct wtable_filter *f, const char *text, struct idw_err *err)
{
    memset(f, 0, sizeof *f);
    while (*text == ' ')
        text++;
    snprintf(f->text, sizeof f->text, "%s", text);
    if (*text == '\0')
        return 0;
    const char *sel = NULL;
    if (strncmp(text, "-l ", 3) == 0)
        sel = text + 3;
    else if (strchr(text, '='))
        sel = text;
    if (sel) {
        struct selector parsed;
        if (selector_parse(sel, &parsed, err) != 0) {
            memset(f, 0, sizeof *f);
            return -1;
        }
        f->sel = parsed;
        f->labels = true;
        f->active = true;
        return 0;
    }
    if (*text == '!') {
        f->invert = true;
        text++;
    }
    lower_copy(f->needle, sizeof f->needle, text);
    size_t n = strlen(f->needle);
    while (n && f->needle[n - 1] == ' ')
        f->needle[--n] = '\0';
    f->active = n > 0;
    return 0;
}

/* Pod template labels first, then the workload's own: one merged view, so that negative
 * requirements (k!=v, !k) see both sets at once. */
static const char *row_label(void *ctx, const char *key)
{
    const struct wtable_row *r = ctx;
    const char *v = r->tmpl_labels ? kv_get(r->tmpl_labels, key) : NULL;
    if (!v && r->labels)
        v = kv_get(r->labels, key);
    return v;
}

bool wtable_filter_match(const struct wtable_filter *f, const struct wtable_row *r)
{
    if (!f->active)
        return true;
    if (f->labels)
        return selector_match_fn(&f->sel, row_label, (void *)r);
    char nsname[512];
    snprintf(nsname, sizeof nsname, "%s/%s", r->ns ? r->ns : "", r->name ? r->name : "");
    bool hit = contains_ci(nsname, f->needle) || contains_ci(r->kind, f->needle) ||
               contains_ci(r->sa, f->needle) || contains_ci(r->cells[WTABLE_MECH].text, f->needle);
    return hit != f->invert;
}

void wtable_filter_free(struct wtable_filter *f)
{
    if (f->labels)
        selector_free(&f->sel);
    memset(f, 0, sizeof *f);
}

/* ---- sort ---- */

static int cmp_str(const char *a, const char *b)
{
    return strcmp(a ? a : "", b ? b : "");
}

static int cmp_int(long long a, long long b)
{
    return (a > b) - (a < b);
}

static int cmp_rows(const struct wtable_row *a, const struct wtable_row *b, enum wtable_col col)
{
    int c = 0;
    switch (col) {
    case WTABLE_COL_FLAG: c = cmp_int(b->severity, a->severity); break;
    case WTABLE_COL_NAMESPACE: break;
    case WTABLE_COL_NAME: c = cmp_str(a->name, b->name); break;
    case WTABLE_COL_KIND: c = cmp_str(a->kind, b->kind); break;
    case WTABLE_COL_MECH:
        c = cmp_int(b->cells[WTABLE_MECH].rank, a->cells[WTABLE_MECH].rank);
        break;
    case WTABLE_COL_FED: c = cmp_int(b->cells[WTABLE_FED].rank, a->cells[WTABLE_FED].rank); break;
    case WTABLE_COL_PROJ:
        c = cmp_int(b->cells[WTABLE_PROJ].rank, a->cells[WTABLE_PROJ].rank);
        break;
    case WTABLE_COL_ACT:
        c = cmp_int(b->cells[WTABLE_ACT].rank, a->cells[WTABLE_ACT].rank);
        if (!c)
            c = cmp_int(b->requests, a->requests);
        break;
    case WTABLE_COL_PODS:
        /* least ready first: compare ready/total as cross products */
        c = cmp_int((long long)a->pods_ready * (b->pods_total ? b->pods_total : 1),
                    (long long)b->pods_ready * (a->pods_total ? a->pods_total : 1));
        if (!c)
            c = cmp_int(b->pods_total, a->pods_total);
        break;
    case WTABLE_COL__COUNT: break;
    }
    if (!c)
        c = cmp_str(a->ns, b->ns);
    if (!c)
        c = cmp_str(a->name, b->name);
    if (!c)
        c = cmp_str(a->kind, b->kind);
    return c;
}

/* Merge sort: stable, no global comparator state. */
static void merge_sort(struct wtable_row *rows, struct wtable_row *tmp, size_t n,
                       enum wtable_col col, bool reverse)
{
    if (n < 2)
        return;
    size_t h = n / 2;
    merge_sort(rows, tmp, h, col, reverse);
    merge_sort(rows + h, tmp, n - h, col, reverse);
    size_t i = 0, j = h, k = 0;
    while (i < h && j < n) {
        int c = cmp_rows(&rows[i], &rows[j], col);
        if (reverse)
            c = -c;
        tmp[k++] = c <= 0 ? rows[i++] : rows[j++];
    }
    while (i < h)
        tmp[k++] = rows[i++];
    while (j < n)
        tmp[k++] = rows[j++];
    memcpy(rows, tmp, n * sizeof *rows);
}

void wtable_sort(struct wtable_row *rows, size_t n, enum wtable_col col, bool reverse)
{
    if (n < 2)
        return;
    struct wtable_row *tmp = xmalloc(n * sizeof *tmp);
    merge_sort(rows, tmp, n, col, reverse);
    free(tmp);
}

enum wtable_col wtable_next_sort(enum wtable_col col)
{
    for (int i = 1; i <= WTABLE_COL__COUNT; i++) {
        enum wtable_col c = (enum wtable_col)((col + i) % WTABLE_COL__COUNT);
        if (cols[c].sortable)
            return c;
    }
    return col;
}

/* ---- layout ---- */

int wtable_layout(int width, int w[WTABLE_COL__COUNT])
{
    bool shown[WTABLE_COL__COUNT];
    int used = -1; /* n columns need n-1 separators */
    for (int c = 0; c < WTABLE_COL__COUNT; c++) {
        shown[c] = true;
        used += cols[c].minw + 1;
    }
    /* Drop the least important columns until the minimum widths fit. */
    while (used > width) {
        int drop = -1;
        for (int c = 0; c < WTABLE_COL__COUNT; c++)
            if (shown[c] && cols[c].prio > 0 && (drop < 0 || cols[c].prio > cols[drop].prio))
                drop = c;
        if (drop < 0) {
            memset(w, 0, sizeof(int) * WTABLE_COL__COUNT);
            return -1;
        }
        shown[drop] = false;
        used -= cols[drop].minw + 1;
    }
    for (int c = 0; c < WTABLE_COL__COUNT; c++)
        w[c] = shown[c] ? cols[c].minw : 0;
    /* Grow toward the maximum widths, most important columns first; NAME takes the rest. */
    int spare = width - used;
    for (int prio = 0; prio <= 9 && spare > 0; prio++)
        for (int c = 0; c < WTABLE_COL__COUNT && spare > 0; c++) {
            if (!shown[c] || cols[c].prio != prio || c == WTABLE_COL_NAME)
                continue;
            int grow = cols[c].maxw - w[c];
            if (grow > spare)
                grow = spare;
            w[c] += grow;
            spare -= grow;
        }
    int grow = cols[WTABLE_COL_NAME].maxw - w[WTABLE_COL_NAME];
    if (grow > spare)
        grow = spare;
    w[WTABLE_COL_NAME] += grow;
    spare -= grow;
    return width - spare;
}

/* ---- text fitting ---- */

static size_t utf8_len(unsigned char c)
{
    if (c < 0x80)
        return 1;
    if ((c & 0xE0) == 0xC0)
        return 2;
    if ((c & 0xF0) == 0xE0)
        return 3;
    if ((c & 0xF8) == 0xF0)
        return 4;
    return 1;
}

int wtable_text_width(const char *s)
{
    int w = 0;
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p;) {
        size_t k = utf8_len(*p);
        for (size_t i = 0; i < k && *p; i++)
            p++;
        w++;
    }
    return w;
}

char *wtable_fit(char *out, size_t outsz, const char *s, int width, bool right)
{
    if (outsz == 0)
        return out;
    s = s ? s : "";
    int tw = wtable_text_width(s);
    size_t o = 0;
    if (width <= 0) {
        out[0] = '\0';
        return out;
    }
    int keep = tw <= width ? tw : width - 1; /* leave room for the cut marker */
    int pad = width - (tw <= width ? tw : width);
    if (right)
        for (; pad > 0 && o + 1 < outsz; pad--)
            out[o++] = ' ';
    const unsigned char *p = (const unsigned char *)s;
    for (int cp = 0; cp < keep && *p; cp++) {
        size_t k = utf8_len(*p);
        if (o + k >= outsz)
            break;
        for (size_t i = 0; i < k && *p; i++)
            out[o++] = (char)*p++;
    }
    if (tw > width && o + 1 < outsz)
        out[o++] = '~';
    for (; pad > 0 && o + 1 < outsz; pad--)
        out[o++] = ' ';
    out[o] = '\0';
    return out;
}
