/*
 * finalize.c — turns a profiler's state into the profile document
 * (docs/profile-format.md): closes every user's open sessions, merges the
 * kept sample levels, applies the privacy rules (k users behind everything
 * listed, clipped extremes, identifiers as shapes only), classifies every
 * field for the ledger, and derives the data-quality warnings. Also the
 * deterministic, human-readable serializer doppel_profile_dump().
 */
#include "profile/profile_int.h"

#include <doppel/doppel.h>
#include <doppel/pii.h>
#include <doppel/time.h>

#include <ctype.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/diag.h"
#include "core/nomem.h"

doppel_status dp_seq_merge(dp_seq *dst, const dp_seq *src);

/* Every allocation below makes a part of the profile: one that fails is
 * counted (dp_nomem_malloc(), core/nomem.h), so doppel_profiler_profile()
 * says out of memory instead of returning the profile without that part. */

/* ---- numbers ---- */

static json_t *num(double v) {
  if (!isfinite(v)) return json_null();
  if (v == floor(v) && fabs(v) < 9007199254740992.0) return json_integer((json_int_t)v);
  /* 6 significant digits */
  char b[32];
  snprintf(b, sizeof b, "%.6g", v);
  return json_real(strtod(b, NULL));
}

static json_t *share(uint64_t a, uint64_t b) { return b ? num((double)a / (double)b) : json_integer(0); }

static void day_text(int32_t day, char out[16]) {
  char t[32];
  doppel_time_format((int64_t)day * 86400000000LL, t);
  memcpy(out, t, 10);
  out[10] = '\0';
}

/* ---- distributions ---- */

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* DIST from exact values (sorted in place); extremes clipped at the k-th
 * smallest/largest value (one value per user). */
static json_t *dist_values(double *v, size_t n, uint32_t k, int integer) {
  if (n == 0) return json_null();
  qsort(v, n, sizeof *v, cmp_double);
  double sum = 0;
  for (size_t i = 0; i < n; i++) sum += v[i];
  json_t *o = json_object();
  json_object_set_new(o, "n", json_integer((json_int_t)n));
  json_object_set_new(o, "mean", num(sum / (double)n));
  if (integer) json_object_set_new(o, "integer", json_true());
  if (n < k) return o;
  double lo = v[k - 1], hi = v[n - k];
  json_t *q = json_array();
  for (int i = 0; i <= 100; i++) {
    double x = v[(size_t)floor((double)i / 100.0 * (double)(n - 1))];
    if (x < lo) x = lo;
    if (x > hi) x = hi;
    json_array_append_new(q, num(x));
  }
  json_object_set_new(o, "q", q);
  return o;
}

/* DIST from a DDSketch; hi/lo are the clip bounds when known (have_*),
 * else the value of rank k (from each end) is used. */
static json_t *dist_sketch(const doppel_ddsketch *s, int have_lo, double lo, int have_hi, double hi,
                           uint64_t users, uint32_t k, int integer) {
  if (!s || doppel_ddsketch_count(s) == 0) return json_null();
  uint64_t n = doppel_ddsketch_count(s);
  json_t *o = json_object();
  json_object_set_new(o, "n", json_integer((json_int_t)n));
  json_object_set_new(o, "mean", num(doppel_ddsketch_mean(s)));
  if (integer) json_object_set_new(o, "integer", json_true());
  if (users < k || n < k) return o;
  double qlo, qhi;
  if (!have_lo) doppel_ddsketch_quantile(s, (double)(k - 1) / (double)(n - 1 ? n - 1 : 1), &qlo, NULL);
  else qlo = lo;
  if (!have_hi) doppel_ddsketch_quantile(s, (double)(n - k) / (double)(n - 1 ? n - 1 : 1), &qhi, NULL);
  else qhi = hi;
  if (integer) {
    qlo = round(qlo);
    qhi = round(qhi);
  }
  if (qhi < qlo) qhi = qlo;
  json_t *q = json_array();
  for (int i = 0; i <= 100; i++) {
    double x;
    if (i == 0) x = qlo;
    else if (i == 100) x = qhi;
    else {
      doppel_ddsketch_quantile(s, i / 100.0, &x, NULL);
      if (integer) x = round(x);
      if (x < qlo) x = qlo;
      if (x > qhi) x = qhi;
    }
    json_array_append_new(q, num(x));
  }
  json_object_set_new(o, "q", q);
  return o;
}

/* ---- privacy classification ---- */

typedef struct gclass {
  doppel_pii_class cls;
  const char *kind;
  json_t *treatment; /* new reference or NULL */
} gclass;

static json_t *treat_hash(const char *domain, const char *format) {
  json_t *t = json_object();
  json_object_set_new(t, "action", json_string("hash"));
  json_object_set_new(t, "domain", json_string(domain));
  if (format) json_object_set_new(t, "format", json_string(format));
  return t;
}

static json_t *treat_simple(const char *action) {
  json_t *t = json_object();
  json_object_set_new(t, "action", json_string(action));
  return t;
}

static const char *const match_names[DP_NMATCH] = {"email", "phone", "ipv4", "ipv6", "card", "iban",
                                                   "ssn", "uuid", "url_personal", "coordinates",
                                                   "any", "hostname", "hex"};

static void classify(const dp_gpath *g, gclass *c) {
  c->cls = DOPPEL_PII_CLASS_NONE;
  c->kind = "none";
  c->treatment = NULL;
  double sv = g->strings ? (double)g->strings : 1.0;
  double email = (double)g->match[DP_M_EMAIL] / sv;
  switch (g->canon) {
    case DP_CANON_USER:
      c->cls = DOPPEL_PII_CLASS_DIRECT;
      if (email >= 0.5) {
        c->kind = "email";
        c->treatment = treat_hash("email", "email");
      } else {
        c->kind = "user_id";
        c->treatment = treat_hash("id", NULL);
      }
      return;
    case DP_CANON_DEVICE:
      c->cls = DOPPEL_PII_CLASS_DIRECT;
      c->kind = "device_id";
      c->treatment = treat_hash("id", NULL);
      return;
    case DP_CANON_IP:
      c->cls = DOPPEL_PII_CLASS_DIRECT;
      c->kind = "ip";
      c->treatment = treat_hash("ip", NULL);
      return;
    case DP_CANON_EVENT: c->kind = "event_name"; return;
    case DP_CANON_TIME: c->kind = "timestamp"; return;
    case DP_CANON_SESSION: c->kind = "session_id"; return;
    case DP_CANON_INSERT: c->kind = "insert_id"; return;
    default: break;
  }
  doppel_pii_kind nk = (doppel_pii_kind)g->name_kind;
  switch (nk) {
    case DOPPEL_PII_EMAIL: c->cls = DOPPEL_PII_CLASS_DIRECT; c->kind = "email"; c->treatment = treat_hash("email", "email"); return;
    case DOPPEL_PII_PHONE: c->cls = DOPPEL_PII_CLASS_DIRECT; c->kind = "phone"; c->treatment = treat_hash("phone", "phone"); return;
    case DOPPEL_PII_NAME: c->cls = DOPPEL_PII_CLASS_DIRECT; c->kind = "name"; c->treatment = treat_hash("name", "hex"); return;
    case DOPPEL_PII_ADDRESS: c->cls = DOPPEL_PII_CLASS_DIRECT; c->kind = "address"; c->treatment = treat_hash("address", "hex"); return;
    case DOPPEL_PII_SSN: c->cls = DOPPEL_PII_CLASS_DIRECT; c->kind = "ssn"; c->treatment = treat_hash("ssn", "hex"); return;
    case DOPPEL_PII_CARD: c->cls = DOPPEL_PII_CLASS_DIRECT; c->kind = "card"; c->treatment = treat_hash("card", "hex"); return;
    case DOPPEL_PII_IBAN: c->cls = DOPPEL_PII_CLASS_DIRECT; c->kind = "iban"; c->treatment = treat_hash("iban", "hex"); return;
    case DOPPEL_PII_IP: case DOPPEL_PII_IPV4: case DOPPEL_PII_IPV6:
      c->cls = DOPPEL_PII_CLASS_DIRECT; c->kind = "ip"; c->treatment = treat_hash("ip", NULL); return;
    case DOPPEL_PII_USER_ID: c->cls = DOPPEL_PII_CLASS_DIRECT; c->kind = "user_id"; c->treatment = treat_hash("id", NULL); return;
    case DOPPEL_PII_DEVICE_ID: c->cls = DOPPEL_PII_CLASS_DIRECT; c->kind = "device_id"; c->treatment = treat_hash("id", NULL); return;
    case DOPPEL_PII_LOCATION: {
      c->cls = DOPPEL_PII_CLASS_DIRECT;
      c->kind = "location";
      json_t *t = treat_simple("generalize");
      json_object_set_new(t, "round", json_integer(2));
      c->treatment = t;
      return;
    }
    case DOPPEL_PII_BIRTHDATE: {
      c->cls = DOPPEL_PII_CLASS_QUASI;
      c->kind = "birthdate";
      json_t *t = treat_simple("generalize");
      json_object_set_new(t, "truncate", json_string("year"));
      c->treatment = t;
      return;
    }
    case DOPPEL_PII_POSTCODE: {
      c->cls = DOPPEL_PII_CLASS_QUASI;
      c->kind = "postcode";
      json_t *t = treat_simple("generalize");
      json_object_set_new(t, "keep_chars", json_integer(3));
      c->treatment = t;
      return;
    }
    case DOPPEL_PII_SENSITIVE: c->cls = DOPPEL_PII_CLASS_SENSITIVE; c->kind = "sensitive"; c->treatment = treat_simple("drop"); return;
    case DOPPEL_PII_FREE_TEXT: c->cls = DOPPEL_PII_CLASS_QUASI; c->kind = "free_text"; c->treatment = treat_simple("scrub"); return;
    case DOPPEL_PII_CITY: c->cls = DOPPEL_PII_CLASS_QUASI; c->kind = "city"; return;
    case DOPPEL_PII_USER_AGENT: c->cls = DOPPEL_PII_CLASS_QUASI; c->kind = "user_agent"; return;
    case DOPPEL_PII_URL: c->cls = DOPPEL_PII_CLASS_QUASI; c->kind = "url"; return;
    case DOPPEL_PII_UUID: c->kind = "uuid"; return;
    default: break;
  }
  if (!g->strings) return;
  static const struct { int m; const char *kind, *domain, *format; } direct[] = {
      {DP_M_EMAIL, "email", "email", "email"}, {DP_M_PHONE, "phone", "phone", "phone"},
      {DP_M_IPV4, "ipv4", "ip", NULL},          {DP_M_IPV6, "ipv6", "ip", NULL},
      {DP_M_CARD, "card", "card", "hex"},       {DP_M_IBAN, "iban", "iban", "hex"},
      {DP_M_SSN, "ssn", "ssn", "hex"}};
  for (size_t i = 0; i < sizeof direct / sizeof direct[0]; i++) {
    if ((double)g->match[direct[i].m] / sv >= 0.5) {
      c->cls = DOPPEL_PII_CLASS_DIRECT;
      c->kind = direct[i].kind;
      c->treatment = treat_hash(direct[i].domain, direct[i].format);
      return;
    }
  }
  if ((double)g->match[DP_M_HOSTNAME] / sv >= 0.5) {
    c->cls = DOPPEL_PII_CLASS_QUASI;
    c->kind = "hostname";
    return;
  }
  uint64_t some = g->embedded[DP_M_EMBEDDED];
  for (size_t i = 0; i < sizeof direct / sizeof direct[0]; i++) some += g->match[direct[i].m];
  if (some) {
    c->cls = DOPPEL_PII_CLASS_QUASI;
    c->kind = "free_text";
    c->treatment = treat_simple("scrub");
    return;
  }
  if ((double)g->match[DP_M_UUID] / sv >= 0.5) c->kind = "uuid";
  else if ((double)g->match[DP_M_HEX] / sv >= 0.9) c->kind = "hex"; /* hashes, commit ids */
}

