/*
 * doppel/sketch.h — mergeable streaming sketches for profiling: distinct
 * counts (HyperLogLog), quantiles (DDSketch) and top values (Misra–Gries
 * heavy hitters), each with add, merge, query and a JSON state (jansson
 * json_t) that a profile state file can embed.
 *
 * Shards merge: merging the states of shards gives the state of profiling
 * their union — exactly for counts, within the stated sketch error otherwise.
 *
 *   HLL       merge = register max. Byte-for-byte commutative and associative,
 *             and equal to the sketch of the union. Sketches of different
 *             precisions merge at the lower one (exactly as if built there).
 *   DDSketch  merge = bucket-wise add, then collapse to the bucket bound.
 *             Collapsing is defined relative to the highest bucket, so even
 *             with collapsing the merged state equals the state of the union,
 *             byte for byte, in any order or grouping. The exact sum is kept
 *             in an exact (fixed-point) accumulator, so it merges exactly too.
 *   top-k     merge per Agarwal et al. 2012: add counters, subtract the
 *             (k+1)-th largest, keep those > 0. Byte-for-byte commutative;
 *             associative only while no truncation happens (at most k
 *             distinct values overall). doppel_topk_merge_many() merges any
 *             number of states in one step and its result does not depend on
 *             the order of its inputs. The error bound holds after any
 *             sequence of adds and merges.
 *
 * Determinism: same inputs in the same order give byte-identical states
 * (doppel_*_to_json, dumped with json_dumps). States name their format
 * ("type", "version"); loaders reject anything malformed or inconsistent
 * with DOPPEL_E_DATA and a message, never crash, and allocate only within
 * the bounds stated below.
 *
 * Memory (defaults): HLL 2^p bytes of registers (16 KiB at p = 14);
 * DDSketch at most 2 × max_buckets × 8 bytes of counts (32 KiB), allocated
 * as the value range grows; top-k at most k × (max_value_len + 48) bytes
 * (304 KiB at k = 1024, 256-byte values), allocated as entries appear.
 * Merges and serialization allocate temporaries of the same order.
 *
 * Ownership: objects returned through **out belong to the caller and are
 * released with the matching _free (NULL is a no-op); json_t results are new
 * references the caller json_decref()s; json_t arguments are borrowed.
 * Thread safety: one sketch is used by one thread at a time; const
 * functions (queries, serialization) may run concurrently on one sketch.
 */
#ifndef DOPPEL_SKETCH_H
#define DOPPEL_SKETCH_H

#include <doppel/status.h>
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------------
 * Hashing
 * ------------------------------------------------------------------------- */

/* doppel-hash64/1: a fixed, platform-independent, well-mixed (not
 * cryptographic) 64-bit hash of bytes. With f(z) the SplitMix64 finalizer
 *   z ^= z >> 30; z *= 0xbf58476d1ce4e5b9; z ^= z >> 27;
 *   z *= 0x94d049bb133111eb; z ^= z >> 31
 * it computes h = 0x243f6a8885a308d3 ^ len; h = f(h ^ w) for every whole
 * 8-byte block w read little-endian; then returns
 * f(h ^ t ^ 0x13198a2e03707344) where t is the 0..7 remaining bytes read
 * little-endian, zero-padded (t = 0 when none remain). data may be NULL when
 * len is 0. Never fails; thread-safe. */
uint64_t doppel_sketch_hash64(const void *data, size_t len);

/* ---------------------------------------------------------------------------
 * Distinct count: HyperLogLog
 *
 * m = 2^p registers of one byte each. An input hash h selects register
 * h >> (64 - p); the register keeps the maximum of 1 + the number of leading
 * zeros of the remaining 64 - p bits (at most 65 - p). The estimate is
 * Ertl's improved estimator (Ertl 2017, "New cardinality estimation
 * algorithms for HyperLogLog sketches", Algorithm 6), whose sigma() term
 * is the small-range correction (it takes the place of linear counting
 * while many registers are zero) and whose tau() term corrects the large
 * range; no empirical bias tables or thresholds are needed (measured: within
 * ±0.4 of n for n <= 100 at p = 14, no visible bias from 100 to 1e6). No sparse in-memory
 * representation: memory is 2^p bytes from the start. The serialized state
 * is sparse when that is shorter.
 *
 * State: {"type":"hll","version":1,"p":P,"encoding":"dense6"|"sparse",
 *         "registers":"<base64>"}
 *   dense6: registers packed 6 bits each, register i at bits 6i..6i+5 of the
 *           byte string, least significant bit first;
 *   sparse: for each nonzero register in increasing index, a LEB128 varint
 *           of (index − previous index − 1) (previous = −1 at the start)
 *           followed by one byte holding the register value.
 * ------------------------------------------------------------------------- */

