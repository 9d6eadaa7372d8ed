/* view: the dashboard screens (main table + activity pane, detail, help, pickers), key handling
 * and drawing. State machine in the manner of ncdu; every key goes through the keymap table. */
#include "idwatch/view.h"

#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "idwatch/dialog.h"
#include "idwatch/spark.h"
#include "idwatch/term.h"
#include "idwatch/theme.h"
#include "idwatch/wtable.h"

#define VIEW_MIN_COLS 80
#define VIEW_MIN_LINES 24
#define VIEW_SPARK_MAX 64
#define VIEW_LOG_MAX 500 /* recent requests listed in the focused activity pane */

enum view_screen { SCR_MAIN, SCR_DETAIL, SCR_HELP, SCR_PICK_NS, SCR_PICK_CTX };

/* ---- status cells: text with a glyph (UTF-8 / ASCII), rank for sorting, colour role ---- */

struct cell_def {
    const char *utf8;
    const char *ascii;
    int rank;
    enum theme_role role;
};

static const struct cell_def mech_cells[CHECK_MECH__COUNT] = {
    [CHECK_MECH_WI] = {"WI", "WI", 0, THEME_MECH_WI},
    [CHECK_MECH_PI] = {"AAD", "AAD", 2, THEME_MECH_AAD},
    [CHECK_MECH_BOTH] = {"BOTH", "BOTH", 3, THEME_MECH_BOTH},
    [CHECK_MECH_NONE] = {"-", "-", 1, THEME_MECH_NONE},
};

static const struct cell_def fed_cells[CHECK_FED__COUNT] = {
    [CHECK_FED_OK] = {"\u2713 ok", "+ ok", 0, THEME_OK},
    [CHECK_FED_MISSING] = {"\u2717 missing", "x missing", 5, THEME_ERR},
    [CHECK_FED_ISSUER_MISMATCH] = {"\u2717 issuer", "x issuer", 5, THEME_ERR},
    [CHECK_FED_SUBJECT_MISMATCH] = {"\u2717 subject", "x subject", 5, THEME_ERR},
    [CHECK_FED_AUDIENCE_MISMATCH] = {"\u2717 audience", "x audience", 5, THEME_ERR},
    [CHECK_FED_IDENTITY_NOT_FOUND] = {"\u2717 no-ident", "x no-ident", 5, THEME_ERR},
    [CHECK_FED_NO_CLIENT_ID] = {"\u2717 no-cid", "x no-cid", 5, THEME_ERR},
    [CHECK_FED_NOT_APPLICABLE] = {"\u00b7 n/a", "- n/a", 1, THEME_DIM},
    [CHECK_FED_UNKNOWN] = {"? unknown", "? unknown", 2, THEME_UNKNOWN},
};

static const struct cell_def proj_cells[CHECK_PROJ__COUNT] = {
    [CHECK_PROJ_OK] = {"\u2713 ok", "+ ok", 0, THEME_OK},
    [CHECK_PROJ_NOT_INJECTED] = {"\u2717 missing", "x missing", 5, THEME_ERR},
    [CHECK_PROJ_PARTIAL] = {"\u2717 partial", "x partial", 5, THEME_ERR},
    [CHECK_PROJ_WEBHOOK_MISSING] = {"\u2717 webhook", "x webhook", 5, THEME_ERR},
    [CHECK_PROJ_INVALID_EXPIRATION] = {"\u2717 expiry", "x expiry", 5, THEME_ERR},
    [CHECK_PROJ_NOT_APPLICABLE] = {"\u00b7 n/a", "- n/a", 1, THEME_DIM},
    [CHECK_PROJ_UNKNOWN] = {"? unknown", "? unknown", 2, THEME_UNKNOWN},
};

/* Activity cells carry a count, formatted per row; the glyph comes from here. */
static const struct cell_def act_cells[CHECK_ACT__COUNT] = {
    [CHECK_ACT_ACTIVE] = {"\u25cf", "*", 3, THEME_MECH_AAD},
    [CHECK_ACT_ERRORS] = {"!", "!", 4, THEME_ERR},
    [CHECK_ACT_QUIET] = {"\u00b7 quiet", "- quiet", 1, THEME_OK},
    [CHECK_ACT_NOT_APPLICABLE] = {"\u00b7 n/a", "- n/a", 0, THEME_DIM},
    [CHECK_ACT_UNKNOWN] = {"? unknown", "? unknown", 2, THEME_UNKNOWN},
};

static const struct cell_def sev_cells[3] = {
    {" ", " ", 0, THEME_DEFAULT},
    {"!", "!", 1, THEME_WARN},
    {"\u2717", "x", 2, THEME_ERR},
};

static const struct cell_def oidc_cells[CHECK_OIDC__COUNT] = {
    [CHECK_OIDC_OK] = {"\u2713 ok", "+ ok", 0, THEME_OK},
    [CHECK_OIDC_DISABLED] = {"\u2717 disabled", "x disabled", 5, THEME_ERR},
    [CHECK_OIDC_UNREACHABLE] = {"\u2717 unreachable", "x unreachable", 5, THEME_ERR},
    [CHECK_OIDC_KEYS_MISMATCH] = {"\u2717 keys", "x keys", 5, THEME_ERR},
    [CHECK_OIDC_UNKNOWN] = {"? unknown", "? unknown", 2, THEME_UNKNOWN},
};

static const struct cell_def webhook_cells[CHECK_WEBHOOK__COUNT] = {
    [CHECK_WEBHOOK_OK] = {"\u2713", "+", 0, THEME_OK},
    [CHECK_WEBHOOK_DEGRADED] = {"!", "!", 3, THEME_WARN},
    [CHECK_WEBHOOK_MISSING] = {"\u2717 missing", "x missing", 5, THEME_ERR},
    [CHECK_WEBHOOK_UNKNOWN] = {"?", "?", 2, THEME_UNKNOWN},
};

static const struct cell_def podid_cells[CHECK_PODID__COUNT] = {
    [CHECK_PODID_RUNNING] = {"\u25cf", "*", 1, THEME_MECH_AAD},
    [CHECK_PODID_DEGRADED] = {"!", "!", 3, THEME_WARN},
    [CHECK_PODID_ABSENT] = {"\u2713 absent", "+ absent", 0, THEME_OK},
    [CHECK_PODID_UNKNOWN] = {"?", "?", 2, THEME_UNKNOWN},
};

static const struct cell_def sevname_cells[CHECK_SEV__COUNT] = {
    [CHECK_SEV_ERROR] = {"\u2717 error", "x error", 2, THEME_ERR},
    [CHECK_SEV_WARNING] = {"! warning", "! warning", 1, THEME_WARN},
    [CHECK_SEV_INFO] = {"i info", "i info", 0, THEME_DIM},
};

/* ---- text lines for the detail and help screens ---- */

struct vline {
    char *text;
    enum theme_role role;
};

struct vlines {
    struct vline *items;
    size_t n, cap;
};

/* One sender of NMI requests in the activity pane. */
struct act_entry {
    char label[160];
    uint32_t buckets[VIEW_SPARK_MAX];
    uint32_t total;
    uint32_t errors;
    int64_t last;
};

struct view {
    struct view_config cfg;
    struct selector scope_sel; /* -l */
    bool have_scope_sel;
    char *context, *server, *theme_spec;
    struct term term;
    bool term_open;
    struct keymap km;
    struct theme theme;
    struct theme_diag tdiag;
    size_t theme_idx;
    int64_t fake_now;
    int64_t now;
    int64_t next_age_change; /* when a visible age text changes next (0: none) */

    enum view_screen screen;
    bool log_focus;
    bool follow;
    size_t log_top;

    /* table */
    struct wtable_row *rows;
    size_t n_rows, cap_rows;
    char (*act_text)[24]; /* per check workload */
    size_t cap_act_text;
    size_t sel, top;
    char sel_key[300]; /* the user's pick, copied: never a pointer into check results */
    bool sel_user;     /* the user moved or picked: follow sel_key, else stay at the top */
    enum wtable_col sort;
    bool sort_rev;
    int mech_filter; /* -1 = all, else enum check_mechanism */
    bool problems;
    char *ns_filter;
    struct wtable_filter filter;
    int table_rows; /* visible rows, for paging */

    bool prompting;
    char prompt[256];
    char prompt_saved[256];

    struct vlines detail;
    size_t detail_top;
    struct vlines help;
    size_t help_top;
    char **pick;
    size_t n_pick, pick_sel, pick_top;

    struct act_entry *acts;
    size_t n_acts;
    uint32_t unattributed;

    uint64_t seen_store, seen_checks; /* store_objects_version, check results */
    uint64_t seen_nmi;                /* store_nmi_version the activity pane was built at */
    int64_t act_built;                /* ... and when (v->now) */
    uint64_t src_sig; /* signature of the store's sources, see sources_signature() */
    bool rows_stale;
    bool dirty;
    bool quit;
    bool hangup; /* stdin gone */
    char msg[IDW_ERR_MAX];
    bool msg_err;
    int64_t msg_at; /* when msg was set: a note (not an error) gives way to the status */

    /* actions dialog hooks (dialog.h) */
    struct dialog_source dlg;
    bool dlg_open;
    uint64_t dlg_seen;
    view_gate_fn gate;
    void *gate_ctx;
    uint64_t (*gate_version)(void *ctx); /* moves when a gate answer may have changed */
    uint64_t gate_seen;
};

static void handle_key(struct view *v, int key);
enum { VIEW_NOTE_SECONDS = 5 };
enum { VIEW_ACTIVITY_SECONDS = 2 }; /* NMI lines alone redraw the activity pane this often */
static void rebuild_activity(struct view *v);

/* The activity pane is out of date: rebuilt with the rows, or for new NMI requests alone at
 * most every VIEW_ACTIVITY_SECONDS (hundreds of NMI pods log many lines a second). */
static bool activity_due(const struct view *v)
{
    if (v->seen_nmi == (uint64_t)-1)
        return true;
    uint64_t nv = v->cfg.store ? store_nmi_version(v->cfg.store) : 0;
    return nv != v->seen_nmi &&
           (v->now >= v->act_built + VIEW_ACTIVITY_SECONDS || v->now < v->act_built);
}

/* ---- actions dialog hooks (dialog.h) ---- */

void view_dialog_open(struct view *v, const struct dialog_source *src)
{
    v->dlg = *src;
    v->dlg_open = src->content && src->key;
    v->dlg_seen = src->version ? src->version(src->ctx) : 0;
    v->dirty = true;
}

void view_dialog_close(struct view *v)
{
    v->dlg_open = false;
    v->dirty = true;
}

bool view_dialog_is_open(const struct view *v)
{
    return v->dlg_open;
}

void view_set_gate(struct view *v, view_gate_fn fn, void *ctx)
{
    v->gate = fn;
    v->gate_ctx = ctx;
    v->dirty = true;
}

