/*
 * ddsketch.c — DDSketch quantiles (Masson, Rim, Lee, VLDB 2019; see
 * sketch.h): logarithmic bucket mapping with relative accuracy alpha,
 * positive and negative stores of dense counts plus a zero count, a bound on
 * each store's index span enforced by collapsing the lowest buckets into
 * bucket (highest index − bound + 1), an exact sum (xsum.c), merge, and the
 * sparse JSON state (offset + counts per store).
 *
 * Collapsing relative to the highest index makes a store's state a function
 * of the multiset of indices added: an index i is counted at max(i, F) with
 * F = H − B + 1, and later folds only raise F. Streaming adds and merges in
 * any order or grouping therefore reach identical states.
 */
#include "sketch/sketch_int.h"

#include <float.h>
#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/diag.h"

typedef struct dp_dds_store {
  uint64_t *counts;  /* counts[j] = count of bucket lo + j; NULL until the first value */
  int64_t lo;        /* bucket index of counts[0] */
  uint32_t cap;      /* allocated length of counts (<= the sketch's max_buckets) */
  int64_t min;       /* lowest bucket index with a nonzero count (valid when total > 0) */
  int64_t max;       /* highest bucket index with a nonzero count (valid when total > 0) */
  uint64_t total;    /* sum of the counts */
  int collapsed;     /* 1 once buckets below max - max_buckets + 1 were folded into it */
} dp_dds_store;

struct doppel_ddsketch {
  double alpha;           /* relative accuracy */
  double gamma;           /* bucket growth factor (1 + alpha) / (1 - alpha) */
  double log_gamma;       /* ln(gamma) */
  double inv_log_gamma;   /* 1 / ln(gamma) */
  double rep_scale;       /* ln(2 / (gamma + 1)): bucket i reports exp(i ln gamma + rep_scale) */
  uint32_t max_buckets;   /* bound on each store's index span */
  int64_t idx_lo;         /* bucket index of DBL_MIN, the lowest possible */
  int64_t idx_hi;         /* bucket index of DBL_MAX, the highest possible */
  uint64_t count;         /* number of values added (<= INT64_MAX) */
  uint64_t zero;          /* values with magnitude below DBL_MIN */
  dp_xsum sum;            /* exact sum of the values */
  dp_dds_store pos;       /* buckets of positive values */
  dp_dds_store neg;       /* buckets of negative values, by magnitude */
};

static int64_t bucket_index(const doppel_ddsketch *s, double a) {
  return (int64_t)ceil(log(a) * s->inv_log_gamma);
}

static double bucket_value(const doppel_ddsketch *s, int64_t i) {
  double v = exp((double)i * s->log_gamma + s->rep_scale);
  return v > DBL_MAX ? DBL_MAX : v;
}

static int params_ok(double alpha, uint32_t b) {
  return alpha >= DOPPEL_DDSKETCH_ALPHA_MIN && alpha <= DOPPEL_DDSKETCH_ALPHA_MAX &&
         b >= DOPPEL_DDSKETCH_BUCKETS_MIN && b <= DOPPEL_DDSKETCH_BUCKETS_MAX;
}

