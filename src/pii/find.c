/*
 * find.c — doppel_pii_find(): e-mails, phones, IP addresses, cards, IBANs,
 * SSNs and personal URL query values embedded in free text, found by a
 * SIMD/byte prefilter and a set of resumable scanners whose candidates are
 * merged into a sorted, non-overlapping list. No allocation.
 */
#include <doppel/pii.h>

#include "pii/pii_int.h"

#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/*
 * How it works. One cheap pass over the bytes counts digits and notes the
 * trigger bytes ('@', '%', ':', '.', '=', '?', '&'); text without a trigger
 * returns at once. Otherwise only the scanners that can match run (e-mail on
 * '@'/'%'; IPv4 on '.' and 4+ digits; IPv6 on ':' and a digit; numbers and
 * IBANs on 8+ digits; URL values on '=' with '?' or '&'), each resumable and
 * yielding candidates in increasing start order:
 *
 *   email   anchors on '@' and on "%40" (an URL-encoded address); the local
 *           part is read backwards over [A-Za-z0-9._+-], %XX escapes of
 *           those, and UTF-8 letters, so "mailto:", "<", quotes and "=" end
 *           it; the domain is read forwards and trailing dots/dashes are
 *           dropped ("write to a@b.org."). If the TLD does not validate,
 *           trailing labels are cut ("a@b.com.42" → "a@b.com").
 *   ipv4    maximal runs of digits and dots, not glued to letters, '_' or a
 *           leading '.', with exactly four octets ("1.2.3.4.5" is not one).
 *   ipv6    maximal runs of hex digits, ':' and '.' around a ':', not glued
 *           to letters or '_' ("ActiveRecord::Base", "std::map" are not),
 *           with at least one decimal digit ("a::b" is not).
 *   number  tokens of digit groups joined by single ' ', '-' or '.' (and one
 *           "(415)" group, a leading '+'): every sub-run of groups cut at
 *           spaces is tried as a card, an SSN and a phone; per token the
 *           best non-overlapping ones win (card > SSN > phone, then longer).
 *           A token never starts or ends glued to a letter or to "x-"/"x.",
 *           so UUIDs, hashes, dates and versions inside words stay quiet.
 *   iban    two letters and two digits at a word start, read to the
 *           registered length (compact, or spaced every 4 characters).
 *   url     "key=value" after '?', '&', ';', '#' or at the start of the text
 *           (only when the text has a '?' or '&'): the key is URL-decoded,
 *           lowercased, "user[email]" reduced to "email", and judged by a
 *           credential list and doppel_pii_classify_name(); the match is the
 *           value up to '&', '#', whitespace, a quote or '<'/'>' (closing
 *           punctuation before whitespace/end is dropped).
 *
 * Candidates from all scanners are merged by start; on overlap the longer
 * wins, and on equal length the more specific kind (email > card > iban >
 * ssn > ipv6 > ipv4 > phone > url). The result is sorted and
 * non-overlapping. Each scanner keeps a small fixed queue.
 */

/* ---- prefilter --------------------------------------------------------- */

enum {
  PF_AT = 1,
  PF_PCT = 2,
  PF_COLON = 4,
  PF_EQ = 8,
  PF_QA = 16,
  PF_DOT = 32,
  PF_DIGIT = 128
};

static const unsigned char prefilter_class[256] = {
    ['@'] = PF_AT,    ['%'] = PF_PCT,   [':'] = PF_COLON, ['='] = PF_EQ,    ['?'] = PF_QA,
    ['&'] = PF_QA,    ['.'] = PF_DOT,   ['0'] = PF_DIGIT, ['1'] = PF_DIGIT, ['2'] = PF_DIGIT,
    ['3'] = PF_DIGIT, ['4'] = PF_DIGIT, ['5'] = PF_DIGIT, ['6'] = PF_DIGIT, ['7'] = PF_DIGIT,
    ['8'] = PF_DIGIT, ['9'] = PF_DIGIT,
};

/* Flags of one byte range, scalar. */
static unsigned prefilter_tail(const unsigned char *u, size_t n, size_t *digits) {
  unsigned a0 = 0, a1 = 0;
  size_t d0 = 0, d1 = 0, i = 0;
  for (; i + 2 <= n; i += 2) {
    unsigned t0 = prefilter_class[u[i]], t1 = prefilter_class[u[i + 1]];
    a0 |= t0;
    a1 |= t1;
    d0 += t0 >> 7;
    d1 += t1 >> 7;
  }
  if (i < n) {
    unsigned t = prefilter_class[u[i]];
    a0 |= t;
    d0 += t >> 7;
  }
  *digits += d0 + d1;
  return a0 | a1;
}

