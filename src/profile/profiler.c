/*
 * profiler.c — the streaming half of the profiler: parameters, the tables
 * (event names, global paths, properties, users, per-level sequence
 * statistics), and the per-record work for JSON and CSV records.
 *
 * Per record: parse (our scanner), take the canonical view, count the
 * record or the reason it is skipped, hash the user id (keyed with a key,
 * through a direct-mapped cache), update the event name's counters, time
 * tallies, identifier shapes and insert-id duplicates, advance the user's
 * session (sampled users only: transitions and gaps go to the user's level
 * of sequence statistics), and walk every field for property statistics,
 * privacy evidence and per-user / per-session constancy.
 *
 * Finalization (profile JSON) is in finalize.c, states and merging in
 * state.c; both use the functions exported here through profile_int.h's
 * companion prof_int.h.
 */
#include "profile/profile_int.h"

#include <doppel/pii.h>
#include <doppel/time.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/diag.h"
#include "sketch/sketch_int.h"

#define UCACHE_SIZE 65536
#define INSERT_MAX 1000000
#define MAX_DAY_SPAN 40000
#define CONST_MAX_SLOTS 64
#define ANCIENT_US (INT64_C(631152000) * 1000000) /* 1990-01-01 */

/* ---- small helpers ---- */

uint64_t dp_hash_mix(uint64_t a, uint64_t b) { return dp_sketch_mix64(a ^ dp_sketch_mix64(b + 0x9e3779b97f4a7c15ULL)); }

int32_t dp_day_of(int64_t us) {
  int64_t d = us / 86400000000LL;
  if (us % 86400000000LL < 0) d--;
  return (int32_t)d;
}

int dp_how_of(int64_t us) {
  int64_t day = dp_day_of(us);
  int64_t in_day = us - day * 86400000000LL;
  int wd = (int)(((day + 3) % 7 + 7) % 7); /* 1970-01-01 was a Thursday; Monday = 0 */
  return wd * 24 + (int)(in_day / 3600000000LL);
}

uint32_t dp_level_of(uint64_t u) {
  if (!u) return DP_LEVELS - 1;
  uint32_t z = (uint32_t)__builtin_clzll(u);
  return z >= DP_LEVELS - 1 ? DP_LEVELS - 1 : z;
}

static uint32_t pow2_at_least(size_t x) {
  uint32_t p = 16;
  while (p < x) p <<= 1;
  return p;
}

/* ---- sequence statistics ---- */

doppel_status dp_seq_new(dp_seq **out, uint32_t k) {
  dp_seq *s = calloc(1, sizeof *s);
  if (!s) return DOPPEL_E_NOMEM;
  doppel_status st;
  if ((st = doppel_ddsketch_new(&s->sess_events, 0, 0, NULL)) != DOPPEL_OK ||
      (st = doppel_ddsketch_new(&s->sess_dur, 0, 0, NULL)) != DOPPEL_OK ||
      (st = doppel_ddsketch_new(&s->gaps, 0, 0, NULL)) != DOPPEL_OK ||
      (st = dp_kc_init(&s->trans, 8192, k, 0)) != DOPPEL_OK ||
      (st = dp_kc_init(&s->paths, 2048, k, 1)) != DOPPEL_OK) {
    dp_seq_free(s);
    return st;
  }
  *out = s;
  return DOPPEL_OK;
}

void dp_seq_free(dp_seq *s) {
  if (!s) return;
  doppel_ddsketch_free(s->sess_events);
  doppel_ddsketch_free(s->sess_dur);
  doppel_ddsketch_free(s->gaps);
  dp_kc_release(&s->trans);
  dp_kc_release(&s->paths);
  free(s->sess_first);
  free(s->trans_from);
  free(s->sess_with);
  free(s->sess_const);
  free(s);
}

static doppel_status grow_u64(uint64_t **a, uint32_t *n, uint32_t want) {
  if (want <= *n) return DOPPEL_OK;
  uint32_t nn = *n ? *n : 16;
  while (nn < want) nn *= 2;
  uint64_t *na = realloc(*a, (size_t)nn * sizeof *na);
  if (!na) return DOPPEL_E_NOMEM;
  memset(na + *n, 0, (size_t)(nn - *n) * sizeof *na);
  *a = na;
  *n = nn;
  return DOPPEL_OK;
}

doppel_status dp_seq_ensure_ev(dp_seq *s, uint32_t ev) {
  if (ev < s->n_ev) return DOPPEL_OK;
  uint32_t n1 = s->n_ev, n2 = s->n_ev;
  doppel_status st = grow_u64(&s->sess_first, &n1, ev + 1);
  if (st == DOPPEL_OK) st = grow_u64(&s->trans_from, &n2, ev + 1);
  if (st != DOPPEL_OK) return st;
  s->n_ev = n1 < n2 ? n1 : n2;
  return DOPPEL_OK;
}

doppel_status dp_seq_ensure_gp(dp_seq *s, uint32_t gp) {
  if (gp < s->n_gp) return DOPPEL_OK;
  uint32_t n1 = s->n_gp, n2 = s->n_gp;
  doppel_status st = grow_u64(&s->sess_with, &n1, gp + 1);
  if (st == DOPPEL_OK) st = grow_u64(&s->sess_const, &n2, gp + 1);
  if (st != DOPPEL_OK) return st;
  s->n_gp = n1 < n2 ? n1 : n2;
  return DOPPEL_OK;
}

doppel_status dp_seq_get(doppel_profiler *p, uint32_t level, dp_seq **out) {
  if (!p->seq[level]) {
    doppel_status st = dp_seq_new(&p->seq[level], p->k);
    if (st != DOPPEL_OK) return st;
  }
  *out = p->seq[level];
  return DOPPEL_OK;
}

/* ---- the profiler object ---- */

doppel_status doppel_profiler_new(doppel_profiler **out, const doppel_profile_params *params,
                                  doppel_dialect dialect, doppel_format format,
                                  doppel_diag *diag) {
  if (!out) return dp_diag_set(diag, DOPPEL_E_USAGE, NULL, 0, 0, "expected an output pointer");
  *out = NULL;
  doppel_profile_params def;
  memset(&def, 0, sizeof def);
  if (!params) params = &def;
  uint32_t k = params->k ? params->k : DOPPEL_PROFILE_K_DEFAULT;
  if (k < 2 || k > DOPPEL_PROFILE_K_MAX)
    return dp_diag_set(diag, DOPPEL_E_USAGE, NULL, 0, 0, "k must be between 2 and %d, got %u",
                       DOPPEL_PROFILE_K_MAX, k);
  int64_t gap = params->session_gap_us ? params->session_gap_us : DOPPEL_PROFILE_GAP_DEFAULT_US;
  if (gap < 1000000 || gap > INT64_C(7) * 86400 * 1000000)
    return dp_diag_set(diag, DOPPEL_E_USAGE, NULL, 0, 0,
                       "session gap must be between 1 second and 7 days");
  uint64_t mu = params->max_users ? params->max_users : DOPPEL_PROFILE_MAX_USERS_DEFAULT;
  if (mu < DOPPEL_PROFILE_MAX_USERS_MIN || mu > 100000000)
    return dp_diag_set(diag, DOPPEL_E_USAGE, NULL, 0, 0,
                       "max users must be between %d and 100000000", DOPPEL_PROFILE_MAX_USERS_MIN);
  if (dialect == DOPPEL_DIALECT_AUTO || dialect >= DOPPEL_DIALECT_COUNT)
    return dp_diag_set(diag, DOPPEL_E_USAGE, NULL, 0, 0, "expected a concrete dialect");
  doppel_profiler *p = calloc(1, sizeof *p);
  if (!p) return dp_diag_set(diag, DOPPEL_E_NOMEM, NULL, 0, 0, NULL);
  p->k = k;
  p->gap_us = gap;
  p->max_users = mu;
  p->now_us = params->now_us ? params->now_us : (int64_t)time(NULL) * 1000000;
  p->dialect = dialect;
  p->format = format == DOPPEL_FORMAT_AUTO ? DOPPEL_FORMAT_JSONL : format;
  p->map = doppel_dialect_fields(dialect);
  p->min_us = INT64_MAX;
  p->max_us = INT64_MIN;
  doppel_status st = DOPPEL_OK;
  if (params->key) {
    doppel_key_id(params->key, p->key_id);
    if ((st = doppel_keyed_new(&p->keyed, params->key, "profile", diag)) != DOPPEL_OK) goto fail;
  }
  if ((st = doppel_hll_new(&p->users_hll, 14, diag)) != DOPPEL_OK ||
      (st = doppel_hll_new(&p->devices_hll, 14, diag)) != DOPPEL_OK)
    goto fail;
  for (int i = 0; i < 4; i++) {
    if ((st = doppel_ddsketch_new(&p->ids[i].len, 0, 0, diag)) != DOPPEL_OK ||
        (st = doppel_hll_new(&p->ids[i].distinct, 12, diag)) != DOPPEL_OK ||
        (st = doppel_hll_new(&p->ids[i].pat_distinct, 8, diag)) != DOPPEL_OK ||
        (st = dp_kc_init(&p->ids[i].patterns, 1024, k, 1)) != DOPPEL_OK ||
        (st = dp_ext_init(&p->ids[i].len_hi, k, 0)) != DOPPEL_OK ||
        (st = dp_ext_init(&p->ids[i].len_lo, k, 1)) != DOPPEL_OK)
      goto fail;
  }
  p->ecache = calloc(DP_ECACHE_SIZE, sizeof *p->ecache);
  p->icache = calloc(DP_ICACHE_SIZE, sizeof *p->icache);
  if (!p->ecache || !p->icache) { st = DOPPEL_E_NOMEM; goto fail; }
  if (p->keyed) { /* keyed user hashes are cached: one HMAC per distinct id, mostly */
    p->ucache_key = calloc(UCACHE_SIZE, sizeof *p->ucache_key);
    p->ucache_val = calloc(UCACHE_SIZE, sizeof *p->ucache_val);
    if (!p->ucache_key || !p->ucache_val) { st = DOPPEL_E_NOMEM; goto fail; }
  }
  doppel_json_doc_init(&p->doc);
  dp_buf_init(&p->scratch, 0);
  dp_buf_init(&p->path, 0);
  dp_buf_init(&p->idbuf, 0);
  snprintf(p->evidence, sizeof p->evidence, "forced by --dialect");
  *out = p;
  return DOPPEL_OK;
fail:
  if (st == DOPPEL_E_NOMEM) dp_diag_set(diag, st, NULL, 0, 0, NULL);
  doppel_profiler_free(p);
  return st;
}

static void prop_release(dp_prop *pr) {
  doppel_ddsketch_free(pr->ts_off);
  doppel_ddsketch_free(pr->num);
  doppel_ddsketch_free(pr->slen);
  doppel_ddsketch_free(pr->alen);
  dp_ext_release(&pr->num_hi);
  dp_ext_release(&pr->num_lo);
  dp_ext_release(&pr->slen_hi);
  dp_ext_release(&pr->alen_hi);
  dp_kc_release(&pr->values);
  dp_kc_release(&pr->patterns);
  doppel_hll_free(pr->distinct);
  doppel_hll_free(pr->pat_distinct);
  free(pr->kset);
}

