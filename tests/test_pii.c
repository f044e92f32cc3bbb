/*
 * test_pii.c — personal-data detection: kind and class labels, field-name
 * classification, whole-value classification and the validators (against
 * published test numbers), doppel_pii_find() on free text and URLs with exact
 * spans, overlap resolution and the output cap, and a pass over the shared
 * real data (rails commit subjects, NASA URLs) when it is present.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <doppel/pii.h>

#include "pii/pii_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define S(x) (x), strlen(x)

/* ---- labels --------------------------------------------------------------- */

static void test_kind_labels(void **state) {
  (void)state;
  assert_string_equal(doppel_pii_kind_name(DOPPEL_PII_NONE), "none");
  assert_string_equal(doppel_pii_kind_name(DOPPEL_PII_EMAIL), "email");
  assert_string_equal(doppel_pii_kind_name(DOPPEL_PII_USER_AGENT), "user_agent");
  assert_string_equal(doppel_pii_kind_name(DOPPEL_PII_SENSITIVE), "sensitive");
  assert_string_equal(doppel_pii_kind_name(DOPPEL_PII_KIND_COUNT), "none");
  assert_string_equal(doppel_pii_kind_name((doppel_pii_kind)-1), "none");
  assert_int_equal(doppel_pii_kind_class(DOPPEL_PII_EMAIL), DOPPEL_PII_CLASS_DIRECT);
  assert_int_equal(doppel_pii_kind_class(DOPPEL_PII_LOCATION), DOPPEL_PII_CLASS_DIRECT);
  assert_int_equal(doppel_pii_kind_class(DOPPEL_PII_UUID), DOPPEL_PII_CLASS_QUASI);
  assert_int_equal(doppel_pii_kind_class(DOPPEL_PII_FREE_TEXT), DOPPEL_PII_CLASS_QUASI);
  assert_int_equal(doppel_pii_kind_class(DOPPEL_PII_SENSITIVE), DOPPEL_PII_CLASS_SENSITIVE);
  assert_int_equal(doppel_pii_kind_class(DOPPEL_PII_NONE), DOPPEL_PII_CLASS_NONE);
  assert_int_equal(doppel_pii_kind_class(DOPPEL_PII_KIND_COUNT), DOPPEL_PII_CLASS_NONE);
  assert_string_equal(doppel_pii_class_name(DOPPEL_PII_CLASS_NONE), "none");
  assert_string_equal(doppel_pii_class_name(DOPPEL_PII_CLASS_DIRECT), "direct_identifier");
  assert_string_equal(doppel_pii_class_name(DOPPEL_PII_CLASS_QUASI), "quasi_identifier");
  assert_string_equal(doppel_pii_class_name(DOPPEL_PII_CLASS_SENSITIVE), "sensitive");
  assert_string_equal(doppel_pii_class_name((doppel_pii_class)42), "none");
  for (int k = 0; k < DOPPEL_PII_KIND_COUNT; k++) {
    const char *name = doppel_pii_kind_name((doppel_pii_kind)k);
    assert_non_null(name);
    assert_true(strlen(name) > 1);
    for (int j = 0; j < k; j++) assert_string_not_equal(name, doppel_pii_kind_name((doppel_pii_kind)j));
  }
}

/* ---- field names ------------------------------------------------------------ */

