/*
 * html.c — the self-contained HTML page builder (see report/html.h): the
 * escaper, the page skeleton with its inline style sheet and table of
 * contents, block and inline elements, tables, and the inline SVG charts
 * (horizontal bars, lines, heat maps) with their nice-number axes and
 * colour scales. No scripts, no external resources, no locale.
 */
#include "report/html.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* ---- output helpers ---- */

static doppel_status fail(dp_html *h, doppel_status st) {
  if (h->status == DOPPEL_OK) h->status = st;
  return h->status;
}

static doppel_status put(dp_html *h, const char *s) {
  if (h->status != DOPPEL_OK) return h->status;
  doppel_status st = dp_buf_append(&h->body, s, strlen(s));
  return st == DOPPEL_OK ? DOPPEL_OK : fail(h, st);
}

DP_HTML_PRINTF(2, 0)
static doppel_status vputf(dp_buf *b, const char *fmt, va_list ap) {
  char small[512];
  va_list ap2;
  va_copy(ap2, ap);
  int n = vsnprintf(small, sizeof small, fmt, ap);
  doppel_status st;
  if (n < 0) {
    st = DOPPEL_E_INTERNAL;
  } else if ((size_t)n < sizeof small) {
    st = dp_buf_append(b, small, (size_t)n);
  } else {
    st = dp_buf_reserve(b, (size_t)n + 1);
    if (st == DOPPEL_OK) {
      vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap2);
      b->len += (size_t)n;
    }
  }
  va_end(ap2);
  return st;
}

DP_HTML_PRINTF(2, 3)
static doppel_status putf(dp_html *h, const char *fmt, ...) {
  if (h->status != DOPPEL_OK) return h->status;
  va_list ap;
  va_start(ap, fmt);
  doppel_status st = vputf(&h->body, fmt, ap);
  va_end(ap);
  return st == DOPPEL_OK ? DOPPEL_OK : fail(h, st);
}

doppel_status dp_html_escape(dp_buf *out, const char *s, size_t n) {
  size_t i = 0, run = 0; /* run: start of bytes copied verbatim */
  doppel_status st = DOPPEL_OK;
  while (i < n && st == DOPPEL_OK) {
    unsigned char c = (unsigned char)s[i];
    const char *ent = NULL;
    if (c == '&') ent = "&amp;";
    else if (c == '<') ent = "&lt;";
    else if (c == '>') ent = "&gt;";
    else if (c == '"') ent = "&quot;";
    else if (c == '\'') ent = "&#39;";
    if (ent) {
      if ((st = dp_buf_append(out, s + run, i - run)) == DOPPEL_OK) st = dp_buf_append(out, ent, strlen(ent));
      run = ++i;
      continue;
    }
    if (c >= 0x20 && c < 0x7F) {
      i++;
      continue;
    }
    uint32_t cp;
    size_t len = dp_utf8_next(s + i, n - i, &cp);
    uint32_t shown = dp_display_cp(cp);
    int invalid = cp == 0xFFFD && len == 1; /* a valid U+FFFD is 3 bytes long */
    if (!invalid && shown == cp) {
      i += len;
      continue;
    }
    char enc[4];
    size_t el = dp_utf8_put(shown, enc);
    if ((st = dp_buf_append(out, s + run, i - run)) == DOPPEL_OK) st = dp_buf_append(out, enc, el);
    i += len;
    run = i;
  }
  if (st == DOPPEL_OK) st = dp_buf_append(out, s + run, n - run);
  return st;
}

static doppel_status esc(dp_html *h, const char *s) {
  if (h->status != DOPPEL_OK) return h->status;
  if (!s) s = DP_DASH;
  doppel_status st = dp_html_escape(&h->body, s, strlen(s));
  return st == DOPPEL_OK ? DOPPEL_OK : fail(h, st);
}

/* An id reduced to [a-z0-9_-] (upper case folded), "x" when empty. */
static void clean_id(const char *id, char *out, size_t size) {
  size_t o = 0;
  for (; id && *id && o + 1 < size; id++) {
    char c = *id;
    if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_') out[o++] = c;
  }
  if (o == 0 && size > 1) out[o++] = 'x';
  out[o] = '\0';
}

/* ---- page ---- */

void dp_html_init(dp_html *h, size_t max_bytes) {
  memset(h, 0, sizeof *h);
  dp_buf_init(&h->body, max_bytes);
  dp_buf_init(&h->toc, max_bytes);
  dp_buf_init(&h->head, max_bytes);
  dp_buf_init(&h->kicker, max_bytes);
  h->status = DOPPEL_OK;
}

void dp_html_release(dp_html *h) {
  dp_buf_release(&h->body);
  dp_buf_release(&h->toc);
  dp_buf_release(&h->head);
  dp_buf_release(&h->kicker);
}

doppel_status dp_html_begin(dp_html *h, const char *title, const char *subtitle) {
  if (h->status != DOPPEL_OK) return h->status;
  doppel_status st = DOPPEL_OK;
  h->head.len = 0;
  if (!title) title = "Report";
  st = dp_html_escape(&h->head, title, strlen(title));
  if (st == DOPPEL_OK) st = dp_buf_putc(&h->head, '\n'); /* separator: escaped text holds no newline */
  if (st == DOPPEL_OK && subtitle) st = dp_html_escape(&h->head, subtitle, strlen(subtitle));
  return st == DOPPEL_OK ? DOPPEL_OK : fail(h, st);
}

doppel_status dp_html_kicker(dp_html *h, const char *text) {
  if (h->status != DOPPEL_OK) return h->status;
  h->kicker.len = 0;
  doppel_status st = text ? dp_html_escape(&h->kicker, text, strlen(text)) : DOPPEL_OK;
  return st == DOPPEL_OK ? DOPPEL_OK : fail(h, st);
}

