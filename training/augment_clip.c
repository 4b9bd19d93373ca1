/* augment_clip.c - a randomly time-stretched and pitch-shifted copy of a
 * clip, as features. */
#include "augment_clip.h"
#include <string.h>

float *tr_augment_features(const float *wave, size_t n,
                           const AcrnnFeatureParams *p, TrAugmentRange range,
                           AcrnnRng *rng, size_t *n_frames, GError **error) {
  double factor = range.stretch_min + (range.stretch_max - range.stretch_min) *
                                          (double)acrnn_rng_uniform(rng);
  double semis = range.pitch_range * (2.0 * acrnn_rng_uniform(rng) - 1.0);
  size_t m = 0;
  float *s = acrnn_time_stretch(wave, n, p->sample_rate, factor, &m, error);
  if (!s)
    return NULL;
  float *t = acrnn_pitch_shift(s, m, p->sample_rate, semis, error);
  g_free(s);
  if (!t)
    return NULL;
  if (m < (size_t)p->n_fft) { /* too short for one frame: pad */
    t = g_renew(float, t, p->n_fft);
    memset(t + m, 0, ((size_t)p->n_fft - m) * sizeof(float));
    m = (size_t)p->n_fft;
  }
  float *f = acrnn_features_compute(p, t, m, n_frames, error);
  g_free(t);
  return f;
}
