/*
 * test_keyed.c — tests of doppel/keyed.h: HMAC-SHA256 (RFC 4231) and
 * HKDF-SHA256 (RFC 5869) known answers, key files (generation, loading,
 * permission and format checks, no key bytes in messages), key ids, the
 * per-domain keyed digest (known answers and agreement with the one-shot
 * primitives under context reuse) and the pseudonym encodings.
 *
 * Independent expected values (not computed by the code under test):
 * - key id of key bytes 00..1f: `printf 'doppel key id v1' | openssl dgst
 *   -sha256 -mac HMAC -macopt hexkey:000102...1f`, first 16 hex digits.
 * - keyed digests, with Python 3 (hmac/hashlib, HKDF per RFC 5869):
 *     import hmac, hashlib
 *     def hkdf(ikm, salt, info, L):
 *         prk = hmac.new(salt, ikm, hashlib.sha256).digest()
 *         okm = t = b''; i = 1
 *         while len(okm) < L:
 *             t = hmac.new(prk, t + info + bytes([i]), hashlib.sha256).digest()
 *             okm += t; i += 1
 *         return okm[:L]
 *     key = bytes(range(32))
 *     sub = hkdf(key, b'doppel/v1', b'pseudonym:' + domain, 32)
 *     hmac.new(sub, len(msg).to_bytes(4, 'big') + msg, hashlib.sha256).hexdigest()
 * - phone digits: successive digest bytes < 250 mod 10, then
 *   hashlib.sha256(block) when a block is used up; uuid/ip by hand and with
 *   Python's uuid / ipaddress modules.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <doppel/keyed.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

/* ---- helpers ---------------------------------------------------------- */

static char tmpdir[256];

static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* Decode hex into out (capacity cap); returns the byte count. */
static size_t unhex(const char *hex, uint8_t *out, size_t cap) {
  size_t n = strlen(hex) / 2;
  assert_true(n <= cap);
  for (size_t i = 0; i < n; i++) {
    int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
    assert_true(hi >= 0 && lo >= 0);
    out[i] = (uint8_t)(hi << 4 | lo);
  }
  return n;
}

static void tohex(const uint8_t *in, size_t n, char *out) {
  for (size_t i = 0; i < n; i++) sprintf(out + 2 * i, "%02x", in[i]);
  out[2 * n] = '\0';
}

static void fill(uint8_t *p, uint8_t v, size_t n) { memset(p, v, n); }

static void path_in_tmp(char *buf, size_t size, const char *name) {
  snprintf(buf, size, "%s/%s", tmpdir, name);
}

static void write_file(const char *path, const char *content, size_t len, mode_t mode) {
  unlink(path);
  int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
  assert_true(fd >= 0);
  assert_int_equal(fchmod(fd, mode), 0);
  assert_int_equal(write(fd, content, len), (ssize_t)len);
  assert_int_equal(close(fd), 0);
}

static void read_file(const char *path, char *buf, size_t size, size_t *len) {
  int fd = open(path, O_RDONLY);
  assert_true(fd >= 0);
  ssize_t n = read(fd, buf, size - 1);
  assert_true(n >= 0);
  buf[n] = '\0';
  *len = (size_t)n;
  close(fd);
}

static size_t count_dir_entries(void) {
  DIR *d = opendir(tmpdir);
  assert_non_null(d);
  size_t n = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) n++;
  }
  closedir(d);
  return n;
}

static void empty_tmpdir(void) {
  DIR *d = opendir(tmpdir);
  if (!d) return;
  struct dirent *e;
  char p[512];
  while ((e = readdir(d)) != NULL) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    snprintf(p, sizeof p, "%s/%s", tmpdir, e->d_name);
    if (unlink(p) != 0) rmdir(p);
  }
  closedir(d);
}

static int group_setup(void **state) {
  (void)state;
  const char *base = getenv("TMPDIR");
  snprintf(tmpdir, sizeof tmpdir, "%s/doppel-keyed-XXXXXX", base && *base ? base : "/tmp");
  return mkdtemp(tmpdir) ? 0 : -1;
}

static int group_teardown(void **state) {
  (void)state;
  empty_tmpdir();
  return rmdir(tmpdir);
}

static int test_setup(void **state) {
  (void)state;
  empty_tmpdir();
  unsetenv(DOPPEL_KEY_ENV);
  return 0;
}

static const char fixed_key_hex[] =
    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

static doppel_key *fixed_key(void) {
  uint8_t b[32];
  for (int i = 0; i < 32; i++) b[i] = (uint8_t)i;
  doppel_key *k = NULL;
  assert_int_equal(doppel_key_from_bytes(&k, b, sizeof b), DOPPEL_OK);
  assert_non_null(k);
  return k;
}

/* ---- RFC 4231 HMAC-SHA256 --------------------------------------------- */

