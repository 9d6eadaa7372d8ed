#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "idwatch/core.h"

bool str_eq(const char *a, const char *b)
{
    if (!a || !b)
        return a == b;
    return strcmp(a, b) == 0;
}

bool str_has_prefix(const char *s, const char *prefix)
{
    return s && prefix && strncmp(s, prefix, strlen(prefix)) == 0;
}

bool str_has_suffix(const char *s, const char *suffix)
{
    if (!s || !suffix)
        return false;
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && memcmp(s + a - b, suffix, b) == 0;
}

bool str_empty(const char *s)
{
    return !s || !*s;
}

/* Length of a valid UTF-8 sequence at s (1..4), or 0 if invalid. */
static size_t utf8_seq(const unsigned char *s)
{
    unsigned char c = s[0];
    size_t n;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        n = 2;
    else if (c >= 0xE0 && c <= 0xEF)
        n = 3;
    else if (c >= 0xF0 && c <= 0xF4)
        n = 4;
    else
        return 0;
    for (size_t i = 1; i < n; i++)
        if ((s[i] & 0xC0) != 0x80)
            return 0;
    return n;
}

char *str_sanitize(char *dst, size_t n, const char *s)
{
    size_t o = 0;
    if (n == 0)
        return dst;
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    while (*p && o + 1 < n) {
        size_t k = utf8_seq(p);
        if (k == 0 || (k == 1 && (*p < 0x20 || *p == 0x7F)) ||
            (k == 2 && p[0] == 0xC2 && p[1] < 0xA0)) { /* C1 controls */
            dst[o++] = '?';
            p += k ? k : 1;
            continue;
        }
        if (o + k >= n)
            break;
        memcpy(dst + o, p, k);
        o += k;
        p += k;
    }
    dst[o] = '\0';
    return dst;
}

int file_read_all(const char *path, size_t max, char **out, size_t *len, struct idw_err *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return idw_err_set(err, "%s: %s", path, strerror(errno));
    struct idw_buf b = {0};
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (b.len + n > max) {
            fclose(f);
            buf_free(&b);
            return idw_err_set(err, "%s: larger than %zu bytes", path, max);
        }
        buf_append(&b, chunk, n);
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        buf_free(&b);
        return idw_err_set(err, "%s: read error", path);
    }
    if (!b.data)
        buf_append(&b, "", 0);
    *out = b.data;
    if (len)
        *len = b.len;
    return 0;
}

int64_t time_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec;
}

int64_t time_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar (Howard Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static int digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

int time_parse_rfc3339(const char *s, int64_t *epoch, int32_t *nanos)
{
    int Y, M, D, h, m, sec;
    if (!s || strlen(s) < 19)
        return -1;
    if (digits(s, 4, &Y) || s[4] != '-' || digits(s + 5, 2, &M) || s[7] != '-' ||
        digits(s + 8, 2, &D) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
        digits(s + 11, 2, &h) || s[13] != ':' || digits(s + 14, 2, &m) || s[16] != ':' ||
        digits(s + 17, 2, &sec))
        return -1;
    if (M < 1 || M > 12 || D < 1 || D > 31 || h > 23 || m > 59 || sec > 60)
        return -1;
    const char *p = s + 19;
    int32_t ns = 0;
    if (*p == '.') {
        p++;
        int nd = 0;
        while (isdigit((unsigned char)*p)) {
            if (nd < 9) {
                ns = ns * 10 + (*p - '0');
                nd++;
            }
            p++;
        }
        if (nd == 0)
            return -1;
        while (nd++ < 9)
            ns *= 10;
    }
    int64_t off = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int oh, om;
        if (digits(p + 1, 2, &oh) || p[3] != ':' || digits(p + 4, 2, &om))
            return -1;
        off = (int64_t)(oh * 3600 + om * 60) * (*p == '+' ? 1 : -1);
        p += 6;
    } else {
        return -1;
    }
    if (*p != '\0')
        return -1;
    int64_t t = days_from_civil(Y, (unsigned)M, (unsigned)D) * 86400 + h * 3600 + m * 60 + sec;
    *epoch = t - off;
    if (nanos)
        *nanos = ns;
    return 0;
}

void time_format_rfc3339(int64_t epoch, char out[32])
{
    time_t t = (time_t)epoch;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void time_format_age(int64_t s, char out[16])
{
    if (s < 0)
        s = 0;
    if (s < 120)
        snprintf(out, 16, "%llds", (long long)s);
    else if (s < 7200)
        snprintf(out, 16, "%lldm", (long long)(s / 60));
    else if (s < 172800)
        snprintf(out, 16, "%lldh", (long long)(s / 3600));
    else
        snprintf(out, 16, "%lldd", (long long)(s / 86400));
}

int time_parse_duration(const char *s, int64_t *seconds)
{
    if (str_empty(s))
        return -1;
    int64_t total = 0;
    const char *p = s;
    while (*p) {
        if (!isdigit((unsigned char)*p))
            return -1;
        errno = 0;
        char *end;
        long long v = strtoll(p, &end, 10);
        if (errno || v < 0 || v > 100LL * 365 * 86400)
            return -1;
        int64_t unit = 1;
        switch (*end) {
        case '\0': unit = 1; break;
        case 's': unit = 1; end++; break;
        case 'm': unit = 60; end++; break;
        case 'h': unit = 3600; end++; break;
        case 'd': unit = 86400; end++; break;
        default: return -1;
        }
        total += v * unit;
        p = end;
    }
    *seconds = total;
    return 0;
}
