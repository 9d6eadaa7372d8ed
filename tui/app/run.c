/* The two modes that talk to a cluster: `idwatch report` (one snapshot) and the dashboard. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include "idwatch/actions.h"
#include "idwatch/app.h"
#include "idwatch/dialog.h"
#include "idwatch/fleet.h"
#include "idwatch/kubeconfig.h"
#include "idwatch/net.h"
#include "idwatch/report.h"
#include "idwatch/session.h"
#include "idwatch/view.h"

int app_run_report(const struct app_options *opt);
int app_run_interactive(const struct app_options *opt);

/* How long a report may take before idwatch gives up on a cluster (lists, logs, Azure, OIDC);
 * the IDWATCH_REPORT_TIMEOUT environment variable (seconds) changes it. Azure stops being waited
 * for a quarter earlier, so what Kubernetes said is still printed (federation unknown, and why).
 * In a fleet report each cluster has its own deadline, from its start. */
#define REPORT_DEADLINE_MS (180 * 1000)

static int64_t report_deadline_ms(void)
{
    const char *e = getenv("IDWATCH_REPORT_TIMEOUT");
    char *end = NULL;
    long v = e && *e ? strtol(e, &end, 10) : 0;
    if (e && *e && end && !*end && v >= 4 && v <= 86400)
        return (int64_t)v * 1000;
    return REPORT_DEADLINE_MS;
}

/* IDWATCH_NET_LOG=FILE: one line per request start and end (method, URL without query, status,
 * bytes, time; never a credential), for troubleshooting. */
static void net_log_line(void *ctx, const char *line)
{
    FILE *f = ctx;
    char t[32];
    time_format_rfc3339(time_now(), t);
    fprintf(f, "%s %s\n", t, line);
    fflush(f);
}

static FILE *net_log_open(struct net *n)
{
    const char *path = getenv("IDWATCH_NET_LOG");
    if (str_empty(path))
        return NULL;
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    FILE *f = fd >= 0 ? fdopen(fd, "a") : NULL;
    if (!f) {
        if (fd >= 0)
            close(fd);
        fprintf(stderr, "idwatch: IDWATCH_NET_LOG %s: cannot open\n", path);
        return NULL;
    }
    net_set_log(n, net_log_line, f);
    return f;
}

static int load_kubeconfig(const struct app_options *opt, struct kubeconfig **kc,
                           struct idw_err *err)
{
    struct kubeconfig_source src = {.explicit_path = opt->kubeconfig};
    return kubeconfig_load(&src, kc, err);
}

static enum report_format output_format_of(enum app_output o)
{
    switch (o) {
    case APP_OUTPUT_JSON: return REPORT_JSON;
    case APP_OUTPUT_MARKDOWN: return REPORT_MARKDOWN;
    case APP_OUTPUT_CSV: return REPORT_CSV;
    case APP_OUTPUT_TEXT: break;
    }
    return REPORT_TEXT;
}

/* `idwatch report`: one cluster, or a fleet (--all-contexts, --context lists and globs). */
struct report_run {
    const struct app_options *opt;
    enum report_format format;
    bool fleet;
    struct idw_buf *outs; /* each cluster's report, rendered when it is done */
    bool *rendered;
};

/* A cluster is done: what made it fail or incomplete goes to stderr (a CI log shows it), its
 * report is rendered now, while its session is open. */
static void report_cluster_done(void *ctx, size_t i, const struct fleet_row *row, struct session *s)
{
    struct report_run *rr = ctx;
    char prefix[320] = "";
    if (rr->fleet) {
        char name[256];
        str_sanitize(name, sizeof name, row->context ? row->context : "?");
        snprintf(prefix, sizeof prefix, "context %s: ", name);
    }
    if (row->state != FLEET_DONE) {
        char line[IDW_ERR_MAX];
        str_sanitize(line, sizeof line, row->error ? row->error : "not audited");
        fprintf(stderr, "idwatch: %s%s\n", prefix, line);
        return;
    }
    const struct check_result *cr = session_checks(s);
    for (size_t k = 0; k < cr->cluster.n_findings; k++) {
        const struct check_finding *f = &cr->cluster.findings[k];
        if (f->code == CHECK_CODE_AZURE_AUTH_FAILED || f->code == CHECK_CODE_ARM_UNAVAILABLE)
            fprintf(stderr, "idwatch: %s%s: %s\n", prefix, check_code_name(f->code), f->message);
    }
    const struct kubeconfig_resolved *cfg = session_config(s);
    struct report_meta meta = {.context = cfg->context, .server = cfg->server};
    report_render(&rr->outs[i], rr->format, cr, &meta);
    rr->rendered[i] = true;
}

