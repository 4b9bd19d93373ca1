/* spec_mask.h - SpecAugment-style time and frequency masks on training
 * segments (--time-masks, --freq-masks; ours, not the paper's; Park et
 * al., 2019). */
#ifndef TR_SPEC_MASK_H
#define TR_SPEC_MASK_H

#include <acrnn/rng.h>
#include <glib.h>
#include <stddef.h>

typedef struct {
  int time_masks, time_width; /* masks per segment, widest (frames) */
  int freq_masks, freq_width; /* masks per segment, widest (bands) */
} TrSpecMask;

/* Whether m masks anything (a mask count above 0 with a width above 0). */
gboolean tr_spec_mask_active(const TrSpecMask *m);

/* Masks the normalised segment x [2][bands][frames] (acrnn_segment_extract's
 * layout) in place: m->time_masks runs of frames, each of a width drawn
 * uniformly from [0, time_width] and a first frame uniform in
 * [0, frames - width], then m->freq_masks runs of bands drawn the same way
 * from [0, freq_width] and [0, bands - width], set to 0 in both channels.
 * 0 is the training clips' mean after the normalisation, so a masked
 * region carries nothing of the segment (SpecAugment's "mean value").
 * Draw order: for each time mask its width, then its position; then the
 * same for each frequency mask. Needs time_width <= frames and
 * freq_width <= bands. */
void tr_spec_mask_apply(const TrSpecMask *m, float *x, int bands, int frames,
                        AcrnnRng *rng);

/* The masks of the index-th segment (0-based, in the epoch's shuffled
 * order) of epoch: tr_spec_mask_apply() with a generator derived from the
 * run's seed, the epoch and the index alone, so that every rank, a resumed
 * run and any thread count draw the same masks. Nothing when m is not
 * active. */
void tr_spec_mask_segment(const TrSpecMask *m, gint64 seed, int epoch,
                          size_t index, float *x, int bands, int frames);

#endif
