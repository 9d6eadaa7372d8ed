/* mutate: the Azure Workload Identity webhook's pod mutation (pkg/webhook/webhook.go Handle), for
 * the v0.8.0..v1.5.x and v1.6.0 layouts, including the proxy init container and sidecar
 * (reference/workload-identity.md §1-§2). */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "idwatch/model.h"
#include "mutate.h"

#define MUTATE_HTTP_BAD 400
#define MUTATE_EXP_DEFAULT 3600
#define MUTATE_EXP_MIN 3600
#define MUTATE_EXP_MAX 86400
#define MUTATE_PROXY_PORT 8000
#define MUTATE_VOLUME_PREFIX "azure-workload-identity-reserved-"
#define MUTATE_SA_TOKEN_PATH "/var/run/secrets/kubernetes.io/serviceaccount"
#define MUTATE_PROXY_NAME "azwi-proxy"
#define MUTATE_PROXY_INIT_NAME "azwi-proxy-init"

/* What differs between the two layouts (workload-identity.md §2, "Projected volume and mount"). */
struct mutate_layout_info {
    const char *mount_path;
    const char *token_path; /* path inside the volume */
    const char *proxy_image;
    const char *proxy_init_image;
};

static const struct mutate_layout_info mutate_layouts[] = {
    [MUTATE_V15] = {"/var/run/secrets/azure/tokens", "azure-identity-token",
                    "mcr.microsoft.com/oss/azure/workload-identity/proxy:v1.5.1",
                    "mcr.microsoft.com/oss/azure/workload-identity/proxy-init:v1.5.1"},
    [MUTATE_V16] = {"/var/run/secrets/azure/wi", "token/azure-identity-token",
                    "mcr.microsoft.com/oss/azure/workload-identity/proxy:v1.6.0",
                    "mcr.microsoft.com/oss/azure/workload-identity/proxy-init:v1.6.0"},
};

/* Everything resolved before the pod is touched, so a rejection leaves it unchanged. */
struct mutate_plan {
    const struct mutate_config *cfg;
    const struct mutate_layout_info *lay;
    bool proxy;
    long proxy_port;
    long long expiration;
    const char *client_id;
    const char *tenant_id;
    const char *skip; /* the raw skip-containers annotation */
    char volume[64];
    char token_file[128];
    const cJSON *sa_mount; /* the ServiceAccount plugin's token mount, copied to new containers */
};

/* ---- small JSON helpers ------------------------------------------------------------------------
 */

static cJSON *mutate_check(cJSON *x)
{
    if (!x)
        abort(); /* allocation failure, as xmalloc */
    return x;
}

static const char *mutate_str(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static cJSON *mutate_child(cJSON *obj, const char *key, bool array)
{
    cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (array ? cJSON_IsArray(v) : cJSON_IsObject(v))
        return v;
    if (v)
        cJSON_DeleteItemFromObjectCaseSensitive(obj, key);
    v = mutate_check(array ? cJSON_CreateArray() : cJSON_CreateObject());
    cJSON_AddItemToObject(obj, key, v);
    return v;
}

static void mutate_add_str(cJSON *obj, const char *key, const char *value)
{
    cJSON_AddItemToObject(obj, key, mutate_check(cJSON_CreateString(value)));
}

static void mutate_add_bool(cJSON *obj, const char *key, bool value)
{
    cJSON_AddItemToObject(obj, key, mutate_check(cJSON_CreateBool(value)));
}

static void mutate_add_num(cJSON *obj, const char *key, double value)
{
    cJSON_AddItemToObject(obj, key, mutate_check(cJSON_CreateNumber(value)));
}

static cJSON *mutate_str_array(const char *const *items, size_t n)
{
    cJSON *a = mutate_check(cJSON_CreateArray());
    for (size_t i = 0; i < n; i++)
        cJSON_AddItemToArray(a, mutate_check(cJSON_CreateString(items[i])));
    return a;
}

/* Go's strconv.ParseInt(s, 10, bits): optional sign, decimal digits, nothing else. */
static int mutate_parse_int(const char *s, int bits, long long *out, struct idw_err *err)
{
    const char *p = s;
    if (*p == '+' || *p == '-')
        p++;
    bool digits = *p != '\0';
    for (const char *c = p; *c; c++)
        digits = digits && isdigit((unsigned char)*c);
    char shown[80];
    str_sanitize(shown, sizeof shown, s);
    if (!digits)
        return idw_err_set(err, "strconv.ParseInt: parsing \"%s\": invalid syntax", shown);
    errno = 0;
    long long v = strtoll(s, NULL, 10);
    long long max = bits == 32 ? 2147483647LL : 9223372036854775807LL;
    if (errno == ERANGE || v > max || v < -max - 1)
        return idw_err_set(err, "strconv.ParseInt: parsing \"%s\": value out of range", shown);
    *out = v;
    return 0;
}

/* v1.6.0 volume name: prefix + the first 30 hex chars of sha256(pod name), 63 characters. */
static void mutate_volume_name(const char *pod_name, char out[64])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    if (!EVP_Digest(pod_name, strlen(pod_name), md, &mdlen, EVP_sha256(), NULL))
        abort();
    size_t plen = strlen(MUTATE_VOLUME_PREFIX);
    memcpy(out, MUTATE_VOLUME_PREFIX, plen);
    for (size_t i = 0; plen + i < 63; i++)
        out[plen + i] = "0123456789abcdef"[(md[i / 2] >> (i % 2 ? 0 : 4)) & 0xf];
    out[63] = '\0';
}

