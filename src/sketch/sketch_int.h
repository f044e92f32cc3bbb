/*
 * sketch/sketch_int.h — internals shared by the sketches: the byte hash's
 * mixer, strict base64, and the JSON field checks every state loader uses.
 */
#ifndef DP_SKETCH_INT_H
#define DP_SKETCH_INT_H

#include <doppel/sketch.h>

#include <stddef.h>
#include <stdint.h>

/* SplitMix64 finalizer (a bijection on 64-bit words). */
static inline uint64_t dp_sketch_mix64(uint64_t z) {
  z ^= z >> 30;
  z *= UINT64_C(0xbf58476d1ce4e5b9);
  z ^= z >> 27;
  z *= UINT64_C(0x94d049bb133111eb);
  return z ^ (z >> 31);
}

/* Length of the base64 text (with '=' padding, no NUL) for n bytes. */
static inline size_t dp_b64_encoded_len(size_t n) { return (n + 2) / 3 * 4; }

/* Encode n bytes as standard base64 with padding into out (room for
 * dp_b64_encoded_len(n) + 1 bytes); NUL-terminates. */
void dp_b64_encode(const uint8_t *in, size_t n, char *out);

/* Strict decode of len characters (alphabet A-Z a-z 0-9 + /, '=' padding
 * only at the end, length a multiple of 4, unused bits zero) into out (room
 * for len / 4 * 3 bytes). Returns the decoded length, or (size_t)-1 when the
 * text is not canonical base64. */
size_t dp_b64_decode(const char *in, size_t len, uint8_t *out);

/* JSON checks for state loaders. Each fills diag with DOPPEL_E_DATA and a
 * message naming `what` (the sketch kind) and the key on failure. */

/* "type" equals type_name, "version" is 1, and every key is in allowed
 * (NULL-terminated list). */
doppel_status dp_sketch_check_header(const json_t *state, const char *type_name,
                                     const char *const *allowed, doppel_diag *diag);

/* Integer member key in [lo, hi] into *out. */
doppel_status dp_sketch_get_int(const json_t *obj, const char *what, const char *key,
                                int64_t lo, int64_t hi, int64_t *out, doppel_diag *diag);

/* String member key into *s / *n (borrowed from obj). */
doppel_status dp_sketch_get_string(const json_t *obj, const char *what, const char *key,
                                   const char **s, size_t *n, doppel_diag *diag);

/* Set obj[key] = v, taking the reference of v; returns 0 on failure (v is
 * released then). NULL v fails. */
int dp_sketch_set(json_t *obj, const char *key, json_t *v);

/* Exact sum of doubles: a two's complement integer N of DP_XSUM_LIMBS 64-bit
 * limbs (least significant first) with value N × 2^-1074, the weight of the
 * smallest subnormal. Every finite double is an integer multiple of it, so
 * additions are exact, commutative and associative. 34 limbs hold any sum of
 * up to 2^63 doubles (|N| < 2^2161). */
#define DP_XSUM_LIMBS 34
typedef struct dp_xsum {
  uint64_t w[DP_XSUM_LIMBS];  /* limbs of N, least significant first, two's complement */
} dp_xsum;

/* Add a finite double exactly. */
void dp_xsum_add_double(dp_xsum *s, double x);
/* s += t exactly (t may be s). */
void dp_xsum_add(dp_xsum *s, const dp_xsum *t);
/* Number of significant bits of |N| (0 for zero). */
unsigned dp_xsum_bitlen(const dp_xsum *s);
/* (N × 2^-1074) / div (div >= 1) rounded to double (once for div = 1,
 * except in the subnormal range); ±inf when out of range. */
double dp_xsum_value(const dp_xsum *s, uint64_t div);
/* Exact hex float "[-]0x<hex>p<+-exp>" with an odd mantissa ("0x0p+0" for
 * zero) into buf (DP_XSUM_TEXT_MAX bytes). Returns its length. */
#define DP_XSUM_TEXT_MAX 600
size_t dp_xsum_format(const dp_xsum *s, char *buf);
/* Parse a hex float as written by dp_xsum_format (any mantissa, exponent
 * >= -1074) whose |N| has at most max_bits bits. Returns 0 on success,
 * -1 when malformed or out of range. */
int dp_xsum_parse(dp_xsum *s, const char *text, size_t n, unsigned max_bits);

#endif
