/*
 * render.c — the two human-readable forms of a "doppel-compare/1" report:
 * the terminal scorecard (aligned table of dimensions, the largest
 * differences, the privacy section) and a self-contained HTML page built
 * with the page builder `doppel report` uses (report/html.h: inline CSS, a
 * Content-Security-Policy, no scripts, no external resources; every string
 * from the report is escaped). Both read only the report document, so any
 * report, also one loaded back from --json output, renders the same.
 */
#include "compare/compare_int.h"
#include "report/html.h"
#include "core/nomem.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- shared helpers ---- */

static const json_t *get(const json_t *o, const char *k) { return json_object_get(o, k); }

static const char *str(const json_t *o, const char *k, const char *dflt) {
  const char *s = json_string_value(get(o, k));
  return s ? s : dflt;
}

static double num(const json_t *o, const char *k) {
  const json_t *v = get(o, k);
  return json_is_number(v) ? json_number_value(v) : NAN;
}

static void fmt_fixed(char *buf, size_t size, double v) {
  if (isfinite(v)) snprintf(buf, size, "%.4f", v);
  else snprintf(buf, size, "-");
}

static void fmt_count(char *buf, size_t size, double v) {
  if (!isfinite(v)) {
    snprintf(buf, size, "?");
    return;
  }
  char tmp[32];
  int n = snprintf(tmp, sizeof tmp, "%.0f", v);
  size_t o = 0;
  for (int i = 0; i < n && o + 2 < size; i++) {
    if (i && tmp[0] != '-' && (n - i) % 3 == 0) buf[o++] = ',';
    buf[o++] = tmp[i];
  }
  buf[o] = '\0';
}

static void fmt_share(char *buf, size_t size, double v) {
  if (isfinite(v)) snprintf(buf, size, "%.2f%%", 100 * v);
  else snprintf(buf, size, "-");
}

typedef struct out {
  dp_buf b;    /* the text so far */
  int failed;  /* an allocation failed: the result is NULL */
} out;

__attribute__((format(printf, 2, 3))) static void outf(out *o, const char *fmt, ...) {
  char buf[1024];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  if ((size_t)n >= sizeof buf) n = (int)sizeof buf - 1;
  if (!o->failed && dp_buf_append(&o->b, buf, (size_t)n) != DOPPEL_OK) o->failed = 1;
}

static void input_line(char *buf, size_t size, const json_t *in) {
  char u[32], e[32], s[32];
  fmt_count(u, sizeof u, num(in, "users"));
  fmt_count(e, sizeof e, num(in, "events"));
  fmt_count(s, sizeof s, num(in, "sessions"));
  snprintf(buf, size, "%s (%s): %s users, %s events, %s sessions", str(in, "name", "<unnamed>"),
           str(in, "kind", "profile"), u, e, s);
}

/* One detail item as short text. */
static void item_text(char *buf, size_t size, const json_t *it) {
  const char *name = str(it, "item", NULL);
  double a = num(it, "a"), b = num(it, "b"), d = num(it, "distance"), w = num(it, "weight");
  if (!name) {
    snprintf(buf, size, "%s %s: %s %.4f", str(it, "event", "?"), str(it, "path", "?"), str(it, "metric", "diff"), d);
    if (isfinite(a) && isfinite(b)) {
      size_t l = strlen(buf);
      snprintf(buf + l, size - l, " (%.4g vs %.4g)", a, b);
    }
  } else if (isfinite(w)) {
    snprintf(buf, size, "%s %.4f (weight %.3f)", name, d, w);
  } else if (isfinite(a) && isfinite(b)) {
    snprintf(buf, size, "%s %.4g vs %.4g", name, a, b);
  } else {
    snprintf(buf, size, "%s %.4f", name, d);
  }
}

static const char *floor_method_text(const json_t *nf) {
  const char *m = str(nf, "method", "analytic");
  return !strcmp(m, "random_groups") ? "random groups" : "analytic";
}

