/* decode: the real mutated-pod fixtures, workloads, CRDs in both casings, MWCs, list pages,
 * watch events, the errors for malformed objects, and applying to the store. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "idwatch/core.h"
#include "idwatch/decode.h"
#include "idwatch/model.h"
#include "idwatch/store.h"

#define FIXTURE(name) IDW_SHARED_DIR "/fixtures/" name
#define DATA(name) IDW_TEST_DATA "/model/" name

static cJSON *load(const char *path)
{
    char *buf = NULL;
    size_t len = 0;
    struct idw_err err = {{0}};
    if (file_read_all(path, 1 << 20, &buf, &len, &err) != 0)
        fail_msg("%s", err.msg);
    cJSON *j = cJSON_ParseWithLength(buf, len);
    free(buf);
    assert_non_null(j);
    return j;
}

static struct decode_object decode_file(const char *path, enum decode_type t)
{
    cJSON *j = load(path);
    struct decode_object o;
    struct idw_err err = {{0}};
    if (decode_object(j, t, &o, &err) != 0)
        fail_msg("%s: %s", path, err.msg);
    cJSON_Delete(j);
    assert_int_equal(o.type, t);
    return o;
}

/* Decodes a JSON text that must fail, and checks the message. */
static void expect_error(enum decode_type t, const char *json, const char *msg)
{
    cJSON *j = cJSON_Parse(json);
    assert_non_null(j);
    struct decode_object o;
    struct idw_err err = {{0}};
    assert_int_equal(decode_object(j, t, &o, &err), -1);
    assert_null(o.u.any);
    if (strcmp(err.msg, msg) != 0)
        fail_msg("got  '%s'\nwant '%s'", err.msg, msg);
    cJSON_Delete(j);
}

static const struct model_token_volume *token_by_volume(const struct model_pod *p, const char *v)
{
    for (size_t i = 0; i < p->n_tokens; i++)
        if (strcmp(p->tokens[i].volume, v) == 0)
            return &p->tokens[i];
    return NULL;
}

static const struct model_mount *mount_by_name(const struct model_container *c, const char *n)
{
    for (size_t i = 0; i < c->n_mounts; i++)
        if (strcmp(c->mounts[i].name, n) == 0)
            return &c->mounts[i];
    return NULL;
}

#define V16_VOLUME "azure-workload-identity-reserved-0779e921c53268d2371def0b4e7be8"
#define CLIENT_ID "00000000-1111-2222-3333-444444444444"
#define TENANT_ID "72f988bf-86f1-41af-91ab-2d7cd011db47"

/* What every fixture shares: the pod, its owner, its status, the app container's env. */
static void check_common_pod(const struct model_pod *p)
{
    assert_true(p->has_spec);
    assert_string_equal(p->meta.namespace_, "default");
    assert_string_equal(p->meta.name, "quick-start-7c9d8f6b5b-x2x9k");
    assert_string_equal(p->meta.uid, "5b2f6c1e-8a44-4c1e-9d0e-3f1a2b3c4d5e");
    assert_string_equal(p->meta.resource_version, "1843392");
    assert_int_equal(p->meta.created, 1781255643); /* 2026-06-12T09:14:03Z */
    assert_int_equal(p->meta.deleted, 0);
    assert_int_equal(p->meta.labels.n, 3);
    assert_string_equal(kv_get(&p->meta.labels, WI_LABEL_USE), "true");
    const struct model_owner *o = model_meta_controller(&p->meta);
    assert_non_null(o);
    assert_string_equal(o->kind, "ReplicaSet");
    assert_string_equal(o->name, "quick-start-7c9d8f6b5b");
    assert_string_equal(o->uid, "0d8e7c6b-5a49-4382-9170-6e5d4c3b2a19");
    assert_true(o->controller);
    assert_string_equal(p->service_account, "workload-identity-sa");
    assert_string_equal(p->node_name, "aks-nodepool1-38097163-vmss000002");
    assert_string_equal(p->pod_ip, "10.244.1.17");
    assert_false(p->host_network);
    assert_int_equal(p->phase, MODEL_PHASE_RUNNING);
    assert_true(p->ready);
    assert_int_equal(p->restarts, 0);

    const struct model_container *c = model_pod_container(p, "oidc");
    assert_non_null(c);
    assert_int_equal(c->type, MODEL_CONTAINER_REGULAR);
    assert_false(c->restart_always);
    assert_string_equal(c->image, "ghcr.io/azure/azure-workload-identity/msal-go:latest");
    assert_int_equal(c->n_env, 4); /* KEYVAULT_URL and SECRET_NAME are not kept */
    assert_string_equal(c->env[0].name, "AZURE_CLIENT_ID");
    assert_string_equal(model_container_env(c, "AZURE_CLIENT_ID"), CLIENT_ID);
    assert_string_equal(model_container_env(c, "AZURE_TENANT_ID"), TENANT_ID);
    assert_string_equal(model_container_env(c, "AZURE_AUTHORITY_HOST"),
                        "https://login.microsoftonline.com/");
    assert_null(model_container_env(c, "KEYVAULT_URL"));
    assert_false(c->env[0].value_from);
    assert_false(c->env_from);
    assert_int_equal(c->n_mounts, 2);
    const struct model_mount *api = mount_by_name(c, "kube-api-access-844ns");
    assert_non_null(api);
    assert_string_equal(api->mount_path, "/var/run/secrets/kubernetes.io/serviceaccount");
    assert_true(api->read_only);
    assert_null(api->sub_path);

    /* the API server's own token: no audience */
    const struct model_token_volume *t = token_by_volume(p, "kube-api-access-844ns");
    assert_non_null(t);
    assert_string_equal(t->path, "token");
    assert_null(t->audience);
    assert_int_equal(t->expiration_seconds, 3607);
}

