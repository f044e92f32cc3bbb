/*
 * fuzz_dialect.c — libFuzzer target for dialect detection and the canonical
 * event view.
 *
 * The input is lines. Each line that parses as JSON votes in a detector;
 * when the first line does not parse it is taken as a CSV header instead
 * (split on ','), whose names vote too and resolve to column indexes. Then:
 * the detected dialect is a real one (never AUTO or out of range) with a
 * NUL-terminated evidence text that names it; the detector's counts never
 * exceed the records fed; CSV column indexes are in range or SIZE_MAX; and
 * every JSON line is mapped to a canonical event under every dialect's
 * field map: spans lie inside the line, node indexes inside the document,
 * and a failure is DOPPEL_E_TIME or DOPPEL_E_DATA with a message.
 */
#include <doppel/csv.h>
#include <doppel/event.h>
#include <doppel/json.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_span(const doppel_span *s, const char *line, size_t len, const doppel_json_doc *doc) {
  if (!s->ptr) return;
  if (s->ptr < line || s->ptr + s->len > line + len) abort();
  if (s->node != DOPPEL_JSON_NONE && s->node >= doc->count) abort();
}

static void check_event(const char *line, size_t len, const doppel_json_doc *doc) {
  for (int d = DOPPEL_DIALECT_GENERIC; d < DOPPEL_DIALECT_COUNT; d++) {
    doppel_event ev;
    doppel_diag diag;
    memset(&diag, 0, sizeof diag);
    doppel_status st = doppel_event_from_json(doc, doppel_dialect_fields((doppel_dialect)d), &ev, &diag);
    if (st == DOPPEL_OK) {
      check_span(&ev.user_id, line, len, doc);
      check_span(&ev.device_id, line, len, doc);
      check_span(&ev.event, line, len, doc);
      check_span(&ev.session_id, line, len, doc);
      check_span(&ev.insert_id, line, len, doc);
      if (ev.properties != DOPPEL_JSON_NONE && ev.properties >= doc->count) abort();
      if (ev.user_properties != DOPPEL_JSON_NONE && ev.user_properties >= doc->count) abort();
    } else {
      if (st != DOPPEL_E_TIME && st != DOPPEL_E_DATA) abort();
      size_t tl = strnlen(diag.text, sizeof diag.text);
      if (tl == 0 || tl == sizeof diag.text) abort();
    }
  }
}

static void csv_header(doppel_dialect_detector *det, const char *line, size_t len) {
  doppel_csv_field f[64];
  size_t n = 0;
  doppel_diag diag;
  if (doppel_csv_split(line, len, ',', f, 64, &n, &diag) != DOPPEL_OK || n == 0 || n > 64) return;
  char *buf = malloc(len + 1);
  const char *names[64];
  size_t lens[64];
  if (!buf) abort();
  size_t o = 0;
  for (size_t i = 0; i < n; i++) {
    lens[i] = doppel_csv_unquote(line, &f[i], buf + o);
    names[i] = buf + o;
    o += lens[i];
  }
  doppel_dialect_detector_add_names(det, names, lens, n);
  for (int d = DOPPEL_DIALECT_GENERIC; d < DOPPEL_DIALECT_COUNT; d++) {
    doppel_csv_columns c;
    doppel_csv_columns_resolve(doppel_dialect_fields((doppel_dialect)d), names, lens, n, &c);
    const size_t idx[] = {c.user_id, c.user_id_alt, c.device_id, c.event, c.time, c.session_id, c.insert_id};
    for (size_t k = 0; k < sizeof idx / sizeof idx[0]; k++)
      if (idx[k] != SIZE_MAX && idx[k] >= n) abort();
  }
  free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *s = (const char *)data;
  doppel_dialect_detector det;
  doppel_dialect_detector_init(&det);
  doppel_json_doc doc;
  doppel_json_doc_init(&doc);
  uint32_t fed = 0;
  size_t pos = 0;
  for (int lineno = 0; pos < size && lineno < 64; lineno++) {
    const char *nl = memchr(s + pos, '\n', size - pos);
    size_t len = nl ? (size_t)(nl - (s + pos)) : size - pos;
    const char *line = s + pos;
    doppel_diag diag;
    if (doppel_json_parse(&doc, line, len, &diag) == DOPPEL_OK) {
      doppel_dialect_detector_add_json(&det, &doc);
      fed++;
      check_event(line, len, &doc);
    } else if (lineno == 0) {
      csv_header(&det, line, len);
      fed++;
    }
    pos += len + 1;
  }
  doppel_json_doc_release(&doc);
  if (det.records > fed) abort();
  for (int d = 0; d < DOPPEL_DIALECT_COUNT; d++)
    if (det.score[d] > det.records) abort();
  char evidence[256];
  memset(evidence, 'x', sizeof evidence);
  doppel_dialect r = doppel_dialect_detector_result(&det, evidence, sizeof evidence);
  if (r <= DOPPEL_DIALECT_AUTO || r >= DOPPEL_DIALECT_COUNT) abort();
  if (!memchr(evidence, '\0', sizeof evidence)) abort();
  const char *name = doppel_dialect_name(r);
  if (!name || (evidence[0] && strncmp(evidence, name, strlen(name)) != 0 && !strstr(evidence, name))) abort();
  return 0;
}
