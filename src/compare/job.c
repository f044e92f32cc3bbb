/*
 * job.c — the whole `doppel compare A B` job: tell profiles from datasets,
 * profile datasets in memory (doppel_profile_to_json), then one more
 * streaming pass over each dataset that is needed for the random-groups
 * noise floor (records routed to one of G group profilers by a hash of the
 * user id) and for the privacy checks (A collected, then B checked), score
 * the two profiles, attach the privacy section, and write the HTML page
 * atomically when asked. stdin is copied to a temporary file first since a
 * dataset is read twice.
 */
#include "compare/compare_int.h"

#include <doppel/csv.h>
#include <doppel/doppel.h>
#include <doppel/profile.h>
#include <doppel/sketch.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "core/diag.h"
#include "core/nomem.h"
#include "event/source.h"
#include "io/tempreg.h"

#define DOC_MAX ((size_t)512 << 20) /* largest profile document read */
#define PEEK 65536

/* ---- reading a whole (possibly gzip) file ---- */

static doppel_status read_all(const char *path, size_t max, char **out, size_t *len, doppel_diag *diag) {
  *out = NULL;
  *len = 0;
  gzFile f = gzopen(path, "rb");
  if (!f) {
    int e = errno;
    return dp_diag_set(diag, DOPPEL_E_IO, path, 0, 0, "cannot open: %s", strerror(e ? e : ENOENT));
  }
  size_t cap = 1 << 16, n = 0;
  char *buf = malloc(cap + 1);
  doppel_status st = DOPPEL_OK;
  while (buf) {
    if (n == cap) {
      if (cap >= max) {
        st = DOPPEL_E_LIMIT;
        break;
      }
      char *nb = realloc(buf, cap * 2 + 1);
      if (!nb) break;
      buf = nb;
      cap *= 2;
    }
    int got = gzread(f, buf + n, (unsigned)(cap - n > (1u << 30) ? (1u << 30) : cap - n));
    if (got < 0) {
      int ez;
      const char *m = gzerror(f, &ez);
      st = dp_diag_set(diag, ez == Z_ERRNO ? DOPPEL_E_IO : DOPPEL_E_GZIP, path, 0, 0, "cannot read: %s",
                       ez == Z_ERRNO ? strerror(errno) : m);
      break;
    }
    if (got == 0) break;
    n += (size_t)got;
  }
  gzclose(f);
  if (!buf) return dp_diag_set(diag, DOPPEL_E_NOMEM, NULL, 0, 0, NULL);
  if (st != DOPPEL_OK) {
    free(buf);
    return st;
  }
  buf[n] = '\0';
  *out = buf;
  *len = n;
  return DOPPEL_OK;
}

/* ---- one input ---- */

typedef struct input {
  const char *path;      /* file read (the stdin copy for "-") */
  const char *name;      /* display name */
  int is_dataset;
  json_t *profile;       /* the profile (loaded or made) */
  doppel_dialect dialect;
  doppel_format format;
} input;

static int has_format(const json_t *doc, const char *fmt) {
  const char *f = json_string_value(json_object_get(doc, "format"));
  return f && !strcmp(f, fmt);
}

/* A profile document (or a state, finalized) from text; 0 with *profile NULL
 * when the text is not a JSON document at all. */
static doppel_status doc_profile(const input *in, const char *text, size_t len, json_t **profile, doppel_diag *diag) {
  *profile = NULL;
  json_error_t je;
  json_t *doc = json_loadb(text, len, 0, &je);
  if (!doc) return DOPPEL_OK;
  if (!json_is_object(doc) ||
      (!has_format(doc, DOPPEL_PROFILE_FORMAT) && !has_format(doc, DOPPEL_PROFILE_STATE_FORMAT))) {
    const char *f = json_string_value(json_object_get(doc, "format"));
    doppel_status st = dp_diag_set(diag, DOPPEL_E_DATA, in->name, 0, 0,
                                   f ? "a JSON document of format '%.64s', expected a doppel profile or a dataset"
                                     : "a JSON document without \"format\": \"%s\", expected a doppel profile or a dataset",
                                   f ? f : DOPPEL_PROFILE_FORMAT);
    json_decref(doc);
    return st;
  }
  if (has_format(doc, DOPPEL_PROFILE_FORMAT)) {
    *profile = doc;
    return DOPPEL_OK;
  }
  doppel_profiler *p;
  doppel_status st = doppel_profiler_from_state(&p, doc, diag);
  json_decref(doc);
  if (st == DOPPEL_OK) {
    st = doppel_profiler_profile(p, profile, diag);
    doppel_profiler_free(p);
  }
  if (st != DOPPEL_OK && diag) {
    char t[DOPPEL_DIAG_TEXT_MAX];
    snprintf(t, sizeof t, "%s", diag->text);
    dp_diag_set(diag, st, in->name, 0, 0, "%s", t);
  }
  return st;
}