#if defined(__SSE2__)
/* 16 bytes at a time, branch-free: trigger bytes are OR-ed into one vector
 * per class, digits summed in byte lanes (flushed before they overflow). */
static unsigned prefilter(const unsigned char *u, size_t n, size_t *digits) {
  const __m128i c0 = _mm_set1_epi8('0'), c9 = _mm_set1_epi8(9), zero = _mm_setzero_si128();
  const __m128i at = _mm_set1_epi8('@'), pc = _mm_set1_epi8('%'), co = _mm_set1_epi8(':');
  const __m128i eq = _mm_set1_epi8('='), qm = _mm_set1_epi8('?'), am = _mm_set1_epi8('&');
  const __m128i dt = _mm_set1_epi8('.');
  __m128i a_at = zero, a_pc = zero, a_co = zero, a_eq = zero, a_qa = zero, a_dt = zero;
  __m128i cnt = zero;
  unsigned acc = 0, blocks = 0;
  size_t i = 0, d = 0;
  for (; i + 16 <= n; i += 16) {
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(u + i));
    __m128i t = _mm_sub_epi8(v, c0);
    a_at = _mm_or_si128(a_at, _mm_cmpeq_epi8(v, at));
    a_pc = _mm_or_si128(a_pc, _mm_cmpeq_epi8(v, pc));
    a_co = _mm_or_si128(a_co, _mm_cmpeq_epi8(v, co));
    a_eq = _mm_or_si128(a_eq, _mm_cmpeq_epi8(v, eq));
    a_qa = _mm_or_si128(a_qa, _mm_or_si128(_mm_cmpeq_epi8(v, qm), _mm_cmpeq_epi8(v, am)));
    a_dt = _mm_or_si128(a_dt, _mm_cmpeq_epi8(v, dt));
    cnt = _mm_sub_epi8(cnt, _mm_cmpeq_epi8(_mm_min_epu8(t, c9), t)); /* +1 per digit */
    if (++blocks == 255) {
      __m128i sum = _mm_sad_epu8(cnt, zero);
      d += (size_t)_mm_cvtsi128_si32(sum) + (size_t)_mm_cvtsi128_si32(_mm_srli_si128(sum, 8));
      cnt = zero;
      blocks = 0;
    }
  }
  {
    __m128i sum = _mm_sad_epu8(cnt, zero);
    d += (size_t)_mm_cvtsi128_si32(sum) + (size_t)_mm_cvtsi128_si32(_mm_srli_si128(sum, 8));
  }
  if (_mm_movemask_epi8(a_at)) acc |= PF_AT;
  if (_mm_movemask_epi8(a_pc)) acc |= PF_PCT;
  if (_mm_movemask_epi8(a_co)) acc |= PF_COLON;
  if (_mm_movemask_epi8(a_eq)) acc |= PF_EQ;
  if (_mm_movemask_epi8(a_qa)) acc |= PF_QA;
  if (_mm_movemask_epi8(a_dt)) acc |= PF_DOT;
  if (d) acc |= PF_DIGIT;
  *digits = d;
  return acc | prefilter_tail(u + i, n - i, digits);
}
#else
static unsigned prefilter(const unsigned char *u, size_t n, size_t *digits) {
  *digits = 0;
  return prefilter_tail(u, n, digits);
}
#endif

/* ---- scanner plumbing ------------------------------------------------- */

#define DET_QUEUE 16

typedef struct det det;
typedef void (*det_fill_fn)(const unsigned char *u, size_t n, det *d);

struct det {
  det_fill_fn fill;
  size_t pos;    /* forward scanning resumes here */
  size_t low;    /* backward scans stop here (end of the previous anchor) */
  size_t aux[2]; /* scanner-specific cached positions */
  unsigned qi, qn;
  int done;
  doppel_pii_match q[DET_QUEUE];
};

static void det_push(det *d, size_t start, size_t len, doppel_pii_kind kind) {
  if (d->qn < DET_QUEUE) {
    d->q[d->qn].start = start;
    d->q[d->qn].len = len;
    d->q[d->qn].kind = kind;
    d->qn++;
  }
}

