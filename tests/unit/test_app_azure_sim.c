/* The real Azure client (azure_io_net + azure_new + azure_refresh, driven by net_poll) against
 * idwatch-sim's Azure side, with the values of the sim's azure.env: the cluster is found by the
 * API server host, its issuer is the simulator's public issuer, identities are listed through
 * nextLink pages, federated credentials of the identities demo's ServiceAccounts reference are
 * read (22 of id-shared over several pages, the trailing-slash mistake kept), the forbidden
 * identity carries its AuthorizationFailed error, the app registration's credentials come from
 * Graph, an unknown client id is no identity. Also the certificate (PS256 assertion) and az CLI
 * credentials end to end, and the client's federated credential creation against the sim's rules.
 *
 * idwatch-sim runs as a child from the build directory (this test links idw_app, not the sim's
 * library); the tests skip when it has not been built. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "idwatch/azure.h"
#include "idwatch/model.h"
#include "idwatch/net.h"

#include "test_sim_child.h"

#define MAX_ENV 24

static pid_t sim_pid = -1;
static bool sim_missing;
static char state_dir[64];
static char *env_name[MAX_ENV], *env_value[MAX_ENV];
static size_t n_env;
static const char *const *active_unset; /* names hidden from the client in a test */
static const char *extra_name[4], *extra_value[4];
static char issuer[160];
static char **referenced;
static size_t n_referenced;

static const char *sim_env(const char *name)
{
    for (size_t i = 0; i < n_env; i++)
        if (strcmp(env_name[i], name) == 0)
            return env_value[i];
    return NULL;
}

/* The client's environment: azure.env, minus what the test hides, plus what it adds. */
static const char *fake_getenv(void *ctx, const char *name)
{
    (void)ctx;
    for (size_t i = 0; i < 4 && extra_name[i]; i++)
        if (strcmp(extra_name[i], name) == 0)
            return extra_value[i];
    for (size_t i = 0; active_unset && active_unset[i]; i++)
        if (strcmp(active_unset[i], name) == 0)
            return NULL;
    return sim_env(name);
}

static int read_env(void)
{
    char path[128];
    snprintf(path, sizeof path, "%s/azure.env", state_dir);
    char *text;
    size_t len;
    struct idw_err err;
    if (file_read_all(path, 1 << 16, &text, &len, &err) != 0)
        return -1;
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *eq = strchr(line, '=');
        if (strncmp(line, "export ", 7) != 0 || !eq || n_env == MAX_ENV)
            continue;
        env_name[n_env] = xstrndup(line + 7, (size_t)(eq - line - 7));
        env_value[n_env++] = xstrdup(eq + 1);
    }
    free(text);
    return 0;
}

/* The client ids demo's ServiceAccounts carry: what idwatch would reference. */
static int read_referenced(void)
{
    char *text;
    size_t len;
    struct idw_err err;
    if (file_read_all(IDW_SOURCE_DIR "/tests/sim/scenarios/demo.json", 16 << 20, &text, &len,
                      &err) != 0)
        return -1;
    cJSON *doc = cJSON_ParseWithLength(text, len);
    free(text);
    const cJSON *o;
    referenced = xcalloc(64, sizeof *referenced);
    cJSON_ArrayForEach(o, cJSON_GetObjectItem(doc, "objects"))
    {
        const cJSON *kind = cJSON_GetObjectItem(o, "kind");
        const cJSON *ann = cJSON_GetObjectItem(cJSON_GetObjectItem(o, "metadata"), "annotations");
        const cJSON *id = cJSON_GetObjectItem(ann, "azure.workload.identity/client-id");
        if (cJSON_IsString(kind) && strcmp(kind->valuestring, "ServiceAccount") == 0 &&
            cJSON_IsString(id) && n_referenced < 63)
            referenced[n_referenced++] = xstrdup(id->valuestring);
    }
    cJSON_Delete(doc);
    return n_referenced ? 0 : -1;
}

static int sim_start(void **state)
{
    (void)state;
    unsigned port = 0;
    int rc = sim_child_start("idw-app-azsim", &sim_pid, state_dir, sizeof state_dir, &port);
    sim_missing = rc > 0;
    if (rc != 0)
        return rc > 0 ? 0 : -1; /* not built: every test skips, and main says so (77) */
    snprintf(issuer, sizeof issuer,
             "https://127.0.0.1:%u/oidc/72f988bf-86f1-41af-91ab-2d7cd011db47/"
             "5c3d7f0e-9a41-4b8e-8f21-6d0c2e7a9b14/",
             port);
    return read_env() || read_referenced() ? -1 : 0;
}

