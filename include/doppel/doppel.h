/*
 * doppel/doppel.h — umbrella header of the doppel library.
 *
 * doppel profiles product-analytics event data, pseudonymizes personal data
 * with keyed hashing, draws user-consistent samples and synthesizes event
 * datasets. Include this header for the whole public API.
 *
 * Conventions that hold across the API:
 * - Ownership: a function that returns a pointer through `**out` transfers
 *   ownership to the caller, who releases it with the matching _free();
 *   every _free(NULL) is a no-op. Pointers into input buffers ("spans") are
 *   borrowed and valid only as long as the buffer they point into.
 * - Errors: functions return doppel_status and fill an optional caller-owned
 *   doppel_diag (see status.h). The library never prints, exits or aborts on
 *   bad input.
 * - Thread safety: distinct objects may be used from distinct threads; one
 *   object must not be used from two threads at once unless its header says
 *   otherwise.
 * - Determinism: same inputs, key, seed and options give the same bytes.
 */
#ifndef DOPPEL_DOPPEL_H
#define DOPPEL_DOPPEL_H

#define DOPPEL_VERSION_MAJOR 0
#define DOPPEL_VERSION_MINOR 1
#define DOPPEL_VERSION_PATCH 0

#include <doppel/status.h>
#include <doppel/json.h>
#include <doppel/csv.h>
#include <doppel/io.h>
#include <doppel/time.h>
#include <doppel/event.h>
#include <doppel/rng.h>
#include <doppel/keyed.h>
#include <doppel/pii.h>
#include <doppel/pseudo.h>
#include <doppel/sketch.h>
#include <doppel/sample.h>
#include <doppel/profile.h>
#include <doppel/synth.h>
#include <doppel/report.h>
#include <doppel/compare.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Library version, "MAJOR.MINOR.PATCH"; static string. */
const char *doppel_version(void);

#ifdef __cplusplus
}
#endif
#endif
