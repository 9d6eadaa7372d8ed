/* azure decoders: every ARM fixture of shared/fixtures/arm, error sentences, headers, the FIC
 * name rule, ids and hosts, the clouds table. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "idwatch/azure.h"

#define FIXTURES IDW_SHARED_DIR "/fixtures/arm"

/* The response body of a spec example (responses.200/201.body), or the whole file. */
static char *fixture_body(const char *name, const char *status)
{
    char path[512], *data;
    size_t len;
    snprintf(path, sizeof path, "%s/%s", FIXTURES, name);
    assert_int_equal(file_read_all(path, 1 << 20, &data, &len, NULL), 0);
    cJSON *root = cJSON_Parse(data);
    assert_non_null(root);
    const cJSON *body = cJSON_GetObjectItem(
        cJSON_GetObjectItem(cJSON_GetObjectItem(root, "responses"), status), "body");
    if (!body) {
        cJSON_Delete(root);
        return data;
    }
    char *out = cJSON_PrintUnformatted(body);
    char *copy = xstrdup(out);
    cJSON_free(out);
    cJSON_Delete(root);
    free(data);
    return copy;
}

static void test_cluster_fixtures(void **state)
{
    (void)state;
    struct azure_cluster c;
    struct idw_err err;
    char *b = fixture_body("SYNTHETIC-managedCluster-get-oidc-workloadidentity.json", "200");
    assert_int_equal(azure_parse_cluster(b, strlen(b), &c, &err), 0);
    assert_string_equal(c.name, "clustername1");
    assert_string_equal(c.subscription_id, "00000000-0000-0000-0000-000000000000");
    assert_string_equal(c.resource_group, "rg1");
    assert_string_equal(c.fqdn, "dnsprefix1-abcd1234.hcp.eastus.azmk8s.io");
    assert_true(c.oidc_enabled);
    assert_string_equal(c.issuer_url, "https://eastus.oic.prod-aks.azure.com/"
                                      "22222222-2222-2222-2222-222222222222/"
                                      "44444444-4444-4444-4444-444444444444/");
    assert_true(c.workload_identity_enabled);
    assert_false(c.pod_identity_enabled);
    assert_string_equal(c.tenant_id, "22222222-2222-2222-2222-222222222222");
    assert_int_equal(c.n_pod_identities, 1);
    assert_string_equal(c.pod_identities[0].name, "legacy-pod-id");
    assert_string_equal(c.pod_identities[0].namespace_, "default");
    assert_string_equal(c.pod_identities[0].binding_selector, "legacy");
    assert_string_equal(c.pod_identities[0].client_id, "55555555-5555-5555-5555-555555555555");
    assert_true(str_has_suffix(c.pod_identities[0].resource_id, "/userAssignedIdentities/id1"));
    assert_string_equal(c.pod_identities[0].provisioning_state, "Assigned");
    assert_true(azure_cluster_matches_host(&c, "DNSPREFIX1-abcd1234.hcp.eastus.azmk8s.io"));
    assert_false(azure_cluster_matches_host(&c, "dnsprefix1-abcd1234.hcp.eastus.azmk8s.io.evil"));
    azure_cluster_free(&c);
    free(b);

    /* the real spec example: no OIDC profile, no workload identity, no pod identity */
    b = fixture_body("aks-2026-01-01-ManagedClustersGet.json", "200");
    assert_int_equal(azure_parse_cluster(b, strlen(b), &c, &err), 0);
    assert_false(c.oidc_enabled);
    assert_null(c.issuer_url);
    assert_false(c.workload_identity_enabled);
    assert_int_equal(c.n_pod_identities, 0);
    assert_null(c.tenant_id);
    azure_cluster_free(&c);
    free(b);

    b = fixture_body("aks-2026-01-01-ManagedClustersCreate_SecurityProfile.json", "200");
    assert_int_equal(azure_parse_cluster(b, strlen(b), &c, &err), 0);
    assert_true(c.workload_identity_enabled);
    azure_cluster_free(&c);
    free(b);
    b = fixture_body("aks-2026-01-01-ManagedClustersCreate_SecurityProfile.json", "201");
    assert_int_equal(azure_parse_cluster(b, strlen(b), &c, &err), 0);
    assert_null(c.fqdn); /* still creating */
    azure_cluster_free(&c);
    free(b);

    struct azure_cluster_page p;
    b = fixture_body("aks-2026-01-01-ManagedClustersList.json", "200");
    assert_int_equal(azure_parse_cluster_list(b, strlen(b), &p, &err), 0);
    assert_int_equal(p.n, 1);
    assert_null(p.next_link);
    assert_string_equal(p.items[0].fqdn, "dnsprefix1-abcd1234.hcp.eastus.azmk8s.io");
    azure_cluster_page_free(&p);
    free(b);

    const char *junk[] = {"", "null", "[]", "{\"id\":\"/subscriptions/s\"}", "{\"id\":1}"};
    for (size_t i = 0; i < 5; i++)
        assert_int_equal(azure_parse_cluster(junk[i], strlen(junk[i]), &c, &err), -1);
    const char *mixed = "{\"value\":[{\"id\":\"/subscriptions/s/resourceGroups/g/providers/x/y/c\","
                        "\"properties\":{}},7,{\"name\":\"noid\"}]}";
    assert_int_equal(azure_parse_cluster_list(mixed, strlen(mixed), &p, &err), 0);
    assert_int_equal(p.n, 1);
    assert_int_equal(p.skipped, 2);
    azure_cluster_page_free(&p);
}

