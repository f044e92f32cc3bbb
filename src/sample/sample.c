/*
 * sample.c — the `doppel sample` job (see doppel/sample.h): read the inputs
 * through the shared dp_source driver, take each record's canonical view
 * (user or device id, event name, time), apply the filters, decide by user
 * hash (rate or n smallest) or by reservoir, and write the kept records
 * (pseudonymized unless raw) through a dp_emitter, atomically.
 *
 * Users are identified by u = first 8 bytes (big-endian) of the keyed
 * digest of the canonical id; a hash set of u values gives the exact
 * "users seen/kept" counts (O(distinct users) memory).
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <doppel/csv.h>
#include <doppel/json.h>
#include <doppel/rng.h>
#include <doppel/sample.h>
#include <doppel/time.h>

#include "core/buf.h"
#include "core/diag.h"
#include "event/source.h"
#include "io/tempreg.h"
#include "io/unnamed.h"
#include "pseudo/engine_int.h"

_Static_assert(DP_SOURCE_MAX_BAD == DOPPEL_SAMPLE_MAX_BAD_LINES, "bad-line tables differ");

/* ---- per-record helpers (public) ---- */

uint64_t doppel_sample_user_hash(doppel_keyed *k, const void *id, size_t len) {
  uint8_t d[32];
  if (doppel_keyed_digest(k, id, len, d) != DOPPEL_OK) return UINT64_MAX;
  uint64_t u = 0;
  for (int i = 0; i < 8; i++) u = (u << 8) | d[i];
  return u;
}

int doppel_sample_rate_keeps(uint64_t u, double rate) {
  if (!(rate > 0.0)) return 0; /* also NaN */
  if (rate >= 1.0) return 1;
  /* rate < 1: rate * 2^64 is exact (power-of-two scaling) and below 2^64 */
  uint64_t threshold = (uint64_t)ldexp(rate, 64);
  return u < threshold;
}

/* ---- a set of 64-bit hashes (open addressing; 0 tracked apart) ---- */

typedef struct u64set {
  uint64_t *slots;
  size_t cap, n;
  int has_zero;
} u64set;

static void set_release(u64set *s) {
  free(s->slots);
  memset(s, 0, sizeof *s);
}

/* 1 = added, 0 = present, -1 = out of memory */
static int set_add(u64set *s, uint64_t v) {
  if (v == 0) {
    if (s->has_zero) return 0;
    s->has_zero = 1;
    return 1;
  }
  if ((s->n + 1) * 4 > s->cap * 3) {
    size_t nc = s->cap ? s->cap * 2 : 1024;
    uint64_t *ns = calloc(nc, sizeof *ns);
    if (!ns) return -1;
    for (size_t i = 0; i < s->cap; i++) {
      uint64_t x = s->slots[i];
      if (!x) continue;
      size_t p = (size_t)(x & (nc - 1));
      while (ns[p]) p = (p + 1) & (nc - 1);
      ns[p] = x;
    }
    free(s->slots);
    s->slots = ns;
    s->cap = nc;
  }
  size_t p = (size_t)(v & (s->cap - 1));
  while (s->slots[p]) {
    if (s->slots[p] == v) return 0;
    p = (p + 1) & (s->cap - 1);
  }
  s->slots[p] = v;
  s->n++;
  return 1;
}

static uint64_t set_count(const u64set *s) { return s->n + (uint64_t)s->has_zero; }

/* ---- held records (reservoir) ---- */

typedef struct held {
  uint64_t index;   /* global record index (input order) */
  char *data;
  size_t len;
  uint64_t line;
  size_t input;
  uint64_t u;
  uint8_t has_u, crlf, eol;
} held;

typedef struct stratum {
  held *items;
  uint64_t n_held, cap_items, seen;
} stratum;

typedef struct strata_slot {
  char *name;
  size_t len;
  uint64_t h;
  size_t idx;
} strata_slot;

typedef struct sampler {
  const doppel_sample_options *opt;
  doppel_sample_summary *sum;
  const char *const *names;    /* display names of the inputs */
  int pass;                    /* USERS_N: 1 = collect hashes, 2 = write */
  dp_emitter em;
  doppel_pseudonymizer *ps;
  doppel_keyed *keyed;
  doppel_json_doc doc;
  const doppel_field_map *map;
  doppel_csv_columns cols;
  size_t n_header_cols; /* CSV: fields in the header (0 = no header seen) */
  doppel_csv_field *fields;
  size_t fields_cap;
  dp_buf scratch;              /* unescaped/unquoted id, event name, time */
  u64set seen, kept;
  /* USERS_N */
  uint64_t *heap;
  size_t heap_n, heap_cap;
  int have_threshold;
  uint64_t threshold;
  /* EVENTS_N */
  doppel_pcg64 rng;
  stratum *strata;
  size_t n_strata, strata_cap;
  strata_slot *smap;
  size_t smap_cap;
  uint64_t index;
} sampler;