/* How the noise floor was found, as one line of text. */
static void floor_line(char *buf, size_t size, const json_t *nf) {
  if (!strcmp(str(nf, "method", ""), "random_groups"))
    snprintf(buf, size,
             "random groups (%.0f disjoint groups of %s's users; the expected distance of two samples of these sizes)",
             num(nf, "groups"), str(nf, "groups_of", "a")[0] == 'b' ? "B" : "A");
  else
    snprintf(buf, size, "analytic (independent events assumed; clustered real data scores below it)");
}

/* ---- text ---- */

static void text_privacy(out *o, const json_t *pr) {
  if (!json_is_object(pr) || !json_is_true(get(pr, "checked"))) {
    outf(o, "\nprivacy: not checked (%s)\n", str(pr, "reason", "needs A and B as datasets"));
    return;
  }
  char k[16], x[32], y[32], s[32];
  snprintf(k, sizeof k, "%.0f", num(pr, "k"));
  outf(o, "\nprivacy (what of A's raw data is found in B; counts and field paths only, never values)\n");
  static const struct { const char *key, *pre, *post; } kinds[] = {
      {"identifiers", "identifier values of A (held by fewer than ", " users) found in B"},
      {"rare_values", "other values held by fewer than ", " users of A found in B"}};
  for (int i = 0; i < 2; i++) {
    const json_t *c = get(pr, kinds[i].key);
    char label[128];
    snprintf(label, sizeof label, "%s%s%s", kinds[i].pre, k, kinds[i].post);
    fmt_count(x, sizeof x, num(c, "found"));
    fmt_count(y, sizeof y, num(c, "a_values"));
    fmt_share(s, sizeof s, num(c, "share"));
    outf(o, "  %-66s %s of %s (%s)", label, x, y, s);
    const json_t *f = get(c, "fields");
    if (json_array_size(f)) {
      fmt_count(x, sizeof x, num(c, "b_occurrences"));
      outf(o, "; %s occurrences in", x);
      for (size_t j = 0; j < json_array_size(f) && j < 5; j++) {
        fmt_count(y, sizeof y, num(json_array_get(f, j), "occurrences"));
        outf(o, "%s %s (%s)", j ? "," : "", str(json_array_get(f, j), "path", "?"), y);
      }
      if (json_array_size(f) > 5) outf(o, ", ...");
    }
    outf(o, "\n");
  }
  const json_t *sq = get(pr, "sequences");
  char min[16], e[32], r[32], all[32], ch[32];
  snprintf(min, sizeof min, "%.0f", num(sq, "min_events"));
  fmt_count(x, sizeof x, num(sq, "copied"));
  fmt_count(y, sizeof y, num(sq, "b_users"));
  fmt_count(e, sizeof e, num(sq, "b_eligible"));
  fmt_count(r, sizeof r, num(sq, "copied_rare"));
  fmt_share(s, sizeof s, num(sq, "share"));
  fmt_share(all, sizeof all, num(sq, "share_of_all"));
  fmt_share(ch, sizeof ch, num(sq, "a_shared_share"));
  char label[128];
  snprintf(label, sizeof label, "B users whose whole event sequence (>= %s events) equals an A user's", min);
  outf(o, "  %-66s %s of %s (%s; %s of all %s B users); %s match a sequence of fewer than %s A users; "
          "chance level: %s of A's own users share theirs with another A user\n",
       label, x, e, s, all, y, r, k, ch);
}

