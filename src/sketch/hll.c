/*
 * hll.c — HyperLogLog distinct counting over 64-bit hashes (see sketch.h):
 * one byte per register, register-max merge (with exact reduction to a lower
 * precision), Ertl's improved estimator (2017) with its sigma/tau small- and
 * large-range corrections, and the JSON state in "dense6" (6-bit packed) or
 * "sparse" (varint index gaps + values) base64 encodings, whichever is
 * shorter for the current registers.
 */
#include "sketch/sketch_int.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/diag.h"

struct doppel_hll {
  unsigned p;    /* precision: log2 of the register count */
  uint32_t m;    /* number of registers, 2^p */
  uint8_t *reg;  /* m registers, each 0..65-p (1 + leading zeros of the hash tail) */
};

static unsigned reg_max(unsigned p) { return 65u - p; }

doppel_status doppel_hll_new(doppel_hll **out, unsigned p, doppel_diag *diag) {
  if (!out) return dp_diag_set(diag, DOPPEL_E_USAGE, NULL, 0, 0, "hll: NULL output pointer");
  *out = NULL;
  if (p == 0) p = DOPPEL_HLL_P_DEFAULT;
  if (p < DOPPEL_HLL_P_MIN || p > DOPPEL_HLL_P_MAX)
    return dp_diag_set(diag, DOPPEL_E_USAGE, NULL, 0, 0, "hll: precision %u out of range (%d..%d)",
                       p, DOPPEL_HLL_P_MIN, DOPPEL_HLL_P_MAX);
  doppel_hll *h = malloc(sizeof *h);
  uint8_t *reg = calloc((size_t)1 << p, 1);
  if (!h || !reg) {
    free(h);
    free(reg);
    return dp_diag_set(diag, DOPPEL_E_NOMEM, NULL, 0, 0, "hll: out of memory");
  }
  h->p = p;
  h->m = UINT32_C(1) << p;
  h->reg = reg;
  *out = h;
  return DOPPEL_OK;
}

void doppel_hll_free(doppel_hll *h) {
  if (!h) return;
  free(h->reg);
  free(h);
}

unsigned doppel_hll_precision(const doppel_hll *h) { return h->p; }

void doppel_hll_add_hash(doppel_hll *h, uint64_t hash) {
  uint32_t idx = (uint32_t)(hash >> (64 - h->p));
  /* the sentinel bit caps the run of zeros at 64 - p, so rho <= 65 - p */
  uint64_t w = (hash << h->p) | (UINT64_C(1) << (h->p - 1));
  uint8_t rho = (uint8_t)(__builtin_clzll(w) + 1);
  if (rho > h->reg[idx]) h->reg[idx] = rho;
}

void doppel_hll_add(doppel_hll *h, const void *data, size_t len) {
  doppel_hll_add_hash(h, doppel_sketch_hash64(data, len));
}

/* Registers of h as if built at precision p2 < h->p, into out (2^p2 bytes,
 * zeroed by the caller). The p - p2 index bits dropped from the register
 * index become the leading bits of the hash tail. */
static void fold_registers(const doppel_hll *h, unsigned p2, uint8_t *out) {
  unsigned d = h->p - p2;
  uint32_t low_mask = (UINT32_C(1) << d) - 1;
  for (uint32_t i = 0; i < h->m; i++) {
    uint8_t r = h->reg[i];
    if (!r) continue;
    uint32_t low = i & low_mask;
    uint8_t r2;
    if (low) {
      unsigned bitlen = 32u - (unsigned)__builtin_clz(low);
      r2 = (uint8_t)(d - bitlen + 1);
    } else {
      r2 = (uint8_t)(d + r);
    }
    uint32_t j = i >> d;
    if (r2 > out[j]) out[j] = r2;
  }
}

doppel_status doppel_hll_merge(doppel_hll *dst, const doppel_hll *src, doppel_diag *diag) {
  if (!dst || !src) return dp_diag_set(diag, DOPPEL_E_USAGE, NULL, 0, 0, "hll merge: NULL sketch");
  if (dst == src) return DOPPEL_OK; /* max with itself */
  if (src->p < dst->p) {
    uint8_t *nr = calloc(src->m, 1);
    if (!nr) return dp_diag_set(diag, DOPPEL_E_NOMEM, NULL, 0, 0, "hll merge: out of memory");
    fold_registers(dst, src->p, nr);
    free(dst->reg);
    dst->reg = nr;
    dst->p = src->p;
    dst->m = src->m;
  }
  if (src->p == dst->p) {
    for (uint32_t i = 0; i < dst->m; i++)
      if (src->reg[i] > dst->reg[i]) dst->reg[i] = src->reg[i];
    return DOPPEL_OK;
  }
  /* src has the higher precision: fold it into dst's on the fly */
  uint8_t *tmp = calloc(dst->m, 1);
  if (!tmp) return dp_diag_set(diag, DOPPEL_E_NOMEM, NULL, 0, 0, "hll merge: out of memory");
  fold_registers(src, dst->p, tmp);
  for (uint32_t i = 0; i < dst->m; i++)
    if (tmp[i] > dst->reg[i]) dst->reg[i] = tmp[i];
  free(tmp);
  return DOPPEL_OK;
}

