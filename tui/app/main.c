/* idwatch: the entry point. Parses the command line, then runs one of the modes: the interactive
 * dashboard, `report`, or `--demo` (either of those on the embedded simulator). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "idwatch/app.h"
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

static const char *env_or(const char *name, const char *fallback)
{
    const char *v = getenv(name);
    return (v && *v) ? v : fallback;
}

int main(int argc, char **argv)
{
    struct app_options opt;
    struct idw_err err;
    signal(SIGPIPE, SIG_IGN);
    if (app_parse_options(argc, argv, &opt, &err) != 0) {
        fprintf(stderr, "idwatch: %s\n", err.msg);
        return 2;
    }
    if (opt.mode == APP_MODE_VERSION) {
        printf("idwatch %s\n", IDWATCH_VERSION);
        return 0;
    }
    if (opt.mode == APP_MODE_HELP) {
        app_print_usage(stdout);
        return 0;
    }
    if (opt.mode == APP_MODE_INTERACTIVE && !opt.demo && !isatty(STDOUT_FILENO)) {
        fprintf(stderr, "idwatch: stdout is not a terminal; for a snapshot use 'idwatch report' "
                        "(-o text|json|markdown|csv)\n");
        return 2;
    }

    struct app_sim sim = {.pid = -1};
    if (opt.demo) {
        if (opt.mode == APP_MODE_INTERACTIVE && !isatty(STDOUT_FILENO)) {
            fprintf(stderr, "idwatch: stdout is not a terminal; try 'idwatch report --demo'\n");
            return 2;
        }
        if (app_sim_start(argv[0], opt.scenario, opt.speed, &sim, &err) != 0) {
            fprintf(stderr, "idwatch: %s\n", err.msg);
            return 2;
        }
        opt.kubeconfig = sim.kubeconfig;
        opt.context = NULL;
        /* The simulator also plays Azure: use its credentials and endpoints. */
        char envfile[sizeof sim.state_dir + 16];
        snprintf(envfile, sizeof envfile, "%s/azure.env", sim.state_dir);
        load_env_file(envfile);
        if (!opt.subscription)
            opt.subscription = env_or("AZURE_SUBSCRIPTION_ID", NULL);
        if (!opt.arm_endpoint)
            opt.arm_endpoint = env_or("IDWATCH_ARM_ENDPOINT", NULL);
        if (!opt.authority_host)
            opt.authority_host = env_or("AZURE_AUTHORITY_HOST", NULL);
        if (!opt.ca_file)
            opt.ca_file = env_or("IDWATCH_CA_FILE", NULL);
    }

    int rc = opt.mode == APP_MODE_REPORT ? app_run_report(&opt) : app_run_interactive(&opt);
    if (opt.demo)
        app_sim_stop(&sim);
    return rc;
}
