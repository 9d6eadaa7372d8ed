/* actions/engine_send: the requests of a run — dry run, apply, re-read after a conflict — and
 * what their answers do (the next state, the action log, the undo stack, the fresh copy). */
#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine_int.h"

static void on_dry_run(void *ctx, const struct kube_result *res);
static void on_apply(void *ctx, const struct kube_result *res);

/* Sends the dry run of the built change (ARM: the local checks stand in for it). */
void act_send_dry_run(struct actions *a)
{
    struct run *r = a->run;
    struct act_change *c = &r->change;
    strv_free(&r->answer, &r->n_answer);
    r->status = 0;
    if (c->target == ACT_TARGET_ARM) {
        act_answer_add(r, "ARM has no dry run; checked here and again right before the PUT:");
        act_answer_add(r, "  name %s fits ^[a-zA-Z0-9][a-zA-Z0-9-_]{2,119}$", c->fic_name);
        if (c->fics_listed) {
            act_answer_add(r, "  the identity has %zu of at most %d credentials", c->fic_count,
                           AZURE_FIC_MAX);
            act_answer_add(r, "  no credential on it has this issuer and subject");
        } else {
            act_answer_add(r, "  its credentials could not be listed: the limit and duplicates are "
                              "checked with a fresh list before the PUT");
        }
        r->state = ACT_ST_CONFIRM;
        a->version++;
        return;
    }
    r->state = ACT_ST_DRY_RUN;
    a->version++;
    struct pending *p = act_pending_new(a, REQ_DRY);
    struct idw_err err = {{0}};
    if (a->cfg.io.patch(a->cfg.io.ctx, c->path, c->patch_type, c->body, true, on_dry_run, p,
                        &err) != 0) {
        act_pending_done(p);
        act_answer_add(r, "not sent: %s", err.msg);
        act_run_finish(a, ACT_ST_REJECTED, true, "%s: dry run not sent: %s",
                       act_key_name(a, c->kind), err.msg);
    }
}

/* The value the server's object holds for each edited key, to show what the change would do. */
static void answer_values(struct run *r, const struct act_change *c, const char *body, size_t len)
{
    cJSON *obj = body && len ? cJSON_ParseWithLength(body, len) : NULL;
    const cJSON *m = act_edit_meta(obj, c->service_account, c->wkind);
    for (size_t i = 0; i < c->n_edits && obj; i++) {
        const struct act_edit *e = &c->edits[i];
        const cJSON *map = cJSON_GetObjectItemCaseSensitive(
            m, e->map == ACT_MAP_LABELS ? "labels" : "annotations");
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(map, e->key);
        char val[256];
        if (cJSON_IsString(v))
            act_answer_add(r, "  %s %s = \"%s\"", e->map == ACT_MAP_LABELS ? "label" : "annotation",
                           e->key, str_sanitize(val, sizeof val, v->valuestring));
        else
            act_answer_add(r, "  %s %s: absent", e->map == ACT_MAP_LABELS ? "label" : "annotation",
                           e->key);
    }
    static const char *const rvp[] = {"metadata", "resourceVersion", NULL};
    const cJSON *rv = act_json_path(obj, rvp);
    char val[128];
    if (cJSON_IsString(rv))
        act_answer_add(r, "  resourceVersion %s", str_sanitize(val, sizeof val, rv->valuestring));
    cJSON_Delete(obj);
}

static void start_reread(struct actions *a);

static void on_dry_run(void *ctx, const struct kube_result *res)
{
    struct actions *a;
    struct run *r = act_pending_take(ctx, ACT_ST_DRY_RUN, &a);
    if (!r)
        return;
    struct act_change *c = &r->change;
    r->status = res->status;
    const char *k = act_key_name(a, c->kind);
    if (res->refused) {
        act_answer_add(r, "refused before sending: %s", res->message);
        act_run_finish(a, ACT_ST_REJECTED, true, "%s: %s", k, res->message);
    } else if (res->status >= 200 && res->status < 300) {
        act_answer_add(
            r, "HTTP %ld: the server accepts it (dryRun=All, nothing stored); it would give:",
            res->status);
        answer_values(r, c, res->body, res->body_len);
        r->state = ACT_ST_CONFIRM;
        a->version++;
    } else if (res->status == 409) {
        act_answer_add(r, "HTTP 409: %s", res->message);
        start_reread(a);
    } else {
        if (res->status == 403)
            act_perm_learn(a, c, res->message);
        act_answer_add(r, "HTTP %ld: %s", res->status, res->message);
        act_answer_add(r, "nothing was applied");
        act_run_finish(a, ACT_ST_REJECTED, true, "%s: the dry run was rejected: %s", k,
                       res->message);
    }
}

