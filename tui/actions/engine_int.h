/* actions/engine internals: the engine's state, shared by its files (engine.c: lifecycle, runs,
 * starting and keys; engine_send.c: the requests and their answers; engine_fresh.c: the copies
 * of objects the server returned; engine_perm.c: permissions; engine_dialog.c: the identity
 * picker and the dialog's content). Not a contract: only the actions library includes it. */
#ifndef IDWATCH_ACTIONS_ENGINE_INT_H
#define IDWATCH_ACTIONS_ENGINE_INT_H

#include <stdlib.h>

#include "idwatch/actions.h"

#define ACT_SSAR_MAX 512 /* cached answers kept (oldest dropped first) */
#define ACT_UNDO_MAX 64
#define ACT_PICK_MAX 500

/* An object as the server last returned it to us (after our write, or a re-read). It stays in
 * use while the store shows one of the versions known to be older: the one the store showed
 * when the request was sent and, after writes of ours in a row, the versions those wrote (each
 * carried the previous one as its precondition, so nothing came between). Once the store shows
 * anything else, it holds this copy or something later. Comparing with the store's version when
 * the answer arrives would be wrong: the watch may deliver our write and the controllers'
 * updates after it before the answer, and the older copy would then stay in use (409). */
struct fresh {
    char *path;
    bool sa;
    enum model_workload_kind kind;
    char *ns, *name;
    char *rv;
    char **older; /* versions of the object known to be older than rv */
    size_t n_older;
    struct model_kvlist labels, annotations;
    struct act_target t;
};

struct ssar {
    char *key;
    bool pending;
    bool allowed;
    char *reason;
    int64_t at;
};

struct choice {
    char *label;
    char *client_id;
    char *tenant_id;
};

enum req_type { REQ_DRY, REQ_APPLY, REQ_GET, REQ_SSAR, REQ_FIC };

/* The context of one request in flight; freed by its callback (or by actions_free). */
struct pending {
    struct actions *a;
    uint64_t run;
    enum req_type type;
    char *ssar_key;
    struct pending *prev, *next;
};

struct run {
    uint64_t id;
    enum act_state state;
    enum action_id kind;
    bool migrate;
    enum action_id plan[ACT_PLAN_MAX];
    size_t n_plan, pos;
    size_t n_applied;
    enum model_workload_kind wkind;
    char *ns, *name;
    /* a: the identity */
    char *client_id, *tenant_id;
    struct choice *choices;
    size_t n_choices, sel;
    bool typing;
    char typed[64];
    /* the change shown */
    struct act_change change;
    bool have_change;
    long status;
    char **answer;
    size_t n_answer;
    char **notes; /* M: steps skipped, steps done */
    size_t n_notes;
    char result[IDW_ERR_MAX];
    bool result_err;
    char **sent_older; /* when the apply or re-read was sent: versions older than its answer */
    size_t n_sent_older;
};

struct actions {
    struct actions_config cfg;
    char *context, *user, *log_path;
    uint64_t version, next_run;
    struct run *run;
    struct fresh *fresh;
    size_t n_fresh;
    struct ssar *ssar;
    size_t n_ssar;
    /* identities ARM refused us (403) in this run: ARM roles are scoped (an identity, its
     * resource group), so one refusal does not grey f for the others */
    char **arm_denied_id, **arm_denied_why;
    size_t n_arm_denied;
    struct act_change *undo;
    size_t n_undo;
    struct pending *pending;
    struct act_line *lines;
    size_t n_lines, cap_lines;
    char *title, *footer;
    char msg[IDW_ERR_MAX];
    bool msg_err, msg_new;
    bool azure_stale;             /* an ARM write was applied since actions_take_azure_stale */
    char keys[ACTION__COUNT][16]; /* the key of each action, for titles and messages */
};

/* ---- small helpers ---------------------------------------------------------------------- */

static inline int64_t act_now(const struct actions *a)
{
    return a->cfg.now ? a->cfg.now() : time_now();
}