static void test_fixture_v16(void **state)
{
    (void)state;
    struct decode_object o = decode_file(FIXTURE("wi-mutated-pod.json"), DECODE_POD);
    const struct model_pod *p = o.u.pod;
    check_common_pod(p);
    assert_int_equal(p->n_containers, 1);
    const struct model_container *c = &p->containers[0];
    assert_string_equal(model_container_env(c, "AZURE_FEDERATED_TOKEN_FILE"),
                        "/var/run/secrets/azure/wi/token/azure-identity-token");
    const struct model_mount *m = mount_by_name(c, V16_VOLUME);
    assert_non_null(m);
    assert_string_equal(m->mount_path, "/var/run/secrets/azure/wi");
    assert_true(m->read_only);
    assert_int_equal(p->n_tokens, 2);
    const struct model_token_volume *t = token_by_volume(p, V16_VOLUME);
    assert_non_null(t);
    assert_string_equal(t->path, "token/azure-identity-token");
    assert_string_equal(t->audience, WI_AUDIENCE);
    assert_int_equal(t->expiration_seconds, 3600);
    assert_string_equal(decode_object_meta(&o)->name, "quick-start-7c9d8f6b5b-x2x9k");
    decode_object_free(&o);
    assert_null(o.u.any);
}

static void test_fixture_v15(void **state)
{
    (void)state;
    struct decode_object o = decode_file(FIXTURE("wi-mutated-pod-v1.5.json"), DECODE_POD);
    const struct model_pod *p = o.u.pod;
    check_common_pod(p);
    const struct model_container *c = &p->containers[0];
    assert_string_equal(model_container_env(c, "AZURE_FEDERATED_TOKEN_FILE"),
                        "/var/run/secrets/azure/tokens/azure-identity-token");
    const struct model_mount *m = mount_by_name(c, "azure-identity-token");
    assert_non_null(m);
    assert_string_equal(m->mount_path, "/var/run/secrets/azure/tokens");
    assert_null(mount_by_name(c, V16_VOLUME));
    const struct model_token_volume *t = token_by_volume(p, "azure-identity-token");
    assert_non_null(t);
    assert_string_equal(t->path, "azure-identity-token");
    assert_string_equal(t->audience, WI_AUDIENCE);
    assert_int_equal(t->expiration_seconds, 3600);
    decode_object_free(&o);
}

static void test_fixture_proxy_sidecar(void **state)
{
    (void)state;
    struct decode_object o = decode_file(FIXTURE("wi-mutated-pod-proxy-sidecar.json"), DECODE_POD);
    const struct model_pod *p = o.u.pod;
    check_common_pod(p);
    /* init containers first, in spec order, then the regular ones */
    assert_int_equal(p->n_containers, 3);
    assert_string_equal(p->containers[0].name, "azwi-proxy");
    assert_int_equal(p->containers[0].type, MODEL_CONTAINER_INIT);
    assert_true(p->containers[0].restart_always); /* native sidecar */
    assert_string_equal(p->containers[0].image,
                        "mcr.microsoft.com/oss/azure/workload-identity/proxy:v1.6.0");
    assert_string_equal(p->containers[1].name, "azwi-proxy-init");
    assert_int_equal(p->containers[1].type, MODEL_CONTAINER_INIT);
    assert_false(p->containers[1].restart_always);
    assert_string_equal(p->containers[2].name, "oidc");
    assert_int_equal(p->containers[2].type, MODEL_CONTAINER_REGULAR);
    /* the webhook mutated the proxies too; PROXY_PORT is not an AZURE_ variable */
    assert_int_equal(p->containers[1].n_env, 4);
    assert_null(model_container_env(&p->containers[1], "PROXY_PORT"));
    assert_string_equal(model_container_env(&p->containers[0], "AZURE_CLIENT_ID"), CLIENT_ID);
    assert_non_null(mount_by_name(&p->containers[0], V16_VOLUME));
    decode_object_free(&o);
}

