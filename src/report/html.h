/*
 * report/html.h — a small builder for self-contained HTML5 report pages:
 * one page with a header, a table of contents, sections, paragraphs,
 * key-figure tiles, definition lists, tables, badges, and inline SVG bar
 * charts, line charts and heat maps. Used by `doppel report` and by the
 * `doppel compare --html` scorecard, and meant for any other report page.
 *
 * The page is self-contained by construction: inline CSS only, inline SVG
 * without an XML namespace URL, no scripts, no fonts, no images, no links
 * outside the page; a Content-Security-Policy meta tag forbids every
 * resource load and every script, so even a bug cannot make the page reach
 * the network. It prints cleanly (A4/Letter, charts kept whole).
 *
 * Text: every `text` argument is UTF-8 from an untrusted source and is
 * escaped (dp_html_escape). Only dp_html_raw() and dp_html_rawf() take
 * markup, and only from trusted program text. `id` arguments are reduced
 * to [a-z0-9_-].
 *
 * Usage:
 *     dp_html h;
 *     dp_html_init(&h, 0);
 *     dp_html_begin(&h, "Scorecard", "real.json vs synth.json");
 *     dp_html_section(&h, "overall", "Overall");
 *     dp_html_table_begin(&h, "Dimension|#Score");
 *     dp_html_row_begin(&h, NULL);
 *     dp_html_td(&h, "event mix");
 *     dp_html_td(&h, "0.97");
 *     dp_html_row_end(&h);
 *     dp_html_table_end(&h);
 *     dp_buf page; dp_buf_init(&page, 0);
 *     if (dp_html_end(&h, "made by doppel", &page) == DOPPEL_OK) ... page.data, page.len ...
 *     dp_buf_release(&page);
 *     dp_html_release(&h);
 *
 * Errors: the first failure (out of memory, the size limit, misuse such as
 * a row outside a table: DOPPEL_E_INTERNAL) is kept in h->status; every
 * later call does nothing and returns it, so callers may check only the
 * result of dp_html_end(). Every section appears in the table of contents.
 *
 * Determinism: the same calls give the same bytes (numbers are printed
 * without locale; SVG ids come from a counter).
 * Thread safety: one dp_html per thread; no global state.
 */
#ifndef DP_REPORT_HTML_H
#define DP_REPORT_HTML_H

#include <doppel/status.h>
#include <stddef.h>

#include "core/buf.h"
#include "report/fmt.h"

#if defined(__GNUC__)
#define DP_HTML_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define DP_HTML_PRINTF(a, b)
#endif

typedef struct dp_html {
  dp_buf body;           /* the sections written so far */
  dp_buf toc;            /* <li> entries of the table of contents */
  dp_buf head;           /* escaped title and subtitle */
  dp_buf kicker;         /* escaped kicker line; empty = "doppel report" */
  doppel_status status;  /* first error; DOPPEL_OK while all went well */
  int in_section;        /* a <section> is open */
  int in_table;          /* a <table> is open */
  int in_row;            /* a <tr> is open */
  int in_dl;             /* a <dl> is open */
  int in_figures;        /* a key-figure row is open */
  int in_grid;           /* a two-column figure grid is open */
  unsigned ncols;        /* columns of the open table */
  unsigned col;          /* next column of the open row */
  unsigned char numeric[64]; /* per column: 1 = right-aligned number */
  unsigned svg_id;       /* counter for ids inside SVGs */
} dp_html;

/* Chart and heat-map flags. */
#define DP_HTML_PERCENT 1u   /* values are shares (0.25 = 25%): axes, legends and tooltips in % */
#define DP_HTML_AREA 2u      /* line charts: fill the area under the first series */
#define DP_HTML_DIVERGING 4u /* heat maps: values in [-m, m], red below 0, blue above */
#define DP_HTML_MARKERS 8u   /* line charts: a dot with a tooltip at every point */

/* Start an empty page. max_bytes bounds the page size (0 = no bound);
 * beyond it calls fail with DOPPEL_E_LIMIT. Never fails. */
void dp_html_init(dp_html *h, size_t max_bytes);
/* Free everything; h may then be initialized again. */
void dp_html_release(dp_html *h);

