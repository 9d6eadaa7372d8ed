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
    const char *cluster; /* the AKS cluster's name (ARM) */
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

/* ---- evidence (sources.c) ---- */

/* The store has data sources (a live cluster); a store without any is a snapshot, complete. */
bool evidence_live(const struct store *s);
/* Whether source `name` may back a verdict: synced (or its API group is not served), not partial;
 * stale data too unless strict. Otherwise false with why ("forbidden: list pods (...)"). */
bool evidence_source(const struct store *s, const char *name, bool strict, char *why, size_t n);
/* Same over a NULL-terminated list; why names the first that is not. */
bool evidence_sources(const struct store *s, const char *const *names, bool strict, char *why,
                      size_t n);

/* How much of one NMI pod's log was read. */
struct nmi_cov {
    char *ns, *pod;
    const char *node; /* the NMI pod's node (store-owned), NULL when unknown */
    bool read;        /* from..to is known */
    int64_t from, to; /* the log is complete over [from, to] (epoch seconds) */
    char *why;        /* why it is not complete now ("is stale (...)"), NULL when it is */
};
size_t evidence_nmi_logs(const struct store *s, int64_t now, struct nmi_cov **out);
void evidence_nmi_logs_free(struct nmi_cov *v, size_t n);
/* The log covers [from, to] (with a few seconds of slack). */
bool evidence_cov_covers(const struct nmi_cov *c, int64_t from, int64_t to);
/* One phrase about what the log lacks: "covers only the last 20m of the window". */
void evidence_cov_gap(const struct nmi_cov *c, int64_t window_start, char *out, size_t n);

#endif
