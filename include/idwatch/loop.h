/* loop: the program's one event loop. It turns net_poll() (curl transfers, timers, helper pipes)
 * and adds the terminal's fd, signals (SIGINT/SIGTERM stop it, SIGWINCH resizes) and a redraw
 * limited to N times a second, done only when asked for. Single-threaded; see ARCHITECTURE.md.
 */
#ifndef IDWATCH_LOOP_H
#define IDWATCH_LOOP_H

#include <stdbool.h>
#include <stdint.h>

#include "idwatch/net.h"

struct loop;

struct loop *loop_new(struct net *n);
/* Restores the signal handlers it installed and frees (the net stays the caller's). */
void loop_free(struct loop *l);
struct net *loop_net(struct loop *l);

/* Catches SIGINT, SIGTERM (stop with code 130/143 unless on_signal returns true to keep going),
 * SIGWINCH (on_resize) and SIGPIPE (ignored) through a self-pipe: handlers never run our code. */
typedef bool (*loop_signal_fn)(void *ctx, int sig); /* true = handled, don't stop */
typedef void (*loop_void_fn)(void *ctx);
int loop_catch_signals(struct loop *l, loop_signal_fn on_signal, loop_void_fn on_resize, void *ctx,
                       struct idw_err *err);

/* Input from the terminal (or any fd): fn runs whenever fd is readable. */
uint64_t loop_watch_input(struct loop *l, int fd, loop_void_fn fn, void *ctx);
void loop_unwatch_input(struct loop *l, uint64_t id);

/* draw runs at most max_per_second times a second, and only after loop_redraw() asked for it
 * (or, when watch_version is set, when *watch_version changed: e.g. the store's version). */
void loop_set_draw(struct loop *l, loop_void_fn draw, void *ctx, int max_per_second);
void loop_redraw(struct loop *l);
/* Called every turn with the current value; a change asks for a redraw. */
void loop_set_version_source(struct loop *l, uint64_t (*version)(void *ctx), void *ctx);

/* Runs until loop_stop(). Returns the code given to loop_stop(). */
int loop_run(struct loop *l);
/* One turn: waits at most max_wait_ms. Returns false once stopped. */
bool loop_step(struct loop *l, int max_wait_ms);
void loop_stop(struct loop *l, int code);
bool loop_stopped(const struct loop *l);

#endif
