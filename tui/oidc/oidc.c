/* oidc: discovery documents, JWKS, and the issuer/key comparison (pure parts). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "idwatch/oidc.h"

/* ---- base64url: thin names over core's b64 ---- */

char *oidc_b64url_encode(const void *data, size_t len)
{
    return b64_encode(data, len, true);
}

int oidc_b64url_decode(const char *s, size_t len, unsigned char **out, size_t *out_len)
{
    return b64_decode(s, len, true, out, out_len);
}

/* ---- discovery ---- */

static char *json_str(const cJSON *obj, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    return cJSON_IsString(v) && v->valuestring ? xstrdup(v->valuestring) : NULL;
}

int oidc_parse_discovery(const char *json, size_t len, struct oidc_discovery *out,
                         struct idw_err *err)
{
    memset(out, 0, sizeof *out);
    cJSON *root = cJSON_ParseWithLength(json, len);
    if (!root)
        return idw_err_set(err, "discovery document is not JSON");
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return idw_err_set(err, "discovery document is not a JSON object");
    }
    out->issuer = json_str(root, "issuer");
    out->jwks_uri = json_str(root, "jwks_uri");
    cJSON_Delete(root);
    if (!out->issuer) {
        oidc_discovery_free(out);
        return idw_err_set(err, "discovery document has no \"issuer\"");
    }
    return 0;
}

void oidc_discovery_free(struct oidc_discovery *d)
{
    free(d->issuer);
    free(d->jwks_uri);
    memset(d, 0, sizeof *d);
}

/* ---- JWKS ---- */

/* Decodes a base64url member; strip drops leading zero bytes (RSA integers). 1 absent, 0 ok. */
static int key_member(const cJSON *k, const char *name, bool strip, unsigned char **out,
                      size_t *out_len)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(k, name);
    if (!v)
        return 1;
    if (!cJSON_IsString(v) || !v->valuestring)
        return -1;
    if (oidc_b64url_decode(v->valuestring, strlen(v->valuestring), out, out_len) != 0)
        return -1;
    if (strip) {
        size_t z = 0;
        while (z + 1 < *out_len && (*out)[z] == 0)
            z++;
        memmove(*out, *out + z, *out_len - z + 1);
        *out_len -= z;
    }
    return 0;
}

static void key_free(struct oidc_key *k)
{
    free(k->kid);
    free(k->kty);
    free(k->alg);
    free(k->use);
    free(k->crv);
    free(k->n);
    free(k->e);
    free(k->x);
    free(k->y);
}

static int key_parse(const cJSON *k, struct oidc_key *key, struct idw_err *err)
{
    memset(key, 0, sizeof *key);
    if (!cJSON_IsObject(k))
        return idw_err_set(err, "a key is not a JSON object");
    key->kid = json_str(k, "kid");
    key->kty = json_str(k, "kty");
    key->alg = json_str(k, "alg");
    key->use = json_str(k, "use");
    key->crv = json_str(k, "crv");
    if (!key->kty)
        return idw_err_set(err, "a key has no \"kty\"");
    const char *what = NULL;
    if (strcmp(key->kty, "RSA") == 0) {
        if (key_member(k, "n", true, &key->n, &key->n_len) != 0)
            what = "n";
        else if (key_member(k, "e", true, &key->e, &key->e_len) != 0)
            what = "e";
    } else if (strcmp(key->kty, "EC") == 0) {
        if (key_member(k, "x", false, &key->x, &key->x_len) != 0)
            what = "x";
        else if (key_member(k, "y", false, &key->y, &key->y_len) != 0)
            what = "y";
    }
    if (what) {
        char kid[80];
        str_sanitize(kid, sizeof kid, key->kid ? key->kid : "(no kid)");
        return idw_err_set(err, "key %s: \"%s\" is missing or not base64url", kid, what);
    }
    return 0;
}

int oidc_parse_jwks(const char *json, size_t len, struct oidc_jwks *out, struct idw_err *err)
{
    memset(out, 0, sizeof *out);
    cJSON *root = cJSON_ParseWithLength(json, len);
    if (!root)
        return idw_err_set(err, "JWKS is not JSON");
    const cJSON *keys = cJSON_GetObjectItemCaseSensitive(root, "keys");
    if (!cJSON_IsArray(keys)) {
        cJSON_Delete(root);
        return idw_err_set(err, "JWKS has no \"keys\" array");
    }
    size_t n = (size_t)cJSON_GetArraySize(keys);
    out->keys = n ? xcalloc(n, sizeof *out->keys) : NULL;
    const cJSON *k;
    cJSON_ArrayForEach(k, keys)
    {
        if (key_parse(k, &out->keys[out->n_keys], err) != 0) {
            key_free(&out->keys[out->n_keys]);
            cJSON_Delete(root);
            oidc_jwks_free(out);
            return -1;
        }
        out->n_keys++;
    }
    cJSON_Delete(root);
    return 0;
}

