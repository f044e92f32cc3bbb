/*
 * test_json.c — tests for the JSON scanner (doppel/json.h).
 *
 * Tables of valid and invalid documents (status, column and message
 * fragments), depth limits, tape structure and reuse, the helpers (find,
 * lookup, unescape, escape, get_int64, get_double), and a differential check
 * against jansson: on the fixtures, on every line of the shared real data
 * (*.jsonl.gz under DOPPEL_SHARED_DATA; skipped when absent) and on ~20,000
 * generated and mutated documents. Accept/reject must agree and accepted
 * documents must decode to the same values, except for these documented
 * differences (jansson flags JSON_DECODE_ANY | JSON_ALLOW_NUL |
 * JSON_DECODE_INT_AS_REAL):
 *   1. number overflow: jansson rejects numbers whose double overflows
 *      ("real number overflow", e.g. 1e999); RFC 8259 allows any magnitude
 *      and doppel keeps such numbers verbatim.
 *   2. "\u0000" in an object key: jansson always rejects it ("NUL byte in
 *      object key not supported"); it is valid JSON.
 *   3. depth: jansson counts every value, scalars included, against
 *      JSON_PARSER_MAX_DEPTH (2048); doppel counts containers only. With
 *      max_depth = 2048 they differ only on a scalar nested in exactly 2048
 *      containers (jansson rejects, doppel accepts).
 *   4. raw NUL byte right after a number or literal ("[1\0]", "true\0"):
 *      jansson's lexer uses NUL as its pushback sentinel, so a NUL that ends
 *      a token is silently dropped and the document accepted. A raw NUL is
 *      never valid outside strings (RFC 8259 §2), doppel rejects it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <doppel/json.h>

#include <dirent.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#define JFLAGS (JSON_DECODE_ANY | JSON_ALLOW_NUL | JSON_DECODE_INT_AS_REAL)
#define JANSSON_MAX_DEPTH 2048 /* JSON_PARSER_MAX_DEPTH in jansson 2.14 */

/* ---- small utilities ---------------------------------------------------- */

static char *xmalloc(size_t n) {
  char *p = malloc(n ? n : 1);
  assert_non_null(p);
  return p;
}

static doppel_status parse_n(doppel_json_doc *doc, const char *s, size_t n, doppel_diag *d) {
  doppel_diag_clear(d);
  return doppel_json_parse(doc, s, n, d);
}

static doppel_status parse(doppel_json_doc *doc, const char *s, doppel_diag *d) {
  return parse_n(doc, s, strlen(s), d);
}

/* Print a document safely (escaped, truncated) for failure messages. */
static void print_doc(const char *s, size_t n) {
  size_t lim = n < 300 ? n : 300;
  fprintf(stderr, "  doc (%zu bytes): \"", n);
  for (size_t i = 0; i < lim; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c >= 0x20 && c < 0x7f && c != '\\' && c != '"')
      fputc(c, stderr);
    else
      fprintf(stderr, "\\x%02x", c);
  }
  fprintf(stderr, "%s\"\n", lim < n ? "..." : "");
}

static int span_is(const doppel_json_doc *doc, uint32_t i, const char *want) {
  const doppel_json_node *nd = &doc->nodes[i];
  size_t n = nd->end - nd->start;
  return n == strlen(want) && memcmp(doc->src + nd->start, want, n) == 0;
}

static int key_is(const doppel_json_doc *doc, uint32_t i, const char *want) {
  const doppel_json_node *nd = &doc->nodes[i];
  return nd->key_len == strlen(want) && memcmp(doc->src + nd->key_start, want, nd->key_len) == 0;
}

/* ---- valid documents ---------------------------------------------------- */

typedef struct {
  const char *s;
  size_t n;       /* 0 = strlen */
  int type;       /* root type */
  uint32_t count; /* nodes, 0 = don't check */
} valid_case;

static const valid_case valid_cases[] = {
    {"{}", 0, DOPPEL_JSON_OBJECT, 1},
    {"[]", 0, DOPPEL_JSON_ARRAY, 1},
    {"0", 0, DOPPEL_JSON_NUMBER, 1},
    {"-0", 0, DOPPEL_JSON_NUMBER, 1},
    {"1.5", 0, DOPPEL_JSON_NUMBER, 1},
    {"-1.5e-10", 0, DOPPEL_JSON_NUMBER, 1},
    {"1E+2", 0, DOPPEL_JSON_NUMBER, 1},
    {"0e0", 0, DOPPEL_JSON_NUMBER, 1},
    {"-0.0E-0", 0, DOPPEL_JSON_NUMBER, 1},
    {"1e999", 0, DOPPEL_JSON_NUMBER, 1},
    {"-1e999", 0, DOPPEL_JSON_NUMBER, 1},
    {"12345678901234567890123", 0, DOPPEL_JSON_NUMBER, 1},
    {"\"x\"", 0, DOPPEL_JSON_STRING, 1},
    {"\"\"", 0, DOPPEL_JSON_STRING, 1},
    {"true", 0, DOPPEL_JSON_TRUE, 1},
    {"false", 0, DOPPEL_JSON_FALSE, 1},
    {"null", 0, DOPPEL_JSON_NULL, 1},
    {"  [ 1 , 2 ]  \n", 0, DOPPEL_JSON_ARRAY, 3},
    {"\t\r\n{}\t\r\n ", 0, DOPPEL_JSON_OBJECT, 1},
    {"{\"a\":1,\"a\":2}", 0, DOPPEL_JSON_OBJECT, 3},
    {"\"\\u00e9\\u00C9\"", 0, DOPPEL_JSON_STRING, 1},
    {"\"\\uD83D\\uDE00\"", 0, DOPPEL_JSON_STRING, 1},
    {"\"\\udbff\\udfff\"", 0, DOPPEL_JSON_STRING, 1},
    {"\"\\u0000\"", 0, DOPPEL_JSON_STRING, 1},
    {"\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", 0, DOPPEL_JSON_STRING, 1},
    {"\"\xc3\xa9\"", 0, DOPPEL_JSON_STRING, 1},                 /* U+00E9 */
    {"\"\xc2\x80\xdf\xbf\"", 0, DOPPEL_JSON_STRING, 1},         /* U+0080, U+07FF */
    {"\"\xe0\xa0\x80\xed\x9f\xbf\"", 0, DOPPEL_JSON_STRING, 1}, /* U+0800, U+D7FF */
    {"\"\xee\x80\x80\xef\xbf\xbf\"", 0, DOPPEL_JSON_STRING, 1}, /* U+E000, U+FFFF */
    {"\"\xf0\x90\x80\x80\"", 0, DOPPEL_JSON_STRING, 1},         /* U+10000 */
    {"\"\xf0\x9f\x98\x80\"", 0, DOPPEL_JSON_STRING, 1},         /* U+1F600 */
    {"\"\xf4\x8f\xbf\xbf\"", 0, DOPPEL_JSON_STRING, 1},         /* U+10FFFF */
    {"\"\x7f\"", 0, DOPPEL_JSON_STRING, 1}, /* DEL is not a control char in JSON */
    {"\"a\\u0000b\" ", 0, DOPPEL_JSON_STRING, 1},
    {"[[[]]]", 0, DOPPEL_JSON_ARRAY, 3},
    {"{\"a\":{\"b\":{\"c\":[1,{\"d\":null}]}}}", 0, DOPPEL_JSON_OBJECT, 7},
    {"[1,\"a\",true,false,null,{},[]]", 0, DOPPEL_JSON_ARRAY, 8},
    {"{\"\":\"\"}", 0, DOPPEL_JSON_OBJECT, 2},
    {"{\"a\\u0000b\":1}", 0, DOPPEL_JSON_OBJECT, 2},
    {"[\"0123456789abcdef0123456789abcdef\\\"0123456789\"]", 0, DOPPEL_JSON_ARRAY, 2},
    {"{\"a\" : 1 ,\"b\":[ ] , \"c\" :{ } }", 0, DOPPEL_JSON_OBJECT, 4},
};

static void test_valid_table(void **state) {
  (void)state;
  doppel_json_doc doc;
  doppel_json_doc_init(&doc);
  doppel_diag d;
  for (size_t k = 0; k < sizeof valid_cases / sizeof valid_cases[0]; k++) {
    const valid_case *c = &valid_cases[k];
    size_t n = c->n ? c->n : strlen(c->s);
    doppel_status st = parse_n(&doc, c->s, n, &d);
    if (st != DOPPEL_OK) {
      fprintf(stderr, "valid case %zu rejected: %s (column %llu)\n", k, d.text,
              (unsigned long long)d.column);
      print_doc(c->s, n);
    }
    assert_int_equal(st, DOPPEL_OK);
    assert_true(doc.count >= 1);
    assert_int_equal(doc.nodes[0].type, c->type);
    assert_int_equal(doc.nodes[0].parent, DOPPEL_JSON_NONE);
    assert_int_equal(doc.nodes[0].next, doc.count);
    if (c->count) assert_int_equal(doc.count, c->count);
    assert_ptr_equal(doc.src, c->s);
    assert_int_equal(doc.len, n);
  }
  doppel_json_doc_release(&doc);
}

/* ---- invalid documents -------------------------------------------------- */

typedef struct {
  const char *s;
  size_t n; /* 0 = strlen (use explicit lengths for embedded NULs) */
  doppel_status st;
  uint64_t column;
  const char *frag; /* message fragment, or NULL */
} invalid_case;

#define J DOPPEL_E_JSON
#define U DOPPEL_E_UTF8

