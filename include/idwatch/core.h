/* core: errors as values, the x-alloc family, and small string/time helpers shared by every layer. */
#ifndef IDWATCH_CORE_H
#define IDWATCH_CORE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IDW_ERR_MAX 512

/* A one-line error message filled by a failing function; the caller decides what to do with it. */
struct idw_err {
    char msg[IDW_ERR_MAX];
};

/* Sets err->msg (if err is non-NULL) and returns -1, so callers can `return idw_err_set(...)`. */
int idw_err_set(struct idw_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prefixes an existing message: "<prefix>: <old message>". Returns -1. */
int idw_err_prefix(struct idw_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Allocation failure aborts the program with a message; these never return NULL. */
void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);            /* NULL in, NULL out */
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *xvasprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

/* Grows *items (of elem bytes each) so that it holds at least need elements; updates *cap. */
void xgrow(void **items, size_t *cap, size_t need, size_t elem);

/* A growable byte buffer, always NUL-terminated. */
struct idw_buf {
    char *data;
    size_t len;
    size_t cap;
};
void buf_append(struct idw_buf *b, const void *data, size_t n);
void buf_puts(struct idw_buf *b, const char *s);
void buf_printf(struct idw_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_reset(struct idw_buf *b);
void buf_free(struct idw_buf *b);

/* NULL-safe string helpers. */
bool str_eq(const char *a, const char *b);           /* both NULL counts as equal */
bool str_has_prefix(const char *s, const char *prefix);
bool str_has_suffix(const char *s, const char *suffix);
bool str_empty(const char *s);                        /* NULL or "" */

/* Copies s into dst (size n) replacing control bytes and invalid UTF-8 with '?': for untrusted
 * strings headed to a terminal or a log. Returns dst. */
char *str_sanitize(char *dst, size_t n, const char *s);

/* Reads a whole file (at most max bytes) into a NUL-terminated buffer. */
int file_read_all(const char *path, size_t max, char **out, size_t *len, struct idw_err *err);

/* Time: seconds since the epoch. Parsing accepts RFC 3339 with optional fraction and offset. */
int64_t time_now(void);
int64_t time_now_ms(void);                 /* monotonic milliseconds */
int time_parse_rfc3339(const char *s, int64_t *epoch, int32_t *nanos);
void time_format_rfc3339(int64_t epoch, char out[32]); /* "2026-11-29T10:00:00Z" */
/* Human-ish age: "5s", "3m", "2h", "4d". */
void time_format_age(int64_t seconds, char out[16]);
/* Parses durations like "90s", "15m", "1h", "1h30m", "2d"; plain numbers are seconds. */
int time_parse_duration(const char *s, int64_t *seconds);

/* Base64 (RFC 4648 §4) and base64url (§5), via OpenSSL. Encoding: url drops the padding; the
 * result is xmalloc'd and NUL-terminated. Decoding is strict (a bad character, a length of 4k+1 or
 * wrong padding fails), padding is optional, std ignores ASCII whitespace, and url also takes the
 * std '+' and '/' (JWT producers mix them). *out is xmalloc'd with a NUL byte not counted in
 * *out_len. Returns 0 or -1. */
char *b64_encode(const void *data, size_t n, bool url);
int b64_decode(const char *s, size_t len, bool url, unsigned char **out, size_t *out_len);

#endif
