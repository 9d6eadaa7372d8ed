/* patch: merge (RFC 7386), strategic merge (the subset of
 * k8s.io/apimachinery/pkg/util/strategicpatch that pod specs need) and JSON patch (RFC 6902, with
 * the error texts of evanphx/json-patch v4 that the API server returns). Everything works on a deep
 * copy, so a failed patch changes nothing. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "patch.h"

#define PATCH_HTTP_BAD 400
#define PATCH_HTTP_UNSUPPORTED 415
#define PATCH_HTTP_INVALID 422

/* ---- content types ------------------------------------------------------------------------- */

#define PATCH_CONTENT_TYPES(X)                                                                     \
    X(PATCH_MERGE, "application/merge-patch+json")                                                 \
    X(PATCH_STRATEGIC, "application/strategic-merge-patch+json")                                   \
    X(PATCH_JSON, "application/json-patch+json")

static const struct {
    enum patch_type type;
    const char *media;
} patch_media[] = {
#define X(t, m) {t, m},
    PATCH_CONTENT_TYPES(X)
#undef X
};

int patch_type_from_content_type(const char *content_type, enum patch_type *out)
{
    if (!content_type)
        return -1;
    while (*content_type == ' ' || *content_type == '\t')
        content_type++;
    size_t n = strcspn(content_type, ";");
    while (n > 0 && (content_type[n - 1] == ' ' || content_type[n - 1] == '\t'))
        n--;
    for (size_t i = 0; i < sizeof patch_media / sizeof patch_media[0]; i++) {
        if (strlen(patch_media[i].media) == n &&
            strncasecmp(patch_media[i].media, content_type, n) == 0) {
            *out = patch_media[i].type;
            return 0;
        }
    }
    return -1;
}

/* ---- helpers -------------------------------------------------------------------------------- */

/* cJSON reports allocation failure as NULL; like xmalloc, we do not try to survive it. */
static cJSON *patch_dup(const cJSON *x)
{
    cJSON *c = cJSON_Duplicate(x, 1);
    if (!c)
        abort();
    return c;
}

static cJSON *patch_new_object(void)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        abort();
    return o;
}

/* Sets obj[key] = val (takes val), replacing in place to keep the key order. */
static void patch_obj_set(cJSON *obj, const char *key, cJSON *val)
{
    if (cJSON_GetObjectItemCaseSensitive(obj, key))
        cJSON_ReplaceItemInObjectCaseSensitive(obj, key, val);
    else
        cJSON_AddItemToObject(obj, key, val);
}

/* A short, printable rendering of a JSON value for error messages. */
static void patch_render(const cJSON *v, char *out, size_t n)
{
    char *s = cJSON_PrintUnformatted(v);
    str_sanitize(out, n, s ? s : "?");
    if (s && strlen(s) >= n && n > 4)
        memcpy(out + n - 4, "...", 4);
    cJSON_free(s);
}

/* ---- RFC 7386 merge patch -------------------------------------------------------------------- */

static void merge_object(cJSON *dst, const cJSON *patch);

/* The value that replaces a key's old value (NULL old = absent). */
static cJSON *merge_value(cJSON *old, const cJSON *patch)
{
    if (!cJSON_IsObject(patch))
        return patch_dup(patch);
    cJSON *o = old && cJSON_IsObject(old) ? patch_dup(old) : patch_new_object();
    merge_object(o, patch);
    return o;
}

static void merge_object(cJSON *dst, const cJSON *patch)
{
    const cJSON *p;
    cJSON_ArrayForEach(p, patch)
    {
        cJSON *cur = cJSON_GetObjectItemCaseSensitive(dst, p->string);
        if (cJSON_IsNull(p)) {
            cJSON_DeleteItemFromObjectCaseSensitive(dst, p->string);
        } else if (cur && cJSON_IsObject(cur) && cJSON_IsObject(p)) {
            merge_object(cur, p);
        } else {
            patch_obj_set(dst, p->string, merge_value(NULL, p));
        }
    }
}

