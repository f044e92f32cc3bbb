/*
 * test_csv.c — doppel_csv_split / unquote / quote: the RFC 4180 quoting
 * table, strict error reporting with columns, UTF-8 validation, growing the
 * field array, and quote/split/unquote round trips for tricky values.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <doppel/csv.h>

#include <stdlib.h>
#include <string.h>

#define MAXF 16

typedef struct split_case {
  const char *rec;
  size_t n;                  /* expected field count */
  const char *values[MAXF];  /* expected decoded values */
  int quoted[MAXF];
} split_case;

/* Split s, check the count and every decoded value. */
static void check_split(const split_case *c) {
  doppel_csv_field f[MAXF];
  doppel_diag diag;
  size_t n = 99;
  size_t len = strlen(c->rec);
  doppel_diag_clear(&diag);
  assert_int_equal(doppel_csv_split(c->rec, len, ',', f, MAXF, &n, &diag), DOPPEL_OK);
  assert_int_equal(diag.status, DOPPEL_OK);
  assert_int_equal(n, c->n);
  size_t prev_end = 0;
  for (size_t i = 0; i < n; i++) {
    char out[256];
    assert_true(f[i].start >= prev_end);
    assert_true(f[i].start + f[i].len <= len);
    prev_end = f[i].start + f[i].len;
    size_t k = doppel_csv_unquote(c->rec, &f[i], out);
    assert_true(k <= f[i].len);
    out[k] = '\0';
    assert_string_equal(out, c->values[i]);
    assert_int_equal(f[i].quoted, c->quoted[i]);
  }
}

static void test_split_table(void **state) {
  (void)state;
  static const split_case cases[] = {
      {"a,b,c", 3, {"a", "b", "c"}, {0, 0, 0}},
      {"plain", 1, {"plain"}, {0}},
      {"\"x,y\",z", 2, {"x,y", "z"}, {1, 0}},
      {"\"he said \"\"hi\"\"\",2", 2, {"he said \"hi\"", "2"}, {1, 0}},
      {"\"line1\r\nline2\",\"a\nb\"", 2, {"line1\r\nline2", "a\nb"}, {1, 1}},
      {",,", 3, {"", "", ""}, {0, 0, 0}},
      {"a,b,", 3, {"a", "b", ""}, {0, 0, 0}},
      {"", 1, {""}, {0}},
      {"\"\"", 1, {""}, {1}},
      {"\"\",\"\"", 2, {"", ""}, {1, 1}},
      {"\"\"\"\"", 1, {"\""}, {1}},
      {" a , b ", 2, {" a ", " b "}, {0, 0}},
      {"caf\xC3\xA9,\xF0\x9F\x98\x80", 2, {"caf\xC3\xA9", "\xF0\x9F\x98\x80"}, {0, 0}},
      {"\"x\",", 2, {"x", ""}, {1, 0}},
      {"a\rb,c", 2, {"a\rb", "c"}, {0, 0}},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) check_split(&cases[i]);
}

static void test_split_spans(void **state) {
  (void)state;
  const char *rec = "ab,\"c,d\",,e";
  doppel_csv_field f[4];
  size_t n = 0;
  assert_int_equal(doppel_csv_split(rec, strlen(rec), ',', f, 4, &n, NULL), DOPPEL_OK);
  assert_int_equal(n, 4);
  assert_int_equal(f[0].start, 0);
  assert_int_equal(f[0].len, 2);
  assert_int_equal(f[1].start, 3);
  assert_int_equal(f[1].len, 5); /* raw, quotes included */
  assert_int_equal(f[1].quoted, 1);
  assert_int_equal(f[2].start, 9);
  assert_int_equal(f[2].len, 0);
  assert_int_equal(f[3].start, 10);
  assert_int_equal(f[3].len, 1);
}

static void test_split_other_delimiters(void **state) {
  (void)state;
  doppel_csv_field f[4];
  size_t n = 0;
  const char *tsv = "a\t\"b\tc,d\"";
  assert_int_equal(doppel_csv_split(tsv, strlen(tsv), '\t', f, 4, &n, NULL), DOPPEL_OK);
  assert_int_equal(n, 2);
  char out[16];
  size_t k = doppel_csv_unquote(tsv, &f[1], out);
  assert_int_equal(k, 5);
  assert_memory_equal(out, "b\tc,d", 5);
  const char *semi = "1;2;3";
  assert_int_equal(doppel_csv_split(semi, strlen(semi), ';', f, 4, &n, NULL), DOPPEL_OK);
  assert_int_equal(n, 3);

  doppel_diag diag;
  assert_int_equal(doppel_csv_split(semi, strlen(semi), '"', f, 4, &n, &diag), DOPPEL_E_USAGE);
  assert_non_null(strstr(diag.text, "invalid csv delimiter"));
}

static void expect_error(const char *rec, doppel_status st, uint64_t column, const char *frag) {
  doppel_csv_field f[MAXF];
  doppel_diag diag;
  size_t n = 0;
  doppel_diag_clear(&diag);
  assert_int_equal(doppel_csv_split(rec, strlen(rec), ',', f, MAXF, &n, &diag), st);
  assert_int_equal(diag.status, st);
  assert_int_equal(diag.column, column);
  if (!strstr(diag.text, frag)) fail_msg("'%s' lacks '%s'", diag.text, frag);
}

