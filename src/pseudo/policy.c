/*
 * policy.c — loading and validating policy files ("doppel-policy/1") and
 * matching dotted paths against rule globs.
 *
 * A policy is parsed with jansson (documents are small; the hot path never
 * touches jansson). Every problem names the rule by number and path, and the
 * unknown or invalid key, so a person can fix the file.
 *
 * Out of memory: jansson 2.14 does not report every failed allocation. Its
 * lexer ignores a failed buffer growth, so a string comes back silently
 * truncated (fault injection found a rule path "**.email" that would read as
 * "**.emai", and a hash rule that would no longer match). So a parse during
 * which any jansson allocation failed is DOPPEL_E_NOMEM (core/nomem.h).
 */
#include "pseudo/pseudo_int.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/diag.h"
#include "core/nomem.h"

static int seg_match(const char *g, size_t gn, const char *s, size_t sn) {
  /* '*' within one segment: iterative wildcard match with backtracking. */
  size_t gi = 0, si = 0, star = (size_t)-1, mark = 0;
  while (si < sn) {
    if (gi < gn && g[gi] == '*') {
      star = gi++;
      mark = si;
    } else if (gi < gn && g[gi] == s[si]) {
      gi++;
      si++;
    } else if (star != (size_t)-1) {
      gi = star + 1;
      si = ++mark;
    } else {
      return 0;
    }
  }
  while (gi < gn && g[gi] == '*') gi++;
  return gi == gn;
}

typedef struct seg {
  const char *p;  /* first byte */
  size_t n;       /* length */
} seg;

/* Split s[0..n) on '.' into *out (grown as needed; inline storage first). */
static size_t split_segs(const char *s, size_t n, seg *inline_buf, size_t inline_cap, seg **out) {
  size_t count = 1;
  for (size_t i = 0; i < n; i++) count += s[i] == '.';
  seg *v = count <= inline_cap ? inline_buf : malloc(count * sizeof *v);
  if (!v) return (size_t)-1;
  size_t k = 0, start = 0;
  for (size_t i = 0; i <= n; i++)
    if (i == n || s[i] == '.') {
      v[k].p = s + start;
      v[k].n = i - start;
      k++;
      start = i + 1;
    }
  *out = v;
  return count;
}

static int is_globstar(const seg *g) { return g->n == 2 && g->p[0] == '*' && g->p[1] == '*'; }

/* Segment-level glob match: "**" matches any number (also zero) of whole
 * segments, any other glob segment matches exactly one path segment. Every
 * non-"**" segment consumes exactly one segment, so the classic wildcard
 * algorithm with a single backtracking point is exact and runs in
 * O(glob segments x path segments) — no exponential blow-up on many "**". */
static int path_match(const char *gs, size_t gn, const char *ps, size_t pn) {
  seg gbuf[32], pbuf[64], *g, *p;
  size_t G = split_segs(gs, gn, gbuf, 32, &g);
  if (G == (size_t)-1) return 0;
  size_t P = split_segs(ps, pn, pbuf, 64, &p);
  if (P == (size_t)-1) {
    if (g != gbuf) free(g);
    return 0;
  }
  size_t gi = 0, pi = 0, star = (size_t)-1, mark = 0;
  int ok = 1;
  while (pi < P) {
    if (gi < G && is_globstar(&g[gi])) {
      star = gi++;
      mark = pi;
    } else if (gi < G && seg_match(g[gi].p, g[gi].n, p[pi].p, p[pi].n)) {
      gi++;
      pi++;
    } else if (star != (size_t)-1) {
      gi = star + 1;
      pi = ++mark;
    } else {
      ok = 0;
      break;
    }
  }
  while (ok && gi < G && is_globstar(&g[gi])) gi++;
  ok = ok && gi == G;
  if (g != gbuf) free(g);
  if (p != pbuf) free(p);
  return ok;
}

int doppel_path_match(const char *glob, const char *path, size_t path_len) {
  if (!glob || !path) return 0;
  return path_match(glob, strlen(glob), path, path_len);
}

static const char *const action_names[] = {"keep", "hash", "drop", "generalize", "scrub"};
static const char *const encoding_names[] = {"auto", "hex", "uuid", "email", "phone", "ip"};
static const char *const unit_names[] = {"year", "month", "day", "hour", "minute", "second"};

static int lookup_name(const char *const *names, size_t n, const char *s) {
  for (size_t i = 0; i < n; i++)
    if (strcmp(names[i], s) == 0) return (int)i;
  return -1;
}

#define RULE_ERR(...) dp_diag_set(diag, DOPPEL_E_POLICY, source, 0, 0, __VA_ARGS__)

