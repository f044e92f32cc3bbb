/*
 * test_time.c — doppel_time_parse / doppel_time_format / doppel_days_from_civil.
 *
 * The expected microsecond values in the valid-input table were computed
 * independently with Python 3 (datetime with fixed-offset timezones for the
 * calendar forms, decimal.Decimal with floor rounding for the epoch forms),
 * not with the code under test.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <doppel/time.h>

#include <stdio.h>
#include <string.h>

typedef struct valid_case {
  const char *in;
  int64_t us;
  doppel_time_unit unit;
} valid_case;

static const valid_case valid_cases[] = {
    {"2024-01-09T10:23:45Z", INT64_C(1704795825000000), DOPPEL_TIME_TEXT},
    {"2024-01-09T10:23:45z", INT64_C(1704795825000000), DOPPEL_TIME_TEXT},
    {"2024-01-09t10:23:45Z", INT64_C(1704795825000000), DOPPEL_TIME_TEXT},
    {"2024-01-09T10:23:45+02:00", INT64_C(1704788625000000), DOPPEL_TIME_TEXT},
    {"2024-01-09T10:23:45-05:30", INT64_C(1704815625000000), DOPPEL_TIME_TEXT},
    {"2024-01-09T10:23:45+0530", INT64_C(1704776025000000), DOPPEL_TIME_TEXT},
    {"2024-01-09T10:23:45-08", INT64_C(1704824625000000), DOPPEL_TIME_TEXT},
    {"2024-01-09T10:23:45+18:00", INT64_C(1704731025000000), DOPPEL_TIME_TEXT},
    {"2024-01-09T10:23:45-18:00", INT64_C(1704860625000000), DOPPEL_TIME_TEXT},
    {"2024-01-09T10:23:45-00:00", INT64_C(1704795825000000), DOPPEL_TIME_TEXT},
    {"2024-01-09T10:23:45.1Z", INT64_C(1704795825100000), DOPPEL_TIME_TEXT},
    {"2024-01-09T10:23:45.123Z", INT64_C(1704795825123000), DOPPEL_TIME_TEXT},
    {"2024-01-09T10:23:45.123456Z", INT64_C(1704795825123456), DOPPEL_TIME_TEXT},
    {"2024-01-09T10:23:45.123456789Z", INT64_C(1704795825123456), DOPPEL_TIME_TEXT},
    {"2024-01-09T10:23:45,5+01:00", INT64_C(1704792225500000), DOPPEL_TIME_TEXT},
    {"2024-01-09T10:23:45.999999999-01:00", INT64_C(1704799425999999), DOPPEL_TIME_TEXT},
    {"2024-01-09 10:23:45", INT64_C(1704795825000000), DOPPEL_TIME_TEXT},
    {"2024-01-09 10:23:45.123456", INT64_C(1704795825123456), DOPPEL_TIME_TEXT},
    {"2024-01-09 10:23:45 +0200", INT64_C(1704788625000000), DOPPEL_TIME_TEXT},
    {"2024-01-09 10:23:45 UTC", INT64_C(1704795825000000), DOPPEL_TIME_TEXT},
    {"2024-01-09T10:23", INT64_C(1704795780000000), DOPPEL_TIME_TEXT},
    {"2024-01-09T10:23Z", INT64_C(1704795780000000), DOPPEL_TIME_TEXT},
    {"2024-01-09T10:23+01:00", INT64_C(1704792180000000), DOPPEL_TIME_TEXT},
    {"2024-01-09", INT64_C(1704758400000000), DOPPEL_TIME_TEXT},
    {"  2024-01-09T10:23:45Z\t\n", INT64_C(1704795825000000), DOPPEL_TIME_TEXT},
    {"2024-02-29T12:00:00Z", INT64_C(1709208000000000), DOPPEL_TIME_TEXT},
    {"2000-02-29", INT64_C(951782400000000), DOPPEL_TIME_TEXT},
    {"1970-01-01T00:00:00Z", INT64_C(0), DOPPEL_TIME_TEXT},
    {"1970-01-01T00:00:00.000001Z", INT64_C(1), DOPPEL_TIME_TEXT},
    {"1969-12-31T23:59:59.999999Z", INT64_C(-1), DOPPEL_TIME_TEXT},
    {"1969-07-20T20:17:40Z", INT64_C(-14182940000000), DOPPEL_TIME_TEXT},
    {"1900-01-01T00:00:00Z", INT64_C(-2208988800000000), DOPPEL_TIME_TEXT},
    {"1600-02-29T00:00:00Z", INT64_C(-11670998400000000), DOPPEL_TIME_TEXT},
    {"0001-01-01T00:00:00Z", INT64_C(-62135596800000000), DOPPEL_TIME_TEXT},
    {"0001-01-01T01:00:00+01:00", INT64_C(-62135596800000000), DOPPEL_TIME_TEXT},
    {"9999-12-31T23:59:59.999999Z", INT64_C(253402300799999999), DOPPEL_TIME_TEXT},
    {"9999-12-31", INT64_C(253402214400000000), DOPPEL_TIME_TEXT},
    {"1995-08-01 04:00:01.000000", INT64_C(807249601000000), DOPPEL_TIME_TEXT},
    {"1995-08-01T00:00:01-04:00", INT64_C(807249601000000), DOPPEL_TIME_TEXT},
    {"2016-12-31T23:59:60Z", INT64_C(1483228799999999), DOPPEL_TIME_TEXT},
    {"2024-01-09T23:59:59+14:00", INT64_C(1704794399000000), DOPPEL_TIME_TEXT},
    {"0", INT64_C(0), DOPPEL_TIME_SECONDS},
    {"1704795825", INT64_C(1704795825000000), DOPPEL_TIME_SECONDS},
    {"1704795825.5", INT64_C(1704795825500000), DOPPEL_TIME_SECONDS},
    {"1704795825.123456", INT64_C(1704795825123456), DOPPEL_TIME_SECONDS},
    {"1704795825.1234567", INT64_C(1704795825123456), DOPPEL_TIME_SECONDS},
    {"1704795825123", INT64_C(1704795825123000), DOPPEL_TIME_MILLIS},
    {"1704795825123.5", INT64_C(1704795825123500), DOPPEL_TIME_MILLIS},
    {"1704795825123456", INT64_C(1704795825123456), DOPPEL_TIME_MICROS},
    {"1704795825123456789", INT64_C(1704795825123456), DOPPEL_TIME_NANOS},
    {"-1", INT64_C(-1000000), DOPPEL_TIME_SECONDS},
    {"-1.5", INT64_C(-1500000), DOPPEL_TIME_SECONDS},
    {"-0.0000015", INT64_C(-2), DOPPEL_TIME_SECONDS},
    {"-1704795825", INT64_C(-1704795825000000), DOPPEL_TIME_SECONDS},
    {"-86400000", INT64_C(-86400000000000), DOPPEL_TIME_SECONDS},
    {"-8640000000", INT64_C(-8640000000000000), DOPPEL_TIME_SECONDS},
    {"99999999999", INT64_C(99999999999000000), DOPPEL_TIME_SECONDS},
    {"100000000000", INT64_C(100000000000000), DOPPEL_TIME_MILLIS},
    {"99999999999999", INT64_C(99999999999999000), DOPPEL_TIME_MILLIS},
    {"100000000000000", INT64_C(100000000000000), DOPPEL_TIME_MICROS},
    {"99999999999999999", INT64_C(99999999999999999), DOPPEL_TIME_MICROS},
    {"100000000000000000", INT64_C(100000000000000), DOPPEL_TIME_NANOS},
    {"1.7e9", INT64_C(1700000000000000), DOPPEL_TIME_SECONDS},
    {"1.7E+9", INT64_C(1700000000000000), DOPPEL_TIME_SECONDS},
    {"17e8", INT64_C(1700000000000000), DOPPEL_TIME_SECONDS},
    {"1704795825000e-3", INT64_C(1704795825000000), DOPPEL_TIME_SECONDS},
    {"0.000001", INT64_C(1), DOPPEL_TIME_SECONDS},
    {"0.0000009", INT64_C(0), DOPPEL_TIME_SECONDS},
    {"  1704795825  ", INT64_C(1704795825000000), DOPPEL_TIME_SECONDS},
    {"-62135596800", INT64_C(-62135596800000000), DOPPEL_TIME_SECONDS},
    {"253402300799.999999", INT64_C(253402300799999), DOPPEL_TIME_MILLIS},
    {".5", INT64_C(500000), DOPPEL_TIME_SECONDS},
    {"000001704795825", INT64_C(1704795825000000), DOPPEL_TIME_SECONDS},
    {"1e11", INT64_C(100000000000000), DOPPEL_TIME_MILLIS},
    {"-1e11", INT64_C(-100000000000000), DOPPEL_TIME_MILLIS},
};

static void test_valid_table(void **state) {
  (void)state;
  assert_true(sizeof valid_cases / sizeof valid_cases[0] >= 40);
  for (size_t i = 0; i < sizeof valid_cases / sizeof valid_cases[0]; i++) {
    const valid_case *c = &valid_cases[i];
    int64_t us = 42;
    doppel_time_unit unit = (doppel_time_unit)99;
    doppel_diag diag;
    doppel_diag_clear(&diag);
    doppel_status st = doppel_time_parse(c->in, strlen(c->in), &us, &unit, &diag);
    if (st != DOPPEL_OK || us != c->us || unit != c->unit) {
      print_error("case %zu '%s': status %s (%s) us %lld unit %d, expected %lld unit %d\n", i,
                  c->in, doppel_status_name(st), diag.text, (long long)us, (int)unit,
                  (long long)c->us, (int)c->unit);
      fail();
    }
  }
}

/* The length argument is honoured: bytes after n are not looked at. */
static void test_length_bounded(void **state) {
  (void)state;
  int64_t us = 0;
  const char *s = "2024-01-09T10:23:45Zgarbage";
  assert_int_equal(doppel_time_parse(s, 20, &us, NULL, NULL), DOPPEL_OK);
  assert_true(us == INT64_C(1704795825000000));
  assert_int_equal(doppel_time_parse("17047958251234", 10, &us, NULL, NULL), DOPPEL_OK);
  assert_true(us == INT64_C(1704795825000000));
  /* NULL unit and NULL diag are allowed */
  assert_int_equal(doppel_time_parse("x", 1, &us, NULL, NULL), DOPPEL_E_TIME);
}