doppel_status doppel_ddsketch_new(doppel_ddsketch **out, double alpha, uint32_t max_buckets,
                                  doppel_diag *diag) {
  if (!out) return dp_diag_set(diag, DOPPEL_E_USAGE, NULL, 0, 0, "ddsketch: NULL output pointer");
  *out = NULL;
  if (alpha == 0.0) alpha = DOPPEL_DDSKETCH_ALPHA_DEFAULT;
  if (max_buckets == 0) max_buckets = DOPPEL_DDSKETCH_BUCKETS_DEFAULT;
  if (!params_ok(alpha, max_buckets))
    return dp_diag_set(diag, DOPPEL_E_USAGE, NULL, 0, 0,
                       "ddsketch: alpha must be in [%g, %g] and max_buckets in [%d, %d]",
                       DOPPEL_DDSKETCH_ALPHA_MIN, DOPPEL_DDSKETCH_ALPHA_MAX,
                       DOPPEL_DDSKETCH_BUCKETS_MIN, DOPPEL_DDSKETCH_BUCKETS_MAX);
  doppel_ddsketch *s = calloc(1, sizeof *s);
  if (!s) return dp_diag_set(diag, DOPPEL_E_NOMEM, NULL, 0, 0, "ddsketch: out of memory");
  s->alpha = alpha;
  s->gamma = (1.0 + alpha) / (1.0 - alpha);
  s->log_gamma = log(s->gamma);
  s->inv_log_gamma = 1.0 / s->log_gamma;
  s->rep_scale = log(2.0 / (s->gamma + 1.0));
  s->max_buckets = max_buckets;
  s->idx_lo = bucket_index(s, DBL_MIN);
  s->idx_hi = bucket_index(s, DBL_MAX);
  *out = s;
  return DOPPEL_OK;
}

void doppel_ddsketch_free(doppel_ddsketch *s) {
  if (!s) return;
  free(s->pos.counts);
  free(s->neg.counts);
  free(s);
}

double doppel_ddsketch_alpha(const doppel_ddsketch *s) { return s->alpha; }
uint32_t doppel_ddsketch_max_buckets(const doppel_ddsketch *s) { return s->max_buckets; }

/* Count n at index idx, collapsing to the bound b. Unchanged on failure. */
static doppel_status store_insert(dp_dds_store *st, int64_t idx, uint64_t n, uint32_t b) {
  if (st->total && idx >= st->min && idx <= st->max) {
    st->counts[idx - st->lo] += n;
    st->total += n;
    return DOPPEL_OK;
  }
  int64_t nmin = st->total && st->min < idx ? st->min : idx;
  int64_t nmax = st->total && st->max > idx ? st->max : idx;
  int64_t f = nmax - (int64_t)b + 1; /* lowest bucket kept */
  int fold = nmin < f;
  if (fold) nmin = f;
  if (idx < f) idx = f;
  if (!st->counts || nmin < st->lo || nmax >= st->lo + (int64_t)st->cap) {
    uint32_t need = (uint32_t)(nmax - nmin + 1);
    uint32_t ncap = st->cap ? st->cap * 2 : 64;
    if (ncap < need) ncap = need;
    if (ncap > b) ncap = b;
    int64_t nlo = (st->counts && nmin < st->lo) ? nmax - (int64_t)ncap + 1 : nmin;
    uint64_t *nc = calloc(ncap, sizeof *nc);
    if (!nc) return DOPPEL_E_NOMEM;
    if (st->total)
      for (int64_t j = st->min; j <= st->max; j++) {
        int64_t t = j < f ? f : j;
        nc[t - nlo] += st->counts[j - st->lo];
      }
    free(st->counts);
    st->counts = nc;
    st->lo = nlo;
    st->cap = ncap;
  } else if (fold && st->total) {
    uint64_t acc = 0;
    for (int64_t j = st->min; j < f && j <= st->max; j++) {
      acc += st->counts[j - st->lo];
      st->counts[j - st->lo] = 0;
    }
    st->counts[f - st->lo] += acc;
  }
  if (fold) st->collapsed = 1;
  st->counts[idx - st->lo] += n;
  st->total += n;
  st->min = nmin;
  st->max = nmax;
  return DOPPEL_OK;
}

/* Bucket indexes of the integers 1..SMALL_INTS-1 at the default alpha,
 * computed once with the same expression as bucket_index(): small counts
 * and lengths are the common case and skip the logarithm. */
#define SMALL_INTS 1024
static int64_t small_idx[SMALL_INTS];
static pthread_once_t small_once = PTHREAD_ONCE_INIT;
static double small_inv_log_gamma;