static int word_byte(unsigned char c) { return dp_pii_alnum(c) || c == '_'; }

/* ---- e-mail ------------------------------------------------------------ */

static int local_char(unsigned c) {
  return c < 0x80 && (dp_pii_alnum((unsigned char)c) || c == '.' || c == '_' || c == '+' || c == '-');
}

/* Validate u[st..en) as an address; pct: the '@' is written "%40". */
static int email_span_ok(const unsigned char *u, size_t st, size_t en, int pct) {
  char buf[256];
  size_t m = 0;
  if (!pct) return doppel_pii_is_email((const char *)u + st, en - st);
  for (size_t i = st; i < en; i++) {
    unsigned char c = u[i];
    if (c == '%' && i + 2 < en && dp_pii_hex(u[i + 1]) && dp_pii_hex(u[i + 2])) {
      c = (unsigned char)(dp_pii_hexval(u[i + 1]) * 16 + dp_pii_hexval(u[i + 2]));
      i += 2;
    }
    if (m == 254) return 0;
    buf[m++] = (char)c;
  }
  return doppel_pii_is_email(buf, m);
}

/* Candidate address around the anchor u[p..p+al) ("@" or "%40"). */
static int email_candidate(const unsigned char *u, size_t n, size_t low, size_t p, size_t al,
                           size_t *ms, size_t *me) {
  size_t ls = p, de = p + al;
  while (ls > low) { /* local part, backwards */
    unsigned char c = u[ls - 1];
    if (ls - low >= 3 && u[ls - 3] == '%' && dp_pii_hex(u[ls - 2]) && dp_pii_hex(c)) {
      if (!local_char((unsigned)(dp_pii_hexval(u[ls - 2]) * 16 + dp_pii_hexval(c)))) break;
      ls -= 3;
    } else if (c < 0x80) {
      if (!local_char(c)) break;
      ls--;
    } else {
      size_t k = ls - 1, lim = ls - low < 4 ? ls - low : 4;
      while (k > ls - lim && (u[k] & 0xC0) == 0x80) k--;
      if (dp_pii_utf8_word(u + k, ls - k) != ls - k) break;
      ls = k;
    }
  }
  while (ls < p && u[ls] == '.') ls++;
  if (ls == p) return 0;
  while (de < n) { /* domain, forwards */
    unsigned char c = u[de];
    if (c < 0x80) {
      if (!dp_pii_alnum(c) && c != '-' && c != '.') break;
      de++;
    } else {
      size_t k = dp_pii_utf8_word(u + de, n - de);
      if (!k) break;
      de += k;
    }
  }
  if (de < n && u[de] == '_') return 0; /* an identifier, not a host */
  for (int tries = 0; tries < 4; tries++) {
    size_t k;
    while (de > p + al && (u[de - 1] == '.' || u[de - 1] == '-')) de--;
    if (de == p + al) return 0;
    if (email_span_ok(u, ls, de, al == 3)) {
      *ms = ls;
      *me = de;
      return 1;
    }
    k = de;
    while (k > p + al && u[k - 1] != '.') k--;
    if (k <= p + al + 1) return 0;
    de = k - 1;
  }
  return 0;
}

static void fill_email(const unsigned char *u, size_t n, det *d) {
  while (d->pos < n) {
    size_t p, al;
    if (d->aux[0] < d->pos) {
      const unsigned char *q = memchr(u + d->pos, '@', n - d->pos);
      d->aux[0] = q ? (size_t)(q - u) : n;
    }
    if (d->aux[1] < d->pos) {
      const unsigned char *q = memchr(u + d->pos, '%', n - d->pos);
      d->aux[1] = q ? (size_t)(q - u) : n;
    }
    p = d->aux[0] < d->aux[1] ? d->aux[0] : d->aux[1];
    if (p >= n) break;
    if (p == d->aux[0]) {
      al = 1;
    } else if (p + 2 < n && u[p + 1] == '4' && u[p + 2] == '0') {
      al = 3;
    } else {
      d->pos = p + 1;
      continue;
    }
    {
      size_t ms, me;
      int ok = email_candidate(u, n, d->low, p, al, &ms, &me);
      d->pos = d->low = p + al;
      if (ok) {
        det_push(d, ms, me - ms, DOPPEL_PII_EMAIL);
        return;
      }
    }
  }
  d->pos = n;
  d->done = 1;
}