static doppel_status parse_rule(dp_rule *r, const char *what, size_t number, json_t *obj,
                                const char *source, doppel_diag *diag) {
  memset(r, 0, sizeof *r);
  r->number = number;
  r->bits = 128;
  if (!json_is_object(obj)) return RULE_ERR("%s %zu: expected an object", what, number);
  json_t *path = json_object_get(obj, "path");
  if (!json_is_string(path) || json_string_length(path) == 0)
    return RULE_ERR("%s %zu: missing \"path\" (a dotted field path, '*' and '**' allowed)",
                    what, number);
  const char *ps = json_string_value(path);
  if (strlen(ps) != json_string_length(path) || strlen(ps) > 1024)
    return RULE_ERR("%s %zu: invalid \"path\"", what, number);
  json_t *action = json_object_get(obj, "action");
  if (!json_is_string(action))
    return RULE_ERR("%s %zu (path '%s'): missing \"action\" (hash, drop, generalize, scrub or keep)",
                    what, number, ps);
  int a = lookup_name(action_names, 5, json_string_value(action));
  if (a < 0)
    return RULE_ERR("%s %zu (path '%s'): unknown action '%.40s' (expected hash, drop, generalize, scrub or keep)",
                    what, number, ps, json_string_value(action));
  r->action = (doppel_action)a;
  int gen_params = 0;
  const char *key;
  json_t *v;
  json_object_foreach(obj, key, v) {
    if (!strcmp(key, "path") || !strcmp(key, "action") || !strcmp(key, "comment")) continue;
    if (!strcmp(key, "domain")) {
      if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) >= sizeof r->domain)
        return RULE_ERR("%s %zu (path '%s'): \"domain\" must be a non-empty string of at most %zu bytes",
                        what, number, ps, sizeof r->domain - 1);
      snprintf(r->domain, sizeof r->domain, "%s", json_string_value(v));
    } else if (!strcmp(key, "format")) {
      int e = json_is_string(v) ? lookup_name(encoding_names, 6, json_string_value(v)) : -1;
      if (e < 0)
        return RULE_ERR("%s %zu (path '%s'): \"format\" must be one of auto, hex, uuid, email, phone, ip",
                        what, number, ps);
      r->encoding = (doppel_encoding)e;
    } else if (!strcmp(key, "bits")) {
      json_int_t b = json_is_integer(v) ? json_integer_value(v) : 0;
      if (b < 64 || b > 256 || b % 8)
        return RULE_ERR("%s %zu (path '%s'): \"bits\" must be a multiple of 8 from 64 to 256",
                        what, number, ps);
      r->bits = (unsigned)b;
    } else if (!strcmp(key, "label")) {
      const char *l = json_is_string(v) ? json_string_value(v) : NULL;
      size_t ln = l ? strlen(l) : 0;
      int ok = l && ln > 0 && ln < sizeof r->label;
      for (size_t i = 0; ok && i < ln; i++)
        ok = (l[i] >= 'a' && l[i] <= 'z') || (l[i] >= '0' && l[i] <= '9') || l[i] == '-';
      if (!ok)
        return RULE_ERR("%s %zu (path '%s'): \"label\" must be lowercase letters, digits and '-'",
                        what, number, ps);
      memcpy(r->label, l, ln + 1);
    } else if (!strcmp(key, "ip_prefix") || !strcmp(key, "ip6_prefix")) {
      int v6 = key[2] == '6';
      json_int_t b = json_is_integer(v) ? json_integer_value(v) : -1;
      if (b < 0 || b > (v6 ? 128 : 32))
        return RULE_ERR("%s %zu (path '%s'): \"%s\" must be an integer from 0 to %d", what, number, ps,
                        key, v6 ? 128 : 32);
      if (v6) r->gen.ip6_prefix = (int)b; else r->gen.ip4_prefix = (int)b;
      r->gen.kind = DP_GEN_IP;
      gen_params |= 1;
    } else if (!strcmp(key, "truncate")) {
      int u = json_is_string(v) ? lookup_name(unit_names, 6, json_string_value(v)) : -1;
      if (u < 0)
        return RULE_ERR("%s %zu (path '%s'): \"truncate\" must be year, month, day, hour, minute or second",
                        what, number, ps);
      r->gen.kind = DP_GEN_TRUNCATE;
      r->gen.unit = (dp_time_unit)u;
      gen_params |= 2;
    } else if (!strcmp(key, "bucket")) {
      double w = json_is_number(v) ? json_number_value(v) : 0;
      if (!(w > 0) || !isfinite(w))
        return RULE_ERR("%s %zu (path '%s'): \"bucket\" must be a positive number", what, number, ps);
      r->gen.kind = DP_GEN_BUCKET;
      r->gen.bucket = w;
      gen_params |= 4;
    } else if (!strcmp(key, "keep_chars")) {
      json_int_t k = json_is_integer(v) ? json_integer_value(v) : -1;
      if (k < 0 || k > 1000)
        return RULE_ERR("%s %zu (path '%s'): \"keep_chars\" must be an integer from 0 to 1000",
                        what, number, ps);
      r->gen.kind = DP_GEN_PREFIX;
      r->gen.keep_chars = (int)k;
      gen_params |= 8;
    } else if (!strcmp(key, "round")) {
      json_int_t k = json_is_integer(v) ? json_integer_value(v) : -1;
      if (k < 0 || k > 12)
        return RULE_ERR("%s %zu (path '%s'): \"round\" must be an integer from 0 to 12", what, number, ps);
      r->gen.kind = DP_GEN_ROUND;
      r->gen.round_digits = (int)k;
      gen_params |= 16;
    } else {
      return RULE_ERR("%s %zu (path '%s'): unknown key \"%.40s\"", what, number, ps, key);
    }
  }
  if (gen_params && r->action != DOPPEL_ACTION_GENERALIZE)
    return RULE_ERR("%s %zu (path '%s'): generalization parameters need \"action\": \"generalize\"",
                    what, number, ps);
  if (gen_params & (gen_params - 1) && gen_params != 1)
    return RULE_ERR("%s %zu (path '%s'): give only one of ip_prefix, truncate, bucket, keep_chars, round",
                    what, number, ps);
  if (r->gen.kind == DP_GEN_IP) {
    /* a rule may set one or both prefixes; the other keeps its default */
    if (!json_object_get(obj, "ip_prefix")) r->gen.ip4_prefix = 24;
    if (!json_object_get(obj, "ip6_prefix")) r->gen.ip6_prefix = 48;
  } else {
    r->gen.ip4_prefix = 24;
    r->gen.ip6_prefix = 48;
  }
  if (r->action != DOPPEL_ACTION_HASH &&
      (json_object_get(obj, "domain") || json_object_get(obj, "format") ||
       json_object_get(obj, "bits") || json_object_get(obj, "label")))
    return RULE_ERR("%s %zu (path '%s'): domain, format, bits and label apply to \"action\": \"hash\" only",
                    what, number, ps);
  r->path = strdup(ps);
  if (!r->path) return dp_diag_set(diag, DOPPEL_E_NOMEM, source, 0, 0, NULL);
  return DOPPEL_OK;
}

