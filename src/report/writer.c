/*
 * writer.c — the report writer (see report/writer.h): HTML calls go to the
 * page builder; Markdown is written here as GitHub-flavoured Markdown with
 * a linked table of contents (GitHub's heading anchors), GFM tables and
 * bullet lists, every untrusted string escaped.
 */
#include "report/writer.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* ---- Markdown output ---- */

static doppel_status mfail(dp_rw *w, doppel_status st) {
  if (w->st == DOPPEL_OK) w->st = st;
  return w->st;
}

static doppel_status mput(dp_rw *w, const char *s) {
  if (w->st != DOPPEL_OK) return w->st;
  doppel_status st = dp_buf_append(&w->body, s, strlen(s));
  return st == DOPPEL_OK ? DOPPEL_OK : mfail(w, st);
}

doppel_status dp_md_escape(dp_buf *out, const char *s, size_t n, int in_table) {
  static const char punct[] = "\\`*_[]<>#~&$!{}";
  doppel_status st = DOPPEL_OK;
  size_t i = 0;
  while (i < n && st == DOPPEL_OK) {
    unsigned char c = (unsigned char)s[i];
    if (c >= 0x20 && c < 0x7F) {
      if (strchr(punct, c) || (c == '|' && in_table)) st = dp_buf_putc(out, '\\');
      if (st == DOPPEL_OK) st = dp_buf_putc(out, (char)c);
      i++;
      continue;
    }
    uint32_t cp;
    size_t len = dp_utf8_next(s + i, n - i, &cp);
    uint32_t shown = (cp == 0xFFFD && len == 1) ? 0xFFFD : dp_display_cp(cp);
    char enc[4];
    st = dp_buf_append(out, enc, dp_utf8_put(shown, enc));
    i += len;
  }
  return st;
}

/* A code span: the text (display-mapped) inside a backtick fence one
 * longer than its longest backtick run; '|' escaped inside tables. */
static doppel_status md_code(dp_rw *w, const char *s) {
  if (w->st != DOPPEL_OK) return w->st;
  size_t n = strlen(s), run = 0, longest = 0;
  for (size_t i = 0; i < n; i++) {
    run = s[i] == '`' ? run + 1 : 0;
    if (run > longest) longest = run;
  }
  char fence[16];
  size_t fl = longest + 1 < sizeof fence ? longest + 1 : sizeof fence - 1;
  memset(fence, '`', fl);
  fence[fl] = '\0';
  int pad = n && (s[0] == '`' || s[n - 1] == '`' || s[0] == ' ');
  doppel_status st = dp_buf_append(&w->body, fence, fl);
  if (st == DOPPEL_OK && pad) st = dp_buf_putc(&w->body, ' ');
  for (size_t i = 0; i < n && st == DOPPEL_OK;) {
    unsigned char c = (unsigned char)s[i];
    if (c >= 0x20 && c < 0x7F) {
      if (c == '|' && w->in_table) st = dp_buf_putc(&w->body, '\\');
      if (st == DOPPEL_OK) st = dp_buf_putc(&w->body, (char)c);
      i++;
      continue;
    }
    uint32_t cp;
    size_t len = dp_utf8_next(s + i, n - i, &cp);
    uint32_t shown = (cp == 0xFFFD && len == 1) ? 0xFFFD : dp_display_cp(cp);
    char enc[4];
    st = dp_buf_append(&w->body, enc, dp_utf8_put(shown, enc));
    i += len;
  }
  if (st == DOPPEL_OK && pad) st = dp_buf_putc(&w->body, ' ');
  if (st == DOPPEL_OK) st = dp_buf_append(&w->body, fence, fl);
  return st == DOPPEL_OK ? DOPPEL_OK : mfail(w, st);
}

static doppel_status mtext(dp_rw *w, const char *s) {
  if (w->st != DOPPEL_OK) return w->st;
  if (!s) s = DP_DASH;
  doppel_status st = dp_md_escape(&w->body, s, strlen(s), w->in_table);
  return st == DOPPEL_OK ? DOPPEL_OK : mfail(w, st);
}