static void test_pod_details(void **state)
{
    (void)state;
    const char *json =
        "{\"metadata\":{\"name\":\"p\",\"namespace\":\"n\",\"deletionTimestamp\":"
        "\"2026-06-12T09:14:03Z\"},"
        "\"spec\":{\"hostNetwork\":true,\"containers\":[{\"name\":\"a\","
        "\"env\":[{\"name\":\"AZURE_CLIENT_ID\",\"valueFrom\":{\"secretKeyRef\":{\"name\":\"s\","
        "\"key\":\"k\"}}},{\"name\":\"AZURE_TENANT_ID\",\"value\":\"\"}],"
        "\"envFrom\":[{\"configMapRef\":{\"name\":\"c\"}}],"
        "\"volumeMounts\":[{\"name\":\"v\",\"mountPath\":\"/x\",\"subPath\":\"token\"}]},"
        "{\"name\":\"b\",\"restartPolicy\":\"Always\"}]},"
        "\"status\":{\"phase\":\"Failed\",\"conditions\":[{\"type\":\"Ready\",\"status\":\"False\"}"
        "],"
        "\"containerStatuses\":[{\"restartCount\":3},{\"restartCount\":4}]}}";
    cJSON *j = cJSON_Parse(json);
    struct decode_object o;
    struct idw_err err = {{0}};
    assert_int_equal(decode_object(j, DECODE_POD, &o, &err), 0);
    const struct model_pod *p = o.u.pod;
    assert_string_equal(p->service_account, "default"); /* empty serviceAccountName */
    assert_true(p->host_network);
    assert_int_equal(p->phase, MODEL_PHASE_FAILED);
    assert_false(p->ready);
    assert_int_equal(p->restarts, 7);
    assert_int_equal(p->meta.deleted, 1781255643);
    const struct model_container *a = &p->containers[0];
    assert_true(a->env[0].value_from);
    assert_null(a->env[0].value);
    assert_string_equal(a->env[1].value, "");
    assert_false(a->env[1].value_from);
    assert_true(a->env_from);
    assert_string_equal(a->mounts[0].sub_path, "token");
    assert_false(a->mounts[0].read_only);
    /* restartPolicy on a regular container does not make a sidecar */
    assert_false(p->containers[1].restart_always);
    assert_null(p->pod_ip);
    decode_object_free(&o);
    cJSON_Delete(j);

    /* metadata-only */
    j = cJSON_Parse("{\"kind\":\"PartialObjectMetadata\",\"apiVersion\":\"meta.k8s.io/v1\","
                    "\"metadata\":{\"name\":\"p\",\"namespace\":\"n\",\"labels\":{\"a\":\"b\"}}}");
    assert_int_equal(decode_object(j, DECODE_POD, &o, &err), 0);
    assert_false(o.u.pod->has_spec);
    assert_null(o.u.pod->service_account);
    assert_int_equal(o.u.pod->n_containers, 0);
    assert_string_equal(kv_get(&o.u.pod->meta.labels, "a"), "b");
    decode_object_free(&o);
    cJSON_Delete(j);
}