typedef struct invalid_case {
  const char *in;
  const char *fragment; /* must appear in diag.text */
  uint64_t column;      /* expected diag.column, 0 = not checked */
} invalid_case;

static const invalid_case invalid_cases[] = {
    {"2024-13-01T00:00:00Z", "invalid month 13", 6},
    {"2024-00-10", "invalid month 00", 6},
    {"2024-02-30", "invalid day 30 for month 02", 9},
    {"2023-02-29T00:00:00Z", "invalid day 29 for month 02 of 2023", 9},
    {"2024-04-31", "invalid day 31", 9},
    {"2024-01-00", "invalid day 00", 9},
    {"2024-01-09T24:00:00Z", "invalid hour 24", 12},
    {"2024-01-09T10:60:00Z", "invalid minute 60", 15},
    {"2024-01-09T10:23:61Z", "invalid second 61", 18},
    {"2024-01-09T10:23:45+25:00", "invalid utc offset +25:00", 20},
    {"2024-01-09T10:23:45+18:01", "at most 18:00", 20},
    {"2024-01-09T10:23:45-02:60", "invalid utc offset -02:60", 20},
    {"2024-01-09T10:23:45+2", "expected a utc offset", 21},
    {"2024-01-09T10:23:45+02:0", "offset minutes", 24},
    {"hello", "expected a timestamp (ISO 8601", 1},
    {"", "empty value", 1},
    {"   \t ", "empty value", 0},
    {"2024-1-9", "2-digit month", 6},
    {"2024-01-9", "2-digit day", 9},
    {"2024-01-09T10:23:45Zjunk", "unexpected characters after the timestamp", 21},
    {"2024-01-09T10:23:45 junk", "expected 'Z'", 21},
    {"2024-01-09X10:23:45Z", "expected 'T' or ' '", 11},
    {"0000-01-01T00:00:00Z", "invalid year 0000", 1},
    {"2024-01-09T10", "':' after the hour", 14},
    {"2024-01-09T", "2-digit hour", 12},
    {"2024-01-09T10:23:45.Z", "1 to 9 fraction digits", 21},
    {"2024-01-09T10:23:45.1234567890Z", "1 to 9 fraction digits", 21},
    {"2024-01-09T10:23:4", "2-digit seconds", 18},
    {"2024/01/09", "expected a timestamp", 5},
    {"1704795825x", "expected a timestamp (ISO 8601", 11},
    {"17047958.", "expected digits after '.'", 10},
    {"1.7e", "exponent digits", 5},
    {"-", "expected a timestamp", 2},
    {"--1", "expected a timestamp", 2},
    {"+1704795825", "expected a timestamp", 1},
    {"1e30", "out of range", 0},
    {"-62135596801", "out of range", 0},
    {"253402300800000000000", "out of range", 0},
    {"99999999999999999999999999", "out of range", 0},
    {"0001-01-01T00:00:00+01:00", "out of range", 0},
    {"9999-12-31T23:59:59-00:01", "out of range", 0},
    {"NaN", "expected a timestamp", 1},
    {"1 704 795 825", "expected a timestamp", 2},
};

