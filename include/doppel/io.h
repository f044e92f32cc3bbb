/*
 * doppel/io.h — streaming record input and atomic file output.
 *
 * Reader: opens a path ("-" = stdin), detects gzip by its magic bytes and
 * decompresses transparently (concatenated members too), detects the format
 * (JSON Lines when the first non-blank byte after an optional UTF-8 BOM is
 * '{', CSV otherwise; the .csv/.jsonl/.ndjson/.json extensions override),
 * and delivers one record at a time: a JSONL line, or a whole CSV record
 * (quoted newlines included). Every record carries its source name and its
 * 1-based first line number. A record longer than max_record bytes is
 * reported as DOPPEL_E_TOO_LONG with its line number and skipped, never
 * buffered whole. Memory: one buffer of at most max_record bytes plus I/O
 * buffers.
 *
 * Output: doppel_output_open() writes to a temporary file in the target's
 * directory (or to stdout for "-"); doppel_output_commit() flushes, fsyncs
 * and puts it into place atomically; doppel_output_abort() removes it. A
 * failed or interrupted run therefore never leaves a partial output file
 * under the target name. On Linux the temporary is unnamed (O_TMPFILE), so
 * nothing is left behind even after SIGKILL; elsewhere (or with the
 * environment variable DOPPEL_NO_TMPFILE=1) it is a hidden named file that
 * a SIGINT/SIGTERM handler removes with doppel_output_remove_temporaries().
 *
 * Thread safety: one reader or output per thread.
 */
#ifndef DOPPEL_IO_H
#define DOPPEL_IO_H

#include <doppel/status.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum doppel_format {
  DOPPEL_FORMAT_AUTO = 0,
  DOPPEL_FORMAT_JSONL,
  DOPPEL_FORMAT_CSV
} doppel_format;

#define DOPPEL_MAX_RECORD_DEFAULT ((size_t)64 << 20) /* 64 MiB */

typedef struct doppel_reader_options {
  size_t max_record;     /* longest record in bytes; 0 = DOPPEL_MAX_RECORD_DEFAULT */
  doppel_format format;  /* AUTO = detect */
  char csv_delim;        /* CSV delimiter; 0 = ',' */
} doppel_reader_options;

typedef struct doppel_record {
  const char *data;    /* record bytes without the line terminator; valid until the next read */
  size_t len;          /* length of data in bytes */
  const char *source;  /* the path as given, or "<stdin>"; valid while the reader lives */
  uint64_t line;       /* 1-based line number of the record's first line */
  uint32_t lines;      /* physical lines spanned (>1 for CSV records with quoted newlines) */
  uint8_t crlf;        /* 1 when the record ended with "\r\n" (the \r is not in data) */
  uint8_t eol;         /* 1 when the record ended with a line terminator, 0 at EOF without one */
} doppel_record;

typedef struct doppel_reader doppel_reader;

/* Open path for reading. opt may be NULL (defaults). On failure *out is NULL
 * and diag says why (DOPPEL_E_IO with the OS error text). */
doppel_status doppel_reader_open(doppel_reader **out, const char *path,
                                 const doppel_reader_options *opt, doppel_diag *diag);

/* Next record. Returns 1 and fills rec; 0 at end of input; -1 on error with
 * diag filled (diag->status: DOPPEL_E_TOO_LONG — the record was skipped and
 * reading may continue; DOPPEL_E_CSV for an unterminated quote at end of
 * input; DOPPEL_E_IO / DOPPEL_E_GZIP — reading cannot continue). Blank lines
 * (only whitespace) are skipped for JSONL. */
int doppel_reader_next(doppel_reader *r, doppel_record *rec, doppel_diag *diag);

/* Detected (or forced) format; valid after open. */
doppel_format doppel_reader_format(const doppel_reader *r);
/* 1 when the input was gzip-compressed. */
int doppel_reader_is_gzip(const doppel_reader *r);
/* 1 when the input started with a UTF-8 byte-order mark (it is not in data). */
int doppel_reader_had_bom(const doppel_reader *r);
/* Bytes consumed from the underlying file so far (compressed bytes for gzip). */
uint64_t doppel_reader_bytes(const doppel_reader *r);
/* Close and free; NULL is a no-op. */
void doppel_reader_free(doppel_reader *r);

typedef struct doppel_output doppel_output;

/* Open path for writing ("-" = stdout). A regular-file target is written to
 * a temporary in path's directory: an unnamed O_TMPFILE file where the file
 * system supports it, else a hidden ".NAME.XXXXXX.tmp" (O_CREAT|O_EXCL);
 * either way created with mode 0666 minus umask. An existing non-regular
 * target (device, FIFO) is written in place. Refuses (DOPPEL_E_SAME_FILE)
 * when path names the same file as any of inputs[0..n_inputs) (compared by
 * device and inode, then by real path). DOPPEL_E_IO names path and gives the
 * OS error; DOPPEL_E_NOMEM when out of memory. *out is NULL on failure. */
doppel_status doppel_output_open(doppel_output **out, const char *path,
                                 const char *const *inputs, size_t n_inputs,
                                 doppel_diag *diag);
/* Buffered write. DOPPEL_E_IO (e.g. disk full) with the OS error text. */
doppel_status doppel_output_write(doppel_output *o, const void *p, size_t n, doppel_diag *diag);
/* Flush, fsync and put the temporary into place, then fsync the directory,
 * and free o (also on failure, after removing the temporary). A new target
 * is linked into place (an unnamed temporary) or renamed there; an existing
 * target is replaced atomically by rename(2), so readers see the old or the
 * new file, never a mix. For stdout: flush and check for errors. */
doppel_status doppel_output_commit(doppel_output *o, doppel_diag *diag);
/* Make a file output readable and writable by its owner only (mode 0600),
 * before anything is written: for outputs that hold raw personal data such
 * as profile states. No-op for stdout and non-regular targets. */
doppel_status doppel_output_restrict(doppel_output *o, doppel_diag *diag);
/* Remove the temporary file and free o. NULL is a no-op. */
void doppel_output_abort(doppel_output *o);
/* Remove every named temporary output file of this process that is still
 * open (neither committed nor aborted). Async-signal-safe: meant for a
 * SIGINT / SIGTERM handler, so an interrupted run leaves no temporary behind
 * (unnamed temporaries need no removal: the kernel frees them when the
 * process ends). */
void doppel_output_remove_temporaries(void);
/* Path of the named temporary file, NULL when there is none: for stdout, an
 * existing non-regular target (written in place), and an unnamed (O_TMPFILE)
 * temporary, which has no name until commit. For tests and diagnostics. */
const char *doppel_output_temp_path(const doppel_output *o);

#ifdef __cplusplus
}
#endif
#endif