static void test_malformed_objects(void **state)
{
    (void)state;
    expect_error(DECODE_POD,
                 "{\"metadata\":{\"name\":\"api-7c9d\",\"namespace\":\"payments\"},"
                 "\"spec\":{\"containers\":[{\"name\":\"a\"},{\"name\":42}]}}",
                 "pod payments/api-7c9d: spec.containers[1].name: expected a string");
    expect_error(DECODE_POD,
                 "{\"metadata\":{\"name\":\"x\",\"namespace\":\"n\"},"
                 "\"spec\":{\"initContainers\":[{\"image\":\"i\"}]}}",
                 "pod n/x: spec.initContainers[0].name: missing");
    expect_error(DECODE_POD, "{\"metadata\":{\"namespace\":\"n\"}}",
                 "pod <unnamed>: metadata.name: missing");
    expect_error(DECODE_POD, "{\"spec\":{}}", "pod <unnamed>: metadata: missing");
    expect_error(DECODE_POD, "{\"metadata\":{\"name\":\"x\",\"labels\":{\"a\":1}}}",
                 "pod x: metadata.labels.a: expected a string");
    expect_error(DECODE_POD,
                 "{\"metadata\":{\"name\":\"x\",\"ownerReferences\":[{\"kind\":\"ReplicaSet\"}]}}",
                 "pod x: metadata.ownerReferences[0].name: missing");
    expect_error(DECODE_POD,
                 "{\"metadata\":{\"name\":\"x\"},\"spec\":{\"volumes\":[{\"name\":\"v\","
                 "\"projected\":{\"sources\":[{\"serviceAccountToken\":{\"expirationSeconds\":"
                 "1.5}}]}}]}}",
                 "pod x: spec.volumes[0].projected.sources[0].serviceAccountToken."
                 "expirationSeconds: expected an integer");
    expect_error(DECODE_POD,
                 "{\"metadata\":{\"name\":\"x\"},\"status\":{\"containerStatuses\":"
                 "[{\"restartCount\":-1}]}}",
                 "pod x: status.containerStatuses[0].restartCount: out of range");
    expect_error(DECODE_POD, "{\"metadata\":{\"name\":\"x\"},\"spec\":{\"containers\":{}}}",
                 "pod x: spec.containers: expected an array");
    expect_error(DECODE_POD, "{\"metadata\":{\"name\":\"x\"},\"spec\":{\"containers\":[3]}}",
                 "pod x: spec.containers[0]: expected an object");
    expect_error(DECODE_POD, "{\"kind\":\"Service\",\"metadata\":{\"name\":\"x\"}}",
                 "pod x: kind: expected Pod, got Service");
    expect_error(DECODE_POD, "[1,2]", "pod <unnamed>: expected a JSON object");
    /* control bytes in names never reach the message */
    expect_error(DECODE_POD, "{\"metadata\":{\"name\":\"a\\u001b[31m\",\"generation\":\"1\"}}",
                 "pod a?[31m: metadata.generation: expected an integer");
    expect_error(
        DECODE_DEPLOYMENT,
        "{\"metadata\":{\"name\":\"d\",\"namespace\":\"n\"},\"spec\":{\"replicas\":\"3\"}}",
        "deployment n/d: spec.replicas: expected an integer");
    expect_error(DECODE_CRONJOB,
                 "{\"metadata\":{\"name\":\"c\",\"namespace\":\"n\"},\"spec\":{\"jobTemplate\":"
                 "{\"spec\":{\"template\":{\"spec\":{\"serviceAccountName\":5}}}}}}",
                 "cronjob n/c: spec.jobTemplate.spec.template.spec.serviceAccountName: expected a "
                 "string");
    expect_error(DECODE_AZID,
                 "{\"metadata\":{\"name\":\"i\",\"namespace\":\"n\"},\"spec\":{\"type\":\"0\"}}",
                 "azureidentity n/i: spec.type: expected an integer");
    expect_error(DECODE_MWC,
                 "{\"metadata\":{\"name\":\"m\"},\"webhooks\":[{\"name\":\"w\",\"clientConfig\":"
                 "{\"caBundle\":true}}]}",
                 "mutatingwebhookconfiguration m: webhooks[0].clientConfig.caBundle: expected a "
                 "string");
}

