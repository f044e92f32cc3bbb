/*
 * test_malformed.c — a table-driven malformed-input corpus run through the
 * CLI binary (DOPPEL_CLI_PATH). Every case is run by `pseudonymize`,
 * `sample --users 0.5`, `sample --events-n 3`, `profile` (a verb is
 * skipped when its expected count is SKIP) and `compare` (the input as both
 * A and B, with --json and --html; the profile's expectations; see
 * compare_applies()) and asserts:
 *   - the expected exit code, and no crash: exit < 124 (timeout 60 guards
 *     against hangs), no sanitizer report in stderr;
 *   - every expected stderr fragment ('|'-separated; file and line number);
 *   - on failure: the output path does not exist and no hidden temporary
 *     ".NAME....tmp" remains in the directory;
 *   - on success: the output has exactly the expected number of records (a
 *     profile: is a profile, with the expected number of events profiled;
 *     compare: stdout is a report whose A has those events, and the page);
 *   - the input files are byte-for-byte unchanged (SHA-256 before/after).
 * Small inputs are fixtures in fixtures/malformed/; large or binary ones
 * (100 MB line, deep nesting, gzip variants) are generated into the case's
 * temporary directory. To extend to a later verb, add a column to `verbs`.
 * DOPPEL_CLI_WRAPPER (shell words) runs every doppel under a wrapper such
 * as valgrind, with a 600 s timeout instead of 60 (tests/valgrind.sh --all).
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <jansson.h>
#include <errno.h>
#include <openssl/evp.h>
#include <zlib.h>

#include "test_util.h"

#define SKIP (-1L)

typedef int (*gen_fn)(const char *dir);

typedef struct mcase {
  const char *name;
  const char *input;    /* input file name in the case directory */
  const char *fixture;  /* fixtures/malformed/<fixture> copied to input, or NULL */
  gen_fn gen;           /* generator (runs in the case directory), or NULL */
  const char *inputs;   /* shell words for the inputs (default: input) */
  const char *output;   /* output path (default: out.<ext of input>) */
  const char *extra;    /* extra options for every verb */
  int exit;             /* expected exit code for every verb */
  const char *err;      /* '|'-separated fragments that must be in stderr */
  long n[4];            /* expected output records: pseudonymize, --users 0.5, --events-n 3;
                         * profile: the events profiled (source.events) */
  const char *out_has;  /* pseudonymize output must contain this (or NULL) */
} mcase;

#define N_VERBS 5
#define V_COMPARE 4
static const char *const verbs[N_VERBS] = {"pseudonymize", "sample --users 0.5", "sample --events-n 3",
                                           "profile --now 2026-12-01", "compare"};

/* compare profiles its two datasets as `profile` does: a case runs through
 * it (the input as both A and B, --html as the output) with the profile's
 * expected exit code and events, unless the case needs what compare has
 * not: several inputs, stdin, or a pseudonymize/sample-only option. */
static int compare_applies(const mcase *c) {
  if (c->n[3] == SKIP || c->inputs) return 0;
  const char *x = c->extra ? c->extra : "";
  return !strstr(x, "--strict") && !strstr(x, "--raw") && !strstr(x, "--from") && !strstr(x, "--to");
}

#define G "{\"user_id\":\"u1\",\"event\":\"E\",\"time\":\"2024-01-01T00:00:00Z\"}\n"

static int put(const char *path, const char *s, size_t n) { return tu_write_file(path, s, n); }

/* ---- generators (cwd-relative paths are resolved against dir) ---- */
static char gp[1024];
static const char *at(const char *dir, const char *name) {
  snprintf(gp, sizeof gp, "%s/%s", dir, name);
  return gp;
}

static int gen_long_line(const char *path, size_t len) {
  FILE *f = fopen(path, "wb");
  if (!f) return -1;
  fputs(G, f);
  fputs("{\"user_id\":\"u1\",\"event\":\"E\",\"x\":\"", f);
  static char chunk[1 << 16];
  memset(chunk, 'a', sizeof chunk);
  for (size_t done = 0; done < len;) {
    size_t k = len - done < sizeof chunk ? len - done : sizeof chunk;
    fwrite(chunk, 1, k, f);
    done += k;
  }
  fputs("\"}\n", f);
  fputs(G, f);
  return fclose(f);
}
static int gen_100m(const char *dir) { return gen_long_line(at(dir, "line100m.jsonl"), 100u * 1000u * 1000u); }
static int gen_2k(const char *dir) { return gen_long_line(at(dir, "line2k.jsonl"), 2048); }