static void test_hmac_rfc4231(void **state) {
  (void)state;
  uint8_t key[131], data[152], out[32];
  char hex[65];
  static const char t1[] = "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7";
  static const char t2[] = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";
  static const char t3[] = "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe";
  static const char t4[] = "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b";
  static const char t5[] = "a3b6167473100ee06e0c796c2955552b"; /* truncated to 128 bits */
  static const char t6[] = "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54";
  static const char t7[] = "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2";

  /* 1 */
  fill(key, 0x0b, 20);
  assert_int_equal(doppel_hmac_sha256(key, 20, "Hi There", 8, out), DOPPEL_OK);
  tohex(out, 32, hex);
  assert_string_equal(hex, t1);
  /* 2 */
  assert_int_equal(doppel_hmac_sha256((const uint8_t *)"Jefe", 4,
                                      "what do ya want for nothing?", 28, out),
                   DOPPEL_OK);
  tohex(out, 32, hex);
  assert_string_equal(hex, t2);
  /* 3 */
  fill(key, 0xaa, 20);
  fill(data, 0xdd, 50);
  assert_int_equal(doppel_hmac_sha256(key, 20, data, 50, out), DOPPEL_OK);
  tohex(out, 32, hex);
  assert_string_equal(hex, t3);
  /* 4 */
  for (int i = 0; i < 25; i++) key[i] = (uint8_t)(i + 1);
  fill(data, 0xcd, 50);
  assert_int_equal(doppel_hmac_sha256(key, 25, data, 50, out), DOPPEL_OK);
  tohex(out, 32, hex);
  assert_string_equal(hex, t4);
  /* 5: output truncated to 128 bits — compare the prefix */
  fill(key, 0x0c, 20);
  assert_int_equal(doppel_hmac_sha256(key, 20, "Test With Truncation", 20, out), DOPPEL_OK);
  tohex(out, 16, hex);
  assert_string_equal(hex, t5);
  /* 6 */
  fill(key, 0xaa, 131);
  static const char m6[] = "Test Using Larger Than Block-Size Key - Hash Key First";
  assert_int_equal(doppel_hmac_sha256(key, 131, m6, sizeof m6 - 1, out), DOPPEL_OK);
  tohex(out, 32, hex);
  assert_string_equal(hex, t6);
  /* 7 */
  static const char m7[] =
      "This is a test using a larger than block-size key and a larger than block-size data. "
      "The key needs to be hashed before being used by the HMAC algorithm.";
  assert_int_equal(sizeof m7 - 1, 152);
  assert_int_equal(doppel_hmac_sha256(key, 131, m7, sizeof m7 - 1, out), DOPPEL_OK);
  tohex(out, 32, hex);
  assert_string_equal(hex, t7);
}

static void test_hmac_edge(void **state) {
  (void)state;
  uint8_t out[32];
  char hex[65];
  /* Empty key (NULL, 0): python hmac.new(b'', b'abc', sha256) */
  assert_int_equal(doppel_hmac_sha256(NULL, 0, "abc", 3, out), DOPPEL_OK);
  tohex(out, 32, hex);
  assert_string_equal(hex, "fd7adb152c05ef80dccf50a1fa4c05d5a3ec6da95575fc312ae7c5d091836351");
  assert_int_equal(doppel_hmac_sha256(NULL, 5, "abc", 3, out), DOPPEL_E_USAGE);
  assert_int_equal(doppel_hmac_sha256((const uint8_t *)"k", 1, NULL, 3, out), DOPPEL_E_USAGE);
  assert_int_equal(doppel_hmac_sha256((const uint8_t *)"k", 1, "abc", 3, NULL), DOPPEL_E_USAGE);
}

/* ---- RFC 5869 HKDF-SHA256 ---------------------------------------------- */

static void test_hkdf_rfc5869(void **state) {
  (void)state;
  uint8_t ikm[80], salt[80], info[80], okm[82];
  char hex[165];

  /* Test case 1 */
  fill(ikm, 0x0b, 22);
  for (int i = 0; i < 13; i++) salt[i] = (uint8_t)i;
  for (int i = 0; i < 10; i++) info[i] = (uint8_t)(0xf0 + i);
  assert_int_equal(doppel_hkdf_sha256(ikm, 22, salt, 13, info, 10, okm, 42), DOPPEL_OK);
  tohex(okm, 42, hex);
  assert_string_equal(hex, "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf"
                           "34007208d5b887185865");
  /* Test case 2 */
  for (int i = 0; i < 80; i++) {
    ikm[i] = (uint8_t)i;
    salt[i] = (uint8_t)(0x60 + i);
    info[i] = (uint8_t)(0xb0 + i);
  }
  assert_int_equal(doppel_hkdf_sha256(ikm, 80, salt, 80, info, 80, okm, 82), DOPPEL_OK);
  tohex(okm, 82, hex);
  assert_string_equal(hex, "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c"
                           "59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71"
                           "cc30c58179ec3e87c14c01d5c1f3434f1d87");
  /* Test case 3: zero-length salt and info */
  fill(ikm, 0x0b, 22);
  assert_int_equal(doppel_hkdf_sha256(ikm, 22, NULL, 0, NULL, 0, okm, 42), DOPPEL_OK);
  tohex(okm, 42, hex);
  assert_string_equal(hex, "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d"
                           "9d201395faa4b61a96c8");
  /* Empty IKM (NULL, 0): python hkdf(b'', b'salt', b'info', 32) */
  assert_int_equal(doppel_hkdf_sha256(NULL, 0, (const uint8_t *)"salt", 4,
                                      (const uint8_t *)"info", 4, okm, 32),
                   DOPPEL_OK);
  tohex(okm, 32, hex);
  assert_string_equal(hex, "7aac7b8120501c2c8e1ee50e6cde135361e99ceb9d8d406ac528b9e9175614c0");
  /* Invalid arguments */
  assert_int_equal(doppel_hkdf_sha256(ikm, 22, NULL, 0, NULL, 0, okm, 0), DOPPEL_E_USAGE);
  assert_int_equal(doppel_hkdf_sha256(ikm, 22, NULL, 0, NULL, 0, okm, 255 * 32 + 1),
                   DOPPEL_E_USAGE);
  assert_int_equal(doppel_hkdf_sha256(ikm, 22, NULL, 3, NULL, 0, okm, 32), DOPPEL_E_USAGE);
}

/* ---- key generation -------------------------------------------------- */

/* Key generation with an unnamed O_TMPFILE file (named = 0) or the named
 * temporary fallback (named = 1, DOPPEL_NO_TMPFILE=1). */
