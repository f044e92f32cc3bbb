/*
 * gen.c — generating one user: identifiers, schedule (arrival day, active
 * days along the retention curve, sessions per day, session lengths from
 * the user's group), and sessions (event chain bridged to the session
 * length, gaps, property values with user- and session-level constancy).
 * Values are made into dp_val records over a scratch buffer; write.c turns
 * them into output bytes.
 */
#include "synth/gen.h"
#include "profile/profile_int.h" /* dp_string_pattern */
#include "sketch/sketch_int.h"      /* dp_sketch_mix64 */

#include <doppel/time.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- seeding ---- */

static uint64_t mix64(uint64_t z) {
  z ^= z >> 30;
  z *= UINT64_C(0xbf58476d1ce4e5b9);
  z ^= z >> 27;
  z *= UINT64_C(0x94d049bb133111eb);
  return z ^ (z >> 31);
}

void dp_gen_stream(doppel_pcg64 *g, uint64_t seed, uint64_t kind, uint64_t a, uint64_t b) {
  uint64_t s1 = mix64(seed ^ mix64(kind * UINT64_C(0x9e3779b97f4a7c15) + 1));
  uint64_t s2 = mix64(s1 ^ a);
  doppel_pcg64_seed(g, s1, s2, a, (b << 3) | kind);
}

static inline uint64_t r64(doppel_pcg64 *g) { return doppel_pcg64_next(g); }
static inline double rdouble(doppel_pcg64 *g) { return doppel_pcg64_double(g); }

/* Values are made a few bytes at a time: the common case (room in the
 * buffer) stays inline, growth goes through core/buf.c. */
static inline void bput(dp_buf *b, const void *p, size_t n) { dp_buf_append_fast(b, p, n); }
static inline void bputc(dp_buf *b, char c) {
  if (b->cap - b->len > 1) b->data[b->len++] = c;
  else dp_buf_putc(b, c);
}

/* ---- text helpers ---- */

static const char *const syl[] = {"ka", "lo", "mi", "ra", "ten", "so", "vi", "de", "na", "ru", "be", "ko",
                                  "li", "ta", "ne", "mo", "sa", "ri", "el", "an", "or", "is", "un", "ga",
                                  "po", "zu", "fi", "ha", "ju", "we", "xo", "cy"};

/* n lowercase letters made of syllables */
static void letters(dp_buf *b, dp_vrng *r, size_t n, int capital) {
  size_t o = 0;
  while (o < n) {
    const char *s = syl[dp_vrng_below(r, 32)];
    for (size_t i = 0; s[i] && o < n; i++, o++) {
      char c = s[i];
      if (capital && o == 0) c = (char)(c - 32);
      bputc(b, c);
    }
  }
}

static void digits(dp_buf *b, dp_vrng *r, size_t n, int lead_nonzero) {
  for (size_t i = 0; i < n; i++) {
    uint32_t d = (i == 0 && lead_nonzero && n > 1) ? 1 + dp_vrng_below(r, 9) : dp_vrng_below(r, 10);
    bputc(b, (char)('0' + d));
  }
}

static void hexchars(dp_buf *b, dp_vrng *r, size_t n) {
  static const char hx[] = "0123456789abcdef";
  for (size_t i = 0; i < n; i++) bputc(b, hx[dp_vrng_below(r, 16)]);
}

/* Fill a shape: a/A/9/u runs get lengths that add up to about total. */
static void fill_pattern(dp_buf *b, dp_vrng *r, const char *pat, size_t total) {
  size_t fixed = 0, var = 0;
  for (const char *p = pat; *p; p++) {
    if (*p == 'a' || *p == '9' || *p == 'u') var++;
    else if (*p == 'A') {
      if (p[1] == 'a') fixed++; /* a capital starting a word */
      else var++;
    } else if (*p != '~') fixed++;
  }
  size_t left = total > fixed ? total - fixed : var;
  if (left < var) left = var;
  for (const char *p = pat; *p; p++) {
    size_t run = 1;
    int is_var = *p == 'a' || *p == '9' || *p == 'u' || (*p == 'A' && p[1] != 'a');
    if (is_var) {
      /* share what is left among the remaining runs, with some spread */
      size_t rem = 0;
      for (const char *q = p; *q; q++)
        if (*q == 'a' || *q == '9' || *q == 'u' || (*q == 'A' && q[1] != 'a')) rem++;
      size_t avg = left / rem;
      if (rem == 1) run = left;
      else {
        size_t lo = avg / 2 ? avg / 2 : 1, hi = avg + avg / 2 + 1;
        run = lo + dp_vrng_below(r, (uint32_t)(hi - lo + 1));
        if (run > left - (rem - 1)) run = left - (rem - 1);
        if (run < 1) run = 1;
      }
      left -= run;
    }
    switch (*p) {
      case 'a': letters(b, r, run, 0); break;
      case 'A':
        if (p[1] == 'a') {
          /* capital letter and the lowercase run that follows */
          bputc(b, (char)('A' + dp_vrng_below(r, 26)));
        } else {
          for (size_t i = 0; i < run; i++) bputc(b, (char)('A' + dp_vrng_below(r, 26)));
        }
        break;
      case '9': digits(b, r, run, 0); break;
      case 'u':
        for (size_t i = 0; i < run; i++) bput(b, "\xc3\xa9", 2); /* é */
        break;
      case '~': case '?': break;
      default: bputc(b, *p); break;
    }
  }
}

/* hex digits of every byte value, two characters each */
static const char hex_pairs[] =
    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
    "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"
    "404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f"
    "606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f"
    "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"
    "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf"
    "c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedf"
    "e0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff";

/* the bytes of v from bit `top` down, as hex (n bytes -> 2n characters) */
static inline void hex_bytes(char *o, uint64_t v, int top, int n) {
  for (int i = 0; i < n; i++) memcpy(o + 2 * i, hex_pairs + 2 * ((v >> (top - 8 * i)) & 255), 2);
}

void dp_uuid_text(uint64_t hi, uint64_t lo, char *out) {
  hex_bytes(out, hi, 56, 4);
  out[8] = '-';
  hex_bytes(out + 9, hi, 24, 2);
  out[13] = '-';
  hex_bytes(out + 14, hi, 8, 2);
  out[18] = '-';
  hex_bytes(out + 19, lo, 56, 2);
  out[23] = '-';
  hex_bytes(out + 24, lo, 40, 6);
}

static void uuid_from(dp_buf *b, uint64_t hi, uint64_t lo) {
  hi = (hi & ~UINT64_C(0xf000)) | UINT64_C(0x4000);          /* version 4 */
  lo = (lo & ~(UINT64_C(3) << 62)) | (UINT64_C(2) << 62);      /* variant */
  if (dp_buf_reserve(b, 36) != DOPPEL_OK) return;
  dp_uuid_text(hi, lo, b->data + b->len);
  b->len += 36;
}

size_t dp_fmt_time(int64_t us, int fmt, char *out) {
  char t[40];
  doppel_time_format(us, t); /* YYYY-MM-DDTHH:MM:SS.ffffffZ */
  switch (fmt) {
    case 0: /* ISO Z, with milliseconds or microseconds only when needed */
      if (us % 1000000 == 0) {
        memcpy(out, t, 19);
        out[19] = 'Z';
        return 20;
      }
      if (us % 1000 == 0) {
        memcpy(out, t, 23);
        out[23] = 'Z';
        return 24;
      }
      memcpy(out, t, 27);
      return 27;
    case 1:
      memcpy(out, t, 19);
      memcpy(out + 19, "+00:00", 6);
      return 25;
    case 2:
      memcpy(out, t, 19);
      out[10] = ' ';
      return 19;
    default:
      memcpy(out, t, 26);
      out[10] = ' ';
      return 26;
  }
}

/* ---- made-up strings ---- */

