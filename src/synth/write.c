/*
 * write.c — turning generated events into output, and the synth job:
 * JSON Lines in the generic, Amplitude, Segment or Mixpanel layout, CSV
 * (properties flattened to one column per path, header first) and
 * PostgreSQL (CREATE TABLE + COPY ... FROM stdin, loadable with psql -f);
 * user order (each user in turn) or time order (a heap over users, each
 * user's generator created at its arrival day and freed after its last
 * session); shards as contiguous user ranges.
 */
#include <doppel/synth.h>

#include <doppel/csv.h>
#include <doppel/json.h>
#include <doppel/time.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "core/diag.h"
#include "core/nomem.h"
#include "synth/gen.h"

/* ---- output paths ---- */

typedef struct ptree {
  dp_node *root;        /* of the event's properties and extra fields */
  dp_node *props_node;  /* the properties container node (mixpanel: canonical fields go inside) */
} ptree;

typedef struct wctx {
  const doppel_synth *s;
  const doppel_synth_options *o;
  dp_gen_params gp;
  doppel_dialect d;
  doppel_output *out;
  dp_buf buf;            /* pending output bytes */
  doppel_diag *diag;
  /* per event, the output path of every property and user property */
  char ***ppath;         /* [ev][i] */
  char **upath;          /* [i] */
  int **pskip;           /* [ev][i] 1 = collides with a canonical field */
  int *uskip;
  dp_node **trees;       /* per event: tree of event and user properties (JSON) */
  dp_node *pool;         /* all nodes */
  size_t n_pool, cap_pool;
  /* CSV columns */
  char **cols;
  size_t n_cols;
  uint32_t **pcol;       /* [ev][i] column */
  uint32_t *ucol;
  dp_val **cells;        /* scratch: per column the value (CSV) */
  const char *table;
  /* stats */
  doppel_synth_summary *sum;
  /* time order */
  dp_buf rec;            /* formatting scratch */
  /* per-record caches */
  dp_buf idj;            /* the current user's ids as JSON strings: user id, then device id */
  uint64_t idj_u;        /* the user they are of (ids depend only on the user and the seed) */
  int idj_set;           /* idj holds user idj_u */
  uint32_t uidj_len, didj_len;
  int64_t tday;          /* UTC day (since 1970) whose date is in tdate, -1 = none */
  char tdate[11];        /* "YYYY-MM-DDT" of tday */
  unsigned long nomem0; /* dp_nomem_count() at the start: records are formatted unchecked */
} wctx;

static const char *out_props(doppel_dialect d) {
  return d == DOPPEL_DIALECT_AMPLITUDE ? "event_properties" : "properties";
}
static const char *out_uprops(doppel_dialect d) {
  switch (d) {
    case DOPPEL_DIALECT_SEGMENT: return "context.traits";
    case DOPPEL_DIALECT_MIXPANEL: return "properties";
    default: return "user_properties";
  }
}

/* top-level keys the writer produces for each dialect */
static int canonical_key(doppel_dialect d, const char *path) {
  static const char *const gen[] = {"user_id", "device_id", "event", "time", "session_id", "insert_id", NULL};
  static const char *const amp[] = {"$insert_id", "event_type", "user_id", "device_id", "session_id", "event_time",
                                    "insert_id", NULL};
  static const char *const seg[] = {"type", "messageId", "userId", "anonymousId", "event", "timestamp", NULL};
  static const char *const mix[] = {"event", "properties.time", "properties.distinct_id", "properties.$insert_id",
                                    "properties.$device_id", NULL};
  const char *const *k = d == DOPPEL_DIALECT_AMPLITUDE ? amp : d == DOPPEL_DIALECT_SEGMENT ? seg
                         : d == DOPPEL_DIALECT_MIXPANEL ? mix : gen;
  for (; *k; k++)
    if (!strcmp(*k, path)) return 1;
  return 0;
}

/* Map a profile path of the source dialect to the output dialect. */
static char *map_path(const doppel_synth *s, doppel_dialect d, const char *path, int user) {
  const doppel_field_map *m = doppel_dialect_fields(s->src_dialect);
  const char *sp = user ? m->user_properties : m->properties;
  const char *rel = NULL;
  if (sp) {
    size_t n = strlen(sp);
    if (!strncmp(path, sp, n) && path[n] == '.') rel = path + n + 1;
  }
  if (!rel && !user && m->user_properties) {
    size_t n = strlen(m->user_properties);
    if (!strncmp(path, m->user_properties, n) && path[n] == '.') {
      rel = path + n + 1;
      user = 1;
    }
  }
  char buf[1024];
  if (rel) snprintf(buf, sizeof buf, "%s.%s", user ? out_uprops(d) : out_props(d), rel);
  else if (user) snprintf(buf, sizeof buf, "%s.%s", out_uprops(d), path);
  else snprintf(buf, sizeof buf, "%s", path);
  return strdup(buf);
}

static dp_node *node_new(wctx *w, const char *key, size_t n) {
  dp_node *nd = calloc(1, sizeof *nd);
  if (!nd) return NULL;
  nd->key = malloc(n * 6 + 4);
  if (!nd->key) {
    free(nd);
    return NULL;
  }
  nd->key_len = (uint32_t)doppel_json_escape(key, n, nd->key);
  nd->key[nd->key_len++] = ':';
  nd->prop = -1;
  (void)w;
  return nd;
}

static void node_free(dp_node *n) {
  while (n) {
    dp_node *next = n->next;
    node_free(n->child);
    free(n->key);
    free(n);
    n = next;
  }
}

/* Insert path (dotted) under root with leaf index leaf; returns -1 on a conflict
 * (a path both a value and an object: the value is dropped). */
static int tree_add(wctx *w, dp_node *root, const char *path, int32_t leaf) {
  dp_node *cur = root;
  const char *p = path;
  for (;;) {
    const char *dot = strchr(p, '.');
    size_t n = dot ? (size_t)(dot - p) : strlen(p);
    dp_node *c = cur->child, *last = NULL;
    char tmp[600];
    size_t kl = doppel_json_escape(p, n, tmp);
    for (; c; last = c, c = c->next)
      if (c->key_len == kl + 1 && !memcmp(c->key, tmp, kl)) break;
    if (!c) {
      c = node_new(w, p, n);
      if (!c) return -2;
      if (last) last->next = c;
      else cur->child = c;
    }
    if (!dot) {
      if (c->child) return -1;
      c->prop = leaf;
      return 0;
    }
    if (c->prop >= 0) return -1;
    cur = c;
    p = dot + 1;
  }
}

