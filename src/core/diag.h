/*
 * core/diag.h — internal helpers for filling a doppel_diag.
 */
#ifndef DP_CORE_DIAG_H
#define DP_CORE_DIAG_H

#include <doppel/status.h>

#if defined(__GNUC__)
#define DP_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define DP_PRINTF(a, b)
#endif

/* Fill diag (may be NULL) and return st, so callers can `return dp_diag_set(...)`.
 * source may be NULL; fmt NULL uses the status message. Never allocates. */
doppel_status dp_diag_set(doppel_diag *diag, doppel_status st, const char *source,
                          uint64_t line, uint64_t column, const char *fmt, ...)
    DP_PRINTF(6, 7);

#endif
