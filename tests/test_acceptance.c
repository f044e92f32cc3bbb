/*
 * test_acceptance.c — real-data acceptance of `pseudonymize` on every
 * events file in ../shared/data (skipped cleanly when it is absent):
 *   - line counts equal, and the run is deterministic (byte-identical twice)
 *   - no original e-mail, IP address or host name survives anywhere in the
 *     output (every token of the output is checked against the set of
 *     personal values seen in the input)
 *   - joins: the user id → pseudonym map is a function and injective, and
 *     the same users get the same pseudonyms in two files of the same data
 *     (generic vs Amplitude shape, generic vs Segment shape)
 *   - untouched values are byte-identical: same tape shape, same keys, same
 *     number literals and same time strings
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <ctype.h>

#include <doppel/doppel.h>

#include "test_util.h"

/* ---- a small string set ---- */
typedef struct strset {
  char **keys;
  size_t cap, n;
} strset;

static uint64_t fnv(const char *s, size_t n) {
  uint64_t h = 1469598103934665603ULL;
  for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
  return h;
}

static int set_has(const strset *s, const char *k, size_t n) {
  if (!s->cap) return 0;
  for (size_t i = fnv(k, n) & (s->cap - 1);; i = (i + 1) & (s->cap - 1)) {
    if (!s->keys[i]) return 0;
    if (strlen(s->keys[i]) == n && !memcmp(s->keys[i], k, n)) return 1;
  }
}

static void set_add(strset *s, const char *k, size_t n) {
  if (set_has(s, k, n)) return;
  if ((s->n + 1) * 2 > s->cap) {
    size_t cap = s->cap ? s->cap * 2 : 1024;
    char **nk = calloc(cap, sizeof *nk);
    for (size_t i = 0; i < s->cap; i++)
      if (s->keys[i]) {
        size_t j = fnv(s->keys[i], strlen(s->keys[i])) & (cap - 1);
        while (nk[j]) j = (j + 1) & (cap - 1);
        nk[j] = s->keys[i];
      }
    free(s->keys);
    s->keys = nk;
    s->cap = cap;
  }
  size_t j = fnv(k, n) & (s->cap - 1);
  while (s->keys[j]) j = (j + 1) & (s->cap - 1);
  s->keys[j] = strndup(k, n);
  s->n++;
}

static void set_free(strset *s) {
  for (size_t i = 0; i < s->cap; i++) free(s->keys[i]);
  free(s->keys);
  memset(s, 0, sizeof *s);
}

static void lower(char *s, size_t n) {
  for (size_t i = 0; i < n; i++) s[i] = (char)tolower((unsigned char)s[i]);
}

static int have_data(void) { return access(DOPPEL_SHARED_DATA, R_OK) == 0; }

static doppel_key *test_key(void) {
  uint8_t b[32];
  for (int i = 0; i < 32; i++) b[i] = (uint8_t)(0xA0 + i);
  doppel_key *k = NULL;
  assert_int_equal(doppel_key_from_bytes(&k, b, 32), DOPPEL_OK);
  return k;
}

static void pseudonymize_file(const doppel_key *k, const char *in, const char *out,
                              doppel_pseudo_summary *s) {
  const char *inputs[] = {in};
  doppel_pseudo_options o;
  memset(&o, 0, sizeof o);
  o.inputs = inputs;
  o.n_inputs = 1;
  o.output = out;
  o.key = k;
  doppel_diag d;
  doppel_diag_clear(&d);
  if (doppel_pseudonymize(&o, s, &d) != DOPPEL_OK) fail_msg("pseudonymize %s: %s", in, d.text);
}

/* Unescaped string value of node i (static buffer per call site). */
static size_t node_string(const doppel_json_doc *doc, uint32_t i, char *buf, size_t cap) {
  size_t n;
  const char *s = doppel_json_str(doc, i, &n);
  if (n > cap) n = cap;
  if (doc->nodes[i].flags & DOPPEL_JSON_F_ESCAPED) return doppel_json_unescape(s, n, buf);
  memcpy(buf, s, n);
  return n;
}

/* a DNS name with at least two labels and a letter in its last label */
static int is_host_name(const char *s, size_t n) {
  const char *dot = NULL;
  for (size_t i = n; i > 0 && !dot; i--)
    if (s[i - 1] == '.') dot = s + i - 1;
  if (!dot || dot == s || (size_t)(dot - s) == n - 1) return 0;
  int alpha = 0;
  for (const char *p = dot + 1; p < s + n; p++) {
    if (!isalnum((unsigned char)*p) && *p != '-') return 0;
    alpha |= isalpha((unsigned char)*p);
  }
  for (size_t i = 0; i < n; i++)
    if (!isalnum((unsigned char)s[i]) && s[i] != '.' && s[i] != '-') return 0;
  return alpha;
}