static const invalid_case invalid_cases[] = {
    /* empty and truncated */
    {"", 0, J, 1, "empty input"},
    {"   ", 0, J, 4, "only whitespace"},
    {"{", 0, J, 2, "unexpected end of input: expected string key or '}'"},
    {"[", 0, J, 2, "unexpected end of input: expected a JSON value"},
    {"[1,", 0, J, 4, "expected a JSON value"},
    {"{\"a\"", 0, J, 5, "expected ':' after object key"},
    {"{\"a\":", 0, J, 6, "expected a JSON value"},
    {"{\"a\":1", 0, J, 7, "unexpected end of input: expected ',' or '}' after object member"},
    {"[1", 0, J, 3, "expected ',' or ']' after array element"},
    {"\"abc", 0, J, 5, "unterminated string"},
    {"\"", 0, J, 2, "unterminated string"},
    {"\"abcdefghijklmnopqrstuvwxyz", 0, J, 28, "unterminated string"},
    {"\"\\", 0, J, 3, "unterminated string"},
    {"\"\\u", 0, J, 4, "unterminated string"},
    {"\"\\u00", 0, J, 6, "unterminated string"},
    {"\"\\uD800", 0, J, 8, "unterminated string"},
    {"\"\\uD800\\", 0, J, 9, "unterminated string"},
    {"\"\\uD800\\u", 0, J, 10, "unterminated string"},
    {"tru", 0, J, 4, "expected 'true'"},
    {"nul", 0, J, 4, "expected 'null'"},
    {"fals", 0, J, 5, "expected 'false'"},
    {"-", 0, J, 2, "unexpected end of input: expected a digit after '-'"},
    {"1.", 0, J, 3, "expected a digit after the decimal point"},
    {"1e", 0, J, 3, "expected a digit in the exponent"},
    {"1e+", 0, J, 4, "expected a digit in the exponent"},
    /* structure */
    {"[1,2,]", 0, J, 6, "trailing comma in array"},
    {"{\"a\":1,}", 0, J, 8, "trailing comma in object"},
    {"[1 2]", 0, J, 4, "expected ',' or ']' after array element, found '2'"},
    {"{\"a\" 1}", 0, J, 6, "expected ':' after object key, found '1'"},
    {"{\"a\":1 \"b\":2}", 0, J, 8, "expected ',' or '}' after object member, found '\"'"},
    {"{1:2}", 0, J, 2, "expected string key or '}' after '{', found '1'"},
    {"{\"a\":1,2}", 0, J, 8, "expected string key after ','"},
    {"{'a':1}", 0, J, 2, "found '''"},
    {"[1}", 0, J, 3, "expected ',' or ']' after array element, found '}'"},
    {"{\"a\":1]", 0, J, 7, "expected ',' or '}' after object member, found ']'"},
    {"]", 0, J, 1, "expected a JSON value, found ']'"},
    {"[1,,2]", 0, J, 4, "expected a JSON value, found ','"},
    {"{\"a\"::1}", 0, J, 6, "expected a JSON value, found ':'"},
    {"[,1]", 0, J, 2, "expected a JSON value"},
    {"{,}", 0, J, 2, NULL},
    {"1 2", 0, J, 3, "trailing characters after JSON value"},
    {"{} {}", 0, J, 4, "trailing characters after JSON value"},
    {"{\"a\":1}}", 0, J, 8, "trailing characters after JSON value"},
    {"[1]x", 0, J, 4, "trailing characters"},
    {"falsey", 0, J, 6, "trailing characters"},
    {"[truex]", 0, J, 6, "expected ',' or ']' after array element, found 'x'"},
    {"1\0", 2, J, 2, "trailing characters"},
    {"[1\0]", 4, J, 3, "found byte 0x00"},
    {"/*c*/1", 0, J, 1, "found '/'"},
    /* literals */
    {"trUe", 0, J, 3, "invalid literal, expected 'true'"},
    {"True", 0, J, 1, "expected a JSON value, found 'T'"},
    {"nulL", 0, J, 4, "expected 'null'"},
    {"NaN", 0, J, 1, "expected a JSON value, found 'N'"},
    {"[NaN]", 0, J, 2, "found 'N'"},
    {"Infinity", 0, J, 1, "found 'I'"},
    {"-Infinity", 0, J, 2, "expected a digit after '-', found 'I'"},
    {"nan", 0, J, 2, "expected 'null'"},
    /* numbers */
    {"01", 0, J, 2, "leading zeros are not allowed in numbers"},
    {"-01", 0, J, 3, "leading zeros are not allowed"},
    {"00", 0, J, 2, "leading zeros"},
    {"[007]", 0, J, 3, "leading zeros"},
    {"+1", 0, J, 1, "expected a JSON value, found '+'"},
    {".5", 0, J, 1, "found '.'"},
    {"[-]", 0, J, 3, "expected a digit after '-', found ']'"},
    {"1.e5", 0, J, 3, "expected a digit after the decimal point, found 'e'"},
    {"1E-x", 0, J, 4, "expected a digit in the exponent, found 'x'"},
    {"0x10", 0, J, 2, "trailing characters"},
    {"- 1", 0, J, 2, "expected a digit after '-'"},
    {"1.5.5", 0, J, 4, "trailing characters"},
    /* escapes */
    {"\"\\q\"", 0, J, 3, "invalid escape '\\q' in string"},
    {"\"ab\\x41\"", 0, J, 5, "invalid escape '\\x' in string"},
    {"\"\\U00e9\"", 0, J, 3, "invalid escape '\\U'"},
    {"\"\\\x01\"", 0, J, 3, "backslash followed by byte 0x01"},
    {"\"\\u12G4\"", 0, J, 6, "expected a hex digit, found 'G'"},
    {"\"\\u12\"", 0, J, 6, "expected a hex digit, found '\"'"},
    {"{\"\\q\":1}", 0, J, 4, "invalid escape '\\q'"},
    /* surrogate escapes */
    {"\"\\uD800\"", 0, U, 2, "unpaired high surrogate escape \\uD800"},
    {"\"\\udc00\"", 0, U, 2, "unpaired low surrogate escape \\uDC00"},
    {"\"\\uDFFF\"", 0, U, 2, "unpaired low surrogate"},
    {"\"x\\uD800\\u0041\"", 0, U, 3, "unpaired high surrogate"},
    {"\"\\uD800\\uD800\"", 0, U, 2, "unpaired high surrogate"},
    {"\"\\uDBFF\\n\"", 0, U, 2, "unpaired high surrogate"},
    {"\"\\uDE00\\uD83D\"", 0, U, 2, "unpaired low surrogate"},
    {"\"\\uD834\\uDD1E\\uDD1E\"", 0, U, 14, "unpaired low surrogate"},
    {"\"\\uD800\\u12x4\"", 0, J, 12, "expected a hex digit, found 'x'"},
    /* control characters */
    {"\"a\nb\"", 0, J, 3, "control character U+000A in string"},
    {"\"\x1f\"", 0, J, 2, "control character U+001F"},
    {"\"\t\"", 0, J, 2, "control character U+0009"},
    {"\"\0\"", 3, J, 2, "control character U+0000"},
    {"\"0123456789abcdef\x01\"", 0, J, 18, "control character U+0001"},
    /* UTF-8 */
    {"\"\xc0\x80\"", 0, U, 2, "invalid UTF-8 byte 0xc0 in string"},
    {"\"\xc1\xbf\"", 0, U, 2, "invalid UTF-8 byte 0xc1"},
    {"\"\xe0\x80\xaf\"", 0, U, 2, "overlong UTF-8 sequence"},
    {"\"\xe0\x9f\xbf\"", 0, U, 2, "overlong"},
    {"\"\xf0\x82\x82\xac\"", 0, U, 2, "overlong UTF-8 sequence"},
    {"\"\xed\xa0\x80\"", 0, U, 2, "surrogate code point encoded in UTF-8"},
    {"\"\xed\xbf\xbf\"", 0, U, 2, "surrogate code point encoded in UTF-8"},
    {"\"\xf4\x90\x80\x80\"", 0, U, 2, "code point above U+10FFFF in string"},
    {"\"\xf5\x80\x80\x80\"", 0, U, 2, "invalid UTF-8 byte 0xf5 in string"},
    {"\"\xf8\x88\x80\x80\x80\"", 0, U, 2, "invalid UTF-8 byte 0xf8"},
    {"\"\xff\"", 0, U, 2, "invalid UTF-8 byte 0xff in string"},
    {"\"\xfe\"", 0, U, 2, "invalid UTF-8 byte 0xfe"},
    {"\"\x80\"", 0, U, 2, "unexpected continuation byte"},
    {"\"ab\xbf\"", 0, U, 4, "invalid UTF-8 byte 0xbf"},
    {"\"\xc3\"", 0, U, 2, "incomplete UTF-8 sequence"},
    {"\"\xc3"
     "a\"",
     0, U, 2, "incomplete UTF-8 sequence"},
    {"\"\xe2\x82\"", 0, U, 2, "incomplete UTF-8"},
    {"\"\xf0\x9f\x98\"", 0, U, 2, "incomplete UTF-8"},
    {"\"a\xc3", 0, U, 3, "incomplete UTF-8"},
    {"\"0123456789abcdef0123\xff\"", 0, U, 22, "0xff"},
    {"{\"a\":\"\xff\"}", 0, U, 7, "0xff"},
    {"{\"\xff\":1}", 0, U, 3, "0xff"},
    /* stray bytes outside strings */
    {"\xef\xbb\xbf{}", 0, J, 1, "expected a JSON value, found byte 0xef"},
    {"\x0c{}", 0, J, 1, "found byte 0x0c"},
    {"\xa0{}", 0, J, 1, "found byte 0xa0"},
    {"[\xc3\xa9]", 0, J, 2, "found byte 0xc3"},
    {"\v1", 0, J, 1, "byte 0x0b"},
};

#undef J
#undef U

