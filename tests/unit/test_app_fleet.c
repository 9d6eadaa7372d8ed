/* fleet: choosing contexts (lists, globs, --all-contexts), the summary rules (worst exit code,
 * migration over all clusters), the runner's bounded concurrency and its failure paths (a context
 * that does not resolve, a closed port, a server that never answers), and the fleet report's
 * composition in every format. The runner against live simulators is
 * tests/integration/fleet_report.sh. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "idwatch/app.h"
#include "idwatch/fleet.h"
#include "idwatch/kubeconfig.h"
#include "idwatch/net.h"

static const char kc_yaml[] = "apiVersion: v1\n"
                              "kind: Config\n"
                              "clusters:\n"
                              "- name: closed\n"
                              "  cluster: {server: \"https://127.0.0.1:1\"}\n"
                              "- name: silent\n"
                              "  cluster: {server: \"https://127.0.0.1:SILENT\"}\n"
                              "users:\n"
                              "- name: tok\n"
                              "  user: {token: not-a-real-token}\n"
                              "- name: badcert\n"
                              "  user: {client-certificate: /nonexistent/idw/cert.pem, "
                              "client-key: /nonexistent/idw/key.pem}\n"
                              "contexts:\n"
                              "- name: prod-a\n"
                              "  context: {cluster: closed, user: tok}\n"
                              "- name: stage-a\n"
                              "  context: {cluster: closed, user: tok}\n"
                              "- name: prod-b\n"
                              "  context: {cluster: closed, user: tok}\n"
                              "- name: broken-cert\n"
                              "  context: {cluster: closed, user: badcert}\n"
                              "- name: hung\n"
                              "  context: {cluster: silent, user: tok}\n"
                              "- name: \"odd[1]\"\n"
                              "  context: {cluster: closed, user: tok}\n"
                              "current-context: prod-a\n";

static struct kubeconfig *load_kc(int silent_port)
{
    char port[16];
    snprintf(port, sizeof port, "%d", silent_port > 0 ? silent_port : 1);
    char *yaml = xstrdup(kc_yaml);
    char *at = strstr(yaml, "SILENT");
    struct idw_buf b = {0};
    buf_append(&b, yaml, (size_t)(at - yaml));
    buf_puts(&b, port);
    buf_puts(&b, at + 6);
    struct kubeconfig *kc = NULL;
    struct idw_err err;
    if (kubeconfig_parse(b.data, b.len, "fleet.yaml", NULL, &kc, &err) != 0)
        fail_msg("kubeconfig: %s", err.msg);
    buf_free(&b);
    free(yaml);
    return kc;
}

static int parse_opts(struct app_options *o, const char *context, bool all)
{
    char *argv[8] = {"idwatch", "report", "--no-azure"};
    int argc = 3;
    if (context) {
        argv[argc++] = "--context";
        argv[argc++] = (char *)context;
    }
    if (all)
        argv[argc++] = "--all-contexts";
    struct idw_err err;
    return app_parse_options(argc, argv, o, &err);
}

static void expect_names(const char *spec, bool all, const char *want)
{
    struct kubeconfig *kc = load_kc(0);
    char **names;
    size_t n;
    struct idw_err err;
    if (fleet_select(kc, spec, all, &names, &n, &err) != 0)
        fail_msg("fleet_select %s: %s", spec ? spec : "(all)", err.msg);
    struct idw_buf got = {0};
    for (size_t i = 0; i < n; i++)
        buf_printf(&got, "%s%s", i ? " " : "", names[i]);
    if (strcmp(got.data ? got.data : "", want) != 0)
        fail_msg("fleet_select %s: got \"%s\", want \"%s\"", spec ? spec : "(all)", got.data, want);
    buf_free(&got);
    fleet_names_free(names, n);
    kubeconfig_free(kc);
}

static void expect_select_error(const char *spec, const char *want)
{
    struct kubeconfig *kc = load_kc(0);
    char **names = (char **)1;
    size_t n = 7;
    struct idw_err err;
    assert_int_equal(fleet_select(kc, spec, false, &names, &n, &err), -1);
    assert_null(names);
    assert_int_equal(n, 0);
    if (!strstr(err.msg, want))
        fail_msg("fleet_select %s: error \"%s\" lacks \"%s\"", spec, err.msg, want);
    kubeconfig_free(kc);
}

static void test_select(void **state)
{
    (void)state;
    expect_names(NULL, true, "prod-a stage-a prod-b broken-cert hung odd[1]");
    /* globs keep kubeconfig order; lists keep their own; duplicates go */
    expect_names("prod-*", false, "prod-a prod-b");
    expect_names("stage-a,prod-*", false, "stage-a prod-a prod-b");
    expect_names("prod-b, prod-a ,prod-b", false, "prod-b prod-a");
    expect_names("*-a", false, "prod-a stage-a");
    expect_names("odd[1]", false, "odd[1]"); /* a name as written beats the glob reading */
    expect_names("prod-?", false, "prod-a prod-b");
    expect_select_error("prod-a,nope", "no context named 'nope' (known: prod-a, stage-a");
    expect_select_error("dev-*", "'dev-*' matches no context");
    expect_select_error(",", "no context given");
}