/* Is the input a profile? Loads it into in->profile when it is. */
static doppel_status classify(input *in, doppel_diag *diag) {
  gzFile f = gzopen(in->path, "rb");
  if (!f) {
    int e = errno;
    return dp_diag_set(diag, DOPPEL_E_IO, in->name, 0, 0, "cannot open: %s", strerror(e ? e : ENOENT));
  }
  char *peek = malloc(PEEK + 1);
  if (!peek) {
    gzclose(f);
    return dp_diag_set(diag, DOPPEL_E_NOMEM, NULL, 0, 0, NULL);
  }
  int got = gzread(f, peek, PEEK);
  if (got < 0) { /* the words of the record reader (io/reader.c) */
    int zerr = Z_OK, e = errno;
    const char *zmsg = gzerror(f, &zerr);
    char why[160];
    snprintf(why, sizeof why, "%s", zmsg && *zmsg ? zmsg : "invalid stream");
    gzclose(f);
    free(peek);
    if (zerr == Z_ERRNO) return dp_diag_set(diag, DOPPEL_E_IO, in->name, 0, 0, "cannot read: %s", strerror(e ? e : EIO));
    if (zerr == Z_MEM_ERROR) return dp_diag_set(diag, DOPPEL_E_NOMEM, in->name, 0, 0, NULL);
    return dp_diag_set(diag, DOPPEL_E_GZIP, in->name, 0, 0, "corrupt gzip data: %s", why);
  }
  gzclose(f);
  size_t n = (size_t)got, i = 0;
  peek[n] = '\0';
  if (n >= 3 && !memcmp(peek, "\xef\xbb\xbf", 3)) i = 3;
  while (i < n && (peek[i] == ' ' || peek[i] == '\t' || peek[i] == '\r' || peek[i] == '\n')) i++;
  in->is_dataset = 1;
  if (i >= n || peek[i] != '{') {
    free(peek);
    return DOPPEL_OK; /* CSV, empty, or not JSON: a dataset */
  }
  /* the first line: a whole JSON object means JSON Lines, unless it is a
   * one-line profile */
  size_t e = i;
  while (e < n && peek[e] != '\n') e++;
  json_error_t je;
  json_t *first = e < n || (size_t)got < PEEK ? json_loadb(peek + i, e - i, 0, &je) : NULL;
  int one_line_doc = first && (has_format(first, DOPPEL_PROFILE_FORMAT) || has_format(first, DOPPEL_PROFILE_STATE_FORMAT));
  int jsonl = first && !one_line_doc;
  json_decref(first);
  free(peek);
  if (jsonl) return DOPPEL_OK;
  char *text;
  size_t len;
  doppel_status st = read_all(in->path, DOC_MAX, &text, &len, diag);
  if (st == DOPPEL_E_LIMIT) return DOPPEL_OK; /* too large for a profile: a dataset */
  if (st != DOPPEL_OK) return st;
  size_t bom = len >= 3 && !memcmp(text, "\xef\xbb\xbf", 3) ? 3 : 0;
  st = doc_profile(in, text + bom, len - bom, &in->profile, diag);
  free(text);
  if (st == DOPPEL_OK && in->profile) in->is_dataset = 0;
  return st;
}

