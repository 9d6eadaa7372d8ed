/* view: the interactive dashboard. It reads the store and the check results, draws them with
 * ncurses and asks the app (through callbacks) for anything that is not drawing: refresh,
 * context switch, the mutating actions. It does NOT own the event loop:
 *
 *     v = view_new(&cfg, &err);                 // opens the terminal (refuses without a tty)
 *     loop: poll(view_fd(v) + network fds, timeout <= 1 s)
 *           if view_fd readable:   if (view_on_input(v) < 0) break;   // terminal gone
 *           after every wakeup:    view_on_tick(v, time_now());
 *           if (view_quit_requested(v)) break;
 *           if (view_needs_redraw(v)) view_draw(v);
 *     view_free(v);                             // restores the terminal
 *
 * The view never waits on the network. It redraws only when store_version(), the check
 * results' version, its own state or a visible age text changed; ncurses then sends only the
 * cells that differ. IDWATCH_FAKE_NOW=<epoch seconds> freezes "now" for golden-screen tests;
 * IDWATCH_KEYS="ID=KEYS;..." rebinds actions (keymap_build), which the tests use to prove that
 * help, hints and behaviour follow a binding.
 */
#ifndef IDWATCH_VIEW_H
#define IDWATCH_VIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "idwatch/check.h"
#include "idwatch/core.h"
#include "idwatch/keymap.h"
#include "idwatch/store.h"

struct view_callbacks {
    void *ctx;
    /* `r`: re-poll Azure and the OIDC issuer check now (watches are live); may view_message(). */
    void (*request_refresh)(void *ctx);
    /* `c`: the kubeconfig context names (owned by the app, valid until the next call). */
    size_t (*contexts)(void *ctx, const char *const **names);
    /* A context was picked. The app switches and then calls view_set_source(). */
    void (*switch_context)(void *ctx, const char *name);
    /* A mutating action (w a f p x X R M u; never called in read-only mode) on the selected
     * workload (NULL when none is selected). Returns 0, or -1 with a one-line err for the status
     * line (e.g. "not available yet"). */
    int (*action)(void *ctx, enum action_id a, const struct check_workload *w, struct idw_err *err);
};

struct view_config {
    const struct store *store;
    const struct check_result *checks;
    const char *context;    /* kubeconfig context name */
    const char *server;     /* API server URL */
    const char *namespace_; /* initial namespace (-n), NULL = all */
    const char *selector;   /* -l: only workloads whose own labels match (already validated) */
    bool read_only;
    bool ascii;         /* --ascii */
    bool no_color;      /* --no-color (NO_COLOR is read by the view itself) */
    const char *theme;  /* --theme NAME|PATH; NULL = $IDWATCH_THEME, else "default" */
    int64_t log_window; /* seconds of NMI activity shown (0 = 3600) */
    struct view_callbacks cb;
};

struct view;

/* Opens the terminal and builds the view. Fails (with a one-line reason) when stdin/stdout is
 * not a terminal or the terminal cannot be driven. A bad theme is not fatal: it becomes a
 * warning in the status line. */
struct view *view_new(const struct view_config *cfg, struct idw_err *err);
/* Restores the terminal and frees the view. */
void view_free(struct view *v);

int view_fd(const struct view *v);
/* Call when view_fd() is readable: handles every pending key. Returns 0, or -1 when the
 * terminal is gone (EOF/EIO on stdin: a dropped ssh session): exit cleanly. */
int view_on_input(struct view *v);
/* Call after every wakeup (and at least once a second): notices resizes, signals and ages. */
void view_on_tick(struct view *v, int64_t now);
bool view_needs_redraw(const struct view *v);
void view_draw(struct view *v);
/* `q` on the main screen, or SIGTERM/SIGHUP/SIGINT. */
bool view_quit_requested(const struct view *v);

/* A one-line message for the status line (the outcome of an action, a switch...). */
void view_message(struct view *v, bool error, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Points the view at new data (after a context switch). Strings are copied. */
void view_set_source(struct view *v, const struct store *s, const struct check_result *r,
                     const char *context, const char *server);

/* The first key bound to action a in this view ("w"; "" when unbound), for text that names it
 * (the actions engine's dialog titles and messages). */
void view_action_key(const struct view *v, enum action_id a, char out[16]);

/* time_now(), or IDWATCH_FAKE_NOW when set. */
int64_t view_now(void);

#endif
