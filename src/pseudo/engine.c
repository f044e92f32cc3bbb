/*
 * engine.c — the pseudonymizer: decides a treatment for every value of a
 * record (policy rule, dialect identifier, field-name class, or inspection
 * of the value itself) and rewrites the record by splicing replacements into
 * the original bytes, so untouched bytes come out identical.
 *
 * Speed: a record is parsed once into the JSON tape; the decision for a
 * dotted path is computed once and cached (paths repeat across records);
 * pseudonyms are cached per (treatment, value), so a user id seen a million
 * times is hashed once. Both caches are bounded and reset when full, which
 * changes speed only, never output.
 */
#include <arpa/inet.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <doppel/json.h>
#include <doppel/csv.h>
#include <doppel/keyed.h>
#include <doppel/pii.h>
#include <doppel/time.h>

#include "core/diag.h"
#include "pseudo/pseudo_int.h"
#include "pseudo/engine_int.h"

enum { SRC_KEEP = 0, SRC_RULE, SRC_IDENT, SRC_NAME, SRC_INSPECT };

/* How to hash a value: resolved per rule or per default treatment. */
typedef struct dp_spec {
  const char *domain;        /* fallback domain when the value's kind does not pick one */
  doppel_encoding encoding;  /* AUTO = by the value's kind */
  unsigned bits;             /* hex / e-mail digest bits */
  const char *label;         /* e-mail label; NULL = the domain */
  int by_kind;               /* 1 = e-mail/phone values use the email/phone domains */
  int ip_shape;              /* 1 = AUTO encodes IP values IP-shaped (else hex) */
  uint16_t id;               /* cache namespace */
} dp_spec;

typedef struct dp_decision {
  uint8_t src;               /* SRC_* */
  uint8_t action;            /* doppel_action */
  uint8_t kind;              /* doppel_pii_kind for IDENT / NAME */
  uint8_t forced;            /* 1 = applies to the whole subtree */
  int16_t counter;           /* counter index, -1 = per value */
  const dp_rule *rule;       /* SRC_RULE */
  const dp_spec *spec;       /* hashing spec for HASH */
  dp_gen gen;                /* generalization for NAME generalize */
} dp_decision;

/* ---- bounded caches ---------------------------------------------------- */

#define PATH_SLOTS 8192u
#define PSEUDO_SLOTS 65536u
#define PSEUDO_ARENA ((size_t)8 << 20)

typedef struct path_slot {
  uint64_t h;                /* full hash, 0 = empty */
  uint32_t off, len;         /* path bytes in the path arena */
  dp_decision dec;           /* cached decision */
} path_slot;

typedef struct pseudo_slot {
  uint64_t h;                /* 0 = empty */
  uint32_t off;              /* key bytes then value bytes in the pseudonym arena */
  uint16_t spec;             /* spec id */
  uint16_t vlen;             /* pseudonym length */
  uint32_t klen;             /* original value length */
} pseudo_slot;

static inline uint64_t mix64(uint64_t h) {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  return h;
}

static inline uint64_t hash_bytes(uint64_t h, const char *s, size_t n) {
  while (n >= 8) {
    uint64_t w;
    memcpy(&w, s, 8);
    h = (h ^ w) * 0x9E3779B97F4A7C15ULL;
    h ^= h >> 29;
    s += 8;
    n -= 8;
  }
  uint64_t w = 0;
  for (size_t i = 0; i < n; i++) w |= (uint64_t)(unsigned char)s[i] << (8 * i); /* n < 8: no memcpy call */
  h = (h ^ w ^ ((uint64_t)n << 56)) * 0x9E3779B97F4A7C15ULL;
  return mix64(h) | 1;
}

/* ---- the object --------------------------------------------------------- */

#define MAX_DOMAINS 48
#define MAX_EDITS_INIT 64

typedef struct dp_edit {
  uint32_t start, end;       /* replaced span of the record */
  uint32_t off, len;         /* replacement bytes in p->repl */
} dp_edit;

struct doppel_pseudonymizer {
  const doppel_key *key;           /* borrowed */
  const doppel_policy *policy;     /* borrowed; NULL = defaults only */
  int defaults;                    /* default treatments on */
  doppel_dialect dialect;
  const doppel_field_map *map;
  const char *ident_paths[24];     /* dialect identifier paths */
  doppel_pii_kind ident_kinds[24];
  size_t n_ident;

  doppel_json_doc doc;
  dp_buf out, repl, path, tmp, val, res;
  dp_edit *edits;
  size_t n_edits, cap_edits;
  uint32_t *pathlen;               /* per depth */
  const dp_decision **dec;         /* per depth: the decision in force */
  dp_decision *dec_own;            /* per depth: storage for decisions the full cache could not hold */
  uint32_t *last_kept;             /* per depth: end of last kept sibling, UINT32_MAX none */
  size_t depth_cap;

  path_slot *paths;
  dp_buf path_arena;
  size_t n_paths;
  pseudo_slot *pseudos;
  dp_buf pseudo_arena;
  size_t n_pseudos;

  struct { char name[64]; doppel_keyed *k; } domains[MAX_DOMAINS];
  size_t n_domains;

  dp_spec *rule_specs;             /* one per policy rule */
  dp_decision inspect_dec, keep_dec;

  dp_counter counters[DOPPEL_PSEUDO_MAX_COUNTERS];
  size_t n_counters;
  int16_t kind_value_counter[DOPPEL_PII_KIND_COUNT];
  int16_t kind_scrub_counter[DOPPEL_PII_KIND_COUNT];
  int16_t kind_key_counter[DOPPEL_PII_KIND_COUNT];

  /* CSV */
  char delim;
  size_t n_cols;
  dp_decision *col_dec;
  doppel_csv_field *fields;
  size_t cap_fields;
};