void view_set_gate_version(struct view *v, uint64_t (*version)(void *ctx))
{
    v->gate_version = version;
    v->dirty = true;
}

/* Read-only gating plus the app's per-object permission (SSAR, learnt 403s). */
static bool view_key_allowed(const struct view *v, enum action_id a, const struct check_workload *w,
                             const char **why)
{
    if (!action_allowed(a, v->cfg.read_only, why))
        return false;
    const struct action_info *in = action_info(a);
    return !(in && in->mutates && v->gate && !v->gate(v->gate_ctx, a, w, why));
}

static void key_to_dialog(struct view *v, int key)
{
    if (v->dlg.key(v->dlg.ctx, dialog_map_key(key)) == 0)
        v->dlg_open = false;
}

/* ---- small helpers ---- */

void view_action_key(const struct view *v, enum action_id a, char out[16])
{
    keymap_first_key(&v->km, a, out);
}

int64_t view_now(void)
{
    const char *f = getenv("IDWATCH_FAKE_NOW");
    if (f && *f)
        return strtoll(f, NULL, 10);
    return time_now();
}

static const char *cell_text(const struct view *v, const struct cell_def *c)
{
    return v->term.utf8 ? c->utf8 : c->ascii;
}

static void vlines_add(struct vlines *l, enum theme_role role, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void vlines_add(struct vlines *l, enum theme_role role, const char *fmt, ...)
{
    xgrow((void **)&l->items, &l->cap, l->n + 1, sizeof *l->items);
    va_list ap;
    va_start(ap, fmt);
    l->items[l->n].text = xvasprintf(fmt, ap);
    va_end(ap);
    l->items[l->n].role = role;
    l->n++;
}

static void vlines_clear(struct vlines *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->items[i].text);
    l->n = 0;
}

static void vlines_free(struct vlines *l)
{
    vlines_clear(l);
    free(l->items);
    l->items = NULL;
    l->cap = 0;
}

static void free_pick(struct view *v)
{
    for (size_t i = 0; i < v->n_pick; i++)
        free(v->pick[i]);
    free(v->pick);
    v->pick = NULL;
    v->n_pick = v->pick_sel = v->pick_top = 0;
}

/* Ages are shown coarsely ("<1m", "5m", "3h", "2d") so that the screen changes at most once a
 * minute because of them; records when this text changes next. */
static void age_text(struct view *v, int64_t when, char out[16])
{
    int64_t s = v->now - when;
    if (s < 0)
        s = 0;
    int64_t step, next;
    if (s < 60) {
        snprintf(out, 16, "<1m");
        step = 60;
    } else if (s < 7200) {
        snprintf(out, 16, "%lldm", (long long)(s / 60));
        step = 60;
    } else if (s < 172800) {
        snprintf(out, 16, "%lldh", (long long)(s / 3600));
        step = 3600;
    } else {
        snprintf(out, 16, "%lldd", (long long)(s / 86400));
        step = 86400;
    }
    next = when + (s / step + 1) * step;
    if (!v->next_age_change || next < v->next_age_change)
        v->next_age_change = next;
}

static void fmt_count(uint64_t n, char out[32])
{
    char raw[32];
    snprintf(raw, sizeof raw, "%llu", (unsigned long long)n);
    size_t len = strlen(raw), o = 0;
    for (size_t i = 0; i < len; i++) {
        if (i && (len - i) % 3 == 0)
            out[o++] = ',';
        out[o++] = raw[i];
    }
    out[o] = '\0';
}

static void clock_text(int64_t t, char out[16])
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(out, 16, "%H:%M:%S", &tm);
}

/* Draws s at (y,x) in exactly w columns: sanitised (untrusted text), ASCII-only outside UTF-8. */
static void put(struct view *v, int y, int x, int w, enum theme_role role, const char *s)
{
    if (w <= 0 || y < 0 || y >= LINES || x >= COLS)
        return;
    if (x + w > COLS)
        w = COLS - x;
    char clean[1024], fit[4096];
    str_sanitize(clean, sizeof clean, s ? s : "");
    if (!v->term.utf8)
        for (char *p = clean; *p; p++)
            if ((unsigned char)*p >= 0x80)
                *p = '?';
    wtable_fit(fit, sizeof fit, clean, w, false);
    attrset(term_attr(&v->term, role));
    mvaddstr(y, x, fit);
}

/* Like put but only as wide as the text; returns the columns used. */
static int put_text(struct view *v, int y, int x, enum theme_role role, const char *s)
{
    char clean[1024];
    str_sanitize(clean, sizeof clean, s ? s : "");
    int w = wtable_text_width(clean);
    if (x + w > COLS)
        w = COLS - x;
    put(v, y, x, w, role, clean);
    return w > 0 ? w : 0;
}

/* ---- rows ---- */

static const struct model_workload *workload_of(const struct view *v,
                                                const struct check_workload *cw)
{
    return v->cfg.store ? store_get_workload(v->cfg.store, cw->kind, cw->namespace_, cw->name)
                        : NULL;
}

static const char *kind_short(enum model_workload_kind k)
{
    static const char *const s[MODEL_KIND__COUNT] = {
        [MODEL_KIND_DEPLOYMENT] = "deploy", [MODEL_KIND_STATEFULSET] = "sts",
        [MODEL_KIND_DAEMONSET] = "ds",      [MODEL_KIND_CRONJOB] = "cronjob",
        [MODEL_KIND_POD] = "pod",
    };
    return (unsigned)k < MODEL_KIND__COUNT ? s[k] : "?";
}

static void row_key(const struct wtable_row *r, char *out, size_t n)
{
    snprintf(out, n, "%s/%s/%s", r->kind ? r->kind : "", r->ns ? r->ns : "",
             r->name ? r->name : "");
}

static const struct check_workload *row_result(const struct view *v, size_t i)
{
    if (!v->cfg.checks || i >= v->n_rows || v->rows[i].ref >= v->cfg.checks->n_workloads)
        return NULL;
    return &v->cfg.checks->workloads[v->rows[i].ref];
}

static const struct check_workload *selected(const struct view *v)
{
    return row_result(v, v->sel);
}

static void fill_row(struct view *v, struct wtable_row *r, const struct check_workload *cw,
                     size_t idx)
{
    memset(r, 0, sizeof *r);
    const struct model_workload *w = workload_of(v, cw);
    r->ns = cw->namespace_;
    r->name = cw->name;
    r->kind = model_kind_name(cw->kind);
    r->kind_short = kind_short(cw->kind);
    r->sa = cw->service_account;
    r->labels = w ? &w->meta.labels : NULL;
    r->tmpl_labels = w ? &w->tmpl.labels : NULL;
    r->ref = idx;
    r->mech = (int)cw->mechanism;
    const struct cell_def *c = &mech_cells[(unsigned)cw->mechanism % CHECK_MECH__COUNT];
    r->cells[WTABLE_MECH] = (struct wtable_cell){cell_text(v, c), c->rank, c->role};
    c = &fed_cells[(unsigned)cw->federation.status % CHECK_FED__COUNT];
    r->cells[WTABLE_FED] = (struct wtable_cell){cell_text(v, c), c->rank, c->role};
    c = &proj_cells[(unsigned)cw->projection.status % CHECK_PROJ__COUNT];
    r->cells[WTABLE_PROJ] = (struct wtable_cell){cell_text(v, c), c->rank, c->role};
    enum check_activity act = cw->activity.status;
    c = &act_cells[(unsigned)act % CHECK_ACT__COUNT];
    char *t = v->act_text[idx];
    if (act == CHECK_ACT_ACTIVE)
        snprintf(t, 24, "%s %lld", cell_text(v, c), (long long)cw->activity.requests);
    else if (act == CHECK_ACT_ERRORS)
        snprintf(t, 24, "%s %lld/%lld", cell_text(v, c), (long long)cw->activity.errors,
                 (long long)cw->activity.requests);
    else
        snprintf(t, 24, "%s", cell_text(v, c));
    /* a workload-identity workload that still asks NMI is a warning, not "pod identity use" */
    enum theme_role role = c->role;
    if (act == CHECK_ACT_ACTIVE && cw->mechanism == CHECK_MECH_WI)
        role = THEME_WARN;
    r->cells[WTABLE_ACT] = (struct wtable_cell){t, c->rank, role};
    r->requests = (uint32_t)(cw->activity.requests > 0 ? cw->activity.requests : 0);
    r->severity = cw->n_errors ? 2 : cw->n_warnings ? 1 : 0;
    int ready = 0;
    for (size_t i = 0; i < cw->projection.n_pods; i++)
        ready += cw->projection.pods[i].ready;
    r->pods_ready = ready;
    r->pods_total = (int32_t)cw->projection.n_pods;
    if (!cw->projection.n_pods && w) {
        r->pods_ready = w->replicas_ready;
        r->pods_total = w->replicas_desired;
    }
}

static void rebuild_rows(struct view *v)
{
    v->rows_stale = false;
    char keep[300];
    snprintf(keep, sizeof keep, "%s", v->sel_key);
    v->n_rows = 0;
    const struct check_result *cr = v->cfg.checks;
    size_t n = cr ? cr->n_workloads : 0;
    xgrow((void **)&v->rows, &v->cap_rows, n ? n : 1, sizeof *v->rows);
    xgrow((void **)&v->act_text, &v->cap_act_text, n ? n : 1, sizeof *v->act_text);
    for (size_t i = 0; i < n; i++) {
        const struct check_workload *cw = &cr->workloads[i];
        if (v->ns_filter && !str_eq(v->ns_filter, cw->namespace_))
            continue;
        if (v->have_scope_sel) {
            const struct model_workload *w = workload_of(v, cw);
            if (!w || !selector_match(&v->scope_sel, &w->meta.labels))
                continue;
        }
        if (v->mech_filter >= 0 && (int)cw->mechanism != v->mech_filter)
            continue;
        if (v->problems && !cw->n_errors && !cw->n_warnings)
            continue;
        struct wtable_row *r = &v->rows[v->n_rows];
        fill_row(v, r, cw, i);
        if (!wtable_filter_match(&v->filter, r))
            continue;
        v->n_rows++;
    }
    wtable_sort(v->rows, v->n_rows, v->sort, v->sort_rev);
    v->sel = 0;
    for (size_t i = 0; i < v->n_rows && v->sel_user && keep[0]; i++) {
        char k[300];
        row_key(&v->rows[i], k, sizeof k);
        if (strcmp(k, keep) == 0) {
            v->sel = i;
            break;
        }
    }
    /* a key that is gone (filtered out, deleted) stays remembered: it comes back if the row does */
    v->dirty = true;
}

/* Rows point into the check results and the store, which session_tick may free and rebuild:
 * rebuild them before anything reads them when either moved since they were built. */
