/*
 * test_pseudo.c — policies, path globs, and the pseudonymizer on JSON and
 * CSV records: default treatments, exact preservation of untouched bytes,
 * join consistency, domain separation, policy actions, drops that keep the
 * JSON valid, the whole job with malformed lines and --strict, and a golden
 * output for the generic fixture (DOPPEL_UPDATE_GOLDEN=1 rewrites it).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <ctype.h>
#include <jansson.h>

#include <doppel/doppel.h>

#include "test_util.h"

static doppel_key *test_key(uint8_t base) {
  uint8_t b[32];
  for (int i = 0; i < 32; i++) b[i] = (uint8_t)(base + i);
  doppel_key *k = NULL;
  assert_int_equal(doppel_key_from_bytes(&k, b, 32), DOPPEL_OK);
  return k;
}

/* nth line (0-based) of a fixture, without newline; caller frees */
static char *fixture_line(const char *name, int nth) {
  char path[512];
  snprintf(path, sizeof path, "%s/fixtures/%s", DOPPEL_SOURCE_DIR, name);
  char *all = tu_read_file(path, NULL);
  assert_non_null(all);
  char *s = all;
  for (int i = 0; i < nth; i++) {
    s = strchr(s, '\n');
    assert_non_null(s);
    s++;
  }
  char *e = strchr(s, '\n');
  size_t n = e ? (size_t)(e - s) : strlen(s);
  char *r = malloc(n + 1);
  memcpy(r, s, n);
  r[n] = '\0';
  free(all);
  return r;
}

/* rewrite rec with p; returns a malloc'd NUL-terminated copy */
static char *rewrite(doppel_pseudonymizer *p, const char *rec) {
  const char *o;
  size_t on;
  doppel_diag d;
  doppel_diag_clear(&d);
  doppel_status st = doppel_pseudonymizer_json(p, rec, strlen(rec), &o, &on, &d);
  if (st != DOPPEL_OK) fail_msg("rewrite failed: %s", d.text);
  char *r = malloc(on + 1);
  memcpy(r, o, on);
  r[on] = '\0';
  return r;
}

static json_t *parse_ok(const char *s) {
  json_error_t e;
  json_t *j = json_loads(s, JSON_DECODE_ANY | JSON_DECODE_INT_AS_REAL, &e);
  if (!j) fail_msg("output is not valid JSON: %s\n%s", e.text, s);
  return j;
}

static const char *jstr(json_t *root, const char *path) {
  char buf[256];
  snprintf(buf, sizeof buf, "%s", path);
  json_t *cur = root;
  for (char *tok = strtok(buf, "."); tok && cur; tok = strtok(NULL, ".")) cur = json_object_get(cur, tok);
  return cur && json_is_string(cur) ? json_string_value(cur) : NULL;
}

static int is_hex(const char *s, size_t n) {
  if (!s || strlen(s) != n) return 0;
  for (size_t i = 0; i < n; i++)
    if (!isxdigit((unsigned char)s[i]) || isupper((unsigned char)s[i])) return 0;
  return 1;
}

static int ends_with(const char *s, const char *suffix) {
  size_t n = strlen(s), m = strlen(suffix);
  return n >= m && !strcmp(s + n - m, suffix);
}

