/*
 * test_profile.c — the profiler: the k-user heavy-hitter table and the
 * k-most-extreme tracker against brute force, the golden profile of a
 * fixture, the privacy rules (planted personal data and rare values never
 * appear; extremes clipped), every warning on a crafted fixture and none
 * on a clean one, states (round trip, merge of shards equal to the single
 * run, merge order and grouping free), the ledger as a policy, CLI errors,
 * and real data from ../shared/data (skipped when absent).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <doppel/doppel.h>
#include <jansson.h>
#include <math.h>

#include "profile/profile_int.h"
#include "test_util.h"

/* ---- helpers ---- */

static char *fixture(const char *name) {
  static char p[512];
  snprintf(p, sizeof p, "%s/fixtures/profile/%s", DOPPEL_SOURCE_DIR, name);
  return p;
}

/* Profile a file with the library into a document (fixed reference time). */
static json_t *profile_file(const char *path, uint32_t k) {
  doppel_profile_options o;
  memset(&o, 0, sizeof o);
  const char *in[1] = {path};
  o.inputs = in;
  o.n_inputs = 1;
  o.params.k = k;
  o.params.now_us = INT64_C(1764547200) * 1000000; /* 2025-12-01 */
  o.dialect = DOPPEL_DIALECT_AUTO;
  doppel_profile_summary sum;
  doppel_diag d;
  doppel_diag_clear(&d);
  json_t *doc = NULL;
  assert_int_equal(doppel_profile_to_json(&o, &doc, &sum, &d), DOPPEL_OK);
  return doc;
}

static char *dump(const json_t *doc) { return doppel_profile_dump(doc, 0); }

static int has_warning(const json_t *doc, const char *code) {
  const json_t *ws = json_object_get(doc, "warnings");
  for (size_t i = 0; i < json_array_size(ws); i++)
    if (!strcmp(json_string_value(json_object_get(json_array_get(ws, i), "code")), code)) return 1;
  return 0;
}

/* ---- dp_kc ---- */

static void test_kc_exact_under_capacity(void **state) {
  (void)state;
  dp_kc t;
  assert_int_equal(dp_kc_init(&t, 64, 3, 1), DOPPEL_OK);
  /* value v (0..19) gets v+1 events from min(v+1, 5) users */
  for (int v = 0; v < 20; v++)
    for (int i = 0; i <= v; i++) {
      char b[8];
      int n = snprintf(b, sizeof b, "v%d", v);
      assert_int_equal(dp_kc_add(&t, doppel_sketch_hash64(b, (size_t)n), b, (size_t)n, 0, (uint64_t)(i % 5) + 1, 1), DOPPEL_OK);
    }
  assert_int_equal(t.n, 20);
  assert_int_equal(t.error, 0);
  for (int v = 0; v < 20; v++) {
    char b[8];
    int n = snprintf(b, sizeof b, "v%d", v);
    const dp_kc_entry *e = dp_kc_find(&t, doppel_sketch_hash64(b, (size_t)n));
    assert_non_null(e);
    assert_int_equal(e->count, (uint64_t)v + 1);
    /* k smallest distinct users, capped at k = 3 */
    int users = v + 1 < 5 ? v + 1 : 5;
    assert_int_equal(e->n_users, users < 3 ? users : 3);
  }
  dp_kc_release(&t);
}

static void test_kc_heavy_hitters_bound(void **state) {
  (void)state;
  dp_kc t;
  assert_int_equal(dp_kc_init(&t, 32, 2, 0), DOPPEL_OK);
  /* 5 heavy values among 20000 singletons */
  uint64_t total = 0;
  doppel_pcg64 g;
  doppel_pcg64_seed(&g, 0, 1, 0, 1);
  uint64_t truth[5] = {0};
  for (int i = 0; i < 30000; i++) {
    uint64_t key;
    if (doppel_pcg64_bounded(&g, 3) == 0) {
      int h = (int)doppel_pcg64_bounded(&g, 5);
      key = 1000 + (uint64_t)h;
      truth[h]++;
    } else {
      key = 100000 + (uint64_t)i;
    }
    assert_int_equal(dp_kc_add(&t, key, NULL, 0, 0, key, 1), DOPPEL_OK);
    total++;
  }
  assert_true(t.n <= 32);
  assert_true(t.error <= total / 17); /* <= total / (cap/2 + 1) */
  for (int h = 0; h < 5; h++) {
    const dp_kc_entry *e = dp_kc_find(&t, 1000 + (uint64_t)h);
    assert_non_null(e);
    assert_true(e->count <= truth[h]);
    assert_true(e->count + t.error >= truth[h]);
  }
  dp_kc_release(&t);
}

