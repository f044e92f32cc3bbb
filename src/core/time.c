/*
 * time.c — timestamp parsing to UTC microseconds, formatting, and civil-date
 * arithmetic (see doppel/time.h).
 *
 * Calendar forms are parsed by hand (no sscanf/strptime/timegm, no locale):
 * YYYY-MM-DD, then optionally 'T'/'t'/' ' and HH:MM[:SS[(.|,)f{1,9}]], then
 * optionally an offset Z/z, +-HH:MM, +-HHMM, +-HH (at most 18:00) or the
 * literal UTC/GMT, optionally after one space ("2024-01-09 10:23:45 +0200",
 * as Ruby and git print). No offset means UTC. A leap second (:60) is
 * accepted and read as :59.999999 so that it sorts before the next minute.
 * Fraction digits beyond microseconds are dropped.
 *
 * Epoch numbers (optional '-', digits, optional fraction, optional exponent)
 * are converted with integer arithmetic only, so microsecond and nanosecond
 * values up to int64 are exact. The unit follows from |value| (see time.h).
 * Digits below one microsecond are dropped rounding toward the past (floor),
 * like the calendar form: -0.0000015 s is -2 µs.
 *
 * Every accepted value lies in 0001-01-01T00:00:00Z .. 9999-12-31T23:59:59.999999Z
 * (after applying the offset); anything else is DOPPEL_E_TIME. Leading and
 * trailing ASCII whitespace is ignored. Error messages never quote the
 * whole value, only the offending component.
 */
#include <doppel/time.h>

#include "core/diag.h"

#include <stdint.h>

#define US_PER_SEC INT64_C(1000000)
#define SEC_PER_DAY INT64_C(86400)
/* 0001-01-01T00:00:00Z and 9999-12-31T23:59:59.999999Z in microseconds */
#define MIN_US (INT64_C(-62135596800) * US_PER_SEC)
#define MAX_US (INT64_C(253402300800) * US_PER_SEC - 1)

#define EXPECTED_FORMS \
  "expected a timestamp (ISO 8601, 'YYYY-MM-DD HH:MM:SS' or epoch seconds/ms/µs)"

int64_t doppel_days_from_civil(int64_t y, unsigned m, unsigned d) {
  /* Howard Hinnant, "chrono-Compatible Low-Level Date Algorithms".
   * Exact for |y| < 10^15 (no overflow); m in 1..12, d in 1..31. */
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;                                 /* [0, 399] */
  const int64_t doy = (153 * (int64_t)(m > 2 ? m - 3 : m + 9) + 2) / 5 + (int64_t)d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;        /* [0, 146096] */
  return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;                                  /* [0, 146096] */
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; /* [0, 399] */
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);            /* [0, 365] */
  const int64_t mp = (5 * doy + 2) / 153;                                 /* [0, 11] */
  *d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
  *m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
  *y = yoe + era * 400 + (*m <= 2);
}

static int is_leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

static int days_in_month(int y, int m) {
  static const unsigned char dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return (m == 2 && is_leap(y)) ? 29 : dim[m - 1];
}

static int is_digit(unsigned char c) { return (unsigned)(c - '0') <= 9u; }

