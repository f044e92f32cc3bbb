/*
 * test_canary.c — canary audit of the CLI's default policy. Unique canary
 * values of every personal-data shape are planted in identifier fields,
 * properties, free text, URL query parameters and JSON keys of a fixture
 * written here (JSON Lines and CSV), and into a copy of the first 2,000
 * lines of ../shared/data/rails-commits/events.jsonl.gz (skipped cleanly
 * when it is absent). `pseudonymize`, `sample --users 1` and
 * `sample --events-n 50` must leave no trace of any canary in any output
 * or stderr: as written, case-folded, digits only (phones, cards, SSNs,
 * IBANs), URL-encoded, base64, unkeyed SHA-256 hex and MD5 hex. The key's
 * bytes (hex and base64) never appear either. `sample --raw` must show the
 * canaries (proving the search works) and warn on stderr.
 *
 * The aggregate verbs get the harder case: a fixture where 30 users share
 * every canary (so the k-anonymity rule alone would let them through and
 * only the personal-data rules can hold them back), and the rails copy where
 * all 2,000 events carry them. `profile`, `merge` of two shard states,
 * `report` (HTML and Markdown), `synth` from the learned profile and
 * `compare` (text, JSON and HTML; real against synthetic and against itself)
 * must leave no trace either; a hand-check proves the search sees values that the
 * profile does list.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <ctype.h>
#include <openssl/evp.h>
#include <zlib.h>

#include "test_util.h"

typedef struct canary {
  const char *what, *value;
} canary;

static const canary canaries[] = {
    {"email", "zq7.canary@example.org"},
    {"phone +1", "+1 415 555 0199"},
    {"phone +44", "+44 20 7946 0321"},
    {"ipv4", "198.51.100.77"},
    {"ipv6", "2001:db8:85a3::8a2e:370:7334"},
    {"card", "4012888888881881"},
    {"iban", "DE89370400440532013000"},
    {"ssn", "512-44-7789"},
    {"name", "Zebediah Quillfeather"},
    {"address", "742 Evergreen Terrace Springfield"},
};
#define N_CANARY (sizeof canaries / sizeof canaries[0])
/* values planted only where a default rule treats them (URL parameter) */
static const char *const url_token = "tokZq9xCanaryValue";

/* ---- encodings ---- */
static void lower_str(char *s) {
  for (; *s; s++) *s = (char)tolower((unsigned char)*s);
}

static void hexdigest(const EVP_MD *md, const char *s, char *out) {
  unsigned char d[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_Digest(s, strlen(s), d, &n, md, NULL);
  for (unsigned int i = 0; i < n; i++) sprintf(out + 2 * i, "%02x", d[i]);
}

static void b64(const unsigned char *s, size_t n, char *out) {
  EVP_EncodeBlock((unsigned char *)out, s, (int)n);
}

static void urlenc(const char *s, char *out) {
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') *out++ = (char)c;
    else out += sprintf(out, "%%%02X", c);
  }
  *out = '\0';
}

/* Every searchable form of v; returns the count. Forms are lowercase except
 * base64 (case-sensitive). cs[i] = 1 when the form is case-sensitive. */
static int forms_of(const char *v, int digits_ok, char forms[8][256], int cs[8]) {
  int k = 0;
  snprintf(forms[k], 256, "%s", v);
  lower_str(forms[k]);
  cs[k++] = 0; /* as written, case-folded (the haystack is searched folded too) */
  char u[256];
  urlenc(v, u);
  lower_str(u);
  if (strcmp(u, forms[0])) { snprintf(forms[k], 256, "%s", u); cs[k++] = 0; }
  b64((const unsigned char *)v, strlen(v), forms[k]);
  cs[k++] = 1;
  hexdigest(EVP_sha256(), v, forms[k]);
  cs[k++] = 0;
  hexdigest(EVP_md5(), v, forms[k]);
  cs[k++] = 0;
  if (digits_ok) {
    char d[256];
    size_t n = 0;
    for (const char *p = v; *p; p++)
      if (isdigit((unsigned char)*p)) d[n++] = *p;
    d[n] = '\0';
    if (n >= 7) { snprintf(forms[k], 256, "%s", d); cs[k++] = 0; }
  }
  return k;
}

