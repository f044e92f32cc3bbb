/*
 * render.c — the report content: walks a checked profile and writes every
 * section through the report writer (HTML or Markdown): overview, privacy
 * ledger and identifier shapes, what was held back, warnings by severity,
 * event catalog, property catalog, retention, activity, sessions, and
 * transitions and paths. It reads the profile only, tolerantly: a missing
 * section or value is said to be missing, unknown keys are ignored.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <doppel/doppel.h>

#include "core/diag.h"
#include "core/nomem.h"
#include "report/report_int.h"
#include "report/writer.h"

typedef struct rc {
  const json_t *p;            /* the profile (borrowed) */
  dp_rw *w;                   /* output */
  double k;                   /* k-anonymity threshold, when known */
  int has_k;
  char k_str[DP_FMT_MAX];     /* "k = 10", or "k" when unknown */
  doppel_report_summary *sum; /* counts for the caller */
} rc;

#define B(name) char name[DP_FMT_MAX]

/* ---- small readers and printers ---- */

static const char *count_at(const json_t *o, const char *key, char *buf) {
  double v;
  return dp_jnum_at(o, key, &v) ? dp_fmt_count(v, buf, DP_FMT_MAX) : NULL;
}

static const char *share_at(const json_t *o, const char *key, char *buf) {
  double v;
  return dp_jnum_at(o, key, &v) ? dp_fmt_share(v, buf, DP_FMT_MAX) : NULL;
}

static size_t arr_n(const json_t *a) { return json_is_array(a) ? json_array_size(a) : 0; }

/* A JSON scalar as a value for display: strings as code (empty: a note),
 * numbers as written (integers exact, reals with up to 6 digits). */
static void put_value(rc *c, const json_t *v) {
  char buf[64];
  if (json_is_string(v)) {
    if (json_string_length(v) == 0) dp_rw_text(c->w, "(empty string)");
    else dp_rw_code(c->w, json_string_value(v));
  } else if (json_is_integer(v)) {
    snprintf(buf, sizeof buf, "%lld", (long long)json_integer_value(v));
    dp_rw_code(c->w, buf);
  } else if (json_is_real(v)) {
    snprintf(buf, sizeof buf, "%.6g", json_real_value(v));
    dp_rw_code(c->w, buf);
  } else if (json_is_true(v)) {
    dp_rw_code(c->w, "true");
  } else if (json_is_false(v)) {
    dp_rw_code(c->w, "false");
  } else {
    dp_rw_text(c->w, DP_DASH);
  }
}

/* The profile's $end / $other markers in transitions and paths. */
static void put_step(rc *c, const char *name) {
  if (!strcmp(name, "$end")) dp_rw_text(c->w, "(session ends)");
  else if (!strcmp(name, "$other")) dp_rw_text(c->w, "(other: names held back)");
  else dp_rw_code(c->w, name);
}

/* "10th" */
static const char *ordinal(double k, char *buf, size_t size) {
  long long n = (long long)llround(k);
  const char *suf = (n % 100 >= 11 && n % 100 <= 13) ? "th" : n % 10 == 1 ? "st" : n % 10 == 2 ? "nd" : n % 10 == 3 ? "rd" : "th";
  snprintf(buf, size, "%lld%s", n, suf);
  return buf;
}

/* qsort helpers: (name, value) pairs by value descending, then name. */
typedef struct nv {
  const char *name;
  double v;
} nv;

static int nv_cmp(const void *a, const void *b) {
  const nv *x = a, *y = b;
  if (x->v != y->v) return x->v > y->v ? -1 : 1;
  return strcmp(x->name, y->name);
}

/* The members of an object of numbers, sorted by value descending. */
static nv *sorted_members(const json_t *obj, size_t *n) {
  *n = 0;
  if (!json_is_object(obj) || json_object_size(obj) == 0) return NULL;
  nv *a = dp_nomem_malloc(json_object_size(obj) * sizeof *a);
  if (!a) return NULL;
  const char *key;
  json_t *v;
  json_object_foreach((json_t *)obj, key, v) {
    double d;
    if (!dp_jnum(v, &d) || !isfinite(d)) continue;
    a[*n].name = key;
    a[*n].v = d;
    (*n)++;
  }
  qsort(a, *n, sizeof *a, nv_cmp);
  return a;
}

/* Distribution cells: mean, p10, median, p90, formatted by fn. */
typedef char *(*fmt_fn)(double, char *, size_t);

static void dist_cells(rc *c, const json_t *d, fmt_fn fn) {
  B(b);
  double v;
  dp_rw_td(c->w, dp_jnum_at(d, "mean", &v) ? fn(v, b, sizeof b) : NULL);
  static const int qs[] = {10, 50, 90};
  for (int i = 0; i < 3; i++) dp_rw_td(c->w, dp_dist_q(d, qs[i], &v) ? fn(v, b, sizeof b) : NULL);
}

static char *fmt_plain(double v, char *b, size_t n) { return dp_fmt_number(v, b, n); }
static char *fmt_dur(double v, char *b, size_t n) { return dp_fmt_duration(v, b, n); }

/* ---- labels ---- */

static const char *class_badge(const char *cls) {
  if (!cls) return "muted";
  if (!strcmp(cls, "direct_identifier")) return "direct";
  if (!strcmp(cls, "quasi_identifier")) return "quasi";
  if (!strcmp(cls, "sensitive")) return "sensitive";
  if (!strcmp(cls, "none")) return "none";
  return "muted";
}

static const char *class_label(const char *cls) {
  if (!cls) return "unclassified";
  if (!strcmp(cls, "direct_identifier")) return "direct identifier";
  if (!strcmp(cls, "quasi_identifier")) return "quasi-identifier";
  return cls;
}

typedef struct label {
  const char *key, *text;
} label;

static const label kind_labels[] = {
    {"email", "e-mail"}, {"phone", "phone number"}, {"ipv4", "IPv4 address"}, {"ipv6", "IPv6 address"},
    {"ip", "IP address"}, {"name", "person name"}, {"free_text", "free text"}, {"url", "URL"},
    {"user_id", "user id"}, {"device_id", "device id"}, {"session_id", "session id"},
    {"insert_id", "insert id"}, {"event_name", "event name"}, {"timestamp", "timestamp"},
    {"card", "card number"}, {"iban", "IBAN"}, {"ssn", "SSN"}, {"birth_date", "birth date"},
    {"zip", "postcode"}, {"postcode", "postcode"}, {"address", "street address"},
    {"coordinates", "coordinates"}, {"hostname", "hostname"}, {"uuid", "UUID"}, {"hex", "hex string"},
    {"integer", "integer"}, {"string", "string"}, {"user_agent", "user agent"}, {"city", "city"},
    {"password", "password"}, {"secret", "secret"}, {"gender", "gender"}, {"age", "age"},
};

static const label match_labels[] = {
    {"email", "e-mail"}, {"phone", "phone"}, {"ipv4", "IPv4"}, {"ipv6", "IPv6"}, {"card", "card (Luhn)"},
    {"iban", "IBAN (mod-97)"}, {"ssn", "SSN"}, {"uuid", "UUID"},
    {"url_personal", "URL with personal parameters"}, {"coordinates", "coordinates"},
    {"hostname", "hostname"}, {"any", "any personal data"},
};

static const label type_labels[] = {
    {"int", "integer"}, {"float", "decimal"}, {"numeric_string", "numeric string"}, {"string", "string"},
    {"bool", "boolean"}, {"null", "null"}, {"array", "array"}, {"object", "object"},
};

static const char *lookup(const label *t, size_t n, const char *key) {
  for (size_t i = 0; key && i < n; i++)
    if (!strcmp(t[i].key, key)) return t[i].text;
  return NULL;
}
#define LOOKUP(t, k) lookup(t, sizeof t / sizeof t[0], k)

/* A kind for people: the table, else underscores as spaces. */
static void kind_text(const char *kind, char *out, size_t size) {
  const char *l = LOOKUP(kind_labels, kind);
  if (!kind || !strcmp(kind, "none")) l = DP_DASH;
  if (l) {
    snprintf(out, size, "%s", l);
    return;
  }
  snprintf(out, size, "%s", kind);
  for (char *p = out; *p; p++)
    if (*p == '_') *p = ' ';
}

static void match_text(const char *m, char *out, size_t size) {
  int inside = !strncmp(m, "embedded_", 9);
  const char *base = inside ? m + 9 : m;
  const char *l = LOOKUP(match_labels, base);
  snprintf(out, size, "%s%s", l ? l : base, inside ? " inside text" : "");
}

/* ---- the title ---- */

static void title_text(rc *c, char *out, size_t size) {
  const json_t *files = dp_jpath(c->p, "source.files");
  size_t n = arr_n(files);
  const char *first = n ? dp_jstr_at(json_array_get(files, 0), "name") : NULL;
  if (first && n == 1) snprintf(out, size, "Profile of %.200s", first);
  else if (first) snprintf(out, size, "Profile of %.200s and %zu more file%s", first, n - 1, n == 2 ? "" : "s");
  else snprintf(out, size, "Profile report");
}

/* ---- overview ---- */

static void users_text(const json_t *u, char *out, size_t size) {
  B(a);
  B(b);
  double est, se;
  if (!dp_jnum_at(u, "estimate", &est)) {
    snprintf(out, size, "%s", DP_DASH);
    return;
  }
  const json_t *ex = dp_jget(u, "exact");
  if (json_is_true(ex) || !dp_jnum_at(u, "std_error", &se) || se == 0)
    snprintf(out, size, "%s%s", dp_fmt_count(est, a, sizeof a), json_is_true(ex) ? " (exact)" : "");
  else
    snprintf(out, size, "about %s " DP_PLUSMINUS " %s (HyperLogLog estimate)", dp_fmt_count(est, a, sizeof a),
             dp_fmt_count(se, b, sizeof b));
}