static void small_init(void) {
  double gamma = (1 + DOPPEL_DDSKETCH_ALPHA_DEFAULT) / (1 - DOPPEL_DDSKETCH_ALPHA_DEFAULT);
  small_inv_log_gamma = 1.0 / log(gamma);
  for (int v = 1; v < SMALL_INTS; v++) small_idx[v] = (int64_t)ceil(log((double)v) * small_inv_log_gamma);
}

doppel_status doppel_ddsketch_add(doppel_ddsketch *s, double value) {
  if (!isfinite(value)) return DOPPEL_E_DATA;
  if (s->count >= (uint64_t)INT64_MAX) return DOPPEL_E_LIMIT;
  double a = fabs(value);
  if (a < DBL_MIN) {
    s->zero++;
  } else {
    int64_t idx;
    if (a < SMALL_INTS && a == (double)(int)a) {
      pthread_once(&small_once, small_init);
      idx = s->inv_log_gamma == small_inv_log_gamma ? small_idx[(int)a] : bucket_index(s, a);
    } else {
      idx = bucket_index(s, a);
    }
    if (idx < s->idx_lo) idx = s->idx_lo;
    if (idx > s->idx_hi) idx = s->idx_hi;
    doppel_status st = store_insert(value > 0 ? &s->pos : &s->neg, idx, 1, s->max_buckets);
    if (st) return st;
  }
  s->count++;
  dp_xsum_add_double(&s->sum, value);
  return DOPPEL_OK;
}

/* dst ∪ src under bound b into a fresh array; dst unchanged on failure. */
static doppel_status store_merge(dp_dds_store *dst, const dp_dds_store *src, uint32_t b) {
  if (!dst->total && !src->total) return DOPPEL_OK;
  int64_t nmin = INT64_MAX, nmax = INT64_MIN;
  const dp_dds_store *in[2] = {dst, src};
  for (int k = 0; k < 2; k++) {
    if (!in[k]->total) continue;
    if (in[k]->min < nmin) nmin = in[k]->min;
    if (in[k]->max > nmax) nmax = in[k]->max;
  }
  int64_t f = nmax - (int64_t)b + 1;
  int fold = nmin < f;
  if (fold) nmin = f;
  uint32_t ncap = (uint32_t)(nmax - nmin + 1);
  uint64_t *nc = calloc(ncap, sizeof *nc);
  if (!nc) return DOPPEL_E_NOMEM;
  for (int k = 0; k < 2; k++) {
    if (!in[k]->total) continue;
    for (int64_t j = in[k]->min; j <= in[k]->max; j++) {
      int64_t t = j < f ? f : j;
      nc[t - nmin] += in[k]->counts[j - in[k]->lo];
    }
  }
  free(dst->counts);
  dst->counts = nc;
  dst->lo = nmin;
  dst->cap = ncap;
  dst->min = nmin;
  dst->max = nmax;
  dst->total += src->total;
  dst->collapsed = dst->collapsed || src->collapsed || fold;
  return DOPPEL_OK;
}

doppel_status doppel_ddsketch_merge(doppel_ddsketch *dst, const doppel_ddsketch *src,
                                    doppel_diag *diag) {
  if (!dst || !src)
    return dp_diag_set(diag, DOPPEL_E_USAGE, NULL, 0, 0, "ddsketch merge: NULL sketch");
  if (dst->alpha != src->alpha)
    return dp_diag_set(diag, DOPPEL_E_USAGE, NULL, 0, 0,
                       "ddsketch merge: relative accuracies differ (%g and %g)", dst->alpha,
                       src->alpha);
  if (src->count > (uint64_t)INT64_MAX - dst->count)
    return dp_diag_set(diag, DOPPEL_E_LIMIT, NULL, 0, 0, "ddsketch merge: count exceeds 2^63-1");
  uint32_t b = dst->max_buckets < src->max_buckets ? dst->max_buckets : src->max_buckets;
  /* merge each store into a copy first so a failure leaves dst unchanged */
  dp_dds_store np = dst->pos, nn = dst->neg;
  np.counts = NULL;
  nn.counts = NULL;
  np.total = nn.total = 0;
  np.collapsed = nn.collapsed = 0;
  doppel_status st = store_merge(&np, &dst->pos, b);
  if (!st) st = store_merge(&np, &src->pos, b);
  if (!st) st = store_merge(&nn, &dst->neg, b);
  if (!st) st = store_merge(&nn, &src->neg, b);
  if (st) {
    free(np.counts);
    free(nn.counts);
    return dp_diag_set(diag, DOPPEL_E_NOMEM, NULL, 0, 0, "ddsketch merge: out of memory");
  }
  free(dst->pos.counts);
  free(dst->neg.counts);
  dst->pos = np;
  dst->neg = nn;
  dst->max_buckets = b;
  dst->count += src->count;
  dst->zero += src->zero;
  dp_xsum_add(&dst->sum, &src->sum);
  return DOPPEL_OK;
}