void doppel_profiler_free(doppel_profiler *p) {
  if (!p) return;
  for (size_t i = 0; i < p->n_files; i++) free(p->files[i].name);
  free(p->files);
  doppel_keyed_free(p->keyed);
  doppel_hll_free(p->users_hll);
  doppel_hll_free(p->devices_hll);
  for (size_t i = 0; i < p->n_users; i++) free(p->users[i].cs);
  free(p->users);
  free(p->uindex);
  free(p->ucache_key);
  free(p->ucache_val);
  free(p->ecache);
  free(p->icache);
  for (int l = 0; l < DP_LEVELS; l++) dp_seq_free(p->seq[l]);
  for (size_t i = 0; i < p->n_ev; i++) {
    free(p->ev[i].name);
    doppel_hll_free(p->ev[i].users);
    free(p->ev[i].kset);
  }
  free(p->ev);
  free(p->evindex);
  free(p->days);
  for (size_t i = 0; i < p->n_gp; i++) {
    free(p->gp[i].path);
    free(p->gp[i].kset);
  }
  free(p->gp);
  free(p->gpindex);
  for (size_t i = 0; i < p->n_props; i++) prop_release(&p->props[i]);
  free(p->props);
  free(p->pindex);
  for (int i = 0; i < 4; i++) {
    doppel_ddsketch_free(p->ids[i].len);
    doppel_hll_free(p->ids[i].distinct);
    doppel_hll_free(p->ids[i].pat_distinct);
    dp_kc_release(&p->ids[i].patterns);
    dp_ext_release(&p->ids[i].len_hi);
    dp_ext_release(&p->ids[i].len_lo);
  }
  free(p->ins_key);
  free(p->ins_val);
  doppel_json_doc_release(&p->doc);
  dp_buf_release(&p->scratch);
  dp_buf_release(&p->path);
  dp_buf_release(&p->idbuf);
  free(p->prop_mark);
  free(p->csv_names);
  free(p->csv_lens);
  free(p->csv_names_buf);
  free(p->fields);
  free(p);
}

/* ---- source bookkeeping ---- */

static const char *base_name(const char *s) {
  const char *b = strrchr(s, '/');
  return b ? b + 1 : s;
}

doppel_status doppel_profiler_begin_file(doppel_profiler *p, const char *name, doppel_diag *diag) {
  if (p->n_files == DP_MAX_FILES) return DOPPEL_OK; /* further files are summed into the totals only */
  if (p->n_files == p->cap_files) {
    size_t nc = p->cap_files ? p->cap_files * 2 : 8;
    dp_file *nf = realloc(p->files, nc * sizeof *nf);
    if (!nf) return dp_diag_set(diag, DOPPEL_E_NOMEM, NULL, 0, 0, NULL);
    p->files = nf;
    p->cap_files = nc;
  }
  p->files[p->n_files].name = strdup(base_name(name));
  if (!p->files[p->n_files].name) return dp_diag_set(diag, DOPPEL_E_NOMEM, NULL, 0, 0, NULL);
  p->files[p->n_files].records = p->files[p->n_files].bytes = 0;
  p->n_files++;
  return DOPPEL_OK;
}

void doppel_profiler_end_file(doppel_profiler *p, uint64_t records, uint64_t bytes) {
  p->records += records;
  p->bytes += bytes;
  if (p->n_files) {
    p->files[p->n_files - 1].records = records;
    p->files[p->n_files - 1].bytes = bytes;
  }
}

void doppel_profiler_set_evidence(doppel_profiler *p, const char *evidence) {
  snprintf(p->evidence, sizeof p->evidence, "%s", evidence ? evidence : "");
}

void dp_errkind_add(doppel_profiler *p, const char *kind, uint64_t count, const char *pos) {
  size_t i;
  for (i = 0; i < p->n_errk; i++)
    if (!strcmp(p->errk[i].kind, kind)) break;
  if (i == p->n_errk) {
    if (p->n_errk == DP_MAX_ERR_KINDS) i = DP_MAX_ERR_KINDS - 1;
    else {
      snprintf(p->errk[i].kind, sizeof p->errk[i].kind, "%s", kind);
      p->n_errk++;
    }
  }
  p->errk[i].count += count;
  if (pos && p->errk[i].n_lines < 10)
    snprintf(p->errk[i].lines[p->errk[i].n_lines++], sizeof p->errk[i].lines[0], "%s", pos);
}

void doppel_profiler_malformed(doppel_profiler *p, const char *source, uint64_t line,
                               const char *kind) {
  char pos[96];
  snprintf(pos, sizeof pos, "%s:%llu", base_name(source ? source : ""), (unsigned long long)line);
  p->malformed++;
  dp_errkind_add(p, kind && *kind ? kind : "malformed record", 1, pos);
}

/* ---- user hashing ---- */

static uint64_t user_hash(doppel_profiler *p, const char *id, size_t n) {
  uint64_t h = doppel_sketch_hash64(id, n);
  if (!p->keyed) return h;
  size_t slot = (size_t)(h & (UCACHE_SIZE - 1));
  if (p->ucache_key[slot] == h && p->ucache_val[slot]) return p->ucache_val[slot];
  uint8_t d[32];
  uint64_t u = h;
  if (doppel_keyed_digest(p->keyed, id, n, d) == DOPPEL_OK) {
    u = 0;
    for (int i = 0; i < 8; i++) u = u << 8 | d[i];
  }
  p->ucache_key[slot] = h;
  p->ucache_val[slot] = u ? u : 1;
  return p->ucache_val[slot];
}

/* ---- event names ---- */

static int looks_dynamic(const char *s, size_t n) {
  size_t digits = 0, run = 0, maxrun = 0;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c >= '0' && c <= '9') {
      digits++;
      if (++run > maxrun) maxrun = run;
    } else {
      run = 0;
    }
    if (c == '/' && i + 1 < n && s[i + 1] == '/') return 1; /* URL */
    if (c == '@') return 1;
  }
  if (maxrun >= 4) return 1;
  if (n >= 8 && digits * 3 >= n) return 1;
  if (doppel_pii_is_uuid(s, n)) return 1;
  /* a long hex-like run */
  size_t hex = 0;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')) {
      if (++hex >= 12) return 1;
    } else {
      hex = 0;
    }
  }
  return 0;
}

static int text_has_pii(const char *s, size_t n) {
  if (doppel_pii_classify_value(s, n) != DOPPEL_PII_NONE) {
    doppel_pii_kind k = doppel_pii_classify_value(s, n);
    if (k != DOPPEL_PII_UUID) return 1;
  }
  doppel_pii_match m[4];
  return doppel_pii_find(s, n, m, 4) > 0;
}

/* Personal data used as a key anywhere in a path. Keys may hold dots
 * (e-mails, IPv4 addresses, domains), so every run of whole segments is
 * checked: "a.198.51.100.77.n" finds the IPv4 address "198.51.100.77". */
static int key_has_pii(const char *path, size_t n) {
  if (n < 3) return 0;
  if (text_has_pii(path, n)) return 1;
  size_t starts[33], ns = 0;
  starts[ns++] = 0;
  for (size_t i = 0; i < n && ns < 33; i++)
    if (path[i] == '.') starts[ns++] = i + 1;
  for (size_t a = 0; a < ns; a++)
    for (size_t b = a; b < ns; b++) {
      size_t end = b + 1 < ns ? starts[b + 1] - 1 : n; /* segment b's end */
      if (b + 1 >= ns && ns == 33) end = n;
      if (end - starts[a] >= 3 && text_has_pii(path + starts[a], end - starts[a])) return 1;
    }
  return 0;
}

static doppel_status grow_index(uint32_t **index, size_t *cap, size_t n_used, const void *items,
                                size_t item_size, size_t hash_off) {
  if ((n_used + 1) * 2 <= *cap) return DOPPEL_OK;
  size_t nc = *cap ? *cap * 2 : 1024;
  uint32_t *ni = calloc(nc, sizeof *ni);
  if (!ni) return DOPPEL_E_NOMEM;
  for (size_t i = 0; i < n_used; i++) {
    uint64_t h;
    memcpy(&h, (const char *)items + i * item_size + hash_off, sizeof h);
    size_t q = (size_t)(h & (nc - 1));
    while (ni[q]) q = (q + 1) & (nc - 1);
    ni[q] = (uint32_t)i + 1;
  }
  free(*index);
  *index = ni;
  *cap = nc;
  return DOPPEL_OK;
}

doppel_status dp_event_index(doppel_profiler *p, const char *name, size_t n, uint32_t *out) {
  uint64_t h = doppel_sketch_hash64(name, n);
  if (p->evcap) {
    size_t q = (size_t)(h & (p->evcap - 1));
    while (p->evindex[q]) {
      dp_event *e = &p->ev[p->evindex[q] - 1];
      if (e->hash == h && e->len == n && memcmp(e->name, name, n) == 0) {
        *out = p->evindex[q] - 1;
        return DOPPEL_OK;
      }
      q = (q + 1) & (p->evcap - 1);
    }
  }
  if (p->n_ev >= DOPPEL_PROFILE_MAX_NAMES) {
    *out = DP_EV_OTHER;
    return DOPPEL_OK;
  }
  doppel_status st = grow_index(&p->evindex, &p->evcap, p->n_ev, p->ev, sizeof *p->ev,
                                offsetof(dp_event, hash));
  if (st != DOPPEL_OK) return st;
  if (p->n_ev == p->cap_ev) {
    size_t nc = p->cap_ev ? p->cap_ev * 2 : 64;
    dp_event *ne = realloc(p->ev, nc * sizeof *ne);
    if (!ne) return DOPPEL_E_NOMEM;
    p->ev = ne;
    p->cap_ev = nc;
  }
  dp_event *e = &p->ev[p->n_ev];
  memset(e, 0, sizeof *e);
  e->name = malloc(n ? n : 1);
  e->kset = malloc((size_t)p->k * sizeof *e->kset);
  if (!e->name || !e->kset || doppel_hll_new(&e->users, 12, NULL) != DOPPEL_OK) {
    free(e->name);
    free(e->kset);
    return DOPPEL_E_NOMEM;
  }
  memcpy(e->name, name, n);
  e->len = (uint32_t)n;
  e->hash = h;
  e->pii = (uint8_t)text_has_pii(name, n);
  e->dynamic = (uint8_t)(e->pii || looks_dynamic(name, n));
  size_t q = (size_t)(h & (p->evcap - 1));
  while (p->evindex[q]) q = (q + 1) & (p->evcap - 1);
  p->evindex[q] = (uint32_t)p->n_ev + 1;
  *out = (uint32_t)p->n_ev++;
  return DOPPEL_OK;
}

/* ---- global paths ---- */

static int path_eq(const char *a, const char *b, size_t bn) {
  return a && strlen(a) == bn && memcmp(a, b, bn) == 0;
}

static uint8_t canon_of(const doppel_profiler *p, const char *path, size_t n) {
  const doppel_field_map *m = p->map;
  if (path_eq(m->user_id, path, n) || path_eq(m->user_id_alt, path, n)) return DP_CANON_USER;
  if (path_eq(m->device_id, path, n)) return DP_CANON_DEVICE;
  if (path_eq(m->event, path, n)) return DP_CANON_EVENT;
  if (path_eq(m->time, path, n)) return DP_CANON_TIME;
  if (path_eq(m->session_id, path, n)) return DP_CANON_SESSION;
  if (path_eq(m->insert_id, path, n)) return DP_CANON_INSERT;
  if (m->ip_fields)
    for (size_t i = 0; m->ip_fields[i]; i++)
      if (path_eq(m->ip_fields[i], path, n)) return DP_CANON_IP;
  return DP_CANON_NONE;
}

