/*
 * topk.c — top values: a weighted Misra–Gries summary over byte strings
 * (see sketch.h) with Agarwal et al.'s mergeable combine step.
 *
 * Layout: k slots of entries with a parallel value slab (max_value_len bytes
 * per slot), an open-addressing hash table (linear probing, backward-shift
 * deletion) from value to slot, and a min-heap of slots by counter. Counters
 * are stored as raw = counter + base: the "subtract d from every counter"
 * step of Misra–Gries is base += d, after which the heap pops the counters
 * that reached zero. So an add is amortized O(log k + len), and all counters
 * equal to the minimum leave together (no tie-breaking anywhere, hence no
 * dependence on internal order). Storage grows with the number of entries
 * up to k.
 *
 * Merge gathers the counters of all inputs, sums equal values, subtracts the
 * (k+1)-th largest sum and keeps the positive ones; that is a function of
 * the multiset of inputs, so merge(a, b) and merge(b, a) give the same bytes,
 * and merge_many() is independent of its input order.
 */
#include "sketch/sketch_int.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "core/diag.h"

typedef struct dp_tk_entry {
  uint64_t raw;       /* counter + the summary's base */
  uint64_t hash;      /* key hash of value bytes and truncated flag */
  uint32_t heap_pos;  /* index of this slot in the heap */
  uint32_t len;       /* value length in bytes (<= max_len) */
  uint8_t truncated;  /* 1 when the value was cut to max_len bytes */
} dp_tk_entry;

struct doppel_topk {
  uint32_t k;            /* capacity: maximum number of counters */
  uint32_t max_len;      /* value length limit in bytes */
  uint64_t total;        /* total weight added (<= INT64_MAX) */
  uint64_t error;        /* bound on any value's undercount (see sketch.h) */
  uint64_t base;         /* amount subtracted from all counters since the last rebuild */
  uint32_t n;            /* live entries (<= k) */
  uint32_t cap;          /* allocated slots (<= k) */
  uint32_t used;         /* slots handed out so far (<= cap); the rest are fresh */
  uint32_t nfree;        /* slots on the free stack */
  dp_tk_entry *e;        /* cap slots */
  uint8_t *vals;         /* cap × max_len value bytes, slot i at i × max_len */
  uint32_t *heap;        /* n slot indices, min-heap by raw */
  uint32_t *free_slots;  /* stack of released slot indices */
  uint32_t *table;       /* hash table: 0 = empty, else slot + 1 */
  uint32_t tmask;        /* table size − 1 (size a power of two >= 2 cap) */
};

#define TK_TRUNC_SALT UINT64_C(0x452821e638d01377)

static uint64_t key_hash(const uint8_t *v, size_t len, int truncated) {
  uint64_t h = doppel_sketch_hash64(v, len);
  return truncated ? dp_sketch_mix64(h ^ TK_TRUNC_SALT) : h;
}

static const uint8_t *slot_value(const doppel_topk *t, uint32_t i) {
  return t->vals + (size_t)i * t->max_len;
}

doppel_status doppel_topk_new(doppel_topk **out, uint32_t k, uint32_t max_value_len,
                              doppel_diag *diag) {
  if (!out) return dp_diag_set(diag, DOPPEL_E_USAGE, NULL, 0, 0, "topk: NULL output pointer");
  *out = NULL;
  if (k == 0) k = DOPPEL_TOPK_K_DEFAULT;
  if (max_value_len == 0) max_value_len = DOPPEL_TOPK_VALUE_LEN_DEFAULT;
  if (k > DOPPEL_TOPK_K_MAX || max_value_len > DOPPEL_TOPK_VALUE_LEN_MAX)
    return dp_diag_set(diag, DOPPEL_E_USAGE, NULL, 0, 0,
                       "topk: k must be in 1..%d and max_value_len in 1..%d", DOPPEL_TOPK_K_MAX,
                       DOPPEL_TOPK_VALUE_LEN_MAX);
  doppel_topk *t = calloc(1, sizeof *t);
  if (!t) return dp_diag_set(diag, DOPPEL_E_NOMEM, NULL, 0, 0, "topk: out of memory");
  t->k = k;
  t->max_len = max_value_len;
  *out = t;
  return DOPPEL_OK;
}

