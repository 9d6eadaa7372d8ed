/* kubeconfig: every field, KUBECONFIG merge order, relative paths, the AKS fixtures, in-cluster,
 * and malformed files reported as file:line:column. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "idwatch/kubeconfig.h"

#define DATA IDW_TEST_DATA "/kube"
#define FIX IDW_SHARED_DIR "/fixtures"

static struct kubeconfig *load_env(const char *list)
{
    struct kubeconfig_source src = {.env_kubeconfig = list};
    struct kubeconfig *kc = NULL;
    struct idw_err err = {{0}};
    if (kubeconfig_load(&src, &kc, &err) < 0)
        fail_msg("load %s: %s", list, err.msg);
    return kc;
}

static void resolve_ok(const struct kubeconfig *kc, const char *ctx, struct kubeconfig_resolved *r)
{
    struct idw_err err = {{0}};
    if (kubeconfig_resolve(kc, ctx, r, &err) < 0)
        fail_msg("resolve %s: %s", ctx ? ctx : "(current)", err.msg);
}

static void resolve_fails(const struct kubeconfig *kc, const char *ctx, const char *want)
{
    struct kubeconfig_resolved r;
    struct idw_err err = {{0}};
    assert_int_equal(kubeconfig_resolve(kc, ctx, &r, &err), -1);
    if (!strstr(err.msg, want))
        fail_msg("resolve %s: got \"%s\", want it to contain \"%s\"", ctx ? ctx : "(current)", err.msg, want);
}

static void test_merge_order(void **state)
{
    (void)state;
    /* missing files in the list are skipped; duplicates dropped */
    struct kubeconfig *kc = load_env(DATA "/missing.yaml:" DATA "/merge-a.yaml:" DATA
                                          "/merge-b.yaml:" DATA "/merge-a.yaml");
    assert_int_equal(kubeconfig_file_count(kc), 2);
    assert_string_equal(kubeconfig_current_context(kc), "alpha"); /* first file's scalar */
    assert_int_equal(kubeconfig_context_count(kc), 4); /* alpha, shared-ctx, beta, exec-ctx */

    struct kubeconfig_resolved r;
    resolve_ok(kc, NULL, &r);
    /* context alpha and cluster shared come from a.yaml, as a whole */
    assert_string_equal(r.context, "alpha");
    assert_string_equal(r.server, "https://a.example:6443");
    assert_false(r.insecure); /* b's insecure flag did not leak into a's cluster */
    assert_string_equal(r.namespace_, "team-a");
    assert_string_equal(r.tls_server_name, "api.internal");
    assert_string_equal(r.proxy_url, "socks5://127.0.0.1:1080");
    /* relative paths against the defining file's directory */
    assert_string_equal(r.ca_pem, "CA FROM FILE\n");
    assert_int_equal(r.ca_len, 13);
    assert_string_equal(r.cert_pem, "CERT FROM FILE\n");
    assert_string_equal(r.key_pem, "KEY FROM FILE\n");
    assert_null(r.token);
    assert_null(r.exec);
    kubeconfig_resolved_free(&r);

    /* token wins over tokenFile; user token-user is a.yaml's */
    resolve_ok(kc, "shared-ctx", &r);
    assert_string_equal(r.token, "token-from-a");
    assert_null(r.token_file);
    assert_string_equal(r.namespace_, "default");
    kubeconfig_resolved_free(&r);

    /* tokenFile alone, made absolute relative to b.yaml */
    resolve_ok(kc, "beta", &r);
    assert_null(r.token);
    assert_non_null(r.token_file);
    assert_true(r.token_file[0] == '/');
    assert_true(str_has_suffix(r.token_file, "/tests/data/kube/certs/token"));
    assert_string_equal(r.server, "https://b-host.example:443"); /* bare host:port */
    assert_true(r.insecure);
    assert_true(r.disable_compression);
    assert_null(r.ca_pem);
    assert_string_equal(r.exec_cluster_config,
                        "{\"audience\":\"api://AKS\",\"retries\":3,\"enabled\":true}");
    kubeconfig_resolved_free(&r);

    /* exec, all fields */
    resolve_ok(kc, "exec-ctx", &r);
    assert_non_null(r.exec);
    assert_string_equal(r.exec->api_version, "client.authentication.k8s.io/v1");
    assert_true(r.exec->command[0] == '/');
    assert_true(str_has_suffix(r.exec->command, "/tests/data/kube/bin/plugin"));
    assert_int_equal(r.exec->n_args, 2);
    assert_string_equal(r.exec->args[0], "get-token");
    assert_string_equal(r.exec->args[1], "--flag");
    assert_int_equal(r.exec->n_env, 2);
    assert_string_equal(r.exec->env[0].name, "FOO");
    assert_string_equal(r.exec->env[0].value, "bar");
    assert_string_equal(r.exec->env[1].value, "");
    assert_int_equal(r.exec->interactive, KUBECONFIG_INTERACTIVE_NEVER);
    assert_true(r.exec->provide_cluster_info);
    assert_string_equal(r.exec->install_hint, "install it");
    kubeconfig_resolved_free(&r);
    kubeconfig_free(kc);

    /* the other order: b wins */
    kc = load_env(DATA "/merge-b.yaml:" DATA "/merge-a.yaml");
    assert_string_equal(kubeconfig_current_context(kc), "beta");
    resolve_ok(kc, "alpha", &r);
    assert_string_equal(r.server, "https://b-host.example:443");
    assert_string_equal(r.token, "token-from-b");
    kubeconfig_resolved_free(&r);
    resolve_ok(kc, "shared-ctx", &r); /* context from a, cluster "shared" from b */
    assert_string_equal(r.server, "https://b.example:6443");
    assert_true(r.insecure);
    assert_string_equal(r.token, "token-from-b");
    kubeconfig_resolved_free(&r);
    kubeconfig_free(kc);
}