/* naming style of a name: 0 snake/lower, 1 camelCase, 2 PascalCase, 3 "Title Case", 4 "lower words", 5 other */
int dp_name_style(const char *s, size_t n) {
  int lower = 0, upper = 0, space = 0, under = 0, dash = 0, other = 0;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c >= 'a' && c <= 'z') lower = 1;
    else if (c >= 'A' && c <= 'Z') upper = 1;
    else if (c == ' ') space = 1;
    else if (c == '_') under = 1;
    else if (c == '-') dash = 1;
    else if (!(c >= '0' && c <= '9') && c != '$' && c != '.') other = 1;
  }
  (void)dash;
  if (other || n == 0) return 5;
  if (space) return upper ? 3 : 4;
  if (!upper) return 0;
  if (under) return 5;
  unsigned char c0 = (unsigned char)s[0];
  if (c0 == '$' && n > 1) c0 = (unsigned char)s[1];
  return (c0 >= 'A' && c0 <= 'Z') ? (lower ? 2 : 5) : (lower ? 1 : 5);
}

#define DP_PATH_H0 UINT64_C(0x9ae16a3b2f90404f)

/* Fold the '.'-separated segments of s[0..n) into a path hash. */
uint64_t dp_path_hash_fold(uint64_t h, const char *s, size_t n) {
  size_t a = 0;
  for (;;) {
    const char *dot = memchr(s + a, '.', n - a);
    size_t b = dot ? (size_t)(dot - s) : n;
    h = dp_sketch_mix64(h ^ doppel_sketch_hash64(s + a, b - a)) + UINT64_C(0x2545f4914f6cdd1d);
    if (!dot) return h;
    a = b + 1;
  }
}

doppel_status dp_gpath_index(doppel_profiler *p, const char *path, size_t n, uint32_t *out) {
  return dp_gpath_index_h(p, path, n, n ? dp_path_hash_fold(DP_PATH_H0, path, n) : DP_PATH_H0, out);
}

doppel_status dp_gpath_index_h(doppel_profiler *p, const char *path, size_t n, uint64_t h, uint32_t *out) {
  if (p->gpcap) {
    size_t q = (size_t)(h & (p->gpcap - 1));
    while (p->gpindex[q]) {
      dp_gpath *g = &p->gp[p->gpindex[q] - 1];
      if (g->hash == h && g->len == n && memcmp(g->path, path, n) == 0) {
        *out = p->gpindex[q] - 1;
        return DOPPEL_OK;
      }
      q = (q + 1) & (p->gpcap - 1);
    }
  }
  if (p->n_gp >= DOPPEL_PROFILE_MAX_PATHS) {
    *out = UINT32_MAX;
    return DOPPEL_OK;
  }
  doppel_status st = grow_index(&p->gpindex, &p->gpcap, p->n_gp, p->gp, sizeof *p->gp,
                                offsetof(dp_gpath, hash));
  if (st != DOPPEL_OK) return st;
  if (p->n_gp == p->cap_gp) {
    size_t nc = p->cap_gp ? p->cap_gp * 2 : 64;
    dp_gpath *ng = realloc(p->gp, nc * sizeof *ng);
    if (!ng) return DOPPEL_E_NOMEM;
    p->gp = ng;
    p->cap_gp = nc;
  }
  dp_gpath *g = &p->gp[p->n_gp];
  memset(g, 0, sizeof *g);
  g->path = malloc(n + 1);
  g->kset = malloc((size_t)p->k * sizeof *g->kset);
  if (!g->path || !g->kset) {
    free(g->path);
    free(g->kset);
    return DOPPEL_E_NOMEM;
  }
  memcpy(g->path, path, n);
  g->path[n] = '\0';
  g->len = (uint32_t)n;
  g->hash = h;
  g->canon = canon_of(p, path, n);
  /* the last segment names the field; any segment that is personal data marks the path */
  size_t s = n;
  while (s > 0 && path[s - 1] != '.') s--;
  g->name_kind = (uint8_t)doppel_pii_classify_name(path + s, n - s);
  /* personal data used as a key: anywhere in the path (keys may hold dots) */
  g->key_pii = (uint8_t)key_has_pii(path, n);
  size_t q = (size_t)(h & (p->gpcap - 1));
  while (p->gpindex[q]) q = (q + 1) & (p->gpcap - 1);
  p->gpindex[q] = (uint32_t)p->n_gp + 1;
  *out = (uint32_t)p->n_gp++;
  return DOPPEL_OK;
}

/* ---- properties ---- */

doppel_status dp_prop_init(doppel_profiler *p, dp_prop *pr) {
  if (dp_ext_init(&pr->num_hi, p->k, 0) != DOPPEL_OK || dp_ext_init(&pr->num_lo, p->k, 1) != DOPPEL_OK ||
      dp_ext_init(&pr->slen_hi, p->k, 0) != DOPPEL_OK || dp_ext_init(&pr->alen_hi, p->k, 0) != DOPPEL_OK ||
      dp_kc_init(&pr->values, 1024, p->k, 1) != DOPPEL_OK ||
      dp_kc_init(&pr->patterns, 256, p->k, 1) != DOPPEL_OK ||
      doppel_hll_new(&pr->distinct, 10, NULL) != DOPPEL_OK ||
      doppel_hll_new(&pr->pat_distinct, 8, NULL) != DOPPEL_OK ||
      !(pr->kset = malloc((size_t)p->k * sizeof *pr->kset))) {
    prop_release(pr);
    return DOPPEL_E_NOMEM;
  }
  return DOPPEL_OK;
}

void dp_prop_release(dp_prop *pr) { prop_release(pr); }

doppel_status dp_prop_index(doppel_profiler *p, uint32_t event, uint32_t gpath, uint32_t *out) {
  uint64_t h = dp_hash_mix((uint64_t)event << 32 | gpath, 0x70726f70);
  if (p->pcap) {
    size_t q = (size_t)(h & (p->pcap - 1));
    while (p->pindex[q]) {
      dp_prop *pr = &p->props[p->pindex[q] - 1];
      if (pr->hash == h && pr->event == event && pr->gpath == gpath) {
        *out = p->pindex[q] - 1;
        return DOPPEL_OK;
      }
      q = (q + 1) & (p->pcap - 1);
    }
  }
  if (p->n_props >= DOPPEL_PROFILE_MAX_PATHS) {
    *out = UINT32_MAX;
    return DOPPEL_OK;
  }
  doppel_status st = grow_index(&p->pindex, &p->pcap, p->n_props, p->props, sizeof *p->props,
                                offsetof(dp_prop, hash));
  if (st != DOPPEL_OK) return st;
  if (p->n_props == p->cap_props) {
    size_t nc = p->cap_props ? p->cap_props * 2 : 64;
    dp_prop *np = realloc(p->props, nc * sizeof *np);
    if (!np) return DOPPEL_E_NOMEM;
    p->props = np;
    p->cap_props = nc;
  }
  dp_prop *pr = &p->props[p->n_props];
  memset(pr, 0, sizeof *pr);
  pr->event = event;
  pr->gpath = gpath;
  pr->hash = h;
  if ((st = dp_prop_init(p, pr)) != DOPPEL_OK) return st;
  size_t q = (size_t)(h & (p->pcap - 1));
  while (p->pindex[q]) q = (q + 1) & (p->pcap - 1);
  p->pindex[q] = (uint32_t)p->n_props + 1;
  *out = (uint32_t)p->n_props++;
  return DOPPEL_OK;
}

/* ---- users ---- */

static size_t uslot(const doppel_profiler *p, uint64_t h) {
  size_t m = p->ucap - 1;
  size_t q = (size_t)(dp_sketch_mix64(h) & m);
  while (p->uindex[q] && p->users[p->uindex[q] - 1].hash != h) q = (q + 1) & m;
  return q;
}

doppel_status dp_users_rehash(doppel_profiler *p, size_t want_cap) {
  size_t nc = pow2_at_least(want_cap);
  uint32_t *ni = calloc(nc, sizeof *ni);
  if (!ni) return DOPPEL_E_NOMEM;
  free(p->uindex);
  p->uindex = ni;
  p->ucap = nc;
  for (size_t i = 0; i < p->n_users; i++) p->uindex[uslot(p, p->users[i].hash)] = (uint32_t)i + 1;
  return DOPPEL_OK;
}

dp_user *dp_user_find(doppel_profiler *p, uint64_t h) {
  if (!p->ucap) return NULL;
  size_t q = uslot(p, h);
  return p->uindex[q] ? &p->users[p->uindex[q] - 1] : NULL;
}

/* Drop every user of level < p->drop_level (and sequence levels below it). */
void dp_users_drop_levels(doppel_profiler *p) {
  size_t w = 0;
  for (size_t i = 0; i < p->n_users; i++) {
    if (p->users[i].level < p->drop_level) {
      if (p->users[i].in_const) p->n_const--;
      free(p->users[i].cs);
      continue;
    }
    p->users[w++] = p->users[i];
  }
  p->n_users = w;
  for (uint32_t l = 0; l < p->drop_level && l < DP_LEVELS; l++) {
    dp_seq_free(p->seq[l]);
    p->seq[l] = NULL;
  }
  dp_users_rehash(p, p->ucap); /* same capacity: cannot fail worse than before */
}

/* Shrink the constancy sample to at most DOPPEL_PROFILE_CONST_USERS users. */
void dp_const_shrink(doppel_profiler *p) {
  while (p->n_const > DOPPEL_PROFILE_CONST_USERS && p->const_drop < DP_LEVELS - 1) {
    p->const_drop++;
    for (size_t i = 0; i < p->n_users; i++) {
      dp_user *u = &p->users[i];
      if (u->in_const && u->level < p->const_drop) {
        u->in_const = 0;
        free(u->cs);
        u->cs = NULL;
        u->n_cs = u->cap_cs = 0;
        p->n_const--;
      }
    }
  }
}

static doppel_status user_get(doppel_profiler *p, uint64_t h, dp_user **out) {
  *out = NULL;
  uint32_t level = dp_level_of(h);
  if (level < p->drop_level) return DOPPEL_OK;
  if (p->ucap) {
    size_t q = uslot(p, h);
    if (p->uindex[q]) {
      *out = &p->users[p->uindex[q] - 1];
      return DOPPEL_OK;
    }
  }
  if (p->n_users >= p->max_users) {
    /* halve the sample until there is room, then retry */
    while (p->n_users >= p->max_users && p->drop_level < DP_LEVELS - 1) {
      p->drop_level++;
      dp_users_drop_levels(p);
    }
    if (level < p->drop_level) return DOPPEL_OK;
  }
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
  dp_user *u = &p->users[p->n_users];
  memset(u, 0, sizeof *u);
  u->hash = h;
  u->level = (uint8_t)level;
  u->min_gap = -1;
  if (level >= p->const_drop) {
    u->in_const = 1;
    p->n_const++;
  }
  p->uindex[uslot(p, h)] = (uint32_t)p->n_users + 1;
  p->n_users++;
  *out = u;
  if (p->n_const > DOPPEL_PROFILE_CONST_USERS) {
    dp_const_shrink(p);
  }
  return DOPPEL_OK;
}

/* ---- sessions ---- */

const uint32_t dp_lenbin_lo[DP_LENBINS + 1] = {1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 129, 257, 1025, UINT32_MAX};

uint32_t dp_lenbin_of(uint32_t len) {
  uint32_t b = 0;
  while (b + 1 < DP_LENBINS && len >= dp_lenbin_lo[b + 1]) b++;
  return b;
}

static void sess_start(dp_sess *s, int64_t t, uint32_t ev) {
  s->start = s->end = t;
  s->events = 1;
  s->first[0] = ev;
  s->first[1] = s->first[2] = DP_EV_NONE;
  s->last = ev;
}

