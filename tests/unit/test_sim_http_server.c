/* The HTTPS front of idwatch-sim end to end, in process: the "empty" scenario behind server.c,
 * spoken to over real TLS by a tiny OpenSSL client. Covers what real kubectl does not exercise:
 * auth failures, paging edge cases, metadata-only lists, faults, 410s, bounds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <cmocka.h>
#include <cjson/cJSON.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>

#include "idwatch/core.h"
#include "server.h"
#include "simstate.h"

struct fixture {
    struct sim *sim;
    struct server *srv;
    char dir[64];
    char token[128];
    SSL_CTX *ctx;
};

static struct fixture fx;

struct reply {
    int status;
    char *headers;
    char *body;
    size_t body_len;
};

static void reply_free(struct reply *r)
{
    free(r->headers);
    free(r->body);
    memset(r, 0, sizeof *r);
}

/* One HTTP/1.0 exchange (the server closes, no chunking). raw, when set, is sent as is. */
static int http(const char *method, const char *target, const char *headers, const char *body,
                size_t body_len, const char *raw, struct reply *out)
{
    memset(out, 0, sizeof *out);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(server_port(fx.srv))};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0)
        return close(fd), -1;
    SSL *ssl = SSL_new(fx.ctx);
    SSL_set_fd(ssl, fd);
    if (SSL_connect(ssl) != 1) {
        SSL_free(ssl);
        close(fd);
        return -1;
    }
    struct idw_buf req = {0};
    if (raw) {
        buf_puts(&req, raw);
    } else {
        buf_printf(&req, "%s %s HTTP/1.0\r\nHost: 127.0.0.1\r\n%s", method, target,
                   headers ? headers : "");
        if (body)
            buf_printf(&req, "Content-Length: %zu\r\n", body_len);
        buf_puts(&req, "\r\n");
        if (body)
            buf_append(&req, body, body_len);
    }
    SSL_write(ssl, req.data, (int)req.len);
    buf_free(&req);
    struct idw_buf resp = {0};
    char chunk[16384];
    int n;
    while ((n = SSL_read(ssl, chunk, sizeof chunk)) > 0)
        buf_append(&resp, chunk, (size_t)n);
    SSL_free(ssl);
    close(fd);
    ERR_clear_error();
    char *sep = resp.data ? strstr(resp.data, "\r\n\r\n") : NULL;
    if (!sep || sscanf(resp.data, "HTTP/1.%*d %d", &out->status) != 1) {
        buf_free(&resp);
        return -1;
    }
    out->headers = xstrndup(resp.data, (size_t)(sep - resp.data));
    out->body_len = resp.len - (size_t)(sep + 4 - resp.data);
    out->body = xstrndup(sep + 4, out->body_len);
    buf_free(&resp);
    return 0;
}

static int get(const char *target, const char *accept, struct reply *out)
{
    char h[512];
    snprintf(h, sizeof h, "Authorization: Bearer %s\r\n%s%s%s", fx.token, accept ? "Accept: " : "",
             accept ? accept : "", accept ? "\r\n" : "");
    return http("GET", target, h, NULL, 0, NULL, out);
}

static cJSON *get_json(const char *target, const char *accept, int want_status)
{
    struct reply r;
    assert_int_equal(get(target, accept, &r), 0);
    if (r.status != want_status)
        fail_msg("%s: status %d, want %d: %s", target, r.status, want_status, r.body);
    cJSON *j = cJSON_Parse(r.body);
    reply_free(&r);
    assert_non_null(j);
    return j;
}

static int sim_post(const char *target, const char *body)
{
    struct reply r;
    if (http("POST", target, NULL, body, strlen(body), NULL, &r) != 0)
        return -1;
    int st = r.status;
    reply_free(&r);
    return st;
}

