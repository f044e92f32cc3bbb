/*
 * buf.c — growable byte buffer with a hard maximum (see core/buf.h).
 */
#include "core/buf.h"
#include "core/nomem.h"

#include <stdint.h>
#include <stdlib.h>

void dp_buf_init(dp_buf *b, size_t max) {
  b->data = NULL;
  b->len = 0;
  b->cap = 0;
  b->max = max ? max : SIZE_MAX;
}

void dp_buf_release(dp_buf *b) {
  free(b->data);
  b->data = NULL;
  b->len = 0;
  b->cap = 0;
}

doppel_status dp_buf_reserve(dp_buf *b, size_t extra) {
  if (extra > SIZE_MAX - b->len - 1) return DOPPEL_E_LIMIT;
  size_t need = b->len + extra + 1;
  if (need <= b->cap) return DOPPEL_OK;
  if (need - 1 > b->max) return DOPPEL_E_LIMIT;
  size_t cap = b->cap ? b->cap : 256;
  while (cap < need) cap = (cap > SIZE_MAX / 2) ? need : cap * 2;
  if (b->max < SIZE_MAX && cap > b->max + 1) cap = b->max + 1;
  char *p = realloc(b->data, cap);
  if (!p) {
    dp_nomem_note(); /* for code that does not check every append (core/nomem.h) */
    return DOPPEL_E_NOMEM;
  }
  b->data = p;
  b->cap = cap;
  return DOPPEL_OK;
}

doppel_status dp_buf_append(dp_buf *b, const void *p, size_t n) {
  doppel_status st = dp_buf_reserve(b, n);
  if (st != DOPPEL_OK) return st;
  if (n) memcpy(b->data + b->len, p, n);
  b->len += n;
  return DOPPEL_OK;
}

doppel_status dp_buf_putc(dp_buf *b, char c) { return dp_buf_append(b, &c, 1); }

doppel_status dp_buf_terminate(dp_buf *b) {
  doppel_status st = dp_buf_reserve(b, 0);
  if (st != DOPPEL_OK) return st;
  b->data[b->len] = '\0';
  return DOPPEL_OK;
}
