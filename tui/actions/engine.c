/* actions/engine: the state machine of one open action (or an M sequence) and the undo stack:
 * lifecycle, starting a run and the keys of an open dialog. The requests are in engine_send.c,
 * the copies of objects in engine_fresh.c, permissions in engine_perm.c, the dialog's content in
 * engine_dialog.c. No curses, no network of its own: everything goes through struct actions_io. */
#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine_int.h"

static const char *const state_names[ACT_ST__COUNT] = {
#define X(id, name) name,
    ACT_STATES(X)
#undef X
};

const char *act_state_name(enum act_state s)
{
    return (unsigned)s < ACT_ST__COUNT ? state_names[s] : "?";
}

void act_answer_add(struct run *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    strv_add(&r->answer, &r->n_answer, xvasprintf(fmt, ap));
    va_end(ap);
}

void act_note_add(struct run *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    strv_add(&r->notes, &r->n_notes, xvasprintf(fmt, ap));
    va_end(ap);
}

static void run_free(struct run *r)
{
    if (!r)
        return;
    free(r->ns);
    free(r->name);
    free(r->client_id);
    free(r->tenant_id);
    for (size_t i = 0; i < r->n_choices; i++) {
        free(r->choices[i].label);
        free(r->choices[i].client_id);
        free(r->choices[i].tenant_id);
    }
    free(r->choices);
    act_change_free(&r->change);
    strv_free(&r->answer, &r->n_answer);
    strv_free(&r->notes, &r->n_notes);
    strv_free(&r->sent_older, &r->n_sent_older);
    free(r);
}

static void undo_clear(struct actions *a)
{
    for (size_t i = 0; i < a->n_undo; i++)
        act_change_free(&a->undo[i]);
    free(a->undo);
    a->undo = NULL;
    a->n_undo = 0;
}

struct pending *act_pending_new(struct actions *a, enum req_type type)
{
    struct pending *p = xcalloc(1, sizeof *p);
    p->a = a;
    p->run = a->run ? a->run->id : 0;
    p->type = type;
    p->next = a->pending;
    if (a->pending)
        a->pending->prev = p;
    a->pending = p;
    return p;
}

void act_pending_done(struct pending *p)
{
    if (p->a) {
        if (p->prev)
            p->prev->next = p->next;
        else
            p->a->pending = p->next;
        if (p->next)
            p->next->prev = p->prev;
    }
    free(p->ssar_key);
    free(p);
}

/* The run a callback belongs to, or NULL when that dialog was closed meanwhile. */
struct run *act_pending_run(const struct pending *p)
{
    return p->a && p->a->run && p->a->run->id == p->run ? p->a->run : NULL;
}

struct run *act_pending_take(void *ctx, enum act_state want, struct actions **a)
{
    struct pending *p = ctx;
    *a = p->a;
    struct run *r = act_pending_run(p);
    act_pending_done(p);
    return r && r->state == want ? r : NULL;
}

/* ---- lifecycle ---------------------------------------------------------------------------- */

int actions_new(const struct actions_config *cfg, struct actions **out, struct idw_err *err)
{
    *out = NULL;
    if (!cfg->io.patch || !cfg->io.get)
        return idw_err_set(err, "actions need a transport (patch and get)");
    struct actions *a = xcalloc(1, sizeof *a);
    a->cfg = *cfg;
    a->context = xstrdup(cfg->context);
    a->user = xstrdup(cfg->user);
    a->log_path = cfg->log_path ? xstrdup(cfg->log_path) : act_log_default_path();
    a->cfg.context = a->context;
    a->cfg.user = a->user;
    a->cfg.log_path = a->log_path;
    a->cfg.cluster_name = NULL;
    if (cfg->cluster_name)
        a->cfg.cluster_name = xstrdup(cfg->cluster_name);
    for (int k = ACTION_NONE + 1; k < ACTION__COUNT; k++) {
        if (cfg->key_name)
            cfg->key_name(cfg->key_ctx, (enum action_id)k, a->keys[k]);
        else
            action_default_key((enum action_id)k, a->keys[k]);
        if (!a->keys[k][0]) /* unbound: the action's name stands for it */
            snprintf(a->keys[k], sizeof a->keys[k], "%s", action_info((enum action_id)k)->id);
    }
    a->next_run = 1;
    *out = a;
    return 0;
}

