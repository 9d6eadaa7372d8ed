/* exec credential plugins (client.authentication.k8s.io v1/v1beta1) as non-blocking children. */
#define _GNU_SOURCE /* pipe2 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "idwatch/kube.h"

extern char **environ;

#define EXEC_STDOUT_MAX ((size_t)1 << 20)
#define EXEC_STDERR_MAX ((size_t)64 << 10)
#define EXEC_DEFAULT_TIMEOUT_MS 60000
#define EXEC_REAP_MS 20

void kube_cred_free(struct kube_cred *c)
{
    if (!c)
        return;
    if (c->token)
        memset(c->token, 0, strlen(c->token));
    if (c->key_pem)
        memset(c->key_pem, 0, c->key_len);
    free(c->token);
    free(c->cert_pem);
    free(c->key_pem);
    memset(c, 0, sizeof *c);
}

int kube_exec_parse(const char *json, size_t len, const char *api_version, struct kube_cred *out,
                    struct idw_err *err)
{
    memset(out, 0, sizeof *out);
    cJSON *root = cJSON_ParseWithLength(json, len);
    if (!root || !cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return idw_err_set(err, "plugin output is not a JSON ExecCredential");
    }
    int rc = -1;
    const cJSON *kind = cJSON_GetObjectItemCaseSensitive(root, "kind");
    const cJSON *av = cJSON_GetObjectItemCaseSensitive(root, "apiVersion");
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(root, "status");
    if (!cJSON_IsString(kind) || strcmp(kind->valuestring, "ExecCredential") != 0) {
        idw_err_set(err, "plugin output: kind is not ExecCredential");
        goto out;
    }
    if (!cJSON_IsString(av) || !str_eq(av->valuestring, api_version)) {
        char got[96];
        str_sanitize(got, sizeof got, cJSON_IsString(av) ? av->valuestring : "");
        idw_err_set(err, "plugin output: apiVersion \"%s\" does not match the kubeconfig's \"%s\"",
                    got, api_version ? api_version : "");
        goto out;
    }
    if (!cJSON_IsObject(st)) {
        idw_err_set(err, "plugin output: no status");
        goto out;
    }
    const cJSON *tok = cJSON_GetObjectItemCaseSensitive(st, "token");
    const cJSON *cert = cJSON_GetObjectItemCaseSensitive(st, "clientCertificateData");
    const cJSON *key = cJSON_GetObjectItemCaseSensitive(st, "clientKeyData");
    const cJSON *exp = cJSON_GetObjectItemCaseSensitive(st, "expirationTimestamp");
    bool has_cert = cJSON_IsString(cert) && *cert->valuestring;
    bool has_key = cJSON_IsString(key) && *key->valuestring;
    if (has_cert != has_key) {
        idw_err_set(err, "plugin output: clientCertificateData and clientKeyData must both be set");
        goto out;
    }
    if (cJSON_IsString(tok) && *tok->valuestring)
        out->token = xstrdup(tok->valuestring);
    if (has_cert) {
        out->cert_pem = xstrdup(cert->valuestring);
        out->cert_len = strlen(out->cert_pem);
        out->key_pem = xstrdup(key->valuestring);
        out->key_len = strlen(out->key_pem);
    }
    if (!out->token && !out->cert_pem) {
        idw_err_set(err, "plugin output: status has neither a token nor a client certificate");
        goto out;
    }
    if (cJSON_IsString(exp) && *exp->valuestring) {
        if (time_parse_rfc3339(exp->valuestring, &out->expires, NULL) < 0) {
            idw_err_set(err, "plugin output: expirationTimestamp is not RFC 3339");
            goto out;
        }
    } else if (exp && !cJSON_IsNull(exp)) {
        idw_err_set(err, "plugin output: expirationTimestamp is not a string");
        goto out;
    }
    rc = 0;
out:
    if (rc < 0)
        kube_cred_free(out);
    cJSON_Delete(root);
    return rc;
}