/* Title (the <title> and the <h1>) and an optional subtitle line (NULL). */
doppel_status dp_html_begin(dp_html *h, const char *title, const char *subtitle);
/* The small line above the title that names the kind of page (default
 * "doppel report"; NULL or "" restores it), e.g. "doppel compare". */
doppel_status dp_html_kicker(dp_html *h, const char *text);
/* Close the open section (if any) and open <section id=id> with an <h2>
 * title; adds a table-of-contents entry linking to #id. */
doppel_status dp_html_section(dp_html *h, const char *id, const char *title);
/* An <h3> inside the open section; id may be NULL. */
doppel_status dp_html_subsection(dp_html *h, const char *id, const char *title);
/* A paragraph of text; a muted smaller paragraph (explanations, notes). */
doppel_status dp_html_p(dp_html *h, const char *text);
doppel_status dp_html_note(dp_html *h, const char *text);

/* Inline content, into the open paragraph, cell or definition. */
doppel_status dp_html_text(dp_html *h, const char *text);
doppel_status dp_html_textf(dp_html *h, const char *fmt, ...) DP_HTML_PRINTF(2, 3);
doppel_status dp_html_code(dp_html *h, const char *text);   /* <code> */
doppel_status dp_html_strong(dp_html *h, const char *text); /* <strong> */
/* A small label: kind is one of "direct", "quasi", "sensitive", "none",
 * "error", "warning", "info", "ok", "muted" (others render as "muted"). */
doppel_status dp_html_badge(dp_html *h, const char *text, const char *kind);
/* A small horizontal meter filled to fraction (clamped to [0, 1]). */
doppel_status dp_html_meter(dp_html *h, double fraction);
/* A gauge: a small horizontal bar filled to value / scale (clamped to
 * [0, 1]) with up to two ticks on the same scale, a solid one at mark and
 * a dashed one at mark2 (non-finite = no tick); e.g. a distance, its
 * tolerance and its expected value. For a table cell or a line of text. */
typedef struct dp_html_gauge_spec {
  double value;     /* the fill; non-finite = empty */
  double scale;     /* full scale; 0, negative or non-finite = 1 */
  double mark;      /* solid tick (a limit), NAN = none */
  double mark2;     /* dashed tick (a reference), NAN = none */
  const char *kind; /* fill colour: "ok" green, "error" red, "warning" amber, else (NULL) the accent */
  const char *tip;  /* tooltip and accessible name (escaped); NULL = hidden from screen readers */
} dp_html_gauge_spec;
doppel_status dp_html_gauge(dp_html *h, const dp_html_gauge_spec *g);
/* Trusted markup, copied as is: only for constant program text. */
doppel_status dp_html_raw(dp_html *h, const char *html);
doppel_status dp_html_rawf(dp_html *h, const char *fmt, ...) DP_HTML_PRINTF(2, 3);

/* Key figures: a row of tiles, each a big value with a label and an
 * optional note (NULL). */
doppel_status dp_html_figures_begin(dp_html *h);
doppel_status dp_html_figure(dp_html *h, const char *label, const char *value, const char *note);
doppel_status dp_html_figures_end(dp_html *h);

/* Definition list: dp_html_kv() for a plain value, or dp_html_kv_begin()
 * + inline content + dp_html_kv_end() for a rich one. */
doppel_status dp_html_dl_begin(dp_html *h);
doppel_status dp_html_kv(dp_html *h, const char *key, const char *value);
doppel_status dp_html_kv_begin(dp_html *h, const char *key);
doppel_status dp_html_kv_end(dp_html *h);
doppel_status dp_html_dl_end(dp_html *h);

/* Tables. columns lists the headers separated by '|'; a header starting
 * with '#' is a numeric column (right-aligned, tabular digits; the '#' is
 * not shown): "Event|#Count|#Share|Next events". At most 64 columns.
 * row_class (NULL = none) marks a row: "direct" (highlighted as a direct
 * identifier), "quasi", "error", "warning", "muted". */
doppel_status dp_html_table_begin(dp_html *h, const char *columns);
doppel_status dp_html_row_begin(dp_html *h, const char *row_class);
/* A cell with plain text (NULL = an em dash). */
doppel_status dp_html_td(dp_html *h, const char *text);
/* A cell with text on a background shaded by fraction (0..1, clamped):
 * for heat-table cells such as retention cohorts. */