static void rows_sync(struct view *v)
{
    uint64_t sv = v->cfg.store ? store_objects_version(v->cfg.store) : 0;
    uint64_t cv = v->cfg.checks ? v->cfg.checks->version : 0;
    if (v->rows_stale || sv != v->seen_store || cv != v->seen_checks) {
        rebuild_rows(v);
        v->seen_store = sv;
        v->seen_checks = cv;
        v->rows_stale = false;
        v->seen_nmi = (uint64_t)-1; /* attribution goes through pods: build it again too */
    }
    if (activity_due(v)) {
        rebuild_activity(v);
        v->seen_nmi = v->cfg.store ? store_nmi_version(v->cfg.store) : 0;
        v->act_built = v->now;
    }
}

/* The user chose the selected row (opened it, acted on it): keep it as rows arrive. */
static void pin_sel(struct view *v)
{
    if (v->sel < v->n_rows) {
        row_key(&v->rows[v->sel], v->sel_key, sizeof v->sel_key);
        v->sel_user = true;
    }
}

static void set_sel(struct view *v, size_t i)
{
    if (!v->n_rows)
        return;
    if (i >= v->n_rows)
        i = v->n_rows - 1;
    v->sel = i;
    row_key(&v->rows[i], v->sel_key, sizeof v->sel_key);
    v->sel_user = true;
    v->dirty = true;
}

/* ---- activity (NMI requests attributed to workloads) ---- */

static void request_label(const struct view *v, const struct model_nmi_request *r, char *out,
                          size_t n)
{
    const struct store *s = v->cfg.store;
    const struct model_pod *p = NULL;
    if (r->pod_namespace && r->pod_name)
        p = store_get_pod(s, r->pod_namespace, r->pod_name);
    struct store_ip_owner o = {0};
    bool owner = false;
    if (!p && r->remote_ip && store_ip_lookup(s, r->remote_ip, r->node_name, r->time, &o) == 0) {
        owner = true;
        p = store_get_pod(s, o.pod_namespace, o.pod_name);
    }
    const struct model_workload *w = p ? store_workload_of_pod(s, p) : NULL;
    if (w)
        snprintf(out, n, "%s/%s", w->meta.namespace_ ? w->meta.namespace_ : "",
                 w->meta.name ? w->meta.name : "");
    else if (r->pod_namespace && r->pod_name)
        snprintf(out, n, "pod %s/%s", r->pod_namespace, r->pod_name);
    else if (owner)
        snprintf(out, n, "pod %s/%s (gone)", o.pod_namespace ? o.pod_namespace : "",
                 o.pod_name ? o.pod_name : "");
    else
        snprintf(out, n, "? %s", r->remote_ip ? r->remote_ip : "unknown sender");
}

static int cmp_act(const void *a, const void *b)
{
    const struct act_entry *x = a, *y = b;
    if (x->last != y->last)
        return x->last < y->last ? 1 : -1;
    return strcmp(x->label, y->label);
}

static int activity_spark_width(void)
{
    int w = COLS - 56;
    if (w > VIEW_SPARK_MAX)
        w = VIEW_SPARK_MAX;
    return w < 8 ? 8 : w;
}

static void rebuild_activity(struct view *v)
{
    free(v->acts);
    v->acts = NULL;
    v->n_acts = 0;
    v->unattributed = 0;
    const struct store *s = v->cfg.store;
    if (!s)
        return;
    size_t n = store_nmi_count(s), cap = 0;
    int64_t window = v->cfg.log_window > 0 ? v->cfg.log_window : 3600;
    int nb = activity_spark_width();
    for (size_t i = 0; i < n; i++) {
        const struct model_nmi_request *r = store_nmi_at(s, i);
        if (r->time <= v->now - window)
            continue;
        char label[160];
        request_label(v, r, label, sizeof label);
        if (label[0] == '?')
            v->unattributed++;
        size_t j;
        for (j = 0; j < v->n_acts; j++) /* few senders: linear is fine */
            if (strcmp(v->acts[j].label, label) == 0)
                break;
        if (j == v->n_acts) {
            xgrow((void **)&v->acts, &cap, v->n_acts + 1, sizeof *v->acts);
            memset(&v->acts[j], 0, sizeof v->acts[j]);
            snprintf(v->acts[j].label, sizeof v->acts[j].label, "%s", label);
            v->n_acts++;
        }
        struct act_entry *e = &v->acts[j];
        e->total++;
        if (r->status < 200 || r->status >= 300)
            e->errors++;
        if (r->time > e->last)
            e->last = r->time;
        spark_add(e->buckets, (size_t)nb, v->now, window, r->time);
    }
    if (v->n_acts > 1)
        qsort(v->acts, v->n_acts, sizeof *v->acts, cmp_act);
}

/* ---- detail ---- */

static void detail_kv(struct vlines *l, const struct model_kvlist *kv, const char *what)
{
    for (size_t i = 0; i < kv->n; i++)
        vlines_add(l, THEME_DEFAULT, "    %s %s = %s", what, kv->items[i].key,
                   kv->items[i].value ? kv->items[i].value : "");
}

/* The detail's findings: each with its evidence, remedy and the key that applies it (as bound
 * now, greyed with the reason when it may not run). */
static void detail_findings(struct view *v, struct vlines *l, const struct check_workload *cw)
{
    vlines_add(l, THEME_DEFAULT, "%s", "");
    vlines_add(l, THEME_COLUMN, "Findings (%zu): %d error%s, %d warning%s", cw->n_findings,
               cw->n_errors, cw->n_errors == 1 ? "" : "s", cw->n_warnings,
               cw->n_warnings == 1 ? "" : "s");
    if (!cw->n_findings)
        vlines_add(l, THEME_OK, "  %s nothing to fix", v->term.utf8 ? "\u2713" : "+");
    for (size_t i = 0; i < cw->n_findings; i++) {
        const struct check_finding *f = &cw->findings[i];
        const struct cell_def *sc = &sevname_cells[(unsigned)f->severity % CHECK_SEV__COUNT];
        vlines_add(l, sc->role, "  %s %s: %s", cell_text(v, sc), check_code_name(f->code),
                   f->message ? f->message : "");
        if (f->evidence)
            vlines_add(l, THEME_DIM, "      evidence: %s", f->evidence);
        if (f->remedy)
            vlines_add(l, THEME_DEFAULT, "      remedy:   %s", f->remedy);
        char key[16];
        keymap_first_key(&v->km, f->action, key);
        if (!key[0])
            continue; /* nothing to apply, or the action has no key */
        const char *why = NULL;
        bool ok = view_key_allowed(v, f->action, cw, &why);
        if (ok)
            vlines_add(l, THEME_HINT_LABEL, "      key:      %s  applies this remedy", key);
        else
            vlines_add(l, THEME_HINT_OFF, "      key:      %s  (%s)", key,
                       why ? why : "not allowed");
    }
}

/* The federated credentials of the identity the service account names, the matching one marked. */
static void detail_fics(struct vlines *l, const struct store *s, const struct check_workload *cw)
{
    const struct model_azure *az = s ? store_azure(s) : NULL;
    const struct model_identity *id =
        az && cw->federation.client_id
            ? model_azure_identity_by_client_id(az, cw->federation.client_id)
            : NULL;
    if (id) {
        vlines_add(l, THEME_DEFAULT, "  federated credentials on %s (%zu)",
                   id->name ? id->name : "?", id->n_fics);
        if (id->fic_state == MODEL_AZ_ERROR && id->fic_error)
            vlines_add(l, THEME_ERR, "    could not list: %s", id->fic_error);
        for (size_t i = 0; i < id->n_fics; i++) {
            const struct model_fic *fic = &id->fics[i];
            bool match = str_eq(fic->name, cw->federation.credential);
            vlines_add(l, match ? THEME_MARK : THEME_DEFAULT, "    %s %s", match ? ">" : "-",
                       fic->name ? fic->name : "?");
            vlines_add(l, THEME_DIM, "        issuer  %s", fic->issuer ? fic->issuer : "-");
            vlines_add(l, THEME_DIM, "        subject %s", fic->subject ? fic->subject : "-");
            for (size_t a = 0; a < fic->n_audiences; a++)
                vlines_add(l, THEME_DIM, "        audience %s", fic->audiences[a]);
        }
    }
}

static void build_detail(struct view *v)
{
    struct vlines *l = &v->detail;
    vlines_clear(l);
    const struct check_workload *cw = selected(v);
    if (!cw) {
        vlines_add(l, THEME_DIM, "no workload selected");
        return;
    }
    const struct store *s = v->cfg.store;
    vlines_add(l, THEME_TITLE_FOCUS, "%s %s/%s", model_kind_name(cw->kind),
               cw->namespace_ ? cw->namespace_ : "", cw->name ? cw->name : "");
    const struct cell_def *mc = &mech_cells[(unsigned)cw->mechanism % CHECK_MECH__COUNT];
    vlines_add(l, mc->role, "  mechanism       %s (%s)%s%s", cell_text(v, mc),
               check_mechanism_name(cw->mechanism), cw->pi_selector ? "  aadpodidbinding=" : "",
               cw->pi_selector ? cw->pi_selector : "");
    vlines_add(l, THEME_DEFAULT, "  service account %s",
               cw->service_account ? cw->service_account : "-");

    detail_findings(v, l, cw);

    vlines_add(l, THEME_DEFAULT, "%s", "");
    const struct model_service_account *sa =
        s && cw->service_account ? store_get_sa(s, cw->namespace_, cw->service_account) : NULL;
    vlines_add(l, THEME_COLUMN, "Service account %s/%s%s", cw->namespace_ ? cw->namespace_ : "",
               cw->service_account ? cw->service_account : "-", sa ? "" : "  (not found)");
    if (sa) {
        detail_kv(l, &sa->meta.annotations, "annotation");
        detail_kv(l, &sa->meta.labels, "label");
        if (!sa->meta.annotations.n && !sa->meta.labels.n)
            vlines_add(l, THEME_DIM, "    no labels or annotations");
    }

    vlines_add(l, THEME_DEFAULT, "%s", "");
    const struct cell_def *fc = &fed_cells[(unsigned)cw->federation.status % CHECK_FED__COUNT];
    vlines_add(l, THEME_COLUMN, "Federation");
    vlines_add(l, fc->role, "  status          %s (%s)", cell_text(v, fc),
               check_federation_name(cw->federation.status));
    if (cw->federation.detail)
        vlines_add(l, THEME_DEFAULT, "  detail          %s", cw->federation.detail);
    vlines_add(l, THEME_DEFAULT, "  client id       %s",
               cw->federation.client_id ? cw->federation.client_id : "-");
    vlines_add(l, THEME_DEFAULT, "  identity        %s",
               cw->federation.identity ? cw->federation.identity : "-");
    vlines_add(l, THEME_DEFAULT, "  credential      %s",
               cw->federation.credential ? cw->federation.credential : "-");
    detail_fics(l, s, cw);

    vlines_add(l, THEME_DEFAULT, "%s", "");
    const struct cell_def *pc = &proj_cells[(unsigned)cw->projection.status % CHECK_PROJ__COUNT];
    vlines_add(l, THEME_COLUMN, "Token projection");
    vlines_add(l, pc->role, "  status          %s (%s), %d of %d pods ok", cell_text(v, pc),
               check_projection_name(cw->projection.status), cw->projection.pods_ok,
               cw->projection.pods_total);
    if (cw->projection.detail)
        vlines_add(l, THEME_DEFAULT, "  detail          %s", cw->projection.detail);
    for (size_t i = 0; i < cw->projection.n_pods; i++) {
        const struct check_pod *p = &cw->projection.pods[i];
        const struct cell_def *ppc = &proj_cells[(unsigned)p->status % CHECK_PROJ__COUNT];
        vlines_add(l, ppc->role, "  %-10s %s  %s%s%s%s", cell_text(v, ppc), p->name ? p->name : "?",
                   p->ready ? "ready" : "not ready", p->layout ? "  layout " : "",
                   p->layout ? p->layout : "", p->proxy ? "  proxy" : "");
        if (p->detail)
            vlines_add(l, THEME_DIM, "             %s", p->detail);
    }

    vlines_add(l, THEME_DEFAULT, "%s", "");
    const struct cell_def *ac = &act_cells[(unsigned)cw->activity.status % CHECK_ACT__COUNT];
    char last[16] = "never", win[16];
    if (cw->activity.last_seen)
        age_text(v, cw->activity.last_seen, last);
    time_format_age(cw->activity.window_seconds, win);
    vlines_add(l, THEME_COLUMN, "Pod identity activity (NMI)");
    vlines_add(l, ac->role, "  status          %s (%s)", cell_text(v, ac),
               check_activity_name(cw->activity.status));
    vlines_add(l, THEME_DEFAULT, "  requests        %lld in the last %s, %lld errors, last %s%s",
               (long long)cw->activity.requests, win, (long long)cw->activity.errors, last,
               cw->activity.last_seen ? " ago" : "");
    if (cw->activity.last_status)
        vlines_add(l, THEME_DEFAULT, "  last status     %d", cw->activity.last_status);
    if (cw->activity.detail)
        vlines_add(l, cw->activity.status == CHECK_ACT_UNKNOWN ? THEME_UNKNOWN : THEME_DEFAULT,
                   "  evidence        %s", cw->activity.detail);
    if (cw->pods_bound)
        vlines_add(l, THEME_DEFAULT, "  pods bound      %d (selected by an AzureIdentityBinding)",
                   cw->pods_bound);
    if (cw->binding_removable >= 0)
        vlines_add(l, cw->binding_removable ? THEME_OK : THEME_WARN,
                   "  binding removable %s: %s", cw->binding_removable ? "yes" : "no",
                   cw->binding_reason ? cw->binding_reason : "");
}

