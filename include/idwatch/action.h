/* action: the one table of what a user can ask idwatch to do, from moving the cursor to the
 * writes that migrate a workload (tig's REQ_INFO with a `mutates` flag). An action is an enum
 * from the key to the network: the keymap turns a key into an `enum action_id`, the view hands
 * that id to the app, the app to the actions engine, and a finding names its remedy by id.
 * Everything that shows or gates an action is generated from this table: the key bindings, the
 * help screen, the hint bar, the detail's remedy hints, read-only gating, the finding table's
 * remedy column (check.h) and the man page's KEYS section, which a generator reads by expanding
 * ACTION_TABLE (or by walking action_info() from 1 to ACTION__COUNT - 1).
 *
 * Columns: X(ID, keys, hint, name, help, group, mutates, remedy)
 *   ID       ACTION_<ID>; also the name used to rebind it (keymap_build) and in docs.
 *   keys     the default keys, names separated by blanks: a printable character, Up Down Left
 *            Right PgUp PgDn Home End Enter Esc Tab Space Backspace, F1..F12, C-x. A name
 *            ":word" is a command of the command line (`:ns`), not a key: the keymap leaves it to
 *            the command line.
 *   hint     the hint-bar label, or NULL when the action is not in the bar.
 *   name     short lower-case name: dialog titles, the status line, command completion.
 *   help     one line for the help screen and the man page.
 *   group    ACTION_GROUP_<group>: the help screen's section.
 *   mutates  1 when it changes the cluster: disabled in read-only mode.
 *   remedy   1 when it applies the remedy of some finding: the finding table (check.h) names it
 *            there by ID, and the detail offers its key under that finding.
 */
#ifndef IDWATCH_ACTION_H
#define IDWATCH_ACTION_H

#include <stdbool.h>

#define ACTION_GROUPS(X)                                                                           \
    X(NAV, "Move")                                                                                 \
    X(VIEW, "View")                                                                                \
    X(SESSION, "Session")                                                                          \
    X(CHANGE, "Change the cluster (disabled in read-only mode)")

