/* app/options: the option table (app.h) and everything made from it: getopt, --help, the config
 * file's keys, the layers of settings and --print-config. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "idwatch/actions.h"
#include "idwatch/app.h"
#include "idwatch/azure.h"
#include "idwatch/config.h"
#include "idwatch/theme.h"

static const struct app_option_info infos[] = {
#define X(id, name, short_, arg, env, scope, comp, def, help)                                      \
    {name, short_, arg, env, APP_CFG_##scope, APP_COMPLETE_##comp, def, help},
    APP_OPTIONS(X)
#undef X
};

const struct app_option_info *app_option_info(enum app_opt id)
{
    return (unsigned)id < APP_OPT__COUNT ? &infos[id] : NULL;
}

int app_option_lookup(const char *name)
{
    for (size_t i = 0; i < APP_OPT__COUNT; i++)
        if (str_eq(infos[i].name, name))
            return (int)i;
    return -1;
}

static const char *const outputs[] = {"text", "json", "markdown", "csv", NULL};
static const char *const clouds[] = {
#define X(id, name, authority, arm, graph) name,
    AZURE_CLOUDS(X)
#undef X
        NULL};
static const char *const scenarios[] = {"demo", "empty", NULL};

const char *app_complete_value(enum app_complete kind, size_t i)
{
    const char *const *list = NULL;
    size_t n = 0;
    switch (kind) {
    case APP_COMPLETE_OUTPUT: list = outputs, n = sizeof outputs / sizeof *outputs - 1; break;
    case APP_COMPLETE_CLOUD: list = clouds, n = sizeof clouds / sizeof *clouds - 1; break;
    case APP_COMPLETE_SCENARIO:
        list = scenarios, n = sizeof scenarios / sizeof *scenarios - 1;
        break;
    case APP_COMPLETE_THEME: return theme_shipped_name(i);
    default: return NULL;
    }
    return i < n ? list[i] : NULL;
}

static const struct {
    const char *name, *help;
} commands[] = {
#define X(name, help) {name, help},
    APP_COMMANDS(X)
#undef X
};

const char *app_command_name(size_t i, const char **help)
{
    if (i >= sizeof commands / sizeof commands[0])
        return NULL;
    if (help)
        *help = commands[i].help;
    return commands[i].name;
}

/* ---- values ---------------------------------------------------------------------------- */

static int parse_bool(const char *s, bool *out)
{
    static const char *const yes[] = {"true", "yes", "on", "1"}, *const no[] = {"false", "no",
                                                                                "off", "0"};
    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(s, yes[i]) == 0)
            return *out = true, 0;
        if (strcasecmp(s, no[i]) == 0)
            return *out = false, 0;
    }
    return -1;
}

static int parse_output(const char *s, enum app_output *out)
{
    static const struct {
        const char *name;
        enum app_output value;
    } formats[] = {
        {"text", APP_OUTPUT_TEXT},   {"json", APP_OUTPUT_JSON}, {"markdown", APP_OUTPUT_MARKDOWN},
        {"md", APP_OUTPUT_MARKDOWN}, {"csv", APP_OUTPUT_CSV},
    };
    for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++) {
        if (strcmp(s, formats[i].name) == 0) {
            *out = formats[i].value;
            return 0;
        }
    }
    return -1;
}

static const char *nonempty(const char *v)
{
    return str_empty(v) ? NULL : v;
}

/* Sets one option of opt from its text (a flag's argument, a config value or a variable). The
 * message of a bad value does not name the source: the caller prefixes it. */