/* ---- help ---- */

static void build_help(struct view *v)
{
    struct vlines *l = &v->help;
    vlines_clear(l);
    vlines_add(l, THEME_TITLE_FOCUS, "idwatch %s: keys", IDWATCH_VERSION);
    char **lines;
    bool *off;
    size_t n = keymap_help_lines(&v->km, v->cfg.read_only, &lines, &off);
    for (size_t i = 0; i < n; i++) {
        enum theme_role role = off[i]                                           ? THEME_HINT_OFF
                               : strncmp(lines[i], "  ", 2) != 0 && lines[i][0] ? THEME_COLUMN
                                                                                : THEME_DEFAULT;
        vlines_add(l, role, "%s", lines[i]);
        free(lines[i]);
    }
    free(lines);
    free(off);
    vlines_add(l, THEME_DEFAULT, "%s", "");
    vlines_add(l, THEME_COLUMN, "Filter (/)");
    vlines_add(l, THEME_DEFAULT,
               "  text            substring of namespace/name, kind, service account, mechanism");
    vlines_add(l, THEME_DEFAULT, "  !text           everything that does not match");
    vlines_add(l, THEME_DEFAULT,
               "  key=value       label selector (k=v, k!=v; also -l 'k in (a,b),!k')");
    vlines_add(l, THEME_DEFAULT, "%s", "");
    vlines_add(l, THEME_COLUMN, "Legend (letters and glyphs, so nothing depends on colour)");
    bool u = v->term.utf8;
    vlines_add(l, THEME_DEFAULT, "  MECH  WI workload identity, AAD pod identity, BOTH, - none");
    vlines_add(l, THEME_DEFAULT,
               "  %s ok   %s broken   ! warning   ? unknown (no data or no permission)   %s n/a",
               u ? "\u2713" : "+", u ? "\u2717" : "x", u ? "\u00b7" : "-");
    vlines_add(l, THEME_DEFAULT,
               "  NMI   %s N: N token requests to pod identity in the window; ! E/N: E errors",
               u ? "\u25cf" : "*");
    vlines_add(l, THEME_DEFAULT, "  first column: %s error finding, ! warning finding",
               u ? "\u2717" : "x");
    vlines_add(l, THEME_DEFAULT, "%s", "");
    vlines_add(l, THEME_COLUMN, "Theme");
    vlines_add(l, THEME_DEFAULT,
               "  %s%s (t cycles: default, high-contrast, mono, solarized-dark, light)",
               v->theme.name, v->term.mono ? ", monochrome" : "");
    for (size_t i = 0; i < v->tdiag.n; i++)
        vlines_add(l, THEME_WARN, "  %s", v->tdiag.msgs[i]);
    if (v->tdiag.dropped)
        vlines_add(l, THEME_WARN, "  ... and %zu more warnings", v->tdiag.dropped);
}

/* ---- theme ---- */

static void load_theme(struct view *v, const char *spec)
{
    theme_diag_free(&v->tdiag);
    struct idw_err err = {{0}};
    if (theme_load(&v->theme, spec, &v->tdiag, &err) != 0)
        view_message(v, true, "theme: %s", err.msg);
    else if (v->tdiag.n)
        view_message(v, true, "theme %s: %zu warning%s, first: %s (? lists them)", v->theme.name,
                     v->tdiag.n + v->tdiag.dropped, v->tdiag.n + v->tdiag.dropped > 1 ? "s" : "",
                     v->tdiag.msgs[0]);
    if (v->term_open)
        term_apply_theme(&v->term, &v->theme);
    v->dirty = true;
}

/* ---- public lifecycle ---- */

struct view *view_new(const struct view_config *cfg, struct idw_err *err)
{
    struct view *v = xcalloc(1, sizeof *v);
    v->cfg = *cfg;
    v->context = xstrdup(cfg->context);
    v->server = xstrdup(cfg->server);
    v->cfg.context = v->context;
    v->cfg.server = v->server;
    v->mech_filter = -1;
    v->sort = WTABLE_COL_NAMESPACE;
    v->follow = true;
    v->rows_stale = true;
    v->dirty = true;
    if (cfg->namespace_)
        v->ns_filter = xstrdup(cfg->namespace_);
    if (!str_empty(cfg->selector)) {
        if (selector_parse(cfg->selector, &v->scope_sel, err) != 0) {
            view_free(v);
            return NULL;
        }
        v->have_scope_sel = true;
    }
    if (keymap_build(&v->km, getenv("IDWATCH_KEYS"), err) != 0) {
        view_free(v);
        return NULL;
    }
    struct term_opts to = {.ascii = cfg->ascii, .no_color = cfg->no_color, .no_signals = false};
    if (term_open(&v->term, &to, err) != 0) {
        view_free(v);
        return NULL;
    }
    v->term_open = true;
    const char *spec = cfg->theme ? cfg->theme : getenv("IDWATCH_THEME");
    v->theme_spec = xstrdup(spec && *spec ? spec : "default");
    for (size_t i = 0; i < theme_shipped_count(); i++)
        if (str_eq(theme_shipped_name(i), v->theme_spec))
            v->theme_idx = i;
    load_theme(v, v->theme_spec);
    const char *fake = getenv("IDWATCH_FAKE_NOW");
    v->fake_now = fake && *fake ? strtoll(fake, NULL, 10) : 0;
    v->now = v->fake_now ? v->fake_now : time_now();
    return v;
}

void view_free(struct view *v)
{
    if (!v)
        return;
    if (v->term_open)
        term_close(&v->term);
    theme_diag_free(&v->tdiag);
    wtable_filter_free(&v->filter);
    vlines_free(&v->detail);
    vlines_free(&v->help);
    free_pick(v);
    free(v->acts);
    free(v->rows);
    free(v->act_text);
    free(v->ns_filter);
    if (v->have_scope_sel)
        selector_free(&v->scope_sel);
    free(v->context);
    free(v->server);
    free(v->theme_spec);
    free(v);
}

int view_fd(const struct view *v)
{
    (void)v;
    return term_fd();
}

bool view_quit_requested(const struct view *v)
{
    return v->quit || v->hangup || term_stop_signal() != 0;
}

void view_message(struct view *v, bool error, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v->msg, sizeof v->msg, fmt, ap);
    va_end(ap);
    v->msg_err = error;
    v->msg_at = v->now;
    v->dirty = true;
}

void view_set_source(struct view *v, const struct store *s, const struct check_result *r,
                     const char *context, const char *server)
{
    v->cfg.store = s;
    v->cfg.checks = r;
    free(v->context);
    free(v->server);
    v->context = xstrdup(context);
    v->server = xstrdup(server);
    v->cfg.context = v->context;
    v->cfg.server = v->server;
    v->seen_store = v->seen_checks = v->seen_nmi = (uint64_t)-1;
    v->rows_stale = true;
    /* another cluster: the old pick means nothing there */
    v->sel_user = false;
    v->sel_key[0] = '\0';
    v->sel = v->top = 0;
    rows_sync(v);
    v->dirty = true;
}

/* Sources change state (an outage, a recovery) without moving store_version: a cheap
 * signature of what the status line shows from them tells when to redraw. */
static uint64_t sources_signature(const struct store *s)
{
    uint64_t h = 14695981039346656037ull; /* FNV-1a */
    size_t n = s ? store_source_count(s) : 0;
#define SIG_MIX(x) (h = (h ^ (uint64_t)(x)) * 1099511628211ull)
    SIG_MIX(n);
    for (size_t i = 0; i < n; i++) {
        const struct store_source *src = store_source_at(s, i);
        SIG_MIX(src->state);
        SIG_MIX(src->count);
        SIG_MIX(src->total_hint);
        SIG_MIX(src->error_since);
        for (const unsigned char *p = (const unsigned char *)src->error; *p; p++)
            SIG_MIX(*p);
    }
#undef SIG_MIX
    return h;
}

