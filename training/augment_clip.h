/* augment_clip.h - one random time stretch + pitch shift of a waveform (the
 * paper's augmentation) and its features. */
#ifndef TR_AUGMENT_CLIP_H
#define TR_AUGMENT_CLIP_H

#include <acrnn/acrnn.h>

/* The ranges a random copy is drawn from (--stretch-min, --stretch-max,
 * --pitch-range; tr_options_augment() makes it from the command line). */
typedef struct {
  double stretch_min, stretch_max; /* time stretch factor */
  double pitch_range;              /* semitones either way */
} TrAugmentRange;

/* Draws factor ~ U[stretch_min, stretch_max] then semitones ~
 * U[-pitch_range, pitch_range] from rng, applies both, and returns the
 * features of the result. */
float *tr_augment_features(const float *wave, size_t n,
                           const AcrnnFeatureParams *p, TrAugmentRange range,
                           AcrnnRng *rng, size_t *n_frames, GError **error);

#endif
