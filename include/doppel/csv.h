/*
 * doppel/csv.h — RFC 4180 CSV record splitting, field unquoting and quoting.
 *
 * A record is one logical CSV row (it may span several physical lines when a
 * quoted field holds newlines; the reader in io.h delivers whole records).
 * Fields are reported as raw byte spans so a rewrite can copy untouched
 * fields verbatim. Thread-safe: no shared state.
 */
#ifndef DOPPEL_CSV_H
#define DOPPEL_CSV_H

#include <doppel/status.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct doppel_csv_field {
  size_t start;  /* offset of the field's first raw byte in the record (the quote if quoted) */
  size_t len;    /* raw length including quotes */
  int quoted;    /* 1 when the field is enclosed in double quotes */
} doppel_csv_field;

/* Split rec[0..len) (no line terminator) on `delim`. Writes at most `max`
 * fields and sets *n to the number of fields in the record (which may exceed
 * max: the caller grows its array and calls again). Validates quoting (a
 * quote inside an unquoted field, or text after a closing quote, is
 * DOPPEL_E_CSV) and UTF-8 (DOPPEL_E_UTF8); diag->column is the 1-based byte
 * column of the problem. */
doppel_status doppel_csv_split(const char *rec, size_t len, char delim,
                               doppel_csv_field *fields, size_t max, size_t *n,
                               doppel_diag *diag);

/* Decoded value of a field: for quoted fields strips the quotes and turns ""
 * into ". out must hold field->len bytes. Returns the decoded length. */
size_t doppel_csv_unquote(const char *rec, const doppel_csv_field *field, char *out);

/* Write s[0..n) as a CSV field into out (which must hold 2*n + 2 bytes),
 * quoting it only when it contains the delimiter, a quote, CR or LF, or
 * leading/trailing spaces. Returns bytes written. */
size_t doppel_csv_quote(const char *s, size_t n, char delim, char *out);

#ifdef __cplusplus
}
#endif
#endif
