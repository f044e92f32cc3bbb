/*
 * job.c — the `doppel profile` and `doppel merge` jobs: read the inputs
 * through the shared dp_source driver (dialect detection, malformed-record
 * bookkeeping), feed the profiler, and write the profile and/or the partial
 * state atomically, both or neither (states with mode 0600: they hold raw
 * candidate values and per-user records). merge reads state files (plain
 * or gzip), merges them in the order given (the result does not depend on
 * it) and writes the finalized profile and/or the merged state.
 */
#include <doppel/profile.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "core/diag.h"
#include "core/nomem.h"
#include "event/source.h"
#include "io/io_private.h"
#include "profile/profile_int.h"

typedef struct pjob {
  const doppel_profile_options *opt;
  doppel_profiler *p;
  doppel_status init_status;
} pjob;

static doppel_status on_start(void *ctx, dp_source *src, doppel_format fmt, doppel_dialect d,
                              const dp_source_record *header, doppel_diag *diag) {
  pjob *j = ctx;
  doppel_status st = doppel_profiler_new(&j->p, &j->opt->params, d, fmt, diag);
  if (st != DOPPEL_OK) return st;
  doppel_profiler_set_evidence(j->p, src->evidence);
  for (size_t i = 0; i < j->opt->n_inputs; i++) {
    const char *in = j->opt->inputs[i];
    if ((st = doppel_profiler_begin_file(j->p, strcmp(in, "-") ? in : "<stdin>", diag)) != DOPPEL_OK) return st;
  }
  if (!header) return DOPPEL_OK;
  doppel_diag hd;
  doppel_diag_clear(&hd);
  if ((st = doppel_profiler_csv_header(j->p, header->data, header->len, &hd)) != DOPPEL_OK)
    return dp_diag_set(diag, st, header->source, header->line, hd.column, "invalid CSV header: %s", hd.text);
  return DOPPEL_OK;
}

static doppel_status on_record(void *ctx, dp_source *src, const dp_source_record *rec, doppel_diag *diag) {
  pjob *j = ctx;
  doppel_diag rd;
  doppel_diag_clear(&rd);
  doppel_status st = src->format == DOPPEL_FORMAT_CSV ? doppel_profiler_add_csv(j->p, rec->data, rec->len, &rd)
                                                      : doppel_profiler_add_json(j->p, rec->data, rec->len, &rd);
  if (st == DOPPEL_OK) return DOPPEL_OK;
  if (dp_source_is_data_error(st) || st == DOPPEL_E_TIME)
    return dp_source_malformed(src, rec->source, rec->line, rd.column, &rd, diag);
  return dp_diag_set(diag, st, rec->source, rec->line, 0, "%s", rd.text[0] ? rd.text : doppel_strerror(st));
}

static void on_end_input(void *ctx, dp_source *src, size_t input, uint64_t records, uint64_t bytes) {
  (void)src;
  pjob *j = ctx;
  if (!j->p || input >= j->p->n_files) return;
  j->p->files[input].records = records;
  j->p->files[input].bytes = bytes;
  j->p->records += records;
  j->p->bytes += bytes;
}

static void on_malformed(void *ctx, const char *source, uint64_t line, doppel_status st) {
  pjob *j = ctx;
  if (!j->p) return;
  const char *kind = st == DOPPEL_E_DATA ? "wrong field type" : doppel_strerror(st);
  doppel_profiler_malformed(j->p, source, line, kind);
}

static doppel_status write_doc(doppel_output *o, const json_t *doc, int compact, doppel_diag *diag) {
  char *s = doppel_profile_dump(doc, compact);
  if (!s) return dp_diag_set(diag, DOPPEL_E_NOMEM, NULL, 0, 0, NULL);
  doppel_status st = doppel_output_write(o, s, strlen(s), diag);
  free(s);
  return st;
}

static void fill_summary(doppel_profile_summary *sum, const doppel_profiler *p, const json_t *profile) {
  sum->records_in = p->records;
  sum->events = p->events;
  sum->bytes_in = p->bytes;
  sum->no_user = p->no_user;
  sum->no_event = p->no_event;
  sum->no_time = p->no_time;
  sum->dialect = p->dialect;
  sum->format = p->format;
  snprintf(sum->dialect_evidence, sizeof sum->dialect_evidence, "%s", p->evidence);
  snprintf(sum->key_id, sizeof sum->key_id, "%s", p->key_id);
  sum->user_sample_rate = 1.0 / (double)(UINT64_C(1) << p->drop_level);
  if (!profile) {
    sum->users = p->n_users;
    sum->event_names = p->n_ev;
    return;
  }
  const json_t *pop = json_object_get(profile, "population");
  sum->users = (uint64_t)json_integer_value(json_object_get(json_object_get(pop, "users"), "estimate"));
  const json_t *ev = json_object_get(profile, "events");
  sum->event_names = json_array_size(json_object_get(ev, "list"));
  sum->suppressed_names =
      (uint64_t)json_integer_value(json_object_get(json_object_get(ev, "suppressed"), "names"));
  sum->properties = json_array_size(json_object_get(profile, "properties")) +
                    json_array_size(json_object_get(profile, "user_properties"));
  sum->warnings = json_array_size(json_object_get(profile, "warnings"));
  sum->sessions = (uint64_t)json_integer_value(json_object_get(json_object_get(profile, "sessions"), "count"));
}