static int gen_deep(const char *path, const char *open, const char *mid, const char *close) {
  FILE *f = fopen(path, "wb");
  if (!f) return -1;
  fputs(G, f);
  for (int i = 0; i < 100000; i++) fputs(open, f);
  fputs(mid, f);
  for (int i = 0; i < 100000; i++) fputs(close, f);
  fputs("\n", f);
  fputs(G, f);
  return fclose(f);
}
static int gen_deep_arrays(const char *dir) { return gen_deep(at(dir, "deep_arrays.jsonl"), "[", "", "]"); }
static int gen_deep_objects(const char *dir) {
  return gen_deep(at(dir, "deep_objects.jsonl"), "{\"a\":", "1", "}");
}
/* Unbalanced: 100,000 '[' and nothing else. */
static int gen_deep_open(const char *dir) {
  FILE *f = fopen(at(dir, "deep_open.jsonl"), "wb");
  if (!f) return -1;
  fputs(G, f);
  for (int i = 0; i < 100000; i++) fputc('[', f);
  fputs("\n", f);
  return fclose(f);
}

static int gz_write(const char *path, const char *data, size_t n) {
  gzFile g = gzopen(path, "wb");
  if (!g) return -1;
  if (n && gzwrite(g, data, (unsigned)n) != (int)n) { gzclose(g); return -1; }
  return gzclose(g) == Z_OK ? 0 : -1;
}
static char ten[1024];
static const char *ten_records(void) {
  ten[0] = '\0';
  for (int i = 0; i < 10; i++) strcat(ten, G);
  return ten;
}
static int gen_gz_good(const char *dir) {
  const char *t = ten_records();
  return gz_write(at(dir, "good.jsonl.gz"), t, strlen(t));
}
static int gen_gz_malformed_line(const char *dir) {
  const char *s = G G "{\"user_id\":\"u1\"\n" G;
  return gz_write(at(dir, "bad.jsonl.gz"), s, strlen(s));
}
static int gen_gz_empty(const char *dir) { return gz_write(at(dir, "empty.jsonl.gz"), "", 0); }
/* Reads dir/good.jsonl.gz after writing it; then transforms. */
static int gz_variant(const char *dir, const char *name, int mode) {
  if (gen_gz_good(dir)) return -1;
  size_t n;
  char *b = tu_read_file(at(dir, "good.jsonl.gz"), &n);
  unlink(gp);
  if (!b) return -1;
  int rc;
  if (mode == 0) {
    rc = put(at(dir, name), b, n / 2); /* truncated */
  } else if (mode == 1) {
    for (size_t i = 20; i < 28 && i < n; i++) b[i] ^= 0xff; /* corrupt deflate data */
    rc = put(at(dir, name), b, n);
  } else if (mode == 2) {
    char *c = malloc(n + 16);
    memcpy(c, b, n);
    memcpy(c + n, "garbage!", 8); /* trailing garbage */
    rc = put(at(dir, name), c, n + 8);
    free(c);
  } else if (mode == 3) {
    char *c = malloc(2 * n);
    memcpy(c, b, n);
    memcpy(c + n, b, n); /* two members */
    rc = put(at(dir, name), c, 2 * n);
    free(c);
  } else {
    b[n - 5] ^= 0x01; /* flipped bit in the CRC-32 / length trailer */
    rc = put(at(dir, name), b, n);
  }
  free(b);
  return rc;
}
static int gen_gz_trunc(const char *dir) { return gz_variant(dir, "trunc.jsonl.gz", 0); }
static int gen_gz_corrupt(const char *dir) { return gz_variant(dir, "corrupt.jsonl.gz", 1); }
static int gen_gz_garbage(const char *dir) { return gz_variant(dir, "garbage.jsonl.gz", 2); }
static int gen_gz_concat(const char *dir) { return gz_variant(dir, "concat.jsonl.gz", 3); }
static int gen_gz_badcrc(const char *dir) { return gz_variant(dir, "badtrailer.jsonl.gz", 4); }

static int gen_dir(const char *dir) { return mkdir(at(dir, "adir.jsonl"), 0755); }
static int gen_good(const char *dir) { return put(at(dir, "in.jsonl"), G G, strlen(G G)); }
static int gen_symlink(const char *dir) {
  if (gen_good(dir)) return -1;
  return symlink("in.jsonl", at(dir, "link.jsonl"));
}
static int gen_mixed(const char *dir) {
  if (gen_good(dir)) return -1;
  const char *c = "user_id,event\nu1,E\n";
  return put(at(dir, "in.csv"), c, strlen(c));
}

