/*
 * cmd_pseudonymize.c — `doppel pseudonymize`: parse options into
 * doppel_pseudo_options, load key and policy, run doppel_pseudonymize(),
 * print the summary on stderr.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static void print_summary(const doppel_pseudo_summary *s, const char *output) {
  char a[32], b[32], c[32];
  cli_info("%s records in, %s out, %s malformed skipped; key id %s",
           cli_thousands(s->records_in, a, sizeof a), cli_thousands(s->records_out, b, sizeof b),
           cli_thousands(s->malformed, c, sizeof c), s->key_id);
  fprintf(stderr, "  input: %s, dialect %s (%s)\n",
          s->format == DOPPEL_FORMAT_CSV ? "CSV" : "JSON Lines", doppel_dialect_name(s->dialect),
          s->dialect_evidence);
  fprintf(stderr, "  output: %s\n", strcmp(output, "-") ? output : "<stdout>");
  if (s->n_counters) {
    fprintf(stderr, "  values treated:\n");
    for (size_t i = 0; i < s->n_counters; i++)
      fprintf(stderr, "    %-56s %12s\n", s->counters[i].label,
              cli_thousands(s->counters[i].values, a, sizeof a));
  } else {
    fprintf(stderr, "  values treated: none\n");
  }
  for (size_t i = 0; i < s->n_bad; i++)
    fprintf(stderr, "  skipped %s:%llu: %s\n", s->bad_sources[i], (unsigned long long)s->bad_lines[i],
            s->bad_reasons[i]);
  if (s->malformed > s->n_bad)
    fprintf(stderr, "  ... and %llu more malformed records\n",
            (unsigned long long)(s->malformed - s->n_bad));
}

int cmd_pseudonymize(int argc, char **argv) {
  const char *output = NULL, *key_path = NULL, *policy_path = NULL, *dialect = NULL, *format = NULL;
  size_t max_record = 0;
  int strict = 0, quiet = 0;
  const cli_option opts[] = {
      {"dialect", 0, CLI_STRING, "D", "auto (default), generic, amplitude, segment, mixpanel, ga4", &dialect},
      {"format", 0, CLI_STRING, "F", "input format: auto (default), jsonl, csv", &format},
      {"key", 'k', CLI_STRING, "KEY", "key file (default: the file named by $DOPPEL_KEY_FILE)", &key_path},
      {"max-record", 0, CLI_SIZE, "SIZE", "longest record accepted (default 64M)", &max_record},
      {"output", 'o', CLI_STRING, "OUT", "output file, '-' for stdout (required)", &output},
      {"policy", 'p', CLI_STRING, "POLICY", "policy file (JSON); default: the built-in policy", &policy_path},
      {"quiet", 'q', CLI_FLAG, NULL, "no summary on stderr", &quiet},
      {"strict", 0, CLI_FLAG, NULL, "stop at the first malformed record (exit 1)", &strict},
  };
  const cli_command *cmd = cli_command_get("pseudonymize");
  char **pos;
  size_t n_pos;
  int rc = cli_parse(cmd, opts, sizeof opts / sizeof opts[0], argc, argv, &pos, &n_pos);
  if (rc) {
    free(pos);
    return rc < 0 ? 0 : rc;
  }
  doppel_pseudo_options o;
  memset(&o, 0, sizeof o);
  doppel_policy *policy = NULL;
  doppel_key *key = NULL;
  doppel_diag d;
  doppel_diag_clear(&d);
  rc = 0;
  if (n_pos == 0) {
    cli_error("missing input (a file, or '-' for stdin)");
    rc = 2;
    goto done;
  }
  if (!output) {
    cli_error("missing -o OUT (use '-o -' for stdout)");
    rc = 2;
    goto done;
  }
  o.dialect = DOPPEL_DIALECT_AUTO;
  if (dialect && strcmp(dialect, "auto") != 0) {
    o.dialect = doppel_dialect_parse(dialect);
    if (o.dialect == DOPPEL_DIALECT_COUNT || o.dialect == DOPPEL_DIALECT_AUTO) {
      cli_error("--dialect: unknown dialect '%s' (expected auto, generic, amplitude, segment, mixpanel, ga4)", dialect);
      rc = 2;
      goto done;
    }
  }
  if (format && strcmp(format, "auto") != 0) {
    if (!strcmp(format, "jsonl") || !strcmp(format, "json")) o.format = DOPPEL_FORMAT_JSONL;
    else if (!strcmp(format, "csv")) o.format = DOPPEL_FORMAT_CSV;
    else {
      cli_error("--format: unknown format '%s' (expected auto, jsonl, csv)", format);
      rc = 2;
      goto done;
    }
  }
  if (doppel_key_load(&key, key_path, &d) != DOPPEL_OK) {
    rc = cli_diag_error(&d);
    goto done;
  }
  if (policy_path && doppel_policy_load(&policy, policy_path, &d) != DOPPEL_OK) {
    rc = cli_diag_error(&d);
    goto done;
  }
  o.inputs = (const char *const *)pos;
  o.n_inputs = n_pos;
  o.output = output;
  o.key = key;
  o.policy = policy;
  o.max_record = max_record;
  o.strict = strict;
  o.progress = cli_progress;
  doppel_pseudo_summary sum;
  doppel_status st = doppel_pseudonymize(&o, &sum, &d);
  cli_progress_done();
  if (st != DOPPEL_OK) {
    rc = cli_diag_error(&d);
    goto done;
  }
  if (!quiet) print_summary(&sum, output);
done:
  doppel_policy_free(policy);
  doppel_key_free(key);
  free(pos);
  return rc;
}