void doppel_topk_free(doppel_topk *t) {
  if (!t) return;
  free(t->e);
  free(t->vals);
  free(t->heap);
  free(t->free_slots);
  free(t->table);
  free(t);
}

uint32_t doppel_topk_capacity(const doppel_topk *t) { return t->k; }
uint32_t doppel_topk_max_value_len(const doppel_topk *t) { return t->max_len; }
size_t doppel_topk_size(const doppel_topk *t) { return t->n; }
uint64_t doppel_topk_total(const doppel_topk *t) { return t->total; }
uint64_t doppel_topk_error(const doppel_topk *t) { return t->error; }

/* ---- hash table ---- */

static void table_put(doppel_topk *t, uint32_t slot) {
  uint32_t i = (uint32_t)t->e[slot].hash & t->tmask;
  while (t->table[i]) i = (i + 1) & t->tmask;
  t->table[i] = slot + 1;
}

/* Table position holding a key, or UINT32_MAX. */
static uint32_t table_find(const doppel_topk *t, const uint8_t *v, uint32_t len, int truncated,
                           uint64_t h) {
  if (!t->table) return UINT32_MAX;
  uint32_t i = (uint32_t)h & t->tmask;
  for (;;) {
    uint32_t s = t->table[i];
    if (!s) return UINT32_MAX;
    const dp_tk_entry *e = &t->e[s - 1];
    if (e->hash == h && e->len == len && e->truncated == truncated &&
        (len == 0 || memcmp(slot_value(t, s - 1), v, len) == 0))
      return i;
    i = (i + 1) & t->tmask;
  }
}

static void table_delete_slot(doppel_topk *t, uint32_t slot) {
  uint32_t i = (uint32_t)t->e[slot].hash & t->tmask;
  while (t->table[i] != slot + 1) i = (i + 1) & t->tmask;
  t->table[i] = 0;
  uint32_t j = i;
  for (;;) {
    j = (j + 1) & t->tmask;
    if (!t->table[j]) break;
    uint32_t h = (uint32_t)t->e[t->table[j] - 1].hash & t->tmask;
    /* leave it when its home h lies cyclically in (i, j] */
    int stays = i <= j ? (i < h && h <= j) : (i < h || h <= j);
    if (stays) continue;
    t->table[i] = t->table[j];
    t->table[j] = 0;
    i = j;
  }
}

/* ---- heap (min by raw) ---- */

static void heap_swap(doppel_topk *t, uint32_t a, uint32_t b) {
  uint32_t sa = t->heap[a], sb = t->heap[b];
  t->heap[a] = sb;
  t->heap[b] = sa;
  t->e[sb].heap_pos = a;
  t->e[sa].heap_pos = b;
}

static void sift_up(doppel_topk *t, uint32_t i) {
  while (i > 0) {
    uint32_t p = (i - 1) / 2;
    if (t->e[t->heap[p]].raw <= t->e[t->heap[i]].raw) break;
    heap_swap(t, p, i);
    i = p;
  }
}

static void sift_down(doppel_topk *t, uint32_t i) {
  for (;;) {
    uint32_t l = 2 * i + 1, r = l + 1, m = i;
    if (l < t->n && t->e[t->heap[l]].raw < t->e[t->heap[m]].raw) m = l;
    if (r < t->n && t->e[t->heap[r]].raw < t->e[t->heap[m]].raw) m = r;
    if (m == i) return;
    heap_swap(t, i, m);
    i = m;
  }
}

/* ---- storage ---- */

/* Make room for at least want slots (want <= k). Unchanged on failure. */
static doppel_status reserve(doppel_topk *t, uint32_t want) {
  if (want <= t->cap) return DOPPEL_OK;
  uint32_t ncap = t->cap ? t->cap : 16;
  while (ncap < want) ncap *= 2;
  if (ncap > t->k) ncap = t->k;
  uint32_t tsize = 1;
  while (tsize < 2 * ncap) tsize *= 2;
  dp_tk_entry *e = malloc((size_t)ncap * sizeof *e);
  uint8_t *vals = malloc((size_t)ncap * t->max_len);
  uint32_t *heap = malloc((size_t)ncap * sizeof *heap);
  uint32_t *fs = malloc((size_t)ncap * sizeof *fs);
  uint32_t *table = calloc(tsize, sizeof *table);
  if (!e || !vals || !heap || !fs || !table) {
    free(e);
    free(vals);
    free(heap);
    free(fs);
    free(table);
    return DOPPEL_E_NOMEM;
  }
  if (t->cap) {
    memcpy(e, t->e, (size_t)t->used * sizeof *e);
    memcpy(vals, t->vals, (size_t)t->used * t->max_len);
    memcpy(heap, t->heap, (size_t)t->n * sizeof *heap);
    memcpy(fs, t->free_slots, (size_t)t->nfree * sizeof *fs);
  }
  free(t->e);
  free(t->vals);
  free(t->heap);
  free(t->free_slots);
  free(t->table);
  t->e = e;
  t->vals = vals;
  t->heap = heap;
  t->free_slots = fs;
  t->table = table;
  t->tmask = tsize - 1;
  t->cap = ncap;
  for (uint32_t i = 0; i < t->n; i++) table_put(t, t->heap[i]);
  return DOPPEL_OK;
}