int app_run_report(const struct app_options *opt)
{
    struct idw_err err;
    struct kubeconfig *kc = NULL;
    if (load_kubeconfig(opt, &kc, &err) != 0) {
        fprintf(stderr, "idwatch: %s\n", err.msg);
        return 2;
    }
    struct report_run rr = {.opt = opt, .format = output_format_of(opt->output)};
    rr.fleet = fleet_wanted(opt, kc);
    char **names = NULL;
    size_t n = 1;
    if (rr.fleet) {
        if (fleet_select(kc, opt->context, opt->all_contexts, &names, &n, &err) != 0) {
            fprintf(stderr, "idwatch: %s\n", err.msg);
            kubeconfig_free(kc);
            return 2;
        }
    } else {
        names = xcalloc(1, sizeof *names);
        names[0] = xstrdup(opt->context); /* NULL: the current context */
    }
    rr.outs = xcalloc(n, sizeof *rr.outs);
    rr.rendered = xcalloc(n, sizeof *rr.rendered);

    struct net_config ncfg = {.read_only = true, .authority_host = opt->authority_host};
    struct net *net = net_new(&ncfg);
    FILE *netlog = net_log_open(net);
    int64_t limit = report_deadline_ms();
    struct fleet_config fc = {.opt = opt,
                              .kc = kc,
                              .net = net,
                              .names = names,
                              .n = n,
                              .parallel = opt->parallel,
                              .deadline_ms = limit,
                              .azure_grace_ms = limit / 4,
                              .done = report_cluster_done,
                              .ctx = &rr};
    struct fleet *f = fleet_new(&fc);
    fleet_tick(f);
    while (!fleet_done(f)) {
        net_poll(net, fleet_poll_ms(f));
        fleet_tick(f);
    }

    int rc = 0;
    struct idw_buf out = {0};
    if (rr.fleet) {
        struct fleet_part *parts = xcalloc(n, sizeof *parts);
        for (size_t i = 0; i < n; i++) {
            parts[i].row = fleet_row(f, i);
            parts[i].report = rr.rendered[i] ? rr.outs[i].data : NULL;
            parts[i].report_len = rr.outs[i].len;
        }
        fleet_render(&out, rr.format, opt->compact, parts, n, 0);
        free(parts);
    } else {
        if (rr.rendered[0]) {
            buf_append(&out, rr.outs[0].data ? rr.outs[0].data : "", rr.outs[0].len);
            if (opt->compact && fleet_json_compact(&out) != 0) {
                fprintf(stderr, "idwatch: internal error: the report is not valid JSON\n");
                rc = 2;
            }
        }
    }
    /* the worst of the clusters: 2 > 1 > 0 */
    for (size_t i = 0; i < n; i++)
        if (fleet_row(f, i)->exit_code > rc)
            rc = fleet_row(f, i)->exit_code;
    if (out.len) {
        fwrite(out.data, 1, out.len, stdout);
        if (fflush(stdout) != 0)
            rc = 2;
    }
    buf_free(&out);
    for (size_t i = 0; i < n; i++)
        buf_free(&rr.outs[i]);
    free(rr.outs);
    free(rr.rendered);
    fleet_free(f);
    fleet_names_free(names, n);
    net_free(net);
    if (netlog)
        fclose(netlog);
    kubeconfig_free(kc);
    return rc;
}

/* ---- interactive ---- */

struct app {
    const struct app_options *opt;
    struct kubeconfig *kc;
    struct net *net;
    struct session *session;
    struct view *view;
    struct actions *actions;
    struct app_actions_io kio;
    struct dialog_line *dlg_lines; /* the dialog's lines, copied from the actions engine */
    size_t dlg_cap;
    bool terminal_gone;
    const char **context_names;
    size_t n_contexts;
    struct app_options *ctx_opt; /* the options re-resolved for a context switched to, or NULL */
};

static int app_actions_new(struct app *a, struct idw_err *err);

static void app_on_input(void *ctx, int fd, int events)
{
    (void)fd;
    (void)events;
    struct app *a = ctx;
    if (view_on_input(a->view) < 0)
        a->terminal_gone = true;
}

