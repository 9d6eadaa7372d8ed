/* actions: the writes that migrate a workload (the mutating rows of the action table, action.h:
 * LABEL_WI ANNOTATE_SA CREATE_FIC REMOVE_PI PROXY_ON PROXY_OFF RESTART, MIGRATE and UNDO).
 *
 * Every action is a small state machine, with no curses in it:
 *
 *     build -> [pick identity (a)] -> dry-run (dryRun=All) -> confirm (y) -> apply -> log -> done
 *                                          |                       |
 *                                     rejected: shown,        409: re-read, the new state shown;
 *                                     nothing applied         y builds again from it (never blind)
 *
 * Changes are minimal JSON merge patches carrying metadata.resourceVersion as the precondition,
 * built from the store (or from the object the server last returned to us, which is newer).
 * An applied change keeps an undo record (the exact previous values; keys that were absent are
 * removed again). `f` is an ARM PUT (no dry run in ARM: it is checked locally — name rule,
 * 20-per-identity limit, issuer+subject unique — and again by azure_fic_create with a fresh list).
 * The I/O goes through struct actions_io, so tests plug in a fake transport.
 */
#ifndef IDWATCH_ACTIONS_H
#define IDWATCH_ACTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "idwatch/action.h"
#include "idwatch/azure.h"
#include "idwatch/check.h"
#include "idwatch/core.h"
#include "idwatch/kube.h"
#include "idwatch/model.h"
#include "idwatch/store.h"

/* ---- pure builders (unit-tested) -------------------------------------------------------- */

#define ACT_FIC_NAME_MAX 120

/* The federated credential name `<cluster>-ServiceAccount-<ns>-<sa>`, fitted to
 * ^[a-zA-Z0-9][a-zA-Z0-9-_]{2,119}$: other bytes become '-', leading non-alphanumerics go, and
 * a name longer than 120 keeps its first 111 bytes plus '-' and 8 hex digits of a hash of the
 * whole name (so two long names stay distinct). cluster may be NULL or "". */
void act_fic_name(const char *cluster, const char *ns, const char *sa,
                  char out[ACT_FIC_NAME_MAX + 1]);

/* A client id as Entra writes it: 8-4-4-4-12 hex digits. */
bool act_client_id_valid(const char *s);

enum act_map { ACT_MAP_LABELS, ACT_MAP_ANNOTATIONS };

/* One key of a labels/annotations map that a change sets (value) or removes (value NULL), with
 * what was there before (old NULL = absent): enough to build the exact inverse. */
struct act_edit {
    enum act_map map;
    char *key;
    char *value;
    char *old;
};

/* The object a Kubernetes change patches, as last seen. Workloads are changed on their pod
 * template (CronJob: spec.jobTemplate.spec.template), service accounts and bare pods on their
 * own metadata. */
struct act_target {
    bool service_account; /* else a workload of kind `kind` */
    enum model_workload_kind kind;
    const char *ns;
    const char *name;
    const char *resource_version;      /* NULL: no precondition */
    const struct model_kvlist *labels; /* where the edits apply (template or metadata) */
    const struct model_kvlist *annotations;
};

/* "/apis/apps/v1/namespaces/ns/deployments/web", "/api/v1/namespaces/ns/serviceaccounts/sa". */
char *act_object_path(const struct act_target *t);
/* "Deployment payments/web", "ServiceAccount payments/api". */
char *act_object_name(const struct act_target *t);
/* The merge patch of edits at the target's path, with metadata.resourceVersion first when the
 * target has one. xmalloc'd. */
char *act_merge_patch(const struct act_target *t, const struct act_edit *edits, size_t n);

enum act_target_type { ACT_TARGET_KUBE, ACT_TARGET_ARM };

