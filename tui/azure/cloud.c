/* The sovereign clouds table (reference azure-arm.md §7). */
#include <string.h>
#include <strings.h>

#include "idwatch/azure.h"

static const struct azure_cloud clouds[] = {
#define X(id, name, authority, arm, graph) {name, authority, arm, graph},
    AZURE_CLOUDS(X)
#undef X
};

/* Other spellings seen in the wild (kubelogin, az cloud list), mapped to the table's index. */
static const struct {
    const char *alias;
    size_t index;
} aliases[] = {
    {"public", 0}, {"AzureCloud", 0},      {"usgov", 1}, {"AzureUSGovernmentCloud", 1},
    {"china", 2},  {"AzureChinaCloud", 2},
};

const struct azure_cloud *azure_cloud_find(const char *name)
{
    if (str_empty(name))
        return &clouds[0];
    for (size_t i = 0; i < sizeof clouds / sizeof clouds[0]; i++)
        if (strcasecmp(clouds[i].name, name) == 0)
            return &clouds[i];
    for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++)
        if (strcasecmp(aliases[i].alias, name) == 0)
            return &clouds[aliases[i].index];
    return NULL;
}
