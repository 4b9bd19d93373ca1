/* run_rng.h - the random streams of a training run, each derived from the
 * run's seed, its purpose and the epoch, so that a resumed run draws the
 * same numbers as an uninterrupted one. */
#ifndef TR_RUN_RNG_H
#define TR_RUN_RNG_H

#include <acrnn/rng.h>
#include <glib.h>

typedef enum {
  TR_RNG_SHUFFLE = 1, /* the order of the segments, each epoch */
  TR_RNG_MIXUP = 2,   /* mixup (and dropout in a single-group run) */
  TR_RNG_OFFLINE = 3, /* offline augmentation, once */
  TR_RNG_ONLINE = 4,  /* online augmentation, each epoch */
  TR_RNG_DROPOUT = 5, /* dropout of a step split into shards */
  TR_RNG_MASK = 6,    /* time/frequency masks, each epoch (spec_mask.c) */
} TrRngPurpose;

/* Seeds r for purpose and epoch (-1: the whole run) from seed. */
static inline void tr_derive_rng(AcrnnRng *r, gint64 seed, TrRngPurpose purpose,
                                 int epoch) {
  acrnn_rng_seed(r, (guint64)seed ^ ((guint64)purpose * 0x9e3779b97f4a7c15ULL) ^
                        ((guint64)(epoch + 1) * 0xd1b54a32d192ed03ULL));
}

#endif