/* ---- planning (all checks, no changes) ----------------------------------------------------------
 */

static const cJSON *mutate_find_sa_mount(const cJSON *spec)
{
    const char *lists[] = {"containers", "initContainers"};
    for (size_t l = 0; l < 2; l++) {
        const cJSON *c;
        cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(spec, lists[l]))
        {
            const cJSON *m;
            cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(c, "volumeMounts"))
            {
                if (str_eq(mutate_str(m, "mountPath"), MUTATE_SA_TOKEN_PATH))
                    return m;
            }
        }
    }
    return NULL;
}

static int mutate_plan(struct mutate_plan *pl, const cJSON *pod, const cJSON *sa,
                       struct idw_err *err)
{
    const cJSON *meta = cJSON_GetObjectItemCaseSensitive(pod, "metadata");
    const cJSON *spec = cJSON_GetObjectItemCaseSensitive(pod, "spec");
    const cJSON *ann = cJSON_GetObjectItemCaseSensitive(meta, "annotations");
    const cJSON *sa_ann = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(sa, "metadata"), "annotations");

    if (!sa) {
        const char *name = mutate_str(spec, "serviceAccountName");
        char shown[256];
        str_sanitize(shown, sizeof shown, str_empty(name) ? "default" : name);
        return idw_err_set(err, "serviceaccounts \"%s\" not found", shown);
    }

    /* the proxy is wanted when the annotation exists, whatever its value */
    pl->proxy = cJSON_GetObjectItemCaseSensitive(ann, WI_ANN_PROXY_SIDECAR) != NULL;
    pl->proxy_port = MUTATE_PROXY_PORT;
    if (pl->proxy) {
        if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(spec, "hostNetwork")))
            return idw_err_set(err, "hostNetwork is set to true, cannot inject proxy sidecar");
        const char *port = mutate_str(ann, WI_ANN_PROXY_PORT);
        if (cJSON_GetObjectItemCaseSensitive(ann, WI_ANN_PROXY_PORT)) {
            long long v;
            if (mutate_parse_int(port ? port : "", 32, &v, err) != 0)
                return idw_err_prefix(err, "failed to parse proxy sidecar port");
            pl->proxy_port = (long)v;
        }
    }

    /* expiration: pod annotation, then SA annotation, then the default; then the range check */
    pl->expiration = MUTATE_EXP_DEFAULT;
    const char *exp = mutate_str(ann, WI_ANN_TOKEN_EXPIRATION);
    if (str_empty(exp))
        exp = mutate_str(sa_ann, WI_ANN_TOKEN_EXPIRATION);
    if (!str_empty(exp) && mutate_parse_int(exp, 64, &pl->expiration, err) != 0)
        return -1;
    if (pl->expiration < MUTATE_EXP_MIN || pl->expiration > MUTATE_EXP_MAX)
        return idw_err_set(err,
                           "token expiration %lld not valid. Expected value to be between 3600 "
                           "and 86400",
                           pl->expiration);

    pl->client_id = mutate_str(sa_ann, WI_ANN_CLIENT_ID);
    /* a tenant-id annotation wins even when empty (then no AZURE_TENANT_ID at all) */
    if (cJSON_GetObjectItemCaseSensitive(sa_ann, WI_ANN_TENANT_ID))
        pl->tenant_id = mutate_str(sa_ann, WI_ANN_TENANT_ID);
    else
        pl->tenant_id = pl->cfg->tenant_id;
    pl->skip = mutate_str(ann, WI_ANN_SKIP_CONTAINERS);

    if (pl->cfg->layout == MUTATE_V16) {
        /* controller-made pods have no name yet at admission: "<generateName> (prefix)" */
        const char *name = mutate_str(meta, "name");
        char *hashed = str_empty(name)
                           ? xasprintf("%s (prefix)", mutate_str(meta, "generateName")
                                                          ? mutate_str(meta, "generateName")
                                                          : "")
                           : xstrdup(name);
        mutate_volume_name(hashed, pl->volume);
        free(hashed);
    } else {
        snprintf(pl->volume, sizeof pl->volume, "azure-identity-token");
    }
    snprintf(pl->token_file, sizeof pl->token_file, "%s/azure-identity-token",
             pl->cfg->layout == MUTATE_V16 ? "/var/run/secrets/azure/wi/token"
                                           : "/var/run/secrets/azure/tokens");
    pl->sa_mount = pl->cfg->webhook_only ? NULL : mutate_find_sa_mount(spec);
    return 0;
}

