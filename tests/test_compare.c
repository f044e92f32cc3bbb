/*
 * test_compare.c — `doppel compare` through the library: TVD and KS on
 * hand-computed cases (atoms, integer step CDFs, disjoint supports), the
 * noise floors against Monte Carlo simulations of what they predict,
 * identical profiles at distance 0, a dataset against itself at or above
 * its floor, constructed shifts (10% of one event renamed; every time three
 * hours later) that lower exactly the expected dimensions by the expected
 * amounts, two halves of the real datasets near the noise floor (skipped
 * without ../shared/data), planted privacy leaks found and disjoint data at
 * zero (JSON Lines and CSV), inputs told apart (datasets, pretty and
 * one-line profiles, other JSON), hand-written profiles, tolerances, the
 * HTML scorecard (the shared page builder: well-formed, self-contained,
 * deterministic, every section, hostile file names and field paths
 * escaped), and the CLI's --min-score exit code.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <jansson.h>
#include <math.h>
#include <zlib.h>

#include <doppel/doppel.h>

#include "test_html.h"
#include "test_util.h"

static char tmp[256];

static const char *tpath(const char *name) {
  static char p[8][512];
  static int next = 0;
  char *r = p[next++ & 7];
  snprintf(r, 512, "%s/%s", tmp, name);
  return r;
}

static int setup(void **state) {
  (void)state;
  snprintf(tmp, sizeof tmp, "%s", tu_tmpdir());
  return 0;
}

static int teardown(void **state) {
  (void)state;
  tu_rmdir(tmp);
  return 0;
}

/* ---- a generated dataset ---- */

#define GEN_RENAME 1 /* every 10th "view" is written as "click" */
#define GEN_SHIFT3H 2 /* every time 3 hours later */

static const char *const gen_names[8] = {"view", "click", "search", "add_to_cart", "buy", "share", "login", "logout"};
static const double gen_mix[8] = {0.34, 0.2, 0.14, 0.1, 0.06, 0.06, 0.05, 0.05};

typedef struct gen_stats {
  uint64_t events, renamed;
} gen_stats;

/* users with ids "<prefix><i>@example.com", 8 to 60 events each in 1 to 6
 * sessions at a per-user hour of the day; plan constant per user, page
 * categorical, price numeric, a note unique to the user on its first event. */
static gen_stats gen(const char *path, uint64_t seed, int n_users, const char *prefix, int flags) {
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  doppel_pcg64 g;
  doppel_pcg64_seed(&g, 0, seed, 0, 7);
  gen_stats gs = {0, 0};
  uint64_t views = 0;
  const int64_t base = INT64_C(1704067200) * 1000000; /* 2024-01-01T00:00:00Z, a Monday */
  for (int u = 0; u < n_users; u++) {
    const char *plan = doppel_pcg64_double(&g) < 0.3 ? "pro" : "free";
    int hour = 7 + (int)doppel_pcg64_bounded(&g, 14);
    int64_t t = base + (int64_t)doppel_pcg64_bounded(&g, 60) * 86400000000 + (int64_t)hour * 3600000000;
    int n = 8 + (int)doppel_pcg64_bounded(&g, 53);
    int sessions = 1 + (int)doppel_pcg64_bounded(&g, 6);
    for (int e = 0; e < n; e++) {
      if (e && doppel_pcg64_bounded(&g, (uint64_t)n) < (uint64_t)sessions - 1)
        t += (int64_t)(1 + doppel_pcg64_bounded(&g, 9)) * 86400000000; /* a later day, same hour */
      double r = doppel_pcg64_double(&g), c = 0;
      int k = 0;
      while (k < 7 && r >= (c += gen_mix[k])) k++;
      const char *name = gen_names[k];
      if (k == 0 && (flags & GEN_RENAME) && ++views % 10 == 0) {
        name = "click";
        gs.renamed++;
      }
      static const char *const pages[] = {"home", "search", "item", "item", "cart"};
      const char *page = pages[doppel_pcg64_bounded(&g, 5)];
      char ts[40];
      doppel_time_format(t + ((flags & GEN_SHIFT3H) ? INT64_C(3) * 3600000000 : 0), ts);
      fprintf(f, "{\"user_id\":\"%s%d@example.com\",\"event\":\"%s\",\"time\":\"%s\",\"properties\":{\"plan\":\"%s\","
                 "\"page\":\"%s\"", prefix, u, name, ts, plan, page);
      if (k == 4) fprintf(f, ",\"price\":%d", (int)(5 * (1 + doppel_pcg64_bounded(&g, 20))));
      if (e == 0) fprintf(f, ",\"note\":\"note-%s-%d\"", prefix, u);
      fprintf(f, "}}\n");
      t += (int64_t)(2 + doppel_pcg64_bounded(&g, 300)) * 1000000;
      gs.events++;
    }
  }
  fclose(f);
  return gs;
}

static json_t *profile_of(const char *path) {
  const char *in[1] = {path};
  doppel_profile_options o;
  memset(&o, 0, sizeof o);
  o.inputs = in;
  o.n_inputs = 1;
  o.params.now_us = INT64_C(1764547200) * 1000000;
  json_t *p = NULL;
  doppel_profile_summary s;
  doppel_diag d;
  doppel_diag_clear(&d);
  assert_int_equal(doppel_profile_to_json(&o, &p, &s, &d), DOPPEL_OK);
  return p;
}

static json_t *compare_files(const char *a, const char *b, int no_privacy) {
  doppel_compare_options o;
  memset(&o, 0, sizeof o);
  o.a = a;
  o.b = b;
  o.now_us = INT64_C(1764547200) * 1000000;
  o.no_privacy = no_privacy;
  json_t *r = NULL;
  doppel_diag d;
  doppel_diag_clear(&d);
  doppel_status st = doppel_compare(&o, &r, &d);
  if (st != DOPPEL_OK) fprintf(stderr, "compare: %s\n", d.text);
  assert_int_equal(st, DOPPEL_OK);
  assert_non_null(r);
  return r;
}

static const json_t *dim(const json_t *report, const char *key) {
  const json_t *dims = json_object_get(report, "dimensions");
  for (size_t i = 0; i < json_array_size(dims); i++)
    if (!strcmp(json_string_value(json_object_get(json_array_get(dims, i), "name")), key)) return json_array_get(dims, i);
  fail_msg("no dimension %s", key);
  return NULL;
}

