/*
 * score.c — the eleven fidelity dimensions of `doppel compare`, read from
 * two profile documents (see compare.h for the definitions): each gives a
 * distance, the analytic noise floor for the sample sizes behind it, and
 * the largest differences as detail items. Profiles may be hand-written:
 * every section is optional and missing or ill-typed parts make a
 * dimension unavailable rather than an error. A DIST may be given by its
 * 101 percentiles, or (hand-written) as {"min", "max"} (uniform) or
 * {"mean", "sd"} (normal).
 */
#include "compare/compare_int.h"

#include <doppel/sketch.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NQ DOPPEL_COMPARE_NQ

/* ---- JSON helpers ---- */

static const json_t *jget(const json_t *o, const char *path) {
  char seg[64];
  while (o && *path) {
    const char *dot = strchr(path, '.');
    size_t n = dot ? (size_t)(dot - path) : strlen(path);
    if (n >= sizeof seg || !json_is_object(o)) return NULL;
    memcpy(seg, path, n);
    seg[n] = '\0';
    o = json_object_get(o, seg);
    path += n + (dot ? 1 : 0);
  }
  return o;
}

static int jnum(const json_t *j, double *out) {
  if (!json_is_number(j)) return 0;
  double v = json_number_value(j);
  if (!isfinite(v)) return 0;
  *out = v;
  return 1;
}

static double jnum_or(const json_t *j, double dflt) {
  double v;
  return jnum(j, &v) ? v : dflt;
}

json_t *dp_cmp_num(double v) {
  if (!isfinite(v)) return json_null();
  if (v == floor(v) && fabs(v) < 9007199254740992.0) return json_integer((json_int_t)v);
  char b[32];
  snprintf(b, sizeof b, "%.6g", v);
  return json_real(strtod(b, NULL));
}

double dp_cmp_profile_users(const json_t *p) {
  double u = jnum_or(jget(p, "population.users.estimate"), 0);
  return u > 0 ? u : 0;
}

/* Inverse standard normal CDF (Acklam's rational approximation, relative
 * error below 1.2e-9), for hand-written {"mean", "sd"} distributions. */