static void test_workloads(void **state)
{
    (void)state;
    struct decode_object o = decode_file(DATA("deployment.json"), DECODE_DEPLOYMENT);
    const struct model_workload *w = o.u.workload;
    assert_int_equal(w->kind, MODEL_KIND_DEPLOYMENT);
    assert_string_equal(w->meta.name, "api");
    assert_int_equal(w->meta.generation, 4);
    assert_int_equal(w->observed_generation, 4);
    assert_int_equal(w->replicas_desired, 3);
    assert_int_equal(w->replicas_ready, 2);
    assert_int_equal(w->replicas_available, 2);
    assert_int_equal(w->replicas_updated, 3);
    assert_string_equal(w->tmpl.service_account, "api-sa");
    assert_string_equal(kv_get(&w->tmpl.labels, WI_LABEL_USE), "true");
    assert_string_equal(kv_get(&w->tmpl.annotations, K8S_ANN_RESTARTED_AT), "2026-06-12T09:10:00Z");
    /* kubectl's copy of the whole object is dropped, other annotations kept */
    assert_false(kv_has(&w->meta.annotations, "kubectl.kubernetes.io/last-applied-configuration"));
    assert_true(kv_has(&w->meta.annotations, "deployment.kubernetes.io/revision"));
    decode_object_free(&o);

    o = decode_file(DATA("cronjob.json"), DECODE_CRONJOB);
    w = o.u.workload;
    assert_int_equal(w->kind, MODEL_KIND_CRONJOB);
    assert_string_equal(w->schedule, "*/15 * * * *");
    assert_true(w->suspended);
    assert_int_equal(w->replicas_desired, 2); /* active jobs */
    assert_string_equal(kv_get(&w->tmpl.labels, PI_LABEL_BINDING), "reports");
    assert_string_equal(w->tmpl.service_account, "default");
    decode_object_free(&o);

    o = decode_file(DATA("daemonset.json"), DECODE_DAEMONSET);
    w = o.u.workload;
    assert_int_equal(w->replicas_desired, 3);
    assert_int_equal(w->replicas_ready, 2);
    assert_int_equal(w->replicas_available, 2);
    assert_int_equal(w->replicas_updated, 3);
    /* the deprecated spec.serviceAccount still names the SA */
    assert_string_equal(w->tmpl.service_account, "aad-pod-id-nmi-service-account");
    decode_object_free(&o);

    /* a ReplicaSet and a Job are links that point up */
    cJSON *j = cJSON_Parse("{\"metadata\":{\"name\":\"report-1\",\"namespace\":\"batch\","
                           "\"ownerReferences\":[{\"kind\":\"CronJob\",\"name\":\"report\","
                           "\"uid\":\"c-uid-1\",\"controller\":true}]},\"spec\":{}}");
    struct idw_err err = {{0}};
    assert_int_equal(decode_object(j, DECODE_JOB, &o, &err), 0);
    assert_string_equal(o.u.link->kind, "Job");
    assert_string_equal(model_meta_controller(&o.u.link->meta)->name, "report");
    decode_object_free(&o);
    cJSON_Delete(j);
}

static void test_crds_both_casings(void **state)
{
    (void)state;
    struct decode_object o = decode_file(DATA("azureidentity-v1.6.json"), DECODE_AZID);
    assert_int_equal(o.u.azid->type, 0);
    assert_string_equal(o.u.azid->client_id, "11111111-2222-3333-4444-555555555555");
    assert_string_equal(o.u.azid->tenant_id, TENANT_ID);
    assert_true(str_has_suffix(o.u.azid->resource_id, "/userAssignedIdentities/payments-id"));
    assert_false(o.u.azid->old_casing);
    decode_object_free(&o);

    o = decode_file(DATA("azureidentity-old-casing.json"), DECODE_AZID);
    assert_int_equal(o.u.azid->type, 0); /* absent type = 0 */
    assert_string_equal(o.u.azid->client_id, "99999999-2222-3333-4444-555555555555");
    assert_true(str_has_suffix(o.u.azid->resource_id, "/userAssignedIdentities/legacy-id"));
    assert_null(o.u.azid->tenant_id);
    assert_true(o.u.azid->old_casing);
    decode_object_free(&o);

    o = decode_file(DATA("azureidentitybinding-v1.6.json"), DECODE_AZBINDING);
    assert_string_equal(o.u.azbinding->identity, "payments-id");
    assert_string_equal(o.u.azbinding->selector, "payments");
    assert_false(o.u.azbinding->old_casing);
    decode_object_free(&o);

    o = decode_file(DATA("azureidentitybinding-old-casing.json"), DECODE_AZBINDING);
    assert_string_equal(o.u.azbinding->identity, "legacy-id");
    assert_string_equal(o.u.azbinding->selector, "legacy");
    assert_true(o.u.azbinding->old_casing);
    decode_object_free(&o);

    o = decode_file(DATA("azurepodidentityexception-v1.6.json"), DECODE_AZEXCEPTION);
    assert_string_equal(kv_get(&o.u.azexception->pod_labels, "kubernetes.azure.com/managedby"),
                        "aks");
    decode_object_free(&o);
    o = decode_file(DATA("azurepodidentityexception-old-casing.json"), DECODE_AZEXCEPTION);
    assert_int_equal(o.u.azexception->pod_labels.n, 2);
    assert_string_equal(kv_get(&o.u.azexception->pod_labels, "component"), "mic");
    decode_object_free(&o);

    o = decode_file(DATA("azureassignedidentity.json"), DECODE_AZASSIGNED);
    const struct model_azure_assigned_identity *a = o.u.azassigned;
    assert_string_equal(a->pod, "api-7c9d-x2x9k");
    assert_string_equal(a->pod_namespace, "payments");
    assert_string_equal(a->node_name, "aks-nodepool1-38097163-vmss000002");
    assert_string_equal(a->identity_name, "payments-id");
    assert_string_equal(a->identity_namespace, "payments");
    assert_string_equal(a->binding_name, "payments-binding");
    assert_string_equal(a->status, "Assigned");
    decode_object_free(&o);

    /* new casing wins when both are present */
    cJSON *j = cJSON_Parse("{\"metadata\":{\"name\":\"b\"},\"spec\":{\"selector\":\"new\","
                           "\"Selector\":\"old\",\"azureIdentity\":\"i\"}}");
    struct idw_err err = {{0}};
    assert_int_equal(decode_object(j, DECODE_AZBINDING, &o, &err), 0);
    assert_string_equal(o.u.azbinding->selector, "new");
    assert_false(o.u.azbinding->old_casing);
    decode_object_free(&o);
    cJSON_Delete(j);
}

