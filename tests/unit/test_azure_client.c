/* azure client: the credential chain's requests, cluster discovery, identity paging, credential
 * lists only for referenced ids, Graph fallbacks, throttling, caches, the FIC PUT helper. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <cmocka.h>

#include "idwatch/azure.h"
#include "idwatch/store.h"
#include "test_azure_fake.h"

#define ARM "https://arm.test"
#define GRAPH "https://graph.test"
#define LOGIN "https://login.test"
#define HOST "dnsprefix1-abcd1234.hcp.eastus.azmk8s.io"
#define ISSUER                                                                                     \
    "https://eastus.oic.prod-aks.azure.com/22222222-2222-2222-2222-222222222222/"                  \
    "44444444-4444-4444-4444-444444444444/"
#define APP_OK "aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaa1"
#define APP_403 "bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbb2"
#define APP_404 "cccccccc-cccc-cccc-cccc-ccccccccccc3"
#define N_IDS 7
#define PAGE 3

struct scen {
    char *cluster_json;
    char body[64 * 1024];
    int fic_mode;      /* 0 ok, 1: id-1 403 + id-4 garbage */
    int throttle_left; /* 429s to give on the identity list */
    const char *reads; /* x-ms-ratelimit-remaining-subscription-reads to send */
    char hdr[256];
    bool no_cluster;
    int fic_count; /* FICs existing on id-2 (for the PUT helper) */
    bool token_garbage;
};

static char *read_fixture(const char *rel)
{
    char path[512], *data;
    size_t len;
    snprintf(path, sizeof path, "%s/%s", IDW_SHARED_DIR, rel);
    assert_int_equal(file_read_all(path, 1 << 20, &data, &len, NULL), 0);
    return data;
}

static void client_id(int k, char out[40])
{
    snprintf(out, 40, "00000000-0000-0000-0000-0000000000%02d", k);
}

