/*
 * common.c — pieces shared by the sketches: doppel-hash64/1 (the documented
 * byte hash of sketch.h), strict canonical base64 for packed sketch bytes,
 * and the JSON checks the state loaders use (type/version header, unknown
 * keys, integer ranges, strings).
 */
#include "sketch/sketch_int.h"

#include <jansson.h>
#include <string.h>

#include "core/diag.h"

uint64_t doppel_sketch_hash64(const void *data, size_t len) {
  const uint8_t *p = data;
  uint64_t h = UINT64_C(0x243f6a8885a308d3) ^ (uint64_t)len;
  size_t i = 0;
  for (; i + 8 <= len; i += 8) {
    uint64_t w = 0;
    for (int b = 7; b >= 0; b--) w = (w << 8) | p[i + (size_t)b];
    h = dp_sketch_mix64(h ^ w);
  }
  uint64_t t = 0;
  for (size_t b = len - i; b > 0; b--) t = (t << 8) | p[i + b - 1];
  return dp_sketch_mix64(h ^ t ^ UINT64_C(0x13198a2e03707344));
}

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void dp_b64_encode(const uint8_t *in, size_t n, char *out) {
  size_t o = 0, i = 0;
  for (; i + 3 <= n; i += 3) {
    uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
    out[o++] = b64_alphabet[v >> 18];
    out[o++] = b64_alphabet[(v >> 12) & 63];
    out[o++] = b64_alphabet[(v >> 6) & 63];
    out[o++] = b64_alphabet[v & 63];
  }
  if (n - i == 1) {
    uint32_t v = (uint32_t)in[i] << 16;
    out[o++] = b64_alphabet[v >> 18];
    out[o++] = b64_alphabet[(v >> 12) & 63];
    out[o++] = '=';
    out[o++] = '=';
  } else if (n - i == 2) {
    uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
    out[o++] = b64_alphabet[v >> 18];
    out[o++] = b64_alphabet[(v >> 12) & 63];
    out[o++] = b64_alphabet[(v >> 6) & 63];
    out[o++] = '=';
  }
  out[o] = '\0';
}

static int b64_value(unsigned char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

size_t dp_b64_decode(const char *in, size_t len, uint8_t *out) {
  if (len % 4) return (size_t)-1;
  size_t o = 0;
  for (size_t i = 0; i < len; i += 4) {
    int last = i + 4 == len;
    int v[4];
    int pad = 0;
    for (int j = 0; j < 4; j++) {
      unsigned char c = (unsigned char)in[i + (size_t)j];
      if (c == '=' && last && j >= 2) {
        v[j] = 0;
        pad++;
      } else {
        if (pad) return (size_t)-1; /* data after padding */
        v[j] = b64_value(c);
        if (v[j] < 0) return (size_t)-1;
      }
    }
    uint32_t w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 | (uint32_t)v[3];
    out[o++] = (uint8_t)(w >> 16);
    if (pad == 2) {
      if (w & 0xffff) return (size_t)-1; /* nonzero unused bits: not canonical */
      break;
    }
    out[o++] = (uint8_t)(w >> 8);
    if (pad == 1) {
      if (w & 0xff) return (size_t)-1;
      break;
    }
    out[o++] = (uint8_t)w;
  }
  return o;
}

doppel_status dp_sketch_check_header(const json_t *state, const char *type_name,
                                     const char *const *allowed, doppel_diag *diag) {
  if (!json_is_object(state))
    return dp_diag_set(diag, DOPPEL_E_DATA, NULL, 0, 0, "%s state: expected a JSON object",
                       type_name);
  json_t *t = json_object_get(state, "type");
  if (!json_is_string(t) || strcmp(json_string_value(t), type_name) != 0)
    return dp_diag_set(diag, DOPPEL_E_DATA, NULL, 0, 0, "%s state: \"type\" must be \"%s\"",
                       type_name, type_name);
  json_t *v = json_object_get(state, "version");
  if (!json_is_integer(v) || json_integer_value(v) != 1)
    return dp_diag_set(diag, DOPPEL_E_DATA, NULL, 0, 0,
                       "%s state: unsupported \"version\" (expected 1)", type_name);
  const char *key;
  json_t *val;
  json_object_foreach((json_t *)state, key, val) {
    int ok = 0;
    for (const char *const *a = allowed; *a && !ok; a++) ok = strcmp(*a, key) == 0;
    if (!ok)
      return dp_diag_set(diag, DOPPEL_E_DATA, NULL, 0, 0, "%s state: unknown key \"%.64s\"",
                         type_name, key);
  }
  return DOPPEL_OK;
}

doppel_status dp_sketch_get_int(const json_t *obj, const char *what, const char *key,
                                int64_t lo, int64_t hi, int64_t *out, doppel_diag *diag) {
  json_t *v = json_object_get(obj, key);
  if (!json_is_integer(v))
    return dp_diag_set(diag, DOPPEL_E_DATA, NULL, 0, 0, "%s state: \"%s\" must be an integer",
                       what, key);
  json_int_t x = json_integer_value(v);
  if (x < lo || x > hi)
    return dp_diag_set(diag, DOPPEL_E_DATA, NULL, 0, 0,
                       "%s state: \"%s\" out of range (%lld, expected %lld..%lld)", what, key,
                       (long long)x, (long long)lo, (long long)hi);
  *out = (int64_t)x;
  return DOPPEL_OK;
}

doppel_status dp_sketch_get_string(const json_t *obj, const char *what, const char *key,
                                   const char **s, size_t *n, doppel_diag *diag) {
  json_t *v = json_object_get(obj, key);
  if (!json_is_string(v))
    return dp_diag_set(diag, DOPPEL_E_DATA, NULL, 0, 0, "%s state: \"%s\" must be a string",
                       what, key);
  *s = json_string_value(v);
  *n = json_string_length(v);
  return DOPPEL_OK;
}

int dp_sketch_set(json_t *obj, const char *key, json_t *v) {
  if (!v) return 0;
  return json_object_set_new(obj, key, v) == 0;
}
