/*
 * cmd_profile.c — `doppel profile` and `doppel merge`: parse options into
 * doppel_profile_options / doppel_merge_options, load the optional key,
 * run the job, print the summary on stderr.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* "30m", "1h", "90s", "2d", "1800" (seconds) → microseconds; -1 on error. */
static int parse_duration(const char *s, int64_t *us) {
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (end == s || errno || !isfinite(v) || v <= 0) return -1;
  double mul = 1;
  if (!strcmp(end, "") || !strcmp(end, "s")) mul = 1;
  else if (!strcmp(end, "m") || !strcmp(end, "min")) mul = 60;
  else if (!strcmp(end, "h")) mul = 3600;
  else if (!strcmp(end, "d")) mul = 86400;
  else return -1;
  double t = v * mul * 1e6;
  if (t > 9e18) return -1;
  *us = (int64_t)llround(t);
  return 0;
}

static int parse_u64(const char *s, uint64_t *out) {
  char *end;
  errno = 0;
  if (!s[0] || s[0] == '-' || s[0] == '+') return -1;
  unsigned long long v = strtoull(s, &end, 10);
  if (end == s || *end || errno) return -1;
  *out = v;
  return 0;
}

static void print_summary(const doppel_profile_summary *s, const char *output, const char *state) {
  char a[32], b[32], c[32], d[32], e[32], g[32];
  cli_info("%s records in, %s profiled, %s malformed skipped%s%s", cli_thousands(s->records_in, a, sizeof a),
           cli_thousands(s->events, b, sizeof b), cli_thousands(s->malformed, c, sizeof c),
           s->key_id[0] ? "; key id " : "", s->key_id);
  cli_print_not_profiled(s);
  fprintf(stderr, "  input: %s, dialect %s (%s)\n", s->format == DOPPEL_FORMAT_CSV ? "CSV" : "JSON Lines",
          doppel_dialect_name(s->dialect), s->dialect_evidence);
  if (output) {
    fprintf(stderr, "  profile: %s: %s users, %s event names listed (%s held by fewer than k users withheld), "
                    "%s properties, %s sessions, %s warnings\n",
            strcmp(output, "-") ? output : "<stdout>", cli_thousands(s->users, a, sizeof a),
            cli_thousands(s->event_names, b, sizeof b), cli_thousands(s->suppressed_names, c, sizeof c),
            cli_thousands(s->properties, d, sizeof d), cli_thousands(s->sessions, e, sizeof e),
            cli_thousands(s->warnings, g, sizeof g));
    if (s->user_sample_rate < 1)
      fprintf(stderr, "  per-user statistics from a keyed-hash sample of %.4g%% of users (--max-users)\n",
              100 * s->user_sample_rate);
  }
  if (state)
    fprintf(stderr, "  state: %s (mode 0600; it holds raw values and per-user records: share only the profile)\n",
            strcmp(state, "-") ? state : "<stdout>");
}