static void section_overview(rc *c) {
  dp_rw *w = c->w;
  const json_t *p = c->p, *src = dp_jget(p, "source"), *pop = dp_jget(p, "population");
  const json_t *ev = dp_jget(p, "events"), *pr = dp_jget(p, "privacy");
  B(a);
  B(b);
  B(d);
  char line[512];
  dp_rw_section(w, "overview", "Overview");
  /* key figures */
  dp_rw_figures_begin(w);
  double v;
  const char *events = count_at(ev, "total", a);
  if (!events) events = count_at(src, "events", a);
  dp_rw_figure(w, "Events", events ? events : DP_DASH, NULL);
  const json_t *users = dp_jpath(p, "population.users");
  if (dp_jnum_at(users, "estimate", &v))
    dp_rw_figure(w, "Users", dp_fmt_count(v, b, sizeof b), json_is_true(dp_jget(users, "exact")) ? "exact" : "estimate");
  else
    dp_rw_figure(w, "Users", DP_DASH, NULL);
  size_t listed = arr_n(dp_jget(ev, "list"));
  double supp_names = 0;
  dp_jnum_at(dp_jget(ev, "suppressed"), "names", &supp_names);
  snprintf(line, sizeof line, "%s held back", dp_fmt_count(supp_names, d, sizeof d));
  dp_rw_figure(w, "Event names", dp_fmt_count((double)listed, b, sizeof b), supp_names > 0 ? line : "all listed");
  const json_t *span = dp_jpath(p, "source.time_span");
  const char *f1 = dp_jstr_at(span, "first_day"), *f2 = dp_jstr_at(span, "last_day");
  if (dp_jnum_at(span, "days", &v)) {
    snprintf(line, sizeof line, "%s " DP_ARROW " %s", f1 ? f1 : "?", f2 ? f2 : "?");
    snprintf(b, sizeof b, "%s day%s", dp_fmt_count(v, d, sizeof d), v == 1 ? "" : "s");
    dp_rw_figure(w, "Time span", b, f1 || f2 ? line : NULL);
  }
  size_t nf = arr_n(dp_jget(pr, "fields"));
  snprintf(line, sizeof line, "%llu direct identifier%s", (unsigned long long)c->sum->direct_identifiers,
           c->sum->direct_identifiers == 1 ? "" : "s");
  dp_rw_figure(w, "Fields", dp_fmt_count((double)nf, b, sizeof b), nf ? line : "no privacy ledger");
  uint64_t nw = c->sum->warnings[0] + c->sum->warnings[1] + c->sum->warnings[2];
  snprintf(line, sizeof line, "%llu error%s, %llu warning%s, %llu note%s", (unsigned long long)c->sum->warnings[0],
           c->sum->warnings[0] == 1 ? "" : "s", (unsigned long long)c->sum->warnings[1],
           c->sum->warnings[1] == 1 ? "" : "s", (unsigned long long)c->sum->warnings[2],
           c->sum->warnings[2] == 1 ? "" : "s");
  dp_rw_figure(w, "Findings", dp_fmt_count((double)nw, b, sizeof b), line);
  dp_rw_figures_end(w);

  /* source */
  dp_rw_subsection(w, "Source");
  if (!src) {
    dp_rw_note(w, "This profile has no source section (it was written by hand or edited).");
  } else {
    dp_rw_dl_begin(w);
    const char *fmt = dp_jstr_at(src, "format"), *dia = dp_jstr_at(src, "dialect");
    const char *evid = dp_jstr_at(src, "dialect_evidence");
    snprintf(line, sizeof line, "%s%s%s", fmt ? (!strcmp(fmt, "jsonl") ? "JSON Lines" : !strcmp(fmt, "csv") ? "CSV" : fmt) : "",
             fmt && dia ? ", dialect " : dia ? "dialect " : "", dia ? dia : "");
    if (fmt || dia) {
      dp_rw_kv_begin(w, "Input");
      dp_rw_text(w, line);
      if (evid) {
        dp_rw_text(w, " (");
        dp_rw_text(w, evid);
        dp_rw_text(w, ")");
      }
      dp_rw_kv_end(w);
    }
    const json_t *files = dp_jget(src, "files");
    if (arr_n(files)) {
      dp_rw_kv_begin(w, arr_n(files) == 1 ? "File" : "Files");
      size_t i;
      const json_t *f;
      json_array_foreach(files, i, f) {
        if (i == 20) {
          dp_rw_textf(w, "; and %zu more", arr_n(files) - 20);
          break;
        }
        if (i) dp_rw_text(w, "; ");
        dp_rw_code(w, dp_jstr_at(f, "name") ? dp_jstr_at(f, "name") : "?");
        double r, by;
        int hr = dp_jnum_at(f, "records", &r), hb = dp_jnum_at(f, "bytes", &by);
        if (hr || hb) {
          snprintf(line, sizeof line, " (%s%s%s)", hr ? dp_fmt_count(r, a, sizeof a) : "",
                   hr ? (hb ? " records, " : " records") : "", hb ? dp_fmt_bytes(by, b, sizeof b) : "");
          dp_rw_text(w, line);
        }
      }
      dp_rw_kv_end(w);
    }
    if (count_at(src, "records", a)) dp_rw_kv(w, "Records read", a);
    if (count_at(src, "events", a)) dp_rw_kv(w, "Events profiled", a);
    const json_t *sk = dp_jget(src, "skipped");
    if (sk) {
      static const label why[] = {{"malformed", "malformed"},
                                  {"no_user", "without a user or device id"},
                                  {"no_event", "without an event name"},
                                  {"no_time", "without a time"}};
      line[0] = '\0';
      const char *key;
      json_t *val;
      json_object_foreach((json_t *)sk, key, val) {
        double n;
        if (!dp_jnum(val, &n) || n == 0) continue;
        const char *l = LOOKUP(why, key);
        size_t o = strlen(line);
        snprintf(line + o, sizeof line - o, "%s%s %s", o ? ", " : "", dp_fmt_count(n, a, sizeof a), l ? l : key);
      }
      dp_rw_kv(w, "Not profiled", line[0] ? line : "none");
    }
    const json_t *pe = dp_jget(src, "parse_errors");
    if (arr_n(pe)) {
      dp_rw_kv_begin(w, "Parse errors");
      size_t i;
      const json_t *e;
      json_array_foreach(pe, i, e) {
        if (i) dp_rw_text(w, "; ");
        dp_rw_text(w, dp_jstr_at(e, "kind") ? dp_jstr_at(e, "kind") : "malformed");
        if (count_at(e, "count", a)) dp_rw_textf(w, ": %s", a);
        const json_t *fl = dp_jget(e, "first_lines");
        if (arr_n(fl)) {
          dp_rw_text(w, " (first at ");
          size_t j;
          const json_t *l;
          json_array_foreach(fl, j, l) {
            if (j == 5) {
              dp_rw_text(w, ", ...");
              break;
            }
            if (j) dp_rw_text(w, ", ");
            if (json_is_string(l)) dp_rw_code(w, json_string_value(l));
          }
          dp_rw_text(w, ")");
        }
      }
      dp_rw_kv_end(w);
    }
    if (f1 || f2) {
      snprintf(line, sizeof line, "%s " DP_ARROW " %s (UTC days)", f1 ? f1 : "?", f2 ? f2 : "?");
      dp_rw_kv(w, "Time span", line);
    }
    const json_t *kid = dp_jget(src, "key_id");
    if (!kid) kid = dp_jget(pr, "key_id");
    dp_rw_kv_begin(w, "Key id");
    if (json_is_string(kid)) dp_rw_code(w, json_string_value(kid));
    else dp_rw_text(w, "none (made without --key: user hashes were not keyed)");
    dp_rw_kv_end(w);
    const char *gen = dp_jstr_at(dp_jget(p, "generator"), "tool"), *ver = dp_jstr_at(dp_jget(p, "generator"), "version");
    if (gen || ver) {
      snprintf(line, sizeof line, "%s%s%s", gen ? gen : "", gen && ver ? " " : "", ver ? ver : "");
      dp_rw_kv(w, "Made by", line);
    }
    dp_rw_dl_end(w);
  }

  /* parameters */
  const json_t *par = dp_jget(src, "parameters");
  dp_rw_subsection(w, "Parameters");
  dp_rw_dl_begin(w);
  if (c->has_k) {
    snprintf(line, sizeof line, "k = %s: nothing held by fewer than %s distinct users is listed",
             dp_fmt_count(c->k, a, sizeof a), dp_fmt_count(c->k, b, sizeof b));
    dp_rw_kv(w, "k-anonymity threshold", line);
  }
  double gap;
  if (dp_jnum_at(par, "session_gap_s", &gap) || dp_jnum_at(dp_jget(p, "sessions"), "gap_s", &gap)) {
    snprintf(line, sizeof line, "%s of inactivity ends a session", dp_fmt_duration(gap, a, sizeof a));
    dp_rw_kv(w, "Session gap", line);
  }
  if (count_at(par, "max_users", a)) {
    snprintf(line, sizeof line, "per-user statistics for at most %s users", a);
    dp_rw_kv(w, "User bound", line);
  }
  if (dp_jnum_at(par, "user_sample_rate", &v)) {
    if (v >= 1) snprintf(line, sizeof line, "100%%: every user's statistics were kept");
    else snprintf(line, sizeof line, "%s of users (a keyed sample: there were more users than the bound)",
                  dp_fmt_share(v, a, sizeof a));
    dp_rw_kv(w, "User sample", line);
  }
  if (par) {
    const json_t *eps = dp_jget(par, "epsilon");
    if (dp_jnum(eps, &v)) snprintf(line, sizeof line, DP_EPSILON " = %s spent", dp_fmt_number(v, a, sizeof a));
    else snprintf(line, sizeof line, "off (no noise added)");
    dp_rw_kv(w, "Differential privacy", line);
  }
  if (!c->has_k && !par) dp_rw_kv(w, "Parameters", "not given in this profile (defaults apply)");
  dp_rw_dl_end(w);

  /* population */
  dp_rw_subsection(w, "Population");
  if (!pop) {
    dp_rw_note(w, "This profile has no population section.");
    return;
  }
  dp_rw_dl_begin(w);
  char ut[160];
  users_text(dp_jget(pop, "users"), ut, sizeof ut);
  dp_rw_kv(w, "Users", ut);
  if (dp_jget(pop, "devices")) {
    users_text(dp_jget(pop, "devices"), ut, sizeof ut);
    dp_rw_kv(w, "Devices", ut);
  }
  dp_rw_dl_end(w);
  static const label dists[] = {{"events_per_user", "Events per user"},
                                {"sessions_per_user", "Sessions per user"},
                                {"active_days_per_user", "Active days per user"},
                                {"lifetime_days", "Lifetime (days from first to last)"},
                                {"sessions_per_active_day", "Sessions per active day"}};
  int any = 0, few = 0;
  for (size_t i = 0; i < sizeof dists / sizeof dists[0]; i++) {
    const json_t *dist = dp_jget(pop, dists[i].key);
    if (!json_is_object(dist)) continue;
    if (!any) dp_rw_table_begin(w, "Per user|#Mean|#p10|#Median|#p90");
    any = 1;
    dp_rw_row_begin(w, NULL);
    dp_rw_td(w, dists[i].text);
    dist_cells(c, dist, fmt_plain);
    dp_rw_row_end(w);
    if (!dp_jget(dist, "q")) few = 1;
  }
  if (any) dp_rw_table_end(w);
  if (few)
    dp_rw_note(w, "Percentiles are left out where fewer than k users stand behind a distribution; "
                  "only the mean is given then.");
}

/* ---- privacy ledger ---- */

