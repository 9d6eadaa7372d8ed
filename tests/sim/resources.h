/* resources: the static table of what the simulated API server serves (sim_resource_* in
 * simstate.h) plus the subresources that discovery lists. */
#ifndef IDWSIM_RESOURCES_H
#define IDWSIM_RESOURCES_H

#include <stddef.h>

#include "simstate.h"

struct sim_subresource {
    const char *group; /* of the parent resource */
    const char *version;
    const char *name;         /* "pods/log" */
    const char *kind;         /* "Pod", "Scale" */
    const char *kind_group;   /* group of kind when it differs ("autoscaling"), else NULL */
    const char *kind_version; /* its version, else NULL */
    const char *verbs;
};

size_t sim_subresource_count(void);
const struct sim_subresource *sim_subresource_at(size_t i);
/* The subresource `sub` of resource r, NULL when not listed. */
const struct sim_subresource *sim_subresource_find(const struct sim_resource *r, const char *sub);

/* Served group versions in discovery order (core "" first), deduplicated from the table. */
size_t sim_group_count(void);
const char *sim_group_at(size_t i); /* group name ("" = core) */

#endif
