/*
 * cli/cli.h — the doppel command-line tool: command table, option tables,
 * messages. The CLI only uses the public <doppel/...> API.
 */
#ifndef DOPPEL_CLI_H
#define DOPPEL_CLI_H

#include <stddef.h>
#include <stdint.h>

#include <doppel/doppel.h>

typedef enum cli_opt_kind {
  CLI_FLAG,     /* int, set to 1 */
  CLI_STRING,   /* const char * */
  CLI_SIZE,     /* size_t, with K/M/G suffixes */
  CLI_LIST      /* cli_list: a repeatable string option */
} cli_opt_kind;

#define CLI_LIST_MAX 64

/* Values of a repeatable option, in the order given. */
typedef struct cli_list {
  const char *items[CLI_LIST_MAX];
  size_t n;
} cli_list;

typedef struct cli_option {
  const char *name;      /* long name without "--" */
  char short_name;       /* 0 = none */
  cli_opt_kind kind;     /* value kind */
  const char *arg;       /* argument name for help, NULL for flags */
  const char *help;      /* one line */
  void *target;          /* where the value goes */
} cli_option;

typedef struct cli_command {
  const char *name;                          /* verb */
  const char *summary;                       /* one line for `doppel help` */
  const char *usage;                         /* "doppel verb IN... -o OUT [options]" */
  const char *description;                   /* paragraph for --help */
  int (*run)(int argc, char **argv);         /* cmd_<verb> */
} cli_command;

/* Parse argv[1..] against opts (sorted by name for help). Positional
 * arguments are collected into pos (argv storage). Returns 0, 2 on a usage
 * error (message printed), 1 when out of memory (message printed), or -1
 * when --help was printed (exit 0). */
int cli_parse(const cli_command *cmd, const cli_option *opts, size_t n_opts, int argc, char **argv,
              char ***pos, size_t *n_pos);
void cli_print_help(const cli_command *cmd, const cli_option *opts, size_t n_opts);

/* Messages on stderr, prefixed "doppel <verb>: ". */
void cli_set_verb(const char *verb);
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void cli_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void cli_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Print a library diagnostic as an error; returns its exit code. */
int cli_diag_error(const doppel_diag *d);

/* Progress line on stderr, only when stderr is a terminal. */
void cli_progress(void *ctx, uint64_t records, uint64_t bytes);
void cli_progress_done(void);
/* "1,234,567" */
const char *cli_thousands(uint64_t v, char *buf, size_t size);

/* The records of a dataset that were not profiled, on stderr: the counts
 * without a user, event or time, then each malformed record kept in the
 * summary ("  skipped FILE:LINE: reason") and how many more there were. */
void cli_print_not_profiled(const doppel_profile_summary *s);

/* On SIGINT/SIGTERM/SIGHUP/SIGPIPE (those not ignored at start): remove
 * named temporary outputs, then die by that signal. */
void cli_install_signal_handlers(void);

int cmd_keygen(int argc, char **argv);
int cmd_pseudonymize(int argc, char **argv);
int cmd_sample(int argc, char **argv);
int cmd_profile(int argc, char **argv);
int cmd_merge(int argc, char **argv);
int cmd_synth(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_compare(int argc, char **argv);

/* The command-table entry of a verb (never NULL for a verb in the table). */
const cli_command *cli_command_get(const char *name);

extern const cli_command cli_commands[];
extern const size_t cli_n_commands;

#endif