static void test_wanted(void **state)
{
    (void)state;
    struct kubeconfig *kc = load_kc(0);
    struct app_options o;
    assert_int_equal(parse_opts(&o, NULL, false), 0);
    assert_false(fleet_wanted(&o, kc));
    assert_int_equal(parse_opts(&o, "prod-a", false), 0);
    assert_false(fleet_wanted(&o, kc));
    assert_int_equal(parse_opts(&o, "odd[1]", false), 0);
    assert_false(fleet_wanted(&o, kc)); /* it exists: one context */
    assert_int_equal(parse_opts(&o, "nope", false), 0);
    assert_false(fleet_wanted(&o, kc)); /* one unknown name: the single report says so */
    assert_int_equal(parse_opts(&o, "prod-*", false), 0);
    assert_true(fleet_wanted(&o, kc));
    assert_int_equal(parse_opts(&o, "prod-a,prod-b", false), 0);
    assert_true(fleet_wanted(&o, kc));
    assert_int_equal(parse_opts(&o, NULL, true), 0);
    assert_true(fleet_wanted(&o, kc));
    kubeconfig_free(kc);
}

static void test_options(void **state)
{
    (void)state;
    struct app_options o;
    struct idw_err err;
    char *a1[] = {"idwatch", "report", "--all-contexts", "--parallel",
                  "3",       "-o",     "json",           "--compact"};
    assert_int_equal(app_parse_options(8, a1, &o, &err), 0);
    assert_true(o.all_contexts);
    assert_int_equal(o.parallel, 3);
    assert_true(o.compact);
    char *a2[] = {"idwatch", "report", "--parallel", "0"};
    assert_int_equal(app_parse_options(4, a2, &o, &err), -1);
    assert_non_null(strstr(err.msg, "--parallel"));
    char *a3[] = {"idwatch", "report", "--compact"};
    assert_int_equal(app_parse_options(3, a3, &o, &err), -1); /* text output */
    assert_non_null(strstr(err.msg, "--compact"));
    char *a4[] = {"idwatch", "report", "--all-contexts", "--context", "a"};
    assert_int_equal(app_parse_options(5, a4, &o, &err), -1);
    char *a5[] = {"idwatch", "report"};
    assert_int_equal(app_parse_options(2, a5, &o, &err), 0);
    assert_int_equal(o.parallel, 8);
}

static void test_summary(void **state)
{
    (void)state;
    struct fleet_row rows[3] = {
        {.state = FLEET_DONE,
         .workloads = 10,
         .wi = 6,
         .pi = 2,
         .both = 1,
         .exit_code = 0,
         .removable = false},
        {.state = FLEET_DONE,
         .workloads = 4,
         .wi = 1,
         .pi = 0,
         .both = 0,
         .exit_code = 1,
         .removable = true},
        {.state = FLEET_FAILED, .workloads = 99, .wi = 99, .exit_code = 2},
    };
    struct fleet_summary s;
    fleet_summarize(rows, 3, &s);
    assert_int_equal(s.clusters, 3);
    assert_int_equal(s.failed, 1);
    assert_int_equal(s.workloads, 14);
    assert_true(s.percent_migrated > 69.99 && s.percent_migrated < 70.01); /* 7 of 10 */
    assert_int_equal(s.removable, 1);
    assert_int_equal(s.exit_code, 2);
    fleet_summarize(rows, 2, &s);
    assert_int_equal(s.exit_code, 1);
    fleet_summarize(rows, 1, &s);
    assert_int_equal(s.exit_code, 0);
    /* a cluster still loading is never a pass */
    rows[0].state = FLEET_LOADING;
    fleet_summarize(rows, 1, &s);
    assert_int_equal(s.exit_code, 2);
    assert_int_equal(s.failed, 0);
    assert_int_equal(s.workloads, 0);
}

