/* The three tables that meet in the dashboard agree: the key table (keymap, built from the action
 * table), the action table (action.h) and the finding table (check.h, which names the action that
 * applies each remedy by id). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "idwatch/check.h"
#include "idwatch/keymap.h"

/* The finding table as the header spells it: each code's action and remedy template. */
static const struct {
    enum check_code code;
    const char *name;
    enum action_id action;
    const char *remedy;
} findings[] = {
#define X(code, sev, action, msg, remedy) {CHECK_CODE_##code, #code, ACTION_##action, remedy},
    CHECK_FINDINGS(X)
#undef X
};
#define N_FINDINGS (sizeof findings / sizeof findings[0])

/* Key table <-> action table: every action is reachable by a key that maps back to it, the keys
 * the hint bar and the remedy hints show are bound, and every binding belongs to a row. */
static void test_keys_and_actions(void **state)
{
    (void)state;
    struct keymap km;
    struct idw_err e = {{0}};
    if (keymap_build(&km, NULL, &e) != 0)
        fail_msg("the action table's default keys do not build: %s", e.msg);
    for (int a = ACTION_NONE + 1; a < ACTION__COUNT; a++) {
        const struct action_info *in = action_info((enum action_id)a);
        char first[16];
        keymap_first_key(&km, (enum action_id)a, first);
        if (!first[0])
            fail_msg("action %s has no key", in->id);
        int codes[4];
        size_t n = keymap_key_codes(first, codes);
        assert_true(n > 0);
        if (keymap_lookup(&km, codes[0]) != (enum action_id)a)
            fail_msg("the first key of %s ('%s') runs another action", in->id, first);
        assert_string_equal(keymap_keys(&km, (enum action_id)a), in->keys);
        assert_non_null(in->name);
        assert_non_null(in->help);
        assert_true((unsigned)in->group < ACTION_GROUP__COUNT);
        if (in->remedy && !in->mutates)
            fail_msg("remedy %s does not change the cluster", in->id);
        /* what changes the cluster sits under the heading that says so, and only that */
        assert_int_equal(in->mutates, in->group == ACTION_GROUP_CHANGE);
    }
    for (int c = 0; c < KEYMAP_CODES; c++) {
        enum action_id a = keymap_lookup(&km, c);
        assert_true(a == ACTION_NONE || action_info(a) != NULL);
    }
}

/* Finding table <-> action table: a finding names a remedy action (or none), and every remedy
 * action fixes at least one finding (else its key would never be offered in a detail). */
static void test_findings_and_actions(void **state)
{
    (void)state;
    assert_int_equal(N_FINDINGS, CHECK_CODE__COUNT);
    int fixes[ACTION__COUNT] = {0};
    for (size_t i = 0; i < N_FINDINGS; i++) {
        assert_int_equal(findings[i].code, (enum check_code)i);
        assert_int_equal(check_code_action(findings[i].code), findings[i].action);
        if (findings[i].action == ACTION_NONE)
            continue;
        const struct action_info *in = action_info(findings[i].action);
        assert_non_null(in);
        if (!in->remedy)
            fail_msg("%s names %s, which applies no remedy", findings[i].name, in->id);
        fixes[findings[i].action]++;
    }
    for (int a = ACTION_NONE + 1; a < ACTION__COUNT; a++)
        if (action_info((enum action_id)a)->remedy && !fixes[a])
            fail_msg("remedy action %s fixes no finding", action_info((enum action_id)a)->id);
}

/* What each remedy action writes, as its remedy command spells it for the user. */
static const struct {
    enum action_id action;
    const char *remedy_has; /* in the remedy template of every finding that names the action */
    bool patch;             /* the key applies check_patch_json's merge patch */
} writes[] = {
    {ACTION_LABEL_WI, "${patch}", true},
    {ACTION_REMOVE_PI, "${patch}", true},
    {ACTION_PROXY_ON, "${patch}", true},
    {ACTION_PROXY_OFF, "${patch}", true},
    {ACTION_RESTART, "rollout restart", false},
    {ACTION_ANNOTATE_SA, "annotate serviceaccount", false},
    {ACTION_CREATE_FIC, "federated-credential", false},
};

/* The key of a finding does what its remedy command says: the same patch, restart, annotation or
 * credential. */
static void test_remedies_match_actions(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_FINDINGS; i++) {
        if (findings[i].action == ACTION_NONE)
            continue;
        size_t w = 0;
        while (w < sizeof writes / sizeof writes[0] && writes[w].action != findings[i].action)
            w++;
        if (w == sizeof writes / sizeof writes[0])
            fail_msg("%s: no expectation for action %s", findings[i].name,
                     action_info(findings[i].action)->id);
        if (!strstr(findings[i].remedy, writes[w].remedy_has))
            fail_msg("%s: the remedy '%s' does not say what %s does ('%s')", findings[i].name,
                     findings[i].remedy, action_info(findings[i].action)->id, writes[w].remedy_has);
        char *patch = check_patch_json(MODEL_KIND_DEPLOYMENT, findings[i].action);
        if ((patch != NULL) != writes[w].patch)
            fail_msg("%s: check_patch_json(%s) %s", findings[i].name,
                     action_info(findings[i].action)->id, patch ? "is a patch" : "is NULL");
        free(patch);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keys_and_actions),
        cmocka_unit_test(test_findings_and_actions),
        cmocka_unit_test(test_remedies_match_actions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
