/*
 * doppel/event.h — dialects and the canonical event view over a record.
 *
 * A dialect says where the canonical fields live in a vendor's export
 * (dotted paths). Detection looks at the top-level keys of the first records
 * and states its evidence. The canonical view reads a parsed JSON record (or
 * a CSV row plus its header) without copying: identifiers, event name and
 * ids are spans into the record; time is parsed to UTC microseconds.
 *
 * Canonical fields per dialect:
 *   generic:   user_id, device_id, event, time, session_id, insert_id,
 *              properties, user_properties (overridable with a field map)
 *   amplitude: user_id, device_id, event_type, event_time, session_id,
 *              insert_id, event_properties, user_properties (+ ip_address)
 *   segment:   userId, anonymousId, event, timestamp, context.sessionId,
 *              messageId, properties, context.traits (+ context.ip)
 *   mixpanel:  properties.distinct_id, properties.$device_id, event,
 *              properties.time, properties.$session_id?, properties.$insert_id,
 *              properties, — (+ properties.ip)
 *   ga4:       user_id (else user_pseudo_id), user_pseudo_id, event_name,
 *              event_timestamp (µs as string or number), event_params
 *              ga_session_id, —, event_params, user_properties
 * Thread-safe: descriptors are static and read-only.
 */
#ifndef DOPPEL_EVENT_H
#define DOPPEL_EVENT_H

#include <doppel/json.h>
#include <doppel/status.h>
#include <doppel/time.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum doppel_dialect {
  DOPPEL_DIALECT_AUTO = 0,
  DOPPEL_DIALECT_GENERIC,
  DOPPEL_DIALECT_AMPLITUDE,
  DOPPEL_DIALECT_SEGMENT,
  DOPPEL_DIALECT_MIXPANEL,
  DOPPEL_DIALECT_GA4,
  DOPPEL_DIALECT_COUNT
} doppel_dialect;

/* "generic", "amplitude", ...; "auto" for AUTO. */
const char *doppel_dialect_name(doppel_dialect d);
/* Parse a name (case-insensitive); DOPPEL_DIALECT_COUNT when unknown. */
doppel_dialect doppel_dialect_parse(const char *name);

/* Dotted paths of the canonical fields in a record; NULL = not present. */
typedef struct doppel_field_map {
  const char *user_id;          /* e.g. "user_id", "userId", "properties.distinct_id" */
  const char *user_id_alt;      /* fallback when user_id is absent/null (GA4 user_pseudo_id) */
  const char *device_id;        /* "device_id", "anonymousId", ... */
  const char *event;            /* "event", "event_type", "event_name" */
  const char *time;             /* "time", "event_time", "timestamp", ... */
  const char *session_id;
  const char *insert_id;
  const char *properties;
  const char *user_properties;
  const char *const *ip_fields; /* NULL-terminated list of IP address paths */
} doppel_field_map;

/* The static field map of a dialect (GENERIC for AUTO). Never NULL. */
const doppel_field_map *doppel_dialect_fields(doppel_dialect d);

/* Accumulates evidence over the first records (JSON or a CSV header). */
typedef struct doppel_dialect_detector {
  uint32_t records;                          /* records seen */
  uint32_t score[DOPPEL_DIALECT_COUNT];      /* votes per dialect */
  uint32_t keys[DOPPEL_DIALECT_COUNT];       /* bitmask of the dialect's signature keys seen
                                                in voting records (for the evidence text) */
} doppel_dialect_detector;

void doppel_dialect_detector_init(doppel_dialect_detector *det);
/* Vote with the top-level keys of a parsed JSON record. */
void doppel_dialect_detector_add_json(doppel_dialect_detector *det, const doppel_json_doc *doc);
/* Vote with CSV column names (unquoted header fields). */
void doppel_dialect_detector_add_names(doppel_dialect_detector *det, const char *const *names,
                                       const size_t *lens, size_t n);
/* Best dialect so far (GENERIC when nothing matched) and a one-line
 * human-readable evidence text ("amplitude: event_type, event_time,
 * event_properties in 20/20 records") into evidence (may be NULL). */
doppel_dialect doppel_dialect_detector_result(const doppel_dialect_detector *det, char *evidence,
                                              size_t evidence_size);

/* A borrowed span of a record (JSON: raw string content, still escaped;
 * numbers: the literal text). ptr NULL = absent or null. */
typedef struct doppel_span {
  const char *ptr;   /* first byte, NULL when absent */
  size_t len;        /* length in bytes */
  uint32_t node;     /* JSON node index or DOPPEL_JSON_NONE */
  uint8_t escaped;   /* 1 when the JSON string content has escapes (unescape before use) */
} doppel_span;

typedef struct doppel_event {
  doppel_span user_id;      /* user id (or the alt field) */
  doppel_span device_id;    /* device / anonymous id */
  doppel_span event;        /* event name */
  doppel_span session_id;   /* session id as written */
  doppel_span insert_id;    /* dedup id as written */
  int64_t time_us;          /* UTC microseconds since the epoch; valid when has_time */
  int has_time;             /* 1 when a time field was present and parsed */
  doppel_time_unit time_unit; /* form the time was written in */
  uint32_t properties;      /* JSON node of the properties object or DOPPEL_JSON_NONE */
  uint32_t user_properties; /* JSON node of the user properties object or DOPPEL_JSON_NONE */
} doppel_event;

/* Fill ev from a parsed JSON record using map (doppel_dialect_fields() or a
 * custom map). Absent fields give empty spans. A time field that is present
 * but cannot be parsed returns DOPPEL_E_TIME with diag->text naming the
 * field and the value's expected forms (the value itself is not quoted in
 * the message: it may be personal data). A user or event field holding an
 * object/array is DOPPEL_E_DATA. Other fields never fail. */
doppel_status doppel_event_from_json(const doppel_json_doc *doc, const doppel_field_map *map,
                                     doppel_event *ev, doppel_diag *diag);

/* Column indexes of the canonical fields in a CSV header (SIZE_MAX = absent):
 * a column matches when its name equals the field map's path. */
typedef struct doppel_csv_columns {
  size_t user_id, user_id_alt, device_id, event, time, session_id, insert_id;
} doppel_csv_columns;

void doppel_csv_columns_resolve(const doppel_field_map *map, const char *const *names,
                                const size_t *lens, size_t n, doppel_csv_columns *cols);

#ifdef __cplusplus
}
#endif
#endif
