/*
 * source.c — the shared input driver of the record jobs (see source.h):
 * inputs in order, one format, one CSV header, dialect detection from
 * held-back JSONL records or the CSV column names, malformed-record
 * bookkeeping, and the terminator-preserving record emitter.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <doppel/csv.h>
#include <doppel/json.h>

#include "core/buf.h"
#include "core/diag.h"
#include "event/source.h"

#define PROGRESS_EVERY ((uint64_t)16 << 20)

typedef struct held_record {
  size_t off, len;     /* bytes in the hold buffer */
  uint64_t line;       /* first line number */
  uint8_t crlf, eol;   /* terminator */
} held_record;

int dp_source_is_data_error(doppel_status st) {
  return st == DOPPEL_E_JSON || st == DOPPEL_E_UTF8 || st == DOPPEL_E_CSV || st == DOPPEL_E_LIMIT ||
         st == DOPPEL_E_TOO_LONG || st == DOPPEL_E_DATA;
}

doppel_status dp_source_malformed(dp_source *src, const char *source, uint64_t line,
                                  uint64_t column, const doppel_diag *rdiag, doppel_diag *diag) {
  if (src->opt->strict) {
    char text[DOPPEL_DIAG_TEXT_MAX];
    snprintf(text, sizeof text, "%s", rdiag->text[0] ? rdiag->text : doppel_strerror(rdiag->status));
    return dp_diag_set(diag, rdiag->status, source, line, column, "%s (--strict)", text);
  }
  src->malformed++;
  if (src->hooks && src->hooks->malformed)
    src->hooks->malformed(src->hooks->ctx, source, line, rdiag->status);
  if (src->n_bad >= DP_SOURCE_MAX_BAD) return DOPPEL_OK;
  size_t i = src->n_bad++;
  src->bad_lines[i] = line;
  snprintf(src->bad_sources[i], sizeof src->bad_sources[i], "%.63s", source);
  snprintf(src->bad_reasons[i], sizeof src->bad_reasons[i], "%.95s",
           rdiag->text[0] ? rdiag->text : doppel_strerror(rdiag->status));
  return DOPPEL_OK;
}

/* A reader-level error: skippable (too long, bad CSV quoting) or fatal. */
static doppel_status reader_error(dp_source *src, const char *source, doppel_diag *rd,
                                  doppel_diag *diag) {
  if (rd->status == DOPPEL_E_TOO_LONG || rd->status == DOPPEL_E_CSV) {
    src->records_in++;
    return dp_source_malformed(src, source, rd->line, 0, rd, diag);
  }
  return dp_diag_set(diag, rd->status, rd->source[0] ? rd->source : source, rd->line, rd->column,
                     "%s", rd->text);
}

static doppel_status deliver(dp_source *src, const dp_source_hooks *h, const char *source,
                             size_t input, const char *data, size_t len, uint64_t line, int crlf,
                             int eol, doppel_diag *diag) {
  dp_source_record r = {data, len, source, input, line, (uint8_t)crlf, (uint8_t)eol};
  src->records_in++;
  return h->record(h->ctx, src, &r, diag);
}

static doppel_status start(dp_source *src, const dp_source_hooks *h, doppel_dialect d,
                           const char *evidence, const dp_source_record *header,
                           doppel_diag *diag) {
  src->started = 1;
  src->dialect = d;
  snprintf(src->evidence, sizeof src->evidence, "%s", evidence);
  return h->start(h->ctx, src, src->format, d, header, diag);
}