static void made_up(const doppel_synth *s, const dp_vgen *v, dp_vrng *r, int64_t t, dp_buf *b) {
  (void)s;
  size_t len;
  double u = dp_vrng_double(r);
  double lv = dp_dist_sample(&v->slen, u, r);
  len = lv < 1 ? 1 : lv > 4096 ? 4096 : (size_t)lv;
  const char *pat = v->n_pat ? v->pat[dp_alias_draw(&v->patsel, dp_vrng_next(r))] : NULL;
  switch (v->skind) {
    case DP_SK_TIMESTAMP: {
      double off = dp_dist_sample(&v->ts_off, dp_vrng_double(r), r);
      char tb[40];
      int64_t ts = t + (int64_t)llround(off) * 1000000;
      size_t n = dp_fmt_time(ts, v->ts_fmt, tb);
      bput(b, tb, n);
      return;
    }
    case DP_SK_EMAIL: {
      size_t local = len > 12 ? len - 12 : 4;
      if (pat && strchr(pat, '@')) {
        char lp[64];
        size_t k = (size_t)(strchr(pat, '@') - pat);
        if (k >= sizeof lp) k = sizeof lp - 1;
        memcpy(lp, pat, k);
        lp[k] = '\0';
        fill_pattern(b, r, lp, local);
      } else {
        letters(b, r, local, 0);
      }
      static const char *const dom[] = {"@example.com", "@example.org", "@example.net"};
      const char *d = dom[dp_vrng_below(r, 3)];
      bput(b, d, strlen(d));
      return;
    }
    case DP_SK_NAME:
      if (pat) fill_pattern(b, r, pat, len);
      else {
        letters(b, r, 3 + dp_vrng_below(r, 5), 1);
        bputc(b, ' ');
        letters(b, r, 3 + dp_vrng_below(r, 7), 1);
      }
      return;
    case DP_SK_IPV4: {
      char t4[24];
      int n = snprintf(t4, sizeof t4, "%u.%u.%u.%u", 240 + dp_vrng_below(r, 16), dp_vrng_below(r, 256),
                       dp_vrng_below(r, 256), 1 + dp_vrng_below(r, 254));
      bput(b, t4, (size_t)n);
      return;
    }
    case DP_SK_IPV6: {
      char t6[48];
      int n = snprintf(t6, sizeof t6, "2001:db8:%x:%x::%x", dp_vrng_below(r, 65536), dp_vrng_below(r, 65536),
                       1 + dp_vrng_below(r, 65535));
      bput(b, t6, (size_t)n);
      return;
    }
    case DP_SK_UUID: uuid_from(b, dp_vrng_next(r), dp_vrng_next(r)); return;
    case DP_SK_HEX: hexchars(b, r, len); return;
    case DP_SK_PHONE: {
      char tp[24];
      int n = snprintf(tp, sizeof tp, "+1-555-01%02u", dp_vrng_below(r, 100));
      bput(b, tp, (size_t)n);
      return;
    }
    case DP_SK_INTEGER: digits(b, r, len, 1); return;
    case DP_SK_HOST: {
      if (pat) {
        /* the labels but the last, then the reserved .example */
        char hp[64];
        const char *dot = strrchr(pat, '.');
        size_t k = dot ? (size_t)(dot - pat) : strlen(pat);
        if (k >= sizeof hp) k = sizeof hp - 1;
        memcpy(hp, pat, k);
        hp[k] = '\0';
        fill_pattern(b, r, hp, len > 8 ? len - 8 : 4);
      } else {
        letters(b, r, len > 8 ? len - 8 : 4, 0);
      }
      bput(b, ".example", 8);
      return;
    }
    default:
      if (pat) fill_pattern(b, r, pat, len);
      else letters(b, r, len, 0);
      return;
  }
}

static int is_top(const dp_vgen *v, const char *t, size_t n) {
  for (uint32_t i = 0; i < v->n_top; i++)
    if (v->top_len[i] == n && !memcmp(v->top[i], t, n)) return 1;
  return 0;
}

/* printf("%.0f", x) for an integral x with |x| < 1e15 (an exact int64),
 * NUL-terminated; returns the length, or 0 for printf to do it. -0 comes out
 * as "0" (number() maps printf's "-0" to "0" too). */
static int fmt_integral(double x, char *out) {
  if (!(fabs(x) < 1e15)) return 0;
  int64_t v = (int64_t)x;
  uint64_t m = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
  char t[24];
  size_t i = sizeof t;
  do {
    t[--i] = (char)('0' + m % 10);
    m /= 10;
  } while (m);
  int n = 0;
  if (v < 0) out[n++] = '-';
  memcpy(out + n, t + i, sizeof t - i);
  n += (int)(sizeof t - i);
  out[n] = '\0';
  return n;
}

/* printf("%.6g", x) for 1 <= |x| < 1e21, the bulk of generated numbers,
 * NUL-terminated; returns the length, or 0 for printf to do it. x scaled by
 * an exact power of ten into [1e5, 1e6] is off by at most half an ulp
 * (~6e-11) from the exact product, so rounding it to an integer gives
 * printf's 6 digits unless it is within 1e-6 of a half, which is left to
 * printf. Then %g's layout: fixed notation for exponents below 6, else
 * d.ddddde+XX, trailing zeros dropped. */
static int fmt_g6(double x, char *out) {
  static const double p10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                               1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21};
  double a = fabs(x);
  if (!(a >= 1 && a < 1e21)) return 0;
  int e = 0;
  while (a >= p10[e + 1]) e++; /* 10^e <= a < 10^(e+1) */
  double y = e <= 5 ? a * p10[5 - e] : a / p10[e - 5];
  double f = floor(y), fr = y - f;
  if (fabs(fr - 0.5) < 1e-6) return 0;
  uint32_t r = (uint32_t)f + (fr > 0.5);
  if (r >= 1000000) { /* rounded up to the next power of ten */
    r /= 10;
    e++;
  }
  char d[6];
  for (int i = 5; i >= 0; i--, r /= 10) d[i] = (char)('0' + r % 10);
  int last = 5; /* the last significant digit kept */
  int n = 0;
  if (x < 0) out[n++] = '-';
  if (e < 6) {
    while (last > e && d[last] == '0') last--;
    for (int i = 0; i <= last; i++) {
      out[n++] = d[i];
      if (i == e && i < last) out[n++] = '.';
    }
    out[n] = '\0';
    return n;
  }
  while (last > 0 && d[last] == '0') last--;
  out[n++] = d[0];
  if (last > 0) out[n++] = '.';
  for (int i = 1; i <= last; i++) out[n++] = d[i];
  out[n++] = 'e';
  out[n++] = '+';
  out[n++] = (char)('0' + e / 10);
  out[n++] = (char)('0' + e % 10);
  out[n] = '\0';
  return n;
}

/* A number from the distribution; when the property also has top values,
 * the "other" share must not land on them: redraw (a few times). */
static void number(const dp_vgen *v, dp_vrng *r, int integer, dp_buf *b) {
  char t[352]; /* "%.0f" of the largest double is 309 digits */
  int n = 0;
  for (int tries = 0; tries < 8; tries++) {
    double x = dp_dist_sample(&v->num, dp_vrng_double(r), r);
    /* the "other" values of a categorical number are many rare ones: spread
     * them over the sketch's 1% resolution instead of repeating percentiles */
    if (v->has_top) x *= 1.0 + 0.02 * (dp_vrng_double(r) - 0.5);
    if (integer || v->num.integer) {
      double rx = round(x);
      if (!(n = fmt_integral(rx, t))) n = snprintf(t, sizeof t, "%.0f", rx);
    } else if (!(n = fmt_g6(x, t))) {
      n = snprintf(t, sizeof t, "%.6g", x);
    }
    if (n < 0) n = 0;
    if ((size_t)n >= sizeof t) n = (int)sizeof t - 1;
    if (n > 0 && !strcmp(t, "-0")) n = snprintf(t, sizeof t, "0");
    if (!v->has_top || !is_top(v, t, (size_t)n)) break;
  }
  bput(b, t, (size_t)n);
}