static int setup(void **state)
{
    (void)state;
    snprintf(fx.dir, sizeof fx.dir, "/tmp/idw-simhttp.XXXXXX");
    if (!mkdtemp(fx.dir))
        return -1;
    struct sim_options so = {.scenario = "empty",
                             .scenarios_dir = IDW_SOURCE_DIR "/tests/sim/scenarios",
                             .speed = 1,
                             .seed = 1};
    struct idw_err err = {{0}};
    if (sim_new(&so, &fx.sim, &err) != 0) {
        fprintf(stderr, "sim_new: %s\n", err.msg);
        return -1;
    }
    struct server_options opt = {.port = 0, .state_dir = fx.dir, .exec_plugin = "/bin/true"};
    if (server_start(fx.sim, &opt, &fx.srv, &err) != 0) {
        fprintf(stderr, "server_start: %s\n", err.msg);
        return -1;
    }
    char path[128], *kc;
    size_t len;
    snprintf(path, sizeof path, "%s/kubeconfig", fx.dir);
    if (file_read_all(path, 1 << 20, &kc, &len, &err) != 0)
        return -1;
    const char *t = strstr(kc, "\n    token: ");
    if (!t || sscanf(t, "\n    token: %127s", fx.token) != 1)
        return free(kc), -1;
    free(kc);
    fx.ctx = SSL_CTX_new(TLS_client_method());
    snprintf(path, sizeof path, "%s/ca.crt", fx.dir);
    SSL_CTX_load_verify_locations(fx.ctx, path, NULL);
    SSL_CTX_set_verify(fx.ctx, SSL_VERIFY_PEER, NULL);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    server_stop(fx.srv);
    sim_free(fx.sim);
    SSL_CTX_free(fx.ctx);
    const char *files[] = {"kubeconfig", "ca.crt", "azure.env", "client.pem", "client.key", "az"};
    char path[128];
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", fx.dir, files[i]);
        unlink(path);
    }
    rmdir(fx.dir);
    return 0;
}

static void test_auth(void **state)
{
    (void)state;
    struct reply r;
    assert_int_equal(http("GET", "/version", NULL, NULL, 0, NULL, &r), 0);
    assert_int_equal(r.status, 401);
    assert_non_null(strstr(r.body, "\"reason\":\"Unauthorized\""));
    reply_free(&r);
    assert_int_equal(http("GET", "/api", "Authorization: Bearer wrong\r\n", NULL, 0, NULL, &r), 0);
    assert_int_equal(r.status, 401);
    reply_free(&r);
    cJSON *v = get_json("/version?timeout=5s", NULL, 200);
    assert_string_equal(cJSON_GetObjectItem(v, "major")->valuestring, "1");
    assert_string_equal(cJSON_GetObjectItem(v, "minor")->valuestring, "32");
    cJSON_Delete(v);
    /* /_sim needs no credentials */
    assert_int_equal(http("GET", "/_sim/stats", NULL, NULL, 0, NULL, &r), 0);
    assert_int_equal(r.status, 200);
    reply_free(&r);
}

static void test_paging(void **state)
{
    (void)state;
    cJSON *all = get_json("/api/v1/pods", NULL, 200);
    int total = cJSON_GetArraySize(cJSON_GetObjectItem(all, "items"));
    assert_true(total >= 3);
    const char *rv =
        cJSON_GetObjectItem(cJSON_GetObjectItem(all, "metadata"), "resourceVersion")->valuestring;
    char *rv0 = xstrdup(rv);
    /* built-in list items carry no kind/apiVersion */
    assert_null(
        cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(all, "items"), 0), "kind"));
    int seen = 0;
    char target[2048] = "/api/v1/pods?limit=2";
    for (;;) {
        cJSON *page = get_json(target, NULL, 200);
        cJSON *meta = cJSON_GetObjectItem(page, "metadata");
        assert_string_equal(cJSON_GetObjectItem(meta, "resourceVersion")->valuestring, rv0);
        cJSON *items = cJSON_GetObjectItem(page, "items");
        for (int i = 0; i < cJSON_GetArraySize(items); i++) {
            const char *want =
                cJSON_GetObjectItem(
                    cJSON_GetObjectItem(
                        cJSON_GetArrayItem(cJSON_GetObjectItem(all, "items"), seen + i),
                        "metadata"),
                    "name")
                    ->valuestring;
            assert_string_equal(
                cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetArrayItem(items, i), "metadata"),
                                    "name")
                    ->valuestring,
                want);
        }
        seen += cJSON_GetArraySize(items);
        cJSON *cont = cJSON_GetObjectItem(meta, "continue");
        cJSON *rem = cJSON_GetObjectItem(meta, "remainingItemCount");
        if (!cont) {
            assert_null(rem); /* omitted on the last page */
            cJSON_Delete(page);
            break;
        }
        assert_int_equal(rem->valueint, total - seen);
        snprintf(target, sizeof target, "/api/v1/pods?limit=2&continue=%s", cont->valuestring);
        cJSON_Delete(page);
    }
    assert_int_equal(seen, total);
    free(rv0);
    cJSON_Delete(all);

    /* with a selector: no remainingItemCount */
    cJSON *sel = get_json("/api/v1/pods?limit=1&labelSelector=k8s-app%21%3Dnone", NULL, 200);
    cJSON *meta = cJSON_GetObjectItem(sel, "metadata");
    assert_non_null(cJSON_GetObjectItem(meta, "continue"));
    assert_null(cJSON_GetObjectItem(meta, "remainingItemCount"));
    cJSON_Delete(sel);

    cJSON *bad = get_json("/api/v1/pods?continue=garbage", NULL, 400);
    cJSON_Delete(bad);
    bad = get_json("/api/v1/pods?labelSelector=a%20in%20(b", NULL, 400);
    cJSON_Delete(bad);
    bad = get_json("/api/v1/pods?fieldSelector=spec.bogus%3Dx", NULL, 400);
    assert_non_null(
        strstr(cJSON_GetObjectItem(bad, "message")->valuestring, "field label not supported"));
    cJSON_Delete(bad);
}

