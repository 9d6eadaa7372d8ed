/* theme: the colour-role table, the *.theme parser and the theme search path. No curses. */
#include "idwatch/theme.h"
#include "idwatch/paths.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define THEME_LINE_MAX 512
#define THEME_FILE_MAX (256 * 1024)

static const char *const role_keys[THEME_ROLE__COUNT] = {
#define X(id, key, mono, fg, bg, attrs) key,
    THEME_ROLES(X)
#undef X
};

static const char *const shipped[] = {"default", "high-contrast", "mono", "solarized-dark",
                                      "light"};

static const char *const color_names[8] = {"black", "red",     "green", "yellow",
                                           "blue",  "magenta", "cyan",  "white"};

static const struct {
    const char *name;
    uint8_t bit;
} attr_names[] = {
    {"bold", THEME_A_BOLD}, {"underline", THEME_A_UNDERLINE}, {"reverse", THEME_A_REVERSE},
    {"dim", THEME_A_DIM},   {"standout", THEME_A_STANDOUT},   {"none", 0},
};

enum section { SEC_NONE, SEC_THEME, SEC_COLORS, SEC_COLORS256, SEC_MONO, SEC_UNKNOWN };

static const struct {
    const char *name;
    enum section sec;
} sections[] = {
    {"theme", SEC_THEME},
    {"colors", SEC_COLORS},
    {"colors256", SEC_COLORS256},
    {"mono", SEC_MONO},
};

void theme_diag_free(struct theme_diag *d)
{
    for (size_t i = 0; i < d->n; i++)
        free(d->msgs[i]);
    d->n = 0;
    d->dropped = 0;
}

