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
    APP_MODE_COMPLETE, /* idwatch __complete contexts|namespaces (for the shell completions) */
};

enum app_output {
    APP_OUTPUT_TEXT,
    APP_OUTPUT_JSON,
    APP_OUTPUT_MARKDOWN,
    APP_OUTPUT_CSV,
};

/* Where the config file may set an option: nowhere (a flag only), at the top level, or also in
 * [context PATTERN] sections. */
enum app_cfg_scope {
    APP_CFG_NO,
    APP_CFG_TOP,
    APP_CFG_ANY,
};

/* What completes an option's value in the shells. */
enum app_complete {
    APP_COMPLETE_NONE,
    APP_COMPLETE_FILE,
    APP_COMPLETE_CONTEXT,   /* idwatch __complete contexts */
    APP_COMPLETE_NAMESPACE, /* idwatch __complete namespaces */
    APP_COMPLETE_THEME,     /* the shipped theme names (and files) */
    APP_COMPLETE_OUTPUT,    /* the report formats */
    APP_COMPLETE_CLOUD,     /* the Azure clouds */
    APP_COMPLETE_SCENARIO,  /* the simulator's scenarios (and files) */
};

/* THE OPTION TABLE: the one source of the flags, --help, the config file keys, --print-config,
 * the man page's OPTIONS and ENVIRONMENT and the shell completions.
 * id, long name, short letter (0: none), argument name (NULL: a switch), environment variable
 * (NULL: none), config scope, completion, default as shown to users (NULL: none), help. */
#define APP_OPTIONS(X)                                                                             \
    X(KUBECONFIG, "kubeconfig", 0, "PATH", "KUBECONFIG", TOP, FILE,                                \
      "$KUBECONFIG (a colon-separated list, merged), else ~/.kube/config",                         \
      "kubeconfig file; in a pod without one, the in-cluster config")                              \
    X(CONTEXT, "context", 0, "NAME", NULL, TOP, CONTEXT, "the kubeconfig's current-context",       \
      "kubeconfig context; for report also a list and globs (prod-*,stage): a fleet report")       \
    X(ALL_CONTEXTS, "all-contexts", 0, NULL, NULL, NO, NONE, NULL,                                 \
      "report: every context of the kubeconfig, audited at once (a fleet report)")                 \
    X(PARALLEL, "parallel", 0, "N", NULL, TOP, NONE, "8",                                          \
      "fleet report: how many clusters are audited at once, 1 to 64")                              \
    X(NAMESPACE, "namespace", 'n', "NS", NULL, ANY, NAMESPACE, "all namespaces",                   \
      "list the workloads of one namespace (cluster facts are always read cluster-wide)")          \
    X(ALL_NAMESPACES, "all-namespaces", 'A', NULL, NULL, NO, NONE, NULL,                           \
      "list the workloads of all namespaces")                                                      \
    X(SELECTOR, "selector", 'l', "SEL", NULL, ANY, NONE, NULL,                                     \
      "label selector on the workloads listed")                                                    \
    X(READ_ONLY, "read-only", 0, NULL, "IDWATCH_READ_ONLY", ANY, NONE, "false",                    \
      "nothing that changes state leaves the process; the write keys are disabled")                \
    X(NO_READ_ONLY, "no-read-only", 0, NULL, NULL, NO, NONE, NULL,                                 \
      "allow changes although the config file or IDWATCH_READ_ONLY says read-only")                \
    X(SUBSCRIPTION, "subscription", 0, "ID", "AZURE_SUBSCRIPTION_ID", ANY, NONE,                   \
      "the az CLI's default, else every subscription the token sees",                              \
      "Azure subscription of the cluster and its identities")                                      \
    X(CLUSTER_ID, "cluster-id", 0, "ARMID", NULL, ANY, NONE,                                       \
      "the managedCluster whose fqdn is the API server host",                                      \
      "ARM resource id of the AKS cluster")                                                        \
    X(CLOUD, "cloud", 0, "NAME", "AZURE_ENVIRONMENT", ANY, CLOUD, "AzurePublicCloud",              \
      "Azure cloud: AzurePublicCloud, AzureUSGovernment, AzureChinaCloud")                         \
    X(ARM_ENDPOINT, "arm-endpoint", 0, "URL", "IDWATCH_ARM_ENDPOINT", ANY, NONE, "the cloud's",    \
      "ARM base URL override")                                                                     \
    X(AUTHORITY_HOST, "authority-host", 0, "URL", "AZURE_AUTHORITY_HOST", ANY, NONE,               \
      "the cloud's", "Entra ID login host override")                                               \
    X(CA_FILE, "ca-file", 0, "PATH", "IDWATCH_CA_FILE", ANY, FILE, NULL,                           \
      "extra CA bundle for Azure and the OIDC issuer (the cluster's CA is in the kubeconfig)")     \
    X(NO_AZURE, "no-azure", 0, NULL, NULL, ANY, NONE, "false",                                     \
      "skip Azure entirely (federation shows unknown)")                                            \
    X(INTERVAL, "interval", 0, "DURATION", NULL, ANY, NONE, "60s",                                 \
      "refresh of polled data (ARM, the OIDC issuer); watches are live; 5s or more")               \
    X(LOG_WINDOW, "log-window", 0, "DURATION", NULL, ANY, NONE, "1h",                              \
      "how far back NMI logs are read; 1m to 7d")                                                  \
    X(THEME, "theme", 0, "NAME|PATH", "IDWATCH_THEME", ANY, THEME, "default",                      \
      "colour theme; NO_COLOR (any value) forces monochrome")                                      \
    X(ASCII, "ascii", 0, NULL, NULL, ANY, NONE, "false", "ASCII line drawing and symbols only")    \
    X(OUTPUT, "output", 'o', "FMT", NULL, ANY, OUTPUT, "text",                                     \
      "report format: text, json, markdown, csv")                                                  \
    X(COMPACT, "compact", 0, NULL, NULL, TOP, NONE, "false",                                       \
      "with report -o json: the whole report on one line (a log pipeline's record)")               \
    X(CONFIG, "config", 0, "PATH", "IDWATCH_CONFIG", NO, FILE,                                     \
      "$XDG_CONFIG_HOME/idwatch/config, else ~/.config/idwatch/config",                            \
      "the config file; an empty value or /dev/null reads none")                                   \
    X(PRINT_CONFIG, "print-config", 0, NULL, NULL, NO, NONE, NULL,                                 \
      "print each effective setting and where it comes from, then exit")                           \
    X(DEMO, "demo", 0, NULL, NULL, NO, NONE, NULL,                                                 \
      "start the embedded simulated cluster (idwatch-sim) and connect to it")                      \
    X(SPEED, "speed", 0, "N", NULL, NO, NONE, "1",                                                 \
      "with --demo: simulated time runs N times faster")                                           \
    X(SCENARIO, "scenario", 0, "NAME|FILE", NULL, NO, SCENARIO, "demo",                            \
      "with --demo: the simulator's scenario")                                                     \
    X(VERSION, "version", 0, NULL, NULL, NO, NONE, NULL, "print the version and exit")             \
    X(HELP, "help", 'h', NULL, NULL, NO, NONE, NULL, "print the usage and exit")