char *doppel_compare_format_text(const json_t *rep) {
  out o;
  dp_buf_init(&o.b, 0);
  o.failed = 0;
  char a[512], b[512];
  input_line(a, sizeof a, json_object_get(get(rep, "inputs"), "a"));
  input_line(b, sizeof b, json_object_get(get(rep, "inputs"), "b"));
  const json_t *nf = get(rep, "noise_floor");
  outf(&o, "doppel compare: fidelity of B against A\n  A: %s\n  B: %s\n", a, b);
  char fl_line[256];
  floor_line(fl_line, sizeof fl_line, nf);
  outf(&o, "  noise floor: %s\n", fl_line);
  outf(&o, "\n  %-27s %-13s %9s %9s  %-4s %8s %8s\n", "dimension", "metric", "distance", "tolerance", "pass", "score",
       "floor");
  const json_t *dims = get(rep, "dimensions");
  for (size_t i = 0; i < json_array_size(dims); i++) {
    const json_t *d = json_array_get(dims, i);
    char dist[16], tol[16], sc[16], fl[16];
    fmt_fixed(tol, sizeof tol, num(d, "tolerance"));
    if (!json_is_true(get(d, "available"))) {
      outf(&o, "  %-27s %-13s %9s %9s  %-4s (%s)\n", str(d, "title", "?"), str(d, "metric", ""), "-", tol, "n/a",
           str(d, "reason", "not available"));
      continue;
    }
    fmt_fixed(dist, sizeof dist, num(d, "distance"));
    fmt_fixed(sc, sizeof sc, num(d, "score"));
    fmt_fixed(fl, sizeof fl, num(d, "floor_score"));
    outf(&o, "  %-27s %-13s %9s %9s  %-4s %8s %8s\n", str(d, "title", "?"), str(d, "metric", ""), dist, tol,
         json_is_true(get(d, "pass")) ? "yes" : "NO", sc, fl);
  }
  const json_t *ov = get(rep, "overall");
  char sc[16], fl[16], pass[32];
  fmt_fixed(sc, sizeof sc, num(ov, "score"));
  fmt_fixed(fl, sizeof fl, num(ov, "floor_score"));
  snprintf(pass, sizeof pass, "%.0f/%.0f", num(ov, "passed"), num(ov, "dimensions"));
  outf(&o, "  %-27s %-13s %9s %9s  %-4s %8s %8s\n", "overall", "mean score", "", "", pass, sc, fl);

  int header = 0;
  for (size_t i = 0; i < json_array_size(dims); i++) {
    const json_t *d = json_array_get(dims, i);
    const json_t *det = get(d, "detail");
    if (!json_is_true(get(d, "available")) || !json_array_size(det)) continue;
    if (!header) outf(&o, "\nlargest differences (A vs B)\n");
    header = 1;
    outf(&o, "  %s:", str(d, "title", "?"));
    for (size_t j = 0; j < json_array_size(det) && j < 3; j++) {
      char it[320];
      item_text(it, sizeof it, json_array_get(det, j));
      outf(&o, "%s %s", j ? ";" : "", it);
    }
    if (get(d, "compared")) {
      char c[32], x[32], y[32];
      fmt_count(c, sizeof c, num(d, "compared"));
      fmt_count(x, sizeof x, num(d, "only_in_a"));
      fmt_count(y, sizeof y, num(d, "only_in_b"));
      if (get(d, "only_in_a")) outf(&o, " [%s compared, %s only in A, %s only in B]", c, x, y);
      else outf(&o, " [%s compared]", c);
    }
    outf(&o, "\n");
  }
  text_privacy(&o, get(rep, "privacy"));
  if (o.failed || dp_buf_terminate(&o.b) != DOPPEL_OK) {
    dp_buf_release(&o.b);
    return NULL;
  }
  return o.b.data;
}

/* ---- HTML, through the shared page builder (report/html.h) ---- */

/* A fixed-point number, or NULL (an em dash in a cell) when not finite. */
static const char *fixed_or_null(char *buf, size_t size, double v) {
  if (!isfinite(v)) return NULL;
  snprintf(buf, size, "%.4f", v);
  return buf;
}

