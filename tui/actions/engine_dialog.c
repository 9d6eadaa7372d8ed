/* actions/engine_dialog: the identity picker of ANNOTATE_SA and the dialog's content (title,
 * lines, key hints) for the view to draw. */
#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine_int.h"

/* ---- the identity picker (a) -------------------------------------------------------------- */

/* The client id of the AzureIdentity the workload's aadpodidbinding selects: the natural
 * choice when migrating from pod identity (what azwi podidentity detect does). */
static const char *pod_identity_client_id(const struct actions *a, const struct check_workload *w)
{
    const struct store *s = a->cfg.store;
    if (!s || !w || !w->pi_selector)
        return NULL;
    for (size_t i = 0; i < store_azbinding_count(s); i++) {
        const struct model_azure_identity_binding *b = store_azbinding_at(s, i);
        if (!str_eq(b->selector, w->pi_selector))
            continue;
        for (size_t j = 0; j < store_azid_count(s); j++) {
            const struct model_azure_identity *id = store_azid_at(s, j);
            if (str_eq(id->meta.name, b->identity) &&
                str_eq(id->meta.namespace_, b->meta.namespace_) && id->client_id)
                return id->client_id;
        }
    }
    return NULL;
}

void act_picker_open(struct actions *a, const struct check_workload *w)
{
    struct run *r = a->run;
    const struct model_azure *az = a->cfg.store ? store_azure(a->cfg.store) : NULL;
    const char *want = pod_identity_client_id(a, w);
    for (size_t i = 0; az && i < az->n_identities && r->n_choices < ACT_PICK_MAX; i++) {
        const struct model_identity *id = &az->identities[i];
        if (!act_client_id_valid(id->client_id))
            continue;
        r->choices = xrealloc(r->choices, (r->n_choices + 1) * sizeof *r->choices);
        struct choice *ch = &r->choices[r->n_choices++];
        memset(ch, 0, sizeof *ch);
        char n[96], g[96];
        ch->label =
            xasprintf("%-28s %-22s %s", str_sanitize(n, sizeof n, id->name ? id->name : "?"),
                      str_sanitize(g, sizeof g, id->resource_group ? id->resource_group : "-"),
                      id->client_id);
        ch->client_id = xstrdup(id->client_id);
        /* the tenant annotation only when it differs from the cluster's (the webhook default) */
        if (id->tenant_id && az->tenant_id && strcasecmp(id->tenant_id, az->tenant_id) != 0)
            ch->tenant_id = xstrdup(id->tenant_id);
        if (want && strcasecmp(id->client_id, want) == 0)
            r->sel = r->n_choices - 1;
    }
    bool listed = false;
    for (size_t i = 0; want && i < r->n_choices; i++)
        listed = listed || strcasecmp(r->choices[i].client_id, want) == 0;
    if (!r->n_choices || (want && !listed)) { /* pod identity's client id, typed in already */
        r->typing = true;
        if (want)
            snprintf(r->typed, sizeof r->typed, "%s", want);
    }
    r->state = ACT_ST_PICK;
    a->version++;
}

static void pick_done(struct actions *a)
{
    struct run *r = a->run;
    const char *cid = NULL, *tid = NULL;
    if (r->typing) {
        cid = r->typed;
    } else if (r->sel < r->n_choices) {
        cid = r->choices[r->sel].client_id;
        tid = r->choices[r->sel].tenant_id;
    }
    if (!act_client_id_valid(cid)) {
        strv_free(&r->answer, &r->n_answer);
        act_answer_add(r, "a client id is a GUID: 8-4-4-4-12 hex digits");
        a->version++;
        return;
    }
    free(r->client_id);
    free(r->tenant_id);
    r->client_id = xstrdup(cid);
    r->tenant_id = xstrdup(tid);
    strv_free(&r->answer, &r->n_answer);
    act_start_step(a);
}

