/* test_sim_state: the simulated cluster's behaviour on demo.json: controllers make owned pods with
 * unique IPs, the webhook mutates labelled pods, a template patch rolls the pods and the watch
 * history shows it, dry-run and stale resourceVersions change nothing, compaction gives 410, NMI
 * logs name the pods on their node, and scenario time drives churn and CronJobs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "simstate.h"

#define SCEN_DIR IDW_SOURCE_DIR "/tests/sim/scenarios"
#define NS 1000000000LL

static int setup(void **state)
{
    struct sim_options o = {
        .scenario = "demo", .scenarios_dir = SCEN_DIR, .speed = 1, .seed = 3, .frozen = true};
    struct sim *s = NULL;
    struct idw_err err = {{0}};
    if (sim_new(&o, &s, &err) != 0) {
        fprintf(stderr, "sim_new: %s\n", err.msg);
        return -1;
    }
    sim_lock(s);
    *state = s;
    return 0;
}

static int teardown(void **state)
{
    struct sim *s = *state;
    sim_unlock(s);
    sim_free(s);
    return 0;
}

static const struct sim_resource *res(const char *group, const char *plural)
{
    const struct sim_resource *r = sim_resource_find(group, "v1", plural);
    assert_non_null(r);
    return r;
}

static const char *jstr(const cJSON *o, const char *a, const char *b, const char *c)
{
    const cJSON *x = cJSON_GetObjectItem(o, a);
    if (b)
        x = cJSON_GetObjectItem(x, b);
    if (c)
        x = cJSON_GetObjectItem(x, c);
    return cJSON_IsString(x) ? x->valuestring : NULL;
}

static const char *name_of(const cJSON *o)
{
    return jstr(o, "metadata", "name", NULL);
}

/* Pods of namespace ns matching a label selector. */
static size_t pods(struct sim *s, const char *ns, const char *selector, const cJSON ***out)
{
    struct selector sel = {0};
    struct idw_err err;
    assert_int_equal(selector_parse(selector, &sel, &err), 0);
    size_t n = sim_list(s, res("", "pods"), ns, &sel, NULL, out);
    selector_free(&sel);
    return n;
}

static const char *env_of(const cJSON *pod, const char *name)
{
    const cJSON *c, *e;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(cJSON_GetObjectItem(pod, "spec"), "containers"))
    {
        cJSON_ArrayForEach(e, cJSON_GetObjectItem(c, "env"))
        {
            const cJSON *v = cJSON_GetObjectItem(e, "value");
            if (strcmp(cJSON_GetObjectItem(e, "name")->valuestring, name) == 0)
                return cJSON_IsString(v) ? v->valuestring : "";
        }
    }
    return NULL;
}

static bool has_condition(const cJSON *pod, const char *type)
{
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(cJSON_GetObjectItem(pod, "status"), "conditions"))
    {
        if (strcmp(jstr(c, "type", NULL, NULL), type) == 0 &&
            strcmp(jstr(c, "status", NULL, NULL), "True") == 0)
            return true;
    }
    return false;
}