static double dnum(const json_t *o, const char *key) {
  const json_t *v = json_object_get(o, key);
  assert_true(json_is_number(v));
  return json_number_value(v);
}

static double pnum(const json_t *report, const char *section, const char *key) {
  return dnum(json_object_get(json_object_get(report, "privacy"), section), key);
}

/* ---- primitives ---- */

static void test_tvd_known(void **state) {
  (void)state;
  double p[3] = {0.5, 0.5, 0}, q[3] = {0.25, 0.25, 0.5};
  assert_float_equal(doppel_compare_tvd(p, q, 3), 0.5, 1e-12);
  double a[2] = {2, 2}, b[2] = {1, 3}; /* weights, normalized first */
  assert_float_equal(doppel_compare_tvd(a, b, 2), 0.25, 1e-12);
  double z[2] = {0, 0};
  assert_float_equal(doppel_compare_tvd(a, z, 2), 1, 1e-12);
  assert_float_equal(doppel_compare_tvd(z, z, 2), 0, 1e-12);
  double x[2] = {1, 0}, y[2] = {0, 1};
  assert_float_equal(doppel_compare_tvd(x, y, 2), 1, 1e-12);
  /* expected TVD: two categories at 1/2, n = 100 each: sqrt(2/pi) * sqrt(0.25 * 0.02) */
  assert_float_equal(doppel_compare_expected_tvd(p, 2, 100, 100), sqrt(2 / M_PI) * sqrt(0.005), 1e-12);
  assert_float_equal(doppel_compare_expected_tvd(p, 2, 0, 100), 0, 0);
}

/* Percentiles of a standard normal (q[0], q[100] at the 0.1% and 99.9% points). */
static void normal_q(double *q, double shift) {
  for (int i = 0; i <= 100; i++) {
    /* bisection on erfc: Phi(x) = erfc(-x / sqrt 2) / 2 */
    double p = i == 0 ? 0.001 : i == 100 ? 0.999 : i / 100.0, lo = -10, hi = 10;
    for (int k = 0; k < 200; k++) {
      double mid = (lo + hi) / 2;
      if (0.5 * erfc(-mid / sqrt(2)) < p) lo = mid;
      else hi = mid;
    }
    q[i] = (lo + hi) / 2 + shift;
  }
}

static void test_ks_known(void **state) {
  (void)state;
  double a[101], b[101];
  for (int i = 0; i <= 100; i++) a[i] = i / 100.0, b[i] = i / 100.0 + 0.5;
  assert_float_equal(doppel_compare_ks(a, a, 0), 0, 1e-12);
  /* uniform [0,1] vs uniform [0.5,1.5]: F_A(1) - F_B(1) = 1 - 0.5 */
  assert_float_equal(doppel_compare_ks(a, b, 0), 0.5, 1e-9);
  /* disjoint supports */
  for (int i = 0; i <= 100; i++) b[i] = 2 + i / 100.0;
  assert_float_equal(doppel_compare_ks(a, b, 0), 1, 1e-12);
  /* normal shifted by half a standard deviation: Phi(0.25) - Phi(-0.25) = 0.197413 */
  normal_q(a, 0);
  normal_q(b, 0.5);
  assert_float_equal(doppel_compare_ks(a, b, 0), 0.197413, 0.004);

  /* integer atoms: half of the users at 1 in A, 30% in B, the rest one per
   * whole number: F_A(1) = 0.50, F_B(1) = 0.30 and the gap stays 0.2 */
  for (int i = 0; i <= 100; i++) {
    a[i] = i <= 50 ? 1 : i - 49;
    b[i] = i <= 30 ? 1 : i - 29;
  }
  assert_float_equal(doppel_compare_ks(a, b, 1), 0.2, 1e-9);
  assert_float_equal(doppel_compare_ks(a, a, 1), 0, 1e-12);
  /* 50/50 at 1 and 2 against 60/40: only the atom masses differ */
  for (int i = 0; i <= 100; i++) {
    a[i] = i <= 50 ? 1 : 2;
    b[i] = i <= 60 ? 1 : 2;
  }
  assert_float_equal(doppel_compare_ks(a, b, 1), 0.1, 1e-9);
  assert_float_equal(doppel_compare_ks(a, b, 0), 0.1, 1e-9);
  /* everything at 1 against everything at 2: disjoint, KS 1 */
  for (int i = 0; i <= 100; i++) a[i] = 1, b[i] = 2;
  assert_float_equal(doppel_compare_ks(a, b, 1), 1, 1e-12);
  /* 50% at 1 and 50% at 3 against 50% at 1 and 50% at 2: between two
   * neighbouring percentiles (1 at i = 50, 3 at i = 51) up to 0.01 of the
   * mass is unknown and is spread linearly, so F_A(2) = 0.505 and the
   * distance is 0.495 (the exact 0.5 lies within the 0.01 resolution) */
  for (int i = 0; i <= 100; i++) {
    a[i] = i <= 50 ? 1 : 3;
    b[i] = i <= 50 ? 1 : 2;
  }
  assert_float_equal(doppel_compare_ks(a, b, 1), 0.495, 1e-9);
  assert_float_equal(doppel_compare_ks(a, b, 0), 0.495, 1e-9);
  /* whole numbers only: A at 1 (50%) and 5 (50%), B spread over 2..5. The
   * continuous reading takes the left limit at 5 (F_A(5-) = 0.51), the step
   * reading the last whole number before it (F_A(4) = 0.5075) */
  for (int i = 0; i <= 100; i++) {
    a[i] = i <= 50 ? 1 : 5;
    b[i] = i <= 50 ? 1 : i <= 60 ? 2 : i <= 70 ? 3 : i <= 80 ? 4 : 5;
  }
  assert_float_equal(doppel_compare_ks(a, b, 0), 0.30, 1e-9);
  assert_float_equal(doppel_compare_ks(a, b, 1), 0.2925, 1e-9);
}

/* Percentiles of a sample the way a profile reads them: q[i] is the value
 * of rank floor(i/100 (n - 1)). */
static int cmp_d(const void *x, const void *y) {
  double a = *(const double *)x, b = *(const double *)y;
  return a < b ? -1 : a > b;
}