/* ---- strategic merge patch --------------------------------------------------------------------
 */

/* Kinds served by CRDs: the API server refuses strategic merge on them (415). */
#define PATCH_CUSTOM_KINDS(X)                                                                      \
    X("AzureIdentity")                                                                             \
    X("AzureIdentityBinding")                                                                      \
    X("AzureAssignedIdentity")                                                                     \
    X("AzurePodIdentityException")

static const char *const patch_custom_kinds[] = {
#define X(k) k,
    PATCH_CUSTOM_KINDS(X)
#undef X
};

/* Lists that merge by a key (patchStrategy=merge in k8s.io/api); every other list is replaced.
 * kind NULL = any kind; the first matching row wins. */
#define PATCH_MERGE_KEYS(X)                                                                        \
    X("Service", "ports", "port")                                                                  \
    X(NULL, "containers", "name")                                                                  \
    X(NULL, "initContainers", "name")                                                              \
    X(NULL, "ephemeralContainers", "name")                                                         \
    X(NULL, "volumes", "name")                                                                     \
    X(NULL, "env", "name")                                                                         \
    X(NULL, "volumeMounts", "mountPath")                                                           \
    X(NULL, "volumeDevices", "devicePath")                                                         \
    X(NULL, "ports", "containerPort")                                                              \
    X(NULL, "imagePullSecrets", "name")                                                            \
    X(NULL, "ownerReferences", "uid")

static const struct {
    const char *kind;
    const char *field;
    const char *key;
} patch_merge_keys[] = {
#define X(k, f, key) {k, f, key},
    PATCH_MERGE_KEYS(X)
#undef X
};

static bool patch_is_custom_kind(const char *kind)
{
    for (size_t i = 0; kind && i < sizeof patch_custom_kinds / sizeof patch_custom_kinds[0]; i++)
        if (strcmp(kind, patch_custom_kinds[i]) == 0)
            return true;
    return false;
}

static const char *patch_merge_key(const char *kind, const char *field)
{
    for (size_t i = 0; i < sizeof patch_merge_keys / sizeof patch_merge_keys[0]; i++) {
        if (patch_merge_keys[i].kind && !str_eq(patch_merge_keys[i].kind, kind))
            continue;
        if (strcmp(patch_merge_keys[i].field, field) == 0)
            return patch_merge_keys[i].key;
    }
    return NULL;
}

struct smp {
    const char *kind;
    struct idw_err *err;
};

enum smp_directive { SMP_NONE, SMP_MERGE, SMP_REPLACE, SMP_DELETE, SMP_BAD };

static enum smp_directive smp_directive_of(const cJSON *map)
{
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(map, "$patch");
    if (!d)
        return SMP_NONE;
    if (!cJSON_IsString(d))
        return SMP_BAD;
    if (strcmp(d->valuestring, "merge") == 0)
        return SMP_MERGE;
    if (strcmp(d->valuestring, "replace") == 0)
        return SMP_REPLACE;
    if (strcmp(d->valuestring, "delete") == 0)
        return SMP_DELETE;
    return SMP_BAD;
}

static int smp_bad_directive(struct smp *s, const cJSON *map)
{
    char v[64];
    patch_render(cJSON_GetObjectItemCaseSensitive(map, "$patch"), v, sizeof v);
    idw_err_set(s->err, "Unknown patch type: %s", v);
    return PATCH_HTTP_BAD;
}

static int smp_merge_map(struct smp *s, cJSON *dst, const cJSON *patch);

/* A new element or value built only from the patch: merged into nothing, so nulls and
 * directives disappear as they do upstream. */
static int smp_fresh(struct smp *s, const cJSON *patch, cJSON **out)
{
    if (!cJSON_IsObject(patch)) {
        *out = patch_dup(patch);
        return 0;
    }
    cJSON *o = patch_new_object();
    int rc = smp_merge_map(s, o, patch);
    if (rc) {
        cJSON_Delete(o);
        return rc;
    }
    *out = o;
    return 0;
}

