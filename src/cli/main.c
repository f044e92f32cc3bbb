/*
 * main.c — the `doppel` entry point: the command table, `doppel help`,
 * `doppel --version`, dispatch to cmd_<verb>.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

const cli_command cli_commands[] = {
    {"keygen", "write a new random 256-bit key file (mode 0600)", "doppel keygen -o KEY",
     "Writes 32 random bytes from the operating system's generator as 64 hexadecimal\n"
     "characters to KEY, with mode 0600. Refuses to overwrite an existing file. Prints\n"
     "the key id (a public fingerprint) so you can record which key was used.",
     cmd_keygen},
    {"pseudonymize", "replace personal data by keyed pseudonyms, keeping the record shape",
     "doppel pseudonymize IN... -o OUT --key KEY [--policy POLICY.json] [options]",
     "Reads JSON Lines or CSV (gzip or plain, '-' for stdin) and writes the same records\n"
     "with personal data treated: by default the dialect's identifier fields and every\n"
     "field whose name or validated value shows a direct identifier (e-mail, phone,\n"
     "name, IP, address, SSN, card, IBAN) are replaced by keyed pseudonyms, and e-mails,\n"
     "phones, IPs, cards and personal URL parameters inside free text are replaced in\n"
     "place. A policy file changes any of that per field. Everything else is copied\n"
     "byte for byte. The same value, key and domain always give the same pseudonym.",
     cmd_pseudonymize},
    {"sample", "draw a user-consistent or reservoir sample, pseudonymized by default",
     "doppel sample IN... -o OUT --key KEY (--users RATE | --users-n N | --events-n N) [options]",
     "Keeps whole users or a uniform sample of events. --users RATE keeps a user iff the\n"
     "keyed hash of its id (user id, else device id) falls below RATE, so the same key\n"
     "and rate keep the same users in every file, day and shard. --users-n N keeps the N\n"
     "users with the smallest hashes (two passes; stdin is spilled to a temporary file).\n"
     "--events-n N keeps a reservoir sample of N events (per event name with --stratify\n"
     "event), reproducible for a key, written in input order. Filters apply first. The\n"
     "output keeps the input's format and is pseudonymized with the default policy\n"
     "(or --policy) unless --raw.",
     cmd_sample},
    {"profile", "learn a privacy-safe profile of event data in one streaming pass",
     "doppel profile IN... -o PROFILE.json [--state-out STATE] [options]",
     "Reads JSON Lines or CSV (gzip or plain, '-' for stdin) and writes a profile: users,\n"
     "events and their transitions and session paths, sessions, time of week, per-day\n"
     "counts, retention, properties per event, a privacy ledger with a proposed treatment\n"
     "per field, and data-quality warnings. The profile holds aggregates only: nothing\n"
     "held by fewer than k users is listed, identifiers are described by shape, and\n"
     "extremes are clipped. --state-out writes a mergeable partial state instead (for\n"
     "doppel merge); a state holds raw values and is written with mode 0600.",
     cmd_profile},
    {"merge", "merge partial profile states from shards into one profile",
     "doppel merge STATE... -o PROFILE.json [--state-out STATE]",
     "Merges states written by 'doppel profile --state-out' (plain or gzip) and writes the\n"
     "finalized profile: counts add up exactly, a user's sessions that span two shards\n"
     "are joined, and sketches merge within their stated error. The result does not\n"
     "depend on the order or grouping of the states.",
     cmd_merge},
    {"synth", "generate realistic synthetic events from a profile, deterministically",
     "doppel synth PROFILE -o OUT [--users N | --events N] [--seed S] [--shard i/N] [options]",
     "Generates synthetic users, sessions, events and properties from a profile (learned\n"
     "by 'doppel profile' or written by hand; see profiles/ for ready ones). Users arrive\n"
     "along the profile's new-users curve, come back along its retention curve, start\n"
     "sessions by hour of week, and move between events with its transition model; their\n"
     "properties follow the profile's distributions and stay constant per user or\n"
     "session as often as in the data. Identifiers are synthetic, with the original\n"
     "shapes. The same profile, seed and options give the same bytes; --shard i/N splits\n"
     "the users so that the shards together are the unsharded output.",
     cmd_synth},
    {"report", "render a profile as a self-contained HTML page or Markdown for review",
     "doppel report PROFILE.json -o REPORT.html [--format html|md]",
     "Reads a profile (plain or gzip, '-' for stdin) and writes a report for reviewers:\n"
     "overview, privacy ledger (class, evidence and proposed treatment of every field),\n"
     "what the k-anonymity rule held back, warnings by severity, event and property\n"
     "catalogs, retention, hour-of-week activity, sessions, transitions and paths. HTML\n"
     "is one self-contained file (inline CSS and SVG charts; no scripts, fonts or\n"
     "network); --format md writes GitHub-flavoured Markdown. The report shows only\n"
     "what is in the profile, and the same profile gives the same bytes.",
     cmd_report},
    {"compare", "fidelity and privacy scorecard of two datasets or profiles",
     "doppel compare A B [--json] [--html FILE] [--min-score X] [options]",
     "A and B are datasets (JSON Lines or CSV, gzip or plain, '-' for stdin) or profiles\n"
     "(\"format\": \"doppel-profile/1\"); datasets are profiled in memory. Scores B\n"
     "against A per dimension (event mix, events and sessions per user, events per\n"
     "session, inter-event gaps, transitions, first event of session, hour of week,\n"
     "retention, property marginals, per-user constancy): the distance (TVD, KS or\n"
     "absolute difference), the score 1 - distance, the noise floor (the expected\n"
     "score of two samples of these sizes from one distribution) and pass/fail\n"
     "against a tolerance; the overall score is the mean of the scores. When both are\n"
     "datasets, a privacy section counts A's identifier values, values held by fewer\n"
     "than k A users, and whole user event sequences found in B (never the values).\n"
     "--min-score X exits 1 when the overall score is below X, for pipeline gates.",
     cmd_compare},
};
const size_t cli_n_commands = sizeof cli_commands / sizeof cli_commands[0];

static void usage(FILE *f) {
  fprintf(f,
          "usage: doppel <command> [options]\n"
          "       doppel help <command>    doppel <command> --help    doppel --version\n\n"
          "commands:\n");
  for (size_t i = 0; i < cli_n_commands; i++)
    fprintf(f, "  %-14s %s\n", cli_commands[i].name, cli_commands[i].summary);
  fprintf(f, "\nexit codes: 0 ok, 1 data or I/O error, 2 usage error\n");
}

const cli_command *cli_command_get(const char *name) {
  for (size_t i = 0; i < cli_n_commands; i++)
    if (strcmp(cli_commands[i].name, name) == 0) return &cli_commands[i];
  return NULL;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    usage(stderr);
    return 2;
  }
  const char *verb = argv[1];
  if (!strcmp(verb, "--version") || !strcmp(verb, "version")) {
    printf("doppel %s\n", doppel_version());
    return 0;
  }
  if (!strcmp(verb, "--help") || !strcmp(verb, "-h")) {
    usage(stdout);
    return 0;
  }
  if (!strcmp(verb, "help")) {
    if (argc < 3) {
      usage(stdout);
      return 0;
    }
    const cli_command *c = cli_command_get(argv[2]);
    if (!c) {
      fprintf(stderr, "doppel: unknown command '%s'\n", argv[2]);
      return 2;
    }
    char *help_argv[] = {argv[2], "--help", NULL};
    return c->run(2, help_argv);
  }
  const cli_command *c = cli_command_get(verb);
  if (!c) {
    fprintf(stderr, "doppel: unknown command '%s' (see 'doppel --help')\n", verb);
    return 2;
  }
  cli_set_verb(c->name);
  cli_install_signal_handlers();
  return c->run(argc - 1, argv + 1);
}