static const struct {
  const char *name;
  doppel_pii_kind kind;
} name_cases[] = {
    {"email", DOPPEL_PII_EMAIL},
    {"userEmail", DOPPEL_PII_EMAIL},
    {"e-mail", DOPPEL_PII_EMAIL},
    {"E_MAIL", DOPPEL_PII_EMAIL},
    {"$email", DOPPEL_PII_EMAIL},
    {"author_email", DOPPEL_PII_EMAIL},
    {"emailAddress", DOPPEL_PII_EMAIL},
    {"email_address", DOPPEL_PII_EMAIL},
    {"phone", DOPPEL_PII_PHONE},
    {"phone_number", DOPPEL_PII_PHONE},
    {"phoneNumber", DOPPEL_PII_PHONE},
    {"mobile", DOPPEL_PII_PHONE},
    {"msisdn", DOPPEL_PII_PHONE},
    {"fax", DOPPEL_PII_PHONE},
    {"phone_e164", DOPPEL_PII_PHONE},
    {"name", DOPPEL_PII_NAME},
    {"first_name", DOPPEL_PII_NAME},
    {"lastName", DOPPEL_PII_NAME},
    {"fullname", DOPPEL_PII_NAME},
    {"surname", DOPPEL_PII_NAME},
    {"author_name", DOPPEL_PII_NAME},
    {"committer_name", DOPPEL_PII_NAME},
    {"display_name", DOPPEL_PII_NAME},
    {"customer.name", DOPPEL_PII_NAME},
    {"event_name", DOPPEL_PII_NONE},
    {"file_name", DOPPEL_PII_NONE},
    {"fileName", DOPPEL_PII_NONE},
    {"page_name", DOPPEL_PII_NONE},
    {"app_name", DOPPEL_PII_NONE},
    {"product_name", DOPPEL_PII_NONE},
    {"company_name", DOPPEL_PII_NONE},
    {"host_name", DOPPEL_PII_NONE},
    {"hostname", DOPPEL_PII_NONE},
    {"screen_name", DOPPEL_PII_NONE},
    {"username", DOPPEL_PII_USER_ID},
    {"user_name", DOPPEL_PII_USER_ID},
    {"user_id", DOPPEL_PII_USER_ID},
    {"userId", DOPPEL_PII_USER_ID},
    {"uid", DOPPEL_PII_USER_ID},
    {"$distinct_id", DOPPEL_PII_USER_ID},
    {"customer_id", DOPPEL_PII_USER_ID},
    {"login", DOPPEL_PII_USER_ID},
    {"ip", DOPPEL_PII_IP},
    {"ip_address", DOPPEL_PII_IP},
    {"IPAddress", DOPPEL_PII_IP},
    {"ipAddress", DOPPEL_PII_IP},
    {"remote_addr", DOPPEL_PII_IP},
    {"client_ip", DOPPEL_PII_IP},
    {"X-Forwarded-For", DOPPEL_PII_IP},
    {"ipv4", DOPPEL_PII_IP},
    {"address", DOPPEL_PII_ADDRESS},
    {"street", DOPPEL_PII_ADDRESS},
    {"address_line1", DOPPEL_PII_ADDRESS},
    {"shippingAddress", DOPPEL_PII_ADDRESS},
    {"mac_address", DOPPEL_PII_DEVICE_ID},
    {"ssn", DOPPEL_PII_SSN},
    {"social_security_number", DOPPEL_PII_SSN},
    {"national_id", DOPPEL_PII_SSN},
    {"passport", DOPPEL_PII_SSN},
    {"tax_id", DOPPEL_PII_SSN},
    {"card_number", DOPPEL_PII_CARD},
    {"cc_number", DOPPEL_PII_CARD},
    {"pan", DOPPEL_PII_CARD},
    {"credit_card", DOPPEL_PII_CARD},
    {"iban", DOPPEL_PII_IBAN},
    {"bank_account", DOPPEL_PII_IBAN},
    {"device_id", DOPPEL_PII_DEVICE_ID},
    {"anonymousId", DOPPEL_PII_DEVICE_ID},
    {"anonymousid", DOPPEL_PII_DEVICE_ID},
    {"idfa", DOPPEL_PII_DEVICE_ID},
    {"advertising_id", DOPPEL_PII_DEVICE_ID},
    {"client_id", DOPPEL_PII_DEVICE_ID},
    {"cookie_id", DOPPEL_PII_DEVICE_ID},
    {"lat", DOPPEL_PII_LOCATION},
    {"longitude", DOPPEL_PII_LOCATION},
    {"geo", DOPPEL_PII_LOCATION},
    {"birth_date", DOPPEL_PII_BIRTHDATE},
    {"dateOfBirth", DOPPEL_PII_BIRTHDATE},
    {"dob", DOPPEL_PII_BIRTHDATE},
    {"age", DOPPEL_PII_NONE},
    {"zip", DOPPEL_PII_POSTCODE},
    {"postal_code", DOPPEL_PII_POSTCODE},
    {"city", DOPPEL_PII_CITY},
    {"user_agent", DOPPEL_PII_USER_AGENT},
    {"HTTPUserAgent", DOPPEL_PII_USER_AGENT},
    {"ua", DOPPEL_PII_USER_AGENT},
    {"gender", DOPPEL_PII_SENSITIVE},
    {"religion", DOPPEL_PII_SENSITIVE},
    {"sexual_orientation", DOPPEL_PII_SENSITIVE},
    {"comment", DOPPEL_PII_FREE_TEXT},
    {"subject", DOPPEL_PII_FREE_TEXT},
    {"search_term", DOPPEL_PII_FREE_TEXT},
    {"url", DOPPEL_PII_URL},
    /* negatives and modifiers */
    {"", DOPPEL_PII_NONE},
    {"_", DOPPEL_PII_NONE},
    {"id", DOPPEL_PII_NONE},
    {"event", DOPPEL_PII_NONE},
    {"sha", DOPPEL_PII_NONE},
    {"session_id", DOPPEL_PII_NONE},
    {"email_verified", DOPPEL_PII_NONE},
    {"is_email_verified", DOPPEL_PII_NONE},
    {"has_phone", DOPPEL_PII_NONE},
    {"num_emails", DOPPEL_PII_NONE},
    {"ip_country", DOPPEL_PII_NONE},
    {"card_brand", DOPPEL_PII_NONE},
    {"user_type", DOPPEL_PII_NONE},
    {"last_login", DOPPEL_PII_NONE},
    {"page_location", DOPPEL_PII_NONE},
    {"author_tz_raw", DOPPEL_PII_NONE},
    {"files_changed", DOPPEL_PII_NONE},
    {"last_ip", DOPPEL_PII_IP},
    {"aa_bb_cc_dd_ee_ff_gg_hh_ii_jj_kk_ll_mm_oo_pp_qq_rr_email", DOPPEL_PII_EMAIL},
    {"is_aa_bb_cc_dd_ee_ff_gg_hh_ii_jj_kk_ll_mm_oo_pp_qq_rr_email", DOPPEL_PII_NONE},
    {"averyveryveryveryveryverylongwordthatisnotknown", DOPPEL_PII_NONE},
};

