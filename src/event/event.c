/*
 * event.c — the canonical event view over a parsed JSON record, and CSV
 * column resolution for the same field map (see doppel/event.h).
 *
 * Each canonical field is found by its dotted path (doppel_json_lookup).
 * When a plain object walk fails, the path is walked again allowing one
 * extension needed by GA4: a path segment applied to an array of
 * {"key": K, "value": {...}} entries selects the entry whose key is the
 * segment, and such a "value" object is unwrapped to its first non-null
 * string_value / int_value / double_value / float_value member. So
 * "event_params.ga_session_id" reads GA4's session id.
 *
 * Spans: strings give their raw content (escaped flag from the tape),
 * numbers and true/false their literal text; null or absent gives ptr NULL
 * (node is the null node's index, or DOPPEL_JSON_NONE when absent). An
 * object/array in the user or event field is DOPPEL_E_DATA; in the other
 * identifier fields it yields ptr NULL with node set. A record that is not a
 * JSON object is DOPPEL_E_DATA. Error columns are 1-based byte offsets into
 * the record. Messages name the field path, never its value.
 */
#include <doppel/event.h>

#include "core/diag.h"

#include <stdint.h>
#include <string.h>

static const char *type_name(uint8_t t) {
  switch (t) {
    case DOPPEL_JSON_NULL: return "null";
    case DOPPEL_JSON_FALSE:
    case DOPPEL_JSON_TRUE: return "a boolean";
    case DOPPEL_JSON_NUMBER: return "a number";
    case DOPPEL_JSON_STRING: return "a string";
    case DOPPEL_JSON_OBJECT: return "an object";
    case DOPPEL_JSON_ARRAY: return "an array";
    default: return "an unknown value";
  }
}

/* Does the string node i hold exactly key[0..n) (after unescaping)? */
static int string_equals(const doppel_json_doc *doc, uint32_t i, const char *key, size_t n) {
  if (doc->nodes[i].type != DOPPEL_JSON_STRING) return 0;
  size_t len;
  const char *s = doppel_json_str(doc, i, &len);
  if (!(doc->nodes[i].flags & DOPPEL_JSON_F_ESCAPED)) return len == n && memcmp(s, key, n) == 0;
  char buf[256];
  if (len > sizeof buf) return 0; /* keys of that size are not looked up */
  const size_t m = doppel_json_unescape(s, len, buf);
  return m == n && memcmp(buf, key, n) == 0;
}

/* GA4 value wrapper {"string_value": ..., "int_value": ..., ...} → the first
 * non-null typed member; other nodes are returned unchanged. */
static uint32_t unwrap_ga4_value(const doppel_json_doc *doc, uint32_t v) {
  static const char *const members[] = {"string_value", "int_value", "double_value",
                                        "float_value"};
  if (doc->nodes[v].type != DOPPEL_JSON_OBJECT) return v;
  uint32_t first = DOPPEL_JSON_NONE;
  for (size_t k = 0; k < sizeof members / sizeof members[0]; k++) {
    const uint32_t c = doppel_json_find(doc, v, members[k], strlen(members[k]));
    if (c == DOPPEL_JSON_NONE) continue;
    if (doc->nodes[c].type != DOPPEL_JSON_NULL) return c;
    if (first == DOPPEL_JSON_NONE) first = c;
  }
  /* a wrapper whose typed members are all null holds null */
  return first != DOPPEL_JSON_NONE ? first : v;
}

/* Entry of a GA4 key/value array whose "key" equals seg: its unwrapped value. */
static uint32_t find_in_kv_array(const doppel_json_doc *doc, uint32_t arr, const char *seg,
                                 size_t n) {
  uint32_t i = arr + 1;
  for (uint32_t k = 0; k < doc->nodes[arr].count; k++, i = doc->nodes[i].next) {
    if (doc->nodes[i].type != DOPPEL_JSON_OBJECT) continue;
    const uint32_t key = doppel_json_find(doc, i, "key", 3);
    if (key == DOPPEL_JSON_NONE || !string_equals(doc, key, seg, n)) continue;
    const uint32_t val = doppel_json_find(doc, i, "value", 5);
    if (val == DOPPEL_JSON_NONE) return DOPPEL_JSON_NONE;
    return unwrap_ga4_value(doc, val);
  }
  return DOPPEL_JSON_NONE;
}