static int smp_missing_key(struct smp *s, const cJSON *elem, const char *key)
{
    char v[160];
    patch_render(elem, v, sizeof v);
    idw_err_set(s->err, "map: %s does not contain declared merge key: %s", v, key);
    return PATCH_HTTP_BAD;
}

/* Lists of maps merged by key: matching elements merge, new ones are appended, `$patch: delete`
 * elements remove, and a `$patch: replace` element makes the rest of the patch list the list. */
static int smp_merge_list(struct smp *s, cJSON *dst, const cJSON *patch, const char *key)
{
    const cJSON *e;
    cJSON_ArrayForEach(e, patch)
    {
        if (cJSON_IsObject(e) && smp_directive_of(e) == SMP_REPLACE) {
            while (cJSON_GetArraySize(dst) > 0)
                cJSON_DeleteItemFromArray(dst, 0);
            const cJSON *f;
            cJSON_ArrayForEach(f, patch)
            {
                if (cJSON_IsObject(f) && smp_directive_of(f) != SMP_NONE)
                    continue;
                cJSON *n;
                int rc = smp_fresh(s, f, &n);
                if (rc)
                    return rc;
                cJSON_AddItemToArray(dst, n);
            }
            return 0;
        }
    }
    cJSON_ArrayForEach(e, patch)
    {
        if (!cJSON_IsObject(e)) {
            char v[64];
            patch_render(e, v, sizeof v);
            idw_err_set(s->err, "unable to merge %s into a list merged by key %s: not a map", v,
                        key);
            return PATCH_HTTP_BAD;
        }
        enum smp_directive d = smp_directive_of(e);
        if (d == SMP_BAD)
            return smp_bad_directive(s, e);
        const cJSON *kv = cJSON_GetObjectItemCaseSensitive(e, key);
        if (!kv)
            return smp_missing_key(s, e, key);
        if (d == SMP_DELETE) {
            for (int i = cJSON_GetArraySize(dst) - 1; i >= 0; i--) {
                const cJSON *cur = cJSON_GetArrayItem(dst, i);
                const cJSON *ck = cJSON_GetObjectItemCaseSensitive(cur, key);
                if (ck && cJSON_Compare(ck, kv, 1))
                    cJSON_DeleteItemFromArray(dst, i);
            }
            continue;
        }
        cJSON *match = NULL, *cur;
        cJSON_ArrayForEach(cur, dst)
        {
            const cJSON *ck = cJSON_GetObjectItemCaseSensitive(cur, key);
            if (cJSON_IsObject(cur) && ck && cJSON_Compare(ck, kv, 1)) {
                match = cur;
                break;
            }
        }
        int rc;
        if (match) {
            rc = smp_merge_map(s, match, e);
        } else {
            cJSON *n;
            rc = smp_fresh(s, e, &n);
            if (!rc)
                cJSON_AddItemToArray(dst, n);
        }
        if (rc)
            return rc;
    }
    return 0;
}

/* `$deleteFromPrimitiveList/<field>: [values]` removes those values from a list of scalars. */
static void smp_delete_primitives(cJSON *dst, const char *field, const cJSON *values)
{
    cJSON *list = cJSON_GetObjectItemCaseSensitive(dst, field);
    if (!cJSON_IsArray(list) || !cJSON_IsArray(values))
        return;
    for (int i = cJSON_GetArraySize(list) - 1; i >= 0; i--) {
        const cJSON *v;
        cJSON_ArrayForEach(v, values)
        {
            if (cJSON_Compare(cJSON_GetArrayItem(list, i), v, 1)) {
                cJSON_DeleteItemFromArray(list, i);
                break;
            }
        }
    }
}

