/*
 * json.c — the validating JSON scanner behind doppel/json.h.
 *
 * doppel_json_parse() is a single-pass, non-recursive state machine: the open
 * containers form a chain through the tape's parent links, so the only
 * "stack" is the tape itself and nesting depth costs no C stack. Structural
 * bytes are dispatched with a 256-entry class table; string contents are
 * skipped 16 bytes at a time with SSE2 where available, else 8 bytes at a
 * time with SWAR word tricks (never loading past the end of the input), and
 * only the bytes that need care ('"', '\\', controls, non-ASCII) leave the
 * fast loop. Non-ASCII bytes are validated as strict UTF-8 (no overlongs, no
 * encoded surrogates, nothing above U+10FFFF); \u escapes must pair
 * surrogates correctly. Errors report the 1-based byte column of the
 * offending byte (len + 1 for a premature end of input) and a lowercase
 * message that quotes at most that one byte.
 *
 * Policy choices not spelled out in the header:
 *   - nesting: a container opened while max_depth containers are already
 *     open is DOPPEL_E_LIMIT ("nesting deeper than N"); scalars do not count,
 *     so max_depth = N accepts N nested arrays with values inside. A
 *     max_depth of 0 (e.g. a zeroed doc) means the default.
 *   - a lone or mispaired surrogate escape is DOPPEL_E_UTF8 (it would decode
 *     to invalid Unicode); raw invalid UTF-8 in strings is DOPPEL_E_UTF8;
 *     everything else, including stray non-ASCII bytes outside strings, is
 *     DOPPEL_E_JSON.
 *   - on failure doc->count is 0 and diag->source / diag->line keep the
 *     caller's values; diag is untouched on success.
 *   - doppel_json_get_double() follows strtod: out-of-range values become
 *     +-HUGE_VAL or a (sub)normal/zero and still return 0. It relies on the
 *     C locale's '.' decimal point (the program never calls setlocale).
 *   - doppel_json_lookup(doc, from, "") is `from`; "a..b" has an empty key
 *     as its middle segment.
 */
#include <doppel/json.h>

#include "core/diag.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__SSE2__) && !defined(DP_JSON_NO_SIMD)
#include <emmintrin.h>
#define DP_JSON_SSE2 1
#endif

#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define DP_JSON_SWAR 1
#endif

#if defined(__GNUC__)
#define DP_LIKELY(x) __builtin_expect(!!(x), 1)
#define DP_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define DP_INLINE static inline __attribute__((always_inline))
#define DP_NOINLINE static __attribute__((noinline, cold))
#else
#define DP_LIKELY(x) (x)
#define DP_UNLIKELY(x) (x)
#define DP_INLINE static inline
#define DP_NOINLINE static
#endif

/* Byte classes. */
enum {
  CL_WS = 1,    /* ' ' '\t' '\n' '\r' */
  CL_DIGIT = 2, /* '0'..'9' */
  CL_PLAIN = 4, /* string byte needing no attention: 0x20..0x7f except '"' '\\' */
  CL_HEX = 8    /* hex digit */
};

/* clang-format off */
static const unsigned char cls[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 1, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    5, 4, 0, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
    14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 4, 4, 4, 4, 4, 4,
    4, 12, 12, 12, 12, 12, 12, 4, 4, 4, 4, 4, 4, 4, 4, 4,
    4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 0, 4, 4, 4,
    4, 12, 12, 12, 12, 12, 12, 4, 4, 4, 4, 4, 4, 4, 4, 4,
    4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
};
/* clang-format on */

#define IS_WS(c) (cls[(unsigned char)(c)] & CL_WS)
#define IS_DIGIT(c) (cls[(unsigned char)(c)] & CL_DIGIT)

typedef const unsigned char *bptr;

/* ---- lifecycle ---------------------------------------------------------- */

void doppel_json_doc_init(doppel_json_doc *doc) {
  if (!doc) return;
  doc->src = NULL;
  doc->len = 0;
  doc->nodes = NULL;
  doc->count = 0;
  doc->cap = 0;
  doc->max_depth = DOPPEL_JSON_MAX_DEPTH_DEFAULT;
}

void doppel_json_doc_release(doppel_json_doc *doc) {
  if (!doc) return;
  free(doc->nodes);
  doc->nodes = NULL;
  doc->count = 0;
  doc->cap = 0;
  doc->src = NULL;
  doc->len = 0;
}

/* ---- error reporting (cold) --------------------------------------------- */