/* End open tables, lists and tile rows before a new block; a figure grid
 * stays open (it holds blocks) unless all is set (sections, headings). */
static doppel_status close_blocks_all(dp_html *h, int all) {
  if (h->in_row) dp_html_row_end(h);
  if (h->in_table) dp_html_table_end(h);
  if (h->in_dl) dp_html_dl_end(h);
  if (h->in_figures) dp_html_figures_end(h);
  if (all && h->in_grid) dp_html_grid_end(h);
  return h->status;
}

static doppel_status close_blocks(dp_html *h) { return close_blocks_all(h, 0); }

doppel_status dp_html_section(dp_html *h, const char *id, const char *title) {
  close_blocks_all(h, 1);
  if (h->in_section) put(h, "</section>\n");
  char cid[64];
  clean_id(id, cid, sizeof cid);
  putf(h, "<section id=\"%s\">\n<h2>", cid);
  esc(h, title);
  put(h, "</h2>\n");
  h->in_section = 1;
  if (h->status != DOPPEL_OK) return h->status;
  doppel_status st = dp_buf_append(&h->toc, "<li><a href=\"#", 14);
  if (st == DOPPEL_OK) st = dp_buf_append(&h->toc, cid, strlen(cid));
  if (st == DOPPEL_OK) st = dp_buf_append(&h->toc, "\">", 2);
  if (st == DOPPEL_OK && title) st = dp_html_escape(&h->toc, title, strlen(title));
  if (st == DOPPEL_OK) st = dp_buf_append(&h->toc, "</a></li>\n", 10);
  return st == DOPPEL_OK ? DOPPEL_OK : fail(h, st);
}

doppel_status dp_html_subsection(dp_html *h, const char *id, const char *title) {
  close_blocks_all(h, 1);
  if (id) {
    char cid[64];
    clean_id(id, cid, sizeof cid);
    putf(h, "<h3 id=\"%s\">", cid);
  } else {
    put(h, "<h3>");
  }
  esc(h, title);
  return put(h, "</h3>\n");
}

doppel_status dp_html_p(dp_html *h, const char *text) {
  close_blocks(h);
  put(h, "<p>");
  esc(h, text);
  return put(h, "</p>\n");
}

doppel_status dp_html_note(dp_html *h, const char *text) {
  close_blocks(h);
  put(h, "<p class=\"note\">");
  esc(h, text);
  return put(h, "</p>\n");
}

doppel_status dp_html_text(dp_html *h, const char *text) { return esc(h, text); }

doppel_status dp_html_textf(dp_html *h, const char *fmt, ...) {
  if (h->status != DOPPEL_OK) return h->status;
  dp_buf tmp;
  dp_buf_init(&tmp, 0);
  va_list ap;
  va_start(ap, fmt);
  doppel_status st = vputf(&tmp, fmt, ap);
  va_end(ap);
  if (st == DOPPEL_OK) st = dp_html_escape(&h->body, tmp.data ? tmp.data : "", tmp.len);
  dp_buf_release(&tmp);
  return st == DOPPEL_OK ? DOPPEL_OK : fail(h, st);
}

doppel_status dp_html_code(dp_html *h, const char *text) {
  put(h, "<code>");
  esc(h, text);
  return put(h, "</code>");
}

doppel_status dp_html_strong(dp_html *h, const char *text) {
  put(h, "<strong>");
  esc(h, text);
  return put(h, "</strong>");
}

doppel_status dp_html_badge(dp_html *h, const char *text, const char *kind) {
  static const char *const kinds[] = {"direct", "quasi", "sensitive", "none", "error",
                                      "warning", "info", "ok", "muted"};
  const char *k = "muted";
  for (size_t i = 0; kind && i < sizeof kinds / sizeof kinds[0]; i++)
    if (!strcmp(kind, kinds[i])) k = kinds[i];
  putf(h, "<span class=\"badge b-%s\">", k);
  esc(h, text);
  return put(h, "</span>");
}

doppel_status dp_html_meter(dp_html *h, double fraction) {
  if (!isfinite(fraction) || fraction < 0) fraction = 0;
  if (fraction > 1) fraction = 1;
  return putf(h, "<span class=\"meter\" aria-hidden=\"true\"><span style=\"width:%.1f%%\"></span></span>",
              fraction * 100);
}

static double clamp01(double v) { return !(v > 0) ? 0 : v > 1 ? 1 : v; }

doppel_status dp_html_gauge(dp_html *h, const dp_html_gauge_spec *g) {
  if (h->status != DOPPEL_OK) return h->status;
  if (!g) return fail(h, DOPPEL_E_INTERNAL);
  static const char *const kinds[] = {"ok", "error", "warning"};
  const char *k = "accent";
  for (size_t i = 0; g->kind && i < sizeof kinds / sizeof kinds[0]; i++)
    if (!strcmp(g->kind, kinds[i])) k = kinds[i];
  double scale = isfinite(g->scale) && g->scale > 0 ? g->scale : 1;
  putf(h, "<span class=\"gauge g-%s\"", k);
  if (g->tip) {
    put(h, " role=\"img\" title=\"");
    esc(h, g->tip);
    put(h, "\" aria-label=\"");
    esc(h, g->tip);
    put(h, "\">");
  } else {
    put(h, " aria-hidden=\"true\">");
  }
  putf(h, "<span class=\"gv\" style=\"width:%.1f%%\"></span>", clamp01(g->value / scale) * 100);
  if (isfinite(g->mark)) putf(h, "<span class=\"gm\" style=\"left:%.1f%%\"></span>", clamp01(g->mark / scale) * 100);
  if (isfinite(g->mark2))
    putf(h, "<span class=\"gm2\" style=\"left:%.1f%%\"></span>", clamp01(g->mark2 / scale) * 100);
  return put(h, "</span>");
}

