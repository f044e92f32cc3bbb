/*
 * pcg_ref.cpp — prints tests/vectors/pcg_vectors.h: known-answer vectors for
 * doppel's PCG generators (src/rng/pcg.c), produced by the reference C++
 * library pcg-cpp (<pcg_random.hpp>, Debian libpcg-cpp-dev). Covers pcg32 and
 * pcg64 seeding + first outputs, bounded draws (including rejection-heavy
 * bounds, with the next raw output afterwards to pin the number of draws
 * consumed), and advance() by forward and backward (wrapped) deltas.
 *
 * Build and run with make_pcg_vectors.sh; do not edit the generated header.
 */
#include <pcg_random.hpp>

#include <cinttypes>
#include <cstdint>
#include <cstdio>

namespace {

typedef pcg_extras::pcg128_t u128;

/* Expose the protected LCG state so the vectors can pin it exactly. */
struct ref32 : pcg32 {
  ref32(uint64_t seed, uint64_t stream) : pcg32(seed, stream) {}
  uint64_t st() const { return state_; }
};
struct ref64 : pcg64 {
  ref64(u128 seed, u128 stream) : pcg64(seed, stream) {}
  u128 st() const { return state_; }
};

const int NOUT = 32;   /* outputs per seeding vector */
const int NBND = 16;   /* bounded draws per bounded vector */
const int NADV = 4;    /* outputs after an advance */
const int NPRE = 10;   /* raw draws before an advance */

u128 mk(uint64_t hi, uint64_t lo) { return (u128(hi) << 64) | lo; }
uint64_t hi64(u128 v) { return uint64_t(v >> 64); }
uint64_t lo64(u128 v) { return uint64_t(v); }

void p64(uint64_t v) { std::printf("UINT64_C(0x%016" PRIx64 ")", v); }
void p32(uint32_t v) { std::printf("UINT32_C(0x%08" PRIx32 ")", v); }
/* Separator before array element i, perline elements to a line. */
void sep(int i, int perline) {
  if (i == 0) return;
  std::printf(i % perline == 0 ? ",\n    " : ", ");
}

struct s32 { uint64_t seed, stream; };
struct s64 { uint64_t seed_hi, seed_lo, stream_hi, stream_lo; };

const s32 seeds32[] = {
    {42, 54},
    {0, 0},
    {1, 1},
    {UINT64_MAX, UINT64_MAX},
    {0x853c49e6748fea9bULL, 0xda3e39cb94b95bdbULL},
    {12345678901234567890ULL, 0x8000000000000000ULL}, /* stream top bit lost */
    {12345678901234567890ULL, 0},                     /* ...so same as this */
    {0xdeadbeefcafef00dULL, 0x0123456789abcdefULL},
};

const s64 seeds64[] = {
    {0, 42, 0, 54},
    {0, 0, 0, 0},
    {0, 1, 0, 1},
    {UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX},
    {1, 0, 1, 0},                         /* only the high halves set */
    {0x0123456789abcdefULL, 0xfedcba9876543210ULL,
     0x0f1e2d3c4b5a6978ULL, 0x8796a5b4c3d2e1f0ULL},
    {0xdeadbeefcafef00dULL, 0, 0x8000000000000000ULL, 7}, /* top bit lost */
    {0xdeadbeefcafef00dULL, 0, 0, 7},
};

const uint32_t bounds32[] = {1u, 2u, 3u, 7u, 10u, 1000u, 0x80000001u,
                             0xc0000000u, 0xffffffffu};
const uint64_t bounds64[] = {1u, 2u, 3u, 7u, 10u, 1000u, 0x80000001u,
                             0x100000001ULL, 0x123456789abcULL,
                             0x8000000000000001ULL, 0xc000000000000000ULL,
                             0xffffffffffffffffULL};

const uint64_t deltas32[] = {0, 1, 2, 31, 1000, 0x100000007ULL,
                             0x8000000000000000ULL, UINT64_MAX,
                             UINT64_MAX - 4 /* -5 */};
const u128 deltas64[] = {0, 1, 2, 1000, mk(1, 3), mk(1ULL << 36, 0),
                         mk(UINT64_MAX, UINT64_MAX),
                         mk(UINT64_MAX, UINT64_MAX - 4) /* -5 */};

void emit_seq32() {
  std::printf("static const pcg32_seq_vec pcg32_seq_vecs[] = {\n");
  for (const s32 &s : seeds32) {
    ref32 g(s.seed, s.stream);
    std::printf("  {");
    p64(s.seed); std::printf(", "); p64(s.stream); std::printf(",\n   ");
    p64(g.st()); std::printf(",\n   {");
    for (int i = 0; i < NOUT; i++) {
      sep(i, 3);
      p32(g());
    }
    std::printf("}},\n");
  }
  std::printf("};\n\n");
}

void emit_seq64() {
  std::printf("static const pcg64_seq_vec pcg64_seq_vecs[] = {\n");
  for (const s64 &s : seeds64) {
    ref64 g(mk(s.seed_hi, s.seed_lo), mk(s.stream_hi, s.stream_lo));
    std::printf("  {");
    p64(s.seed_hi); std::printf(", "); p64(s.seed_lo); std::printf(",\n   ");
    p64(s.stream_hi); std::printf(", "); p64(s.stream_lo);
    std::printf(",\n   ");
    p64(hi64(g.st())); std::printf(", "); p64(lo64(g.st()));
    std::printf(",\n   {");
    for (int i = 0; i < NOUT; i++) {
      sep(i, 2);
      p64(g());
    }
    std::printf("}},\n");
  }
  std::printf("};\n\n");
}

/* Bounded draws from two seedings: 42/54 and the "classic" state constant. */
void emit_bnd32() {
  const s32 bs[] = {seeds32[0], seeds32[4]};
  std::printf("static const pcg32_bnd_vec pcg32_bnd_vecs[] = {\n");
  for (const s32 &s : bs) {
    for (uint32_t b : bounds32) {
      pcg32 g(s.seed, s.stream);
      std::printf("  {");
      p64(s.seed); std::printf(", "); p64(s.stream); std::printf(",\n   ");
      p32(b); std::printf(",\n   {");
      for (int i = 0; i < NBND; i++) {
        sep(i, 3);
        p32(g(b));
      }
      std::printf("},\n   ");
      p32(g());
      std::printf("},\n");
    }
  }
  std::printf("};\n\n");
}

void emit_bnd64() {
  const s64 bs[] = {seeds64[0], seeds64[5]};
  std::printf("static const pcg64_bnd_vec pcg64_bnd_vecs[] = {\n");
  for (const s64 &s : bs) {
    for (uint64_t b : bounds64) {
      pcg64 g(mk(s.seed_hi, s.seed_lo), mk(s.stream_hi, s.stream_lo));
      std::printf("  {");
      p64(s.seed_hi); std::printf(", "); p64(s.seed_lo); std::printf(",\n   ");
      p64(s.stream_hi); std::printf(", "); p64(s.stream_lo);
      std::printf(",\n   "); p64(b); std::printf(",\n   {");
      for (int i = 0; i < NBND; i++) {
        sep(i, 2);
        p64(g(b));
      }
      std::printf("},\n   ");
      p64(g());
      std::printf("},\n");
    }
  }
  std::printf("};\n\n");
}

/* Seed 42/54, draw npre raw outputs, advance(delta), record state + outputs. */
void emit_adv32() {
  std::printf("static const pcg32_adv_vec pcg32_adv_vecs[] = {\n");
  for (int npre : {0, NPRE}) {
    for (uint64_t d : deltas32) {
      ref32 g(42, 54);
      for (int i = 0; i < npre; i++) g();
      g.advance(d);
      std::printf("  {%d, ", npre);
      p64(d); std::printf(", "); p64(g.st()); std::printf(",\n   {");
      for (int i = 0; i < NADV; i++) {
        sep(i, 3);
        p32(g());
      }
      std::printf("}},\n");
    }
  }
  std::printf("};\n\n");
}

void emit_adv64() {
  std::printf("static const pcg64_adv_vec pcg64_adv_vecs[] = {\n");
  for (int npre : {0, NPRE}) {
    for (u128 d : deltas64) {
      ref64 g(42, 54);
      for (int i = 0; i < npre; i++) g();
      g.advance(d);
      std::printf("  {%d, ", npre);
      p64(hi64(d)); std::printf(", "); p64(lo64(d)); std::printf(",\n   ");
      p64(hi64(g.st())); std::printf(", "); p64(lo64(g.st()));
      std::printf(",\n   {");
      for (int i = 0; i < NADV; i++) {
        sep(i, 2);
        p64(g());
      }
      std::printf("}},\n");
    }
  }
  std::printf("};\n\n");
}

}  // namespace

