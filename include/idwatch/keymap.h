/* keymap: the key bindings of the action table (action.h), as curses codes. Built from the
 * table's default keys, optionally rebound by action id; everything that shows a key on screen
 * (help, hint bar, remedy hints) asks the keymap, so a rebinding changes them all at once. */
#ifndef IDWATCH_KEYMAP_H
#define IDWATCH_KEYMAP_H

#include <stdbool.h>
#include <stddef.h>

#include "idwatch/action.h"
#include "idwatch/core.h"

/* Key codes are curses codes (getch()). */
#define KEYMAP_CODES 1024
#define KEYMAP_KEYS_MAX 64
struct keymap {
    unsigned char action[KEYMAP_CODES];        /* enum action_id per key code */
    char keys[ACTION__COUNT][KEYMAP_KEYS_MAX]; /* the key names bound to each action */
};

/* Builds the bindings from the table's default keys, then applies rebind (NULL or ""): entries
 * "ID=KEYS" separated by ';' (`LABEL_WI=W;UNDO=U C-z`), ID as in ACTION_TABLE, KEYS in its key
 * syntax (empty: unbound). Fails, with the key name or entry and both actions, when a key is
 * bound twice, a key name or an action id is unknown, or an entry has no '='. */
int keymap_build(struct keymap *km, const char *rebind, struct idw_err *err);
enum action_id keymap_lookup(const struct keymap *km, int key);
/* The key names bound to a ("k Up"; "" when unbound). */
const char *keymap_keys(const struct keymap *km, enum action_id a);
/* The first key bound to a ("w", "Enter", "?"; "" when unbound), for hints. */
void keymap_first_key(const struct keymap *km, enum action_id a, char out[16]);
/* The curses codes a key name stands for ("Enter" is three). Returns the count (0: unknown; a
 * ":word" command name is not a key either). */
size_t keymap_key_codes(const char *name, int codes[4]);

/* The help screen text: one line per action with its bound keys and a heading per group; in
 * read-only mode mutating actions are marked "(read-only)". disabled[i] (if non-NULL, sized for
 * the returned count) says which lines are gated. Returns the number of lines in *lines (caller
 * frees each and the array). */
size_t keymap_help_lines(const struct keymap *km, bool read_only, char ***lines, bool **disabled);

#endif