static json_t *evidence(const dp_gpath *g) {
  json_t *e = json_object();
  if (g->name_kind != DOPPEL_PII_NONE) {
    size_t s = g->len;
    while (s > 0 && g->path[s - 1] != '.') s--;
    json_object_set_new(e, "name_match", json_string(g->path + s));
  }
  json_object_set_new(e, "values", json_integer((json_int_t)g->values));
  json_t *m = json_object();
  double sv = g->strings ? (double)g->strings : 1.0;
  for (int i = 0; i < DP_NMATCH; i++)
    if (g->match[i] && i != DP_M_EMBEDDED) json_object_set_new(m, match_names[i], num((double)g->match[i] / sv));
  for (int i = 0; i < DP_NMATCH; i++) {
    if (!g->embedded[i]) continue;
    char key[40];
    snprintf(key, sizeof key, "embedded_%s", match_names[i]);
    json_object_set_new(m, key, num((double)g->embedded[i] / sv));
  }
  if (json_object_size(m)) json_object_set_new(e, "matches", m);
  else json_decref(m);
  return e;
}

/* ---- finishing users ---- */

doppel_status dp_finish_users(doppel_profiler *p) {
  if (p->finished) return DOPPEL_OK;
  for (size_t i = 0; i < p->n_users; i++) {
    dp_user *u = &p->users[i];
    doppel_status st;
    if (u->sessions >= 2 && (st = dp_sess_finalize(p, u, &u->head, 'H')) != DOPPEL_OK) return st;
    if (u->sessions >= 1 && (st = dp_sess_finalize(p, u, &u->tail, 'S')) != DOPPEL_OK) return st;
  }
  p->finished = 1;
  return DOPPEL_OK;
}

/* ---- the profile ---- */

typedef struct fin {
  doppel_profiler *p;
  dp_seq *seq;            /* merged sequence statistics */
  uint8_t *ev_listed;     /* per event: listed (k users, no personal data) */
  uint32_t *ev_rank;      /* per event: position in the listing order */
  uint8_t *gp_listed;     /* per global path: listed */
  gclass *gcls;           /* per global path */
  uint64_t *user_with, *user_const; /* per global path */
  double rate;            /* user sample rate */
  uint64_t supp_values, supp_patterns, supp_trans, supp_paths, supp_props, supp_cohorts;
  json_t *warnings;
} fin;

static int ev_ok(const fin *f, uint32_t e) { return e < f->p->n_ev && f->ev_listed[e]; }

static json_t *ev_name_json(const fin *f, uint32_t e) {
  if (e == DP_EV_END) return json_string("$end");
  if (!ev_ok(f, e)) return json_string("$other");
  return json_stringn(f->p->ev[e].name, f->p->ev[e].len);
}

static void warn(fin *f, const char *code, const char *severity, const char *scope, uint64_t count,
                 const char *message, const char *hint) {
  json_t *w = json_object();
  json_object_set_new(w, "code", json_string(code));
  json_object_set_new(w, "severity", json_string(severity));
  json_object_set_new(w, "scope", json_string(scope));
  json_object_set_new(w, "count", json_integer((json_int_t)count));
  json_object_set_new(w, "message", json_string(message));
  json_object_set_new(w, "hint", json_string(hint));
  json_array_append_new(f->warnings, w);
}

static _Thread_local const doppel_profiler *sort_p;

static int cmp_file(const void *a, const void *b) {
  const dp_file *x = &sort_p->files[*(const uint32_t *)a], *y = &sort_p->files[*(const uint32_t *)b];
  int c = strcmp(x->name, y->name);
  if (c) return c;
  if (x->records != y->records) return x->records < y->records ? -1 : 1;
  return x->bytes < y->bytes ? -1 : x->bytes > y->bytes;
}

static json_t *section_source(fin *f) {
  doppel_profiler *p = f->p;
  json_t *s = json_object();
  json_object_set_new(s, "format", json_string(p->format == DOPPEL_FORMAT_CSV ? "csv" : "jsonl"));
  json_object_set_new(s, "dialect", json_string(doppel_dialect_name(p->dialect)));
  json_object_set_new(s, "dialect_evidence", json_string(p->evidence));
  json_t *files = json_array();
  uint32_t *fo_ix = dp_nomem_malloc((p->n_files + 1) * sizeof *fo_ix);
  for (size_t i = 0; fo_ix && i < p->n_files; i++) fo_ix[i] = (uint32_t)i;
  sort_p = p;
  if (fo_ix) qsort(fo_ix, p->n_files, sizeof *fo_ix, cmp_file);
  sort_p = NULL;
  for (size_t r = 0; fo_ix && r < p->n_files; r++) {
    size_t i = fo_ix[r];
    json_t *fo = json_object();
    json_object_set_new(fo, "name", json_string(p->files[i].name));
    json_object_set_new(fo, "records", json_integer((json_int_t)p->files[i].records));
    json_object_set_new(fo, "bytes", json_integer((json_int_t)p->files[i].bytes));
    json_array_append_new(files, fo);
  }
  free(fo_ix);
  json_object_set_new(s, "files", files);
  json_object_set_new(s, "records", json_integer((json_int_t)p->records));
  json_object_set_new(s, "bytes", json_integer((json_int_t)p->bytes));
  json_object_set_new(s, "events", json_integer((json_int_t)p->events));
  json_t *sk = json_object();
  json_object_set_new(sk, "malformed", json_integer((json_int_t)p->malformed));
  json_object_set_new(sk, "no_user", json_integer((json_int_t)p->no_user));
  json_object_set_new(sk, "no_event", json_integer((json_int_t)p->no_event));
  json_object_set_new(sk, "no_time", json_integer((json_int_t)p->no_time));
  json_object_set_new(s, "skipped", sk);
  json_t *pe = json_array();
  size_t ek_ix[DP_MAX_ERR_KINDS];
  for (size_t i = 0; i < p->n_errk; i++) ek_ix[i] = i;
  for (size_t a = 1; a < p->n_errk; a++)
    for (size_t b = a; b > 0 && strcmp(p->errk[ek_ix[b - 1]].kind, p->errk[ek_ix[b]].kind) > 0; b--) {
      size_t t = ek_ix[b];
      ek_ix[b] = ek_ix[b - 1];
      ek_ix[b - 1] = t;
    }
  for (size_t r = 0; r < p->n_errk; r++) {
    size_t i = ek_ix[r];
    json_t *eo = json_object();
    json_object_set_new(eo, "kind", json_string(p->errk[i].kind));
    json_object_set_new(eo, "count", json_integer((json_int_t)p->errk[i].count));
    json_t *ls = json_array();
    for (uint32_t j = 0; j < p->errk[i].n_lines; j++) json_array_append_new(ls, json_string(p->errk[i].lines[j]));
    json_object_set_new(eo, "first_lines", ls);
    json_array_append_new(pe, eo);
  }
  json_object_set_new(s, "parse_errors", pe);
  json_t *ts = json_object();
  if (p->events) {
    char a[16], b[16];
    int32_t d0 = dp_day_of(p->min_us), d1 = dp_day_of(p->max_us);
    day_text(d0, a);
    day_text(d1, b);
    json_object_set_new(ts, "first_day", json_string(a));
    json_object_set_new(ts, "last_day", json_string(b));
    json_object_set_new(ts, "days", json_integer((json_int_t)d1 - d0 + 1));
  } else {
    json_object_set_new(ts, "first_day", json_null());
    json_object_set_new(ts, "last_day", json_null());
    json_object_set_new(ts, "days", json_integer(0));
  }
  json_object_set_new(s, "time_span", ts);
  json_object_set_new(s, "time_resolution", json_string(p->time_frac & 2 ? "us" : p->time_frac & 1 ? "ms" : "s"));
  json_object_set_new(s, "key_id", p->key_id[0] ? json_string(p->key_id) : json_null());
  json_t *pa = json_object();
  json_object_set_new(pa, "k", json_integer(p->k));
  json_object_set_new(pa, "session_gap_s", num((double)p->gap_us / 1e6));
  json_object_set_new(pa, "max_users", json_integer((json_int_t)p->max_users));
  json_object_set_new(pa, "user_sample_rate", num(f->rate));
  json_object_set_new(pa, "epsilon", json_null());
  json_object_set_new(s, "parameters", pa);
  return s;
}

static json_t *section_population(fin *f) {
  doppel_profiler *p = f->p;
  json_t *o = json_object();
  json_t *u = json_object();
  if (p->drop_level == 0) {
    json_object_set_new(u, "estimate", json_integer((json_int_t)p->n_users));
    json_object_set_new(u, "std_error", json_integer(0));
    json_object_set_new(u, "exact", json_true());
  } else {
    doppel_hll_estimate e = doppel_hll_query(p->users_hll);
    json_object_set_new(u, "estimate", json_integer((json_int_t)llround(e.estimate)));
    json_object_set_new(u, "std_error", num(round(e.std_error)));
    json_object_set_new(u, "exact", json_false());
  }
  json_object_set_new(o, "users", u);
  json_t *d = json_object();
  doppel_hll_estimate de = doppel_hll_query(p->devices_hll);
  json_object_set_new(d, "estimate", json_integer((json_int_t)llround(de.estimate)));
  json_object_set_new(d, "std_error", num(round(de.std_error)));
  json_object_set_new(d, "exact", json_false());
  json_object_set_new(o, "devices", d);
  size_t n = p->n_users;
  double *v = dp_nomem_malloc((n + 1) * sizeof *v);
  if (!v) return o;
  static const char *const names[] = {"events_per_user", "sessions_per_user", "active_days_per_user",
                                      "lifetime_days", "sessions_per_active_day"};
  for (int which = 0; which < 5; which++) {
    for (size_t i = 0; i < n; i++) {
      const dp_user *us = &p->users[i];
      switch (which) {
        case 0: v[i] = (double)us->events; break;
        case 1: v[i] = (double)us->sessions; break;
        case 2: v[i] = (double)us->active_days; break;
        case 3: v[i] = (double)(us->last_day - us->first_day + 1); break;
        default: v[i] = us->active_days ? (double)us->sessions / us->active_days : 0; break;
      }
    }
    json_object_set_new(o, names[which], dist_values(v, n, p->k, which < 4));
  }
  free(v);
  return o;
}