static void test_invalid_table(void **state) {
  (void)state;
  size_t ncases = sizeof invalid_cases / sizeof invalid_cases[0];
  assert_true(ncases >= 40);
  doppel_json_doc doc;
  doppel_json_doc_init(&doc);
  doppel_diag d;
  int bad = 0;
  for (size_t k = 0; k < ncases; k++) {
    const invalid_case *c = &invalid_cases[k];
    size_t n = c->n ? c->n : strlen(c->s);
    doppel_status st = parse_n(&doc, c->s, n, &d);
    int ok = st == c->st && d.status == c->st && d.column == c->column &&
             (!c->frag || strstr(d.text, c->frag) != NULL) && doc.count == 0;
    if (!ok) {
      fprintf(stderr, "invalid case %zu: got %s column %llu \"%s\"; want %s column %llu \"%s\"\n",
              k, doppel_status_name(st), (unsigned long long)d.column, d.text,
              doppel_status_name(c->st), (unsigned long long)c->column, c->frag ? c->frag : "");
      print_doc(c->s, n);
      bad++;
    }
    /* messages are lowercase-led, short, and quote at most one input byte */
    assert_true(strlen(d.text) > 0 && strlen(d.text) < 120);
    assert_false(d.text[0] >= 'A' && d.text[0] <= 'Z');
  }
  assert_int_equal(bad, 0);
  doppel_json_doc_release(&doc);
}

/* The message never echoes input beyond the single offending byte. */
static void test_error_no_echo(void **state) {
  (void)state;
  doppel_json_doc doc;
  doppel_json_doc_init(&doc);
  doppel_diag d;
  const char *docs[] = {
      "{\"secret@example.com\":\"alice@example.com\" x}",
      "{\"secret@example.com\":\"alice@example.com\",}",
      "[\"alice@example.com\\q\"]",
      "{\"secret@example.com\" \"alice@example.com\"}",
      "\"alice@example.com",
  };
  for (size_t k = 0; k < sizeof docs / sizeof docs[0]; k++) {
    assert_int_not_equal(parse(&doc, docs[k], &d), DOPPEL_OK);
    assert_null(strstr(d.text, "alice"));
    assert_null(strstr(d.text, "secret"));
    assert_null(strstr(d.text, "example"));
  }
  doppel_json_doc_release(&doc);
}

/* diag->source and diag->line belong to the caller and survive an error. */
static void test_diag_source_line_kept(void **state) {
  (void)state;
  doppel_json_doc doc;
  doppel_json_doc_init(&doc);
  doppel_diag d;
  doppel_diag_clear(&d);
  strcpy(d.source, "events.jsonl");
  d.line = 42;
  assert_int_equal(doppel_json_parse(&doc, "[1,]", 4, &d), DOPPEL_E_JSON);
  assert_string_equal(d.source, "events.jsonl");
  assert_int_equal(d.line, 42);
  assert_int_equal(d.column, 4);
  char buf[256];
  assert_string_equal(doppel_diag_format(&d, buf, sizeof buf),
                      "events.jsonl:42:4: trailing comma in array");
  /* a NULL diag is allowed */
  assert_int_equal(doppel_json_parse(&doc, "[1,]", 4, NULL), DOPPEL_E_JSON);
  assert_int_equal(doppel_json_parse(&doc, "[1]", 3, NULL), DOPPEL_OK);
  /* NULL src with len 0 is the empty input */
  assert_int_equal(doppel_json_parse(&doc, NULL, 0, &d), DOPPEL_E_JSON);
  doppel_json_doc_release(&doc);
}

/* ---- limits ------------------------------------------------------------- */

static char *nested(size_t depth, const char *open, const char *inner, const char *close,
                    size_t *len) {
  size_t lo = strlen(open), li = strlen(inner), lc = strlen(close);
  size_t n = depth * (lo + lc) + li;
  char *s = xmalloc(n + 1);
  char *p = s;
  for (size_t i = 0; i < depth; i++, p += lo) memcpy(p, open, lo);
  memcpy(p, inner, li);
  p += li;
  for (size_t i = 0; i < depth; i++, p += lc) memcpy(p, close, lc);
  *p = '\0';
  *len = n;
  return s;
}

static void test_depth_limit(void **state) {
  (void)state;
  doppel_json_doc doc;
  doppel_json_doc_init(&doc);
  assert_int_equal(doc.max_depth, DOPPEL_JSON_MAX_DEPTH_DEFAULT);
  doppel_diag d;
  size_t n;
  char *s;

  /* 100,000 deep: rejected at the first bracket over the limit, no crash */
  s = nested(100000, "[", "", "]", &n);
  assert_int_equal(parse_n(&doc, s, n, &d), DOPPEL_E_LIMIT);
  assert_int_equal(d.column, DOPPEL_JSON_MAX_DEPTH_DEFAULT + 1);
  assert_non_null(strstr(d.text, "nesting deeper than 1024"));
  free(s);
  s = nested(100000, "{\"a\":", "1", "}", &n);
  assert_int_equal(parse_n(&doc, s, n, &d), DOPPEL_E_LIMIT);
  assert_int_equal(d.column, 5 * DOPPEL_JSON_MAX_DEPTH_DEFAULT + 1);
  free(s);
  /* truncated deep input still reports the limit first */
  s = nested(100000, "[", "", "", &n);
  assert_int_equal(parse_n(&doc, s, n, &d), DOPPEL_E_LIMIT);
  free(s);

  /* exactly at the default limit, with a scalar inside: accepted */
  s = nested(DOPPEL_JSON_MAX_DEPTH_DEFAULT, "[", "1", "]", &n);
  assert_int_equal(parse_n(&doc, s, n, &d), DOPPEL_OK);
  assert_int_equal(doc.count, DOPPEL_JSON_MAX_DEPTH_DEFAULT + 1);
  assert_int_equal(doc.nodes[doc.count - 1].depth, DOPPEL_JSON_MAX_DEPTH_DEFAULT);
  assert_int_equal(doc.nodes[doc.count - 1].type, DOPPEL_JSON_NUMBER);
  free(s);
  s = nested(DOPPEL_JSON_MAX_DEPTH_DEFAULT + 1, "[", "1", "]", &n);
  assert_int_equal(parse_n(&doc, s, n, &d), DOPPEL_E_LIMIT);
  free(s);

  /* a custom limit */
  doc.max_depth = 3;
  assert_int_equal(parse(&doc, "[[[1]]]", &d), DOPPEL_OK);
  assert_int_equal(parse(&doc, "{\"a\":[{\"b\":{}}]}", &d), DOPPEL_E_LIMIT);
  assert_int_equal(d.column, 12);
  assert_non_null(strstr(d.text, "nesting deeper than 3"));
  assert_int_equal(parse(&doc, "[[[[1]]]]", &d), DOPPEL_E_LIMIT);
  assert_int_equal(d.column, 4);
  doc.max_depth = 1;
  assert_int_equal(parse(&doc, "[1,{}]", &d), DOPPEL_E_LIMIT);
  assert_int_equal(parse(&doc, "\"scalars have no depth\"", &d), DOPPEL_OK);
  /* 0 means the default */
  doc.max_depth = 0;
  s = nested(DOPPEL_JSON_MAX_DEPTH_DEFAULT, "[", "", "]", &n);
  assert_int_equal(parse_n(&doc, s, n, &d), DOPPEL_OK);
  free(s);

  /* raised limit: 100,000 deep parses without recursion; depth saturates */
  doc.max_depth = 200000;
  s = nested(100000, "[", "\"x\"", "]", &n);
  assert_int_equal(parse_n(&doc, s, n, &d), DOPPEL_OK);
  assert_int_equal(doc.count, 100001);
  assert_int_equal(doc.nodes[65535].depth, 65535);
  assert_int_equal(doc.nodes[70000].depth, 65535);
  assert_int_equal(doc.nodes[100000].depth, 65535);
  assert_int_equal(doc.nodes[100000].parent, 99999);
  assert_int_equal(doc.nodes[0].next, 100001);
  assert_int_equal(doc.nodes[0].end, n);
  assert_int_equal(doc.nodes[99999].start, 99999);
  assert_int_equal(doc.nodes[99999].end, 100004);
  free(s);
  doppel_json_doc_release(&doc);
}

static void test_size_limit(void **state) {
  (void)state;
#if SIZE_MAX > UINT32_MAX
  doppel_json_doc doc;
  doppel_json_doc_init(&doc);
  doppel_diag d;
  /* the length is checked before any byte is read */
  static const char tiny[] = "[1]";
  assert_int_equal(parse_n(&doc, tiny, (size_t)1 << 32, &d), DOPPEL_E_LIMIT);
  assert_non_null(strstr(d.text, "4 GiB"));
  assert_int_equal(parse_n(&doc, tiny, ((size_t)1 << 32) + 12345, &d), DOPPEL_E_LIMIT);
  doppel_json_doc_release(&doc);
#else
  skip();
#endif
}

/* ---- tape structure ----------------------------------------------------- */