static int apply_value(enum app_opt id, const char *v, struct app_options *o, struct idw_err *err)
{
    int64_t n;
    bool b;
    switch (id) {
    case APP_OPT_KUBECONFIG: o->kubeconfig = nonempty(v); break;
    case APP_OPT_CONTEXT: o->context = nonempty(v); break;
    case APP_OPT_NAMESPACE: o->namespace_ = nonempty(v); break; /* "": all (-A) */
    case APP_OPT_SELECTOR: o->selector = nonempty(v); break;
    case APP_OPT_SUBSCRIPTION: o->subscription = nonempty(v); break;
    case APP_OPT_CLUSTER_ID: o->cluster_id = nonempty(v); break;
    case APP_OPT_ARM_ENDPOINT: o->arm_endpoint = nonempty(v); break;
    case APP_OPT_AUTHORITY_HOST: o->authority_host = nonempty(v); break;
    case APP_OPT_CA_FILE: o->ca_file = nonempty(v); break;
    case APP_OPT_THEME: o->theme = nonempty(v); break;
    case APP_OPT_SCENARIO: o->scenario = str_empty(v) ? "demo" : v; break;
    case APP_OPT_CLOUD:
        if (!azure_cloud_find(v) || str_empty(v))
            return idw_err_set(err,
                               "unknown cloud '%s' (AzurePublicCloud, AzureUSGovernment, "
                               "AzureChinaCloud)",
                               v);
        o->cloud = v;
        break;
    case APP_OPT_READ_ONLY:
    case APP_OPT_NO_AZURE:
    case APP_OPT_ASCII:
    case APP_OPT_DEMO:
    case APP_OPT_PRINT_CONFIG:
    case APP_OPT_ALL_CONTEXTS:
    case APP_OPT_COMPACT:
        if (parse_bool(v, &b) != 0)
            return idw_err_set(err, "'%s' is not true or false", v);
        if (id == APP_OPT_ALL_CONTEXTS)
            o->all_contexts = b;
        else if (id == APP_OPT_COMPACT)
            o->compact = b;
        else if (id == APP_OPT_READ_ONLY)
            o->read_only = b;
        else if (id == APP_OPT_NO_AZURE)
            o->no_azure = b;
        else if (id == APP_OPT_ASCII)
            o->ascii = b;
        else if (id == APP_OPT_DEMO)
            o->demo = b;
        else
            o->print_config = b;
        break;
    case APP_OPT_INTERVAL:
        if (time_parse_duration(v, &n) != 0 || n < 5)
            return idw_err_set(err, "'%s' is not a duration of 5s or more", v);
        o->interval = n;
        break;
    case APP_OPT_LOG_WINDOW:
        if (time_parse_duration(v, &n) != 0 || n < 60 || n > 7 * 86400)
            return idw_err_set(err, "'%s' is not a duration between 1m and 7d", v);
        o->log_window = n;
        break;
    case APP_OPT_PARALLEL: {
        char *end;
        long p = strtol(v, &end, 10);
        if (end == v || *end || p < 1 || p > 64)
            return idw_err_set(err, "'%s' is not a number between 1 and 64", v);
        o->parallel = (int)p;
        break;
    }
    case APP_OPT_OUTPUT:
        if (parse_output(v, &o->output) != 0)
            return idw_err_set(err, "unknown format '%s' (text, json, markdown, csv)", v);
        break;
    case APP_OPT_SPEED: {
        char *end;
        double d = strtod(v, &end);
        if (end == v || *end || !(d > 0 && d <= 10000))
            return idw_err_set(err, "'%s' is not a number between 0 and 10000", v);
        o->speed = d;
        break;
    }
    case APP_OPT_CONFIG: /* read before the options are resolved: app_config_path */
    case APP_OPT_NO_READ_ONLY:
    case APP_OPT_ALL_NAMESPACES:
    case APP_OPT_VERSION:
    case APP_OPT_HELP:
    case APP_OPT__COUNT: break;
    }
    return 0;
}

static void set_defaults(struct app_options *o)
{
    memset(o, 0, sizeof *o);
    o->mode = APP_MODE_INTERACTIVE;
    o->interval = 60;
    o->log_window = 3600;
    o->speed = 1.0;
    o->parallel = 8;
    o->scenario = "demo";
    o->cloud = "AzurePublicCloud";
    o->no_color = getenv("NO_COLOR") != NULL;
}

static bool valid_value(enum app_opt id, const char *v)
{
    struct app_options scratch;
    set_defaults(&scratch);
    struct idw_err err;
    return apply_value(id, v, &scratch, &err) == 0;
}

/* ---- the command line ------------------------------------------------------------------ */

#define LONG_BASE 256