/* The key that names action k in titles and messages: as the user's keymap binds it. */
static inline const char *act_key_name(const struct actions *a, enum action_id k)
{
    return (unsigned)k < ACTION__COUNT ? a->keys[k] : "?";
}

static inline const char *act_name(enum action_id k)
{
    const struct action_info *in = action_info(k);
    return in ? in->name : "?";
}

static inline void strv_add(char ***v, size_t *n, char *s)
{
    *v = xrealloc(*v, (*n + 1) * sizeof **v);
    (*v)[(*n)++] = s;
}

static inline void strv_free(char ***v, size_t *n)
{
    for (size_t i = 0; i < *n; i++)
        free((*v)[i]);
    free(*v);
    *v = NULL;
    *n = 0;
}

/* ---- engine.c: runs ----------------------------------------------------------------------- */

void act_answer_add(struct run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void act_note_add(struct run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Ends the run's exchange in state st with a one-line result (the status line's, on close). */
void act_run_finish(struct actions *a, enum act_state st, bool error, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Closes the dialog: its result becomes the message for the status line. */
void act_run_close(struct actions *a);
const struct check_workload *act_run_workload(const struct actions *a, const struct run *r);
void act_world_of(struct actions *a, struct act_world *wd);
/* Builds the current step and sends its dry run (M: skips the steps that do not apply). */
void act_start_step(struct actions *a);

/* A request in flight: its context, detached (run 0) when the dialog closes. */
struct pending *act_pending_new(struct actions *a, enum req_type type);
void act_pending_done(struct pending *p);
/* The run a callback belongs to, or NULL when that dialog was closed meanwhile. */
struct run *act_pending_run(const struct pending *p);
/* For an answer's callback (ctx: its struct pending, freed here): the run it belongs to when that
 * run still waits for it in state want, else NULL (closed meanwhile, or moved on). *a: the
 * engine. */
struct run *act_pending_take(void *ctx, enum act_state want, struct actions **a);

/* ---- engine_send.c: the requests ---------------------------------------------------------- */

/* Sends the dry run of the built change (ARM: the local checks stand in for it). */
void act_send_dry_run(struct actions *a);
/* Sends the confirmed change. */
void act_send_apply(struct actions *a);

/* ---- engine_fresh.c: copies of objects the server returned -------------------------------- */

/* The fresh copy of the object at path while it is newer than the store's (ctx: the actions). */
const struct act_target *act_fresh_lookup(void *ctx, const char *path);
void act_fresh_put(struct actions *a, const char *path, bool sa, enum model_workload_kind k,
                   const char *ns, const char *name, char *const *older, size_t n_older,
                   const char *body, size_t len);
/* Notes in r the versions of the object at path known to be older than the answer of a request
 * sent now. */
void act_fresh_sent_older(struct actions *a, struct run *r, const char *path, bool sa,
                          enum model_workload_kind k, const char *ns, const char *name);
/* The object an undo record names, as last seen (fresh copy, else the store). */
int act_fresh_current(struct actions *a, const struct act_change *c, struct act_target *t,
                      struct idw_err *err);
void act_fresh_clear(struct actions *a);
const cJSON *act_json_path(const cJSON *o, const char *const *keys);
/* The metadata object that the edits of this kind of target apply to. */
const cJSON *act_edit_meta(const cJSON *obj, bool sa, enum model_workload_kind k);

/* ---- engine_perm.c: permissions ----------------------------------------------------------- */

/* A 403 on a write teaches the same as a denied SSAR. */
void act_perm_learn(struct actions *a, const struct act_change *c, const char *msg);
/* Forgets the SSAR answers and ARM refusals. */
void act_perm_clear(struct actions *a);

/* ---- engine_dialog.c: picker and dialog --------------------------------------------------- */

void act_picker_open(struct actions *a, const struct check_workload *w);
/* A key in the picker. Returns 1 while the dialog stays open. */
int act_picker_key(struct actions *a, int key);
void act_lines_clear(struct actions *a);

#endif
