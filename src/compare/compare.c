/*
 * compare.c — the scorecard of two profiles: the dimension table and
 * tolerances, the random-groups noise floor (distances between profiles of
 * disjoint user groups, scaled by sqrt(1/u_i + 1/u_j) to the sizes
 * compared), the overall score, and the "doppel-compare/1" report document.
 */
#include "compare/compare_int.h"

#include <doppel/doppel.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/diag.h"
#include "core/nomem.h"

static const struct {
  const char *key, *title, *metric;
  double tol;
} dims[DOPPEL_COMPARE_DIM_COUNT] = {
#define DOPPEL_X_DIM(id, key, title, metric, tol) {key, title, metric, tol},
    DOPPEL_COMPARE_DIM_TABLE(DOPPEL_X_DIM)
#undef DOPPEL_X_DIM
};

const char *doppel_compare_dim_key(doppel_compare_dim d) {
  return (unsigned)d < DOPPEL_COMPARE_DIM_COUNT ? dims[d].key : NULL;
}
const char *doppel_compare_dim_title(doppel_compare_dim d) {
  return (unsigned)d < DOPPEL_COMPARE_DIM_COUNT ? dims[d].title : NULL;
}
const char *doppel_compare_dim_metric(doppel_compare_dim d) {
  return (unsigned)d < DOPPEL_COMPARE_DIM_COUNT ? dims[d].metric : NULL;
}

void doppel_compare_tolerances_default(doppel_compare_tolerances *t) {
  for (int i = 0; i < DOPPEL_COMPARE_DIM_COUNT; i++) t->max_distance[i] = dims[i].tol;
}

doppel_status doppel_compare_tolerances_from_json(doppel_compare_tolerances *t, const json_t *obj,
                                                  doppel_diag *diag) {
  if (!json_is_object(obj))
    return dp_diag_set(diag, DOPPEL_E_USAGE, NULL, 0, 0, "tolerances must be a JSON object of dimension: distance");
  doppel_compare_tolerances n = *t;
  const char *key;
  const json_t *v;
  json_object_foreach((json_t *)obj, key, v) {
    int d = -1;
    for (int i = 0; i < DOPPEL_COMPARE_DIM_COUNT; i++)
      if (!strcmp(dims[i].key, key)) d = i;
    if (d < 0)
      return dp_diag_set(diag, DOPPEL_E_USAGE, NULL, 0, 0,
                         "unknown dimension '%.64s' in the tolerances (expected event_mix, events_per_user, ...)", key);
    double x = json_is_number(v) ? json_number_value(v) : -1;
    if (!(x >= 0 && x <= 1))
      return dp_diag_set(diag, DOPPEL_E_USAGE, NULL, 0, 0, "tolerance of %s must be a number from 0 to 1", key);
    n.max_distance[d] = x;
  }
  *t = n;
  return DOPPEL_OK;
}

doppel_status doppel_compare_tolerances_load(doppel_compare_tolerances *t, const char *path, doppel_diag *diag) {
  json_error_t je;
  int nomem;
  json_t *j = dp_nomem_json_load_file(path, JSON_REJECT_DUPLICATES, &je, &nomem);
  if (nomem) return dp_diag_set(diag, DOPPEL_E_NOMEM, path, 0, 0, "cannot read the tolerances: out of memory");
  if (!j) {
    FILE *f = fopen(path, "rb");
    if (!f) return dp_diag_set(diag, DOPPEL_E_IO, path, 0, 0, "cannot open: %s", strerror(errno));
    fclose(f);
    return dp_diag_set(diag, DOPPEL_E_USAGE, path, (uint64_t)(je.line > 0 ? je.line : 0),
                       (uint64_t)(je.column > 0 ? je.column : 0), "invalid JSON: %s", je.text);
  }
  doppel_status st = doppel_compare_tolerances_from_json(t, j, diag);
  json_decref(j);
  if (st != DOPPEL_OK && diag) {
    char text[DOPPEL_DIAG_TEXT_MAX];
    snprintf(text, sizeof text, "%s", diag->text);
    dp_diag_set(diag, st, path, 0, 0, "%s", text);
  }
  return st;
}

double doppel_compare_report_score(const json_t *report) {
  const json_t *s = json_object_get(json_object_get(report, "overall"), "score");
  return json_is_number(s) ? json_number_value(s) : NAN;
}

