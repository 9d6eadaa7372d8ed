/* jsonw: see jsonw.h. */
#include "jsonw.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void jsonw_init(struct jsonw *w, struct idw_buf *out, bool pretty)
{
    memset(w, 0, sizeof *w);
    w->out = out;
    w->pretty = pretty;
    w->first[0] = true;
}

static void put_escaped(struct idw_buf *b, const char *s)
{
    buf_puts(b, "\"");
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        const unsigned char *q = p;
        while (*q >= 0x20 && *q != '"' && *q != '\\')
            q++;
        buf_append(b, p, (size_t)(q - p));
        if (!*q)
            break;
        switch (*q) {
        case '"': buf_puts(b, "\\\""); break;
        case '\\': buf_puts(b, "\\\\"); break;
        case '\n': buf_puts(b, "\\n"); break;
        case '\r': buf_puts(b, "\\r"); break;
        case '\t': buf_puts(b, "\\t"); break;
        default: buf_printf(b, "\\u%04x", *q); break;
        }
        p = q + 1;
    }
    buf_puts(b, "\"");
}

/* The separator, indentation and key of the next value at the current depth. */
static void member(struct jsonw *w, const char *key)
{
    if (w->depth > 0) {
        if (!w->first[w->depth])
            buf_puts(w->out, ",");
        if (w->pretty) {
            buf_puts(w->out, "\n");
            for (int i = 0; i < w->depth; i++)
                buf_puts(w->out, "\t");
        }
    }
    w->first[w->depth] = false;
    if (key) {
        put_escaped(w->out, key);
        buf_puts(w->out, w->pretty ? ":\t" : ":");
    }
}

static void open_(struct jsonw *w, const char *key, char c)
{
    member(w, key);
    buf_append(w->out, &c, 1);
    if (w->depth + 1 < JSONW_DEPTH)
        w->depth++;
    w->first[w->depth] = true;
}

void jsonw_object(struct jsonw *w, const char *key)
{
    open_(w, key, '{');
}

void jsonw_array(struct jsonw *w, const char *key)
{
    open_(w, key, '[');
}

void jsonw_end(struct jsonw *w, char close)
{
    bool empty = w->first[w->depth];
    if (w->depth > 0)
        w->depth--;
    if (w->pretty && !empty) {
        buf_puts(w->out, "\n");
        for (int i = 0; i < w->depth; i++)
            buf_puts(w->out, "\t");
    }
    buf_append(w->out, &close, 1);
    if (w->depth == 0 && w->pretty)
        buf_puts(w->out, "\n");
}

void jsonw_string(struct jsonw *w, const char *key, const char *v)
{
    member(w, key);
    if (v)
        put_escaped(w->out, v);
    else
        buf_puts(w->out, "null");
}

void jsonw_number(struct jsonw *w, const char *key, double v)
{
    member(w, key);
    if (!isfinite(v)) {
        buf_puts(w->out, "null");
        return;
    }
    if (v == (double)(int64_t)v && fabs(v) < 1e15) {
        buf_printf(w->out, "%lld", (long long)v);
        return;
    }
    char num[32];
    snprintf(num, sizeof num, "%1.15g", v); /* the shortest form that reads back the same */
    if (strtod(num, NULL) != v)
        snprintf(num, sizeof num, "%1.17g", v);
    buf_puts(w->out, num);
}

void jsonw_int(struct jsonw *w, const char *key, int64_t v)
{
    member(w, key);
    buf_printf(w->out, "%lld", (long long)v);
}

void jsonw_bool(struct jsonw *w, const char *key, bool v)
{
    member(w, key);
    buf_puts(w->out, v ? "true" : "false");
}

void jsonw_null(struct jsonw *w, const char *key)
{
    member(w, key);
    buf_puts(w->out, "null");
}