static void test_kc_merge_equals_union(void **state) {
  (void)state;
  dp_kc a, b, u;
  assert_int_equal(dp_kc_init(&a, 128, 4, 1), DOPPEL_OK);
  assert_int_equal(dp_kc_init(&b, 128, 4, 1), DOPPEL_OK);
  assert_int_equal(dp_kc_init(&u, 128, 4, 1), DOPPEL_OK);
  for (int i = 0; i < 400; i++) {
    char v[8];
    int n = snprintf(v, sizeof v, "x%d", i % 37);
    uint64_t key = doppel_sketch_hash64(v, (size_t)n);
    dp_kc *half = i % 2 ? &a : &b;
    assert_int_equal(dp_kc_add(half, key, v, (size_t)n, 0, (uint64_t)(i % 11), 1), DOPPEL_OK);
    assert_int_equal(dp_kc_add(&u, key, v, (size_t)n, 0, (uint64_t)(i % 11), 1), DOPPEL_OK);
  }
  assert_int_equal(dp_kc_merge(&a, &b), DOPPEL_OK);
  json_t *ja = dp_kc_to_json(&a), *ju = dp_kc_to_json(&u);
  char *sa = json_dumps(ja, JSON_COMPACT), *su = json_dumps(ju, JSON_COMPACT);
  assert_string_equal(sa, su);
  /* and a state round trip */
  dp_kc r;
  doppel_diag d;
  assert_int_equal(dp_kc_from_json(&r, ja, &d, "t"), DOPPEL_OK);
  json_t *jr = dp_kc_to_json(&r);
  char *sr = json_dumps(jr, JSON_COMPACT);
  assert_string_equal(sa, sr);
  free(sa);
  free(su);
  free(sr);
  json_decref(ja);
  json_decref(ju);
  json_decref(jr);
  dp_kc_release(&a);
  dp_kc_release(&b);
  dp_kc_release(&u);
  dp_kc_release(&r);
}

/* ---- dp_ext: the k-th largest per-user maximum, against brute force ---- */

static int cmp_desc(const void *x, const void *y) {
  double a = *(const double *)x, b = *(const double *)y;
  return a < b ? 1 : a > b ? -1 : 0;
}

static void test_ext_exact(void **state) {
  (void)state;
  for (int trial = 0; trial < 20; trial++) {
    dp_ext x;
    assert_int_equal(dp_ext_init(&x, 10, 0), DOPPEL_OK);
    double best[200];
    for (int u = 0; u < 200; u++) best[u] = -INFINITY;
    doppel_pcg64 g;
    doppel_pcg64_seed(&g, 0, (uint64_t)trial, 0, 7);
    int users = 5 + trial * 10;
    for (int i = 0; i < 5000; i++) {
      int u = (int)doppel_pcg64_bounded(&g, (uint64_t)users);
      double v = doppel_pcg64_double(&g) * 1000 * (u % 7 + 1);
      if (v > best[u]) best[u] = v;
      dp_ext_add(&x, (uint64_t)u + 1, v);
    }
    qsort(best, (size_t)users, sizeof *best, cmp_desc);
    double bound;
    int have = dp_ext_bound(&x, &bound);
    if (users < 10) {
      assert_false(have);
    } else {
      assert_true(have);
      assert_true(bound == best[9]); /* the 10th largest user's maximum, exactly */
    }
    dp_ext_release(&x);
  }
}

/* ---- profiles of the fixtures ---- */

