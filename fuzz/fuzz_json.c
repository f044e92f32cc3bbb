/*
 * fuzz_json.c — libFuzzer target for the JSON scanner: differential against
 * jansson on arbitrary bytes, plus the helpers on every accepted document.
 *
 * For each input: doppel_json_parse (max_depth = jansson's 2048) and
 * json_loadb (JSON_DECODE_ANY | JSON_ALLOW_NUL | JSON_DECODE_INT_AS_REAL)
 * must agree on accept/reject, and accepted documents must decode to the
 * same values (types, string bytes, numbers as doubles, keys in
 * first-insertion order with last-wins values, array lengths). The
 * documented differences, excluded here as in tests/test_json.c:
 *   1. jansson "real number overflow" (1e999): valid JSON, kept verbatim.
 *   2. jansson rejects "\u0000" in object keys: valid JSON.
 *   3. depth: jansson counts scalars against its 2048 limit, doppel counts
 *      containers; a scalar inside exactly 2048 containers differs.
 *   4. jansson drops a raw NUL byte that directly ends a number or literal
 *      ("[1\0]" accepted); a raw NUL outside strings is invalid JSON.
 * It also checks tape invariants, find/lookup/unescape/escape/get_int64/
 * get_double on accepted documents, and that a smaller max_depth changes the
 * outcome exactly when the nesting exceeds it. Any disagreement aborts.
 */
#include <doppel/json.h>

#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JFLAGS (JSON_DECODE_ANY | JSON_ALLOW_NUL | JSON_DECODE_INT_AS_REAL)
#define JANSSON_MAX_DEPTH 2048

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

__attribute__((noreturn, format(printf, 3, 4))) static void die(const char *s, size_t n,
                                                                const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "fuzz_json: ");
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fprintf(stderr, "\ninput (%zu bytes):", n);
  for (size_t i = 0; i < n && i < 256; i++) fprintf(stderr, " %02x", (unsigned char)s[i]);
  fprintf(stderr, "\n");
  abort();
}

static char *xmalloc(size_t n) {
  char *p = malloc(n ? n : 1);
  if (!p) abort();
  return p;
}

static char *unesc(const char *c, size_t n, size_t *out) {
  char *b = xmalloc(n + 1);
  *out = doppel_json_unescape(c, n, b);
  if (*out > n) abort();
  return b;
}

typedef struct {
  const char *s;
  size_t n;
  const doppel_json_doc *doc;
} ctx;

static void check_tape(const ctx *c) {
  const doppel_json_doc *doc = c->doc;
  const doppel_json_node *nd = doc->nodes;
  if (doc->count < 1 || nd[0].parent != DOPPEL_JSON_NONE || nd[0].next != doc->count)
    die(c->s, c->n, "bad root");
  for (uint32_t i = 0; i < doc->count; i++) {
    const doppel_json_node *x = &nd[i];
    if (x->start >= x->end || x->end > doc->len || x->next <= i || x->next > doc->count)
      die(c->s, c->n, "bad span/next at node %u", i);
    if (x->type < DOPPEL_JSON_OBJECT && (x->next != i + 1 || x->count))
      die(c->s, c->n, "scalar with children at %u", i);
    if (i > 0) {
      const doppel_json_node *p = &nd[x->parent];
      if (x->parent >= i || x->next > p->next || x->start <= p->start || x->end >= p->end)
        die(c->s, c->n, "child outside parent at %u", i);
      unsigned want = p->depth == 65535 ? 65535u : p->depth + 1u;
      if (x->depth != want) die(c->s, c->n, "bad depth at %u", i);
      if (p->type == DOPPEL_JSON_OBJECT &&
          (x->key_start == 0 || doc->src[x->key_start - 1] != '"' ||
           doc->src[x->key_start + x->key_len] != '"'))
        die(c->s, c->n, "bad key span at %u", i);
    }
    if (x->type >= DOPPEL_JSON_OBJECT) {
      uint32_t k = 0;
      for (uint32_t ch = i + 1; ch < x->next; ch = nd[ch].next, k++)
        if (nd[ch].parent != i) die(c->s, c->n, "sibling walk left node %u", i);
      if (k != x->count) die(c->s, c->n, "bad count at %u", i);
    }
  }
}

static void cmp_value(const ctx *c, uint32_t i, json_t *j);