static doppel_status profile_dataset(input *in, const doppel_compare_options *opt, doppel_profile_summary *out,
                                     doppel_diag *diag) {
  const char *inputs[1] = {in->path};
  doppel_profile_options po;
  memset(&po, 0, sizeof po);
  po.inputs = inputs;
  po.n_inputs = 1;
  po.params.k = opt->k;
  po.params.now_us = opt->now_us;
  po.dialect = opt->dialect;
  po.format = opt->format;
  po.max_record = opt->max_record;
  po.progress = opt->progress;
  po.progress_ctx = opt->progress_ctx;
  doppel_profile_summary sum;
  doppel_status st = doppel_profile_to_json(&po, &in->profile, &sum, diag);
  if (st != DOPPEL_OK) return st;
  in->dialect = sum.dialect;
  in->format = sum.format ? sum.format : DOPPEL_FORMAT_JSONL;
  if (out) *out = sum;
  return DOPPEL_OK;
}

/* ---- the extra pass: group profilers and privacy ---- */

typedef struct xpass {
  const doppel_compare_options *opt;
  dp_cmp_priv *priv;              /* NULL: no privacy work in this pass */
  int phase;                      /* privacy phase: 0 = collect (A), 1 = check (B) */
  doppel_profiler **groups;       /* NULL: no groups in this pass */
  size_t n_groups;                /* G */
  doppel_json_doc doc;            /* the current JSON record */
  const doppel_field_map *map;    /* the dialect's canonical fields */
  doppel_csv_columns cols;        /* CSV: canonical columns */
  size_t n_header;                /* CSV: header fields (0 = JSONL) */
  doppel_csv_field *fields;       /* CSV: field spans of the current row */
  size_t fields_cap;              /* entries in fields */
  const char **vals;              /* CSV: unquoted values (into scratch) */
  size_t *lens;                   /* their lengths */
  size_t vals_cap;                /* entries in vals and lens */
  dp_buf scratch;                 /* unescaped ids and names, unquoted CSV values */
} xpass;

static size_t group_of(const xpass *x, const char *user, size_t n) {
  uint64_t h = doppel_sketch_hash64(user, n) ^ 0x636f6d7061726567ULL; /* "compareg" */
  h ^= h >> 31;
  h *= 0x7fb5d329728ea185ULL;
  h ^= h >> 27;
  h *= 0x81dadef4bc2dd44dULL;
  h ^= h >> 33;
  return (size_t)((h >> 11) % x->n_groups);
}

static doppel_status x_start(void *ctx, dp_source *src, doppel_format fmt, doppel_dialect d,
                             const dp_source_record *header, doppel_diag *diag) {
  (void)src;
  xpass *x = ctx;
  x->map = doppel_dialect_fields(d);
  doppel_status st;
  if (x->priv) dp_cmp_priv_begin(x->priv, x->phase, x->map);
  for (size_t i = 0; x->groups && i < x->n_groups; i++) {
    doppel_profile_params pp;
    memset(&pp, 0, sizeof pp);
    pp.k = x->opt->k;
    pp.now_us = x->opt->now_us;
    if ((st = doppel_profiler_new(&x->groups[i], &pp, d, fmt, diag)) != DOPPEL_OK) return st;
  }
  if (!header) return DOPPEL_OK;
  char *names_buf;
  const char **names;
  size_t *lens, n;
  doppel_diag hd;
  doppel_diag_clear(&hd);
  if ((st = dp_source_csv_names(header->data, header->len, &names_buf, &names, &lens, &n, &hd)) != DOPPEL_OK)
    return dp_diag_set(diag, st, header->source, header->line, hd.column, "%s", hd.text);
  doppel_csv_columns_resolve(x->map, names, lens, n, &x->cols);
  x->n_header = n;
  st = x->priv ? dp_cmp_priv_csv_header(x->priv, names, lens, n) : DOPPEL_OK;
  free(names_buf);
  free((void *)names);
  free(lens);
  if (st != DOPPEL_OK) return dp_diag_set(diag, st, NULL, 0, 0, NULL);
  for (size_t i = 0; x->groups && i < x->n_groups; i++)
    if ((st = doppel_profiler_csv_header(x->groups[i], header->data, header->len, &hd)) != DOPPEL_OK)
      return dp_diag_set(diag, st, header->source, header->line, hd.column, "invalid CSV header: %s", hd.text);
  return DOPPEL_OK;
}

