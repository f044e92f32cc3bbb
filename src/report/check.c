/*
 * check.c — is this document a profile the report can read? The format tag
 * (with pointed messages for states, policies and other versions) and the
 * types of the sections the renderer walks (objects, arrays, named events,
 * fields and properties, 168-cell hour-of-week arrays). Scalars are not
 * checked here: the renderer reads them tolerantly (a missing or mistyped
 * number shows as an em dash). Also the tolerant value readers.
 */
#include <stdio.h>
#include <string.h>

#include "core/diag.h"
#include "report/report_int.h"

const json_t *dp_jget(const json_t *obj, const char *key) {
  if (!json_is_object(obj)) return NULL;
  const json_t *v = json_object_get(obj, key);
  return json_is_null(v) ? NULL : v;
}

const json_t *dp_jpath(const json_t *root, const char *path) {
  char key[128];
  const json_t *v = root;
  while (v && *path) {
    const char *dot = strchr(path, '.');
    size_t n = dot ? (size_t)(dot - path) : strlen(path);
    if (n >= sizeof key) return NULL;
    memcpy(key, path, n);
    key[n] = '\0';
    v = dp_jget(v, key);
    path += n + (dot ? 1 : 0);
  }
  return v;
}

int dp_jnum(const json_t *v, double *out) {
  if (!json_is_number(v)) return 0;
  *out = json_number_value(v);
  return 1;
}

int dp_jnum_at(const json_t *obj, const char *key, double *out) { return dp_jnum(dp_jget(obj, key), out); }

const char *dp_jstr_at(const json_t *obj, const char *key) {
  const json_t *v = dp_jget(obj, key);
  return json_is_string(v) ? json_string_value(v) : NULL;
}

int dp_dist_q(const json_t *dist, int i, double *out) {
  const json_t *q = dp_jget(dist, "q");
  if (!json_is_array(q) || json_array_size(q) != 101 || i < 0 || i > 100) return 0;
  return dp_jnum(json_array_get(q, (size_t)i), out);
}

const char *dp_jtype_name(const json_t *v) {
  switch (json_typeof(v)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER:
    case JSON_REAL: return "a number";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    default: return "null";
  }
}

#define BAD(...) dp_diag_set(diag, DOPPEL_E_DATA, NULL, 0, 0, __VA_ARGS__)

/* section: absent, null or an object */
static doppel_status want_object(const json_t *parent, const char *key, const char *where, doppel_diag *diag) {
  const json_t *v = json_object_get(parent, key);
  if (!v || json_is_null(v) || json_is_object(v)) return DOPPEL_OK;
  return BAD("%s%s\"%s\" must be an object, got %s", where, where[0] ? ": " : "", key, dp_jtype_name(v));
}

static doppel_status want_array(const json_t *parent, const char *key, const char *where, doppel_diag *diag) {
  const json_t *v = json_object_get(parent, key);
  if (!v || json_is_null(v) || json_is_array(v)) return DOPPEL_OK;
  return BAD("%s%s\"%s\" must be an array, got %s", where, where[0] ? ": " : "", key, dp_jtype_name(v));
}

/* Every element of parent[key] (when an array) is an object, and its
 * member `name` (when given) is a string (required: must be present). */
static doppel_status want_items(const json_t *parent, const char *key, const char *where, const char *name,
                                int required, doppel_diag *diag) {
  doppel_status st = want_array(parent, key, where, diag);
  if (st != DOPPEL_OK) return st;
  const json_t *a = json_object_get(parent, key);
  size_t i;
  const json_t *it;
  json_array_foreach(a, i, it) {
    if (!json_is_object(it))
      return BAD("%s%s%s[%zu] must be an object, got %s", where, where[0] ? "." : "", key, i, dp_jtype_name(it));
    if (!name) continue;
    const json_t *v = json_object_get(it, name);
    if ((!v && required) || (v && !json_is_string(v)))
      return BAD("%s%s%s[%zu]: \"%s\" must be a string, got %s", where, where[0] ? "." : "", key, i, name,
                 v ? dp_jtype_name(v) : "nothing");
  }
  return DOPPEL_OK;
}

