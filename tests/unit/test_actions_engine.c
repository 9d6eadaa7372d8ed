/* actions, the engine, against a fake API server that applies merge patches for real: build ->
 * dry run -> confirm -> apply -> log; the dry-run rejection; the 409 path (re-read, shown, never a
 * blind retry); 403 and the SSAR cache; undo restoring labels exactly; M in order; read-only. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test_actions_fixture.h"

#define DEPLOY_PATH "/apis/apps/v1/namespaces/shop/deployments/web"
#define SA_PATH "/api/v1/namespaces/shop/serviceaccounts/web"

static int64_t fake_now = TA_NOW;
static int64_t clock_fn(void)
{
    return fake_now;
}

struct fx {
    struct ta_server ts;
    struct store *store;
    struct check_result *checks;
    struct actions *act;
    char dir[128];
    char log[200];
};

static void recheck(struct fx *f)
{
    struct check_options opt = {.now = TA_NOW, .window_seconds = 3600};
    check_run(f->checks, f->store, &opt);
}

static int setup_ro(void **state, bool read_only)
{
    struct fx *f = xcalloc(1, sizeof *f);
    fake_now = TA_NOW;
    snprintf(f->dir, sizeof f->dir, "/tmp/idw-acteng.XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->log, sizeof f->log, "%s/actions.log", f->dir);
    f->store = store_new();
    f->ts.store = f->store;
    f->ts.mirror = true;
    f->ts.next_rv = 1000;
    f->ts.ssar_allowed = true;
    char *d = ta_deploy_json("Deployment", "shop", "web", "500",
                             "{\"app\":\"web\",\"aadpodidbinding\":\"web\","
                             "\"azure.workload.identity/use\":\"True\"}",
                             "{\"team\":\"a\"}", "web");
    char *sa = ta_sa_json("shop", "web", "77", "{\"team\":\"a\"}");
    ta_server_add(&f->ts, DEPLOY_PATH, d);
    ta_server_add(&f->ts, SA_PATH, sa);
    free(d);
    free(sa);
    ta_azure(f->store, 2, NULL);
    f->checks = check_new();
    recheck(f);
    struct actions_config cfg = {.store = f->store,
                                 .checks = f->checks,
                                 .context = "aks-demo",
                                 .user = "clusterUser_demo",
                                 .log_path = f->log,
                                 .read_only = read_only,
                                 .now = clock_fn,
                                 .io = ta_io(&f->ts)};
    struct idw_err err = {{0}};
    if (actions_new(&cfg, &f->act, &err) != 0)
        return -1;
    *state = f;
    return 0;
}

static int setup(void **state)
{
    return setup_ro(state, false);
}

static int setup_read_only(void **state)
{
    return setup_ro(state, true);
}

static int teardown(void **state)
{
    struct fx *f = *state;
    actions_free(f->act);
    check_free(f->checks);
    store_free(f->store);
    ta_server_free(&f->ts);
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    int rc = system(cmd);
    free(f);
    return rc == 0 ? 0 : -1;
}

static const struct check_workload *web(struct fx *f)
{
    recheck(f);
    const struct check_workload *w = check_find(f->checks, MODEL_KIND_DEPLOYMENT, "shop", "web");
    assert_non_null(w);
    return w;
}

static size_t log_lines(struct fx *f)
{
    char *data;
    size_t len, n = 0;
    if (file_read_all(f->log, 1 << 20, &data, &len, NULL) != 0)
        return 0;
    for (size_t i = 0; i < len; i++)
        n += data[i] == '\n';
    free(data);
    return n;
}

/* The i-th request that is not a SelfSubjectAccessReview (those come and go with the cache). */
static const struct ta_req *kreq(struct fx *f, size_t i)
{
    for (size_t j = 0; j < f->ts.n_reqs; j++)
        if (strcmp(f->ts.reqs[j].method, "SSAR") != 0 && i-- == 0)
            return &f->ts.reqs[j];
    fail_msg("no request %zu", i);
    return NULL;
}

static size_t n_kreqs(struct fx *f)
{
    size_t n = 0;
    for (size_t j = 0; j < f->ts.n_reqs; j++)
        n += strcmp(f->ts.reqs[j].method, "SSAR") != 0;
    return n;
}

static bool view_has(struct fx *f, enum act_style st, const char *text)
{
    struct act_view v;
    actions_view(f->act, &v);
    for (size_t i = 0; i < v.n_lines; i++)
        if ((st == (enum act_style) - 1 || v.lines[i].style == st) && strstr(v.lines[i].text, text))
            return true;
    return false;
}