/* One value of v into b (after b->len); returns its type. */
static uint8_t value(const doppel_synth *s, const dp_vgen *v, dp_vrng *r, int64_t t, dp_buf *b, int depth) {
  uint8_t type = v->type_of[v->n_types > 1 ? dp_alias_draw(&v->types, dp_vrng_next(r)) : 0];
  if (type == DP_VT_ARRAY && depth == 0) {
    double ln = dp_dist_sample(&v->alen, dp_vrng_double(r), r);
    size_t n = ln < 0 ? 0 : ln > 1000 ? 1000 : (size_t)ln;
    bputc(b, '[');
    for (size_t i = 0; i < n; i++) {
      if (i) bputc(b, ',');
      size_t at = b->len;
      uint8_t it = value(s, v, r, t, b, 1);
      if (it == DP_VT_STRING || it == DP_VT_NUMSTR) {
        /* escape the raw string in place */
        size_t rawlen = b->len - at;
        char *raw = malloc(rawlen + 1);
        if (raw) {
          memcpy(raw, b->data + at, rawlen);
          b->len = at;
          dp_buf_reserve(b, rawlen * 6 + 2);
          b->len += doppel_json_escape(raw, rawlen, b->data + b->len);
          free(raw);
        }
      }
    }
    bputc(b, ']');
    return DP_VT_ARRAY;
  }
  if (type == DP_VT_ARRAY) type = DP_VT_STRING; /* arrays of arrays: flattened */
  if (v->has_top) {
    uint32_t k = dp_alias_draw(&v->topsel, dp_vrng_next(r));
    if (k < v->n_top) {
      bput(b, v->top[k], v->top_len[k]);
      return v->top_type[k];
    }
  }
  switch (type) {
    case DP_VT_BOOL:
      if (dp_vrng_next(r) & 1) {
        bput(b, "true", 4);
      } else {
        bput(b, "false", 5);
      }
      return DP_VT_BOOL;
    case DP_VT_INT: number(v, r, 1, b); return DP_VT_INT;
    case DP_VT_FLOAT: number(v, r, 0, b); return DP_VT_FLOAT;
    case DP_VT_NUMSTR: number(v, r, v->num.integer, b); return DP_VT_NUMSTR;
    default: made_up(s, v, r, t, b); return DP_VT_STRING;
  }
}

/* ---- users ---- */

/* Unique identifier of user u of the given kind/shape (a bijection of u fills the shape). */
static void make_id(const doppel_synth *s, const dp_idgen *g, uint64_t seed, uint64_t u, uint64_t salt, dp_buf *b) {
  (void)s;
  uint64_t v = mix64(u ^ mix64(seed + salt));
  dp_vrng r = {v};
  size_t before = b->len;
  switch (g->kind) {
    case DP_SK_UUID: /* unique: the low 32 bits are a bijection of the user number */
      uuid_from(b, mix64(v ^ 0x55),
                (v & ~UINT64_C(0xffffffff)) | (uint32_t)((uint32_t)u * 0x9E3779B1u ^ (uint32_t)mix64(seed ^ salt)));
      return;
    case DP_SK_IPV4: {
      uint32_t x = (uint32_t)((u * UINT64_C(0x9e3779b1) + (seed & 0xfffffff)) & 0xfffffff);
      char t[24];
      int n = snprintf(t, sizeof t, "%u.%u.%u.%u", 240 + (x >> 24), (x >> 16) & 255, (x >> 8) & 255, x & 255);
      bput(b, t, (size_t)n);
      return;
    }
    case DP_SK_INTEGER: {
      char t[24];
      int n = snprintf(t, sizeof t, "%llu", (unsigned long long)(1000000 + u));
      bput(b, t, (size_t)n);
      return;
    }
    case DP_SK_HEX: {
      char t[24];
      int n = snprintf(t, sizeof t, "%016llx", (unsigned long long)mix64(v ^ u));
      bput(b, t, (size_t)n);
      return;
    }
    default: break;
  }
  dp_vgen tmp;
  memset(&tmp, 0, sizeof tmp);
  tmp.slen = g->len;
  tmp.n_pat = g->n_pat;
  tmp.pat = g->pat;
  tmp.patsel = g->patsel;
  tmp.skind = g->kind;
  made_up(NULL, &tmp, &r, 0, b);
  /* uniqueness: the user number joins the first run of letters or digits */
  char tag[24];
  int n = snprintf(tag, sizeof tag, "%llu", (unsigned long long)u);
  size_t at = b->len;
  for (size_t i = before; i < b->len; i++) {
    char c = b->data[i];
    if (c == '@' || (g->kind == DP_SK_HOST && c == '.')) {
      at = i;
      break;
    }
  }
  if (dp_buf_reserve(b, (size_t)n) != DOPPEL_OK) return;
  memmove(b->data + at + n, b->data + at, b->len - at);
  memcpy(b->data + at, tag, (size_t)n);
  b->len += (size_t)n;
}

/* Calibrate the constant shares of a property: observed constancy counts
 * users with two or more values that never change; random draws agree
 * with probability `chance` by themselves. */
/* Probability that n independent draws of v all agree. */
static double agree(const dp_vgen *v, double n) {
  if (n < 2) return 1;
  if (!v->has_top) return 0; /* made-up values practically never repeat */
  double c = 0;
  for (uint32_t i = 0; i < v->n_top; i++) c += pow(v->top_p[i], n);
  return c;
}

/* Calibrate the constant shares of a property. Observed constancy counts
 * users (sessions) with two or more values that never change; independent
 * draws already agree by chance, the more often the fewer values a user
 * has. occ_user / occ_sess: the occurrence-count distributions of users and
 * sessions with the property (percentile arrays), NULL when unknown. */
void dp_gen_calibrate(dp_pgen *g, const double *occ_user, const double *occ_sess) {
  double chu = 0, chs = 0;
  int nu = 0, ns = 0;
  for (int k = 0; k <= 100; k++) {
    if (occ_user && occ_user[k] >= 2) chu += agree(&g->v, occ_user[k]), nu++;
    if (occ_sess && occ_sess[k] >= 2) chs += agree(&g->v, occ_sess[k]), ns++;
  }
  chu = nu ? chu / nu : g->v.chance2;
  chs = ns ? chs / ns : g->v.chance2;
  g->chance = chu;
  double cu = g->c_user, cs = g->c_sess;
  g->q_user = cu >= 0 && chu < 1 ? (cu - chu) / (1 - chu) : cu >= 0 ? 1 : 0;
  if (g->q_user < 0) g->q_user = 0;
  if (g->q_user > 1) g->q_user = 1;
  if (cs >= 0 && chs < 1) {
    /* sessions of constant users are constant: the rest must make up the difference */
    double rest = g->q_user < 1 ? (cs - g->q_user) / (1 - g->q_user) : cs;
    g->q_sess = (rest - chs) / (1 - chs);
    if (g->q_sess < 0) g->q_sess = 0;
    if (g->q_sess > 1) g->q_sess = 1;
  } else {
    g->q_sess = cs >= 0 ? 1 : 0;
  }
}

static _Thread_local const double *sort_keys;
static int cmp_key(const void *a, const void *b) {
  double x = sort_keys[*(const uint32_t *)a], y = sort_keys[*(const uint32_t *)b];
  if (x != y) return x < y ? -1 : 1;
  return *(const uint32_t *)a < *(const uint32_t *)b ? -1 : 1;
}

static uint32_t gcd32(uint32_t a, uint32_t b) {
  while (b) {
    uint32_t t = a % b;
    a = b;
    b = t;
  }
  return a;
}

static int cmp_i64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return x < y ? -1 : x > y;
}