/* distinct items (HLL estimate) beyond the listed ones: what was withheld */
static uint64_t withheld(const doppel_hll *h, uint64_t listed) {
  double est = doppel_hll_query(h).estimate;
  long long e = llround(est);
  return e > (long long)listed ? (uint64_t)(e - (long long)listed) : 0;
}

static json_t *section_identifiers(fin *f) {
  doppel_profiler *p = f->p;
  static const char *const names[] = {"user_id", "device_id", "session_id", "insert_id"};
  static const char *const kinds[] = {"email", "uuid", "hex", "ipv4", "ipv6", "hostname", "integer", "string"};
  json_t *o = json_object();
  for (int i = 0; i < 4; i++) {
    const struct dp_idstat *x = &p->ids[i];
    if (!x->present) {
      json_object_set_new(o, names[i], json_null());
      continue;
    }
    json_t *e = json_object();
    json_object_set_new(e, "present", share(x->present, p->events));
    int best = 7;
    uint64_t bc = 0;
    for (int k = 0; k < 8; k++)
      if (x->kinds[k] > bc) bc = x->kinds[k], best = k;
    json_object_set_new(e, "kind", json_string(kinds[best]));
    doppel_hll_estimate de = doppel_hll_query(x->distinct);
    json_object_set_new(e, "distinct", json_integer((json_int_t)llround(de.estimate)));
    double lo, hi;
    int hl = dp_ext_bound(&x->len_lo, &lo), hh = dp_ext_bound(&x->len_hi, &hi);
    json_object_set_new(e, "length", dist_sketch(x->len, hl, lo, hh, hi, hh ? p->k : 0, p->k, 1));
    json_t *pats = json_array();
    uint32_t *ix = dp_kc_sorted(&x->patterns);
    uint64_t safe = 0;
    for (uint32_t r = 0; ix && r < x->patterns.n; r++) {
      const dp_kc_entry *pe = &x->patterns.e[ix[r]];
      if (pe->n_users < p->k || pe->count <= x->patterns.error) continue;
      safe++;
      json_t *po = json_object();
      json_object_set_new(po, "pattern", json_stringn(pe->val, pe->vlen));
      json_object_set_new(po, "share", share(pe->count, x->present));
      json_array_append_new(pats, po);
    }
    free(ix);
    f->supp_patterns += withheld(x->pat_distinct, safe);
    json_object_set_new(e, "patterns", pats);
    json_object_set_new(o, names[i], e);
  }
  return o;
}

static int cmp_ev_order(const void *a, const void *b, const doppel_profiler *p) {
  const dp_event *x = &p->ev[*(const uint32_t *)a], *y = &p->ev[*(const uint32_t *)b];
  if (x->count != y->count) return x->count < y->count ? 1 : -1;
  size_t n = x->len < y->len ? x->len : y->len;
  int c = memcmp(x->name, y->name, n);
  return c ? c : (x->len < y->len ? -1 : x->len > y->len);
}

static int cmp_ev(const void *a, const void *b) { return cmp_ev_order(a, b, sort_p); }

static uint32_t *event_order(doppel_profiler *p) {
  uint32_t *ix = dp_nomem_malloc((p->n_ev + 1) * sizeof *ix);
  if (!ix) return NULL;
  for (size_t i = 0; i < p->n_ev; i++) ix[i] = (uint32_t)i;
  sort_p = p;
  qsort(ix, p->n_ev, sizeof *ix, cmp_ev);
  sort_p = NULL;
  return ix;
}

static _Thread_local const fin *sort_f2;

/* name bytes of a transition target or path step for ordering */
static void step_name(const fin *f, uint32_t e, const char **s, size_t *n) {
  if (e == DP_EV_END) *s = "$end", *n = 4;
  else if (e == DP_EV_NONE) *s = "", *n = 0;
  else if (!ev_ok(f, e)) *s = "$other", *n = 6;
  else *s = f->p->ev[e].name, *n = f->p->ev[e].len;
}

static int cmp_names(const fin *f, uint32_t a, uint32_t b) {
  const char *x, *y;
  size_t xn, yn;
  step_name(f, a, &x, &xn);
  step_name(f, b, &y, &yn);
  size_t n = xn < yn ? xn : yn;
  int c = memcmp(x, y, n);
  return c ? c : (xn < yn ? -1 : xn > yn);
}

static int cmp_trans(const void *a, const void *b) {
  const dp_kc_entry *x = &sort_f2->seq->trans.e[*(const uint32_t *)a], *y = &sort_f2->seq->trans.e[*(const uint32_t *)b];
  uint32_t fx = (uint32_t)(x->key >> 32), fy = (uint32_t)(y->key >> 32);
  if (fx != fy) return fx < fy ? -1 : 1;
  if (x->count != y->count) return x->count > y->count ? -1 : 1;
  return cmp_names(sort_f2, (uint32_t)x->key, (uint32_t)y->key);
}

static int cmp_path(const void *a, const void *b) {
  const dp_kc_entry *x = &sort_f2->seq->paths.e[*(const uint32_t *)a], *y = &sort_f2->seq->paths.e[*(const uint32_t *)b];
  if (x->count != y->count) return x->count > y->count ? -1 : 1;
  uint32_t sx[3], sy[3];
  memcpy(sx, x->val, sizeof sx);
  memcpy(sy, y->val, sizeof sy);
  for (int i = 0; i < 3; i++) {
    int c = cmp_names(sort_f2, sx[i], sy[i]);
    if (c) return c;
  }
  return 0;
}

static json_t *section_events(fin *f, const uint32_t *order) {
  doppel_profiler *p = f->p;
  dp_seq *q = f->seq;
  json_t *o = json_object();
  json_object_set_new(o, "total", json_integer((json_int_t)p->events));
  uint64_t supp_names = 0, supp_events = p->overflow_events;
  for (size_t i = 0; i < p->n_ev; i++)
    if (!f->ev_listed[i]) supp_names++, supp_events += p->ev[i].count;
  json_t *so = json_object();
  json_object_set_new(so, "names", json_integer((json_int_t)supp_names));
  json_object_set_new(so, "events", json_integer((json_int_t)supp_events));
  json_object_set_new(o, "suppressed", so);
  /* transitions grouped by their source event, then by count and target name */
  uint32_t *tix = dp_nomem_malloc(((size_t)q->trans.n + 1) * sizeof *tix);
  size_t nt = 0;
  for (uint32_t t = 0; tix && t < q->trans.n; t++) tix[nt++] = t;
  sort_f2 = f;
  if (tix) qsort(tix, nt, sizeof *tix, cmp_trans);
  sort_f2 = NULL;
  size_t tpos = 0;
  json_t *list = json_array();
  for (size_t r = 0; r < p->n_ev; r++) {
    uint32_t e = order[r];
    if (!f->ev_listed[e]) continue;
    const dp_event *ev = &p->ev[e];
    json_t *eo = json_object();
    json_object_set_new(eo, "name", json_stringn(ev->name, ev->len));
    json_object_set_new(eo, "count", json_integer((json_int_t)ev->count));
    json_object_set_new(eo, "share", share(ev->count, p->events));
    doppel_hll_estimate he = doppel_hll_query(ev->users);
    json_object_set_new(eo, "users", json_integer((json_int_t)llround(he.estimate)));
    uint64_t sf = e < q->n_ev ? q->sess_first[e] : 0;
    json_object_set_new(eo, "session_first", json_integer((json_int_t)sf));
    json_object_set_new(eo, "session_first_share", share(sf, q->sessions));
    uint64_t from = e < q->n_ev ? q->trans_from[e] : 0;
    json_t *next = json_object();
    uint64_t listed = 0;
    /* the sorted transitions of e start at the first entry with source >= e */
    size_t lo = 0, hi = nt;
    while (lo < hi) {
      size_t mid = (lo + hi) / 2;
      if ((uint32_t)(q->trans.e[tix[mid]].key >> 32) < e) lo = mid + 1;
      else hi = mid;
    }
    for (tpos = lo; tpos < nt && (uint32_t)(q->trans.e[tix[tpos]].key >> 32) == e; tpos++) {
      const dp_kc_entry *te = &q->trans.e[tix[tpos]];
      uint32_t to = (uint32_t)te->key;
      if (te->n_users < p->k || (to != DP_EV_END && !ev_ok(f, to))) {
        f->supp_trans++;
        continue;
      }
      json_t *nm = ev_name_json(f, to);
      json_object_set_new(next, json_string_value(nm), share(te->count, from));
      json_decref(nm);
      listed += te->count;
    }
    if (from > listed) json_object_set_new(next, "$other", share(from - listed, from));
    json_object_set_new(eo, "next", next);
    json_object_set_new(eo, "next_n", json_integer((json_int_t)from));
    json_array_append_new(list, eo);
  }
  free(tix);
  json_object_set_new(o, "list", list);
  json_t *paths = json_array();
  uint32_t *pix = dp_nomem_malloc(((size_t)q->paths.n + 1) * sizeof *pix);
  size_t np = 0;
  for (uint32_t r = 0; pix && r < q->paths.n; r++) {
    const dp_kc_entry *pe = &q->paths.e[r];
    int bad = pe->n_users < p->k || pe->vlen != 12;
    if (!bad) {
      uint32_t steps[3];
      memcpy(steps, pe->val, sizeof steps);
      for (int i = 0; i < 3 && steps[i] != DP_EV_NONE; i++)
        if (steps[i] != DP_EV_END && !ev_ok(f, steps[i])) bad = 1;
    }
    if (bad) f->supp_paths++;
    else pix[np++] = r;
  }
  sort_f2 = f;
  if (pix) qsort(pix, np, sizeof *pix, cmp_path);
  sort_f2 = NULL;
  for (size_t r = 0; r < np && r < 50; r++) {
    const dp_kc_entry *pe = &q->paths.e[pix[r]];
    uint32_t steps[3];
    memcpy(steps, pe->val, sizeof steps);
    json_t *sa = json_array();
    for (int i = 0; i < 3 && steps[i] != DP_EV_NONE; i++) json_array_append_new(sa, ev_name_json(f, steps[i]));
    json_t *po = json_object();
    json_object_set_new(po, "steps", sa);
    json_object_set_new(po, "sessions", json_integer((json_int_t)pe->count));
    json_object_set_new(po, "share", share(pe->count, q->sessions));
    json_array_append_new(paths, po);
  }
  free(pix);
  json_object_set_new(o, "paths", paths);
  return o;
}

