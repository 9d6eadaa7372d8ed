/* Workloads table: filter parsing (substring vs key=value), sorting, column layout at 80/132. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "idwatch/wtable.h"

static struct model_kvlist lab_api, lab_tmpl_api, lab_web;

static struct wtable_row mkrow(const char *ns, const char *name, const char *kind, int sev,
                               int fed_rank, uint32_t req, int ready, int total, size_t ref)
{
    struct wtable_row r;
    memset(&r, 0, sizeof r);
    r.ns = ns;
    r.name = name;
    r.kind = kind;
    r.sa = "default";
    r.severity = sev;
    r.cells[WTABLE_MECH].text = "WI";
    r.cells[WTABLE_FED].rank = fed_rank;
    r.requests = req;
    r.pods_ready = ready;
    r.pods_total = total;
    r.ref = ref;
    return r;
}

static int setup(void **state)
{
    (void)state;
    kv_set(&lab_api, "app", "api");
    kv_set(&lab_api, "tier", "backend");
    kv_set(&lab_tmpl_api, "azure.workload.identity/use", "true");
    kv_set(&lab_web, "app", "web");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    kv_free(&lab_api);
    kv_free(&lab_tmpl_api);
    kv_free(&lab_web);
    return 0;
}

static void test_filter_substring(void **state)
{
    (void)state;
    struct wtable_row api = mkrow("payments", "API-server", "Deployment", 0, 0, 0, 1, 1, 0);
    api.sa = "payments-sa";
    struct wtable_filter f;
    struct idw_err e = {{0}};
    assert_int_equal(wtable_filter_parse(&f, "api", &e), 0);
    assert_true(f.active);
    assert_false(f.labels);
    assert_true(wtable_filter_match(&f, &api)); /* case-insensitive */
    wtable_filter_free(&f);

    assert_int_equal(wtable_filter_parse(&f, "ments/api", &e), 0); /* across ns/name */
    assert_true(wtable_filter_match(&f, &api));
    wtable_filter_free(&f);

    assert_int_equal(wtable_filter_parse(&f, "deploy", &e), 0); /* kind */
    assert_true(wtable_filter_match(&f, &api));
    wtable_filter_free(&f);

    assert_int_equal(wtable_filter_parse(&f, "-sa", &e), 0); /* service account */
    assert_true(wtable_filter_match(&f, &api));
    wtable_filter_free(&f);

    assert_int_equal(wtable_filter_parse(&f, "nomatch", &e), 0);
    assert_false(wtable_filter_match(&f, &api));
    wtable_filter_free(&f);

    assert_int_equal(wtable_filter_parse(&f, "!api", &e), 0); /* inverted */
    assert_true(f.invert);
    assert_false(wtable_filter_match(&f, &api));
    wtable_filter_free(&f);

    assert_int_equal(wtable_filter_parse(&f, "   ", &e), 0); /* empty: everything */
    assert_false(f.active);
    assert_true(wtable_filter_match(&f, &api));
    wtable_filter_free(&f);
}

static void test_filter_labels(void **state)
{
    (void)state;
    struct wtable_row api = mkrow("payments", "api", "Deployment", 0, 0, 0, 1, 1, 0);
    api.labels = &lab_api;
    api.tmpl_labels = &lab_tmpl_api;
    struct wtable_row web = mkrow("shop", "web", "Deployment", 0, 0, 0, 1, 1, 1);
    web.labels = &lab_web;
    struct wtable_row bare = mkrow("shop", "app=api", "Pod", 0, 0, 0, 1, 1, 2); /* no labels */

    struct wtable_filter f;
    struct idw_err e = {{0}};
    assert_int_equal(wtable_filter_parse(&f, "app=api", &e), 0);
    assert_true(f.labels);
    assert_true(wtable_filter_match(&f, &api));
    assert_false(wtable_filter_match(&f, &web));
    assert_false(wtable_filter_match(&f, &bare)); /* a selector, not a substring */
    wtable_filter_free(&f);

    assert_int_equal(wtable_filter_parse(&f, "app!=api", &e), 0);
    assert_false(wtable_filter_match(&f, &api));
    assert_true(wtable_filter_match(&f, &web));
    wtable_filter_free(&f);

    /* template labels count too; -l takes any selector */
    assert_int_equal(wtable_filter_parse(&f, "-l azure.workload.identity/use", &e), 0);
    assert_true(f.labels);
    assert_true(wtable_filter_match(&f, &api));
    assert_false(wtable_filter_match(&f, &web));
    wtable_filter_free(&f);

    assert_int_equal(wtable_filter_parse(&f, "-l tier in (backend,frontend),app=api", &e), 0);
    assert_true(wtable_filter_match(&f, &api));
    wtable_filter_free(&f);

    /* a bad selector is an error with a reason, and leaves no filter */
    assert_int_equal(wtable_filter_parse(&f, "-l tier in (backend", &e), -1);
    assert_true(strlen(e.msg) > 0);
    assert_false(f.active);
    wtable_filter_free(&f);
}

