/*
 * io/io_private.h — helpers shared by the reader and the output writer:
 * a thread-safe strerror and the size of their I/O buffers; and the
 * library's commit of several outputs of one run together.
 */
#ifndef DP_IO_PRIVATE_H
#define DP_IO_PRIVATE_H

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <doppel/io.h>

/* Size of one read or write buffer (plain input, compressed input, output). */
#define DP_IO_BUF_SIZE ((size_t)256 << 10)

/* OS error text for err in buf (thread-safe); returns the text. */
static inline const char *dp_io_strerror(int err, char *buf, size_t size) {
#if defined(__GLIBC__) && defined(_GNU_SOURCE)
  return strerror_r(err, buf, size);
#else
  if (strerror_r(err, buf, size) != 0) snprintf(buf, size, "error %d", err);
  return buf;
#endif
}

/* Commit the outputs os[0..n) (NULL entries skipped) as one: flush and
 * fsync all of them, then put each in place in order. On any failure none
 * is left under a name that was new (see output.c); every output is freed
 * either way, as by doppel_output_commit(). */
doppel_status dp_output_commit_all(doppel_output *const *os, size_t n, doppel_diag *diag);

#endif
