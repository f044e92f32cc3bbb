/*
 * doppel/json.h — a fast, validating, exact JSON scanner for one document.
 *
 * doppel_json_parse() validates a whole document against RFC 8259 (strict:
 * no NaN/Infinity, no leading zeros, no control characters in strings,
 * UTF-8 validated including surrogate escapes, no trailing garbage) and
 * records every value as a node in a flat "tape" in document order. Nodes
 * hold byte spans into the caller's buffer; nothing is copied or converted,
 * so a rewrite can splice changed values into the original bytes and copy
 * everything else verbatim (`0.1` stays `0.1`, key order and escapes stay).
 *
 * Tape layout: node 0 is the root. A container's first child (if any) is the
 * node right after it; the next sibling of node i is nodes[i].next (which is
 * also the index one past i's whole subtree). Member nodes carry the span of
 * their key.
 *
 * Ownership: the doc owns its node array (doppel_json_doc_release frees it)
 * and borrows `src`, which must outlive any use of the spans.
 * Thread safety: a doc is used by one thread at a time. Parsing into a doc
 * reuses its node array (amortized zero allocations per record).
 */
#ifndef DOPPEL_JSON_H
#define DOPPEL_JSON_H

#include <doppel/status.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum doppel_json_type {
  DOPPEL_JSON_NULL = 0,
  DOPPEL_JSON_FALSE,
  DOPPEL_JSON_TRUE,
  DOPPEL_JSON_NUMBER,
  DOPPEL_JSON_STRING,
  DOPPEL_JSON_OBJECT,
  DOPPEL_JSON_ARRAY
} doppel_json_type;

#define DOPPEL_JSON_NONE UINT32_MAX      /* "no node" index */
#define DOPPEL_JSON_MAX_DEPTH_DEFAULT 1024 /* nesting limit unless set */

#define DOPPEL_JSON_F_ESCAPED 0x01u     /* string value contains a backslash escape */
#define DOPPEL_JSON_F_KEY_ESCAPED 0x02u /* member key contains a backslash escape */
#define DOPPEL_JSON_F_INTEGER 0x04u     /* number literal has no fraction or exponent */

typedef struct doppel_json_node {
  uint32_t start;     /* offset of the value's first byte (the opening quote for strings) */
  uint32_t end;       /* offset one past the value's last byte */
  uint32_t key_start; /* offset of the key's first content byte (after the quote); 0 if not a member */
  uint32_t key_len;   /* raw (still escaped) key content length in bytes; 0 if not a member */
  uint32_t parent;    /* index of the enclosing container; DOPPEL_JSON_NONE for the root */
  uint32_t next;      /* index one past this node's subtree = next sibling if any */
  uint32_t count;     /* containers: number of direct children; others 0 */
  uint8_t type;       /* doppel_json_type */
  uint8_t flags;      /* DOPPEL_JSON_F_* */
  uint16_t depth;     /* 0 for the root, saturates at 65535 */
} doppel_json_node;

typedef struct doppel_json_doc {
  const char *src;         /* borrowed document bytes */
  size_t len;              /* document length in bytes (must be < 4 GiB) */
  doppel_json_node *nodes; /* owned tape */
  uint32_t count;          /* nodes in use */
  uint32_t cap;            /* nodes allocated */
  uint32_t max_depth;      /* nesting limit (open containers); deeper input is DOPPEL_E_LIMIT; 0 = default */
} doppel_json_doc;

/* Initialize an empty doc (no allocation); max_depth = default. */
void doppel_json_doc_init(doppel_json_doc *doc);
/* Free the tape; the doc is empty and reusable afterwards. NULL is a no-op. */
void doppel_json_doc_release(doppel_json_doc *doc);

/* Parse and validate src[0..len) as exactly one JSON value surrounded by
 * optional whitespace. On success doc->count >= 1. On failure returns
 * DOPPEL_E_JSON (syntax), DOPPEL_E_UTF8 (bad encoding), DOPPEL_E_LIMIT
 * (too deep / too large) or DOPPEL_E_NOMEM, and fills diag->column (1-based
 * byte offset + 1 of the offending byte) and diag->text; diag->source and
 * diag->line are left to the caller. */
doppel_status doppel_json_parse(doppel_json_doc *doc, const char *src, size_t len,
                                doppel_diag *diag);

/* Child of object node `obj` whose unescaped key equals key[0..key_len);
 * with duplicate keys the last one wins (as in jansson). DOPPEL_JSON_NONE if
 * absent or obj is not an object. */
uint32_t doppel_json_find(const doppel_json_doc *doc, uint32_t obj, const char *key,
                          size_t key_len);

/* Follow a dotted path ("properties.plan") from node `from`; each segment is
 * an object key. DOPPEL_JSON_NONE if any step is missing. */
uint32_t doppel_json_lookup(const doppel_json_doc *doc, uint32_t from, const char *path);

/* Unescape the content of a JSON string (the bytes between the quotes,
 * already validated) into out, which must hold at least len bytes. Returns
 * the number of bytes written (UTF-8). */
size_t doppel_json_unescape(const char *content, size_t len, char *out);

/* Content span of a string node (between the quotes). */
static inline const char *doppel_json_str(const doppel_json_doc *doc, uint32_t i, size_t *len) {
  *len = doc->nodes[i].end - doc->nodes[i].start - 2;
  return doc->src + doc->nodes[i].start + 1;
}

/* Parse a number node as int64 (integers only, in range) → 0, else -1. */
int doppel_json_get_int64(const doppel_json_doc *doc, uint32_t i, int64_t *out);
/* Parse a number node as double (strtod semantics, locale-independent) → 0, else -1. */
int doppel_json_get_double(const doppel_json_doc *doc, uint32_t i, double *out);

/* Append s[0..n) as a JSON string literal (quotes included, minimal escapes:
 * \" \\ and control characters; valid UTF-8 passes through) to out, which
 * must hold at least 6*n + 2 bytes. Returns bytes written. */
size_t doppel_json_escape(const char *s, size_t n, char *out);

#ifdef __cplusplus
}
#endif
#endif
