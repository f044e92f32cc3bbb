/*
 * fuzz_pseudo.c — libFuzzer target for the pseudonymizer's JSON rewrite.
 *
 * The input is one record. When it is valid JSON, the rewrite with the
 * default policy (and, for inputs whose first byte is odd, with a policy that
 * drops, generalizes and scrubs) must succeed and produce valid JSON; with
 * the default policy (no drops) the output has exactly the input's tape
 * shape (same node count, same keys at the same places unless a key held
 * personal data) and is byte-identical when run twice. Invalid input must be
 * rejected with a diagnostic, never crash.
 */
#include <doppel/json.h>
#include <doppel/keyed.h>
#include <doppel/pseudo.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static doppel_key *key;
static doppel_pseudonymizer *def, *pol_p;
static doppel_policy *pol;

static void init(void) {
  uint8_t b[32];
  for (int i = 0; i < 32; i++) b[i] = (uint8_t)(7 * i + 1);
  if (doppel_key_from_bytes(&key, b, 32) != DOPPEL_OK) abort();
  static const char policy[] =
      "{\"rules\": [{\"path\": \"a\", \"action\": \"drop\"},"
      "{\"path\": \"**.t\", \"action\": \"generalize\", \"truncate\": \"hour\"},"
      "{\"path\": \"**.ip\", \"action\": \"generalize\"},"
      "{\"path\": \"**.n\", \"action\": \"generalize\", \"bucket\": 10},"
      "{\"path\": \"b.**\", \"action\": \"scrub\"},"
      "{\"path\": \"c\", \"action\": \"hash\", \"format\": \"uuid\"}]}";
  if (doppel_policy_parse(&pol, policy, sizeof policy - 1, "fuzz", NULL) != DOPPEL_OK) abort();
  if (doppel_pseudonymizer_new(&def, key, NULL, DOPPEL_DIALECT_GENERIC, NULL) != DOPPEL_OK) abort();
  if (doppel_pseudonymizer_new(&pol_p, key, pol, DOPPEL_DIALECT_SEGMENT, NULL) != DOPPEL_OK) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!key) init();
  char *rec = malloc(size ? size : 1);
  if (!rec) return 0;
  if (size) memcpy(rec, data, size);
  doppel_json_doc in, out;
  doppel_json_doc_init(&in);
  doppel_json_doc_init(&out);
  doppel_diag d;
  doppel_diag_clear(&d);
  int valid = doppel_json_parse(&in, rec, size, NULL) == DOPPEL_OK;
  const char *o;
  size_t on;
  doppel_status st = doppel_pseudonymizer_json(def, rec, size, &o, &on, &d);
  if (!valid) {
    if (st == DOPPEL_OK || !d.text[0]) abort();
  } else {
    if (st != DOPPEL_OK) abort();
    char *copy = malloc(on ? on : 1);
    if (!copy) abort();
    memcpy(copy, o, on);
    if (doppel_json_parse(&out, copy, on, NULL) != DOPPEL_OK) abort();
    if (out.count != in.count) abort();
    for (uint32_t i = 0; i < in.count; i++) {
      uint8_t a = in.nodes[i].type, b = out.nodes[i].type;
      if (a != b && !(a == DOPPEL_JSON_NUMBER && b == DOPPEL_JSON_STRING)) abort();
    }
    /* deterministic: the same record again gives the same bytes */
    const char *o2;
    size_t on2;
    if (doppel_pseudonymizer_json(def, rec, size, &o2, &on2, &d) != DOPPEL_OK) abort();
    if (on2 != on || memcmp(o2, copy, on) != 0) abort();
    free(copy);
    /* a policy with drops and generalizations keeps the JSON valid */
    if (size && (data[0] & 1)) {
      if (doppel_pseudonymizer_json(pol_p, rec, size, &o, &on, &d) != DOPPEL_OK) abort();
      char *c2 = malloc(on ? on : 1);
      if (!c2) abort();
      memcpy(c2, o, on);
      if (doppel_json_parse(&out, c2, on, NULL) != DOPPEL_OK) abort();
      free(c2);
    }
  }
  doppel_json_doc_release(&in);
  doppel_json_doc_release(&out);
  free(rec);
  return 0;
}