/* clang-format off */
static const mcase cases[] = {
  /* JSON: truncation */
  {"trunc_object", "trunc_object.jsonl", "trunc_object.jsonl", NULL, NULL, NULL, NULL, 0,
   "trunc_object.jsonl:3|unexpected end of input|1 malformed skipped", {2, 2, 2, 2}, NULL},
  {"trunc_string", "trunc_string.jsonl", "trunc_string.jsonl", NULL, NULL, NULL, NULL, 0,
   "trunc_string.jsonl:2", {2, 2, 2, 2}, NULL},
  {"trunc_eof", "trunc_eof.jsonl", "trunc_eof.jsonl", NULL, NULL, NULL, NULL, 0,
   "trunc_eof.jsonl:2", {1, 1, 1, 1}, NULL},
  {"trunc_array", "trunc_array.jsonl", "trunc_array.jsonl", NULL, NULL, NULL, NULL, 0,
   "trunc_array.jsonl:1", {1, 1, 1, 1}, NULL},
  {"trunc_strict", "trunc_object.jsonl", "trunc_object.jsonl", NULL, NULL, NULL, "--strict", 1,
   "trunc_object.jsonl:3|--strict", {0, 0, 0, 0}, NULL},
  /* JSON: UTF-8 */
  {"utf8_overlong", "utf8_overlong.jsonl", "utf8_overlong.jsonl", NULL, NULL, NULL, NULL, 0,
   "utf8_overlong.jsonl:2|overlong", {1, 1, 1, 1}, NULL},
  {"utf8_lone_continuation", "utf8_lone_continuation.jsonl", "utf8_lone_continuation.jsonl", NULL, NULL, NULL, NULL, 0,
   "utf8_lone_continuation.jsonl:2|continuation", {2, 2, 2, 2}, NULL},
  {"utf8_ff", "utf8_ff.jsonl", "utf8_ff.jsonl", NULL, NULL, NULL, NULL, 0,
   "utf8_ff.jsonl:1|0xff", {1, 1, 1, 1}, NULL},
  {"utf8_surrogate", "utf8_surrogate.jsonl", "utf8_surrogate.jsonl", NULL, NULL, NULL, NULL, 0,
   "utf8_surrogate.jsonl:2|surrogate", {1, 1, 1, 1}, NULL},
  {"utf8_incomplete", "utf8_incomplete.jsonl", "utf8_incomplete.jsonl", NULL, NULL, NULL, NULL, 0,
   "utf8_incomplete.jsonl:3", {2, 2, 2, 2}, NULL},
  {"utf8_in_key", "utf8_in_key.jsonl", "utf8_in_key.jsonl", NULL, NULL, NULL, NULL, 0,
   "utf8_in_key.jsonl:2", {1, 1, 1, 1}, NULL},
  {"utf8_outside_string", "utf8_outside_string.jsonl", "utf8_outside_string.jsonl", NULL, NULL, NULL, NULL, 0,
   "utf8_outside_string.jsonl:2", {1, 1, 1, 1}, NULL},
  {"utf8_strict", "utf8_ff.jsonl", "utf8_ff.jsonl", NULL, NULL, NULL, "--strict", 1,
   "utf8_ff.jsonl:1", {0, 0, 0, 0}, NULL},
  /* JSON: NUL bytes */
  {"nul_in_string", "nul_in_string.jsonl", "nul_in_string.jsonl", NULL, NULL, NULL, NULL, 0,
   "nul_in_string.jsonl:2|U+0000", {1, 1, 1, 1}, NULL},
  {"nul_outside_string", "nul_outside_string.jsonl", "nul_outside_string.jsonl", NULL, NULL, NULL, NULL, 0,
   "nul_outside_string.jsonl:2", {1, 1, 1, 1}, NULL},
  {"nul_line", "nul_line.jsonl", "nul_line.jsonl", NULL, NULL, NULL, NULL, 0,
   "nul_line.jsonl:2", {2, 2, 2, 2}, NULL},
  {"escaped_nul", "escaped_nul.jsonl", "escaped_nul.jsonl", NULL, NULL, NULL, NULL, 0,
   "0 malformed", {1, 1, 1, 0}, "a\\u0000b"},
  /* JSON: escapes, literals, numbers */
  {"bad_escape", "bad_escape.jsonl", "bad_escape.jsonl", NULL, NULL, NULL, NULL, 0,
   "bad_escape.jsonl:2|escape", {1, 1, 1, 1}, NULL},
  {"unpaired_surrogate_escape", "unpaired_surrogate_escape.jsonl", "unpaired_surrogate_escape.jsonl", NULL, NULL, NULL, NULL, 0,
   "unpaired_surrogate_escape.jsonl:2", {1, 1, 1, 1}, NULL},
  /* duplicate keys are kept verbatim; the last user_id ("u2", not kept at 0.5) decides sampling */
  {"duplicate_keys", "duplicate_keys.jsonl", "duplicate_keys.jsonl", NULL, NULL, NULL, NULL, 0,
   "0 malformed", {1, 0, 1, 0}, "\"event\":\"E\",\"event\":\"F\""},
  {"nan", "nan.jsonl", "nan.jsonl", NULL, NULL, NULL, NULL, 0, "nan.jsonl:2", {1, 1, 1, 1}, NULL},
  {"infinity", "infinity.jsonl", "infinity.jsonl", NULL, NULL, NULL, NULL, 0, "infinity.jsonl:3", {2, 2, 2, 2}, NULL},
  {"minus_infinity", "minus_infinity.jsonl", "minus_infinity.jsonl", NULL, NULL, NULL, NULL, 0,
   "minus_infinity.jsonl:2", {1, 1, 1, 1}, NULL},
  {"huge_numbers", "huge_numbers.jsonl", "huge_numbers.jsonl", NULL, NULL, NULL, NULL, 0, "0 malformed", {1, 1, 1, 0},
   "\"a\":123456789012345678901234567890,\"b\":1e999999,\"c\":-0.0000000000000000000001e-400}"},
  {"trailing_garbage", "trailing_garbage.jsonl", "trailing_garbage.jsonl", NULL, NULL, NULL, NULL, 0,
   "trailing_garbage.jsonl:2|trailing", {1, 1, 1, 1}, NULL},
  /* pseudonymize passes non-object JSON values through; sample needs objects */
  {"non_object", "non_object.jsonl", "non_object.jsonl", NULL, NULL, NULL, NULL, 0, NULL, {2, 1, 1, 1}, NULL},
  /* framing: BOM, CRLF, blank, empty, no final newline */
  {"bom", "bom.jsonl", "bom.jsonl", NULL, NULL, NULL, NULL, 0, "0 malformed", {2, 2, 2, 2}, NULL},
  {"bom_second_line", "bom_second_line.jsonl", "bom_second_line.jsonl", NULL, NULL, NULL, NULL, 0,
   "bom_second_line.jsonl:2", {1, 1, 1, 1}, NULL},
  {"crlf", "crlf.jsonl", "crlf.jsonl", NULL, NULL, NULL, NULL, 0, "0 malformed", {2, 2, 2, 2}, "Z\"}\r\n"},
  {"empty", "empty.jsonl", "empty.jsonl", NULL, NULL, NULL, NULL, 0, "0 records in", {0, 0, 0, 0}, NULL},
  {"blank_lines", "blank_lines.jsonl", "blank_lines.jsonl", NULL, NULL, NULL, NULL, 0, "0 records in", {0, 0, 0, 0}, NULL},
  {"no_final_newline", "no_final_newline.jsonl", "no_final_newline.jsonl", NULL, NULL, NULL, NULL, 0,
   "2 records in", {2, 2, 2, 2}, NULL},
  /* wrong types in user / event / time fields */
  {"user_id_object", "user_id_object.jsonl", "user_id_object.jsonl", NULL, NULL, NULL, NULL, 0, NULL, {2, 1, 1, 1}, NULL},
  {"event_number", "event_number.jsonl", "event_number.jsonl", NULL, NULL, NULL, NULL, 0, "0 malformed", {1, 1, 1, 0}, NULL},
  {"event_array", "event_array.jsonl", "event_array.jsonl", NULL, NULL, NULL, NULL, 0, NULL, {2, 1, 1, 1}, NULL},
  {"time_out_of_range", "time_out_of_range.jsonl", "time_out_of_range.jsonl", NULL, NULL, NULL,
   "--from 2000-01-01", 0, "time_out_of_range.jsonl:1|out of range|time_out_of_range.jsonl:3", {SKIP, 1, 1, SKIP}, NULL},
  {"time_object", "time_object.jsonl", "time_object.jsonl", NULL, NULL, NULL, "--to 2100-01-01", 0,
   "time_object.jsonl:2|holds an object", {SKIP, 1, 1, SKIP}, NULL},
  /* the profiler parses every timestamp itself */
  {"time_out_of_range_profile", "time_out_of_range.jsonl", "time_out_of_range.jsonl", NULL, NULL, NULL, NULL, 0,
   "time_out_of_range.jsonl:1|out of range|time_out_of_range.jsonl:3|invalid month", {SKIP, SKIP, SKIP, 1}, NULL},
  {"time_object_profile", "time_object.jsonl", "time_object.jsonl", NULL, NULL, NULL, NULL, 0,
   "time_object.jsonl:2|holds an object", {SKIP, SKIP, SKIP, 1}, NULL},
  /* size and depth limits (generated) */
  {"line_100m", "line100m.jsonl", NULL, gen_100m, NULL, NULL, NULL, 0,
   "line100m.jsonl:2|longer than 67108864", {2, 2, 2, 2}, NULL},
  {"line_2k_max1k", "line2k.jsonl", NULL, gen_2k, NULL, NULL, "--max-record 1K", 0,
   "line2k.jsonl:2|longer than 1024", {2, 2, 2, 2}, NULL},
  {"line_2k_strict", "line2k.jsonl", NULL, gen_2k, NULL, NULL, "--max-record 1K --strict", 1,
   "line2k.jsonl:2|longer than 1024", {0, 0, 0, 0}, NULL},
  {"deep_arrays", "deep_arrays.jsonl", NULL, gen_deep_arrays, NULL, NULL, NULL, 0,
   "deep_arrays.jsonl:2|nesting deeper", {2, 2, 2, 2}, NULL},
  {"deep_objects", "deep_objects.jsonl", NULL, gen_deep_objects, NULL, NULL, NULL, 0,
   "deep_objects.jsonl:2|nesting deeper", {2, 2, 2, 2}, NULL},
  {"deep_open", "deep_open.jsonl", NULL, gen_deep_open, NULL, NULL, NULL, 0, "deep_open.jsonl:2", {1, 1, 1, 1}, NULL},
  /* CSV */
  {"csv_unbalanced_quote", "csv_unbalanced_quote.csv", "csv_unbalanced_quote.csv", NULL, NULL, NULL, NULL, 0,
   "csv_unbalanced_quote.csv:3|unterminated quoted field", {1, 1, 1, 1}, NULL},
  {"csv_after_closing_quote", "csv_after_closing_quote.csv", "csv_after_closing_quote.csv", NULL, NULL, NULL, NULL, 0,
   "csv_after_closing_quote.csv:2|after closing quote", {1, 1, 1, 1}, NULL},
  {"csv_wrong_columns", "csv_wrong_columns.csv", "csv_wrong_columns.csv", NULL, NULL, NULL, NULL, 0,
   "csv_wrong_columns.csv:3|found 2|csv_wrong_columns.csv:4|found 4", {2, 2, 2, 2}, NULL},
  {"csv_wrong_columns_strict", "csv_wrong_columns.csv", "csv_wrong_columns.csv", NULL, NULL, NULL, "--strict", 1,
   "csv_wrong_columns.csv:3", {0, 0, 0, 0}, NULL},
  /* --raw (sample only): wrong-count rows must still be skipped, and must not take reservoir slots */
  {"csv_wrong_columns_raw", "csv_wrong_columns.csv", "csv_wrong_columns.csv", NULL, NULL, NULL, "--raw", 0,
   "csv_wrong_columns.csv:3|csv_wrong_columns.csv:4|--raw", {SKIP, 2, 2, SKIP}, NULL},
  {"csv_header_only", "csv_header_only.csv", "csv_header_only.csv", NULL, NULL, NULL, NULL, 0, "0 records in",
   {0, 0, 0, 0}, "user_id,event,time\n"},
  {"csv_empty", "csv_empty.csv", "csv_empty.csv", NULL, NULL, NULL, NULL, 0, "0 records in", {0, 0, 0, 0}, NULL},
  {"csv_bom_crlf", "csv_bom_crlf.csv", "csv_bom_crlf.csv", NULL, NULL, NULL, NULL, 0, "0 malformed", {2, 2, 2, 2},
   "user_id,event,time\r\n"},
  {"csv_invalid_utf8", "csv_invalid_utf8.csv", "csv_invalid_utf8.csv", NULL, NULL, NULL, NULL, 0,
   "csv_invalid_utf8.csv:2|0xff", {1, 1, 1, 1}, NULL},
  {"csv_nul", "csv_nul.csv", "csv_nul.csv", NULL, NULL, NULL, NULL, 0, "0 malformed", {1, 1, 1, 1}, NULL},
  {"csv_no_final_newline", "csv_no_final_newline.csv", "csv_no_final_newline.csv", NULL, NULL, NULL, NULL, 0,
   "2 records in", {2, 2, 2, 2}, NULL},
  {"csv_duplicate_columns", "csv_duplicate_columns.csv", "csv_duplicate_columns.csv", NULL, NULL, NULL, NULL, 0,
   "0 malformed", {1, 1, 1, 0}, NULL},
  {"csv_multiline_quoted", "csv_multiline_quoted.csv", "csv_multiline_quoted.csv", NULL, NULL, NULL, NULL, 0,
   "0 malformed", {2, 2, 2, 0}, "\"line1\nline2\""},
  /* gzip (generated) */
  {"gz_good", "good.jsonl.gz", NULL, gen_gz_good, NULL, NULL, NULL, 0, "10 records in", {10, 10, 3, 10}, NULL},
  {"gz_malformed_line", "bad.jsonl.gz", NULL, gen_gz_malformed_line, NULL, NULL, NULL, 0, "bad.jsonl.gz:3",
   {3, 3, 3, 3}, NULL},
  {"gz_truncated", "trunc.jsonl.gz", NULL, gen_gz_trunc, NULL, NULL, NULL, 1, "trunc.jsonl.gz|gzip", {0, 0, 0, 0}, NULL},
  {"gz_corrupt", "corrupt.jsonl.gz", NULL, gen_gz_corrupt, NULL, NULL, NULL, 1, "corrupt.jsonl.gz|gzip", {0, 0, 0, 0}, NULL},
  {"gz_bad_trailer", "badtrailer.jsonl.gz", NULL, gen_gz_badcrc, NULL, NULL, NULL, 1, "badtrailer.jsonl.gz|gzip",
   {0, 0, 0, 0}, NULL},
  {"gz_trailing_garbage", "garbage.jsonl.gz", NULL, gen_gz_garbage, NULL, NULL, NULL, 1, "garbage.jsonl.gz|gzip",
   {0, 0, 0, 0}, NULL},
  {"gz_concatenated", "concat.jsonl.gz", NULL, gen_gz_concat, NULL, NULL, NULL, 0, "20 records in", {20, 20, 3, 20}, NULL},
  {"gz_empty", "empty.jsonl.gz", NULL, gen_gz_empty, NULL, NULL, NULL, 0, "0 records in", {0, 0, 0, 0}, NULL},
  /* files */
  {"directory_input", "adir.jsonl", NULL, gen_dir, NULL, NULL, NULL, 1, "adir.jsonl|directory", {0, 0, 0, 0}, NULL},
  {"missing_input", "missing.jsonl", NULL, NULL, NULL, NULL, NULL, 1, "missing.jsonl|No such file", {0, 0, 0, 0}, NULL},
  {"output_nonexistent_dir", "in.jsonl", NULL, gen_good, NULL, "nodir/out.jsonl", NULL, 1,
   "nodir/out.jsonl|No such file", {0, 0, 0, 0}, NULL},
  {"output_is_input", "in.jsonl", NULL, gen_good, NULL, "in.jsonl", NULL, 2, "same file", {0, 0, 0, 0}, NULL},
  {"output_is_input_symlink", "in.jsonl", NULL, gen_symlink, NULL, "link.jsonl", NULL, 2, "same file", {0, 0, 0, 0}, NULL},
  {"mixed_formats", "in.jsonl", NULL, gen_mixed, "in.jsonl in.csv", NULL, NULL, 2, "in.csv|one format", {0, 0, 0, 0}, NULL},
  {"stdin_malformed", "trunc_object.jsonl", "trunc_object.jsonl", NULL, "-", "out.jsonl", NULL, 0,
   "<stdin>:3", {2, 2, 2, 2}, NULL},
};
/* clang-format on */

