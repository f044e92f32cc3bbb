/*
 * doppel/profile.h — the profiler: one streaming pass over event records
 * that learns a privacy-safe profile (docs/profile-format.md): population,
 * identifier shapes, event catalog with transitions and session paths,
 * sessions, time (hour of week, per-day counts, retention), properties per
 * event, the privacy ledger and data-quality warnings.
 *
 * Two ways in:
 *   - doppel_profile() is the whole `doppel profile` job: read inputs
 *     (JSONL/CSV, gzip, stdin), write a profile or a partial state file
 *     atomically.
 *   - doppel_profiler_* is the embeddable object under it: feed parsed
 *     records one by one, then take the profile (or state) as a jansson
 *     document; doppel_profiler_merge_state() merges partial states.
 *
 * Sequence statistics (sessions, transitions, gaps, paths) assume each
 * user's events arrive in time order, as vendor exports are; an event older
 * than its user's latest one is counted (OUT_OF_ORDER warning) and placed at
 * that latest time for sequencing (its own time still counts for hour of
 * week, days and retention).
 *
 * Memory: sketches and bounded tables (event names up to
 * DOPPEL_PROFILE_MAX_NAMES, property paths up to DOPPEL_PROFILE_MAX_PATHS,
 * heavy-hitter tables of fixed capacity) plus per-user state for at most
 * max_users users (about 200 bytes each; more users are sampled by hash).
 *
 * Determinism: the same records in the same order with the same options
 * and key give a byte-identical profile (dumped with doppel_profile_dump).
 * Merging states is commutative and associative: any order or grouping of
 * the same states gives the same result. Counts merge exactly; heavy-hitter
 * tables exactly while under capacity, else within their stated error.
 *
 * Ownership: objects returned through **out belong to the caller and are
 * freed with the matching _free (NULL is a no-op); json_t results are new
 * references; json_t and string arguments are borrowed.
 * Thread safety: a profiler is used by one thread at a time; separate
 * profilers are independent.
 */
#ifndef DOPPEL_PROFILE_H
#define DOPPEL_PROFILE_H

#include <doppel/event.h>
#include <doppel/io.h>
#include <doppel/keyed.h>
#include <doppel/pseudo.h>
#include <doppel/status.h>
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define DOPPEL_PROFILE_FORMAT "doppel-profile/1"
#define DOPPEL_PROFILE_STATE_FORMAT "doppel-profile-state/1"
#define DOPPEL_PROFILE_K_DEFAULT 10
#define DOPPEL_PROFILE_K_MAX 1000
#define DOPPEL_PROFILE_GAP_DEFAULT_US (INT64_C(30) * 60 * 1000000)
#define DOPPEL_PROFILE_MAX_USERS_DEFAULT 1000000
#define DOPPEL_PROFILE_MAX_USERS_MIN 1000
#define DOPPEL_PROFILE_MAX_NAMES 10000
#define DOPPEL_PROFILE_MAX_PATHS 4096
#define DOPPEL_PROFILE_CONST_USERS 20000

typedef struct doppel_profile_params {
  uint32_t k;                 /* k-anonymity threshold (>= 2); 0 = default 10 */
  int64_t session_gap_us;     /* inactivity that ends a session; 0 = default 30 min */
  uint64_t max_users;         /* per-user state bound (>= 1000); 0 = default 1,000,000 */
  const doppel_key *key;      /* borrowed, may be NULL: user hashes keyed when given */
  int64_t now_us;             /* reference time for TIME_FUTURE; 0 = the current time */
} doppel_profile_params;

typedef struct doppel_profiler doppel_profiler;

/* New profiler for records of one dialect (a concrete dialect, not AUTO).
 * DOPPEL_E_USAGE for bad parameters (message names the parameter). */
doppel_status doppel_profiler_new(doppel_profiler **out, const doppel_profile_params *params,
                                  doppel_dialect dialect, doppel_format format,
                                  doppel_diag *diag);
void doppel_profiler_free(doppel_profiler *p);

/* Input bookkeeping for the source section: a new input file begins
 * (display name; the base name is recorded) / its tallies. */
doppel_status doppel_profiler_begin_file(doppel_profiler *p, const char *name, doppel_diag *diag);
void doppel_profiler_end_file(doppel_profiler *p, uint64_t records, uint64_t bytes);
/* Detection evidence text for the source section (copied). */
void doppel_profiler_set_evidence(doppel_profiler *p, const char *evidence);
/* A malformed record (counted by kind; position kept, never content). */
void doppel_profiler_malformed(doppel_profiler *p, const char *source, uint64_t line,
                               const char *kind);