/* ---- value output ---- */

/* The writers append a few dozen pieces per record: the common case (room in
 * the buffer) stays inline, growth goes through core/buf.c. */
static inline void put(dp_buf *b, const char *s, size_t n) { dp_buf_append_fast(b, s, n); }
static inline void puts_(dp_buf *b, const char *s) { dp_buf_append_fast(b, s, strlen(s)); }
static inline void putc_(dp_buf *b, char c) {
  if (b->cap - b->len > 1) b->data[b->len++] = c;
  else dp_buf_putc(b, c);
}

/* 1 if no byte of s needs a JSON escape (control characters, '"', '\\'),
 * eight bytes at a time: the "has a byte less than / equal to" bit tricks are
 * exact for the question "is there any such byte". */
static int json_plain(const char *s, size_t n) {
  const uint64_t ones = UINT64_C(0x0101010101010101), highs = UINT64_C(0x8080808080808080);
  if (n < 8) {
    for (size_t i = 0; i < n; i++) {
      unsigned char c = (unsigned char)s[i];
      if (c < 0x20 || c == '"' || c == '\\') return 0;
    }
    return 1;
  }
  for (size_t i = 0;; i += 8) {
    if (i + 8 > n) i = n - 8; /* the last word overlaps the one before */
    uint64_t v, q, bs;
    memcpy(&v, s + i, 8);
    q = v ^ (ones * '"');
    bs = v ^ (ones * '\\');
    if ((((v - ones * 0x20) & ~v) | ((q - ones) & ~q) | ((bs - ones) & ~bs)) & highs) return 0;
    if (i + 8 == n) return 1;
  }
}

/* s as a JSON string, exactly as doppel_json_escape() writes it */
static void json_str(dp_buf *b, const char *s, size_t n) {
  if (b->cap - b->len <= n * 6 + 2 && dp_buf_reserve(b, n * 6 + 2) != DOPPEL_OK) return;
  char *o = b->data + b->len;
  if (json_plain(s, n)) {
    o[0] = '"';
    memcpy(o + 1, s, n);
    o[n + 1] = '"';
    b->len += n + 2;
    return;
  }
  b->len += doppel_json_escape(s, n, o);
}

static void json_val(dp_buf *b, const dp_user_gen *ug, const dp_val *v) {
  const char *s = ug->vals.data + v->off;
  if (v->type == DP_VT_STRING || v->type == DP_VT_NUMSTR) json_str(b, s, v->len);
  else put(b, s, v->len);
}

/* The user's ids as JSON strings, escaped once per user instead of once per
 * event (time order interleaves users by session, so this still hits). */
static void user_ids_json(wctx *w, const dp_user_gen *ug) {
  if (w->idj_set && w->idj_u == ug->u) return;
  dp_buf_reset(&w->idj);
  if (ug->has_uid) json_str(&w->idj, ug->ids.data + ug->uid_off, ug->uid_len);
  w->uidj_len = (uint32_t)w->idj.len;
  if (ug->has_did) json_str(&w->idj, ug->ids.data + ug->did_off, ug->did_len);
  w->didj_len = (uint32_t)w->idj.len - w->uidj_len;
  w->idj_u = ug->u;
  w->idj_set = 1;
}
static void put_uid(wctx *w, dp_buf *b, const dp_user_gen *ug) {
  user_ids_json(w, ug);
  put(b, w->idj.data, w->uidj_len);
}
static void put_did(wctx *w, dp_buf *b, const dp_user_gen *ug) {
  user_ids_json(w, ug);
  put(b, w->idj.data + w->uidj_len, w->didj_len);
}

/* Emit the children of node as members; returns the number emitted. */
static int emit_members(dp_buf *b, const dp_node *n, const dp_user_gen *ug, const dp_val *pv, const dp_val *uv,
                        uint32_t n_ev_props, int first) {
  int count = 0;
  for (const dp_node *c = n->child; c; c = c->next) {
    if (c->prop >= 0) {
      const dp_val *v = (uint32_t)c->prop < n_ev_props ? &pv[c->prop] : &uv[(uint32_t)c->prop - n_ev_props];
      if (v->type == DP_VT_COUNT) continue;
      if (!first || count) putc_(b, ',');
      put(b, c->key, c->key_len);
      json_val(b, ug, v);
      count++;
    } else {
      size_t mark = b->len;
      if (!first || count) putc_(b, ',');
      put(b, c->key, c->key_len);
      putc_(b, '{');
      if (emit_members(b, c, ug, pv, uv, n_ev_props, 1) == 0) {
        b->len = mark; /* an empty object: leave it out */
        continue;
      }
      putc_(b, '}');
      count++;
    }
  }
  return count;
}

