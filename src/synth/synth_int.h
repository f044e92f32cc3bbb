/*
 * synth/synth_int.h — the compiled synthesis model and the pieces shared by
 * model.c (profile → model), gen.c (users, sessions, events, values) and
 * write.c (JSONL dialects, CSV, SQL).
 *
 * Random numbers: every user has three PCG64 streams derived from the seed
 * and the user index (schedule, user-level values, and one per session),
 * and every generated value takes its own small generator seeded from its
 * owner's stream, so changing how many numbers one value consumes never
 * shifts anything else.
 */
#ifndef DP_SYNTH_INT_H
#define DP_SYNTH_INT_H

#include <doppel/rng.h>
#include <doppel/synth.h>

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

/* ---- small generator for one value ---- */

typedef struct dp_vrng {
  uint64_t s;  /* SplitMix64 state */
} dp_vrng;

static inline uint64_t dp_vrng_next(dp_vrng *r) {
  uint64_t z = (r->s += UINT64_C(0x9e3779b97f4a7c15));
  z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
  z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
  return z ^ (z >> 31);
}
static inline double dp_vrng_double(dp_vrng *r) { return (double)(dp_vrng_next(r) >> 11) * 0x1.0p-53; }
static inline uint32_t dp_vrng_below(dp_vrng *r, uint32_t n) {
  return (uint32_t)(((dp_vrng_next(r) >> 32) * (uint64_t)n) >> 32);
}

/* ---- distributions ---- */

enum { DP_D_NONE = 0, DP_D_QUANT, DP_D_GEOM, DP_D_UNIFORM, DP_D_NORMAL, DP_D_CONST, DP_D_LOGNORMAL };

typedef struct dp_dist {
  uint8_t kind;      /* DP_D_* */
  uint8_t integer;   /* round results to integers */
  double q[101];     /* percentiles (QUANT) */
  double a, b;       /* GEOM: mean, min; UNIFORM: lo, hi; NORMAL: mean, sd; CONST: value; LOGNORMAL: median, sigma */
  double mean;       /* mean of the distribution (for sizing) */
} dp_dist;

double dp_dist_sample(const dp_dist *d, double u, dp_vrng *r);
/* Probability mass of [lo, hi] (QUANT, integer values); used to restrict a draw to a bin. */
void dp_dist_urange(const dp_dist *d, double lo, double hi, double *ulo, double *uhi);

/* ---- alias tables (Walker/Vose) ---- */

typedef struct dp_alias {
  uint32_t n;
  uint32_t *alias;   /* n entries */
  uint32_t *thr;     /* acceptance thresholds scaled to 2^32 */
} dp_alias;

/* 0 ok, -1 no mass (the caller may fall back to other weights),
 * DP_ALIAS_NOMEM out of memory (never a reason to fall back) */
#define DP_ALIAS_NOMEM (-2)
int dp_alias_build(dp_alias *a, const double *w, uint32_t n);
void dp_alias_free(dp_alias *a);
static inline uint32_t dp_alias_draw(const dp_alias *a, uint64_t r) {
  uint32_t i = (uint32_t)(((r >> 32) * (uint64_t)a->n) >> 32);
  return (uint32_t)r < a->thr[i] ? i : a->alias[i];
}

/* ---- values ---- */

enum { DP_VT_NULL, DP_VT_BOOL, DP_VT_INT, DP_VT_FLOAT, DP_VT_NUMSTR, DP_VT_STRING, DP_VT_ARRAY, DP_VT_COUNT };

enum { DP_SK_TEXT = 0, DP_SK_EMAIL, DP_SK_NAME, DP_SK_IPV4, DP_SK_IPV6, DP_SK_UUID, DP_SK_HEX,
       DP_SK_HOST, DP_SK_PHONE, DP_SK_INTEGER, DP_SK_TIMESTAMP };

typedef struct dp_vgen {
  dp_alias types;              /* over type_of[] */
  uint8_t type_of[DP_VT_COUNT];
  uint32_t n_types;
  /* categorical values: JSON texts with their type; draw index n_top = "other" */
  uint32_t n_top;
  char **top;                  /* each value: raw bytes for strings, JSON text otherwise */
  uint32_t *top_len;
  uint8_t *top_type;
  dp_alias topsel;             /* n_top + 1 entries (last = other) */
  double chance2;              /* probability that two draws give the same value */
  double *top_p;               /* probability of each top value */
  int has_top;
  dp_dist num;                 /* numbers */
  int has_num;
  dp_dist slen;                /* string lengths */
  uint32_t n_pat;
  char **pat;                  /* shapes */
  double *pat_p;               /* their shares of the values (NULL: unknown) */
  dp_alias patsel;
  uint8_t skind;               /* DP_SK_* for made-up strings */
  dp_dist ts_off;              /* timestamps: offset from the event time (s) */
  uint8_t ts_fmt;              /* 0 ISO Z, 1 ISO +00:00, 2 "YYYY-MM-DD HH:MM:SS", 3 the same with µs */
  dp_dist alen;                /* arrays: length */
  int has_arr;
} dp_vgen;

/* One property of an event (or a user property). */
typedef struct dp_pgen {
  char *path;                  /* output path, dotted */
  double presence;             /* probability the event carries it */
  double c_user, c_sess;       /* target constancy shares (-1 = not measured) */
  uint32_t gslot;              /* user/session constant-value slot (per output path) */
  uint32_t pid;                /* this property's number in the model (every event's, in order) */
  dp_vgen v;
  double chance;               /* probability two independent draws are equal */
  double q_user, q_sess;       /* calibrated: share of users / sessions made constant */
  double occ;                  /* occurrences of the path per event (all events) */
} dp_pgen;

