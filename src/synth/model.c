/*
 * model.c — compiles a profile document into the synthesis model of
 * synth_int.h: distributions (percentile tables, or the simple forms a
 * hand-written profile may use), alias tables for every categorical
 * choice, the event chain with its bridge tables (the chain conditioned on
 * the number of events left in the session), user groups by sessions,
 * arrival and retention weights, property and identifier generators.
 * Every section is optional; the defaults are documented in the README
 * ("Profiles written by hand").
 */
#include "synth/synth_int.h"

#include <doppel/time.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/diag.h"
#include "profile/profile_int.h" /* dp_string_pattern */

#define BAD(...) dp_diag_set(diag, DOPPEL_E_DATA, NULL, 0, 0, __VA_ARGS__)

/* ---- distributions ---- */

static double q_at(const dp_dist *d, double u) {
  if (u < 0) u = 0;
  if (u >= 1) u = 0.999999999999;
  double x = u * 100.0;
  int i = (int)x;
  if (i > 99) i = 99;
  double f = x - i, lo = d->q[i], hi = d->q[i + 1];
  if (d->integer) {
    if (hi <= lo) return lo;
    double v = lo + floor(f * (hi - lo + 1.0));
    return v > hi ? hi : v;
  }
  return lo + f * (hi - lo);
}

double dp_dist_sample(const dp_dist *d, double u, dp_vrng *r) {
  double v;
  switch (d->kind) {
    case DP_D_QUANT: return q_at(d, u);
    case DP_D_GEOM: {
      /* min + geometric extra with the right mean */
      double extra = d->a - d->b;
      if (extra <= 0) return d->b;
      if (d->integer) {
        double p = 1.0 / (1.0 + extra);
        v = d->b + floor(log(1.0 - u) / log(1.0 - p));
      } else {
        v = d->b - extra * log(1.0 - u);
      }
      return v;
    }
    case DP_D_UNIFORM:
      v = d->integer ? floor(d->a + u * (d->b - d->a + 1.0)) : d->a + u * (d->b - d->a);
      return v > d->b ? d->b : v;
    case DP_D_NORMAL:
    case DP_D_LOGNORMAL: {
      double u2 = dp_vrng_double(r);
      double z = sqrt(-2.0 * log(1.0 - u)) * cos(2.0 * M_PI * u2);
      v = d->kind == DP_D_NORMAL ? d->a + d->b * z : d->a * exp(d->b * z);
      return d->integer ? round(v) : v;
    }
    case DP_D_CONST: return d->a;
    default: return 0;
  }
}

/* P(X < x) for an integer QUANT distribution under q_at's rule (x integer). */
static double q_below_int(const dp_dist *d, double x) {
  double m = 0;
  for (int i = 0; i < 100; i++) {
    double a = d->q[i], b = d->q[i + 1];
    if (b < a) b = a;
    double n = b - a + 1.0;
    double c = fmin(b, x - 1.0) - a + 1.0;
    if (c > 0) m += fmin(c, n) / n;
  }
  return m / 100.0;
}

/* P(X < x) for a continuous QUANT distribution. */
static double q_below(const dp_dist *d, double x) {
  if (x <= d->q[0]) return 0;
  if (x > d->q[100]) return 1;
  for (int i = 0; i < 100; i++) {
    double a = d->q[i], b = d->q[i + 1];
    if (x <= b) {
      if (b <= a) return i / 100.0;
      return (i + (x - a) / (b - a)) / 100.0;
    }
  }
  return 1;
}

void dp_dist_urange(const dp_dist *d, double lo, double hi, double *ulo, double *uhi) {
  if (d->kind != DP_D_QUANT) {
    *ulo = 0;
    *uhi = 1;
    return;
  }
  if (d->integer) {
    *ulo = q_below_int(d, lo);
    *uhi = q_below_int(d, hi + 1);
  } else {
    *ulo = q_below(d, lo);
    *uhi = q_below(d, hi);
  }
}

static double json_num(const json_t *j, double dflt) { return json_is_number(j) ? json_number_value(j) : dflt; }

/* A distribution from a DIST object or a hand-written form. Returns 1 when
 * one was read, 0 when absent (d untouched), -1 when malformed. */
static int dist_read(const json_t *j, dp_dist *d, int integer, const char *what, doppel_diag *diag) {
  if (!j || json_is_null(j)) return 0;
  if (!json_is_object(j)) {
    BAD("%s: expected a distribution object", what);
    return -1;
  }
  dp_dist n;
  memset(&n, 0, sizeof n);
  n.integer = (uint8_t)(integer || json_is_true(json_object_get(j, "integer")));
  const json_t *q = json_object_get(j, "q");
  const json_t *mean = json_object_get(j, "mean"), *sd = json_object_get(j, "sd");
  const json_t *mn = json_object_get(j, "min"), *mx = json_object_get(j, "max");
  const json_t *med = json_object_get(j, "median"), *sig = json_object_get(j, "sigma");
  const json_t *val = json_object_get(j, "value");
  if (json_is_array(q)) {
    if (json_array_size(q) != 101) {
      BAD("%s.q: expected 101 percentiles, got %zu", what, json_array_size(q));
      return -1;
    }
    double prev = -INFINITY;
    for (int i = 0; i <= 100; i++) {
      const json_t *x = json_array_get(q, (size_t)i);
      if (!json_is_number(x) || !isfinite(json_number_value(x))) {
        BAD("%s.q[%d]: expected a number", what, i);
        return -1;
      }
      double v = json_number_value(x);
      if (v < prev) v = prev; /* monotone */
      n.q[i] = prev = v;
    }
    n.kind = DP_D_QUANT;
    double m = 0;
    for (int i = 0; i < 100; i++) m += (n.q[i] + n.q[i + 1]) / 2;
    n.mean = json_is_number(mean) ? json_number_value(mean) : m / 100;
  } else if (json_is_number(val)) {
    n.kind = DP_D_CONST;
    n.a = n.mean = json_number_value(val);
  } else if (json_is_number(mn) && json_is_number(mx)) {
    n.kind = DP_D_UNIFORM;
    n.a = json_number_value(mn);
    n.b = json_number_value(mx);
    if (!(n.b >= n.a)) {
      BAD("%s: max must not be below min", what);
      return -1;
    }
    n.mean = (n.a + n.b) / 2;
  } else if (json_is_number(med)) {
    n.kind = DP_D_LOGNORMAL;
    n.a = json_number_value(med);
    n.b = json_num(sig, 1.0);
    if (!(n.a > 0) || !(n.b >= 0)) {
      BAD("%s: median must be positive and sigma not negative", what);
      return -1;
    }
    n.mean = n.a * exp(n.b * n.b / 2);
  } else if (json_is_number(mean) && json_is_number(sd)) {
    n.kind = DP_D_NORMAL;
    n.a = json_number_value(mean);
    n.b = json_number_value(sd);
    if (!(n.b >= 0)) {
      BAD("%s: sd must not be negative", what);
      return -1;
    }
    n.mean = n.a;
  } else if (json_is_number(mean)) {
    n.kind = DP_D_GEOM;
    n.a = n.mean = json_number_value(mean);
    n.b = n.integer ? 1 : 0;
    if (n.integer && n.a < 1) n.b = 0;
    if (!(n.a >= 0)) {
      BAD("%s: mean must not be negative", what);
      return -1;
    }
  } else {
    return 0; /* e.g. {"n": 5, "mean"...} without percentiles is handled above; nothing usable */
  }
  *d = n;
  return 1;
}

static void dist_geom(dp_dist *d, double mean, double min, int integer) {
  memset(d, 0, sizeof *d);
  d->kind = DP_D_GEOM;
  d->a = d->mean = mean;
  d->b = min;
  d->integer = (uint8_t)integer;
}

/* ---- alias tables ---- */