int act_picker_key(struct actions *a, int key)
{
    struct run *r = a->run;
    if (key == ACT_KEY_ESC) {
        act_run_close(a);
        return 0;
    }
    if (key == ACT_KEY_TAB && r->n_choices) {
        r->typing = !r->typing;
    } else if (key == ACT_KEY_ENTER || key == '\r') {
        pick_done(a);
    } else if (r->typing) {
        size_t n = strlen(r->typed);
        if (key == ACT_KEY_BACKSPACE || key == 8) {
            if (n)
                r->typed[n - 1] = '\0';
        } else if (key > 0x20 && key < 0x7f && n + 1 < sizeof r->typed) {
            r->typed[n] = (char)key;
            r->typed[n + 1] = '\0';
        }
    } else if (key == ACT_KEY_UP || key == 'k') {
        if (r->sel)
            r->sel--;
    } else if (key == ACT_KEY_DOWN || key == 'j') {
        if (r->sel + 1 < r->n_choices)
            r->sel++;
    } else if (key == 'y') {
        pick_done(a);
    } else if (key == 'n' || key == 'q') {
        act_run_close(a);
        return 0;
    }
    a->version++;
    return a->run ? 1 : 0;
}

void act_lines_clear(struct actions *a)
{
    for (size_t i = 0; i < a->n_lines; i++)
        free(a->lines[i].text);
    a->n_lines = 0;
}

/* ---- the dialog's content ------------------------------------------------------------------- */

