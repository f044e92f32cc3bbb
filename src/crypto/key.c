/*
 * crypto/key.c — key files, in-memory keys and key ids (see doppel/keyed.h).
 *
 * doppel_key_generate() draws 32 bytes from RAND_bytes, writes them as 64
 * lowercase hex digits and a newline to an unnamed O_TMPFILE file in the
 * target's directory (io/unnamed.h; mode 0600), fsyncs it and links it into
 * place with linkat, which fails on an existing path, so an existing key is
 * never replaced and a killed run leaves nothing. Where O_TMPFILE is
 * unavailable (or DOPPEL_NO_TMPFILE=1) the file is a named temporary
 * "KEY.tmp-XXXXXXXXXXXX" (O_CREAT|O_EXCL) hard-linked into place instead.
 * doppel_key_load() opens the file once and checks type, permissions and
 * format on that descriptor (no check-then-open race). A key's id is
 * computed when the key is made, so a failure there (out of memory inside
 * OpenSSL) is a load error, not an empty id later. Every buffer that held
 * key material is wiped with OPENSSL_cleanse, and messages name the file but
 * never show its content.
 */
#include "core/diag.h"
#include "crypto/crypto_int.h"
#include "io/unnamed.h"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/rand.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#define KEY_HEX_LEN (2 * DOPPEL_KEY_BYTES)
/* Longest valid key file: 64 hex digits + "\r\n". */
#define KEY_FILE_MAX (KEY_HEX_LEN + 2)

static const char key_id_label[] = "doppel key id v1";

/* errno value e as text with a lowercase first letter (diag texts are
 * lowercase), into buf. */
static void err_text(int e, char *buf, size_t size) {
  if (strerror_r(e, buf, size) != 0) snprintf(buf, size, "error %d", e);
  if (buf[0] >= 'A' && buf[0] <= 'Z') buf[0] = (char)(buf[0] - 'A' + 'a');
}

/* Value of one hex digit (either case), or -1. */
static int hex_val(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* Parse key file content: exactly 64 hex digits, then nothing, "\n" or
 * "\r\n". Fills out and returns 1, or returns 0 (out may be partly written;
 * the caller wipes it). */
static int parse_key_text(const char *buf, size_t n, uint8_t out[DOPPEL_KEY_BYTES]) {
  if (n == KEY_HEX_LEN + 1 && buf[KEY_HEX_LEN] == '\n') {
    n = KEY_HEX_LEN;
  } else if (n == KEY_HEX_LEN + 2 && buf[KEY_HEX_LEN] == '\r' && buf[KEY_HEX_LEN + 1] == '\n') {
    n = KEY_HEX_LEN;
  }
  if (n != KEY_HEX_LEN) return 0;
  for (size_t i = 0; i < DOPPEL_KEY_BYTES; i++) {
    int hi = hex_val(buf[2 * i]);
    int lo = hex_val(buf[2 * i + 1]);
    if (hi < 0 || lo < 0) return 0;
    out[i] = (uint8_t)(hi << 4 | lo);
  }
  return 1;
}

/* Write all n bytes of p to fd, retrying on EINTR and short writes.
 * Returns 0, or -1 with errno set. */
static int write_all(int fd, const char *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

/* The directory part of path ("." when it has none), malloc'd; NULL when
 * out of memory. */
static char *parent_dir(const char *path) {
  const char *slash = strrchr(path, '/');
  if (!slash) return strdup(".");
  size_t n = (slash == path) ? 1 : (size_t)(slash - path);
  char *dir = malloc(n + 1);
  if (dir) {
    memcpy(dir, path, n);
    dir[n] = '\0';
  }
  return dir;
}

/* Best-effort fsync of the directory holding path, so a new directory
 * entry survives a crash. Errors are ignored (some file systems refuse). */
static void fsync_parent_dir(const char *path) {
  char *dir = parent_dir(path);
  if (!dir) return;
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    (void)fsync(fd);
    close(fd);
  }
  free(dir);
}

static doppel_status exists_error(const char *path, doppel_diag *diag) {
  return dp_diag_set(diag, DOPPEL_E_EXISTS, NULL, 0, 0,
                     "key file '%s' already exists; refusing to overwrite it", path);
}

/* Create a new temporary file "<path>.tmp-<random>" with O_EXCL and mode
 * 0600. Returns the descriptor (name in tmp, tmp_size bytes) or -1 with
 * errno set; errno 0 means the random name could not be drawn. */
static int create_temp(const char *path, char *tmp, size_t tmp_size) {
  for (int attempt = 0; attempt < 16; attempt++) {
    uint8_t r[6];
    char rhex[2 * sizeof r + 1];
    if (RAND_bytes(r, (int)sizeof r) != 1) {
      ERR_clear_error();
      errno = 0;
      return -1;
    }
    dp_hex_lower(r, sizeof r, rhex);
    rhex[2 * sizeof r] = '\0';
    snprintf(tmp, tmp_size, "%s.tmp-%s", path, rhex);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600);
    if (fd >= 0 || errno != EEXIST) return fd;
  }
  errno = EEXIST;
  return -1;
}

