/*
 * test_event.c — dialect names and field maps, the dialect detector (JSON
 * records and CSV headers) and the canonical event view, over the small
 * fixtures in fixtures/dialects/ and, when present, the shared real data
 * (skipped cleanly when DOPPEL_SHARED_DATA does not exist).
 *
 * Expected times were computed independently with Python 3 datetime.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <doppel/event.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#ifndef DOPPEL_SOURCE_DIR
#define DOPPEL_SOURCE_DIR "."
#endif
#ifndef DOPPEL_SHARED_DATA
#define DOPPEL_SHARED_DATA DOPPEL_SOURCE_DIR "/../shared/data"
#endif

/* ---- helpers --------------------------------------------------------------- */

typedef struct lines {
  char *data;    /* whole file */
  char **line;   /* starts */
  size_t *len;   /* lengths without '\n' */
  size_t n;
} lines;

static void lines_load(lines *ls, const char *rel) {
  char path[1024];
  snprintf(path, sizeof path, "%s/fixtures/dialects/%s", DOPPEL_SOURCE_DIR, rel);
  FILE *f = fopen(path, "rb");
  if (!f) {
    print_error("cannot open %s\n", path);
    fail();
  }
  fseek(f, 0, SEEK_END);
  long sz = ftell(f);
  fseek(f, 0, SEEK_SET);
  ls->data = malloc((size_t)sz + 1);
  assert_non_null(ls->data);
  assert_int_equal(fread(ls->data, 1, (size_t)sz, f), (size_t)sz);
  fclose(f);
  ls->data[sz] = '\0';
  ls->line = calloc((size_t)sz + 1, sizeof *ls->line);
  ls->len = calloc((size_t)sz + 1, sizeof *ls->len);
  ls->n = 0;
  char *p = ls->data, *e = ls->data + sz;
  while (p < e) {
    char *nl = memchr(p, '\n', (size_t)(e - p));
    if (!nl) nl = e;
    if (nl > p) {
      ls->line[ls->n] = p;
      ls->len[ls->n] = (size_t)(nl - p);
      ls->n++;
    }
    p = nl + 1;
  }
}

static void lines_free(lines *ls) {
  free(ls->data);
  free(ls->line);
  free(ls->len);
}

static void parse_ok(doppel_json_doc *doc, const char *s, size_t n) {
  doppel_diag diag;
  doppel_diag_clear(&diag);
  doppel_status st = doppel_json_parse(doc, s, n, &diag);
  if (st != DOPPEL_OK) {
    print_error("json parse failed: %s at column %llu\n", diag.text,
                (unsigned long long)diag.column);
    fail();
  }
}

static void assert_span(const doppel_span *sp, const char *want) {
  if (!sp->ptr || sp->len != strlen(want) || memcmp(sp->ptr, want, sp->len) != 0) {
    print_error("span '%.*s' (ptr %p), expected '%s'\n", sp->ptr ? (int)sp->len : 0,
                sp->ptr ? sp->ptr : "", (const void *)sp->ptr, want);
    fail();
  }
}

static void assert_absent(const doppel_span *sp) {
  assert_null(sp->ptr);
  assert_int_equal(sp->len, 0);
}

static uint8_t node_type(const doppel_json_doc *doc, uint32_t i) {
  assert_true(i != DOPPEL_JSON_NONE && i < doc->count);
  return doc->nodes[i].type;
}

/* Detect a fixture file's dialect; returns it and leaves evidence in ev_text. */
static doppel_dialect detect_file(const lines *ls, char *ev_text, size_t ev_size) {
  doppel_json_doc doc;
  doppel_json_doc_init(&doc);
  doppel_dialect_detector det;
  doppel_dialect_detector_init(&det);
  for (size_t i = 0; i < ls->n; i++) {
    parse_ok(&doc, ls->line[i], ls->len[i]);
    doppel_dialect_detector_add_json(&det, &doc);
  }
  doppel_json_doc_release(&doc);
  assert_int_equal(det.records, ls->n);
  return doppel_dialect_detector_result(&det, ev_text, ev_size);
}

/* Parse record i of ls and extract its event with the dialect's map. */
static void event_of(const lines *ls, size_t i, doppel_dialect d, doppel_json_doc *doc,
                     doppel_event *ev) {
  parse_ok(doc, ls->line[i], ls->len[i]);
  doppel_diag diag;
  doppel_diag_clear(&diag);
  doppel_status st = doppel_event_from_json(doc, doppel_dialect_fields(d), ev, &diag);
  if (st != DOPPEL_OK) {
    print_error("record %zu: %s: %s\n", i, doppel_status_name(st), diag.text);
    fail();
  }
}

/* ---- names and maps ------------------------------------------------------------ */