/* A treatment for people: "hash (domain email, e-mail shaped)". */
static void treatment_text(const json_t *t, char *out, size_t size) {
  const char *act = dp_jstr_at(t, "action");
  char parts[400] = "";
  size_t o = 0;
  double v;
#define PART(...)                                                                    \
  do {                                                                               \
    if (o < sizeof parts) o += (size_t)snprintf(parts + o, sizeof parts - o, "%s", o ? ", " : ""); \
    if (o < sizeof parts) o += (size_t)snprintf(parts + o, sizeof parts - o, __VA_ARGS__);        \
  } while (0)
  if (!act) {
    snprintf(out, size, "(no action given)");
    return;
  }
  if (!strcmp(act, "hash")) {
    const char *dom = dp_jstr_at(t, "domain"), *fmt = dp_jstr_at(t, "format"), *lab = dp_jstr_at(t, "label");
    if (dom) PART("domain %.64s", dom);
    if (fmt) {
      static const label fl[] = {{"hex", "hex"}, {"uuid", "UUID-shaped"}, {"email", "e-mail shaped"},
                                 {"phone", "phone-shaped"}, {"ip", "IP-shaped"}, {"auto", "shape of the value"}};
      const char *l = LOOKUP(fl, fmt);
      if (l) PART("%s", l);
      else PART("format %.32s", fmt);
    }
    if (dp_jnum_at(t, "bits", &v)) PART("%.0f bits", v);
    if (lab) PART("label %.32s", lab);
    if (!o) PART("keyed pseudonym");
    snprintf(out, size, "hash (%s)", parts);
  } else if (!strcmp(act, "generalize")) {
    const char *tr = dp_jstr_at(t, "truncate");
    if (tr) PART("truncate to the %.16s", tr);
    if (dp_jnum_at(t, "ip_prefix", &v)) PART("IPv4 to /%.0f", v);
    if (dp_jnum_at(t, "ip6_prefix", &v)) PART("IPv6 to /%.0f", v);
    if (dp_jnum_at(t, "bucket", &v)) {
      B(b);
      PART("buckets of %s", dp_fmt_number(v, b, sizeof b));
    }
    if (dp_jnum_at(t, "keep_chars", &v)) PART("keep the first %.0f characters", v);
    if (dp_jnum_at(t, "round", &v)) PART("round to %.0f decimal%s", v, v == 1 ? "" : "s");
    if (!o) PART("default: IPs to /24 and /48, timestamps to the day");
    snprintf(out, size, "generalize (%s)", parts);
  } else if (!strcmp(act, "drop")) {
    snprintf(out, size, "drop (the field is removed)");
  } else if (!strcmp(act, "scrub")) {
    snprintf(out, size, "scrub (personal data inside the text is replaced)");
  } else if (!strcmp(act, "keep")) {
    snprintf(out, size, "keep (unchanged)");
  } else {
    snprintf(out, size, "%.64s", act);
  }
#undef PART
}

static void evidence_cell(rc *c, const json_t *ev) {
  dp_rw *w = c->w;
  B(a);
  const char *nm = dp_jstr_at(ev, "name_match");
  int wrote = 0;
  if (nm) {
    dp_rw_text(w, "name matches ");
    dp_rw_code(w, nm);
    wrote = 1;
  }
  size_t n;
  nv *m = sorted_members(dp_jget(ev, "matches"), &n);
  size_t shown = 0;
  for (size_t i = 0; i < n; i++) {
    if (!strcmp(m[i].name, "embedded_any") && n > 1) continue; /* the sum of the embedded_* shares */
    if (shown == 4) {
      dp_rw_text(w, ", ...");
      break;
    }
    char l[96];
    match_text(m[i].name, l, sizeof l);
    dp_rw_textf(w, "%s%s %s", wrote ? (shown ? ", " : "; ") : "", l, dp_fmt_share(m[i].v, a, sizeof a));
    shown++;
    wrote = 1;
  }
  free(m);
  double vals;
  if (dp_jnum_at(ev, "values", &vals)) {
    dp_rw_textf(w, "%s%s value%s%s", wrote ? (shown ? " of " : "; ") : "", dp_fmt_count(vals, a, sizeof a),
                vals == 1 ? "" : "s", shown ? "" : " seen");
    wrote = 1;
  }
  if (!wrote) dp_rw_text(w, DP_DASH);
}

static void section_privacy(rc *c) {
  dp_rw *w = c->w;
  const json_t *pr = dp_jget(c->p, "privacy");
  const json_t *fields = dp_jget(pr, "fields");
  B(a);
  char line[512];
  dp_rw_section(w, "privacy", "Privacy ledger");
  dp_rw_p(w, "Every field path seen in the data, with its privacy class, the evidence for it and the treatment "
             "doppel proposes. A reviewer may change any treatment in the profile; the edited profile is then a "
             "valid --policy for doppel pseudonymize and doppel sample. Direct identifiers are highlighted.");
  if (!arr_n(fields)) {
    dp_rw_note(w, "This profile has no privacy ledger.");
  } else {
    uint64_t n_cls[5] = {0};
    size_t i;
    const json_t *f;
    json_array_foreach(fields, i, f) {
      const char *b = class_badge(dp_jstr_at(f, "class"));
      n_cls[!strcmp(b, "direct") ? 0 : !strcmp(b, "quasi") ? 1 : !strcmp(b, "sensitive") ? 2 : !strcmp(b, "none") ? 3 : 4]++;
    }
    dp_rw_para_begin(w);
    static const char *const names[] = {"direct identifier", "quasi-identifier", "sensitive", "not personal",
                                        "unclassified"};
    static const char *const kinds[] = {"direct", "quasi", "sensitive", "none", "muted"};
    int first = 1;
    for (int k = 0; k < 5; k++) {
      if (!n_cls[k] && k != 0) continue;
      if (!first) dp_rw_text(w, dp_rw_html(w) ? " " : " " DP_MIDDOT " ");
      snprintf(line, sizeof line, "%llu %s%s", (unsigned long long)n_cls[k], names[k],
               n_cls[k] != 1 && k < 2 ? "s" : "");
      dp_rw_badge(w, line, kinds[k]);
      first = 0;
    }
    dp_rw_para_end(w);
    if (c->sum->untreated) {
      snprintf(line, sizeof line,
               "%llu identifying field%s (direct or quasi) ha%s no treatment or \"keep\": used as a policy, the "
               "default treatment%s would apply unless the reviewer adds one.",
               (unsigned long long)c->sum->untreated, c->sum->untreated == 1 ? "" : "s",
               c->sum->untreated == 1 ? "s" : "ve", c->sum->untreated == 1 ? "" : "s");
      dp_rw_para_begin(w);
      dp_rw_badge(w, "review", "warning");
      dp_rw_text(w, " ");
      dp_rw_text(w, line);
      dp_rw_para_end(w);
    }
    dp_rw_table_begin(w, "Field|Class|Kind|Evidence|Proposed treatment");
    json_array_foreach(fields, i, f) {
      const char *cls = dp_jstr_at(f, "class"), *badge = class_badge(cls);
      int ident = !strcmp(badge, "direct") || !strcmp(badge, "quasi");
      dp_rw_row_begin(w, !strcmp(badge, "direct") ? "direct" : !strcmp(badge, "quasi") ? "quasi" : NULL);
      dp_rw_td_begin(w);
      dp_rw_code(w, dp_jstr_at(f, "path"));
      dp_rw_td_end(w);
      dp_rw_td_begin(w);
      dp_rw_badge(w, class_label(cls), badge);
      dp_rw_td_end(w);
      char kt[96];
      kind_text(dp_jstr_at(f, "kind"), kt, sizeof kt);
      dp_rw_td(w, kt);
      dp_rw_td_begin(w);
      evidence_cell(c, dp_jget(f, "evidence"));
      dp_rw_td_end(w);
      const json_t *t = dp_jget(f, "treatment");
      dp_rw_td_begin(w);
      if (json_is_object(t)) {
        treatment_text(t, line, sizeof line);
        const char *act = dp_jstr_at(t, "action");
        if (ident && act && !strcmp(act, "keep")) {
          dp_rw_badge(w, "kept in clear", "warning");
          dp_rw_text(w, " ");
        }
        dp_rw_text(w, line);
      } else if (ident) {
        dp_rw_badge(w, "no treatment", "warning");
        dp_rw_text(w, " default applies");
      } else {
        dp_rw_text(w, "none (kept as is)");
      }
      dp_rw_td_end(w);
      dp_rw_row_end(w);
    }
    dp_rw_table_end(w);
  }
  double pk = 0, pe = 0;
  dp_jnum_at(pr, "pii_in_keys", &pk);
  dp_jnum_at(pr, "pii_in_event_names", &pe);
  if (pk > 0 || pe > 0) {
    B(b);
    snprintf(line, sizeof line,
             "Personal data used as names: %s distinct JSON key%s and %s event name%s were personal data "
             "themselves (an e-mail or phone number used as a key, say). They are never listed; pseudonymize "
             "replaces such keys.",
             dp_fmt_count(pk, a, sizeof a), pk == 1 ? "" : "s", dp_fmt_count(pe, b, sizeof b), pe == 1 ? "" : "s");
    dp_rw_para_begin(w);
    dp_rw_badge(w, "personal data in names", "error");
    dp_rw_text(w, " ");
    dp_rw_text(w, line);
    dp_rw_para_end(w);
  }
  if (json_is_false(dp_jget(pr, "defaults")))
    dp_rw_note(w, "defaults: false. Used as a policy, this ledger leaves every path it does not treat untouched "
                  "(no default treatment).");

  /* identifier shapes */
  const json_t *ids = dp_jget(c->p, "identifiers");
  if (json_is_object(ids) && json_object_size(ids)) {
    dp_rw_subsection(w, "Identifier fields (described by shape only)");
    dp_rw_p(w, "The canonical id fields are never listed by value: only how often they are present, their "
               "dominant kind, an estimate of distinct values, their length and their character-class "
               "patterns (a = lower-case letters, A = upper-case, 9 = digits, u = non-ASCII).");
    dp_rw_table_begin(w, "Field|#Present|Kind|#Distinct|#Median length|Patterns");
    const char *key;
    json_t *id;
    json_object_foreach((json_t *)ids, key, id) {
      dp_rw_row_begin(w, json_is_object(id) ? NULL : "muted");
      dp_rw_td_begin(w);
      dp_rw_code(w, key);
      dp_rw_td_end(w);
      if (!json_is_object(id)) {
        dp_rw_td(w, DP_DASH);
        dp_rw_td(w, "not in the data");
        dp_rw_row_end(w);
        continue;
      }
      dp_rw_td(w, share_at(id, "present", a));
      char kt[96];
      kind_text(dp_jstr_at(id, "kind"), kt, sizeof kt);
      dp_rw_td(w, kt);
      dp_rw_td(w, count_at(id, "distinct", a));
      double v;
      dp_rw_td(w, dp_dist_q(dp_jget(id, "length"), 50, &v) ? dp_fmt_number(v, a, sizeof a) : NULL);
      dp_rw_td_begin(w);
      const json_t *pats = dp_jget(id, "patterns");
      size_t j;
      const json_t *pt;
      json_array_foreach(pats, j, pt) {
        if (j == 3) {
          dp_rw_textf(w, " +%zu more", arr_n(pats) - 3);
          break;
        }
        if (j) dp_rw_text(w, " " DP_MIDDOT " ");
        dp_rw_code(w, dp_jstr_at(pt, "pattern") ? dp_jstr_at(pt, "pattern") : "?");
        if (share_at(pt, "share", a)) dp_rw_textf(w, " %s", a);
      }
      if (!arr_n(pats)) dp_rw_text(w, "none held by k users");
      dp_rw_td_end(w);
      dp_rw_row_end(w);
    }
    dp_rw_table_end(w);
  }
}

