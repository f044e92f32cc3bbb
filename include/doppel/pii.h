/*
 * doppel/pii.h — detection of personal data in field names, whole values and
 * free text, with validation (Luhn for cards, ISO 13616 mod-97 for IBAN,
 * SSA rules for US SSNs, octet ranges for IPv4, RFC 4291 for IPv6).
 *
 * Everything here is pure, allocation-free and thread-safe. Inputs are UTF-8
 * byte spans; nothing is copied or retained.
 */
#ifndef DOPPEL_PII_H
#define DOPPEL_PII_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* X(name, class, label) — kinds of personal data. */
#define DOPPEL_PII_TABLE(X)                      \
  X(NONE,      NONE,   "none")                   \
  X(EMAIL,     DIRECT, "email")                  \
  X(PHONE,     DIRECT, "phone")                  \
  X(IPV4,      DIRECT, "ipv4")                   \
  X(IPV6,      DIRECT, "ipv6")                   \
  X(CARD,      DIRECT, "card")                   \
  X(IBAN,      DIRECT, "iban")                   \
  X(SSN,       DIRECT, "ssn")                    \
  X(NAME,      DIRECT, "name")                   \
  X(ADDRESS,   DIRECT, "address")                \
  X(USER_ID,   DIRECT, "user_id")                \
  X(DEVICE_ID, DIRECT, "device_id")              \
  X(IP,        DIRECT, "ip")                     \
  X(LOCATION,  DIRECT, "location")               \
  X(UUID,      QUASI,  "uuid")                   \
  X(URL,       QUASI,  "url")                    \
  X(BIRTHDATE, QUASI,  "birthdate")              \
  X(POSTCODE,  QUASI,  "postcode")               \
  X(CITY,      QUASI,  "city")                   \
  X(USER_AGENT,QUASI,  "user_agent")             \
  X(FREE_TEXT, QUASI,  "free_text")              \
  X(SENSITIVE, SENSITIVE, "sensitive")

typedef enum doppel_pii_kind {
#define DOPPEL_X_PII(name, cls, label) DOPPEL_PII_##name,
  DOPPEL_PII_TABLE(DOPPEL_X_PII)
#undef DOPPEL_X_PII
  DOPPEL_PII_KIND_COUNT
} doppel_pii_kind;

typedef enum doppel_pii_class {
  DOPPEL_PII_CLASS_NONE = 0,
  DOPPEL_PII_CLASS_DIRECT,     /* direct_identifier */
  DOPPEL_PII_CLASS_QUASI,      /* quasi_identifier */
  DOPPEL_PII_CLASS_SENSITIVE   /* sensitive */
} doppel_pii_class;

/* "email", "phone", ...; never NULL. */
const char *doppel_pii_kind_name(doppel_pii_kind k);
doppel_pii_class doppel_pii_kind_class(doppel_pii_kind k);
/* "none", "direct_identifier", "quasi_identifier", "sensitive". */
const char *doppel_pii_class_name(doppel_pii_class c);

/* Kind suggested by a field name (the last segment of a path, any case and
 * separator style: "email", "userEmail", "e-mail", "phone_number",
 * "first_name", "ip_address", "street", "ssn", "card_number", "iban",
 * "birth_date", "zip", "city", "user_agent", "lat"...). NONE when the name
 * says nothing. */
doppel_pii_kind doppel_pii_classify_name(const char *name, size_t len);

/* Kind of a whole value when it is, entirely (surrounding spaces allowed),
 * a validated e-mail, phone, IPv4, IPv6, card (Luhn, 13–19 digits with
 * optional space/dash groups), IBAN (mod-97), SSN (area/group/serial rules,
 * with dashes), or UUID. NONE otherwise. */
doppel_pii_kind doppel_pii_classify_value(const char *s, size_t len);

typedef struct doppel_pii_match {
  size_t start;          /* byte offset of the match in the text */
  size_t len;            /* length in bytes */
  doppel_pii_kind kind;  /* EMAIL, PHONE, IPV4, IPV6, CARD, IBAN, SSN, or URL for a
                            personal query-parameter value (the span is the value only) */
} doppel_pii_match;

/* Find personal data embedded in free text or URLs: e-mails, phones
 * (international or 10+ digit national forms with separators), IPv4/IPv6,
 * Luhn-valid cards, mod-97-valid IBANs, SSNs, and values of personal query
 * parameters in URLs (email, mail, phone, tel, name, user, username, uid,
 * user_id, token, ssn, address, ...). Matches are sorted and do not overlap.
 * Writes at most max matches; returns the total number found (which may
 * exceed max). */
size_t doppel_pii_find(const char *s, size_t len, doppel_pii_match *out, size_t max);

/* Validators, exposed for tests and the profiler. s is the candidate only. */
int doppel_pii_is_email(const char *s, size_t len);
int doppel_pii_is_ipv4(const char *s, size_t len);
int doppel_pii_is_ipv6(const char *s, size_t len);
int doppel_pii_luhn_ok(const char *digits, size_t len);  /* digits only */
int doppel_pii_is_iban(const char *s, size_t len);       /* spaces allowed */
int doppel_pii_is_ssn(const char *s, size_t len);        /* AAA-GG-SSSS */
int doppel_pii_is_phone(const char *s, size_t len);
int doppel_pii_is_uuid(const char *s, size_t len);

#ifdef __cplusplus
}
#endif
#endif