static void test_path_match(void **state) {
  (void)state;
  assert_true(doppel_path_match("properties.email", "properties.email", 16));
  assert_false(doppel_path_match("properties.email", "properties.emails", 17));
  assert_true(doppel_path_match("properties.*email*", "properties.author_email", 23));
  assert_false(doppel_path_match("properties.*email*", "context.author_email", 20));
  assert_false(doppel_path_match("*", "a.b", 3));
  assert_true(doppel_path_match("**", "a.b.c", 5));
  assert_true(doppel_path_match("**.email", "a.b.email", 9));
  assert_true(doppel_path_match("**.email", "email", 5));
  assert_true(doppel_path_match("a.**.z", "a.z", 3));
  assert_true(doppel_path_match("a.**.z", "a.b.c.z", 7));
  assert_false(doppel_path_match("a.**.z", "a.b.c.y", 7));
  assert_true(doppel_path_match("properties.nested.**", "properties.nested.contact.email", 31));
  assert_true(doppel_path_match("properties.nested.**", "properties.nested", 17));
  assert_true(doppel_path_match("a.**.**", "a", 1));
  assert_false(doppel_path_match("a.**.b", "a", 1));
  /* many "**" against a long path that does not match: must stay linear-ish
   * (an exponential matcher never returns here) */
  char glob[512] = "", path[512] = "";
  for (int i = 0; i < 60; i++) strcat(glob, "**.");
  strcat(glob, "x");
  for (int i = 0; i < 100; i++) strcat(path, i ? ".a" : "a");
  assert_false(doppel_path_match(glob, path, strlen(path)));
  path[strlen(path) - 1] = 'x';
  assert_true(doppel_path_match(glob, path, strlen(path)));
  assert_true(doppel_path_match("**.b*.**.d", "a.bc.x.y.d", 10));
  assert_false(doppel_path_match("**.b*.**.d", "a.cb.x.y.d", 10));
}