static void test_golden_profile(void **state) {
  (void)state;
  json_t *doc = profile_file(fixture("shop.jsonl"), 10);
  char *got = dump(doc);
  char path[512];
  snprintf(path, sizeof path, "%s/fixtures/golden/shop.profile.json", DOPPEL_SOURCE_DIR);
  if (getenv("DOPPEL_UPDATE_GOLDEN")) assert_int_equal(tu_write_file(path, got, strlen(got)), 0);
  char *want = tu_read_file(path, NULL);
  assert_non_null(want);
  assert_string_equal(got, want);
  /* and deterministic: a second run gives the same bytes */
  json_t *again = profile_file(fixture("shop.jsonl"), 10);
  char *got2 = dump(again);
  assert_string_equal(got, got2);
  free(got);
  free(got2);
  free(want);
  json_decref(doc);
  json_decref(again);
}

static void test_privacy_planted(void **state) {
  (void)state;
  json_t *doc = profile_file(fixture("shop.jsonl"), 10);
  char *s = dump(doc);
  /* identifiers: no user e-mail; no planted e-mail from the free text; the
   * value held by one user; the card; the extreme price */
  assert_null(strstr(s, "@shop.example"));
  assert_null(strstr(s, "customer0"));
  assert_null(strstr(s, "@mail.example"));
  assert_null(strstr(s, "buyer"));
  assert_null(strstr(s, "RARE_VALUE_7f3a"));
  assert_null(strstr(s, "4111"));
  assert_null(strstr(s, "987654321"));
  assert_null(strstr(s, "9.87654e+08"));
  /* the price distribution ends at the 10th highest user's maximum, not the outlier */
  const json_t *props = json_object_get(doc, "properties");
  int found = 0;
  for (size_t i = 0; i < json_array_size(props); i++) {
    const json_t *p = json_array_get(props, i);
    if (strcmp(json_string_value(json_object_get(p, "path")), "properties.price")) continue;
    const json_t *q = json_object_get(json_object_get(p, "number"), "q");
    assert_int_equal(json_array_size(q), 101);
    assert_true(json_number_value(json_array_get(q, 100)) < 250);
    found = 1;
  }
  assert_true(found);
  /* the query field is classified and scrubbed in the ledger */
  const json_t *fields = json_object_get(json_object_get(doc, "privacy"), "fields");
  int query = 0, uid = 0;
  for (size_t i = 0; i < json_array_size(fields); i++) {
    const json_t *f = json_array_get(fields, i);
    const char *path = json_string_value(json_object_get(f, "path"));
    const char *cls = json_string_value(json_object_get(f, "class"));
    const char *act = json_string_value(json_object_get(json_object_get(f, "treatment"), "action"));
    if (!strcmp(path, "properties.query")) {
      assert_string_equal(cls, "quasi_identifier");
      assert_string_equal(act, "scrub");
      query = 1;
    }
    if (!strcmp(path, "user_id")) {
      assert_string_equal(cls, "direct_identifier");
      assert_string_equal(json_string_value(json_object_get(f, "kind")), "email");
      assert_string_equal(act, "hash");
      uid = 1;
    }
  }
  assert_true(query && uid);
  /* withheld values are counted */
  assert_true(json_integer_value(json_object_get(json_object_get(json_object_get(doc, "privacy"), "suppressed"), "values")) > 0);
  free(s);
  json_decref(doc);
}

static void test_k_threshold(void **state) {
  (void)state;
  /* with k = 100 (more than the 80 users) nothing categorical is listed */
  json_t *doc = profile_file(fixture("shop.jsonl"), 100);
  const json_t *list = json_object_get(json_object_get(doc, "events"), "list");
  assert_int_equal(json_array_size(list), 0);
  assert_int_equal(json_array_size(json_object_get(doc, "properties")), 0);
  assert_true(json_integer_value(json_object_get(json_object_get(json_object_get(doc, "events"), "suppressed"), "names")) == 4);
  json_decref(doc);
}