static doppel_status want_168(const json_t *parent, const char *key, const char *where, doppel_diag *diag) {
  const json_t *v = json_object_get(parent, key);
  if (!v || json_is_null(v)) return DOPPEL_OK;
  if (!json_is_array(v))
    return BAD("%s.%s must be an array of 168 numbers (one per hour of the week), got %s", where, key,
               dp_jtype_name(v));
  if (json_array_size(v) != 168)
    return BAD("%s.%s must have 168 numbers (one per hour of the week, Monday 00:00 UTC first), got %zu", where,
               key, json_array_size(v));
  size_t i;
  const json_t *c;
  json_array_foreach(v, i, c) if (!json_is_number(c))
    return BAD("%s.%s[%zu] must be a number, got %s", where, key, i, dp_jtype_name(c));
  return DOPPEL_OK;
}

doppel_status doppel_report_check(const json_t *p, doppel_diag *diag) {
  if (!p) return BAD("not a doppel profile: no document");
  if (!json_is_object(p))
    return BAD("not a doppel profile: the document is %s, expected an object with \"format\": \"doppel-profile/1\"",
               dp_jtype_name(p));
  const json_t *f = json_object_get(p, "format");
  if (!f) return BAD("not a doppel profile: no \"format\" key (expected \"format\": \"doppel-profile/1\")");
  if (!json_is_string(f))
    return BAD("not a doppel profile: \"format\" is %s, expected the string \"doppel-profile/1\"", dp_jtype_name(f));
  const char *fs = json_string_value(f);
  if (!strcmp(fs, "doppel-profile-state/1"))
    return BAD("this is a partial profile state (doppel-profile-state/1), not a profile: "
               "finalize it with 'doppel merge STATE -o PROFILE.json' and report on that");
  if (!strcmp(fs, "doppel-policy/1")) return BAD("this is a policy (doppel-policy/1), not a profile");
  if (!strncmp(fs, "doppel-profile/", 15) && strcmp(fs, "doppel-profile/1") != 0)
    return BAD("unsupported profile version \"%.64s\" (this doppel reads doppel-profile/1)", fs);
  if (strcmp(fs, "doppel-profile/1") != 0)
    return BAD("not a doppel profile: \"format\" is \"%.64s\" (expected \"doppel-profile/1\")", fs);

  static const char *const objects[] = {"generator", "source", "population", "identifiers",
                                        "events", "sessions", "time", "privacy"};
  doppel_status st;
  for (size_t i = 0; i < sizeof objects / sizeof objects[0]; i++)
    if ((st = want_object(p, objects[i], "", diag)) != DOPPEL_OK) return st;
  const json_t *src = dp_jget(p, "source");
  if (src) {
    if ((st = want_items(src, "files", "source", "name", 0, diag)) != DOPPEL_OK) return st;
    if ((st = want_items(src, "parse_errors", "source", "kind", 0, diag)) != DOPPEL_OK) return st;
    static const char *const so[] = {"skipped", "time_span", "parameters"};
    for (size_t i = 0; i < 3; i++)
      if ((st = want_object(src, so[i], "source", diag)) != DOPPEL_OK) return st;
  }
  const json_t *ids = dp_jget(p, "identifiers");
  if (ids) {
    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)ids, key, v) {
      if (!json_is_null(v) && !json_is_object(v))
        return BAD("identifiers: \"%.64s\" must be an object or null, got %s", key, dp_jtype_name(v));
    }
  }
  const json_t *ev = dp_jget(p, "events");
  if (ev) {
    if ((st = want_items(ev, "list", "events", "name", 1, diag)) != DOPPEL_OK) return st;
    const json_t *list = dp_jget(ev, "list");
    size_t i;
    const json_t *it;
    json_array_foreach(list, i, it) {
      const json_t *nx = json_object_get(it, "next");
      if (nx && !json_is_null(nx) && !json_is_object(nx))
        return BAD("events.list[%zu]: \"next\" must be an object, got %s", i, dp_jtype_name(nx));
    }
    if ((st = want_items(ev, "paths", "events", NULL, 0, diag)) != DOPPEL_OK) return st;
    if ((st = want_items(ev, "funnels", "events", NULL, 0, diag)) != DOPPEL_OK) return st;
    if ((st = want_object(ev, "suppressed", "events", diag)) != DOPPEL_OK) return st;
    static const char *const arrs[] = {"paths", "funnels"};
    for (size_t a = 0; a < 2; a++) {
      json_array_foreach(dp_jget(ev, arrs[a]), i, it) {
        const json_t *s = json_object_get(it, "steps");
        if (s && !json_is_array(s))
          return BAD("events.%s[%zu]: \"steps\" must be an array, got %s", arrs[a], i, dp_jtype_name(s));
      }
    }
  }
  if ((st = want_items(p, "funnels", "", NULL, 0, diag)) != DOPPEL_OK) return st;
  if ((st = want_items(p, "properties", "", "path", 1, diag)) != DOPPEL_OK) return st;
  if ((st = want_items(p, "user_properties", "", "path", 1, diag)) != DOPPEL_OK) return st;
  if ((st = want_items(p, "warnings", "", NULL, 0, diag)) != DOPPEL_OK) return st;
  static const char *const parr[] = {"properties", "user_properties"};
  for (size_t a = 0; a < 2; a++) {
    size_t i;
    const json_t *it;
    json_array_foreach(dp_jget(p, parr[a]), i, it) {
      const json_t *e = json_object_get(it, "event");
      if (e && !json_is_null(e) && !json_is_string(e))
        return BAD("%s[%zu]: \"event\" must be a string or null, got %s", parr[a], i, dp_jtype_name(e));
      static const char *const po[] = {"types", "values", "string", "number", "constancy", "timestamp", "array"};
      for (size_t k = 0; k < sizeof po / sizeof po[0]; k++) {
        const json_t *v = json_object_get(it, po[k]);
        if (v && !json_is_null(v) && !json_is_object(v))
          return BAD("%s[%zu]: \"%s\" must be an object, got %s", parr[a], i, po[k], dp_jtype_name(v));
      }
    }
  }
  const json_t *pr = dp_jget(p, "privacy");
  if (pr) {
    if ((st = want_items(pr, "fields", "privacy", "path", 1, diag)) != DOPPEL_OK) return st;
    if ((st = want_object(pr, "suppressed", "privacy", diag)) != DOPPEL_OK) return st;
    size_t i;
    const json_t *it;
    json_array_foreach(dp_jget(pr, "fields"), i, it) {
      static const char *const fo[] = {"evidence", "treatment"};
      for (size_t k = 0; k < 2; k++) {
        const json_t *v = json_object_get(it, fo[k]);
        if (v && !json_is_null(v) && !json_is_object(v))
          return BAD("privacy.fields[%zu]: \"%s\" must be an object, got %s", i, fo[k], dp_jtype_name(v));
      }
    }
  }
  const json_t *se = dp_jget(p, "sessions");
  if (se && (st = want_168(se, "start_hour_of_week", "sessions", diag)) != DOPPEL_OK) return st;
  const json_t *tm = dp_jget(p, "time");
  if (tm) {
    if ((st = want_168(tm, "hour_of_week", "time", diag)) != DOPPEL_OK) return st;
    if ((st = want_object(tm, "retention", "time", diag)) != DOPPEL_OK) return st;
    const json_t *ret = dp_jget(tm, "retention");
    static const char *const units[] = {"day", "week", "cohorts"};
    for (size_t u = 0; ret && u < 3; u++)
      if ((st = want_object(ret, units[u], "time.retention", diag)) != DOPPEL_OK) return st;
    for (size_t u = 0; ret && u < 2; u++) {
      const json_t *r = dp_jget(ret, units[u]);
      static const char *const ra[] = {"n", "share", "users"};
      for (size_t k = 0; r && k < 3; k++) {
        char where[64];
        snprintf(where, sizeof where, "time.retention.%s", units[u]);
        if ((st = want_array(r, ra[k], where, diag)) != DOPPEL_OK) return st;
      }
    }
    const json_t *co = ret ? dp_jget(ret, "cohorts") : NULL;
    if (co && (st = want_items(co, "rows", "time.retention.cohorts", NULL, 0, diag)) != DOPPEL_OK) return st;
    static const char *const series[] = {"events_per_day", "events_per_week", "new_users_per_day",
                                         "new_users_per_week"};
    for (size_t k = 0; k < 4; k++) {
      if ((st = want_object(tm, series[k], "time", diag)) != DOPPEL_OK) return st;
      const json_t *s = dp_jget(tm, series[k]);
      char where[64];
      snprintf(where, sizeof where, "time.%s", series[k]);
      if (s && (st = want_array(s, "counts", where, diag)) != DOPPEL_OK) return st;
    }
  }
  return DOPPEL_OK;
}
