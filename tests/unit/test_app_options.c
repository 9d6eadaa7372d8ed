#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_defaults, setup),
        cmocka_unit_test_setup(test_report_is_read_only, setup),
        cmocka_unit_test_setup(test_env, setup),
        cmocka_unit_test_setup(test_errors, setup),
        cmocka_unit_test_setup(test_demo, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
