/*
 * fuzz_state.c — libFuzzer target for the state loader (doppel merge's
 * input) and the synthesizer's profile compiler: any JSON document either
 * loads or fails with a data/usage error and a message; a loaded state
 * finalizes into a profile; a compiled synthesizer generates a few users
 * (to /dev/null) without crashing.
 */
#include <doppel/profile.h>
#include <doppel/synth.h>

#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  json_error_t je;
  json_t *doc = json_loadb((const char *)data, size, 0, &je);
  if (!doc) return 0;
  doppel_diag d;
  doppel_diag_clear(&d);
  doppel_profiler *p = NULL;
  doppel_status st = doppel_profiler_from_state(&p, doc, &d);
  if (st == DOPPEL_OK) {
    json_t *prof = NULL;
    if (doppel_profiler_profile(p, &prof, &d) != DOPPEL_OK) abort();
    json_decref(prof);
  } else if (p || !d.text[0] || (st != DOPPEL_E_DATA && st != DOPPEL_E_USAGE && st != DOPPEL_E_NOMEM)) {
    abort();
  }
  doppel_profiler_free(p);
  doppel_synth *s = NULL;
  doppel_diag_clear(&d);
  doppel_synth_compile_options co = {50};
  st = doppel_synth_new_with(&s, doc, &co, &d);
  if (st == DOPPEL_OK) {
    doppel_output *out = NULL;
    if (doppel_output_open(&out, "/dev/null", NULL, 0, &d) == DOPPEL_OK) {
      doppel_synth_options o;
      memset(&o, 0, sizeof o);
      o.users = 3;
      o.days = 3;
      o.format = size % 3 == 0 ? DOPPEL_SYNTH_CSV : size % 3 == 1 ? DOPPEL_SYNTH_SQL : DOPPEL_SYNTH_JSONL;
      doppel_synth_summary sum;
      (void)doppel_synth_write(s, &o, out, &sum, &d);
      doppel_output_abort(out);
    }
  } else if (s || !d.text[0]) {
    abort();
  }
  doppel_synth_free(s);
  json_decref(doc);
  return 0;
}