static void route(struct fake_io *f, const struct fake_req *q, struct fake_answer *a)
{
    struct scen *s = f->user;
    char *b = s->body;
    a->status = 200;
    a->body = b;
    if (s->reads) {
        snprintf(s->hdr, sizeof s->hdr,
                 "x-ms-ratelimit-remaining-subscription-reads: %s\r\nx-ms-request-id: r1\r\n",
                 s->reads);
        a->headers = s->hdr;
    }
    if (str_has_prefix(q->url, LOGIN)) {
        if (s->token_garbage) {
            snprintf(b, sizeof s->body, "<html>");
            return;
        }
        bool graph = strstr(q->body, "graph.microsoft.com") != NULL;
        snprintf(b, sizeof s->body,
                 "{\"token_type\":\"Bearer\",\"expires_in\":\"3599\",\"ext_expires_in\":3599,"
                 "\"access_token\":\"%s\"}",
                 graph ? "tok-graph" : "tok-arm");
        return;
    }
    if (strstr(q->url, "/managedClusters?")) {
        if (strstr(q->url, "skiptoken=2")) {
            snprintf(b, sizeof s->body, "{\"value\":[%s]}", s->no_cluster ? "" : s->cluster_json);
        } else {
            snprintf(b, sizeof s->body,
                     "{\"value\":[{\"id\":\"/subscriptions/sub1/resourceGroups/rg9/providers/"
                     "Microsoft.ContainerService/managedClusters/other\",\"name\":\"other\","
                     "\"properties\":{\"fqdn\":\"other-1.hcp.westeurope.azmk8s.io\"}}],"
                     "\"nextLink\":\"" ARM "/subscriptions/sub1/providers/"
                     "Microsoft.ContainerService/managedClusters?api-version=2025-10-01&"
                     "$skiptoken=2\"}");
        }
        return;
    }
    if (strstr(q->url, "/federatedIdentityCredentials/") && strcmp(q->method, "PUT") == 0) {
        a->status = 201;
        snprintf(b, sizeof s->body, "%s", q->body);
        return;
    }
    if (strstr(q->url, "/federatedIdentityCredentials")) {
        if (str_has_prefix(q->url, GRAPH)) {
            if (strstr(q->url, APP_403)) {
                a->status = 403;
                snprintf(b, sizeof s->body,
                         "{\"error\":{\"code\":\"Authorization_RequestDenied\",\"message\":"
                         "\"Insufficient privileges to complete the operation.\"}}");
            } else if (strstr(q->url, APP_404)) {
                a->status = 404;
                snprintf(b, sizeof s->body,
                         "{\"error\":{\"code\":\"Request_ResourceNotFound\",\"message\":\"x\"}}");
            } else {
                snprintf(b, sizeof s->body,
                         "{\"@odata.context\":\"x\",\"value\":[{\"id\":\"g1\",\"name\":\"gh\","
                         "\"issuer\":\"" ISSUER "\",\"subject\":\"system:serviceaccount:a:b\","
                         "\"description\":null,\"audiences\":[\"api://AzureADTokenExchange\"]}]}");
            }
            return;
        }
        const char *p = strstr(q->url, "userAssignedIdentities/id-");
        int k = p ? atoi(p + strlen("userAssignedIdentities/id-")) : -1;
        if (s->fic_mode == 1 && k == 1) {
            a->status = 403;
            snprintf(b, sizeof s->body,
                     "{\"error\":{\"code\":\"AuthorizationFailed\",\"message\":\"The client "
                     "'x' with object id 'y' does not have authorization to perform action "
                     "'Microsoft.ManagedIdentity/userAssignedIdentities/"
                     "federatedIdentityCredentials/read' over scope '/subscriptions/sub1/"
                     "resourceGroups/rg1/providers/Microsoft.ManagedIdentity/"
                     "userAssignedIdentities/id-1' or the scope is invalid. If access was "
                     "recently granted, please refresh your credentials.\"}}");
            return;
        }
        if (s->fic_mode == 1 && k == 4) {
            snprintf(b, sizeof s->body, "<html>gateway</html>");
            return;
        }
        int n = k == 2 ? s->fic_count : 1;
        size_t o = (size_t)snprintf(b, sizeof s->body, "{\"value\":[");
        for (int i = 0; i < n; i++)
            o += (size_t)snprintf(b + o, sizeof s->body - o,
                                  "%s{\"id\":\"x\",\"name\":\"fic-%d-%d\",\"properties\":{"
                                  "\"issuer\":\"" ISSUER "\",\"subject\":"
                                  "\"system:serviceaccount:ns:sa-%d-%d\",\"audiences\":"
                                  "[\"api://AzureADTokenExchange\"]}}",
                                  i ? "," : "", k, i, k, i);
        snprintf(b + o, sizeof s->body - o, "]}");
        return;
    }
    if (strstr(q->url, "/userAssignedIdentities?")) {
        if (!strstr(q->url, "/subscriptions/sub1/")) { /* the cluster's own subscription */
            snprintf(b, sizeof s->body, "{\"value\":[]}");
            return;
        }
        if (s->throttle_left > 0) {
            s->throttle_left--;
            a->status = 429;
            a->retry_after = 7;
            snprintf(b, sizeof s->body,
                     "{\"error\":{\"code\":\"SubscriptionRequestsThrottled\",\"message\":\"x\"}}");
            return;
        }
        const char *st = strstr(q->url, "skiptoken=");
        int start = st ? atoi(st + 10) : 0;
        size_t o = (size_t)snprintf(b, sizeof s->body, "{\"value\":[");
        for (int k = start; k < start + PAGE && k < N_IDS; k++) {
            char cid[40];
            client_id(k, cid);
            o += (size_t)snprintf(b + o, sizeof s->body - o,
                                  "%s{\"id\":\"/subscriptions/sub1/resourcegroups/rg1/providers/"
                                  "Microsoft.ManagedIdentity/userAssignedIdentities/id-%d\","
                                  "\"name\":\"id-%d\",\"location\":\"eastus\",\"properties\":{"
                                  "\"clientId\":\"%s\",\"principalId\":\"p%d\",\"tenantId\":"
                                  "\"t\"}}",
                                  k > start ? "," : "", k, k, cid, k);
        }
        if (start + PAGE < N_IDS)
            o += (size_t)snprintf(b + o, sizeof s->body - o,
                                  "],\"nextLink\":\"" ARM "/subscriptions/sub1/providers/"
                                  "Microsoft.ManagedIdentity/userAssignedIdentities?"
                                  "api-version=2024-11-30&$skiptoken=%d\"}",
                                  start + PAGE);
        else
            snprintf(b + o, sizeof s->body - o, "]}");
        return;
    }
    a->status = 404;
    snprintf(b, sizeof s->body, "{\"error\":{\"code\":\"NotFound\",\"message\":\"no route\"}}");
}

struct result {
    struct model_azure m;
    int calls;
};

static void on_done(void *arg, struct model_azure *m)
{
    struct result *r = arg;
    if (r->calls++)
        model_azure_free(&r->m);
    r->m = *m;
}

struct ctx {
    struct fake_io f;
    struct scen s;
    struct azure *az;
    struct result res;
};