/* JSONL: hold the first records back until the dialect is known. */
static doppel_status detect_json(dp_source *src, const dp_source_hooks *h, doppel_reader *r,
                                 const char *source, size_t input, int *eof, doppel_diag *diag) {
  dp_buf hold;
  dp_buf_init(&hold, 0);
  held_record held[DP_SOURCE_DETECT_RECORDS];
  size_t n_held = 0;
  doppel_dialect_detector det;
  doppel_dialect_detector_init(&det);
  doppel_json_doc doc;
  doppel_json_doc_init(&doc);
  doppel_status st = DOPPEL_OK;
  *eof = 0;
  while (n_held < DP_SOURCE_DETECT_RECORDS && hold.len < DP_SOURCE_DETECT_BYTES) {
    doppel_record rec;
    doppel_diag rd;
    doppel_diag_clear(&rd);
    int got = doppel_reader_next(r, &rec, &rd);
    if (got == 0) { *eof = 1; break; }
    if (got < 0) {
      if ((st = reader_error(src, source, &rd, diag)) != DOPPEL_OK) goto done;
      if (rd.status == DOPPEL_E_TOO_LONG || rd.status == DOPPEL_E_CSV) continue;
      goto done;
    }
    held_record *hr = &held[n_held++];
    hr->off = hold.len;
    hr->len = rec.len;
    hr->line = rec.line;
    hr->crlf = rec.crlf;
    hr->eol = rec.eol;
    if ((st = dp_buf_append(&hold, rec.data, rec.len)) != DOPPEL_OK) {
      st = dp_diag_set(diag, st, source, rec.line, 0, NULL);
      goto done;
    }
    /* a record that is not valid JSON has no say in the dialect (it is
     * reported when delivered); out of memory must not shrink the sample */
    doppel_status ps = doppel_json_parse(&doc, rec.data, rec.len, NULL);
    if (ps == DOPPEL_E_NOMEM) {
      st = dp_diag_set(diag, ps, source, rec.line, 0, NULL);
      goto done;
    }
    if (ps == DOPPEL_OK) doppel_dialect_detector_add_json(&det, &doc);
  }
  if (src->opt->dialect != DOPPEL_DIALECT_AUTO) {
    st = start(src, h, src->opt->dialect, "forced by --dialect", NULL, diag);
  } else {
    char ev[200];
    doppel_dialect d = doppel_dialect_detector_result(&det, ev, sizeof ev);
    st = start(src, h, d, ev, NULL, diag);
  }
  for (size_t i = 0; i < n_held && st == DOPPEL_OK; i++)
    st = deliver(src, h, source, input, hold.data + held[i].off, held[i].len, held[i].line,
                 held[i].crlf, held[i].eol, diag);
done:
  doppel_json_doc_release(&doc);
  dp_buf_release(&hold);
  return st;
}

doppel_status dp_source_csv_names(const char *rec, size_t len, char **names_buf,
                                  const char ***names, size_t **lens, size_t *n,
                                  doppel_diag *diag) {
  doppel_csv_field fields[512];
  doppel_diag hd;
  doppel_diag_clear(&hd);
  *names_buf = NULL;
  *names = NULL;
  *lens = NULL;
  *n = 0;
  if (doppel_csv_split(rec, len, ',', fields, 512, n, &hd) != DOPPEL_OK)
    return dp_diag_set(diag, hd.status, NULL, 0, hd.column, "invalid CSV header: %s", hd.text);
  if (*n > 512) *n = 512;
  *names_buf = malloc(len + 1);
  *names = malloc((*n ? *n : 1) * sizeof **names);
  *lens = malloc((*n ? *n : 1) * sizeof **lens);
  if (!*names_buf || !*names || !*lens) {
    free(*names_buf); free((void *)*names); free(*lens);
    *names_buf = NULL; *names = NULL; *lens = NULL;
    return dp_diag_set(diag, DOPPEL_E_NOMEM, NULL, 0, 0, NULL);
  }
  size_t off = 0;
  for (size_t i = 0; i < *n; i++) {
    (*lens)[i] = doppel_csv_unquote(rec, &fields[i], *names_buf + off);
    (*names)[i] = *names_buf + off;
    off += (*lens)[i];
  }
  return DOPPEL_OK;
}

static doppel_status csv_header(dp_source *src, const dp_source_hooks *h, doppel_reader *r,
                                const char *source, size_t input, dp_buf *first_header, int *eof,
                                doppel_diag *diag) {
  doppel_record rec;
  doppel_diag rd;
  doppel_diag_clear(&rd);
  *eof = 0;
  int got = doppel_reader_next(r, &rec, &rd);
  if (got == 0) { *eof = 1; return DOPPEL_OK; }
  if (got < 0)
    return dp_diag_set(diag, rd.status, source, rd.line, 0, "cannot read the CSV header: %s", rd.text);
  doppel_status st;
  if (src->started) {
    if (rec.len != first_header->len || memcmp(rec.data, first_header->data, rec.len) != 0)
      return dp_diag_set(diag, DOPPEL_E_CSV, source, rec.line, 0,
                         "CSV header differs from the first input's header");
    return DOPPEL_OK; /* one header in the output */
  }
  if ((st = dp_buf_append(first_header, rec.data, rec.len)) != DOPPEL_OK)
    return dp_diag_set(diag, st, source, rec.line, 0, NULL);
  doppel_dialect d = src->opt->dialect;
  char ev[200] = "forced by --dialect";
  if (d == DOPPEL_DIALECT_AUTO) {
    char *names_buf;
    const char **names;
    size_t *lens, n;
    doppel_diag hd;
    doppel_diag_clear(&hd);
    if ((st = dp_source_csv_names(rec.data, rec.len, &names_buf, &names, &lens, &n, &hd)) != DOPPEL_OK)
      return dp_diag_set(diag, st, source, rec.line, hd.column, "%s", hd.text);
    doppel_dialect_detector det;
    doppel_dialect_detector_init(&det);
    doppel_dialect_detector_add_names(&det, names, lens, n);
    d = doppel_dialect_detector_result(&det, ev, sizeof ev);
    free(names_buf); free((void *)names); free(lens);
  }
  dp_source_record hr = {rec.data, rec.len, source, input, rec.line, rec.crlf, rec.eol};
  return start(src, h, d, ev, &hr, diag);
}

