#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "idwatch/core.h"

static void test_rfc3339(void **state)
{
    (void)state;
    int64_t t;
    int32_t ns;
    assert_int_equal(time_parse_rfc3339("2026-11-29T10:00:00Z", &t, &ns), 0);
    assert_int_equal(t, 1795946400);
    assert_int_equal(ns, 0);
    assert_int_equal(time_parse_rfc3339("2024-01-01T00:00:00.123456789Z", &t, &ns), 0);
    assert_int_equal(ns, 123456789);
    assert_int_equal(time_parse_rfc3339("2026-11-29T11:00:00+01:00", &t, NULL), 0);
    assert_int_equal(t, 1795946400);
    assert_int_equal(time_parse_rfc3339("2026-11-29 garbage", &t, NULL), -1);
    assert_int_equal(time_parse_rfc3339("2026-13-29T10:00:00Z", &t, NULL), -1);
    char out[32];
    time_format_rfc3339(1795946400, out);
    assert_string_equal(out, "2026-11-29T10:00:00Z");
}

static void test_duration(void **state)
{
    (void)state;
    int64_t s;
    assert_int_equal(time_parse_duration("1h", &s), 0);
    assert_int_equal(s, 3600);
    assert_int_equal(time_parse_duration("1h30m", &s), 0);
    assert_int_equal(s, 5400);
    assert_int_equal(time_parse_duration("90", &s), 0);
    assert_int_equal(s, 90);
    assert_int_equal(time_parse_duration("1x", &s), -1);
    assert_int_equal(time_parse_duration("", &s), -1);
}

static void test_sanitize(void **state)
{
    (void)state;
    char out[64];
    assert_string_equal(str_sanitize(out, sizeof out, "ok\x1b[31mred\n"), "ok?[31mred?");
    assert_string_equal(str_sanitize(out, sizeof out, "caf\xc3\xa9"), "caf\xc3\xa9");
    assert_string_equal(str_sanitize(out, sizeof out, "bad\xff"), "bad?");
    assert_string_equal(str_sanitize(out, 4, "abcdef"), "abc");
}

static void test_err_and_buf(void **state)
{
    (void)state;
    struct idw_err err = {{0}};
    assert_int_equal(idw_err_set(&err, "x %d", 1), -1);
    idw_err_prefix(&err, "file.yaml:%d", 3);
    assert_string_equal(err.msg, "file.yaml:3: x 1");
    struct idw_buf b = {0};
    buf_printf(&b, "%s-%d", "a", 2);
    buf_puts(&b, "!");
    assert_string_equal(b.data, "a-2!");
    assert_int_equal(b.len, 4);
    buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc3339),
        cmocka_unit_test(test_duration),
        cmocka_unit_test(test_sanitize),
        cmocka_unit_test(test_err_and_buf),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