static int sim_stop(void **state)
{
    (void)state;
    if (sim_pid > 0) {
        kill(sim_pid, SIGTERM);
        waitpid(sim_pid, NULL, 0);
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", state_dir);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", state_dir);
    }
    for (size_t i = 0; i < n_env; i++) {
        free(env_name[i]);
        free(env_value[i]);
    }
    for (size_t i = 0; i < n_referenced; i++)
        free(referenced[i]);
    free(referenced);
    return 0;
}

#define NEED_SIM()                                                                                 \
    do {                                                                                           \
        if (sim_pid <= 0)                                                                          \
            skip();                                                                                \
    } while (0)

/* ---- a client on net ---- */

struct rig {
    struct net *net;
    struct azure_io io;
    struct azure *az;
    struct model_azure m;
    bool done;
};

static void on_done(void *arg, struct model_azure *m)
{
    struct rig *r = arg;
    r->m = *m;
    r->done = true;
}

static void rig_open(struct rig *r)
{
    memset(r, 0, sizeof *r);
    struct net_config nc = {0};
    r->net = net_new(&nc);
    struct idw_err err = {{0}};
    if (azure_io_net_new(r->net, sim_env("IDWATCH_CA_FILE"), &r->io, &err) != 0)
        fail_msg("azure_io_net_new: %s", err.msg);
    r->io.getenv = fake_getenv;
    struct azure_config cfg = {.server_host = "127.0.0.1"};
    if (azure_new(&cfg, &r->io, &r->az, &err) != 0)
        fail_msg("azure_new: %s", err.msg);
    azure_set_referenced(r->az, (const char *const *)referenced, n_referenced);
}

static void rig_refresh(struct rig *r)
{
    struct idw_err err = {{0}};
    r->done = false;
    if (azure_refresh(r->az, on_done, r, &err) != 0)
        fail_msg("azure_refresh: %s", err.msg);
    int64_t until = time_now_ms() + 60000;
    while (!r->done && time_now_ms() < until)
        net_poll(r->net, 100);
    assert_true(r->done);
}

static void rig_close(struct rig *r)
{
    if (r->done)
        model_azure_free(&r->m);
    azure_free(r->az);
    azure_io_net_free(&r->io);
    net_free(r->net);
}

static const struct model_identity *by_client(const struct model_azure *m, const char *cid)
{
    for (size_t i = 0; i < m->n_identities; i++)
        if (m->identities[i].client_id && strcasecmp(m->identities[i].client_id, cid) == 0)
            return &m->identities[i];
    return NULL;
}

