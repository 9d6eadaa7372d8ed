/* A fake struct azure_io for the azure unit tests: records requests, answers them through a
 * per-test router when fake_run() is called, fakes the clock, timers, env and child processes. */
#ifndef TEST_AZURE_FAKE_H
#define TEST_AZURE_FAKE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "idwatch/azure.h"

#define FAKE_MAX_REQ 4096
#define FAKE_MAX_TIMERS 64

struct fake_req {
    char *method, *url, *body;
    char headers[1024];
    long timeout_ms;
    int64_t sent_ms;
    azure_http_done done;
    void *arg;
    bool answered, cancelled;
};

struct fake_answer {
    long status;
    const char *body;    /* copied by the router caller */
    const char *headers; /* raw */
    int64_t retry_after;
    const char *error;
};

struct fake_io;
typedef void (*fake_router)(struct fake_io *f, const struct fake_req *q, struct fake_answer *a);

struct fake_timer {
    int64_t at;
    azure_timer_fn fire;
    void *arg;
    uint64_t id;
    bool active;
    int64_t delay;
};

struct fake_proc {
    char argv[16][256];
    int argc;
    azure_proc_done done;
    void *arg;
    bool answered;
};

struct fake_io {
    int64_t now_ms;
    struct fake_req reqs[FAKE_MAX_REQ];
    size_t n_reqs;
    struct fake_timer timers[FAKE_MAX_TIMERS];
    size_t n_timers;
    uint64_t next_timer;
    const char *env[32][2];
    size_t n_env;
    fake_router route;
    void *user;
    struct fake_proc procs[8];
    size_t n_procs;
    struct azure_proc_result proc_answer; /* what az "prints" */
    int spawn_fails;
};

static inline int fake_http(void *ctx, const struct azure_http_request *req, azure_http_done done,
                            void *arg, void **handle, struct idw_err *err)
{
    struct fake_io *f = ctx;
    if (f->n_reqs == FAKE_MAX_REQ)
        return idw_err_set(err, "fake: too many requests");
    struct fake_req *q = &f->reqs[f->n_reqs++];
    memset(q, 0, sizeof *q);
    q->method = xstrdup(req->method);
    q->url = xstrdup(req->url);
    q->body = req->body ? xstrndup(req->body, req->body_len) : NULL;
    for (size_t i = 0; req->headers && req->headers[i]; i++) {
        strncat(q->headers, req->headers[i], sizeof q->headers - strlen(q->headers) - 2);
        strcat(q->headers, "\n");
    }
    q->timeout_ms = req->timeout_ms;
    q->sent_ms = f->now_ms;
    q->done = done;
    q->arg = arg;
    *handle = q;
    return 0;
}

static inline void fake_http_cancel(void *ctx, void *handle)
{
    (void)ctx;
    ((struct fake_req *)handle)->cancelled = true;
}

static inline int fake_spawn(void *ctx, char *const argv[], long timeout_ms, azure_proc_done done,
                             void *arg, void **handle, struct idw_err *err)
{
    struct fake_io *f = ctx;
    (void)timeout_ms;
    if (f->spawn_fails)
        return idw_err_set(err, "fake: cannot spawn");
    struct fake_proc *p = &f->procs[f->n_procs++];
    memset(p, 0, sizeof *p);
    for (int i = 0; argv[i] && i < 15; i++)
        snprintf(p->argv[p->argc++], sizeof p->argv[0], "%s", argv[i]);
    p->done = done;
    p->arg = arg;
    *handle = p;
    return 0;
}

static inline void fake_spawn_cancel(void *ctx, void *handle)
{
    (void)ctx;
    ((struct fake_proc *)handle)->answered = true;
}

