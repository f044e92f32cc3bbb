/*
 * doppel/rng.h — PCG random number generators (O'Neill, "PCG: A Family of
 * Simple Fast Space-Efficient Statistically Good Algorithms for Random
 * Number Generation", 2014), written from the published algorithm.
 *
 *   doppel_pcg32: 64-bit state, 32-bit output, XSH-RR  (= pcg32 / pcg32_oneseq
 *                 with stream selection: C++ pcg32(seed, stream))
 *   doppel_pcg64: 128-bit state, 64-bit output, XSL-RR (= pcg64 / pcg64_oneseq
 *                 with stream selection: C++ pcg64(seed, stream))
 *
 * Seeding matches the reference C++ library (pcg-cpp): with state 0 and
 * inc = (stream << 1) | 1, step, add seed, step. Known-answer vectors made
 * with Debian's libpcg-cpp-dev are in tests/vectors/.
 *
 * States are caller-allocated value types; no function here can fail or
 * allocate. Same seed and stream give the same sequence on every platform.
 * Thread safety: a state must not be shared between threads.
 */
#ifndef DOPPEL_RNG_H
#define DOPPEL_RNG_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct doppel_pcg32 {
  uint64_t state;  /* LCG state */
  uint64_t inc;    /* stream increment, always odd */
} doppel_pcg32;

typedef struct doppel_pcg64 {
  unsigned __int128 state;  /* LCG state */
  unsigned __int128 inc;    /* stream increment, always odd */
} doppel_pcg64;

void doppel_pcg32_seed(doppel_pcg32 *g, uint64_t seed, uint64_t stream);
uint32_t doppel_pcg32_next(doppel_pcg32 *g);
/* Uniform in [0, bound) without modulo bias; bound 0 returns 0. */
uint32_t doppel_pcg32_bounded(doppel_pcg32 *g, uint32_t bound);
/* Advance by delta steps in O(log delta) (negative = backwards, as uint64 wraps). */
void doppel_pcg32_advance(doppel_pcg32 *g, uint64_t delta);

/* seed and stream are 128-bit values given as (hi, lo) halves. */
void doppel_pcg64_seed(doppel_pcg64 *g, uint64_t seed_hi, uint64_t seed_lo,
                       uint64_t stream_hi, uint64_t stream_lo);
uint64_t doppel_pcg64_next(doppel_pcg64 *g);
/* Uniform in [0, bound) without modulo bias; bound 0 returns 0. */
uint64_t doppel_pcg64_bounded(doppel_pcg64 *g, uint64_t bound);
void doppel_pcg64_advance(doppel_pcg64 *g, unsigned __int128 delta);
/* Uniform double in [0, 1) with 53 random bits. */
double doppel_pcg64_double(doppel_pcg64 *g);

#ifdef __cplusplus
}
#endif
#endif
