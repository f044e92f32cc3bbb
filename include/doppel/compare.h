/*
 * doppel/compare.h — the fidelity and privacy scorecard between two event
 * datasets or profiles (`doppel compare A B`).
 *
 * Fidelity. Both inputs are read as profiles (docs/profile-format.md); a
 * dataset is profiled in memory first (doppel_profile_to_json(), same k and
 * dialect). Eleven dimensions are scored, each by a distance d in [0, 1]
 * and its score 1 − d:
 *
 *   event_mix           TVD of the event-name shares (count / total; the
 *                       events of names suppressed under k form one more
 *                       category "$other"; a name listed on one side only
 *                       counts fully)
 *   events_per_user     KS of population.events_per_user
 *   sessions_per_user   KS of population.sessions_per_user
 *   events_per_session  KS of sessions.events_per_session
 *   inter_event_gaps    KS of sessions.inter_event_s
 *   transitions         Σ_e w_e · TVD(next_A(e), next_B(e)) / Σ_e w_e over
 *                       the events e listed in A, w_e = A's count of e, over
 *                       the next-event shares including "$end" and "$other";
 *                       an event missing from B has TVD 1
 *   session_first_event TVD of session_first_share (the remainder
 *                       1 − Σ shares is the category "$other")
 *   hour_of_week        TVD of the 168 time.hour_of_week shares
 *   retention           max |share_A − share_B| over day 1, 7, 30 and week
 *                       1, 4 of time.retention, where both sides have users
 *   property_marginals  plain mean over the (event, path) entries of
 *                       `properties` present in both of: the TVD of the top
 *                       value shares plus "other" when either side lists top
 *                       values, else the KS of the numeric DISTs, else the
 *                       KS of the string-length DISTs
 *   constancy           plain mean over the property paths of those
 *                       entries of |constancy.user_A − constancy.user_B|
 *                       (both non-null; profiles compute constancy per path
 *                       over all events, so each path counts once)
 *
 * TVD(p, q) = ½ Σ_i |p_i − q_i| over the union of categories, each side
 * normalized to sum 1. KS(A, B) = sup_x |F_A(x) − F_B(x)| where F is read
 * from the DIST's 101 percentiles q[0..100]: F(q[i]) = i/100 at the last
 * index i of each run of equal percentiles (a run is an atom: F jumps there),
 * linear between distinct consecutive percentiles, 0 below q[0], 1 from
 * q[100]; the sup is taken over every breakpoint of both sides, as F(x)
 * and as the left limit F(x−). When both DISTs are "integer", F is a step
 * function of whole numbers (F(x) = F(floor x)): it is read at every
 * breakpoint and at the whole number just before it, never in between.
 * Resolution: the percentiles fix an atom's mass to 0.01, and the at most
 * 0.01 of mass between two neighbouring percentiles is spread linearly.
 *
 * Noise floor. Each dimension reports the expected distance of two
 * independent samples of A's and B's sizes from one distribution, and its
 * score ("the best score these sample sizes allow"):
 *   - random groups (when A, else B, is a dataset with enough users): the
 *     dataset's users are split into G disjoint groups by a hash of the user
 *     id, each group is profiled, and with d_ij the distance between groups
 *     i and j (u_i users), c = mean_ij d_ij / sqrt(1/u_i + 1/u_j); the floor
 *     distance is c · sqrt(1/u_A + 1/u_B). Users are the sampling unit, so
 *     the clustering of events within users is accounted for.
 *   - analytic (profiles only): TVD: ½ Σ_i min(sqrt(2/π) σ_i, 2 p_i) with
 *     σ_i² = p_i (1 − p_i)(1/n_A + 1/n_B) and p = A's shares (normal
 *     approximation of E|p̂_A − p̂_B|). KS, retention and the means are
 *     simulated deterministically (PCG64, fixed seed): the difference of two
 *     empirical CDFs as Brownian bridges scaled by 1/sqrt(n), read at A's
 *     percentile levels, with atoms quantized to 0.01 as the measurement is
 *     (for a continuous DIST this is E[KS] ≈ sqrt(π/2) ln 2 sqrt(1/n_A +
 *     1/n_B) read on the 101-point grid). The analytic floor assumes
 *     independent events; real data, whose events cluster by user, usually
 *     scores below it.
 *
 * Overall score: the plain mean of the scores of the dimensions available
 * on both sides (each dimension is one analysis a PM runs; an absolute
 * score means the same whatever the sample sizes, so a gate such as
 * --min-score 0.95 is stable; the overall floor, the mean of the same
 * dimensions' floor scores, tells what is reachable). A dimension passes
 * when its distance is at most its tolerance (defaults below, the fidelity
 * bar of `doppel synth`).
 *
 * Privacy (doppel_compare() with A and B datasets): one streaming pass over
 * A collects 64-bit unkeyed hashes (doppel_sketch_hash64) of
 *   - identifier values: the dialect's user and device id fields, fields
 *     whose name is a direct identifier (doppel_pii_classify_name) and
 *     string values that are one (doppel_pii_classify_value), each with the
 *     number of distinct users holding it (exact up to k); values held by k
 *     or more users ("-", "unknown") identify nobody and are not counted;
 *   - every other string value with its distinct users up to k, except
 *     numbers written as strings (synthetic numbers meet real ones by
 *     chance; a number counts only in an identifier field);
 *   - each user's event-name sequence in input order (users with >= 5
 *     events), with the number of users having it;
 * then a pass over B counts the distinct identifier values of A (held by
 * fewer than k A users) found in any string of B, or in a number of an
 * identifier field of B; the distinct other values held by fewer than k A
 * users found in a string of B (field paths and counts only, never
 * values); and the B users with >= 5 events whose whole event sequence
 * equals an A user's (share of those B users, and how many match a
 * sequence of fewer than k A users). As a chance level it reports the
 * share of A's own users whose sequence another A user has too: with few
 * event names, equal sequences are common without any copying. The
 * event-name and time fields are not scanned. Memory: about 56 bytes per
 * distinct value of A plus 8 bytes per further distinct user of a value
 * (up to k − 1), about 40 bytes per user of A (freed after A) and of B,
 * 24 bytes per distinct sequence of A; nothing is bounded by a sketch, so
 * this is O(distinct values of A + users). Two 64-bit hashes collide with
 * odds about n_A n_B / 2^64 (5·10⁻⁶ for 10⁷ values on each side).
 *
 * Reports are jansson documents ("format": "doppel-compare/1", the shape is
 * in the README) holding distances, counts, event names and property paths
 * as listed in the profiles (held by at least k users), never a value.
 *
 * Determinism: the same inputs and options give the same report, byte for
 * byte (the simulations use fixed seeds). Ownership: json_t results and
 * strings returned are new and belong to the caller (json_decref / free);
 * json_t and string arguments are borrowed. Errors: doppel_status with the
 * diag filled; the library never prints. Thread safety: the only shared
 * state is a read-only bank of simulated Brownian bridges, drawn once per
 * process under call_once(); calls on distinct arguments may run
 * concurrently.
 */
