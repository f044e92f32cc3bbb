/*
 * stats.c — the distances and noise floors of `doppel compare`: total
 * variation distance, the Kolmogorov–Smirnov distance between two
 * distributions known by their 101 percentiles (atoms and integer step CDFs
 * handled, see compare.h), the normal-approximation expected TVD of two
 * multinomial samples, and the deterministic simulations (PCG64, fixed
 * seed) behind the expected KS and the expected maximum of several
 * independent differences.
 */
#include "compare/compare_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <threads.h>

#define NQ DOPPEL_COMPARE_NQ

/* ---- TVD ---- */

/* Largest positive weight of a and b (0 when none): weights are scaled by
 * it first, so sums cannot overflow. */
static double max_weight(const double *a, const double *b, size_t n) {
  double m = 0;
  for (size_t i = 0; i < n; i++) {
    if (a[i] > m) m = a[i];
    if (b && b[i] > m) m = b[i];
  }
  return isfinite(m) ? m : 0;
}

double doppel_compare_tvd(const double *p, const double *q, size_t n) {
  double m = max_weight(p, q, n), sp = 0, sq = 0;
  if (m <= 0) return 0;
  for (size_t i = 0; i < n; i++) {
    sp += p[i] > 0 ? p[i] / m : 0;
    sq += q[i] > 0 ? q[i] / m : 0;
  }
  if (sp <= 0 && sq <= 0) return 0;
  if (sp <= 0 || sq <= 0) return 1;
  double d = 0;
  for (size_t i = 0; i < n; i++) {
    double a = p[i] > 0 ? p[i] / m / sp : 0, b = q[i] > 0 ? q[i] / m / sq : 0;
    d += fabs(a - b);
  }
  d *= 0.5;
  return d > 1 ? 1 : d;
}

double doppel_compare_expected_tvd(const double *p, size_t n, double na, double nb) {
  if (!(na > 0) || !(nb > 0)) return 0;
  double m = max_weight(p, NULL, n), s = 0;
  if (m <= 0) return 0;
  for (size_t i = 0; i < n; i++) s += p[i] > 0 ? p[i] / m : 0;
  double inv = 1 / na + 1 / nb, e = 0;
  for (size_t i = 0; i < n; i++) {
    double pi = p[i] > 0 ? p[i] / m / s : 0;
    double t = sqrt(2 / M_PI) * sqrt(pi * (1 - pi) * inv);
    e += t < 2 * pi ? t : 2 * pi;
  }
  e *= 0.5;
  return e > 1 ? 1 : e;
}

/* ---- KS from percentiles ---- */

/* num / den in [0, 1] (den > 0; 1/2 when the difference overflowed). */
static double frac(double num, double den) {
  double f = num / den;
  if (!isfinite(f)) return 0.5;
  return f < 0 ? 0 : f > 1 ? 1 : f;
}

/* F(x), right-continuous: 0 below q[0], 1 from q[100], i/100 at the last
 * index of a run of equal percentiles, linear between distinct ones. */
static double cdf_at(const double *q, double x) {
  if (x < q[0]) return 0;
  if (x >= q[NQ - 1]) return 1;
  int lo = 0, hi = NQ - 1; /* q[lo] <= x < q[hi] */
  while (hi - lo > 1) {
    int mid = (lo + hi) / 2;
    if (q[mid] <= x) lo = mid;
    else hi = mid;
  }
  if (q[lo] == x) return lo / 100.0;
  return (lo + frac(x - q[lo], q[hi] - q[lo])) / 100.0;
}

/* F(x-), the left limit. */
static double cdf_left(const double *q, double x) {
  if (x <= q[0]) return 0;
  if (x > q[NQ - 1]) return 1;
  int lo = 0, hi = NQ - 1; /* q[lo] < x <= q[hi] */
  while (hi - lo > 1) {
    int mid = (lo + hi) / 2;
    if (q[mid] < x) lo = mid;
    else hi = mid;
  }
  return (lo + frac(x - q[lo], q[hi] - q[lo])) / 100.0;
}

/* Non-decreasing, finite copy (integer: rounded); 0 when q has a
 * non-finite value. */
static int clean(const double *q, double *out, int integer) {
  for (int i = 0; i < NQ; i++) {
    if (!isfinite(q[i])) return 0;
    double v = integer ? floor(q[i] + 0.5) : q[i];
    out[i] = i && v < out[i - 1] ? out[i - 1] : v;
  }
  return 1;
}

double doppel_compare_ks(const double qa[NQ], const double qb[NQ], int integer) {
  double a[NQ], b[NQ];
  if (!clean(qa, a, integer) || !clean(qb, b, integer)) return 1;
  double d = 0;
  for (int side = 0; side < 2; side++) {
    const double *src = side ? b : a;
    for (int i = 0; i < NQ; i++) {
      double x = src[i], e;
      if (i && x == src[i - 1]) continue;
      if (integer) {
        /* step CDFs at whole numbers: at the breakpoint and at the last
         * whole number before it (the end of the previous linear piece) */
        e = fabs(cdf_at(a, x) - cdf_at(b, x));
        if (e > d) d = e;
        e = fabs(cdf_at(a, x - 1) - cdf_at(b, x - 1));
      } else {
        e = fabs(cdf_at(a, x) - cdf_at(b, x));
        if (e > d) d = e;
        e = fabs(cdf_left(a, x) - cdf_left(b, x));
      }
      if (e > d) d = e;
    }
  }
  return d > 1 ? 1 : d;
}