/* ---- helpers ---- */
static int sha256_file(const char *path, unsigned char out[32]) {
  memset(out, 0, 32);
  FILE *f = fopen(path, "rb");
  if (!f) return -1;
  EVP_MD_CTX *c = EVP_MD_CTX_new();
  EVP_DigestInit_ex(c, EVP_sha256(), NULL);
  static unsigned char buf[1 << 16];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0) EVP_DigestUpdate(c, buf, n);
  unsigned int ol = 32;
  EVP_DigestFinal_ex(c, out, &ol);
  EVP_MD_CTX_free(c);
  fclose(f);
  return 0;
}

/* Records in an output: JSONL = non-blank lines; CSV = records (newlines
 * outside quotes) minus the header. */
static long count_records(const char *s, size_t n, int csv) {
  long recs = 0;
  int inq = 0, nonblank = 0;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (csv && c == '"') inq = !inq;
    if (c == '\n' && !inq) {
      recs += nonblank;
      nonblank = 0;
    } else if (c != ' ' && c != '\t' && c != '\r') {
      nonblank = 1;
    }
  }
  recs += nonblank;
  if (csv && recs > 0) recs--;
  return recs;
}

static int has_hidden_tmp(const char *dir) {
  DIR *d = opendir(dir);
  if (!d) return 0;
  struct dirent *e;
  int found = 0;
  while ((e = readdir(d)))
    if (e->d_name[0] == '.' && strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) found = 1;
  closedir(d);
  return found;
}