static void test_warnings(void **state) {
  (void)state;
  static const char *const codes[] = {"EVENT_NAME_NEAR_DUP", "EVENT_SYNONYMS", "NAMING_MIXED", "DYNAMIC_EVENT_NAMES",
                                      "PROP_TYPE_MIXED", "PROP_SOMETIMES_MISSING", "HIGH_NULL", "PROP_CONSTANT",
                                      "PROP_ID_LIKE", "TIME_FUTURE", "TIME_ANCIENT", "TIME_UNIT_MIXED",
                                      "OUT_OF_ORDER", "DUPLICATE_INSERT_ID", "BOT_LIKE_USER", "PII_IN_EVENT_NAME",
                                      "PII_IN_KEY"};
  json_t *bad = profile_file(fixture("warnings.jsonl"), 10);
  for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
    if (!has_warning(bad, codes[i])) fail_msg("warning %s did not fire on warnings.jsonl", codes[i]);
  }
  /* the personal data in a key and in an event name is never quoted */
  char *s = dump(bad);
  assert_null(strstr(s, "jane.doe"));
  json_decref(bad);
  free(s);
  json_t *good = profile_file(fixture("clean.jsonl"), 10);
  size_t n = json_array_size(json_object_get(good, "warnings"));
  if (n) {
    char *t = json_dumps(json_object_get(good, "warnings"), JSON_INDENT(1));
    fail_msg("clean.jsonl raised %zu warnings: %s", n, t);
  }
  json_decref(good);
}

/* ---- states and merging ---- */

static json_t *state_of_lines(const char *path, size_t from, size_t to, doppel_profiler **keep) {
  size_t len;
  char *data = tu_read_file(path, &len);
  assert_non_null(data);
  doppel_profile_params pp = {10, 0, 0, NULL, INT64_C(1764547200) * 1000000};
  doppel_profiler *p;
  doppel_diag d;
  assert_int_equal(doppel_profiler_new(&p, &pp, DOPPEL_DIALECT_GENERIC, DOPPEL_FORMAT_JSONL, &d), DOPPEL_OK);
  assert_int_equal(doppel_profiler_begin_file(p, "part", &d), DOPPEL_OK);
  size_t line = 0, recs = 0;
  char *s = data;
  while (*s) {
    char *e = strchr(s, '\n');
    size_t n = e ? (size_t)(e - s) : strlen(s);
    if (line >= from && line < to) {
      assert_int_equal(doppel_profiler_add_json(p, s, n, &d), DOPPEL_OK);
      recs++;
    }
    line++;
    s += n + (e ? 1 : 0);
  }
  doppel_profiler_end_file(p, recs, 0);
  json_t *st;
  assert_int_equal(doppel_profiler_state(p, &st, &d), DOPPEL_OK);
  if (keep) *keep = p;
  else doppel_profiler_free(p);
  free(data);
  return st;
}

static doppel_profiler *load(const json_t *st) {
  doppel_profiler *p;
  doppel_diag d;
  doppel_diag_clear(&d);
  doppel_status s = doppel_profiler_from_state(&p, st, &d);
  if (s != DOPPEL_OK) fail_msg("state did not load: %s", d.text);
  return p;
}

static char *final_profile(doppel_profiler *p) {
  json_t *doc;
  doppel_diag d;
  assert_int_equal(doppel_profiler_profile(p, &doc, &d), DOPPEL_OK);
  json_object_del(json_object_get(doc, "source"), "files");
  char *s = dump(doc);
  json_decref(doc);
  return s;
}

static void test_state_round_trip(void **state) {
  (void)state;
  json_t *st = state_of_lines(fixture("shop.jsonl"), 0, SIZE_MAX, NULL);
  doppel_profiler *p = load(st);
  json_t *st2;
  doppel_diag d;
  assert_int_equal(doppel_profiler_state(p, &st2, &d), DOPPEL_OK);
  char *a = doppel_profile_dump(st, 1), *b = doppel_profile_dump(st2, 1);
  assert_string_equal(a, b);
  free(a);
  free(b);
  json_decref(st);
  json_decref(st2);
  doppel_profiler_free(p);
}

