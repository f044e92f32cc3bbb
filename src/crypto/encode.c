/*
 * crypto/encode.c — pseudonym encodings of a 32-byte digest (see
 * doppel/keyed.h): hex, RFC 9562 version-8 UUID, e-mail under the reserved
 * ".invalid" TLD, shape-preserving phone numbers, IPv4 in the reserved
 * 240.0.0.0/4 and IPv6 in the documentation prefix 2001:db8::/32.
 *
 * Every encoding is a pure function of its inputs (no state, no locale), so
 * the same digest always gives the same text. Each writes a NUL-terminated
 * string and returns its length, or returns 0 (and writes "" when out_size
 * allows) when the arguments are invalid or out_size is too small.
 */
#include "crypto/crypto_int.h"

#include <openssl/evp.h>

#include <stdio.h>
#include <string.h>

#define DIGEST_LEN 32

/* Write "" when there is room and return 0: the common failure result. */
static size_t fail(char *out, size_t out_size) {
  if (out && out_size) out[0] = '\0';
  return 0;
}

size_t doppel_pseudo_hex(const uint8_t digest[32], unsigned bits, char *out, size_t out_size) {
  if (bits == 0) bits = 128;
  if (!digest || !out || bits < 64 || bits > 256 || bits % 8 != 0) return fail(out, out_size);
  size_t n = bits / 4;
  if (out_size < n + 1) return fail(out, out_size);
  dp_hex_lower(digest, bits / 8, out);
  out[n] = '\0';
  return n;
}

size_t doppel_pseudo_uuid(const uint8_t digest[32], char *out, size_t out_size) {
  if (!digest || !out || out_size < 37) return fail(out, out_size);
  uint8_t b[16];
  memcpy(b, digest, sizeof b);
  b[6] = (uint8_t)((b[6] & 0x0f) | 0x80); /* version 8 */
  b[8] = (uint8_t)((b[8] & 0x3f) | 0x80); /* variant 10xx (RFC 9562) */
  static const unsigned char group_end[] = {4, 6, 8, 10, 16};
  size_t n = 0, i = 0;
  for (size_t g = 0; g < sizeof group_end; g++) {
    if (g) out[n++] = '-';
    for (; i < group_end[g]; i++, n += 2) dp_hex_lower(b + i, 1, out + n);
  }
  out[n] = '\0';
  return n;
}

size_t doppel_pseudo_email(const uint8_t digest[32], unsigned bits, const char *label,
                           char *out, size_t out_size) {
  /* Label: only [a-z0-9-] kept (lowercased), no leading or trailing '-',
   * at most 63 characters (one DNS label); empty gives "pseudo". */
  char lab[64];
  size_t ln = 0;
  for (const char *p = label; p && *p && ln < sizeof lab - 1; p++) {
    char c = *p;
    if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (c == '-' && ln > 0)) lab[ln++] = c;
  }
  while (ln > 0 && lab[ln - 1] == '-') ln--;
  if (ln == 0) {
    memcpy(lab, "pseudo", 6);
    ln = 6;
  }
  lab[ln] = '\0';

  if (bits == 0) bits = 128;
  if (!digest || !out || bits < 64 || bits > 256 || bits % 8 != 0) return fail(out, out_size);
  size_t hn = bits / 4;
  static const char tld[] = ".invalid";
  size_t total = hn + 1 + ln + sizeof tld - 1;
  if (out_size < total + 1) return fail(out, out_size);
  dp_hex_lower(digest, bits / 8, out);
  out[hn] = '@';
  memcpy(out + hn + 1, lab, ln);
  memcpy(out + hn + 1 + ln, tld, sizeof tld); /* with its NUL */
  return total;
}

/* ITU-T E.164 country codes in service (1 and 7 are the one-digit codes).
 * The set is prefix-free, so the first match on the leading digits is the
 * code. */
static const unsigned short cc_two[] = {
    20, 27, 30, 31, 32, 33, 34, 36, 39, 40, 41, 43, 44, 45, 46, 47, 48, 49, 51, 52, 53, 54,
    55, 56, 57, 58, 60, 61, 62, 63, 64, 65, 66, 81, 82, 84, 86, 90, 91, 92, 93, 94, 95, 98};
static const unsigned short cc_three[] = {
    211, 212, 213, 216, 218, 220, 221, 222, 223, 224, 225, 226, 227, 228, 229, 230, 231, 232,
    233, 234, 235, 236, 237, 238, 239, 240, 241, 242, 243, 244, 245, 246, 247, 248, 249, 250,
    251, 252, 253, 254, 255, 256, 257, 258, 260, 261, 262, 263, 264, 265, 266, 267, 268, 269,
    290, 291, 297, 298, 299, 350, 351, 352, 353, 354, 355, 356, 357, 358, 359, 370, 371, 372,
    373, 374, 375, 376, 377, 378, 379, 380, 381, 382, 383, 385, 386, 387, 389, 420, 421, 423,
    500, 501, 502, 503, 504, 505, 506, 507, 508, 509, 590, 591, 592, 593, 594, 595, 596, 597,
    598, 599, 670, 672, 673, 674, 675, 676, 677, 678, 679, 680, 681, 682, 683, 685, 686, 687,
    688, 689, 690, 691, 692, 800, 808, 850, 852, 853, 855, 856, 870, 878, 880, 881, 882, 883,
    886, 888, 960, 961, 962, 963, 964, 965, 966, 967, 968, 970, 971, 972, 973, 974, 975, 976,
    977, 979, 992, 993, 994, 995, 996, 998};