/* A group profiler's verdict on a record: data errors were already counted
 * by the main profile; only operational errors stop the job. */
static doppel_status group_status(doppel_status st, const dp_source_record *rec, const doppel_diag *rd,
                                  doppel_diag *diag) {
  if (st == DOPPEL_OK || dp_source_is_data_error(st) || st == DOPPEL_E_TIME) return DOPPEL_OK;
  return dp_diag_set(diag, st, rec->source, rec->line, 0, "%s", rd->text[0] ? rd->text : doppel_strerror(st));
}

static doppel_status put_span(dp_buf *b, const doppel_span *sp, size_t *off, size_t *len) {
  *off = b->len;
  *len = 0;
  if (!sp->ptr) return DOPPEL_OK;
  doppel_status st = dp_buf_reserve(b, sp->len);
  if (st != DOPPEL_OK) return st;
  if (sp->escaped) *len = doppel_json_unescape(sp->ptr, sp->len, b->data + b->len);
  else memcpy(b->data + b->len, sp->ptr, *len = sp->len);
  b->len += *len;
  return DOPPEL_OK;
}

static doppel_status x_json(xpass *x, const dp_source_record *rec, doppel_diag *diag) {
  doppel_diag rd;
  doppel_diag_clear(&rd);
  /* a record that is not valid was counted by the profile pass; out of
   * memory is never a reason to skip one */
  doppel_status ps = doppel_json_parse(&x->doc, rec->data, rec->len, &rd);
  if (ps == DOPPEL_E_NOMEM) return dp_diag_set(diag, ps, NULL, 0, 0, NULL);
  if (ps != DOPPEL_OK) return DOPPEL_OK;
  doppel_event ev;
  ps = doppel_event_from_json(&x->doc, x->map, &ev, &rd);
  if (ps == DOPPEL_E_NOMEM) return dp_diag_set(diag, ps, NULL, 0, 0, NULL);
  if (ps != DOPPEL_OK) return DOPPEL_OK;
  dp_buf_reset(&x->scratch);
  const doppel_span *id = ev.user_id.ptr && ev.user_id.len ? &ev.user_id : &ev.device_id;
  size_t uo, ul, eo, el;
  if (put_span(&x->scratch, id, &uo, &ul) != DOPPEL_OK || put_span(&x->scratch, &ev.event, &eo, &el) != DOPPEL_OK)
    return dp_diag_set(diag, DOPPEL_E_NOMEM, NULL, 0, 0, NULL);
  dp_cmp_rec r = {x->scratch.data + uo, ul, x->scratch.data + eo, el};
  if (x->groups && ul) {
    doppel_profiler *g = x->groups[group_of(x, r.user, ul)];
    doppel_status st = group_status(doppel_profiler_add_json(g, rec->data, rec->len, &rd), rec, &rd, diag);
    if (st != DOPPEL_OK) return st;
  }
  if (x->priv && dp_cmp_priv_json(x->priv, &x->doc, &r) != DOPPEL_OK)
    return dp_diag_set(diag, DOPPEL_E_NOMEM, NULL, 0, 0, "out of memory in the privacy pass");
  return DOPPEL_OK;
}

