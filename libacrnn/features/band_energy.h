/* band_energy.h - band energies E = G P of one power spectrum (internal). */
#ifndef ACRNN_BAND_ENERGY_H
#define ACRNN_BAND_ENERGY_H

#include <acrnn/features.h>

G_BEGIN_DECLS

typedef struct AcrnnBandEnergy AcrnnBandEnergy;

/** The filterbank weights of p (which must be valid), laid out for speed. */
AcrnnBandEnergy *acrnn_band_energy_new(const AcrnnFeatureParams *p);
void acrnn_band_energy_free(AcrnnBandEnergy *be);

/** energy[i] = sum_k G_i(k) power[k], k = 0..n_fft/2 in ascending order (the
 * same summation order for every call, so results are reproducible). */
void acrnn_band_energy_apply(const AcrnnBandEnergy *be, const float *power,
                             float *energy);

G_END_DECLS

#endif