static void fmt_u64(dp_buf *b, uint64_t v) {
  char t[24];
  size_t i = sizeof t;
  do {
    t[--i] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  put(b, t + i, sizeof t - i);
}

static void insert_id(dp_buf *b, uint64_t seed, uint64_t u, uint64_t seq) {
  doppel_pcg64 g;
  dp_gen_stream(&g, seed, 5, u, seq);
  uint64_t hi = doppel_pcg64_next(&g), lo = doppel_pcg64_next(&g);
  hi = (hi & ~UINT64_C(0xf000)) | UINT64_C(0x4000);
  lo = (lo & ~(UINT64_C(3) << 62)) | (UINT64_C(2) << 62);
  if (dp_buf_reserve(b, 36) != DOPPEL_OK) return;
  dp_uuid_text(hi, lo, b->data + b->len);
  b->len += 36;
}

/* session id text of session j (not epoch-ms style) */
static void session_id(dp_buf *b, const doppel_synth *s, uint64_t seed, const dp_user_gen *ug, const dp_gen_event *e) {
  if (s->sid.epoch_ms) {
    fmt_u64(b, (uint64_t)(e->session_start / 1000));
    return;
  }
  uint64_t v = ug->u * UINT64_C(1000003) + e->session;
  (void)seed;
  fmt_u64(b, 100000000 + v);
}

/* Event time text, as dp_fmt_time(); whole seconds in ISO Z form (fmt 0) --
 * nearly every event -- reuse the date of the previous event when it is the
 * same UTC day and write only the time of day. */
static void time_text(wctx *w, dp_buf *b, int64_t t, int fmt) {
  char tb[40];
  if (fmt == 0 && t >= 0 && t % 1000000 == 0 && t <= INT64_C(253402300799) * 1000000) {
    int64_t secs = t / 1000000, day = secs / 86400;
    unsigned sod = (unsigned)(secs % 86400), h = sod / 3600, m = sod / 60 % 60, sec = sod % 60;
    if (day != w->tday) {
      doppel_time_format(day * 86400 * INT64_C(1000000), tb);
      memcpy(w->tdate, tb, 11);
      w->tday = day;
    }
    memcpy(tb, w->tdate, 11);
    tb[11] = (char)('0' + h / 10);
    tb[12] = (char)('0' + h % 10);
    tb[13] = ':';
    tb[14] = (char)('0' + m / 10);
    tb[15] = (char)('0' + m % 10);
    tb[16] = ':';
    tb[17] = (char)('0' + sec / 10);
    tb[18] = (char)('0' + sec % 10);
    tb[19] = 'Z';
    put(b, tb, 20);
    return;
  }
  size_t n = dp_fmt_time(t, fmt, tb);
  put(b, tb, n);
}

/* ---- JSON Lines ---- */

/* Mixpanel's canonical members of "properties": time (epoch s),
 * distinct_id and $insert_id. */
static void mixpanel_canonical(wctx *w, dp_buf *b, const dp_user_gen *ug, const dp_gen_event *e) {
  puts_(b, "\"time\":");
  fmt_u64(b, (uint64_t)(e->t / 1000000));
  puts_(b, ",\"distinct_id\":");
  if (ug->has_uid) put_uid(w, b, ug);
  else put_did(w, b, ug);
  puts_(b, ",\"$insert_id\":\"");
  insert_id(b, w->o->seed, ug->u, e->seq);
  putc_(b, '"');
}

static void record_jsonl(wctx *w, dp_buf *b, const dp_user_gen *ug, const dp_gen_event *e) {
  const doppel_synth *s = w->s;
  const dp_evdef *ev = &s->ev[e->ev];
  const dp_node *tree = w->trees[e->ev];
  uint32_t np = ev->n_props;
  putc_(b, '{');
  switch (w->d) {
    case DOPPEL_DIALECT_AMPLITUDE:
      puts_(b, "\"$insert_id\":\"");
      insert_id(b, w->o->seed, ug->u, e->seq);
      puts_(b, "\",\"event_type\":");
      put(b, ev->json_name, ev->json_len);
      puts_(b, ",\"user_id\":");
      if (ug->has_uid) put_uid(w, b, ug);
      else puts_(b, "null");
      puts_(b, ",\"device_id\":");
      if (ug->has_did) put_did(w, b, ug);
      else puts_(b, "null");
      puts_(b, ",\"session_id\":");
      fmt_u64(b, (uint64_t)(e->session_start / 1000));
      puts_(b, ",\"event_time\":\"");
      time_text(w, b, e->t, 3);
      putc_(b, '"');
      break;
    case DOPPEL_DIALECT_SEGMENT:
      puts_(b, "\"type\":\"track\",\"messageId\":\"");
      insert_id(b, w->o->seed, ug->u, e->seq);
      puts_(b, "\",\"userId\":");
      if (ug->has_uid) put_uid(w, b, ug);
      else puts_(b, "null");
      puts_(b, ",\"anonymousId\":");
      if (ug->has_did) put_did(w, b, ug);
      else puts_(b, "null");
      puts_(b, ",\"event\":");
      put(b, ev->json_name, ev->json_len);
      puts_(b, ",\"timestamp\":\"");
      time_text(w, b, e->t, 0);
      putc_(b, '"');
      break;
    case DOPPEL_DIALECT_MIXPANEL:
      puts_(b, "\"event\":");
      put(b, ev->json_name, ev->json_len);
      break;
    default:
      if (ug->has_uid) {
        puts_(b, "\"user_id\":");
        put_uid(w, b, ug);
        putc_(b, ',');
      }
      if (ug->has_did) {
        puts_(b, "\"device_id\":");
        put_did(w, b, ug);
        putc_(b, ',');
      }
      puts_(b, "\"event\":");
      put(b, ev->json_name, ev->json_len);
      puts_(b, ",\"time\":\"");
      time_text(w, b, e->t, 0);
      putc_(b, '"');
      if (s->sid.present) {
        puts_(b, ",\"session_id\":\"");
        session_id(b, s, w->o->seed, ug, e);
        putc_(b, '"');
      }
      puts_(b, ",\"insert_id\":\"");
      insert_id(b, w->o->seed, ug->u, e->seq);
      putc_(b, '"');
      break;
  }
  /* the property tree; mixpanel's canonical fields open its "properties" */
  int emitted_ep = 0, emitted_up = 0;
  for (const dp_node *c = tree->child; c; c = c->next) {
    if (c->prop >= 0) {
      const dp_val *v = (uint32_t)c->prop < np ? &e->pv[c->prop] : &e->uv[(uint32_t)c->prop - np];
      if (v->type == DP_VT_COUNT) continue;
      putc_(b, ',');
      put(b, c->key, c->key_len);
      json_val(b, ug, v);
      continue;
    }
    int mix_props = w->d == DOPPEL_DIALECT_MIXPANEL && c->key_len == 13 && !memcmp(c->key, "\"properties\":", 13);
    size_t mark = b->len;
    putc_(b, ',');
    put(b, c->key, c->key_len);
    putc_(b, '{');
    int any = 0;
    if (mix_props) {
      mixpanel_canonical(w, b, ug, e);
      if (ug->has_did) {
        puts_(b, ",\"$device_id\":");
        put_did(w, b, ug);
      }
      any = 1;
    }
    int n = emit_members(b, c, ug, e->pv, e->uv, np, !any);
    if (!n && !any) {
      b->len = mark;
      continue;
    }
    putc_(b, '}');
    if (c->key_len == 19 && !memcmp(c->key, "\"event_properties\":", 19)) emitted_ep = 1;
    if (c->key_len == 18 && !memcmp(c->key, "\"user_properties\":", 18)) emitted_up = 1;
  }
  if (w->d == DOPPEL_DIALECT_MIXPANEL && !w->trees[e->ev]->child) {
    /* no properties at all: still the canonical ones */
    puts_(b, ",\"properties\":{");
    mixpanel_canonical(w, b, ug, e);
    putc_(b, '}');
  }
  if (w->d == DOPPEL_DIALECT_AMPLITUDE) {
    /* Amplitude exports always carry both objects */
    if (!emitted_ep) puts_(b, ",\"event_properties\":{}");
    if (!emitted_up) puts_(b, ",\"user_properties\":{}");
  }
  puts_(b, "}\n");
}

/* ---- CSV ---- */

/* 1 if doppel_csv_quote(s, n, ',') would copy s unquoted: no ',', '"', CR
 * or LF, and no space or tab at either end; eight bytes at a time as in
 * json_plain(). */
static int csv_plain(const char *s, size_t n) {
  const uint64_t ones = UINT64_C(0x0101010101010101), highs = UINT64_C(0x8080808080808080);
  if (!n) return 1;
  if (s[0] == ' ' || s[0] == '\t' || s[n - 1] == ' ' || s[n - 1] == '\t') return 0;
  if (n < 8) {
    for (size_t i = 0; i < n; i++)
      if (s[i] == ',' || s[i] == '"' || s[i] == '\r' || s[i] == '\n') return 0;
    return 1;
  }
  for (size_t i = 0;; i += 8) {
    if (i + 8 > n) i = n - 8; /* the last word overlaps the one before */
    uint64_t v, c = 0;
    memcpy(&v, s + i, 8);
    const char special[4] = {',', '"', '\r', '\n'};
    for (int k = 0; k < 4; k++) {
      uint64_t x = v ^ (ones * (unsigned char)special[k]);
      c |= (x - ones) & ~x;
    }
    if (c & highs) return 0;
    if (i + 8 == n) return 1;
  }
}

static void csv_cell(dp_buf *b, const char *s, size_t n) {
  if (b->cap - b->len <= n * 2 + 2 && dp_buf_reserve(b, n * 2 + 2) != DOPPEL_OK) return;
  if (csv_plain(s, n)) {
    memcpy(b->data + b->len, s, n);
    b->len += n;
    return;
  }
  b->len += doppel_csv_quote(s, n, ',', b->data + b->len);
}

static void record_csv(wctx *w, dp_buf *b, const dp_user_gen *ug, const dp_gen_event *e) {
  const doppel_synth *s = w->s;
  const dp_evdef *ev = &s->ev[e->ev];
  if (ug->has_uid) csv_cell(b, ug->ids.data + ug->uid_off, ug->uid_len);
  putc_(b, ',');
  if (ug->has_did) csv_cell(b, ug->ids.data + ug->did_off, ug->did_len);
  putc_(b, ',');
  csv_cell(b, ev->name, ev->len);
  putc_(b, ',');
  time_text(w, b, e->t, 0);
  putc_(b, ',');
  session_id(b, s, w->o->seed, ug, e);
  putc_(b, ',');
  insert_id(b, w->o->seed, ug->u, e->seq);
  for (size_t c = 0; c < w->n_cols; c++) w->cells[c] = NULL;
  for (uint32_t i = 0; i < ev->n_props; i++)
    if (e->pv[i].type != DP_VT_COUNT && w->pcol[e->ev][i] != UINT32_MAX) w->cells[w->pcol[e->ev][i]] = (dp_val *)&e->pv[i];
  for (uint32_t i = 0; i < s->n_uprops; i++)
    if (e->uv[i].type != DP_VT_COUNT && w->ucol[i] != UINT32_MAX) w->cells[w->ucol[i]] = (dp_val *)&e->uv[i];
  for (size_t c = 0; c < w->n_cols; c++) {
    putc_(b, ',');
    const dp_val *v = w->cells[c];
    if (!v) continue;
    csv_cell(b, ug->vals.data + v->off, v->len);
  }
  putc_(b, '\n');
}

/* ---- SQL (COPY text format) ---- */

static void copy_text(dp_buf *b, const char *s, size_t n) {
  if (dp_buf_reserve(b, n * 2 + 1) != DOPPEL_OK) return;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    switch (c) {
      case '\\': b->data[b->len++] = '\\'; b->data[b->len++] = '\\'; break;
      case '\t': b->data[b->len++] = '\\'; b->data[b->len++] = 't'; break;
      case '\n': b->data[b->len++] = '\\'; b->data[b->len++] = 'n'; break;
      case '\r': b->data[b->len++] = '\\'; b->data[b->len++] = 'r'; break;
      default: b->data[b->len++] = c;
    }
  }
}

