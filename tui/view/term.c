/* term: terminal setup and teardown, colours, non-blocking keys, hangup detection.
 *
 * curses itself is process-global, so is the little state here: the screen to restore at exit
 * and the stop flag set by signal handlers (the only things a handler may touch). */
#include "idwatch/term.h"

#include <errno.h>
#include <langinfo.h>
#include <locale.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define TERM_ESCDELAY_MS 50
/* "Readable" wakeups that yield no key before we call the terminal gone (htop uses 100 ERRs). */
#define TERM_EMPTY_READS_MAX 20

static volatile sig_atomic_t stop_signal;
static SCREEN *active_screen; /* restored by the atexit handler if the program exits early */
static bool atexit_done;

static void on_stop_signal(int sig)
{
    stop_signal = sig;
}

static void restore_at_exit(void)
{
    if (active_screen) {
        endwin();
        active_screen = NULL;
    }
}

static void install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    static const int sigs[] = {SIGTERM, SIGHUP, SIGINT};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        sigaction(sigs[i], &sa, NULL);
}

bool term_env_mono(void)
{
    const char *term = getenv("TERM");
    return getenv("NO_COLOR") != NULL || (term && strcmp(term, "dumb") == 0);
}

int term_fd(void)
{
    return STDIN_FILENO;
}

int term_stop_signal(void)
{
    return (int)stop_signal;
}

int term_open(struct term *t, const struct term_opts *o, struct idw_err *err)
{
    memset(t, 0, sizeof *t);
    if (!isatty(STDOUT_FILENO) || !isatty(STDIN_FILENO))
        return idw_err_set(err,
                           "the dashboard needs a terminal on stdin and stdout; for output "
                           "to a pipe or file use `idwatch report` (-o text|json|markdown|csv)");
    setlocale(LC_CTYPE, "");
    const char *cs = nl_langinfo(CODESET);
    t->utf8 = !o->ascii && cs && strcmp(cs, "UTF-8") == 0;

    const char *term = getenv("TERM");
    t->screen = newterm(NULL, stdout, stdin);
    if (!t->screen)
        return idw_err_set(err,
                           "cannot drive terminal type '%s' (no terminfo entry here?): try "
                           "TERM=xterm-256color, or copy it with `infocmp -x | ssh HOST tic -x -`",
                           term ? term : "(unset)");
    set_term(t->screen);
    active_screen = t->screen;
    if (!atexit_done) {
        atexit(restore_at_exit);
        atexit_done = true;
    }
    if (!getenv("ESCDELAY"))
        set_escdelay(TERM_ESCDELAY_MS);
    cbreak();
    noecho();
    nonl();
    keypad(stdscr, TRUE);
    nodelay(stdscr, TRUE);
    intrflush(stdscr, FALSE);
    curs_set(0);

    t->mono = o->no_color || term_env_mono() || !has_colors();
    if (!t->mono) {
        start_color();
        use_default_colors();
        t->colors = COLORS;
        if (COLOR_PAIRS <= THEME_ROLE__COUNT)
            t->mono = true;
    }
    if (!o->no_signals)
        install_signals();
    struct theme builtin;
    theme_init_builtin(&builtin);
    term_apply_theme(t, &builtin);
    return 0;
}

void term_close(struct term *t)
{
    if (!t->screen)
        return;
    endwin();
    if (active_screen == t->screen)
        active_screen = NULL;
    delscreen(t->screen);
    t->screen = NULL;
}

/* A missed SIGWINCH (the loop may not have called getch in time) still resizes us. */
static void check_resize(void)
{
    struct winsize ws;
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 && ws.ws_col > 0 &&
        (ws.ws_row != LINES || ws.ws_col != COLS))
        resizeterm(ws.ws_row, ws.ws_col);
}

int term_read_key(struct term *t, int *key)
{
    errno = 0;
    int ch = wgetch(stdscr);
    if (ch != ERR) {
        t->empty_reads = 0;
        *key = ch;
        return 1;
    }
    if (errno == EIO || errno == EBADF || errno == EPIPE || errno == ENXIO)
        return -1;
    struct pollfd p = {.fd = STDIN_FILENO, .events = POLLIN, .revents = 0};
    if (poll(&p, 1, 0) == 1) {
        if (p.revents & (POLLHUP | POLLERR | POLLNVAL))
            return -1;
        /* Readable, yet curses got nothing: end of file. Don't spin on it. */
        if ((p.revents & POLLIN) && ++t->empty_reads > TERM_EMPTY_READS_MAX)
            return -1;
    }
    check_resize();
    return 0;
}

static attr_t curses_attrs(uint8_t bits)
{
    attr_t a = A_NORMAL;
    if (bits & THEME_A_BOLD)
        a |= A_BOLD;
    if (bits & THEME_A_UNDERLINE)
        a |= A_UNDERLINE;
    if (bits & THEME_A_REVERSE)
        a |= A_REVERSE;
    if (bits & THEME_A_DIM)
        a |= A_DIM;
    if (bits & THEME_A_STANDOUT)
        a |= A_STANDOUT;
    return a;
}

void term_apply_theme(struct term *t, const struct theme *th)
{
    for (int r = 0; r < THEME_ROLE__COUNT; r++) {
        if (t->mono || !t->screen) {
            t->attr[r] = curses_attrs(th->mono[r]);
            continue;
        }
        struct theme_style st = th->base[r];
        if (th->has256[r] && t->colors >= 256)
            st = th->c256[r];
        if (st.fg >= t->colors || st.bg >= t->colors)
            st = th->base[r]; /* the terminal cannot show that number */
        init_pair((short)(r + 1), st.fg, st.bg);
        t->attr[r] = COLOR_PAIR(r + 1) | curses_attrs(st.attrs);
    }
    if (t->screen)
        bkgdset(' ' | t->attr[THEME_DEFAULT]);
}
