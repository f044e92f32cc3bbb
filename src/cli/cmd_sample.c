/*
 * cmd_sample.c — `doppel sample`: parse options into doppel_sample_options
 * (one of --users RATE, --users-n N, --events-n N; filters; --raw or
 * --policy), load key and policy, run doppel_sample(), print the summary on
 * stderr (always with a loud warning under --raw).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* "10%", "0.1", "1" → [0, 1]; -1 on error. */
static int parse_rate(const char *s, double *out) {
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (end == s || errno) return -1;
  if (*end == '%') {
    v /= 100.0;
    end++;
  }
  if (*end || !isfinite(v) || v < 0.0 || v > 1.0) return -1;
  *out = v;
  return 0;
}

/* A positive decimal count; -1 on error. */
static int parse_count(const char *s, uint64_t *out) {
  char *end;
  errno = 0;
  if (!s[0] || s[0] == '-' || s[0] == '+') return -1;
  unsigned long long v = strtoull(s, &end, 10);
  if (end == s || *end || errno || v == 0) return -1;
  *out = v;
  return 0;
}

static void print_summary(const doppel_sample_options *o, const doppel_sample_summary *s,
                          const char *output, const char *policy_path) {
  char a[32], b[32], c[32];
  cli_info("%s records in, %s out, %s malformed skipped; key id %s",
           cli_thousands(s->records_in, a, sizeof a), cli_thousands(s->records_out, b, sizeof b),
           cli_thousands(s->malformed, c, sizeof c), s->key_id);
  switch (o->mode) {
    case DOPPEL_SAMPLE_USERS_RATE:
      fprintf(stderr, "  mode: users at rate %g (%.4g%%), user-consistent keyed hash (domain \"sample\")\n",
              o->rate, o->rate * 100.0);
      break;
    case DOPPEL_SAMPLE_USERS_N:
      fprintf(stderr, "  mode: the %s users with the smallest keyed hashes (two passes)\n",
              cli_thousands(o->n, a, sizeof a));
      break;
    default:
      if (o->stratify_event)
        fprintf(stderr, "  mode: reservoir of %s events per event name (%s event names)\n",
                cli_thousands(o->per_stratum, a, sizeof a), cli_thousands(s->strata, b, sizeof b));
      else
        fprintf(stderr, "  mode: reservoir of %s events, seeded from the key\n",
                cli_thousands(o->n, a, sizeof a));
  }
  double share = s->users_seen ? (double)s->users_kept / (double)s->users_seen : 0.0;
  fprintf(stderr, "  users: %s seen, %s kept (%.2f%%)\n", cli_thousands(s->users_seen, a, sizeof a),
          cli_thousands(s->users_kept, b, sizeof b), share * 100.0);
  if (o->mode == DOPPEL_SAMPLE_USERS_RATE)
    fprintf(stderr, "  expected share %.2f%%, expected error \xc2\xb1%.2f%% (binomial standard error)\n",
            s->expected_share * 100.0, s->expected_error * 100.0);
  if (s->no_user)
    fprintf(stderr, "  no user id: %s records%s\n", cli_thousands(s->no_user, a, sizeof a),
            o->mode == DOPPEL_SAMPLE_EVENTS_N ? "" : " (excluded)");
  if (o->has_from || o->has_to || o->n_where) {
    fprintf(stderr, "  filters:");
    char t[32];
    if (o->has_from) {
      doppel_time_format(o->from_us, t);
      fprintf(stderr, " from %s", t);
    }
    if (o->has_to) {
      doppel_time_format(o->to_us, t);
      fprintf(stderr, " to %s (exclusive)", t);
    }
    for (size_t i = 0; i < o->n_where; i++)
      fprintf(stderr, "%sevent=%s", i ? " or " : " ", o->where_events[i]);
    fprintf(stderr, "; %s records filtered out", cli_thousands(s->filtered_out, a, sizeof a));
    if (s->no_time) fprintf(stderr, " (%s without a time)", cli_thousands(s->no_time, b, sizeof b));
    fprintf(stderr, "\n");
  }
  fprintf(stderr, "  input: %s, dialect %s (%s)\n",
          s->format == DOPPEL_FORMAT_CSV ? "CSV" : "JSON Lines", doppel_dialect_name(s->dialect),
          s->dialect_evidence);
  fprintf(stderr, "  output: %s (%s)\n", strcmp(output, "-") ? output : "<stdout>",
          o->raw ? "raw, not pseudonymized" : policy_path ? "pseudonymized with the policy" : "pseudonymized with the default policy");
  if (!o->raw) {
    if (s->n_counters) {
      fprintf(stderr, "  values treated:\n");
      for (size_t i = 0; i < s->n_counters; i++)
        fprintf(stderr, "    %-56s %12s\n", s->counters[i].label,
                cli_thousands(s->counters[i].values, a, sizeof a));
    } else {
      fprintf(stderr, "  values treated: none\n");
    }
  }
  fprintf(stderr, "  memory: the users seen/kept counts hold one 8-byte hash per distinct user\n");
  for (size_t i = 0; i < s->n_bad; i++)
    fprintf(stderr, "  skipped %s:%llu: %s\n", s->bad_sources[i], (unsigned long long)s->bad_lines[i],
            s->bad_reasons[i]);
  if (s->malformed > s->n_bad)
    fprintf(stderr, "  ... and %llu more malformed records\n",
            (unsigned long long)(s->malformed - s->n_bad));
}

