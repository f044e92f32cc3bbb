/*
 * dialect.c — dialect names, the static field maps of each export dialect,
 * and the dialect detector (see doppel/event.h).
 *
 * Detection: each record (a parsed JSON object, or a CSV header whose dotted
 * column names count as nested keys) is probed for a fixed list of signature
 * keys, giving a bitmask; each dialect's rule over that mask decides whether
 * the record votes for it:
 *   amplitude: event_type and one of event_time, event_properties, amplitude_id
 *   segment:   (userId or anonymousId) and (messageId or timestamp),
 *              or "type": "track" (JSON only: a CSV header has no values)
 *   mixpanel:  event and a properties object holding distinct_id or time
 *   ga4:       event_name and one of event_timestamp, user_pseudo_id, event_params
 *   generic:   event and (user_id or time)
 * A record may vote for several dialects. The result is the vendor dialect
 * with the most votes (ties: enum order) unless generic has strictly more;
 * with no votes at all it is generic. Key presence counts, whatever the
 * value (an Amplitude "user_id": null still names the shape).
 */
#include <doppel/event.h>

#include <stdio.h>
#include <string.h>

/* ---- names ---------------------------------------------------------------- */

static const char *const dialect_names[DOPPEL_DIALECT_COUNT] = {
    "auto", "generic", "amplitude", "segment", "mixpanel", "ga4",
};

const char *doppel_dialect_name(doppel_dialect d) {
  if ((unsigned)d >= DOPPEL_DIALECT_COUNT) return "unknown";
  return dialect_names[d];
}

static int ascii_lower(int c) { return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c; }

doppel_dialect doppel_dialect_parse(const char *name) {
  if (!name) return DOPPEL_DIALECT_COUNT;
  for (unsigned d = 0; d < DOPPEL_DIALECT_COUNT; d++) {
    const char *a = name, *b = dialect_names[d];
    while (*a && *b && ascii_lower((unsigned char)*a) == *b) {
      a++;
      b++;
    }
    if (!*a && !*b) return (doppel_dialect)d;
  }
  return DOPPEL_DIALECT_COUNT;
}

/* ---- field maps ------------------------------------------------------------ */

static const char *const generic_ip[] = {"ip", "ip_address", "context.ip", "properties.ip", NULL};
static const char *const amplitude_ip[] = {"ip_address", NULL};
static const char *const segment_ip[] = {"context.ip", NULL};
static const char *const mixpanel_ip[] = {"properties.ip", NULL};
static const char *const ga4_ip[] = {NULL};

/* GA4's session id lives in the event_params key/value array; event.c
 * resolves a path segment applied to such an array by the entry's "key". */
static const doppel_field_map field_maps[DOPPEL_DIALECT_COUNT] = {
    [DOPPEL_DIALECT_AUTO] = {"user_id", NULL, "device_id", "event", "time", "session_id",
                             "insert_id", "properties", "user_properties", generic_ip},
    [DOPPEL_DIALECT_GENERIC] = {"user_id", NULL, "device_id", "event", "time", "session_id",
                                "insert_id", "properties", "user_properties", generic_ip},
    [DOPPEL_DIALECT_AMPLITUDE] = {"user_id", NULL, "device_id", "event_type", "event_time",
                                  "session_id", "$insert_id", "event_properties",
                                  "user_properties", amplitude_ip},
    [DOPPEL_DIALECT_SEGMENT] = {"userId", NULL, "anonymousId", "event", "timestamp",
                                "context.sessionId", "messageId", "properties", "context.traits",
                                segment_ip},
    [DOPPEL_DIALECT_MIXPANEL] = {"properties.distinct_id", NULL, "properties.$device_id", "event",
                                 "properties.time", "properties.$session_id",
                                 "properties.$insert_id", "properties", NULL, mixpanel_ip},
    [DOPPEL_DIALECT_GA4] = {"user_id", "user_pseudo_id", "user_pseudo_id", "event_name",
                            "event_timestamp", "event_params.ga_session_id", NULL, "event_params",
                            "user_properties", ga4_ip},
};

const doppel_field_map *doppel_dialect_fields(doppel_dialect d) {
  if ((unsigned)d >= DOPPEL_DIALECT_COUNT) d = DOPPEL_DIALECT_GENERIC;
  return &field_maps[d];
}