static void test_names(void **state) {
  (void)state;
  assert_string_equal(doppel_dialect_name(DOPPEL_DIALECT_AUTO), "auto");
  assert_string_equal(doppel_dialect_name(DOPPEL_DIALECT_GENERIC), "generic");
  assert_string_equal(doppel_dialect_name(DOPPEL_DIALECT_AMPLITUDE), "amplitude");
  assert_string_equal(doppel_dialect_name(DOPPEL_DIALECT_SEGMENT), "segment");
  assert_string_equal(doppel_dialect_name(DOPPEL_DIALECT_MIXPANEL), "mixpanel");
  assert_string_equal(doppel_dialect_name(DOPPEL_DIALECT_GA4), "ga4");
  assert_non_null(doppel_dialect_name(DOPPEL_DIALECT_COUNT));
  for (unsigned d = 0; d < DOPPEL_DIALECT_COUNT; d++)
    assert_int_equal(doppel_dialect_parse(doppel_dialect_name((doppel_dialect)d)), d);
  assert_int_equal(doppel_dialect_parse("Amplitude"), DOPPEL_DIALECT_AMPLITUDE);
  assert_int_equal(doppel_dialect_parse("GA4"), DOPPEL_DIALECT_GA4);
  assert_int_equal(doppel_dialect_parse("AUTO"), DOPPEL_DIALECT_AUTO);
  assert_int_equal(doppel_dialect_parse("segmentx"), DOPPEL_DIALECT_COUNT);
  assert_int_equal(doppel_dialect_parse("seg"), DOPPEL_DIALECT_COUNT);
  assert_int_equal(doppel_dialect_parse(""), DOPPEL_DIALECT_COUNT);
  assert_int_equal(doppel_dialect_parse(NULL), DOPPEL_DIALECT_COUNT);
}

static void test_field_maps(void **state) {
  (void)state;
  for (unsigned d = 0; d <= DOPPEL_DIALECT_COUNT; d++) {
    const doppel_field_map *m = doppel_dialect_fields((doppel_dialect)d);
    assert_non_null(m);
    assert_non_null(m->ip_fields);
    assert_non_null(m->event);
    assert_non_null(m->time);
  }
  const doppel_field_map *g = doppel_dialect_fields(DOPPEL_DIALECT_GENERIC);
  const doppel_field_map *a = doppel_dialect_fields(DOPPEL_DIALECT_AUTO);
  assert_string_equal(a->event, g->event);
  assert_string_equal(g->user_id, "user_id");
  assert_string_equal(g->ip_fields[0], "ip");
  assert_string_equal(g->ip_fields[1], "ip_address");
  assert_string_equal(g->ip_fields[2], "context.ip");
  assert_string_equal(g->ip_fields[3], "properties.ip");
  assert_null(g->ip_fields[4]);
  const doppel_field_map *amp = doppel_dialect_fields(DOPPEL_DIALECT_AMPLITUDE);
  assert_string_equal(amp->event, "event_type");
  assert_string_equal(amp->time, "event_time");
  assert_string_equal(amp->insert_id, "$insert_id");
  assert_string_equal(amp->ip_fields[0], "ip_address");
  assert_null(amp->ip_fields[1]);
  const doppel_field_map *seg = doppel_dialect_fields(DOPPEL_DIALECT_SEGMENT);
  assert_string_equal(seg->user_id, "userId");
  assert_string_equal(seg->device_id, "anonymousId");
  assert_string_equal(seg->user_properties, "context.traits");
  assert_string_equal(seg->ip_fields[0], "context.ip");
  const doppel_field_map *mp = doppel_dialect_fields(DOPPEL_DIALECT_MIXPANEL);
  assert_string_equal(mp->user_id, "properties.distinct_id");
  assert_string_equal(mp->time, "properties.time");
  assert_null(mp->user_properties);
  assert_string_equal(mp->ip_fields[0], "properties.ip");
  const doppel_field_map *ga = doppel_dialect_fields(DOPPEL_DIALECT_GA4);
  assert_string_equal(ga->user_id, "user_id");
  assert_string_equal(ga->user_id_alt, "user_pseudo_id");
  assert_string_equal(ga->event, "event_name");
  assert_null(ga->insert_id);
  assert_null(ga->ip_fields[0]);
}

/* ---- per-dialect fixtures --------------------------------------------------------- */

static void test_amplitude(void **state) {
  (void)state;
  lines ls;
  lines_load(&ls, "amplitude.jsonl");
  assert_true(ls.n >= 3);
  char evidence[256];
  assert_int_equal(detect_file(&ls, evidence, sizeof evidence), DOPPEL_DIALECT_AMPLITUDE);
  assert_non_null(strstr(evidence, "amplitude:"));
  assert_non_null(strstr(evidence, "event_type"));
  assert_non_null(strstr(evidence, "event_time"));
  assert_non_null(strstr(evidence, "event_properties"));
  assert_non_null(strstr(evidence, "amplitude_id"));
  assert_non_null(strstr(evidence, "in 3/3 records"));

  doppel_json_doc doc;
  doppel_json_doc_init(&doc);
  doppel_event ev;
  event_of(&ls, 0, DOPPEL_DIALECT_AMPLITUDE, &doc, &ev);
  assert_span(&ev.user_id, "user-1042");
  assert_span(&ev.device_id, "8f1c2a4e-5d6b-4c7a-9e8f-0a1b2c3d4e5f");
  assert_span(&ev.event, "checkout_completed");
  assert_span(&ev.session_id, "1704795800000");
  assert_int_equal(node_type(&doc, ev.session_id.node), DOPPEL_JSON_NUMBER);
  assert_span(&ev.insert_id, "5f0c3e1a-9b2d-4c4e-8f7a-1d2e3f4a5b6c");
  assert_int_equal(ev.has_time, 1);
  assert_true(ev.time_us == INT64_C(1704795825123456));
  assert_int_equal(ev.time_unit, DOPPEL_TIME_TEXT);
  assert_int_equal(node_type(&doc, ev.properties), DOPPEL_JSON_OBJECT);
  assert_int_equal(node_type(&doc, ev.user_properties), DOPPEL_JSON_OBJECT);
  assert_non_null(strstr(doc.src + doc.nodes[ev.properties].start, "\"cart_value\""));
  /* the ip field of the map resolves */
  const doppel_field_map *m = doppel_dialect_fields(DOPPEL_DIALECT_AMPLITUDE);
  uint32_t ip = doppel_json_lookup(&doc, 0, m->ip_fields[0]);
  assert_int_equal(node_type(&doc, ip), DOPPEL_JSON_STRING);

  event_of(&ls, 1, DOPPEL_DIALECT_AMPLITUDE, &doc, &ev);
  assert_absent(&ev.user_id); /* "user_id": null */
  assert_true(ev.user_id.node != DOPPEL_JSON_NONE);
  assert_span(&ev.device_id, "c2d3e4f5-a6b7-4c8d-9e0f-1a2b3c4d5e6f");
  assert_span(&ev.event, "session_start");
  assert_span(&ev.session_id, "-1");
  assert_true(ev.time_us == INT64_C(1704798000000000));

  event_of(&ls, 2, DOPPEL_DIALECT_AMPLITUDE, &doc, &ev);
  assert_span(&ev.event, "Song Played \xe2\x99\xab"); /* raw UTF-8 passes through */
  assert_int_equal(ev.event.escaped, 0);
  assert_true(ev.time_us == INT64_C(1704795902500000));
  doppel_json_doc_release(&doc);
  lines_free(&ls);
}