/* Deployment -> ReplicaSet -> Pods with controller owner references, nodes and unique IPs. */
static void test_controllers(void **state)
{
    struct sim *s = *state;
    const cJSON **items = NULL;
    size_t n = pods(s, "payments", "app=payments-api", &items);
    assert_int_equal(n, 3);
    for (size_t i = 0; i < n; i++) {
        const cJSON *p = items[i];
        const cJSON *own = cJSON_GetArrayItem(
            cJSON_GetObjectItem(cJSON_GetObjectItem(p, "metadata"), "ownerReferences"), 0);
        assert_string_equal(jstr(own, "kind", NULL, NULL), "ReplicaSet");
        assert_true(cJSON_IsTrue(cJSON_GetObjectItem(own, "controller")));
        const char *rs = jstr(own, "name", NULL, NULL);
        /* <deploy>-<10-char hash>, pod <rs>-<5 chars> */
        assert_int_equal(strlen(rs), strlen("payments-api-") + 10);
        assert_int_equal(strlen(name_of(p)), strlen(rs) + 6);
        assert_memory_equal(name_of(p), rs, strlen(rs));
        const cJSON *rso = sim_get(s, res("apps", "replicasets"), "payments", rs);
        assert_non_null(rso);
        const cJSON *down = cJSON_GetArrayItem(
            cJSON_GetObjectItem(cJSON_GetObjectItem(rso, "metadata"), "ownerReferences"), 0);
        assert_string_equal(jstr(down, "kind", NULL, NULL), "Deployment");
        assert_string_equal(jstr(down, "name", NULL, NULL), "payments-api");
        assert_non_null(jstr(p, "spec", "nodeName", NULL));
        assert_string_equal(jstr(p, "status", "phase", NULL), "Running");
        assert_true(has_condition(p, "Ready"));
        assert_non_null(cJSON_GetObjectItem(cJSON_GetObjectItem(p, "status"), "containerStatuses"));
    }
    free(items);

    /* every live pod IP is unique, except hostNetwork pods sharing their node's */
    n = sim_list(s, res("", "pods"), NULL, NULL, NULL, &items);
    assert_true(n > 60);
    for (size_t i = 0; i < n; i++) {
        if (cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetObjectItem(items[i], "spec"), "hostNetwork")))
            continue;
        const char *ip = jstr(items[i], "status", "podIP", NULL);
        assert_non_null(ip);
        assert_true(strncmp(ip, "10.244.", 7) == 0);
        for (size_t j = i + 1; j < n; j++) {
            if (cJSON_IsTrue(
                    cJSON_GetObjectItem(cJSON_GetObjectItem(items[j], "spec"), "hostNetwork")))
                continue;
            const char *other = jstr(items[j], "status", "podIP", NULL);
            if (strcmp(ip, other) == 0)
                fail_msg("%s and %s share %s", name_of(items[i]), name_of(items[j]), ip);
        }
    }
    free(items);

    /* StatefulSet pods are <name>-0..N-1; DaemonSet pods one per node */
    assert_non_null(sim_get(s, res("", "pods"), "payments", "payments-ledger-0"));
    assert_non_null(sim_get(s, res("", "pods"), "payments", "payments-ledger-1"));
    assert_null(sim_get(s, res("", "pods"), "payments", "payments-ledger-2"));
    assert_int_equal(pods(s, "platform", "app=platform-log-agent", &items), 4);
    free(items);
    const cJSON *ds = sim_get(s, res("apps", "daemonsets"), "platform", "platform-log-agent");
    const cJSON *st = cJSON_GetObjectItem(ds, "status");
    assert_int_equal(cJSON_GetObjectItem(st, "desiredNumberScheduled")->valueint, 4);
    assert_int_equal(cJSON_GetObjectItem(st, "numberReady")->valueint, 4);
    /* CronJob: the last runs exist as Jobs owned by it */
    const cJSON **jobs = NULL;
    size_t nj = sim_list(s, res("batch", "jobs"), "payments", NULL, NULL, &jobs);
    assert_int_equal(nj, 3);
    free(jobs);
}