static void test_explicit_and_default(void **state)
{
    (void)state;
    struct kubeconfig *kc = NULL;
    struct idw_err err = {{0}};
    /* --kubeconfig: one file, no merge, must exist */
    struct kubeconfig_source src = {.explicit_path = DATA "/merge-b.yaml",
                                    .env_kubeconfig = DATA "/merge-a.yaml"};
    assert_int_equal(kubeconfig_load(&src, &kc, &err), 0);
    assert_int_equal(kubeconfig_file_count(kc), 1);
    assert_string_equal(kubeconfig_current_context(kc), "beta");
    kubeconfig_free(kc);
    src.explicit_path = DATA "/nope.yaml";
    assert_int_equal(kubeconfig_load(&src, &kc, &err), -1);
    assert_non_null(strstr(err.msg, "nope.yaml"));
    /* all files of KUBECONFIG missing */
    unsetenv("KUBERNETES_SERVICE_HOST");
    struct kubeconfig_source s2 = {.env_kubeconfig = DATA "/x.yaml:" DATA "/y.yaml"};
    assert_int_equal(kubeconfig_load(&s2, &kc, &err), -1);
    assert_non_null(strstr(err.msg, "none of the files in KUBECONFIG exist"));
    /* default: $HOME/.kube/config */
    struct kubeconfig_source s3 = {.env_kubeconfig = "", .home = "/nonexistent-home"};
    assert_int_equal(kubeconfig_load(&s3, &kc, &err), -1);
    assert_non_null(strstr(err.msg, "/nonexistent-home/.kube/config does not exist"));
}