char *kube_exec_info(const struct kubeconfig_resolved *cfg, bool interactive)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "kind", "ExecCredential");
    cJSON_AddStringToObject(root, "apiVersion", cfg->exec ? cfg->exec->api_version : "");
    cJSON *spec = cJSON_AddObjectToObject(root, "spec");
    if (cfg->exec && cfg->exec->provide_cluster_info) {
        cJSON *cl = cJSON_AddObjectToObject(spec, "cluster");
        cJSON_AddStringToObject(cl, "server", cfg->server ? cfg->server : "");
        if (cfg->tls_server_name)
            cJSON_AddStringToObject(cl, "tls-server-name", cfg->tls_server_name);
        if (cfg->insecure)
            cJSON_AddBoolToObject(cl, "insecure-skip-tls-verify", true);
        if (cfg->ca_pem && cfg->ca_len) {
            char *b64 = b64_encode(cfg->ca_pem, cfg->ca_len, false);
            cJSON_AddStringToObject(cl, "certificate-authority-data", b64);
            free(b64);
        }
        if (cfg->proxy_url)
            cJSON_AddStringToObject(cl, "proxy-url", cfg->proxy_url);
        cJSON *conf = cfg->exec_cluster_config ? cJSON_Parse(cfg->exec_cluster_config) : NULL;
        cJSON_AddItemToObject(cl, "config", conf ? conf : cJSON_CreateNull());
    }
    cJSON_AddBoolToObject(spec, "interactive", interactive);
    char *s = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    char *out = xstrdup(s);
    cJSON_free(s);
    return out;
}

struct kube_exec {
    struct net *net;
    pid_t pid;
    int out_fd, err_fd;
    uint64_t out_watch, err_watch;
    uint64_t timeout_timer, reap_timer;
    struct idw_buf out, errb;
    bool out_eof, err_eof, timed_out, overflow, may_want_terminal;
    char *api_version;
    char *command; /* for messages */
    char *hint;    /* installHint */
    kube_exec_fn fn;
    void *ctx;
};

static void exec_free(struct kube_exec *x)
{
    if (x->out_watch)
        net_fd_unwatch(x->net, x->out_watch);
    if (x->err_watch)
        net_fd_unwatch(x->net, x->err_watch);
    net_timer_cancel(x->net, x->timeout_timer);
    net_timer_cancel(x->net, x->reap_timer);
    if (x->out_fd >= 0)
        close(x->out_fd);
    if (x->err_fd >= 0)
        close(x->err_fd);
    if (x->out.data)
        memset(x->out.data, 0, x->out.len); /* the token passed through here */
    buf_free(&x->out);
    buf_free(&x->errb);
    free(x->api_version);
    free(x->command);
    free(x->hint);
    free(x);
}

/* The plugin's stderr, one line, control bytes replaced, the end kept (where the reason is). */
static void stderr_summary(const struct kube_exec *x, char *out, size_t n)
{
    const char *s = x->errb.data ? x->errb.data : "";
    size_t len = x->errb.len;
    while (len && (s[len - 1] == '\n' || s[len - 1] == '\r' || s[len - 1] == ' '))
        len--;
    size_t start = len > 300 ? len - 300 : 0;
    char tmp[320];
    size_t o = 0;
    for (size_t i = start; i < len && o + 1 < sizeof tmp; i++)
        tmp[o++] = s[i] == '\n' ? ' ' : s[i];
    tmp[o] = '\0';
    str_sanitize(out, n, tmp);
}

static void exec_finish(struct kube_exec *x, int status)
{
    char msg[IDW_ERR_MAX];
    char errs[320];
    stderr_summary(x, errs, sizeof errs);
    struct kube_cred cred;
    struct idw_err err = {{0}};
    const struct kube_cred *ok = NULL;
    if (x->timed_out) {
        snprintf(msg, sizeof msg, "exec plugin %s did not finish in time%s%s", x->command,
                 errs[0] ? ": " : "", errs);
    } else if (WIFEXITED(status) && WEXITSTATUS(status) == 127 && !x->out.len) {
        snprintf(msg, sizeof msg, "exec plugin %s could not be run%s%s", x->command,
                 x->hint ? ": " : "", x->hint ? x->hint : "");
    } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        char how[32];
        if (WIFEXITED(status))
            snprintf(how, sizeof how, "exit status %d", WEXITSTATUS(status));
        else
            snprintf(how, sizeof how, "signal %d", WIFSIGNALED(status) ? WTERMSIG(status) : 0);
        snprintf(msg, sizeof msg, "exec plugin %s failed (%s)%s%s", x->command, how,
                 errs[0] ? ": " : "", errs[0] ? errs : "");
    } else if (x->overflow) {
        snprintf(msg, sizeof msg, "exec plugin %s: output larger than %zu bytes", x->command,
                 EXEC_STDOUT_MAX);
    } else if (kube_exec_parse(x->out.data ? x->out.data : "", x->out.len, x->api_version, &cred,
                               &err) < 0) {
        snprintf(msg, sizeof msg, "exec plugin %s: %s", x->command, err.msg);
    } else {
        ok = &cred;
    }
    if (!ok && x->may_want_terminal && !x->timed_out) {
        /* It may have wanted to log the user in interactively: we never give it our terminal. */
        size_t l = strlen(msg);
        snprintf(msg + l, sizeof msg - l,
                 " (if it needs an interactive login, log in first, "
                 "e.g. `az login`, then retry)");
    }
    kube_exec_fn fn = x->fn;
    void *ctx = x->ctx;
    exec_free(x);
    fn(ctx, ok, ok ? NULL : msg);
    if (ok)
        kube_cred_free(&cred);
}