static doppel_status x_csv(xpass *x, const dp_source_record *rec, doppel_diag *diag) {
  doppel_diag rd;
  doppel_diag_clear(&rd);
  size_t n;
  if (doppel_csv_split(rec->data, rec->len, ',', x->fields, x->fields_cap, &n, &rd) != DOPPEL_OK) return DOPPEL_OK;
  if (n > x->fields_cap || n > x->vals_cap) {
    size_t c = n + 16;
    doppel_csv_field *nf = realloc(x->fields, c * sizeof *nf);
    if (nf) x->fields = nf;
    const char **nv = realloc(x->vals, c * sizeof *nv);
    if (nv) x->vals = nv;
    size_t *nl = realloc(x->lens, c * sizeof *nl);
    if (nl) x->lens = nl;
    if (!nf || !nv || !nl) return dp_diag_set(diag, DOPPEL_E_NOMEM, NULL, 0, 0, NULL);
    x->fields_cap = x->vals_cap = c;
    if (doppel_csv_split(rec->data, rec->len, ',', x->fields, x->fields_cap, &n, &rd) != DOPPEL_OK) return DOPPEL_OK;
  }
  if (x->n_header && n != x->n_header) return DOPPEL_OK; /* malformed: counted by the profile */
  dp_buf_reset(&x->scratch);
  if (dp_buf_reserve(&x->scratch, rec->len + 1) != DOPPEL_OK) return dp_diag_set(diag, DOPPEL_E_NOMEM, NULL, 0, 0, NULL);
  for (size_t i = 0; i < n; i++) {
    char *dst = x->scratch.data + x->scratch.len;
    x->lens[i] = doppel_csv_unquote(rec->data, &x->fields[i], dst);
    x->scratch.len += x->lens[i];
  }
  size_t off = 0;
  for (size_t i = 0; i < n; i++) {
    x->vals[i] = x->scratch.data + off;
    off += x->lens[i];
  }
  dp_cmp_rec r = {"", 0, "", 0};
  const size_t idc[3] = {x->cols.user_id, x->cols.user_id_alt, x->cols.device_id};
  for (int k = 0; k < 3; k++)
    if (idc[k] < n && x->lens[idc[k]]) {
      r.user = x->vals[idc[k]];
      r.user_len = x->lens[idc[k]];
      break;
    }
  if (x->cols.event < n) {
    r.event = x->vals[x->cols.event];
    r.event_len = x->lens[x->cols.event];
  }
  if (x->groups && r.user_len) {
    doppel_profiler *g = x->groups[group_of(x, r.user, r.user_len)];
    doppel_status st = group_status(doppel_profiler_add_csv(g, rec->data, rec->len, &rd), rec, &rd, diag);
    if (st != DOPPEL_OK) return st;
  }
  if (x->priv && dp_cmp_priv_csv(x->priv, x->vals, x->lens, n, &r) != DOPPEL_OK)
    return dp_diag_set(diag, DOPPEL_E_NOMEM, NULL, 0, 0, "out of memory in the privacy pass");
  return DOPPEL_OK;
}

static doppel_status x_record(void *ctx, dp_source *src, const dp_source_record *rec, doppel_diag *diag) {
  return src->format == DOPPEL_FORMAT_CSV ? x_csv(ctx, rec, diag) : x_json(ctx, rec, diag);
}

/* The extra pass over one dataset; on success *group_profiles (when groups
 * were asked) holds n_groups new profiles. */
static doppel_status extra_pass(const input *in, const doppel_compare_options *opt, dp_cmp_priv *priv, int phase,
                                size_t n_groups, json_t **group_profiles, doppel_diag *diag) {
  xpass x;
  memset(&x, 0, sizeof x);
  x.opt = opt;
  x.priv = priv;
  x.phase = phase;
  x.n_groups = n_groups;
  doppel_json_doc_init(&x.doc);
  dp_buf_init(&x.scratch, 0);
  doppel_status st = DOPPEL_OK;
  if (n_groups && !(x.groups = calloc(n_groups, sizeof *x.groups)))
    return dp_diag_set(diag, DOPPEL_E_NOMEM, NULL, 0, 0, NULL);
  const char *inputs[1] = {in->path}, *names[1] = {in->name};
  dp_source_options so = {inputs, names, 1, in->dialect, in->format, opt->max_record, 0, opt->progress,
                          opt->progress_ctx};
  dp_source_hooks hooks = {&x, x_start, x_record, NULL, NULL};
  dp_source *src = malloc(sizeof *src);
  if (!src) st = dp_diag_set(diag, DOPPEL_E_NOMEM, NULL, 0, 0, NULL);
  else st = dp_source_run(src, &so, &hooks, diag);
  free(src);
  for (size_t i = 0; i < n_groups; i++) {
    if (st == DOPPEL_OK && x.groups[i]) st = doppel_profiler_profile(x.groups[i], &group_profiles[i], diag);
    doppel_profiler_free(x.groups[i]);
  }
  free(x.groups);
  doppel_json_doc_release(&x.doc);
  free(x.fields);
  free(x.vals);
  free(x.lens);
  dp_buf_release(&x.scratch);
  return st;
}

/* ---- stdin ---- */