static struct ctx *setup_env(void)
{
    struct ctx *c = xcalloc(1, sizeof *c);
    c->f.now_ms = 1795946400000;
    c->f.route = route;
    c->f.user = &c->s;
    c->s.cluster_json =
        read_fixture("fixtures/arm/SYNTHETIC-managedCluster-get-oidc-workloadidentity.json");
    fake_setenv(&c->f, "AZURE_TENANT_ID", "tenant1");
    fake_setenv(&c->f, "AZURE_CLIENT_ID", "cid");
    fake_setenv(&c->f, "AZURE_CLIENT_SECRET", "s3cr3t&x=y");
    fake_setenv(&c->f, "AZURE_SUBSCRIPTION_ID", "sub1");
    return c;
}

static void start(struct ctx *c)
{
    struct azure_io io = fake_io_seam(&c->f);
    struct azure_config cfg = {
        .arm_endpoint = ARM, .graph_endpoint = GRAPH, .authority_host = LOGIN, .server_host = HOST};
    assert_int_equal(azure_new(&cfg, &io, &c->az, NULL), 0);
    char ids[3][40];
    client_id(1, ids[0]);
    client_id(4, ids[1]);
    client_id(1, ids[2]);
    const char *ref[] = {ids[0], ids[1], ids[2], APP_OK, APP_403, APP_404, "not-a-guid"};
    azure_set_referenced(c->az, ref, 7);
}

static struct ctx *setup(void)
{
    struct ctx *c = setup_env();
    start(c);
    return c;
}

static void teardown(struct ctx *c)
{
    azure_free(c->az);
    if (c->res.calls)
        model_azure_free(&c->res.m);
    fake_free(&c->f);
    free(c->s.cluster_json);
    free(c);
}

static void refresh(struct ctx *c)
{
    int before = c->res.calls;
    assert_int_equal(azure_refresh(c->az, on_done, &c->res, NULL), 0);
    fake_run(&c->f);
    assert_int_equal(c->res.calls, before + 1);
    assert_false(azure_busy(c->az));
}

static const struct model_identity *ident(const struct model_azure *m, const char *client)
{
    return model_azure_identity_by_client_id(m, client);
}