static json_t *u64_array_json(const uint64_t *v, size_t n) {
  json_t *a = json_array();
  for (size_t i = 0; i < n; i++) json_array_append_new(a, json_integer((json_int_t)v[i]));
  return a;
}

static json_t *how_array(const uint64_t *c) {
  uint64_t total = 0;
  for (int i = 0; i < 168; i++) total += c[i];
  json_t *a = json_array();
  for (int i = 0; i < 168; i++) json_array_append_new(a, share(c[i], total));
  return a;
}

/* Users grouped by their number of sessions: per group the users, the
 * histogram of their session lengths and of their active days (bins of
 * dp_lenbin_lo). Groups with fewer than k users join the next one. */
static json_t *by_user_sessions(fin *f) {
  static const uint32_t groups[] = {1, 2, 3, 4, 6, 9, 17, 33, 65, 129, 257, 1025, UINT32_MAX};
  const size_t ng = sizeof groups / sizeof groups[0] - 1;
  doppel_profiler *p = f->p;
  json_t *bins = json_array();
  for (int b = 0; b < DP_LENBINS; b++) json_array_append_new(bins, json_integer(dp_lenbin_lo[b]));
  json_t *rows = json_array();
  uint64_t users = 0, len[DP_LENBINS] = {0}, days[DP_LENBINS] = {0};
  uint32_t lo = groups[0];
  for (size_t g = 0; g < ng; g++) {
    for (size_t i = 0; i < p->n_users; i++) {
      const dp_user *u = &p->users[i];
      if (u->sessions < groups[g] || u->sessions >= groups[g + 1]) continue;
      users++;
      for (int b = 0; b < DP_LENBINS; b++) len[b] += u->lenbins[b];
      days[dp_lenbin_of(u->active_days)]++;
    }
    int last = g + 1 == ng;
    if (users < p->k && !last) continue; /* fold into the next group */
    if (users == 0) break;
    if (users < p->k) {
      /* the last group is too small: fold it into the previous row */
      size_t nr = json_array_size(rows);
      if (!nr) break;
      json_t *prev = json_array_get(rows, nr - 1);
      json_object_set_new(prev, "sessions_max", json_null());
      json_object_set_new(prev, "users", json_integer(json_integer_value(json_object_get(prev, "users")) + (json_int_t)users));
      json_t *pl = json_object_get(prev, "lengths"), *pd = json_object_get(prev, "active_days");
      for (int b = 0; b < DP_LENBINS; b++) {
        json_array_set_new(pl, (size_t)b, json_integer(json_integer_value(json_array_get(pl, (size_t)b)) + (json_int_t)len[b]));
        json_array_set_new(pd, (size_t)b, json_integer(json_integer_value(json_array_get(pd, (size_t)b)) + (json_int_t)days[b]));
      }
      break;
    }
    json_t *row = json_object();
    json_object_set_new(row, "sessions_min", json_integer(lo));
    json_object_set_new(row, "sessions_max", last ? json_null() : json_integer(groups[g + 1] - 1));
    json_object_set_new(row, "users", json_integer((json_int_t)users));
    json_object_set_new(row, "lengths", u64_array_json(len, DP_LENBINS));
    json_object_set_new(row, "active_days", u64_array_json(days, DP_LENBINS));
    json_array_append_new(rows, row);
    users = 0;
    memset(len, 0, sizeof len);
    memset(days, 0, sizeof days);
    lo = groups[g + 1];
  }
  json_t *o = json_object();
  json_object_set_new(o, "bins", bins);
  json_object_set_new(o, "groups", rows);
  return o;
}

static json_t *section_sessions(fin *f) {
  doppel_profiler *p = f->p;
  dp_seq *q = f->seq;
  json_t *o = json_object();
  json_object_set_new(o, "gap_s", num((double)p->gap_us / 1e6));
  json_object_set_new(o, "count", json_integer((json_int_t)q->sessions));
  /* clip bounds: the k-th largest per-user maximum */
  dp_ext ev_hi, dur_hi, gap_hi, gap_lo;
  dp_ext_init(&ev_hi, p->k, 0);
  dp_ext_init(&dur_hi, p->k, 0);
  dp_ext_init(&gap_hi, p->k, 0);
  dp_ext_init(&gap_lo, p->k, 1);
  for (size_t i = 0; i < p->n_users; i++) {
    const dp_user *u = &p->users[i];
    dp_ext_add(&ev_hi, u->hash, (double)u->max_sess_events);
    dp_ext_add(&dur_hi, u->hash, u->max_sess_dur);
    if (u->min_gap >= 0) {
      dp_ext_add(&gap_hi, u->hash, u->max_gap);
      dp_ext_add(&gap_lo, u->hash, u->min_gap);
    }
  }
  double a, b;
  int ha = dp_ext_bound(&ev_hi, &a);
  json_object_set_new(o, "events_per_session", dist_sketch(q->sess_events, 0, 0, ha, a, ha ? p->k : 0, p->k, 1));
  ha = dp_ext_bound(&dur_hi, &a);
  json_object_set_new(o, "duration_s", dist_sketch(q->sess_dur, 0, 0, ha, a, ha ? p->k : 0, p->k, 0));
  ha = dp_ext_bound(&gap_hi, &a);
  int hb = dp_ext_bound(&gap_lo, &b);
  json_object_set_new(o, "inter_event_s", dist_sketch(q->gaps, hb, b, ha, a, ha ? p->k : 0, p->k, 0));
  json_object_set_new(o, "start_hour_of_week", how_array(q->start_how));
  json_object_set_new(o, "by_user_sessions", by_user_sessions(f));
  dp_ext_release(&ev_hi);
  dp_ext_release(&dur_hi);
  dp_ext_release(&gap_hi);
  dp_ext_release(&gap_lo);
  return o;
}

static json_t *per_day(const char *name_day, const char *name_week, const uint64_t *c, int32_t d0,
                       int32_t d1, int32_t base, json_t *parent) {
  /* c is indexed by day - base, covering [d0, d1] */
  char s[16];
  if (d1 - d0 + 1 <= 3660) {
    json_t *o = json_object();
    day_text(d0, s);
    json_object_set_new(o, "start", json_string(s));
    json_t *a = json_array();
    for (int32_t d = d0; d <= d1; d++) json_array_append_new(a, json_integer((json_int_t)c[d - base]));
    json_object_set_new(o, "counts", a);
    json_object_set_new(parent, name_day, o);
    return o;
  }
  /* weekly: weeks start on Monday */
  int32_t w0 = d0 - ((d0 + 3) % 7 + 7) % 7;
  json_t *o = json_object();
  day_text(w0, s);
  json_object_set_new(o, "start", json_string(s));
  json_t *a = json_array();
  for (int32_t w = w0; w <= d1; w += 7) {
    uint64_t sum = 0;
    for (int32_t d = w; d < w + 7; d++)
      if (d >= d0 && d <= d1) sum += c[d - base];
    json_array_append_new(a, json_integer((json_int_t)sum));
  }
  json_object_set_new(o, "counts", a);
  json_object_set_new(parent, name_week, o);
  return o;
}

static int bit(const dp_user *u, int32_t d) {
  if (d < 0 || d >= DP_DAYBITS_WORDS * 64) return 0;
  return (int)(u->daybits[d / 64] >> (d % 64) & 1);
}

static int any_bits(const dp_user *u, int32_t from, int32_t to) {
  for (int32_t d = from < 0 ? 0 : from; d <= to && d < DP_DAYBITS_WORDS * 64; d++)
    if (bit(u, d)) return 1;
  return 0;
}

/* civil month index (year*12 + month-1) of a day, and the first day of a month index */
static int64_t month_of(int32_t day) {
  char t[32];
  doppel_time_format((int64_t)day * 86400000000LL, t);
  int y = atoi(t), m = atoi(t + 5);
  return (int64_t)y * 12 + (m - 1);
}

static int32_t month_start(int64_t mi) {
  return (int32_t)doppel_days_from_civil(mi / 12, (unsigned)(mi % 12) + 1, 1);
}