static void log_write(struct actions *a, const struct act_change *c, const char *result)
{
    struct act_log_entry e = {
        .time = act_now(a), .context = a->context, .user = a->user, .change = c, .result = result};
    struct idw_err err = {{0}};
    if (act_log_append(a->log_path, &e, &err) != 0 && a->run)
        act_answer_add(a->run, "action log: %s", err.msg);
}

static void undo_push(struct actions *a, struct act_change *c)
{
    if (a->n_undo == ACT_UNDO_MAX) {
        act_change_free(&a->undo[0]);
        memmove(a->undo, a->undo + 1, --a->n_undo * sizeof *a->undo);
    }
    a->undo = xrealloc(a->undo, (a->n_undo + 1) * sizeof *a->undo);
    a->undo[a->n_undo++] = *c;
    memset(c, 0, sizeof *c);
}

/* After an applied step: the next step of M, or done. */
static void step_done(struct actions *a, const char *what)
{
    struct run *r = a->run;
    if (r->migrate && r->pos + 1 < r->n_plan) {
        act_note_add(r, "%s done: %s", act_key_name(a, r->kind), what);
        r->pos++;
        act_start_step(a);
        return;
    }
    if (r->migrate)
        act_run_finish(a, ACT_ST_DONE, false, "%s: %zu step%s done; last: %s",
                       act_key_name(a, ACTION_MIGRATE), r->n_plan, r->n_plan > 1 ? "s" : "", what);
    else
        act_run_finish(a, ACT_ST_DONE, false, "%s", what);
}

static void applied(struct actions *a, struct run *r, const char *body, size_t len)
{
    struct act_change *c = &r->change;
    log_write(a, c, "applied");
    r->n_applied++;
    char what[IDW_ERR_MAX];
    snprintf(what, sizeof what, "%s applied: %s (%s)", act_key_name(a, c->kind), c->object,
             c->kind == ACTION_UNDO ? "undone" : act_name(c->kind));
    bool kube = c->target == ACT_TARGET_KUBE;
    if (kube)
        act_fresh_put(a, c->path, c->service_account, c->wkind, c->ns, c->name, r->sent_older,
                      r->n_sent_older, body, len);
    else
        a->azure_stale = true; /* no watch on Azure: the app reloads it */
    act_answer_add(r, "applied%s",
                   kube ? "; the row updates from the watch" : "; Azure is read again for the row");
    if (c->kind == ACTION_UNDO) {
        if (a->n_undo)
            act_change_free(&a->undo[--a->n_undo]);
    } else {
        undo_push(a, c); /* c is empty from here */
        r->have_change = false;
    }
    step_done(a, what);
}

static void on_apply(void *ctx, const struct kube_result *res)
{
    struct actions *a;
    struct run *r = act_pending_take(ctx, ACT_ST_APPLYING, &a);
    if (!r)
        return;
    struct act_change *c = &r->change;
    r->status = res->status;
    const char *k = act_key_name(a, c->kind);
    strv_free(&r->answer, &r->n_answer);
    if (res->status >= 200 && res->status < 300 && !res->refused) {
        act_answer_add(r, "HTTP %ld", res->status);
        applied(a, r, res->body, res->body_len);
        return;
    }
    char result[IDW_ERR_MAX + 32];
    snprintf(result, sizeof result, "failed: %s", res->message[0] ? res->message : "no answer");
    log_write(a, c, result);
    act_answer_add(r, "HTTP %ld: %s", res->status, res->message);
    if (res->status == 409) {
        start_reread(a);
        return;
    }
    if (res->status == 403)
        act_perm_learn(a, c, res->message);
    act_run_finish(a, ACT_ST_FAILED, true, "%s failed: %s", k, res->message);
}

static void on_fic(void *ctx, int rc, const struct idw_err *e)
{
    struct actions *a;
    struct run *r = act_pending_take(ctx, ACT_ST_APPLYING, &a);
    if (!r)
        return;
    strv_free(&r->answer, &r->n_answer);
    if (rc == 0) {
        applied(a, r, NULL, 0);
        return;
    }
    const char *msg = e && e->msg[0] ? e->msg : "failed";
    char result[IDW_ERR_MAX + 32];
    snprintf(result, sizeof result, "failed: %s", msg);
    log_write(a, &r->change, result);
    act_answer_add(r, "%s", msg);
    /* azure_fic_create reports no HTTP code: ARM's error code tells a 403 */
    if (strstr(msg, "AuthorizationFailed") || strstr(msg, "HTTP 403") ||
        strstr(msg, "LinkedAuthorizationFailed"))
        act_perm_learn(a, &r->change, msg);
    act_run_finish(a, ACT_ST_FAILED, true, "%s failed: %s", act_key_name(a, r->change.kind), msg);
}

