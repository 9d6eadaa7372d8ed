/* The config file (syntax, checks) and the precedence of the layers of settings:
 * default < config top level < [context PATTERN] < environment < flag. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "idwatch/app.h"
#include "idwatch/config.h"

static const char *const option_vars[] = {"IDWATCH_READ_ONLY",    "AZURE_SUBSCRIPTION_ID",
                                          "AZURE_ENVIRONMENT",    "IDWATCH_ARM_ENDPOINT",
                                          "AZURE_AUTHORITY_HOST", "IDWATCH_CA_FILE",
                                          "IDWATCH_THEME",        "IDWATCH_CONFIG",
                                          "KUBECONFIG",           "NO_COLOR"};

static int setup(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof option_vars / sizeof option_vars[0]; i++)
        unsetenv(option_vars[i]);
    /* themes: only the test's own (custom), and the built-in "default" */
    setenv("XDG_CONFIG_HOME", IDW_TEST_DATA "/view/xdg", 1);
    setenv("XDG_DATA_HOME", "/nonexistent/data", 1);
    setenv("XDG_DATA_DIRS", "/nonexistent/dirs", 1);
    return 0;
}

static struct config *parse_text(const char *text)
{
    return config_parse("cfg", text, strlen(text));
}

/* ---- syntax ---------------------------------------------------------------------------- */

static void test_syntax(void **state)
{
    (void)state;
    struct config *c = parse_text("\xEF\xBB\xBF# a comment\n"
                                  "; another\n"
                                  "theme = mono\n"
                                  "   interval=30s   # trailing comment\n"
                                  "log-window : 2h ; inih's own inline comment\n"
                                  "\n"
                                  "[context prod-*]\n"
                                  "  read-only = true\n"
                                  "    ascii = yes\n"
                                  "[context \"stage west\"]   # quoted\n"
                                  "namespace = payments\n");
    assert_int_equal(c->n_warnings, 0);
    assert_int_equal(c->n, 6);
    assert_null(c->entries[0].section);
    assert_string_equal(c->entries[0].key, "theme");
    assert_string_equal(c->entries[0].value, "mono");
    assert_int_equal(c->entries[0].line, 3);
    assert_string_equal(c->entries[1].value, "30s");
    assert_int_equal(c->entries[1].line, 4);
    assert_string_equal(c->entries[2].key, "log-window");
    assert_string_equal(c->entries[2].value, "2h");
    /* indented keys are keys, not continuation lines of the one above */
    assert_string_equal(c->entries[3].section, "prod-*");
    assert_string_equal(c->entries[3].key, "read-only");
    assert_int_equal(c->entries[3].line, 8);
    assert_string_equal(c->entries[4].key, "ascii");
    assert_string_equal(c->entries[4].value, "yes");
    assert_string_equal(c->entries[5].section, "stage west");
    assert_int_equal(c->entries[5].line, 11);
    config_free(c);
}

/* Every bad line gives its own "file:line: reason" and is skipped; the good ones apply. */
static void test_bad_lines(void **state)
{
    (void)state;
    char long_line[400];
    memset(long_line, 'x', sizeof long_line);
    memcpy(long_line, "theme = ", 8);
    long_line[sizeof long_line - 1] = '\0';
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    fprintf(f,
            "just words\n"        /* 1 */
            "theme = mono\n"      /* 2 ok */
            "%s\n"                /* 3 too long */
            "= value\n"           /* 4 no key */
            "[context]\n"         /* 5 no pattern */
            "read-only = false\n" /* 6 skipped: under 5 */
            "[colors]\n"          /* 7 unknown section */
            "read-only = false\n" /* 8 skipped */
            "[context a\n"        /* 9 no ']' */
            "read-only = false\n" /* 10 skipped */
            "[context b] junk\n"  /* 11 text after ']' */
            "[context ok]\n"      /* 12 */
            "read-only = true\n", /* 13 ok */
            long_line);
    fclose(f);
    struct config *c = config_parse("cfg", text, len);
    free(text);
    const char *want[] = {
        "cfg:1: not a 'key = value' line",
        "cfg:3: line longer than 199 characters",
        "cfg:4: ",
        "cfg:5: [context] needs a context name",
        "cfg:6: 'read-only' skipped: it is under the bad section header of line 5",
        "cfg:7: unknown section [colors]",
        "cfg:8: 'read-only' skipped",
        "cfg:9: section header without ']'",
        "cfg:10: 'read-only' skipped",
        "cfg:11: text after the section header",
    };
    for (size_t i = 0; i < c->n_warnings; i++)
        printf("warning %zu: %s\n", i, c->warnings[i]);
    assert_int_equal(c->n_warnings, sizeof want / sizeof want[0]);
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        assert_true(strncmp(c->warnings[i], want[i], strlen(want[i])) == 0);
    assert_int_equal(c->n, 2);
    assert_string_equal(c->entries[0].key, "theme");
    assert_string_equal(c->entries[1].section, "ok");
    assert_int_equal(c->entries[1].line, 13);
    config_free(c);

    /* a NUL byte spoils its line only; control bytes never reach a warning raw */
    const char nul[] = "theme = a\0b\nascii = true\n[\x1b[31mred]\n";
    c = config_parse("cfg", nul, sizeof nul - 1);
    assert_int_equal(c->n, 1);
    assert_string_equal(c->entries[0].key, "ascii");
    assert_int_equal(c->n_warnings, 2);
    assert_non_null(strstr(c->warnings[0], "cfg:1: the line holds a NUL byte"));
    assert_null(strchr(c->warnings[1], '\x1b'));
    config_free(c);
}

