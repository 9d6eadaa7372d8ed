/* fleet: many clusters at once. Chooses the contexts (--all-contexts, --context lists and globs),
 * runs one session per cluster on the one net loop with bounded concurrency, keeps one summary
 * row per cluster (the fleet model: what the fleet report's summary and the fleet screen show),
 * and composes the fleet report (idwatch.fleet/v1, docs/fleet-schema.md) from the per-cluster
 * reports' output without looking inside them.
 */
#ifndef IDWATCH_FLEET_H
#define IDWATCH_FLEET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "idwatch/app.h"
#include "idwatch/check.h"
#include "idwatch/core.h"
#include "idwatch/report.h"

struct kubeconfig;

/* ---- the model: one row per cluster -------------------------------------------------------- */

#define FLEET_STATES(X)                                                                            \
    X(QUEUED, "queued")   /* waiting for a free slot (--parallel) */                               \
    X(LOADING, "loading") /* its session runs */                                                   \
    X(DONE, "done")       /* audited: the check results are in the row */                          \
    X(FAILED, "failed")   /* could not be audited: error says why */

enum fleet_state {
#define X(id, name) FLEET_##id,
    FLEET_STATES(X)
#undef X
        FLEET__COUNT
};
const char *fleet_state_name(enum fleet_state s);

struct fleet_row {
    char *context;
    char *server; /* API server URL, NULL until the context is resolved */
    enum fleet_state state;
    enum check_oidc oidc;
    enum check_webhook webhook;
    enum check_podid pod_identity;
    int workloads; /* listed workloads (the scope's) */
    int wi, pi, both, none;
    double percent_migrated;
    int errors; /* error findings: the report's exit code rule */
    int warnings;
    bool removable;   /* pod_identity_removal.safe */
    int64_t data_age; /* seconds since the oldest source last succeeded; -1 unknown */
    char *error;      /* one line, FAILED only */
    int exit_code;    /* what `idwatch report` on this cluster alone exits with */
};

/* Fills the verdict columns of row (not context/server/state/error/exit_code) from a cluster's
 * check results. */
void fleet_row_fill(struct fleet_row *row, const struct check_result *r);
void fleet_row_clear(struct fleet_row *row);

struct fleet_summary {
    size_t clusters;
    size_t failed; /* FAILED rows (queued and loading ones count in no column) */
    int workloads;
    int wi, pi, both;
    double percent_migrated; /* over the audited clusters, INTERFACE.md's rule, one decimal */
    size_t removable;        /* clusters where pod identity can be removed */
    int exit_code;           /* the worst of the clusters: 2 > 1 > 0 */
};
void fleet_summarize(const struct fleet_row *rows, size_t n, struct fleet_summary *out);

/* ---- which contexts ------------------------------------------------------------------------ */

/* A fleet report is wanted: --all-contexts, or --context names more than one existing context
 * (a comma list, or a glob; a name that exists as written is one context). */
bool fleet_wanted(const struct app_options *opt, const struct kubeconfig *kc);

/* The contexts of a fleet run, in kubeconfig order for --all-contexts and globs, else in the
 * order given, without duplicates. A listed name that does not exist, or a glob that matches
 * nothing, is an error (bad flags: exit 2). *names: free with fleet_names_free. */
int fleet_select(const struct kubeconfig *kc, const char *spec, bool all, char ***names, size_t *n,
                 struct idw_err *err);
void fleet_names_free(char **names, size_t n);

/* ---- the runner ---------------------------------------------------------------------------- */

struct fleet;
struct net;
struct session;

/* Called once per cluster when it is done or failed. s is its session (NULL when it failed
 * before one existed), still open during the call: the caller renders what it needs (a report)
 * and prints what the user must see; the runner closes the session after the call. */
typedef void (*fleet_done_fn)(void *ctx, size_t i, const struct fleet_row *row, struct session *s);

struct fleet_config {
    const struct app_options *opt; /* re-resolved per context (the config file's sections) */
    const struct kubeconfig *kc;
    struct net *net;
    char **names; /* the contexts, borrowed */
    size_t n;
    int parallel;           /* sessions at once; <= 0 = 8 */
    int64_t deadline_ms;    /* per cluster from its start; 0 = 180 s */
    int64_t azure_grace_ms; /* stop waiting for Azure this long before the deadline; 0 = 1/4 */
    fleet_done_fn done;
    void *ctx;
};

struct fleet *fleet_new(const struct fleet_config *c);
/* Call every loop turn (after net_poll): starts queued clusters while slots are free, ticks the
 * running sessions, and finishes those that are done, failed or past their deadline. */
void fleet_tick(struct fleet *f);
bool fleet_done(const struct fleet *f);
/* Poll timeout that keeps deadlines honest (ms). */
int fleet_poll_ms(const struct fleet *f);
size_t fleet_count(const struct fleet *f);
const struct fleet_row *fleet_row(const struct fleet *f, size_t i);
void fleet_free(struct fleet *f);

/* ---- the fleet report ---------------------------------------------------------------------- */

/* One cluster's part of the fleet report: its row and its own report, rendered in the fleet's
 * format by report_render (NULL when it failed). */
struct fleet_part {
    const struct fleet_row *row;
    const char *report;
    size_t report_len;
};

/* Composes the fleet report in format f: JSON idwatch.fleet/v1 (the per-cluster JSON spliced in
 * as the "report" values, one line when compact), text and Markdown one section per cluster and a
 * summary, CSV the per-cluster rows each with a leading context column and a trailing
 * cluster_error column. generated_at = 0 means now. */
void fleet_render(struct idw_buf *out, enum report_format f, bool compact,
                  const struct fleet_part *parts, size_t n, int64_t generated_at);

/* JSON text on one line (--compact), with a newline at the end; -1 (b unchanged) when b does
 * not hold JSON. */
int fleet_json_compact(struct idw_buf *b);

#endif
