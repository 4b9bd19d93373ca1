/* trainer.h - one training run of the paper's recipe: data, epochs of
 * shuffled batches, validation, logs, checkpoints and resume. */
#ifndef TR_TRAINER_H
#define TR_TRAINER_H

#include "dataset.h"
#include "epoch_record.h"
#include "interrupt.h"
#include "options.h"
#include "train_config.h"
#include <glib.h>

typedef struct {
  double last_val_acc; /* < 0 without validation */
  double best_val_acc;
  int best_epoch;
  double last_train_acc;
  int epochs_done;
  double total_s;       /* training time, resumes included */
  gboolean stopped;     /* stopped early (interrupt or --stop-after-*) */
  gboolean interrupted; /* by a signal */
} TrRunResult;

typedef struct {
  char *model; /* the best (or last) model */
  char *last;  /* the last model (with validation) */
  char *checkpoint;
  char *log;
  char *plot;
} TrRunPaths;

void tr_run_paths_init(TrRunPaths *p, const char *out, const TrOptions *o);
void tr_run_paths_clear(TrRunPaths *p);

/* Trains on the clips of train_folds, validating on val_fold (0: none).
 * resume: a checkpoint to continue from (NULL: a fresh start). */
gboolean tr_train_run(const TrTrainConfig *c, const TrDataset *ds,
                      const int *train_folds, int n_train_folds, int val_fold,
                      const TrRunPaths *paths, const char *resume,
                      TrRunResult *result, GError **error);

#endif