static void free_held(held *h) {
  free(h->data);
  h->data = NULL;
}

/* ---- max-heap of the n smallest hashes ---- */

static void heap_offer(sampler *s, uint64_t u) {
  uint64_t *h = s->heap;
  if (s->heap_n < s->opt->n) {
    if (s->heap_n == s->heap_cap) {
      size_t nc = s->heap_cap ? s->heap_cap * 2 : 1024;
      if (nc > s->opt->n) nc = (size_t)s->opt->n;
      uint64_t *nh = realloc(s->heap, nc * sizeof *nh);
      if (!nh) return; /* reported by the caller via heap_n check */
      s->heap = h = nh;
      s->heap_cap = nc;
    }
    size_t i = s->heap_n++;
    h[i] = u;
    while (i && h[(i - 1) / 2] < h[i]) {
      uint64_t t = h[i]; h[i] = h[(i - 1) / 2]; h[(i - 1) / 2] = t;
      i = (i - 1) / 2;
    }
    return;
  }
  if (u >= h[0]) return;
  h[0] = u;
  size_t i = 0;
  for (;;) {
    size_t l = 2 * i + 1, r = l + 1, m = i;
    if (l < s->heap_n && h[l] > h[m]) m = l;
    if (r < s->heap_n && h[r] > h[m]) m = r;
    if (m == i) break;
    uint64_t t = h[i]; h[i] = h[m]; h[m] = t;
    i = m;
  }
}

/* ---- strata ---- */

static uint64_t fnv1a(const char *p, size_t n) {
  uint64_t h = 1469598103934665603ULL;
  for (size_t i = 0; i < n; i++) h = (h ^ (uint8_t)p[i]) * 1099511628211ULL;
  return h;
}

static doppel_status stratum_of(sampler *s, const char *name, size_t len, stratum **out,
                                doppel_diag *diag) {
  if (!s->opt->stratify_event) {
    if (!s->strata) {
      s->strata = calloc(1, sizeof *s->strata);
      if (!s->strata) return dp_diag_set(diag, DOPPEL_E_NOMEM, NULL, 0, 0, NULL);
      s->n_strata = 1;
    }
    *out = &s->strata[0];
    return DOPPEL_OK;
  }
  if ((s->n_strata + 1) * 2 > s->smap_cap) {
    size_t nc = s->smap_cap ? s->smap_cap * 2 : 256;
    strata_slot *nm = calloc(nc, sizeof *nm);
    if (!nm) return dp_diag_set(diag, DOPPEL_E_NOMEM, NULL, 0, 0, NULL);
    for (size_t i = 0; i < s->smap_cap; i++) {
      if (!s->smap[i].name) continue;
      size_t p = (size_t)(s->smap[i].h & (nc - 1));
      while (nm[p].name) p = (p + 1) & (nc - 1);
      nm[p] = s->smap[i];
    }
    free(s->smap);
    s->smap = nm;
    s->smap_cap = nc;
  }
  uint64_t h = fnv1a(name, len);
  size_t p = (size_t)(h & (s->smap_cap - 1));
  while (s->smap[p].name) {
    if (s->smap[p].h == h && s->smap[p].len == len && memcmp(s->smap[p].name, name, len) == 0) {
      *out = &s->strata[s->smap[p].idx];
      return DOPPEL_OK;
    }
    p = (p + 1) & (s->smap_cap - 1);
  }
  if (s->n_strata >= DOPPEL_SAMPLE_MAX_STRATA)
    return dp_diag_set(diag, DOPPEL_E_LIMIT, NULL, 0, 0,
                       "too many event names for --stratify event: more than %d strata",
                       DOPPEL_SAMPLE_MAX_STRATA);
  if (s->n_strata == s->strata_cap) {
    size_t nc = s->strata_cap ? s->strata_cap * 2 : 64;
    stratum *ns = realloc(s->strata, nc * sizeof *ns);
    if (!ns) return dp_diag_set(diag, DOPPEL_E_NOMEM, NULL, 0, 0, NULL);
    s->strata = ns;
    s->strata_cap = nc;
  }
  char *copy = malloc(len + 1);
  if (!copy) return dp_diag_set(diag, DOPPEL_E_NOMEM, NULL, 0, 0, NULL);
  memcpy(copy, name, len);
  copy[len] = '\0';
  s->smap[p] = (strata_slot){copy, len, h, s->n_strata};
  memset(&s->strata[s->n_strata], 0, sizeof s->strata[0]);
  *out = &s->strata[s->n_strata++];
  return DOPPEL_OK;
}