/* default specs (ids 1..); rule specs use 1000 + rule number */
static const dp_spec SPEC_USER = {"id", DOPPEL_ENCODING_AUTO, 128, NULL, 1, 0, 1};
static const dp_spec SPEC_DEVICE = {"id", DOPPEL_ENCODING_AUTO, 128, NULL, 1, 0, 2};
static const dp_spec SPEC_IP = {"ip", DOPPEL_ENCODING_AUTO, 128, NULL, 0, 1, 3};
static const dp_spec SPEC_EMAIL = {"email", DOPPEL_ENCODING_AUTO, 128, NULL, 1, 1, 4};
static const dp_spec SPEC_PHONE = {"phone", DOPPEL_ENCODING_AUTO, 128, NULL, 1, 1, 5};
static const dp_spec SPEC_NAME = {"name", DOPPEL_ENCODING_HEX, 128, NULL, 1, 0, 6};
static const dp_spec SPEC_ADDRESS = {"address", DOPPEL_ENCODING_HEX, 128, NULL, 1, 0, 7};
static const dp_spec SPEC_CARD = {"card", DOPPEL_ENCODING_HEX, 128, NULL, 0, 0, 8};
static const dp_spec SPEC_IBAN = {"iban", DOPPEL_ENCODING_HEX, 128, NULL, 0, 0, 9};
static const dp_spec SPEC_SSN = {"ssn", DOPPEL_ENCODING_HEX, 128, NULL, 0, 0, 10};
static const dp_spec SPEC_LOCATION = {"location", DOPPEL_ENCODING_HEX, 128, NULL, 0, 0, 11};
static const dp_spec SPEC_TOKEN = {"url-param", DOPPEL_ENCODING_AUTO, 128, NULL, 1, 1, 12};

static const dp_spec *spec_for_kind(doppel_pii_kind k) {
  switch (k) {
    case DOPPEL_PII_EMAIL: return &SPEC_EMAIL;
    case DOPPEL_PII_PHONE: return &SPEC_PHONE;
    case DOPPEL_PII_IPV4: case DOPPEL_PII_IPV6: case DOPPEL_PII_IP: return &SPEC_IP;
    case DOPPEL_PII_CARD: return &SPEC_CARD;
    case DOPPEL_PII_IBAN: return &SPEC_IBAN;
    case DOPPEL_PII_SSN: return &SPEC_SSN;
    case DOPPEL_PII_NAME: return &SPEC_NAME;
    case DOPPEL_PII_ADDRESS: return &SPEC_ADDRESS;
    case DOPPEL_PII_DEVICE_ID: return &SPEC_DEVICE;
    case DOPPEL_PII_LOCATION: return &SPEC_LOCATION;
    case DOPPEL_PII_URL: return &SPEC_TOKEN;
    default: return &SPEC_USER;
  }
}

static const char *const action_verbs[] = {"keep", "hash", "drop", "generalize", "scrub"};

static int16_t counter_get(doppel_pseudonymizer *p, const char *label) {
  for (size_t i = 0; i < p->n_counters; i++)
    if (!strcmp(p->counters[i].label, label)) return (int16_t)i;
  if (p->n_counters == DOPPEL_PSEUDO_MAX_COUNTERS) return (int16_t)(DOPPEL_PSEUDO_MAX_COUNTERS - 1);
  dp_counter *c = &p->counters[p->n_counters];
  snprintf(c->label, sizeof c->label, "%s", label);
  c->values = 0;
  return (int16_t)p->n_counters++;
}

static inline void count(doppel_pseudonymizer *p, int16_t c) {
  if (c >= 0) p->counters[c].values++;
}

/* Count one value in the per-kind counter table `slots`, naming the counter
 * "default: <kind> <what>" the first time it is used. */
static void count_kind(doppel_pseudonymizer *p, int16_t *slots, doppel_pii_kind k, const char *what) {
  if (slots[k] < 0) {
    char label[160];
    snprintf(label, sizeof label, "default: %s %s", doppel_pii_kind_name(k), what);
    slots[k] = counter_get(p, label);
  }
  count(p, slots[k]);
}

/* ---- keyed hashing ------------------------------------------------------ */

/* The keyed hasher of domain, made on first use. DOPPEL_E_LIMIT past
 * MAX_DOMAINS domains; DOPPEL_E_NOMEM / DOPPEL_E_CRYPTO when it cannot be
 * made. */
static doppel_status domain_hasher(doppel_pseudonymizer *p, const char *domain, doppel_keyed **out) {
  for (size_t i = 0; i < p->n_domains; i++)
    if (!strcmp(p->domains[i].name, domain)) {
      *out = p->domains[i].k;
      return DOPPEL_OK;
    }
  if (p->n_domains == MAX_DOMAINS) return DOPPEL_E_LIMIT;
  doppel_keyed *k = NULL;
  doppel_diag d;
  if (doppel_keyed_new(&k, p->key, domain, &d) != DOPPEL_OK) return d.status;
  snprintf(p->domains[p->n_domains].name, sizeof p->domains[0].name, "%s", domain);
  p->domains[p->n_domains++].k = k;
  *out = k;
  return DOPPEL_OK;
}