uint32_t dp_user_arrival(const doppel_synth *s, const dp_gen_params *gp, uint64_t u) {
  doppel_pcg64 g;
  dp_gen_stream(&g, gp->seed, 4, u, 0);
  uint32_t days = gp->days, first = 0;
  int64_t d0 = gp->start_us / 86400000000LL;
  for (int tries = 0; tries < 16; tries++) {
    if (s->n_arrival) {
      double x = dp_alias_draw(&gp->arrival, r64(&g));
      /* stretch the profile's curve over the window */
      double pos = (x + rdouble(&g)) / (double)gp->arrival.n * days;
      first = (uint32_t)pos;
      if (first >= days) first = days - 1;
    } else {
      first = (uint32_t)doppel_pcg64_bounded(&g, days);
    }
    /* weekdays: thin by the weekday's activity (a daily curve has it already) */
    if (s->arrival_daily && days == s->n_arrival) break;
    int wd = (int)(((d0 + first + 3) % 7 + 7) % 7);
    if (rdouble(&g) * s->weekday_max < s->weekday_f[wd]) break;
  }
  return first;
}

doppel_status dp_user_init(dp_user_gen *ug, const doppel_synth *s, const dp_gen_params *gp, uint64_t u) {
  dp_buf_reset(&ug->ids);
  ug->u = u;
  ug->cur = 0;
  ug->seq = 0;
  ug->last_end = INT64_MIN;
  doppel_pcg64 g;
  dp_gen_stream(&g, gp->seed, 1, u, 0);
  /* identifiers */
  ug->has_uid = s->uid.present && (s->uid.share >= 1 || rdouble(&g) < s->uid.share);
  ug->has_did = s->did.present && (s->did.share >= 1 || rdouble(&g) < s->did.share);
  if (!ug->has_uid && !ug->has_did) ug->has_uid = 1;
  ug->uid_off = ug->ids.len;
  if (ug->has_uid) make_id(s, &s->uid, gp->seed, u, 11, &ug->ids);
  ug->uid_len = (uint32_t)(ug->ids.len - ug->uid_off);
  ug->did_off = ug->ids.len;
  if (ug->has_did) make_id(s, &s->did, gp->seed, u, 23, &ug->ids);
  ug->did_len = (uint32_t)(ug->ids.len - ug->did_off);
  /* sessions */
  dp_vrng vr = {r64(&g)};
  double su = rdouble(&g);
  ug->rank = su;
  uint32_t S = (uint32_t)fmax(1, dp_dist_sample(&s->sessions_per_user, su, &vr));
  if (S > 100000) S = 100000;
  const dp_group *grp = NULL;
  for (uint32_t i = 0; i < s->n_groups; i++)
    if (S >= s->groups[i].smin && S <= s->groups[i].smax) grp = &s->groups[i];
  if (!grp && s->n_groups && S > s->groups[s->n_groups - 1].smax) grp = &s->groups[s->n_groups - 1];
  /* active days, and the lifetime coupled to them by rank */
  uint32_t A;
  double arank;
  if (grp && grp->has_days) {
    uint32_t bin = dp_alias_draw(&grp->days, r64(&g));
    arank = s->day_ulo[bin] + rdouble(&g) * (s->day_uhi[bin] - s->day_ulo[bin]);
    A = (uint32_t)fmax(1, dp_dist_sample(&s->active_days, arank, &vr));
  } else if (s->active_days.kind) {
    arank = rdouble(&g);
    A = (uint32_t)fmax(1, dp_dist_sample(&s->active_days, arank, &vr));
  } else {
    A = S; /* decided by the retention curve below */
    arank = rdouble(&g);
  }
  if (A > S) A = S;
  uint32_t days = gp->days;
  uint32_t first = dp_user_arrival(s, gp, u);
  uint32_t horizon = days - first; /* days 0..horizon-1 available */
  if (A > horizon) A = horizon;
  /* lifetime: the last active day is day L-1 */
  uint32_t L = horizon;
  if (s->lifetime.kind && A > 1) {
    double l = dp_dist_sample(&s->lifetime, arank, &vr);
    L = l < A ? A : l > horizon ? horizon : (uint32_t)l;
  }
  if (dp_buf_reserve(&ug->scratch, (size_t)(horizon > A ? horizon : A) * sizeof(uint32_t) + 8) != DOPPEL_OK)
    return DOPPEL_E_NOMEM;
  uint32_t *off = (uint32_t *)ug->scratch.data;
  uint32_t na = 0;
  int64_t dfirst = gp->start_us / 86400000000LL + first;
  if (!s->active_days.kind) {
    /* no active-day distribution (a hand-written profile): every later day is
     * active with the retention curve's probability, so retention is met */
    off[na++] = 0;
    uint32_t H = horizon < s->ret_n ? horizon : s->ret_n;
    for (uint32_t d = 1; d < H; d++) {
      int wd = (int)(((dfirst + d + 3) % 7 + 7) % 7);
      double pr = s->ret_w[d] * s->weekday_f[wd];
      if (rdouble(&g) < pr) off[na++] = d;
    }
    A = na;
    if (S < A) S = A;
  } else {
  /* active day offsets: day 0, day L-1, and A-2 distinct days in between
   * drawn by retention weight times the weekday's weight */
  off[na++] = 0;
  if (A > 1 && s->lifetime.kind) off[na++] = L - 1;
  if (na < A) {
    uint32_t H = L < s->ret_n ? L : s->ret_n;
    uint32_t lo = 1, hi = s->lifetime.kind ? H - 1 : H; /* candidates [lo, hi) */
    uint32_t want = A - na;
    if (hi <= lo) want = 0;
    else if (want > hi - lo) want = hi - lo;
    if (want && (double)want > 0.25 * (hi - lo)) {
      /* dense: the largest weighted keys (exponential race) */
      uint32_t m = hi - lo;
      double *key = malloc((size_t)m * sizeof *key);
      uint32_t *idx = malloc((size_t)m * sizeof *idx);
      if (!key || !idx) {
        free(key);
        free(idx);
        return DOPPEL_E_NOMEM;
      }
      for (uint32_t d = lo; d < hi; d++) {
        int wd = (int)(((dfirst + d + 3) % 7 + 7) % 7);
        double w = s->ret_w[d] * s->weekday_f[wd];
        key[d - lo] = -log(1.0 - rdouble(&g)) / (w > 0 ? w : 1e-12);
        idx[d - lo] = d;
      }
      sort_keys = key - lo;
      qsort(idx, m, sizeof *idx, cmp_key);
      sort_keys = NULL;
      for (uint32_t i = 0; i < want; i++) off[na++] = idx[i];
      free(key);
      free(idx);
    } else if (want) {
      uint32_t got = 0, tries = 0;
      while (got < want && tries < 200 * want) {
        tries++;
        uint32_t d = dp_alias_draw(&gp->ret, r64(&g)) + 1;
        if (d < lo || d >= hi) continue;
        int wd = (int)(((dfirst + d + 3) % 7 + 7) % 7);
        if (rdouble(&g) * s->weekday_max >= s->weekday_f[wd]) continue; /* weekday thinning */
        int dup = 0;
        for (uint32_t i = 0; i < na; i++)
          if (off[i] == d) {
            dup = 1;
            break;
          }
        if (!dup) off[na++] = d, got++;
      }
    }
  }
  }
  A = na;
  /* sessions per active day: one each, the rest spread at random */
  if (dp_buf_reserve(&ug->sched, (size_t)S * (sizeof(int64_t) + sizeof(uint32_t))) != DOPPEL_OK) return DOPPEL_E_NOMEM;
  int64_t *starts = (int64_t *)ug->sched.data;
  uint32_t *lens = (uint32_t *)(starts + S);
  ug->starts = starts;
  ug->lens = lens;
  ug->n = S;
  int64_t day0 = gp->start_us + (int64_t)first * 86400000000LL;
  /* start times: the hour from the weekday's curve, with stratified draws
   * over the user's sessions (u_j in [j/S, (j+1)/S), in random order), so a
   * heavy user's sessions cover the day as the population's do */
  double shift = rdouble(&g);
  uint32_t step = S > 1 ? (uint32_t)doppel_pcg64_bounded(&g, S - 1) + 1 : 1;
  while (S > 1 && gcd32(step, S) != 1) step = step % (S - 1) + 1;
  for (uint32_t j = 0; j < S; j++) {
    uint32_t d = j < A ? off[j] : off[doppel_pcg64_bounded(&g, A)];
    int64_t day = day0 + (int64_t)d * 86400000000LL;
    int64_t dd = day / 86400000000LL;
    int wd = (int)(((dd + 3) % 7 + 7) % 7);
    uint32_t slot = (uint32_t)(((uint64_t)j * step) % S);
    double su2 = ((double)slot + shift) / (double)S;
    const double *cdf = s->start_cdf[wd];
    uint32_t h = 0;
    while (h < 23 && cdf[h] <= su2) h++;
    double lo = h ? cdf[h - 1] : 0, w = cdf[h] - lo;
    double inhour = w > 0 ? (su2 - lo) / w : rdouble(&g);
    if (inhour < 0) inhour = 0;
    if (inhour >= 1) inhour = 0.999999;
    starts[j] = day + (int64_t)h * 3600000000LL + (int64_t)(inhour * 3600000000.0);
  }
  qsort(starts, S, sizeof *starts, cmp_i64);
  /* session lengths from the user's group (or the global distribution) */
  for (uint32_t j = 0; j < S; j++) {
    double lu;
    if (grp) {
      uint32_t bin = dp_alias_draw(&grp->lens, r64(&g));
      lu = s->bin_ulo[bin] + rdouble(&g) * (s->bin_uhi[bin] - s->bin_ulo[bin]);
    } else {
      lu = rdouble(&g);
    }
    double l = dp_dist_sample(&s->events_per_session, lu, &vr);
    lens[j] = l < 1 ? 1 : l > 1e6 ? 1000000 : (uint32_t)l;
  }
  /* user-level constant values */
  for (uint32_t i = 0; i < s->n_gslots; i++) ug->umode[i] = 0, ug->ucv[i].set = 0;
  dp_buf_reset(&ug->ucbuf);
  dp_gen_stream(&ug->vrng, gp->seed, 2, u, 0);
  return DOPPEL_OK;
}

