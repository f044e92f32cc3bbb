/*
 * test_html.h — checks of a generated HTML page shared by the tests of the
 * pages (test_report.c, test_compare.c): well-formed (tags nest, entities,
 * no control or bidirectional characters) and self-contained (nothing that
 * loads or runs anything, the Content-Security-Policy meta tag present).
 * Include after <cmocka.h>.
 */
#ifndef DOPPEL_TEST_HTML_H
#define DOPPEL_TEST_HTML_H

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Self-contained: no element that loads or runs anything, no attribute
 * that does (src, srcset, event handlers, xlink), links only to in-page
 * anchors, no imports, fonts or url() in CSS, and (unless a value in the
 * profile is a URL, shown as text) no URL at all. */
static inline void assert_self_contained(const char *html, int allow_url_text) {
  static const char *const tags[] = {"script", "link", "img", "iframe", "frame", "object", "embed", "form",
                                     "base", "audio", "video", "source", "image", "use", "foreignobject",
                                     "input", "button", "meta http-equiv=\"refresh"};
  for (const char *p = html; (p = strchr(p, '<')); p++) {
    const char *e = strchr(p, '>');
    assert_non_null(e);
    const char *t = p + 1 + (p[1] == '/');
    for (size_t i = 0; i < sizeof tags / sizeof tags[0]; i++) {
      size_t n = strlen(tags[i]);
      if (!strncasecmp(t, tags[i], n) && !isalnum((unsigned char)t[n])) fail_msg("a <%s> element", tags[i]);
    }
    for (const char *q = p; q < e; q++) {
      if (*q != ' ') continue;
      const char *a = q + 1, *z = a;
      while (z < e && (isalnum((unsigned char)*z) || *z == '-' || *z == ':')) z++;
      if (*z != '=' || z == a) continue;
      if (!strncasecmp(a, "on", 2)) fail_msg("event handler attribute: %.*s", (int)(z - a), a);
      if (!strncasecmp(a, "src", 3) || !strncasecmp(a, "xlink", 5) || !strncasecmp(a, "action", 6) ||
          !strncasecmp(a, "formaction", 10) || !strncasecmp(a, "poster", 6) || !strncasecmp(a, "data=", 5))
        fail_msg("resource attribute: %.*s", (int)(z - a), a);
      if (!strncasecmp(a, "href=", 5) && z[1] == '"' && z[2] != '#') fail_msg("a link out of the page: %.40s", a);
      if (!strncasecmp(a, "style=", 6)) {
        const char *v = z + 2, *ve = strchr(v, '"');
        for (const char *u = v; u && u < ve; u++)
          if (!strncasecmp(u, "url(", 4) || !strncasecmp(u, "expression(", 11)) fail_msg("url() in a style attribute");
      }
    }
    if (!strncmp(p, "<style>", 7)) {
      const char *end = strstr(p, "</style>");
      assert_non_null(end);
      for (const char *u = p; u < end; u++)
        if (!strncasecmp(u, "@import", 7) || !strncasecmp(u, "url(", 4) || !strncasecmp(u, "@font-face", 10))
          fail_msg("the style sheet loads something: %.20s", u);
    }
    p = e;
  }
  if (!allow_url_text) {
    assert_null(strstr(html, "http://"));
    assert_null(strstr(html, "https://"));
    assert_null(strstr(html, "//"  "www."));
  }
  assert_non_null(strstr(html, "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "));
}

static inline int is_void(const char *tag) {
  static const char *const v[] = {"meta", "br", "wbr", "hr", "img", "input", "link", "col", "area", "base", "source"};
  for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
    if (!strcmp(tag, v[i])) return 1;
  return 0;
}

/* Well-formed: every '<' opens a tag (or the doctype), tags nest, attribute
 * values are double-quoted without '<', every '&' starts an entity, no
 * control characters but newline, no bidirectional override bytes. */
static inline void assert_well_formed(const char *html) {
  char stack[256][16];
  int depth = 0;
  assert_int_equal(strncmp(html, "<!DOCTYPE html>\n", 16), 0);
  for (const unsigned char *p = (const unsigned char *)html; *p; p++) {
    if (*p < 0x20 && *p != '\n') fail_msg("control byte 0x%02x at offset %ld", *p, (long)(p - (const unsigned char *)html));
    if (p[0] == 0xE2 && p[1] == 0x80 && p[2] >= 0xAA && p[2] <= 0xAE) fail_msg("bidirectional override in output");
    if (*p == '&') {
      const unsigned char *q = p + 1;
      if (*q == '#') q++;
      while (isalnum(*q)) q++;
      if (*q != ';' || q == p + 1) fail_msg("bare '&' near: %.40s", (const char *)p);
      continue;
    }
    if (*p != '<') continue;
    if (!strncmp((const char *)p, "<!DOCTYPE", 9)) {
      p = (const unsigned char *)strchr((const char *)p, '>');
      continue;
    }
    int closing = p[1] == '/';
    const unsigned char *n = p + 1 + closing;
    char tag[16];
    size_t tl = 0;
    while ((isalnum(*n) || *n == '-') && tl + 1 < sizeof tag) tag[tl++] = (char)tolower(*n++);
    tag[tl] = '\0';
    if (!tl) fail_msg("'<' that opens no tag near: %.40s", (const char *)p);
    /* attributes */
    const unsigned char *q = n;
    int self = 0;
    while (*q && *q != '>') {
      if (*q == '"') {
        q++;
        while (*q && *q != '"') {
          if (*q == '<') fail_msg("'<' inside an attribute value of <%s>", tag);
          q++;
        }
        if (!*q) fail_msg("unterminated attribute in <%s>", tag);
      } else if (*q == '\'') {
        fail_msg("single-quoted attribute in <%s>", tag);
      } else if (*q == '/' && q[1] == '>') {
        self = 1;
      }
      q++;
    }
    if (!*q) fail_msg("unterminated tag <%s>", tag);
    if (closing) {
      if (depth == 0 || strcmp(stack[depth - 1], tag) != 0)
        fail_msg("</%s> closes <%s>", tag, depth ? stack[depth - 1] : "(nothing)");
      depth--;
    } else if (!self && !is_void(tag)) {
      if (depth >= 256) fail_msg("nesting too deep");
      snprintf(stack[depth++], sizeof stack[0], "%s", tag);
      if (!strcmp(tag, "style") || !strcmp(tag, "title")) { /* raw text up to the end tag */
        char end[24];
        snprintf(end, sizeof end, "</%s>", tag);
        const char *e = strstr((const char *)q, end);
        assert_non_null(e);
        if (!strcmp(tag, "title")) {
          for (const char *t = (const char *)q + 1; t < e; t++)
            if (*t == '<') fail_msg("'<' inside <title>");
        }
        q = (const unsigned char *)e - 1;
      }
    }
    p = q;
  }
  if (depth) fail_msg("<%s> never closed", stack[depth - 1]);
}

#endif