static void test_tape_structure(void **state) {
  (void)state;
  const char *s =
      "{\"a\": 1, \"b\": [true, null, {\"c\": \"x\\ny\"}], \"d\\u0041\": {}, \"e\": -2.5e3}";
  doppel_json_doc doc;
  doppel_json_doc_init(&doc);
  doppel_diag d;
  assert_int_equal(parse(&doc, s, &d), DOPPEL_OK);
  assert_int_equal(doc.count, 9);
  const doppel_json_node *nd = doc.nodes;

  static const struct {
    int type;
    const char *span;
    const char *key;
    uint32_t parent, next, count;
    uint8_t flags;
    uint16_t depth;
  } want[9] = {
      {DOPPEL_JSON_OBJECT, NULL, "", DOPPEL_JSON_NONE, 9, 4, 0, 0},
      {DOPPEL_JSON_NUMBER, "1", "a", 0, 2, 0, DOPPEL_JSON_F_INTEGER, 1},
      {DOPPEL_JSON_ARRAY, "[true, null, {\"c\": \"x\\ny\"}]", "b", 0, 7, 3, 0, 1},
      {DOPPEL_JSON_TRUE, "true", "", 2, 4, 0, 0, 2},
      {DOPPEL_JSON_NULL, "null", "", 2, 5, 0, 0, 2},
      {DOPPEL_JSON_OBJECT, "{\"c\": \"x\\ny\"}", "", 2, 7, 1, 0, 2},
      {DOPPEL_JSON_STRING, "\"x\\ny\"", "c", 5, 7, 0, DOPPEL_JSON_F_ESCAPED, 3},
      {DOPPEL_JSON_OBJECT, "{}", "d\\u0041", 0, 8, 0, DOPPEL_JSON_F_KEY_ESCAPED, 1},
      {DOPPEL_JSON_NUMBER, "-2.5e3", "e", 0, 9, 0, 0, 1},
  };
  for (uint32_t i = 0; i < 9; i++) {
    assert_int_equal(nd[i].type, want[i].type);
    if (want[i].span) assert_true(span_is(&doc, i, want[i].span));
    assert_true(key_is(&doc, i, want[i].key));
    if (!want[i].key[0]) assert_int_equal(nd[i].key_start, 0);
    assert_int_equal(nd[i].parent, want[i].parent);
    assert_int_equal(nd[i].next, want[i].next);
    assert_int_equal(nd[i].count, want[i].count);
    assert_int_equal(nd[i].flags, want[i].flags);
    assert_int_equal(nd[i].depth, want[i].depth);
  }
  assert_int_equal(nd[0].start, 0);
  assert_int_equal(nd[0].end, strlen(s));

  /* walking siblings via next visits exactly count children */
  uint32_t seen = 0;
  const char *keys[] = {"a", "b", "d\\u0041", "e"};
  for (uint32_t c = 1; c < nd[0].next; c = nd[c].next) {
    assert_int_equal(nd[c].parent, 0);
    assert_true(key_is(&doc, c, keys[seen]));
    seen++;
  }
  assert_int_equal(seen, nd[0].count);
  seen = 0;
  for (uint32_t c = 3; c < nd[2].next; c = nd[c].next) {
    assert_int_equal(nd[c].parent, 2);
    seen++;
  }
  assert_int_equal(seen, 3);

  /* doppel_json_str gives the content between the quotes */
  size_t len;
  const char *str = doppel_json_str(&doc, 6, &len);
  assert_int_equal(len, 4);
  assert_memory_equal(str, "x\\ny", 4);

  /* whitespace around the root is not part of its span */
  assert_int_equal(parse(&doc, " \n [ 1 ] \r\n", &d), DOPPEL_OK);
  assert_int_equal(doc.nodes[0].start, 3);
  assert_int_equal(doc.nodes[0].end, 8);
  assert_int_equal(doc.nodes[1].start, 5);
  assert_int_equal(doc.nodes[1].end, 6);
  doppel_json_doc_release(&doc);
  doppel_json_doc_release(&doc); /* idempotent */
  doppel_json_doc_release(NULL);
}

static void test_tape_reuse(void **state) {
  (void)state;
  doppel_json_doc doc;
  doppel_json_doc_init(&doc);
  doppel_diag d;
  /* 10,000 elements: the tape grows geometrically */
  size_t n = 10000 * 2 + 1;
  char *s = xmalloc(n + 1);
  s[0] = '[';
  for (size_t i = 0; i < 10000; i++) {
    s[1 + 2 * i] = '7';
    s[2 + 2 * i] = i + 1 < 10000 ? ',' : ']';
  }
  assert_int_equal(parse_n(&doc, s, n, &d), DOPPEL_OK);
  assert_int_equal(doc.count, 10001);
  assert_int_equal(doc.nodes[0].count, 10000);
  assert_true(doc.cap >= doc.count);
  assert_true(doc.cap <= 4 * doc.count);
  doppel_json_node *nodes = doc.nodes;
  uint32_t cap = doc.cap;
  /* later parses reuse the same tape without reallocating */
  for (int r = 0; r < 1000; r++) {
    assert_int_equal(parse(&doc, "{\"a\":[1,2,3],\"b\":{\"c\":\"d\"}}", &d), DOPPEL_OK);
    assert_int_equal(doc.count, 7);
  }
  assert_ptr_equal(doc.nodes, nodes);
  assert_int_equal(doc.cap, cap);
  /* a failed parse leaves count 0 and the doc reusable */
  assert_int_equal(parse(&doc, "[1,", &d), DOPPEL_E_JSON);
  assert_int_equal(doc.count, 0);
  assert_int_equal(parse(&doc, "[1]", &d), DOPPEL_OK);
  assert_int_equal(doc.count, 2);
  free(s);
  doppel_json_doc_release(&doc);
  assert_null(doc.nodes);
  assert_int_equal(doc.cap, 0);
  /* and usable again after release */
  assert_int_equal(parse(&doc, "[1]", &d), DOPPEL_OK);
  doppel_json_doc_release(&doc);
}

/* ---- helpers ------------------------------------------------------------ */

static void test_find(void **state) {
  (void)state;
  const char *s =
      "{\"a\":1,\"b\":2,\"a\":3,\"\\u0061\":4,\"k\\u00e9y\":5,\"k\\\"q\":6,"
      "\"a\\u0000b\":7,\"ab\":8,\"\\ud83d\\ude00\":9,\"\":10}";
  doppel_json_doc doc;
  doppel_json_doc_init(&doc);
  doppel_diag d;
  assert_int_equal(parse(&doc, s, &d), DOPPEL_OK);
  uint32_t i;
  int64_t v;

  i = doppel_json_find(&doc, 0, "a", 1); /* last duplicate wins, escaped spelling included */
  assert_int_not_equal(i, DOPPEL_JSON_NONE);
  assert_int_equal(doppel_json_get_int64(&doc, i, &v), 0);
  assert_int_equal(v, 4);
  i = doppel_json_find(&doc, 0, "b", 1);
  assert_int_equal(doppel_json_get_int64(&doc, i, &v), 0);
  assert_int_equal(v, 2);
  i = doppel_json_find(&doc, 0, "k\xc3\xa9y", 4);
  assert_int_equal(doppel_json_get_int64(&doc, i, &v), 0);
  assert_int_equal(v, 5);
  i = doppel_json_find(&doc, 0, "k\"q", 3);
  assert_int_equal(doppel_json_get_int64(&doc, i, &v), 0);
  assert_int_equal(v, 6);
  i = doppel_json_find(&doc, 0, "a\0b", 3);
  assert_int_equal(doppel_json_get_int64(&doc, i, &v), 0);
  assert_int_equal(v, 7);
  i = doppel_json_find(&doc, 0, "ab", 2);
  assert_int_equal(doppel_json_get_int64(&doc, i, &v), 0);
  assert_int_equal(v, 8);
  i = doppel_json_find(&doc, 0, "\xf0\x9f\x98\x80", 4);
  assert_int_equal(doppel_json_get_int64(&doc, i, &v), 0);
  assert_int_equal(v, 9);
  i = doppel_json_find(&doc, 0, "", 0);
  assert_int_equal(doppel_json_get_int64(&doc, i, &v), 0);
  assert_int_equal(v, 10);

  assert_int_equal(doppel_json_find(&doc, 0, "zz", 2), DOPPEL_JSON_NONE);
  assert_int_equal(doppel_json_find(&doc, 0, "k\\\"q", 4), DOPPEL_JSON_NONE); /* raw spelling */
  assert_int_equal(doppel_json_find(&doc, 0, "\\u0061", 6), DOPPEL_JSON_NONE);
  assert_int_equal(doppel_json_find(&doc, 0, "kéyy", 5), DOPPEL_JSON_NONE);
  assert_int_equal(doppel_json_find(&doc, 0, "k", 1), DOPPEL_JSON_NONE);
  assert_int_equal(doppel_json_find(&doc, 1, "a", 1), DOPPEL_JSON_NONE); /* not an object */
  assert_int_equal(doppel_json_find(&doc, 999, "a", 1), DOPPEL_JSON_NONE);
  assert_int_equal(doppel_json_find(&doc, DOPPEL_JSON_NONE, "a", 1), DOPPEL_JSON_NONE);

  /* only direct children are searched */
  assert_int_equal(parse(&doc, "[{\"x\":{\"y\":1}},{\"y\":2}]", &d), DOPPEL_OK);
  assert_int_equal(doppel_json_find(&doc, 0, "x", 1), DOPPEL_JSON_NONE);
  assert_int_equal(doppel_json_find(&doc, 1, "y", 1), DOPPEL_JSON_NONE);
  assert_int_equal(doppel_json_find(&doc, 1, "x", 1), 2);
  assert_int_equal(doppel_json_find(&doc, 2, "y", 1), 3);
  assert_int_equal(doppel_json_find(&doc, 4, "y", 1), 5);
  doppel_json_doc_release(&doc);
}

static void test_lookup(void **state) {
  (void)state;
  const char *s =
      "{\"properties\":{\"plan\":\"pro\",\"nested\":{\"x\":[1]},\"pl\\u0061n2\":2},"
      "\"p\":{\"a.b\":1},\"properties\":{\"plan\":\"enterprise\"},\"q\":{\"\":{\"z\":0}}}";
  doppel_json_doc doc;
  doppel_json_doc_init(&doc);
  doppel_diag d;
  assert_int_equal(parse(&doc, s, &d), DOPPEL_OK);
  uint32_t i = doppel_json_lookup(&doc, 0, "properties.plan");
  assert_int_not_equal(i, DOPPEL_JSON_NONE);
  assert_true(span_is(&doc, i, "\"enterprise\"")); /* last "properties" wins */
  assert_int_equal(doppel_json_lookup(&doc, 0, "properties.nested.x"), DOPPEL_JSON_NONE);

  assert_int_equal(parse(&doc,
                         "{\"properties\":{\"plan\":\"pro\",\"nested\":{\"x\":[1]},"
                         "\"pl\\u0061n2\":2},\"p\":{\"a.b\":1},\"q\":{\"\":{\"z\":0}}}",
                         &d),
                   DOPPEL_OK);
  i = doppel_json_lookup(&doc, 0, "properties.nested.x");
  assert_int_not_equal(i, DOPPEL_JSON_NONE);
  assert_int_equal(doc.nodes[i].type, DOPPEL_JSON_ARRAY);
  assert_true(span_is(&doc, i, "[1]"));
  i = doppel_json_lookup(&doc, 0, "properties.plan2");
  assert_true(span_is(&doc, i, "2"));
  assert_int_equal(doppel_json_lookup(&doc, 0, "properties.missing"), DOPPEL_JSON_NONE);
  assert_int_equal(doppel_json_lookup(&doc, 0, "properties.plan.x"), DOPPEL_JSON_NONE);
  assert_int_equal(doppel_json_lookup(&doc, 0, "nope.plan"), DOPPEL_JSON_NONE);
  assert_int_equal(doppel_json_lookup(&doc, 0, "p.a.b"), DOPPEL_JSON_NONE); /* '.' always splits */
  assert_int_equal(doppel_json_lookup(&doc, 0, ""), 0);
  i = doppel_json_lookup(&doc, 0, "q..z"); /* empty segment = empty key */
  assert_true(span_is(&doc, i, "0"));
  uint32_t props = doppel_json_lookup(&doc, 0, "properties");
  i = doppel_json_lookup(&doc, props, "nested.x");
  assert_true(span_is(&doc, i, "[1]"));
  assert_int_equal(doppel_json_lookup(&doc, DOPPEL_JSON_NONE, "properties"), DOPPEL_JSON_NONE);
  doppel_json_doc_release(&doc);
}