/* A JSON object tree of an event's properties (built at compile time). */
typedef struct dp_node {
  char *key;                   /* JSON key (escaped, quoted) */
  uint32_t key_len;
  struct dp_node *child;       /* first child (objects) */
  struct dp_node *next;        /* next sibling */
  int32_t prop;                /* leaf: index into the event's props, else -1 */
} dp_node;

typedef struct dp_evdef {
  char *name;                  /* event name */
  uint32_t len;
  char *json_name;             /* quoted JSON string */
  uint32_t json_len;
  double share;
  dp_pgen *props;              /* event properties */
  uint32_t n_props;
  dp_node *tree;               /* of the event's properties under the output container(s) */
} dp_evdef;

/* ---- the model ---- */

#define DP_RET_MAX 40000 /* longest window in days */
#define DP_BRIDGE_D 8  /* bridge tables for 0..D-1 remaining steps, D = converged */

typedef struct dp_group {
  uint32_t smin, smax;         /* sessions per user in the group */
  dp_alias lens;               /* over length bins */
  dp_alias days;               /* over active-day bins */
  int has_days;
} dp_group;

typedef struct dp_idgen {
  int present;                 /* the field exists */
  double share;                /* share of users/events that carry it */
  uint8_t kind;                /* DP_SK_* */
  dp_dist len;
  uint32_t n_pat;
  char **pat;
  dp_alias patsel;
  int epoch_ms;                /* session ids that are the session start in epoch ms */
} dp_idgen;

/* The properties that share a slot, rarest event first. */
typedef struct dp_slot_src {
  uint32_t n;
  uint32_t *ev;                /* event index */
  const dp_pgen **pg;          /* its property */
} dp_slot_src;

struct doppel_synth {
  uint32_t pilot_users;        /* users of the calibration pilot runs (0 = by the profile) */
  doppel_dialect src_dialect;  /* the profile's dialect */
  uint64_t profile_users;
  int64_t start_us;            /* profile's first day */
  uint32_t days;               /* profile's span */
  int64_t gap_us;              /* session gap */
  int64_t res_us;              /* time resolution of the source (1, 1000 or 1000000 µs) */
  /* events */
  dp_evdef *ev;
  uint32_t n_ev;
  dp_alias mix;                /* event mix (for hand-written fallbacks) */
  double *p_end;               /* per event: P(session ends after it) */
  double *elig;                /* per event: share of users (the most engaged) that ever do it */
  double *boost;               /* per event: chain weight factor for the eligible users */
  /* transitions: for each from x, targets and weights (continue only) */
  uint32_t **to;               /* to[x][j] */
  double **tp;                 /* P(x -> to) (not normalized: sums to 1 - p_end) */
  uint32_t *n_to;
  dp_alias *bridge;            /* [x * (DP_BRIDGE_D + 1) + d] over to[x] */
  dp_alias first[DP_BRIDGE_D + 1]; /* first event of a session with d steps to go */
  double *first_w;             /* per event: share of sessions it starts */
  double *beta;                /* [d * n_ev + y]: weight of y with d events left (normalized) */
  /* funnels (hand-written): steps and conversions */
  uint32_t n_funnels;
  struct dp_funnel {
    uint32_t *steps;
    double *conv;
    uint32_t n;
    double start;
  } *funnels;
  /* users and sessions */
  dp_dist sessions_per_user, events_per_session, gaps, active_days, events_per_user, lifetime;
  dp_group *groups;
  uint32_t n_groups;
  dp_alias groupsel;           /* unused when groups come from sessions_per_user */
  double bin_ulo[16], bin_uhi[16]; /* events_per_session mass of each length bin */
  double day_ulo[16], day_uhi[16]; /* active_days mass of each bin */
  uint32_t bin_lo[17];
  dp_alias start_how[7];       /* session start hour per weekday */
  double start_cdf[7][24];     /* cumulative start-hour shares per weekday */
  double weekday_w[7];
  double weekday_f[7];          /* weekday weight / mean weekday weight */
  double weekday_max;
  double *arrival;             /* new users per profile day */
  uint32_t n_arrival;
  int arrival_daily;           /* the curve is per day (not per week) */
  double *ret_w;               /* weights of day N after the first (N = 0..ret_n-1) */
  uint32_t ret_n;
  /* properties */
  dp_pgen *uprops;             /* user properties */
  uint32_t n_uprops;
  dp_node *utree;
  uint32_t n_gslots;
  uint32_t n_pids;             /* properties compiled (dp_pgen.pid) */
  char **gslot_path;
  dp_slot_src *gslot_src;      /* per slot */
  /* identifiers */
  dp_idgen uid, did, sid, iid;
  double mean_events;
  /* output columns (CSV/SQL): distinct property paths in order */
  char **columns;
  uint32_t n_columns;
  char **ucolumns;
  uint32_t n_ucolumns;
};

/* model.c */
doppel_status dp_synth_compile(doppel_synth *s, const json_t *profile, doppel_diag *diag);
int dp_chain_tables(doppel_synth *s);
void dp_synth_release(doppel_synth *s);

/* gen.c / write.c */
typedef struct dp_event_out {
  int64_t t;                   /* µs */
  uint32_t ev;                 /* event index */
  uint32_t session;            /* session number within the user */
  int64_t session_start;       /* µs */
  uint64_t seq;                /* event number within the user */
} dp_event_out;

#endif
