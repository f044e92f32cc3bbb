/*
 * support.c — CLI plumbing shared by every verb: the option-table parser and
 * help generator, message helpers with a fixed "doppel <verb>: " prefix, the
 * terminal progress line, and signal-time cleanup of temporary outputs:
 * SIGINT, SIGTERM, SIGHUP and SIGPIPE (unless ignored when doppel started)
 * remove the named temporaries still open, then end the process by the same
 * signal. Unnamed (O_TMPFILE) temporaries need no cleanup at all.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static const char *cur_verb = NULL;

void cli_set_verb(const char *verb) { cur_verb = verb; }

__attribute__((format(printf, 2, 0)))
static void vmsg(const char *kind, const char *fmt, va_list ap) {
  if (cur_verb) fprintf(stderr, "doppel %s: ", cur_verb);
  else fprintf(stderr, "doppel: ");
  if (kind) fprintf(stderr, "%s: ", kind);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
}

void cli_error(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vmsg("error", fmt, ap);
  va_end(ap);
}

void cli_warn(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vmsg("warning", fmt, ap);
  va_end(ap);
}

void cli_info(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vmsg(NULL, fmt, ap);
  va_end(ap);
}

int cli_diag_error(const doppel_diag *d) {
  char buf[DOPPEL_DIAG_SOURCE_MAX + DOPPEL_DIAG_TEXT_MAX + 64];
  cli_progress_done();
  cli_error("%s", doppel_diag_format(d, buf, sizeof buf));
  int code = doppel_status_exit_code(d->status);
  return code ? code : 1;
}

const char *cli_thousands(uint64_t v, char *buf, size_t size) {
  char tmp[32];
  int n = snprintf(tmp, sizeof tmp, "%llu", (unsigned long long)v);
  size_t o = 0;
  for (int i = 0; i < n && o + 1 < size; i++) {
    if (i && (n - i) % 3 == 0 && o + 2 < size) buf[o++] = ',';
    buf[o++] = tmp[i];
  }
  buf[o] = '\0';
  return buf;
}

static int progress_shown = 0;

void cli_progress(void *ctx, uint64_t records, uint64_t bytes) {
  (void)ctx;
  if (!isatty(STDERR_FILENO)) return;
  char r[32];
  fprintf(stderr, "\rdoppel %s: %s records, %.1f MB read", cur_verb ? cur_verb : "",
          cli_thousands(records, r, sizeof r), (double)bytes / 1e6);
  progress_shown = 1;
}

void cli_progress_done(void) {
  if (progress_shown) {
    fprintf(stderr, "\r\033[K");
    progress_shown = 0;
  }
}

static void on_signal(int sig) {
  doppel_output_remove_temporaries();
  signal(sig, SIG_DFL);
  raise(sig);
}

void cli_install_signal_handlers(void) {
  static const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGPIPE};
  struct sigaction sa, old;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
    /* a signal ignored by whoever started us (nohup, a background job's
     * SIGINT) stays ignored */
    if (sigaction(sigs[i], NULL, &old) == 0 && old.sa_handler == SIG_IGN) continue;
    sigaction(sigs[i], &sa, NULL);
  }
}

/* ---- options ---- */

void cli_print_help(const cli_command *cmd, const cli_option *opts, size_t n_opts) {
  printf("usage: %s\n\n%s\n\noptions:\n", cmd->usage, cmd->description);
  for (size_t i = 0; i < n_opts; i++) {
    char left[64];
    if (opts[i].short_name)
      snprintf(left, sizeof left, "-%c, --%s%s%s", opts[i].short_name, opts[i].name,
               opts[i].arg ? " " : "", opts[i].arg ? opts[i].arg : "");
    else
      snprintf(left, sizeof left, "    --%s%s%s", opts[i].name, opts[i].arg ? " " : "",
               opts[i].arg ? opts[i].arg : "");
    printf("  %-28s %s\n", left, opts[i].help);
  }
  printf("  %-28s %s\n", "-h, --help", "show this help");
  printf("\nexit codes: 0 ok, 1 data or I/O error, 2 usage error\n");
}

