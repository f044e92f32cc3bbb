/*
 * doppel/keyed.h — secret keys, key ids, per-domain subkeys and keyed
 * pseudonyms (OpenSSL 3).
 *
 * Key file: 64 hexadecimal characters (a 256-bit key) and an optional
 * newline, written by doppel_key_generate() with mode 0600. A key file that
 * is readable or writable by group or others is refused (DOPPEL_E_KEY_PERM).
 *
 * Key id: the first 8 bytes of HMAC-SHA256(key, "doppel key id v1") in hex
 * (16 characters). It identifies the key without revealing it.
 *
 * Domains: a pseudonymizer for domain D uses the subkey
 *   HKDF-SHA256(ikm = key, salt = "doppel/v1", info = "pseudonym:" || D, L = 32).
 * A pseudonym is HMAC-SHA256(subkey, frame(canonical value)), where frame =
 * 4-byte big-endian length || bytes. The same value, key and domain give the
 * same digest in every file, run and process; another domain gives an
 * unrelated one.
 *
 * Secrets: key bytes live only inside doppel_key / doppel_keyed objects and
 * are wiped (OPENSSL_cleanse) when freed. No function writes key bytes into
 * a diag, an output or a message.
 *
 * Thread safety: a doppel_key is immutable after loading and may be shared;
 * a doppel_keyed (which holds a MAC context) is used by one thread at a time.
 */
#ifndef DOPPEL_KEYED_H
#define DOPPEL_KEYED_H

#include <doppel/status.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define DOPPEL_KEY_BYTES 32
#define DOPPEL_KEY_ID_HEX 16
#define DOPPEL_KEY_ENV "DOPPEL_KEY_FILE"

typedef struct doppel_key doppel_key;

/* Write a new random key (RAND_bytes) to path with mode 0600. Refuses an
 * existing path (DOPPEL_E_EXISTS); writes an unnamed O_TMPFILE file (or,
 * where unsupported, a named temporary) and links it into place, so a
 * failed or killed run leaves no file behind. */
doppel_status doppel_key_generate(const char *path, doppel_diag *diag);

/* As doppel_key_generate(), and hand out the new key (*out, owned by the
 * caller; NULL on failure). The key and its id are made before the file is
 * written, so a failure (out of memory included) leaves no file, and a
 * success needs no reload to tell the key id. */
doppel_status doppel_key_create(doppel_key **out, const char *path, doppel_diag *diag);

/* Load a key from path; when path is NULL, from the file named by the
 * environment variable DOPPEL_KEY_FILE. Checks permissions and format
 * (DOPPEL_E_KEY / DOPPEL_E_KEY_PERM, message names the file, never its
 * content). */
doppel_status doppel_key_load(doppel_key **out, const char *path, doppel_diag *diag);

/* Build a key from raw bytes (tests, embedding). len must be 32. Also
 * computes the key id: DOPPEL_E_NOMEM or DOPPEL_E_CRYPTO when OpenSSL
 * fails. */
doppel_status doppel_key_from_bytes(doppel_key **out, const uint8_t *bytes, size_t len);

/* Key id as 16 lowercase hex characters + NUL into out (>= 17 bytes);
 * computed when the key was made, so this cannot fail ("" for NULL). */
void doppel_key_id(const doppel_key *key, char *out);

/* Wipe and free. NULL is a no-op. */
void doppel_key_free(doppel_key *key);

/* A keyed hasher for one domain: holds the HMAC inner/outer states derived
 * from the domain subkey (the subkey itself is wiped once they are built). */
typedef struct doppel_keyed doppel_keyed;

doppel_status doppel_keyed_new(doppel_keyed **out, const doppel_key *key, const char *domain,
                               doppel_diag *diag);
/* HMAC-SHA256(subkey, frame(value)) → digest (32 bytes). */
doppel_status doppel_keyed_digest(doppel_keyed *k, const void *value, size_t len,
                                  uint8_t digest[32]);
void doppel_keyed_free(doppel_keyed *k);

/* Plain primitives, exposed for known-answer tests and embedding. */
doppel_status doppel_hmac_sha256(const uint8_t *key, size_t key_len, const void *msg,
                                 size_t msg_len, uint8_t out[32]);
doppel_status doppel_hkdf_sha256(const uint8_t *ikm, size_t ikm_len, const uint8_t *salt,
                                 size_t salt_len, const uint8_t *info, size_t info_len,
                                 uint8_t *out, size_t out_len);

/* Pseudonym encodings of a digest. Each writes a NUL-terminated string into
 * out and returns its length, or 0 when out_size is too small.
 *   hex:   bits/4 lowercase hex characters (bits in 64..256, multiple of 8;
 *          default 128)
 *   uuid:  RFC 9562 version 8 layout 8-4-4-4-12 (122 digest bits)
 *   email: <hex, bits/4 chars>@<label>.invalid
 *   phone: keeps a leading '+' with its country code, every non-digit
 *          character and the number of digits; the remaining digits come
 *          from the digest
 *   ipv4:  240.0.0.0/4 (reserved) + 28 digest bits
 *   ipv6:  2001:db8::/32 (documentation) + 96 digest bits */
size_t doppel_pseudo_hex(const uint8_t digest[32], unsigned bits, char *out, size_t out_size);
size_t doppel_pseudo_uuid(const uint8_t digest[32], char *out, size_t out_size);
size_t doppel_pseudo_email(const uint8_t digest[32], unsigned bits, const char *label,
                           char *out, size_t out_size);
size_t doppel_pseudo_phone(const uint8_t digest[32], const char *orig, size_t orig_len,
                           char *out, size_t out_size);
size_t doppel_pseudo_ipv4(const uint8_t digest[32], char *out, size_t out_size);
size_t doppel_pseudo_ipv6(const uint8_t digest[32], char *out, size_t out_size);

#ifdef __cplusplus
}
#endif
#endif