/* Algorithm R within one stratum. */
static doppel_status reservoir_add(sampler *s, stratum *st, const dp_source_record *rec,
                                   int has_u, uint64_t u, doppel_diag *diag) {
  uint64_t cap = s->opt->stratify_event ? s->opt->per_stratum : s->opt->n;
  uint64_t index = s->index++;
  st->seen++;
  held *slot;
  if (st->n_held < cap) {
    if (st->n_held == st->cap_items) {
      uint64_t nc = st->cap_items ? st->cap_items * 2 : 16;
      if (nc > cap) nc = cap;
      held *ni = realloc(st->items, (size_t)nc * sizeof *ni);
      if (!ni) return dp_diag_set(diag, DOPPEL_E_NOMEM, NULL, 0, 0, NULL);
      st->items = ni;
      st->cap_items = nc;
    }
    slot = &st->items[st->n_held++];
  } else {
    uint64_t j = doppel_pcg64_bounded(&s->rng, st->seen);
    if (j >= cap) return DOPPEL_OK;
    slot = &st->items[j];
    free_held(slot);
  }
  slot->data = malloc(rec->len ? rec->len : 1);
  if (!slot->data) return dp_diag_set(diag, DOPPEL_E_NOMEM, NULL, 0, 0, NULL);
  memcpy(slot->data, rec->data, rec->len);
  slot->len = rec->len;
  slot->index = index;
  slot->line = rec->line;
  slot->input = rec->input;
  slot->u = u;
  slot->has_u = (uint8_t)has_u;
  slot->crlf = rec->crlf;
  slot->eol = rec->eol;
  return DOPPEL_OK;
}

/* ---- the canonical view of one record ---- */

typedef struct view {
  const char *id; size_t id_len; int has_id;
  const char *event; size_t event_len; int has_event;
  int64_t time_us; int has_time;
} view;

/* Append s[0..n) to scratch, unescaping JSON when escaped; returns the offset. */
static doppel_status put_span(dp_buf *b, const char *p, size_t n, int escaped, size_t *off) {
  doppel_status st = dp_buf_reserve(b, n);
  if (st != DOPPEL_OK) return st;
  *off = b->len;
  if (escaped) b->len += doppel_json_unescape(p, n, b->data + b->len);
  else {
    memcpy(b->data + b->len, p, n);
    b->len += n;
  }
  return DOPPEL_OK;
}

static doppel_status view_json(sampler *s, const dp_source_record *rec, view *v, doppel_diag *rd) {
  doppel_status st = doppel_json_parse(&s->doc, rec->data, rec->len, rd);
  if (st != DOPPEL_OK) return st;
  doppel_event ev;
  st = doppel_event_from_json(&s->doc, s->map, &ev, rd);
  if (st == DOPPEL_E_TIME && !s->opt->has_from && !s->opt->has_to) st = DOPPEL_OK, ev.has_time = 0;
  if (st != DOPPEL_OK) return st;
  dp_buf_reset(&s->scratch);
  const doppel_span *id = ev.user_id.ptr && ev.user_id.len ? &ev.user_id
                          : ev.device_id.ptr && ev.device_id.len ? &ev.device_id : NULL;
  size_t id_off = 0, ev_off = 0;
  if (id && (st = put_span(&s->scratch, id->ptr, id->len, id->escaped, &id_off)) != DOPPEL_OK) return st;
  size_t id_end = s->scratch.len;
  if (ev.event.ptr &&
      (st = put_span(&s->scratch, ev.event.ptr, ev.event.len, ev.event.escaped, &ev_off)) != DOPPEL_OK)
    return st;
  v->has_id = id != NULL;
  v->id = s->scratch.data + id_off;
  v->id_len = id_end - id_off;
  v->has_event = ev.event.ptr != NULL;
  v->event = s->scratch.data + ev_off;
  v->event_len = s->scratch.len - ev_off;
  v->has_time = ev.has_time;
  v->time_us = ev.time_us;
  return DOPPEL_OK;
}