/* Write the state and/or profile of p to the open outputs, then commit
 * them together. */
static doppel_status finish(doppel_profiler *p, doppel_output *out, doppel_output *state_out,
                            doppel_profile_summary *sum, doppel_diag *diag) {
  doppel_status st = DOPPEL_OK;
  json_t *doc = NULL;
  if (state_out) {
    if ((st = doppel_profiler_state(p, &doc, diag)) != DOPPEL_OK) goto fail;
    st = write_doc(state_out, doc, 1, diag);
    json_decref(doc);
    doc = NULL;
    if (st != DOPPEL_OK) goto fail;
    sum->wrote_state = 1;
  }
  if (out) {
    if ((st = doppel_profiler_profile(p, &doc, diag)) != DOPPEL_OK) goto fail;
    fill_summary(sum, p, doc);
    st = write_doc(out, doc, 0, diag);
    json_decref(doc);
    if (st != DOPPEL_OK) goto fail;
  } else {
    fill_summary(sum, p, NULL);
  }
  /* both or neither: each is written and synced before either is put in place */
  doppel_output *const both[2] = {state_out, out};
  return dp_output_commit_all(both, 2, diag);
fail:
  doppel_output_abort(out);
  doppel_output_abort(state_out);
  return st;
}

static doppel_status open_outputs(const char *output, const char *state, const char *const *inputs, size_t n,
                                  doppel_output **out, doppel_output **sout, doppel_diag *diag) {
  *out = *sout = NULL;
  if (output && state && strcmp(output, "-") && !strcmp(output, state))
    return dp_diag_set(diag, DOPPEL_E_USAGE, NULL, 0, 0, "the profile and the state cannot be the same file");
  if (output && state && !strcmp(output, "-") && !strcmp(state, "-"))
    return dp_diag_set(diag, DOPPEL_E_USAGE, NULL, 0, 0, "only one of the profile and the state can go to stdout");
  doppel_status st;
  if (output && (st = doppel_output_open(out, output, inputs, n, diag)) != DOPPEL_OK) return st;
  if (state) {
    if ((st = doppel_output_open(sout, state, inputs, n, diag)) != DOPPEL_OK ||
        (st = doppel_output_restrict(*sout, diag)) != DOPPEL_OK) {
      doppel_output_abort(*sout);
      doppel_output_abort(*out);
      *out = *sout = NULL;
      return st;
    }
  }
  return DOPPEL_OK;
}