int cmd_profile(int argc, char **argv) {
  const char *output = NULL, *state = NULL, *key_path = NULL, *dialect = NULL, *format = NULL;
  const char *k = NULL, *gap = NULL, *max_users = NULL, *now = NULL;
  size_t max_record = 0;
  int strict = 0, quiet = 0;
  const cli_option opts[] = {
      {"dialect", 0, CLI_STRING, "D", "auto (default), generic, amplitude, segment, mixpanel, ga4", &dialect},
      {"format", 0, CLI_STRING, "F", "input format: auto (default), jsonl, csv", &format},
      {"k", 0, CLI_STRING, "K", "k-anonymity: list only what at least K users have (default 10)", &k},
      {"key", 'k', CLI_STRING, "KEY", "key file: keys the user hashes and records the key id (optional)", &key_path},
      {"max-record", 0, CLI_SIZE, "SIZE", "longest record accepted (default 64M)", &max_record},
      {"max-users", 0, CLI_STRING, "N", "per-user state for at most N users, then a keyed sample (default 1000000)", &max_users},
      {"now", 0, CLI_STRING, "TIME", "reference time for TIME_FUTURE (default: now)", &now},
      {"output", 'o', CLI_STRING, "OUT", "profile file, '-' for stdout", &output},
      {"quiet", 'q', CLI_FLAG, NULL, "no summary on stderr", &quiet},
      {"session-gap", 0, CLI_STRING, "DUR", "inactivity that ends a session: 30m (default), 1h, 90s", &gap},
      {"state-out", 0, CLI_STRING, "STATE", "write the mergeable partial state (for doppel merge)", &state},
      {"strict", 0, CLI_FLAG, NULL, "stop at the first malformed record (exit 1)", &strict},
  };
  const cli_command *cmd = cli_command_get("profile");
  char **pos;
  size_t n_pos;
  int rc = cli_parse(cmd, opts, sizeof opts / sizeof opts[0], argc, argv, &pos, &n_pos);
  if (rc) {
    free(pos);
    return rc < 0 ? 0 : rc;
  }
  doppel_profile_options o;
  memset(&o, 0, sizeof o);
  doppel_key *key = NULL;
  doppel_diag d;
  doppel_diag_clear(&d);
  rc = 2;
  if (n_pos == 0) {
    cli_error("missing input (a file, or '-' for stdin)");
    goto done;
  }
  if (!output && !state) {
    cli_error("missing -o PROFILE (use '-o -' for stdout) or --state-out STATE");
    goto done;
  }
  uint64_t v;
  if (k) {
    if (parse_u64(k, &v) || v < 2 || v > DOPPEL_PROFILE_K_MAX) {
      cli_error("--k: expected a whole number from 2 to %d, got '%s'", DOPPEL_PROFILE_K_MAX, k);
      goto done;
    }
    o.params.k = (uint32_t)v;
  }
  if (gap && (parse_duration(gap, &o.params.session_gap_us) || o.params.session_gap_us < 1000000)) {
    cli_error("--session-gap: expected a duration of at least 1s such as 30m, 1h or 90s, got '%s'", gap);
    goto done;
  }
  if (max_users) {
    if (parse_u64(max_users, &v) || v < DOPPEL_PROFILE_MAX_USERS_MIN || v > 100000000) {
      cli_error("--max-users: expected a whole number from %d to 100000000, got '%s'", DOPPEL_PROFILE_MAX_USERS_MIN,
                max_users);
      goto done;
    }
    o.params.max_users = v;
  }
  if (now && doppel_time_parse(now, strlen(now), &o.params.now_us, NULL, &d) != DOPPEL_OK) {
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
  if (key_path || getenv("DOPPEL_KEY_FILE")) {
    if (doppel_key_load(&key, key_path, &d) != DOPPEL_OK) {
      rc = cli_diag_error(&d);
      goto done;
    }
  }
  o.params.key = key;
  o.inputs = (const char *const *)pos;
  o.n_inputs = n_pos;
  o.output = output;
  o.state_out = state;
  o.max_record = max_record;
  o.strict = strict;
  o.progress = cli_progress;
  doppel_profile_summary sum;
  doppel_status st = doppel_profile(&o, &sum, &d);
  cli_progress_done();
  if (st != DOPPEL_OK) {
    rc = cli_diag_error(&d);
    goto done;
  }
  rc = 0;
  if (!quiet) print_summary(&sum, output, state);
done:
  doppel_key_free(key);
  free(pos);
  return rc;
}

int cmd_merge(int argc, char **argv) {
  const char *output = NULL, *state = NULL;
  int quiet = 0;
  const cli_option opts[] = {
      {"output", 'o', CLI_STRING, "OUT", "profile file, '-' for stdout", &output},
      {"quiet", 'q', CLI_FLAG, NULL, "no summary on stderr", &quiet},
      {"state-out", 0, CLI_STRING, "STATE", "write the merged state instead of (or besides) a profile", &state},
  };
  const cli_command *cmd = cli_command_get("merge");
  char **pos;
  size_t n_pos;
  int rc = cli_parse(cmd, opts, sizeof opts / sizeof opts[0], argc, argv, &pos, &n_pos);
  if (rc) {
    free(pos);
    return rc < 0 ? 0 : rc;
  }
  rc = 2;
  doppel_diag d;
  doppel_diag_clear(&d);
  if (n_pos == 0) {
    cli_error("missing state files (written by doppel profile --state-out)");
    goto done;
  }
  if (!output && !state) {
    cli_error("missing -o PROFILE (use '-o -' for stdout) or --state-out STATE");
    goto done;
  }
  doppel_merge_options o = {(const char *const *)pos, n_pos, output, state};
  doppel_profile_summary sum;
  if (doppel_profile_merge(&o, &sum, &d) != DOPPEL_OK) {
    rc = cli_diag_error(&d);
    goto done;
  }
  rc = 0;
  if (!quiet) print_summary(&sum, output, state);
done:
  free(pos);
  return rc;
}