/* The webhook (v1.6 layout) mutates exactly the pods it would. */
static void test_mutation(void **state)
{
    struct sim *s = *state;
    const cJSON **items = NULL;
    const char *client = jstr(sim_get(s, res("", "serviceaccounts"), "payments", "payments-api"),
                              "metadata", "annotations", "azure.workload.identity/client-id");
    assert_non_null(client);
    size_t n = pods(s, "payments", "app=payments-api", &items);
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(env_of(items[i], "AZURE_FEDERATED_TOKEN_FILE"),
                            "/var/run/secrets/azure/wi/token/azure-identity-token");
        assert_string_equal(env_of(items[i], "AZURE_CLIENT_ID"), client);
    }
    free(items);
    static const struct {
        const char *ns, *app;
    } untouched[] = {
        {"orders", "orders-events"},        /* label "True" */
        {"orders", "orders-notify"},        /* label "yes" */
        {"inventory", "inventory-sync"},    /* label on the SA only */
        {"legacy", "legacy-fax"},           /* predates the webhook */
        {"kube-system", "custom-dns-sync"}, /* excluded namespace */
        {"legacy", "legacy-billing"},       /* pod identity */
    };
    for (size_t k = 0; k < sizeof untouched / sizeof *untouched; k++) {
        char sel[128];
        snprintf(sel, sizeof sel, "app=%s", untouched[k].app);
        n = pods(s, untouched[k].ns, sel, &items);
        assert_true(n > 0);
        for (size_t i = 0; i < n; i++)
            if (env_of(items[i], "AZURE_FEDERATED_TOKEN_FILE"))
                fail_msg("%s/%s was mutated", untouched[k].ns, name_of(items[i]));
        free(items);
    }
    /* SA without client-id, and pods admitted before the SA got one: no AZURE_CLIENT_ID */
    n = pods(s, "monitoring", "app=monitoring-grafana", &items);
    assert_int_equal(n, 1);
    assert_non_null(env_of(items[0], "AZURE_FEDERATED_TOKEN_FILE"));
    assert_null(env_of(items[0], "AZURE_CLIENT_ID"));
    free(items);
    n = pods(s, "legacy", "app=legacy-mailer", &items);
    assert_int_equal(n, 1);
    assert_non_null(env_of(items[0], "AZURE_FEDERATED_TOKEN_FILE"));
    assert_null(env_of(items[0], "AZURE_CLIENT_ID"));
    free(items);
    /* invalid expiration: no pods, a FailedCreate event naming the webhook */
    assert_int_equal(pods(s, "analytics", "app=analytics-export", &items), 0);
    free(items);
    const cJSON **evs = NULL;
    size_t ne = sim_list(s, res("", "events"), "analytics", NULL, NULL, &evs);
    bool found = false;
    for (size_t i = 0; i < ne; i++) {
        const char *msg = jstr(evs[i], "message", NULL, NULL);
        if (strcmp(jstr(evs[i], "reason", NULL, NULL), "FailedCreate") == 0 &&
            strstr(msg, "mutation.azure-workload-identity.io") &&
            strncmp(jstr(evs[i], "involvedObject", "name", NULL), "analytics-export-", 17) == 0)
            found = true;
    }
    free(evs);
    assert_true(found);
}

static bool in_list(const char *name, char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(names[i], name) == 0)
            return true;
    return false;
}

/* A pod-template patch: generation bumps, pods are replaced (new names and IPs), the watch
 * history has the DELETED and ADDED events. */