static void test_full_refresh(void **state)
{
    (void)state;
    struct ctx *c = setup();
    refresh(c);
    struct model_azure *m = &c->res.m;
    if (m->state != MODEL_AZ_OK)
        fail_msg("state %d error %s", m->state, m->error ? m->error : "-");
    assert_string_equal(m->credential, "environment");
    assert_string_equal(m->cluster_name, "clustername1");
    assert_true(str_has_suffix(m->cluster_arm_id, "/managedClusters/clustername1"));
    assert_string_equal(m->oidc_issuer_url, ISSUER);
    assert_true(m->oidc_issuer_enabled);
    assert_true(m->workload_identity_enabled);
    assert_false(m->pod_identity_profile_enabled);
    assert_int_equal(m->n_managed_identities, 1);
    assert_string_equal(m->managed_identities[0].client_id, "55555555-5555-5555-5555-555555555555");
    assert_string_equal(m->tenant_id, "22222222-2222-2222-2222-222222222222");

    /* the token request: client_credentials with the secret, form-encoded */
    assert_int_equal(fake_count(&c->f, "POST", LOGIN "/tenant1/oauth2/v2.0/token"), 2);
    const struct fake_req *tq = &c->f.reqs[0];
    assert_string_equal(tq->url, LOGIN "/tenant1/oauth2/v2.0/token");
    assert_non_null(strstr(tq->body, "grant_type=client_credentials"));
    assert_non_null(strstr(tq->body, "client_id=cid"));
    assert_non_null(strstr(tq->body, "client_secret=s3cr3t%26x%3Dy"));
    assert_non_null(strstr(tq->body, "scope=https%3A%2F%2Fmanagement.azure.com%2F.default"));
    assert_non_null(strstr(tq->headers, "application/x-www-form-urlencoded"));

    /* cluster found on the second page; 7 identities over 3 pages in sub1, and the cluster's
     * own subscription (another one) is listed too */
    assert_int_equal(fake_count(&c->f, "GET", "/managedClusters?"), 2);
    assert_int_equal(fake_count(&c->f, "GET",
                                "/sub1/providers/Microsoft.ManagedIdentity/"
                                "userAssignedIdentities?"),
                     3);
    assert_int_equal(fake_count(&c->f, "GET",
                                "/00000000-0000-0000-0000-000000000000/providers/"
                                "Microsoft.ManagedIdentity/userAssignedIdentities?"),
                     1);
    assert_int_equal(m->identities_state, MODEL_AZ_OK);
    /* credential lists: id-1 and id-4 once each (id-1 is referenced twice), none for others */
    assert_int_equal(fake_count(&c->f, "GET",
                                ARM "/subscriptions/sub1/resourcegroups/rg1/providers/"
                                    "Microsoft.ManagedIdentity/userAssignedIdentities/"
                                    "id-1/federatedIdentityCredentials?"),
                     1);
    assert_int_equal(fake_count(&c->f, "GET", "federatedIdentityCredentials?api-version"), 2);
    assert_int_equal(fake_count(&c->f, "GET", GRAPH), 3); /* not-a-guid never reaches a URL */
    for (size_t i = 0; i < c->f.n_reqs; i++) {
        const struct fake_req *q = &c->f.reqs[i];
        if (str_has_prefix(q->url, ARM))
            assert_non_null(strstr(q->headers, "Authorization: Bearer tok-arm"));
        if (str_has_prefix(q->url, GRAPH))
            assert_non_null(strstr(q->headers, "Authorization: Bearer tok-graph"));
    }
    char cid[40];
    client_id(1, cid);
    const struct model_identity *i1 = ident(m, cid);
    assert_non_null(i1);
    assert_int_equal(i1->fic_state, MODEL_AZ_OK);
    assert_int_equal(i1->n_fics, 1);
    assert_string_equal(i1->fics[0].issuer, ISSUER);
    assert_string_equal(i1->fics[0].subject, "system:serviceaccount:ns:sa-1-0");
    assert_string_equal(i1->resource_group, "rg1");
    client_id(0, cid);
    assert_int_equal(ident(m, cid)->fic_state, MODEL_AZ_UNKNOWN);
    const struct model_identity *app = ident(m, APP_OK);
    assert_non_null(app);
    assert_true(app->app_registration);
    assert_int_equal(app->n_fics, 1);
    assert_string_equal(app->fics[0].name, "gh");
    const struct model_identity *denied = ident(m, APP_403);
    assert_non_null(denied);
    assert_int_equal(denied->fic_state, MODEL_AZ_ERROR);
    assert_string_equal(denied->fic_error, "no Graph permission (Application.Read.All)");
    assert_null(ident(m, APP_404)); /* identity-not-found is the checks' call */
    assert_int_equal(m->n_identities, N_IDS + 2);
    teardown(c);
}

static void test_cache(void **state)
{
    (void)state;
    struct ctx *c = setup();
    refresh(c);
    size_t first = c->f.n_reqs;
    /* everything fresh: no request at all */
    refresh(c);
    assert_int_equal(c->f.n_reqs, first);
    struct azure_stats st;
    azure_get_stats(c->az, &st);
    assert_int_equal(st.cache_hits, 5);
    assert_int_equal(c->res.m.n_identities, N_IDS + 2);
    char cid[40];
    client_id(1, cid);
    assert_int_equal(ident(&c->res.m, cid)->n_fics, 1);
    /* after the credential TTL (1 min) only the credential lists are asked again */
    c->f.now_ms += 61 * 1000;
    refresh(c);
    assert_int_equal(c->f.n_reqs - first, 5);
    assert_int_equal(fake_count(&c->f, "GET", "/userAssignedIdentities?"), 4);
    /* after the identity TTL (5 min) the cluster and the identity list too */
    first = c->f.n_reqs;
    c->f.now_ms += 300 * 1000;
    refresh(c);
    assert_int_equal(fake_count(&c->f, "GET", "/userAssignedIdentities?"), 8);
    assert_int_equal(fake_count(&c->f, "GET", "/managedClusters?"), 4);
    /* the ARM token (1 h) is still good: no new token request */
    assert_int_equal(fake_count(&c->f, "POST", NULL), 2);
    teardown(c);
}