/* ---- what was held back ---- */

static void section_suppressed(rc *c) {
  dp_rw *w = c->w;
  const json_t *pr = dp_jget(c->p, "privacy"), *sup = dp_jget(pr, "suppressed");
  const json_t *evs = dp_jpath(c->p, "events.suppressed");
  B(a);
  char line[1024];
  dp_rw_section(w, "suppressed", "What was held back");
  char nth[DP_FMT_MAX];
  snprintf(line, sizeof line,
           "To make the profile safe to share, doppel lists a value only when at least %s different users have "
           "it%s%s%s. Event names, property values, text patterns, transitions, session paths, property paths and "
           "retention cohorts held by fewer users could point to a single person, so they are left out and only "
           "counted here. Identifier fields are described by their shape (length and character pattern), never "
           "by value, and the ends of every distribution are clipped to the value of the %s most extreme user, "
           "so no raw minimum or maximum appears.",
           c->has_k ? dp_fmt_count(c->k, a, sizeof a) : "k", c->has_k ? " (" : " (k is chosen when the profile is made; 10 by default",
           c->has_k ? c->k_str : "", ")",
           c->has_k ? ordinal(c->k, nth, sizeof nth) : "k-th");
  dp_rw_p(w, line);
  if (!sup && !evs) {
    dp_rw_note(w, "This profile does not say what was held back.");
    return;
  }
  static const label kinds[] = {
      {"event_names", "Event names (their events still count in totals and show as \"other\" in transitions)"},
      {"values", "Property values (summed into each property's \"other\" share)"},
      {"patterns", "Text and identifier shape patterns"},
      {"transitions", "Next-event transitions (folded into \"other\")"},
      {"paths", "Session paths"},
      {"property_paths", "Property paths (whole properties not listed)"},
      {"cohorts", "Retention cohorts"},
  };
  dp_rw_table_begin(w, "What|#Held back|Meaning");
  for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
    double v;
    if (!dp_jnum_at(sup, kinds[i].key, &v)) continue;
    dp_rw_row_begin(w, v == 0 ? "muted" : NULL);
    dp_rw_td_begin(w);
    dp_rw_code(w, kinds[i].key);
    dp_rw_td_end(w);
    dp_rw_td(w, dp_fmt_count(v, a, sizeof a));
    dp_rw_td(w, kinds[i].text);
    dp_rw_row_end(w);
  }
  const char *key;
  json_t *val;
  json_object_foreach((json_t *)sup, key, val) { /* kinds added by later versions */
    double v;
    if (LOOKUP(kinds, key) || !dp_jnum(val, &v)) continue;
    dp_rw_row_begin(w, v == 0 ? "muted" : NULL);
    dp_rw_td_begin(w);
    dp_rw_code(w, key);
    dp_rw_td_end(w);
    dp_rw_td(w, dp_fmt_count(v, a, sizeof a));
    dp_rw_td(w, DP_DASH);
    dp_rw_row_end(w);
  }
  double ev_n;
  if (dp_jnum_at(evs, "events", &ev_n)) {
    dp_rw_row_begin(w, ev_n == 0 ? "muted" : NULL);
    dp_rw_td(w, "events of held-back names");
    dp_rw_td(w, dp_fmt_count(ev_n, a, sizeof a));
    dp_rw_td(w, "Events whose name is held back: counted in the totals, not listed by name");
    dp_rw_row_end(w);
  }
  dp_rw_table_end(w);
}

/* ---- warnings ---- */

/* "property:EVENT:PATH" with EVENT one of the listed names, else split at
 * the first ':'. */
static void scope_cell(rc *c, const char *scope) {
  dp_rw *w = c->w;
  if (!scope) {
    dp_rw_text(w, DP_DASH);
    return;
  }
  if (!strncmp(scope, "property:", 9)) {
    const char *rest = scope + 9, *path = NULL;
    size_t elen = 0, i;
    const json_t *e;
    json_array_foreach(dp_jpath(c->p, "events.list"), i, e) {
      const char *n = dp_jstr_at(e, "name");
      size_t nl = n ? strlen(n) : 0;
      if (n && !strncmp(rest, n, nl) && rest[nl] == ':' && nl >= elen) {
        elen = nl;
        path = rest + nl + 1;
      }
    }
    if (!path) {
      const char *colon = strchr(rest, ':');
      if (colon) {
        elen = (size_t)(colon - rest);
        path = colon + 1;
      }
    }
    if (path) {
      char ev[256];
      snprintf(ev, sizeof ev, "%.*s", (int)(elen < 255 ? elen : 255), rest);
      dp_rw_code(w, path);
      dp_rw_text(w, " on ");
      dp_rw_code(w, ev);
      return;
    }
  }
  if (!strncmp(scope, "event:", 6)) {
    dp_rw_text(w, "event ");
    dp_rw_code(w, scope + 6);
    return;
  }
  dp_rw_text(w, scope);
}

static int severity_rank(const char *s) {
  if (!s) return 3;
  if (!strcmp(s, "error")) return 0;
  if (!strcmp(s, "warning")) return 1;
  if (!strcmp(s, "info")) return 2;
  return 3;
}

static void section_warnings(rc *c) {
  dp_rw *w = c->w;
  const json_t *ws = dp_jget(c->p, "warnings");
  B(a);
  dp_rw_section(w, "warnings", "Warnings");
  if (!arr_n(ws)) {
    dp_rw_p(w, json_is_array(ws) ? "No data-quality findings." : "This profile has no warnings section.");
    return;
  }
  uint64_t other = arr_n(ws) - c->sum->warnings[0] - c->sum->warnings[1] - c->sum->warnings[2];
  char line[256];
  snprintf(line, sizeof line, "%zu data-quality finding%s: %llu error%s, %llu warning%s, %llu note%s%s.",
           arr_n(ws), arr_n(ws) == 1 ? "" : "s", (unsigned long long)c->sum->warnings[0],
           c->sum->warnings[0] == 1 ? "" : "s", (unsigned long long)c->sum->warnings[1],
           c->sum->warnings[1] == 1 ? "" : "s", (unsigned long long)c->sum->warnings[2],
           c->sum->warnings[2] == 1 ? "" : "s", other ? " and others" : "");
  dp_rw_p(w, line);
  static const char *const titles[] = {"Errors", "Warnings", "Notes", "Other"};
  static const char *const badges[] = {"error", "warning", "info", "muted"};
  for (int r = 0; r < 4; r++) {
    uint64_t n = r < 3 ? c->sum->warnings[r] : other;
    if (!n) continue;
    snprintf(line, sizeof line, "%s (%llu)", titles[r], (unsigned long long)n);
    dp_rw_subsection(w, line);
    dp_rw_table_begin(w, "Code|Scope|#Count|Finding|What to do");
    size_t i;
    const json_t *x;
    json_array_foreach(ws, i, x) {
      const char *sev = dp_jstr_at(x, "severity");
      if (severity_rank(sev) != r) continue;
      dp_rw_row_begin(w, r == 0 ? "error" : r == 1 ? "warning" : NULL);
      dp_rw_td_begin(w);
      dp_rw_badge(w, dp_jstr_at(x, "code") ? dp_jstr_at(x, "code") : "?", badges[r]);
      if (r == 3 && sev) {
        dp_rw_text(w, " ");
        dp_rw_text(w, sev);
      }
      dp_rw_td_end(w);
      dp_rw_td_begin(w);
      scope_cell(c, dp_jstr_at(x, "scope"));
      dp_rw_td_end(w);
      dp_rw_td(w, count_at(x, "count", a));
      dp_rw_td(w, dp_jstr_at(x, "message"));
      dp_rw_td(w, dp_jstr_at(x, "hint"));
      dp_rw_row_end(w);
    }
    dp_rw_table_end(w);
  }
}

/* ---- event catalog ---- */

static void next_cell(rc *c, const json_t *next, size_t max) {
  dp_rw *w = c->w;
  B(a);
  size_t n;
  nv *m = sorted_members(next, &n);
  for (size_t i = 0; i < n && i < max; i++) {
    if (i) dp_rw_text(w, " " DP_MIDDOT " ");
    put_step(c, m[i].name);
    dp_rw_textf(w, " %s", dp_fmt_share(m[i].v, a, sizeof a));
  }
  if (n > max) dp_rw_textf(w, " +%zu more", n - max);
  if (!n) dp_rw_text(w, DP_DASH);
  free(m);
}

static void funnels(rc *c, const json_t *fs) {
  dp_rw *w = c->w;
  B(a);
  dp_rw_subsection(w, "Funnels");
  dp_rw_table_begin(w, "Steps|#Start share|Step conversions");
  size_t i;
  const json_t *f;
  json_array_foreach(fs, i, f) {
    dp_rw_row_begin(w, NULL);
    dp_rw_td_begin(w);
    size_t j;
    const json_t *s;
    json_array_foreach(dp_jget(f, "steps"), j, s) {
      if (j) dp_rw_text(w, " " DP_ARROW " ");
      if (json_is_string(s)) dp_rw_code(w, json_string_value(s));
    }
    dp_rw_td_end(w);
    dp_rw_td(w, share_at(f, "start_share", a));
    dp_rw_td_begin(w);
    const json_t *cv = dp_jget(f, "conversion");
    json_array_foreach(cv, j, s) {
      double v;
      if (j) dp_rw_text(w, ", ");
      dp_rw_text(w, dp_jnum(s, &v) ? dp_fmt_share(v, a, sizeof a) : DP_DASH);
    }
    if (!arr_n(cv)) dp_rw_text(w, DP_DASH);
    dp_rw_td_end(w);
    dp_rw_row_end(w);
  }
  dp_rw_table_end(w);
}