int dp_alias_build(dp_alias *a, const double *w, uint32_t n) {
  memset(a, 0, sizeof *a);
  if (n == 0) return -1;
  double total = 0;
  for (uint32_t i = 0; i < n; i++)
    if (w[i] > 0 && isfinite(w[i])) total += w[i];
  if (!(total > 0)) return -1;
  a->n = n;
  a->alias = malloc(n * sizeof *a->alias);
  a->thr = malloc(n * sizeof *a->thr);
  double *p = malloc(n * sizeof *p);
  uint32_t *small = malloc(n * sizeof *small), *large = malloc(n * sizeof *large);
  if (!a->alias || !a->thr || !p || !small || !large) {
    free(p);
    free(small);
    free(large);
    dp_alias_free(a);
    return DP_ALIAS_NOMEM;
  }
  uint32_t ns = 0, nl = 0;
  for (uint32_t i = 0; i < n; i++) {
    p[i] = (w[i] > 0 && isfinite(w[i]) ? w[i] : 0) * n / total;
    a->alias[i] = i;
    if (p[i] < 1.0) small[ns++] = i;
    else large[nl++] = i;
  }
  while (ns && nl) {
    uint32_t s = small[--ns], l = large[nl - 1];
    a->thr[s] = (uint32_t)fmin(4294967295.0, floor(p[s] * 4294967296.0));
    a->alias[s] = l;
    p[l] -= 1.0 - p[s];
    if (p[l] < 1.0) {
      nl--;
      small[ns++] = l;
    }
  }
  while (nl) a->thr[large[--nl]] = UINT32_MAX;
  while (ns) a->thr[small[--ns]] = UINT32_MAX; /* rounding leftovers */
  /* an entry with zero weight must never be returned as itself */
  for (uint32_t i = 0; i < n; i++)
    if (!(w[i] > 0) && a->alias[i] == i) {
      for (uint32_t j = 0; j < n; j++)
        if (w[j] > 0) {
          a->alias[i] = j;
          break;
        }
      a->thr[i] = 0;
    }
  free(p);
  free(small);
  free(large);
  return 0;
}

void dp_alias_free(dp_alias *a) {
  free(a->alias);
  free(a->thr);
  memset(a, 0, sizeof *a);
}

/* ---- helpers ---- */

static char *json_text(const json_t *v, uint32_t *len) {
  char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
  if (s && len) *len = (uint32_t)strlen(s);
  return s;
}

static int event_index(const doppel_synth *s, const char *name, size_t n) {
  for (uint32_t i = 0; i < s->n_ev; i++)
    if (s->ev[i].len == n && memcmp(s->ev[i].name, name, n) == 0) return (int)i;
  return -1;
}

static uint8_t kind_of(const char *k) {
  if (!k) return DP_SK_TEXT;
  if (!strcmp(k, "email")) return DP_SK_EMAIL;
  if (!strcmp(k, "name")) return DP_SK_NAME;
  if (!strcmp(k, "ipv4") || !strcmp(k, "ip")) return DP_SK_IPV4;
  if (!strcmp(k, "ipv6")) return DP_SK_IPV6;
  if (!strcmp(k, "uuid")) return DP_SK_UUID;
  if (!strcmp(k, "hex")) return DP_SK_HEX;
  if (!strcmp(k, "hostname")) return DP_SK_HOST;
  if (!strcmp(k, "phone")) return DP_SK_PHONE;
  if (!strcmp(k, "integer")) return DP_SK_INTEGER;
  return DP_SK_TEXT;
}

/* The shapes of a "patterns" list, their alias table and (shares, when not
 * NULL) their shares; -1 out of memory, 0 otherwise. */
static int read_patterns(const json_t *arr, char ***pat, uint32_t *n, dp_alias *sel, double **shares) {
  *pat = NULL;
  *n = 0;
  if (shares) *shares = NULL;
  if (!json_is_array(arr) || json_array_size(arr) == 0) return 0;
  size_t m = json_array_size(arr);
  char **p = calloc(m, sizeof *p);
  double *w = calloc(m, sizeof *w);
  if (!p || !w) {
    free(p);
    free(w);
    return -1;
  }
  uint32_t k = 0;
  int rc = 0;
  for (size_t i = 0; i < m; i++) {
    const json_t *e = json_array_get(arr, i);
    const char *ps = json_string_value(json_object_get(e, "pattern"));
    double sh = json_num(json_object_get(e, "share"), 0);
    if (!ps || !(sh > 0) || !ps[0]) continue;
    if (!(p[k] = strdup(ps))) {
      rc = DP_ALIAS_NOMEM;
      break;
    }
    w[k++] = sh;
  }
  if (!rc && k) rc = dp_alias_build(sel, w, k); /* no mass: no patterns; out of memory: -1 */
  if (k == 0 || rc) {
    for (uint32_t i = 0; i < k; i++) free(p[i]);
    free(p);
    free(w);
    return rc == DP_ALIAS_NOMEM ? -1 : 0;
  }
  if (shares) *shares = w;
  else free(w);
  *pat = p;
  *n = k;
  return 0;
}

static void free_patterns(char **p, uint32_t n) {
  for (uint32_t i = 0; i < n; i++) free(p[i]);
  free(p);
}

/* timestamp format from the dominant shape */
static uint8_t ts_format(const char *pat) {
  if (!pat) return 0;
  size_t n = strlen(pat);
  if (strchr(pat, ' ')) return strchr(pat, '.') ? 3 : 2;
  if (n && pat[n - 1] == 'A') return 0;
  if (strchr(pat, '+') || (n > 6 && strchr(pat + 6, '-'))) return 1;
  return 0;
}

/* ---- values ---- */

static void vgen_release(dp_vgen *v) {
  dp_alias_free(&v->types);
  for (uint32_t i = 0; i < v->n_top; i++) free(v->top[i]);
  free(v->top);
  free(v->top_len);
  free(v->top_type);
  free(v->top_p);
  dp_alias_free(&v->topsel);
  free_patterns(v->pat, v->n_pat);
  free(v->pat_p);
  dp_alias_free(&v->patsel);
}

static int type_code(const char *t) {
  static const char *const names[] = {"null", "bool", "int", "float", "numeric_string", "string", "array"};
  for (int i = 0; i < DP_VT_COUNT; i++)
    if (!strcmp(t, names[i])) return i;
  return -1;
}

/* Compile the value part of a property entry. */
/* Shapes and a uniform length range from the string top values (weighted
 * by their shares); -1 on allocation failure, 0 otherwise (also when there
 * are no string values). */
static int top_shapes(dp_vgen *v) {
  char **p = calloc(v->n_top, sizeof *p);
  double *w = calloc(v->n_top, sizeof *w);
  uint32_t k = 0, lo = UINT32_MAX, hi = 0;
  if (!p || !w) {
    free(p);
    free(w);
    return -1;
  }
  for (uint32_t i = 0; i < v->n_top; i++) {
    if (v->top_type[i] != DP_VT_STRING || v->top_len[i] == 0) continue;
    char pat[40];
    size_t pl;
    dp_string_pattern(v->top[i], v->top_len[i], pat, &pl);
    pat[pl] = '\0';
    if (v->top_len[i] < lo) lo = v->top_len[i];
    if (v->top_len[i] > hi) hi = v->top_len[i];
    uint32_t j = 0;
    while (j < k && strcmp(p[j], pat)) j++;
    if (j == k) {
      if (!(p[k] = strdup(pat))) {
        free_patterns(p, k);
        free(w);
        return -1;
      }
      k++;
    }
    w[j] += v->top_p[i] > 0 ? v->top_p[i] : 1e-9;
  }
  if (k == 0 || dp_alias_build(&v->patsel, w, k) != 0) {
    free_patterns(p, k);
    free(w);
    return 0;
  }
  v->pat = p;
  v->pat_p = w;
  v->n_pat = k;
  memset(&v->slen, 0, sizeof v->slen);
  v->slen.kind = lo == hi ? DP_D_CONST : DP_D_UNIFORM;
  v->slen.a = lo;
  v->slen.b = hi;
  v->slen.mean = (lo + hi) / 2.0;
  v->slen.integer = 1;
  return 0;
}

