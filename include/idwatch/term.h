/* term: the one module that owns the terminal (htop's CRT): init, colours, keys, resize,
 * signals, teardown. The terminal is restored on every exit path (term_close, exit(), SIGTERM,
 * SIGHUP and SIGINT via the flag the loop checks). */
#ifndef IDWATCH_TERM_H
#define IDWATCH_TERM_H

#include <stdbool.h>

#include <curses.h>

#include "idwatch/core.h"
#include "idwatch/theme.h"

struct term_opts {
    bool ascii;      /* --ascii: ASCII line drawing and symbols even in a UTF-8 locale */
    bool no_color;   /* force monochrome (NO_COLOR is also read here) */
    bool no_signals; /* leave signal handlers to the caller (tests) */
};

struct term {
    SCREEN *screen;
    bool utf8;  /* UTF-8 locale and not --ascii */
    bool mono;  /* attributes only */
    int colors; /* COLORS after start_color (0 in mono) */
    attr_t attr[THEME_ROLE__COUNT];
    int empty_reads; /* consecutive "readable but no key" wakeups */
};

/* Refuses to start when stdin or stdout is not a terminal (pointing at `idwatch report`) or
 * when curses cannot drive TERM. ESCDELAY comes from the environment, else 50 ms. */
int term_open(struct term *t, const struct term_opts *o, struct idw_err *err);
/* Restores the terminal. Safe to call twice. */
void term_close(struct term *t);
int term_fd(void); /* stdin */

/* Reads one pending key without waiting. Returns 1 with *key set, 0 when nothing is pending,
 * -1 when the terminal is gone (EOF/EIO on stdin: a dropped ssh session). */
int term_read_key(struct term *t, int *key);
/* The signal (SIGTERM, SIGHUP, SIGINT) that asked us to stop, or 0. */
int term_stop_signal(void);

/* Turns a theme into one colour pair per role (or mono attributes). */
void term_apply_theme(struct term *t, const struct theme *th);
static inline attr_t term_attr(const struct term *t, enum theme_role r)
{
    return t->attr[r];
}

/* Mono requested by the environment: NO_COLOR set (any value) or TERM=dumb. */
bool term_env_mono(void);

#endif