/* ---- sessions ---- */

/* May user ug do event y? The top elig[y] of users by engagement rank,
 * the rank jittered a little per event so the sets are not nested exactly. */
static int eligible(const doppel_synth *s, const dp_user_gen *ug, uint32_t y) {
  double e = s->elig[y];
  if (e >= 1) return 1;
  double j = (double)(mix64(ug->u * UINT64_C(0x9e3779b97f4a7c15) ^ (y + 1) * UINT64_C(0xc2b2ae3d27d4eb4f)) >> 11) * 0x1.0p-53;
  return ug->rank + 0.04 * (j - 0.5) > 1 - e;
}

static uint32_t pick(const doppel_synth *s, const dp_user_gen *ug, const dp_alias *a, const uint32_t *to,
                     const double *w, uint32_t n, doppel_pcg64 *g) {
  uint32_t y = 0;
  for (int tries = 0; tries < 12; tries++) {
    uint32_t j = dp_alias_draw(a, r64(g));
    y = to ? to[j] : j;
    if (eligible(s, ug, y)) return y;
  }
  /* many targets this user does not do: the best eligible one by weight */
  double best = -1;
  for (uint32_t j = 0; j < n; j++) {
    uint32_t c = to ? to[j] : j;
    double wj = w ? w[j] : s->ev[c].share;
    if (eligible(s, ug, c) && wj > best) best = wj, y = c;
  }
  return y;
}

static uint32_t next_event(const doppel_synth *s, const dp_user_gen *ug, uint32_t x, uint32_t left, doppel_pcg64 *g) {
  if (!s->n_to[x]) return x;
  uint32_t d = left < DP_BRIDGE_D ? left : DP_BRIDGE_D;
  const dp_alias *a = &s->bridge[x * (DP_BRIDGE_D + 1) + d];
  return pick(s, ug, a, s->to[x], s->tp[x], s->n_to[x], g);
}

/* The value seed of property slot gs for this event: user-constant,
 * session-constant, or fresh. */
static uint64_t value_seed(dp_user_gen *ug, const dp_pgen *pg, doppel_pcg64 *sg, int *level) {
  uint32_t gs = pg->gslot;
  *level = 0;
  if (ug->umode[gs] == 0) {
    uint64_t r = r64(&ug->vrng);
    ug->umode[gs] = (double)(r >> 11) * 0x1.0p-53 < pg->q_user ? 1 : 2;
    ug->useed[gs] = r64(&ug->vrng);
  }
  if (ug->umode[gs] == 1) {
    *level = 1;
    return ug->useed[gs];
  }
  if (ug->smode[gs] == 0) {
    uint64_t r = r64(sg);
    ug->smode[gs] = (double)(r >> 11) * 0x1.0p-53 < pg->q_sess ? 1 : 2;
    ug->sseed[gs] = r64(sg);
  }
  if (ug->smode[gs] == 1) {
    *level = 2;
    return ug->sseed[gs];
  }
  return r64(sg);
}

/* Can the value kept for a slot stand in this event? When the event's own
 * property has listed values it must be one of them (parent_count 1 of a
 * commit is no value of a merge); timestamps are never reused. */
static double top_share(const dp_vgen *v, const char *b, uint32_t n, uint8_t type) {
  for (uint32_t i = 0; i < v->n_top; i++)
    if (v->top_len[i] == n && v->top_type[i] == type && !memcmp(v->top[i], b, n)) return v->top_p[i];
  return 0;
}

/* The support [lo, hi] of a distribution (0: unbounded or unknown). */
static int dist_support(const dp_dist *d, double *lo, double *hi) {
  switch (d->kind) {
    case DP_D_QUANT: *lo = d->q[0]; *hi = d->q[100]; return 1;
    case DP_D_UNIFORM: *lo = d->a; *hi = d->b; return 1;
    case DP_D_CONST: *lo = *hi = d->a; return 1;
    default: return 0;
  }
}

/* Elements of a JSON array text as written by value() ("[]", "[1,\"a,b\"]"). */
static uint32_t array_len(const char *b, uint32_t n) {
  uint32_t i = 1;
  while (i < n && b[i] == ' ') i++;
  if (n < 2 || i >= n || b[i] == ']') return 0;
  uint32_t items = 1, depth = 0;
  for (; i < n; i++) {
    char c = b[i];
    if (c == '"') {
      for (i++; i < n && b[i] != '"'; i++)
        if (b[i] == '\\') i++;
    } else if (c == '[' || c == '{') {
      depth++;
    } else if ((c == ']' || c == '}') && depth) {
      depth--;
    } else if (c == ',' && depth == 0) {
      items++;
    }
  }
  return items;
}

/* Does a value kept from another event's property fit this one: a type this
 * property has, a number or an array length inside its range? (A commit's
 * list of components is no value for a merge, whose list is always empty.) */
static int fits(const dp_pgen *p, const dp_cval *cv, const char *bytes) {
  int typed = 0;
  for (uint32_t i = 0; i < p->v.n_types; i++) typed |= p->v.type_of[i] == cv->type;
  if (!typed) return 0;
  double lo, hi;
  if (cv->type == DP_VT_ARRAY && p->v.has_arr && dist_support(&p->v.alen, &lo, &hi)) {
    double k = (double)array_len(bytes, cv->len);
    return k >= lo && k <= hi;
  }
  if ((cv->type == DP_VT_INT || cv->type == DP_VT_FLOAT) && p->v.has_num && !p->v.has_top &&
      dist_support(&p->v.num, &lo, &hi) && cv->len < 64) {
    char tmp[64];
    memcpy(tmp, bytes, cv->len);
    tmp[cv->len] = '\0';
    double x = strtod(tmp, NULL);
    return x >= lo && x <= hi;
  }
  return 1;
}

