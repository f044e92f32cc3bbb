/*
 * crypto/hmac.c — HMAC-SHA256 and HKDF-SHA256 one-shot helpers, and the
 * per-domain keyed hasher doppel_keyed (see doppel/keyed.h).
 *
 * The one-shot helpers use EVP_MAC ("HMAC") and EVP_KDF ("HKDF").
 *
 * doppel_keyed is on the hot path (one call per identifier value), so it
 * runs HMAC (RFC 2104) itself on top of EVP_MD SHA-256: at creation it
 * absorbs subkey^ipad and subkey^opad into two SHA-256 contexts; each digest
 * copies those precomputed states (EVP_MD_CTX_copy_ex) into a persistent
 * work context, so a call costs two SHA-256 compressions and no allocation
 * by this module. This is about 20% faster than re-initialising an
 * EVP_MAC_CTX with EVP_MAC_init(ctx, NULL, 0, NULL) and, unlike that, does
 * not depend on the key-reuse fix that OpenSSL only shipped in 3.0.3
 * (openssl#17811: before it, such a re-init silently gave wrong MACs). The
 * test suite checks it against EVP_MAC HMAC. The subkey itself is wiped as
 * soon as the pad states are built; the states are wiped by OpenSSL when
 * their contexts are freed.
 *
 * Failures: entry points check dp_crypto_ready() before their first OpenSSL
 * call, and report an OpenSSL failure caused by a failed allocation as
 * DOPPEL_E_NOMEM rather than DOPPEL_E_CRYPTO (dp_crypto_failure()). To tell,
 * the first dp_crypto_ready() installs OpenSSL memory functions that note a
 * failed allocation (CRYPTO_set_mem_functions; only when nobody has
 * customized them and OpenSSL has not allocated yet, else nothing changes).
 */
#include "core/diag.h"
#include "crypto/crypto_int.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define SHA256_LEN 32
#define SHA256_BLOCK 64

/* HKDF parameters of the pseudonym subkeys (see keyed.h). */
static const char subkey_salt[] = "doppel/v1";
static const char subkey_info_prefix[] = "pseudonym:";
/* Longest domain name: keeps "pseudonym:" || domain under the 1024-byte
 * HKDF info limit of OpenSSL 3.0. */
#define DOMAIN_MAX 512

/* OpenSSL's allocation functions, installed before its first allocation
 * when nobody customized them: plain malloc/realloc/free (what OpenSSL's
 * defaults call) that remember a failure. OpenSSL 3.0 swallows some failed
 * allocations (building its name map, for one) and fails a later fetch as
 * "unsupported"; the flag lets that be reported as out of memory. */
static volatile sig_atomic_t ossl_alloc_failed;
static pthread_once_t ossl_hooks_once = PTHREAD_ONCE_INIT;

static void *ossl_malloc(size_t n, const char *file, int line) {
  (void)file;
  (void)line;
  void *p = malloc(n);
  if (!p && n) ossl_alloc_failed = 1;
  return p;
}

static void *ossl_realloc(void *q, size_t n, const char *file, int line) {
  (void)file;
  (void)line;
  void *p = realloc(q, n);
  if (!p && n) ossl_alloc_failed = 1;
  return p;
}

static void ossl_free(void *p, const char *file, int line) {
  (void)file;
  (void)line;
  free(p);
}

static void ossl_hooks_install(void) {
  CRYPTO_malloc_fn m;
  CRYPTO_realloc_fn r;
  CRYPTO_free_fn f;
  CRYPTO_get_mem_functions(&m, &r, &f);
  if (m == CRYPTO_malloc && r == CRYPTO_realloc && f == CRYPTO_free)
    (void)CRYPTO_set_mem_functions(ossl_malloc, ossl_realloc, ossl_free); /* 0: too late, fine */
}

int dp_crypto_ready(void) {
  pthread_once(&ossl_hooks_once, ossl_hooks_install);
  return OPENSSL_init_crypto(0, NULL) == 1 && OSSL_LIB_CTX_get0_global_default() != NULL;
}

doppel_status dp_crypto_failure(void) {
  int nomem = errno == ENOMEM || ossl_alloc_failed;
  unsigned long e;
  while ((e = ERR_get_error()) != 0)
    if (ERR_GET_REASON(e) == ERR_R_MALLOC_FAILURE) nomem = 1;
  return nomem ? DOPPEL_E_NOMEM : DOPPEL_E_CRYPTO;
}

/* Stand-in for a NULL pointer with length 0: EVP_MAC HMAC and OSSL_PARAM
 * octet strings reject (NULL, 0) but accept (non-NULL, 0). */