static void test_segment(void **state) {
  (void)state;
  lines ls;
  lines_load(&ls, "segment.jsonl");
  char evidence[256];
  assert_int_equal(detect_file(&ls, evidence, sizeof evidence), DOPPEL_DIALECT_SEGMENT);
  assert_non_null(strstr(evidence, "segment:"));
  assert_non_null(strstr(evidence, "userId"));
  assert_non_null(strstr(evidence, "messageId"));
  assert_non_null(strstr(evidence, "timestamp"));
  assert_non_null(strstr(evidence, "\"track\""));
  assert_non_null(strstr(evidence, "in 3/3 records"));

  doppel_json_doc doc;
  doppel_json_doc_init(&doc);
  doppel_event ev;
  event_of(&ls, 0, DOPPEL_DIALECT_SEGMENT, &doc, &ev);
  assert_span(&ev.user_id, "u_7f3a9c");
  assert_span(&ev.device_id, "507f191e-810c-49a7-a9ab-8c1b2d3e4f5a");
  assert_span(&ev.event, "Order Completed");
  assert_span(&ev.session_id, "1704795800"); /* context.sessionId */
  assert_span(&ev.insert_id, "ajs-next-1704795825123-6d2e0c4b");
  assert_true(ev.time_us == INT64_C(1704795825123000));
  assert_int_equal(node_type(&doc, ev.properties), DOPPEL_JSON_OBJECT);
  assert_int_equal(node_type(&doc, ev.user_properties), DOPPEL_JSON_OBJECT); /* context.traits */
  assert_int_equal(node_type(&doc, doppel_json_lookup(&doc, ev.user_properties, "email")),
                   DOPPEL_JSON_STRING);

  event_of(&ls, 1, DOPPEL_DIALECT_SEGMENT, &doc, &ev); /* identify: no event name */
  assert_span(&ev.user_id, "u_7f3a9c");
  assert_absent(&ev.device_id);
  assert_absent(&ev.event);
  assert_int_equal(ev.event.node, DOPPEL_JSON_NONE);
  assert_absent(&ev.session_id);
  assert_true(ev.time_us == INT64_C(1704795900000000));
  assert_int_equal(ev.properties, DOPPEL_JSON_NONE);

  event_of(&ls, 2, DOPPEL_DIALECT_SEGMENT, &doc, &ev);
  assert_absent(&ev.user_id);
  assert_span(&ev.device_id, "anon-\\\"quoted\\\"-id"); /* raw, still escaped */
  assert_int_equal(ev.device_id.escaped, 1);
  assert_int_equal(ev.event.escaped, 0);
  assert_true(ev.time_us == INT64_C(1704814200500000));
  doppel_json_doc_release(&doc);
  lines_free(&ls);
}