/* Add one JSON record (bytes of one JSON Lines line). Returns DOPPEL_OK
 * when the record was profiled or skipped for a reason that is counted
 * (no user, event or time); a data error (invalid JSON, wrong field types,
 * unparsable time: DOPPEL_E_JSON/UTF8/DATA/TIME/LIMIT) leaves the profile
 * unchanged and fills diag (column set) for the caller to count; other
 * errors (DOPPEL_E_NOMEM) are fatal. */
doppel_status doppel_profiler_add_json(doppel_profiler *p, const char *rec, size_t len,
                                       doppel_diag *diag);
/* CSV: the header row first (column names are the field paths), then rows. */
doppel_status doppel_profiler_csv_header(doppel_profiler *p, const char *rec, size_t len,
                                         doppel_diag *diag);
doppel_status doppel_profiler_add_csv(doppel_profiler *p, const char *rec, size_t len,
                                      doppel_diag *diag);

/* The finalized profile (a new reference). Finalizing closes every
 * session: afterwards the profiler takes no records and has no state. */
doppel_status doppel_profiler_profile(doppel_profiler *p, json_t **out, doppel_diag *diag);
/* The mergeable partial state (a new reference). */
doppel_status doppel_profiler_state(doppel_profiler *p, json_t **out, doppel_diag *diag);

/* Load a state document into a new profiler (DOPPEL_E_DATA with a message
 * for anything malformed), and merge the state of src into dst (parameters
 * k, session gap and max users must agree: DOPPEL_E_USAGE otherwise). */
doppel_status doppel_profiler_from_state(doppel_profiler **out, const json_t *state,
                                         doppel_diag *diag);
doppel_status doppel_profiler_merge(doppel_profiler *dst, const doppel_profiler *src,
                                    doppel_diag *diag);

/* Serialize a profile or state deterministically (sorted as built, 2-space
 * indent for profiles, compact for states) into a malloc'd string. */
char *doppel_profile_dump(const json_t *doc, int compact);

#define DOPPEL_PROFILE_MAX_BAD_LINES 10

typedef struct doppel_profile_summary {
  uint64_t records_in;      /* data records read */
  uint64_t events;          /* records profiled */
  uint64_t bytes_in;
  uint64_t malformed;
  uint64_t no_user, no_event, no_time;
  uint64_t bad_lines[DOPPEL_PROFILE_MAX_BAD_LINES];
  char bad_sources[DOPPEL_PROFILE_MAX_BAD_LINES][64];
  char bad_reasons[DOPPEL_PROFILE_MAX_BAD_LINES][96];
  size_t n_bad;
  uint64_t users;           /* distinct users (exact or estimated) */
  uint64_t event_names;     /* event names listed in the profile */
  uint64_t suppressed_names;/* event names held by fewer than k users */
  uint64_t properties;      /* property entries listed */
  uint64_t warnings;        /* warnings raised */
  uint64_t sessions;        /* sessions (sampled users) */
  double user_sample_rate;  /* 1 unless more than max_users users */
  doppel_dialect dialect;
  char dialect_evidence[200];
  doppel_format format;
  char key_id[DOPPEL_KEY_ID_HEX + 1]; /* "" without a key */
  int wrote_state;          /* 1 when a state (not a profile) was written */
} doppel_profile_summary;

typedef struct doppel_profile_options {
  const char *const *inputs;   /* paths, "-" = stdin */
  size_t n_inputs;
  const char *output;          /* profile path, "-" = stdout (NULL when only state_out) */
  const char *state_out;       /* state path or NULL */
  doppel_profile_params params;
  doppel_dialect dialect;      /* AUTO = detect */
  doppel_format format;        /* AUTO = detect */
  size_t max_record;           /* 0 = default */
  int strict;
  doppel_progress_fn progress; /* may be NULL */
  void *progress_ctx;
} doppel_profile_options;

/* The whole `doppel profile` job. */
doppel_status doppel_profile(const doppel_profile_options *opt, doppel_profile_summary *sum,
                             doppel_diag *diag);

/* Profile the inputs of opt (output and state_out are ignored) into a new
 * profile document *profile, for callers that use it in memory (compare). */
doppel_status doppel_profile_to_json(const doppel_profile_options *opt, json_t **profile,
                                     doppel_profile_summary *sum, doppel_diag *diag);

typedef struct doppel_merge_options {
  const char *const *states;   /* state files (plain or gzip) */
  size_t n_states;             /* >= 1 */
  const char *output;          /* profile path, "-" = stdout, or NULL */
  const char *state_out;       /* merged state path or NULL */
} doppel_merge_options;

/* The whole `doppel merge` job; the summary's record counts are the merged
 * totals. */
doppel_status doppel_profile_merge(const doppel_merge_options *opt, doppel_profile_summary *sum,
                                   doppel_diag *diag);

#ifdef __cplusplus
}
#endif
#endif