void actions_free(struct actions *a)
{
    if (!a)
        return;
    while (a->pending) {
        struct pending *p = a->pending;
        a->pending = p->next;
        free(p->ssar_key);
        free(p);
    }
    run_free(a->run);
    act_fresh_clear(a);
    act_perm_clear(a);
    undo_clear(a);
    act_lines_clear(a);
    free(a->lines);
    free(a->title);
    free(a->footer);
    free(a->context);
    free(a->user);
    free(a->log_path);
    free((char *)a->cfg.cluster_name);
    free(a);
}

void actions_set_source(struct actions *a, const struct store *s, const struct check_result *r,
                        const char *context, const char *user)
{
    a->cfg.store = s;
    a->cfg.checks = r;
    free(a->context);
    free(a->user);
    a->context = xstrdup(context);
    a->user = xstrdup(user);
    a->cfg.context = a->context;
    a->cfg.user = a->user;
    run_free(a->run);
    a->run = NULL;
    /* answers in flight belong to the old cluster: detach them */
    for (struct pending *p = a->pending; p; p = p->next)
        p->run = 0;
    act_fresh_clear(a);
    act_perm_clear(a);
    undo_clear(a);
    a->version++;
}

bool actions_open(const struct actions *a)
{
    return a->run != NULL;
}

enum act_state actions_state(const struct actions *a)
{
    return a->run ? a->run->state : ACT_ST_IDLE;
}

const struct act_change *actions_change(const struct actions *a)
{
    return a->run && a->run->have_change ? &a->run->change : NULL;
}

uint64_t actions_version(const struct actions *a)
{
    return a ? a->version : 0;
}

size_t actions_undo_depth(const struct actions *a)
{
    return a->n_undo;
}

const char *actions_take_message(struct actions *a, bool *error)
{
    if (error)
        *error = a->msg_err;
    if (!a->msg_new)
        return "";
    a->msg_new = false;
    return a->msg;
}

bool actions_take_azure_stale(struct actions *a)
{
    bool s = a && a->azure_stale;
    if (a)
        a->azure_stale = false;
    return s;
}

/* ---- the steps --------------------------------------------------------------------------------
 */

const struct check_workload *act_run_workload(const struct actions *a, const struct run *r)
{
    return a->cfg.checks && r->name ? check_find(a->cfg.checks, r->wkind, r->ns, r->name) : NULL;
}

void act_world_of(struct actions *a, struct act_world *wd)
{
    const struct model_azure *az = a->cfg.store ? store_azure(a->cfg.store) : NULL;
    memset(wd, 0, sizeof *wd);
    wd->store = a->cfg.store;
    wd->issuer = a->cfg.checks ? a->cfg.checks->cluster.oidc_issuer : NULL;
    wd->cluster_name = a->cfg.cluster_name ? a->cfg.cluster_name : az ? az->cluster_name : NULL;
    wd->now = act_now(a);
    wd->window_seconds = a->cfg.window_seconds;
    wd->fresh = act_fresh_lookup;
    wd->fresh_ctx = a;
}

void act_run_finish(struct actions *a, enum act_state st, bool error, const char *fmt, ...)
{
    struct run *r = a->run;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->result, sizeof r->result, fmt, ap);
    va_end(ap);
    r->result_err = error;
    r->state = st;
    a->version++;
}

void act_run_close(struct actions *a)
{
    struct run *r = a->run;
    if (!r)
        return;
    if (r->result[0]) {
        snprintf(a->msg, sizeof a->msg, "%s", r->result);
        a->msg_err = r->result_err;
    } else if (r->n_applied) {
        snprintf(a->msg, sizeof a->msg, "%s: stopped after %zu applied step%s",
                 act_key_name(a, ACTION_MIGRATE), r->n_applied, r->n_applied > 1 ? "s" : "");
    } else {
        snprintf(a->msg, sizeof a->msg, "%s: cancelled, nothing was applied",
                 act_key_name(a, r->kind));
        a->msg_err = false;
    }
    a->msg_new = true;
    run_free(r);
    a->run = NULL;
    a->version++;
}