doppel_status dp_html_raw(dp_html *h, const char *html) { return put(h, html); }

doppel_status dp_html_rawf(dp_html *h, const char *fmt, ...) {
  if (h->status != DOPPEL_OK) return h->status;
  va_list ap;
  va_start(ap, fmt);
  doppel_status st = vputf(&h->body, fmt, ap);
  va_end(ap);
  return st == DOPPEL_OK ? DOPPEL_OK : fail(h, st);
}

/* ---- key figures, definition lists ---- */

doppel_status dp_html_figures_begin(dp_html *h) {
  close_blocks(h);
  h->in_figures = 1;
  return put(h, "<div class=\"figures\">\n");
}

doppel_status dp_html_figure(dp_html *h, const char *label, const char *value, const char *note) {
  if (!h->in_figures) return fail(h, DOPPEL_E_INTERNAL);
  put(h, "<div class=\"fig\"><div class=\"l\">");
  esc(h, label);
  put(h, "</div><div class=\"v\">");
  esc(h, value);
  put(h, "</div>");
  if (note) {
    put(h, "<div class=\"n\">");
    esc(h, note);
    put(h, "</div>");
  }
  return put(h, "</div>\n");
}

doppel_status dp_html_figures_end(dp_html *h) {
  if (!h->in_figures) return fail(h, DOPPEL_E_INTERNAL);
  h->in_figures = 0;
  return put(h, "</div>\n");
}

doppel_status dp_html_dl_begin(dp_html *h) {
  close_blocks(h);
  h->in_dl = 1;
  return put(h, "<dl class=\"kv\">\n");
}

doppel_status dp_html_kv_begin(dp_html *h, const char *key) {
  if (!h->in_dl) return fail(h, DOPPEL_E_INTERNAL);
  put(h, "<dt>");
  esc(h, key);
  return put(h, "</dt><dd>");
}

doppel_status dp_html_kv_end(dp_html *h) {
  if (!h->in_dl) return fail(h, DOPPEL_E_INTERNAL);
  return put(h, "</dd>\n");
}

doppel_status dp_html_kv(dp_html *h, const char *key, const char *value) {
  dp_html_kv_begin(h, key);
  esc(h, value);
  return dp_html_kv_end(h);
}

doppel_status dp_html_dl_end(dp_html *h) {
  if (!h->in_dl) return fail(h, DOPPEL_E_INTERNAL);
  h->in_dl = 0;
  return put(h, "</dl>\n");
}

/* ---- tables ---- */

doppel_status dp_html_table_begin(dp_html *h, const char *columns) {
  close_blocks(h);
  put(h, "<div class=\"tw\"><table>\n<thead><tr>");
  h->ncols = 0;
  const char *c = columns ? columns : "";
  while (h->status == DOPPEL_OK) {
    const char *e = strchr(c, '|');
    size_t n = e ? (size_t)(e - c) : strlen(c);
    if (h->ncols >= sizeof h->numeric) return fail(h, DOPPEL_E_INTERNAL);
    int num = n > 0 && c[0] == '#';
    h->numeric[h->ncols++] = (unsigned char)num;
    put(h, num ? "<th class=\"num\" scope=\"col\">" : "<th scope=\"col\">");
    if (h->status == DOPPEL_OK) {
      doppel_status st = dp_html_escape(&h->body, c + num, n - (size_t)num);
      if (st != DOPPEL_OK) fail(h, st);
    }
    put(h, "</th>");
    if (!e) break;
    c = e + 1;
  }
  h->in_table = 1;
  return put(h, "</tr></thead>\n<tbody>\n");
}

doppel_status dp_html_row_begin(dp_html *h, const char *row_class) {
  if (!h->in_table) return fail(h, DOPPEL_E_INTERNAL);
  if (h->in_row) dp_html_row_end(h);
  h->in_row = 1;
  h->col = 0;
  if (row_class) {
    char cls[32];
    clean_id(row_class, cls, sizeof cls);
    return putf(h, "<tr class=\"%s\">", cls);
  }
  return put(h, "<tr>");
}

doppel_status dp_html_td_begin(dp_html *h) {
  if (!h->in_row) return fail(h, DOPPEL_E_INTERNAL);
  int num = h->col < h->ncols && h->numeric[h->col];
  h->col++;
  return put(h, num ? "<td class=\"num\">" : "<td>");
}

doppel_status dp_html_td_end(dp_html *h) {
  if (!h->in_row) return fail(h, DOPPEL_E_INTERNAL);
  return put(h, "</td>");
}

doppel_status dp_html_td(dp_html *h, const char *text) {
  dp_html_td_begin(h);
  esc(h, text);
  return dp_html_td_end(h);
}

doppel_status dp_html_td_shade(dp_html *h, const char *text, double fraction) {
  if (!h->in_row) return fail(h, DOPPEL_E_INTERNAL);
  if (!isfinite(fraction) || fraction < 0) fraction = 0;
  if (fraction > 1) fraction = 1;
  int num = h->col < h->ncols && h->numeric[h->col];
  h->col++;
  /* white to the accent blue; dark cells get white text */
  int r = (int)lround(255 + (29 - 255) * fraction * 0.85), g = (int)lround(255 + (78 - 255) * fraction * 0.85),
      b = (int)lround(255 + (216 - 255) * fraction * 0.85);
  putf(h, "<td%s style=\"background:#%02x%02x%02x%s\">", num ? " class=\"num\"" : "", r, g, b,
       fraction > 0.55 ? ";color:#ffffff" : "");
  esc(h, text);
  return put(h, "</td>");
}

doppel_status dp_html_row_end(dp_html *h) {
  if (!h->in_row) return fail(h, DOPPEL_E_INTERNAL);
  while (h->col < h->ncols) dp_html_td(h, ""); /* complete short rows */
  h->in_row = 0;
  return put(h, "</tr>\n");
}