#define DOPPEL_HLL_P_DEFAULT 14
#define DOPPEL_HLL_P_MIN 4
#define DOPPEL_HLL_P_MAX 18

typedef struct doppel_hll doppel_hll;

typedef struct doppel_hll_estimate {
  double estimate;       /* estimated number of distinct input hashes */
  double std_error;      /* absolute standard error: estimate × rel_std_error */
  double rel_std_error;  /* relative standard error 1.04 / sqrt(2^p) (asymptotic; the real
                            error is lower for counts well below 2^p and higher for p < 8) */
} doppel_hll_estimate;

/* New empty sketch with precision p (DOPPEL_HLL_P_MIN..MAX; 0 = default 14).
 * Returns DOPPEL_E_USAGE for another p or a NULL out, DOPPEL_E_NOMEM. */
doppel_status doppel_hll_new(doppel_hll **out, unsigned p, doppel_diag *diag);

/* Free the sketch; NULL is a no-op. */
void doppel_hll_free(doppel_hll *h);

/* Precision p of the sketch. */
unsigned doppel_hll_precision(const doppel_hll *h);

/* Add one 64-bit hash (use a well-mixed hash such as doppel_sketch_hash64).
 * Never fails, never allocates. */
void doppel_hll_add_hash(doppel_hll *h, uint64_t hash);

/* Add bytes: doppel_hll_add_hash(h, doppel_sketch_hash64(data, len)). */
void doppel_hll_add(doppel_hll *h, const void *data, size_t len);

/* Merge src into dst (register-wise maximum). When src has a lower
 * precision, dst is first reduced to it (exactly as if it had been built at
 * that precision); src is not changed. Returns DOPPEL_E_NOMEM (dst unchanged)
 * or DOPPEL_E_USAGE for NULL arguments. */
doppel_status doppel_hll_merge(doppel_hll *dst, const doppel_hll *src, doppel_diag *diag);

/* Estimate the number of distinct hashes added. Never fails; O(2^p). */
doppel_hll_estimate doppel_hll_query(const doppel_hll *h);

/* Serialize to a new JSON object (*out). DOPPEL_E_NOMEM on failure. */
doppel_status doppel_hll_to_json(const doppel_hll *h, json_t **out, doppel_diag *diag);

/* Load a state written by doppel_hll_to_json. Returns DOPPEL_E_DATA with a
 * message for anything malformed (wrong type or version, unknown keys, p out
 * of range, bad base64, wrong length, register values above 65 − p, sparse
 * indices out of order or range), DOPPEL_E_NOMEM. */
doppel_status doppel_hll_from_json(const json_t *state, doppel_hll **out, doppel_diag *diag);

/* ---------------------------------------------------------------------------
 * Quantiles: DDSketch (Masson, Rim, Lee, VLDB 2019)
 *
 * gamma = (1 + alpha) / (1 − alpha). A value x with |x| >= DBL_MIN goes to
 * bucket i = ceil(log(|x|) / log(gamma)) of the positive or negative store;
 * smaller magnitudes (zero, subnormals) are counted as zero. A bucket is
 * reported as 2 gamma^i / (gamma + 1) (clamped to ±DBL_MAX), within relative
 * error alpha of every value in it. quantile(q) returns the reported value of
 * the bucket holding the item of rank floor(q (count − 1)) in sorted order,
 * so it is within relative alpha of that exact order statistic.
 *
 * Bounded buckets: each store spans at most max_buckets consecutive indices.
 * When a store's highest index is H, every index below F = H − max_buckets + 1
 * is counted in bucket F ("collapsing the lowest buckets", which for the
 * negative store are the negatives nearest zero). Upper quantiles of the
 * positive store and lower quantiles of the negative store keep the alpha
 * guarantee; quantiles whose rank falls in a collapsed bucket F may be
 * larger in magnitude than the true value (reported as bucket F).
 * Because F depends only on the highest index, the collapsed state is a
 * function of the multiset of values: merge stays exact and order-free.
 *
 * Exact minimum and maximum are deliberately not kept (privacy). count and
 * the exact sum are kept (an exact fixed-point accumulator, so sums and
 * merges of sums are exact); sum() is it rounded once to double (outside
 * the subnormal range), mean() is it divided by count (relative error below
 * 1e-15).
 *
 * State: {"type":"ddsketch","version":1,"alpha":A,"max_buckets":B,
 *         "count":N,"sum":"<exact hex float>","zero":Z,
 *         "positive":{"offset":I,"counts":[c...],"collapsed":bool},
 *         "negative":{...}}
 *   counts[j] is the count of bucket offset + j; the first and last are
 *   nonzero (an empty store is {"offset":0,"counts":[],...}). sum is
 *   "[-]0x<hex digits>p<±exponent>" (C99 hex float syntax, exact, strtod
 *   reads it).
 * ------------------------------------------------------------------------- */