static void cmp_object(const ctx *c, uint32_t i, json_t *j) {
  const doppel_json_doc *doc = c->doc;
  const doppel_json_node *nd = doc->nodes;
  uint32_t n = nd[i].count;
  char **keys = calloc(n ? n : 1, sizeof *keys);
  size_t *kl = calloc(n ? n : 1, sizeof *kl);
  if (!keys || !kl) abort();
  uint32_t ch = i + 1;
  for (uint32_t k = 0; k < n; k++, ch = nd[ch].next)
    keys[k] = unesc(doc->src + nd[ch].key_start, nd[ch].key_len, &kl[k]);
  void *it = json_object_iter(j);
  size_t uniq = 0;
  for (uint32_t k = 0; k < n; k++) {
    int dup = 0;
    for (uint32_t e = 0; e < k && !dup; e++)
      dup = kl[e] == kl[k] && memcmp(keys[e], keys[k], kl[k]) == 0;
    if (dup) continue;
    uniq++;
    if (!it || json_object_iter_key_len(it) != kl[k] ||
        memcmp(json_object_iter_key(it), keys[k], kl[k]) != 0)
      die(c->s, c->n, "key order/bytes differ in node %u", i);
    uint32_t f = doppel_json_find(doc, i, keys[k], kl[k]);
    if (f == DOPPEL_JSON_NONE || nd[f].parent != i) die(c->s, c->n, "find missed a key");
    /* last duplicate wins: no later sibling carries the same key */
    for (uint32_t later = nd[f].next; later < nd[i].next; later = nd[later].next) {
      size_t ll;
      char *lk = unesc(doc->src + nd[later].key_start, nd[later].key_len, &ll);
      if (ll == kl[k] && memcmp(lk, keys[k], ll) == 0) die(c->s, c->n, "find not last");
      free(lk);
    }
    /* lookup agrees with find for non-empty, dot-free keys (one segment;
     * an empty path means the starting node itself) */
    if (kl[k] && !memchr(keys[k], '.', kl[k]) && !memchr(keys[k], '\0', kl[k])) {
      char *path = xmalloc(kl[k] + 1);
      memcpy(path, keys[k], kl[k]);
      path[kl[k]] = '\0';
      if (doppel_json_lookup(doc, i, path) != f) die(c->s, c->n, "lookup != find");
      free(path);
    }
    cmp_value(c, f, json_object_iter_value(it));
    it = json_object_iter_next(j, it);
  }
  if (it || uniq != json_object_size(j)) die(c->s, c->n, "object sizes differ at %u", i);
  for (uint32_t k = 0; k < n; k++) free(keys[k]);
  free(keys);
  free(kl);
}