doppel_status dp_html_table_end(dp_html *h) {
  if (!h->in_table) return fail(h, DOPPEL_E_INTERNAL);
  if (h->in_row) dp_html_row_end(h);
  h->in_table = 0;
  return put(h, "</tbody>\n</table></div>\n");
}

doppel_status dp_html_grid_begin(dp_html *h) {
  close_blocks_all(h, 1);
  h->in_grid = 1;
  return put(h, "<div class=\"grid2\">\n");
}

doppel_status dp_html_grid_end(dp_html *h) {
  if (!h->in_grid) return fail(h, DOPPEL_E_INTERNAL);
  close_blocks(h);
  h->in_grid = 0;
  return put(h, "</div>\n");
}

/* ---- charts: shared pieces ---- */

/* A "nice" step (1, 2, 2.5 or 5 times a power of ten) near range/ticks. */
static double nice_step(double range, int ticks) {
  if (!(range > 0) || !isfinite(range)) return 1;
  double raw = range / ticks, p = pow(10, floor(log10(raw))), f = raw / p;
  double m = f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10;
  return m * p;
}

static char *fmt_value(double v, unsigned flags, char *buf, size_t size) {
  return (flags & DP_HTML_PERCENT) ? dp_fmt_share(v, buf, size) : dp_fmt_number(v, buf, size);
}

/* An axis tick label: percent ticks without needless decimals. */
static char *fmt_tick(double v, double step, unsigned flags, char *buf, size_t size) {
  if (flags & DP_HTML_PERCENT) {
    double p = v * 100, sp = step * 100;
    int dec = sp >= 1 ? 0 : sp >= 0.1 ? 1 : 2;
    if (fabs(p) < 1e-9) p = 0;
    snprintf(buf, size, "%.*f%%", dec, p);
    return buf;
  }
  if (fabs(v) < 1e-12) v = 0;
  return dp_fmt_number(v, buf, size);
}

static const char *const series_colors[] = {"#1d4ed8", "#d97706", "#059669", "#db2777", "#7c3aed"};
static const char *const series_dash[] = {"", " stroke-dasharray=\"6 3\"", " stroke-dasharray=\"2 3\"",
                                          " stroke-dasharray=\"8 3 2 3\"", " stroke-dasharray=\"1 2\""};

static doppel_status figure_open(dp_html *h, const char *caption, int w, int ht) {
  close_blocks(h);
  unsigned id = ++h->svg_id;
  putf(h, "<figure>\n<svg class=\"chart\" viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" role=\"img\" aria-labelledby=\"c%u\">"
          "<title id=\"c%u\">", w, ht, w, ht, id, id);
  esc(h, caption);
  return put(h, "</title>\n");
}

static doppel_status figure_close(dp_html *h, const char *caption) {
  put(h, "</svg>\n");
  if (caption) {
    put(h, "<figcaption>");
    esc(h, caption);
    put(h, "</figcaption>\n");
  }
  return put(h, "</figure>\n");
}

/* Shorten a UTF-8 label to at most max characters, the last one an
 * ellipsis when something was cut. */
static void shorten(const char *s, size_t max, char *out, size_t size) {
  size_t n = strlen(s), i = 0, chars = 0, cut = 0;
  while (i < n) {
    uint32_t cp;
    if (chars + 1 == max) cut = i;
    i += dp_utf8_next(s + i, n - i, &cp);
    chars++;
  }
  if (chars <= max) snprintf(out, size, "%s", s);
  else snprintf(out, size, "%.*s\xe2\x80\xa6", (int)cut, s);
}

/* ---- bar chart ---- */

doppel_status dp_html_bar_chart(dp_html *h, const dp_html_bar_spec *spec) {
  if (h->status != DOPPEL_OK) return h->status;
  if (!spec || (!spec->bars && spec->n)) return fail(h, DOPPEL_E_INTERNAL);
  const int W = 720, label_w = 210, bar_x = 218, bar_w = 400, row = 24, top = 6;
  int ht = top * 2 + row * (int)(spec->n ? spec->n : 1);
  double max = spec->max;
  if (!(max > 0)) {
    max = 0;
    for (size_t i = 0; i < spec->n; i++)
      if (isfinite(spec->bars[i].value) && spec->bars[i].value > max) max = spec->bars[i].value;
  }
  if (!(max > 0)) max = 1;
  figure_open(h, spec->caption, W, ht);
  for (size_t i = 0; i < spec->n; i++) {
    const dp_html_bar *b = &spec->bars[i];
    double v = isfinite(b->value) && b->value > 0 ? b->value : 0;
    double len = v / max * bar_w;
    if (len > bar_w) len = bar_w;
    if (v > 0 && len < 1) len = 1;
    int y = top + row * (int)i;
    char lab[256], val[DP_FMT_MAX];
    shorten(b->label ? b->label : "", 30, lab, sizeof lab);
    put(h, "<g><title>");
    esc(h, b->label);
    put(h, ": ");
    esc(h, b->value_text ? b->value_text : fmt_value(b->value, spec->flags, val, sizeof val));
    put(h, "</title>");
    putf(h, "<text class=\"lab\" x=\"%d\" y=\"%d\" text-anchor=\"end\">", label_w, y + 16);
    esc(h, lab);
    putf(h, "</text><rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"16\" fill=\"#eef1f5\"/>"
            "<rect x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"16\" fill=\"%s\"/>",
         bar_x, y + 4, bar_w, bar_x, y + 4, len, series_colors[0]);
    putf(h, "<text class=\"val\" x=\"%d\" y=\"%d\">", bar_x + bar_w + 8, y + 16);
    esc(h, b->value_text ? b->value_text : fmt_value(b->value, spec->flags, val, sizeof val));
    put(h, "</text></g>\n");
  }
  return figure_close(h, spec->caption);
}

