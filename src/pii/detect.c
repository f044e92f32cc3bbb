/*
 * detect.c — validators for personal data in whole values (e-mail, phone,
 * IPv4/IPv6, card, IBAN, SSN, UUID) and doppel_pii_classify_value() on top
 * of them; pure functions, no allocation, no locale.
 */
#include <doppel/pii.h>

#include "pii/pii_int.h"

#include <string.h>

/*
 * What each validator accepts:
 *
 * - e-mail: a pragmatic RFC 5322 dot-atom subset (no quoted local parts, no
 *   address literals, no comments) with internationalized (UTF-8) local parts
 *   and domains; the TLD is 2+ ASCII letters, a punycode "xn--" label, or a
 *   non-ASCII label without digits; 254 bytes at most.
 * - phone: "+" and 8–15 digits in any single-separator layout, or a national
 *   number of 10–13 digits in a phone-like group layout (see phone_national);
 *   plain digit runs, dates, IPv4-shaped dotted numbers and card-like 4-4-4
 *   layouts are rejected.
 * - IPv4 dotted quads without leading zeros; IPv6 per RFC 4291 section 2.2
 *   ("::" compression, embedded IPv4 tail, any case, no zone).
 * - card: 13–19 digits (contiguous, or grouped 4-4-4-4[-1..4], 4-6-5,
 *   4-6-4 with one kind of separator, space or dash), issuer prefix
 *   plausible for the length, Luhn.
 * - IBAN: registered country and length (ISO 13616 registry), 2 check
 *   digits, alphanumeric BBAN, optional single spaces every 4 characters,
 *   ISO 7064 mod 97-10.
 * - SSN: AAA-GG-SSSS (dashes or spaces), area not 000/666/900–999, group not
 *   00, serial not 0000, and not the famous 078-05-1120.
 * - UUID: 8-4-4-4-12 hex digits.
 */

/* ---- UTF-8 ------------------------------------------------------------- */

/* Code points that end an address in running text rather than belong to it:
 * C1 controls and Latin-1 punctuation, ×, ÷, general and CJK punctuation and
 * spaces, vertical/small/fullwidth punctuation forms, specials, emoji. */
static int cp_is_punct(uint32_t cp) {
  return (cp >= 0x80 && cp <= 0xBF) || cp == 0xD7 || cp == 0xF7 ||
         (cp >= 0x2000 && cp <= 0x206F) || (cp >= 0x3000 && cp <= 0x303F) ||
         (cp >= 0xFE10 && cp <= 0xFE1F) || (cp >= 0xFE30 && cp <= 0xFE6F) ||
         cp == 0xFEFF || (cp >= 0xFF01 && cp <= 0xFF0F) ||
         (cp >= 0xFF1A && cp <= 0xFF20) || (cp >= 0xFF3B && cp <= 0xFF40) ||
         (cp >= 0xFF5B && cp <= 0xFF65) || (cp >= 0xFFF0 && cp <= 0xFFFF) ||
         (cp >= 0x1F000 && cp <= 0x1FAFF); /* emoji and other pictographs */
}

size_t dp_pii_utf8_word(const unsigned char *s, size_t n) {
  uint32_t cp;
  size_t len;
  unsigned char c;
  if (n == 0) return 0;
  c = s[0];
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
    cp = c & 0x1Fu;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    cp = c & 0x0Fu;
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    cp = c & 0x07u;
  } else {
    return 0;
  }
  if (n < len) return 0;
  for (size_t i = 1; i < len; i++) {
    if ((s[i] & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (s[i] & 0x3Fu);
  }
  if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
      (cp >= 0xD800 && cp <= 0xDFFF))
    return 0;
  return cp_is_punct(cp) ? 0 : len;
}

/* ---- e-mail ------------------------------------------------------------ */

static int atext(unsigned char c) {
  return dp_pii_alnum(c) || (c && strchr("!#$%&'*+/=?^_`{|}~-", c) != NULL);
}

static int email_local_ok(const unsigned char *s, size_t n) {
  if (n == 0 || n > 64 || s[0] == '.' || s[n - 1] == '.') return 0;
  for (size_t i = 0; i < n;) {
    unsigned char c = s[i];
    if (c == '.') {
      if (s[i + 1] == '.') return 0; /* i + 1 < n: the last byte is no dot */
      i++;
    } else if (c < 0x80) {
      if (!atext(c)) return 0;
      i++;
    } else {
      size_t k = dp_pii_utf8_word(s + i, n - i);
      if (!k) return 0;
      i += k;
    }
  }
  return 1;
}

