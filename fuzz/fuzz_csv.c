/*
 * fuzz_csv.c — libFuzzer target for doppel_csv_split / unquote / quote.
 *
 * The first input byte is the delimiter when it is one of , ; TAB | SPACE
 * (else ',' is used), the rest is one record. For a
 * record that splits, every field span must lie in bounds, in order, and be
 * separated by exactly one delimiter; quoted spans start and end with '"';
 * unquoting never grows a field; and re-quoting every decoded value and
 * joining them with the delimiter must split back into the same values.
 * For a record that does not split, the error must be DOPPEL_E_CSV or
 * DOPPEL_E_UTF8 with a column inside the record.
 */
#include <doppel/csv.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char delims[] = ",;\t| ";

static char **decode_all(const char *rec, const doppel_csv_field *f, size_t n, size_t *lens) {
  char **vals = calloc(n ? n : 1, sizeof *vals);
  if (!vals) abort();
  for (size_t i = 0; i < n; i++) {
    vals[i] = malloc(f[i].len + 1);
    if (!vals[i]) abort();
    lens[i] = doppel_csv_unquote(rec, &f[i], vals[i]);
    if (lens[i] > f[i].len) abort();
  }
  return vals;
}

static doppel_csv_field *split_all(const char *rec, size_t len, char delim, size_t *n,
                                   doppel_status *st) {
  size_t cap = 4;
  doppel_csv_field *f = malloc(cap * sizeof *f);
  if (!f) abort();
  doppel_diag diag;
  for (;;) {
    *st = doppel_csv_split(rec, len, delim, f, cap, n, &diag);
    if (*st != DOPPEL_OK) {
      if (*st != DOPPEL_E_CSV && *st != DOPPEL_E_UTF8) abort();
      if (diag.status != *st || diag.column < 1 || diag.column > len + 1) abort();
      return f;
    }
    if (*n <= cap) return f;
    cap = *n;
    f = realloc(f, cap * sizeof *f);
    if (!f) abort();
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  char delim = (data[0] && strchr(delims, data[0])) ? (char)data[0] : ',';
  const char *rec = (const char *)data + 1;
  size_t len = size - 1;

  size_t n = 0;
  doppel_status st;
  doppel_csv_field *f = split_all(rec, len, delim, &n, &st);
  if (st != DOPPEL_OK) {
    free(f);
    return 0;
  }
  if (n < 1) abort();
  const char d = delim;
  size_t pos = 0;
  for (size_t i = 0; i < n; i++) {
    if (f[i].start != pos || f[i].start + f[i].len > len) abort();
    if (f[i].quoted) {
      if (f[i].len < 2 || rec[f[i].start] != '"' || rec[f[i].start + f[i].len - 1] != '"') abort();
    } else if (memchr(rec + f[i].start, '"', f[i].len)) {
      abort();
    }
    pos = f[i].start + f[i].len;
    if (i + 1 < n) {
      if (pos >= len || rec[pos] != d) abort();
      pos++;
    }
  }
  if (pos != len) abort();

  size_t *lens = calloc(n, sizeof *lens);
  if (!lens) abort();
  char **vals = decode_all(rec, f, n, lens);

  /* re-serialize every value and split again */
  size_t cap = n;
  for (size_t i = 0; i < n; i++) cap += 2 * lens[i] + 2;
  char *out = malloc(cap);
  if (!out) abort();
  size_t o = 0;
  for (size_t i = 0; i < n; i++) {
    if (i) out[o++] = d;
    size_t k = doppel_csv_quote(vals[i], lens[i], delim, out + o);
    if (k > 2 * lens[i] + 2) abort();
    /* quoting a single value alone must split back to that value */
    size_t n1 = 0;
    doppel_status st1;
    doppel_csv_field *f1 = split_all(out + o, k, delim, &n1, &st1);
    if (st1 != DOPPEL_OK || n1 != 1) abort();
    char *v1 = malloc(k + 1);
    if (!v1) abort();
    size_t l1 = doppel_csv_unquote(out + o, &f1[0], v1);
    if (l1 != lens[i] || memcmp(v1, vals[i], l1) != 0) abort();
    free(v1);
    free(f1);
    o += k;
  }
  size_t n2 = 0;
  doppel_status st2;
  doppel_csv_field *f2 = split_all(out, o, delim, &n2, &st2);
  if (st2 != DOPPEL_OK || n2 != n) abort();
  size_t *lens2 = calloc(n, sizeof *lens2);
  if (!lens2) abort();
  char **vals2 = decode_all(out, f2, n2, lens2);
  for (size_t i = 0; i < n; i++) {
    if (lens2[i] != lens[i] || memcmp(vals2[i], vals[i], lens[i]) != 0) abort();
    free(vals2[i]);
    free(vals[i]);
  }
  free(vals2);
  free(vals);
  free(lens2);
  free(lens);
  free(f2);
  free(out);
  free(f);
  return 0;
}