void oidc_jwks_free(struct oidc_jwks *j)
{
    for (size_t i = 0; i < j->n_keys; i++)
        key_free(&j->keys[i]);
    free(j->keys);
    memset(j, 0, sizeof *j);
}

const struct oidc_key *oidc_jwks_find(const struct oidc_jwks *j, const char *kid)
{
    for (size_t i = 0; i < j->n_keys; i++)
        if (str_eq(j->keys[i].kid, kid))
            return &j->keys[i];
    return NULL;
}

static bool bytes_eq(const unsigned char *a, size_t al, const unsigned char *b, size_t bl)
{
    return al == bl && (al == 0 || (a && b && memcmp(a, b, al) == 0));
}

bool oidc_key_same(const struct oidc_key *a, const struct oidc_key *b)
{
    return str_eq(a->kty, b->kty) && str_eq(a->crv, b->crv) &&
           bytes_eq(a->n, a->n_len, b->n, b->n_len) && bytes_eq(a->e, a->e_len, b->e, b->e_len) &&
           bytes_eq(a->x, a->x_len, b->x, b->x_len) && bytes_eq(a->y, a->y_len, b->y, b->y_len);
}

int oidc_compare_jwks(const struct oidc_jwks *cluster, const struct oidc_jwks *published,
                      char *detail, size_t detail_len)
{
    if (cluster->n_keys == 0) {
        snprintf(detail, detail_len, "the cluster publishes no signing keys");
        return -1;
    }
    for (size_t i = 0; i < cluster->n_keys; i++) {
        const struct oidc_key *ck = &cluster->keys[i];
        char kid[80];
        str_sanitize(kid, sizeof kid, ck->kid ? ck->kid : "(no kid)");
        const struct oidc_key *pk = oidc_jwks_find(published, ck->kid);
        if (!pk) {
            snprintf(detail, detail_len,
                     "the public issuer does not publish the cluster's key kid %s "
                     "(%zu key(s) published)",
                     kid, published->n_keys);
            return -1;
        }
        if (!oidc_key_same(ck, pk)) {
            const char *what = !str_eq(ck->kty, pk->kty)                       ? "kty"
                               : !bytes_eq(ck->n, ck->n_len, pk->n, pk->n_len) ? "n"
                               : !bytes_eq(ck->e, ck->e_len, pk->e, pk->e_len) ? "e"
                                                                               : "curve point";
            snprintf(detail, detail_len,
                     "key kid %s: the public issuer's key material differs (%s) from the "
                     "cluster's",
                     kid, what);
            return -1;
        }
    }
    snprintf(detail, detail_len, "issuer and %zu signing key(s) match", cluster->n_keys);
    return 0;
}

/* ---- verdict ---- */

char *oidc_discovery_url(const char *issuer)
{
    size_t n = strlen(issuer);
    while (n > 0 && issuer[n - 1] == '/')
        n--;
    return xasprintf("%.*s/.well-known/openid-configuration", (int)n, issuer);
}

/* One line about a fetch that did not give a usable 200. */
static void fetch_problem(const struct oidc_fetched *f, char *out, size_t n)
{
    char url[200], why[200];
    str_sanitize(url, sizeof url, f->url ? f->url : "?");
    if (f->status == 0)
        str_sanitize(why, sizeof why, f->error ? f->error : "no answer");
    else
        snprintf(why, sizeof why, "HTTP %ld", f->status);
    snprintf(out, n, "GET %s: %s", url, why);
}

static bool fetched_ok(const struct oidc_fetched *f)
{
    return f->status == 200 && f->body;
}

static void set_result(struct model_oidc *out, enum model_oidc_status st, const char *detail)
{
    out->status = st;
    out->detail = xstrdup(detail);
}

