/* Label and field selectors: parse results, errors with positions, and matching, table-driven
 * against the behaviour of k8s.io/apimachinery/pkg/labels and pkg/fields. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "idwatch/selector.h"

/* Builds a kvlist from "k=v;k2=v2" by hand (kv_set lives in another module). */
static void labels_from(struct model_kvlist *l, const char *spec)
{
    memset(l, 0, sizeof *l);
    if (!spec || !*spec)
        return;
    char *copy = xstrdup(spec), *save = NULL;
    for (char *tok = strtok_r(copy, ";", &save); tok; tok = strtok_r(NULL, ";", &save)) {
        char *eq = strchr(tok, '=');
        l->items = xrealloc(l->items, (l->n + 1) * sizeof *l->items);
        l->items[l->n].key = eq ? xstrndup(tok, (size_t)(eq - tok)) : xstrdup(tok);
        l->items[l->n].value = xstrdup(eq ? eq + 1 : "");
        l->n++;
    }
    l->cap = l->n;
    free(copy);
}

static void labels_free(struct model_kvlist *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->items[i].key);
        free(l->items[i].value);
    }
    free(l->items);
}

#define KEY63 "abcdefghij0123456789abcdefghij0123456789abcdefghij0123456789abc"
#define KEY64 KEY63 "d"

struct match_case {
    const char *sel;
    const char *labels;
    bool match;
};

static const struct match_case match_cases[] = {
    {"", "app=web", true},
    {"   ", "", true},
    {"app=web", "app=web", true},
    {"app==web", "app=web", true},
    {"app=web", "app=db", false},
    {"app=web", "", false},
    {"app!=web", "", true}, /* != is true on an absent key */
    {"app!=web", "app=web", false},
    {"app!=web", "app=db", true},
    {"app", "app=x", true},
    {"app", "other=x", false},
    {"!app", "other=x", true},
    {"!app", "app=", false},
    {"env in (prod,staging)", "env=prod", true},
    {"env in (prod, staging)", "env=dev", false},
    {"env in (prod)", "", false},
    {"env notin (prod)", "", true}, /* notin is true on an absent key */
    {"env notin (prod,dev)", "env=prod", false},
    {"env notin (prod,dev)", "env=qa", true},
    {"app=web,tier=fe", "app=web;tier=fe", true},
    {"app=web, tier=fe", "app=web", false},
    {"  app  =  web  ,  !legacy ", "app=web", true},
    {"k=", "k=", true},
    {"k=", "k=x", false},
    {"k==,j", "k=;j=1", true},
    {"azure.workload.identity/use=true", "azure.workload.identity/use=true", true},
    {"azure.workload.identity/use=true", "azure.workload.identity/use=True", false},
    {"aadpodidbinding", "aadpodidbinding=my-binding", true},
    {"k in ()", "k=", true}, /* "()" is the set {""} */
    {"x in (foo,,baz)", "x=", true},
    {"x in (foo,)", "x=", true},
    {"x in (,foo)", "x=foo", true},
    {"in in (in,notin)", "in=notin", true}, /* keywords are identifiers where a value goes */
    {"notin notin (in)", "notin=x", true},
    {KEY63 "=v", KEY63 "=v", true},
    {"example.com/" KEY63 "=" KEY63, "example.com/" KEY63 "=" KEY63, true},
    {"a.b-c_d=x.y-z_0", "a.b-c_d=x.y-z_0", true},
};

static void test_match_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof match_cases / sizeof match_cases[0]; i++) {
        const struct match_case *c = &match_cases[i];
        struct selector sel;
        struct idw_err err = {{0}};
        int rc = selector_parse(c->sel, &sel, &err);
        if (rc != 0)
            fail_msg("case %zu '%s': parse failed: %s", i, c->sel, err.msg);
        struct model_kvlist l;
        labels_from(&l, c->labels);
        bool got = selector_match(&sel, &l);
        if (got != c->match)
            fail_msg("case %zu '%s' on {%s}: got %d want %d", i, c->sel, c->labels, got, c->match);
        labels_free(&l);
        selector_free(&sel);
    }
}

struct error_case {
    const char *sel;
    const char *want; /* substring of the message, including the position */
};

static const struct error_case error_cases[] = {
    {"a in (b", "found '', expected: ',' or ')' at 7"},
    {"a=b=c", "found '=', expected: ',' or 'end of string' at 3"},
    {"!a=b", "found '=', expected: ',' or 'end of string' at 2"},
    {"a,", "found '', expected: identifier after ',' at 2"},
    {",a", "found ',', expected: !, identifier, or 'end of string' at 0"},
    {"a=b c", "found 'c', expected: ',' or 'end of string' at 4"},
    {"a in b", "found 'b' expected: '(' at 5"},
    {"a in (b c)", "found 'c', expected: ',' or ')' at 8"},
    {"a in (=)", "found '=', expected: ',', ')' or identifier at 6"},
    {"a==(", "found '(', expected: identifier at 3"},
    {"a ( b", "found '(', expected: in, notin, =, ==, !=, gt, lt at 2"},
    {"!", "found '', expected: identifier at 1"},
    {"-a=b", "key '-a'"},
    {"Example.com/a=b", "key 'Example.com/a'"},
    {"/a=b", "prefix part must be non-empty"},
    {"a/=b", "name part must be non-empty"},
    {"a/b/c=d", "key 'a/b/c'"},
    {KEY64 "=v", "must be no more than 63 characters"},
    {"k=" KEY64, "must be no more than 63 characters"},
    {"k=b$c", "value 'b$c' of key 'k'"},
    {"k in (ok,-bad)", "value '-bad' of key 'k'"},
    {"k>1", "operator '>' is not supported"},
};