static void test_row_fill(void **state)
{
    (void)state;
    struct check_result *r = check_new();
    r->cluster.oidc.status = CHECK_OIDC_OK;
    r->cluster.webhook.status = CHECK_WEBHOOK_DEGRADED;
    r->cluster.pod_identity.status = CHECK_PODID_RUNNING;
    r->cluster.migration.total = 12;
    r->cluster.migration.workload_identity = 7;
    r->cluster.migration.pod_identity = 3;
    r->cluster.migration.both = 1;
    r->cluster.migration.none = 1;
    r->cluster.migration.percent_migrated = 63.6;
    r->cluster.removal.safe = true;
    struct check_source src[2] = {{.age_seconds = 12}, {.age_seconds = -1}};
    r->cluster.sources = src;
    r->cluster.n_sources = 2;
    struct fleet_row row = {0};
    fleet_row_fill(&row, r);
    assert_int_equal(row.oidc, CHECK_OIDC_OK);
    assert_int_equal(row.webhook, CHECK_WEBHOOK_DEGRADED);
    assert_int_equal(row.pod_identity, CHECK_PODID_RUNNING);
    assert_int_equal(row.workloads, 12);
    assert_int_equal(row.wi, 7);
    assert_int_equal(row.pi, 3);
    assert_int_equal(row.both, 1);
    assert_int_equal(row.none, 1);
    assert_true(row.removable);
    assert_int_equal(row.errors, 0);
    assert_int_equal(row.data_age, 12);
    r->cluster.sources = NULL;
    r->cluster.n_sources = 0;
    check_free(r);
}

/* ---- the runner ---- */

struct seen {
    int calls;
    size_t order[8];
    int max_loading;
    const struct fleet *f;
};

static void on_done(void *ctx, size_t i, const struct fleet_row *row, struct session *s)
{
    struct seen *sn = ctx;
    (void)s;
    assert_int_not_equal(row->state, FLEET_DONE);
    assert_non_null(row->error);
    sn->order[sn->calls++] = i;
}

static int count_loading(const struct fleet *f)
{
    int n = 0;
    for (size_t i = 0; i < fleet_count(f); i++)
        n += fleet_row(f, i)->state == FLEET_LOADING;
    return n;
}

static void run_fleet(struct kubeconfig *kc, char **names, size_t n, int parallel,
                      int64_t deadline_ms, struct seen *sn, struct fleet **out, struct net **netp)
{
    struct app_options o;
    assert_int_equal(parse_opts(&o, NULL, false), 0);
    static struct app_options keep;
    keep = o;
    struct net_config nc = {.read_only = true};
    struct net *net = net_new(&nc);
    struct fleet_config fc = {.opt = &keep,
                              .kc = kc,
                              .net = net,
                              .names = names,
                              .n = n,
                              .parallel = parallel,
                              .deadline_ms = deadline_ms,
                              .done = on_done,
                              .ctx = sn};
    struct fleet *f = fleet_new(&fc);
    sn->f = f;
    int64_t give_up = time_now_ms() + 60000;
    fleet_tick(f);
    if (count_loading(f) > sn->max_loading)
        sn->max_loading = count_loading(f);
    while (!fleet_done(f) && time_now_ms() < give_up) {
        net_poll(net, fleet_poll_ms(f));
        fleet_tick(f);
        if (count_loading(f) > sn->max_loading)
            sn->max_loading = count_loading(f);
    }
    assert_true(fleet_done(f));
    *out = f;
    *netp = net;
}