void view_on_tick(struct view *v, int64_t now)
{
    v->now = v->fake_now ? v->fake_now : now;
    if (v->next_age_change && v->now >= v->next_age_change)
        v->dirty = true;
    uint64_t sv = v->cfg.store ? store_objects_version(v->cfg.store) : 0;
    uint64_t cv = v->cfg.checks ? v->cfg.checks->version : 0;
    if (sv != v->seen_store || cv != v->seen_checks) {
        v->rows_stale = true;
        v->dirty = true;
    }
    if (activity_due(v))
        v->dirty = true;
    uint64_t sig = sources_signature(v->cfg.store);
    if (sig != v->src_sig) {
        v->src_sig = sig;
        v->dirty = true;
    }
    /* a resize whose SIGWINCH interrupted the loop's poll (stdin not readable) lands here */
    int key, rc;
    while (v->term_open && !v->hangup && (rc = term_read_key(&v->term, &key)) != 0) {
        if (rc < 0) {
            v->hangup = true;
            break;
        }
        handle_key(v, key);
    }
}

bool view_needs_redraw(const struct view *v)
{
    if (v->dirty || v->rows_stale)
        return true;
    if (v->dlg_open && v->dlg.version && v->dlg.version(v->dlg.ctx) != v->dlg_seen)
        return true;
    if (v->gate_version && v->gate_version(v->gate_ctx) != v->gate_seen)
        return true; /* a permission answer came: the greyed keys change */
    uint64_t sv = v->cfg.store ? store_objects_version(v->cfg.store) : 0;
    uint64_t cv = v->cfg.checks ? v->cfg.checks->version : 0;
    return sv != v->seen_store || cv != v->seen_checks || activity_due(v);
}

/* ---- keys ---- */

static void move_by(size_t *pos, size_t n, long delta)
{
    if (!n) {
        *pos = 0;
        return;
    }
    long p = (long)*pos + delta;
    if (p < 0)
        p = 0;
    if (p >= (long)n)
        p = (long)n - 1;
    *pos = (size_t)p;
}

static long nav_delta(enum action_id a, int page)
{
    switch (a) {
    case ACTION_UP: return -1;
    case ACTION_DOWN: return 1;
    case ACTION_PAGE_UP: return -page;
    case ACTION_PAGE_DOWN: return page;
    case ACTION_TOP: return -1000000000L;
    case ACTION_BOTTOM: return 1000000000L;
    default: return 0;
    }
}

static void open_picker_ns(struct view *v)
{
    free_pick(v);
    size_t cap = 0;
    const struct store *s = v->cfg.store;
    size_t nns = s ? store_namespace_count(s) : 0;
    xgrow((void **)&v->pick, &cap, nns + 1, sizeof *v->pick);
    v->pick[v->n_pick++] = xstrdup("(all namespaces)");
    for (size_t i = 0; i < nns; i++) {
        const struct model_namespace *ns = store_namespace_at(s, i);
        if (!ns->meta.name)
            continue;
        xgrow((void **)&v->pick, &cap, v->n_pick + 1, sizeof *v->pick);
        v->pick[v->n_pick++] = xstrdup(ns->meta.name);
    }
    /* namespaces may not be listable (RBAC): fall back to those of the workloads */
    for (size_t i = 0; nns == 0 && v->cfg.checks && i < v->cfg.checks->n_workloads; i++) {
        const char *name = v->cfg.checks->workloads[i].namespace_;
        bool seen = false;
        for (size_t j = 1; j < v->n_pick && !seen; j++)
            seen = str_eq(v->pick[j], name);
        if (seen || !name)
            continue;
        xgrow((void **)&v->pick, &cap, v->n_pick + 1, sizeof *v->pick);
        v->pick[v->n_pick++] = xstrdup(name);
    }
    for (size_t i = 1; i < v->n_pick; i++) /* insertion sort, after the "(all)" entry */
        for (size_t j = i; j > 1 && strcmp(v->pick[j - 1], v->pick[j]) > 0; j--) {
            char *t = v->pick[j];
            v->pick[j] = v->pick[j - 1];
            v->pick[j - 1] = t;
        }
    for (size_t i = 1; i < v->n_pick; i++)
        if (str_eq(v->pick[i], v->ns_filter))
            v->pick_sel = i;
    v->screen = SCR_PICK_NS;
}

static void open_picker_ctx(struct view *v)
{
    if (!v->cfg.cb.contexts) {
        view_message(v, true, "context switching is not available");
        return;
    }
    const char *const *names = NULL;
    size_t n = v->cfg.cb.contexts(v->cfg.cb.ctx, &names);
    if (!n) {
        view_message(v, true, "no kubeconfig contexts to switch to");
        return;
    }
    free_pick(v);
    v->pick = xcalloc(n, sizeof *v->pick);
    for (size_t i = 0; i < n; i++) {
        v->pick[v->n_pick++] = xstrdup(names[i]);
        if (str_eq(names[i], v->cfg.context))
            v->pick_sel = i;
    }
    v->screen = SCR_PICK_CTX;
}

static void pick_choose(struct view *v)
{
    if (v->pick_sel >= v->n_pick)
        return;
    if (v->screen == SCR_PICK_NS) {
        free(v->ns_filter);
        v->ns_filter = v->pick_sel == 0 ? NULL : xstrdup(v->pick[v->pick_sel]);
        v->rows_stale = true;
    } else if (v->cfg.cb.switch_context) {
        char *name = xstrdup(v->pick[v->pick_sel]);
        view_message(v, false, "switching to context %s...", name);
        v->cfg.cb.switch_context(v->cfg.cb.ctx, name);
        free(name);
    }
    v->screen = SCR_MAIN;
    free_pick(v);
}

static void apply_filter_text(struct view *v, const char *text)
{
    struct wtable_filter f;
    struct idw_err err = {{0}};
    if (wtable_filter_parse(&f, text, &err) != 0) {
        view_message(v, true, "filter: %s", err.msg);
        return;
    }
    wtable_filter_free(&v->filter);
    v->filter = f;
    v->rows_stale = true;
    if (strncmp(v->msg, "filter:", 7) == 0)
        v->msg[0] = '\0'; /* an error from a half-typed selector is stale now */
}

static void prompt_key(struct view *v, int key)
{
    size_t n = strlen(v->prompt);
    if (key == 27) { /* Esc: back to the filter we had */
        v->prompting = false;
        apply_filter_text(v, v->prompt_saved);
    } else if (key == '\r' || key == '\n' || key == KEY_ENTER) {
        v->prompting = false;
    } else if (key == KEY_BACKSPACE || key == 127 || key == 8) {
        if (n) {
            /* drop a whole UTF-8 character */
            do
                n--;
            while (n && ((unsigned char)v->prompt[n] & 0xC0) == 0x80);
            v->prompt[n] = '\0';
            apply_filter_text(v, v->prompt);
        } else {
            v->prompting = false;
        }
    } else if (key == 21) { /* C-u */
        v->prompt[0] = '\0';
        apply_filter_text(v, v->prompt);
    } else if (key >= 0x20 && key < 0x100 && key != 0x7f && n + 1 < sizeof v->prompt) {
        v->prompt[n] = (char)key;
        v->prompt[n + 1] = '\0';
        apply_filter_text(v, v->prompt);
    }
    v->dirty = true;
}

static void run_mutating(struct view *v, enum action_id a)
{
    const struct action_info *in = action_info(a);
    char key[16];
    keymap_first_key(&v->km, a, key);
    const char *why = NULL;
    if (!action_allowed(a, v->cfg.read_only, &why)) {
        view_message(v, true, "%s: %s", key, why);
        return;
    }
    if (!v->cfg.cb.action) {
        view_message(v, true, "%s (%s): not available yet", key, in->help);
        return;
    }
    /* Keys typed before the next frame (a filter, then w) act on the rows that filter selects,
     * and a row's ref must index the current checks, not those of the last frame. */
    rows_sync(v);
    const struct check_workload *w = selected(v);
    if (!w && a != ACTION_UNDO) {
        view_message(v, true, "%s: select a workload first", key);
        return;
    }
    if (!view_key_allowed(v, a, w, &why)) {
        view_message(v, true, "%s: %s", key, why ? why : "not allowed");
        return;
    }
    if (w)
        pin_sel(v);
    struct idw_err err = {{0}};
    if (v->cfg.cb.action(v->cfg.cb.ctx, a, w, &err) != 0)
        view_message(v, true, "%s: %s", key, err.msg[0] ? err.msg : "failed");
}

static void cycle_theme(struct view *v)
{
    v->theme_idx = (v->theme_idx + 1) % theme_shipped_count();
    free(v->theme_spec);
    v->theme_spec = xstrdup(theme_shipped_name(v->theme_idx));
    v->msg[0] = '\0';
    load_theme(v, v->theme_spec);
    if (!v->msg[0])
        view_message(v, false, "theme %s%s", v->theme.name,
                     v->term.mono ? " (monochrome: NO_COLOR or no colours)" : "");
    if (v->screen == SCR_HELP)
        build_help(v);
}

static void scroll_lines(size_t *top, size_t n, long delta, int page)
{
    size_t maxtop = n > (size_t)page ? n - (size_t)page : 0;
    move_by(top, maxtop + 1, delta);
}

static void main_key(struct view *v, enum action_id a)
{
    int page = v->table_rows > 1 ? v->table_rows - 1 : 1;
    if (v->log_focus) {
        switch (a) {
        case ACTION_UP:
        case ACTION_DOWN:
        case ACTION_PAGE_UP:
        case ACTION_PAGE_DOWN:
        case ACTION_TOP:
        case ACTION_BOTTOM: {
            size_t n = v->cfg.store ? store_nmi_count(v->cfg.store) : 0;
            if (n > VIEW_LOG_MAX)
                n = VIEW_LOG_MAX;
            if (v->follow)
                v->log_top = n;
            move_by(&v->log_top, n + 1, nav_delta(a, page));
            v->follow = a == ACTION_BOTTOM;
            return;
        }
        case ACTION_FOLLOW: v->follow = !v->follow; return;
        case ACTION_LOGS:
        case ACTION_BACK:
        case ACTION_QUIT: v->log_focus = false; return;
        default: break;
        }
    }
    switch (a) {
    case ACTION_UP:
    case ACTION_DOWN:
    case ACTION_PAGE_UP:
    case ACTION_PAGE_DOWN:
    case ACTION_TOP:
    case ACTION_BOTTOM: {
        size_t s = v->sel;
        move_by(&s, v->n_rows, nav_delta(a, page));
        set_sel(v, s);
        break;
    }
    case ACTION_OPEN:
        if (selected(v)) {
            pin_sel(v);
            v->screen = SCR_DETAIL;
            v->detail_top = 0;
        }
        break;
    case ACTION_BACK:
        if (v->filter.active) {
            wtable_filter_free(&v->filter);
            v->rows_stale = true;
        }
        break;
    case ACTION_FILTER:
        v->prompting = true;
        snprintf(v->prompt_saved, sizeof v->prompt_saved, "%s", v->filter.text);
        snprintf(v->prompt, sizeof v->prompt, "%s", v->filter.text);
        break;
    case ACTION_SORT:
        v->sort = wtable_next_sort(v->sort);
        v->rows_stale = true;
        view_message(v, false, "sorted by %s",
                     v->sort == WTABLE_COL_FLAG ? "severity" : wtable_col_title(v->sort));
        break;
    case ACTION_SORT_REVERSE:
        v->sort_rev = !v->sort_rev;
        v->rows_stale = true;
        break;
    case ACTION_MECH:
        v->mech_filter = v->mech_filter + 1 >= CHECK_MECH__COUNT ? -1 : v->mech_filter + 1;
        v->rows_stale = true;
        break;
    case ACTION_PROBLEMS:
        v->problems = !v->problems;
        v->rows_stale = true;
        break;
    case ACTION_LOGS: v->log_focus = true; break;
    case ACTION_FOLLOW: v->follow = !v->follow; break;
    case ACTION_QUIT: v->quit = true; break;
    default: break;
    }
}