static doppel_status view_csv(sampler *s, const dp_source_record *rec, view *v, doppel_diag *rd) {
  size_t n;
  doppel_status st = doppel_csv_split(rec->data, rec->len, ',', s->fields, s->fields_cap, &n, rd);
  if (st != DOPPEL_OK) return st;
  if (n > s->fields_cap) {
    doppel_csv_field *nf = realloc(s->fields, n * sizeof *nf);
    if (!nf) return dp_diag_set(rd, DOPPEL_E_NOMEM, NULL, 0, 0, NULL);
    s->fields = nf;
    s->fields_cap = n;
    if ((st = doppel_csv_split(rec->data, rec->len, ',', s->fields, s->fields_cap, &n, rd)) != DOPPEL_OK)
      return st;
  }
  /* A row with the wrong field count is malformed here, before it can take a
   * reservoir slot or count as a user (and also under --raw). */
  if (s->n_header_cols && n != s->n_header_cols)
    return dp_diag_set(rd, DOPPEL_E_CSV, NULL, 0, 0, "expected %zu fields as in the header, found %zu",
                       s->n_header_cols, n);
  dp_buf_reset(&s->scratch);
  if ((st = dp_buf_reserve(&s->scratch, rec->len * 3 + 3)) != DOPPEL_OK) return st;
  size_t offs[3], lens[3];
  size_t want[3] = {SIZE_MAX, s->cols.event, s->cols.time};
  /* user id, else the alternative, else the device id: the first non-empty */
  const size_t idc[3] = {s->cols.user_id, s->cols.user_id_alt, s->cols.device_id};
  int present[3] = {0, 0, 0};
  for (int k = 0; k < 3; k++) {
    if (idc[k] < n && s->fields[idc[k]].len > 0) {
      size_t off = s->scratch.len;
      size_t l = doppel_csv_unquote(rec->data, &s->fields[idc[k]], s->scratch.data + off);
      if (l == 0) continue;
      s->scratch.len += l;
      offs[0] = off, lens[0] = l, present[0] = 1;
      break;
    }
  }
  for (int k = 1; k < 3; k++) {
    if (want[k] >= n) continue;
    size_t off = s->scratch.len;
    lens[k] = doppel_csv_unquote(rec->data, &s->fields[want[k]], s->scratch.data + off);
    s->scratch.len += lens[k];
    offs[k] = off;
    present[k] = k == 1 ? 1 : lens[k] > 0;
  }
  v->has_id = present[0];
  v->id = present[0] ? s->scratch.data + offs[0] : "";
  v->id_len = present[0] ? lens[0] : 0;
  v->has_event = present[1];
  v->event = present[1] ? s->scratch.data + offs[1] : "";
  v->event_len = present[1] ? lens[1] : 0;
  v->has_time = 0;
  if (present[2] && (s->opt->has_from || s->opt->has_to)) {
    doppel_diag td;
    doppel_diag_clear(&td);
    if (doppel_time_parse(s->scratch.data + offs[2], lens[2], &v->time_us, NULL, &td) != DOPPEL_OK)
      return dp_diag_set(rd, DOPPEL_E_TIME, NULL, 0, 0, "time column: %s", td.text);
    v->has_time = 1;
  }
  return DOPPEL_OK;
}

/* ---- output ---- */

static doppel_status write_record(sampler *s, dp_source *src, const char *source, const char *data,
                                  size_t len, uint64_t line, int crlf, int eol, doppel_diag *diag) {
  if (s->opt->raw) return dp_emit(&s->em, data, len, crlf, eol, diag);
  const char *o;
  size_t on;
  doppel_diag rd;
  doppel_diag_clear(&rd);
  doppel_status st = src->format == DOPPEL_FORMAT_CSV
                         ? doppel_pseudonymizer_csv_row(s->ps, data, len, &o, &on, &rd)
                         : doppel_pseudonymizer_json(s->ps, data, len, &o, &on, &rd);
  if (st != DOPPEL_OK) {
    if (dp_source_is_data_error(st)) return dp_source_malformed(src, source, line, rd.column, &rd, diag);
    return dp_diag_set(diag, st, source, line, 0, "%s", rd.text);
  }
  return dp_emit(&s->em, o, on, crlf, eol, diag);
}

/* ---- source hooks ---- */