static int is_digit_kind(const char *what) {
  return !strncmp(what, "phone", 5) || !strcmp(what, "card") || !strcmp(what, "ssn") || !strcmp(what, "iban");
}

/* Count hits of every canary form in text (len n). Prints each hit. */
static int search(const char *label, const char *text, size_t n) {
  if (!text) return 0;
  char *folded = malloc(n + 1);
  for (size_t i = 0; i < n; i++) folded[i] = (char)tolower((unsigned char)text[i]);
  folded[n] = '\0';
  int hits = 0;
  for (size_t c = 0; c <= N_CANARY; c++) {
    const char *v = c < N_CANARY ? canaries[c].value : url_token;
    const char *what = c < N_CANARY ? canaries[c].what : "url token";
    char forms[8][256];
    int cs[8];
    int k = forms_of(v, is_digit_kind(what), forms, cs);
    for (int i = 0; i < k; i++) {
      const char *hay = cs[i] ? text : folded;
      if (memmem(hay, n, forms[i], strlen(forms[i]))) {
        fprintf(stderr, "canary hit in %s: %s (%s) as '%s'\n", label, what, v, forms[i]);
        hits++;
      }
    }
  }
  static const char *key_forms[] = {"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
                                    "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="};
  for (int i = 0; i < 2; i++)
    if (memmem(i == 0 ? folded : text, n, key_forms[i], strlen(key_forms[i]))) {
      fprintf(stderr, "key bytes in %s\n", label);
      hits++;
    }
  free(folded);
  return hits;
}

/* ---- fixtures ---- */
static char sentence[1024], url[1024];
static void build_texts(void) {
  snprintf(sentence, sizeof sentence,
           "please contact %s or call %s / %s from %s or %s, card %s, iban %s, ssn %s thanks",
           canaries[0].value, canaries[1].value, canaries[2].value, canaries[3].value, canaries[4].value,
           canaries[5].value, canaries[6].value, canaries[7].value);
  char e[256], p[256];
  urlenc(canaries[0].value, e);
  urlenc(canaries[1].value, p);
  snprintf(url, sizeof url, "https://shop.example.com/cart?email=%s&phone=%s&token=%s&utm_source=news", e, p,
           url_token);
}

/* The JSON fields planted into a record (no surrounding braces). */
static void planted_fields(char *out, size_t cap) {
  snprintf(out, cap,
           "\"canary_props\":{\"email\":\"%s\",\"phone\":\"%s\",\"mobile\":\"%s\",\"ip\":\"%s\",\"ipv6\":\"%s\","
           "\"card\":\"%s\",\"iban\":\"%s\",\"ssn\":\"%s\",\"full_name\":\"%s\",\"street_address\":\"%s\","
           "\"v1\":\"%s\",\"v2\":\"%s\",\"v3\":\"%s\"},"
           "\"canary_comment\":\"%s\",\"canary_url\":\"%s\",\"canary_keys\":{\"%s\":{\"n\":1},\"%s\":1,\"%s\":2}",
           canaries[0].value, canaries[1].value, canaries[2].value, canaries[3].value, canaries[4].value,
           canaries[5].value, canaries[6].value, canaries[7].value, canaries[8].value, canaries[9].value,
           canaries[5].value, canaries[6].value, canaries[2].value, sentence, url, canaries[0].value,
           canaries[3].value, canaries[1].value);
}

static int write_jsonl(const char *path) {
  FILE *f = fopen(path, "wb");
  if (!f) return -1;
  char fields[8192];
  planted_fields(fields, sizeof fields);
  fprintf(f, "{\"user_id\":\"%s\",\"device_id\":\"%s\",\"event\":\"Sign Up\",\"time\":\"2024-01-01T00:00:00Z\",%s}\n",
          canaries[0].value, canaries[4].value, fields);
  fprintf(f, "{\"user_id\":\"%s\",\"device_id\":\"%s\",\"event\":\"View\",\"time\":\"2024-01-01T00:01:00Z\",%s}\n",
          canaries[1].value, canaries[3].value, fields);
  fprintf(f, "{\"user_id\":\"u-plain\",\"event\":\"View\",\"time\":\"2024-01-01T00:02:00Z\",%s}\n", fields);
  return fclose(f);
}