static void sample_q(double *v, size_t n, double *q) {
  qsort(v, n, sizeof *v, cmp_d);
  for (int i = 0; i <= 100; i++) q[i] = v[(size_t)floor(i / 100.0 * (double)(n - 1))];
}

static double draw(doppel_pcg64 *g, int integer) {
  if (!integer) {
    double u1 = 1 - doppel_pcg64_double(g), u2 = doppel_pcg64_double(g);
    return sqrt(-2 * log(u1)) * cos(2 * M_PI * u2);
  }
  int k = 1; /* geometric(1/2) on 1, 2, ...: half of the mass at 1 */
  while (doppel_pcg64_double(g) < 0.5) k++;
  return k;
}

/* The expected KS the floor predicts against the mean KS of simulated
 * pairs of samples, for a continuous and an atom-heavy integer law. */
static void test_expected_ks_matches_simulation(void **state) {
  (void)state;
  doppel_pcg64 g;
  doppel_pcg64_seed(&g, 0, 42, 0, 1);
  static double big[200000], sa[4000], sb[4000];
  for (int integer = 0; integer < 2; integer++) {
    double qpop[101];
    for (size_t i = 0; i < 200000; i++) big[i] = draw(&g, integer);
    sample_q(big, 200000, qpop);
    static const size_t sizes[][2] = {{500, 500}, {1000, 4000}};
    for (int s = 0; s < 2; s++) {
      size_t na = sizes[s][0], nb = sizes[s][1];
      double sum = 0;
      const int reps = 300;
      for (int r = 0; r < reps; r++) {
        double qa[101], qb[101];
        for (size_t i = 0; i < na; i++) sa[i] = draw(&g, integer);
        for (size_t i = 0; i < nb; i++) sb[i] = draw(&g, integer);
        sample_q(sa, na, qa);
        sample_q(sb, nb, qb);
        sum += doppel_compare_ks(qa, qb, integer);
      }
      double sim = sum / reps, expect = doppel_compare_expected_ks(qpop, (double)na, (double)nb);
      fprintf(stderr, "expected KS %s n=%zu/%zu: floor %.4f, simulated %.4f\n", integer ? "integer" : "normal", na, nb,
              expect, sim);
      assert_true(expect > 0);
      assert_true(fabs(expect - sim) <= 0.2 * sim);
      if (!integer) /* the asymptotic formula read on a 101-point grid is a little lower */
        assert_true(expect <= sqrt(M_PI / 2) * log(2) * sqrt(1.0 / na + 1.0 / nb) * 1.01);
    }
  }
}

static void test_expected_tvd_matches_simulation(void **state) {
  (void)state;
  const double p[4] = {0.5, 0.3, 0.15, 0.05};
  doppel_pcg64 g;
  doppel_pcg64_seed(&g, 0, 43, 0, 1);
  const int na = 400, nb = 900, reps = 3000;
  double sum = 0;
  for (int r = 0; r < reps; r++) {
    double ca[4] = {0}, cb[4] = {0};
    for (int i = 0; i < na + nb; i++) {
      double u = doppel_pcg64_double(&g), c = 0;
      int k = 0;
      while (k < 3 && u >= (c += p[k])) k++;
      if (i < na) ca[k]++;
      else cb[k]++;
    }
    sum += doppel_compare_tvd(ca, cb, 4);
  }
  double sim = sum / reps, expect = doppel_compare_expected_tvd(p, 4, na, nb);
  fprintf(stderr, "expected TVD: floor %.5f, simulated %.5f\n", expect, sim);
  assert_true(fabs(expect - sim) <= 0.05 * sim);
}

/* ---- profiles ---- */

static void test_identical_profiles(void **state) {
  (void)state;
  const char *a = tpath("ident.jsonl");
  gen(a, 1, 300, "u", 0);
  json_t *p = profile_of(a);
  json_t *r = NULL;
  doppel_diag d;
  doppel_diag_clear(&d);
  assert_int_equal(doppel_compare_profiles(p, p, NULL, &r, &d), DOPPEL_OK);
  const json_t *dims = json_object_get(r, "dimensions");
  assert_int_equal(json_array_size(dims), DOPPEL_COMPARE_DIM_COUNT);
  for (size_t i = 0; i < json_array_size(dims); i++) {
    const json_t *x = json_array_get(dims, i);
    assert_true(json_is_true(json_object_get(x, "available")));
    assert_float_equal(dnum(x, "distance"), 0, 0);
    assert_float_equal(dnum(x, "score"), 1, 0);
    assert_true(json_is_true(json_object_get(x, "pass")));
    /* the floor of 300 users' data is a real, positive expected distance */
    assert_true(dnum(x, "floor_distance") > 0);
    assert_string_equal(json_string_value(json_object_get(x, "floor_method")), "analytic");
  }
  assert_float_equal(doppel_compare_report_score(r), 1, 0);
  assert_string_equal(json_string_value(json_object_get(json_object_get(r, "noise_floor"), "method")), "analytic");
  /* determinism: the same inputs give the same bytes */
  json_t *r2 = NULL;
  assert_int_equal(doppel_compare_profiles(p, p, NULL, &r2, &d), DOPPEL_OK);
  char *s1 = doppel_profile_dump(r, 0), *s2 = doppel_profile_dump(r2, 0);
  assert_string_equal(s1, s2);
  free(s1);
  free(s2);
  json_decref(r2);
  json_decref(r);
  json_decref(p);
}

static void test_self_compare_at_least_floor(void **state) {
  (void)state;
  const char *a = tpath("self.jsonl");
  gen(a, 2, 2000, "s", 0);
  json_t *r = compare_files(a, a, 0);
  assert_string_equal(json_string_value(json_object_get(json_object_get(r, "noise_floor"), "method")),
                      "random_groups");
  const json_t *dims = json_object_get(r, "dimensions");
  for (size_t i = 0; i < json_array_size(dims); i++) {
    const json_t *x = json_array_get(dims, i);
    assert_true(json_is_true(json_object_get(x, "available")));
    assert_true(dnum(x, "score") >= dnum(x, "floor_score"));
    assert_true(dnum(x, "floor_score") < 1);
  }
  const json_t *ov = json_object_get(r, "overall");
  assert_true(dnum(ov, "score") >= dnum(ov, "floor_score"));
  assert_true(json_is_true(json_object_get(ov, "pass")));
  /* against itself every identifier, note and sequence is found */
  assert_true(json_is_true(json_object_get(json_object_get(r, "privacy"), "checked")));
  assert_float_equal(pnum(r, "identifiers", "found"), 2000, 0);
  assert_float_equal(pnum(r, "identifiers", "a_values"), 2000, 0);
  assert_float_equal(pnum(r, "rare_values", "found"), pnum(r, "rare_values", "a_values"), 0);
  assert_true(pnum(r, "rare_values", "found") >= 2000);
  assert_float_equal(pnum(r, "sequences", "copied"), 2000, 0);
  json_decref(r);
}

