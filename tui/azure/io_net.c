/* The program's azure_io: HTTP through net (so the read-only guard sees every request), child
 * processes (az) whose pipes are watched by net's poll, and net's timers. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "idwatch/azure.h"
#include "idwatch/net.h"

extern char **environ;

#define PROC_MAX_OUT (1u << 20)

struct io_net {
    struct net *n;
    char *ca; /* system CAs + --ca-file, or NULL for the system store alone */
    size_t ca_len;
};

struct http_call {
    struct io_net *io;
    struct net_request *req;
    azure_http_done done;
    void *arg;
};

static void http_done(void *ctx, const struct net_response *r)
{
    struct http_call *c = ctx;
    struct azure_http_response out = {.status = r->status,
                                      .body = r->body,
                                      .body_len = r->body_len,
                                      .error = r->error[0] ? r->error : NULL,
                                      .retry_after = r->retry_after,
                                      .headers = r->headers};
    azure_http_done done = c->done;
    void *arg = c->arg;
    free(c);
    done(arg, &out);
}

static int io_http(void *ctx, const struct azure_http_request *req, azure_http_done done, void *arg,
                   void **handle, struct idw_err *err)
{
    struct io_net *io = ctx;
    struct http_call *c = xcalloc(1, sizeof *c);
    c->io = io;
    c->done = done;
    c->arg = arg;
    struct net_tls tls = {.ca_pem = io->ca, .ca_len = io->ca_len};
    struct net_opts o = {.method = req->method,
                         .url = req->url,
                         .headers = req->headers,
                         .body = req->body,
                         .body_len = req->body_len,
                         .tls = io->ca ? &tls : NULL,
                         .connect_timeout_ms = req->timeout_ms,
                         .timeout_ms = req->timeout_ms ? req->timeout_ms : 60000,
                         .max_retries = 0, /* the azure client does its own (Retry-After) */
                         .max_body = 64u << 20,
                         .on_done = http_done,
                         .ctx = c};
    if (net_start(io->n, &o, &c->req, err) != 0) {
        free(c);
        return -1;
    }
    *handle = c;
    return 0;
}

static void io_http_cancel(void *ctx, void *handle)
{
    struct io_net *io = ctx;
    struct http_call *c = handle;
    if (c->req)
        net_cancel(io->n, c->req);
    free(c);
}

/* ---- child processes ---- */

struct proc {
    struct io_net *io;
    pid_t pid;
    int fd[2]; /* stdout, stderr read ends; -1 when closed */
    uint64_t watch[2];
    struct idw_buf out[2];
    uint64_t timer; /* timeout, then reaping */
    bool timed_out;
    bool reaping;
    azure_proc_done done;
    void *arg;
};

static void proc_close(struct proc *p, int i)
{
    if (p->fd[i] < 0)
        return;
    net_fd_unwatch(p->io->n, p->watch[i]);
    close(p->fd[i]);
    p->fd[i] = -1;
}

static void proc_free(struct proc *p)
{
    proc_close(p, 0);
    proc_close(p, 1);
    if (p->timer)
        net_timer_cancel(p->io->n, p->timer);
    buf_free(&p->out[0]);
    buf_free(&p->out[1]);
    free(p);
}

static void proc_reap(void *ctx);

static void proc_finish(struct proc *p, int status)
{
    struct azure_proc_result r = {.out = p->out[0].data ? p->out[0].data : "",
                                  .out_len = p->out[0].len,
                                  .err = p->out[1].data ? p->out[1].data : "",
                                  .err_len = p->out[1].len};
    if (p->timed_out) {
        r.exit_code = -1;
        r.error = "timed out";
    } else if (WIFEXITED(status)) {
        r.exit_code = WEXITSTATUS(status);
    } else {
        r.exit_code = -1;
        r.error = "killed by a signal";
    }
    p->timer = 0;
    azure_proc_done done = p->done;
    void *arg = p->arg;
    done(arg, &r);
    proc_free(p);
}

/* Both pipes are closed: the child is exiting; collect it without blocking the loop. */
static void proc_reap(void *ctx)
{
    struct proc *p = ctx;
    p->timer = 0;
    int status = 0;
    pid_t w = waitpid(p->pid, &status, WNOHANG);
    if (w == 0) {
        p->timer = net_timer_add(p->io->n, 10, proc_reap, p);
        return;
    }
    if (w < 0)
        status = 0xFF00; /* exit 255: somebody else reaped it */
    proc_finish(p, status);
}