uint64_t dp_path_key(const uint32_t steps[3]) {
  return dp_hash_mix(((uint64_t)steps[0] << 32) | steps[1], steps[2] + 0x7061746800000000ULL);
}

/* Add a finished session to its user's level statistics; which = 'S' (tail
 * flags) or 'H' (head flags) for session constancy. */
doppel_status dp_sess_finalize(doppel_profiler *p, dp_user *u, const dp_sess *s, int which) {
  dp_seq *q;
  doppel_status st = dp_seq_get(p, u->level, &q);
  if (st != DOPPEL_OK) return st;
  q->sessions++;
  double dur = (double)(s->end - s->start) / 1e6;
  if ((st = doppel_ddsketch_add(q->sess_events, (double)s->events)) != DOPPEL_OK) return st;
  if ((st = doppel_ddsketch_add(q->sess_dur, dur)) != DOPPEL_OK) return st;
  q->start_how[dp_how_of(s->start)]++;
  uint32_t f = s->first[0], l = s->last;
  uint32_t fi = f == DP_EV_OTHER ? 0 : f, li = l == DP_EV_OTHER ? 0 : l;
  (void)fi;
  (void)li;
  if (f != DP_EV_OTHER) {
    if ((st = dp_seq_ensure_ev(q, f)) != DOPPEL_OK) return st;
    q->sess_first[f]++;
  }
  if (l != DP_EV_OTHER) {
    if ((st = dp_seq_ensure_ev(q, l)) != DOPPEL_OK) return st;
    q->trans_from[l]++;
    if ((st = dp_kc_add(&q->trans, (uint64_t)l << 32 | DP_EV_END, NULL, 0, 0, u->hash, 1)) != DOPPEL_OK)
      return st;
  }
  uint32_t steps[3];
  for (int i = 0; i < 3; i++) steps[i] = s->first[i] == DP_EV_NONE ? DP_EV_END : s->first[i];
  if (steps[1] == DP_EV_END) steps[2] = DP_EV_NONE;
  char packed[12];
  memcpy(packed, steps, sizeof steps);
  if ((st = dp_kc_add(&q->paths, dp_path_key(steps), packed, sizeof packed, 0, u->hash, 1)) != DOPPEL_OK)
    return st;
  if (s->events > u->max_sess_events) u->max_sess_events = s->events;
  uint32_t lb = dp_lenbin_of(s->events);
  if (u->lenbins[lb] < UINT16_MAX) u->lenbins[lb]++;
  if (dur > u->max_sess_dur) u->max_sess_dur = dur;
  /* session constancy */
  uint8_t f1 = which == 'H' ? DP_CS_H1 : DP_CS_S1, f2 = which == 'H' ? DP_CS_H2 : DP_CS_S2,
          fch = which == 'H' ? DP_CS_HCH : DP_CS_SCH;
  for (uint16_t i = 0; i < u->n_cs; i++) {
    dp_cslot *c = &u->cs[i];
    if (c->flags & f2) {
      if ((st = dp_seq_ensure_gp(q, c->gpath)) != DOPPEL_OK) return st;
      q->sess_with[c->gpath]++;
      if (!(c->flags & fch)) q->sess_const[c->gpath]++;
    }
    c->flags &= (uint8_t)~(f1 | f2 | fch);
  }
  return DOPPEL_OK;
}

/* Move the tail session's constancy flags to the head's. */
void dp_cs_tail_to_head(dp_user *u) {
  for (uint16_t i = 0; i < u->n_cs; i++) {
    dp_cslot *c = &u->cs[i];
    uint8_t f = c->flags;
    uint8_t h = (uint8_t)(((f & DP_CS_S1) ? DP_CS_H1 : 0) | ((f & DP_CS_S2) ? DP_CS_H2 : 0) |
                          ((f & DP_CS_SCH) ? DP_CS_HCH : 0));
    c->flags = (uint8_t)((f & (DP_CS_U2 | DP_CS_UCH)) | h);
    c->hval = c->sval;
  }
}

static void daybits_shift(uint64_t *bits, uint32_t by) {
  if (by >= DP_DAYBITS_WORDS * 64) {
    memset(bits, 0, DP_DAYBITS_WORDS * sizeof *bits);
    return;
  }
  uint32_t w = by / 64, b = by % 64;
  for (int i = DP_DAYBITS_WORDS - 1; i >= 0; i--) {
    uint64_t v = 0;
    int src = i - (int)w;
    if (src >= 0) {
      v = bits[src] << b;
      if (b && src > 0) v |= bits[src - 1] >> (64 - b);
    }
    bits[i] = v;
  }
}

void dp_daybits_shift(uint64_t *bits, uint32_t by) { daybits_shift(bits, by); }

static doppel_status user_event(doppel_profiler *p, dp_user *u, uint32_t ev, int64_t t) {
  int32_t day = dp_day_of(t);
  doppel_status st;
  if (u->events == 0) {
    u->first_us = u->last_us = t;
    u->first_day = u->last_day = day;
    u->active_days = 1;
    u->daybits[0] = 1;
    u->sessions = 1;
    sess_start(&u->tail, t, ev);
    u->events = 1;
    return DOPPEL_OK;
  }
  /* days and retention use the event's own time */
  if (day < u->first_day) {
    daybits_shift(u->daybits, (uint32_t)(u->first_day - day));
    u->first_day = day;
    u->daybits[0] |= 1;
    u->active_days++;
  } else {
    uint32_t d = (uint32_t)(day - u->first_day);
    if (d < DP_DAYBITS_WORDS * 64) {
      if (!(u->daybits[d / 64] >> (d % 64) & 1)) {
        u->daybits[d / 64] |= UINT64_C(1) << (d % 64);
        u->active_days++;
      }
    } else if (day > u->last_day) {
      u->active_days++;
    }
  }
  if (day > u->last_day) u->last_day = day;
  if (t < u->first_us) u->first_us = t;
  u->events++;
  /* sequencing: a late event is placed at the user's latest time */
  int64_t ts = t;
  if (t < u->last_us) {
    u->late++;
    ts = u->last_us;
  }
  int64_t gap = ts - u->last_us;
  if (gap > p->gap_us) {
    if (u->sessions == 1) {
      u->head = u->tail;
      dp_cs_tail_to_head(u);
    } else if ((st = dp_sess_finalize(p, u, &u->tail, 'S')) != DOPPEL_OK) {
      return st;
    }
    sess_start(&u->tail, ts, ev);
    u->sessions++;
  } else {
    dp_seq *q;
    if ((st = dp_seq_get(p, u->level, &q)) != DOPPEL_OK) return st;
    uint32_t from = u->tail.last;
    if (from != DP_EV_OTHER) {
      if ((st = dp_seq_ensure_ev(q, from)) != DOPPEL_OK) return st;
      q->trans_from[from]++;
      if ((st = dp_kc_add(&q->trans, (uint64_t)from << 32 | ev, NULL, 0, 0, u->hash, 1)) != DOPPEL_OK)
        return st;
    }
    double g = (double)gap / 1e6;
    if ((st = doppel_ddsketch_add(q->gaps, g)) != DOPPEL_OK) return st;
    if (g > u->max_gap) u->max_gap = g;
    if (u->min_gap < 0 || g < u->min_gap) u->min_gap = g;
    if (gap < 1000000) u->fast_gaps++;
    u->tail.events++;
    u->tail.end = ts;
    if (u->tail.events <= 3) u->tail.first[u->tail.events - 1] = ev;
    u->tail.last = ev;
  }
  if (ts > u->last_us) u->last_us = ts;
  return DOPPEL_OK;
}

/* ---- constancy ---- */

static doppel_status cs_update(dp_user *u, uint32_t gpath, uint32_t vh) {
  dp_cslot *c = NULL;
  for (uint16_t i = 0; i < u->n_cs; i++)
    if (u->cs[i].gpath == gpath) {
      c = &u->cs[i];
      break;
    }
  if (!c) {
    if (u->n_cs >= CONST_MAX_SLOTS) return DOPPEL_OK;
    if (u->n_cs == u->cap_cs) {
      uint16_t nc = u->cap_cs ? (uint16_t)(u->cap_cs * 2) : 4;
      dp_cslot *ns = realloc(u->cs, nc * sizeof *ns);
      if (!ns) return DOPPEL_E_NOMEM; /* never a silently different constancy */
      u->cs = ns;
      u->cap_cs = nc;
    }
    c = &u->cs[u->n_cs++];
    memset(c, 0, sizeof *c);
    c->gpath = gpath;
    c->uval = c->sval = vh;
    c->flags = DP_CS_S1;
    return DOPPEL_OK;
  }
  c->flags |= DP_CS_U2;
  if (vh != c->uval) c->flags |= DP_CS_UCH;
  if (!(c->flags & DP_CS_S1)) {
    c->flags |= DP_CS_S1;
    c->sval = vh;
  } else {
    c->flags |= DP_CS_S2;
    if (vh != c->sval) c->flags |= DP_CS_SCH;
  }
  return DOPPEL_OK;
}

/* ---- value classification ---- */

/* character classes for patterns: letters a/A, digits 9, whitespace ' ',
 * controls ?, non-ASCII u (one per character), others stand for themselves;
 * runs of a, A, 9, u and whitespace (one space) collapse. */
static const char pat_class[256] = {
#define R4(x) x, x, x, x
#define R16(x) R4(x), R4(x), R4(x), R4(x)
    /* 0x00-0x1f */ '?', '?', '?', '?', '?', '?', '?', '?', '?', ' ', ' ', '?', '?', ' ', '?', '?', R16('?'),
    /* 0x20-0x2f */ ' ', '!', '"', '#', '$', '%', '&', '\'', '(', ')', '*', '+', ',', '-', '.', '/',
    /* 0x30-0x3f */ '9', '9', '9', '9', '9', '9', '9', '9', '9', '9', ':', ';', '<', '=', '>', '?',
    /* 0x40-0x5f */ '@', 'A', 'A', 'A', 'A', 'A', 'A', 'A', 'A', 'A', 'A', 'A', 'A', 'A', 'A', 'A',
                    'A', 'A', 'A', 'A', 'A', 'A', 'A', 'A', 'A', 'A', 'A', '[', '\\', ']', '^', '_',
    /* 0x60-0x7f */ '`', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a',
                    'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', '{', '|', '}', '~', '?',
    /* 0x80-0xff */ R16('c'), R16('c'), R16('c'), R16('c'), R16('u'), R16('u'), R16('u'), R16('u'),
#undef R16
#undef R4
};

void dp_string_pattern(const char *s, size_t n, char *out, size_t *out_len) {
  size_t o = 0;
  char prev = 0;
  const unsigned char *u = (const unsigned char *)s;
  size_t scan = n > 64 ? 64 : n; /* the shape of the first 64 bytes */
  for (size_t i = 0; i < scan; i++) {
    char cls = pat_class[u[i]];
    if (cls == 'c') continue; /* UTF-8 continuation byte: part of the previous 'u' */
    if (cls == prev && (cls == 'a' || cls == 'A' || cls == '9' || cls == 'u' || cls == ' ')) continue;
    if (o == 32) {
      out[o++] = '~'; /* truncated pattern */
      break;
    }
    out[o++] = cls;
    prev = cls;
  }
  if (scan < n && o < 33 && (o == 0 || out[o - 1] != '~')) out[o++] = '~';
  *out_len = o;
}

