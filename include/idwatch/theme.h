/* theme: colour roles and the *.theme file format (no curses here: term.c turns a theme into
 * colour pairs).
 *
 * File format (INI-like, one role per line):
 *   [colors]      required; fg/bg are black red green yellow blue magenta cyan white default
 *   [colors256]   optional overrides used when the terminal has 256 colours; also color0..color255
 *   [mono]        attributes only, used with NO_COLOR or a terminal without colours
 *   role = fg bg [attr[,attr...]]       (in [mono]: role = attr[,attr...])
 *   attrs: bold underline reverse dim standout none.  '#' or ';' start a comment line.
 * A bad line yields a "file:line: reason" warning and is skipped; the rest applies.
 */
#ifndef IDWATCH_THEME_H
#define IDWATCH_THEME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "idwatch/core.h"

enum theme_attr {
    THEME_A_BOLD = 1 << 0,
    THEME_A_UNDERLINE = 1 << 1,
    THEME_A_REVERSE = 1 << 2,
    THEME_A_DIM = 1 << 3,
    THEME_A_STANDOUT = 1 << 4,
};

#define TA_NONE 0
#define TA_B THEME_A_BOLD
#define TA_U THEME_A_UNDERLINE
#define TA_R THEME_A_REVERSE
#define TA_D THEME_A_DIM

/* Colour numbers: -1 is the terminal's default, 0..7 the ANSI colours, up to 255 in [colors256]. */
#define THEME_DEF (-1)
#define THEME_BLACK 0
#define THEME_RED 1
#define THEME_GREEN 2
#define THEME_YELLOW 3
#define THEME_BLUE 4
#define THEME_MAGENTA 5
#define THEME_CYAN 6
#define THEME_WHITE 7

/* The one table of colour roles: id, theme key, mono attributes, 8-colour fg, bg, attributes.
 * It generates the enum, the colour pairs (one per role) and the keys a theme file may set. */
#define THEME_ROLES(X)                                                                             \
    X(DEFAULT, "default", TA_NONE, THEME_DEF, THEME_DEF, TA_NONE)                                  \
    X(HEADER, "header", TA_R, THEME_BLACK, THEME_CYAN, TA_NONE)                                    \
    X(TITLE_FOCUS, "title.focus", TA_B | TA_U, THEME_WHITE, THEME_BLUE, TA_B)                      \
    X(TITLE_BLUR, "title.blur", TA_U, THEME_WHITE, THEME_BLUE, TA_NONE)                            \
    X(COLUMN, "column", TA_B | TA_U, THEME_YELLOW, THEME_DEF, TA_B)                                \
    X(CURSOR, "cursor", TA_R, THEME_BLACK, THEME_CYAN, TA_NONE)                                    \
    X(CURSOR_BLUR, "cursor.blur", TA_R | TA_D, THEME_BLACK, THEME_WHITE, TA_NONE)                  \
    X(MARK, "mark", TA_B | TA_U, THEME_YELLOW, THEME_DEF, TA_B)                                    \
    X(HINT_KEY, "hint.key", TA_R | TA_B, THEME_BLACK, THEME_CYAN, TA_NONE)                         \
    X(HINT_LABEL, "hint.label", TA_NONE, THEME_DEF, THEME_DEF, TA_NONE)                            \
    X(HINT_OFF, "hint.off", TA_D, THEME_DEF, THEME_DEF, TA_D)                                      \
    X(STATUS, "status.msg", TA_NONE, THEME_DEF, THEME_DEF, TA_NONE)                                \
    X(FILTER, "filter", TA_B, THEME_YELLOW, THEME_DEF, TA_B)                                       \
    X(OK, "ok", TA_NONE, THEME_GREEN, THEME_DEF, TA_NONE)                                          \
    X(WARN, "warn", TA_U, THEME_YELLOW, THEME_DEF, TA_B)                                           \
    X(ERR, "err", TA_B | TA_R, THEME_RED, THEME_DEF, TA_B)                                         \
    X(UNKNOWN, "unknown", TA_D, THEME_MAGENTA, THEME_DEF, TA_NONE)                                 \
    X(MECH_WI, "mech.wi", TA_NONE, THEME_CYAN, THEME_DEF, TA_NONE)                                 \
    X(MECH_AAD, "mech.aad", TA_U, THEME_YELLOW, THEME_DEF, TA_NONE)                                \
    X(MECH_BOTH, "mech.both", TA_B, THEME_MAGENTA, THEME_DEF, TA_B)                                \
    X(MECH_NONE, "mech.none", TA_D, THEME_DEF, THEME_DEF, TA_D)                                    \
    X(BADGE_RO, "badge.ro", TA_R, THEME_BLACK, THEME_GREEN, TA_B)                                  \
    X(BADGE_RW, "badge.rw", TA_R | TA_B | TA_U, THEME_WHITE, THEME_RED, TA_B)                      \
    X(DIM, "dim", TA_D, THEME_DEF, THEME_DEF, TA_D)                                                \
    X(DIALOG, "dialog", TA_R, THEME_BLACK, THEME_WHITE, TA_NONE)                                   \
    X(DIALOG_DANGER, "dialog.danger", TA_R | TA_B, THEME_WHITE, THEME_RED, TA_B)                   \
    X(BORDER, "border", TA_NONE, THEME_BLUE, THEME_DEF, TA_NONE)                                   \
    X(SPARK, "spark", TA_NONE, THEME_CYAN, THEME_DEF, TA_NONE)                                     \
    X(PROGRESS, "progress", TA_B, THEME_GREEN, THEME_DEF, TA_B)

