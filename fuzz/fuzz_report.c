/*
 * fuzz_report.c — libFuzzer target for the report renderer.
 *
 * The input is read as JSON; an object gets "format": "doppel-profile/1"
 * (so the fuzzer explores the renderer, not the format check). Rendering
 * either succeeds or fails with DOPPEL_E_DATA and a message. A rendered
 * HTML page never holds a <script> tag, a control byte or a '<' that opens
 * no tag, Markdown never a control byte, and a second rendering gives the
 * same bytes.
 */
#include <doppel/report.h>

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_text(const char *s, size_t n, int html) {
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c < 0x20 && c != '\n') abort();
    if (html && c == '<') {
      unsigned char d = (unsigned char)s[i + 1];
      if (!(isalpha(d) || d == '/' || d == '!')) abort();
      if (!strncasecmp(s + i + 1, "script", 6)) abort();
    }
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  json_t *doc = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
  if (!doc) return 0;
  if (json_is_object(doc)) json_object_set_new(doc, "format", json_string("doppel-profile/1"));
  for (int f = 0; f < 2; f++) {
    doppel_report_options o = {(doppel_report_format)f, "fuzz.json", 0};
    char *a = NULL, *b = NULL;
    size_t na = 0, nb = 0;
    doppel_diag d;
    doppel_diag_clear(&d);
    doppel_status st = doppel_report_render(doc, &o, &a, &na, &d);
    if (st != DOPPEL_OK) {
      if (a || (st != DOPPEL_E_DATA && st != DOPPEL_E_NOMEM && st != DOPPEL_E_LIMIT) || !d.text[0]) abort();
      continue;
    }
    if (!a || strlen(a) != na) abort();
    check_text(a, na, f == 0);
    if (doppel_report_render(doc, &o, &b, &nb, &d) != DOPPEL_OK || nb != na || memcmp(a, b, na) != 0) abort();
    free(a);
    free(b);
  }
  json_decref(doc);
  return 0;
}