/* ---- line chart ---- */

static char *default_xlabel(double x, void *ctx, char *buf, size_t size) {
  (void)ctx;
  return dp_fmt_number(x, buf, size);
}

doppel_status dp_html_line_chart(dp_html *h, const dp_html_line_spec *spec) {
  if (h->status != DOPPEL_OK) return h->status;
  if (!spec || spec->n_series < 1 || spec->n_series > 5 || !spec->series) return fail(h, DOPPEL_E_INTERNAL);
  const int W = 720, H = 300, L = 64, R = 20, T = 18, B = 48;
  const int pw = W - L - R, ph = H - T - B;
  double xmin = INFINITY, xmax = -INFINITY, ymax = 0;
  for (size_t s = 0; s < spec->n_series; s++) {
    const dp_html_series *se = &spec->series[s];
    for (size_t i = 0; i < se->n; i++) {
      double x = se->x ? se->x[i] : (double)i, y = se->y[i];
      if (!isfinite(x) || !isfinite(y)) continue;
      if (x < xmin) xmin = x;
      if (x > xmax) xmax = x;
      if (y > ymax) ymax = y;
    }
  }
  if (!(xmin <= xmax)) xmin = 0, xmax = 1;
  if (xmax == xmin) xmax = xmin + 1;
  double ystep = nice_step(ymax > 0 ? ymax : 1, 5);
  double ytop = spec->y_max > 0 ? spec->y_max : ceil((ymax > 0 ? ymax : 1) / ystep - 1e-9) * ystep;
  if (spec->y_max > 0) ystep = nice_step(ytop, 5);
  if (!(ytop > 0)) ytop = 1;
  double xstep = nice_step(xmax - xmin, 6);
  if (spec->x_integer && xstep < 1) xstep = 1;
  dp_html_xlabel_fn xl = spec->x_label ? spec->x_label : default_xlabel;
#define PX(x) (L + ((x) - xmin) / (xmax - xmin) * pw)
#define PY(y) (T + ph - (y) / ytop * ph)
  figure_open(h, spec->caption, W, H);
  char buf[DP_FMT_MAX];
  /* grid and y ticks */
  put(h, "<g class=\"axis\">");
  for (int k = 0; k <= 100; k++) {
    double y = k * ystep;
    if (y > ytop + ystep * 1e-6) break;
    putf(h, "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"%s\"/>", L, L + pw, PY(y), PY(y),
         k ? "#e6e9ee" : "#9aa4b2");
    putf(h, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">", L - 6, PY(y) + 4);
    esc(h, fmt_tick(y, ystep, spec->flags, buf, sizeof buf));
    put(h, "</text>");
  }
  double x0 = ceil(xmin / xstep - 1e-9) * xstep;
  for (int k = 0; k <= 100; k++) {
    double x = x0 + k * xstep;
    if (x > xmax + xstep * 1e-6) break;
    putf(h, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%d\" stroke=\"#9aa4b2\"/>", PX(x), PX(x), T + ph,
         T + ph + 4);
    putf(h, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">", PX(x), T + ph + 17);
    esc(h, xl(x, spec->x_ctx, buf, sizeof buf));
    put(h, "</text>");
  }
  if (spec->x_title) {
    putf(h, "<text class=\"ttl\" x=\"%d\" y=\"%d\" text-anchor=\"middle\">", L + pw / 2, H - 8);
    esc(h, spec->x_title);
    put(h, "</text>");
  }
  if (spec->y_title) {
    putf(h, "<text class=\"ttl\" transform=\"translate(14 %d) rotate(-90)\" text-anchor=\"middle\">", T + ph / 2);
    esc(h, spec->y_title);
    put(h, "</text>");
  }
  put(h, "</g>\n");
  /* series */
  for (size_t s = 0; s < spec->n_series; s++) {
    const dp_html_series *se = &spec->series[s];
    const char *color = series_colors[s];
    if (s == 0 && (spec->flags & DP_HTML_AREA) && se->n > 1) {
      put(h, "<path fill=\"");
      put(h, color);
      put(h, "\" fill-opacity=\"0.12\" stroke=\"none\" d=\"");
      int open = 0;
      double lastx = 0;
      for (size_t i = 0; i < se->n; i++) {
        double x = se->x ? se->x[i] : (double)i, y = se->y[i];
        if (!isfinite(x) || !isfinite(y)) {
          if (open) putf(h, "L%.1f %.1fZ", PX(lastx), PY(0));
          open = 0;
          continue;
        }
        if (!open) putf(h, "M%.1f %.1f", PX(x), PY(0));
        putf(h, "L%.1f %.1f", PX(x), PY(y < 0 ? 0 : y));
        open = 1;
        lastx = x;
      }
      if (open) putf(h, "L%.1f %.1fZ", PX(lastx), PY(0));
      put(h, "\"/>\n");
    }
    putf(h, "<path fill=\"none\" stroke=\"%s\" stroke-width=\"2\" stroke-linejoin=\"round\"%s d=\"", color,
         series_dash[s]);
    int open = 0;
    for (size_t i = 0; i < se->n; i++) {
      double x = se->x ? se->x[i] : (double)i, y = se->y[i];
      if (!isfinite(x) || !isfinite(y)) {
        open = 0;
        continue;
      }
      putf(h, "%c%.1f %.1f", open ? 'L' : 'M', PX(x), PY(y));
      open = 1;
    }
    put(h, "\"/>\n");
    if (spec->flags & DP_HTML_MARKERS) {
      for (size_t i = 0; i < se->n; i++) {
        double x = se->x ? se->x[i] : (double)i, y = se->y[i];
        if (!isfinite(x) || !isfinite(y)) continue;
        putf(h, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"><title>", PX(x), PY(y), color);
        if (se->name) {
          esc(h, se->name);
          put(h, ", ");
        }
        esc(h, spec->x_title ? spec->x_title : "x");
        put(h, " ");
        esc(h, xl(x, spec->x_ctx, buf, sizeof buf));
        put(h, ": ");
        esc(h, fmt_value(y, spec->flags, buf, sizeof buf));
        put(h, "</title></circle>");
      }
      put(h, "\n");
    }
  }
  /* legend */
  if (spec->n_series > 1) {
    int lx = L + 12, ly = T + 8;
    for (size_t s = 0; s < spec->n_series; s++) {
      putf(h, "<line x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%d\" stroke=\"%s\" stroke-width=\"2\"%s/>", lx, lx + 22, ly,
           ly, series_colors[s], series_dash[s]);
      putf(h, "<text class=\"lab\" x=\"%d\" y=\"%d\">", lx + 28, ly + 4);
      esc(h, spec->series[s].name);
      put(h, "</text>");
      ly += 16;
    }
    put(h, "\n");
  }
#undef PX
#undef PY
  return figure_close(h, spec->caption);
}

