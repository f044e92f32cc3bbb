/*
 * test_sketch.c — the mergeable sketches: the byte hash's fixed values;
 * HyperLogLog accuracy (small n, 1e3..1e6), merges equal to the whole
 * (byte for byte, commutative, associative, across precisions), state
 * round-trips and rejection of corrupt states; DDSketch quantiles against
 * exact order statistics (uniform, heavy-tailed, mixed-sign), exact sums,
 * merges equal to the whole with and without collapsing, collapse accuracy;
 * top values on a deterministic Zipf stream (true top 10 and bounds),
 * Misra–Gries steps, merges in different orders, truncation, round-trips and
 * corrupt states.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <float.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <doppel/doppel.h>

/* ---- helpers ---- */

static char *dump(json_t *j) {
  assert_non_null(j);
  char *s = json_dumps(j, JSON_COMPACT);
  assert_non_null(s);
  json_decref(j);
  return s;
}

static json_t *parse(const char *s) {
  json_error_t e;
  json_t *j = json_loads(s, 0, &e);
  if (!j) fail_msg("bad JSON in test: %s: %s", e.text, s);
  return j;
}

static char *hll_dump(const doppel_hll *h) {
  json_t *j = NULL;
  assert_int_equal(doppel_hll_to_json(h, &j, NULL), DOPPEL_OK);
  return dump(j);
}

static char *dds_dump(const doppel_ddsketch *s) {
  json_t *j = NULL;
  assert_int_equal(doppel_ddsketch_to_json(s, &j, NULL), DOPPEL_OK);
  return dump(j);
}

static char *topk_dump(const doppel_topk *t) {
  json_t *j = NULL;
  assert_int_equal(doppel_topk_to_json(t, &j, NULL), DOPPEL_OK);
  return dump(j);
}

/* Copies through the serialized state (also exercises the loaders). */
static doppel_hll *hll_clone(const doppel_hll *h) {
  char *s = hll_dump(h);
  json_t *j = parse(s);
  doppel_hll *c = NULL;
  assert_int_equal(doppel_hll_from_json(j, &c, NULL), DOPPEL_OK);
  json_decref(j);
  free(s);
  return c;
}

static doppel_ddsketch *dds_clone(const doppel_ddsketch *d) {
  char *s = dds_dump(d);
  json_t *j = parse(s);
  doppel_ddsketch *c = NULL;
  assert_int_equal(doppel_ddsketch_from_json(j, &c, NULL), DOPPEL_OK);
  json_decref(j);
  free(s);
  return c;
}

static doppel_topk *topk_clone(const doppel_topk *t) {
  char *s = topk_dump(t);
  json_t *j = parse(s);
  doppel_topk *c = NULL;
  assert_int_equal(doppel_topk_from_json(j, &c, NULL), DOPPEL_OK);
  json_decref(j);
  free(s);
  return c;
}

static void le64(uint64_t v, uint8_t b[8]) {
  for (int i = 0; i < 8; i++) b[i] = (uint8_t)(v >> (8 * i));
}

static void hll_add_u64(doppel_hll *h, uint64_t v) {
  uint8_t b[8];
  le64(v, b);
  doppel_hll_add(h, b, 8);
}

/* Loader must reject text with DOPPEL_E_DATA and a message. */

static void expect_rejected(const char *kind, const char *text) {
  json_t *j = parse(text);
  doppel_diag d;
  doppel_diag_clear(&d);
  doppel_status st;
  if (!strcmp(kind, "hll")) {
    doppel_hll *h = (doppel_hll *)1;
    st = doppel_hll_from_json(j, &h, &d);
    assert_null(h);
  } else if (!strcmp(kind, "dds")) {
    doppel_ddsketch *s = (doppel_ddsketch *)1;
    st = doppel_ddsketch_from_json(j, &s, &d);
    assert_null(s);
  } else {
    doppel_topk *t = (doppel_topk *)1;
    st = doppel_topk_from_json(j, &t, &d);
    assert_null(t);
  }
  json_decref(j);
  if (st != DOPPEL_E_DATA) fail_msg("accepted (status %d): %s", (int)st, text);
  assert_int_equal(d.status, DOPPEL_E_DATA);
  assert_true(strlen(d.text) > 10);
}

/* ---- hash ---- */

static void test_hash_fixed(void **state) {
  (void)state;
  /* doppel-hash64/1 is part of the state format: these must never change
   * (cross-checked against a Python transcription of the documented algorithm) */
  assert_true(doppel_sketch_hash64(NULL, 0) == UINT64_C(0xd384ffab7559412a));
  assert_true(doppel_sketch_hash64("a", 1) == UINT64_C(0xc0f2978d69dc1fa4));
  assert_true(doppel_sketch_hash64("abc", 3) == UINT64_C(0xe752209c3a2d8a3b));
  assert_true(doppel_sketch_hash64("12345678", 8) == UINT64_C(0x1fcf483521f0f3ff));
  assert_true(doppel_sketch_hash64("hello, sketches!", 16) == UINT64_C(0xf6e37fc31f887005));
  /* length is mixed in: trailing zero bytes matter */
  assert_true(doppel_sketch_hash64("a", 1) != doppel_sketch_hash64("a\0", 2));
  assert_true(doppel_sketch_hash64("", 0) != doppel_sketch_hash64("\0", 1));
  /* one flipped bit changes about half the output bits */
  uint8_t b[40] = {0};
  uint64_t h0 = doppel_sketch_hash64(b, sizeof b);
  int total = 0;
  for (int i = 0; i < 320; i++) {
    b[i / 8] ^= (uint8_t)(1u << (i % 8));
    total += __builtin_popcountll(h0 ^ doppel_sketch_hash64(b, sizeof b));
    b[i / 8] ^= (uint8_t)(1u << (i % 8));
  }
  double avg = total / 320.0;
  assert_true(avg > 29.0 && avg < 35.0);
}

/* ---- HLL ---- */

static void test_hll_small(void **state) {
  (void)state;
  doppel_hll *h = NULL;
  assert_int_equal(doppel_hll_new(&h, 0, NULL), DOPPEL_OK);
  assert_int_equal(doppel_hll_precision(h), 14);
  doppel_hll_estimate e = doppel_hll_query(h);
  assert_true(e.estimate == 0.0);
  assert_true(fabs(e.rel_std_error - 1.04 / 128.0) < 1e-15);
  for (uint64_t n = 1; n <= 100; n++) {
    hll_add_u64(h, n);
    hll_add_u64(h, n); /* duplicates do not count */
    e = doppel_hll_query(h);
    if (fabs(e.estimate - (double)n) > 2.0)
      fail_msg("n = %llu: estimate %.3f", (unsigned long long)n, e.estimate);
  }
  doppel_hll_free(h);
  /* also at the lowest precision the first few are close */
  assert_int_equal(doppel_hll_new(&h, 4, NULL), DOPPEL_OK);
  hll_add_u64(h, 1);
  e = doppel_hll_query(h);
  assert_true(fabs(e.estimate - 1.0) < 0.5);
  doppel_hll_free(h);
}

static void test_hll_large(void **state) {
  (void)state;
  unsigned ps[] = {14, 10};
  for (size_t pi = 0; pi < 2; pi++) {
    doppel_hll *h = NULL;
    assert_int_equal(doppel_hll_new(&h, ps[pi], NULL), DOPPEL_OK);
    uint64_t marks[] = {1000, 100000, 1000000};
    uint64_t i = 0;
    for (size_t k = 0; k < 3; k++) {
      for (; i < marks[k]; i++) hll_add_u64(h, i * 0x9e3779b97f4a7c15ull + 7);
      doppel_hll_estimate e = doppel_hll_query(h);
      double rel = fabs(e.estimate - (double)marks[k]) / (double)marks[k];
      if (rel > 3 * e.rel_std_error)
        fail_msg("p = %u n = %llu: estimate %.1f (rel error %.4f > 3 × %.4f)", ps[pi],
                 (unsigned long long)marks[k], e.estimate, rel, e.rel_std_error);
      assert_true(fabs(e.std_error - e.estimate * e.rel_std_error) < 1e-6 * e.estimate);
    }
    doppel_hll_free(h);
  }
}