/* The option table's checks: known key, allowed there, valid value. */
static void test_check(void **state)
{
    (void)state;
    setenv("IDWATCH_READ_ONLY", "maybe", 1);
    struct config *c = parse_text("theme = custom\n"      /* 1 ok (tests/data/view/xdg) */
                                  "theme = no-such\n"     /* 2 not found */
                                  "colour = red\n"        /* 3 unknown */
                                  "demo = true\n"         /* 4 flag only */
                                  "interval = 1s\n"       /* 5 too short */
                                  "read-only = perhaps\n" /* 6 not a bool */
                                  "cloud = Mars\n"        /* 7 */
                                  "output =\n"            /* 8 empty */
                                  "[context p*]\n"
                                  "kubeconfig = /k\n"  /* 10 top level only */
                                  "context = x\n"      /* 11 top level only */
                                  "log-window = 10d\n" /* 12 too long */
                                  "ascii = on\n");     /* 13 ok */
    app_config_check(c);
    unsetenv("IDWATCH_READ_ONLY");
    const char *want[] = {
        "IDWATCH_READ_ONLY: 'maybe' is not true or false; ignored",
        "cfg:2: theme 'no-such' not found",
        "cfg:3: unknown key 'colour'",
        "cfg:4: 'demo' is a flag only",
        "cfg:5: interval: '1s' is not a duration of 5s or more",
        "cfg:6: read-only: 'perhaps' is not true or false",
        "cfg:7: cloud: unknown cloud 'Mars'",
        "cfg:8: 'output' has no value",
        "cfg:10: 'kubeconfig' cannot be set per context",
        "cfg:11: 'context' cannot be set per context",
        "cfg:12: log-window: '10d' is not a duration between 1m and 7d",
    };
    for (size_t i = 0; i < c->n_warnings; i++)
        printf("warning %zu: %s\n", i, c->warnings[i]);
    assert_int_equal(c->n_warnings, sizeof want / sizeof want[0]);
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        assert_true(strncmp(c->warnings[i], want[i], strlen(want[i])) == 0);
    for (size_t i = 0; i < c->n; i++)
        assert_int_equal(c->entries[i].skip,
                         !(c->entries[i].line == 1 || c->entries[i].line == 13));
    config_free(c);
}

/* ---- precedence ------------------------------------------------------------------------ */

struct prec_case {
    const char *what;
    const char *config;
    const char *env[3]; /* NAME=value */
    const char *argv[6];
    const char *context;
    enum app_opt key;
    const char *value; /* NULL: the default */
    enum app_source source;
    int line; /* APP_SRC_CONFIG */
};

#define TOP_AND_PROD                                                                               \
    "interval = 30s\nread-only = false\n[context prod-*]\ninterval = 2m\nread-only = true\n"