static void test_mixpanel(void **state) {
  (void)state;
  lines ls;
  lines_load(&ls, "mixpanel.jsonl");
  char evidence[256];
  assert_int_equal(detect_file(&ls, evidence, sizeof evidence), DOPPEL_DIALECT_MIXPANEL);
  assert_non_null(strstr(evidence, "mixpanel:"));
  assert_non_null(strstr(evidence, "event"));
  assert_non_null(strstr(evidence, "properties.distinct_id"));
  assert_non_null(strstr(evidence, "properties.time"));
  assert_non_null(strstr(evidence, "in 3/3 records"));

  doppel_json_doc doc;
  doppel_json_doc_init(&doc);
  doppel_event ev;
  event_of(&ls, 0, DOPPEL_DIALECT_MIXPANEL, &doc, &ev);
  assert_span(&ev.user_id, "user-1042");
  assert_span(&ev.device_id, "18cee8d1a0b3f-0e6a9c2b7d4f5-1c525637-1fa400-18cee8d1a0c40");
  assert_span(&ev.event, "Sign Up");
  assert_span(&ev.session_id, "sess-5517");
  assert_span(&ev.insert_id, "a1b2c3d4e5f60718");
  assert_true(ev.time_us == INT64_C(1704795825000000));
  assert_int_equal(ev.time_unit, DOPPEL_TIME_SECONDS);
  assert_int_equal(node_type(&doc, ev.properties), DOPPEL_JSON_OBJECT);
  assert_int_equal(ev.user_properties, DOPPEL_JSON_NONE);

  event_of(&ls, 1, DOPPEL_DIALECT_MIXPANEL, &doc, &ev);
  assert_span(&ev.user_id, "$device:18cee8d1a0b3f-0e6a9c2b7d4f5");
  assert_absent(&ev.session_id);
  assert_true(ev.time_us == INT64_C(1704795900123000));
  assert_int_equal(ev.time_unit, DOPPEL_TIME_MILLIS);

  event_of(&ls, 2, DOPPEL_DIALECT_MIXPANEL, &doc, &ev);
  assert_span(&ev.user_id, "1042"); /* a number: its literal */
  assert_int_equal(node_type(&doc, ev.user_id.node), DOPPEL_JSON_NUMBER);
  assert_absent(&ev.device_id);
  assert_true(ev.time_us == INT64_C(1704796000000000));
  doppel_json_doc_release(&doc);
  lines_free(&ls);
}

static void test_ga4(void **state) {
  (void)state;
  lines ls;
  lines_load(&ls, "ga4.jsonl");
  char evidence[256];
  assert_int_equal(detect_file(&ls, evidence, sizeof evidence), DOPPEL_DIALECT_GA4);
  assert_non_null(strstr(evidence, "ga4:"));
  assert_non_null(strstr(evidence, "event_name"));
  assert_non_null(strstr(evidence, "event_timestamp"));
  assert_non_null(strstr(evidence, "user_pseudo_id"));
  assert_non_null(strstr(evidence, "event_params"));
  assert_non_null(strstr(evidence, "in 3/3 records"));

  doppel_json_doc doc;
  doppel_json_doc_init(&doc);
  doppel_event ev;
  event_of(&ls, 0, DOPPEL_DIALECT_GA4, &doc, &ev);
  assert_span(&ev.user_id, "1234567890.1704795000"); /* user_id null → user_pseudo_id */
  assert_span(&ev.device_id, "1234567890.1704795000");
  assert_span(&ev.event, "page_view");
  assert_span(&ev.session_id, "1704795800"); /* event_params[key=ga_session_id].int_value */
  assert_int_equal(node_type(&doc, ev.session_id.node), DOPPEL_JSON_STRING);
  assert_absent(&ev.insert_id);
  assert_true(ev.time_us == INT64_C(1704795825123456)); /* µs as a string */
  assert_int_equal(ev.time_unit, DOPPEL_TIME_MICROS);
  assert_int_equal(node_type(&doc, ev.properties), DOPPEL_JSON_ARRAY);
  assert_int_equal(node_type(&doc, ev.user_properties), DOPPEL_JSON_ARRAY);

  event_of(&ls, 1, DOPPEL_DIALECT_GA4, &doc, &ev);
  assert_span(&ev.user_id, "crm-88123");
  assert_span(&ev.device_id, "1234567890.1704795000");
  assert_span(&ev.event, "purchase");
  assert_span(&ev.session_id, "1704795800");
  assert_int_equal(node_type(&doc, ev.session_id.node), DOPPEL_JSON_NUMBER);
  assert_true(ev.time_us == INT64_C(1704795900000001)); /* µs as a number */
  assert_int_equal(ev.time_unit, DOPPEL_TIME_MICROS);

  event_of(&ls, 2, DOPPEL_DIALECT_GA4, &doc, &ev);
  assert_span(&ev.user_id, "987654321.1704845000"); /* user_id absent → user_pseudo_id */
  assert_absent(&ev.session_id);                    /* no ga_session_id param */
  assert_int_equal(ev.session_id.node, DOPPEL_JSON_NONE);
  assert_true(ev.time_us == INT64_C(1704845000000000));
  doppel_json_doc_release(&doc);
  lines_free(&ls);
}

static void test_generic(void **state) {
  (void)state;
  lines ls;
  lines_load(&ls, "generic.jsonl");
  char evidence[256];
  assert_int_equal(detect_file(&ls, evidence, sizeof evidence), DOPPEL_DIALECT_GENERIC);
  assert_non_null(strstr(evidence, "generic:"));
  assert_non_null(strstr(evidence, "event"));
  assert_non_null(strstr(evidence, "user_id"));
  assert_non_null(strstr(evidence, "time"));
  assert_null(strstr(evidence, "fallback"));
  assert_non_null(strstr(evidence, "in 3/3 records"));

  doppel_json_doc doc;
  doppel_json_doc_init(&doc);
  doppel_event ev;
  event_of(&ls, 0, DOPPEL_DIALECT_GENERIC, &doc, &ev);
  assert_span(&ev.user_id, "jane@example.com");
  assert_span(&ev.device_id, "d-01");
  assert_span(&ev.event, "login");
  assert_span(&ev.session_id, "s-9");
  assert_span(&ev.insert_id, "ev-0001");
  assert_true(ev.time_us == INT64_C(1704792225000000));
  assert_int_equal(node_type(&doc, ev.properties), DOPPEL_JSON_OBJECT);
  assert_int_equal(node_type(&doc, ev.user_properties), DOPPEL_JSON_OBJECT);

  event_of(&ls, 1, DOPPEL_DIALECT_GENERIC, &doc, &ev);
  assert_span(&ev.user_id, "42");
  assert_absent(&ev.device_id);
  assert_true(ev.time_us == INT64_C(1704795825123000));
  assert_int_equal(ev.time_unit, DOPPEL_TIME_MILLIS);
  assert_int_equal(ev.user_properties, DOPPEL_JSON_NONE);

  event_of(&ls, 2, DOPPEL_DIALECT_GENERIC, &doc, &ev);
  assert_absent(&ev.user_id);
  assert_span(&ev.session_id, "17");
  assert_true(ev.time_us == INT64_C(1704795825500000));
  doppel_json_doc_release(&doc);
  lines_free(&ls);
}