/* End an open paragraph, bullet item or table before a new block. */
static void mclose(dp_rw *w) {
  if (w->in_para) {
    mput(w, "\n\n");
    w->in_para = 0;
  }
  if (w->in_item) {
    mput(w, "\n");
    w->in_item = 0;
  }
  if (w->in_table) dp_rw_table_end(w);
}

/* ---- common ---- */

void dp_rw_init(dp_rw *w, int markdown, size_t max_bytes) {
  memset(w, 0, sizeof *w);
  w->md = markdown;
  dp_html_init(&w->html, max_bytes);
  dp_buf_init(&w->body, max_bytes);
  dp_buf_init(&w->toc, max_bytes);
  dp_buf_init(&w->title, max_bytes);
  w->st = DOPPEL_OK;
}

void dp_rw_release(dp_rw *w) {
  dp_html_release(&w->html);
  dp_buf_release(&w->body);
  dp_buf_release(&w->toc);
  dp_buf_release(&w->title);
}

dp_html *dp_rw_html(dp_rw *w) { return w->md ? NULL : &w->html; }

doppel_status dp_rw_begin(dp_rw *w, const char *title, const char *subtitle) {
  if (!w->md) return dp_html_begin(&w->html, title, subtitle);
  if (w->st != DOPPEL_OK) return w->st;
  doppel_status st = dp_buf_append(&w->title, "# ", 2);
  if (st == DOPPEL_OK) st = dp_md_escape(&w->title, title, strlen(title), 0);
  if (st == DOPPEL_OK) st = dp_buf_append(&w->title, "\n\n", 2);
  if (st == DOPPEL_OK && subtitle) {
    st = dp_md_escape(&w->title, subtitle, strlen(subtitle), 0);
    if (st == DOPPEL_OK) st = dp_buf_append(&w->title, "\n\n", 2);
  }
  return st == DOPPEL_OK ? DOPPEL_OK : mfail(w, st);
}

/* GitHub's anchor of a heading: lower case, spaces to '-', punctuation
 * other than '-' and '_' dropped. Titles here are program text. */
static void md_anchor(const char *title, char *out, size_t size) {
  size_t o = 0;
  for (const char *p = title; *p && o + 1 < size; p++) {
    char c = *p;
    if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
    if (c == ' ') c = '-';
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_') out[o++] = c;
  }
  out[o] = '\0';
}

doppel_status dp_rw_section(dp_rw *w, const char *id, const char *title) {
  if (!w->md) return dp_html_section(&w->html, id, title);
  mclose(w);
  mput(w, "## ");
  mtext(w, title);
  mput(w, "\n\n");
  if (w->st != DOPPEL_OK) return w->st;
  char anchor[128];
  md_anchor(title, anchor, sizeof anchor);
  doppel_status st = dp_buf_append(&w->toc, "- [", 3);
  if (st == DOPPEL_OK) st = dp_md_escape(&w->toc, title, strlen(title), 0);
  if (st == DOPPEL_OK) st = dp_buf_append(&w->toc, "](#", 3);
  if (st == DOPPEL_OK) st = dp_buf_append(&w->toc, anchor, strlen(anchor));
  if (st == DOPPEL_OK) st = dp_buf_append(&w->toc, ")\n", 2);
  return st == DOPPEL_OK ? DOPPEL_OK : mfail(w, st);
}

doppel_status dp_rw_subsection(dp_rw *w, const char *title) {
  if (!w->md) return dp_html_subsection(&w->html, NULL, title);
  mclose(w);
  mput(w, "### ");
  mtext(w, title);
  return mput(w, "\n\n");
}

doppel_status dp_rw_p(dp_rw *w, const char *text) {
  if (!w->md) return dp_html_p(&w->html, text);
  mclose(w);
  mtext(w, text);
  return mput(w, "\n\n");
}

doppel_status dp_rw_note(dp_rw *w, const char *text) {
  if (!w->md) return dp_html_note(&w->html, text);
  mclose(w);
  mput(w, "_");
  mtext(w, text);
  return mput(w, "_\n\n");
}

doppel_status dp_rw_para_begin(dp_rw *w) {
  if (!w->md) return dp_html_raw(&w->html, "<p>");
  mclose(w);
  w->in_para = 1;
  return w->st;
}

doppel_status dp_rw_para_end(dp_rw *w) {
  if (!w->md) return dp_html_raw(&w->html, "</p>\n");
  if (w->in_para) mput(w, "\n\n");
  w->in_para = 0;
  return w->st;
}

