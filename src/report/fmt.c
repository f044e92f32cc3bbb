/*
 * fmt.c — human formatting of counts, shares, numbers, durations, byte
 * sizes and calendar days for reports (see report/fmt.h). No locale: the
 * digits and separators are written by hand so the output is the same on
 * every machine.
 */
#include "report/fmt.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static char *dash(char *buf, size_t size) {
  snprintf(buf, size, "%s", DP_DASH);
  return buf;
}

/* Insert thousands separators into the integer part of a decimal string
 * (optional sign, digits, optional fraction). */
static char *group(const char *num, char *buf, size_t size) {
  size_t o = 0, i = 0, n = strlen(num);
  if (size == 0) return buf;
  if (num[0] == '-') {
    if (o + 1 < size) buf[o++] = '-';
    i = 1;
  }
  size_t int_end = i;
  while (int_end < n && num[int_end] >= '0' && num[int_end] <= '9') int_end++;
  size_t digits = int_end - i;
  for (size_t k = 0; i < int_end; i++, k++) {
    if (k && (digits - k) % 3 == 0 && o + 1 < size) buf[o++] = ',';
    if (o + 1 < size) buf[o++] = num[i];
  }
  for (; i < n && o + 1 < size; i++) buf[o++] = num[i];
  buf[o] = '\0';
  return buf;
}

char *dp_fmt_count(double v, char *buf, size_t size) {
  if (!isfinite(v)) return dash(buf, size);
  char tmp[DP_FMT_MAX];
  double r = round(v);
  if (r == 0) r = 0; /* no "-0" */
  snprintf(tmp, sizeof tmp, "%.0f", r);
  return group(tmp, buf, size);
}

char *dp_fmt_share(double share, char *buf, size_t size) {
  if (!isfinite(share)) return dash(buf, size);
  if (share == 0) {
    snprintf(buf, size, "0%%");
    return buf;
  }
  if (share == 1) {
    snprintf(buf, size, "100%%");
    return buf;
  }
  double p = share * 100.0, a = fabs(p);
  const char *sign = p < 0 ? "-" : "";
  if (a >= 99.95 && a < 100) snprintf(buf, size, "%s>99.9%%", sign);
  else if (a >= 1) snprintf(buf, size, "%.1f%%", p);
  else if (a >= 0.005) snprintf(buf, size, "%.2f%%", p);
  else snprintf(buf, size, "%s<0.01%%", sign);
  return buf;
}

/* Drop trailing zeros (and a trailing '.') of a fixed-point string. */
static void trim_zeros(char *s) {
  if (!strchr(s, '.')) return;
  size_t n = strlen(s);
  while (n && s[n - 1] == '0') s[--n] = '\0';
  if (n && s[n - 1] == '.') s[--n] = '\0';
}

char *dp_fmt_number(double v, char *buf, size_t size) {
  if (!isfinite(v)) return dash(buf, size);
  double a = fabs(v);
  char tmp[DP_FMT_MAX];
  if (a >= 1000 || v == floor(v)) return dp_fmt_count(v, buf, size);
  if (a >= 100) snprintf(tmp, sizeof tmp, "%.1f", v);
  else if (a >= 10) snprintf(tmp, sizeof tmp, "%.2f", v);
  else if (a >= 1) snprintf(tmp, sizeof tmp, "%.2f", v);
  else if (a >= 0.001) snprintf(tmp, sizeof tmp, "%.3g", v);
  else snprintf(tmp, sizeof tmp, "%.2e", v);
  if (!strchr(tmp, 'e')) trim_zeros(tmp);
  if (!strcmp(tmp, "-0")) snprintf(tmp, sizeof tmp, "0");
  return group(tmp, buf, size);
}

char *dp_fmt_duration(double seconds, char *buf, size_t size) {
  if (!isfinite(seconds)) return dash(buf, size);
  const char *sign = seconds < 0 ? "-" : "";
  double a = fabs(seconds);
  char tmp[DP_FMT_MAX];
  if (a == 0) snprintf(buf, size, "0 s");
  else if (a < 0.05) snprintf(buf, size, "%s<0.1 s", sign);
  else if (a < 9.95) snprintf(buf, size, "%s%.1f s", sign, a);
  else if (a < 59.5) snprintf(buf, size, "%s%.0f s", sign, a);
  else if (a < 59.95 * 60) snprintf(buf, size, "%s%.1f min", sign, a / 60);
  else if (a < 23.95 * 3600) snprintf(buf, size, "%s%.1f h", sign, a / 3600);
  else if (a < 999.5 * 86400) snprintf(buf, size, "%s%.1f d", sign, a / 86400);
  else snprintf(buf, size, "%s%s d", sign, dp_fmt_count(a / 86400, tmp, sizeof tmp));
  /* "3.0 min" reads better as "3 min" */
  char *p = strstr(buf, ".0 ");
  if (p) memmove(p, p + 2, strlen(p + 2) + 1);
  return buf;
}

