/*
 * compare/compare_int.h — internals of `doppel compare`: the simulation
 * context behind the analytic noise floors (stats.c), the per-dimension
 * result the scorer fills (score.c), the privacy collector (privacy.c) and
 * the report number helpers. (The HTML page is written with the shared
 * page builder, report/html.h.)
 */
#ifndef DP_COMPARE_INT_H
#define DP_COMPARE_INT_H

#include <doppel/compare.h>
#include <doppel/event.h>
#include <doppel/json.h>
#include <doppel/rng.h>
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

/* ---- stats.c ---- */

#define DP_CMP_SIM_REPS 2000 /* replicates of every simulated expectation */
#define DP_CMP_GRID 201      /* Brownian-bridge grid t = j / 200 */

/* Two independent banks of Brownian bridges on the half-percentile grid
 * (drawn once per process from a fixed PCG64 seed, read-only after) and a
 * generator for the other simulations, seeded afresh for every run. */
typedef struct dp_cmp_sim {
  const double *bank_a; /* DP_CMP_SIM_REPS × DP_CMP_GRID values */
  const double *bank_b; /* same, independent */
  doppel_pcg64 rng;     /* for the other simulations, fixed seed */
} dp_cmp_sim;

/* Never fails (the banks are static storage). */
doppel_status dp_cmp_sim_init(dp_cmp_sim *s);
void dp_cmp_sim_release(dp_cmp_sim *s);
/* E[KS] of two samples (na, nb) from the distribution with percentiles q. */
double dp_cmp_sim_ks(const dp_cmp_sim *s, const double *q, double na, double nb);
/* E[max_j |sigma_j Z_j|] for independent standard normals Z_j. */
double dp_cmp_sim_max_abs(dp_cmp_sim *s, const double *sigma, size_t m);
/* A standard normal deviate (Box–Muller, one per call). */
double dp_cmp_normal(doppel_pcg64 *g);

/* ---- score.c ---- */

#define DP_CMP_DETAIL_MAX 5 /* items listed per dimension */

typedef struct dp_cmp_dimres {
  int available;        /* 1 when both sides had what the dimension needs */
  const char *why;      /* static reason when not available */
  double distance;      /* the dimension's distance in [0, 1] */
  double floor;         /* expected distance of two samples (analytic), NAN when unknown */
  double n_a, n_b;      /* sample sizes behind the analytic floor */
  json_t *detail;       /* array of items (owned), NULL when not asked */
  json_t *extra;        /* object of extra facts (owned) or NULL */
} dp_cmp_dimres;

/* Score every dimension of b against a. sim NULL: no analytic floors;
 * with_detail 0: no detail arrays. Returns DOPPEL_E_NOMEM or DOPPEL_OK. */
doppel_status dp_cmp_score(const json_t *a, const json_t *b, dp_cmp_sim *sim, int with_detail,
                           dp_cmp_dimres res[DOPPEL_COMPARE_DIM_COUNT]);
void dp_cmp_dimres_release(dp_cmp_dimres res[DOPPEL_COMPARE_DIM_COUNT]);
/* population.users.estimate of a profile (0 when absent). */
double dp_cmp_profile_users(const json_t *p);

/* A report number: integers as integers, other values to 6 significant
 * digits; NaN/inf as null. */
json_t *dp_cmp_num(double v);

/* ---- privacy.c ---- */

typedef struct dp_cmp_priv dp_cmp_priv;

/* The canonical view of one record the privacy pass needs. */
typedef struct dp_cmp_rec {
  const char *user; size_t user_len;   /* canonical user id (user, else device), unescaped; 0 = none */
  const char *event; size_t event_len; /* event name, unescaped (may be empty) */
} dp_cmp_rec;

doppel_status dp_cmp_priv_new(dp_cmp_priv **out, uint32_t k);
void dp_cmp_priv_free(dp_cmp_priv *p);
/* Start phase 0 (collect A) or 1 (check B) for records of this field map. */
void dp_cmp_priv_begin(dp_cmp_priv *p, int phase, const doppel_field_map *map);
/* One JSON record (parsed into doc). */
doppel_status dp_cmp_priv_json(dp_cmp_priv *p, const doppel_json_doc *doc, const dp_cmp_rec *r);
/* CSV: the header's column names, then rows of unquoted values. */
doppel_status dp_cmp_priv_csv_header(dp_cmp_priv *p, const char *const *names, const size_t *lens, size_t n);
doppel_status dp_cmp_priv_csv(dp_cmp_priv *p, const char *const *vals, const size_t *lens, size_t n,
                              const dp_cmp_rec *r);
/* A is complete: build the table of A's sequences. */
doppel_status dp_cmp_priv_end_a(dp_cmp_priv *p);
/* The privacy section (a new object, NULL when out of memory) once B is done. */
json_t *dp_cmp_priv_report(const dp_cmp_priv *p);

#endif