static void proc_timeout(void *ctx)
{
    struct proc *p = ctx;
    p->timer = 0;
    p->timed_out = true;
    kill(p->pid, SIGKILL);
    proc_close(p, 0);
    proc_close(p, 1);
    p->reaping = true;
    p->timer = net_timer_add(p->io->n, 10, proc_reap, p);
}

static void proc_readable(void *ctx, int fd, int events)
{
    struct proc *p = ctx;
    (void)events;
    int i = fd == p->fd[0] ? 0 : 1;
    char buf[4096];
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n > 0) {
            if (p->out[i].len + (size_t)n <= PROC_MAX_OUT)
                buf_append(&p->out[i], buf, (size_t)n);
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            return;
        proc_close(p, i); /* EOF or error */
        break;
    }
    if (p->fd[0] < 0 && p->fd[1] < 0 && !p->reaping) {
        p->reaping = true;
        if (p->timer)
            net_timer_cancel(p->io->n, p->timer);
        p->timer = 0;
        proc_reap(p);
    }
}

static int io_spawn(void *ctx, char *const argv[], long timeout_ms, azure_proc_done done, void *arg,
                    void **handle, struct idw_err *err)
{
    struct io_net *io = ctx;
    int out[2], errp[2];
    if (pipe(out) != 0)
        return idw_err_set(err, "pipe: %s", strerror(errno));
    if (pipe(errp) != 0) {
        close(out[0]);
        close(out[1]);
        return idw_err_set(err, "pipe: %s", strerror(errno));
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_adddup2(&fa, errp[1], 2);
    posix_spawn_file_actions_addclose(&fa, out[0]);
    posix_spawn_file_actions_addclose(&fa, errp[0]);
    pid_t pid;
    int rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(out[1]);
    close(errp[1]);
    if (rc != 0) {
        close(out[0]);
        close(errp[0]);
        return idw_err_set(err, "%s: %s", argv[0], strerror(rc));
    }
    struct proc *p = xcalloc(1, sizeof *p);
    p->io = io;
    p->pid = pid;
    p->fd[0] = out[0];
    p->fd[1] = errp[0];
    p->done = done;
    p->arg = arg;
    for (int i = 0; i < 2; i++) {
        fcntl(p->fd[i], F_SETFL, fcntl(p->fd[i], F_GETFL) | O_NONBLOCK);
        fcntl(p->fd[i], F_SETFD, FD_CLOEXEC);
        p->watch[i] = net_fd_watch(io->n, p->fd[i], NET_FD_IN, proc_readable, p);
    }
    if (timeout_ms > 0)
        p->timer = net_timer_add(io->n, timeout_ms, proc_timeout, p);
    *handle = p;
    return 0;
}

static void io_spawn_cancel(void *ctx, void *handle)
{
    struct proc *p = handle;
    (void)ctx;
    kill(p->pid, SIGKILL);
    waitpid(p->pid, NULL, 0); /* killed: returns at once */
    proc_free(p);
}

static uint64_t io_timer_add(void *ctx, int64_t delay_ms, azure_timer_fn fire, void *arg)
{
    struct io_net *io = ctx;
    return net_timer_add(io->n, delay_ms, fire, arg);
}

static void io_timer_cancel(void *ctx, uint64_t id)
{
    struct io_net *io = ctx;
    net_timer_cancel(io->n, id);
}

int azure_io_net_new(struct net *n, const char *ca_file, struct azure_io *out, struct idw_err *err)
{
    struct io_net *io = xcalloc(1, sizeof *io);
    io->n = n;
    if (net_ca_bundle(ca_file, &io->ca, &io->ca_len, err) != 0) {
        free(io);
        return -1;
    }
    *out = (struct azure_io){.ctx = io,
                             .http = io_http,
                             .http_cancel = io_http_cancel,
                             .spawn = io_spawn,
                             .spawn_cancel = io_spawn_cancel,
                             .timer_add = io_timer_add,
                             .timer_cancel = io_timer_cancel};
    return 0;
}

void azure_io_net_free(struct azure_io *io)
{
    if (!io || !io->ctx)
        return;
    struct io_net *x = io->ctx;
    free(x->ca);
    free(x);
    io->ctx = NULL;
}
