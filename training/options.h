/* options.h - the options of acrnn-train's subcommands, described once in a
 * table that builds the GOptionEntry list (with every default shown in
 * --help) and the JSON copy stored in checkpoints. */
#ifndef TR_OPTIONS_H
#define TR_OPTIONS_H

#include "augment_clip.h"
#include "dataset.h"
#include <acrnn/features.h>
#include <glib.h>

typedef struct {
  /* dataset */
  char *data;
  gboolean esc10;
  char *folds_csv;
  int split_by_source;
  int random_folds;
  char *folds;
  int val_fold;
  int fold;                      /* eval */
  gboolean allow_training_clips; /* eval */
  /* features */
  int sample_rate;
  int n_fft;
  int hop;
  int bands;
  double fmin;
  double fmax; /* 0: sample_rate / 2 */
  char *filterbank;
  int segment_frames;
  int segment_hop;
  char *cache;
  gboolean no_cache;
  /* network and training */
  char *attention;
  int epochs;
  int batch_size;
  double lr;
  double momentum;
  gboolean no_nesterov;
  double weight_decay;
  int lr_step;
  double lr_gamma;
  double init_std;
  double dropout;
  double mixup_alpha;
  char *augment;
  int augment_copies;
  double stretch_min;
  double stretch_max;
  double pitch_range;
  char *augment_cache;
  /* ours, beyond the paper (label_smoothing.c, lr_schedule.c, spec_mask.c) */
  double label_smoothing;
  char *lr_schedule; /* step or cosine */
  double lr_min;
  int time_masks, time_mask_width, freq_masks, freq_mask_width;
  gint64 seed;
  int threads;
  char *precision; /* fp32 or bf16 */
  /* fine-tuning (init_from.c) */
  char *init_from;
  gboolean freeze_conv;
  char *init_norm; /* model or data */
  /* data-parallel training (MPI) */
  int bn_groups;
  char *parallel;   /* cv under MPI: "batch" or "folds" */
  gboolean timings; /* per-step compute and all-reduce times */
  gboolean check_sync;
  char *debug_fault; /* tests: kill, error or desync on one rank */
  int debug_fault_rank;
  int debug_fault_step;
  /* outputs */
  char *out;
  char *out_dir;
  char *model;
  char **models; /* eval: --model, repeatable (an ensemble) */
  char *report;
  char *log;
  char *plot;
  char *checkpoint;
  int checkpoint_every;
  char *resume;
  gboolean cont; /* cv --continue */
  int stop_after_epochs;
  int stop_after_steps;
  gboolean quiet;
  char *dtype; /* export: f32, f16 or bf16 */
  /* not an option: cv --parallel folds sets it so that a run is this
   * process's alone, even under MPI */
  gboolean local_run;
} TrOptions;

/* Which subcommand an option belongs to (bit mask). */
enum {
  TR_CMD_TRAIN = 1 << 0,
  TR_CMD_CV = 1 << 1,
  TR_CMD_EVAL = 1 << 2,
  TR_CMD_FEATURES = 1 << 3,
  TR_CMD_EXPORT = 1 << 4,
};

/* The defaults: the library's own (acrnn_feature_params_init(),
 * acrnn_model_info_init(), acrnn_sgd_params_init()) where it has them. */
void tr_options_init(TrOptions *o);
void tr_options_clear(TrOptions *o);

/* Parses argv (argv[0] is the subcommand) for command cmd into o; options
 * absent from argv keep their value in o. Strings replaced are freed. A
 * command takes no argument besides its options: one left in argv is an
 * error ("unexpected argument"). */
gboolean tr_options_parse(TrOptions *o, int cmd, const char *summary, int *argc,
                          char ***argv, GError **error);

/* The options of a training run as a JSON object string (g_free). */
char *tr_options_to_json(const TrOptions *o);
/* Sets the options found in a JSON object string made by
 * tr_options_to_json(). */
gboolean tr_options_from_json(TrOptions *o, const char *json, GError **error);

/* The dataset options (borrows o's strings). */
TrDatasetConfig tr_options_dataset(const TrOptions *o);
/* The augmentation ranges. */
TrAugmentRange tr_options_augment(const TrOptions *o);

/* The feature parameters the feature options give, validated. */
gboolean tr_options_feature_params(const TrOptions *o, AcrnnFeatureParams *fp,
                                   GError **error);

#endif
