/*
 * core/buf.h — a growable byte buffer with a hard maximum size.
 *
 * Growing past `max` fails with DOPPEL_E_LIMIT instead of allocating, so an
 * oversized input is a data error, not an out-of-memory. The buffer owns its
 * storage; dp_buf_release() frees it and leaves an empty buffer.
 */
#ifndef DP_CORE_BUF_H
#define DP_CORE_BUF_H

#include <doppel/status.h>
#include <stddef.h>
#include <string.h>

typedef struct dp_buf {
  char *data;   /* storage, NULL until first growth */
  size_t len;   /* bytes in use */
  size_t cap;   /* bytes allocated */
  size_t max;   /* hard maximum for cap; 0 = SIZE_MAX */
} dp_buf;

void dp_buf_init(dp_buf *b, size_t max);
void dp_buf_release(dp_buf *b);
/* Ensure room for `extra` more bytes (plus a spare NUL byte). */
doppel_status dp_buf_reserve(dp_buf *b, size_t extra);
doppel_status dp_buf_append(dp_buf *b, const void *p, size_t n);
doppel_status dp_buf_putc(dp_buf *b, char c);
/* Append a NUL after the content without counting it in len. */
doppel_status dp_buf_terminate(dp_buf *b);

static inline void dp_buf_reset(dp_buf *b) { b->len = 0; }

static inline doppel_status dp_buf_append_fast(dp_buf *b, const void *p, size_t n) {
  if (b->cap - b->len > n) {
    memcpy(b->data + b->len, p, n);
    b->len += n;
    return DOPPEL_OK;
  }
  return dp_buf_append(b, p, n);
}

#endif