static void test_template_patch_rolls(void **state)
{
    struct sim *s = *state;
    const cJSON **items = NULL;
    size_t n = pods(s, "orders", "app=orders-events", &items);
    assert_int_equal(n, 2);
    char *old_names[2], *old_ips[2];
    for (size_t i = 0; i < n; i++) {
        old_names[i] = strdup(name_of(items[i]));
        old_ips[i] = strdup(jstr(items[i], "status", "podIP", NULL));
    }
    free(items);
    uint64_t rv = sim_resource_version(s);

    /* the fix for "True": set the label to "true" on the template */
    cJSON *patch = cJSON_Parse(
        "{\"spec\":{\"template\":{\"metadata\":{\"labels\":{\"azure.workload.identity/use\":"
        "\"true\"}}}}}");
    cJSON *result = NULL;
    struct idw_err err = {{0}};
    int rc = sim_patch(s, res("apps", "deployments"), "orders", "orders-events", PATCH_MERGE, patch,
                       false, "idwatch", &result, &err);
    assert_int_equal(rc, 200);
    assert_int_equal(
        cJSON_GetObjectItem(cJSON_GetObjectItem(result, "metadata"), "generation")->valueint, 2);
    cJSON_Delete(result);
    cJSON_Delete(patch);
    assert_true(sim_resource_version(s) > rv);

    n = pods(s, "orders", "app=orders-events", &items);
    assert_int_equal(n, 2);
    char *new_names[2];
    for (size_t i = 0; i < n; i++) {
        new_names[i] = strdup(name_of(items[i]));
        assert_false(in_list(name_of(items[i]), old_names, 2));
        const char *ip = jstr(items[i], "status", "podIP", NULL);
        assert_false(in_list(ip, old_ips, 2)); /* freed IPs are not reused at once */
        assert_non_null(env_of(items[i], "AZURE_FEDERATED_TOKEN_FILE")); /* now injected */
    }
    free(items);
    const cJSON *d = sim_get(s, res("apps", "deployments"), "orders", "orders-events");
    const cJSON *st = cJSON_GetObjectItem(d, "status");
    assert_int_equal(cJSON_GetObjectItem(st, "observedGeneration")->valueint, 2);
    assert_int_equal(cJSON_GetObjectItem(st, "updatedReplicas")->valueint, 2);
    assert_int_equal(cJSON_GetObjectItem(st, "readyReplicas")->valueint, 2);

    struct sim_event *ev = NULL;
    size_t nev = 0;
    assert_int_equal(sim_events_since(s, res("", "pods"), "orders", rv, &ev, &nev), 0);
    size_t deleted = 0, added = 0;
    uint64_t last = rv;
    for (size_t i = 0; i < nev; i++) {
        assert_true(ev[i].rv > last); /* oldest first */
        last = ev[i].rv;
        const char *nm = name_of(ev[i].object);
        if (strcmp(ev[i].type, "DELETED") == 0 && in_list(nm, old_names, 2))
            deleted++;
        if (strcmp(ev[i].type, "ADDED") == 0 && in_list(nm, new_names, 2))
            added++;
    }
    free(ev);
    assert_int_equal(deleted, 2);
    assert_int_equal(added, 2);
    /* the deployment's own watch saw the MODIFIED */
    assert_int_equal(sim_events_since(s, res("apps", "deployments"), NULL, rv, &ev, &nev), 0);
    assert_true(nev >= 1);
    assert_string_equal(ev[0].type, "MODIFIED");
    free(ev);
    for (int i = 0; i < 2; i++) {
        free(old_names[i]);
        free(old_ips[i]);
        free(new_names[i]);
    }
}

/* kubectl label on the Deployment's own labels: stored, no rollout, no generation bump. */
static void test_metadata_label_no_roll(void **state)
{
    struct sim *s = *state;
    const cJSON **items = NULL;
    pods(s, "payments", "app=payments-api", &items);
    char *first = strdup(name_of(items[0]));
    free(items);
    cJSON *patch = cJSON_Parse("{\"metadata\":{\"labels\":{\"team\":\"payments\"}}}");
    cJSON *result = NULL;
    struct idw_err err = {{0}};
    assert_int_equal(sim_patch(s, res("apps", "deployments"), "payments", "payments-api",
                               PATCH_MERGE, patch, false, "kubectl-label", &result, &err),
                     200);
    assert_string_equal(jstr(result, "metadata", "labels", "team"), "payments");
    assert_int_equal(
        cJSON_GetObjectItem(cJSON_GetObjectItem(result, "metadata"), "generation")->valueint, 1);
    cJSON_Delete(result);
    cJSON_Delete(patch);
    assert_non_null(sim_get(s, res("", "pods"), "payments", first));
    free(first);
}

