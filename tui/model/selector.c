/* selector: label selectors as k8s.io/apimachinery/pkg/labels parses them (lexer + recursive
 * descent, same token rules and error wording), and field selectors as pkg/fields does. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "idwatch/selector.h"

#define SEL_NAME_MAX 63
#define SEL_PREFIX_MAX 253

/* ---- lexer ---------------------------------------------------------------------------------- */

#define SEL_TOKENS(X)                                                                              \
    X(TOK_END, "")                                                                                 \
    X(TOK_CLOSE, ")")                                                                              \
    X(TOK_COMMA, ",")                                                                              \
    X(TOK_NOT, "!")                                                                                \
    X(TOK_DEQ, "==")                                                                               \
    X(TOK_EQ, "=")                                                                                 \
    X(TOK_GT, ">")                                                                                 \
    X(TOK_IDENT, NULL)                                                                             \
    X(TOK_IN, "in")                                                                                \
    X(TOK_LT, "<")                                                                                 \
    X(TOK_NE, "!=")                                                                                \
    X(TOK_NOTIN, "notin")                                                                          \
    X(TOK_OPEN, "(")

enum sel_tok {
#define X(id, lit) id,
    SEL_TOKENS(X)
#undef X
};

static const char *const sel_tok_lit[] = {
#define X(id, lit) lit,
    SEL_TOKENS(X)
#undef X
};

struct sel_item {
    enum sel_tok tok;
    char *lit;  /* the literal text (identifiers, keywords, symbols) */
    size_t pos; /* byte offset in the input */
};

struct sel_lexer {
    const char *s;
    size_t pos;
    size_t len;
};

static bool sel_is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool sel_is_special(char c)
{
    return c != '\0' && strchr("=!(),><", c) != NULL;
}

/* Maps a literal to its token (keywords and operators); TOK_IDENT otherwise. */
static enum sel_tok sel_lookup(const char *s, size_t n)
{
    for (size_t i = 0; i < sizeof sel_tok_lit / sizeof sel_tok_lit[0]; i++) {
        const char *l = sel_tok_lit[i];
        if (l && *l && strlen(l) == n && memcmp(l, s, n) == 0)
            return (enum sel_tok)i;
    }
    return TOK_IDENT;
}

static struct sel_item sel_lex(struct sel_lexer *l)
{
    while (l->pos < l->len && sel_is_space(l->s[l->pos]))
        l->pos++;
    struct sel_item it = {.tok = TOK_END, .lit = NULL, .pos = l->pos};
    if (l->pos >= l->len) {
        it.lit = xstrdup("");
        return it;
    }
    size_t start = l->pos;
    if (sel_is_special(l->s[start])) {
        /* longest operator made of special symbols, as the upstream scanner does */
        size_t best = 0;
        enum sel_tok tok = TOK_END;
        for (size_t n = 1; start + n <= l->len && sel_is_special(l->s[start + n - 1]); n++) {
            enum sel_tok t = sel_lookup(l->s + start, n);
            if (t != TOK_IDENT) {
                best = n;
                tok = t;
            } else if (best) {
                break;
            }
        }
        l->pos = start + best; /* best >= 1: every special symbol is a token by itself */
        it.tok = tok;
        it.lit = xstrndup(l->s + start, best);
        return it;
    }
    while (l->pos < l->len && !sel_is_special(l->s[l->pos]) && !sel_is_space(l->s[l->pos]))
        l->pos++;
    it.lit = xstrndup(l->s + start, l->pos - start);
    it.tok = sel_lookup(it.lit, l->pos - start);
    return it;
}

/* ---- validation (k8s.io/apimachinery/pkg/util/validation) ------------------------------------ */

