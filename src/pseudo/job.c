/*
 * job.c — the whole `pseudonymize` job: read every input in order, detect
 * the dialect from the first records, rewrite each record with the
 * pseudonymizer, write the output atomically and fill the summary.
 *
 * Memory: the reader's record buffer, the engine's bounded caches, and at
 * most DETECT_RECORDS records (capped at DETECT_BYTES) held back while the
 * dialect is detected.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <doppel/csv.h>
#include <doppel/event.h>
#include <doppel/io.h>
#include <doppel/json.h>
#include <doppel/pseudo.h>

#include "core/buf.h"
#include "core/diag.h"
#include "pseudo/engine_int.h"

#define DETECT_RECORDS 50
#define DETECT_BYTES ((size_t)8 << 20)
#define PROGRESS_EVERY ((uint64_t)16 << 20)

typedef struct held_record {
  size_t off, len;     /* bytes in the hold buffer */
  uint64_t line;       /* first line number */
  uint8_t crlf, eol;   /* terminator */
} held_record;

typedef struct job {
  const doppel_pseudo_options *opt;
  doppel_pseudo_summary *sum;
  doppel_output *out;
  doppel_pseudonymizer *ps;
  int pending_newline;           /* previous record had no terminator */
  uint64_t bytes_done;           /* bytes of finished inputs */
  uint64_t next_progress;
} job;

static void note_bad(doppel_pseudo_summary *sum, const char *source, uint64_t line, const doppel_diag *d) {
  sum->malformed++;
  if (sum->n_bad >= DOPPEL_PSEUDO_MAX_BAD_LINES) return;
  size_t i = sum->n_bad++;
  sum->bad_lines[i] = line;
  snprintf(sum->bad_sources[i], sizeof sum->bad_sources[i], "%.63s", source);
  snprintf(sum->bad_reasons[i], sizeof sum->bad_reasons[i], "%.95s",
           d->text[0] ? d->text : doppel_strerror(d->status));
}

static int is_data_error(doppel_status st) {
  return st == DOPPEL_E_JSON || st == DOPPEL_E_UTF8 || st == DOPPEL_E_CSV || st == DOPPEL_E_LIMIT ||
         st == DOPPEL_E_TOO_LONG || st == DOPPEL_E_DATA;
}

/* A malformed record: count it, or make it fatal under --strict. */
static doppel_status malformed(job *j, const char *source, uint64_t line, uint64_t column,
                               doppel_diag *rdiag, doppel_diag *diag) {
  if (j->opt->strict) {
    char text[DOPPEL_DIAG_TEXT_MAX];
    snprintf(text, sizeof text, "%s", rdiag->text[0] ? rdiag->text : doppel_strerror(rdiag->status));
    return dp_diag_set(diag, rdiag->status, source, line, column, "%s (--strict)", text);
  }
  note_bad(j->sum, source, line, rdiag);
  return DOPPEL_OK;
}

static doppel_status emit(job *j, const char *data, size_t len, int crlf, int eol, doppel_diag *diag) {
  doppel_status st;
  if (j->pending_newline && (st = doppel_output_write(j->out, "\n", 1, diag)) != DOPPEL_OK) return st;
  if ((st = doppel_output_write(j->out, data, len, diag)) != DOPPEL_OK) return st;
  j->pending_newline = !eol;
  if (eol) st = doppel_output_write(j->out, crlf ? "\r\n" : "\n", crlf ? 2 : 1, diag);
  if (st == DOPPEL_OK) j->sum->records_out++;
  return st;
}

static doppel_status rewrite_json(job *j, const char *source, const char *data, size_t len,
                                  uint64_t line, int crlf, int eol, doppel_diag *diag) {
  const char *o;
  size_t on;
  doppel_diag rd;
  doppel_diag_clear(&rd);
  j->sum->records_in++;
  doppel_status st = doppel_pseudonymizer_json(j->ps, data, len, &o, &on, &rd);
  if (st != DOPPEL_OK) {
    if (is_data_error(st)) return malformed(j, source, line, rd.column, &rd, diag);
    return dp_diag_set(diag, st, source, line, 0, "%s", rd.text);
  }
  return emit(j, o, on, crlf, eol, diag);
}