static doppel_status on_start(void *ctx, dp_source *src, doppel_format fmt, doppel_dialect d,
                              const dp_source_record *header, doppel_diag *diag) {
  (void)src;
  (void)fmt;
  sampler *s = ctx;
  s->map = doppel_dialect_fields(d);
  doppel_status st;
  if (header) {
    char *names_buf;
    const char **names;
    size_t *lens, n;
    doppel_diag hd;
    doppel_diag_clear(&hd);
    if ((st = dp_source_csv_names(header->data, header->len, &names_buf, &names, &lens, &n, &hd)) != DOPPEL_OK)
      return dp_diag_set(diag, st, header->source, header->line, hd.column, "%s", hd.text);
    doppel_csv_columns_resolve(s->map, names, lens, n, &s->cols);
    s->n_header_cols = n;
    free(names_buf); free((void *)names); free(lens);
  }
  if (s->pass == 1) return DOPPEL_OK; /* USERS_N first pass: no output */
  if (!s->opt->raw &&
      (st = doppel_pseudonymizer_new(&s->ps, s->opt->key, s->opt->policy, d, diag)) != DOPPEL_OK)
    return st;
  if (!header) return DOPPEL_OK;
  if (s->ps) {
    doppel_diag hd;
    doppel_diag_clear(&hd);
    if ((st = doppel_pseudonymizer_csv_header(s->ps, header->data, header->len, ',', &hd)) != DOPPEL_OK)
      return dp_diag_set(diag, st, header->source, header->line, hd.column, "invalid CSV header: %s", hd.text);
  }
  return dp_emit_header(&s->em, header->data, header->len, header->crlf, header->eol, diag);
}

static int where_matches(const doppel_sample_options *o, const view *v) {
  if (!o->n_where) return 1;
  if (!v->has_event) return 0;
  for (size_t i = 0; i < o->n_where; i++)
    if (strlen(o->where_events[i]) == v->event_len && memcmp(o->where_events[i], v->event, v->event_len) == 0)
      return 1;
  return 0;
}

static doppel_status on_record(void *ctx, dp_source *src, const dp_source_record *rec,
                               doppel_diag *diag) {
  sampler *s = ctx;
  const doppel_sample_options *o = s->opt;
  doppel_sample_summary *sum = s->sum;
  view v;
  doppel_diag rd;
  doppel_diag_clear(&rd);
  doppel_status st = src->format == DOPPEL_FORMAT_CSV ? view_csv(s, rec, &v, &rd) : view_json(s, rec, &v, &rd);
  if (st != DOPPEL_OK) {
    if (dp_source_is_data_error(st) || st == DOPPEL_E_TIME)
      return dp_source_malformed(src, rec->source, rec->line, rd.column, &rd, diag);
    return dp_diag_set(diag, st, rec->source, rec->line, 0, "%s", rd.text);
  }
  if (!where_matches(o, &v)) {
    sum->filtered_out++;
    return DOPPEL_OK;
  }
  if (o->has_from || o->has_to) {
    if (!v.has_time) {
      sum->filtered_out++;
      sum->no_time++;
      return DOPPEL_OK;
    }
    if ((o->has_from && v.time_us < o->from_us) || (o->has_to && v.time_us >= o->to_us)) {
      sum->filtered_out++;
      return DOPPEL_OK;
    }
  }
  sum->eligible++;
  uint64_t u = 0;
  int fresh = 0;
  if (v.has_id) {
    uint8_t d[32];
    if ((st = doppel_keyed_digest(s->keyed, v.id, v.id_len, d)) != DOPPEL_OK)
      return dp_diag_set(diag, st, rec->source, rec->line, 0, "cannot hash the user id: %s",
                         doppel_strerror(st));
    for (int i = 0; i < 8; i++) u = (u << 8) | d[i]; /* as doppel_sample_user_hash() */
    if ((fresh = set_add(&s->seen, u)) < 0) return dp_diag_set(diag, DOPPEL_E_NOMEM, NULL, 0, 0, NULL);
  } else {
    sum->no_user++;
  }
  switch (o->mode) {
    case DOPPEL_SAMPLE_USERS_RATE:
    case DOPPEL_SAMPLE_USERS_N: {
      if (!v.has_id) return DOPPEL_OK;
      if (s->pass == 1) {
        if (fresh) {
          size_t before = s->heap_n;
          heap_offer(s, u);
          if (before < o->n && s->heap_n == before)
            return dp_diag_set(diag, DOPPEL_E_NOMEM, NULL, 0, 0, "out of memory for --users-n");
        }
        return DOPPEL_OK;
      }
      int keep = o->mode == DOPPEL_SAMPLE_USERS_RATE ? doppel_sample_rate_keeps(u, o->rate)
                                                     : !s->have_threshold || u <= s->threshold;
      if (!keep) return DOPPEL_OK;
      if (fresh) sum->users_kept++;
      return write_record(s, src, rec->source, rec->data, rec->len, rec->line, rec->crlf, rec->eol, diag);
    }
    case DOPPEL_SAMPLE_EVENTS_N: {
      stratum *stt = NULL;
      if ((st = stratum_of(s, v.has_event ? v.event : "", v.has_event ? v.event_len : 0, &stt, diag)) != DOPPEL_OK)
        return st;
      return reservoir_add(s, stt, rec, v.has_id, u, diag);
    }
    default:
      return dp_diag_set(diag, DOPPEL_E_INTERNAL, NULL, 0, 0, "unknown sample mode");
  }
}