static doppel_status vgen_compile(dp_vgen *v, const json_t *e, const char *what, doppel_diag *diag) {
  memset(v, 0, sizeof *v);
  const json_t *types = json_object_get(e, "types");
  const json_t *values = json_object_get(e, "values");
  const json_t *number = json_object_get(e, "number");
  const json_t *str = json_object_get(e, "string");
  const json_t *ts = json_object_get(e, "timestamp");
  const json_t *arr = json_object_get(e, "array");
  const char *cls = json_string_value(json_object_get(e, "class"));
  const char *kind = json_string_value(json_object_get(e, "kind"));
  char sub[300];
  /* types (null is counted by presence, not drawn) */
  double tw[DP_VT_COUNT] = {0};
  if (json_is_object(types)) {
    const char *key;
    const json_t *val;
    json_object_foreach((json_t *)types, key, val) {
      int t = type_code(key);
      if (t > DP_VT_NULL && json_is_number(val)) tw[t] = json_number_value(val);
    }
  }
  int any = 0;
  for (int t = 1; t < DP_VT_COUNT; t++) any |= tw[t] > 0;
  /* numbers */
  snprintf(sub, sizeof sub, "%s.number", what);
  int r = dist_read(number, &v->num, 0, sub, diag);
  if (r < 0) return DOPPEL_E_DATA;
  v->has_num = r > 0;
  /* top values */
  const json_t *top = json_object_get(values, "top");
  if (json_is_array(top) && json_array_size(top)) {
    size_t m = json_array_size(top);
    v->top = calloc(m, sizeof *v->top);
    v->top_len = calloc(m, sizeof *v->top_len);
    v->top_type = calloc(m, sizeof *v->top_type);
    double *w = calloc(m + 1, sizeof *w);
    if (!v->top || !v->top_len || !v->top_type || !w) {
      free(w);
      return dp_diag_set(diag, DOPPEL_E_NOMEM, NULL, 0, 0, NULL);
    }
    double sum = 0;
    for (size_t i = 0; i < m; i++) {
      const json_t *t = json_array_get(top, i);
      const json_t *val = json_object_get(t, "value");
      double sh = json_num(json_object_get(t, "share"), -1);
      if (!val || json_is_object(val) || json_is_array(val) || json_is_null(val)) {
        free(w);
        return BAD("%s.values.top[%zu]: expected a string, number or boolean value", what, i);
      }
      if (sh < 0) sh = json_num(json_object_get(t, "count"), 0);
      if (!(sh >= 0)) sh = 0;
      uint32_t k = v->n_top++;
      if (json_is_string(val)) {
        v->top_len[k] = (uint32_t)json_string_length(val);
        v->top[k] = malloc(v->top_len[k] + 1);
        if (v->top[k]) memcpy(v->top[k], json_string_value(val), v->top_len[k] + 1);
      } else {
        v->top[k] = json_text(val, &v->top_len[k]);
      }
      if (!v->top[k]) {
        free(w);
        return dp_diag_set(diag, DOPPEL_E_NOMEM, NULL, 0, 0, NULL);
      }
      v->top_type[k] = json_is_string(val) ? DP_VT_STRING
                       : json_is_boolean(val) ? DP_VT_BOOL
                       : json_is_integer(val) ? DP_VT_INT : DP_VT_FLOAT;
      w[k] = sh;
      sum += sh;
    }
    double other = json_num(json_object_get(values, "other"), -1);
    if (other < 0) other = sum > 0 && sum < 1 ? 1 - sum : 0;
    /* shares may be counts: normalize against the "other" share */
    if (sum > 1.000001) {
      for (uint32_t i = 0; i < v->n_top; i++) w[i] /= sum;
      sum = 1;
      if (other > 0) for (uint32_t i = 0; i < v->n_top; i++) w[i] *= 1 - fmin(other, 1);
    }
    w[v->n_top] = other;
    double wt = 0;
    for (uint32_t i = 0; i <= v->n_top; i++) wt += w[i];
    v->top_p = calloc(v->n_top + 1, sizeof *v->top_p);
    if (!v->top_p) {
      free(w);
      return dp_diag_set(diag, DOPPEL_E_NOMEM, NULL, 0, 0, NULL);
    }
    for (uint32_t i = 0; wt > 0 && i < v->n_top; i++) {
      v->top_p[i] = w[i] / wt;
      v->chance2 += v->top_p[i] * v->top_p[i];
    }
    int rc = dp_alias_build(&v->topsel, w, v->n_top + 1);
    free(w);
    if (rc == DP_ALIAS_NOMEM) return dp_diag_set(diag, DOPPEL_E_NOMEM, NULL, 0, 0, NULL);
    if (rc == 0) v->has_top = 1;
    if (!any)
      for (uint32_t i = 0; i < v->n_top; i++) tw[v->top_type[i]] += 1;
  }
  /* strings */
  if (json_is_object(str)) {
    snprintf(sub, sizeof sub, "%s.string.length", what);
    if (dist_read(json_object_get(str, "length"), &v->slen, 1, sub, diag) < 0) return DOPPEL_E_DATA;
    if (read_patterns(json_object_get(str, "patterns"), &v->pat, &v->n_pat, &v->patsel, &v->pat_p) < 0)
      return dp_diag_set(diag, DOPPEL_E_NOMEM, NULL, 0, 0, NULL);
  }
  /* a hand-written list of string values with an "other" share and no
   * string shapes: the other values take the listed ones' shapes and
   * lengths (two capital letters for countries, not made-up words) */
  if (!json_is_object(str) && v->has_top && top_shapes(v) != 0)
    return dp_diag_set(diag, DOPPEL_E_NOMEM, NULL, 0, 0, NULL);
  if (v->slen.kind == DP_D_NONE) dist_geom(&v->slen, 8, 1, 1);
  v->skind = kind_of(kind);
  if (cls && !strcmp(cls, "direct_identifier") && v->skind == DP_SK_TEXT) v->skind = DP_SK_NAME;
  if (v->n_pat && v->skind == DP_SK_TEXT && strchr(v->pat[0], '@')) v->skind = DP_SK_EMAIL;
  if (json_is_object(ts) && json_num(json_object_get(ts, "share"), 0) >= 0.5) {
    snprintf(sub, sizeof sub, "%s.timestamp.offset_s", what);
    if (dist_read(json_object_get(ts, "offset_s"), &v->ts_off, 0, sub, diag) < 0) return DOPPEL_E_DATA;
    if (v->ts_off.kind == DP_D_NONE) {
      v->ts_off.kind = DP_D_CONST;
      v->ts_off.a = 0;
    }
    v->skind = DP_SK_TIMESTAMP;
    v->ts_fmt = ts_format(v->n_pat ? v->pat[0] : NULL);
  }
  if (json_is_object(arr)) {
    snprintf(sub, sizeof sub, "%s.array.length", what);
    if (dist_read(json_object_get(arr, "length"), &v->alen, 1, sub, diag) < 0) return DOPPEL_E_DATA;
    if (v->alen.kind == DP_D_NONE) dist_geom(&v->alen, 2, 0, 1);
    v->has_arr = 1;
  }
  if (!any && !v->has_top) {
    /* hand-written: infer the type from what is given */
    if (v->has_arr) tw[DP_VT_ARRAY] = 1;
    else if (v->has_num) tw[v->num.integer ? DP_VT_INT : DP_VT_FLOAT] = 1;
    else tw[DP_VT_STRING] = 1;
  }
  if (tw[DP_VT_ARRAY] > 0) v->has_arr = 1, v->alen.kind == DP_D_NONE ? dist_geom(&v->alen, 2, 0, 1) : (void)0;
  double w[DP_VT_COUNT];
  uint32_t k = 0;
  for (int t = 1; t < DP_VT_COUNT; t++)
    if (tw[t] > 0) {
      v->type_of[k] = (uint8_t)t;
      w[k++] = tw[t];
    }
  if (k == 0) {
    v->type_of[0] = DP_VT_STRING;
    w[0] = 1;
    k = 1;
  }
  v->n_types = k;
  if (dp_alias_build(&v->types, w, k) != 0) return dp_diag_set(diag, DOPPEL_E_NOMEM, NULL, 0, 0, NULL);
  if (!v->has_num && (tw[DP_VT_INT] > 0 || tw[DP_VT_FLOAT] > 0 || tw[DP_VT_NUMSTR] > 0)) {
    dist_geom(&v->num, 10, 0, tw[DP_VT_FLOAT] <= 0);
    v->has_num = 1;
  }
  return DOPPEL_OK;
}

/* ---- the whole model ---- */

static void pgen_release(dp_pgen *p) {
  free(p->path);
  vgen_release(&p->v);
}

static void idgen_release(dp_idgen *g) {
  free_patterns(g->pat, g->n_pat);
  dp_alias_free(&g->patsel);
}