static void keygen(int named) {
  if (named) setenv("DOPPEL_NO_TMPFILE", "1", 1);
  else unsetenv("DOPPEL_NO_TMPFILE");
  char path[512], buf[256];
  size_t len;
  doppel_diag diag;
  path_in_tmp(path, sizeof path, "k1.key");

  doppel_diag_clear(&diag);
  assert_int_equal(doppel_key_generate(path, &diag), DOPPEL_OK);
  struct stat st;
  assert_int_equal(stat(path, &st), 0);
  assert_true(S_ISREG(st.st_mode));
  assert_int_equal(st.st_mode & 07777, 0600);
  read_file(path, buf, sizeof buf, &len);
  assert_int_equal(len, 65);
  assert_int_equal(buf[64], '\n');
  for (int i = 0; i < 64; i++) {
    assert_true((buf[i] >= '0' && buf[i] <= '9') || (buf[i] >= 'a' && buf[i] <= 'f'));
  }
  /* no temporary file is left behind */
  assert_int_equal(count_dir_entries(), 1);

  /* round trip: the loaded key is the bytes in the file */
  doppel_key *k = NULL;
  assert_int_equal(doppel_key_load(&k, path, &diag), DOPPEL_OK);
  assert_non_null(k);
  uint8_t raw[32];
  unhex(buf, raw, sizeof raw);
  doppel_key *k2 = NULL;
  assert_int_equal(doppel_key_from_bytes(&k2, raw, 32), DOPPEL_OK);
  char id1[17], id2[17];
  doppel_key_id(k, id1);
  doppel_key_id(k2, id2);
  assert_string_equal(id1, id2);
  assert_int_equal(strlen(id1), 16);
  doppel_keyed *a = NULL, *b = NULL;
  uint8_t da[32], db[32];
  assert_int_equal(doppel_keyed_new(&a, k, "user_id", &diag), DOPPEL_OK);
  assert_int_equal(doppel_keyed_new(&b, k2, "user_id", &diag), DOPPEL_OK);
  assert_int_equal(doppel_keyed_digest(a, "u1", 2, da), DOPPEL_OK);
  assert_int_equal(doppel_keyed_digest(b, "u1", 2, db), DOPPEL_OK);
  assert_memory_equal(da, db, 32);
  doppel_keyed_free(a);
  doppel_keyed_free(b);
  doppel_key_free(k2);

  /* an existing path is refused and left unchanged */
  doppel_diag_clear(&diag);
  assert_int_equal(doppel_key_generate(path, &diag), DOPPEL_E_EXISTS);
  assert_int_equal(diag.status, DOPPEL_E_EXISTS);
  char expect[600];
  snprintf(expect, sizeof expect, "key file '%s' already exists; refusing to overwrite it", path);
  assert_string_equal(diag.text, expect);
  char buf2[256];
  read_file(path, buf2, sizeof buf2, &len);
  assert_string_equal(buf, buf2);
  assert_int_equal(count_dir_entries(), 1);

  /* a dangling symlink counts as existing too */
  char link_path[512];
  path_in_tmp(link_path, sizeof link_path, "dangling.key");
  assert_int_equal(symlink("/nonexistent/doppel/target", link_path), 0);
  assert_int_equal(doppel_key_generate(link_path, &diag), DOPPEL_E_EXISTS);

  /* two generated keys differ */
  char path2[512];
  path_in_tmp(path2, sizeof path2, "k2.key");
  assert_int_equal(doppel_key_generate(path2, &diag), DOPPEL_OK);
  read_file(path2, buf2, sizeof buf2, &len);
  assert_int_equal(len, 65);
  assert_string_not_equal(buf, buf2);
  doppel_key *k3 = NULL;
  assert_int_equal(doppel_key_load(&k3, path2, &diag), DOPPEL_OK);
  doppel_key_id(k3, id2);
  assert_string_not_equal(id1, id2);
  doppel_key_free(k3);
  doppel_key_free(k);

  /* missing directory: I/O error naming the file */
  char bad[512];
  path_in_tmp(bad, sizeof bad, "no/such/dir/k.key");
  doppel_diag_clear(&diag);
  assert_int_equal(doppel_key_generate(bad, &diag), DOPPEL_E_IO);
  assert_non_null(strstr(diag.text, bad));

  assert_int_equal(doppel_key_generate(NULL, &diag), DOPPEL_E_USAGE);
  assert_int_equal(doppel_key_generate("", NULL), DOPPEL_E_USAGE);
  unsetenv("DOPPEL_NO_TMPFILE");
}

static void test_keygen(void **state) {
  (void)state;
  keygen(0);
}

static void test_keygen_named(void **state) {
  (void)state;
  keygen(1);
}

/* ---- key loading ------------------------------------------------------- */

/* Load path expecting failure st; the message names the file and holds
 * neither the key hex nor the file content. */
static void expect_load_error(const char *path, doppel_status st, const char *content) {
  doppel_diag diag;
  doppel_diag_clear(&diag);
  doppel_key *k = (doppel_key *)&diag; /* must be reset to NULL */
  assert_int_equal(doppel_key_load(&k, path, &diag), st);
  assert_null(k);
  assert_int_equal(diag.status, st);
  assert_non_null(strstr(diag.text, path));
  assert_null(strstr(diag.text, fixed_key_hex));
  assert_null(strstr(diag.text, "0001020304"));
  if (content && strlen(content) >= 8) {
    char head[9];
    memcpy(head, content, 8);
    head[8] = '\0';
    assert_null(strstr(diag.text, head));
  }
}

