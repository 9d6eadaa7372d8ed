/* loop: net_poll() plus the terminal fd, signals via a self-pipe, and a rate-limited redraw. */
#define _GNU_SOURCE /* pipe2 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "idwatch/loop.h"

#define LOOP_IDLE_WAIT_MS 1000

struct loop_input {
    uint64_t net_id;
    loop_void_fn fn;
    void *ctx;
};

struct loop {
    struct net *net;
    bool stopped;
    int code;
    int sig_pipe[2];
    uint64_t sig_watch;
    bool signals;
    struct sigaction old_int, old_term, old_winch, old_pipe;
    loop_signal_fn on_signal;
    loop_void_fn on_resize;
    void *sig_ctx;
    loop_void_fn draw;
    void *draw_ctx;
    int64_t draw_interval_ms;
    int64_t last_draw;
    bool want_draw;
    uint64_t (*version)(void *ctx);
    void *version_ctx;
    uint64_t last_version;
    struct loop_input *inputs;
    size_t n_inputs, cap_inputs;
};

/* The write end of the self-pipe, for the async-signal-safe handler: one loop per process. */
static volatile sig_atomic_t loop_sig_fd = -1;

static void on_sig(int sig)
{
    int saved = errno;
    unsigned char b = (unsigned char)sig;
    if (loop_sig_fd >= 0)
        (void)!write(loop_sig_fd, &b, 1);
    errno = saved;
}

struct loop *loop_new(struct net *n)
{
    struct loop *l = xcalloc(1, sizeof *l);
    l->net = n;
    l->sig_pipe[0] = l->sig_pipe[1] = -1;
    l->draw_interval_ms = 100;
    return l;
}

struct net *loop_net(struct loop *l)
{
    return l->net;
}

static void sig_read(void *ctx, int fd, int events)
{
    struct loop *l = ctx;
    (void)events;
    unsigned char buf[64];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0) {
        for (ssize_t i = 0; i < n; i++) {
            int sig = buf[i];
            if (sig == SIGWINCH) {
                if (l->on_resize)
                    l->on_resize(l->sig_ctx);
                l->want_draw = true;
                continue;
            }
            if (l->on_signal && l->on_signal(l->sig_ctx, sig))
                continue;
            loop_stop(l, 128 + sig);
        }
    }
}

int loop_catch_signals(struct loop *l, loop_signal_fn on_signal, loop_void_fn on_resize, void *ctx,
                       struct idw_err *err)
{
    if (l->signals)
        return 0;
    if (pipe2(l->sig_pipe, O_CLOEXEC | O_NONBLOCK) < 0)
        return idw_err_set(err, "signal pipe: %s", strerror(errno));
    l->on_signal = on_signal;
    l->on_resize = on_resize;
    l->sig_ctx = ctx;
    loop_sig_fd = l->sig_pipe[1];
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sig;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(SIGINT, &sa, &l->old_int);
    sigaction(SIGTERM, &sa, &l->old_term);
    sigaction(SIGWINCH, &sa, &l->old_winch);
    struct sigaction ign;
    memset(&ign, 0, sizeof ign);
    ign.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &ign, &l->old_pipe);
    l->sig_watch = net_fd_watch(l->net, l->sig_pipe[0], NET_FD_IN, sig_read, l);
    l->signals = true;
    return 0;
}

void loop_free(struct loop *l)
{
    if (!l)
        return;
    if (l->signals) {
        sigaction(SIGINT, &l->old_int, NULL);
        sigaction(SIGTERM, &l->old_term, NULL);
        sigaction(SIGWINCH, &l->old_winch, NULL);
        sigaction(SIGPIPE, &l->old_pipe, NULL);
        loop_sig_fd = -1;
        net_fd_unwatch(l->net, l->sig_watch);
        close(l->sig_pipe[0]);
        close(l->sig_pipe[1]);
    }
    for (size_t i = 0; i < l->n_inputs; i++)
        net_fd_unwatch(l->net, l->inputs[i].net_id);
    free(l->inputs);
    free(l);
}

static void input_ready(void *ctx, int fd, int events)
{
    struct loop_input *in = ctx;
    (void)fd;
    (void)events;
    in->fn(in->ctx);
}

uint64_t loop_watch_input(struct loop *l, int fd, loop_void_fn fn, void *ctx)
{
    /* Each input is its own allocation: net keeps the pointer. */
    struct loop_input *in = xcalloc(1, sizeof *in);
    in->fn = fn;
    in->ctx = ctx;
    in->net_id = net_fd_watch(l->net, fd, NET_FD_IN, input_ready, in);
    void *p = l->inputs;
    xgrow(&p, &l->cap_inputs, l->n_inputs + 1, sizeof *l->inputs);
    l->inputs = p;
    l->inputs[l->n_inputs++] = (struct loop_input){in->net_id, NULL, in};
    return in->net_id;
}

void loop_unwatch_input(struct loop *l, uint64_t id)
{
    for (size_t i = 0; i < l->n_inputs; i++) {
        if (l->inputs[i].net_id != id)
            continue;
        net_fd_unwatch(l->net, id);
        free(l->inputs[i].ctx);
        l->inputs[i] = l->inputs[--l->n_inputs];
        return;
    }
}

void loop_set_draw(struct loop *l, loop_void_fn draw, void *ctx, int max_per_second)
{
    l->draw = draw;
    l->draw_ctx = ctx;
    l->draw_interval_ms = max_per_second > 0 ? 1000 / max_per_second : 100;
    l->want_draw = true;
}

void loop_redraw(struct loop *l)
{
    l->want_draw = true;
}

void loop_set_version_source(struct loop *l, uint64_t (*version)(void *ctx), void *ctx)
{
    l->version = version;
    l->version_ctx = ctx;
    l->last_version = version ? version(ctx) : 0;
}

void loop_stop(struct loop *l, int code)
{
    if (!l->stopped)
        l->code = code;
    l->stopped = true;
    net_wakeup(l->net);
}

bool loop_stopped(const struct loop *l)
{
    return l->stopped;
}

bool loop_step(struct loop *l, int max_wait_ms)
{
    if (l->stopped)
        return false;
    int64_t wait = max_wait_ms;
    if (l->draw && l->want_draw) {
        int64_t until = l->last_draw + l->draw_interval_ms - time_now_ms();
        wait = until < 0 ? 0 : (until < wait ? until : wait);
    }
    net_poll(l->net, (int)wait);
    if (l->version) {
        uint64_t v = l->version(l->version_ctx);
        if (v != l->last_version) {
            l->last_version = v;
            l->want_draw = true;
        }
    }
    int64_t now = time_now_ms();
    if (l->draw && l->want_draw && !l->stopped && now - l->last_draw >= l->draw_interval_ms) {
        l->want_draw = false;
        l->last_draw = now;
        l->draw(l->draw_ctx);
    }
    return !l->stopped;
}

int loop_run(struct loop *l)
{
    while (loop_step(l, LOOP_IDLE_WAIT_MS))
        ;
    return l->code;
}
