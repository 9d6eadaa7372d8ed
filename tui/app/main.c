/* idwatch: the entry point. Parses the command line, reads the config file, merges both with the
 * environment, then runs one of the modes: the interactive dashboard, `report`, `--demo` (either
 * of those on the embedded simulator), `--print-config`, or `__complete` for the shells. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "idwatch/app.h"
#include "idwatch/config.h"
#include "idwatch/kubeconfig.h"
#include "idwatch/report.h"

int app_run_report(const struct app_options *opt);
int app_run_interactive(const struct app_options *opt);

/* Reads `export KEY=VALUE` / `KEY=VALUE` lines (the simulator's azure.env) into the environment,
 * without overriding what the user already set. */
static void load_env_file(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    char line[1024];
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        char *p = line;
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == '#' || *p == '\0')
            continue;
        if (strncmp(p, "export ", 7) == 0)
            p += 7;
        char *eq = strchr(p, '=');
        if (!eq)
            continue;
        *eq = '\0';
        char *v = eq + 1;
        size_t vl = strlen(v);
        if (vl >= 2 && ((v[0] == '"' && v[vl - 1] == '"') || (v[0] == '\'' && v[vl - 1] == '\''))) {
            v[vl - 1] = '\0';
            v++;
        }
        setenv(p, v, 0);
    }
    fclose(f);
}

/* The context the [context] sections are matched against: --context (or the config file's),
 * else the kubeconfig's current-context. NULL when there is none (in-cluster, or a kubeconfig
 * that cannot be read: the mode itself reports that). */
static char *context_name(const struct app_options *opt)
{
    if (opt->context)
        return xstrdup(opt->context);
    struct kubeconfig_source src = {.explicit_path = opt->kubeconfig};
    struct kubeconfig *kc = NULL;
    struct idw_err err;
    if (kubeconfig_load(&src, &kc, &err) != 0)
        return NULL;
    char *name = xstrdup(kubeconfig_current_context(kc));
    kubeconfig_free(kc);
    return name;
}

static int fail(const char *msg)
{
    fprintf(stderr, "idwatch: %s\n", msg);
    return 2;
}

int main(int argc, char **argv)
{
    struct app_cmdline cl;
    struct app_options opt;
    struct idw_err err;
    signal(SIGPIPE, SIG_IGN);
    if (app_cmdline_parse(argc, argv, &cl, &err) != 0)
        return fail(err.msg);
    if (cl.mode == APP_MODE_VERSION) {
        printf("idwatch %s\n", IDWATCH_VERSION);
        return 0;
    }
    if (cl.mode == APP_MODE_HELP) {
        app_print_usage(stdout, cl.progname);
        return 0;
    }

    bool must_exist;
    char *cfg_path = app_config_path(&cl, &must_exist);
    struct config *cfg = NULL;
    if (!cfg_path) {
        cfg = config_new_empty();
    } else if (config_load(cfg_path, must_exist, &cfg, &err) != 0) {
        free(cfg_path);
        return fail(err.msg);
    }
    free(cfg_path);
    app_config_check(cfg);

    /* First without [context] sections: the flag-only and top-level settings decide which
     * kubeconfig and context the sections are matched against. */
    if (app_options_resolve(&cl, cfg, NULL, &opt, &err) != 0) {
        config_free(cfg);
        return fail(err.msg);
    }
    bool quiet = cl.mode == APP_MODE_COMPLETE; /* the shell's prompt is no place for warnings */
    for (size_t i = 0; i < cfg->n_warnings && !quiet; i++)
        fprintf(stderr, "idwatch: %s\n", cfg->warnings[i]);
    char notice[IDW_ERR_MAX] = "";
    if (cfg->n_warnings == 1)
        snprintf(notice, sizeof notice, "config: %s", cfg->warnings[0]);
    else if (cfg->n_warnings > 1)
        snprintf(notice, sizeof notice, "config: %s (and %zu more: idwatch --print-config)",
                 cfg->warnings[0], cfg->n_warnings - 1);

    if (cl.mode == APP_MODE_COMPLETE) {
        char *ctx = context_name(&opt);
        app_options_resolve(&cl, cfg, ctx, &opt, &err);
        int rc = app_complete(&opt, cl.complete, 3000, stdout, &err);
        if (rc != 0)
            fprintf(stderr, "idwatch: %s\n", err.msg);
        free(ctx);
        config_free(cfg);
        return rc;
    }

    if (opt.mode == APP_MODE_INTERACTIVE && !opt.demo && !opt.print_config &&
        !isatty(STDOUT_FILENO)) {
        config_free(cfg);
        return fail("stdout is not a terminal; for a snapshot use 'idwatch report' "
                    "(-o text|json|markdown|csv)");
    }

    struct app_sim sim = {.pid = -1};
    char action_log[sizeof sim.state_dir + 16] = "";
    if (opt.demo && !opt.print_config) {
        if (opt.mode == APP_MODE_INTERACTIVE && !isatty(STDOUT_FILENO)) {
            config_free(cfg);
            return fail("stdout is not a terminal; try 'idwatch report --demo'");
        }
        if (app_sim_start(argv[0], opt.scenario, opt.speed, &sim, &err) != 0) {
            config_free(cfg);
            return fail(err.msg);
        }
        /* The simulator's cluster, and its Azure (credentials and endpoints, as variables). */
        cl.flags[APP_OPT_KUBECONFIG] = sim.kubeconfig;
        cl.flags[APP_OPT_CONTEXT] = ""; /* its current-context, whatever the config says */
        char envfile[sizeof sim.state_dir + 16];
        snprintf(envfile, sizeof envfile, "%s/azure.env", sim.state_dir);
        load_env_file(envfile);
        /* The demo's changes are logged in its own state directory, never in the real log. */
        snprintf(action_log, sizeof action_log, "%s/actions.log", sim.state_dir);
        app_options_resolve(&cl, cfg, NULL, &opt, &err);
    }

    char *ctx = context_name(&opt);
    int rc = app_options_resolve(&cl, cfg, ctx, &opt, &err);
    if (rc != 0) {
        rc = fail(err.msg);
    } else {
        opt.action_log = action_log[0] ? action_log : NULL;
        opt.notice = notice[0] ? notice : NULL;
        if (opt.print_config) {
            app_print_config(stdout, &opt);
            rc = fflush(stdout) == 0 ? 0 : 2;
        } else {
            rc = opt.mode == APP_MODE_REPORT ? app_run_report(&opt) : app_run_interactive(&opt);
        }
    }
    if (opt.demo)
        app_sim_stop(&sim);
    free(ctx);
    config_free(cfg);
    return rc;
}