static void record_sql(wctx *w, dp_buf *b, const dp_user_gen *ug, const dp_gen_event *e) {
  const doppel_synth *s = w->s;
  const dp_evdef *ev = &s->ev[e->ev];
  if (ug->has_uid) copy_text(b, ug->ids.data + ug->uid_off, ug->uid_len);
  else puts_(b, "\\N");
  putc_(b, '\t');
  if (ug->has_did) copy_text(b, ug->ids.data + ug->did_off, ug->did_len);
  else puts_(b, "\\N");
  putc_(b, '\t');
  copy_text(b, ev->name, ev->len);
  putc_(b, '\t');
  time_text(w, b, e->t, 0);
  putc_(b, '\t');
  session_id(b, s, w->o->seed, ug, e);
  putc_(b, '\t');
  insert_id(b, w->o->seed, ug->u, e->seq);
  /* properties and user properties as JSON objects (generic layout) */
  for (int part = 0; part < 2; part++) {
    putc_(b, '\t');
    dp_buf_reset(&w->rec);
    putc_(&w->rec, '{');
    const dp_node *c = w->trees[e->ev]->child;
    const char *want = part == 0 ? "\"properties\":" : "\"user_properties\":";
    size_t wl = strlen(want);
    int any = 0;
    for (; c; c = c->next)
      if (c->key_len == wl && !memcmp(c->key, want, wl)) any = emit_members(&w->rec, c, ug, e->pv, e->uv, ev->n_props, 1);
    (void)any;
    putc_(&w->rec, '}');
    copy_text(b, w->rec.data, w->rec.len);
  }
  putc_(b, '\n');
}

/* ---- the run ---- */

