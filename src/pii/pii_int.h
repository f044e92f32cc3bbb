/*
 * pii/pii_int.h — helpers shared by the personal-data detectors: the card
 * layout/issuer/Luhn check (no public validator exists for it), the IBAN
 * registry lookup, UTF-8 "word character" decoding used by the e-mail rules
 * on both the whole-value and the free-text side, and a self-check of the
 * field-name dictionary for the unit tests.
 */
#ifndef DP_PII_INT_H
#define DP_PII_INT_H

#include <stddef.h>
#include <stdint.h>

/* 1 when s is a card number: 13–19 digits, contiguous or grouped with single
 * spaces or dashes in a card layout, plausible issuer prefix for its length,
 * not one repeated digit, Luhn-valid. */
int dp_pii_card_ok(const char *s, size_t len);

/* Registered IBAN length for the country code a,b (either case); 0 if the
 * code is not in the ISO 13616 registry. */
unsigned dp_pii_iban_country_len(char a, char b);

/* Length (2–4) of the well-formed UTF-8 sequence at s[0..n) when it encodes a
 * code point allowed inside e-mail addresses (anything but C1 controls,
 * Latin-1/general/CJK punctuation, spaces and fullwidth ASCII punctuation);
 * 0 otherwise. */
size_t dp_pii_utf8_word(const unsigned char *s, size_t n);

/* ASCII helpers (no locale). */
static inline int dp_pii_digit(unsigned char c) { return (unsigned)(c - '0') < 10u; }
static inline int dp_pii_alpha(unsigned char c) { return (unsigned)((c | 0x20) - 'a') < 26u; }
static inline int dp_pii_alnum(unsigned char c) { return dp_pii_digit(c) || dp_pii_alpha(c); }
static inline int dp_pii_hex(unsigned char c) {
  return dp_pii_digit(c) || (unsigned)((c | 0x20) - 'a') < 6u;
}
static inline int dp_pii_hexval(unsigned char c) {
  return dp_pii_digit(c) ? c - '0' : (c | 0x20) - 'a' + 10;
}

/* 0 when the field-name dictionary is strictly sorted, every entry is found
 * by its own lookup and the multi-word patterns are sorted by last word
 * (longest first); otherwise a 1-based index of the first bad entry (words
 * first, then patterns). For tests. */
size_t dp_pii_name_table_check(void);

#endif
