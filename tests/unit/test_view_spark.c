/* Sparklines (ASCII and UTF-8), bucketing over the window, the progress bar. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "idwatch/spark.h"

static void test_render_ascii(void **state)
{
    (void)state;
    uint32_t c[8] = {0, 1, 2, 4, 8, 0, 8, 1};
    char out[64];
    spark_render(c, 8, false, out, sizeof out);
    assert_string_equal(out, " ..-# #.");
    uint32_t ones[4] = {0, 1, 0, 1};
    spark_render(ones, 4, false, out, sizeof out);
    assert_string_equal(out, " # #");
    uint32_t zero[3] = {0, 0, 0};
    spark_render(zero, 3, false, out, sizeof out);
    assert_string_equal(out, "   ");
}

static void test_render_utf8(void **state)
{
    (void)state;
    uint32_t c[4] = {0, 1, 50, 100};
    char out[64];
    spark_render(c, 4, true, out, sizeof out);
    assert_string_equal(out, " \u2581\u2584\u2588");
    /* never overruns a small buffer, never splits a character */
    spark_render(c, 4, true, out, 8);
    assert_string_equal(out, " \u2581\u2584");
}

static void test_bucket(void **state)
{
    (void)state;
    int64_t now = 10000, window = 3600;
    /* 6 buckets of 600 s: newest last */
    int64_t t[] = {now, now - 1, now - 599, now - 600, now - 3599, now - 3600, now + 5, 0};
    uint32_t c[6];
    spark_bucket(t, sizeof t / sizeof t[0], now, window, c, 6);
    assert_int_equal(c[5], 3); /* now, now-1, now-599 */
    assert_int_equal(c[4], 1); /* now-600 */
    assert_int_equal(c[0], 1); /* now-3599; now-3600 is outside (now-window, now] */
    assert_int_equal(c[1] + c[2] + c[3], 0);
}

static void test_progress(void **state)
{
    (void)state;
    char out[128];
    spark_progress(7, 11, 10, false, out, sizeof out);
    assert_string_equal(out, "######....");
    spark_progress(0, 0, 4, false, out, sizeof out);
    assert_string_equal(out, "....");
    spark_progress(5, 5, 3, true, out, sizeof out);
    assert_string_equal(out, "\u2588\u2588\u2588");
    spark_progress(1, 2, 2, true, out, sizeof out);
    assert_string_equal(out, "\u2588\u2591");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_render_ascii),
        cmocka_unit_test(test_render_utf8),
        cmocka_unit_test(test_bucket),
        cmocka_unit_test(test_progress),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
