/*
 * fuzz_compare.c — libFuzzer target for scoring profiles: any bytes that
 * parse as JSON are scored against themselves and against a small fixed
 * profile in both directions, and every report is rendered as text and
 * HTML. Scoring never crashes, every distance is in [0, 1], a document
 * scored against itself has distance 0 in every available dimension; the
 * HTML page (the shared page builder) never holds a <script> tag, a
 * control byte or a '<' that opens no tag, has its Content-Security-Policy,
 * and a second rendering gives the same bytes.
 */
#include <doppel/compare.h>

#include <ctype.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char fixed[] =
    "{\"format\":\"doppel-profile/1\",\"population\":{\"users\":{\"estimate\":100},"
    "\"events_per_user\":{\"n\":100,\"integer\":true,\"q\":[1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,"
    "1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,3,3,3,3,3,3,3,3,3,3,"
    "4,4,4,4,4,4,4,4,4,5,5,5,5,5,6,6,7,8,9,12]}},"
    "\"events\":{\"total\":300,\"suppressed\":{\"events\":10},\"list\":[{\"name\":\"view\",\"count\":200,"
    "\"users\":90,\"session_first_share\":0.7,\"next\":{\"view\":0.5,\"buy\":0.2,\"$end\":0.3},\"next_n\":200},"
    "{\"name\":\"buy\",\"count\":90,\"next\":{\"$end\":1}}]},"
    "\"sessions\":{\"count\":150,\"inter_event_s\":{\"min\":0,\"max\":600}},"
    "\"time\":{\"retention\":{\"day\":{\"n\":[0,1],\"share\":[1,0.2],\"users\":[100,90]}}},"
    "\"properties\":[{\"event\":\"view\",\"path\":\"properties.plan\",\"values\":{\"n\":200,\"top\":["
    "{\"value\":\"free\",\"share\":0.6}],\"other\":0.4},\"constancy\":{\"user\":0.9}}]}";

static void check(const json_t *r, int self) {
  const json_t *dims = json_object_get(r, "dimensions");
  for (size_t i = 0; i < json_array_size(dims); i++) {
    const json_t *d = json_array_get(dims, i);
    if (!json_is_true(json_object_get(d, "available"))) continue;
    double x = json_number_value(json_object_get(d, "distance"));
    if (!(x >= 0 && x <= 1)) abort();
    if (self && x != 0) abort();
  }
  char *t = doppel_compare_format_text(r), *h = doppel_compare_format_html(r), *h2 = doppel_compare_format_html(r);
  if (!t || !h || !h2 || strcmp(h, h2) != 0) abort();
  if (!strstr(h, "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none';")) abort();
  for (const char *p = h; *p; p++) {
    unsigned char c = (unsigned char)*p;
    if (c < 0x20 && c != '\n') abort();
    if (c == '<') {
      unsigned char d = (unsigned char)p[1];
      if (!(isalpha(d) || d == '/' || d == '!')) abort();
      if (!strncasecmp(p + 1, "script", 6)) abort();
    }
  }
  free(t);
  free(h);
  free(h2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  json_error_t je;
  json_t *doc = json_loadb((const char *)data, size, 0, &je);
  if (!doc) return 0;
  json_t *f = json_loads(fixed, 0, &je);
  if (!f) abort();
  const json_t *pairs[3][2] = {{doc, doc}, {doc, f}, {f, doc}};
  for (int i = 0; i < 3; i++) {
    json_t *r = NULL;
    doppel_status st = doppel_compare_profiles(pairs[i][0], pairs[i][1], NULL, &r, NULL);
    if (st == DOPPEL_OK) {
      check(r, i == 0);
      json_decref(r);
    } else if (r || (st != DOPPEL_E_DATA && st != DOPPEL_E_NOMEM)) {
      abort();
    }
  }
  json_decref(f);
  json_decref(doc);
  return 0;
}
