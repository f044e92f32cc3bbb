/*
 * cmd_synth.c — `doppel synth`: parse options into doppel_synth_options,
 * run doppel_synth_file(), print the summary on stderr.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

static int parse_u64(const char *s, uint64_t *out) {
  char *end;
  errno = 0;
  if (!s[0] || s[0] == '-' || s[0] == '+') return -1;
  unsigned long long v = strtoull(s, &end, 10);
  if (end == s || errno) return -1;
  /* 10k, 2M suffixes */
  if (*end == 'k' || *end == 'K') v *= 1000, end++;
  else if (*end == 'm' || *end == 'M') v *= 1000000, end++;
  else if (*end == 'g' || *end == 'G') v *= 1000000000, end++;
  if (*end) return -1;
  *out = v;
  return 0;
}

int cmd_synth(int argc, char **argv) {
  const char *output = NULL, *users = NULL, *events = NULL, *start = NULL, *days = NULL, *seed = NULL;
  const char *shard = NULL, *order = NULL, *format = NULL, *dialect = NULL, *table = NULL;
  int quiet = 0;
  const cli_option opts[] = {
      {"days", 0, CLI_STRING, "D", "window length in days (default: the profile's span)", &days},
      {"dialect", 0, CLI_STRING, "D", "JSONL layout: generic, amplitude, segment, mixpanel (default: the profile's)", &dialect},
      {"events", 0, CLI_STRING, "N", "about N events (users = N / mean events per user)", &events},
      {"format", 0, CLI_STRING, "F", "jsonl (default), csv, sql (CREATE TABLE + COPY for psql)", &format},
      {"order", 0, CLI_STRING, "O", "user (default: user by user) or time (one time-ordered stream)", &order},
      {"output", 'o', CLI_STRING, "OUT", "output file, '-' for stdout (required)", &output},
      {"quiet", 'q', CLI_FLAG, NULL, "no summary on stderr", &quiet},
      {"seed", 0, CLI_STRING, "S", "random seed (default 0): same seed, same bytes", &seed},
      {"shard", 0, CLI_STRING, "i/N", "generate shard i of N (0-based): users [i*U/N, (i+1)*U/N)", &shard},
      {"start", 0, CLI_STRING, "DATE", "first day of the window (default: the profile's first day)", &start},
      {"table", 0, CLI_STRING, "NAME", "SQL table name (default events)", &table},
      {"users", 0, CLI_STRING, "N", "users to generate (default: the profile's user count)", &users},
  };
  const cli_command *cmd = cli_command_get("synth");
  char **pos;
  size_t n_pos;
  int rc = cli_parse(cmd, opts, sizeof opts / sizeof opts[0], argc, argv, &pos, &n_pos);
  if (rc) {
    free(pos);
    return rc < 0 ? 0 : rc;
  }
  rc = 2;
  doppel_synth_options o;
  memset(&o, 0, sizeof o);
  doppel_diag d;
  doppel_diag_clear(&d);
  uint64_t v;
  if (n_pos != 1) {
    cli_error(n_pos ? "give one profile (got %zu arguments)" : "missing PROFILE (a profile JSON file)", n_pos);
    goto done;
  }
  if (!output) {
    cli_error("missing -o OUT (use '-o -' for stdout)");
    goto done;
  }
  if (users && events) {
    cli_error("give only one of --users N and --events N");
    goto done;
  }
  if (users && (parse_u64(users, &o.users) || !o.users)) {
    cli_error("--users: expected a positive count such as 1000 or 10k, got '%s'", users);
    goto done;
  }
  if (events && (parse_u64(events, &o.events) || !o.events)) {
    cli_error("--events: expected a positive count such as 100000 or 1M, got '%s'", events);
    goto done;
  }
  if (days) {
    if (parse_u64(days, &v) || v < 1 || v > 40000) {
      cli_error("--days: expected a number of days from 1 to 40000, got '%s'", days);
      goto done;
    }
    o.days = (uint32_t)v;
  }
  if (start && doppel_time_parse(start, strlen(start), &o.start_us, NULL, &d) != DOPPEL_OK) {
    cli_error("--start: invalid date '%s': %s", start, d.text);
    goto done;
  }
  if (seed && parse_u64(seed, &o.seed)) {
    cli_error("--seed: expected a non-negative integer, got '%s'", seed);
    goto done;
  }
  if (shard) {
    unsigned i, n;
    char tail;
    if (sscanf(shard, "%u/%u%c", &i, &n, &tail) != 2 || n == 0 || i >= n) {
      cli_error("--shard: expected i/N with 0 <= i < N, such as 0/4, got '%s'", shard);
      goto done;
    }
    o.shard = i;
    o.shards = n;
  }
  if (order) {
    if (!strcmp(order, "user")) o.order = DOPPEL_SYNTH_ORDER_USER;
    else if (!strcmp(order, "time")) o.order = DOPPEL_SYNTH_ORDER_TIME;
    else {
      cli_error("--order: expected user or time, got '%s'", order);
      goto done;
    }
  }
  if (format) {
    if (!strcmp(format, "jsonl") || !strcmp(format, "json")) o.format = DOPPEL_SYNTH_JSONL;
    else if (!strcmp(format, "csv")) o.format = DOPPEL_SYNTH_CSV;
    else if (!strcmp(format, "sql")) o.format = DOPPEL_SYNTH_SQL;
    else {
      cli_error("--format: expected jsonl, csv or sql, got '%s'", format);
      goto done;
    }
  } else if (strlen(output) > 4 && !strcmp(output + strlen(output) - 4, ".csv")) {
    o.format = DOPPEL_SYNTH_CSV;
  } else if (strlen(output) > 4 && !strcmp(output + strlen(output) - 4, ".sql")) {
    o.format = DOPPEL_SYNTH_SQL;
  }
  o.dialect = DOPPEL_DIALECT_AUTO;
  if (dialect) {
    o.dialect = doppel_dialect_parse(dialect);
    if (o.dialect == DOPPEL_DIALECT_COUNT || o.dialect == DOPPEL_DIALECT_GA4) {
      cli_error("--dialect: expected generic, amplitude, segment or mixpanel, got '%s'", dialect);
      goto done;
    }
    if (o.format != DOPPEL_SYNTH_JSONL && o.dialect != DOPPEL_DIALECT_AUTO && o.dialect != DOPPEL_DIALECT_GENERIC) {
      cli_error("--dialect applies to --format jsonl only");
      goto done;
    }
  }
  o.table = table;
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  doppel_synth_summary sum;
  if (doppel_synth_file(pos[0], output, &o, &sum, &d) != DOPPEL_OK) {
    rc = cli_diag_error(&d);
    goto done;
  }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  rc = 0;
  if (!quiet) {
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    char a[32], b[32], c[32], e[32], t_first[32], t_last[32];
    doppel_time_format(sum.first_us, t_first);
    doppel_time_format(sum.last_us, t_last);
    cli_info("%s users, %s sessions, %s events (%s bytes) in %.2f s", cli_thousands(sum.users, a, sizeof a),
             cli_thousands(sum.sessions, b, sizeof b), cli_thousands(sum.events, c, sizeof c),
             cli_thousands(sum.bytes, e, sizeof e), secs);
    fprintf(stderr, "  profile: %s; seed %llu; users %llu..%llu%s\n", pos[0], (unsigned long long)o.seed,
            (unsigned long long)sum.user_first, (unsigned long long)(sum.user_end ? sum.user_end - 1 : 0),
            o.shards > 1 ? " (this shard)" : "");
    fprintf(stderr, "  output: %s (%s%s%s), events from %.10s to %.10s\n", strcmp(output, "-") ? output : "<stdout>",
            o.format == DOPPEL_SYNTH_CSV ? "CSV" : o.format == DOPPEL_SYNTH_SQL ? "SQL" : "JSON Lines",
            o.format == DOPPEL_SYNTH_JSONL ? ", " : "", o.format == DOPPEL_SYNTH_JSONL ? doppel_dialect_name(sum.dialect) : "",
            t_first, t_last);
    if (secs > 0)
      fprintf(stderr, "  %.0f events/s, %.1f MB/s\n", (double)sum.events / secs, (double)sum.bytes / 1e6 / secs);
  }
done:
  free(pos);
  return rc;
}