static void test_mwc(void **state)
{
    (void)state;
    struct decode_object o = decode_file(DATA("mwc-wi-webhook.json"), DECODE_MWC);
    const struct model_mwc *m = o.u.mwc;
    assert_string_equal(m->meta.name, WI_MWC_NAME);
    assert_null(m->meta.namespace_);
    assert_int_equal(m->n_webhooks, 2);
    const struct model_webhook *h = &m->webhooks[0];
    assert_string_equal(h->name, WI_WEBHOOK_NAME);
    assert_string_equal(h->service_namespace, "azure-workload-identity-system");
    assert_string_equal(h->service_name, "azure-wi-webhook-webhook-service");
    assert_null(h->url);
    assert_int_equal(h->ca_bundle_len, 40);
    assert_string_equal(h->failure_policy, "Fail");
    assert_true(h->has_object_selector);
    assert_string_equal(kv_get(&h->object_selector, WI_LABEL_USE), "true");
    h = &m->webhooks[1];
    assert_string_equal(h->url, "https://hooks.example.com/mutate");
    assert_null(h->service_name);
    assert_int_equal(h->ca_bundle_len, 0);
    assert_string_equal(h->failure_policy, "Ignore");
    assert_false(h->has_object_selector); /* {} is what the server makes of a missing one */
    decode_object_free(&o);
}

/* ---- list pages ------------------------------------------------------------------------------ */

struct collect {
    struct store *s;
    size_t ok, bad;
    char last_err[IDW_ERR_MAX];
};

static void collect_item(void *ctx, struct decode_object *obj, const struct idw_err *item_err)
{
    struct collect *c = ctx;
    if (!obj) {
        c->bad++;
        snprintf(c->last_err, sizeof c->last_err, "%s", item_err->msg);
        return;
    }
    c->ok++;
    if (c->s)
        assert_int_equal(decode_store_apply(c->s, DECODE_EV_ADDED, obj), 0);
}

static int page_file(const char *path, enum decode_type t, struct collect *c,
                     struct decode_list_meta *meta, struct idw_err *err)
{
    char *buf = NULL;
    size_t len = 0;
    assert_int_equal(file_read_all(path, 1 << 20, &buf, &len, err), 0);
    int rc = decode_list_page(buf, len, t, collect_item, c, meta, err);
    free(buf);
    return rc;
}

