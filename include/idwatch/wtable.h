/* wtable: the workloads table as data — its columns, rows, filter, sort and column layout.
 * No curses: the view fills rows from the store and the check results, and draws them. */
#ifndef IDWATCH_WTABLE_H
#define IDWATCH_WTABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "idwatch/core.h"
#include "idwatch/model.h"
#include "idwatch/selector.h"
#include "idwatch/theme.h"

/* id, title, min width, max width, drop priority (higher drops first when narrow; 0 never),
 * sortable. NAME takes whatever width is left over. */
#define WTABLE_COLUMNS(X)                                                                          \
    X(FLAG, "", 1, 1, 0, 1)                                                                        \
    X(NAMESPACE, "NAMESPACE", 10, 20, 3, 1)                                                        \
    X(NAME, "NAME", 16, 200, 0, 1)                                                                 \
    X(KIND, "KIND", 6, 11, 5, 1)                                                                   \
    X(MECH, "MECH", 4, 4, 0, 1)                                                                    \
    X(FED, "FED", 9, 10, 1, 1)                                                                     \
    X(PROJ, "TOKEN", 9, 10, 2, 1)                                                                  \
    X(ACT, "NMI", 8, 10, 4, 1)                                                                     \
    X(PODS, "PODS", 5, 7, 6, 1)

enum wtable_col {
#define X(id, title, minw, maxw, prio, sortable) WTABLE_COL_##id,
    WTABLE_COLUMNS(X)
#undef X
        WTABLE_COL__COUNT
};

const char *wtable_col_title(enum wtable_col c);

/* A status cell: the text carries a glyph or letter, so nothing depends on colour; rank orders
 * it (higher = worse) for sorting. */
struct wtable_cell {
    const char *text;
    int rank;
    enum theme_role role;
};

enum wtable_status_cell { WTABLE_MECH, WTABLE_FED, WTABLE_PROJ, WTABLE_ACT, WTABLE_CELLS };

struct wtable_row {
    const char *ns;
    const char *name;
    const char *kind;       /* "Deployment" */
    const char *kind_short; /* "deploy" */
    const char *sa;
    const struct model_kvlist *labels;      /* workload labels */
    const struct model_kvlist *tmpl_labels; /* pod template labels */
    struct wtable_cell cells[WTABLE_CELLS];
    int mech;          /* mechanism index (for the `m` filter) */
    int severity;      /* 0 none/info, 1 warning, 2 error */
    uint32_t requests; /* NMI requests in the window (sorts the NMI column) */
    int32_t pods_ready;
    int32_t pods_total;
    size_t ref; /* the caller's index (workload / result) */
};

/* The `/` filter: plain text is a case-insensitive substring of ns/name, kind, service account
 * or mechanism ("!text" inverts); text with '=' (k=v, k!=v) or "-l SELECTOR" is a label selector
 * matched against the workload's or its pod template's labels (as k9s does). */
struct wtable_filter {
    char text[256];
    bool active;
    bool labels;
    bool invert;
    char needle[256];
    struct selector sel;
};

int wtable_filter_parse(struct wtable_filter *f, const char *text, struct idw_err *err);
bool wtable_filter_match(const struct wtable_filter *f, const struct wtable_row *r);
void wtable_filter_free(struct wtable_filter *f);

/* Sorts rows by column (ties: namespace, then name; status columns worst first). */
void wtable_sort(struct wtable_row *rows, size_t n, enum wtable_col col, bool reverse);
/* The next sortable column after col (wraps). */
enum wtable_col wtable_next_sort(enum wtable_col col);

/* Column widths for a screen width: fills w[] (0 = column hidden) and returns the total width
 * used including one blank between visible columns (<= width). Returns -1 when even the
 * never-dropped columns do not fit. */
int wtable_layout(int width, int w[WTABLE_COL__COUNT]);

/* Writes s into out so that it takes exactly `width` terminal columns (UTF-8 aware; padded with
 * blanks, or cut with a trailing '~'). Returns out. */
char *wtable_fit(char *out, size_t outsz, const char *s, int width, bool right);
/* Display width of a UTF-8 string (one column per code point; sanitised text only). */
int wtable_text_width(const char *s);

#endif
