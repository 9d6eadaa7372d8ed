/* dialog: layout and drawing of the actions' modal box. The content comes from the app. */
#include "idwatch/dialog.h"

#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "idwatch/term.h"
#include "idwatch/wtable.h"

/* Colour roles of the line styles (one table, like the view's cells). */
static const enum theme_role style_roles[DIALOG_STYLE__COUNT] = {
    [DIALOG_TEXT] = THEME_DIALOG,  [DIALOG_HEAD] = THEME_COLUMN,   [DIALOG_CODE] = THEME_FILTER,
    [DIALOG_OK] = THEME_OK,        [DIALOG_WARN] = THEME_WARN,     [DIALOG_ERR] = THEME_ERR,
    [DIALOG_DIM] = THEME_DIM,      [DIALOG_CHOICE] = THEME_DIALOG, [DIALOG_SELECTED] = THEME_CURSOR,
    [DIALOG_INPUT] = THEME_FILTER,
};

/* Bytes of the UTF-8 character starting with c. */
static size_t u8len(unsigned char c)
{
    return c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : 4;
}

static void row_add(struct dialog_row **rows, size_t *n, size_t *cap, enum dialog_style st,
                    const char *s, size_t len)
{
    xgrow((void **)rows, cap, *n + 1, sizeof **rows);
    (*rows)[(*n)++] = (struct dialog_row){st, xstrndup(s, len)};
}

size_t dialog_layout(const struct dialog_content *c, int width, struct dialog_row **rows)
{
    size_t n = 0, cap = 0;
    *rows = NULL;
    if (width < 8)
        width = 8;
    for (size_t i = 0; i < c->n_lines; i++) {
        enum dialog_style st =
            (unsigned)c->lines[i].style < DIALOG_STYLE__COUNT ? c->lines[i].style : DIALOG_TEXT;
        const char *src = c->lines[i].text ? c->lines[i].text : "";
        size_t sz = strlen(src) + 1;
        char *clean = xmalloc(sz);
        str_sanitize(clean, sz, src);
        const char *t = clean;
        int indent = 0;
        while (t[indent] == ' ')
            indent++;
        int cont = st == DIALOG_CODE ? 0 : (indent + 2 < width / 2 ? indent + 2 : 0);
        bool first = true;
        do {
            int avail = first ? width : width - cont;
            size_t take = 0;
            int cols = 0;
            while (t[take] && cols < avail) {
                take += u8len((unsigned char)t[take]);
                cols++;
            }
            if (t[take] && st != DIALOG_CODE) { /* break at the last blank that fits */
                size_t sp = take;
                while (sp > 0 && t[sp - 1] != ' ')
                    sp--;
                if (sp > (size_t)indent + 1)
                    take = sp;
            }
            if (first) {
                row_add(rows, &n, &cap, st, t, take);
            } else {
                char *r = xasprintf("%*s%.*s", cont, "", (int)take, t);
                row_add(rows, &n, &cap, st, r, strlen(r));
                free(r);
            }
            t += take;
            first = false;
        } while (*t);
        free(clean);
    }
    return n;
}

void dialog_rows_free(struct dialog_row *rows, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(rows[i].text);
    free(rows);
}

int dialog_map_key(int k)
{
    switch (k) {
    case KEY_UP: return DIALOG_KEY_UP;
    case KEY_DOWN: return DIALOG_KEY_DOWN;
    case KEY_ENTER:
    case '\r': return DIALOG_KEY_ENTER;
    case KEY_BACKSPACE:
    case 8: return DIALOG_KEY_BACKSPACE;
    default: return k;
    }
}

static void put_row(const struct term *t, int y, int x, int w, enum theme_role role, const char *s)
{
    char fit[4096], tmp[2048];
    snprintf(tmp, sizeof tmp, "%s", s ? s : "");
    if (!t->utf8)
        for (char *p = tmp; *p; p++)
            if ((unsigned char)*p >= 0x80)
                *p = '?';
    wtable_fit(fit, sizeof fit, tmp, w, false);
    attrset(term_attr(t, role));
    mvaddstr(y, x, fit);
}

void dialog_draw(const struct term *t, const struct dialog_content *c)
{
    int w = COLS - 4 < 110 ? COLS - 4 : 110;
    if (w < 20)
        return;
    struct dialog_row *rows;
    size_t n = dialog_layout(c, w - 4, &rows);
    int max_body = LINES - 6;
    /* too tall: the per-key detail rows (dim) go first */
    size_t keep = n;
    if ((int)keep > max_body)
        for (size_t i = 0; i < n; i++)
            if (rows[i].style == DIALOG_DIM)
                keep--;
    bool drop_dim = keep != n;
    int body = (int)(keep < (size_t)max_body ? keep : (size_t)max_body);
    if (body < 1)
        body = 1;
    int h = body + 4;
    int y0 = (LINES - h) / 2, x0 = (COLS - w) / 2;
    enum theme_role frame = c->danger ? THEME_DIALOG_DANGER : THEME_DIALOG;
    for (int y = y0; y < y0 + h; y++) {
        attrset(term_attr(t, THEME_DIALOG));
        mvhline(y, x0, ' ', w);
    }
    attrset(term_attr(t, frame));
    mvhline(y0, x0, ' ', w);
    char title[512];
    snprintf(title, sizeof title, " %s ", c->title ? c->title : "");
    put_row(t, y0, x0 + 1, w - 2, frame, title);
    int y = y0 + 2, shown = 0;
    size_t hidden = 0;
    for (size_t i = 0; i < n; i++) {
        if (drop_dim && rows[i].style == DIALOG_DIM)
            continue;
        if (shown == body - 1 && (size_t)shown + 1 < keep) { /* room for one more: say so */
            hidden = keep - (size_t)shown;
            break;
        }
        put_row(t, y + shown, x0 + 2, w - 4, style_roles[rows[i].style], rows[i].text);
        shown++;
    }
    if (hidden) {
        char more[64];
        snprintf(more, sizeof more, "... %zu more lines (a larger terminal shows them)", hidden);
        put_row(t, y + shown, x0 + 2, w - 4, THEME_DIM, more);
    }
    attrset(term_attr(t, frame));
    mvhline(y0 + h - 1, x0, ' ', w);
    put_row(t, y0 + h - 1, x0 + 1, w - 2, frame, c->footer ? c->footer : "");
    dialog_rows_free(rows, n);
}