/* Ertl 2017, Algorithm 6: sigma(x) = x + sum_{k>=1} x^(2^k) 2^(k-1). */
static double ertl_sigma(double x) {
  if (x == 1.0) return INFINITY;
  double y = 1.0, z = x, zp;
  do {
    x *= x;
    zp = z;
    z += x * y;
    y += y;
  } while (z != zp);
  return z;
}

/* tau(x) = (1 - x - sum_{k>=1} (1 - x^(2^-k))^2 2^-k) / 3. */
static double ertl_tau(double x) {
  if (x == 0.0 || x == 1.0) return 0.0;
  double y = 1.0, z = 1.0 - x, zp;
  do {
    x = sqrt(x);
    zp = z;
    y *= 0.5;
    z -= (1.0 - x) * (1.0 - x) * y;
  } while (z != zp);
  return z / 3.0;
}

doppel_hll_estimate doppel_hll_query(const doppel_hll *h) {
  uint32_t c[66] = {0}; /* histogram of register values 0..q+1, q = 64 - p */
  unsigned q = 64u - h->p;
  for (uint32_t i = 0; i < h->m; i++) c[h->reg[i]]++;
  double m = (double)h->m;
  double z = m * ertl_tau(1.0 - (double)c[q + 1] / m);
  for (unsigned k = q; k >= 1; k--) z = 0.5 * (z + (double)c[k]);
  z += m * ertl_sigma((double)c[0] / m);
  doppel_hll_estimate e;
  /* alpha_inf m^2 / z, alpha_inf = 1 / (2 ln 2); z = inf for an empty sketch gives 0 */
  e.estimate = m * m / (2.0 * log(2.0) * z);
  e.rel_std_error = 1.04 / sqrt(m);
  e.std_error = e.estimate * e.rel_std_error;
  return e;
}

/* ---- serialization ---- */

static size_t varint_len(uint32_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    n++;
  }
  return n;
}

doppel_status doppel_hll_to_json(const doppel_hll *h, json_t **out, doppel_diag *diag) {
  if (!h || !out) return dp_diag_set(diag, DOPPEL_E_USAGE, NULL, 0, 0, "hll: NULL argument");
  *out = NULL;
  size_t dense_len = (size_t)h->m / 4 * 3;
  size_t sparse_len = 0;
  uint32_t prev = UINT32_MAX; /* index − 1 of the previous nonzero register, as -1 */
  for (uint32_t i = 0; i < h->m; i++) {
    if (!h->reg[i]) continue;
    sparse_len += varint_len(i - prev - 1) + 1;
    prev = i;
  }
  int sparse = sparse_len < dense_len;
  size_t blen = sparse ? sparse_len : dense_len;
  uint8_t *bytes = malloc(blen ? blen : 1);
  char *text = malloc(dp_b64_encoded_len(blen) + 1);
  json_t *o = json_object();
  if (!bytes || !text || !o) goto nomem;
  if (sparse) {
    size_t n = 0;
    prev = UINT32_MAX;
    for (uint32_t i = 0; i < h->m; i++) {
      if (!h->reg[i]) continue;
      uint32_t d = i - prev - 1;
      while (d >= 0x80) {
        bytes[n++] = (uint8_t)(d | 0x80);
        d >>= 7;
      }
      bytes[n++] = (uint8_t)d;
      bytes[n++] = h->reg[i];
      prev = i;
    }
  } else {
    for (uint32_t i = 0, o3 = 0; i < h->m; i += 4, o3 += 3) {
      uint32_t v = (uint32_t)h->reg[i] | (uint32_t)h->reg[i + 1] << 6 |
                   (uint32_t)h->reg[i + 2] << 12 | (uint32_t)h->reg[i + 3] << 18;
      bytes[o3] = (uint8_t)v;
      bytes[o3 + 1] = (uint8_t)(v >> 8);
      bytes[o3 + 2] = (uint8_t)(v >> 16);
    }
  }
  dp_b64_encode(bytes, blen, text);
  if (!dp_sketch_set(o, "type", json_string("hll")) ||
      !dp_sketch_set(o, "version", json_integer(1)) ||
      !dp_sketch_set(o, "p", json_integer((json_int_t)h->p)) ||
      !dp_sketch_set(o, "encoding", json_string(sparse ? "sparse" : "dense6")) ||
      !dp_sketch_set(o, "registers", json_string(text)))
    goto nomem;
  free(bytes);
  free(text);
  *out = o;
  return DOPPEL_OK;
nomem:
  free(bytes);
  free(text);
  json_decref(o);
  return dp_diag_set(diag, DOPPEL_E_NOMEM, NULL, 0, 0, "hll: out of memory");
}