static void test_invalid_table(void **state) {
  (void)state;
  assert_true(sizeof invalid_cases / sizeof invalid_cases[0] >= 25);
  for (size_t i = 0; i < sizeof invalid_cases / sizeof invalid_cases[0]; i++) {
    const invalid_case *c = &invalid_cases[i];
    int64_t us = 42;
    doppel_diag diag;
    doppel_diag_clear(&diag);
    doppel_status st = doppel_time_parse(c->in, strlen(c->in), &us, NULL, &diag);
    if (st != DOPPEL_E_TIME || diag.status != DOPPEL_E_TIME || !strstr(diag.text, c->fragment) ||
        (c->column && diag.column != c->column) || us != 42) {
      print_error("case %zu '%s': status %s column %llu text '%s' us %lld; expected fragment '%s' "
                  "column %llu\n",
                  i, c->in, doppel_status_name(st), (unsigned long long)diag.column, diag.text,
                  (long long)us, c->fragment, (unsigned long long)c->column);
      fail();
    }
    /* message style: lowercase start, no trailing period */
    assert_true(diag.text[0] >= 'a' && diag.text[0] <= 'z');
    assert_true(diag.text[strlen(diag.text) - 1] != '.');
  }
}

/* An invalid timestamp's message never contains the whole value. */
static void test_message_does_not_echo_value(void **state) {
  (void)state;
  const char *s = "alice@example.com";
  doppel_diag diag;
  doppel_diag_clear(&diag);
  assert_int_equal(doppel_time_parse(s, strlen(s), NULL, NULL, &diag), DOPPEL_E_TIME);
  assert_null(strstr(diag.text, "alice"));
}

