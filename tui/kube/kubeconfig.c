/* kubeconfig: libyaml document walk, kubectl's merge rules, context resolution. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <yaml.h>

#include "idwatch/kubeconfig.h"

#define KC_FILE_MAX ((size_t)16 << 20)
#define KC_PEM_MAX ((size_t)1 << 20)
#define KC_VISIT_MAX 1000000 /* nodes visited per document: aliases can multiply work */
#define KC_DEPTH_MAX 64
#define KC_EXEC_EXTENSION "client.authentication.k8s.io/exec"
#define KC_SA_DIR "/var/run/secrets/kubernetes.io/serviceaccount"

struct kc_cluster {
    char *name;
    char *server;
    char *ca_file, *ca_data;
    bool insecure;
    char *tls_server_name;
    char *proxy_url;
    bool disable_compression;
    char *exec_config; /* JSON */
};

struct kc_user {
    char *name;
    char *cert_file, *cert_data, *key_file, *key_data;
    char *token, *token_file;
    bool basic_auth;
    char *auth_provider;
    bool has_exec;
    struct kubeconfig_exec exec;
    bool exec_interactive_set;
};

struct kc_context {
    char *name;
    char *cluster;
    char *user;
    char *namespace_;
};

struct kubeconfig {
    struct kc_cluster *clusters;
    size_t n_clusters, cap_clusters;
    struct kc_user *users;
    size_t n_users, cap_users;
    struct kc_context *contexts;
    size_t n_contexts, cap_contexts;
    char *current_context;
    char **files;
    size_t n_files;
    bool in_cluster;
};

/* ---- parse state ---------------------------------------------------------------------- */

struct kc_parse {
    yaml_document_t *doc;
    const char *name; /* file name for messages */
    const char *dir;  /* for relative paths; NULL = leave them */
    struct idw_err *err;
    long visits;
};

