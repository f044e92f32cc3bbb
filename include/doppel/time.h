/*
 * doppel/time.h — timestamp parsing to UTC microseconds since the epoch.
 *
 * Accepted text forms:
 *   ISO 8601 / RFC 3339: 2024-01-09T10:23:45Z, 2024-01-09T10:23:45.123456+02:00,
 *     offsets +HH:MM, +HHMM, +HH, Z; 'T' or ' ' between date and time;
 *     fractions of 1 to 9 digits (truncated to microseconds); date-only
 *     2024-01-09 (midnight UTC)
 *   YYYY-MM-DD HH:MM:SS[.ffffff] with no offset: UTC
 *   epoch numbers (also when written as strings, as GA4 does), unit by
 *     magnitude: |v| < 1e11 seconds, < 1e14 milliseconds, < 1e17
 *     microseconds, otherwise nanoseconds; fractional seconds allowed
 * Range: years 0001–9999. Thread-safe, no allocation, no locale.
 */
#ifndef DOPPEL_TIME_H
#define DOPPEL_TIME_H

#include <doppel/status.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum doppel_time_unit {
  DOPPEL_TIME_TEXT = 0,   /* parsed from a calendar text form */
  DOPPEL_TIME_SECONDS,
  DOPPEL_TIME_MILLIS,
  DOPPEL_TIME_MICROS,
  DOPPEL_TIME_NANOS
} doppel_time_unit;

/* Parse s[0..n) (text or a decimal number) into *us (UTC microseconds).
 * *unit (may be NULL) tells which form was seen. Returns DOPPEL_OK or
 * DOPPEL_E_TIME (diag->text says what was expected; column is 1-based within s). */
doppel_status doppel_time_parse(const char *s, size_t n, int64_t *us,
                                doppel_time_unit *unit, doppel_diag *diag);

/* Format us as "YYYY-MM-DDTHH:MM:SS.ffffffZ" into out (>= 28 bytes).
 * Returns the length written (27). */
size_t doppel_time_format(int64_t us, char *out);

/* Days since 1970-01-01 of a civil date (proleptic Gregorian). */
int64_t doppel_days_from_civil(int64_t y, unsigned m, unsigned d);

#ifdef __cplusplus
}
#endif
#endif