/* 10% of the "view" events renamed "click": the event mix TVD is exactly
 * the moved share; per-user and time dimensions do not move. */
static void test_shift_event_mix(void **state) {
  (void)state;
  const char *a = tpath("mix_a.jsonl"), *b = tpath("mix_b.jsonl");
  gen_stats sa = gen(a, 3, 2000, "m", 0);
  gen_stats sb = gen(b, 3, 2000, "m", GEN_RENAME);
  assert_int_equal(sa.events, sb.events);
  assert_true(sb.renamed > 1000);
  json_t *base = compare_files(a, a, 1), *r = compare_files(a, b, 1);
  double expect = (double)sb.renamed / (double)sa.events;
  fprintf(stderr, "event mix: %llu of %llu events moved, TVD %.6f\n", (unsigned long long)sb.renamed,
          (unsigned long long)sa.events, dnum(dim(r, "event_mix"), "distance"));
  assert_float_equal(dnum(dim(r, "event_mix"), "distance"), expect, 1e-5);
  assert_float_equal(dnum(dim(base, "event_mix"), "score") - dnum(dim(r, "event_mix"), "score"), expect, 1e-5);
  /* larger than the noise floor: a real shift, not noise */
  assert_true(dnum(dim(r, "event_mix"), "distance") > 2 * dnum(dim(r, "event_mix"), "floor_distance"));
  /* 3.4% moved: above the 0.03 tolerance */
  assert_true(expect > 0.03);
  assert_false(json_is_true(json_object_get(dim(r, "event_mix"), "pass")));
  static const char *const same[] = {"events_per_user", "sessions_per_user", "events_per_session",
                                     "inter_event_gaps", "hour_of_week", "retention"};
  for (size_t i = 0; i < sizeof same / sizeof same[0]; i++) assert_float_equal(dnum(dim(r, same[i]), "distance"), 0, 0);
  /* the detail names the two events that moved */
  const json_t *det = json_object_get(dim(r, "event_mix"), "detail");
  const char *first = json_string_value(json_object_get(json_array_get(det, 0), "item"));
  assert_true(!strcmp(first, "view") || !strcmp(first, "click"));
  assert_true(dnum(dim(r, "transitions"), "distance") > 0);
  json_decref(base);
  json_decref(r);
}

/* Every time three hours later: the hour-of-week TVD is that of A's own
 * shares against themselves rotated by three cells. */
static void test_shift_hours(void **state) {
  (void)state;
  const char *a = tpath("how_a.jsonl"), *b = tpath("how_b.jsonl");
  gen(a, 4, 2000, "h", 0);
  gen(b, 4, 2000, "h", GEN_SHIFT3H);
  json_t *pa = profile_of(a);
  const json_t *how = json_object_get(json_object_get(pa, "time"), "hour_of_week");
  assert_int_equal(json_array_size(how), 168);
  double s = 0, d = 0;
  for (int i = 0; i < 168; i++) s += json_number_value(json_array_get(how, i));
  for (int i = 0; i < 168; i++)
    d += fabs(json_number_value(json_array_get(how, i)) - json_number_value(json_array_get(how, (i + 165) % 168)));
  double expect = 0.5 * d / s;
  json_t *r = compare_files(a, b, 1);
  fprintf(stderr, "hour of week shifted 3h: expected TVD %.6f, measured %.6f\n", expect,
          dnum(dim(r, "hour_of_week"), "distance"));
  assert_true(expect > 0.2);
  assert_float_equal(dnum(dim(r, "hour_of_week"), "distance"), expect, 1e-5);
  assert_false(json_is_true(json_object_get(dim(r, "hour_of_week"), "pass")));
  assert_float_equal(dnum(dim(r, "event_mix"), "distance"), 0, 0);
  assert_float_equal(dnum(dim(r, "inter_event_gaps"), "distance"), 0, 0);
  assert_float_equal(dnum(dim(r, "events_per_user"), "distance"), 0, 0);
  /* the overall score falls by the mean of the dimension distances */
  double sum = 0;
  const json_t *dims = json_object_get(r, "dimensions");
  for (size_t i = 0; i < json_array_size(dims); i++) sum += dnum(json_array_get(dims, i), "distance");
  assert_float_equal(doppel_compare_report_score(r), 1 - sum / (double)json_array_size(dims), 1e-5);
  json_decref(r);
  json_decref(pa);
}

/* ---- real data: two halves by user ---- */

static int have_data(void) { return access(DOPPEL_SHARED_DATA, R_OK) == 0; }

/* Split a gzip JSON Lines file by the parity of doppel_sketch_hash64(user_id). */
static void split_halves(const char *in, const char *out_a, const char *out_b) {
  gzFile g = gzopen(in, "rb");
  assert_non_null(g);
  FILE *fa = fopen(out_a, "w"), *fb = fopen(out_b, "w");
  assert_non_null(fa);
  assert_non_null(fb);
  static char line[1 << 20];
  doppel_json_doc doc;
  doppel_json_doc_init(&doc);
  while (gzgets(g, line, sizeof line)) {
    size_t n = strlen(line);
    int half = 0;
    if (doppel_json_parse(&doc, line, n, NULL) == DOPPEL_OK) {
      uint32_t u = doppel_json_lookup(&doc, 0, "user_id");
      if (u != DOPPEL_JSON_NONE && doc.nodes[u].type == DOPPEL_JSON_STRING) {
        size_t len;
        const char *s = doppel_json_str(&doc, u, &len);
        half = (int)(doppel_sketch_hash64(s, len) & 1);
      }
    }
    fputs(line, half ? fb : fa);
  }
  doppel_json_doc_release(&doc);
  gzclose(g);
  fclose(fa);
  fclose(fb);
}