/* ---- the job ---- */

static int cmp_held(const void *a, const void *b) {
  const held *x = *(held *const *)a, *y = *(held *const *)b;
  return x->index < y->index ? -1 : x->index > y->index;
}

static doppel_status flush_reservoir(sampler *s, dp_source *src, doppel_diag *diag) {
  size_t total = 0;
  for (size_t i = 0; i < s->n_strata; i++) total += (size_t)s->strata[i].n_held;
  held **all = malloc((total ? total : 1) * sizeof *all);
  if (!all) return dp_diag_set(diag, DOPPEL_E_NOMEM, NULL, 0, 0, NULL);
  size_t k = 0;
  for (size_t i = 0; i < s->n_strata; i++)
    for (uint64_t j = 0; j < s->strata[i].n_held; j++) all[k++] = &s->strata[i].items[j];
  qsort(all, total, sizeof *all, cmp_held);
  doppel_status st = DOPPEL_OK;
  for (size_t i = 0; i < total && st == DOPPEL_OK; i++) {
    held *h = all[i];
    if (h->has_u && set_add(&s->kept, h->u) < 0) st = dp_diag_set(diag, DOPPEL_E_NOMEM, NULL, 0, 0, NULL);
    if (st == DOPPEL_OK)
      st = write_record(s, src, s->names[h->input], h->data, h->len, h->line, h->crlf, h->eol, diag);
  }
  s->sum->users_kept = set_count(&s->kept);
  free(all);
  return st;
}

static void sampler_release(sampler *s) {
  doppel_pseudonymizer_free(s->ps);
  s->ps = NULL;
  doppel_keyed_free(s->keyed);
  doppel_json_doc_release(&s->doc);
  free(s->fields);
  dp_buf_release(&s->scratch);
  set_release(&s->seen);
  set_release(&s->kept);
  free(s->heap);
  for (size_t i = 0; i < s->n_strata; i++) {
    for (uint64_t j = 0; j < s->strata[i].n_held; j++) free_held(&s->strata[i].items[j]);
    free(s->strata[i].items);
  }
  free(s->strata);
  for (size_t i = 0; i < s->smap_cap; i++) free(s->smap[i].name);
  free(s->smap);
}

/* Copy stdin into a temporary file in $TMPDIR (or /tmp) for the second
 * pass. Preferably an unnamed O_TMPFILE file, read back through
 * "/proc/self/fd/N" and gone when the process ends, however it ends (*fd
 * keeps it open; the caller closes it); else a named mkstemp file listed in
 * the signal-cleanup registry (*slot) that the caller unlinks. path gets the
 * name to read. The copy never appears in messages (names stay "<stdin>"). */
