/* augment_clip.h - one random time stretch + pitch shift of a waveform (the
 * paper's augmentation) and its features. */
#ifndef TR_AUGMENT_CLIP_H
#define TR_AUGMENT_CLIP_H

#include "options.h"
#include <acrnn/acrnn.h>

/* Draws factor ~ U[stretch_min, stretch_max] then semitones ~
 * U[-pitch_range, pitch_range] from rng, applies both, and returns the
 * features of the result. */
float *tr_augment_features(const float *wave, size_t n,
                           const AcrnnFeatureParams *p, const TrOptions *o,
                           AcrnnRng *rng, size_t *n_frames, GError **error);

#endif