/* Walk a dotted path from the root; see the file comment. */
static uint32_t resolve(const doppel_json_doc *doc, const char *path) {
  if (!path) return DOPPEL_JSON_NONE;
  uint32_t i = doppel_json_lookup(doc, 0, path);
  if (i != DOPPEL_JSON_NONE) return i;
  if (!strchr(path, '.')) return DOPPEL_JSON_NONE;
  i = 0;
  const char *s = path;
  for (;;) {
    const char *dot = strchr(s, '.');
    const size_t n = dot ? (size_t)(dot - s) : strlen(s);
    const uint8_t t = doc->nodes[i].type;
    if (t == DOPPEL_JSON_OBJECT)
      i = doppel_json_find(doc, i, s, n);
    else if (t == DOPPEL_JSON_ARRAY)
      i = find_in_kv_array(doc, i, s, n);
    else
      return DOPPEL_JSON_NONE;
    if (i == DOPPEL_JSON_NONE || !dot) return i;
    s = dot + 1;
  }
}

static void span_clear(doppel_span *sp) {
  sp->ptr = NULL;
  sp->len = 0;
  sp->node = DOPPEL_JSON_NONE;
  sp->escaped = 0;
}

/* Fill sp from node i. Returns the node type. */
static uint8_t span_of(const doppel_json_doc *doc, uint32_t i, doppel_span *sp) {
  span_clear(sp);
  if (i == DOPPEL_JSON_NONE) return DOPPEL_JSON_NULL;
  const doppel_json_node *nd = &doc->nodes[i];
  sp->node = i;
  switch (nd->type) {
    case DOPPEL_JSON_STRING:
      sp->ptr = doppel_json_str(doc, i, &sp->len);
      sp->escaped = (nd->flags & DOPPEL_JSON_F_ESCAPED) ? 1 : 0;
      break;
    case DOPPEL_JSON_NUMBER:
    case DOPPEL_JSON_TRUE:
    case DOPPEL_JSON_FALSE:
      sp->ptr = doc->src + nd->start;
      sp->len = nd->end - nd->start;
      break;
    default: /* null, object, array: no text */
      break;
  }
  return nd->type;
}

/* An identifier field that must not be a container. */
static doppel_status strict_field(const doppel_json_doc *doc, const char *path, doppel_span *sp,
                                  doppel_diag *diag) {
  const uint32_t i = resolve(doc, path);
  const uint8_t t = span_of(doc, i, sp);
  if (t == DOPPEL_JSON_OBJECT || t == DOPPEL_JSON_ARRAY) {
    span_clear(sp);
    return dp_diag_set(diag, DOPPEL_E_DATA, NULL, 0, (uint64_t)doc->nodes[i].start + 1,
                       "field '%s' holds %s (expected a string or number)", path, type_name(t));
  }
  return DOPPEL_OK;
}

static doppel_status read_time(const doppel_json_doc *doc, const char *path, doppel_event *ev,
                               doppel_diag *diag) {
  const uint32_t i = resolve(doc, path);
  if (i == DOPPEL_JSON_NONE) return DOPPEL_OK;
  const doppel_json_node *nd = &doc->nodes[i];
  if (nd->type == DOPPEL_JSON_NULL) return DOPPEL_OK;
  const char *s;
  size_t n;
  size_t base; /* record offset of s[0] */
  char buf[128];
  if (nd->type == DOPPEL_JSON_STRING) {
    s = doppel_json_str(doc, i, &n);
    base = nd->start + 1u;
    if ((nd->flags & DOPPEL_JSON_F_ESCAPED) && n <= sizeof buf) {
      n = doppel_json_unescape(s, n, buf);
      s = buf;
    }
  } else if (nd->type == DOPPEL_JSON_NUMBER) {
    s = doc->src + nd->start;
    n = nd->end - nd->start;
    base = nd->start;
  } else {
    return dp_diag_set(diag, DOPPEL_E_TIME, NULL, 0, (uint64_t)nd->start + 1,
                       "field '%s' holds %s (expected a timestamp: ISO 8601, "
                       "'YYYY-MM-DD HH:MM:SS' or epoch seconds/ms/µs)",
                       path, type_name(nd->type));
  }
  doppel_diag td;
  doppel_diag_clear(&td);
  doppel_time_unit unit = DOPPEL_TIME_TEXT;
  int64_t us = 0;
  if (doppel_time_parse(s, n, &us, &unit, &td) != DOPPEL_OK) {
    const uint64_t col = (s == buf) ? (uint64_t)nd->start + 1 : (uint64_t)base + td.column;
    return dp_diag_set(diag, DOPPEL_E_TIME, NULL, 0, col, "field '%s': %s", path, td.text);
  }
  ev->time_us = us;
  ev->time_unit = unit;
  ev->has_time = 1;
  return DOPPEL_OK;
}

