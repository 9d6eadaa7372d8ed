/* spark: sparklines and the migration progress bar, as plain strings (UTF-8 or ASCII). */
#ifndef IDWATCH_SPARK_H
#define IDWATCH_SPARK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Counts events (epoch seconds) into nb equal buckets covering (now - window, now]; the last
 * bucket is the most recent. Events outside the window are ignored. */
void spark_bucket(const int64_t *times, size_t n, int64_t now, int64_t window, uint32_t *counts,
                  size_t nb);
/* Adds one event to the buckets (same geometry as spark_bucket). */
void spark_add(uint32_t *counts, size_t nb, int64_t now, int64_t window, int64_t when);

/* One character per bucket, scaled to the largest bucket: blank for zero, any non-zero bucket
 * at least the lowest bar. UTF-8 uses U+2581..U+2588, ASCII " .:-=+*#". out gets at most
 * outsz-1 bytes. */
void spark_render(const uint32_t *counts, size_t nb, bool utf8, char *out, size_t outsz);

/* A bar of `width` cells, done/total filled ('#'/'.' in ASCII, U+2588/U+2591 in UTF-8). */
void spark_progress(size_t done, size_t total, int width, bool utf8, char *out, size_t outsz);

#endif
