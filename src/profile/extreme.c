/*
 * extreme.c — dp_ext: the k users with the largest (or smallest) values,
 * each with its exact extreme, so the k-th of them is the clip bound the
 * privacy rules ask for ("extremes are clipped to the k-th most extreme
 * user's value").
 *
 * Why it is exact: the set holds at most k users. A value v of user u is
 * skipped when the set is full and v does not beat the set's weakest entry
 * w — then u's extreme is not changed by v if u is in the set (its entry is
 * at least w), and u could not enter the set with v. Otherwise u's entry is
 * updated, or u enters (evicting the weakest). An evicted user only comes
 * back with a value beating the weakest at that time, which beats every
 * value it had before, so its entry again equals its true extreme. Merging
 * takes, per user, the better entry of both sides and keeps the best k —
 * the same set as one pass over the union. O(k) per accepted value; most
 * values are rejected by one comparison.
 */
#include "core/nomem.h"
#include "profile/profile_int.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/diag.h"

doppel_status dp_ext_init(dp_ext *x, uint32_t k, int lowest) {
  x->n = 0;
  x->k = k;
  x->lowest = lowest;
  x->it = malloc((size_t)k * sizeof *x->it);
  return x->it ? DOPPEL_OK : DOPPEL_E_NOMEM;
}

void dp_ext_release(dp_ext *x) {
  free(x->it);
  x->it = NULL;
  x->n = 0;
}

/* a beats b */
static inline int better(const dp_ext *x, double a, double b) { return x->lowest ? a < b : a > b; }

static uint32_t weakest(const dp_ext *x) {
  uint32_t w = 0;
  for (uint32_t i = 1; i < x->n; i++)
    if (better(x, x->it[w].v, x->it[i].v) ||
        (x->it[w].v == x->it[i].v && x->it[i].user > x->it[w].user))
      w = i;
  return w;
}

void dp_ext_add(dp_ext *x, uint64_t user, double v) {
  if (!x->it || isnan(v)) return;
  if (x->n == x->k) {
    /* fast reject: not better than the weakest entry (cached) */
    if (!better(x, v, x->wv)) return;
    uint32_t w = x->wi;
    for (uint32_t i = 0; i < x->n; i++)
      if (x->it[i].user == user) {
        if (better(x, v, x->it[i].v)) x->it[i].v = v;
        x->wi = weakest(x);
        x->wv = x->it[x->wi].v;
        return;
      }
    x->it[w].user = user;
    x->it[w].v = v;
    x->wi = weakest(x);
    x->wv = x->it[x->wi].v;
    return;
  }
  for (uint32_t i = 0; i < x->n; i++)
    if (x->it[i].user == user) {
      if (better(x, v, x->it[i].v)) x->it[i].v = v;
      return;
    }
  x->it[x->n].user = user;
  x->it[x->n].v = v;
  x->n++;
  if (x->n == x->k) {
    x->wi = weakest(x);
    x->wv = x->it[x->wi].v;
  }
}

void dp_ext_merge(dp_ext *dst, const dp_ext *src) {
  for (uint32_t i = 0; i < src->n; i++) dp_ext_add(dst, src->it[i].user, src->it[i].v);
}

int dp_ext_bound(const dp_ext *x, double *out) {
  if (x->n < x->k || x->k == 0) return 0;
  *out = x->it[weakest(x)].v;
  return 1;
}

static int cmp_item(const void *a, const void *b) {
  const dp_ext_item *x = a, *y = b;
  if (x->user != y->user) return x->user < y->user ? -1 : 1;
  return 0;
}

json_t *dp_ext_to_json(const dp_ext *x) {
  dp_ext_item *s = malloc(((size_t)x->n + 1) * sizeof *s);
  json_t *a = json_array();
  if (!s) {
    dp_nomem_note(); /* the document being built lacks the list (core/nomem.h) */
    return a;
  }
  memcpy(s, x->it, (size_t)x->n * sizeof *s);
  qsort(s, x->n, sizeof *s, cmp_item);
  for (uint32_t i = 0; i < x->n; i++) {
    char b[17];
    snprintf(b, sizeof b, "%016" PRIx64, s[i].user);
    json_t *p = json_array();
    json_array_append_new(p, json_string(b));
    json_array_append_new(p, json_real(s[i].v));
    json_array_append_new(a, p);
  }
  free(s);
  return a;
}

doppel_status dp_ext_from_json(dp_ext *x, const json_t *j, doppel_diag *diag, const char *what) {
  x->n = 0;
  if (!json_is_array(j) || json_array_size(j) > x->k)
    return dp_diag_set(diag, DOPPEL_E_DATA, NULL, 0, 0, "state: malformed extremes '%s'", what);
  size_t i;
  const json_t *p;
  json_array_foreach(j, i, p) {
    const char *h = json_string_value(json_array_get(p, 0));
    const json_t *v = json_array_get(p, 1);
    char *end;
    if (!h || strlen(h) != 16 || !json_is_number(v))
      return dp_diag_set(diag, DOPPEL_E_DATA, NULL, 0, 0, "state: malformed extremes '%s'", what);
    uint64_t u = strtoull(h, &end, 16);
    if (*end) return dp_diag_set(diag, DOPPEL_E_DATA, NULL, 0, 0, "state: malformed extremes '%s'", what);
    dp_ext_add(x, u, json_number_value(v));
  }
  return DOPPEL_OK;
}