void dp_synth_release(doppel_synth *s) {
  for (uint32_t i = 0; i < s->n_ev; i++) {
    dp_evdef *e = &s->ev[i];
    free(e->name);
    free(e->json_name);
    for (uint32_t j = 0; j < e->n_props; j++) pgen_release(&e->props[j]);
    free(e->props);
    free(s->to ? s->to[i] : NULL);
    free(s->tp ? s->tp[i] : NULL);
    if (s->bridge)
      for (int d = 0; d <= DP_BRIDGE_D; d++) dp_alias_free(&s->bridge[i * (DP_BRIDGE_D + 1) + (uint32_t)d]);
  }
  free(s->ev);
  free(s->to);
  free(s->tp);
  free(s->n_to);
  free(s->bridge);
  free(s->p_end);
  free(s->first_w);
  free(s->beta);
  free(s->elig);
  free(s->boost);
  dp_alias_free(&s->mix);
  for (int d = 0; d <= DP_BRIDGE_D; d++) dp_alias_free(&s->first[d]);
  for (uint32_t i = 0; i < s->n_funnels; i++) {
    free(s->funnels[i].steps);
    free(s->funnels[i].conv);
  }
  free(s->funnels);
  for (uint32_t i = 0; i < s->n_groups; i++) {
    dp_alias_free(&s->groups[i].lens);
    dp_alias_free(&s->groups[i].days);
  }
  free(s->groups);
  for (int d = 0; d < 7; d++) dp_alias_free(&s->start_how[d]);
  free(s->arrival);
  free(s->ret_w);
  for (uint32_t i = 0; i < s->n_uprops; i++) pgen_release(&s->uprops[i]);
  free(s->uprops);
  for (uint32_t i = 0; i < s->n_gslots; i++) {
    free(s->gslot_path[i]);
    if (s->gslot_src) {
      free(s->gslot_src[i].ev);
      free(s->gslot_src[i].pg);
    }
  }
  free(s->gslot_path);
  free(s->gslot_src);
  idgen_release(&s->uid);
  idgen_release(&s->did);
  idgen_release(&s->sid);
  idgen_release(&s->iid);
  for (uint32_t i = 0; i < s->n_columns; i++) free(s->columns[i]);
  free(s->columns);
  for (uint32_t i = 0; i < s->n_ucolumns; i++) free(s->ucolumns[i]);
  free(s->ucolumns);
}

static doppel_status compile_events(doppel_synth *s, const json_t *p, doppel_diag *diag) {
  const json_t *events = json_object_get(p, "events");
  const json_t *list = json_object_get(events, "list");
  if (json_is_array(list) && json_array_size(list) == 0) {
    /* a learned profile whose every event name was held back by the k rule */
    const json_t *sup = json_object_get(events, "suppressed");
    json_int_t names = json_integer_value(json_object_get(sup, "names"));
    json_int_t k = json_integer_value(json_object_get(json_object_get(p, "privacy"), "k"));
    if (names > 0)
      return BAD("events.list is empty: the k rule held back every event name (%lld, each with fewer than "
                 "k = %lld users); profile more users, or use a lower --k",
                 (long long)names, (long long)k);
  }
  if (!json_is_array(list) || json_array_size(list) == 0)
    return BAD("events.list: expected at least one event (an array of {\"name\": ..., \"share\": ...})");
  size_t m = json_array_size(list);
  s->ev = calloc(m, sizeof *s->ev);
  if (!s->ev) return dp_diag_set(diag, DOPPEL_E_NOMEM, NULL, 0, 0, NULL);
  double *w = calloc(m, sizeof *w);
  if (!w) return dp_diag_set(diag, DOPPEL_E_NOMEM, NULL, 0, 0, NULL);
  double total = 0;
  for (size_t i = 0; i < m; i++) {
    const json_t *e = json_array_get(list, i);
    const json_t *nm = json_object_get(e, "name");
    if (!json_is_string(nm) || json_string_length(nm) == 0) {
      free(w);
      return BAD("events.list[%zu].name: expected a non-empty string", i);
    }
    if (event_index(s, json_string_value(nm), json_string_length(nm)) >= 0) {
      free(w);
      return BAD("events.list[%zu].name: event '%s' is listed twice", i, json_string_value(nm));
    }
    double sh = json_num(json_object_get(e, "share"), -1);
    if (sh < 0) sh = json_num(json_object_get(e, "count"), -1);
    if (sh < 0) sh = 1; /* hand-written without shares: equal mix */
    if (!isfinite(sh)) {
      free(w);
      return BAD("events.list[%zu].share: expected a number", i);
    }
    dp_evdef *d = &s->ev[s->n_ev++];
    d->len = (uint32_t)json_string_length(nm);
    d->name = malloc(d->len + 1);
    d->json_name = json_text(nm, &d->json_len);
    if (!d->name || !d->json_name) {
      free(w);
      return dp_diag_set(diag, DOPPEL_E_NOMEM, NULL, 0, 0, NULL);
    }
    memcpy(d->name, json_string_value(nm), d->len + 1);
    w[i] = sh;
    total += sh;
  }
  if (!(total > 0)) {
    free(w);
    return BAD("events.list: the event shares add up to 0");
  }
  for (uint32_t i = 0; i < s->n_ev; i++) s->ev[i].share = w[i] / total;
  if (dp_alias_build(&s->mix, w, s->n_ev) != 0) {
    free(w);
    return dp_diag_set(diag, DOPPEL_E_NOMEM, NULL, 0, 0, NULL);
  }
  free(w);
  return DOPPEL_OK;
}

/* Which users do each event: the profile says how many distinct users had
 * it. A user may do event y when its engagement rank is in the top e_y of
 * users; e_y is chosen so that the expected number of users who do y at
 * least once matches the profile, given how many events the top users
 * produce (so rare events of power users stay with power users). */
static doppel_status compile_eligibility(doppel_synth *s, const json_t *p, doppel_diag *diag) {
  const json_t *list = json_object_get(json_object_get(p, "events"), "list");
  s->elig = calloc(s->n_ev, sizeof *s->elig);
  s->boost = calloc(s->n_ev, sizeof *s->boost);
  if (!s->elig || !s->boost) return dp_diag_set(diag, DOPPEL_E_NOMEM, NULL, 0, 0, NULL);
  for (uint32_t y = 0; y < s->n_ev; y++) s->elig[y] = s->boost[y] = 1;
  const json_t *users = json_object_get(json_object_get(p, "population"), "users");
  double U = json_num(json_object_get(users, "estimate"), 0);
  const dp_dist *epu = &s->events_per_user;
  if (!(U > 0) || epu->kind != DP_D_QUANT) return DOPPEL_OK;
  /* events of the users at each percentile, and the share of events by the top users */
  double n[101], tail[102], tot = 0;
  for (int k = 0; k <= 100; k++) n[k] = epu->q[k] > 1 ? epu->q[k] : 1;
  tail[101] = 0;
  for (int k = 100; k >= 0; k--) tail[k] = tail[k + 1] + n[k];
  tot = tail[0];
  for (uint32_t y = 0; y < s->n_ev; y++) {
    double uy = json_num(json_object_get(json_array_get(list, y), "users"), -1);
    if (!(uy > 0)) continue;
    double target = uy / U, share = s->ev[y].share;
    if (target >= 0.999) continue;
    /* f(e): share of users that do y at least once when the top e are eligible */
    double lo = 0.005, hi = 1.0;
    for (int it = 0; it < 40; it++) {
      double e = (lo + hi) / 2;
      int k0 = (int)floor((1 - e) * 100.0);
      if (k0 < 0) k0 = 0;
      double eshare = tail[k0] / tot;            /* events of the eligible users */
      double r = share / (eshare > 0 ? eshare : 1); /* y's rate among their events */
      if (r > 0.95) r = 0.95;
      double f = 0;
      for (int k = k0; k <= 100; k++) f += 1 - pow(1 - r, n[k]);
      f /= 101.0;
      if (f < target) lo = e;
      else hi = e;
    }
    double e = (lo + hi) / 2;
    int k0 = (int)floor((1 - e) * 100.0);
    if (k0 < 0) k0 = 0;
    double eshare = tail[k0] / tot;
    s->elig[y] = e;
    s->boost[y] = eshare > 0 ? 1 / eshare : 1;
  }
  return DOPPEL_OK;
}

