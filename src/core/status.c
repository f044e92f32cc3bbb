/*
 * status.c — the status table's messages, names and exit classes, and the
 * diagnostic helpers shared by every module.
 */
#include "core/diag.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const status_msgs[] = {
#define X(name, exit_class, msg) msg,
    DOPPEL_STATUS_TABLE(X)
#undef X
};
static const char *const status_names[] = {
#define X(name, exit_class, msg) "DOPPEL_" #name,
    DOPPEL_STATUS_TABLE(X)
#undef X
};
static const unsigned char status_exit[] = {
#define X(name, exit_class, msg) exit_class,
    DOPPEL_STATUS_TABLE(X)
#undef X
};

const char *doppel_strerror(doppel_status st) {
  if ((unsigned)st >= DOPPEL_STATUS_COUNT) return "unknown status";
  return status_msgs[st];
}

const char *doppel_status_name(doppel_status st) {
  if ((unsigned)st >= DOPPEL_STATUS_COUNT) return "DOPPEL_E_UNKNOWN";
  return status_names[st];
}

int doppel_status_exit_code(doppel_status st) {
  if ((unsigned)st >= DOPPEL_STATUS_COUNT) return 1;
  return status_exit[st];
}

const char *doppel_version(void) { return DOPPEL_VERSION_STRING; }

void doppel_diag_clear(doppel_diag *diag) {
  if (!diag) return;
  diag->status = DOPPEL_OK;
  diag->source[0] = '\0';
  diag->line = 0;
  diag->column = 0;
  diag->text[0] = '\0';
}

char *doppel_diag_format(const doppel_diag *diag, char *buf, size_t size) {
  if (!buf || size == 0) return buf;
  buf[0] = '\0';
  if (!diag) return buf;
  size_t n = 0;
  int w;
#define APPEND(...)                                              \
  do {                                                           \
    w = snprintf(buf + n, size - n, __VA_ARGS__);                \
    if (w < 0) return buf;                                       \
    n = ((size_t)w >= size - n) ? size - 1 : n + (size_t)w;      \
  } while (0)
  if (diag->source[0]) {
    APPEND("%s", diag->source);
    if (diag->line) APPEND(":%llu", (unsigned long long)diag->line);
    if (diag->line && diag->column) APPEND(":%llu", (unsigned long long)diag->column);
    APPEND(": ");
  } else if (diag->line) {
    APPEND("line %llu: ", (unsigned long long)diag->line);
  }
  APPEND("%s", diag->text[0] ? diag->text : doppel_strerror(diag->status));
#undef APPEND
  return buf;
}

doppel_status dp_diag_set(doppel_diag *diag, doppel_status st, const char *source,
                          uint64_t line, uint64_t column, const char *fmt, ...) {
  if (!diag) return st;
  diag->status = st;
  diag->line = line;
  diag->column = column;
  if (source) {
    size_t n = strlen(source);
    if (n >= sizeof diag->source) n = sizeof diag->source - 1;
    memcpy(diag->source, source, n);
    diag->source[n] = '\0';
  } else {
    diag->source[0] = '\0';
  }
  if (fmt) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(diag->text, sizeof diag->text, fmt, ap);
    va_end(ap);
  } else {
    snprintf(diag->text, sizeof diag->text, "%s", doppel_strerror(st));
  }
  return st;
}
