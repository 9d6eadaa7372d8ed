#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "idwatch/app.h"

static int parse(struct app_options *o, struct idw_err *err, int argc, ...)
{
    char *argv[32];
    va_list ap;
    va_start(ap, argc);
    argv[0] = "idwatch";
    for (int i = 1; i < argc; i++)
        argv[i] = va_arg(ap, char *);
    va_end(ap);
    argv[argc] = NULL;
    return app_parse_options(argc, argv, o, err);
}

static int setup(void **state)
{
    (void)state;
    unsetenv("IDWATCH_READ_ONLY");
    unsetenv("AZURE_SUBSCRIPTION_ID");
    unsetenv("NO_COLOR");
    return 0;
}

static void test_defaults(void **state)
{
    (void)state;
    struct app_options o;
    struct idw_err err;
    assert_int_equal(parse(&o, &err, 1), 0);
    assert_int_equal(o.mode, APP_MODE_INTERACTIVE);
    assert_false(o.read_only);
    assert_int_equal(o.log_window, 3600);
    assert_null(o.namespace_);
    assert_string_equal(o.cloud, "AzurePublicCloud");
}

static void test_report_is_read_only(void **state)
{
    (void)state;
    struct app_options o;
    struct idw_err err;
    assert_int_equal(parse(&o, &err, 7, "report", "-o", "json", "-n", "payments", "--no-azure"),
                     0);
    assert_int_equal(o.mode, APP_MODE_REPORT);
    assert_true(o.read_only);
    assert_int_equal(o.output, APP_OUTPUT_JSON);
    assert_string_equal(o.namespace_, "payments");
    assert_true(o.no_azure);
}

static void test_env(void **state)
{
    (void)state;
    struct app_options o;
    struct idw_err err;
    setenv("IDWATCH_READ_ONLY", "1", 1);
    setenv("AZURE_SUBSCRIPTION_ID", "sub-1", 1);
    setenv("NO_COLOR", "", 1);
    assert_int_equal(parse(&o, &err, 3, "--log-window", "15m"), 0);
    assert_true(o.read_only);
    assert_true(o.no_color);
    assert_string_equal(o.subscription, "sub-1");
    assert_int_equal(o.log_window, 900);
    unsetenv("IDWATCH_READ_ONLY");
    unsetenv("AZURE_SUBSCRIPTION_ID");
    unsetenv("NO_COLOR");
}

static void test_errors(void **state)
{
    (void)state;
    struct app_options o;
    struct idw_err err;
    assert_int_equal(parse(&o, &err, 2, "--bogus"), -1);
    assert_non_null(strstr(err.msg, "--bogus"));
    assert_int_equal(parse(&o, &err, 4, "report", "-o", "xml"), -1);
    assert_non_null(strstr(err.msg, "xml"));
    assert_int_equal(parse(&o, &err, 3, "-o", "json"), -1);
    assert_int_equal(parse(&o, &err, 3, "--cloud", "Mars"), -1);
    assert_int_equal(parse(&o, &err, 3, "--log-window", "1y"), -1);
    assert_int_equal(parse(&o, &err, 2, "--kubeconfig"), -1);
    assert_non_null(strstr(err.msg, "needs a value"));
    assert_int_equal(parse(&o, &err, 2, "stray"), -1);
}

static void test_demo(void **state)
{
    (void)state;
    struct app_options o;
    struct idw_err err;
    assert_int_equal(parse(&o, &err, 4, "--demo", "--speed", "10"), 0);
    assert_true(o.demo);
    assert_true(o.speed > 9.9 && o.speed < 10.1);
    assert_string_equal(o.scenario, "demo");
}

static void test_command_after_flags(void **state)
{
    (void)state;
    struct app_options o;
    struct idw_err err;
    /* global flags before the command, and more flags after it */
    assert_int_equal(parse(&o, &err, 6, "--kubeconfig", "/k", "report", "-n", "ns1", "--no-azure"),
                     0);
    assert_int_equal(o.mode, APP_MODE_REPORT);
    assert_string_equal(o.kubeconfig, "/k");
    assert_string_equal(o.namespace_, "ns1");
    assert_true(o.read_only);
    assert_int_equal(o.setting[APP_OPT_READ_ONLY].source, APP_SRC_COMMAND);
    /* -o before the command is still the report's */
    assert_int_equal(parse(&o, &err, 4, "-o", "csv", "report"), 0);
    assert_int_equal(o.output, APP_OUTPUT_CSV);
    assert_int_equal(parse(&o, &err, 3, "report", "report"), -1);
    assert_non_null(strstr(err.msg, "unexpected argument 'report'"));
    assert_int_equal(parse(&o, &err, 2, "reprot"), -1);
    assert_non_null(strstr(err.msg, "'reprot'"));
}

static void test_version_and_help(void **state)
{
    (void)state;
    struct app_options o;
    struct idw_err err;
    assert_int_equal(parse(&o, &err, 2, "version"), 0);
    assert_int_equal(o.mode, APP_MODE_VERSION);
    assert_int_equal(parse(&o, &err, 2, "--version"), 0);
    assert_int_equal(o.mode, APP_MODE_VERSION);
    assert_int_equal(parse(&o, &err, 3, "report", "--help"), 0);
    assert_int_equal(o.mode, APP_MODE_HELP);
    assert_int_equal(parse(&o, &err, 3, "version", "--help"), 0);
    assert_int_equal(o.mode, APP_MODE_HELP);
}

