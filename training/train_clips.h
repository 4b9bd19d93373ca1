/* train_clips.h - the features a training run learns from and validates
 * on: the training clips' (plus offline or online augmented copies) and
 * the validation clips', their normalisation statistics, and each epoch's
 * shuffled list of segments. */
#ifndef TR_TRAIN_CLIPS_H
#define TR_TRAIN_CLIPS_H

#include "dataset.h"
#include "progress.h"
#include "train_config.h"
#include <glib.h>
#include <stdint.h>

typedef struct {
  float *frames; /* [n][2 * bands] */
  size_t n;
  int label;
} TrClipFeat;

/* One segment: the clip's index in the epoch's set, the segment's. */
typedef struct {
  uint32_t clip;
  uint32_t seg;
} TrSegRef;

typedef struct {
  GArray *train; /* TrClipFeat: the originals, then offline copies */
  size_t n_orig;
  GArray *val;   /* TrClipFeat */
  float **waves; /* online augmentation: the original waveforms */
  size_t *wave_n;
  char **wave_keys; /* and their keys with --augment-cache, or NULL */
  /* augmented copies so far: made, and read from --augment-cache */
  size_t copies_made, copies_cached;
  GArray *online; /* TrClipFeat of this epoch's augmented originals */
} TrClips;

void tr_clips_init(TrClips *cl);
void tr_clips_clear(TrClips *cl);

/* Computes (or reads from c->cache) the features of the clips of
 * train_folds and val_fold (0: none), with the offline copies or the
 * waveforms online augmentation needs; counts on progress. */
gboolean tr_clips_load(TrClips *cl, const TrTrainConfig *c, const TrDataset *ds,
                       const int *train_folds, int n_train, int val_fold,
                       TrProgress *progress, GError **error);

/* Per-channel mean and standard deviation over the frames of the original
 * training clips. */
void tr_clips_norm(const TrClips *cl, int bands, float mean[2], float std[2]);

/* Refuses to train when the ranks' features differ (the file list was
 * compared before loading): the same counts of frames and segments, and
 * normalisation statistics equal to 1e-5. */
gboolean tr_clips_check_ranks(const TrClips *cl, int rank, int world,
                              const float mean[2], const float std[2],
                              GError **error);

/* Online augmentation: the epoch's copies of the originals (nothing to do
 * otherwise). */
gboolean tr_clips_begin_epoch(TrClips *cl, const TrTrainConfig *c, int epoch,
                              GError **error);

/* The clips of this epoch's segments: the online copies, or the training
 * clips. */
GArray *tr_clips_current(const TrClips *cl);

/* The segments of the training clips, augmented copies included. */
size_t tr_clips_count_segments(const TrClips *cl, int frames, int hop);

/* The epoch's segments of tr_clips_current(), shuffled (g_free). */
TrSegRef *tr_clips_epoch_segments(const TrClips *cl, int frames, int hop,
                                  gint64 seed, int epoch, size_t *n_out);

#endif