static doppel_status flush(wctx *w, int force) {
  /* a failed growth while formatting left a piece out: never write that */
  if (dp_nomem_count() != w->nomem0) return dp_diag_set(w->diag, DOPPEL_E_NOMEM, NULL, 0, 0, NULL);
  if (w->buf.len < ((size_t)1 << 20) && !force) return DOPPEL_OK;
  doppel_status st = doppel_output_write(w->out, w->buf.data, w->buf.len, w->diag);
  w->sum->bytes += w->buf.len;
  w->buf.len = 0;
  return st;
}

static void account(wctx *w, const dp_gen_event *e) {
  w->sum->events++;
  if (e->t < w->sum->first_us) w->sum->first_us = e->t;
  if (e->t > w->sum->last_us) w->sum->last_us = e->t;
}

static void format_record(wctx *w, dp_buf *b, const dp_user_gen *ug, const dp_gen_event *e) {
  switch (w->o->format) {
    case DOPPEL_SYNTH_CSV: record_csv(w, b, ug, e); break;
    case DOPPEL_SYNTH_SQL: record_sql(w, b, ug, e); break;
    default: record_jsonl(w, b, ug, e); break;
  }
}

static doppel_status sink_direct(void *ctx, dp_user_gen *ug, const dp_gen_event *e) {
  wctx *w = ctx;
  format_record(w, &w->buf, ug, e);
  account(w, e);
  return flush(w, 0);
}

static void build_paths(wctx *w) {
  const doppel_synth *s = w->s;
  w->ppath = calloc(s->n_ev + 1, sizeof *w->ppath);
  w->pskip = calloc(s->n_ev + 1, sizeof *w->pskip);
  w->trees = calloc(s->n_ev + 1, sizeof *w->trees);
  w->pcol = calloc(s->n_ev + 1, sizeof *w->pcol);
  w->upath = calloc(s->n_uprops + 1, sizeof *w->upath);
  w->uskip = calloc(s->n_uprops + 1, sizeof *w->uskip);
  w->ucol = calloc(s->n_uprops + 1, sizeof *w->ucol);
}

static uint32_t column_of(wctx *w, const char *path) {
  for (size_t i = 0; i < w->n_cols; i++)
    if (!strcmp(w->cols[i], path)) return (uint32_t)i;
  char **nc = realloc(w->cols, (w->n_cols + 1) * sizeof *nc);
  if (!nc) return UINT32_MAX;
  w->cols = nc;
  w->cols[w->n_cols] = strdup(path);
  return w->cols[w->n_cols] ? (uint32_t)w->n_cols++ : UINT32_MAX;
}

static doppel_status prepare(wctx *w) {
  const doppel_synth *s = w->s;
  build_paths(w);
  if (!w->ppath || !w->pskip || !w->trees || !w->pcol || !w->upath || !w->uskip || !w->ucol) return DOPPEL_E_NOMEM;
  for (uint32_t i = 0; i < s->n_uprops; i++) {
    w->upath[i] = map_path(s, w->d, s->uprops[i].path, 1);
    if (!w->upath[i]) return DOPPEL_E_NOMEM;
    w->uskip[i] = canonical_key(w->d, w->upath[i]);
  }
  for (uint32_t x = 0; x < s->n_ev; x++) {
    const dp_evdef *e = &s->ev[x];
    w->ppath[x] = calloc(e->n_props + 1, sizeof **w->ppath);
    w->pskip[x] = calloc(e->n_props + 1, sizeof **w->pskip);
    w->pcol[x] = calloc(e->n_props + 1, sizeof **w->pcol);
    w->trees[x] = calloc(1, sizeof **w->trees);
    if (!w->ppath[x] || !w->pskip[x] || !w->pcol[x] || !w->trees[x]) return DOPPEL_E_NOMEM;
    w->trees[x]->prop = -1;
    for (uint32_t i = 0; i < e->n_props; i++) {
      w->ppath[x][i] = map_path(s, w->d, e->props[i].path, 0);
      if (!w->ppath[x][i]) return DOPPEL_E_NOMEM;
      w->pskip[x][i] = canonical_key(w->d, w->ppath[x][i]);
      if (!w->pskip[x][i] && tree_add(w, w->trees[x], w->ppath[x][i], (int32_t)i) == -2) return DOPPEL_E_NOMEM;
    }
    for (uint32_t i = 0; i < s->n_uprops; i++)
      if (!w->uskip[i] && tree_add(w, w->trees[x], w->upath[i], (int32_t)(e->n_props + i)) == -2) return DOPPEL_E_NOMEM;
  }
  /* CSV columns: event property paths in order of appearance, then user properties */
  for (uint32_t x = 0; x < s->n_ev; x++)
    for (uint32_t i = 0; i < s->ev[x].n_props; i++)
      w->pcol[x][i] = w->pskip[x][i] ? UINT32_MAX : column_of(w, w->ppath[x][i]);
  for (uint32_t i = 0; i < s->n_uprops; i++) w->ucol[i] = w->uskip[i] ? UINT32_MAX : column_of(w, w->upath[i]);
  w->cells = calloc(w->n_cols + 1, sizeof *w->cells);
  return w->cells ? DOPPEL_OK : DOPPEL_E_NOMEM;
}

static void unprepare(wctx *w) {
  const doppel_synth *s = w->s;
  for (uint32_t x = 0; w->ppath && x < s->n_ev; x++) {
    for (uint32_t i = 0; w->ppath[x] && i < s->ev[x].n_props; i++) free(w->ppath[x][i]);
    free(w->ppath[x]);
    free(w->pskip ? w->pskip[x] : NULL);
    free(w->pcol ? w->pcol[x] : NULL);
    if (w->trees && w->trees[x]) {
      node_free(w->trees[x]->child);
      free(w->trees[x]);
    }
  }
  free(w->ppath);
  free(w->pskip);
  free(w->pcol);
  free(w->trees);
  for (uint32_t i = 0; w->upath && i < s->n_uprops; i++) free(w->upath[i]);
  free(w->upath);
  free(w->uskip);
  free(w->ucol);
  for (size_t i = 0; i < w->n_cols; i++) free(w->cols[i]);
  free(w->cols);
  free(w->cells);
  dp_gen_params_release(&w->gp);
  dp_buf_release(&w->buf);
  dp_buf_release(&w->rec);
  dp_buf_release(&w->idj);
}

