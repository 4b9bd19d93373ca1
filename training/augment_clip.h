/* augment_clip.h - random time stretch + pitch shift of waveforms (the
 * paper's augmentation) and their features, over several threads. */
#ifndef TR_AUGMENT_CLIP_H
#define TR_AUGMENT_CLIP_H

#include <acrnn/acrnn.h>

/* The ranges a random copy is drawn from (--stretch-min, --stretch-max,
 * --pitch-range; tr_options_augment() makes it from the command line). */
typedef struct {
  double stretch_min, stretch_max; /* time stretch factor */
  double pitch_range;              /* semitones either way */
} TrAugmentRange;

/* One copy's draw: the stretch factor and the pitch shift in semitones. */
typedef struct {
  double factor, semitones;
} TrAugmentDraw;

/* Draws factor ~ U[stretch_min, stretch_max], then semitones ~
 * U[-pitch_range, pitch_range], from rng. */
TrAugmentDraw tr_augment_draw(TrAugmentRange range, AcrnnRng *rng);

/* Features of count augmented copies: copy i is waves[i] (n[i] samples)
 * stretched and shifted as draws[i] says, in one pass of Rubber Band. The
 * copies are shared among `threads` threads; the result does not depend on
 * their number. On success frames[i] (g_malloc'd) and n_frames[i] hold copy
 * i's features; on failure every frames[i] is NULL and error says why. */
gboolean tr_augment_features(const float *const *waves, const size_t *n,
                             const TrAugmentDraw *draws, size_t count,
                             const AcrnnFeatureParams *p, int threads,
                             float **frames, size_t *n_frames, GError **error);

#endif
