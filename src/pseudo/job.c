/*
 * job.c — the whole `pseudonymize` job: read every input in order (through
 * the shared dp_source driver, which detects the dialect from the first
 * records), rewrite each record with the pseudonymizer, write the output
 * atomically and fill the summary.
 *
 * Memory: the reader's record buffer, the engine's bounded caches, and the
 * records the source holds back while the dialect is detected.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <doppel/io.h>
#include <doppel/pseudo.h>

#include "core/diag.h"
#include "event/source.h"
#include "pseudo/engine_int.h"

_Static_assert(DP_SOURCE_MAX_BAD == DOPPEL_PSEUDO_MAX_BAD_LINES, "summary and source bad-line tables differ");

typedef struct job {
  const doppel_pseudo_options *opt;
  dp_emitter em;
  doppel_pseudonymizer *ps;
} job;

static doppel_status on_start(void *ctx, dp_source *src, doppel_format fmt, doppel_dialect d,
                              const dp_source_record *header, doppel_diag *diag) {
  (void)src;
  (void)fmt;
  job *j = ctx;
  doppel_status st = doppel_pseudonymizer_new(&j->ps, j->opt->key, j->opt->policy, d, diag);
  if (st != DOPPEL_OK || !header) return st;
  doppel_diag hd;
  doppel_diag_clear(&hd);
  if ((st = doppel_pseudonymizer_csv_header(j->ps, header->data, header->len, ',', &hd)) != DOPPEL_OK)
    return dp_diag_set(diag, st, header->source, header->line, hd.column, "invalid CSV header: %s", hd.text);
  return dp_emit_header(&j->em, header->data, header->len, header->crlf, header->eol, diag);
}

static doppel_status on_record(void *ctx, dp_source *src, const dp_source_record *rec,
                               doppel_diag *diag) {
  job *j = ctx;
  const char *o;
  size_t on;
  doppel_diag rd;
  doppel_diag_clear(&rd);
  doppel_status st = src->format == DOPPEL_FORMAT_CSV
                         ? doppel_pseudonymizer_csv_row(j->ps, rec->data, rec->len, &o, &on, &rd)
                         : doppel_pseudonymizer_json(j->ps, rec->data, rec->len, &o, &on, &rd);
  if (st != DOPPEL_OK) {
    if (dp_source_is_data_error(st)) return dp_source_malformed(src, rec->source, rec->line, rd.column, &rd, diag);
    return dp_diag_set(diag, st, rec->source, rec->line, 0, "%s", rd.text);
  }
  return dp_emit(&j->em, o, on, rec->crlf, rec->eol, diag);
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
  doppel_status st = doppel_output_open(&j.em.out, opt->output, opt->inputs, opt->n_inputs, diag);
  if (st != DOPPEL_OK) return st;
  dp_source_options so = {opt->inputs, NULL, opt->n_inputs, opt->dialect, opt->format,
                          opt->max_record, opt->strict, opt->progress, opt->progress_ctx};
  dp_source_hooks hooks = {&j, on_start, on_record, NULL, NULL};
  dp_source *src = malloc(sizeof *src);
  if (!src) {
    doppel_output_abort(j.em.out);
    return dp_diag_set(diag, DOPPEL_E_NOMEM, NULL, 0, 0, NULL);
  }
  st = dp_source_run(src, &so, &hooks, diag);
  sum->records_in = src->records_in;
  sum->records_out = j.em.records_out;
  sum->bytes_in = src->bytes_in;
  sum->malformed = src->malformed;
  sum->n_bad = src->n_bad;
  memcpy(sum->bad_lines, src->bad_lines, sizeof sum->bad_lines);
  memcpy(sum->bad_sources, src->bad_sources, sizeof sum->bad_sources);
  memcpy(sum->bad_reasons, src->bad_reasons, sizeof sum->bad_reasons);
  sum->format = src->format;
  sum->dialect = src->dialect;
  snprintf(sum->dialect_evidence, sizeof sum->dialect_evidence, "%s", src->evidence);
  free(src);
  if (j.ps) {
    const dp_counter *c;
    size_t n = dp_pseudonymizer_counters(j.ps, &c);
    sum->n_counters = n;
    memcpy(sum->counters, c, n * sizeof *c);
  }
  doppel_pseudonymizer_free(j.ps);
  if (st != DOPPEL_OK) {
    doppel_output_abort(j.em.out);
    return st;
  }
  return doppel_output_commit(j.em.out, diag);
}