static doppel_status spill_stdin(char *path, size_t size, int *slot, doppel_diag *diag) {
  const char *dir = getenv("TMPDIR");
  if (!dir || !*dir) dir = "/tmp";
  snprintf(path, size, "%s/doppel-compare-XXXXXX", dir);
  int fd = mkstemp(path);
  if (fd < 0)
    return dp_diag_set(diag, DOPPEL_E_IO, dir, 0, 0, "cannot create a temporary file for stdin: %s", strerror(errno));
  *slot = dp_temp_register(path);
  char buf[1 << 16];
  for (;;) {
    ssize_t n = read(STDIN_FILENO, buf, sizeof buf);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      close(fd);
      return dp_diag_set(diag, DOPPEL_E_IO, "<stdin>", 0, 0, "cannot read: %s", strerror(errno));
    }
    for (ssize_t w = 0; w < n;) {
      ssize_t k = write(fd, buf + w, (size_t)(n - w));
      if (k < 0) {
        if (errno == EINTR) continue;
        int e = errno;
        close(fd);
        return dp_diag_set(diag, DOPPEL_E_IO, path, 0, 0, "cannot write the stdin copy: %s", strerror(e));
      }
      w += k;
    }
  }
  if (close(fd) != 0)
    return dp_diag_set(diag, DOPPEL_E_IO, path, 0, 0, "cannot write the stdin copy: %s", strerror(errno));
  return DOPPEL_OK;
}

/* ---- the job ---- */

static doppel_status write_html(const doppel_compare_options *opt, const json_t *report, doppel_diag *diag) {
  char *page = doppel_compare_format_html(report);
  if (!page) return dp_diag_set(diag, DOPPEL_E_NOMEM, NULL, 0, 0, NULL);
  const char *ins[2] = {opt->a, opt->b};
  size_t n_ins = 0;
  for (int i = 0; i < 2; i++)
    if (strcmp(ins[i], "-")) ins[n_ins++] = ins[i];
  doppel_output *o;
  doppel_status st = doppel_output_open(&o, opt->html, ins, n_ins, diag);
  if (st == DOPPEL_OK) {
    st = doppel_output_write(o, page, strlen(page), diag);
    if (st == DOPPEL_OK) st = doppel_output_commit(o, diag);
    else doppel_output_abort(o);
  }
  free(page);
  return st;
}

static json_t *privacy_skipped(const char *reason) {
  return json_pack("{s:b,s:s}", "checked", 0, "reason", reason);
}