/* 1: reuse the kept value; 0: draw a new one and keep it instead; 2: draw
 * one for this event only (the kept value does not fit here). */
static int reusable(const dp_pgen *p, const dp_cval *cv, const char *bytes, doppel_pcg64 *sg) {
  if (p->v.skind == DP_SK_TIMESTAMP) return 0;
  if (cv->owner != p && !fits(p, cv, bytes)) return 2;
  /* free-form values (ids, names, e-mails) are kept across events */
  if (!p->v.has_top || cv->owner == p) return 1;
  /* a listed value drawn by another event's property: kept with the ratio of
   * its shares here and there (capped at 1), so each event keeps its mix */
  double here = top_share(&p->v, bytes, cv->len, cv->type);
  double there = cv->owner->v.has_top ? top_share(&cv->owner->v, bytes, cv->len, cv->type) : 0;
  if (here <= 0) return 0;
  if (there <= here) return 1;
  return rdouble(sg) < here / there;
}

/* The seed of the user's own constant value of property p, for when the
 * value kept for the path does not suit p (own_value()). */
static uint64_t own_seed(const dp_user_gen *ug, const dp_pgen *p) {
  return dp_sketch_mix64(ug->useed[p->gslot] ^ (UINT64_C(0x9e3779b97f4a7c15) * ((uint64_t)p->pid + 1)));
}

/* Does the user's events of p carry a value of their own instead of the
 * free-form value kept for the path (bytes: the string's raw bytes, drawn
 * from the distribution of cv->from)? A shape that is common there and rare here
 * (the "GitHub" committer of a maintainer's merges, on their commits) is
 * kept only with the ratio of the shape's shares here and there (times the
 * ratio of the length's probability where both have length percentiles), decided
 * once per user and property, so each event keeps its mix of shapes and
 * lengths and every property stays constant for the user. */
static double pat_share(const dp_vgen *v, const char *pat) {
  for (uint32_t i = 0; i < v->n_pat; i++)
    if (!strcmp(v->pat[i], pat)) return v->pat_p[i];
  return 0;
}

/* (own_value() has checked that cv->from is another, free-form property.) */
static int own_decide(const dp_user_gen *ug, const dp_pgen *p, const dp_cval *cv, const char *bytes) {
  const dp_pgen *f = cv->from;
  if (!p->v.pat_p || !f->v.pat_p || cv->type != DP_VT_STRING) return 0;
  char pat[64];
  size_t pl = 0;
  dp_string_pattern(bytes, cv->len, pat, &pl);
  if (pl >= sizeof pat) return 0;
  pat[pl] = '\0';
  double here = pat_share(&p->v, pat), there = pat_share(&f->v, pat);
  /* and the length's mass here and there, when both have length percentiles */
  if (p->v.slen.kind == DP_D_QUANT && f->v.slen.kind == DP_D_QUANT && p->v.slen.integer && f->v.slen.integer) {
    double lo, hi, flo, fhi;
    dp_dist_urange(&p->v.slen, (double)cv->len, (double)cv->len, &lo, &hi);
    dp_dist_urange(&f->v.slen, (double)cv->len, (double)cv->len, &flo, &fhi);
    here *= hi - lo;
    there *= fhi - flo;
  }
  if (!(there > here)) return 0;
  uint64_t r = dp_sketch_mix64(own_seed(ug, p) ^ UINT64_C(0x6f776e2076616c75)); /* "own valu" */
  return (double)(r >> 11) * 0x1.0p-53 >= here / there;
}

/* own_decide(), remembered for the last few properties asking about the
 * value (a user's events alternate between a few properties of a path). */
static int own_value(const dp_user_gen *ug, const dp_pgen *p, dp_cval *cv, const char *bytes) {
  if (!cv->from || cv->from == p || p->v.has_top) return 0;
  for (uint8_t i = 0; i < cv->own_n; i++)
    if (cv->own_p[i] == p) return cv->own_v[i];
  int v = own_decide(ug, p, cv, bytes);
  uint8_t at = cv->own_n < 4 ? cv->own_n++ : (uint8_t)(p->pid & 3);
  cv->own_p[at] = p;
  cv->own_v[at] = (uint8_t)v;
  return v;
}

/* Replace the value written at o->off with the user's own constant value of p. */
static void put_own(const doppel_synth *s, dp_user_gen *ug, const dp_pgen *p, int64_t t, dp_val *o) {
  ug->vals.len = o->off;
  dp_vrng own = {own_seed(ug, p)};
  o->type = value(s, &p->v, &own, t, &ug->vals, 0);
  o->len = (uint32_t)(ug->vals.len - o->off);
}

static void gen_props(const doppel_synth *s, dp_user_gen *ug, const dp_pgen *pg, uint32_t n, int64_t t,
                      doppel_pcg64 *sg, dp_val *out) {
  for (uint32_t i = 0; i < n; i++) {
    const dp_pgen *p = &pg[i];
    if (p->presence < 1 && rdouble(sg) >= p->presence) {
      out[i].type = DP_VT_COUNT; /* absent */
      continue;
    }
    int level;
    dp_vrng vr = {value_seed(ug, p, sg, &level)};
    out[i].off = (uint32_t)ug->vals.len;
    if (level) {
      /* a user- or session-constant value: the same bytes in every event */
      uint32_t gs = p->gslot;
      dp_buf *cb = level == 1 ? &ug->ucbuf : &ug->scbuf;
      dp_cval *cv = level == 1 ? &ug->ucv[gs] : &ug->scv[gs];
      int use = cv->set ? reusable(p, cv, cb->data + cv->off, sg) : 0;
      if (use == 1 && level == 1 && own_value(ug, p, cv, cb->data + cv->off)) {
        put_own(s, ug, p, t, &out[i]);
        continue;
      }
      if (use == 1) {
        bput(&ug->vals, cb->data + cv->off, cv->len);
        out[i].type = cv->type;
        out[i].len = cv->len;
        continue;
      }
      if (use == 2) {
        out[i].type = value(s, &p->v, &vr, t, &ug->vals, 0);
        out[i].len = (uint32_t)(ug->vals.len - out[i].off);
        continue;
      }
      /* a free-form value kept for the user comes from the most specific
       * event the user does that has the property (the merges of a
       * maintainer carry a maintainer's name) */
      const dp_pgen *gen = p;
      if (level == 1 && !p->v.has_top && s->gslot_src) {
        const dp_slot_src *ss = &s->gslot_src[gs];
        for (uint32_t k = 0; k < ss->n; k++)
          if (eligible(s, ug, ss->ev[k])) {
            gen = ss->pg[k];
            break;
          }
      }
      out[i].type = value(s, &gen->v, &vr, t, &ug->vals, 0);
      out[i].len = (uint32_t)(ug->vals.len - out[i].off);
      cv->off = (uint32_t)cb->len;
      cv->len = out[i].len;
      cv->type = out[i].type;
      cv->owner = p;
      cv->from = gen;
      cv->own_n = 0;
      bput(cb, ug->vals.data + out[i].off, out[i].len);
      /* a kept value only when it is in the buffer (out of memory is counted
       * and fails the run at the next flush) */
      cv->set = cb->len == (size_t)cv->off + cv->len;
      if (!cv->set) continue;
      /* kept for the user's other events; this one may carry its own */
      if (level == 1 && own_value(ug, p, cv, cb->data + cv->off)) put_own(s, ug, p, t, &out[i]);
      continue;
    }
    out[i].type = value(s, &p->v, &vr, t, &ug->vals, 0);
    out[i].len = (uint32_t)(ug->vals.len - out[i].off);
  }
}

