/* filterbank.h - the power weights of the filterbank a set of feature
 * parameters names (internal). */
#ifndef ACRNN_FILTERBANK_H
#define ACRNN_FILTERBANK_H

#include <acrnn/features.h>

G_BEGIN_DECLS

/** Fills weights[i * (n_fft/2 + 1) + k] with the power weight of band i
 * (ascending frequency) at bin k = 0..n_fft/2, for p->filterbank. p must be
 * valid. */
void acrnn_filterbank_weights(const AcrnnFeatureParams *p, float *weights);

G_END_DECLS

#endif