static void test_errors(void **state)
{
    (void)state;
    struct ctx *c = setup();
    c->s.fic_mode = 1;
    refresh(c);
    char cid[40];
    client_id(1, cid);
    const struct model_identity *i1 = ident(&c->res.m, cid);
    assert_int_equal(i1->fic_state, MODEL_AZ_ERROR);
    assert_non_null(strstr(i1->fic_error, "AuthorizationFailed: no permission for "
                                          "Microsoft.ManagedIdentity/userAssignedIdentities/"
                                          "federatedIdentityCredentials/read on /subscriptions/"
                                          "sub1/resourceGroups/rg1/"));
    assert_non_null(strstr(i1->fic_error, "identity id-1"));
    client_id(4, cid);
    const struct model_identity *i4 = ident(&c->res.m, cid);
    assert_int_equal(i4->fic_state, MODEL_AZ_ERROR);
    assert_non_null(strstr(i4->fic_error, "unreadable answer"));
    assert_int_equal(c->res.m.state, MODEL_AZ_OK); /* everything else goes on */
    assert_int_equal(ident(&c->res.m, APP_OK)->fic_state, MODEL_AZ_OK);
    teardown(c);

    c = setup();
    c->s.no_cluster = true;
    refresh(c);
    assert_int_equal(c->res.m.state, MODEL_AZ_ERROR);
    assert_non_null(strstr(c->res.m.error, "no AKS cluster with API server host " HOST));
    assert_non_null(strstr(c->res.m.error, "sub1"));
    assert_int_equal(c->res.m.identities_state, MODEL_AZ_OK); /* still listed */
    teardown(c);
}

static void test_throttling(void **state)
{
    (void)state;
    struct ctx *c = setup();
    c->s.throttle_left = 2;
    refresh(c);
    assert_int_equal(c->res.m.identities_state, MODEL_AZ_OK);
    struct azure_stats st;
    azure_get_stats(c->az, &st);
    assert_int_equal(st.throttled, 2);
    /* each retry waited Retry-After (7 s), and nothing else was sent meanwhile */
    size_t idx[3], n = 0;
    for (size_t i = 0; i < c->f.n_reqs && n < 3; i++)
        if (strstr(c->f.reqs[i].url, "/sub1/providers/Microsoft.ManagedIdentity/"
                                     "userAssignedIdentities?") &&
            !strstr(c->f.reqs[i].url, "skiptoken"))
            idx[n++] = i;
    assert_int_equal(n, 3);
    assert_true(c->f.reqs[idx[1]].sent_ms - c->f.reqs[idx[0]].sent_ms >= 7000);
    assert_true(c->f.reqs[idx[2]].sent_ms - c->f.reqs[idx[1]].sent_ms >= 7000);
    for (int k = 0; k < 2; k++) {
        int64_t t429 = c->f.reqs[idx[k]].sent_ms; /* answered at once in fake time */
        for (size_t i = 0; i < c->f.n_reqs; i++)
            if (c->f.reqs[i].sent_ms > t429 && c->f.reqs[i].sent_ms < t429 + 7000)
                fail_msg("request %s sent during the pause", c->f.reqs[i].url);
    }
    teardown(c);

    /* few reads left: one request at a time, a second apart */
    c = setup();
    c->s.reads = "10";
    refresh(c);
    azure_get_stats(c->az, &st);
    assert_true(st.slowdowns > 0);
    int64_t last = -1;
    size_t arm = 0;
    for (size_t i = 0; i < c->f.n_reqs; i++) {
        if (!str_has_prefix(c->f.reqs[i].url, ARM))
            continue;
        if (last >= 0 && arm > 0)
            assert_true(c->f.reqs[i].sent_ms - last >= 1000);
        last = c->f.reqs[i].sent_ms;
        arm++;
    }
    assert_true(arm >= 7);
    teardown(c);

    /* plenty left: no pacing at all (the same run takes no fake time) */
    c = setup();
    c->s.reads = "11999";
    int64_t t0 = c->f.now_ms;
    refresh(c);
    assert_int_equal(c->f.now_ms, t0);
    teardown(c);
}

