/* action: the rows of ACTION_TABLE as data. */
#include "idwatch/action.h"

#include <stdio.h>
#include <string.h>

static const struct action_info infos[ACTION__COUNT] = {
#define X(id_, keys_, hint_, name_, help_, group_, mutates_, remedy_)                              \
    [ACTION_##id_] = {#id_, keys_, hint_, name_, help_, ACTION_GROUP_##group_, mutates_, remedy_},
    ACTION_TABLE(X)
#undef X
};

static const char *const group_titles[ACTION_GROUP__COUNT] = {
#define X(id, title) title,
    ACTION_GROUPS(X)
#undef X
};

const struct action_info *action_info(enum action_id a)
{
    return a > ACTION_NONE && a < ACTION__COUNT ? &infos[a] : NULL;
}

const char *action_group_title(enum action_group g)
{
    return (unsigned)g < ACTION_GROUP__COUNT ? group_titles[g] : "?";
}

int action_parse(const char *id, enum action_id *out)
{
    for (int a = ACTION_NONE + 1; id && a < ACTION__COUNT; a++) {
        if (strcmp(infos[a].id, id) == 0) {
            *out = (enum action_id)a;
            return 0;
        }
    }
    return -1;
}

void action_default_key(enum action_id a, char out[16])
{
    const struct action_info *in = action_info(a);
    const char *k = in ? in->keys : "";
    size_t n = strcspn(k, " ");
    snprintf(out, 16, "%.*s", (int)(n < 15 ? n : 15), k);
}

bool action_allowed(enum action_id a, bool read_only, const char **why)
{
    const struct action_info *in = action_info(a);
    if (in && in->mutates && read_only) {
        if (why)
            *why = ACTION_READ_ONLY_WHY;
        return false;
    }
    return true;
}
