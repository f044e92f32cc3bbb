/*
 * xsum.c — exact summation of doubles for DDSketch's sum: a fixed-point
 * two's complement integer wide enough for any sum of up to 2^63 finite
 * doubles, so that sums (and merges of sums) are exact and therefore
 * independent of order and grouping. Also its exact hex-float text form
 * and a correctly rounded conversion back to double.
 */
#include "sketch/sketch_int.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* Add (or subtract) v << pos, pos in [0, 2045 + 11], to the limbs. */
static void add_shifted(dp_xsum *s, uint64_t v, unsigned pos, int negative) {
  unsigned li = pos / 64, sh = pos % 64;
  uint64_t lo = v << sh;
  uint64_t hi = sh ? v >> (64 - sh) : 0;
  if (!negative) {
    uint64_t old = s->w[li];
    s->w[li] = old + lo;
    uint64_t carry = s->w[li] < old;
    for (unsigned i = li + 1; i < DP_XSUM_LIMBS && (carry || hi); i++) {
      old = s->w[i];
      uint64_t t = old + hi;
      uint64_t c1 = t < old;
      s->w[i] = t + carry;
      carry = c1 | (s->w[i] < t);
      hi = 0;
    }
  } else {
    uint64_t old = s->w[li];
    s->w[li] = old - lo;
    uint64_t borrow = old < lo;
    for (unsigned i = li + 1; i < DP_XSUM_LIMBS && (borrow || hi); i++) {
      old = s->w[i];
      uint64_t t = old - hi;
      uint64_t b1 = old < hi;
      s->w[i] = t - borrow;
      borrow = b1 | (t < borrow);
      hi = 0;
    }
  }
}

void dp_xsum_add_double(dp_xsum *s, double x) {
  uint64_t bits;
  memcpy(&bits, &x, sizeof bits);
  unsigned e = (unsigned)(bits >> 52) & 0x7ff;
  uint64_t mant = bits & ((UINT64_C(1) << 52) - 1);
  if (e == 0x7ff) return; /* not finite: callers never pass these */
  if (e == 0) {
    if (!mant) return;
    e = 1; /* subnormal: mant × 2^-1074 */
  } else {
    mant |= UINT64_C(1) << 52;
  }
  /* x = ±mant × 2^(e - 1075) = ±mant × 2^(e - 1) × 2^-1074 */
  add_shifted(s, mant, e - 1, (int)(bits >> 63));
}

void dp_xsum_add(dp_xsum *s, const dp_xsum *t) {
  uint64_t carry = 0;
  for (unsigned i = 0; i < DP_XSUM_LIMBS; i++) {
    uint64_t a = s->w[i], b = t->w[i];
    uint64_t r = a + b;
    uint64_t c1 = r < a;
    s->w[i] = r + carry;
    carry = c1 | (s->w[i] < r);
  }
}

static int is_negative(const dp_xsum *s) { return (int)(s->w[DP_XSUM_LIMBS - 1] >> 63); }

static void negate(dp_xsum *s) {
  uint64_t carry = 1;
  for (unsigned i = 0; i < DP_XSUM_LIMBS; i++) {
    s->w[i] = ~s->w[i] + carry;
    carry = carry && s->w[i] == 0;
  }
}

static void magnitude(const dp_xsum *s, dp_xsum *a) {
  *a = *s;
  if (is_negative(a)) negate(a);
}

static unsigned bitlen_of(const dp_xsum *a) {
  for (unsigned i = DP_XSUM_LIMBS; i-- > 0;)
    if (a->w[i]) return i * 64 + 64 - (unsigned)__builtin_clzll(a->w[i]);
  return 0;
}

unsigned dp_xsum_bitlen(const dp_xsum *s) {
  dp_xsum a;
  magnitude(s, &a);
  return bitlen_of(&a);
}

static unsigned get_bit(const dp_xsum *a, unsigned pos) { return (unsigned)(a->w[pos / 64] >> (pos % 64)) & 1; }