enum app_opt {
#define X(id, name, short_, arg, env, scope, comp, def, help) APP_OPT_##id,
    APP_OPTIONS(X)
#undef X
        APP_OPT__COUNT
};

struct app_option_info {
    const char *name; /* "log-window" */
    char short_;      /* 'n', or 0 */
    const char *arg;  /* "DURATION", or NULL for a switch */
    const char *env;  /* "IDWATCH_THEME", or NULL */
    enum app_cfg_scope scope;
    enum app_complete complete;
    const char *def; /* the default as shown, or NULL */
    const char *help;
};

/* The table row of an option (NULL out of range). */
const struct app_option_info *app_option_info(enum app_opt id);
/* The option of a long name ("theme"), or -1. */
int app_option_lookup(const char *name);
/* The fixed values that complete an option (APP_COMPLETE_OUTPUT, _CLOUD, _SCENARIO, _THEME):
 * the i-th, or NULL past the last. */
const char *app_complete_value(enum app_complete kind, size_t i);

/* The commands (first word that is not a flag). */
#define APP_COMMANDS(X)                                                                            \
    X("report", "one snapshot printed as text, JSON, Markdown or CSV, then exit (always "          \
                "read-only); exit 0 when no finding is an error, 1 when one is, 2 when idwatch "   \
                "could not do its job")                                                            \
    X("version", "print the version and exit, as --version")
/* The i-th command name and its help, or NULL past the last. */
const char *app_command_name(size_t i, const char **help);