typedef struct check_ctx {
  strset public_hosts;  /* host names requested as resources in the input */
  strset originals;     /* personal values of the input (lowercased) */
  strset pairs;         /* "orig\tpseudo" user pairs */
  strset pseudo_users;  /* pseudonymized user ids */
  uint64_t lines;
} check_ctx;

static void collect_personal(check_ctx *c, const doppel_json_doc *doc, const doppel_event *ev) {
  char buf[4096];
  for (uint32_t i = 0; i < doc->count; i++) {
    if (doc->nodes[i].type != DOPPEL_JSON_STRING) continue;
    size_t n = node_string(doc, i, buf, sizeof buf);
    doppel_pii_kind k = doppel_pii_classify_value(buf, n);
    if (k == DOPPEL_PII_EMAIL || k == DOPPEL_PII_IPV4 || k == DOPPEL_PII_IPV6) {
      lower(buf, n);
      set_add(&c->originals, buf, n);
    }
  }
  const doppel_span *u = ev->user_id.ptr ? &ev->user_id : &ev->device_id;
  if (u->ptr && u->len >= 4 && u->node != DOPPEL_JSON_NONE &&
      doc->nodes[u->node].type == DOPPEL_JSON_STRING) { /* host names used as user ids */
    size_t n = node_string(doc, u->node, buf, sizeof buf);
    lower(buf, n);
    if (is_host_name(buf, n)) set_add(&c->originals, buf, n);
  }
  /* host names the input itself shows as requested resources (URL paths such
   * as "/://spacelink.msfc.nasa.gov") are public server names, not visitors */
  for (uint32_t i = 0; i < doc->count; i++) {
    if (doc->nodes[i].type != DOPPEL_JSON_STRING || i == u->node) continue;
    size_t kn = doc->nodes[i].key_len;
    const char *key = doc->src + doc->nodes[i].key_start;
    if (!((kn == 3 && !memcmp(key, "url", 3)) || (kn == 4 && !memcmp(key, "path", 4)))) continue;
    size_t n = node_string(doc, i, buf, sizeof buf);
    lower(buf, n);
    for (size_t a = 0; a < n;) {
      while (a < n && !(isalnum((unsigned char)buf[a]) || buf[a] == '.' || buf[a] == '-')) a++;
      size_t b = a;
      while (b < n && (isalnum((unsigned char)buf[b]) || buf[b] == '.' || buf[b] == '-')) b++;
      if (b > a && is_host_name(buf + a, b - a)) set_add(&c->public_hosts, buf + a, b - a);
      a = b;
    }
  }
}

/* Compare one input record with its output record. */
static void compare_records(check_ctx *c, const doppel_json_doc *a, const doppel_event *ea,
                            const doppel_json_doc *b, const doppel_event *eb) {
  assert_int_equal(a->count, b->count);
  for (uint32_t i = 0; i < a->count; i++) {
    const doppel_json_node *x = &a->nodes[i], *y = &b->nodes[i];
    assert_int_equal(x->key_len, y->key_len);
    assert_memory_equal(a->src + x->key_start, b->src + y->key_start, x->key_len);
    if (x->type == DOPPEL_JSON_NUMBER && y->type == DOPPEL_JSON_NUMBER) {
      assert_int_equal(x->end - x->start, y->end - y->start);
      assert_memory_equal(a->src + x->start, b->src + y->start, x->end - x->start);
    } else if (x->type != DOPPEL_JSON_STRING && x->type != DOPPEL_JSON_NUMBER) {
      assert_int_equal(x->type, y->type);
    }
  }
  assert_int_equal(ea->has_time, eb->has_time);
  assert_true(ea->time_us == eb->time_us); /* time strings untouched */
  assert_int_equal(ea->event.len, eb->event.len);
  assert_memory_equal(ea->event.ptr, eb->event.ptr, ea->event.len);
  /* the user: user id, else device id (Amplitude rows without a user id) */
  const doppel_span *ua = ea->user_id.ptr ? &ea->user_id : &ea->device_id;
  const doppel_span *ub = ea->user_id.ptr ? &eb->user_id : &eb->device_id;
  if (ua->ptr && ua->len && a->nodes[ua->node].type == DOPPEL_JSON_STRING) {
    assert_non_null(ub->ptr);
    char pair[8192];
    char u[4096], v[4096];
    size_t un = node_string(a, ua->node, u, sizeof u);
    size_t vn = node_string(b, ub->node, v, sizeof v);
    assert_false(un == vn && !memcmp(u, v, un)); /* changed */
    int w = snprintf(pair, sizeof pair, "%.*s\t%.*s", (int)un, u, (int)vn, v);
    set_add(&c->pairs, pair, (size_t)w);
    set_add(&c->pseudo_users, v, vn);
  }
}