static void test_load_ok_variants(void **state) {
  (void)state;
  char path[512], text[80];
  doppel_diag diag;
  doppel_key *k = NULL;
  char id[17];
  path_in_tmp(path, sizeof path, "ok.key");

  static const char *const endings[] = {"", "\n", "\r\n"};
  for (size_t i = 0; i < 3; i++) {
    snprintf(text, sizeof text, "%s%s", fixed_key_hex, endings[i]);
    write_file(path, text, strlen(text), 0600);
    assert_int_equal(doppel_key_load(&k, path, &diag), DOPPEL_OK);
    doppel_key_id(k, id);
    assert_string_equal(id, "4f3564484bde969d");
    doppel_key_free(k);
  }
  /* uppercase hex is hex too */
  for (size_t i = 0; i < 64; i++) {
    char c = fixed_key_hex[i];
    text[i] = (char)((c >= 'a' && c <= 'f') ? c - 'a' + 'A' : c);
  }
  text[64] = '\n';
  write_file(path, text, 65, 0400);
  assert_int_equal(doppel_key_load(&k, path, &diag), DOPPEL_OK);
  doppel_key_id(k, id);
  assert_string_equal(id, "4f3564484bde969d");
  doppel_key_free(k);
}

static void test_load_permissions(void **state) {
  (void)state;
  char path[512], text[80];
  path_in_tmp(path, sizeof path, "perm.key");
  snprintf(text, sizeof text, "%s\n", fixed_key_hex);

  static const mode_t bad_modes[] = {0644, 0640, 0604, 0620, 0602, 0610, 0666, 0700 | 0007};
  for (size_t i = 0; i < sizeof bad_modes / sizeof bad_modes[0]; i++) {
    write_file(path, text, 65, bad_modes[i]);
    expect_load_error(path, DOPPEL_E_KEY_PERM, text);
    doppel_diag diag;
    doppel_key *k = NULL;
    assert_int_equal(doppel_key_load(&k, path, &diag), DOPPEL_E_KEY_PERM);
    assert_non_null(strstr(diag.text, "chmod 600"));
  }
  /* the exact message for the common case */
  write_file(path, text, 65, 0644);
  doppel_diag diag;
  doppel_key *k = NULL;
  assert_int_equal(doppel_key_load(&k, path, &diag), DOPPEL_E_KEY_PERM);
  char expect[1200];
  snprintf(expect, sizeof expect,
           "key file '%s' is readable by group or others (mode 0644); run: chmod 600 %s", path,
           path);
  assert_string_equal(diag.text, expect);

  /* after chmod 600 it loads */
  assert_int_equal(chmod(path, 0600), 0);
  assert_int_equal(doppel_key_load(&k, path, &diag), DOPPEL_OK);
  doppel_key_free(k);
}

static void test_load_bad_format(void **state) {
  (void)state;
  char path[512], text[200];
  path_in_tmp(path, sizeof path, "bad.key");
  static const char *const bad[] = {
      "",
      "\n",
      /* 63 hex digits */
      "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1\n",
      /* 65 hex digits */
      "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f0\n",
      /* non-hex character */
      "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1g\n",
      /* extra lines or spaces */
      "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n\n",
      "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f \n",
      " 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n",
      "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\r",
      /* a 128-bit key is too short */
      "000102030405060708090a0b0c0d0e0f\n",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    write_file(path, bad[i], strlen(bad[i]), 0600);
    expect_load_error(path, DOPPEL_E_KEY, bad[i]);
    doppel_diag diag;
    doppel_key *k = NULL;
    assert_int_equal(doppel_key_load(&k, path, &diag), DOPPEL_E_KEY);
    char expect[700];
    snprintf(expect, sizeof expect,
             "key file '%s' is not a doppel key (expected 64 hexadecimal characters)", path);
    assert_string_equal(diag.text, expect);
  }
  /* a large file is refused without being read */
  memset(text, 'a', sizeof text);
  write_file(path, text, sizeof text, 0600);
  expect_load_error(path, DOPPEL_E_KEY, NULL);

  /* a directory is not a key file */
  char dir[512];
  path_in_tmp(dir, sizeof dir, "adir");
  assert_int_equal(mkdir(dir, 0700), 0);
  expect_load_error(dir, DOPPEL_E_KEY, NULL);
}

static void test_load_missing_and_env(void **state) {
  (void)state;
  char path[512], text[80];
  doppel_diag diag;
  doppel_key *k = NULL;
  char id[17];

  /* missing file: error names the file */
  path_in_tmp(path, sizeof path, "missing.key");
  doppel_diag_clear(&diag);
  doppel_status st = doppel_key_load(&k, path, &diag);
  assert_true(st == DOPPEL_E_KEY || st == DOPPEL_E_IO);
  assert_null(k);
  assert_non_null(strstr(diag.text, path));

  /* no path and no environment variable */
  unsetenv(DOPPEL_KEY_ENV);
  doppel_diag_clear(&diag);
  assert_int_equal(doppel_key_load(&k, NULL, &diag), DOPPEL_E_KEY);
  assert_non_null(strstr(diag.text, "--key"));
  assert_non_null(strstr(diag.text, "DOPPEL_KEY_FILE"));
  assert_int_equal(setenv(DOPPEL_KEY_ENV, "", 1), 0);
  assert_int_equal(doppel_key_load(&k, NULL, &diag), DOPPEL_E_KEY);

  /* the environment variable names the file */
  path_in_tmp(path, sizeof path, "env.key");
  snprintf(text, sizeof text, "%s\n", fixed_key_hex);
  write_file(path, text, 65, 0600);
  assert_int_equal(setenv(DOPPEL_KEY_ENV, path, 1), 0);
  assert_int_equal(doppel_key_load(&k, NULL, &diag), DOPPEL_OK);
  doppel_key_id(k, id);
  assert_string_equal(id, "4f3564484bde969d");
  doppel_key_free(k);
  /* ... and is checked like any other path */
  assert_int_equal(chmod(path, 0640), 0);
  expect_load_error(path, DOPPEL_E_KEY_PERM, text);
  assert_int_equal(doppel_key_load(&k, NULL, &diag), DOPPEL_E_KEY_PERM);
  /* an explicit path wins over the environment */
  char other[512];
  path_in_tmp(other, sizeof other, "other.key");
  write_file(other, text, 65, 0600);
  assert_int_equal(doppel_key_load(&k, other, &diag), DOPPEL_OK);
  doppel_key_free(k);
  unsetenv(DOPPEL_KEY_ENV);

  assert_int_equal(doppel_key_load(NULL, path, &diag), DOPPEL_E_USAGE);
}