#define DOPPEL_DDSKETCH_ALPHA_DEFAULT 0.01
#define DOPPEL_DDSKETCH_ALPHA_MIN 1e-4
#define DOPPEL_DDSKETCH_ALPHA_MAX 0.5
#define DOPPEL_DDSKETCH_BUCKETS_DEFAULT 2048
#define DOPPEL_DDSKETCH_BUCKETS_MIN 16
#define DOPPEL_DDSKETCH_BUCKETS_MAX 65536

typedef struct doppel_ddsketch doppel_ddsketch;

/* New empty sketch. alpha in [1e-4, 0.5] (0 = default 0.01); max_buckets
 * per store in [16, 65536] (0 = default 2048). DOPPEL_E_USAGE for other
 * values or a NULL out, DOPPEL_E_NOMEM. */
doppel_status doppel_ddsketch_new(doppel_ddsketch **out, double alpha, uint32_t max_buckets,
                                  doppel_diag *diag);

/* Free the sketch; NULL is a no-op. */
void doppel_ddsketch_free(doppel_ddsketch *s);

/* Relative accuracy and bucket bound of the sketch. */
double doppel_ddsketch_alpha(const doppel_ddsketch *s);
uint32_t doppel_ddsketch_max_buckets(const doppel_ddsketch *s);

/* Add one value. Returns DOPPEL_E_DATA for NaN or ±infinity, DOPPEL_E_LIMIT
 * when the count would exceed INT64_MAX, DOPPEL_E_NOMEM; the sketch is
 * unchanged on error. Allocates only when the value range grows. */
doppel_status doppel_ddsketch_add(doppel_ddsketch *s, double value);

/* Merge src into dst. alpha must be equal (DOPPEL_E_USAGE otherwise); with
 * different bucket bounds the lower one is used. DOPPEL_E_LIMIT when the
 * count would exceed INT64_MAX, DOPPEL_E_NOMEM; dst is unchanged on error. */
doppel_status doppel_ddsketch_merge(doppel_ddsketch *dst, const doppel_ddsketch *src,
                                    doppel_diag *diag);

/* Quantile q in [0, 1] into *out. DOPPEL_E_USAGE for q outside [0, 1] (or
 * NaN), DOPPEL_E_DATA for an empty sketch. O(max_buckets). */
doppel_status doppel_ddsketch_quantile(const doppel_ddsketch *s, double q, double *out,
                                       doppel_diag *diag);

/* Number of values added. */
uint64_t doppel_ddsketch_count(const doppel_ddsketch *s);
/* Sum of the values added, rounded once to double (may be ±inf when it
 * overflows). 0 when empty. */
double doppel_ddsketch_sum(const doppel_ddsketch *s);
/* sum / count (finite whenever the values were; relative error below
 * 1e-15); NaN when empty. */
double doppel_ddsketch_mean(const doppel_ddsketch *s);
/* 1 when some bucket of either store was collapsed (low quantiles may then
 * be less accurate than alpha, see above), else 0. */
int doppel_ddsketch_collapsed(const doppel_ddsketch *s);

/* Serialize to a new JSON object (*out). DOPPEL_E_NOMEM on failure. */
doppel_status doppel_ddsketch_to_json(const doppel_ddsketch *s, json_t **out, doppel_diag *diag);

/* Load a state written by doppel_ddsketch_to_json. DOPPEL_E_DATA with a
 * message for anything malformed or inconsistent (counts not adding up to
 * count, spans over max_buckets, indices outside the double range, a sum
 * impossible for the count, ...), DOPPEL_E_NOMEM. */
doppel_status doppel_ddsketch_from_json(const json_t *state, doppel_ddsketch **out,
                                        doppel_diag *diag);

/* ---------------------------------------------------------------------------
 * Top values: Misra–Gries heavy hitters (weighted; mergeable per Agarwal,
 * Cormode, Huang, Phillips, Wei, Yi 2012)
 *
 * At most k counters over byte-string values. Values longer than
 * max_value_len are truncated to their first max_value_len bytes and marked
 * truncated; a truncated value is a different entry from an untruncated one
 * with the same bytes. Adding a tracked value adds its weight; an untracked
 * one takes a free counter, or when all k are in use, d = min(weight, least
 * counter) is subtracted from every counter and from the weight, counters
 * reaching 0 are freed, and the rest of the weight (if any) takes a counter.
 *
 * Error bound: the sketch keeps `error` = the total amount subtracted from
 * any single value's count (streaming decrements plus, per merge, the
 * (k+1)-th largest combined counter, summed with the inputs' errors). For
 * every value x with true total weight f(x) and counter c(x) (0 when not
 * listed):  c(x) <= f(x) <= c(x) + error,  and
 *   error <= (total − sum of counters) / (k + 1) <= total / (k + 1),
 * after any sequence of adds and merges. So every value heavier than
 * total / (k + 1) is listed.
 *
 * State: {"type":"topk","version":1,"k":K,"max_value_len":L,"total":N,
 *         "error":E,"entries":[["<base64 value>",count,truncated 0|1],...]}
 * with entries in query order.
 * ------------------------------------------------------------------------- */