static int email_domain_ok(const unsigned char *s, size_t n) {
  size_t labels = 0, i = 0;
  if (n < 4 || n > 253) return 0;
  while (i <= n) {
    size_t st = i, nonascii = 0, digits = 0, letters = 0;
    while (i < n && s[i] != '.') {
      unsigned char c = s[i];
      if (c < 0x80) {
        if (!dp_pii_alnum(c) && c != '-') return 0;
        digits += dp_pii_digit(c);
        letters += dp_pii_alpha(c);
        i++;
      } else {
        size_t k = dp_pii_utf8_word(s + i, n - i);
        if (!k) return 0;
        nonascii++;
        i += k;
      }
    }
    size_t ln = i - st;
    if (ln == 0 || ln > 63 || s[st] == '-' || s[i - 1] == '-') return 0;
    labels++;
    if (i == n) { /* the TLD */
      int ok;
      if (labels < 2) return 0;
      if (ln >= 5 && (s[st] | 0x20) == 'x' && (s[st + 1] | 0x20) == 'n' && s[st + 2] == '-' &&
          s[st + 3] == '-')
        ok = nonascii == 0;
      else if (nonascii)
        ok = digits == 0;
      else
        ok = ln >= 2 && letters == ln;
      return ok;
    }
    i++; /* the dot */
  }
  return 0;
}

int doppel_pii_is_email(const char *s, size_t len) {
  const unsigned char *u = (const unsigned char *)s;
  const unsigned char *at;
  if (!s || len < 6 || len > 254) return 0;
  at = memchr(u, '@', len);
  if (!at || memchr(at + 1, '@', len - (size_t)(at - u) - 1)) return 0;
  return email_local_ok(u, (size_t)(at - u)) &&
         email_domain_ok(at + 1, len - (size_t)(at - u) - 1);
}

/* ---- IP addresses ------------------------------------------------------ */

int doppel_pii_is_ipv4(const char *s, size_t len) {
  size_t i = 0;
  if (!s || len < 7 || len > 15) return 0;
  for (int oct = 0; oct < 4; oct++) {
    size_t st = i;
    unsigned v = 0;
    if (oct > 0) {
      if (i >= len || s[i] != '.') return 0;
      st = ++i;
    }
    while (i < len && dp_pii_digit((unsigned char)s[i]) && i - st < 3) v = v * 10 + (unsigned)(s[i++] - '0');
    if (i == st || v > 255 || (s[st] == '0' && i - st > 1)) return 0;
    if (i < len && dp_pii_digit((unsigned char)s[i])) return 0;
  }
  return i == len;
}

int doppel_pii_is_ipv6(const char *s, size_t len) {
  size_t i = 0;
  int groups = 0, dc = 0;
  if (!s || len < 2 || len > 45) return 0;
  if (s[0] == ':') {
    if (s[1] != ':') return 0;
    dc = 1;
    i = 2;
    if (i == len) return 1;
  }
  for (;;) {
    size_t j = i;
    while (j < len && dp_pii_hex((unsigned char)s[j])) j++;
    if (j < len && s[j] == '.') { /* embedded IPv4 tail, must end the text */
      if (groups > 6 || !doppel_pii_is_ipv4(s + i, len - i)) return 0;
      groups += 2;
      break;
    }
    if (j == i || j - i > 4) return 0;
    groups++;
    i = j;
    if (i == len) break;
    if (s[i] != ':') return 0;
    i++;
    if (i < len && s[i] == ':') {
      if (dc) return 0;
      dc = 1;
      i++;
      if (i == len) break;
    } else if (i == len) {
      return 0;
    }
    if (groups >= 8) return 0;
  }
  return dc ? groups <= 7 : groups == 8;
}

/* ---- cards --------------------------------------------------------------- */

int doppel_pii_luhn_ok(const char *digits, size_t len) {
  unsigned sum = 0;
  if (!digits || len < 2) return 0;
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)digits[len - 1 - i];
    unsigned d;
    if (!dp_pii_digit(c)) return 0;
    d = c - '0';
    if (i & 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 == 0;
}