static void handle_key(struct view *v, int key)
{
    v->dirty = true;
    if (key == KEY_RESIZE)
        return;
    rows_sync(v); /* the rows of the last frame may point into freed check results */
    if (v->dlg_open) {
        key_to_dialog(v, key);
        return;
    }
    if (v->prompting) {
        prompt_key(v, key);
        return;
    }
    v->msg[0] = '\0'; /* a message lasts until the next key */
    enum action_id a = keymap_lookup(&v->km, key);
    if (a == ACTION_NONE)
        return;
    if (COLS < VIEW_MIN_COLS || LINES < VIEW_MIN_LINES) {
        if (a == ACTION_QUIT)
            v->quit = true;
        return;
    }
    const struct action_info *in = action_info(a);
    if (in->mutates && (v->screen == SCR_MAIN || v->screen == SCR_DETAIL)) {
        run_mutating(v, a);
        return;
    }
    /* keys that work on every screen */
    switch (a) {
    case ACTION_HELP:
        if (v->screen == SCR_HELP) {
            v->screen = SCR_MAIN;
        } else {
            build_help(v);
            v->help_top = 0;
            v->screen = SCR_HELP;
        }
        return;
    case ACTION_THEME: cycle_theme(v); return;
    case ACTION_REFRESH:
        /* the app says what it refreshes: its message replaces this default */
        view_message(v, false, "refreshing...");
        if (v->cfg.cb.request_refresh)
            v->cfg.cb.request_refresh(v->cfg.cb.ctx);
        return;
    default: break;
    }
    int page = LINES - 6 > 1 ? LINES - 6 : 1;
    switch (v->screen) {
    case SCR_MAIN:
        if (a == ACTION_NAMESPACE)
            open_picker_ns(v);
        else if (a == ACTION_CONTEXT)
            open_picker_ctx(v);
        else
            main_key(v, a);
        break;
    case SCR_DETAIL:
        if (a == ACTION_BACK || a == ACTION_QUIT || a == ACTION_OPEN)
            v->screen = SCR_MAIN;
        else
            scroll_lines(&v->detail_top, v->detail.n, nav_delta(a, page), page);
        break;
    case SCR_HELP:
        if (a == ACTION_BACK || a == ACTION_QUIT)
            v->screen = SCR_MAIN;
        else
            scroll_lines(&v->help_top, v->help.n, nav_delta(a, page), page);
        break;
    case SCR_PICK_NS:
    case SCR_PICK_CTX:
        if (a == ACTION_BACK || a == ACTION_QUIT) {
            v->screen = SCR_MAIN;
            free_pick(v);
        } else if (a == ACTION_OPEN) {
            pick_choose(v);
        } else {
            move_by(&v->pick_sel, v->n_pick, nav_delta(a, page));
        }
        break;
    }
}

int view_on_input(struct view *v)
{
    int key, rc;
    while (!v->hangup && (rc = term_read_key(&v->term, &key)) != 0) {
        if (rc < 0)
            v->hangup = true;
        else
            handle_key(v, key);
    }
    return v->hangup ? -1 : 0;
}

/* ---- drawing ---- */

static const struct cell_def src_cells[CHECK_SRC__COUNT] = {
    [CHECK_SRC_OK] = {"\u2713", "+", 0, THEME_OK},
    [CHECK_SRC_LOADING] = {"\u2026", "..", 1, THEME_DIM},
    [CHECK_SRC_STALE] = {"! stale", "! stale", 3, THEME_WARN},
    [CHECK_SRC_FAILED] = {"\u2717 failed", "x failed", 5, THEME_ERR},
    [CHECK_SRC_FORBIDDEN] = {"\u2717 denied", "x denied", 4, THEME_ERR},
    [CHECK_SRC_SKIPPED] = {"\u00b7 off", "- off", 0, THEME_DIM},
};

static const struct check_source *find_source(const struct check_cluster *c, const char *name)
{
    for (size_t i = 0; i < c->n_sources; i++)
        if (str_eq(c->sources[i].name, name))
            return &c->sources[i];
    return NULL;
}

static const struct cell_def *azure_cell(const struct view *v, const struct check_cluster *c)
{
    (void)v;
    static const int worse[CHECK_SRC__COUNT] = {
        [CHECK_SRC_OK] = 1,     [CHECK_SRC_LOADING] = 2, [CHECK_SRC_SKIPPED] = 0,
        [CHECK_SRC_STALE] = 3,  [CHECK_SRC_FORBIDDEN] = 4, [CHECK_SRC_FAILED] = 5};
    enum check_source_state st = CHECK_SRC_LOADING;
    int rank = -1;
    static const char *const names[] = {"azure-entra", "azure-arm"};
    for (size_t i = 0; i < 2; i++) {
        const struct check_source *s = find_source(c, names[i]);
        enum check_source_state t = s ? s->state : CHECK_SRC_LOADING;
        if (worse[t] > rank) {
            rank = worse[t];
            st = t;
        }
    }
    return &src_cells[st];
}

static void draw_header(struct view *v)
{
    const struct check_result *cr = v->cfg.checks;
    const struct model_azure *az = v->cfg.store ? store_azure(v->cfg.store) : NULL;
    move(0, 0);
    attrset(term_attr(&v->term, THEME_HEADER));
    hline(' ', COLS);
    int x = put_text(v, 0, 0, THEME_HEADER, " idwatch ");
    char buf[512];
    const char *cluster = az && az->cluster_name ? az->cluster_name : NULL;
    const char *host = v->cfg.server ? v->cfg.server : "";
    if (str_has_prefix(host, "https://"))
        host += 8;
    bool ns_missing = cr && cr->cluster.namespace_missing && v->ns_filter &&
                      str_eq(v->ns_filter, v->cfg.namespace_);
    snprintf(buf, sizeof buf, "| ctx %s | ns %s%s | %s ", v->cfg.context ? v->cfg.context : "-",
             v->ns_filter ? v->ns_filter : "all", ns_missing ? " (does not exist)" : "",
             cluster ? cluster : host);
    int badge = v->cfg.read_only ? 11 : 0;
    put(v, 0, x, COLS - x - badge, THEME_HEADER, buf);
    if (v->cfg.read_only)
        put(v, 0, COLS - badge, badge, THEME_BADGE_RO, " READ-ONLY ");

    move(1, 0);
    attrset(term_attr(&v->term, THEME_DEFAULT));
    clrtoeol();
    if (!cr) {
        put(v, 1, 0, COLS, THEME_DIM, " checks not run yet");
        return;
    }
    const struct check_cluster *c = &cr->cluster;
    x = 1;
    const struct cell_def *d = &oidc_cells[(unsigned)c->oidc.status % CHECK_OIDC__COUNT];
    x += put_text(v, 1, x, THEME_DEFAULT, "OIDC ");
    x += put_text(v, 1, x, d->role, cell_text(v, d));
    d = &webhook_cells[(unsigned)c->webhook.status % CHECK_WEBHOOK__COUNT];
    x += put_text(v, 1, x, THEME_DEFAULT, "  webhook ");
    x += put_text(v, 1, x, d->role, cell_text(v, d));
    if (c->webhook.status == CHECK_WEBHOOK_OK || c->webhook.status == CHECK_WEBHOOK_DEGRADED) {
        snprintf(buf, sizeof buf, " %d/%d", c->webhook.ready, c->webhook.desired);
        x += put_text(v, 1, x, d->role, buf);
    }
    d = &podid_cells[(unsigned)c->pod_identity.status % CHECK_PODID__COUNT];
    x += put_text(v, 1, x, THEME_DEFAULT, "  pod-id ");
    x += put_text(v, 1, x, d->role, cell_text(v, d));
    /* Azure: the worst of the Entra token and ARM (federation rests on both). It always shows;
     * on a narrow screen the NMI/MIC counts give way to it. */
    const struct cell_def *ad = azure_cell(v, c);
    int az_w = wtable_text_width("  azure ") + wtable_text_width(cell_text(v, ad));
    char tail[64];
    snprintf(tail, sizeof tail, " %d/%d %.0f%%", c->migration.workload_identity,
             c->migration.workload_identity + c->migration.pod_identity + c->migration.both,
             c->migration.percent_migrated);
    int tail_w = wtable_text_width(tail);
    if (c->pod_identity.status == CHECK_PODID_RUNNING ||
        c->pod_identity.status == CHECK_PODID_DEGRADED) {
        snprintf(buf, sizeof buf, " NMI %d/%d MIC %d/%d", c->pod_identity.nmi_ready,
                 c->pod_identity.nmi_desired, c->pod_identity.mic_ready,
                 c->pod_identity.mic_desired);
        if (x + wtable_text_width(buf) + az_w + tail_w > COLS)
            snprintf(buf, sizeof buf, " %d/%d", c->pod_identity.nmi_ready,
                     c->pod_identity.nmi_desired);
        x += put_text(v, 1, x, d->role, buf);
    }
    x += put_text(v, 1, x, THEME_DEFAULT, "  azure ");
    x += put_text(v, 1, x, ad->role, cell_text(v, ad));
    /* migration progress: workload identity out of everything that uses an identity. The counts
     * and percent always show: the bar shrinks first, then the label and the decimal go. */
    int done = c->migration.workload_identity;
    int total = c->migration.workload_identity + c->migration.pod_identity + c->migration.both;
    double pct = c->migration.percent_migrated;
    static const struct {
        const char *label;
        int decimals;
    } forms[] = {{"  migrated", 1}, {"  migrated", 0}, {"  mig", 0}, {" ", 0}};
    int room = COLS - x;
    size_t f = 0;
    int barw = 0;
    for (f = 0; f < sizeof forms / sizeof *forms; f++) {
        snprintf(buf, sizeof buf, " %d/%d %.*f%%", done, total, forms[f].decimals, pct);
        int need = wtable_text_width(forms[f].label) + wtable_text_width(buf);
        barw = f == 0 ? room - need - 1 : 0; /* a bar only with the full form */
        if (need <= room)
            break;
    }
    if (f == sizeof forms / sizeof *forms)
        f--;
    if (barw > 30)
        barw = 30;
    x += put_text(v, 1, x, THEME_DEFAULT, forms[f].label);
    if (barw >= 4) {
        char bar[256];
        spark_progress((size_t)done, (size_t)total, barw, v->term.utf8, bar, sizeof bar);
        x += put_text(v, 1, x, THEME_DEFAULT, " ");
        x += put_text(v, 1, x, THEME_PROGRESS, bar);
    }
    put_text(v, 1, x, THEME_DEFAULT, buf);
}