static void test_classify_name(void **state) {
  (void)state;
  assert_int_equal(dp_pii_name_table_check(), 0);
  assert_true(sizeof name_cases / sizeof name_cases[0] >= 30);
  for (size_t i = 0; i < sizeof name_cases / sizeof name_cases[0]; i++) {
    doppel_pii_kind got = doppel_pii_classify_name(S(name_cases[i].name));
    if (got != name_cases[i].kind)
      fail_msg("classify_name(\"%s\") = %s, want %s", name_cases[i].name, doppel_pii_kind_name(got),
               doppel_pii_kind_name(name_cases[i].kind));
  }
  assert_int_equal(doppel_pii_classify_name(NULL, 5), DOPPEL_PII_NONE);
  /* the length is honoured, no NUL needed */
  assert_int_equal(doppel_pii_classify_name("email_verified", 5), DOPPEL_PII_EMAIL);
}

/* ---- whole values ------------------------------------------------------------- */

static const struct {
  const char *value;
  doppel_pii_kind kind;
} value_cases[] = {
    /* e-mail */
    {"john@example.com", DOPPEL_PII_EMAIL},
    {"  john.doe+tag@mail.example.co.uk \n", DOPPEL_PII_EMAIL},
    {"o'brien@example.ie", DOPPEL_PII_EMAIL},
    {"x@xn--p1ai.xn--p1ai", DOPPEL_PII_EMAIL},
    {"jos\xc3\xa9@b\xc3\xbc" "cher.de", DOPPEL_PII_EMAIL},
    {"user@\xd0\xbf\xd1\x80\xd0\xb8\xd0\xbc\xd0\xb5\xd1\x80.\xd1\x80\xd1\x84", DOPPEL_PII_EMAIL},
    {"john@localhost", DOPPEL_PII_NONE},
    {"john.@example.com", DOPPEL_PII_NONE},
    {".john@example.com", DOPPEL_PII_NONE},
    {"jo..hn@example.com", DOPPEL_PII_NONE},
    {"john@-example.com", DOPPEL_PII_NONE},
    {"john@example-.com", DOPPEL_PII_NONE},
    {"john@example.c", DOPPEL_PII_NONE},
    {"john@example.c0m", DOPPEL_PII_NONE},
    {"john@@example.com", DOPPEL_PII_NONE},
    {"a@b@example.com", DOPPEL_PII_NONE},
    {"john doe@example.com", DOPPEL_PII_NONE},
    {"john@exa mple.com", DOPPEL_PII_NONE},
    {"\xff@example.com", DOPPEL_PII_NONE},
    {"john\xe2\x80\x94@example.com", DOPPEL_PII_NONE}, /* em dash */
    {"@example.com", DOPPEL_PII_NONE},
    /* IPv4 */
    {"192.168.1.1", DOPPEL_PII_IPV4},
    {"0.0.0.0", DOPPEL_PII_IPV4},
    {"255.255.255.255", DOPPEL_PII_IPV4},
    {" 8.8.8.8 ", DOPPEL_PII_IPV4},
    {"256.1.1.1", DOPPEL_PII_NONE},
    {"01.2.3.4", DOPPEL_PII_NONE},
    {"1.2.3", DOPPEL_PII_NONE},
    {"1.2.3.4.5", DOPPEL_PII_NONE},
    {"1.2.3.", DOPPEL_PII_NONE},
    {"1..2.3", DOPPEL_PII_NONE},
    /* IPv6 */
    {"::1", DOPPEL_PII_IPV6},
    {"::", DOPPEL_PII_IPV6},
    {"2001:db8::1", DOPPEL_PII_IPV6},
    {"2001:0DB8:85A3:0000:0000:8A2E:0370:7334", DOPPEL_PII_IPV6},
    {"fe80::", DOPPEL_PII_IPV6},
    {"::ffff:192.0.2.128", DOPPEL_PII_IPV6},
    {"1:2:3:4:5:6:7::", DOPPEL_PII_IPV6},
    {"1:2:3:4:5:6:1.2.3.4", DOPPEL_PII_IPV6},
    {"1:2:3:4:5:6:7:8:9", DOPPEL_PII_NONE},
    {"1:2:3:4:5:6:7", DOPPEL_PII_NONE},
    {"2001:db8::1::2", DOPPEL_PII_NONE},
    {"12345::1", DOPPEL_PII_NONE},
    {":1::2", DOPPEL_PII_NONE},
    {"1::2:", DOPPEL_PII_NONE},
    {"fe80::1%eth0", DOPPEL_PII_NONE},
    {"::ffff:256.0.2.1", DOPPEL_PII_NONE},
    {"12:30:45", DOPPEL_PII_NONE},
    {"00:1a:2b:3c:4d:5e", DOPPEL_PII_NONE},
    /* cards */
    {"4111111111111111", DOPPEL_PII_CARD},
    {"4111 1111 1111 1111", DOPPEL_PII_CARD},
    {"4111-1111-1111-1111", DOPPEL_PII_CARD},
    {"5555555555554444", DOPPEL_PII_CARD},
    {"2223003122003222", DOPPEL_PII_CARD},
    {"378282246310005", DOPPEL_PII_CARD},
    {"3782 822463 10005", DOPPEL_PII_CARD},
    {"6011111111111117", DOPPEL_PII_CARD},
    {"3566002020360505", DOPPEL_PII_CARD},
    {"36227206271667", DOPPEL_PII_CARD},
    {"4222222222222", DOPPEL_PII_CARD},
    {"4111111111111112", DOPPEL_PII_NONE},     /* Luhn */
    {"4111 1111-1111 1111", DOPPEL_PII_NONE},  /* mixed separators */
    {"4111  1111 1111 1111", DOPPEL_PII_NONE}, /* double space */
    {"41111 11111 11111 1", DOPPEL_PII_NONE},  /* not a card layout */
    {"1111111111111111", DOPPEL_PII_NONE},     /* issuer */
    {"0000000000000000", DOPPEL_PII_NONE},
    {"4444444444444448", DOPPEL_PII_CARD},
    {"3782822463100003", DOPPEL_PII_NONE}, /* Luhn-valid, but Amex is 15 digits */
    {"1704795825123", DOPPEL_PII_NONE},    /* ms timestamp */
    /* IBAN */
    {"GB82WEST12345698765432", DOPPEL_PII_IBAN},
    {"GB82 WEST 1234 5698 7654 32", DOPPEL_PII_IBAN},
    {"DE89370400440532013000", DOPPEL_PII_IBAN},
    {"DE89 3704 0044 0532 0130 00", DOPPEL_PII_IBAN},
    {"de89370400440532013000", DOPPEL_PII_IBAN},
    {"FR1420041010050500013M02606", DOPPEL_PII_IBAN},
    {"NL91ABNA0417164300", DOPPEL_PII_IBAN},
    {"BE68539007547034", DOPPEL_PII_IBAN},
    {"CH9300762011623852957", DOPPEL_PII_IBAN},
    {"NO9386011117947", DOPPEL_PII_IBAN},
    {"MT84MALT011000012345MTLCAST001S", DOPPEL_PII_IBAN},
    {"GB82WEST12345698765431", DOPPEL_PII_NONE},  /* check digits */
    {"GB83WEST12345698765432", DOPPEL_PII_NONE},
    {"GB82WEST1234569876543", DOPPEL_PII_NONE},   /* length */
    {"XX82WEST12345698765432", DOPPEL_PII_NONE},  /* country */
    {"GB82 WEST 1234 5698 7654 32 ", DOPPEL_PII_IBAN},
    {"GB82 WEST12345698765432", DOPPEL_PII_NONE}, /* spaces not every 4 */
    /* SSN */
    {"123-45-6789", DOPPEL_PII_SSN},
    {"123 45 6789", DOPPEL_PII_SSN},
    {"000-12-3456", DOPPEL_PII_NONE},
    {"666-12-3456", DOPPEL_PII_NONE},
    {"900-12-3456", DOPPEL_PII_NONE},
    {"999-12-3456", DOPPEL_PII_NONE},
    {"123-00-4567", DOPPEL_PII_NONE},
    {"123-45-0000", DOPPEL_PII_NONE},
    {"078-05-1120", DOPPEL_PII_NONE},
    {"123456789", DOPPEL_PII_NONE},
    {"123-45 6789", DOPPEL_PII_NONE},
    /* UUID */
    {"5ecf4fe2-1ee6-0310-87b1-e25e094e27de", DOPPEL_PII_UUID},
    {"123E4567-E89B-12D3-A456-426614174000", DOPPEL_PII_UUID},
    {"12345678-1234-1234-1234-123456789012", DOPPEL_PII_UUID},
    {"5ecf4fe2-1ee6-0310-87b1-e25e094e27dg", DOPPEL_PII_NONE},
    {"5ecf4fe21ee6031087b1e25e094e27de", DOPPEL_PII_NONE},
    /* phones */
    {"+14155550100", DOPPEL_PII_PHONE},
    {"+1 415 555 0100", DOPPEL_PII_PHONE},
    {"+1 (415) 555-0100", DOPPEL_PII_PHONE},
    {"+44 20 7946 0958", DOPPEL_PII_PHONE},
    {"+44 (0)20 7946 0958", DOPPEL_PII_PHONE},
    {"+33 6 12 34 56 78", DOPPEL_PII_PHONE},
    {"(415) 555-0100", DOPPEL_PII_PHONE},
    {"415-555-0100", DOPPEL_PII_PHONE},
    {"415.555.0100", DOPPEL_PII_PHONE},
    {"1-800-555-0100", DOPPEL_PII_PHONE},
    {"020 7946 0958", DOPPEL_PII_PHONE},
    {"06 12 34 56 78", DOPPEL_PII_PHONE},
    {"030 12345678", DOPPEL_PII_PHONE},
    {"+1234567", DOPPEL_PII_NONE},          /* too short */
    {"+1234567890123456", DOPPEL_PII_NONE}, /* too long */
    {"4155550100", DOPPEL_PII_NONE},        /* plain run */
    {"1704795825", DOPPEL_PII_NONE},        /* timestamp */
    {"415-555-010", DOPPEL_PII_NONE},       /* 9 digits */
    {"415--555-0100", DOPPEL_PII_NONE},
    {"415-555 0100", DOPPEL_PII_NONE},      /* mixed separators */
    {"415-555-0100-", DOPPEL_PII_NONE},
    {"2024-01-09", DOPPEL_PII_NONE},
    {"2024-01-09-1234", DOPPEL_PII_NONE},
    {"09.01.2024 1234", DOPPEL_PII_NONE},
    {"192.168.100.200", DOPPEL_PII_IPV4},   /* not a phone */
    {"999.168.100.200", DOPPEL_PII_NONE},   /* dotted quad */
    {"1234 5678 9012", DOPPEL_PII_NONE},    /* 4-4-4 */
    {"1.2.3", DOPPEL_PII_NONE},
    {"10.15.7", DOPPEL_PII_NONE},
    /* plain stuff */
    {"", DOPPEL_PII_NONE},
    {"   ", DOPPEL_PII_NONE},
    {"42", DOPPEL_PII_NONE},
    {"123456", DOPPEL_PII_NONE},
    {"hello world", DOPPEL_PII_NONE},
    {"true", DOPPEL_PII_NONE},
    {"2024-01-09T12:30:45Z", DOPPEL_PII_NONE},
};

