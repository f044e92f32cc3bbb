/*
 * fuzz_policy.c — libFuzzer target for the policy loader and path globs.
 *
 * Any bytes either load as a policy or fail with DOPPEL_E_POLICY and a
 * message; a loaded policy's rule count is bounded by the input, and glob
 * matching of the input's halves against each other never crashes.
 */
#include <doppel/pseudo.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  doppel_policy *p = NULL;
  doppel_diag d;
  doppel_diag_clear(&d);
  doppel_status st = doppel_policy_parse(&p, (const char *)data, size, "fuzz", &d);
  if (st == DOPPEL_OK) {
    if (!p || doppel_policy_rule_count(p) > size) abort();
  } else if (p || (st != DOPPEL_E_POLICY && st != DOPPEL_E_NOMEM) || !d.text[0]) {
    abort();
  }
  doppel_policy_free(p);
  /* glob matching: first half as a NUL-terminated glob, second half as a path */
  size_t half = size / 2;
  char *glob = malloc(half + 1);
  if (!glob) return 0;
  memcpy(glob, data, half);
  glob[half] = '\0';
  (void)doppel_path_match(glob, (const char *)data + half, size - half);
  free(glob);
  return 0;
}