static int perr(struct kc_parse *p, const yaml_node_t *n, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int perr(struct kc_parse *p, const yaml_node_t *n, const char *path, const char *fmt, ...)
{
    char why[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    char safe[IDW_ERR_MAX];
    str_sanitize(safe, sizeof safe, why);
    return idw_err_set(p->err, "%s:%zu:%zu: %s%s%s", p->name, n ? n->start_mark.line + 1 : 1,
                       n ? n->start_mark.column + 1 : 1, path ? path : "", path ? ": " : "", safe);
}

static yaml_node_t *node_at(struct kc_parse *p, int idx)
{
    p->visits++;
    return yaml_document_get_node(p->doc, idx);
}

static bool node_is_null(const yaml_node_t *n)
{
    if (!n)
        return true;
    if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return false;
    const char *v = (const char *)n->data.scalar.value;
    return !*v || !strcmp(v, "~") || !strcmp(v, "null") || !strcmp(v, "Null") || !strcmp(v, "NULL");
}

/* A string value; null gives NULL (absent). */
static int get_str(struct kc_parse *p, yaml_node_t *n, const char *path, char **out)
{
    if (node_is_null(n))
        return 0;
    if (n->type != YAML_SCALAR_NODE)
        return perr(p, n, path, "expected a string");
    free(*out);
    *out = xstrndup((const char *)n->data.scalar.value, n->data.scalar.length);
    if (strlen(*out) != n->data.scalar.length)
        return perr(p, n, path, "string contains a NUL byte");
    return 0;
}

static int get_bool(struct kc_parse *p, yaml_node_t *n, const char *path, bool *out)
{
    static const char *const yes[] = {"true", "True", "TRUE", "yes", "Yes",
                                      "YES",  "on",   "On",   "ON",  NULL};
    static const char *const no[] = {"false", "False", "FALSE", "no",  "No",
                                     "NO",    "off",   "Off",   "OFF", NULL};
    if (node_is_null(n))
        return 0;
    if (n->type == YAML_SCALAR_NODE) {
        const char *v = (const char *)n->data.scalar.value;
        for (size_t i = 0; yes[i]; i++)
            if (!strcmp(v, yes[i]))
                return *out = true, 0;
        for (size_t i = 0; no[i]; i++)
            if (!strcmp(v, no[i]))
                return *out = false, 0;
    }
    return perr(p, n, path, "expected true or false");
}

static char *path_join(const char *dir, const char *rel)
{
    if (!dir || !rel || rel[0] == '/' || !*rel)
        return xstrdup(rel);
    while (rel[0] == '.' && rel[1] == '/')
        rel += 2;
    return xasprintf("%s/%s", dir, rel);
}

static void resolve_path(struct kc_parse *p, char **path)
{
    if (*path && p->dir && (*path)[0] != '/' && (*path)[0]) {
        char *abs = path_join(p->dir, *path);
        free(*path);
        *path = abs;
    }
}

/* Iterates a mapping: calls fn(key, value) for each pair. */
typedef int (*kc_pair_fn)(struct kc_parse *p, const char *key, yaml_node_t *val, void *ctx,
                          const char *path);

static int each_pair(struct kc_parse *p, yaml_node_t *map, const char *path, kc_pair_fn fn,
                     void *ctx)
{
    if (node_is_null(map))
        return 0;
    if (map->type != YAML_MAPPING_NODE)
        return perr(p, map, path, "expected a mapping");
    for (yaml_node_pair_t *pr = map->data.mapping.pairs.start; pr < map->data.mapping.pairs.top;
         pr++) {
        yaml_node_t *k = node_at(p, pr->key), *v = node_at(p, pr->value);
        if (p->visits > KC_VISIT_MAX)
            return perr(p, map, path, "document too large (alias expansion?)");
        if (!k || k->type != YAML_SCALAR_NODE)
            return perr(p, k ? k : map, path, "mapping key must be a string");
        if (fn(p, (const char *)k->data.scalar.value, v, ctx, path) < 0)
            return -1;
    }
    return 0;
}

/* Converts an extension (any YAML) to JSON for KUBERNETES_EXEC_INFO's cluster.config. */
static cJSON *yaml_to_json(struct kc_parse *p, yaml_node_t *n, int depth)
{
    if (!n || depth > KC_DEPTH_MAX || ++p->visits > KC_VISIT_MAX)
        return NULL;
    if (n->type == YAML_SCALAR_NODE) {
        const char *v = (const char *)n->data.scalar.value;
        if (n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE) {
            bool b;
            struct idw_err quiet;
            struct idw_err *saved = p->err;
            p->err = &quiet;
            int rc = node_is_null(n) ? 1 : get_bool(p, n, NULL, &b);
            p->err = saved;
            if (rc == 1)
                return cJSON_CreateNull();
            if (rc == 0)
                return cJSON_CreateBool(b);
            char *end;
            double d = strtod(v, &end);
            if (*v && !*end)
                return cJSON_CreateNumber(d);
        }
        return cJSON_CreateString(v);
    }
    if (n->type == YAML_SEQUENCE_NODE) {
        cJSON *a = cJSON_CreateArray();
        for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top;
             it++) {
            cJSON *c = yaml_to_json(p, node_at(p, *it), depth + 1);
            if (!c) {
                cJSON_Delete(a);
                return NULL;
            }
            cJSON_AddItemToArray(a, c);
        }
        return a;
    }
    cJSON *o = cJSON_CreateObject();
    for (yaml_node_pair_t *pr = n->data.mapping.pairs.start; pr < n->data.mapping.pairs.top; pr++) {
        yaml_node_t *k = node_at(p, pr->key);
        cJSON *c = k && k->type == YAML_SCALAR_NODE
                       ? yaml_to_json(p, node_at(p, pr->value), depth + 1)
                       : NULL;
        if (!c) {
            cJSON_Delete(o);
            return NULL;
        }
        cJSON_AddItemToObject(o, (const char *)k->data.scalar.value, c);
    }
    return o;
}

/* ---- clusters ---- */

static int cluster_ext(struct kc_parse *p, const char *key, yaml_node_t *v, void *ctx,
                       const char *path)
{
    char **name = ctx;
    (void)path;
    if (!strcmp(key, "name"))
        return get_str(p, v, "extensions[].name", name);
    return 0;
}

static int cluster_field(struct kc_parse *p, const char *key, yaml_node_t *v, void *ctx,
                         const char *path)
{
    struct kc_cluster *c = ctx;
    char sub[160];
    snprintf(sub, sizeof sub, "%s.%s", path, key);
    if (!strcmp(key, "server"))
        return get_str(p, v, sub, &c->server);
    if (!strcmp(key, "certificate-authority")) {
        if (get_str(p, v, sub, &c->ca_file) < 0)
            return -1;
        resolve_path(p, &c->ca_file);
        return 0;
    }
    if (!strcmp(key, "certificate-authority-data"))
        return get_str(p, v, sub, &c->ca_data);
    if (!strcmp(key, "insecure-skip-tls-verify"))
        return get_bool(p, v, sub, &c->insecure);
    if (!strcmp(key, "tls-server-name"))
        return get_str(p, v, sub, &c->tls_server_name);
    if (!strcmp(key, "proxy-url"))
        return get_str(p, v, sub, &c->proxy_url);
    if (!strcmp(key, "disable-compression"))
        return get_bool(p, v, sub, &c->disable_compression);
    if (!strcmp(key, "extensions")) {
        if (node_is_null(v))
            return 0;
        if (v->type != YAML_SEQUENCE_NODE)
            return perr(p, v, sub, "expected a list");
        for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top;
             it++) {
            yaml_node_t *e = node_at(p, *it);
            char *name = NULL;
            if (each_pair(p, e, sub, cluster_ext, &name) < 0) {
                free(name);
                return -1;
            }
            if (str_eq(name, KC_EXEC_EXTENSION) && e->type == YAML_MAPPING_NODE) {
                for (yaml_node_pair_t *pr = e->data.mapping.pairs.start;
                     pr < e->data.mapping.pairs.top; pr++) {
                    yaml_node_t *k = node_at(p, pr->key);
                    if (k && k->type == YAML_SCALAR_NODE &&
                        !strcmp((const char *)k->data.scalar.value, "extension")) {
                        cJSON *j = yaml_to_json(p, node_at(p, pr->value), 0);
                        if (j) {
                            free(c->exec_config);
                            c->exec_config = cJSON_PrintUnformatted(j);
                            cJSON_Delete(j);
                        }
                    }
                }
            }
            free(name);
        }
        return 0;
    }
    return 0; /* unknown keys are ignored, as kubectl does */
}

