/* paths: where an installed idwatch finds its data, relative to its own executable first. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "idwatch/core.h"
#include "idwatch/paths.h"

static void test_self_dir(void **state)
{
    (void)state;
    char dir[4096];
    assert_int_equal(path_self_dir(dir, sizeof dir), 0);
    assert_true(dir[0] == '/');
    char exe[4200];
    snprintf(exe, sizeof exe, "%s/test_core_paths", dir);
    assert_int_equal(access(exe, X_OK), 0);
    char tiny[4];
    assert_int_equal(path_self_dir(tiny, sizeof tiny), -1);
    assert_string_equal(tiny, "");
}

static void test_order(void **state)
{
    (void)state;
    setenv("XDG_DATA_HOME", "/xdg/data", 1);
    setenv("XDG_DATA_DIRS", "/a:relative:/b:/a", 1);
    char **dirs;
    size_t n = path_data_dirs(&dirs);
    for (size_t i = 0; i < n; i++)
        printf("dir %zu: %s\n", i, dirs[i]);
    /* the executable's own share dir, XDG_DATA_HOME, XDG_DATA_DIRS (relative and repeated ones
     * dropped), the compile-time prefix */
    assert_int_equal(n, 5);
    assert_true(str_has_suffix(dirs[0], "/idwatch"));
    char self[4096];
    assert_int_equal(path_self_dir(self, sizeof self), 0);
    assert_true(strncmp(dirs[0], self, strlen(self)) == 0 || access(dirs[0], F_OK) == 0);
    assert_string_equal(dirs[1], "/xdg/data/idwatch");
    assert_string_equal(dirs[2], "/a/idwatch");
    assert_string_equal(dirs[3], "/b/idwatch");
    assert_string_equal(dirs[4], IDWATCH_SHARE_DIR);
    path_list_free(dirs, n);

    /* defaults: ~/.local/share, then /usr/local/share:/usr/share */
    unsetenv("XDG_DATA_HOME");
    unsetenv("XDG_DATA_DIRS");
    setenv("HOME", "/home/u", 1);
    n = path_data_dirs(&dirs);
    assert_true(n >= 4);
    assert_string_equal(dirs[1], "/home/u/.local/share/idwatch");
    assert_string_equal(dirs[2], "/usr/local/share/idwatch");
    assert_string_equal(dirs[3], "/usr/share/idwatch");
    path_list_free(dirs, n);
}

static void test_find(void **state)
{
    (void)state;
    char tmp[] = "/tmp/idw-paths.XXXXXX";
    assert_non_null(mkdtemp(tmp));
    char dir[64], file[96];
    snprintf(dir, sizeof dir, "%s/idwatch", tmp);
    mkdir(dir, 0700);
    snprintf(dir, sizeof dir, "%s/idwatch/themes", tmp);
    mkdir(dir, 0700);
    snprintf(file, sizeof file, "%s/x.theme", dir);
    FILE *f = fopen(file, "w");
    assert_non_null(f);
    fclose(f);
    setenv("XDG_DATA_HOME", "/nonexistent", 1);
    char dirs_env[80];
    snprintf(dirs_env, sizeof dirs_env, "/nonexistent2:%s", tmp);
    setenv("XDG_DATA_DIRS", dirs_env, 1);
    char *found = path_find_data("themes/x.theme");
    assert_non_null(found);
    assert_string_equal(found, file);
    free(found);
    assert_null(path_find_data("themes/none.theme"));
    /* the test binary is not in an install tree */
    assert_null(path_find_libexec("idwatch-sim"));
    remove(file);
    rmdir(dir);
    snprintf(dir, sizeof dir, "%s/idwatch", tmp);
    rmdir(dir);
    rmdir(tmp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_self_dir),
        cmocka_unit_test(test_order),
        cmocka_unit_test(test_find),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