static void test_runner_failures(void **state)
{
    (void)state;
    struct kubeconfig *kc = load_kc(0);
    char *names[] = {"prod-a", "broken-cert", "prod-b"};
    struct seen sn = {0};
    struct fleet *f;
    struct net *net;
    run_fleet(kc, names, 3, 1, 0, &sn, &f, &net);
    assert_int_equal(sn.calls, 3);
    assert_int_equal(sn.max_loading, 1); /* --parallel 1: one at a time */
    const struct fleet_row *a = fleet_row(f, 0), *b = fleet_row(f, 1), *c = fleet_row(f, 2);
    assert_string_equal(a->context, "prod-a");
    assert_int_equal(a->state, FLEET_FAILED);
    assert_int_equal(a->exit_code, 2);
    if (!str_has_prefix(a->error, "cannot reach the cluster: "))
        fail_msg("prod-a: %s", a->error);
    assert_string_equal(a->server, "https://127.0.0.1:1");
    assert_int_equal(b->state, FLEET_FAILED);
    if (!strstr(b->error, "/nonexistent/idw/cert.pem"))
        fail_msg("broken-cert: %s", b->error);
    assert_null(b->server); /* never resolved */
    assert_int_equal(c->state, FLEET_FAILED);
    struct fleet_summary s;
    fleet_summarize(fleet_row(f, 0), 3, &s);
    assert_int_equal(s.failed, 3);
    assert_int_equal(s.exit_code, 2);
    fleet_free(f);
    net_free(net);
    kubeconfig_free(kc);
}

static void test_runner_parallel(void **state)
{
    (void)state;
    struct kubeconfig *kc = load_kc(0);
    char *names[] = {"prod-a", "stage-a", "prod-b", "odd[1]"};
    struct seen sn = {0};
    struct fleet *f;
    struct net *net;
    run_fleet(kc, names, 4, 2, 0, &sn, &f, &net);
    assert_int_equal(sn.calls, 4);
    assert_int_equal(sn.max_loading, 2);
    fleet_free(f);
    net_free(net);
    kubeconfig_free(kc);
}

/* A server that takes the connection and never says a word: the cluster's deadline ends it,
 * and the others are not held up by it. */
static void test_runner_deadline(void **state)
{
    (void)state;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(listen(fd, 16), 0);
    socklen_t sl = sizeof sa;
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
    struct kubeconfig *kc = load_kc(ntohs(sa.sin_port));
    char *names[] = {"hung", "prod-a"};
    struct seen sn = {0};
    struct fleet *f;
    struct net *net;
    int64_t t0 = time_now_ms();
    run_fleet(kc, names, 2, 2, 6000, &sn, &f, &net);
    int64_t took = time_now_ms() - t0;
    assert_int_equal(sn.calls, 2);
    const struct fleet_row *h = fleet_row(f, 0), *a = fleet_row(f, 1);
    if (!str_has_prefix(h->error, "gave up after 6 s"))
        fail_msg("hung: %s", h->error);
    if (!str_has_prefix(a->error, "cannot reach the cluster: "))
        fail_msg("prod-a: %s", a->error);
    assert_true(took < 15000);
    fleet_free(f);
    net_free(net);
    kubeconfig_free(kc);
    close(fd);
}

/* ---- the fleet report ---- */

static const char report_json[] = "{\n\t\"schema\":\t\"idwatch.report/v1\",\n\t\"cluster\":\t{\n"
                                  "\t\t\"context\":\t\"prod-a\",\n\t\t\"note\":\t\"a \\\"q\\\" "
                                  "and\\nnewline\"\n\t},\n\t\"workloads\":\t[]\n}\n";

struct parts {
    struct fleet_row rows[2];
    struct fleet_part p[2];
};

static void make_parts(struct parts *ps, const char *report)
{
    memset(ps, 0, sizeof *ps);
    ps->rows[0] = (struct fleet_row){.context = "prod-a",
                                     .state = FLEET_DONE,
                                     .workloads = 3,
                                     .wi = 2,
                                     .pi = 1,
                                     .percent_migrated = 66.7,
                                     .exit_code = 1,
                                     .errors = 2};
    ps->rows[1] = (struct fleet_row){.context = "prod-\"b\"\x1b[31m",
                                     .state = FLEET_FAILED,
                                     .error = "cannot reach the cluster: refused, \"really\"",
                                     .exit_code = 2};
    ps->p[0] =
        (struct fleet_part){.row = &ps->rows[0], .report = report, .report_len = strlen(report)};
    ps->p[1] = (struct fleet_part){.row = &ps->rows[1]};
}