static void scan_output_tokens(check_ctx *c, const char *data, size_t len, uint64_t *leaks) {
  /* maximal runs of characters that can form e-mails, host names and IPs */
  size_t i = 0;
  char tok[1024];
  while (i < len) {
    while (i < len && !(isalnum((unsigned char)data[i]) || strchr("._@%+-:", data[i]))) i++;
    size_t s = i;
    while (i < len && (isalnum((unsigned char)data[i]) || strchr("._@%+-:", data[i]))) i++;
    size_t n = i - s;
    if (n < 4 || n >= sizeof tok) continue;
    memcpy(tok, data + s, n);
    lower(tok, n);
    /* trim punctuation that text puts around e-mails and hosts */
    size_t a = 0, b = n;
    while (a < b && strchr(".:-", tok[a])) a++;
    while (b > a && strchr(".:-", tok[b - 1])) b--;
    if (set_has(&c->originals, tok + a, b - a) && !set_has(&c->public_hosts, tok + a, b - a)) {
      if (*leaks < 5) fprintf(stderr, "leak: a personal value of the input survives (length %zu)\n", b - a);
      (*leaks)++;
    }
  }
}

/* number of distinct left sides of "orig\tpseudo" pairs */
static size_t c_distinct_originals(const strset *pairs) {
  strset o = {0};
  for (size_t i = 0; i < pairs->cap; i++)
    if (pairs->keys[i]) set_add(&o, pairs->keys[i], (size_t)(strchr(pairs->keys[i], '\t') - pairs->keys[i]));
  size_t n = o.n;
  set_free(&o);
  return n;
}

