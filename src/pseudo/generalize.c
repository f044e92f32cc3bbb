/*
 * generalize.c — value generalization for the `generalize` action: IP
 * prefixes, timestamp truncation that keeps the written form, numeric
 * buckets, character prefixes and rounding.
 */
#include <arpa/inet.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <doppel/pii.h>
#include <doppel/time.h>

#include "pseudo/pseudo_int.h"

static int gen_ip(const dp_gen *g, const char *s, size_t n, dp_buf *out) {
  char tmp[64];
  if (n == 0 || n >= sizeof tmp) return 0;
  memcpy(tmp, s, n);
  tmp[n] = '\0';
  unsigned char a[16];
  char res[INET6_ADDRSTRLEN];
  if (inet_pton(AF_INET, tmp, a) == 1) {
    uint32_t v = ((uint32_t)a[0] << 24) | ((uint32_t)a[1] << 16) | ((uint32_t)a[2] << 8) | a[3];
    uint32_t mask = g->ip4_prefix == 0 ? 0 : 0xffffffffu << (32 - g->ip4_prefix);
    v &= mask;
    snprintf(res, sizeof res, "%u.%u.%u.%u", v >> 24, (v >> 16) & 255, (v >> 8) & 255, v & 255);
  } else if (inet_pton(AF_INET6, tmp, a) == 1) {
    for (int i = 0; i < 16; i++) {
      int keep = g->ip6_prefix - i * 8;
      if (keep >= 8) continue;
      a[i] = keep <= 0 ? 0 : (unsigned char)(a[i] & (0xff << (8 - keep)));
    }
    if (!inet_ntop(AF_INET6, a, res, sizeof res)) return 0;
  } else {
    return 0;
  }
  return dp_buf_append(out, res, strlen(res)) == DOPPEL_OK;
}

static int is_digit(char c) { return c >= '0' && c <= '9'; }

/* Truncate a calendar text timestamp in place of its digits, keeping the
 * separators and the offset: 2024-01-09T10:23:45.123+02:00 → (hour)
 * 2024-01-09T10:00:00.000+02:00. */
static int gen_time_text(dp_time_unit unit, const char *s, size_t n, dp_buf *out) {
  if (n < 10 || !is_digit(s[0]) || !is_digit(s[1]) || !is_digit(s[2]) || !is_digit(s[3]) ||
      s[4] != '-' || s[7] != '-')
    return 0;
  int64_t us;
  if (doppel_time_parse(s, n, &us, NULL, NULL) != DOPPEL_OK) return 0;
  size_t start = out->len;
  if (dp_buf_append(out, s, n) != DOPPEL_OK) return 0;
  char *t = out->data + start;
  /* positions: month 5-6, day 8-9, hour 11-12, minute 14-15, second 17-18, fraction 20.. */
  if (unit <= DP_TU_YEAR) { t[5] = '0'; t[6] = '1'; }
  if (unit <= DP_TU_MONTH) { t[8] = '0'; t[9] = '1'; }
  size_t i = 11;
  int field = DP_TU_HOUR;
  while (i < n && field <= DP_TU_SECOND) {
    if (!(i + 1 < n && is_digit(t[i]) && is_digit(t[i + 1]))) break;
    if ((int)unit < field) { t[i] = '0'; t[i + 1] = '0'; }
    i += 2;
    field++;
    if (i < n && t[i] == ':') i++;
    else break;
  }
  /* fraction of seconds */
  if (i < n && t[i] == '.') {
    for (i++; i < n && is_digit(t[i]); i++) t[i] = '0';
  }
  return 1;
}

static int format_number(double v, int integer, dp_buf *out) {
  char tmp[64];
  int w;
  if (integer && fabs(v) < 9.007199254740992e15)
    w = snprintf(tmp, sizeof tmp, "%.0f", v);
  else
    w = snprintf(tmp, sizeof tmp, "%.15g", v);
  if (w <= 0 || (size_t)w >= sizeof tmp) return 0;
  if (!strcmp(tmp, "-0")) { tmp[0] = '0'; tmp[1] = '\0'; w = 1; }
  return dp_buf_append(out, tmp, (size_t)w) == DOPPEL_OK;
}

