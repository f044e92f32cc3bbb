/*
 * fuzz_profile.c — libFuzzer target for the profiler: the input's lines are
 * records (JSON Lines) fed to a profiler; then the profiler's state is
 * written, loaded back and must write the same bytes again, and the
 * profile is taken and serialized. Any record either profiles or is a
 * counted data error; nothing may crash, leak or disagree.
 */
#include <doppel/profile.h>

#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  doppel_profile_params pp = {2, 0, 0, NULL, 1};
  doppel_profiler *p = NULL;
  doppel_diag d;
  doppel_diag_clear(&d);
  doppel_dialect dialect = size ? (doppel_dialect)(1 + data[0] % 5) : DOPPEL_DIALECT_GENERIC;
  if (doppel_profiler_new(&p, &pp, dialect, DOPPEL_FORMAT_JSONL, &d) != DOPPEL_OK) abort();
  const char *s = (const char *)data, *end = s + size;
  while (s < end) {
    const char *nl = memchr(s, '\n', (size_t)(end - s));
    size_t n = nl ? (size_t)(nl - s) : (size_t)(end - s);
    doppel_status st = doppel_profiler_add_json(p, s, n, &d);
    if (st == DOPPEL_E_NOMEM) abort();
    s += n + (nl ? 1 : 0);
  }
  json_t *st1 = NULL, *st2 = NULL, *prof = NULL;
  if (doppel_profiler_state(p, &st1, &d) != DOPPEL_OK) abort();
  doppel_profiler *q = NULL;
  if (doppel_profiler_from_state(&q, st1, &d) != DOPPEL_OK) abort(); /* our own state always loads */
  if (doppel_profiler_state(q, &st2, &d) != DOPPEL_OK) abort();
  char *a = doppel_profile_dump(st1, 1), *b = doppel_profile_dump(st2, 1);
  if (!a || !b || strcmp(a, b)) abort();
  if (doppel_profiler_merge(q, p, &d) != DOPPEL_OK) abort();
  if (doppel_profiler_profile(q, &prof, &d) != DOPPEL_OK) abort();
  char *c = doppel_profile_dump(prof, 0);
  if (!c) abort();
  free(a);
  free(b);
  free(c);
  json_decref(st1);
  json_decref(st2);
  json_decref(prof);
  doppel_profiler_free(q);
  doppel_profiler_free(p);
  return 0;
}