static void test_complete_command(void **state)
{
    (void)state;
    struct app_cmdline cl;
    struct idw_err err;
    char *argv[] = {"/usr/bin/kubectl-idwatch", "__complete", "namespaces", "--context", "c1", NULL};
    assert_int_equal(app_cmdline_parse(5, argv, &cl, &err), 0);
    assert_int_equal(cl.mode, APP_MODE_COMPLETE);
    assert_string_equal(cl.complete, "namespaces");
    assert_string_equal(cl.flags[APP_OPT_CONTEXT], "c1");
    assert_string_equal(cl.progname, "kubectl idwatch");
    char *bad[] = {"idwatch", "__complete", "pods", NULL};
    assert_int_equal(app_cmdline_parse(3, bad, &cl, &err), -1);
    char *none[] = {"idwatch", "__complete", NULL};
    assert_int_equal(app_cmdline_parse(2, none, &cl, &err), -1);
    char *plain[] = {"idwatch", NULL};
    assert_int_equal(app_cmdline_parse(1, plain, &cl, &err), 0);
    assert_string_equal(cl.progname, "idwatch");
}

static void test_switch_pairs(void **state)
{
    (void)state;
    struct app_options o;
    struct idw_err err;
    /* the last of -n / -A wins; --no-read-only undoes --read-only and the variable */
    assert_int_equal(parse(&o, &err, 4, "-n", "a", "-A"), 0);
    assert_null(o.namespace_);
    assert_int_equal(parse(&o, &err, 4, "-A", "-n", "a"), 0);
    assert_string_equal(o.namespace_, "a");
    setenv("IDWATCH_READ_ONLY", "1", 1);
    assert_int_equal(parse(&o, &err, 2, "--no-read-only"), 0);
    assert_false(o.read_only);
    assert_int_equal(o.setting[APP_OPT_READ_ONLY].source, APP_SRC_FLAG);
    assert_int_equal(parse(&o, &err, 3, "--no-read-only", "--read-only"), 0);
    assert_true(o.read_only);
    unsetenv("IDWATCH_READ_ONLY");
    /* a report is read-only whatever the flags say */
    assert_int_equal(parse(&o, &err, 3, "report", "--no-read-only"), 0);
    assert_true(o.read_only);
    /* a bad value names the flag */
    assert_int_equal(parse(&o, &err, 3, "--interval", "2s"), -1);
    assert_non_null(strstr(err.msg, "--interval: '2s'"));
    assert_int_equal(parse(&o, &err, 3, "-o", "xml"), -1);
    assert_non_null(strstr(err.msg, "-o/--output"));
    assert_int_equal(parse(&o, &err, 2, "-Z"), -1);
    assert_non_null(strstr(err.msg, "'-Z'"));
}

/* The option table is consistent: names unique, short letters unique, a default only where the
 * option takes a value or is a switch the config file can set. */
static void test_table(void **state)
{
    (void)state;
    for (int i = 0; i < APP_OPT__COUNT; i++) {
        const struct app_option_info *a = app_option_info((enum app_opt)i);
        assert_non_null(a);
        assert_non_null(a->help);
        assert_int_equal(app_option_lookup(a->name), i);
        for (int j = i + 1; j < APP_OPT__COUNT; j++) {
            const struct app_option_info *b = app_option_info((enum app_opt)j);
            assert_false(str_eq(a->name, b->name));
            assert_false(a->short_ && a->short_ == b->short_);
        }
        if (a->complete != APP_COMPLETE_NONE)
            assert_non_null(a->arg);
    }
    assert_null(app_option_info(APP_OPT__COUNT));
    assert_int_equal(app_option_lookup("no-such-flag"), -1);
    assert_string_equal(app_complete_value(APP_COMPLETE_OUTPUT, 1), "json");
    assert_null(app_complete_value(APP_COMPLETE_OUTPUT, 4));
    assert_string_equal(app_complete_value(APP_COMPLETE_CLOUD, 0), "AzurePublicCloud");
    assert_string_equal(app_complete_value(APP_COMPLETE_THEME, 0), "default");
    assert_null(app_complete_value(APP_COMPLETE_FILE, 0));
    assert_string_equal(app_command_name(0, NULL), "report");
    assert_null(app_command_name(99, NULL));
}

static void test_usage(void **state)
{
    (void)state;
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    app_print_usage(f, "kubectl idwatch");
    fclose(f);
    printf("%s", text);
    /* every flag is in the usage, and no line is wider than 80 columns */
    for (int i = 0; i < APP_OPT__COUNT; i++) {
        char flag[64];
        snprintf(flag, sizeof flag, "--%s", app_option_info((enum app_opt)i)->name);
        assert_non_null(strstr(text, flag));
    }
    assert_non_null(strstr(text, "usage: kubectl idwatch [command] [flags]"));
    for (char *line = text; *line;) {
        size_t n = strcspn(line, "\n");
        assert_true(n <= 80);
        line += n + (line[n] ? 1 : 0);
    }
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_defaults, setup),
        cmocka_unit_test_setup(test_report_is_read_only, setup),
        cmocka_unit_test_setup(test_env, setup),
        cmocka_unit_test_setup(test_errors, setup),
        cmocka_unit_test_setup(test_demo, setup),
        cmocka_unit_test_setup(test_command_after_flags, setup),
        cmocka_unit_test_setup(test_version_and_help, setup),
        cmocka_unit_test_setup(test_complete_command, setup),
        cmocka_unit_test_setup(test_switch_pairs, setup),
        cmocka_unit_test_setup(test_table, setup),
        cmocka_unit_test_setup(test_usage, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
