/*
 * nomem.c — the count of unreported allocation failures (core/nomem.h) and
 * the jansson allocation watch.
 */
#include "core/nomem.h"

#include <jansson.h>
#include <pthread.h>

static json_malloc_t watched_malloc; /* jansson's allocator before ours */
static _Thread_local unsigned long failures;
static pthread_once_t watch_once = PTHREAD_ONCE_INIT;

static void *watch_malloc(size_t n) {
  void *p = watched_malloc(n);
  if (!p) failures++;
  return p;
}

static void watch_install(void) {
  json_free_t f;
  json_get_alloc_funcs(&watched_malloc, &f);
  if (!watched_malloc) watched_malloc = malloc;
  json_set_alloc_funcs(watch_malloc, f ? f : free);
}

unsigned long dp_nomem_count(void) {
  pthread_once(&watch_once, watch_install);
  return failures;
}

void dp_nomem_note(void) { failures++; }

static json_t *checked(json_t *doc, unsigned long before, const json_error_t *je, int *nomem) {
  *nomem = dp_nomem_count() != before || (!doc && json_error_code(je) == json_error_out_of_memory);
  if (*nomem) {
    json_decref(doc);
    return NULL;
  }
  return doc;
}

json_t *dp_nomem_json_loadb(const char *buf, size_t len, size_t flags, json_error_t *je, int *nomem) {
  unsigned long before = dp_nomem_count();
  return checked(json_loadb(buf, len, flags, je), before, je, nomem);
}

json_t *dp_nomem_json_load_file(const char *path, size_t flags, json_error_t *je, int *nomem) {
  unsigned long before = dp_nomem_count();
  return checked(json_load_file(path, flags, je), before, je, nomem);
}