/* ---- users ---- */

static int exec_env_field(struct kc_parse *p, const char *key, yaml_node_t *v, void *ctx,
                          const char *path)
{
    struct kubeconfig_env *e = ctx;
    char sub[160];
    snprintf(sub, sizeof sub, "%s.%s", path, key);
    if (!strcmp(key, "name"))
        return get_str(p, v, sub, &e->name);
    if (!strcmp(key, "value"))
        return get_str(p, v, sub, &e->value);
    return 0;
}

static int exec_field(struct kc_parse *p, const char *key, yaml_node_t *v, void *ctx,
                      const char *path)
{
    struct kc_user *u = ctx;
    struct kubeconfig_exec *x = &u->exec;
    char sub[160];
    snprintf(sub, sizeof sub, "%s.%s", path, key);
    if (!strcmp(key, "apiVersion"))
        return get_str(p, v, sub, &x->api_version);
    if (!strcmp(key, "command")) {
        if (get_str(p, v, sub, &x->command) < 0)
            return -1;
        if (x->command && strchr(x->command, '/')) /* bare names are searched in PATH */
            resolve_path(p, &x->command);
        return 0;
    }
    if (!strcmp(key, "installHint"))
        return get_str(p, v, sub, &x->install_hint);
    if (!strcmp(key, "provideClusterInfo"))
        return get_bool(p, v, sub, &x->provide_cluster_info);
    if (!strcmp(key, "interactiveMode")) {
        char *m = NULL;
        if (get_str(p, v, sub, &m) < 0)
            return -1;
        if (!m)
            return 0;
        int rc = 0;
        if (!strcmp(m, "Never"))
            x->interactive = KUBECONFIG_INTERACTIVE_NEVER;
        else if (!strcmp(m, "IfAvailable"))
            x->interactive = KUBECONFIG_INTERACTIVE_IF_AVAILABLE;
        else if (!strcmp(m, "Always"))
            x->interactive = KUBECONFIG_INTERACTIVE_ALWAYS;
        else
            rc = perr(p, v, sub, "must be Never, IfAvailable or Always, not \"%s\"", m);
        u->exec_interactive_set = rc == 0;
        free(m);
        return rc;
    }
    if (!strcmp(key, "args") || !strcmp(key, "env")) {
        if (node_is_null(v))
            return 0;
        if (v->type != YAML_SEQUENCE_NODE)
            return perr(p, v, sub, "expected a list");
        bool args = key[0] == 'a';
        size_t cap = 0;
        for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top;
             it++) {
            yaml_node_t *e = node_at(p, *it);
            if (p->visits > KC_VISIT_MAX)
                return perr(p, v, sub, "document too large (alias expansion?)");
            if (args) {
                char *s = NULL;
                if (get_str(p, e, sub, &s) < 0)
                    return -1;
                void *a = x->args;
                xgrow(&a, &cap, x->n_args + 1, sizeof *x->args);
                x->args = a;
                x->args[x->n_args++] = s ? s : xstrdup("");
            } else {
                struct kubeconfig_env ev = {0};
                int rc = each_pair(p, e, sub, exec_env_field, &ev);
                if (rc == 0 && !ev.name)
                    rc = perr(p, e, sub, "env entry without a name");
                if (rc < 0) {
                    free(ev.name);
                    free(ev.value);
                    return -1;
                }
                void *a = x->env;
                xgrow(&a, &cap, x->n_env + 1, sizeof *x->env);
                x->env = a;
                if (!ev.value)
                    ev.value = xstrdup("");
                x->env[x->n_env++] = ev;
            }
        }
        return 0;
    }
    return 0;
}

static int auth_provider_field(struct kc_parse *p, const char *key, yaml_node_t *v, void *ctx,
                               const char *path)
{
    struct kc_user *u = ctx;
    if (!strcmp(key, "name"))
        return get_str(p, v, path, &u->auth_provider);
    return 0;
}

static int user_field(struct kc_parse *p, const char *key, yaml_node_t *v, void *ctx,
                      const char *path)
{
    struct kc_user *u = ctx;
    char sub[160];
    snprintf(sub, sizeof sub, "%s.%s", path, key);
    struct {
        const char *key;
        char **dst;
        bool is_path;
    } strs[] = {
        {"client-certificate", &u->cert_file, true},
        {"client-certificate-data", &u->cert_data, false},
        {"client-key", &u->key_file, true},
        {"client-key-data", &u->key_data, false},
        {"token", &u->token, false},
        {"tokenFile", &u->token_file, true},
    };
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++) {
        if (strcmp(key, strs[i].key) != 0)
            continue;
        if (get_str(p, v, sub, strs[i].dst) < 0)
            return -1;
        if (strs[i].is_path)
            resolve_path(p, strs[i].dst);
        return 0;
    }
    if (!strcmp(key, "username") || !strcmp(key, "password")) {
        char *s = NULL;
        int rc = get_str(p, v, sub, &s);
        if (s && *s)
            u->basic_auth = true;
        free(s);
        return rc;
    }
    if (!strcmp(key, "exec")) {
        if (node_is_null(v))
            return 0;
        u->has_exec = true;
        return each_pair(p, v, sub, exec_field, u);
    }
    if (!strcmp(key, "auth-provider")) {
        if (node_is_null(v))
            return 0;
        if (each_pair(p, v, sub, auth_provider_field, u) < 0)
            return -1;
        if (!u->auth_provider)
            u->auth_provider = xstrdup("(unnamed)");
        return 0;
    }
    return 0;
}

