/* app/config: the INI config file, read with libinih (see config.h).
 *
 * libinih parses the "key = value" lines. Our reader hands it one line at a time, which gives us
 * what its handler does not: the line number of every entry, a warning for every bad line (inih
 * only reports the first), no surprise continuation lines (leading blanks are dropped, so an
 * indented key is a key), '#' comments after a value, and [context PATTERN] headers that we
 * check ourselves, so that the keys under a bad header are skipped rather than applied to the
 * section above it. */
#include "idwatch/config.h"

#include <errno.h>
#include <fnmatch.h>
#include <ini.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum line_kind { LINE_BLANK, LINE_KV };

struct reader {
    struct config *c;
    const char *p, *end;
    int line;
    enum line_kind kind; /* of the line handed to inih last */
    bool handled;        /* inih called the handler for it */
    const char *section; /* current [context PATTERN]; NULL at the top level */
    int bad_section;     /* line of a bad section header whose keys are skipped; 0 = none */
};

void config_warn(struct config *c, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *reason = xvasprintf(fmt, ap);
    va_end(ap);
    const char *file = c->path ? c->path : "config";
    char *msg = line > 0    ? xasprintf("%s:%d: %s", file, line, reason)
                : line == 0 ? xasprintf("%s: %s", file, reason)
                            : xstrdup(reason);
    free(reason);
    char *clean = xmalloc(strlen(msg) + 1);
    str_sanitize(clean, strlen(msg) + 1, msg); /* file contents may hold control bytes */
    free(msg);
    void *w = c->warnings;
    xgrow(&w, &c->cap_warnings, c->n_warnings + 1, sizeof *c->warnings);
    c->warnings = w;
    w = c->warning_lines;
    xgrow(&w, &c->cap_warning_lines, c->n_warnings + 1, sizeof *c->warning_lines);
    c->warning_lines = w;
    size_t at = c->n_warnings++; /* line order: syntax and meaning are checked in two passes */
    while (at > 0 && c->warning_lines[at - 1] > line) {
        c->warnings[at] = c->warnings[at - 1];
        c->warning_lines[at] = c->warning_lines[at - 1];
        at--;
    }
    c->warnings[at] = clean;
    c->warning_lines[at] = line;
}

static const char *keep(struct config *c, char *s)
{
    void *p = c->strings;
    xgrow(&p, &c->cap_strings, c->n_strings + 1, sizeof *c->strings);
    c->strings = p;
    c->strings[c->n_strings++] = s;
    return s;
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
        s[--n] = '\0';
    return s;
}

/* "[context PATTERN]" (PATTERN may be in double quotes). Sets r->section, or warns and marks
 * the section bad. */
static void read_section(struct reader *r, char *line)
{
    char *close = strchr(line, ']');
    if (!close) {
        config_warn(r->c, r->line, "section header without ']'; its keys are skipped");
        r->bad_section = r->line;
        return;
    }
    char *after = trim(close + 1);
    *close = '\0';
    if (*after && *after != '#' && *after != ';') {
        config_warn(r->c, r->line, "text after the section header; its keys are skipped");
        r->bad_section = r->line;
        return;
    }
    char *name = trim(line + 1);
    if (strncmp(name, "context", 7) != 0 ||
        (name[7] != '\0' && name[7] != ' ' && name[7] != '\t')) {
        config_warn(r->c, r->line,
                    "unknown section [%s] (sections are [context PATTERN]); its keys "
                    "are skipped",
                    name);
        r->bad_section = r->line;
        return;
    }
    char *pat = trim(name + 7);
    size_t n = strlen(pat);
    if (n >= 2 && pat[0] == '"' && pat[n - 1] == '"') {
        pat[n - 1] = '\0';
        pat++;
    }
    if (!*pat) {
        config_warn(r->c, r->line,
                    "[context] needs a context name or glob, as in [context prod-*]; "
                    "its keys are skipped");
        r->bad_section = r->line;
        return;
    }
    r->bad_section = 0;
    r->section = keep(r->c, xstrdup(pat));
}

/* The previous line went to inih as "key = value" but inih did not call us: a syntax error. */
static void check_previous(struct reader *r)
{
    if (r->kind == LINE_KV && !r->handled)
        config_warn(r->c, r->line, "not a 'key = value' line");
    r->kind = LINE_BLANK;
    r->handled = false;
}