static void check_fleet_json(const char *text)
{
    cJSON *root = cJSON_Parse(text);
    if (!root)
        fail_msg("not JSON: %s", text);
    assert_string_equal(cJSON_GetObjectItem(root, "schema")->valuestring, "idwatch.fleet/v1");
    assert_true(cJSON_IsString(cJSON_GetObjectItem(root, "generated_at")));
    cJSON *reps = cJSON_GetObjectItem(root, "reports");
    assert_int_equal(cJSON_GetArraySize(reps), 2);
    cJSON *a = cJSON_GetArrayItem(reps, 0), *b = cJSON_GetArrayItem(reps, 1);
    assert_string_equal(cJSON_GetObjectItem(a, "context")->valuestring, "prod-a");
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(a, "error")));
    cJSON *ra = cJSON_GetObjectItem(a, "report");
    assert_string_equal(cJSON_GetObjectItem(ra, "schema")->valuestring, "idwatch.report/v1");
    assert_string_equal(
        cJSON_GetObjectItem(cJSON_GetObjectItem(ra, "cluster"), "note")->valuestring,
        "a \"q\" and\nnewline");
    /* the context's control bytes are gone, its quotes escaped */
    assert_string_equal(cJSON_GetObjectItem(b, "context")->valuestring, "prod-\"b\"?[31m");
    assert_string_equal(cJSON_GetObjectItem(b, "error")->valuestring,
                        "cannot reach the cluster: refused, \"really\"");
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(b, "report")));
    cJSON *s = cJSON_GetObjectItem(root, "summary");
    assert_int_equal(cJSON_GetObjectItem(s, "clusters")->valueint, 2);
    assert_int_equal(cJSON_GetObjectItem(s, "failed")->valueint, 1);
    assert_int_equal(cJSON_GetObjectItem(s, "workloads")->valueint, 3);
    assert_true(cJSON_GetObjectItem(s, "percent_migrated")->valuedouble > 66.6);
    assert_int_equal(cJSON_GetObjectItem(s, "pod_identity_removable")->valueint, 0);
    assert_int_equal(cJSON_GetArraySize(s), 5);
    cJSON_Delete(root);
}

static void test_render_json(void **state)
{
    (void)state;
    struct parts ps;
    make_parts(&ps, report_json);
    struct idw_buf out = {0};
    fleet_render(&out, REPORT_JSON, false, ps.p, 2, 1700000000);
    check_fleet_json(out.data);
    assert_non_null(strstr(out.data, "\"generated_at\":\t\"2023-11-14T22:13:20Z\""));
    assert_true(strchr(out.data, '\n') != out.data + out.len - 1); /* pretty: many lines */
    buf_free(&out);

    buf_puts(&out, "prefix:");
    fleet_render(&out, REPORT_JSON, true, ps.p, 2, 0);
    assert_true(str_has_prefix(out.data, "prefix:{\"schema\":\"idwatch.fleet/v1\""));
    assert_int_equal(strchr(out.data, '\n') - out.data, (long)out.len - 1); /* one line */
    check_fleet_json(out.data + 7);
    assert_non_null(strstr(out.data, "\"note\":\"a \\\"q\\\" and\\nnewline\"")); /* strings kept */
    buf_free(&out);
}

static void test_compact(void **state)
{
    (void)state;
    struct idw_buf b = {0};
    /* a string that ends in a backslash (cJSON_Minify 1.7.15 gets this one wrong) */
    buf_puts(&b, "{\n\t\"a b\":\t[1, 2.5],\n  \"c\": \"x\\\" y\\\\\"\n}\n");
    assert_int_equal(fleet_json_compact(&b), 0);
    assert_string_equal(b.data, "{\"a b\":[1,2.5],\"c\":\"x\\\" y\\\\\"}\n");
    assert_int_equal(b.len, strlen(b.data));
    buf_reset(&b);
    buf_puts(&b, "{\"a\": tru");
    assert_int_equal(fleet_json_compact(&b), -1);
    assert_string_equal(b.data, "{\"a\": tru"); /* left as it was */
    buf_free(&b);
}