static void draw_table(struct view *v, int y0, int height)
{
    int w[WTABLE_COL__COUNT];
    wtable_layout(COLS, w);
    bool short_kind = w[WTABLE_COL_KIND] < 11;
    int x = 0;
    move(y0, 0);
    attrset(term_attr(&v->term, THEME_COLUMN));
    hline(' ', COLS);
    for (int c = 0; c < WTABLE_COL__COUNT; c++) {
        if (!w[c])
            continue;
        char title[64];
        snprintf(title, sizeof title, "%s%s", wtable_col_title((enum wtable_col)c),
                 c == (int)v->sort ? (v->sort_rev ? (v->term.utf8 ? "\u2191" : "^")
                                                  : (v->term.utf8 ? "\u2193" : "v"))
                                   : "");
        put(v, y0, x, w[c], THEME_COLUMN, title);
        x += w[c] + 1;
    }
    int rows = height - 1;
    v->table_rows = rows;
    if (v->sel < v->top)
        v->top = v->sel;
    if (rows > 0 && v->sel >= v->top + (size_t)rows)
        v->top = v->sel - (size_t)rows + 1;
    if (v->top + (size_t)rows > v->n_rows)
        v->top = v->n_rows > (size_t)rows ? v->n_rows - (size_t)rows : 0;
    for (int i = 0; i < rows; i++) {
        int y = y0 + 1 + i;
        size_t ri = v->top + (size_t)i;
        move(y, 0);
        attrset(term_attr(&v->term, THEME_DEFAULT));
        clrtoeol();
        if (ri >= v->n_rows) {
            if (i == 0 && v->n_rows == 0) {
                const char *why = !v->cfg.checks || !v->cfg.checks->n_workloads
                                      ? "no workloads yet (loading?)"
                                      : "no workload matches the filters (Esc clears /, e, m, n)";
                put(v, y, 2, COLS - 2, THEME_DIM, why);
            }
            continue;
        }
        const struct wtable_row *r = &v->rows[ri];
        bool cur = ri == v->sel && !v->log_focus;
        bool cur_blur = ri == v->sel && v->log_focus;
        if (cur || cur_blur) {
            attrset(term_attr(&v->term, cur ? THEME_CURSOR : THEME_CURSOR_BLUR));
            hline(' ', COLS);
        }
        char pods[24];
        snprintf(pods, sizeof pods, "%d/%d", r->pods_ready, r->pods_total);
        const struct cell_def *sc = &sev_cells[r->severity % 3];
        const char *text[WTABLE_COL__COUNT] = {
            [WTABLE_COL_FLAG] = cell_text(v, sc),
            [WTABLE_COL_NAMESPACE] = r->ns,
            [WTABLE_COL_NAME] = r->name,
            [WTABLE_COL_KIND] = short_kind ? r->kind_short : r->kind,
            [WTABLE_COL_MECH] = r->cells[WTABLE_MECH].text,
            [WTABLE_COL_FED] = r->cells[WTABLE_FED].text,
            [WTABLE_COL_PROJ] = r->cells[WTABLE_PROJ].text,
            [WTABLE_COL_ACT] = r->cells[WTABLE_ACT].text,
            [WTABLE_COL_PODS] = pods,
        };
        enum theme_role roles[WTABLE_COL__COUNT] = {
            [WTABLE_COL_FLAG] = sc->role,
            [WTABLE_COL_NAMESPACE] = THEME_DEFAULT,
            [WTABLE_COL_NAME] = THEME_DEFAULT,
            [WTABLE_COL_KIND] = THEME_DIM,
            [WTABLE_COL_MECH] = r->cells[WTABLE_MECH].role,
            [WTABLE_COL_FED] = r->cells[WTABLE_FED].role,
            [WTABLE_COL_PROJ] = r->cells[WTABLE_PROJ].role,
            [WTABLE_COL_ACT] = r->cells[WTABLE_ACT].role,
            [WTABLE_COL_PODS] = r->pods_ready < r->pods_total ? THEME_WARN : THEME_DEFAULT,
        };
        x = 0;
        for (int c = 0; c < WTABLE_COL__COUNT; c++) {
            if (!w[c])
                continue;
            enum theme_role role = cur ? THEME_CURSOR : cur_blur ? THEME_CURSOR_BLUR : roles[c];
            put(v, y, x, w[c], role, text[c]);
            x += w[c] + 1;
        }
    }
}

/* How the NMI log streams stand: "logs 4/4 live, newest line 3s ago", or what is wrong. The
 * pane must never look live when its evidence is not. */
static void logs_state(struct view *v, char *out, size_t n)
{
    const struct check_result *cr = v->cfg.checks;
    size_t total = 0, live = 0, bad = 0;
    const struct check_source *worst = NULL;
    int64_t newest = 0;
    for (size_t i = 0; cr && i < cr->cluster.n_sources; i++) {
        const struct check_source *s = &cr->cluster.sources[i];
        if (!str_has_prefix(s->name, "nmi-log "))
            continue;
        total++;
        if (s->state == CHECK_SRC_OK)
            live++;
        else if (s->state != CHECK_SRC_LOADING) {
            bad++;
            if (!worst || src_cells[s->state].rank > src_cells[worst->state].rank)
                worst = s;
        }
    }
    const struct store *st = v->cfg.store;
    size_t nr = st ? store_nmi_count(st) : 0;
    if (nr)
        newest = store_nmi_at(st, nr - 1)->time;
    char age[16] = ""; /* a clock time, not an age: an idle screen must not tick */
    if (newest)
        clock_text(newest, age);
    if (!total) {
        snprintf(out, n, "no NMI log read");
    } else if (worst) {
        snprintf(out, n, "logs %zu/%zu live, %zu %s: %s %s", live, total, bad,
                 check_source_state_name(worst->state), worst->name + 8,
                 worst->detail ? worst->detail : "");
    } else {
        snprintf(out, n, "logs %zu/%zu live%s%s", live, total, newest ? ", newest " : "", age);
    }
}

static void draw_activity(struct view *v, int y0, int height)
{
    int64_t window = v->cfg.log_window > 0 ? v->cfg.log_window : 3600;
    char win[16], buf[512], n1[32], n2[32];
    time_format_age(window, win);
    uint64_t total = 0;
    for (size_t i = 0; i < v->n_acts; i++)
        total += v->acts[i].total;
    fmt_count(total, n1);
    fmt_count(v->unattributed, n2);
    char logs[160];
    logs_state(v, logs, sizeof logs);
    /* the evidence first: an 80-column title must still say whether the logs are live */
    snprintf(buf, sizeof buf, " Pod identity (NMI) %s | %s | %s req, %s unattributed%s", win, logs,
             n1, n2,
             v->log_focus ? (v->follow ? "  [view follows; F pauses]" : "  [view paused; F]")
                          : "  (l: focus)");
    move(y0, 0);
    attrset(term_attr(&v->term, v->log_focus ? THEME_TITLE_FOCUS : THEME_TITLE_BLUR));
    hline(' ', COLS);
    put(v, y0, 0, COLS, v->log_focus ? THEME_TITLE_FOCUS : THEME_TITLE_BLUR, buf);
    int lines = height - 1;
    int sum_lines = v->log_focus ? lines / 3 : lines;
    int sw = activity_spark_width();
    int labw = COLS - sw - 29;
    for (int i = 0; i < sum_lines; i++) {
        int y = y0 + 1 + i;
        move(y, 0);
        attrset(term_attr(&v->term, THEME_DEFAULT));
        clrtoeol();
        if ((size_t)i >= v->n_acts) {
            if (i == 0)
                put(v, y, 2, COLS - 2, THEME_DIM,
                    store_nmi_count(v->cfg.store)
                        ? "no requests in the window"
                        : "no NMI requests seen (no NMI, or logs not readable)");
            continue;
        }
        const struct act_entry *e = &v->acts[i];
        char age[16];
        age_text(v, e->last, age);
        put(v, y, 1, labw, e->label[0] == '?' ? THEME_UNKNOWN : THEME_DEFAULT, e->label);
        fmt_count(e->total, n1);
        snprintf(buf, sizeof buf, "%7s req %4u err %4s", n1, e->errors, age);
        put(v, y, 1 + labw + 1, 26, e->errors ? THEME_ERR : THEME_DEFAULT, buf);
        char spark[VIEW_SPARK_MAX * 4 + 1];
        spark_render(e->buckets, (size_t)sw, v->term.utf8, spark, sizeof spark);
        put(v, y, COLS - sw, sw, THEME_SPARK, spark);
    }
    if (!v->log_focus)
        return;
    /* the live request log, newest at the bottom */
    int ly = y0 + 1 + sum_lines;
    int ln = lines - sum_lines;
    size_t n = v->cfg.store ? store_nmi_count(v->cfg.store) : 0;
    size_t first = n > VIEW_LOG_MAX ? n - VIEW_LOG_MAX : 0;
    size_t shown = n - first;
    size_t end = v->follow ? shown : (v->log_top < shown ? v->log_top : shown);
    if (end < (size_t)ln && shown >= (size_t)ln)
        end = (size_t)ln;
    size_t start = end > (size_t)ln ? end - (size_t)ln : 0;
    for (int i = 0; i < ln; i++) {
        int y = ly + i;
        move(y, 0);
        attrset(term_attr(&v->term, THEME_DEFAULT));
        clrtoeol();
        size_t k = start + (size_t)i;
        if (k >= end)
            continue;
        const struct model_nmi_request *r = store_nmi_at(v->cfg.store, first + k);
        char t[16], who[160];
        clock_text(r->time, t);
        request_label(v, r, who, sizeof who);
        bool bad = r->status < 200 || r->status >= 300;
        snprintf(buf, sizeof buf, "%s %3d %-30s %s%s%s", t, r->status, who,
                 r->identity ? r->identity : "", bad && r->error ? "  " : "",
                 bad && r->error ? r->error : "");
        put(v, y, 1, COLS - 1, bad ? THEME_ERR : THEME_DEFAULT, buf);
    }
}