static json_t *section_time(fin *f) {
  doppel_profiler *p = f->p;
  json_t *o = json_object();
  json_object_set_new(o, "hour_of_week", how_array(p->hour_of_week));
  if (!p->events) return o;
  int32_t d0 = dp_day_of(p->min_us), d1 = dp_day_of(p->max_us);
  if (d0 < p->day0) d0 = p->day0;
  if (d1 >= p->day0 + (int32_t)p->n_days) d1 = p->day0 + (int32_t)p->n_days - 1;
  per_day("events_per_day", "events_per_week", p->days, d0, d1, p->day0, o);
  /* new users per day (sampled users, scaled) */
  size_t span = (size_t)(d1 - d0 + 1);
  uint64_t *nu = dp_nomem_calloc(span, sizeof *nu);
  double *raw = dp_nomem_calloc(span, sizeof *raw);
  if (nu && raw) {
    for (size_t i = 0; i < p->n_users; i++) {
      int32_t fd = p->users[i].first_day;
      if (fd >= d0 && fd <= d1) raw[fd - d0] += 1.0;
    }
    for (size_t i = 0; i < span; i++) nu[i] = (uint64_t)llround(raw[i] / f->rate);
    per_day("new_users_per_day", "new_users_per_week", nu, d0, d1, d0, o);
  }
  free(nu);
  free(raw);
  /* retention */
  json_t *ret = json_object();
  for (int mode = 0; mode < 2; mode++) {
    int maxn = mode == 0 ? 30 : 12;
    json_t *ns = json_array(), *sh = json_array(), *us = json_array();
    for (int n = 0; n <= maxn; n++) {
      uint64_t elig = 0, act = 0;
      for (size_t i = 0; i < p->n_users; i++) {
        const dp_user *u = &p->users[i];
        if (mode == 0) {
          if (u->first_day + n > d1) continue;
          elig++;
          act += (uint64_t)bit(u, n);
        } else {
          if (u->first_day + 7 * n + 6 > d1) continue;
          elig++;
          act += (uint64_t)any_bits(u, 7 * n, 7 * n + 6);
        }
      }
      if (elig < p->k) break;
      json_array_append_new(ns, json_integer(n));
      json_array_append_new(sh, share(act, elig));
      json_array_append_new(us, json_integer((json_int_t)llround((double)elig / f->rate)));
    }
    json_t *m = json_object();
    json_object_set_new(m, "n", ns);
    json_object_set_new(m, "share", sh);
    json_object_set_new(m, "users", us);
    json_object_set_new(ret, mode == 0 ? "day" : "week", m);
  }
  /* cohorts by calendar week (span up to 2 years) or month */
  int monthly = d1 - d0 + 1 > 731;
  json_t *coh = json_object();
  json_object_set_new(coh, "unit", json_string(monthly ? "month" : "week"));
  json_t *rows = json_array();
  int64_t c0 = monthly ? month_of(d0) : (int64_t)(d0 - ((d0 + 3) % 7 + 7) % 7);
  int64_t c1 = monthly ? month_of(d1) : (int64_t)(d1 - ((d1 + 3) % 7 + 7) % 7);
  int64_t step = monthly ? 1 : 7;
  for (int64_t c = c0; c <= c1; c += step) {
    int32_t cstart = monthly ? month_start(c) : (int32_t)c;
    int32_t cend = monthly ? month_start(c + 1) - 1 : (int32_t)c + 6;
    uint64_t users = 0;
    uint64_t active[13] = {0};
    int periods = 0;
    for (int per = 0; per <= 12; per++) {
      int32_t ps = monthly ? month_start(c + per) : cstart + 7 * per;
      int32_t pe = monthly ? month_start(c + per + 1) - 1 : ps + 6;
      if (pe > d1) break;
      periods = per + 1;
    }
    if (!periods) continue;
    for (size_t i = 0; i < p->n_users; i++) {
      const dp_user *u = &p->users[i];
      if (u->first_day < cstart || u->first_day > cend) continue;
      users++;
      for (int per = 0; per < periods; per++) {
        int32_t ps = monthly ? month_start(c + per) : cstart + 7 * per;
        int32_t pe = monthly ? month_start(c + per + 1) - 1 : ps + 6;
        if (any_bits(u, ps - u->first_day, pe - u->first_day)) active[per]++;
      }
    }
    if (!users) continue;
    if (users < p->k) {
      f->supp_cohorts++;
      continue;
    }
    json_t *row = json_object();
    char s[16];
    day_text(cstart, s);
    json_object_set_new(row, "start", json_string(s));
    json_object_set_new(row, "users", json_integer((json_int_t)llround((double)users / f->rate)));
    json_t *sa = json_array();
    for (int per = 0; per < periods; per++) json_array_append_new(sa, share(active[per], users));
    json_object_set_new(row, "share", sa);
    json_array_append_new(rows, row);
  }
  json_object_set_new(coh, "rows", rows);
  json_object_set_new(ret, "cohorts", coh);
  json_object_set_new(o, "retention", ret);
  return o;
}

static json_t *value_json(const dp_kc_entry *e) {
  switch (e->vtype) {
    case DP_T_BOOL: return json_boolean(e->vlen == 4);
    case DP_T_INT:
    case DP_T_FLOAT: {
      char b[DP_KC_VALUE_MAX + 1];
      memcpy(b, e->val, e->vlen);
      b[e->vlen] = '\0';
      if (e->vtype == DP_T_INT) {
        char *end;
        long long v = strtoll(b, &end, 10);
        if (!*end) return json_integer(v);
      }
      return json_real(strtod(b, NULL));
    }
    default: return json_stringn(e->val, e->vlen);
  }
}

static json_t *prop_entry(fin *f, const dp_prop *pr, const gclass *gc) {
  doppel_profiler *p = f->p;
  const dp_gpath *g = &p->gp[pr->gpath];
  json_t *o = json_object();
  if (pr->event == DP_PROP_USER) json_object_set_new(o, "event", json_null());
  else json_object_set_new(o, "event", json_stringn(p->ev[pr->event].name, p->ev[pr->event].len));
  json_object_set_new(o, "path", json_stringn(g->path, g->len));
  json_object_set_new(o, "class", json_string(doppel_pii_class_name(gc->cls)));
  json_object_set_new(o, "kind", json_string(gc->kind));
  json_object_set_new(o, "count", json_integer((json_int_t)pr->count));
  uint64_t base = pr->event == DP_PROP_USER ? p->events : p->ev[pr->event].count;
  json_object_set_new(o, "presence", share(pr->count, base));
  json_t *types = json_object();
  static const char *const tn[DP_T_COUNT] = {"null", "bool", "int", "float", "numeric_string", "string", "object", "array"};
  for (int t = 0; t < DP_T_COUNT; t++)
    if (pr->types[t]) json_object_set_new(types, tn[t], json_integer((json_int_t)pr->types[t]));
  json_object_set_new(o, "types", types);
  int direct = gc->cls == DOPPEL_PII_CLASS_DIRECT;
  if (pr->num && doppel_ddsketch_count(pr->num) && !direct) {
    double lo, hi;
    int hl = dp_ext_bound(&pr->num_lo, &lo), hh = dp_ext_bound(&pr->num_hi, &hi);
    int integer = pr->types[DP_T_FLOAT] == 0 && pr->types[DP_T_NUMSTR] == 0;
    json_t *d = dist_sketch(pr->num, hl, lo, hh, hi, (hl && hh) ? p->k : 0, p->k, integer);
    json_object_set_new(o, "number", d);
  }
  if (direct) f->supp_values += withheld(pr->distinct, 0);
  if (!direct && pr->scalars) {
    json_t *v = json_object();
    doppel_hll_estimate de = doppel_hll_query(pr->distinct);
    /* id-like (nearly every value distinct): no value is listed */
    int idlike = pr->scalars >= 100 && de.estimate > 0.9 * (double)pr->scalars;
    json_object_set_new(v, "distinct", json_integer((json_int_t)llround(de.estimate)));
    json_object_set_new(v, "n", json_integer((json_int_t)pr->scalars));
    json_t *top = json_array();
    uint64_t listed = 0, safe = 0;
    if (!pr->values_off && !idlike && pr->values.cap) {
      uint32_t *ix = dp_kc_sorted(&pr->values);
      size_t shown = 0;
      for (uint32_t r = 0; ix && r < pr->values.n; r++) {
        const dp_kc_entry *e = &pr->values.e[ix[r]];
        /* listed: held by k users, and counted above the table's error bound
         * (so it is a heavy hitter whatever the order of the input) */
        if (e->n_users < p->k || e->truncated || !e->val || e->count <= pr->values.error) continue;
        safe++;
        if (shown == 100) continue;
        json_t *to = json_object();
        json_object_set_new(to, "value", value_json(e));
        json_object_set_new(to, "count", json_integer((json_int_t)e->count));
        json_object_set_new(to, "share", share(e->count, pr->scalars));
        json_array_append_new(top, to);
        listed += e->count;
        shown++;
      }
      free(ix);
    }
    f->supp_values += withheld(pr->distinct, safe);
    json_object_set_new(v, "top", top);
    json_object_set_new(v, "other", share(pr->scalars > listed ? pr->scalars - listed : 0, pr->scalars));
    json_object_set_new(v, "users_min", json_integer(p->k));
    json_object_set_new(o, "values", v);
  }
  if (pr->slen && doppel_ddsketch_count(pr->slen)) {
    json_t *s = json_object();
    double hi;
    int hh = dp_ext_bound(&pr->slen_hi, &hi);
    json_object_set_new(s, "length", dist_sketch(pr->slen, 0, 0, hh, hi, hh ? p->k : 0, p->k, 1));
    json_t *pats = json_array();
    uint32_t *ix = dp_kc_sorted(&pr->patterns);
    uint64_t strings = pr->types[DP_T_STRING] + pr->item_types[DP_T_STRING];
    size_t shown = 0;
    uint64_t safe = 0;
    for (uint32_t r = 0; ix && r < pr->patterns.n; r++) {
      const dp_kc_entry *e = &pr->patterns.e[ix[r]];
      if (e->n_users < p->k || e->count <= pr->patterns.error) continue;
      safe++;
      if (shown == 20) continue;
      json_t *po = json_object();
      json_object_set_new(po, "pattern", json_stringn(e->val, e->vlen));
      json_object_set_new(po, "share", share(e->count, strings));
      json_array_append_new(pats, po);
      shown++;
    }
    free(ix);
    f->supp_patterns += withheld(pr->pat_distinct, safe);
    json_object_set_new(s, "patterns", pats);
    json_object_set_new(o, "string", s);
  }
  if (pr->ts_count && !direct) {
    json_t *ts = json_object();
    json_object_set_new(ts, "share", share(pr->ts_count, pr->types[DP_T_STRING] + pr->item_types[DP_T_STRING]));
    json_object_set_new(ts, "offset_s", dist_sketch(pr->ts_off, 0, 0, 0, 0, pr->n_kset, p->k, 0));
    json_object_set_new(o, "timestamp", ts);
  }
  if (pr->alen && doppel_ddsketch_count(pr->alen)) {
    json_t *a = json_object();
    double hi;
    int hh = dp_ext_bound(&pr->alen_hi, &hi);
    json_object_set_new(a, "length", dist_sketch(pr->alen, 0, 0, hh, hi, hh ? p->k : 0, p->k, 1));
    json_t *it = json_object();
    for (int t = 0; t < DP_T_COUNT; t++)
      if (pr->item_types[t]) json_object_set_new(it, tn[t], json_integer((json_int_t)pr->item_types[t]));
    json_object_set_new(a, "item_types", it);
    json_object_set_new(o, "array", a);
  }
  json_t *c = json_object();
  uint64_t uw = f->user_with[pr->gpath], uc = f->user_const[pr->gpath];
  json_object_set_new(c, "user", uw ? share(uc, uw) : json_null());
  uint64_t sw = pr->gpath < f->seq->n_gp ? f->seq->sess_with[pr->gpath] : 0;
  uint64_t sc = pr->gpath < f->seq->n_gp ? f->seq->sess_const[pr->gpath] : 0;
  json_object_set_new(c, "session", sw ? share(sc, sw) : json_null());
  json_object_set_new(o, "constancy", c);
  return o;
}

static _Thread_local const fin *sort_f;
static int cmp_prop(const void *a, const void *b) {
  const doppel_profiler *p = sort_f->p;
  const dp_prop *x = &p->props[*(const uint32_t *)a], *y = &p->props[*(const uint32_t *)b];
  /* events in listing order (rank), user properties last */
  uint32_t rx = x->event == DP_PROP_USER ? UINT32_MAX : sort_f->ev_rank[x->event];
  uint32_t ry = y->event == DP_PROP_USER ? UINT32_MAX : sort_f->ev_rank[y->event];
  if (rx != ry) return rx < ry ? -1 : 1;
  const dp_gpath *gx = &p->gp[x->gpath], *gy = &p->gp[y->gpath];
  return strcmp(gx->path, gy->path);
}