void doppel_policy_free(doppel_policy *p) {
  if (!p) return;
  for (size_t i = 0; i < p->n; i++) free(p->rules[i].path);
  free(p->rules);
  free(p);
}

size_t doppel_policy_rule_count(const doppel_policy *p) { return p ? p->n : 0; }

/* A profile ("format": "doppel-profile/1") used as a policy: every entry of
 * privacy.fields that has a "treatment" becomes a rule {path, ...treatment},
 * in ledger order; "privacy.defaults": false turns the default treatments
 * off for paths the ledger does not list (see docs/profile-format.md). */
static doppel_status ledger_rules(doppel_policy *p, json_t *root, const char *source,
                                  doppel_diag *diag) {
  json_t *privacy = json_object_get(root, "privacy");
  json_t *fields = json_is_object(privacy) ? json_object_get(privacy, "fields") : NULL;
  if (!json_is_array(fields))
    return RULE_ERR("a profile used as a policy needs \"privacy\": {\"fields\": [...]} (its privacy ledger)");
  json_t *defaults = json_object_get(privacy, "defaults");
  if (defaults && !json_is_boolean(defaults)) return RULE_ERR("\"privacy.defaults\" must be true or false");
  p->defaults = defaults ? json_is_true(defaults) : 1;
  size_t n = json_array_size(fields);
  p->rules = calloc(n ? n : 1, sizeof *p->rules);
  if (!p->rules) return dp_diag_set(diag, DOPPEL_E_NOMEM, source, 0, 0, NULL);
  for (size_t i = 0; i < n; i++) {
    json_t *f = json_array_get(fields, i);
    json_t *path = json_is_object(f) ? json_object_get(f, "path") : NULL;
    json_t *treatment = json_is_object(f) ? json_object_get(f, "treatment") : NULL;
    if (!json_is_string(path))
      return RULE_ERR("ledger field %zu: missing \"path\"", i + 1);
    if (!treatment) continue; /* listed for review only */
    if (!json_is_object(treatment))
      return RULE_ERR("ledger field %zu (path '%s'): \"treatment\" must be an object such as {\"action\": \"hash\"}",
                      i + 1, json_string_value(path));
    json_t *rule = json_deep_copy(treatment);
    if (!rule || json_object_set(rule, "path", path) != 0) {
      json_decref(rule);
      return dp_diag_set(diag, DOPPEL_E_NOMEM, source, 0, 0, NULL);
    }
    doppel_status st = parse_rule(&p->rules[p->n], "ledger field", i + 1, rule, source, diag);
    json_decref(rule);
    if (st != DOPPEL_OK) return st;
    p->n++;
  }
  return DOPPEL_OK;
}

