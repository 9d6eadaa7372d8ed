/* idwatch-sim: a simulated AKS cluster on 127.0.0.1 over HTTPS, for idwatch's tests, its demo
 * mode and real kubectl. Prints "READY <port>" once listening; SIGTERM/SIGINT stop it cleanly. */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "idwatch/core.h"
#include "idwatch/paths.h"
#include "server.h"
#include "simstate.h"

#define SIM_DEFAULT_SEED 20261129u

static const char usage[] =
    "usage: idwatch-sim --scenario NAME|FILE --state-dir DIR [--listen 127.0.0.1:PORT]\n"
    "                   [--speed N | --frozen] [--generate key=value,...] [--faults SPEC]\n"
    "                   [--scenarios-dir DIR]\n";

struct args {
    const char *scenario, *state_dir, *listen, *generate, *faults, *scenarios_dir;
    double speed;
    bool frozen; /* scenario time moves only through POST /_sim/advance (golden screens) */
};

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* One line on stderr, exit status 2. */
static int fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "idwatch-sim: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    return 2;
}

/* The source tree's tests/sim, from where this file was compiled (CMake passes absolute paths). */
static void source_dir(char *out, size_t n)
{
    snprintf(out, n, "%s", __FILE__);
    char *slash = strrchr(out, '/');
    if (slash)
        *slash = '\0';
    else
        snprintf(out, n, ".");
}

static int parse_args(int argc, char **argv, struct args *a)
{
    memset(a, 0, sizeof *a);
    a->speed = 1.0;
    a->listen = "127.0.0.1:0";
    for (int i = 1; i < argc; i++) {
        const char *opt = argv[i];
        if (strcmp(opt, "--help") == 0 || strcmp(opt, "-h") == 0) {
            fputs(usage, stdout);
            exit(0);
        }
        const struct {
            const char *name;
            const char **dst;
        } table[] = {
            {"--scenario", &a->scenario}, {"--state-dir", &a->state_dir},
            {"--listen", &a->listen},     {"--generate", &a->generate},
            {"--faults", &a->faults},     {"--scenarios-dir", &a->scenarios_dir},
        };
        bool found = false;
        for (size_t k = 0; k < sizeof table / sizeof *table; k++) {
            if (strcmp(opt, table[k].name) == 0) {
                if (i + 1 >= argc)
                    return fail("%s needs a value", opt);
                *table[k].dst = argv[++i];
                found = true;
            }
        }
        if (found)
            continue;
        if (strcmp(opt, "--frozen") == 0) {
            a->frozen = true;
            continue;
        }
        if (strcmp(opt, "--speed") == 0) {
            if (i + 1 >= argc)
                return fail("%s needs a value", opt);
            char *end;
            a->speed = strtod(argv[++i], &end);
            if (*end || !(a->speed > 0) || a->speed > 1e6)
                return fail("--speed must be a number > 0, not '%s'", argv[i]);
            continue;
        }
        fputs(usage, stderr);
        return fail("unknown argument '%s'", opt);
    }
    if (!a->scenario)
        return fail("%s", "--scenario is required");
    if (!a->state_dir)
        return fail("%s", "--state-dir is required");
    return 0;
}

/* Only loopback: "127.0.0.1:PORT" (or "localhost:PORT"). */
static int parse_listen(const char *s, uint16_t *port)
{
    const char *colon = strrchr(s, ':');
    if (!colon)
        return -1;
    size_t hl = (size_t)(colon - s);
    if (!((hl == 9 && strncmp(s, "127.0.0.1", 9) == 0) ||
          (hl == 9 && strncmp(s, "localhost", 9) == 0)))
        return -1;
    char *end;
    errno = 0;
    long p = strtol(colon + 1, &end, 10);
    if (errno || *end || colon[1] == '\0' || p < 0 || p > 65535)
        return -1;
    *port = (uint16_t)p;
    return 0;
}

int main(int argc, char **argv)
{
    struct args a;
    int rc = parse_args(argc, argv, &a);
    if (rc)
        return rc;
    uint16_t port;
    if (parse_listen(a.listen, &port) != 0)
        return fail("--listen '%s': only 127.0.0.1:PORT is allowed", a.listen);
    if (mkdir(a.state_dir, 0700) != 0 && errno != EEXIST)
        return fail("--state-dir: cannot create %s", a.state_dir);

    char here[PATH_MAX], scen_dir[PATH_MAX], plugin[PATH_MAX];
    source_dir(here, sizeof here);
    const char *env_dir = getenv("IDWSIM_SCENARIOS_DIR");
    if (a.scenarios_dir)
        snprintf(scen_dir, sizeof scen_dir, "%s", a.scenarios_dir);
    else if (env_dir && *env_dir)
        snprintf(scen_dir, sizeof scen_dir, "%s", env_dir);
    else
        snprintf(scen_dir, sizeof scen_dir, "%s/scenarios", here);
    char plugin_src[PATH_MAX], self[PATH_MAX];
    snprintf(plugin_src, sizeof plugin_src, "%s/exec-plugin.sh", here);
    /* installed (libexec/idwatch/): the plugin lies beside the binary, not in a source tree */
    if (path_self_dir(self, sizeof self) == 0) {
        char beside[PATH_MAX + 32];
        snprintf(beside, sizeof beside, "%s/exec-plugin.sh", self);
        if (access(beside, X_OK) == 0 && strlen(beside) < sizeof plugin_src)
            snprintf(plugin_src, sizeof plugin_src, "%s", beside);
    }
    if (!realpath(plugin_src, plugin))
        snprintf(plugin, sizeof plugin, "%s", plugin_src);

    /* Signals are taken synchronously by the main loop; every thread started later inherits
     * the mask, so none of them is interrupted. */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    struct sim_options so = {
        .scenario = a.scenario,
        .scenarios_dir = scen_dir,
        .generate = a.generate,
        .speed = a.speed,
        .seed = SIM_DEFAULT_SEED,
        .frozen = a.frozen,
    };
    struct idw_err err = {{0}};
    struct sim *sim = NULL;
    if (sim_new(&so, &sim, &err) != 0)
        return fail("%s", err.msg);
    struct server_options opt = {
        .port = port, .state_dir = a.state_dir, .exec_plugin = plugin, .faults = a.faults};
    struct server *srv = NULL;
    if (server_start(sim, &opt, &srv, &err) != 0) {
        sim_free(sim);
        return fail("%s", err.msg);
    }
    printf("READY %u\n", (unsigned)server_port(srv));
    fflush(stdout);

    /* The ticker: scenario time advances here, ten times a second. */
    for (;;) {
        struct timespec ts = {0, 100 * 1000 * 1000};
        int sig = sigtimedwait(&sigs, NULL, &ts);
        if (sig == SIGINT || sig == SIGTERM)
            break;
        sim_lock(sim);
        sim_tick(sim);
        sim_unlock(sim);
    }
    server_stop(srv);
    sim_free(sim);
    return 0;
}
