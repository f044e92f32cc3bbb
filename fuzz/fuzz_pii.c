/*
 * fuzz_pii.c — libFuzzer target for the personal-data detectors.
 *
 * The input (an exact-length copy, so ASan catches over-reads) goes through
 * every function of doppel/pii.h. doppel_pii_find() must return spans that
 * are non-empty, inside the input, sorted and non-overlapping, with a kind it
 * may produce; the count must not depend on the cap, and a capped call must
 * write exactly the first matches of an uncapped one. Every match except URL
 * values must classify as its own kind as a whole value (an URL-encoded
 * address after %XX decoding), and each validator must agree with
 * doppel_pii_classify_value() on the whole input.
 */
#include <doppel/pii.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c) \
  do {           \
    if (!(c)) abort(); \
  } while (0)

static int hexv(unsigned char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f') return (c | 0x20) - 'a' + 10;
  return -1;
}

/* is_email after decoding %XX escapes (for "john%40x.com" matches). */
static int decoded_is_email(const char *s, size_t n) {
  char buf[512];
  size_t m = 0;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '%' && i + 2 < n && hexv((unsigned char)s[i + 1]) >= 0 && hexv((unsigned char)s[i + 2]) >= 0) {
      c = (unsigned char)(hexv((unsigned char)s[i + 1]) * 16 + hexv((unsigned char)s[i + 2]));
      i += 2;
    }
    if (m == sizeof buf) return 0;
    buf[m++] = (char)c;
  }
  return doppel_pii_is_email(buf, m);
}

static void check_matches(const char *s, size_t size) {
  doppel_pii_match m[64], few[3];
  size_t total = doppel_pii_find(s, size, m, 64);
  size_t got = total < 64 ? total : 64, prev_end = 0;
  CHECK(doppel_pii_find(s, size, NULL, 0) == total);
  CHECK(doppel_pii_find(s, size, few, 3) == total);
  CHECK(memcmp(few, m, (total < 3 ? total : 3) * sizeof m[0]) == 0);
  for (size_t i = 0; i < got; i++) {
    const char *p = s + m[i].start;
    size_t n = m[i].len;
    CHECK(n > 0 && m[i].start < size && n <= size - m[i].start);
    CHECK(m[i].start >= prev_end);
    prev_end = m[i].start + n;
    switch (m[i].kind) {
      case DOPPEL_PII_EMAIL:
        if (memchr(p, '@', n))
          CHECK(doppel_pii_classify_value(p, n) == DOPPEL_PII_EMAIL);
        else
          CHECK(decoded_is_email(p, n));
        break;
      case DOPPEL_PII_IPV4:
      case DOPPEL_PII_IPV6:
      case DOPPEL_PII_CARD:
      case DOPPEL_PII_IBAN:
      case DOPPEL_PII_SSN:
      case DOPPEL_PII_PHONE: CHECK(doppel_pii_classify_value(p, n) == m[i].kind); break;
      case DOPPEL_PII_URL: break;
      default: CHECK(0);
    }
  }
}

static void check_value(const char *s, size_t size) {
  doppel_pii_kind k = doppel_pii_classify_value(s, size);
  int email = doppel_pii_is_email(s, size), ipv4 = doppel_pii_is_ipv4(s, size);
  int ipv6 = doppel_pii_is_ipv6(s, size), iban = doppel_pii_is_iban(s, size);
  int ssn = doppel_pii_is_ssn(s, size), phone = doppel_pii_is_phone(s, size);
  int uuid = doppel_pii_is_uuid(s, size);
  (void)doppel_pii_luhn_ok(s, size);
  CHECK((unsigned)k < DOPPEL_PII_KIND_COUNT);
  CHECK(doppel_pii_kind_name(k) != NULL);
  CHECK(doppel_pii_class_name(doppel_pii_kind_class(k)) != NULL);
  if (size == 0 || s[0] == ' ' || s[size - 1] == ' ' || (unsigned char)(s[0] - '\t') < 5 ||
      (unsigned char)(s[size - 1] - '\t') < 5)
    return; /* classify_value trims, the validators do not */
  if (email) CHECK(k == DOPPEL_PII_EMAIL);
  if (uuid) CHECK(k == DOPPEL_PII_UUID);
  if (ipv4) CHECK(k == DOPPEL_PII_IPV4);
  if (ipv6) CHECK(k == DOPPEL_PII_IPV6);
  if (ssn) CHECK(k == DOPPEL_PII_SSN);
  if (iban) CHECK(k == DOPPEL_PII_IBAN);
  if (phone) CHECK(k == DOPPEL_PII_PHONE);
  if (k == DOPPEL_PII_PHONE) CHECK(phone);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *s = malloc(size ? size : 1);
  if (!s) return 0;
  if (size) memcpy(s, data, size);
  check_matches(s, size);
  check_value(s, size);
  CHECK((unsigned)doppel_pii_classify_name(s, size) < DOPPEL_PII_KIND_COUNT);
  if (size) {
    doppel_pii_kind k = (doppel_pii_kind)(data[0] % (DOPPEL_PII_KIND_COUNT + 2));
    CHECK(doppel_pii_kind_name(k) != NULL);
    CHECK(doppel_pii_class_name(doppel_pii_kind_class(k)) != NULL);
  }
  free(s);
  return 0;
}