static doppel_status run_input(dp_source *src, const dp_source_hooks *h, size_t input,
                               dp_buf *first_header, doppel_diag *diag) {
  const dp_source_options *opt = src->opt;
  const char *path = opt->inputs[input];
  doppel_reader_options ro = {opt->max_record, opt->format, ','};
  doppel_reader *r = NULL;
  doppel_status st = doppel_reader_open(&r, path, &ro, diag);
  if (st != DOPPEL_OK) return st;
  const char *source = opt->names ? opt->names[input] : strcmp(path, "-") == 0 ? "<stdin>" : path;
  doppel_format fmt = doppel_reader_format(r);
  if (src->format == DOPPEL_FORMAT_AUTO) {
    src->format = fmt;
  } else if (fmt != src->format) {
    doppel_reader_free(r);
    return dp_diag_set(diag, DOPPEL_E_USAGE, source, 0, 0,
                       "input is %s but the first input is %s; give inputs of one format",
                       fmt == DOPPEL_FORMAT_CSV ? "CSV" : "JSON Lines",
                       src->format == DOPPEL_FORMAT_CSV ? "CSV" : "JSON Lines");
  }
  int eof = 0;
  const uint64_t records_before = src->records_in;
  if (fmt == DOPPEL_FORMAT_CSV) st = csv_header(src, h, r, source, input, first_header, &eof, diag);
  else if (!src->started) st = detect_json(src, h, r, source, input, &eof, diag);
  while (st == DOPPEL_OK && !eof) {
    doppel_record rec;
    doppel_diag rd;
    doppel_diag_clear(&rd);
    int got = doppel_reader_next(r, &rec, &rd);
    if (got == 0) break;
    if (got < 0) {
      st = reader_error(src, source, &rd, diag);
      if (rd.status != DOPPEL_E_TOO_LONG && rd.status != DOPPEL_E_CSV) break;
      continue;
    }
    st = deliver(src, h, source, input, rec.data, rec.len, rec.line, rec.crlf, rec.eol, diag);
    if (opt->progress) {
      uint64_t b = src->bytes_in + doppel_reader_bytes(r);
      if (b >= src->next_progress) {
        opt->progress(opt->progress_ctx, src->records_in, b);
        src->next_progress = b + PROGRESS_EVERY;
      }
    }
  }
  src->bytes_in += doppel_reader_bytes(r);
  if (st == DOPPEL_OK && h->end_input)
    h->end_input(h->ctx, src, input, src->records_in - records_before, doppel_reader_bytes(r));
  doppel_reader_free(r);
  return st;
}

doppel_status dp_source_run(dp_source *src, const dp_source_options *opt, const dp_source_hooks *h,
                            doppel_diag *diag) {
  memset(src, 0, sizeof *src);
  src->opt = opt;
  src->hooks = h;
  src->next_progress = PROGRESS_EVERY;
  dp_buf header;
  dp_buf_init(&header, 0);
  doppel_status st = DOPPEL_OK;
  for (size_t i = 0; i < opt->n_inputs && st == DOPPEL_OK; i++)
    st = run_input(src, h, i, &header, diag);
  dp_buf_release(&header);
  if (st == DOPPEL_OK && !src->started) { /* every input was empty */
    src->dialect = opt->dialect == DOPPEL_DIALECT_AUTO ? DOPPEL_DIALECT_GENERIC : opt->dialect;
    snprintf(src->evidence, sizeof src->evidence, "no records");
  }
  return st;
}

doppel_status dp_emit(dp_emitter *e, const char *data, size_t len, int crlf, int eol,
                      doppel_diag *diag) {
  doppel_status st;
  if (e->pending_newline && (st = doppel_output_write(e->out, "\n", 1, diag)) != DOPPEL_OK) return st;
  if ((st = doppel_output_write(e->out, data, len, diag)) != DOPPEL_OK) return st;
  e->pending_newline = !eol;
  if (eol) st = doppel_output_write(e->out, crlf ? "\r\n" : "\n", crlf ? 2 : 1, diag);
  if (st == DOPPEL_OK) e->records_out++;
  return st;
}

doppel_status dp_emit_header(dp_emitter *e, const char *data, size_t len, int crlf, int eol,
                             doppel_diag *diag) {
  doppel_status st;
  e->pending_newline = 0;
  if ((st = doppel_output_write(e->out, data, len, diag)) != DOPPEL_OK) return st;
  e->pending_newline = !eol;
  if (eol) st = doppel_output_write(e->out, crlf ? "\r\n" : "\n", crlf ? 2 : 1, diag);
  return st;
}
