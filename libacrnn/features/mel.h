/* mel.h - mel filterbank power weights (internal). */
#ifndef ACRNN_MEL_H
#define ACRNN_MEL_H

#include <acrnn/features.h>

G_BEGIN_DECLS

/** Fills weights[i * (n_fft/2 + 1) + k] with the weight of triangular mel
 * band i (ascending) at bin k = 0..n_fft/2, as librosa.filters.mel(sr, n_fft,
 * n_mels=bands, fmin, fmax) computes it by default (Slaney mel scale, Slaney
 * area normalisation). p must be valid. */
void acrnn_mel_weights(const AcrnnFeatureParams *p, float *weights);

G_END_DECLS

#endif