/* `$retainKeys: [names]` drops every key of the result that is not listed. */
static int smp_retain_keys(struct smp *s, cJSON *dst, const cJSON *keys)
{
    if (!cJSON_IsArray(keys)) {
        idw_err_set(s->err, "$retainKeys must be a list of strings");
        return PATCH_HTTP_BAD;
    }
    cJSON *c = dst->child;
    while (c) {
        cJSON *next = c->next;
        bool keep = false;
        const cJSON *k;
        cJSON_ArrayForEach(k, keys) keep =
            keep || (cJSON_IsString(k) && str_eq(k->valuestring, c->string));
        if (!keep)
            cJSON_Delete(cJSON_DetachItemViaPointer(dst, c));
        c = next;
    }
    return 0;
}

static int smp_merge_map(struct smp *s, cJSON *dst, const cJSON *patch)
{
    enum smp_directive d = smp_directive_of(patch);
    if (d == SMP_BAD)
        return smp_bad_directive(s, patch);
    if (d == SMP_REPLACE || d == SMP_DELETE) {
        /* replace: the map becomes the patch; delete (at the top level): an empty map */
        while (dst->child)
            cJSON_Delete(cJSON_DetachItemViaPointer(dst, dst->child));
        if (d == SMP_DELETE)
            return 0;
    }
    const cJSON *p;
    cJSON_ArrayForEach(p, patch)
    {
        const char *k = p->string;
        if (strcmp(k, "$patch") == 0 || strcmp(k, "$retainKeys") == 0 ||
            str_has_prefix(k, "$setElementOrder/"))
            continue;
        if (str_has_prefix(k, "$deleteFromPrimitiveList/")) {
            smp_delete_primitives(dst, k + strlen("$deleteFromPrimitiveList/"), p);
            continue;
        }
        cJSON *cur = cJSON_GetObjectItemCaseSensitive(dst, k);
        int rc = 0;
        if (cJSON_IsNull(p)) {
            cJSON_DeleteItemFromObjectCaseSensitive(dst, k);
        } else if (cJSON_IsObject(p)) {
            enum smp_directive pd = smp_directive_of(p);
            if (pd == SMP_BAD)
                return smp_bad_directive(s, p);
            if (pd == SMP_DELETE) {
                cJSON_DeleteItemFromObjectCaseSensitive(dst, k);
            } else if (cur && cJSON_IsObject(cur)) {
                rc = smp_merge_map(s, cur, p);
            } else {
                cJSON *n;
                rc = smp_fresh(s, p, &n);
                if (!rc)
                    patch_obj_set(dst, k, n);
            }
        } else if (cJSON_IsArray(p) && patch_merge_key(s->kind, k)) {
            if (!cur || !cJSON_IsArray(cur)) {
                cur = cJSON_CreateArray();
                if (!cur)
                    abort();
                patch_obj_set(dst, k, cur);
            }
            rc = smp_merge_list(s, cur, p, patch_merge_key(s->kind, k));
        } else {
            patch_obj_set(dst, k, patch_dup(p)); /* scalars and replaced lists */
        }
        if (rc)
            return rc;
    }
    const cJSON *retain = cJSON_GetObjectItemCaseSensitive(patch, "$retainKeys");
    if (retain)
        return smp_retain_keys(s, dst, retain);
    return 0;
}

/* ---- RFC 6902 JSON patch ------------------------------------------------------------------------
 */

/* Decodes one reference token (RFC 6901: "~1" -> "/", then "~0" -> "~"). */
static char *jp_token(const char *s, size_t n)
{
    char *t = xmalloc(n + 1);
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '~' && i + 1 < n && (s[i + 1] == '0' || s[i + 1] == '1')) {
            t[o++] = s[i + 1] == '1' ? '/' : '~';
            i++;
        } else {
            t[o++] = s[i];
        }
    }
    t[o] = '\0';
    return t;
}

/* Array index per RFC 6901: "0" or [1-9][0-9]*; -1 when not an index. */
static long jp_index(const char *t)
{
    if (!*t || (t[0] == '0' && t[1]) || strlen(t) > 9)
        return -1;
    long v = 0;
    for (const char *c = t; *c; c++) {
        if (*c < '0' || *c > '9')
            return -1;
        v = v * 10 + (*c - '0');
    }
    return v;
}