static int in_table(const unsigned short *t, size_t n, unsigned v) {
  for (size_t i = 0; i < n; i++) {
    if (t[i] == v) return 1;
  }
  return 0;
}

/* Length (1-3) of the country code that starts the digit string d[0..n),
 * or 0 when it starts with no assigned code. */
static size_t country_code_len(const char *d, size_t n) {
  if (n >= 1 && (d[0] == '1' || d[0] == '7')) return 1;
  if (n >= 2 && in_table(cc_two, sizeof cc_two / sizeof cc_two[0],
                         (unsigned)((d[0] - '0') * 10 + (d[1] - '0')))) {
    return 2;
  }
  if (n >= 3 && in_table(cc_three, sizeof cc_three / sizeof cc_three[0],
                         (unsigned)((d[0] - '0') * 100 + (d[1] - '0') * 10 + (d[2] - '0')))) {
    return 3;
  }
  return 0;
}

/* Unbiased decimal digits from a digest: successive bytes below 250, each
 * mod 10; when the block is used up it is replaced by its SHA-256. */
typedef struct digit_source {
  uint8_t block[DIGEST_LEN];
  size_t pos;
} digit_source;

/* Next digit 0-9, or -1 when SHA-256 fails. */
static int next_digit(digit_source *s) {
  for (;;) {
    if (s->pos == DIGEST_LEN) {
      uint8_t next[DIGEST_LEN];
      if (EVP_Digest(s->block, DIGEST_LEN, next, NULL, EVP_sha256(), NULL) != 1) return -1;
      memcpy(s->block, next, DIGEST_LEN);
      s->pos = 0;
    }
    uint8_t b = s->block[s->pos++];
    if (b < 250) return b % 10;
  }
}

static int is_digit(char c) { return c >= '0' && c <= '9'; }

size_t doppel_pseudo_phone(const uint8_t digest[32], const char *orig, size_t orig_len,
                           char *out, size_t out_size) {
  if (!digest || !orig || !out || orig_len == 0 || orig_len >= out_size) {
    return fail(out, out_size);
  }
  /* The first digits decide what is kept verbatim. */
  char lead[6];
  size_t nlead = 0;
  for (size_t i = 0; i < orig_len && nlead < sizeof lead; i++) {
    if (is_digit(orig[i])) lead[nlead++] = orig[i];
  }
  size_t first = 0;
  while (first < orig_len && orig[first] == ' ') first++;

  size_t keep; /* leading digits copied unchanged */
  if (first < orig_len && orig[first] == '+') {
    keep = country_code_len(lead, nlead);                  /* +CC */
  } else if (nlead >= 2 && lead[0] == '0' && lead[1] == '0') {
    keep = 2 + country_code_len(lead + 2, nlead - 2);     /* 00CC international prefix */
  } else if (nlead >= 1 && lead[0] == '0') {
    keep = 1;                                              /* national trunk prefix */
  } else {
    keep = 0;
  }

  digit_source src;
  memcpy(src.block, digest, DIGEST_LEN);
  src.pos = 0;
  size_t seen = 0;
  for (size_t i = 0; i < orig_len; i++) {
    char c = orig[i];
    if (is_digit(c) && seen++ >= keep) {
      int d = next_digit(&src);
      if (d < 0) return fail(out, out_size);
      c = (char)('0' + d);
    }
    out[i] = c;
  }
  out[orig_len] = '\0';
  return orig_len;
}

size_t doppel_pseudo_ipv4(const uint8_t digest[32], char *out, size_t out_size) {
  if (!digest || !out) return fail(out, out_size);
  /* 1111 + 28 digest bits: first octet 240-255. */
  char buf[16];
  int n = snprintf(buf, sizeof buf, "%u.%u.%u.%u", 0xf0u | (digest[0] & 0x0fu),
                   (unsigned)digest[1], (unsigned)digest[2], (unsigned)digest[3]);
  if (n < 0 || (size_t)n >= out_size) return fail(out, out_size);
  memcpy(out, buf, (size_t)n + 1);
  return (size_t)n;
}

size_t doppel_pseudo_ipv6(const uint8_t digest[32], char *out, size_t out_size) {
  if (!digest || !out) return fail(out, out_size);
  unsigned g[8] = {0x2001, 0x0db8};
  for (size_t i = 2; i < 8; i++) {
    g[i] = (unsigned)digest[2 * (i - 2)] << 8 | digest[2 * (i - 2) + 1];
  }

  /* RFC 5952: "::" replaces the longest run (first on ties) of two or more
   * zero groups; hex digits lowercase without leading zeros. */
  size_t best = 8, best_len = 0;
  for (size_t i = 0; i < 8;) {
    if (g[i] != 0) {
      i++;
      continue;
    }
    size_t j = i;
    while (j < 8 && g[j] == 0) j++;
    if (j - i > best_len) {
      best = i;
      best_len = j - i;
    }
    i = j;
  }
  if (best_len < 2) best = 8;

  char buf[48];
  size_t n = 0;
  for (size_t i = 0; i < 8; i++) {
    if (i == best) {
      buf[n++] = ':';
      buf[n++] = ':';
      i += best_len - 1;
      continue;
    }
    if (n > 0 && buf[n - 1] != ':') buf[n++] = ':';
    int shift = 12;
    while (shift > 0 && (g[i] >> shift) == 0) shift -= 4; /* no leading zeros */
    for (; shift >= 0; shift -= 4) buf[n++] = "0123456789abcdef"[(g[i] >> shift) & 0x0f];
  }
  buf[n] = '\0';
  if (n >= out_size) return fail(out, out_size);
  memcpy(out, buf, n + 1);
  return n;
}