static doppel_status profile_run(const doppel_profile_options *opt, json_t **mem, doppel_profile_summary *sum,
                                 doppel_diag *diag) {
  memset(sum, 0, sizeof *sum);
  if (!opt || !opt->inputs || opt->n_inputs == 0 || (!opt->output && !opt->state_out && !mem))
    return dp_diag_set(diag, DOPPEL_E_USAGE, NULL, 0, 0, "give at least one input and an output (-o or --state-out)");
  size_t stdin_count = 0;
  for (size_t i = 0; i < opt->n_inputs; i++) stdin_count += strcmp(opt->inputs[i], "-") == 0;
  if (stdin_count > 1) return dp_diag_set(diag, DOPPEL_E_USAGE, NULL, 0, 0, "stdin ('-') given more than once");
  /* validate the parameters before reading anything */
  doppel_profiler *probe;
  doppel_status st = doppel_profiler_new(&probe, &opt->params, DOPPEL_DIALECT_GENERIC, DOPPEL_FORMAT_JSONL, diag);
  if (st != DOPPEL_OK) return st;
  doppel_profiler_free(probe);
  doppel_output *out, *sout;
  if ((st = open_outputs(opt->output, opt->state_out, opt->inputs, opt->n_inputs, &out, &sout, diag)) != DOPPEL_OK)
    return st;
  pjob j;
  memset(&j, 0, sizeof j);
  j.opt = opt;
  dp_source_options so = {opt->inputs, NULL, opt->n_inputs, opt->dialect, opt->format,
                          opt->max_record, opt->strict, opt->progress, opt->progress_ctx};
  dp_source_hooks hooks = {&j, on_start, on_record, on_end_input, on_malformed};
  dp_source *src = malloc(sizeof *src);
  if (!src) {
    st = dp_diag_set(diag, DOPPEL_E_NOMEM, NULL, 0, 0, NULL);
    goto fail;
  }
  st = dp_source_run(src, &so, &hooks, diag);
  sum->malformed = src->malformed;
  sum->n_bad = src->n_bad;
  memcpy(sum->bad_lines, src->bad_lines, sizeof sum->bad_lines);
  memcpy(sum->bad_sources, src->bad_sources, sizeof sum->bad_sources);
  memcpy(sum->bad_reasons, src->bad_reasons, sizeof sum->bad_reasons);
  if (st == DOPPEL_OK && !j.p) {
    /* no records at all: an empty profile of the dialect asked for (or generic) */
    if ((st = doppel_profiler_new(&j.p, &opt->params, src->dialect, src->format ? src->format : DOPPEL_FORMAT_JSONL,
                                  diag)) == DOPPEL_OK) {
      doppel_profiler_set_evidence(j.p, src->evidence);
      for (size_t i = 0; i < opt->n_inputs && st == DOPPEL_OK; i++)
        st = doppel_profiler_begin_file(j.p, strcmp(opt->inputs[i], "-") ? opt->inputs[i] : "<stdin>", diag);
      if (st == DOPPEL_OK) j.p->records = src->records_in, j.p->bytes = src->bytes_in;
    }
  }
  if (j.p) j.p->malformed = src->malformed;
  free(src);
  if (st != DOPPEL_OK) goto fail;
  if (mem) {
    st = doppel_profiler_profile(j.p, mem, diag);
    if (st == DOPPEL_OK) fill_summary(sum, j.p, *mem);
  } else {
    st = finish(j.p, out, sout, sum, diag);
  }
  out = sout = NULL;
  sum->malformed = j.p->malformed;
  doppel_profiler_free(j.p);
  return st;
fail:
  doppel_profiler_free(j.p);
  doppel_output_abort(out);
  doppel_output_abort(sout);
  return st;
}

doppel_status doppel_profile(const doppel_profile_options *opt, doppel_profile_summary *sum, doppel_diag *diag) {
  return profile_run(opt, NULL, sum, diag);
}

doppel_status doppel_profile_to_json(const doppel_profile_options *opt, json_t **profile,
                                     doppel_profile_summary *sum, doppel_diag *diag) {
  *profile = NULL;
  doppel_profile_options o = *opt;
  o.output = NULL;
  o.state_out = NULL;
  return profile_run(&o, profile, sum, diag);
}

/* ---- merge ---- */

#define STATE_MAX ((size_t)8 << 30)

static doppel_status load_state_file(const char *path, doppel_profiler **out, doppel_diag *diag) {
  *out = NULL;
  gzFile f = gzopen(path, "rb");
  if (!f) {
    int e = errno;
    return dp_diag_set(diag, DOPPEL_E_IO, path, 0, 0, "cannot open '%s': %s", path, strerror(e ? e : ENOENT));
  }
  gzbuffer(f, 1 << 20);
  size_t cap = 1 << 20, n = 0;
  char *buf = malloc(cap);
  if (!buf) {
    gzclose(f);
    return dp_diag_set(diag, DOPPEL_E_NOMEM, NULL, 0, 0, NULL);
  }
  for (;;) {
    if (n == cap) {
      if (cap >= STATE_MAX) {
        free(buf);
        gzclose(f);
        return dp_diag_set(diag, DOPPEL_E_LIMIT, path, 0, 0, "state file larger than 8 GiB");
      }
      char *nb = realloc(buf, cap * 2);
      if (!nb) {
        free(buf);
        gzclose(f);
        return dp_diag_set(diag, DOPPEL_E_NOMEM, NULL, 0, 0, NULL);
      }
      buf = nb;
      cap *= 2;
    }
    int got = gzread(f, buf + n, (unsigned)((cap - n) > (1u << 30) ? (1u << 30) : (cap - n)));
    if (got < 0) {
      int ez;
      const char *m = gzerror(f, &ez);
      doppel_status st = dp_diag_set(diag, ez == Z_ERRNO ? DOPPEL_E_IO : DOPPEL_E_GZIP, path, 0, 0,
                                     "cannot read '%s': %s", path, ez == Z_ERRNO ? strerror(errno) : m);
      free(buf);
      gzclose(f);
      return st;
    }
    if (got == 0) break;
    n += (size_t)got;
  }
  gzclose(f);
  json_error_t je;
  int nomem;
  json_t *doc = dp_nomem_json_loadb(buf, n, JSON_REJECT_DUPLICATES, &je, &nomem);
  free(buf);
  if (nomem) return dp_diag_set(diag, DOPPEL_E_NOMEM, path, 0, 0, "cannot read the state: out of memory");
  if (!doc)
    return dp_diag_set(diag, DOPPEL_E_DATA, path, (uint64_t)(je.line > 0 ? je.line : 0),
                       (uint64_t)(je.column > 0 ? je.column : 0), "not a valid state file: %s", je.text);
  doppel_status st = doppel_profiler_from_state(out, doc, diag);
  json_decref(doc);
  if (st != DOPPEL_OK && diag) {
    char text[DOPPEL_DIAG_TEXT_MAX];
    snprintf(text, sizeof text, "%s", diag->text);
    dp_diag_set(diag, st, path, 0, 0, "%s", text);
  }
  return st;
}