/* ---- IPv4 ---------------------------------------------------------------- */

static void fill_ipv4(const unsigned char *u, size_t n, det *d) {
  size_t i = d->pos;
  while (i < n) {
    size_t a = i, b, e;
    if (!dp_pii_digit(u[i])) {
      i++;
      continue;
    }
    b = a;
    while (b < n && (dp_pii_digit(u[b]) || u[b] == '.')) b++;
    i = b;
    if (a > 0 && (word_byte(u[a - 1]) || u[a - 1] == '.')) continue;
    if (b < n && word_byte(u[b])) continue;
    e = b;
    while (e > a && u[e - 1] == '.') e--;
    if (e - a >= 7 && e - a <= 15 && doppel_pii_is_ipv4((const char *)u + a, e - a)) {
      det_push(d, a, e - a, DOPPEL_PII_IPV4);
      d->pos = i;
      return;
    }
  }
  d->pos = n;
  d->done = 1;
}

/* ---- IPv6 ---------------------------------------------------------------- */

static int v6_byte(unsigned char c) { return dp_pii_hex(c) || c == ':' || c == '.'; }

static void fill_ipv6(const unsigned char *u, size_t n, det *d) {
  while (d->pos < n) {
    const unsigned char *q = memchr(u + d->pos, ':', n - d->pos);
    size_t c, a, b, digits = 0;
    if (!q) break;
    c = (size_t)(q - u);
    a = c;
    b = c;
    while (a > d->low && v6_byte(u[a - 1])) a--;
    while (b < n && v6_byte(u[b])) b++;
    d->pos = d->low = b;
    if ((a > 0 && word_byte(u[a - 1])) || (b < n && word_byte(u[b]))) continue;
    while (a < b && u[a] == '.') a++;
    while (b > a && u[b - 1] == '.') b--;
    if (b - a >= 3 && u[b - 1] == ':' && u[b - 2] != ':') b--;
    for (size_t k = a; k < b; k++) digits += dp_pii_digit(u[k]);
    if (digits && b - a >= 3 && b - a <= 45 && doppel_pii_is_ipv6((const char *)u + a, b - a)) {
      det_push(d, a, b - a, DOPPEL_PII_IPV6);
      return;
    }
  }
  d->pos = n;
  d->done = 1;
}

/* ---- cards, SSNs, phones ------------------------------------------------- */

#define NUM_MAX_GROUPS 16

typedef struct num_group {
  size_t s, e;   /* bytes, "(415)" included */
  size_t digits;
  unsigned char sep; /* separator after the group inside the token, or 0 */
} num_group;

static int num_rank(doppel_pii_kind k) {
  return k == DOPPEL_PII_CARD ? 3 : k == DOPPEL_PII_SSN ? 2 : k == DOPPEL_PII_PHONE ? 1 : 0;
}

/* May a candidate end at e (exclusive)? Not glued to a word or "-x"/".x". */
static int num_end_ok(const unsigned char *u, size_t n, size_t e) {
  if (e >= n) return 1;
  if (word_byte(u[e])) return 0;
  return !((u[e] == '-' || u[e] == '.') && e + 1 < n && dp_pii_alnum(u[e + 1]));
}