doppel_status doppel_compare(const doppel_compare_options *opt, json_t **report, doppel_diag *diag) {
  *report = NULL;
  if (!opt || !opt->a || !opt->b) return dp_diag_set(diag, DOPPEL_E_USAGE, NULL, 0, 0, "give two inputs A and B");
  if (!strcmp(opt->a, "-") && !strcmp(opt->b, "-"))
    return dp_diag_set(diag, DOPPEL_E_USAGE, NULL, 0, 0, "stdin ('-') can be only one of A and B");
  if (opt->k && (opt->k < 2 || opt->k > DOPPEL_PROFILE_K_MAX))
    return dp_diag_set(diag, DOPPEL_E_USAGE, NULL, 0, 0, "k must be from 2 to %d", DOPPEL_PROFILE_K_MAX);
  if (opt->groups > 64) return dp_diag_set(diag, DOPPEL_E_USAGE, NULL, 0, 0, "at most 64 random groups");
  uint32_t k = opt->k ? opt->k : DOPPEL_PROFILE_K_DEFAULT;
  size_t G = opt->groups ? opt->groups : DOPPEL_COMPARE_GROUPS_DEFAULT;
  /* a failed jansson allocation anywhere (a profile read as a dataset, a
   * part of the report left out) makes the whole job out of memory */
  unsigned long nomem0 = dp_nomem_count();
  if (G < 2) G = 0;

  input in[2];
  memset(in, 0, sizeof in);
  char spool[512] = "";
  int slot = -1;
  doppel_status st = DOPPEL_OK;
  dp_cmp_priv *priv = NULL;
  json_t *groups[64] = {0};
  json_t *priv_report = NULL;
  const char *paths[2] = {opt->a, opt->b};
  for (int i = 0; i < 2; i++) {
    in[i].name = strcmp(paths[i], "-") ? paths[i] : "<stdin>";
    in[i].path = paths[i];
    if (!strcmp(paths[i], "-")) {
      if ((st = spill_stdin(spool, sizeof spool, &slot, diag)) != DOPPEL_OK) goto done;
      in[i].path = spool;
    }
  }
  doppel_profile_summary *sums[2] = {opt->sum_a, opt->sum_b};
  for (int i = 0; i < 2; i++)
    if (sums[i]) memset(sums[i], 0, sizeof *sums[i]);
  for (int i = 0; i < 2; i++) {
    if ((st = classify(&in[i], diag)) != DOPPEL_OK) goto done;
    if (in[i].is_dataset && (st = profile_dataset(&in[i], opt, sums[i], diag)) != DOPPEL_OK) goto done;
  }
  /* whose users make the random groups: A when it is a dataset with at
   * least DOPPEL_COMPARE_GROUP_MIN_USERS users per group, else B */
  int gi = -1;
  for (int i = 1; i >= 0 && G; i--)
    if (in[i].is_dataset && dp_cmp_profile_users(in[i].profile) >= (double)(G * DOPPEL_COMPARE_GROUP_MIN_USERS)) gi = i;
  int privacy = !opt->no_privacy && in[0].is_dataset && in[1].is_dataset;
  if (privacy && (st = dp_cmp_priv_new(&priv, k)) != DOPPEL_OK) {
    st = dp_diag_set(diag, st, NULL, 0, 0, NULL);
    goto done;
  }
  for (int i = 0; i < 2; i++) {
    size_t ng = gi == i && G ? G : 0;
    if (!ng && !privacy) continue;
    if ((st = extra_pass(&in[i], opt, priv, i, ng, groups, diag)) != DOPPEL_OK) goto done;
    if (privacy && i == 0 && (st = dp_cmp_priv_end_a(priv)) != DOPPEL_OK) {
      st = dp_diag_set(diag, st, NULL, 0, 0, "out of memory in the privacy pass");
      goto done;
    }
  }
  doppel_compare_params cp;
  memset(&cp, 0, sizeof cp);
  cp.tolerances = opt->tolerances;
  cp.groups = gi >= 0 && G ? (const json_t *const *)groups : NULL;
  cp.n_groups = gi >= 0 && G ? G : 0;
  cp.groups_of = gi == 1 ? "b" : "a";
  cp.name_a = in[0].name;
  cp.name_b = in[1].name;
  cp.kind_a = in[0].is_dataset ? "dataset" : "profile";
  cp.kind_b = in[1].is_dataset ? "dataset" : "profile";
  if ((st = doppel_compare_profiles(in[0].profile, in[1].profile, &cp, report, diag)) != DOPPEL_OK) goto done;
  if (privacy) {
    json_t *pr = dp_cmp_priv_report(priv);
    if (pr && (priv_report = json_pack("{s:b}", "checked", 1))) json_object_update(priv_report, pr);
    json_decref(pr);
  } else {
    priv_report = privacy_skipped(opt->no_privacy        ? "disabled with --no-privacy"
                                  : !in[0].is_dataset ? "A is a profile: the checks need A's raw records"
                                                      : "B is a profile: the checks need B's records");
  }
  if (!priv_report) {
    st = dp_diag_set(diag, DOPPEL_E_NOMEM, NULL, 0, 0, NULL);
    goto done;
  }
  json_object_set_new(*report, "privacy", priv_report);
  if (dp_nomem_count() != nomem0) {
    st = dp_diag_set(diag, DOPPEL_E_NOMEM, NULL, 0, 0, NULL);
    goto done;
  }
  if (opt->html) st = write_html(opt, *report, diag);
done:
  if (st != DOPPEL_OK) {
    json_decref(*report);
    *report = NULL;
  }
  for (size_t i = 0; i < 64; i++) json_decref(groups[i]);
  dp_cmp_priv_free(priv);
  for (int i = 0; i < 2; i++) json_decref(in[i].profile);
  if (spool[0]) {
    unlink(spool);
    dp_temp_unregister(slot);
  }
  return st;
}