/* ---- heat map ---- */

/* Sequential blues for t in [0, 1]. */
static void seq_color(double t, char out[8]) {
  static const unsigned char stops[][3] = {{0xe8, 0xf1, 0xfb}, {0xb9, 0xd5, 0xf0}, {0x7d, 0xb3, 0xe0},
                                           {0x3f, 0x86, 0xc9}, {0x16, 0x5a, 0xa7}, {0x0b, 0x2f, 0x6b}};
  const int ns = (int)(sizeof stops / sizeof stops[0]);
  if (!(t > 0)) t = 0;
  if (t > 1) t = 1;
  double p = t * (ns - 1);
  int i = (int)floor(p);
  if (i >= ns - 1) i = ns - 2;
  double f = p - i;
  int c[3];
  for (int k = 0; k < 3; k++) c[k] = (int)lround(stops[i][k] + (stops[i + 1][k] - stops[i][k]) * f);
  snprintf(out, 8, "#%02x%02x%02x", c[0], c[1], c[2]);
}

/* Diverging red-white-blue for t in [-1, 1]. */
static void div_color(double t, char out[8]) {
  if (!(t == t)) t = 0;
  if (t > 1) t = 1;
  if (t < -1) t = -1;
  const unsigned char w[3] = {0xf7, 0xf7, 0xf7}, r[3] = {0xb4, 0x23, 0x18}, b[3] = {0x1d, 0x4e, 0xd8};
  const unsigned char *e = t < 0 ? r : b;
  double f = fabs(t);
  int c[3];
  for (int k = 0; k < 3; k++) c[k] = (int)lround(w[k] + (e[k] - w[k]) * f);
  snprintf(out, 8, "#%02x%02x%02x", c[0], c[1], c[2]);
}

doppel_status dp_html_heatmap(dp_html *h, const dp_html_heatmap_spec *spec) {
  if (h->status != DOPPEL_OK) return h->status;
  if (!spec || !spec->values || spec->rows == 0 || spec->cols == 0 || spec->rows > 64 || spec->cols > 64)
    return fail(h, DOPPEL_E_INTERNAL);
  const int cw = 26, ch = 24, L = 48, T = 22;
  const int gw = cw * (int)spec->cols, gh = ch * (int)spec->rows;
  const int W = L + gw + 12, H = T + gh + 56;
  int div = (spec->flags & DP_HTML_DIVERGING) != 0;
  double max = 0;
  for (size_t i = 0; i < spec->rows * spec->cols; i++) {
    double v = spec->values[i];
    if (isfinite(v) && fabs(v) > max) max = fabs(v);
  }
  if (!(max > 0)) max = 1;
  figure_open(h, spec->caption, W, H);
  char color[8], buf[DP_FMT_MAX];
  put(h, "<g class=\"axis\">");
  for (size_t c = 0; c < spec->cols; c++) {
    const char *lab = spec->col_labels ? spec->col_labels[c] : NULL;
    if (!lab) continue;
    putf(h, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">", L + cw * (int)c + cw / 2, T - 7);
    esc(h, lab);
    put(h, "</text>");
  }
  for (size_t r = 0; r < spec->rows; r++) {
    putf(h, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">", L - 8, T + ch * (int)r + ch / 2 + 4);
    esc(h, spec->row_labels ? spec->row_labels[r] : "");
    put(h, "</text>");
  }
  put(h, "</g>\n");
  for (size_t r = 0; r < spec->rows; r++) {
    for (size_t c = 0; c < spec->cols; c++) {
      double v = spec->values[r * spec->cols + c];
      int zero = !isfinite(v) || v == 0;
      if (zero) snprintf(color, sizeof color, "#f3f4f6");
      else if (div) div_color(v / max, color);
      else seq_color(v / max, color);
      putf(h, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"%s\" stroke=\"#ffffff\"><title>",
           L + cw * (int)c, T + ch * (int)r, cw, ch, color);
      esc(h, spec->row_labels ? spec->row_labels[r] : "");
      put(h, " ");
      const char *tip = spec->col_tips ? spec->col_tips[c] : spec->col_labels ? spec->col_labels[c] : NULL;
      if (tip) esc(h, tip);
      put(h, ": ");
      esc(h, isfinite(v) ? fmt_value(v, spec->flags, buf, sizeof buf) : DP_DASH);
      put(h, "</title></rect>");
    }
    put(h, "\n");
  }
  /* legend: a row of swatches from the low to the high end */
  int ly = T + gh + 18, lx = L;
  put(h, "<g class=\"axis\">");
  if (spec->legend) {
    putf(h, "<text x=\"%d\" y=\"%d\">", lx, ly + 11);
    esc(h, spec->legend);
    put(h, "</text>");
    ly += 18;
  }
  const int nsw = 10, sw = 22;
  putf(h, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"12\" fill=\"#f3f4f6\" stroke=\"#d5dae1\"/>", lx, ly, sw);
  putf(h, "<text x=\"%d\" y=\"%d\">%s</text>", lx + sw + 5, ly + 10, div ? "exactly 0" : "none");
  lx += sw + (div ? 130 : 100);
  putf(h, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">", lx - 4, ly + 10);
  esc(h, fmt_value(div ? -max : 0, spec->flags, buf, sizeof buf));
  put(h, "</text>");
  for (int k = 0; k < nsw; k++) {
    double t = (k + 0.5) / nsw;
    if (div) div_color(t * 2 - 1, color);
    else seq_color(t, color);
    putf(h, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"12\" fill=\"%s\"/>", lx + k * sw, ly, sw, color);
  }
  putf(h, "<text x=\"%d\" y=\"%d\">", lx + nsw * sw + 4, ly + 10);
  esc(h, fmt_value(max, spec->flags, buf, sizeof buf));
  put(h, "</text></g>\n");
  return figure_close(h, spec->caption);
}