static void test_aks_fixtures(void **state)
{
    (void)state;
    struct kubeconfig *kc = load_env(FIX "/kubeconfig-aks-kubelogin.yaml");
    struct kubeconfig_resolved r;
    resolve_ok(kc, NULL, &r);
    assert_string_equal(r.context, "aks");
    assert_string_equal(r.server, "https://aks-rg-efec8e-443ozcvu.hcp.swedencentral.azmk8s.io:443");
    assert_string_equal(r.user_name, "clusterUser_rg_aks");
    assert_non_null(r.ca_pem); /* "LS0tredacted" is valid base64 (of garbage) */
    assert_true(str_has_prefix(r.ca_pem, "---"));
    assert_non_null(r.exec);
    assert_string_equal(r.exec->command, "kubelogin"); /* no '/': left for PATH */
    assert_string_equal(r.exec->api_version, "client.authentication.k8s.io/v1beta1");
    assert_int_equal(r.exec->n_args, 5);
    assert_string_equal(r.exec->args[4], "6dae42f8-4368-4678-94ff-3960e28e3630");
    assert_int_equal(r.exec->n_env, 0); /* env: null */
    assert_false(r.exec->provide_cluster_info);
    assert_int_equal(r.exec->interactive, KUBECONFIG_INTERACTIVE_IF_AVAILABLE);
    assert_non_null(strstr(r.exec->install_hint, "https://aka.ms/aks/kubelogin"));
    assert_true(r.exec->install_hint[0] == '\n'); /* |2 block: leading blank line kept */
    kubeconfig_resolved_free(&r);
    resolve_ok(kc, "aks-devicecode", &r);
    assert_int_equal(r.exec->n_args, 11);
    assert_string_equal(r.exec->args[10], "devicecode");
    kubeconfig_resolved_free(&r);
    kubeconfig_free(kc);

    kc = load_env(FIX "/kubeconfig-aks-clientcert.yaml");
    /* client-certificate-data "LS0tredacted==" is not valid base64: kubectl fails too */
    resolve_fails(kc, NULL,
                  "user \"clusterUser_rg_aks\": client-certificate-data: not valid base64");
    kubeconfig_free(kc);
}

static void test_resolve_errors(void **state)
{
    (void)state;
    struct kubeconfig *kc = load_env(DATA "/misc-users.yaml");
    assert_null(kubeconfig_current_context(kc));
    resolve_fails(kc, NULL,
                  "no current-context is set: choose one with --context (known: azure-ap, ");
    resolve_fails(kc, "nope",
                  "context \"nope\" not found in kubeconfig (known contexts: azure-ap, "
                  "v1-no-mode, alpha1");
    resolve_fails(kc, "azure-ap", "kubelogin convert-kubeconfig");
    resolve_fails(kc, "azure-ap", "auth-provider \"azure\"");
    resolve_fails(kc, "v1-no-mode", "interactiveMode must be specified");
    resolve_fails(kc, "alpha1", "v1alpha1\" is not supported");
    resolve_fails(kc, "cert-only", "client certificate and key must both be set");
    resolve_fails(kc, "basic", "basic auth");
    resolve_fails(kc, "missing-user", "user \"ghost\" not found");
    resolve_fails(kc, "missing-cluster", "cluster \"ghost\" not found");
    resolve_fails(kc, "insecure-ca", "insecure flag is not allowed");
    struct kubeconfig_resolved r;
    resolve_ok(kc, "no-user", &r);
    assert_string_equal(r.ca_pem, "CA DATA\n"); /* -data wins over the file */
    assert_null(r.token);
    assert_null(r.cert_pem);
    kubeconfig_resolved_free(&r);
    resolve_ok(kc, "both-data", &r);
    assert_string_equal(r.cert_pem, "CERT DATA\n");
    assert_string_equal(r.key_pem, "KEY DATA\n");
    kubeconfig_resolved_free(&r);
    kubeconfig_free(kc);
}

