/* Private to the check layer: the finding builder shared by check.c and tables.c. */
#ifndef IDWATCH_CHECK_INT_H
#define IDWATCH_CHECK_INT_H

#include "idwatch/check.h"

/* Values for the ${var} placeholders of a finding's templates. NULL expands to "<var>". */
struct fvars {
    int wkind; /* enum model_workload_kind of the subject, or -1 for cluster findings */
    const char *kind;
    const char *res;
    const char *ns;
    const char *name;
    const char *sa;
    const char *value;
    const char *client_id;
    const char *identity;
    const char *id_name;
    const char *rg;
    const char *issuer;
    const char *fic;
    const char *pod;
    const char *container;
    const char *detail;
    const char *patch;
    const char *window;
    long count;
    long total;
};

struct finding_list {
    struct check_finding *items;
    size_t n;
    size_t cap;
};

/* Appends a finding of `code`, its message and remedy expanded from v. evidence may be NULL. */
void finding_add(struct finding_list *l, enum check_code code, const struct fvars *v,
                 const char *evidence);
void finding_free(struct check_finding *f);

/* Lower-case singular resource for kubectl ("deployment"). */
const char *check_kind_res(enum model_workload_kind k);

#endif