static void test_shapes(void **state)
{
    (void)state;
    cJSON *l = get_json(
        "/api/v1/namespaces",
        "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json", 200);
    assert_string_equal(cJSON_GetObjectItem(l, "kind")->valuestring, "PartialObjectMetadataList");
    cJSON *item = cJSON_GetArrayItem(cJSON_GetObjectItem(l, "items"), 0);
    assert_string_equal(cJSON_GetObjectItem(item, "kind")->valuestring, "PartialObjectMetadata");
    assert_null(cJSON_GetObjectItem(item, "spec"));
    assert_null(cJSON_GetObjectItem(item, "status"));
    cJSON_Delete(l);

    cJSON *t = get_json("/api/v1/namespaces/kube-system",
                        "application/json;as=Table;v=v1;g=meta.k8s.io,application/json", 200);
    assert_string_equal(cJSON_GetObjectItem(t, "kind")->valuestring, "Table");
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(t, "rows")), 1);
    cJSON *cells =
        cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(t, "rows"), 0), "cells");
    assert_string_equal(cJSON_GetArrayItem(cells, 0)->valuestring, "kube-system");
    cJSON_Delete(t);

    cJSON *nf = get_json("/apis/apps/v1/namespaces/kube-system/deployments/nope", NULL, 404);
    assert_string_equal(cJSON_GetObjectItem(nf, "message")->valuestring,
                        "deployments.apps \"nope\" not found");
    assert_string_equal(cJSON_GetObjectItem(nf, "reason")->valuestring, "NotFound");
    cJSON_Delete(nf);
    nf = get_json("/api/v1/namespaces/kube-system/pods/nope", NULL, 404);
    assert_string_equal(cJSON_GetObjectItem(nf, "message")->valuestring, "pods \"nope\" not found");
    cJSON_Delete(nf);
    nf = get_json("/openapi/v3", NULL, 404);
    cJSON_Delete(nf);
    cJSON *na = get_json("/api/v1/pods", "application/yaml", 406);
    cJSON_Delete(na);
}

static void test_faults_and_gone(void **state)
{
    (void)state;
    assert_int_equal(sim_post("/_sim/faults", "list:429=2x1;get:5xx=500x1"), 200);
    assert_int_equal(sim_post("/_sim/faults", "list:bogus"), 400);
    struct reply r;
    assert_int_equal(get("/api/v1/pods", NULL, &r), 0);
    assert_int_equal(r.status, 429);
    assert_non_null(strstr(r.headers, "Retry-After: 2"));
    assert_non_null(strstr(r.body, "\"retryAfterSeconds\":2"));
    reply_free(&r);
    assert_int_equal(get("/api/v1/pods", NULL, &r), 0); /* used up */
    assert_int_equal(r.status, 200);
    reply_free(&r);
    assert_int_equal(get("/api/v1/namespaces/default", NULL, &r), 0);
    assert_int_equal(r.status, 500);
    reply_free(&r);

    /* a watch from before a compaction: an ERROR event with 410 Expired inside a 200 */
    assert_int_equal(sim_post("/_sim/compact", ""), 200);
    assert_int_equal(get("/api/v1/namespaces?watch=1&resourceVersion=1", NULL, &r), 0);
    assert_int_equal(r.status, 200);
    cJSON *ev = cJSON_Parse(r.body);
    assert_string_equal(cJSON_GetObjectItem(ev, "type")->valuestring, "ERROR");
    cJSON *st = cJSON_GetObjectItem(ev, "object");
    assert_string_equal(cJSON_GetObjectItem(st, "reason")->valuestring, "Expired");
    assert_int_equal(cJSON_GetObjectItem(st, "code")->valueint, 410);
    cJSON_Delete(ev);
    reply_free(&r);

    /* watch from "0": the current objects as ADDED, then the end at timeoutSeconds */
    assert_int_equal(get("/api/v1/namespaces?watch=true&timeoutSeconds=1", NULL, &r), 0);
    assert_int_equal(r.status, 200);
    assert_null(strstr(r.body, "BOOKMARK")); /* not asked for */
    int added = 0;
    for (char *line = r.body, *nl; (nl = strchr(line, '\n')); line = nl + 1) {
        *nl = '\0';
        ev = cJSON_Parse(line);
        assert_non_null(ev);
        assert_string_equal(cJSON_GetObjectItem(ev, "type")->valuestring, "ADDED");
        /* watch event objects do carry kind */
        assert_string_equal(
            cJSON_GetObjectItem(cJSON_GetObjectItem(ev, "object"), "kind")->valuestring,
            "Namespace");
        cJSON_Delete(ev);
        added++;
    }
    assert_true(added >= 4);
    reply_free(&r);

    /* an expired continue token (fault) */
    cJSON *page = get_json("/api/v1/pods?limit=1", NULL, 200);
    char target[1024];
    snprintf(target, sizeof target, "/api/v1/pods?limit=1&continue=%s",
             cJSON_GetObjectItem(cJSON_GetObjectItem(page, "metadata"), "continue")->valuestring);
    cJSON_Delete(page);
    assert_int_equal(sim_post("/_sim/faults", "list:410"), 200);
    cJSON *gone = get_json(target, NULL, 410);
    assert_string_equal(cJSON_GetObjectItem(gone, "reason")->valuestring, "Expired");
    assert_true(str_has_prefix(cJSON_GetObjectItem(gone, "message")->valuestring,
                               "The provided continue parameter is too old"));
    cJSON_Delete(gone);
    page = get_json(target, NULL, 200); /* the fault was used up */
    cJSON_Delete(page);
    /* five scenario minutes later the token has expired on its own */
    assert_int_equal(sim_post("/_sim/advance?seconds=301", ""), 200);
    assert_int_equal(sim_post("/_sim/advance", ""), 400);
    gone = get_json(target, NULL, 410);
    assert_string_equal(cJSON_GetObjectItem(gone, "reason")->valuestring, "Expired");
    cJSON_Delete(gone);
}