static void test_render_text_markdown(void **state)
{
    (void)state;
    struct parts ps;
    make_parts(&ps, "idwatch report   context prod-a\n\nKIND  NAME\n");
    struct idw_buf out = {0};
    fleet_render(&out, REPORT_TEXT, false, ps.p, 2, 0);
    assert_non_null(strstr(out.data, "=== prod-a: done ===\n\nidwatch report   context prod-a\n"));
    assert_non_null(strstr(out.data, "=== prod-\"b\"?[31m: failed ===\n\nerror: cannot reach"));
    assert_null(strchr(out.data, '\x1b'));
    assert_non_null(strstr(out.data, "\n2 clusters, 1 failed; 3 workloads, 66.7% migrated; pod "
                                     "identity removable on 0 of 1 audited; exit 2\n"));
    assert_null(strstr(out.data, " \n")); /* no trailing blanks */
    buf_free(&out);

    make_parts(&ps, "# idwatch report\n\nContext `prod-a`.\n\n## Cluster\n\n| a | b |\n");
    fleet_render(&out, REPORT_MARKDOWN, false, ps.p, 2, 0);
    assert_true(str_has_prefix(out.data, "# idwatch fleet report\n"));
    assert_non_null(strstr(out.data, "\n## idwatch report\n\nContext `prod-a`.\n\n### Cluster\n"));
    assert_non_null(strstr(out.data, "Context `prod-\"b\"?[31m`: **failed**: cannot reach"));
    assert_non_null(strstr(out.data, "\n## Summary\n\n| CONTEXT |"));
    assert_non_null(strstr(out.data, "| prod-a | done | 3 | 66.7% | 2 | 1 | 0 | 2 | no | 1 |  |"));
    buf_free(&out);
}

static size_t count_fields(const char *line)
{
    size_t n = 1;
    bool q = false;
    for (const char *p = line; *p; p++) {
        if (*p == '"')
            q = !q;
        else if (*p == ',' && !q)
            n++;
    }
    return n;
}

static void test_render_csv(void **state)
{
    (void)state;
    /* a report's CSV: its header (dropped), a quoted comma, a quoted line break */
    struct parts ps;
    make_parts(&ps, "kind,namespace\r\nDeployment,\"a,b\"\r\nPod,\"two\r\nlines\"\r\n");
    struct idw_buf out = {0};
    fleet_render(&out, REPORT_CSV, false, ps.p, 2, 0);
    const char *head = "context,kind,namespace,name,";
    assert_true(str_has_prefix(out.data, head));
    const char *eol = strstr(out.data, "\r\n");
    char *first = xstrndup(out.data, (size_t)(eol - out.data));
    assert_true(str_has_suffix(first, ",cluster_error"));
    size_t cols = count_fields(first);
    free(first);
    assert_non_null(strstr(out.data, "\r\nprod-a,Deployment,\"a,b\",\r\n"));
    assert_non_null(strstr(out.data, "\r\nprod-a,Pod,\"two\r\nlines\",\r\n"));
    assert_null(strstr(out.data, "kind,namespace\r\n")); /* the part's header is not repeated */
    /* the failed cluster: one row, as many fields as the header, the error last */
    const char *fail = strstr(out.data, "\"prod-\"\"b\"\"?[31m\",");
    assert_non_null(fail);
    char *line = xstrndup(fail, (size_t)(strstr(fail, "\r\n") - fail));
    assert_int_equal(count_fields(line), cols);
    assert_true(str_has_suffix(line, ",\"cannot reach the cluster: refused, \"\"really\"\"\""));
    free(line);
    buf_free(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_select),
        cmocka_unit_test(test_wanted),
        cmocka_unit_test(test_options),
        cmocka_unit_test(test_summary),
        cmocka_unit_test(test_row_fill),
        cmocka_unit_test(test_runner_failures),
        cmocka_unit_test(test_runner_parallel),
        cmocka_unit_test(test_runner_deadline),
        cmocka_unit_test(test_render_json),
        cmocka_unit_test(test_compact),
        cmocka_unit_test(test_render_text_markdown),
        cmocka_unit_test(test_render_csv),
    };
    unsetenv("KUBECONFIG");
    return cmocka_run_group_tests(tests, NULL, NULL);
}