static void test_sort(void **state)
{
    (void)state;
    struct wtable_row rows[5] = {
        mkrow("b", "zeta", "Deployment", 0, 0, 5, 3, 3, 0),
        mkrow("a", "beta", "StatefulSet", 2, 4, 0, 0, 2, 1),
        mkrow("a", "alpha", "Deployment", 1, 4, 9, 1, 2, 2),
        mkrow("c", "gamma", "CronJob", 0, 1, 9, 2, 2, 3),
        mkrow("a", "alpha", "CronJob", 0, 0, 0, 1, 1, 4),
    };
    size_t order[5];
#define ORDER()                                                                                    \
    do {                                                                                           \
        for (int i = 0; i < 5; i++)                                                                \
            order[i] = rows[i].ref;                                                                \
    } while (0)

    wtable_sort(rows, 5, WTABLE_COL_NAMESPACE, false);
    ORDER();
    size_t by_ns[5] = {4, 2, 1, 0, 3}; /* a/alpha(CronJob) a/alpha(Deployment) a/beta b c */
    assert_memory_equal(order, by_ns, sizeof order);

    wtable_sort(rows, 5, WTABLE_COL_NAMESPACE, true);
    ORDER();
    size_t by_ns_rev[5] = {3, 0, 1, 2, 4};
    assert_memory_equal(order, by_ns_rev, sizeof order);

    wtable_sort(rows, 5, WTABLE_COL_NAME, false);
    ORDER();
    size_t by_name[5] = {4, 2, 1, 3, 0};
    assert_memory_equal(order, by_name, sizeof order);

    wtable_sort(rows, 5, WTABLE_COL_FLAG, false); /* worst severity first, then ns/name */
    ORDER();
    size_t by_sev[5] = {1, 2, 4, 0, 3};
    assert_memory_equal(order, by_sev, sizeof order);

    wtable_sort(rows, 5, WTABLE_COL_FED, false); /* worst rank first */
    ORDER();
    size_t by_fed[5] = {2, 1, 3, 4, 0};
    assert_memory_equal(order, by_fed, sizeof order);

    wtable_sort(rows, 5, WTABLE_COL_ACT, false); /* most requests first */
    ORDER();
    size_t by_act[5] = {2, 3, 0, 4, 1};
    assert_memory_equal(order, by_act, sizeof order);

    wtable_sort(rows, 5, WTABLE_COL_PODS, false); /* least ready first */
    ORDER();
    size_t by_pods[5] = {1, 2, 0, 3, 4}; /* ties: more pods first */
    assert_memory_equal(order, by_pods, sizeof order);
#undef ORDER

    /* `s` cycles through every column and wraps */
    enum wtable_col c = WTABLE_COL_NAME;
    int steps = 0;
    do {
        c = wtable_next_sort(c);
        steps++;
    } while (c != WTABLE_COL_NAME && steps < 100);
    assert_int_equal(steps, WTABLE_COL__COUNT);
}

static int sum_layout(const int w[WTABLE_COL__COUNT])
{
    int total = -1;
    for (int c = 0; c < WTABLE_COL__COUNT; c++)
        if (w[c])
            total += w[c] + 1;
    return total;
}

static void test_layout_80_132(void **state)
{
    (void)state;
    int w[WTABLE_COL__COUNT];
    int used = wtable_layout(80, w);
    assert_int_equal(used, sum_layout(w));
    assert_true(used <= 80);
    /* at 80 columns everything is shown at least at its minimum */
    int want80[WTABLE_COL__COUNT] = {1, 12, 16, 6, 4, 10, 10, 8, 5};
    assert_memory_equal(w, want80, sizeof want80);
    assert_int_equal(used, 80);

    used = wtable_layout(132, w);
    assert_int_equal(used, sum_layout(w));
    int want132[WTABLE_COL__COUNT] = {1, 20, 51, 11, 4, 10, 10, 10, 7};
    assert_memory_equal(w, want132, sizeof want132);
    assert_int_equal(used, 132);

    /* narrower: drop PODS first, then KIND, then NMI... never NAME, MECH or FLAG */
    used = wtable_layout(70, w);
    assert_true(used <= 70);
    assert_int_equal(w[WTABLE_COL_PODS], 0);
    assert_true(w[WTABLE_COL_NAME] >= 16);
    used = wtable_layout(50, w);
    assert_true(used <= 50);
    assert_int_equal(w[WTABLE_COL_KIND], 0);
    assert_int_equal(w[WTABLE_COL_ACT], 0);
    assert_true(w[WTABLE_COL_MECH] > 0);
    assert_int_equal(wtable_layout(10, w), -1);

    /* very wide: NAME stops at its maximum */
    used = wtable_layout(1000, w);
    assert_int_equal(w[WTABLE_COL_NAME], 200);
    assert_true(used < 1000);
}

static void test_fit(void **state)
{
    (void)state;
    char out[64];
    assert_string_equal(wtable_fit(out, sizeof out, "abc", 5, false), "abc  ");
    assert_string_equal(wtable_fit(out, sizeof out, "abc", 5, true), "  abc");
    assert_string_equal(wtable_fit(out, sizeof out, "abcdef", 4, false), "abc~");
    assert_string_equal(wtable_fit(out, sizeof out, "\u2713 ok", 4, false), "\u2713 ok");
    assert_string_equal(wtable_fit(out, sizeof out, "\u2713\u2713\u2713\u2713x", 3, false),
                        "\u2713\u2713~");
    assert_int_equal(wtable_text_width("\u2717 missing"), 9);
    assert_string_equal(wtable_fit(out, sizeof out, NULL, 2, false), "  ");
    assert_string_equal(wtable_fit(out, sizeof out, "abc", 0, false), "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_filter_substring),
        cmocka_unit_test(test_filter_labels),
        cmocka_unit_test(test_sort),
        cmocka_unit_test(test_layout_80_132),
        cmocka_unit_test(test_fit),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