static void test_chain_none(void **state)
{
    (void)state;
    struct ctx *c = xcalloc(1, sizeof *c);
    c->f.now_ms = 1795946400000;
    c->f.route = route;
    c->f.user = &c->s;
    c->s.cluster_json = xstrdup("{}");
    /* IMDS does not answer; az is there but not logged in */
    c->f.proc_answer = (struct azure_proc_result){
        .exit_code = 1, .err = "ERROR: Please run 'az login' to setup account.\n", .err_len = 47};
    struct fake_io *f = &c->f;

    start(c);
    assert_int_equal(azure_refresh(c->az, on_done, &c->res, NULL), 0);
    /* answer IMDS with a timeout by hand */
    assert_int_equal(f->n_reqs, 1);
    struct fake_req *q = &f->reqs[0];
    assert_string_equal(q->url, "http://169.254.169.254/metadata/identity/oauth2/token?"
                                "api-version=2018-02-01&resource=https%3A%2F%2Fmanagement."
                                "azure.com%2F");
    assert_non_null(strstr(q->headers, "Metadata: true"));
    assert_int_equal(q->timeout_ms, 1000);
    q->answered = true;
    struct azure_http_response r = {.status = 0, .error = "Timeout was reached"};
    q->done(q->arg, &r);
    assert_int_equal(f->n_procs, 1);
    assert_string_equal(f->procs[0].argv[0], "az");
    assert_string_equal(f->procs[0].argv[1], "account");
    assert_string_equal(f->procs[0].argv[2], "get-access-token");
    assert_string_equal(f->procs[0].argv[3], "--resource");
    assert_string_equal(f->procs[0].argv[4], "https://management.azure.com/");
    assert_string_equal(f->procs[0].argv[5], "-o");
    assert_string_equal(f->procs[0].argv[6], "json");
    fake_run(f);
    assert_int_equal(c->res.calls, 1);
    const char *e = c->res.m.error;
    assert_int_equal(c->res.m.state, MODEL_AZ_UNKNOWN);
    assert_non_null(strstr(e, "no Azure credential worked:\n"));
    assert_non_null(strstr(e, "\nenvironment: AZURE_TENANT_ID, AZURE_CLIENT_ID and "
                              "AZURE_CLIENT_SECRET are not all set"));
    assert_non_null(strstr(e, "\nenvironment-certificate: "));
    assert_non_null(strstr(e, "\nworkload-identity: "));
    assert_non_null(strstr(e, "\nmanaged-identity: no managed identity endpoint answered "
                              "(Timeout was reached)"));
    assert_non_null(strstr(e, "\nazure-cli: not logged in (run az login)"));
    assert_null(c->res.m.credential);
    teardown(c);
}

static void test_chain_managed_identity(void **state)
{
    (void)state;
    struct ctx *c = xcalloc(1, sizeof *c);
    c->f.now_ms = 1795946400000;
    c->f.user = &c->s;
    c->s.cluster_json =
        read_fixture("fixtures/arm/SYNTHETIC-managedCluster-get-oidc-workloadidentity.json");
    c->f.route = route;
    fake_setenv(&c->f, "AZURE_POD_IDENTITY_AUTHORITY_HOST", "http://imds.test/");
    fake_setenv(&c->f, "AZURE_CLIENT_ID", "uami-client");
    fake_setenv(&c->f, "AZURE_SUBSCRIPTION_ID", "sub1");
    start(c);
    /* IMDS answers like the real one: expires_on as a string */
    struct fake_io *f = &c->f;
    assert_int_equal(azure_refresh(c->az, on_done, &c->res, NULL), 0);
    struct fake_req *q = &f->reqs[0];
    assert_string_equal(q->url, "http://imds.test/metadata/identity/oauth2/token?"
                                "api-version=2018-02-01&resource=https%3A%2F%2Fmanagement."
                                "azure.com%2F&client_id=uami-client");
    q->answered = true;
    char body[256];
    snprintf(body, sizeof body,
             "{\"access_token\":\"tok-arm\",\"expires_on\":\"%lld\",\"expires_in\":\"86399\","
             "\"resource\":\"https://management.azure.com/\",\"token_type\":\"Bearer\"}",
             (long long)(f->now_ms / 1000 + 86399));
    struct azure_http_response r = {.status = 200, .body = body, .body_len = strlen(body)};
    q->done(q->arg, &r);
    fake_run(f);
    assert_string_equal(c->res.m.credential, "managed-identity");
    assert_int_equal(c->res.m.state, MODEL_AZ_OK);
    /* the Graph token went to IMDS too, without the first-try timeout */
    size_t graph_tok = 0;
    for (size_t i = 1; i < f->n_reqs; i++)
        if (strstr(f->reqs[i].url, "imds.test")) {
            assert_non_null(strstr(f->reqs[i].url, "resource=https%3A%2F%2Fgraph.microsoft.com"));
            assert_int_equal(f->reqs[i].timeout_ms, 0);
            graph_tok++;
        }
    assert_int_equal(graph_tok, 1);
    teardown(c);
}

