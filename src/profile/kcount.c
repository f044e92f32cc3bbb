/*
 * kcount.c — dp_kc, the profiler's heavy-hitter table with per-entry
 * k-smallest user sets (see profile_int.h), and dp_kset_add.
 *
 * Layout: dense entries plus an open-addressing index of entry numbers; the
 * user sets live in one array, k slots per entry. A reduction (table full,
 * new item) finds the median counter with a selection pass, subtracts it
 * from every counter, frees entries that reach zero and rebuilds the index:
 * O(cap) work that frees at least half the table, so O(1) amortized per
 * item. JSON state: {"cap","k","values","error","total","entries":[[key as
 * 16 hex digits, count, [user hashes as hex...], value base64 or null,
 * truncated, vtype], ...]} in sorted order.
 */
#include "profile/profile_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/diag.h"
#include "core/nomem.h"
#include "sketch/sketch_int.h"

int dp_kset_add(uint64_t *set, uint16_t *n, uint32_t k, uint64_t u) {
  uint16_t m = *n;
  if (m == k && u >= set[m - 1]) return 0;
  /* binary search for u */
  uint32_t lo = 0, hi = m;
  while (lo < hi) {
    uint32_t mid = (lo + hi) / 2;
    if (set[mid] < u) lo = mid + 1;
    else hi = mid;
  }
  if (lo < m && set[lo] == u) return 0;
  if (m == k) m--; /* drop the largest */
  memmove(set + lo + 1, set + lo, (size_t)(m - lo) * sizeof *set);
  set[lo] = u;
  *n = (uint16_t)(m + 1);
  return 1;
}

static uint32_t pow2_at_least(uint32_t x) {
  uint32_t p = 16;
  while (p < x) p <<= 1;
  return p;
}

doppel_status dp_kc_init(dp_kc *t, uint32_t cap, uint32_t k, int store_values) {
  memset(t, 0, sizeof *t);
  if (cap == 0) return DOPPEL_OK; /* a disabled table */
  t->cap = cap;
  t->k = k ? k : 1;
  t->store_values = store_values;
  t->alloc = cap < 16 ? cap : 16; /* grows by doubling up to cap */
  t->icap = pow2_at_least(t->alloc * 2);
  t->e = calloc(t->alloc, sizeof *t->e);
  t->users = malloc((size_t)t->alloc * t->k * sizeof *t->users);
  t->index = calloc(t->icap, sizeof *t->index);
  if (!t->e || !t->users || !t->index) {
    dp_kc_release(t);
    return DOPPEL_E_NOMEM;
  }
  return DOPPEL_OK;
}

void dp_kc_release(dp_kc *t) {
  if (t->e)
    for (uint32_t i = 0; i < t->n; i++) free(t->e[i].val);
  free(t->e);
  free(t->users);
  free(t->index);
  memset(t, 0, sizeof *t);
}

static void rebuild_index(dp_kc *t);

/* Grow the arrays (entries, user sets, index) to hold want entries. */
static doppel_status grow(dp_kc *t, uint32_t want) {
  if (want <= t->alloc) return DOPPEL_OK;
  uint32_t na = t->alloc ? t->alloc : 16;
  while (na < want) na *= 2;
  dp_kc_entry *ne = realloc(t->e, (size_t)na * sizeof *ne);
  if (!ne) return DOPPEL_E_NOMEM;
  t->e = ne;
  uint64_t *nu = realloc(t->users, (size_t)na * t->k * sizeof *nu);
  if (!nu) return DOPPEL_E_NOMEM;
  t->users = nu;
  t->alloc = na;
  uint32_t ni = pow2_at_least(na * 2);
  if (ni > t->icap) {
    uint32_t *nx = calloc(ni, sizeof *nx);
    if (!nx) return DOPPEL_E_NOMEM;
    free(t->index);
    t->index = nx;
    t->icap = ni;
    rebuild_index(t);
  }
  return DOPPEL_OK;
}

static uint32_t slot_of(const dp_kc *t, uint64_t key) {
  uint32_t m = t->icap - 1;
  uint32_t p = (uint32_t)(key ^ (key >> 29)) & m;
  while (t->index[p]) {
    if (t->e[t->index[p] - 1].key == key) return p;
    p = (p + 1) & m;
  }
  return p;
}

static void rebuild_index(dp_kc *t) {
  memset(t->index, 0, (size_t)t->icap * sizeof *t->index);
  for (uint32_t i = 0; i < t->n; i++) t->index[slot_of(t, t->e[i].key)] = i + 1;
}