static void test_key_from_bytes(void **state) {
  (void)state;
  uint8_t b[33] = {0};
  doppel_key *k = (doppel_key *)b;
  assert_int_equal(doppel_key_from_bytes(&k, b, 31), DOPPEL_E_USAGE);
  assert_null(k);
  assert_int_equal(doppel_key_from_bytes(&k, b, 33), DOPPEL_E_USAGE);
  assert_int_equal(doppel_key_from_bytes(&k, NULL, 32), DOPPEL_E_USAGE);
  assert_int_equal(doppel_key_from_bytes(NULL, b, 32), DOPPEL_E_USAGE);
  doppel_key_free(NULL);
  doppel_keyed_free(NULL);
}

/* ---- key id ------------------------------------------------------------ */

static void test_key_id(void **state) {
  (void)state;
  doppel_key *k = fixed_key();
  char id[17];
  memset(id, 'x', sizeof id);
  doppel_key_id(k, id);
  /* printf 'doppel key id v1' |
   *   openssl dgst -sha256 -mac HMAC -macopt hexkey:000102...1f  -> 4f3564484bde969d... */
  assert_string_equal(id, "4f3564484bde969d");

  uint8_t b[32];
  for (int i = 0; i < 32; i++) b[i] = (uint8_t)i;
  b[31] ^= 1;
  doppel_key *k2 = NULL;
  assert_int_equal(doppel_key_from_bytes(&k2, b, 32), DOPPEL_OK);
  char id2[17];
  doppel_key_id(k2, id2);
  assert_int_equal(strlen(id2), 16);
  assert_string_not_equal(id, id2);
  doppel_key_free(k2);
  doppel_key_free(k);

  doppel_key_id(NULL, id);
  assert_string_equal(id, "");
}

/* ---- keyed digests ---------------------------------------------------- */

static void digest_hex(doppel_keyed *kd, const char *value, size_t len, char hex[65]) {
  uint8_t d[32];
  assert_int_equal(doppel_keyed_digest(kd, value, len, d), DOPPEL_OK);
  tohex(d, 32, hex);
}

static void test_keyed_known_answers(void **state) {
  (void)state;
  doppel_key *k = fixed_key();
  doppel_keyed *email = NULL, *uid = NULL;
  doppel_diag diag;
  char hex[65];
  assert_int_equal(doppel_keyed_new(&email, k, "email", &diag), DOPPEL_OK);
  assert_int_equal(doppel_keyed_new(&uid, k, "user_id", &diag), DOPPEL_OK);

  for (int round = 0; round < 3; round++) { /* the context is reused */
    digest_hex(email, "alice@example.com", 17, hex);
    assert_string_equal(hex, "d20d8992825582b9d9f1475eca5856929bece8ddb78965f94de1a94f8bae1320");
    digest_hex(uid, "", 0, hex);
    assert_string_equal(hex, "24c38d803597c0e5d1b3e14e044e0211e18386401e67375792efe8a1c0afa08c");
    char x100[100];
    memset(x100, 'x', sizeof x100);
    digest_hex(uid, x100, sizeof x100, hex);
    assert_string_equal(hex, "994d395acc34b6cfc68f82ad771fdab8a7532f92aa69632597073d51b3238161");
  }
  uint8_t d[32];
  assert_int_equal(doppel_keyed_digest(uid, NULL, 0, d), DOPPEL_OK);
  tohex(d, 32, hex);
  assert_string_equal(hex, "24c38d803597c0e5d1b3e14e044e0211e18386401e67375792efe8a1c0afa08c");
  assert_int_equal(doppel_keyed_digest(uid, NULL, 1, d), DOPPEL_E_USAGE);
  assert_int_equal(doppel_keyed_digest(NULL, "a", 1, d), DOPPEL_E_USAGE);
  assert_int_equal(doppel_keyed_digest(uid, "a", 1, NULL), DOPPEL_E_USAGE);
  doppel_keyed_free(email);
  doppel_keyed_free(uid);
  doppel_key_free(k);
}

/* The keyed digest equals HMAC(HKDF(key, "doppel/v1", "pseudonym:"||domain),
 * be32(len)||value) from the one-shot EVP_MAC/EVP_KDF helpers, for lengths
 * around the SHA-256 block boundaries, in any call order. */
static void test_keyed_matches_primitives(void **state) {
  (void)state;
  doppel_key *k = fixed_key();
  uint8_t kb[32];
  for (int i = 0; i < 32; i++) kb[i] = (uint8_t)i;
  static const char *const domains[] = {"user_id", "email", "", "a-much-longer-domain-name/ip"};
  doppel_keyed *kd[4];
  uint8_t sub[4][32];
  doppel_diag diag;
  for (int i = 0; i < 4; i++) {
    assert_int_equal(doppel_keyed_new(&kd[i], k, domains[i], &diag), DOPPEL_OK);
    char info[64];
    int n = snprintf(info, sizeof info, "pseudonym:%s", domains[i]);
    assert_int_equal(doppel_hkdf_sha256(kb, 32, (const uint8_t *)"doppel/v1", 9,
                                        (const uint8_t *)info, (size_t)n, sub[i], 32),
                     DOPPEL_OK);
  }
  uint8_t value[300], frame[304], got[32], want[32];
  for (size_t i = 0; i < sizeof value; i++) value[i] = (uint8_t)(i * 7 + 3);
  for (size_t len = 0; len <= sizeof value; len += (len < 130 ? 1 : 17)) {
    for (int i = 0; i < 4; i++) {
      int d = (int)((len + (size_t)i) % 4); /* interleave domains */
      frame[0] = (uint8_t)(len >> 24);
      frame[1] = (uint8_t)(len >> 16);
      frame[2] = (uint8_t)(len >> 8);
      frame[3] = (uint8_t)len;
      memcpy(frame + 4, value, len);
      assert_int_equal(doppel_hmac_sha256(sub[d], 32, frame, len + 4, want), DOPPEL_OK);
      assert_int_equal(doppel_keyed_digest(kd[d], value, len, got), DOPPEL_OK);
      assert_memory_equal(got, want, 32);
    }
  }
  for (int i = 0; i < 4; i++) doppel_keyed_free(kd[i]);
  doppel_key_free(k);
}

