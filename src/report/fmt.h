/*
 * report/fmt.h — numbers, shares, durations and dates formatted for people,
 * shared by the HTML and Markdown renderers (and by `compare`).
 *
 * Every function writes a NUL-terminated string into a caller buffer of
 * DP_FMT_MAX bytes (or `size` bytes, truncating) and returns that buffer, so
 * calls nest in printf arguments. Output is the same on every machine: no
 * locale, no time zone, only ASCII digits with ',' as the thousands
 * separator and '.' as the decimal point. Values that are not finite print
 * as an em dash. Thread-safe, no allocation.
 */
#ifndef DP_REPORT_FMT_H
#define DP_REPORT_FMT_H

#include <stddef.h>
#include <stdint.h>

#define DP_FMT_MAX 48

/* UTF-8 punctuation used in reports. */
#define DP_DASH "\xe2\x80\x94"   /* em dash: "no value" */
#define DP_ARROW "\xe2\x86\x92"  /* rightwards arrow */
#define DP_MIDDOT "\xc2\xb7"     /* middle dot: list separator */
#define DP_PLUSMINUS "\xc2\xb1"
#define DP_EPSILON "\xce\xb5"

/* 1234567 -> "1,234,567"; rounds to the nearest integer; negative values
 * keep their sign. */
char *dp_fmt_count(double v, char *buf, size_t size);
/* A share (a fraction, 0.123) as a percentage: exactly 0 is "0%" and 1 is
 * "100%"; from 1% one decimal ("12.3%", "1.2%"), with ">99.9%" for values
 * that would round up to 100% without being 1; below 1% two decimals
 * ("0.45%"); below 0.005% "<0.01%". */
char *dp_fmt_share(double share, char *buf, size_t size);
/* A plain number for display: integers with thousands separators, other
 * values with 3 significant digits after rounding away trailing zeros
 * ("318.8", "1.08", "0.0452", "12,346"). */
char *dp_fmt_number(double v, char *buf, size_t size);
/* Seconds for people: "0 s", "0.4 s", "45 s", "3.2 min", "1.5 h", "2.3 d";
 * negative durations get a leading '-'. */
char *dp_fmt_duration(double seconds, char *buf, size_t size);
/* Bytes: "812 B", "8.1 MB", "1.2 GB" (decimal units). */
char *dp_fmt_bytes(double bytes, char *buf, size_t size);

/* Days since 1970-01-01 of a "YYYY-MM-DD" string (a longer string is read
 * by its first 10 characters); 0 on success, -1 when it is not a date. */
int dp_date_parse(const char *s, int64_t *days);
/* "YYYY-MM-DD" of days since 1970-01-01 into buf (>= 11 bytes). */
char *dp_date_format(int64_t days, char *buf, size_t size);

/* UTF-8 for display. dp_utf8_next() decodes the character at s[0..n)
 * (n >= 1) into *cp and returns its length; an invalid or truncated
 * sequence gives U+FFFD and length 1. dp_display_cp() maps a code point to
 * what a report shows: C0 controls and DEL to their control pictures
 * (U+2400..U+2421), C1 controls, noncharacters, surrogates and the
 * bidirectional embedding/override/isolate controls (which could reorder
 * what a reader sees) to U+FFFD, everything else to itself.
 * dp_utf8_put() encodes cp into out and returns the byte count (1..4). */
size_t dp_utf8_next(const char *s, size_t n, uint32_t *cp);
uint32_t dp_display_cp(uint32_t cp);
size_t dp_utf8_put(uint32_t cp, char out[4]);

#endif
