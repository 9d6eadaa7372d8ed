/* --demo: start idwatch-sim as a child process and connect to it like to any cluster. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "idwatch/app.h"
#include "idwatch/paths.h"

/* idwatch-sim next to our own binary (the build dir), in the install's libexec/idwatch (then
 * *installed is set), else on PATH. */
static int find_sim(const char *argv0, char *out, size_t n, bool *installed)
{
    *installed = false;
    char self[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
    if (len > 0) {
        self[len] = '\0';
        char *slash = strrchr(self, '/');
        if (slash) {
            *slash = '\0';
            snprintf(out, n, "%s/idwatch-sim", self);
            if (access(out, X_OK) == 0)
                return 0;
        }
    }
    char *lib = path_find_libexec("idwatch-sim");
    if (lib) {
        snprintf(out, n, "%s", lib);
        free(lib);
        *installed = true;
        return 0;
    }
    if (argv0 && strchr(argv0, '/')) {
        char dir[PATH_MAX];
        snprintf(dir, sizeof dir, "%s", argv0);
        char *slash = strrchr(dir, '/');
        *slash = '\0';
        snprintf(out, n, "%s/idwatch-sim", dir);
        if (access(out, X_OK) == 0)
            return 0;
    }
    const char *path = getenv("PATH");
    if (!path)
        return -1;
    char *copy = xstrdup(path);
    char *save = NULL;
    for (char *d = strtok_r(copy, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
        snprintf(out, n, "%s/idwatch-sim", d);
        if (access(out, X_OK) == 0) {
            free(copy);
            return 0;
        }
    }
    free(copy);
    return -1;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* The state dir holds only files the simulator wrote (kubeconfig, certificates, env, log). */
static void remove_tree(const char *dir)
{
    if (strncmp(dir, "/tmp/idwatch-demo.", 18) != 0)
        return;
    nftw(dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
}

int app_sim_start(const char *argv0, const char *scenario, double speed, struct app_sim *sim,
                  struct idw_err *err)
{
    memset(sim, 0, sizeof *sim);
    sim->pid = -1;
    char exe[PATH_MAX];
    bool installed;
    if (find_sim(argv0, exe, sizeof exe, &installed) != 0)
        return idw_err_set(err, "--demo: idwatch-sim not found next to idwatch, in its libexec "
                                "directory or on PATH");
    /* An installed simulator reads the installed scenarios, not those of a source tree. */
    char *scenarios = installed ? path_find_data("scenarios") : NULL;
    snprintf(sim->state_dir, sizeof sim->state_dir, "/tmp/idwatch-demo.XXXXXX");
    if (!mkdtemp(sim->state_dir))
        return idw_err_set(err, "--demo: cannot create a state directory: %s", strerror(errno));
    snprintf(sim->kubeconfig, sizeof sim->kubeconfig, "%s/kubeconfig", sim->state_dir);

    int pipefd[2];
    if (pipe(pipefd) != 0) {
        free(scenarios);
        remove_tree(sim->state_dir);
        return idw_err_set(err, "--demo: pipe: %s", strerror(errno));
    }
    char speed_s[32];
    snprintf(speed_s, sizeof speed_s, "%g", speed);
    char log_path[PATH_MAX];
    snprintf(log_path, sizeof log_path, "%s/sim.log", sim->state_dir);

    pid_t pid = fork();
    if (pid < 0) {
        free(scenarios);
        close(pipefd[0]);
        close(pipefd[1]);
        remove_tree(sim->state_dir);
        return idw_err_set(err, "--demo: fork: %s", strerror(errno));
    }
    if (pid == 0) {
        /* Child: stdout to the pipe (READY line), stderr to a log file, no terminal input. */
        int devnull = open("/dev/null", O_RDONLY);
        int logfd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (devnull >= 0)
            dup2(devnull, STDIN_FILENO);
        dup2(pipefd[1], STDOUT_FILENO);
        if (logfd >= 0)
            dup2(logfd, STDERR_FILENO);
        close(pipefd[0]);
        close(pipefd[1]);
        setpgid(0, 0); /* keep terminal signals (Ctrl-C) for idwatch to handle */
        char *args[] = {
            exe,        "--scenario",  (char *)scenario, "--state-dir", sim->state_dir,
            "--listen", "127.0.0.1:0", "--speed",        speed_s,       "--scenarios-dir",
            scenarios,  NULL};
        if (!scenarios)
            args[9] = NULL;
        execv(exe, args);
        _exit(127);
    }
    free(scenarios);
    close(pipefd[1]);
    sim->pid = pid;

    /* Wait for "READY <port>" (a large generated scenario can take several seconds). */
    char line[256];
    size_t used = 0;
    int64_t deadline = time_now_ms() + 60000;
    for (;;) {
        int64_t left = deadline - time_now_ms();
        if (left <= 0) {
            close(pipefd[0]);
            app_sim_stop(sim);
            return idw_err_set(err, "--demo: idwatch-sim did not become ready within 60 s");
        }
        struct pollfd p = {.fd = pipefd[0], .events = POLLIN};
        int r = poll(&p, 1, (int)left);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            continue;
        ssize_t got = read(pipefd[0], line + used, sizeof line - 1 - used);
        if (got <= 0) {
            close(pipefd[0]);
            char logtext[200] = "";
            FILE *f = fopen(log_path, "r");
            if (f) {
                if (!fgets(logtext, sizeof logtext, f))
                    logtext[0] = '\0';
                fclose(f);
                logtext[strcspn(logtext, "\n")] = '\0';
            }
            app_sim_stop(sim);
            return idw_err_set(err, "--demo: idwatch-sim exited before it was ready%s%s",
                               logtext[0] ? ": " : "", logtext);
        }
        used += (size_t)got;
        line[used] = '\0';
        char *nl = strchr(line, '\n');
        if (nl) {
            int port = 0;
            if (sscanf(line, "READY %d", &port) == 1 && port > 0 && port < 65536) {
                sim->port = port;
                break;
            }
            close(pipefd[0]);
            app_sim_stop(sim);
            return idw_err_set(err, "--demo: unexpected output from idwatch-sim");
        }
        if (used >= sizeof line - 1) {
            close(pipefd[0]);
            app_sim_stop(sim);
            return idw_err_set(err, "--demo: unexpected output from idwatch-sim");
        }
    }
    close(pipefd[0]);
    return 0;
}

void app_sim_stop(struct app_sim *sim)
{
    if (sim->pid > 0) {
        kill(sim->pid, SIGTERM);
        int status;
        int64_t deadline = time_now_ms() + 3000;
        while (waitpid(sim->pid, &status, WNOHANG) == 0) {
            if (time_now_ms() > deadline) {
                kill(sim->pid, SIGKILL);
                waitpid(sim->pid, &status, 0);
                break;
            }
            usleep(20000);
        }
        sim->pid = -1;
    }
    if (sim->state_dir[0]) {
        remove_tree(sim->state_dir);
        sim->state_dir[0] = '\0';
    }
}