static void section_events(rc *c) {
  dp_rw *w = c->w;
  const json_t *ev = dp_jget(c->p, "events"), *list = dp_jget(ev, "list");
  B(a);
  B(b);
  char line[512];
  dp_rw_section(w, "events", "Event catalog");
  if (!arr_n(list)) {
    dp_rw_p(w, ev ? "No event name is listed in this profile." : "This profile has no events section.");
  } else {
    double total, sn = 0, se = 0;
    const json_t *sup = dp_jget(ev, "suppressed");
    dp_jnum_at(sup, "names", &sn);
    dp_jnum_at(sup, "events", &se);
    if (dp_jnum_at(ev, "total", &total))
      snprintf(line, sizeof line, "%s events under %zu listed event name%s", dp_fmt_count(total, a, sizeof a),
               arr_n(list), arr_n(list) == 1 ? "" : "s");
    else
      snprintf(line, sizeof line, "%zu event name%s", arr_n(list), arr_n(list) == 1 ? "" : "s");
    size_t o = strlen(line);
    if (sn > 0)
      snprintf(line + o, sizeof line - o, "; %s more name%s (%s events) held by fewer than %s users %s not listed.",
               dp_fmt_count(sn, a, sizeof a), sn == 1 ? "" : "s", dp_fmt_count(se, b, sizeof b), c->k_str,
               sn == 1 ? "is" : "are");
    else
      snprintf(line + o, sizeof line - o, ".");
    dp_rw_p(w, line);
    dp_html *h = dp_rw_html(w);
    if (h) {
      size_t n = arr_n(list) < 20 ? arr_n(list) : 20;
      dp_html_bar *bars = dp_nomem_calloc(n, sizeof *bars);
      char (*texts)[2 * DP_FMT_MAX] = dp_nomem_calloc(n, sizeof *texts);
      if (bars && texts) {
        for (size_t i = 0; i < n; i++) {
          const json_t *e = json_array_get(list, i);
          double s = 0, cnt;
          dp_jnum_at(e, "share", &s);
          bars[i].label = dp_jstr_at(e, "name");
          bars[i].value = s;
          if (dp_jnum_at(e, "count", &cnt))
            snprintf(texts[i], sizeof texts[i], "%s " DP_MIDDOT " %s", dp_fmt_share(s, a, sizeof a),
                     dp_fmt_count(cnt, b, sizeof b));
          else
            snprintf(texts[i], sizeof texts[i], "%s", dp_fmt_share(s, a, sizeof a));
          bars[i].value_text = texts[i];
        }
        snprintf(line, sizeof line, "Share of events by name%s", arr_n(list) > 20 ? " (the 20 most common)" : "");
        dp_html_bar_spec spec = {line, bars, n, 0, DP_HTML_PERCENT};
        dp_html_bar_chart(h, &spec);
      }
      free(bars);
      free(texts);
    }
    dp_rw_table_begin(w, "Event|#Events|#Share|#Users|#Starts sessions|Next event (same session)");
    size_t i;
    const json_t *e;
    json_array_foreach(list, i, e) {
      dp_rw_row_begin(w, NULL);
      dp_rw_td_begin(w);
      dp_rw_code(w, dp_jstr_at(e, "name"));
      dp_rw_td_end(w);
      dp_rw_td(w, count_at(e, "count", a));
      double s;
      dp_rw_td_begin(w);
      if (dp_jnum_at(e, "share", &s)) {
        dp_rw_text(w, dp_fmt_share(s, a, sizeof a));
        dp_rw_meter(w, s);
      } else {
        dp_rw_text(w, DP_DASH);
      }
      dp_rw_td_end(w);
      dp_rw_td(w, count_at(e, "users", a));
      double sf, sfs;
      int hsf = dp_jnum_at(e, "session_first", &sf), hsfs = dp_jnum_at(e, "session_first_share", &sfs);
      if (hsfs && hsf) {
        snprintf(line, sizeof line, "%s (%s)", dp_fmt_share(sfs, a, sizeof a), dp_fmt_count(sf, b, sizeof b));
        dp_rw_td(w, line);
      } else {
        dp_rw_td(w, hsfs ? dp_fmt_share(sfs, a, sizeof a) : hsf ? dp_fmt_count(sf, b, sizeof b) : NULL);
      }
      dp_rw_td_begin(w);
      next_cell(c, dp_jget(e, "next"), 3);
      dp_rw_td_end(w);
      dp_rw_row_end(w);
    }
    dp_rw_table_end(w);
    dp_rw_note(w, "Share: of all events. Users: distinct users with the event. Starts sessions: the share of all "
                  "sessions that begin with the event (and how many). Next event: what follows the event within "
                  "the same session; \"session ends\" when nothing does.");
  }
  const json_t *fs = dp_jget(ev, "funnels");
  if (!arr_n(fs)) fs = dp_jget(c->p, "funnels");
  if (arr_n(fs)) funnels(c, fs);
}

/* ---- property catalog ---- */

static void types_cell(rc *c, const json_t *types) {
  dp_rw *w = c->w;
  B(a);
  size_t n;
  nv *m = sorted_members(types, &n);
  double tot = 0;
  for (size_t i = 0; i < n; i++) tot += m[i].v;
  for (size_t i = 0; i < n; i++) {
    const char *l = LOOKUP(type_labels, m[i].name);
    if (i) dp_rw_text(w, " " DP_MIDDOT " ");
    dp_rw_text(w, l ? l : m[i].name);
    if (n > 1 && tot > 0) dp_rw_textf(w, " %s", dp_fmt_share(m[i].v / tot, a, sizeof a));
  }
  if (!n) dp_rw_text(w, DP_DASH);
  free(m);
}

static void patterns_inline(rc *c, const json_t *pats, size_t max) {
  B(a);
  size_t j;
  const json_t *pt;
  json_array_foreach(pats, j, pt) {
    if (j == max) {
      dp_rw_textf(c->w, " +%zu more", arr_n(pats) - max);
      break;
    }
    if (j) dp_rw_text(c->w, " " DP_MIDDOT " ");
    dp_rw_code(c->w, dp_jstr_at(pt, "pattern") ? dp_jstr_at(pt, "pattern") : "?");
    if (share_at(pt, "share", a)) dp_rw_textf(c->w, " %s", a);
  }
}

static void values_cell(rc *c, const json_t *pr) {
  dp_rw *w = c->w;
  B(a);
  B(b);
  B(d);
  const char *cls = dp_jstr_at(pr, "class");
  const json_t *vals = dp_jget(pr, "values"), *top = dp_jget(vals, "top"), *num = dp_jget(pr, "number");
  const json_t *str = dp_jget(pr, "string"), *ts = dp_jget(pr, "timestamp"), *arr = dp_jget(pr, "array");
  int wrote = 0;
  if (cls && !strcmp(cls, "direct_identifier")) {
    dp_rw_text(w, "shape only: ");
    patterns_inline(c, dp_jget(str, "patterns"), 3);
    if (!arr_n(dp_jget(str, "patterns"))) dp_rw_text(w, "no pattern held by k users");
    return;
  }
  if (arr_n(top)) {
    size_t j;
    const json_t *t;
    json_array_foreach(top, j, t) {
      if (j == 5) {
        dp_rw_textf(w, " +%zu more", arr_n(top) - 5);
        break;
      }
      if (j) dp_rw_text(w, " " DP_MIDDOT " ");
      put_value(c, dp_jget(t, "value"));
      if (share_at(t, "share", a)) dp_rw_textf(w, " %s", a);
    }
    double other;
    if (dp_jnum_at(vals, "other", &other) && other > 0) dp_rw_textf(w, "; other %s", dp_fmt_share(other, a, sizeof a));
    wrote = 1;
  }
  double q10, q50, q90, mean;
  if (json_is_object(num)) {
    int h50 = dp_dist_q(num, 50, &q50);
    if (h50 && dp_dist_q(num, 10, &q10) && dp_dist_q(num, 90, &q90)) {
      dp_rw_textf(w, "%smedian %s, p10 %s, p90 %s", wrote ? "; " : "", dp_fmt_number(q50, a, sizeof a),
                  dp_fmt_number(q10, b, sizeof b), dp_fmt_number(q90, d, sizeof d));
      wrote = 1;
    } else if (dp_jnum_at(num, "mean", &mean)) {
      dp_rw_textf(w, "%smean %s", wrote ? "; " : "", dp_fmt_number(mean, a, sizeof a));
      double sd, lo, hi;
      if (dp_jnum_at(num, "sd", &sd)) dp_rw_textf(w, ", sd %s", dp_fmt_number(sd, b, sizeof b));
      wrote = 1;
      if (dp_jnum_at(num, "min", &lo) && dp_jnum_at(num, "max", &hi))
        dp_rw_textf(w, ", from %s to %s", dp_fmt_number(lo, b, sizeof b), dp_fmt_number(hi, d, sizeof d));
    } else if (dp_jnum_at(num, "min", &q10) && dp_jnum_at(num, "max", &q90)) {
      dp_rw_textf(w, "%suniform from %s to %s", wrote ? "; " : "", dp_fmt_number(q10, a, sizeof a),
                  dp_fmt_number(q90, b, sizeof b));
      wrote = 1;
    }
  }
  double tsh;
  if (dp_jnum_at(ts, "share", &tsh) && tsh > 0) {
    dp_rw_textf(w, "%stimestamps (%s of strings)", wrote ? "; " : "", dp_fmt_share(tsh, a, sizeof a));
    if (dp_dist_q(dp_jget(ts, "offset_s"), 50, &q50))
      dp_rw_textf(w, ", median offset from the event time %s", dp_fmt_duration(q50, b, sizeof b));
    wrote = 1;
  }
  if (json_is_object(arr)) {
    if (dp_dist_q(dp_jget(arr, "length"), 50, &q50))
      dp_rw_textf(w, "%sarrays, median length %s", wrote ? "; " : "", dp_fmt_number(q50, a, sizeof a));
    else
      dp_rw_textf(w, "%sarrays", wrote ? "; " : "");
    wrote = 1;
  }
  if (!wrote) {
    double dist;
    if (dp_jnum_at(vals, "distinct", &dist)) {
      dp_rw_textf(w, "about %s distinct value%s, none held by k users", dp_fmt_count(dist, a, sizeof a),
                  dist == 1 ? "" : "s");
      wrote = 1;
    }
    if (arr_n(dp_jget(str, "patterns"))) {
      dp_rw_text(w, wrote ? "; patterns " : "patterns ");
      patterns_inline(c, dp_jget(str, "patterns"), 3);
      wrote = 1;
    }
  }
  if (!wrote) dp_rw_text(w, DP_DASH);
}

static void constancy_cell(rc *c, const json_t *cst) {
  B(a);
  double u, s;
  int hu = dp_jnum_at(cst, "user", &u), hs = dp_jnum_at(cst, "session", &s);
  if (!hu && !hs) {
    dp_rw_text(c->w, DP_DASH);
    return;
  }
  if (hu) dp_rw_textf(c->w, "user %s", dp_fmt_share(u, a, sizeof a));
  if (hs) dp_rw_textf(c->w, "%ssession %s", hu ? " " DP_MIDDOT " " : "", dp_fmt_share(s, a, sizeof a));
}

