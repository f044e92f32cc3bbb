/*
 * chtml.c — a small HTML writer for the compare scorecard: raw markup,
 * escaped text (& < > " '), formatted markup, and elements with escaped
 * content, into one growing buffer. An allocation failure is remembered
 * and turns the result into NULL, so callers need not check every call.
 * (A shared page builder for `report` and `compare` is planned; this one
 * stays minimal until then.)
 */
#include "compare/compare_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void dp_chtml_init(dp_chtml *h) {
  dp_buf_init(&h->b, 0);
  h->failed = 0;
}

static void put(dp_chtml *h, const char *s, size_t n) {
  if (!h->failed && dp_buf_append(&h->b, s, n) != DOPPEL_OK) h->failed = 1;
}

void dp_chtml_raw(dp_chtml *h, const char *s) { put(h, s, strlen(s)); }

void dp_chtml_text(dp_chtml *h, const char *s) {
  const char *run = s;
  for (; *s; s++) {
    const char *rep = NULL;
    switch (*s) {
      case '&': rep = "&amp;"; break;
      case '<': rep = "&lt;"; break;
      case '>': rep = "&gt;"; break;
      case '"': rep = "&quot;"; break;
      case '\'': rep = "&#39;"; break;
      default: break;
    }
    if (!rep) continue;
    put(h, run, (size_t)(s - run));
    dp_chtml_raw(h, rep);
    run = s + 1;
  }
  put(h, run, (size_t)(s - run));
}

void dp_chtml_printf(dp_chtml *h, const char *fmt, ...) {
  char buf[512];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  if (n < 0) {
    h->failed = 1;
    return;
  }
  if ((size_t)n < sizeof buf) {
    put(h, buf, (size_t)n);
    return;
  }
  char *big = malloc((size_t)n + 1);
  if (!big) {
    h->failed = 1;
    return;
  }
  va_start(ap, fmt);
  vsnprintf(big, (size_t)n + 1, fmt, ap);
  va_end(ap);
  put(h, big, (size_t)n);
  free(big);
}

void dp_chtml_elem(dp_chtml *h, const char *tag, const char *cls, const char *text) {
  if (cls) dp_chtml_printf(h, "<%s class=\"%s\">", tag, cls);
  else dp_chtml_printf(h, "<%s>", tag);
  dp_chtml_text(h, text ? text : "");
  dp_chtml_printf(h, "</%s>", tag);
}

char *dp_chtml_finish(dp_chtml *h) {
  if (!h->failed && dp_buf_terminate(&h->b) == DOPPEL_OK) {
    char *s = h->b.data;
    h->b.data = NULL;
    dp_buf_release(&h->b);
    return s ? s : calloc(1, 1);
  }
  dp_buf_release(&h->b);
  return NULL;
}
