/*
 * report/writer.h — one document interface over two outputs, so the report
 * content is written once: HTML through the page builder (report/html.h),
 * or GitHub-flavoured Markdown (headings, a linked table of contents, GFM
 * tables, bullet lists, code spans).
 *
 * Same rules as the page builder: `text` arguments are untrusted UTF-8 and
 * are escaped for the output (Markdown: backslash escapes for punctuation,
 * `|` escaped inside tables, code spans with a long enough fence; control
 * and bidirectional characters replaced as in dp_html_escape). The first
 * error is kept in the writer and ends all output; dp_rw_end() returns it.
 * Charts exist only in HTML: callers test dp_rw_html() and give Markdown a
 * table or a text grid instead.
 */
#ifndef DP_REPORT_WRITER_H
#define DP_REPORT_WRITER_H

#include "report/html.h"

typedef struct dp_rw {
  int md;              /* 1 = Markdown, 0 = HTML */
  dp_html html;        /* the HTML page (md == 0) */
  dp_buf body;         /* Markdown body (md == 1) */
  dp_buf toc;          /* Markdown table of contents */
  dp_buf title;        /* Markdown title line(s) */
  doppel_status st;    /* first Markdown error */
  int in_table;        /* Markdown: a table is open */
  unsigned ncols;      /* Markdown: columns of the open table */
  unsigned col;        /* Markdown: cells written in the open row */
  int in_row;          /* Markdown: a row is open */
  int in_item;         /* Markdown: a bullet item is open (kv or figure) */
  int in_para;         /* Markdown: a paragraph is open */
} dp_rw;

void dp_rw_init(dp_rw *w, int markdown, size_t max_bytes);
void dp_rw_release(dp_rw *w);
/* The page builder when writing HTML, else NULL (for charts). */
dp_html *dp_rw_html(dp_rw *w);

doppel_status dp_rw_begin(dp_rw *w, const char *title, const char *subtitle);
doppel_status dp_rw_section(dp_rw *w, const char *id, const char *title);
doppel_status dp_rw_subsection(dp_rw *w, const char *title);
doppel_status dp_rw_p(dp_rw *w, const char *text);
doppel_status dp_rw_note(dp_rw *w, const char *text);
/* A paragraph of inline content. */
doppel_status dp_rw_para_begin(dp_rw *w);
doppel_status dp_rw_para_end(dp_rw *w);

/* Inline content (paragraph, cell, definition). */
doppel_status dp_rw_text(dp_rw *w, const char *text);
doppel_status dp_rw_textf(dp_rw *w, const char *fmt, ...) DP_HTML_PRINTF(2, 3);
doppel_status dp_rw_code(dp_rw *w, const char *text);
doppel_status dp_rw_strong(dp_rw *w, const char *text);
/* HTML: a badge (kinds as dp_html_badge); Markdown: bold for direct,
 * error and warning, plain text otherwise. */
doppel_status dp_rw_badge(dp_rw *w, const char *text, const char *kind);
/* HTML only: a small meter (nothing in Markdown). */
doppel_status dp_rw_meter(dp_rw *w, double fraction);

doppel_status dp_rw_figures_begin(dp_rw *w);
doppel_status dp_rw_figure(dp_rw *w, const char *label, const char *value, const char *note);
doppel_status dp_rw_figures_end(dp_rw *w);

doppel_status dp_rw_dl_begin(dp_rw *w);
doppel_status dp_rw_kv(dp_rw *w, const char *key, const char *value);
doppel_status dp_rw_kv_begin(dp_rw *w, const char *key);
doppel_status dp_rw_kv_end(dp_rw *w);
doppel_status dp_rw_dl_end(dp_rw *w);

/* Tables: columns as for dp_html_table_begin ('|'-separated, '#' = numeric). */
doppel_status dp_rw_table_begin(dp_rw *w, const char *columns);
doppel_status dp_rw_row_begin(dp_rw *w, const char *row_class);
doppel_status dp_rw_td(dp_rw *w, const char *text);
/* HTML: a cell shaded by fraction (dp_html_td_shade); Markdown: plain. */
doppel_status dp_rw_td_shade(dp_rw *w, const char *text, double fraction);
doppel_status dp_rw_td_begin(dp_rw *w);
doppel_status dp_rw_td_end(dp_rw *w);
doppel_status dp_rw_row_end(dp_rw *w);
doppel_status dp_rw_table_end(dp_rw *w);

/* Markdown only: a fenced code block of preformatted lines (the caller's
 * text must be display-safe: it is copied as is, minus any backtick fence). */
doppel_status dp_rw_pre(dp_rw *w, const char *text);

/* The whole document into out (appended). Returns the first error. */
doppel_status dp_rw_end(dp_rw *w, const char *footer_text, dp_buf *out);

/* Append text with Markdown punctuation escaped (in_table: also '|'). */
doppel_status dp_md_escape(dp_buf *out, const char *s, size_t n, int in_table);

#endif