static doppel_status header(wctx *w) {
  dp_buf *b = &w->buf;
  if (w->o->format == DOPPEL_SYNTH_CSV) {
    puts_(b, "user_id,device_id,event,time,session_id,insert_id");
    for (size_t c = 0; c < w->n_cols; c++) {
      putc_(b, ',');
      csv_cell(b, w->cols[c], strlen(w->cols[c]));
    }
    putc_(b, '\n');
  } else if (w->o->format == DOPPEL_SYNTH_SQL) {
    const char *t = w->table;
    char line[512];
    snprintf(line, sizeof line,
             "-- doppel synth: %llu users, seed %llu\n"
             "CREATE TABLE IF NOT EXISTS %s (\n  user_id text,\n  device_id text,\n  event text NOT NULL,\n"
             "  time timestamptz NOT NULL,\n  session_id text,\n  insert_id text NOT NULL,\n"
             "  properties jsonb,\n  user_properties jsonb\n);\n"
             "COPY %s (user_id, device_id, event, time, session_id, insert_id, properties, user_properties) FROM stdin;\n",
             (unsigned long long)(w->sum->user_end - w->sum->user_first), (unsigned long long)w->o->seed, t, t);
    puts_(b, line);
  }
  return DOPPEL_OK;
}

static doppel_status trailer(wctx *w) {
  if (w->o->format == DOPPEL_SYNTH_SQL) puts_(&w->buf, "\\.\n");
  return DOPPEL_OK;
}

/* ---- time order ---- */

typedef struct tnode {
  int64_t key;            /* time of the next record (or arrival midnight) */
  uint64_t u;
  dp_user_gen *ug;        /* NULL until the user arrives */
  dp_buf pend;            /* formatted records of the current session */
  size_t *ends;           /* record end offsets in pend */
  int64_t *times;
  size_t n_rec, cap_rec, next_rec;
} tnode;

typedef struct tctx {
  wctx *w;
  tnode *cur;
} tctx;

static doppel_status sink_pending(void *ctx, dp_user_gen *ug, const dp_gen_event *e) {
  tctx *tc = ctx;
  tnode *n = tc->cur;
  if (n->n_rec == n->cap_rec) {
    size_t nc = n->cap_rec ? n->cap_rec * 2 : 16;
    size_t *ne = realloc(n->ends, nc * sizeof *ne);
    if (!ne) return DOPPEL_E_NOMEM;
    n->ends = ne;
    int64_t *nt = realloc(n->times, nc * sizeof *nt);
    if (!nt) return DOPPEL_E_NOMEM;
    n->times = nt;
    n->cap_rec = nc;
  }
  format_record(tc->w, &n->pend, ug, e);
  n->ends[n->n_rec] = n->pend.len;
  n->times[n->n_rec++] = e->t;
  account(tc->w, e);
  return DOPPEL_OK;
}

static int tless(const tnode *a, const tnode *b) { return a->key < b->key || (a->key == b->key && a->u < b->u); }

static void sift_down(tnode **h, size_t n, size_t i) {
  for (;;) {
    size_t l = 2 * i + 1, r = l + 1, m = i;
    if (l < n && tless(h[l], h[m])) m = l;
    if (r < n && tless(h[r], h[m])) m = r;
    if (m == i) return;
    tnode *t = h[i];
    h[i] = h[m];
    h[m] = t;
    i = m;
  }
}

static doppel_status run_time_order(wctx *w, uint64_t first, uint64_t end) {
  const doppel_synth *s = w->s;
  size_t n = (size_t)(end - first);
  tnode *nodes = calloc(n + 1, sizeof *nodes);
  tnode **heap = calloc(n + 1, sizeof *heap);
  doppel_status st = DOPPEL_OK;
  if (!nodes || !heap) {
    free(nodes);
    free(heap);
    return DOPPEL_E_NOMEM;
  }
  for (size_t i = 0; i < n; i++) {
    nodes[i].u = first + i;
    nodes[i].key = w->gp.start_us + (int64_t)dp_user_arrival(s, &w->gp, first + i) * 86400000000LL;
    dp_buf_init(&nodes[i].pend, 0);
    heap[i] = &nodes[i];
  }
  for (size_t i = n / 2; i-- > 0;) sift_down(heap, n, i);
  size_t hn = n;
  tctx tc = {w, NULL};
  while (hn && st == DOPPEL_OK) {
    tnode *t = heap[0];
    if (!t->ug) {
      t->ug = malloc(sizeof *t->ug);
      if (!t->ug || (st = dp_user_gen_init(t->ug, s)) != DOPPEL_OK ||
          (st = dp_user_init(t->ug, s, &w->gp, t->u)) != DOPPEL_OK) {
        st = DOPPEL_E_NOMEM;
        break;
      }
      w->sum->sessions += t->ug->n;
    }
    if (t->next_rec == t->n_rec) {
      /* the next session of this user */
      t->n_rec = t->next_rec = 0;
      dp_buf_reset(&t->pend);
      if (t->ug->cur == t->ug->n) {
        /* done: free the user and drop it from the heap */
        dp_user_gen_release(t->ug);
        free(t->ug);
        t->ug = NULL;
        dp_buf_release(&t->pend);
        free(t->ends);
        free(t->times);
        t->ends = NULL;
        t->times = NULL;
        heap[0] = heap[--hn];
        sift_down(heap, hn, 0);
        continue;
      }
      int64_t planned = t->ug->starts[t->ug->cur];
      if (planned > t->key) {
        /* not yet: wait in the heap until the session's planned start */
        t->key = planned;
        sift_down(heap, hn, 0);
        continue;
      }
      tc.cur = t;
      if ((st = dp_session(t->ug, s, &w->gp, sink_pending, &tc)) != DOPPEL_OK) break;
      t->key = t->n_rec ? t->times[0] : t->key;
      sift_down(heap, hn, 0);
      continue;
    }
    /* emit the next record of this user */
    size_t a = t->next_rec ? t->ends[t->next_rec - 1] : 0, bnd = t->ends[t->next_rec];
    put(&w->buf, t->pend.data + a, bnd - a);
    t->next_rec++;
    if ((st = flush(w, 0)) != DOPPEL_OK) break;
    if (t->next_rec < t->n_rec) t->key = t->times[t->next_rec];
    else if (t->ug->cur < t->ug->n) {
      int64_t planned = t->ug->starts[t->ug->cur];
      t->key = planned > t->key ? planned : t->key;
    }
    sift_down(heap, hn, 0);
  }
  for (size_t i = 0; i < n; i++) {
    if (nodes[i].ug) {
      dp_user_gen_release(nodes[i].ug);
      free(nodes[i].ug);
    }
    dp_buf_release(&nodes[i].pend);
    free(nodes[i].ends);
    free(nodes[i].times);
  }
  free(nodes);
  free(heap);
  return st;
}