static json_t *section_properties(fin *f, int user) {
  doppel_profiler *p = f->p;
  uint32_t *ix = dp_nomem_malloc((p->n_props + 1) * sizeof *ix);
  json_t *a = json_array();
  if (!ix) return a;
  size_t n = 0;
  for (size_t i = 0; i < p->n_props; i++) {
    const dp_prop *pr = &p->props[i];
    if ((pr->event == DP_PROP_USER) != user) continue;
    if (!user && !f->ev_listed[pr->event]) continue;
    if (!f->gp_listed[pr->gpath] || pr->n_kset < p->k) {
      f->supp_props++;
      continue;
    }
    if (pr->count == 0 && pr->nulls == 0) continue;
    ix[n++] = (uint32_t)i;
  }
  sort_f = f;
  qsort(ix, n, sizeof *ix, cmp_prop);
  sort_f = NULL;
  for (size_t i = 0; i < n; i++) {
    const dp_prop *pr = &p->props[ix[i]];
    json_array_append_new(a, prop_entry(f, pr, &f->gcls[pr->gpath]));
  }
  free(ix);
  return a;
}


static _Thread_local const doppel_profiler *sort_gp;
static int cmp_gp(const void *a, const void *b) {
  return strcmp(sort_gp->gp[*(const uint32_t *)a].path, sort_gp->gp[*(const uint32_t *)b].path);
}

static json_t *section_privacy(fin *f) {
  doppel_profiler *p = f->p;
  json_t *o = json_object();
  json_object_set_new(o, "key_id", p->key_id[0] ? json_string(p->key_id) : json_null());
  json_object_set_new(o, "k", json_integer(p->k));
  json_object_set_new(o, "defaults", json_true());
  json_t *fields = json_array();
  uint32_t *ix = dp_nomem_malloc((p->n_gp + 1) * sizeof *ix);
  size_t n = 0;
  uint64_t supp_paths = 0, pii_keys = 0;
  for (size_t i = 0; ix && i < p->n_gp; i++) {
    if (p->gp[i].key_pii) {
      pii_keys++;
      continue;
    }
    if (!f->gp_listed[i]) {
      supp_paths++;
      continue;
    }
    ix[n++] = (uint32_t)i;
  }
  sort_gp = p;
  if (ix) qsort(ix, n, sizeof *ix, cmp_gp);
  sort_gp = NULL;
  for (size_t r = 0; r < n; r++) {
    const dp_gpath *g = &p->gp[ix[r]];
    const gclass *gc = &f->gcls[ix[r]];
    json_t *e = json_object();
    json_object_set_new(e, "path", json_string(g->path));
    json_object_set_new(e, "class", json_string(doppel_pii_class_name(gc->cls)));
    json_object_set_new(e, "kind", json_string(gc->kind));
    json_object_set_new(e, "evidence", evidence(g));
    if (gc->treatment) json_object_set_new(e, "treatment", json_deep_copy(gc->treatment));
    json_array_append_new(fields, e);
  }
  free(ix);
  json_object_set_new(o, "fields", fields);
  uint64_t supp_names = 0, pii_names = 0;
  for (size_t i = 0; i < p->n_ev; i++) {
    if (p->ev[i].pii) pii_names++;
    else if (!f->ev_listed[i]) supp_names++;
  }
  json_t *s = json_object();
  json_object_set_new(s, "event_names", json_integer((json_int_t)supp_names));
  json_object_set_new(s, "values", json_integer((json_int_t)f->supp_values));
  json_object_set_new(s, "patterns", json_integer((json_int_t)f->supp_patterns));
  json_object_set_new(s, "transitions", json_integer((json_int_t)f->supp_trans));
  json_object_set_new(s, "paths", json_integer((json_int_t)f->supp_paths));
  json_object_set_new(s, "property_paths", json_integer((json_int_t)(supp_paths + f->supp_props)));
  json_object_set_new(s, "cohorts", json_integer((json_int_t)f->supp_cohorts));
  json_object_set_new(o, "suppressed", s);
  json_object_set_new(o, "pii_in_keys", json_integer((json_int_t)pii_keys));
  json_object_set_new(o, "pii_in_event_names", json_integer((json_int_t)pii_names));
  return o;
}

/* ---- warnings ---- */

/* lowercase letters and digits only */
static size_t norm_name(const char *s, size_t n, char *out, size_t cap) {
  size_t o = 0;
  for (size_t i = 0; i < n && o + 1 < cap; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c >= 'A' && c <= 'Z') out[o++] = (char)(c + 32);
    else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c >= 0x80) out[o++] = (char)c;
  }
  out[o] = '\0';
  return o;
}

static size_t edit_distance(const char *a, size_t n, const char *b, size_t m, size_t cap) {
  if (n > 64 || m > 64) return cap + 1;
  size_t prev[65], cur[65];
  for (size_t j = 0; j <= m; j++) prev[j] = j;
  for (size_t i = 1; i <= n; i++) {
    cur[0] = i;
    size_t rowmin = cur[0];
    for (size_t j = 1; j <= m; j++) {
      size_t c = prev[j - 1] + (a[i - 1] != b[j - 1]);
      if (prev[j] + 1 < c) c = prev[j] + 1;
      if (cur[j - 1] + 1 < c) c = cur[j - 1] + 1;
      cur[j] = c;
      if (c < rowmin) rowmin = c;
    }
    if (rowmin > cap) return cap + 1;
    memcpy(prev, cur, (m + 1) * sizeof *prev);
  }
  return prev[m];
}

static const char *const synonym_groups[][16] = {
    {"purchase", "purchase", "purchased", "ordercompleted", "ordercomplete", "checkoutcompleted",
     "checkoutcomplete", "checkoutsuccess", "paymentsuccess", "paymentcompleted", "transactioncompleted",
     "orderplaced", "completedpurchase", "purchasecompleted", "ordersubmitted", NULL},
    {"sign-up", "signup", "signedup", "register", "registration", "registered", "accountcreated",
     "createaccount", "userregistered", "registrationcompleted", "usersignedup", NULL},
    {"log-in", "login", "loggedin", "signin", "signedin", "userlogin", "userloggedin", NULL},
    {"log-out", "logout", "loggedout", "signout", "signedout", NULL},
    {"add-to-cart", "addtocart", "addedtocart", "cartadd", "productadded", "additem", "itemadded",
     "addtobasket", NULL},
    {"page-view", "pageview", "pageviewed", "viewpage", "viewedpage", "screenview", "screenviewed", NULL},
    {"app-open", "appopen", "appopened", "applaunch", "applaunched", "sessionstart", "appstart", NULL},
};

static void warnings_events(fin *f, const uint32_t *order) {
  doppel_profiler *p = f->p;
  char msg[512];
  /* listed names in order, capped for the pairwise checks */
  size_t n = 0;
  uint32_t *names = dp_nomem_malloc((p->n_ev + 1) * sizeof *names);
  char (*norm)[72] = dp_nomem_malloc((p->n_ev + 1) * sizeof *norm);
  size_t *nl = dp_nomem_malloc((p->n_ev + 1) * sizeof *nl);
  if (!names || !norm || !nl) goto out;
  for (size_t r = 0; r < p->n_ev && n < 2000; r++) {
    uint32_t e = order[r];
    if (!f->ev_listed[e]) continue;
    names[n] = e;
    nl[n] = norm_name(p->ev[e].name, p->ev[e].len, norm[n], sizeof norm[n]);
    n++;
  }
  size_t pairs = 0;
  for (size_t i = 0; i < n && pairs < 20; i++)
    for (size_t j = i + 1; j < n && pairs < 20; j++) {
      const dp_event *a = &p->ev[names[i]], *b = &p->ev[names[j]];
      int same_norm = nl[i] == nl[j] && !strcmp(norm[i], norm[j]);
      size_t d = 99;
      if (!same_norm && nl[i] >= 5 && nl[j] >= 5) d = edit_distance(norm[i], nl[i], norm[j], nl[j], nl[i] >= 10 ? 2 : 1);
      if (!same_norm && d > (nl[i] >= 10 ? 2u : 1u)) continue;
      if (same_norm)
        snprintf(msg, sizeof msg, "event names '%.*s' and '%.*s' differ only in case or separators",
                 (int)a->len, a->name, (int)b->len, b->name);
      else
        snprintf(msg, sizeof msg, "event names '%.*s' and '%.*s' differ by %zu character%s",
                 (int)a->len, a->name, (int)b->len, b->name, d, d == 1 ? "" : "s");
      warn(f, "EVENT_NAME_NEAR_DUP", "warning", "events", a->count + b->count, msg,
           "check whether they are the same event and map them to one name before analysis");
      pairs++;
    }
  for (size_t gi = 0; gi < sizeof synonym_groups / sizeof synonym_groups[0]; gi++) {
    size_t hits = 0;
    uint64_t events = 0;
    char list[400] = "";
    size_t ll = 0;
    for (size_t i = 0; i < n; i++) {
      for (size_t s = 1; synonym_groups[gi][s]; s++)
        if (!strcmp(norm[i], synonym_groups[gi][s])) {
          const dp_event *e = &p->ev[names[i]];
          hits++;
          events += e->count;
          if (ll + e->len + 6 < sizeof list)
            ll += (size_t)snprintf(list + ll, sizeof list - ll, "%s'%.*s'", hits > 1 ? ", " : "", (int)e->len, e->name);
          break;
        }
    }
    if (hits >= 2) {
      snprintf(msg, sizeof msg, "%zu event names look like the same '%s' action: %s", hits,
               synonym_groups[gi][0], list);
      warn(f, "EVENT_SYNONYMS", "warning", "events", events, msg,
           "agree on one canonical event name (and a property for the variant) so funnels count them together");
    }
  }
  /* naming styles */
  static const char *const styles[] = {"snake_case", "camelCase", "PascalCase", "Title Case", "lower case words", "other"};
  uint64_t sc[6] = {0}, kc[6] = {0};
  for (size_t i = 0; i < n; i++) sc[dp_name_style(p->ev[names[i]].name, p->ev[names[i]].len)]++;
  for (size_t i = 0; i < p->n_gp; i++) {
    const dp_gpath *g = &p->gp[i];
    if (g->canon || !f->gp_listed[i]) continue;
    size_t s = g->len;
    while (s > 0 && g->path[s - 1] != '.') s--;
    kc[dp_name_style(g->path + s, g->len - s)]++;
  }
  for (int scope = 0; scope < 2; scope++) {
    const uint64_t *c = scope == 0 ? sc : kc;
    uint64_t total = 0;
    int used = 0;
    for (int s = 0; s < 6; s++) total += c[s];
    char list[256] = "";
    size_t ll = 0;
    for (int s = 0; s < 6; s++)
      if (c[s] && c[s] * 20 >= total && s != 5) {
        used++;
        ll += (size_t)snprintf(list + ll, sizeof list - ll, "%s%s %llu", ll ? ", " : "", styles[s],
                               (unsigned long long)c[s]);
      }
    if (used >= 2 && total >= 3) {
      snprintf(msg, sizeof msg, "%s use mixed naming styles: %s", scope == 0 ? "event names" : "property keys", list);
      warn(f, "NAMING_MIXED", "info", scope == 0 ? "events" : "keys", total, msg,
           "pick one naming convention (for example snake_case) for the tracking plan");
    }
  }
  /* dynamic names (counted over every name, listed or not; never quoted) */
  uint64_t dyn = 0, dyn_events = 0, pii = 0, pii_events = 0;
  for (size_t i = 0; i < p->n_ev; i++) {
    if (p->ev[i].dynamic) dyn++, dyn_events += p->ev[i].count;
    if (p->ev[i].pii) pii++, pii_events += p->ev[i].count;
  }
  if (dyn >= 3 || (dyn && dyn * 10 >= p->n_ev)) {
    snprintf(msg, sizeof msg, "%llu event names contain ids, numbers, URLs or e-mails (%llu events)",
             (unsigned long long)dyn, (unsigned long long)dyn_events);
    warn(f, "DYNAMIC_EVENT_NAMES", "warning", "events", dyn, msg,
         "keep event names fixed and move the variable part into a property");
  }
  if (pii) {
    snprintf(msg, sizeof msg, "%llu event names contain personal data (%llu events); they are not listed",
             (unsigned long long)pii, (unsigned long long)pii_events);
    warn(f, "PII_IN_EVENT_NAME", "error", "events", pii, msg,
         "remove personal data from event names at the source; pseudonymize before sharing the raw data");
  }
  if (p->overflow_events) {
    snprintf(msg, sizeof msg, "more than %d distinct event names: %llu events of further names are counted as $other",
             DOPPEL_PROFILE_MAX_NAMES, (unsigned long long)p->overflow_events);
    warn(f, "TOO_MANY_NAMES", "warning", "events", p->overflow_events, msg,
         "event names are probably generated; see DYNAMIC_EVENT_NAMES");
  }
out:
  free(names);
  free(norm);
  free(nl);
}