char *dp_fmt_bytes(double bytes, char *buf, size_t size) {
  if (!isfinite(bytes) || bytes < 0) return dash(buf, size);
  if (bytes < 1000) snprintf(buf, size, "%.0f B", bytes);
  else if (bytes < 999.5e3) snprintf(buf, size, "%.1f kB", bytes / 1e3);
  else if (bytes < 999.5e6) snprintf(buf, size, "%.1f MB", bytes / 1e6);
  else snprintf(buf, size, "%.1f GB", bytes / 1e9);
  return buf;
}

/* Howard Hinnant's civil-from-days / days-from-civil (proleptic Gregorian). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = (unsigned)(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? (unsigned)-3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + (int64_t)doe - 719468;
}

int dp_date_parse(const char *s, int64_t *days) {
  if (!s || strlen(s) < 10) return -1;
  for (int i = 0; i < 10; i++) {
    if (i == 4 || i == 7) {
      if (s[i] != '-') return -1;
    } else if (s[i] < '0' || s[i] > '9') {
      return -1;
    }
  }
  int y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
  unsigned m = (unsigned)((s[5] - '0') * 10 + (s[6] - '0'));
  unsigned d = (unsigned)((s[8] - '0') * 10 + (s[9] - '0'));
  if (m < 1 || m > 12 || d < 1 || d > 31) return -1;
  *days = days_from_civil(y, m, d);
  return 0;
}

char *dp_date_format(int64_t z, char *buf, size_t size) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = (unsigned)(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t y = (int64_t)yoe + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2;
  snprintf(buf, size, "%04lld-%02u-%02u", (long long)y, m, d);
  return buf;
}

size_t dp_utf8_next(const char *s, size_t n, uint32_t *cp) {
  const unsigned char *u = (const unsigned char *)s;
  unsigned c = u[0];
  if (c < 0x80) {
    *cp = c;
    return 1;
  }
  size_t len;
  uint32_t v, min;
  if (c >= 0xC2 && c <= 0xDF) len = 2, v = c & 0x1F, min = 0x80;
  else if (c >= 0xE0 && c <= 0xEF) len = 3, v = c & 0x0F, min = 0x800;
  else if (c >= 0xF0 && c <= 0xF4) len = 4, v = c & 0x07, min = 0x10000;
  else goto bad;
  if (n < len) goto bad;
  for (size_t i = 1; i < len; i++) {
    if ((u[i] & 0xC0) != 0x80) goto bad;
    v = (v << 6) | (u[i] & 0x3F);
  }
  if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) goto bad;
  *cp = v;
  return len;
bad:
  *cp = 0xFFFD;
  return 1;
}

uint32_t dp_display_cp(uint32_t cp) {
  if (cp < 0x20) return 0x2400 + cp;
  if (cp == 0x7F) return 0x2421;
  if (cp < 0x80) return cp;
  if (cp >= 0x80 && cp <= 0x9F) return 0xFFFD;
  if (cp >= 0xD800 && cp <= 0xDFFF) return 0xFFFD;
  if (cp >= 0xFDD0 && cp <= 0xFDEF) return 0xFFFD;
  if ((cp & 0xFFFE) == 0xFFFE) return 0xFFFD;
  if ((cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069) || cp == 0x200E ||
      cp == 0x200F || cp == 0x061C)
    return 0xFFFD;
  return cp;
}

size_t dp_utf8_put(uint32_t cp, char out[4]) {
  if (cp < 0x80) {
    out[0] = (char)cp;
    return 1;
  }
  if (cp < 0x800) {
    out[0] = (char)(0xC0 | (cp >> 6));
    out[1] = (char)(0x80 | (cp & 0x3F));
    return 2;
  }
  if (cp < 0x10000) {
    out[0] = (char)(0xE0 | (cp >> 12));
    out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[2] = (char)(0x80 | (cp & 0x3F));
    return 3;
  }
  out[0] = (char)(0xF0 | (cp >> 18));
  out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
  out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
  out[3] = (char)(0x80 | (cp & 0x3F));
  return 4;
}