doppel_status dp_html_td_shade(dp_html *h, const char *text, double fraction);
/* A cell with rich inline content between begin and end. */
doppel_status dp_html_td_begin(dp_html *h);
doppel_status dp_html_td_end(dp_html *h);
doppel_status dp_html_row_end(dp_html *h);
doppel_status dp_html_table_end(dp_html *h);

/* Two figures side by side (one column when printed narrow). */
doppel_status dp_html_grid_begin(dp_html *h);
doppel_status dp_html_grid_end(dp_html *h);

/* Horizontal bar chart. Bars are scaled to max (0 = the largest value);
 * value_text (NULL = the value as a number, or a percent with
 * DP_HTML_PERCENT) is printed after the bar; long labels are shortened on
 * screen and kept whole in the tooltip. */
typedef struct dp_html_bar {
  const char *label;      /* category label (escaped) */
  double value;           /* bar length in the chart's unit, >= 0 */
  const char *value_text; /* text after the bar, or NULL */
} dp_html_bar;

typedef struct dp_html_bar_spec {
  const char *caption;    /* figure caption, also the chart's accessible name */
  const dp_html_bar *bars;
  size_t n;
  double max;             /* full-scale value; 0 = the largest bar */
  unsigned flags;         /* DP_HTML_PERCENT */
} dp_html_bar_spec;

doppel_status dp_html_bar_chart(dp_html *h, const dp_html_bar_spec *spec);

/* Line chart of one or more series over a numeric x axis. */
typedef struct dp_html_series {
  const char *name;       /* legend text (shown when there are 2+ series) */
  const double *x;        /* n x values, increasing; NULL = 0, 1, ..., n-1 */
  const double *y;        /* n y values; non-finite values break the line */
  size_t n;
} dp_html_series;

/* Writes the label of x tick value x into buf; returns buf. */
typedef char *(*dp_html_xlabel_fn)(double x, void *ctx, char *buf, size_t size);

typedef struct dp_html_line_spec {
  const char *caption;       /* figure caption */
  const char *x_title;       /* axis titles, may be NULL */
  const char *y_title;
  const dp_html_series *series;
  size_t n_series;           /* 1..5 */
  unsigned flags;            /* DP_HTML_PERCENT, DP_HTML_AREA, DP_HTML_MARKERS */
  dp_html_xlabel_fn x_label; /* NULL = numbers */
  void *x_ctx;               /* passed to x_label */
  int x_integer;             /* 1: x ticks only at whole numbers */
  double y_max;              /* top of the y axis; 0 = a round value above the data */
} dp_html_line_spec;

doppel_status dp_html_line_chart(dp_html *h, const dp_html_line_spec *spec);

/* Heat map of a rows x cols grid (e.g. 7 weekdays x 24 hours), with a
 * colour legend. Zero cells are drawn light grey; each cell has a tooltip
 * "<row label> <column tip>: <value>". */
typedef struct dp_html_heatmap_spec {
  const char *caption;
  const double *values;           /* rows * cols values, row-major */
  size_t rows, cols;              /* at most 64 x 64 */
  const char *const *row_labels;  /* rows labels */
  const char *const *col_labels;  /* cols labels; NULL entries are not drawn */
  const char *const *col_tips;    /* cols tooltip names; NULL = col_labels */
  const char *legend;             /* legend title, may be NULL */
  unsigned flags;                 /* DP_HTML_PERCENT, DP_HTML_DIVERGING */
} dp_html_heatmap_spec;

doppel_status dp_html_heatmap(dp_html *h, const dp_html_heatmap_spec *spec);

/* Close the open section and write the whole page (doctype, head with
 * inline CSS, header, table of contents, sections, a footer with
 * footer_text (NULL = none)) to out. h stays valid and must be released. */
doppel_status dp_html_end(dp_html *h, const char *footer_text, dp_buf *out);

/* Append text escaped for HTML text and attribute values: & < > " ' become
 * entities; C0 controls and DEL become the visible control pictures
 * (U+2400..U+2421); C1 controls, noncharacters, bidirectional overrides and
 * invalid UTF-8 become U+FFFD, so no string can break the markup, inject
 * anything, or visually reorder the page. */
doppel_status dp_html_escape(dp_buf *out, const char *s, size_t n);

#endif
