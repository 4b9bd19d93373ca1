/* band_energy.c - the filterbank matrix product E_t(i) = sum_k G_i(k) P_t(k)
 * over all bins (gammatone weights never reach zero, so nothing is
 * truncated; mel bands sum their zeros too, at the same speed).
 * Bands are processed in blocks of BLOCK whose accumulators stay in vector
 * registers; each block's weights are stored contiguously, bin after bin.
 * Every band sums its bins in ascending order, whatever the block. */
#include "band_energy.h"
#include "filterbank.h"
#include "isa.h"
#include <string.h>

#define LANES 8
#define VECS 8
#define BLOCK (LANES * VECS)

typedef float v8sf __attribute__((vector_size(LANES * sizeof(float))));

struct AcrnnBandEnergy {
  int bands, bins, blocks;
  v8sf *weights; /* [blocks][bins][VECS] */
};

AcrnnBandEnergy *acrnn_band_energy_new(const AcrnnFeatureParams *p) {
  AcrnnBandEnergy *be = g_new0(AcrnnBandEnergy, 1);
  be->bands = p->bands;
  be->bins = p->n_fft / 2 + 1;
  be->blocks = (p->bands + BLOCK - 1) / BLOCK;
  float *g = g_new(float, (size_t)p->bands * be->bins);
  acrnn_filterbank_weights(p, g);
  size_t n_vec = (size_t)be->blocks * be->bins * VECS;
  be->weights = g_aligned_alloc0(n_vec, sizeof(v8sf), sizeof(v8sf));
  float *w = (float *)be->weights;
  for (int b = 0; b < be->blocks; b++)
    for (int k = 0; k < be->bins; k++)
      for (int j = 0; j < BLOCK; j++) {
        int band = b * BLOCK + j;
        if (band < p->bands)
          w[((size_t)b * be->bins + k) * BLOCK + j] =
              g[(size_t)band * be->bins + k];
      }
  g_free(g);
  return be;
}

void acrnn_band_energy_free(AcrnnBandEnergy *be) {
  if (be == NULL)
    return;
  g_aligned_free(be->weights);
  g_free(be);
}

/* The product, built twice on x86-64: for AVX2 with FMA, and for the
 * compiler's baseline; acrnn_isa() (the CPU's level, capped by ACRNN_ISA)
 * chooses. The summation order is the same in both builds. */
static inline __attribute__((always_inline)) void
band_energy_body(const AcrnnBandEnergy *be, const float *power, float *energy) {
  for (int b = 0; b < be->blocks; b++) {
    const v8sf *w = be->weights + (size_t)b * be->bins * VECS;
    v8sf a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0};
    v8sf a4 = {0}, a5 = {0}, a6 = {0}, a7 = {0};
    for (int k = 0; k < be->bins; k++, w += VECS) {
      const float pk = power[k];
      a0 += w[0] * pk;
      a1 += w[1] * pk;
      a2 += w[2] * pk;
      a3 += w[3] * pk;
      a4 += w[4] * pk;
      a5 += w[5] * pk;
      a6 += w[6] * pk;
      a7 += w[7] * pk;
    }
    float acc[BLOCK];
    memcpy(acc, &a0, sizeof a0);
    memcpy(acc + LANES, &a1, sizeof a1);
    memcpy(acc + 2 * LANES, &a2, sizeof a2);
    memcpy(acc + 3 * LANES, &a3, sizeof a3);
    memcpy(acc + 4 * LANES, &a4, sizeof a4);
    memcpy(acc + 5 * LANES, &a5, sizeof a5);
    memcpy(acc + 6 * LANES, &a6, sizeof a6);
    memcpy(acc + 7 * LANES, &a7, sizeof a7);
    int n = be->bands - b * BLOCK;
    memcpy(energy + b * BLOCK, acc, sizeof(float) * (n < BLOCK ? n : BLOCK));
  }
}

static void band_energy_generic(const AcrnnBandEnergy *be, const float *power,
                                float *energy) {
  band_energy_body(be, power, energy);
}

#if defined(__x86_64__) || defined(__i386__)
__attribute__((target("avx2,fma"))) static void
band_energy_avx2(const AcrnnBandEnergy *be, const float *power, float *energy) {
  band_energy_body(be, power, energy);
}
#endif

void acrnn_band_energy_apply(const AcrnnBandEnergy *be, const float *power,
                             float *energy) {
#if defined(__x86_64__) || defined(__i386__)
  if (acrnn_isa() >= ACRNN_ISA_AVX2) {
    band_energy_avx2(be, power, energy);
    return;
  }
#endif
  band_energy_generic(be, power, energy);
}