static void number_candidates(const unsigned char *u, size_t n, size_t a, const num_group *g,
                              size_t ng, int dotted, det *d) {
  size_t bs[NUM_MAX_GROUPS], be[NUM_MAX_GROUPS];
  doppel_pii_kind bk[NUM_MAX_GROUPS];
  int taken[NUM_MAX_GROUPS];
  size_t nb = 0;
  for (size_t gs = 0; gs < ng; gs++) {
    size_t st = gs == 0 ? a : g[gs].s, digits = 0, best_e = 0;
    doppel_pii_kind best = DOPPEL_PII_NONE;
    if (gs > 0 && (dotted || g[gs - 1].sep != ' ')) continue;
    for (size_t ge = gs; ge < ng; ge++) {
      size_t len = g[ge].e - st;
      doppel_pii_kind k = DOPPEL_PII_NONE;
      digits += g[ge].digits;
      if (digits > 19 || len > 40) break;
      if (ge + 1 < ng ? (dotted || g[ge].sep != ' ') : !num_end_ok(u, n, g[ge].e)) continue;
      if (digits >= 13 && dp_pii_card_ok((const char *)u + st, len))
        k = DOPPEL_PII_CARD;
      else if (digits == 9 && doppel_pii_is_ssn((const char *)u + st, len))
        k = DOPPEL_PII_SSN;
      else if (digits >= 8 && doppel_pii_is_phone((const char *)u + st, len))
        k = DOPPEL_PII_PHONE;
      if (k != DOPPEL_PII_NONE &&
          (num_rank(k) > num_rank(best) || (num_rank(k) == num_rank(best) && g[ge].e > best_e))) {
        best = k;
        best_e = g[ge].e;
      }
    }
    if (best != DOPPEL_PII_NONE) {
      bs[nb] = st;
      be[nb] = best_e;
      bk[nb] = best;
      taken[nb] = 0;
      nb++;
    }
  }
  for (;;) { /* greedy: best rank, then longest, then earliest */
    size_t pick = nb;
    for (size_t i = 0; i < nb; i++) {
      int free = taken[i] == 0;
      for (size_t j = 0; free && j < nb; j++)
        if (taken[j] == 1 && bs[i] < be[j] && bs[j] < be[i]) free = 0;
      if (!free) continue;
      if (pick == nb || num_rank(bk[i]) > num_rank(bk[pick]) ||
          (num_rank(bk[i]) == num_rank(bk[pick]) && be[i] - bs[i] > be[pick] - bs[pick]))
        pick = i;
    }
    if (pick == nb) break;
    taken[pick] = 1;
  }
  for (size_t i = 0; i < nb; i++) /* bs[] is increasing */
    if (taken[i] == 1) det_push(d, bs[i], be[i] - bs[i], bk[i]);
}

static void fill_number(const unsigned char *u, size_t n, det *d) {
  size_t i = d->pos;
  while (i < n) {
    unsigned char c = u[i];
    num_group g[NUM_MAX_GROUPS];
    size_t a = i, j = i, ng = 0;
    int dotted = 0;
    if (!dp_pii_digit(c) && !((c == '+' || c == '(') && i + 1 < n && dp_pii_digit(u[i + 1]))) {
      i++;
      continue;
    }
    if (a > 0) {
      unsigned char pc = u[a - 1];
      if (word_byte(pc) || ((pc == '-' || pc == '.') && a >= 2 && dp_pii_alnum(u[a - 2]))) {
        i = a + 1; /* glued to a word: skip the rest of it */
        while (i < n && dp_pii_alnum(u[i])) i++;
        continue;
      }
    }
    if (u[j] == '+') j++;
    while (j < n && ng < NUM_MAX_GROUPS) {
      size_t gs = j, digits;
      int par = 0;
      if (u[j] == '(') {
        size_t k = j + 1;
        while (k < n && dp_pii_digit(u[k]) && k - j <= 5) k++;
        if (k == j + 1 || k >= n || u[k] != ')') break;
        par = 1;
        digits = k - j - 1;
        j = k + 1;
      } else if (dp_pii_digit(u[j])) {
        while (j < n && dp_pii_digit(u[j])) j++;
        digits = j - gs;
      } else {
        break;
      }
      g[ng].s = gs;
      g[ng].e = j;
      g[ng].digits = digits;
      g[ng].sep = 0;
      ng++;
      if (j >= n) break;
      if (par && dp_pii_digit(u[j])) continue; /* "(0)20" */
      if ((u[j] == ' ' || u[j] == '-' || u[j] == '.') && j + 1 < n &&
          (dp_pii_digit(u[j + 1]) || (u[j + 1] == '(' && j + 2 < n && dp_pii_digit(u[j + 2])))) {
        g[ng - 1].sep = u[j];
        if (u[j] == '.') dotted = 1;
        j++;
        continue;
      }
      break;
    }
    if (ng == 0) {
      i = a + 1;
      continue;
    }
    g[ng - 1].sep = 0;
    i = g[ng - 1].e;
    number_candidates(u, n, a, g, ng, dotted, d);
    if (d->qn) {
      d->pos = i;
      return;
    }
  }
  d->pos = n;
  d->done = 1;
}

/* ---- IBAN ------------------------------------------------------------------ */