static int is_space(unsigned char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

/* Two decimal digits at p (caller guarantees 2 readable bytes), or -1. */
static int dig2(const unsigned char *p) {
  const unsigned a = (unsigned)(p[0] - '0'), b = (unsigned)(p[1] - '0');
  if (a > 9u || b > 9u) return -1;
  return (int)(a * 10u + b);
}

/* Helper state for error reporting: base of the caller's string. */
typedef struct tparse {
  const unsigned char *base;
  doppel_diag *diag;
} tparse;

static uint64_t col_of(const tparse *t, const unsigned char *p) {
  return (uint64_t)(p - t->base) + 1u;
}

#define TERR(t, p, ...) dp_diag_set((t)->diag, DOPPEL_E_TIME, NULL, 0, col_of((t), (p)), __VA_ARGS__)

/* Read exactly two digits at *pp (bounded by e) into *out; advances. */
static int read2(const unsigned char **pp, const unsigned char *e, int *out) {
  if (e - *pp < 2) return -1;
  const int v = dig2(*pp);
  if (v < 0) return -1;
  *out = v;
  *pp += 2;
  return 0;
}

static doppel_status parse_calendar(const tparse *t, const unsigned char *b,
                                    const unsigned char *e, int64_t *us) {
  const unsigned char *p = b;
  /* caller checked: 4 digits and '-' */
  const int year = (p[0] - '0') * 1000 + (p[1] - '0') * 100 + (p[2] - '0') * 10 + (p[3] - '0');
  int month, day;
  p += 5;
  const unsigned char *pm = p;
  if (read2(&p, e, &month) != 0)
    return TERR(t, p, "expected a 2-digit month after 'YYYY-' in timestamp");
  if (p >= e || *p != '-')
    return TERR(t, p, "expected '-' after the month in timestamp ('YYYY-MM-DD')");
  p++;
  const unsigned char *pd = p;
  if (read2(&p, e, &day) != 0)
    return TERR(t, p, "expected a 2-digit day after 'YYYY-MM-' in timestamp");
  if (year == 0) return TERR(t, b, "invalid year 0000 in timestamp (expected 0001-9999)");
  if (month < 1 || month > 12)
    return TERR(t, pm, "invalid month %02d in timestamp (expected 01-12)", month);
  if (day < 1 || day > days_in_month(year, month))
    return TERR(t, pd, "invalid day %02d for month %02d of %04d in timestamp", day, month, year);

  int hour = 0, minute = 0, second = 0;
  int32_t frac = 0;
  int32_t offset = 0; /* seconds east of UTC */
  if (p < e) {
    if (*p != 'T' && *p != 't' && *p != ' ')
      return TERR(t, p, "expected 'T' or ' ' between date and time in timestamp");
    p++;
    const unsigned char *ph = p;
    if (read2(&p, e, &hour) != 0)
      return TERR(t, p, "expected a 2-digit hour after the date in timestamp ('HH:MM')");
    if (p >= e || *p != ':') return TERR(t, p, "expected ':' after the hour in timestamp");
    p++;
    const unsigned char *pmin = p;
    if (read2(&p, e, &minute) != 0)
      return TERR(t, p, "expected a 2-digit minute after 'HH:' in timestamp");
    const unsigned char *ps = NULL;
    if (p < e && *p == ':') {
      p++;
      ps = p;
      if (read2(&p, e, &second) != 0)
        return TERR(t, p, "expected 2-digit seconds after 'HH:MM:' in timestamp");
      if (p < e && (*p == '.' || *p == ',')) {
        p++;
        const unsigned char *pf = p;
        int nd = 0;
        while (p < e && is_digit(*p)) {
          if (nd < 6) frac = frac * 10 + (*p - '0');
          nd++;
          p++;
        }
        if (nd == 0 || nd > 9)
          return TERR(t, pf, "expected 1 to 9 fraction digits after the seconds in timestamp");
        for (; nd < 6; nd++) frac *= 10;
      }
    }
    if (hour > 23) return TERR(t, ph, "invalid hour %02d in timestamp (expected 00-23)", hour);
    if (minute > 59)
      return TERR(t, pmin, "invalid minute %02d in timestamp (expected 00-59)", minute);
    if (second > 60)
      return TERR(t, ps, "invalid second %02d in timestamp (expected 00-60)", second);
    if (second == 60) { /* leap second: the last representable instant of the minute */
      second = 59;
      frac = 999999;
    }

    /* offset */
    if (p < e && *p == ' ' && e - p > 1) p++;
    if (p < e) {
      const unsigned char *po = p;
      if (*p == 'Z' || *p == 'z') {
        p++;
      } else if (e - p >= 3 && ((p[0] == 'U' && p[1] == 'T' && p[2] == 'C') ||
                                (p[0] == 'G' && p[1] == 'M' && p[2] == 'T'))) {
        p += 3;
      } else if (*p == '+' || *p == '-') {
        const int neg = *p == '-';
        int oh, om = 0;
        p++;
        if (read2(&p, e, &oh) != 0)
          return TERR(t, p, "expected a utc offset '+HH:MM', '+HHMM' or '+HH' in timestamp");
        if (p < e && *p == ':') {
          p++;
          if (read2(&p, e, &om) != 0)
            return TERR(t, p, "expected 2-digit offset minutes after '+HH:' in timestamp");
        } else if (e - p >= 2 && is_digit(p[0]) && is_digit(p[1])) {
          om = dig2(p);
          p += 2;
        }
        if (om > 59 || oh * 60 + om > 18 * 60)
          return TERR(t, po, "invalid utc offset %c%02d:%02d in timestamp (expected at most 18:00)",
                      neg ? '-' : '+', oh, om);
        offset = (oh * 3600 + om * 60) * (neg ? -1 : 1);
      } else {
        return TERR(t, p, "expected 'Z', '+HH:MM' or the end after the time in timestamp");
      }
    }
    if (p != e)
      return TERR(t, p, "unexpected characters after the timestamp (expected the end)");
  }

  const int64_t days = doppel_days_from_civil(year, (unsigned)month, (unsigned)day);
  const int64_t secs = days * SEC_PER_DAY + hour * 3600 + minute * 60 + second - offset;
  const int64_t v = secs * US_PER_SEC + frac;
  if (v < MIN_US || v > MAX_US)
    return TERR(t, b, "timestamp out of range after its utc offset (expected years 0001-9999)");
  *us = v;
  return DOPPEL_OK;
}

/* Epoch number. Significant digits are kept (up to MAXSIG; further nonzero
 * digits only set `sticky`, which matters for flooring negative values). */
#define MAXSIG 40

static doppel_status parse_epoch(const tparse *t, const unsigned char *b, const unsigned char *e,
                                 int64_t *us, doppel_time_unit *unit) {
  const unsigned char *p = b;
  int neg = 0;
  if (p < e && *p == '-') {
    neg = 1;
    p++;
  }
  unsigned char sig[MAXSIG];
  int nsig = 0, sticky = 0;
  int64_t point = 0; /* value = 0.sig × 10^point */
  int any = 0;
  while (p < e && is_digit(*p)) {
    const int dv = *p - '0';
    any = 1;
    if (nsig > 0 || dv != 0) {
      if (nsig < MAXSIG) sig[nsig++] = (unsigned char)dv;
      else if (dv) sticky = 1;
      point++;
    }
    p++;
  }
  if (!any) {
    if (p < e && *p == '.' && e - p > 1 && is_digit(p[1])) {
      /* ".5": allowed, like strtod */
    } else {
      return TERR(t, p, EXPECTED_FORMS);
    }
  }
  if (p < e && *p == '.') {
    p++;
    const unsigned char *pf = p;
    while (p < e && is_digit(*p)) {
      const int dv = *p - '0';
      if (nsig > 0 || dv != 0) {
        if (nsig < MAXSIG) sig[nsig++] = (unsigned char)dv;
        else if (dv) sticky = 1;
      } else {
        point--; /* leading zero after the point */
      }
      p++;
    }
    if (p == pf) return TERR(t, p, "expected digits after '.' in epoch timestamp");
  }
  if (p < e && (*p == 'e' || *p == 'E')) {
    p++;
    int eneg = 0;
    if (p < e && (*p == '+' || *p == '-')) {
      eneg = *p == '-';
      p++;
    }
    const unsigned char *pe = p;
    int64_t ex = 0;
    while (p < e && is_digit(*p)) {
      if (ex < 1000000) ex = ex * 10 + (*p - '0');
      p++;
    }
    if (p == pe) return TERR(t, p, "expected exponent digits after 'e' in epoch timestamp");
    point += eneg ? -ex : ex;
  }
  if (p != e)
    return TERR(t, p, EXPECTED_FORMS);

  /* drop trailing zeros of the significand (they do not change the value) */
  while (nsig > 0 && sig[nsig - 1] == 0) nsig--;
  if (nsig == 0) { /* zero */
    *us = 0;
    if (unit) *unit = DOPPEL_TIME_SECONDS;
    return DOPPEL_OK;
  }
  /* integer digits of |value| is `point` (when > 0); |v| < 1e11 <=> point <= 11 */
  doppel_time_unit u;
  int64_t shift;
  if (point <= 11) {
    u = DOPPEL_TIME_SECONDS;
    shift = 6;
  } else if (point <= 14) {
    u = DOPPEL_TIME_MILLIS;
    shift = 3;
  } else if (point <= 17) {
    u = DOPPEL_TIME_MICROS;
    shift = 0;
  } else {
    u = DOPPEL_TIME_NANOS;
    shift = -3;
  }
  const int64_t T = point + shift; /* integer digits of |value| in microseconds */
  if (T > 19)
    return TERR(t, b, "epoch timestamp out of range (expected years 0001-9999)");
  uint64_t mag = 0;
  int rem = sticky;
  for (int64_t i = 0; i < (T > 0 ? T : 0); i++) mag = mag * 10u + (i < nsig ? sig[i] : 0u);
  for (int64_t i = (T > 0 ? T : 0); i < nsig; i++)
    if (sig[i]) rem = 1;
  /* 19 digits can exceed int64; anything that large is out of range anyway */
  if (mag > (uint64_t)MAX_US + 1u)
    return TERR(t, b, "epoch timestamp out of range (expected years 0001-9999)");
  int64_t v = (int64_t)mag;
  if (neg) v = -v - (rem ? 1 : 0);
  if (v < MIN_US || v > MAX_US)
    return TERR(t, b, "epoch timestamp out of range (expected years 0001-9999)");
  *us = v;
  if (unit) *unit = u;
  return DOPPEL_OK;
}

doppel_status doppel_time_parse(const char *s, size_t n, int64_t *us, doppel_time_unit *unit,
                                doppel_diag *diag) {
  const unsigned char *b = (const unsigned char *)s, *e;
  tparse t;
  t.base = b;
  t.diag = diag;
  if (!s) {
    b = e = (const unsigned char *)"";
    t.base = b;
  } else {
    e = b + n;
  }
  while (b < e && is_space(*b)) b++;
  while (e > b && is_space(e[-1])) e--;
  if (b == e) return TERR(&t, b, EXPECTED_FORMS ", got an empty value");

  int64_t v = 0;
  doppel_status st;
  if (e - b >= 5 && is_digit(b[0]) && is_digit(b[1]) && is_digit(b[2]) && is_digit(b[3]) &&
      b[4] == '-') {
    st = parse_calendar(&t, b, e, &v);
    if (st == DOPPEL_OK && unit) *unit = DOPPEL_TIME_TEXT;
  } else if (is_digit(*b) || *b == '-' || *b == '.') {
    st = parse_epoch(&t, b, e, &v, unit);
  } else {
    return TERR(&t, b, EXPECTED_FORMS);
  }
  if (st == DOPPEL_OK && us) *us = v;
  return st;
}

static void put2(char *o, unsigned v) {
  o[0] = (char)('0' + v / 10);
  o[1] = (char)('0' + v % 10);
}

size_t doppel_time_format(int64_t us, char *out) {
  /* Values outside the supported range are clamped to it, so the result is
   * always 27 bytes with a 4-digit year. */
  if (us < MIN_US) us = MIN_US;
  if (us > MAX_US) us = MAX_US;
  int64_t secs = us / US_PER_SEC, frac = us % US_PER_SEC;
  if (frac < 0) {
    frac += US_PER_SEC;
    secs--;
  }
  int64_t days = secs / SEC_PER_DAY, sod = secs % SEC_PER_DAY;
  if (sod < 0) {
    sod += SEC_PER_DAY;
    days--;
  }
  int64_t y;
  unsigned m, d;
  civil_from_days(days, &y, &m, &d);
  const unsigned yy = (unsigned)y;
  out[0] = (char)('0' + yy / 1000);
  out[1] = (char)('0' + yy / 100 % 10);
  out[2] = (char)('0' + yy / 10 % 10);
  out[3] = (char)('0' + yy % 10);
  out[4] = '-';
  put2(out + 5, m);
  out[7] = '-';
  put2(out + 8, d);
  out[10] = 'T';
  put2(out + 11, (unsigned)(sod / 3600));
  out[13] = ':';
  put2(out + 14, (unsigned)(sod / 60 % 60));
  out[16] = ':';
  put2(out + 17, (unsigned)(sod % 60));
  out[19] = '.';
  unsigned f = (unsigned)frac;
  for (int i = 25; i >= 20; i--) {
    out[i] = (char)('0' + f % 10);
    f /= 10;
  }
  out[26] = 'Z';
  out[27] = '\0';
  return 27;
}