/* The server's object with the fields a write may legitimately move taken out. */
static cJSON *comparable(struct fx *f, const char *path)
{
    cJSON *o = cJSON_Duplicate(ta_server_obj(&f->ts, path), true);
    cJSON_DeleteItemFromObject(cJSON_GetObjectItem(o, "metadata"), "resourceVersion");
    return o;
}

static void test_label_apply_then_undo(void **state)
{
    struct fx *f = *state;
    cJSON *before = comparable(f, DEPLOY_PATH);
    struct idw_err err = {{0}};
    if (actions_start(f->act, ACTION_LABEL_WI, web(f), &err) != 0)
        fail_msg("%s", err.msg);
    /* the dry run went out, nothing was written */
    assert_int_equal(actions_state(f->act), ACT_ST_CONFIRM);
    assert_int_equal(f->ts.dry_runs, 1);
    assert_int_equal(f->ts.writes, 0);
    const struct act_change *c = actions_change(f->act);
    assert_non_null(c);
    /* the dialog shows exactly what is sent: object, patch type, body */
    assert_true(view_has(f, ACT_STYLE_TEXT, "Deployment shop/web"));
    assert_true(view_has(f, ACT_STYLE_TEXT, "application/merge-patch+json"));
    assert_true(view_has(f, ACT_STYLE_CODE, c->body));
    assert_string_equal(kreq(f, 0)->body, c->body);
    assert_true(view_has(f, ACT_STYLE_OK, "label azure.workload.identity/use = \"true\""));
    struct act_view v;
    actions_view(f->act, &v);
    assert_true(v.danger);
    assert_non_null(strstr(v.footer, "y apply"));
    /* y applies the same body */
    assert_int_equal(actions_key(f->act, 'y'), 1);
    assert_int_equal(actions_state(f->act), ACT_ST_DONE);
    assert_int_equal(f->ts.writes, 1);
    assert_string_equal(kreq(f, 1)->body, kreq(f, 0)->body);
    assert_false(kreq(f, 1)->dry_run);
    assert_int_equal(log_lines(f), 1);
    assert_int_equal(actions_undo_depth(f->act), 1);
    /* exactly that label changed, nothing else */
    cJSON *after = comparable(f, DEPLOY_PATH);
    cJSON *expect = cJSON_Duplicate(before, true);
    cJSON *labels = cJSON_GetObjectItem(
        cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(expect, "spec"), "template"),
                            "metadata"),
        "labels");
    cJSON_ReplaceItemInObject(labels, WI_LABEL_USE, cJSON_CreateString("true"));
    assert_true(cJSON_Compare(after, expect, true));
    cJSON_Delete(after);
    cJSON_Delete(expect);
    assert_int_equal(actions_key(f->act, '\n'), 0);
    bool e;
    assert_non_null(strstr(actions_take_message(f->act, &e), "w applied: Deployment shop/web"));
    assert_false(e);
    assert_string_equal(actions_take_message(f->act, &e), ""); /* once */

    /* u: the inverse, shown and confirmed, restores "True" exactly */
    assert_int_equal(actions_start(f->act, ACTION_UNDO, NULL, &err), 0);
    assert_int_equal(actions_state(f->act), ACT_ST_CONFIRM);
    assert_true(view_has(f, ACT_STYLE_CODE, "\"azure.workload.identity/use\":\"True\""));
    assert_int_equal(actions_key(f->act, 'y'), 1);
    assert_int_equal(actions_state(f->act), ACT_ST_DONE);
    after = comparable(f, DEPLOY_PATH);
    assert_true(cJSON_Compare(after, before, true));
    cJSON_Delete(after);
    assert_int_equal(actions_undo_depth(f->act), 0);
    assert_int_equal(log_lines(f), 2);
    actions_key(f->act, 27);
    assert_int_equal(actions_start(f->act, ACTION_UNDO, NULL, &err), -1);
    assert_non_null(strstr(err.msg, "nothing to undo"));
    cJSON_Delete(before);
}