static void test_classify_value(void **state) {
  (void)state;
  assert_true(sizeof value_cases / sizeof value_cases[0] >= 60);
  for (size_t i = 0; i < sizeof value_cases / sizeof value_cases[0]; i++) {
    doppel_pii_kind got = doppel_pii_classify_value(S(value_cases[i].value));
    if (got != value_cases[i].kind)
      fail_msg("classify_value(\"%s\") = %s, want %s", value_cases[i].value,
               doppel_pii_kind_name(got), doppel_pii_kind_name(value_cases[i].kind));
  }
  assert_int_equal(doppel_pii_classify_value(NULL, 3), DOPPEL_PII_NONE);
  /* the length is honoured */
  assert_int_equal(doppel_pii_classify_value("10.0.0.1xyz", 8), DOPPEL_PII_IPV4);
}

/* ---- validators ----------------------------------------------------------------- */

static void test_luhn(void **state) {
  (void)state;
  static const char *const valid[] = {
      "4111111111111111", "5555555555554444", "378282246310005", "371449635398431",
      "6011111111111117", "30569309025904", "3530111333300000", "4012888888881881",
      "5105105105105100", "79927398713",
  };
  for (size_t i = 0; i < sizeof valid / sizeof valid[0]; i++)
    assert_true(doppel_pii_luhn_ok(S(valid[i])));
  assert_false(doppel_pii_luhn_ok(S("0")));  /* too short to mean anything */
  assert_false(doppel_pii_luhn_ok(S("4111111111111112")));
  assert_false(doppel_pii_luhn_ok(S("79927398710")));
  assert_false(doppel_pii_luhn_ok(S("4111 1111 1111 1111"))); /* digits only */
  assert_false(doppel_pii_luhn_ok(S("")));
  assert_false(doppel_pii_luhn_ok(NULL, 4));
  assert_true(dp_pii_card_ok(S("4111 1111 1111 1111")));
  assert_false(dp_pii_card_ok(S("4111 1111 1111 111"))); /* Visa is 13/16/19 */
  assert_true(dp_pii_card_ok(S("4111111111111111110")));  /* 19-digit Visa */
}

