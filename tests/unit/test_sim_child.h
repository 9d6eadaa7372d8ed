/* Starts idwatch-sim (built next to the test binaries' directory) as a child process for the
 * tests that pair a real client with it. Header-only: included by those tests alone. */
#ifndef IDW_TEST_SIM_CHILD_H
#define IDW_TEST_SIM_CHILD_H

#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* Starts `idwatch-sim --scenario demo [extra...]` with state dir /tmp/<tag>-<pid> and waits for
 * READY. Returns 0 (pid, dir and port filled), 1 when the simulator is not built (tests skip), or
 * -1. extra is NULL-terminated (may be NULL). */
static inline int sim_child_start_args(const char *tag, pid_t *pid, char *dir, size_t dir_len,
                                unsigned *port, const char *const *extra)
{
    char exe[PATH_MAX], sim[PATH_MAX + 32];
    *pid = -1;
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return 1;
    exe[n] = '\0';
    snprintf(sim, sizeof sim, "%s/../idwatch-sim", dirname(exe));
    if (access(sim, X_OK) != 0)
        return 1;
    snprintf(dir, dir_len, "/tmp/%s-%d", tag, (int)getpid());
    int p[2];
    if (pipe(p) < 0)
        return -1;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, p[1], 1);
    posix_spawn_file_actions_addclose(&fa, p[0]);
    char *argv[24] = {sim, "--scenario", "demo", "--state-dir", dir, "--listen", "127.0.0.1:0"};
    size_t na = 7;
    for (size_t i = 0; extra && extra[i] && na + 1 < sizeof argv / sizeof *argv; i++)
        argv[na++] = (char *)extra[i];
    argv[na] = NULL;
    int rc = posix_spawn(pid, sim, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(p[1]);
    if (rc != 0) {
        close(p[0]);
        *pid = -1;
        return -1;
    }
    char line[64] = "";
    size_t o = 0;
    while (o + 1 < sizeof line && read(p[0], line + o, 1) == 1 && line[o] != '\n')
        o++;
    line[o] = '\0';
    close(p[0]);
    if (sscanf(line, "READY %u", port) != 1) {
        fprintf(stderr, "idwatch-sim did not start: '%s'\n", line);
        return -1;
    }
    return 0;
}

static inline int sim_child_start(const char *tag, pid_t *pid, char *dir, size_t dir_len,
                                  unsigned *port)
{
    return sim_child_start_args(tag, pid, dir, dir_len, port, NULL);
}

#endif