/* ---- contexts ---- */

static int context_field(struct kc_parse *p, const char *key, yaml_node_t *v, void *ctx,
                         const char *path)
{
    struct kc_context *c = ctx;
    char sub[160];
    snprintf(sub, sizeof sub, "%s.%s", path, key);
    if (!strcmp(key, "cluster"))
        return get_str(p, v, sub, &c->cluster);
    if (!strcmp(key, "user"))
        return get_str(p, v, sub, &c->user);
    if (!strcmp(key, "namespace"))
        return get_str(p, v, sub, &c->namespace_);
    return 0;
}

static void cluster_free(struct kc_cluster *c)
{
    free(c->name);
    free(c->server);
    free(c->ca_file);
    free(c->ca_data);
    free(c->tls_server_name);
    free(c->proxy_url);
    free(c->exec_config);
}

static void exec_free(struct kubeconfig_exec *x)
{
    free(x->api_version);
    free(x->command);
    for (size_t i = 0; i < x->n_args; i++)
        free(x->args[i]);
    free(x->args);
    for (size_t i = 0; i < x->n_env; i++) {
        free(x->env[i].name);
        free(x->env[i].value);
    }
    free(x->env);
    free(x->install_hint);
}

static void user_free(struct kc_user *u)
{
    free(u->name);
    free(u->cert_file);
    free(u->cert_data);
    free(u->key_file);
    free(u->key_data);
    free(u->token);
    free(u->token_file);
    free(u->auth_provider);
    exec_free(&u->exec);
}

static void context_free(struct kc_context *c)
{
    free(c->name);
    free(c->cluster);
    free(c->user);
    free(c->namespace_);
}

/* One named list ("clusters", "users", "contexts"): entries {name, <inner>: {...}}. */
struct named_entry {
    char *name;
    yaml_node_t *inner;
    yaml_node_t *inner_key_node;
    const char *inner_key;
};

static int named_field(struct kc_parse *p, const char *key, yaml_node_t *v, void *ctx,
                       const char *path)
{
    struct named_entry *e = ctx;
    char sub[160];
    snprintf(sub, sizeof sub, "%s.%s", path, key);
    if (!strcmp(key, "name"))
        return get_str(p, v, sub, &e->name);
    if (!strcmp(key, e->inner_key))
        e->inner = v;
    return 0;
}

static bool kc_has_name(const struct kubeconfig *kc, int kind, const char *name)
{
    size_t n = kind == 0 ? kc->n_clusters : kind == 1 ? kc->n_users : kc->n_contexts;
    for (size_t i = 0; i < n; i++) {
        const char *have = kind == 0   ? kc->clusters[i].name
                           : kind == 1 ? kc->users[i].name
                                       : kc->contexts[i].name;
        if (str_eq(have, name))
            return true;
    }
    return false;
}

static int parse_list(struct kc_parse *p, struct kubeconfig *kc, yaml_node_t *seq, int kind)
{
    static const char *const lists[] = {"clusters", "users", "contexts"};
    static const char *const inner[] = {"cluster", "user", "context"};
    if (node_is_null(seq))
        return 0;
    if (seq->type != YAML_SEQUENCE_NODE)
        return perr(p, seq, lists[kind], "expected a list");
    size_t idx = 0;
    for (yaml_node_item_t *it = seq->data.sequence.items.start; it < seq->data.sequence.items.top;
         it++, idx++) {
        yaml_node_t *item = node_at(p, *it);
        char path[160];
        snprintf(path, sizeof path, "%s[%zu]", lists[kind], idx);
        struct named_entry e = {.inner_key = inner[kind]};
        if (each_pair(p, item, path, named_field, &e) < 0) {
            free(e.name);
            return -1;
        }
        if (str_empty(e.name)) {
            free(e.name);
            return perr(p, item, path, "entry without a name");
        }
        if (kc_has_name(kc, kind, e.name)) {
            int rc = perr(p, item, path, "duplicate name \"%s\"", e.name);
            free(e.name);
            return rc;
        }
        char ipath[200];
        snprintf(ipath, sizeof ipath, "%s[%s].%s", lists[kind], e.name, inner[kind]);
        int rc;
        if (kind == 0) {
            struct kc_cluster c = {.name = e.name};
            rc = each_pair(p, e.inner, ipath, cluster_field, &c);
            if (rc < 0) {
                cluster_free(&c);
                return -1;
            }
            void *a = kc->clusters;
            xgrow(&a, &kc->cap_clusters, kc->n_clusters + 1, sizeof c);
            kc->clusters = a;
            kc->clusters[kc->n_clusters++] = c;
        } else if (kind == 1) {
            struct kc_user u = {.name = e.name};
            u.exec.interactive = KUBECONFIG_INTERACTIVE_IF_AVAILABLE;
            rc = each_pair(p, e.inner, ipath, user_field, &u);
            if (rc < 0) {
                user_free(&u);
                return -1;
            }
            void *a = kc->users;
            xgrow(&a, &kc->cap_users, kc->n_users + 1, sizeof u);
            kc->users = a;
            kc->users[kc->n_users++] = u;
        } else {
            struct kc_context c = {.name = e.name};
            rc = each_pair(p, e.inner, ipath, context_field, &c);
            if (rc < 0) {
                context_free(&c);
                return -1;
            }
            void *a = kc->contexts;
            xgrow(&a, &kc->cap_contexts, kc->n_contexts + 1, sizeof c);
            kc->contexts = a;
            kc->contexts[kc->n_contexts++] = c;
        }
    }
    return 0;
}