static void property_table(rc *c, const json_t *const *rows, size_t n) {
  dp_rw *w = c->w;
  B(a);
  dp_rw_table_begin(w, "Property|Class|#Presence|Types|Values|Constancy");
  for (size_t i = 0; i < n; i++) {
    const json_t *pr = rows[i];
    const char *cls = dp_jstr_at(pr, "class"), *badge = class_badge(cls);
    dp_rw_row_begin(w, !strcmp(badge, "direct") ? "direct" : !strcmp(badge, "quasi") ? "quasi" : NULL);
    dp_rw_td_begin(w);
    dp_rw_code(w, dp_jstr_at(pr, "path"));
    dp_rw_td_end(w);
    dp_rw_td_begin(w);
    if (cls) dp_rw_badge(w, class_label(cls), badge);
    else dp_rw_text(w, DP_DASH);
    dp_rw_td_end(w);
    double pres;
    dp_rw_td_begin(w);
    if (dp_jnum_at(pr, "presence", &pres)) {
      dp_rw_text(w, dp_fmt_share(pres, a, sizeof a));
      dp_rw_meter(w, pres);
    } else {
      dp_rw_text(w, DP_DASH);
    }
    dp_rw_td_end(w);
    dp_rw_td_begin(w);
    types_cell(c, dp_jget(pr, "types"));
    dp_rw_td_end(w);
    dp_rw_td_begin(w);
    values_cell(c, pr);
    dp_rw_td_end(w);
    dp_rw_td_begin(w);
    constancy_cell(c, dp_jget(pr, "constancy"));
    dp_rw_td_end(w);
    dp_rw_row_end(w);
  }
  dp_rw_table_end(w);
}

typedef struct pref {
  const json_t *pr;   /* the property entry */
  size_t rank;        /* position of its event in events.list, or list size + first-seen order */
  size_t ix;          /* position in the properties array */
} pref;

static int pref_cmp(const void *a, const void *b) {
  const pref *x = a, *y = b;
  if (x->rank != y->rank) return x->rank < y->rank ? -1 : 1;
  return x->ix < y->ix ? -1 : x->ix > y->ix;
}

typedef struct nix {
  const char *name;
  size_t ix;
} nix;

static int nix_cmp(const void *a, const void *b) {
  const nix *x = a, *y = b;
  int r = strcmp(x->name, y->name);
  if (r) return r;
  return x->ix < y->ix ? -1 : x->ix > y->ix;
}

static void section_properties(rc *c) {
  dp_rw *w = c->w;
  const json_t *props = dp_jget(c->p, "properties"), *uprops = dp_jget(c->p, "user_properties");
  const json_t *list = dp_jpath(c->p, "events.list");
  B(a);
  char line[512];
  dp_rw_section(w, "properties", "Property catalog");
  size_t np = arr_n(props), nu = arr_n(uprops), ne = arr_n(list);
  if (!np && !nu) {
    dp_rw_p(w, json_is_array(props) ? "No property is listed in this profile."
                                    : "This profile has no properties section.");
    return;
  }
  snprintf(line, sizeof line,
           "What each event carries: %zu event propert%s and %zu user propert%s. Presence: the share of the "
           "event's occurrences with the property. Values: the most common values (each held by at least k "
           "users) or, for numbers, the median and the 10th and 90th percentiles. Constancy: the share of users "
           "(sessions) for whom the property never changes. Direct identifiers are described by shape only.",
           np, np == 1 ? "y" : "ies", nu, nu == 1 ? "y" : "ies");
  dp_rw_p(w, line);
  /* group by event, in catalog order, then events not in the catalog in first-seen order */
  nix *names = ne ? dp_nomem_malloc(ne * sizeof *names) : NULL;
  pref *refs = np ? dp_nomem_malloc(np * sizeof *refs) : NULL;
  const json_t **rows = dp_nomem_malloc((np > nu ? np : nu) * sizeof *rows + 1);
  if ((ne && !names) || (np && !refs) || !rows) {
    free(names);
    free(refs);
    free(rows);
    dp_rw_note(w, "(out of memory)");
    return;
  }
  for (size_t i = 0; i < ne; i++) {
    names[i].name = dp_jstr_at(json_array_get(list, i), "name");
    names[i].ix = i;
  }
  qsort(names, ne, sizeof *names, nix_cmp);
  for (size_t i = 0; i < np; i++) {
    const json_t *pr = json_array_get(props, i);
    const char *ev = dp_jstr_at(pr, "event");
    refs[i].pr = pr;
    refs[i].ix = i;
    refs[i].rank = SIZE_MAX;
    if (ev && ne) {
      size_t lo = 0, hi = ne; /* the first entry with this name */
      while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (strcmp(names[mid].name, ev) < 0) lo = mid + 1;
        else hi = mid;
      }
      const nix *hit = lo < ne && !strcmp(names[lo].name, ev) ? &names[lo] : NULL;
      if (hit) refs[i].rank = hit->ix;
    }
    if (refs[i].rank == SIZE_MAX) {
      /* not in the catalog: after it, grouped with earlier entries of the same event */
      size_t r = ne + i;
      for (size_t j = 0; j < i; j++) {
        const char *ej = dp_jstr_at(refs[j].pr, "event");
        if (refs[j].rank >= ne && ((ev && ej && !strcmp(ev, ej)) || (!ev && !ej))) {
          r = refs[j].rank;
          break;
        }
      }
      refs[i].rank = r;
    }
  }
  qsort(refs, np, sizeof *refs, pref_cmp);
  for (size_t i = 0; i < np;) {
    size_t j = i;
    while (j < np && refs[j].rank == refs[i].rank) {
      rows[j - i] = refs[j].pr;
      j++;
    }
    const char *ev = dp_jstr_at(refs[i].pr, "event");
    double cnt;
    const json_t *e = refs[i].rank < ne ? json_array_get(list, refs[i].rank) : NULL;
    if (ev && !strcmp(ev, "*")) snprintf(line, sizeof line, "Every event");
    else if (!ev) snprintf(line, sizeof line, "Properties without an event");
    else if (e && dp_jnum_at(e, "count", &cnt))
      snprintf(line, sizeof line, "%.200s (%s events)", ev, dp_fmt_count(cnt, a, sizeof a));
    else snprintf(line, sizeof line, "%.200s", ev);
    dp_rw_subsection(w, line);
    property_table(c, rows, j - i);
    i = j;
  }
  if (nu) {
    dp_rw_subsection(w, "User properties");
    for (size_t i = 0; i < nu; i++) rows[i] = json_array_get(uprops, i);
    property_table(c, rows, nu);
  }
  free(names);
  free(refs);
  free(rows);
}

/* ---- retention ---- */

/* Index of n == N in a retention curve, or -1. */
static long curve_index(const json_t *curve, double N) {
  const json_t *ns = dp_jget(curve, "n");
  size_t i;
  const json_t *v;
  json_array_foreach(ns, i, v) {
    double d;
    if (dp_jnum(v, &d) && d == N) return (long)i;
  }
  return -1;
}

static void retention_chart(rc *c, const json_t *curve, const char *caption, const char *x_title) {
  dp_html *h = dp_rw_html(c->w);
  const json_t *ns = dp_jget(curve, "n"), *sh = dp_jget(curve, "share");
  size_t n = arr_n(ns) < arr_n(sh) ? arr_n(ns) : arr_n(sh);
  if (!h || n < 2) return;
  double *x = dp_nomem_malloc(n * sizeof *x), *y = dp_nomem_malloc(n * sizeof *y);
  size_t m = 0;
  for (size_t i = 0; x && y && i < n; i++) {
    double xv, yv;
    if (!dp_jnum(json_array_get(ns, i), &xv) || !dp_jnum(json_array_get(sh, i), &yv)) continue;
    if (xv == 0) continue; /* N = 0 is 100% by definition */
    x[m] = xv;
    y[m] = yv;
    m++;
  }
  if (m >= 1) {
    dp_html_series s = {"retention", x, y, m};
    dp_html_line_spec spec = {caption, x_title, "active users", &s, 1, DP_HTML_PERCENT | DP_HTML_MARKERS | DP_HTML_AREA,
                              NULL, NULL, 1, 0};
    dp_html_line_chart(h, &spec);
  }
  free(x);
  free(y);
}

static void retention_table(rc *c, const json_t *curve, const char *unit) {
  dp_rw *w = c->w;
  B(a);
  B(b);
  const json_t *ns = dp_jget(curve, "n"), *sh = dp_jget(curve, "share"), *us = dp_jget(curve, "users");
  char cols[128];
  snprintf(cols, sizeof cols, "%s|#Active|#Users counted", unit);
  dp_rw_table_begin(w, cols);
  size_t i;
  const json_t *v;
  json_array_foreach(ns, i, v) {
    double N, s, u;
    if (!dp_jnum(v, &N)) continue;
    dp_rw_row_begin(w, NULL);
    dp_rw_td(w, dp_fmt_count(N, a, sizeof a));
    dp_rw_td(w, dp_jnum(json_array_get(sh, i), &s) ? dp_fmt_share(s, b, sizeof b) : NULL);
    dp_rw_td(w, dp_jnum(json_array_get(us, i), &u) ? dp_fmt_count(u, a, sizeof a) : NULL);
    dp_rw_row_end(w);
  }
  dp_rw_table_end(w);
}

static void cohorts(rc *c, const json_t *co) {
  dp_rw *w = c->w;
  const json_t *rows = dp_jget(co, "rows");
  const char *unit = dp_jstr_at(co, "unit");
  B(a);
  char line[512];
  size_t n = arr_n(rows), periods = 0;
  if (!n) return;
  snprintf(line, sizeof line, "Cohorts by first-seen %s", unit ? unit : "period");
  dp_rw_subsection(w, line);
  const size_t show = 24, first = n > show ? n - show : 0;
  for (size_t i = first; i < n; i++) {
    size_t k = arr_n(dp_jget(json_array_get(rows, i), "share"));
    if (k > periods) periods = k;
  }
  if (periods > 13) periods = 13;
  snprintf(line, sizeof line,
           "Users grouped by the %s they were first seen; each cell is the share of the cohort active in its "
           "%s 0, 1, 2, ... (only periods fully inside the data). Cohorts of fewer than k users are left out.%s",
           unit ? unit : "period", unit ? unit : "period", n > show ? "" : "");
  dp_rw_p(w, line);
  if (n > show) {
    snprintf(line, sizeof line, "Showing the %zu most recent of %zu cohorts; every cohort is in the profile.", show, n);
    dp_rw_note(w, line);
  }
  char cols[512] = "Cohort|#Users";
  for (size_t k = 0; k < periods; k++) {
    size_t o = strlen(cols);
    snprintf(cols + o, sizeof cols - o, "|#%zu", k);
  }
  double top = 0; /* shading is relative to the largest share after period 0 */
  for (size_t i = first; i < n; i++) {
    const json_t *sh = dp_jget(json_array_get(rows, i), "share");
    for (size_t k = 1; k < periods; k++) {
      double s;
      if (dp_jnum(json_array_get(sh, k), &s) && s > top) top = s;
    }
  }
  dp_rw_table_begin(w, cols);
  for (size_t i = first; i < n; i++) {
    const json_t *r = json_array_get(rows, i), *sh = dp_jget(r, "share");
    dp_rw_row_begin(w, NULL);
    dp_rw_td(w, dp_jstr_at(r, "start"));
    dp_rw_td(w, count_at(r, "users", a));
    for (size_t k = 0; k < periods; k++) {
      double s;
      if (dp_jnum(json_array_get(sh, k), &s)) dp_rw_td_shade(w, dp_fmt_share(s, a, sizeof a), k && top > 0 ? s / top : 0);
      else dp_rw_td(w, "");
    }
    dp_rw_row_end(w);
  }
  dp_rw_table_end(w);
}