static void halves_near_floor(const char *rel, double overall_tol) {
  char in[1024];
  snprintf(in, sizeof in, "%s/%s", DOPPEL_SHARED_DATA, rel);
  const char *a = tpath("half_a.jsonl"), *b = tpath("half_b.jsonl");
  split_halves(in, a, b);
  json_t *r = compare_files(a, b, 0);
  char *text = doppel_compare_format_text(r);
  fprintf(stderr, "%s halves:\n%s\n", rel, text);
  free(text);
  const json_t *ov = json_object_get(r, "overall");
  assert_string_equal(json_string_value(json_object_get(json_object_get(r, "noise_floor"), "method")),
                      "random_groups");
  assert_true(fabs(dnum(ov, "score") - dnum(ov, "floor_score")) <= overall_tol);
  /* no dimension strays far from its own floor: two samples of one
   * population differ by about what the floor predicts */
  const json_t *dims = json_object_get(r, "dimensions");
  for (size_t i = 0; i < json_array_size(dims); i++) {
    const json_t *x = json_array_get(dims, i);
    if (!json_is_true(json_object_get(x, "available"))) continue;
    assert_true(dnum(x, "distance") <= 3 * dnum(x, "floor_distance") + 0.02);
  }
  /* the analytic floor (profiles only) assumes independent events and so
   * expects less distance for the event mix than the clustered data shows */
  json_t *pa = profile_of(a), *pb = profile_of(b), *ra = NULL;
  assert_int_equal(doppel_compare_profiles(pa, pb, NULL, &ra, NULL), DOPPEL_OK);
  assert_true(dnum(dim(ra, "event_mix"), "floor_distance") < dnum(dim(r, "event_mix"), "floor_distance"));
  assert_float_equal(dnum(dim(ra, "event_mix"), "distance"), dnum(dim(r, "event_mix"), "distance"), 1e-12);
  json_decref(ra);
  json_decref(pa);
  json_decref(pb);
  json_decref(r);
}

static void test_real_halves_nasa(void **state) {
  (void)state;
  if (!have_data()) skip();
  halves_near_floor("nasa-http/events.jsonl.gz", 0.01);
}

static void test_real_halves_rails(void **state) {
  (void)state;
  if (!have_data()) skip();
  halves_near_floor("rails-commits/events.jsonl.gz", 0.015);
}

/* ---- privacy ---- */

/* Append records to a generated file: a few of A's user ids, A's one-user
 * note, and a copy of one A user's whole event sequence under a new id. */
static void plant_leaks(const char *a, const char *b) {
  FILE *f = fopen(b, "a");
  assert_non_null(f);
  for (int i = 0; i < 3; i++)
    fprintf(f, "{\"user_id\":\"p%d@example.com\",\"event\":\"view\",\"time\":\"2024-02-01T10:00:00Z\","
               "\"properties\":{\"plan\":\"free\",\"page\":\"home\"}}\n", 3 + 10 * i);
  fprintf(f, "{\"user_id\":\"q0@example.com\",\"event\":\"view\",\"time\":\"2024-02-01T10:00:00Z\","
             "\"properties\":{\"plan\":\"free\",\"page\":\"home\",\"note\":\"note-p-7\"}}\n");
  /* copy user p5's records under another id */
  FILE *in = fopen(a, "r");
  assert_non_null(in);
  char line[4096];
  while (fgets(line, sizeof line, in)) {
    if (strncmp(line, "{\"user_id\":\"p5@example.com\"", 27) != 0) continue;
    fprintf(f, "{\"user_id\":\"copycat@example.org\"%s", line + 27);
  }
  fclose(in);
  fclose(f);
}

static void test_privacy_planted_and_disjoint(void **state) {
  (void)state;
  const char *a = tpath("priv_a.jsonl"), *b = tpath("priv_b.jsonl");
  gen(a, 5, 400, "p", 0);
  gen(b, 6, 400, "q", 0);
  json_t *r = compare_files(a, b, 0);
  assert_true(json_is_true(json_object_get(json_object_get(r, "privacy"), "checked")));
  assert_float_equal(pnum(r, "identifiers", "a_values"), 400, 0);
  assert_float_equal(pnum(r, "identifiers", "found"), 0, 0);
  assert_float_equal(pnum(r, "identifiers", "b_occurrences"), 0, 0);
  assert_true(pnum(r, "rare_values", "a_values") >= 400);
  assert_float_equal(pnum(r, "rare_values", "found"), 0, 0);
  assert_float_equal(pnum(r, "sequences", "copied"), 0, 0);
  assert_float_equal(pnum(r, "sequences", "b_users"), 400, 0);
  json_decref(r);

  plant_leaks(a, b);
  r = compare_files(a, b, 0);
  assert_float_equal(pnum(r, "identifiers", "found"), 3, 0);
  assert_float_equal(pnum(r, "identifiers", "b_occurrences"), 3, 0);
  /* the planted note, and the copied user's own note */
  assert_float_equal(pnum(r, "rare_values", "found"), 2, 0);
  assert_float_equal(pnum(r, "sequences", "copied"), 1, 0);
  assert_float_equal(pnum(r, "sequences", "copied_rare"), 1, 0);
  const json_t *f = json_object_get(json_object_get(json_object_get(r, "privacy"), "identifiers"), "fields");
  assert_string_equal(json_string_value(json_object_get(json_array_get(f, 0), "path")), "user_id");
  f = json_object_get(json_object_get(json_object_get(r, "privacy"), "rare_values"), "fields");
  assert_string_equal(json_string_value(json_object_get(json_array_get(f, 0), "path")), "properties.note");
  /* counts and paths only: no leaked value in any rendering */
  char *text = doppel_compare_format_text(r), *html = doppel_compare_format_html(r), *js = doppel_profile_dump(r, 0);
  static const char *const leaked[] = {"p3@example.com", "p13@example.com", "note-p-7", "note-p-5", "p5@example.com",
                                       "copycat@example.org"};
  for (size_t i = 0; i < sizeof leaked / sizeof leaked[0]; i++) {
    assert_null(strstr(text, leaked[i]));
    assert_null(strstr(html, leaked[i]));
    assert_null(strstr(js, leaked[i]));
  }
  /* the privacy table: counts, and the paths as code */
  assert_well_formed(html);
  assert_non_null(strstr(html, "<tr class=\"warning\"><td>Identifier values of A (held by fewer than 10 users) found "
                               "in B</td><td class=\"num\">3</td>"));
  assert_non_null(strstr(html, "occurrences in <code>user_id</code> (3)"));
  assert_non_null(strstr(html, "<code>properties.note</code>"));
  free(text);
  free(html);
  free(js);
  json_decref(r);
}