static void test_writes_and_bounds(void **state)
{
    (void)state;
    char h[512];
    snprintf(h, sizeof h,
             "Authorization: Bearer %s\r\nContent-Type: application/merge-patch+json\r\n",
             fx.token);
    const char *patch = "{\"metadata\":{\"labels\":{\"idw\":\"x\"}}}";
    struct reply r;
    assert_int_equal(
        http("PATCH", "/api/v1/namespaces/default?dryRun=All", h, patch, strlen(patch), NULL, &r),
        0);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "\"idw\":\"x\""));
    reply_free(&r);
    cJSON *ns = get_json("/api/v1/namespaces/default", NULL, 200);
    char *printed = cJSON_PrintUnformatted(ns);
    assert_null(strstr(printed, "\"idw\"")); /* the dry run stored nothing */
    cJSON_free(printed);
    cJSON_Delete(ns);
    assert_int_equal(http("PATCH", "/api/v1/namespaces/default", h, patch, strlen(patch), NULL, &r),
                     0);
    assert_int_equal(r.status, 200);
    reply_free(&r);
    assert_int_equal(http("PATCH", "/api/v1/namespaces/default", h, "{nope", 5, NULL, &r), 0);
    assert_int_equal(r.status, 400);
    reply_free(&r);
    snprintf(h, sizeof h, "Authorization: Bearer %s\r\nContent-Type: text/plain\r\n", fx.token);
    assert_int_equal(http("PATCH", "/api/v1/namespaces/default", h, patch, strlen(patch), NULL, &r),
                     0);
    assert_int_equal(r.status, 415);
    reply_free(&r);
    /* 4 MiB body: 413, no crash */
    size_t big = 4u << 20;
    char *body = xmalloc(big);
    memset(body, '{', big);
    snprintf(h, sizeof h,
             "Authorization: Bearer %s\r\nContent-Type: application/merge-patch+json\r\n",
             fx.token);
    assert_int_equal(http("PATCH", "/api/v1/namespaces/default", h, body, big, NULL, &r), 0);
    assert_int_equal(r.status, 413);
    reply_free(&r);
    free(body);
    /* garbage instead of HTTP: the server answers or closes, and keeps serving */
    http(NULL, NULL, NULL, NULL, 0, "\x16\x03garbage\r\n\r\n", &r);
    reply_free(&r);
    cJSON *stats = get_json("/_sim/stats", NULL, 200);
    /* every non-dry PATCH counts, whatever its answer: ok, 400, 415, 413 */
    assert_int_equal(cJSON_GetObjectItem(stats, "writes")->valueint, 4);
    assert_int_equal(cJSON_GetObjectItem(stats, "dry_runs")->valueint, 1);
    cJSON_Delete(stats);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_auth),
        cmocka_unit_test(test_paging),
        cmocka_unit_test(test_shapes),
        cmocka_unit_test(test_faults_and_gone),
        cmocka_unit_test(test_writes_and_bounds),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