doppel_status doppel_ddsketch_quantile(const doppel_ddsketch *s, double q, double *out,
                                       doppel_diag *diag) {
  if (!s || !out) return dp_diag_set(diag, DOPPEL_E_USAGE, NULL, 0, 0, "ddsketch: NULL argument");
  if (!(q >= 0.0 && q <= 1.0))
    return dp_diag_set(diag, DOPPEL_E_USAGE, NULL, 0, 0, "ddsketch: quantile must be in [0, 1]");
  if (!s->count) return dp_diag_set(diag, DOPPEL_E_DATA, NULL, 0, 0, "ddsketch: empty sketch");
  double r = floor(q * (double)(s->count - 1));
  uint64_t rank = r >= (double)(s->count - 1) ? s->count - 1 : (uint64_t)r;
  uint64_t cum = 0;
  const dp_dds_store *n = &s->neg, *p = &s->pos;
  if (n->total)
    for (int64_t j = n->max; j >= n->min; j--) {
      cum += n->counts[j - n->lo];
      if (cum > rank) {
        *out = -bucket_value(s, j);
        return DOPPEL_OK;
      }
    }
  cum += s->zero;
  if (cum > rank) {
    *out = 0.0;
    return DOPPEL_OK;
  }
  if (p->total)
    for (int64_t j = p->min; j <= p->max; j++) {
      cum += p->counts[j - p->lo];
      if (cum > rank) {
        *out = bucket_value(s, j);
        return DOPPEL_OK;
      }
    }
  return dp_diag_set(diag, DOPPEL_E_INTERNAL, NULL, 0, 0, "ddsketch: counts do not add up");
}

uint64_t doppel_ddsketch_count(const doppel_ddsketch *s) { return s->count; }
double doppel_ddsketch_sum(const doppel_ddsketch *s) { return dp_xsum_value(&s->sum, 1); }
double doppel_ddsketch_mean(const doppel_ddsketch *s) {
  return s->count ? dp_xsum_value(&s->sum, s->count) : NAN;
}
int doppel_ddsketch_collapsed(const doppel_ddsketch *s) {
  return s->pos.collapsed || s->neg.collapsed;
}

/* ---- serialization ---- */

static json_t *store_to_json(const dp_dds_store *st) {
  json_t *o = json_object();
  json_t *a = json_array();
  if (!o || !a) goto fail;
  if (st->total)
    for (int64_t j = st->min; j <= st->max; j++)
      if (json_array_append_new(a, json_integer((json_int_t)st->counts[j - st->lo]))) goto fail;
  if (!dp_sketch_set(o, "offset", json_integer(st->total ? (json_int_t)st->min : 0)) ||
      !dp_sketch_set(o, "counts", a) || !dp_sketch_set(o, "collapsed", json_boolean(st->collapsed)))
    goto fail_a;
  return o;
fail:
  json_decref(a);
fail_a:
  json_decref(o);
  return NULL;
}