static void fill_iban(const unsigned char *u, size_t n, det *d) {
  size_t i = d->pos;
  while (i < n) {
    if (!dp_pii_digit(u[i])) {
      i++;
      continue;
    }
    if (i >= 2 && i + 1 < n && dp_pii_digit(u[i + 1]) && dp_pii_alpha(u[i - 1]) &&
        dp_pii_alpha(u[i - 2]) && (i == 2 || !word_byte(u[i - 3]))) {
      size_t a = i - 2, k = a, cnt = 0;
      unsigned want = dp_pii_iban_country_len((char)u[a], (char)u[a + 1]);
      int spaced = a + 4 < n && u[a + 4] == ' ';
      while (want && cnt < want && k < n) {
        if (spaced && (k - a) % 5 == 4) {
          if (u[k] != ' ') break;
        } else if (dp_pii_alnum(u[k])) {
          cnt++;
        } else {
          break;
        }
        k++;
      }
      if (want && cnt == want && !(k < n && word_byte(u[k])) &&
          doppel_pii_is_iban((const char *)u + a, k - a)) {
        det_push(d, a, k - a, DOPPEL_PII_IBAN);
        d->pos = k;
        return;
      }
    }
    while (i < n && dp_pii_digit(u[i])) i++;
  }
  d->pos = n;
  d->done = 1;
}

/* ---- URL query values ------------------------------------------------------ */

static int key_byte(unsigned char c) {
  return dp_pii_alnum(c) || c == '_' || c == '-' || c == '.' || c == '%' || c == '+' ||
         c == '[' || c == ']' || c == '$';
}

static int value_end(unsigned char c) {
  return c == '&' || c == '#' || c == ' ' || (c >= '\t' && c <= '\r') || c == '"' ||
         c == '\'' || c == '<' || c == '>' || c == '`';
}

static int closing_punct(unsigned char c) {
  return c == '.' || c == ',' || c == ';' || c == ':' || c == '!' || c == '?' || c == ')' ||
         c == ']';
}

/* Keys that carry secrets or precise positions; their values are personal
 * although doppel_pii_classify_name() has no kind for them. */
static const char *const credential_keys[] = {
    "access_token", "accesstoken", "api_key", "apikey", "auth", "auth_token", "authtoken",
    "client_secret", "id_token", "idtoken", "lat", "latitude", "lng", "lon", "longitude",
    "pass", "passwd", "password", "pwd", "refresh_token", "secret", "session", "session_id",
    "sessionid", "sid", "token",
};

static int personal_key(const unsigned char *k, size_t n) {
  char buf[64];
  size_t m = 0, st = 0;
  doppel_pii_kind kind;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = k[i];
    if (c == '%' && i + 2 < n && dp_pii_hex(k[i + 1]) && dp_pii_hex(k[i + 2])) {
      c = (unsigned char)(dp_pii_hexval(k[i + 1]) * 16 + dp_pii_hexval(k[i + 2]));
      i += 2;
    } else if (c == '+') {
      c = ' ';
    }
    if (m == sizeof buf) return 0;
    buf[m++] = (char)((c >= 'A' && c <= 'Z') ? c + 32 : c);
  }
  if (m > 1 && buf[m - 1] == ']') { /* user[email] → email */
    size_t j = m - 1;
    while (j > 0 && buf[j - 1] != '[') j--;
    if (j > 0) {
      st = j;
      m--;
    }
  }
  if (m <= st) return 0;
  for (size_t i = 0; i < sizeof credential_keys / sizeof credential_keys[0]; i++)
    if (strlen(credential_keys[i]) == m - st && memcmp(credential_keys[i], buf + st, m - st) == 0)
      return 1;
  kind = doppel_pii_classify_name(buf + st, m - st);
  switch (kind) {
    case DOPPEL_PII_EMAIL:
    case DOPPEL_PII_PHONE:
    case DOPPEL_PII_NAME:
    case DOPPEL_PII_USER_ID:
    case DOPPEL_PII_DEVICE_ID:
    case DOPPEL_PII_IP:
    case DOPPEL_PII_ADDRESS:
    case DOPPEL_PII_SSN:
    case DOPPEL_PII_CARD:
    case DOPPEL_PII_IBAN:
    case DOPPEL_PII_BIRTHDATE:
    case DOPPEL_PII_POSTCODE: return 1;
    default: return 0;
  }
}