const dp_kc_entry *dp_kc_find(const dp_kc *t, uint64_t key) {
  if (!t->cap) return NULL;
  uint32_t p = slot_of(t, key);
  return t->index[p] ? &t->e[t->index[p] - 1] : NULL;
}

/* Subtract d from every counter; drop entries at zero (compacting). */
static void subtract_all(dp_kc *t, uint64_t d) {
  uint32_t w = 0;
  for (uint32_t i = 0; i < t->n; i++) {
    if (t->e[i].count <= d) {
      free(t->e[i].val);
      continue;
    }
    if (w != i) {
      t->e[w] = t->e[i];
      memcpy(t->users + (size_t)w * t->k, t->users + (size_t)i * t->k,
             (size_t)t->e[i].n_users * sizeof *t->users);
    }
    t->e[w].count -= d;
    w++;
  }
  t->n = w;
  t->error += d;
  rebuild_index(t);
}

/* The r-th largest counter (1-based) of the table; 0 when fewer entries.
 * Quickselect with a deterministic middle pivot: O(n) expected. */
static doppel_status rth_largest(const dp_kc *t, uint32_t r, uint64_t *out) {
  *out = 0;
  if (r == 0 || t->n < r) return DOPPEL_OK;
  uint64_t *c = malloc((size_t)t->n * sizeof *c);
  if (!c) return DOPPEL_E_NOMEM;
  for (uint32_t i = 0; i < t->n; i++) c[i] = t->e[i].count;
  size_t lo = 0, hi = t->n - 1, want = r - 1; /* index in descending order */
  while (lo < hi) {
    uint64_t piv = c[lo + (hi - lo) / 2];
    size_t i = lo, j = hi;
    while (i <= j) {
      while (c[i] > piv) i++;
      while (c[j] < piv) j--;
      if (i <= j) {
        uint64_t tmp = c[i];
        c[i] = c[j];
        c[j] = tmp;
        i++;
        if (j == 0) break;
        j--;
      }
    }
    if (want <= j) hi = j;
    else if (want >= i) lo = i;
    else break;
  }
  *out = c[want];
  free(c);
  return DOPPEL_OK;
}

doppel_status dp_kc_add(dp_kc *t, uint64_t key, const char *val, size_t vlen, uint8_t vtype,
                        uint64_t u, uint64_t weight) {
  if (!t->cap || weight == 0) return DOPPEL_OK;
  t->total += weight;
  uint32_t p = slot_of(t, key);
  if (!t->index[p]) {
    if (t->n == t->cap) {
      uint64_t med;
      doppel_status st = rth_largest(t, (t->cap + 1) / 2, &med);
      if (st != DOPPEL_OK) return st;
      if (med == 0) med = 1;
      /* the new item's own weight is reduced as well */
      subtract_all(t, med);
      if (weight <= med) {
        return DOPPEL_OK;
      }
      weight -= med;
      p = slot_of(t, key);
    } else if (t->n == t->alloc) {
      doppel_status st = grow(t, t->n + 1);
      if (st != DOPPEL_OK) return st;
      p = slot_of(t, key);
    }
    dp_kc_entry *e = &t->e[t->n];
    memset(e, 0, sizeof *e);
    e->key = key;
    e->vtype = vtype;
    if (t->store_values && val) {
      size_t n = vlen > DP_KC_VALUE_MAX ? DP_KC_VALUE_MAX : vlen;
      e->val = malloc(n ? n : 1);
      if (!e->val) return DOPPEL_E_NOMEM;
      memcpy(e->val, val, n);
      e->vlen = (uint32_t)n;
      e->truncated = vlen > DP_KC_VALUE_MAX;
    }
    t->index[p] = ++t->n;
  }
  uint32_t i = t->index[p] - 1;
  t->e[i].count += weight;
  dp_kset_add(t->users + (size_t)i * t->k, &t->e[i].n_users, t->k, u);
  return DOPPEL_OK;
}

/* Merge one entry (count, users, value) into dst without capacity checks;
 * grows dst's arrays as needed. */
static doppel_status absorb(dp_kc *dst, const dp_kc_entry *se, const uint64_t *susers) {
  uint32_t p = slot_of(dst, se->key);
  if (!dst->index[p]) {
    if (dst->n == dst->alloc) {
      /* merging may exceed cap for a moment: the reduction follows */
      doppel_status st = grow(dst, dst->n + 1);
      if (st != DOPPEL_OK) return st;
      p = slot_of(dst, se->key);
    }
    dp_kc_entry *e = &dst->e[dst->n];
    *e = *se;
    e->count = 0;
    e->n_users = 0;
    e->val = NULL;
    if (se->val) {
      e->val = malloc(se->vlen ? se->vlen : 1);
      if (!e->val) return DOPPEL_E_NOMEM;
      memcpy(e->val, se->val, se->vlen);
    }
    dst->index[p] = ++dst->n;
  }
  uint32_t i = dst->index[p] - 1;
  dst->e[i].count += se->count;
  dst->e[i].truncated |= se->truncated;
  for (uint16_t j = 0; j < se->n_users; j++)
    dp_kset_add(dst->users + (size_t)i * dst->k, &dst->e[i].n_users, dst->k, susers[j]);
  return DOPPEL_OK;
}