static uint32_t container_of(const doppel_json_doc *doc, const char *path) {
  const uint32_t i = resolve(doc, path);
  if (i == DOPPEL_JSON_NONE) return DOPPEL_JSON_NONE;
  const uint8_t t = doc->nodes[i].type;
  return (t == DOPPEL_JSON_OBJECT || t == DOPPEL_JSON_ARRAY) ? i : DOPPEL_JSON_NONE;
}

doppel_status doppel_event_from_json(const doppel_json_doc *doc, const doppel_field_map *map,
                                     doppel_event *ev, doppel_diag *diag) {
  if (!ev) return dp_diag_set(diag, DOPPEL_E_INTERNAL, NULL, 0, 0, "expected an event to fill");
  span_clear(&ev->user_id);
  span_clear(&ev->device_id);
  span_clear(&ev->event);
  span_clear(&ev->session_id);
  span_clear(&ev->insert_id);
  ev->time_us = 0;
  ev->has_time = 0;
  ev->time_unit = DOPPEL_TIME_TEXT;
  ev->properties = DOPPEL_JSON_NONE;
  ev->user_properties = DOPPEL_JSON_NONE;
  if (!map) map = doppel_dialect_fields(DOPPEL_DIALECT_GENERIC);
  if (!doc || doc->count == 0)
    return dp_diag_set(diag, DOPPEL_E_DATA, NULL, 0, 0, "expected a parsed json record");
  if (doc->nodes[0].type != DOPPEL_JSON_OBJECT)
    return dp_diag_set(diag, DOPPEL_E_DATA, NULL, 0, (uint64_t)doc->nodes[0].start + 1,
                       "expected a json object as the record, got %s",
                       type_name(doc->nodes[0].type));

  doppel_status st;
  if ((st = strict_field(doc, map->user_id, &ev->user_id, diag)) != DOPPEL_OK) return st;
  if (!ev->user_id.ptr && map->user_id_alt &&
      (st = strict_field(doc, map->user_id_alt, &ev->user_id, diag)) != DOPPEL_OK)
    return st;
  if ((st = strict_field(doc, map->event, &ev->event, diag)) != DOPPEL_OK) return st;
  span_of(doc, resolve(doc, map->device_id), &ev->device_id);
  span_of(doc, resolve(doc, map->session_id), &ev->session_id);
  span_of(doc, resolve(doc, map->insert_id), &ev->insert_id);
  if (map->time && (st = read_time(doc, map->time, ev, diag)) != DOPPEL_OK) return st;
  ev->properties = container_of(doc, map->properties);
  ev->user_properties = container_of(doc, map->user_properties);
  return DOPPEL_OK;
}

static size_t column_of(const char *path, const char *const *names, const size_t *lens,
                        size_t n) {
  if (!path || !names || !lens) return SIZE_MAX;
  const size_t pl = strlen(path);
  for (size_t c = 0; c < n; c++)
    if (names[c] && lens[c] == pl && memcmp(names[c], path, pl) == 0) return c;
  return SIZE_MAX;
}

void doppel_csv_columns_resolve(const doppel_field_map *map, const char *const *names,
                                const size_t *lens, size_t n, doppel_csv_columns *cols) {
  if (!cols) return;
  if (!map) map = doppel_dialect_fields(DOPPEL_DIALECT_GENERIC);
  cols->user_id = column_of(map->user_id, names, lens, n);
  cols->user_id_alt = column_of(map->user_id_alt, names, lens, n);
  cols->device_id = column_of(map->device_id, names, lens, n);
  cols->event = column_of(map->event, names, lens, n);
  cols->time = column_of(map->time, names, lens, n);
  cols->session_id = column_of(map->session_id, names, lens, n);
  cols->insert_id = column_of(map->insert_id, names, lens, n);
}