static doppel_status spill_stdin(char *path, size_t size, int *fd_out, int *slot, doppel_diag *diag) {
  const char *dir = getenv("TMPDIR");
  if (!dir || !*dir) dir = "/tmp";
  int fd = DP_UNNAMED_UNSUPPORTED;
  int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    fd = dp_unnamed_open(dfd, O_RDWR | O_CLOEXEC, 0600);
    close(dfd);
  }
  if (fd >= 0) {
    *fd_out = fd;
    snprintf(path, size, "/proc/self/fd/%d", fd);
  } else {
    snprintf(path, size, "%s/doppel-sample-XXXXXX", dir);
    fd = mkstemp(path);
    if (fd < 0) {
      path[0] = '\0';
      return dp_diag_set(diag, DOPPEL_E_IO, dir, 0, 0, "cannot create a temporary file for stdin: %s",
                         strerror(errno));
    }
    *slot = dp_temp_register(path);
  }
  char buf[1 << 16];
  for (;;) {
    ssize_t n = read(STDIN_FILENO, buf, sizeof buf);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      if (fd != *fd_out) close(fd);
      return dp_diag_set(diag, DOPPEL_E_IO, "<stdin>", 0, 0, "cannot read: %s", strerror(e));
    }
    for (ssize_t w = 0; w < n;) {
      ssize_t k = write(fd, buf + w, (size_t)(n - w));
      if (k < 0) {
        if (errno == EINTR) continue;
        int e = errno;
        if (fd != *fd_out) close(fd);
        return dp_diag_set(diag, DOPPEL_E_IO, dir, 0, 0, "cannot write the stdin copy: %s", strerror(e));
      }
      w += k;
    }
  }
  if (fd != *fd_out && close(fd) != 0)
    return dp_diag_set(diag, DOPPEL_E_IO, dir, 0, 0, "cannot write the stdin copy: %s", strerror(errno));
  return DOPPEL_OK;
}

static doppel_status check_options(const doppel_sample_options *o, doppel_diag *diag) {
  if (!o || !o->inputs || o->n_inputs == 0 || !o->output)
    return dp_diag_set(diag, DOPPEL_E_USAGE, NULL, 0, 0, "give at least one input and an output");
  if (!o->key) return dp_diag_set(diag, DOPPEL_E_USAGE, NULL, 0, 0, "a key is required");
  size_t stdin_count = 0;
  for (size_t i = 0; i < o->n_inputs; i++) stdin_count += strcmp(o->inputs[i], "-") == 0;
  if (stdin_count > 1) return dp_diag_set(diag, DOPPEL_E_USAGE, NULL, 0, 0, "stdin ('-') given more than once");
  if (o->raw && o->policy)
    return dp_diag_set(diag, DOPPEL_E_USAGE, NULL, 0, 0, "raw output and a policy exclude each other");
  if (o->n_where && !o->where_events)
    return dp_diag_set(diag, DOPPEL_E_USAGE, NULL, 0, 0, "event filter names missing");
  switch (o->mode) {
    case DOPPEL_SAMPLE_USERS_RATE:
      if (!(o->rate >= 0.0 && o->rate <= 1.0))
        return dp_diag_set(diag, DOPPEL_E_USAGE, NULL, 0, 0, "user rate out of range: expected 0 to 1");
      break;
    case DOPPEL_SAMPLE_USERS_N:
      if (o->n == 0) return dp_diag_set(diag, DOPPEL_E_USAGE, NULL, 0, 0, "user count must be at least 1");
      break;
    case DOPPEL_SAMPLE_EVENTS_N:
      if (o->stratify_event ? o->per_stratum == 0 : o->n == 0)
        return dp_diag_set(diag, DOPPEL_E_USAGE, NULL, 0, 0, "event count must be at least 1");
      break;
    default:
      return dp_diag_set(diag, DOPPEL_E_USAGE, NULL, 0, 0,
                         "no sampling mode: give users rate, users n or events n");
  }
  if (o->stratify_event && o->mode != DOPPEL_SAMPLE_EVENTS_N)
    return dp_diag_set(diag, DOPPEL_E_USAGE, NULL, 0, 0, "stratification needs the events mode");
  return DOPPEL_OK;
}