double dp_xsum_value(const dp_xsum *s, uint64_t div) {
  dp_xsum a;
  magnitude(s, &a);
  unsigned len = bitlen_of(&a);
  if (!len) return 0.0;
  uint64_t top;
  int shift = 0;
  if (len <= 64) {
    top = a.w[0];
  } else {
    shift = (int)len - 64;
    unsigned li = (unsigned)shift / 64, sh = (unsigned)shift % 64;
    top = a.w[li] >> sh;
    if (sh) top |= a.w[li + 1] << (64 - sh);
    int sticky = sh && (a.w[li] & ((UINT64_C(1) << sh) - 1)) != 0;
    for (unsigned i = 0; i < li && !sticky; i++) sticky = a.w[i] != 0;
    if (sticky) top |= 1; /* below the rounding position: makes ties round correctly */
  }
  double v = (double)top;
  if (div > 1) v /= (double)div;
  v = ldexp(v, shift - 1074);
  return is_negative(s) ? -v : v;
}

size_t dp_xsum_format(const dp_xsum *s, char *buf) {
  dp_xsum a;
  magnitude(s, &a);
  unsigned len = bitlen_of(&a);
  if (!len) {
    memcpy(buf, "0x0p+0", 7);
    return 6;
  }
  unsigned tz = 0;
  while (!get_bit(&a, tz)) tz++;
  size_t n = 0;
  if (is_negative(s)) buf[n++] = '-';
  buf[n++] = '0';
  buf[n++] = 'x';
  /* hex digits of a >> tz, most significant first */
  unsigned bits = len - tz;
  unsigned digits = (bits + 3) / 4;
  for (unsigned d = digits; d-- > 0;) {
    unsigned v = 0;
    for (unsigned b = 4; b-- > 0;) {
      unsigned pos = tz + d * 4 + b;
      v = v << 1 | (pos < len ? get_bit(&a, pos) : 0);
    }
    buf[n++] = "0123456789abcdef"[v];
  }
  n += (size_t)snprintf(buf + n, DP_XSUM_TEXT_MAX - n, "p%+d", (int)tz - 1074);
  return n;
}

static void shift_left(dp_xsum *a, unsigned k) {
  unsigned li = k / 64, sh = k % 64;
  for (unsigned i = DP_XSUM_LIMBS; i-- > 0;) {
    uint64_t v = 0;
    if (i >= li) {
      v = a->w[i - li] << sh;
      if (sh && i > li) v |= a->w[i - li - 1] >> (64 - sh);
    }
    a->w[i] = v;
  }
}

int dp_xsum_parse(dp_xsum *s, const char *t, size_t n, unsigned max_bits) {
  memset(s, 0, sizeof *s);
  size_t i = 0;
  int neg = 0;
  if (max_bits > DP_XSUM_LIMBS * 64 - 1) max_bits = DP_XSUM_LIMBS * 64 - 1;
  if (i < n && t[i] == '-') {
    neg = 1;
    i++;
  }
  if (n - i < 2 || t[i] != '0' || t[i + 1] != 'x') return -1;
  i += 2;
  dp_xsum a;
  memset(&a, 0, sizeof a);
  size_t ndig = 0;
  unsigned len = 0;
  for (; i < n && t[i] != 'p'; i++, ndig++) {
    char c = t[i];
    unsigned v;
    if (c >= '0' && c <= '9') v = (unsigned)(c - '0');
    else if (c >= 'a' && c <= 'f') v = (unsigned)(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F') v = (unsigned)(c - 'A' + 10);
    else return -1;
    if (ndig >= 1024 || (len && len + 4 > max_bits)) return -1;
    shift_left(&a, 4);
    a.w[0] |= v;
    len = bitlen_of(&a);
  }
  if (!ndig || i >= n || t[i] != 'p') return -1;
  i++;
  int eneg = 0;
  if (i < n && (t[i] == '+' || t[i] == '-')) eneg = t[i++] == '-';
  if (i >= n) return -1;
  long e = 0;
  for (; i < n; i++) {
    if (t[i] < '0' || t[i] > '9') return -1;
    e = e * 10 + (t[i] - '0');
    if (e > 100000) return -1;
  }
  if (eneg) e = -e;
  if (!len) return 0; /* zero, any exponent */
  if (e < -1074) return -1;
  if ((unsigned long)len + (unsigned long)(e + 1074) > max_bits) return -1;
  shift_left(&a, (unsigned)(e + 1074));
  if (neg) negate(&a);
  *s = a;
  return 0;
}