static const struct prec_case cases[] = {
    {"default", "", {0}, {0}, "prod-1", APP_OPT_INTERVAL, NULL, APP_SRC_DEFAULT, 0},
    {"config top level",
     "interval = 30s\n",
     {0},
     {0},
     "dev",
     APP_OPT_INTERVAL,
     "30s",
     APP_SRC_CONFIG,
     1},
    {"a matching section beats the top level",
     TOP_AND_PROD,
     {0},
     {0},
     "prod-west",
     APP_OPT_INTERVAL,
     "2m",
     APP_SRC_CONFIG,
     4},
    {"a section that does not match",
     TOP_AND_PROD,
     {0},
     {0},
     "dev",
     APP_OPT_INTERVAL,
     "30s",
     APP_SRC_CONFIG,
     1},
    {"no context: no section",
     TOP_AND_PROD,
     {0},
     {0},
     NULL,
     APP_OPT_READ_ONLY,
     "false",
     APP_SRC_CONFIG,
     2},
    {"a glob is not a prefix",
     "[context prod]\nread-only = true\n",
     {0},
     {0},
     "prod-west",
     APP_OPT_READ_ONLY,
     NULL,
     APP_SRC_DEFAULT,
     0},
    {"an exact name",
     "[context prod-west]\nread-only = true\n",
     {0},
     {0},
     "prod-west",
     APP_OPT_READ_ONLY,
     "true",
     APP_SRC_CONFIG,
     2},
    {"later sections win",
     "[context p*]\ninterval = 1m\n[context *west]\ninterval = 3m\n",
     {0},
     {0},
     "prod-west",
     APP_OPT_INTERVAL,
     "3m",
     APP_SRC_CONFIG,
     4},
    {"the environment beats a section",
     TOP_AND_PROD,
     {"IDWATCH_READ_ONLY=false"},
     {0},
     "prod-west",
     APP_OPT_READ_ONLY,
     "false",
     APP_SRC_ENV,
     0},
    {"a flag beats the environment",
     "",
     {"IDWATCH_THEME=custom"},
     {"--theme", "default"},
     "x",
     APP_OPT_THEME,
     "default",
     APP_SRC_FLAG,
     0},
    {"a flag beats a section",
     TOP_AND_PROD,
     {0},
     {"--interval", "10s"},
     "prod-west",
     APP_OPT_INTERVAL,
     "10s",
     APP_SRC_FLAG,
     0},
    {"--no-read-only beats a configured read-only",
     TOP_AND_PROD,
     {0},
     {"--no-read-only"},
     "prod-west",
     APP_OPT_READ_ONLY,
     "false",
     APP_SRC_FLAG,
     0},
    {"--no-read-only beats IDWATCH_READ_ONLY",
     "",
     {"IDWATCH_READ_ONLY=1"},
     {"--no-read-only"},
     "x",
     APP_OPT_READ_ONLY,
     "false",
     APP_SRC_FLAG,
     0},
    {"report is read-only whatever",
     TOP_AND_PROD,
     {0},
     {"report", "--no-read-only"},
     "dev",
     APP_OPT_READ_ONLY,
     "true",
     APP_SRC_COMMAND,
     0},
    {"a bad value falls back to the layer below",
     "interval = 30s\n[context p*]\ninterval = x\n",
     {0},
     {0},
     "prod",
     APP_OPT_INTERVAL,
     "30s",
     APP_SRC_CONFIG,
     1},
    {"a bad variable falls back to the config",
     "cloud = AzureChinaCloud\n",
     {"AZURE_ENVIRONMENT=Mars"},
     {0},
     "x",
     APP_OPT_CLOUD,
     "AzureChinaCloud",
     APP_SRC_CONFIG,
     1},
    {"-A beats a configured namespace",
     "namespace = a\n",
     {0},
     {"-A"},
     "x",
     APP_OPT_NAMESPACE,
     "",
     APP_SRC_FLAG,
     0},
    {"KUBECONFIG beats the config's kubeconfig",
     "kubeconfig = /cfg/k\n",
     {"KUBECONFIG=/env/k"},
     {0},
     "x",
     APP_OPT_KUBECONFIG,
     "/env/k",
     APP_SRC_ENV,
     0},
    {"per-context subscription",
     "subscription = s0\n[context prod-*]\nsubscription = s1\n",
     {0},
     {0},
     "prod-1",
     APP_OPT_SUBSCRIPTION,
     "s1",
     APP_SRC_CONFIG,
     3},
};