static void line(struct actions *a, enum act_style st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void line(struct actions *a, enum act_style st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = xvasprintf(fmt, ap);
    va_end(ap);
    xgrow((void **)&a->lines, &a->cap_lines, a->n_lines + 1, sizeof *a->lines);
    a->lines[a->n_lines++] = (struct act_line){st, s};
}

static const char *const ctypes[] = {
#define X(id, ct) ct,
    KUBE_PATCH_TYPES(X)
#undef X
};

static void show_change(struct actions *a, const struct act_change *c)
{
    line(a, ACT_STYLE_TEXT, "object        %s", c->object);
    if (c->target == ACT_TARGET_ARM) {
        line(a, ACT_STYLE_TEXT, "request       PUT <ARM>%s?api-version=2024-11-30", c->path);
        line(a, ACT_STYLE_TEXT, "content type  application/json");
        line(a, ACT_STYLE_HEAD, "body");
        line(a, ACT_STYLE_CODE, "%s", c->body);
    } else {
        line(a, ACT_STYLE_TEXT, "request       PATCH %s?fieldManager=idwatch", c->path);
        line(a, ACT_STYLE_TEXT, "patch type    %s", ctypes[c->patch_type]);
        line(a, ACT_STYLE_TEXT, "precondition  %s%s",
             c->resource_version ? "resourceVersion " : "none",
             c->resource_version ? c->resource_version : "");
        line(a, ACT_STYLE_HEAD, "body");
        line(a, ACT_STYLE_CODE, "%s", c->body);
        for (size_t i = 0; i < c->n_edits; i++) {
            const struct act_edit *e = &c->edits[i];
            line(a, ACT_STYLE_DIM, "  %s %s: %s%s%s -> %s%s%s",
                 e->map == ACT_MAP_LABELS ? "label" : "annotation", e->key, e->old ? "\"" : "",
                 e->old ? e->old : "(absent)", e->old ? "\"" : "", e->value ? "\"" : "",
                 e->value ? e->value : "(removed)", e->value ? "\"" : "");
        }
    }
    for (size_t i = 0; i < c->n_warnings; i++)
        line(a, ACT_STYLE_WARN, "! %s", c->warnings[i]);
}

void actions_view(struct actions *a, struct act_view *out)
{
    act_lines_clear(a);
    free(a->title);
    free(a->footer);
    a->title = a->footer = NULL;
    memset(out, 0, sizeof *out);
    struct run *r = a->run;
    if (!r)
        return;
    const char *what = r->migrate ? "M: migrate" : NULL;
    const char *k = act_key_name(a, r->kind);
    if (r->kind == ACTION_UNDO && r->have_change)
        a->title = xasprintf("%s: undo %s (%s)", act_key_name(a, ACTION_UNDO),
                             act_key_name(a, r->change.undo_of), act_name(r->change.undo_of));
    else if (what)
        a->title = xasprintf("%s %s/%s, step %zu of %zu: %s %s", what, r->ns, r->name, r->pos + 1,
                             r->n_plan, k, act_name(r->kind));
    else
        a->title = xasprintf("%s: %s", k, act_name(r->kind));
    for (size_t i = 0; i < r->n_notes; i++)
        line(a, ACT_STYLE_DIM, "%s", r->notes[i]);
    if (r->state == ACT_ST_PICK) {
        const struct check_workload *w = act_run_workload(a, r);
        line(a, ACT_STYLE_HEAD, "Identity for service account %s/%s", r->ns,
             w && w->service_account ? w->service_account : "default");
        if (!r->n_choices)
            line(a, ACT_STYLE_DIM, "no user-assigned identities are known (Azure not available?)");
        for (size_t i = 0; i < r->n_choices; i++)
            line(a, !r->typing && i == r->sel ? ACT_STYLE_SELECTED : ACT_STYLE_CHOICE, "%s %s",
                 !r->typing && i == r->sel ? ">" : " ", r->choices[i].label);
        line(a, r->typing ? ACT_STYLE_INPUT : ACT_STYLE_DIM, "client id: %s%s", r->typed,
             r->typing ? "_" : "  (Tab to type one)");
        for (size_t i = 0; i < r->n_answer; i++)
            line(a, ACT_STYLE_ERR, "%s", r->answer[i]);
        a->footer =
            xstrdup(r->typing ? "type the client id  Enter use it  Tab list  Esc cancel"
                              : "j/k choose  Enter use it  Tab type a client id  Esc cancel");
    } else {
        if (r->have_change)
            show_change(a, &r->change);
        const char *head = r->state == ACT_ST_DRY_RUN    ? "Server answer (dry run): waiting..."
                           : r->state == ACT_ST_APPLYING ? "Applying..."
                           : r->state == ACT_ST_REREAD   ? "Conflict: re-reading the object..."
                           : r->state == ACT_ST_CONFLICT ? "Conflict (409)"
                           : r->state == ACT_ST_DONE || r->state == ACT_ST_FAILED
                               ? "Result"
                               : "Server answer (dry run)";
        line(a, ACT_STYLE_HEAD, "%s", head);
        enum act_style ans = r->state == ACT_ST_CONFIRM || r->state == ACT_ST_DONE ? ACT_STYLE_OK
                             : r->state == ACT_ST_REJECTED || r->state == ACT_ST_FAILED ||
                                     r->state == ACT_ST_CONFLICT
                                 ? ACT_STYLE_ERR
                                 : ACT_STYLE_TEXT;
        for (size_t i = 0; i < r->n_answer; i++)
            line(a, ans, "%s", r->answer[i]);
        if ((r->state == ACT_ST_DONE || r->state == ACT_ST_FAILED) && r->result[0])
            line(a, r->result_err ? ACT_STYLE_ERR : ACT_STYLE_OK, "%s", r->result);
        switch (r->state) {
        case ACT_ST_DRY_RUN:
        case ACT_ST_REREAD: a->footer = xstrdup("Esc cancel"); break;
        case ACT_ST_CONFIRM:
            a->footer = xstrdup(r->migrate ? "y apply  s skip this step  n/Esc cancel"
                                           : "y apply  n/Esc cancel");
            break;
        case ACT_ST_CONFLICT:
            a->footer = xstrdup("y build again from this state  n/Esc cancel");
            break;
        case ACT_ST_APPLYING: a->footer = xstrdup("waiting for the server..."); break;
        default: a->footer = xstrdup("nothing more to do  Enter/Esc close"); break;
        }
    }
    out->title = a->title;
    out->danger = r->state == ACT_ST_CONFIRM;
    out->lines = a->lines;
    out->n_lines = a->n_lines;
    out->footer = a->footer;
}
