#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "idwatch/app.h"

/* Long options without a short form get codes above 255. */
enum {
    OPT_KUBECONFIG = 256,
    OPT_CONTEXT,
    OPT_READ_ONLY,
    OPT_SUBSCRIPTION,
    OPT_CLUSTER_ID,
    OPT_CLOUD,
    OPT_ARM_ENDPOINT,
    OPT_AUTHORITY_HOST,
    OPT_CA_FILE,
    OPT_NO_AZURE,
    OPT_INTERVAL,
    OPT_LOG_WINDOW,
    OPT_THEME,
    OPT_ASCII,
    OPT_DEMO,
    OPT_VERSION,
    OPT_SPEED,
    OPT_SCENARIO,
};

static const struct option long_options[] = {
    {"kubeconfig", required_argument, NULL, OPT_KUBECONFIG},
    {"context", required_argument, NULL, OPT_CONTEXT},
    {"namespace", required_argument, NULL, 'n'},
    {"all-namespaces", no_argument, NULL, 'A'},
    {"selector", required_argument, NULL, 'l'},
    {"read-only", no_argument, NULL, OPT_READ_ONLY},
    {"subscription", required_argument, NULL, OPT_SUBSCRIPTION},
    {"cluster-id", required_argument, NULL, OPT_CLUSTER_ID},
    {"cloud", required_argument, NULL, OPT_CLOUD},
    {"arm-endpoint", required_argument, NULL, OPT_ARM_ENDPOINT},
    {"authority-host", required_argument, NULL, OPT_AUTHORITY_HOST},
    {"ca-file", required_argument, NULL, OPT_CA_FILE},
    {"no-azure", no_argument, NULL, OPT_NO_AZURE},
    {"interval", required_argument, NULL, OPT_INTERVAL},
    {"log-window", required_argument, NULL, OPT_LOG_WINDOW},
    {"theme", required_argument, NULL, OPT_THEME},
    {"ascii", no_argument, NULL, OPT_ASCII},
    {"output", required_argument, NULL, 'o'},
    {"demo", no_argument, NULL, OPT_DEMO},
    {"speed", required_argument, NULL, OPT_SPEED},
    {"scenario", required_argument, NULL, OPT_SCENARIO},
    {"version", no_argument, NULL, OPT_VERSION},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

void app_print_usage(FILE *out)
{
    fputs("usage: idwatch [flags]            interactive dashboard\n"
          "       idwatch report [flags]     one snapshot, printed, then exit (read-only)\n"
          "       idwatch --demo             dashboard on the embedded simulated cluster\n"
          "       idwatch --version | --help\n"
          "\n"
          "flags:\n"
          "  --kubeconfig PATH        kubeconfig (default $KUBECONFIG, else ~/.kube/config)\n"
          "  --context NAME           kubeconfig context (default: current-context)\n"
          "  -n, --namespace NS       one namespace (default: all)\n"
          "  -A, --all-namespaces     all namespaces\n"
          "  -l, --selector SEL       label selector on workloads\n"
          "  --read-only              nothing that changes state leaves the process\n"
          "                           (also IDWATCH_READ_ONLY=1)\n"
          "  --subscription ID        Azure subscription (AZURE_SUBSCRIPTION_ID)\n"
          "  --cluster-id ARMID       the AKS resource id (default: found by API server host)\n"
          "  --cloud NAME             AzurePublicCloud, AzureUSGovernment, AzureChinaCloud\n"
          "  --arm-endpoint URL       ARM base URL (IDWATCH_ARM_ENDPOINT)\n"
          "  --authority-host URL     Entra ID login host (AZURE_AUTHORITY_HOST)\n"
          "  --ca-file PATH           extra CA bundle for Azure and OIDC issuer (IDWATCH_CA_FILE)\n"
          "  --no-azure               skip Azure entirely (federation shows unknown)\n"
          "  --interval SECONDS       refresh of polled data (ARM, logs); default 60\n"
          "  --log-window DURATION    how far back NMI logs are read; default 1h\n"
          "  --theme NAME|PATH        colour theme (IDWATCH_THEME); NO_COLOR forces monochrome\n"
          "  --ascii                  ASCII line drawing and symbols only\n"
          "  -o, --output FMT         report format: text (default), json, markdown, csv\n"
          "  --speed N                with --demo: simulated time runs N times faster\n"
          "  --scenario NAME|FILE     with --demo: simulator scenario (default: demo)\n",
          out);
}

static const char *env_or(const char *name, const char *fallback)
{
    const char *v = getenv(name);
    return (v && *v) ? v : fallback;
}

static int parse_output(const char *s, enum app_output *out)
{
    static const struct {
        const char *name;
        enum app_output value;
    } formats[] = {
        {"text", APP_OUTPUT_TEXT},
        {"json", APP_OUTPUT_JSON},
        {"markdown", APP_OUTPUT_MARKDOWN},
        {"md", APP_OUTPUT_MARKDOWN},
        {"csv", APP_OUTPUT_CSV},
    };
    for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++) {
        if (strcmp(s, formats[i].name) == 0) {
            *out = formats[i].value;
            return 0;
        }
    }
    return -1;
}