static void test_undo_removes_absent_key(void **state)
{
    struct fx *f = *state;
    cJSON *before = comparable(f, DEPLOY_PATH);
    struct idw_err err = {{0}};
    assert_int_equal(actions_start(f->act, ACTION_PROXY_ON, web(f), &err), 0);
    actions_key(f->act, 'y');
    actions_key(f->act, '\n');
    assert_int_equal(actions_start(f->act, ACTION_RESTART, web(f), &err), 0);
    assert_true(view_has(f, ACT_STYLE_CODE,
                         "\"kubectl.kubernetes.io/restartedAt\":\"2026-11-29T10:00:00Z\""));
    actions_key(f->act, 'y');
    actions_key(f->act, '\n');
    assert_int_equal(actions_undo_depth(f->act), 2);
    /* undo twice, most recent first: the object is back, both keys gone */
    for (int i = 0; i < 2; i++) {
        assert_int_equal(actions_start(f->act, ACTION_UNDO, NULL, &err), 0);
        assert_int_equal(actions_key(f->act, 'y'), 1);
        assert_int_equal(actions_state(f->act), ACT_ST_DONE);
        actions_key(f->act, '\n');
    }
    cJSON *after = comparable(f, DEPLOY_PATH);
    assert_true(cJSON_Compare(after, before, true));
    cJSON_Delete(after);
    cJSON_Delete(before);
    assert_int_equal(log_lines(f), 4);
}

static void test_dry_run_rejected(void **state)
{
    struct fx *f = *state;
    cJSON *before = comparable(f, DEPLOY_PATH);
    f->ts.fail_dry = 422;
    struct idw_err err = {{0}};
    assert_int_equal(actions_start(f->act, ACTION_LABEL_WI, web(f), &err), 0);
    assert_int_equal(actions_state(f->act), ACT_ST_REJECTED);
    assert_true(
        view_has(f, ACT_STYLE_ERR, "HTTP 422: 422 Invalid: spec.template: denied by policy"));
    assert_true(view_has(f, ACT_STYLE_ERR, "nothing was applied"));
    /* y does not apply anything from here */
    assert_int_equal(actions_key(f->act, 'y'), 0);
    assert_int_equal(f->ts.writes, 0);
    assert_int_equal(n_kreqs(f), 1);
    assert_int_equal(log_lines(f), 0);
    bool e;
    assert_non_null(strstr(actions_take_message(f->act, &e), "rejected"));
    assert_true(e);
    cJSON *after = comparable(f, DEPLOY_PATH);
    assert_true(cJSON_Compare(after, before, true));
    cJSON_Delete(after);
    cJSON_Delete(before);
}

static void test_conflict_rereads(void **state)
{
    struct fx *f = *state;
    struct idw_err err = {{0}};
    assert_int_equal(actions_start(f->act, ACTION_LABEL_WI, web(f), &err), 0);
    assert_int_equal(actions_state(f->act), ACT_ST_CONFIRM);
    /* someone else writes meanwhile (the watch has not told us yet) */
    cJSON *o = ta_server_obj(&f->ts, DEPLOY_PATH);
    cJSON *meta = cJSON_GetObjectItem(o, "metadata");
    cJSON_ReplaceItemInObject(meta, "resourceVersion", cJSON_CreateString("777"));
    cJSON *tl = cJSON_GetObjectItem(
        cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(o, "spec"), "template"),
                            "metadata"),
        "labels");
    cJSON_AddStringToObject(tl, "owner", "bob");
    assert_int_equal(actions_key(f->act, 'y'), 1);
    /* 409 -> re-read -> the new state shown; no second PATCH */
    assert_int_equal(actions_state(f->act), ACT_ST_CONFLICT);
    assert_int_equal(n_kreqs(f), 3);
    assert_string_equal(kreq(f, 1)->method, "PATCH");
    assert_int_equal(kreq(f, 1)->status, 409);
    assert_string_equal(kreq(f, 2)->method, "GET");
    assert_true(view_has(f, ACT_STYLE_ERR, "resourceVersion 777 (was 500)"));
    assert_true(view_has(f, ACT_STYLE_ERR, "label azure.workload.identity/use = \"True\""));
    assert_int_equal(f->ts.writes, 0);
    assert_int_equal(log_lines(f), 1); /* the failed write is logged as failed */
    /* y builds again from the new state, dry-runs, and asks again */
    assert_int_equal(actions_key(f->act, 'y'), 1);
    assert_int_equal(actions_state(f->act), ACT_ST_CONFIRM);
    assert_non_null(strstr(actions_change(f->act)->body, "\"resourceVersion\":\"777\""));
    assert_int_equal(actions_key(f->act, 'y'), 1);
    assert_int_equal(actions_state(f->act), ACT_ST_DONE);
    assert_int_equal(f->ts.writes, 1);
    tl = cJSON_GetObjectItem(
        cJSON_GetObjectItem(
            cJSON_GetObjectItem(cJSON_GetObjectItem(ta_server_obj(&f->ts, DEPLOY_PATH), "spec"),
                                "template"),
            "metadata"),
        "labels");
    assert_string_equal(cJSON_GetObjectItem(tl, "owner")->valuestring, "bob");
    assert_string_equal(cJSON_GetObjectItem(tl, WI_LABEL_USE)->valuestring, "true");
    assert_int_equal(log_lines(f), 2);
}