doppel_status dp_rw_text(dp_rw *w, const char *text) {
  return w->md ? mtext(w, text) : dp_html_text(&w->html, text);
}

doppel_status dp_rw_textf(dp_rw *w, const char *fmt, ...) {
  char small[1024];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(small, sizeof small, fmt, ap);
  va_end(ap);
  if (n < 0) small[0] = '\0';
  return dp_rw_text(w, small); /* cut at 1 KiB: for short program text with numbers */
}

doppel_status dp_rw_code(dp_rw *w, const char *text) {
  if (!w->md) return dp_html_code(&w->html, text);
  return md_code(w, text ? text : "");
}

doppel_status dp_rw_strong(dp_rw *w, const char *text) {
  if (!w->md) return dp_html_strong(&w->html, text);
  mput(w, "**");
  mtext(w, text);
  return mput(w, "**");
}

doppel_status dp_rw_badge(dp_rw *w, const char *text, const char *kind) {
  if (!w->md) return dp_html_badge(&w->html, text, kind);
  int bold = kind && (!strcmp(kind, "direct") || !strcmp(kind, "error") || !strcmp(kind, "warning"));
  return bold ? dp_rw_strong(w, text) : mtext(w, text);
}

doppel_status dp_rw_meter(dp_rw *w, double fraction) {
  return w->md ? w->st : dp_html_meter(&w->html, fraction);
}

/* ---- figures and definition lists: bullet items in Markdown ---- */

doppel_status dp_rw_figures_begin(dp_rw *w) {
  if (!w->md) return dp_html_figures_begin(&w->html);
  mclose(w);
  return w->st;
}

doppel_status dp_rw_figure(dp_rw *w, const char *label, const char *value, const char *note) {
  if (!w->md) return dp_html_figure(&w->html, label, value, note);
  mput(w, "- **");
  mtext(w, label);
  mput(w, ":** ");
  mtext(w, value);
  if (note) {
    mput(w, " (");
    mtext(w, note);
    mput(w, ")");
  }
  return mput(w, "\n");
}

doppel_status dp_rw_figures_end(dp_rw *w) {
  if (!w->md) return dp_html_figures_end(&w->html);
  return mput(w, "\n");
}

doppel_status dp_rw_dl_begin(dp_rw *w) {
  if (!w->md) return dp_html_dl_begin(&w->html);
  mclose(w);
  return w->st;
}

doppel_status dp_rw_kv_begin(dp_rw *w, const char *key) {
  if (!w->md) return dp_html_kv_begin(&w->html, key);
  mput(w, "- **");
  mtext(w, key);
  mput(w, ":** ");
  w->in_item = 1;
  return w->st;
}

doppel_status dp_rw_kv_end(dp_rw *w) {
  if (!w->md) return dp_html_kv_end(&w->html);
  w->in_item = 0;
  return mput(w, "\n");
}

doppel_status dp_rw_kv(dp_rw *w, const char *key, const char *value) {
  dp_rw_kv_begin(w, key);
  dp_rw_text(w, value);
  return dp_rw_kv_end(w);
}

doppel_status dp_rw_dl_end(dp_rw *w) {
  if (!w->md) return dp_html_dl_end(&w->html);
  return mput(w, "\n");
}

/* ---- tables ---- */

doppel_status dp_rw_table_begin(dp_rw *w, const char *columns) {
  if (!w->md) return dp_html_table_begin(&w->html, columns);
  mclose(w);
  w->in_table = 1;
  w->ncols = 0;
  dp_buf align;
  dp_buf_init(&align, 0);
  const char *c = columns ? columns : "";
  mput(w, "|");
  for (;;) {
    const char *e = strchr(c, '|');
    size_t n = e ? (size_t)(e - c) : strlen(c);
    int num = n > 0 && c[0] == '#';
    mput(w, " ");
    if (w->st == DOPPEL_OK) {
      doppel_status st = dp_md_escape(&w->body, c + num, n - (size_t)num, 1);
      if (st != DOPPEL_OK) mfail(w, st);
    }
    mput(w, " |");
    if (dp_buf_append(&align, num ? " ---: |" : " --- |", num ? 7 : 6) != DOPPEL_OK) mfail(w, DOPPEL_E_NOMEM);
    w->ncols++;
    if (!e) break;
    c = e + 1;
  }
  mput(w, "\n|");
  if (w->st == DOPPEL_OK && align.len) {
    doppel_status st = dp_buf_append(&w->body, align.data, align.len);
    if (st != DOPPEL_OK) mfail(w, st);
  }
  dp_buf_release(&align);
  return mput(w, "\n");
}