/* ---- the page ---- */

static const char css[] =
    ":root{--fg:#1f2933;--muted:#5f6b7a;--line:#e3e7ed;--soft:#f6f8fa;--accent:#1d4ed8;"
    "--red:#b42318;--redbg:#fef3f2;--amber:#b54708;--amberbg:#fffaeb;--blue:#175cd3;--bluebg:#eff8ff;"
    "--green:#067647;--greenbg:#ecfdf3;--purple:#6941c6;--purplebg:#f4f3ff}\n"
    "*{box-sizing:border-box}\n"
    "body{margin:0;background:#fff;color:var(--fg);font:14px/1.5 system-ui,-apple-system,\"Segoe UI\",Roboto,"
    "\"Helvetica Neue\",Arial,\"Liberation Sans\",\"DejaVu Sans\",sans-serif;-webkit-print-color-adjust:exact;"
    "print-color-adjust:exact}\n"
    ".page{max-width:1120px;margin:0 auto;padding:32px 40px 48px}\n"
    "header.top{border-bottom:3px solid var(--fg);padding-bottom:14px;margin-bottom:20px}\n"
    ".kicker{font-size:12px;letter-spacing:.08em;text-transform:uppercase;color:var(--muted);margin:0 0 4px}\n"
    "h1{font-size:26px;line-height:1.25;margin:0 0 6px;font-weight:700;word-break:break-word}\n"
    ".sub{color:var(--muted);margin:0;word-break:break-word}\n"
    "nav.toc{background:var(--soft);border:1px solid var(--line);border-radius:8px;padding:12px 18px;margin:0 0 30px}\n"
    "nav.toc .h{font-size:12px;text-transform:uppercase;letter-spacing:.08em;color:var(--muted);margin:0 0 6px;"
    "font-weight:600}\n"
    "nav.toc ol{margin:0;padding:0 0 0 20px;columns:3;column-gap:32px}\n"
    "nav.toc li{padding:1px 0;break-inside:avoid}\n"
    "nav.toc a{color:var(--accent);text-decoration:none}\n"
    "nav.toc a:hover{text-decoration:underline}\n"
    "section{margin:0 0 38px}\n"
    "h2{font-size:19px;margin:0 0 12px;padding-bottom:6px;border-bottom:1px solid var(--line);font-weight:700}\n"
    "h3{font-size:15px;margin:22px 0 8px;font-weight:650;word-break:break-word}\n"
    "p{margin:0 0 10px;max-width:84ch}\n"
    "p.note{color:var(--muted);font-size:12.5px}\n"
    "code{font:12.5px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,\"Liberation Mono\",\"DejaVu Sans Mono\","
    "monospace;background:var(--soft);border:1px solid var(--line);border-radius:4px;padding:0 4px;"
    "overflow-wrap:break-word}\n"
    ".tw{overflow-x:auto;margin:4px 0 16px}\n"
    "table{border-collapse:collapse;width:100%;font-size:13px}\n"
    "th,td{padding:6px 10px;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}\n"
    "th{font-size:11.5px;text-transform:uppercase;letter-spacing:.04em;color:var(--muted);font-weight:600;"
    "background:var(--soft);border-bottom:1px solid #cfd6df}\n"
    "td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}\n"
    "tbody tr:nth-child(even) td{background:#fafbfc}\n"
    "tr.direct td{background:var(--redbg)}\n"
    "tbody tr.direct:nth-child(even) td{background:var(--redbg)}\n"
    "tr.direct td:first-child{box-shadow:inset 4px 0 0 var(--red)}\n"
    "tr.quasi td:first-child{box-shadow:inset 4px 0 0 var(--amber)}\n"
    "tr.error td:first-child{box-shadow:inset 4px 0 0 var(--red)}\n"
    "tr.warning td:first-child{box-shadow:inset 4px 0 0 var(--amber)}\n"
    "tr.muted td{color:var(--muted)}\n"
    ".badge{display:inline-block;font-size:11px;font-weight:600;line-height:1.6;padding:0 7px;"
    "border-radius:999px;border:1px solid;white-space:nowrap}\n"
    ".b-direct,.b-error{color:var(--red);background:var(--redbg);border-color:#fecdca}\n"
    ".b-quasi,.b-warning{color:var(--amber);background:var(--amberbg);border-color:#fedf89}\n"
    ".b-sensitive{color:var(--purple);background:var(--purplebg);border-color:#d9d6fe}\n"
    ".b-info{color:var(--blue);background:var(--bluebg);border-color:#b2ddff}\n"
    ".b-ok{color:var(--green);background:var(--greenbg);border-color:#abefc6}\n"
    ".b-none,.b-muted{color:var(--muted);background:var(--soft);border-color:var(--line)}\n"
    ".figures{display:grid;grid-template-columns:repeat(auto-fit,minmax(150px,1fr));gap:12px;margin:0 0 20px}\n"
    ".fig{border:1px solid var(--line);border-radius:8px;padding:10px 14px}\n"
    ".fig .l{font-size:11.5px;color:var(--muted);text-transform:uppercase;letter-spacing:.04em}\n"
    ".fig .v{font-size:22px;font-weight:700;line-height:1.3;font-variant-numeric:tabular-nums;"
    "word-break:break-word}\n"
    ".fig .n{font-size:12px;color:var(--muted)}\n"
    "dl.kv{display:grid;grid-template-columns:max-content 1fr;gap:5px 20px;margin:0 0 16px}\n"
    "dl.kv dt{color:var(--muted)}\n"
    "dl.kv dd{margin:0;word-break:break-word}\n"
    "figure{margin:6px 0 20px;break-inside:avoid}\n"
    "figcaption{font-size:12.5px;color:var(--muted);margin-top:4px}\n"
    "svg.chart{display:block;width:100%;height:auto;max-width:760px}\n"
    "svg.chart text{font-family:system-ui,-apple-system,\"Segoe UI\",Roboto,Arial,\"DejaVu Sans\",sans-serif;"
    "font-size:11px;fill:#5f6b7a}\n"
    "svg.chart text.lab{fill:#1f2933;font-size:12px}\n"
    "svg.chart text.val{fill:#1f2933;font-size:12px;font-variant-numeric:tabular-nums}\n"
    "svg.chart text.ttl{font-size:11.5px;fill:#5f6b7a}\n"
    ".grid2{display:grid;grid-template-columns:1fr 1fr;gap:28px;align-items:start}\n"
    ".meter{display:inline-block;width:54px;height:6px;background:var(--line);border-radius:3px;"
    "margin-left:8px;vertical-align:middle;overflow:hidden}\n"
    ".meter>span{display:block;height:100%;background:var(--accent)}\n"
    ".gauge{position:relative;display:inline-block;width:160px;height:10px;background:var(--line);"
    "border-radius:3px;vertical-align:middle}\n"
    ".gauge>span{position:absolute;top:-3px;bottom:-3px;width:0}\n"
    ".gauge>.gv{top:0;bottom:0;left:0;border-radius:3px;background:var(--accent)}\n"
    ".g-ok>.gv{background:#3f9d62}.g-error>.gv{background:#d9534f}.g-warning>.gv{background:#e0a030}\n"
    ".gauge>.gm{border-left:2px solid var(--fg);margin-left:-1px}\n"
    ".gauge>.gm2{border-left:2px dashed var(--accent);margin-left:-1px}\n"
    "footer{margin-top:44px;padding-top:12px;border-top:1px solid var(--line);color:var(--muted);font-size:12px}\n"
    "@media (max-width:820px){.page{padding:20px}.grid2{grid-template-columns:1fr}nav.toc ol{columns:1}}\n"
    "@media print{body{font-size:10.5pt}.page{max-width:none;padding:0}h2,h3{break-after:avoid}"
    "tr,figure,.fig{break-inside:avoid}.tw{overflow:visible}a{color:inherit;text-decoration:none}"
    "tbody tr:nth-child(even) td{background:none}tr.direct td{background:var(--redbg)}}\n"
    "@page{margin:14mm}\n";