static void test_split_errors(void **state) {
  (void)state;
  expect_error("ab\"c,d", DOPPEL_E_CSV, 3, "quote in unquoted field 1");
  expect_error("x,ab\"", DOPPEL_E_CSV, 5, "quote in unquoted field 2");
  expect_error("\"abc\"d,e", DOPPEL_E_CSV, 6, "unexpected character after closing quote");
  expect_error("a,\"b\" ,c", DOPPEL_E_CSV, 6, "unexpected character after closing quote in field 2");
  expect_error("a,\"bc", DOPPEL_E_CSV, 3, "unterminated quoted field 2");
  expect_error("a,\"b\"\"", DOPPEL_E_CSV, 3, "unterminated quoted field");
  expect_error("ok,\xFF", DOPPEL_E_UTF8, 4, "invalid utf-8 (byte 0xff) in field 2");
  expect_error("\"x\xC3\"", DOPPEL_E_UTF8, 3, "in field 1");       /* truncated sequence */
  expect_error("a\xC0\xAF", DOPPEL_E_UTF8, 2, "byte 0xc0");         /* overlong '/' */
  expect_error("\xE0\x80\xAF", DOPPEL_E_UTF8, 1, "invalid utf-8");  /* overlong 3-byte */
  expect_error("a,b,\xED\xA0\x80", DOPPEL_E_UTF8, 5, "field 3");    /* surrogate D800 */
  expect_error("\xF4\x90\x80\x80", DOPPEL_E_UTF8, 1, "invalid utf-8"); /* > U+10FFFF */
  expect_error("\x80", DOPPEL_E_UTF8, 1, "byte 0x80");             /* stray continuation */
  expect_error("\xF8\x88\x80\x80\x80", DOPPEL_E_UTF8, 1, "byte 0xf8");
}

static void test_split_grow(void **state) {
  (void)state;
  const char *rec = "1,2,3,4,5,6,7,8,9,10";
  doppel_csv_field small[3];
  size_t n = 0;
  assert_int_equal(doppel_csv_split(rec, strlen(rec), ',', small, 3, &n, NULL), DOPPEL_OK);
  assert_int_equal(n, 10);
  assert_int_equal(small[2].start, 4);
  assert_int_equal(doppel_csv_split(rec, strlen(rec), ',', NULL, 0, &n, NULL), DOPPEL_OK);
  assert_int_equal(n, 10);

  /* the caller's grow-and-retry loop */
  size_t cap = 1;
  doppel_csv_field *f = malloc(cap * sizeof *f);
  assert_non_null(f);
  for (;;) {
    assert_int_equal(doppel_csv_split(rec, strlen(rec), ',', f, cap, &n, NULL), DOPPEL_OK);
    if (n <= cap) break;
    cap = n;
    f = realloc(f, cap * sizeof *f);
    assert_non_null(f);
  }
  assert_int_equal(n, 10);
  char out[8];
  size_t k = doppel_csv_unquote(rec, &f[9], out);
  assert_int_equal(k, 2);
  assert_memory_equal(out, "10", 2);
  free(f);
}

static void test_quote_only_when_needed(void **state) {
  (void)state;
  struct {
    const char *in, *out;
  } cases[] = {
      {"plain", "plain"},
      {"", ""},
      {"a,b", "\"a,b\""},
      {"say \"hi\"", "\"say \"\"hi\"\"\""},
      {"two\nlines", "\"two\nlines\""},
      {"cr\r", "\"cr\r\""},
      {" lead", "\" lead\""},
      {"trail ", "\"trail \""},
      {"in side", "in side"},
      {"caf\xC3\xA9", "caf\xC3\xA9"},
      {"a;b", "a;b"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char out[64];
    size_t k = doppel_csv_quote(cases[i].in, strlen(cases[i].in), ',', out);
    assert_true(k <= 2 * strlen(cases[i].in) + 2);
    out[k] = '\0';
    assert_string_equal(out, cases[i].out);
  }
  char out[16];
  size_t k = doppel_csv_quote("a;b", 3, ';', out);
  assert_int_equal(k, 5);
  assert_memory_equal(out, "\"a;b\"", 5);
  k = doppel_csv_quote("a,b", 3, '\t', out);
  assert_int_equal(k, 3);
}

static void test_round_trip(void **state) {
  (void)state;
  static const char *values[] = {
      "", "\"", "\"\"", ",", "a,b", "\r\n", "\n", " ", "x\"y\"z", "\"start", "end\"",
      "mixed, \"quoted\"\r\nnext line", "caf\xC3\xA9 \xF0\x9F\x98\x80", "\t", "a\tb",
  };
  const char delims[] = {',', '\t', ';', '|'};
  for (size_t di = 0; di < sizeof delims; di++) {
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
      const char *v = values[i];
      size_t vl = strlen(v);
      /* a record "<v><d><v>" must split into two fields that decode to v */
      char rec[256];
      size_t q = doppel_csv_quote(v, vl, delims[di], rec);
      rec[q] = delims[di];
      size_t q2 = doppel_csv_quote(v, vl, delims[di], rec + q + 1);
      size_t len = q + 1 + q2;
      doppel_csv_field f[4];
      size_t n = 0;
      doppel_diag diag;
      assert_int_equal(doppel_csv_split(rec, len, delims[di], f, 4, &n, &diag), DOPPEL_OK);
      assert_int_equal(n, 2);
      for (int j = 0; j < 2; j++) {
        char out[128];
        size_t k = doppel_csv_unquote(rec, &f[j], out);
        assert_int_equal(k, vl);
        assert_memory_equal(out, v, vl);
      }
    }
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_split_table),
      cmocka_unit_test(test_split_spans),
      cmocka_unit_test(test_split_other_delimiters),
      cmocka_unit_test(test_split_errors),
      cmocka_unit_test(test_split_grow),
      cmocka_unit_test(test_quote_only_when_needed),
      cmocka_unit_test(test_round_trip),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