int app_cmdline_parse(int argc, char **argv, struct app_cmdline *cl, struct idw_err *err)
{
    memset(cl, 0, sizeof *cl);
    cl->mode = APP_MODE_INTERACTIVE;
    const char *base = argc > 0 && argv[0] ? strrchr(argv[0], '/') : NULL;
    base = base ? base + 1 : (argc > 0 && argv[0] ? argv[0] : "idwatch");
    cl->progname = strcmp(base, "kubectl-idwatch") == 0 ? "kubectl idwatch" : "idwatch";

    struct option longopts[APP_OPT__COUNT + 1];
    char shorts[2 * APP_OPT__COUNT + 4] = "+:"; /* '+': operands are taken by the loop below */
    size_t ns = 2;
    for (size_t i = 0; i < APP_OPT__COUNT; i++) {
        longopts[i] = (struct option){infos[i].name, infos[i].arg ? required_argument : no_argument,
                                      NULL, LONG_BASE + (int)i};
        if (infos[i].short_) {
            shorts[ns++] = infos[i].short_;
            if (infos[i].arg)
                shorts[ns++] = ':';
        }
    }
    shorts[ns] = '\0';
    longopts[APP_OPT__COUNT] = (struct option){NULL, 0, NULL, 0};

    const char *ops[3] = {NULL, NULL, NULL};
    size_t nops = 0;
    bool help = false, version = false;
    optind = 0; /* a full re-initialisation of getopt (tests parse many command lines) */
    opterr = 0;
    for (;;) {
        int c = getopt_long(argc, argv, shorts, longopts, NULL);
        if (c == -1) {
            bool dashdash = optind > 1 && optind <= argc && strcmp(argv[optind - 1], "--") == 0;
            if (optind >= argc)
                break;
            do { /* a command (before, between or after the flags), or everything after "--" */
                if (nops < 3)
                    ops[nops] = argv[optind];
                nops++;
                optind++;
            } while (dashdash && optind < argc);
            if (dashdash)
                break;
            continue;
        }
        if (c == ':')
            return idw_err_set(err, "%s needs a value", argv[optind - 1]);
        int id = -1;
        if (c >= LONG_BASE) {
            id = c - LONG_BASE;
        } else {
            for (size_t i = 0; i < APP_OPT__COUNT && c != '?'; i++)
                if (infos[i].short_ == c)
                    id = (int)i;
        }
        if (id < 0) {
            if (optopt && optopt < LONG_BASE && optopt != '?')
                return idw_err_set(err, "unknown flag '-%c' (see %s --help)", optopt, cl->progname);
            return idw_err_set(err, "unknown flag '%s' (see %s --help)", argv[optind - 1],
                               cl->progname);
        }
        const struct app_option_info *info = &infos[id];
        if (info->arg) {
            struct app_options scratch;
            set_defaults(&scratch);
            if (apply_value((enum app_opt)id, optarg, &scratch, err) != 0) {
                if (info->short_)
                    return idw_err_prefix(err, "-%c/--%s", info->short_, info->name);
                return idw_err_prefix(err, "--%s", info->name);
            }
            cl->flags[id] = optarg;
            continue;
        }
        switch ((enum app_opt)id) {
        case APP_OPT_NO_READ_ONLY: cl->flags[APP_OPT_READ_ONLY] = "false"; break;
        case APP_OPT_ALL_NAMESPACES: cl->flags[APP_OPT_NAMESPACE] = ""; break;
        case APP_OPT_HELP: help = true; break;
        case APP_OPT_VERSION: version = true; break;
        default: cl->flags[id] = "true"; break;
        }
    }
    if (nops > 0) {
        if (strcmp(ops[0], "report") == 0) {
            cl->mode = APP_MODE_REPORT;
        } else if (strcmp(ops[0], "version") == 0) {
            cl->mode = APP_MODE_VERSION;
        } else if (strcmp(ops[0], "__complete") == 0) {
            if (nops < 2 || (strcmp(ops[1], "contexts") != 0 && strcmp(ops[1], "namespaces") != 0))
                return idw_err_set(err, "__complete: say 'contexts' or 'namespaces'");
            cl->mode = APP_MODE_COMPLETE;
            cl->complete = ops[1];
        } else {
            return idw_err_set(err, "unexpected argument '%s' (see %s --help)", ops[0],
                               cl->progname);
        }
        size_t used = cl->mode == APP_MODE_COMPLETE ? 2 : 1;
        if (nops > used)
            return idw_err_set(err, "unexpected argument '%s' (see %s --help)",
                               nops < 3 || used < 2 ? ops[used] : ops[2], cl->progname);
    }
    if (help)
        cl->mode = APP_MODE_HELP;
    else if (version)
        cl->mode = APP_MODE_VERSION;
    return 0;
}