#define DOPPEL_TOPK_K_DEFAULT 1024
#define DOPPEL_TOPK_K_MAX 65536
#define DOPPEL_TOPK_VALUE_LEN_DEFAULT 256
#define DOPPEL_TOPK_VALUE_LEN_MAX 4096

typedef struct doppel_topk doppel_topk;

typedef struct doppel_topk_entry {
  const uint8_t *value;  /* value bytes, borrowed from the sketch (valid until it changes) */
  size_t len;            /* value length in bytes (<= max_value_len) */
  int truncated;         /* 1 when the original values were longer and cut to len bytes */
  uint64_t lower;        /* lower bound of the true weight: the counter */
  uint64_t upper;        /* upper bound of the true weight: counter + error (<= total) */
} doppel_topk_entry;

/* New empty summary with capacity k in [1, 65536] (0 = default 1024) and
 * max_value_len in [1, 4096] (0 = default 256). DOPPEL_E_USAGE for other
 * values or a NULL out, DOPPEL_E_NOMEM. */
doppel_status doppel_topk_new(doppel_topk **out, uint32_t k, uint32_t max_value_len,
                              doppel_diag *diag);

/* Free the summary; NULL is a no-op. */
void doppel_topk_free(doppel_topk *t);

/* Capacity and value length limit. */
uint32_t doppel_topk_capacity(const doppel_topk *t);
uint32_t doppel_topk_max_value_len(const doppel_topk *t);

/* Add weight (> 0; 0 is a no-op) to a value of len bytes (value may be
 * NULL when len is 0); the bytes are copied. DOPPEL_E_LIMIT when the total
 * would exceed INT64_MAX, DOPPEL_E_NOMEM; the summary is unchanged on error.
 * Amortized O(log k + len). */
doppel_status doppel_topk_add(doppel_topk *t, const void *value, size_t len, uint64_t weight);

/* Merge src into dst (Agarwal et al.): the result has capacity
 * min(k_dst, k_src); max_value_len must be equal (DOPPEL_E_USAGE).
 * DOPPEL_E_LIMIT when the total would exceed INT64_MAX, DOPPEL_E_NOMEM; dst
 * is unchanged on error. */
doppel_status doppel_topk_merge(doppel_topk *dst, const doppel_topk *src, doppel_diag *diag);

/* Merge n >= 1 summaries in one step into a new summary *out (capacity the
 * least k, equal max_value_len required). The result depends only on the
 * multiset of inputs, not their order. Inputs are not changed. Temporary
 * memory O(total entries). Errors as doppel_topk_merge. */
doppel_status doppel_topk_merge_many(const doppel_topk *const *parts, size_t n, doppel_topk **out,
                                     doppel_diag *diag);

/* Number of entries (<= k). */
size_t doppel_topk_size(const doppel_topk *t);
/* Total weight added (exact). */
uint64_t doppel_topk_total(const doppel_topk *t);
/* The error bound described above. */
uint64_t doppel_topk_error(const doppel_topk *t);

/* Write the entries, sorted by counter descending, then value bytes
 * ascending (shorter prefix first), untruncated before truncated, into
 * entries[0..cap) and their number into *n (at most cap; the first cap in
 * that order when there are more). Value pointers are borrowed from t.
 * Never fails (returns DOPPEL_E_USAGE only for NULL arguments). */
doppel_status doppel_topk_query(const doppel_topk *t, doppel_topk_entry *entries, size_t cap,
                                size_t *n);

/* Serialize to a new JSON object (*out). DOPPEL_E_NOMEM on failure. */
doppel_status doppel_topk_to_json(const doppel_topk *t, json_t **out, doppel_diag *diag);

/* Load a state written by doppel_topk_to_json. DOPPEL_E_DATA with a message
 * for anything malformed or inconsistent (more than k entries, values over
 * the length limit, duplicates, zero counts, counters and error not fitting
 * the total, ...), DOPPEL_E_NOMEM. */
doppel_status doppel_topk_from_json(const json_t *state, doppel_topk **out, doppel_diag *diag);

#ifdef __cplusplus
}
#endif
#endif
