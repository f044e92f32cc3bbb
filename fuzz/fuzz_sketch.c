/*
 * fuzz_sketch.c — libFuzzer target for the sketch states and operations.
 *
 * Input starting with '{' is a JSON state: it is offered to all three
 * loaders (HLL, DDSketch, top-k). A loader either rejects it with
 * DOPPEL_E_DATA and a non-empty diagnostic, or accepts it; an accepted state
 * must re-serialize to a fixed point (dump → load → dump gives the same
 * bytes), answer every query, and merge with itself into a state the loader
 * accepts again.
 *
 * Any other input is a program of adds to two shards A and B of each sketch
 * (small parameters so that collapsing and Misra–Gries eviction happen) and
 * to a sketch W of the whole stream. Then merge(A, B) must equal merge(B, A)
 * byte for byte for all three, and equal W for HLL and DDSketch (whose
 * merges are exact); top-k merges must keep their error bound.
 */
#include <doppel/sketch.h>

#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *dump(json_t *j) {
  if (!j) abort();
  char *s = json_dumps(j, JSON_COMPACT);
  if (!s) abort();
  json_decref(j);
  return s;
}

static void check_rejection(doppel_status st, const doppel_diag *d) {
  if (st == DOPPEL_E_NOMEM) return;
  if (st != DOPPEL_E_DATA || d->status != DOPPEL_E_DATA || d->text[0] == '\0') abort();
}

/* ---- JSON states ---- */

static void fuzz_hll_state(const json_t *j) {
  doppel_diag d;
  doppel_diag_clear(&d);
  doppel_hll *h = NULL, *h2 = NULL;
  doppel_status st = doppel_hll_from_json(j, &h, &d);
  if (st) {
    if (h) abort();
    check_rejection(st, &d);
    return;
  }
  json_t *o = NULL;
  if (doppel_hll_to_json(h, &o, NULL)) abort();
  char *s1 = dump(o);
  json_t *back = json_loads(s1, 0, NULL);
  if (!back || doppel_hll_from_json(back, &h2, NULL)) abort();
  json_decref(back);
  if (doppel_hll_to_json(h2, &o, NULL)) abort();
  char *s2 = dump(o);
  if (strcmp(s1, s2)) abort();
  doppel_hll_estimate e = doppel_hll_query(h);
  if (!(e.estimate >= 0) || isnan(e.std_error)) abort();
  if (doppel_hll_merge(h, h2, NULL)) abort();
  if (doppel_hll_to_json(h, &o, NULL)) abort();
  char *s3 = dump(o);
  if (strcmp(s1, s3)) abort(); /* x ∪ x = x */
  free(s1);
  free(s2);
  free(s3);
  doppel_hll_free(h);
  doppel_hll_free(h2);
}

static void fuzz_dds_state(const json_t *j) {
  doppel_diag d;
  doppel_diag_clear(&d);
  doppel_ddsketch *s = NULL, *s2 = NULL;
  doppel_status st = doppel_ddsketch_from_json(j, &s, &d);
  if (st) {
    if (s) abort();
    check_rejection(st, &d);
    return;
  }
  json_t *o = NULL;
  if (doppel_ddsketch_to_json(s, &o, NULL)) abort();
  char *s1 = dump(o);
  json_t *back = json_loads(s1, 0, NULL);
  if (!back || doppel_ddsketch_from_json(back, &s2, NULL)) abort();
  json_decref(back);
  if (doppel_ddsketch_to_json(s2, &o, NULL)) abort();
  char *t1 = dump(o);
  if (strcmp(s1, t1)) abort();
  static const double qs[] = {0.0, 0.1, 0.5, 0.99, 1.0};
  double prev = -INFINITY;
  for (size_t i = 0; i < 5; i++) {
    double v;
    st = doppel_ddsketch_quantile(s, qs[i], &v, NULL);
    if (doppel_ddsketch_count(s) == 0) {
      if (st != DOPPEL_E_DATA) abort();
      continue;
    }
    if (st || isnan(v) || v < prev) abort(); /* monotone in q */
    prev = v;
  }
  (void)doppel_ddsketch_mean(s);
  (void)doppel_ddsketch_sum(s);
  st = doppel_ddsketch_merge(s, s2, NULL);
  if (st && st != DOPPEL_E_LIMIT) abort();
  if (!st) {
    if (doppel_ddsketch_to_json(s, &o, NULL)) abort();
    char *t2 = dump(o);
    back = json_loads(t2, 0, NULL);
    doppel_ddsketch *s3 = NULL;
    if (!back || doppel_ddsketch_from_json(back, &s3, NULL)) abort(); /* merged states stay valid */
    json_decref(back);
    doppel_ddsketch_free(s3);
    free(t2);
  }
  free(s1);
  free(t1);
  doppel_ddsketch_free(s);
  doppel_ddsketch_free(s2);
}