doppel_status doppel_ddsketch_to_json(const doppel_ddsketch *s, json_t **out, doppel_diag *diag) {
  if (!s || !out) return dp_diag_set(diag, DOPPEL_E_USAGE, NULL, 0, 0, "ddsketch: NULL argument");
  *out = NULL;
  char sum[DP_XSUM_TEXT_MAX];
  dp_xsum_format(&s->sum, sum);
  json_t *o = json_object();
  if (!o || !dp_sketch_set(o, "type", json_string("ddsketch")) ||
      !dp_sketch_set(o, "version", json_integer(1)) ||
      !dp_sketch_set(o, "alpha", json_real(s->alpha)) ||
      !dp_sketch_set(o, "max_buckets", json_integer(s->max_buckets)) ||
      !dp_sketch_set(o, "count", json_integer((json_int_t)s->count)) ||
      !dp_sketch_set(o, "sum", json_string(sum)) ||
      !dp_sketch_set(o, "zero", json_integer((json_int_t)s->zero)) ||
      !dp_sketch_set(o, "positive", store_to_json(&s->pos)) ||
      !dp_sketch_set(o, "negative", store_to_json(&s->neg))) {
    json_decref(o);
    return dp_diag_set(diag, DOPPEL_E_NOMEM, NULL, 0, 0, "ddsketch: out of memory");
  }
  *out = o;
  return DOPPEL_OK;
}

#define DDS_ERR(...) dp_diag_set(diag, DOPPEL_E_DATA, NULL, 0, 0, __VA_ARGS__)

static doppel_status store_from_json(const doppel_ddsketch *s, dp_dds_store *st, const json_t *o,
                                     const char *name, doppel_diag *diag) {
  static const char *const keys[] = {"offset", "counts", "collapsed", NULL};
  if (!json_is_object(o)) return DDS_ERR("ddsketch state: \"%s\" must be an object", name);
  const char *key;
  json_t *val;
  json_object_foreach((json_t *)o, key, val) {
    int ok = 0;
    for (const char *const *k = keys; *k && !ok; k++) ok = strcmp(*k, key) == 0;
    if (!ok) return DDS_ERR("ddsketch state: unknown key \"%.64s\" in \"%s\"", key, name);
  }
  json_t *off = json_object_get(o, "offset");
  json_t *arr = json_object_get(o, "counts");
  json_t *col = json_object_get(o, "collapsed");
  if (!json_is_integer(off) || !json_is_array(arr) || !json_is_boolean(col))
    return DDS_ERR("ddsketch state: \"%s\" needs integer \"offset\", array \"counts\" and "
                   "boolean \"collapsed\"", name);
  size_t n = json_array_size(arr);
  json_int_t offset = json_integer_value(off);
  int collapsed = json_is_true(col);
  if (n == 0) {
    if (offset != 0 || collapsed)
      return DDS_ERR("ddsketch state: empty \"%s\" store must have offset 0, not collapsed", name);
    return DOPPEL_OK;
  }
  if (n > s->max_buckets)
    return DDS_ERR("ddsketch state: \"%s\" spans %zu buckets, more than max_buckets %u", name, n,
                   s->max_buckets);
  if (offset < s->idx_lo || offset > s->idx_hi || (int64_t)(n - 1) > s->idx_hi - offset)
    return DDS_ERR("ddsketch state: \"%s\" bucket indices outside the range of doubles", name);
  if (collapsed && n != s->max_buckets)
    return DDS_ERR("ddsketch state: collapsed \"%s\" store must span exactly max_buckets", name);
  uint64_t *c = calloc(n, sizeof *c);
  if (!c) return dp_diag_set(diag, DOPPEL_E_NOMEM, NULL, 0, 0, "ddsketch: out of memory");
  uint64_t total = 0;
  for (size_t j = 0; j < n; j++) {
    json_t *e = json_array_get(arr, j);
    json_int_t v = json_is_integer(e) ? json_integer_value(e) : -1;
    if (v < 0 || ((j == 0 || j == n - 1) && v == 0) || (uint64_t)v > (uint64_t)INT64_MAX - total) {
      free(c);
      return DDS_ERR("ddsketch state: \"%s\" count %zu is invalid (non-negative integers, "
                     "nonzero at both ends, total at most 2^63-1)", name, j);
    }
    c[j] = (uint64_t)v;
    total += (uint64_t)v;
  }
  st->counts = c;
  st->lo = offset;
  st->cap = (uint32_t)n;
  st->min = offset;
  st->max = offset + (int64_t)n - 1;
  st->total = total;
  st->collapsed = collapsed;
  return DOPPEL_OK;
}

