/*
 * pcg.c — PCG random number generators (see doppel/rng.h), written from
 * O'Neill's published algorithm and matched bit for bit against the
 * reference C++ library pcg-cpp 0.98:
 *
 *   doppel_pcg32 = pcg32 (setseq_xsh_rr_64_32): 64-bit LCG, XSH-RR output
 *                  computed from the state *before* the step
 *                  (pcg-cpp output_previous = true for 64-bit state).
 *   doppel_pcg64 = pcg64 (setseq_xsl_rr_128_64): 128-bit LCG, XSL-RR output
 *                  computed from the state *after* the step
 *                  (pcg-cpp output_previous = false for 128-bit state).
 *
 * Seeding follows pcg-cpp's engine(seed, stream) constructor:
 * inc = (stream << 1) | 1 (the stream's top bit is discarded) and
 * state = (seed + inc) * mult + inc, which is the same as "state = 0, step,
 * state += seed, step". bounded() is pcg-cpp's bounded_rand (rejection of
 * draws below (-bound) % bound, then modulo); advance() is Brown's
 * O(log n) arbitrary-stride jump, as in pcg-cpp's engine::advance.
 */
#include "doppel/rng.h"

#include <stdint.h>

typedef unsigned __int128 dp_u128;

#define PCG32_MULT UINT64_C(6364136223846793005)
#define PCG64_MULT                                      \
  (((dp_u128)UINT64_C(2549297995355413924) << 64) |    \
   (dp_u128)UINT64_C(4865540595714422341))

static inline uint32_t rotr32(uint32_t v, unsigned r) {
  return (v >> r) | (v << (-r & 31u));
}

static inline uint64_t rotr64(uint64_t v, unsigned r) {
  return (v >> r) | (v << (-r & 63u));
}

/* XSH-RR 64 -> 32: xorshift high by 18, take bits 27..58, rotate by top 5. */
static inline uint32_t xsh_rr_64_32(uint64_t s) {
  unsigned rot = (unsigned)(s >> 59);
  uint32_t x = (uint32_t)(((s >> 18) ^ s) >> 27);
  return rotr32(x, rot);
}

/* XSL-RR 128 -> 64: fold high half onto low half, rotate by top 6 bits. */
static inline uint64_t xsl_rr_128_64(dp_u128 s) {
  uint64_t hi = (uint64_t)(s >> 64);
  unsigned rot = (unsigned)(hi >> 58);
  return rotr64(hi ^ (uint64_t)s, rot);
}

/* ---------------------------------------------------------------- pcg32 */

void doppel_pcg32_seed(doppel_pcg32 *g, uint64_t seed, uint64_t stream) {
  g->inc = (stream << 1) | 1u;
  g->state = (seed + g->inc) * PCG32_MULT + g->inc;
}

uint32_t doppel_pcg32_next(doppel_pcg32 *g) {
  uint64_t old = g->state;
  g->state = old * PCG32_MULT + g->inc;
  return xsh_rr_64_32(old);
}

uint32_t doppel_pcg32_bounded(doppel_pcg32 *g, uint32_t bound) {
  if (bound == 0) return 0;
  uint32_t threshold = (uint32_t)(0u - bound) % bound;
  for (;;) {
    uint32_t r = doppel_pcg32_next(g);
    if (r >= threshold) return r % bound;
  }
}

void doppel_pcg32_advance(doppel_pcg32 *g, uint64_t delta) {
  uint64_t cur_mult = PCG32_MULT, cur_plus = g->inc;
  uint64_t acc_mult = 1, acc_plus = 0;
  while (delta > 0) {
    if (delta & 1u) {
      acc_mult *= cur_mult;
      acc_plus = acc_plus * cur_mult + cur_plus;
    }
    cur_plus = (cur_mult + 1) * cur_plus;
    cur_mult *= cur_mult;
    delta >>= 1;
  }
  g->state = acc_mult * g->state + acc_plus;
}

/* ---------------------------------------------------------------- pcg64 */

void doppel_pcg64_seed(doppel_pcg64 *g, uint64_t seed_hi, uint64_t seed_lo,
                       uint64_t stream_hi, uint64_t stream_lo) {
  dp_u128 seed = ((dp_u128)seed_hi << 64) | seed_lo;
  dp_u128 stream = ((dp_u128)stream_hi << 64) | stream_lo;
  g->inc = (stream << 1) | 1u;
  g->state = (seed + g->inc) * PCG64_MULT + g->inc;
}

uint64_t doppel_pcg64_next(doppel_pcg64 *g) {
  g->state = g->state * PCG64_MULT + g->inc;
  return xsl_rr_128_64(g->state);
}

uint64_t doppel_pcg64_bounded(doppel_pcg64 *g, uint64_t bound) {
  if (bound == 0) return 0;
  uint64_t threshold = (0u - bound) % bound;
  for (;;) {
    uint64_t r = doppel_pcg64_next(g);
    if (r >= threshold) return r % bound;
  }
}

void doppel_pcg64_advance(doppel_pcg64 *g, dp_u128 delta) {
  dp_u128 cur_mult = PCG64_MULT, cur_plus = g->inc;
  dp_u128 acc_mult = 1, acc_plus = 0;
  while (delta > 0) {
    if (delta & 1u) {
      acc_mult *= cur_mult;
      acc_plus = acc_plus * cur_mult + cur_plus;
    }
    cur_plus = (cur_mult + 1) * cur_plus;
    cur_mult *= cur_mult;
    delta >>= 1;
  }
  g->state = acc_mult * g->state + acc_plus;
}

double doppel_pcg64_double(doppel_pcg64 *g) {
  return (double)(doppel_pcg64_next(g) >> 11) * 0x1.0p-53;
}