static void test_privacy_csv_fixtures(void **state) {
  (void)state;
  char a[1024], b[1024], c[1024];
  snprintf(a, sizeof a, "%s/fixtures/compare/base.csv", DOPPEL_SOURCE_DIR);
  snprintf(b, sizeof b, "%s/fixtures/compare/leak.csv", DOPPEL_SOURCE_DIR);
  snprintf(c, sizeof c, "%s/fixtures/compare/similar.jsonl", DOPPEL_SOURCE_DIR);
  json_t *r = compare_files(a, b, 0);
  assert_float_equal(pnum(r, "identifiers", "found"), 2, 0);
  assert_float_equal(pnum(r, "rare_values", "found"), 1, 0);
  assert_float_equal(pnum(r, "sequences", "copied"), 1, 0);
  json_decref(r);
  /* numbers, also as CSV strings, are no rare values: similar shares prices with base */
  snprintf(a, sizeof a, "%s/fixtures/compare/base.jsonl", DOPPEL_SOURCE_DIR);
  r = compare_files(a, c, 0);
  assert_float_equal(pnum(r, "identifiers", "found"), 0, 0);
  assert_float_equal(pnum(r, "rare_values", "found"), 0, 0);
  assert_float_equal(pnum(r, "sequences", "copied"), 0, 0);
  json_decref(r);
}

/* ---- inputs ---- */

static void test_inputs_told_apart(void **state) {
  (void)state;
  char base[1024];
  snprintf(base, sizeof base, "%s/fixtures/compare/base.jsonl", DOPPEL_SOURCE_DIR);
  json_t *p = profile_of(base);
  /* a pretty profile (as doppel profile writes it) and a one-line one */
  char *pretty = doppel_profile_dump(p, 0), *compact = doppel_profile_dump(p, 1);
  assert_int_equal(tu_write_file(tpath("pretty.json"), pretty, strlen(pretty)), 0);
  assert_int_equal(tu_write_file(tpath("compact.json"), compact, strlen(compact)), 0);
  free(pretty);
  free(compact);
  json_t *r = compare_files(tpath("pretty.json"), base, 0);
  const json_t *in = json_object_get(r, "inputs");
  assert_string_equal(json_string_value(json_object_get(json_object_get(in, "a"), "kind")), "profile");
  assert_string_equal(json_string_value(json_object_get(json_object_get(in, "b"), "kind")), "dataset");
  assert_false(json_is_true(json_object_get(json_object_get(r, "privacy"), "checked")));
  assert_non_null(strstr(json_string_value(json_object_get(json_object_get(r, "privacy"), "reason")), "A is a profile"));
  assert_float_equal(doppel_compare_report_score(r), 1, 0);
  json_decref(r);
  /* a profile saved with a UTF-8 byte-order mark is still a profile */
  char *bom = doppel_profile_dump(p, 0);
  FILE *bf = fopen(tpath("bom.json"), "w");
  assert_non_null(bf);
  fputs("\xef\xbb\xbf", bf);
  fputs(bom, bf);
  fclose(bf);
  free(bom);
  r = compare_files(tpath("bom.json"), base, 0);
  assert_string_equal(json_string_value(json_object_get(json_object_get(json_object_get(r, "inputs"), "a"), "kind")),
                      "profile");
  json_decref(r);
  r = compare_files(base, tpath("compact.json"), 0);
  assert_string_equal(json_string_value(json_object_get(json_object_get(json_object_get(r, "inputs"), "b"), "kind")),
                      "profile");
  assert_float_equal(doppel_compare_report_score(r), 1, 0);
  json_decref(r);
  /* a JSON document that is no profile is an error naming its format */
  const char *other = "{\n  \"format\": \"doppel-policy/1\",\n  \"rules\": []\n}\n";
  assert_int_equal(tu_write_file(tpath("policy.json"), other, strlen(other)), 0);
  doppel_compare_options o;
  memset(&o, 0, sizeof o);
  o.a = tpath("policy.json");
  o.b = base;
  json_t *bad = NULL;
  doppel_diag d;
  doppel_diag_clear(&d);
  assert_int_equal(doppel_compare(&o, &bad, &d), DOPPEL_E_DATA);
  assert_null(bad);
  assert_string_equal(d.text, "a JSON document of format 'doppel-policy/1', expected a doppel profile or a dataset");
  o.a = tpath("missing.jsonl");
  assert_int_equal(doppel_compare(&o, &bad, &d), DOPPEL_E_IO);
  assert_non_null(strstr(d.text, "cannot open"));
  o.a = o.b = "-";
  assert_int_equal(doppel_compare(&o, &bad, &d), DOPPEL_E_USAGE);
  assert_string_equal(d.text, "stdin ('-') can be only one of A and B");
  json_decref(p);
}