/* Transitions and the bridge tables. */
static doppel_status compile_chain(doppel_synth *s, const json_t *p, doppel_diag *diag) {
  const json_t *list = json_object_get(json_object_get(p, "events"), "list");
  uint32_t n = s->n_ev;
  s->p_end = calloc(n, sizeof *s->p_end);
  s->to = calloc(n, sizeof *s->to);
  s->tp = calloc(n, sizeof *s->tp);
  s->n_to = calloc(n, sizeof *s->n_to);
  s->bridge = calloc((size_t)n * (DP_BRIDGE_D + 1), sizeof *s->bridge);
  double *first = s->first_w = calloc(n, sizeof *first);
  double *beta = s->beta = calloc((size_t)n * (DP_BRIDGE_D + 1), sizeof *beta);
  double *wbuf = calloc(n + 1, sizeof *wbuf);
  if (!s->p_end || !s->to || !s->tp || !s->n_to || !s->bridge || !first || !beta || !wbuf) {
    free(wbuf);
    return dp_diag_set(diag, DOPPEL_E_NOMEM, NULL, 0, 0, NULL);
  }
  double mean_len = s->events_per_session.mean > 1 ? s->events_per_session.mean : 8;
  doppel_status st = DOPPEL_OK;
  /* when some events say how often they start a session, the others start none */
  int any_first = 0;
  for (uint32_t x = 0; x < n; x++) any_first |= json_is_number(json_object_get(json_array_get(list, x), "session_first_share"));
  for (uint32_t x = 0; x < n; x++) {
    const json_t *e = json_array_get(list, x);
    const json_t *next = json_object_get(e, "next");
    double fs = json_num(json_object_get(e, "session_first_share"), -1);
    first[x] = fs >= 0 ? fs : any_first ? 0 : s->ev[x].share;
    s->to[x] = calloc(n, sizeof **s->to);
    s->tp[x] = calloc(n, sizeof **s->tp);
    if (!s->to[x] || !s->tp[x]) {
      st = dp_diag_set(diag, DOPPEL_E_NOMEM, NULL, 0, 0, NULL);
      goto out;
    }
    if (json_is_object(next) && json_object_size(next)) {
      double end = 0, other = 0, listed = 0;
      const char *key;
      const json_t *val;
      for (uint32_t y = 0; y < n; y++) wbuf[y] = 0;
      json_object_foreach((json_t *)next, key, val) {
        double v = json_num(val, -1);
        if (!(v >= 0)) {
          st = BAD("events.list[%u].next.%s: expected a share from 0 to 1", x, key);
          goto out;
        }
        if (!strcmp(key, "$end")) end += v;
        else if (!strcmp(key, "$other")) other += v;
        else {
          int y = event_index(s, key, strlen(key));
          if (y < 0) other += v; /* a target that is not listed: like $other */
          else wbuf[y] += v, listed += v;
        }
      }
      double tot = end + other + listed;
      if (!(tot > 0)) {
        st = BAD("events.list[%u].next: the shares add up to 0", x);
        goto out;
      }
      /* $other goes to the listed targets in proportion (or to the mix) */
      double cont = (listed + other) / tot;
      s->p_end[x] = end / tot;
      for (uint32_t y = 0; y < n; y++) {
        double pr = listed > 0 ? wbuf[y] / listed * cont : s->ev[y].share * cont;
        if (pr > 0) {
          s->to[x][s->n_to[x]] = y;
          s->tp[x][s->n_to[x]++] = pr;
        }
      }
    } else {
      s->p_end[x] = 1.0 / mean_len;
      for (uint32_t y = 0; y < n; y++)
        if (s->ev[y].share > 0) {
          s->to[x][s->n_to[x]] = y;
          s->tp[x][s->n_to[x]++] = s->ev[y].share * (1 - s->p_end[x]);
        }
    }
  }
  /* beta_d(y) ∝ probability that exactly d more events follow y, then the end */
  for (uint32_t y = 0; y < n; y++) beta[y] = s->p_end[y] > 0 ? s->p_end[y] : 1e-12;
  for (int d = 1; d <= DP_BRIDGE_D; d++) {
    double norm = 0;
    for (uint32_t x = 0; x < n; x++) {
      double b = 0;
      for (uint32_t j = 0; j < s->n_to[x]; j++) b += s->tp[x][j] * beta[(size_t)(d - 1) * n + s->to[x][j]];
      beta[(size_t)d * n + x] = b;
      norm += b;
    }
    if (norm > 0)
      for (uint32_t x = 0; x < n; x++) beta[(size_t)d * n + x] /= norm;
    else
      for (uint32_t x = 0; x < n; x++) beta[(size_t)d * n + x] = 1.0 / n;
  }
  free(wbuf);
  if (st != DOPPEL_OK) return st;
  if (dp_chain_tables(s) != 0) return dp_diag_set(diag, DOPPEL_E_NOMEM, NULL, 0, 0, NULL);
  return DOPPEL_OK;
out:
  free(wbuf);
  return st;
}

/* (Re)build the bridge and first-event alias tables from the chain, the
 * beta vectors and the current eligibility boosts. 0 ok, -1 no memory. */
int dp_chain_tables(doppel_synth *s) {
  uint32_t n = s->n_ev;
  const double *first = s->first_w, *beta = s->beta;
  double *wbuf = calloc(n + 1, sizeof *wbuf);
  if (!wbuf) return -1;
  int rc = 0;
  /* tables: choosing the next event y with d events left after it */
  for (uint32_t x = 0; x < n; x++) {
    for (int d = 0; d <= DP_BRIDGE_D; d++) {
      dp_alias *a = &s->bridge[x * (DP_BRIDGE_D + 1) + (uint32_t)d];
      dp_alias_free(a);
      if (!s->n_to[x]) continue;
      double any = 0;
      for (uint32_t j = 0; j < s->n_to[x]; j++) {
        wbuf[j] = s->tp[x][j] * beta[(size_t)d * n + s->to[x][j]] * s->boost[s->to[x][j]];
        any += wbuf[j];
      }
      if (!(any > 0))
        for (uint32_t j = 0; j < s->n_to[x]; j++) wbuf[j] = s->tp[x][j];
      if (dp_alias_build(a, wbuf, s->n_to[x]) != 0) {
        rc = -1;
        goto out;
      }
    }
  }
  for (int d = 0; d <= DP_BRIDGE_D; d++) {
    dp_alias_free(&s->first[d]);
    double any = 0;
    for (uint32_t y = 0; y < n; y++) {
      wbuf[y] = first[y] * beta[(size_t)d * n + y] * s->boost[y];
      any += wbuf[y];
    }
    if (!(any > 0))
      for (uint32_t y = 0; y < n; y++) wbuf[y] = first[y] > 0 ? first[y] : s->ev[y].share;
    int built = dp_alias_build(&s->first[d], wbuf, n);
    if (built == DP_ALIAS_NOMEM) {
      rc = -1;
      goto out;
    }
    if (built != 0) {
      /* no start mass at all: fall back to the event mix */
      for (uint32_t y = 0; y < n; y++) wbuf[y] = s->ev[y].share;
      if (dp_alias_build(&s->first[d], wbuf, n) != 0) {
        rc = -1;
        goto out;
      }
    }
  }
out:
  free(wbuf);
  return rc;
}