static void diag_add(struct theme_diag *d, const char *file, size_t line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void diag_add(struct theme_diag *d, const char *file, size_t line, const char *fmt, ...)
{
    if (!d)
        return;
    if (d->n == THEME_DIAG_MAX) {
        d->dropped++;
        return;
    }
    char reason[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    char clean[256];
    str_sanitize(clean, sizeof clean, reason); /* reasons quote file bytes */
    d->msgs[d->n++] = xasprintf("%s:%zu: %s", file, line, clean);
}

void theme_init_builtin(struct theme *t)
{
    static const struct theme_style base[THEME_ROLE__COUNT] = {
#define X(id, key, mono, fg, bg, attrs) {fg, bg, attrs},
        THEME_ROLES(X)
#undef X
    };
    static const uint8_t mono[THEME_ROLE__COUNT] = {
#define X(id, key, m, fg, bg, attrs) m,
        THEME_ROLES(X)
#undef X
    };
    memset(t, 0, sizeof *t);
    snprintf(t->name, sizeof t->name, "builtin");
    memcpy(t->base, base, sizeof base);
    memcpy(t->mono, mono, sizeof mono);
}

const char *theme_role_key(enum theme_role r)
{
    return (unsigned)r < THEME_ROLE__COUNT ? role_keys[r] : "?";
}

int theme_role_parse(const char *key, enum theme_role *out)
{
    for (size_t i = 0; i < THEME_ROLE__COUNT; i++)
        if (strcmp(key, role_keys[i]) == 0) {
            *out = (enum theme_role)i;
            return 0;
        }
    return -1;
}

size_t theme_shipped_count(void)
{
    return sizeof shipped / sizeof shipped[0];
}

const char *theme_shipped_name(size_t i)
{
    return i < theme_shipped_count() ? shipped[i] : NULL;
}

/* A colour word; color0..color255 only where allow256. Returns 0 or -1. */
static int parse_color(const char *w, bool allow256, int16_t *out)
{
    if (strcmp(w, "default") == 0) {
        *out = THEME_DEF;
        return 0;
    }
    for (int i = 0; i < 8; i++)
        if (strcmp(w, color_names[i]) == 0) {
            *out = (int16_t)i;
            return 0;
        }
    if (allow256 && strncmp(w, "color", 5) == 0 && isdigit((unsigned char)w[5])) {
        const char *p = w + 5;
        int v = 0;
        for (; *p && isdigit((unsigned char)*p) && v <= 255; p++)
            v = v * 10 + (*p - '0');
        if (*p == '\0' && v <= 255) {
            *out = (int16_t)v;
            return 0;
        }
    }
    return -1;
}

/* Attributes: words separated by commas (spaces already split). */
static int parse_attrs(char *w, uint8_t *bits, const char **bad)
{
    for (char *save = NULL, *a = strtok_r(w, ",", &save); a; a = strtok_r(NULL, ",", &save)) {
        size_t i;
        for (i = 0; i < sizeof attr_names / sizeof attr_names[0]; i++)
            if (strcmp(a, attr_names[i].name) == 0)
                break;
        if (i == sizeof attr_names / sizeof attr_names[0]) {
            *bad = a;
            return -1;
        }
        *bits |= attr_names[i].bit;
    }
    return 0;
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
        s[--n] = '\0';
    return s;
}

/* Splits s on blanks into at most max words; returns the count, or max+1 if there are more. */
static size_t split_words(char *s, char **w, size_t max)
{
    size_t n = 0;
    for (char *save = NULL, *t = strtok_r(s, " \t", &save); t; t = strtok_r(NULL, " \t", &save)) {
        if (n == max)
            return max + 1;
        w[n++] = t;
    }
    return n;
}

struct parse_ctx {
    struct theme *t;
    const char *file;
    struct theme_diag *diag;
    enum section sec;
    bool saw_colors;
};

static void parse_section(struct parse_ctx *c, char *line, size_t ln)
{
    char *end = strchr(line, ']');
    if (!end || *trim(end + 1) != '\0') {
        diag_add(c->diag, c->file, ln, "malformed section header '%s'", line);
        c->sec = SEC_UNKNOWN;
        return;
    }
    *end = '\0';
    char *name = trim(line + 1);
    for (size_t i = 0; i < sizeof sections / sizeof sections[0]; i++)
        if (strcmp(name, sections[i].name) == 0) {
            c->sec = sections[i].sec;
            if (c->sec == SEC_COLORS)
                c->saw_colors = true;
            return;
        }
    diag_add(c->diag, c->file, ln, "unknown section [%s] (expected colors, colors256, mono)", name);
    c->sec = SEC_UNKNOWN;
}

static void parse_role_line(struct parse_ctx *c, enum theme_role role, char *value, size_t ln,
                            const char *key)
{
    char *w[4];
    size_t n = split_words(value, w, 3);
    const char *bad = NULL;
    if (c->sec == SEC_MONO) {
        uint8_t bits = 0;
        if (n != 1) {
            diag_add(c->diag, c->file, ln, "%s: [mono] takes attributes only (e.g. bold,reverse)",
                     key);
            return;
        }
        if (parse_attrs(w[0], &bits, &bad) != 0) {
            diag_add(c->diag, c->file, ln, "%s: unknown attribute '%s'", key, bad);
            return;
        }
        c->t->mono[role] = bits;
        return;
    }
    if (n < 2 || n > 3) {
        diag_add(c->diag, c->file, ln, "%s: expected 'fg bg [attrs]'", key);
        return;
    }
    bool allow256 = c->sec == SEC_COLORS256;
    struct theme_style st = {0, 0, 0};
    for (int i = 0; i < 2; i++) {
        int16_t *dst = i == 0 ? &st.fg : &st.bg;
        if (parse_color(w[i], allow256, dst) != 0) {
            if (!allow256 && strncmp(w[i], "color", 5) == 0)
                diag_add(c->diag, c->file, ln,
                         "%s: '%s' is only allowed in [colors256]; [colors] takes the 8 names", key,
                         w[i]);
            else
                diag_add(c->diag, c->file, ln, "%s: unknown colour '%s'", key, w[i]);
            return;
        }
    }
    if (n == 3 && parse_attrs(w[2], &st.attrs, &bad) != 0) {
        diag_add(c->diag, c->file, ln, "%s: unknown attribute '%s'", key, bad);
        return;
    }
    if (allow256) {
        c->t->c256[role] = st;
        c->t->has256[role] = true;
    } else {
        c->t->base[role] = st;
    }
}

static void parse_line(struct parse_ctx *c, char *raw, size_t ln)
{
    char *line = trim(raw);
    if (*line == '\0' || *line == '#' || *line == ';')
        return;
    if (*line == '[') {
        parse_section(c, line, ln);
        return;
    }
    char *eq = strchr(line, '=');
    if (!eq) {
        diag_add(c->diag, c->file, ln, "expected 'role = value'");
        return;
    }
    *eq = '\0';
    char *key = trim(line);
    char *value = trim(eq + 1);
    if (c->sec == SEC_NONE) {
        diag_add(c->diag, c->file, ln, "'%s' outside of a section", key);
        return;
    }
    if (c->sec == SEC_UNKNOWN)
        return; /* already warned at the header */
    if (c->sec == SEC_THEME) {
        if (strcmp(key, "name") == 0 && *value)
            str_sanitize(c->t->name, sizeof c->t->name, value);
        else
            diag_add(c->diag, c->file, ln, "unknown key '%s' in [theme]", key);
        return;
    }
    enum theme_role role;
    if (theme_role_parse(key, &role) != 0) {
        diag_add(c->diag, c->file, ln, "unknown role '%s'", key);
        return;
    }
    if (*value == '\0') {
        diag_add(c->diag, c->file, ln, "%s: missing value", key);
        return;
    }
    parse_role_line(c, role, value, ln, key);
}

int theme_parse(struct theme *t, const char *file, const char *text, size_t len,
                struct theme_diag *diag, struct idw_err *err)
{
    theme_init_builtin(t);
    struct parse_ctx c = {t, file ? file : "theme", diag, SEC_NONE, false};
    const char *base = strrchr(c.file, '/');
    base = base ? base + 1 : c.file;
    size_t blen = strlen(base);
    if (str_has_suffix(base, ".theme"))
        blen -= 6;
    snprintf(t->name, sizeof t->name, "%.*s", (int)(blen < 63 ? blen : 63), base);

    char line[THEME_LINE_MAX];
    size_t ln = 0, pos = 0;
    while (pos < len) {
        ln++;
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;
        const char *src = text + pos;
        pos += n + (nl ? 1 : 0);
        if (memchr(src, '\0', n)) {
            diag_add(diag, c.file, ln, "NUL byte in line");
            continue;
        }
        if (n >= sizeof line) {
            diag_add(diag, c.file, ln, "line longer than %d bytes", THEME_LINE_MAX - 1);
            continue;
        }
        memcpy(line, src, n);
        line[n] = '\0';
        parse_line(&c, line, ln);
    }
    if (!c.saw_colors) {
        char name[64];
        snprintf(name, sizeof name, "%s", t->name);
        theme_init_builtin(t);
        snprintf(t->name, sizeof t->name, "%s", name);
        return idw_err_set(err, "%s: not a theme: missing the required [colors] section", c.file);
    }
    return 0;
}

static bool readable(const char *path)
{
    return access(path, R_OK) == 0;
}

char *theme_find(const char *spec)
{
    if (str_empty(spec))
        return NULL;
    if (strchr(spec, '/') || str_has_suffix(spec, ".theme"))
        return readable(spec) ? xstrdup(spec) : NULL;
    /* the user's themes, the installed ones (paths.h), then ./themes */
    char **data;
    size_t n_data = path_data_dirs(&data);
    char **dirs = xcalloc(n_data + 2, sizeof *dirs);
    size_t n = 0;
    const char *xdg = getenv("XDG_CONFIG_HOME");
    const char *home = getenv("HOME");
    if (!str_empty(xdg))
        dirs[n++] = xasprintf("%s/idwatch/themes", xdg);
    else if (!str_empty(home))
        dirs[n++] = xasprintf("%s/.config/idwatch/themes", home);
    for (size_t i = 0; i < n_data; i++)
        dirs[n++] = xasprintf("%s/themes", data[i]);
    path_list_free(data, n_data);
    dirs[n++] = xstrdup("./themes");
    char *found = NULL;
    for (size_t i = 0; i < n; i++) {
        char *p = xasprintf("%s/%s.theme", dirs[i], spec);
        if (!found && readable(p))
            found = p;
        else
            free(p);
        free(dirs[i]);
    }
    free(dirs);
    return found;
}

int theme_load(struct theme *t, const char *spec, struct theme_diag *diag, struct idw_err *err)
{
    char *path = theme_find(spec);
    if (!path) {
        theme_init_builtin(t);
        if (str_eq(spec, "default"))
            return 0;
        return idw_err_set(err,
                           "theme '%s' not found (looked in $XDG_CONFIG_HOME/idwatch/themes, "
                           "the installed themes, ./themes)",
                           spec ? spec : "");
    }
    char *text = NULL;
    size_t len = 0;
    int rc = file_read_all(path, THEME_FILE_MAX, &text, &len, err);
    if (rc == 0)
        rc = theme_parse(t, path, text, len, diag, err);
    else
        theme_init_builtin(t);
    free(text);
    free(path);
    return rc;
}