/* The named fallback of doppel_key_generate(): write text (n bytes) to a
 * fresh "<path>.tmp-<random>", fsync it and hard-link it to path. The caller
 * wipes text. */
static doppel_status generate_named(const char *path, const char *text, size_t n,
                                    doppel_diag *diag) {
  doppel_status st_out = DOPPEL_OK;
  char why[128];
  struct stat st;
  size_t tmp_size = strlen(path) + 32;
  char *tmp = malloc(tmp_size);
  if (!tmp) return dp_diag_set(diag, DOPPEL_E_NOMEM, NULL, 0, 0, NULL);
  int fd = create_temp(path, tmp, tmp_size);
  if (fd < 0) {
    int e = errno;
    free(tmp);
    if (e == 0) {
      return dp_diag_set(diag, DOPPEL_E_CRYPTO, NULL, 0, 0,
                         "cannot draw random bytes for key file '%s'", path);
    }
    err_text(e, why, sizeof why);
    return dp_diag_set(diag, DOPPEL_E_IO, NULL, 0, 0, "cannot create key file '%s': %s", path,
                       why);
  }

  /* fchmod: the umask may have cleared owner bits of the 0600 request. */
  int ok = fchmod(fd, 0600) == 0 && write_all(fd, text, n) == 0 && fsync(fd) == 0;
  int e = errno;
  if (close(fd) != 0 && ok) {
    ok = 0;
    e = errno;
  }
  if (!ok) {
    err_text(e, why, sizeof why);
    st_out = dp_diag_set(diag, DOPPEL_E_IO, NULL, 0, 0, "cannot write key file '%s': %s", path,
                         why);
    unlink(tmp);
    free(tmp);
    return st_out;
  }

  /* link() fails with EEXIST instead of replacing an existing entry. Where
   * hard links are unsupported, fall back to a checked rename. */
  if (link(tmp, path) == 0) {
    unlink(tmp);
  } else if (errno == EEXIST) {
    st_out = exists_error(path, diag);
    unlink(tmp);
  } else if (errno == EPERM || errno == ENOTSUP || errno == EOPNOTSUPP || errno == ENOSYS ||
             errno == EMLINK) {
    if (lstat(path, &st) == 0) {
      st_out = exists_error(path, diag);
      unlink(tmp);
    } else if (rename(tmp, path) != 0) {
      err_text(errno, why, sizeof why);
      st_out = dp_diag_set(diag, DOPPEL_E_IO, NULL, 0, 0, "cannot create key file '%s': %s",
                           path, why);
      unlink(tmp);
    }
  } else {
    err_text(errno, why, sizeof why);
    st_out = dp_diag_set(diag, DOPPEL_E_IO, NULL, 0, 0, "cannot create key file '%s': %s", path,
                         why);
    unlink(tmp);
  }
  free(tmp);
  if (st_out == DOPPEL_OK) fsync_parent_dir(path);
  return st_out;
}

/* Write the key file text (n bytes) to path: an unnamed temporary linked
 * into place, or the named fallback. Never replaces an existing path. The
 * caller wipes text. */
static doppel_status write_key_file(const char *path, const char *text, size_t n,
                                    doppel_diag *diag) {
  doppel_status st_out = DOPPEL_OK;
  char why[128];
  char *dir = parent_dir(path);
  if (!dir) return dp_diag_set(diag, DOPPEL_E_NOMEM, NULL, 0, 0, NULL);
  int fd = -1;
  int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
#ifdef O_PATH
  if (dfd < 0 && errno == EACCES) dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
#endif
  if (dfd >= 0) fd = dp_unnamed_open(dfd, O_WRONLY | O_CLOEXEC | O_NOCTTY, 0600);
  int e = errno;
  free(dir);
  if (fd == DP_UNNAMED_UNSUPPORTED) {
    close(dfd);
    return generate_named(path, text, n, diag);
  }
  if (fd < 0) {
    if (dfd >= 0) close(dfd);
    err_text(e, why, sizeof why);
    return dp_diag_set(diag, DOPPEL_E_IO, NULL, 0, 0, "cannot create key file '%s': %s", path,
                       why);
  }
  /* fchmod: the umask may have cleared owner bits of the 0600 request. */
  int ok = fchmod(fd, 0600) == 0 && write_all(fd, text, n) == 0 && fsync(fd) == 0;
  e = errno;
  if (!ok) {
    close(fd);
    close(dfd);
    err_text(e, why, sizeof why);
    return dp_diag_set(diag, DOPPEL_E_IO, NULL, 0, 0, "cannot write key file '%s': %s", path, why);
  }
  const char *slash = strrchr(path, '/');
  e = dp_unnamed_link(fd, dfd, slash ? slash + 1 : path); /* EEXIST: never replaces */
  close(fd);
  if (e == EEXIST) {
    st_out = exists_error(path, diag);
  } else if (e) {
    err_text(e, why, sizeof why);
    st_out = dp_diag_set(diag, DOPPEL_E_IO, NULL, 0, 0, "cannot create key file '%s': %s", path,
                         why);
  } else {
    (void)fsync(dfd);
  }
  close(dfd);
  return st_out;
}