#define HLL_ERR(...) dp_diag_set(diag, DOPPEL_E_DATA, NULL, 0, 0, __VA_ARGS__)

static doppel_status decode_sparse(doppel_hll *h, const uint8_t *b, size_t n, doppel_diag *diag) {
  size_t pos = 0;
  uint64_t next = 0; /* lowest index the next entry may have */
  while (pos < n) {
    uint64_t d = 0;
    unsigned shift = 0;
    for (;;) {
      if (pos >= n) return HLL_ERR("hll state: truncated sparse register entry");
      uint8_t c = b[pos++];
      if (shift >= 21 || (shift > 0 && c == 0))
        return HLL_ERR("hll state: invalid varint in sparse registers");
      d |= (uint64_t)(c & 0x7f) << shift;
      shift += 7;
      if (!(c & 0x80)) break;
    }
    uint64_t idx = next + d;
    if (idx >= h->m) return HLL_ERR("hll state: sparse register index out of range");
    if (pos >= n) return HLL_ERR("hll state: truncated sparse register entry");
    uint8_t v = b[pos++];
    if (v == 0 || v > reg_max(h->p))
      return HLL_ERR("hll state: register value %u out of range (1..%u)", v, reg_max(h->p));
    h->reg[idx] = v;
    next = idx + 1;
  }
  return DOPPEL_OK;
}

doppel_status doppel_hll_from_json(const json_t *state, doppel_hll **out, doppel_diag *diag) {
  static const char *const keys[] = {"type", "version", "p", "encoding", "registers", NULL};
  if (!out) return dp_diag_set(diag, DOPPEL_E_USAGE, NULL, 0, 0, "hll: NULL output pointer");
  *out = NULL;
  doppel_status st = dp_sketch_check_header(state, "hll", keys, diag);
  if (st) return st;
  int64_t p;
  if ((st = dp_sketch_get_int(state, "hll", "p", DOPPEL_HLL_P_MIN, DOPPEL_HLL_P_MAX, &p, diag)))
    return st;
  const char *enc, *text;
  size_t enc_n, text_n;
  if ((st = dp_sketch_get_string(state, "hll", "encoding", &enc, &enc_n, diag)) ||
      (st = dp_sketch_get_string(state, "hll", "registers", &text, &text_n, diag)))
    return st;
  int sparse;
  if (enc_n == 6 && memcmp(enc, "dense6", 6) == 0)
    sparse = 0;
  else if (enc_n == 6 && memcmp(enc, "sparse", 6) == 0)
    sparse = 1;
  else
    return HLL_ERR("hll state: unknown \"encoding\" (expected \"dense6\" or \"sparse\")");
  size_t m = (size_t)1 << p;
  size_t dense_len = m / 4 * 3;
  /* a sparse encoding longer than dense is never written; bound the decode */
  size_t max_len = sparse ? m * 4 : dense_len;
  if (text_n > dp_b64_encoded_len(max_len))
    return HLL_ERR("hll state: \"registers\" too long for p = %d", (int)p);
  doppel_hll *h = NULL;
  if ((st = doppel_hll_new(&h, (unsigned)p, diag))) return st;
  uint8_t *b = malloc(text_n / 4 * 3 + 1);
  if (!b) {
    doppel_hll_free(h);
    return dp_diag_set(diag, DOPPEL_E_NOMEM, NULL, 0, 0, "hll: out of memory");
  }
  size_t n = dp_b64_decode(text, text_n, b);
  if (n == (size_t)-1) {
    st = HLL_ERR("hll state: \"registers\" is not valid base64");
  } else if (sparse) {
    st = decode_sparse(h, b, n, diag);
  } else if (n != dense_len) {
    st = HLL_ERR("hll state: dense registers have %zu bytes, expected %zu", n, dense_len);
  } else {
    for (size_t i = 0, o3 = 0; i < m && !st; i += 4, o3 += 3) {
      uint32_t v = (uint32_t)b[o3] | (uint32_t)b[o3 + 1] << 8 | (uint32_t)b[o3 + 2] << 16;
      for (int j = 0; j < 4; j++) {
        uint8_t r = (uint8_t)((v >> (6 * j)) & 63);
        if (r > reg_max(h->p)) {
          st = HLL_ERR("hll state: register %zu value %u out of range (0..%u)", i + (size_t)j, r,
                       reg_max(h->p));
          break;
        }
        h->reg[i + (size_t)j] = r;
      }
    }
  }
  free(b);
  if (st) {
    doppel_hll_free(h);
    return st;
  }
  *out = h;
  return DOPPEL_OK;
}
