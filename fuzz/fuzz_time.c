/*
 * fuzz_time.c — libFuzzer target for doppel_time_parse.
 *
 * Any input must either fail with DOPPEL_E_TIME and a non-empty, in-bounds
 * diagnostic, or parse to a value in years 0001-9999 that survives
 * format → parse unchanged. Input is passed with its exact length (no NUL),
 * so reads past the end are caught by ASan.
 */
#include <doppel/time.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *s = malloc(size ? size : 1);
  if (!s) return 0;
  if (size) memcpy(s, data, size);
  int64_t us = 0;
  doppel_time_unit unit = DOPPEL_TIME_TEXT;
  doppel_diag diag;
  doppel_diag_clear(&diag);
  doppel_status st = doppel_time_parse(s, size, &us, &unit, &diag);
  if (st == DOPPEL_OK) {
    if (us < INT64_C(-62135596800000000) || us > INT64_C(253402300799999999)) abort();
    if ((unsigned)unit > DOPPEL_TIME_NANOS) abort();
    char out[28];
    if (doppel_time_format(us, out) != 27 || strlen(out) != 27) abort();
    int64_t back = 0;
    doppel_time_unit u2 = DOPPEL_TIME_NANOS;
    if (doppel_time_parse(out, 27, &back, &u2, NULL) != DOPPEL_OK || back != us ||
        u2 != DOPPEL_TIME_TEXT)
      abort();
  } else {
    if (st != DOPPEL_E_TIME || diag.status != DOPPEL_E_TIME || diag.text[0] == '\0') abort();
    if (diag.column == 0 || diag.column > size + 1) abort();
  }
  free(s);
  return 0;
}