doppel_status dp_html_end(dp_html *h, const char *footer_text, dp_buf *out) {
  close_blocks_all(h, 1);
  if (h->in_section) {
    put(h, "</section>\n");
    h->in_section = 0;
  }
  if (h->status != DOPPEL_OK) return h->status;
  const char *title = h->head.data ? h->head.data : "Report";
  size_t tlen = h->head.len;
  const char *nl = h->head.data ? memchr(h->head.data, '\n', h->head.len) : NULL;
  if (nl) tlen = (size_t)(nl - title);
  const char *sub = nl ? nl + 1 : NULL;
  size_t slen = nl ? h->head.len - tlen - 1 : 0;
  doppel_status st = DOPPEL_OK;
#define APP(p, n) \
  if (st == DOPPEL_OK) st = dp_buf_append(out, (p), (n))
#define APPS(s) APP(s, strlen(s))
  APPS("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
       "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
       "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; "
       "base-uri 'none'; form-action 'none'\">\n"
       "<meta name=\"referrer\" content=\"no-referrer\">\n<title>");
  APP(title, tlen);
  APPS("</title>\n<style>\n");
  APP(css, sizeof css - 1);
  APPS("</style>\n</head>\n<body>\n<div class=\"page\">\n<header class=\"top\">\n<p class=\"kicker\">");
  if (h->kicker.len) {
    APP(h->kicker.data, h->kicker.len);
  } else {
    APPS("doppel report");
  }
  APPS("</p>\n<h1>");
  APP(title, tlen);
  APPS("</h1>\n");
  if (sub && slen) {
    APPS("<p class=\"sub\">");
    APP(sub, slen);
    APPS("</p>\n");
  }
  APPS("</header>\n");
  if (h->toc.len) {
    APPS("<nav class=\"toc\" aria-label=\"Contents\">\n<p class=\"h\">Contents</p>\n<ol>\n");
    APP(h->toc.data, h->toc.len);
    APPS("</ol>\n</nav>\n");
  }
  APPS("<main>\n");
  if (h->body.len) APP(h->body.data, h->body.len);
  APPS("</main>\n");
  if (footer_text) {
    APPS("<footer>");
    if (st == DOPPEL_OK) st = dp_html_escape(out, footer_text, strlen(footer_text));
    APPS("</footer>\n");
  }
  APPS("</div>\n</body>\n</html>\n");
#undef APP
#undef APPS
  return st == DOPPEL_OK ? DOPPEL_OK : fail(h, st);
}
