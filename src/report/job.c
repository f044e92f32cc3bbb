/*
 * job.c — the report API around the renderer: render into a malloc'd
 * string, load a profile file (plain or gzip, or stdin) with JSON errors
 * carrying line and column, and the whole `doppel report` job writing the
 * report atomically.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include <doppel/io.h>

#include "core/diag.h"
#include "core/nomem.h"
#include "report/report_int.h"

#define PROFILE_MAX ((size_t)2 << 30) /* 2 GiB of JSON is not a profile */

doppel_status doppel_report_render(const json_t *profile, const doppel_report_options *opt, char **out,
                                   size_t *out_len, doppel_diag *diag) {
  *out = NULL;
  if (out_len) *out_len = 0;
  dp_buf b;
  dp_buf_init(&b, 0);
  doppel_status st = dp_report_render(profile, opt, &b, NULL, diag);
  if (st == DOPPEL_OK && (st = dp_buf_terminate(&b)) != DOPPEL_OK) dp_diag_set(diag, st, NULL, 0, 0, NULL);
  if (st != DOPPEL_OK) {
    dp_buf_release(&b);
    return st;
  }
  *out = b.data;
  if (out_len) *out_len = b.len;
  return DOPPEL_OK;
}

/* The whole file (gzip decoded) into a malloc'd buffer. */
static doppel_status read_all(const char *path, char **data, size_t *len, doppel_diag *diag) {
  *data = NULL;
  *len = 0;
  int is_stdin = !strcmp(path, "-");
  const char *name = is_stdin ? "<stdin>" : path;
  gzFile f = is_stdin ? gzdopen(dup(STDIN_FILENO), "rb") : gzopen(path, "rb");
  if (!f) {
    int e = errno;
    return dp_diag_set(diag, DOPPEL_E_IO, name, 0, 0, "cannot open '%s': %s", name, strerror(e ? e : ENOENT));
  }
  gzbuffer(f, 1 << 18);
  dp_buf b;
  dp_buf_init(&b, PROFILE_MAX);
  doppel_status st = DOPPEL_OK;
  for (;;) {
    if ((st = dp_buf_reserve(&b, 1 << 18)) != DOPPEL_OK) {
      st = st == DOPPEL_E_LIMIT ? dp_diag_set(diag, st, name, 0, 0, "larger than 2 GiB: not a profile")
                                : dp_diag_set(diag, st, name, 0, 0, NULL);
      break;
    }
    int got = gzread(f, b.data + b.len, 1 << 18);
    if (got < 0) {
      int ez;
      const char *m = gzerror(f, &ez);
      st = dp_diag_set(diag, ez == Z_ERRNO ? DOPPEL_E_IO : DOPPEL_E_GZIP, name, 0, 0, "cannot read '%s': %s", name,
                       ez == Z_ERRNO ? strerror(errno) : m);
      break;
    }
    if (got == 0) break;
    b.len += (size_t)got;
  }
  gzclose(f);
  if (st != DOPPEL_OK) {
    dp_buf_release(&b);
    return st;
  }
  *data = b.data;
  *len = b.len;
  return DOPPEL_OK;
}

doppel_status doppel_report_load(const char *path, json_t **profile, doppel_diag *diag) {
  *profile = NULL;
  if (!path) return dp_diag_set(diag, DOPPEL_E_USAGE, NULL, 0, 0, "no profile file given");
  const char *name = strcmp(path, "-") ? path : "<stdin>";
  char *data;
  size_t len;
  doppel_status st = read_all(path, &data, &len, diag);
  if (st != DOPPEL_OK) return st;
  json_error_t je;
  int nomem;
  json_t *doc = dp_nomem_json_loadb(data ? data : "", len, JSON_REJECT_DUPLICATES, &je, &nomem);
  free(data);
  if (nomem) return dp_diag_set(diag, DOPPEL_E_NOMEM, name, 0, 0, "cannot read the profile: out of memory");
  if (!doc) {
    if (len == 0) return dp_diag_set(diag, DOPPEL_E_DATA, name, 0, 0, "empty file: not a doppel profile");
    return dp_diag_set(diag, DOPPEL_E_DATA, name, (uint64_t)(je.line > 0 ? je.line : 0),
                       (uint64_t)(je.column > 0 ? je.column : 0), "invalid JSON: %s", je.text);
  }
  if ((st = doppel_report_check(doc, diag)) != DOPPEL_OK) {
    char text[DOPPEL_DIAG_TEXT_MAX];
    snprintf(text, sizeof text, "%s", diag ? diag->text : "");
    json_decref(doc);
    return dp_diag_set(diag, st, name, 0, 0, "%s", text);
  }
  *profile = doc;
  return DOPPEL_OK;
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

doppel_status doppel_report(const char *input, const char *output, const doppel_report_options *opt,
                            doppel_report_summary *sum, doppel_diag *diag) {
  doppel_report_summary local;
  if (!sum) sum = &local;
  memset(sum, 0, sizeof *sum);
  if (!input || !output) return dp_diag_set(diag, DOPPEL_E_USAGE, NULL, 0, 0, "give a profile and an output");
  double t0 = now_s();
  doppel_output *out = NULL;
  const char *inputs[1] = {input};
  doppel_status st = doppel_output_open(&out, output, inputs, strcmp(input, "-") ? 1 : 0, diag);
  if (st != DOPPEL_OK) return st;
  json_t *doc = NULL;
  dp_buf b;
  dp_buf_init(&b, 0);
  if ((st = doppel_report_load(input, &doc, diag)) != DOPPEL_OK) goto fail;
  if ((st = dp_report_render(doc, opt, &b, sum, diag)) != DOPPEL_OK) {
    char text[DOPPEL_DIAG_TEXT_MAX];
    snprintf(text, sizeof text, "%s", diag ? diag->text : "");
    dp_diag_set(diag, st, strcmp(input, "-") ? input : "<stdin>", 0, 0, "%s", text);
    goto fail;
  }
  json_decref(doc);
  doc = NULL;
  if ((st = doppel_output_write(out, b.data ? b.data : "", b.len, diag)) != DOPPEL_OK) goto fail;
  sum->bytes = b.len;
  dp_buf_release(&b);
  st = doppel_output_commit(out, diag);
  sum->seconds = now_s() - t0;
  return st;
fail:
  json_decref(doc);
  dp_buf_release(&b);
  doppel_output_abort(out);
  return st;
}
