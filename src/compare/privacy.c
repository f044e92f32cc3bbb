/*
 * privacy.c — the privacy section of `doppel compare`: phase 0 streams A's
 * records and collects 64-bit hashes (doppel_sketch_hash64, unkeyed) of its
 * identifier values and other string values, each with its distinct users
 * counted exactly up to k, and every user's event-name sequence; phase 1
 * streams B's records and counts what of A it finds: identifier values,
 * values held by fewer than k A users, and whole event sequences of at
 * least DOPPEL_COMPARE_SEQ_MIN_EVENTS events. Only counts and field paths
 * come out, never a value.
 *
 * Memory: a dense entry array plus an open-addressing index per table:
 * about 56 bytes per distinct value of A (plus 8 bytes for each further
 * distinct user of a value, up to k − 1), about 40 bytes per user of A and
 * of B, 24 bytes per distinct long-enough sequence of A, and at most
 * DP_PRIV_MAX_PATHS counters of B field paths.
 */
#include "compare/compare_int.h"

#include <doppel/event.h>
#include <doppel/json.h>
#include <doppel/pii.h>
#include <doppel/sketch.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DP_PRIV_MAX_PATHS 64
#define DP_PRIV_PATH_CACHE 1024

/* ---- a u64 → u32 open-addressing index over a dense array ---- */

typedef struct u64idx {
  uint64_t *keys;  /* 0 = empty slot (keys are never 0: see nz()) */
  uint32_t *vals;  /* entry numbers */
  size_t cap, n;
} u64idx;

static uint64_t nz(uint64_t h) { return h ? h : 1; }

