/*
 * render.c — the two human-readable forms of a "doppel-compare/1" report:
 * the terminal scorecard (aligned table of dimensions, the largest
 * differences, the privacy section) and a self-contained HTML page (inline
 * CSS, no scripts, no external resources; every string from the report is
 * escaped). Both read only the report document, so any report, also one
 * loaded back from --json output, renders the same.
 */
#include "compare/compare_int.h"

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
  if (!strcmp(str(nf, "method", ""), "random_groups"))
    outf(&o, "  noise floor: random groups (%.0f disjoint groups of %s's users; the expected distance of two samples of these sizes)\n",
         num(nf, "groups"), str(nf, "groups_of", "a")[0] == 'b' ? "B" : "A");
  else
    outf(&o, "  noise floor: analytic (independent events assumed; clustered real data scores below it)\n");
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

/* ---- HTML ---- */

static const char css[] =
    "body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;color:#1d2329;margin:2em auto;"
    "max-width:1100px;padding:0 1.2em}"
    "h1{font-size:1.6em;margin:.2em 0}h2{font-size:1.2em;margin-top:1.8em;border-bottom:1px solid #dde2e6}"
    ".inputs{color:#4a5560}.overall{font-size:1.1em;margin:1em 0;padding:.8em 1em;background:#f3f6f8;"
    "border-radius:6px}.big{font-size:1.8em;font-weight:600;margin-right:.4em}"
    "table{border-collapse:collapse;width:100%}th,td{padding:.35em .6em;text-align:left;"
    "border-bottom:1px solid #eef1f3}th{font-weight:600;color:#4a5560;font-size:.9em}"
    "td.n{text-align:right;font-variant-numeric:tabular-nums}"
    ".pass{color:#1b7a3d;font-weight:600}.fail{color:#b3261e;font-weight:600}.na{color:#8a949c}"
    ".bar{position:relative;width:180px;height:12px;background:#eef1f3;border-radius:3px}"
    ".bar .d{position:absolute;left:0;top:0;bottom:0;border-radius:3px}"
    ".bar .ok{background:#5fb37c}.bar .bad{background:#e07a6f}"
    ".bar .tol{position:absolute;left:50%;top:-3px;bottom:-3px;border-left:2px solid #1d2329}"
    ".bar .fl{position:absolute;top:-3px;bottom:-3px;border-left:2px dashed #4a78c2}"
    "ul{margin:.3em 0 .8em}li{margin:.15em 0}.note{color:#4a5560;font-size:.9em}"
    "footer{margin-top:2.5em;color:#8a949c;font-size:.85em}";

static void html_bar(dp_chtml *h, double d, double tol, double fl) {
  double scale = tol > 0 ? 2 * tol : 1;
  double w = d / scale;
  w = w < 0 ? 0 : w > 1 ? 1 : w;
  dp_chtml_printf(h, "<div class=\"bar\"><div class=\"d %s\" style=\"width:%.1f%%\"></div><div class=\"tol\"></div>",
                 d <= tol + 1e-12 ? "ok" : "bad", 100 * w);
  if (isfinite(fl)) {
    double f = fl / scale;
    f = f < 0 ? 0 : f > 1 ? 1 : f;
    dp_chtml_printf(h, "<div class=\"fl\" style=\"left:%.1f%%\"></div>", 100 * f);
  }
  dp_chtml_raw(h, "</div>");
}

static void html_privacy(dp_chtml *h, const json_t *pr) {
  dp_chtml_raw(h, "<h2>Privacy</h2>");
  if (!json_is_object(pr) || !json_is_true(get(pr, "checked"))) {
    dp_chtml_raw(h, "<p class=\"na\">Not checked: ");
    dp_chtml_text(h, str(pr, "reason", "needs A and B as datasets"));
    dp_chtml_raw(h, ".</p>");
    return;
  }
  dp_chtml_raw(h, "<p class=\"note\">What of A's raw data is found in B: counts and field paths only, never values.</p><ul>");
  static const struct { const char *key, *label; } kinds[] = {
      {"identifiers", "Identifier values of A (held by fewer than k users) found in B"},
      {"rare_values", "Other values held by fewer than k users of A found in B"}};
  for (int i = 0; i < 2; i++) {
    const json_t *c = get(pr, kinds[i].key);
    char x[32], y[32], s[32];
    fmt_count(x, sizeof x, num(c, "found"));
    fmt_count(y, sizeof y, num(c, "a_values"));
    fmt_share(s, sizeof s, num(c, "share"));
    dp_chtml_raw(h, "<li>");
    dp_chtml_text(h, kinds[i].label);
    dp_chtml_printf(h, " (k = %.0f): <b>%s</b> of %s (%s)", num(pr, "k"), x, y, s);
    const json_t *f = get(c, "fields");
    for (size_t j = 0; j < json_array_size(f); j++) {
      fmt_count(x, sizeof x, num(json_array_get(f, j), "occurrences"));
      dp_chtml_raw(h, j ? ", " : "; in ");
      dp_chtml_elem(h, "code", NULL, str(json_array_get(f, j), "path", "?"));
      dp_chtml_printf(h, " (%s)", x);
    }
    dp_chtml_raw(h, "</li>");
  }
  const json_t *sq = get(pr, "sequences");
  char x[32], y[32], e[32], r[32], s[32], all[32], ch[32];
  fmt_count(x, sizeof x, num(sq, "copied"));
  fmt_count(y, sizeof y, num(sq, "b_users"));
  fmt_count(e, sizeof e, num(sq, "b_eligible"));
  fmt_count(r, sizeof r, num(sq, "copied_rare"));
  fmt_share(s, sizeof s, num(sq, "share"));
  fmt_share(all, sizeof all, num(sq, "share_of_all"));
  fmt_share(ch, sizeof ch, num(sq, "a_shared_share"));
  dp_chtml_printf(h,
                 "<li>B users whose whole event sequence (at least %.0f events) equals an A user's: <b>%s</b> of %s "
                 "(%s; %s of all %s B users); %s match a sequence of fewer than k A users. Chance level: %s of "
                 "A's own users share theirs with another A user.</li></ul>",
                 num(sq, "min_events"), x, e, s, all, y, r, ch);
}