static void test_chain_workload_and_selection(void **state)
{
    (void)state;
    char path[] = "/tmp/idw-wi-token-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "sa-token-one\n", 13), 13);
    close(fd);
    struct ctx *c = setup_env();
    c->f.n_env = 0;
    fake_setenv(&c->f, "AZURE_TENANT_ID", "tenant1");
    fake_setenv(&c->f, "AZURE_CLIENT_ID", "wi-client");
    fake_setenv(&c->f, "AZURE_FEDERATED_TOKEN_FILE", path);
    fake_setenv(&c->f, "AZURE_SUBSCRIPTION_ID", "sub1");
    start(c);
    refresh(c);
    assert_string_equal(c->res.m.credential, "workload-identity");
    const struct fake_req *q = &c->f.reqs[0];
    assert_string_equal(q->method, "POST");
    assert_non_null(strstr(q->body, "client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3A"
                                    "client-assertion-type%3Ajwt-bearer"));
    assert_non_null(strstr(q->body, "client_assertion=sa-token-one&"));
    assert_non_null(strstr(q->body, "client_id=wi-client"));
    /* the kubelet rotated the token: the next acquisition reads the file again */
    FILE *fp = fopen(path, "w");
    fputs("sa-token-two", fp);
    fclose(fp);
    c->f.now_ms += 3600 * 1000;
    size_t before = c->f.n_reqs;
    refresh(c);
    assert_non_null(strstr(c->f.reqs[before].body, "client_assertion=sa-token-two&"));
    teardown(c);
    unlink(path);

    /* AZURE_TOKEN_CREDENTIALS trims the chain; a malformed answer is reported, then the next */
    c = setup_env();
    fake_setenv(&c->f, "AZURE_TOKEN_CREDENTIALS", "EnvironmentCredential");
    c->s.token_garbage = true;
    start(c);
    refresh(c);
    const char *e = c->res.m.error;
    assert_non_null(strstr(e, "environment: malformed token response: token response is not a "
                              "JSON object"));
    assert_non_null(strstr(e, "managed-identity: excluded by AZURE_TOKEN_CREDENTIALS"));
    assert_int_equal(c->f.n_procs, 0);
    assert_int_equal(fake_count(&c->f, "GET", NULL), 0);
    teardown(c);
}

static void test_chain_cli(void **state)
{
    (void)state;
    struct ctx *c = setup_env();
    c->f.n_env = 0; /* no env credentials, no AZURE_SUBSCRIPTION_ID: the CLI's default is used */
    char *sample = read_fixture("fixtures/arm/az-account-get-access-token.sample.json");
    c->f.now_ms = 1704150000000; /* before the sample's expires_on */
    c->f.proc_answer =
        (struct azure_proc_result){.exit_code = 0, .out = sample, .out_len = strlen(sample)};
    start(c);
    assert_int_equal(azure_refresh(c->az, on_done, &c->res, NULL), 0);
    struct fake_req *q = &c->f.reqs[0]; /* IMDS: no answer */
    q->answered = true;
    struct azure_http_response r = {.status = 0, .error = "Connection refused"};
    q->done(q->arg, &r);
    fake_run(&c->f);
    assert_string_equal(c->res.m.credential, "azure-cli");
    assert_int_equal(fake_count(&c->f, "GET",
                                "/subscriptions/33b83be5-faf7-42ea-a712-"
                                "320a5f9dd111/providers/Microsoft.ContainerService"),
                     1);
    teardown(c);
    free(sample);
}

struct fic_result {
    int calls, rc;
    char msg[IDW_ERR_MAX];
};

static void on_fic(void *arg, int rc, const struct idw_err *err)
{
    struct fic_result *r = arg;
    r->calls++;
    r->rc = rc;
    snprintf(r->msg, sizeof r->msg, "%s", err ? err->msg : "");
}