/* a DNS host name: letters, digits and '-' in dot-separated labels, the last one starting with a letter */
static int is_hostname(const char *s, size_t n) {
  if (n < 4 || n > 253 || s[0] == '.' || s[n - 1] == '.') return 0;
  int dots = 0;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '.') {
      if (s[i - 1] == '.') return 0;
      dots++;
    } else if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-')) {
      return 0;
    }
  }
  if (!dots) return 0;
  size_t j = n;
  while (j > 0 && s[j - 1] != '.') j--;
  unsigned char c = (unsigned char)s[j];
  return (c | 32) >= 'a' && (c | 32) <= 'z';
}

/* identifier kind: 0 email, 1 uuid, 2 hex, 3 ipv4, 4 ipv6, 5 hostname, 6 integer, 7 string */
static int id_kind(const char *s, size_t n) {
  if (n == 0) return 7;
  if (doppel_pii_is_email(s, n)) return 0;
  if (doppel_pii_is_uuid(s, n)) return 1;
  if (doppel_pii_is_ipv4(s, n)) return 3;
  if (doppel_pii_is_ipv6(s, n)) return 4;
  int digits = 1, hex = 1, host = n >= 4, dots = 0;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (!(c >= '0' && c <= '9')) digits = 0;
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) hex = 0;
    if (c == '.') dots++;
    else if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-'))
      host = 0;
  }
  if (digits) return 6;
  if (hex && n >= 8) return 2;
  if (host && dots >= 1 && s[n - 1] != '.' && s[0] != '.') {
    /* the last label has letters */
    size_t j = n;
    while (j > 0 && s[j - 1] != '.') j--;
    unsigned char c = (unsigned char)s[j];
    if ((c | 32) >= 'a' && (c | 32) <= 'z') return 5;
  }
  return 7;
}

int dp_id_kind(const char *s, size_t n) { return id_kind(s, n); }

static doppel_status id_stat(doppel_profiler *p, int which, const char *s, size_t n, uint64_t u) {
  struct dp_idstat *x = &p->ids[which];
  x->present++;
  doppel_status st = doppel_ddsketch_add(x->len, (double)n);
  if (st != DOPPEL_OK) return st;
  dp_ext_add(&x->len_hi, u, (double)n);
  dp_ext_add(&x->len_lo, u, (double)n);
  uint64_t h = doppel_sketch_hash64(s, n);
  doppel_hll_add_hash(x->distinct, h);
  /* ids repeat (one user, many events): cache kind and pattern */
  uint64_t key = dp_hash_mix(h, (uint64_t)which) | 1;
  dp_icache *c = &p->icache[(key >> 9) & (DP_ICACHE_SIZE - 1)];
  if (c->key != key) {
    c->key = key;
    c->kind = (uint8_t)id_kind(s, n);
    size_t pl;
    dp_string_pattern(s, n, c->pat, &pl);
    c->patlen = (uint8_t)pl;
    c->pathash = doppel_sketch_hash64(c->pat, pl);
  }
  x->kinds[c->kind]++;
  doppel_hll_add_hash(x->pat_distinct, c->pathash);
  return dp_kc_add(&x->patterns, c->pathash, c->pat, c->patlen, 0, u, 1);
}

/* Privacy evidence bits of a string: bit k of *match for a whole-value
 * match of kind k, bit k of *emb for embedded finds of kind k. */
static void evidence_bits(const char *s, size_t n, uint16_t *match, uint16_t *emb) {
  *match = *emb = 0;
  if (n < 3) return;
  /* hex ids, digits and timestamps: whole-value checks only */
  int plain = 1, tslike = 1;
  for (size_t i = 0; i < n && (plain || tslike); i++) {
    unsigned char c = (unsigned char)s[i];
    int hexd = (c >= '0' && c <= '9') || ((c | 32) >= 'a' && (c | 32) <= 'f') || c == '-';
    if (!hexd) plain = 0;
    if (!((c >= '0' && c <= '9') || c == '-' || c == ':' || c == 'T' || c == 'Z' || c == '+' || c == '.' || c == ' '))
      tslike = 0;
  }
  if (plain) {
    if (doppel_pii_is_uuid(s, n)) {
      *match = 1u << DP_M_UUID;
      return;
    }
    /* digits and hex letters may still be a card, an SSN, a phone (digits
     * and dashes) or an IBAN (DE89..., BE68...): whole-value checks below;
     * other hex strings (hashes, ids) are not personal data by shape */
    int letters = 0;
    for (size_t i = 0; i < n; i++) letters += (s[i] | 32) >= 'a' && (s[i] | 32) <= 'f';
    int digitlike = !letters && n <= 24;
    int ibanlike = n >= 15 && n <= 34 && letters <= 4 && (s[0] | 32) >= 'a' && (s[1] | 32) >= 'a' &&
                   s[2] >= '0' && s[2] <= '9' && s[3] >= '0' && s[3] <= '9';
    if (!digitlike && !ibanlike) {
      /* a hash or hex id: one case, digits and letters, no dashes */
      int upper = 0, digits = 0;
      for (size_t i = 0; i < n; i++) upper += s[i] >= 'A' && s[i] <= 'F', digits += s[i] >= '0' && s[i] <= '9';
      if (n >= 8 && digits && (upper == 0 || upper == letters) && !memchr(s, '-', n)) *match = 1u << DP_M_HEX;
      return;
    }
  }
  if (tslike && n >= 10 && memchr(s, ':', n)) { /* text timestamps; digit strings may be cards */
    int64_t us;
    if (doppel_time_parse(s, n, &us, NULL, NULL) == DOPPEL_OK) return;
  }
  switch (doppel_pii_classify_value(s, n)) {
    case DOPPEL_PII_EMAIL: *match = 1u << DP_M_EMAIL; return;
    case DOPPEL_PII_PHONE: *match = 1u << DP_M_PHONE; return;
    case DOPPEL_PII_IPV4: *match = 1u << DP_M_IPV4; return;
    case DOPPEL_PII_IPV6: *match = 1u << DP_M_IPV6; return;
    case DOPPEL_PII_CARD: *match = 1u << DP_M_CARD; return;
    case DOPPEL_PII_IBAN: *match = 1u << DP_M_IBAN; return;
    case DOPPEL_PII_SSN: *match = 1u << DP_M_SSN; return;
    case DOPPEL_PII_UUID: *match = 1u << DP_M_UUID; return;
    default: break;
  }
  if (plain) return; /* nothing embeds in [0-9a-f-]* that the whole-value checks missed */
  if (is_hostname(s, n)) *match = 1u << DP_M_HOSTNAME;
  doppel_pii_match m[8];
  size_t total = doppel_pii_find(s, n, m, 8);
  if (!total) return;
  size_t got = total < 8 ? total : 8;
  for (size_t i = 0; i < got; i++) {
    int kind = -1;
    switch (m[i].kind) {
      case DOPPEL_PII_EMAIL: kind = DP_M_EMAIL; break;
      case DOPPEL_PII_PHONE: kind = DP_M_PHONE; break;
      case DOPPEL_PII_IPV4: kind = DP_M_IPV4; break;
      case DOPPEL_PII_IPV6: kind = DP_M_IPV6; break;
      case DOPPEL_PII_CARD: kind = DP_M_CARD; break;
      case DOPPEL_PII_IBAN: kind = DP_M_IBAN; break;
      case DOPPEL_PII_SSN: kind = DP_M_SSN; break;
      case DOPPEL_PII_URL: kind = DP_M_URL_PERSONAL; break;
      default: break;
    }
    if (kind >= 0) *emb |= (uint16_t)(1u << kind);
  }
  *emb |= (uint16_t)(1u << DP_M_EMBEDDED);
}

/* Privacy evidence for one string value (hash vh) of a global path; the
 * bits of recent values are cached (values repeat). */
static void evidence_string(doppel_profiler *p, dp_gpath *g, const char *s, size_t n, uint64_t vh) {
  g->strings++;
  uint64_t key = vh | 1;
  dp_ecache *e = &p->ecache[(vh >> 7) & (DP_ECACHE_SIZE - 1)];
  if (e->key != key) {
    e->key = key;
    evidence_bits(s, n, &e->match, &e->emb);
  }
  for (uint16_t m = e->match; m; m &= (uint16_t)(m - 1)) g->match[__builtin_ctz(m)]++;
  for (uint16_t m = e->emb; m; m &= (uint16_t)(m - 1)) g->embedded[__builtin_ctz(m)]++;
}

/* ---- per-record walk ---- */

typedef struct walk_ctx {
  doppel_profiler *p;
  const doppel_json_doc *doc;
  uint32_t ev;          /* event index (or DP_EV_OTHER) */
  uint64_t u;           /* user hash */
  int64_t t;            /* event time (µs) */
  dp_user *user;        /* sampled user or NULL */
  uint32_t user_props;  /* node of the user-properties container (JSON) */
  uint32_t props;       /* node of the properties container (JSON) */
} walk_ctx;

static doppel_status mark_grow(doppel_profiler *p) {
  if (p->n_props <= p->cap_mark) return DOPPEL_OK;
  size_t nc = p->cap_mark ? p->cap_mark * 2 : 256;
  while (nc < p->n_props) nc *= 2;
  uint64_t *nm = realloc(p->prop_mark, nc * sizeof *nm);
  if (!nm) return DOPPEL_E_NOMEM;
  memset(nm + p->cap_mark, 0, (nc - p->cap_mark) * sizeof *nm);
  p->prop_mark = nm;
  p->cap_mark = nc;
  return DOPPEL_OK;
}

/* Property entry for the current path (UINT32_MAX: none, e.g. over the limit). */
static doppel_status prop_for(walk_ctx *w, int user_mode, uint32_t gp, uint32_t *out) {
  doppel_profiler *p = w->p;
  *out = UINT32_MAX;
  if (!user_mode && w->ev == DP_EV_OTHER) return DOPPEL_OK;
  doppel_status st = dp_prop_index(p, user_mode ? DP_PROP_USER : w->ev, gp, out);
  if (st != DOPPEL_OK) return st;
  if (*out == UINT32_MAX) {
    p->prop_overflow++;
    return DOPPEL_OK;
  }
  if ((st = mark_grow(p)) != DOPPEL_OK) return st;
  dp_prop *pr = &p->props[*out];
  if (pr->count == 0 && pr->nulls == 0 && pr->scalars == 0 && !pr->values_off) {
    /* direct identifiers by name never publish values: do not collect them */
    doppel_pii_kind nk = (doppel_pii_kind)p->gp[gp].name_kind;
    if (doppel_pii_kind_class(nk) == DOPPEL_PII_CLASS_DIRECT || p->gp[gp].key_pii) {
      pr->values_off = 1;
      dp_kc_release(&pr->values);
    }
  }
  return DOPPEL_OK;
}

static void presence(walk_ctx *w, uint32_t pi, int is_null) {
  doppel_profiler *p = w->p;
  if (p->prop_mark[pi] == p->serial) return;
  p->prop_mark[pi] = p->serial;
  dp_prop *pr = &p->props[pi];
  if (is_null) {
    pr->nulls++;
  } else {
    pr->count++;
    dp_kset_add(pr->kset, &pr->n_kset, p->k, w->u);
  }
}

/* s[0..n) is a number in JSON's grammar (no leading zeros, no '+', no hex,
 * no inf/nan): then its value into *v. */