/* ---- changes ------------------------------------------------------------------------------------
 */

/* skip-containers: names split at ';', each trimmed. */
static bool mutate_skipped(const char *skip, const char *name)
{
    if (str_empty(skip) || !name)
        return false;
    const char *p = skip;
    while (*p) {
        size_t n = strcspn(p, ";");
        const char *a = p, *b = p + n;
        while (a < b && isspace((unsigned char)*a))
            a++;
        while (b > a && isspace((unsigned char)b[-1]))
            b--;
        if ((size_t)(b - a) == strlen(name) && strncmp(a, name, (size_t)(b - a)) == 0)
            return true;
        p += n;
        if (*p == ';')
            p++;
    }
    return false;
}

static bool mutate_has_env(const cJSON *env, const char *name)
{
    const cJSON *e;
    cJSON_ArrayForEach(e, env)
    {
        if (str_eq(mutate_str(e, "name"), name))
            return true;
    }
    return false;
}

static void mutate_container(const struct mutate_plan *pl, cJSON *c)
{
    const struct {
        const char *name;
        const char *value;
    } want[] = {
        {"AZURE_CLIENT_ID", pl->client_id},
        {"AZURE_TENANT_ID", pl->tenant_id},
        {"AZURE_FEDERATED_TOKEN_FILE", pl->token_file},
        {"AZURE_AUTHORITY_HOST",
         pl->cfg->authority_host ? pl->cfg->authority_host : "https://login.microsoftonline.com/"},
    };
    /* existing entries win; empty values are never added; envFrom is not looked at */
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        if (str_empty(want[i].value))
            continue;
        cJSON *env = cJSON_GetObjectItemCaseSensitive(c, "env");
        if (mutate_has_env(env, want[i].name))
            continue;
        env = mutate_child(c, "env", true);
        cJSON *e = mutate_check(cJSON_CreateObject());
        mutate_add_str(e, "name", want[i].name);
        mutate_add_str(e, "value", want[i].value);
        cJSON_AddItemToArray(env, e);
    }

    cJSON *mounts = mutate_child(c, "volumeMounts", true);
    cJSON *m = mutate_check(cJSON_CreateObject());
    mutate_add_str(m, "name", pl->volume);
    mutate_add_str(m, "mountPath", pl->lay->mount_path);
    mutate_add_bool(m, "readOnly", true);
    int i = 0;
    cJSON *cur;
    cJSON_ArrayForEach(cur, mounts)
    {
        if (str_eq(mutate_str(cur, "name"), pl->volume)) {
            if (pl->cfg->layout == MUTATE_V16)
                cJSON_ReplaceItemInArray(mounts, i, m); /* v1.6 replaces a same-named mount */
            else
                cJSON_Delete(m); /* older versions keep it */
            return;
        }
        i++;
    }
    cJSON_AddItemToArray(mounts, m);
}

static void mutate_containers(const struct mutate_plan *pl, cJSON *list)
{
    cJSON *c;
    cJSON_ArrayForEach(c, list)
    {
        if (cJSON_IsObject(c) && !mutate_skipped(pl->skip, mutate_str(c, "name")))
            mutate_container(pl, c);
    }
}

/* The fields the API server defaults on a container the webhook added, and the SA token mount. */
static void mutate_api_defaults(const struct mutate_plan *pl, cJSON *c)
{
    if (pl->cfg->webhook_only)
        return;
    cJSON_AddItemToObject(c, "resources", mutate_check(cJSON_CreateObject()));
    mutate_add_str(c, "terminationMessagePath", "/dev/termination-log");
    mutate_add_str(c, "terminationMessagePolicy", "File");
    if (pl->sa_mount)
        cJSON_AddItemToArray(mutate_child(c, "volumeMounts", true),
                             mutate_check(cJSON_Duplicate(pl->sa_mount, 1)));
}

