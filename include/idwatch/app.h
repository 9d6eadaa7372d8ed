/* app: the command line (INTERFACE.md), the modes (interactive, report, demo) and the simulator
 * child process used by --demo. */
#ifndef IDWATCH_APP_H
#define IDWATCH_APP_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "idwatch/core.h"

enum app_mode {
    APP_MODE_INTERACTIVE,
    APP_MODE_REPORT,
    APP_MODE_VERSION,
    APP_MODE_HELP,
};

enum app_output {
    APP_OUTPUT_TEXT,
    APP_OUTPUT_JSON,
    APP_OUTPUT_MARKDOWN,
    APP_OUTPUT_CSV,
};

struct app_options {
    enum app_mode mode;
    bool demo;
    const char *kubeconfig; /* --kubeconfig, else NULL (KUBECONFIG / ~/.kube/config) */
    const char *context;
    const char *namespace_; /* NULL = all namespaces */
    const char *selector;   /* -l */
    bool read_only;         /* --read-only or IDWATCH_READ_ONLY=1; always true for report */
    const char *subscription;
    const char *cluster_id;
    const char *cloud;
    const char *arm_endpoint;
    const char *authority_host;
    const char *ca_file;
    bool no_azure;
    int64_t interval;       /* seconds, polled data refresh */
    int64_t log_window;     /* seconds, default 3600 */
    const char *theme;
    bool ascii;
    bool no_color;          /* NO_COLOR set */
    enum app_output output;
    double speed;           /* --speed for --demo's simulator */
    const char *scenario;   /* --scenario for --demo (default "demo") */
};

/* Parses argv (and the environment variables INTERFACE.md names) into opt. On a bad flag returns
 * -1 with err holding a one-line reason (exit code 2 at the top). */
int app_parse_options(int argc, char **argv, struct app_options *opt, struct idw_err *err);
/* Prints the usage text (--help). */
void app_print_usage(FILE *out);

/* The actions engine's real transport: kube_patch/kube_request/kube_ssar and azure_fic_create.
 * azure may be NULL (f then says Azure is not available). kio must outlive the io. */
struct kube_client;
struct azure;
struct actions_io;
struct app_actions_io {
    struct kube_client *kube;
    struct azure *azure;
};
void app_actions_io_init(struct app_actions_io *kio, struct actions_io *out);

/* The simulator child process started by --demo. */
struct app_sim {
    pid_t pid;
    int port;
    char state_dir[256];
    char kubeconfig[300];
};

/* Finds idwatch-sim (next to the idwatch binary, then $PATH), starts it with a fresh state dir,
 * waits for its READY line (with a timeout) and fills sim. */
int app_sim_start(const char *argv0, const char *scenario, double speed, struct app_sim *sim,
                  struct idw_err *err);
/* Stops the simulator (SIGTERM, then SIGKILL after a grace period) and removes its state dir. */
void app_sim_stop(struct app_sim *sim);

#endif
