/* The action table's invariants: unique keys, known key names, every mutating action gated in
 * read-only mode, help and hints generated from the table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <curses.h>

#include "idwatch/keymap.h"

static void test_build_unique_keys(void **state)
{
    (void)state;
    struct keymap km;
    struct idw_err e = {{0}};
    if (keymap_build(&km, &e) != 0)
        fail_msg("%s", e.msg);
    /* every key of every action maps back to that action */
    for (int a = KEYMAP_NONE + 1; a < KEYMAP__COUNT; a++) {
        char keys[64];
        strcpy(keys, keymap_info((enum keymap_action)a)->keys);
        assert_true(keys[0] != '\0');
        for (char *s = NULL, *k = strtok_r(keys, " ", &s); k; k = strtok_r(NULL, " ", &s)) {
            int codes[4];
            size_t n = keymap_key_codes(k, codes);
            assert_true(n > 0);
            for (size_t i = 0; i < n; i++)
                assert_int_equal(keymap_lookup(&km, codes[i]), a);
        }
    }
}

static void test_expected_bindings(void **state)
{
    (void)state;
    struct keymap km;
    assert_int_equal(keymap_build(&km, NULL), 0);
    static const struct {
        int key;
        enum keymap_action a;
    } want[] = {
        {'j', KEYMAP_DOWN},       {KEY_DOWN, KEYMAP_DOWN},
        {'k', KEYMAP_UP},         {'g', KEYMAP_TOP},
        {'G', KEYMAP_BOTTOM},     {6, KEYMAP_PAGE_DOWN},
        {2, KEYMAP_PAGE_UP},      {KEY_NPAGE, KEYMAP_PAGE_DOWN},
        {'\r', KEYMAP_OPEN},      {'\n', KEYMAP_OPEN},
        {KEY_ENTER, KEYMAP_OPEN}, {27, KEYMAP_BACK},
        {'h', KEYMAP_BACK},       {KEY_LEFT, KEYMAP_BACK},
        {'/', KEYMAP_FILTER},     {'s', KEYMAP_SORT},
        {'n', KEYMAP_NAMESPACE},  {'c', KEYMAP_CONTEXT},
        {'m', KEYMAP_MECH},       {'e', KEYMAP_PROBLEMS},
        {'l', KEYMAP_LOGS},       {'t', KEYMAP_THEME},
        {'r', KEYMAP_REFRESH},    {'?', KEYMAP_HELP},
        {KEY_F(1), KEYMAP_HELP},  {'q', KEYMAP_QUIT},
        {'w', KEYMAP_LABEL_WI},   {'a', KEYMAP_ANNOTATE_SA},
        {'f', KEYMAP_CREATE_FIC}, {'p', KEYMAP_REMOVE_PI},
        {'x', KEYMAP_PROXY_ON},   {'X', KEYMAP_PROXY_OFF},
        {'R', KEYMAP_RESTART},    {'M', KEYMAP_MIGRATE},
        {'u', KEYMAP_UNDO},       {'Z', KEYMAP_NONE},
        {-1, KEYMAP_NONE},        {5000, KEYMAP_NONE},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        if (keymap_lookup(&km, want[i].key) != want[i].a)
            fail_msg("key %d: got %d want %d", want[i].key, keymap_lookup(&km, want[i].key),
                     want[i].a);
}

/* Every Esc action has another key (ssh links split escape sequences). */
static void test_esc_has_alternative(void **state)
{
    (void)state;
    for (int a = KEYMAP_NONE + 1; a < KEYMAP__COUNT; a++) {
        const char *keys = keymap_info((enum keymap_action)a)->keys;
        if (strstr(keys, "Esc"))
            assert_true(strchr(keys, ' ') != NULL);
    }
}

static void test_read_only_gating(void **state)
{
    (void)state;
    int mutating = 0;
    for (int a = KEYMAP_NONE + 1; a < KEYMAP__COUNT; a++) {
        const struct keymap_info *in = keymap_info((enum keymap_action)a);
        const char *why = NULL;
        assert_true(keymap_allowed((enum keymap_action)a, false, &why));
        if (in->mutates) {
            mutating++;
            assert_int_equal(in->group, KEYMAP_GROUP_ACTION);
            assert_false(keymap_allowed((enum keymap_action)a, true, &why));
            assert_non_null(why);
            assert_non_null(strstr(why, "read-only"));
        } else {
            assert_true(keymap_allowed((enum keymap_action)a, true, &why));
            assert_int_not_equal(in->group, KEYMAP_GROUP_ACTION);
        }
    }
    /* w a f p x X R M u */
    assert_int_equal(mutating, 9);
    static const char keys[] = "wafpxXRMu";
    struct keymap km;
    assert_int_equal(keymap_build(&km, NULL), 0);
    for (const char *k = keys; *k; k++)
        assert_true(keymap_info(keymap_lookup(&km, *k))->mutates);
}

static void test_help_generated(void **state)
{
    (void)state;
    char **lines;
    bool *off;
    size_t n = keymap_help_lines(true, &lines, &off);
    size_t gated = 0, actions = 0;
    bool saw_group = false;
    for (size_t i = 0; i < n; i++) {
        if (strstr(lines[i], keymap_group_title(KEYMAP_GROUP_ACTION)))
            saw_group = true;
        if (off[i]) {
            gated++;
            assert_non_null(strstr(lines[i], "(read-only)"));
        }
        if (strncmp(lines[i], "  ", 2) == 0)
            actions++;
        free(lines[i]);
    }
    free(lines);
    free(off);
    assert_true(saw_group);
    assert_int_equal(gated, 9);
    assert_int_equal(actions, KEYMAP__COUNT - 1);

    n = keymap_help_lines(false, &lines, &off);
    for (size_t i = 0; i < n; i++) {
        assert_false(off[i]);
        assert_null(strstr(lines[i], "(read-only)"));
        free(lines[i]);
    }
    free(lines);
    free(off);
}

static void test_first_key(void **state)
{
    (void)state;
    char k[16];
    keymap_first_key(KEYMAP_OPEN, k);
    assert_string_equal(k, "Enter");
    keymap_first_key(KEYMAP_LABEL_WI, k);
    assert_string_equal(k, "w");
    keymap_first_key(KEYMAP_NONE, k);
    assert_string_equal(k, "");
    int codes[4];
    assert_int_equal(keymap_key_codes("Nope", codes), 0);
    assert_int_equal(keymap_key_codes("F13", codes), 0);
    assert_int_equal(keymap_key_codes("C-r", codes), 1);
    assert_int_equal(codes[0], 18);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_build_unique_keys),   cmocka_unit_test(test_expected_bindings),
        cmocka_unit_test(test_esc_has_alternative), cmocka_unit_test(test_read_only_gating),
        cmocka_unit_test(test_help_generated),      cmocka_unit_test(test_first_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
