/* actions/log: the append-only action log, one fsync'd JSON line per write sent. */
#include "idwatch/actions.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

char *act_log_default_path(void)
{
    const char *xdg = getenv("XDG_STATE_HOME");
    if (!str_empty(xdg) && xdg[0] == '/') /* the XDG spec ignores relative paths */
        return xasprintf("%s/idwatch/actions.log", xdg);
    const char *home = getenv("HOME");
    if (str_empty(home))
        return NULL;
    return xasprintf("%s/.local/state/idwatch/actions.log", home);
}

/* mkdir -p of the directory part of path, new directories 0700. */
static int mkdirs_for(const char *path, struct idw_err *err)
{
    char *dir = xstrdup(path);
    char *slash = strrchr(dir, '/');
    if (!slash || slash == dir) {
        free(dir);
        return 0;
    }
    *slash = '\0';
    for (char *p = dir + 1;; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char c = *p;
        *p = '\0';
        if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
            idw_err_set(err, "cannot create %s: %s", dir, strerror(errno));
            free(dir);
            return -1;
        }
        *p = c;
        if (c == '\0')
            break;
    }
    free(dir);
    return 0;
}

static void add_str(cJSON *o, const char *k, const char *v)
{
    if (!v) {
        cJSON_AddNullToObject(o, k);
        return;
    }
    char clean[2048];
    cJSON_AddStringToObject(o, k, str_sanitize(clean, sizeof clean, v));
}

static cJSON *change_json(const struct act_change *c)
{
    cJSON *ch = cJSON_CreateObject();
    /* the action's default key names it (stable across rebindings) */
    char key[16];
    action_default_key(c->kind, key);
    cJSON_AddStringToObject(ch, "key", key);
    if (c->kind == ACTION_UNDO) {
        action_default_key(c->undo_of, key);
        cJSON_AddStringToObject(ch, "undo_of", key);
    }
    if (c->target == ACT_TARGET_ARM) {
        cJSON_AddStringToObject(ch, "method", "PUT");
        add_str(ch, "identity", c->identity_arm_id);
        add_str(ch, "name", c->fic_name);
        add_str(ch, "issuer", c->issuer);
        add_str(ch, "subject", c->subject);
        add_str(ch, "audience", c->audience);
        return ch;
    }
    static const char *const types[] = {
#define X(id, ct) ct,
        KUBE_PATCH_TYPES(X)
#undef X
    };
    cJSON_AddStringToObject(ch, "method", "PATCH");
    add_str(ch, "path", c->path);
    add_str(ch, "content_type", types[c->patch_type]);
    cJSON *body = c->body ? cJSON_Parse(c->body) : NULL;
    if (body)
        cJSON_AddItemToObject(ch, "body", body);
    else
        add_str(ch, "body", c->body);
    return ch;
}

int act_log_append(const char *path, const struct act_log_entry *e, struct idw_err *err)
{
    if (str_empty(path))
        return idw_err_set(err, "no action log path (set XDG_STATE_HOME or HOME)");
    if (mkdirs_for(path, err) != 0)
        return -1;
    cJSON *o = cJSON_CreateObject();
    char ts[32];
    time_format_rfc3339(e->time, ts);
    cJSON_AddStringToObject(o, "time", ts);
    add_str(o, "context", e->context);
    add_str(o, "user", e->user);
    add_str(o, "object", e->change ? e->change->object : NULL);
    if (e->change)
        cJSON_AddItemToObject(o, "change", change_json(e->change));
    add_str(o, "result", e->result);
    char *line = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    size_t len = strlen(line);
    line[len] = '\n'; /* replaces the NUL: write exactly len + 1 bytes */
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    int rc = 0;
    if (fd < 0) {
        rc = idw_err_set(err, "cannot open %s: %s", path, strerror(errno));
    } else {
        if (fchmod(fd, 0600) != 0)
            rc = idw_err_set(err, "cannot make %s private: %s", path, strerror(errno));
        size_t off = 0;
        while (rc == 0 && off < len + 1) {
            ssize_t w = write(fd, line + off, len + 1 - off);
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0)
                rc = idw_err_set(err, "cannot write %s: %s", path, strerror(errno));
            else
                off += (size_t)w;
        }
        if (rc == 0 && fsync(fd) != 0)
            rc = idw_err_set(err, "cannot sync %s: %s", path, strerror(errno));
        close(fd);
    }
    cJSON_free(line);
    return rc;
}