static void test_identity_fixtures(void **state)
{
    (void)state;
    struct azure_identity_page p;
    struct idw_err err;
    char *b = fixture_body("msi-2024-11-30-IdentityListBySubscription.json", "200");
    assert_int_equal(azure_parse_identity_list(b, strlen(b), &p, &err), 0);
    assert_int_equal(p.n, 1);
    assert_string_equal(p.items[0].name, "identityName");
    assert_string_equal(p.items[0].client_id, "4024ab25-56a8-4370-aea6-6389221caf29");
    assert_string_equal(p.items[0].principal_id, "25cc773c-7f05-40fc-a104-32d2300754ad");
    assert_string_equal(p.items[0].tenant_id, "b6c948ef-f6b5-4384-8354-da3a15eca969");
    assert_string_equal(p.items[0].resource_group, "rgName"); /* from "resourcegroups" */
    assert_string_equal(p.items[0].subscription_id, "subid");
    assert_string_equal(p.items[0].location, "eastus");
    assert_false(p.items[0].app_registration);
    assert_non_null(p.next_link);
    assert_non_null(strstr(p.next_link, "$skiptoken=X'12345'"));
    azure_identity_page_free(&p);
    free(b);
    /* no value array is an error; relative nextLinks are not followed */
    assert_int_equal(azure_parse_identity_list("{}", 2, &p, &err), -1);
    assert_non_null(strstr(err.msg, "\"value\""));
    const char *rel = "{\"value\":[],\"nextLink\":\"/subscriptions/x?page=2\"}";
    assert_int_equal(azure_parse_identity_list(rel, strlen(rel), &p, &err), 0);
    assert_null(p.next_link);
    azure_identity_page_free(&p);
}

static void test_fic_fixtures(void **state)
{
    (void)state;
    struct azure_fic_page p;
    struct idw_err err;
    char *b = fixture_body("msi-2024-11-30-FederatedIdentityCredentialList.json", "200");
    assert_int_equal(azure_parse_fic_list(b, strlen(b), &p, &err), 0);
    assert_int_equal(p.n, 1);
    assert_string_equal(p.items[0].name, "ficResourceName");
    assert_string_equal(p.items[0].issuer, "https://oidc.prod-aks.azure.com/TenantGUID/IssuerGUID");
    assert_string_equal(p.items[0].subject, "system:serviceaccount:ns:svcaccount");
    assert_int_equal(p.items[0].n_audiences, 1);
    assert_string_equal(p.items[0].audiences[0], "api://AzureADTokenExchange");
    assert_non_null(strstr(p.next_link, "$skipToken=X'12345'"));
    azure_fic_page_free(&p);
    free(b);
    const char *st[] = {"200", "201"};
    for (int i = 0; i < 2; i++) {
        b = fixture_body("msi-2024-11-30-FederatedIdentityCredentialCreate.json", st[i]);
        assert_int_equal(azure_parse_fic_list(b, strlen(b), &p, &err), 0);
        assert_int_equal(p.n, 1);
        assert_string_equal(p.items[0].subject, "system:serviceaccount:ns:svcaccount");
        azure_fic_page_free(&p);
        free(b);
    }
    /* a flexible credential has no subject: kept, subject NULL (the checks decide) */
    b = fixture_body("msi-2025-05-31-preview-FlexibleFederatedIdentityCredentialCreate.json",
                     "200");
    assert_int_equal(azure_parse_fic_list(b, strlen(b), &p, &err), 0);
    assert_int_equal(p.n, 1);
    assert_null(p.items[0].subject);
    azure_fic_page_free(&p);
    free(b);
    /* Graph's shape: fields at the top level, @odata.nextLink */
    const char *graph = "{\"@odata.context\":\"x\",\"value\":[{\"id\":\"1\",\"name\":\"gh\","
                        "\"issuer\":\"https://token.actions.githubusercontent.com\",\"subject\":"
                        "\"repo:o/r:ref:refs/heads/main\",\"description\":null,\"audiences\":"
                        "[\"api://AzureADTokenExchange\"]}],\"@odata.nextLink\":"
                        "\"https://graph.microsoft.com/v1.0/next\"}";
    assert_int_equal(azure_parse_fic_list(graph, strlen(graph), &p, &err), 0);
    assert_int_equal(p.n, 1);
    assert_string_equal(p.items[0].issuer, "https://token.actions.githubusercontent.com");
    assert_string_equal(p.next_link, "https://graph.microsoft.com/v1.0/next");
    azure_fic_page_free(&p);
}