static void exec_reap(void *ctx)
{
    struct kube_exec *x = ctx;
    x->reap_timer = 0;
    int status = 0;
    pid_t r = waitpid(x->pid, &status, WNOHANG);
    if (r == 0) { /* pipes closed but still running: look again shortly */
        x->reap_timer = net_timer_add(x->net, EXEC_REAP_MS, exec_reap, x);
        return;
    }
    if (r < 0)
        status = 0;
    exec_finish(x, status);
}

static void exec_maybe_done(struct kube_exec *x)
{
    if (x->out_eof && x->err_eof && !x->reap_timer)
        x->reap_timer = net_timer_add(x->net, 0, exec_reap, x);
}

static void exec_read(void *ctx, int fd, int events)
{
    struct kube_exec *x = ctx;
    bool is_out = fd == x->out_fd;
    struct idw_buf *b = is_out ? &x->out : &x->errb;
    size_t cap = is_out ? EXEC_STDOUT_MAX : EXEC_STDERR_MAX;
    char chunk[8192];
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof chunk);
        if (n > 0) {
            if (b->len + (size_t)n <= cap)
                buf_append(b, chunk, (size_t)n);
            else if (is_out)
                x->overflow = true;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        break; /* EOF or error */
    }
    if (is_out) {
        net_fd_unwatch(x->net, x->out_watch);
        x->out_watch = 0;
        x->out_eof = true;
    } else {
        net_fd_unwatch(x->net, x->err_watch);
        x->err_watch = 0;
        x->err_eof = true;
    }
    exec_maybe_done(x);
}

static void exec_timeout(void *ctx)
{
    struct kube_exec *x = ctx;
    x->timeout_timer = 0;
    x->timed_out = true;
    kill(x->pid, SIGKILL);
    /* Its pipes may be held open by grandchildren: stop listening and reap now. */
    x->out_eof = x->err_eof = true;
    if (x->out_watch)
        net_fd_unwatch(x->net, x->out_watch);
    if (x->err_watch)
        net_fd_unwatch(x->net, x->err_watch);
    x->out_watch = x->err_watch = 0;
    exec_maybe_done(x);
}

static char **build_env(const struct kubeconfig_resolved *cfg, const char *info)
{
    size_t n = 0;
    while (environ && environ[n])
        n++;
    const struct kubeconfig_exec *e = cfg->exec;
    char **env = xcalloc(n + e->n_env + 2, sizeof *env);
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        const char *eq = strchr(environ[i], '=');
        size_t kl = eq ? (size_t)(eq - environ[i]) : strlen(environ[i]);
        bool overridden = kl == strlen("KUBERNETES_EXEC_INFO") &&
                          !strncmp(environ[i], "KUBERNETES_EXEC_INFO", kl);
        for (size_t j = 0; j < e->n_env && !overridden; j++)
            overridden = strlen(e->env[j].name) == kl && !strncmp(environ[i], e->env[j].name, kl);
        if (!overridden)
            env[o++] = xstrdup(environ[i]);
    }
    for (size_t j = 0; j < e->n_env; j++)
        env[o++] = xasprintf("%s=%s", e->env[j].name, e->env[j].value ? e->env[j].value : "");
    env[o++] = xasprintf("KUBERNETES_EXEC_INFO=%s", info);
    env[o] = NULL;
    return env;
}

/* installHint is a YAML block with blank lines: our errors are one line. */
static char *one_line(const char *s)
{
    if (str_empty(s))
        return NULL;
    struct idw_buf b = {0};
    bool space = false;
    for (const char *p = s; *p; p++) {
        if (*p == '\n' || *p == '\r' || *p == '\t' || *p == ' ') {
            space = b.len > 0;
            continue;
        }
        if (space)
            buf_append(&b, " ", 1);
        space = false;
        buf_append(&b, p, 1);
    }
    if (!b.len) {
        buf_free(&b);
        return NULL;
    }
    char out[IDW_ERR_MAX];
    str_sanitize(out, sizeof out, b.data);
    buf_free(&b);
    return xstrdup(out);
}