/* Resolves all but the last token of path: *parent is the container, *last the decoded final
 * token (caller frees). Returns -1 when the parent does not exist or the path is malformed. */
static int jp_parent(cJSON *doc, const char *path, cJSON **parent, char **last)
{
    *parent = NULL;
    *last = NULL;
    if (path[0] != '/')
        return -1;
    cJSON *cur = doc;
    const char *p = path + 1;
    for (;;) {
        size_t n = strcspn(p, "/");
        char *tok = jp_token(p, n);
        if (p[n] == '\0') {
            *parent = cur;
            *last = tok;
            return 0;
        }
        cJSON *next = NULL;
        if (cJSON_IsObject(cur)) {
            next = cJSON_GetObjectItemCaseSensitive(cur, tok);
        } else if (cJSON_IsArray(cur)) {
            long i = jp_index(tok);
            next = i >= 0 && i < cJSON_GetArraySize(cur) ? cJSON_GetArrayItem(cur, (int)i) : NULL;
        }
        free(tok);
        if (!next || !(cJSON_IsObject(next) || cJSON_IsArray(next)))
            return -1;
        cur = next;
        p += n + 1;
    }
}

/* The value at path, or NULL. "" is the whole document. */
static cJSON *jp_get(cJSON *doc, const char *path)
{
    if (!*path)
        return doc;
    cJSON *parent;
    char *last;
    if (jp_parent(doc, path, &parent, &last) != 0)
        return NULL;
    cJSON *v = NULL;
    if (cJSON_IsObject(parent)) {
        v = cJSON_GetObjectItemCaseSensitive(parent, last);
    } else {
        long i = jp_index(last);
        v = i >= 0 && i < cJSON_GetArraySize(parent) ? cJSON_GetArrayItem(parent, (int)i) : NULL;
    }
    free(last);
    return v;
}

struct jp {
    cJSON *doc; /* the working copy; the root may be replaced */
    struct idw_err *err;
};