static void test_hll_merge(void **state) {
  (void)state;
  doppel_hll *whole, *a, *b, *c;
  assert_int_equal(doppel_hll_new(&whole, 12, NULL), DOPPEL_OK);
  assert_int_equal(doppel_hll_new(&a, 12, NULL), DOPPEL_OK);
  assert_int_equal(doppel_hll_new(&b, 12, NULL), DOPPEL_OK);
  assert_int_equal(doppel_hll_new(&c, 12, NULL), DOPPEL_OK);
  for (uint64_t i = 0; i < 30000; i++) {
    hll_add_u64(whole, i % 20000);
    hll_add_u64(i < 15000 ? a : (i < 24000 ? b : c), i % 20000);
  }
  char *sw = hll_dump(whole);
  /* two halves: a ∪ (b ∪ c) split as halves of the stream */
  doppel_hll *h1 = hll_clone(a), *h2 = hll_clone(b);
  assert_int_equal(doppel_hll_merge(h2, c, NULL), DOPPEL_OK);
  assert_int_equal(doppel_hll_merge(h1, h2, NULL), DOPPEL_OK);
  char *s1 = hll_dump(h1);
  assert_string_equal(s1, sw);
  /* commutative: b ∪ a == a ∪ b */
  doppel_hll *ab = hll_clone(a), *ba = hll_clone(b);
  assert_int_equal(doppel_hll_merge(ab, b, NULL), DOPPEL_OK);
  assert_int_equal(doppel_hll_merge(ba, a, NULL), DOPPEL_OK);
  char *sab = hll_dump(ab), *sba = hll_dump(ba);
  assert_string_equal(sab, sba);
  /* associative: (a ∪ b) ∪ c == a ∪ (b ∪ c), both == whole */
  assert_int_equal(doppel_hll_merge(ab, c, NULL), DOPPEL_OK);
  char *s2 = hll_dump(ab);
  assert_string_equal(s2, sw);
  /* the merge is not a no-op: a alone differs */
  char *sa = hll_dump(a);
  assert_string_not_equal(sa, sw);
  free(sw);
  free(s1);
  free(sab);
  free(sba);
  free(s2);
  free(sa);
  doppel_hll_free(whole);
  doppel_hll_free(a);
  doppel_hll_free(b);
  doppel_hll_free(c);
  doppel_hll_free(h1);
  doppel_hll_free(h2);
  doppel_hll_free(ab);
  doppel_hll_free(ba);
}

static void test_hll_precisions(void **state) {
  (void)state;
  doppel_hll *hi, *lo, *m1, *m2;
  assert_int_equal(doppel_hll_new(&hi, 14, NULL), DOPPEL_OK);
  assert_int_equal(doppel_hll_new(&lo, 9, NULL), DOPPEL_OK);
  for (uint64_t i = 0; i < 50000; i++) {
    hll_add_u64(hi, i);
    hll_add_u64(lo, i);
  }
  char *want = hll_dump(lo);
  /* dst higher precision: reduced to src's */
  m1 = hll_clone(hi);
  doppel_hll *empty9;
  assert_int_equal(doppel_hll_new(&empty9, 9, NULL), DOPPEL_OK);
  assert_int_equal(doppel_hll_merge(m1, empty9, NULL), DOPPEL_OK);
  assert_int_equal(doppel_hll_precision(m1), 9);
  char *g1 = hll_dump(m1);
  assert_string_equal(g1, want);
  /* src higher precision: folded into dst's */
  m2 = hll_clone(empty9);
  assert_int_equal(doppel_hll_merge(m2, hi, NULL), DOPPEL_OK);
  char *g2 = hll_dump(m2);
  assert_string_equal(g2, want);
  free(want);
  free(g1);
  free(g2);
  doppel_hll_free(hi);
  doppel_hll_free(lo);
  doppel_hll_free(m1);
  doppel_hll_free(m2);
  doppel_hll_free(empty9);
}

static void test_hll_roundtrip(void **state) {
  (void)state;
  uint64_t ns[] = {0, 5, 300, 200000};
  const char *enc[] = {"sparse", "sparse", "sparse", "dense6"};
  for (size_t k = 0; k < 4; k++) {
    doppel_hll *h;
    assert_int_equal(doppel_hll_new(&h, 14, NULL), DOPPEL_OK);
    for (uint64_t i = 0; i < ns[k]; i++) hll_add_u64(h, i);
    json_t *j = NULL;
    assert_int_equal(doppel_hll_to_json(h, &j, NULL), DOPPEL_OK);
    assert_string_equal(json_string_value(json_object_get(j, "encoding")), enc[k]);
    json_decref(j);
    char *s1 = hll_dump(h);
    doppel_hll *c = hll_clone(h);
    char *s2 = hll_dump(c);
    assert_string_equal(s1, s2);
    assert_true(doppel_hll_query(h).estimate == doppel_hll_query(c).estimate);
    /* determinism: the same inputs again give the same bytes */
    doppel_hll *again;
    assert_int_equal(doppel_hll_new(&again, 14, NULL), DOPPEL_OK);
    for (uint64_t i = 0; i < ns[k]; i++) hll_add_u64(again, i);
    char *s3 = hll_dump(again);
    assert_string_equal(s1, s3);
    free(s1);
    free(s2);
    free(s3);
    doppel_hll_free(h);
    doppel_hll_free(c);
    doppel_hll_free(again);
  }
  /* dense size: 2^14 registers × 6 bits = 12288 bytes = 16384 base64 chars */
  doppel_hll *h;
  assert_int_equal(doppel_hll_new(&h, 14, NULL), DOPPEL_OK);
  for (uint64_t i = 0; i < 200000; i++) hll_add_u64(h, i);
  json_t *j = NULL;
  assert_int_equal(doppel_hll_to_json(h, &j, NULL), DOPPEL_OK);
  assert_int_equal(strlen(json_string_value(json_object_get(j, "registers"))), 16384);
  json_decref(j);
  doppel_hll_free(h);
}

static void test_hll_corrupt(void **state) {
  (void)state;
  char dense_bad[16384 + 200];
  /* p = 14 dense: first register 63 > 65 − 14 */
  int n = snprintf(dense_bad, sizeof dense_bad,
                   "{\"type\":\"hll\",\"version\":1,\"p\":14,\"encoding\":\"dense6\",\"registers\":\"");
  dense_bad[n++] = '/'; /* 63 in the first 6 bits */
  for (int i = 1; i < 16384; i++) dense_bad[n++] = 'A';
  memcpy(dense_bad + n, "\"}", 3);
  const char *bad[] = {
      "[]",
      "{\"type\":\"ddsketch\",\"version\":1}",
      "{\"type\":\"hll\",\"version\":2,\"p\":4,\"encoding\":\"sparse\",\"registers\":\"\"}",
      "{\"type\":\"hll\",\"version\":1,\"p\":4,\"encoding\":\"sparse\",\"registers\":\"\",\"x\":1}",
      "{\"type\":\"hll\",\"version\":1,\"p\":3,\"encoding\":\"sparse\",\"registers\":\"\"}",
      "{\"type\":\"hll\",\"version\":1,\"p\":19,\"encoding\":\"sparse\",\"registers\":\"\"}",
      "{\"type\":\"hll\",\"version\":1,\"p\":\"4\",\"encoding\":\"sparse\",\"registers\":\"\"}",
      "{\"type\":\"hll\",\"version\":1,\"p\":4,\"encoding\":\"dense8\",\"registers\":\"\"}",
      "{\"type\":\"hll\",\"version\":1,\"p\":4,\"encoding\":\"sparse\"}",
      /* 16 registers dense = 12 bytes = 16 chars; 12 chars is too short */
      "{\"type\":\"hll\",\"version\":1,\"p\":4,\"encoding\":\"dense6\",\"registers\":\"AAAAAAAAAAAA\"}",
      "{\"type\":\"hll\",\"version\":1,\"p\":4,\"encoding\":\"dense6\",\"registers\":\"AAAA*AAAAAAAAAAA\"}",
      /* non-canonical base64 (unused bits set) */
      "{\"type\":\"hll\",\"version\":1,\"p\":4,\"encoding\":\"sparse\",\"registers\":\"AAB=\"}",
      /* sparse: index 16 out of range for p = 4 (bytes 10 01) */
      "{\"type\":\"hll\",\"version\":1,\"p\":4,\"encoding\":\"sparse\",\"registers\":\"EAE=\"}",
      /* sparse: value 0 (bytes 00 00) */
      "{\"type\":\"hll\",\"version\":1,\"p\":4,\"encoding\":\"sparse\",\"registers\":\"AAA=\"}",
      /* sparse: value 62 > 61 (bytes 00 3e) */
      "{\"type\":\"hll\",\"version\":1,\"p\":4,\"encoding\":\"sparse\",\"registers\":\"AD4=\"}",
      /* sparse: truncated entry (byte 00) */
      "{\"type\":\"hll\",\"version\":1,\"p\":4,\"encoding\":\"sparse\",\"registers\":\"AA==\"}",
      /* sparse: overlong varint (80 00 01) */
      "{\"type\":\"hll\",\"version\":1,\"p\":4,\"encoding\":\"sparse\",\"registers\":\"gAAB\"}",
      dense_bad,
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) expect_rejected("hll", bad[i]);
  /* and a valid sparse state for comparison: register 1 = 3 (bytes 01 03) */
  json_t *j = parse("{\"type\":\"hll\",\"version\":1,\"p\":4,\"encoding\":\"sparse\",\"registers\":\"AQM=\"}");
  doppel_hll *h = NULL;
  assert_int_equal(doppel_hll_from_json(j, &h, NULL), DOPPEL_OK);
  assert_true(doppel_hll_query(h).estimate > 0.5);
  json_decref(j);
  doppel_hll_free(h);
  /* bad parameters */
  doppel_diag d;
  assert_int_equal(doppel_hll_new(&h, 3, &d), DOPPEL_E_USAGE);
  assert_null(h);
  assert_int_equal(d.status, DOPPEL_E_USAGE);
}

