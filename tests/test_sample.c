/*
 * test_sample.c — `doppel sample` through the library API: the exact rate
 * threshold, the sampled user share within binomial bounds, the same users
 * across a split input, --users-n exactness (also from stdin), reservoir
 * size/reproducibility/uniformity, stratification, filters, pseudonymized
 * versus raw output, deterministic bytes, and (when ../shared/data exists)
 * the rails-commits dataset at 10%.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <jansson.h>
#include <math.h>

#include <doppel/doppel.h>

#include "test_util.h"

static char tmp[256];

static doppel_key *test_key(uint8_t base) {
  uint8_t b[32];
  for (int i = 0; i < 32; i++) b[i] = (uint8_t)(base + i);
  doppel_key *k = NULL;
  assert_int_equal(doppel_key_from_bytes(&k, b, 32), DOPPEL_OK);
  return k;
}

static const char *tpath(const char *name) {
  static char p[8][512];
  static int next = 0;
  char *r = p[next++ & 7];
  snprintf(r, 512, "%s/%s", tmp, name);
  return r;
}

/* users users × per_user events; event name E<i%n_events>; day (i%28)+1 */
static void gen_events(const char *path, int users, int per_user, int n_events) {
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  int i = 0;
  for (int e = 0; e < per_user; e++)
    for (int u = 0; u < users; u++, i++)
      fprintf(f, "{\"user_id\":\"user-%d@example.com\",\"event\":\"E%d\",\"time\":\"2024-02-%02dT00:00:00Z\",\"properties\":{\"i\":%d}}\n",
              u, i % n_events, i % 28 + 1, i);
  fclose(f);
}

static void base_opts(doppel_sample_options *o, const char **in, size_t n, const char *out,
                      const doppel_key *k) {
  memset(o, 0, sizeof *o);
  o->inputs = in;
  o->n_inputs = n;
  o->output = out;
  o->key = k;
}

static doppel_sample_summary run_ok(const doppel_sample_options *o) {
  doppel_sample_summary s;
  doppel_diag d;
  doppel_diag_clear(&d);
  doppel_status st = doppel_sample(o, &s, &d);
  if (st != DOPPEL_OK) fail_msg("doppel_sample failed: %s", d.text);
  return s;
}

static int count_lines(const char *s) {
  int n = 0;
  for (; s && *s; s++) n += *s == '\n';
  return n;
}

static void test_rate_keeps(void **state) {
  (void)state;
  assert_true(doppel_sample_rate_keeps(UINT64_MAX, 1.0));
  assert_true(doppel_sample_rate_keeps(0, 1.0));
  assert_false(doppel_sample_rate_keeps(0, 0.0));
  assert_false(doppel_sample_rate_keeps(0, NAN));
  assert_true(doppel_sample_rate_keeps((1ULL << 63) - 1, 0.5));
  assert_false(doppel_sample_rate_keeps(1ULL << 63, 0.5));
  assert_true(doppel_sample_rate_keeps(UINT64_MAX - 4096, nextafter(1.0, 0.0)));
  /* the hash helper is the first 8 digest bytes, big-endian */
  doppel_key *k = test_key(1);
  doppel_keyed *kd;
  assert_int_equal(doppel_keyed_new(&kd, k, "sample", NULL), DOPPEL_OK);
  uint8_t dg[32];
  assert_int_equal(doppel_keyed_digest(kd, "abc", 3, dg), DOPPEL_OK);
  uint64_t u = 0;
  for (int i = 0; i < 8; i++) u = u << 8 | dg[i];
  assert_true(doppel_sample_user_hash(kd, "abc", 3) == u);
  doppel_keyed_free(kd);
  doppel_key_free(k);
}

static void test_users_share(void **state) {
  (void)state;
  const char *in = tpath("share.jsonl"), *out = tpath("share.out");
  gen_events(in, 20000, 2, 5);
  doppel_key *k = test_key(7);
  doppel_sample_options o;
  const char *ins[] = {in};
  base_opts(&o, ins, 1, out, k);
  o.mode = DOPPEL_SAMPLE_USERS_RATE;
  o.rate = 0.1;
  o.raw = 1;
  doppel_sample_summary s = run_ok(&o);
  assert_int_equal(s.records_in, 40000);
  assert_int_equal(s.users_seen, 20000);
  double se = sqrt(0.1 * 0.9 / 20000.0);
  assert_true(fabs(s.expected_error - se) < 1e-12);
  double share = (double)s.users_kept / 20000.0;
  assert_true(fabs(share - 0.1) < 4 * se);
  assert_int_equal(s.records_out, 2 * s.users_kept); /* every kept user keeps both events */
  /* rate 0 keeps none, rate 1 keeps all */
  o.rate = 0.0;
  s = run_ok(&o);
  assert_int_equal(s.records_out, 0);
  o.rate = 1.0;
  s = run_ok(&o);
  assert_int_equal(s.records_out, 40000);
  doppel_key_free(k);
}

