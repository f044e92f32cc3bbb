/*
 * crypto/crypto_int.h — internals shared by the crypto module's files: the
 * layout of doppel_key (opaque in the public API) and a lowercase hex
 * encoder. Not for use outside src/crypto.
 */
#ifndef DP_CRYPTO_INT_H
#define DP_CRYPTO_INT_H

#include <doppel/keyed.h>
#include <stddef.h>
#include <stdint.h>

/* A loaded key: the 32 secret bytes, wiped by doppel_key_free(). */
struct doppel_key {
  uint8_t bytes[DOPPEL_KEY_BYTES];
};

/* Write 2*n lowercase hex characters for in[0..n) to out (no NUL). */
static inline void dp_hex_lower(const uint8_t *in, size_t n, char *out) {
  static const char digits[] = "0123456789abcdef";
  for (size_t i = 0; i < n; i++) {
    out[2 * i] = digits[in[i] >> 4];
    out[2 * i + 1] = digits[in[i] & 0x0f];
  }
}

#endif