/* ---- DDSketch ---- */

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static const double qs[] = {0.0, 0.001, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 0.999, 1.0};

/* Every quantile within relative alpha of the exact order statistic. */
static void check_quantiles(const doppel_ddsketch *s, double *v, size_t n, const char *what) {
  qsort(v, n, sizeof *v, cmp_double);
  double alpha = doppel_ddsketch_alpha(s);
  for (size_t i = 0; i < sizeof qs / sizeof *qs; i++) {
    double got;
    assert_int_equal(doppel_ddsketch_quantile(s, qs[i], &got, NULL), DOPPEL_OK);
    double exact = v[(size_t)floor(qs[i] * (double)(n - 1))];
    if (fabs(got - exact) > alpha * fabs(exact) * (1 + 1e-9))
      fail_msg("%s q = %g: got %.17g, exact %.17g", what, qs[i], got, exact);
  }
}

static void test_dds_distributions(void **state) {
  (void)state;
  const size_t n = 200000;
  double *v = malloc(n * sizeof *v);
  assert_non_null(v);
  for (int dist = 0; dist < 4; dist++) {
    doppel_ddsketch *s = NULL;
    assert_int_equal(doppel_ddsketch_new(&s, 0, 0, NULL), DOPPEL_OK);
    doppel_pcg64 g;
    doppel_pcg64_seed(&g, 0, 42 + (uint64_t)dist, 0, 7);
    long double exact_sum = 0;
    for (size_t i = 0; i < n; i++) {
      double u = doppel_pcg64_double(&g), x;
      switch (dist) {
        case 0: x = 1000.0 * u; break;                             /* uniform */
        case 1: x = -100.0 * log1p(-u); break;                     /* exponential */
        case 2: x = pow(1.0 - u, -1.0 / 1.1); break;               /* Pareto, very heavy tail */
        default:                                                   /* mixed sign, some zeros */
          x = (i % 10 == 0) ? 0.0 : (u - 0.4) * 1e4 * doppel_pcg64_double(&g);
          break;
      }
      v[i] = x;
      exact_sum += x;
      assert_int_equal(doppel_ddsketch_add(s, x), DOPPEL_OK);
    }
    assert_int_equal(doppel_ddsketch_count(s), n);
    double mean = doppel_ddsketch_mean(s);
    assert_true(fabs(mean - (double)(exact_sum / n)) <= 1e-9 * fabs((double)(exact_sum / n)));
    assert_int_equal(doppel_ddsketch_collapsed(s), 0);
    const char *names[] = {"uniform", "exponential", "pareto", "mixed"};
    check_quantiles(s, v, n, names[dist]);
    doppel_ddsketch_free(s);
  }
  free(v);
}

static void test_dds_exact_sum(void **state) {
  (void)state;
  doppel_ddsketch *s;
  assert_int_equal(doppel_ddsketch_new(&s, 0, 0, NULL), DOPPEL_OK);
  assert_true(isnan(doppel_ddsketch_mean(s)));
  assert_true(doppel_ddsketch_sum(s) == 0.0);
  assert_int_equal(doppel_ddsketch_add(s, 1e16), DOPPEL_OK);
  assert_int_equal(doppel_ddsketch_add(s, 1.0), DOPPEL_OK);
  assert_int_equal(doppel_ddsketch_add(s, -1e16), DOPPEL_OK);
  assert_true(doppel_ddsketch_sum(s) == 1.0); /* plain double addition gives 0 */
  assert_int_equal(doppel_ddsketch_add(s, DBL_MAX), DOPPEL_OK);
  assert_int_equal(doppel_ddsketch_add(s, DBL_MAX), DOPPEL_OK);
  assert_true(isinf(doppel_ddsketch_sum(s)));
  assert_true(fabs(doppel_ddsketch_mean(s) - 2 * (DBL_MAX / 5)) < 1e-12 * DBL_MAX);
  assert_int_equal(doppel_ddsketch_add(s, -DBL_MAX), DOPPEL_OK);
  assert_int_equal(doppel_ddsketch_add(s, -DBL_MAX), DOPPEL_OK);
  assert_int_equal(doppel_ddsketch_add(s, 4.9e-324), DOPPEL_OK); /* subnormal: zero bucket */
  assert_true(doppel_ddsketch_sum(s) == 1.0 + 0.0); /* 1 + 2^-1074 rounds to 1 */
  /* correct rounding needs the bits far below the 53rd (sticky bit) */
  doppel_ddsketch *r;
  assert_int_equal(doppel_ddsketch_new(&r, 0, 0, NULL), DOPPEL_OK);
  assert_int_equal(doppel_ddsketch_add(r, 1.0), DOPPEL_OK);
  assert_int_equal(doppel_ddsketch_add(r, 0x1p-53), DOPPEL_OK);
  assert_int_equal(doppel_ddsketch_add(r, 0x1p-105), DOPPEL_OK);
  assert_true(doppel_ddsketch_sum(r) == 1.0 + 0x1p-52);
  /* merged sums carry across limbs: {1} ∪ {-1} is exactly 0 */
  doppel_ddsketch *neg1, *both;
  assert_int_equal(doppel_ddsketch_new(&neg1, 0, 0, NULL), DOPPEL_OK);
  assert_int_equal(doppel_ddsketch_new(&both, 0, 0, NULL), DOPPEL_OK);
  assert_int_equal(doppel_ddsketch_add(neg1, -1.0), DOPPEL_OK);
  assert_int_equal(doppel_ddsketch_add(both, 1.0), DOPPEL_OK);
  assert_int_equal(doppel_ddsketch_add(both, -1.0), DOPPEL_OK);
  doppel_ddsketch_free(r);
  assert_int_equal(doppel_ddsketch_new(&r, 0, 0, NULL), DOPPEL_OK);
  assert_int_equal(doppel_ddsketch_add(r, 1.0), DOPPEL_OK);
  assert_int_equal(doppel_ddsketch_merge(r, neg1, NULL), DOPPEL_OK);
  assert_true(doppel_ddsketch_sum(r) == 0.0);
  char *m1 = dds_dump(r), *m2 = dds_dump(both);
  assert_string_equal(m1, m2);
  assert_non_null(strstr(m1, "\"sum\":\"0x0p+0\""));
  free(m1);
  free(m2);
  doppel_ddsketch_free(r);
  doppel_ddsketch_free(neg1);
  doppel_ddsketch_free(both);
  /* the state's sum is the exact hex float; strtod reads it */
  json_t *j = NULL;
  assert_int_equal(doppel_ddsketch_to_json(s, &j, NULL), DOPPEL_OK);
  const char *sum = json_string_value(json_object_get(j, "sum"));
  assert_non_null(strstr(sum, "p-1074"));
  assert_true(strtod(sum, NULL) == 1.0);
  json_decref(j);
  /* non-finite values are refused and change nothing */
  char *before = dds_dump(s);
  assert_int_equal(doppel_ddsketch_add(s, NAN), DOPPEL_E_DATA);
  assert_int_equal(doppel_ddsketch_add(s, INFINITY), DOPPEL_E_DATA);
  assert_int_equal(doppel_ddsketch_add(s, -INFINITY), DOPPEL_E_DATA);
  char *after = dds_dump(s);
  assert_string_equal(before, after);
  free(before);
  free(after);
  /* query arguments */
  double q;
  doppel_diag d;
  assert_int_equal(doppel_ddsketch_quantile(s, 1.5, &q, &d), DOPPEL_E_USAGE);
  assert_int_equal(doppel_ddsketch_quantile(s, NAN, &q, &d), DOPPEL_E_USAGE);
  assert_int_equal(doppel_ddsketch_quantile(s, -0.1, &q, &d), DOPPEL_E_USAGE);
  doppel_ddsketch_free(s);
  assert_int_equal(doppel_ddsketch_new(&s, 0, 0, NULL), DOPPEL_OK);
  assert_int_equal(doppel_ddsketch_quantile(s, 0.5, &q, &d), DOPPEL_E_DATA);
  assert_int_equal(d.status, DOPPEL_E_DATA);
  doppel_ddsketch_free(s);
  assert_int_equal(doppel_ddsketch_new(&s, 0.7, 0, &d), DOPPEL_E_USAGE);
  assert_int_equal(doppel_ddsketch_new(&s, 0, 8, &d), DOPPEL_E_USAGE);
}