/* ---- starting ------------------------------------------------------------------------------- */

/* Builds the current step and sends its dry run; in M a step that does not apply is skipped
 * with its reason. */
void act_start_step(struct actions *a)
{
    struct run *r = a->run;
    for (;;) {
        if (r->migrate)
            r->kind = r->plan[r->pos];
        const struct check_workload *w = act_run_workload(a, r);
        if (!w) {
            act_run_finish(a, ACT_ST_FAILED, true, "%s/%s is gone", r->ns, r->name);
            return;
        }
        if (r->kind == ACTION_ANNOTATE_SA && !r->client_id) {
            act_picker_open(a, w);
            return;
        }
        act_change_free(&r->change);
        r->have_change = false;
        struct act_world wd;
        act_world_of(a, &wd);
        struct act_params prm = {.client_id = r->client_id, .tenant_id = r->tenant_id};
        struct idw_err err = {{0}};
        if (act_build(r->kind, &wd, w, &prm, &r->change, &err) == 0) {
            r->have_change = true;
            act_send_dry_run(a);
            return;
        }
        if (!r->migrate) {
            act_run_finish(a, ACT_ST_FAILED, true, "%s: %s", act_key_name(a, r->kind), err.msg);
            return;
        }
        act_note_add(r, "%s skipped: %s", act_key_name(a, r->kind), err.msg);
        if (++r->pos >= r->n_plan) {
            act_run_finish(a, ACT_ST_DONE, false, "%s: nothing more to apply (%s)",
                           act_key_name(a, ACTION_MIGRATE), err.msg);
            return;
        }
    }
}

static struct run *run_new(struct actions *a, enum action_id k, const struct check_workload *w)
{
    struct run *r = xcalloc(1, sizeof *r);
    r->id = a->next_run++;
    r->kind = k;
    if (w) {
        r->wkind = w->kind;
        r->ns = xstrdup(w->namespace_);
        r->name = xstrdup(w->name);
    }
    a->run = r;
    return r;
}

static int start_undo(struct actions *a, struct idw_err *err)
{
    if (!a->n_undo)
        return idw_err_set(err, "nothing to undo: no change was applied in this session");
    struct act_change *rec = &a->undo[a->n_undo - 1];
    struct act_target now;
    struct act_change inv;
    if (rec->target == ACT_TARGET_ARM) {
        act_build_undo(rec, NULL, &inv, err);
        act_change_free(&a->undo[--a->n_undo]); /* the next u reverts the change before it */
        return -1;
    }
    if (act_fresh_current(a, rec, &now, err) != 0 || act_build_undo(rec, &now, &inv, err) != 0)
        return -1;
    struct run *r = run_new(a, ACTION_UNDO, NULL);
    r->change = inv;
    r->have_change = true;
    act_send_dry_run(a);
    return 0;
}

/* M: the plan's missing steps, one after the other. */
static int start_migrate(struct actions *a, const struct check_workload *w, struct idw_err *err)
{
    enum action_id plan[ACT_PLAN_MAX];
    size_t n = act_migrate_plan(w, plan);
    if (!n) {
        const char *h = NULL;
        bool healthy = act_wi_healthy(w, &h);
        return idw_err_set(err, "%s: nothing left to migrate for %s/%s%s%s",
                           act_key_name(a, ACTION_MIGRATE), w->namespace_, w->name,
                           healthy ? "" : " that idwatch can apply (", healthy ? "" : h);
    }
    struct run *r = run_new(a, plan[0], w);
    r->migrate = true;
    memcpy(r->plan, plan, sizeof plan);
    r->n_plan = n;
    act_start_step(a);
    return 0;
}