static doppel_status start_engine(job *j, doppel_dialect d, const char *evidence, doppel_diag *diag) {
  j->sum->dialect = d;
  snprintf(j->sum->dialect_evidence, sizeof j->sum->dialect_evidence, "%s", evidence);
  return doppel_pseudonymizer_new(&j->ps, j->opt->key, j->opt->policy, d, diag);
}

/* JSONL: hold the first records back until the dialect is known. */
static doppel_status detect_json(job *j, doppel_reader *r, const char *source, int *eof,
                                 doppel_diag *diag) {
  dp_buf hold;
  dp_buf_init(&hold, 0);
  held_record held[DETECT_RECORDS];
  size_t n_held = 0;
  doppel_dialect_detector det;
  doppel_dialect_detector_init(&det);
  doppel_json_doc doc;
  doppel_json_doc_init(&doc);
  doppel_status st = DOPPEL_OK;
  *eof = 0;
  while (n_held < DETECT_RECORDS && hold.len < DETECT_BYTES) {
    doppel_record rec;
    doppel_diag rd;
    doppel_diag_clear(&rd);
    int got = doppel_reader_next(r, &rec, &rd);
    if (got == 0) { *eof = 1; break; }
    if (got < 0) {
      if (rd.status == DOPPEL_E_TOO_LONG || rd.status == DOPPEL_E_CSV) {
        j->sum->records_in++;
        if ((st = malformed(j, source, rd.line, 0, &rd, diag)) != DOPPEL_OK) goto done;
        continue;
      }
      st = dp_diag_set(diag, rd.status, rd.source[0] ? rd.source : source, rd.line, 0, "%s", rd.text);
      goto done;
    }
    held_record *h = &held[n_held++];
    h->off = hold.len;
    h->len = rec.len;
    h->line = rec.line;
    h->crlf = rec.crlf;
    h->eol = rec.eol;
    if ((st = dp_buf_append(&hold, rec.data, rec.len)) != DOPPEL_OK) {
      st = dp_diag_set(diag, st, source, rec.line, 0, NULL);
      goto done;
    }
    if (doppel_json_parse(&doc, rec.data, rec.len, NULL) == DOPPEL_OK)
      doppel_dialect_detector_add_json(&det, &doc);
  }
  if (j->opt->dialect != DOPPEL_DIALECT_AUTO) {
    st = start_engine(j, j->opt->dialect, "forced by --dialect", diag);
  } else {
    char ev[200];
    doppel_dialect d = doppel_dialect_detector_result(&det, ev, sizeof ev);
    st = start_engine(j, d, ev, diag);
  }
  if (st != DOPPEL_OK) goto done;
  for (size_t i = 0; i < n_held && st == DOPPEL_OK; i++)
    st = rewrite_json(j, source, hold.data + held[i].off, held[i].len, held[i].line, held[i].crlf,
                      held[i].eol, diag);
done:
  doppel_json_doc_release(&doc);
  dp_buf_release(&hold);
  return st;
}