static int write_csv(const char *path) {
  FILE *f = fopen(path, "wb");
  if (!f) return -1;
  fprintf(f, "user_id,device_id,event,time,email,phone,ip,card,iban,ssn,full_name,street_address,comment,url\n");
  for (int r = 0; r < 2; r++)
    fprintf(f, "%s,%s,View,2024-01-01T00:00:00Z,%s,%s,%s,%s,%s,%s,%s,%s,\"%s\",%s\n",
            r ? canaries[1].value : canaries[0].value, r ? canaries[3].value : canaries[4].value,
            canaries[0].value, canaries[2].value, canaries[3].value, canaries[5].value, canaries[6].value,
            canaries[7].value, canaries[8].value, canaries[9].value, sentence, url);
  return fclose(f);
}

/* First 2,000 lines of rails-commits with the canary fields planted in each. */
static int write_rails(const char *path) {
  char src[512];
  snprintf(src, sizeof src, "%s/rails-commits/events.jsonl.gz", DOPPEL_SHARED_DATA);
  gzFile g = gzopen(src, "rb");
  if (!g) return 1;
  FILE *f = fopen(path, "wb");
  char fields[8192];
  planted_fields(fields, sizeof fields);
  static char line[1 << 20];
  int n = 0;
  while (n < 2000 && gzgets(g, line, sizeof line)) {
    if (line[0] == '{') fprintf(f, "{%s,%s", fields, line + 1);
    else fputs(line, f);
    n++;
  }
  gzclose(g);
  fclose(f);
  return n == 2000 ? 0 : -1;
}

/* 30 users, 4 events each, all carrying every canary; the first two users'
 * ids are canaries, every device id is the IPv6 canary. */
static int write_shared(const char *path) {
  FILE *f = fopen(path, "wb");
  if (!f) return -1;
  char fields[8192];
  planted_fields(fields, sizeof fields);
  static const char *const names[] = {"Sign Up", "View", "View", "Buy"};
  for (int u = 0; u < 30; u++)
    for (int e = 0; e < 4; e++) {
      char uid[64];
      if (u < 2) snprintf(uid, sizeof uid, "%s", canaries[u].value);
      else snprintf(uid, sizeof uid, "u-shared-%02d", u);
      fprintf(f,
              "{\"user_id\":\"%s\",\"device_id\":\"%s\",\"event\":\"%s\",\"time\":\"2024-01-%02dT%02d:%02d:00Z\","
              "\"properties\":{\"plan\":\"canary-visible-plan\"},%s}\n",
              uid, canaries[4].value, names[e], 1 + u % 7, 8 + u % 12, e * 3, fields);
    }
  return fclose(f);
}

/* Runs one CLI step and searches its output file(s) and stderr; returns hits
 * (a failed step counts as one). */
static int step(const char *dir, const char *label, const char *args, const char *out) {
  char p[1024];
  if (out) {
    snprintf(p, sizeof p, "%s/%s", dir, out);
    unlink(p); /* from the previous input */
  }
  tu_run x = tu_cli(dir, args, NULL);
  int hits = 0;
  if (x.status != 0) {
    fprintf(stderr, "[%s] exit %d\n%s\n", label, x.status, x.err ? x.err : "");
    hits++;
  }
  char l2[300];
  if (out) {
    size_t n = 0;
    char *o = tu_read_file(p, &n);
    if (!o || n == 0) {
      fprintf(stderr, "[%s] empty output %s\n", label, out);
      hits++;
    }
    snprintf(l2, sizeof l2, "%s output", label);
    hits += search(l2, o, n);
    free(o);
  }
  snprintf(l2, sizeof l2, "%s stdout", label);
  hits += search(l2, x.out, x.out_len);
  snprintf(l2, sizeof l2, "%s stderr", label);
  hits += search(l2, x.err, x.err ? strlen(x.err) : 0);
  tu_run_free(&x);
  return hits;
}