static void test_list_pages(void **state)
{
    (void)state;
    struct store *s = store_new();
    struct collect c = {.s = s};
    struct decode_list_meta meta;
    struct idw_err err = {{0}};
    assert_int_equal(page_file(DATA("podlist-page1.json"), DECODE_POD, &c, &meta, &err), 0);
    assert_int_equal(meta.items, 3);
    assert_int_equal(meta.failed, 1);
    assert_int_equal(c.ok, 2);
    assert_int_equal(c.bad, 1);
    assert_string_equal(c.last_err,
                        "pod payments/api-2: spec.containers[0].name: expected a string");
    assert_string_equal(meta.resource_version, "1843400");
    assert_true(str_has_prefix(meta.continue_token, "eyJ2Ijoib"));
    assert_int_equal(meta.remaining, 7);
    decode_list_meta_free(&meta);
    assert_int_equal(store_pod_count(s), 2);
    assert_non_null(store_get_pod(s, "payments", "api-1"));
    assert_non_null(store_get_workload(s, MODEL_KIND_POD, "tools", "bare"));

    /* metadata-only service accounts */
    memset(&c, 0, sizeof c);
    c.s = s;
    assert_int_equal(
        page_file(DATA("sa-metadata-list.json"), DECODE_SERVICEACCOUNT, &c, &meta, &err), 0);
    assert_int_equal(c.ok, 2);
    assert_null(meta.continue_token);
    assert_int_equal(meta.remaining, -1);
    decode_list_meta_free(&meta);
    const struct model_service_account *sa = store_get_sa(s, "payments", "api");
    assert_non_null(sa);
    assert_string_equal(kv_get(&sa->meta.annotations, WI_ANN_CLIENT_ID),
                        "11111111-2222-3333-4444-555555555555");

    /* a Status instead of a list: its HTTP code */
    memset(&c, 0, sizeof c);
    assert_int_equal(page_file(DATA("status-expired.json"), DECODE_POD, &c, &meta, &err), 410);
    assert_true(str_has_prefix(err.msg, "Expired: The provided continue parameter is too old"));
    assert_int_equal(c.ok + c.bad, 0);
    decode_list_meta_free(&meta);

    /* wrong list kind, not JSON, items not an array */
    const char *wrong = "{\"kind\":\"DeploymentList\",\"items\":[]}";
    assert_int_equal(
        decode_list_page(wrong, strlen(wrong), DECODE_POD, collect_item, &c, &meta, &err), -1);
    assert_string_equal(err.msg, "Pod list: expected kind PodList, got DeploymentList");
    assert_int_equal(decode_list_page("{\"items\":", 9, DECODE_POD, collect_item, &c, &meta, &err),
                     -1);
    assert_string_equal(err.msg, "Pod list: not valid JSON");
    const char *noarr = "{\"kind\":\"PodList\",\"items\":{}}";
    assert_int_equal(
        decode_list_page(noarr, strlen(noarr), DECODE_POD, collect_item, &c, &meta, &err), -1);
    assert_string_equal(err.msg, "list Pod: items: expected an array");
    /* the buffer need not be NUL-terminated: only len bytes are read */
    const char *two = "{\"kind\":\"PodList\",\"items\":[]}GARBAGE";
    assert_int_equal(decode_list_page(two, strlen(two) - 7, DECODE_POD, NULL, NULL, &meta, &err),
                     0);
    assert_int_equal(meta.items, 0);
    decode_list_meta_free(&meta);
    store_free(s);
}

/* ---- watch events ------------------------------------------------------------------------------
 */

