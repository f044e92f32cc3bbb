/*
 * state.c — partial profile states (`doppel-profile-state/1`): writing a
 * profiler's full mergeable state as JSON, loading it back, and merging one
 * profiler into another.
 *
 * Canonical form: a state lists event names sorted by their bytes, field
 * paths sorted by path, properties by (event, path) and users by hash, and
 * every reference (transitions, paths, sessions, constancy slots) is
 * renumbered to that order, so a state depends only on what was merged,
 * not on the order in which names were first seen.
 *
 * Merging users: two states of one user are joined in time order. When
 * the earlier state's last event precedes the later one's first event, the
 * earlier tail session and the later head session are joined if the gap is
 * within the session gap (their boundary transition and gap are counted
 * then), and sessions that become interior are finalized into the level
 * statistics. Overlapping time ranges (out-of-order shards) are not
 * stitched: their sessions are kept separate and counted as out of order.
 *
 * Users blob: base64 of packed little-endian records, sorted by hash:
 *   hash u64, events u64, first_us i64, last_us i64, first_day i32,
 *   last_day i32, active_days u32, sessions u32, daybits 7 x u64,
 *   head and tail sessions (start i64, end i64, events u32, first 3 x u32,
 *   last u32), late u64, fast_gaps u64, max_sess_events u32,
 *   max_sess_dur f64, max_gap f64, min_gap f64 (f64 as IEEE bits),
 *   16 x u16 session-length bins, in_const u8, n_cs u16, n_cs x (gpath u32, uval u32, sval u32,
 *   hval u32, flags u8).
 */
#include "profile/profile_int.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/diag.h"
#include "core/nomem.h"
#include "sketch/sketch_int.h"

/* ---- index maps ---- */

typedef struct maps {
  const uint32_t *ev;   /* src event index -> dst index (NULL = identity) */
  size_t n_ev;
  const uint32_t *gp;   /* src global path index -> dst index */
  size_t n_gp;
} maps;

static uint32_t map_ev(const maps *m, uint32_t e) {
  if (e == DP_EV_END || e == DP_EV_NONE || e == DP_EV_OTHER || !m || !m->ev) return e;
  return e < m->n_ev ? m->ev[e] : DP_EV_OTHER;
}

static uint32_t map_gp(const maps *m, uint32_t g) {
  if (!m || !m->gp) return g;
  return g < m->n_gp ? m->gp[g] : UINT32_MAX;
}

static int map_trans(void *ctx, dp_kc_entry *e) {
  const maps *m = ctx;
  uint32_t from = map_ev(m, (uint32_t)(e->key >> 32)), to = map_ev(m, (uint32_t)e->key);
  if (from == DP_EV_OTHER || to == DP_EV_OTHER) return 0;
  e->key = (uint64_t)from << 32 | to;
  return 1;
}

static int map_path(void *ctx, dp_kc_entry *e) {
  const maps *m = ctx;
  if (!e->val || e->vlen != 12) return 0;
  uint32_t steps[3];
  memcpy(steps, e->val, sizeof steps);
  for (int i = 0; i < 3; i++) {
    steps[i] = map_ev(m, steps[i]);
    if (steps[i] == DP_EV_OTHER) return 0;
  }
  memcpy(e->val, steps, sizeof steps);
  e->key = dp_path_key(steps);
  return 1;
}

/* ---- sequence statistics ---- */

static doppel_status seq_merge_map(dp_seq *dst, const dp_seq *src, const maps *m) {
  doppel_status st;
  dst->sessions += src->sessions;
  if ((st = doppel_ddsketch_merge(dst->sess_events, src->sess_events, NULL)) != DOPPEL_OK ||
      (st = doppel_ddsketch_merge(dst->sess_dur, src->sess_dur, NULL)) != DOPPEL_OK ||
      (st = doppel_ddsketch_merge(dst->gaps, src->gaps, NULL)) != DOPPEL_OK)
    return st;
  for (int i = 0; i < 168; i++) dst->start_how[i] += src->start_how[i];
  for (uint32_t e = 0; e < src->n_ev; e++) {
    if (!src->sess_first[e] && !src->trans_from[e]) continue;
    uint32_t d = map_ev(m, e);
    if (d == DP_EV_OTHER) continue;
    if ((st = dp_seq_ensure_ev(dst, d)) != DOPPEL_OK) return st;
    dst->sess_first[d] += src->sess_first[e];
    dst->trans_from[d] += src->trans_from[e];
  }
  for (uint32_t g = 0; g < src->n_gp; g++) {
    if (!src->sess_with[g]) continue;
    uint32_t d = map_gp(m, g);
    if (d == UINT32_MAX) continue;
    if ((st = dp_seq_ensure_gp(dst, d)) != DOPPEL_OK) return st;
    dst->sess_with[d] += src->sess_with[g];
    dst->sess_const[d] += src->sess_const[g];
  }
  if ((st = dp_kc_merge_map(&dst->trans, &src->trans, m && m->ev ? map_trans : NULL, (void *)m)) != DOPPEL_OK)
    return st;
  return dp_kc_merge_map(&dst->paths, &src->paths, m && m->ev ? map_path : NULL, (void *)m);
}

doppel_status dp_seq_merge(dp_seq *dst, const dp_seq *src) { return seq_merge_map(dst, src, NULL); }

/* ---- JSON helpers ---- */

static json_t *hex64(uint64_t v) {
  char b[17];
  snprintf(b, sizeof b, "%016" PRIx64, v);
  return json_string(b);
}

static int get_hex64(const json_t *j, uint64_t *out) {
  const char *s = json_string_value(j);
  if (!s || strlen(s) != 16) return -1;
  char *end;
  *out = strtoull(s, &end, 16);
  return *end ? -1 : 0;
}

static json_t *kset_json(const uint64_t *set, uint16_t n) {
  json_t *a = json_array();
  for (uint16_t i = 0; i < n; i++) json_array_append_new(a, hex64(set[i]));
  return a;
}

static int kset_load(const json_t *a, uint64_t *set, uint16_t *n, uint32_t k) {
  *n = 0;
  if (!json_is_array(a) || json_array_size(a) > k) return -1;
  for (size_t i = 0; i < json_array_size(a); i++) {
    uint64_t h;
    if (get_hex64(json_array_get(a, i), &h)) return -1;
    dp_kset_add(set, n, k, h);
  }
  return 0;
}

static json_t *u64_array(const uint64_t *v, size_t n) {
  json_t *a = json_array();
  for (size_t i = 0; i < n; i++) json_array_append_new(a, json_integer((json_int_t)v[i]));
  return a;
}

static int u64_load(const json_t *a, uint64_t *v, size_t n) {
  if (!json_is_array(a) || json_array_size(a) != n) return -1;
  for (size_t i = 0; i < n; i++) {
    const json_t *x = json_array_get(a, i);
    if (!json_is_integer(x) || json_integer_value(x) < 0) return -1;
    v[i] = (uint64_t)json_integer_value(x);
  }
  return 0;
}

/* A sketch as JSON, null for none; one that cannot be made (out of memory)
 * is noted as a failure of the document (core/nomem.h). */
static json_t *sketch_json(const doppel_ddsketch *s) {
  json_t *j = NULL;
  if (!s) return json_null();
  if (doppel_ddsketch_to_json(s, &j, NULL) != DOPPEL_OK) {
    dp_nomem_note();
    return json_null();
  }
  return j;
}

static json_t *hll_json(const doppel_hll *h) {
  json_t *j = NULL;
  if (!h) return json_null();
  if (doppel_hll_to_json(h, &j, NULL) != DOPPEL_OK) {
    dp_nomem_note();
    return json_null();
  }
  return j;
}

#define BAD(what) dp_diag_set(diag, DOPPEL_E_DATA, NULL, 0, 0, "state: malformed %s", what)

static doppel_status sketch_load(const json_t *j, doppel_ddsketch **out, doppel_diag *diag, int nullable) {
  doppel_ddsketch_free(*out);
  *out = NULL;
  if (json_is_null(j) && nullable) return DOPPEL_OK;
  return doppel_ddsketch_from_json(j, out, diag);
}

static doppel_status hll_load(const json_t *j, doppel_hll **out, doppel_diag *diag) {
  doppel_hll_free(*out);
  *out = NULL;
  return doppel_hll_from_json(j, out, diag);
}

/* ---- packed users ---- */

/* Binary blobs of the state: a byte that cannot be appended (out of
 * memory) is a failure of the document (core/nomem.h), never a gap. */
static void put_bytes(dp_buf *b, const void *p, size_t n) {
  if (dp_buf_append(b, p, n) != DOPPEL_OK) dp_nomem_note();
}
static void put_u8(dp_buf *b, uint8_t v) { put_bytes(b, &v, 1); }
static void put_u64(dp_buf *b, uint64_t v) {
  uint8_t t[8];
  for (int i = 0; i < 8; i++) t[i] = (uint8_t)(v >> (8 * i));
  put_bytes(b, t, 8);
}
static void put_u32(dp_buf *b, uint32_t v) {
  uint8_t t[4];
  for (int i = 0; i < 4; i++) t[i] = (uint8_t)(v >> (8 * i));
  put_bytes(b, t, 4);
}
static void put_f64(dp_buf *b, double d) {
  uint64_t v;
  memcpy(&v, &d, 8);
  put_u64(b, v);
}

typedef struct rd {
  const uint8_t *p;
  size_t n, o;
  int bad;
} rd;

static uint64_t get_u64(rd *r) {
  if (r->o + 8 > r->n) {
    r->bad = 1;
    return 0;
  }
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--) v = v << 8 | r->p[r->o + (size_t)i];
  r->o += 8;
  return v;
}
static uint32_t get_u32(rd *r) {
  if (r->o + 4 > r->n) {
    r->bad = 1;
    return 0;
  }
  uint32_t v = 0;
  for (int i = 3; i >= 0; i--) v = v << 8 | r->p[r->o + (size_t)i];
  r->o += 4;
  return v;
}
static double get_f64(rd *r) {
  uint64_t v = get_u64(r);
  double d;
  memcpy(&d, &v, 8);
  return d;
}
static uint8_t get_u8(rd *r) {
  if (r->o + 1 > r->n) {
    r->bad = 1;
    return 0;
  }
  return r->p[r->o++];
}

static void put_sess(dp_buf *b, const dp_sess *s, const maps *m) {
  put_u64(b, (uint64_t)s->start);
  put_u64(b, (uint64_t)s->end);
  put_u32(b, s->events);
  for (int i = 0; i < 3; i++) put_u32(b, map_ev(m, s->first[i]));
  put_u32(b, map_ev(m, s->last));
}