static void test_merge_equals_single(void **state) {
  (void)state;
  const char *path = fixture("shop.jsonl");
  /* the single run */
  json_t *all = state_of_lines(path, 0, SIZE_MAX, NULL);
  doppel_profiler *single = load(all);
  char *want = final_profile(single);
  /* three time shards (the file is in time order), merged in several orders and groupings */
  json_t *s1 = state_of_lines(path, 0, 300, NULL), *s2 = state_of_lines(path, 300, 600, NULL),
         *s3 = state_of_lines(path, 600, SIZE_MAX, NULL);
  const json_t *order[3][3] = {{s1, s2, s3}, {s3, s1, s2}, {s2, s3, s1}};
  for (int o = 0; o < 3; o++) {
    /* time order of the shards, as doppel merge sorts them */
    doppel_profiler *acc = load(s1);
    doppel_profiler *b = load(s2), *c = load(s3);
    doppel_diag d;
    (void)order;
    if (o == 0) {
      assert_int_equal(doppel_profiler_merge(acc, b, &d), DOPPEL_OK);
      assert_int_equal(doppel_profiler_merge(acc, c, &d), DOPPEL_OK);
    } else if (o == 1) {
      /* (s2 + s3) first, then s1 into it */
      assert_int_equal(doppel_profiler_merge(b, c, &d), DOPPEL_OK);
      assert_int_equal(doppel_profiler_merge(acc, b, &d), DOPPEL_OK);
    } else {
      /* merged the other way round: s1 into s2, then s3 */
      assert_int_equal(doppel_profiler_merge(b, acc, &d), DOPPEL_OK);
      assert_int_equal(doppel_profiler_merge(b, c, &d), DOPPEL_OK);
      doppel_profiler *t = acc;
      acc = b;
      b = t;
    }
    char *got = final_profile(acc);
    if (strcmp(got, want)) {
      /* show the first difference */
      size_t i = 0;
      while (got[i] && got[i] == want[i]) i++;
      fail_msg("merge %d differs from the single run at byte %zu: ...%.80s... vs ...%.80s...", o, i,
               got + (i > 40 ? i - 40 : 0), want + (i > 40 ? i - 40 : 0));
    }
    free(got);
    doppel_profiler_free(acc);
    doppel_profiler_free(b);
    doppel_profiler_free(c);
  }
  free(want);
  doppel_profiler_free(single);
  json_decref(all);
  json_decref(s1);
  json_decref(s2);
  json_decref(s3);
}

static void test_merge_rejects_mismatch(void **state) {
  (void)state;
  doppel_profile_params a = {10, 0, 0, NULL, 1}, b = {20, 0, 0, NULL, 1};
  doppel_profiler *p, *q;
  doppel_diag d;
  assert_int_equal(doppel_profiler_new(&p, &a, DOPPEL_DIALECT_GENERIC, DOPPEL_FORMAT_JSONL, &d), DOPPEL_OK);
  assert_int_equal(doppel_profiler_new(&q, &b, DOPPEL_DIALECT_GENERIC, DOPPEL_FORMAT_JSONL, &d), DOPPEL_OK);
  doppel_diag_clear(&d);
  assert_int_equal(doppel_profiler_merge(p, q, &d), DOPPEL_E_USAGE);
  assert_non_null(strstr(d.text, "different parameters"));
  doppel_profiler_free(p);
  doppel_profiler_free(q);
  /* malformed states are data errors with a message */
  json_error_t je;
  json_t *junk = json_loads("{\"format\": \"doppel-profile-state/1\", \"params\": {\"k\": 1}}", 0, &je);
  doppel_profiler *r = NULL;
  doppel_diag_clear(&d);
  assert_int_equal(doppel_profiler_from_state(&r, junk, &d), DOPPEL_E_DATA);
  assert_null(r);
  assert_non_null(strstr(d.text, "state"));
  json_decref(junk);
}

/* ---- the CLI ---- */