static double norm_quantile(double p) {
  static const double a[] = {-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
                             1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00};
  static const double b[] = {-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
                             6.680131188771972e+01, -1.328068155288572e+01};
  static const double c[] = {-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
                             -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00};
  static const double d[] = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
                             3.754408661907416e+00};
  if (p < 0.02425) {
    double q = sqrt(-2 * log(p));
    return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
           ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  if (p > 1 - 0.02425) return -norm_quantile(1 - p);
  double q = p - 0.5, r = q * q;
  return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
         (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

typedef struct dist {
  double q[NQ];
  int integer;
  double n;     /* values behind it (0 = unknown) */
  double mean;  /* NAN when not given */
} dist;

/* Read a DIST; 0 with *why set when it has no usable percentiles. */
static int dist_read_q(const json_t *d, dist *out, const char **why);

static int dist_read(const json_t *d, dist *out, const char **why) {
  if (!dist_read_q(d, out, why)) return 0;
  for (int i = 0; i < NQ; i++)
    if (!isfinite(out->q[i])) {
      *why = "percentiles out of range";
      return 0;
    }
  return 1;
}

static int dist_read_q(const json_t *d, dist *out, const char **why) {
  if (!json_is_object(d)) {
    *why = "missing";
    return 0;
  }
  out->n = jnum_or(json_object_get(d, "n"), 0);
  out->mean = jnum_or(json_object_get(d, "mean"), NAN);
  out->integer = json_is_true(json_object_get(d, "integer"));
  const json_t *q = json_object_get(d, "q");
  double lo, hi, sd;
  if (json_is_array(q)) {
    if (json_array_size(q) != NQ) {
      *why = "percentiles malformed";
      return 0;
    }
    for (size_t i = 0; i < NQ; i++)
      if (!jnum(json_array_get(q, i), &out->q[i])) {
        *why = "percentiles malformed";
        return 0;
      }
    return 1;
  }
  if (jnum(json_object_get(d, "min"), &lo) && jnum(json_object_get(d, "max"), &hi) && hi >= lo) {
    for (int i = 0; i < NQ; i++) out->q[i] = lo + (hi - lo) * i / 100.0;
    return 1;
  }
  if (jnum(json_object_get(d, "sd"), &sd) && isfinite(out->mean) && sd >= 0) {
    for (int i = 0; i < NQ; i++) {
      double p = i == 0 ? 0.001 : i == 100 ? 0.999 : i / 100.0;
      out->q[i] = out->mean + sd * norm_quantile(p);
    }
    return 1;
  }
  *why = json_object_get(d, "n") ? "fewer than k users behind the distribution" : "percentiles missing";
  return 0;
}

/* ---- categories: a small owning string map of (weight in A, weight in B) ---- */

typedef struct cat {
  char *key;    /* category (owned copy) */
  double w[2];  /* weight in A, in B (shares or counts, normalized later) */
} cat;

typedef struct catset {
  cat *v;          /* categories in insertion order */
  size_t n, cap;   /* used / allocated */
  uint32_t *idx;   /* open addressing: entry number + 1, 0 = empty */
  size_t icap;     /* slots in idx (a power of two) */
  int nomem;       /* an allocation failed: results are not to be used */
} catset;

static void cats_release(catset *c) {
  for (size_t i = 0; i < c->n; i++) free(c->v[i].key);
  free(c->v);
  free(c->idx);
  memset(c, 0, sizeof *c);
}

static int cats_grow_index(catset *c) {
  size_t icap = c->icap ? c->icap * 2 : 64;
  uint32_t *idx = calloc(icap, sizeof *idx);
  if (!idx) return 0;
  for (size_t i = 0; i < c->n; i++) {
    size_t h = (size_t)doppel_sketch_hash64(c->v[i].key, strlen(c->v[i].key)) & (icap - 1);
    while (idx[h]) h = (h + 1) & (icap - 1);
    idx[h] = (uint32_t)(i + 1);
  }
  free(c->idx);
  c->idx = idx;
  c->icap = icap;
  return 1;
}

static cat *cats_get(catset *c, const char *key, size_t len) {
  if (c->nomem) return NULL;
  if ((c->n + 1) * 2 > c->icap && !cats_grow_index(c)) {
    c->nomem = 1;
    return NULL;
  }
  size_t h = (size_t)doppel_sketch_hash64(key, len) & (c->icap - 1);
  while (c->idx[h]) {
    cat *e = &c->v[c->idx[h] - 1];
    if (strlen(e->key) == len && memcmp(e->key, key, len) == 0) return e;
    h = (h + 1) & (c->icap - 1);
  }
  if (c->n == c->cap) {
    size_t cap = c->cap ? c->cap * 2 : 16;
    cat *v = realloc(c->v, cap * sizeof *v);
    if (!v) {
      c->nomem = 1;
      return NULL;
    }
    c->v = v;
    c->cap = cap;
  }
  char *k = malloc(len + 1);
  if (!k) {
    c->nomem = 1;
    return NULL;
  }
  memcpy(k, key, len);
  k[len] = '\0';
  c->v[c->n] = (cat){k, {0, 0}};
  c->idx[h] = (uint32_t)(++c->n);
  return &c->v[c->n - 1];
}

/* Lookup without inserting. */
static const cat *cats_find(const catset *c, const char *key, size_t len) {
  if (!c->icap) return NULL;
  size_t h = (size_t)doppel_sketch_hash64(key, len) & (c->icap - 1);
  while (c->idx[h]) {
    const cat *e = &c->v[c->idx[h] - 1];
    if (strlen(e->key) == len && memcmp(e->key, key, len) == 0) return e;
    h = (h + 1) & (c->icap - 1);
  }
  return NULL;
}

static void cats_add(catset *c, const char *key, int side, double w) {
  if (!(w > 0)) w = 0;
  cat *e = cats_get(c, key, strlen(key));
  if (e) e->w[side] += w;
}

static double cats_sum(const catset *c, int side) {
  double s = 0;
  for (size_t i = 0; i < c->n; i++) s += c->v[i].w[side];
  return s;
}

/* TVD and (when nA, nB > 0) the expected TVD from A's shares. */
static int cats_tvd(const catset *c, double na, double nb, double *dist_out, double *floor_out) {
  double *p = malloc((c->n ? c->n : 1) * sizeof *p), *q = malloc((c->n ? c->n : 1) * sizeof *q);
  if (!p || !q) {
    free(p);
    free(q);
    return 0;
  }
  for (size_t i = 0; i < c->n; i++) p[i] = c->v[i].w[0], q[i] = c->v[i].w[1];
  *dist_out = doppel_compare_tvd(p, q, c->n);
  if (floor_out) *floor_out = na > 0 && nb > 0 ? doppel_compare_expected_tvd(p, c->n, na, nb) : NAN;
  free(p);
  free(q);
  return 1;
}

/* ---- detail items ---- */

typedef struct item {
  const char *name;   /* borrowed */
  const char *path;   /* borrowed, may be NULL */
  const char *metric; /* may be NULL */
  double a, b, d, w;  /* a, b: NAN when not shown; w: NAN when unweighted */
} item;

static int item_cmp(const void *x, const void *y) {
  const item *a = x, *b = y;
  double ka = isfinite(a->w) ? a->w * a->d : a->d, kb = isfinite(b->w) ? b->w * b->d : b->d;
  if (ka != kb) return ka < kb ? 1 : -1;
  int c = strcmp(a->name, b->name);
  if (c) return c;
  return strcmp(a->path ? a->path : "", b->path ? b->path : "");
}

/* The largest items as a JSON array (NULL on allocation failure). */
static json_t *items_json(item *v, size_t n, int keep_order) {
  if (!keep_order) qsort(v, n, sizeof *v, item_cmp);
  json_t *arr = json_array();
  if (!arr) return NULL;
  for (size_t i = 0; i < n && (keep_order || i < DP_CMP_DETAIL_MAX); i++) {
    if (!keep_order && !(v[i].d > 0)) break;
    json_t *o = json_object();
    if (!o || json_array_append_new(arr, o)) {
      json_decref(arr);
      return NULL;
    }
    if (v[i].path) {
      json_object_set_new(o, "event", json_string(v[i].name));
      json_object_set_new(o, "path", json_string(v[i].path));
    } else {
      json_object_set_new(o, "item", json_string(v[i].name));
    }
    if (v[i].metric) json_object_set_new(o, "metric", json_string(v[i].metric));
    if (isfinite(v[i].a)) json_object_set_new(o, "a", dp_cmp_num(v[i].a));
    if (isfinite(v[i].b)) json_object_set_new(o, "b", dp_cmp_num(v[i].b));
    json_object_set_new(o, "distance", dp_cmp_num(v[i].d));
    if (isfinite(v[i].w)) json_object_set_new(o, "weight", dp_cmp_num(v[i].w));
  }
  return arr;
}

/* Detail of a category comparison: the categories with the largest share
 * differences. */
static json_t *cats_detail(const catset *c) {
  double sa = cats_sum(c, 0), sb = cats_sum(c, 1);
  item *v = malloc((c->n ? c->n : 1) * sizeof *v);
  if (!v) return NULL;
  for (size_t i = 0; i < c->n; i++) {
    double a = sa > 0 ? c->v[i].w[0] / sa : 0, b = sb > 0 ? c->v[i].w[1] / sb : 0;
    v[i] = (item){c->v[i].key, NULL, NULL, a, b, fabs(a - b), NAN};
  }
  json_t *j = items_json(v, c->n, 0);
  free(v);
  return j;
}

static void unavailable(dp_cmp_dimres *r, const char *why) {
  r->available = 0;
  r->why = why;
}

/* ---- event mix ---- */

static const json_t *event_list(const json_t *p) {
  const json_t *l = jget(p, "events.list");
  return json_is_array(l) ? l : NULL;
}

static double event_total(const json_t *p) {
  double t;
  if (jnum(jget(p, "events.total"), &t) && t > 0) return t;
  const json_t *l = event_list(p);
  t = 0;
  for (size_t i = 0; l && i < json_array_size(l); i++) t += jnum_or(json_object_get(json_array_get(l, i), "count"), 0);
  return t;
}

/* An event's share of all events: count / total, else its share. */
static double event_weight(const json_t *e, double total) {
  double c, w;
  if (total > 0 && jnum(json_object_get(e, "count"), &c)) w = c / total;
  else w = jnum_or(json_object_get(e, "share"), 0);
  /* hand-written weights stay finite when summed */
  return w > 0 ? (w < 1e12 ? w : 1e12) : 0;
}

static void add_events(catset *c, const json_t *p, int side) {
  const json_t *l = event_list(p);
  double total = event_total(p);
  for (size_t i = 0; l && i < json_array_size(l); i++) {
    const json_t *e = json_array_get(l, i);
    const char *name = json_string_value(json_object_get(e, "name"));
    if (name) cats_add(c, name, side, event_weight(e, total));
  }
  double sup = jnum_or(jget(p, "events.suppressed.events"), 0);
  if (total > 0 && sup > 0) cats_add(c, "$other", side, sup / total);
}

static doppel_status dim_event_mix(const json_t *a, const json_t *b, int floors, int detail, dp_cmp_dimres *r) {
  if (!event_list(a) || !event_list(b)) {
    unavailable(r, !event_list(a) ? "no event list in A" : "no event list in B");
    return DOPPEL_OK;
  }
  catset c = {0};
  add_events(&c, a, 0);
  add_events(&c, b, 1);
  if (c.nomem) goto nomem;
  if (cats_sum(&c, 0) <= 0 || cats_sum(&c, 1) <= 0) {
    cats_release(&c);
    unavailable(r, "no event shares");
    return DOPPEL_OK;
  }
  r->n_a = event_total(a);
  r->n_b = event_total(b);
  if (!cats_tvd(&c, floors ? r->n_a : 0, floors ? r->n_b : 0, &r->distance, &r->floor)) goto nomem;
  r->available = 1;
  if (detail && !(r->detail = cats_detail(&c))) goto nomem;
  cats_release(&c);
  return DOPPEL_OK;
nomem:
  cats_release(&c);
  return DOPPEL_E_NOMEM;
}

/* ---- first event of session ---- */

static double sessions_count(const json_t *p) {
  double n;
  if (jnum(jget(p, "sessions.count"), &n)) return n;
  return jnum_or(jget(p, "sessions.events_per_session.n"), 0);
}

static int add_first(catset *c, const json_t *p, int side) {
  const json_t *l = event_list(p);
  double sum = 0, total = event_total(p), sessions = sessions_count(p);
  int any = 0;
  for (size_t i = 0; l && i < json_array_size(l); i++) {
    const json_t *e = json_array_get(l, i);
    const char *name = json_string_value(json_object_get(e, "name"));
    if (!name) continue;
    double s, f;
    if (jnum(json_object_get(e, "session_first_share"), &s)) any = 1;
    else if (sessions > 0 && jnum(json_object_get(e, "session_first"), &f)) s = f / sessions, any = 1;
    else s = event_weight(e, total); /* the hand-written default */
    cats_add(c, name, side, s);
    sum += s > 0 ? s : 0;
  }
  if (any && sum < 1 - 1e-6) cats_add(c, "$other", side, 1 - sum);
  return l != NULL;
}

static doppel_status dim_first(const json_t *a, const json_t *b, int floors, int detail, dp_cmp_dimres *r) {
  catset c = {0};
  if (!add_first(&c, a, 0) || !add_first(&c, b, 1)) {
    cats_release(&c);
    unavailable(r, !event_list(a) ? "no event list in A" : "no event list in B");
    return DOPPEL_OK;
  }
  if (c.nomem) goto nomem;
  if (cats_sum(&c, 0) <= 0 || cats_sum(&c, 1) <= 0) {
    cats_release(&c);
    unavailable(r, "no sessions");
    return DOPPEL_OK;
  }
  r->n_a = sessions_count(a);
  r->n_b = sessions_count(b);
  if (!cats_tvd(&c, floors ? r->n_a : 0, floors ? r->n_b : 0, &r->distance, &r->floor)) goto nomem;
  r->available = 1;
  if (detail && !(r->detail = cats_detail(&c))) goto nomem;
  cats_release(&c);
  return DOPPEL_OK;
nomem:
  cats_release(&c);
  return DOPPEL_E_NOMEM;
}

/* ---- transitions ---- */

static doppel_status dim_transitions(const json_t *a, const json_t *b, int floors, int detail, dp_cmp_dimres *r) {
  const json_t *la = event_list(a);
  if (!la || !event_list(b)) {
    unavailable(r, !la ? "no event list in A" : "no event list in B");
    return DOPPEL_OK;
  }
  size_t n = json_array_size(la);
  item *items = calloc(n ? n : 1, sizeof *items);
  if (!items) return DOPPEL_E_NOMEM;
  double ta = event_total(a), tb = event_total(b), wsum = 0, dsum = 0, fsum = 0, na_sum = 0, nb_sum = 0;
  size_t m = 0;
  /* B's events by name, for the lookups */
  const json_t *lb = event_list(b);
  catset bidx = {0}, seen = {0};
  for (size_t i = 0; i < json_array_size(lb); i++) {
    /* an event's transitions are those of its first entry with a "next" */
    const json_t *nx = json_object_get(json_array_get(lb, i), "next");
    const char *name = json_string_value(json_object_get(json_array_get(lb, i), "name"));
    if (name && json_is_object(nx) && json_object_size(nx) > 0) {
      cat *e = cats_get(&bidx, name, strlen(name));
      if (e && e->w[0] == 0) e->w[0] = (double)i + 1;
    }
  }
  if (bidx.nomem) goto nomem;
  for (size_t i = 0; i < n; i++) {
    const json_t *ea = json_array_get(la, i);
    const char *name = json_string_value(json_object_get(ea, "name"));
    const json_t *nxa = json_object_get(ea, "next");
    if (!name || !json_is_object(nxa) || json_object_size(nxa) == 0) continue;
    /* a name listed twice (hand-written) counts at its first entry with a
     * "next", as in B */
    size_t before = seen.n;
    cats_add(&seen, name, 0, 1);
    if (seen.nomem) goto nomem;
    if (seen.n == before) continue;
    double w = event_weight(ea, ta);
    if (!(w > 0)) continue;
    const cat *be = cats_find(&bidx, name, strlen(name));
    const json_t *eb = be && be->w[0] > 0 ? json_array_get(lb, (size_t)be->w[0] - 1) : NULL;
    const json_t *nxb = eb ? json_object_get(eb, "next") : NULL;
    catset c = {0};
    const char *k;
    const json_t *v;
    json_object_foreach((json_t *)nxa, k, v) cats_add(&c, k, 0, jnum_or(v, 0));
    if (json_is_object(nxb)) json_object_foreach((json_t *)nxb, k, v) cats_add(&c, k, 1, jnum_or(v, 0));
    double d = 1, f = NAN;
    double nna = jnum_or(json_object_get(ea, "next_n"), jnum_or(json_object_get(ea, "count"), w * ta));
    double nnb = eb ? jnum_or(json_object_get(eb, "next_n"), jnum_or(json_object_get(eb, "count"), 0))
                    : (ta > 0 ? nna * tb / ta : 0);
    int ok = !c.nomem && cats_tvd(&c, floors ? nna : 0, floors ? nnb : 0, &d, &f);
    cats_release(&c);
    if (!ok) goto nomem;
    if (!json_is_object(nxb)) d = 1;
    wsum += w;
    dsum += w * d;
    if (isfinite(f)) fsum += w * f;
    na_sum += nna;
    nb_sum += nnb;
    items[m++] = (item){name, NULL, NULL, NAN, NAN, d, w};
  }
  cats_release(&bidx);
  cats_release(&seen);
  if (m == 0 || !(wsum > 0)) {
    free(items);
    unavailable(r, "no next-event distributions in A");
    return DOPPEL_OK;
  }
  r->available = 1;
  r->distance = dsum / wsum;
  r->floor = floors ? fsum / wsum : NAN;
  r->n_a = na_sum;
  r->n_b = nb_sum;
  for (size_t i = 0; i < m; i++) items[i].w /= wsum;
  if (detail && !(r->detail = items_json(items, m, 0))) {
    free(items);
    return DOPPEL_E_NOMEM;
  }
  free(items);
  return DOPPEL_OK;
nomem:
  cats_release(&bidx);
  cats_release(&seen);
  free(items);
  return DOPPEL_E_NOMEM;
}

/* ---- hour of week ---- */

static int how_read(const json_t *p, double *v) {
  const json_t *h = jget(p, "time.hour_of_week");
  if (!json_is_array(h) || json_array_size(h) != 168) return 0;
  double s = 0;
  for (size_t i = 0; i < 168; i++) {
    v[i] = jnum_or(json_array_get(h, i), 0);
    if (v[i] < 0) v[i] = 0;
    s += v[i];
  }
  return s > 0;
}

static doppel_status dim_how(const json_t *a, const json_t *b, int floors, int detail, dp_cmp_dimres *r) {
  double pa[168], pb[168];
  int ha = how_read(a, pa), hb = how_read(b, pb);
  if (!ha || !hb) {
    unavailable(r, !ha ? "no hour-of-week shares in A" : "no hour-of-week shares in B");
    return DOPPEL_OK;
  }
  r->available = 1;
  r->distance = doppel_compare_tvd(pa, pb, 168);
  r->n_a = event_total(a);
  r->n_b = event_total(b);
  r->floor = floors ? doppel_compare_expected_tvd(pa, 168, r->n_a, r->n_b) : NAN;
  if (!detail) return DOPPEL_OK;
  static const char *days[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
  char names[168][16];
  item v[168];
  double sa = 0, sb = 0;
  for (int i = 0; i < 168; i++) sa += pa[i], sb += pb[i];
  for (int i = 0; i < 168; i++) {
    snprintf(names[i], sizeof names[i], "%s %02d:00", days[i / 24], i % 24);
    v[i] = (item){names[i], NULL, NULL, pa[i] / sa, pb[i] / sb, fabs(pa[i] / sa - pb[i] / sb), NAN};
  }
  /* items_json copies the names into the JSON strings */
  return (r->detail = items_json(v, 168, 0)) ? DOPPEL_OK : DOPPEL_E_NOMEM;
}

/* ---- retention ---- */

static int retention_point(const json_t *p, const char *unit, int n, double *share, double *users) {
  const json_t *t = jget(p, "time.retention");
  const json_t *u = json_object_get(json_object_get(t, unit), "n");
  const json_t *s = json_object_get(json_object_get(t, unit), "share");
  const json_t *us = json_object_get(json_object_get(t, unit), "users");
  if (!json_is_array(u) || !json_is_array(s)) return 0;
  for (size_t i = 0; i < json_array_size(u) && i < json_array_size(s); i++) {
    double k;
    if (jnum(json_array_get(u, i), &k) && k == n) {
      if (!jnum(json_array_get(s, i), share)) return 0;
      *users = json_is_array(us) ? jnum_or(json_array_get(us, i), 0) : 0;
      return !json_is_array(us) || *users > 0;
    }
  }
  return 0;
}

static doppel_status dim_retention(const json_t *a, const json_t *b, dp_cmp_sim *sim, int detail,
                                   dp_cmp_dimres *r) {
  static const struct { const char *unit, *label; int n; } pts[] = {
      {"day", "day 1", 1}, {"day", "day 7", 7}, {"day", "day 30", 30}, {"week", "week 1", 1}, {"week", "week 4", 4}};
  item v[5];
  double sigma[5];
  size_t m = 0, ms = 0;
  double d = 0, ua_sum = 0, ub_sum = 0;
  for (size_t i = 0; i < 5; i++) {
    double sa, sb, ua, ub;
    if (!retention_point(a, pts[i].unit, pts[i].n, &sa, &ua) || !retention_point(b, pts[i].unit, pts[i].n, &sb, &ub))
      continue;
    double e = fabs(sa - sb);
    if (e > d) d = e;
    v[m++] = (item){pts[i].label, NULL, NULL, sa, sb, e, NAN};
    if (ua > 0 && ub > 0) {
      double p = sa < 0 ? 0 : sa > 1 ? 1 : sa;
      sigma[ms++] = sqrt(p * (1 - p) * (1 / ua + 1 / ub));
    }
    ua_sum = ua_sum > ua ? ua_sum : ua;
    ub_sum = ub_sum > ub ? ub_sum : ub;
  }
  if (m == 0) {
    unavailable(r, "no retention day 1/7/30 or week 1/4 on both sides");
    return DOPPEL_OK;
  }
  r->available = 1;
  r->distance = d > 1 ? 1 : d;
  r->n_a = ua_sum;
  r->n_b = ub_sum;
  r->floor = sim && ms == m ? dp_cmp_sim_max_abs(sim, sigma, ms) : NAN;
  if (detail && !(r->detail = items_json(v, m, 1))) return DOPPEL_E_NOMEM;
  return DOPPEL_OK;
}

/* ---- distributions ---- */

static doppel_status dim_dist(const json_t *a, const json_t *b, const char *path, dp_cmp_sim *sim, int detail,
                              dp_cmp_dimres *r) {
  dist da, db;
  const char *why = NULL;
  if (!dist_read(jget(a, path), &da, &why)) {
    unavailable(r, !strcmp(why, "missing") ? "not in A" : why);
    return DOPPEL_OK;
  }
  if (!dist_read(jget(b, path), &db, &why)) {
    unavailable(r, !strcmp(why, "missing") ? "not in B" : why);
    return DOPPEL_OK;
  }
  r->available = 1;
  r->distance = doppel_compare_ks(da.q, db.q, da.integer && db.integer);
  r->n_a = da.n;
  r->n_b = db.n;
  r->floor = sim && da.n > 0 && db.n > 0 ? dp_cmp_sim_ks(sim, da.q, da.n, db.n) : NAN;
  if (!detail) return DOPPEL_OK;
  item v[4] = {{"mean", NULL, NULL, da.mean, db.mean, fabs(da.mean - db.mean), NAN},
               {"median", NULL, NULL, da.q[50], db.q[50], fabs(da.q[50] - db.q[50]), NAN},
               {"p90", NULL, NULL, da.q[90], db.q[90], fabs(da.q[90] - db.q[90]), NAN},
               {"p99", NULL, NULL, da.q[99], db.q[99], fabs(da.q[99] - db.q[99]), NAN}};
  size_t m = 4;
  if (!isfinite(da.mean) || !isfinite(db.mean)) {
    memmove(v, v + 1, 3 * sizeof *v);
    m = 3;
  }
  return (r->detail = items_json(v, m, 1)) ? DOPPEL_OK : DOPPEL_E_NOMEM;
}

/* ---- properties and constancy ---- */

static int prop_key(const json_t *e, char *buf, size_t size, const char **ev, const char **path) {
  *ev = json_string_value(json_object_get(e, "event"));
  *path = json_string_value(json_object_get(e, "path"));
  if (!*ev || !*path) return 0;
  int n = snprintf(buf, size, "%s\x1f%s", *ev, *path);
  return n > 0 && (size_t)n < size;
}

/* The value categories of a property side: top values (keyed by their JSON
 * text) plus "other". Returns 1 when the side has a values object. */
static int add_values(catset *c, const json_t *pr, int side) {
  const json_t *vals = json_object_get(pr, "values");
  if (!json_is_object(vals)) return 0;
  const json_t *top = json_object_get(vals, "top");
  double n = jnum_or(json_object_get(vals, "n"), 0);
  for (size_t i = 0; json_is_array(top) && i < json_array_size(top); i++) {
    const json_t *t = json_array_get(top, i);
    const json_t *val = json_object_get(t, "value");
    if (!val) continue;
    char *k = json_dumps(val, JSON_ENCODE_ANY | JSON_COMPACT);
    if (!k) {
      c->nomem = 1;
      return 1;
    }
    double s, cnt;
    if (!jnum(json_object_get(t, "share"), &s)) s = n > 0 && jnum(json_object_get(t, "count"), &cnt) ? cnt / n : 0;
    cats_add(c, k, side, s);
    free(k);
  }
  double other = jnum_or(json_object_get(vals, "other"), 0);
  if (other > 0) cats_add(c, "$other", side, other);
  return 1;
}

static int has_top(const json_t *pr) {
  const json_t *top = jget(pr, "values.top");
  return json_is_array(top) && json_array_size(top) > 0;
}

/* Users behind a constancy share: the profile's users, capped at the
 * constancy sample of DOPPEL_PROFILE_CONST_USERS = 20,000 users (an upper
 * bound of the users who had the property twice, so the floor is
 * optimistic). */
static double const_users(const json_t *p) {
  double u = dp_cmp_profile_users(p);
  return u > 20000 ? 20000 : u;
}

static doppel_status dim_props(const json_t *a, const json_t *b, dp_cmp_sim *sim, int detail, dp_cmp_dimres *rp,
                               dp_cmp_dimres *rc) {
  const json_t *pa = json_object_get(a, "properties"), *pb = json_object_get(b, "properties");
  if (!json_is_array(pa) || !json_is_array(pb) || json_array_size(pa) == 0 || json_array_size(pb) == 0) {
    const char *why = !json_is_array(pa) || json_array_size(pa) == 0 ? "no properties in A" : "no properties in B";
    unavailable(rp, why);
    unavailable(rc, why);
    return DOPPEL_OK;
  }
  size_t na = json_array_size(pa);
  catset bidx = {0}, seen_paths = {0}, seen_keys = {0};
  char key[1024];
  const char *ev, *path;
  for (size_t i = 0; i < json_array_size(pb); i++)
    if (prop_key(json_array_get(pb, i), key, sizeof key, &ev, &path)) {
      cat *e = cats_get(&bidx, key, strlen(key));
      if (e && e->w[0] == 0) e->w[0] = (double)i + 1;
    }
  item *pitems = calloc(na ? na : 1, sizeof *pitems), *citems = calloc(na ? na : 1, sizeof *citems);
  if (!pitems || !citems || bidx.nomem) goto nomem;
  size_t mp = 0, mc = 0, only_a = 0, matched = 0, not_comparable = 0;
  double dsum = 0, fsum = 0, csum = 0, cfsum = 0, nva = 0, nvb = 0;
  int floors_ok = sim != NULL, cfloors_ok = sim != NULL;
  for (size_t i = 0; i < na; i++) {
    const json_t *ea = json_array_get(pa, i);
    if (!prop_key(ea, key, sizeof key, &ev, &path)) continue;
    size_t before_keys = seen_keys.n;
    cats_add(&seen_keys, key, 0, 1);
    if (seen_keys.nomem) goto nomem;
    if (seen_keys.n == before_keys) continue; /* listed twice: the first entry counts */
    const cat *be = cats_find(&bidx, key, strlen(key));
    if (!be) {
      char any[1024];
      snprintf(any, sizeof any, "*\x1f%s", path);
      be = cats_find(&bidx, any, strlen(any));
    }
    if (!be || be->w[0] == 0) {
      only_a++;
      continue;
    }
    matched++;
    const json_t *eb = json_array_get(pb, (size_t)be->w[0] - 1);
    /* marginal */
    double d = NAN, f = NAN, n1 = 0, n2 = 0;
    const char *metric = NULL;
    if (has_top(ea) || has_top(eb)) {
      catset c = {0};
      add_values(&c, ea, 0);
      add_values(&c, eb, 1);
      n1 = jnum_or(jget(ea, "values.n"), 0);
      n2 = jnum_or(jget(eb, "values.n"), 0);
      int ok = !c.nomem && cats_tvd(&c, sim ? n1 : 0, sim ? n2 : 0, &d, &f);
      cats_release(&c);
      if (!ok) goto nomem;
      metric = "TVD";
    } else {
      dist da, db;
      const char *why;
      const char *which = "number";
      int ok = dist_read(json_object_get(ea, "number"), &da, &why) && dist_read(json_object_get(eb, "number"), &db, &why);
      if (!ok) {
        which = "string.length";
        ok = dist_read(jget(ea, "string.length"), &da, &why) && dist_read(jget(eb, "string.length"), &db, &why);
      }
      if (ok) {
        d = doppel_compare_ks(da.q, db.q, da.integer && db.integer);
        n1 = da.n;
        n2 = db.n;
        f = sim && n1 > 0 && n2 > 0 ? dp_cmp_sim_ks(sim, da.q, n1, n2) : NAN;
        metric = which[0] == 'n' ? "KS" : "KS of lengths";
      }
    }
    if (metric) {
      dsum += d;
      if (isfinite(f)) fsum += f;
      else floors_ok = 0;
      nva += n1;
      nvb += n2;
      pitems[mp++] = (item){ev, path, metric, NAN, NAN, d, NAN};
    } else {
      not_comparable++;
    }
    /* constancy: the profile computes it per path (over all events), so
     * each path counts once, at its first entry */
    double ca, cb;
    if (jnum(jget(ea, "constancy.user"), &ca) && jnum(jget(eb, "constancy.user"), &cb)) {
      size_t before = seen_paths.n;
      cats_add(&seen_paths, path, 0, 1);
      if (seen_paths.nomem) goto nomem;
      if (seen_paths.n > before) {
        double e = fabs(ca - cb), ua = const_users(a), ub = const_users(b);
        csum += e;
        if (ua > 0 && ub > 0) {
          double p = ca < 0 ? 0 : ca > 1 ? 1 : ca;
          cfsum += sqrt(2 / M_PI) * sqrt(p * (1 - p) * (1 / ua + 1 / ub));
        } else {
          cfloors_ok = 0;
        }
        citems[mc++] = (item){path, NULL, NULL, ca, cb, e, NAN};
      }
    }
  }
  size_t only_b = json_array_size(pb) > matched ? json_array_size(pb) - matched : 0;
  cats_release(&bidx);
  cats_release(&seen_paths);
  cats_release(&seen_keys);
  if (mp == 0) {
    unavailable(rp, matched ? "no comparable property entries" : "no property in both");
  } else {
    rp->available = 1;
    rp->distance = dsum / (double)mp;
    rp->floor = floors_ok ? fsum / (double)mp : NAN;
    rp->n_a = nva;
    rp->n_b = nvb;
    if (detail && !(rp->detail = items_json(pitems, mp, 0))) goto nomem2;
    rp->extra = json_pack("{s:I,s:I,s:I,s:I}", "compared", (json_int_t)mp, "only_in_a", (json_int_t)only_a,
                          "only_in_b", (json_int_t)only_b, "not_comparable", (json_int_t)not_comparable);
    if (!rp->extra) goto nomem2;
  }
  if (mc == 0) {
    unavailable(rc, "no property with constancy on both sides");
  } else {
    rc->available = 1;
    rc->distance = csum / (double)mc;
    rc->floor = cfloors_ok ? cfsum / (double)mc : NAN;
    rc->n_a = rc->n_b = (double)mc;
    if (detail && !(rc->detail = items_json(citems, mc, 0))) goto nomem2;
    rc->extra = json_pack("{s:I}", "compared", (json_int_t)mc);
    if (!rc->extra) goto nomem2;
  }
  free(pitems);
  free(citems);
  return DOPPEL_OK;
nomem:
  cats_release(&bidx);
  cats_release(&seen_paths);
  cats_release(&seen_keys);
nomem2:
  free(pitems);
  free(citems);
  return DOPPEL_E_NOMEM;
}

/* ---- all dimensions ---- */

void dp_cmp_dimres_release(dp_cmp_dimres res[DOPPEL_COMPARE_DIM_COUNT]) {
  for (int i = 0; i < DOPPEL_COMPARE_DIM_COUNT; i++) {
    json_decref(res[i].detail);
    json_decref(res[i].extra);
    res[i].detail = res[i].extra = NULL;
  }
}

doppel_status dp_cmp_score(const json_t *a, const json_t *b, dp_cmp_sim *sim, int with_detail,
                           dp_cmp_dimres res[DOPPEL_COMPARE_DIM_COUNT]) {
  for (int i = 0; i < DOPPEL_COMPARE_DIM_COUNT; i++)
    res[i] = (dp_cmp_dimres){0, NULL, NAN, NAN, 0, 0, NULL, NULL};
  int f = sim != NULL, dt = with_detail;
  doppel_status st;
  if ((st = dim_event_mix(a, b, f, dt, &res[DOPPEL_COMPARE_EVENT_MIX])) != DOPPEL_OK ||
      (st = dim_dist(a, b, "population.events_per_user", sim, dt, &res[DOPPEL_COMPARE_EVENTS_PER_USER])) != DOPPEL_OK ||
      (st = dim_dist(a, b, "population.sessions_per_user", sim, dt, &res[DOPPEL_COMPARE_SESSIONS_PER_USER])) != DOPPEL_OK ||
      (st = dim_dist(a, b, "sessions.events_per_session", sim, dt, &res[DOPPEL_COMPARE_EVENTS_PER_SESSION])) != DOPPEL_OK ||
      (st = dim_dist(a, b, "sessions.inter_event_s", sim, dt, &res[DOPPEL_COMPARE_INTER_EVENT_GAPS])) != DOPPEL_OK ||
      (st = dim_transitions(a, b, f, dt, &res[DOPPEL_COMPARE_TRANSITIONS])) != DOPPEL_OK ||
      (st = dim_first(a, b, f, dt, &res[DOPPEL_COMPARE_SESSION_FIRST])) != DOPPEL_OK ||
      (st = dim_how(a, b, f, dt, &res[DOPPEL_COMPARE_HOUR_OF_WEEK])) != DOPPEL_OK ||
      (st = dim_retention(a, b, sim, dt, &res[DOPPEL_COMPARE_RETENTION])) != DOPPEL_OK ||
      (st = dim_props(a, b, sim, dt, &res[DOPPEL_COMPARE_PROPERTIES], &res[DOPPEL_COMPARE_CONSTANCY])) != DOPPEL_OK) {
    dp_cmp_dimres_release(res);
    return st;
  }
  return DOPPEL_OK;
}
