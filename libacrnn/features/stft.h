/* stft.h - power spectrum of one windowed frame (internal, docs/features.md).
 */
#ifndef ACRNN_STFT_H
#define ACRNN_STFT_H

#include <glib.h>

G_BEGIN_DECLS

typedef struct AcrnnStft AcrnnStft;

/** A periodic Hamming window and an FFTW plan for frames of n_fft samples. */
AcrnnStft *acrnn_stft_new(int n_fft);
void acrnn_stft_free(AcrnnStft *s);

/** power[k] = |sum_n w(n) frame(n) e^(-2 pi i k n / N)|^2, k = 0..N/2. */
void acrnn_stft_power(AcrnnStft *s, const float *frame, float *power);

G_END_DECLS

#endif
