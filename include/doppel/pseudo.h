/*
 * doppel/pseudo.h — policies and the pseudonymizer: rewrite event records so
 * that personal data is replaced by keyed pseudonyms (or dropped,
 * generalized, scrubbed), keeping the record's exact shape otherwise.
 *
 * Policy file (JSON, "format": "doppel-policy/1"): ordered rules; the first
 * rule whose path glob matches a value's dotted path decides its treatment.
 * Paths not matched by any rule get the default treatment (unless
 * "defaults": false): the dialect's identifier fields are hashed; values
 * whose field name or validated content shows a direct identifier are
 * hashed; other strings are scrubbed of embedded personal data. See the
 * README ("Policy files") for the full format.
 *
 * Rewriting is exact: untouched bytes are copied verbatim (JSON key order,
 * escapes, number literals; CSV quoting), so only treated values change.
 *
 * Determinism: same input, key and policy give the same bytes, in any
 * process and any split of the input into files or shards.
 *
 * Ownership: objects returned through **out belong to the caller and are
 * released with the matching _free (NULL is a no-op). The key passed to a
 * pseudonymizer is borrowed and must outlive it.
 * Thread safety: a policy is immutable once loaded and may be shared; a
 * pseudonymizer is used by one thread at a time.
 */
#ifndef DOPPEL_PSEUDO_H
#define DOPPEL_PSEUDO_H

#include <doppel/event.h>
#include <doppel/io.h>
#include <doppel/keyed.h>
#include <doppel/status.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum doppel_action {
  DOPPEL_ACTION_KEEP = 0,    /* leave the value as it is */
  DOPPEL_ACTION_HASH,        /* replace by a keyed pseudonym */
  DOPPEL_ACTION_DROP,        /* remove the member (CSV: empty the field) */
  DOPPEL_ACTION_GENERALIZE,  /* IP prefix, time truncation, numeric bucket, prefix, rounding */
  DOPPEL_ACTION_SCRUB        /* replace personal data found inside text */
} doppel_action;

typedef enum doppel_encoding {
  DOPPEL_ENCODING_AUTO = 0,  /* by the value's kind: e-mail, phone and IP keep their shape, else hex */
  DOPPEL_ENCODING_HEX,
  DOPPEL_ENCODING_UUID,
  DOPPEL_ENCODING_EMAIL,
  DOPPEL_ENCODING_PHONE,
  DOPPEL_ENCODING_IP
} doppel_encoding;

typedef struct doppel_policy doppel_policy;

/* Parse a policy document. source names it in messages. Errors:
 * DOPPEL_E_POLICY naming the rule ("rule 3 (path 'x'): unknown action 'hsh'"),
 * DOPPEL_E_IO for unreadable files, DOPPEL_E_NOMEM when out of memory. The
 * first call installs jansson allocation functions (json_set_alloc_funcs)
 * that forward to the ones installed before and let a failed allocation be
 * detected (jansson does not report them all); install your own, if any,
 * before it. */
doppel_status doppel_policy_parse(doppel_policy **out, const char *json, size_t len,
                                  const char *source, doppel_diag *diag);
doppel_status doppel_policy_load(doppel_policy **out, const char *path, doppel_diag *diag);
/* Number of explicit rules. */
size_t doppel_policy_rule_count(const doppel_policy *p);
void doppel_policy_free(doppel_policy *p);

/* Glob match of a dotted path: '*' matches any run of characters inside one
 * segment, '**' any number of whole segments. Exposed for tests. */
int doppel_path_match(const char *glob, const char *path, size_t path_len);

typedef struct doppel_pseudonymizer doppel_pseudonymizer;

/* policy NULL = the default policy. dialect must be a concrete dialect (not
 * AUTO): it names the identifier fields. */
doppel_status doppel_pseudonymizer_new(doppel_pseudonymizer **out, const doppel_key *key,
                                       const doppel_policy *policy, doppel_dialect dialect,
                                       doppel_diag *diag);