/* Where an effective setting came from (--print-config). */
enum app_source {
    APP_SRC_DEFAULT,
    APP_SRC_CONFIG, /* file and line */
    APP_SRC_ENV,    /* env names the variable */
    APP_SRC_FLAG,
    APP_SRC_COMMAND, /* implied by the command: `report` is always read-only */
};

struct app_setting {
    const char *value; /* as given; NULL = the default */
    enum app_source source;
    const char *env;  /* APP_SRC_ENV: the variable */
    const char *file; /* APP_SRC_CONFIG */
    int line;
};

/* The command line, parsed but not yet merged with the config file and the environment. */
struct app_cmdline {
    enum app_mode mode;
    const char *flags[APP_OPT__COUNT]; /* the last value of each flag given ("true"/"false" for
                                        * switches); NULL = not given */
    const char *complete;              /* APP_MODE_COMPLETE: "contexts" or "namespaces" */
    const char *progname; /* "idwatch", or "kubectl idwatch" when run as kubectl-idwatch */
};

struct config;

struct app_options {
    enum app_mode mode;
    bool demo;
    bool print_config;
    const char *kubeconfig; /* --kubeconfig (or the config file), else NULL (KUBECONFIG, else
                             * ~/.kube/config) */
    const char *context;    /* a name, or for a fleet report a list "a,b" and/or globs "prod-*" */
    bool all_contexts;      /* --all-contexts: a fleet report over every context */
    int parallel;           /* --parallel: clusters audited at once in a fleet report (8) */
    bool compact;           /* --compact: JSON on one line (report -o json only) */
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
    int64_t interval;   /* seconds, polled data refresh */
    int64_t log_window; /* seconds, default 3600 */
    const char *theme;
    bool ascii;
    bool no_color; /* NO_COLOR set */
    enum app_output output;
    double speed;           /* --speed for --demo's simulator */
    const char *scenario;   /* --scenario for --demo (default "demo") */
    const char *action_log; /* where applied changes are logged; NULL = act_log_default_path() */
    const char *notice;     /* one line for the status line at start (config warnings), or NULL */
    /* How they were found (--print-config, and re-resolving for another context). */
    const char *context_name; /* the context the [context] sections were matched against */
    struct app_setting setting[APP_OPT__COUNT];
    const struct app_cmdline *cmdline; /* NULL after app_parse_options */
    const struct config *config;       /* NULL when no config file was read */
};

/* Parses argv: the flags (before or after the command), the command, and for __complete its
 * argument. Bad flags and bad values fail with a one-line reason (exit code 2 at the top). The
 * strings stay in argv. */
int app_cmdline_parse(int argc, char **argv, struct app_cmdline *cl, struct idw_err *err);

/* The config file to read: --config, else IDWATCH_CONFIG, else config_default_path(). *explicit
 * says it was named (a missing file is then an error). xmalloc'd; NULL = read none. */
char *app_config_path(const struct app_cmdline *cl, bool *explicit_);
/* Checks every entry of a loaded config against the option table (known key, allowed in its
 * section, valid value), and the option variables of the environment: each bad one becomes a
 * warning "file:line: reason" in c and is skipped. */
void app_config_check(struct config *c);

/* Merges the layers into opt: default < config top level < [context PATTERN] sections matching
 * context (in file order) < environment < flags; --no-read-only is a flag that sets read-only to
 * false. cl and c (may be NULL) must outlive opt. Fails only on a flag that does not fit the
 * command (-o without report). */
int app_options_resolve(const struct app_cmdline *cl, const struct config *c, const char *context,
                        struct app_options *opt, struct idw_err *err);
/* The same options for another context (the dashboard's context switch). */
void app_options_for_context(const struct app_options *base, const char *context,
                             struct app_options *out);

/* Parses argv and the environment into opt, without a config file (tests). */
int app_parse_options(int argc, char **argv, struct app_options *opt, struct idw_err *err);
/* Prints the usage text (--help), generated from the option table. */
void app_print_usage(FILE *out, const char *progname);
/* --print-config: "key = value  # source" per setting, the theme file, the config file and the
 * action log. */
void app_print_config(FILE *out, const struct app_options *opt);

/* idwatch __complete contexts|namespaces: the names, one a line, for the shell completions.
 * Namespaces come from one GET of /api/v1/namespaces (read-only, no Azure, timeout_ms in all).
 * Returns the exit code (0, or 1 with err). */
int app_complete(const struct app_options *opt, const char *what, int timeout_ms, FILE *out,
                 struct idw_err *err);

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