static void fill_url(const unsigned char *u, size_t n, det *d) {
  while (d->pos < n) {
    const unsigned char *q = memchr(u + d->pos, '=', n - d->pos);
    size_t e, k, v, ve;
    if (!q) break;
    e = k = (size_t)(q - u);
    while (k > d->low && key_byte(u[k - 1])) k--;
    d->pos = d->low = e + 1;
    if (k == e || e - k > 192) continue;
    if (k > 0 && u[k - 1] != '?' && u[k - 1] != '&' && u[k - 1] != ';' && u[k - 1] != '#') continue;
    if (!personal_key(u + k, e - k)) continue;
    v = ve = e + 1;
    while (ve < n && !value_end(u[ve])) ve++;
    if (ve == n || (u[ve] != '&' && u[ve] != '#'))
      while (ve > v && closing_punct(u[ve - 1])) ve--;
    if (ve > v) {
      det_push(d, v, ve - v, DOPPEL_PII_URL);
      d->pos = d->low = ve;
      return;
    }
  }
  d->pos = n;
  d->done = 1;
}

/* ---- merging ------------------------------------------------------------------ */

static int kind_rank(doppel_pii_kind k) {
  switch (k) {
    case DOPPEL_PII_EMAIL: return 8;
    case DOPPEL_PII_CARD: return 7;
    case DOPPEL_PII_IBAN: return 6;
    case DOPPEL_PII_SSN: return 5;
    case DOPPEL_PII_IPV6: return 4;
    case DOPPEL_PII_IPV4: return 3;
    case DOPPEL_PII_PHONE: return 2;
    default: return 1;
  }
}

typedef struct sink {
  doppel_pii_match *out;
  size_t max, n;
  int has;
  doppel_pii_match pending;
} sink;

static void sink_emit(sink *k) {
  if (k->n < k->max) k->out[k->n] = k->pending;
  k->n++;
}

static void sink_offer(sink *k, const doppel_pii_match *m) {
  const doppel_pii_match *p = &k->pending;
  if (!k->has) {
    k->pending = *m;
    k->has = 1;
  } else if (m->start >= p->start + p->len) {
    sink_emit(k);
    k->pending = *m;
  } else if (m->len > p->len || (m->len == p->len && kind_rank(m->kind) > kind_rank(p->kind))) {
    k->pending = *m;
  }
}

static void det_init(det *d, det_fill_fn fill) {
  d->fill = fill;
  d->pos = d->low = 0;
  d->aux[0] = d->aux[1] = 0;
  d->qi = d->qn = 0;
  d->done = 0;
}

size_t doppel_pii_find(const char *s, size_t len, doppel_pii_match *out, size_t max) {
  const unsigned char *u = (const unsigned char *)s;
  det dets[6];
  size_t nd = 0, digits;
  unsigned flags;
  sink k;
  if (!s || len == 0) return 0;
  flags = prefilter(u, len, &digits);
  if (flags & (PF_AT | PF_PCT)) {
    det *d = &dets[nd++];
    const unsigned char *q;
    det_init(d, fill_email);
    q = memchr(u, '@', len);
    d->aux[0] = q ? (size_t)(q - u) : len;
    q = memchr(u, '%', len);
    d->aux[1] = q ? (size_t)(q - u) : len;
  }
  if ((flags & PF_DOT) && digits >= 4) det_init(&dets[nd++], fill_ipv4);
  if ((flags & PF_COLON) && digits) det_init(&dets[nd++], fill_ipv6);
  if (digits >= 8) {
    det_init(&dets[nd++], fill_number);
    det_init(&dets[nd++], fill_iban);
  }
  if ((flags & PF_EQ) && (flags & PF_QA)) det_init(&dets[nd++], fill_url);
  if (nd == 0) return 0;

  k.out = out;
  k.max = out ? max : 0;
  k.n = 0;
  k.has = 0;
  for (;;) {
    det *best = NULL;
    for (size_t i = 0; i < nd; i++) {
      det *d = &dets[i];
      while (d->qi == d->qn && !d->done) {
        d->qi = d->qn = 0;
        d->fill(u, len, d);
      }
      if (d->qi < d->qn && (!best || d->q[d->qi].start < best->q[best->qi].start)) best = d;
    }
    if (!best) break;
    sink_offer(&k, &best->q[best->qi++]);
  }
  if (k.has) sink_emit(&k);
  return k.n;
}
