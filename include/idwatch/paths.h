/* paths: where the installed program finds its own files. An install works from any prefix, also
 * after the prefix directory was moved: data files are looked for relative to the running
 * executable first (/proc/self/exe, so a symlink such as kubectl-idwatch leads to the real
 * binary), then in the XDG data directories, then at the prefix fixed at build time. */
#ifndef IDWATCH_PATHS_H
#define IDWATCH_PATHS_H

#include <stddef.h>

/* The directory of the running executable, symlinks resolved. Returns 0, or -1 (out is "") when
 * /proc/self/exe cannot be read or the path does not fit. */
int path_self_dir(char *out, size_t n);

/* The directories that may hold idwatch's data files (themes/, scenarios/), in search order:
 * <exe dir>/<bin-to-share>/idwatch, $XDG_DATA_HOME/idwatch (else ~/.local/share/idwatch), each
 * $XDG_DATA_DIRS entry + /idwatch (else /usr/local/share and /usr/share), the compile-time share
 * directory. Relative XDG entries are ignored (the XDG spec says so); duplicates are dropped.
 * Returns the count; *dirs and each entry are xmalloc'd (path_list_free). */
size_t path_data_dirs(char ***dirs);
void path_list_free(char **list, size_t n);

/* The first <dir>/<rel> over path_data_dirs() that exists, xmalloc'd; NULL when none. */
char *path_find_data(const char *rel);

/* <exe dir>/<bin-to-libexec>/idwatch/<name> when that file is executable (the install layout),
 * xmalloc'd; NULL otherwise. */
char *path_find_libexec(const char *name);

#endif