/* Issuer identification: is a card of n digits starting with d plausible?
 * Visa 4 (13/16/19); Mastercard 51–55, 2221–2720 (16); Maestro 50, 56–59
 * (13–19); Mir 2200–2204 (16–19); Amex 34/37 (15); Diners 300–305, 309, 36,
 * 38, 39 (14–19); JCB 3528–3589 (16–19); Discover, UnionPay, Maestro, RuPay
 * and others under 6 (13–19). */
static int issuer_ok(const char *d, size_t n) {
  unsigned p2 = (unsigned)(d[0] - '0') * 10 + (unsigned)(d[1] - '0');
  unsigned p4 = p2 * 100 + (unsigned)(d[2] - '0') * 10 + (unsigned)(d[3] - '0');
  switch (d[0]) {
    case '4': return n == 13 || n == 16 || n == 19;
    case '5': return (p2 >= 51 && p2 <= 55) ? n == 16 : 1;
    case '2':
      if (p4 >= 2221 && p4 <= 2720) return n == 16;
      return p4 >= 2200 && p4 <= 2204 && n >= 16;
    case '3':
      if (p2 == 34 || p2 == 37) return n == 15;
      if (p2 == 36 || p2 == 38 || p2 == 39 || (p4 >= 3000 && p4 <= 3059) || (p4 >= 3090 && p4 <= 3099))
        return n >= 14;
      if (p4 >= 3528 && p4 <= 3589) return n >= 16;
      return 0;
    case '6': return 1;
    default: return 0;
  }
}

int dp_pii_card_ok(const char *s, size_t len) {
  char d[19];
  size_t nd = 0, ng = 0, glen[8];
  char sep = 0;
  size_t run = 0;
  if (!s || len < 13 || len > 23) return 0;
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    if (dp_pii_digit(c)) {
      if (nd == sizeof d) return 0;
      d[nd++] = (char)c;
      run++;
    } else if (c == ' ' || c == '-') {
      if (run == 0 || (sep && c != sep) || ng == 7) return 0;
      sep = (char)c;
      glen[ng++] = run;
      run = 0;
    } else {
      return 0;
    }
  }
  if (run == 0) return 0;
  glen[ng++] = run;
  if (nd < 13) return 0;
  if (ng > 1) { /* 4-4-4-4[-1..4] or 4-6-5 / 4-6-4 */
    int fours = 1;
    for (size_t g = 0; g + 1 < ng; g++)
      if (glen[g] != 4) fours = 0;
    if (fours && ng >= 4 && glen[ng - 1] >= 1 && glen[ng - 1] <= 4) {
      /* ok */
    } else if (ng == 3 && glen[0] == 4 && glen[1] == 6 && (glen[2] == 5 || glen[2] == 4)) {
      /* ok */
    } else {
      return 0;
    }
  }
  {
    size_t same = 1;
    while (same < nd && d[same] == d[0]) same++;
    if (same == nd) return 0;
  }
  return issuer_ok(d, nd) && doppel_pii_luhn_ok(d, nd);
}

/* ---- IBAN ----------------------------------------------------------------- */

