/* jsonw: a streaming JSON writer into an idw_buf (internal to report/). Memory follows the output,
 * not a tree of it: a report of 10,000 workloads is written as it is walked. Pretty output puts
 * each member on its own line, indented with tabs ("key":<TAB>value, as cJSON_Print does). */
#ifndef IDWATCH_REPORT_JSONW_H
#define IDWATCH_REPORT_JSONW_H

#include <stdbool.h>
#include <stdint.h>

#include "idwatch/core.h"

#define JSONW_DEPTH 32

struct jsonw {
    struct idw_buf *out;
    bool pretty;
    int depth;
    bool first[JSONW_DEPTH]; /* nothing written yet at that depth */
};

void jsonw_init(struct jsonw *w, struct idw_buf *out, bool pretty);
/* key is the member name inside an object, NULL inside an array or at the top. */
void jsonw_object(struct jsonw *w, const char *key);
void jsonw_array(struct jsonw *w, const char *key);
void jsonw_end(struct jsonw *w, char close); /* '}' or ']' */
void jsonw_string(struct jsonw *w, const char *key, const char *v); /* NULL writes null */
void jsonw_number(struct jsonw *w, const char *key, double v);
void jsonw_int(struct jsonw *w, const char *key, int64_t v);
void jsonw_bool(struct jsonw *w, const char *key, bool v);
void jsonw_null(struct jsonw *w, const char *key);

#endif