static bool mutate_has_container(const cJSON *list, const char *name)
{
    const cJSON *c;
    cJSON_ArrayForEach(c, list)
    {
        if (str_eq(mutate_str(c, "name"), name))
            return true;
    }
    return false;
}

static void mutate_inject_proxy_init(const struct mutate_plan *pl, cJSON *spec)
{
    cJSON *inits = mutate_child(spec, "initContainers", true);
    if (mutate_has_container(inits, MUTATE_PROXY_INIT_NAME))
        return;
    char port[16];
    snprintf(port, sizeof port, "%ld", pl->proxy_port);
    cJSON *c = mutate_check(cJSON_CreateObject());
    mutate_add_str(c, "name", MUTATE_PROXY_INIT_NAME);
    mutate_add_str(c, "image",
                   pl->cfg->proxy_init_image ? pl->cfg->proxy_init_image
                                             : pl->lay->proxy_init_image);
    mutate_add_str(c, "imagePullPolicy", "IfNotPresent");
    cJSON *env = mutate_check(cJSON_CreateArray());
    cJSON *e = mutate_check(cJSON_CreateObject());
    mutate_add_str(e, "name", "PROXY_PORT");
    mutate_add_str(e, "value", port);
    cJSON_AddItemToArray(env, e);
    cJSON_AddItemToObject(c, "env", env);
    cJSON *sc = mutate_check(cJSON_CreateObject());
    cJSON *caps = mutate_check(cJSON_CreateObject());
    const char *add[] = {"NET_ADMIN"}, *drop[] = {"ALL"};
    cJSON_AddItemToObject(caps, "add", mutate_str_array(add, 1));
    cJSON_AddItemToObject(caps, "drop", mutate_str_array(drop, 1));
    cJSON_AddItemToObject(sc, "capabilities", caps);
    mutate_add_bool(sc, "privileged", true);
    mutate_add_bool(sc, "runAsNonRoot", false);
    mutate_add_num(sc, "runAsUser", 0);
    cJSON_AddItemToObject(c, "securityContext", sc);
    mutate_api_defaults(pl, c);
    cJSON_AddItemToArray(inits, c);
}

static void mutate_inject_proxy(const struct mutate_plan *pl, cJSON *spec)
{
    bool native = pl->cfg->native_sidecar != 0;
    cJSON *list = mutate_child(spec, native ? "initContainers" : "containers", true);
    if (mutate_has_container(list, MUTATE_PROXY_NAME))
        return;
    const char *level = pl->cfg->log_level ? pl->cfg->log_level : "info";
    char port_arg[48], level_arg[80];
    snprintf(port_arg, sizeof port_arg, "--proxy-port=%ld", pl->proxy_port);
    snprintf(level_arg, sizeof level_arg, "--log-level=%s", level);

    cJSON *c = mutate_check(cJSON_CreateObject());
    mutate_add_str(c, "name", MUTATE_PROXY_NAME);
    mutate_add_str(c, "image", pl->cfg->proxy_image ? pl->cfg->proxy_image : pl->lay->proxy_image);
    mutate_add_str(c, "imagePullPolicy", "IfNotPresent");
    const char *args[] = {port_arg, level_arg};
    cJSON_AddItemToObject(c, "args", mutate_str_array(args, 2));
    cJSON *ports = mutate_check(cJSON_CreateArray());
    cJSON *p = mutate_check(cJSON_CreateObject());
    mutate_add_num(p, "containerPort", (double)pl->proxy_port);
    if (!pl->cfg->webhook_only)
        mutate_add_str(p, "protocol", "TCP");
    cJSON_AddItemToArray(ports, p);
    cJSON_AddItemToObject(c, "ports", ports);
    if (native)
        mutate_add_str(c, "restartPolicy", "Always");
    const char *cmd[] = {"/proxy", port_arg, "--probe", level_arg};
    cJSON *exec = mutate_check(cJSON_CreateObject());
    cJSON_AddItemToObject(exec, "command", mutate_str_array(cmd, 4));
    cJSON *post = mutate_check(cJSON_CreateObject());
    cJSON_AddItemToObject(post, "exec", exec);
    cJSON *life = mutate_check(cJSON_CreateObject());
    cJSON_AddItemToObject(life, "postStart", post);
    cJSON_AddItemToObject(c, "lifecycle", life);
    cJSON *sc = mutate_check(cJSON_CreateObject());
    mutate_add_bool(sc, "allowPrivilegeEscalation", false);
    cJSON *caps = mutate_check(cJSON_CreateObject());
    const char *drop[] = {"ALL"};
    cJSON_AddItemToObject(caps, "drop", mutate_str_array(drop, 1));
    cJSON_AddItemToObject(sc, "capabilities", caps);
    mutate_add_bool(sc, "privileged", false);
    mutate_add_bool(sc, "readOnlyRootFilesystem", true);
    mutate_add_bool(sc, "runAsNonRoot", true);
    cJSON_AddItemToObject(c, "securityContext", sc);
    mutate_api_defaults(pl, c);
    /* prepended: before the app containers (or as the first init container when native) */
    if (cJSON_GetArraySize(list) == 0) {
        cJSON_AddItemToArray(list, c);
    } else {
        /* cJSON_InsertItemInArray of the distribution's cJSON refuses valid inserts */
        cJSON *rest = mutate_check(cJSON_CreateArray());
        while (cJSON_GetArraySize(list) > 0)
            cJSON_AddItemToArray(rest, cJSON_DetachItemFromArray(list, 0));
        cJSON_AddItemToArray(list, c);
        while (cJSON_GetArraySize(rest) > 0)
            cJSON_AddItemToArray(list, cJSON_DetachItemFromArray(rest, 0));
        cJSON_Delete(rest);
    }
}