/* Fill diag with status, column and message, keeping the caller's source
 * and line (the header leaves those to the caller). Returns st. */
DP_NOINLINE DP_PRINTF(4, 5) doppel_status
    jerr(doppel_diag *diag, doppel_status st, uint64_t column, const char *fmt, ...) {
  if (!diag) return st;
  char text[DOPPEL_DIAG_TEXT_MAX];
  char source[DOPPEL_DIAG_SOURCE_MAX];
  uint64_t line = diag->line;
  memcpy(source, diag->source, sizeof source);
  source[sizeof source - 1] = '\0';
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(text, sizeof text, fmt, ap);
  va_end(ap);
  return dp_diag_set(diag, st, source, line, column, "%s", text);
}

/* Render one input byte for a message: 'x' when printable ASCII, else its
 * hex value. buf must hold 16 bytes. */
static const char *byte_desc(unsigned char c, char *buf) {
  if (c > 0x20 && c < 0x7f) {
    snprintf(buf, 16, "'%c'", (char)c);
  } else {
    snprintf(buf, 16, "byte 0x%02x", (unsigned)c);
  }
  return buf;
}

/* "<what>, found <byte>" at p, or "unexpected end of input: <what>" at the
 * end. */
DP_NOINLINE doppel_status err_expected(doppel_diag *diag, bptr base, bptr p, bptr end,
                                       const char *what) {
  if (p >= end) {
    return jerr(diag, DOPPEL_E_JSON, (uint64_t)(end - base) + 1, "unexpected end of input: %s",
                what);
  }
  char b[16];
  return jerr(diag, DOPPEL_E_JSON, (uint64_t)(p - base) + 1, "%s, found %s", what,
              byte_desc(*p, b));
}

DP_NOINLINE doppel_status err_at(doppel_diag *diag, doppel_status st, bptr base, bptr p,
                                 const char *msg) {
  return jerr(diag, st, (uint64_t)(p - base) + 1, "%s", msg);
}

DP_NOINLINE doppel_status err_unterminated(doppel_diag *diag, bptr base, bptr end) {
  return jerr(diag, DOPPEL_E_JSON, (uint64_t)(end - base) + 1, "unterminated string");
}

DP_NOINLINE doppel_status err_control(doppel_diag *diag, bptr base, bptr p) {
  return jerr(diag, DOPPEL_E_JSON, (uint64_t)(p - base) + 1,
              "control character U+%04X in string (must be escaped)", (unsigned)*p);
}

/* p points at the byte after the backslash (p < end). */
DP_NOINLINE doppel_status err_escape(doppel_diag *diag, bptr base, bptr p) {
  if (*p > 0x20 && *p < 0x7f) {
    return jerr(diag, DOPPEL_E_JSON, (uint64_t)(p - base) + 1, "invalid escape '\\%c' in string",
                (char)*p);
  }
  return jerr(diag, DOPPEL_E_JSON, (uint64_t)(p - base) + 1,
              "invalid escape in string: backslash followed by byte 0x%02x", (unsigned)*p);
}

DP_NOINLINE doppel_status err_hex(doppel_diag *diag, bptr base, bptr p) {
  char b[16];
  return jerr(diag, DOPPEL_E_JSON, (uint64_t)(p - base) + 1,
              "invalid \\u escape in string: expected a hex digit, found %s", byte_desc(*p, b));
}

DP_NOINLINE doppel_status err_surrogate(doppel_diag *diag, bptr base, bptr p, unsigned cp) {
  return jerr(diag, DOPPEL_E_UTF8, (uint64_t)(p - base) + 1,
              "unpaired %s surrogate escape \\u%04X in string", cp < 0xDC00 ? "high" : "low", cp);
}

/* Describe why the UTF-8 sequence starting at p (p < end, *p >= 0x80) is
 * invalid; the column is that of the lead byte. */
