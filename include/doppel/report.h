/*
 * doppel/report.h — human-readable reports of a profile
 * (docs/profile-format.md): a self-contained HTML page for reviewers
 * (compliance, product) or GitHub-flavoured Markdown for terminals and pull
 * requests.
 *
 * Sections, in order: overview (source, parameters, population), privacy
 * ledger (every field with its class, evidence and proposed treatment;
 * direct identifiers highlighted; identifier shapes), what was held back by
 * the k-anonymity rule and why, data-quality warnings by severity, event
 * catalog, property catalog per event, retention (curves and cohorts),
 * activity (hour-of-week heat map, events over time), sessions, and top
 * transitions and paths. A section the profile lacks says so; unknown keys
 * are ignored, so hand-written profiles (even just `events.list` with
 * `name` and `share`) and later profile versions with more keys render.
 *
 * What a report shows comes from the profile only: it adds no data (the
 * profile already holds aggregates only, see the format's privacy rules).
 * Every string from the profile is escaped. The HTML has inline CSS and
 * inline SVG charts only: no scripts, fonts, images, links or URLs, and a
 * Content-Security-Policy that forbids loading anything.
 *
 * Determinism: the same profile document and options give the same bytes
 * (no clock, locale or environment is read).
 * Ownership: json_t arguments are borrowed; strings returned through
 * `char **out` are malloc'd and belong to the caller (free()).
 * Errors: DOPPEL_E_DATA for a document that is not a usable profile, with
 * a message naming the key that is wrong; DOPPEL_E_IO / E_GZIP for files;
 * DOPPEL_E_NOMEM. The library never prints.
 * Thread safety: all functions are reentrant; a json_t must not be
 * modified while it is being rendered.
 */
#ifndef DOPPEL_REPORT_H
#define DOPPEL_REPORT_H

#include <doppel/status.h>
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum doppel_report_format {
  DOPPEL_REPORT_HTML = 0, /* self-contained HTML5 page */
  DOPPEL_REPORT_MARKDOWN  /* GitHub-flavoured Markdown */
} doppel_report_format;

typedef struct doppel_report_options {
  doppel_report_format format; /* HTML (0, the default) or Markdown */
  const char *profile_name;    /* shown in the subtitle (e.g. the profile's file name); NULL = none */
  size_t max_bytes;            /* largest report accepted; 0 = 1 GiB (DOPPEL_E_LIMIT beyond) */
} doppel_report_options;

/* Check that profile is a doppel-profile/1 document whose sections have
 * the types the renderer reads (objects, arrays, 168 hour-of-week cells,
 * named events and fields). Returns DOPPEL_OK, or DOPPEL_E_DATA with
 * diag->text such as
 *   not a doppel profile: no "format" key (expected "format": "doppel-profile/1")
 *   events.list[2]: "name" must be a string
 * (no source, line or column: the caller adds the file name). */
doppel_status doppel_report_check(const json_t *profile, doppel_diag *diag);

/* Render profile (checked first, as doppel_report_check) into a new
 * NUL-terminated string *out of *out_len bytes (out_len may be NULL).
 * opt may be NULL (HTML, no name). On error *out is NULL. */
doppel_status doppel_report_render(const json_t *profile, const doppel_report_options *opt, char **out,
                                   size_t *out_len, doppel_diag *diag);

/* Read a profile file (plain or gzip; "-" = stdin) into a new reference
 * *profile and check it. Errors carry the path as the source:
 * DOPPEL_E_IO ("cannot open 'p.json': No such file or directory"),
 * DOPPEL_E_DATA with line and column for invalid JSON
 * ("invalid JSON: ..."), DOPPEL_E_DATA for a document that is not a
 * profile (as doppel_report_check). */
doppel_status doppel_report_load(const char *path, json_t **profile, doppel_diag *diag);

typedef struct doppel_report_summary {
  doppel_report_format format; /* what was written */
  uint64_t bytes;              /* report size in bytes */
  uint64_t events;             /* event names listed in the catalog */
  uint64_t properties;         /* property entries (event and user properties) */
  uint64_t fields;             /* privacy ledger fields */
  uint64_t direct_identifiers; /* ledger fields of class direct_identifier */
  uint64_t untreated;          /* direct or quasi identifiers without a treatment, or with "keep" */
  uint64_t warnings[3];        /* warnings by severity: error, warning, info */
  double seconds;              /* wall time of loading and rendering */
} doppel_report_summary;

/* The whole `doppel report` job: load and check the profile at input,
 * render it, and write output ("-" = stdout) atomically (a temporary file
 * renamed at the end; nothing is left under output on failure; an output
 * that is the input is refused with DOPPEL_E_SAME_FILE). sum may be NULL. */
doppel_status doppel_report(const char *input, const char *output, const doppel_report_options *opt,
                            doppel_report_summary *sum, doppel_diag *diag);

#ifdef __cplusplus
}
#endif
#endif
