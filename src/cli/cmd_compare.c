/*
 * cmd_compare.c — `doppel compare A B`: parse options into
 * doppel_compare_options, run doppel_compare(), print the scorecard (or the
 * JSON report with --json) on stdout, write the --html page, and gate on
 * --min-score: exit 1 when the overall score is below it, after printing.
 * The HTML output is opened first and committed only after stdout was
 * written, so a run that fails leaves no HTML file.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static int parse_unit(const char *s, double *out) {
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (end == s || *end || errno || !isfinite(v) || v < 0 || v > 1) return -1;
  *out = v;
  return 0;
}

static int parse_small(const char *s, unsigned long lo, unsigned long hi, unsigned long *out) {
  char *end;
  errno = 0;
  if (!s[0] || s[0] == '-' || s[0] == '+') return -1;
  unsigned long v = strtoul(s, &end, 10);
  if (end == s || *end || errno || v < lo || v > hi) return -1;
  *out = v;
  return 0;
}

int cmd_compare(int argc, char **argv) {
  const char *dialect = NULL, *format = NULL, *k = NULL, *html = NULL, *min_score = NULL, *tolerances = NULL;
  const char *groups = NULL, *now = NULL;
  size_t max_record = 0;
  int json = 0, quiet = 0, no_privacy = 0;
  const cli_option opts[] = {
      {"dialect", 0, CLI_STRING, "D", "datasets: auto (default), generic, amplitude, segment, mixpanel, ga4", &dialect},
      {"format", 0, CLI_STRING, "F", "datasets: auto (default), jsonl, csv", &format},
      {"groups", 0, CLI_STRING, "N", "random user groups for the noise floor (default 4; 1 = analytic floor)", &groups},
      {"html", 0, CLI_STRING, "FILE", "also write a self-contained HTML scorecard", &html},
      {"json", 0, CLI_FLAG, NULL, "print the report as JSON (doppel-compare/1) instead of the table", &json},
      {"k", 0, CLI_STRING, "K", "k for profiling datasets and for rare values (default 10)", &k},
      {"max-record", 0, CLI_SIZE, "SIZE", "longest record accepted (default 64M)", &max_record},
      {"min-score", 0, CLI_STRING, "X", "exit 1 when the overall score is below X (0 to 1)", &min_score},
      {"no-privacy", 0, CLI_FLAG, NULL, "skip the privacy checks", &no_privacy},
      {"now", 0, CLI_STRING, "TIME", "reference time for profiling datasets (default: now)", &now},
      {"quiet", 'q', CLI_FLAG, NULL, "no scorecard on stdout, no summary on stderr (--json and --html still write)", &quiet},
      {"tolerances", 0, CLI_STRING, "FILE", "JSON object of dimension: largest passing distance", &tolerances},
  };
  const cli_command *cmd = cli_command_get("compare");
  char **pos;
  size_t n_pos;
  int rc = cli_parse(cmd, opts, sizeof opts / sizeof opts[0], argc, argv, &pos, &n_pos);
  if (rc) {
    free(pos);
    return rc < 0 ? 0 : rc;
  }
  doppel_compare_options o;
  memset(&o, 0, sizeof o);
  doppel_compare_tolerances tol;
  doppel_compare_tolerances_default(&tol);
  doppel_diag d;
  doppel_diag_clear(&d);
  json_t *report = NULL;
  doppel_output *html_out = NULL;
  double gate = NAN;
  rc = 2;
  if (n_pos < 2) {
    cli_error("missing input: give A and B (datasets or profiles; '-' for stdin)");
    goto done;
  }
  if (n_pos > 2) {
    cli_error("too many inputs: give exactly A and B");
    goto done;
  }
  unsigned long v;
  if (k) {
    if (parse_small(k, 2, DOPPEL_PROFILE_K_MAX, &v)) {
      cli_error("--k: expected a whole number from 2 to %d, got '%s'", DOPPEL_PROFILE_K_MAX, k);
      goto done;
    }
    o.k = (uint32_t)v;
  }
  if (groups) {
    if (parse_small(groups, 1, 64, &v)) {
      cli_error("--groups: expected a whole number from 1 to 64, got '%s'", groups);
      goto done;
    }
    o.groups = v;
  }
  if (min_score && parse_unit(min_score, &gate)) {
    cli_error("--min-score: expected a score from 0 to 1 such as 0.95, got '%s'", min_score);
    goto done;
  }
  if (now && doppel_time_parse(now, strlen(now), &o.now_us, NULL, &d) != DOPPEL_OK) {
    cli_error("--now: invalid time '%s': %s", now, d.text);
    goto done;
  }
  o.dialect = DOPPEL_DIALECT_AUTO;
  if (dialect && strcmp(dialect, "auto") != 0) {
    o.dialect = doppel_dialect_parse(dialect);
    if (o.dialect == DOPPEL_DIALECT_COUNT || o.dialect == DOPPEL_DIALECT_AUTO) {
      cli_error("--dialect: unknown dialect '%s' (expected auto, generic, amplitude, segment, mixpanel, ga4)", dialect);
      goto done;
    }
  }
  if (format && strcmp(format, "auto") != 0) {
    if (!strcmp(format, "jsonl") || !strcmp(format, "json")) o.format = DOPPEL_FORMAT_JSONL;
    else if (!strcmp(format, "csv")) o.format = DOPPEL_FORMAT_CSV;
    else {
      cli_error("--format: unknown format '%s' (expected auto, jsonl, csv)", format);
      goto done;
    }
  }
  if (tolerances && doppel_compare_tolerances_load(&tol, tolerances, &d) != DOPPEL_OK) {
    rc = cli_diag_error(&d);
    goto done;
  }
  o.a = pos[0];
  o.b = pos[1];
  if (html) {
    const char *ins[2];
    size_t n_ins = 0;
    for (int i = 0; i < 2; i++)
      if (strcmp(pos[i], "-")) ins[n_ins++] = pos[i];
    if (doppel_output_open(&html_out, html, ins, n_ins, &d) != DOPPEL_OK) {
      rc = cli_diag_error(&d);
      goto done;
    }
  }
  o.tolerances = &tol;
  o.max_record = max_record;
  o.no_privacy = no_privacy;
  o.progress = quiet ? NULL : cli_progress;
  doppel_profile_summary sums[2];
  o.sum_a = &sums[0];
  o.sum_b = &sums[1];
  if (doppel_compare(&o, &report, &d) != DOPPEL_OK) {
    rc = cli_diag_error(&d);
    goto done;
  }
  cli_progress_done();
  /* how each dataset was read: like `doppel profile`, a skipped record is
   * never silent */
  for (int i = 0; i < 2 && !quiet; i++) {
    const json_t *in = json_object_get(json_object_get(report, "inputs"), i ? "b" : "a");
    const char *kind = json_string_value(json_object_get(in, "kind"));
    if (!kind || strcmp(kind, "dataset")) continue;
    const doppel_profile_summary *s = &sums[i];
    char a[32], b[32], c[32];
    cli_info("%s (%s): %s records in, %s profiled, %s malformed skipped", i ? "B" : "A",
             strcmp(pos[i], "-") ? pos[i] : "<stdin>", cli_thousands(s->records_in, a, sizeof a),
             cli_thousands(s->events, b, sizeof b), cli_thousands(s->malformed, c, sizeof c));
    cli_print_not_profiled(s);
  }
  char *text = NULL;
  if (json) text = doppel_profile_dump(report, 0);
  else if (!quiet) text = doppel_compare_format_text(report);
  if ((json || !quiet) && !text) {
    cli_error("out of memory");
    rc = 1;
    goto done;
  }
  if (text) {
    fputs(text, stdout);
    free(text);
  }
  if (fflush(stdout) != 0 || ferror(stdout)) {
    cli_error("cannot write to stdout: %s", strerror(errno));
    rc = 1;
    goto done;
  }
  if (html_out) {
    char *page = doppel_compare_format_html(report);
    if (!page) {
      cli_error("out of memory");
      rc = 1;
      goto done;
    }
    doppel_status st = doppel_output_write(html_out, page, strlen(page), &d);
    free(page);
    if (st == DOPPEL_OK) st = doppel_output_commit(html_out, &d);
    else doppel_output_abort(html_out);
    html_out = NULL;
    if (st != DOPPEL_OK) {
      rc = cli_diag_error(&d);
      goto done;
    }
  }
  rc = 0;
  if (min_score) {
    double score = doppel_compare_report_score(report);
    if (!isfinite(score)) {
      cli_error("no dimension could be compared, so the overall score cannot reach --min-score %s", min_score);
      rc = 1;
    } else if (score < gate) {
      cli_info("overall score %.4f is below --min-score %s", score, min_score);
      rc = 1;
    }
  }
done:
  doppel_output_abort(html_out);
  json_decref(report);
  free(pos);
  return rc;
}