/* ---- public ---- */

doppel_status doppel_synth_new(doppel_synth **out, const json_t *profile, doppel_diag *diag) {
  return doppel_synth_new_with(out, profile, NULL, diag);
}

doppel_status doppel_synth_new_with(doppel_synth **out, const json_t *profile, const doppel_synth_compile_options *opt,
                                    doppel_diag *diag) {
  *out = NULL;
  doppel_synth *s = calloc(1, sizeof *s);
  if (!s) return dp_diag_set(diag, DOPPEL_E_NOMEM, NULL, 0, 0, NULL);
  if (opt) s->pilot_users = opt->pilot_users;
  doppel_status st = dp_synth_compile(s, profile, diag);
  if (st != DOPPEL_OK) {
    dp_synth_release(s);
    free(s);
    return st;
  }
  /* occurrences of each path per event, over all events */
  double *occ = calloc(s->n_gslots + 1, sizeof *occ);
  if (!occ) {
    doppel_synth_free(s);
    return dp_diag_set(diag, DOPPEL_E_NOMEM, NULL, 0, 0, NULL);
  }
  for (uint32_t x = 0; x < s->n_ev; x++)
    for (uint32_t i = 0; i < s->ev[x].n_props; i++) occ[s->ev[x].props[i].gslot] += s->ev[x].share * s->ev[x].props[i].presence;
  double ou[101], os[101];
  const dp_dist *epu = &s->events_per_user, *eps = &s->events_per_session;
  for (uint32_t x = 0; x <= s->n_ev; x++) {
    uint32_t np = x < s->n_ev ? s->ev[x].n_props : s->n_uprops;
    dp_pgen *pg = x < s->n_ev ? s->ev[x].props : s->uprops;
    for (uint32_t i = 0; i < np; i++) {
      double o1 = x < s->n_ev ? occ[pg[i].gslot] : pg[i].presence;
      for (int k = 0; k <= 100; k++) {
        double q = k / 100.0;
        dp_vrng r = {0};
        ou[k] = round((epu->kind ? dp_dist_sample(epu, q * 0.999, &r) : 10) * o1);
        os[k] = round(dp_dist_sample(eps, q * 0.999, &r) * o1);
      }
      dp_gen_calibrate(&pg[i], ou, os);
    }
  }
  free(occ);
  /* users per event from the profile, for the pilot calibration */
  double *tu = calloc(s->n_ev + 1, sizeof *tu);
  if (!tu) {
    doppel_synth_free(s);
    return dp_diag_set(diag, DOPPEL_E_NOMEM, NULL, 0, 0, NULL);
  }
  const json_t *list = json_object_get(json_object_get(profile, "events"), "list");
  double U = (double)s->profile_users;
  for (uint32_t y = 0; y < s->n_ev; y++) {
    double uy = json_number_value(json_object_get(json_array_get(list, y), "users"));
    tu[y] = uy > 0 && U > 0 ? uy / U : 1;
  }
  st = dp_synth_pilot(s, tu);
  free(tu);
  /* per slot, its properties with the rarest event (fewest eligible users) first */
  if (st == DOPPEL_OK && s->n_gslots) {
    s->gslot_src = calloc(s->n_gslots, sizeof *s->gslot_src);
    if (!s->gslot_src) st = DOPPEL_E_NOMEM;
    for (uint32_t gs = 0; st == DOPPEL_OK && gs < s->n_gslots; gs++) {
      dp_slot_src *ss = &s->gslot_src[gs];
      ss->ev = calloc(s->n_ev + 1, sizeof *ss->ev);
      ss->pg = calloc(s->n_ev + 1, sizeof *ss->pg);
      if (!ss->ev || !ss->pg) {
        st = DOPPEL_E_NOMEM;
        break;
      }
      for (uint32_t x = 0; x < s->n_ev; x++)
        for (uint32_t i = 0; i < s->ev[x].n_props; i++)
          if (s->ev[x].props[i].gslot == gs) {
            uint32_t k = ss->n++;
            ss->ev[k] = x;
            ss->pg[k] = &s->ev[x].props[i];
            /* insertion by eligibility (stable: ties keep event order) */
            while (k > 0 && s->elig[ss->ev[k - 1]] > s->elig[x]) {
              ss->ev[k] = ss->ev[k - 1];
              ss->pg[k] = ss->pg[k - 1];
              ss->ev[k - 1] = x;
              ss->pg[k - 1] = &s->ev[x].props[i];
              k--;
            }
          }
    }
  }
  if (st != DOPPEL_OK) {
    doppel_synth_free(s);
    return dp_diag_set(diag, st, NULL, 0, 0, NULL);
  }
  *out = s;
  return DOPPEL_OK;
}

void doppel_synth_free(doppel_synth *s) {
  if (!s) return;
  dp_synth_release(s);
  free(s);
}

uint64_t doppel_synth_profile_users(const doppel_synth *s) { return s->profile_users; }
double doppel_synth_mean_events_per_user(const doppel_synth *s) { return s->mean_events; }