DP_NOINLINE doppel_status err_utf8(doppel_diag *diag, bptr base, bptr p, bptr end) {
  unsigned c = *p;
  uint64_t col = (uint64_t)(p - base) + 1;
  if (c < 0xC0) {
    return jerr(diag, DOPPEL_E_UTF8, col,
                "invalid UTF-8 byte 0x%02x in string (unexpected continuation byte)", c);
  }
  if (c < 0xC2) {
    return jerr(diag, DOPPEL_E_UTF8, col, "invalid UTF-8 byte 0x%02x in string (overlong encoding)",
                c);
  }
  if (c > 0xF4) {
    return jerr(diag, DOPPEL_E_UTF8, col, "invalid UTF-8 byte 0x%02x in string", c);
  }
  if (end - p >= 2) {
    unsigned c1 = p[1];
    if (c == 0xE0 && c1 >= 0x80 && c1 < 0xA0) {
      return jerr(diag, DOPPEL_E_UTF8, col, "overlong UTF-8 sequence in string");
    }
    if (c == 0xF0 && c1 >= 0x80 && c1 < 0x90) {
      return jerr(diag, DOPPEL_E_UTF8, col, "overlong UTF-8 sequence in string");
    }
    if (c == 0xED && c1 >= 0xA0 && c1 < 0xC0) {
      return jerr(diag, DOPPEL_E_UTF8, col, "surrogate code point encoded in UTF-8 in string");
    }
    if (c == 0xF4 && c1 >= 0x90 && c1 < 0xC0) {
      return jerr(diag, DOPPEL_E_UTF8, col, "code point above U+10FFFF in string");
    }
  }
  return jerr(diag, DOPPEL_E_UTF8, col, "incomplete UTF-8 sequence in string (lead byte 0x%02x)",
              c);
}

/* ---- strings ------------------------------------------------------------ */

/* Length of the valid UTF-8 sequence at p (*p >= 0x80), or 0 if invalid. */
DP_INLINE size_t utf8_len(bptr p, bptr end) {
  unsigned c = p[0];
  size_t avail = (size_t)(end - p);
  if (c < 0xC2) return 0;
  if (c < 0xE0) {
    return (avail >= 2 && (p[1] & 0xC0) == 0x80) ? 2 : 0;
  }
  if (c < 0xF0) {
    if (avail < 3) return 0;
    unsigned c1 = p[1];
    unsigned lo = 0x80, hi = 0xBF;
    if (c == 0xE0)
      lo = 0xA0;
    else if (c == 0xED)
      hi = 0x9F;
    if (c1 < lo || c1 > hi || (p[2] & 0xC0) != 0x80) return 0;
    return 3;
  }
  if (c < 0xF5) {
    if (avail < 4) return 0;
    unsigned c1 = p[1];
    unsigned lo = 0x80, hi = 0xBF;
    if (c == 0xF0)
      lo = 0x90;
    else if (c == 0xF4)
      hi = 0x8F;
    if (c1 < lo || c1 > hi || (p[2] & 0xC0) != 0x80 || (p[3] & 0xC0) != 0x80) return 0;
    return 4;
  }
  return 0;
}

/* Four hex digits at p (caller guarantees 4 bytes) → value, or -1 with
 * *bad pointing at the first non-hex byte. */