static void test_iban(void **state) {
  (void)state;
  static const char *const valid[] = {
      "GB82WEST12345698765432",       "DE89370400440532013000",     "FR1420041010050500013M02606",
      "ES9121000418450200051332",     "IT60X0542811101000000123456", "NL91ABNA0417164300",
      "BE68539007547034",             "CH9300762011623852957",      "AT611904300234573201",
      "PL61109010140000071219812874", "SE4550000000058398257466",   "DK5000400440116243",
      "FI2112345600000785",           "NO9386011117947",            "PT50000201231234567890154",
      "IE29AIBK93115212345678",       "LU280019400644750000",       "SA0380000000608010167519",
      "BR1800360305000010009795493C1", "LC55HEMM000100010012001200023015",
      "RU0204452560040702810412345678901",
  };
  for (size_t i = 0; i < sizeof valid / sizeof valid[0]; i++)
    if (!doppel_pii_is_iban(S(valid[i]))) fail_msg("IBAN %s rejected", valid[i]);
  assert_true(doppel_pii_is_iban(S("GB82 WEST 1234 5698 7654 32")));
  assert_true(doppel_pii_is_iban(S("gb82 west 1234 5698 7654 32")));
  assert_false(doppel_pii_is_iban(S("GB82 WEST 1234 5698 7654 32 "))); /* candidate only */
  assert_false(doppel_pii_is_iban(S("GB82WEST12345698765433")));
  assert_false(doppel_pii_is_iban(S("DE89370400440532013001")));
  assert_false(doppel_pii_is_iban(S("DE8937040044053201300")));
  assert_false(doppel_pii_is_iban(S("DEXX370400440532013000")));
  assert_false(doppel_pii_is_iban(S("DE89-3704-0044-0532-0130-00")));
  assert_false(doppel_pii_is_iban(S("US12345678901234567890")));
  assert_int_equal(dp_pii_iban_country_len('D', 'E'), 22);
  assert_int_equal(dp_pii_iban_country_len('g', 'b'), 22);
  assert_int_equal(dp_pii_iban_country_len('A', 'D'), 24);
  assert_int_equal(dp_pii_iban_country_len('Y', 'E'), 30);
  assert_int_equal(dp_pii_iban_country_len('U', 'S'), 0);
  assert_int_equal(dp_pii_iban_country_len('1', 'E'), 0);
}

