/*
 * crypto/crypto_int.h — internals shared by the crypto module's files: the
 * layout of doppel_key (opaque in the public API), a lowercase hex encoder,
 * and the OpenSSL readiness check and failure classification every entry
 * point into OpenSSL uses. Not for use outside src/crypto.
 */
#ifndef DP_CRYPTO_INT_H
#define DP_CRYPTO_INT_H

#include <doppel/keyed.h>
#include <stddef.h>
#include <stdint.h>

/* A loaded key: the 32 secret bytes, wiped by doppel_key_free(), and its
 * key id, computed once when the key is made (so doppel_key_id cannot fail). */
struct doppel_key {
  uint8_t bytes[DOPPEL_KEY_BYTES];  /* the secret */
  char id[DOPPEL_KEY_ID_HEX + 1];   /* key id, lowercase hex, NUL-terminated (public) */
};

/* 1 when OpenSSL is initialized and usable, else 0. OpenSSL 3.0 does not
 * survive an allocation failure inside its one-time initialization (its
 * next call dereferences a lock that was never made), so every public entry
 * point that reaches OpenSSL first asks this and fails cleanly instead.
 * Cheap after the first call; thread-safe (OpenSSL's run-once). */
int dp_crypto_ready(void);

/* Status for OpenSSL calls that failed: DOPPEL_E_NOMEM when they ran out
 * of memory (errno ENOMEM, which the caller clears before the calls,
 * ERR_R_MALLOC_FAILURE on OpenSSL's error queue, or an OpenSSL allocation
 * that failed earlier in this process and that OpenSSL swallowed), else
 * DOPPEL_E_CRYPTO. Clears the error queue. */
doppel_status dp_crypto_failure(void);

/* Write 2*n lowercase hex characters for in[0..n) to out (no NUL). */
static inline void dp_hex_lower(const uint8_t *in, size_t n, char *out) {
  static const char digits[] = "0123456789abcdef";
  for (size_t i = 0; i < n; i++) {
    out[2 * i] = digits[in[i] >> 4];
    out[2 * i + 1] = digits[in[i] & 0x0f];
  }
}

#endif