doppel_status dp_kc_merge(dp_kc *dst, const dp_kc *src) { return dp_kc_merge_map(dst, src, NULL, NULL); }

doppel_status dp_kc_merge_map(dp_kc *dst, const dp_kc *src, dp_kc_map_fn map, void *ctx) {
  if (!src->cap) return DOPPEL_OK;
  if (!dst->cap) {
    doppel_status st = dp_kc_init(dst, src->cap, src->k, src->store_values);
    if (st != DOPPEL_OK) return st;
  }
  if (dst->k != src->k) return DOPPEL_E_USAGE;
  for (uint32_t i = 0; i < src->n; i++) {
    dp_kc_entry me = src->e[i];
    char vbuf[DP_KC_VALUE_MAX];
    if (map) {
      if (me.val) {
        memcpy(vbuf, me.val, me.vlen);
        me.val = vbuf;
      }
      if (!map(ctx, &me)) continue;
    }
    doppel_status st = absorb(dst, &me, dp_kc_users(src, i));
    if (st != DOPPEL_OK) return st;
  }
  dst->error += src->error;
  dst->total += src->total;
  if (dst->n > dst->cap) {
    uint64_t d;
    doppel_status st = rth_largest(dst, dst->cap + 1, &d);
    if (st != DOPPEL_OK) return st;
    subtract_all(dst, d);
    /* at most cap counters exceed the (cap+1)-th largest */
  }
  rebuild_index(dst);
  return DOPPEL_OK;
}

static _Thread_local const dp_kc *sort_table; /* qsort has no context argument */

static int cmp_entry(const void *a, const void *b) {
  const dp_kc_entry *x = &sort_table->e[*(const uint32_t *)a];
  const dp_kc_entry *y = &sort_table->e[*(const uint32_t *)b];
  if (x->count != y->count) return x->count < y->count ? 1 : -1;
  if (x->val && y->val) {
    size_t n = x->vlen < y->vlen ? x->vlen : y->vlen;
    int c = memcmp(x->val, y->val, n);
    if (c) return c;
    if (x->vlen != y->vlen) return x->vlen < y->vlen ? -1 : 1;
  }
  return x->key < y->key ? -1 : x->key > y->key ? 1 : 0;
}

uint32_t *dp_kc_sorted(const dp_kc *t) {
  uint32_t *ix = malloc(((size_t)t->n + 1) * sizeof *ix);
  if (!ix) {
    dp_nomem_note(); /* the document being built lacks the list */
    return NULL;
  }
  for (uint32_t i = 0; i < t->n; i++) ix[i] = i;
  sort_table = t;
  qsort(ix, t->n, sizeof *ix, cmp_entry);
  sort_table = NULL;
  return ix;
}

static json_t *hex64(uint64_t v) {
  char b[17];
  snprintf(b, sizeof b, "%016" PRIx64, v);
  return json_string(b);
}

static int parse_hex64(const json_t *j, uint64_t *out) {
  const char *s = json_string_value(j);
  if (!s || strlen(s) != 16) return -1;
  uint64_t v = 0;
  for (int i = 0; i < 16; i++) {
    char c = s[i];
    int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    if (d < 0) return -1;
    v = v << 4 | (uint64_t)d;
  }
  *out = v;
  return 0;
}

