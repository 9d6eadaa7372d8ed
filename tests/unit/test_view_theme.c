/* Theme parser: good themes, every kind of bad line (file:line warnings), search path. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "idwatch/theme.h"

static int load_file(const char *path, struct theme *t, struct theme_diag *d, struct idw_err *e)
{
    char *text = NULL;
    size_t len = 0;
    if (file_read_all(path, 1 << 20, &text, &len, e) != 0)
        return -2;
    int rc = theme_parse(t, path, text, len, d, e);
    free(text);
    return rc;
}

/* True if some warning ends with ":<line>: <reason...>" containing needle. */
static bool has_warning(const struct theme_diag *d, int line, const char *needle)
{
    char tag[32];
    snprintf(tag, sizeof tag, ".theme:%d: ", line);
    for (size_t i = 0; i < d->n; i++)
        if (strstr(d->msgs[i], tag) && strstr(d->msgs[i], needle))
            return true;
    return false;
}

static void test_shipped_themes_parse_clean(void **state)
{
    (void)state;
    for (size_t i = 0; i < theme_shipped_count(); i++) {
        char path[512];
        snprintf(path, sizeof path, "%s/themes/%s.theme", IDW_SOURCE_DIR, theme_shipped_name(i));
        struct theme t;
        struct theme_diag d = {0};
        struct idw_err e = {{0}};
        assert_int_equal(load_file(path, &t, &d, &e), 0);
        if (d.n)
            fail_msg("%s", d.msgs[0]);
        assert_string_equal(t.name, theme_shipped_name(i));
        theme_diag_free(&d);
    }
}

/* The shipped default.theme is the compiled-in table written out: they must not drift. */
static void test_default_file_matches_builtin(void **state)
{
    (void)state;
    char path[512];
    snprintf(path, sizeof path, "%s/themes/default.theme", IDW_SOURCE_DIR);
    struct theme t, b;
    struct theme_diag d = {0};
    struct idw_err e = {{0}};
    assert_int_equal(load_file(path, &t, &d, &e), 0);
    theme_init_builtin(&b);
    for (int r = 0; r < THEME_ROLE__COUNT; r++) {
        if (t.base[r].fg != b.base[r].fg || t.base[r].bg != b.base[r].bg ||
            t.base[r].attrs != b.base[r].attrs || t.mono[r] != b.mono[r])
            fail_msg("role %s differs between default.theme and the built-in table",
                     theme_role_key((enum theme_role)r));
    }
    assert_true(t.has256[THEME_HEADER]);
    assert_int_equal(t.c256[THEME_HEADER].fg, 16);
    assert_int_equal(t.c256[THEME_HEADER].bg, 37);
    theme_diag_free(&d);
}

static void test_good_lines(void **state)
{
    (void)state;
    const char *text = "# comment\n; also a comment\n\n[theme]\nname = mine\n[colors]\n"
                       "  ok   =  red   blue  bold,underline  \r\n"
                       "err = default white\n[colors256]\nok = color200 color0 reverse\n"
                       "[mono]\nok = standout\nerr = none\n";
    struct theme t;
    struct theme_diag d = {0};
    assert_int_equal(theme_parse(&t, "x.theme", text, strlen(text), &d, NULL), 0);
    assert_int_equal(d.n, 0);
    assert_string_equal(t.name, "mine");
    assert_int_equal(t.base[THEME_OK].fg, THEME_RED);
    assert_int_equal(t.base[THEME_OK].bg, THEME_BLUE);
    assert_int_equal(t.base[THEME_OK].attrs, THEME_A_BOLD | THEME_A_UNDERLINE);
    assert_int_equal(t.base[THEME_ERR].fg, THEME_DEF);
    assert_int_equal(t.base[THEME_ERR].bg, THEME_WHITE);
    assert_int_equal(t.base[THEME_ERR].attrs, 0);
    assert_true(t.has256[THEME_OK]);
    assert_false(t.has256[THEME_ERR]);
    assert_int_equal(t.c256[THEME_OK].fg, 200);
    assert_int_equal(t.c256[THEME_OK].bg, 0);
    assert_int_equal(t.mono[THEME_OK], THEME_A_STANDOUT);
    assert_int_equal(t.mono[THEME_ERR], 0);
    /* untouched roles keep the built-in defaults */
    assert_int_equal(t.base[THEME_HEADER].bg, THEME_CYAN);
}

static void test_bad_lines(void **state)
{
    (void)state;
    char path[512];
    snprintf(path, sizeof path, "%s/view/bad.theme", IDW_TEST_DATA);
    struct theme t;
    struct theme_diag d = {0};
    struct idw_err e = {{0}};
    assert_int_equal(load_file(path, &t, &d, &e), 0);
    for (size_t i = 0; i < d.n; i++)
        assert_non_null(strstr(d.msgs[i], path)); /* every warning names the file */
    assert_true(has_warning(&d, 2, "outside of a section"));
    assert_true(has_warning(&d, 5, "unknown role 'nosuchrole'"));
    assert_true(has_warning(&d, 6, "unknown colour 'purple'"));
    assert_true(has_warning(&d, 7, "unknown attribute 'blinky'"));
    assert_true(has_warning(&d, 8, "only allowed in [colors256]"));
    assert_true(has_warning(&d, 9, "expected 'fg bg [attrs]'"));
    assert_true(has_warning(&d, 10, "expected 'fg bg [attrs]'"));
    assert_true(has_warning(&d, 11, "expected 'role = value'"));
    assert_true(has_warning(&d, 12, "unknown section [bogus]"));
    assert_true(has_warning(&d, 14, "malformed section header"));
    assert_true(has_warning(&d, 16, "unknown colour 'color300'"));
    assert_true(has_warning(&d, 19, "attributes only"));
    assert_true(has_warning(&d, 20, "unknown attribute 'wobble'"));
    assert_true(has_warning(&d, 21, "missing value"));
    assert_true(has_warning(&d, 22, "attributes only"));
    assert_int_equal(d.n, 15);
    /* the good lines still apply; bad ones and the unknown section's lines do not */
    assert_int_equal(t.base[THEME_HEADER].fg, THEME_BLACK);
    assert_int_equal(t.base[THEME_OK].fg, THEME_GREEN);
    assert_int_equal(t.base[THEME_ERR].fg, THEME_RED);
    assert_true(t.has256[THEME_CURSOR_BLUR]);
    assert_int_equal(t.c256[THEME_CURSOR_BLUR].bg, 250);
    assert_false(t.has256[THEME_CURSOR]);
    theme_diag_free(&d);
}