static void html_overview(dp_html *h, const json_t *rep) {
  const json_t *ov = get(rep, "overall");
  char sc[16], fl[16], within[64], note[64], line[600];
  dp_html_section(h, "overview", "Overview");
  dp_html_figures_begin(h);
  snprintf(note, sizeof note, "mean of %.0f dimensions", num(ov, "dimensions"));
  dp_html_figure(h, "Overall score", fixed_or_null(sc, sizeof sc, num(ov, "score")), note);
  dp_html_figure(h, "Noise floor", fixed_or_null(fl, sizeof fl, num(ov, "floor_score")),
                 "the score of two samples of these sizes");
  snprintf(within, sizeof within, "%.0f of %.0f", num(ov, "passed"), num(ov, "dimensions"));
  dp_html_figure(h, "Within tolerance", within, "dimensions");
  dp_html_figures_end(h);
  int pass = json_is_true(get(ov, "pass"));
  dp_html_raw(h, "<p>");
  dp_html_badge(h, pass ? "pass" : "fail", pass ? "ok" : "error");
  dp_html_textf(h, " %.0f of %.0f compared dimensions within tolerance", num(ov, "passed"), num(ov, "dimensions"));
  double na = num(ov, "not_available");
  if (isfinite(na) && na > 0) dp_html_textf(h, "; %.0f not available", na);
  dp_html_raw(h, ".</p>\n");
  dp_html_dl_begin(h);
  input_line(line, sizeof line, json_object_get(get(rep, "inputs"), "a"));
  dp_html_kv(h, "A (the reference)", line);
  input_line(line, sizeof line, json_object_get(get(rep, "inputs"), "b"));
  dp_html_kv(h, "B (compared with A)", line);
  floor_line(line, sizeof line, get(rep, "noise_floor"));
  dp_html_kv(h, "Noise floor", line);
  dp_html_dl_end(h);
}

static void html_dimensions(dp_html *h, const json_t *rep) {
  const json_t *dims = get(rep, "dimensions");
  char dist[16], tol[16], sc[16], fl[16], tip[160];
  dp_html_section(h, "dimensions", "Dimensions");
  dp_html_table_begin(h, "Dimension|Metric|#Distance|#Tolerance|Distance against tolerance|Pass|#Score|#Floor");
  for (size_t i = 0; i < json_array_size(dims); i++) {
    const json_t *d = json_array_get(dims, i);
    int avail = json_is_true(get(d, "available"));
    dp_html_row_begin(h, avail ? NULL : "muted");
    dp_html_td(h, str(d, "title", "?"));
    dp_html_td(h, str(d, "metric", ""));
    if (!avail) {
      dp_html_td(h, NULL);
      dp_html_td(h, fixed_or_null(tol, sizeof tol, num(d, "tolerance")));
      dp_html_td(h, str(d, "reason", "not available"));
      dp_html_td_begin(h);
      dp_html_badge(h, "n/a", "muted");
      dp_html_td_end(h);
      dp_html_row_end(h); /* no score, no floor: em dashes */
      continue;
    }
    double dv = num(d, "distance"), tv = num(d, "tolerance"), fv = num(d, "floor_distance");
    int pass = json_is_true(get(d, "pass"));
    dp_html_td(h, fixed_or_null(dist, sizeof dist, dv));
    dp_html_td(h, fixed_or_null(tol, sizeof tol, tv));
    fmt_fixed(dist, sizeof dist, dv);
    fmt_fixed(tol, sizeof tol, tv);
    fmt_fixed(fl, sizeof fl, fv);
    snprintf(tip, sizeof tip, "distance %s, tolerance %s, noise floor %s", dist, tol, fl);
    dp_html_gauge_spec g = {dv, isfinite(tv) && tv > 0 ? 2 * tv : 1, tv, fv, pass ? "ok" : "error", tip};
    dp_html_td_begin(h);
    dp_html_gauge(h, &g);
    dp_html_td_end(h);
    dp_html_td_begin(h);
    dp_html_badge(h, pass ? "yes" : "no", pass ? "ok" : "error");
    dp_html_td_end(h);
    dp_html_td(h, fixed_or_null(sc, sizeof sc, num(d, "score")));
    dp_html_td(h, fixed_or_null(fl, sizeof fl, num(d, "floor_score")));
    dp_html_row_end(h);
  }
  const json_t *ov = get(rep, "overall");
  int pass = json_is_true(get(ov, "pass"));
  char within[64];
  snprintf(within, sizeof within, "%.0f/%.0f", num(ov, "passed"), num(ov, "dimensions"));
  dp_html_row_begin(h, NULL);
  dp_html_td_begin(h);
  dp_html_strong(h, "overall");
  dp_html_td_end(h);
  dp_html_td(h, "mean score");
  dp_html_td(h, "");
  dp_html_td(h, "");
  dp_html_td(h, "");
  dp_html_td_begin(h);
  dp_html_badge(h, within, pass ? "ok" : "error");
  dp_html_td_end(h);
  dp_html_td_begin(h);
  dp_html_strong(h, fixed_or_null(sc, sizeof sc, num(ov, "score")));
  dp_html_td_end(h);
  dp_html_td(h, fixed_or_null(fl, sizeof fl, num(ov, "floor_score")));
  dp_html_table_end(h);
  char note[400];
  snprintf(note, sizeof note,
           "Each dimension's score is 1 - distance; it passes when the distance is at most its tolerance. Bars: the "
           "distance on a scale of twice the tolerance (solid line: the tolerance; dashed line: the noise floor, the "
           "expected distance of two samples of these sizes, %s). Floor: the score of such two samples.",
           floor_method_text(get(rep, "noise_floor")));
  dp_html_note(h, note);
}