void oidc_evaluate(const struct oidc_inputs *in, int64_t now, struct model_oidc *out)
{
    memset(out, 0, sizeof *out);
    out->checked = now;
    char d[IDW_ERR_MAX], a[256], b[256], p[240];
    struct idw_err err;
    if (in->arm_enabled == 0) {
        set_result(out, MODEL_OIDC_DISABLED,
                   "the cluster's OIDC issuer is disabled (ARM oidcIssuerProfile.enabled=false)");
        return;
    }
    struct oidc_discovery cd = {0};
    bool have_cd = false;
    if (fetched_ok(&in->cluster_discovery)) {
        have_cd = oidc_parse_discovery(in->cluster_discovery.body, in->cluster_discovery.len, &cd,
                                       &err) == 0;
        if (have_cd)
            out->cluster_issuer = xstrdup(cd.issuer);
    }
    const char *expected = in->arm_issuer ? in->arm_issuer : cd.issuer;
    if (!expected) {
        if (in->cluster_discovery.status >= 0 && !have_cd && fetched_ok(&in->cluster_discovery))
            snprintf(d, sizeof d, "the API server's discovery document: %s", err.msg);
        else if (in->cluster_discovery.status >= 0) {
            fetch_problem(&in->cluster_discovery, p, sizeof p);
            snprintf(d, sizeof d, "issuer unknown: %s", p);
        } else
            snprintf(d, sizeof d, "issuer unknown");
        set_result(out, MODEL_OIDC_UNKNOWN, d);
        return;
    }
    if (in->arm_issuer && have_cd && strcmp(in->arm_issuer, cd.issuer) != 0) {
        snprintf(d, sizeof d,
                 "issuer mismatch: the API server issues tokens for \"%s\" but ARM's issuerURL "
                 "is \"%s\"",
                 str_sanitize(a, sizeof a, cd.issuer), str_sanitize(b, sizeof b, in->arm_issuer));
        set_result(out, MODEL_OIDC_KEYS_MISMATCH, d);
        oidc_discovery_free(&cd);
        return;
    }
    const char *token_iss = have_cd ? cd.issuer : expected;
    /* the public side */
    const struct oidc_fetched *pdf = &in->public_discovery;
    if (pdf->status < 0) {
        set_result(out, MODEL_OIDC_UNKNOWN, "the public issuer was not checked");
        oidc_discovery_free(&cd);
        return;
    }
    if (!fetched_ok(pdf)) {
        fetch_problem(pdf, p, sizeof p);
        snprintf(d, sizeof d, "the public issuer is unreachable: %s", p);
        set_result(out, MODEL_OIDC_UNREACHABLE, d);
        oidc_discovery_free(&cd);
        return;
    }
    struct oidc_discovery pd;
    if (oidc_parse_discovery(pdf->body, pdf->len, &pd, &err) != 0) {
        snprintf(d, sizeof d, "the public issuer's %s", err.msg);
        set_result(out, MODEL_OIDC_UNREACHABLE, d);
        oidc_discovery_free(&cd);
        return;
    }
    if (strcmp(pd.issuer, token_iss) != 0) {
        snprintf(d, sizeof d,
                 "issuer mismatch: the public discovery document says \"%s\" but tokens carry "
                 "\"%s\"",
                 str_sanitize(a, sizeof a, pd.issuer), str_sanitize(b, sizeof b, token_iss));
        set_result(out, MODEL_OIDC_KEYS_MISMATCH, d);
        goto done;
    }
    const struct oidc_fetched *pjf = &in->public_jwks;
    if (!fetched_ok(pjf)) {
        if (pjf->status < 0)
            snprintf(p, sizeof p, "no JWKS fetched (jwks_uri missing)");
        else
            fetch_problem(pjf, p, sizeof p);
        snprintf(d, sizeof d, "the public issuer's keys are unreachable: %s", p);
        set_result(out, MODEL_OIDC_UNREACHABLE, d);
        goto done;
    }
    struct oidc_jwks pj, cj;
    if (oidc_parse_jwks(pjf->body, pjf->len, &pj, &err) != 0) {
        snprintf(d, sizeof d, "the public issuer's %s", err.msg);
        set_result(out, MODEL_OIDC_UNREACHABLE, d);
        goto done;
    }
    if (!fetched_ok(&in->cluster_jwks)) {
        if (in->cluster_jwks.status < 0)
            snprintf(p, sizeof p, "not fetched");
        else
            fetch_problem(&in->cluster_jwks, p, sizeof p);
        snprintf(d, sizeof d,
                 "public issuer reachable and issuer matches; cluster keys not readable (%s)", p);
        set_result(out, MODEL_OIDC_UNKNOWN, d);
    } else if (oidc_parse_jwks(in->cluster_jwks.body, in->cluster_jwks.len, &cj, &err) != 0) {
        snprintf(d, sizeof d, "the API server's %s", err.msg);
        set_result(out, MODEL_OIDC_UNKNOWN, d);
    } else {
        int rc = oidc_compare_jwks(&cj, &pj, d, sizeof d);
        set_result(out, rc == 0 ? MODEL_OIDC_OK : MODEL_OIDC_KEYS_MISMATCH, d);
        oidc_jwks_free(&cj);
    }
    oidc_jwks_free(&pj);
done:
    oidc_discovery_free(&pd);
    oidc_discovery_free(&cd);
}