char *doppel_compare_format_html(const json_t *rep) {
  dp_chtml h;
  dp_chtml_init(&h);
  dp_chtml_raw(&h, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                  "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
                  "<title>doppel compare</title><style>");
  dp_chtml_raw(&h, css);
  dp_chtml_raw(&h, "</style></head><body><h1>doppel compare</h1>");
  char a[512], b[512];
  input_line(a, sizeof a, json_object_get(get(rep, "inputs"), "a"));
  input_line(b, sizeof b, json_object_get(get(rep, "inputs"), "b"));
  dp_chtml_raw(&h, "<p class=\"inputs\"><b>A</b> ");
  dp_chtml_text(&h, a);
  dp_chtml_raw(&h, "<br><b>B</b> ");
  dp_chtml_text(&h, b);
  dp_chtml_raw(&h, "</p>");
  const json_t *ov = get(rep, "overall");
  char sc[16], fl[16];
  fmt_fixed(sc, sizeof sc, num(ov, "score"));
  fmt_fixed(fl, sizeof fl, num(ov, "floor_score"));
  dp_chtml_printf(&h,
                 "<div class=\"overall\"><span class=\"big\">%s</span>overall score (mean of %.0f dimensions; "
                 "noise floor %s) &middot; <span class=\"%s\">%.0f of %.0f dimensions within tolerance</span></div>",
                 sc, num(ov, "dimensions"), fl, json_is_true(get(ov, "pass")) ? "pass" : "fail", num(ov, "passed"),
                 num(ov, "dimensions"));
  dp_chtml_raw(&h, "<table><tr><th>dimension</th><th>metric</th><th>distance</th><th>tolerance</th><th></th>"
                  "<th>pass</th><th>score</th><th>floor</th></tr>");
  const json_t *dims = get(rep, "dimensions");
  for (size_t i = 0; i < json_array_size(dims); i++) {
    const json_t *d = json_array_get(dims, i);
    char dist[16], tol[16], s2[16], f2[16];
    fmt_fixed(tol, sizeof tol, num(d, "tolerance"));
    dp_chtml_raw(&h, "<tr>");
    dp_chtml_elem(&h, "td", NULL, str(d, "title", "?"));
    dp_chtml_elem(&h, "td", NULL, str(d, "metric", ""));
    if (!json_is_true(get(d, "available"))) {
      dp_chtml_printf(&h, "<td class=\"n\">-</td><td class=\"n\">%s</td><td colspan=\"4\" class=\"na\">", tol);
      dp_chtml_text(&h, str(d, "reason", "not available"));
      dp_chtml_raw(&h, "</td></tr>");
      continue;
    }
    fmt_fixed(dist, sizeof dist, num(d, "distance"));
    fmt_fixed(s2, sizeof s2, num(d, "score"));
    fmt_fixed(f2, sizeof f2, num(d, "floor_score"));
    int pass = json_is_true(get(d, "pass"));
    dp_chtml_printf(&h, "<td class=\"n\">%s</td><td class=\"n\">%s</td><td>", dist, tol);
    html_bar(&h, num(d, "distance"), num(d, "tolerance"), num(d, "floor_distance"));
    dp_chtml_printf(&h, "</td><td class=\"%s\">%s</td><td class=\"n\">%s</td><td class=\"n\">%s</td></tr>",
                   pass ? "pass" : "fail", pass ? "yes" : "no", s2, f2);
  }
  dp_chtml_raw(&h, "</table><p class=\"note\">Bars: distance on a scale of twice the tolerance (black line: the "
                  "tolerance; dashed blue: the noise floor, the expected distance of two samples of these sizes, ");
  dp_chtml_text(&h, floor_method_text(get(rep, "noise_floor")));
  dp_chtml_raw(&h, ").</p><h2>Largest differences (A vs B)</h2><table>");
  for (size_t i = 0; i < json_array_size(dims); i++) {
    const json_t *d = json_array_get(dims, i);
    const json_t *det = get(d, "detail");
    if (!json_is_true(get(d, "available")) || !json_array_size(det)) continue;
    dp_chtml_raw(&h, "<tr>");
    dp_chtml_elem(&h, "td", NULL, str(d, "title", "?"));
    dp_chtml_raw(&h, "<td>");
    for (size_t j = 0; j < json_array_size(det); j++) {
      char it[320];
      item_text(it, sizeof it, json_array_get(det, j));
      if (j) dp_chtml_raw(&h, "; ");
      dp_chtml_text(&h, it);
    }
    dp_chtml_raw(&h, "</td></tr>");
  }
  dp_chtml_raw(&h, "</table>");
  html_privacy(&h, get(rep, "privacy"));
  dp_chtml_raw(&h, "<footer>");
  dp_chtml_text(&h, str(get(rep, "generator"), "tool", "doppel"));
  dp_chtml_raw(&h, " ");
  dp_chtml_text(&h, str(get(rep, "generator"), "version", ""));
  dp_chtml_raw(&h, " &middot; ");
  dp_chtml_text(&h, str(rep, "format", ""));
  dp_chtml_raw(&h, "</footer></body></html>\n");
  return dp_chtml_finish(&h);
}