static long hex4(bptr p, bptr *bad) {
  long v = 0;
  for (int i = 0; i < 4; i++) {
    unsigned c = p[i];
    if (!(cls[c] & CL_HEX)) {
      *bad = p + i;
      return -1;
    }
    v = (v << 4) | (long)(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
  }
  return v;
}

#ifdef DP_JSON_SWAR
/* High bit set in each byte of w that is '"', '\\', < 0x20 or >= 0x80. A
 * borrow can only flag a byte above a genuinely flagged one, so the lowest
 * flagged byte is always exact. */
DP_INLINE uint64_t swar_special(uint64_t w) {
  const uint64_t k01 = 0x0101010101010101ull;
  const uint64_t k80 = 0x8080808080808080ull;
  uint64_t q = w ^ (k01 * 0x22);
  uint64_t b = w ^ (k01 * 0x5C);
  uint64_t m = ((q - k01) & ~q) | ((b - k01) & ~b) | ((w - k01 * 0x20) & ~w) | w;
  return m & k80;
}
#endif

/* Slow path of a string: handle the byte at p that is not plain. Returns the
 * new position (after the handled escape / UTF-8 sequence), or NULL with
 * *st set and diag filled. Never called on '"'. */
static bptr string_special(bptr base, bptr p, bptr end, unsigned *escaped, doppel_diag *diag,
                           doppel_status *st) {
  unsigned c = *p;
  if (c == '\\') {
    bptr e = p + 1;
    if (e >= end) {
      *st = err_unterminated(diag, base, end);
      return NULL;
    }
    *escaped = 1;
    switch (*e) {
      case '"':
      case '\\':
      case '/':
      case 'b':
      case 'f':
      case 'n':
      case 'r':
      case 't': return e + 1;
      case 'u': {
        bptr bad = e;
        if (end - e < 5) {
          for (bptr h = e + 1; h < end; h++) {
            if (!(cls[*h] & CL_HEX)) {
              *st = err_hex(diag, base, h);
              return NULL;
            }
          }
          *st = err_unterminated(diag, base, end);
          return NULL;
        }
        long cp = hex4(e + 1, &bad);
        if (cp < 0) {
          *st = err_hex(diag, base, bad);
          return NULL;
        }
        if (cp < 0xD800 || cp > 0xDFFF) return e + 5;
        if (cp >= 0xDC00) {
          *st = err_surrogate(diag, base, p, (unsigned)cp);
          return NULL;
        }
        /* high surrogate: a \uDC00..\uDFFF escape must follow */
        bptr l = e + 5;
        if (end - l >= 2 && l[0] == '\\' && l[1] == 'u') {
          if (end - l < 6) {
            for (bptr h = l + 2; h < end; h++) {
              if (!(cls[*h] & CL_HEX)) {
                *st = err_hex(diag, base, h);
                return NULL;
              }
            }
            *st = err_unterminated(diag, base, end);
            return NULL;
          }
          long lo = hex4(l + 2, &bad);
          if (lo < 0) {
            *st = err_hex(diag, base, bad);
            return NULL;
          }
          if (lo >= 0xDC00 && lo <= 0xDFFF) return l + 6;
        } else if (end - l < 2 && (l == end || l[0] == '\\')) {
          /* the input ends where the low half should be */
          *st = err_unterminated(diag, base, end);
          return NULL;
        }
        *st = err_surrogate(diag, base, p, (unsigned)cp);
        return NULL;
      }
      default: *st = err_escape(diag, base, e); return NULL;
    }
  }
  if (c < 0x20) {
    *st = err_control(diag, base, p);
    return NULL;
  }
  /* c >= 0x80 */
  size_t n = utf8_len(p, end);
  if (DP_UNLIKELY(n == 0)) {
    *st = err_utf8(diag, base, p, end);
    return NULL;
  }
  return p + n;
}

/* Scan string content starting at p (just after the opening quote). Returns
 * a pointer to the closing quote, or NULL with *st set. */
DP_INLINE bptr scan_string(bptr base, bptr p, bptr end, unsigned *escaped, doppel_diag *diag,
                           doppel_status *st) {
  for (;;) {
#ifdef DP_JSON_SSE2
    {
      const __m128i quote = _mm_set1_epi8('"');
      const __m128i bslash = _mm_set1_epi8('\\');
      const __m128i space = _mm_set1_epi8(0x20);
      while (end - p >= 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
        /* signed compare: bytes >= 0x80 are negative, so one compare
         * catches controls and non-ASCII together */
        __m128i m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, bslash)),
                                 _mm_cmplt_epi8(v, space));
        unsigned mask = (unsigned)_mm_movemask_epi8(m);
        if (mask) {
          p += __builtin_ctz(mask);
          goto special;
        }
        p += 16;
      }
    }
#endif
#ifdef DP_JSON_SWAR
    while (end - p >= 8) {
      uint64_t w;
      memcpy(&w, p, 8);
      uint64_t m = swar_special(w);
      if (m) {
        p += __builtin_ctzll(m) >> 3;
        goto special;
      }
      p += 8;
    }
#endif
    while (p < end && (cls[*p] & CL_PLAIN)) p++;
    if (DP_UNLIKELY(p >= end)) {
      *st = err_unterminated(diag, base, end);
      return NULL;
    }
  special:
    if (DP_LIKELY(*p == '"')) return p;
    p = string_special(base, p, end, escaped, diag, st);
    if (!p) return NULL;
  }
}

/* ---- the parser --------------------------------------------------------- */

static int grow_tape(doppel_json_doc *doc) {
  size_t ncap = doc->cap ? (size_t)doc->cap * 2 : 64;
  if (ncap > UINT32_MAX - 1) ncap = UINT32_MAX - 1;
  if (ncap <= doc->cap || ncap > SIZE_MAX / sizeof(doppel_json_node)) return -1;
  doppel_json_node *n = realloc(doc->nodes, ncap * sizeof *n);
  if (!n) return -1;
  doc->nodes = n;
  doc->cap = (uint32_t)ncap;
  return 0;
}

#define SKIP_WS()                                  \
  do {                                             \
    while (DP_UNLIKELY(p < end && IS_WS(*p))) p++; \
  } while (0)