static void test_dry_run_and_conflict(void **state)
{
    struct sim *s = *state;
    const struct sim_resource *dr = res("apps", "deployments");
    uint64_t rv = sim_resource_version(s);
    char *before = cJSON_PrintUnformatted(sim_get(s, dr, "inventory", "inventory-sync"));
    cJSON *patch = cJSON_Parse(
        "{\"spec\":{\"template\":{\"metadata\":{\"labels\":{\"azure.workload.identity/use\":"
        "\"true\"}}}}}");
    cJSON *result = NULL;
    struct idw_err err = {{0}};
    assert_int_equal(sim_patch(s, dr, "inventory", "inventory-sync", PATCH_STRATEGIC, patch, true,
                               "idwatch", &result, &err),
                     200);
    /* the would-be object comes back; nothing is stored */
    assert_string_equal(jstr(cJSON_GetObjectItem(cJSON_GetObjectItem(result, "spec"), "template"),
                             "metadata", "labels", "azure.workload.identity/use"),
                        "true");
    cJSON_Delete(result);
    cJSON_Delete(patch);
    assert_int_equal(sim_resource_version(s), rv);
    char *after = cJSON_PrintUnformatted(sim_get(s, dr, "inventory", "inventory-sync"));
    assert_string_equal(before, after);
    free(before);
    free(after);

    /* a stale resourceVersion in the patch: 409 */
    patch = cJSON_Parse("{\"metadata\":{\"resourceVersion\":\"1\",\"labels\":{\"x\":\"y\"}}}");
    assert_int_equal(sim_patch(s, dr, "inventory", "inventory-sync", PATCH_MERGE, patch, false,
                               "idwatch", &result, &err),
                     409);
    assert_null(result);
    assert_string_equal(err.msg, "Operation cannot be fulfilled on deployments.apps "
                                 "\"inventory-sync\": the object has been modified; please apply "
                                 "your changes to the latest version and try again");
    cJSON_Delete(patch);
    assert_int_equal(sim_resource_version(s), rv);

    /* the current resourceVersion passes */
    char body[200];
    snprintf(
        body, sizeof body, "{\"metadata\":{\"resourceVersion\":\"%s\",\"labels\":{\"x\":\"y\"}}}",
        jstr(sim_get(s, dr, "inventory", "inventory-sync"), "metadata", "resourceVersion", NULL));
    patch = cJSON_Parse(body);
    assert_int_equal(sim_patch(s, dr, "inventory", "inventory-sync", PATCH_MERGE, patch, false,
                               "idwatch", &result, &err),
                     200);
    cJSON_Delete(result);
    cJSON_Delete(patch);

    /* missing object: 404 with the API server's message */
    patch = cJSON_Parse("{}");
    assert_int_equal(
        sim_patch(s, dr, "inventory", "nope", PATCH_MERGE, patch, false, "idwatch", &result, &err),
        404);
    assert_string_equal(err.msg, "deployments.apps \"nope\" not found");
    cJSON_Delete(patch);
}

static void test_watch_history_and_compact(void **state)
{
    struct sim *s = *state;
    const struct sim_resource *pr = res("", "pods");
    uint64_t rv0 = sim_resource_version(s);
    struct sim_event *ev = NULL;
    size_t n = 0;
    assert_int_equal(sim_events_since(s, pr, NULL, rv0, &ev, &n), 0);
    assert_int_equal(n, 0);
    free(ev);
    /* something happens: a restart of payments-api */
    cJSON *patch =
        cJSON_Parse("{\"spec\":{\"template\":{\"metadata\":{\"annotations\":{"
                    "\"kubectl.kubernetes.io/restartedAt\":\"2026-11-29T10:00:00Z\"}}}}}");
    cJSON *result = NULL;
    struct idw_err err;
    assert_int_equal(sim_patch(s, res("apps", "deployments"), "payments", "payments-api",
                               PATCH_STRATEGIC, patch, false, "kubectl-rollout", &result, &err),
                     200);
    cJSON_Delete(result);
    cJSON_Delete(patch);
    assert_int_equal(sim_events_since(s, pr, "payments", rv0, &ev, &n), 0);
    assert_int_equal(n, 6); /* 3 DELETED + 3 ADDED */
    free(ev);
    assert_int_equal(sim_events_since(s, pr, "orders", rv0, &ev, &n), 0);
    assert_int_equal(n, 0); /* namespace filter */
    free(ev);
    /* before the load's resourceVersion there is no history */
    assert_int_equal(sim_events_since(s, pr, NULL, 1, &ev, &n), -1);
    sim_compact(s);
    assert_int_equal(sim_events_since(s, pr, NULL, rv0, &ev, &n), -1);
    assert_int_equal(sim_events_since(s, pr, NULL, sim_resource_version(s), &ev, &n), 0);
    assert_int_equal(n, 0);
    free(ev);
}