/* libinih's fgets-like reader: one line of our buffer per call. */
static char *read_line(char *str, int num, void *stream)
{
    struct reader *r = stream;
    check_previous(r);
    if (r->p >= r->end)
        return NULL;
    const char *nl = memchr(r->p, '\n', (size_t)(r->end - r->p));
    const char *stop = nl ? nl : r->end;
    size_t len = (size_t)(stop - r->p);
    const char *src = r->p;
    r->p = nl ? nl + 1 : r->end;
    r->line++;
    str[0] = '\0';
    if (r->line == 1 && len >= 3 && memcmp(src, "\xEF\xBB\xBF", 3) == 0) {
        src += 3; /* UTF-8 byte order mark */
        len -= 3;
    }
    if (memchr(src, '\0', len)) {
        config_warn(r->c, r->line, "the line holds a NUL byte");
        return str;
    }
    if (len + 1 > (size_t)num) {
        config_warn(r->c, r->line, "line longer than %d characters", num - 1);
        return str;
    }
    memcpy(str, src, len);
    str[len] = '\0';
    char *s = trim(str);
    if (*s == '\0' || *s == '#' || *s == ';') {
        str[0] = '\0';
        return str;
    }
    if (*s == '[') {
        read_section(r, s);
        str[0] = '\0';
        return str;
    }
    /* a '#' after a blank starts a comment too (inih only knows " ;") */
    for (char *h = s + 1; *h; h++) {
        if (*h == '#' && (h[-1] == ' ' || h[-1] == '\t')) {
            *h = '\0';
            break;
        }
    }
    memmove(str, s, strlen(s) + 1); /* no leading blank: never a continuation line */
    r->kind = LINE_KV;
    return str;
}

static int on_entry(void *user, const char *section, const char *name, const char *value)
{
    (void)section; /* ours, not inih's: see read_section */
    struct reader *r = user;
    r->handled = true;
    if (r->bad_section) {
        config_warn(r->c, r->line, "'%s' skipped: it is under the bad section header of line %d",
                    name, r->bad_section);
        return 1;
    }
    if (!*name) {
        config_warn(r->c, r->line, "a value without a key");
        return 1;
    }
    struct config *c = r->c;
    void *p = c->entries;
    xgrow(&p, &c->cap_entries, c->n + 1, sizeof *c->entries);
    c->entries = p;
    c->entries[c->n++] = (struct config_entry){
        .section = r->section,
        .key = keep(c, xstrdup(name)),
        .value = keep(c, xstrdup(value)),
        .line = r->line,
    };
    return 1;
}

struct config *config_new_empty(void)
{
    return xcalloc(1, sizeof(struct config));
}

struct config *config_parse(const char *name, const char *text, size_t len)
{
    struct config *c = config_new_empty();
    c->path = name ? xstrdup(name) : NULL;
    struct reader r = {.c = c, .p = text, .end = text + len};
    ini_parse_stream(read_line, &r, on_entry, &r);
    return c;
}

int config_load(const char *path, bool must_exist, struct config **out, struct idw_err *err)
{
    *out = NULL;
    char *text = NULL;
    size_t len = 0;
    FILE *f = fopen(path, "r");
    if (!f) {
        if (errno == ENOENT && !must_exist) {
            *out = config_new_empty();
            (*out)->path = xstrdup(path); /* looked at: --print-config says so */
            return 0;
        }
        return idw_err_set(err, "config file %s: %s", path, strerror(errno));
    }
    fclose(f);
    if (file_read_all(path, CONFIG_FILE_MAX, &text, &len, err) != 0)
        return idw_err_prefix(err, "config file");
    *out = config_parse(path, text, len);
    free(text);
    return 0;
}

void config_free(struct config *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n_strings; i++)
        free(c->strings[i]);
    for (size_t i = 0; i < c->n_warnings; i++)
        free(c->warnings[i]);
    free(c->strings);
    free(c->warnings);
    free(c->warning_lines);
    free(c->entries);
    free(c->path);
    free(c);
}

bool config_section_matches(const char *pattern, const char *context)
{
    if (!pattern || !context)
        return false;
    return fnmatch(pattern, context, 0) == 0;
}

char *config_default_path(void)
{
    const char *xdg = getenv("XDG_CONFIG_HOME");
    if (!str_empty(xdg) && xdg[0] == '/') /* the XDG spec ignores relative paths */
        return xasprintf("%s/idwatch/config", xdg);
    const char *home = getenv("HOME");
    if (str_empty(home))
        return NULL;
    return xasprintf("%s/.config/idwatch/config", home);
}