static int valid_table(const char *t) {
  if (!t || !*t || strlen(t) > 63) return 0;
  if (!((t[0] >= 'a' && t[0] <= 'z') || (t[0] >= 'A' && t[0] <= 'Z') || t[0] == '_')) return 0;
  for (const char *p = t; *p; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_')) return 0;
  return 1;
}

doppel_status doppel_synth_write(const doppel_synth *s, const doppel_synth_options *o, doppel_output *out,
                                 doppel_synth_summary *sum, doppel_diag *diag) {
  memset(sum, 0, sizeof *sum);
  sum->first_us = INT64_MAX;
  sum->last_us = INT64_MIN;
  uint32_t shards = o->shards ? o->shards : 1;
  if (o->shard >= shards) return dp_diag_set(diag, DOPPEL_E_USAGE, NULL, 0, 0, "--shard: shard %u of %u does not exist (shards are numbered 0..%u)", o->shard, shards, shards - 1);
  const char *table = o->table ? o->table : "events";
  if (o->format == DOPPEL_SYNTH_SQL && !valid_table(table))
    return dp_diag_set(diag, DOPPEL_E_USAGE, NULL, 0, 0, "--table: expected a SQL identifier (letters, digits, '_'), got '%s'", table);
  doppel_dialect d = o->dialect == DOPPEL_DIALECT_AUTO ? s->src_dialect : o->dialect;
  if (d == DOPPEL_DIALECT_GA4) d = DOPPEL_DIALECT_GENERIC;
  if (o->format != DOPPEL_SYNTH_JSONL) d = DOPPEL_DIALECT_GENERIC;
  uint64_t users = o->users;
  if (o->events) {
    double u = (double)o->events / (s->mean_events > 0 ? s->mean_events : 1);
    users = (uint64_t)fmax(1, llround(u));
  }
  if (!users) users = s->profile_users;
  if (users > UINT64_C(1) << 40) return dp_diag_set(diag, DOPPEL_E_USAGE, NULL, 0, 0, "too many users requested");
  wctx w;
  memset(&w, 0, sizeof w);
  w.s = s;
  w.o = o;
  w.d = d;
  w.out = out;
  w.diag = diag;
  w.sum = sum;
  w.table = table;
  dp_buf_init(&w.buf, 0);
  dp_buf_init(&w.rec, 0);
  dp_buf_init(&w.idj, 0);
  w.tday = -1;
  w.nomem0 = dp_nomem_count();
  doppel_status st = dp_gen_params_init(&w.gp, s, o->seed, o->start_us, o->days);
  if (st != DOPPEL_OK) {
    unprepare(&w);
    if (st == DOPPEL_E_USAGE) return dp_diag_set(diag, st, NULL, 0, 0, "--days: at most %d days", DP_RET_MAX);
    return dp_diag_set(diag, st, NULL, 0, 0, NULL);
  }
  uint64_t first = users * o->shard / shards, end = users * (o->shard + 1) / shards;
  sum->user_first = first;
  sum->user_end = end;
  sum->users = end - first;
  sum->dialect = d;
  if ((st = prepare(&w)) != DOPPEL_OK) {
    unprepare(&w);
    return dp_diag_set(diag, st, NULL, 0, 0, NULL);
  }
  header(&w);
  if (o->order == DOPPEL_SYNTH_ORDER_TIME) {
    st = run_time_order(&w, first, end);
  } else {
    dp_user_gen ug;
    if ((st = dp_user_gen_init(&ug, s)) == DOPPEL_OK) {
      for (uint64_t u = first; u < end && st == DOPPEL_OK; u++) {
        if ((st = dp_user_init(&ug, s, &w.gp, u)) != DOPPEL_OK) break;
        sum->sessions += ug.n;
        while (ug.cur < ug.n && st == DOPPEL_OK) st = dp_session(&ug, s, &w.gp, sink_direct, &w);
      }
    }
    dp_user_gen_release(&ug);
  }
  if (st == DOPPEL_OK) {
    trailer(&w);
    st = flush(&w, 1);
  } else if (diag && diag->status == DOPPEL_OK) {
    dp_diag_set(diag, st, NULL, 0, 0, NULL);
  }
  unprepare(&w);
  if (sum->first_us == INT64_MAX) sum->first_us = sum->last_us = 0;
  return st;
}

doppel_status doppel_synth_file(const char *profile_path, const char *output, const doppel_synth_options *opt,
                                doppel_synth_summary *sum, doppel_diag *diag) {
  memset(sum, 0, sizeof *sum);
  gzFile f = gzopen(profile_path, "rb");
  if (!f) {
    int e = errno;
    return dp_diag_set(diag, DOPPEL_E_IO, profile_path, 0, 0, "cannot open '%s': %s", profile_path, strerror(e ? e : ENOENT));
  }
  dp_buf b;
  dp_buf_init(&b, (size_t)1 << 30);
  for (;;) {
    doppel_status rs = dp_buf_reserve(&b, 1 << 16);
    if (rs != DOPPEL_OK) {
      gzclose(f);
      dp_buf_release(&b);
      if (rs != DOPPEL_E_LIMIT) return dp_diag_set(diag, rs, profile_path, 0, 0, NULL);
      return dp_diag_set(diag, DOPPEL_E_LIMIT, profile_path, 0, 0, "profile larger than 1 GiB");
    }
    int got = gzread(f, b.data + b.len, 1 << 16);
    if (got < 0) {
      int ez;
      const char *m = gzerror(f, &ez);
      gzclose(f);
      dp_buf_release(&b);
      return dp_diag_set(diag, DOPPEL_E_IO, profile_path, 0, 0, "cannot read '%s': %s", profile_path, m);
    }
    if (got == 0) break;
    b.len += (size_t)got;
  }
  gzclose(f);
  json_error_t je;
  int nomem;
  json_t *doc = dp_nomem_json_loadb(b.data ? b.data : "", b.len, JSON_REJECT_DUPLICATES, &je, &nomem);
  dp_buf_release(&b);
  if (nomem) return dp_diag_set(diag, DOPPEL_E_NOMEM, profile_path, 0, 0, "cannot read the profile: out of memory");
  if (!doc)
    return dp_diag_set(diag, DOPPEL_E_DATA, profile_path, (uint64_t)(je.line > 0 ? je.line : 0),
                       (uint64_t)(je.column > 0 ? je.column : 0), "not valid JSON: %s", je.text);
  doppel_synth *s;
  doppel_status st = doppel_synth_new(&s, doc, diag);
  json_decref(doc);
  if (st != DOPPEL_OK) {
    if (diag && !diag->source[0]) snprintf(diag->source, sizeof diag->source, "%s", profile_path);
    return st;
  }
  doppel_output *out;
  if ((st = doppel_output_open(&out, output, &profile_path, 1, diag)) != DOPPEL_OK) {
    doppel_synth_free(s);
    return st;
  }
  st = doppel_synth_write(s, opt, out, sum, diag);
  doppel_synth_free(s);
  if (st != DOPPEL_OK) {
    doppel_output_abort(out);
    return st;
  }
  return doppel_output_commit(out, diag);
}