static void test_malformed(void **state)
{
    (void)state;
    static const struct {
        const char *file;
        const char *want;
    } cases[] = {
        {"malformed-syntax.yaml", "malformed-syntax.yaml:6:4: invalid YAML: "},
        {"malformed-type.yaml",
         "malformed-type.yaml:7:7: clusters[prod].cluster.server: expected a string"},
        {"malformed-bool.yaml",
         "malformed-bool.yaml:6:31: clusters[prod].cluster.insecure-skip-tls-verify: expected true "
         "or false"},
        {"malformed-dup.yaml", "malformed-dup.yaml:5:3: users[1]: duplicate name \"u\""},
        {"malformed-interactive.yaml",
         "malformed-interactive.yaml:8:24: users[u].user.exec.interactiveMode: must be Never, "
         "IfAvailable or Always"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char path[512];
        snprintf(path, sizeof path, DATA "/%s", cases[i].file);
        struct kubeconfig_source src = {.explicit_path = path};
        struct kubeconfig *kc = NULL;
        struct idw_err err = {{0}};
        assert_int_equal(kubeconfig_load(&src, &kc, &err), -1);
        assert_null(kc);
        if (!strstr(err.msg, cases[i].want))
            fail_msg("%s: got \"%s\", want \"%s\"", cases[i].file, err.msg, cases[i].want);
    }
    /* a malformed file in a KUBECONFIG list fails the whole load */
    struct kubeconfig_source src = {.env_kubeconfig =
                                        DATA "/merge-a.yaml:" DATA "/malformed-type.yaml"};
    struct kubeconfig *kc = NULL;
    struct idw_err err = {{0}};
    assert_int_equal(kubeconfig_load(&src, &kc, &err), -1);
    /* top level not a mapping; empty document is an empty config */
    assert_int_equal(kubeconfig_parse("- a\n- b\n", 8, "list.yaml", NULL, &kc, &err), -1);
    assert_non_null(strstr(err.msg, "list.yaml:1:1: a kubeconfig must be a mapping"));
    assert_int_equal(kubeconfig_parse("", 0, "empty.yaml", NULL, &kc, &err), 0);
    assert_int_equal(kubeconfig_context_count(kc), 0);
    kubeconfig_free(kc);
    /* a self-referencing alias must not recurse forever */
    const char *rec = "clusters: &a\n- name: x\n  cluster:\n    extensions:\n    - name: "
                      "client.authentication.k8s.io/exec\n      extension: *a\n";
    if (kubeconfig_parse(rec, strlen(rec), "rec.yaml", NULL, &kc, &err) == 0)
        kubeconfig_free(kc);
}

static void test_base64(void **state)
{
    (void)state;
    size_t n;
    char *s = kubeconfig_base64_decode("aGVsbG8=", &n);
    assert_string_equal(s, "hello");
    assert_int_equal(n, 5);
    free(s);
    s = kubeconfig_base64_decode("aGVs\nbG8", &n); /* unpadded, wrapped */
    assert_string_equal(s, "hello");
    free(s);
    assert_null(kubeconfig_base64_decode("aGVsbG8=x", &n));
    assert_null(kubeconfig_base64_decode("a", &n));
    assert_null(kubeconfig_base64_decode("aGVsbG8==", &n));
    assert_null(kubeconfig_base64_decode("aGV*bG8=", &n));
}

static void test_in_cluster(void **state)
{
    (void)state;
    setenv("KUBERNETES_SERVICE_HOST", "fd00::1", 1);
    setenv("KUBERNETES_SERVICE_PORT", "443", 1);
    setenv("IDWATCH_SA_DIR", DATA "/sa", 1);
    struct kubeconfig_source src = {.env_kubeconfig = "", .home = "/nonexistent-home"};
    struct kubeconfig *kc = NULL;
    struct idw_err err = {{0}};
    assert_int_equal(kubeconfig_load(&src, &kc, &err), 0);
    assert_true(kubeconfig_in_cluster(kc));
    struct kubeconfig_resolved r;
    resolve_ok(kc, NULL, &r);
    assert_true(r.in_cluster);
    assert_string_equal(r.server, "https://[fd00::1]:443");
    assert_string_equal(r.namespace_, "idwatch");
    assert_string_equal(r.ca_pem, "SA CA\n");
    assert_string_equal(r.token_file, DATA "/sa/token");
    kubeconfig_resolved_free(&r);
    kubeconfig_free(kc);
    setenv("IDWATCH_SA_DIR", DATA "/nope", 1);
    assert_int_equal(kubeconfig_resolve_in_cluster(&r, &err), -1);
    assert_non_null(strstr(err.msg, "in-cluster service-account token"));
    unsetenv("KUBERNETES_SERVICE_HOST");
    unsetenv("KUBERNETES_SERVICE_PORT");
    unsetenv("IDWATCH_SA_DIR");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_merge_order),  cmocka_unit_test(test_explicit_and_default),
        cmocka_unit_test(test_aks_fixtures), cmocka_unit_test(test_resolve_errors),
        cmocka_unit_test(test_malformed),    cmocka_unit_test(test_base64),
        cmocka_unit_test(test_in_cluster),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