doppel_status doppel_json_parse(doppel_json_doc *doc, const char *src, size_t len,
                                doppel_diag *diag) {
  if (!doc) return jerr(diag, DOPPEL_E_USAGE, 0, "no JSON document given");
  doc->src = src;
  doc->len = len;
  doc->count = 0;
  if (len > (size_t)UINT32_MAX) {
    return jerr(diag, DOPPEL_E_LIMIT, 0, "document of %zu bytes exceeds the 4 GiB limit for JSON",
                len);
  }
  if (!src) {
    if (len) return jerr(diag, DOPPEL_E_USAGE, 0, "no JSON input given");
    src = "";
  }

  bptr const base = (bptr)src;
  bptr const end = base + len;
  bptr p = base;
  doppel_json_node *nodes = doc->nodes;
  uint32_t cap = doc->cap;
  uint32_t n = 0;
  uint32_t cur = DOPPEL_JSON_NONE; /* innermost open container */
  uint32_t depth = 0;              /* open containers */
  uint32_t max_depth = doc->max_depth ? doc->max_depth : DOPPEL_JSON_MAX_DEPTH_DEFAULT;
  int in_obj = 0; /* cur is an object */
  uint32_t key_start = 0, key_len = 0;
  uint8_t key_flags = 0;
  doppel_status st = DOPPEL_OK;

  SKIP_WS();
  if (p >= end) {
    return jerr(diag, DOPPEL_E_JSON, (uint64_t)len + 1,
                len ? "no JSON value, only whitespace" : "empty input, expected a JSON value");
  }

value:
  /* p < end is not guaranteed here */
  SKIP_WS();
  if (DP_UNLIKELY(p >= end)) return err_expected(diag, base, p, end, "expected a JSON value");
  if (DP_UNLIKELY(n >= cap)) {
    if (grow_tape(doc)) {
      return jerr(diag, DOPPEL_E_NOMEM, (uint64_t)(p - base) + 1,
                  "out of memory growing the JSON tape");
    }
    nodes = doc->nodes;
    cap = doc->cap;
  }
  {
    doppel_json_node *nd = &nodes[n];
    nd->start = (uint32_t)(p - base);
    nd->key_start = key_start;
    nd->key_len = key_len;
    nd->parent = cur;
    nd->count = 0;
    nd->depth = (uint16_t)(depth > 65535 ? 65535 : depth);
    if (cur != DOPPEL_JSON_NONE) nodes[cur].count++;
    switch (*p) {
      case '"': {
        unsigned esc = 0;
        bptr q = scan_string(base, p + 1, end, &esc, diag, &st);
        if (DP_UNLIKELY(!q)) return st;
        p = q + 1;
        nd->type = DOPPEL_JSON_STRING;
        nd->flags = (uint8_t)(key_flags | (esc ? DOPPEL_JSON_F_ESCAPED : 0));
        nd->end = (uint32_t)(p - base);
        nd->next = ++n;
        goto after_value;
      }
      case '{':
      case '[': {
        if (DP_UNLIKELY(depth >= max_depth)) {
          return jerr(diag, DOPPEL_E_LIMIT, (uint64_t)(p - base) + 1, "nesting deeper than %u",
                      (unsigned)max_depth);
        }
        in_obj = *p == '{';
        nd->type = in_obj ? DOPPEL_JSON_OBJECT : DOPPEL_JSON_ARRAY;
        nd->flags = key_flags;
        cur = n++;
        depth++;
        p++;
        SKIP_WS();
        if (p < end && *p == (in_obj ? '}' : ']')) goto close;
        if (in_obj) {
          if (DP_LIKELY(p < end && *p == '"')) goto key;
          return err_expected(diag, base, p, end, "expected string key or '}' after '{'");
        }
        key_start = key_len = 0;
        key_flags = 0;
        goto value;
      }
      case '-':
      case '0':
      case '1':
      case '2':
      case '3':
      case '4':
      case '5':
      case '6':
      case '7':
      case '8':
      case '9': {
        bptr q = p;
        uint8_t fl = DOPPEL_JSON_F_INTEGER;
        if (*q == '-') {
          q++;
          if (DP_UNLIKELY(q >= end || !IS_DIGIT(*q))) {
            return err_expected(diag, base, q, end, "expected a digit after '-'");
          }
        }
        if (*q == '0') {
          q++;
          if (DP_UNLIKELY(q < end && IS_DIGIT(*q))) {
            return err_at(diag, DOPPEL_E_JSON, base, q, "leading zeros are not allowed in numbers");
          }
        } else {
          do q++;
          while (q < end && IS_DIGIT(*q));
        }
        if (q < end && *q == '.') {
          q++;
          if (DP_UNLIKELY(q >= end || !IS_DIGIT(*q))) {
            return err_expected(diag, base, q, end, "expected a digit after the decimal point");
          }
          do q++;
          while (q < end && IS_DIGIT(*q));
          fl = 0;
        }
        if (q < end && (*q | 0x20) == 'e') {
          q++;
          if (q < end && (*q == '+' || *q == '-')) q++;
          if (DP_UNLIKELY(q >= end || !IS_DIGIT(*q))) {
            return err_expected(diag, base, q, end, "expected a digit in the exponent");
          }
          do q++;
          while (q < end && IS_DIGIT(*q));
          fl = 0;
        }
        p = q;
        nd->type = DOPPEL_JSON_NUMBER;
        nd->flags = (uint8_t)(key_flags | fl);
        nd->end = (uint32_t)(p - base);
        nd->next = ++n;
        goto after_value;
      }
      case 't':
      case 'f':
      case 'n': {
        const char *lit;
        size_t ll;
        uint8_t ty;
        if (*p == 't') {
          lit = "true", ll = 4, ty = DOPPEL_JSON_TRUE;
        } else if (*p == 'f') {
          lit = "false", ll = 5, ty = DOPPEL_JSON_FALSE;
        } else {
          lit = "null", ll = 4, ty = DOPPEL_JSON_NULL;
        }
        if (DP_UNLIKELY((size_t)(end - p) < ll || memcmp(p, lit, ll) != 0)) {
          size_t i = 1;
          while (p + i < end && i < ll && p[i] == (unsigned char)lit[i]) i++;
          const char *what = ty == DOPPEL_JSON_TRUE    ? "invalid literal, expected 'true'"
                             : ty == DOPPEL_JSON_FALSE ? "invalid literal, expected 'false'"
                                                       : "invalid literal, expected 'null'";
          return err_expected(diag, base, p + i, end, what);
        }
        p += ll;
        nd->type = ty;
        nd->flags = key_flags;
        nd->end = (uint32_t)(p - base);
        nd->next = ++n;
        goto after_value;
      }
      default: return err_expected(diag, base, p, end, "expected a JSON value");
    }
  }

after_value:
  if (DP_UNLIKELY(cur == DOPPEL_JSON_NONE)) goto done;
  SKIP_WS();
  if (DP_UNLIKELY(p >= end)) {
    return err_expected(diag, base, p, end,
                        in_obj ? "expected ',' or '}' after object member"
                               : "expected ',' or ']' after array element");
  }
  if (*p == ',') {
    p++;
    SKIP_WS();
    if (in_obj) {
      if (DP_LIKELY(p < end && *p == '"')) goto key;
      if (p < end && *p == '}')
        return err_at(diag, DOPPEL_E_JSON, base, p, "trailing comma in object");
      return err_expected(diag, base, p, end, "expected string key after ','");
    }
    if (DP_UNLIKELY(p < end && *p == ']')) {
      return err_at(diag, DOPPEL_E_JSON, base, p, "trailing comma in array");
    }
    key_start = key_len = 0;
    key_flags = 0;
    goto value;
  }
  if (DP_LIKELY(*p == (in_obj ? '}' : ']'))) goto close;
  return err_expected(diag, base, p, end,
                      in_obj ? "expected ',' or '}' after object member"
                             : "expected ',' or ']' after array element");

close:
  /* p points at the closing bracket of cur */
  p++;
  nodes[cur].end = (uint32_t)(p - base);
  nodes[cur].next = n;
  depth--;
  cur = nodes[cur].parent;
  in_obj = cur != DOPPEL_JSON_NONE && nodes[cur].type == DOPPEL_JSON_OBJECT;
  goto after_value;

key : {
  /* p points at the opening quote of a member key */
  unsigned esc = 0;
  bptr q = scan_string(base, p + 1, end, &esc, diag, &st);
  if (DP_UNLIKELY(!q)) return st;
  key_start = (uint32_t)(p + 1 - base);
  key_len = (uint32_t)(q - p - 1);
  key_flags = esc ? DOPPEL_JSON_F_KEY_ESCAPED : 0;
  p = q + 1;
  if (DP_LIKELY(p < end && *p == ':')) {
    p++;
    goto value;
  }
  SKIP_WS();
  if (DP_LIKELY(p < end && *p == ':')) {
    p++;
    goto value;
  }
  return err_expected(diag, base, p, end, "expected ':' after object key");
}

done:
  SKIP_WS();
  if (DP_UNLIKELY(p < end)) {
    return err_at(diag, DOPPEL_E_JSON, base, p, "trailing characters after JSON value");
  }
  doc->count = n;
  return DOPPEL_OK;
}