static int top_field(struct kc_parse *p, const char *key, yaml_node_t *v, void *ctx,
                     const char *path)
{
    struct kubeconfig *kc = ctx;
    (void)path;
    if (!strcmp(key, "clusters"))
        return parse_list(p, kc, v, 0);
    if (!strcmp(key, "users"))
        return parse_list(p, kc, v, 1);
    if (!strcmp(key, "contexts"))
        return parse_list(p, kc, v, 2);
    if (!strcmp(key, "current-context"))
        return get_str(p, v, "current-context", &kc->current_context);
    return 0;
}

void kubeconfig_free(struct kubeconfig *kc)
{
    if (!kc)
        return;
    for (size_t i = 0; i < kc->n_clusters; i++)
        cluster_free(&kc->clusters[i]);
    for (size_t i = 0; i < kc->n_users; i++)
        user_free(&kc->users[i]);
    for (size_t i = 0; i < kc->n_contexts; i++)
        context_free(&kc->contexts[i]);
    for (size_t i = 0; i < kc->n_files; i++)
        free(kc->files[i]);
    free(kc->files);
    free(kc->clusters);
    free(kc->users);
    free(kc->contexts);
    free(kc->current_context);
    free(kc);
}

static void kc_add_file(struct kubeconfig *kc, const char *path)
{
    kc->files = xrealloc(kc->files, (kc->n_files + 1) * sizeof *kc->files);
    kc->files[kc->n_files++] = xstrdup(path ? path : "");
}

int kubeconfig_parse(const char *yaml, size_t len, const char *name, const char *dir,
                     struct kubeconfig **out, struct idw_err *err)
{
    *out = NULL;
    const char *fname = name ? name : "kubeconfig";
    yaml_parser_t parser;
    yaml_document_t doc;
    if (!yaml_parser_initialize(&parser))
        return idw_err_set(err, "%s: cannot initialise the YAML parser", fname);
    yaml_parser_set_input_string(&parser, (const unsigned char *)yaml, len);
    if (!yaml_parser_load(&parser, &doc)) {
        const yaml_mark_t *m = &parser.problem_mark;
        char ctx[128] = "";
        if (parser.context)
            snprintf(ctx, sizeof ctx, " %s", parser.context);
        idw_err_set(err, "%s:%zu:%zu: invalid YAML: %s%s", fname, m->line + 1, m->column + 1,
                    parser.problem ? parser.problem : "parse error", ctx);
        yaml_parser_delete(&parser);
        return -1;
    }
    struct kubeconfig *kc = xcalloc(1, sizeof *kc);
    kc_add_file(kc, name);
    struct kc_parse p = {.doc = &doc, .name = fname, .dir = dir, .err = err};
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    int rc = 0;
    if (root && !node_is_null(root)) {
        if (root->type != YAML_MAPPING_NODE)
            rc = perr(&p, root, NULL, "a kubeconfig must be a mapping (apiVersion, clusters, ...)");
        else
            rc = each_pair(&p, root, NULL, top_field, kc);
    }
    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    if (rc < 0) {
        kubeconfig_free(kc);
        return -1;
    }
    *out = kc;
    return 0;
}

static int parse_file(const char *path, struct kubeconfig **out, struct idw_err *err)
{
    char *data;
    size_t len;
    if (file_read_all(path, KC_FILE_MAX, &data, &len, err) < 0)
        return -1;
    char *dir = NULL;
    char abs[PATH_MAX];
    const char *base = realpath(path, abs) ? abs : path;
    const char *slash = strrchr(base, '/');
    if (slash)
        dir = slash == base ? xstrdup("/") : xstrndup(base, (size_t)(slash - base));
    else
        dir = getcwd(abs, sizeof abs) ? xstrdup(abs) : xstrdup(".");
    int rc = kubeconfig_parse(data, len, path, dir, out, err);
    free(dir);
    free(data);
    if (rc == 0) {
        free((*out)->files[0]);
        (*out)->files[0] = xstrdup(path);
    }
    return rc;
}