static void run_case(const struct prec_case *pc)
{
    for (size_t i = 0; i < 3 && pc->env[i]; i++) {
        char name[64];
        const char *eq = strchr(pc->env[i], '=');
        snprintf(name, sizeof name, "%.*s", (int)(eq - pc->env[i]), pc->env[i]);
        setenv(name, eq + 1, 1);
    }
    char *argv[8] = {"idwatch"};
    int argc = 1;
    for (size_t i = 0; i < 6 && pc->argv[i]; i++)
        argv[argc++] = (char *)pc->argv[i];
    argv[argc] = NULL;
    struct app_cmdline cl;
    struct idw_err err;
    assert_int_equal(app_cmdline_parse(argc, argv, &cl, &err), 0);
    struct config *c = parse_text(pc->config);
    app_config_check(c);
    struct app_options o;
    assert_int_equal(app_options_resolve(&cl, c, pc->context, &o, &err), 0);
    const struct app_setting *s = &o.setting[pc->key];
    if (!str_eq(s->value, pc->value) || s->source != pc->source ||
        (pc->source == APP_SRC_CONFIG && s->line != pc->line))
        fail_msg("%s: got '%s' from source %d line %d; want '%s' from %d line %d", pc->what,
                 s->value ? s->value : "(default)", (int)s->source, s->line,
                 pc->value ? pc->value : "(default)", (int)pc->source, pc->line);
    if (pc->source == APP_SRC_CONFIG)
        assert_string_equal(s->file, "cfg");
    /* the effective values follow the settings */
    if (pc->key == APP_OPT_INTERVAL && pc->value) {
        int64_t want;
        assert_int_equal(time_parse_duration(pc->value, &want), 0);
        assert_int_equal(o.interval, want);
    }
    if (pc->key == APP_OPT_READ_ONLY)
        assert_int_equal(o.read_only, str_eq(pc->value, "true"));
    if (pc->key == APP_OPT_NAMESPACE && pc->value && !*pc->value)
        assert_null(o.namespace_);
    if (pc->key == APP_OPT_KUBECONFIG && pc->source == APP_SRC_ENV)
        assert_null(o.kubeconfig); /* the kubeconfig loader merges the KUBECONFIG list */
    config_free(c);
    for (size_t i = 0; i < sizeof option_vars / sizeof option_vars[0]; i++)
        unsetenv(option_vars[i]);
}

static void test_precedence(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        run_case(&cases[i]);
}

/* The dashboard's context switch re-resolves the sections for the new context. */
static void test_for_context(void **state)
{
    (void)state;
    char *argv[] = {"idwatch", "--theme", "custom", NULL};
    struct app_cmdline cl;
    struct idw_err err;
    assert_int_equal(app_cmdline_parse(3, argv, &cl, &err), 0);
    struct config *c = parse_text(TOP_AND_PROD);
    app_config_check(c);
    struct app_options dev, prod;
    assert_int_equal(app_options_resolve(&cl, c, "dev", &dev, &err), 0);
    dev.action_log = "/tmp/demo/actions.log";
    assert_false(dev.read_only);
    app_options_for_context(&dev, "prod-east", &prod);
    assert_true(prod.read_only);
    assert_int_equal(prod.interval, 120);
    assert_string_equal(prod.theme, "custom");
    assert_string_equal(prod.context_name, "prod-east");
    assert_string_equal(prod.action_log, "/tmp/demo/actions.log");
    config_free(c);
}

