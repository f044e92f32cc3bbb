/*
 * doppel/status.h — status codes, their messages and exit classes, and the
 * diagnostic struct the library fills on error.
 *
 * One table (DOPPEL_STATUS_TABLE) generates the enum, doppel_strerror() and
 * doppel_status_exit_code(). Exit classes follow the CLI contract: 0 ok,
 * 1 data or I/O error, 2 usage or configuration error.
 *
 * Diagnostics by value: callers pass a doppel_diag they own; the library
 * fills it without allocating and never prints, exits or aborts on bad input.
 * All functions here are thread-safe (no shared state).
 */
#ifndef DOPPEL_STATUS_H
#define DOPPEL_STATUS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* X(name, exit class, message) */
#define DOPPEL_STATUS_TABLE(X)                                              \
  X(OK,         0, "ok")                                                    \
  X(E_NOMEM,    1, "out of memory")                                         \
  X(E_USAGE,    2, "invalid usage")                                         \
  X(E_IO,       1, "input/output error")                                    \
  X(E_TOO_LONG, 1, "record longer than the record size limit")              \
  X(E_UTF8,     1, "invalid UTF-8")                                         \
  X(E_JSON,     1, "invalid JSON")                                          \
  X(E_CSV,      1, "invalid CSV")                                           \
  X(E_GZIP,     1, "corrupt gzip stream")                                   \
  X(E_TIME,     1, "unrecognized timestamp")                                \
  X(E_DATA,     1, "malformed record")                                      \
  X(E_KEY,      2, "unusable key")                                          \
  X(E_KEY_PERM, 2, "key file is readable by other users")                   \
  X(E_POLICY,   2, "invalid policy")                                        \
  X(E_EXISTS,   2, "file already exists")                                   \
  X(E_SAME_FILE,2, "output would overwrite an input")                       \
  X(E_CRYPTO,   1, "cryptographic library failure")                         \
  X(E_LIMIT,    1, "limit exceeded")                                        \
  X(E_INTERNAL, 1, "internal error")

typedef enum doppel_status {
#define DOPPEL_X_ENUM(name, exit_class, msg) DOPPEL_##name,
  DOPPEL_STATUS_TABLE(DOPPEL_X_ENUM)
#undef DOPPEL_X_ENUM
  DOPPEL_STATUS_COUNT
} doppel_status;

/* Static message for a status ("ok", "invalid JSON", ...); never NULL. */
const char *doppel_strerror(doppel_status st);
/* Stable symbolic name ("DOPPEL_E_JSON"); never NULL. */
const char *doppel_status_name(doppel_status st);
/* CLI exit code for a status: 0, 1 (data/I/O) or 2 (usage/configuration). */
int doppel_status_exit_code(doppel_status st);

#define DOPPEL_DIAG_SOURCE_MAX 256
#define DOPPEL_DIAG_TEXT_MAX 512

/* Where and what went wrong. Filled by the library, owned by the caller. */
typedef struct doppel_diag {
  doppel_status status;                 /* DOPPEL_OK when nothing was reported */
  char source[DOPPEL_DIAG_SOURCE_MAX];  /* file name as given, "<stdin>", or "" */
  uint64_t line;                        /* 1-based line number, 0 when not applicable */
  uint64_t column;                      /* 1-based byte column, 0 when not applicable */
  char text[DOPPEL_DIAG_TEXT_MAX];      /* lowercase, no trailing period, never holds key bytes */
} doppel_diag;

/* Reset to "nothing reported". diag may be NULL. */
void doppel_diag_clear(doppel_diag *diag);

/* Render "source:line:column: text" (parts omitted when unknown) into buf
 * (always NUL-terminated when size > 0). Returns buf. */
char *doppel_diag_format(const doppel_diag *diag, char *buf, size_t size);

#ifdef __cplusplus
}
#endif
#endif