static doppel_status compile_funnels(doppel_synth *s, const json_t *p, doppel_diag *diag) {
  const json_t *fs = json_object_get(p, "funnels");
  if (!fs) fs = json_object_get(json_object_get(p, "events"), "funnels");
  if (!fs || json_is_null(fs)) return DOPPEL_OK;
  if (!json_is_array(fs)) return BAD("funnels: expected an array");
  size_t m = json_array_size(fs);
  s->funnels = calloc(m ? m : 1, sizeof *s->funnels);
  if (!s->funnels) return dp_diag_set(diag, DOPPEL_E_NOMEM, NULL, 0, 0, NULL);
  for (size_t i = 0; i < m; i++) {
    const json_t *f = json_array_get(fs, i);
    const json_t *steps = json_object_get(f, "steps"), *conv = json_object_get(f, "conversion");
    if (!json_is_array(steps) || json_array_size(steps) < 2)
      return BAD("funnels[%zu].steps: expected at least two event names", i);
    size_t ns = json_array_size(steps);
    if (!json_is_array(conv) || json_array_size(conv) != ns - 1)
      return BAD("funnels[%zu].conversion: expected %zu rates (one per step after the first)", i, ns - 1);
    struct dp_funnel *fu = &s->funnels[s->n_funnels++];
    fu->steps = calloc(ns, sizeof *fu->steps);
    fu->conv = calloc(ns, sizeof *fu->conv);
    if (!fu->steps || !fu->conv) return dp_diag_set(diag, DOPPEL_E_NOMEM, NULL, 0, 0, NULL);
    fu->n = (uint32_t)ns;
    for (size_t j = 0; j < ns; j++) {
      const char *nm = json_string_value(json_array_get(steps, j));
      int y = nm ? event_index(s, nm, strlen(nm)) : -1;
      if (y < 0) return BAD("funnels[%zu].steps[%zu]: '%s' is not in events.list", i, j, nm ? nm : "?");
      fu->steps[j] = (uint32_t)y;
      if (j) {
        double c = json_num(json_array_get(conv, j - 1), -1);
        if (!(c >= 0 && c <= 1)) return BAD("funnels[%zu].conversion[%zu]: expected a rate from 0 to 1", i, j - 1);
        fu->conv[j] = c;
      }
    }
    fu->start = json_num(json_object_get(f, "start_share"), s->ev[fu->steps[0]].share);
    if (!(fu->start >= 0 && fu->start <= 1)) return BAD("funnels[%zu].start_share: expected a share from 0 to 1", i);
  }
  return DOPPEL_OK;
}

static doppel_status compile_sessions(doppel_synth *s, const json_t *p, doppel_diag *diag) {
  const json_t *pop = json_object_get(p, "population");
  const json_t *ses = json_object_get(p, "sessions");
  int r;
  if ((r = dist_read(json_object_get(pop, "sessions_per_user"), &s->sessions_per_user, 1,
                     "population.sessions_per_user", diag)) < 0)
    return DOPPEL_E_DATA;
  if (!r) dist_geom(&s->sessions_per_user, 3, 1, 1);
  if (dist_read(json_object_get(pop, "events_per_user"), &s->events_per_user, 1, "population.events_per_user", diag) < 0)
    return DOPPEL_E_DATA;
  if (dist_read(json_object_get(pop, "lifetime_days"), &s->lifetime, 1, "population.lifetime_days", diag) < 0)
    return DOPPEL_E_DATA;
  if ((r = dist_read(json_object_get(pop, "active_days_per_user"), &s->active_days, 1,
                     "population.active_days_per_user", diag)) < 0)
    return DOPPEL_E_DATA;
  if ((r = dist_read(json_object_get(ses, "events_per_session"), &s->events_per_session, 1,
                     "sessions.events_per_session", diag)) < 0)
    return DOPPEL_E_DATA;
  if (!r) dist_geom(&s->events_per_session, 8, 1, 1);
  if ((r = dist_read(json_object_get(ses, "inter_event_s"), &s->gaps, 0, "sessions.inter_event_s", diag)) < 0)
    return DOPPEL_E_DATA;
  if (!r) {
    memset(&s->gaps, 0, sizeof s->gaps);
    s->gaps.kind = DP_D_LOGNORMAL;
    s->gaps.a = 30;
    s->gaps.b = 1.2;
    s->gaps.mean = 30 * exp(0.72);
  }
  double gap_s = json_num(json_object_get(ses, "gap_s"), 1800);
  if (!(gap_s >= 1)) return BAD("sessions.gap_s: expected at least 1 second");
  s->gap_us = (int64_t)(gap_s * 1e6);
  /* length bins and their probability ranges */
  const json_t *bu = json_object_get(ses, "by_user_sessions");
  const json_t *bins = json_object_get(bu, "bins"), *groups = json_object_get(bu, "groups");
  static const uint32_t dflt_bins[17] = {1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 129, 257, 1025, UINT32_MAX};
  memcpy(s->bin_lo, dflt_bins, sizeof s->bin_lo);
  if (json_is_array(bins) && json_array_size(bins) == 16) {
    for (int b = 0; b < 16; b++) {
      double v = json_num(json_array_get(bins, (size_t)b), -1);
      if (!(v >= 1) || (b && v <= s->bin_lo[b - 1])) return BAD("sessions.by_user_sessions.bins: expected 16 increasing lower bounds");
      s->bin_lo[b] = (uint32_t)v;
    }
  }
  for (int b = 0; b < 16; b++) {
    dp_dist_urange(&s->events_per_session, s->bin_lo[b], s->bin_lo[b + 1] - 1.0, &s->bin_ulo[b], &s->bin_uhi[b]);
    if (s->active_days.kind)
      dp_dist_urange(&s->active_days, s->bin_lo[b], s->bin_lo[b + 1] - 1.0, &s->day_ulo[b], &s->day_uhi[b]);
  }
  if (json_is_array(groups) && json_array_size(groups)) {
    size_t m = json_array_size(groups);
    s->groups = calloc(m, sizeof *s->groups);
    if (!s->groups) return dp_diag_set(diag, DOPPEL_E_NOMEM, NULL, 0, 0, NULL);
    for (size_t i = 0; i < m; i++) {
      const json_t *g = json_array_get(groups, i);
      dp_group *gr = &s->groups[s->n_groups];
      double smin = json_num(json_object_get(g, "sessions_min"), -1);
      const json_t *smax = json_object_get(g, "sessions_max");
      const json_t *lens = json_object_get(g, "lengths"), *days = json_object_get(g, "active_days");
      if (!(smin >= 1) || !json_is_array(lens) || json_array_size(lens) != 16)
        return BAD("sessions.by_user_sessions.groups[%zu]: expected sessions_min and 16 lengths", i);
      gr->smin = (uint32_t)smin;
      gr->smax = json_is_number(smax) ? (uint32_t)json_number_value(smax) : UINT32_MAX;
      double w[16];
      for (int b = 0; b < 16; b++) {
        w[b] = json_num(json_array_get(lens, (size_t)b), 0);
        /* a bin the distribution gives no mass cannot be drawn from */
        if (s->bin_uhi[b] <= s->bin_ulo[b]) w[b] = 0;
      }
      int rc = dp_alias_build(&gr->lens, w, 16);
      if (rc == DP_ALIAS_NOMEM) return dp_diag_set(diag, DOPPEL_E_NOMEM, NULL, 0, 0, NULL);
      if (rc != 0) continue; /* empty group */
      if (json_is_array(days) && json_array_size(days) == 16 && s->active_days.kind) {
        for (int b = 0; b < 16; b++) {
          w[b] = json_num(json_array_get(days, (size_t)b), 0);
          if (s->day_uhi[b] <= s->day_ulo[b]) w[b] = 0;
        }
        if ((rc = dp_alias_build(&gr->days, w, 16)) == DP_ALIAS_NOMEM)
          return dp_diag_set(diag, DOPPEL_E_NOMEM, NULL, 0, 0, NULL);
        gr->has_days = rc == 0;
      }
      s->n_groups++;
    }
  }
  /* session start hours per weekday */
  const json_t *sh = json_object_get(ses, "start_hour_of_week");
  if (!json_is_array(sh) || json_array_size(sh) != 168) sh = json_object_get(json_object_get(p, "time"), "hour_of_week");
  double how[168];
  double tot = 0;
  for (int i = 0; i < 168; i++) {
    how[i] = json_is_array(sh) && json_array_size(sh) == 168 ? json_num(json_array_get(sh, (size_t)i), 0) : 1;
    if (!(how[i] >= 0)) how[i] = 0;
    tot += how[i];
  }
  if (!(tot > 0))
    for (int i = 0; i < 168; i++) how[i] = 1;
  /* the weekday profile of activity (from all events when given) */
  const json_t *eh = json_object_get(json_object_get(p, "time"), "hour_of_week");
  double wdt = 0, wdw[7] = {0};
  for (int d = 0; d < 7; d++) {
    for (int h = 0; h < 24; h++)
      wdw[d] += json_is_array(eh) && json_array_size(eh) == 168 ? json_num(json_array_get(eh, (size_t)(d * 24 + h)), 0)
                                                               : how[d * 24 + h];
    wdt += wdw[d];
  }
  s->weekday_max = 0;
  for (int d = 0; d < 7; d++) {
    s->weekday_f[d] = wdt > 0 ? wdw[d] * 7 / wdt : 1;
    if (s->weekday_f[d] > s->weekday_max) s->weekday_max = s->weekday_f[d];
  }
  if (!(s->weekday_max > 0)) {
    for (int d = 0; d < 7; d++) s->weekday_f[d] = 1;
    s->weekday_max = 1;
  }
  for (int d = 0; d < 7; d++) {
    double w = 0;
    for (int h = 0; h < 24; h++) w += how[d * 24 + h];
    s->weekday_w[d] = w;
    double c = 0;
    for (int h = 0; h < 24; h++) {
      c += w > 0 ? how[d * 24 + h] / w : 1.0 / 24;
      s->start_cdf[d][h] = c;
    }
    s->start_cdf[d][23] = 1.0;
    int rc = dp_alias_build(&s->start_how[d], how + d * 24, 24);
    if (rc == DP_ALIAS_NOMEM) return dp_diag_set(diag, DOPPEL_E_NOMEM, NULL, 0, 0, NULL);
    if (rc != 0) {
      double flat[24];
      for (int h = 0; h < 24; h++) flat[h] = 1;
      if (dp_alias_build(&s->start_how[d], flat, 24) != 0) return dp_diag_set(diag, DOPPEL_E_NOMEM, NULL, 0, 0, NULL);
    }
  }
  return DOPPEL_OK;
}