static void html_differences(dp_html *h, const json_t *rep) {
  const json_t *dims = get(rep, "dimensions");
  dp_html_section(h, "differences", "Largest differences (A vs B)");
  int any = 0;
  for (size_t i = 0; i < json_array_size(dims); i++) {
    const json_t *d = json_array_get(dims, i);
    const json_t *det = get(d, "detail");
    if (!json_is_true(get(d, "available")) || !json_array_size(det)) continue;
    if (!any) dp_html_table_begin(h, "Dimension|Largest differences (A vs B)|Compared");
    any = 1;
    dp_html_row_begin(h, NULL);
    dp_html_td(h, str(d, "title", "?"));
    dp_html_td_begin(h);
    for (size_t j = 0; j < json_array_size(det); j++) {
      char it[320];
      item_text(it, sizeof it, json_array_get(det, j));
      if (j) dp_html_text(h, "; ");
      dp_html_text(h, it);
    }
    dp_html_td_end(h);
    if (get(d, "compared")) {
      char c[32], x[32], y[32];
      fmt_count(c, sizeof c, num(d, "compared"));
      fmt_count(x, sizeof x, num(d, "only_in_a"));
      fmt_count(y, sizeof y, num(d, "only_in_b"));
      dp_html_td_begin(h);
      if (get(d, "only_in_a")) dp_html_textf(h, "%s compared, %s only in A, %s only in B", c, x, y);
      else dp_html_textf(h, "%s compared", c);
      dp_html_td_end(h);
    } else {
      dp_html_td(h, NULL);
    }
    dp_html_row_end(h);
  }
  if (any) dp_html_table_end(h);
  else dp_html_p(h, "This report lists no differences (no dimension has details).");
}