/* First file wins, per named entry and per scalar (moves entries out of src). */
static void kc_merge(struct kubeconfig *dst, struct kubeconfig *src)
{
    for (size_t i = 0; i < src->n_clusters; i++) {
        if (kc_has_name(dst, 0, src->clusters[i].name)) {
            cluster_free(&src->clusters[i]);
            continue;
        }
        void *a = dst->clusters;
        xgrow(&a, &dst->cap_clusters, dst->n_clusters + 1, sizeof *dst->clusters);
        dst->clusters = a;
        dst->clusters[dst->n_clusters++] = src->clusters[i];
    }
    for (size_t i = 0; i < src->n_users; i++) {
        if (kc_has_name(dst, 1, src->users[i].name)) {
            user_free(&src->users[i]);
            continue;
        }
        void *a = dst->users;
        xgrow(&a, &dst->cap_users, dst->n_users + 1, sizeof *dst->users);
        dst->users = a;
        dst->users[dst->n_users++] = src->users[i];
    }
    for (size_t i = 0; i < src->n_contexts; i++) {
        if (kc_has_name(dst, 2, src->contexts[i].name)) {
            context_free(&src->contexts[i]);
            continue;
        }
        void *a = dst->contexts;
        xgrow(&a, &dst->cap_contexts, dst->n_contexts + 1, sizeof *dst->contexts);
        dst->contexts = a;
        dst->contexts[dst->n_contexts++] = src->contexts[i];
    }
    src->n_clusters = src->n_users = src->n_contexts = 0;
    if (!dst->current_context && !str_empty(src->current_context)) {
        dst->current_context = src->current_context;
        src->current_context = NULL;
    }
    for (size_t i = 0; i < src->n_files; i++)
        kc_add_file(dst, src->files[i]);
    kubeconfig_free(src);
}

static bool file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

static bool in_cluster_env(void)
{
    return !str_empty(getenv("KUBERNETES_SERVICE_HOST")) &&
           !str_empty(getenv("KUBERNETES_SERVICE_PORT"));
}

int kubeconfig_load(const struct kubeconfig_source *src, struct kubeconfig **out,
                    struct idw_err *err)
{
    struct kubeconfig_source def = {0};
    if (!src)
        src = &def;
    *out = NULL;
    if (src->explicit_path) {
        if (!file_exists(src->explicit_path))
            return idw_err_set(err, "--kubeconfig %s: %s", src->explicit_path, strerror(errno));
        return parse_file(src->explicit_path, out, err);
    }
    const char *env = src->env_kubeconfig ? src->env_kubeconfig : getenv("KUBECONFIG");
    if (!str_empty(env)) {
        struct kubeconfig *kc = NULL;
        char *list = xstrdup(env);
        char *save = NULL;
        char **seen = NULL;
        size_t n_seen = 0;
        int rc = 0;
        for (char *tok = strtok_r(list, ":", &save); tok; tok = strtok_r(NULL, ":", &save)) {
            bool dup = false;
            for (size_t i = 0; i < n_seen; i++)
                dup |= !strcmp(seen[i], tok);
            if (dup || !*tok)
                continue;
            seen = xrealloc(seen, (n_seen + 1) * sizeof *seen);
            seen[n_seen++] = tok;
            if (!file_exists(tok))
                continue; /* kubectl skips missing files in the list */
            struct kubeconfig *one;
            if (parse_file(tok, &one, err) < 0) {
                rc = -1;
                break;
            }
            if (!kc)
                kc = one;
            else
                kc_merge(kc, one);
        }
        free(seen);
        if (rc == 0 && !kc) {
            if (in_cluster_env()) {
                kc = xcalloc(1, sizeof *kc);
                kc->in_cluster = true;
            } else {
                rc = idw_err_set(err, "none of the files in KUBECONFIG exist (%s)", env);
            }
        }
        free(list);
        if (rc < 0) {
            kubeconfig_free(kc);
            return -1;
        }
        *out = kc;
        return 0;
    }
    const char *home = src->home ? src->home : getenv("HOME");
    char *path = xasprintf("%s/.kube/config", home ? home : "");
    int rc;
    if (home && file_exists(path)) {
        rc = parse_file(path, out, err);
    } else if (in_cluster_env()) {
        *out = xcalloc(1, sizeof **out);
        (*out)->in_cluster = true;
        rc = 0;
    } else {
        rc = idw_err_set(err, "no kubeconfig: %s does not exist (use --kubeconfig or KUBECONFIG)",
                         path);
    }
    free(path);
    return rc;
}

const char *kubeconfig_current_context(const struct kubeconfig *kc)
{
    return kc->current_context;
}

size_t kubeconfig_context_count(const struct kubeconfig *kc)
{
    return kc->n_contexts;
}

const char *kubeconfig_context_name(const struct kubeconfig *kc, size_t i)
{
    return i < kc->n_contexts ? kc->contexts[i].name : NULL;
}

size_t kubeconfig_file_count(const struct kubeconfig *kc)
{
    return kc->n_files;
}

const char *kubeconfig_file(const struct kubeconfig *kc, size_t i)
{
    return i < kc->n_files ? kc->files[i] : NULL;
}

bool kubeconfig_in_cluster(const struct kubeconfig *kc)
{
    return kc->in_cluster;
}

/* ---- resolve --------------------------------------------------------------------------- */

char *kubeconfig_base64_decode(const char *in, size_t *out_len)
{
    unsigned char *out = NULL;
    size_t n = 0;
    if (b64_decode(in, strlen(in), false, &out, &n) != 0)
        return NULL;
    if (out_len)
        *out_len = n;
    return (char *)out;
}

static const struct kc_cluster *find_cluster(const struct kubeconfig *kc, const char *name)
{
    for (size_t i = 0; i < kc->n_clusters; i++)
        if (str_eq(kc->clusters[i].name, name))
            return &kc->clusters[i];
    return NULL;
}