/* SWIFT IBAN registry (ISO 13616): country code and total length. Sorted. */
static const struct iban_country {
  char cc[2];
  unsigned char len;
} iban_countries[] = {
    {{'A', 'D'}, 24}, {{'A', 'E'}, 23}, {{'A', 'L'}, 28}, {{'A', 'T'}, 20}, {{'A', 'Z'}, 28},
    {{'B', 'A'}, 20}, {{'B', 'E'}, 16}, {{'B', 'G'}, 22}, {{'B', 'H'}, 22}, {{'B', 'I'}, 27},
    {{'B', 'R'}, 29}, {{'B', 'Y'}, 28}, {{'C', 'H'}, 21}, {{'C', 'R'}, 22}, {{'C', 'Y'}, 28},
    {{'C', 'Z'}, 24}, {{'D', 'E'}, 22}, {{'D', 'J'}, 27}, {{'D', 'K'}, 18}, {{'D', 'O'}, 28},
    {{'E', 'E'}, 20}, {{'E', 'G'}, 29}, {{'E', 'S'}, 24}, {{'F', 'I'}, 18}, {{'F', 'K'}, 18},
    {{'F', 'O'}, 18}, {{'F', 'R'}, 27}, {{'G', 'B'}, 22}, {{'G', 'E'}, 22}, {{'G', 'I'}, 23},
    {{'G', 'L'}, 18}, {{'G', 'R'}, 27}, {{'G', 'T'}, 28}, {{'H', 'N'}, 28}, {{'H', 'R'}, 21},
    {{'H', 'U'}, 28}, {{'I', 'E'}, 22}, {{'I', 'L'}, 23}, {{'I', 'Q'}, 23}, {{'I', 'S'}, 26},
    {{'I', 'T'}, 27}, {{'J', 'O'}, 30}, {{'K', 'W'}, 30}, {{'K', 'Z'}, 20}, {{'L', 'B'}, 28},
    {{'L', 'C'}, 32}, {{'L', 'I'}, 21}, {{'L', 'T'}, 20}, {{'L', 'U'}, 20}, {{'L', 'V'}, 21},
    {{'L', 'Y'}, 25}, {{'M', 'C'}, 27}, {{'M', 'D'}, 24}, {{'M', 'E'}, 22}, {{'M', 'K'}, 19},
    {{'M', 'N'}, 20}, {{'M', 'R'}, 27}, {{'M', 'T'}, 31}, {{'M', 'U'}, 30}, {{'N', 'I'}, 28},
    {{'N', 'L'}, 18}, {{'N', 'O'}, 15}, {{'O', 'M'}, 23}, {{'P', 'K'}, 24}, {{'P', 'L'}, 28},
    {{'P', 'S'}, 29}, {{'P', 'T'}, 25}, {{'Q', 'A'}, 29}, {{'R', 'O'}, 24}, {{'R', 'S'}, 22},
    {{'R', 'U'}, 33}, {{'S', 'A'}, 24}, {{'S', 'C'}, 31}, {{'S', 'D'}, 18}, {{'S', 'E'}, 24},
    {{'S', 'I'}, 19}, {{'S', 'K'}, 24}, {{'S', 'M'}, 27}, {{'S', 'O'}, 23}, {{'S', 'T'}, 25},
    {{'S', 'V'}, 28}, {{'T', 'L'}, 23}, {{'T', 'N'}, 24}, {{'T', 'R'}, 26}, {{'U', 'A'}, 29},
    {{'V', 'A'}, 22}, {{'V', 'G'}, 24}, {{'X', 'K'}, 20}, {{'Y', 'E'}, 30},
};

unsigned dp_pii_iban_country_len(char a, char b) {
  size_t lo = 0, hi = sizeof iban_countries / sizeof iban_countries[0];
  unsigned char ua = (unsigned char)a, ub = (unsigned char)b;
  if (!dp_pii_alpha(ua) || !dp_pii_alpha(ub)) return 0;
  ua &= 0xDF; /* ASCII upper case */
  ub &= 0xDF;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    const struct iban_country *c = &iban_countries[mid];
    int cmp = (ua != (unsigned char)c->cc[0]) ? (int)ua - c->cc[0] : (int)ub - c->cc[1];
    if (cmp == 0) return c->len;
    if (cmp < 0)
      hi = mid;
    else
      lo = mid + 1;
  }
  return 0;
}

static unsigned mod97_step(unsigned r, unsigned char c) {
  if (dp_pii_digit(c)) return (r * 10 + (unsigned)(c - '0')) % 97;
  return (r * 100 + (unsigned)((c | 0x20) - 'a' + 10)) % 97;
}

int doppel_pii_is_iban(const char *s, size_t len) {
  char buf[34];
  size_t n = 0;
  unsigned want, r = 0;
  int spaced;
  if (!s || len < 15 || len > 42) return 0;
  spaced = len > 4 && s[4] == ' ';
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    if (spaced && i % 5 == 4) { /* a space after every 4 characters */
      if (c != ' ' || i + 1 == len) return 0;
      continue;
    }
    if (!dp_pii_alnum(c) || n == sizeof buf) return 0;
    buf[n++] = (char)c;
  }
  want = dp_pii_iban_country_len(buf[0], buf[1]);
  if (want == 0 || n != want || !dp_pii_digit((unsigned char)buf[2]) ||
      !dp_pii_digit((unsigned char)buf[3]))
    return 0;
  for (size_t i = 4; i < n; i++) r = mod97_step(r, (unsigned char)buf[i]);
  for (size_t i = 0; i < 4; i++) r = mod97_step(r, (unsigned char)buf[i]);
  return r == 1;
}