/* SplitMix64's finalizer: the step of the rolling sequence hash. */
static uint64_t mix(uint64_t z) {
  z ^= z >> 30;
  z *= 0xbf58476d1ce4e5b9ULL;
  z ^= z >> 27;
  z *= 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

static void idx_release(u64idx *m) {
  free(m->keys);
  free(m->vals);
  memset(m, 0, sizeof *m);
}

static size_t slot_of(uint64_t k, size_t cap) { return (size_t)((k * 0x9e3779b97f4a7c15ULL) >> 20) & (cap - 1); }

static int idx_grow(u64idx *m) {
  size_t cap = m->cap ? m->cap * 2 : 1024;
  uint64_t *keys = calloc(cap, sizeof *keys);
  uint32_t *vals = malloc(cap * sizeof *vals);
  if (!keys || !vals) {
    free(keys);
    free(vals);
    return 0;
  }
  for (size_t i = 0; i < m->cap; i++) {
    if (!m->keys[i]) continue;
    size_t s = slot_of(m->keys[i], cap);
    while (keys[s]) s = (s + 1) & (cap - 1);
    keys[s] = m->keys[i];
    vals[s] = m->vals[i];
  }
  free(m->keys);
  free(m->vals);
  m->keys = keys;
  m->vals = vals;
  m->cap = cap;
  return 1;
}

/* Entry number of key k, or UINT32_MAX. */
static uint32_t idx_find(const u64idx *m, uint64_t k) {
  if (!m->cap) return UINT32_MAX;
  for (size_t s = slot_of(k, m->cap);; s = (s + 1) & (m->cap - 1)) {
    if (m->keys[s] == k) return m->vals[s];
    if (!m->keys[s]) return UINT32_MAX;
  }
}

/* Insert k → v (k absent). 0 when out of memory. */
static int idx_put(u64idx *m, uint64_t k, uint32_t v) {
  if ((m->n + 1) * 2 > m->cap && !idx_grow(m)) return 0;
  size_t s = slot_of(k, m->cap);
  while (m->keys[s]) s = (s + 1) & (m->cap - 1);
  m->keys[s] = k;
  m->vals[s] = v;
  m->n++;
  return 1;
}

static int grow_array(void **a, size_t *cap, size_t n, size_t size) {
  if (n < *cap) return 1;
  size_t c = *cap ? *cap * 2 : 1024;
  void *na = realloc(*a, c * size);
  if (!na) return 0;
  *a = na;
  *cap = c;
  return 1;
}

/* ---- tables ---- */

typedef struct vent {
  uint64_t u1;     /* first user holding the value */
  uint64_t *more;  /* further distinct users (while fewer than k) */
  uint16_t n_more, cap_more;
  uint16_t users;  /* distinct users, capped at k */
  uint8_t ident;   /* seen as an identifier value */
  uint8_t found;   /* seen in B */
} vent;

typedef struct uent {
  uint64_t seq;    /* rolling hash of the event names so far */
  uint32_t events; /* events seen (saturating) */
} uent;

typedef struct pathctr {
  char path[128];        /* display path (personal-looking segments masked) */
  uint64_t ident, rare;  /* B values found, by kind */
} pathctr;

struct dp_cmp_priv {
  uint32_t k;                   /* rarity threshold: fewer than k distinct users */
  int phase;                    /* 0 = collecting A, 1 = checking B */
  const doppel_field_map *map;  /* canonical fields of the current input's dialect */
  u64idx vidx;                  /* A's values: value hash → entry in v */
  vent *v;                      /* A's values, dense */
  size_t nv, capv;              /* entries used / allocated */
  u64idx uidx[2];               /* per phase: user hash → entry in u */
  uent *u[2];                   /* per phase: users and their running sequences */
  size_t nu[2], capu[2];        /* entries used / allocated */
  u64idx sidx;                  /* A's sequences of >= the minimum length: hash → entry */
  uint32_t *scount;             /* A users per sequence */
  size_t ns, caps;              /* entries used / allocated */
  uint64_t a_seq_users;         /* A users with a long enough sequence */
  uint64_t ident_found, ident_occ; /* B: distinct A identifier values found, occurrences */
  uint64_t rare_found, rare_occ;   /* B: distinct rare A values found, occurrences */
  pathctr paths[DP_PRIV_MAX_PATHS]; /* B: findings by field path */
  size_t n_paths;               /* entries used in paths */
  uint64_t other_ident, other_rare; /* findings beyond DP_PRIV_MAX_PATHS paths */
  uint64_t pc_key[DP_PRIV_PATH_CACHE]; /* path hash of a cached identifier-field verdict */
  uint8_t pc_val[DP_PRIV_PATH_CACHE];  /* the verdict */
  char **cols;                  /* CSV: column names (the field paths) */
  size_t *col_lens;             /* their lengths */
  uint8_t *col_flags;           /* 1 = skip (event, time), 2 = identifier */
  size_t n_cols;                /* columns */
  dp_buf path, val;             /* the current path, an unescaped value */
  int nomem;                    /* an allocation failed */
};

doppel_status dp_cmp_priv_new(dp_cmp_priv **out, uint32_t k) {
  *out = calloc(1, sizeof **out);
  if (!*out) return DOPPEL_E_NOMEM;
  (*out)->k = k ? k : 10;
  dp_buf_init(&(*out)->path, 0);
  dp_buf_init(&(*out)->val, 0);
  return DOPPEL_OK;
}

static void free_cols(dp_cmp_priv *p) {
  for (size_t i = 0; i < p->n_cols; i++) free(p->cols[i]);
  free(p->cols);
  free(p->col_lens);
  free(p->col_flags);
  p->cols = NULL;
  p->col_lens = NULL;
  p->col_flags = NULL;
  p->n_cols = 0;
}

void dp_cmp_priv_free(dp_cmp_priv *p) {
  if (!p) return;
  for (size_t i = 0; i < p->nv; i++) free(p->v[i].more);
  free(p->v);
  idx_release(&p->vidx);
  for (int i = 0; i < 2; i++) {
    free(p->u[i]);
    idx_release(&p->uidx[i]);
  }
  free(p->scount);
  idx_release(&p->sidx);
  free_cols(p);
  dp_buf_release(&p->path);
  dp_buf_release(&p->val);
  free(p);
}

void dp_cmp_priv_begin(dp_cmp_priv *p, int phase, const doppel_field_map *map) {
  p->phase = phase;
  p->map = map;
  memset(p->pc_key, 0, sizeof p->pc_key);
  free_cols(p);
}

/* ---- classification ---- */

static int path_eq(const char *a, const char *b, size_t bn) { return a && strlen(a) == bn && !memcmp(a, b, bn); }

/* Is a value at this path an identifier by the field: a canonical id field
 * of the dialect, an IP field, or a name that is a direct identifier? */
static int path_is_ident_uncached(const doppel_field_map *m, const char *path, size_t n) {
  if (path_eq(m->user_id, path, n) || path_eq(m->user_id_alt, path, n) || path_eq(m->device_id, path, n)) return 1;
  for (const char *const *ip = m->ip_fields; ip && *ip; ip++)
    if (path_eq(*ip, path, n)) return 1;
  const char *seg = path;
  for (size_t i = 0; i < n; i++)
    if (path[i] == '.') seg = path + i + 1;
  size_t sn = n - (size_t)(seg - path);
  return doppel_pii_kind_class(doppel_pii_classify_name(seg, sn)) == DOPPEL_PII_CLASS_DIRECT;
}

static int path_is_ident(dp_cmp_priv *p, const char *path, size_t n) {
  uint64_t h = nz(doppel_sketch_hash64(path, n));
  size_t s = (size_t)(h & (DP_PRIV_PATH_CACHE - 1));
  if (p->pc_key[s] == h) return p->pc_val[s];
  int r = path_is_ident_uncached(p->map, path, n);
  p->pc_key[s] = h;
  p->pc_val[s] = (uint8_t)r;
  return r;
}

/* ---- A: values and users ---- */

static void value_add_user(dp_cmp_priv *p, vent *e, uint64_t u) {
  if (e->users >= p->k || e->u1 == u) return;
  for (uint16_t i = 0; i < e->n_more; i++)
    if (e->more[i] == u) return;
  if ((uint32_t)e->users + 1 >= p->k) { /* saturated: the set is no longer needed */
    free(e->more);
    e->more = NULL;
    e->n_more = e->cap_more = 0;
    e->users = (uint16_t)p->k;
    return;
  }
  if (e->n_more == e->cap_more) {
    uint16_t c = e->cap_more ? (uint16_t)(e->cap_more * 2) : 2;
    uint64_t *m = realloc(e->more, c * sizeof *m);
    if (!m) {
      p->nomem = 1;
      return;
    }
    e->more = m;
    e->cap_more = c;
  }
  e->more[e->n_more++] = u;
  e->users++;
}

static void collect_value(dp_cmp_priv *p, const char *s, size_t n, int ident, uint64_t u) {
  uint64_t h = nz(doppel_sketch_hash64(s, n));
  uint32_t i = idx_find(&p->vidx, h);
  if (i == UINT32_MAX) {
    if (!grow_array((void **)&p->v, &p->capv, p->nv, sizeof *p->v) || !idx_put(&p->vidx, h, (uint32_t)p->nv)) {
      p->nomem = 1;
      return;
    }
    i = (uint32_t)p->nv++;
    p->v[i] = (vent){u, NULL, 0, 0, 1, 0, 0};
  } else {
    value_add_user(p, &p->v[i], u);
  }
  if (ident) p->v[i].ident = 1;
}

/* ---- B: findings ---- */

/* The path as shown: segments that are personal data themselves (or very
 * long) are masked as "*". */
static void display_path(const char *path, size_t n, char *out, size_t size) {
  size_t o = 0;
  for (size_t i = 0; i <= n && o + 2 < size;) {
    size_t j = i;
    while (j < n && path[j] != '.') j++;
    const char *seg = path + i;
    size_t sl = j - i;
    int mask = sl > 48 || doppel_pii_classify_value(seg, sl) != DOPPEL_PII_NONE;
    if (i) out[o++] = '.';
    if (mask) out[o++] = '*';
    else
      for (size_t k = 0; k < sl && o + 1 < size; k++) out[o++] = seg[k];
    i = j + 1;
  }
  out[o < size ? o : size - 1] = '\0';
}

static void count_path(dp_cmp_priv *p, const char *path, size_t n, int ident) {
  char shown[128];
  display_path(path, n, shown, sizeof shown);
  for (size_t i = 0; i < p->n_paths; i++)
    if (!strcmp(p->paths[i].path, shown)) {
      if (ident) p->paths[i].ident++;
      else p->paths[i].rare++;
      return;
    }
  if (p->n_paths == DP_PRIV_MAX_PATHS) {
    if (ident) p->other_ident++;
    else p->other_rare++;
    return;
  }
  pathctr *c = &p->paths[p->n_paths++];
  snprintf(c->path, sizeof c->path, "%s", shown);
  c->ident = ident ? 1 : 0;
  c->rare = ident ? 0 : 1;
}

/* A value of B: strings anywhere, numbers only in identifier fields (a
 * count such as 296 in a numeric field is no leak of an id written "296"). */
static void check_value(dp_cmp_priv *p, const char *s, size_t n, int is_string, int path_ident, const char *path,
                        size_t pn) {
  if (!is_string && !path_ident) return;
  uint32_t i = idx_find(&p->vidx, nz(doppel_sketch_hash64(s, n)));
  if (i == UINT32_MAX) return;
  vent *e = &p->v[i];
  if (e->users >= p->k) return;
  if (e->ident) {
    p->ident_occ++;
    if (!(e->found & 1)) p->ident_found++, e->found |= 1;
    count_path(p, path, pn, 1);
  } else if (is_string) {
    p->rare_occ++;
    if (!(e->found & 2)) p->rare_found++, e->found |= 2;
    count_path(p, path, pn, 0);
  }
}

/* Is s a number in JSON's grammar (-?int frac? exp?)? */
static int numeric(const char *s, size_t n) {
  size_t i = 0;
  if (i < n && s[i] == '-') i++;
  size_t d = i;
  while (i < n && s[i] >= '0' && s[i] <= '9') i++;
  if (i == d) return 0;
  if (i < n && s[i] == '.') {
    size_t f = ++i;
    while (i < n && s[i] >= '0' && s[i] <= '9') i++;
    if (i == f) return 0;
  }
  if (i < n && (s[i] == 'e' || s[i] == 'E')) {
    i++;
    if (i < n && (s[i] == '+' || s[i] == '-')) i++;
    size_t e = i;
    while (i < n && s[i] >= '0' && s[i] <= '9') i++;
    if (i == e) return 0;
  }
  return i == n;
}

/* One scalar value at path (s: unescaped string or number literal). */
static void on_value(dp_cmp_priv *p, const char *path, size_t pn, const char *s, size_t n, int is_string,
                     int path_ident, uint64_t u, int has_user) {
  if (n == 0) return;
  /* numbers, also written as strings (CSV), are identifiers only by their
   * field: synthetic numbers meet real ones by chance */
  if (is_string && !path_ident && numeric(s, n)) return;
  if (p->phase == 0) {
    if (!has_user) return;
    int ident = path_ident ||
                (is_string && doppel_pii_kind_class(doppel_pii_classify_value(s, n)) == DOPPEL_PII_CLASS_DIRECT);
    if (!ident && !is_string) return;
    collect_value(p, s, n, ident, u);
  } else {
    check_value(p, s, n, is_string, path_ident, path, pn);
  }
}

/* ---- sequences ---- */

static void user_event(dp_cmp_priv *p, uint64_t u, const char *ev, size_t evn) {
  int ph = p->phase;
  uint32_t i = idx_find(&p->uidx[ph], u);
  if (i == UINT32_MAX) {
    if (!grow_array((void **)&p->u[ph], &p->capu[ph], p->nu[ph], sizeof **p->u) ||
        !idx_put(&p->uidx[ph], u, (uint32_t)p->nu[ph])) {
      p->nomem = 1;
      return;
    }
    i = (uint32_t)p->nu[ph]++;
    p->u[ph][i] = (uent){0x6a09e667f3bcc908ULL, 0};
  }
  uent *e = &p->u[ph][i];
  uint64_t h = doppel_sketch_hash64(ev, evn);
  e->seq = mix(e->seq ^ h) + 0x9e3779b97f4a7c15ULL;
  if (e->events < UINT32_MAX) e->events++;
}

static uint64_t seq_final(const uent *e) {
  return nz(mix(e->seq ^ mix((uint64_t)e->events + 0x632be59bd9b4e019ULL)));
}

doppel_status dp_cmp_priv_end_a(dp_cmp_priv *p) {
  for (size_t i = 0; i < p->nu[0]; i++) {
    const uent *e = &p->u[0][i];
    if (e->events < DOPPEL_COMPARE_SEQ_MIN_EVENTS) continue;
    p->a_seq_users++;
    uint64_t h = seq_final(e);
    uint32_t j = idx_find(&p->sidx, h);
    if (j != UINT32_MAX) {
      if (p->scount[j] < UINT32_MAX) p->scount[j]++;
      continue;
    }
    if (!grow_array((void **)&p->scount, &p->caps, p->ns, sizeof *p->scount) || !idx_put(&p->sidx, h, (uint32_t)p->ns))
      return DOPPEL_E_NOMEM;
    p->scount[p->ns++] = 1;
  }
  /* A's users are no longer needed */
  free(p->u[0]);
  p->u[0] = NULL;
  p->capu[0] = 0;
  idx_release(&p->uidx[0]);
  return p->nomem ? DOPPEL_E_NOMEM : DOPPEL_OK;
}

/* ---- JSON records ---- */

typedef struct walk {
  dp_cmp_priv *p;
  const doppel_json_doc *doc;
  uint32_t skip1, skip2;  /* the event-name and time nodes, not scanned */
  uint64_t u;             /* user hash */
  int has_user;           /* 0: the record has no user (A: values not collected) */
} walk;

static doppel_status walk_node(walk *w, uint32_t i) {
  dp_cmp_priv *p = w->p;
  const doppel_json_doc *doc = w->doc;
  const doppel_json_node *nd = &doc->nodes[i];
  if (i == w->skip1 || i == w->skip2) return DOPPEL_OK;
  if (nd->type == DOPPEL_JSON_OBJECT || nd->type == DOPPEL_JSON_ARRAY) {
    size_t base = p->path.len;
    for (uint32_t c = i + 1; c < nd->next; c = doc->nodes[c].next) {
      if (nd->type == DOPPEL_JSON_OBJECT) {
        const doppel_json_node *cn = &doc->nodes[c];
        if (dp_buf_reserve(&p->path, cn->key_len + 2) != DOPPEL_OK) return DOPPEL_E_NOMEM;
        p->path.len = base;
        if (base) p->path.data[p->path.len++] = '.';
        if (cn->flags & DOPPEL_JSON_F_KEY_ESCAPED)
          p->path.len += doppel_json_unescape(doc->src + cn->key_start, cn->key_len, p->path.data + p->path.len);
        else {
          memcpy(p->path.data + p->path.len, doc->src + cn->key_start, cn->key_len);
          p->path.len += cn->key_len;
        }
      }
      doppel_status st = walk_node(w, c);
      if (st != DOPPEL_OK) return st;
    }
    p->path.len = base;
    return DOPPEL_OK;
  }
  const char *path = p->path.data ? p->path.data : "";
  size_t pn = p->path.len;
  if (nd->type == DOPPEL_JSON_STRING) {
    size_t n;
    const char *s = doppel_json_str(doc, i, &n);
    if (nd->flags & DOPPEL_JSON_F_ESCAPED) {
      dp_buf_reset(&p->val);
      if (dp_buf_reserve(&p->val, n) != DOPPEL_OK) return DOPPEL_E_NOMEM;
      n = doppel_json_unescape(s, n, p->val.data);
      s = p->val.data;
    }
    on_value(p, path, pn, s, n, 1, path_is_ident(p, path, pn), w->u, w->has_user);
  } else if (nd->type == DOPPEL_JSON_NUMBER) {
    int ident = path_is_ident(p, path, pn);
    if (ident)
      on_value(p, path, pn, doc->src + nd->start, nd->end - nd->start, 0, ident, w->u, w->has_user);
  }
  return p->nomem ? DOPPEL_E_NOMEM : DOPPEL_OK;
}

doppel_status dp_cmp_priv_json(dp_cmp_priv *p, const doppel_json_doc *doc, const dp_cmp_rec *r) {
  walk w = {p, doc, doppel_json_lookup(doc, 0, p->map->event), doppel_json_lookup(doc, 0, p->map->time), 0, 0};
  if (r->user_len) {
    w.u = nz(doppel_sketch_hash64(r->user, r->user_len));
    w.has_user = 1;
    user_event(p, w.u, r->event, r->event_len);
  }
  dp_buf_reset(&p->path);
  doppel_status st = walk_node(&w, 0);
  if (st == DOPPEL_OK && p->nomem) st = DOPPEL_E_NOMEM;
  return st;
}

/* ---- CSV records ---- */

doppel_status dp_cmp_priv_csv_header(dp_cmp_priv *p, const char *const *names, const size_t *lens, size_t n) {
  free_cols(p);
  p->cols = calloc(n ? n : 1, sizeof *p->cols);
  p->col_lens = calloc(n ? n : 1, sizeof *p->col_lens);
  p->col_flags = calloc(n ? n : 1, 1);
  if (!p->cols || !p->col_lens || !p->col_flags) return DOPPEL_E_NOMEM;
  p->n_cols = n;
  for (size_t i = 0; i < n; i++) {
    if (!(p->cols[i] = malloc(lens[i] + 1))) return DOPPEL_E_NOMEM;
    memcpy(p->cols[i], names[i], lens[i]);
    p->cols[i][lens[i]] = '\0';
    p->col_lens[i] = lens[i];
    if (path_eq(p->map->event, names[i], lens[i]) || path_eq(p->map->time, names[i], lens[i])) p->col_flags[i] = 1;
    else if (path_is_ident_uncached(p->map, names[i], lens[i])) p->col_flags[i] = 2;
  }
  return DOPPEL_OK;
}

doppel_status dp_cmp_priv_csv(dp_cmp_priv *p, const char *const *vals, const size_t *lens, size_t n,
                              const dp_cmp_rec *r) {
  uint64_t u = 0;
  int has_user = r->user_len > 0;
  if (has_user) {
    u = nz(doppel_sketch_hash64(r->user, r->user_len));
    user_event(p, u, r->event, r->event_len);
  }
  for (size_t i = 0; i < n && i < p->n_cols; i++) {
    if (p->col_flags[i] == 1) continue;
    on_value(p, p->cols[i], p->col_lens[i], vals[i], lens[i], 1, p->col_flags[i] == 2, u, has_user);
  }
  return p->nomem ? DOPPEL_E_NOMEM : DOPPEL_OK;
}

/* ---- report ---- */

static json_t *fields_json(const dp_cmp_priv *p, int ident) {
  json_t *arr = json_array();
  /* most occurrences first, then by path */
  size_t order[DP_PRIV_MAX_PATHS], m = 0;
  for (size_t i = 0; i < p->n_paths; i++)
    if (ident ? p->paths[i].ident : p->paths[i].rare) order[m++] = i;
  for (size_t i = 1; i < m; i++)
    for (size_t j = i; j > 0; j--) {
      const pathctr *x = &p->paths[order[j - 1]], *y = &p->paths[order[j]];
      uint64_t cx = ident ? x->ident : x->rare, cy = ident ? y->ident : y->rare;
      if (cx > cy || (cx == cy && strcmp(x->path, y->path) <= 0)) break;
      size_t t = order[j - 1];
      order[j - 1] = order[j];
      order[j] = t;
    }
  for (size_t i = 0; i < m; i++) {
    const pathctr *c = &p->paths[order[i]];
    json_array_append_new(arr, json_pack("{s:s,s:I}", "path", c->path, "occurrences",
                                         (json_int_t)(ident ? c->ident : c->rare)));
  }
  uint64_t other = ident ? p->other_ident : p->other_rare;
  if (other) json_array_append_new(arr, json_pack("{s:s,s:I}", "path", "(other paths)", "occurrences", (json_int_t)other));
  return arr;
}

json_t *dp_cmp_priv_report(const dp_cmp_priv *p) {
  uint64_t n_ident = 0, n_rare = 0;
  for (size_t i = 0; i < p->nv; i++) {
    if (p->v[i].users >= p->k) continue;
    if (p->v[i].ident) n_ident++;
    else n_rare++;
  }
  uint64_t b_users = p->nu[1], eligible = 0, copied = 0, copied_rare = 0, a_shared = 0;
  for (size_t i = 0; i < p->ns; i++)
    if (p->scount[i] >= 2) a_shared += p->scount[i];
  for (size_t i = 0; i < p->nu[1]; i++) {
    const uent *e = &p->u[1][i];
    if (e->events < DOPPEL_COMPARE_SEQ_MIN_EVENTS) continue;
    eligible++;
    uint32_t j = idx_find(&p->sidx, seq_final(e));
    if (j == UINT32_MAX) continue;
    copied++;
    if (p->scount[j] < p->k) copied_rare++;
  }
  size_t mem = p->capv * sizeof *p->v + p->vidx.cap * 12 + p->caps * 4 + p->sidx.cap * 12 +
               p->capu[1] * sizeof(uent) + p->uidx[1].cap * 12;
  for (size_t i = 0; i < p->nv; i++) mem += p->v[i].cap_more * sizeof(uint64_t);
  return json_pack(
      "{s:I,s:{s:I,s:I,s:o,s:I,s:o},s:{s:I,s:I,s:o,s:I,s:o},s:{s:i,s:I,s:o,s:I,s:I,s:I,s:o,s:o,s:I},s:I}", "k",
      (json_int_t)p->k, "identifiers", "a_values", (json_int_t)n_ident, "found", (json_int_t)p->ident_found,
      "share", dp_cmp_num(n_ident ? (double)p->ident_found / (double)n_ident : 0), "b_occurrences",
      (json_int_t)p->ident_occ, "fields", fields_json(p, 1), "rare_values", "a_values", (json_int_t)n_rare, "found",
      (json_int_t)p->rare_found, "share", dp_cmp_num(n_rare ? (double)p->rare_found / (double)n_rare : 0),
      "b_occurrences", (json_int_t)p->rare_occ, "fields", fields_json(p, 0), "sequences", "min_events",
      DOPPEL_COMPARE_SEQ_MIN_EVENTS, "a_users", (json_int_t)p->a_seq_users, "a_shared_share",
      dp_cmp_num(p->a_seq_users ? (double)a_shared / (double)p->a_seq_users : 0), "b_users", (json_int_t)b_users,
      "b_eligible", (json_int_t)eligible, "copied", (json_int_t)copied, "share",
      dp_cmp_num(eligible ? (double)copied / (double)eligible : 0), "share_of_all",
      dp_cmp_num(b_users ? (double)copied / (double)b_users : 0), "copied_rare", (json_int_t)copied_rare,
      "memory_bytes", (json_int_t)mem);
}