static const struct kc_user *find_user(const struct kubeconfig *kc, const char *name)
{
    for (size_t i = 0; i < kc->n_users; i++)
        if (str_eq(kc->users[i].name, name))
            return &kc->users[i];
    return NULL;
}

static const struct kc_context *find_context(const struct kubeconfig *kc, const char *name)
{
    for (size_t i = 0; i < kc->n_contexts; i++)
        if (str_eq(kc->contexts[i].name, name))
            return &kc->contexts[i];
    return NULL;
}

/* data (base64) wins over file. */
static int load_pem(const char *data, const char *file, const char *what, char **out, size_t *len,
                    struct idw_err *err)
{
    if (!str_empty(data)) {
        *out = kubeconfig_base64_decode(data, len);
        if (!*out)
            return idw_err_set(err, "%s-data: not valid base64", what);
        return 0;
    }
    if (!str_empty(file)) {
        if (file_read_all(file, KC_PEM_MAX, out, len, err) < 0)
            return idw_err_prefix(err, "%s", what);
    }
    return 0;
}

static void known_contexts(const struct kubeconfig *kc, char *buf, size_t n)
{
    size_t o = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < kc->n_contexts && o + 4 < n; i++) {
        int w = snprintf(buf + o, n - o, "%s%s", i ? ", " : "", kc->contexts[i].name);
        if (w < 0)
            break;
        o += (size_t)w;
    }
    if (!kc->n_contexts)
        snprintf(buf, n, "none");
}

static struct kubeconfig_exec *exec_copy(const struct kubeconfig_exec *x)
{
    struct kubeconfig_exec *c = xcalloc(1, sizeof *c);
    c->api_version = xstrdup(x->api_version);
    c->command = xstrdup(x->command);
    c->install_hint = xstrdup(x->install_hint);
    c->provide_cluster_info = x->provide_cluster_info;
    c->interactive = x->interactive;
    c->n_args = x->n_args;
    c->args = xcalloc(x->n_args + 1, sizeof *c->args);
    for (size_t i = 0; i < x->n_args; i++)
        c->args[i] = xstrdup(x->args[i]);
    c->n_env = x->n_env;
    c->env = xcalloc(x->n_env + 1, sizeof *c->env);
    for (size_t i = 0; i < x->n_env; i++) {
        c->env[i].name = xstrdup(x->env[i].name);
        c->env[i].value = xstrdup(x->env[i].value);
    }
    return c;
}

#define EXEC_V1 "client.authentication.k8s.io/v1"
#define EXEC_V1BETA1 "client.authentication.k8s.io/v1beta1"

static int resolve_user(const struct kc_user *u, struct kubeconfig_resolved *r, struct idw_err *err)
{
    if (u->auth_provider)
        return idw_err_set(err,
                           "user \"%s\" uses the removed auth-provider \"%s\": convert the "
                           "kubeconfig with `kubelogin convert-kubeconfig -l azurecli` (or the "
                           "login mode you use) and try again",
                           u->name, u->auth_provider);
    if (u->basic_auth)
        return idw_err_set(err, "user \"%s\": basic auth (username/password) is not supported",
                           u->name);
    if (load_pem(u->cert_data, u->cert_file, "client-certificate", &r->cert_pem, &r->cert_len,
                 err) < 0 ||
        load_pem(u->key_data, u->key_file, "client-key", &r->key_pem, &r->key_len, err) < 0)
        return idw_err_prefix(err, "user \"%s\"", u->name);
    if (!r->cert_pem != !r->key_pem)
        return idw_err_set(err, "user \"%s\": client certificate and key must both be set",
                           u->name);
    r->token = xstrdup(u->token);
    if (str_empty(u->token))
        r->token_file = xstrdup(u->token_file); /* token wins when both are set */
    if (u->has_exec) {
        const struct kubeconfig_exec *x = &u->exec;
        if (str_empty(x->command))
            return idw_err_set(err, "user \"%s\": exec plugin without a command", u->name);
        if (!str_eq(x->api_version, EXEC_V1) && !str_eq(x->api_version, EXEC_V1BETA1))
            return idw_err_set(err,
                               "user \"%s\": exec apiVersion \"%s\" is not supported (use %s or "
                               "%s)",
                               u->name, x->api_version ? x->api_version : "", EXEC_V1,
                               EXEC_V1BETA1);
        if (str_eq(x->api_version, EXEC_V1) && !u->exec_interactive_set)
            return idw_err_set(err,
                               "user \"%s\": interactiveMode must be specified for %s to use "
                               "exec authentication plugin",
                               u->name, EXEC_V1);
        r->exec = exec_copy(x);
    }
    return 0;
}