static int parse_number(const char *s, size_t n, double *v, int *integer) {
  char tmp[128];
  if (n == 0 || n >= sizeof tmp) return 0;
  memcpy(tmp, s, n);
  tmp[n] = '\0';
  char *end;
  *v = strtod(tmp, &end);
  if (end != tmp + n || !isfinite(*v)) return 0;
  *integer = strpbrk(tmp, ".eE") == NULL;
  return 1;
}

static int gen_time_number(dp_time_unit unit, const char *s, size_t n, dp_buf *out) {
  int64_t us;
  doppel_time_unit tu;
  if (doppel_time_parse(s, n, &us, &tu, NULL) != DOPPEL_OK || tu == DOPPEL_TIME_TEXT) return 0;
  int64_t step;
  switch (unit) {
    case DP_TU_SECOND: step = 1000000; break;
    case DP_TU_MINUTE: step = 60000000; break;
    case DP_TU_HOUR: step = 3600000000LL; break;
    default: step = 86400000000LL; break;
  }
  int64_t q = us / step;
  if (us % step < 0) q--;
  int64_t t = q * step;
  if (unit <= DP_TU_MONTH) {
    /* calendar truncation to month / year via days_from_civil */
    int64_t days = t / 86400000000LL;
    /* civil_from_days (Hinnant) */
    int64_t z = days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t y = yoe + era * 400;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    unsigned m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
    if (m <= 2) y++;
    t = doppel_days_from_civil(y, unit == DP_TU_YEAR ? 1 : m, 1) * 86400000000LL;
  }
  int64_t div = tu == DOPPEL_TIME_SECONDS ? 1000000 : tu == DOPPEL_TIME_MILLIS ? 1000
              : tu == DOPPEL_TIME_MICROS ? 1 : 0;
  char tmp[32];
  int w = div ? snprintf(tmp, sizeof tmp, "%lld", (long long)(t / div))
              : snprintf(tmp, sizeof tmp, "%lld000", (long long)t);
  return w > 0 && dp_buf_append(out, tmp, (size_t)w) == DOPPEL_OK;
}

int dp_generalize(const dp_gen *g, const char *s, size_t n, int is_number, dp_buf *out) {
  double v;
  int integer;
  switch (g->kind) {
    case DP_GEN_AUTO:
      if (!is_number && (doppel_pii_is_ipv4(s, n) || doppel_pii_is_ipv6(s, n)))
        return gen_ip(g, s, n, out);
      if (!is_number) return gen_time_text(DP_TU_DAY, s, n, out);
      return 0;
    case DP_GEN_IP:
      return is_number ? 0 : gen_ip(g, s, n, out);
    case DP_GEN_TRUNCATE:
      if (!is_number && gen_time_text(g->unit, s, n, out)) return 1;
      return gen_time_number(g->unit, s, n, out);
    case DP_GEN_BUCKET:
      if (!parse_number(s, n, &v, &integer)) return 0;
      v = floor(v / g->bucket) * g->bucket;
      return format_number(v, integer && g->bucket == floor(g->bucket), out);
    case DP_GEN_ROUND: {
      if (!parse_number(s, n, &v, &integer)) return 0;
      if (integer) return dp_buf_append(out, s, n) == DOPPEL_OK;
      char tmp[64];
      int w = snprintf(tmp, sizeof tmp, "%.*f", g->round_digits, v);
      if (w <= 0 || (size_t)w >= sizeof tmp) return 0;
      return dp_buf_append(out, tmp, (size_t)w) == DOPPEL_OK;
    }
    case DP_GEN_PREFIX: {
      if (is_number) return 0;
      /* keep keep_chars UTF-8 characters, mask each following character with '*' */
      size_t i = 0;
      int kept = 0;
      while (i < n && kept < g->keep_chars) {
        i++;
        while (i < n && ((unsigned char)s[i] & 0xC0) == 0x80) i++;
        kept++;
      }
      if (dp_buf_append(out, s, i) != DOPPEL_OK) return 0;
      for (; i < n; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80 && dp_buf_putc(out, '*') != DOPPEL_OK) return 0;
      return 1;
    }
  }
  return 0;
}