static void test_hand_written_profile(void **state) {
  (void)state;
  json_error_t je;
  json_t *hand = json_loads("{\"format\": \"doppel-profile/1\", \"events\": {\"list\": ["
                            "{\"name\": \"view\", \"share\": 0.6}, {\"name\": \"click\", \"share\": 0.3},"
                            "{\"name\": \"buy\", \"share\": 0.1}]},"
                            "\"population\": {\"events_per_user\": {\"mean\": 8, \"sd\": 3}},"
                            "\"sessions\": {\"inter_event_s\": {\"min\": 0, \"max\": 600}},"
                            "\"properties\": [{\"event\": \"*\", \"path\": \"properties.plan\", \"values\": {\"top\": ["
                            "{\"value\": \"free\", \"share\": 0.7}, {\"value\": \"pro\", \"share\": 0.3}]}}]}",
                            0, &je);
  assert_non_null(hand);
  char base[1024];
  snprintf(base, sizeof base, "%s/fixtures/compare/base.jsonl", DOPPEL_SOURCE_DIR);
  json_t *p = profile_of(base), *r = NULL;
  assert_int_equal(doppel_compare_profiles(p, hand, NULL, &r, NULL), DOPPEL_OK);
  assert_true(json_is_true(json_object_get(dim(r, "event_mix"), "available")));
  assert_true(dnum(dim(r, "event_mix"), "distance") < 0.1);
  assert_true(json_is_true(json_object_get(dim(r, "events_per_user"), "available")));
  assert_true(json_is_true(json_object_get(dim(r, "inter_event_gaps"), "available")));
  /* the "*" entry stands for every event */
  assert_true(json_is_true(json_object_get(dim(r, "property_marginals"), "available")));
  assert_false(json_is_true(json_object_get(dim(r, "hour_of_week"), "available")));
  assert_string_equal(json_string_value(json_object_get(dim(r, "hour_of_week"), "reason")),
                      "no hour-of-week shares in B");
  assert_false(json_is_true(json_object_get(dim(r, "retention"), "available")));
  assert_true(isfinite(doppel_compare_report_score(r)));
  json_decref(r);
  /* names listed twice, the first without "next": each counts once, at its
   * first usable entry on both sides, so a profile against itself is 0 */
  json_t *dup = json_loads("{\"format\": \"doppel-profile/1\", \"events\": {\"list\": ["
                           "{\"name\": \"buy\", \"count\": 90},"
                           "{\"name\": \"buy\", \"count\": 90, \"next\": {\"buy\": 0.2, \"$end\": 0.8}},"
                           "{\"name\": \"buy\", \"count\": 90, \"next\": {\"$end\": 1}}]},"
                           "\"properties\": [{\"event\": \"buy\", \"path\": \"p\", \"values\": {\"top\": []}},"
                           "{\"event\": \"buy\", \"path\": \"p\", \"values\": {\"top\": [{\"value\": 1, \"share\": 1}]}}]}",
                           0, &je);
  assert_non_null(dup);
  assert_int_equal(doppel_compare_profiles(dup, dup, NULL, &r, NULL), DOPPEL_OK);
  assert_float_equal(dnum(dim(r, "transitions"), "distance"), 0, 0);
  assert_float_equal(dnum(dim(r, "event_mix"), "distance"), 0, 0);
  json_decref(r);
  json_decref(dup);
  /* a JSON value that is not an object */
  json_t *arr = json_array();
  assert_int_equal(doppel_compare_profiles(p, arr, NULL, &r, NULL), DOPPEL_E_DATA);
  json_decref(arr);
  /* an empty object: nothing comparable, no score */
  json_t *empty = json_object();
  assert_int_equal(doppel_compare_profiles(p, empty, NULL, &r, NULL), DOPPEL_OK);
  assert_true(isnan(doppel_compare_report_score(r)));
  json_decref(r);
  json_decref(empty);
  json_decref(hand);
  json_decref(p);
}

static void test_tolerances(void **state) {
  (void)state;
  doppel_compare_tolerances t;
  doppel_compare_tolerances_default(&t);
  assert_float_equal(t.max_distance[DOPPEL_COMPARE_EVENT_MIX], 0.03, 0);
  assert_float_equal(t.max_distance[DOPPEL_COMPARE_RETENTION], 0.03, 0);
  assert_float_equal(t.max_distance[DOPPEL_COMPARE_INTER_EVENT_GAPS], 0.05, 0);
  assert_string_equal(doppel_compare_dim_key(DOPPEL_COMPARE_SESSION_FIRST), "session_first_event");
  assert_null(doppel_compare_dim_key(DOPPEL_COMPARE_DIM_COUNT));
  json_t *j = json_pack("{s:f,s:f}", "event_mix", 0.5, "hour_of_week", 0.2);
  doppel_diag d;
  assert_int_equal(doppel_compare_tolerances_from_json(&t, j, &d), DOPPEL_OK);
  assert_float_equal(t.max_distance[DOPPEL_COMPARE_EVENT_MIX], 0.5, 0);
  assert_float_equal(t.max_distance[DOPPEL_COMPARE_HOUR_OF_WEEK], 0.2, 0);
  json_decref(j);
  j = json_pack("{s:f}", "event_mixx", 0.5);
  assert_int_equal(doppel_compare_tolerances_from_json(&t, j, &d), DOPPEL_E_USAGE);
  assert_string_equal(d.text, "unknown dimension 'event_mixx' in the tolerances (expected event_mix, events_per_user, ...)");
  json_decref(j);
  j = json_pack("{s:f}", "retention", 1.5);
  assert_int_equal(doppel_compare_tolerances_from_json(&t, j, &d), DOPPEL_E_USAGE);
  assert_string_equal(d.text, "tolerance of retention must be a number from 0 to 1");
  assert_float_equal(t.max_distance[DOPPEL_COMPARE_RETENTION], 0.03, 0);
  json_decref(j);
  /* a tolerance decides pass */
  char base[1024], shifted[1024];
  snprintf(base, sizeof base, "%s/fixtures/compare/base.jsonl", DOPPEL_SOURCE_DIR);
  snprintf(shifted, sizeof shifted, "%s/fixtures/compare/shifted.jsonl", DOPPEL_SOURCE_DIR);
  json_t *pa = profile_of(base), *pb = profile_of(shifted), *r = NULL;
  doppel_compare_tolerances_default(&t);
  t.max_distance[DOPPEL_COMPARE_EVENT_MIX] = 1;
  doppel_compare_params cp;
  memset(&cp, 0, sizeof cp);
  cp.tolerances = &t;
  assert_int_equal(doppel_compare_profiles(pa, pb, &cp, &r, NULL), DOPPEL_OK);
  assert_true(json_is_true(json_object_get(dim(r, "event_mix"), "pass")));
  assert_false(json_is_true(json_object_get(dim(r, "hour_of_week"), "pass")));
  assert_false(json_is_true(json_object_get(json_object_get(r, "overall"), "pass")));
  json_decref(r);
  json_decref(pa);
  json_decref(pb);
}