static void test_format(void **state) {
  (void)state;
  char out[28];
  assert_int_equal(doppel_time_format(0, out), 27);
  assert_string_equal(out, "1970-01-01T00:00:00.000000Z");
  doppel_time_format(INT64_C(1704795825123456), out);
  assert_string_equal(out, "2024-01-09T10:23:45.123456Z");
  doppel_time_format(-1, out);
  assert_string_equal(out, "1969-12-31T23:59:59.999999Z");
  doppel_time_format(INT64_C(-1500000), out);
  assert_string_equal(out, "1969-12-31T23:59:58.500000Z");
  doppel_time_format(INT64_C(-14182940000000), out);
  assert_string_equal(out, "1969-07-20T20:17:40.000000Z");
  doppel_time_format(INT64_C(-62135596800000000), out);
  assert_string_equal(out, "0001-01-01T00:00:00.000000Z");
  doppel_time_format(INT64_C(253402300799999999), out);
  assert_string_equal(out, "9999-12-31T23:59:59.999999Z");
  doppel_time_format(INT64_C(951782400000000), out);
  assert_string_equal(out, "2000-02-29T00:00:00.000000Z");
  /* outside the supported range: clamped, still 27 bytes */
  assert_int_equal(doppel_time_format(INT64_MIN, out), 27);
  assert_string_equal(out, "0001-01-01T00:00:00.000000Z");
  assert_int_equal(doppel_time_format(INT64_MAX, out), 27);
  assert_string_equal(out, "9999-12-31T23:59:59.999999Z");
}

static uint64_t lcg(uint64_t *s) {
  *s = *s * UINT64_C(6364136223846793005) + UINT64_C(1442695040888963407);
  return *s >> 11;
}

static void check_round_trip(int64_t x) {
  char out[28];
  int64_t back = 0;
  doppel_time_unit unit = DOPPEL_TIME_NANOS;
  size_t n = doppel_time_format(x, out);
  assert_int_equal(n, 27);
  assert_int_equal(strlen(out), 27);
  doppel_diag diag;
  doppel_diag_clear(&diag);
  if (doppel_time_parse(out, n, &back, &unit, &diag) != DOPPEL_OK || back != x) {
    print_error("round trip of %lld via '%s' gave %lld (%s)\n", (long long)x, out,
                (long long)back, diag.text);
    fail();
  }
  assert_int_equal(unit, DOPPEL_TIME_TEXT);
}