doppel_status dp_rw_row_begin(dp_rw *w, const char *row_class) {
  if (!w->md) return dp_html_row_begin(&w->html, row_class);
  if (!w->in_table) return mfail(w, DOPPEL_E_INTERNAL);
  if (w->in_row) dp_rw_row_end(w);
  w->in_row = 1;
  w->col = 0;
  return mput(w, "|");
}

doppel_status dp_rw_td_begin(dp_rw *w) {
  if (!w->md) return dp_html_td_begin(&w->html);
  if (!w->in_row) return mfail(w, DOPPEL_E_INTERNAL);
  w->col++;
  return mput(w, " ");
}

doppel_status dp_rw_td_end(dp_rw *w) {
  if (!w->md) return dp_html_td_end(&w->html);
  return mput(w, " |");
}

doppel_status dp_rw_td(dp_rw *w, const char *text) {
  dp_rw_td_begin(w);
  dp_rw_text(w, text);
  return dp_rw_td_end(w);
}

doppel_status dp_rw_td_shade(dp_rw *w, const char *text, double fraction) {
  if (!w->md) return dp_html_td_shade(&w->html, text, fraction);
  return dp_rw_td(w, text);
}

doppel_status dp_rw_row_end(dp_rw *w) {
  if (!w->md) return dp_html_row_end(&w->html);
  if (!w->in_row) return mfail(w, DOPPEL_E_INTERNAL);
  while (w->col < w->ncols) {
    w->col++;
    mput(w, "  |");
  }
  w->in_row = 0;
  return mput(w, "\n");
}

doppel_status dp_rw_table_end(dp_rw *w) {
  if (!w->md) return dp_html_table_end(&w->html);
  if (w->in_row) dp_rw_row_end(w);
  w->in_table = 0;
  return mput(w, "\n");
}

doppel_status dp_rw_pre(dp_rw *w, const char *text) {
  if (!w->md) return w->html.status;
  mclose(w);
  mput(w, "```text\n");
  for (const char *p = text; *p && w->st == DOPPEL_OK; p++) {
    if (p[0] == '`' && p[1] == '`' && p[2] == '`') { /* never close the fence early */
      mput(w, "'''");
      p += 2;
      continue;
    }
    if (dp_buf_putc(&w->body, *p) != DOPPEL_OK) mfail(w, DOPPEL_E_NOMEM);
  }
  if (text[0] && text[strlen(text) - 1] != '\n') mput(w, "\n");
  return mput(w, "```\n\n");
}

doppel_status dp_rw_end(dp_rw *w, const char *footer_text, dp_buf *out) {
  if (!w->md) return dp_html_end(&w->html, footer_text, out);
  mclose(w);
  if (w->st != DOPPEL_OK) return w->st;
  doppel_status st = DOPPEL_OK;
  if (w->title.len) st = dp_buf_append(out, w->title.data, w->title.len);
  if (st == DOPPEL_OK && w->toc.len) {
    st = dp_buf_append(out, "**Contents**\n\n", 14);
    if (st == DOPPEL_OK) st = dp_buf_append(out, w->toc.data, w->toc.len);
    if (st == DOPPEL_OK) st = dp_buf_append(out, "\n", 1);
  }
  if (st == DOPPEL_OK && w->body.len) st = dp_buf_append(out, w->body.data, w->body.len);
  if (st == DOPPEL_OK && footer_text) {
    st = dp_buf_append(out, "---\n\n_", 6);
    if (st == DOPPEL_OK) st = dp_md_escape(out, footer_text, strlen(footer_text), 0);
    if (st == DOPPEL_OK) st = dp_buf_append(out, "_\n", 2);
  }
  return st == DOPPEL_OK ? DOPPEL_OK : mfail(w, st);
}