static void strv_free(char **v)
{
    for (size_t i = 0; v && v[i]; i++)
        free(v[i]);
    free(v);
}

int kube_exec_start(struct net *n, const struct kubeconfig_resolved *cfg, int timeout_ms,
                    kube_exec_fn fn, void *ctx, struct kube_exec **out, struct idw_err *err)
{
    *out = NULL;
    const struct kubeconfig_exec *e = cfg->exec;
    if (!e || str_empty(e->command))
        return idw_err_set(err, "no exec plugin configured");
    if (e->interactive == KUBECONFIG_INTERACTIVE_ALWAYS)
        return idw_err_set(err,
                           "exec plugin %s needs an interactive terminal (interactiveMode: "
                           "Always), which idwatch cannot hand over: log in first (for AKS: "
                           "`az login`, or `kubelogin convert-kubeconfig -l azurecli`) and retry",
                           e->command);
    int po[2] = {-1, -1}, pe[2] = {-1, -1};
    if (pipe2(po, O_CLOEXEC) < 0 || pipe2(pe, O_CLOEXEC) < 0) {
        int saved = errno;
        for (int i = 0; i < 2; i++) {
            if (po[i] >= 0)
                close(po[i]);
            if (pe[i] >= 0)
                close(pe[i]);
        }
        return idw_err_set(err, "exec plugin: pipe: %s", strerror(saved));
    }
    /* We own the terminal (or run unattended): the plugin never gets it. */
    char *info = kube_exec_info(cfg, false);
    char **env = build_env(cfg, info);
    char **argv = xcalloc(e->n_args + 2, sizeof *argv);
    argv[0] = e->command;
    for (size_t i = 0; i < e->n_args; i++)
        argv[i + 1] = e->args[i];
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, po[1], 1);
    posix_spawn_file_actions_adddup2(&fa, pe[1], 2);
    posix_spawn_file_actions_addclose(&fa, po[0]);
    posix_spawn_file_actions_addclose(&fa, pe[0]);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &all);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
                                        POSIX_SPAWN_SETPGROUP); /* no ^C from our terminal */
    posix_spawnattr_setpgroup(&attr, 0);
    pid_t pid;
    int rc = posix_spawnp(&pid, e->command, &fa, &attr, argv, env);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    free(argv);
    strv_free(env);
    free(info);
    close(po[1]);
    close(pe[1]);
    if (rc != 0) {
        close(po[0]);
        close(pe[0]);
        if (rc == ENOENT) {
            char *hint = one_line(e->install_hint);
            idw_err_set(err, "exec plugin %s not found%s%s", e->command, hint ? ": " : "",
                        hint ? hint : "");
            free(hint);
            return -1;
        }
        return idw_err_set(err, "exec plugin %s: %s", e->command, strerror(rc));
    }
    fcntl(po[0], F_SETFL, fcntl(po[0], F_GETFL) | O_NONBLOCK);
    fcntl(pe[0], F_SETFL, fcntl(pe[0], F_GETFL) | O_NONBLOCK);
    struct kube_exec *x = xcalloc(1, sizeof *x);
    x->net = n;
    x->pid = pid;
    x->out_fd = po[0];
    x->err_fd = pe[0];
    x->api_version = xstrdup(e->api_version);
    x->command = xstrdup(e->command);
    x->hint = one_line(e->install_hint);
    x->may_want_terminal = e->interactive != KUBECONFIG_INTERACTIVE_NEVER;
    x->fn = fn;
    x->ctx = ctx;
    x->out_watch = net_fd_watch(n, x->out_fd, NET_FD_IN, exec_read, x);
    x->err_watch = net_fd_watch(n, x->err_fd, NET_FD_IN, exec_read, x);
    x->timeout_timer =
        net_timer_add(n, timeout_ms > 0 ? timeout_ms : EXEC_DEFAULT_TIMEOUT_MS, exec_timeout, x);
    *out = x;
    return 0;
}

void kube_exec_cancel(struct kube_exec *x)
{
    if (!x)
        return;
    kill(x->pid, SIGKILL);
    waitpid(x->pid, NULL, 0); /* SIGKILL: returns at once */
    exec_free(x);
}