int kubeconfig_resolve(const struct kubeconfig *kc, const char *context,
                       struct kubeconfig_resolved *r, struct idw_err *err)
{
    memset(r, 0, sizeof *r);
    if (kc->in_cluster)
        return kubeconfig_resolve_in_cluster(r, err);
    char known[256];
    const char *name = context ? context : kc->current_context;
    if (str_empty(name)) {
        known_contexts(kc, known, sizeof known);
        return idw_err_set(err, "no current-context is set: choose one with --context (known: %s)",
                           known);
    }
    const struct kc_context *cx = find_context(kc, name);
    if (!cx) {
        known_contexts(kc, known, sizeof known);
        return idw_err_set(err, "context \"%s\" not found in kubeconfig (known contexts: %s)", name,
                           known);
    }
    const struct kc_cluster *cl = find_cluster(kc, cx->cluster);
    if (!cl) {
        idw_err_set(err, "context \"%s\": cluster \"%s\" not found", name,
                    cx->cluster ? cx->cluster : "");
        return -1;
    }
    if (str_empty(cl->server))
        return idw_err_set(err, "cluster \"%s\" has no server", cl->name);
    r->context = xstrdup(name);
    r->cluster_name = xstrdup(cl->name);
    r->user_name = xstrdup(cx->user);
    r->namespace_ = xstrdup(str_empty(cx->namespace_) ? "default" : cx->namespace_);
    r->server =
        strstr(cl->server, "://") ? xstrdup(cl->server) : xasprintf("https://%s", cl->server);
    size_t sl = strlen(r->server);
    while (sl > 0 && r->server[sl - 1] == '/')
        r->server[--sl] = '\0';
    r->insecure = cl->insecure;
    r->tls_server_name = xstrdup(cl->tls_server_name);
    r->proxy_url = xstrdup(cl->proxy_url);
    r->disable_compression = cl->disable_compression;
    r->exec_cluster_config = xstrdup(cl->exec_config);
    if (load_pem(cl->ca_data, cl->ca_file, "certificate-authority", &r->ca_pem, &r->ca_len, err) <
        0) {
        idw_err_prefix(err, "cluster \"%s\"", cl->name);
        goto fail;
    }
    if (r->insecure && r->ca_pem) {
        idw_err_set(err,
                    "cluster \"%s\": specifying a root certificates file with the insecure flag "
                    "is not allowed",
                    cl->name);
        goto fail;
    }
    if (!str_empty(cx->user)) {
        const struct kc_user *u = find_user(kc, cx->user);
        if (!u) {
            idw_err_set(err, "context \"%s\": user \"%s\" not found", name, cx->user);
            goto fail;
        }
        if (resolve_user(u, r, err) < 0)
            goto fail;
    }
    return 0;
fail:
    kubeconfig_resolved_free(r);
    return -1;
}

int kubeconfig_resolve_in_cluster(struct kubeconfig_resolved *r, struct idw_err *err)
{
    memset(r, 0, sizeof *r);
    const char *host = getenv("KUBERNETES_SERVICE_HOST"), *port = getenv("KUBERNETES_SERVICE_PORT");
    if (str_empty(host) || str_empty(port))
        return idw_err_set(err, "not running in a cluster (KUBERNETES_SERVICE_HOST/PORT unset)");
    const char *dir = getenv("IDWATCH_SA_DIR");
    if (str_empty(dir))
        dir = KC_SA_DIR;
    r->in_cluster = true;
    r->context = xstrdup("in-cluster");
    r->cluster_name = xstrdup("in-cluster");
    r->user_name = xstrdup("in-cluster");
    r->server = strchr(host, ':') ? xasprintf("https://[%s]:%s", host, port)
                                  : xasprintf("https://%s:%s", host, port);
    r->token_file = xasprintf("%s/token", dir);
    char *ca = xasprintf("%s/ca.crt", dir), *nsf = xasprintf("%s/namespace", dir);
    int rc = 0;
    char *tok = NULL;
    size_t len;
    if (file_read_all(r->token_file, KC_PEM_MAX, &tok, &len, err) < 0) {
        rc = idw_err_prefix(err, "in-cluster service-account token");
    } else if (file_read_all(ca, KC_PEM_MAX, &r->ca_pem, &r->ca_len, err) < 0) {
        rc = idw_err_prefix(err, "in-cluster CA");
    } else {
        char *ns = NULL;
        if (file_read_all(nsf, 4096, &ns, &len, NULL) == 0) {
            ns[strcspn(ns, " \r\n\t")] = '\0';
            r->namespace_ = ns;
        }
        if (str_empty(r->namespace_)) {
            free(r->namespace_);
            r->namespace_ = xstrdup("default");
        }
    }
    free(tok);
    free(ca);
    free(nsf);
    if (rc < 0)
        kubeconfig_resolved_free(r);
    return rc;
}

void kubeconfig_resolved_free(struct kubeconfig_resolved *r)
{
    if (!r)
        return;
    free(r->context);
    free(r->cluster_name);
    free(r->user_name);
    free(r->namespace_);
    free(r->server);
    free(r->ca_pem);
    free(r->tls_server_name);
    free(r->proxy_url);
    free(r->exec_cluster_config);
    if (r->cert_pem)
        memset(r->cert_pem, 0, r->cert_len);
    if (r->key_pem)
        memset(r->key_pem, 0, r->key_len); /* don't leave key material in freed memory */
    free(r->cert_pem);
    free(r->key_pem);
    if (r->token)
        memset(r->token, 0, strlen(r->token));
    free(r->token);
    free(r->token_file);
    if (r->exec) {
        exec_free(r->exec);
        free(r->exec);
    }
    memset(r, 0, sizeof *r);
}