static int numeric_text(const char *s, size_t n, double *v) {
  if (n == 0 || n > 40) return 0;
  size_t i = 0;
  if (s[i] == '-') i++;
  if (i == n || s[i] < '0' || s[i] > '9') return 0;
  if (s[i] == '0') i++;
  else
    while (i < n && s[i] >= '0' && s[i] <= '9') i++;
  if (i < n && s[i] == '.') {
    i++;
    size_t d = i;
    while (i < n && s[i] >= '0' && s[i] <= '9') i++;
    if (i == d) return 0;
  }
  if (i < n && (s[i] == 'e' || s[i] == 'E')) {
    i++;
    if (i < n && (s[i] == '+' || s[i] == '-')) i++;
    size_t d = i;
    while (i < n && s[i] >= '0' && s[i] <= '9') i++;
    if (i == d) return 0;
  }
  if (i != n) return 0;
  char buf[48];
  memcpy(buf, s, n);
  buf[n] = '\0';
  double d = strtod(buf, NULL);
  if (!isfinite(d)) return 0;
  *v = d;
  return 1;
}

/* One scalar value of property pi (global path gp). vtype: DP_T_BOOL, DP_T_INT,
 * DP_T_FLOAT or DP_T_STRING (strings that are numbers become DP_T_NUMSTR
 * unless csv, where they become DP_T_INT/DP_T_FLOAT). s: unescaped bytes. */
static doppel_status scalar(walk_ctx *w, uint32_t pi, uint32_t gp, int vtype, const char *s,
                            size_t n, int csv, int in_array) {
  doppel_profiler *p = w->p;
  dp_prop *pr = &p->props[pi];
  dp_gpath *g = &p->gp[gp];
  doppel_status st;
  double num = 0;
  int is_num = 0;
  if (vtype == DP_T_STRING) {
    if (numeric_text(s, n, &num)) {
      is_num = 1;
      if (csv) {
        int integer = 1;
        for (size_t i = 0; i < n; i++)
          if (s[i] == '.' || s[i] == 'e' || s[i] == 'E') integer = 0;
        vtype = integer ? DP_T_INT : DP_T_FLOAT;
      } else {
        vtype = DP_T_NUMSTR;
      }
    }
  } else if (vtype == DP_T_INT || vtype == DP_T_FLOAT) {
    is_num = numeric_text(s, n, &num);
    if (!is_num) {
      /* out-of-range literal such as 1e400: counted as a number, not measured */
      vtype = DP_T_FLOAT;
    }
  }
  if (in_array) pr->item_types[vtype]++;
  else pr->types[vtype]++;
  pr->scalars++;
  g->values++;
  uint64_t vh = dp_hash_mix(doppel_sketch_hash64(s, n), (uint64_t)vtype);
  if (is_num) {
    if (!pr->num && (st = doppel_ddsketch_new(&pr->num, 0, 0, NULL)) != DOPPEL_OK) return st;
    if ((st = doppel_ddsketch_add(pr->num, num)) != DOPPEL_OK && st != DOPPEL_E_DATA) return st;
    dp_ext_add(&pr->num_hi, w->u, num);
    dp_ext_add(&pr->num_lo, w->u, num);
  }
  if (vtype == DP_T_STRING || vtype == DP_T_NUMSTR) {
    if (!pr->slen && (st = doppel_ddsketch_new(&pr->slen, 0, 0, NULL)) != DOPPEL_OK) return st;
    if ((st = doppel_ddsketch_add(pr->slen, (double)n)) != DOPPEL_OK) return st;
    dp_ext_add(&pr->slen_hi, w->u, (double)n);
    if (vtype == DP_T_STRING && n >= 10 && n <= 40 && s[0] >= '0' && s[0] <= '9') {
      /* a timestamp: keep its offset from the event time */
      int64_t tus;
      if (doppel_time_parse(s, n, &tus, NULL, NULL) == DOPPEL_OK && memchr(s, '-', n) && memchr(s, ':', n)) {
        pr->ts_count++;
        if (!pr->ts_off && (st = doppel_ddsketch_new(&pr->ts_off, 0, 0, NULL)) != DOPPEL_OK) return st;
        if ((st = doppel_ddsketch_add(pr->ts_off, (double)(tus - w->t) / 1e6)) != DOPPEL_OK) return st;
      }
    }
    if (vtype == DP_T_NUMSTR) evidence_string(p, g, s, n, vh); /* "4012888888881881" */
    if (vtype == DP_T_STRING) {
      char pat[40];
      size_t pl;
      dp_string_pattern(s, n, pat, &pl);
      uint64_t ph = doppel_sketch_hash64(pat, pl);
      doppel_hll_add_hash(pr->pat_distinct, ph);
      if ((st = dp_kc_add(&pr->patterns, ph, pat, pl, 0, w->u, 1)) != DOPPEL_OK) return st;
      evidence_string(p, g, s, n, vh);
    }
  }
  doppel_hll_add_hash(pr->distinct, vh);
  if (!pr->values_off) {
    if ((st = dp_kc_add(&pr->values, vh, s, n, (uint8_t)vtype, w->u, 1)) != DOPPEL_OK) return st;
  }
  if (!in_array && w->user && w->user->in_const) return cs_update(w->user, gp, (uint32_t)vh);
  return DOPPEL_OK;
}

static doppel_status path_push(doppel_profiler *p, size_t base, const char *key, size_t kn, int escaped) {
  p->path.len = base;
  size_t seg;
  doppel_status st = dp_buf_reserve(&p->path, kn + 2);
  if (st != DOPPEL_OK) return st;
  if (base) p->path.data[p->path.len++] = '.';
  seg = p->path.len;
  if (escaped) p->path.len += doppel_json_unescape(key, kn, p->path.data + p->path.len);
  else {
    memcpy(p->path.data + p->path.len, key, kn);
    p->path.len += kn;
  }
  p->path_h[p->depth_h + 1] = dp_path_hash_fold(p->path_h[p->depth_h], p->path.data + seg, p->path.len - seg);
  return DOPPEL_OK;
}

static doppel_status walk_node(walk_ctx *w, uint32_t i, int user_mode, int in_array);

static doppel_status walk_children(walk_ctx *w, uint32_t c, int user_mode, int in_array) {
  doppel_profiler *p = w->p;
  const doppel_json_doc *doc = w->doc;
  const doppel_json_node *cn = &doc->nodes[c];
  size_t base = p->path.len;
  uint32_t d = p->depth_h;
  if (d + 1 >= DP_PATH_DEPTH) return DOPPEL_OK; /* deeper than the scanner allows anyway */
  doppel_status st;
  for (uint32_t i = c + 1; i < cn->next; i = doc->nodes[i].next) {
    const doppel_json_node *nd = &doc->nodes[i];
    if (cn->type == DOPPEL_JSON_OBJECT) {
      if ((st = path_push(p, base, doc->src + nd->key_start, nd->key_len,
                          (nd->flags & DOPPEL_JSON_F_KEY_ESCAPED) != 0)) != DOPPEL_OK)
        return st;
    } else {
      p->path.len = base;
      p->path_h[d + 1] = p->path_h[d];
    }
    p->depth_h = d + 1;
    st = walk_node(w, i, user_mode, in_array || cn->type == DOPPEL_JSON_ARRAY);
    p->depth_h = d;
    if (st != DOPPEL_OK) return st;
  }
  p->path.len = base;
  return DOPPEL_OK;
}

/* GA4 key/value arrays: [{"key": K, "value": {"string_value": ...}}, ...]. */
static int is_kv_array(const doppel_json_doc *doc, uint32_t a) {
  if (doc->nodes[a].type != DOPPEL_JSON_ARRAY || doc->nodes[a].count == 0) return 0;
  uint32_t first = a + 1;
  return doc->nodes[first].type == DOPPEL_JSON_OBJECT && doppel_json_find(doc, first, "key", 3) != DOPPEL_JSON_NONE &&
         doppel_json_find(doc, first, "value", 5) != DOPPEL_JSON_NONE;
}

static doppel_status walk_kv(walk_ctx *w, uint32_t a, int user_mode) {
  doppel_profiler *p = w->p;
  const doppel_json_doc *doc = w->doc;
  size_t base = p->path.len;
  doppel_status st;
  for (uint32_t i = a + 1; i < doc->nodes[a].next; i = doc->nodes[i].next) {
    if (doc->nodes[i].type != DOPPEL_JSON_OBJECT) continue;
    uint32_t k = doppel_json_find(doc, i, "key", 3), v = doppel_json_find(doc, i, "value", 5);
    if (k == DOPPEL_JSON_NONE || v == DOPPEL_JSON_NONE || doc->nodes[k].type != DOPPEL_JSON_STRING) continue;
    size_t kn;
    const char *ks = doppel_json_str(doc, k, &kn);
    if (p->depth_h + 1 >= DP_PATH_DEPTH) break;
    if ((st = path_push(p, base, ks, kn, (doc->nodes[k].flags & DOPPEL_JSON_F_ESCAPED) != 0)) != DOPPEL_OK)
      return st;
    /* unwrap {"string_value": ..., "int_value": ...} to its first non-null member */
    uint32_t val = v;
    if (doc->nodes[v].type == DOPPEL_JSON_OBJECT) {
      val = DOPPEL_JSON_NONE;
      for (uint32_t j = v + 1; j < doc->nodes[v].next; j = doc->nodes[j].next)
        if (doc->nodes[j].type != DOPPEL_JSON_NULL) {
          val = j;
          break;
        }
      if (val == DOPPEL_JSON_NONE) val = v + 1 < doc->nodes[v].next ? v + 1 : DOPPEL_JSON_NONE;
    }
    if (val != DOPPEL_JSON_NONE) {
      p->depth_h++;
      st = walk_node(w, val, user_mode, 0);
      p->depth_h--;
      if (st != DOPPEL_OK) return st;
    }
  }
  p->path.len = base;
  return DOPPEL_OK;
}