/* Insert a new key with raw counter; a slot must be available (n < cap). */
static void insert_new(doppel_topk *t, const uint8_t *v, uint32_t len, int truncated, uint64_t h,
                       uint64_t raw) {
  uint32_t slot = t->nfree ? t->free_slots[--t->nfree] : t->used++;
  dp_tk_entry *e = &t->e[slot];
  e->raw = raw;
  e->hash = h;
  e->len = len;
  e->truncated = (uint8_t)truncated;
  if (len) memcpy(t->vals + (size_t)slot * t->max_len, v, len);
  e->heap_pos = t->n;
  t->heap[t->n++] = slot;
  sift_up(t, e->heap_pos);
  table_put(t, slot);
}

static void pop_min(doppel_topk *t) {
  uint32_t slot = t->heap[0];
  table_delete_slot(t, slot);
  t->n--;
  if (t->n) {
    t->heap[0] = t->heap[t->n];
    t->e[t->heap[0]].heap_pos = 0;
    sift_down(t, 0);
  }
  t->free_slots[t->nfree++] = slot;
}

doppel_status doppel_topk_add(doppel_topk *t, const void *value, size_t len, uint64_t weight) {
  if (weight == 0) return DOPPEL_OK;
  if (weight > (uint64_t)INT64_MAX - t->total) return DOPPEL_E_LIMIT;
  int truncated = len > t->max_len;
  uint32_t l = truncated ? t->max_len : (uint32_t)len;
  const uint8_t *v = value;
  uint64_t h = key_hash(v, l, truncated);
  uint32_t pos = table_find(t, v, l, truncated, h);
  if (pos != UINT32_MAX) {
    dp_tk_entry *e = &t->e[t->table[pos] - 1];
    e->raw += weight;
    sift_down(t, e->heap_pos);
    t->total += weight;
    return DOPPEL_OK;
  }
  if (t->n < t->k) {
    if (t->n == t->cap && reserve(t, t->n + 1)) return DOPPEL_E_NOMEM;
    insert_new(t, v, l, truncated, h, t->base + weight);
    t->total += weight;
    return DOPPEL_OK;
  }
  /* full: subtract d from every counter and from the weight */
  t->total += weight;
  uint64_t minc = t->e[t->heap[0]].raw - t->base;
  uint64_t d = weight < minc ? weight : minc;
  t->base += d;
  t->error += d;
  weight -= d;
  while (t->n && t->e[t->heap[0]].raw <= t->base) pop_min(t);
  if (weight) insert_new(t, v, l, truncated, h, t->base + weight);
  return DOPPEL_OK;
}

/* ---- query ---- */

static int entry_cmp(const doppel_topk_entry *a, const doppel_topk_entry *b) {
  if (a->lower != b->lower) return a->lower > b->lower ? -1 : 1;
  size_t m = a->len < b->len ? a->len : b->len;
  int c = m ? memcmp(a->value, b->value, m) : 0;
  if (c) return c;
  if (a->len != b->len) return a->len < b->len ? -1 : 1;
  return a->truncated - b->truncated;
}

static int entry_qsort_cmp(const void *a, const void *b) { return entry_cmp(a, b); }