static void check_unescape(const char *content, const char *want, size_t want_len) {
  size_t n = strlen(content);
  char *out = xmalloc(n + 1);
  size_t m = doppel_json_unescape(content, n, out);
  assert_true(m <= n);
  assert_int_equal(m, want_len);
  assert_memory_equal(out, want, want_len);
  free(out);
}

static void test_unescape(void **state) {
  (void)state;
  check_unescape("plain", "plain", 5);
  check_unescape("", "", 0);
  check_unescape("\\u00e9", "\xc3\xa9", 2);
  check_unescape("caf\\u00E9!", "caf\xc3\xa9!", 6);
  check_unescape("\\ud83d\\ude00", "\xf0\x9f\x98\x80", 4);
  check_unescape("\\uDBFF\\uDFFF", "\xf4\x8f\xbf\xbf", 4);
  check_unescape("\\u0800\\uffff", "\xe0\xa0\x80\xef\xbf\xbf", 6);
  check_unescape("\\u007f\\u0080", "\x7f\xc2\x80", 3);
  check_unescape("\\/", "/", 1);
  check_unescape("\\\"\\\\\\/\\b\\f\\n\\r\\t", "\"\\/\b\f\n\r\t", 8);
  check_unescape("a\\u0000b", "a\0b", 3);
  check_unescape("\xc3\xa9\\n\xe6\x97\xa5", "\xc3\xa9\n\xe6\x97\xa5", 6);
  check_unescape("x\\u0041\\u0042y", "xABy", 4);
  /* defensive on unvalidated input: never more bytes than given */
  check_unescape("\\", "\\", 1);
  check_unescape("\\u12", "\\u12", 4);
  check_unescape("\\ud800", "\xef\xbf\xbd", 3);
}

static void test_escape(void **state) {
  (void)state;
  char out[256];
  const char in1[] = "a\"b\\c\n\x01/\xc3\xa9\x7f\b\f\r\t\x1f";
  size_t n = doppel_json_escape(in1, sizeof in1 - 1, out);
  const char want1[] = "\"a\\\"b\\\\c\\n\\u0001/\xc3\xa9\x7f\\b\\f\\r\\t\\u001f\"";
  assert_int_equal(n, sizeof want1 - 1);
  assert_memory_equal(out, want1, n);
  assert_int_equal(doppel_json_escape("", 0, out), 2);
  assert_memory_equal(out, "\"\"", 2);
  assert_int_equal(doppel_json_escape("\0", 1, out), 8);
  assert_memory_equal(out, "\"\\u0000\"", 8);

  /* round trip: escape -> parse -> unescape gives the original bytes */
  doppel_json_doc doc;
  doppel_json_doc_init(&doc);
  doppel_diag d;
  const char *samples[] = {"",
                           "plain ascii",
                           "quote \" and backslash \\",
                           "\xc3\xa9\xe6\x97\xa5\xf0\x9f\x98\x80",
                           "tab\tnl\ncr\r",
                           "</script>",
                           "\\u0041 literally"};
  char in[128];
  char *enc = xmalloc(6 * 128 + 2);
  char *dec = xmalloc(6 * 128 + 2);
  for (size_t k = 0; k < sizeof samples / sizeof samples[0] + 2; k++) {
    size_t len;
    if (k < sizeof samples / sizeof samples[0]) {
      len = strlen(samples[k]);
      memcpy(in, samples[k], len);
    } else if (k == sizeof samples / sizeof samples[0]) {
      len = 127; /* every ASCII byte, NUL included */
      for (size_t b = 0; b < len; b++) in[b] = (char)b;
    } else {
      len = 32; /* every control character backwards */
      for (size_t b = 0; b < len; b++) in[b] = (char)(31 - b);
    }
    size_t m = doppel_json_escape(in, len, enc);
    assert_true(m <= 6 * len + 2);
    assert_int_equal(parse_n(&doc, enc, m, &d), DOPPEL_OK);
    assert_int_equal(doc.count, 1);
    assert_int_equal(doc.nodes[0].type, DOPPEL_JSON_STRING);
    size_t cl;
    const char *c = doppel_json_str(&doc, 0, &cl);
    size_t u = doppel_json_unescape(c, cl, dec);
    assert_int_equal(u, len);
    assert_memory_equal(dec, in, len);
  }
  free(enc);
  free(dec);
  doppel_json_doc_release(&doc);
}

static void test_get_int64(void **state) {
  (void)state;
  doppel_json_doc doc;
  doppel_json_doc_init(&doc);
  doppel_diag d;
  static const struct {
    const char *s;
    int rc;
    int64_t v;
  } cases[] = {
      {"0", 0, 0},
      {"-0", 0, 0},
      {"42", 0, 42},
      {"-17", 0, -17},
      {"9223372036854775807", 0, INT64_MAX},
      {"-9223372036854775808", 0, INT64_MIN},
      {"9223372036854775808", -1, 0},
      {"-9223372036854775809", -1, 0},
      {"18446744073709551616", -1, 0},
      {"99999999999999999999999", -1, 0},
      {"1.0", -1, 0},
      {"1e2", -1, 0},
      {"-5E0", -1, 0},
      {"\"7\"", -1, 0},
      {"true", -1, 0},
      {"null", -1, 0},
      {"[1]", -1, 0},
  };
  for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
    assert_int_equal(parse(&doc, cases[k].s, &d), DOPPEL_OK);
    int64_t v = 12345;
    int rc = doppel_json_get_int64(&doc, 0, &v);
    assert_int_equal(rc, cases[k].rc);
    if (rc == 0) assert_true(v == cases[k].v);
  }
  assert_int_equal(parse(&doc, "[1, -2]", &d), DOPPEL_OK);
  int64_t v;
  assert_int_equal(doppel_json_get_int64(&doc, 2, &v), 0);
  assert_true(v == -2);
  assert_int_equal(doppel_json_get_int64(&doc, 3, &v), -1);
  doppel_json_doc_release(&doc);
}

static void test_get_double(void **state) {
  (void)state;
  doppel_json_doc doc;
  doppel_json_doc_init(&doc);
  doppel_diag d;
  double v;
  static const struct {
    const char *s;
    double v;
  } cases[] = {
      {"1.5", 1.5},    {"-2.5e3", -2500.0},
      {"0.1", 0.1},    {"42", 42.0},
      {"-0", -0.0},    {"1E-2", 0.01},
      {"1e+2", 100.0}, {"9007199254740993", 9007199254740992.0},
      {"1e-999", 0.0}, {"123456789012345678901234567890", 1.2345678901234568e29},
  };
  for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
    assert_int_equal(parse(&doc, cases[k].s, &d), DOPPEL_OK);
    assert_int_equal(doppel_json_get_double(&doc, 0, &v), 0);
    assert_true(v == cases[k].v);
  }
  assert_int_equal(parse(&doc, "-0", &d), DOPPEL_OK);
  assert_int_equal(doppel_json_get_double(&doc, 0, &v), 0);
  assert_true(signbit(v));
  /* overflow follows strtod */
  assert_int_equal(parse(&doc, "[1e999,-1e999]", &d), DOPPEL_OK);
  assert_int_equal(doppel_json_get_double(&doc, 1, &v), 0);
  assert_true(isinf(v) && v > 0);
  assert_int_equal(doppel_json_get_double(&doc, 2, &v), 0);
  assert_true(isinf(v) && v < 0);
  /* a number longer than the stack buffer */
  char big[400];
  memcpy(big, "0.", 2);
  memset(big + 2, '0', 300);
  memcpy(big + 302, "25", 3);
  assert_int_equal(parse(&doc, big, &d), DOPPEL_OK);
  assert_int_equal(doppel_json_get_double(&doc, 0, &v), 0);
  assert_true(v == 25e-302);
  /* not followed by a NUL: the span is copied, trailing bytes ignored */
  assert_int_equal(parse(&doc, "[3.25]", &d), DOPPEL_OK);
  assert_int_equal(doppel_json_get_double(&doc, 1, &v), 0);
  assert_true(v == 3.25);
  assert_int_equal(doppel_json_get_double(&doc, 0, &v), -1);
  assert_int_equal(parse(&doc, "\"1.5\"", &d), DOPPEL_OK);
  assert_int_equal(doppel_json_get_double(&doc, 0, &v), -1);
  assert_int_equal(doppel_json_get_double(&doc, 5, &v), -1);
  doppel_json_doc_release(&doc);
}

/* ---- differential vs jansson -------------------------------------------- */

typedef struct {
  size_t both_ok, both_reject, excl_overflow, excl_nul_key, excl_depth, excl_nul_byte;
} diff_stats;

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static int
diff_fail(char *why, size_t wl, const char *fmt, ...);
static int diff_fail(char *why, size_t wl, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(why, wl, fmt, ap);
  va_end(ap);
  return -1;
}