static void test_fic_create(void **state)
{
    (void)state;
    struct ctx *c = setup();
    const char *id2 = "/subscriptions/sub1/resourcegroups/rg1/providers/"
                      "Microsoft.ManagedIdentity/userAssignedIdentities/id-2";
    struct azure_fic_spec spec = {.identity_arm_id = id2,
                                  .name = "payments-api",
                                  .issuer = ISSUER,
                                  .subject = "system:serviceaccount:pay:api"};
    struct fic_result fr = {0};
    struct idw_err err;
    /* the name rule, before anything is sent */
    const char *bad[] = {"ab", "-abc", "has space", "a.b.c", "x\xc3\xa9y"};
    for (size_t i = 0; i < 5; i++) {
        spec.name = bad[i];
        assert_int_equal(azure_fic_create(c->az, &spec, on_fic, &fr, &err), -1);
        assert_non_null(strstr(err.msg, "3-120 characters"));
    }
    assert_int_equal(c->f.n_reqs, 0);
    spec.name = "payments-api";
    c->s.fic_count = 2;
    assert_int_equal(azure_fic_create(c->az, &spec, on_fic, &fr, &err), 0);
    fake_run(&c->f);
    assert_int_equal(fr.calls, 1);
    if (fr.rc != 0)
        fail_msg("%s", fr.msg);
    assert_int_equal(fake_count(&c->f, "GET", "id-2/federatedIdentityCredentials?"), 1);
    assert_int_equal(fake_count(&c->f, "PUT",
                                ARM "/subscriptions/sub1/resourcegroups/rg1/"
                                    "providers/Microsoft.ManagedIdentity/"
                                    "userAssignedIdentities/id-2/"
                                    "federatedIdentityCredentials/payments-api?"
                                    "api-version=2024-11-30"),
                     1);
    const struct fake_req *put = &c->f.reqs[c->f.n_reqs - 1];
    assert_string_equal(put->body, "{\"properties\":{\"issuer\":\"" ISSUER "\",\"subject\":"
                                   "\"system:serviceaccount:pay:api\",\"audiences\":"
                                   "[\"api://AzureADTokenExchange\"]}}");
    assert_non_null(strstr(put->headers, "Content-Type: application/json"));
    /* 20 already there: refused after the list, no PUT */
    c->s.fic_count = 20;
    size_t puts = fake_count(&c->f, "PUT", NULL);
    assert_int_equal(azure_fic_create(c->az, &spec, on_fic, &fr, &err), 0);
    fake_run(&c->f);
    assert_int_equal(fr.rc, -1);
    assert_non_null(strstr(fr.msg, "already has 20 federated credentials"));
    assert_int_equal(fake_count(&c->f, "PUT", NULL), puts);
    /* the same issuer + subject already federated: refused */
    c->s.fic_count = 3;
    spec.subject = "system:serviceaccount:ns:sa-2-1";
    assert_int_equal(azure_fic_create(c->az, &spec, on_fic, &fr, &err), 0);
    fake_run(&c->f);
    assert_int_equal(fr.rc, -1);
    assert_non_null(strstr(fr.msg, "fic-2-1"));
    assert_int_equal(fake_count(&c->f, "PUT", NULL), puts);
    /* freed with a create in flight: no callback, no leak */
    assert_int_equal(azure_fic_create(c->az, &spec, on_fic, &fr, &err), 0);
    teardown(c);
    assert_int_equal(fr.calls, 3);
}

static void test_free_midway(void **state)
{
    (void)state;
    struct ctx *c = setup();
    assert_int_equal(azure_refresh(c->az, on_done, &c->res, NULL), 0);
    assert_int_equal(azure_refresh(c->az, on_done, &c->res, NULL), -1);
    teardown(c); /* token request outstanding: cancelled, nothing leaks */
}

static void put_sa(struct store *st, const char *ns, const char *name, const char *client)
{
    struct model_service_account *sa = xcalloc(1, sizeof *sa);
    sa->meta.namespace_ = xstrdup(ns);
    sa->meta.name = xstrdup(name);
    if (client)
        kv_set(&sa->meta.annotations, WI_ANN_CLIENT_ID, client);
    store_put_sa(st, sa);
}

static void test_collect_client_ids(void **state)
{
    (void)state;
    struct store *st = store_new();
    put_sa(st, "a", "one", "0b1f6a52-3c9e-4d47-9a1e-5f2b8c7d6e01");
    put_sa(st, "b", "two", " 0B1F6A52-3C9E-4D47-9A1E-5F2B8C7D6E01\n"); /* same id */
    put_sa(st, "c", "three", "1c2a7b63-4daf-4e58-8b2f-6a3c9d8e7f12");
    put_sa(st, "d", "none", NULL);
    put_sa(st, "e", "empty", "  ");
    char **ids;
    assert_int_equal(azure_collect_client_ids(st, &ids), 2);
    assert_null(ids[2]);
    bool a = false, b = false;
    for (int i = 0; i < 2; i++) {
        a |= strcasecmp(ids[i], "0b1f6a52-3c9e-4d47-9a1e-5f2b8c7d6e01") == 0;
        b |= strcmp(ids[i], "1c2a7b63-4daf-4e58-8b2f-6a3c9d8e7f12") == 0;
    }
    assert_true(a && b);
    azure_strv_free(ids);
    store_free(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_refresh),
        cmocka_unit_test(test_cache),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_throttling),
        cmocka_unit_test(test_chain_none),
        cmocka_unit_test(test_chain_managed_identity),
        cmocka_unit_test(test_chain_workload_and_selection),
        cmocka_unit_test(test_chain_cli),
        cmocka_unit_test(test_fic_create),
        cmocka_unit_test(test_free_midway),
        cmocka_unit_test(test_collect_client_ids),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