/* ---- detector --------------------------------------------------------------- */

/* Signature keys probed in every record (bit i = probes[i]). */
enum {
  K_EVENT_TYPE,
  K_EVENT_TIME,
  K_EVENT_PROPERTIES,
  K_AMPLITUDE_ID,
  K_USERID,
  K_ANONYMOUSID,
  K_MESSAGEID,
  K_TIMESTAMP,
  K_TYPE_TRACK, /* "type": "track" (value test, JSON only) */
  K_EVENT,
  K_P_DISTINCT_ID,
  K_P_TIME,
  K_EVENT_NAME,
  K_EVENT_TIMESTAMP,
  K_USER_PSEUDO_ID,
  K_EVENT_PARAMS,
  K_USER_ID,
  K_TIME,
  K_COUNT
};

static const char *const probes[K_COUNT] = {
    [K_EVENT_TYPE] = "event_type",
    [K_EVENT_TIME] = "event_time",
    [K_EVENT_PROPERTIES] = "event_properties",
    [K_AMPLITUDE_ID] = "amplitude_id",
    [K_USERID] = "userId",
    [K_ANONYMOUSID] = "anonymousId",
    [K_MESSAGEID] = "messageId",
    [K_TIMESTAMP] = "timestamp",
    [K_TYPE_TRACK] = "type",
    [K_EVENT] = "event",
    [K_P_DISTINCT_ID] = "properties.distinct_id",
    [K_P_TIME] = "properties.time",
    [K_EVENT_NAME] = "event_name",
    [K_EVENT_TIMESTAMP] = "event_timestamp",
    [K_USER_PSEUDO_ID] = "user_pseudo_id",
    [K_EVENT_PARAMS] = "event_params",
    [K_USER_ID] = "user_id",
    [K_TIME] = "time",
};

#define B(k) (UINT32_C(1) << (k))

/* Which probe bits belong to each dialect's evidence. */
static const uint32_t dialect_keys[DOPPEL_DIALECT_COUNT] = {
    [DOPPEL_DIALECT_AUTO] = 0,
    [DOPPEL_DIALECT_GENERIC] = B(K_EVENT) | B(K_USER_ID) | B(K_TIME),
    [DOPPEL_DIALECT_AMPLITUDE] =
        B(K_EVENT_TYPE) | B(K_EVENT_TIME) | B(K_EVENT_PROPERTIES) | B(K_AMPLITUDE_ID),
    [DOPPEL_DIALECT_SEGMENT] = B(K_USERID) | B(K_ANONYMOUSID) | B(K_MESSAGEID) | B(K_TIMESTAMP) |
                               B(K_TYPE_TRACK),
    [DOPPEL_DIALECT_MIXPANEL] = B(K_EVENT) | B(K_P_DISTINCT_ID) | B(K_P_TIME),
    [DOPPEL_DIALECT_GA4] =
        B(K_EVENT_NAME) | B(K_EVENT_TIMESTAMP) | B(K_USER_PSEUDO_ID) | B(K_EVENT_PARAMS),
};

static int rule_matches(doppel_dialect d, uint32_t m) {
  switch (d) {
    case DOPPEL_DIALECT_AMPLITUDE:
      return (m & B(K_EVENT_TYPE)) &&
             (m & (B(K_EVENT_TIME) | B(K_EVENT_PROPERTIES) | B(K_AMPLITUDE_ID)));
    case DOPPEL_DIALECT_SEGMENT:
      return ((m & (B(K_USERID) | B(K_ANONYMOUSID))) && (m & (B(K_MESSAGEID) | B(K_TIMESTAMP)))) ||
             (m & B(K_TYPE_TRACK));
    case DOPPEL_DIALECT_MIXPANEL:
      return (m & B(K_EVENT)) && (m & (B(K_P_DISTINCT_ID) | B(K_P_TIME)));
    case DOPPEL_DIALECT_GA4:
      return (m & B(K_EVENT_NAME)) &&
             (m & (B(K_EVENT_TIMESTAMP) | B(K_USER_PSEUDO_ID) | B(K_EVENT_PARAMS)));
    case DOPPEL_DIALECT_GENERIC:
      return (m & B(K_EVENT)) && (m & (B(K_USER_ID) | B(K_TIME)));
    default:
      return 0;
  }
}