/* Tape invariants of an accepted document. */
static int check_tape(const doppel_json_doc *doc, char *why, size_t wl) {
  const doppel_json_node *nd = doc->nodes;
  if (doc->count < 1 || nd[0].parent != DOPPEL_JSON_NONE || nd[0].next != doc->count)
    return diff_fail(why, wl, "bad root");
  for (uint32_t i = 0; i < doc->count; i++) {
    const doppel_json_node *x = &nd[i];
    if (x->start >= x->end || x->end > doc->len) return diff_fail(why, wl, "bad span at %u", i);
    if (x->next <= i || x->next > doc->count) return diff_fail(why, wl, "bad next at %u", i);
    if (x->type > DOPPEL_JSON_ARRAY) return diff_fail(why, wl, "bad type at %u", i);
    if (x->type < DOPPEL_JSON_OBJECT && (x->next != i + 1 || x->count))
      return diff_fail(why, wl, "scalar with children at %u", i);
    if (x->type == DOPPEL_JSON_STRING &&
        (doc->src[x->start] != '"' || doc->src[x->end - 1] != '"' || x->end - x->start < 2))
      return diff_fail(why, wl, "bad string span at %u", i);
    if (x->type == DOPPEL_JSON_OBJECT && (doc->src[x->start] != '{' || doc->src[x->end - 1] != '}'))
      return diff_fail(why, wl, "bad object span at %u", i);
    if (x->type == DOPPEL_JSON_ARRAY && (doc->src[x->start] != '[' || doc->src[x->end - 1] != ']'))
      return diff_fail(why, wl, "bad array span at %u", i);
    if (i > 0) {
      const doppel_json_node *p = &nd[x->parent];
      if (x->parent >= i || (p->type != DOPPEL_JSON_OBJECT && p->type != DOPPEL_JSON_ARRAY))
        return diff_fail(why, wl, "bad parent at %u", i);
      if (x->next > p->next || x->start <= p->start || x->end >= p->end)
        return diff_fail(why, wl, "child outside parent at %u", i);
      unsigned want_depth = p->depth == 65535 ? 65535u : p->depth + 1u;
      if (x->depth != want_depth) return diff_fail(why, wl, "bad depth at %u", i);
      int member = p->type == DOPPEL_JSON_OBJECT;
      if (member && (x->key_start == 0 || doc->src[x->key_start - 1] != '"' ||
                     doc->src[x->key_start + x->key_len] != '"'))
        return diff_fail(why, wl, "bad key span at %u", i);
      if (!member && (x->key_start || x->key_len || (x->flags & DOPPEL_JSON_F_KEY_ESCAPED)))
        return diff_fail(why, wl, "array element with key at %u", i);
      if (member && !!(x->flags & DOPPEL_JSON_F_KEY_ESCAPED) !=
                        !!memchr(doc->src + x->key_start, '\\', x->key_len))
        return diff_fail(why, wl, "bad key-escaped flag at %u", i);
    }
    if (x->type == DOPPEL_JSON_STRING && !!(x->flags & DOPPEL_JSON_F_ESCAPED) !=
                                             !!memchr(doc->src + x->start, '\\', x->end - x->start))
      return diff_fail(why, wl, "bad escaped flag at %u", i);
    if (x->type == DOPPEL_JSON_NUMBER) {
      int integer = !memchr(doc->src + x->start, '.', x->end - x->start) &&
                    !memchr(doc->src + x->start, 'e', x->end - x->start) &&
                    !memchr(doc->src + x->start, 'E', x->end - x->start);
      if (integer != !!(x->flags & DOPPEL_JSON_F_INTEGER))
        return diff_fail(why, wl, "bad integer flag at %u", i);
    }
    if (x->type == DOPPEL_JSON_OBJECT || x->type == DOPPEL_JSON_ARRAY) {
      uint32_t k = 0;
      for (uint32_t c = i + 1; c < x->next; c = nd[c].next) {
        if (nd[c].parent != i) return diff_fail(why, wl, "sibling walk left %u", i);
        k++;
      }
      if (k != x->count) return diff_fail(why, wl, "bad count at %u", i);
    }
  }
  return 0;
}

static char *unescaped(const char *content, size_t len, size_t *out_len) {
  char *b = xmalloc(len + 1);
  *out_len = doppel_json_unescape(content, len, b);
  return b;
}

static int cmp_value(const doppel_json_doc *doc, uint32_t i, json_t *j, char *why, size_t wl);

static int cmp_object(const doppel_json_doc *doc, uint32_t i, json_t *j, char *why, size_t wl) {
  const doppel_json_node *nd = doc->nodes;
  uint32_t n = nd[i].count;
  char **keys = calloc(n ? n : 1, sizeof *keys);
  size_t *klen = calloc(n ? n : 1, sizeof *klen);
  assert_non_null(keys);
  assert_non_null(klen);
  uint32_t c = i + 1;
  for (uint32_t k = 0; k < n; k++, c = nd[c].next) {
    keys[k] = unescaped(doc->src + nd[c].key_start, nd[c].key_len, &klen[k]);
  }
  int rc = 0;
  void *it = json_object_iter(j);
  size_t uniq = 0;
  for (uint32_t k = 0; k < n && rc == 0; k++) {
    int dup = 0;
    for (uint32_t e = 0; e < k && !dup; e++) {
      dup = klen[e] == klen[k] && memcmp(keys[e], keys[k], klen[k]) == 0;
    }
    if (dup) continue;
    uniq++;
    /* jansson iterates in first-insertion order; the value is the last one */
    if (!it) {
      rc = diff_fail(why, wl, "jansson object has fewer keys");
      break;
    }
    if (json_object_iter_key_len(it) != klen[k] ||
        memcmp(json_object_iter_key(it), keys[k], klen[k]) != 0) {
      rc = diff_fail(why, wl, "key order/bytes differ at key %u of node %u", k, i);
      break;
    }
    uint32_t f = doppel_json_find(doc, i, keys[k], klen[k]);
    if (f == DOPPEL_JSON_NONE) {
      rc = diff_fail(why, wl, "find misses a key of node %u", i);
      break;
    }
    rc = cmp_value(doc, f, json_object_iter_value(it), why, wl);
    it = json_object_iter_next(j, it);
  }
  if (rc == 0 && (it || uniq != json_object_size(j)))
    rc = diff_fail(why, wl, "object sizes differ at node %u", i);
  for (uint32_t k = 0; k < n; k++) free(keys[k]);
  free(keys);
  free(klen);
  return rc;
}

static int cmp_value(const doppel_json_doc *doc, uint32_t i, json_t *j, char *why, size_t wl) {
  const doppel_json_node *nd = &doc->nodes[i];
  switch (nd->type) {
    case DOPPEL_JSON_NULL:
      return json_is_null(j) ? 0 : diff_fail(why, wl, "type differs at node %u (null)", i);
    case DOPPEL_JSON_TRUE:
      return json_is_true(j) ? 0 : diff_fail(why, wl, "type differs at node %u (true)", i);
    case DOPPEL_JSON_FALSE:
      return json_is_false(j) ? 0 : diff_fail(why, wl, "type differs at node %u (false)", i);
    case DOPPEL_JSON_NUMBER: {
      double v;
      if (!json_is_real(j)) return diff_fail(why, wl, "type differs at node %u (number)", i);
      if (doppel_json_get_double(doc, i, &v) != 0) return diff_fail(why, wl, "get_double failed");
      if (v != json_real_value(j)) return diff_fail(why, wl, "number differs at node %u", i);
      return 0;
    }
    case DOPPEL_JSON_STRING: {
      if (!json_is_string(j)) return diff_fail(why, wl, "type differs at node %u (string)", i);
      size_t cl, ul;
      const char *c = doppel_json_str(doc, i, &cl);
      char *u = unescaped(c, cl, &ul);
      int same = ul == json_string_length(j) && memcmp(u, json_string_value(j), ul) == 0;
      free(u);
      return same ? 0 : diff_fail(why, wl, "string differs at node %u", i);
    }
    case DOPPEL_JSON_ARRAY: {
      if (!json_is_array(j)) return diff_fail(why, wl, "type differs at node %u (array)", i);
      if (json_array_size(j) != nd->count) return diff_fail(why, wl, "array size differs at %u", i);
      uint32_t c = i + 1;
      for (uint32_t k = 0; k < nd->count; k++, c = doc->nodes[c].next) {
        if (cmp_value(doc, c, json_array_get(j, k), why, wl)) return -1;
      }
      return 0;
    }
    case DOPPEL_JSON_OBJECT:
      if (!json_is_object(j)) return diff_fail(why, wl, "type differs at node %u (object)", i);
      return cmp_object(doc, i, j, why, wl);
    default: return diff_fail(why, wl, "bad node type");
  }
}

/* Compare one document against jansson. Returns 0 on agreement (or a
 * documented exclusion, counted in stats), -1 with why filled otherwise. */