/* ---- SSN, UUID ------------------------------------------------------------ */

static unsigned digits_val(const char *s, size_t n) {
  unsigned v = 0;
  for (size_t i = 0; i < n; i++) {
    if (!dp_pii_digit((unsigned char)s[i])) return ~0u;
    v = v * 10 + (unsigned)(s[i] - '0');
  }
  return v;
}

int doppel_pii_is_ssn(const char *s, size_t len) {
  unsigned area, group, serial;
  if (!s || len != 11 || (s[3] != '-' && s[3] != ' ') || s[6] != s[3]) return 0;
  area = digits_val(s, 3);
  group = digits_val(s + 4, 2);
  serial = digits_val(s + 7, 4);
  if (area == ~0u || group == ~0u || serial == ~0u) return 0;
  if (area == 0 || area == 666 || area >= 900 || group == 0 || serial == 0) return 0;
  return !(area == 78 && group == 5 && serial == 1120);
}

int doppel_pii_is_uuid(const char *s, size_t len) {
  if (!s || len != 36) return 0;
  for (size_t i = 0; i < 36; i++) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (s[i] != '-') return 0;
    } else if (!dp_pii_hex((unsigned char)s[i])) {
      return 0;
    }
  }
  return 1;
}

/* ---- phones ----------------------------------------------------------------- */

#define PHONE_MAX_GROUPS 8

typedef struct phone_shape {
  size_t ng;                    /* digit groups, the parenthesized one included */
  size_t gd[PHONE_MAX_GROUPS];  /* digits per group */
  unsigned gv[PHONE_MAX_GROUPS]; /* group values (first 4 digits) */
  int paren;                    /* index of the parenthesized group, or -1 */
  size_t digits;                /* all digits */
  unsigned seps;                /* separators between plain groups: 1 ' ', 2 '-', 4 '.' */
} phone_shape;

static unsigned sep_bit(char c) { return c == ' ' ? 1u : c == '-' ? 2u : c == '.' ? 4u : 0u; }

/* Parse groups of digits, one optional "(ddd)" group, single separators.
 * i starts after the '+' if any. */
static int phone_parse(const char *s, size_t n, size_t i, phone_shape *p) {
  p->ng = 0;
  p->paren = -1;
  p->digits = 0;
  p->seps = 0;
  while (i < n) {
    size_t st, d = 0;
    unsigned v = 0;
    int par = 0;
    if (p->ng == PHONE_MAX_GROUPS) return 0;
    if (s[i] == '(') {
      if (p->paren >= 0) return 0;
      par = 1;
      i++;
    }
    st = i;
    while (i < n && dp_pii_digit((unsigned char)s[i])) {
      if (i - st < 4) v = v * 10 + (unsigned)(s[i] - '0');
      i++;
    }
    d = i - st;
    if (d == 0) return 0;
    if (par) {
      if (i >= n || s[i] != ')' || d > 5) return 0;
      i++;
      p->paren = (int)p->ng;
    }
    p->gd[p->ng] = d;
    p->gv[p->ng] = v;
    p->ng++;
    p->digits += d;
    if (i == n) break;
    if (par && (dp_pii_digit((unsigned char)s[i]) || s[i] == '(')) continue; /* "(0)20" */
    if (!sep_bit(s[i]) || i + 1 == n) return 0;
    if (!par && s[i + 1] != '(') p->seps |= sep_bit(s[i]);
    i++;
    if (!dp_pii_digit((unsigned char)s[i]) && s[i] != '(') return 0;
  }
  return p->ng > 0;
}