/* ---- the config file and the layers ---------------------------------------------------- */

char *app_config_path(const struct app_cmdline *cl, bool *explicit_)
{
    *explicit_ = false;
    const char *flag = cl ? cl->flags[APP_OPT_CONFIG] : NULL;
    if (flag) {
        *explicit_ = true;
        return str_empty(flag) ? NULL : xstrdup(flag);
    }
    const char *env = getenv("IDWATCH_CONFIG");
    if (!str_empty(env)) {
        *explicit_ = true;
        return xstrdup(env);
    }
    return config_default_path();
}

void app_config_check(struct config *c)
{
    for (size_t i = 0; i < c->n; i++) {
        struct config_entry *e = &c->entries[i];
        int id = app_option_lookup(e->key);
        struct idw_err err;
        e->skip = true;
        if (id < 0) {
            config_warn(c, e->line,
                        "unknown key '%s' (keys are long flag names: see idwatch "
                        "--help)",
                        e->key);
        } else if (infos[id].scope == APP_CFG_NO) {
            config_warn(c, e->line, "'%s' is a flag only; it cannot be set in the config file",
                        e->key);
        } else if (infos[id].scope == APP_CFG_TOP && e->section) {
            config_warn(c, e->line,
                        "'%s' cannot be set per context; put it above the first "
                        "section",
                        e->key);
        } else if (str_empty(e->value)) {
            config_warn(c, e->line, "'%s' has no value", e->key);
        } else if (!valid_value((enum app_opt)id, e->value)) {
            struct app_options scratch;
            set_defaults(&scratch);
            apply_value((enum app_opt)id, e->value, &scratch, &err);
            config_warn(c, e->line, "%s: %s", e->key, err.msg);
        } else if (id == APP_OPT_THEME && !str_eq(e->value, "default")) {
            char *path = theme_find(e->value);
            if (path)
                e->skip = false;
            else
                config_warn(c, e->line, "theme '%s' not found", e->value);
            free(path);
        } else {
            e->skip = false;
        }
    }
    for (size_t i = 0; i < APP_OPT__COUNT; i++) {
        const char *v = infos[i].env ? getenv(infos[i].env) : NULL;
        struct idw_err err;
        struct app_options scratch;
        set_defaults(&scratch);
        if (!str_empty(v) && apply_value((enum app_opt)i, v, &scratch, &err) != 0)
            config_warn(c, -1, "%s: %s; ignored", infos[i].env, err.msg);
    }
}

static void layer_set(struct app_setting *s, const char *value, enum app_source src)
{
    *s = (struct app_setting){.value = value, .source = src};
}

int app_options_resolve(const struct app_cmdline *cl, const struct config *c, const char *context,
                        struct app_options *opt, struct idw_err *err)
{
    set_defaults(opt);
    opt->cmdline = cl;
    opt->config = c;
    opt->context_name = context;
    struct app_setting *set = opt->setting;
    for (size_t i = 0; i < APP_OPT__COUNT; i++)
        layer_set(&set[i], NULL, APP_SRC_DEFAULT);
    /* the config file: the top level, then the matching [context] sections in file order */
    for (int pass = 0; c && pass < 2; pass++) {
        for (size_t i = 0; i < c->n; i++) {
            const struct config_entry *e = &c->entries[i];
            if (e->skip || (pass == 0) != (e->section == NULL))
                continue;
            if (pass == 1 && !config_section_matches(e->section, context))
                continue;
            int id = app_option_lookup(e->key);
            if (id < 0 || infos[id].scope == APP_CFG_NO || !valid_value((enum app_opt)id, e->value))
                continue;
            layer_set(&set[id], e->value, APP_SRC_CONFIG);
            set[id].file = c->path;
            set[id].line = e->line;
        }
    }
    for (size_t i = 0; i < APP_OPT__COUNT; i++) {
        const char *v = infos[i].env ? getenv(infos[i].env) : NULL;
        if (!str_empty(v) && valid_value((enum app_opt)i, v)) {
            layer_set(&set[i], v, APP_SRC_ENV);
            set[i].env = infos[i].env;
        }
    }
    for (size_t i = 0; cl && i < APP_OPT__COUNT; i++)
        if (cl->flags[i])
            layer_set(&set[i], cl->flags[i], APP_SRC_FLAG);
    opt->mode = cl ? cl->mode : APP_MODE_INTERACTIVE;
    if (opt->mode == APP_MODE_REPORT || opt->mode == APP_MODE_COMPLETE)
        layer_set(&set[APP_OPT_READ_ONLY], "true", APP_SRC_COMMAND); /* they never change a thing */