int actions_start(struct actions *a, enum action_id k, const struct check_workload *w,
                  struct idw_err *err)
{
    const struct action_info *in = action_info(k);
    if (!in || !in->mutates)
        return idw_err_set(err, "%s does not change the cluster", in ? in->name : "no action");
    const char *key = act_key_name(a, k);
    if (a->cfg.read_only)
        return idw_err_set(err, "%s: disabled in read-only mode (--read-only)", key);
    if (a->run)
        return idw_err_set(err, "finish the open dialog first");
    const char *why = NULL;
    if (!actions_allowed(a, k, w, &why))
        return idw_err_set(err, "%s: %s", key, why);
    if (k == ACTION_UNDO)
        return start_undo(a, err);
    if (!w)
        return idw_err_set(err, "%s: select a workload first", key);
    if (k == ACTION_MIGRATE)
        return start_migrate(a, w, err);
    if (k == ACTION_ANNOTATE_SA) { /* the identity is picked first */
        run_new(a, k, w);
        act_start_step(a);
        return 0;
    }
    /* refusals of a single action go to the status line, without a dialog */
    struct act_world wd;
    act_world_of(a, &wd);
    struct act_change probe;
    if (act_build(k, &wd, w, NULL, &probe, err) != 0)
        return -1;
    struct run *r = run_new(a, k, w);
    r->change = probe;
    r->have_change = true;
    act_send_dry_run(a);
    return 0;
}

/* ---- keys ----------------------------------------------------------------------------------- */

/* The confirmation of a built change: y applies, s skips an M step, n/Esc cancels. */
static void confirm_key(struct actions *a, int key, bool cancel)
{
    struct run *r = a->run;
    if (key == 'y' || key == 'Y') {
        act_send_apply(a);
    } else if (key == 's' && r->migrate) {
        act_note_add(r, "%s skipped by you", act_key_name(a, r->kind));
        if (r->kind == ACTION_ANNOTATE_SA) { /* the SA does not name it: later steps must not */
            free(r->client_id);
            r->client_id = NULL;
        }
        if (++r->pos < r->n_plan)
            act_start_step(a);
        else
            act_run_finish(a, ACT_ST_DONE, false, "%s: done (last step skipped)",
                           act_key_name(a, ACTION_MIGRATE));
    } else if (cancel) {
        act_run_close(a);
    }
}

/* After a 409: y builds the change again from the state just read, n/Esc cancels. */
static void conflict_key(struct actions *a, int key, bool cancel)
{
    struct run *r = a->run;
    if (cancel) {
        act_run_close(a);
        return;
    }
    if (key != 'y' && key != 'Y')
        return;
    if (r->change.kind != ACTION_UNDO) {
        r->result[0] = '\0';
        act_start_step(a);
        return;
    }
    /* build the inverse again, against the object as it is now */
    struct act_change *rec = a->n_undo ? &a->undo[a->n_undo - 1] : NULL;
    struct act_target now;
    struct act_change inv;
    struct idw_err err = {{0}};
    if (!rec || act_fresh_current(a, rec, &now, &err) != 0 ||
        act_build_undo(rec, &now, &inv, &err) != 0) {
        act_run_finish(a, ACT_ST_FAILED, true, "%s: %s", act_key_name(a, ACTION_UNDO),
                       err.msg[0] ? err.msg : "no record");
        return;
    }
    act_change_free(&r->change);
    r->change = inv;
    act_send_dry_run(a);
}

int actions_key(struct actions *a, int key)
{
    struct run *r = a->run;
    if (!r)
        return 0;
    bool cancel = key == ACT_KEY_ESC || key == 'n' || key == 'q';
    switch (r->state) {
    case ACT_ST_PICK: return act_picker_key(a, key);
    case ACT_ST_CONFIRM: confirm_key(a, key, cancel); break;
    case ACT_ST_CONFLICT: conflict_key(a, key, cancel); break;
    case ACT_ST_DRY_RUN:
    case ACT_ST_REREAD:
        if (cancel)
            act_run_close(a); /* the answer, when it comes, is dropped */
        break;
    case ACT_ST_APPLYING: break; /* the outcome must be seen and logged */
    case ACT_ST_REJECTED:
    case ACT_ST_DONE:
    case ACT_ST_FAILED:
    case ACT_ST_IDLE:
        if (cancel || key == ACT_KEY_ENTER || key == '\r' || key == 'y' || key == ' ')
            act_run_close(a);
        break;
    default: break;
    }
    a->version++;
    return a->run ? 1 : 0;
}