static inline uint64_t fake_timer_add(void *ctx, int64_t delay_ms, azure_timer_fn fire, void *arg)
{
    struct fake_io *f = ctx;
    struct fake_timer *t = NULL;
    for (size_t i = 0; i < f->n_timers; i++)
        if (!f->timers[i].active)
            t = &f->timers[i];
    if (!t)
        t = &f->timers[f->n_timers++];
    *t = (struct fake_timer){.at = f->now_ms + delay_ms,
                             .fire = fire,
                             .arg = arg,
                             .id = ++f->next_timer,
                             .active = true,
                             .delay = delay_ms};
    return t->id;
}

static inline void fake_timer_cancel(void *ctx, uint64_t id)
{
    struct fake_io *f = ctx;
    for (size_t i = 0; i < f->n_timers; i++)
        if (f->timers[i].id == id)
            f->timers[i].active = false;
}

static inline int64_t fake_now(void *ctx)
{
    return ((struct fake_io *)ctx)->now_ms;
}

static inline const char *fake_getenv(void *ctx, const char *name)
{
    struct fake_io *f = ctx;
    for (size_t i = 0; i < f->n_env; i++)
        if (strcmp(f->env[i][0], name) == 0)
            return f->env[i][1];
    return NULL;
}

static inline void fake_setenv(struct fake_io *f, const char *name, const char *value)
{
    f->env[f->n_env][0] = name;
    f->env[f->n_env][1] = value;
    f->n_env++;
}

static inline struct azure_io fake_io_seam(struct fake_io *f)
{
    return (struct azure_io){.ctx = f,
                             .http = fake_http,
                             .http_cancel = fake_http_cancel,
                             .spawn = fake_spawn,
                             .spawn_cancel = fake_spawn_cancel,
                             .timer_add = fake_timer_add,
                             .timer_cancel = fake_timer_cancel,
                             .now_ms = fake_now,
                             .getenv = fake_getenv};
}

/* Answers pending requests and processes, then fires due timers (advancing the clock to the
 * next one) until nothing is left. Returns the number of answers given. */
static inline int fake_run(struct fake_io *f)
{
    int answered = 0;
    for (;;) {
        bool progress = false;
        for (size_t i = 0; i < f->n_reqs; i++) {
            struct fake_req *q = &f->reqs[i];
            if (q->answered || q->cancelled)
                continue;
            q->answered = true;
            struct fake_answer a = {.status = 404, .body = "{}"};
            f->route(f, q, &a);
            struct azure_http_response r = {.status = a.status,
                                            .body = a.body,
                                            .body_len = a.body ? strlen(a.body) : 0,
                                            .error = a.error,
                                            .retry_after = a.retry_after,
                                            .headers = a.headers};
            q->done(q->arg, &r);
            answered++;
            progress = true;
        }
        for (size_t i = 0; i < f->n_procs; i++) {
            struct fake_proc *p = &f->procs[i];
            if (p->answered)
                continue;
            p->answered = true;
            p->done(p->arg, &f->proc_answer);
            answered++;
            progress = true;
        }
        if (progress)
            continue;
        struct fake_timer *next = NULL;
        for (size_t i = 0; i < f->n_timers; i++)
            if (f->timers[i].active && (!next || f->timers[i].at < next->at))
                next = &f->timers[i];
        if (!next)
            return answered;
        if (next->at > f->now_ms)
            f->now_ms = next->at;
        next->active = false;
        next->fire(next->arg);
    }
}

static inline void fake_free(struct fake_io *f)
{
    for (size_t i = 0; i < f->n_reqs; i++) {
        free(f->reqs[i].method);
        free(f->reqs[i].url);
        free(f->reqs[i].body);
    }
    f->n_reqs = 0;
}

static inline size_t fake_count(const struct fake_io *f, const char *method, const char *needle)
{
    size_t n = 0;
    for (size_t i = 0; i < f->n_reqs; i++)
        if ((!method || strcmp(f->reqs[i].method, method) == 0) &&
            (!needle || strstr(f->reqs[i].url, needle)))
            n++;
    return n;
}

#endif
