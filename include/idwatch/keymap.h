/* keymap: the one table of dashboard actions. It generates the key bindings, the help screen,
 * the hint bar and the read-only gating (tig's REQ_INFO plus a `mutates` flag). */
#ifndef IDWATCH_KEYMAP_H
#define IDWATCH_KEYMAP_H

#include <stdbool.h>
#include <stddef.h>

#include "idwatch/core.h"

#define KEYMAP_GROUPS(X)                                                                           \
    X(NAV, "Move")                                                                                 \
    X(VIEW, "View")                                                                                \
    X(SESSION, "Session")                                                                          \
    X(ACTION, "Change the cluster (disabled in read-only mode)")

enum keymap_group {
#define X(id, title) KEYMAP_GROUP_##id,
    KEYMAP_GROUPS(X)
#undef X
        KEYMAP_GROUP__COUNT
};

/* id, keys (names separated by blanks: a char, Up Down Left Right PgUp PgDn Home End Enter Esc
 * Tab Space Backspace F1..F12, C-x), hint-bar label (NULL: not in the bar), help text, group,
 * mutates (changes the cluster: gated in read-only mode and handed to the app). */
#define KEYMAP_ACTIONS(X)                                                                          \
    X(UP, "k Up", NULL, "Move up", NAV, 0)                                                         \
    X(DOWN, "j Down", NULL, "Move down", NAV, 0)                                                   \
    X(PAGE_UP, "PgUp C-b", NULL, "Page up", NAV, 0)                                                \
    X(PAGE_DOWN, "PgDn C-f Space", NULL, "Page down", NAV, 0)                                      \
    X(TOP, "g Home", NULL, "First line", NAV, 0)                                                   \
    X(BOTTOM, "G End", NULL, "Last line", NAV, 0)                                                  \
    X(OPEN, "Enter Right", "detail", "Open the detail of the selected workload", NAV, 0)           \
    X(BACK, "Esc h Left Backspace", NULL, "Close the detail, help or picker; leave the log pane",  \
      NAV, 0)                                                                                      \
    X(FILTER, "/", "filter",                                                                       \
      "Filter: text matches ns/name/kind/SA; key=value or -l SELECTOR matches labels", VIEW, 0)    \
    X(SORT, "s", NULL, "Sort by the next column", VIEW, 0)                                         \
    X(SORT_REVERSE, "S", NULL, "Reverse the sort order", VIEW, 0)                                  \
    X(MECH, "m", NULL, "Show one mechanism only (cycle WI, AAD, BOTH, none, all)", VIEW, 0)        \
    X(PROBLEMS, "e", "errors", "Show only workloads with warnings or errors", VIEW, 0)             \
    X(NAMESPACE, "n", NULL, "Pick a namespace", VIEW, 0)                                           \
    X(LOGS, "l Tab", "log", "Focus the pod-identity activity pane (again: back to the table)",     \
      VIEW, 0)                                                                                     \
    X(FOLLOW, "F", NULL, "Follow or pause the activity pane", VIEW, 0)                             \
    X(THEME, "t", NULL, "Next colour theme", VIEW, 0)                                              \
    X(HELP, "? F1", "help", "This help", VIEW, 0)                                                  \
    X(CONTEXT, "c", NULL, "Switch kubeconfig context", SESSION, 0)                                 \
    X(REFRESH, "r C-r", NULL, "Refresh Azure and the OIDC issuer check now (watches are live)",    \
      SESSION, 0)                                                                                  \
    X(QUIT, "q", "quit", "Go back; quit from the main screen", SESSION, 0)                         \
    X(LABEL_WI, "w", "label", "Label the pod template azure.workload.identity/use=true", ACTION,   \
      1)                                                                                           \
    X(ANNOTATE_SA, "a", NULL, "Annotate the service account with the identity's client id",        \
      ACTION, 1)                                                                                   \
    X(CREATE_FIC, "f", "FIC", "Create the federated identity credential for the service account",  \
      ACTION, 1)                                                                                   \
    X(REMOVE_PI, "p", NULL, "Remove the aadpodidbinding label from the pod template", ACTION, 1)   \
    X(PROXY_ON, "x", NULL, "Annotate the pod template to inject the WI proxy sidecar", ACTION, 1)  \
    X(PROXY_OFF, "X", NULL, "Remove the proxy sidecar annotation", ACTION, 1)                      \
    X(RESTART, "R", NULL, "Rollout restart the workload so its pods pick up changes", ACTION, 1)   \
    X(MIGRATE, "M", "migrate", "Run every migration step for the workload, confirming each",       \
      ACTION, 1)                                                                                   \
    X(UNDO, "u", NULL, "Undo the last change applied from this session", ACTION, 1)

enum keymap_action {
    KEYMAP_NONE = 0,
#define X(id, keys, hint, help, group, mutates) KEYMAP_##id,
    KEYMAP_ACTIONS(X)
#undef X
        KEYMAP__COUNT
};

struct keymap_info {
    const char *id;   /* "LABEL_WI" */
    const char *keys; /* "w" */
    const char *hint; /* hint-bar label or NULL */
    const char *help;
    enum keymap_group group;
    bool mutates;
};

/* Table row of an action (NULL for KEYMAP_NONE or out of range). */
const struct keymap_info *keymap_info(enum keymap_action a);
const char *keymap_group_title(enum keymap_group g);

/* Key codes are curses codes (getch()). */
#define KEYMAP_CODES 1024
struct keymap {
    unsigned char action[KEYMAP_CODES]; /* enum keymap_action per key code */
};

/* Builds the bindings from the table. Fails (with the key name and both actions) when a key is
 * bound twice or a key name is unknown: the table's invariants. */
int keymap_build(struct keymap *km, struct idw_err *err);
enum keymap_action keymap_lookup(const struct keymap *km, int key);
/* The curses codes a key name stands for ("Enter" is three). Returns the count (0: unknown). */
size_t keymap_key_codes(const char *name, int codes[4]);
/* First key of an action, for hints ("w", "Enter", "?"). */
void keymap_first_key(enum keymap_action a, char out[16]);

/* Read-only gating: true when the action may run; otherwise *why says why (one line). */
bool keymap_allowed(enum keymap_action a, bool read_only, const char **why);

/* The help screen text, generated from the table: one line per action and a heading per group;
 * in read-only mode mutating actions are marked "(read-only)". disabled[i] (if non-NULL, sized
 * for the returned count) says which lines are gated. Returns the number of lines in *lines
 * (caller frees each and the array). */
size_t keymap_help_lines(bool read_only, char ***lines, bool **disabled);

#endif