static void get_sess(rd *r, dp_sess *s) {
  s->start = (int64_t)get_u64(r);
  s->end = (int64_t)get_u64(r);
  s->events = get_u32(r);
  for (int i = 0; i < 3; i++) s->first[i] = get_u32(r);
  s->last = get_u32(r);
}

static void put_user(dp_buf *b, const dp_user *u, const maps *m) {
  put_u64(b, u->hash);
  put_u64(b, u->events);
  put_u64(b, (uint64_t)u->first_us);
  put_u64(b, (uint64_t)u->last_us);
  put_u32(b, (uint32_t)u->first_day);
  put_u32(b, (uint32_t)u->last_day);
  put_u32(b, u->active_days);
  put_u32(b, u->sessions);
  for (int i = 0; i < DP_DAYBITS_WORDS; i++) put_u64(b, u->daybits[i]);
  put_sess(b, &u->head, m);
  put_sess(b, &u->tail, m);
  put_u64(b, u->late);
  put_u64(b, u->fast_gaps);
  put_u32(b, u->max_sess_events);
  put_f64(b, u->max_sess_dur);
  put_f64(b, u->max_gap);
  put_f64(b, u->min_gap);
  for (int i = 0; i < DP_LENBINS; i++) {
    put_u8(b, (uint8_t)(u->lenbins[i] & 0xff));
    put_u8(b, (uint8_t)(u->lenbins[i] >> 8));
  }
  put_u8(b, (uint8_t)u->in_const);
  uint16_t n = u->in_const ? u->n_cs : 0;
  put_u8(b, (uint8_t)(n & 0xff));
  put_u8(b, (uint8_t)(n >> 8));
  for (uint16_t i = 0; i < n; i++) {
    put_u32(b, map_gp(m, u->cs[i].gpath));
    put_u32(b, u->cs[i].uval);
    put_u32(b, u->cs[i].sval);
    put_u32(b, u->cs[i].hval);
    put_u8(b, (uint8_t)u->cs[i].flags);
  }
}

static int get_user(rd *r, dp_user *u, size_t n_ev, size_t n_gp) {
  memset(u, 0, sizeof *u);
  u->hash = get_u64(r);
  u->events = get_u64(r);
  u->first_us = (int64_t)get_u64(r);
  u->last_us = (int64_t)get_u64(r);
  u->first_day = (int32_t)get_u32(r);
  u->last_day = (int32_t)get_u32(r);
  u->active_days = get_u32(r);
  u->sessions = get_u32(r);
  for (int i = 0; i < DP_DAYBITS_WORDS; i++) u->daybits[i] = get_u64(r);
  get_sess(r, &u->head);
  get_sess(r, &u->tail);
  u->late = get_u64(r);
  u->fast_gaps = get_u64(r);
  u->max_sess_events = get_u32(r);
  u->max_sess_dur = get_f64(r);
  u->max_gap = get_f64(r);
  u->min_gap = get_f64(r);
  for (int i = 0; i < DP_LENBINS; i++) {
    uint16_t lo = get_u8(r);
    u->lenbins[i] = (uint16_t)(lo | (uint16_t)get_u8(r) << 8);
  }
  u->in_const = get_u8(r);
  uint16_t n = get_u8(r);
  n = (uint16_t)(n | (uint16_t)get_u8(r) << 8); /* two statements: evaluation order */
  if (r->bad || n > 64 || u->in_const > 1 || u->events == 0 || u->sessions == 0 ||
      u->sessions > u->events || u->first_us > u->last_us || u->last_day < u->first_day)
    return -1;
  const dp_sess *ss[2] = {&u->head, &u->tail};
  for (int s = u->sessions >= 2 ? 0 : 1; s < 2; s++) {
    if (ss[s]->events == 0 || ss[s]->end < ss[s]->start) return -1;
    for (int i = 0; i < 3; i++)
      if (ss[s]->first[i] != DP_EV_NONE && ss[s]->first[i] != DP_EV_OTHER && ss[s]->first[i] >= n_ev) return -1;
    if (ss[s]->last != DP_EV_OTHER && ss[s]->last >= n_ev) return -1;
  }
  u->level = (uint8_t)dp_level_of(u->hash);
  if (n) {
    u->cs = malloc(n * sizeof *u->cs);
    if (!u->cs) return -2;
    u->n_cs = u->cap_cs = n;
    for (uint16_t i = 0; i < n; i++) {
      u->cs[i].gpath = get_u32(r);
      u->cs[i].uval = get_u32(r);
      u->cs[i].sval = get_u32(r);
      u->cs[i].hval = get_u32(r);
      u->cs[i].flags = get_u8(r);
      if (u->cs[i].gpath >= n_gp) {
        free(u->cs);
        u->cs = NULL;
        return -1;
      }
    }
  }
  return r->bad ? -1 : 0;
}

/* ---- canonical order ---- */

static _Thread_local const doppel_profiler *sort_p;

static int cmp_bytes(const char *a, size_t an, const char *b, size_t bn) {
  size_t n = an < bn ? an : bn;
  int c = memcmp(a, b, n);
  return c ? c : (an < bn ? -1 : an > bn);
}
static int cmp_ev(const void *x, const void *y) {
  const dp_event *a = &sort_p->ev[*(const uint32_t *)x], *b = &sort_p->ev[*(const uint32_t *)y];
  return cmp_bytes(a->name, a->len, b->name, b->len);
}
static int cmp_gp(const void *x, const void *y) {
  const dp_gpath *a = &sort_p->gp[*(const uint32_t *)x], *b = &sort_p->gp[*(const uint32_t *)y];
  return cmp_bytes(a->path, a->len, b->path, b->len);
}
static _Thread_local const maps *sort_m;
static int cmp_prop(const void *x, const void *y) {
  const dp_prop *a = &sort_p->props[*(const uint32_t *)x], *b = &sort_p->props[*(const uint32_t *)y];
  uint32_t ea = a->event == DP_PROP_USER ? UINT32_MAX : map_ev(sort_m, a->event);
  uint32_t eb = b->event == DP_PROP_USER ? UINT32_MAX : map_ev(sort_m, b->event);
  if (ea != eb) return ea < eb ? -1 : 1;
  uint32_t ga = map_gp(sort_m, a->gpath), gb = map_gp(sort_m, b->gpath);
  return ga < gb ? -1 : ga > gb;
}
static int cmp_user(const void *x, const void *y) {
  uint64_t a = sort_p->users[*(const uint32_t *)x].hash, b = sort_p->users[*(const uint32_t *)y].hash;
  return a < b ? -1 : a > b;
}