/* ---- the report ---- */

static json_t *input_json(const json_t *p, const char *name, const char *kind) {
  json_t *o = json_object();
  if (!o) return NULL;
  json_object_set_new(o, "name", name ? json_string(name) : json_null());
  json_object_set_new(o, "kind", json_string(kind ? kind : "profile"));
  const json_t *u = json_object_get(json_object_get(json_object_get(p, "population"), "users"), "estimate");
  const json_t *e = json_object_get(json_object_get(p, "events"), "total");
  const json_t *s = json_object_get(json_object_get(p, "sessions"), "count");
  json_object_set_new(o, "users", json_is_number(u) ? json_deep_copy(u) : json_null());
  json_object_set_new(o, "events", json_is_number(e) ? json_deep_copy(e) : json_null());
  json_object_set_new(o, "sessions", json_is_number(s) ? json_deep_copy(s) : json_null());
  return o;
}

static double clamp01(double x) { return x >= 0 ? (x < 1 ? x : 1) : x < 0 ? 0 : 1; } /* NaN: 1 */

doppel_status doppel_compare_profiles(const json_t *a, const json_t *b, const doppel_compare_params *params,
                                      json_t **report, doppel_diag *diag) {
  *report = NULL;
  if (!json_is_object(a) || !json_is_object(b))
    return dp_diag_set(diag, DOPPEL_E_DATA, NULL, 0, 0, "%s is not a JSON object (expected a doppel profile)",
                       !json_is_object(a) ? "A" : "B");
  doppel_compare_params none;
  memset(&none, 0, sizeof none);
  if (!params) params = &none;
  doppel_compare_tolerances tol;
  doppel_compare_tolerances_default(&tol);
  if (params->tolerances) tol = *params->tolerances;
  unsigned long nomem0 = dp_nomem_count(); /* a failed allocation would leave a part out (core/nomem.h) */

  dp_cmp_sim sim;
  if (dp_cmp_sim_init(&sim) != DOPPEL_OK) return dp_diag_set(diag, DOPPEL_E_NOMEM, NULL, 0, 0, NULL);
  dp_cmp_dimres res[DOPPEL_COMPARE_DIM_COUNT];
  doppel_status st = dp_cmp_score(a, b, &sim, 1, res);
  dp_cmp_sim_release(&sim);
  if (st != DOPPEL_OK) return dp_diag_set(diag, st, NULL, 0, 0, NULL);

  /* random groups: c = mean d_ij / sqrt(1/u_i + 1/u_j) */
  double csum[DOPPEL_COMPARE_DIM_COUNT] = {0};
  int cn[DOPPEL_COMPARE_DIM_COUNT] = {0};
  size_t ng = params->groups ? params->n_groups : 0;
  for (size_t i = 0; ng >= 2 && i < ng; i++)
    for (size_t j = i + 1; j < ng; j++) {
      double ui = dp_cmp_profile_users(params->groups[i]), uj = dp_cmp_profile_users(params->groups[j]);
      if (!(ui > 0 && uj > 0)) continue;
      dp_cmp_dimres g[DOPPEL_COMPARE_DIM_COUNT];
      if ((st = dp_cmp_score(params->groups[i], params->groups[j], NULL, 0, g)) != DOPPEL_OK) {
        dp_cmp_dimres_release(res);
        return dp_diag_set(diag, st, NULL, 0, 0, NULL);
      }
      for (int d = 0; d < DOPPEL_COMPARE_DIM_COUNT; d++)
        if (g[d].available && isfinite(g[d].distance)) {
          csum[d] += g[d].distance / sqrt(1 / ui + 1 / uj);
          cn[d]++;
        }
      dp_cmp_dimres_release(g);
    }
  double ua = dp_cmp_profile_users(a), ub = dp_cmp_profile_users(b);

  json_t *r = json_object(), *arr = json_array(), *inputs = json_object(), *nf = json_object();
  if (!r || !arr || !inputs || !nf) goto nomem;
  json_object_set_new(r, "format", json_string(DOPPEL_COMPARE_FORMAT));
  json_object_set_new(r, "generator", json_pack("{s:s,s:s}", "tool", "doppel", "version", doppel_version()));
  json_object_set_new(inputs, "a", input_json(a, params->name_a, params->kind_a));
  json_object_set_new(inputs, "b", input_json(b, params->name_b, params->kind_b));
  json_object_set_new(r, "inputs", inputs);
  inputs = NULL;
  int any_groups = 0;
  for (int d = 0; d < DOPPEL_COMPARE_DIM_COUNT; d++) any_groups |= cn[d] > 0;
  json_object_set_new(nf, "method", json_string(any_groups && ua > 0 && ub > 0 ? "random_groups" : "analytic"));
  if (any_groups) {
    json_t *gu = json_array();
    for (size_t i = 0; i < ng; i++) json_array_append_new(gu, dp_cmp_num(dp_cmp_profile_users(params->groups[i])));
    json_object_set_new(nf, "groups", json_integer((json_int_t)ng));
    json_object_set_new(nf, "groups_of", json_string(params->groups_of ? params->groups_of : "a"));
    json_object_set_new(nf, "group_users", gu);
  }
  json_object_set_new(r, "noise_floor", nf);
  nf = NULL;

  double ssum = 0, fsum = 0;
  int n_avail = 0, n_floor = 0, n_pass = 0;
  for (int d = 0; d < DOPPEL_COMPARE_DIM_COUNT; d++) {
    dp_cmp_dimres *x = &res[d];
    json_t *o = json_object();
    if (!o || json_array_append_new(arr, o)) goto nomem;
    json_object_set_new(o, "name", json_string(dims[d].key));
    json_object_set_new(o, "title", json_string(dims[d].title));
    json_object_set_new(o, "metric", json_string(dims[d].metric));
    json_object_set_new(o, "available", json_boolean(x->available));
    json_object_set_new(o, "tolerance", dp_cmp_num(tol.max_distance[d]));
    if (!x->available) {
      json_object_set_new(o, "reason", json_string(x->why ? x->why : "not available"));
      continue;
    }
    double dist = clamp01(x->distance), fl = x->floor;
    const char *method = "analytic";
    if (cn[d] > 0 && ua > 0 && ub > 0) {
      fl = csum[d] / cn[d] * sqrt(1 / ua + 1 / ub);
      method = "random_groups";
    }
    int pass = dist <= tol.max_distance[d] + 1e-12;
    json_object_set_new(o, "distance", dp_cmp_num(dist));
    json_object_set_new(o, "score", dp_cmp_num(1 - dist));
    if (isfinite(fl)) {
      fl = clamp01(fl);
      json_object_set_new(o, "floor_distance", dp_cmp_num(fl));
      json_object_set_new(o, "floor_score", dp_cmp_num(1 - fl));
      json_object_set_new(o, "floor_method", json_string(method));
      fsum += 1 - fl;
      n_floor++;
    } else {
      json_object_set_new(o, "floor_distance", json_null());
      json_object_set_new(o, "floor_score", json_null());
    }
    json_object_set_new(o, "n_a", dp_cmp_num(x->n_a));
    json_object_set_new(o, "n_b", dp_cmp_num(x->n_b));
    json_object_set_new(o, "pass", json_boolean(pass));
    if (x->extra) json_object_update(o, x->extra);
    if (x->detail) json_object_set(o, "detail", x->detail);
    ssum += 1 - dist;
    n_avail++;
    n_pass += pass;
  }
  json_object_set_new(r, "dimensions", arr);
  arr = NULL;
  json_object_set_new(r, "overall",
                      json_pack("{s:o,s:o,s:i,s:i,s:i,s:b}", "score", dp_cmp_num(n_avail ? ssum / n_avail : NAN),
                                "floor_score", dp_cmp_num(n_floor == n_avail && n_avail ? fsum / n_floor : NAN),
                                "dimensions", n_avail, "passed", n_pass, "not_available",
                                DOPPEL_COMPARE_DIM_COUNT - n_avail, "pass", n_avail > 0 && n_pass == n_avail));
  json_object_set_new(r, "privacy", json_null());
  if (dp_nomem_count() != nomem0) goto nomem;
  dp_cmp_dimres_release(res);
  *report = r;
  return DOPPEL_OK;
nomem:
  json_decref(r);
  json_decref(arr);
  json_decref(inputs);
  json_decref(nf);
  dp_cmp_dimres_release(res);
  return dp_diag_set(diag, DOPPEL_E_NOMEM, NULL, 0, 0, NULL);
}