/* ---- helpers ------------------------------------------------------------ */

static size_t put_utf8(char *o, unsigned long cp) {
  if (cp < 0x80) {
    o[0] = (char)cp;
    return 1;
  }
  if (cp < 0x800) {
    o[0] = (char)(0xC0 | (cp >> 6));
    o[1] = (char)(0x80 | (cp & 0x3F));
    return 2;
  }
  if (cp < 0x10000) {
    o[0] = (char)(0xE0 | (cp >> 12));
    o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
    o[2] = (char)(0x80 | (cp & 0x3F));
    return 3;
  }
  o[0] = (char)(0xF0 | (cp >> 18));
  o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
  o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
  o[3] = (char)(0x80 | (cp & 0x3F));
  return 4;
}

/* Decode the escape whose backslash is at p (p < e) into out (>= 4 bytes).
 * Returns bytes written and advances *pp past the escape. Defensive on
 * unvalidated input: a malformed escape is copied through byte by byte
 * (never more bytes out than in), a lone surrogate becomes U+FFFD. */
static size_t decode_escape(const char **pp, const char *e, char *out) {
  bptr p = (bptr)*pp;
  bptr end = (bptr)e;
  if (end - p < 2) {
    out[0] = (char)p[0];
    *pp += 1;
    return 1;
  }
  unsigned c = p[1];
  char r;
  switch (c) {
    case '"': r = '"'; break;
    case '\\': r = '\\'; break;
    case '/': r = '/'; break;
    case 'b': r = '\b'; break;
    case 'f': r = '\f'; break;
    case 'n': r = '\n'; break;
    case 'r': r = '\r'; break;
    case 't': r = '\t'; break;
    case 'u': {
      bptr bad = p;
      long cp = end - p >= 6 ? hex4(p + 2, &bad) : -1;
      if (cp < 0) {
        out[0] = '\\';
        *pp += 1;
        return 1;
      }
      if (cp >= 0xD800 && cp <= 0xDBFF && end - p >= 12 && p[6] == '\\' && p[7] == 'u') {
        long lo = hex4(p + 8, &bad);
        if (lo >= 0xDC00 && lo <= 0xDFFF) {
          *pp += 12;
          return put_utf8(
              out, 0x10000 + (((unsigned long)cp - 0xD800) << 10) + ((unsigned long)lo - 0xDC00));
        }
      }
      *pp += 6;
      if (cp >= 0xD800 && cp <= 0xDFFF) cp = 0xFFFD;
      return put_utf8(out, (unsigned long)cp);
    }
    default:
      out[0] = '\\';
      *pp += 1;
      return 1;
  }
  out[0] = r;
  *pp += 2;
  return 1;
}