void act_send_apply(struct actions *a)
{
    struct run *r = a->run;
    struct act_change *c = &r->change;
    r->state = ACT_ST_APPLYING;
    a->version++;
    struct idw_err err = {{0}};
    int rc;
    if (c->target == ACT_TARGET_ARM) {
        if (!a->cfg.io.fic_put) {
            rc = idw_err_set(&err, "Azure is not available (no credentials or --no-azure)");
        } else {
            struct azure_fic_spec spec = {.identity_arm_id = c->identity_arm_id,
                                          .name = c->fic_name,
                                          .issuer = c->issuer,
                                          .subject = c->subject,
                                          .audience = c->audience};
            struct pending *p = act_pending_new(a, REQ_FIC);
            rc = a->cfg.io.fic_put(a->cfg.io.ctx, &spec, on_fic, p, &err);
            if (rc != 0)
                act_pending_done(p);
        }
    } else {
        act_fresh_sent_older(a, r, c->path, c->service_account, c->wkind, c->ns, c->name);
        struct pending *p = act_pending_new(a, REQ_APPLY);
        rc = a->cfg.io.patch(a->cfg.io.ctx, c->path, c->patch_type, c->body, false, on_apply, p,
                             &err);
        if (rc != 0)
            act_pending_done(p);
    }
    if (rc != 0 && a->run == r && r->state == ACT_ST_APPLYING)
        act_run_finish(a, ACT_ST_FAILED, true, "%s: not sent: %s", act_key_name(a, c->kind),
                       err.msg);
}

static void on_reread(void *ctx, const struct kube_result *res)
{
    struct actions *a;
    struct run *r = act_pending_take(ctx, ACT_ST_REREAD, &a);
    if (!r)
        return;
    struct act_change *c = &r->change;
    if (res->status != 200) {
        act_answer_add(r, "re-reading %s failed: %s", c->object, res->message);
        act_run_finish(a, ACT_ST_FAILED, true,
                       "%s: conflict, and the object could not be re-read: %s",
                       act_key_name(a, c->kind), res->message);
        return;
    }
    act_fresh_put(a, c->path, c->service_account, c->wkind, c->ns, c->name, r->sent_older,
                  r->n_sent_older, res->body, res->body_len);
    /* the copy just read, or the store when the watch already moved past it */
    struct act_target cur;
    struct idw_err gone = {{0}};
    const struct act_target *t = act_fresh_current(a, c, &cur, &gone) == 0 ? &cur : NULL;
    act_answer_add(r, "%s changed since it was read; now:", c->object);
    for (size_t i = 0; t && i < c->n_edits; i++) {
        const struct act_edit *e = &c->edits[i];
        const struct model_kvlist *l = e->map == ACT_MAP_LABELS ? t->labels : t->annotations;
        const char *v = kv_get(l, e->key);
        char val[256];
        act_answer_add(r, "  %s %s = %s%s%s", e->map == ACT_MAP_LABELS ? "label" : "annotation",
                       e->key, v ? "\"" : "", v ? str_sanitize(val, sizeof val, v) : "(absent)",
                       v ? "\"" : "");
    }
    if (t)
        act_answer_add(r, "  resourceVersion %s (was %s)", t->resource_version,
                       c->resource_version ? c->resource_version : "?");
    act_answer_add(r, "nothing was applied; y builds the change again from this state");
    r->state = ACT_ST_CONFLICT;
    r->result_err = true;
    snprintf(r->result, sizeof r->result, "%s: conflict (the object changed); nothing applied",
             act_key_name(a, c->kind));
    a->version++;
}

static void start_reread(struct actions *a)
{
    struct run *r = a->run;
    r->state = ACT_ST_REREAD;
    a->version++;
    struct act_change *c = &r->change;
    act_fresh_sent_older(a, r, c->path, c->service_account, c->wkind, c->ns, c->name);
    struct pending *p = act_pending_new(a, REQ_GET);
    struct idw_err err = {{0}};
    if (a->cfg.io.get(a->cfg.io.ctx, r->change.path, on_reread, p, &err) != 0) {
        act_pending_done(p);
        act_run_finish(a, ACT_ST_FAILED, true, "%s: conflict; re-read not sent: %s",
                       act_key_name(a, r->change.kind), err.msg);
    }
}
