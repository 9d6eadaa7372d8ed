/* report: `idwatch report -o text|json|markdown|csv` from the check results (INTERFACE.md).
 * Renders into a buffer; the caller prints it. Strings from the cluster are sanitized (no
 * control bytes), JSON follows the idwatch.report/v1 schema exactly, CSV quotes per RFC 4180. */
#ifndef IDWATCH_REPORT_H
#define IDWATCH_REPORT_H

#include <stdint.h>

#include "idwatch/check.h"
#include "idwatch/core.h"

#define REPORT_FORMATS(X)                                                                          \
    X(TEXT, "text")                                                                                \
    X(JSON, "json")                                                                                \
    X(MARKDOWN, "markdown")                                                                        \
    X(CSV, "csv")

enum report_format {
#define X(id, name) REPORT_##id,
    REPORT_FORMATS(X)
#undef X
        REPORT__COUNT
};

/* "text" -> REPORT_TEXT; 0, or -1 with err naming the valid formats. */
int report_format_parse(const char *s, enum report_format *out, struct idw_err *err);
const char *report_format_name(enum report_format f);

/* What the report says about where it looked (from kubeconfig and flags). */
struct report_meta {
    const char *context;  /* kubeconfig context, may be NULL */
    const char *server;   /* API server URL, may be NULL */
    int64_t generated_at; /* epoch seconds; 0 = now */
};

/* Appends the whole report in format f to out. Workloads come sorted by namespace, name, kind. */
void report_render(struct idw_buf *out, enum report_format f, const struct check_result *r,
                   const struct report_meta *meta);

/* The exit code rule of `idwatch report`: 1 if any finding has severity error, else 0. */
int report_exit_code(const struct check_result *r);

#endif