static void section_retention(rc *c) {
  dp_rw *w = c->w;
  const json_t *ret = dp_jpath(c->p, "time.retention");
  const json_t *day = dp_jget(ret, "day"), *week = dp_jget(ret, "week");
  B(a);
  char line[256];
  dp_rw_section(w, "retention", "Retention");
  int hd = arr_n(dp_jget(day, "n")) > 1, hw = arr_n(dp_jget(week, "n")) > 1;
  if (!hd && !hw) {
    dp_rw_p(w, ret ? "The data is too short for a retention curve." : "This profile has no retention section.");
  } else {
    dp_rw_p(w, "Share of users active N days (weeks) after their first day; day 0 is the first day and is 100% by "
               "definition. Each point counts only the users whose first day is at least N days (weeks) before "
               "the last day of data.");
    dp_rw_figures_begin(w);
    static const int dpts[] = {1, 7, 14, 30}, wpts[] = {1, 4, 12};
    for (int i = 0; i < 4; i++) {
      long ix = curve_index(day, dpts[i]);
      double s;
      if (ix < 0 || !dp_jnum(json_array_get(dp_jget(day, "share"), (size_t)ix), &s)) continue;
      snprintf(line, sizeof line, "Day %d", dpts[i]);
      dp_rw_figure(w, line, dp_fmt_share(s, a, sizeof a), NULL);
    }
    for (int i = 0; i < 3; i++) {
      long ix = curve_index(week, wpts[i]);
      double s;
      if (ix < 0 || !dp_jnum(json_array_get(dp_jget(week, "share"), (size_t)ix), &s)) continue;
      snprintf(line, sizeof line, "Week %d", wpts[i]);
      dp_rw_figure(w, line, dp_fmt_share(s, a, sizeof a), NULL);
    }
    dp_rw_figures_end(w);
    if (dp_rw_html(w)) {
      dp_html_grid_begin(dp_rw_html(w));
      if (hd) retention_chart(c, day, "Day-N retention", "day");
      if (hw) retention_chart(c, week, "Week-N retention", "week");
      dp_html_grid_end(dp_rw_html(w));
    } else {
      if (hd) {
        dp_rw_subsection(w, "Day N");
        retention_table(c, day, "Day");
      }
      if (hw) {
        dp_rw_subsection(w, "Week N");
        retention_table(c, week, "Week");
      }
    }
  }
  cohorts(c, dp_jget(ret, "cohorts"));
}

/* ---- activity ---- */

static const char *const weekdays[7] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};

static void heat_text(rc *c, const double *v) {
  char line[128];
  /* 2 characters per hour, a label every 3 hours */
  static const char *const shade[] = {"\xc2\xb7\xc2\xb7", "\xe2\x96\x91\xe2\x96\x91", "\xe2\x96\x92\xe2\x96\x92",
                                      "\xe2\x96\x93\xe2\x96\x93", "\xe2\x96\x88\xe2\x96\x88"};
  double max = 0;
  for (int i = 0; i < 168; i++) if (v[i] > max) max = v[i];
  dp_buf t;
  dp_buf_init(&t, 0);
  snprintf(line, sizeof line, "UTC  ");
  dp_buf_append(&t, line, strlen(line));
  for (int hr = 0; hr < 24; hr += 3) {
    snprintf(line, sizeof line, hr < 21 ? "%02d    " : "%02d", hr);
    dp_buf_append(&t, line, strlen(line));
  }
  dp_buf_putc(&t, '\n');
  for (int d = 0; d < 7; d++) {
    snprintf(line, sizeof line, "%s  ", weekdays[d]);
    dp_buf_append(&t, line, strlen(line));
    for (int hr = 0; hr < 24; hr++) {
      double x = v[d * 24 + hr];
      int lvl = !(x > 0) || max <= 0 ? 0 : x <= max * 0.25 ? 1 : x <= max * 0.5 ? 2 : x <= max * 0.75 ? 3 : 4;
      dp_buf_append(&t, shade[lvl], strlen(shade[lvl]));
    }
    dp_buf_putc(&t, '\n');
  }
  B(a);
  snprintf(line, sizeof line, "\n%s none  ", shade[0]);
  dp_buf_append(&t, line, strlen(line));
  snprintf(line, sizeof line, "%s up to 25%% of the peak  %s 50%%  %s 75%%  %s peak (%s of events)\n", shade[1],
           shade[2], shade[3], shade[4], dp_fmt_share(max, a, sizeof a));
  dp_buf_append(&t, line, strlen(line));
  if (dp_buf_terminate(&t) == DOPPEL_OK) dp_rw_pre(c->w, t.data);
  dp_buf_release(&t);
}

typedef struct day_ctx {
  int64_t start; /* days since 1970 */
  int step;      /* 1 = days, 7 = weeks */
} day_ctx;

static char *day_label(double x, void *ctx, char *buf, size_t size) {
  const day_ctx *d = ctx;
  return dp_date_format(d->start + (int64_t)llround(x) * d->step, buf, size);
}

static void over_time(rc *c, const json_t *tm) {
  dp_rw *w = c->w;
  B(a);
  B(b);
  char line[512];
  static const struct {
    const char *key, *what, *unit;
    int step;
  } series[] = {{"events_per_day", "Events per day", "day", 1},
                {"events_per_week", "Events per week", "week", 7},
                {"new_users_per_day", "New users per day", "day", 1},
                {"new_users_per_week", "New users per week", "week", 7}};
  int any = 0;
  for (size_t k = 0; k < 4; k++) {
    const json_t *s = dp_jget(tm, series[k].key), *counts = dp_jget(s, "counts");
    const char *start = dp_jstr_at(s, "start");
    size_t n = arr_n(counts);
    day_ctx dc = {0, series[k].step};
    if (!n || !start || dp_date_parse(start, &dc.start) != 0) continue;
    if (!any) dp_rw_subsection(w, "Over time");
    if (!any && dp_rw_html(w)) dp_html_grid_begin(dp_rw_html(w));
    any = 1;
    double *y = dp_nomem_malloc(n * sizeof *y), tot = 0, best = -1;
    size_t bi = 0;
    if (!y) continue;
    for (size_t i = 0; i < n; i++) {
      if (!dp_jnum(json_array_get(counts, i), &y[i])) y[i] = NAN;
      else {
        tot += y[i];
        if (y[i] > best) best = y[i], bi = i;
      }
    }
    char date[16];
    dp_date_format(dc.start + (int64_t)bi * dc.step, date, sizeof date);
    if (dp_rw_html(w)) {
      snprintf(line, sizeof line, "%s (UTC), from %s; busiest %s %s with %s", series[k].what, start, series[k].unit,
               date, dp_fmt_count(best, a, sizeof a));
      dp_html_series se = {series[k].what, NULL, y, n};
      dp_html_line_spec spec = {line, NULL, NULL, &se, 1, DP_HTML_AREA, day_label, &dc, 1, 0};
      dp_html_line_chart(dp_rw_html(w), &spec);
    } else {
      snprintf(line, sizeof line, "%s from %s: %s in total over %zu %ss; busiest %s %s (%s).", series[k].what, start,
               dp_fmt_count(tot, a, sizeof a), n, series[k].unit, series[k].unit, date, dp_fmt_count(best, b, sizeof b));
      dp_rw_p(w, line);
    }
    free(y);
  }
  if (any && dp_rw_html(w)) dp_html_grid_end(dp_rw_html(w));
}

static int read_168(const json_t *a, double *v) {
  if (arr_n(a) != 168) return 0;
  for (size_t i = 0; i < 168; i++)
    if (!dp_jnum(json_array_get(a, i), &v[i])) return 0;
  return 1;
}

static void section_activity(rc *c) {
  dp_rw *w = c->w;
  const json_t *tm = dp_jget(c->p, "time");
  B(a);
  B(b);
  B(d3);
  char line[512];
  dp_rw_section(w, "activity", "Activity");
  double v[168];
  if (read_168(dp_jget(tm, "hour_of_week"), v)) {
    double tot = 0, wk = 0, best = -1;
    int bi = 0;
    double day_tot[7] = {0};
    for (int i = 0; i < 168; i++) {
      tot += v[i];
      day_tot[i / 24] += v[i];
      if (i >= 120) wk += v[i];
      if (v[i] > best) best = v[i], bi = i;
    }
    int bd = 0;
    for (int d = 1; d < 7; d++) if (day_tot[d] > day_tot[bd]) bd = d;
    snprintf(line, sizeof line,
             "When events happen, by hour of the week (UTC, Monday first). The busiest hour is %s %02d:00"
             "\xe2\x80\x93%02d:00 with %s of events; the busiest day is %s (%s); Saturday and Sunday have %s.",
             weekdays[bi / 24], bi % 24, (bi % 24 + 1) % 24 == 0 ? 24 : bi % 24 + 1, dp_fmt_share(best, a, sizeof a),
             weekdays[bd], dp_fmt_share(tot > 0 ? day_tot[bd] / tot : 0, b, sizeof b),
             dp_fmt_share(tot > 0 ? wk / tot : 0, d3, sizeof d3));
    dp_rw_p(w, line);
    dp_html *h = dp_rw_html(w);
    if (h) {
      static const char *const cols[24] = {"00", NULL, NULL, "03", NULL, NULL, "06", NULL, NULL, "09", NULL, NULL,
                                           "12", NULL, NULL, "15", NULL, NULL, "18", NULL, NULL, "21", NULL, NULL};
      char tips[24][16];
      const char *tipp[24];
      for (int hr = 0; hr < 24; hr++) {
        snprintf(tips[hr], sizeof tips[hr], "%02d:00", hr);
        tipp[hr] = tips[hr];
      }
      dp_html_heatmap_spec spec = {"Events by hour of the week (UTC)", v, 7, 24, weekdays, cols, tipp,
                                   "Share of all events in the hour", DP_HTML_PERCENT};
      dp_html_heatmap(h, &spec);
    } else {
      heat_text(c, v);
    }
  } else {
    dp_rw_p(w, "This profile has no hour-of-week activity.");
  }
  over_time(c, tm);
}