int cmd_sample(int argc, char **argv) {
  const char *output = NULL, *key_path = NULL, *policy_path = NULL, *dialect = NULL, *format = NULL;
  const char *users = NULL, *users_n = NULL, *events_n = NULL, *stratify = NULL, *per_stratum = NULL;
  const char *from = NULL, *to = NULL;
  cli_list where;
  memset(&where, 0, sizeof where);
  size_t max_record = 0;
  int strict = 0, quiet = 0, raw = 0;
  const cli_option opts[] = {
      {"dialect", 0, CLI_STRING, "D", "auto (default), generic, amplitude, segment, mixpanel, ga4", &dialect},
      {"events-n", 0, CLI_STRING, "N", "a uniform reservoir sample of N events", &events_n},
      {"format", 0, CLI_STRING, "F", "input format: auto (default), jsonl, csv", &format},
      {"from", 0, CLI_STRING, "TIME", "keep events at or after TIME (ISO 8601 or epoch)", &from},
      {"key", 'k', CLI_STRING, "KEY", "key file (default: the file named by $DOPPEL_KEY_FILE)", &key_path},
      {"max-record", 0, CLI_SIZE, "SIZE", "longest record accepted (default 64M)", &max_record},
      {"output", 'o', CLI_STRING, "OUT", "output file, '-' for stdout (required)", &output},
      {"per-stratum", 0, CLI_STRING, "N", "with --stratify: events per stratum (default: --events-n)", &per_stratum},
      {"policy", 'p', CLI_STRING, "POLICY", "policy file (JSON); default: the built-in policy", &policy_path},
      {"quiet", 'q', CLI_FLAG, NULL, "no summary on stderr", &quiet},
      {"raw", 0, CLI_FLAG, NULL, "write records unchanged (raw personal data!)", &raw},
      {"stratify", 0, CLI_STRING, "event", "one reservoir per event name", &stratify},
      {"strict", 0, CLI_FLAG, NULL, "stop at the first malformed record (exit 1)", &strict},
      {"to", 0, CLI_STRING, "TIME", "keep events before TIME (exclusive)", &to},
      {"users", 0, CLI_STRING, "RATE", "keep this share of users: 10% or 0.1", &users},
      {"users-n", 0, CLI_STRING, "N", "keep exactly N users (all when fewer)", &users_n},
      {"where", 0, CLI_LIST, "event=NAME", "keep only this event name (repeatable: any of)", &where},
  };
  const cli_command *cmd = cli_command_get("sample");
  char **pos;
  size_t n_pos;
  int rc = cli_parse(cmd, opts, sizeof opts / sizeof opts[0], argc, argv, &pos, &n_pos);
  if (rc) {
    free(pos);
    return rc < 0 ? 0 : rc;
  }
  doppel_sample_options o;
  memset(&o, 0, sizeof o);
  const char *where_names[CLI_LIST_MAX];
  doppel_policy *policy = NULL;
  doppel_key *key = NULL;
  doppel_diag d;
  doppel_diag_clear(&d);
  rc = 2;
  if (n_pos == 0) {
    cli_error("missing input (a file, or '-' for stdin)");
    goto done;
  }
  if (!output) {
    cli_error("missing -o OUT (use '-o -' for stdout)");
    goto done;
  }
  int n_modes = (users != NULL) + (users_n != NULL) + (events_n != NULL);
  if (n_modes == 0 && stratify && per_stratum) n_modes = 1; /* --stratify event --per-stratum N */
  if (n_modes == 0) {
    cli_error("missing sampling mode: give one of --users RATE, --users-n N or --events-n N");
    goto done;
  }
  if (n_modes > 1) {
    cli_error("give only one of --users RATE, --users-n N or --events-n N");
    goto done;
  }
  if (users) {
    o.mode = DOPPEL_SAMPLE_USERS_RATE;
    if (parse_rate(users, &o.rate) != 0) {
      cli_error("--users: expected a rate from 0 to 1 such as 10%% or 0.1, got '%s'", users);
      goto done;
    }
  } else if (users_n) {
    o.mode = DOPPEL_SAMPLE_USERS_N;
    if (parse_count(users_n, &o.n) != 0) {
      cli_error("--users-n: expected a positive count, got '%s'", users_n);
      goto done;
    }
  } else {
    o.mode = DOPPEL_SAMPLE_EVENTS_N;
    if (events_n && parse_count(events_n, &o.n) != 0) {
      cli_error("--events-n: expected a positive count, got '%s'", events_n);
      goto done;
    }
  }
  if (stratify) {
    if (strcmp(stratify, "event") != 0) {
      cli_error("--stratify: unknown stratum '%s' (expected event)", stratify);
      goto done;
    }
    if (o.mode != DOPPEL_SAMPLE_EVENTS_N) {
      cli_error("--stratify event works with --events-n only");
      goto done;
    }
    o.stratify_event = 1;
    o.per_stratum = o.n;
    if (per_stratum && parse_count(per_stratum, &o.per_stratum) != 0) {
      cli_error("--per-stratum: expected a positive count, got '%s'", per_stratum);
      goto done;
    }
  } else if (per_stratum) {
    cli_error("--per-stratum needs --stratify event");
    goto done;
  }
  if (raw && policy_path) {
    cli_error("--raw and --policy exclude each other (--raw writes records unchanged)");
    goto done;
  }
  if (from) {
    if (doppel_time_parse(from, strlen(from), &o.from_us, NULL, &d) != DOPPEL_OK) {
      cli_error("--from: invalid time '%s': %s", from, d.text);
      goto done;
    }
    o.has_from = 1;
  }
  if (to) {
    if (doppel_time_parse(to, strlen(to), &o.to_us, NULL, &d) != DOPPEL_OK) {
      cli_error("--to: invalid time '%s': %s", to, d.text);
      goto done;
    }
    o.has_to = 1;
  }
  if (o.has_from && o.has_to && o.from_us >= o.to_us) {
    cli_error("--from must be before --to (the range [from, to) is empty)");
    goto done;
  }
  for (size_t i = 0; i < where.n; i++) {
    if (strncmp(where.items[i], "event=", 6) != 0 || !where.items[i][6]) {
      cli_error("--where: expected event=NAME, got '%s'", where.items[i]);
      goto done;
    }
    where_names[i] = where.items[i] + 6;
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
  o.raw = raw;
  o.where_events = where_names;
  o.n_where = where.n;
  o.max_record = max_record;
  o.strict = strict;
  o.progress = cli_progress;
  doppel_sample_summary *sum = malloc(sizeof *sum);
  if (!sum) {
    cli_error("out of memory");
    rc = 1;
    goto done;
  }
  doppel_status st = doppel_sample(&o, sum, &d);
  cli_progress_done();
  if (st != DOPPEL_OK) {
    rc = cli_diag_error(&d);
    free(sum);
    goto done;
  }
  rc = 0;
  if (!quiet) print_summary(&o, sum, output, policy_path);
  if (raw) cli_warn("--raw: the output holds raw personal data");
  free(sum);
done:
  doppel_policy_free(policy);
  doppel_key_free(key);
  free(pos);
  return rc;
}