static void test_error_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof error_cases / sizeof error_cases[0]; i++) {
        const struct error_case *c = &error_cases[i];
        struct selector sel;
        struct idw_err err = {{0}};
        if (selector_parse(c->sel, &sel, &err) == 0)
            fail_msg("case %zu '%s': parsed, want error '%s'", i, c->sel, c->want);
        if (!strstr(err.msg, c->want))
            fail_msg("case %zu '%s': message '%s' lacks '%s'", i, c->sel, err.msg, c->want);
        if (!strstr(err.msg, "label selector '"))
            fail_msg("case %zu: message '%s' does not quote the selector", i, err.msg);
        assert_null(sel.reqs);
        assert_int_equal(sel.n, 0);
    }
}

static void test_parse_structure(void **state)
{
    (void)state;
    struct selector sel;
    struct idw_err err = {{0}};
    assert_int_equal(selector_parse("x in (b,a,b), !y, z!=1, w", &sel, &err), 0);
    assert_int_equal(sel.n, 4);
    assert_int_equal(sel.reqs[0].op, SEL_IN);
    assert_string_equal(sel.reqs[0].key, "x");
    assert_int_equal(sel.reqs[0].n_values, 2); /* a set: duplicates collapse */
    assert_int_equal(sel.reqs[1].op, SEL_NOTEXISTS);
    assert_string_equal(sel.reqs[1].key, "y");
    assert_int_equal(sel.reqs[1].n_values, 0);
    assert_int_equal(sel.reqs[2].op, SEL_NE);
    assert_string_equal(sel.reqs[2].values[0], "1");
    assert_int_equal(sel.reqs[3].op, SEL_EXISTS);
    selector_free(&sel);
    selector_free(&sel); /* idempotent */
}

static void test_error_sanitized(void **state)
{
    (void)state;
    struct selector sel;
    struct idw_err err = {{0}};
    assert_int_not_equal(selector_parse("a=\x1b[31m", &sel, &err), 0);
    assert_null(strchr(err.msg, '\x1b'));
}

/* ---- field selectors ---- */

struct pod_fields {
    const char *name, *ns, *node, *phase;
};

static const char *pod_field(void *ctx, const char *key)
{
    const struct pod_fields *p = ctx;
    if (strcmp(key, "metadata.name") == 0)
        return p->name;
    if (strcmp(key, "metadata.namespace") == 0)
        return p->ns;
    if (strcmp(key, "spec.nodeName") == 0)
        return p->node;
    if (strcmp(key, "status.phase") == 0)
        return p->phase;
    return NULL;
}

static void test_fields(void **state)
{
    (void)state;
    struct pod_fields pod = {"web-1", "default", "node-a", "Running"};
    struct {
        const char *sel;
        bool match;
    } ok[] = {
        {"", true},
        {"metadata.name=web-1", true},
        {"metadata.name==web-1", true},
        {"metadata.name!=web-1", false},
        {"spec.nodeName=node-a,status.phase!=Pending", true},
        {"spec.nodeName=node-b,status.phase=Running", false},
        {"spec.nodeName=", false},
        {"metadata.namespace=default,", true}, /* empty terms are skipped */
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        struct selector sel;
        struct idw_err err = {{0}};
        if (selector_parse_fields(ok[i].sel, &sel, &err) != 0)
            fail_msg("field case %zu '%s': %s", i, ok[i].sel, err.msg);
        if (selector_match_fn(&sel, pod_field, &pod) != ok[i].match)
            fail_msg("field case %zu '%s': wrong match", i, ok[i].sel);
        selector_free(&sel);
    }

    struct selector sel;
    struct idw_err err = {{0}};
    assert_int_equal(selector_parse_fields("metadata.name=a\\,b\\=c\\\\", &sel, &err), 0);
    assert_int_equal(sel.n, 1);
    assert_string_equal(sel.reqs[0].values[0], "a,b=c\\");
    selector_free(&sel);
    assert_int_equal(selector_parse_fields("a!=b,c==d", &sel, &err), 0);
    assert_int_equal(sel.reqs[0].op, SEL_NE);
    assert_int_equal(sel.reqs[1].op, SEL_EQ);
    assert_string_equal(sel.reqs[1].key, "c");
    assert_string_equal(sel.reqs[1].values[0], "d");
    selector_free(&sel);

    const char *bad[] = {"spec.nodeName", "a in (b)", "!a", "a=b=c", "a=b\\x", "a=b\\"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (selector_parse_fields(bad[i], &sel, &err) == 0)
            fail_msg("field selector '%s' should fail", bad[i]);
        assert_non_null(strstr(err.msg, "field selector '"));
        assert_null(sel.reqs);
    }
    assert_int_equal(selector_parse_fields("x notin (a)", &sel, &err), -1);
    assert_non_null(strstr(err.msg, "can't understand 'x notin (a)' at 0"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_match_table),     cmocka_unit_test(test_error_table),
        cmocka_unit_test(test_parse_structure), cmocka_unit_test(test_error_sanitized),
        cmocka_unit_test(test_fields),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