static void test_watch_events(void **state)
{
    (void)state;
    char *buf = NULL;
    size_t len = 0;
    struct idw_err err = {{0}};
    assert_int_equal(file_read_all(DATA("watch-events.txt"), 1 << 20, &buf, &len, &err), 0);
    struct store *s = store_new();
    struct decode_event ev;
    char *line = strtok(buf, "\n");
    /* ADDED */
    assert_int_equal(decode_watch_event(line, strlen(line), DECODE_POD, &ev, &err), 0);
    assert_int_equal(ev.type, DECODE_EV_ADDED);
    assert_string_equal(ev.resource_version, "1843401");
    assert_string_equal(ev.obj.u.pod->pod_ip, "10.244.0.10");
    assert_int_equal(decode_store_apply(s, ev.type, &ev.obj), 0);
    assert_null(ev.obj.u.any);
    assert_int_equal(store_pod_count(s), 1);
    decode_event_free(&ev);
    /* BOOKMARK */
    line = strtok(NULL, "\n");
    assert_int_equal(decode_watch_event(line, strlen(line), DECODE_POD, &ev, &err), 0);
    assert_int_equal(ev.type, DECODE_EV_BOOKMARK);
    assert_string_equal(ev.resource_version, "1843500");
    assert_true(ev.initial_events_end);
    assert_null(ev.obj.u.any);
    assert_int_equal(decode_store_apply(s, ev.type, &ev.obj), 0);
    decode_event_free(&ev);
    /* ERROR */
    line = strtok(NULL, "\n");
    assert_int_equal(decode_watch_event(line, strlen(line), DECODE_POD, &ev, &err), 0);
    assert_int_equal(ev.type, DECODE_EV_ERROR);
    assert_int_equal(ev.status_code, 410);
    assert_string_equal(ev.status_reason, "Expired");
    assert_string_equal(ev.status_message, "too old resource version: 1 (3171407)");
    decode_event_free(&ev);
    /* DELETED (a metadata-only last state is enough to delete) */
    line = strtok(NULL, "\n");
    assert_int_equal(decode_watch_event(line, strlen(line), DECODE_POD, &ev, &err), 0);
    assert_int_equal(ev.type, DECODE_EV_DELETED);
    assert_int_equal(decode_store_apply(s, ev.type, &ev.obj), 0);
    assert_int_equal(store_pod_count(s), 0);
    decode_event_free(&ev);
    free(buf);

    /* malformed envelopes and objects */
    const char *bad[][2] = {
        {"{\"type\":\"ADDED\"", "Pod watch: event is not valid JSON"},
        {"{\"object\":{}}", "Pod watch: event without a type"},
        {"{\"type\":\"RENAMED\",\"object\":{}}", "Pod watch: unknown event type RENAMED"},
        {"{\"type\":\"ADDED\",\"object\":[]}", "Pod watch: ADDED event without an object"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(decode_watch_event(bad[i][0], strlen(bad[i][0]), DECODE_POD, &ev, &err),
                         -1);
        assert_string_equal(err.msg, bad[i][1]);
        decode_event_free(&ev);
    }
    const char *badobj = "{\"type\":\"MODIFIED\",\"object\":{\"kind\":\"Pod\",\"metadata\":{"
                         "\"name\":\"x\",\"namespace\":\"n\",\"resourceVersion\":\"9\"},"
                         "\"spec\":{\"hostNetwork\":\"yes\"}}}";
    assert_int_equal(decode_watch_event(badobj, strlen(badobj), DECODE_POD, &ev, &err), -1);
    assert_int_equal(ev.type, DECODE_EV_MODIFIED); /* the caller can still count it ... */
    assert_string_equal(ev.resource_version, "9"); /* ... and keep its place in the stream */
    assert_null(ev.obj.u.any);
    assert_string_equal(err.msg, "pod n/x: spec.hostNetwork: expected a boolean");
    decode_event_free(&ev);
    /* deleting something never seen */
    const char *del = "{\"type\":\"DELETED\",\"object\":{\"metadata\":{\"name\":\"ghost\","
                      "\"namespace\":\"n\"}}}";
    assert_int_equal(decode_watch_event(del, strlen(del), DECODE_POD, &ev, &err), 0);
    assert_int_equal(decode_store_apply(s, ev.type, &ev.obj), -1);
    decode_event_free(&ev);
    store_free(s);
}

static void test_type_table_and_meta(void **state)
{
    (void)state;
    enum decode_type t;
    assert_int_equal(decode_type_parse("AzurePodIdentityException", &t), 0);
    assert_int_equal(t, DECODE_AZEXCEPTION);
    assert_string_equal(decode_type_kind(DECODE_MWC), "MutatingWebhookConfiguration");
    assert_int_equal(decode_type_parse("Secret", &t), -1);
    for (int i = 0; i < DECODE__COUNT; i++) {
        assert_int_equal(decode_type_parse(decode_type_kind((enum decode_type)i), &t), 0);
        assert_int_equal((int)t, i);
    }
    cJSON *md = cJSON_Parse("{\"name\":\"x\",\"namespace\":\"y\",\"creationTimestamp\":"
                            "\"2026-11-29T10:00:00Z\",\"annotations\":{\"k\":\"v\"}}");
    struct model_meta m;
    struct idw_err err = {{0}};
    assert_int_equal(decode_meta(md, &m, &err), 0);
    assert_string_equal(m.name, "x");
    assert_int_equal(m.created, 1795946400);
    assert_string_equal(kv_get(&m.annotations, "k"), "v");
    model_meta_free(&m);
    cJSON_Delete(md);
    md = cJSON_Parse("{\"name\":\"x\",\"uid\":5}");
    assert_int_equal(decode_meta(md, &m, &err), -1);
    assert_string_equal(err.msg, "object x: metadata.uid: expected a string");
    cJSON_Delete(md);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixture_v16),
        cmocka_unit_test(test_fixture_v15),
        cmocka_unit_test(test_fixture_proxy_sidecar),
        cmocka_unit_test(test_pod_details),
        cmocka_unit_test(test_malformed_objects),
        cmocka_unit_test(test_workloads),
        cmocka_unit_test(test_crds_both_casings),
        cmocka_unit_test(test_mwc),
        cmocka_unit_test(test_list_pages),
        cmocka_unit_test(test_watch_events),
        cmocka_unit_test(test_type_table_and_meta),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