doppel_status doppel_key_create(doppel_key **out, const char *path, doppel_diag *diag) {
  if (!out) return dp_diag_set(diag, DOPPEL_E_USAGE, NULL, 0, 0, "no output pointer given");
  *out = NULL;
  if (!path || !*path) {
    return dp_diag_set(diag, DOPPEL_E_USAGE, NULL, 0, 0, "no key file name given");
  }
  struct stat st;
  if (lstat(path, &st) == 0) return exists_error(path, diag);

  uint8_t raw[DOPPEL_KEY_BYTES];
  char text[KEY_HEX_LEN + 1];
  errno = 0;
  if (!dp_crypto_ready() || RAND_bytes(raw, (int)sizeof raw) != 1) {
    OPENSSL_cleanse(raw, sizeof raw);
    doppel_status st_rand = dp_crypto_failure();
    return dp_diag_set(diag, st_rand, NULL, 0, 0, "cannot draw random bytes for key file '%s': %s",
                       path, doppel_strerror(st_rand));
  }
  /* the key object (and its id) first: nothing can fail after the file exists */
  doppel_key *key = NULL;
  doppel_status st_key = doppel_key_from_bytes(&key, raw, sizeof raw);
  if (st_key != DOPPEL_OK) {
    OPENSSL_cleanse(raw, sizeof raw);
    return dp_diag_set(diag, st_key, NULL, 0, 0, "cannot make a key for key file '%s': %s", path,
                       doppel_strerror(st_key));
  }
  dp_hex_lower(raw, sizeof raw, text);
  text[KEY_HEX_LEN] = '\n';
  OPENSSL_cleanse(raw, sizeof raw);

  doppel_status st_out = write_key_file(path, text, sizeof text, diag);
  OPENSSL_cleanse(text, sizeof text);
  if (st_out != DOPPEL_OK) {
    doppel_key_free(key);
    return st_out;
  }
  *out = key;
  return DOPPEL_OK;
}

doppel_status doppel_key_generate(const char *path, doppel_diag *diag) {
  doppel_key *key = NULL;
  doppel_status st = doppel_key_create(&key, path, diag);
  doppel_key_free(key);
  return st;
}

/* path as a shell word for the "run: chmod 600 ..." hint: unchanged when it
 * only holds safe characters, else single-quoted; "./" before a leading '-'. */
static void shell_word(const char *path, char *buf, size_t size) {
  static const char safe[] =
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./+-,:@%=";
  const char *pre = (path[0] == '-') ? "./" : "";
  if (strspn(path, safe) == strlen(path)) {
    snprintf(buf, size, "%s%s", pre, path);
    return;
  }
  size_t n = 0;
  if (size < 3) {
    if (size) buf[0] = '\0';
    return;
  }
  buf[n++] = '\'';
  for (const char *p = pre; *p && n + 2 < size; p++) buf[n++] = *p;
  for (const char *p = path; *p; p++) {
    if (*p == '\'') {
      if (n + 5 >= size) break;
      memcpy(buf + n, "'\\''", 4);
      n += 4;
    } else {
      if (n + 2 >= size) break;
      buf[n++] = *p;
    }
  }
  buf[n++] = '\'';
  buf[n] = '\0';
}