/* "10.244.1.7" out of "... req.remote=10.244.1.7" */
static bool remote_ip(const char *line, char out[16])
{
    const char *p = strstr(line, "req.remote=");
    if (!p)
        return false;
    p += strlen("req.remote=");
    size_t k = 0;
    while (k < 15 && ((p[k] >= '0' && p[k] <= '9') || p[k] == '.')) {
        out[k] = p[k];
        k++;
    }
    out[k] = '\0';
    return k > 0;
}

static void test_nmi_logs(void **state)
{
    struct sim *s = *state;
    const cJSON **nmis = NULL;
    size_t nn = pods(s, "aad-pod-identity", "app.kubernetes.io/component=nmi", &nmis);
    assert_int_equal(nn, 4);
    const cJSON **all = NULL;
    size_t na = sim_list(s, res("", "pods"), NULL, NULL, NULL, &all);
    size_t status_lines = 0;
    int64_t now = sim_now_ns(s);
    for (size_t k = 0; k < nn; k++) {
        const char *node = jstr(nmis[k], "spec", "nodeName", NULL);
        struct sim_log_line *lines = NULL;
        size_t n = 0;
        struct idw_err err;
        assert_int_equal(
            sim_pod_log(s, "aad-pod-identity", name_of(nmis[k]), NULL, 0, &lines, &n, &err), 0);
        assert_true(n > 5);
        for (size_t i = 0; i < n; i++) {
            char ip[16];
            if (i > 0)
                assert_true(lines[i].time_ns >= lines[i - 1].time_ns);
            if (!remote_ip(lines[i].text, ip))
                continue;
            status_lines++;
            /* the caller is a live pod on this NMI's node */
            const cJSON *caller = NULL;
            for (size_t j = 0; j < na && !caller; j++) {
                const char *pip = jstr(all[j], "status", "podIP", NULL);
                if (pip && strcmp(pip, ip) == 0 &&
                    !cJSON_IsTrue(
                        cJSON_GetObjectItem(cJSON_GetObjectItem(all[j], "spec"), "hostNetwork")))
                    caller = all[j];
            }
            if (!caller)
                fail_msg("%s: req.remote=%s is no pod: %s", name_of(nmis[k]), ip, lines[i].text);
            assert_string_equal(jstr(caller, "spec", "nodeName", NULL), node);
        }
        /* since: only the last half hour, all of it newer */
        struct sim_log_line *recent = NULL;
        size_t nr = 0;
        int64_t since = now - 1800 * NS;
        assert_int_equal(
            sim_pod_log(s, "aad-pod-identity", name_of(nmis[k]), "nmi", since, &recent, &nr, &err),
            0);
        assert_true(nr < n);
        for (size_t i = 0; i < nr; i++)
            assert_true(recent[i].time_ns > since);
        free(recent);
        free(lines);
    }
    assert_true(status_lines > 100); /* an hour of back-filled traffic */
    free(all);
    free(nmis);

    /* errors as the API server words them */
    struct sim_log_line *lines = NULL;
    size_t n = 0;
    struct idw_err err = {{0}};
    assert_int_equal(sim_pod_log(s, "legacy", "nope", NULL, 0, &lines, &n, &err), 404);
    assert_string_equal(err.msg, "pods \"nope\" not found");
    assert_int_equal(sim_pod_log(s, "legacy", "legacy-debug", "bogus", 0, &lines, &n, &err), 400);
    assert_string_equal(err.msg, "container bogus is not valid for pod legacy-debug");
    /* an app pod has a few plain lines */
    assert_int_equal(sim_pod_log(s, "legacy", "legacy-debug", NULL, 0, &lines, &n, &err), 0);
    assert_true(n >= 3);
    assert_non_null(strstr(lines[0].text, "starting shell"));
    free(lines);
    assert_true(sim_pod_exists(s, "legacy", "legacy-debug"));
    assert_false(sim_pod_exists(s, "legacy", "nope"));
}

