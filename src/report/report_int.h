/*
 * report/report_int.h — internals shared by the report module: tolerant
 * readers for profile values (a missing key or a value of another type
 * reads as absent, so optional and future keys never break a report), and
 * the renderer entry point used by the public API and the job.
 */
#ifndef DP_REPORT_INT_H
#define DP_REPORT_INT_H

#include <doppel/report.h>
#include <jansson.h>

#include "core/buf.h"

/* obj[key] when obj is an object and the value is not JSON null, else NULL. */
const json_t *dp_jget(const json_t *obj, const char *key);
/* A dotted path of object keys from root ("source.time_span.days"). */
const json_t *dp_jpath(const json_t *root, const char *path);
/* 1 and *out when v is a JSON number (integer or real), else 0. */
int dp_jnum(const json_t *v, double *out);
/* The number at obj[key] (1) or 0. */
int dp_jnum_at(const json_t *obj, const char *key, double *out);
/* The string at obj[key], or NULL. */
const char *dp_jstr_at(const json_t *obj, const char *key);
/* Percentile i (0..100) of a DIST object ({"n", "mean", "q": [101]}): 1
 * and *out when present, else 0 (fewer than k users: only n and mean). */
int dp_dist_q(const json_t *dist, int i, double *out);
/* "a string", "a number", "an array", ... for messages. */
const char *dp_jtype_name(const json_t *v);

/* Render a checked profile into out (appended). sum (may be NULL) gets the
 * counts; its bytes and seconds are left to the caller. */
doppel_status dp_report_render(const json_t *profile, const doppel_report_options *opt, dp_buf *out,
                               doppel_report_summary *sum, doppel_diag *diag);

#endif