/* A custom map over a generic-ish record with its own names. */
static void test_custom_map(void **state) {
  (void)state;
  static const char *const ips[] = {"client.addr", NULL};
  const doppel_field_map map = {"account.uid", "anon", "dev", "name", "ts", "meta.sid",
                                "meta.id",     "props", "traits", ips};
  const char *rec = "{\"account\":{\"uid\":null},\"anon\":\"a-77\",\"dev\":\"phone-1\","
                    "\"name\":\"signup\",\"ts\":\"1704795825.25\",\"meta\":{\"sid\":\"S1\","
                    "\"id\":\"I-9\"},\"props\":{\"k\":1},\"traits\":[1,2],"
                    "\"client\":{\"addr\":\"192.0.2.1\"}}";
  doppel_json_doc doc;
  doppel_json_doc_init(&doc);
  parse_ok(&doc, rec, strlen(rec));
  doppel_event ev;
  doppel_diag diag;
  doppel_diag_clear(&diag);
  assert_int_equal(doppel_event_from_json(&doc, &map, &ev, &diag), DOPPEL_OK);
  assert_span(&ev.user_id, "a-77"); /* account.uid null → alt */
  assert_span(&ev.device_id, "phone-1");
  assert_span(&ev.event, "signup");
  assert_span(&ev.session_id, "S1");
  assert_span(&ev.insert_id, "I-9");
  assert_true(ev.time_us == INT64_C(1704795825250000));
  assert_int_equal(ev.time_unit, DOPPEL_TIME_SECONDS);
  assert_int_equal(node_type(&doc, ev.properties), DOPPEL_JSON_OBJECT);
  assert_int_equal(node_type(&doc, ev.user_properties), DOPPEL_JSON_ARRAY);

  /* the generic map finds nothing in this record, and that is not an error */
  assert_int_equal(doppel_event_from_json(&doc, doppel_dialect_fields(DOPPEL_DIALECT_GENERIC),
                                          &ev, &diag),
                   DOPPEL_OK);
  assert_absent(&ev.user_id);
  assert_absent(&ev.event);
  assert_int_equal(ev.has_time, 0);
  assert_int_equal(ev.properties, DOPPEL_JSON_NONE);

  /* NULL paths are simply absent */
  const doppel_field_map sparse = {NULL, NULL, NULL, "name", NULL, NULL, NULL, NULL, NULL, ips};
  assert_int_equal(doppel_event_from_json(&doc, &sparse, &ev, &diag), DOPPEL_OK);
  assert_span(&ev.event, "signup");
  assert_absent(&ev.user_id);
  assert_int_equal(ev.has_time, 0);
  doppel_json_doc_release(&doc);
}

/* ---- error cases -------------------------------------------------------------------- */

static doppel_status extract(const char *rec, doppel_dialect d, doppel_event *ev,
                             doppel_diag *diag) {
  doppel_json_doc doc;
  doppel_json_doc_init(&doc);
  parse_ok(&doc, rec, strlen(rec));
  doppel_diag_clear(diag);
  doppel_status st = doppel_event_from_json(&doc, doppel_dialect_fields(d), ev, diag);
  doppel_json_doc_release(&doc);
  return st;
}