doppel_status doppel_policy_parse(doppel_policy **out, const char *text, size_t len,
                                  const char *source, doppel_diag *diag) {
  *out = NULL;
  if (!source) source = "<policy>";
  json_error_t jerr;
  int nomem; /* a failed allocation may show as a syntax error, or not at all */
  json_t *root = dp_nomem_json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr, &nomem);
  if (nomem) return dp_diag_set(diag, DOPPEL_E_NOMEM, source, 0, 0, "cannot parse the policy: out of memory");
  if (!root)
    return dp_diag_set(diag, DOPPEL_E_POLICY, source, (uint64_t)(jerr.line > 0 ? jerr.line : 0),
                       (uint64_t)(jerr.column > 0 ? jerr.column : 0), "invalid policy JSON: %s",
                       jerr.text);
  doppel_status st = DOPPEL_OK;
  doppel_policy *p = calloc(1, sizeof *p);
  if (!p) {
    st = dp_diag_set(diag, DOPPEL_E_NOMEM, source, 0, 0, NULL);
    goto done;
  }
  p->defaults = 1;
  if (!json_is_object(root)) {
    st = RULE_ERR("a policy is a JSON object with \"rules\": [...]");
    goto done;
  }
  json_t *fmt = json_object_get(root, "format");
  if (json_is_string(fmt) && !strcmp(json_string_value(fmt), "doppel-profile/1")) {
    st = ledger_rules(p, root, source, diag);
    goto done;
  }
  const char *key;
  json_t *v;
  json_object_foreach(root, key, v) {
    if (!strcmp(key, "format")) {
      if (!json_is_string(v) || strcmp(json_string_value(v), "doppel-policy/1") != 0) {
        st = RULE_ERR("unsupported policy \"format\" (expected \"doppel-policy/1\")");
        goto done;
      }
    } else if (!strcmp(key, "defaults")) {
      if (!json_is_boolean(v)) {
        st = RULE_ERR("\"defaults\" must be true or false");
        goto done;
      }
      p->defaults = json_is_true(v);
    } else if (strcmp(key, "rules") && strcmp(key, "comment") && strcmp(key, "description")) {
      st = RULE_ERR("unknown top-level key \"%.40s\" (expected format, defaults, rules)", key);
      goto done;
    }
  }
  json_t *rules = json_object_get(root, "rules");
  if (!json_is_array(rules)) {
    st = RULE_ERR("missing \"rules\": an array of {\"path\": ..., \"action\": ...}");
    goto done;
  }
  size_t n = json_array_size(rules);
  p->rules = calloc(n ? n : 1, sizeof *p->rules);
  if (!p->rules) {
    st = dp_diag_set(diag, DOPPEL_E_NOMEM, source, 0, 0, NULL);
    goto done;
  }
  for (size_t i = 0; i < n; i++) {
    st = parse_rule(&p->rules[i], "rule", i + 1, json_array_get(rules, i), source, diag);
    if (st != DOPPEL_OK) goto done;
    p->n = i + 1;
  }
done:
  json_decref(root);
  if (st != DOPPEL_OK) {
    doppel_policy_free(p);
    return st;
  }
  *out = p;
  return DOPPEL_OK;
}

doppel_status doppel_policy_load(doppel_policy **out, const char *path, doppel_diag *diag) {
  *out = NULL;
  FILE *f = fopen(path, "rb");
  if (!f)
    return dp_diag_set(diag, DOPPEL_E_IO, path, 0, 0, "cannot open policy '%s': %s", path,
                       strerror(errno));
  dp_buf b;
  dp_buf_init(&b, (size_t)16 << 20);
  char chunk[65536];
  size_t got;
  doppel_status st = DOPPEL_OK;
  while ((got = fread(chunk, 1, sizeof chunk, f)) > 0) {
    if ((st = dp_buf_append(&b, chunk, got)) != DOPPEL_OK) break;
  }
  int err = ferror(f);
  fclose(f);
  if (st == DOPPEL_OK && err)
    st = dp_diag_set(diag, DOPPEL_E_IO, path, 0, 0, "cannot read policy '%s'", path);
  else if (st == DOPPEL_E_LIMIT)
    st = dp_diag_set(diag, DOPPEL_E_POLICY, path, 0, 0, "policy '%s' is larger than 16 MiB", path);
  else if (st != DOPPEL_OK)
    st = dp_diag_set(diag, st, path, 0, 0, "cannot read policy '%s': %s", path, doppel_strerror(st));
  if (st == DOPPEL_OK) st = doppel_policy_parse(out, b.data ? b.data : "", b.len, path, diag);
  dp_buf_release(&b);
  return st;
}