static int hexval(char c) {
  return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
       : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* Trimmed, ASCII-lowercased, percent-decoded (an e-mail found URL-encoded in
 * a query string maps to the same pseudonym as the plain one). */
static size_t canon_email(const char *s, size_t n, char *out) {
  while (n && (*s == ' ' || *s == '\t')) s++, n--;
  while (n && (s[n - 1] == ' ' || s[n - 1] == '\t')) n--;
  size_t o = 0;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (c == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
      c = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
      i += 2;
    }
    out[o++] = (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
  }
  return o;
}

static size_t canon_phone(const char *s, size_t n, char *out) {
  size_t o = 0;
  for (size_t i = 0; i < n; i++)
    if ((s[i] >= '0' && s[i] <= '9') || (s[i] == '+' && o == 0)) out[o++] = s[i];
  return o;
}

static size_t canon_ip(const char *s, size_t n, char *out, size_t cap) {
  char tmp[64];
  unsigned char a[16];
  if (n >= sizeof tmp) return 0;
  memcpy(tmp, s, n);
  tmp[n] = '\0';
  if (inet_pton(AF_INET, tmp, a) == 1) return inet_ntop(AF_INET, a, out, (socklen_t)cap) ? strlen(out) : 0;
  if (inet_pton(AF_INET6, tmp, a) == 1) return inet_ntop(AF_INET6, a, out, (socklen_t)cap) ? strlen(out) : 0;
  return 0;
}

/* Compute the pseudonym of s[0..n) under spec into res (appended).
 * kind_hint: the value's kind when already known (NONE = classify here). */
static doppel_status pseudonym(doppel_pseudonymizer *p, const dp_spec *spec, const char *s, size_t n,
                               doppel_pii_kind kind, dp_buf *res) {
  uint64_t h = hash_bytes(0x5bd1e995u + spec->id, s, n);
  uint32_t mask = PSEUDO_SLOTS - 1;
  uint32_t i = (uint32_t)h & mask;
  for (;;) {
    pseudo_slot *sl = &p->pseudos[i];
    if (!sl->h) break;
    if (sl->h == h && sl->spec == spec->id && sl->klen == n &&
        memcmp(p->pseudo_arena.data + sl->off, s, n) == 0)
      return dp_buf_append(res, p->pseudo_arena.data + sl->off + n, sl->vlen);
    i = (i + 1) & mask;
  }
  /* miss: classify, canonicalize, digest, encode */
  if (kind == DOPPEL_PII_NONE && (spec->encoding == DOPPEL_ENCODING_AUTO || spec->by_kind))
    kind = doppel_pii_classify_value(s, n);
  const char *domain = spec->domain;
  doppel_encoding enc = spec->encoding;
  if (spec->by_kind && kind == DOPPEL_PII_EMAIL) domain = "email";
  if (spec->by_kind && kind == DOPPEL_PII_PHONE) domain = "phone";
  if (enc == DOPPEL_ENCODING_AUTO) {
    enc = DOPPEL_ENCODING_HEX;
    if (kind == DOPPEL_PII_EMAIL) enc = DOPPEL_ENCODING_EMAIL;
    else if (kind == DOPPEL_PII_PHONE) enc = DOPPEL_ENCODING_PHONE;
    else if (kind == DOPPEL_PII_UUID) enc = DOPPEL_ENCODING_UUID;
    else if (spec->ip_shape && (kind == DOPPEL_PII_IPV4 || kind == DOPPEL_PII_IPV6)) enc = DOPPEL_ENCODING_IP;
  }
  dp_buf_reset(&p->tmp);
  doppel_status st = dp_buf_reserve(&p->tmp, n + 64);
  if (st != DOPPEL_OK) return st;
  const char *cv = s;
  size_t cn = n;
  int is_v6 = 0;
  if (kind == DOPPEL_PII_EMAIL) {
    cn = canon_email(s, n, p->tmp.data);
    cv = p->tmp.data;
  } else if (kind == DOPPEL_PII_PHONE) {
    cn = canon_phone(s, n, p->tmp.data);
    cv = p->tmp.data;
  } else if (kind == DOPPEL_PII_IPV4 || kind == DOPPEL_PII_IPV6) {
    size_t c = canon_ip(s, n, p->tmp.data, n + 64);
    if (c) { cv = p->tmp.data; cn = c; }
    is_v6 = kind == DOPPEL_PII_IPV6;
  }
  doppel_keyed *k = NULL;
  if ((st = domain_hasher(p, domain, &k)) != DOPPEL_OK) return st;
  uint8_t digest[32];
  st = doppel_keyed_digest(k, cv, cn, digest);
  if (st != DOPPEL_OK) return st;
  char enc_out[512];
  size_t w = 0;
  switch (enc) {
    case DOPPEL_ENCODING_UUID: w = doppel_pseudo_uuid(digest, enc_out, sizeof enc_out); break;
    case DOPPEL_ENCODING_EMAIL:
      w = doppel_pseudo_email(digest, spec->bits, spec->label ? spec->label : domain, enc_out,
                              sizeof enc_out);
      break;
    case DOPPEL_ENCODING_PHONE:
      w = n < 200 ? doppel_pseudo_phone(digest, s, n, enc_out, sizeof enc_out) : 0;
      break;
    case DOPPEL_ENCODING_IP:
      if (kind != DOPPEL_PII_IPV4 && kind != DOPPEL_PII_IPV6) kind = doppel_pii_classify_value(s, n);
      is_v6 = kind == DOPPEL_PII_IPV6;
      w = is_v6 ? doppel_pseudo_ipv6(digest, enc_out, sizeof enc_out)
                : doppel_pseudo_ipv4(digest, enc_out, sizeof enc_out);
      break;
    default: break;
  }
  if (w == 0) w = doppel_pseudo_hex(digest, spec->bits, enc_out, sizeof enc_out);
  OPENSSL_cleanse(digest, sizeof digest);
  if (w == 0) return DOPPEL_E_INTERNAL;
  /* remember it (bounded: reset everything when full) */
  if (n <= 4096) {
    if (p->n_pseudos * 2 >= PSEUDO_SLOTS || p->pseudo_arena.len + n + w > PSEUDO_ARENA) {
      memset(p->pseudos, 0, PSEUDO_SLOTS * sizeof *p->pseudos);
      OPENSSL_cleanse(p->pseudo_arena.data, p->pseudo_arena.len);
      p->pseudo_arena.len = 0;
      p->n_pseudos = 0;
      i = (uint32_t)h & mask;
      while (p->pseudos[i].h) i = (i + 1) & mask;
    }
    uint32_t off = (uint32_t)p->pseudo_arena.len;
    if (dp_buf_append(&p->pseudo_arena, s, n) == DOPPEL_OK &&
        dp_buf_append(&p->pseudo_arena, enc_out, w) == DOPPEL_OK) {
      pseudo_slot *sl = &p->pseudos[i];
      sl->h = h;
      sl->off = off;
      sl->spec = spec->id;
      sl->klen = (uint32_t)n;
      sl->vlen = (uint16_t)w;
      p->n_pseudos++;
    }
  }
  return dp_buf_append(res, enc_out, w);
}

/* ---- decisions ----------------------------------------------------------- */

static void set_ident_paths(doppel_pseudonymizer *p) {
  const doppel_field_map *m = p->map;
  size_t n = 0;
#define ADD(path, kind) \
  do { if ((path) && n < 24) { p->ident_paths[n] = (path); p->ident_kinds[n++] = (kind); } } while (0)
  ADD(m->user_id, DOPPEL_PII_USER_ID);
  ADD(m->user_id_alt, DOPPEL_PII_USER_ID);
  ADD(m->device_id, DOPPEL_PII_DEVICE_ID);
  if (m->ip_fields)
    for (size_t i = 0; m->ip_fields[i]; i++) ADD(m->ip_fields[i], DOPPEL_PII_IP);
  switch (p->dialect) {
    case DOPPEL_DIALECT_AMPLITUDE:
      ADD("amplitude_id", DOPPEL_PII_USER_ID);
      ADD("adid", DOPPEL_PII_DEVICE_ID);
      ADD("idfa", DOPPEL_PII_DEVICE_ID);
      ADD("android_id", DOPPEL_PII_DEVICE_ID);
      break;
    case DOPPEL_DIALECT_SEGMENT:
      ADD("context.device.id", DOPPEL_PII_DEVICE_ID);
      ADD("context.device.advertisingId", DOPPEL_PII_DEVICE_ID);
      ADD("traits.email", DOPPEL_PII_USER_ID);
      break;
    case DOPPEL_DIALECT_MIXPANEL:
      ADD("properties.$user_id", DOPPEL_PII_USER_ID);
      ADD("properties.$device_id", DOPPEL_PII_DEVICE_ID);
      break;
    case DOPPEL_DIALECT_GA4:
      ADD("device.advertising_id", DOPPEL_PII_DEVICE_ID);
      break;
    default: break;
  }
#undef ADD
  p->n_ident = n;
}

static const char *last_segment(const char *path, size_t n, size_t *seg_len) {
  size_t i = n;
  while (i > 0 && path[i - 1] != '.') i--;
  *seg_len = n - i;
  return path + i;
}

static void decide(doppel_pseudonymizer *p, const char *path, size_t n, dp_decision *d) {
  memset(d, 0, sizeof *d);
  d->counter = -1;
  char label[160];
  if (p->policy) {
    for (size_t i = 0; i < p->policy->n; i++) {
      const dp_rule *r = &p->policy->rules[i];
      if (doppel_path_match(r->path, path, n)) {
        d->src = SRC_RULE;
        d->action = (uint8_t)r->action;
        d->rule = r;
        d->forced = 1;
        d->spec = &p->rule_specs[i];
        snprintf(label, sizeof label, "rule %zu %s: %s", r->number, r->path, action_verbs[r->action]);
        d->counter = counter_get(p, label);
        return;
      }
    }
  }
  if (!p->defaults) {
    *d = p->keep_dec;
    return;
  }
  for (size_t i = 0; i < p->n_ident; i++) {
    if (strlen(p->ident_paths[i]) == n && memcmp(p->ident_paths[i], path, n) == 0) {
      d->src = SRC_IDENT;
      d->action = DOPPEL_ACTION_HASH;
      d->kind = (uint8_t)p->ident_kinds[i];
      d->forced = 1;
      d->spec = p->ident_kinds[i] == DOPPEL_PII_IP ? &SPEC_IP
              : p->ident_kinds[i] == DOPPEL_PII_DEVICE_ID ? &SPEC_DEVICE : &SPEC_USER;
      snprintf(label, sizeof label, "default: identifier %s: hash", p->ident_paths[i]);
      d->counter = counter_get(p, label);
      return;
    }
  }
  size_t sl;
  const char *seg = last_segment(path, n, &sl);
  doppel_pii_kind k = doppel_pii_classify_name(seg, sl);
  switch (k) {
    case DOPPEL_PII_EMAIL: case DOPPEL_PII_PHONE: case DOPPEL_PII_NAME: case DOPPEL_PII_ADDRESS:
    case DOPPEL_PII_SSN: case DOPPEL_PII_CARD: case DOPPEL_PII_IBAN: case DOPPEL_PII_IP:
    case DOPPEL_PII_IPV4: case DOPPEL_PII_IPV6: case DOPPEL_PII_USER_ID: case DOPPEL_PII_DEVICE_ID:
      d->src = SRC_NAME;
      d->action = DOPPEL_ACTION_HASH;
      d->kind = (uint8_t)k;
      d->forced = 1;
      d->spec = spec_for_kind(k);
      snprintf(label, sizeof label, "default: %s field: hash", doppel_pii_kind_name(k));
      d->counter = counter_get(p, label);
      return;
    case DOPPEL_PII_LOCATION:
    case DOPPEL_PII_BIRTHDATE:
    case DOPPEL_PII_POSTCODE:
      d->src = SRC_NAME;
      d->action = DOPPEL_ACTION_GENERALIZE;
      d->kind = (uint8_t)k;
      d->forced = 1;
      d->gen.ip4_prefix = 24;
      d->gen.ip6_prefix = 48;
      if (k == DOPPEL_PII_LOCATION) { d->gen.kind = DP_GEN_ROUND; d->gen.round_digits = 2; }
      else if (k == DOPPEL_PII_BIRTHDATE) { d->gen.kind = DP_GEN_TRUNCATE; d->gen.unit = DP_TU_YEAR; }
      else { d->gen.kind = DP_GEN_PREFIX; d->gen.keep_chars = 3; }
      snprintf(label, sizeof label, "default: %s field: generalize", doppel_pii_kind_name(k));
      d->counter = counter_get(p, label);
      return;
    default:
      *d = p->inspect_dec;
      return;
  }
}

static const dp_decision *lookup_decision(doppel_pseudonymizer *p, const char *path, size_t n,
                                          uint64_t h, dp_decision *scratch) {
  uint32_t mask = PATH_SLOTS - 1;
  uint32_t i = (uint32_t)h & mask;
  for (;;) {
    path_slot *sl = &p->paths[i];
    if (!sl->h) break;
    if (sl->h == h && sl->len == n && memcmp(p->path_arena.data + sl->off, path, n) == 0)
      return &sl->dec;
    i = (i + 1) & mask;
  }
  if (p->n_paths * 2 >= PATH_SLOTS || p->path_arena.len + n > ((size_t)4 << 20)) {
    decide(p, path, n, scratch); /* cache full: decide uncached (reset between records) */
    return scratch;
  }
  path_slot *sl = &p->paths[i];
  sl->off = (uint32_t)p->path_arena.len;
  if (dp_buf_append(&p->path_arena, path, n) != DOPPEL_OK) {
    decide(p, path, n, scratch);
    return scratch;
  }
  sl->h = h;
  sl->len = (uint32_t)n;
  decide(p, path, n, &sl->dec);
  p->n_paths++;
  return &sl->dec;
}

/* ---- applying a decision to a scalar ------------------------------------ */

static int is_trigger_kind(doppel_pii_kind k) {
  switch (k) {
    case DOPPEL_PII_EMAIL: case DOPPEL_PII_PHONE: case DOPPEL_PII_IPV4: case DOPPEL_PII_IPV6:
    case DOPPEL_PII_CARD: case DOPPEL_PII_IBAN: case DOPPEL_PII_SSN:
      return 1;
    default:
      return 0;
  }
}

/* A single token that cannot carry embedded personal data: hexadecimal ids
 * (hashes, UUIDs) and timestamps. Whole-value personal data was already
 * checked by classification, so scrubbing such tokens is skipped. */
static int is_plain_token(const char *s, size_t n) {
  int64_t us;
  if (n >= 10 && n <= 40 && s[0] >= '0' && s[0] <= '9' &&
      doppel_time_parse(s, n, &us, NULL, NULL) == DOPPEL_OK)
    return 1;
  for (size_t i = 0; i < n; i++) { /* exits at the first letter beyond 'f' in ordinary text */
    unsigned char c = (unsigned char)s[i];
    if (!((c >= '0' && c <= '9') || ((c | 32) >= 'a' && (c | 32) <= 'f') || c == '-')) return 0;
  }
  return 1;
}

/* Scrub personal data found in s[0..n) into res. Returns 1 when changed. */
static int scrub(doppel_pseudonymizer *p, const char *s, size_t n, dp_buf *res, doppel_status *st) {
  doppel_pii_match m[32];
  size_t pos = 0;
  int changed = 0;
  while (pos < n) {
    size_t total = doppel_pii_find(s + pos, n - pos, m, 32);
    if (total == 0) break;
    size_t got = total < 32 ? total : 32;
    if (!changed) {
      res->len = 0;
      changed = 1;
    }
    size_t cur = pos;
    for (size_t j = 0; j < got; j++) {
      size_t ms = pos + m[j].start;
      if ((*st = dp_buf_append(res, s + cur, ms - cur)) != DOPPEL_OK) return 0;
      const dp_spec *spec = spec_for_kind(m[j].kind);
      if ((*st = pseudonym(p, spec, s + ms, m[j].len,
                           m[j].kind == DOPPEL_PII_URL ? DOPPEL_PII_NONE : m[j].kind, res)) != DOPPEL_OK)
        return 0;
      cur = ms + m[j].len;
      count_kind(p, p->kind_scrub_counter, m[j].kind, "in text: scrub");
    }
    if (got == total) {
      if ((*st = dp_buf_append(res, s + cur, n - cur)) != DOPPEL_OK) return 0;
      pos = n;
    } else {
      pos = cur; /* more matches than fit: continue after the last one replaced */
    }
  }
  if (changed && pos < n) *st = dp_buf_append(res, s + pos, n - pos);
  return changed;
}

/* Apply d to a scalar value. Writes the new value into p->res (string
 * content, or a number literal when *res_number). Returns 1 when changed. */
static int apply_scalar(doppel_pseudonymizer *p, const dp_decision *d, const char *s, size_t n,
                        int is_number, int *res_number, doppel_status *st) {
  dp_buf *res = &p->res;
  res->len = 0;
  *res_number = 0;
  *st = DOPPEL_OK;
  switch (d->src) {
    case SRC_KEEP:
      return 0;
    case SRC_INSPECT: {
      if (is_number || n < 3) return 0;
      doppel_pii_kind k = doppel_pii_classify_value(s, n);
      if (is_trigger_kind(k)) {
        if ((*st = pseudonym(p, spec_for_kind(k), s, n, k, res)) != DOPPEL_OK) return 0;
        count_kind(p, p->kind_value_counter, k, "value: hash");
        return 1;
      }
      if (is_plain_token(s, n)) return 0;
      return scrub(p, s, n, res, st);
    }
    default:
      break;
  }
  switch ((doppel_action)d->action) {
    case DOPPEL_ACTION_KEEP:
    case DOPPEL_ACTION_DROP:
      return 0;
    case DOPPEL_ACTION_HASH:
      if ((*st = pseudonym(p, d->spec, s, n, DOPPEL_PII_NONE, res)) != DOPPEL_OK) return 0;
      count(p, d->counter);
      return 1;
    case DOPPEL_ACTION_SCRUB: {
      if (is_number) return 0;
      int changed = scrub(p, s, n, res, st);
      if (changed) count(p, d->counter);
      return changed;
    }
    case DOPPEL_ACTION_GENERALIZE: {
      const dp_gen *g = d->rule ? &d->rule->gen : &d->gen;
      if (!dp_generalize(g, s, n, is_number, res)) return 0;
      *res_number = is_number;
      count(p, d->counter);
      return 1;
    }
  }
  return 0;
}

/* ---- JSON rewriting ------------------------------------------------------ */

static doppel_status add_edit(doppel_pseudonymizer *p, uint32_t start, uint32_t end,
                              const char *r, size_t rn) {
  if (p->n_edits) {
    dp_edit *last = &p->edits[p->n_edits - 1];
    if (start < last->end) { /* overlapping deletions (dropped siblings) merge */
      if (start < last->start) last->start = start;
      if (end > last->end) last->end = end;
      return DOPPEL_OK;
    }
  }
  if (p->n_edits == p->cap_edits) {
    size_t cap = p->cap_edits ? p->cap_edits * 2 : MAX_EDITS_INIT;
    dp_edit *e = realloc(p->edits, cap * sizeof *e);
    if (!e) return DOPPEL_E_NOMEM;
    p->edits = e;
    p->cap_edits = cap;
  }
  dp_edit *e = &p->edits[p->n_edits++];
  e->start = start;
  e->end = end;
  e->off = (uint32_t)p->repl.len;
  e->len = (uint32_t)rn;
  return dp_buf_append(&p->repl, r, rn);
}

/* Replace node span with the value in p->res (as JSON string or number). */
static doppel_status edit_value(doppel_pseudonymizer *p, uint32_t start, uint32_t end, int number) {
  if (number) return add_edit(p, start, end, p->res.data, p->res.len);
  doppel_status st = dp_buf_reserve(&p->val, p->res.len * 6 + 2);
  if (st != DOPPEL_OK) return st;
  size_t w = doppel_json_escape(p->res.data, p->res.len, p->val.data);
  return add_edit(p, start, end, p->val.data, w);
}

static doppel_status ensure_depth(doppel_pseudonymizer *p, size_t depth) {
  if (depth < p->depth_cap) return DOPPEL_OK;
  size_t cap = depth + 64;
  uint32_t *pl = realloc(p->pathlen, cap * sizeof *pl);
  if (!pl) return DOPPEL_E_NOMEM;
  p->pathlen = pl;
  const dp_decision **dd = realloc(p->dec, cap * sizeof *dd);
  if (!dd) return DOPPEL_E_NOMEM;
  p->dec = dd;
  /* p->dec[] may point into dec_own: keep those pointers valid across growth */
  dp_decision *own = malloc(cap * sizeof *own);
  if (!own) return DOPPEL_E_NOMEM;
  if (p->dec_own) {
    memcpy(own, p->dec_own, p->depth_cap * sizeof *own);
    for (size_t i = 0; i < p->depth_cap; i++)
      if (p->dec[i] >= p->dec_own && p->dec[i] < p->dec_own + p->depth_cap)
        p->dec[i] = own + (p->dec[i] - p->dec_own);
    free(p->dec_own);
  }
  p->dec_own = own;
  uint32_t *lk = realloc(p->last_kept, cap * sizeof *lk);
  if (!lk) return DOPPEL_E_NOMEM;
  p->last_kept = lk;
  p->depth_cap = cap;
  return DOPPEL_OK;
}

static uint32_t member_start(const doppel_json_node *nd, int is_member) {
  return is_member ? nd->key_start - 1 : nd->start;
}

static doppel_status check_key(doppel_pseudonymizer *p, const doppel_json_node *nd, const char *key,
                               size_t kn) {
  /* personal data used as a key ({"jane@example.com": ...}) */
  if (kn < 5) return DOPPEL_OK;
  int trigger = memchr(key, '@', kn) != NULL;
  if (!trigger) {
    size_t digits = 0;
    for (size_t i = 0; i < kn; i++) digits += key[i] >= '0' && key[i] <= '9';
    trigger = digits >= 7 || memchr(key, ':', kn) != NULL;
  }
  if (!trigger) return DOPPEL_OK;
  doppel_pii_kind k = doppel_pii_classify_value(key, kn);
  if (!is_trigger_kind(k)) return DOPPEL_OK;
  p->res.len = 0;
  doppel_status st = pseudonym(p, spec_for_kind(k), key, kn, k, &p->res);
  if (st != DOPPEL_OK) return st;
  count_kind(p, p->kind_key_counter, k, "in key: hash");
  return edit_value(p, nd->key_start - 1, nd->key_start + nd->key_len + 1, 0);
}

doppel_status doppel_pseudonymizer_json(doppel_pseudonymizer *p, const char *rec, size_t len,
                                        const char **out, size_t *out_len, doppel_diag *diag) {
  *out = rec;
  *out_len = len;
  doppel_status st = doppel_json_parse(&p->doc, rec, len, diag);
  if (st != DOPPEL_OK) return st;
  const doppel_json_node *nodes = p->doc.nodes;
  uint32_t count_nodes = p->doc.count;
  p->n_edits = 0;
  p->repl.len = 0;
  p->path.len = 0;
  if (p->n_paths * 2 >= PATH_SLOTS) { /* reset a full path cache between records */
    memset(p->paths, 0, PATH_SLOTS * sizeof *p->paths);
    p->path_arena.len = 0;
    p->n_paths = 0;
  }
  if ((st = ensure_depth(p, 2)) != DOPPEL_OK) goto fail;
  p->pathlen[0] = 0;
  p->dec[0] = &p->inspect_dec;
  p->last_kept[0] = UINT32_MAX;
  p->last_kept[1] = UINT32_MAX;
  uint64_t *hs = NULL; /* path hash per depth */

  uint32_t i = 0;
  /* root scalar: inspect it like any value */
  if (nodes[0].type != DOPPEL_JSON_OBJECT && nodes[0].type != DOPPEL_JSON_ARRAY) {
    if (nodes[0].type == DOPPEL_JSON_STRING) {
      size_t n;
      const char *s = doppel_json_str(&p->doc, 0, &n);
      if (nodes[0].flags & DOPPEL_JSON_F_ESCAPED) {
        if ((st = dp_buf_reserve(&p->tmp, n)) != DOPPEL_OK) goto fail;
        n = doppel_json_unescape(s, n, p->tmp.data);
        if ((st = dp_buf_reserve(&p->val, n)) != DOPPEL_OK) goto fail;
        memcpy(p->val.data, p->tmp.data, n);
        s = p->val.data;
      }
      int rn;
      if (apply_scalar(p, &p->inspect_dec, s, n, 0, &rn, &st))
        if ((st = edit_value(p, nodes[0].start, nodes[0].end, 0)) != DOPPEL_OK) goto fail;
      if (st != DOPPEL_OK) goto fail;
    }
    goto splice;
  }
  /* per-depth path hashes */
  uint64_t hbuf[64];
  uint64_t *hdyn = NULL;
  hs = hbuf;
  size_t hcap = 64;
  hs[0] = 0x84222325u;
  i = 1;
  while (i < count_nodes) {
    const doppel_json_node *nd = &nodes[i];
    uint32_t d = nd->depth;
    if ((st = ensure_depth(p, d + 2)) != DOPPEL_OK) break;
    if (d + 2 > hcap) {
      size_t ncap = (size_t)d + 64;
      uint64_t *nh = malloc(ncap * sizeof *nh);
      if (!nh) { st = DOPPEL_E_NOMEM; break; }
      memcpy(nh, hs, hcap * sizeof *nh);
      free(hdyn);
      hs = hdyn = nh;
      hcap = ncap;
    }
    const doppel_json_node *parent = &nodes[nd->parent];
    int is_member = parent->type == DOPPEL_JSON_OBJECT;
    p->path.len = p->pathlen[d - 1];
    const char *key = NULL;
    size_t kn = 0;
    if (is_member) {
      key = rec + nd->key_start;
      kn = nd->key_len;
      if ((st = dp_buf_reserve(&p->path, kn + 1)) != DOPPEL_OK) break;
      if (p->path.len) p->path.data[p->path.len++] = '.';
      if (nd->flags & DOPPEL_JSON_F_KEY_ESCAPED) {
        size_t un = doppel_json_unescape(key, kn, p->path.data + p->path.len);
        key = p->path.data + p->path.len;
        kn = un;
      } else {
        memcpy(p->path.data + p->path.len, key, kn);
      }
      p->path.len += kn;
    }
    p->pathlen[d] = (uint32_t)p->path.len;
    const dp_decision *dec;
    const dp_decision *pdec = p->dec[d - 1];
    if (pdec->forced) {
      dec = pdec; /* a whole subtree shares the decision: no path hash needed */
    } else if (!is_member) {
      hs[d] = hs[d - 1]; /* array elements share their array's path */
      dec = pdec;
    } else {
      hs[d] = hash_bytes(hs[d - 1], p->path.data + p->pathlen[d - 1], p->path.len - p->pathlen[d - 1]);
      dec = lookup_decision(p, p->path.data, p->path.len, hs[d], &p->dec_own[d]);
    }
    p->dec[d] = dec;

    if (dec->action == DOPPEL_ACTION_DROP && dec->src == SRC_RULE) {
      uint32_t start;
      uint32_t next = nd->next;
      int has_next = next < count_nodes && nodes[next].parent == nd->parent;
      if (p->last_kept[d] != UINT32_MAX) start = p->last_kept[d];
      else start = member_start(nd, is_member);
      uint32_t end = nd->end;
      if (p->last_kept[d] == UINT32_MAX && has_next) end = member_start(&nodes[next], is_member);
      if ((st = add_edit(p, start, end, "", 0)) != DOPPEL_OK) break;
      count(p, dec->counter);
      i = next;
      continue;
    }
    if (is_member && dec->src != SRC_KEEP && !(dec->src == SRC_RULE && dec->action == DOPPEL_ACTION_KEEP))
      if ((st = check_key(p, nd, key, kn)) != DOPPEL_OK) break;
    p->last_kept[d] = nd->end;
    if (nd->type == DOPPEL_JSON_OBJECT || nd->type == DOPPEL_JSON_ARRAY) {
      p->last_kept[d + 1] = UINT32_MAX;
      i++;
      continue;
    }
    if (nd->type == DOPPEL_JSON_STRING || nd->type == DOPPEL_JSON_NUMBER) {
      int is_number = nd->type == DOPPEL_JSON_NUMBER;
      const char *s;
      size_t n;
      if (is_number) {
        s = rec + nd->start;
        n = nd->end - nd->start;
      } else {
        s = doppel_json_str(&p->doc, i, &n);
        if (nd->flags & DOPPEL_JSON_F_ESCAPED) {
          if ((st = dp_buf_reserve(&p->tmp, n)) != DOPPEL_OK) break;
          n = doppel_json_unescape(s, n, p->tmp.data);
          if ((st = dp_buf_reserve(&p->val, n)) != DOPPEL_OK) break;
          memcpy(p->val.data, p->tmp.data, n);
          s = p->val.data;
        }
      }
      int rn;
      if (apply_scalar(p, dec, s, n, is_number, &rn, &st)) {
        if ((st = edit_value(p, nd->start, nd->end, rn)) != DOPPEL_OK) break;
      }
      if (st != DOPPEL_OK) break;
    }
    i = nd->next;
  }
  free(hdyn);
  if (st != DOPPEL_OK) goto fail;
splice:
  if (p->n_edits == 0) return DOPPEL_OK;
  p->out.len = 0;
  {
    uint32_t cur = 0;
    for (size_t e = 0; e < p->n_edits; e++) {
      const dp_edit *ed = &p->edits[e];
      if ((st = dp_buf_append(&p->out, rec + cur, ed->start - cur)) != DOPPEL_OK) goto fail;
      if ((st = dp_buf_append(&p->out, p->repl.data + ed->off, ed->len)) != DOPPEL_OK) goto fail;
      cur = ed->end;
    }
    if ((st = dp_buf_append(&p->out, rec + cur, len - cur)) != DOPPEL_OK) goto fail;
  }
  *out = p->out.data;
  *out_len = p->out.len;
  return DOPPEL_OK;
fail:
  if (st == DOPPEL_E_NOMEM || st == DOPPEL_E_LIMIT)
    return dp_diag_set(diag, st, NULL, 0, 0, "cannot rewrite record: %s", doppel_strerror(st));
  return dp_diag_set(diag, st, NULL, 0, 0, "cannot pseudonymize record: %s", doppel_strerror(st));
}

/* ---- CSV ------------------------------------------------------------------ */

static doppel_status split_fields(doppel_pseudonymizer *p, const char *rec, size_t len, size_t *n,
                                  doppel_diag *diag) {
  for (;;) {
    doppel_status st = doppel_csv_split(rec, len, p->delim, p->fields, p->cap_fields, n, diag);
    if (st != DOPPEL_OK) return st;
    if (*n <= p->cap_fields) return DOPPEL_OK;
    size_t cap = *n + 16;
    doppel_csv_field *f = realloc(p->fields, cap * sizeof *f);
    if (!f) return dp_diag_set(diag, DOPPEL_E_NOMEM, NULL, 0, 0, NULL);
    p->fields = f;
    p->cap_fields = cap;
  }
}

doppel_status doppel_pseudonymizer_csv_header(doppel_pseudonymizer *p, const char *rec, size_t len,
                                              char delim, doppel_diag *diag) {
  p->delim = delim ? delim : ',';
  size_t n;
  doppel_status st = split_fields(p, rec, len, &n, diag);
  if (st != DOPPEL_OK) return st;
  free(p->col_dec);
  p->col_dec = calloc(n ? n : 1, sizeof *p->col_dec);
  if (!p->col_dec) return dp_diag_set(diag, DOPPEL_E_NOMEM, NULL, 0, 0, NULL);
  p->n_cols = n;
  for (size_t c = 0; c < n; c++) {
    dp_buf_reset(&p->tmp);
    if ((st = dp_buf_reserve(&p->tmp, p->fields[c].len)) != DOPPEL_OK)
      return dp_diag_set(diag, st, NULL, 0, 0, NULL);
    size_t un = doppel_csv_unquote(rec, &p->fields[c], p->tmp.data);
    dp_buf_reset(&p->path);
    if ((st = dp_buf_append(&p->path, p->tmp.data, un)) != DOPPEL_OK)
      return dp_diag_set(diag, st, NULL, 0, 0, NULL);
    decide(p, p->path.data, p->path.len, &p->col_dec[c]);
  }
  return DOPPEL_OK;
}

doppel_status doppel_pseudonymizer_csv_row(doppel_pseudonymizer *p, const char *rec, size_t len,
                                           const char **out, size_t *out_len, doppel_diag *diag) {
  *out = rec;
  *out_len = len;
  if (!p->col_dec) return dp_diag_set(diag, DOPPEL_E_USAGE, NULL, 0, 0, "CSV row before header");
  size_t n;
  doppel_status st = split_fields(p, rec, len, &n, diag);
  if (st != DOPPEL_OK) return st;
  if (n != p->n_cols)
    return dp_diag_set(diag, DOPPEL_E_CSV, NULL, 0, 0, "expected %zu fields as in the header, found %zu",
                       p->n_cols, n);
  int changed_any = 0;
  p->out.len = 0;
  for (size_t c = 0; c < n; c++) {
    const doppel_csv_field *f = &p->fields[c];
    const dp_decision *d = &p->col_dec[c];
    if (c && (st = dp_buf_putc(&p->out, p->delim)) != DOPPEL_OK) break;
    if (d->src == SRC_RULE && d->action == DOPPEL_ACTION_DROP) {
      if (f->len) { changed_any = 1; count(p, d->counter); }
      continue;
    }
    if ((st = dp_buf_reserve(&p->val, f->len)) != DOPPEL_OK) break;
    size_t vn = doppel_csv_unquote(rec, f, p->val.data);
    int rn;
    int changed = vn ? apply_scalar(p, d, p->val.data, vn, 0, &rn, &st) : 0;
    if (st != DOPPEL_OK) break;
    if (!changed) {
      if ((st = dp_buf_append(&p->out, rec + f->start, f->len)) != DOPPEL_OK) break;
      continue;
    }
    changed_any = 1;
    if ((st = dp_buf_reserve(&p->out, p->res.len * 2 + 2)) != DOPPEL_OK) break;
    p->out.len += doppel_csv_quote(p->res.data, p->res.len, p->delim, p->out.data + p->out.len);
  }
  if (st != DOPPEL_OK) return dp_diag_set(diag, st, NULL, 0, 0, "cannot pseudonymize record: %s", doppel_strerror(st));
  if (changed_any) {
    *out = p->out.data;
    *out_len = p->out.len;
  }
  return DOPPEL_OK;
}

/* ---- lifecycle -------------------------------------------------------- */

doppel_status doppel_pseudonymizer_new(doppel_pseudonymizer **out, const doppel_key *key,
                                       const doppel_policy *policy, doppel_dialect dialect,
                                       doppel_diag *diag) {
  *out = NULL;
  if (!key) return dp_diag_set(diag, DOPPEL_E_USAGE, NULL, 0, 0, "a key is required");
  if (dialect == DOPPEL_DIALECT_AUTO || dialect >= DOPPEL_DIALECT_COUNT)
    return dp_diag_set(diag, DOPPEL_E_USAGE, NULL, 0, 0, "a concrete dialect is required");
  doppel_pseudonymizer *p = calloc(1, sizeof *p);
  if (!p) return dp_diag_set(diag, DOPPEL_E_NOMEM, NULL, 0, 0, NULL);
  p->key = key;
  p->policy = policy;
  p->defaults = policy ? policy->defaults : 1;
  p->dialect = dialect;
  p->map = doppel_dialect_fields(dialect);
  set_ident_paths(p);
  doppel_json_doc_init(&p->doc);
  dp_buf_init(&p->out, 0);
  dp_buf_init(&p->repl, 0);
  dp_buf_init(&p->path, 0);
  dp_buf_init(&p->tmp, 0);
  dp_buf_init(&p->val, 0);
  dp_buf_init(&p->res, 0);
  dp_buf_init(&p->path_arena, 0);
  dp_buf_init(&p->pseudo_arena, 0);
  p->inspect_dec.src = SRC_INSPECT;
  p->inspect_dec.counter = -1;
  p->keep_dec.src = SRC_KEEP;
  p->keep_dec.counter = -1;
  for (size_t k = 0; k < DOPPEL_PII_KIND_COUNT; k++)
    p->kind_value_counter[k] = p->kind_scrub_counter[k] = p->kind_key_counter[k] = -1;
  p->paths = calloc(PATH_SLOTS, sizeof *p->paths);
  p->pseudos = calloc(PSEUDO_SLOTS, sizeof *p->pseudos);
  size_t nr = policy ? policy->n : 0;
  p->rule_specs = calloc(nr ? nr : 1, sizeof *p->rule_specs);
  if (!p->paths || !p->pseudos || !p->rule_specs || ensure_depth(p, 64) != DOPPEL_OK) {
    doppel_pseudonymizer_free(p);
    return dp_diag_set(diag, DOPPEL_E_NOMEM, NULL, 0, 0, NULL);
  }
  for (size_t r = 0; r < nr; r++) {
    const dp_rule *rule = &policy->rules[r];
    dp_spec *s = &p->rule_specs[r];
    s->domain = rule->domain[0] ? rule->domain : "default";
    s->by_kind = rule->domain[0] == '\0';
    s->encoding = rule->encoding;
    s->bits = rule->bits;
    s->label = rule->label[0] ? rule->label : NULL;
    s->ip_shape = 1;
    s->id = (uint16_t)(1000 + r);
  }
  *out = p;
  return DOPPEL_OK;
}

void doppel_pseudonymizer_free(doppel_pseudonymizer *p) {
  if (!p) return;
  for (size_t i = 0; i < p->n_domains; i++) doppel_keyed_free(p->domains[i].k);
  doppel_json_doc_release(&p->doc);
  /* buffers may hold raw personal values: wipe before freeing */
  dp_buf *bufs[] = {&p->out, &p->repl, &p->path, &p->tmp, &p->val, &p->res, &p->path_arena, &p->pseudo_arena};
  for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) {
    if (bufs[i]->data) OPENSSL_cleanse(bufs[i]->data, bufs[i]->cap);
    dp_buf_release(bufs[i]);
  }
  free(p->edits);
  free(p->pathlen);
  free(p->dec);
  free(p->dec_own);
  free(p->last_kept);
  free(p->paths);
  free(p->pseudos);
  free(p->rule_specs);
  free(p->col_dec);
  free(p->fields);
  free(p);
}

size_t dp_pseudonymizer_counters(const doppel_pseudonymizer *p, const dp_counter **out) {
  *out = p->counters;
  return p->n_counters;
}
