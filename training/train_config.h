/* train_config.h - what one training run needs to know, built from the
 * command line's options in one place (tr_train_config_init()), checked
 * there: the features and network, the recipe, augmentation, the
 * data-parallel layout, when to checkpoint and stop, and the options
 * JSON that checkpoints store. */
#ifndef TR_TRAIN_CONFIG_H
#define TR_TRAIN_CONFIG_H

#include "augment_clip.h"
#include "lr_schedule.h"
#include "options.h"
#include "spec_mask.h"
#include <acrnn/acrnn.h>
#include <glib.h>

typedef enum {
  TR_AUGMENT_NONE = 0,
  TR_AUGMENT_OFFLINE, /* copies of each training clip, made once */
  TR_AUGMENT_ONLINE,  /* a new copy of each training clip every epoch */
} TrAugmentMode;

/* --debug-fault (tests): what to do on one rank at one step. */
typedef enum {
  TR_FAULT_NONE = 0,
  TR_FAULT_KILL,   /* SIGKILL before the step */
  TR_FAULT_ERROR,  /* fail with an error before the step */
  TR_FAULT_DESYNC, /* change a weight after the update */
} TrFaultKind;

typedef struct {
  TrFaultKind kind;
  int rank, step; /* step: 1-based, counted from the start of this run */
} TrFault;

typedef struct {
  /* model */
  AcrnnFeatureParams features;
  int segment_frames, segment_hop;
  AcrnnAttention attention;
  AcrnnPrecision precision;
  double init_std; /* of every N(0, std) weight */
  double dropout;
  /* fine-tuning (init_from.c): the model to start from, or NULL; its
   * conv blocks frozen; the input statistics of the training clips (TRUE)
   * or of the model (FALSE) */
  char *init_from;
  gboolean freeze_conv, init_norm_data;
  /* recipe */
  AcrnnSgdParams sgd;
  int epochs, batch_size;
  double mixup_alpha; /* 0: no mixup */
  gint64 seed;
  /* ours, beyond the paper */
  double label_smoothing; /* 0: none */
  TrLrSchedule lr_schedule;
  double lr_min; /* cosine */
  TrSpecMask mask;
  /* the dataset and its folds, as the models' split record says (owns its
   * strings) */
  TrDatasetConfig dataset;
  /* augmentation */
  TrAugmentMode augment;
  int augment_copies; /* offline */
  TrAugmentRange augment_range;
  char *cache;         /* feature cache folder, NULL: none */
  char *augment_cache; /* augmented copies' folder, NULL: none */
  /* compute: --threads replicas, --bn-groups shards per process; a local
   * run is this process's alone even under MPI (cv --parallel folds) */
  int threads, bn_groups;
  gboolean local_run, check_sync, timings;
  TrFault fault;
  /* checkpoints, stops, output */
  int checkpoint_every; /* epochs; 0: only at the end and on stops */
  int stop_after_epochs, stop_after_steps; /* 0: never */
  gboolean quiet;
  gboolean name_fold; /* prefix progress lines with "fold N: " (cv) */
  char *options;      /* the options as checkpoints store them (JSON) */
} TrTrainConfig;

/* Builds c from o, checking every value the training run uses; FALSE with
 * an error naming the option otherwise. Clear c in any case. */
gboolean tr_train_config_init(TrTrainConfig *c, const TrOptions *o,
                              GError **error);
void tr_train_config_clear(TrTrainConfig *c);

#endif
