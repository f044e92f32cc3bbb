/*
 * doppel/synth.h — synthetic event data from a profile.
 *
 * A synthesizer is compiled from a profile document (a learned profile, or
 * a small hand-written one: every section has defaults, see the README).
 * It generates users one by one, each from its own PCG streams: user u of
 * seed s always gets the same identifiers, schedule, sessions, events and
 * property values, whatever else is generated, so
 *   - the same profile, seed and options give byte-identical output,
 *   - `--shard i/N` (users [i*U/N, (i+1)*U/N)) outputs concatenated equal
 *     the unsharded output exactly (user order) or as a multiset (time
 *     order).
 * The model (README "The synthesis model"): users arrive over the window
 * following the profile's new-users curve; a user's number of sessions
 * comes from the sessions-per-user distribution, its sessions' lengths and
 * its active days from the users with a similar number of sessions
 * (sessions.by_user_sessions); active days after the first follow the
 * retention curve; sessions start by hour of week; a session's events are
 * a Markov chain bridged to the session's length (first event, next-event
 * transitions including the session end), with gaps from the inter-event
 * distribution; properties come from their per-event distributions, kept
 * constant per user or per session in the shares the profile measured;
 * identifiers have the original shapes but are synthetic (reserved e-mail
 * domains, hosts and address ranges) and unique per user.
 *
 * Privacy: a synthesizer only ever emits what the profile holds (values
 * held by at least k users) or values it makes up; it never reads data.
 *
 * Ownership: objects returned through **out belong to the caller (free
 * with the matching _free; NULL is a no-op); json_t arguments are borrowed.
 * Thread safety: a compiled synthesizer is immutable and may be shared by
 * threads; each generation call keeps its own state.
 */
#ifndef DOPPEL_SYNTH_H
#define DOPPEL_SYNTH_H

#include <doppel/event.h>
#include <doppel/io.h>
#include <doppel/status.h>
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum doppel_synth_format {
  DOPPEL_SYNTH_JSONL = 0,   /* JSON Lines in the chosen dialect */
  DOPPEL_SYNTH_CSV,         /* CSV with a header, properties flattened to columns */
  DOPPEL_SYNTH_SQL          /* PostgreSQL: CREATE TABLE + COPY ... FROM STDIN */
} doppel_synth_format;

typedef enum doppel_synth_order {
  DOPPEL_SYNTH_ORDER_USER = 0, /* user by user, each user's events in time order */
  DOPPEL_SYNTH_ORDER_TIME      /* one stream in time order (per-user state in memory) */
} doppel_synth_order;

typedef struct doppel_synth doppel_synth;

/* Compile a profile document. DOPPEL_E_DATA with a message naming the
 * offending key ("events.list[3].name: expected a non-empty string"),
 * DOPPEL_E_NOMEM. Compiling includes short pilot runs (fixed seed) that
 * calibrate event eligibility and constancy: deterministic, independent of
 * the generation seed. */
doppel_status doppel_synth_new(doppel_synth **out, const json_t *profile, doppel_diag *diag);

typedef struct doppel_synth_compile_options {
  uint32_t pilot_users;        /* users per pilot run; 0 = the profile's users, 500..4000 */
} doppel_synth_compile_options;

/* The same with options (opt may be NULL). Fewer pilot users compile
 * faster and calibrate less precisely. */
doppel_status doppel_synth_new_with(doppel_synth **out, const json_t *profile,
                                    const doppel_synth_compile_options *opt, doppel_diag *diag);
void doppel_synth_free(doppel_synth *s);

/* Users and events the profile describes (its own population), and the
 * mean events per user of the model: for --events N. */
uint64_t doppel_synth_profile_users(const doppel_synth *s);
double doppel_synth_mean_events_per_user(const doppel_synth *s);

typedef struct doppel_synth_options {
  uint64_t users;              /* users to generate; 0 = the profile's user count */
  uint64_t events;             /* instead of users: about this many events (users = events / mean) */
  int64_t start_us;            /* first day (UTC midnight); 0 = the profile's first day */
  uint32_t days;               /* window length in days; 0 = the profile's span */
  uint64_t seed;               /* 0 is a valid seed */
  uint32_t shard, shards;      /* shard i of N (0-based i); shards 0 or 1 = all */
  doppel_synth_order order;
  doppel_synth_format format;
  doppel_dialect dialect;      /* output dialect: GENERIC, AMPLITUDE, SEGMENT, MIXPANEL (AUTO = profile's) */
  const char *table;           /* SQL table name; NULL = "events" */
} doppel_synth_options;

typedef struct doppel_synth_summary {
  uint64_t users;              /* users generated (this shard) */
  uint64_t events;             /* events written */
  uint64_t sessions;           /* sessions */
  uint64_t bytes;              /* bytes written */
  uint64_t user_first, user_end; /* user index range [first, end) of this shard */
  int64_t first_us, last_us;   /* time span of the events */
  doppel_dialect dialect;      /* output dialect */
} doppel_synth_summary;

/* Generate into an open output (see io.h); does not commit it. Errors:
 * DOPPEL_E_USAGE for bad options (message names the option), write
 * errors from the output. */
doppel_status doppel_synth_write(const doppel_synth *s, const doppel_synth_options *opt,
                                 doppel_output *out, doppel_synth_summary *sum, doppel_diag *diag);

/* The whole `doppel synth` job: read and compile the profile, generate,
 * write OUT atomically ("-" = stdout). */
doppel_status doppel_synth_file(const char *profile_path, const char *output,
                                const doppel_synth_options *opt, doppel_synth_summary *sum,
                                doppel_diag *diag);

#ifdef __cplusplus
}
#endif
#endif