/* The whole demo picture with the environment credential (client secret). */
static void test_refresh_demo(void **state)
{
    (void)state;
    NEED_SIM();
    struct rig r;
    rig_open(&r);
    rig_refresh(&r);
    const struct model_azure *m = &r.m;
    if (m->state != MODEL_AZ_OK)
        fail_msg("azure state %d: %s", m->state, m->error ? m->error : "");
    assert_string_equal(m->credential, "environment");
    /* found by host: the API server is 127.0.0.1, ARM says privateFQDN 127.0.0.1 */
    assert_string_equal(m->cluster_name, "aks-demo-weu");
    assert_true(str_has_suffix(m->cluster_arm_id, "/managedClusters/aks-demo-weu"));
    assert_string_equal(m->tenant_id, "72f988bf-86f1-41af-91ab-2d7cd011db47");
    assert_true(m->oidc_issuer_enabled);
    assert_string_equal(m->oidc_issuer_url, issuer);
    assert_true(m->workload_identity_enabled);
    assert_false(m->pod_identity_profile_enabled);
    /* every UAMI of the scenario, across nextLink pages of 5 */
    assert_int_equal(m->identities_state, MODEL_AZ_OK);
    size_t uamis = 0;
    for (size_t i = 0; i < m->n_identities; i++)
        uamis += !m->identities[i].app_registration;
    assert_int_equal(uamis, 9);

    const struct model_identity *id = by_client(m, "0b1f6a52-3c9e-4d47-9a1e-5f2b8c7d6e01");
    assert_non_null(id);
    assert_string_equal(id->name, "id-payments-api");
    assert_int_equal(id->fic_state, MODEL_AZ_OK);
    assert_int_equal(id->n_fics, 1);
    assert_string_equal(id->fics[0].issuer, issuer);
    assert_string_equal(id->fics[0].subject, "system:serviceaccount:payments:payments-api");
    assert_string_equal(id->fics[0].audiences[0], "api://AzureADTokenExchange");

    id = by_client(m, "1c2a7b63-4daf-4e58-8b2f-6a3c9d8e7f12"); /* the missing trailing slash */
    assert_non_null(id);
    assert_int_equal(id->n_fics, 1);
    assert_int_equal(strlen(id->fics[0].issuer), strlen(issuer) - 1);
    assert_true(strncmp(id->fics[0].issuer, issuer, strlen(issuer) - 1) == 0);

    id = by_client(m, "7c80d1c9-a305-4ebe-a185-c09c5de4df78"); /* 22 credentials, 5 pages */
    assert_non_null(id);
    assert_int_equal(id->fic_state, MODEL_AZ_OK);
    assert_int_equal(id->n_fics, 22);

    id = by_client(m, "5a6ebfa7-81e3-4c9c-8f63-ae7a3bc2bd56"); /* no credentials at all */
    assert_non_null(id);
    assert_int_equal(id->fic_state, MODEL_AZ_OK);
    assert_int_equal(id->n_fics, 0);

    id = by_client(m, "a4c6e8f0-2b4d-4f6a-8c0e-3d5f7a9b1c2d"); /* forbidden */
    assert_non_null(id);
    assert_int_equal(id->fic_state, MODEL_AZ_ERROR);
    assert_non_null(strstr(id->fic_error, "AuthorizationFailed"));
    assert_int_equal(id->n_fics, 0);

    id = by_client(m, "b5d7f9a1-3c5e-4a7b-9d1f-4e6a8b0c2d3e"); /* app registration via Graph */
    assert_non_null(id);
    assert_true(id->app_registration);
    assert_int_equal(id->fic_state, MODEL_AZ_OK);
    assert_int_equal(id->n_fics, 1);
    assert_string_equal(id->fics[0].subject, "system:serviceaccount:orders:orders-webhooks");
    assert_string_equal(id->fics[0].issuer, issuer);

    /* a client id nobody has: neither a UAMI nor an application */
    assert_null(by_client(m, "6b7fc0b8-92f4-4dad-9074-bf8b4cd3ce67"));
    struct azure_stats st;
    azure_get_stats(r.az, &st);
    assert_true(st.arm_requests >= 1 + 2 + 9); /* cluster list, identity pages, FIC lists */
    assert_int_equal(st.throttled, 0);
    rig_close(&r);
}

/* AZURE_CLIENT_CERTIFICATE_PATH = the sim's client.pem: a PS256 assertion the sim verifies. */
static void test_certificate_credential(void **state)
{
    (void)state;
    NEED_SIM();
    static const char *const hide[] = {"AZURE_CLIENT_SECRET", NULL};
    char pem[160];
    snprintf(pem, sizeof pem, "%s/client.pem", state_dir);
    active_unset = hide;
    extra_name[0] = "AZURE_CLIENT_CERTIFICATE_PATH";
    extra_value[0] = pem;
    struct rig r;
    rig_open(&r);
    rig_refresh(&r);
    if (r.m.state != MODEL_AZ_OK)
        fail_msg("azure state %d: %s", r.m.state, r.m.error ? r.m.error : "");
    assert_string_equal(r.m.credential, "environment-certificate");
    assert_string_equal(r.m.cluster_name, "aks-demo-weu");
    rig_close(&r);
    active_unset = NULL;
    extra_name[0] = NULL;
}

/* The sim's az stand-in through the client's CLI credential. */
static void test_cli_credential(void **state)
{
    (void)state;
    NEED_SIM();
    static const char *const hide[] = {"AZURE_CLIENT_SECRET", "AZURE_CLIENT_ID",
                                       "AZURE_SUBSCRIPTION_ID", NULL};
    char az[160];
    snprintf(az, sizeof az, "%s/az", state_dir);
    active_unset = hide;
    extra_name[0] = "IDWATCH_AZ";
    extra_value[0] = az;
    extra_name[1] = "AZURE_TOKEN_CREDENTIALS";
    extra_value[1] = "AzureCliCredential";
    struct rig r;
    rig_open(&r);
    rig_refresh(&r);
    if (r.m.state != MODEL_AZ_OK)
        fail_msg("azure state %d: %s", r.m.state, r.m.error ? r.m.error : "");
    assert_string_equal(r.m.credential, "azure-cli");
    assert_string_equal(r.m.cluster_name, "aks-demo-weu"); /* the CLI's subscription */
    const struct model_identity *id = by_client(&r.m, "b5d7f9a1-3c5e-4a7b-9d1f-4e6a8b0c2d3e");
    assert_non_null(id); /* Graph with the CLI's Graph token */
    assert_int_equal(id->n_fics, 1);
    rig_close(&r);
    active_unset = NULL;
    extra_name[0] = extra_name[1] = NULL;
}