static int phone_national(const char *s, size_t n) {
  phone_shape p;
  size_t fours = 0;
  if (!phone_parse(s, n, 0, &p)) return 0;
  if (p.digits < 10 || p.digits > 13 || p.ng < 2 || p.ng > 6) return 0;
  if (p.seps & (p.seps - 1)) return 0; /* one kind of separator */
  if (p.gd[0] == 1) { /* NANP with its trunk 1: "1-800-555-0100", "1 (800) 555 0100" */
    return p.gv[0] == 1 && p.ng == 4 && p.gd[1] == 3 && p.gd[2] == 3 && p.gd[3] == 4 &&
           p.paren != 0 && p.paren != 2 && p.paren != 3;
  }
  if (p.paren > 0) return 0; /* "(415)" only leads */
  for (size_t g = 0; g < p.ng; g++) {
    size_t d = p.gd[g];
    if (d == 4) fours++;
    if (g == 0) {
      if (d < 2 || d > 5) return 0;
    } else if (g + 1 < p.ng || p.ng > 2) {
      if (d < 2 || d > 4) return 0;
    } else if (d < 4 || d > 8) { /* two groups: "030 12345678", "07700 900123" */
      return 0;
    }
  }
  if (fours >= 3) return 0; /* 4-4-4: card or id fragments */
  if (p.ng >= 3) {          /* dates: 2024-01-09 ..., 09.01.2024 ... */
    if (p.gd[0] == 4 && p.gv[0] >= 1900 && p.gv[0] <= 2099 && p.gd[1] == 2 && p.gv[1] >= 1 &&
        p.gv[1] <= 12)
      return 0;
    if (p.gd[0] == 2 && p.gd[1] == 2 && p.gd[2] == 4 && p.gv[0] <= 31 && p.gv[1] <= 31 &&
        p.gv[2] >= 1900 && p.gv[2] <= 2099)
      return 0;
  }
  if ((p.seps & 4u) && p.ng == 4 && p.gd[0] <= 3 && p.gd[1] <= 3 && p.gd[2] <= 3 && p.gd[3] <= 3)
    return 0; /* dotted quad */
  return 1;
}

static int phone_international(const char *s, size_t n) {
  phone_shape p;
  size_t digits;
  if (n < 9 || s[0] != '+' || !dp_pii_digit((unsigned char)s[1])) return 0;
  if (!phone_parse(s, n, 1, &p)) return 0;
  digits = p.digits;
  if (p.paren >= 0 && p.gd[p.paren] == 1 && p.gv[p.paren] == 0) digits--; /* "(0)" trunk */
  return digits >= 8 && digits <= 15;
}

int doppel_pii_is_phone(const char *s, size_t len) {
  if (!s || len < 9 || len > 32) return 0;
  if (s[0] == '+') return phone_international(s, len);
  return phone_national(s, len);
}

/* ---- whole values ------------------------------------------------------------ */

static int is_space(unsigned char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

doppel_pii_kind doppel_pii_classify_value(const char *s, size_t len) {
  if (!s) return DOPPEL_PII_NONE;
  while (len > 0 && is_space((unsigned char)s[0])) {
    s++;
    len--;
  }
  while (len > 0 && is_space((unsigned char)s[len - 1])) len--;
  if (len < 2 || len > 254) return DOPPEL_PII_NONE;
  if (memchr(s, '@', len)) return doppel_pii_is_email(s, len) ? DOPPEL_PII_EMAIL : DOPPEL_PII_NONE;
  if (len == 36 && doppel_pii_is_uuid(s, len)) return DOPPEL_PII_UUID;
  if (len <= 15 && dp_pii_digit((unsigned char)s[0]) && doppel_pii_is_ipv4(s, len)) return DOPPEL_PII_IPV4;
  if (memchr(s, ':', len)) return doppel_pii_is_ipv6(s, len) ? DOPPEL_PII_IPV6 : DOPPEL_PII_NONE;
  /* every remaining kind holds at least 8 digits: one cheap count rejects
   * ordinary words, names and labels before any validator runs */
  size_t digits = 0;
  for (size_t i = 0; i < len; i++) digits += dp_pii_digit((unsigned char)s[i]);
  if (digits < 8) return DOPPEL_PII_NONE;
  if (len == 11 && doppel_pii_is_ssn(s, len)) return DOPPEL_PII_SSN;
  if (digits >= 13 && dp_pii_card_ok(s, len)) return DOPPEL_PII_CARD;
  if (len >= 15 && dp_pii_alpha((unsigned char)s[0]) && dp_pii_alpha((unsigned char)s[1]) &&
      doppel_pii_is_iban(s, len))
    return DOPPEL_PII_IBAN;
  if (doppel_pii_is_phone(s, len)) return DOPPEL_PII_PHONE;
  return DOPPEL_PII_NONE;
}