static void test_cli_profile_merge(void **state) {
  (void)state;
  const char *dir = tu_tmpdir();
  char args[2048];
  snprintf(args, sizeof args, "profile '%s' -o p.json --state-out s.state --now 2025-12-01", fixture("shop.jsonl"));
  tu_run r = tu_cli(dir, args, NULL);
  assert_int_equal(r.status, 0);
  assert_non_null(strstr(r.err, "857 records in, 857 profiled"));
  assert_non_null(strstr(r.err, "mode 0600"));
  tu_run_free(&r);
  char sp[600];
  snprintf(sp, sizeof sp, "%s/s.state", dir);
  struct stat stt;
  assert_int_equal(stat(sp, &stt), 0);
  assert_int_equal(stt.st_mode & 0777, 0600);
  /* merge of the state alone gives the profile (bytes) */
  r = tu_cli(dir, "merge s.state -o m.json", NULL);
  assert_int_equal(r.status, 0);
  tu_run_free(&r);
  char pp[600], mp[600];
  snprintf(pp, sizeof pp, "%s/p.json", dir);
  snprintf(mp, sizeof mp, "%s/m.json", dir);
  char *a = tu_read_file(pp, NULL), *b = tu_read_file(mp, NULL);
  assert_non_null(a);
  assert_non_null(b);
  assert_string_equal(a, b);
  free(a);
  free(b);
  /* errors */
  r = tu_cli(dir, "merge p.json -o x.json", NULL);
  assert_int_equal(r.status, 1);
  assert_non_null(strstr(r.err, "p.json"));
  assert_non_null(strstr(r.err, "expected a doppel profile state"));
  assert_int_equal(tu_count_entries(dir, "x.json"), 0);
  tu_run_free(&r);
  snprintf(args, sizeof args, "profile '%s' -o y.json --k 1", fixture("shop.jsonl"));
  r = tu_cli(dir, args, NULL);
  assert_int_equal(r.status, 2);
  assert_non_null(strstr(r.err, "--k"));
  tu_run_free(&r);
  snprintf(args, sizeof args, "profile '%s' -o y.json --session-gap 10x", fixture("shop.jsonl"));
  r = tu_cli(dir, args, NULL);
  assert_int_equal(r.status, 2);
  assert_non_null(strstr(r.err, "--session-gap"));
  tu_run_free(&r);
  r = tu_cli(dir, "profile missing.jsonl -o y.json", NULL);
  assert_int_equal(r.status, 1);
  assert_non_null(strstr(r.err, "missing.jsonl"));
  assert_int_equal(tu_count_entries(dir, "y.json"), 0);
  tu_run_free(&r);
  /* the profile is a policy: pseudonymize with its ledger */
  const char *key = tu_test_key(dir);
  snprintf(args, sizeof args, "pseudonymize '%s' -o safe.jsonl --key '%s' --policy p.json -q", fixture("shop.jsonl"), key);
  r = tu_cli(dir, args, NULL);
  assert_int_equal(r.status, 0);
  tu_run_free(&r);
  char safe[600];
  snprintf(safe, sizeof safe, "%s/safe.jsonl", dir);
  char *out = tu_read_file(safe, NULL);
  assert_non_null(out);
  assert_null(strstr(out, "@shop.example"));
  assert_null(strstr(out, "buyer"));
  assert_null(strstr(out, "4111 1111"));
  free(out);
  tu_rmdir(dir);
}

/* ---- real data ---- */

static int have_data(const char *rel) {
  char p[512];
  snprintf(p, sizeof p, "%s/%s", DOPPEL_SHARED_DATA, rel);
  return access(p, R_OK) == 0;
}