#ifndef DOPPEL_COMPARE_H
#define DOPPEL_COMPARE_H

#include <doppel/event.h>
#include <doppel/io.h>
#include <doppel/profile.h> /* doppel_profile_summary */
#include <doppel/pseudo.h> /* doppel_progress_fn */
#include <doppel/status.h>
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define DOPPEL_COMPARE_FORMAT "doppel-compare/1"
#define DOPPEL_COMPARE_GROUPS_DEFAULT 4      /* random groups for the noise floor */
#define DOPPEL_COMPARE_GROUP_MIN_USERS 100   /* fewer users per group: analytic floor */
#define DOPPEL_COMPARE_SEQ_MIN_EVENTS 5      /* sequences shorter than this are not compared */

/* X(ID, key, title, metric, default tolerance on the distance) */
#define DOPPEL_COMPARE_DIM_TABLE(X)                                                        \
  X(EVENT_MIX, "event_mix", "event mix", "TVD", 0.03)                                     \
  X(EVENTS_PER_USER, "events_per_user", "events per user", "KS", 0.05)                    \
  X(SESSIONS_PER_USER, "sessions_per_user", "sessions per user", "KS", 0.05)              \
  X(EVENTS_PER_SESSION, "events_per_session", "events per session", "KS", 0.05)           \
  X(INTER_EVENT_GAPS, "inter_event_gaps", "inter-event gaps", "KS", 0.05)                 \
  X(TRANSITIONS, "transitions", "transitions", "weighted TVD", 0.05)                     \
  X(SESSION_FIRST, "session_first_event", "first event of session", "TVD", 0.03)          \
  X(HOUR_OF_WEEK, "hour_of_week", "hour of week", "TVD", 0.05)                            \
  X(RETENTION, "retention", "retention d1/d7/d30/w1/w4", "max abs diff", 0.03)            \
  X(PROPERTIES, "property_marginals", "property marginals", "mean TVD/KS", 0.05)          \
  X(CONSTANCY, "constancy", "per-user constancy", "mean abs diff", 0.05)

