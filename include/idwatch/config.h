/* config: the user's config file, $XDG_CONFIG_HOME/idwatch/config (default
 * ~/.config/idwatch/config). INI, read with libinih:
 *
 *   # comment (also ';')
 *   theme = mono                  top level: long flag names, for every context
 *   [context prod-*]              a glob (fnmatch) on the kubeconfig context name
 *   read-only = true              overrides the top level for matching contexts
 *
 * This module knows the syntax only: entries with their line numbers, and "file:line: reason"
 * warnings for lines it cannot read (each such line is skipped, the rest applies). Which keys and
 * values are valid is the option table's business (app_config_check in app.h). */
#ifndef IDWATCH_CONFIG_H
#define IDWATCH_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "idwatch/core.h"

/* Larger config files are refused (a config file is a few lines). */
#define CONFIG_FILE_MAX (256 * 1024)

struct config_entry {
    const char *section; /* the [context PATTERN] pattern; NULL at the top level */
    const char *key;
    const char *value;
    int line;
    bool skip; /* found invalid (and warned about): not applied */
};

struct config {
    char *path; /* as named in warnings and sources; NULL when there is no file */
    struct config_entry *entries;
    size_t n;
    char **warnings; /* "file:line: reason", in line order (config_warn keeps them so) */
    int *warning_lines;
    size_t n_warnings;
    /* owned storage of the strings above */
    char **strings;
    size_t n_strings, cap_strings, cap_entries, cap_warnings, cap_warning_lines;
};

/* An empty config (no file): every setting keeps its default. */
struct config *config_new_empty(void);
/* Reads path. A missing file is an empty config when !must_exist, else an error; an unreadable
 * or oversized file is an error. Syntax problems are warnings, not errors. */
int config_load(const char *path, bool must_exist, struct config **out, struct idw_err *err);
/* Parses text (len bytes; NUL bytes are a warning) as the file name. Never fails. */
struct config *config_parse(const char *name, const char *text, size_t len);
void config_free(struct config *c);

/* Adds a warning "file:line: reason" (line 0: "file: reason"; line -1: "reason"), after those of
 * earlier lines. */
void config_warn(struct config *c, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Whether a [context PATTERN] section applies to a context name (fnmatch glob, exact for names
 * without * ? [). */
bool config_section_matches(const char *pattern, const char *context);

/* The default path: $XDG_CONFIG_HOME/idwatch/config, else $HOME/.config/idwatch/config;
 * xmalloc'd, NULL when neither variable is set. */
char *config_default_path(void);

#endif