static const uint8_t empty_input[1] = {0};

doppel_status doppel_hmac_sha256(const uint8_t *key, size_t key_len, const void *msg,
                                 size_t msg_len, uint8_t out[32]) {
  if (!out || (!key && key_len) || (!msg && msg_len)) return DOPPEL_E_USAGE;
  if (!key) key = empty_input;
  if (!dp_crypto_ready()) return dp_crypto_failure();
  errno = 0;
  char digest_name[] = "SHA256";
  OSSL_PARAM params[2];
  params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest_name, 0);
  params[1] = OSSL_PARAM_construct_end();

  EVP_MAC *mac = EVP_MAC_fetch(NULL, OSSL_MAC_NAME_HMAC, NULL);
  EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
  size_t n = 0;
  int ok = ctx != NULL && EVP_MAC_init(ctx, key, key_len, params) == 1 &&
           (msg_len == 0 || EVP_MAC_update(ctx, msg, msg_len) == 1) &&
           EVP_MAC_final(ctx, out, &n, SHA256_LEN) == 1 && n == SHA256_LEN;
  doppel_status st = ok ? DOPPEL_OK : dp_crypto_failure();
  EVP_MAC_CTX_free(ctx);
  EVP_MAC_free(mac);
  if (!ok) OPENSSL_cleanse(out, SHA256_LEN);
  return st;
  return DOPPEL_OK;
}

/* A const buffer as the void * that OSSL_PARAM constructors take. */
static void *unconst(const void *p) { return (void *)(uintptr_t)p; }

doppel_status doppel_hkdf_sha256(const uint8_t *ikm, size_t ikm_len, const uint8_t *salt,
                                 size_t salt_len, const uint8_t *info, size_t info_len,
                                 uint8_t *out, size_t out_len) {
  if (!out || out_len == 0 || out_len > 255 * SHA256_LEN || (!ikm && ikm_len) ||
      (!salt && salt_len) || (!info && info_len)) {
    return DOPPEL_E_USAGE;
  }
  if (!ikm) ikm = empty_input;
  if (!dp_crypto_ready()) return dp_crypto_failure();
  errno = 0;
  char digest_name[] = "SHA256";
  OSSL_PARAM params[5];
  OSSL_PARAM *p = params;
  *p++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest_name, 0);
  /* OSSL_PARAM takes non-const pointers; HKDF only reads these buffers. */
  *p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, unconst(ikm), ikm_len);
  /* An absent salt is RFC 5869's default (HashLen zero bytes); absent info is empty. */
  if (salt_len) {
    *p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, unconst(salt), salt_len);
  }
  if (info_len) {
    *p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, unconst(info), info_len);
  }
  *p = OSSL_PARAM_construct_end();

  EVP_KDF *kdf = EVP_KDF_fetch(NULL, OSSL_KDF_NAME_HKDF, NULL);
  EVP_KDF_CTX *ctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
  int ok = ctx != NULL && EVP_KDF_derive(ctx, out, out_len, params) == 1;
  doppel_status st = ok ? DOPPEL_OK : dp_crypto_failure();
  EVP_KDF_CTX_free(ctx);
  EVP_KDF_free(kdf);
  if (!ok) OPENSSL_cleanse(out, out_len);
  return st;
  return DOPPEL_OK;
}

struct doppel_keyed {
  EVP_MD *md;           /* fetched SHA-256 */
  EVP_MD_CTX *inner;    /* SHA-256 state after absorbing subkey ^ ipad */
  EVP_MD_CTX *outer;    /* SHA-256 state after absorbing subkey ^ opad */
  EVP_MD_CTX *work;     /* per-call scratch, reused */
};

/* Start ctx with SHA-256 and absorb one block of subkey ^ pad_byte. */
static int absorb_pad(EVP_MD_CTX *ctx, EVP_MD *md, const uint8_t subkey[SHA256_LEN],
                      uint8_t pad_byte) {
  uint8_t block[SHA256_BLOCK];
  memset(block, pad_byte, sizeof block);
  for (size_t i = 0; i < SHA256_LEN; i++) block[i] ^= subkey[i];
  int ok = EVP_DigestInit_ex(ctx, md, NULL) == 1 && EVP_DigestUpdate(ctx, block, sizeof block) == 1;
  OPENSSL_cleanse(block, sizeof block);
  return ok;
}