static void check_file(const doppel_key *k, const char *rel, doppel_dialect expect, strset *users_out) {
  char in[1024], out[1024], out2[1024];
  const char *dir = tu_tmpdir();
  snprintf(in, sizeof in, "%s/%s", DOPPEL_SHARED_DATA, rel);
  snprintf(out, sizeof out, "%s/out.jsonl", dir);
  snprintf(out2, sizeof out2, "%s/out2.jsonl", dir);
  doppel_pseudo_summary s;
  pseudonymize_file(k, in, out, &s);
  assert_int_equal(s.dialect, expect);
  assert_int_equal(s.malformed, 0);
  assert_int_equal(s.records_in, s.records_out);
  fprintf(stderr, "%s: %llu records, dialect %s\n", rel, (unsigned long long)s.records_in,
          doppel_dialect_name(s.dialect));
  for (size_t i = 0; i < s.n_counters; i++)
    fprintf(stderr, "    %-56s %llu\n", s.counters[i].label, (unsigned long long)s.counters[i].values);
  /* determinism */
  doppel_pseudo_summary s2;
  pseudonymize_file(k, in, out2, &s2);
  size_t n1 = 0, n2 = 0;
  char *b1 = tu_read_file(out, &n1), *b2 = tu_read_file(out2, &n2);
  assert_int_equal(n1, n2);
  assert_true(memcmp(b1, b2, n1) == 0);
  free(b2);

  check_ctx c;
  memset(&c, 0, sizeof c);
  doppel_reader *ra, *rb;
  doppel_diag d;
  assert_int_equal(doppel_reader_open(&ra, in, NULL, &d), DOPPEL_OK);
  assert_int_equal(doppel_reader_open(&rb, out, NULL, &d), DOPPEL_OK);
  doppel_json_doc da, db;
  doppel_json_doc_init(&da);
  doppel_json_doc_init(&db);
  const doppel_field_map *map = doppel_dialect_fields(expect);
  char *held = NULL;
  size_t held_cap = 0;
  for (;;) {
    doppel_record x, y;
    int gx = doppel_reader_next(ra, &x, &d);
    int gy = doppel_reader_next(rb, &y, &d);
    assert_int_equal(gx, gy);
    if (gx <= 0) break;
    c.lines++;
    if (x.len > held_cap) { held_cap = x.len * 2; held = realloc(held, held_cap); }
    memcpy(held, x.data, x.len);
    assert_int_equal(doppel_json_parse(&da, held, x.len, &d), DOPPEL_OK);
    assert_int_equal(doppel_json_parse(&db, y.data, y.len, &d), DOPPEL_OK);
    doppel_event ea, eb;
    assert_int_equal(doppel_event_from_json(&da, map, &ea, &d), DOPPEL_OK);
    assert_int_equal(doppel_event_from_json(&db, map, &eb, &d), DOPPEL_OK);
    collect_personal(&c, &da, &ea);
    compare_records(&c, &da, &ea, &db, &eb);
  }
  assert_int_equal(c.lines, s.records_in);
  doppel_reader_free(ra);
  doppel_reader_free(rb);
  free(held);
  doppel_json_doc_release(&da);
  doppel_json_doc_release(&db);
  /* no personal value survives anywhere */
  uint64_t leaks = 0;
  scan_output_tokens(&c, b1, n1, &leaks);
  assert_true(c.originals.n > 100);
  fprintf(stderr, "    %zu personal values checked, %llu found in output\n", c.originals.n,
          (unsigned long long)leaks);
  assert_int_equal(leaks, 0);
  /* joins: a function (each original once in pairs) and injective */
  strset origs = {0}, pseudos = {0};
  for (size_t i = 0; i < c.pairs.cap; i++) {
    if (!c.pairs.keys[i]) continue;
    char *tab = strchr(c.pairs.keys[i], '\t');
    size_t on = (size_t)(tab - c.pairs.keys[i]);
    /* e-mails are canonicalized (trimmed, lowercased) before hashing, so
     * identities differing only by case are one user: compare canonical forms */
    char canon[4096];
    size_t cn = on < sizeof canon ? on : sizeof canon;
    memcpy(canon, c.pairs.keys[i], cn);
    if (memchr(canon, '@', cn)) lower(canon, cn);
    set_add(&origs, canon, cn);
    set_add(&pseudos, tab + 1, strlen(tab + 1));
  }
  assert_int_equal(origs.n, pseudos.n);
  fprintf(stderr, "    %zu users (e-mails case-folded), %zu pairs, pseudonym map is one-to-one\n", origs.n, c.pairs.n);
  /* a function: every original maps to exactly one pseudonym */
  assert_int_equal(c.pairs.n, c_distinct_originals(&c.pairs));
  for (size_t i = 0; i < c.pseudo_users.cap; i++)
    if (c.pseudo_users.keys[i]) set_add(users_out, c.pseudo_users.keys[i], strlen(c.pseudo_users.keys[i]));
  set_free(&origs);
  set_free(&pseudos);
  size_t excluded = 0;
  for (size_t i = 0; i < c.originals.cap; i++)
    if (c.originals.keys[i] && set_has(&c.public_hosts, c.originals.keys[i], strlen(c.originals.keys[i])))
      excluded++;
  fprintf(stderr, "    %zu user host names also requested as URL paths (public servers) not counted\n", excluded);
  set_free(&c.public_hosts);
  set_free(&c.originals);
  set_free(&c.pairs);
  set_free(&c.pseudo_users);
  free(b1);
  tu_rmdir(dir);
}

static int same_sets(const strset *a, const strset *b) {
  if (a->n != b->n) return 0;
  for (size_t i = 0; i < a->cap; i++)
    if (a->keys[i] && !set_has(b, a->keys[i], strlen(a->keys[i]))) return 0;
  return 1;
}

static void test_nasa(void **state) {
  (void)state;
  if (!have_data()) skip();
  doppel_key *k = test_key();
  strset u1 = {0}, u2 = {0};
  check_file(k, "nasa-http/events.jsonl.gz", DOPPEL_DIALECT_GENERIC, &u1);
  check_file(k, "nasa-http/events.amplitude.jsonl.gz", DOPPEL_DIALECT_AMPLITUDE, &u2);
  assert_true(same_sets(&u1, &u2)); /* same hosts → same pseudonyms across files and dialects */
  set_free(&u1);
  set_free(&u2);
  doppel_key_free(k);
}

static void test_rails(void **state) {
  (void)state;
  if (!have_data()) skip();
  doppel_key *k = test_key();
  strset u1 = {0}, u2 = {0};
  check_file(k, "rails-commits/events.jsonl.gz", DOPPEL_DIALECT_GENERIC, &u1);
  check_file(k, "rails-commits/events.segment.jsonl.gz", DOPPEL_DIALECT_SEGMENT, &u2);
  assert_true(same_sets(&u1, &u2));
  set_free(&u1);
  set_free(&u2);
  doppel_key_free(k);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_nasa),
      cmocka_unit_test(test_rails),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