static void vote(doppel_dialect_detector *det, uint32_t m) {
  if (det->records < UINT32_MAX) det->records++;
  for (unsigned d = DOPPEL_DIALECT_GENERIC; d < DOPPEL_DIALECT_COUNT; d++) {
    if (!rule_matches((doppel_dialect)d, m)) continue;
    if (det->score[d] < UINT32_MAX) det->score[d]++;
    det->keys[d] |= m & dialect_keys[d];
  }
}

void doppel_dialect_detector_init(doppel_dialect_detector *det) {
  if (det) memset(det, 0, sizeof *det);
}

void doppel_dialect_detector_add_json(doppel_dialect_detector *det, const doppel_json_doc *doc) {
  if (!det) return;
  uint32_t m = 0;
  if (doc && doc->count > 0 && doc->nodes[0].type == DOPPEL_JSON_OBJECT) {
    for (unsigned k = 0; k < K_COUNT; k++) {
      const uint32_t i = doppel_json_lookup(doc, 0, probes[k]);
      if (i == DOPPEL_JSON_NONE) continue;
      if (k == K_TYPE_TRACK) {
        if (doc->nodes[i].type != DOPPEL_JSON_STRING) continue;
        size_t n;
        const char *s = doppel_json_str(doc, i, &n);
        if (n != 5 || memcmp(s, "track", 5) != 0) continue;
      }
      m |= B(k);
    }
  }
  vote(det, m);
}

void doppel_dialect_detector_add_names(doppel_dialect_detector *det, const char *const *names,
                                       const size_t *lens, size_t n) {
  if (!det) return;
  uint32_t m = 0;
  for (size_t c = 0; names && lens && c < n; c++) {
    if (!names[c]) continue;
    for (unsigned k = 0; k < K_COUNT; k++) {
      if (k == K_TYPE_TRACK) continue; /* needs a value */
      const size_t pl = strlen(probes[k]);
      if (lens[c] == pl && memcmp(names[c], probes[k], pl) == 0) m |= B(k);
    }
  }
  vote(det, m);
}

doppel_dialect doppel_dialect_detector_result(const doppel_dialect_detector *det, char *evidence,
                                              size_t evidence_size) {
  doppel_dialect best = DOPPEL_DIALECT_GENERIC;
  uint32_t best_score = 0;
  if (det) {
    for (unsigned d = DOPPEL_DIALECT_AMPLITUDE; d < DOPPEL_DIALECT_COUNT; d++) {
      if (det->score[d] > best_score) {
        best = (doppel_dialect)d;
        best_score = det->score[d];
      }
    }
    if (det->score[DOPPEL_DIALECT_GENERIC] > best_score) {
      best = DOPPEL_DIALECT_GENERIC;
      best_score = det->score[DOPPEL_DIALECT_GENERIC];
    }
  }
  if (!evidence || evidence_size == 0) return best;
  evidence[0] = '\0';
  const uint32_t records = det ? det->records : 0;
  if (best_score == 0) {
    if (records == 0)
      snprintf(evidence, evidence_size, "generic (fallback): no records seen");
    else
      snprintf(evidence, evidence_size,
               "generic (fallback): no dialect's signature keys in %u records", (unsigned)records);
    return best;
  }
  size_t used = 0;
  int w = snprintf(evidence, evidence_size, "%s:", doppel_dialect_name(best));
  used = (w < 0) ? 0 : ((size_t)w >= evidence_size ? evidence_size - 1 : (size_t)w);
  const char *sep = " ";
  for (unsigned k = 0; k < K_COUNT; k++) {
    if (!(det->keys[best] & B(k))) continue;
    if (k == K_TYPE_TRACK)
      w = snprintf(evidence + used, evidence_size - used, "%stype \"track\"", sep);
    else
      w = snprintf(evidence + used, evidence_size - used, "%s%s", sep, probes[k]);
    used = (w < 0) ? used : ((size_t)w >= evidence_size - used ? evidence_size - 1 : used + (size_t)w);
    sep = ", ";
  }
  snprintf(evidence + used, evidence_size - used, " in %u/%u records", (unsigned)best_score,
           (unsigned)records);
  return best;
}