static int diff_one(doppel_json_doc *doc, const char *s, size_t n, diff_stats *stats, char *why,
                    size_t wl) {
  doppel_diag d;
  doc->max_depth = JANSSON_MAX_DEPTH;
  doppel_status st = parse_n(doc, s, n, &d);
  json_error_t je;
  json_t *j = json_loadb(s, n, JFLAGS, &je);
  int rc = 0;
  if (!j) {
    enum json_error_code code = json_error_code(&je);
    if (code == json_error_numeric_overflow) {
      stats->excl_overflow++; /* exclusion 1 */
    } else if (code == json_error_null_byte_in_key) {
      stats->excl_nul_key++; /* exclusion 2 */
    } else if (st == DOPPEL_OK && code == json_error_stack_overflow) {
      /* exclusion 3: only a scalar inside exactly JANSSON_MAX_DEPTH containers */
      int found = 0;
      for (uint32_t i = 0; i < doc->count && !found; i++) {
        found = doc->nodes[i].type < DOPPEL_JSON_OBJECT && doc->nodes[i].depth == JANSSON_MAX_DEPTH;
      }
      if (found)
        stats->excl_depth++;
      else
        rc = diff_fail(why, wl, "jansson: depth error, doppel accepts and no scalar at the limit");
    } else if (st == DOPPEL_OK) {
      rc = diff_fail(why, wl, "jansson rejects (%s), doppel accepts", je.text);
    } else {
      stats->both_reject++;
    }
    return rc;
  }
  if (st != DOPPEL_OK) {
    /* exclusion 4: jansson drops a raw NUL that directly ends a number/literal */
    size_t col = (size_t)d.column;
    if (col >= 2 && col <= n && s[col - 1] == '\0' &&
        ((s[col - 2] >= '0' && s[col - 2] <= '9') || (s[col - 2] >= 'a' && s[col - 2] <= 'z'))) {
      stats->excl_nul_byte++;
    } else {
      rc = diff_fail(why, wl, "doppel rejects (%s, column %llu), jansson accepts", d.text,
                     (unsigned long long)d.column);
    }
    json_decref(j);
    return rc;
  }
  rc = check_tape(doc, why, wl);
  if (rc == 0) rc = cmp_value(doc, 0, j, why, wl);
  if (rc == 0) stats->both_ok++;
  json_decref(j);
  return rc;
}

static void diff_assert(doppel_json_doc *doc, const char *s, size_t n, diff_stats *stats,
                        const char *where) {
  char why[512];
  if (diff_one(doc, s, n, stats, why, sizeof why) != 0) {
    fprintf(stderr, "differential mismatch (%s): %s\n", where, why);
    print_doc(s, n);
    fail();
  }
}

/* Read a whole file (plain or gzip) through zlib. */
static char *read_all(const char *path, size_t *len) {
  gzFile f = gzopen(path, "rb");
  assert_non_null(f);
  size_t cap = 1 << 16, n = 0;
  char *b = xmalloc(cap);
  for (;;) {
    if (cap - n < (1 << 15)) {
      cap *= 2;
      b = realloc(b, cap);
      assert_non_null(b);
    }
    int r = gzread(f, b + n, (unsigned)(cap - n));
    assert_true(r >= 0);
    if (r == 0) break;
    n += (size_t)r;
  }
  gzclose(f);
  *len = n;
  return b;
}

/* Call fn on every line (without "\n") of buf. */
static void for_lines(const char *buf, size_t len,
                      void (*fn)(const char *line, size_t n, size_t lineno, void *arg), void *arg) {
  size_t start = 0, lineno = 1;
  while (start < len) {
    const char *nl = memchr(buf + start, '\n', len - start);
    size_t end = nl ? (size_t)(nl - buf) : len;
    fn(buf + start, end - start, lineno++, arg);
    start = end + 1;
  }
}

typedef struct {
  doppel_json_doc *doc;
  diff_stats *stats;
  const char *name;
  int expect; /* 1 all valid, -1 all invalid, 0 no expectation */
  size_t lines;
} line_ctx;

static void diff_line(const char *line, size_t n, size_t lineno, void *arg) {
  line_ctx *c = arg;
  char where[300];
  snprintf(where, sizeof where, "%s:%zu", c->name, lineno);
  /* the copy makes ASan catch any read past the line */
  char *copy = xmalloc(n);
  memcpy(copy, line, n);
  diff_assert(c->doc, copy, n, c->stats, where);
  if (c->expect) {
    doppel_diag d;
    c->doc->max_depth = DOPPEL_JSON_MAX_DEPTH_DEFAULT;
    doppel_status st = parse_n(c->doc, copy, n, &d);
    if ((st == DOPPEL_OK) != (c->expect > 0)) {
      fprintf(stderr, "%s: expected %s, got %s (%s)\n", where, c->expect > 0 ? "valid" : "invalid",
              doppel_status_name(st), d.text);
      print_doc(copy, n);
      fail();
    }
  }
  free(copy);
  c->lines++;
}

static void test_diff_fixtures(void **state) {
  (void)state;
  static const struct {
    const char *file;
    int lines;
    int expect;
  } fx[] = {
      {"valid.jsonl", 1, 1},
      {"invalid.jsonl", 1, -1},
      {"pretty.json", 0, 1},
      {"crlf.json", 0, 1},
  };
  doppel_json_doc doc;
  doppel_json_doc_init(&doc);
  diff_stats stats = {0};
  for (size_t k = 0; k < sizeof fx / sizeof fx[0]; k++) {
    char path[1024];
    snprintf(path, sizeof path, "%s/fixtures/json/%s", DOPPEL_SOURCE_DIR, fx[k].file);
    size_t len;
    char *buf = read_all(path, &len);
    line_ctx c = {&doc, &stats, fx[k].file, fx[k].expect, 0};
    if (fx[k].lines) {
      for_lines(buf, len, diff_line, &c);
      assert_true(c.lines >= 20);
    } else {
      diff_line(buf, len, 1, &c);
    }
    free(buf);
  }
  /* the invalid fixtures exercise exclusions 2 and 4 besides plain rejects */
  assert_true(stats.both_ok >= 25);
  assert_true(stats.both_reject >= 50);
  printf("fixtures: %zu both accept, %zu both reject, excluded: %zu nul-after-token\n",
         stats.both_ok, stats.both_reject, stats.excl_nul_byte);
  doppel_json_doc_release(&doc);
}

static size_t collect_gz(const char *dir, char paths[][1024], size_t max, size_t n, int level) {
  DIR *dh = opendir(dir);
  if (!dh) return n;
  struct dirent *e;
  while ((e = readdir(dh)) != NULL && n < max) {
    if (e->d_name[0] == '.') continue;
    char p[1024];
    snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
    struct stat sb;
    if (stat(p, &sb) != 0) continue;
    if (S_ISDIR(sb.st_mode) && level < 3) {
      n = collect_gz(p, paths, max, n, level + 1);
    } else if (S_ISREG(sb.st_mode)) {
      size_t l = strlen(e->d_name);
      if (l > 9 && strcmp(e->d_name + l - 9, ".jsonl.gz") == 0) {
        snprintf(paths[n++], 1024, "%s", p);
      }
    }
  }
  closedir(dh);
  return n;
}