/* Shards i % 4 of v merged in several orders and groupings all equal the
 * sketch of the whole, byte for byte. */
static void check_dds_shards(const double *v, size_t n, double alpha, uint32_t buckets,
                             int expect_collapse) {
  doppel_ddsketch *whole, *sh[4];
  assert_int_equal(doppel_ddsketch_new(&whole, alpha, buckets, NULL), DOPPEL_OK);
  for (int k = 0; k < 4; k++) assert_int_equal(doppel_ddsketch_new(&sh[k], alpha, buckets, NULL), DOPPEL_OK);
  for (size_t i = 0; i < n; i++) {
    assert_int_equal(doppel_ddsketch_add(whole, v[i]), DOPPEL_OK);
    assert_int_equal(doppel_ddsketch_add(sh[(i / 1000) % 4], v[i]), DOPPEL_OK);
  }
  assert_int_equal(doppel_ddsketch_collapsed(whole), expect_collapse);
  char *sw = dds_dump(whole);
  /* ((0 ∪ 1) ∪ 2) ∪ 3 */
  doppel_ddsketch *m = dds_clone(sh[0]);
  for (int k = 1; k < 4; k++) assert_int_equal(doppel_ddsketch_merge(m, sh[k], NULL), DOPPEL_OK);
  char *s1 = dds_dump(m);
  assert_string_equal(s1, sw);
  /* (3 ∪ 1) ∪ (2 ∪ 0) */
  doppel_ddsketch *x = dds_clone(sh[3]), *y = dds_clone(sh[2]);
  assert_int_equal(doppel_ddsketch_merge(x, sh[1], NULL), DOPPEL_OK);
  assert_int_equal(doppel_ddsketch_merge(y, sh[0], NULL), DOPPEL_OK);
  assert_int_equal(doppel_ddsketch_merge(x, y, NULL), DOPPEL_OK);
  char *s2 = dds_dump(x);
  assert_string_equal(s2, sw);
  /* merging into an empty sketch copies */
  doppel_ddsketch *e;
  assert_int_equal(doppel_ddsketch_new(&e, alpha, buckets, NULL), DOPPEL_OK);
  assert_int_equal(doppel_ddsketch_merge(e, whole, NULL), DOPPEL_OK);
  char *s3 = dds_dump(e);
  assert_string_equal(s3, sw);
  free(sw);
  free(s1);
  free(s2);
  free(s3);
  doppel_ddsketch_free(whole);
  doppel_ddsketch_free(m);
  doppel_ddsketch_free(x);
  doppel_ddsketch_free(y);
  doppel_ddsketch_free(e);
  for (int k = 0; k < 4; k++) doppel_ddsketch_free(sh[k]);
}

static void test_dds_merge(void **state) {
  (void)state;
  const size_t n = 50000;
  double *v = malloc(n * sizeof *v);
  assert_non_null(v);
  doppel_pcg64 g;
  doppel_pcg64_seed(&g, 0, 9, 0, 1);
  for (size_t i = 0; i < n; i++) {
    double u = doppel_pcg64_double(&g);
    v[i] = (u - 0.3) * 1000.0 * doppel_pcg64_double(&g); /* mixed sign, non-integral */
  }
  check_dds_shards(v, n, 0.01, 2048, 0);
  /* log-uniform over 24 decades both signs: collapses at 64 buckets per store */
  for (size_t i = 0; i < n; i++) {
    double x = exp((doppel_pcg64_double(&g) - 0.5) * 55.0);
    v[i] = (i % 3 == 0) ? -x : x;
  }
  check_dds_shards(v, n, 0.02, 64, 1);
  /* different alphas do not merge; different bounds merge at the lower one */
  doppel_ddsketch *a, *b, *c;
  assert_int_equal(doppel_ddsketch_new(&a, 0.01, 0, NULL), DOPPEL_OK);
  assert_int_equal(doppel_ddsketch_new(&b, 0.02, 0, NULL), DOPPEL_OK);
  doppel_diag d;
  assert_int_equal(doppel_ddsketch_merge(a, b, &d), DOPPEL_E_USAGE);
  assert_int_equal(d.status, DOPPEL_E_USAGE);
  doppel_ddsketch_free(b);
  assert_int_equal(doppel_ddsketch_new(&b, 0.01, 64, NULL), DOPPEL_OK);
  assert_int_equal(doppel_ddsketch_new(&c, 0.01, 64, NULL), DOPPEL_OK);
  for (size_t i = 0; i < n; i++) {
    assert_int_equal(doppel_ddsketch_add(a, v[i]), DOPPEL_OK);
    assert_int_equal(doppel_ddsketch_add(c, v[i]), DOPPEL_OK);
  }
  assert_int_equal(doppel_ddsketch_merge(b, a, NULL), DOPPEL_OK); /* 64-bucket dst */
  assert_int_equal(doppel_ddsketch_merge(a, b, NULL), DOPPEL_OK); /* 2048-bucket dst */
  assert_int_equal(doppel_ddsketch_max_buckets(a), 64);
  /* a is now the data twice; c twice via self-merge */
  assert_int_equal(doppel_ddsketch_merge(c, c, NULL), DOPPEL_OK);
  char *sa = dds_dump(a), *sb = dds_dump(b), *sc = dds_dump(c);
  assert_string_equal(sa, sc);
  assert_string_not_equal(sa, sb);
  assert_int_equal(doppel_ddsketch_count(a), 2 * n);
  free(sa);
  free(sb);
  free(sc);
  doppel_ddsketch_free(a);
  doppel_ddsketch_free(b);
  doppel_ddsketch_free(c);
  free(v);
}