static void cb_refresh(void *ctx)
{
    struct app *a = ctx;
    session_refresh(a->session);
    view_message(a->view, false, "refreshing Azure and the OIDC issuer");
}

static size_t cb_contexts(void *ctx, const char *const **names)
{
    struct app *a = ctx;
    *names = a->context_names;
    return a->n_contexts;
}

static void cb_switch_context(void *ctx, const char *name)
{
    struct app *a = ctx;
    struct idw_err err;
    struct session *next = NULL;
    /* The config file's [context] sections apply to the new context (read-only above all). */
    struct app_options *next_opt = xmalloc(sizeof *next_opt);
    app_options_for_context(a->opt, name, next_opt);
    if (session_open(next_opt, a->kc, name, a->net, false, &next, &err) != 0) {
        view_message(a->view, true, "context %s: %s", name, err.msg);
        free(next_opt);
        return;
    }
    /* The engine keeps contexts of requests of the old session: rebuild it with the session. */
    struct actions *old_actions = a->actions;
    a->actions = NULL;
    if (view_dialog_is_open(a->view))
        view_dialog_close(a->view);
    session_close(a->session);
    actions_free(old_actions);
    free(a->ctx_opt);
    a->opt = a->ctx_opt = next_opt;
    net_set_read_only(a->net, next_opt->read_only);
    a->session = next;
    session_start(next);
    const struct kubeconfig_resolved *cfg = session_config(next);
    struct idw_err aerr;
    if (app_actions_new(a, &aerr) != 0)
        view_message(a->view, true, "actions: %s", aerr.msg);
    view_set_source(a->view, session_store(next), session_checks(next), cfg->context,
                    cfg->server);
    view_message(a->view, false, "switched to context %s", cfg->context);
}

static void dlg_content(void *ctx, struct dialog_content *out)
{
    struct app *a = ctx;
    struct act_view av;
    actions_view(a->actions, &av);
    void *p = a->dlg_lines;
    xgrow(&p, &a->dlg_cap, av.n_lines + 1, sizeof *a->dlg_lines);
    a->dlg_lines = p;
    for (size_t i = 0; i < av.n_lines; i++) {
        a->dlg_lines[i].style = (enum dialog_style)av.lines[i].style;
        a->dlg_lines[i].text = av.lines[i].text;
    }
    out->title = av.title;
    out->danger = av.danger;
    out->lines = a->dlg_lines;
    out->n_lines = av.n_lines;
    out->footer = av.footer;
}

static int dlg_key(void *ctx, int key)
{
    struct app *a = ctx;
    return actions_key(a->actions, key);
}

static uint64_t dlg_version(void *ctx)
{
    struct app *a = ctx;
    return actions_version(a->actions);
}

static int cb_action(void *ctx, enum action_id act, const struct check_workload *w,
                     struct idw_err *err)
{
    struct app *a = ctx;
    if (!a->actions)
        return idw_err_set(err, "actions are not available");
    if (actions_start(a->actions, act, w, err) != 0)
        return -1;
    struct dialog_source src = {.ctx = a, .content = dlg_content, .key = dlg_key,
                                .version = dlg_version};
    view_dialog_open(a->view, &src);
    return 0;
}

static bool cb_gate(void *ctx, enum action_id act, const struct check_workload *w, const char **why)
{
    struct app *a = ctx;
    if (!a->actions)
        return true;
    return actions_allowed(a->actions, act, w, why);
}

/* The key the view binds to an action, for the engine's titles and messages. */
static void cb_key_name(void *ctx, enum action_id act, char out[16])
{
    struct app *a = ctx;
    if (a->view)
        view_action_key(a->view, act, out);
    else
        action_default_key(act, out);
}

/* The actions engine of the current session. */
static int app_actions_new(struct app *a, struct idw_err *err)
{
    const struct kubeconfig_resolved *cfg = session_config(a->session);
    a->kio.kube = session_kube(a->session);
    a->kio.azure = session_azure(a->session);
    struct actions_config ac = {
        .store = session_store(a->session),
        .checks = session_checks(a->session),
        .context = cfg->context,
        .user = cfg->user_name,
        .read_only = a->opt->read_only,
        .window_seconds = a->opt->log_window,
        .key_name = cb_key_name,
        .key_ctx = a,
        .log_path = a->opt->action_log,
    };
    app_actions_io_init(&a->kio, &ac.io);
    return actions_new(&ac, &a->actions, err);
}