typedef enum doppel_compare_dim {
#define DOPPEL_X_DIM(id, key, title, metric, tol) DOPPEL_COMPARE_##id,
  DOPPEL_COMPARE_DIM_TABLE(DOPPEL_X_DIM)
#undef DOPPEL_X_DIM
  DOPPEL_COMPARE_DIM_COUNT
} doppel_compare_dim;

/* The dimension's JSON key ("event_mix"), title ("event mix") and metric
 * ("TVD"); static strings, NULL for an out-of-range dimension. */
const char *doppel_compare_dim_key(doppel_compare_dim d);
const char *doppel_compare_dim_title(doppel_compare_dim d);
const char *doppel_compare_dim_metric(doppel_compare_dim d);

/* Largest distance that passes, per dimension. */
typedef struct doppel_compare_tolerances {
  double max_distance[DOPPEL_COMPARE_DIM_COUNT]; /* in [0, 1] */
} doppel_compare_tolerances;

/* The defaults of the table above (the `doppel synth` fidelity bar). */
void doppel_compare_tolerances_default(doppel_compare_tolerances *t);

/* Override tolerances from a JSON object {"event_mix": 0.02, ...} (keys are
 * dimension keys; missing keys keep their value in *t). An unknown key or a
 * value that is not a number in [0, 1] is DOPPEL_E_USAGE with a message
 * naming it; *t is then unchanged. */
doppel_status doppel_compare_tolerances_from_json(doppel_compare_tolerances *t, const json_t *obj,
                                                  doppel_diag *diag);

/* Read tolerances from a JSON file holding such an object (DOPPEL_E_IO when
 * it cannot be read, DOPPEL_E_USAGE when it is not valid JSON or not valid
 * tolerances; the message names the file). */
doppel_status doppel_compare_tolerances_load(doppel_compare_tolerances *t, const char *path, doppel_diag *diag);

/* ---- primitives (pure functions; thread-safe; never fail) ---- */

#define DOPPEL_COMPARE_NQ 101 /* percentiles in a DIST */

/* Total variation distance between p[0..n) and q[0..n), non-negative
 * weights each normalized to sum 1 (an all-zero side is the empty
 * distribution: TVD 1 against a non-empty one, 0 against another empty
 * one). */
double doppel_compare_tvd(const double *p, const double *q, size_t n);

/* Kolmogorov–Smirnov distance between two distributions given by their 101
 * percentiles (non-decreasing; see the header comment for the CDF read from
 * them). integer: both are integer-valued (step CDFs at whole numbers). */
double doppel_compare_ks(const double qa[DOPPEL_COMPARE_NQ], const double qb[DOPPEL_COMPARE_NQ],
                         int integer);

/* Expected TVD of two independent multinomial samples of sizes na and nb
 * from p[0..n) (normalized first): ½ Σ min(sqrt(2/π) σ_i, 2 p_i). 0 when
 * na or nb is not positive. */
double doppel_compare_expected_tvd(const double *p, size_t n, double na, double nb);