/* Heap whose root is the entry that sorts last. */
static void worst_sift_down(doppel_topk_entry *a, size_t n, size_t i) {
  for (;;) {
    size_t l = 2 * i + 1, r = l + 1, m = i;
    if (l < n && entry_cmp(&a[l], &a[m]) > 0) m = l;
    if (r < n && entry_cmp(&a[r], &a[m]) > 0) m = r;
    if (m == i) return;
    doppel_topk_entry tmp = a[i];
    a[i] = a[m];
    a[m] = tmp;
    i = m;
  }
}

static doppel_topk_entry make_entry(const doppel_topk *t, uint32_t slot) {
  const dp_tk_entry *e = &t->e[slot];
  doppel_topk_entry x;
  x.value = slot_value(t, slot);
  x.len = e->len;
  x.truncated = e->truncated;
  x.lower = e->raw - t->base;
  x.upper = x.lower + t->error > t->total ? t->total : x.lower + t->error;
  return x;
}

doppel_status doppel_topk_query(const doppel_topk *t, doppel_topk_entry *entries, size_t cap,
                                size_t *n) {
  if (!t || !n || (!entries && cap)) return DOPPEL_E_USAGE;
  size_t m = 0;
  for (uint32_t i = 0; i < t->n; i++) {
    doppel_topk_entry x = make_entry(t, t->heap[i]);
    if (m < cap) {
      entries[m++] = x;
      if (m == cap && t->n > cap)
        for (size_t j = m / 2; j-- > 0;) worst_sift_down(entries, m, j);
    } else if (cap && entry_cmp(&x, &entries[0]) < 0) {
      entries[0] = x;
      worst_sift_down(entries, m, 0);
    }
  }
  if (m > 1) qsort(entries, m, sizeof *entries, entry_qsort_cmp);
  *n = m;
  return DOPPEL_OK;
}

/* ---- merge ---- */

typedef struct dp_tk_item {
  const uint8_t *v;  /* value bytes (borrowed from an input) */
  uint32_t len;      /* value length */
  int truncated;     /* truncated flag */
  uint64_t hash;     /* key hash */
  uint64_t c;        /* counter */
} dp_tk_item;

static int item_key_cmp(const void *pa, const void *pb) {
  const dp_tk_item *a = pa, *b = pb;
  if (a->hash != b->hash) return a->hash < b->hash ? -1 : 1;
  if (a->len != b->len) return a->len < b->len ? -1 : 1;
  if (a->truncated != b->truncated) return a->truncated - b->truncated;
  return a->len ? memcmp(a->v, b->v, a->len) : 0;
}

static int u64_desc_cmp(const void *pa, const void *pb) {
  uint64_t a = *(const uint64_t *)pa, b = *(const uint64_t *)pb;
  return a > b ? -1 : a < b;
}

doppel_status doppel_topk_merge_many(const doppel_topk *const *parts, size_t n, doppel_topk **out,
                                     doppel_diag *diag) {
  if (!out || !parts || n == 0)
    return dp_diag_set(diag, DOPPEL_E_USAGE, NULL, 0, 0, "topk merge: no summaries");
  *out = NULL;
  uint32_t k = UINT32_MAX;
  uint64_t total = 0, error = 0;
  size_t items = 0;
  for (size_t i = 0; i < n; i++) {
    const doppel_topk *p = parts[i];
    if (!p) return dp_diag_set(diag, DOPPEL_E_USAGE, NULL, 0, 0, "topk merge: NULL summary");
    if (p->max_len != parts[0]->max_len)
      return dp_diag_set(diag, DOPPEL_E_USAGE, NULL, 0, 0,
                         "topk merge: value length limits differ (%u and %u)", parts[0]->max_len,
                         p->max_len);
    if (p->total > (uint64_t)INT64_MAX - total)
      return dp_diag_set(diag, DOPPEL_E_LIMIT, NULL, 0, 0, "topk merge: total exceeds 2^63-1");
    total += p->total;
    error += p->error; /* <= total, so no overflow */
    items += p->n;
    if (p->k < k) k = p->k;
  }
  dp_tk_item *it = malloc((items ? items : 1) * sizeof *it);
  uint64_t *counts = malloc((items ? items : 1) * sizeof *counts);
  doppel_topk *r = NULL;
  doppel_status st = DOPPEL_E_NOMEM;
  if (!it || !counts) goto done;
  size_t m = 0;
  for (size_t i = 0; i < n; i++) {
    const doppel_topk *p = parts[i];
    for (uint32_t j = 0; j < p->n; j++) {
      uint32_t slot = p->heap[j];
      const dp_tk_entry *e = &p->e[slot];
      it[m].v = slot_value(p, slot);
      it[m].len = e->len;
      it[m].truncated = e->truncated;
      it[m].hash = e->hash;
      it[m].c = e->raw - p->base;
      m++;
    }
  }
  if (m > 1) qsort(it, m, sizeof *it, item_key_cmp);
  size_t u = 0; /* combine equal keys */
  for (size_t i = 0; i < m; i++) {
    if (u && item_key_cmp(&it[u - 1], &it[i]) == 0)
      it[u - 1].c += it[i].c;
    else
      it[u++] = it[i];
  }
  uint64_t cut = 0; /* the (k+1)-th largest combined counter */
  if (u > k) {
    for (size_t i = 0; i < u; i++) counts[i] = it[i].c;
    qsort(counts, u, sizeof *counts, u64_desc_cmp);
    cut = counts[k];
  }
  size_t keep = 0;
  for (size_t i = 0; i < u; i++) keep += it[i].c > cut;
  if (doppel_topk_new(&r, k, parts[0]->max_len, NULL)) goto done;
  if (keep && reserve(r, (uint32_t)keep)) goto done;
  for (size_t i = 0; i < u; i++)
    if (it[i].c > cut) insert_new(r, it[i].v, it[i].len, it[i].truncated, it[i].hash, it[i].c - cut);
  r->total = total;
  r->error = error + cut;
  st = DOPPEL_OK;
done:
  free(it);
  free(counts);
  if (st) {
    doppel_topk_free(r);
    return dp_diag_set(diag, st, NULL, 0, 0, "topk merge: out of memory");
  }
  *out = r;
  return DOPPEL_OK;
}

