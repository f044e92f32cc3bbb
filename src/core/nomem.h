/*
 * core/nomem.h — noticing allocations that failed where the failure is not
 * reported call by call.
 *
 * Some code cannot, or does not, check every allocation it depends on:
 * jansson 2.14 does not report every failed allocation (its lexer ignores a
 * failed buffer growth, so a string comes back silently truncated, and
 * json_object_set_new(o, key, json_string(...)) just leaves the member out
 * when the value could not be allocated); record formatters append to a
 * dp_buf without checking each append; document builders put null or
 * nothing in place of a part they could not make. So this thread-local
 * count goes up at every such failure: jansson's allocations (doppel
 * installs, once per process, allocation functions that forward to the
 * ones installed before), every failed dp_buf growth, and the allocations
 * made through dp_nomem_malloc()/dp_nomem_calloc(). Code that parses or
 * builds a document or formats output reads the count before and after:
 * any failure in between makes the result DOPPEL_E_NOMEM instead of output
 * with a part missing.
 */
#ifndef DP_CORE_NOMEM_H
#define DP_CORE_NOMEM_H

#include <jansson.h>
#include <stdlib.h>

/* Such failures in this thread so far; installs the jansson watch on the
 * first call (call it before the work it watches). */
unsigned long dp_nomem_count(void);
/* Count one (a part of a document that could not be made). */
void dp_nomem_note(void);

/* json_loadb() / json_load_file() that tell a failed allocation from a bad
 * document: jansson may then return a document with a string cut short,
 * or report a syntax error. NULL with *nomem = 1 (and any document freed)
 * when an allocation failed while parsing; otherwise jansson's result,
 * *nomem = 0, and *je as jansson set it. */
json_t *dp_nomem_json_loadb(const char *buf, size_t len, size_t flags, json_error_t *je, int *nomem);
json_t *dp_nomem_json_load_file(const char *path, size_t flags, json_error_t *je, int *nomem);

/* malloc / calloc that count a failure. */
static inline void *dp_nomem_malloc(size_t n) {
  void *p = malloc(n);
  if (!p) dp_nomem_note();
  return p;
}

static inline void *dp_nomem_calloc(size_t n, size_t size) {
  void *p = calloc(n, size);
  if (!p) dp_nomem_note();
  return p;
}

#endif