/* The outcome of a closed dialog goes to the status line. */
static void show_action_message(struct app *a)
{
    if (!a->actions)
        return;
    bool error = false;
    const char *msg = actions_take_message(a->actions, &error);
    if (msg && *msg)
        view_message(a->view, error, "%s", msg);
    if (actions_take_azure_stale(a->actions))
        session_refresh(a->session); /* f wrote to ARM: Azure has no watch */
}

int app_run_interactive(const struct app_options *opt)
{
    struct idw_err err;
    struct app a = {.opt = opt};
    if (load_kubeconfig(opt, &a.kc, &err) != 0) {
        fprintf(stderr, "idwatch: %s\n", err.msg);
        return 2;
    }
    if (fleet_wanted(opt, a.kc)) {
        fprintf(stderr, "idwatch: the fleet dashboard is not built yet: use 'idwatch report "
                        "--all-contexts' (or --context with a list or a glob), or one --context "
                        "NAME here\n");
        kubeconfig_free(a.kc);
        return 2;
    }
    a.n_contexts = kubeconfig_context_count(a.kc);
    a.context_names = xcalloc(a.n_contexts + 1, sizeof *a.context_names);
    for (size_t i = 0; i < a.n_contexts; i++)
        a.context_names[i] = kubeconfig_context_name(a.kc, i);

    struct net_config ncfg = {.read_only = opt->read_only, .authority_host = opt->authority_host};
    a.net = net_new(&ncfg);
    FILE *netlog = net_log_open(a.net);
    if (session_open(opt, a.kc, NULL, a.net, false, &a.session, &err) != 0) {
        fprintf(stderr, "idwatch: %s\n", err.msg);
        net_free(a.net);
        if (netlog)
            fclose(netlog);
        kubeconfig_free(a.kc);
        free(a.context_names);
        return 2;
    }
    const struct kubeconfig_resolved *cfg = session_config(a.session);
    struct view_config vcfg = {
        .store = session_store(a.session),
        .checks = session_checks(a.session),
        .context = cfg->context,
        .server = cfg->server,
        .namespace_ = opt->namespace_,
        .selector = opt->selector,
        .read_only = opt->read_only,
        .ascii = opt->ascii,
        .no_color = opt->no_color,
        .theme = opt->theme,
        .log_window = opt->log_window,
        .cb = {.ctx = &a,
               .request_refresh = cb_refresh,
               .contexts = cb_contexts,
               .switch_context = cb_switch_context,
               .action = cb_action},
    };
    a.view = view_new(&vcfg, &err);
    if (!a.view) {
        fprintf(stderr, "idwatch: %s\n", err.msg);
        session_close(a.session);
        net_free(a.net);
        if (netlog)
            fclose(netlog);
        kubeconfig_free(a.kc);
        free(a.context_names);
        return 2;
    }
    if (app_actions_new(&a, &err) != 0)
        view_message(a.view, true, "actions: %s", err.msg);
    else if (opt->notice)
        view_message(a.view, true, "%s", opt->notice);
    view_set_gate(a.view, cb_gate, &a);
    view_set_gate_version(a.view, dlg_version);
    session_start(a.session);
    uint64_t input = net_fd_watch(a.net, view_fd(a.view), NET_FD_IN, app_on_input, &a);
    int64_t last_draw = 0;
    view_draw(a.view);
    while (!a.terminal_gone) {
        net_poll(a.net, 500);
        session_tick(a.session);
        show_action_message(&a);
        view_on_tick(a.view, view_now());
        if (view_quit_requested(a.view))
            break;
        /* At most 10 frames a second, and only when something changed. */
        int64_t now = time_now_ms();
        if (view_needs_redraw(a.view) && now - last_draw >= 100) {
            view_draw(a.view);
            last_draw = now;
        }
    }
    net_fd_unwatch(a.net, input);
    view_free(a.view);
    /* The engine goes after the clients, so no answer can reach it once freed. */
    struct actions *act = a.actions;
    session_close(a.session);
    actions_free(act);
    free(a.dlg_lines);
    net_free(a.net);
    if (netlog)
        fclose(netlog);
    kubeconfig_free(a.kc);
    free(a.context_names);
    free(a.ctx_opt);
    return 0;
}
