/* gammatone.h - gammatone filterbank power weights (internal,
 * docs/features.md). */
#ifndef ACRNN_GAMMATONE_H
#define ACRNN_GAMMATONE_H

#include <acrnn/features.h>

G_BEGIN_DECLS

/** Fills weights[i * (n_fft/2 + 1) + k] = G_i(k) for bands i (ascending
 * centre frequency) and bins k = 0..n_fft/2. p must be valid. */
void acrnn_gammatone_weights(const AcrnnFeatureParams *p, float *weights);

G_END_DECLS

#endif
