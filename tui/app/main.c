/* Temporary entry point until the app layer lands. */
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--version") == 0) {
        printf("idwatch %s\n", IDWATCH_VERSION);
        return 0;
    }
    fprintf(stderr, "idwatch: not implemented yet\n");
    return 2;
}
