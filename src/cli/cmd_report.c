/*
 * cmd_report.c — `doppel report`: parse options (-o, --format, -q) into
 * doppel_report_options, run doppel_report(), print a one-line summary on
 * stderr. The format defaults by the output's extension: .md is Markdown,
 * anything else (and stdout) HTML.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static int ends_with(const char *s, const char *suffix) {
  size_t n = strlen(s), m = strlen(suffix);
  return n >= m && !strcmp(s + n - m, suffix);
}

static const char *base_name(const char *path) {
  const char *slash = strrchr(path, '/');
  return slash ? slash + 1 : path;
}

int cmd_report(int argc, char **argv) {
  const char *output = NULL, *format = NULL;
  int quiet = 0;
  const cli_option opts[] = {
      {"format", 0, CLI_STRING, "F", "html or md (default: md for a .md output, else html)", &format},
      {"output", 'o', CLI_STRING, "OUT", "report file, '-' for stdout (required)", &output},
      {"quiet", 'q', CLI_FLAG, NULL, "no summary on stderr", &quiet},
  };
  const cli_command *cmd = cli_command_get("report");
  char **pos;
  size_t n_pos;
  int rc = cli_parse(cmd, opts, sizeof opts / sizeof opts[0], argc, argv, &pos, &n_pos);
  if (rc) {
    free(pos);
    return rc < 0 ? 0 : rc;
  }
  rc = 2;
  doppel_report_options o;
  memset(&o, 0, sizeof o);
  if (n_pos == 0) {
    cli_error("missing profile (a file written by doppel profile, or '-' for stdin)");
    goto done;
  }
  if (n_pos > 1) {
    cli_error("give one profile (got %zu arguments; merge shards with doppel merge first)", n_pos);
    goto done;
  }
  if (!output) {
    cli_error("missing -o OUT (use '-o -' for stdout)");
    goto done;
  }
  if (format) {
    if (!strcmp(format, "html")) o.format = DOPPEL_REPORT_HTML;
    else if (!strcmp(format, "md") || !strcmp(format, "markdown")) o.format = DOPPEL_REPORT_MARKDOWN;
    else {
      cli_error("--format: unknown format '%s' (expected html or md)", format);
      goto done;
    }
  } else {
    o.format = ends_with(output, ".md") || ends_with(output, ".markdown") ? DOPPEL_REPORT_MARKDOWN
                                                                          : DOPPEL_REPORT_HTML;
  }
  o.profile_name = strcmp(pos[0], "-") ? base_name(pos[0]) : NULL;
  doppel_report_summary sum;
  doppel_diag d;
  doppel_diag_clear(&d);
  if (doppel_report(pos[0], output, &o, &sum, &d) != DOPPEL_OK) {
    rc = cli_diag_error(&d);
    goto done;
  }
  rc = 0;
  if (!quiet) {
    char a[32], b[32], c[32], e[32], g[32];
#define PL(n) ((n) == 1 ? "" : "s")
    cli_info("wrote %s (%s, %s bytes): %s event name%s, %s propert%s, %s ledger field%s (%s direct identifier%s), "
             "%llu error%s, %llu warning%s, %llu note%s",
             strcmp(output, "-") ? output : "<stdout>", sum.format == DOPPEL_REPORT_MARKDOWN ? "Markdown" : "HTML",
             cli_thousands(sum.bytes, a, sizeof a), cli_thousands(sum.events, b, sizeof b), PL(sum.events),
             cli_thousands(sum.properties, c, sizeof c), sum.properties == 1 ? "y" : "ies",
             cli_thousands(sum.fields, e, sizeof e), PL(sum.fields), cli_thousands(sum.direct_identifiers, g, sizeof g),
             PL(sum.direct_identifiers), (unsigned long long)sum.warnings[0], PL(sum.warnings[0]),
             (unsigned long long)sum.warnings[1], PL(sum.warnings[1]), (unsigned long long)sum.warnings[2],
             PL(sum.warnings[2]));
#undef PL
    if (sum.untreated)
      cli_warn("%llu direct or quasi-identifier field%s without a treatment (or with \"keep\"): review the privacy "
               "ledger",
               (unsigned long long)sum.untreated, sum.untreated == 1 ? "" : "s");
  }
done:
  free(pos);
  return rc;
}