/* Scenario time: churn restarts payments-api every 10 minutes, CronJobs run, NMI keeps logging. */
static void test_time_moves(void **state)
{
    struct sim *s = *state;
    const cJSON **items = NULL;
    pods(s, "payments", "app=payments-api", &items);
    char *before = strdup(name_of(items[0]));
    free(items);
    const cJSON **nmis = NULL;
    pods(s, "aad-pod-identity", "app.kubernetes.io/component=nmi", &nmis);
    char *nmi = strdup(name_of(nmis[0]));
    free(nmis);
    int64_t t0 = sim_now_ns(s);
    uint64_t rv = sim_resource_version(s);

    sim_advance(s, 16 * 60 * NS);
    assert_true(sim_now_ns(s) >= t0 + 16 * 60 * NS);
    assert_true(sim_resource_version(s) > rv);
    assert_null(sim_get(s, res("", "pods"), "payments", before)); /* restarted by churn */
    const cJSON *cj = sim_get(s, res("batch", "cronjobs"), "payments", "payments-reconcile");
    const char *last = jstr(cj, "status", "lastScheduleTime", NULL);
    assert_non_null(last);
    int64_t epoch;
    int32_t nanos;
    assert_int_equal(time_parse_rfc3339(last, &epoch, &nanos), 0);
    assert_true(epoch * NS > t0); /* a run after the load */
    const cJSON **jobs = NULL;
    assert_int_equal(sim_list(s, res("batch", "jobs"), "payments", NULL, NULL, &jobs), 3);
    free(jobs);
    struct sim_log_line *lines = NULL;
    size_t n = 0;
    struct idw_err err;
    assert_int_equal(sim_pod_log(s, "aad-pod-identity", nmi, NULL, t0, &lines, &n, &err), 0);
    free(lines);
    free(before);
    free(nmi);
    (void)n;
}

static void test_rbac(void **state)
{
    struct sim *s = *state;
    char reason[256];
    assert_false(sim_rbac_allowed(s, "alice", "patch", "apps", "deployments", NULL, "legacy",
                                  "legacy-crm", reason, sizeof reason));
    assert_false(sim_rbac_allowed(s, "alice", "get", "", "pods", "log", "kube-system", "x", reason,
                                  sizeof reason));
    assert_true(sim_rbac_allowed(s, "alice", "get", "", "pods", "log", "legacy", "x", reason,
                                 sizeof reason));
    assert_non_null(strstr(reason, "cluster-admin"));
    assert_true(sim_rbac_allowed(s, "alice", "patch", "apps", "deployments", NULL, "payments",
                                 "payments-api", reason, sizeof reason));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_controllers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mutation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_template_patch_rolls, setup, teardown),
        cmocka_unit_test_setup_teardown(test_metadata_label_no_roll, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dry_run_and_conflict, setup, teardown),
        cmocka_unit_test_setup_teardown(test_watch_history_and_compact, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nmi_logs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_time_moves, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rbac, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