static void test_ssar_cache_and_403(void **state)
{
    struct fx *f = *state;
    f->ts.ssar_allowed = false;
    snprintf(f->ts.ssar_reason, sizeof f->ts.ssar_reason, "no RBAC rule");
    const char *why = NULL;
    assert_false(actions_allowed(f->act, ACTION_LABEL_WI, web(f), &why));
    assert_non_null(strstr(why, "no permission (SelfSubjectAccessReview): no RBAC rule"));
    assert_int_equal(f->ts.ssars, 1);
    assert_string_equal(f->ts.reqs[0].path, "patch apps/deployments shop/web");
    /* cached: same answer, no new review; a different resource asks once */
    assert_false(actions_allowed(f->act, ACTION_REMOVE_PI, web(f), NULL));
    assert_int_equal(f->ts.ssars, 1);
    actions_allowed(f->act, ACTION_ANNOTATE_SA, web(f), NULL);
    assert_int_equal(f->ts.ssars, 2);
    assert_string_equal(f->ts.reqs[1].path, "patch /serviceaccounts shop/web");
    struct idw_err err = {{0}};
    assert_int_equal(actions_start(f->act, ACTION_LABEL_WI, web(f), &err), -1);
    assert_non_null(strstr(err.msg, "no RBAC rule"));
    assert_int_equal(n_kreqs(f), 0); /* no PATCH */
    /* after the TTL it asks again */
    f->ts.ssar_allowed = true;
    fake_now += 301;
    assert_true(actions_allowed(f->act, ACTION_LABEL_WI, web(f), NULL));
    assert_int_equal(f->ts.ssars, 3);
    /* a 403 on the dry run greys the key too, with the server's reason */
    f->ts.fail_dry = 403;
    assert_int_equal(actions_start(f->act, ACTION_LABEL_WI, web(f), &err), 0);
    assert_int_equal(actions_state(f->act), ACT_ST_REJECTED);
    actions_key(f->act, 27);
    assert_false(actions_allowed(f->act, ACTION_LABEL_WI, web(f), &why));
    assert_non_null(strstr(why, "cannot patch resource"));
}

/* A review that gets no answer allows (as without reviews) and is asked again after 30 s, not
 * at every frame. */
static void test_ssar_error_backoff(void **state)
{
    struct fx *f = *state;
    f->ts.ssar_error = "404 page not found";
    for (int i = 0; i < 5; i++)
        assert_true(actions_allowed(f->act, ACTION_LABEL_WI, web(f), NULL));
    assert_int_equal(f->ts.ssars, 1);
    fake_now += 31;
    f->ts.ssar_error = NULL;
    f->ts.ssar_allowed = false;
    const char *why = NULL;
    assert_false(actions_allowed(f->act, ACTION_LABEL_WI, web(f), &why));
    assert_int_equal(f->ts.ssars, 2);
}