doppel_status dp_session(dp_user_gen *ug, const doppel_synth *s, const dp_gen_params *gp, dp_event_sink sink,
                         void *ctx) {
  uint32_t j = ug->cur++;
  uint32_t L = ug->lens[j];
  doppel_pcg64 sg;
  dp_gen_stream(&sg, gp->seed, 3, ug->u, j);
  int64_t start = ug->starts[j];
  if (ug->last_end != INT64_MIN && start <= ug->last_end + s->gap_us)
    start = ug->last_end + s->gap_us + 1000000 + (int64_t)(rdouble(&sg) * 3600e6);
  start -= start % gp->res_us;
  for (uint32_t i = 0; i < s->n_gslots; i++) ug->smode[i] = 0, ug->scv[i].set = 0;
  dp_buf_reset(&ug->scbuf);
  /* funnels: a session may open with a funnel */
  const struct dp_funnel *fun = NULL;
  uint32_t fstep = 0;
  for (uint32_t f = 0; f < s->n_funnels && !fun; f++)
    if (rdouble(&sg) < s->funnels[f].start) fun = &s->funnels[f];
  uint32_t x = 0;
  int64_t t = start;
  doppel_status st = DOPPEL_OK;
  dp_vrng gr = {r64(&sg)};
  for (uint32_t i = 0; i < L; i++) {
    uint32_t left = L - 1 - i;
    if (i == 0) {
      const dp_alias *fa = &s->first[left < DP_BRIDGE_D ? left : DP_BRIDGE_D];
      if (fun) x = fun->steps[0];
      else x = fa->n ? pick(s, ug, fa, NULL, NULL, s->n_ev, &sg) : 0;
    } else {
      double g = dp_dist_sample(&s->gaps, dp_vrng_double(&gr), &gr);
      if (!(g >= 0)) g = 0;
      int64_t gus = (int64_t)llround(g * 1e6 / (double)gp->res_us) * gp->res_us; /* at the source's resolution */
      if (gus > s->gap_us) gus = s->gap_us - s->gap_us % gp->res_us;
      t += gus;
      if (fun && fstep + 1 < fun->n && rdouble(&sg) < fun->conv[fstep + 1]) {
        x = fun->steps[++fstep];
      } else {
        fun = NULL;
        x = next_event(s, ug, x, left, &sg);
      }
    }
    const dp_evdef *e = &s->ev[x];
    dp_buf_reset(&ug->vals);
    if (!ug->no_props) {
      gen_props(s, ug, e->props, e->n_props, t, &sg, ug->pv);
      gen_props(s, ug, s->uprops, s->n_uprops, t, &sg, ug->uv);
    }
    dp_gen_event ge = {t, x, j, start, ug->seq++, ug->pv, ug->uv};
    if ((st = sink(ctx, ug, &ge)) != DOPPEL_OK) return st;
  }
  ug->last_end = t;
  return DOPPEL_OK;
}

doppel_status dp_user_gen_init(dp_user_gen *ug, const doppel_synth *s) {
  memset(ug, 0, sizeof *ug);
  dp_buf_init(&ug->ids, 0);
  dp_buf_init(&ug->scratch, 0);
  dp_buf_init(&ug->sched, 0);
  dp_buf_init(&ug->vals, 0);
  uint32_t maxp = s->n_uprops;
  for (uint32_t i = 0; i < s->n_ev; i++)
    if (s->ev[i].n_props > maxp) maxp = s->ev[i].n_props;
  ug->pv = calloc(maxp + 1, sizeof *ug->pv);
  ug->uv = calloc(s->n_uprops + 1, sizeof *ug->uv);
  ug->umode = calloc(s->n_gslots + 1, 1);
  ug->smode = calloc(s->n_gslots + 1, 1);
  ug->useed = calloc(s->n_gslots + 1, sizeof *ug->useed);
  ug->sseed = calloc(s->n_gslots + 1, sizeof *ug->sseed);
  ug->ucv = calloc(s->n_gslots + 1, sizeof *ug->ucv);
  ug->scv = calloc(s->n_gslots + 1, sizeof *ug->scv);
  dp_buf_init(&ug->ucbuf, 0);
  dp_buf_init(&ug->scbuf, 0);
  if (!ug->pv || !ug->uv || !ug->umode || !ug->smode || !ug->useed || !ug->sseed || !ug->ucv || !ug->scv)
    return DOPPEL_E_NOMEM;
  return DOPPEL_OK;
}

void dp_user_gen_release(dp_user_gen *ug) {
  dp_buf_release(&ug->ids);
  dp_buf_release(&ug->scratch);
  dp_buf_release(&ug->sched);
  dp_buf_release(&ug->vals);
  free(ug->pv);
  free(ug->uv);
  free(ug->umode);
  free(ug->smode);
  free(ug->useed);
  free(ug->sseed);
  free(ug->ucv);
  free(ug->scv);
  dp_buf_release(&ug->ucbuf);
  dp_buf_release(&ug->scbuf);
  memset(ug, 0, sizeof *ug);
}

/* ---- run parameters ---- */

doppel_status dp_gen_params_init(dp_gen_params *gp, const doppel_synth *s, uint64_t seed, int64_t start_us,
                                 uint32_t days) {
  memset(gp, 0, sizeof *gp);
  gp->seed = seed;
  gp->start_us = start_us ? start_us - (start_us % 86400000000LL) : s->start_us;
  gp->days = days ? days : s->days;
  if (gp->days < 1) gp->days = 1;
  if (gp->days > DP_RET_MAX) return DOPPEL_E_USAGE;
  gp->res_us = s->res_us ? s->res_us : 1;
  int rc = s->n_arrival ? dp_alias_build(&gp->arrival, s->arrival, s->n_arrival) : 0;
  if (rc == DP_ALIAS_NOMEM) return DOPPEL_E_NOMEM;
  if (rc != 0) {
    double one = 1; /* an arrival curve of zeros: uniform arrivals */
    if (dp_alias_build(&gp->arrival, &one, 1) != 0) return DOPPEL_E_NOMEM;
  }
  /* retention weights of offsets 1..min(days, ret_n)-1 */
  uint32_t H = gp->days < s->ret_n ? gp->days : s->ret_n;
  rc = H > 1 ? dp_alias_build(&gp->ret, s->ret_w + 1, H - 1) : 0;
  if (rc == DP_ALIAS_NOMEM) return DOPPEL_E_NOMEM;
  if (rc != 0) {
    double *flat = malloc((H - 1) * sizeof *flat);
    if (!flat) return DOPPEL_E_NOMEM;
    for (uint32_t i = 0; i + 1 < H; i++) flat[i] = 1;
    rc = dp_alias_build(&gp->ret, flat, H - 1);
    free(flat);
    if (rc) return DOPPEL_E_NOMEM;
  }
  return DOPPEL_OK;
}

void dp_gen_params_release(dp_gen_params *gp) {
  dp_alias_free(&gp->arrival);
  dp_alias_free(&gp->ret);
}

/* ---- pilot calibration of the event eligibility ---- */

typedef struct pilot {
  const doppel_synth *s;
  /* constancy per slot: the current user's first value, count and change, and the tallies */
  uint64_t *first_h, *cnt;
  uint8_t *changed;
  uint64_t *with, *constant;
  uint64_t cur_user;
  int props;
  uint64_t *count;     /* events per event */
  uint64_t *users;     /* users per event */
  uint64_t *seen;      /* per event: last user index + 1 that counted */
  uint64_t total;
} pilot;

static void pilot_user_done(pilot *pl) {
  for (uint32_t g = 0; g < pl->s->n_gslots; g++) {
    if (pl->cnt[g] >= 2) {
      pl->with[g]++;
      if (!pl->changed[g]) pl->constant[g]++;
    }
    pl->cnt[g] = 0;
    pl->changed[g] = 0;
  }
}