static int ends_with(const char *s, const char *suf) {
  size_t a = strlen(s), b = strlen(suf);
  return a >= b && !strcmp(s + a - b, suf);
}

static int run_one(const mcase *c, int verb) {
  int bad = 0;
  const char *t = tu_tmpdir();
  char root[256], dir[512];
  snprintf(root, sizeof root, "%s", t);
  snprintf(dir, sizeof dir, "%s/w", root);
  mkdir(dir, 0755);
  const char *key = tu_test_key(root);
  if (c->fixture) {
    char src[1024];
    snprintf(src, sizeof src, "%s/fixtures/malformed/%s", DOPPEL_SOURCE_DIR, c->fixture);
    size_t n;
    char *b = tu_read_file(src, &n);
    if (!b || put(at(dir, c->input), b, n)) {
      fprintf(stderr, "[%s] cannot copy fixture %s\n", c->name, src);
      free(b);
      tu_rmdir(root);
      return 1;
    }
    free(b);
  }
  if (c->gen && c->gen(dir) != 0) {
    fprintf(stderr, "[%s] generator failed\n", c->name);
    tu_rmdir(root);
    return 1;
  }
  int csv = ends_with(c->input, ".csv");
  const char *out = c->output                ? c->output
                    : verb == 3                ? "out.json"
                    : verb == V_COMPARE        ? "out.html"
                    : csv                      ? "out.csv"
                                               : "out.jsonl";
  /* the inputs' digests before the run */
  const char *inputs = c->inputs ? c->inputs : c->input;
  unsigned char before[4][32], after[32];
  char names[4][256];
  int n_in = 0;
  {
    char *copy = strdup(strcmp(inputs, "-") ? inputs : c->input);
    for (char *w = strtok(copy, " "); w && n_in < 4; w = strtok(NULL, " ")) {
      snprintf(names[n_in], sizeof names[n_in], "%s", w);
      sha256_file(at(dir, w), before[n_in]);
      n_in++;
    }
    free(copy);
  }
  char cmd[8192], op[600], ep[600], inp[1100];
  snprintf(op, sizeof op, "%s/stdout", root);
  snprintf(ep, sizeof ep, "%s/stderr", root);
  snprintf(inp, sizeof inp, "%s", strcmp(inputs, "-") ? "/dev/null" : at(dir, c->input));
  const char *wrap = getenv("DOPPEL_CLI_WRAPPER"); /* e.g. valgrind (tests/valgrind.sh) */
  if (verb == V_COMPARE)
    snprintf(cmd, sizeof cmd,
             "cd '%s' && timeout %d %s '%s' compare '%s' '%s' --json --html '%s' --now 2026-12-01 %s <'%s' >'%s' "
             "2>'%s'",
             dir, wrap ? 600 : 60, wrap ? wrap : "", DOPPEL_CLI_PATH, inputs, inputs, out, c->extra ? c->extra : "",
             inp, op, ep);
  else
    snprintf(cmd, sizeof cmd, "cd '%s' && timeout %d %s '%s' %s %s -o '%s' --key '%s' %s <'%s' >'%s' 2>'%s'",
             dir, wrap ? 600 : 60, wrap ? wrap : "", DOPPEL_CLI_PATH, verbs[verb], inputs, out, key,
             c->extra ? c->extra : "", inp, op, ep);
  int st = system(cmd);
  int status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
  char *err = tu_read_file(ep, NULL);
  const char *label = verbs[verb];
  if (status != c->exit) {
    fprintf(stderr, "[%s | %s] exit %d, expected %d\n", c->name, label, status, c->exit);
    bad = 1;
  }
  if (status >= 124) {
    fprintf(stderr, "[%s | %s] crash or timeout (status %d)\n", c->name, label, status);
    bad = 1;
  }
  if (err && (strstr(err, "ERROR: AddressSanitizer") || strstr(err, "runtime error") ||
              strstr(err, "LeakSanitizer") || strstr(err, "Sanitizer"))) {
    fprintf(stderr, "[%s | %s] sanitizer report\n", c->name, label);
    bad = 1;
  }
  if (c->err) {
    char *copy = strdup(c->err);
    for (char *f = strtok(copy, "|"); f; f = strtok(NULL, "|"))
      if (!err || !strstr(err, f)) {
        fprintf(stderr, "[%s | %s] stderr lacks '%s'\n", c->name, label, f);
        bad = 1;
      }
    free(copy);
  }
  int out_is_input = 0;
  for (int i = 0; i < n_in; i++)
    if (!strcmp(out, names[i])) out_is_input = 1;
  if (c->output && !strcmp(c->output, "link.jsonl")) out_is_input = 1;
  if (status != 0) {
    struct stat sb;
    if (!out_is_input && lstat(at(dir, out), &sb) == 0) {
      fprintf(stderr, "[%s | %s] output exists after a failed run\n", c->name, label);
      bad = 1;
    }
  } else if (verb == V_COMPARE) {
    /* a report on stdout whose A has the events the profile counts, and the page */
    json_error_t je;
    json_t *doc = json_load_file(op, 0, &je);
    const char *fmt = json_string_value(json_object_get(doc, "format"));
    json_t *a = json_object_get(json_object_get(doc, "inputs"), "a");
    long got = a ? (long)json_integer_value(json_object_get(a, "events")) : -1;
    struct stat sb;
    if (!doc || !fmt || strcmp(fmt, "doppel-compare/1")) {
      fprintf(stderr, "[%s | %s] stdout is not a compare report (%s)\n", c->name, label, doc ? "format" : je.text);
      bad = 1;
    } else if (got != c->n[3]) {
      fprintf(stderr, "[%s | %s] A has %ld events, expected %ld\n", c->name, label, got, c->n[3]);
      bad = 1;
    } else if (stat(at(dir, out), &sb) != 0 || sb.st_size < 1000) {
      fprintf(stderr, "[%s | %s] no HTML scorecard\n", c->name, label);
      bad = 1;
    }
    json_decref(doc);
  } else if (verb == 3) {
    /* a profile: valid JSON of the profile format, with the events profiled */
    json_error_t je;
    json_t *doc = json_load_file(at(dir, out), 0, &je);
    const char *fmt = json_string_value(json_object_get(doc, "format"));
    long got = doc ? (long)json_integer_value(json_object_get(json_object_get(doc, "source"), "events")) : -1;
    if (!doc || !fmt || strcmp(fmt, "doppel-profile/1")) {
      fprintf(stderr, "[%s | %s] the output is not a profile (%s)\n", c->name, label, doc ? "format" : je.text);
      bad = 1;
    } else if (got != c->n[verb]) {
      fprintf(stderr, "[%s | %s] %ld events profiled, expected %ld\n", c->name, label, got, c->n[verb]);
      bad = 1;
    }
    json_decref(doc);
  } else {
    size_t n = 0;
    char *o = tu_read_file(at(dir, out), &n);
    long want = c->n[verb];
    long got = o ? count_records(o, n, csv) : -1;
    if (got != want) {
      fprintf(stderr, "[%s | %s] %ld output records, expected %ld\n", c->name, label, got, want);
      bad = 1;
    }
    if (verb == 0 && c->out_has && (!o || !memmem(o, n, c->out_has, strlen(c->out_has)))) {
      fprintf(stderr, "[%s | %s] output lacks '%s'\n", c->name, label, c->out_has);
      bad = 1;
    }
    free(o);
  }
  if (has_hidden_tmp(dir)) {
    fprintf(stderr, "[%s | %s] a hidden temporary remains in the output directory\n", c->name, label);
    bad = 1;
  }
  for (int i = 0; i < n_in; i++) {
    sha256_file(at(dir, names[i]), after);
    if (memcmp(before[i], after, 32) != 0) {
      fprintf(stderr, "[%s | %s] input %s changed\n", c->name, label, names[i]);
      bad = 1;
    }
  }
  if (bad) fprintf(stderr, "--- stderr:\n%s\n", err ? err : "(none)");
  free(err);
  tu_rmdir(root);
  return bad;
}

static void test_malformed_corpus(void **state) {
  (void)state;
  size_t n = sizeof cases / sizeof cases[0];
  assert_true(n >= 50);
  int failures = 0, runs = 0;
  for (size_t i = 0; i < n; i++) {
    int bad = 0;
    for (int v = 0; v < N_VERBS; v++) {
      if (v == V_COMPARE ? !compare_applies(&cases[i]) : cases[i].n[v] == SKIP) continue;
      /* the generated 100 MB case is slow under sanitizers: one sample verb suffices */
      if (cases[i].gen == gen_100m && v == 2) continue;
      bad |= run_one(&cases[i], v);
      runs++;
    }
    fprintf(stderr, "malformed case %-28s %s\n", cases[i].name, bad ? "FAILED" : "ok");
    failures += bad;
  }
  fprintf(stderr, "%zu cases, %d runs, %d failed\n", n, runs, failures);
  assert_int_equal(failures, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_malformed_corpus)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