static void test_migrate_in_order(void **state)
{
    struct fx *f = *state;
    struct idw_err err = {{0}};
    const struct check_workload *w = web(f);
    enum action_id plan[ACT_PLAN_MAX];
    assert_int_equal(act_migrate_plan(w, plan), 3);
    assert_int_equal(actions_start(f->act, ACTION_MIGRATE, w, &err), 0);
    /* a: the picker lists the subscription's identities */
    assert_int_equal(actions_state(f->act), ACT_ST_PICK);
    /* the current row is marked in text too (no colours), the others are not */
    assert_true(view_has(f, ACT_STYLE_SELECTED, "> id-payments"));
    assert_true(view_has(f, ACT_STYLE_CHOICE, "  id-other"));
    assert_true(view_has(f, ACT_STYLE_SELECTED, TA_CID));
    assert_int_equal(actions_key(f->act, ACT_KEY_ENTER), 1);
    assert_int_equal(actions_state(f->act), ACT_ST_CONFIRM);
    struct act_view v;
    actions_view(f->act, &v);
    assert_non_null(strstr(v.title, "step 1 of 3: a"));
    assert_true(
        view_has(f, ACT_STYLE_CODE, "\"azure.workload.identity/client-id\":\"" TA_CID "\""));
    assert_int_equal(actions_key(f->act, 'y'), 1);
    /* f: the credential, from the client id just written */
    assert_int_equal(actions_state(f->act), ACT_ST_CONFIRM);
    actions_view(f->act, &v);
    assert_non_null(strstr(v.title, "step 2 of 3: f"));
    assert_true(view_has(
        f, ACT_STYLE_TEXT,
        "federated credential aks-demo-weu-ServiceAccount-shop-web on identity id-payments"));
    assert_true(view_has(f, ACT_STYLE_OK, "the identity has 2 of at most 20 credentials"));
    assert_false(actions_take_azure_stale(f->act));
    assert_int_equal(actions_key(f->act, 'y'), 1);
    assert_int_equal(f->ts.fic_puts, 1);
    /* Azure has no watch: the app is told once to read it again */
    assert_true(actions_take_azure_stale(f->act));
    assert_false(actions_take_azure_stale(f->act));
    assert_string_equal(f->ts.fic_issuer, TA_ISSUER);
    assert_string_equal(f->ts.fic_subject, "system:serviceaccount:shop:web");
    assert_string_equal(f->ts.fic_name, "aks-demo-weu-ServiceAccount-shop-web");
    /* w: the label */
    assert_int_equal(actions_state(f->act), ACT_ST_CONFIRM);
    actions_view(f->act, &v);
    assert_non_null(strstr(v.title, "step 3 of 3: w"));
    assert_int_equal(actions_key(f->act, 'y'), 1);
    assert_int_equal(actions_state(f->act), ACT_ST_DONE);
    /* the writes, in order: SA, credential, pod template */
    const char *order[3];
    size_t n = 0;
    for (size_t i = 0; i < f->ts.n_reqs; i++)
        if (!f->ts.reqs[i].dry_run && (strcmp(f->ts.reqs[i].method, "PATCH") == 0 ||
                                       strcmp(f->ts.reqs[i].method, "PUT") == 0))
            order[n++] = f->ts.reqs[i].path;
    assert_int_equal(n, 3);
    assert_string_equal(order[0], SA_PATH);
    assert_string_equal(order[1], TA_IDENTITY);
    assert_string_equal(order[2], DEPLOY_PATH);
    assert_int_equal(log_lines(f), 3);
    assert_int_equal(actions_key(f->act, '\n'), 0);
    bool e;
    assert_non_null(strstr(actions_take_message(f->act, &e), "M: 3 steps done"));
    /* the undo list skips nothing: u reverts the label first */
    assert_int_equal(actions_undo_depth(f->act), 3);
    assert_int_equal(actions_start(f->act, ACTION_UNDO, NULL, &err), 0);
    assert_non_null(strstr(actions_change(f->act)->path, "deployments/web"));
    actions_key(f->act, 27);
}

static void test_migrate_cancel_and_skip(void **state)
{
    struct fx *f = *state;
    struct idw_err err = {{0}};
    assert_int_equal(actions_start(f->act, ACTION_MIGRATE, web(f), &err), 0);
    /* a typed client id that is not a GUID is refused in place */
    actions_key(f->act, ACT_KEY_TAB);
    actions_key(f->act, 'z');
    actions_key(f->act, ACT_KEY_ENTER);
    assert_int_equal(actions_state(f->act), ACT_ST_PICK);
    assert_true(view_has(f, ACT_STYLE_ERR, "GUID"));
    actions_key(f->act, ACT_KEY_BACKSPACE);
    for (const char *p = TA_CID2; *p; p++)
        actions_key(f->act, *p);
    actions_key(f->act, ACT_KEY_ENTER);
    assert_int_equal(actions_state(f->act), ACT_ST_CONFIRM);
    assert_true(view_has(f, ACT_STYLE_CODE, TA_CID2));
    /* s skips a step without writing */
    assert_int_equal(actions_key(f->act, 's'), 1);
    assert_int_equal(f->ts.writes, 0);
    /* f: the SA names no client id and none was applied: skipped with the reason, then w */
    assert_true(view_has(f, ACT_STYLE_DIM, "a skipped by you"));
    assert_int_equal(actions_state(f->act), ACT_ST_CONFIRM);
    assert_non_null(strstr(actions_change(f->act)->path, "deployments/web"));
    assert_int_equal(actions_key(f->act, 27), 0);
    bool e;
    assert_non_null(strstr(actions_take_message(f->act, &e), "cancelled, nothing was applied"));
    assert_int_equal(f->ts.writes + f->ts.fic_puts, 0);
    assert_int_equal(log_lines(f), 0);
}