static void cmp_value(const ctx *c, uint32_t i, json_t *j) {
  const doppel_json_doc *doc = c->doc;
  const doppel_json_node *nd = &doc->nodes[i];
  switch (nd->type) {
    case DOPPEL_JSON_NULL:
      if (!json_is_null(j)) die(c->s, c->n, "type differs at %u", i);
      break;
    case DOPPEL_JSON_TRUE:
      if (!json_is_true(j)) die(c->s, c->n, "type differs at %u", i);
      break;
    case DOPPEL_JSON_FALSE:
      if (!json_is_false(j)) die(c->s, c->n, "type differs at %u", i);
      break;
    case DOPPEL_JSON_NUMBER: {
      double v;
      if (!json_is_real(j) || doppel_json_get_double(doc, i, &v) != 0 || v != json_real_value(j))
        die(c->s, c->n, "number differs at %u", i);
      int64_t iv;
      int rc = doppel_json_get_int64(doc, i, &iv);
      if (nd->flags & DOPPEL_JSON_F_INTEGER) {
        char buf[64];
        size_t len = nd->end - nd->start;
        if (len < sizeof buf) {
          memcpy(buf, doc->src + nd->start, len);
          buf[len] = '\0';
          errno = 0;
          long long ll = strtoll(buf, NULL, 10);
          int in_range = errno != ERANGE;
          if (in_range != (rc == 0) || (rc == 0 && ll != iv))
            die(c->s, c->n, "get_int64 differs from strtoll at %u", i);
        } else if (rc == 0) {
          die(c->s, c->n, "get_int64 accepted a %zu-byte integer", len);
        }
      } else if (rc == 0) {
        die(c->s, c->n, "get_int64 accepted a non-integer");
      }
      break;
    }
    case DOPPEL_JSON_STRING: {
      if (!json_is_string(j)) die(c->s, c->n, "type differs at %u", i);
      size_t cl, ul;
      const char *content = doppel_json_str(doc, i, &cl);
      char *u = unesc(content, cl, &ul);
      if (ul != json_string_length(j) || memcmp(u, json_string_value(j), ul) != 0)
        die(c->s, c->n, "string differs at %u", i);
      /* escape round trip */
      char *e = xmalloc(6 * ul + 2);
      size_t en = doppel_json_escape(u, ul, e);
      doppel_json_doc d2;
      doppel_json_doc_init(&d2);
      if (doppel_json_parse(&d2, e, en, NULL) != DOPPEL_OK || d2.count != 1)
        die(c->s, c->n, "escaped string does not parse");
      size_t c2l, u2l;
      const char *c2 = doppel_json_str(&d2, 0, &c2l);
      char *u2 = unesc(c2, c2l, &u2l);
      if (u2l != ul || memcmp(u2, u, ul) != 0) die(c->s, c->n, "escape round trip differs");
      free(u2);
      doppel_json_doc_release(&d2);
      free(e);
      free(u);
      break;
    }
    case DOPPEL_JSON_ARRAY: {
      if (!json_is_array(j) || json_array_size(j) != nd->count)
        die(c->s, c->n, "array differs at %u", i);
      uint32_t ch = i + 1;
      for (uint32_t k = 0; k < nd->count; k++, ch = doc->nodes[ch].next)
        cmp_value(c, ch, json_array_get(j, k));
      if (doppel_json_find(doc, i, "a", 1) != DOPPEL_JSON_NONE) die(c->s, c->n, "find on array");
      break;
    }
    case DOPPEL_JSON_OBJECT:
      if (!json_is_object(j)) die(c->s, c->n, "type differs at %u", i);
      cmp_object(c, i, j);
      break;
    default: die(c->s, c->n, "bad type at %u", i);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static doppel_json_doc doc, small;
  static int init;
  if (!init) {
    doppel_json_doc_init(&doc);
    doppel_json_doc_init(&small);
    init = 1;
  }
  const char *s = (const char *)data;
  doppel_diag d;
  doppel_diag_clear(&d);
  doc.max_depth = JANSSON_MAX_DEPTH;
  doppel_status st = doppel_json_parse(&doc, s, size, &d);
  if (st != DOPPEL_OK) {
    if (st != DOPPEL_E_JSON && st != DOPPEL_E_UTF8 && st != DOPPEL_E_LIMIT)
      die(s, size, "unexpected status %s", doppel_status_name(st));
    if (d.column < 1 || d.column > size + 1 || doc.count != 0) die(s, size, "bad error column");
    if (!d.text[0] || strlen(d.text) > 120) die(s, size, "bad error text");
  }

  json_error_t je;
  json_t *j = json_loadb(s, size, JFLAGS, &je);
  if (!j) {
    enum json_error_code code = json_error_code(&je);
    if (code == json_error_numeric_overflow || code == json_error_null_byte_in_key) return 0;
    if (st == DOPPEL_OK) {
      int scalar_at_limit = 0;
      for (uint32_t i = 0; i < doc.count && !scalar_at_limit; i++)
        scalar_at_limit =
            doc.nodes[i].type < DOPPEL_JSON_OBJECT && doc.nodes[i].depth == JANSSON_MAX_DEPTH;
      if (code == json_error_stack_overflow && scalar_at_limit) return 0;
      die(s, size, "jansson rejects (%s), doppel accepts", je.text);
    }
    return 0;
  }
  if (st != DOPPEL_OK) {
    size_t col = (size_t)d.column;
    int nul_after_token =
        col >= 2 && col <= size && s[col - 1] == '\0' &&
        ((s[col - 2] >= '0' && s[col - 2] <= '9') || (s[col - 2] >= 'a' && s[col - 2] <= 'z'));
    json_decref(j);
    if (nul_after_token) return 0;
    die(s, size, "doppel rejects (%s, column %llu), jansson accepts", d.text,
        (unsigned long long)d.column);
  }

  ctx c = {s, size, &doc};
  check_tape(&c);
  cmp_value(&c, 0, j);
  json_decref(j);

  /* a smaller limit fails exactly when containers nest deeper than it */
  uint32_t maxnest = 0;
  for (uint32_t i = 0; i < doc.count; i++)
    if (doc.nodes[i].type >= DOPPEL_JSON_OBJECT && doc.nodes[i].depth + 1u > maxnest)
      maxnest = doc.nodes[i].depth + 1u;
  small.max_depth = 1 + (uint32_t)(size % 6);
  doppel_status st2 = doppel_json_parse(&small, s, size, NULL);
  if ((st2 == DOPPEL_OK) != (maxnest <= small.max_depth) ||
      (st2 != DOPPEL_OK && st2 != DOPPEL_E_LIMIT) || (st2 == DOPPEL_OK && small.count != doc.count))
    die(s, size, "max_depth %u inconsistent (nesting %u)", small.max_depth, maxnest);
  return 0;
}
