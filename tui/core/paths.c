/* core/paths: the install layout, relative to the running executable (see paths.h). */
#include "idwatch/paths.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "idwatch/core.h"

/* Set by CMake from the install directories, so a relocated prefix still works. */
#ifndef IDWATCH_BIN_TO_DATA
#define IDWATCH_BIN_TO_DATA "../share"
#endif
#ifndef IDWATCH_BIN_TO_LIBEXEC
#define IDWATCH_BIN_TO_LIBEXEC "../libexec"
#endif
#ifndef IDWATCH_SHARE_DIR
#define IDWATCH_SHARE_DIR "/usr/local/share/idwatch"
#endif

int path_self_dir(char *out, size_t n)
{
    char self[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n > 0)
        out[0] = '\0';
    if (len <= 0 || n == 0)
        return -1;
    self[len] = '\0';
    char *slash = strrchr(self, '/');
    if (!slash)
        return -1;
    *slash = '\0';
    if (strlen(self) + 1 > n)
        return -1;
    memcpy(out, self, strlen(self) + 1);
    return 0;
}

static void add_dir(char ***dirs, size_t *n, size_t *cap, char *dir)
{
    for (size_t i = 0; i < *n; i++) {
        if (strcmp((*dirs)[i], dir) == 0) {
            free(dir);
            return;
        }
    }
    void *p = *dirs;
    xgrow(&p, cap, *n + 1, sizeof **dirs);
    *dirs = p;
    (*dirs)[(*n)++] = dir;
}

size_t path_data_dirs(char ***dirs)
{
    size_t n = 0, cap = 0;
    *dirs = NULL;
    char self[PATH_MAX];
    if (path_self_dir(self, sizeof self) == 0) {
        char *d = xasprintf("%s/%s/idwatch", self, IDWATCH_BIN_TO_DATA);
        char real[PATH_MAX];
        if (realpath(d, real)) { /* shown to users: /opt/x/share/idwatch, not /opt/x/bin/../ */
            free(d);
            d = xstrdup(real);
        }
        add_dir(dirs, &n, &cap, d);
    }
    const char *home = getenv("HOME");
    const char *data_home = getenv("XDG_DATA_HOME");
    if (!str_empty(data_home) && data_home[0] == '/')
        add_dir(dirs, &n, &cap, xasprintf("%s/idwatch", data_home));
    else if (!str_empty(home))
        add_dir(dirs, &n, &cap, xasprintf("%s/.local/share/idwatch", home));
    const char *data_dirs = getenv("XDG_DATA_DIRS");
    if (str_empty(data_dirs))
        data_dirs = "/usr/local/share:/usr/share";
    char *copy = xstrdup(data_dirs);
    char *save = NULL;
    for (char *d = strtok_r(copy, ":", &save); d; d = strtok_r(NULL, ":", &save))
        if (d[0] == '/')
            add_dir(dirs, &n, &cap, xasprintf("%s/idwatch", d));
    free(copy);
    add_dir(dirs, &n, &cap, xstrdup(IDWATCH_SHARE_DIR));
    return n;
}

void path_list_free(char **list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(list[i]);
    free(list);
}

char *path_find_data(const char *rel)
{
    char **dirs;
    size_t n = path_data_dirs(&dirs);
    char *found = NULL;
    for (size_t i = 0; i < n && !found; i++) {
        char *p = xasprintf("%s/%s", dirs[i], rel);
        if (access(p, F_OK) == 0)
            found = p;
        else
            free(p);
    }
    path_list_free(dirs, n);
    return found;
}

char *path_find_libexec(const char *name)
{
    char self[PATH_MAX];
    if (path_self_dir(self, sizeof self) != 0)
        return NULL;
    char *p = xasprintf("%s/%s/idwatch/%s", self, IDWATCH_BIN_TO_LIBEXEC, name);
    struct stat st;
    if (stat(p, &st) == 0 && S_ISREG(st.st_mode) && access(p, X_OK) == 0)
        return p;
    free(p);
    return NULL;
}