static int64_t parse_day(const char *s) {
  int64_t us;
  if (!s || doppel_time_parse(s, strlen(s), &us, NULL, NULL) != DOPPEL_OK) return INT64_MIN;
  return us;
}

static doppel_status compile_time(doppel_synth *s, const json_t *p, doppel_diag *diag) {
  const json_t *src = json_object_get(p, "source");
  const json_t *ts = json_object_get(src, "time_span");
  int64_t first = parse_day(json_string_value(json_object_get(ts, "first_day")));
  s->start_us = first != INT64_MIN ? first : INT64_C(1704067200) * 1000000; /* 2024-01-01 */
  const char *res = json_string_value(json_object_get(src, "time_resolution"));
  s->res_us = res && !strcmp(res, "us") ? 1 : res && !strcmp(res, "ms") ? 1000 : 1000000;
  double days = json_num(json_object_get(ts, "days"), 0);
  const json_t *tm = json_object_get(p, "time");
  const json_t *nu = json_object_get(tm, "new_users_per_day");
  int weekly = 0;
  if (!json_is_object(nu)) {
    nu = json_object_get(tm, "new_users_per_week");
    weekly = json_is_object(nu);
  }
  const json_t *counts = json_object_get(nu, "counts");
  if (json_is_array(counts) && json_array_size(counts)) {
    size_t m = json_array_size(counts);
    size_t nd = weekly ? m * 7 : m;
    s->arrival = calloc(nd, sizeof *s->arrival);
    if (!s->arrival) return dp_diag_set(diag, DOPPEL_E_NOMEM, NULL, 0, 0, NULL);
    for (size_t i = 0; i < m; i++) {
      double c = json_num(json_array_get(counts, i), 0);
      if (!(c >= 0)) return BAD("time.new_users_per_%s.counts[%zu]: expected a count", weekly ? "week" : "day", i);
      if (weekly)
        for (int k = 0; k < 7; k++) s->arrival[i * 7 + (size_t)k] = c / 7;
      else
        s->arrival[i] = c;
    }
    s->n_arrival = (uint32_t)nd;
    s->arrival_daily = !weekly;
    int64_t start = parse_day(json_string_value(json_object_get(nu, "start")));
    if (start != INT64_MIN && first == INT64_MIN) s->start_us = start;
    if (days <= 0) days = (double)nd;
  }
  if (days <= 0) days = 30;
  s->days = (uint32_t)days;
  /* retention weights of day N after the first */
  const json_t *ret = json_object_get(tm, "retention");
  const json_t *dshare = json_object_get(json_object_get(ret, "day"), "share");
  const json_t *wshare = json_object_get(json_object_get(ret, "week"), "share");
  double rd[31], rw[13];
  int nd = 0, nw = 0;
  for (size_t i = 0; json_is_array(dshare) && i < json_array_size(dshare) && i < 31; i++) rd[nd++] = json_num(json_array_get(dshare, i), 0);
  for (size_t i = 0; json_is_array(wshare) && i < json_array_size(wshare) && i < 13; i++) rw[nw++] = json_num(json_array_get(wshare, i), 0);
  /* hand-written targets: {"day1": 0.4, "day7": 0.2, "day30": 0.1} */
  const json_t *tg = json_object_get(ret, "target");
  if (nd < 2 && json_is_object(tg)) {
    double d1 = json_num(json_object_get(tg, "day1"), 0.4), d7 = json_num(json_object_get(tg, "day7"), d1 / 2);
    double b = d1 > 0 && d7 > 0 ? log(d1 / d7) / log(7.0) : 0.5;
    rd[0] = 1;
    for (int i = 1; i < 31; i++) rd[i] = d1 * pow((double)i, -b);
    nd = 31;
  }
  if (nd < 2) {
    /* default: day 1 / 7 / 30 of 40% / 20% / 10% (power law) */
    double b = log(2.0) / log(7.0);
    rd[0] = 1;
    for (int i = 1; i < 31; i++) rd[i] = 0.4 * pow((double)i, -b);
    nd = 31;
  }
  s->ret_n = DP_RET_MAX;
  s->ret_w = calloc(s->ret_n, sizeof *s->ret_w);
  if (!s->ret_w) return dp_diag_set(diag, DOPPEL_E_NOMEM, NULL, 0, 0, NULL);
  /* day N < 31: the day curve; then the week curve, scaled to meet the day
   * curve; then a power-law tail fitted to the week curve */
  double scale = 1;
  if (nw > (nd - 1) / 7 && rw[(nd - 1) / 7] > 0) scale = rd[nd - 1] / rw[(nd - 1) / 7];
  uint32_t wend = nw > 0 ? (uint32_t)(7 * nw) : (uint32_t)nd;
  if (wend < (uint32_t)nd) wend = (uint32_t)nd;
  double b = 0.5;
  if (nw > 5 && rw[4] > 0 && rw[nw - 1] > 0 && rw[nw - 1] < rw[4]) b = log(rw[4] / rw[nw - 1]) / log((nw - 1) / 4.0);
  if (nd > 8 && rd[7] > 0 && rd[nd - 1] > 0 && nw <= 5 && rd[nd - 1] < rd[7]) b = log(rd[7] / rd[nd - 1]) / log((nd - 1) / 7.0);
  if (b < 0.2) b = 0.2;
  if (b > 2) b = 2;
  for (uint32_t i = 0; i < s->ret_n; i++) {
    double w;
    if ((int)i < nd) w = rd[i];
    else if (i < wend) w = rw[i / 7] * scale;
    else {
      double at = wend - 1.0;
      double base = wend > (uint32_t)nd ? rw[nw - 1] * scale : rd[nd - 1];
      w = base * pow((double)i / at, -b);
    }
    s->ret_w[i] = w > 0 && isfinite(w) ? w : 0;
  }
  return DOPPEL_OK;
}

/* Source container of a property path: 1 event properties, 2 user properties, 0 top level. */
static const char *strip(const char *path, const char *prefix) {
  if (!prefix) return NULL;
  size_t n = strlen(prefix);
  if (!strncmp(path, prefix, n) && path[n] == '.') return path + n + 1;
  return NULL;
}

static uint32_t gslot_of(doppel_synth *s, const char *path) {
  for (uint32_t i = 0; i < s->n_gslots; i++)
    if (!strcmp(s->gslot_path[i], path)) return i;
  char **ng = realloc(s->gslot_path, (s->n_gslots + 1) * sizeof *ng);
  if (!ng) return UINT32_MAX;
  s->gslot_path = ng;
  s->gslot_path[s->n_gslots] = strdup(path);
  if (!s->gslot_path[s->n_gslots]) return UINT32_MAX;
  return s->n_gslots++;
}