static void test_policy_errors(void **state) {
  (void)state;
  static const struct { const char *json; const char *fragment; } cases[] = {
      {"[]", "JSON object"},
      {"{}", "missing \"rules\""},
      {"{\"rules\": [{\"action\": \"hash\"}]}", "rule 1: missing \"path\""},
      {"{\"rules\": [{\"path\": \"a\"}]}", "rule 1 (path 'a'): missing \"action\""},
      {"{\"rules\": [{\"path\": \"a\", \"action\": \"keep\"}, {\"path\": \"b\", \"action\": \"hsh\"}]}",
       "rule 2 (path 'b'): unknown action 'hsh'"},
      {"{\"rules\": [{\"path\": \"a\", \"action\": \"hash\", \"bits\": 12}]}", "\"bits\" must be"},
      {"{\"rules\": [{\"path\": \"a\", \"action\": \"hash\", \"colour\": 1}]}", "unknown key \"colour\""},
      {"{\"rules\": [{\"path\": \"a\", \"action\": \"hash\", \"truncate\": \"day\"}]}", "need \"action\": \"generalize\""},
      {"{\"rules\": [{\"path\": \"a\", \"action\": \"generalize\", \"truncate\": \"week\"}]}", "\"truncate\" must be"},
      {"{\"rules\": [{\"path\": \"a\", \"action\": \"generalize\", \"bucket\": 0}]}", "\"bucket\" must be a positive"},
      {"{\"rules\": [{\"path\": \"a\", \"action\": \"generalize\", \"bucket\": 5, \"round\": 2}]}", "only one of"},
      {"{\"rules\": [{\"path\": \"a\", \"action\": \"drop\", \"domain\": \"x\"}]}", "apply to \"action\": \"hash\" only"},
      {"{\"format\": \"doppel-policy/9\", \"rules\": []}", "unsupported policy \"format\""},
      {"{\"rules\": [], \"rulez\": 1}", "unknown top-level key \"rulez\""},
      {"{\"rules\": [{\"path\": \"a\", \"action\": \"hash\", \"format\": \"base64\"}]}", "\"format\" must be one of"},
      {"{\"rules\": [ {\"path\": \"a\", ", "invalid policy JSON"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    doppel_policy *p = (doppel_policy *)1;
    doppel_diag d;
    doppel_diag_clear(&d);
    doppel_status st = doppel_policy_parse(&p, cases[i].json, strlen(cases[i].json), "pol.json", &d);
    assert_int_equal(st, DOPPEL_E_POLICY);
    assert_null(p);
    if (!strstr(d.text, cases[i].fragment)) fail_msg("case %zu: '%s' lacks '%s'", i, d.text, cases[i].fragment);
    assert_string_equal(d.source, "pol.json");
    assert_int_equal(doppel_status_exit_code(st), 2);
  }
  doppel_policy *p = NULL;
  char path[512];
  snprintf(path, sizeof path, "%s/fixtures/policy/example.json", DOPPEL_SOURCE_DIR);
  doppel_diag d;
  assert_int_equal(doppel_policy_load(&p, path, &d), DOPPEL_OK);
  assert_int_equal(doppel_policy_rule_count(p), 9);
  doppel_policy_free(p);
  assert_int_equal(doppel_policy_load(&p, "/nonexistent/policy.json", &d), DOPPEL_E_IO);
  assert_non_null(strstr(d.text, "/nonexistent/policy.json"));
}

static void test_default_record1(void **state) {
  (void)state;
  doppel_key *k = test_key(0);
  doppel_pseudonymizer *p;
  assert_int_equal(doppel_pseudonymizer_new(&p, k, NULL, DOPPEL_DIALECT_GENERIC, NULL), DOPPEL_OK);
  char *in = fixture_line("events/generic.jsonl", 0);
  char *out = rewrite(p, in);
  json_t *j = parse_ok(out);
  const char *uid = jstr(j, "user_id");
  assert_non_null(uid);
  assert_true(ends_with(uid, "@email.invalid"));
  /* same e-mail in another field (other case) → same pseudonym: joins survive */
  assert_string_equal(jstr(j, "properties.email"), uid);
  const char *phone = jstr(j, "properties.phone");
  assert_int_equal(strlen(phone), strlen("+1 (415) 555-0100"));
  assert_memory_equal(phone, "+1 (", 4);
  assert_string_not_equal(phone, "+1 (415) 555-0100");
  assert_true(is_hex(jstr(j, "properties.full_name"), 32));
  const char *note = jstr(j, "properties.note");
  assert_null(strstr(note, "jane.doe@example.com"));
  assert_null(strstr(note, "7946"));
  assert_non_null(strstr(note, "call me at +44 "));
  assert_non_null(strstr(note, uid)); /* e-mail in text → the same e-mail pseudonym */
  /* untouched bytes verbatim */
  assert_non_null(strstr(out, "\"price\":0.1,"));
  assert_non_null(strstr(out, "\"big\":12345678901234567890123,"));
  assert_non_null(strstr(out, "\"plan\":\"pro\""));
  assert_non_null(strstr(out, "\"ok\":true,\"nothing\":null}}"));
  assert_non_null(strstr(out, "\"event\":\"Sign Up\",\"time\":\"2024-01-09T10:23:45+02:00\""));
  assert_null(strstr(out, "Jane"));
  assert_null(strstr(out, "example.com"));
  /* determinism: a new pseudonymizer gives the same bytes */
  doppel_pseudonymizer *p2;
  assert_int_equal(doppel_pseudonymizer_new(&p2, k, NULL, DOPPEL_DIALECT_GENERIC, NULL), DOPPEL_OK);
  char *out2 = rewrite(p2, in);
  assert_string_equal(out, out2);
  /* another key → other pseudonyms */
  doppel_key *k2 = test_key(1);
  doppel_pseudonymizer *p3;
  assert_int_equal(doppel_pseudonymizer_new(&p3, k2, NULL, DOPPEL_DIALECT_GENERIC, NULL), DOPPEL_OK);
  char *out3 = rewrite(p3, in);
  json_t *j3 = parse_ok(out3);
  assert_string_not_equal(jstr(j3, "user_id"), uid);
  json_decref(j3);
  json_decref(j);
  free(out3);
  free(out2);
  free(out);
  free(in);
  doppel_pseudonymizer_free(p3);
  doppel_pseudonymizer_free(p2);
  doppel_pseudonymizer_free(p);
  doppel_key_free(k2);
  doppel_key_free(k);
}

static void test_default_records234(void **state) {
  (void)state;
  doppel_key *k = test_key(0);
  doppel_pseudonymizer *p;
  assert_int_equal(doppel_pseudonymizer_new(&p, k, NULL, DOPPEL_DIALECT_GENERIC, NULL), DOPPEL_OK);
  char *in1 = fixture_line("events/generic.jsonl", 0);
  char *o1 = rewrite(p, in1);
  json_t *j1 = parse_ok(o1);

  char *in = fixture_line("events/generic.jsonl", 1);
  char *out = rewrite(p, in);
  json_t *j = parse_ok(out);
  assert_true(is_hex(jstr(j, "user_id"), 32));
  const char *dev = jstr(j, "device_id");
  assert_int_equal(strlen(dev), 36);
  assert_int_equal(dev[14], '8'); /* UUID-shaped pseudonym, version 8 */
  const char *url = jstr(j, "properties.url");
  assert_null(strstr(url, "bob"));
  assert_non_null(strstr(url, "https://shop.example.com/cart?email="));
  assert_non_null(strstr(url, "&utm_source=news"));
  assert_non_null(strstr(out, "\"caf\\u00e9\":\"cr\\u00e8me\"")); /* escapes kept */
  const char *ip = jstr(j, "properties.ip");
  assert_int_not_equal(strcmp(ip, "203.0.113.77"), 0);
  assert_true(atoi(ip) >= 240);
  json_t *tags = json_object_get(json_object_get(j, "properties"), "tags");
  assert_string_equal(json_string_value(json_array_get(tags, 0)), "a");
  assert_true(ends_with(json_string_value(json_array_get(tags, 2)), "@email.invalid"));
  assert_non_null(strstr(out, "\"time\":1704795825123,"));
  json_decref(j);
  free(out);
  free(in);

  in = fixture_line("events/generic.jsonl", 2);
  out = rewrite(p, in);
  j = parse_ok(out);
  assert_true(is_hex(jstr(j, "properties.card"), 32));
  assert_true(is_hex(jstr(j, "properties.iban"), 32));
  assert_true(is_hex(jstr(j, "properties.ssn"), 32));
  const char *comment = jstr(j, "properties.comment");
  assert_null(strstr(comment, "5555555555554444"));
  assert_non_null(strstr(comment, "paid with card "));
  assert_non_null(strstr(comment, ", thanks"));
  assert_true(ends_with(jstr(j, "properties.nested.contact.email"), "@email.invalid"));
  assert_non_null(strstr(out, "\"score\":-0.0}"));
  assert_non_null(strstr(out, "\"amount\":1e3,"));
  assert_non_null(strstr(out, "\"time\":\"2024-01-09 10:25:00.123456\""));
  json_decref(j);
  free(out);
  free(in);

  in = fixture_line("events/generic.jsonl", 3);
  out = rewrite(p, in);
  j = parse_ok(out);
  /* personal data used as a key: replaced by the same e-mail pseudonym */
  assert_non_null(json_object_get(json_object_get(j, "properties"), jstr(j1, "user_id")));
  assert_null(strstr(out, "jane"));
  assert_non_null(strstr(out, "\"escaped\":\"line\\nbreak \\\"quoted\\\" \\/slash\""));
  assert_non_null(strstr(out, "\"ua\":\"Mozilla/5.0 (X11; Linux x86_64)\""));
  json_decref(j);
  free(out);
  free(in);
  json_decref(j1);
  free(o1);
  free(in1);
  doppel_pseudonymizer_free(p);
  doppel_key_free(k);
}

static doppel_policy *policy_from(const char *json) {
  doppel_policy *pol = NULL;
  doppel_diag d;
  doppel_status st = doppel_policy_parse(&pol, json, strlen(json), "test", &d);
  if (st != DOPPEL_OK) fail_msg("policy: %s", d.text);
  return pol;
}

static void test_policy_actions(void **state) {
  (void)state;
  doppel_key *k = test_key(0);
  char path[512];
  snprintf(path, sizeof path, "%s/fixtures/policy/example.json", DOPPEL_SOURCE_DIR);
  doppel_policy *pol;
  doppel_diag d;
  assert_int_equal(doppel_policy_load(&pol, path, &d), DOPPEL_OK);
  doppel_pseudonymizer *p;
  assert_int_equal(doppel_pseudonymizer_new(&p, k, pol, DOPPEL_DIALECT_GENERIC, NULL), DOPPEL_OK);
  char *in = fixture_line("events/generic.jsonl", 0);
  char *out = rewrite(p, in);
  json_t *j = parse_ok(out);
  assert_string_equal(jstr(j, "properties.plan"), "pro");
  assert_string_equal(jstr(j, "time"), "2024-01-09T10:00:00+02:00");
  assert_null(json_object_get(json_object_get(j, "properties"), "full_name"));
  assert_null(json_object_get(json_object_get(j, "properties"), "phone"));
  assert_true(ends_with(jstr(j, "properties.email"), "@email.invalid"));
  json_decref(j);
  free(out);
  free(in);
  in = fixture_line("events/generic.jsonl", 1);
  out = rewrite(p, in);
  j = parse_ok(out);
  assert_string_equal(jstr(j, "properties.ip"), "203.0.113.0");
  assert_int_equal(strlen(jstr(j, "device_id")), 36);
  assert_non_null(strstr(out, "\"time\":1704794400000,")); /* epoch ms truncated to the hour */
  json_decref(j);
  free(out);
  free(in);
  in = fixture_line("events/generic.jsonl", 2);
  out = rewrite(p, in);
  j = parse_ok(out);
  const char *ne = jstr(j, "properties.nested.contact.email");
  assert_true(ends_with(ne, "@nested.invalid")); /* format auto keeps the e-mail shape */
  assert_int_equal(strchr(ne, '@') - ne, 16);     /* bits 64 */
  assert_non_null(strstr(out, "\"amount\":1000,"));
  json_decref(j);
  free(out);
  free(in);
  doppel_pseudonymizer_free(p);
  doppel_policy_free(pol);
  doppel_key_free(k);
}

static void test_drop_keeps_json_valid(void **state) {
  (void)state;
  doppel_key *k = test_key(0);
  static const struct { const char *rules; const char *in; const char *out; } cases[] = {
      {"[\"a\",\"c\"]", "{\"a\":1,\"b\":2,\"c\":3}", "{\"b\":2}"},
      {"[\"b\",\"c\"]", "{\"a\":1,\"b\":2,\"c\":3}", "{\"a\":1}"},
      {"[\"a\",\"b\"]", "{\"a\":1,\"b\":2,\"c\":3}", "{\"c\":3}"},
      {"[\"a\",\"b\",\"c\"]", "{\"a\":1,\"b\":2,\"c\":3}", "{}"},
      {"[\"b\"]", "{ \"a\" : 1 , \"b\" : [1,{\"x\":2}] , \"c\" : 3 }", "{ \"a\" : 1 , \"c\" : 3 }"},
      {"[\"o.x\"]", "{\"o\":{\"x\":1},\"p\":2}", "{\"o\":{},\"p\":2}"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char pol_json[512];
    json_error_t e;
    json_t *paths = json_loads(cases[i].rules, 0, &e);
    json_t *rules = json_array();
    size_t idx;
    json_t *v;
    json_array_foreach(paths, idx, v) json_array_append_new(rules, json_pack("{s:O,s:s}", "path", v, "action", "drop"));
    char *rj = json_dumps(rules, JSON_COMPACT);
    snprintf(pol_json, sizeof pol_json, "{\"defaults\": false, \"rules\": %s}", rj);
    free(rj);
    json_decref(rules);
    json_decref(paths);
    doppel_policy *pol = policy_from(pol_json);
    doppel_pseudonymizer *p;
    assert_int_equal(doppel_pseudonymizer_new(&p, k, pol, DOPPEL_DIALECT_GENERIC, NULL), DOPPEL_OK);
    char *out = rewrite(p, cases[i].in);
    if (strcmp(out, cases[i].out)) fail_msg("case %zu: got %s want %s", i, out, cases[i].out);
    free(out);
    doppel_pseudonymizer_free(p);
    doppel_policy_free(pol);
  }
  doppel_key_free(k);
}

static void test_domains_and_defaults_off(void **state) {
  (void)state;
  doppel_key *k = test_key(0);
  doppel_policy *pol = policy_from(
      "{\"defaults\": false, \"rules\": [{\"path\": \"a\", \"action\": \"hash\", \"domain\": \"one\"},"
      "{\"path\": \"b\", \"action\": \"hash\", \"domain\": \"two\"},"
      "{\"path\": \"c\", \"action\": \"hash\", \"domain\": \"one\", \"bits\": 256}]}");
  doppel_pseudonymizer *p;
  assert_int_equal(doppel_pseudonymizer_new(&p, k, pol, DOPPEL_DIALECT_GENERIC, NULL), DOPPEL_OK);
  char *out = rewrite(p, "{\"a\":\"v\",\"b\":\"v\",\"c\":\"v\",\"user_id\":\"x@y.org\",\"d\":\"z@y.org\"}");
  json_t *j = parse_ok(out);
  assert_true(is_hex(jstr(j, "a"), 32));
  assert_true(is_hex(jstr(j, "c"), 64));
  assert_string_not_equal(jstr(j, "a"), jstr(j, "b"));
  assert_memory_equal(jstr(j, "a"), jstr(j, "c"), 32); /* same domain, longer output = same digest */
  assert_string_equal(jstr(j, "user_id"), "x@y.org"); /* defaults off: untouched */
  assert_string_equal(jstr(j, "d"), "z@y.org");
  json_decref(j);
  free(out);
  doppel_pseudonymizer_free(p);
  doppel_policy_free(pol);
  doppel_key_free(k);
}

static void test_default_generalizations(void **state) {
  (void)state;
  doppel_key *k = test_key(0);
  doppel_pseudonymizer *p;
  assert_int_equal(doppel_pseudonymizer_new(&p, k, NULL, DOPPEL_DIALECT_GENERIC, NULL), DOPPEL_OK);
  char *out = rewrite(p, "{\"user_properties\":{\"birth_date\":\"1990-05-17\",\"zip\":\"94107\","
                         "\"lat\":37.774929,\"lng\":-122.419416,\"plan\":\"pro\"}}");
  assert_string_equal(out, "{\"user_properties\":{\"birth_date\":\"1990-01-01\",\"zip\":\"941**\","
                           "\"lat\":37.77,\"lng\":-122.42,\"plan\":\"pro\"}}");
  free(out);
  doppel_pseudonymizer_free(p);
  doppel_key_free(k);
}

/* More distinct paths than the decision cache holds: decisions made
 * uncached must stay correct (each depth keeps its own). */
static void test_path_cache_overflow(void **state) {
  (void)state;
  doppel_key *k = test_key(0);
  doppel_pseudonymizer *p;
  assert_int_equal(doppel_pseudonymizer_new(&p, k, NULL, DOPPEL_DIALECT_GENERIC, NULL), DOPPEL_OK);
  size_t cap = 12000 * 64, n = 0;
  char *rec = malloc(cap);
  n += (size_t)sprintf(rec + n, "{\"o\":{");
  for (int i = 0; i < 12000; i++)
    n += (size_t)sprintf(rec + n, "%s\"k%d\":{\"email\":\"u%d@example.org\",\"plan\":\"pro\"}", i ? "," : "", i, i % 7);
  n += (size_t)sprintf(rec + n, "}}");
  char *out = rewrite(p, rec);
  json_t *j = parse_ok(out);
  json_t *o = json_object_get(j, "o");
  assert_int_equal(json_object_size(o), 12000);
  for (int i = 0; i < 12000; i += 997) {
    char key[16];
    snprintf(key, sizeof key, "k%d", i);
    json_t *m = json_object_get(o, key);
    assert_string_equal(json_string_value(json_object_get(m, "plan")), "pro");
    assert_true(ends_with(json_string_value(json_object_get(m, "email")), "@email.invalid"));
  }
  json_t *last = json_object_get(o, "k11999");
  assert_string_equal(json_string_value(json_object_get(last, "plan")), "pro");
  json_decref(j);
  free(out);
  free(rec);
  doppel_pseudonymizer_free(p);
  doppel_key_free(k);
}

/* A profile's privacy ledger is a valid policy. */
static void test_ledger_as_policy(void **state) {
  (void)state;
  char path[512];
  snprintf(path, sizeof path, "%s/fixtures/profiles/ledger_only.json", DOPPEL_SOURCE_DIR);
  doppel_policy *pol;
  doppel_diag d;
  assert_int_equal(doppel_policy_load(&pol, path, &d), DOPPEL_OK);
  assert_int_equal(doppel_policy_rule_count(pol), 3); /* plan has no treatment: review only */
  doppel_key *k = test_key(0);
  doppel_pseudonymizer *p;
  assert_int_equal(doppel_pseudonymizer_new(&p, k, pol, DOPPEL_DIALECT_GENERIC, NULL), DOPPEL_OK);
  char *in = fixture_line("events/generic.jsonl", 0);
  char *out = rewrite(p, in);
  json_t *j = parse_ok(out);
  assert_true(is_hex(jstr(j, "user_id"), 32)); /* format hex despite the e-mail value */
  assert_null(json_object_get(json_object_get(j, "properties"), "full_name"));
  assert_string_equal(jstr(j, "time"), "2024-01-09T00:00:00+02:00");
  assert_true(ends_with(jstr(j, "properties.email"), "@email.invalid")); /* defaults still on */
  json_decref(j);
  free(out);
  free(in);
  doppel_pseudonymizer_free(p);
  doppel_policy_free(pol);
  static const struct { const char *json; const char *fragment; } bad[] = {
      {"{\"format\": \"doppel-profile/1\"}", "needs \"privacy\""},
      {"{\"format\": \"doppel-profile/1\", \"privacy\": {\"fields\": [{\"class\": \"none\"}]}}",
       "ledger field 1: missing \"path\""},
      {"{\"format\": \"doppel-profile/1\", \"privacy\": {\"fields\": [{\"path\": \"a\"},"
       "{\"path\": \"b\", \"treatment\": {\"action\": \"hsh\"}}]}}",
       "ledger field 2 (path 'b'): unknown action 'hsh'"},
      {"{\"format\": \"doppel-profile/1\", \"privacy\": {\"fields\": [{\"path\": \"a\", \"treatment\": \"hash\"}]}}",
       "\"treatment\" must be an object"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    doppel_policy *x = NULL;
    assert_int_equal(doppel_policy_parse(&x, bad[i].json, strlen(bad[i].json), "p.json", &d), DOPPEL_E_POLICY);
    if (!strstr(d.text, bad[i].fragment)) fail_msg("case %zu: '%s' lacks '%s'", i, d.text, bad[i].fragment);
  }
  doppel_key_free(k);
}

static void test_csv(void **state) {
  (void)state;
  doppel_key *k = test_key(0);
  doppel_pseudonymizer *p;
  assert_int_equal(doppel_pseudonymizer_new(&p, k, NULL, DOPPEL_DIALECT_GENERIC, NULL), DOPPEL_OK);
  const char *hdr = "user_id,event,time,email,comment,amount,city";
  doppel_diag d;
  assert_int_equal(doppel_pseudonymizer_csv_header(p, hdr, strlen(hdr), ',', &d), DOPPEL_OK);
  const char *row = "u-1001,Page View,2024-01-09T10:24:00Z,,\"multi\nline \"\"quoted\"\" note from bob@example.org\",,\"New York\"";
  const char *o;
  size_t on;
  assert_int_equal(doppel_pseudonymizer_csv_row(p, row, strlen(row), &o, &on, &d), DOPPEL_OK);
  char *out = strndup(o, on);
  assert_null(strstr(out, "u-1001"));
  assert_null(strstr(out, "bob@"));
  assert_non_null(strstr(out, ",Page View,2024-01-09T10:24:00Z,,\"multi\nline \"\"quoted\"\" note from "));
  assert_true(ends_with(out, "@email.invalid\",,\"New York\""));
  free(out);
  const char *bad = "a,b";
  assert_int_equal(doppel_pseudonymizer_csv_row(p, bad, strlen(bad), &o, &on, &d), DOPPEL_E_CSV);
  assert_non_null(strstr(d.text, "expected 7 fields"));
  doppel_pseudonymizer_free(p);
  doppel_key_free(k);
}

static void test_job_malformed_and_strict(void **state) {
  (void)state;
  const char *dir = tu_tmpdir();
  assert_non_null(dir);
  doppel_key *k = test_key(0);
  char in1[512], in2[512], outp[512];
  snprintf(in1, sizeof in1, "%s/fixtures/events/generic.jsonl", DOPPEL_SOURCE_DIR);
  snprintf(in2, sizeof in2, "%s/fixtures/events/malformed.jsonl", DOPPEL_SOURCE_DIR);
  snprintf(outp, sizeof outp, "%s/out.jsonl", dir);
  const char *inputs[] = {in1, in2};
  doppel_pseudo_options o;
  memset(&o, 0, sizeof o);
  o.inputs = inputs;
  o.n_inputs = 2;
  o.output = outp;
  o.key = k;
  doppel_pseudo_summary s;
  doppel_diag d;
  doppel_diag_clear(&d);
  assert_int_equal(doppel_pseudonymize(&o, &s, &d), DOPPEL_OK);
  assert_int_equal(s.records_in, 7);
  assert_int_equal(s.records_out, 5);
  assert_int_equal(s.malformed, 2);
  assert_int_equal(s.n_bad, 2);
  assert_int_equal(s.bad_lines[0], 1);
  assert_int_equal(s.bad_lines[1], 3);
  assert_int_equal(s.dialect, DOPPEL_DIALECT_GENERIC);
  char kid[DOPPEL_KEY_ID_HEX + 1];
  doppel_key_id(k, kid);
  assert_string_equal(s.key_id, kid);
  assert_int_equal(strlen(kid), 16);
  size_t n = 0;
  char *out = tu_read_file(outp, &n);
  int lines = 0;
  for (size_t i = 0; i < n; i++) lines += out[i] == '\n';
  assert_int_equal(lines, 5);
  assert_null(strstr(out, "jane"));
  assert_null(strstr(out, "bob%40example.org"));
  assert_null(strstr(out, "carol@"));
  assert_non_null(strstr(out, "https://shop.example.com/cart?email=")); /* hosts are not personal */
  assert_null(strstr(out, "10.0.0.1")); /* IP inside a URL in free text */
  free(out);
  unlink(outp);
  o.strict = 1;
  assert_int_equal(doppel_pseudonymize(&o, &s, &d), DOPPEL_E_JSON);
  assert_non_null(strstr(d.source, "malformed.jsonl"));
  assert_int_equal(d.line, 1);
  assert_non_null(strstr(d.text, "--strict"));
  assert_int_equal(access(outp, F_OK), -1); /* nothing left behind */
  assert_int_equal(tu_count_entries(dir, "."), 0);
  /* output equal to an input is refused */
  o.strict = 0;
  o.output = in1;
  assert_int_equal(doppel_pseudonymize(&o, &s, &d), DOPPEL_E_SAME_FILE);
  doppel_key_free(k);
  tu_rmdir(dir);
}

static void test_golden(void **state) {
  (void)state;
  const char *dir = tu_tmpdir();
  doppel_key *k = test_key(0);
  char in[512], outp[512], golden[512];
  snprintf(in, sizeof in, "%s/fixtures/events/generic.jsonl", DOPPEL_SOURCE_DIR);
  snprintf(outp, sizeof outp, "%s/out.jsonl", dir);
  snprintf(golden, sizeof golden, "%s/fixtures/golden/generic.default.jsonl", DOPPEL_SOURCE_DIR);
  const char *inputs[] = {in};
  doppel_pseudo_options o;
  memset(&o, 0, sizeof o);
  o.inputs = inputs;
  o.n_inputs = 1;
  o.output = outp;
  o.key = k;
  doppel_pseudo_summary s;
  doppel_diag d;
  assert_int_equal(doppel_pseudonymize(&o, &s, &d), DOPPEL_OK);
  size_t n = 0, gn = 0;
  char *out = tu_read_file(outp, &n);
  if (getenv("DOPPEL_UPDATE_GOLDEN")) tu_write_file(golden, out, n);
  char *g = tu_read_file(golden, &gn);
  assert_non_null(g);
  assert_int_equal(n, gn);
  assert_memory_equal(out, g, n);
  free(out);
  free(g);
  doppel_key_free(k);
  tu_rmdir(dir);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_path_match),
      cmocka_unit_test(test_policy_errors),
      cmocka_unit_test(test_default_record1),
      cmocka_unit_test(test_default_records234),
      cmocka_unit_test(test_policy_actions),
      cmocka_unit_test(test_drop_keeps_json_valid),
      cmocka_unit_test(test_domains_and_defaults_off),
      cmocka_unit_test(test_default_generalizations),
      cmocka_unit_test(test_path_cache_overflow),
      cmocka_unit_test(test_ledger_as_policy),
      cmocka_unit_test(test_csv),
      cmocka_unit_test(test_job_malformed_and_strict),
      cmocka_unit_test(test_golden),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