/* ---- sessions ---- */

static void section_sessions(rc *c) {
  dp_rw *w = c->w;
  const json_t *se = dp_jget(c->p, "sessions");
  B(a);
  B(b);
  char line[512];
  dp_rw_section(w, "sessions", "Sessions");
  if (!se) {
    dp_rw_p(w, "This profile has no sessions section.");
    return;
  }
  double gap, cnt;
  int hg = dp_jnum_at(se, "gap_s", &gap), hc = dp_jnum_at(se, "count", &cnt);
  snprintf(line, sizeof line, "A session is a run of one user's events with no gap longer than %s%s%s%s.",
           hg ? dp_fmt_duration(gap, a, sizeof a) : "the session gap", hc ? "; there are " : "",
           hc ? dp_fmt_count(cnt, b, sizeof b) : "", hc ? (cnt == 1 ? " session" : " sessions") : "");
  dp_rw_p(w, line);
  static const struct {
    const char *key, *what;
    int dur;
  } rows[] = {{"events_per_session", "Events per session", 0},
              {"duration_s", "Duration (first to last event)", 1},
              {"inter_event_s", "Time between events", 1}};
  int any = 0;
  for (size_t i = 0; i < 3; i++) {
    const json_t *d = dp_jget(se, rows[i].key);
    if (!json_is_object(d)) continue;
    if (!any) dp_rw_table_begin(w, "Measure|#Mean|#p10|#Median|#p90");
    any = 1;
    dp_rw_row_begin(w, NULL);
    dp_rw_td(w, rows[i].what);
    dist_cells(c, d, rows[i].dur ? fmt_dur : fmt_plain);
    dp_rw_row_end(w);
  }
  if (any) dp_rw_table_end(w);
}

/* ---- transitions and paths ---- */

typedef struct trans {
  const char *from, *to;
  double share, count; /* count: share x next_n (an estimate), -1 when unknown */
} trans;

static int trans_cmp(const void *a, const void *b) {
  const trans *x = a, *y = b;
  double kx = x->count >= 0 ? x->count : x->share, ky = y->count >= 0 ? y->count : y->share;
  if (kx != ky) return kx > ky ? -1 : 1;
  int r = strcmp(x->from, y->from);
  return r ? r : strcmp(x->to, y->to);
}

static void section_paths(rc *c) {
  dp_rw *w = c->w;
  const json_t *ev = dp_jget(c->p, "events"), *list = dp_jget(ev, "list"), *paths = dp_jget(ev, "paths");
  B(a);
  B(b);
  dp_rw_section(w, "paths", "Transitions and paths");
  size_t nt = 0, cap = 0, i;
  const json_t *e;
  json_array_foreach(list, i, e) cap += json_object_size(dp_jget(e, "next"));
  trans *t = cap ? dp_nomem_malloc(cap * sizeof *t) : NULL;
  json_array_foreach(list, i, e) {
    const json_t *next = dp_jget(e, "next");
    const char *from = dp_jstr_at(e, "name");
    double nn;
    int hn = dp_jnum_at(e, "next_n", &nn);
    const char *key;
    json_t *v;
    if (!t || !from) continue;
    json_object_foreach((json_t *)next, key, v) {
      double s;
      if (!dp_jnum(v, &s) || !isfinite(s)) continue;
      t[nt].from = from;
      t[nt].to = key;
      t[nt].share = s;
      t[nt].count = hn ? s * nn : -1;
      nt++;
    }
  }
  dp_rw_subsection(w, "Top transitions");
  if (!nt) {
    dp_rw_p(w, "This profile lists no next-event transitions.");
  } else {
    qsort(t, nt, sizeof *t, trans_cmp);
    size_t show = nt < 25 ? nt : 25;
    dp_rw_p(w, "The most frequent steps from one event to the next within a session, by estimated occurrences "
               "(the share of the first event's occurrences times their number).");
    dp_rw_table_begin(w, "From|To|#Share of From|#Occurrences (est.)");
    for (size_t k = 0; k < show; k++) {
      dp_rw_row_begin(w, NULL);
      dp_rw_td_begin(w);
      put_step(c, t[k].from);
      dp_rw_td_end(w);
      dp_rw_td_begin(w);
      put_step(c, t[k].to);
      dp_rw_td_end(w);
      dp_rw_td(w, dp_fmt_share(t[k].share, a, sizeof a));
      dp_rw_td(w, t[k].count >= 0 ? dp_fmt_count(t[k].count, b, sizeof b) : NULL);
      dp_rw_row_end(w);
    }
    dp_rw_table_end(w);
    if (nt > show) {
      char line[128];
      snprintf(line, sizeof line, "%zu more transitions are in the event catalog and the profile.", nt - show);
      dp_rw_note(w, line);
    }
  }
  free(t);
  dp_rw_subsection(w, "Most common session openings");
  if (!arr_n(paths)) {
    dp_rw_p(w, "This profile lists no session paths.");
    return;
  }
  dp_rw_p(w, "The first three events of sessions (fewer when the session is shorter), each held by at least k users.");
  dp_rw_table_begin(w, "#Rank|Path|#Sessions|#Share of sessions");
  size_t show = arr_n(paths) < 20 ? arr_n(paths) : 20;
  for (size_t k = 0; k < show; k++) {
    const json_t *pa = json_array_get(paths, k);
    dp_rw_row_begin(w, NULL);
    dp_rw_td(w, dp_fmt_count((double)(k + 1), a, sizeof a));
    dp_rw_td_begin(w);
    size_t j;
    const json_t *s;
    json_array_foreach(dp_jget(pa, "steps"), j, s) {
      if (j) dp_rw_text(w, " " DP_ARROW " ");
      if (json_is_string(s)) put_step(c, json_string_value(s));
    }
    dp_rw_td_end(w);
    dp_rw_td(w, count_at(pa, "sessions", a));
    dp_rw_td(w, share_at(pa, "share", b));
    dp_rw_row_end(w);
  }
  dp_rw_table_end(w);
  if (arr_n(paths) > show) {
    char line[128];
    snprintf(line, sizeof line, "%zu more paths are in the profile.", arr_n(paths) - show);
    dp_rw_note(w, line);
  }
}

/* ---- entry point ---- */

static void count_things(rc *c) {
  doppel_report_summary *s = c->sum;
  const json_t *p = c->p;
  s->events = arr_n(dp_jpath(p, "events.list"));
  s->properties = arr_n(dp_jget(p, "properties")) + arr_n(dp_jget(p, "user_properties"));
  const json_t *fields = dp_jpath(p, "privacy.fields");
  s->fields = arr_n(fields);
  size_t i;
  const json_t *f;
  json_array_foreach(fields, i, f) {
    const char *b = class_badge(dp_jstr_at(f, "class"));
    int direct = !strcmp(b, "direct"), quasi = !strcmp(b, "quasi");
    if (direct) s->direct_identifiers++;
    const char *act = dp_jstr_at(dp_jget(f, "treatment"), "action");
    if ((direct || quasi) && (!act || !strcmp(act, "keep"))) s->untreated++;
  }
  json_array_foreach(dp_jget(p, "warnings"), i, f) {
    int r = severity_rank(dp_jstr_at(f, "severity"));
    if (r < 3) s->warnings[r]++;
  }
}

doppel_status dp_report_render(const json_t *profile, const doppel_report_options *opt, dp_buf *out,
                               doppel_report_summary *sum, doppel_diag *diag) {
  doppel_status st = doppel_report_check(profile, diag);
  if (st != DOPPEL_OK) return st;
  /* the sections are written without checking every piece: an allocation
   * that failed anywhere makes the report out of memory (core/nomem.h),
   * never a page with a table or a chart left out */
  unsigned long nomem0 = dp_nomem_count();
  doppel_report_summary local;
  if (!sum) sum = &local;
  memset(sum, 0, sizeof *sum);
  doppel_report_options o = {DOPPEL_REPORT_HTML, NULL, 0};
  if (opt) o = *opt;
  size_t max = o.max_bytes ? o.max_bytes : ((size_t)1 << 30);
  sum->format = o.format;
  dp_rw w;
  dp_rw_init(&w, o.format == DOPPEL_REPORT_MARKDOWN, max);
  rc c = {profile, &w, 0, 0, "", sum};
  if (dp_jnum_at(dp_jget(profile, "privacy"), "k", &c.k) || dp_jnum(dp_jpath(profile, "source.parameters.k"), &c.k))
    c.has_k = 1;
  if (c.has_k) {
    B(kb);
    snprintf(c.k_str, sizeof c.k_str, "k = %s", dp_fmt_count(c.k, kb, sizeof kb));
  } else {
    snprintf(c.k_str, sizeof c.k_str, "k");
  }
  count_things(&c);
  char title[300], sub[600];
  title_text(&c, title, sizeof title);
  size_t so = 0;
  sub[0] = '\0';
  if (o.profile_name) so += (size_t)snprintf(sub, sizeof sub, "profile %.300s " DP_MIDDOT " ", o.profile_name);
  const char *ver = dp_jstr_at(dp_jget(profile, "generator"), "version");
  if (so < sizeof sub)
    so += (size_t)snprintf(sub + so, sizeof sub - so, "doppel-profile/1%s%.40s", ver ? ", made by doppel " : "",
                           ver ? ver : "");
  if (c.has_k && so < sizeof sub) {
    B(kb);
    snprintf(sub + so, sizeof sub - so, " " DP_MIDDOT " k = %s", dp_fmt_count(c.k, kb, sizeof kb));
  }
  dp_rw_begin(&w, title, sub);
  section_overview(&c);
  section_privacy(&c);
  section_suppressed(&c);
  section_warnings(&c);
  section_events(&c);
  section_properties(&c);
  section_retention(&c);
  section_activity(&c);
  section_sessions(&c);
  section_paths(&c);
  char footer[256];
  snprintf(footer, sizeof footer,
           "Made by doppel %s from a doppel-profile/1 document. The report shows only the aggregates in the "
           "profile: no raw event, identifier or rare value.",
           doppel_version());
  st = dp_rw_end(&w, footer, out);
  dp_rw_release(&w);
  if (st == DOPPEL_OK && dp_nomem_count() != nomem0) st = DOPPEL_E_NOMEM;
  if (st == DOPPEL_E_LIMIT) return dp_diag_set(diag, st, NULL, 0, 0, "the report would be larger than %zu bytes", max);
  if (st != DOPPEL_OK) return dp_diag_set(diag, st, NULL, 0, 0, NULL);
  return DOPPEL_OK;
}
