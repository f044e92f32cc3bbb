/*
 * pseudo/engine_int.h — what the pseudonymize job needs from the engine
 * beyond the public API: its treatment counters.
 */
#ifndef DP_PSEUDO_ENGINE_INT_H
#define DP_PSEUDO_ENGINE_INT_H

#include <doppel/pseudo.h>

typedef doppel_pseudo_counter dp_counter;

/* Counters of values treated so far (label, count); borrowed. */
size_t dp_pseudonymizer_counters(const doppel_pseudonymizer *p, const dp_counter **out);

#endif