static void fuzz_topk_state(const json_t *j) {
  doppel_diag d;
  doppel_diag_clear(&d);
  doppel_topk *t = NULL, *t2 = NULL;
  doppel_status st = doppel_topk_from_json(j, &t, &d);
  if (st) {
    if (t) abort();
    check_rejection(st, &d);
    return;
  }
  json_t *o = NULL;
  if (doppel_topk_to_json(t, &o, NULL)) abort();
  char *s1 = dump(o);
  json_t *back = json_loads(s1, 0, NULL);
  if (!back || doppel_topk_from_json(back, &t2, NULL)) abort();
  json_decref(back);
  if (doppel_topk_to_json(t2, &o, NULL)) abort();
  char *s2 = dump(o);
  if (strcmp(s1, s2)) abort();
  size_t n = doppel_topk_size(t), got = 0;
  doppel_topk_entry *en = malloc((n ? n : 1) * sizeof *en);
  if (!en || doppel_topk_query(t, en, n, &got) || got != n) abort();
  for (size_t i = 0; i < n; i++)
    if (en[i].lower < 1 || en[i].upper < en[i].lower || en[i].upper > doppel_topk_total(t) ||
        en[i].len > doppel_topk_max_value_len(t))
      abort();
  free(en);
  st = doppel_topk_merge(t, t2, NULL);
  if (st && st != DOPPEL_E_LIMIT) abort();
  if (!st) {
    if (doppel_topk_to_json(t, &o, NULL)) abort();
    char *s3 = dump(o);
    back = json_loads(s3, 0, NULL);
    doppel_topk *t3 = NULL;
    if (!back || doppel_topk_from_json(back, &t3, NULL)) abort();
    json_decref(back);
    doppel_topk_free(t3);
    free(s3);
  }
  free(s1);
  free(s2);
  doppel_topk_free(t);
  doppel_topk_free(t2);
}

/* ---- operation programs ---- */

typedef struct reader {
  const uint8_t *p;  /* next byte */
  size_t n;          /* bytes left */
} reader;

static uint8_t next_byte(reader *r) {
  if (!r->n) return 0;
  r->n--;
  return *r->p++;
}

static uint64_t next_u64(reader *r) {
  uint64_t v = 0;
  for (int i = 0; i < 8; i++) v |= (uint64_t)next_byte(r) << (8 * i);
  return v;
}

static char *hll_text(const doppel_hll *h) {
  json_t *o = NULL;
  if (doppel_hll_to_json(h, &o, NULL)) abort();
  return dump(o);
}
static char *dds_text(const doppel_ddsketch *s) {
  json_t *o = NULL;
  if (doppel_ddsketch_to_json(s, &o, NULL)) abort();
  return dump(o);
}
static char *topk_text(const doppel_topk *t) {
  json_t *o = NULL;
  if (doppel_topk_to_json(t, &o, NULL)) abort();
  return dump(o);
}

static doppel_hll *hll_copy(const doppel_hll *h) {
  json_t *o = NULL;
  doppel_hll *c = NULL;
  if (doppel_hll_to_json(h, &o, NULL) || doppel_hll_from_json(o, &c, NULL)) abort();
  json_decref(o);
  return c;
}
static doppel_ddsketch *dds_copy(const doppel_ddsketch *s) {
  json_t *o = NULL;
  doppel_ddsketch *c = NULL;
  if (doppel_ddsketch_to_json(s, &o, NULL) || doppel_ddsketch_from_json(o, &c, NULL)) abort();
  json_decref(o);
  return c;
}
static doppel_topk *topk_copy(const doppel_topk *t) {
  json_t *o = NULL;
  doppel_topk *c = NULL;
  if (doppel_topk_to_json(t, &o, NULL) || doppel_topk_from_json(o, &c, NULL)) abort();
  json_decref(o);
  return c;
}

static void check_equal_free(char *a, char *b) {
  if (strcmp(a, b)) abort();
  free(a);
  free(b);
}