static void test_binary_and_long_lines(void **state)
{
    (void)state;
    char path[512];
    struct theme t;
    struct theme_diag d = {0};
    struct idw_err e = {{0}};
    snprintf(path, sizeof path, "%s/view/control.theme", IDW_TEST_DATA);
    assert_int_equal(load_file(path, &t, &d, &e), 0);
    assert_int_equal(d.n, 1);
    assert_true(has_warning(&d, 3, "unknown role"));
    assert_null(strchr(d.msgs[0], '\x01')); /* control bytes never reach the status line */
    assert_int_equal(t.base[THEME_WARN].fg, THEME_RED);
    theme_diag_free(&d);

    snprintf(path, sizeof path, "%s/view/long.theme", IDW_TEST_DATA);
    assert_int_equal(load_file(path, &t, &d, &e), 0);
    assert_int_equal(d.n, 1);
    assert_true(has_warning(&d, 2, "line longer than"));
    assert_int_equal(t.base[THEME_WARN].fg, THEME_RED);
    theme_diag_free(&d);

    const char nul[] = "[colors]\nok = red\0 default\nwarn = red default\n";
    assert_int_equal(theme_parse(&t, "n.theme", nul, sizeof nul - 1, &d, NULL), 0);
    assert_true(has_warning(&d, 2, "NUL byte"));
    assert_int_equal(t.base[THEME_WARN].fg, THEME_RED);
    theme_diag_free(&d);
}

static void test_missing_colors_section(void **state)
{
    (void)state;
    char path[512];
    snprintf(path, sizeof path, "%s/view/nocolors.theme", IDW_TEST_DATA);
    struct theme t;
    struct theme_diag d = {0};
    struct idw_err e = {{0}};
    assert_int_equal(load_file(path, &t, &d, &e), -1);
    assert_non_null(strstr(e.msg, "nocolors.theme"));
    assert_non_null(strstr(e.msg, "[colors]"));
    assert_true(has_warning(&d, 1, "outside of a section"));
    /* nothing of it applies */
    assert_int_equal(t.mono[THEME_HEADER], THEME_A_REVERSE);
    theme_diag_free(&d);
}

static void test_diag_is_bounded(void **state)
{
    (void)state;
    struct idw_buf b = {0};
    buf_puts(&b, "[colors]\n");
    for (int i = 0; i < 100; i++)
        buf_puts(&b, "nope = red default\n");
    struct theme t;
    struct theme_diag d = {0};
    assert_int_equal(theme_parse(&t, "many.theme", b.data, b.len, &d, NULL), 0);
    assert_int_equal(d.n, THEME_DIAG_MAX);
    assert_int_equal(d.dropped, 100 - THEME_DIAG_MAX);
    theme_diag_free(&d);
    buf_free(&b);
}

static void test_search_path(void **state)
{
    (void)state;
    char dir[512];
    snprintf(dir, sizeof dir, "%s/view/xdg", IDW_TEST_DATA);
    setenv("XDG_CONFIG_HOME", dir, 1);
    char *p = theme_find("custom");
    assert_non_null(p);
    assert_non_null(strstr(p, "view/xdg/idwatch/themes/custom.theme"));
    free(p);

    struct theme t;
    struct theme_diag d = {0};
    struct idw_err e = {{0}};
    assert_int_equal(theme_load(&t, "custom", &d, &e), 0);
    assert_string_equal(t.name, "custom");
    assert_int_equal(t.base[THEME_OK].fg, THEME_MAGENTA);
    theme_diag_free(&d);

    /* by path */
    char path[600];
    snprintf(path, sizeof path, "%s/idwatch/themes/custom.theme", dir);
    assert_int_equal(theme_load(&t, path, &d, &e), 0);
    assert_int_equal(t.base[THEME_OK].fg, THEME_MAGENTA);

    /* unknown names fail with the places searched; "default" falls back to the table */
    assert_int_equal(theme_load(&t, "no-such-theme", &d, &e), -1);
    assert_non_null(strstr(e.msg, "no-such-theme"));
    assert_int_equal(theme_load(&t, "/nonexistent/x.theme", &d, &e), -1);
    unsetenv("XDG_CONFIG_HOME");
    setenv("HOME", "/nonexistent", 1);
    assert_int_equal(chdir("/"), 0); /* so ./themes is not the source tree */
    assert_int_equal(theme_load(&t, "default", &d, &e), 0);
    assert_string_equal(t.name, "builtin");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shipped_themes_parse_clean),
        cmocka_unit_test(test_default_file_matches_builtin),
        cmocka_unit_test(test_good_lines),
        cmocka_unit_test(test_bad_lines),
        cmocka_unit_test(test_binary_and_long_lines),
        cmocka_unit_test(test_missing_colors_section),
        cmocka_unit_test(test_diag_is_bounded),
        cmocka_unit_test(test_search_path),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