size_t doppel_json_unescape(const char *content, size_t len, char *out) {
  const char *p = content;
  const char *e = content + len;
  char *o = out;
  while (p < e) {
    const char *bs = memchr(p, '\\', (size_t)(e - p));
    if (!bs) {
      memcpy(o, p, (size_t)(e - p));
      o += e - p;
      break;
    }
    memcpy(o, p, (size_t)(bs - p));
    o += bs - p;
    p = bs;
    o += decode_escape(&p, e, o);
  }
  return (size_t)(o - out);
}

/* Does the escaped key content raw[0..rn) unescape to key[0..kn)? */
static int key_equals_escaped(const char *raw, size_t rn, const char *key, size_t kn) {
  const char *p = raw;
  const char *e = raw + rn;
  size_t k = 0;
  while (p < e) {
    if (*p != '\\') {
      if (k >= kn || key[k] != *p) return 0;
      k++;
      p++;
      continue;
    }
    char buf[4];
    size_t m = decode_escape(&p, e, buf);
    if (m > kn - k || memcmp(key + k, buf, m) != 0) return 0;
    k += m;
  }
  return k == kn;
}

uint32_t doppel_json_find(const doppel_json_doc *doc, uint32_t obj, const char *key,
                          size_t key_len) {
  if (!doc || obj >= doc->count || !key) return DOPPEL_JSON_NONE;
  const doppel_json_node *nodes = doc->nodes;
  if (nodes[obj].type != DOPPEL_JSON_OBJECT) return DOPPEL_JSON_NONE;
  uint32_t found = DOPPEL_JSON_NONE;
  uint32_t i = obj + 1;
  for (uint32_t k = 0; k < nodes[obj].count; k++, i = nodes[i].next) {
    const doppel_json_node *nd = &nodes[i];
    if (DP_LIKELY(!(nd->flags & DOPPEL_JSON_F_KEY_ESCAPED))) {
      if (nd->key_len == key_len && memcmp(doc->src + nd->key_start, key, key_len) == 0) {
        found = i;
      }
    } else if (nd->key_len >= key_len &&
               key_equals_escaped(doc->src + nd->key_start, nd->key_len, key, key_len)) {
      found = i;
    }
  }
  return found;
}