static bool sel_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* ([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9], at most 63 characters; empty allowed if allow_empty. */
static const char *sel_check_name(const char *s, size_t n, bool allow_empty)
{
    if (n == 0)
        return allow_empty ? NULL : "name part must be non-empty";
    if (n > SEL_NAME_MAX)
        return "must be no more than 63 characters";
    if (!sel_alnum(s[0]) || !sel_alnum(s[n - 1]))
        return "must consist of alphanumeric characters, '-', '_' or '.', and must start and end "
               "with an alphanumeric character";
    for (size_t i = 0; i < n; i++)
        if (!sel_alnum(s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.')
            return "must consist of alphanumeric characters, '-', '_' or '.', and must start and "
                   "end with an alphanumeric character";
    return NULL;
}

/* DNS-1123 subdomain: lowercase labels [a-z0-9]([-a-z0-9]*[a-z0-9])? joined by '.', <= 253. */
static const char *sel_check_prefix(const char *s, size_t n)
{
    if (n == 0)
        return "prefix part must be non-empty";
    if (n > SEL_PREFIX_MAX)
        return "prefix part must be no more than 253 characters";
    size_t label_start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i == n || s[i] == '.') {
            size_t len = i - label_start;
            const char *lab = s + label_start;
            if (len == 0 || lab[0] == '-' || lab[len - 1] == '-')
                return "prefix part a lowercase RFC 1123 subdomain must consist of lower case "
                       "alphanumeric characters, '-' or '.', and must start and end with an "
                       "alphanumeric character";
            label_start = i + 1;
            continue;
        }
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
            return "prefix part a lowercase RFC 1123 subdomain must consist of lower case "
                   "alphanumeric characters, '-' or '.', and must start and end with an "
                   "alphanumeric character";
    }
    return NULL;
}

/* IsQualifiedName: [prefix/]name. */
static const char *sel_check_key(const char *k)
{
    const char *slash = strchr(k, '/');
    if (!slash)
        return sel_check_name(k, strlen(k), false);
    if (strchr(slash + 1, '/'))
        return "a qualified name must consist of alphanumeric characters, '-', '_' or '.' with an "
               "optional DNS subdomain prefix and '/'";
    const char *why = sel_check_prefix(k, (size_t)(slash - k));
    if (why)
        return why;
    return sel_check_name(slash + 1, strlen(slash + 1), false);
}

/* ---- parser -----------------------------------------------------------------------------------
 */

struct sel_parser {
    const char *text;
    struct sel_item *items;
    size_t n;
    size_t at;
    struct idw_err *err;
};

/* In a "values" context the keywords in/notin are plain identifiers (`k in (in)`). */
static enum sel_tok sel_peek(const struct sel_parser *p, bool values, const char **lit, size_t *pos)
{
    const struct sel_item *it = &p->items[p->at];
    if (lit)
        *lit = it->lit;
    if (pos)
        *pos = it->pos;
    if (values && (it->tok == TOK_IN || it->tok == TOK_NOTIN))
        return TOK_IDENT;
    return it->tok;
}

static enum sel_tok sel_next(struct sel_parser *p, bool values, const char **lit, size_t *pos)
{
    enum sel_tok t = sel_peek(p, values, lit, pos);
    if (p->items[p->at].tok != TOK_END)
        p->at++;
    return t;
}

/* Untrusted input ends up in the message: the whole line is sanitized, and quoted parts are
 * bounded so the position stays visible. */
__attribute__((format(printf, 3, 4))) static int sel_fail(struct sel_parser *p, size_t pos,
                                                          const char *fmt, ...)
{
    char why[384], raw[IDW_ERR_MAX], clean[IDW_ERR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    snprintf(raw, sizeof raw, "label selector '%.100s%s': %s at %zu", p->text,
             strlen(p->text) > 100 ? "..." : "", why, pos);
    return idw_err_set(p->err, "%s", str_sanitize(clean, sizeof clean, raw));
}

static void sel_req_add_value(struct selector_req *r, const char *v)
{
    for (size_t i = 0; i < r->n_values; i++)
        if (strcmp(r->values[i], v) == 0)
            return; /* a set, as upstream */
    r->values = xrealloc(r->values, (r->n_values + 1) * sizeof *r->values);
    r->values[r->n_values++] = xstrdup(v);
}

static void sel_req_free(struct selector_req *r)
{
    for (size_t i = 0; i < r->n_values; i++)
        free(r->values[i]);
    free(r->values);
    free(r->key);
    memset(r, 0, sizeof *r);
}

static int sel_parse_values(struct sel_parser *p, struct selector_req *r)
{
    const char *lit;
    size_t pos;
    if (sel_next(p, true, &lit, &pos) != TOK_OPEN)
        return sel_fail(p, pos, "found '%.40s' expected: '('", lit);
    enum sel_tok t = sel_peek(p, true, &lit, &pos);
    if (t == TOK_CLOSE) { /* "()" is the set {""} */
        sel_next(p, true, NULL, NULL);
        sel_req_add_value(r, "");
        return 0;
    }
    if (t != TOK_IDENT && t != TOK_COMMA)
        return sel_fail(p, pos, "found '%.40s', expected: ',', ')' or identifier", lit);
    for (;;) {
        t = sel_next(p, true, &lit, &pos);
        if (t == TOK_IDENT) {
            sel_req_add_value(r, lit);
            const char *lit2;
            size_t pos2;
            enum sel_tok t2 = sel_peek(p, true, &lit2, &pos2);
            if (t2 == TOK_COMMA)
                continue;
            if (t2 == TOK_CLOSE)
                break;
            return sel_fail(p, pos2, "found '%.40s', expected: ',' or ')'", lit2);
        } else if (t == TOK_COMMA) { /* empty values: "(,a" "a,,b" "a,)" */
            if (r->n_values == 0)
                sel_req_add_value(r, "");
            enum sel_tok t2 = sel_peek(p, true, NULL, NULL);
            if (t2 == TOK_CLOSE) {
                sel_req_add_value(r, "");
                break;
            }
            if (t2 == TOK_COMMA) {
                sel_next(p, true, NULL, NULL);
                sel_req_add_value(r, "");
            }
        } else {
            return sel_fail(p, pos, "found '%.40s', expected: ',', or identifier", lit);
        }
    }
    if (sel_next(p, true, &lit, &pos) != TOK_CLOSE)
        return sel_fail(p, pos, "found '%.40s', expected: ')'", lit);
    return 0;
}

static int sel_parse_requirement(struct sel_parser *p, struct selector_req *r)
{
    const char *lit;
    size_t pos;
    enum sel_tok t = sel_next(p, true, &lit, &pos);
    bool negated = false;
    if (t == TOK_NOT) {
        negated = true;
        t = sel_next(p, true, &lit, &pos);
    }
    if (t != TOK_IDENT)
        return sel_fail(p, pos, "found '%.40s', expected: identifier", lit);
    const char *why = sel_check_key(lit);
    if (why) {
        return sel_fail(p, pos, "key '%.63s': %s", lit, why);
    }
    r->key = xstrdup(lit);
    enum sel_tok la = sel_peek(p, true, NULL, NULL);
    if (negated) {
        r->op = SEL_NOTEXISTS;
        return 0; /* whatever follows must be ',' or the end: checked by the caller */
    }
    if (la == TOK_END || la == TOK_COMMA) {
        r->op = SEL_EXISTS;
        return 0;
    }
    t = sel_next(p, false, &lit, &pos);
    switch (t) {
    case TOK_IN: r->op = SEL_IN; break;
    case TOK_NOTIN: r->op = SEL_NOTIN; break;
    case TOK_EQ:
    case TOK_DEQ: r->op = SEL_EQ; break;
    case TOK_NE: r->op = SEL_NE; break;
    case TOK_GT:
    case TOK_LT:
        /* upstream accepts Gt/Lt (integer compare); idwatch has no use for them */
        return sel_fail(p, pos,
                        "operator '%s' is not supported, use one of in, notin, =, ==, !=", lit);
    default: return sel_fail(p, pos, "found '%.40s', expected: in, notin, =, ==, !=, gt, lt", lit);
    }
    if (r->op == SEL_IN || r->op == SEL_NOTIN) {
        if (sel_parse_values(p, r) != 0)
            return -1;
    } else {
        la = sel_peek(p, true, &lit, &pos);
        if (la == TOK_END || la == TOK_COMMA) {
            sel_req_add_value(r, ""); /* `k=` means the empty value */
        } else {
            t = sel_next(p, true, &lit, &pos);
            if (t != TOK_IDENT)
                return sel_fail(p, pos, "found '%.40s', expected: identifier", lit);
            sel_req_add_value(r, lit);
        }
    }
    for (size_t i = 0; i < r->n_values; i++) {
        why = sel_check_name(r->values[i], strlen(r->values[i]), true);
        if (why) {
            return sel_fail(p, pos, "value '%.63s' of key '%.63s': %s", r->values[i], r->key, why);
        }
    }
    return 0;
}

static void sel_push(struct selector *out, struct selector_req *r)
{
    out->reqs = xrealloc(out->reqs, (out->n + 1) * sizeof *out->reqs);
    out->reqs[out->n++] = *r;
    memset(r, 0, sizeof *r);
}

int selector_parse(const char *text, struct selector *out, struct idw_err *err)
{
    memset(out, 0, sizeof *out);
    if (!text)
        text = "";
    struct sel_lexer lx = {.s = text, .pos = 0, .len = strlen(text)};
    struct sel_parser p = {.text = text, .err = err};
    size_t cap = 0;
    for (;;) {
        xgrow((void **)&p.items, &cap, p.n + 1, sizeof *p.items);
        p.items[p.n] = sel_lex(&lx);
        if (p.items[p.n++].tok == TOK_END)
            break;
    }
    int rc = 0;
    for (;;) {
        const char *lit;
        size_t pos;
        enum sel_tok t = sel_peek(&p, true, &lit, &pos);
        if (t == TOK_END)
            break;
        if (t != TOK_IDENT && t != TOK_NOT) {
            rc = sel_fail(&p, pos, "found '%.40s', expected: !, identifier, or 'end of string'",
                          lit);
            break;
        }
        struct selector_req r = {0};
        if (sel_parse_requirement(&p, &r) != 0) {
            sel_req_free(&r);
            rc = -1;
            break;
        }
        sel_push(out, &r);
        t = sel_next(&p, true, &lit, &pos);
        if (t == TOK_END)
            break;
        if (t != TOK_COMMA) {
            rc = sel_fail(&p, pos, "found '%.40s', expected: ',' or 'end of string'", lit);
            break;
        }
        t = sel_peek(&p, true, &lit, &pos);
        if (t != TOK_IDENT && t != TOK_NOT) {
            rc = sel_fail(&p, pos, "found '%.40s', expected: identifier after ','", lit);
            break;
        }
    }
    for (size_t i = 0; i < p.n; i++)
        free(p.items[i].lit);
    free(p.items);
    if (rc != 0)
        selector_free(out);
    return rc;
}

/* ---- matching ---------------------------------------------------------------------------------
 */

static bool sel_has_value(const struct selector_req *r, const char *v)
{
    for (size_t i = 0; i < r->n_values; i++)
        if (strcmp(r->values[i], v) == 0)
            return true;
    return false;
}

static bool sel_req_match(const struct selector_req *r, const char *v /* NULL = absent */)
{
    switch (r->op) {
    case SEL_EQ:
    case SEL_IN: return v && sel_has_value(r, v);
    case SEL_NE:
    case SEL_NOTIN: return !v || !sel_has_value(r, v);
    case SEL_EXISTS: return v != NULL;
    case SEL_NOTEXISTS: return v == NULL;
    }
    return false;
}

bool selector_match_fn(const struct selector *sel, const char *(*get)(void *ctx, const char *key),
                       void *ctx)
{
    for (size_t i = 0; sel && i < sel->n; i++)
        if (!sel_req_match(&sel->reqs[i], get(ctx, sel->reqs[i].key)))
            return false;
    return true;
}

/* Walks the kvlist directly: kv_get() belongs to another module. */
static const char *sel_kv_lookup(void *ctx, const char *key)
{
    const struct model_kvlist *l = ctx;
    for (size_t i = 0; l && i < l->n; i++)
        if (l->items[i].key && strcmp(l->items[i].key, key) == 0)
            return l->items[i].value ? l->items[i].value : "";
    return NULL;
}

bool selector_match(const struct selector *sel, const struct model_kvlist *labels)
{
    return selector_match_fn(sel, sel_kv_lookup, (void *)labels);
}

/* ---- field selectors (k8s.io/apimachinery/pkg/fields) ------------------------------------------
 */

static int sel_field_fail(struct idw_err *err, const char *text, const char *why, size_t pos)
{
    char raw[IDW_ERR_MAX], clean[IDW_ERR_MAX];
    snprintf(raw, sizeof raw, "field selector '%.100s%s': %s at %zu", text,
             strlen(text) > 100 ? "..." : "", why, pos);
    return idw_err_set(err, "%s", str_sanitize(clean, sizeof clean, raw));
}

/* Undoes \\ \, \= escapes; a bare ',' or '=' in a value is an error, as upstream. */
static int sel_field_unescape(const char *s, size_t n, char **out, const char **why)
{
    char *v = xmalloc(n + 1);
    size_t o = 0;
    bool slash = false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (slash) {
            if (c != '\\' && c != ',' && c != '=') {
                free(v);
                *why = "invalid escape sequence";
                return -1;
            }
            v[o++] = c;
            slash = false;
        } else if (c == '\\') {
            slash = true;
        } else if (c == ',' || c == '=') {
            free(v);
            *why = "invalid field selector: unescaped character";
            return -1;
        } else {
            v[o++] = c;
        }
    }
    if (slash) {
        free(v);
        *why = "invalid escape sequence";
        return -1;
    }
    v[o] = '\0';
    *out = v;
    return 0;
}

static int sel_field_term(const char *text, size_t start, size_t end, struct selector *out,
                          struct idw_err *err)
{
    const char *t = text + start;
    size_t n = end - start;
    if (n == 0)
        return 0; /* empty terms are skipped upstream */
    /* the first operator occurrence splits the term; "!=" and "==" win over "=" */
    for (size_t i = 0; i < n; i++) {
        size_t oplen = 0;
        enum selector_op op = SEL_EQ;
        if (t[i] == '!' && i + 1 < n && t[i + 1] == '=') {
            oplen = 2;
            op = SEL_NE;
        } else if (t[i] == '=' && i + 1 < n && t[i + 1] == '=') {
            oplen = 2;
        } else if (t[i] == '=') {
            oplen = 1;
        }
        if (!oplen)
            continue;
        char *value;
        const char *why;
        if (sel_field_unescape(t + i + oplen, n - i - oplen, &value, &why) != 0)
            return sel_field_fail(err, text, why, start + i + oplen);
        struct selector_req r = {.op = op, .key = xstrndup(t, i)};
        r.values = xmalloc(sizeof *r.values);
        r.values[0] = value;
        r.n_values = 1;
        sel_push(out, &r);
        return 0;
    }
    char why[160];
    snprintf(why, sizeof why, "can't understand '%.*s'", (int)(n > 80 ? 80 : n), t);
    return sel_field_fail(err, text, why, start);
}

int selector_parse_fields(const char *text, struct selector *out, struct idw_err *err)
{
    memset(out, 0, sizeof *out);
    if (!text)
        return 0;
    size_t len = strlen(text), start = 0;
    bool slash = false;
    for (size_t i = 0; i <= len; i++) {
        if (i < len) {
            if (slash) {
                slash = false;
                continue;
            }
            if (text[i] == '\\') {
                slash = true;
                continue;
            }
            if (text[i] != ',')
                continue;
        }
        if (sel_field_term(text, start, i, out, err) != 0) {
            selector_free(out);
            return -1;
        }
        start = i + 1;
    }
    return 0;
}

void selector_free(struct selector *sel)
{
    if (!sel)
        return;
    for (size_t i = 0; i < sel->n; i++)
        sel_req_free(&sel->reqs[i]);
    free(sel->reqs);
    sel->reqs = NULL;
    sel->n = 0;
}