/* Property warnings are given once per (code, path): the same finding in
 * several event types is one warning naming how many. */
typedef struct pwarn {
  const char *code;
  uint32_t gp;
  json_t *w;        /* borrowed from f->warnings */
  uint32_t events;
  uint64_t count;
} pwarn;

static void warn_prop(fin *f, pwarn *pw, size_t *npw, const char *code, const char *severity, uint32_t gp,
                      const char *scope, uint64_t count, const char *msg, const char *hint) {
  for (size_t i = 0; i < *npw; i++)
    if (pw[i].gp == gp && !strcmp(pw[i].code, code)) {
      pw[i].events++;
      pw[i].count += count;
      return;
    }
  if (*npw == 256) return;
  warn(f, code, severity, scope, count, msg, hint);
  pw[*npw] = (pwarn){code, gp, json_array_get(f->warnings, json_array_size(f->warnings) - 1), 1, count};
  (*npw)++;
}

static void warnings_props(fin *f) {
  pwarn pw[256];
  size_t npw = 0;
  doppel_profiler *p = f->p;
  char msg[512], scope[400];
  uint64_t pii_keys = 0;
  for (size_t i = 0; i < p->n_gp; i++) pii_keys += p->gp[i].key_pii;
  if (pii_keys) {
    snprintf(msg, sizeof msg, "%llu field paths use personal data as a JSON key; they are not listed",
             (unsigned long long)pii_keys);
    warn(f, "PII_IN_KEY", "error", "keys", pii_keys, msg,
         "use fixed keys and put the personal value in a field (then hash it); pseudonymize replaces such keys");
  }
  if (p->gp_overflow || p->prop_overflow) {
    snprintf(msg, sizeof msg, "more than %d distinct field paths: %llu values of further paths were not profiled",
             DOPPEL_PROFILE_MAX_PATHS, (unsigned long long)(p->gp_overflow + p->prop_overflow));
    warn(f, "TOO_MANY_PATHS", "warning", "keys", p->gp_overflow + p->prop_overflow, msg,
         "property keys are probably generated (ids as keys); restructure them as arrays or values");
  }
  /* in the listing order of the properties section */
  uint32_t *pix = dp_nomem_malloc((p->n_props + 1) * sizeof *pix);
  if (!pix) return;
  for (size_t i = 0; i < p->n_props; i++) pix[i] = (uint32_t)i;
  sort_f = f;
  qsort(pix, p->n_props, sizeof *pix, cmp_prop);
  sort_f = NULL;
  size_t emitted = 0;
  for (size_t r = 0; r < p->n_props && emitted < 200; r++) {
    const dp_prop *pr = &p->props[pix[r]];
    if (pr->event != DP_PROP_USER && !f->ev_listed[pr->event]) continue;
    if (!f->gp_listed[pr->gpath] || pr->n_kset < p->k) continue;
    const dp_gpath *g = &p->gp[pr->gpath];
    if (pr->event == DP_PROP_USER) snprintf(scope, sizeof scope, "property:*:%s", g->path);
    else snprintf(scope, sizeof scope, "property:%.*s:%s", (int)p->ev[pr->event].len, p->ev[pr->event].name, g->path);
    uint64_t base = pr->event == DP_PROP_USER ? p->events : p->ev[pr->event].count;
    /* types: numbers (int/float) count as one type */
    uint64_t groups[6] = {pr->types[DP_T_BOOL], pr->types[DP_T_INT] + pr->types[DP_T_FLOAT], pr->types[DP_T_NUMSTR],
                          pr->types[DP_T_STRING], pr->types[DP_T_OBJECT], pr->types[DP_T_ARRAY]};
    uint64_t tot = 0, mx = 0;
    int kinds = 0;
    for (int t = 0; t < 6; t++) {
      tot += groups[t];
      if (groups[t]) kinds++;
      if (groups[t] > mx) mx = groups[t];
    }
    if (kinds >= 2 && (tot - mx) * 1000 >= tot) {
      snprintf(msg, sizeof msg, "'%s' holds values of %d types (%.2f%% not of the main type)", g->path, kinds,
               100.0 * (double)(tot - mx) / (double)tot);
      warn_prop(f, pw, &npw, "PROP_TYPE_MIXED", "warning", pr->gpath, scope, tot - mx, msg,
           "send one type per property (numbers as numbers, not strings)");
      emitted++;
    }
    double pres = base ? (double)pr->count / (double)base : 0;
    if (base >= 50 && pres > 0.05 && pres < 0.95) {
      snprintf(msg, sizeof msg, "'%s' is present in %.1f%% of these events", g->path, 100 * pres);
      warn_prop(f, pw, &npw, "PROP_SOMETIMES_MISSING", "info", pr->gpath, scope, base - pr->count, msg,
           "check whether it is optional by design or dropped by some clients");
      emitted++;
    }
    uint64_t seen = pr->count + pr->nulls;
    if (seen >= 50 && pr->nulls * 2 >= seen) {
      snprintf(msg, sizeof msg, "'%s' is null in %.1f%% of the events that send it", g->path,
               100.0 * (double)pr->nulls / (double)seen);
      warn_prop(f, pw, &npw, "HIGH_NULL", "warning", pr->gpath, scope, pr->nulls, msg, "stop sending the property when it has no value, or fix the client");
      emitted++;
    }
    if (pr->scalars >= 100) {
      doppel_hll_estimate de = doppel_hll_query(pr->distinct);
      if (de.estimate < 1.5) {
        snprintf(msg, sizeof msg, "'%s' always has the same value", g->path);
        warn_prop(f, pw, &npw, "PROP_CONSTANT", "info", pr->gpath, scope, pr->scalars, msg, "a constant property adds no information; drop it or check the client");
        emitted++;
      } else if (de.estimate >= 0.9 * (double)pr->scalars && f->gcls[pr->gpath].cls != DOPPEL_PII_CLASS_DIRECT &&
                 /* fractional numbers are measurements (prices, durations), not identifiers */
                 (pr->types[DP_T_FLOAT] + pr->item_types[DP_T_FLOAT]) * 2 < pr->scalars) {
        snprintf(msg, sizeof msg, "'%s' looks like an identifier (about %.0f%% of its values are distinct)", g->path,
                 100.0 * (de.estimate > (double)pr->scalars ? 1.0 : de.estimate / (double)pr->scalars));
        warn_prop(f, pw, &npw, "PROP_ID_LIKE", "info", pr->gpath, scope, pr->scalars, msg,
             "identifiers are listed by shape only; hash them if they can identify a person");
        emitted++;
      }
    }
  }
  free(pix);
  /* one finding in several event types: the path's scope and how many */
  for (size_t i = 0; i < npw; i++) {
    if (pw[i].events < 2) continue;
    char sc[400], m2[600];
    snprintf(sc, sizeof sc, "property:*:%s", p->gp[pw[i].gp].path);
    snprintf(m2, sizeof m2, "%s (in %u event types)", json_string_value(json_object_get(pw[i].w, "message")), pw[i].events);
    json_object_set_new(pw[i].w, "scope", json_string(sc));
    json_object_set_new(pw[i].w, "message", json_string(m2));
    json_object_set_new(pw[i].w, "count", json_integer((json_int_t)pw[i].count));
  }
}