doppel_status doppel_ddsketch_from_json(const json_t *state, doppel_ddsketch **out,
                                        doppel_diag *diag) {
  static const char *const keys[] = {"type",  "version", "alpha",    "max_buckets", "count",
                                     "sum",   "zero",    "positive", "negative",    NULL};
  if (!out) return dp_diag_set(diag, DOPPEL_E_USAGE, NULL, 0, 0, "ddsketch: NULL output pointer");
  *out = NULL;
  doppel_status st = dp_sketch_check_header(state, "ddsketch", keys, diag);
  if (st) return st;
  json_t *a = json_object_get(state, "alpha");
  if (!json_is_real(a) || !(json_real_value(a) >= DOPPEL_DDSKETCH_ALPHA_MIN) ||
      !(json_real_value(a) <= DOPPEL_DDSKETCH_ALPHA_MAX))
    return DDS_ERR("ddsketch state: \"alpha\" must be a number in [%g, %g]",
                   DOPPEL_DDSKETCH_ALPHA_MIN, DOPPEL_DDSKETCH_ALPHA_MAX);
  int64_t b, count, zero;
  if ((st = dp_sketch_get_int(state, "ddsketch", "max_buckets", DOPPEL_DDSKETCH_BUCKETS_MIN,
                              DOPPEL_DDSKETCH_BUCKETS_MAX, &b, diag)) ||
      (st = dp_sketch_get_int(state, "ddsketch", "count", 0, INT64_MAX, &count, diag)) ||
      (st = dp_sketch_get_int(state, "ddsketch", "zero", 0, INT64_MAX, &zero, diag)))
    return st;
  const char *sum_text;
  size_t sum_n;
  if ((st = dp_sketch_get_string(state, "ddsketch", "sum", &sum_text, &sum_n, diag))) return st;
  doppel_ddsketch *s = NULL;
  if ((st = doppel_ddsketch_new(&s, json_real_value(a), (uint32_t)b, diag))) return st;
  if ((st = store_from_json(s, &s->pos, json_object_get(state, "positive"), "positive", diag)) ||
      (st = store_from_json(s, &s->neg, json_object_get(state, "negative"), "negative", diag)))
    goto fail;
  if ((uint64_t)zero > (uint64_t)count || s->pos.total > (uint64_t)count - (uint64_t)zero ||
      s->neg.total != (uint64_t)count - (uint64_t)zero - s->pos.total) {
    st = DDS_ERR("ddsketch state: bucket and zero counts do not add up to \"count\"");
    goto fail;
  }
  s->count = (uint64_t)count;
  s->zero = (uint64_t)zero;
  /* |sum| <= count × DBL_MAX < count × 2^1024, in units of 2^-1074 */
  unsigned count_bits = count ? 64u - (unsigned)__builtin_clzll((uint64_t)count) : 0;
  unsigned max_bits = count ? count_bits + 1024 + 1074 : 0;
  if (dp_xsum_parse(&s->sum, sum_text, sum_n, max_bits) != 0) {
    st = DDS_ERR("ddsketch state: \"sum\" is not an exact hex float possible for the count");
    goto fail;
  }
  *out = s;
  return DOPPEL_OK;
fail:
  doppel_ddsketch_free(s);
  return st;
}