static void test_dds_collapse(void **state) {
  (void)state;
  const size_t n = 100000;
  double *v = malloc(n * sizeof *v);
  assert_non_null(v);
  doppel_ddsketch *s;
  assert_int_equal(doppel_ddsketch_new(&s, 0.01, 256, NULL), DOPPEL_OK);
  doppel_pcg64 g;
  doppel_pcg64_seed(&g, 1, 2, 3, 4);
  for (size_t i = 0; i < n; i++) {
    v[i] = exp((doppel_pcg64_double(&g) * 2.0 - 1.0) * log(1e6)); /* 1e-6 .. 1e6 */
    assert_int_equal(doppel_ddsketch_add(s, v[i]), DOPPEL_OK);
  }
  assert_int_equal(doppel_ddsketch_collapsed(s), 1);
  json_t *j = NULL;
  assert_int_equal(doppel_ddsketch_to_json(s, &j, NULL), DOPPEL_OK);
  assert_int_equal(json_array_size(json_object_get(json_object_get(j, "positive"), "counts")), 256);
  assert_true(json_is_true(json_object_get(json_object_get(j, "positive"), "collapsed")));
  json_decref(j);
  qsort(v, n, sizeof *v, cmp_double);
  /* 256 buckets of 2% cover 1e6 down to ~6e3: ranks above ~0.82 keep alpha */
  const double upper[] = {0.85, 0.9, 0.95, 0.99, 0.999, 1.0};
  for (size_t i = 0; i < 6; i++) {
    double got, exact = v[(size_t)floor(upper[i] * (double)(n - 1))];
    assert_int_equal(doppel_ddsketch_quantile(s, upper[i], &got, NULL), DOPPEL_OK);
    if (fabs(got - exact) > 0.01 * exact * (1 + 1e-9))
      fail_msg("q = %g: got %.17g, exact %.17g", upper[i], got, exact);
  }
  /* low quantiles fall in the collapsed bucket: overestimated, not lost */
  double low, exact_low = v[(size_t)floor(0.1 * (double)(n - 1))];
  assert_int_equal(doppel_ddsketch_quantile(s, 0.1, &low, NULL), DOPPEL_OK);
  assert_true(low > exact_low * 1.5);
  double q0;
  assert_int_equal(doppel_ddsketch_quantile(s, 0.0, &q0, NULL), DOPPEL_OK);
  assert_true(q0 == low);
  doppel_ddsketch_free(s);
  free(v);
}

static void test_dds_roundtrip(void **state) {
  (void)state;
  doppel_ddsketch *s;
  assert_int_equal(doppel_ddsketch_new(&s, 0.005, 512, NULL), DOPPEL_OK);
  char *e1 = dds_dump(s);
  doppel_ddsketch *ec = dds_clone(s);
  char *e2 = dds_dump(ec);
  assert_string_equal(e1, e2);
  doppel_pcg64 g;
  doppel_pcg64_seed(&g, 0, 5, 0, 5);
  for (int i = 0; i < 20000; i++) {
    double u = doppel_pcg64_double(&g);
    assert_int_equal(doppel_ddsketch_add(s, i % 7 == 0 ? 0.0 : (u - 0.5) * 1e3 / (u + 1e-3)),
                     DOPPEL_OK);
  }
  char *s1 = dds_dump(s);
  doppel_ddsketch *c = dds_clone(s);
  char *s2 = dds_dump(c);
  assert_string_equal(s1, s2);
  for (size_t i = 0; i < sizeof qs / sizeof *qs; i++) {
    double a, b;
    assert_int_equal(doppel_ddsketch_quantile(s, qs[i], &a, NULL), DOPPEL_OK);
    assert_int_equal(doppel_ddsketch_quantile(c, qs[i], &b, NULL), DOPPEL_OK);
    assert_true(a == b);
  }
  assert_true(doppel_ddsketch_mean(s) == doppel_ddsketch_mean(c));
  /* the clone keeps working like the original */
  assert_int_equal(doppel_ddsketch_add(s, 12345.0), DOPPEL_OK);
  assert_int_equal(doppel_ddsketch_add(c, 12345.0), DOPPEL_OK);
  char *s3 = dds_dump(s), *s4 = dds_dump(c);
  assert_string_equal(s3, s4);
  free(e1);
  free(e2);
  free(s1);
  free(s2);
  free(s3);
  free(s4);
  doppel_ddsketch_free(s);
  doppel_ddsketch_free(c);
  doppel_ddsketch_free(ec);
}

#define DDS_HEAD "{\"type\":\"ddsketch\",\"version\":1,\"alpha\":0.01,\"max_buckets\":16,"
#define DDS_EMPTY_STORE "{\"offset\":0,\"counts\":[],\"collapsed\":false}"

static void test_dds_corrupt(void **state) {
  (void)state;
  const char *ok = DDS_HEAD "\"count\":4,\"sum\":\"0x3p+0\",\"zero\":1,"
                            "\"positive\":{\"offset\":1,\"counts\":[1,0,2],\"collapsed\":false},"
                            "\"negative\":" DDS_EMPTY_STORE "}";
  json_t *j = parse(ok);
  doppel_ddsketch *s = NULL;
  doppel_diag d;
  if (doppel_ddsketch_from_json(j, &s, &d)) fail_msg("valid state rejected: %s", d.text);
  json_decref(j);
  assert_int_equal(doppel_ddsketch_count(s), 4);
  assert_true(doppel_ddsketch_sum(s) == 3.0);
  doppel_ddsketch_free(s);
  const char *bad[] = {
      "{\"type\":\"ddsketch\",\"version\":1}",
      "{\"type\":\"ddsketch\",\"version\":1,\"alpha\":0.6,\"max_buckets\":16,\"count\":0,"
      "\"sum\":\"0x0p+0\",\"zero\":0,\"positive\":" DDS_EMPTY_STORE ",\"negative\":" DDS_EMPTY_STORE "}",
      "{\"type\":\"ddsketch\",\"version\":1,\"alpha\":0.01,\"max_buckets\":15,\"count\":0,"
      "\"sum\":\"0x0p+0\",\"zero\":0,\"positive\":" DDS_EMPTY_STORE ",\"negative\":" DDS_EMPTY_STORE "}",
      /* counts do not add up */
      DDS_HEAD "\"count\":5,\"sum\":\"0x3p+0\",\"zero\":1,\"positive\":{\"offset\":1,\"counts\":[1,0,2],"
               "\"collapsed\":false},\"negative\":" DDS_EMPTY_STORE "}",
      /* zero at the end of a store */
      DDS_HEAD "\"count\":4,\"sum\":\"0x3p+0\",\"zero\":1,\"positive\":{\"offset\":1,\"counts\":[3,0],"
               "\"collapsed\":false},\"negative\":" DDS_EMPTY_STORE "}",
      /* negative count */
      DDS_HEAD "\"count\":2,\"sum\":\"0x3p+0\",\"zero\":1,\"positive\":{\"offset\":1,\"counts\":[2,-1,1],"
               "\"collapsed\":false},\"negative\":" DDS_EMPTY_STORE "}",
      /* span over max_buckets */
      DDS_HEAD "\"count\":17,\"sum\":\"0x3p+0\",\"zero\":0,\"positive\":{\"offset\":1,\"counts\":"
               "[1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1],\"collapsed\":false},\"negative\":" DDS_EMPTY_STORE "}",
      /* collapsed with a span below the bound */
      DDS_HEAD "\"count\":1,\"sum\":\"0x1p+0\",\"zero\":0,\"positive\":{\"offset\":1,\"counts\":[1],"
               "\"collapsed\":true},\"negative\":" DDS_EMPTY_STORE "}",
      /* bucket index beyond the double range */
      DDS_HEAD "\"count\":1,\"sum\":\"0x1p+0\",\"zero\":0,\"positive\":{\"offset\":40000,\"counts\":[1],"
               "\"collapsed\":false},\"negative\":" DDS_EMPTY_STORE "}",
      /* sum not a hex float / impossible for the count / nonzero for an empty sketch */
      DDS_HEAD "\"count\":1,\"sum\":\"1.0\",\"zero\":1,\"positive\":" DDS_EMPTY_STORE
               ",\"negative\":" DDS_EMPTY_STORE "}",
      DDS_HEAD "\"count\":1,\"sum\":\"0x1p+1030\",\"zero\":1,\"positive\":" DDS_EMPTY_STORE
               ",\"negative\":" DDS_EMPTY_STORE "}",
      DDS_HEAD "\"count\":0,\"sum\":\"0x1p+0\",\"zero\":0,\"positive\":" DDS_EMPTY_STORE
               ",\"negative\":" DDS_EMPTY_STORE "}",
      DDS_HEAD "\"count\":1,\"sum\":\"0x1p-1080\",\"zero\":1,\"positive\":" DDS_EMPTY_STORE
               ",\"negative\":" DDS_EMPTY_STORE "}",
      /* unknown key in a store, wrong store type */
      DDS_HEAD "\"count\":0,\"sum\":\"0x0p+0\",\"zero\":0,\"positive\":{\"offset\":0,\"counts\":[],"
               "\"collapsed\":false,\"min\":3},\"negative\":" DDS_EMPTY_STORE "}",
      DDS_HEAD "\"count\":0,\"sum\":\"0x0p+0\",\"zero\":0,\"positive\":[],\"negative\":" DDS_EMPTY_STORE "}",
      /* count above 2^63 - 1 through the stores */
      DDS_HEAD "\"count\":9223372036854775807,\"sum\":\"0x0p+0\",\"zero\":0,\"positive\":{\"offset\":1,"
               "\"counts\":[9223372036854775807,1],\"collapsed\":false},\"negative\":" DDS_EMPTY_STORE "}",
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) expect_rejected("dds", bad[i]);
}