static void test_keyed_properties(void **state) {
  (void)state;
  doppel_key *k = fixed_key();
  doppel_diag diag;
  doppel_keyed *a1 = NULL, *a2 = NULL, *b = NULL, *other = NULL;
  assert_int_equal(doppel_keyed_new(&a1, k, "user_id", &diag), DOPPEL_OK);
  assert_int_equal(doppel_keyed_new(&a2, k, "user_id", &diag), DOPPEL_OK);
  assert_int_equal(doppel_keyed_new(&b, k, "device_id", &diag), DOPPEL_OK);
  uint8_t kb[32];
  for (int i = 0; i < 32; i++) kb[i] = (uint8_t)(0xff - i);
  doppel_key *k2 = NULL;
  assert_int_equal(doppel_key_from_bytes(&k2, kb, 32), DOPPEL_OK);
  assert_int_equal(doppel_keyed_new(&other, k2, "user_id", &diag), DOPPEL_OK);

  uint8_t d1[32], d2[32], d3[32], d4[32], d5[32];
  assert_int_equal(doppel_keyed_digest(a1, "user-42", 7, d1), DOPPEL_OK);
  assert_int_equal(doppel_keyed_digest(a2, "user-42", 7, d2), DOPPEL_OK);
  assert_memory_equal(d1, d2, 32);                 /* same value + domain */
  assert_int_equal(doppel_keyed_digest(b, "user-42", 7, d3), DOPPEL_OK);
  assert_memory_not_equal(d1, d3, 32);             /* other domain */
  assert_int_equal(doppel_keyed_digest(other, "user-42", 7, d4), DOPPEL_OK);
  assert_memory_not_equal(d1, d4, 32);             /* other key */
  assert_int_equal(doppel_keyed_digest(a1, "user-43", 7, d5), DOPPEL_OK);
  assert_memory_not_equal(d1, d5, 32);             /* other value */
  /* framing: "ab" differs from "a" + "b" boundary games and from a prefix */
  assert_int_equal(doppel_keyed_digest(a1, "user-4", 6, d5), DOPPEL_OK);
  assert_memory_not_equal(d1, d5, 32);
  assert_int_equal(doppel_keyed_digest(a1, "user-42", 7, d5), DOPPEL_OK);
  assert_memory_equal(d1, d5, 32);

  doppel_keyed *bad = (doppel_keyed *)d1;
  assert_int_equal(doppel_keyed_new(&bad, NULL, "x", &diag), DOPPEL_E_USAGE);
  assert_null(bad);
  assert_int_equal(doppel_keyed_new(&bad, k, NULL, &diag), DOPPEL_E_USAGE);
  char longdom[600];
  memset(longdom, 'd', sizeof longdom - 1);
  longdom[sizeof longdom - 1] = '\0';
  assert_int_equal(doppel_keyed_new(&bad, k, longdom, &diag), DOPPEL_E_USAGE);
  assert_null(bad);

  doppel_keyed_free(a1);
  doppel_keyed_free(a2);
  doppel_keyed_free(b);
  doppel_keyed_free(other);
  doppel_key_free(k2);
  doppel_key_free(k);
}

/* ---- encodings ---------------------------------------------------------- */

static void seq_digest(uint8_t d[32]) {
  for (int i = 0; i < 32; i++) d[i] = (uint8_t)i;
}

static void test_encode_hex(void **state) {
  (void)state;
  uint8_t d[32];
  seq_digest(d);
  char out[80];
  assert_int_equal(doppel_pseudo_hex(d, 128, out, sizeof out), 32);
  assert_string_equal(out, "000102030405060708090a0b0c0d0e0f");
  assert_int_equal(doppel_pseudo_hex(d, 0, out, sizeof out), 32); /* default 128 */
  assert_int_equal(doppel_pseudo_hex(d, 64, out, sizeof out), 16);
  assert_string_equal(out, "0001020304050607");
  assert_int_equal(doppel_pseudo_hex(d, 256, out, sizeof out), 64);
  assert_string_equal(out, fixed_key_hex);
  assert_int_equal(doppel_pseudo_hex(d, 72, out, sizeof out), 18);
  assert_int_equal(doppel_pseudo_hex(d, 60, out, sizeof out), 0);
  assert_int_equal(doppel_pseudo_hex(d, 264, out, sizeof out), 0);
  assert_int_equal(doppel_pseudo_hex(d, 100, out, sizeof out), 0);
  assert_int_equal(doppel_pseudo_hex(d, 128, out, 33), 32);
  assert_int_equal(doppel_pseudo_hex(d, 128, out, 32), 0);
  assert_string_equal(out, "");
  assert_int_equal(doppel_pseudo_hex(d, 128, out, 0), 0);
}