void doppel_pseudonymizer_free(doppel_pseudonymizer *p);

/* Rewrite one JSON record. *out points to the rewritten bytes (the input
 * itself when nothing changed), valid until the next call. Errors:
 * DOPPEL_E_JSON / DOPPEL_E_UTF8 / DOPPEL_E_LIMIT with diag->column. */
doppel_status doppel_pseudonymizer_json(doppel_pseudonymizer *p, const char *rec, size_t len,
                                        const char **out, size_t *out_len, doppel_diag *diag);

/* CSV: give the header row first (column names are the paths), then rows. */
doppel_status doppel_pseudonymizer_csv_header(doppel_pseudonymizer *p, const char *rec,
                                              size_t len, char delim, doppel_diag *diag);
doppel_status doppel_pseudonymizer_csv_row(doppel_pseudonymizer *p, const char *rec, size_t len,
                                           const char **out, size_t *out_len, doppel_diag *diag);

#define DOPPEL_PSEUDO_MAX_COUNTERS 64
#define DOPPEL_PSEUDO_MAX_BAD_LINES 10

/* One line of the "values treated" summary. */
typedef struct doppel_pseudo_counter {
  char label[160];     /* e.g. "rule 2 properties.*email* hash" or "default user_id hash" */
  uint64_t values;     /* values treated */
} doppel_pseudo_counter;

typedef struct doppel_pseudo_summary {
  uint64_t records_in;              /* records read (header rows excluded) */
  uint64_t records_out;             /* records written */
  uint64_t bytes_in;                /* input bytes (compressed bytes for gzip) */
  uint64_t malformed;               /* records skipped as malformed */
  uint64_t bad_lines[DOPPEL_PSEUDO_MAX_BAD_LINES]; /* first malformed line numbers */
  char bad_sources[DOPPEL_PSEUDO_MAX_BAD_LINES][64]; /* their file names (truncated) */
  char bad_reasons[DOPPEL_PSEUDO_MAX_BAD_LINES][96]; /* their error texts (never values) */
  size_t n_bad;                     /* entries used in bad_lines */
  doppel_dialect dialect;           /* dialect used */
  char dialect_evidence[200];       /* detection evidence or "forced by --dialect" */
  doppel_format format;             /* input format */
  char key_id[DOPPEL_KEY_ID_HEX + 1]; /* key id of the key used */
  size_t n_counters;                /* entries used in counters */
  doppel_pseudo_counter counters[DOPPEL_PSEUDO_MAX_COUNTERS];
} doppel_pseudo_summary;

/* Progress callback: called every few MB of input; may be NULL. */
typedef void (*doppel_progress_fn)(void *ctx, uint64_t records, uint64_t bytes);

typedef struct doppel_pseudo_options {
  const char *const *inputs;   /* paths, "-" = stdin */
  size_t n_inputs;             /* at least 1 */
  const char *output;          /* path, "-" = stdout */
  const doppel_key *key;       /* borrowed */
  const doppel_policy *policy; /* NULL = default policy */
  doppel_dialect dialect;      /* AUTO = detect from the first records */
  doppel_format format;        /* AUTO = detect per input */
  size_t max_record;           /* 0 = DOPPEL_MAX_RECORD_DEFAULT */
  int strict;                  /* 1 = the first malformed record is fatal */
  doppel_progress_fn progress; /* may be NULL */
  void *progress_ctx;
} doppel_pseudo_options;

/* The whole `doppel pseudonymize` job: read every input, rewrite, write the
 * output atomically (nothing is left under the output name on failure).
 * Malformed records are counted and skipped (fatal with strict). All
 * inputs must have the same format (and CSV inputs the same header). */
doppel_status doppel_pseudonymize(const doppel_pseudo_options *opt, doppel_pseudo_summary *sum,
                                  doppel_diag *diag);

#ifdef __cplusplus
}
#endif
#endif