/* Paths come from the request: the finished message is sanitized as a whole. */
__attribute__((format(printf, 2, 3))) static int jp_fail(struct jp *j, const char *fmt, ...)
{
    char raw[IDW_ERR_MAX], clean[IDW_ERR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(raw, sizeof raw, fmt, ap);
    va_end(ap);
    idw_err_set(j->err, "%s", str_sanitize(clean, sizeof clean, raw));
    return PATCH_HTTP_INVALID;
}

/* cJSON_InsertItemInArray of the distribution's cJSON 1.7.15 refuses valid inserts, so the
 * tail is detached and appended again behind the new item. */
static void jp_array_insert(cJSON *arr, int at, cJSON *val)
{
    cJSON *tail = cJSON_CreateArray();
    if (!tail)
        abort();
    while (cJSON_GetArraySize(arr) > at)
        cJSON_AddItemToArray(tail, cJSON_DetachItemFromArray(arr, at));
    cJSON_AddItemToArray(arr, val);
    while (cJSON_GetArraySize(tail) > 0)
        cJSON_AddItemToArray(arr, cJSON_DetachItemFromArray(tail, 0));
    cJSON_Delete(tail);
}

/* Inserts val (taken) at path: object member set, array insert or "-" append. */
static int jp_add(struct jp *j, const char *path, cJSON *val, const char *opname)
{
    if (!*path) {
        cJSON_Delete(j->doc);
        j->doc = val;
        return 0;
    }
    cJSON *parent;
    char *last;
    if (jp_parent(j->doc, path, &parent, &last) != 0) {
        cJSON_Delete(val);
        return jp_fail(j,
                       "jsonpatch %s operation does not apply: doc is missing path: \"%.200s\": "
                       "missing value",
                       opname, path);
    }
    int rc = 0;
    if (cJSON_IsObject(parent)) {
        patch_obj_set(parent, last, val);
    } else {
        long n = cJSON_GetArraySize(parent);
        long i = strcmp(last, "-") == 0 ? n : jp_index(last);
        if (i < 0 || i > n) {
            cJSON_Delete(val);
            rc = jp_fail(j, "Unable to access invalid index: %s: invalid index referenced", last);
        } else if (i == n) {
            cJSON_AddItemToArray(parent, val);
        } else {
            jp_array_insert(parent, (int)i, val);
        }
    }
    free(last);
    return rc;
}

/* Detaches the value at path into *out (may be NULL to delete). */
static int jp_remove(struct jp *j, const char *path, cJSON **out, const char *what)
{
    cJSON *parent;
    char *last;
    if (!*path || jp_parent(j->doc, path, &parent, &last) != 0) {
        return jp_fail(j,
                       "jsonpatch %s operation does not apply: doc is missing path: \"%.200s\": "
                       "missing value",
                       what, path);
    }
    cJSON *v = NULL;
    int rc = 0;
    if (cJSON_IsObject(parent)) {
        v = cJSON_DetachItemFromObjectCaseSensitive(parent, last);
        if (!v)
            rc = jp_fail(j, "Unable to remove nonexistent key: %s: missing value", last);
    } else {
        long i = jp_index(last);
        if (i < 0 || i >= cJSON_GetArraySize(parent))
            rc = jp_fail(j, "Unable to remove invalid index: %s: invalid index referenced", last);
        else
            v = cJSON_DetachItemFromArray(parent, (int)i);
    }
    free(last);
    if (out)
        *out = v;
    else
        cJSON_Delete(v);
    return rc;
}

static int jp_apply_op(struct jp *j, const cJSON *op, int index)
{
    const cJSON *jop = cJSON_GetObjectItemCaseSensitive(op, "op");
    const cJSON *jpath = cJSON_GetObjectItemCaseSensitive(op, "path");
    const cJSON *jfrom = cJSON_GetObjectItemCaseSensitive(op, "from");
    const cJSON *jval = cJSON_GetObjectItemCaseSensitive(op, "value");
    if (!cJSON_IsObject(op) || !cJSON_IsString(jop)) {
        idw_err_set(j->err, "json patch operation %d: missing \"op\"", index);
        return PATCH_HTTP_BAD;
    }
    const char *name = jop->valuestring;
    if (!cJSON_IsString(jpath)) {
        char n[64];
        str_sanitize(n, sizeof n, name);
        idw_err_set(j->err, "json patch operation %d (%s): missing \"path\"", index, n);
        return PATCH_HTTP_BAD;
    }
    const char *path = jpath->valuestring;
    if (*path && *path != '/')
        return jp_fail(j, "invalid JSON pointer \"%s\": must start with '/'", path);
    bool needs_value =
        strcmp(name, "add") == 0 || strcmp(name, "replace") == 0 || strcmp(name, "test") == 0;
    if (needs_value && !jval) {
        char n[64];
        str_sanitize(n, sizeof n, name);
        idw_err_set(j->err, "json patch operation %d (%s): missing \"value\"", index, n);
        return PATCH_HTTP_BAD;
    }
    bool needs_from = strcmp(name, "move") == 0 || strcmp(name, "copy") == 0;
    if (needs_from &&
        (!cJSON_IsString(jfrom) || (*jfrom->valuestring && *jfrom->valuestring != '/'))) {
        char n[64];
        str_sanitize(n, sizeof n, name);
        idw_err_set(j->err, "json patch operation %d (%s): missing or invalid \"from\"", index, n);
        return PATCH_HTTP_BAD;
    }

    if (strcmp(name, "add") == 0)
        return jp_add(j, path, patch_dup(jval), "add");
    if (strcmp(name, "remove") == 0)
        return jp_remove(j, path, NULL, "remove");
    if (strcmp(name, "replace") == 0) {
        if (!jp_get(j->doc, path))
            return jp_fail(j,
                           "jsonpatch replace operation does not apply: doc is missing key: %s: "
                           "missing value",
                           path);
        if (!*path)
            return jp_add(j, path, patch_dup(jval), "replace");
        int rc = jp_remove(j, path, NULL, "replace");
        return rc ? rc : jp_add(j, path, patch_dup(jval), "replace");
    }
    if (strcmp(name, "test") == 0) {
        const cJSON *cur = jp_get(j->doc, path);
        if (!cur || !cJSON_Compare(cur, jval, 1))
            return jp_fail(j, "testing value %s failed: test failed", path);
        return 0;
    }
    const char *from = needs_from ? jfrom->valuestring : "";
    if (strcmp(name, "copy") == 0) {
        const cJSON *src = jp_get(j->doc, from);
        if (!src)
            return jp_fail(j,
                           "jsonpatch copy operation does not apply: doc is missing from path: %s: "
                           "missing value",
                           from);
        return jp_add(j, path, patch_dup(src), "copy");
    }
    if (strcmp(name, "move") == 0) {
        size_t fl = strlen(from);
        if (strncmp(path, from, fl) == 0 && path[fl] == '/')
            return jp_fail(j,
                           "jsonpatch move operation does not apply: from %s is a prefix of "
                           "the destination path",
                           from);
        if (strcmp(path, from) == 0)
            return jp_get(j->doc, from)
                       ? 0
                       : jp_fail(j,
                                 "jsonpatch move operation does not apply: doc is missing from "
                                 "path: %s: missing value",
                                 from);
        if (!jp_get(j->doc, from) || !*from)
            return jp_fail(j,
                           "jsonpatch move operation does not apply: doc is missing from path: "
                           "%s: missing value",
                           from);
        cJSON *v;
        int rc = jp_remove(j, from, &v, "move");
        return rc ? rc : jp_add(j, path, v, "move");
    }
    return jp_fail(j, "Unexpected kind: %s", name);
}

static int jp_apply(const cJSON *target, const cJSON *patch, cJSON **result, struct idw_err *err)
{
    if (!cJSON_IsArray(patch)) {
        idw_err_set(err, "json: cannot unmarshal %s into Go value of type jsonpatch.Patch",
                    cJSON_IsObject(patch) ? "object" : "value");
        return PATCH_HTTP_BAD;
    }
    struct jp j = {.doc = patch_dup(target), .err = err};
    const cJSON *op;
    int i = 0;
    cJSON_ArrayForEach(op, patch)
    {
        int rc = jp_apply_op(&j, op, i++);
        if (rc) {
            cJSON_Delete(j.doc);
            return rc;
        }
    }
    *result = j.doc;
    return 0;
}

/* ---- entry point ------------------------------------------------------------------------------
 */

int patch_apply(enum patch_type type, const cJSON *target, const cJSON *patch, const char *kind,
                cJSON **result, struct idw_err *err)
{
    *result = NULL;
    if (!target || !patch) {
        idw_err_set(err, "missing patch body");
        return PATCH_HTTP_BAD;
    }
    if (type == PATCH_JSON)
        return jp_apply(target, patch, result, err);
    if (type == PATCH_STRATEGIC && patch_is_custom_kind(kind)) {
        idw_err_set(err, "the body of the request was in an unknown format - accepted media types "
                         "include: application/json-patch+json, application/merge-patch+json, "
                         "application/apply-patch+yaml");
        return PATCH_HTTP_UNSUPPORTED;
    }
    if (!cJSON_IsObject(patch)) {
        idw_err_set(err, "json: cannot unmarshal %s into Go value of type map[string]interface {}",
                    cJSON_IsArray(patch) ? "array" : "value");
        return PATCH_HTTP_BAD;
    }
    cJSON *doc = cJSON_IsObject(target) ? patch_dup(target) : patch_new_object();
    if (type == PATCH_MERGE) {
        merge_object(doc, patch);
    } else {
        struct smp s = {.kind = kind, .err = err};
        int rc = smp_merge_map(&s, doc, patch);
        if (rc) {
            cJSON_Delete(doc);
            return rc;
        }
    }
    *result = doc;
    return 0;
}