static void test_real_shards(void **state) {
  (void)state;
  if (!have_data("nasa-http/events.amplitude.jsonl.gz")) {
    print_message("skipped: ../shared/data is absent\n");
    skip();
  }
  const char *dir = tu_tmpdir();
  char args[4096];
  snprintf(args, sizeof args,
           "profile '%s/nasa-http/events.amplitude.jsonl.gz' -o single.json --now 2025-12-01 -q && "
           "zcat '%s/nasa-http/events.amplitude.jsonl.gz' > all.jsonl && split -n l/4 -d all.jsonl part && "
           "for f in part0?; do '%s' profile $f --state-out $f.st --now 2025-12-01 -q || exit 9; done && "
           "'%s' merge part03.st part01.st part00.st part02.st -o merged.json -q && "
           "'%s' merge part00.st part01.st --state-out a.st -q && '%s' merge part02.st part03.st --state-out b.st -q && "
           "'%s' merge b.st a.st -o grouped.json -q",
           DOPPEL_SHARED_DATA, DOPPEL_SHARED_DATA, DOPPEL_CLI_PATH, DOPPEL_CLI_PATH, DOPPEL_CLI_PATH, DOPPEL_CLI_PATH,
           DOPPEL_CLI_PATH);
  tu_run r = tu_cli(dir, args, NULL);
  assert_int_equal(r.status, 0);
  tu_run_free(&r);
  char p1[600], p2[600], p3[600];
  snprintf(p1, sizeof p1, "%s/single.json", dir);
  snprintf(p2, sizeof p2, "%s/merged.json", dir);
  snprintf(p3, sizeof p3, "%s/grouped.json", dir);
  json_error_t je;
  json_t *a = json_load_file(p1, 0, &je), *b = json_load_file(p2, 0, &je), *c = json_load_file(p3, 0, &je);
  assert_non_null(a);
  assert_non_null(b);
  assert_non_null(c);
  /* the inputs differ (one gzip file, four plain parts): files and bytes read */
  json_t *all3[3] = {a, b, c};
  for (int i = 0; i < 3; i++) {
    json_object_del(json_object_get(all3[i], "source"), "files");
    json_object_del(json_object_get(all3[i], "source"), "bytes");
  }
  char *sa = dump(a), *sb = dump(b), *sc = dump(c);
  assert_string_equal(sb, sc); /* order and grouping free */
  assert_string_equal(sa, sb); /* equal to profiling the union */
  free(sa);
  free(sb);
  free(sc);
  json_decref(a);
  json_decref(b);
  json_decref(c);
  tu_rmdir(dir);
}

static void test_real_rails(void **state) {
  (void)state;
  if (!have_data("rails-commits/events.jsonl.gz")) {
    print_message("skipped: ../shared/data is absent\n");
    skip();
  }
  char path[512];
  snprintf(path, sizeof path, "%s/rails-commits/events.jsonl.gz", DOPPEL_SHARED_DATA);
  json_t *doc = profile_file(path, 10);
  const json_t *src = json_object_get(doc, "source");
  assert_int_equal(json_integer_value(json_object_get(src, "records")), 99429);
  assert_int_equal(json_integer_value(json_object_get(src, "events")), 99428);
  assert_int_equal(json_integer_value(json_object_get(json_object_get(src, "skipped"), "no_user")), 1);
  const json_t *users = json_object_get(json_object_get(doc, "population"), "users");
  assert_int_equal(json_integer_value(json_object_get(users, "estimate")), 6843);
  /* the commit sha is a hex id (so synth writes hex), the subject free text */
  const json_t *fields = json_object_get(json_object_get(doc, "privacy"), "fields");
  int seen = 0;
  for (size_t i = 0; i < json_array_size(fields); i++) {
    const json_t *f = json_array_get(fields, i);
    const char *p = json_string_value(json_object_get(f, "path")), *k = json_string_value(json_object_get(f, "kind"));
    if (!strcmp(p, "properties.sha")) assert_string_equal(k, "hex"), seen++;
    if (!strcmp(p, "properties.subject")) assert_string_equal(k, "free_text"), seen++;
  }
  assert_int_equal(seen, 2);
  /* no author e-mail or name of the data in the profile */
  char *s = dump(doc);
  assert_null(strstr(s, "david@loudthinking.com"));
  assert_null(strstr(s, "Heinemeier"));
  assert_null(strstr(s, "@gmail.com"));
  free(s);
  json_decref(doc);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_kc_exact_under_capacity),
      cmocka_unit_test(test_kc_heavy_hitters_bound),
      cmocka_unit_test(test_kc_merge_equals_union),
      cmocka_unit_test(test_ext_exact),
      cmocka_unit_test(test_golden_profile),
      cmocka_unit_test(test_privacy_planted),
      cmocka_unit_test(test_k_threshold),
      cmocka_unit_test(test_warnings),
      cmocka_unit_test(test_state_round_trip),
      cmocka_unit_test(test_merge_equals_single),
      cmocka_unit_test(test_merge_rejects_mismatch),
      cmocka_unit_test(test_cli_profile_merge),
      cmocka_unit_test(test_real_shards),
      cmocka_unit_test(test_real_rails),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