static void draw_status(struct view *v, int y)
{
    move(y, 0);
    attrset(term_attr(&v->term, THEME_STATUS));
    clrtoeol();
    /* a note such as "refreshing ..." must not hide an outage for long */
    if (v->msg[0] && !v->msg_err && v->msg_at && v->now - v->msg_at >= VIEW_NOTE_SECONDS)
        v->msg[0] = '\0';
    if (v->msg[0]) {
        if (!v->msg_err && v->msg_at) {
            int64_t end = v->msg_at + VIEW_NOTE_SECONDS;
            if (!v->next_age_change || end < v->next_age_change)
                v->next_age_change = end;
        }
        put(v, y, 0, COLS, v->msg_err ? THEME_ERR : THEME_STATUS, v->msg);
        return;
    }
    struct idw_buf b = {0};
    const struct store *s = v->cfg.store;
    size_t n = s ? store_source_count(s) : 0;
    const struct store_source *first_err = NULL;
    size_t n_err = 0, n_logs_loading = 0;
    bool busy = false;
    for (size_t i = 0; i < n; i++) {
        const struct store_source *src = store_source_at(s, i);
        char c1[32], c2[32], age[16];
        if (str_eq(src->name, "oidc-issuer"))
            continue; /* its verdict (and why) is the header's OIDC cell */
        switch (src->state) {
        case STORE_SRC_LISTING:
            busy = true;
            if (str_has_prefix(src->name, "nmi-log ")) {
                n_logs_loading++;
                break;
            }
            fmt_count(src->count, c1);
            fmt_count(src->total_hint, c2);
            buf_printf(&b, "%s %s%s%s  ", src->name, c1, src->total_hint ? "/" : "...",
                       src->total_hint ? c2 : "");
            break;
        case STORE_SRC_STALE:
        case STORE_SRC_ERROR: /* summed up in front: a list of names hides the error text */
            if (!first_err || (src->error_since && src->error_since < first_err->error_since))
                first_err = src;
            n_err++;
            break;
        case STORE_SRC_FORBIDDEN: buf_printf(&b, "%s: no permission  ", src->name); break;
        case STORE_SRC_SYNCED:
            /* only stale data shows its age: a live watch must not tick */
            if (src->last_success && v->now - src->last_success >= 300) {
                age_text(v, src->last_success, age);
                buf_printf(&b, "%s %s old  ", src->name, age);
            }
            break;
        case STORE_SRC_IDLE:
        case STORE_SRC_SKIPPED:
        case STORE_SRC_ABSENT: break;
        }
    }
    if (n_logs_loading)
        buf_printf(&b, "NMI logs %zu reading  ", n_logs_loading);
    bool last_err = n_err > 0;
    if (last_err) {
        /* the oldest failure first: it is usually the cause of the others */
        struct idw_buf e = {0};
        char clean[256], age[16] = "";
        str_sanitize(clean, sizeof clean, first_err->error[0] ? first_err->error : "failed");
        if (first_err->error_since)
            age_text(v, first_err->error_since, age);
        if (n_err > 1)
            buf_printf(&e, "%s %zu sources failing | %s: %s", v->term.utf8 ? "\u2717" : "x", n_err,
                       first_err->name, clean);
        else
            buf_printf(&e, "%s %s failing: %s", v->term.utf8 ? "\u2717" : "x", first_err->name,
                       clean);
        if (age[0])
            buf_printf(&e, " for %s", age);
        if (b.len)
            buf_printf(&e, "  %s", b.data);
        buf_free(&b);
        b = e;
    }
    if (!busy && b.len == 0) {
        char c1[32];
        fmt_count(v->cfg.checks ? v->cfg.checks->n_workloads : 0, c1);
        buf_printf(&b, "%s%s workloads, %zu shown", n ? "synced  " : "", c1, v->n_rows);
    }
    if (v->tdiag.n && !last_err)
        buf_printf(&b, "| theme: %zu warning%s (?)", v->tdiag.n + v->tdiag.dropped,
                   v->tdiag.n + v->tdiag.dropped > 1 ? "s" : "");
    /* what the table is narrowed by */
    struct idw_buf f = {0};
    if (v->have_scope_sel)
        buf_printf(&f, " -l %s", v->cfg.selector);
    if (v->filter.active)
        buf_printf(&f, " /%s", v->filter.text);
    if (v->mech_filter >= 0)
        buf_printf(&f, " m:%s", mech_cells[v->mech_filter].ascii);
    if (v->problems)
        buf_printf(&f, " e:problems");
    int fw = f.len ? wtable_text_width(f.data) + 1 : 0;
    if (fw > COLS / 2)
        fw = COLS / 2;
    put(v, y, 0, COLS - fw, last_err ? THEME_WARN : THEME_STATUS, b.data ? b.data : "");
    if (fw)
        put(v, y, COLS - fw, fw, THEME_FILTER, f.data);
    buf_free(&b);
    buf_free(&f);
}

static void draw_hints(struct view *v, int y)
{
    move(y, 0);
    attrset(term_attr(&v->term, THEME_HINT_LABEL));
    clrtoeol();
    if (v->prompting) {
        int x = put_text(v, y, 0, THEME_FILTER, "/");
        put(v, y, x, COLS - x - 1, THEME_FILTER, v->prompt);
        int cx = x + wtable_text_width(v->prompt);
        if (cx < COLS)
            put(v, y, cx, 1, THEME_CURSOR, " ");
        return;
    }
    int x = 0;
    for (int a = ACTION_NONE + 1; a < ACTION__COUNT; a++) {
        const struct action_info *in = action_info((enum action_id)a);
        if (!in->hint)
            continue;
        bool off = !view_key_allowed(v, (enum action_id)a, selected(v), NULL);
        char key[16];
        keymap_first_key(&v->km, (enum action_id)a, key);
        int need = wtable_text_width(key) + wtable_text_width(in->hint) + 2;
        if (x + need > COLS)
            break;
        x += put_text(v, y, x, off ? THEME_HINT_OFF : THEME_HINT_KEY, key);
        x += put_text(v, y, x, off ? THEME_HINT_OFF : THEME_HINT_LABEL, " ");
        x += put_text(v, y, x, off ? THEME_HINT_OFF : THEME_HINT_LABEL, in->hint);
        x += put_text(v, y, x, THEME_HINT_LABEL, " ");
    }
}

static void draw_lines(struct view *v, const struct vlines *l, size_t *top, int y0, int height)
{
    /* long lines wrap with an indent, so a remedy command is never cut off */
    size_t maxtop = l->n > (size_t)height ? l->n - (size_t)height : 0;
    if (*top > maxtop)
        *top = maxtop;
    int y = y0;
    for (size_t i = *top; i < l->n && y < y0 + height; i++) {
        const char *t = l->items[i].text;
        int indent = 0;
        while (t[indent] == ' ')
            indent++;
        int cont = indent + 4 < COLS / 2 ? indent + 4 : 0;
        bool first = true;
        do {
            int avail = COLS - 1 - (first ? 0 : cont);
            char chunk[1024];
            size_t take = 0;
            int cols = 0;
            while (t[take] && cols < avail && take + 4 < sizeof chunk) {
                unsigned char ch = (unsigned char)t[take];
                size_t k = ch < 0x80 ? 1 : (ch & 0xE0) == 0xC0 ? 2 : (ch & 0xF0) == 0xE0 ? 3 : 4;
                take += k;
                cols++;
            }
            if (t[take]) { /* break at the last blank that fits, if any */
                size_t sp = take;
                while (sp > 0 && t[sp - 1] != ' ')
                    sp--;
                if (sp > (size_t)indent + 1)
                    take = sp;
            }
            memcpy(chunk, t, take);
            chunk[take] = '\0';
            move(y, 0);
            attrset(term_attr(&v->term, THEME_DEFAULT));
            clrtoeol();
            put(v, y, first ? 0 : cont, avail, l->items[i].role, chunk);
            t += take;
            y++;
            first = false;
        } while (*t && y < y0 + height);
    }
    for (; y < y0 + height; y++) {
        move(y, 0);
        attrset(term_attr(&v->term, THEME_DEFAULT));
        clrtoeol();
    }
}

static void draw_picker(struct view *v, int y0, int height)
{
    const char *title = v->screen == SCR_PICK_NS ? " Namespace (Enter picks, q/Esc/h cancels)"
                                                 : " Context (Enter switches, q/Esc/h cancels)";
    move(y0, 0);
    attrset(term_attr(&v->term, THEME_TITLE_FOCUS));
    hline(' ', COLS);
    put(v, y0, 0, COLS, THEME_TITLE_FOCUS, title);
    int rows = height - 1;
    if (v->pick_sel < v->pick_top)
        v->pick_top = v->pick_sel;
    if (rows > 0 && v->pick_sel >= v->pick_top + (size_t)rows)
        v->pick_top = v->pick_sel - (size_t)rows + 1;
    for (int i = 0; i < rows; i++) {
        size_t k = v->pick_top + (size_t)i;
        move(y0 + 1 + i, 0);
        attrset(term_attr(&v->term, THEME_DEFAULT));
        clrtoeol();
        if (k >= v->n_pick)
            continue;
        bool cur = k == v->pick_sel;
        if (cur) {
            attrset(term_attr(&v->term, THEME_CURSOR));
            hline(' ', COLS);
        }
        put(v, y0 + 1 + i, 2, COLS - 2, cur ? THEME_CURSOR : THEME_DEFAULT, v->pick[k]);
    }
}

void view_draw(struct view *v)
{
    if (!v->term_open)
        return;
    v->next_age_change = 0;
    rows_sync(v);
    erase();
    if (COLS < VIEW_MIN_COLS || LINES < VIEW_MIN_LINES) {
        char m[96];
        snprintf(m, sizeof m, "terminal too small: need %dx%d, have %dx%d (q quits)", VIEW_MIN_COLS,
                 VIEW_MIN_LINES, COLS, LINES);
        put(v, LINES / 2, 0, COLS, THEME_WARN, m);
        wnoutrefresh(stdscr);
        doupdate();
        v->dirty = false;
        return;
    }
    draw_header(v);
    int body_y = 2, body_h = LINES - 4;
    switch (v->screen) {
    case SCR_MAIN: {
        int pane = v->log_focus ? body_h - 6 : (body_h / 4 > 4 ? body_h / 4 : 4);
        draw_table(v, body_y, body_h - pane);
        draw_activity(v, body_y + body_h - pane, pane);
        break;
    }
    case SCR_DETAIL:
        if (!selected(v)) {
            v->screen = SCR_MAIN;
            view_draw(v);
            return;
        }
        build_detail(v);
        draw_lines(v, &v->detail, &v->detail_top, body_y, body_h);
        break;
    case SCR_HELP: draw_lines(v, &v->help, &v->help_top, body_y, body_h); break;
    case SCR_PICK_NS:
    case SCR_PICK_CTX: draw_picker(v, body_y, body_h); break;
    }
    draw_status(v, LINES - 2);
    draw_hints(v, LINES - 1);
    if (v->dlg_open) { /* on top of everything */
        struct dialog_content dc;
        memset(&dc, 0, sizeof dc);
        v->dlg.content(v->dlg.ctx, &dc);
        dialog_draw(&v->term, &dc);
        v->dlg_seen = v->dlg.version ? v->dlg.version(v->dlg.ctx) : 0;
    }
    if (v->gate_version)
        v->gate_seen = v->gate_version(v->gate_ctx);
    wnoutrefresh(stdscr);
    doupdate();
    v->dirty = false;
}