static _Thread_local doppel_profiler **sort_ps;

/* time order of states: first event, last event, events, then the first file name */
static int cmp_state(const void *a, const void *b) {
  const doppel_profiler *x = sort_ps[*(const size_t *)a], *y = sort_ps[*(const size_t *)b];
  if (x->min_us != y->min_us) return x->min_us < y->min_us ? -1 : 1;
  if (x->max_us != y->max_us) return x->max_us < y->max_us ? -1 : 1;
  if (x->events != y->events) return x->events < y->events ? -1 : 1;
  const char *xn = x->n_files ? x->files[0].name : "", *yn = y->n_files ? y->files[0].name : "";
  int c = strcmp(xn, yn);
  if (c) return c;
  return *(const size_t *)a < *(const size_t *)b ? -1 : 1;
}

doppel_status doppel_profile_merge(const doppel_merge_options *opt, doppel_profile_summary *sum, doppel_diag *diag) {
  memset(sum, 0, sizeof *sum);
  if (!opt || !opt->states || opt->n_states == 0 || (!opt->output && !opt->state_out))
    return dp_diag_set(diag, DOPPEL_E_USAGE, NULL, 0, 0, "give at least one state and an output (-o or --state-out)");
  doppel_output *out, *sout;
  doppel_status st = open_outputs(opt->output, opt->state_out, opt->states, opt->n_states, &out, &sout, diag);
  if (st != DOPPEL_OK) return st;
  /* load every state, then merge them in time order (first event, last
   * event, then content), so the result does not depend on the order given
   * and sessions that span consecutive shards are joined */
  doppel_profiler *acc = NULL;
  doppel_profiler **ps = calloc(opt->n_states, sizeof *ps);
  size_t *ix = calloc(opt->n_states, sizeof *ix);
  if (!ps || !ix) {
    free(ps);
    free(ix);
    st = dp_diag_set(diag, DOPPEL_E_NOMEM, NULL, 0, 0, NULL);
    goto fail;
  }
  for (size_t i = 0; i < opt->n_states; i++) {
    ix[i] = i;
    if ((st = load_state_file(opt->states[i], &ps[i], diag)) != DOPPEL_OK) break;
  }
  if (st == DOPPEL_OK) {
    sort_ps = ps;
    qsort(ix, opt->n_states, sizeof *ix, cmp_state);
    sort_ps = NULL;
    acc = ps[ix[0]];
    ps[ix[0]] = NULL;
    for (size_t r = 1; r < opt->n_states && st == DOPPEL_OK; r++) {
      size_t i = ix[r];
      st = doppel_profiler_merge(acc, ps[i], diag);
      if (st != DOPPEL_OK) {
        char text[DOPPEL_DIAG_TEXT_MAX];
        snprintf(text, sizeof text, "%s", diag ? diag->text : "");
        dp_diag_set(diag, st, opt->states[i], 0, 0, "cannot merge: %s", text);
      }
      doppel_profiler_free(ps[i]);
      ps[i] = NULL;
    }
  }
  for (size_t i = 0; i < opt->n_states; i++) doppel_profiler_free(ps[i]);
  free(ps);
  free(ix);
  if (st != DOPPEL_OK) goto fail;
  st = finish(acc, out, sout, sum, diag);
  out = sout = NULL;
  sum->malformed = acc->malformed;
  doppel_profiler_free(acc);
  return st;
fail:
  doppel_profiler_free(acc);
  doppel_output_abort(out);
  doppel_output_abort(sout);
  return st;
}