static void test_fic_limit_and_arm_403(void **state)
{
    struct fx *f = *state;
    struct idw_err err = {{0}};
    /* annotate first (single a) */
    assert_int_equal(actions_start(f->act, ACTION_ANNOTATE_SA, web(f), &err), 0);
    actions_key(f->act, ACT_KEY_ENTER);
    actions_key(f->act, 'y');
    assert_int_equal(actions_state(f->act), ACT_ST_DONE);
    actions_key(f->act, '\n');
    /* ARM refuses with 403: f fails, and is greyed from now on with the reason */
    f->ts.fic_rc = -1;
    snprintf(f->ts.fic_error, sizeof f->ts.fic_error,
             "AuthorizationFailed: no permission for federatedIdentityCredentials/write");
    assert_int_equal(actions_start(f->act, ACTION_CREATE_FIC, web(f), &err), 0);
    assert_int_equal(actions_key(f->act, 'y'), 1);
    assert_int_equal(actions_state(f->act), ACT_ST_FAILED);
    assert_int_equal(log_lines(f), 2);
    actions_key(f->act, '\n');
    const char *why = NULL;
    assert_false(actions_allowed(f->act, ACTION_CREATE_FIC, web(f), &why));
    assert_non_null(strstr(why, "AuthorizationFailed"));
    assert_non_null(strstr(why, "id-payments"));
    assert_int_equal(actions_start(f->act, ACTION_CREATE_FIC, web(f), &err), -1);
    assert_int_equal(f->ts.fic_puts, 1);
    /* the refusal was for id-payments: with the SA on another identity, f is offered again */
    assert_int_equal(actions_start(f->act, ACTION_ANNOTATE_SA, web(f), &err), 0);
    actions_key(f->act, ACT_KEY_TAB);
    for (const char *p = TA_CID2; *p; p++)
        actions_key(f->act, *p);
    actions_key(f->act, ACT_KEY_ENTER);
    actions_key(f->act, 'y');
    assert_int_equal(actions_state(f->act), ACT_ST_DONE);
    actions_key(f->act, '\n');
    assert_true(actions_allowed(f->act, ACTION_CREATE_FIC, web(f), &why));
}

/* ---- the copies the server returned, against the order the watch delivers in ---- */

/* A transport whose writes reach the store (the watch) before their answer, followed by a
 * controller's status update: what a real API server does after a pod template changed. */
struct late {
    struct ta_server *ts;
    bool controller; /* bump the object after each write, before the answer */
    kube_result_fn fn;
    void *arg;
    long status;
    char *body;
    char message[IDW_ERR_MAX];
};

static void late_keep(void *ctx, const struct kube_result *r)
{
    struct late *l = ctx;
    l->status = r->status;
    l->body = r->body ? xstrndup(r->body, r->body_len) : NULL;
    snprintf(l->message, sizeof l->message, "%s", r->message);
}

static void server_bump(struct fx *f, const char *path, bool to_store)
{
    cJSON *o = ta_server_obj(&f->ts, path);
    char rv[32];
    snprintf(rv, sizeof rv, "%lu", f->ts.next_rv++);
    cJSON_ReplaceItemInObject(cJSON_GetObjectItem(o, "metadata"), "resourceVersion",
                              cJSON_CreateString(rv));
    if (to_store)
        ta_store_put(f->store, o);
}

static struct fx *late_fx;

static int late_patch(void *ctx, const char *path, enum kube_patch_type type, const char *body,
                      bool dry_run, kube_result_fn fn, void *arg, struct idw_err *err)
{
    struct late *l = ctx;
    if (dry_run)
        return ta_patch(l->ts, path, type, body, dry_run, fn, arg, err);
    struct late keep = *l;
    int rc = ta_patch(l->ts, path, type, body, false, late_keep, &keep, err);
    if (keep.status == 200 && l->controller)
        server_bump(late_fx, path, true); /* status update: watched before the answer */
    struct kube_result res = {
        .status = keep.status, .body = keep.body, .body_len = keep.body ? strlen(keep.body) : 0};
    snprintf(res.message, sizeof res.message, "%s", keep.message);
    fn(arg, &res);
    free(keep.body);
    return rc;
}

static int late_get(void *ctx, const char *path, kube_result_fn fn, void *arg, struct idw_err *err)
{
    struct late *l = ctx;
    return ta_get(l->ts, path, fn, arg, err);
}