json_t *dp_kc_to_json(const dp_kc *t) {
  json_t *o = json_object();
  json_object_set_new(o, "cap", json_integer(t->cap));
  json_object_set_new(o, "k", json_integer(t->k));
  json_object_set_new(o, "values", json_boolean(t->store_values));
  json_object_set_new(o, "error", json_integer((json_int_t)t->error));
  json_object_set_new(o, "total", json_integer((json_int_t)t->total));
  json_t *arr = json_array();
  uint32_t *ix = t->cap ? dp_kc_sorted(t) : NULL;
  for (uint32_t r = 0; ix && r < t->n; r++) {
    const dp_kc_entry *e = &t->e[ix[r]];
    json_t *it = json_array();
    json_array_append_new(it, hex64(e->key));
    json_array_append_new(it, json_integer((json_int_t)e->count));
    json_t *us = json_array();
    for (uint16_t j = 0; j < e->n_users; j++) json_array_append_new(us, hex64(dp_kc_users(t, ix[r])[j]));
    json_array_append_new(it, us);
    if (e->val) {
      char *b = malloc(dp_b64_encoded_len(e->vlen) + 1);
      if (b) {
        dp_b64_encode((const uint8_t *)e->val, e->vlen, b);
        json_array_append_new(it, json_string(b));
        free(b);
      } else {
        dp_nomem_note();
        json_array_append_new(it, json_null());
      }
    } else {
      json_array_append_new(it, json_null());
    }
    json_array_append_new(it, json_integer(e->truncated));
    json_array_append_new(it, json_integer(e->vtype));
    json_array_append_new(arr, it);
  }
  free(ix);
  json_object_set_new(o, "entries", arr);
  return o;
}

doppel_status dp_kc_from_json(dp_kc *t, const json_t *j, doppel_diag *diag, const char *what) {
  memset(t, 0, sizeof *t);
  json_int_t cap = json_integer_value(json_object_get(j, "cap"));
  json_int_t k = json_integer_value(json_object_get(j, "k"));
  const json_t *entries = json_object_get(j, "entries");
  if (!json_is_object(j) || !json_is_integer(json_object_get(j, "cap")) || cap < 0 ||
      cap > 1000000 || k < 0 || k > DOPPEL_PROFILE_K_MAX || !json_is_array(entries) ||
      json_array_size(entries) > (size_t)cap)
    return dp_diag_set(diag, DOPPEL_E_DATA, NULL, 0, 0, "state: malformed table '%s'", what);
  if (cap == 0) return DOPPEL_OK;
  doppel_status st = dp_kc_init(t, (uint32_t)cap, (uint32_t)k, json_is_true(json_object_get(j, "values")));
  if (st != DOPPEL_OK) return dp_diag_set(diag, st, NULL, 0, 0, NULL);
  t->error = (uint64_t)json_integer_value(json_object_get(j, "error"));
  t->total = (uint64_t)json_integer_value(json_object_get(j, "total"));
  size_t i;
  const json_t *it;
  json_array_foreach(entries, i, it) {
    const json_t *us = json_array_get(it, 2), *v = json_array_get(it, 3);
    uint64_t key;
    json_int_t cnt = json_integer_value(json_array_get(it, 1));
    if (!json_is_array(it) || json_array_size(it) != 6 || parse_hex64(json_array_get(it, 0), &key) ||
        cnt <= 0 || !json_is_array(us) || json_array_size(us) > t->k || dp_kc_find(t, key))
      goto bad;
    if (t->n == t->alloc && grow(t, t->n + 1) != DOPPEL_OK) {
      dp_kc_release(t);
      return dp_diag_set(diag, DOPPEL_E_NOMEM, NULL, 0, 0, NULL);
    }
    dp_kc_entry *e = &t->e[t->n];
    memset(e, 0, sizeof *e);
    e->key = key;
    e->count = (uint64_t)cnt;
    e->truncated = json_integer_value(json_array_get(it, 4)) ? 1 : 0;
    e->vtype = (uint8_t)json_integer_value(json_array_get(it, 5));
    if (json_is_string(v)) {
      size_t n = json_string_length(v);
      e->val = malloc(n / 4 * 3 + 1);
      if (!e->val) {
        dp_kc_release(t);
        return dp_diag_set(diag, DOPPEL_E_NOMEM, NULL, 0, 0, NULL);
      }
      size_t m = dp_b64_decode(json_string_value(v), n, (uint8_t *)e->val);
      if (m == (size_t)-1 || m > DP_KC_VALUE_MAX) {
        free(e->val);
        e->val = NULL;
        goto bad;
      }
      e->vlen = (uint32_t)m;
    }
    uint64_t *set = t->users + (size_t)t->n * t->k;
    for (size_t u = 0; u < json_array_size(us); u++) {
      uint64_t h;
      if (parse_hex64(json_array_get(us, u), &h) || (u && h <= set[u - 1])) {
        free(e->val);
        goto bad;
      }
      set[u] = h;
    }
    e->n_users = (uint16_t)json_array_size(us);
    t->index[slot_of(t, key)] = ++t->n;
  }
  return DOPPEL_OK;
bad:
  dp_kc_release(t);
  return dp_diag_set(diag, DOPPEL_E_DATA, NULL, 0, 0, "state: malformed entry in table '%s'", what);
}