doppel_status doppel_keyed_new(doppel_keyed **out, const doppel_key *key, const char *domain,
                               doppel_diag *diag) {
  if (!out) return dp_diag_set(diag, DOPPEL_E_USAGE, NULL, 0, 0, "no output pointer given");
  *out = NULL;
  if (!key) return dp_diag_set(diag, DOPPEL_E_USAGE, NULL, 0, 0, "no key given");
  if (!domain) return dp_diag_set(diag, DOPPEL_E_USAGE, NULL, 0, 0, "no pseudonym domain given");
  size_t dlen = strlen(domain);
  if (dlen > DOMAIN_MAX) {
    return dp_diag_set(diag, DOPPEL_E_USAGE, NULL, 0, 0,
                       "pseudonym domain name longer than %d bytes", DOMAIN_MAX);
  }

  uint8_t info[sizeof subkey_info_prefix - 1 + DOMAIN_MAX];
  size_t plen = sizeof subkey_info_prefix - 1;
  memcpy(info, subkey_info_prefix, plen);
  memcpy(info + plen, domain, dlen);

  uint8_t subkey[SHA256_LEN];
  doppel_status st = doppel_hkdf_sha256(key->bytes, sizeof key->bytes,
                                        (const uint8_t *)subkey_salt, sizeof subkey_salt - 1,
                                        info, plen + dlen, subkey, sizeof subkey);
  if (st != DOPPEL_OK) {
    return dp_diag_set(diag, st, NULL, 0, 0, "cannot derive the subkey of domain '%s': %s", domain,
                       doppel_strerror(st));
  }

  doppel_keyed *k = calloc(1, sizeof *k);
  if (!k) {
    OPENSSL_cleanse(subkey, sizeof subkey);
    return dp_diag_set(diag, DOPPEL_E_NOMEM, NULL, 0, 0, NULL);
  }
  errno = 0;
  k->md = EVP_MD_fetch(NULL, "SHA256", NULL);
  k->inner = EVP_MD_CTX_new();
  k->outer = EVP_MD_CTX_new();
  k->work = EVP_MD_CTX_new();
  int ok = k->md && k->inner && k->outer && k->work &&
           absorb_pad(k->inner, k->md, subkey, 0x36) && absorb_pad(k->outer, k->md, subkey, 0x5c);
  OPENSSL_cleanse(subkey, sizeof subkey);
  if (!ok) {
    st = dp_crypto_failure();
    doppel_keyed_free(k);
    return dp_diag_set(diag, st, NULL, 0, 0, "cannot set up HMAC-SHA256 for domain '%s': %s",
                       domain, doppel_strerror(st));
  }
  *out = k;
  return DOPPEL_OK;
}

doppel_status doppel_keyed_digest(doppel_keyed *k, const void *value, size_t len,
                                  uint8_t digest[32]) {
  if (!k || !digest || (!value && len)) return DOPPEL_E_USAGE;
  if (len > UINT32_MAX) return DOPPEL_E_LIMIT;
  errno = 0;
  /* frame(value) = be32(len) || value; short values go in one update. */
  uint8_t buf[SHA256_BLOCK];
  buf[0] = (uint8_t)(len >> 24);
  buf[1] = (uint8_t)(len >> 16);
  buf[2] = (uint8_t)(len >> 8);
  buf[3] = (uint8_t)len;
  int ok;
  if (len <= sizeof buf - 4) {
    if (len) memcpy(buf + 4, value, len);
    ok = EVP_MD_CTX_copy_ex(k->work, k->inner) == 1 && EVP_DigestUpdate(k->work, buf, 4 + len) == 1;
  } else {
    ok = EVP_MD_CTX_copy_ex(k->work, k->inner) == 1 && EVP_DigestUpdate(k->work, buf, 4) == 1 &&
         EVP_DigestUpdate(k->work, value, len) == 1;
  }
  uint8_t inner_hash[SHA256_LEN];
  ok = ok && EVP_DigestFinal_ex(k->work, inner_hash, NULL) == 1 &&
       EVP_MD_CTX_copy_ex(k->work, k->outer) == 1 &&
       EVP_DigestUpdate(k->work, inner_hash, sizeof inner_hash) == 1 &&
       EVP_DigestFinal_ex(k->work, digest, NULL) == 1;
  if (!ok) {
    OPENSSL_cleanse(digest, SHA256_LEN);
    return dp_crypto_failure(); /* EVP_MD_CTX_copy_ex allocates a fresh state */
  }
  return DOPPEL_OK;
}

void doppel_keyed_free(doppel_keyed *k) {
  if (!k) return;
  /* Freeing an EVP_MD_CTX wipes its SHA-256 state (OPENSSL_clear_free). */
  EVP_MD_CTX_free(k->inner);
  EVP_MD_CTX_free(k->outer);
  EVP_MD_CTX_free(k->work);
  EVP_MD_free(k->md);
  free(k);
}