static void test_errors(void **state) {
  (void)state;
  doppel_event ev;
  doppel_diag diag;

  /* unparseable time: E_TIME naming the field, without the value */
  const char *r1 = "{\"user_id\":\"u1\",\"event\":\"e\",\"time\":\"next tuesday maybe\"}";
  assert_int_equal(extract(r1, DOPPEL_DIALECT_GENERIC, &ev, &diag), DOPPEL_E_TIME);
  assert_int_equal(diag.status, DOPPEL_E_TIME);
  assert_non_null(strstr(diag.text, "'time'"));
  assert_non_null(strstr(diag.text, "expected a timestamp"));
  assert_null(strstr(diag.text, "tuesday"));
  assert_int_equal(diag.column, (uint64_t)(strstr(r1, "next") - r1) + 1);

  /* the time parser's reason is passed on, column points into the record */
  const char *r2 = "{\"event_type\":\"x\",\"event_time\":\"2024-13-01 00:00:00\"}";
  assert_int_equal(extract(r2, DOPPEL_DIALECT_AMPLITUDE, &ev, &diag), DOPPEL_E_TIME);
  assert_non_null(strstr(diag.text, "'event_time'"));
  assert_non_null(strstr(diag.text, "invalid month 13"));
  assert_int_equal(diag.column, (uint64_t)(strstr(r2, "13-01") - r2) + 1);

  /* numeric garbage and non-scalar times */
  assert_int_equal(extract("{\"event\":\"e\",\"time\":1e400}", DOPPEL_DIALECT_GENERIC, &ev, &diag),
                   DOPPEL_E_TIME);
  assert_non_null(strstr(diag.text, "'time'"));
  assert_int_equal(extract("{\"event\":\"e\",\"time\":{\"s\":1}}", DOPPEL_DIALECT_GENERIC, &ev,
                           &diag),
                   DOPPEL_E_TIME);
  assert_non_null(strstr(diag.text, "'time' holds an object"));
  assert_int_equal(extract("{\"event\":\"e\",\"time\":true}", DOPPEL_DIALECT_GENERIC, &ev, &diag),
                   DOPPEL_E_TIME);
  assert_int_equal(extract("{\"event\":\"e\",\"time\":\"\"}", DOPPEL_DIALECT_GENERIC, &ev, &diag),
                   DOPPEL_E_TIME);
  assert_int_equal(extract("{\"event_name\":\"e\",\"event_timestamp\":\"17047958x\"}",
                           DOPPEL_DIALECT_GA4, &ev, &diag),
                   DOPPEL_E_TIME);
  assert_non_null(strstr(diag.text, "'event_timestamp'"));

  /* null time is absent, not an error */
  assert_int_equal(extract("{\"event\":\"e\",\"time\":null}", DOPPEL_DIALECT_GENERIC, &ev, &diag),
                   DOPPEL_OK);
  assert_int_equal(ev.has_time, 0);
  /* an escaped time string is unescaped before parsing */
  assert_int_equal(extract("{\"event\":\"e\",\"time\":\"2024-01-09T10:23:45\\u002b02:00\"}",
                           DOPPEL_DIALECT_GENERIC, &ev, &diag),
                   DOPPEL_OK);
  assert_true(ev.time_us == INT64_C(1704788625000000));

  /* event name as an object / user id as an array: E_DATA */
  const char *r3 = "{\"user_id\":\"u\",\"event\":{\"name\":\"signup\"},\"time\":0}";
  assert_int_equal(extract(r3, DOPPEL_DIALECT_GENERIC, &ev, &diag), DOPPEL_E_DATA);
  assert_int_equal(diag.status, DOPPEL_E_DATA);
  assert_non_null(strstr(diag.text, "'event'"));
  assert_non_null(strstr(diag.text, "object"));
  assert_null(strstr(diag.text, "signup"));
  assert_int_equal(diag.column, (uint64_t)(strstr(r3, "{\"name") - r3) + 1);
  assert_int_equal(extract("{\"userId\":[\"a\"],\"event\":\"e\"}", DOPPEL_DIALECT_SEGMENT, &ev,
                           &diag),
                   DOPPEL_E_DATA);
  assert_non_null(strstr(diag.text, "'userId' holds an array"));
  assert_int_equal(extract("{\"event_type\":[],\"user_id\":\"u\"}", DOPPEL_DIALECT_AMPLITUDE, &ev,
                           &diag),
                   DOPPEL_E_DATA);
  assert_non_null(strstr(diag.text, "'event_type'"));
  /* a mixpanel distinct_id object */
  assert_int_equal(extract("{\"event\":\"e\",\"properties\":{\"distinct_id\":{}}}",
                           DOPPEL_DIALECT_MIXPANEL, &ev, &diag),
                   DOPPEL_E_DATA);
  assert_non_null(strstr(diag.text, "'properties.distinct_id'"));

  /* other fields never fail: an object device id is just not a span */
  assert_int_equal(extract("{\"event\":\"e\",\"device_id\":{\"a\":1},\"session_id\":[1]}",
                           DOPPEL_DIALECT_GENERIC, &ev, &diag),
                   DOPPEL_OK);
  assert_absent(&ev.device_id);
  assert_absent(&ev.session_id);

  /* a record that is not an object */
  assert_int_equal(extract("[1,2,3]", DOPPEL_DIALECT_GENERIC, &ev, &diag), DOPPEL_E_DATA);
  assert_non_null(strstr(diag.text, "json object"));
  assert_int_equal(extract("\"user\"", DOPPEL_DIALECT_GENERIC, &ev, &diag), DOPPEL_E_DATA);
}

/* ---- detector details ------------------------------------------------------------ */

static void add_json(doppel_dialect_detector *det, const char *rec) {
  doppel_json_doc doc;
  doppel_json_doc_init(&doc);
  parse_ok(&doc, rec, strlen(rec));
  doppel_dialect_detector_add_json(det, &doc);
  doppel_json_doc_release(&doc);
}