uint32_t doppel_json_lookup(const doppel_json_doc *doc, uint32_t from, const char *path) {
  if (!doc || !path || from >= doc->count) return DOPPEL_JSON_NONE;
  uint32_t i = from;
  const char *s = path;
  if (!*s) return i;
  for (;;) {
    const char *dot = strchr(s, '.');
    size_t n = dot ? (size_t)(dot - s) : strlen(s);
    i = doppel_json_find(doc, i, s, n);
    if (i == DOPPEL_JSON_NONE || !dot) return i;
    s = dot + 1;
  }
}

int doppel_json_get_int64(const doppel_json_doc *doc, uint32_t i, int64_t *out) {
  if (!doc || i >= doc->count || !out) return -1;
  const doppel_json_node *nd = &doc->nodes[i];
  if (nd->type != DOPPEL_JSON_NUMBER || !(nd->flags & DOPPEL_JSON_F_INTEGER)) return -1;
  const char *p = doc->src + nd->start;
  const char *e = doc->src + nd->end;
  int neg = 0;
  if (p < e && *p == '-') {
    neg = 1;
    p++;
  }
  if (p >= e) return -1;
  const uint64_t limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
  uint64_t acc = 0;
  for (; p < e; p++) {
    unsigned d = (unsigned)(unsigned char)*p - '0';
    if (d > 9) return -1;
    if (acc > (limit - d) / 10) return -1;
    acc = acc * 10 + d;
  }
  if (neg) {
    *out = acc == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)acc;
  } else {
    *out = (int64_t)acc;
  }
  return 0;
}

int doppel_json_get_double(const doppel_json_doc *doc, uint32_t i, double *out) {
  if (!doc || i >= doc->count || !out) return -1;
  const doppel_json_node *nd = &doc->nodes[i];
  if (nd->type != DOPPEL_JSON_NUMBER) return -1;
  size_t n = nd->end - nd->start;
  char stackbuf[128];
  /* numbers longer than the stack buffer are legal JSON (and every digit can
   * matter for rounding), so they take a heap copy instead of truncating */
  char *buf = n < sizeof stackbuf ? stackbuf : malloc(n + 1);
  if (!buf) return -1;
  memcpy(buf, doc->src + nd->start, n);
  buf[n] = '\0';
  char *endp = NULL;
  double v = strtod(buf, &endp);
  int ok = endp == buf + n;
  if (buf != stackbuf) free(buf);
  if (!ok) return -1;
  *out = v;
  return 0;
}

size_t doppel_json_escape(const char *s, size_t n, char *out) {
  static const char hex[] = "0123456789abcdef";
  char *o = out;
  size_t i = 0;
  *o++ = '"';
  while (i < n) {
    size_t run = i;
    while (run < n) {
      unsigned char c = (unsigned char)s[run];
      if (c < 0x20 || c == '"' || c == '\\') break;
      run++;
    }
    memcpy(o, s + i, run - i);
    o += run - i;
    i = run;
    if (i >= n) break;
    unsigned char c = (unsigned char)s[i++];
    *o++ = '\\';
    switch (c) {
      case '"': *o++ = '"'; break;
      case '\\': *o++ = '\\'; break;
      case '\b': *o++ = 'b'; break;
      case '\f': *o++ = 'f'; break;
      case '\n': *o++ = 'n'; break;
      case '\r': *o++ = 'r'; break;
      case '\t': *o++ = 't'; break;
      default:
        *o++ = 'u';
        *o++ = '0';
        *o++ = '0';
        *o++ = hex[c >> 4];
        *o++ = hex[c & 0xF];
        break;
    }
  }
  *o++ = '"';
  return (size_t)(o - out);
}