static void fuzz_ops(const uint8_t *data, size_t size) {
  reader r = {data, size};
  uint8_t cfg = next_byte(&r);
  unsigned p = 4 + cfg % 3;
  uint32_t buckets = 16 + (cfg >> 2) % 8;
  uint32_t k = 1 + (cfg >> 5);
  doppel_hll *ha, *hb, *hw;
  doppel_ddsketch *da, *db, *dw;
  doppel_topk *ta, *tb;
  if (doppel_hll_new(&ha, p, NULL) || doppel_hll_new(&hb, p, NULL) || doppel_hll_new(&hw, p, NULL) ||
      doppel_ddsketch_new(&da, 0.05, buckets, NULL) || doppel_ddsketch_new(&db, 0.05, buckets, NULL) ||
      doppel_ddsketch_new(&dw, 0.05, buckets, NULL) || doppel_topk_new(&ta, k, 4, NULL) ||
      doppel_topk_new(&tb, k, 4, NULL))
    abort();
  while (r.n) {
    uint8_t op = next_byte(&r);
    int to_b = op & 1;
    switch ((op >> 1) % 3) {
      case 0: {
        uint64_t h = next_u64(&r);
        doppel_hll_add_hash(to_b ? hb : ha, h);
        doppel_hll_add_hash(hw, h);
        break;
      }
      case 1: {
        double v;
        if (op & 0x80) {
          uint64_t bits = next_u64(&r);
          memcpy(&v, &bits, sizeof v);
        } else {
          v = (double)(int8_t)next_byte(&r) * ldexp(1.0, (int)next_byte(&r) % 64 - 32);
        }
        doppel_status s1 = doppel_ddsketch_add(to_b ? db : da, v);
        doppel_status s2 = doppel_ddsketch_add(dw, v);
        if (s1 != s2 || (s1 && (s1 != DOPPEL_E_DATA || isfinite(v)))) abort();
        break;
      }
      default: {
        uint8_t len = next_byte(&r) % 7;
        uint8_t v[8] = {0};
        for (uint8_t i = 0; i < len; i++) v[i] = next_byte(&r) % 4;
        if (doppel_topk_add(to_b ? tb : ta, v, len, 1 + (op >> 6))) abort();
        break;
      }
    }
  }
  /* HLL: a ∪ b = b ∪ a = whole */
  doppel_hll *hab = hll_copy(ha), *hba = hll_copy(hb);
  if (doppel_hll_merge(hab, hb, NULL) || doppel_hll_merge(hba, ha, NULL)) abort();
  check_equal_free(hll_text(hab), hll_text(hba));
  check_equal_free(hll_text(hab), hll_text(hw));
  /* DDSketch: a ∪ b = b ∪ a = whole, even when collapsing */
  doppel_ddsketch *dab = dds_copy(da), *dba = dds_copy(db);
  if (doppel_ddsketch_merge(dab, db, NULL) || doppel_ddsketch_merge(dba, da, NULL)) abort();
  check_equal_free(dds_text(dab), dds_text(dba));
  check_equal_free(dds_text(dab), dds_text(dw));
  /* top-k: commutative, bound kept */
  doppel_topk *tab = topk_copy(ta), *tba = topk_copy(tb);
  if (doppel_topk_merge(tab, tb, NULL) || doppel_topk_merge(tba, ta, NULL)) abort();
  check_equal_free(topk_text(tab), topk_text(tba));
  if (doppel_topk_total(tab) != doppel_topk_total(ta) + doppel_topk_total(tb)) abort();
  if (doppel_topk_error(tab) > doppel_topk_total(tab) / (doppel_topk_capacity(tab) + 1)) abort();
  doppel_hll_free(ha);
  doppel_hll_free(hb);
  doppel_hll_free(hw);
  doppel_hll_free(hab);
  doppel_hll_free(hba);
  doppel_ddsketch_free(da);
  doppel_ddsketch_free(db);
  doppel_ddsketch_free(dw);
  doppel_ddsketch_free(dab);
  doppel_ddsketch_free(dba);
  doppel_topk_free(ta);
  doppel_topk_free(tb);
  doppel_topk_free(tab);
  doppel_topk_free(tba);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size && data[0] == '{') {
    json_error_t err;
    json_t *j = json_loadb((const char *)data, size, 0, &err);
    if (!j) return 0;
    fuzz_hll_state(j);
    fuzz_dds_state(j);
    fuzz_topk_state(j);
    json_decref(j);
    return 0;
  }
  fuzz_ops(data, size);
  return 0;
}