static void test_detector_mixed_and_fallback(void **state) {
  (void)state;
  doppel_dialect_detector det;
  char evidence[256];
  doppel_dialect_detector_init(&det);
  assert_int_equal(doppel_dialect_detector_result(&det, evidence, sizeof evidence),
                   DOPPEL_DIALECT_GENERIC);
  assert_non_null(strstr(evidence, "fallback"));
  assert_non_null(strstr(evidence, "no records"));
  assert_int_equal(doppel_dialect_detector_result(&det, NULL, 0), DOPPEL_DIALECT_GENERIC);

  add_json(&det, "{\"a\":1}");
  add_json(&det, "[1]");
  assert_int_equal(doppel_dialect_detector_result(&det, evidence, sizeof evidence),
                   DOPPEL_DIALECT_GENERIC);
  assert_non_null(strstr(evidence, "fallback"));
  assert_non_null(strstr(evidence, "2 records"));

  doppel_dialect_detector_init(&det);
  for (int i = 0; i < 3; i++)
    add_json(&det, "{\"event_type\":\"x\",\"event_time\":\"2024-01-01 00:00:00\"}");
  add_json(&det, "{\"event\":\"x\",\"user_id\":\"u\"}");
  assert_int_equal(doppel_dialect_detector_result(&det, evidence, sizeof evidence),
                   DOPPEL_DIALECT_AMPLITUDE);
  assert_non_null(strstr(evidence, "amplitude: event_type, event_time in 3/4 records"));
  assert_null(strstr(evidence, "event_properties")); /* only keys actually seen */

  /* Segment by type "track" alone */
  doppel_dialect_detector_init(&det);
  add_json(&det, "{\"type\":\"track\",\"event\":\"x\"}");
  assert_int_equal(doppel_dialect_detector_result(&det, evidence, sizeof evidence),
                   DOPPEL_DIALECT_SEGMENT);
  /* type "identify" alone is not enough */
  doppel_dialect_detector_init(&det);
  add_json(&det, "{\"type\":\"identify\",\"event\":\"x\"}");
  assert_int_equal(doppel_dialect_detector_result(&det, NULL, 0), DOPPEL_DIALECT_GENERIC);

  /* Mixpanel needs distinct_id/time inside properties, not at the top */
  doppel_dialect_detector_init(&det);
  add_json(&det, "{\"event\":\"x\",\"distinct_id\":\"u\",\"properties\":{}}");
  assert_int_equal(doppel_dialect_detector_result(&det, NULL, 0), DOPPEL_DIALECT_GENERIC);
  assert_int_equal(det.score[DOPPEL_DIALECT_MIXPANEL], 0);

  /* a tiny evidence buffer is truncated, still terminated */
  doppel_dialect_detector_init(&det);
  add_json(&det, "{\"event_name\":\"x\",\"event_timestamp\":1,\"user_pseudo_id\":\"p\"}");
  char tiny[12];
  assert_int_equal(doppel_dialect_detector_result(&det, tiny, sizeof tiny), DOPPEL_DIALECT_GA4);
  assert_true(strlen(tiny) < sizeof tiny);
  assert_int_equal(strncmp(tiny, "ga4: event_", 11), 0);
}

static void names_vote(doppel_dialect_detector *det, const char *const *names, size_t n) {
  size_t lens[16];
  for (size_t i = 0; i < n; i++) lens[i] = strlen(names[i]);
  doppel_dialect_detector_add_names(det, names, lens, n);
}

static void test_detector_csv_names(void **state) {
  (void)state;
  doppel_dialect_detector det;
  char evidence[256];
  static const char *const mp[] = {"event", "properties.distinct_id", "properties.time",
                                   "properties.plan"};
  doppel_dialect_detector_init(&det);
  names_vote(&det, mp, 4);
  assert_int_equal(doppel_dialect_detector_result(&det, evidence, sizeof evidence),
                   DOPPEL_DIALECT_MIXPANEL);
  assert_non_null(strstr(evidence, "properties.distinct_id"));
  assert_non_null(strstr(evidence, "in 1/1 records"));

  static const char *const amp[] = {"user_id", "device_id", "event_type", "event_time"};
  doppel_dialect_detector_init(&det);
  names_vote(&det, amp, 4);
  assert_int_equal(doppel_dialect_detector_result(&det, evidence, sizeof evidence),
                   DOPPEL_DIALECT_AMPLITUDE);

  static const char *const seg[] = {"messageId", "userId", "event", "timestamp"};
  doppel_dialect_detector_init(&det);
  names_vote(&det, seg, 4);
  assert_int_equal(doppel_dialect_detector_result(&det, NULL, 0), DOPPEL_DIALECT_SEGMENT);

  static const char *const ga[] = {"event_name", "event_timestamp", "user_pseudo_id"};
  doppel_dialect_detector_init(&det);
  names_vote(&det, ga, 3);
  assert_int_equal(doppel_dialect_detector_result(&det, NULL, 0), DOPPEL_DIALECT_GA4);

  static const char *const gen[] = {"time", "event", "user_id"};
  doppel_dialect_detector_init(&det);
  names_vote(&det, gen, 3);
  assert_int_equal(doppel_dialect_detector_result(&det, evidence, sizeof evidence),
                   DOPPEL_DIALECT_GENERIC);
  assert_non_null(strstr(evidence, "generic: event, user_id, time"));

  /* the name must match exactly: a prefix or a longer name does not count */
  static const char *const near[] = {"event_typ", "event_times", "Event_type"};
  doppel_dialect_detector_init(&det);
  names_vote(&det, near, 3);
  assert_int_equal(doppel_dialect_detector_result(&det, evidence, sizeof evidence),
                   DOPPEL_DIALECT_GENERIC);
  assert_non_null(strstr(evidence, "fallback"));

  /* column resolution against the amplitude map */
  doppel_csv_columns cols;
  size_t lens[4];
  for (int i = 0; i < 4; i++) lens[i] = strlen(amp[i]);
  doppel_csv_columns_resolve(doppel_dialect_fields(DOPPEL_DIALECT_AMPLITUDE), amp, lens, 4, &cols);
  assert_int_equal(cols.user_id, 0);
  assert_int_equal(cols.device_id, 1);
  assert_int_equal(cols.event, 2);
  assert_int_equal(cols.time, 3);
  assert_true(cols.session_id == SIZE_MAX);
  assert_true(cols.insert_id == SIZE_MAX);
  assert_true(cols.user_id_alt == SIZE_MAX);
  /* names are (ptr, len) pairs, not NUL-terminated strings */
  const char *buf = "user_pseudo_iduser_idevent_nameevent_timestamp";
  const char *nm[] = {buf, buf + 14, buf + 21, buf + 31};
  const size_t nl[] = {14, 7, 10, 15};
  doppel_csv_columns_resolve(doppel_dialect_fields(DOPPEL_DIALECT_GA4), nm, nl, 4, &cols);
  assert_int_equal(cols.user_id, 1);
  assert_int_equal(cols.user_id_alt, 0);
  assert_int_equal(cols.device_id, 0);
  assert_int_equal(cols.event, 2);
  assert_int_equal(cols.time, 3);
  assert_true(cols.session_id == SIZE_MAX);
}

