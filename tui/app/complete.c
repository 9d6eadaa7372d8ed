/* app/complete: `idwatch __complete contexts|namespaces`, the dynamic values of the shell
 * completions (as `kubectl __complete` does for kubectl's). Contexts come from the kubeconfig;
 * namespaces from one read-only GET of /api/v1/namespaces with the context's credentials, no
 * Azure, within a short deadline. Only names that are valid Kubernetes names are printed: the
 * cluster's answer is hostile input headed for the user's shell. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "idwatch/app.h"
#include "idwatch/kube.h"
#include "idwatch/kubeconfig.h"
#include "idwatch/net.h"
#include "idwatch/store.h"

/* A DNS-1123 label, as namespace names are. */
static bool dns_label(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 63 || s[0] == '-' || s[n - 1] == '-')
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
            return false;
    return true;
}

/* Context names are the user's own, but still go to a shell: no blanks or control bytes. */
static bool plain_word(const char *s)
{
    if (str_empty(s) || strlen(s) > 253)
        return false;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p <= ' ' || *p == 0x7f)
            return false;
    return true;
}

struct ns_call {
    bool done;
    long status;
    char *body;
    char message[IDW_ERR_MAX];
};

static void ns_done(void *ctx, const struct kube_result *r)
{
    struct ns_call *c = ctx;
    c->done = true;
    c->status = r->status;
    snprintf(c->message, sizeof c->message, "%s", r->message);
    if (r->status == 200 && r->body)
        c->body = xstrndup(r->body, r->body_len);
}

static int print_namespaces(const char *body, FILE *out, struct idw_err *err)
{
    cJSON *root = cJSON_Parse(body);
    const cJSON *items = cJSON_GetObjectItemCaseSensitive(root, "items");
    if (!cJSON_IsArray(items)) {
        cJSON_Delete(root);
        return idw_err_set(err, "namespaces: the answer is not a list");
    }
    const cJSON *it;
    cJSON_ArrayForEach(it, items)
    {
        const cJSON *md = cJSON_GetObjectItemCaseSensitive(it, "metadata");
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(md, "name");
        if (cJSON_IsString(name) && dns_label(name->valuestring))
            fprintf(out, "%s\n", name->valuestring);
    }
    cJSON_Delete(root);
    return 0;
}

static int complete_namespaces(const struct kubeconfig *kc, const struct app_options *opt,
                               int timeout_ms, FILE *out, struct idw_err *err)
{
    struct kubeconfig_resolved cfg;
    memset(&cfg, 0, sizeof cfg);
    if (kubeconfig_resolve(kc, opt->context, &cfg, err) != 0)
        return -1;
    struct net_config ncfg = {.read_only = true}; /* a completion never changes anything */
    struct net *net = net_new(&ncfg);
    struct store *store = store_new();
    struct kube_client *k = NULL;
    struct kube_client_config kcc = {.cfg = &cfg,
                                     .net = net,
                                     .store = store,
                                     .one_shot = true,
                                     .connect_timeout_ms = timeout_ms};
    struct ns_call call = {0};
    int rc = kube_client_new(&kcc, &k, err);
    if (rc == 0)
        rc = kube_request(k, "GET", "/api/v1/namespaces", NULL, NULL, 0, ns_done, &call, err);
    int64_t deadline = time_now_ms() + timeout_ms;
    while (rc == 0 && !call.done) {
        int64_t left = deadline - time_now_ms();
        if (left <= 0) {
            rc = idw_err_set(err, "namespaces: no answer from %s within %d ms", cfg.server,
                             timeout_ms);
            break;
        }
        net_poll(net, (int)(left < 100 ? left : 100));
    }
    if (rc == 0 && call.status != 200)
        rc = call.message[0]
                 ? idw_err_set(err, "namespaces: %s (HTTP %ld)", call.message, call.status)
                 : idw_err_set(err, "namespaces: HTTP %ld", call.status);
    if (rc == 0)
        rc = print_namespaces(call.body, out, err);
    free(call.body);
    kube_client_free(k);
    store_free(store);
    net_free(net);
    kubeconfig_resolved_free(&cfg);
    return rc;
}

int app_complete(const struct app_options *opt, const char *what, int timeout_ms, FILE *out,
                 struct idw_err *err)
{
    struct kubeconfig_source src = {.explicit_path = opt->kubeconfig};
    struct kubeconfig *kc = NULL;
    if (kubeconfig_load(&src, &kc, err) != 0)
        return 1;
    int rc = 0;
    if (str_eq(what, "contexts")) {
        for (size_t i = 0; i < kubeconfig_context_count(kc); i++) {
            const char *name = kubeconfig_context_name(kc, i);
            if (plain_word(name))
                fprintf(out, "%s\n", name);
        }
    } else if (str_eq(what, "namespaces")) {
        rc = complete_namespaces(kc, opt, timeout_ms, out, err);
    } else {
        rc = idw_err_set(err, "__complete: say 'contexts' or 'namespaces'");
    }
    kubeconfig_free(kc);
    if (fflush(out) != 0 && rc == 0)
        rc = idw_err_set(err, "cannot write the completions");
    return rc == 0 ? 0 : 1;
}