    for (size_t i = 0; i < APP_OPT__COUNT; i++) {
        if (set[i].value && apply_value((enum app_opt)i, set[i].value, opt, err) != 0)
            return idw_err_prefix(err, "--%s", infos[i].name); /* checked before: cannot happen */
    }
    /* KUBECONFIG is a list that the kubeconfig loader merges itself */
    if (set[APP_OPT_KUBECONFIG].source == APP_SRC_ENV)
        opt->kubeconfig = NULL;
    if (opt->mode != APP_MODE_REPORT && set[APP_OPT_OUTPUT].source == APP_SRC_FLAG &&
        opt->mode != APP_MODE_HELP && opt->mode != APP_MODE_VERSION)
        return idw_err_set(err, "-o/--output only applies to '%s report'",
                           cl && cl->progname ? cl->progname : "idwatch");
    if (set[APP_OPT_COMPACT].source == APP_SRC_FLAG && opt->compact &&
        (opt->mode != APP_MODE_REPORT || opt->output != APP_OUTPUT_JSON) &&
        opt->mode != APP_MODE_HELP && opt->mode != APP_MODE_VERSION)
        return idw_err_set(err, "--compact only applies to '%s report -o json'",
                           cl && cl->progname ? cl->progname : "idwatch");
    if (opt->all_contexts && set[APP_OPT_CONTEXT].source == APP_SRC_FLAG && opt->context)
        return idw_err_set(err, "--all-contexts and --context do not combine (--context takes a "
                                "list and globs)");
    return 0;
}

void app_options_for_context(const struct app_options *base, const char *context,
                             struct app_options *out)
{
    struct idw_err err;
    if (app_options_resolve(base->cmdline, base->config, context, out, &err) != 0) {
        *out = *base; /* the base resolved with the same flags: cannot happen */
        out->context_name = context;
    }
    out->action_log = base->action_log;
    out->notice = NULL;
}

int app_parse_options(int argc, char **argv, struct app_options *opt, struct idw_err *err)
{
    static struct app_cmdline cl; /* the tests' convenience: opt refers to it */
    if (app_cmdline_parse(argc, argv, &cl, err) != 0)
        return -1;
    if (app_options_resolve(&cl, NULL, NULL, opt, err) != 0)
        return -1;
    opt->cmdline = NULL;
    return 0;
}

/* ---- --help and --print-config --------------------------------------------------------- */

/* Prints text from column indent (the cursor is there), wrapped at width, then a newline. */
static void wrap(FILE *out, const char *text, int indent, int width)
{
    int col = indent;
    const char *p = text;
    while (*p) {
        size_t w = strcspn(p, " ");
        if (col > indent && col + 1 + (int)w > width) {
            fprintf(out, "\n%*s", indent, "");
            col = indent;
        } else if (col > indent) {
            fputc(' ', out);
            col++;
        }
        fwrite(p, 1, w, out);
        col += (int)w;
        p += w;
        while (*p == ' ')
            p++;
    }
    fputc('\n', out);
}

void app_print_usage(FILE *out, const char *progname)
{
    fprintf(out, "usage: %s [command] [flags]\n\ncommands:\n", progname ? progname : "idwatch");
    fprintf(out, "  %-24s ", "(none)");
    wrap(out, "the interactive dashboard (--demo: on the embedded simulated cluster)", 27, 79);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        fprintf(out, "  %-24s ", commands[i].name);
        wrap(out, commands[i].help, 27, 79);
    }
    fputs("\nflags (before or after the command):\n", out);
    for (size_t i = 0; i < APP_OPT__COUNT; i++) {
        const struct app_option_info *o = &infos[i];
        char left[64];
        int n = o->short_ ? snprintf(left, sizeof left, "-%c, --%s", o->short_, o->name)
                          : snprintf(left, sizeof left, "--%s", o->name);
        if (o->arg && n > 0 && (size_t)n < sizeof left)
            snprintf(left + n, sizeof left - (size_t)n, " %s", o->arg);
        char *text = o->env ? xasprintf("%s (%s)", o->help, o->env) : xstrdup(o->help);
        fprintf(out, "  %-24s ", left);
        wrap(out, text, 27, 79);
        free(text);
    }
    fputs("\nThe config file (--config) sets the same settings by long name (theme = mono);\n"
          "[context PATTERN] sections apply to matching kubeconfig contexts. Flags win over\n"
          "the environment, which wins over the config file. See idwatch(1).\n",
          out);
}