static int cmp_key(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

static uint32_t *order_of(size_t n, int (*cmp)(const void *, const void *)) {
  uint32_t *o = malloc((n + 1) * sizeof *o);
  if (!o) return NULL;
  for (size_t i = 0; i < n; i++) o[i] = (uint32_t)i;
  qsort(o, n, sizeof *o, cmp);
  return o;
}

static uint32_t *inverse(const uint32_t *order, size_t n) {
  uint32_t *inv = malloc((n + 1) * sizeof *inv);
  if (!inv) return NULL;
  for (size_t i = 0; i < n; i++) inv[order[i]] = (uint32_t)i;
  return inv;
}

/* ---- writing ---- */

static json_t *ext_pair(const dp_ext *x) { return dp_ext_to_json(x); }

static json_t *seq_json(const dp_seq *q, const maps *m, size_t n_ev, size_t n_gp, uint32_t k) {
  json_t *o = json_object();
  json_object_set_new(o, "sessions", json_integer((json_int_t)q->sessions));
  json_object_set_new(o, "sess_events", sketch_json(q->sess_events));
  json_object_set_new(o, "sess_dur", sketch_json(q->sess_dur));
  json_object_set_new(o, "gaps", sketch_json(q->gaps));
  json_object_set_new(o, "start_how", u64_array(q->start_how, 168));
  uint64_t *sf = calloc(n_ev + 1, sizeof *sf), *tf = calloc(n_ev + 1, sizeof *tf);
  uint64_t *sw = calloc(n_gp + 1, sizeof *sw), *sc = calloc(n_gp + 1, sizeof *sc);
  if (!sf || !tf || !sw || !sc) dp_nomem_note(); /* never a state with a table left empty */
  if (sf && tf)
    for (uint32_t e = 0; e < q->n_ev && e < n_ev; e++) {
      sf[map_ev(m, e)] = q->sess_first[e];
      tf[map_ev(m, e)] = q->trans_from[e];
    }
  if (sw && sc)
    for (uint32_t g = 0; g < q->n_gp && g < n_gp; g++) {
      sw[map_gp(m, g)] = q->sess_with[g];
      sc[map_gp(m, g)] = q->sess_const[g];
    }
  json_object_set_new(o, "sess_first", u64_array(sf, sf ? n_ev : 0));
  json_object_set_new(o, "trans_from", u64_array(tf, tf ? n_ev : 0));
  json_object_set_new(o, "sess_with", u64_array(sw, sw ? n_gp : 0));
  json_object_set_new(o, "sess_const", u64_array(sc, sc ? n_gp : 0));
  free(sf);
  free(tf);
  free(sw);
  free(sc);
  /* renumbered tables */
  dp_kc t, pa;
  if (dp_kc_init(&t, q->trans.cap, k, 0) != DOPPEL_OK) dp_nomem_note();
  if (dp_kc_init(&pa, q->paths.cap, k, 1) != DOPPEL_OK) dp_nomem_note();
  if (dp_kc_merge_map(&t, &q->trans, map_trans, (void *)m) != DOPPEL_OK) dp_nomem_note();
  if (dp_kc_merge_map(&pa, &q->paths, map_path, (void *)m) != DOPPEL_OK) dp_nomem_note();
  /* merge_map adds the source error; keep the original totals */
  json_object_set_new(o, "trans", dp_kc_to_json(&t));
  json_object_set_new(o, "paths", dp_kc_to_json(&pa));
  dp_kc_release(&t);
  dp_kc_release(&pa);
  return o;
}

static json_t *prop_json(const dp_prop *pr, const maps *m) {
  json_t *o = json_object();
  json_object_set_new(o, "event", pr->event == DP_PROP_USER ? json_integer(-1) : json_integer(map_ev(m, pr->event)));
  json_object_set_new(o, "gpath", json_integer(map_gp(m, pr->gpath)));
  json_object_set_new(o, "count", json_integer((json_int_t)pr->count));
  json_object_set_new(o, "nulls", json_integer((json_int_t)pr->nulls));
  json_object_set_new(o, "types", u64_array(pr->types, DP_T_COUNT));
  json_object_set_new(o, "item_types", u64_array(pr->item_types, DP_T_COUNT));
  json_object_set_new(o, "ts_count", json_integer((json_int_t)pr->ts_count));
  json_object_set_new(o, "ts_off", sketch_json(pr->ts_off));
  json_object_set_new(o, "scalars", json_integer((json_int_t)pr->scalars));
  json_object_set_new(o, "num", sketch_json(pr->num));
  json_object_set_new(o, "slen", sketch_json(pr->slen));
  json_object_set_new(o, "alen", sketch_json(pr->alen));
  json_object_set_new(o, "num_hi", ext_pair(&pr->num_hi));
  json_object_set_new(o, "num_lo", ext_pair(&pr->num_lo));
  json_object_set_new(o, "slen_hi", ext_pair(&pr->slen_hi));
  json_object_set_new(o, "alen_hi", ext_pair(&pr->alen_hi));
  json_object_set_new(o, "values_off", json_boolean(pr->values_off));
  json_object_set_new(o, "values", dp_kc_to_json(&pr->values));
  json_object_set_new(o, "patterns", dp_kc_to_json(&pr->patterns));
  json_object_set_new(o, "distinct", hll_json(pr->distinct));
  json_object_set_new(o, "pat_distinct", hll_json(pr->pat_distinct));
  json_object_set_new(o, "kset", kset_json(pr->kset, pr->n_kset));
  return o;
}

doppel_status doppel_profiler_state(doppel_profiler *p, json_t **out, doppel_diag *diag) {
  *out = NULL;
  if (p->finished) return dp_diag_set(diag, DOPPEL_E_USAGE, NULL, 0, 0, "the profile was already finalized");
  doppel_status st = DOPPEL_E_NOMEM;
  unsigned long nomem0 = dp_nomem_count(); /* a failed allocation would leave a part out (core/nomem.h) */
  sort_p = p;
  uint32_t *evo = order_of(p->n_ev, cmp_ev), *gpo = order_of(p->n_gp, cmp_gp);
  uint32_t *evm = evo ? inverse(evo, p->n_ev) : NULL, *gpm = gpo ? inverse(gpo, p->n_gp) : NULL;
  maps m = {evm, p->n_ev, gpm, p->n_gp};
  sort_m = &m;
  uint32_t *pro = order_of(p->n_props, cmp_prop), *uo = order_of(p->n_users, cmp_user);
  sort_p = NULL;
  sort_m = NULL;
  json_t *o = NULL;
  char *blob = NULL;
  dp_buf b;
  dp_buf_init(&b, 0);
  if (!evo || !gpo || !evm || !gpm || !pro || !uo) goto done;
  o = json_object();
  json_object_set_new(o, "format", json_string(DOPPEL_PROFILE_STATE_FORMAT));
  json_t *pa = json_object();
  json_object_set_new(pa, "k", json_integer(p->k));
  json_object_set_new(pa, "session_gap_us", json_integer(p->gap_us));
  json_object_set_new(pa, "max_users", json_integer((json_int_t)p->max_users));
  json_object_set_new(pa, "dialect", json_string(doppel_dialect_name(p->dialect)));
  json_object_set_new(pa, "format", json_string(p->format == DOPPEL_FORMAT_CSV ? "csv" : "jsonl"));
  json_object_set_new(pa, "key_id", json_string(p->key_id));
  json_object_set_new(pa, "now_us", json_integer(p->now_us));
  json_object_set_new(o, "params", pa);
  json_object_set_new(o, "evidence", json_string(p->evidence));
  /* source */
  json_t *src = json_object();
  json_t *files = json_array();
  for (size_t i = 0; i < p->n_files; i++) {
    json_t *fo = json_object();
    json_object_set_new(fo, "name", json_string(p->files[i].name));
    json_object_set_new(fo, "records", json_integer((json_int_t)p->files[i].records));
    json_object_set_new(fo, "bytes", json_integer((json_int_t)p->files[i].bytes));
    json_array_append_new(files, fo);
  }
  json_object_set_new(src, "files", files);
  uint64_t tally[8] = {p->records, p->bytes, p->events, p->malformed, p->no_user, p->no_event, p->no_time,
                       p->device_events};
  json_object_set_new(src, "tally", u64_array(tally, 8));
  json_t *ek = json_array();
  for (size_t i = 0; i < p->n_errk; i++) {
    json_t *e = json_object();
    json_object_set_new(e, "kind", json_string(p->errk[i].kind));
    json_object_set_new(e, "count", json_integer((json_int_t)p->errk[i].count));
    json_t *ls = json_array();
    for (uint32_t j = 0; j < p->errk[i].n_lines; j++) json_array_append_new(ls, json_string(p->errk[i].lines[j]));
    json_object_set_new(e, "lines", ls);
    json_array_append_new(ek, e);
  }
  json_object_set_new(src, "errors", ek);
  json_object_set_new(src, "time_units", u64_array(p->time_units, 5));
  json_object_set_new(src, "time_frac", json_integer(p->time_frac));
  uint64_t tt[2] = {p->future, p->ancient};
  json_object_set_new(src, "time", u64_array(tt, 2));
  json_object_set_new(src, "min_us", json_integer(p->min_us));
  json_object_set_new(src, "max_us", json_integer(p->max_us));
  json_object_set_new(o, "source", src);
  json_object_set_new(o, "users_hll", hll_json(p->users_hll));
  json_object_set_new(o, "devices_hll", hll_json(p->devices_hll));
  json_object_set_new(o, "drop_level", json_integer(p->drop_level));
  json_object_set_new(o, "const_drop", json_integer(p->const_drop));
  /* events */
  json_t *evs = json_array();
  for (size_t r = 0; r < p->n_ev; r++) {
    const dp_event *e = &p->ev[evo[r]];
    json_t *eo = json_object();
    json_object_set_new(eo, "name", json_stringn(e->name, e->len));
    json_object_set_new(eo, "count", json_integer((json_int_t)e->count));
    json_object_set_new(eo, "users", hll_json(e->users));
    json_object_set_new(eo, "kset", kset_json(e->kset, e->n_kset));
    json_array_append_new(evs, eo);
  }
  json_object_set_new(o, "events", evs);
  json_object_set_new(o, "overflow_events", json_integer((json_int_t)p->overflow_events));
  json_object_set_new(o, "hour_of_week", u64_array(p->hour_of_week, 168));
  json_t *days = json_object();
  json_object_set_new(days, "day0", json_integer(p->day0));
  json_object_set_new(days, "counts", u64_array(p->days, p->n_days));
  json_object_set_new(days, "out", json_integer((json_int_t)p->days_out));
  json_object_set_new(o, "days", days);
  /* global paths */
  json_t *gps = json_array();
  for (size_t r = 0; r < p->n_gp; r++) {
    const dp_gpath *g = &p->gp[gpo[r]];
    json_t *go = json_object();
    json_object_set_new(go, "path", json_stringn(g->path, g->len));
    json_object_set_new(go, "values", json_integer((json_int_t)g->values));
    json_object_set_new(go, "strings", json_integer((json_int_t)g->strings));
    json_object_set_new(go, "match", u64_array(g->match, DP_NMATCH));
    json_object_set_new(go, "embedded", u64_array(g->embedded, DP_NMATCH));
    json_object_set_new(go, "kset", kset_json(g->kset, g->n_kset));
    json_array_append_new(gps, go);
  }
  json_object_set_new(o, "paths", gps);
  json_object_set_new(o, "path_overflow", json_integer((json_int_t)p->gp_overflow));
  json_t *props = json_array();
  for (size_t r = 0; r < p->n_props; r++) json_array_append_new(props, prop_json(&p->props[pro[r]], &m));
  json_object_set_new(o, "properties", props);
  json_object_set_new(o, "property_overflow", json_integer((json_int_t)p->prop_overflow));
  json_t *ids = json_array();
  for (int i = 0; i < 4; i++) {
    const struct dp_idstat *x = &p->ids[i];
    json_t *io = json_object();
    json_object_set_new(io, "present", json_integer((json_int_t)x->present));
    json_object_set_new(io, "len", sketch_json(x->len));
    json_object_set_new(io, "len_hi", ext_pair(&x->len_hi));
    json_object_set_new(io, "len_lo", ext_pair(&x->len_lo));
    json_object_set_new(io, "patterns", dp_kc_to_json(&x->patterns));
    json_object_set_new(io, "distinct", hll_json(x->distinct));
    json_object_set_new(io, "pat_distinct", hll_json(x->pat_distinct));
    json_object_set_new(io, "kinds", u64_array(x->kinds, 8));
    json_array_append_new(ids, io);
  }
  json_object_set_new(o, "identifiers", ids);
  /* insert ids: sorted pairs */
  {
    uint64_t *pairs = malloc((p->ins_n + 1) * 2 * sizeof *pairs);
    if (!pairs) goto done;
    size_t n = 0;
    for (size_t i = 0; i < p->ins_cap; i++)
      if (p->ins_key[i]) pairs[2 * n] = p->ins_key[i], pairs[2 * n + 1] = p->ins_val[i], n++;
    /* sort by key (insertion sort is too slow; use qsort on pair indices) */
    uint64_t *keys = malloc((n + 1) * sizeof *keys);
    if (!keys) {
      free(pairs);
      goto done;
    }
    for (size_t i = 0; i < n; i++) keys[i] = pairs[2 * i];
    /* keys are unique: sort them, then look their values up */
    qsort(keys, n, sizeof *keys, cmp_key);
    dp_buf ib;
    dp_buf_init(&ib, 0);
    for (size_t i = 0; i < n; i++) {
      size_t q = (size_t)(dp_sketch_mix64(keys[i]) & (p->ins_cap - 1));
      while (p->ins_key[q] != keys[i]) q = (q + 1) & (p->ins_cap - 1);
      put_u64(&ib, keys[i]);
      put_u64(&ib, p->ins_val[q]);
    }
    free(keys);
    free(pairs);
    json_t *io = json_object();
    json_object_set_new(io, "drop", json_integer(p->ins_drop));
    char *enc = malloc(dp_b64_encoded_len(ib.len) + 1);
    if (!enc) {
      dp_buf_release(&ib);
      json_decref(io);
      goto done;
    }
    dp_b64_encode((const uint8_t *)(ib.data ? ib.data : ""), ib.len, enc);
    json_object_set_new(io, "pairs", json_string(enc));
    free(enc);
    dp_buf_release(&ib);
    json_object_set_new(io, "dup_same", u64_array(p->ins_dup_same, DP_LEVELS));
    json_object_set_new(io, "dup_diff", u64_array(p->ins_dup_diff, DP_LEVELS));
    json_object_set_new(o, "insert_ids", io);
  }
  json_t *seqs = json_array();
  for (uint32_t l = 0; l < DP_LEVELS; l++) {
    if (!p->seq[l]) continue;
    json_t *so = seq_json(p->seq[l], &m, p->n_ev, p->n_gp, p->k);
    json_object_set_new(so, "level", json_integer(l));
    json_array_append_new(seqs, so);
  }
  json_object_set_new(o, "sequences", seqs);
  for (size_t r = 0; r < p->n_users; r++) put_user(&b, &p->users[uo[r]], &m);
  blob = malloc(dp_b64_encoded_len(b.len) + 1);
  if (!blob) goto done;
  dp_b64_encode((const uint8_t *)(b.data ? b.data : ""), b.len, blob);
  json_t *us = json_object();
  json_object_set_new(us, "count", json_integer((json_int_t)p->n_users));
  json_object_set_new(us, "data", json_string(blob));
  json_object_set_new(o, "users", us);
  if (dp_nomem_count() == nomem0) st = DOPPEL_OK;
done:
  free(blob);
  dp_buf_release(&b);
  free(evo);
  free(gpo);
  free(evm);
  free(gpm);
  free(pro);
  free(uo);
  if (st != DOPPEL_OK) {
    json_decref(o);
    return dp_diag_set(diag, st, NULL, 0, 0, NULL);
  }
  *out = o;
  return DOPPEL_OK;
}


/* ---- loading ---- */

static doppel_status ext_load(dp_ext *x, const json_t *j, doppel_diag *diag, const char *what) {
  return dp_ext_from_json(x, j, diag, what);
}

static doppel_status kc_load(dp_kc *t, const json_t *j, doppel_diag *diag, const char *what) {
  dp_kc_release(t);
  return dp_kc_from_json(t, j, diag, what);
}

static int get_int(const json_t *o, const char *key, int64_t lo, int64_t hi, int64_t *out) {
  const json_t *v = json_object_get(o, key);
  if (!json_is_integer(v)) return -1;
  json_int_t x = json_integer_value(v);
  if (x < lo || x > hi) return -1;
  *out = x;
  return 0;
}

static doppel_status load_seq(doppel_profiler *p, const json_t *so, doppel_diag *diag) {
  int64_t level;
  if (get_int(so, "level", 0, DP_LEVELS - 1, &level) || p->seq[level]) return BAD("sequence level");
  dp_seq *q;
  doppel_status st = dp_seq_get(p, (uint32_t)level, &q);
  if (st != DOPPEL_OK) return dp_diag_set(diag, st, NULL, 0, 0, NULL);
  int64_t v;
  if (get_int(so, "sessions", 0, INT64_MAX, &v)) return BAD("sequence sessions");
  q->sessions = (uint64_t)v;
  if ((st = sketch_load(json_object_get(so, "sess_events"), &q->sess_events, diag, 0)) != DOPPEL_OK ||
      (st = sketch_load(json_object_get(so, "sess_dur"), &q->sess_dur, diag, 0)) != DOPPEL_OK ||
      (st = sketch_load(json_object_get(so, "gaps"), &q->gaps, diag, 0)) != DOPPEL_OK)
    return st;
  if (u64_load(json_object_get(so, "start_how"), q->start_how, 168)) return BAD("sequence hours");
  const json_t *sf = json_object_get(so, "sess_first"), *tf = json_object_get(so, "trans_from");
  const json_t *sw = json_object_get(so, "sess_with"), *sc = json_object_get(so, "sess_const");
  if (json_array_size(sf) != p->n_ev || json_array_size(tf) != p->n_ev || json_array_size(sw) != p->n_gp ||
      json_array_size(sc) != p->n_gp)
    return BAD("sequence arrays");
  if (p->n_ev && ((st = dp_seq_ensure_ev(q, (uint32_t)p->n_ev - 1)) != DOPPEL_OK)) return dp_diag_set(diag, st, NULL, 0, 0, NULL);
  if (p->n_gp && ((st = dp_seq_ensure_gp(q, (uint32_t)p->n_gp - 1)) != DOPPEL_OK)) return dp_diag_set(diag, st, NULL, 0, 0, NULL);
  if (u64_load(sf, q->sess_first, p->n_ev) || u64_load(tf, q->trans_from, p->n_ev) ||
      u64_load(sw, q->sess_with, p->n_gp) || u64_load(sc, q->sess_const, p->n_gp))
    return BAD("sequence arrays");
  if ((st = kc_load(&q->trans, json_object_get(so, "trans"), diag, "transitions")) != DOPPEL_OK ||
      (st = kc_load(&q->paths, json_object_get(so, "paths"), diag, "paths")) != DOPPEL_OK)
    return st;
  if (q->trans.k != p->k || q->paths.k != p->k) return BAD("sequence tables");
  for (uint32_t i = 0; i < q->trans.n; i++) {
    uint32_t from = (uint32_t)(q->trans.e[i].key >> 32), to = (uint32_t)q->trans.e[i].key;
    if (from >= p->n_ev || (to >= p->n_ev && to != DP_EV_END)) return BAD("transition");
  }
  for (uint32_t i = 0; i < q->paths.n; i++) {
    uint32_t steps[3];
    if (!q->paths.e[i].val || q->paths.e[i].vlen != 12) return BAD("path");
    memcpy(steps, q->paths.e[i].val, sizeof steps);
    for (int s = 0; s < 3; s++)
      if (steps[s] >= p->n_ev && steps[s] != DP_EV_END && steps[s] != DP_EV_NONE) return BAD("path");
  }
  return DOPPEL_OK;
}

static doppel_status load_prop(doppel_profiler *p, const json_t *po, doppel_diag *diag) {
  int64_t ev, gp, v;
  if (get_int(po, "event", -1, (int64_t)p->n_ev - 1, &ev) || get_int(po, "gpath", 0, (int64_t)p->n_gp - 1, &gp))
    return BAD("property reference");
  uint32_t pi;
  doppel_status st = dp_prop_index(p, ev < 0 ? DP_PROP_USER : (uint32_t)ev, (uint32_t)gp, &pi);
  if (st != DOPPEL_OK) return dp_diag_set(diag, st, NULL, 0, 0, NULL);
  if (pi == UINT32_MAX) return BAD("property count");
  dp_prop *pr = &p->props[pi];
  if (pr->count || pr->scalars || pr->nulls) return BAD("property (duplicate)");
  if (get_int(po, "count", 0, INT64_MAX, &v)) return BAD("property count");
  pr->count = (uint64_t)v;
  if (get_int(po, "nulls", 0, INT64_MAX, &v)) return BAD("property nulls");
  pr->nulls = (uint64_t)v;
  if (get_int(po, "scalars", 0, INT64_MAX, &v)) return BAD("property scalars");
  pr->scalars = (uint64_t)v;
  if (u64_load(json_object_get(po, "types"), pr->types, DP_T_COUNT) ||
      u64_load(json_object_get(po, "item_types"), pr->item_types, DP_T_COUNT))
    return BAD("property types");
  if (get_int(po, "ts_count", 0, INT64_MAX, &v)) return BAD("property timestamps");
  pr->ts_count = (uint64_t)v;
  if ((st = sketch_load(json_object_get(po, "ts_off"), &pr->ts_off, diag, 1)) != DOPPEL_OK) return st;
  if ((st = sketch_load(json_object_get(po, "num"), &pr->num, diag, 1)) != DOPPEL_OK ||
      (st = sketch_load(json_object_get(po, "slen"), &pr->slen, diag, 1)) != DOPPEL_OK ||
      (st = sketch_load(json_object_get(po, "alen"), &pr->alen, diag, 1)) != DOPPEL_OK ||
      (st = ext_load(&pr->num_hi, json_object_get(po, "num_hi"), diag, "num_hi")) != DOPPEL_OK ||
      (st = ext_load(&pr->num_lo, json_object_get(po, "num_lo"), diag, "num_lo")) != DOPPEL_OK ||
      (st = ext_load(&pr->slen_hi, json_object_get(po, "slen_hi"), diag, "slen_hi")) != DOPPEL_OK ||
      (st = ext_load(&pr->alen_hi, json_object_get(po, "alen_hi"), diag, "alen_hi")) != DOPPEL_OK ||
      (st = kc_load(&pr->values, json_object_get(po, "values"), diag, "values")) != DOPPEL_OK ||
      (st = kc_load(&pr->patterns, json_object_get(po, "patterns"), diag, "patterns")) != DOPPEL_OK ||
      (st = hll_load(json_object_get(po, "distinct"), &pr->distinct, diag)) != DOPPEL_OK ||
      (st = hll_load(json_object_get(po, "pat_distinct"), &pr->pat_distinct, diag)) != DOPPEL_OK)
    return st;
  pr->values_off = json_is_true(json_object_get(po, "values_off"));
  if ((pr->values.cap && pr->values.k != p->k) || (pr->patterns.cap && pr->patterns.k != p->k))
    return BAD("property tables");
  if (kset_load(json_object_get(po, "kset"), pr->kset, &pr->n_kset, p->k)) return BAD("property users");
  return DOPPEL_OK;
}

doppel_status doppel_profiler_from_state(doppel_profiler **out, const json_t *s, doppel_diag *diag) {
  *out = NULL;
  if (!json_is_object(s) || !json_is_string(json_object_get(s, "format")) ||
      strcmp(json_string_value(json_object_get(s, "format")), DOPPEL_PROFILE_STATE_FORMAT) != 0)
    return dp_diag_set(diag, DOPPEL_E_DATA, NULL, 0, 0, "expected a doppel profile state (\"format\": \"%s\")",
                       DOPPEL_PROFILE_STATE_FORMAT);
  const json_t *pa = json_object_get(s, "params");
  int64_t k, gap, mu, now;
  const char *dn = json_string_value(json_object_get(pa, "dialect"));
  const char *fm = json_string_value(json_object_get(pa, "format"));
  const char *kid = json_string_value(json_object_get(pa, "key_id"));
  if (get_int(pa, "k", 2, DOPPEL_PROFILE_K_MAX, &k) || get_int(pa, "session_gap_us", 1, INT64_MAX, &gap) ||
      get_int(pa, "max_users", 1, INT64_MAX, &mu) || get_int(pa, "now_us", INT64_MIN, INT64_MAX, &now) || !dn ||
      !fm || !kid || strlen(kid) > DOPPEL_KEY_ID_HEX)
    return BAD("parameters");
  doppel_dialect d = doppel_dialect_parse(dn);
  if (d == DOPPEL_DIALECT_COUNT || d == DOPPEL_DIALECT_AUTO) return BAD("dialect");
  doppel_profile_params pp = {(uint32_t)k, gap, (uint64_t)mu, NULL, now};
  doppel_profiler *p;
  doppel_status st = doppel_profiler_new(&p, &pp, d, strcmp(fm, "csv") ? DOPPEL_FORMAT_JSONL : DOPPEL_FORMAT_CSV, diag);
  if (st != DOPPEL_OK) return st;
  p->loaded = 1;
  snprintf(p->key_id, sizeof p->key_id, "%s", kid);
  doppel_profiler_set_evidence(p, json_string_value(json_object_get(s, "evidence")));
  const json_t *src = json_object_get(s, "source");
  const json_t *files = json_object_get(src, "files");
  size_t i;
  const json_t *it;
  if (!json_is_array(files)) goto bad_source;
  json_array_foreach(files, i, it) {
    const char *name = json_string_value(json_object_get(it, "name"));
    int64_t r, b;
    if (!name || get_int(it, "records", 0, INT64_MAX, &r) || get_int(it, "bytes", 0, INT64_MAX, &b)) goto bad_source;
    if ((st = doppel_profiler_begin_file(p, name, diag)) != DOPPEL_OK) goto fail;
    p->files[p->n_files - 1].records = (uint64_t)r;
    p->files[p->n_files - 1].bytes = (uint64_t)b;
  }
  uint64_t tally[8];
  if (u64_load(json_object_get(src, "tally"), tally, 8)) goto bad_source;
  p->records = tally[0], p->bytes = tally[1], p->events = tally[2], p->malformed = tally[3];
  p->no_user = tally[4], p->no_event = tally[5], p->no_time = tally[6], p->device_events = tally[7];
  const json_t *ek = json_object_get(src, "errors");
  if (!json_is_array(ek) || json_array_size(ek) > DP_MAX_ERR_KINDS) goto bad_source;
  json_array_foreach(ek, i, it) {
    const char *kind = json_string_value(json_object_get(it, "kind"));
    int64_t c;
    const json_t *ls = json_object_get(it, "lines");
    if (!kind || get_int(it, "count", 0, INT64_MAX, &c) || !json_is_array(ls) || json_array_size(ls) > 10) goto bad_source;
    dp_errkind_add(p, kind, (uint64_t)c, NULL);
    for (size_t j = 0; j < json_array_size(ls); j++) {
      const char *l = json_string_value(json_array_get(ls, j));
      if (!l) goto bad_source;
      dp_errkind_add(p, kind, 0, l);
    }
  }
  uint64_t tt[2];
  if (u64_load(json_object_get(src, "time_units"), p->time_units, 5) || u64_load(json_object_get(src, "time"), tt, 2) ||
      get_int(src, "min_us", INT64_MIN, INT64_MAX, &p->min_us) || get_int(src, "max_us", INT64_MIN, INT64_MAX, &p->max_us))
    goto bad_source;
  p->future = tt[0], p->ancient = tt[1];
  int64_t tf;
  if (get_int(src, "time_frac", 0, 3, &tf)) goto bad_source;
  p->time_frac = (uint32_t)tf;
  if ((st = hll_load(json_object_get(s, "users_hll"), &p->users_hll, diag)) != DOPPEL_OK ||
      (st = hll_load(json_object_get(s, "devices_hll"), &p->devices_hll, diag)) != DOPPEL_OK)
    goto fail;
  int64_t v;
  if (get_int(s, "drop_level", 0, DP_LEVELS - 1, &v)) goto bad_levels;
  p->drop_level = (uint32_t)v;
  if (get_int(s, "const_drop", 0, DP_LEVELS - 1, &v)) goto bad_levels;
  p->const_drop = (uint32_t)v;
  /* events */
  const json_t *evs = json_object_get(s, "events");
  if (!json_is_array(evs) || json_array_size(evs) > DOPPEL_PROFILE_MAX_NAMES) {
    st = BAD("events");
    goto fail;
  }
  json_array_foreach(evs, i, it) {
    const json_t *nm = json_object_get(it, "name");
    uint32_t e;
    int64_t c;
    if (!json_is_string(nm) || get_int(it, "count", 0, INT64_MAX, &c)) {
      st = BAD("event");
      goto fail;
    }
    if ((st = dp_event_index(p, json_string_value(nm), json_string_length(nm), &e)) != DOPPEL_OK) {
      dp_diag_set(diag, st, NULL, 0, 0, NULL);
      goto fail;
    }
    if (e != i) {
      st = BAD("events (duplicate name)");
      goto fail;
    }
    p->ev[e].count = (uint64_t)c;
    if ((st = hll_load(json_object_get(it, "users"), &p->ev[e].users, diag)) != DOPPEL_OK) goto fail;
    if (kset_load(json_object_get(it, "kset"), p->ev[e].kset, &p->ev[e].n_kset, p->k)) {
      st = BAD("event users");
      goto fail;
    }
  }
  if (get_int(s, "overflow_events", 0, INT64_MAX, &v)) goto bad_source;
  p->overflow_events = (uint64_t)v;
  if (u64_load(json_object_get(s, "hour_of_week"), p->hour_of_week, 168)) goto bad_source;
  const json_t *days = json_object_get(s, "days");
  const json_t *dc = json_object_get(days, "counts");
  int64_t day0, dout;
  if (get_int(days, "day0", INT32_MIN / 2, INT32_MAX / 2, &day0) || get_int(days, "out", 0, INT64_MAX, &dout) ||
      !json_is_array(dc) || json_array_size(dc) > 40000) {
    st = BAD("days");
    goto fail;
  }
  p->days_out = (uint64_t)dout;
  for (size_t di = 0; di < json_array_size(dc); di++) {
    const json_t *x = json_array_get(dc, di);
    if (!json_is_integer(x) || json_integer_value(x) < 0) {
      st = BAD("days");
      goto fail;
    }
    if (json_integer_value(x) && (st = dp_day_add(p, (int32_t)(day0 + (int64_t)di), (uint64_t)json_integer_value(x))) != DOPPEL_OK) {
      dp_diag_set(diag, st, NULL, 0, 0, NULL);
      goto fail;
    }
  }
  /* global paths */
  const json_t *gps = json_object_get(s, "paths");
  if (!json_is_array(gps) || json_array_size(gps) > DOPPEL_PROFILE_MAX_PATHS) {
    st = BAD("paths");
    goto fail;
  }
  json_array_foreach(gps, i, it) {
    const json_t *pt = json_object_get(it, "path");
    uint32_t g;
    int64_t a, b;
    if (!json_is_string(pt) || get_int(it, "values", 0, INT64_MAX, &a) || get_int(it, "strings", 0, INT64_MAX, &b)) {
      st = BAD("path");
      goto fail;
    }
    if ((st = dp_gpath_index(p, json_string_value(pt), json_string_length(pt), &g)) != DOPPEL_OK) {
      dp_diag_set(diag, st, NULL, 0, 0, NULL);
      goto fail;
    }
    dp_gpath *gg = &p->gp[g];
    if (g != i || u64_load(json_object_get(it, "match"), gg->match, DP_NMATCH) ||
        u64_load(json_object_get(it, "embedded"), gg->embedded, DP_NMATCH) ||
        kset_load(json_object_get(it, "kset"), gg->kset, &gg->n_kset, p->k)) {
      st = BAD("path");
      goto fail;
    }
    gg->values = (uint64_t)a;
    gg->strings = (uint64_t)b;
  }
  if (get_int(s, "path_overflow", 0, INT64_MAX, &v)) goto bad_source;
  p->gp_overflow = (uint64_t)v;
  const json_t *props = json_object_get(s, "properties");
  if (!json_is_array(props) || json_array_size(props) > DOPPEL_PROFILE_MAX_PATHS) {
    st = BAD("properties");
    goto fail;
  }
  json_array_foreach(props, i, it) {
    if ((st = load_prop(p, it, diag)) != DOPPEL_OK) goto fail;
  }
  if (get_int(s, "property_overflow", 0, INT64_MAX, &v)) goto bad_source;
  p->prop_overflow = (uint64_t)v;
  const json_t *ids = json_object_get(s, "identifiers");
  if (json_array_size(ids) != 4) {
    st = BAD("identifiers");
    goto fail;
  }
  for (int x = 0; x < 4; x++) {
    const json_t *io = json_array_get(ids, (size_t)x);
    struct dp_idstat *id = &p->ids[x];
    if (get_int(io, "present", 0, INT64_MAX, &v) || u64_load(json_object_get(io, "kinds"), id->kinds, 8)) {
      st = BAD("identifier");
      goto fail;
    }
    id->present = (uint64_t)v;
    if ((st = sketch_load(json_object_get(io, "len"), &id->len, diag, 0)) != DOPPEL_OK ||
        (st = ext_load(&id->len_hi, json_object_get(io, "len_hi"), diag, "len_hi")) != DOPPEL_OK ||
        (st = ext_load(&id->len_lo, json_object_get(io, "len_lo"), diag, "len_lo")) != DOPPEL_OK ||
        (st = kc_load(&id->patterns, json_object_get(io, "patterns"), diag, "patterns")) != DOPPEL_OK ||
        (st = hll_load(json_object_get(io, "distinct"), &id->distinct, diag)) != DOPPEL_OK ||
        (st = hll_load(json_object_get(io, "pat_distinct"), &id->pat_distinct, diag)) != DOPPEL_OK)
      goto fail;
  }
  /* insert ids */
  {
    const json_t *io = json_object_get(s, "insert_ids");
    const json_t *pairs = json_object_get(io, "pairs");
    if (get_int(io, "drop", 0, DP_LEVELS - 1, &v) || !json_is_string(pairs) ||
        u64_load(json_object_get(io, "dup_same"), p->ins_dup_same, DP_LEVELS) ||
        u64_load(json_object_get(io, "dup_diff"), p->ins_dup_diff, DP_LEVELS)) {
      st = BAD("insert ids");
      goto fail;
    }
    p->ins_drop = (uint32_t)v;
    size_t n = json_string_length(pairs);
    uint8_t *raw = malloc(n / 4 * 3 + 1);
    if (!raw) {
      st = dp_diag_set(diag, DOPPEL_E_NOMEM, NULL, 0, 0, NULL);
      goto fail;
    }
    size_t m = dp_b64_decode(json_string_value(pairs), n, raw);
    if (m == (size_t)-1 || m % 16) {
      free(raw);
      st = BAD("insert ids");
      goto fail;
    }
    /* re-adding cannot count duplicates: keys in a state are unique */
    uint64_t same[DP_LEVELS], diff[DP_LEVELS];
    memcpy(same, p->ins_dup_same, sizeof same);
    memcpy(diff, p->ins_dup_diff, sizeof diff);
    rd r = {raw, m, 0, 0};
    for (size_t q = 0; q < m / 16; q++) {
      uint64_t key = get_u64(&r), val = get_u64(&r);
      if (!key || (st = dp_insert_add(p, key, val)) != DOPPEL_OK) {
        free(raw);
        if (!key) st = BAD("insert ids");
        else dp_diag_set(diag, st, NULL, 0, 0, NULL);
        goto fail;
      }
    }
    free(raw);
    if (memcmp(same, p->ins_dup_same, sizeof same) || memcmp(diff, p->ins_dup_diff, sizeof diff)) {
      st = BAD("insert ids (duplicate key)");
      goto fail;
    }
  }
  const json_t *seqs = json_object_get(s, "sequences");
  if (!json_is_array(seqs)) {
    st = BAD("sequences");
    goto fail;
  }
  json_array_foreach(seqs, i, it) {
    if ((st = load_seq(p, it, diag)) != DOPPEL_OK) goto fail;
  }
  /* users */
  {
    const json_t *us = json_object_get(s, "users");
    const json_t *data = json_object_get(us, "data");
    int64_t count;
    if (get_int(us, "count", 0, (int64_t)p->max_users, &count) || !json_is_string(data)) {
      st = BAD("users");
      goto fail;
    }
    size_t n = json_string_length(data);
    uint8_t *raw = malloc(n / 4 * 3 + 1);
    if (!raw) {
      st = dp_diag_set(diag, DOPPEL_E_NOMEM, NULL, 0, 0, NULL);
      goto fail;
    }
    size_t m = dp_b64_decode(json_string_value(data), n, raw);
    if (m == (size_t)-1) {
      free(raw);
      st = BAD("users");
      goto fail;
    }
    p->users = calloc((size_t)count + 1, sizeof *p->users);
    if (!p->users) {
      free(raw);
      st = dp_diag_set(diag, DOPPEL_E_NOMEM, NULL, 0, 0, NULL);
      goto fail;
    }
    p->cap_users = (size_t)count + 1;
    rd r = {raw, m, 0, 0};
    uint64_t prev = 0;
    for (int64_t q = 0; q < count; q++) {
      dp_user *u = &p->users[p->n_users];
      int rc = get_user(&r, u, p->n_ev, p->n_gp);
      if (rc || (q && u->hash <= prev) || u->level < p->drop_level) {
        free(raw);
        st = rc == -2 ? dp_diag_set(diag, DOPPEL_E_NOMEM, NULL, 0, 0, NULL) : BAD("user record");
        goto fail;
      }
      prev = u->hash;
      if (u->in_const) p->n_const++;
      p->n_users++;
    }
    free(raw);
    if (r.o != m) {
      st = BAD("users (trailing bytes)");
      goto fail;
    }
    if ((st = dp_users_rehash(p, p->n_users * 2 + 16)) != DOPPEL_OK) {
      dp_diag_set(diag, st, NULL, 0, 0, NULL);
      goto fail;
    }
  }
  *out = p;
  return DOPPEL_OK;
bad_levels:
  st = BAD("sample levels");
  goto fail;
bad_source:
  st = BAD("source");
fail:
  doppel_profiler_free(p);
  return st;
}

/* ---- merging ---- */

static void errk_merge(doppel_profiler *dst, const doppel_profiler *src) {
  for (size_t i = 0; i < src->n_errk; i++) {
    const dp_errkind *e = &src->errk[i];
    dp_errkind_add(dst, e->kind, e->count, NULL);
    size_t j;
    for (j = 0; j < dst->n_errk; j++)
      if (!strcmp(dst->errk[j].kind, e->kind)) break;
    if (j == dst->n_errk) continue;
    dp_errkind *d = &dst->errk[j];
    /* keep the 10 smallest positions of the union, sorted */
    char all[20][96];
    uint32_t n = 0;
    for (uint32_t a = 0; a < d->n_lines; a++) memcpy(all[n++], d->lines[a], 96);
    for (uint32_t a = 0; a < e->n_lines; a++) memcpy(all[n++], e->lines[a], 96);
    for (uint32_t a = 1; a < n; a++)
      for (uint32_t b = a; b > 0 && strcmp(all[b - 1], all[b]) > 0; b--) {
        char t[96];
        memcpy(t, all[b], 96);
        memcpy(all[b], all[b - 1], 96);
        memcpy(all[b - 1], t, 96);
      }
    d->n_lines = n < 10 ? n : 10;
    for (uint32_t a = 0; a < d->n_lines; a++) memcpy(d->lines[a], all[a], 96);
  }
}

static doppel_status sk_merge(doppel_ddsketch **dst, const doppel_ddsketch *src) {
  if (!src) return DOPPEL_OK;
  if (!*dst) {
    doppel_status st = doppel_ddsketch_new(dst, doppel_ddsketch_alpha(src), doppel_ddsketch_max_buckets(src), NULL);
    if (st != DOPPEL_OK) return st;
  }
  return doppel_ddsketch_merge(*dst, src, NULL);
}

static void kset_union(uint64_t *dst, uint16_t *n, uint32_t k, const uint64_t *src, uint16_t sn) {
  for (uint16_t i = 0; i < sn; i++) dp_kset_add(dst, n, k, src[i]);
}

/* insert a copy of a (remapped) user; takes ownership of u->cs */
static doppel_status user_insert(doppel_profiler *p, dp_user *u) {
  if ((p->n_users + 1) * 2 > p->ucap) {
    doppel_status st = dp_users_rehash(p, (p->n_users + 1) * 4);
    if (st != DOPPEL_OK) return st;
  }
  if (p->n_users == p->cap_users) {
    size_t nc = p->cap_users ? p->cap_users * 2 : 1024;
    dp_user *nu = realloc(p->users, nc * sizeof *nu);
    if (!nu) return DOPPEL_E_NOMEM;
    p->users = nu;
    p->cap_users = nc;
  }
  p->users[p->n_users] = *u;
  p->n_users++;
  if (u->in_const) p->n_const++;
  return dp_users_rehash(p, p->ucap);
}

typedef struct slotpair {
  uint32_t gpath;
  int ha, hb;
  dp_cslot a, b;
} slotpair;

/* join two per-session flag sets (first value, seen once, seen twice, changed) */
static void join_flags(int a1, int a2, int ach, uint32_t av, int b1, int b2, int bch, uint32_t bv, int *j1, int *j2,
                       int *jch, uint32_t *jv) {
  *j1 = a1 || b1;
  *j2 = a2 || b2 || (a1 && b1);
  *jch = ach || bch || (a1 && b1 && av != bv);
  *jv = a1 ? av : bv;
}

static doppel_status stitch(doppel_profiler *p, dp_user *d, dp_user *s) {
  /* A = earlier, B = later */
  int d_first = d->first_us < s->first_us || (d->first_us == s->first_us && d->last_us <= s->last_us);
  dp_user A = d_first ? *d : *s, B = d_first ? *s : *d;
  dp_user C = A;
  C.events = A.events + B.events;
  C.last_us = A.last_us > B.last_us ? A.last_us : B.last_us;
  C.first_day = A.first_day < B.first_day ? A.first_day : B.first_day;
  C.last_day = A.last_day > B.last_day ? A.last_day : B.last_day;
  uint64_t bb[DP_DAYBITS_WORDS], ab[DP_DAYBITS_WORDS];
  memcpy(ab, A.daybits, sizeof ab);
  memcpy(bb, B.daybits, sizeof bb);
  if (A.first_day > C.first_day) dp_daybits_shift(ab, (uint32_t)(A.first_day - C.first_day));
  if (B.first_day > C.first_day) dp_daybits_shift(bb, (uint32_t)(B.first_day - C.first_day));
  for (int i = 0; i < DP_DAYBITS_WORDS; i++) C.daybits[i] = ab[i] | bb[i];
  if (C.last_day - C.first_day < DP_DAYBITS_WORDS * 64) {
    uint32_t pc = 0;
    for (int i = 0; i < DP_DAYBITS_WORDS; i++) pc += (uint32_t)__builtin_popcountll(C.daybits[i]);
    C.active_days = pc;
  } else {
    C.active_days = A.active_days + B.active_days - (A.last_day == B.first_day ? 1u : 0u);
  }
  C.late = A.late + B.late;
  C.fast_gaps = A.fast_gaps + B.fast_gaps;
  C.max_sess_events = A.max_sess_events > B.max_sess_events ? A.max_sess_events : B.max_sess_events;
  C.max_sess_dur = A.max_sess_dur > B.max_sess_dur ? A.max_sess_dur : B.max_sess_dur;
  C.max_gap = A.max_gap > B.max_gap ? A.max_gap : B.max_gap;
  C.min_gap = A.min_gap < 0 ? B.min_gap : (B.min_gap < 0 || A.min_gap < B.min_gap) ? A.min_gap : B.min_gap;
  for (int i = 0; i < DP_LENBINS; i++) {
    uint32_t v = (uint32_t)A.lenbins[i] + B.lenbins[i];
    C.lenbins[i] = (uint16_t)(v > UINT16_MAX ? UINT16_MAX : v);
  }
  /* constancy slots: union by global path */
  slotpair sp[128];
  size_t n = 0;
  int use_cs = A.in_const && B.in_const;
  if (use_cs) {
    for (uint16_t i = 0; i < A.n_cs && n < 128; i++) {
      sp[n].gpath = A.cs[i].gpath;
      sp[n].ha = 1, sp[n].hb = 0;
      sp[n].a = A.cs[i];
      n++;
    }
    for (uint16_t i = 0; i < B.n_cs; i++) {
      size_t j;
      for (j = 0; j < n; j++)
        if (sp[j].gpath == B.cs[i].gpath) break;
      if (j == n) {
        if (n == 128) continue;
        sp[n].gpath = B.cs[i].gpath;
        sp[n].ha = 0;
        n++;
      }
      sp[j].hb = 1;
      sp[j].b = B.cs[i];
    }
  }
  if (n > 64) n = 64;
  dp_cslot *cs = n ? malloc(n * sizeof *cs) : NULL;
  if (n && !cs) return DOPPEL_E_NOMEM;
  for (size_t i = 0; i < n; i++) {
    cs[i].gpath = sp[i].gpath;
    const dp_cslot *a = sp[i].ha ? &sp[i].a : NULL, *b = sp[i].hb ? &sp[i].b : NULL;
    int u2 = (a && (a->flags & DP_CS_U2)) || (b && (b->flags & DP_CS_U2)) || (a && b);
    int uch = (a && (a->flags & DP_CS_UCH)) || (b && (b->flags & DP_CS_UCH)) || (a && b && a->uval != b->uval);
    cs[i].uval = a ? a->uval : b->uval;
    cs[i].flags = (uint8_t)((u2 ? DP_CS_U2 : 0) | (uch ? DP_CS_UCH : 0));
    cs[i].sval = cs[i].hval = 0;
  }
  C.cs = cs;
  C.n_cs = C.cap_cs = (uint16_t)n;
  C.in_const = (uint8_t)use_cs;
  /* session flag accessors */
#define AF(i, f) (sp[i].ha && (sp[i].a.flags & (f)))
#define BF(i, f) (sp[i].hb && (sp[i].b.flags & (f)))
  doppel_status st = DOPPEL_OK;
  int overlap = A.last_us > B.first_us;
  int64_t gap = B.first_us - A.last_us;
  const dp_sess *Bfirst = B.sessions >= 2 ? &B.head : &B.tail;
  int bH = B.sessions >= 2; /* Bfirst flags are B's H flags, else its S flags */
  if (!overlap && gap <= p->gap_us) {
    dp_sess J = A.tail;
    J.end = Bfirst->end;
    J.events = A.tail.events + Bfirst->events;
    /* the first three events of J: A.tail's, then Bfirst's */
    {
      uint32_t f[6], m = 0;
      for (int i = 0; i < 3; i++)
        if (A.tail.first[i] != DP_EV_NONE) f[m++] = A.tail.first[i];
      for (int i = 0; i < 3; i++)
        if (Bfirst->first[i] != DP_EV_NONE) f[m++] = Bfirst->first[i];
      for (int i = 0; i < 3; i++) J.first[i] = (uint32_t)i < m ? f[i] : DP_EV_NONE;
    }
    J.last = Bfirst->last;
    /* the boundary transition and gap */
    dp_seq *q;
    if ((st = dp_seq_get(p, C.level, &q)) != DOPPEL_OK) goto out;
    uint32_t from = A.tail.last, to = Bfirst->first[0];
    if (from != DP_EV_OTHER) {
      if ((st = dp_seq_ensure_ev(q, from)) != DOPPEL_OK) goto out;
      q->trans_from[from]++;
      if (to != DP_EV_OTHER &&
          (st = dp_kc_add(&q->trans, (uint64_t)from << 32 | to, NULL, 0, 0, C.hash, 1)) != DOPPEL_OK)
        goto out;
    }
    double g = (double)gap / 1e6;
    if ((st = doppel_ddsketch_add(q->gaps, g)) != DOPPEL_OK) goto out;
    if (g > C.max_gap) C.max_gap = g;
    if (C.min_gap < 0 || g < C.min_gap) C.min_gap = g;
    if (gap < 1000000) C.fast_gaps++;
    C.sessions = A.sessions + B.sessions - 1;
    /* J's constancy flags: A's tail (S) joined with Bfirst (H or S) */
    for (size_t i = 0; i < n; i++) {
      int j1, j2, jch;
      uint32_t jv;
      join_flags(AF(i, DP_CS_S1) != 0, AF(i, DP_CS_S2) != 0, AF(i, DP_CS_SCH) != 0, sp[i].a.sval,
                 BF(i, bH ? DP_CS_H1 : DP_CS_S1) != 0, BF(i, bH ? DP_CS_H2 : DP_CS_S2) != 0,
                 BF(i, bH ? DP_CS_HCH : DP_CS_SCH) != 0, bH ? sp[i].b.hval : sp[i].b.sval, &j1, &j2, &jch, &jv);
      cs[i].flags |= (uint8_t)((j1 ? DP_CS_S1 : 0) | (j2 ? DP_CS_S2 : 0) | (jch ? DP_CS_SCH : 0));
      cs[i].sval = jv;
    }
    if (A.sessions == 1 && B.sessions == 1) {
      C.tail = J;
    } else if (A.sessions == 1) {
      C.head = J;
      dp_cs_tail_to_head(&C); /* J's flags become the head's */
      C.tail = B.tail;
      for (size_t i = 0; i < n; i++) {
        if (BF(i, DP_CS_S1)) cs[i].flags |= DP_CS_S1, cs[i].sval = sp[i].b.sval;
        if (BF(i, DP_CS_S2)) cs[i].flags |= DP_CS_S2;
        if (BF(i, DP_CS_SCH)) cs[i].flags |= DP_CS_SCH;
      }
    } else {
      C.head = A.head;
      for (size_t i = 0; i < n; i++) {
        if (AF(i, DP_CS_H1)) cs[i].flags |= DP_CS_H1, cs[i].hval = sp[i].a.hval;
        if (AF(i, DP_CS_H2)) cs[i].flags |= DP_CS_H2;
        if (AF(i, DP_CS_HCH)) cs[i].flags |= DP_CS_HCH;
      }
      if (B.sessions == 1) {
        C.tail = J;
      } else {
        if ((st = dp_sess_finalize(p, &C, &J, 'S')) != DOPPEL_OK) goto out;
        C.tail = B.tail;
        for (size_t i = 0; i < n; i++) {
          if (BF(i, DP_CS_S1)) cs[i].flags |= DP_CS_S1, cs[i].sval = sp[i].b.sval;
          if (BF(i, DP_CS_S2)) cs[i].flags |= DP_CS_S2;
          if (BF(i, DP_CS_SCH)) cs[i].flags |= DP_CS_SCH;
        }
      }
    }
  } else {
    if (overlap) C.late += 1;
    C.sessions = A.sessions + B.sessions;
    /* head: A's first session */
    C.head = A.sessions >= 2 ? A.head : A.tail;
    int aH = A.sessions >= 2;
    for (size_t i = 0; i < n; i++) {
      uint8_t f1 = aH ? DP_CS_H1 : DP_CS_S1, f2 = aH ? DP_CS_H2 : DP_CS_S2, fch = aH ? DP_CS_HCH : DP_CS_SCH;
      if (AF(i, f1)) cs[i].flags |= DP_CS_H1, cs[i].hval = aH ? sp[i].a.hval : sp[i].a.sval;
      if (AF(i, f2)) cs[i].flags |= DP_CS_H2;
      if (AF(i, fch)) cs[i].flags |= DP_CS_HCH;
    }
    /* interior sessions: A's tail (when A had two or more) and B's head (likewise) */
    if (A.sessions >= 2) {
      for (size_t i = 0; i < n; i++) {
        if (AF(i, DP_CS_S1)) cs[i].flags |= DP_CS_S1;
        if (AF(i, DP_CS_S2)) cs[i].flags |= DP_CS_S2;
        if (AF(i, DP_CS_SCH)) cs[i].flags |= DP_CS_SCH;
      }
      if ((st = dp_sess_finalize(p, &C, &A.tail, 'S')) != DOPPEL_OK) goto out;
    }
    if (B.sessions >= 2) {
      for (size_t i = 0; i < n; i++) {
        if (BF(i, DP_CS_H1)) cs[i].flags |= DP_CS_S1;
        if (BF(i, DP_CS_H2)) cs[i].flags |= DP_CS_S2;
        if (BF(i, DP_CS_HCH)) cs[i].flags |= DP_CS_SCH;
      }
      if ((st = dp_sess_finalize(p, &C, &B.head, 'S')) != DOPPEL_OK) goto out;
    }
    C.tail = B.tail;
    for (size_t i = 0; i < n; i++) {
      if (BF(i, DP_CS_S1)) cs[i].flags |= DP_CS_S1, cs[i].sval = sp[i].b.sval;
      if (BF(i, DP_CS_S2)) cs[i].flags |= DP_CS_S2;
      if (BF(i, DP_CS_SCH)) cs[i].flags |= DP_CS_SCH;
    }
  }
#undef AF
#undef BF
out:
  if (st != DOPPEL_OK) {
    free(cs);
    return st;
  }
  /* finalize may have changed the per-user maxima through &C */
  free(d->cs);
  free(s->cs);
  s->cs = NULL;
  *d = C;
  return DOPPEL_OK;
}

doppel_status doppel_profiler_merge(doppel_profiler *dst, const doppel_profiler *src, doppel_diag *diag) {
  if (dst == src) return dp_diag_set(diag, DOPPEL_E_USAGE, NULL, 0, 0, "cannot merge a state into itself");
  if (dst->finished || src->finished)
    return dp_diag_set(diag, DOPPEL_E_USAGE, NULL, 0, 0, "cannot merge a finalized profile");
  if (dst->k != src->k || dst->gap_us != src->gap_us || dst->max_users != src->max_users)
    return dp_diag_set(diag, DOPPEL_E_USAGE, NULL, 0, 0,
                       "states were made with different parameters (k %u/%u, session gap %llds/%llds, max users %llu/%llu)",
                       dst->k, src->k, (long long)(dst->gap_us / 1000000), (long long)(src->gap_us / 1000000),
                       (unsigned long long)dst->max_users, (unsigned long long)src->max_users);
  if (dst->dialect != src->dialect)
    return dp_diag_set(diag, DOPPEL_E_USAGE, NULL, 0, 0, "states were made with different dialects (%s and %s)",
                       doppel_dialect_name(dst->dialect), doppel_dialect_name(src->dialect));
  if (strcmp(dst->key_id, src->key_id) != 0)
    return dp_diag_set(diag, DOPPEL_E_USAGE, NULL, 0, 0,
                       "states were made with different keys (key ids '%s' and '%s'): user hashes do not match",
                       dst->key_id[0] ? dst->key_id : "none", src->key_id[0] ? src->key_id : "none");
  doppel_status st = DOPPEL_OK;
  uint32_t *evm = malloc((src->n_ev + 1) * sizeof *evm), *gpm = malloc((src->n_gp + 1) * sizeof *gpm);
  if (!evm || !gpm) {
    st = DOPPEL_E_NOMEM;
    goto done;
  }
  maps m = {evm, src->n_ev, gpm, src->n_gp};
  /* source */
  for (size_t i = 0; i < src->n_files; i++) {
    if ((st = doppel_profiler_begin_file(dst, src->files[i].name, diag)) != DOPPEL_OK) goto done;
    dst->files[dst->n_files - 1].records = src->files[i].records;
    dst->files[dst->n_files - 1].bytes = src->files[i].bytes;
  }
  dst->records += src->records, dst->bytes += src->bytes, dst->events += src->events;
  dst->malformed += src->malformed, dst->no_user += src->no_user, dst->no_event += src->no_event;
  dst->no_time += src->no_time, dst->device_events += src->device_events;
  errk_merge(dst, src);
  for (int i = 0; i < 5; i++) dst->time_units[i] += src->time_units[i];
  dst->future += src->future, dst->ancient += src->ancient;
  dst->time_frac |= src->time_frac;
  if (src->min_us < dst->min_us) dst->min_us = src->min_us;
  if (src->max_us > dst->max_us) dst->max_us = src->max_us;
  if (src->now_us > dst->now_us) dst->now_us = src->now_us;
  if (strcmp(src->evidence, dst->evidence) < 0) snprintf(dst->evidence, sizeof dst->evidence, "%s", src->evidence);
  if (dst->format != src->format) dst->format = DOPPEL_FORMAT_JSONL;
  if ((st = doppel_hll_merge(dst->users_hll, src->users_hll, diag)) != DOPPEL_OK ||
      (st = doppel_hll_merge(dst->devices_hll, src->devices_hll, diag)) != DOPPEL_OK)
    goto done;
  /* events */
  for (size_t i = 0; i < src->n_ev; i++) {
    const dp_event *se = &src->ev[i];
    if ((st = dp_event_index(dst, se->name, se->len, &evm[i])) != DOPPEL_OK) goto done;
    if (evm[i] == DP_EV_OTHER) {
      dst->overflow_events += se->count;
      continue;
    }
    dp_event *de = &dst->ev[evm[i]];
    de->count += se->count;
    if ((st = doppel_hll_merge(de->users, se->users, diag)) != DOPPEL_OK) goto done;
    kset_union(de->kset, &de->n_kset, dst->k, se->kset, se->n_kset);
  }
  dst->overflow_events += src->overflow_events;
  for (int i = 0; i < 168; i++) dst->hour_of_week[i] += src->hour_of_week[i];
  for (uint32_t di = 0; di < src->n_days; di++)
    if (src->days[di] && (st = dp_day_add(dst, src->day0 + (int32_t)di, src->days[di])) != DOPPEL_OK) goto done;
  dst->days_out += src->days_out;
  /* global paths */
  for (size_t i = 0; i < src->n_gp; i++) {
    const dp_gpath *sg = &src->gp[i];
    if ((st = dp_gpath_index(dst, sg->path, sg->len, &gpm[i])) != DOPPEL_OK) goto done;
    if (gpm[i] == UINT32_MAX) {
      dst->gp_overflow += sg->values;
      continue;
    }
    dp_gpath *dg = &dst->gp[gpm[i]];
    dg->values += sg->values;
    dg->strings += sg->strings;
    for (int k = 0; k < DP_NMATCH; k++) dg->match[k] += sg->match[k], dg->embedded[k] += sg->embedded[k];
    kset_union(dg->kset, &dg->n_kset, dst->k, sg->kset, sg->n_kset);
  }
  dst->gp_overflow += src->gp_overflow;
  /* properties */
  for (size_t i = 0; i < src->n_props; i++) {
    const dp_prop *sp = &src->props[i];
    uint32_t e = sp->event == DP_PROP_USER ? DP_PROP_USER : map_ev(&m, sp->event);
    uint32_t g = map_gp(&m, sp->gpath), pi;
    if (e == DP_EV_OTHER || g == UINT32_MAX) {
      dst->prop_overflow += sp->count;
      continue;
    }
    if ((st = dp_prop_index(dst, e, g, &pi)) != DOPPEL_OK) goto done;
    if (pi == UINT32_MAX) {
      dst->prop_overflow += sp->count;
      continue;
    }
    dp_prop *dp = &dst->props[pi];
    dp->count += sp->count;
    dp->nulls += sp->nulls;
    dp->scalars += sp->scalars;
    for (int t = 0; t < DP_T_COUNT; t++) dp->types[t] += sp->types[t], dp->item_types[t] += sp->item_types[t];
    dp->ts_count += sp->ts_count;
    if ((st = sk_merge(&dp->ts_off, sp->ts_off)) != DOPPEL_OK) goto done;
    if ((st = sk_merge(&dp->num, sp->num)) != DOPPEL_OK || (st = sk_merge(&dp->slen, sp->slen)) != DOPPEL_OK ||
        (st = sk_merge(&dp->alen, sp->alen)) != DOPPEL_OK)
      goto done;
    dp_ext_merge(&dp->num_hi, &sp->num_hi);
    dp_ext_merge(&dp->num_lo, &sp->num_lo);
    dp_ext_merge(&dp->slen_hi, &sp->slen_hi);
    dp_ext_merge(&dp->alen_hi, &sp->alen_hi);
    if (sp->values_off || dp->values_off) {
      dp->values_off = 1;
      dp_kc_release(&dp->values);
    } else if ((st = dp_kc_merge(&dp->values, &sp->values)) != DOPPEL_OK) {
      goto done;
    }
    if ((st = dp_kc_merge(&dp->patterns, &sp->patterns)) != DOPPEL_OK) goto done;
    if ((st = doppel_hll_merge(dp->distinct, sp->distinct, diag)) != DOPPEL_OK ||
        (st = doppel_hll_merge(dp->pat_distinct, sp->pat_distinct, diag)) != DOPPEL_OK)
      goto done;
    kset_union(dp->kset, &dp->n_kset, dst->k, sp->kset, sp->n_kset);
  }
  dst->prop_overflow += src->prop_overflow;
  for (int x = 0; x < 4; x++) {
    struct dp_idstat *a = &dst->ids[x];
    const struct dp_idstat *b = &src->ids[x];
    a->present += b->present;
    for (int k = 0; k < 8; k++) a->kinds[k] += b->kinds[k];
    if ((st = doppel_ddsketch_merge(a->len, b->len, diag)) != DOPPEL_OK) goto done;
    dp_ext_merge(&a->len_hi, &b->len_hi);
    dp_ext_merge(&a->len_lo, &b->len_lo);
    if ((st = dp_kc_merge(&a->patterns, &b->patterns)) != DOPPEL_OK) goto done;
    if ((st = doppel_hll_merge(a->distinct, b->distinct, diag)) != DOPPEL_OK ||
        (st = doppel_hll_merge(a->pat_distinct, b->pat_distinct, diag)) != DOPPEL_OK)
      goto done;
  }
  /* insert ids: the union, counting repeats across states */
  if (src->ins_drop > dst->ins_drop) {
    /* dropping levels: re-add the kept pairs of dst */
    uint64_t *ks = malloc((dst->ins_n + 1) * 2 * sizeof *ks);
    if (!ks) {
      st = DOPPEL_E_NOMEM;
      goto done;
    }
    size_t n = 0;
    for (size_t i = 0; i < dst->ins_cap; i++)
      if (dst->ins_key[i] && dp_level_of(dst->ins_key[i]) >= src->ins_drop)
        ks[2 * n] = dst->ins_key[i], ks[2 * n + 1] = dst->ins_val[i], n++;
    if (dst->ins_cap) {
      memset(dst->ins_key, 0, dst->ins_cap * sizeof *dst->ins_key);
    }
    dst->ins_n = 0;
    for (uint32_t l = dst->ins_drop; l < src->ins_drop; l++) dst->ins_dup_same[l] = dst->ins_dup_diff[l] = 0;
    dst->ins_drop = src->ins_drop;
    for (size_t i = 0; i < n; i++)
      if ((st = dp_insert_add(dst, ks[2 * i], ks[2 * i + 1])) != DOPPEL_OK) break;
    free(ks);
    if (st != DOPPEL_OK) goto done;
  }
  for (uint32_t l = dst->ins_drop; l < DP_LEVELS; l++) {
    dst->ins_dup_same[l] += src->ins_dup_same[l];
    dst->ins_dup_diff[l] += src->ins_dup_diff[l];
  }
  for (size_t i = 0; i < src->ins_cap; i++)
    if (src->ins_key[i] && (st = dp_insert_add(dst, src->ins_key[i], src->ins_val[i])) != DOPPEL_OK) goto done;
  /* sample levels */
  if (src->drop_level > dst->drop_level) {
    dst->drop_level = src->drop_level;
    dp_users_drop_levels(dst);
  }
  for (uint32_t l = dst->drop_level; l < DP_LEVELS; l++) {
    if (!src->seq[l]) continue;
    dp_seq *q;
    if ((st = dp_seq_get(dst, l, &q)) != DOPPEL_OK || (st = seq_merge_map(q, src->seq[l], &m)) != DOPPEL_OK)
      goto done;
  }
  if (src->const_drop > dst->const_drop) {
    dst->const_drop = src->const_drop;
    for (size_t i = 0; i < dst->n_users; i++) {
      dp_user *u = &dst->users[i];
      if (u->in_const && u->level < dst->const_drop) {
        u->in_const = 0;
        free(u->cs);
        u->cs = NULL;
        u->n_cs = u->cap_cs = 0;
        dst->n_const--;
      }
    }
  }
  /* users */
  for (size_t i = 0; i < src->n_users; i++) {
    const dp_user *su = &src->users[i];
    if (su->level < dst->drop_level) continue;
    dp_user c = *su;
    c.cs = NULL;
    c.n_cs = c.cap_cs = 0;
    for (int s = 0; s < 3; s++) {
      c.head.first[s] = map_ev(&m, c.head.first[s]);
      c.tail.first[s] = map_ev(&m, c.tail.first[s]);
    }
    c.head.last = map_ev(&m, c.head.last);
    c.tail.last = map_ev(&m, c.tail.last);
    if (c.level < dst->const_drop) c.in_const = 0;
    if (c.in_const && su->n_cs) {
      c.cs = malloc(su->n_cs * sizeof *c.cs);
      if (!c.cs) {
        st = DOPPEL_E_NOMEM;
        goto done;
      }
      for (uint16_t j = 0; j < su->n_cs; j++) {
        uint32_t g = map_gp(&m, su->cs[j].gpath);
        if (g == UINT32_MAX) continue;
        c.cs[c.n_cs] = su->cs[j];
        c.cs[c.n_cs++].gpath = g;
      }
      c.cap_cs = c.n_cs;
    }
    dp_user *du = dp_user_find(dst, c.hash);
    if (!du) {
      if ((st = user_insert(dst, &c)) != DOPPEL_OK) {
        free(c.cs);
        goto done;
      }
    } else {
      int was_const = du->in_const;
      if ((st = stitch(dst, du, &c)) != DOPPEL_OK) {
        free(c.cs);
        goto done;
      }
      if (was_const && !du->in_const) dst->n_const--;
    }
  }
  while (dst->n_users > dst->max_users && dst->drop_level < DP_LEVELS - 1) {
    dst->drop_level++;
    dp_users_drop_levels(dst);
  }
  dp_const_shrink(dst);
done:
  free(evm);
  free(gpm);
  if (st != DOPPEL_OK && diag && diag->status == DOPPEL_OK) dp_diag_set(diag, st, NULL, 0, 0, NULL);
  return st;
}