/* Every fixture file goes through the decoder its name says, without an error. */
static void test_every_fixture(void **state)
{
    (void)state;
    DIR *d = opendir(FIXTURES);
    assert_non_null(d);
    struct dirent *e;
    int seen = 0;
    while ((e = readdir(d))) {
        if (!str_has_suffix(e->d_name, ".json"))
            continue;
        char *b = fixture_body(e->d_name, strstr(e->d_name, "Create") ? "201" : "200");
        struct idw_err err;
        int rc = -1;
        if (strstr(e->d_name, "ManagedClustersList")) {
            struct azure_cluster_page p;
            rc = azure_parse_cluster_list(b, strlen(b), &p, &err);
            if (rc == 0)
                azure_cluster_page_free(&p);
        } else if (strstr(e->d_name, "anagedCluster")) {
            struct azure_cluster c;
            rc = azure_parse_cluster(b, strlen(b), &c, &err);
            if (rc == 0)
                azure_cluster_free(&c);
        } else if (strstr(e->d_name, "IdentityList")) {
            struct azure_identity_page p;
            rc = azure_parse_identity_list(b, strlen(b), &p, &err);
            if (rc == 0)
                azure_identity_page_free(&p);
        } else if (strstr(e->d_name, "FederatedIdentityCredential")) {
            struct azure_fic_page p;
            rc = azure_parse_fic_list(b, strlen(b), &p, &err);
            if (rc == 0)
                azure_fic_page_free(&p);
        } else if (strstr(e->d_name, "az-account")) {
            struct azure_token t;
            rc = azure_parse_cli_token(b, strlen(b), &t, &err);
            if (rc == 0)
                azure_token_free(&t);
        } else {
            fail_msg("fixture %s has no decoder in this test", e->d_name);
        }
        if (rc != 0)
            fail_msg("%s: %s", e->d_name, err.msg);
        free(b);
        seen++;
    }
    closedir(d);
    assert_int_equal(seen, 9);
}

static void test_errors(void **state)
{
    (void)state;
    char line[IDW_ERR_MAX];
    const char *authz =
        "{\"error\":{\"code\":\"AuthorizationFailed\",\"message\":\"The client 'a@b.c' with "
        "object id '1' does not have authorization to perform action 'Microsoft."
        "ContainerService/managedClusters/read' over scope '/subscriptions/s1' or the scope is "
        "invalid. If access was recently granted, please refresh your credentials.\"}}";
    azure_describe_error(403, authz, strlen(authz), "listing AKS clusters of subscription s1", line,
                         sizeof line);
    assert_string_equal(line, "AuthorizationFailed: no permission for Microsoft.ContainerService/"
                              "managedClusters/read on /subscriptions/s1 (listing AKS clusters "
                              "of subscription s1)");
    const char *nf = "{\"error\":{\"code\":\"ResourceNotFound\",\"message\":\"The Resource "
                     "'Microsoft.ManagedIdentity/userAssignedIdentities/x' under resource group "
                     "'rg' was not found. For more details please go to https://aka.ms/x\"}}";
    azure_describe_error(404, nf, strlen(nf), "reading x", line, sizeof line);
    assert_string_equal(line, "ResourceNotFound: The Resource 'Microsoft.ManagedIdentity/"
                              "userAssignedIdentities/x' under resource group 'rg' was not "
                              "found. (reading x)");
    azure_describe_error(502, "<html>bad gateway</html>", 24, "reading x", line, sizeof line);
    assert_string_equal(line, "HTTP 502 (reading x)");
    const char *evil = "{\"error\":{\"code\":\"X\\u001b[31m\",\"message\":\"m\\u0007\"}}";
    azure_describe_error(400, evil, strlen(evil), "w", line, sizeof line);
    assert_null(strchr(line, 0x1b));
    assert_null(strchr(line, 0x07));
    char code[64];
    azure_error_code(authz, strlen(authz), code, sizeof code);
    assert_string_equal(code, "AuthorizationFailed");
}