static doppel_status walk_node(walk_ctx *w, uint32_t i, int user_mode, int in_array) {
  doppel_profiler *p = w->p;
  const doppel_json_doc *doc = w->doc;
  const doppel_json_node *nd = &doc->nodes[i];
  doppel_status st;
  if (!in_array && (i == w->user_props || i == w->props)) {
    int um = user_mode || i == w->user_props;
    if (nd->type == DOPPEL_JSON_ARRAY && is_kv_array(doc, i)) return walk_kv(w, i, um);
    return walk_children(w, i, um, 0);
  }
  if (nd->type == DOPPEL_JSON_OBJECT) return walk_children(w, i, user_mode, in_array);
  uint32_t gp;
  if ((st = dp_gpath_index_h(p, p->path.data ? p->path.data : "", p->path.len, p->path_h[p->depth_h], &gp)) != DOPPEL_OK)
    return st;
  if (gp == UINT32_MAX) {
    p->gp_overflow++;
    return DOPPEL_OK;
  }
  dp_gpath *g = &p->gp[gp];
  dp_kset_add(g->kset, &g->n_kset, p->k, w->u);
  if (g->canon) {
    /* canonical fields: privacy evidence only (shapes are in identifiers) */
    if (nd->type == DOPPEL_JSON_STRING) {
      size_t n;
      const char *s = doppel_json_str(doc, i, &n);
      if (nd->flags & DOPPEL_JSON_F_ESCAPED) {
        dp_buf_reset(&p->scratch);
        if ((st = dp_buf_reserve(&p->scratch, n)) != DOPPEL_OK) return st;
        n = doppel_json_unescape(s, n, p->scratch.data);
        s = p->scratch.data;
      }
      g->values++;
      evidence_string(p, g, s, n, doppel_sketch_hash64(s, n));
    } else if (nd->type != DOPPEL_JSON_NULL) {
      g->values++;
    }
    return DOPPEL_OK;
  }
  if (nd->type == DOPPEL_JSON_ARRAY && p->dialect == DOPPEL_DIALECT_GA4 && is_kv_array(doc, i))
    return walk_kv(w, i, user_mode);
  uint32_t pi;
  if ((st = prop_for(w, user_mode, gp, &pi)) != DOPPEL_OK) return st;
  if (pi == UINT32_MAX) return DOPPEL_OK;
  dp_prop *pr = &p->props[pi];
  switch (nd->type) {
    case DOPPEL_JSON_NULL:
      if (!in_array) {
        presence(w, pi, 1);
        pr->types[DP_T_NULL]++;
      } else {
        pr->item_types[DP_T_NULL]++;
      }
      return DOPPEL_OK;
    case DOPPEL_JSON_TRUE:
    case DOPPEL_JSON_FALSE:
      presence(w, pi, 0);
      return scalar(w, pi, gp, DP_T_BOOL, doc->src + nd->start, nd->end - nd->start, 0, in_array);
    case DOPPEL_JSON_NUMBER:
      presence(w, pi, 0);
      return scalar(w, pi, gp, (nd->flags & DOPPEL_JSON_F_INTEGER) ? DP_T_INT : DP_T_FLOAT,
                    doc->src + nd->start, nd->end - nd->start, 0, in_array);
    case DOPPEL_JSON_STRING: {
      presence(w, pi, 0);
      size_t n;
      const char *s = doppel_json_str(doc, i, &n);
      if (nd->flags & DOPPEL_JSON_F_ESCAPED) {
        dp_buf_reset(&p->scratch);
        if ((st = dp_buf_reserve(&p->scratch, n)) != DOPPEL_OK) return st;
        n = doppel_json_unescape(s, n, p->scratch.data);
        s = p->scratch.data;
      }
      return scalar(w, pi, gp, DP_T_STRING, s, n, 0, in_array);
    }
    case DOPPEL_JSON_ARRAY: {
      presence(w, pi, 0);
      if (in_array) pr->item_types[DP_T_ARRAY]++;
      else pr->types[DP_T_ARRAY]++;
      if (!pr->alen && (st = doppel_ddsketch_new(&pr->alen, 0, 0, NULL)) != DOPPEL_OK) return st;
      if ((st = doppel_ddsketch_add(pr->alen, (double)nd->count)) != DOPPEL_OK) return st;
      dp_ext_add(&pr->alen_hi, w->u, (double)nd->count);
      if (!in_array && w->user && w->user->in_const) {
        uint64_t vh = doppel_sketch_hash64(doc->src + nd->start, nd->end - nd->start);
        if ((st = cs_update(w->user, gp, (uint32_t)vh)) != DOPPEL_OK) return st;
      }
      return walk_children(w, i, user_mode, 1);
    }
    default:
      return DOPPEL_OK;
  }
}

/* ---- the common part of a record ---- */

typedef struct rec_view {
  const char *uid; size_t uid_n;       /* user id (may be empty) */
  const char *dev; size_t dev_n;       /* device id (may be empty) */
  const char *name; size_t name_n;     /* event name */
  const char *sess; size_t sess_n;     /* session id */
  const char *ins; size_t ins_n;       /* insert id */
  int has_uid, has_dev, has_name, has_sess, has_ins;
  int64_t t;
  int has_time;
  doppel_time_unit unit;
} rec_view;

static doppel_status insert_dup(doppel_profiler *p, const char *ins, size_t n, const char *rec, size_t len) {
  uint64_t ih = doppel_sketch_hash64(ins, n);
  return dp_insert_add(p, ih ? ih : 1, doppel_sketch_hash64(rec, len));
}

/* Add (insert-id hash, payload hash) to the sampled set, counting a repeat
 * as an identical or a different duplicate. */
doppel_status dp_insert_add(doppel_profiler *p, uint64_t ih, uint64_t ph) {
  uint32_t lvl = dp_level_of(ih);
  if (lvl < p->ins_drop) return DOPPEL_OK;
  if ((p->ins_n + 1) * 2 > p->ins_cap) {
    if (p->ins_n >= INSERT_MAX) {
      /* halve the insert-id sample */
      p->ins_drop++;
      p->ins_dup_same[p->ins_drop - 1] = p->ins_dup_diff[p->ins_drop - 1] = 0;
      size_t w = 0;
      for (size_t i = 0; i < p->ins_cap; i++)
        if (p->ins_key[i] && dp_level_of(p->ins_key[i]) >= p->ins_drop) {
          p->ins_key[w] = p->ins_key[i];
          p->ins_val[w++] = p->ins_val[i];
        }
      uint64_t *ks = malloc(w * sizeof *ks + 1), *vs = malloc(w * sizeof *vs + 1);
      if (!ks || !vs) {
        free(ks);
        free(vs);
        return DOPPEL_E_NOMEM;
      }
      memcpy(ks, p->ins_key, w * sizeof *ks);
      memcpy(vs, p->ins_val, w * sizeof *vs);
      memset(p->ins_key, 0, p->ins_cap * sizeof *p->ins_key);
      for (size_t i = 0; i < w; i++) {
        size_t q = (size_t)(dp_sketch_mix64(ks[i]) & (p->ins_cap - 1));
        while (p->ins_key[q]) q = (q + 1) & (p->ins_cap - 1);
        p->ins_key[q] = ks[i];
        p->ins_val[q] = vs[i];
      }
      p->ins_n = w;
      free(ks);
      free(vs);
      if (lvl < p->ins_drop) return DOPPEL_OK;
    } else {
      size_t nc = p->ins_cap ? p->ins_cap * 2 : 4096;
      uint64_t *nk = calloc(nc, sizeof *nk), *nv = calloc(nc, sizeof *nv);
      if (!nk || !nv) {
        free(nk);
        free(nv);
        return DOPPEL_E_NOMEM;
      }
      for (size_t i = 0; i < p->ins_cap; i++) {
        if (!p->ins_key[i]) continue;
        size_t q = (size_t)(dp_sketch_mix64(p->ins_key[i]) & (nc - 1));
        while (nk[q]) q = (q + 1) & (nc - 1);
        nk[q] = p->ins_key[i];
        nv[q] = p->ins_val[i];
      }
      free(p->ins_key);
      free(p->ins_val);
      p->ins_key = nk;
      p->ins_val = nv;
      p->ins_cap = nc;
    }
  }
  size_t q = (size_t)(dp_sketch_mix64(ih) & (p->ins_cap - 1));
  while (p->ins_key[q]) {
    if (p->ins_key[q] == ih) {
      if (p->ins_val[q] == ph) p->ins_dup_same[lvl]++;
      else p->ins_dup_diff[lvl]++;
      return DOPPEL_OK;
    }
    q = (q + 1) & (p->ins_cap - 1);
  }
  p->ins_key[q] = ih;
  p->ins_val[q] = ph;
  p->ins_n++;
  return DOPPEL_OK;
}

static doppel_status day_count(doppel_profiler *p, int32_t day) { return dp_day_add(p, day, 1); }

doppel_status dp_day_add(doppel_profiler *p, int32_t day, uint64_t weight) {
  if (p->n_days == 0) {
    p->days = calloc(64, sizeof *p->days);
    if (!p->days) return DOPPEL_E_NOMEM;
    p->day0 = day;
    p->n_days = 64;
  }
  if (day < p->day0) {
    uint32_t add = (uint32_t)(p->day0 - day);
    if ((uint64_t)add + p->n_days > MAX_DAY_SPAN) {
      p->days_out += weight;
      return DOPPEL_OK;
    }
    uint32_t extra = add < 64 ? 64 : add;
    if ((uint64_t)extra + p->n_days > MAX_DAY_SPAN) extra = add;
    uint64_t *nd = calloc((size_t)p->n_days + extra, sizeof *nd);
    if (!nd) return DOPPEL_E_NOMEM;
    memcpy(nd + extra, p->days, p->n_days * sizeof *nd);
    free(p->days);
    p->days = nd;
    p->n_days += extra;
    p->day0 -= (int32_t)extra;
  }
  uint64_t off = (uint64_t)((int64_t)day - p->day0);
  if (off >= p->n_days) {
    if (off >= MAX_DAY_SPAN) {
      p->days_out += weight;
      return DOPPEL_OK;
    }
    uint64_t nn = (uint64_t)p->n_days * 2;
    while (nn <= off) nn *= 2;
    if (nn > MAX_DAY_SPAN) nn = MAX_DAY_SPAN;
    uint64_t *nd = realloc(p->days, (size_t)nn * sizeof *nd);
    if (!nd) return DOPPEL_E_NOMEM;
    memset(nd + p->n_days, 0, (size_t)(nn - p->n_days) * sizeof *nd);
    p->days = nd;
    p->n_days = (uint32_t)nn;
  }
  p->days[off] += weight;
  return DOPPEL_OK;
}

/* Everything but the property walk. On success *skip is 1 when the record
 * was skipped (counted), else w is ready for the walk. */
static doppel_status record_common(doppel_profiler *p, const rec_view *v, const char *rec, size_t len,
                                   walk_ctx *w, int *skip) {
  *skip = 1;
  const char *id = v->has_uid && v->uid_n ? v->uid : v->has_dev && v->dev_n ? v->dev : NULL;
  size_t idn = v->has_uid && v->uid_n ? v->uid_n : v->dev_n;
  if (!id) {
    p->no_user++;
    return DOPPEL_OK;
  }
  if (!v->has_name || v->name_n == 0) {
    p->no_event++;
    return DOPPEL_OK;
  }
  if (!v->has_time) {
    p->no_time++;
    return DOPPEL_OK;
  }
  *skip = 0;
  doppel_status st;
  p->events++;
  p->serial++;
  uint64_t u = user_hash(p, id, idn);
  doppel_hll_add_hash(p->users_hll, u);
  if (v->has_dev && v->dev_n) {
    doppel_hll_add(p->devices_hll, v->dev, v->dev_n);
    p->device_events++;
  }
  uint32_t evi;
  if ((st = dp_event_index(p, v->name, v->name_n, &evi)) != DOPPEL_OK) return st;
  if (evi == DP_EV_OTHER) {
    p->overflow_events++;
  } else {
    dp_event *e = &p->ev[evi];
    e->count++;
    doppel_hll_add_hash(e->users, u);
    dp_kset_add(e->kset, &e->n_kset, p->k, u);
  }
  int64_t t = v->t;
  if (t < p->min_us) p->min_us = t;
  if (t > p->max_us) p->max_us = t;
  p->time_units[v->unit < 5 ? v->unit : 0]++;
  if (t % 1000000) p->time_frac |= 1;
  if (t % 1000) p->time_frac |= 2;
  if (t > p->now_us + INT64_C(86400000000)) p->future++;
  if (t < ANCIENT_US) p->ancient++;
  p->hour_of_week[dp_how_of(t)]++;
  if ((st = day_count(p, dp_day_of(t))) != DOPPEL_OK) return st;
  /* identifier shapes */
  if (v->has_uid && v->uid_n && (st = id_stat(p, 0, v->uid, v->uid_n, u)) != DOPPEL_OK) return st;
  if (v->has_dev && v->dev_n && (st = id_stat(p, 1, v->dev, v->dev_n, u)) != DOPPEL_OK) return st;
  if (v->has_sess && v->sess_n && (st = id_stat(p, 2, v->sess, v->sess_n, u)) != DOPPEL_OK) return st;
  if (v->has_ins && v->ins_n) {
    if ((st = id_stat(p, 3, v->ins, v->ins_n, u)) != DOPPEL_OK) return st;
    if ((st = insert_dup(p, v->ins, v->ins_n, rec, len)) != DOPPEL_OK) return st;
  }
  dp_user *user;
  if ((st = user_get(p, u, &user)) != DOPPEL_OK) return st;
  if (user && (st = user_event(p, user, evi, t)) != DOPPEL_OK) return st;
  memset(w, 0, sizeof *w);
  w->p = p;
  w->ev = evi;
  w->u = u;
  w->t = t;
  w->user = user;
  w->props = w->user_props = DOPPEL_JSON_NONE;
  return DOPPEL_OK;
}

