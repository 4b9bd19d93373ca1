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

/* Where augmented copies are kept between runs (--augment-cache): runs
 * with the same seed and clips draw the same copies, so the rows of an
 * ablation table make them once. */
typedef struct {
  const char *dir;              /* the cache folder */
  const char *const *wave_keys; /* tr_wave_key() of each waves[i] */
  size_t hits;                  /* out: copies read from the cache */
} TrAugmentCache;

/* Features of count augmented copies: copy i is waves[i] (n[i] samples)
 * stretched and shifted as draws[i] says, in one pass of Rubber Band, or
 * read from cache (NULL: none), where the copies made are stored. The
 * copies are shared among `threads` threads; the result does not depend on
 * their number, nor on the cache. On success frames[i] (g_malloc'd) and
 * n_frames[i] hold copy i's features; on failure every frames[i] is NULL
 * and error says why. */
gboolean tr_augment_features(const float *const *waves, const size_t *n,
                             const TrAugmentDraw *draws, size_t count,
                             const AcrnnFeatureParams *p, int threads,
                             TrAugmentCache *cache, float **frames,
                             size_t *n_frames, GError **error);

#endif