static void test_encode_uuid(void **state) {
  (void)state;
  uint8_t d[32];
  seq_digest(d);
  char out[64];
  assert_int_equal(doppel_pseudo_uuid(d, out, sizeof out), 36);
  assert_string_equal(out, "00010203-0405-8607-8809-0a0b0c0d0e0f");
  /* shape for many digests: 8-4-4-4-12 lowercase, version 8, variant 10xx */
  for (int t = 0; t < 256; t++) {
    for (int i = 0; i < 32; i++) d[i] = (uint8_t)(t * 31 + i * 97 + (t ^ i));
    assert_int_equal(doppel_pseudo_uuid(d, out, sizeof out), 36);
    for (int i = 0; i < 36; i++) {
      if (i == 8 || i == 13 || i == 18 || i == 23) {
        assert_int_equal(out[i], '-');
      } else {
        assert_true((out[i] >= '0' && out[i] <= '9') || (out[i] >= 'a' && out[i] <= 'f'));
      }
    }
    assert_int_equal(out[14], '8');
    assert_non_null(strchr("89ab", out[19]));
  }
  assert_int_equal(doppel_pseudo_uuid(d, out, 37), 36);
  assert_int_equal(doppel_pseudo_uuid(d, out, 36), 0);
}

static int ends_with(const char *s, const char *suffix) {
  size_t n = strlen(s), m = strlen(suffix);
  return n >= m && strcmp(s + n - m, suffix) == 0;
}

static void test_encode_email(void **state) {
  (void)state;
  uint8_t d[32];
  seq_digest(d);
  char out[200];
  assert_int_equal(doppel_pseudo_email(d, 128, "example", out, sizeof out), 32 + 1 + 7 + 8);
  assert_string_equal(out, "000102030405060708090a0b0c0d0e0f@example.invalid");
  assert_true(ends_with(out, "@example.invalid"));
  assert_int_equal(doppel_pseudo_email(d, 64, NULL, out, sizeof out), 16 + 1 + 6 + 8);
  assert_string_equal(out, "0001020304050607@pseudo.invalid");
  /* labels are sanitized to [a-z0-9-] */
  doppel_pseudo_email(d, 64, "Ex_Am.ple-1", out, sizeof out);
  assert_string_equal(out, "0001020304050607@example-1.invalid");
  doppel_pseudo_email(d, 64, "--x--", out, sizeof out);
  assert_string_equal(out, "0001020304050607@x.invalid");
  doppel_pseudo_email(d, 64, "@@ ..", out, sizeof out);
  assert_string_equal(out, "0001020304050607@pseudo.invalid");
  doppel_pseudo_email(d, 64, "", out, sizeof out);
  assert_string_equal(out, "0001020304050607@pseudo.invalid");
  /* bad bits and small buffers */
  assert_int_equal(doppel_pseudo_email(d, 12, "x", out, sizeof out), 0);
  size_t need = strlen("0001020304050607@pseudo.invalid");
  assert_int_equal(doppel_pseudo_email(d, 64, NULL, out, need + 1), need);
  assert_int_equal(doppel_pseudo_email(d, 64, NULL, out, need), 0);
}

/* Positions of non-digits equal, digit counts equal. */
static void assert_phone_shape(const char *orig, const char *out) {
  assert_int_equal(strlen(orig), strlen(out));
  for (size_t i = 0; orig[i]; i++) {
    int od = orig[i] >= '0' && orig[i] <= '9';
    int nd = out[i] >= '0' && out[i] <= '9';
    assert_int_equal(od, nd);
    if (!od) assert_int_equal(orig[i], out[i]);
  }
}

static void phone(const uint8_t d[32], const char *orig, char *out, size_t size) {
  assert_int_equal(doppel_pseudo_phone(d, orig, strlen(orig), out, size), strlen(orig));
  assert_phone_shape(orig, out);
}

static void test_encode_phone(void **state) {
  (void)state;
  char out[64];
  /* fa, ff rejected (>= 250); then 07 -> 7, 2a -> 2, 64.. -> 0 1 2 ... */
  uint8_t d[32] = {0xfa, 0xff, 0x07, 0x2a};
  for (int i = 4; i < 32; i++) d[i] = (uint8_t)(100 + i - 4);

  phone(d, "+1 (415) 555-0100", out, sizeof out);
  assert_string_equal(out, "+1 (720) 123-4567");
  assert_int_equal(strncmp(out, "+1 (", 4), 0);
  assert_int_equal(strncmp(out + 7, ") ", 2), 0);
  assert_int_equal(out[12], '-');

  phone(d, "+44 20 7946 0958", out, sizeof out);
  assert_string_equal(out, "+44 72 0123 4567");
  phone(d, "  +353 1 234 5678", out, sizeof out);     /* 3-digit code, leading spaces */
  assert_string_equal(out, "  +353 7 201 2345");
  phone(d, "+7 912 345-67-89", out, sizeof out);
  assert_string_equal(out, "+7 720 123-45-67");
  phone(d, "0044 20 7946 0958", out, sizeof out);     /* international prefix 00 */
  assert_string_equal(out, "0044 72 0123 4567");
  phone(d, "020 7946 0958", out, sizeof out);         /* national trunk prefix */
  assert_string_equal(out, "072 0123 4567");
  phone(d, "(415) 555-0100", out, sizeof out);
  assert_string_equal(out, "(720) 123-4567");
  phone(d, "+999 123", out, sizeof out);              /* unassigned code: nothing kept */
  assert_string_equal(out, "+720 123");

  /* an exhausted digest continues with SHA-256 of the block: all-0xff digest
   * rejects all 32 bytes; sha256(ff*32) gives 5 0 9 8 5 4 9 5 9 0 4 0 */
  uint8_t ff[32];
  memset(ff, 0xff, sizeof ff);
  phone(ff, "+7 123 456 789 012", out, sizeof out);
  assert_string_equal(out, "+7 509 854 959 040");

  /* long inputs stay deterministic */
  char longnum[] = "+1 234567890123456789012345678901234567890123456789";
  char out2[64];
  phone(d, longnum, out, sizeof out);
  phone(d, longnum, out2, sizeof out2);
  assert_string_equal(out, out2);

  /* small buffers */
  const char *o = "+1 (415) 555-0100";
  assert_int_equal(doppel_pseudo_phone(d, o, strlen(o), out, strlen(o) + 1), strlen(o));
  assert_int_equal(doppel_pseudo_phone(d, o, strlen(o), out, strlen(o)), 0);
  assert_int_equal(doppel_pseudo_phone(d, o, 0, out, sizeof out), 0);
  assert_int_equal(doppel_pseudo_phone(d, NULL, 3, out, sizeof out), 0);
}