static void test_small_rules(void **state)
{
    (void)state;
    char v[64];
    const char *h = "HTTP/1.1 429 Too Many Requests\r\nRetry-After:  17 \r\n"
                    "x-ms-ratelimit-remaining-subscription-reads: 249\r\n\r\n";
    assert_int_equal(azure_header(h, "retry-after", v, sizeof v), 0);
    assert_string_equal(v, "17");
    assert_int_equal(azure_header(h, "X-MS-RATELIMIT-REMAINING-SUBSCRIPTION-READS", v, sizeof v),
                     0);
    assert_string_equal(v, "249");
    assert_int_equal(azure_header(h, "x-ms-request-id", v, sizeof v), -1);
    assert_int_equal(azure_header(NULL, "x", v, sizeof v), -1);

    const char *good[] = {"abc", "a-b_c", "0ab", "payments-api-prod"};
    for (size_t i = 0; i < 4; i++)
        assert_true(azure_fic_name_valid(good[i]));
    char long_ok[121], long_bad[122];
    memset(long_ok, 'a', 120);
    long_ok[120] = '\0';
    memset(long_bad, 'a', 121);
    long_bad[121] = '\0';
    assert_true(azure_fic_name_valid(long_ok));
    assert_false(azure_fic_name_valid(long_bad));
    const char *bad[] = {"ab", "_abc", "-abc", "a b", "a.bc", "a/bc", "", "\xc3\xa9t\xc3\xa9"};
    for (size_t i = 0; i < 8; i++)
        assert_false(azure_fic_name_valid(bad[i]));
    assert_false(azure_fic_name_valid(NULL));

    char *host = azure_url_host("https://Prod-ABC.hcp.westeurope.azmk8s.io:443/api");
    assert_string_equal(host, "Prod-ABC.hcp.westeurope.azmk8s.io");
    free(host);
    host = azure_url_host("https://[::1]:6443");
    assert_string_equal(host, "[::1]");
    free(host);

    char *sub, *rg, *name;
    assert_int_equal(azure_arm_id_split("/subscriptions/s1/resourcegroups/RG/providers/"
                                        "Microsoft.ManagedIdentity/userAssignedIdentities/id1",
                                        &sub, &rg, &name),
                     0);
    assert_string_equal(sub, "s1");
    assert_string_equal(rg, "RG");
    assert_string_equal(name, "id1");
    free(sub);
    free(rg);
    free(name);
    assert_int_equal(azure_arm_id_split("subscriptions/x", NULL, NULL, NULL), -1);

    assert_string_equal(azure_cloud_find(NULL)->arm, "https://management.azure.com");
    assert_string_equal(azure_cloud_find("azureusgovernment")->authority,
                        "https://login.microsoftonline.us");
    assert_string_equal(azure_cloud_find("AzureUSGovernmentCloud")->name, "AzureUSGovernment");
    assert_string_equal(azure_cloud_find("AzureChinaCloud")->arm,
                        "https://management.chinacloudapi.cn");
    assert_string_equal(azure_cloud_find("china")->authority,
                        "https://login.partner.microsoftonline.cn");
    assert_null(azure_cloud_find("AzureGermanCloud"));

    char *e = azure_form_encode("a b&c=d/é");
    assert_string_equal(e, "a%20b%26c%3Dd%2F%C3%A9");
    free(e);

    char **ids, *next;
    size_t n;
    const char *subs = "{\"value\":[{\"id\":\"/subscriptions/a\",\"subscriptionId\":\"a\"},"
                       "{\"subscriptionId\":\"b\"}],\"count\":{\"type\":\"Total\",\"value\":2}}";
    assert_int_equal(azure_parse_subscription_list(subs, strlen(subs), &ids, &n, &next, NULL), 0);
    assert_int_equal(n, 2);
    assert_string_equal(ids[1], "b");
    assert_null(next);
    azure_strv_free(ids);
}

static int no_http(void *ctx, const struct azure_http_request *req, azure_http_done done, void *arg,
                   void **handle, struct idw_err *err)
{
    return idw_err_set(err, "no");
}

static uint64_t no_timer(void *ctx, int64_t delay_ms, azure_timer_fn fire, void *arg)
{
    return 0;
}

static void test_unknown_cloud(void **state)
{
    (void)state;
    struct azure_io io = {.http = no_http, .timer_add = no_timer};
    struct azure_config cfg = {.cloud = "AzureGermanCloud"};
    struct azure *az;
    struct idw_err err;
    assert_int_equal(azure_new(&cfg, &io, &az, &err), -1);
    assert_non_null(strstr(err.msg, "unknown cloud \"AzureGermanCloud\""));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cluster_fixtures), cmocka_unit_test(test_identity_fixtures),
        cmocka_unit_test(test_fic_fixtures),     cmocka_unit_test(test_every_fixture),
        cmocka_unit_test(test_errors),           cmocka_unit_test(test_small_rules),
        cmocka_unit_test(test_unknown_cloud),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
