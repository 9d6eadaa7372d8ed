/* keymap: bindings, help and gating generated from KEYMAP_ACTIONS. */
#include "idwatch/keymap.h"

#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct keymap_info infos[KEYMAP__COUNT] = {
    [KEYMAP_NONE] = {"NONE", "", NULL, "", KEYMAP_GROUP_NAV, false},
#define X(id_, keys_, hint_, help_, group_, mutates_)                                              \
    [KEYMAP_##id_] = {#id_, keys_, hint_, help_, KEYMAP_GROUP_##group_, mutates_},
    KEYMAP_ACTIONS(X)
#undef X
};

static const char *const group_titles[KEYMAP_GROUP__COUNT] = {
#define X(id, title) title,
    KEYMAP_GROUPS(X)
#undef X
};

/* Named keys; a name may stand for several codes (terminals disagree on Enter and Backspace). */
static const struct {
    const char *name;
    int codes[3];
} named_keys[] = {
    {"Up", {KEY_UP}},
    {"Down", {KEY_DOWN}},
    {"Left", {KEY_LEFT}},
    {"Right", {KEY_RIGHT}},
    {"PgUp", {KEY_PPAGE}},
    {"PgDn", {KEY_NPAGE}},
    {"Home", {KEY_HOME}},
    {"End", {KEY_END}},
    {"Enter", {'\n', '\r', KEY_ENTER}},
    {"Esc", {27}},
    {"Tab", {'\t'}},
    {"Space", {' '}},
    {"Backspace", {KEY_BACKSPACE, 127, 8}},
};

const struct keymap_info *keymap_info(enum keymap_action a)
{
    return a > KEYMAP_NONE && a < KEYMAP__COUNT ? &infos[a] : NULL;
}

const char *keymap_group_title(enum keymap_group g)
{
    return (unsigned)g < KEYMAP_GROUP__COUNT ? group_titles[g] : "?";
}

size_t keymap_key_codes(const char *name, int codes[4])
{
    size_t len = strlen(name);
    if (len == 1 && name[0] > ' ' && name[0] < 0x7f) {
        codes[0] = (unsigned char)name[0];
        return 1;
    }
    if (len == 3 && name[0] == 'C' && name[1] == '-' && name[2] >= 'a' && name[2] <= 'z') {
        codes[0] = name[2] - 'a' + 1;
        return 1;
    }
    if (len >= 2 && len <= 3 && name[0] == 'F' && name[1] >= '1' && name[1] <= '9') {
        int n = atoi(name + 1);
        if (n >= 1 && n <= 12) {
            codes[0] = KEY_F(n);
            return 1;
        }
        return 0;
    }
    for (size_t i = 0; i < sizeof named_keys / sizeof named_keys[0]; i++) {
        if (strcmp(name, named_keys[i].name) != 0)
            continue;
        size_t n = 0;
        for (; n < 3 && named_keys[i].codes[n]; n++)
            codes[n] = named_keys[i].codes[n];
        return n;
    }
    return 0;
}

int keymap_build(struct keymap *km, struct idw_err *err)
{
    memset(km, 0, sizeof *km);
    for (int a = KEYMAP_NONE + 1; a < KEYMAP__COUNT; a++) {
        char keys[64];
        snprintf(keys, sizeof keys, "%s", infos[a].keys);
        for (char *save = NULL, *k = strtok_r(keys, " ", &save); k;
             k = strtok_r(NULL, " ", &save)) {
            int codes[4];
            size_t n = keymap_key_codes(k, codes);
            if (n == 0)
                return idw_err_set(err, "action %s: unknown key name '%s'", infos[a].id, k);
            for (size_t i = 0; i < n; i++) {
                if (codes[i] < 0 || codes[i] >= KEYMAP_CODES)
                    return idw_err_set(err, "action %s: key '%s' out of range", infos[a].id, k);
                if (km->action[codes[i]])
                    return idw_err_set(err, "key '%s' bound to both %s and %s", k,
                                       infos[km->action[codes[i]]].id, infos[a].id);
                km->action[codes[i]] = (unsigned char)a;
            }
        }
    }
    return 0;
}

enum keymap_action keymap_lookup(const struct keymap *km, int key)
{
    if (key < 0 || key >= KEYMAP_CODES)
        return KEYMAP_NONE;
    return (enum keymap_action)km->action[key];
}

void keymap_first_key(enum keymap_action a, char out[16])
{
    const struct keymap_info *in = keymap_info(a);
    const char *k = in ? in->keys : "";
    size_t n = strcspn(k, " ");
    snprintf(out, 16, "%.*s", (int)(n < 15 ? n : 15), k);
}

bool keymap_allowed(enum keymap_action a, bool read_only, const char **why)
{
    const struct keymap_info *in = keymap_info(a);
    if (in && in->mutates && read_only) {
        if (why)
            *why = "disabled in read-only mode (--read-only): it would change the cluster";
        return false;
    }
    return true;
}

size_t keymap_help_lines(bool read_only, char ***lines, bool **disabled)
{
    size_t cap = KEYMAP__COUNT + 2 * KEYMAP_GROUP__COUNT;
    char **out = xcalloc(cap, sizeof *out);
    bool *off = xcalloc(cap, sizeof *off);
    size_t n = 0;
    for (int g = 0; g < KEYMAP_GROUP__COUNT; g++) {
        if (n)
            out[n++] = xstrdup("");
        out[n++] = xstrdup(group_titles[g]);
        for (int a = KEYMAP_NONE + 1; a < KEYMAP__COUNT; a++) {
            if ((int)infos[a].group != g)
                continue;
            bool gated = !keymap_allowed((enum keymap_action)a, read_only, NULL);
            out[n] = xasprintf("  %-22s %s%s", infos[a].keys, infos[a].help,
                               gated ? "  (read-only)" : "");
            off[n++] = gated;
        }
    }
    *lines = out;
    if (disabled)
        *disabled = off;
    else
        free(off);
    return n;
}