/* A change, exactly as shown, dry-run, applied and logged. */
struct act_change {
    enum action_id kind; /* UNDO: the inverse of undo_of */
    enum action_id undo_of;
    enum act_target_type target;
    char *object; /* "Deployment payments/web" or "federated credential N on identity I" */
    /* Kubernetes */
    char *path;
    bool service_account;
    enum model_workload_kind wkind;
    char *ns, *name;
    char *resource_version; /* the precondition sent, or NULL */
    enum kube_patch_type patch_type;
    char *body;
    struct act_edit *edits;
    size_t n_edits;
    /* ARM (create FIC) */
    char *identity_arm_id;
    char *identity_name;
    char *fic_name;
    char *issuer;
    char *subject;
    char *audience;
    size_t fic_count; /* credentials the identity had when we looked */
    bool fics_listed; /* whether they were listed at all (else fic_count is 0) */
    char **warnings;  /* shown in the dialog before the confirmation */
    size_t n_warnings;
};
void act_change_free(struct act_change *c); /* members only */
void act_change_warn(struct act_change *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Inputs of a build: the world as seen, and what the user chose. */
struct act_world {
    const struct store *store;
    const char *issuer;       /* the cluster's OIDC issuer, exactly (NULL: unknown) */
    const char *cluster_name; /* for FIC names (NULL: none) */
    int64_t now;              /* for restartedAt */
    int64_t window_seconds;   /* NMI window, for the p warning text */
    /* Fresher copies of objects (what the server returned after our own writes or a re-read);
     * may be NULL. Return NULL when the copy is not known. */
    const struct act_target *(*fresh)(void *ctx, const char *path);
    void *fresh_ctx;
};

struct act_params {
    const char *client_id;       /* a: the identity's client id (picked or typed) */
    const char *tenant_id;       /* a: optional tenant id annotation */
    const char *identity_arm_id; /* f: NULL = the identity whose client id the SA names */
};

/* Builds the minimal change of action k (a remedy row of the action table) for workload w.
 * Refuses (-1, one line saying why) when it does not apply: nothing to change, a bare Pod, p
 * while workload identity is not healthy, f on an identity that already has 20 credentials, an
 * action that is not one change (MIGRATE, UNDO: built with act_build_undo), ... */
int act_build(enum action_id k, const struct act_world *world, const struct check_workload *w,
              const struct act_params *p, struct act_change *out, struct idw_err *err);

/* The inverse of an applied Kubernetes change against the object as it is now (now may carry
 * the current resourceVersion): every edited key back to its old value, or removed when it was
 * absent. A key someone else changed since is restored all the same, with a warning. ARM changes
 * have no inverse here (-1: delete the credential with az). */
int act_build_undo(const struct act_change *applied, const struct act_target *now,
                   struct act_change *out, struct idw_err *err);

/* The steps of M still missing for w, in the order that works: a (client id), f (credential),
 * w (label: the rollout then injects with the annotated SA), R (only when labelled but pods are
 * not injected), p (only when workload identity is already healthy). Returns the count. */
#define ACT_PLAN_MAX 6
size_t act_migrate_plan(const struct check_workload *w, enum action_id out[ACT_PLAN_MAX]);

/* Whether workload identity is healthy for w (the condition for offering p). */
bool act_wi_healthy(const struct check_workload *w, const char **why);

/* ---- the action log ---------------------------------------------------------------------- */

struct act_log_entry {
    int64_t time;
    const char *context;
    const char *user;
    const struct act_change *change;
    const char *result; /* "applied", or "failed: <reason>" */
};

/* $XDG_STATE_HOME/idwatch/actions.log (default ~/.local/state/idwatch/actions.log); xmalloc'd,
 * NULL when neither XDG_STATE_HOME nor HOME is set. */
char *act_log_default_path(void);
/* Appends one JSON line {"time","context","user","object","change","result"} (no credentials:
 * the change is the patch or FIC spec), creating the directories (0700) and the file (0600),
 * and fsyncs it. */
int act_log_append(const char *path, const struct act_log_entry *e, struct idw_err *err);

/* ---- the engine -------------------------------------------------------------------------- */

/* The transport: Kubernetes PATCH/GET/SSAR and the ARM credential PUT. Callbacks may come later
 * from the loop, or (fakes) during the call. */
struct actions_io {
    void *ctx;
    int (*patch)(void *ctx, const char *path, enum kube_patch_type type, const char *body,
                 bool dry_run, kube_result_fn fn, void *arg, struct idw_err *err);
    int (*get)(void *ctx, const char *path, kube_result_fn fn, void *arg, struct idw_err *err);
    int (*ssar)(void *ctx, const char *verb, const char *group, const char *resource,
                const char *ns, const char *name, kube_ssar_fn fn, void *arg, struct idw_err *err);
    int (*fic_put)(void *ctx, const struct azure_fic_spec *spec, azure_fic_done fn, void *arg,
                   struct idw_err *err);
};

struct actions_config {
    const struct store *store;
    const struct check_result *checks;
    const char *context;      /* kubeconfig context, for the log */
    const char *user;         /* kubeconfig user name, for the log */
    const char *cluster_name; /* for FIC names; NULL: the ARM cluster name from the store */
    const char *log_path;     /* NULL: act_log_default_path() */
    bool read_only;           /* every action refuses (the net guard would refuse anyway) */
    int64_t ssar_ttl;         /* seconds an SSAR answer is cached; 0 = 300 */
    int64_t window_seconds;   /* NMI window; 0 = 3600 */
    int64_t (*now)(void);     /* NULL = time_now() */
    /* The key the user presses for an action ("w"), for dialog titles and messages: the view's
     * binding. NULL: the action table's default key. Asked once, in actions_new. */
    void (*key_name)(void *ctx, enum action_id a, char out[16]);
    void *key_ctx;
    struct actions_io io;
};

#define ACT_STATES(X)                                                                              \
    X(IDLE, "idle")                                                                                \
    X(PICK, "pick")         /* a: choose the identity (list or typed client id) */                 \
    X(DRY_RUN, "dry-run")   /* waiting for the server's dry-run answer */                          \
    X(CONFIRM, "confirm")   /* dry run accepted: y applies, n/Esc cancels */                       \
    X(REJECTED, "rejected") /* dry run refused: shown, nothing applied */                          \
    X(APPLYING, "applying")                                                                        \
    X(REREAD, "re-reading") /* 409: fetching the object again */                                   \
    X(CONFLICT, "conflict") /* the new state is shown; y builds again from it */                   \
    X(DONE, "done")                                                                                \
    X(FAILED, "failed")

enum act_state {
#define X(id, name) ACT_ST_##id,
    ACT_STATES(X)
#undef X
        ACT_ST__COUNT
};
const char *act_state_name(enum act_state s);

/* Keys the engine understands: printable ASCII, and these (the app maps curses codes). */
enum {
    ACT_KEY_ENTER = '\n',
    ACT_KEY_ESC = 27,
    ACT_KEY_BACKSPACE = 127,
    ACT_KEY_UP = 0x101,
    ACT_KEY_DOWN = 0x102,
    ACT_KEY_TAB = '\t',
};

/* A line of the dialog, for the view to draw. */
#define ACT_STYLES(X)                                                                              \
    X(TEXT)                                                                                        \
    X(HEAD) /* a section heading */                                                                \
    X(CODE) /* the patch body, exactly */                                                          \
    X(OK)                                                                                          \
    X(WARN)                                                                                        \
    X(ERR)                                                                                         \
    X(DIM)                                                                                         \
    X(CHOICE)   /* a picker row */                                                                 \
    X(SELECTED) /* the picker's current row */                                                     \
    X(INPUT)    /* the typed field */

enum act_style {
#define X(id) ACT_STYLE_##id,
    ACT_STYLES(X)
#undef X
};

struct act_line {
    enum act_style style;
    char *text;
};

struct actions;

int actions_new(const struct actions_config *cfg, struct actions **out, struct idw_err *err);
/* Free only when no transport callback can come any more (after kube_client_free/azure_free):
 * outstanding requests' contexts are freed here. */
void actions_free(struct actions *a);

/* Points the engine at new data (context switch); clears the SSAR cache and the undo stack. */
void actions_set_source(struct actions *a, const struct store *s, const struct check_result *r,
                        const char *context, const char *user);

/* Action k (a mutating row of the action table) on workload w (NULL allowed for UNDO). Opens
 * the dialog (and starts the dry run when there is nothing to pick), or returns -1 with a
 * one-line reason for the status line (read-only, refused by the build, another action is open,
 * no permission, not an action that changes the cluster). */
int actions_start(struct actions *a, enum action_id k, const struct check_workload *w,
                  struct idw_err *err);
/* A key while the dialog is open. Returns 1 while it stays open, 0 when it closed. */
int actions_key(struct actions *a, int key);
bool actions_open(const struct actions *a);
enum act_state actions_state(const struct actions *a);
/* The change currently shown (NULL in IDLE/PICK). */
const struct act_change *actions_change(const struct actions *a);

/* The dialog: a title (danger = the confirmation of a write), its lines and the key hints.
 * Valid until the next call into the engine. */
struct act_view {
    const char *title;
    bool danger;
    const struct act_line *lines;
    size_t n_lines;
    const char *footer;
};
void actions_view(struct actions *a, struct act_view *out);

/* The outcome of the last closed dialog, once, for the status line ("" when none). */
const char *actions_take_message(struct actions *a, bool *error);

/* True once after an Azure write (f) was applied: Azure has no watch, so the app reads it again
 * (from its loop, not from inside a transport callback) for the row to show the credential. */
bool actions_take_azure_stale(struct actions *a);

/* Bumped by every change of state (answers, SSAR results): redraw when it moved. 0 for NULL. */
uint64_t actions_version(const struct actions *a);

/* Whether action k may be offered for w: false with *why (greyed, with the reason) when
 * read-only, when a cached SelfSubjectAccessReview said no, when a write of this kind got 403, or
 * (CREATE_FIC, and MIGRATE when it would create one) when ARM refused a write with 403. An
 * unknown answer starts an SSAR and counts as allowed until it comes. */
bool actions_allowed(struct actions *a, enum action_id k, const struct check_workload *w,
                     const char **why);

/* Applied changes of this run that undo can still revert (most recent last). */
size_t actions_undo_depth(const struct actions *a);

#endif