/* Unescaped copy of a span into p->idbuf (returns pointer, sets *n). */
static const char *span_text(doppel_profiler *p, const doppel_span *sp, size_t *n, doppel_status *st) {
  *n = 0;
  if (!sp->ptr) return NULL;
  if (!sp->escaped) {
    *n = sp->len;
    return sp->ptr;
  }
  size_t off = p->idbuf.len;
  if ((*st = dp_buf_reserve(&p->idbuf, sp->len)) != DOPPEL_OK) return NULL;
  size_t m = doppel_json_unescape(sp->ptr, sp->len, p->idbuf.data + off);
  p->idbuf.len += m;
  *n = m;
  return p->idbuf.data + off;
}

doppel_status doppel_profiler_add_json(doppel_profiler *p, const char *rec, size_t len,
                                       doppel_diag *diag) {
  if (p->finished || p->loaded)
    return dp_diag_set(diag, DOPPEL_E_USAGE, NULL, 0, 0, "this profiler takes no more records");
  doppel_status st = doppel_json_parse(&p->doc, rec, len, diag);
  if (st != DOPPEL_OK) return st;
  doppel_event ev;
  if ((st = doppel_event_from_json(&p->doc, p->map, &ev, diag)) != DOPPEL_OK) return st;
  rec_view v;
  memset(&v, 0, sizeof v);
  /* reserve enough for every id at once so pointers stay valid */
  dp_buf_reset(&p->idbuf);
  size_t need = ev.user_id.len + ev.device_id.len + ev.event.len + ev.session_id.len + ev.insert_id.len + 8;
  if ((st = dp_buf_reserve(&p->idbuf, need)) != DOPPEL_OK) return dp_diag_set(diag, st, NULL, 0, 0, NULL);
  st = DOPPEL_OK;
  v.uid = span_text(p, &ev.user_id, &v.uid_n, &st);
  v.dev = span_text(p, &ev.device_id, &v.dev_n, &st);
  v.name = span_text(p, &ev.event, &v.name_n, &st);
  v.sess = span_text(p, &ev.session_id, &v.sess_n, &st);
  v.ins = span_text(p, &ev.insert_id, &v.ins_n, &st);
  if (st != DOPPEL_OK) return dp_diag_set(diag, st, NULL, 0, 0, NULL);
  v.has_uid = v.uid != NULL;
  v.has_dev = v.dev != NULL;
  v.has_name = v.name != NULL;
  v.has_sess = v.sess != NULL;
  v.has_ins = v.ins != NULL;
  v.t = ev.time_us;
  v.has_time = ev.has_time;
  v.unit = ev.time_unit;
  walk_ctx w;
  int skip;
  if ((st = record_common(p, &v, rec, len, &w, &skip)) != DOPPEL_OK)
    return dp_diag_set(diag, st, NULL, 0, 0, NULL);
  if (skip) return DOPPEL_OK;
  w.doc = &p->doc;
  w.props = ev.properties;
  w.user_props = ev.user_properties;
  dp_buf_reset(&p->path);
  if ((st = dp_buf_reserve(&p->path, 64)) != DOPPEL_OK) return dp_diag_set(diag, st, NULL, 0, 0, NULL);
  p->depth_h = 0;
  p->path_h[0] = DP_PATH_H0;
  if (p->doc.nodes[0].type == DOPPEL_JSON_OBJECT && (st = walk_children(&w, 0, 0, 0)) != DOPPEL_OK)
    return dp_diag_set(diag, st, NULL, 0, 0, NULL);
  return DOPPEL_OK;
}

/* ---- CSV ---- */

static doppel_status csv_split(doppel_profiler *p, const char *rec, size_t len, size_t *n,
                               doppel_diag *diag) {
  doppel_status st = doppel_csv_split(rec, len, ',', p->fields, p->cap_fields, n, diag);
  if (st != DOPPEL_OK) return st;
  if (*n > p->cap_fields) {
    doppel_csv_field *nf = realloc(p->fields, *n * sizeof *nf);
    if (!nf) return dp_diag_set(diag, DOPPEL_E_NOMEM, NULL, 0, 0, NULL);
    p->fields = nf;
    p->cap_fields = *n;
    st = doppel_csv_split(rec, len, ',', p->fields, p->cap_fields, n, diag);
  }
  return st;
}

doppel_status doppel_profiler_csv_header(doppel_profiler *p, const char *rec, size_t len,
                                         doppel_diag *diag) {
  size_t n;
  doppel_status st = csv_split(p, rec, len, &n, diag);
  if (st != DOPPEL_OK) return st;
  free(p->csv_names);
  free(p->csv_lens);
  free(p->csv_names_buf);
  p->csv_names_buf = malloc(len + n + 1);
  p->csv_names = calloc(n + 1, sizeof *p->csv_names);
  p->csv_lens = calloc(n + 1, sizeof *p->csv_lens);
  if (!p->csv_names_buf || !p->csv_names || !p->csv_lens) return dp_diag_set(diag, DOPPEL_E_NOMEM, NULL, 0, 0, NULL);
  size_t o = 0;
  for (size_t i = 0; i < n; i++) {
    size_t m = doppel_csv_unquote(rec, &p->fields[i], p->csv_names_buf + o);
    p->csv_names[i] = p->csv_names_buf + o;
    p->csv_lens[i] = m;
    p->csv_names_buf[o + m] = '\0';
    o += m + 1;
  }
  p->n_csv = n;
  doppel_csv_columns_resolve(p->map, (const char *const *)p->csv_names, p->csv_lens, n, &p->cols);
  return DOPPEL_OK;
}

doppel_status doppel_profiler_add_csv(doppel_profiler *p, const char *rec, size_t len,
                                      doppel_diag *diag) {
  if (p->finished || p->loaded)
    return dp_diag_set(diag, DOPPEL_E_USAGE, NULL, 0, 0, "this profiler takes no more records");
  if (!p->n_csv) return dp_diag_set(diag, DOPPEL_E_USAGE, NULL, 0, 0, "expected the CSV header first");
  size_t n;
  doppel_status st = csv_split(p, rec, len, &n, diag);
  if (st != DOPPEL_OK) return st;
  if (n != p->n_csv)
    return dp_diag_set(diag, DOPPEL_E_CSV, NULL, 0, 0, "expected %zu fields as in the header, found %zu",
                       p->n_csv, n);
  dp_buf_reset(&p->idbuf);
  if ((st = dp_buf_reserve(&p->idbuf, len + 8)) != DOPPEL_OK) return dp_diag_set(diag, st, NULL, 0, 0, NULL);
  rec_view v;
  memset(&v, 0, sizeof v);
  const size_t cols[5] = {p->cols.user_id, p->cols.device_id, p->cols.event, p->cols.session_id,
                          p->cols.insert_id};
  const char *txt[5] = {0};
  size_t tn[5] = {0};
  for (int k = 0; k < 5; k++) {
    if (cols[k] >= n || p->fields[cols[k]].len == 0) continue;
    char *dst = p->idbuf.data + p->idbuf.len;
    tn[k] = doppel_csv_unquote(rec, &p->fields[cols[k]], dst);
    txt[k] = dst;
    p->idbuf.len += tn[k];
  }
  if (!txt[0] && p->cols.user_id_alt < n && p->fields[p->cols.user_id_alt].len) {
    char *dst = p->idbuf.data + p->idbuf.len;
    tn[0] = doppel_csv_unquote(rec, &p->fields[p->cols.user_id_alt], dst);
    txt[0] = dst;
    p->idbuf.len += tn[0];
  }
  v.uid = txt[0], v.uid_n = tn[0], v.has_uid = txt[0] && tn[0];
  v.dev = txt[1], v.dev_n = tn[1], v.has_dev = txt[1] && tn[1];
  v.name = txt[2], v.name_n = tn[2], v.has_name = txt[2] && tn[2];
  v.sess = txt[3], v.sess_n = tn[3], v.has_sess = txt[3] && tn[3];
  v.ins = txt[4], v.ins_n = tn[4], v.has_ins = txt[4] && tn[4];
  if (p->cols.time < n && p->fields[p->cols.time].len) {
    char tb[128];
    size_t m = p->fields[p->cols.time].len;
    if (m < sizeof tb) {
      m = doppel_csv_unquote(rec, &p->fields[p->cols.time], tb);
      doppel_diag td;
      doppel_diag_clear(&td);
      if (m && doppel_time_parse(tb, m, &v.t, &v.unit, &td) != DOPPEL_OK)
        return dp_diag_set(diag, DOPPEL_E_TIME, NULL, 0, p->fields[p->cols.time].start + 1,
                           "column '%s': %s", p->csv_names[p->cols.time], td.text);
      v.has_time = m > 0;
    } else {
      return dp_diag_set(diag, DOPPEL_E_TIME, NULL, 0, p->fields[p->cols.time].start + 1,
                         "column '%s': timestamp too long", p->csv_names[p->cols.time]);
    }
  }
  walk_ctx w;
  int skip;
  if ((st = record_common(p, &v, rec, len, &w, &skip)) != DOPPEL_OK) return dp_diag_set(diag, st, NULL, 0, 0, NULL);
  if (skip) return DOPPEL_OK;
  for (size_t c = 0; c < n; c++) {
    uint32_t gp;
    if ((st = dp_gpath_index(p, p->csv_names[c], p->csv_lens[c], &gp)) != DOPPEL_OK)
      return dp_diag_set(diag, st, NULL, 0, 0, NULL);
    if (gp == UINT32_MAX) {
      p->gp_overflow++;
      continue;
    }
    dp_gpath *g = &p->gp[gp];
    if (p->fields[c].len == 0) continue; /* empty: absent */
    dp_buf_reset(&p->scratch);
    if ((st = dp_buf_reserve(&p->scratch, p->fields[c].len)) != DOPPEL_OK) return dp_diag_set(diag, st, NULL, 0, 0, NULL);
    size_t m = doppel_csv_unquote(rec, &p->fields[c], p->scratch.data);
    const char *s = p->scratch.data;
    dp_kset_add(g->kset, &g->n_kset, p->k, w.u);
    if (g->canon) {
      g->values++;
      evidence_string(p, g, s, m, doppel_sketch_hash64(s, m));
      continue;
    }
    /* user properties: columns under the dialect's user-properties path */
    int user_mode = 0;
    const char *upath = p->map->user_properties;
    if (upath) {
      size_t ul = strlen(upath);
      user_mode = p->csv_lens[c] > ul && !memcmp(p->csv_names[c], upath, ul) && p->csv_names[c][ul] == '.';
    }
    uint32_t pi;
    if ((st = prop_for(&w, user_mode, gp, &pi)) != DOPPEL_OK) return dp_diag_set(diag, st, NULL, 0, 0, NULL);
    if (pi == UINT32_MAX) continue;
    presence(&w, pi, 0);
    int vt = DP_T_STRING;
    if ((m == 4 && !memcmp(s, "true", 4)) || (m == 5 && !memcmp(s, "false", 5))) vt = DP_T_BOOL;
    if ((st = scalar(&w, pi, gp, vt, s, m, 1, 0)) != DOPPEL_OK) return dp_diag_set(diag, st, NULL, 0, 0, NULL);
  }
  return DOPPEL_OK;
}
