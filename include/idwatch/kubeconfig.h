/* kubeconfig: load and merge kubeconfig files (libyaml) the way kubectl does, and resolve one
 * context into everything needed to talk to its API server (reference kubernetes-api.md §1-3).
 *
 * Loading parses every stanza; relative paths are made absolute against the directory of the
 * file that defined the stanza. Resolving reads the files a context names (CA, cert, key) and
 * decodes the *-data fields, so errors about one user's data do not stop other contexts.
 */
#ifndef IDWATCH_KUBECONFIG_H
#define IDWATCH_KUBECONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "idwatch/core.h"

struct kubeconfig;

/* Where kubeconfig_load looks (NULL fields = the process environment). */
struct kubeconfig_source {
    const char *explicit_path;  /* --kubeconfig: exactly this file, which must exist */
    const char *env_kubeconfig; /* KUBECONFIG value; NULL = getenv("KUBECONFIG") */
    const char *home;           /* NULL = getenv("HOME"); default file is $HOME/.kube/config */
};

/* Loads: --kubeconfig, else the KUBECONFIG list (merged: the first file that defines a name or
 * sets a scalar wins; missing files are skipped; all missing is an error), else ~/.kube/config.
 * A malformed file fails with "path:line:column: reason". When no file exists at all and the
 * in-cluster environment is present, *out is an empty config with kubeconfig_in_cluster() true. */
int kubeconfig_load(const struct kubeconfig_source *src, struct kubeconfig **out,
                    struct idw_err *err);
/* Parses one document from memory (name is used in messages and dir for relative paths; both
 * may be NULL). Used by the fuzzer and tests. */
int kubeconfig_parse(const char *yaml, size_t len, const char *name, const char *dir,
                     struct kubeconfig **out, struct idw_err *err);
void kubeconfig_free(struct kubeconfig *kc);

const char *kubeconfig_current_context(const struct kubeconfig *kc); /* NULL when unset */
size_t kubeconfig_context_count(const struct kubeconfig *kc);
const char *kubeconfig_context_name(const struct kubeconfig *kc, size_t i);
/* The files that were merged, in order ("" when parsed from memory). */
size_t kubeconfig_file_count(const struct kubeconfig *kc);
const char *kubeconfig_file(const struct kubeconfig *kc, size_t i);
bool kubeconfig_in_cluster(const struct kubeconfig *kc);

enum kubeconfig_interactive {
    KUBECONFIG_INTERACTIVE_NEVER,
    KUBECONFIG_INTERACTIVE_IF_AVAILABLE,
    KUBECONFIG_INTERACTIVE_ALWAYS,
};

struct kubeconfig_env {
    char *name;
    char *value;
};

/* users[].user.exec */
struct kubeconfig_exec {
    char *api_version; /* client.authentication.k8s.io/v1 or /v1beta1 */
    char *command;     /* absolute when it contained a '/', else searched in PATH */
    char **args;
    size_t n_args;
    struct kubeconfig_env *env;
    size_t n_env;
    char *install_hint;
    bool provide_cluster_info;
    enum kubeconfig_interactive interactive;
};

/* Everything needed to reach and authenticate to one context's API server. */
struct kubeconfig_resolved {
    char *context;
    char *cluster_name;
    char *user_name;
    char *namespace_; /* the context's namespace, "default" when unset */
    char *server;     /* https://host:port (a bare host:port gets https://) */
    char *ca_pem;     /* NULL = system CAs */
    size_t ca_len;
    bool insecure;
    char *tls_server_name;
    char *proxy_url;
    bool disable_compression;
    char *exec_cluster_config; /* JSON of the extension client.authentication.k8s.io/exec */
    char *cert_pem;
    size_t cert_len;
    char *key_pem;
    size_t key_len;
    char *token;                  /* static token (wins over token_file) */
    char *token_file;             /* absolute */
    struct kubeconfig_exec *exec; /* NULL when no exec plugin */
    bool in_cluster;
};

/* Resolves a context (NULL = current-context). Unknown context: the error lists the known ones.
 * auth-provider users fail with a message naming `kubelogin convert-kubeconfig`. For an
 * in-cluster config, context is ignored and the service-account files are read. */
int kubeconfig_resolve(const struct kubeconfig *kc, const char *context,
                       struct kubeconfig_resolved *out, struct idw_err *err);
void kubeconfig_resolved_free(struct kubeconfig_resolved *r);

/* In-cluster config from KUBERNETES_SERVICE_HOST/PORT and the service-account files under
 * /var/run/secrets/kubernetes.io/serviceaccount (IDWATCH_SA_DIR overrides that directory). */
int kubeconfig_resolve_in_cluster(struct kubeconfig_resolved *out, struct idw_err *err);

/* Strict base64 (standard alphabet, padding optional, whitespace ignored). Returns a
 * NUL-terminated heap buffer or NULL when invalid. */
char *kubeconfig_base64_decode(const char *in, size_t *out_len);

#endif