doppel_status doppel_sample(const doppel_sample_options *opt, doppel_sample_summary *sum,
                            doppel_diag *diag) {
  memset(sum, 0, sizeof *sum);
  doppel_status st = check_options(opt, diag);
  if (st != DOPPEL_OK) return st;
  doppel_key_id(opt->key, sum->key_id);
  sampler *s = calloc(1, sizeof *s);
  dp_source *src = malloc(sizeof *src);
  const char **paths = calloc(opt->n_inputs, sizeof *paths);
  const char **names = calloc(opt->n_inputs, sizeof *names);
  char spill[4096] = "";
  int spill_slot = -1, spill_fd = -1;
  if (!s || !src || !paths || !names) {
    st = dp_diag_set(diag, DOPPEL_E_NOMEM, NULL, 0, 0, NULL);
    goto out;
  }
  s->opt = opt;
  s->sum = sum;
  s->names = names;
  doppel_json_doc_init(&s->doc);
  dp_buf_init(&s->scratch, 0);
  for (size_t i = 0; i < opt->n_inputs; i++) {
    paths[i] = opt->inputs[i];
    names[i] = strcmp(opt->inputs[i], "-") == 0 ? "<stdin>" : opt->inputs[i];
  }
  if ((st = doppel_keyed_new(&s->keyed, opt->key, DOPPEL_SAMPLE_DOMAIN, diag)) != DOPPEL_OK) goto out;
  if (opt->mode == DOPPEL_SAMPLE_EVENTS_N) {
    uint8_t d[32];
    static const char what[] = "reservoir";
    if ((st = doppel_keyed_digest(s->keyed, what, sizeof what - 1, d)) != DOPPEL_OK) {
      st = dp_diag_set(diag, st, NULL, 0, 0, "cannot seed the reservoir: %s", doppel_strerror(st));
      goto out;
    }
    uint64_t w[4] = {0, 0, 0, 0};
    for (int i = 0; i < 32; i++) w[i / 8] = (w[i / 8] << 8) | d[i];
    doppel_pcg64_seed(&s->rng, w[0], w[1], w[2], w[3]);
  }
  dp_source_options so = {paths, names, opt->n_inputs, opt->dialect, opt->format,
                          opt->max_record, opt->strict, opt->progress, opt->progress_ctx};
  dp_source_hooks hooks = {s, on_start, on_record, NULL, NULL};
  if (opt->mode == DOPPEL_SAMPLE_USERS_N) {
    for (size_t i = 0; i < opt->n_inputs; i++) {
      if (strcmp(opt->inputs[i], "-") != 0) continue;
      if ((st = spill_stdin(spill, sizeof spill, &spill_fd, &spill_slot, diag)) != DOPPEL_OK) goto out;
      paths[i] = spill;
    }
    s->pass = 1;
    so.progress = NULL;
    if ((st = dp_source_run(src, &so, &hooks, diag)) != DOPPEL_OK) goto out;
    if (s->heap_n == opt->n) {
      s->have_threshold = 1;
      s->threshold = s->heap[0];
    }
    set_release(&s->seen);
    memset(sum, 0, sizeof *sum);
    doppel_key_id(opt->key, sum->key_id);
    so.progress = opt->progress;
  }
  s->pass = 2;
  if ((st = doppel_output_open(&s->em.out, opt->output, opt->inputs, opt->n_inputs, diag)) != DOPPEL_OK)
    goto out;
  st = dp_source_run(src, &so, &hooks, diag);
  if (st == DOPPEL_OK && opt->mode == DOPPEL_SAMPLE_EVENTS_N) st = flush_reservoir(s, src, diag);
  sum->records_in = src->records_in;
  sum->records_out = s->em.records_out;
  sum->bytes_in = src->bytes_in;
  sum->malformed = src->malformed;
  sum->n_bad = src->n_bad;
  memcpy(sum->bad_lines, src->bad_lines, sizeof sum->bad_lines);
  memcpy(sum->bad_sources, src->bad_sources, sizeof sum->bad_sources);
  memcpy(sum->bad_reasons, src->bad_reasons, sizeof sum->bad_reasons);
  sum->format = src->format;
  sum->dialect = src->dialect;
  snprintf(sum->dialect_evidence, sizeof sum->dialect_evidence, "%s", src->evidence);
  sum->users_seen = set_count(&s->seen);
  sum->strata = opt->stratify_event ? s->n_strata : 0;
  if (opt->mode == DOPPEL_SAMPLE_USERS_RATE) {
    double p = opt->rate;
    sum->expected_share = p;
    sum->expected_error = sum->users_seen ? sqrt(p * (1 - p) / (double)sum->users_seen) : 0.0;
  }
  if (s->ps) {
    const dp_counter *c;
    size_t n = dp_pseudonymizer_counters(s->ps, &c);
    sum->n_counters = n;
    memcpy(sum->counters, c, n * sizeof *c);
  }
  if (st != DOPPEL_OK) doppel_output_abort(s->em.out);
  else st = doppel_output_commit(s->em.out, diag);
  s->em.out = NULL;
out:
  if (spill_fd >= 0) {
    close(spill_fd);
  } else if (spill[0]) {
    unlink(spill);
    dp_temp_unregister(spill_slot);
  }
  if (s) {
    doppel_output_abort(s->em.out);
    sampler_release(s);
  }
  free(s);
  free(src);
  free(paths);
  free(names);
  return st;
}