static int parse_size(const char *s, size_t *out) {
  char *end;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 10);
  if (end == s || errno || s[0] == '-') return -1;
  unsigned long long mul = 1;
  if (*end == 'K' || *end == 'k') mul = 1ULL << 10, end++;
  else if (*end == 'M' || *end == 'm') mul = 1ULL << 20, end++;
  else if (*end == 'G' || *end == 'g') mul = 1ULL << 30, end++;
  if (*end == 'i' || *end == 'B') end++;
  if (*end == 'B') end++;
  if (*end || v == 0 || v > (unsigned long long)SIZE_MAX / mul) return -1;
  *out = (size_t)(v * mul);
  return 0;
}

static int set_value(const cli_option *o, const char *v) {
  switch (o->kind) {
    case CLI_FLAG: *(int *)o->target = 1; return 0;
    case CLI_STRING: *(const char **)o->target = v; return 0;
    case CLI_SIZE:
      if (parse_size(v, (size_t *)o->target) != 0) {
        cli_error("--%s: expected a size such as 65536, 64K, 64M or 1G, got '%s'", o->name, v);
        return 2;
      }
      return 0;
    case CLI_LIST: {
      cli_list *l = o->target;
      if (l->n >= CLI_LIST_MAX) {
        cli_error("--%s: given more than %d times", o->name, CLI_LIST_MAX);
        return 2;
      }
      l->items[l->n++] = v;
      return 0;
    }
  }
  return 2;
}

int cli_parse(const cli_command *cmd, const cli_option *opts, size_t n_opts, int argc, char **argv,
              char ***pos, size_t *n_pos) {
  *pos = calloc((size_t)argc + 1, sizeof **pos);
  *n_pos = 0;
  if (!*pos) {
    cli_error("out of memory");
    return 1; /* a resource error, not a usage error */
  }
  int only_pos = 0;
  for (int i = 1; i < argc; i++) {
    char *a = argv[i];
    if (only_pos || a[0] != '-' || !strcmp(a, "-")) {
      (*pos)[(*n_pos)++] = a;
      continue;
    }
    if (!strcmp(a, "--")) {
      only_pos = 1;
      continue;
    }
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      cli_print_help(cmd, opts, n_opts);
      return -1;
    }
    const cli_option *o = NULL;
    const char *val = NULL;
    if (a[1] == '-') {
      const char *name = a + 2;
      const char *eq = strchr(name, '=');
      size_t nl = eq ? (size_t)(eq - name) : strlen(name);
      for (size_t k = 0; k < n_opts; k++)
        if (strlen(opts[k].name) == nl && !strncmp(opts[k].name, name, nl)) o = &opts[k];
      if (!o) {
        cli_error("unknown option '--%.*s' (see 'doppel %s --help')", (int)nl, name, cmd->name);
        return 2;
      }
      if (eq) {
        if (o->kind == CLI_FLAG) {
          cli_error("option '--%s' takes no value", o->name);
          return 2;
        }
        val = eq + 1;
      }
    } else {
      for (size_t k = 0; k < n_opts; k++)
        if (opts[k].short_name == a[1]) o = &opts[k];
      if (!o || a[2]) {
        cli_error("unknown option '%s' (see 'doppel %s --help')", a, cmd->name);
        return 2;
      }
    }
    if (o->kind != CLI_FLAG && !val) {
      if (i + 1 >= argc) {
        cli_error("option '--%s' needs a value (%s)", o->name, o->arg);
        return 2;
      }
      val = argv[++i];
    }
    int rc = set_value(o, val);
    if (rc) return rc;
  }
  return 0;
}

void cli_print_not_profiled(const doppel_profile_summary *s) {
  char a[32], b[32], c[32];
  if (s->no_user || s->no_event || s->no_time)
    fprintf(stderr, "  not profiled: %s without a user or device id, %s without an event name, %s without a time\n",
            cli_thousands(s->no_user, a, sizeof a), cli_thousands(s->no_event, b, sizeof b),
            cli_thousands(s->no_time, c, sizeof c));
  for (size_t i = 0; i < s->n_bad; i++)
    fprintf(stderr, "  skipped %s:%llu: %s\n", s->bad_sources[i], (unsigned long long)s->bad_lines[i],
            s->bad_reasons[i]);
  if (s->malformed > s->n_bad)
    fprintf(stderr, "  ... and %llu more malformed records\n", (unsigned long long)(s->malformed - s->n_bad));
}