/* A privacy section as the dataset pass writes it, with one field path. */
static json_t *privacy_with_path(const char *path) {
  return json_pack("{s:b,s:i,s:{s:i,s:i,s:f,s:i,s:[{s:s,s:i}]},s:{s:i,s:i,s:f,s:i,s:[]},"
                   "s:{s:i,s:i,s:i,s:i,s:i,s:f,s:f,s:f}}",
                   "checked", 1, "k", 10,
                   "identifiers", "found", 1, "a_values", 4, "share", 0.25, "b_occurrences", 2, "fields", "path", path,
                   "occurrences", 2,
                   "rare_values", "found", 0, "a_values", 3, "share", 0.0, "b_occurrences", 0, "fields",
                   "sequences", "min_events", 5, "copied", 0, "copied_rare", 0, "b_users", 9, "b_eligible", 8,
                   "share", 0.0, "share_of_all", 0.0, "a_shared_share", 0.1);
}

static void test_html_escaped(void **state) {
  (void)state;
  char base[1024];
  snprintf(base, sizeof base, "%s/fixtures/compare/base.jsonl", DOPPEL_SOURCE_DIR);
  json_t *p = profile_of(base), *r = NULL;
  doppel_compare_params cp;
  memset(&cp, 0, sizeof cp);
  /* hostile file names: markup, quotes, a control character, a right-to-left override */
  cp.name_a = "<script>alert('x')</script>";
  cp.name_b = "b&\"c\"\x1b[2J\xe2\x80\xaegpj.exe";
  assert_int_equal(doppel_compare_profiles(p, p, &cp, &r, NULL), DOPPEL_OK);
  char *html = doppel_compare_format_html(r), *again = doppel_compare_format_html(r);
  assert_non_null(html);
  assert_non_null(again);
  assert_string_equal(html, again); /* deterministic */
  assert_well_formed(html);
  assert_self_contained(html, 0);
  assert_null(strstr(html, "<script"));
  assert_non_null(strstr(html, "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"));
  assert_non_null(strstr(html, "b&amp;&quot;c&quot;\xe2\x90\x9b[2J\xef\xbf\xbdgpj.exe")); /* ESC shown as a picture, RLO as U+FFFD */
  assert_non_null(strstr(html, "<p class=\"kicker\">doppel compare</p>"));
  assert_non_null(strstr(html, "<h1>Fidelity of B against A</h1>"));
  /* every section, in the table of contents too */
  static const char *const ids[] = {"overview", "dimensions", "differences", "privacy"};
  for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
    char want[64];
    snprintf(want, sizeof want, "<section id=\"%s\">", ids[i]);
    assert_non_null(strstr(html, want));
    snprintf(want, sizeof want, "<a href=\"#%s\">", ids[i]);
    assert_non_null(strstr(html, want));
  }
  /* the overall score, a dimension row with its gauge and pass badge, the notes */
  assert_non_null(strstr(html, "<div class=\"l\">Overall score</div><div class=\"v\">1.0000</div>"));
  assert_non_null(strstr(html, "<tr><td>event mix</td><td>TVD</td><td class=\"num\">0.0000</td><td class=\"num\">0.0300</td>"
                               "<td><span class=\"gauge g-ok\" role=\"img\" title=\"distance 0.0000, tolerance 0.0300, "
                               "noise floor "));
  assert_non_null(strstr(html, "<span class=\"badge b-ok\">yes</span>"));
  assert_non_null(strstr(html, "<dt>Noise floor</dt><dd>analytic (independent events assumed"));
  assert_non_null(strstr(html, "Bars: the distance on a scale of twice the tolerance"));
  assert_non_null(strstr(html, "<span class=\"badge b-muted\">not checked</span>")); /* two profiles: no privacy pass */
  assert_non_null(strstr(html, "</html>\n"));
  free(html);
  free(again);

  /* a hostile field path in the privacy section */
  json_object_set_new(r, "privacy", privacy_with_path("properties.<img src=x onerror=alert(1)>\xe2\x80\xae"));
  html = doppel_compare_format_html(r);
  assert_non_null(html);
  assert_well_formed(html);
  assert_self_contained(html, 0);
  assert_null(strstr(html, "<img"));
  assert_non_null(strstr(html, "2 occurrences in <code>properties.&lt;img src=x onerror=alert(1)&gt;\xef\xbf\xbd</code> (2)"));
  assert_non_null(strstr(html, "<td class=\"num\">25.00%</td>"));
  assert_non_null(strstr(html, "Chance level: 10.00% of A&#39;s own users"));
  free(html);
  json_decref(r);
  json_decref(p);
}

/* ---- the CLI gate ---- */

static void test_cli_min_score(void **state) {
  (void)state;
  char args[2048];
  snprintf(args, sizeof args, "compare %s/fixtures/compare/base.jsonl %s/fixtures/compare/shifted.jsonl --min-score 0.95",
           DOPPEL_SOURCE_DIR, DOPPEL_SOURCE_DIR);
  tu_run r = tu_cli(tmp, args, NULL);
  assert_int_equal(r.status, 1);
  assert_non_null(strstr(r.out, "overall"));
  assert_non_null(strstr(r.err, "is below --min-score 0.95"));
  tu_run_free(&r);
  snprintf(args, sizeof args, "compare %s/fixtures/compare/base.jsonl %s/fixtures/compare/shifted.jsonl --min-score 0.5 -q",
           DOPPEL_SOURCE_DIR, DOPPEL_SOURCE_DIR);
  r = tu_cli(tmp, args, NULL);
  assert_int_equal(r.status, 0);
  assert_int_equal(r.out_len, 0);
  tu_run_free(&r);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_tvd_known),
      cmocka_unit_test(test_ks_known),
      cmocka_unit_test(test_expected_ks_matches_simulation),
      cmocka_unit_test(test_expected_tvd_matches_simulation),
      cmocka_unit_test(test_identical_profiles),
      cmocka_unit_test(test_self_compare_at_least_floor),
      cmocka_unit_test(test_shift_event_mix),
      cmocka_unit_test(test_shift_hours),
      cmocka_unit_test(test_real_halves_nasa),
      cmocka_unit_test(test_real_halves_rails),
      cmocka_unit_test(test_privacy_planted_and_disjoint),
      cmocka_unit_test(test_privacy_csv_fixtures),
      cmocka_unit_test(test_inputs_told_apart),
      cmocka_unit_test(test_hand_written_profile),
      cmocka_unit_test(test_tolerances),
      cmocka_unit_test(test_html_escaped),
      cmocka_unit_test(test_cli_min_score),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