static void test_split_same_users(void **state) {
  (void)state;
  const char *whole = tpath("whole.jsonl"), *a = tpath("a.jsonl"), *b = tpath("b.jsonl");
  gen_events(whole, 3000, 2, 5);
  size_t n;
  char *all = tu_read_file(whole, &n);
  char *mid = all;
  for (int i = 0; i < 2500; i++) mid = strchr(mid, '\n') + 1;
  assert_int_equal(tu_write_file(a, all, (size_t)(mid - all)), 0);
  assert_int_equal(tu_write_file(b, mid, n - (size_t)(mid - all)), 0);
  free(all);
  doppel_key *k = test_key(9);
  doppel_sample_options o;
  const char *iw[] = {whole}, *ia[] = {a}, *ib[] = {b};
  const char *ow = tpath("w.out"), *oa = tpath("a.out"), *ob = tpath("b.out");
  base_opts(&o, iw, 1, ow, k);
  o.mode = DOPPEL_SAMPLE_USERS_RATE;
  o.rate = 0.2;
  run_ok(&o);
  o.inputs = ia;
  o.output = oa;
  run_ok(&o);
  o.inputs = ib;
  o.output = ob;
  run_ok(&o);
  char *w = tu_read_file(ow, NULL), *ra = tu_read_file(oa, NULL), *rb = tu_read_file(ob, NULL);
  size_t la = strlen(ra);
  assert_true(count_lines(w) > 0);
  assert_int_equal(strlen(w), la + strlen(rb));
  assert_memory_equal(w, ra, la);
  assert_string_equal(w + la, rb);
  free(w); free(ra); free(rb);
  doppel_key_free(k);
}

static int cmp_u64(const void *x, const void *y) {
  uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
  return a < b ? -1 : a > b;
}