struct created {
    bool done;
    int rc;
    char msg[IDW_ERR_MAX];
};

static void on_created(void *arg, int rc, const struct idw_err *err)
{
    struct created *c = arg;
    c->done = true;
    c->rc = rc;
    snprintf(c->msg, sizeof c->msg, "%s", err ? err->msg : "");
}

static int create(struct rig *r, const char *identity, const char *name, const char *subject,
                  struct created *c)
{
    char id[256];
    snprintf(id, sizeof id,
             "/subscriptions/%s/resourcegroups/rg-aks-demo/providers/Microsoft.ManagedIdentity/"
             "userAssignedIdentities/%s",
             sim_env("AZURE_SUBSCRIPTION_ID"), identity);
    struct azure_fic_spec spec = {
        .identity_arm_id = id, .name = name, .issuer = issuer, .subject = subject};
    struct idw_err err = {{0}};
    memset(c, 0, sizeof *c);
    if (azure_fic_create(r->az, &spec, on_created, c, &err) != 0) {
        snprintf(c->msg, sizeof c->msg, "%s", err.msg);
        return -1;
    }
    int64_t until = time_now_ms() + 30000;
    while (!c->done && time_now_ms() < until)
        net_poll(r->net, 100);
    assert_true(c->done);
    return c->rc;
}

/* The client's federated credential creation against the sim's rules (and its own checks). */
static void test_fic_create(void **state)
{
    (void)state;
    NEED_SIM();
    struct rig r;
    rig_open(&r);
    struct created c;
    if (create(&r, "id-data-catalog", "data-catalog", "system:serviceaccount:data:data-catalog",
               &c) != 0)
        fail_msg("create: %s", c.msg);
    /* the next refresh lists it */
    rig_refresh(&r);
    const struct model_identity *id = by_client(&r.m, "5a6ebfa7-81e3-4c9c-8f63-ae7a3bc2bd56");
    assert_non_null(id);
    assert_int_equal(id->n_fics, 1);
    assert_string_equal(id->fics[0].issuer, issuer);
    model_azure_free(&r.m);
    r.done = false;
    /* the same pair again, and a full identity: refused before anything is written */
    assert_int_equal(create(&r, "id-data-catalog", "data-catalog-again",
                            "system:serviceaccount:data:data-catalog", &c),
                     -1);
    assert_non_null(strstr(c.msg, "already has this issuer and subject"));
    assert_int_equal(create(&r, "id-shared", "one-more", "system:serviceaccount:x:y", &c), -1);
    assert_non_null(strstr(c.msg, "the limit is 20"));
    /* forbidden: the sim's 403 comes back as one line */
    char fx[256];
    snprintf(fx, sizeof fx,
             "/subscriptions/%s/resourcegroups/rg-finance/providers/Microsoft.ManagedIdentity/"
             "userAssignedIdentities/id-payments-fx",
             sim_env("AZURE_SUBSCRIPTION_ID"));
    struct azure_fic_spec spec = {
        .identity_arm_id = fx, .name = "payments-fx-2", .issuer = issuer, .subject = "s"};
    struct idw_err err = {{0}};
    memset(&c, 0, sizeof c);
    assert_int_equal(azure_fic_create(r.az, &spec, on_created, &c, &err), 0);
    int64_t until = time_now_ms() + 30000;
    while (!c.done && time_now_ms() < until)
        net_poll(r.net, 100);
    assert_int_equal(c.rc, -1);
    assert_non_null(strstr(c.msg, "AuthorizationFailed"));
    rig_close(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_refresh_demo),
        cmocka_unit_test(test_certificate_credential),
        cmocka_unit_test(test_cli_credential),
        cmocka_unit_test(test_fic_create),
    };
    int rc = cmocka_run_group_tests(tests, sim_start, sim_stop);
    if (rc == 0 && sim_missing) {
        printf("SKIPPED: idwatch-sim is not built next to the tests\n");
        return 77; /* the tests' SKIP_RETURN_CODE: ctest reports them skipped, not passed */
    }
    return rc;
}
