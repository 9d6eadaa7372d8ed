/* selector: Kubernetes label selectors (=, ==, !=, exists, !exists, in, notin; comma = AND) and
 * field selectors (=, ==, != on dotted paths). Used by the simulator, by -l/--selector and by the
 * dashboard's key=value filter. */
#ifndef IDWATCH_SELECTOR_H
#define IDWATCH_SELECTOR_H

#include <stdbool.h>
#include <stddef.h>

#include "idwatch/core.h"
#include "idwatch/model.h"

enum selector_op {
    SEL_EQ,        /* k=v, k==v */
    SEL_NE,        /* k!=v (true when k is absent) */
    SEL_EXISTS,    /* k */
    SEL_NOTEXISTS, /* !k */
    SEL_IN,        /* k in (a,b) */
    SEL_NOTIN,     /* k notin (a,b) (true when k is absent) */
};

struct selector_req {
    enum selector_op op;
    char *key;
    char **values;
    size_t n_values;
};

struct selector {
    struct selector_req *reqs;
    size_t n;
};

/* Parses a label selector; an empty string matches everything. On error fills err with the
 * API server's reason and the byte offset of the offending token, e.g.
 * "label selector 'a in (b': found '', expected: ',' or ')' at 7". The Gt/Lt operators ('>', '<')
 * that apimachinery also accepts are refused with a clear message. */
int selector_parse(const char *text, struct selector *out, struct idw_err *err);
bool selector_match(const struct selector *sel, const struct model_kvlist *labels);
/* Matches against a lookup function (for field selectors: key is a dotted path). */
bool selector_match_fn(const struct selector *sel, const char *(*get)(void *ctx, const char *key),
                       void *ctx);
/* Field selectors accept only =, == and != (the API server's rule). */
int selector_parse_fields(const char *text, struct selector *out, struct idw_err *err);
void selector_free(struct selector *sel);

#endif