/* "aaa...@aaa(40).aaa(40)....com" with the given local part and total length. */
static char *long_address(char *buf, size_t local, size_t total) {
  memset(buf, 'a', total);
  buf[local] = '@';
  for (size_t i = local + 41; i + 5 < total; i += 41) buf[i] = '.';
  memcpy(buf + total - 4, ".com", 4);
  return buf;
}

static void test_small_validators(void **state) {
  (void)state;
  assert_true(doppel_pii_is_ssn(S("219-09-9998")));
  assert_false(doppel_pii_is_ssn(S("219099998")));
  assert_false(doppel_pii_is_ssn(S("21a-09-9998")));
  assert_true(doppel_pii_is_uuid(S("00000000-0000-0000-0000-000000000000")));
  assert_false(doppel_pii_is_uuid(S("00000000-0000-0000-0000-00000000000")));
  assert_false(doppel_pii_is_uuid(S("000000000-000-0000-0000-000000000000")));
  assert_true(doppel_pii_is_ipv4(S("1.1.1.1")));
  assert_false(doppel_pii_is_ipv4(S("1.1.1.1 ")));
  assert_false(doppel_pii_is_ipv4(S("1.1.1.0001")));
  assert_false(doppel_pii_is_ipv4(S("-1.1.1.1")));
  assert_true(doppel_pii_is_ipv6(S("::ffff:1.2.3.4")));
  assert_true(doppel_pii_is_ipv6(S("1::")));
  assert_false(doppel_pii_is_ipv6(S(":::")));
  assert_false(doppel_pii_is_ipv6(S("1:2:3:4:5:6:7:1.2.3.4")));
  assert_false(doppel_pii_is_ipv6(S("::1.2.3")));
  assert_true(doppel_pii_is_email(S("a@b.co")));
  assert_false(doppel_pii_is_email(S("a@b.co ")));
  {
    char big[300];
    assert_true(doppel_pii_is_email(long_address(big, 64, 254), 254));
    assert_false(doppel_pii_is_email(long_address(big, 64, 255), 255)); /* > 254 */
    assert_false(doppel_pii_is_email(long_address(big, 65, 254), 254)); /* local > 64 */
    assert_false(doppel_pii_is_email(long_address(big, 0, 200), 200));  /* empty local */
    long_address(big, 64, 254)[70] = '@';
    assert_false(doppel_pii_is_email(big, 254)); /* two '@' */
  }
  assert_true(doppel_pii_is_phone(S("+1 415 555 0100")));
  assert_false(doppel_pii_is_phone(S("+ 1 415 555 0100")));
  assert_false(doppel_pii_is_phone(S("+(1) 415 555 0100")));
  assert_false(doppel_pii_is_phone(S("415 (555) 0100")));
  assert_false(doppel_pii_is_phone(S("(4155) 555-0100 x")));
}

/* ---- free text ------------------------------------------------------------------- */

typedef struct want {
  const char *text; /* substring, searched after the previous expected match */
  doppel_pii_kind kind;
} want;

#define W_END {NULL, DOPPEL_PII_NONE}