static void warnings_time_users(fin *f) {
  doppel_profiler *p = f->p;
  char msg[512];
  if (p->future) {
    char d[16];
    day_text(dp_day_of(p->now_us), d);
    snprintf(msg, sizeof msg, "%llu events are dated more than a day after %s (the reference time)",
             (unsigned long long)p->future, d);
    warn(f, "TIME_FUTURE", "warning", "time", p->future, msg,
         "check client clocks and time units (milliseconds read as seconds give dates far in the future)");
  }
  if (p->ancient) {
    snprintf(msg, sizeof msg, "%llu events are dated before 1990", (unsigned long long)p->ancient);
    warn(f, "TIME_ANCIENT", "warning", "time", p->ancient, msg,
         "epoch 0 or a wrong unit is a common cause; fix or filter them");
  }
  static const char *const un[] = {"text", "seconds", "milliseconds", "microseconds", "nanoseconds"};
  int kinds = 0;
  char list[200] = "";
  size_t ll = 0;
  for (int u = 0; u < 5; u++)
    if (p->time_units[u]) {
      kinds++;
      ll += (size_t)snprintf(list + ll, sizeof list - ll, "%s%s %llu", ll ? ", " : "", un[u],
                             (unsigned long long)p->time_units[u]);
    }
  if (kinds >= 2) {
    snprintf(msg, sizeof msg, "timestamps are written in %d forms: %s", kinds, list);
    warn(f, "TIME_UNIT_MIXED", "warning", "time", p->events, msg, "send one timestamp form (ISO 8601 UTC, or one epoch unit)");
  }
  uint64_t late = 0, bots = 0;
  for (size_t i = 0; i < p->n_users; i++) {
    const dp_user *u = &p->users[i];
    late += u->late;
    uint64_t gaps = u->events > u->sessions ? u->events - u->sessions : 0;
    double per_day = u->active_days ? (double)u->events / u->active_days : 0;
    if ((u->events >= 200 && gaps && u->fast_gaps * 10 >= gaps * 9) || per_day >= 10000 ||
        u->max_sess_events >= 10000)
      bots++;
  }
  if (late) {
    snprintf(msg, sizeof msg, "%llu events (%.2f%%) arrive earlier in time than their user's previous event",
             (unsigned long long)late, 100.0 * (double)late / (double)(p->events ? p->events : 1));
    warn(f, "OUT_OF_ORDER", "warning", "time", late, msg,
         "sort the input by user and time for exact sessions; late events are placed at their user's latest time");
  }
  if (bots) {
    snprintf(msg, sizeof msg, "%llu users look automated (sustained sub-second gaps or over 10,000 events a day)",
             (unsigned long long)bots);
    warn(f, "BOT_LIKE_USER", "warning", "users", bots, msg,
         "filter bots and test accounts before analysis; they distort per-user statistics");
  }
  uint64_t same = 0, diff = 0;
  for (uint32_t l = p->ins_drop; l < DP_LEVELS; l++) same += p->ins_dup_same[l], diff += p->ins_dup_diff[l];
  double scale = ldexp(1.0, (int)p->ins_drop);
  if (same || diff) {
    snprintf(msg, sizeof msg, "%.0f events repeat an earlier insert id: %.0f identical records, %.0f with a different payload%s",
             (double)(same + diff) * scale, (double)same * scale, (double)diff * scale,
             p->ins_drop ? " (estimated from a sample of insert ids)" : "");
    warn(f, "DUPLICATE_INSERT_ID", diff ? "warning" : "info", "insert_id", (uint64_t)((double)(same + diff) * scale),
         msg, diff ? "different payloads under one insert id are a client bug; identical ones are retries to deduplicate"
                   : "identical records are retries: deduplicate on the insert id");
  }
  if (p->drop_level) {
    snprintf(msg, sizeof msg, "more than %llu users: per-user and session statistics come from a keyed-hash sample of %.4g%% of users",
             (unsigned long long)p->max_users, 100.0 * f->rate);
    warn(f, "USERS_SAMPLED", "info", "users", p->n_users, msg,
         "raise --max-users for exact per-user statistics (about 200 bytes of memory per user)");
  }
}

/* ---- the whole profile ---- */

doppel_status doppel_profiler_profile(doppel_profiler *p, json_t **out, doppel_diag *diag) {
  *out = NULL;
  doppel_status st = dp_finish_users(p);
  if (st != DOPPEL_OK) return dp_diag_set(diag, st, NULL, 0, 0, NULL);
  unsigned long nomem0 = dp_nomem_count(); /* a failed allocation would leave a part out (core/nomem.h) */
  fin f;
  memset(&f, 0, sizeof f);
  f.p = p;
  f.rate = ldexp(1.0, -(int)p->drop_level);
  if ((st = dp_seq_new(&f.seq, p->k)) != DOPPEL_OK) return dp_diag_set(diag, st, NULL, 0, 0, NULL);
  for (uint32_t l = p->drop_level; l < DP_LEVELS; l++)
    if (p->seq[l] && (st = dp_seq_merge(f.seq, p->seq[l])) != DOPPEL_OK) goto fail;
  f.ev_listed = dp_nomem_calloc(p->n_ev + 1, 1);
  f.ev_rank = dp_nomem_calloc(p->n_ev + 1, sizeof *f.ev_rank);
  f.gp_listed = dp_nomem_calloc(p->n_gp + 1, 1);
  f.gcls = dp_nomem_calloc(p->n_gp + 1, sizeof *f.gcls);
  f.user_with = dp_nomem_calloc(p->n_gp + 1, sizeof *f.user_with);
  f.user_const = dp_nomem_calloc(p->n_gp + 1, sizeof *f.user_const);
  f.warnings = json_array();
  uint32_t *order = event_order(p);
  if (!f.ev_listed || !f.ev_rank || !f.gp_listed || !f.gcls || !f.user_with || !f.user_const || !order) {
    free(order);
    st = DOPPEL_E_NOMEM;
    goto fail;
  }
  for (size_t i = 0; i < p->n_ev; i++) f.ev_listed[i] = p->ev[i].n_kset >= p->k && !p->ev[i].pii;
  for (size_t r = 0; r < p->n_ev; r++) f.ev_rank[order[r]] = (uint32_t)r;
  for (size_t i = 0; i < p->n_gp; i++) {
    f.gp_listed[i] = p->gp[i].n_kset >= p->k && !p->gp[i].key_pii;
    classify(&p->gp[i], &f.gcls[i]);
  }
  for (size_t i = 0; i < p->n_users; i++) {
    const dp_user *u = &p->users[i];
    for (uint16_t j = 0; j < u->n_cs; j++) {
      const dp_cslot *c = &u->cs[j];
      if (!(c->flags & DP_CS_U2) || c->gpath >= p->n_gp) continue;
      f.user_with[c->gpath]++;
      if (!(c->flags & DP_CS_UCH)) f.user_const[c->gpath]++;
    }
  }
  json_t *doc = json_object();
  json_object_set_new(doc, "format", json_string(DOPPEL_PROFILE_FORMAT));
  json_t *gen = json_object();
  json_object_set_new(gen, "tool", json_string("doppel"));
  json_object_set_new(gen, "version", json_string(doppel_version()));
  json_object_set_new(doc, "generator", gen);
  json_object_set_new(doc, "source", section_source(&f));
  json_object_set_new(doc, "population", section_population(&f));
  json_object_set_new(doc, "identifiers", section_identifiers(&f));
  json_object_set_new(doc, "events", section_events(&f, order));
  json_object_set_new(doc, "sessions", section_sessions(&f));
  json_object_set_new(doc, "time", section_time(&f));
  json_object_set_new(doc, "properties", section_properties(&f, 0));
  json_object_set_new(doc, "user_properties", section_properties(&f, 1));
  json_object_set_new(doc, "privacy", section_privacy(&f));
  warnings_events(&f, order);
  warnings_props(&f);
  warnings_time_users(&f);
  json_object_set_new(doc, "warnings", f.warnings);
  f.warnings = NULL;
  free(order);
  if (!doc || dp_nomem_count() != nomem0) {
    json_decref(doc);
    st = DOPPEL_E_NOMEM;
    goto fail;
  }
  *out = doc;
  st = DOPPEL_OK;
fail:
  json_decref(f.warnings);
  for (size_t i = 0; f.gcls && i < p->n_gp; i++) json_decref(f.gcls[i].treatment);
  free(f.gcls);
  free(f.ev_listed);
  free(f.ev_rank);
  free(f.gp_listed);
  free(f.user_with);
  free(f.user_const);
  dp_seq_free(f.seq);
  if (st != DOPPEL_OK) return dp_diag_set(diag, st, NULL, 0, 0, NULL);
  return DOPPEL_OK;
}

/* ---- serialization ---- */

static int scalar_json(const json_t *j) { return !json_is_object(j) && !json_is_array(j); }

/* The text so far, and whether any part of it could not be made (out of
 * memory): a failed piece is never just left out. */
typedef struct dumper {
  dp_buf b;
  int failed;
} dumper;

static void dump_value(dumper *d, const json_t *j, int indent, int compact);

static void put_n(dumper *d, const char *s, size_t n) {
  if (!d->failed && dp_buf_append(&d->b, s, n) != DOPPEL_OK) d->failed = 1;
}

static void put(dumper *d, const char *s) { put_n(d, s, strlen(s)); }

static void put_c(dumper *d, char c) { put_n(d, &c, 1); }

static void dump_scalar(dumper *d, const json_t *j, int compact) {
  char tmp[64];
  if (json_is_real(j)) {
    double v = json_real_value(j);
    if (compact) snprintf(tmp, sizeof tmp, "%.17g", v);
    else snprintf(tmp, sizeof tmp, "%.6g", v);
    /* keep it a JSON real */
    if (!strpbrk(tmp, ".eEn")) strcat(tmp, ".0");
    put(d, tmp);
    return;
  }
  char *s = j ? json_dumps(j, JSON_ENCODE_ANY) : NULL;
  if (!s) {
    d->failed = 1;
    return;
  }
  put(d, s);
  free(s);
}

static void newline(dumper *d, int indent) {
  put_c(d, '\n');
  for (int i = 0; i < indent; i++) put_c(d, ' ');
}

static void dump_value(dumper *d, const json_t *j, int indent, int compact) {
  if (json_is_object(j)) {
    if (json_object_size(j) == 0) {
      put(d, "{}");
      return;
    }
    put_c(d, '{');
    const char *key;
    const json_t *v;
    int first = 1;
    json_object_foreach((json_t *)j, key, v) {
      if (!first) put_c(d, ',');
      first = 0;
      if (!compact) newline(d, indent + 2);
      json_t *ks = json_string(key);
      dump_scalar(d, ks, compact);
      json_decref(ks);
      put(d, compact ? ":" : ": ");
      dump_value(d, v, indent + 2, compact);
    }
    if (!compact) newline(d, indent);
    put_c(d, '}');
    return;
  }
  if (json_is_array(j)) {
    size_t n = json_array_size(j);
    if (n == 0) {
      put(d, "[]");
      return;
    }
    int all_scalar = 1;
    for (size_t i = 0; i < n; i++)
      if (!scalar_json(json_array_get(j, i))) all_scalar = 0;
    put_c(d, '[');
    size_t line_start = d->b.len;
    for (size_t i = 0; i < n; i++) {
      if (i) put_c(d, ',');
      if (!compact) {
        if (!all_scalar) newline(d, indent + 2);
        else if (i && d->b.len - line_start > 96) {
          newline(d, indent + 2);
          line_start = d->b.len;
        } else if (i) {
          put_c(d, ' ');
        }
      }
      dump_value(d, json_array_get(j, i), indent + 2, compact);
    }
    if (!compact && !all_scalar) newline(d, indent);
    put_c(d, ']');
    return;
  }
  dump_scalar(d, j, compact);
}

char *doppel_profile_dump(const json_t *doc, int compact) {
  dumper d;
  dp_buf_init(&d.b, 0);
  d.failed = 0;
  dump_value(&d, doc, 0, compact);
  put_c(&d, '\n');
  if (d.failed || dp_buf_terminate(&d.b) != DOPPEL_OK) {
    dp_buf_release(&d.b);
    return NULL;
  }
  return d.b.data;
}