/* ---- shared real data ------------------------------------------------------------- */

typedef struct shared_case {
  const char *rel;
  doppel_dialect want;
  const char *key; /* must appear in the evidence */
} shared_case;

static void test_shared_data(void **state) {
  (void)state;
  struct stat sb;
  if (stat(DOPPEL_SHARED_DATA, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
    print_message("shared data not found at %s; skipping\n", DOPPEL_SHARED_DATA);
    skip();
  }
  static const shared_case cases[] = {
      {"nasa-http/events.amplitude.jsonl.gz", DOPPEL_DIALECT_AMPLITUDE, "event_type"},
      {"rails-commits/events.segment.jsonl.gz", DOPPEL_DIALECT_SEGMENT, "messageId"},
      {"nasa-http/events.jsonl.gz", DOPPEL_DIALECT_GENERIC, "user_id"},
      {"rails-commits/events.jsonl.gz", DOPPEL_DIALECT_GENERIC, "user_id"},
  };
  const size_t bufsize = (size_t)1 << 20;
  char *line = malloc(bufsize);
  assert_non_null(line);
  doppel_json_doc doc;
  doppel_json_doc_init(&doc);
  int files = 0;
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", DOPPEL_SHARED_DATA, cases[c].rel);
    gzFile gz = gzopen(path, "rb");
    if (!gz) {
      print_message("%s absent; skipped\n", path);
      continue;
    }
    files++;
    doppel_dialect_detector det;
    doppel_dialect_detector_init(&det);
    const doppel_field_map *map = doppel_dialect_fields(cases[c].want);
    size_t n = 0;
    int64_t min_us = INT64_MAX, max_us = INT64_MIN;
    while (gzgets(gz, line, (int)bufsize)) {
      size_t len = strlen(line);
      assert_true(len > 0 && line[len - 1] == '\n'); /* the line fit the buffer */
      len--;
      parse_ok(&doc, line, len);
      n++;
      if (n <= 100) doppel_dialect_detector_add_json(&det, &doc);
      if (n == 100) {
        char evidence[256];
        doppel_dialect got = doppel_dialect_detector_result(&det, evidence, sizeof evidence);
        print_message("%s: %s\n", cases[c].rel, evidence);
        assert_int_equal(got, cases[c].want);
        assert_non_null(strstr(evidence, cases[c].key));
        assert_non_null(strstr(evidence, "in 100/100 records"));
      }
      doppel_event ev;
      doppel_diag diag;
      doppel_diag_clear(&diag);
      doppel_status st = doppel_event_from_json(&doc, map, &ev, &diag);
      if (st != DOPPEL_OK || !ev.has_time) {
        print_error("%s line %zu: %s %s (has_time %d)\n", cases[c].rel, n,
                    doppel_status_name(st), diag.text, ev.has_time);
        fail();
      }
      assert_non_null(ev.event.ptr);
      if (ev.time_us < min_us) min_us = ev.time_us;
      if (ev.time_us > max_us) max_us = ev.time_us;
    }
    assert_int_equal(gzclose(gz), Z_OK);
    assert_true(n >= 100);
    char lo[28], hi[28];
    doppel_time_format(min_us, lo);
    doppel_time_format(max_us, hi);
    print_message("%s: %zu records, all times parsed, %s .. %s\n", cases[c].rel, n, lo, hi);
    assert_true(min_us > INT64_C(788918400000000)); /* after 1995-01-01 */
  }
  doppel_json_doc_release(&doc);
  free(line);
  if (files == 0) skip();
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_names),
      cmocka_unit_test(test_field_maps),
      cmocka_unit_test(test_amplitude),
      cmocka_unit_test(test_segment),
      cmocka_unit_test(test_mixpanel),
      cmocka_unit_test(test_ga4),
      cmocka_unit_test(test_generic),
      cmocka_unit_test(test_custom_map),
      cmocka_unit_test(test_errors),
      cmocka_unit_test(test_detector_mixed_and_fallback),
      cmocka_unit_test(test_detector_csv_names),
      cmocka_unit_test(test_shared_data),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