static int late_ssar(void *ctx, const char *verb, const char *group, const char *resource,
                     const char *ns, const char *name, kube_ssar_fn fn, void *arg,
                     struct idw_err *err)
{
    struct late *l = ctx;
    return ta_ssar(l->ts, verb, group, resource, ns, name, fn, arg, err);
}

static void late_engine(struct fx *f, struct late *l)
{
    late_fx = f;
    actions_free(f->act);
    struct actions_config cfg = {
        .store = f->store,
        .checks = f->checks,
        .context = "aks-demo",
        .user = "clusterUser_demo",
        .log_path = f->log,
        .now = clock_fn,
        .io = {.ctx = l, .patch = late_patch, .get = late_get, .ssar = late_ssar}};
    struct idw_err err = {{0}};
    assert_int_equal(actions_new(&cfg, &f->act, &err), 0);
}

/* The server's resourceVersion of the deployment now (the rv counter also moves on dry runs). */
static const char *server_rv(struct fx *f)
{
    return cJSON_GetObjectItem(cJSON_GetObjectItem(ta_server_obj(&f->ts, DEPLOY_PATH), "metadata"),
                               "resourceVersion")
        ->valuestring;
}

static const char *shown_rv(struct fx *f)
{
    const struct act_change *c = actions_change(f->act);
    assert_non_null(c);
    return c->resource_version;
}

/* The watch brought our write and a status update before the answer: the next change is built
 * on the store's newer version, not on the answer's (which would be a stale precondition). */
static void test_fresh_copy_older_than_store(void **state)
{
    struct fx *f = *state;
    struct late l = {.ts = &f->ts, .controller = true};
    f->ts.mirror = true;
    late_engine(f, &l);
    struct idw_err err = {{0}};
    assert_int_equal(actions_start(f->act, ACTION_PROXY_ON, web(f), &err), 0);
    assert_int_equal(actions_key(f->act, 'y'), 1);
    assert_int_equal(actions_state(f->act), ACT_ST_DONE);
    actions_key(f->act, '\n');
    /* the server: our write, then the controller's update; the store has seen both */
    assert_int_equal(actions_start(f->act, ACTION_RESTART, web(f), &err), 0);
    assert_string_equal(shown_rv(f), server_rv(f));
    assert_int_equal(actions_state(f->act), ACT_ST_CONFIRM); /* the dry run passed */
    assert_int_equal(actions_key(f->act, 'y'), 1);
    assert_int_equal(actions_state(f->act), ACT_ST_DONE);
    assert_int_equal(f->ts.writes, 2);
}

/* Writes in a row before the watch catches up: each is built on the previous answer, and the
 * watch delivering the first of them does not make the engine fall back to it. */
static void test_fresh_copy_chain(void **state)
{
    struct fx *f = *state;
    struct late l = {.ts = &f->ts};
    f->ts.mirror = false; /* the watch lags: the store still shows 500 */
    late_engine(f, &l);
    struct idw_err err = {{0}};
    assert_int_equal(actions_start(f->act, ACTION_PROXY_ON, web(f), &err), 0);
    assert_string_equal(shown_rv(f), "500");
    actions_key(f->act, 'y');
    actions_key(f->act, '\n');
    char *x_rv = xstrdup(server_rv(f));
    assert_int_equal(actions_start(f->act, ACTION_RESTART, web(f), &err), 0);
    assert_string_equal(shown_rv(f), x_rv); /* the answer of x, the store has not seen it */
    actions_key(f->act, 'y');
    assert_int_equal(actions_state(f->act), ACT_ST_DONE);
    actions_key(f->act, '\n');
    /* the watch now delivers x's write, not yet R's */
    cJSON *o = cJSON_Duplicate(ta_server_obj(&f->ts, DEPLOY_PATH), true);
    cJSON_ReplaceItemInObject(cJSON_GetObjectItem(o, "metadata"), "resourceVersion",
                              cJSON_CreateString(x_rv));
    ta_store_put(f->store, o);
    cJSON_Delete(o);
    free(x_rv);
    assert_int_equal(actions_start(f->act, ACTION_UNDO, NULL, &err), 0);
    assert_string_equal(shown_rv(f), server_rv(f)); /* R's answer */
    assert_int_equal(actions_state(f->act), ACT_ST_CONFIRM);
    actions_key(f->act, 27);
    /* once the store moved past every version known to be older, it wins again */
    ta_store_put(f->store, ta_server_obj(&f->ts, DEPLOY_PATH));
    server_bump(f, DEPLOY_PATH, true);
    assert_int_equal(actions_start(f->act, ACTION_UNDO, NULL, &err), 0);
    assert_string_equal(shown_rv(f), server_rv(f));
    assert_int_equal(actions_state(f->act), ACT_ST_CONFIRM);
    actions_key(f->act, 27);
}