static bool mutate_has_v15_token(const cJSON *volumes)
{
    const cJSON *v;
    cJSON_ArrayForEach(v, volumes)
    {
        const cJSON *src;
        cJSON_ArrayForEach(src, cJSON_GetObjectItemCaseSensitive(
                                    cJSON_GetObjectItemCaseSensitive(v, "projected"), "sources"))
        {
            const cJSON *t = cJSON_GetObjectItemCaseSensitive(src, "serviceAccountToken");
            if (str_eq(mutate_str(t, "path"), "azure-identity-token"))
                return true;
        }
    }
    return false;
}

static void mutate_add_volume(const struct mutate_plan *pl, cJSON *spec)
{
    cJSON *volumes = mutate_child(spec, "volumes", true);
    if (pl->cfg->layout == MUTATE_V15 && mutate_has_v15_token(volumes))
        return;
    cJSON *tok = mutate_check(cJSON_CreateObject());
    mutate_add_str(tok, "audience", WI_AUDIENCE);
    mutate_add_num(tok, "expirationSeconds", (double)pl->expiration);
    mutate_add_str(tok, "path", pl->lay->token_path);
    cJSON *src = mutate_check(cJSON_CreateObject());
    cJSON_AddItemToObject(src, "serviceAccountToken", tok);
    cJSON *sources = mutate_check(cJSON_CreateArray());
    cJSON_AddItemToArray(sources, src);
    cJSON *proj = mutate_check(cJSON_CreateObject());
    if (!pl->cfg->webhook_only)
        mutate_add_num(proj, "defaultMode", 420);
    cJSON_AddItemToObject(proj, "sources", sources);
    cJSON *vol = mutate_check(cJSON_CreateObject());
    mutate_add_str(vol, "name", pl->volume);
    cJSON_AddItemToObject(vol, "projected", proj);
    int i = 0;
    cJSON *cur;
    cJSON_ArrayForEach(cur, volumes)
    {
        if (str_eq(mutate_str(cur, "name"), pl->volume)) {
            cJSON_ReplaceItemInArray(volumes, i, vol); /* a same-named volume is replaced */
            return;
        }
        i++;
    }
    cJSON_AddItemToArray(volumes, vol);
}

int mutate_pod(const struct mutate_config *cfg, cJSON *pod, const cJSON *sa, struct idw_err *err)
{
    if (!cfg || (cfg->layout != MUTATE_V15 && cfg->layout != MUTATE_V16) || !cJSON_IsObject(pod))
        return 0;
    const cJSON *labels = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(pod, "metadata"), "labels");
    /* the MWC objectSelector: only the exact string "true" reaches the webhook */
    if (!str_eq(mutate_str(labels, WI_LABEL_USE), "true"))
        return 0;

    struct mutate_plan pl = {.cfg = cfg, .lay = &mutate_layouts[cfg->layout]};
    if (mutate_plan(&pl, pod, sa, err) != 0)
        return MUTATE_HTTP_BAD;

    cJSON *spec = mutate_child(pod, "spec", false);
    if (pl.proxy) {
        mutate_inject_proxy_init(&pl, spec);
        mutate_inject_proxy(&pl, spec);
    }
    cJSON *inits = cJSON_GetObjectItemCaseSensitive(spec, "initContainers");
    if (inits)
        mutate_containers(&pl, inits);
    mutate_containers(&pl, cJSON_GetObjectItemCaseSensitive(spec, "containers"));
    mutate_add_volume(&pl, spec);
    return 0;
}