static const struct {
  const char *text;
  want want[6];
} find_cases[] = {
    {"mailto:john@x.com>", {{"john@x.com", DOPPEL_PII_EMAIL}, W_END}},
    {"<john@x.com>", {{"john@x.com", DOPPEL_PII_EMAIL}, W_END}},
    {"Signed-off-by: A <a@b.org>", {{"a@b.org", DOPPEL_PII_EMAIL}, W_END}},
    {"Fixed a bug #348 [dpiddy@gmail.com].", {{"dpiddy@gmail.com", DOPPEL_PII_EMAIL}, W_END}},
    {"'o.brien+rails@example.co.uk', then", {{"o.brien+rails@example.co.uk", DOPPEL_PII_EMAIL}, W_END}},
    {"write to jos\xc3\xa9@b\xc3\xbc" "cher.de\xe2\x80\x94now",
     {{"jos\xc3\xa9@b\xc3\xbc" "cher.de", DOPPEL_PII_EMAIL}, W_END}},
    {"see @request.protocol and trunk@26 and ajv@6.9.0 and x@y.to_s", {W_END}},
    {"card 4111 1111 1111 1111 exp 12/25", {{"4111 1111 1111 1111", DOPPEL_PII_CARD}, W_END}},
    {"order 12 4111 1111 1111 1111", {{"4111 1111 1111 1111", DOPPEL_PII_CARD}, W_END}},
    {"pay 5555555555554444, not 5555555555554445",
     {{"5555555555554444", DOPPEL_PII_CARD}, W_END}},
    {"call +1 415 555 0100 or (415) 555-0101.",
     {{"+1 415 555 0100", DOPPEL_PII_PHONE}, {"(415) 555-0101", DOPPEL_PII_PHONE}, W_END}},
    {"tel:+442079460958;ext=1", {{"+442079460958", DOPPEL_PII_PHONE}, W_END}},
    {"at 2024-01-09 12:30:00 took 1704795825 ms, build 1.2.3", {W_END}},
    {"servers 10.0.0.1, 1.2.3.4.5 and v1.2.3.4 and 192.168.1.254.",
     {{"10.0.0.1", DOPPEL_PII_IPV4}, {"192.168.1.254", DOPPEL_PII_IPV4}, W_END}},
    {"from [2001:db8::1]:443 via ::ffff:192.0.2.1 not ActiveRecord::Base, a::b or 12:30:45",
     {{"2001:db8::1", DOPPEL_PII_IPV6}, {"::ffff:192.0.2.1", DOPPEL_PII_IPV6}, W_END}},
    {"SSN 123-45-6789, not 000-12-3456 or 666-12-3456",
     {{"123-45-6789", DOPPEL_PII_SSN}, W_END}},
    {"IBAN DE89 3704 0044 0532 0130 00; GB82WEST12345698765432 and GB82WEST12345698765433",
     {{"DE89 3704 0044 0532 0130 00", DOPPEL_PII_IBAN},
      {"GB82WEST12345698765432", DOPPEL_PII_IBAN}, W_END}},
    {"git-svn-id: http://svn.rubyonrails.org/rails/trunk@26 5ecf4fe2-1ee6-0310-87b1-e25e094e27de",
     {W_END}},
    {"https://shop.example/cart?user=jdoe&email=john%40x.com&page=2&zip=94103#top",
     {{"jdoe", DOPPEL_PII_URL},
      {"john%40x.com", DOPPEL_PII_EMAIL},
      {"94103", DOPPEL_PII_URL},
      W_END}},
    {"/login?user%5Bemail%5D=a%40b.io&user[name]=Ann+Lee&access_token=eyJ.x_y==&lang=en",
     {{"a%40b.io", DOPPEL_PII_EMAIL},
      {"Ann+Lee", DOPPEL_PII_URL},
      {"eyJ.x_y==", DOPPEL_PII_URL},
      W_END}},
    {"/cb#access_token=abc123&state=xyz", {{"abc123", DOPPEL_PII_URL}, W_END}},
    {"(see /u?name=Bob).", {{"Bob", DOPPEL_PII_URL}, W_END}},
    {"/q?ip=10.1.2.3&phone=%2B14155550100&uid=", {{"10.1.2.3", DOPPEL_PII_IPV4},
                                                  {"%2B14155550100", DOPPEL_PII_URL}, W_END}},
    {"/search?q=shoes&page=2&id=7&event_name=x", {W_END}},
    {"/cgi-bin/imagemap/countdown70?285,291 /htbin/wais.pl?STS-59", {W_END}},
    {"name=Bob without a query string", {W_END}},
    /* overlaps: the value of a personal key holding an address → one e-mail */
    {"?email=a@b.org", {{"a@b.org", DOPPEL_PII_EMAIL}, W_END}},
    /* overlaps: a longer URL value swallows the e-mail inside it */
    {"?name=Ann<a@b.org>x", {{"Ann", DOPPEL_PII_URL}, {"a@b.org", DOPPEL_PII_EMAIL}, W_END}},
    {"?name=Ann%20a@b.org", {{"Ann%20a@b.org", DOPPEL_PII_URL}, W_END}},
    {"?contact=Ann%20a@b.org", {{"a@b.org", DOPPEL_PII_EMAIL}, W_END}},
    /* overlaps: IBAN digits look like a card/phone run; the IBAN wins */
    {"NO93 8601 1117 947", {{"NO93 8601 1117 947", DOPPEL_PII_IBAN}, W_END}},
};

static void check_find(const char *text, const want *w) {
  doppel_pii_match m[16];
  size_t n = doppel_pii_find(S(text), m, 16), k = 0, from = 0;
  for (; w[k].text; k++) {
    const char *p = strstr(text + from, w[k].text);
    assert_non_null(p);
    size_t st = (size_t)(p - text), len = strlen(w[k].text);
    if (k >= n) fail_msg("\"%s\": missing match %zu \"%s\"", text, k, w[k].text);
    if (m[k].start != st || m[k].len != len || m[k].kind != w[k].kind)
      fail_msg("\"%s\": match %zu is %zu+%zu %s \"%.*s\", want %zu+%zu %s \"%s\"", text, k,
               m[k].start, m[k].len, doppel_pii_kind_name(m[k].kind), (int)m[k].len,
               text + m[k].start, st, len, doppel_pii_kind_name(w[k].kind), w[k].text);
    from = st + len;
  }
  if (n != k)
    fail_msg("\"%s\": %zu matches, want %zu (extra: %s \"%.*s\")", text, n, k,
             doppel_pii_kind_name(m[k].kind), (int)m[k].len, text + m[k].start);
}

static void test_find_cases(void **state) {
  (void)state;
  assert_true(sizeof find_cases / sizeof find_cases[0] >= 20);
  for (size_t i = 0; i < sizeof find_cases / sizeof find_cases[0]; i++)
    check_find(find_cases[i].text, find_cases[i].want);
}

static void test_find_edges(void **state) {
  doppel_pii_match m[4];
  (void)state;
  assert_int_equal(doppel_pii_find(NULL, 10, m, 4), 0);
  assert_int_equal(doppel_pii_find("", 0, m, 4), 0);
  assert_int_equal(doppel_pii_find(S("plain words only, nothing to see"), m, 4), 0);
  /* the length is honoured: the address is cut before its TLD */
  assert_int_equal(doppel_pii_find("john@x.com", 7, m, 4), 0);
  assert_int_equal(doppel_pii_find("john@x.com", 10, m, 4), 1);
  /* whole value */
  assert_int_equal(doppel_pii_find(S("+14155550100"), m, 4), 1);
  assert_int_equal(m[0].start, 0);
  assert_int_equal(m[0].len, 12);
  assert_int_equal(m[0].kind, DOPPEL_PII_PHONE);
}