static void test_round_trip(void **state) {
  (void)state;
  const int64_t lo = INT64_C(-62135596800000000), hi = INT64_C(253402300799999999);
  const int64_t fixed[] = {0, 1, -1, 999999, -999999, 1000000, -1000000, lo, hi, lo + 1, hi - 1,
                           INT64_C(951782400000000), INT64_C(-86400000000),
                           INT64_C(-86400000001), INT64_C(1483228799999999)};
  for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) check_round_trip(fixed[i]);
  uint64_t s = 12345;
  const uint64_t span = (uint64_t)(hi - lo) + 1u;
  for (int i = 0; i < 200000; i++) check_round_trip(lo + (int64_t)(lcg(&s) % span));
  /* dense around the epoch and around day boundaries */
  for (int64_t x = INT64_C(-3000000); x <= INT64_C(3000000); x += 7919) check_round_trip(x);
  for (int64_t d = -719161; d < 2932896; d += 997) {
    check_round_trip(d * INT64_C(86400000000));
    check_round_trip(d * INT64_C(86400000000) - 1);
  }
}

/* Epoch seconds/ms/µs of the same instant agree, also through parse(format). */
static void test_epoch_units_agree(void **state) {
  (void)state;
  const char *forms[] = {"1704795825.123", "1704795825123", "1704795825123000",
                         "1704795825123000000", "1.704795825123e9", "2024-01-09T10:23:45.123Z",
                         "2024-01-09T11:23:45.123+01:00"};
  for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
    int64_t us = 0;
    assert_int_equal(doppel_time_parse(forms[i], strlen(forms[i]), &us, NULL, NULL), DOPPEL_OK);
    assert_true(us == INT64_C(1704795825123000));
  }
  /* integer µs and ns inputs are exact (no floating point on the way) */
  int64_t us = 0;
  assert_int_equal(doppel_time_parse("9007199254740993", 16, &us, NULL, NULL), DOPPEL_OK);
  assert_true(us == INT64_C(9007199254740993)); /* 2^53 + 1 */
  assert_int_equal(doppel_time_parse("9223372036854775807", 19, &us, NULL, NULL), DOPPEL_OK);
  assert_true(us == INT64_C(9223372036854775)); /* INT64_MAX ns */
  assert_int_equal(doppel_time_parse("-9223372036854775808", 20, &us, NULL, NULL), DOPPEL_OK);
  assert_true(us == INT64_C(-9223372036854776)); /* INT64_MIN ns, floored */
}

static void test_days_from_civil(void **state) {
  (void)state;
  /* spot values from Python: (date(y,m,d) - date(1970,1,1)).days */
  assert_true(doppel_days_from_civil(1970, 1, 1) == 0);
  assert_true(doppel_days_from_civil(1970, 1, 2) == 1);
  assert_true(doppel_days_from_civil(1969, 12, 31) == -1);
  assert_true(doppel_days_from_civil(2000, 3, 1) == 11017);
  assert_true(doppel_days_from_civil(2000, 2, 29) == 11016);
  assert_true(doppel_days_from_civil(2024, 1, 9) == 19731);
  assert_true(doppel_days_from_civil(2024, 2, 29) == 19782);
  assert_true(doppel_days_from_civil(1900, 3, 1) == -25508);
  assert_true(doppel_days_from_civil(1, 1, 1) == -719162);
  assert_true(doppel_days_from_civil(9999, 12, 31) == 2932896);
  assert_true(doppel_days_from_civil(1600, 2, 29) == -135081);
  /* consecutive days are consecutive across month/year ends */
  int64_t prev = doppel_days_from_civil(1899, 12, 31);
  static const unsigned dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  for (int64_t y = 1900; y <= 2100; y++) {
    for (unsigned m = 1; m <= 12; m++) {
      unsigned n = dim[m - 1];
      if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) n = 29;
      for (unsigned d = 1; d <= n; d++) {
        int64_t cur = doppel_days_from_civil(y, m, d);
        assert_true(cur == prev + 1);
        prev = cur;
      }
    }
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_valid_table),
      cmocka_unit_test(test_length_bounded),
      cmocka_unit_test(test_invalid_table),
      cmocka_unit_test(test_message_does_not_echo_value),
      cmocka_unit_test(test_format),
      cmocka_unit_test(test_round_trip),
      cmocka_unit_test(test_epoch_units_agree),
      cmocka_unit_test(test_days_from_civil),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