/* profile, merge of two shard states, report (HTML and Markdown), synth;
 * kopt: extra profile options (a low --k, so that values held by a few
 * users pass the k rule and only the personal-data rules stand between the
 * canaries and the output). */
static int audit_aggregate(const char *dir, const char *input, const char *kopt) {
  char args[2048], label[600];
  int hits = 0;
#define STEP(OUT, ...)                                           \
  do {                                                           \
    snprintf(args, sizeof args, __VA_ARGS__);                    \
    snprintf(label, sizeof label, "%s / %.40s", input, args);    \
    hits += step(dir, label, args, OUT);                         \
  } while (0)
  STEP("p.json", "profile '%s' -o p.json --key test.key %s", input, kopt);
  STEP("p0.json", "profile '%s' -o p0.json %s", input, kopt); /* unkeyed user hashes */
  /* two shards: the first and second half of the lines */
  char p[1024];
  snprintf(p, sizeof p, "%s/%s", dir, input);
  size_t n = 0;
  char *all = tu_read_file(p, &n);
  if (!all) return hits + 1;
  size_t half = n / 2;
  while (half < n && all[half - 1] != '\n') half++;
  snprintf(p, sizeof p, "%s/shard0.jsonl", dir);
  tu_write_file(p, all, half);
  snprintf(p, sizeof p, "%s/shard1.jsonl", dir);
  tu_write_file(p, all + half, n - half);
  free(all);
  STEP(NULL, "profile shard0.jsonl --state-out s0.state --key test.key %s", kopt);
  STEP(NULL, "profile shard1.jsonl --state-out s1.state --key test.key %s", kopt);
  STEP("m.json", "merge s0.state s1.state -o m.json");
  STEP("r.html", "report p.json -o r.html");
  STEP("r.md", "report m.json -o r.md");
  STEP("s.jsonl", "synth p.json -o s.jsonl --users 60 --seed 3");
  STEP("s.csv", "synth m.json -o s.csv --format csv --users 40 --dialect generic");
  STEP("s.sql", "synth p.json -o s.sql --format sql --users 20 --order time");
  /* the scorecard of real against synthetic, and of real against itself
   * (where every rare and identifier value is found in B) */
  STEP("c.html", "compare '%s' s.jsonl --html c.html %s", input, kopt);
  STEP("c2.html", "compare '%s' '%s' --json --html c2.html %s", input, input, kopt);
  STEP(NULL, "compare p.json m.json");
#undef STEP
  return hits;
}

static const char *const runs[] = {"pseudonymize", "sample --users 1", "sample --events-n 50"};

static int audit(const char *dir, const char *input, const char *ext) {
  int hits = 0;
  for (size_t r = 0; r < 3; r++) {
    char args[1024], label[256], out[600];
    snprintf(out, sizeof out, "out%zu.%s", r, ext);
    snprintf(args, sizeof args, "%s '%s' -o %s --key test.key", runs[r], input, out);
    tu_run x = tu_cli(dir, args, NULL);
    snprintf(label, sizeof label, "%s / %s", input, runs[r]);
    if (x.status != 0) {
      fprintf(stderr, "[%s] exit %d\n%s\n", label, x.status, x.err ? x.err : "");
      hits++;
    }
    char p[1024];
    snprintf(p, sizeof p, "%s/%s", dir, out);
    size_t n = 0;
    char *o = tu_read_file(p, &n);
    if (!o || n == 0) { fprintf(stderr, "[%s] empty output\n", label); hits++; }
    char l2[300];
    snprintf(l2, sizeof l2, "%s output", label);
    hits += search(l2, o, n);
    snprintf(l2, sizeof l2, "%s stderr", label);
    hits += search(l2, x.err, x.err ? strlen(x.err) : 0);
    free(o);
    tu_run_free(&x);
  }
  /* --raw: the canaries are there, and stderr warns */
  char args[1024], p[1024];
  snprintf(args, sizeof args, "sample '%s' -o raw.%s --key test.key --users 1 --raw", input, ext);
  tu_run x = tu_cli(dir, args, NULL);
  snprintf(p, sizeof p, "%s/raw.%s", dir, ext);
  size_t n = 0;
  char *o = tu_read_file(p, &n);
  for (size_t c = 0; c < N_CANARY; c++)
    if (!o || !memmem(o, n, canaries[c].value, strlen(canaries[c].value))) {
      fprintf(stderr, "[%s --raw] canary %s missing from raw output\n", input, canaries[c].what);
      hits++;
    }
  if (x.status != 0 || !x.err || !strstr(x.err, "warning: --raw")) {
    fprintf(stderr, "[%s --raw] exit %d, no raw warning:\n%s\n", input, x.status, x.err ? x.err : "");
    hits++;
  }
  free(o);
  tu_run_free(&x);
  return hits;
}