/* Expected KS of two independent samples of sizes na and nb from the
 * distribution with percentiles q (deterministic simulation, 2,000
 * replicates, see above). 0 when na or nb is not positive. The simulated
 * Brownian bridges (6.4 MB of static storage) are drawn once per process. */
double doppel_compare_expected_ks(const double q[DOPPEL_COMPARE_NQ], double na, double nb);

/* ---- scoring two profiles ---- */

typedef struct doppel_compare_params {
  const doppel_compare_tolerances *tolerances; /* NULL = defaults */
  const json_t *const *groups;  /* optional, borrowed: profiles of disjoint random user groups
                                   of one input (>= 2), for the random-groups noise floor */
  size_t n_groups;              /* 0 = analytic floor */
  const char *groups_of;        /* "a" or "b": whose users the groups split (report only) */
  const char *name_a, *name_b;  /* display names for the report (may be NULL) */
  const char *kind_a, *kind_b;  /* "dataset" or "profile" (may be NULL) */
} doppel_compare_params;

/* Score profile b against profile a (both borrowed "doppel-profile/1"
 * documents; hand-written ones may omit sections: dimensions that cannot be
 * computed are reported with "available": false and leave the overall
 * score). *report is a new "doppel-compare/1" document without a privacy
 * section. DOPPEL_E_DATA when a or b is not a JSON object, DOPPEL_E_NOMEM. */
doppel_status doppel_compare_profiles(const json_t *a, const json_t *b, const doppel_compare_params *params,
                                      json_t **report, doppel_diag *diag);

/* ---- the whole `doppel compare` job ---- */

typedef struct doppel_compare_options {
  const char *a, *b;             /* dataset or profile paths; "-" = stdin for at most one */
  doppel_dialect dialect;        /* datasets: AUTO = detect (each input on its own) */
  doppel_format format;          /* datasets: AUTO = detect */
  uint32_t k;                    /* k for profiling datasets and for rare values; 0 = 10 */
  size_t max_record;             /* 0 = default */
  int64_t now_us;                /* reference time for profiling; 0 = now */
  const doppel_compare_tolerances *tolerances; /* NULL = defaults */
  size_t groups;                 /* random groups for the noise floor; 0 = default 4,
                                    1 = analytic floor only */
  int no_privacy;                /* 1: skip the privacy pass */
  const char *html;              /* optional: write the HTML scorecard here (atomically) */
  doppel_progress_fn progress;   /* may be NULL */
  void *progress_ctx;
  doppel_profile_summary *sum_a; /* optional out (caller's memory): how dataset A was read (records in,
                                    profiled, malformed skipped with the first lines and reasons);
                                    zeroed when A is a profile or the run fails before reading it */
  doppel_profile_summary *sum_b; /* the same for B */
} doppel_compare_options;

/* Read A and B (a JSON document whose "format" is "doppel-profile/1" is a
 * profile, anything else a dataset), profile datasets in memory, build the
 * random-groups floor when a dataset allows it, run the privacy pass when
 * both are datasets, score, write the HTML file when asked, and return the
 * report (*report, new). Errors: DOPPEL_E_USAGE (bad options; message
 * names the option), DOPPEL_E_IO / DOPPEL_E_DATA and the reader's errors
 * with the file name; malformed records are skipped and counted by the
 * profiles (source.skipped). stdin is copied to a temporary file first
 * (removed at the end) because datasets are read twice. */
doppel_status doppel_compare(const doppel_compare_options *opt, json_t **report, doppel_diag *diag);

/* Overall score of a report (NaN when no dimension was available). */
double doppel_compare_report_score(const json_t *report);

/* Render a report as the human-readable scorecard (aligned table, details,
 * privacy section) or as a self-contained HTML page (inline CSS, no
 * scripts, no network, every string escaped). malloc'd, NUL-terminated;
 * NULL when out of memory. */
char *doppel_compare_format_text(const json_t *report);
char *doppel_compare_format_html(const json_t *report);

#ifdef __cplusplus
}
#endif
#endif