static doppel_status add_prop(doppel_synth *s, dp_pgen **arr, uint32_t *n, const json_t *e, const char *path,
                              const char *what, doppel_diag *diag) {
  dp_pgen *na = realloc(*arr, (*n + 1) * sizeof *na);
  if (!na) return dp_diag_set(diag, DOPPEL_E_NOMEM, NULL, 0, 0, NULL);
  *arr = na;
  dp_pgen *g = &na[*n];
  memset(g, 0, sizeof *g);
  g->path = strdup(path);
  if (!g->path) return dp_diag_set(diag, DOPPEL_E_NOMEM, NULL, 0, 0, NULL);
  double pres = json_num(json_object_get(e, "presence"), 1);
  if (!(pres >= 0 && pres <= 1)) {
    free(g->path);
    return BAD("%s.presence: expected a share from 0 to 1", what);
  }
  g->presence = pres;
  const json_t *c = json_object_get(e, "constancy");
  g->c_user = json_num(json_object_get(c, "user"), -1);
  g->c_sess = json_num(json_object_get(c, "session"), -1);
  g->gslot = gslot_of(s, path);
  g->pid = s->n_pids++;
  if (g->gslot == UINT32_MAX) {
    free(g->path);
    return dp_diag_set(diag, DOPPEL_E_NOMEM, NULL, 0, 0, NULL);
  }
  doppel_status st = vgen_compile(&g->v, e, what, diag);
  if (st != DOPPEL_OK) {
    free(g->path);
    vgen_release(&g->v);
    return st;
  }
  (*n)++;
  return DOPPEL_OK;
}

static doppel_status compile_props(doppel_synth *s, const json_t *p, doppel_diag *diag) {
  const doppel_field_map *m = doppel_dialect_fields(s->src_dialect);
  const json_t *props = json_object_get(p, "properties");
  char what[300];
  if (props && !json_is_array(props)) return BAD("properties: expected an array");
  for (size_t i = 0; i < json_array_size(props); i++) {
    const json_t *e = json_array_get(props, i);
    const char *ev = json_string_value(json_object_get(e, "event"));
    const char *path = json_string_value(json_object_get(e, "path"));
    snprintf(what, sizeof what, "properties[%zu]", i);
    if (!path || !path[0]) return BAD("%s.path: expected a field path", what);
    if (!ev) return BAD("%s.event: expected an event name or \"*\"", what);
    /* a bare key in a hand-written profile goes under the properties container */
    char full[512];
    if (!strchr(path, '.') && m->properties && strcmp(path, m->properties) != 0 && !json_object_get(e, "types"))
      snprintf(full, sizeof full, "%s.%s", m->properties, path);
    else
      snprintf(full, sizeof full, "%s", path);
    for (uint32_t x = 0; x < s->n_ev; x++) {
      if (strcmp(ev, "*") != 0 && (strlen(ev) != s->ev[x].len || memcmp(ev, s->ev[x].name, s->ev[x].len))) continue;
      doppel_status st = add_prop(s, &s->ev[x].props, &s->ev[x].n_props, e, full, what, diag);
      if (st != DOPPEL_OK) return st;
    }
  }
  const json_t *up = json_object_get(p, "user_properties");
  if (up && !json_is_array(up)) return BAD("user_properties: expected an array");
  for (size_t i = 0; i < json_array_size(up); i++) {
    const json_t *e = json_array_get(up, i);
    const char *path = json_string_value(json_object_get(e, "path"));
    snprintf(what, sizeof what, "user_properties[%zu]", i);
    if (!path || !path[0]) return BAD("%s.path: expected a field path", what);
    char full[512];
    if (!strip(path, m->user_properties) && m->user_properties && !strchr(path, '.'))
      snprintf(full, sizeof full, "%s.%s", m->user_properties, path);
    else
      snprintf(full, sizeof full, "%s", path);
    doppel_status st = add_prop(s, &s->uprops, &s->n_uprops, e, full, what, diag);
    if (st != DOPPEL_OK) return st;
  }
  return DOPPEL_OK;
}

static doppel_status compile_id(dp_idgen *g, const json_t *j, uint8_t dflt_kind, const char *what, doppel_diag *diag) {
  memset(g, 0, sizeof *g);
  g->kind = dflt_kind;
  dist_geom(&g->len, 16, 16, 1);
  g->len.kind = DP_D_CONST;
  g->len.a = 16;
  if (!json_is_object(j)) return DOPPEL_OK;
  g->present = 1;
  g->share = json_num(json_object_get(j, "present"), 1);
  const char *k = json_string_value(json_object_get(j, "kind"));
  if (k) {
    if (!strcmp(k, "string")) g->kind = DP_SK_TEXT;
    else g->kind = kind_of(k);
  }
  char sub[200];
  snprintf(sub, sizeof sub, "identifiers.%s.length", what);
  if (dist_read(json_object_get(j, "length"), &g->len, 1, sub, diag) < 0) return DOPPEL_E_DATA;
  if (read_patterns(json_object_get(j, "patterns"), &g->pat, &g->n_pat, &g->patsel, NULL) < 0)
    return dp_diag_set(diag, DOPPEL_E_NOMEM, NULL, 0, 0, NULL);
  return DOPPEL_OK;
}

doppel_status dp_synth_compile(doppel_synth *s, const json_t *p, doppel_diag *diag) {
  if (!json_is_object(p)) return BAD("expected a profile (a JSON object)");
  const char *fmt = json_string_value(json_object_get(p, "format"));
  if (fmt && strcmp(fmt, "doppel-profile/1") != 0)
    return BAD("format: expected \"doppel-profile/1\", got \"%s\"", fmt);
  const char *dn = json_string_value(json_object_get(json_object_get(p, "source"), "dialect"));
  s->src_dialect = dn ? doppel_dialect_parse(dn) : DOPPEL_DIALECT_GENERIC;
  if (s->src_dialect == DOPPEL_DIALECT_COUNT || s->src_dialect == DOPPEL_DIALECT_AUTO)
    s->src_dialect = DOPPEL_DIALECT_GENERIC;
  doppel_status st;
  if ((st = compile_events(s, p, diag)) != DOPPEL_OK) return st;
  if ((st = compile_sessions(s, p, diag)) != DOPPEL_OK) return st;
  if ((st = compile_eligibility(s, p, diag)) != DOPPEL_OK) return st;
  if ((st = compile_chain(s, p, diag)) != DOPPEL_OK) return st;
  if ((st = compile_funnels(s, p, diag)) != DOPPEL_OK) return st;
  if ((st = compile_time(s, p, diag)) != DOPPEL_OK) return st;
  if ((st = compile_props(s, p, diag)) != DOPPEL_OK) return st;
  const json_t *ids = json_object_get(p, "identifiers");
  if ((st = compile_id(&s->uid, json_object_get(ids, "user_id"), DP_SK_HEX, "user_id", diag)) != DOPPEL_OK ||
      (st = compile_id(&s->did, json_object_get(ids, "device_id"), DP_SK_UUID, "device_id", diag)) != DOPPEL_OK ||
      (st = compile_id(&s->sid, json_object_get(ids, "session_id"), DP_SK_INTEGER, "session_id", diag)) != DOPPEL_OK ||
      (st = compile_id(&s->iid, json_object_get(ids, "insert_id"), DP_SK_UUID, "insert_id", diag)) != DOPPEL_OK)
    return st;
  if (!json_is_object(json_object_get(ids, "user_id")) && !json_is_object(json_object_get(ids, "device_id"))) {
    s->uid.present = 1; /* hand-written: user ids */
    s->uid.share = 1;
  }
  if (s->sid.present && s->sid.kind == DP_SK_INTEGER) {
    /* epoch-millisecond session ids (Amplitude) have 13 digits */
    double mlen = s->sid.len.kind == DP_D_QUANT ? s->sid.len.q[50] : s->sid.len.a;
    s->sid.epoch_ms = mlen >= 12.5 && mlen <= 13.5;
  }
  if (!s->iid.present) {
    s->iid.present = 1; /* unique insert ids are always generated */
    s->iid.share = 1;
    s->iid.kind = DP_SK_UUID;
  }
  const json_t *users = json_object_get(json_object_get(p, "population"), "users");
  double nu = json_num(json_object_get(users, "estimate"), json_num(users, 1000));
  s->profile_users = nu >= 1 ? (uint64_t)nu : 1000;
  const json_t *epu = json_object_get(json_object_get(p, "population"), "events_per_user");
  double mean = json_num(json_object_get(epu, "mean"), 0);
  s->mean_events = mean > 0 ? mean : s->sessions_per_user.mean * s->events_per_session.mean;
  if (!(s->mean_events > 0)) s->mean_events = 1;
  return DOPPEL_OK;
}
