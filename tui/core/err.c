#include <stdio.h>
#include <string.h>

#include "idwatch/core.h"

int idw_err_set(struct idw_err *err, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return -1;
}

int idw_err_prefix(struct idw_err *err, const char *fmt, ...)
{
    if (err) {
        char prefix[IDW_ERR_MAX];
        char old[IDW_ERR_MAX];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(prefix, sizeof prefix, fmt, ap);
        va_end(ap);
        memcpy(old, err->msg, sizeof old);
        old[sizeof old - 1] = '\0';
        snprintf(err->msg, sizeof err->msg, "%s: %s", prefix, old);
    }
    return -1;
}