/* The value as shown for a setting left at its default. */
static const char *default_shown(const struct app_options *opt, enum app_opt id, char *buf,
                                 size_t n)
{
    const char *home = getenv("HOME");
    switch (id) {
    case APP_OPT_KUBECONFIG:
        snprintf(buf, n, "%s/.kube/config", str_empty(home) ? "~" : home);
        return buf;
    case APP_OPT_CONTEXT:
        if (opt->context_name) {
            snprintf(buf, n, "%s", opt->context_name);
            return buf;
        }
        return "(current-context)";
    case APP_OPT_NAMESPACE: return "(all namespaces)";
    case APP_OPT_CONFIG: return "(none)";
    default: break;
    }
    const char *def = infos[id].def;
    if (!def)
        return "(none)";
    if (strchr(def, ' ')) { /* a description, not a value */
        snprintf(buf, n, "(%s)", def);
        return buf;
    }
    return def;
}

static void print_line(FILE *out, const char *key, const char *value, const char *source)
{
    char v[1024], s[1024];
    fprintf(out, "%s = %s  # %s\n", key, str_sanitize(v, sizeof v, value),
            str_sanitize(s, sizeof s, source));
}

void app_print_config(FILE *out, const struct app_options *opt)
{
    char buf[1024], src[1200];
    for (size_t i = 0; i < APP_OPT__COUNT; i++) {
        if (infos[i].scope == APP_CFG_NO && i != APP_OPT_CONFIG)
            continue;
        const struct app_setting *s = &opt->setting[i];
        const char *value = s->value;
        bool b;
        if (value && !infos[i].arg && parse_bool(value, &b) == 0)
            value = b ? "true" : "false"; /* "yes", "1", "on": shown as what they mean */
        if (i == APP_OPT_NAMESPACE && value && !*value)
            value = "(all namespaces)";
        if (!value)
            value = default_shown(opt, (enum app_opt)i, buf, sizeof buf);
        switch (s->source) {
        case APP_SRC_DEFAULT: snprintf(src, sizeof src, "default"); break;
        case APP_SRC_FLAG: snprintf(src, sizeof src, "flag"); break;
        case APP_SRC_ENV: snprintf(src, sizeof src, "env %s", s->env); break;
        case APP_SRC_CONFIG: snprintf(src, sizeof src, "%s:%d", s->file, s->line); break;
        case APP_SRC_COMMAND: snprintf(src, sizeof src, "report (always read-only)"); break;
        }
        if (i == APP_OPT_CONFIG) {
            const struct config *c = opt->config;
            value = c && c->path ? c->path : "(none)";
            if (c && c->path && c->n == 0 && c->n_warnings == 0)
                snprintf(src + strlen(src), sizeof src - strlen(src), ", empty or not found");
        }
        print_line(out, infos[i].name, value, src);
        if (i == APP_OPT_THEME) {
            const char *spec = opt->theme ? opt->theme : "default";
            char *path = theme_find(spec);
            print_line(out, "theme-file", path ? path : "(built in)",
                       path ? "found for theme" : "no file: the built-in colours");
            free(path);
        }
    }
    if (opt->demo && !opt->action_log) { /* --print-config does not start the simulator */
        print_line(out, "action-log", "(the demo's own state directory, removed when it ends)",
                   "demo");
        return;
    }
    char *log = opt->action_log ? xstrdup(opt->action_log) : act_log_default_path();
    print_line(out, "action-log", log ? log : "(none: set XDG_STATE_HOME or HOME)",
               opt->action_log ? "demo" : "default");
    free(log);
}