#define ACTION_TABLE(X)                                                                            \
    X(UP, "k Up", NULL, "move up", "Move up", NAV, 0, 0)                                           \
    X(DOWN, "j Down", NULL, "move down", "Move down", NAV, 0, 0)                                   \
    X(PAGE_UP, "PgUp C-b", NULL, "page up", "Page up", NAV, 0, 0)                                  \
    X(PAGE_DOWN, "PgDn C-f Space", NULL, "page down", "Page down", NAV, 0, 0)                      \
    X(TOP, "g Home", NULL, "first line", "First line", NAV, 0, 0)                                  \
    X(BOTTOM, "G End", NULL, "last line", "Last line", NAV, 0, 0)                                  \
    X(OPEN, "Enter Right", "detail", "open the detail",                                            \
      "Open the detail of the selected workload", NAV, 0, 0)                                       \
    X(BACK, "Esc h Left Backspace", NULL, "back",                                                  \
      "Close the detail, help or picker; leave the log pane", NAV, 0, 0)                           \
    X(FILTER, "/", "filter", "filter",                                                             \
      "Filter: text matches ns/name/kind/SA; key=value or -l SELECTOR matches labels", VIEW, 0, 0) \
    X(SORT, "s", NULL, "sort", "Sort by the next column", VIEW, 0, 0)                              \
    X(SORT_REVERSE, "S", NULL, "reverse the sort", "Reverse the sort order", VIEW, 0, 0)           \
    X(MECH, "m", NULL, "mechanism", "Show one mechanism only (cycle WI, AAD, BOTH, none, all)",    \
      VIEW, 0, 0)                                                                                  \
    X(PROBLEMS, "e", "errors", "problems", "Show only workloads with warnings or errors", VIEW, 0, \
      0)                                                                                           \
    X(NAMESPACE, "n", NULL, "namespace", "Pick a namespace", VIEW, 0, 0)                           \
    X(LOGS, "l Tab", "log", "activity pane",                                                       \
      "Focus the pod-identity activity pane (again: back to the table)", VIEW, 0, 0)               \
    X(FOLLOW, "F", NULL, "follow", "Follow or pause the activity pane", VIEW, 0, 0)                \
    X(THEME, "t", NULL, "theme", "Next colour theme", VIEW, 0, 0)                                  \
    X(HELP, "? F1", "help", "help", "This help", VIEW, 0, 0)                                       \
    X(CONTEXT, "c", NULL, "context", "Switch kubeconfig context", SESSION, 0, 0)                   \
    X(REFRESH, "r C-r", NULL, "refresh",                                                           \
      "Refresh Azure and the OIDC issuer check now (watches are live)", SESSION, 0, 0)             \
    X(QUIT, "q", "quit", "quit", "Go back; quit from the main screen", SESSION, 0, 0)              \
    X(LABEL_WI, "w", "label", "label the pod template azure.workload.identity/use=true",           \
      "Label the pod template azure.workload.identity/use=true", CHANGE, 1, 1)                     \
    X(ANNOTATE_SA, "a", NULL, "annotate the service account with the identity's client id",        \
      "Annotate the service account with the identity's client id", CHANGE, 1, 1)                  \
    X(CREATE_FIC, "f", "FIC", "create the federated identity credential",                          \
      "Create the federated identity credential for the service account", CHANGE, 1, 1)            \
    X(REMOVE_PI, "p", NULL, "remove the aadpodidbinding label",                                    \
      "Remove the aadpodidbinding label from the pod template", CHANGE, 1, 1)                      \
    X(PROXY_ON, "x", NULL, "add the proxy-sidecar annotation",                                     \
      "Annotate the pod template to inject the WI proxy sidecar", CHANGE, 1, 0)                    \
    X(PROXY_OFF, "X", NULL, "remove the proxy-sidecar annotation",                                 \
      "Remove the proxy sidecar annotation", CHANGE, 1, 1)                                         \
    X(RESTART, "R", NULL, "rollout restart",                                                       \
      "Rollout restart the workload so its pods pick up changes", CHANGE, 1, 1)                    \
    X(MIGRATE, "M", "migrate", "migrate",                                                          \
      "Run every migration step for the workload, confirming each", CHANGE, 1, 0)                  \
    X(UNDO, "u", NULL, "undo the last change", "Undo the last change applied from this session",   \
      CHANGE, 1, 0)

enum action_group {
#define X(id, title) ACTION_GROUP_##id,
    ACTION_GROUPS(X)
#undef X
        ACTION_GROUP__COUNT
};

enum action_id {
    ACTION_NONE = 0, /* no action: an unbound key, a finding with nothing to apply */
#define X(id, keys, hint, name, help, group, mutates, remedy) ACTION_##id,
    ACTION_TABLE(X)
#undef X
        ACTION__COUNT
};

struct action_info {
    const char *id;   /* "LABEL_WI" */
    const char *keys; /* default keys: "w", "k Up" */
    const char *hint; /* hint-bar label or NULL */
    const char *name; /* "rollout restart" */
    const char *help;
    enum action_group group;
    bool mutates;
    bool remedy;
};

/* The table row of a (NULL for ACTION_NONE and out of range). */
const struct action_info *action_info(enum action_id a);
const char *action_group_title(enum action_group g); /* "?" out of range */
/* The action whose ID is id ("LABEL_WI"), case-sensitive. Returns 0 or -1. */
int action_parse(const char *id, enum action_id *out);
/* The first of the default keys ("w", "Enter"; "" when none), for text that names the default
 * binding: the report, the action log. On screen, use the keymap's (it may be rebound). */
void action_default_key(enum action_id a, char out[16]);

/* Read-only gating: true when a may run; otherwise *why (if why) says why in one line. */
#define ACTION_READ_ONLY_WHY "disabled in read-only mode (--read-only): it would change the cluster"
bool action_allowed(enum action_id a, bool read_only, const char **why);

#endif
