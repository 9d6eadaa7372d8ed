/* dialog: the modal box of the mutating actions, drawn over the dashboard. The view knows
 * nothing of actions: the app hands it a dialog source (content + key handler, usually the
 * actions engine behind a few lines of glue) and the view draws it and routes keys to it until
 * the source says it closed.
 *
 *     static void dlg_content(void *ctx, struct dialog_content *out) {    // app glue
 *         struct act_view av; actions_view(app->act, &av);
 *         ... copy title/danger/footer, and each line as {(enum dialog_style)style, text} ...
 *     }
 *     static int dlg_key(void *ctx, int key) { return actions_key(app->act, key); }
 *     static uint64_t dlg_version(void *ctx) { return actions_version(app->act); }
 *
 * enum dialog_style has the members of actions.h's ACT_STYLES in the same order, and
 * DIALOG_KEY_* have the values of ACT_KEY_*, so the glue copies them unchanged.
 */
#ifndef IDWATCH_DIALOG_H
#define IDWATCH_DIALOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "idwatch/check.h"
#include "idwatch/keymap.h"

enum dialog_style {
    DIALOG_TEXT,
    DIALOG_HEAD,
    DIALOG_CODE,
    DIALOG_OK,
    DIALOG_WARN,
    DIALOG_ERR,
    DIALOG_DIM,
    DIALOG_CHOICE,
    DIALOG_SELECTED,
    DIALOG_INPUT,
    DIALOG_STYLE__COUNT
};

struct dialog_line {
    enum dialog_style style;
    const char *text;
};

struct dialog_content {
    const char *title;
    bool danger; /* a write awaits confirmation: drawn in the danger colours */
    const struct dialog_line *lines;
    size_t n_lines;
    const char *footer; /* the keys, e.g. "y apply  n/Esc cancel" */
};

/* Keys as the source gets them: printable ASCII as is, and these for the curses codes. */
enum {
    DIALOG_KEY_ENTER = '\n',
    DIALOG_KEY_ESC = 27,
    DIALOG_KEY_BACKSPACE = 127,
    DIALOG_KEY_UP = 0x101,
    DIALOG_KEY_DOWN = 0x102,
    DIALOG_KEY_TAB = '\t',
};

struct dialog_source {
    void *ctx;
    /* Fills out; the pointers stay valid until the next call of any of these. */
    void (*content)(void *ctx, struct dialog_content *out);
    /* A key while open; returns 1 while the dialog stays open, 0 once it closed. */
    int (*key)(void *ctx, int key);
    /* Changes whenever the content may have changed (answers arrive later); may be NULL. */
    uint64_t (*version)(void *ctx);
};

/* ---- pure layout (unit-tested) ---- */

struct dialog_row {
    enum dialog_style style;
    char *text; /* one screen row, at most width columns */
};

/* The content's lines wrapped to width columns (CODE lines are cut anywhere, others at blanks),
 * control bytes replaced. Returns the row count; free with dialog_rows_free. */
size_t dialog_layout(const struct dialog_content *c, int width, struct dialog_row **rows);
void dialog_rows_free(struct dialog_row *rows, size_t n);
/* Maps a curses key code to the DIALOG_KEY_* values (others unchanged). */
int dialog_map_key(int curses_key);

/* ---- drawing and view hooks (view layer) ---- */

struct term;
/* Draws c centred over the screen; the view calls it last, so it is on top. */
void dialog_draw(const struct term *t, const struct dialog_content *c);

struct view;

/* Opens the dialog (the source is copied; its ctx must outlive it). Keys go to it until its
 * key() returns 0; the status line then shows the view's message as usual. */
void view_dialog_open(struct view *v, const struct dialog_source *src);
void view_dialog_close(struct view *v);
bool view_dialog_is_open(const struct view *v);

/* Per-object permission of the mutating keys: false with *why greys the key (hint bar, detail)
 * and refuses it with the reason. */
typedef bool (*view_gate_fn)(void *ctx, enum action_id a, const struct check_workload *w,
                             const char **why);
void view_set_gate(struct view *v, view_gate_fn fn, void *ctx);
/* Optional: a counter (called with the gate's ctx) that moves whenever a gate answer may have
 * changed (a permission review answered later): the view then redraws the greyed keys. */
void view_set_gate_version(struct view *v, uint64_t (*version)(void *ctx));

#endif