/* ---- simulation ---- */

double dp_cmp_normal(doppel_pcg64 *g) {
  double u1 = 1.0 - doppel_pcg64_double(g); /* (0, 1] */
  double u2 = doppel_pcg64_double(g);
  return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

static void fill_bank(double *bank, doppel_pcg64 *g) {
  const double step = sqrt(1.0 / (DP_CMP_GRID - 1));
  for (size_t r = 0; r < DP_CMP_SIM_REPS; r++) {
    double *w = bank + r * DP_CMP_GRID;
    w[0] = 0;
    for (int j = 1; j < DP_CMP_GRID; j++) w[j] = w[j - 1] + step * dp_cmp_normal(g);
    double end = w[DP_CMP_GRID - 1];
    for (int j = 0; j < DP_CMP_GRID; j++) w[j] -= end * j / (double)(DP_CMP_GRID - 1);
  }
}

/* The banks are the same for every run (fixed seed), so they are drawn
 * once per process, thread-safely, into static storage. */
static double banks[2][DP_CMP_SIM_REPS * DP_CMP_GRID];
static once_flag banks_once = ONCE_FLAG_INIT;

static void banks_init(void) {
  doppel_pcg64 g;
  doppel_pcg64_seed(&g, 0x646f7070656c2f63ULL, 0x6f6d706172652f31ULL, 0, 1); /* "doppel/compare/1" */
  fill_bank(banks[0], &g);
  fill_bank(banks[1], &g);
}

doppel_status dp_cmp_sim_init(dp_cmp_sim *s) {
  call_once(&banks_once, banks_init);
  s->bank_a = banks[0];
  s->bank_b = banks[1];
  doppel_pcg64_seed(&s->rng, 0x646f7070656c2f63ULL, 0x6f6d706172652f31ULL, 0, 2);
  return DOPPEL_OK;
}

void dp_cmp_sim_release(dp_cmp_sim *s) { s->bank_a = s->bank_b = NULL; }

/* The level the percentiles report for a true CDF value x at an atom: the
 * last index i with i/100 < x, i.e. (ceil(100 x) - 1) / 100, in [0, 1]. */
static double quantize(double x) {
  double v = (ceil(100.0 * x - 1e-9) - 1.0) / 100.0;
  return v < 0 ? 0 : v > 1 ? 1 : v;
}

double dp_cmp_sim_ks(const dp_cmp_sim *s, const double *qin, double na, double nb) {
  if (!(na > 0) || !(nb > 0)) return 0;
  double q[NQ];
  if (!clean(qin, q, 0)) return 0;
  /* the levels where F is read: the end of every run of equal percentiles;
   * a run of two or more is an atom, read to 0.01 */
  int grid[NQ], atom[NQ], m = 0;
  for (int i = 0; i < NQ;) {
    int e = i;
    while (e + 1 < NQ && q[e + 1] == q[i]) e++;
    if (e < NQ - 1) {
      int is_atom = e > i;
      if (is_atom || e > 0) {
        grid[m] = is_atom ? 2 * e + 1 : 2 * e;
        atom[m] = is_atom;
        m++;
      }
    }
    i = e + 1;
  }
  if (m == 0) return 0;
  double sa = 1 / sqrt(na), sb = 1 / sqrt(nb), sum = 0;
  for (size_t r = 0; r < DP_CMP_SIM_REPS; r++) {
    const double *wa = s->bank_a + r * DP_CMP_GRID, *wb = s->bank_b + r * DP_CMP_GRID;
    double mx = 0;
    for (int j = 0; j < m; j++) {
      int g = grid[j];
      double d;
      if (atom[j]) {
        double t = g / (double)(DP_CMP_GRID - 1);
        d = fabs(quantize(t + sa * wa[g]) - quantize(t + sb * wb[g]));
      } else {
        d = fabs(sa * wa[g] - sb * wb[g]);
      }
      if (d > mx) mx = d;
    }
    sum += mx > 1 ? 1 : mx;
  }
  return sum / DP_CMP_SIM_REPS;
}

double dp_cmp_sim_max_abs(dp_cmp_sim *s, const double *sigma, size_t m) {
  if (m == 0) return 0;
  double sum = 0;
  for (size_t r = 0; r < DP_CMP_SIM_REPS; r++) {
    double mx = 0;
    for (size_t j = 0; j < m; j++) {
      double d = fabs(sigma[j] * dp_cmp_normal(&s->rng));
      if (d > mx) mx = d;
    }
    sum += mx > 1 ? 1 : mx;
  }
  return sum / DP_CMP_SIM_REPS;
}

double doppel_compare_expected_ks(const double q[NQ], double na, double nb) {
  dp_cmp_sim s;
  dp_cmp_sim_init(&s);
  double e = dp_cmp_sim_ks(&s, q, na, nb);
  dp_cmp_sim_release(&s);
  return e;
}