static void html_privacy(dp_html *h, const json_t *pr) {
  dp_html_section(h, "privacy", "Privacy");
  if (!json_is_object(pr) || !json_is_true(get(pr, "checked"))) {
    dp_html_raw(h, "<p>");
    dp_html_badge(h, "not checked", "muted");
    dp_html_text(h, " ");
    dp_html_text(h, str(pr, "reason", "needs A and B as datasets"));
    dp_html_raw(h, ".</p>\n");
    return;
  }
  char k[32], x[32], y[32], s[32], label[160];
  snprintf(k, sizeof k, "%.0f", num(pr, "k"));
  dp_html_note(h, "What of A's raw data is found in B: counts and field paths only, never values.");
  dp_html_table_begin(h, "Check|#Found|#Of|#Share|Details");
  static const struct { const char *key, *pre, *post; } kinds[] = {
      {"identifiers", "Identifier values of A (held by fewer than ", " users) found in B"},
      {"rare_values", "Other values held by fewer than ", " users of A found in B"}};
  for (int i = 0; i < 2; i++) {
    const json_t *c = get(pr, kinds[i].key);
    double found = num(c, "found");
    snprintf(label, sizeof label, "%s%s%s", kinds[i].pre, k, kinds[i].post);
    fmt_count(x, sizeof x, found);
    fmt_count(y, sizeof y, num(c, "a_values"));
    fmt_share(s, sizeof s, num(c, "share"));
    dp_html_row_begin(h, found > 0 ? "warning" : NULL);
    dp_html_td(h, label);
    dp_html_td(h, x);
    dp_html_td(h, y);
    dp_html_td(h, s);
    const json_t *f = get(c, "fields");
    if (!json_array_size(f)) {
      dp_html_td(h, NULL);
    } else {
      dp_html_td_begin(h);
      fmt_count(x, sizeof x, num(c, "b_occurrences"));
      dp_html_textf(h, "%s occurrences in ", x);
      for (size_t j = 0; j < json_array_size(f); j++) {
        fmt_count(y, sizeof y, num(json_array_get(f, j), "occurrences"));
        if (j) dp_html_text(h, ", ");
        dp_html_code(h, str(json_array_get(f, j), "path", "?"));
        dp_html_textf(h, " (%s)", y);
      }
      dp_html_td_end(h);
    }
    dp_html_row_end(h);
  }
  const json_t *sq = get(pr, "sequences");
  char e[32], r[32], all[32], ch[32];
  double copied = num(sq, "copied");
  fmt_count(x, sizeof x, copied);
  fmt_count(y, sizeof y, num(sq, "b_users"));
  fmt_count(e, sizeof e, num(sq, "b_eligible"));
  fmt_count(r, sizeof r, num(sq, "copied_rare"));
  fmt_share(s, sizeof s, num(sq, "share"));
  fmt_share(all, sizeof all, num(sq, "share_of_all"));
  fmt_share(ch, sizeof ch, num(sq, "a_shared_share"));
  snprintf(label, sizeof label, "B users whose whole event sequence (at least %.0f events) equals an A user's",
           num(sq, "min_events"));
  dp_html_row_begin(h, copied > 0 ? "warning" : NULL);
  dp_html_td(h, label);
  dp_html_td(h, x);
  dp_html_td(h, e);
  dp_html_td(h, s);
  dp_html_td_begin(h);
  dp_html_textf(h, "%s of all %s B users; %s match a sequence of fewer than %s A users", all, y, r, k);
  dp_html_td_end(h);
  dp_html_table_end(h);
  char note[200];
  snprintf(note, sizeof note, "Chance level: %s of A's own users share their sequence with another A user.", ch);
  dp_html_note(h, note);
}

char *doppel_compare_format_html(const json_t *rep) {
  unsigned long nomem0 = dp_nomem_count(); /* pieces are written unchecked (core/nomem.h) */
  dp_html h;
  dp_html_init(&h, 0); /* no bound: the page grows with the report, which the caller holds already */
  char sub[700];
  const json_t *in = get(rep, "inputs");
  snprintf(sub, sizeof sub, "A = %.300s " DP_MIDDOT " B = %.300s", str(get(in, "a"), "name", "<unnamed>"),
           str(get(in, "b"), "name", "<unnamed>"));
  dp_html_begin(&h, "Fidelity of B against A", sub);
  dp_html_kicker(&h, "doppel compare");
  html_overview(&h, rep);
  html_dimensions(&h, rep);
  html_differences(&h, rep);
  html_privacy(&h, get(rep, "privacy"));
  char footer[300];
  const json_t *gen = get(rep, "generator");
  snprintf(footer, sizeof footer, "Made by %.60s %.60s from a %.60s report.", str(gen, "tool", "doppel"),
           str(gen, "version", ""), str(rep, "format", "doppel-compare/1"));
  dp_buf page;
  dp_buf_init(&page, 0);
  doppel_status st = dp_html_end(&h, footer, &page);
  if (st == DOPPEL_OK) st = dp_buf_terminate(&page);
  if (st == DOPPEL_OK && dp_nomem_count() != nomem0) st = DOPPEL_E_NOMEM;
  dp_html_release(&h);
  if (st != DOPPEL_OK) {
    dp_buf_release(&page);
    return NULL;
  }
  return page.data; /* malloc'd by the buffer; never NULL after a terminate */
}