static void test_find_cap(void **state) {
  const char *text = "a@b.org c@d.org 10.0.0.1 e@f.org 123-45-6789 +14155550100";
  doppel_pii_match m[8], untouched;
  (void)state;
  memset(m, 0xAB, sizeof m);
  memset(&untouched, 0xAB, sizeof untouched);
  assert_int_equal(doppel_pii_find(S(text), m, 2), 6);
  assert_int_equal(m[0].start, 0);
  assert_int_equal(m[1].start, 8);
  assert_int_equal(m[1].kind, DOPPEL_PII_EMAIL);
  assert_memory_equal(&m[2], &untouched, sizeof untouched);
  assert_int_equal(doppel_pii_find(S(text), NULL, 0), 6);
  assert_int_equal(doppel_pii_find(S(text), NULL, 5), 6); /* NULL out: count only */
  assert_int_equal(doppel_pii_find(S(text), m, 0), 6);
  assert_int_equal(doppel_pii_find(S(text), m, 8), 6);
  assert_int_equal(m[2].kind, DOPPEL_PII_IPV4);
  assert_int_equal(m[4].kind, DOPPEL_PII_SSN);
  assert_int_equal(m[5].kind, DOPPEL_PII_PHONE);
  /* many matches in one string: the count goes on past the cap */
  {
    char big[4000];
    size_t n = 0;
    for (int i = 0; i < 200; i++) n += (size_t)snprintf(big + n, sizeof big - n, "u%d@x.io ", i % 10);
    assert_int_equal(doppel_pii_find(big, n, m, 8), 200);
    for (int i = 1; i < 8; i++) assert_true(m[i].start >= m[i - 1].start + m[i - 1].len);
  }
}

/* ---- shared real data --------------------------------------------------------------- */

/* Each line's JSON string value for "key" (raw, escapes kept) through find(). */
static int scan_shared(const char *path, const char *key, size_t counts[DOPPEL_PII_KIND_COUNT],
                       size_t *lines) {
  char line[1 << 16], pat[64];
  gzFile f = gzopen(path, "rb");
  if (!f) return 0;
  snprintf(pat, sizeof pat, "\"%s\":\"", key);
  *lines = 0;
  while (gzgets(f, line, sizeof line)) {
    const char *p = strstr(line, pat), *e;
    doppel_pii_match m[32];
    if (!p) continue;
    p += strlen(pat);
    for (e = p; *e && !(*e == '"' && e[-1] != '\\'); e++) {
    }
    size_t n = doppel_pii_find(p, (size_t)(e - p), m, 32);
    for (size_t i = 0; i < n && i < 32; i++) {
      assert_true(m[i].start + m[i].len <= (size_t)(e - p));
      counts[m[i].kind]++;
      if (m[i].kind == DOPPEL_PII_EMAIL && memchr(p + m[i].start, '@', m[i].len))
        assert_int_equal(doppel_pii_classify_value(p + m[i].start, m[i].len), DOPPEL_PII_EMAIL);
    }
    (*lines)++;
  }
  gzclose(f);
  return 1;
}

static void test_shared_data(void **state) {
  size_t rails[DOPPEL_PII_KIND_COUNT] = {0}, nasa[DOPPEL_PII_KIND_COUNT] = {0}, lines = 0, total = 0;
  (void)state;
  if (!scan_shared(DOPPEL_SHARED_DATA "/rails-commits/events.jsonl.gz", "subject", rails, &lines)) {
    skip();
    return;
  }
  assert_true(lines > 90000);
  print_message("rails subjects: %zu lines, %zu email, %zu ipv4, %zu ipv6, %zu phone\n", lines,
                rails[DOPPEL_PII_EMAIL], rails[DOPPEL_PII_IPV4], rails[DOPPEL_PII_IPV6],
                rails[DOPPEL_PII_PHONE]);
  /* commit subjects credit contributors as "[name@example.com]" */
  assert_true(rails[DOPPEL_PII_EMAIL] >= 500);
  /* four-part versions ("Prototype 1.6.0.3") are syntactically IPv4 */
  assert_true(rails[DOPPEL_PII_IPV4] < 80);
  assert_int_equal(rails[DOPPEL_PII_CARD], 0);
  assert_int_equal(rails[DOPPEL_PII_IBAN], 0);
  assert_int_equal(rails[DOPPEL_PII_SSN], 0);
  assert_true(rails[DOPPEL_PII_PHONE] < 5);
  if (!scan_shared(DOPPEL_SHARED_DATA "/nasa-http/events.jsonl.gz", "url", nasa, &lines)) return;
  assert_true(lines > 30000);
  for (int k = 0; k < DOPPEL_PII_KIND_COUNT; k++) total += nasa[k];
  print_message("nasa urls: %zu lines, %zu matches\n", lines, total);
  assert_int_equal(total, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_kind_labels),    cmocka_unit_test(test_classify_name),
      cmocka_unit_test(test_classify_value), cmocka_unit_test(test_luhn),
      cmocka_unit_test(test_iban),           cmocka_unit_test(test_small_validators),
      cmocka_unit_test(test_find_cases),     cmocka_unit_test(test_find_edges),
      cmocka_unit_test(test_find_cap),       cmocka_unit_test(test_shared_data),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