static doppel_status pilot_sink(void *ctx, dp_user_gen *ug, const dp_gen_event *e) {
  pilot *pl = ctx;
  if (pl->props) {
    if (ug->u + 1 != pl->cur_user) {
      if (pl->cur_user) pilot_user_done(pl);
      pl->cur_user = ug->u + 1;
    }
    const dp_evdef *ev = &pl->s->ev[e->ev];
    for (uint32_t i = 0; i < ev->n_props; i++) {
      if (e->pv[i].type == DP_VT_COUNT) continue;
      uint32_t g = ev->props[i].gslot;
      uint64_t h = 1469598103934665603ULL;
      const unsigned char *b = (const unsigned char *)ug->vals.data + e->pv[i].off;
      for (uint32_t k = 0; k < e->pv[i].len; k++) h = (h ^ b[k]) * 1099511628211ULL;
      if (pl->cnt[g]++ == 0) pl->first_h[g] = h;
      else if (h != pl->first_h[g]) pl->changed[g] = 1;
    }
  }
  pl->count[e->ev]++;
  pl->total++;
  if (pl->seen[e->ev] != ug->u + 1) {
    pl->seen[e->ev] = ug->u + 1;
    pl->users[e->ev]++;
  }
  return DOPPEL_OK;
}

/* Constancy pilot: generate users with their properties, measure how many
 * users keep each property constant, and correct the constant shares. */
static doppel_status pilot_constancy(doppel_synth *s, const dp_gen_params *gp, uint64_t P) {
  uint32_t G = s->n_gslots;
  if (!G) return DOPPEL_OK;
  double *target = malloc(G * sizeof *target);
  pilot pl;
  memset(&pl, 0, sizeof pl);
  pl.s = s;
  pl.props = 1;
  pl.count = calloc(s->n_ev, sizeof *pl.count);
  pl.users = calloc(s->n_ev, sizeof *pl.users);
  pl.seen = calloc(s->n_ev, sizeof *pl.seen);
  pl.first_h = calloc(G, sizeof *pl.first_h);
  pl.cnt = calloc(G, sizeof *pl.cnt);
  pl.changed = calloc(G, 1);
  pl.with = calloc(G, sizeof *pl.with);
  pl.constant = calloc(G, sizeof *pl.constant);
  dp_user_gen ug;
  doppel_status st = DOPPEL_OK;
  int ok = target && pl.count && pl.users && pl.seen && pl.first_h && pl.cnt && pl.changed && pl.with && pl.constant &&
           dp_user_gen_init(&ug, s) == DOPPEL_OK;
  if (!ok) st = DOPPEL_E_NOMEM;
  int any = 0;
  for (uint32_t g = 0; ok && g < G; g++) {
    target[g] = -1;
    for (uint32_t x = 0; x < s->n_ev; x++)
      for (uint32_t i = 0; i < s->ev[x].n_props; i++)
        if (s->ev[x].props[i].gslot == g && s->ev[x].props[i].c_user >= 0) target[g] = s->ev[x].props[i].c_user;
    any |= target[g] >= 0;
  }
  for (int it = 0; ok && any && it < 3 && st == DOPPEL_OK; it++) {
    memset(pl.with, 0, G * sizeof *pl.with);
    memset(pl.constant, 0, G * sizeof *pl.constant);
    pl.cur_user = 0;
    pl.total = 0;
    for (uint64_t u = 0; u < P && st == DOPPEL_OK; u++) {
      if ((st = dp_user_init(&ug, s, gp, u)) != DOPPEL_OK) break;
      while (ug.cur < ug.n && st == DOPPEL_OK) st = dp_session(&ug, s, gp, pilot_sink, &pl);
    }
    if (pl.cur_user) pilot_user_done(&pl);
    if (pl.total) s->mean_events = (double)pl.total / (double)P; /* for --events */
    for (uint32_t g = 0; g < G; g++) {
      if (target[g] < 0 || pl.with[g] < 20) continue;
      double got = (double)pl.constant[g] / (double)pl.with[g];
      double err = target[g] - got;
      for (uint32_t x = 0; x < s->n_ev; x++)
        for (uint32_t i = 0; i < s->ev[x].n_props; i++) {
          dp_pgen *pg = &s->ev[x].props[i];
          if (pg->gslot != g) continue;
          pg->q_user += err;
          if (pg->q_user < 0) pg->q_user = 0;
          if (pg->q_user > 1) pg->q_user = 1;
        }
    }
  }
  if (ok) dp_user_gen_release(&ug);
  free(target);
  free(pl.count);
  free(pl.users);
  free(pl.seen);
  free(pl.first_h);
  free(pl.cnt);
  free(pl.changed);
  free(pl.with);
  free(pl.constant);
  return st;
}

/* Generate a pilot population (fixed seed, events only) and correct each
 * event's eligibility share and chain boost so that the event mix and the
 * users per event come out as in the profile. Deterministic. */
doppel_status dp_synth_pilot(doppel_synth *s, const double *target_users) {
  int need = 0;
  for (uint32_t y = 0; y < s->n_ev; y++) need |= s->elig[y] < 1;
  dp_gen_params gp;
  doppel_status st = dp_gen_params_init(&gp, s, UINT64_C(0x70696c6f74), 0, 0);
  if (st != DOPPEL_OK) {
    dp_gen_params_release(&gp);
    return st;
  }
  pilot pl;
  memset(&pl, 0, sizeof pl);
  pl.s = s;
  pl.count = calloc(s->n_ev, sizeof *pl.count);
  pl.users = calloc(s->n_ev, sizeof *pl.users);
  pl.seen = calloc(s->n_ev, sizeof *pl.seen);
  dp_user_gen ug;
  if (!pl.count || !pl.users || !pl.seen || dp_user_gen_init(&ug, s) != DOPPEL_OK) {
    free(pl.count);
    free(pl.users);
    free(pl.seen);
    dp_gen_params_release(&gp);
    return DOPPEL_E_NOMEM;
  }
  ug.no_props = 1;
  uint64_t P = s->pilot_users ? s->pilot_users
               : s->profile_users < 500 ? 500 : s->profile_users > 4000 ? 4000 : s->profile_users;
  for (int it = 0; need && it < 4 && st == DOPPEL_OK; it++) {
    memset(pl.count, 0, s->n_ev * sizeof *pl.count);
    memset(pl.users, 0, s->n_ev * sizeof *pl.users);
    memset(pl.seen, 0, s->n_ev * sizeof *pl.seen);
    pl.total = 0;
    for (uint64_t u = 0; u < P && st == DOPPEL_OK; u++) {
      if ((st = dp_user_init(&ug, s, &gp, u)) != DOPPEL_OK) break;
      while (ug.cur < ug.n && st == DOPPEL_OK) st = dp_session(&ug, s, &gp, pilot_sink, &pl);
    }
    if (st != DOPPEL_OK || !pl.total) break;
    s->mean_events = (double)pl.total / (double)P; /* for --events */
    for (uint32_t y = 0; y < s->n_ev; y++) {
      if (s->elig[y] >= 1 && target_users[y] >= 0.999) continue;
      double share = (double)pl.count[y] / (double)pl.total;
      double ufrac = (double)pl.users[y] / (double)P;
      if (share > 0) {
        double f = s->ev[y].share / share;
        if (f > 4) f = 4;
        if (f < 0.25) f = 0.25;
        s->boost[y] *= pow(f, 0.8);
      }
      if (ufrac > 0 && target_users[y] > 0) {
        double f = target_users[y] / ufrac;
        if (f > 2) f = 2;
        if (f < 0.5) f = 0.5;
        s->elig[y] *= pow(f, 0.8);
        if (s->elig[y] > 1) s->elig[y] = 1;
      }
    }
    if (dp_chain_tables(s) != 0) st = DOPPEL_E_NOMEM;
  }
  dp_user_gen_release(&ug);
  if (st == DOPPEL_OK) st = pilot_constancy(s, &gp, P);
  free(pl.count);
  free(pl.users);
  free(pl.seen);
  dp_gen_params_release(&gp);
  return st;
}
