/* spec_mask.c - time and frequency masks of a training segment. */
#include "spec_mask.h"
#include "run_rng.h"
#include <string.h>

gboolean tr_spec_mask_active(const TrSpecMask *m) {
  return (m->time_masks > 0 && m->time_width > 0) ||
         (m->freq_masks > 0 && m->freq_width > 0);
}

/* A run's width from [0, widest] and its start from [0, size - width]. */
static void draw_run(AcrnnRng *rng, int widest, int size, int *start,
                     int *width) {
  *width = (int)acrnn_rng_below(rng, (uint32_t)widest + 1);
  *start = (int)acrnn_rng_below(rng, (uint32_t)(size - *width) + 1);
}

void tr_spec_mask_apply(const TrSpecMask *m, float *x, int bands, int frames,
                        AcrnnRng *rng) {
  g_return_if_fail(m->time_width <= frames && m->freq_width <= bands);
  for (int i = 0; i < m->time_masks; i++) {
    int t0, w;
    draw_run(rng, m->time_width, frames, &t0, &w);
    for (int row = 0; w > 0 && row < 2 * bands; row++)
      memset(x + (size_t)row * frames + t0, 0, sizeof(float) * (size_t)w);
  }
  for (int i = 0; i < m->freq_masks; i++) {
    int b0, w;
    draw_run(rng, m->freq_width, bands, &b0, &w);
    for (int ch = 0; w > 0 && ch < 2; ch++)
      memset(x + ((size_t)ch * bands + b0) * frames, 0,
             sizeof(float) * (size_t)w * frames);
  }
}

void tr_spec_mask_segment(const TrSpecMask *m, gint64 seed, int epoch,
                          size_t index, float *x, int bands, int frames) {
  if (!tr_spec_mask_active(m))
    return;
  AcrnnRng epoch_rng, rng;
  tr_derive_rng(&epoch_rng, seed, TR_RNG_MASK, epoch);
  acrnn_rng_seed(&rng, acrnn_rng_next(&epoch_rng) ^
                           (((guint64)index + 1) * 0xbf58476d1ce4e5b9ULL));
  tr_spec_mask_apply(m, x, bands, frames, &rng);
}
