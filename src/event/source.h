/*
 * event/source.h — the input side shared by the record-rewriting jobs
 * (pseudonymize, sample): open the inputs in order, check that they share
 * one format (and CSV inputs one header), detect the dialect (JSONL: from up
 * to DP_SOURCE_DETECT_RECORDS records held back; CSV: from the column
 * names), and hand every data record to a consumer. Malformed records are
 * counted with file:line (or made fatal under strict); the consumer reports
 * its own data errors through dp_source_malformed().
 *
 * The output side is dp_emitter: writes records with their original line
 * terminators (a last record without one gets a '\n' only when another
 * record follows).
 *
 * Memory: the reader's record buffer plus the held-back records (at most
 * DP_SOURCE_DETECT_BYTES). One thread per source.
 */
#ifndef DP_EVENT_SOURCE_H
#define DP_EVENT_SOURCE_H

#include <doppel/event.h>
#include <doppel/io.h>
#include <doppel/status.h>
#include <stddef.h>
#include <stdint.h>

#define DP_SOURCE_DETECT_RECORDS 50
#define DP_SOURCE_DETECT_BYTES ((size_t)8 << 20)
#define DP_SOURCE_MAX_BAD 10

/* One data record handed to the consumer; data is valid during the call. */
typedef struct dp_source_record {
  const char *data;     /* bytes without the line terminator */
  size_t len;
  const char *source;   /* display name of the input ("<stdin>" for '-') */
  size_t input;         /* index of the input */
  uint64_t line;        /* 1-based first line */
  uint8_t crlf, eol;    /* terminator */
} dp_source_record;

typedef struct dp_source dp_source;

typedef struct dp_source_hooks {
  void *ctx;
  /* Called once, when the dialect is known: for CSV with the first input's
   * header row (header != NULL), for JSONL before the held-back records are
   * delivered (header NULL). A non-OK status stops the job. */
  doppel_status (*start)(void *ctx, dp_source *src, doppel_format fmt, doppel_dialect d,
                         const dp_source_record *header, doppel_diag *diag);
  /* Called for every data record (records_in already counts it). */
  doppel_status (*record)(void *ctx, dp_source *src, const dp_source_record *rec,
                          doppel_diag *diag);
  /* Optional: an input is done (its records, incl. malformed ones, and its
   * bytes: compressed bytes for gzip). */
  void (*end_input)(void *ctx, dp_source *src, size_t input, uint64_t records, uint64_t bytes);
  /* Optional: a malformed record was counted (st says why). */
  void (*malformed)(void *ctx, const char *source, uint64_t line, doppel_status st);
} dp_source_hooks;

typedef struct dp_source_options {
  const char *const *inputs;   /* paths to open, "-" = stdin */
  const char *const *names;    /* display names (NULL = derived from inputs) */
  size_t n_inputs;
  doppel_dialect dialect;      /* AUTO = detect */
  doppel_format format;        /* AUTO = detect per input */
  size_t max_record;           /* 0 = default */
  int strict;
  void (*progress)(void *ctx, uint64_t records, uint64_t bytes); /* may be NULL */
  void *progress_ctx;
} dp_source_options;

/* Tallies and detection results; read them after dp_source_run(). */
struct dp_source {
  const dp_source_options *opt;
  uint64_t records_in;
  uint64_t malformed;
  uint64_t bytes_in;
  uint64_t bad_lines[DP_SOURCE_MAX_BAD];
  char bad_sources[DP_SOURCE_MAX_BAD][64];
  char bad_reasons[DP_SOURCE_MAX_BAD][96];
  size_t n_bad;
  int started;                 /* start hook was called */
  doppel_format format;        /* format of the first input */
  doppel_dialect dialect;      /* dialect used */
  char evidence[200];          /* detection evidence / "forced by --dialect" / "no records" */
  uint64_t next_progress;
  const dp_source_hooks *hooks; /* the hooks of the run */
};

/* Read every input in order, calling hooks. Fills src (caller-allocated). */
doppel_status dp_source_run(dp_source *src, const dp_source_options *opt, const dp_source_hooks *h,
                            doppel_diag *diag);

/* A data record the consumer cannot use: counted and skipped, or fatal
 * (returned status) under strict. rdiag holds the reason (never a value). */
doppel_status dp_source_malformed(dp_source *src, const char *source, uint64_t line,
                                  uint64_t column, const doppel_diag *rdiag, doppel_diag *diag);

/* Data errors (malformed record) versus operational errors. */
int dp_source_is_data_error(doppel_status st);

/* Split a CSV header into unquoted column names (for dialect detection and
 * column lookup). *names_buf, *names, *lens are malloc'd; free all three. */
doppel_status dp_source_csv_names(const char *rec, size_t len, char **names_buf,
                                  const char ***names, size_t **lens, size_t *n,
                                  doppel_diag *diag);

typedef struct dp_emitter {
  doppel_output *out;
  int pending_newline;   /* the previous record had no terminator */
  uint64_t records_out;
} dp_emitter;

/* Write one record (counted in records_out) or a header row (not counted). */
doppel_status dp_emit(dp_emitter *e, const char *data, size_t len, int crlf, int eol,
                      doppel_diag *diag);
doppel_status dp_emit_header(dp_emitter *e, const char *data, size_t len, int crlf, int eol,
                             doppel_diag *diag);

#endif