doppel_status doppel_topk_merge(doppel_topk *dst, const doppel_topk *src, doppel_diag *diag) {
  if (!dst || !src) return dp_diag_set(diag, DOPPEL_E_USAGE, NULL, 0, 0, "topk merge: NULL summary");
  const doppel_topk *parts[2] = {dst, src};
  doppel_topk *r = NULL;
  doppel_status st = doppel_topk_merge_many(parts, 2, &r, diag);
  if (st) return st;
  doppel_topk tmp = *dst;
  *dst = *r;
  *r = tmp;
  doppel_topk_free(r);
  return DOPPEL_OK;
}

/* ---- serialization ---- */

doppel_status doppel_topk_to_json(const doppel_topk *t, json_t **out, doppel_diag *diag) {
  if (!t || !out) return dp_diag_set(diag, DOPPEL_E_USAGE, NULL, 0, 0, "topk: NULL argument");
  *out = NULL;
  doppel_topk_entry *en = malloc((t->n ? t->n : 1) * sizeof *en);
  char *text = malloc(dp_b64_encoded_len(t->max_len) + 1);
  json_t *o = json_object();
  json_t *arr = json_array();
  size_t n = 0;
  if (!en || !text || !o || !arr) goto nomem;
  doppel_topk_query(t, en, t->n, &n);
  for (size_t i = 0; i < n; i++) {
    dp_b64_encode(en[i].value, en[i].len, text);
    json_t *e = json_pack("[s,I,i]", text, (json_int_t)en[i].lower, en[i].truncated);
    if (!e || json_array_append_new(arr, e)) goto nomem;
  }
  if (!dp_sketch_set(o, "type", json_string("topk")) ||
      !dp_sketch_set(o, "version", json_integer(1)) ||
      !dp_sketch_set(o, "k", json_integer(t->k)) ||
      !dp_sketch_set(o, "max_value_len", json_integer(t->max_len)) ||
      !dp_sketch_set(o, "total", json_integer((json_int_t)t->total)) ||
      !dp_sketch_set(o, "error", json_integer((json_int_t)t->error)))
    goto nomem; /* arr is not owned by o yet: released below */
  if (!dp_sketch_set(o, "entries", arr)) {
    arr = NULL; /* json_object_set_new released it */
    goto nomem;
  }
  free(en);
  free(text);
  *out = o;
  return DOPPEL_OK;
nomem:
  json_decref(arr);
  json_decref(o);
  free(en);
  free(text);
  return dp_diag_set(diag, DOPPEL_E_NOMEM, NULL, 0, 0, "topk: out of memory");
}