/* --print-config: "key = value  # source" for each setting, the theme file, config, log. */
static void test_print_config(void **state)
{
    (void)state;
    setenv("AZURE_SUBSCRIPTION_ID", "sub-env", 1);
    setenv("XDG_STATE_HOME", "/state", 1);
    char *argv[] = {"idwatch", "--ascii", "--interval", "90s", NULL};
    struct app_cmdline cl;
    struct idw_err err;
    assert_int_equal(app_cmdline_parse(4, argv, &cl, &err), 0);
    struct config *c = parse_text("theme = custom\ninterval = 30s\n[context prod-*]\nread-only = "
                                  "on\n");
    app_config_check(c);
    struct app_options o;
    assert_int_equal(app_options_resolve(&cl, c, "prod-1", &o, &err), 0);
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    app_print_config(f, &o);
    fclose(f);
    printf("%s", text);
    const char *want[] = {
        "\ncontext = prod-1  # default\n",
        "\nread-only = true  # cfg:4\n",
        "\nsubscription = sub-env  # env AZURE_SUBSCRIPTION_ID\n",
        "\ninterval = 90s  # flag\n",
        "\ntheme = custom  # cfg:1\n",
        "\ntheme-file = " IDW_TEST_DATA
        "/view/xdg/idwatch/themes/custom.theme  # found for theme\n",
        "\nascii = true  # flag\n",
        "\nconfig = cfg  # default\n",
        "\naction-log = /state/idwatch/actions.log  # default\n",
        "\nnamespace = (all namespaces)  # default\n",
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        if (!strstr(text, want[i]))
            fail_msg("missing: %s", want[i] + 1);
    /* every line has the form, and every settable key is there */
    for (char *line = text; *line;) {
        size_t n = strcspn(line, "\n");
        char copy[2048];
        snprintf(copy, sizeof copy, "%.*s", (int)n, line);
        assert_non_null(strstr(copy, " = "));
        assert_non_null(strstr(copy, "  # "));
        line += n + (line[n] ? 1 : 0);
    }
    for (int i = 0; i < APP_OPT__COUNT; i++) {
        const struct app_option_info *info = app_option_info((enum app_opt)i);
        char key[64];
        snprintf(key, sizeof key, "\n%s = ", info->name);
        if (info->scope != APP_CFG_NO && i != APP_OPT_KUBECONFIG)
            assert_non_null(strstr(text, key));
    }
    assert_true(strncmp(text, "kubeconfig = ", 13) == 0);
    free(text);
    unsetenv("XDG_STATE_HOME");
    config_free(c);
}

static void test_load(void **state)
{
    (void)state;
    struct config *c = NULL;
    struct idw_err err;
    assert_int_equal(config_load("/nonexistent/idwatch/config", false, &c, &err), 0);
    assert_int_equal(c->n, 0);
    assert_string_equal(c->path, "/nonexistent/idwatch/config");
    config_free(c);
    assert_int_equal(config_load("/nonexistent/idwatch/config", true, &c, &err), -1);
    assert_non_null(strstr(err.msg, "/nonexistent/idwatch/config"));
    assert_null(c);
    assert_int_equal(config_load("/dev/null", true, &c, &err), 0);
    assert_int_equal(c->n, 0);
    config_free(c);
    assert_int_equal(config_load(IDW_TEST_DATA "/view", true, &c, &err), -1); /* a directory */

    setenv("XDG_CONFIG_HOME", "/x/cfg", 1);
    char *p = config_default_path();
    assert_string_equal(p, "/x/cfg/idwatch/config");
    free(p);
    setenv("XDG_CONFIG_HOME", "relative", 1); /* ignored, as the XDG spec says */
    setenv("HOME", "/home/u", 1);
    p = config_default_path();
    assert_string_equal(p, "/home/u/.config/idwatch/config");
    free(p);

    /* which file: --config, else IDWATCH_CONFIG, else the default; "" reads none */
    struct app_cmdline cl;
    char *argv[] = {"idwatch", "--config", "", NULL};
    assert_int_equal(app_cmdline_parse(3, argv, &cl, &err), 0);
    bool must;
    assert_null(app_config_path(&cl, &must));
    assert_true(must);
    setenv("IDWATCH_CONFIG", "/env/config", 1);
    assert_int_equal(app_cmdline_parse(1, argv, &cl, &err), 0);
    p = app_config_path(&cl, &must);
    assert_string_equal(p, "/env/config");
    assert_true(must);
    free(p);
    unsetenv("IDWATCH_CONFIG");
    p = app_config_path(&cl, &must);
    assert_string_equal(p, "/home/u/.config/idwatch/config");
    assert_false(must);
    free(p);
}

static void test_matches(void **state)
{
    (void)state;
    assert_true(config_section_matches("prod-*", "prod-west"));
    assert_true(config_section_matches("*", "anything"));
    assert_true(config_section_matches("aks-[ab]", "aks-a"));
    assert_false(config_section_matches("prod", "prod-west"));
    assert_false(config_section_matches("prod-*", "dev"));
    assert_false(config_section_matches("prod-*", NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_syntax, setup),
        cmocka_unit_test_setup(test_bad_lines, setup),
        cmocka_unit_test_setup(test_check, setup),
        cmocka_unit_test_setup(test_precedence, setup),
        cmocka_unit_test_setup(test_for_context, setup),
        cmocka_unit_test_setup(test_print_config, setup),
        cmocka_unit_test_setup(test_load, setup),
        cmocka_unit_test_setup(test_matches, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
