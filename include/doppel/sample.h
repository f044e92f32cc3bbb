/*
 * doppel/sample.h — user-consistent and reservoir sampling of event files.
 *
 * Modes:
 *   users rate: a user is kept iff u < rate * 2^64, where u is the first 8
 *     bytes (big-endian) of the keyed digest (domain "sample") of its
 *     canonical id: the user id, or the device id when there is no user id.
 *     The same key and rate keep the same users in every file, day and shard,
 *     so a distributed job can call doppel_sample_user_hash() and
 *     doppel_sample_rate_keeps() per record and agree with this one.
 *     Records with neither id are excluded (counted as "no user id").
 *   users n: exactly the n users with the smallest u (all users when fewer),
 *     in two passes over the inputs (stdin is spilled to a temporary file in
 *     $TMPDIR or /tmp, removed at the end).
 *   events n: a uniform reservoir sample (Algorithm R) of n records, written
 *     in input order; its randomness is a PCG64 seeded from the keyed digest
 *     of "reservoir" (domain "sample"). Stratified: one reservoir of
 *     per_stratum records per event name (at most DOPPEL_SAMPLE_MAX_STRATA).
 * Filters (--from/--to on the canonical event time, half-open [from, to);
 * --where event=NAME, any of) apply before sampling. Records written are
 * pseudonymized with the policy (default policy when NULL) unless raw.
 * Output keeps the input's format (CSV: header once) and is atomic.
 *
 * Memory: the reader's buffers, the pseudonymizer's caches, a hash set of
 * the distinct users seen (O(distinct users): the exact "users seen/kept"
 * counts), for users-n a heap of n hashes, for events-n the held records.
 *
 * Determinism: same inputs, key and options give the same bytes.
 * Ownership: options borrow their pointers; the summary is caller-owned.
 * Errors: DOPPEL_E_USAGE for bad options (message names the option),
 * DOPPEL_E_LIMIT for too many strata, I/O and data errors as in
 * doppel_pseudonymize (malformed records skipped, fatal with strict).
 * Thread safety: doppel_sample() keeps no global state; the helpers are
 * pure functions (the keyed hasher is used by one thread at a time).
 */
#ifndef DOPPEL_SAMPLE_H
#define DOPPEL_SAMPLE_H

#include <doppel/event.h>
#include <doppel/io.h>
#include <doppel/keyed.h>
#include <doppel/pseudo.h>
#include <doppel/status.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define DOPPEL_SAMPLE_DOMAIN "sample"
#define DOPPEL_SAMPLE_MAX_STRATA 100000
#define DOPPEL_SAMPLE_MAX_WHERE 64

typedef enum doppel_sample_mode {
  DOPPEL_SAMPLE_NONE = 0,
  DOPPEL_SAMPLE_USERS_RATE,   /* keep users with u < rate * 2^64 */
  DOPPEL_SAMPLE_USERS_N,      /* keep the n users with the smallest u */
  DOPPEL_SAMPLE_EVENTS_N      /* reservoir of n events (or n per event name) */
} doppel_sample_mode;

/* u: the first 8 bytes (big-endian) of the keyed digest of id[0..len).
 * k must be a doppel_keyed for domain DOPPEL_SAMPLE_DOMAIN. Returns
 * UINT64_MAX (a user no rate below 1 keeps) when the digest fails (out of
 * memory); callers that must tell that apart use doppel_keyed_digest(). */
uint64_t doppel_sample_user_hash(doppel_keyed *k, const void *id, size_t len);
/* 1 iff u < rate * 2^64, exactly (rate >= 1 keeps all, rate <= 0 or NaN none). */
int doppel_sample_rate_keeps(uint64_t u, double rate);

typedef struct doppel_sample_options {
  const char *const *inputs;   /* paths, "-" = stdin (at most once) */
  size_t n_inputs;
  const char *output;          /* path, "-" = stdout */
  const doppel_key *key;       /* borrowed */
  doppel_sample_mode mode;
  double rate;                 /* USERS_RATE: in [0, 1] */
  uint64_t n;                  /* USERS_N, EVENTS_N (unstratified): >= 1 */
  int stratify_event;          /* EVENTS_N: one reservoir per event name */
  uint64_t per_stratum;        /* EVENTS_N stratified: >= 1 */
  int has_from, has_to;        /* time filter [from_us, to_us) */
  int64_t from_us, to_us;
  const char *const *where_events; /* event names, any of (NULL/0 = no filter) */
  size_t n_where;
  const doppel_policy *policy; /* NULL = default policy (ignored when raw) */
  int raw;                     /* 1 = write records unchanged */
  doppel_dialect dialect;      /* AUTO = detect */
  doppel_format format;        /* AUTO = detect */
  size_t max_record;           /* 0 = default */
  int strict;
  doppel_progress_fn progress; /* may be NULL */
  void *progress_ctx;
} doppel_sample_options;

#define DOPPEL_SAMPLE_MAX_BAD_LINES DOPPEL_PSEUDO_MAX_BAD_LINES

typedef struct doppel_sample_summary {
  uint64_t records_in;        /* data records read (one pass) */
  uint64_t records_out;       /* records written */
  uint64_t bytes_in;
  uint64_t malformed;
  uint64_t bad_lines[DOPPEL_SAMPLE_MAX_BAD_LINES];
  char bad_sources[DOPPEL_SAMPLE_MAX_BAD_LINES][64];
  char bad_reasons[DOPPEL_SAMPLE_MAX_BAD_LINES][96];
  size_t n_bad;
  uint64_t filtered_out;      /* removed by --from/--to/--where (incl. no time under a time filter) */
  uint64_t no_time;           /* of those: no event time while a time filter was given */
  uint64_t no_user;           /* records with neither user nor device id */
  uint64_t eligible;          /* records that passed the filters */
  uint64_t users_seen;        /* distinct users among eligible records */
  uint64_t users_kept;        /* distinct users among written records */
  uint64_t strata;            /* EVENTS_N stratified: event names seen */
  double expected_share;      /* USERS_RATE: the rate */
  double expected_error;      /* USERS_RATE: sqrt(p(1-p)/users_seen) */
  doppel_dialect dialect;
  char dialect_evidence[200];
  doppel_format format;
  char key_id[DOPPEL_KEY_ID_HEX + 1];
  size_t n_counters;          /* values treated (0 when raw) */
  doppel_pseudo_counter counters[DOPPEL_PSEUDO_MAX_COUNTERS];
} doppel_sample_summary;

/* The whole `doppel sample` job (see the top of this header). */
doppel_status doppel_sample(const doppel_sample_options *opt, doppel_sample_summary *sum,
                            doppel_diag *diag);

#ifdef __cplusplus
}
#endif
#endif