#define TK_ERR(...) dp_diag_set(diag, DOPPEL_E_DATA, NULL, 0, 0, __VA_ARGS__)

doppel_status doppel_topk_from_json(const json_t *state, doppel_topk **out, doppel_diag *diag) {
  static const char *const keys[] = {"type",  "version", "k",       "max_value_len",
                                     "total", "error",   "entries", NULL};
  if (!out) return dp_diag_set(diag, DOPPEL_E_USAGE, NULL, 0, 0, "topk: NULL output pointer");
  *out = NULL;
  doppel_status st = dp_sketch_check_header(state, "topk", keys, diag);
  if (st) return st;
  int64_t k, len, total, error;
  if ((st = dp_sketch_get_int(state, "topk", "k", 1, DOPPEL_TOPK_K_MAX, &k, diag)) ||
      (st = dp_sketch_get_int(state, "topk", "max_value_len", 1, DOPPEL_TOPK_VALUE_LEN_MAX, &len,
                              diag)) ||
      (st = dp_sketch_get_int(state, "topk", "total", 0, INT64_MAX, &total, diag)) ||
      (st = dp_sketch_get_int(state, "topk", "error", 0, INT64_MAX, &error, diag)))
    return st;
  json_t *arr = json_object_get(state, "entries");
  if (!json_is_array(arr)) return TK_ERR("topk state: \"entries\" must be an array");
  size_t n = json_array_size(arr);
  if (n > (size_t)k) return TK_ERR("topk state: %zu entries, more than k = %lld", n, (long long)k);
  doppel_topk *t = NULL;
  uint8_t *buf = malloc((size_t)len / 3 * 4 + 8);
  if (!buf) return dp_diag_set(diag, DOPPEL_E_NOMEM, NULL, 0, 0, "topk: out of memory");
  if ((st = doppel_topk_new(&t, (uint32_t)k, (uint32_t)len, diag))) goto fail;
  if (n && reserve(t, (uint32_t)n)) {
    st = dp_diag_set(diag, DOPPEL_E_NOMEM, NULL, 0, 0, "topk: out of memory");
    goto fail;
  }
  unsigned __int128 sum = 0;
  for (size_t i = 0; i < n; i++) {
    json_t *e = json_array_get(arr, i);
    json_t *jv = json_array_get(e, 0), *jc = json_array_get(e, 1), *jt = json_array_get(e, 2);
    if (!json_is_array(e) || json_array_size(e) != 3 || !json_is_string(jv) ||
        !json_is_integer(jc) || !json_is_integer(jt)) {
      st = TK_ERR("topk state: entry %zu must be [base64 value, count, truncated 0|1]", i);
      goto fail;
    }
    json_int_t c = json_integer_value(jc), tr = json_integer_value(jt);
    size_t tn = json_string_length(jv);
    if (c < 1 || (tr != 0 && tr != 1)) {
      st = TK_ERR("topk state: entry %zu has a count below 1 or a truncated flag other than 0/1", i);
      goto fail;
    }
    size_t vl = tn <= dp_b64_encoded_len((size_t)len) ? dp_b64_decode(json_string_value(jv), tn, buf)
                                                      : (size_t)-1;
    if (vl == (size_t)-1 || vl > (size_t)len || (tr && vl != (size_t)len)) {
      st = TK_ERR("topk state: entry %zu value is not base64 of at most max_value_len bytes "
                  "(exactly that many when truncated)", i);
      goto fail;
    }
    uint64_t h = key_hash(buf, vl, (int)tr);
    if (table_find(t, buf, (uint32_t)vl, (int)tr, h) != UINT32_MAX) {
      st = TK_ERR("topk state: entry %zu repeats a value", i);
      goto fail;
    }
    insert_new(t, buf, (uint32_t)vl, (int)tr, h, (uint64_t)c);
    sum += (uint64_t)c;
  }
  /* Misra–Gries invariant: counters + (k + 1) × error <= total */
  if (sum + (unsigned __int128)(k + 1) * (uint64_t)error > (unsigned __int128)(uint64_t)total) {
    st = TK_ERR("topk state: counters and error do not fit the total");
    goto fail;
  }
  t->total = (uint64_t)total;
  t->error = (uint64_t)error;
  free(buf);
  *out = t;
  return DOPPEL_OK;
fail:
  free(buf);
  doppel_topk_free(t);
  return st;
}