/* ---- top values ---- */

#define ZIPF_VALUES 100000
#define ZIPF_DRAWS 1000000

static size_t zipf_draw(doppel_pcg64 *g, const double *cdf) {
  double u = doppel_pcg64_double(g) * cdf[ZIPF_VALUES - 1];
  size_t lo = 0, hi = ZIPF_VALUES - 1;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (cdf[mid] > u) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

static int zipf_name(size_t r, char *buf) { return snprintf(buf, 32, "value-%zu", r); }

/* Draws of a Zipf(1.1) stream over ZIPF_VALUES values. */
static size_t *zipf_stream(uint64_t *exact) {
  double *cdf = malloc(ZIPF_VALUES * sizeof *cdf);
  size_t *draws = malloc(ZIPF_DRAWS * sizeof *draws);
  assert_non_null(cdf);
  assert_non_null(draws);
  double acc = 0;
  for (size_t r = 0; r < ZIPF_VALUES; r++) cdf[r] = acc += pow((double)(r + 1), -1.1);
  doppel_pcg64 g;
  doppel_pcg64_seed(&g, 0, 2024, 0, 3);
  memset(exact, 0, ZIPF_VALUES * sizeof *exact);
  for (size_t i = 0; i < ZIPF_DRAWS; i++) {
    draws[i] = zipf_draw(&g, cdf);
    exact[draws[i]]++;
  }
  free(cdf);
  return draws;
}

static long parse_rank(const doppel_topk_entry *e) {
  char buf[40];
  if (e->len < 7 || e->len > 30 || memcmp(e->value, "value-", 6)) return -1;
  memcpy(buf, e->value + 6, e->len - 6);
  buf[e->len - 6] = '\0';
  return strtol(buf, NULL, 10);
}

/* Bounds hold for every listed entry and every unlisted value. */
static void check_topk_bounds(const doppel_topk *t, const uint64_t *exact) {
  size_t n = doppel_topk_size(t);
  doppel_topk_entry *en = malloc((n ? n : 1) * sizeof *en);
  size_t got = 0;
  assert_int_equal(doppel_topk_query(t, en, n, &got), DOPPEL_OK);
  assert_int_equal(got, n);
  char *listed = calloc(ZIPF_VALUES, 1);
  uint64_t err = doppel_topk_error(t);
  assert_true(err <= doppel_topk_total(t) / (doppel_topk_capacity(t) + 1));
  for (size_t i = 0; i < n; i++) {
    long r = parse_rank(&en[i]);
    assert_true(r >= 0 && r < ZIPF_VALUES);
    listed[r] = 1;
    if (!(en[i].lower <= exact[r] && exact[r] <= en[i].upper))
      fail_msg("value-%ld: true %llu outside [%llu, %llu]", r, (unsigned long long)exact[r],
               (unsigned long long)en[i].lower, (unsigned long long)en[i].upper);
    if (i) assert_true(en[i - 1].lower >= en[i].lower);
  }
  for (size_t r = 0; r < ZIPF_VALUES; r++)
    if (!listed[r] && exact[r] > err)
      fail_msg("value-%zu (true %llu) unlisted with error bound %llu", r,
               (unsigned long long)exact[r], (unsigned long long)err);
  free(listed);
  free(en);
}

/* The true top 10 (ranks 0..9 here) are the first 10 entries. */
static void check_top10(const doppel_topk *t, const uint64_t *exact) {
  for (size_t r = 1; r < 11; r++) assert_true(exact[r - 1] > exact[r]);
  doppel_topk_entry en[10];
  size_t n = 0;
  assert_int_equal(doppel_topk_query(t, en, 10, &n), DOPPEL_OK);
  assert_int_equal(n, 10);
  for (size_t i = 0; i < 10; i++) {
    long r = parse_rank(&en[i]);
    if (r != (long)i) fail_msg("entry %zu is value-%ld, expected value-%zu", i, r, i);
    assert_true(en[i].lower <= exact[r] && exact[r] <= en[i].upper);
  }
}

static void test_topk_zipf(void **state) {
  (void)state;
  uint64_t *exact = malloc(ZIPF_VALUES * sizeof *exact);
  size_t *draws = zipf_stream(exact);
  doppel_topk *t;
  assert_int_equal(doppel_topk_new(&t, 0, 0, NULL), DOPPEL_OK);
  assert_int_equal(doppel_topk_capacity(t), 1024);
  char buf[32];
  for (size_t i = 0; i < ZIPF_DRAWS; i++) {
    int len = zipf_name(draws[i], buf);
    assert_int_equal(doppel_topk_add(t, buf, (size_t)len, 1), DOPPEL_OK);
  }
  assert_int_equal(doppel_topk_total(t), ZIPF_DRAWS);
  assert_true(doppel_topk_size(t) <= 1024);
  assert_true(doppel_topk_error(t) > 0); /* the stream has far more than k values */
  check_topk_bounds(t, exact);
  check_top10(t, exact);
  /* a smaller summary still finds them, with a larger error */
  doppel_topk *small;
  assert_int_equal(doppel_topk_new(&small, 100, 0, NULL), DOPPEL_OK);
  for (size_t i = 0; i < ZIPF_DRAWS; i++) {
    int len = zipf_name(draws[i], buf);
    assert_int_equal(doppel_topk_add(small, buf, (size_t)len, 1), DOPPEL_OK);
  }
  check_topk_bounds(small, exact);
  assert_true(doppel_topk_error(small) > doppel_topk_error(t));
  /* the first 3 entries of a cap-3 query are the first 3 of the full query */
  doppel_topk_entry all[100], first[3];
  size_t na, nf;
  assert_int_equal(doppel_topk_query(small, all, 100, &na), DOPPEL_OK);
  assert_int_equal(doppel_topk_query(small, first, 3, &nf), DOPPEL_OK);
  assert_int_equal(nf, 3);
  for (size_t i = 0; i < 3; i++) {
    assert_ptr_equal(all[i].value, first[i].value);
    assert_int_equal(all[i].len, first[i].len);
    assert_int_equal(all[i].lower, first[i].lower);
    assert_int_equal(all[i].upper, first[i].upper);
  }
  doppel_topk_free(small);
  doppel_topk_free(t);
  free(draws);
  free(exact);
}

static void test_topk_steps(void **state) {
  (void)state;
  doppel_topk *t;
  assert_int_equal(doppel_topk_new(&t, 2, 0, NULL), DOPPEL_OK);
  assert_int_equal(doppel_topk_add(t, "a", 1, 5), DOPPEL_OK);
  assert_int_equal(doppel_topk_add(t, "b", 1, 3), DOPPEL_OK);
  assert_int_equal(doppel_topk_add(t, "c", 1, 4), DOPPEL_OK); /* d = 3: b leaves, c keeps 1 */
  assert_int_equal(doppel_topk_add(t, "x", 1, 0), DOPPEL_OK); /* no-op */
  char *s = topk_dump(t);
  assert_string_equal(s, "{\"type\":\"topk\",\"version\":1,\"k\":2,\"max_value_len\":256,"
                         "\"total\":12,\"error\":3,\"entries\":[[\"YQ==\",2,0],[\"Yw==\",1,0]]}");
  free(s);
  doppel_topk_entry en[2];
  size_t n;
  assert_int_equal(doppel_topk_query(t, en, 2, &n), DOPPEL_OK);
  assert_int_equal(n, 2);
  assert_int_equal(en[0].lower, 2);
  assert_int_equal(en[0].upper, 5);
  assert_int_equal(en[1].lower, 1);
  assert_int_equal(en[1].upper, 4);
  /* Agarwal merge: a 3, b 3, c 1 combined; the 3rd largest (1) is subtracted */
  doppel_topk *u;
  assert_int_equal(doppel_topk_new(&u, 2, 0, NULL), DOPPEL_OK);
  assert_int_equal(doppel_topk_add(u, "a", 1, 1), DOPPEL_OK);
  assert_int_equal(doppel_topk_add(u, "b", 1, 3), DOPPEL_OK);
  assert_int_equal(doppel_topk_merge(u, t, NULL), DOPPEL_OK);
  s = topk_dump(u);
  assert_string_equal(s, "{\"type\":\"topk\",\"version\":1,\"k\":2,\"max_value_len\":256,"
                         "\"total\":16,\"error\":4,\"entries\":[[\"YQ==\",2,0],[\"Yg==\",2,0]]}");
  free(s);
  doppel_topk_free(u);
  /* equal minima leave together */
  assert_int_equal(doppel_topk_add(t, "c", 1, 1), DOPPEL_OK); /* a 2, c 2 */
  assert_int_equal(doppel_topk_add(t, "d", 1, 2), DOPPEL_OK); /* d = 2: all gone */
  assert_int_equal(doppel_topk_size(t), 0);
  assert_int_equal(doppel_topk_error(t), 5);
  /* the empty value is a value */
  assert_int_equal(doppel_topk_add(t, NULL, 0, 7), DOPPEL_OK);
  assert_int_equal(doppel_topk_query(t, en, 2, &n), DOPPEL_OK);
  assert_int_equal(n, 1);
  assert_int_equal(en[0].len, 0);
  assert_int_equal(en[0].lower, 7);
  /* totals are bounded */
  assert_int_equal(doppel_topk_add(t, "a", 1, (uint64_t)INT64_MAX), DOPPEL_E_LIMIT);
  assert_int_equal(doppel_topk_total(t), 22);
  doppel_topk_free(t);
  doppel_diag d;
  assert_int_equal(doppel_topk_new(&t, 70000, 0, &d), DOPPEL_E_USAGE);
  assert_int_equal(doppel_topk_new(&t, 0, 5000, &d), DOPPEL_E_USAGE);
}

static void test_topk_truncation(void **state) {
  (void)state;
  doppel_topk *t;
  assert_int_equal(doppel_topk_new(&t, 16, 8, NULL), DOPPEL_OK);
  assert_int_equal(doppel_topk_add(t, "0123456789", 10, 1), DOPPEL_OK);
  assert_int_equal(doppel_topk_add(t, "01234567zz", 10, 1), DOPPEL_OK);
  assert_int_equal(doppel_topk_add(t, "01234567", 8, 1), DOPPEL_OK);
  assert_int_equal(doppel_topk_add(t, "0123", 4, 1), DOPPEL_OK);
  doppel_topk_entry en[4];
  size_t n;
  assert_int_equal(doppel_topk_query(t, en, 4, &n), DOPPEL_OK);
  assert_int_equal(n, 3);
  /* count 2 first; then by bytes: "0123" < "01234567" (untruncated) */
  assert_int_equal(en[0].lower, 2);
  assert_int_equal(en[0].len, 8);
  assert_int_equal(en[0].truncated, 1);
  assert_memory_equal(en[0].value, "01234567", 8);
  assert_int_equal(en[1].len, 4);
  assert_int_equal(en[1].truncated, 0);
  assert_int_equal(en[2].len, 8);
  assert_int_equal(en[2].truncated, 0);
  /* equal counts: untruncated before truncated */
  assert_int_equal(doppel_topk_add(t, "01234567", 8, 1), DOPPEL_OK);
  assert_int_equal(doppel_topk_query(t, en, 4, &n), DOPPEL_OK);
  assert_int_equal(en[0].truncated, 0);
  assert_int_equal(en[1].truncated, 1);
  assert_memory_equal(en[0].value, en[1].value, 8);
  doppel_topk *c = topk_clone(t);
  char *s1 = topk_dump(t), *s2 = topk_dump(c);
  assert_string_equal(s1, s2);
  assert_non_null(strstr(s1, "[\"MDEyMzQ1Njc=\",2,1]"));
  free(s1);
  free(s2);
  doppel_topk_free(c);
  doppel_topk_free(t);
}

static void test_topk_merge(void **state) {
  (void)state;
  uint64_t *exact = malloc(ZIPF_VALUES * sizeof *exact);
  size_t *draws = zipf_stream(exact);
  doppel_topk *sh[4];
  for (int k = 0; k < 4; k++) assert_int_equal(doppel_topk_new(&sh[k], 256, 0, NULL), DOPPEL_OK);
  char buf[32];
  for (size_t i = 0; i < ZIPF_DRAWS; i++) {
    int len = zipf_name(draws[i], buf);
    assert_int_equal(doppel_topk_add(sh[(i / 4096) % 4], buf, (size_t)len, 1), DOPPEL_OK);
  }
  /* merge_many in two orders: identical bytes */
  const doppel_topk *o1[4] = {sh[0], sh[1], sh[2], sh[3]};
  const doppel_topk *o2[4] = {sh[3], sh[1], sh[0], sh[2]};
  doppel_topk *m1, *m2;
  assert_int_equal(doppel_topk_merge_many(o1, 4, &m1, NULL), DOPPEL_OK);
  assert_int_equal(doppel_topk_merge_many(o2, 4, &m2, NULL), DOPPEL_OK);
  char *s1 = topk_dump(m1), *s2 = topk_dump(m2);
  assert_string_equal(s1, s2);
  assert_int_equal(doppel_topk_total(m1), ZIPF_DRAWS);
  check_topk_bounds(m1, exact);
  check_top10(m1, exact);
  /* pairwise merge is commutative byte for byte */
  doppel_topk *ab = topk_clone(sh[0]), *ba = topk_clone(sh[1]);
  assert_int_equal(doppel_topk_merge(ab, sh[1], NULL), DOPPEL_OK);
  assert_int_equal(doppel_topk_merge(ba, sh[0], NULL), DOPPEL_OK);
  char *sab = topk_dump(ab), *sba = topk_dump(ba);
  assert_string_equal(sab, sba);
  /* pairwise folds in two orders keep the guarantee and find the top 10 */
  doppel_topk *f1 = topk_clone(sh[0]), *f2 = topk_clone(sh[3]);
  for (int k = 1; k < 4; k++) assert_int_equal(doppel_topk_merge(f1, sh[k], NULL), DOPPEL_OK);
  for (int k = 2; k >= 0; k--) assert_int_equal(doppel_topk_merge(f2, sh[k], NULL), DOPPEL_OK);
  check_topk_bounds(f1, exact);
  check_topk_bounds(f2, exact);
  check_top10(f1, exact);
  check_top10(f2, exact);
  free(s1);
  free(s2);
  free(sab);
  free(sba);
  doppel_topk_free(m1);
  doppel_topk_free(m2);
  doppel_topk_free(ab);
  doppel_topk_free(ba);
  doppel_topk_free(f1);
  doppel_topk_free(f2);
  for (int k = 0; k < 4; k++) doppel_topk_free(sh[k]);
  free(draws);
  free(exact);
}

static void test_topk_merge_exact(void **state) {
  (void)state;
  /* fewer distinct values than k: merges are exact, associative and equal the whole */
  doppel_topk *whole, *p[3];
  assert_int_equal(doppel_topk_new(&whole, 64, 0, NULL), DOPPEL_OK);
  for (int k = 0; k < 3; k++) assert_int_equal(doppel_topk_new(&p[k], 64, 0, NULL), DOPPEL_OK);
  char buf[16];
  for (int i = 0; i < 3000; i++) {
    int len = snprintf(buf, sizeof buf, "v%d", (i * 7) % 50);
    uint64_t w = 1 + (uint64_t)(i % 3);
    assert_int_equal(doppel_topk_add(whole, buf, (size_t)len, w), DOPPEL_OK);
    assert_int_equal(doppel_topk_add(p[i % 3], buf, (size_t)len, w), DOPPEL_OK);
  }
  assert_int_equal(doppel_topk_error(whole), 0);
  char *sw = topk_dump(whole);
  doppel_topk *l = topk_clone(p[0]), *r = topk_clone(p[1]);
  assert_int_equal(doppel_topk_merge(l, p[1], NULL), DOPPEL_OK); /* (0 ∪ 1) ∪ 2 */
  assert_int_equal(doppel_topk_merge(l, p[2], NULL), DOPPEL_OK);
  assert_int_equal(doppel_topk_merge(r, p[2], NULL), DOPPEL_OK); /* 0 ∪ (1 ∪ 2) */
  doppel_topk *r2 = topk_clone(p[0]);
  assert_int_equal(doppel_topk_merge(r2, r, NULL), DOPPEL_OK);
  char *sl = topk_dump(l), *sr = topk_dump(r2);
  assert_string_equal(sl, sw);
  assert_string_equal(sr, sw);
  /* different k: the result has the smaller capacity and stays within the bound */
  doppel_topk *small;
  assert_int_equal(doppel_topk_new(&small, 10, 0, NULL), DOPPEL_OK);
  assert_int_equal(doppel_topk_merge(l, small, NULL), DOPPEL_OK);
  assert_int_equal(doppel_topk_capacity(l), 10);
  assert_true(doppel_topk_size(l) <= 10);
  assert_true(doppel_topk_error(l) > 0);
  assert_true(doppel_topk_error(l) <= doppel_topk_total(l) / 11);
  /* different value limits do not merge */
  doppel_topk *other;
  doppel_diag d;
  assert_int_equal(doppel_topk_new(&other, 10, 100, NULL), DOPPEL_OK);
  assert_int_equal(doppel_topk_merge(l, other, &d), DOPPEL_E_USAGE);
  assert_int_equal(d.status, DOPPEL_E_USAGE);
  free(sw);
  free(sl);
  free(sr);
  doppel_topk_free(whole);
  for (int k = 0; k < 3; k++) doppel_topk_free(p[k]);
  doppel_topk_free(l);
  doppel_topk_free(r);
  doppel_topk_free(r2);
  doppel_topk_free(small);
  doppel_topk_free(other);
}

static void test_topk_roundtrip(void **state) {
  (void)state;
  doppel_topk *t;
  assert_int_equal(doppel_topk_new(&t, 32, 0, NULL), DOPPEL_OK);
  doppel_pcg64 g;
  doppel_pcg64_seed(&g, 0, 77, 0, 1);
  uint8_t v[300];
  for (int i = 0; i < 5000; i++) {
    size_t len = (size_t)doppel_pcg64_bounded(&g, 4) == 0 ? 300 : (size_t)doppel_pcg64_bounded(&g, 3);
    for (size_t j = 0; j < len; j++) v[j] = (uint8_t)doppel_pcg64_bounded(&g, len == 300 ? 1 : 4);
    assert_int_equal(doppel_topk_add(t, v, len, 1 + doppel_pcg64_bounded(&g, 5)), DOPPEL_OK);
  }
  char *s1 = topk_dump(t);
  doppel_topk *c = topk_clone(t);
  char *s2 = topk_dump(c);
  assert_string_equal(s1, s2);
  /* the clone behaves the same afterwards (same state, not just same bytes) */
  for (int i = 0; i < 2000; i++) {
    uint8_t b = (uint8_t)(i % 97);
    assert_int_equal(doppel_topk_add(t, &b, 1, 1), DOPPEL_OK);
    assert_int_equal(doppel_topk_add(c, &b, 1, 1), DOPPEL_OK);
  }
  char *s3 = topk_dump(t), *s4 = topk_dump(c);
  assert_string_equal(s3, s4);
  assert_string_not_equal(s1, s3);
  free(s1);
  free(s2);
  free(s3);
  free(s4);
  doppel_topk_free(t);
  doppel_topk_free(c);
}

#define TK_HEAD "{\"type\":\"topk\",\"version\":1,\"k\":2,\"max_value_len\":4,"

static void test_topk_corrupt(void **state) {
  (void)state;
  json_t *j = parse(TK_HEAD "\"total\":10,\"error\":2,\"entries\":[[\"YQ==\",3,0],[\"YWJjZA==\",1,1]]}");
  doppel_topk *t = NULL;
  doppel_diag d;
  if (doppel_topk_from_json(j, &t, &d)) fail_msg("valid state rejected: %s", d.text);
  json_decref(j);
  assert_int_equal(doppel_topk_error(t), 2);
  doppel_topk_free(t);
  const char *bad[] = {
      "{\"type\":\"topk\",\"version\":1,\"k\":0,\"max_value_len\":4,\"total\":0,\"error\":0,\"entries\":[]}",
      "{\"type\":\"topk\",\"version\":1,\"k\":2,\"max_value_len\":5000,\"total\":0,\"error\":0,\"entries\":[]}",
      TK_HEAD "\"total\":0,\"error\":0}",
      TK_HEAD "\"total\":-1,\"error\":0,\"entries\":[]}",
      /* more than k entries */
      TK_HEAD "\"total\":10,\"error\":0,\"entries\":[[\"YQ==\",1,0],[\"Yg==\",1,0],[\"Yw==\",1,0]]}",
      /* duplicate */
      TK_HEAD "\"total\":10,\"error\":0,\"entries\":[[\"YQ==\",1,0],[\"YQ==\",1,0]]}",
      /* zero count, bad flag, bad shape, bad base64 */
      TK_HEAD "\"total\":10,\"error\":0,\"entries\":[[\"YQ==\",0,0]]}",
      TK_HEAD "\"total\":10,\"error\":0,\"entries\":[[\"YQ==\",1,2]]}",
      TK_HEAD "\"total\":10,\"error\":0,\"entries\":[[\"YQ==\",1]]}",
      TK_HEAD "\"total\":10,\"error\":0,\"entries\":[[\"Y===\",1,0]]}",
      TK_HEAD "\"total\":10,\"error\":0,\"entries\":[[\"YR==\",1,0]]}", /* unused bits set */
      /* value longer than the limit; truncated but shorter than the limit */
      TK_HEAD "\"total\":10,\"error\":0,\"entries\":[[\"YWJjZGU=\",1,0]]}",
      TK_HEAD "\"total\":10,\"error\":0,\"entries\":[[\"YQ==\",1,1]]}",
      /* counters + (k+1) error > total */
      TK_HEAD "\"total\":10,\"error\":3,\"entries\":[[\"YQ==\",3,0]]}",
      TK_HEAD "\"total\":10,\"error\":0,\"entries\":[[\"YQ==\",11,0]]}",
      "{\"type\":\"topk\",\"version\":\"1\",\"k\":2,\"max_value_len\":4,\"total\":0,\"error\":0,\"entries\":[]}",
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) expect_rejected("topk", bad[i]);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_hash_fixed),
      cmocka_unit_test(test_hll_small),
      cmocka_unit_test(test_hll_large),
      cmocka_unit_test(test_hll_merge),
      cmocka_unit_test(test_hll_precisions),
      cmocka_unit_test(test_hll_roundtrip),
      cmocka_unit_test(test_hll_corrupt),
      cmocka_unit_test(test_dds_distributions),
      cmocka_unit_test(test_dds_exact_sum),
      cmocka_unit_test(test_dds_merge),
      cmocka_unit_test(test_dds_collapse),
      cmocka_unit_test(test_dds_roundtrip),
      cmocka_unit_test(test_dds_corrupt),
      cmocka_unit_test(test_topk_zipf),
      cmocka_unit_test(test_topk_steps),
      cmocka_unit_test(test_topk_truncation),
      cmocka_unit_test(test_topk_merge),
      cmocka_unit_test(test_topk_merge_exact),
      cmocka_unit_test(test_topk_roundtrip),
      cmocka_unit_test(test_topk_corrupt),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