static int parse_cloud(const char *s)
{
    static const char *clouds[] = {"AzurePublicCloud", "AzureUSGovernment", "AzureChinaCloud"};
    for (size_t i = 0; i < sizeof clouds / sizeof clouds[0]; i++)
        if (strcmp(s, clouds[i]) == 0)
            return 0;
    return -1;
}

int app_parse_options(int argc, char **argv, struct app_options *opt, struct idw_err *err)
{
    memset(opt, 0, sizeof *opt);
    opt->mode = APP_MODE_INTERACTIVE;
    opt->interval = 60;
    opt->log_window = 3600;
    opt->speed = 1.0;
    opt->scenario = "demo";
    opt->subscription = env_or("AZURE_SUBSCRIPTION_ID", NULL);
    opt->cloud = env_or("AZURE_ENVIRONMENT", "AzurePublicCloud");
    opt->arm_endpoint = env_or("IDWATCH_ARM_ENDPOINT", NULL);
    opt->authority_host = env_or("AZURE_AUTHORITY_HOST", NULL);
    opt->ca_file = env_or("IDWATCH_CA_FILE", NULL);
    opt->theme = env_or("IDWATCH_THEME", NULL);
    opt->read_only = str_eq(env_or("IDWATCH_READ_ONLY", ""), "1") ||
                     str_eq(env_or("IDWATCH_READ_ONLY", ""), "true");
    opt->no_color = getenv("NO_COLOR") != NULL;

    /* `report` is a subcommand: accept it anywhere before the first flag's value. */
    int first = 1;
    if (argc > 1 && strcmp(argv[1], "report") == 0) {
        opt->mode = APP_MODE_REPORT;
        first = 2;
    }
    optind = first;
    opterr = 0;
    int c;
    int64_t n;
    while ((c = getopt_long(argc, argv, ":n:Al:o:h", long_options, NULL)) != -1) {
        switch (c) {
        case OPT_KUBECONFIG: opt->kubeconfig = optarg; break;
        case OPT_CONTEXT: opt->context = optarg; break;
        case 'n': opt->namespace_ = optarg; break;
        case 'A': opt->namespace_ = NULL; break;
        case 'l': opt->selector = optarg; break;
        case OPT_READ_ONLY: opt->read_only = true; break;
        case OPT_SUBSCRIPTION: opt->subscription = optarg; break;
        case OPT_CLUSTER_ID: opt->cluster_id = optarg; break;
        case OPT_CLOUD:
            if (parse_cloud(optarg) != 0)
                return idw_err_set(err, "--cloud: unknown cloud '%s' (AzurePublicCloud, "
                                        "AzureUSGovernment, AzureChinaCloud)", optarg);
            opt->cloud = optarg;
            break;
        case OPT_ARM_ENDPOINT: opt->arm_endpoint = optarg; break;
        case OPT_AUTHORITY_HOST: opt->authority_host = optarg; break;
        case OPT_CA_FILE: opt->ca_file = optarg; break;
        case OPT_NO_AZURE: opt->no_azure = true; break;
        case OPT_INTERVAL:
            if (time_parse_duration(optarg, &n) != 0 || n < 5)
                return idw_err_set(err, "--interval: '%s' is not a duration of 5s or more",
                                   optarg);
            opt->interval = n;
            break;
        case OPT_LOG_WINDOW:
            if (time_parse_duration(optarg, &n) != 0 || n < 60 || n > 7 * 86400)
                return idw_err_set(err, "--log-window: '%s' is not a duration between 1m and 7d",
                                   optarg);
            opt->log_window = n;
            break;
        case OPT_THEME: opt->theme = optarg; break;
        case OPT_ASCII: opt->ascii = true; break;
        case 'o':
            if (parse_output(optarg, &opt->output) != 0)
                return idw_err_set(err, "--output: unknown format '%s' (text, json, markdown, csv)",
                                   optarg);
            break;
        case OPT_DEMO: opt->demo = true; break;
        case OPT_SPEED: {
            char *end;
            double v = strtod(optarg, &end);
            if (*end || v <= 0 || v > 10000)
                return idw_err_set(err, "--speed: '%s' is not a number between 0 and 10000",
                                   optarg);
            opt->speed = v;
            break;
        }
        case OPT_SCENARIO: opt->scenario = optarg; break;
        case OPT_VERSION: opt->mode = APP_MODE_VERSION; break;
        case 'h': opt->mode = APP_MODE_HELP; break;
        case ':': return idw_err_set(err, "%s needs a value", argv[optind - 1]);
        default:
            return idw_err_set(err, "unknown flag '%s' (see idwatch --help)", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return idw_err_set(err, "unexpected argument '%s' (see idwatch --help)", argv[optind]);
    if (opt->mode == APP_MODE_REPORT)
        opt->read_only = true; /* a report never changes anything */
    if (opt->mode != APP_MODE_REPORT && opt->output != APP_OUTPUT_TEXT)
        return idw_err_set(err, "-o/--output only applies to 'idwatch report'");
    return 0;
}
