/*
 * csv.c — RFC 4180 record splitting, unquoting and quoting (csv.h).
 *
 * Splitting is one pass over the record: a field that starts with '"' is
 * quoted and runs to the matching closing quote ("" is a literal quote, CR
 * and LF are data); after the closing quote only the delimiter or the end of
 * the record may follow. Any other field runs to the next delimiter and must
 * not contain a quote. Field bytes are checked to be well-formed UTF-8
 * (shortest form, no surrogates, at most U+10FFFF) as they are scanned.
 */
#include <doppel/csv.h>

#include "core/diag.h"

#include <stdint.h>
#include <string.h>

#define ONES UINT64_C(0x0101010101010101)
#define HIGHS UINT64_C(0x8080808080808080)

/* Nonzero when some byte of x equals the byte whose broadcast is b. */
static inline uint64_t has_byte(uint64_t x, uint64_t b) {
  uint64_t y = x ^ b;
  return (y - ONES) & ~y & HIGHS;
}

static inline uint64_t load8(const unsigned char *p) {
  uint64_t x;
  memcpy(&x, p, 8);
  return x;
}

/* Length of the well-formed UTF-8 sequence at p[0..n) whose lead byte is
 * >= 0x80, or 0 when it is malformed. */
static size_t utf8_seq(const unsigned char *p, size_t n) {
  unsigned char c = p[0];
  if (c >= 0xC2 && c <= 0xDF) {
    return (n >= 2 && (p[1] & 0xC0) == 0x80) ? 2 : 0;
  }
  if (c >= 0xE0 && c <= 0xEF) {
    if (n < 3 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80) return 0;
    if (c == 0xE0 && p[1] < 0xA0) return 0;  /* overlong */
    if (c == 0xED && p[1] > 0x9F) return 0;  /* surrogate */
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (n < 4 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80 || (p[3] & 0xC0) != 0x80)
      return 0;
    if (c == 0xF0 && p[1] < 0x90) return 0;  /* overlong */
    if (c == 0xF4 && p[1] > 0x8F) return 0;  /* above U+10FFFF */
    return 4;
  }
  return 0;
}

static doppel_status bad_utf8(doppel_diag *diag, const unsigned char *s, size_t i,
                              size_t field) {
  return dp_diag_set(diag, DOPPEL_E_UTF8, NULL, 0, i + 1,
                     "invalid utf-8 (byte 0x%02x) in field %zu", s[i], field);
}

doppel_status doppel_csv_split(const char *rec, size_t len, char delim,
                               doppel_csv_field *fields, size_t max, size_t *n,
                               doppel_diag *diag) {
  const unsigned char *s = (const unsigned char *)rec;
  const unsigned char d = (unsigned char)(delim ? delim : ',');
  size_t count = 0;
  if (n) *n = 0;
  if (!n || (!rec && len) || (!fields && max))
    return dp_diag_set(diag, DOPPEL_E_USAGE, NULL, 0, 0, "invalid csv split arguments");
  if (d == '"' || d == '\r' || d == '\n' || d >= 0x80)
    return dp_diag_set(diag, DOPPEL_E_USAGE, NULL, 0, 0, "invalid csv delimiter 0x%02x", d);

  const uint64_t bd = ONES * d, bq = ONES * '"';
  size_t i = 0;
  for (;;) {
    size_t start = i;
    int quoted = i < len && s[i] == '"';
    if (quoted) {
      i++;
      for (;;) {
        /* skip 8 bytes at a time while none is a quote or non-ASCII */
        while (i + 8 <= len) {
          uint64_t x = load8(s + i);
          if (has_byte(x, bq) | (x & HIGHS)) break;
          i += 8;
        }
        if (i >= len) {
          *n = count;
          return dp_diag_set(diag, DOPPEL_E_CSV, NULL, 0, start + 1,
                             "unterminated quoted field %zu", count + 1);
        }
        unsigned char c = s[i];
        if (c == '"') {
          if (i + 1 < len && s[i + 1] == '"') {
            i += 2;
            continue;
          }
          i++;
          break;
        }
        if (c < 0x80) {
          i++;
        } else {
          size_t k = utf8_seq(s + i, len - i);
          if (!k) {
            *n = count;
            return bad_utf8(diag, s, i, count + 1);
          }
          i += k;
        }
      }
      if (i < len && s[i] != d) {
        *n = count;
        return dp_diag_set(diag, DOPPEL_E_CSV, NULL, 0, i + 1,
                           "unexpected character after closing quote in field %zu",
                           count + 1);
      }
    } else {
      while (i < len) {
        /* skip 8 bytes at a time while none is a delimiter, quote or non-ASCII */
        while (i + 8 <= len) {
          uint64_t x = load8(s + i);
          if (has_byte(x, bd) | has_byte(x, bq) | (x & HIGHS)) break;
          i += 8;
        }
        if (i >= len) break;
        unsigned char c = s[i];
        if (c == d) break;
        if (c < 0x80) {
          if (c == '"') {
            *n = count;
            return dp_diag_set(diag, DOPPEL_E_CSV, NULL, 0, i + 1,
                               "quote in unquoted field %zu", count + 1);
          }
          i++;
        } else {
          size_t k = utf8_seq(s + i, len - i);
          if (!k) {
            *n = count;
            return bad_utf8(diag, s, i, count + 1);
          }
          i += k;
        }
      }
    }
    if (count < max) {
      fields[count].start = start;
      fields[count].len = i - start;
      fields[count].quoted = quoted;
    }
    count++;
    if (i >= len) break;
    i++; /* the delimiter; a record ending in one has a final empty field */
  }
  *n = count;
  return DOPPEL_OK;
}

size_t doppel_csv_unquote(const char *rec, const doppel_csv_field *field, char *out) {
  const char *p = rec + field->start;
  size_t len = field->len;
  if (!field->quoted || len < 2 || p[0] != '"') {
    if (len) memcpy(out, p, len);
    return len;
  }
  const char *e = p + len - (p[len - 1] == '"' ? 1 : 0);
  p++;
  size_t o = 0;
  while (p < e) {
    const char *q = memchr(p, '"', (size_t)(e - p));
    size_t k = q ? (size_t)(q - p) : (size_t)(e - p);
    memcpy(out + o, p, k);
    o += k;
    if (!q) break;
    out[o++] = '"';
    p = q + 1;
    if (p < e && *p == '"') p++;
  }
  return o;
}

size_t doppel_csv_quote(const char *s, size_t n, char delim, char *out) {
  const char d = delim ? delim : ',';
  int need = n && (s[0] == ' ' || s[0] == '\t' || s[n - 1] == ' ' || s[n - 1] == '\t');
  for (size_t i = 0; i < n && !need; i++) {
    char c = s[i];
    need = c == d || c == '"' || c == '\r' || c == '\n';
  }
  if (!need) {
    if (n) memcpy(out, s, n);
    return n;
  }
  size_t o = 0;
  out[o++] = '"';
  for (size_t i = 0; i < n; i++) {
    if (s[i] == '"') out[o++] = '"';
    out[o++] = s[i];
  }
  out[o++] = '"';
  return o;
}