/* A 409 whose re-read the watch overtook: the new state is shown all the same. */
static void test_conflict_shown_from_store(void **state)
{
    struct fx *f = *state;
    struct idw_err err = {{0}};
    assert_int_equal(actions_start(f->act, ACTION_LABEL_WI, web(f), &err), 0);
    server_bump(f, DEPLOY_PATH, true); /* someone wrote, and the watch told us at once */
    assert_int_equal(actions_key(f->act, 'y'), 1);
    assert_int_equal(actions_state(f->act), ACT_ST_CONFLICT);
    char want[64];
    snprintf(want, sizeof want, "resourceVersion %s (was 500)", server_rv(f));
    assert_true(view_has(f, ACT_STYLE_ERR, want));
    assert_true(view_has(f, ACT_STYLE_ERR, "label azure.workload.identity/use = \"True\""));
    assert_int_equal(f->ts.writes, 0);
}

static void test_read_only(void **state)
{
    struct fx *f = *state;
    int mutating = 0;
    for (int k = ACTION_NONE + 1; k < ACTION__COUNT; k++) {
        if (!action_info((enum action_id)k)->mutates)
            continue;
        mutating++;
        struct idw_err err = {{0}};
        assert_int_equal(actions_start(f->act, (enum action_id)k, web(f), &err), -1);
        assert_non_null(strstr(err.msg, "read-only"));
        const char *why = NULL;
        assert_false(actions_allowed(f->act, (enum action_id)k, web(f), &why));
        assert_non_null(strstr(why, "read-only"));
    }
    assert_int_equal(mutating, 9); /* w a f p x X R M u */
    assert_int_equal(f->ts.n_reqs, 0);
    assert_false(actions_open(f->act));
}

static void rebound_key(void *ctx, enum action_id a, char out[16])
{
    (void)ctx;
    if (a == ACTION_LABEL_WI)
        snprintf(out, 16, "W");
    else
        action_default_key(a, out);
}

/* The engine names an action by the key the user's keymap binds, not by a letter of its own;
 * and only actions that change the cluster start. */
static void test_keys_follow_binding(void **state)
{
    struct fx *f = *state;
    actions_free(f->act);
    struct actions_config cfg = {.store = f->store,
                                 .checks = f->checks,
                                 .context = "aks-demo",
                                 .user = "clusterUser_demo",
                                 .log_path = f->log,
                                 .now = clock_fn,
                                 .key_name = rebound_key,
                                 .io = ta_io(&f->ts)};
    struct idw_err err = {{0}};
    assert_int_equal(actions_new(&cfg, &f->act, &err), 0);
    assert_int_equal(actions_start(f->act, ACTION_LABEL_WI, web(f), &err), 0);
    struct act_view av;
    actions_view(f->act, &av);
    assert_string_equal(av.title, "W: label the pod template azure.workload.identity/use=true");
    assert_int_equal(actions_key(f->act, ACT_KEY_ESC), 0);
    bool error = true;
    assert_string_equal(actions_take_message(f->act, &error), "W: cancelled, nothing was applied");
    assert_false(error);

    assert_int_equal(actions_start(f->act, ACTION_HELP, web(f), &err), -1);
    assert_non_null(strstr(err.msg, "does not change the cluster"));
    assert_int_equal(actions_start(f->act, ACTION_NONE, web(f), &err), -1);
    assert_false(actions_open(f->act));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_label_apply_then_undo, setup, teardown),
        cmocka_unit_test_setup_teardown(test_undo_removes_absent_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dry_run_rejected, setup, teardown),
        cmocka_unit_test_setup_teardown(test_conflict_rereads, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ssar_cache_and_403, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ssar_error_backoff, setup, teardown),
        cmocka_unit_test_setup_teardown(test_migrate_in_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_migrate_cancel_and_skip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fic_limit_and_arm_403, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fresh_copy_older_than_store, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fresh_copy_chain, setup, teardown),
        cmocka_unit_test_setup_teardown(test_conflict_shown_from_store, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_only, setup_read_only, teardown),
        cmocka_unit_test_setup_teardown(test_keys_follow_binding, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