static doppel_status csv_header(job *j, doppel_reader *r, const char *source, dp_buf *first_header,
                                int *eof, doppel_diag *diag) {
  doppel_record rec;
  doppel_diag rd;
  doppel_diag_clear(&rd);
  *eof = 0;
  int got = doppel_reader_next(r, &rec, &rd);
  if (got == 0) { *eof = 1; return DOPPEL_OK; }
  if (got < 0)
    return dp_diag_set(diag, rd.status, source, rd.line, 0, "cannot read the CSV header: %s", rd.text);
  doppel_status st;
  if (j->ps) {
    if (rec.len != first_header->len || memcmp(rec.data, first_header->data, rec.len) != 0)
      return dp_diag_set(diag, DOPPEL_E_CSV, source, rec.line, 0,
                         "CSV header differs from the first input's header");
    return DOPPEL_OK; /* one header in the output */
  }
  if ((st = dp_buf_append(first_header, rec.data, rec.len)) != DOPPEL_OK)
    return dp_diag_set(diag, st, source, rec.line, 0, NULL);
  const char delim = ','; /* the reader splits records on RFC 4180 rules with ',' */
  /* detect the dialect from the column names */
  doppel_dialect d = j->opt->dialect;
  char ev[200] = "forced by --dialect";
  if (d == DOPPEL_DIALECT_AUTO) {
    doppel_csv_field fields[512];
    size_t n;
    doppel_diag hd;
    if (doppel_csv_split(rec.data, rec.len, delim, fields, 512, &n, &hd) != DOPPEL_OK)
      return dp_diag_set(diag, hd.status, source, rec.line, hd.column, "invalid CSV header: %s", hd.text);
    if (n > 512) n = 512;
    char *names_buf = malloc(rec.len + 1);
    const char **names = malloc(n * sizeof *names);
    size_t *lens = malloc(n * sizeof *lens);
    if (!names_buf || !names || !lens) {
      free(names_buf); free(names); free(lens);
      return dp_diag_set(diag, DOPPEL_E_NOMEM, source, 0, 0, NULL);
    }
    size_t off = 0;
    for (size_t i = 0; i < n; i++) {
      lens[i] = doppel_csv_unquote(rec.data, &fields[i], names_buf + off);
      names[i] = names_buf + off;
      off += lens[i];
    }
    doppel_dialect_detector det;
    doppel_dialect_detector_init(&det);
    doppel_dialect_detector_add_names(&det, names, lens, n);
    d = doppel_dialect_detector_result(&det, ev, sizeof ev);
    free(names_buf); free(names); free(lens);
  }
  if ((st = start_engine(j, d, ev, diag)) != DOPPEL_OK) return st;
  doppel_diag hd;
  doppel_diag_clear(&hd);
  if ((st = doppel_pseudonymizer_csv_header(j->ps, rec.data, rec.len, delim, &hd)) != DOPPEL_OK)
    return dp_diag_set(diag, st, source, rec.line, hd.column, "invalid CSV header: %s", hd.text);
  j->pending_newline = 0;
  if ((st = doppel_output_write(j->out, rec.data, rec.len, diag)) != DOPPEL_OK) return st;
  j->pending_newline = !rec.eol;
  if (rec.eol) st = doppel_output_write(j->out, rec.crlf ? "\r\n" : "\n", rec.crlf ? 2 : 1, diag);
  return st;
}

