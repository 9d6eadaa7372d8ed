/* keymap: the action table's keys as curses codes, help lines generated from the bindings. */
#include "idwatch/keymap.h"

#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* Binds every key name of keys to a (replacing what a had). */
static int bind_keys(struct keymap *km, enum action_id a, const char *keys, struct idw_err *err)
{
    const char *id = action_info(a)->id;
    if (strlen(keys) >= KEYMAP_KEYS_MAX)
        return idw_err_set(err, "action %s: too many keys '%s'", id, keys);
    for (int c = 0; c < KEYMAP_CODES; c++)
        if (km->action[c] == a)
            km->action[c] = ACTION_NONE;
    snprintf(km->keys[a], sizeof km->keys[a], "%s", keys);
    char buf[KEYMAP_KEYS_MAX];
    snprintf(buf, sizeof buf, "%s", keys);
    for (char *save = NULL, *k = strtok_r(buf, " ", &save); k; k = strtok_r(NULL, " ", &save)) {
        if (k[0] == ':' && k[1])
            continue; /* a command of the command line, not a key */
        int codes[4];
        size_t n = keymap_key_codes(k, codes);
        if (n == 0)
            return idw_err_set(err, "action %s: unknown key name '%s'", id, k);
        for (size_t i = 0; i < n; i++) {
            if (codes[i] < 0 || codes[i] >= KEYMAP_CODES)
                return idw_err_set(err, "action %s: key '%s' out of range", id, k);
            if (km->action[codes[i]] && km->action[codes[i]] != a)
                return idw_err_set(err, "key '%s' bound to both %s and %s", k,
                                   action_info(km->action[codes[i]])->id, id);
            km->action[codes[i]] = (unsigned char)a;
        }
    }
    return 0;
}

/* Applies one "ID=KEYS" entry of a rebinding. The action's old keys are released first, so
 * entries may swap keys in order ("A=x;B=y" after "B=" frees y). */
static int rebind_entry(struct keymap *km, const char *entry, size_t len, struct idw_err *err)
{
    const char *eq = memchr(entry, '=', len);
    if (!eq)
        return idw_err_set(err, "key binding '%.*s': want ACTION=KEYS", (int)len, entry);
    char id[64], keys[KEYMAP_KEYS_MAX];
    snprintf(id, sizeof id, "%.*s", (int)(eq - entry), entry);
    if ((size_t)(entry + len - eq - 1) >= sizeof keys)
        return idw_err_set(err, "key binding %s: too many keys", id);
    snprintf(keys, sizeof keys, "%.*s", (int)(entry + len - eq - 1), eq + 1);
    enum action_id a;
    if (action_parse(id, &a) != 0)
        return idw_err_set(err, "key binding '%s': no such action", id);
    return bind_keys(km, a, keys, err);
}

int keymap_build(struct keymap *km, const char *rebind, struct idw_err *err)
{
    memset(km, 0, sizeof *km);
    for (int a = ACTION_NONE + 1; a < ACTION__COUNT; a++)
        if (bind_keys(km, (enum action_id)a, action_info((enum action_id)a)->keys, err) != 0)
            return -1;
    for (const char *p = rebind; p && *p;) {
        size_t n = strcspn(p, ";");
        if (n && rebind_entry(km, p, n, err) != 0)
            return -1;
        p += n;
        if (*p == ';')
            p++;
    }
    return 0;
}

enum action_id keymap_lookup(const struct keymap *km, int key)
{
    if (key < 0 || key >= KEYMAP_CODES)
        return ACTION_NONE;
    return (enum action_id)km->action[key];
}

const char *keymap_keys(const struct keymap *km, enum action_id a)
{
    return a > ACTION_NONE && a < ACTION__COUNT ? km->keys[a] : "";
}

void keymap_first_key(const struct keymap *km, enum action_id a, char out[16])
{
    const char *k = keymap_keys(km, a);
    size_t n = strcspn(k, " ");
    snprintf(out, 16, "%.*s", (int)(n < 15 ? n : 15), k);
}

size_t keymap_help_lines(const struct keymap *km, bool read_only, char ***lines, bool **disabled)
{
    size_t cap = ACTION__COUNT + 2 * ACTION_GROUP__COUNT;
    char **out = xcalloc(cap, sizeof *out);
    bool *off = xcalloc(cap, sizeof *off);
    size_t n = 0;
    for (int g = 0; g < ACTION_GROUP__COUNT; g++) {
        if (n)
            out[n++] = xstrdup("");
        out[n++] = xstrdup(action_group_title((enum action_group)g));
        for (int a = ACTION_NONE + 1; a < ACTION__COUNT; a++) {
            const struct action_info *in = action_info((enum action_id)a);
            if ((int)in->group != g)
                continue;
            bool gated = !action_allowed((enum action_id)a, read_only, NULL);
            out[n] = xasprintf("  %-22s %s%s", km->keys[a], in->help, gated ? "  (read-only)" : "");
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