enum theme_role {
#define X(id, key, mono, fg, bg, attrs) THEME_##id,
    THEME_ROLES(X)
#undef X
        THEME_ROLE__COUNT
};

struct theme_style {
    int16_t fg; /* THEME_DEF or 0..255 */
    int16_t bg;
    uint8_t attrs; /* enum theme_attr bits */
};

struct theme {
    char name[64];
    struct theme_style base[THEME_ROLE__COUNT]; /* [colors] */
    struct theme_style c256[THEME_ROLE__COUNT]; /* [colors256], where has256[] */
    bool has256[THEME_ROLE__COUNT];
    uint8_t mono[THEME_ROLE__COUNT]; /* [mono] */
};

/* Warnings collected while loading, each "file:line: reason". At most THEME_DIAG_MAX are kept;
 * the rest are counted in dropped. */
#define THEME_DIAG_MAX 32
struct theme_diag {
    char *msgs[THEME_DIAG_MAX];
    size_t n;
    size_t dropped;
};
void theme_diag_free(struct theme_diag *d);

/* The compiled-in defaults (the table above), named "builtin". */
void theme_init_builtin(struct theme *t);
const char *theme_role_key(enum theme_role r);
int theme_role_parse(const char *key, enum theme_role *out); /* 0 or -1 */

/* Parses a theme text over the built-in defaults. file names the source in warnings. Returns 0
 * (bad lines become warnings in diag), or -1 when the text is not a theme at all (no [colors]
 * section); t is then left at the built-in defaults. */
int theme_parse(struct theme *t, const char *file, const char *text, size_t len,
                struct theme_diag *diag, struct idw_err *err);

/* Finds a theme by NAME (searched in $XDG_CONFIG_HOME/idwatch/themes (else ~/.config/...), the
 * installed share dir, ./themes) or by PATH (contains '/' or ends in ".theme"), and parses it.
 * The name "default" falls back to the built-in table when no file is found. */
int theme_load(struct theme *t, const char *spec, struct theme_diag *diag, struct idw_err *err);
/* Resolves spec to a readable file path as theme_load would; returns malloc'd path or NULL. */
char *theme_find(const char *spec);

/* The themes shipped in themes/, in the order `t` cycles through them. */
size_t theme_shipped_count(void);
const char *theme_shipped_name(size_t i);

#endif
