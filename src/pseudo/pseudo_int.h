/*
 * pseudo/pseudo_int.h — internals shared by the policy loader, the rewrite
 * engine and the generalizers.
 */
#ifndef DP_PSEUDO_INT_H
#define DP_PSEUDO_INT_H

#include <doppel/pii.h>
#include <doppel/pseudo.h>

#include "core/buf.h"

typedef enum dp_gen_kind {
  DP_GEN_AUTO = 0,   /* IP → prefix, timestamp text → day; other values unchanged */
  DP_GEN_IP,         /* keep an IPv4 /ip4_prefix or IPv6 /ip6_prefix network */
  DP_GEN_TRUNCATE,   /* truncate timestamps to `unit` */
  DP_GEN_BUCKET,     /* numbers → lower bound of a bucket of width `bucket` */
  DP_GEN_PREFIX,     /* keep the first keep_chars characters, mask the rest with '*' */
  DP_GEN_ROUND       /* numbers rounded to round_digits decimals */
} dp_gen_kind;

typedef enum dp_time_unit { DP_TU_YEAR, DP_TU_MONTH, DP_TU_DAY, DP_TU_HOUR, DP_TU_MINUTE, DP_TU_SECOND } dp_time_unit;

typedef struct dp_gen {
  dp_gen_kind kind;     /* which generalization */
  int ip4_prefix;       /* bits kept of an IPv4 address (0..32) */
  int ip6_prefix;       /* bits kept of an IPv6 address (0..128) */
  dp_time_unit unit;    /* truncation unit */
  double bucket;        /* bucket width (> 0) */
  int keep_chars;       /* characters kept by PREFIX */
  int round_digits;     /* decimals kept by ROUND (0..12) */
} dp_gen;

typedef struct dp_rule {
  size_t number;             /* 1-based position in the policy */
  char *path;                /* glob over dotted paths (owned) */
  doppel_action action;      /* treatment */
  char domain[64];           /* hash domain; "" = by the value's kind */
  doppel_encoding encoding;  /* pseudonym shape */
  unsigned bits;             /* hex / e-mail digest bits (64..256) */
  char label[64];            /* e-mail label ("<hash>@<label>.invalid"); "" = domain */
  dp_gen gen;                /* generalization parameters */
} dp_rule;

struct doppel_policy {
  dp_rule *rules;   /* ordered rules (owned) */
  size_t n;         /* number of rules */
  int defaults;     /* 1 = unmatched paths get the default treatment */
};

/* Generalize a scalar. `is_number` tells whether s is a JSON number literal
 * (else string content, unescaped). Appends the replacement text (a number
 * literal or the new string content, unquoted) to out and returns 1, or
 * returns 0 when the generalization does not apply to this value. */
int dp_generalize(const dp_gen *g, const char *s, size_t n, int is_number, dp_buf *out);

#endif