static void test_users_n(void **state) {
  (void)state;
  const char *in = tpath("n.jsonl"), *out = tpath("n.out"), *out2 = tpath("n2.out");
  gen_events(in, 1000, 3, 4);
  doppel_key *k = test_key(3);
  doppel_sample_options o;
  const char *ins[] = {in};
  base_opts(&o, ins, 1, out, k);
  o.mode = DOPPEL_SAMPLE_USERS_N;
  o.n = 50;
  o.raw = 1;
  doppel_sample_summary s = run_ok(&o);
  assert_int_equal(s.users_kept, 50);
  assert_int_equal(s.records_out, 150);
  /* the kept users are the 50 smallest hashes */
  doppel_keyed *kd;
  assert_int_equal(doppel_keyed_new(&kd, k, DOPPEL_SAMPLE_DOMAIN, NULL), DOPPEL_OK);
  uint64_t h[1000];
  char id[64];
  for (int u = 0; u < 1000; u++) {
    int len = snprintf(id, sizeof id, "user-%d@example.com", u);
    h[u] = doppel_sample_user_hash(kd, id, (size_t)len);
  }
  uint64_t sorted[1000];
  memcpy(sorted, h, sizeof h);
  qsort(sorted, 1000, sizeof sorted[0], cmp_u64);
  char *got = tu_read_file(out, NULL);
  for (int u = 0; u < 1000; u++) {
    snprintf(id, sizeof id, "\"user-%d@example.com\"", u);
    int in_out = strstr(got, id) != NULL;
    assert_int_equal(in_out, h[u] <= sorted[49]);
  }
  doppel_keyed_free(kd);
  /* more than there are: all users */
  o.n = 5000;
  s = run_ok(&o);
  assert_int_equal(s.users_kept, 1000);
  assert_int_equal(s.records_out, 3000);
  /* from stdin: same bytes */
  o.n = 50;
  const char *sin[] = {"-"};
  o.inputs = sin;
  o.output = out2;
  int saved = dup(0);
  int fd = open(in, O_RDONLY);
  assert_true(fd >= 0 && saved >= 0);
  dup2(fd, 0);
  close(fd);
  s = run_ok(&o);
  dup2(saved, 0);
  close(saved);
  assert_int_equal(s.users_kept, 50);
  char *got2 = tu_read_file(out2, NULL);
  assert_string_equal(got, got2);
  free(got2);
  assert_int_equal(tu_count_entries(getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", "doppel-sample-"), 0);
  /* the same with the named stdin copy (no O_TMPFILE): removed at the end */
  setenv("DOPPEL_NO_TMPFILE", "1", 1);
  saved = dup(0);
  fd = open(in, O_RDONLY);
  assert_true(fd >= 0 && saved >= 0);
  dup2(fd, 0);
  close(fd);
  s = run_ok(&o);
  dup2(saved, 0);
  close(saved);
  unsetenv("DOPPEL_NO_TMPFILE");
  assert_int_equal(s.users_kept, 50);
  got2 = tu_read_file(out2, NULL);
  assert_string_equal(got, got2);
  free(got);
  free(got2);
  assert_int_equal(tu_count_entries(getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", "doppel-sample-"), 0);
  doppel_key_free(k);
}

/* reservoir of n over the generated file; returns the output (caller frees) */
static char *reservoir(const char *in, uint8_t keybase, uint64_t n, doppel_sample_summary *sum) {
  doppel_key *k = test_key(keybase);
  doppel_sample_options o;
  const char *ins[] = {in};
  const char *out = tpath("r.out");
  base_opts(&o, ins, 1, out, k);
  o.mode = DOPPEL_SAMPLE_EVENTS_N;
  o.n = n;
  o.raw = 1;
  doppel_sample_summary s = run_ok(&o);
  if (sum) *sum = s;
  doppel_key_free(k);
  return tu_read_file(out, NULL);
}

static void test_reservoir(void **state) {
  (void)state;
  char in[512];
  snprintf(in, sizeof in, "%s", tpath("r.jsonl"));
  gen_events(in, 1000, 1, 3);
  doppel_sample_summary s;
  char *a = reservoir(in, 1, 100, &s);
  assert_int_equal(s.records_out, 100);
  assert_int_equal(count_lines(a), 100);
  char *b = reservoir(in, 1, 100, NULL);
  char *c = reservoir(in, 2, 100, NULL);
  assert_string_equal(a, b);
  assert_string_not_equal(a, c);
  /* input order: the "i" properties ascend */
  int last = -1;
  for (const char *p = strstr(a, "\"i\":"); p; p = strstr(p + 1, "\"i\":")) {
    int i = atoi(p + 4);
    assert_true(i > last);
    last = i;
  }
  free(a); free(b); free(c);
  /* n larger than the input: everything */
  a = reservoir(in, 1, 5000, &s);
  assert_int_equal(s.records_out, 1000);
  free(a);
  /* uniformity: positions in 10 buckets over 200 keys; chi-square, 9 df */
  uint64_t bucket[10] = {0};
  const int runs = 200;
  for (int r = 0; r < runs; r++) {
    char *o = reservoir(in, (uint8_t)(r + 10), 100, NULL);
    for (const char *p = strstr(o, "\"i\":"); p; p = strstr(p + 1, "\"i\":")) bucket[atoi(p + 4) / 100]++;
    free(o);
  }
  double expect = runs * 100 / 10.0, chi = 0;
  for (int i = 0; i < 10; i++) chi += (bucket[i] - expect) * (bucket[i] - expect) / expect;
  if (chi >= 40.0) fail_msg("reservoir not uniform: chi-square %.1f over 9 df", chi);
}

static void test_stratified(void **state) {
  (void)state;
  const char *in = tpath("st.jsonl"), *out = tpath("st.out");
  FILE *f = fopen(in, "wb");
  int i = 0;
  for (int e = 0; e < 500; e++, i++) fprintf(f, "{\"user_id\":\"u%d\",\"event\":\"big\",\"time\":1,\"n\":%d}\n", i % 37, i);
  for (int e = 0; e < 50; e++, i++) fprintf(f, "{\"user_id\":\"u%d\",\"event\":\"mid\",\"time\":1,\"n\":%d}\n", i % 37, i);
  for (int e = 0; e < 5; e++, i++) fprintf(f, "{\"user_id\":\"u%d\",\"event\":\"small\",\"time\":1,\"n\":%d}\n", i % 37, i);
  fclose(f);
  doppel_key *k = test_key(5);
  doppel_sample_options o;
  const char *ins[] = {in};
  base_opts(&o, ins, 1, out, k);
  o.mode = DOPPEL_SAMPLE_EVENTS_N;
  o.stratify_event = 1;
  o.per_stratum = 20;
  o.raw = 1;
  doppel_sample_summary s = run_ok(&o);
  assert_int_equal(s.strata, 3);
  assert_int_equal(s.records_out, 45);
  char *got = tu_read_file(out, NULL);
  int nb = 0, nm = 0, ns = 0;
  for (const char *p = got; (p = strstr(p, "\"event\":\"")); p++) {
    nb += !strncmp(p + 9, "big\"", 4);
    nm += !strncmp(p + 9, "mid\"", 4);
    ns += !strncmp(p + 9, "small\"", 6);
  }
  assert_int_equal(nb, 20);
  assert_int_equal(nm, 20);
  assert_int_equal(ns, 5);
  free(got);
  doppel_key_free(k);
}

static void test_filters(void **state) {
  (void)state;
  const char *in = tpath("f.jsonl"), *out = tpath("f.out");
  gen_events(in, 280, 1, 4); /* day = i%28+1, event E(i%4) */
  doppel_key *k = test_key(11);
  doppel_sample_options o;
  const char *ins[] = {in};
  base_opts(&o, ins, 1, out, k);
  o.mode = DOPPEL_SAMPLE_USERS_RATE;
  o.rate = 1.0;
  o.raw = 1;
  const char *names[] = {"E1", "E2"};
  o.where_events = names;
  o.n_where = 2;
  doppel_sample_summary s = run_ok(&o);
  assert_int_equal(s.records_out, 140);
  assert_int_equal(s.filtered_out, 140);
  o.n_where = 0;
  o.has_from = o.has_to = 1;
  assert_int_equal(doppel_time_parse("2024-02-03", 10, &o.from_us, NULL, NULL), DOPPEL_OK);
  assert_int_equal(doppel_time_parse("2024-02-05", 10, &o.to_us, NULL, NULL), DOPPEL_OK);
  s = run_ok(&o);
  assert_int_equal(s.records_out, 20); /* days 3 and 4, 10 each */
  o.n_where = 1; /* and E2 only: day 3 is i%28==2, so i%4==2 (E2); day 4 is E3 */
  names[0] = "E2";
  s = run_ok(&o);
  assert_int_equal(s.records_out, 10);
  doppel_key_free(k);
}

static void test_pseudonymized_default(void **state) {
  (void)state;
  char in[512];
  snprintf(in, sizeof in, "%s/fixtures/events/generic.jsonl", DOPPEL_SOURCE_DIR);
  const char *out = tpath("p.out"), *out2 = tpath("p2.out");
  doppel_key *k = test_key(1);
  doppel_sample_options o;
  const char *ins[] = {in};
  base_opts(&o, ins, 1, out, k);
  o.mode = DOPPEL_SAMPLE_USERS_RATE;
  o.rate = 1.0;
  doppel_sample_summary s = run_ok(&o);
  assert_true(s.records_out > 0);
  assert_true(s.n_counters > 0);
  char *got = tu_read_file(out, NULL);
  assert_null(strstr(got, "jane.doe@example.com"));
  /* deterministic bytes */
  o.output = out2;
  run_ok(&o);
  char *again = tu_read_file(out2, NULL);
  assert_string_equal(got, again);
  free(again);
  /* raw keeps the record */
  o.raw = 1;
  s = run_ok(&o);
  assert_int_equal(s.n_counters, 0);
  char *raw = tu_read_file(out2, NULL);
  assert_non_null(strstr(raw, "jane.doe@example.com"));
  free(raw);
  free(got);
  /* raw + policy is a usage error; no mode is a usage error */
  doppel_policy *p;
  assert_int_equal(doppel_policy_parse(&p, "{\"format\":\"doppel-policy/1\",\"rules\":[]}", 39, "t", NULL), DOPPEL_OK);
  o.policy = p;
  doppel_diag d;
  assert_int_equal(doppel_sample(&o, &s, &d), DOPPEL_E_USAGE);
  o.policy = NULL;
  o.mode = DOPPEL_SAMPLE_NONE;
  assert_int_equal(doppel_sample(&o, &s, &d), DOPPEL_E_USAGE);
  doppel_policy_free(p);
  doppel_key_free(k);
}

static void test_csv_header_once(void **state) {
  (void)state;
  char in[512];
  snprintf(in, sizeof in, "%s/fixtures/events/generic.csv", DOPPEL_SOURCE_DIR);
  const char *out = tpath("c.out");
  doppel_key *k = test_key(1);
  doppel_sample_options o;
  const char *ins[] = {in, in};
  base_opts(&o, ins, 2, out, k);
  o.mode = DOPPEL_SAMPLE_USERS_RATE;
  o.rate = 1.0;
  doppel_sample_summary s = run_ok(&o);
  assert_int_equal(s.records_in, 6);
  assert_int_equal(s.records_out, 6);
  assert_int_equal(s.users_seen, 3);
  char *got = tu_read_file(out, NULL);
  assert_true(!strncmp(got, "user_id,event,", 14));
  assert_null(strstr(got + 1, "\nuser_id,event,"));
  assert_null(strstr(got, "example.com"));
  free(got);
  doppel_key_free(k);
}

static void test_malformed(void **state) {
  (void)state;
  const char *in = tpath("m.jsonl"), *out = tpath("m.out");
  const char *text = "{\"user_id\":\"a\",\"event\":\"x\"}\n{broken\n{\"event\":\"noid\"}\n";
  assert_int_equal(tu_write_file(in, text, strlen(text)), 0);
  doppel_key *k = test_key(1);
  doppel_sample_options o;
  const char *ins[] = {in};
  base_opts(&o, ins, 1, out, k);
  o.mode = DOPPEL_SAMPLE_USERS_RATE;
  o.rate = 1.0;
  doppel_sample_summary s = run_ok(&o);
  assert_int_equal(s.malformed, 1);
  assert_int_equal(s.bad_lines[0], 2);
  assert_int_equal(s.no_user, 1);
  assert_int_equal(s.records_out, 1);
  o.strict = 1;
  doppel_diag d;
  assert_int_not_equal(doppel_sample(&o, &s, &d), DOPPEL_OK);
  assert_int_equal(d.line, 2);
  doppel_key_free(k);
}

static void test_shared_rails(void **state) {
  (void)state;
  char in[1024];
  snprintf(in, sizeof in, "%s/rails-commits/events.jsonl.gz", DOPPEL_SHARED_DATA);
  if (access(in, R_OK) != 0) {
    skip();
    return;
  }
  const char *out = tpath("rails.out");
  doppel_key *k = test_key(21);
  doppel_sample_options o;
  const char *ins[] = {in};
  base_opts(&o, ins, 1, out, k);
  o.mode = DOPPEL_SAMPLE_USERS_RATE;
  o.rate = 0.1;
  o.raw = 1;
  doppel_sample_summary s = run_ok(&o);
  assert_true(s.users_seen > 100);
  double share = (double)s.users_kept / (double)s.users_seen;
  assert_true(fabs(share - 0.1) < 4 * s.expected_error);
  /* every event of a kept user is kept: count the input's events of kept users */
  doppel_keyed *kd;
  assert_int_equal(doppel_keyed_new(&kd, k, DOPPEL_SAMPLE_DOMAIN, NULL), DOPPEL_OK);
  doppel_reader *r;
  assert_int_equal(doppel_reader_open(&r, in, NULL, NULL), DOPPEL_OK);
  doppel_record rec;
  uint64_t expect = 0;
  while (doppel_reader_next(r, &rec, NULL) == 1) {
    json_t *j = json_loadb(rec.data, rec.len, 0, NULL);
    const char *id = j ? json_string_value(json_object_get(j, "user_id")) : NULL;
    if (id && *id && doppel_sample_rate_keeps(doppel_sample_user_hash(kd, id, strlen(id)), 0.1)) expect++;
    json_decref(j);
  }
  doppel_reader_free(r);
  assert_int_equal(s.records_out, expect);
  /* and only kept users are in the output */
  assert_int_equal(doppel_reader_open(&r, out, NULL, NULL), DOPPEL_OK);
  while (doppel_reader_next(r, &rec, NULL) == 1) {
    json_t *j = json_loadb(rec.data, rec.len, 0, NULL);
    const char *id = json_string_value(json_object_get(j, "user_id"));
    assert_non_null(id);
    assert_true(doppel_sample_rate_keeps(doppel_sample_user_hash(kd, id, strlen(id)), 0.1));
    json_decref(j);
  }
  doppel_reader_free(r);
  doppel_keyed_free(kd);
  doppel_key_free(k);
}

static int setup(void **state) {
  (void)state;
  snprintf(tmp, sizeof tmp, "%s", tu_tmpdir());
  return 0;
}

static int teardown(void **state) {
  (void)state;
  tu_rmdir(tmp);
  return 0;
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_rate_keeps),
      cmocka_unit_test(test_users_share),
      cmocka_unit_test(test_split_same_users),
      cmocka_unit_test(test_users_n),
      cmocka_unit_test(test_reservoir),
      cmocka_unit_test(test_stratified),
      cmocka_unit_test(test_filters),
      cmocka_unit_test(test_pseudonymized_default),
      cmocka_unit_test(test_csv_header_once),
      cmocka_unit_test(test_malformed),
      cmocka_unit_test(test_shared_rails),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