/* Read up to size bytes from fd into buf; returns bytes read or -1. */
static ssize_t read_upto(int fd, char *buf, size_t size) {
  size_t got = 0;
  while (got < size) {
    ssize_t r = read(fd, buf + got, size - got);
    if (r < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    if (r == 0) break;
    got += (size_t)r;
  }
  return (ssize_t)got;
}

/* Check and parse an open key file; fd stays open. */
static doppel_status load_fd(int fd, const char *path, uint8_t bytes[DOPPEL_KEY_BYTES],
                             doppel_diag *diag) {
  char why[128];
  struct stat st;
  if (fstat(fd, &st) != 0) {
    err_text(errno, why, sizeof why);
    return dp_diag_set(diag, DOPPEL_E_IO, NULL, 0, 0, "cannot read key file '%s': %s", path,
                       why);
  }
  if (!S_ISREG(st.st_mode)) {
    return dp_diag_set(diag, DOPPEL_E_KEY, NULL, 0, 0, "key file '%s' is not a regular file",
                       path);
  }
  if (st.st_mode & 077) {
    const char *what = (st.st_mode & 044)   ? "readable"
                       : (st.st_mode & 022) ? "writable"
                                            : "accessible";
    char word[300];
    shell_word(path, word, sizeof word);
    return dp_diag_set(diag, DOPPEL_E_KEY_PERM, NULL, 0, 0,
                       "key file '%s' is %s by group or others (mode %04o); run: chmod 600 %s",
                       path, what, (unsigned)(st.st_mode & 07777), word);
  }
  doppel_status rc = DOPPEL_OK;
  char text[KEY_FILE_MAX + 1];
  ssize_t n = 0;
  if (st.st_size <= KEY_FILE_MAX) n = read_upto(fd, text, sizeof text);
  if (n < 0) {
    err_text(errno, why, sizeof why);
    rc = dp_diag_set(diag, DOPPEL_E_IO, NULL, 0, 0, "cannot read key file '%s': %s", path, why);
  } else if (st.st_size > KEY_FILE_MAX || !parse_key_text(text, (size_t)n, bytes)) {
    rc = dp_diag_set(diag, DOPPEL_E_KEY, NULL, 0, 0,
                     "key file '%s' is not a doppel key (expected 64 hexadecimal characters)",
                     path);
  }
  OPENSSL_cleanse(text, sizeof text);
  return rc;
}

doppel_status doppel_key_load(doppel_key **out, const char *path, doppel_diag *diag) {
  if (!out) return dp_diag_set(diag, DOPPEL_E_USAGE, NULL, 0, 0, "no output pointer given");
  *out = NULL;
  if (!path) path = getenv(DOPPEL_KEY_ENV);
  if (!path || !*path) {
    return dp_diag_set(diag, DOPPEL_E_KEY, NULL, 0, 0,
                       "no key file given: pass --key FILE or set " DOPPEL_KEY_ENV);
  }
  /* O_NONBLOCK: opening a FIFO must not hang; it is refused by the S_ISREG check. */
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) {
    char why[128];
    err_text(errno, why, sizeof why);
    return dp_diag_set(diag, DOPPEL_E_KEY, NULL, 0, 0, "cannot open key file '%s': %s", path,
                       why);
  }
  uint8_t bytes[DOPPEL_KEY_BYTES];
  doppel_status rc = load_fd(fd, path, bytes, diag);
  close(fd);
  if (rc == DOPPEL_OK) {
    rc = doppel_key_from_bytes(out, bytes, sizeof bytes);
    if (rc != DOPPEL_OK)
      rc = dp_diag_set(diag, rc, NULL, 0, 0, "cannot load key file '%s': %s", path, doppel_strerror(rc));
  }
  OPENSSL_cleanse(bytes, sizeof bytes);
  return rc;
}

doppel_status doppel_key_from_bytes(doppel_key **out, const uint8_t *bytes, size_t len) {
  if (!out) return DOPPEL_E_USAGE;
  *out = NULL;
  if (!bytes || len != DOPPEL_KEY_BYTES) return DOPPEL_E_USAGE;
  doppel_key *k = malloc(sizeof *k);
  if (!k) return DOPPEL_E_NOMEM;
  memcpy(k->bytes, bytes, DOPPEL_KEY_BYTES);
  uint8_t mac[32];
  doppel_status st = doppel_hmac_sha256(k->bytes, sizeof k->bytes, key_id_label,
                                        sizeof key_id_label - 1, mac);
  if (st != DOPPEL_OK) {
    OPENSSL_cleanse(mac, sizeof mac);
    doppel_key_free(k);
    return st;
  }
  dp_hex_lower(mac, DOPPEL_KEY_ID_HEX / 2, k->id);
  k->id[DOPPEL_KEY_ID_HEX] = '\0';
  OPENSSL_cleanse(mac, sizeof mac);
  *out = k;
  return DOPPEL_OK;
}

void doppel_key_id(const doppel_key *key, char *out) {
  if (!out) return;
  out[0] = '\0';
  if (!key) return;
  memcpy(out, key->id, sizeof key->id);
}

void doppel_key_free(doppel_key *key) {
  if (!key) return;
  OPENSSL_cleanse(key->bytes, sizeof key->bytes);
  free(key);
}
