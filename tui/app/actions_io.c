/* app/actions_io: the actions engine's real transport — Kubernetes PATCH, GET and SSAR through
 * kube, the federated-credential PUT through azure. The engine only knows struct actions_io, so
 * actions does not link kube or azure: app wires them (ARCHITECTURE.md's arrows). */
#include "idwatch/actions.h"
#include "idwatch/app.h"
#include "idwatch/azure.h"
#include "idwatch/kube.h"

static int io_patch(void *ctx, const char *path, enum kube_patch_type type, const char *body,
                    bool dry_run, kube_result_fn fn, void *arg, struct idw_err *err)
{
    struct app_actions_io *k = ctx;
    return kube_patch(k->kube, path, type, body, dry_run, fn, arg, err);
}

static int io_get(void *ctx, const char *path, kube_result_fn fn, void *arg, struct idw_err *err)
{
    struct app_actions_io *k = ctx;
    return kube_request(k->kube, "GET", path, NULL, NULL, 0, fn, arg, err);
}

static int io_ssar(void *ctx, const char *verb, const char *group, const char *resource,
                   const char *ns, const char *name, kube_ssar_fn fn, void *arg,
                   struct idw_err *err)
{
    struct app_actions_io *k = ctx;
    return kube_ssar(k->kube, verb, group, resource, NULL, ns, name, fn, arg, err);
}

static int io_fic(void *ctx, const struct azure_fic_spec *spec, azure_fic_done fn, void *arg,
                  struct idw_err *err)
{
    struct app_actions_io *k = ctx;
    if (!k->azure)
        return idw_err_set(err, "Azure is not available (no credentials or --no-azure)");
    return azure_fic_create(k->azure, spec, fn, arg, err);
}

void app_actions_io_init(struct app_actions_io *kio, struct actions_io *out)
{
    *out = (struct actions_io){
        .ctx = kio, .patch = io_patch, .get = io_get, .ssar = io_ssar, .fic_put = io_fic};
}
