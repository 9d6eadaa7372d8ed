/* spark: sparklines and progress bars. */
#include "idwatch/spark.h"

#include <string.h>

static const char *const bars_utf8[] = {" ",      "\u2581", "\u2582", "\u2583", "\u2584",
                                        "\u2585", "\u2586", "\u2587", "\u2588"};
static const char bars_ascii[] = " .:-=+*#";

void spark_add(uint32_t *counts, size_t nb, int64_t now, int64_t window, int64_t when)
{
    if (nb == 0 || window <= 0 || when > now || when <= now - window)
        return;
    /* age 0 lands in the last bucket, age window-1 in the first */
    int64_t age = now - when;
    size_t idx = nb - 1 - (size_t)((age * (int64_t)nb) / window);
    counts[idx]++;
}

void spark_bucket(const int64_t *times, size_t n, int64_t now, int64_t window, uint32_t *counts,
                  size_t nb)
{
    memset(counts, 0, nb * sizeof *counts);
    for (size_t i = 0; i < n; i++)
        spark_add(counts, nb, now, window, times[i]);
}

static void put(char *out, size_t outsz, size_t *o, const char *s)
{
    size_t k = strlen(s);
    if (*o + k < outsz) {
        memcpy(out + *o, s, k);
        *o += k;
    }
}

void spark_render(const uint32_t *counts, size_t nb, bool utf8, char *out, size_t outsz)
{
    if (outsz == 0)
        return;
    uint32_t max = 0;
    for (size_t i = 0; i < nb; i++)
        if (counts[i] > max)
            max = counts[i];
    size_t levels = utf8 ? 8 : 7; /* non-blank levels */
    size_t o = 0;
    for (size_t i = 0; i < nb; i++) {
        size_t lvl = 0;
        if (counts[i] > 0)
            lvl =
                1 + (size_t)(((uint64_t)(counts[i] - 1) * (levels - 1)) / (max > 1 ? max - 1 : 1));
        if (counts[i] > 0 && max == 1)
            lvl = levels; /* a lone request per bucket is still the tallest bar */
        if (utf8) {
            put(out, outsz, &o, bars_utf8[lvl]);
        } else {
            char c[2] = {bars_ascii[lvl], '\0'};
            put(out, outsz, &o, c);
        }
    }
    out[o] = '\0';
}

void spark_progress(size_t done, size_t total, int width, bool utf8, char *out, size_t outsz)
{
    if (outsz == 0)
        return;
    size_t o = 0;
    size_t fill = 0;
    if (width > 0 && total > 0)
        fill = (done >= total) ? (size_t)width : (done * (size_t)width) / total;
    for (int i = 0; i < width; i++)
        put(out, outsz, &o, (size_t)i < fill ? (utf8 ? "\u2588" : "#") : (utf8 ? "\u2591" : "."));
    out[o] = '\0';
}