static doppel_status run_input(job *j, const char *path, doppel_format *first_format,
                               dp_buf *first_header, doppel_diag *diag) {
  doppel_reader_options ro = {j->opt->max_record, j->opt->format, ','};
  doppel_reader *r = NULL;
  doppel_status st = doppel_reader_open(&r, path, &ro, diag);
  if (st != DOPPEL_OK) return st;
  const char *source = strcmp(path, "-") == 0 ? "<stdin>" : path;
  doppel_format fmt = doppel_reader_format(r);
  if (*first_format == DOPPEL_FORMAT_AUTO) {
    *first_format = fmt;
    j->sum->format = fmt;
  } else if (fmt != *first_format) {
    doppel_reader_free(r);
    return dp_diag_set(diag, DOPPEL_E_USAGE, source, 0, 0,
                       "input is %s but the first input is %s; give inputs of one format",
                       fmt == DOPPEL_FORMAT_CSV ? "CSV" : "JSON Lines",
                       *first_format == DOPPEL_FORMAT_CSV ? "CSV" : "JSON Lines");
  }
  int eof = 0;
  if (fmt == DOPPEL_FORMAT_CSV) st = csv_header(j, r, source, first_header, &eof, diag);
  else if (!j->ps) st = detect_json(j, r, source, &eof, diag);
  while (st == DOPPEL_OK && !eof) {
    doppel_record rec;
    doppel_diag rd;
    doppel_diag_clear(&rd);
    int got = doppel_reader_next(r, &rec, &rd);
    if (got == 0) break;
    if (got < 0) {
      if (rd.status == DOPPEL_E_TOO_LONG || rd.status == DOPPEL_E_CSV) {
        j->sum->records_in++;
        st = malformed(j, source, rd.line, 0, &rd, diag);
        continue;
      }
      st = dp_diag_set(diag, rd.status, rd.source[0] ? rd.source : source, rd.line, rd.column, "%s", rd.text);
      break;
    }
    if (fmt == DOPPEL_FORMAT_CSV) {
      const char *o;
      size_t on;
      j->sum->records_in++;
      doppel_status rs = doppel_pseudonymizer_csv_row(j->ps, rec.data, rec.len, &o, &on, &rd);
      if (rs != DOPPEL_OK) {
        if (is_data_error(rs)) st = malformed(j, source, rec.line, rd.column, &rd, diag);
        else st = dp_diag_set(diag, rs, source, rec.line, 0, "%s", rd.text);
        continue;
      }
      st = emit(j, o, on, rec.crlf, rec.eol, diag);
    } else {
      st = rewrite_json(j, source, rec.data, rec.len, rec.line, rec.crlf, rec.eol, diag);
    }
    if (j->opt->progress) {
      uint64_t b = j->bytes_done + doppel_reader_bytes(r);
      if (b >= j->next_progress) {
        j->opt->progress(j->opt->progress_ctx, j->sum->records_in, b);
        j->next_progress = b + PROGRESS_EVERY;
      }
    }
  }
  uint64_t b = doppel_reader_bytes(r);
  j->bytes_done += b;
  j->sum->bytes_in += b;
  doppel_reader_free(r);
  return st;
}

doppel_status doppel_pseudonymize(const doppel_pseudo_options *opt, doppel_pseudo_summary *sum,
                                  doppel_diag *diag) {
  memset(sum, 0, sizeof *sum);
  if (!opt || !opt->inputs || opt->n_inputs == 0 || !opt->output)
    return dp_diag_set(diag, DOPPEL_E_USAGE, NULL, 0, 0, "give at least one input and an output");
  if (!opt->key) return dp_diag_set(diag, DOPPEL_E_USAGE, NULL, 0, 0, "a key is required");
  doppel_key_id(opt->key, sum->key_id);
  size_t stdin_count = 0;
  for (size_t i = 0; i < opt->n_inputs; i++) stdin_count += strcmp(opt->inputs[i], "-") == 0;
  if (stdin_count > 1) return dp_diag_set(diag, DOPPEL_E_USAGE, NULL, 0, 0, "stdin ('-') given more than once");
  job j;
  memset(&j, 0, sizeof j);
  j.opt = opt;
  j.sum = sum;
  j.next_progress = PROGRESS_EVERY;
  doppel_status st = doppel_output_open(&j.out, opt->output, opt->inputs, opt->n_inputs, diag);
  if (st != DOPPEL_OK) return st;
  doppel_format first_format = DOPPEL_FORMAT_AUTO;
  dp_buf header;
  dp_buf_init(&header, 0);
  for (size_t i = 0; i < opt->n_inputs && st == DOPPEL_OK; i++)
    st = run_input(&j, opt->inputs[i], &first_format, &header, diag);
  dp_buf_release(&header);
  if (j.ps) {
    const dp_counter *c;
    size_t n = dp_pseudonymizer_counters(j.ps, &c);
    sum->n_counters = n;
    memcpy(sum->counters, c, n * sizeof *c);
  }
  if (st == DOPPEL_OK && !j.ps) { /* every input was empty */
    sum->dialect = opt->dialect == DOPPEL_DIALECT_AUTO ? DOPPEL_DIALECT_GENERIC : opt->dialect;
    snprintf(sum->dialect_evidence, sizeof sum->dialect_evidence, "no records");
  }
  doppel_pseudonymizer_free(j.ps);
  if (st != DOPPEL_OK) {
    doppel_output_abort(j.out);
    return st;
  }
  return doppel_output_commit(j.out, diag);
}