int main() {
  std::printf(
      "/*\n"
      " * pcg_vectors.h — GENERATED by tests/vectors/make_pcg_vectors.sh from\n"
      " * tests/vectors/pcg_ref.cpp using the reference C++ PCG library\n"
      " * (pcg-cpp, Debian libpcg-cpp-dev). Do not edit by hand.\n"
      " *\n"
      " * Known answers for pcg32 (setseq_xsh_rr_64_32) and pcg64\n"
      " * (setseq_xsl_rr_128_64): state after seeding and first outputs;\n"
      " * bounded(b) draws from a fresh seeding plus the next raw output;\n"
      " * state and outputs after npre raw draws then advance(delta).\n"
      " * 128-bit values are split into _hi/_lo 64-bit halves.\n"
      " */\n"
      "#ifndef DOPPEL_TESTS_PCG_VECTORS_H\n"
      "#define DOPPEL_TESTS_PCG_VECTORS_H\n\n"
      "#include <stdint.h>\n\n");
  std::printf("#define PCG_VEC_NOUT %d\n#define PCG_VEC_NBND %d\n"
              "#define PCG_VEC_NADV %d\n\n", NOUT, NBND, NADV);
  std::printf(
      "typedef struct {\n  uint64_t seed, stream, state;\n"
      "  uint32_t out[PCG_VEC_NOUT];\n} pcg32_seq_vec;\n\n"
      "typedef struct {\n  uint64_t seed_hi, seed_lo, stream_hi, stream_lo;\n"
      "  uint64_t state_hi, state_lo;\n"
      "  uint64_t out[PCG_VEC_NOUT];\n} pcg64_seq_vec;\n\n"
      "typedef struct {\n  uint64_t seed, stream;\n  uint32_t bound;\n"
      "  uint32_t out[PCG_VEC_NBND];\n  uint32_t next_raw;\n} pcg32_bnd_vec;\n\n"
      "typedef struct {\n  uint64_t seed_hi, seed_lo, stream_hi, stream_lo;\n"
      "  uint64_t bound;\n  uint64_t out[PCG_VEC_NBND];\n"
      "  uint64_t next_raw;\n} pcg64_bnd_vec;\n\n"
      "/* Seed 42, stream 54; npre raw draws, then advance(delta). */\n"
      "typedef struct {\n  int npre;\n  uint64_t delta, state;\n"
      "  uint32_t out[PCG_VEC_NADV];\n} pcg32_adv_vec;\n\n"
      "typedef struct {\n  int npre;\n  uint64_t delta_hi, delta_lo;\n"
      "  uint64_t state_hi, state_lo;\n"
      "  uint64_t out[PCG_VEC_NADV];\n} pcg64_adv_vec;\n\n");
  emit_seq32();
  emit_seq64();
  emit_bnd32();
  emit_bnd64();
  emit_adv32();
  emit_adv64();
  std::printf("#endif /* DOPPEL_TESTS_PCG_VECTORS_H */\n");
  return 0;
}
