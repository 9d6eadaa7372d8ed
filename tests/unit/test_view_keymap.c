/* The keymap of the action table: unique keys, known key names, every mutating action gated in
 * read-only mode, help generated from the bindings, rebinding by action id. */
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
    if (keymap_build(&km, NULL, &e) != 0)
        fail_msg("%s", e.msg);
    /* every key of every action maps back to that action */
    for (int a = ACTION_NONE + 1; a < ACTION__COUNT; a++) {
        char keys[64];
        strcpy(keys, action_info((enum action_id)a)->keys);
        assert_true(keys[0] != '\0');
        for (char *s = NULL, *k = strtok_r(keys, " ", &s); k; k = strtok_r(NULL, " ", &s)) {
            if (k[0] == ':' && k[1])
                continue; /* a command-line name */
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
    assert_int_equal(keymap_build(&km, NULL, NULL), 0);
    static const struct {
        int key;
        enum action_id a;
    } want[] = {
        {'j', ACTION_DOWN},       {KEY_DOWN, ACTION_DOWN},
        {'k', ACTION_UP},         {'g', ACTION_TOP},
        {'G', ACTION_BOTTOM},     {6, ACTION_PAGE_DOWN},
        {2, ACTION_PAGE_UP},      {KEY_NPAGE, ACTION_PAGE_DOWN},
        {'\r', ACTION_OPEN},      {'\n', ACTION_OPEN},
        {KEY_ENTER, ACTION_OPEN}, {27, ACTION_BACK},
        {'h', ACTION_BACK},       {KEY_LEFT, ACTION_BACK},
        {'/', ACTION_FILTER},     {'s', ACTION_SORT},
        {'n', ACTION_NAMESPACE},  {'c', ACTION_CONTEXT},
        {'m', ACTION_MECH},       {'e', ACTION_PROBLEMS},
        {'l', ACTION_LOGS},       {'t', ACTION_THEME},
        {'r', ACTION_REFRESH},    {'?', ACTION_HELP},
        {KEY_F(1), ACTION_HELP},  {'q', ACTION_QUIT},
        {'w', ACTION_LABEL_WI},   {'a', ACTION_ANNOTATE_SA},
        {'f', ACTION_CREATE_FIC}, {'p', ACTION_REMOVE_PI},
        {'x', ACTION_PROXY_ON},   {'X', ACTION_PROXY_OFF},
        {'R', ACTION_RESTART},    {'M', ACTION_MIGRATE},
        {'u', ACTION_UNDO},       {'Z', ACTION_NONE},
        {-1, ACTION_NONE},        {5000, ACTION_NONE},
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
    for (int a = ACTION_NONE + 1; a < ACTION__COUNT; a++) {
        const char *keys = action_info((enum action_id)a)->keys;
        if (strstr(keys, "Esc"))
            assert_true(strchr(keys, ' ') != NULL);
    }
}

static void test_read_only_gating(void **state)
{
    (void)state;
    int mutating = 0;
    for (int a = ACTION_NONE + 1; a < ACTION__COUNT; a++) {
        const struct action_info *in = action_info((enum action_id)a);
        const char *why = NULL;
        assert_true(action_allowed((enum action_id)a, false, &why));
        if (in->mutates) {
            mutating++;
            assert_int_equal(in->group, ACTION_GROUP_CHANGE);
            assert_false(action_allowed((enum action_id)a, true, &why));
            assert_non_null(why);
            assert_non_null(strstr(why, "read-only"));
        } else {
            assert_true(action_allowed((enum action_id)a, true, &why));
            assert_int_not_equal(in->group, ACTION_GROUP_CHANGE);
        }
    }
    /* w a f p x X R M u */
    assert_int_equal(mutating, 9);
    static const char keys[] = "wafpxXRMu";
    struct keymap km;
    assert_int_equal(keymap_build(&km, NULL, NULL), 0);
    for (const char *k = keys; *k; k++)
        assert_true(action_info(keymap_lookup(&km, *k))->mutates);
}

static void test_help_generated(void **state)
{
    (void)state;
    struct keymap km;
    assert_int_equal(keymap_build(&km, NULL, NULL), 0);
    char **lines;
    bool *off;
    size_t n = keymap_help_lines(&km, true, &lines, &off);
    size_t gated = 0, actions = 0;
    bool saw_group = false;
    for (size_t i = 0; i < n; i++) {
        if (strstr(lines[i], action_group_title(ACTION_GROUP_CHANGE)))
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
    assert_int_equal(actions, ACTION__COUNT - 1);

    n = keymap_help_lines(&km, false, &lines, &off);
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
    struct keymap km;
    assert_int_equal(keymap_build(&km, NULL, NULL), 0);
    char k[16];
    keymap_first_key(&km, ACTION_OPEN, k);
    assert_string_equal(k, "Enter");
    keymap_first_key(&km, ACTION_LABEL_WI, k);
    assert_string_equal(k, "w");
    keymap_first_key(&km, ACTION_NONE, k);
    assert_string_equal(k, "");
    action_default_key(ACTION_OPEN, k);
    assert_string_equal(k, "Enter");
    action_default_key(ACTION_NONE, k);
    assert_string_equal(k, "");
    int codes[4];
    assert_int_equal(keymap_key_codes("Nope", codes), 0);
    assert_int_equal(keymap_key_codes("F13", codes), 0);
    assert_int_equal(keymap_key_codes("C-r", codes), 1);
    assert_int_equal(codes[0], 18);
}

/* The help line of action a ("  KEYS   help"), or NULL. Caller frees. */
static char *help_line_of(const struct keymap *km, enum action_id a)
{
    char **lines;
    size_t n = keymap_help_lines(km, false, &lines, NULL);
    char *found = NULL;
    for (size_t i = 0; i < n; i++) {
        if (!found && strstr(lines[i], action_info(a)->help))
            found = lines[i];
        else
            free(lines[i]);
    }
    free(lines);
    return found;
}

/* Rebinding an action in one place moves everything the keymap says about it: the key that
 * runs it, its keys, its first key (hint bar, detail) and its help line. */
static void test_rebind(void **state)
{
    (void)state;
    struct keymap km;
    struct idw_err e = {{0}};
    if (keymap_build(&km, "LABEL_WI=W", &e) != 0)
        fail_msg("%s", e.msg);
    assert_int_equal(keymap_lookup(&km, 'W'), ACTION_LABEL_WI);
    assert_int_equal(keymap_lookup(&km, 'w'), ACTION_NONE);
    assert_string_equal(keymap_keys(&km, ACTION_LABEL_WI), "W");
    char k[16];
    keymap_first_key(&km, ACTION_LABEL_WI, k);
    assert_string_equal(k, "W");
    char *line = help_line_of(&km, ACTION_LABEL_WI);
    assert_non_null(line);
    assert_true(strncmp(line, "  W ", 4) == 0);
    free(line);
    /* the table's default stays what the report and the action log name */
    action_default_key(ACTION_LABEL_WI, k);
    assert_string_equal(k, "w");
    /* other actions keep their keys */
    assert_int_equal(keymap_lookup(&km, 'a'), ACTION_ANNOTATE_SA);

    /* several entries, several keys, an unbinding, and keys freed by an earlier entry */
    assert_int_equal(keymap_build(&km, "ANNOTATE_SA=;LABEL_WI=a C-w;UNDO=U", &e), 0);
    assert_int_equal(keymap_lookup(&km, 'a'), ACTION_LABEL_WI);
    assert_int_equal(keymap_lookup(&km, 23), ACTION_LABEL_WI);
    assert_int_equal(keymap_lookup(&km, 'U'), ACTION_UNDO);
    assert_int_equal(keymap_lookup(&km, 'u'), ACTION_NONE);
    keymap_first_key(&km, ACTION_ANNOTATE_SA, k);
    assert_string_equal(k, "");

    /* a ":word" is a command-line name, not a key */
    assert_int_equal(keymap_build(&km, "NAMESPACE=n :ns", &e), 0);
    assert_int_equal(keymap_lookup(&km, 'n'), ACTION_NAMESPACE);
    assert_int_equal(keymap_lookup(&km, ':'), ACTION_NONE);
    assert_string_equal(keymap_keys(&km, ACTION_NAMESPACE), "n :ns");
}

static void test_rebind_errors(void **state)
{
    (void)state;
    static const struct {
        const char *rebind, *want;
    } bad[] = {
        {"LABEL_WI=a", "bound to both ANNOTATE_SA and LABEL_WI"},
        {"NOPE=z", "no such action"},
        {"LABEL_WI", "want ACTION=KEYS"},
        {"LABEL_WI=Nope", "unknown key name 'Nope'"},
        {"label_wi=W", "no such action"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct keymap km;
        struct idw_err e = {{0}};
        assert_int_equal(keymap_build(&km, bad[i].rebind, &e), -1);
        if (!strstr(e.msg, bad[i].want))
            fail_msg("%s: got '%s', want '%s'", bad[i].rebind, e.msg, bad[i].want);
    }
    enum action_id a;
    assert_int_equal(action_parse("MIGRATE", &a), 0);
    assert_int_equal(a, ACTION_MIGRATE);
    assert_int_equal(action_parse("NONE", &a), -1);
    assert_int_equal(action_parse(NULL, &a), -1);
    assert_null(action_info(ACTION_NONE));
    assert_null(action_info(ACTION__COUNT));
    assert_string_equal(action_group_title(ACTION_GROUP__COUNT), "?");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_build_unique_keys),
        cmocka_unit_test(test_expected_bindings),
        cmocka_unit_test(test_esc_has_alternative),
        cmocka_unit_test(test_read_only_gating),
        cmocka_unit_test(test_help_generated),
        cmocka_unit_test(test_first_key),
        cmocka_unit_test(test_rebind),
        cmocka_unit_test(test_rebind_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