static void test_encode_ipv4(void **state) {
  (void)state;
  uint8_t d[32];
  seq_digest(d);
  char out[32];
  assert_int_equal(doppel_pseudo_ipv4(d, out, sizeof out), 9);
  assert_string_equal(out, "240.1.2.3");
  for (int t = 0; t < 512; t++) {
    for (int i = 0; i < 32; i++) d[i] = (uint8_t)(t * 13 + i * 101 + (t >> 3));
    size_t n = doppel_pseudo_ipv4(d, out, sizeof out);
    assert_int_equal(n, strlen(out));
    struct in_addr a;
    assert_int_equal(inet_pton(AF_INET, out, &a), 1);
    const uint8_t *b = (const uint8_t *)&a.s_addr;
    assert_true(b[0] >= 240);
    assert_int_equal(b[0] & 0x0f, d[0] & 0x0f);
    assert_int_equal(b[1], d[1]);
  }
  memset(d, 0xff, sizeof d);
  assert_int_equal(doppel_pseudo_ipv4(d, out, 16), 15);
  assert_string_equal(out, "255.255.255.255");
  assert_int_equal(doppel_pseudo_ipv4(d, out, 15), 0);
}

static void test_encode_ipv6(void **state) {
  (void)state;
  uint8_t d[32];
  seq_digest(d);
  char out[64], ref[INET6_ADDRSTRLEN];
  static const char seq6[] = "2001:db8:1:203:405:607:809:a0b";
  assert_int_equal(doppel_pseudo_ipv6(d, out, sizeof out), strlen(seq6));
  assert_string_equal(out, seq6);

  /* zero runs: the longest run of >= 2 groups becomes "::" */
  memset(d, 0, sizeof d);
  d[5] = 5; /* groups 0 0 5 0 0 0 */
  doppel_pseudo_ipv6(d, out, sizeof out);
  assert_string_equal(out, "2001:db8:0:0:5::");
  memset(d, 0, sizeof d);
  d[1] = 1; d[5] = 1; d[7] = 1; d[9] = 1; /* groups 1 0 1 1 1 0 */
  doppel_pseudo_ipv6(d, out, sizeof out);
  assert_string_equal(out, "2001:db8:1:0:1:1:1:0");
  memset(d, 0, sizeof d);
  doppel_pseudo_ipv6(d, out, sizeof out);
  assert_string_equal(out, "2001:db8::");
  memset(d, 0, sizeof d);
  d[11] = 0xab; /* 0 0 0 0 0 ab */
  doppel_pseudo_ipv6(d, out, sizeof out);
  assert_string_equal(out, "2001:db8::ab");
  memset(d, 0, sizeof d);
  d[0] = 0xab; d[1] = 0xcd; d[6] = 0xff; /* abcd 0 0 ff00 0 0: first of equal runs */
  doppel_pseudo_ipv6(d, out, sizeof out);
  assert_string_equal(out, "2001:db8:abcd::ff00:0:0");

  /* agreement with inet_pton/inet_ntop, prefix 2001:db8::/32 */
  for (int t = 0; t < 2048; t++) {
    for (int i = 0; i < 32; i++) {
      uint8_t v = (uint8_t)(t * 29 + i * 53 + (t >> 2));
      d[i] = ((t >> (i % 8)) & 1) ? 0 : v; /* plenty of zero groups */
    }
    size_t n = doppel_pseudo_ipv6(d, out, sizeof out);
    assert_int_equal(n, strlen(out));
    assert_int_equal(strncmp(out, "2001:db8:", 9), 0);
    struct in6_addr a;
    assert_int_equal(inet_pton(AF_INET6, out, &a), 1);
    assert_int_equal(a.s6_addr[0], 0x20);
    assert_int_equal(a.s6_addr[1], 0x01);
    assert_int_equal(a.s6_addr[2], 0x0d);
    assert_int_equal(a.s6_addr[3], 0xb8);
    assert_memory_equal(a.s6_addr + 4, d, 12);
    assert_non_null(inet_ntop(AF_INET6, &a, ref, sizeof ref));
    assert_string_equal(out, ref);
  }
  seq_digest(d);
  size_t need = strlen("2001:db8:1:203:405:607:809:a0b");
  assert_int_equal(doppel_pseudo_ipv6(d, out, need + 1), need);
  assert_int_equal(doppel_pseudo_ipv6(d, out, need), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_hmac_rfc4231),
      cmocka_unit_test(test_hmac_edge),
      cmocka_unit_test(test_hkdf_rfc5869),
      cmocka_unit_test_setup(test_keygen, test_setup),
      cmocka_unit_test_setup(test_keygen_named, test_setup),
      cmocka_unit_test_setup(test_load_ok_variants, test_setup),
      cmocka_unit_test_setup(test_load_permissions, test_setup),
      cmocka_unit_test_setup(test_load_bad_format, test_setup),
      cmocka_unit_test_setup(test_load_missing_and_env, test_setup),
      cmocka_unit_test(test_key_from_bytes),
      cmocka_unit_test(test_key_id),
      cmocka_unit_test(test_keyed_known_answers),
      cmocka_unit_test(test_keyed_matches_primitives),
      cmocka_unit_test(test_keyed_properties),
      cmocka_unit_test(test_encode_hex),
      cmocka_unit_test(test_encode_uuid),
      cmocka_unit_test(test_encode_email),
      cmocka_unit_test(test_encode_phone),
      cmocka_unit_test(test_encode_ipv4),
      cmocka_unit_test(test_encode_ipv6),
  };
  return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