static void test_diff_shared_data(void **state) {
  (void)state;
  struct stat sb;
  if (stat(DOPPEL_SHARED_DATA, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
    printf("note: %s is absent; skipping the differential run on real data\n", DOPPEL_SHARED_DATA);
    skip();
  }
  static char paths[64][1024];
  size_t np = collect_gz(DOPPEL_SHARED_DATA, paths, 64, 0, 0);
  if (np == 0) {
    printf("note: no *.jsonl.gz under %s; skipping\n", DOPPEL_SHARED_DATA);
    skip();
  }
  doppel_json_doc doc;
  doppel_json_doc_init(&doc);
  for (size_t k = 0; k < np; k++) {
    diff_stats stats = {0};
    size_t len;
    char *buf = read_all(paths[k], &len);
    line_ctx c = {&doc, &stats, paths[k], 1, 0};
    for_lines(buf, len, diff_line, &c);
    printf("%s: %zu lines, %zu both accept\n", paths[k], c.lines, stats.both_ok);
    assert_int_equal(stats.both_ok, c.lines);
    free(buf);
  }
  doppel_json_doc_release(&doc);
}

/* ---- generated and mutated documents ------------------------------------ */

typedef struct {
  uint64_t s;
} rng_t;

static uint64_t rnd(rng_t *r) {
  r->s ^= r->s << 13;
  r->s ^= r->s >> 7;
  r->s ^= r->s << 17;
  return r->s;
}

static unsigned rn(rng_t *r, unsigned n) { return (unsigned)(rnd(r) % n); }

typedef struct {
  char *b;
  size_t n, cap;
} sbuf;

static void sb_put(sbuf *s, const char *p, size_t n) {
  if (s->n + n + 1 > s->cap) {
    s->cap = (s->n + n + 1) * 2;
    s->b = realloc(s->b, s->cap);
    assert_non_null(s->b);
  }
  memcpy(s->b + s->n, p, n);
  s->n += n;
}

static void sb_str(sbuf *s, const char *p) { sb_put(s, p, strlen(p)); }

static void gen_ws(rng_t *r, sbuf *s) {
  static const char *ws[] = {" ", "\t", "\n", "\r\n", "  "};
  if (rn(r, 6) == 0) sb_str(s, ws[rn(r, 5)]);
}

/* nul_ok = 0 for keys: jansson rejects "\u0000" in keys (exclusion 2), so
 * keep those rare to keep the comparison meaningful. */
static void gen_string(rng_t *r, sbuf *s, int nul_ok) {
  static const char *pieces[] = {"a",
                                 "user",
                                 "0123456789",
                                 "@",
                                 "-",
                                 " ",
                                 "/",
                                 "\\\"",
                                 "\\\\",
                                 "\\/",
                                 "\\b",
                                 "\\f",
                                 "\\n",
                                 "\\r",
                                 "\\t",
                                 "\\u0041",
                                 "\\u00e9",
                                 "\\u00E9",
                                 "\\u0000",
                                 "\\u001f",
                                 "\\u2028",
                                 "\\uffff",
                                 "\\ud83d\\ude00",
                                 "\\uDBFF\\uDFFF",
                                 "\xc3\xa9",
                                 "\xe6\x97\xa5",
                                 "\xf0\x9f\x98\x80",
                                 "\xf4\x8f\xbf\xbf",
                                 "\xef\xbf\xbf",
                                 "\xed\x9f\xbf",
                                 "\x7f",
                                 "abcdefghijklmnopqrstuvwxyz"};
  sb_str(s, "\"");
  unsigned k = rn(r, 8);
  for (unsigned i = 0; i < k; i++) {
    const char *p = pieces[rn(r, sizeof pieces / sizeof pieces[0])];
    if (!nul_ok && strcmp(p, "\\u0000") == 0) p = "\\u0001";
    sb_str(s, p);
  }
  sb_str(s, "\"");
}

static void gen_number(rng_t *r, sbuf *s) {
  char b[64];
  int n = 0;
  if (rn(r, 3) == 0) b[n++] = '-';
  if (rn(r, 4) == 0) {
    b[n++] = '0';
  } else {
    unsigned digits = 1 + rn(r, rn(r, 10) == 0 ? 25 : 6);
    b[n++] = (char)('1' + rn(r, 9));
    for (unsigned i = 1; i < digits; i++) b[n++] = (char)('0' + rn(r, 10));
  }
  if (rn(r, 3) == 0) {
    b[n++] = '.';
    unsigned digits = 1 + rn(r, 8);
    for (unsigned i = 0; i < digits; i++) b[n++] = (char)('0' + rn(r, 10));
  }
  if (rn(r, 4) == 0) {
    b[n++] = rn(r, 2) ? 'e' : 'E';
    unsigned sg = rn(r, 3);
    if (sg == 1) b[n++] = '+';
    if (sg == 2) b[n++] = '-';
    n += snprintf(b + n, sizeof b - (size_t)n, "%u", rn(r, 20) == 0 ? 400 + rn(r, 600) : rn(r, 30));
  }
  sb_put(s, b, (size_t)n);
}

static void gen_value(rng_t *r, sbuf *s, int depth) {
  unsigned t = rn(r, depth > 6 ? 6 : 9);
  gen_ws(r, s);
  switch (t) {
    case 0: sb_str(s, "null"); break;
    case 1: sb_str(s, rn(r, 2) ? "true" : "false"); break;
    case 2:
    case 3: gen_number(r, s); break;
    case 4:
    case 5: gen_string(r, s, 1); break;
    case 6:
    case 7: {
      sb_str(s, "{");
      unsigned k = rn(r, 5);
      for (unsigned i = 0; i < k; i++) {
        if (i) sb_str(s, ",");
        gen_ws(r, s);
        if (rn(r, 4) == 0)
          sb_str(s, "\"k\""); /* duplicates */
        else
          gen_string(r, s, 0);
        gen_ws(r, s);
        sb_str(s, ":");
        gen_value(r, s, depth + 1);
      }
      gen_ws(r, s);
      sb_str(s, "}");
      break;
    }
    default: {
      sb_str(s, "[");
      unsigned k = rn(r, 5);
      for (unsigned i = 0; i < k; i++) {
        if (i) sb_str(s, ",");
        gen_value(r, s, depth + 1);
      }
      gen_ws(r, s);
      sb_str(s, "]");
      break;
    }
  }
  gen_ws(r, s);
}

static const unsigned char interesting[] = {
    '{',  '}',  '[',  ']',  ':',  ',',  '"',  '\\', ' ',  '/',  '-',  '+',  '.',  '0',
    '1',  '9',  'e',  'E',  't',  'r',  'u',  'f',  'a',  'l',  's',  'n',  'b',  'x',
    'D',  'C',  '8',  'F',  0x00, 0x01, 0x09, 0x0a, 0x0c, 0x0d, 0x1f, 0x7f, 0x80, 0x9f,
    0xa0, 0xbf, 0xc0, 0xc1, 0xc2, 0xdf, 0xe0, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xff};

static void mutate(rng_t *r, sbuf *s) {
  unsigned ops = 1 + rn(r, 3);
  for (unsigned o = 0; o < ops; o++) {
    size_t pos = s->n ? rn(r, (unsigned)s->n + 1) : 0;
    unsigned char c = interesting[rn(r, sizeof interesting)];
    switch (rn(r, 7)) {
      case 0: /* replace */
        if (pos < s->n) s->b[pos] = (char)c;
        break;
      case 1: /* insert */
        sb_put(s, "", 1);
        memmove(s->b + pos + 1, s->b + pos, s->n - 1 - pos);
        s->b[pos] = (char)c;
        break;
      case 2: /* delete */
        if (pos < s->n) {
          memmove(s->b + pos, s->b + pos + 1, s->n - pos - 1);
          s->n--;
        }
        break;
      case 3: /* truncate */ s->n = pos; break;
      case 4: /* flip a bit */
        if (pos < s->n) s->b[pos] ^= (char)(1u << rn(r, 8));
        break;
      case 5: /* random byte */
        if (pos < s->n) s->b[pos] = (char)rn(r, 256);
        break;
      default: { /* duplicate a slice */
        if (pos >= s->n) break;
        size_t l = 1 + rn(r, 8);
        if (pos + l > s->n) l = s->n - pos;
        char tmp[8];
        memcpy(tmp, s->b + pos, l);
        size_t at = rn(r, (unsigned)s->n + 1);
        sb_put(s, tmp, l);
        memmove(s->b + at + l, s->b + at, s->n - l - at);
        memcpy(s->b + at, tmp, l);
        break;
      }
    }
  }
}

static void test_diff_generated(void **state) {
  (void)state;
  rng_t r = {0x9E3779B97F4A7C15ull};
  doppel_json_doc doc;
  doppel_json_doc_init(&doc);
  diff_stats gen = {0}, mut = {0};
  sbuf s = {0};
  size_t seeds_n = sizeof valid_cases / sizeof valid_cases[0];

  /* generated valid documents: both must accept (except number overflow) */
  for (int k = 0; k < 3000; k++) {
    s.n = 0;
    gen_value(&r, &s, 0);
    char *copy = xmalloc(s.n);
    memcpy(copy, s.b, s.n);
    diff_assert(&doc, copy, s.n, &gen, "generated");
    free(copy);
  }
  assert_int_equal(gen.both_reject, 0);
  assert_true(gen.both_ok > 2500);

  /* mutated documents: accept/reject must agree */
  for (int k = 0; k < 20000; k++) {
    s.n = 0;
    if (k % 4 == 0) {
      const valid_case *c = &valid_cases[rn(&r, (unsigned)seeds_n)];
      sb_put(&s, c->s, c->n ? c->n : strlen(c->s));
    } else {
      gen_value(&r, &s, 0);
    }
    mutate(&r, &s);
    char *copy = xmalloc(s.n);
    memcpy(copy, s.b, s.n);
    diff_assert(&doc, copy, s.n, &mut, "mutated");
    free(copy);
  }
  printf("generated: %zu both accept, %zu excluded (number overflow)\n", gen.both_ok,
         gen.excl_overflow);
  printf(
      "mutated: %zu both accept, %zu both reject; excluded: %zu number overflow, "
      "%zu nul in key, %zu nul after token\n",
      mut.both_ok, mut.both_reject, mut.excl_overflow, mut.excl_nul_key, mut.excl_nul_byte);
  assert_true(mut.both_ok > 2000);
  assert_true(mut.both_reject > 8000);
  free(s.b);
  doppel_json_doc_release(&doc);
}

/* The known differences, pinned down so a jansson upgrade that changes them
 * is noticed. */
static void test_diff_known_exclusions(void **state) {
  (void)state;
  doppel_json_doc doc;
  doppel_json_doc_init(&doc);
  diff_stats st = {0};
  char why[512];
  size_t n;
  char *s;

  assert_int_equal(diff_one(&doc, "1e999", 5, &st, why, sizeof why), 0);
  assert_int_equal(diff_one(&doc, "[-1e400]", 8, &st, why, sizeof why), 0);
  assert_int_equal(st.excl_overflow, 2);
  assert_int_equal(diff_one(&doc, "{\"a\\u0000\":1}", 13, &st, why, sizeof why), 0);
  assert_int_equal(st.excl_nul_key, 1);
  assert_int_equal(diff_one(&doc, "[1\0]", 4, &st, why, sizeof why), 0);
  assert_int_equal(diff_one(&doc, "true\0", 5, &st, why, sizeof why), 0);
  assert_int_equal(st.excl_nul_byte, 2);

  s = nested(JANSSON_MAX_DEPTH, "[", "1", "]", &n);
  assert_int_equal(diff_one(&doc, s, n, &st, why, sizeof why), 0);
  assert_int_equal(st.excl_depth, 1);
  free(s);
  s = nested(JANSSON_MAX_DEPTH, "[", "", "]", &n);
  assert_int_equal(diff_one(&doc, s, n, &st, why, sizeof why), 0);
  free(s);
  s = nested(JANSSON_MAX_DEPTH - 1, "{\"k\":", "\"v\"", "}", &n);
  assert_int_equal(diff_one(&doc, s, n, &st, why, sizeof why), 0);
  free(s);
  s = nested(JANSSON_MAX_DEPTH + 1, "[", "", "]", &n);
  assert_int_equal(diff_one(&doc, s, n, &st, why, sizeof why), 0);
  free(s);
  assert_int_equal(st.excl_depth, 1);
  assert_int_equal(st.both_ok, 2);
  assert_int_equal(st.both_reject, 1);

  /* "\u0000" in values agrees (JSON_ALLOW_NUL) */
  assert_int_equal(diff_one(&doc, "[\"\\u0000\"]", 10, &st, why, sizeof why), 0);
  assert_int_equal(st.both_ok, 3);
  doppel_json_doc_release(&doc);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_valid_table),
      cmocka_unit_test(test_invalid_table),
      cmocka_unit_test(test_error_no_echo),
      cmocka_unit_test(test_diag_source_line_kept),
      cmocka_unit_test(test_depth_limit),
      cmocka_unit_test(test_size_limit),
      cmocka_unit_test(test_tape_structure),
      cmocka_unit_test(test_tape_reuse),
      cmocka_unit_test(test_find),
      cmocka_unit_test(test_lookup),
      cmocka_unit_test(test_unescape),
      cmocka_unit_test(test_escape),
      cmocka_unit_test(test_get_int64),
      cmocka_unit_test(test_get_double),
      cmocka_unit_test(test_diff_known_exclusions),
      cmocka_unit_test(test_diff_fixtures),
      cmocka_unit_test(test_diff_generated),
      cmocka_unit_test(test_diff_shared_data),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