static void test_canary_fixture(void **state) {
  (void)state;
  build_texts();
  const char *t = tu_tmpdir();
  char dir[256], p[512];
  snprintf(dir, sizeof dir, "%s", t);
  assert_non_null(tu_test_key(dir));
  snprintf(p, sizeof p, "%s/canary.jsonl", dir);
  assert_int_equal(write_jsonl(p), 0);
  snprintf(p, sizeof p, "%s/canary.csv", dir);
  assert_int_equal(write_csv(p), 0);
  int hits = audit(dir, "canary.jsonl", "jsonl") + audit(dir, "canary.csv", "csv");
  tu_rmdir(dir);
  assert_int_equal(hits, 0);
}

static void test_canary_rails(void **state) {
  (void)state;
  char probe[512];
  snprintf(probe, sizeof probe, "%s/rails-commits/events.jsonl.gz", DOPPEL_SHARED_DATA);
  if (access(probe, R_OK) != 0) {
    fprintf(stderr, "shared data absent: skipping the rails canary audit\n");
    skip();
  }
  build_texts();
  const char *t = tu_tmpdir();
  char dir[256], p[512];
  snprintf(dir, sizeof dir, "%s", t);
  assert_non_null(tu_test_key(dir));
  snprintf(p, sizeof p, "%s/rails2000.jsonl", dir);
  assert_int_equal(write_rails(p), 0);
  int hits = audit(dir, "rails2000.jsonl", "jsonl");
  tu_rmdir(dir);
  assert_int_equal(hits, 0);
}

static void test_canary_aggregate(void **state) {
  (void)state;
  build_texts();
  const char *t = tu_tmpdir();
  char dir[256], p[512];
  snprintf(dir, sizeof dir, "%s", t);
  assert_non_null(tu_test_key(dir));
  snprintf(p, sizeof p, "%s/shared.jsonl", dir);
  assert_int_equal(write_shared(p), 0);
  int hits = audit_aggregate(dir, "shared.jsonl", "");
  /* the search sees what the profile does list: the non-personal value held by all 30 users */
  snprintf(p, sizeof p, "%s/p.json", dir);
  char *prof = tu_read_file(p, NULL);
  assert_non_null(prof);
  assert_non_null(strstr(prof, "canary-visible-plan"));
  assert_non_null(strstr(prof, "\"users\""));
  free(prof);
  char probe[512];
  snprintf(probe, sizeof probe, "%s/rails-commits/events.jsonl.gz", DOPPEL_SHARED_DATA);
  if (access(probe, R_OK) == 0) {
    snprintf(p, sizeof p, "%s/rails2000.jsonl", dir);
    assert_int_equal(write_rails(p), 0);
    hits += audit_aggregate(dir, "rails2000.jsonl", "--k 2"); /* 9 authors */
  } else {
    fprintf(stderr, "shared data absent: the rails aggregate audit is skipped\n");
  }
  tu_rmdir(dir);
  assert_int_equal(hits, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_canary_fixture), cmocka_unit_test(test_canary_rails),
                                     cmocka_unit_test(test_canary_aggregate)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
