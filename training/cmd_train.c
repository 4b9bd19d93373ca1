/* cmd_train.c - "acrnn-train train": one model on the training folds,
 * validated on --val-fold, with checkpoints and --resume. */
#include "checkpoint_state.h"
#include "commands.h"
#include "dataset.h"
#include "dist.h"
#include "fingerprint.h"
#include "options.h"
#include "output_path.h"
#include "trainer.h"
#include <acrnn/acrnn.h>
#include <stdio.h>
#include <string.h>

static const char summary[] =
    "Trains one ACRNN model with the paper's recipe (SGD, Nesterov 0.9, lr\n"
    "0.01 divided by 10 every 100 epochs, 300 epochs, batches of 64\n"
    "segments, L2 1e-4, N(0, 0.05) init, mixup), validating each epoch on\n"
    "--val-fold (clip-level, mean probability over segments) and keeping\n"
    "the best model. Ctrl-C saves a checkpoint after the current step.\n"
    "\n"
    "Under mpirun -np N (or srun), the ranks train one model together:\n"
    "each batch is split over the ranks (the first (batch mod N) ranks get\n"
    "one segment more), the size-weighted gradients are summed with one\n"
    "MPI_Allreduce per step and every rank applies the same update. Batch\n"
    "norm uses each rank's own batch statistics, so N ranks equal one\n"
    "process with --bn-groups N, not a plain run. Rank 0 writes the\n"
    "outputs; every rank reads the dataset and --resume's checkpoint.";

/* Options of a resumed run: the checkpoint's, then those of argv. */
static gboolean resume_options(TrOptions *o, int argc, char **argv,
                               GError **error) {
  char *path = g_strdup(o->resume);
  char *json = tr_checkpoint_read_options(path, error);
  if (!json) {
    g_prefix_error(error, "--resume %s: ", path);
    g_free(path);
    return FALSE;
  }
  tr_options_clear(o);
  tr_options_init(o);
  gboolean ok = tr_options_from_json(o, json, error);
  g_free(json);
  if (ok) {
    char **copy = g_new0(char *, argc + 1);
    memcpy(copy, argv, sizeof(char *) * (size_t)argc);
    char **cp = copy;
    int cargc = argc;
    ok = tr_options_parse(o, TR_CMD_TRAIN, summary, &cargc, &cp, error);
    g_free(copy);
  }
  g_free(path);
  return ok;
}

int tr_cmd_train(int argc, char **argv) {
  TrOptions o;
  tr_options_init(&o);
  GError *error = NULL;
  char **copy = g_new0(char *, argc + 1);
  memcpy(copy, argv, sizeof(char *) * (size_t)argc);
  char **cp = copy;
  int cargc = argc;
  int rc = 1;
  TrDataset *ds = NULL;
  int *folds = NULL, n_folds = 0;
  TrRunPaths paths = {0};
  gboolean ok =
      tr_options_parse(&o, TR_CMD_TRAIN, summary, &cargc, &cp, &error);
  g_free(copy);
  if (ok && o.resume)
    ok = resume_options(&o, argc, argv, &error);
  if (ok && !o.out) {
    g_set_error(&error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                "no output model: give --out FILE.safetensors");
    ok = FALSE;
  }
  if (ok) {
    tr_run_paths_init(&paths, o.out, &o);
    /* rank 0 writes them: check them all before any work */
    if (tr_dist_rank() == 0)
      ok = tr_output_path_check("--out", paths.model, &error) &&
           tr_output_path_check("--out", paths.last, &error) &&
           tr_output_path_check("--checkpoint", paths.checkpoint, &error) &&
           tr_output_path_check("--log", paths.log, &error) &&
           tr_output_path_check("--plot", paths.plot, &error);
  }
  TrDatasetConfig dc = tr_options_dataset(&o);
  if (ok)
    ok = (ds = tr_dataset_load(&dc, &error)) != NULL;
  if (ok && tr_dist_rank() == 0)
    tr_dataset_print_warnings(ds);
  if (ok)
    ok = tr_check_same_run(&o, ds, &error);
  if (ok)
    ok = (folds = tr_training_folds(ds, o.folds, o.val_fold, &n_folds,
                                    &error)) != NULL;
  if (ok) {
    tr_interrupt_install();
    TrRunResult res;
    TrTrainConfig tc;
    ok = tr_train_config_init(&tc, &o, &error) &&
         tr_train_run(&tc, ds, folds, n_folds, o.val_fold, &paths, o.resume,
                      &res, &error);
    tr_train_config_clear(&tc);
    if (ok && res.stopped) {
      rc = res.interrupted ? 130 : 0;
    } else if (ok) {
      rc = 0;
      if (!o.quiet && tr_dist_rank() == 0) {
        printf("final train accuracy %.4f", res.last_train_acc);
        if (res.last_val_acc >= 0)
          printf(", validation accuracy (fold %d) last %.4f, best %.4f at "
                 "epoch %d\nbest model: %s\nlast model: %s\n",
                 o.val_fold, res.last_val_acc, res.best_val_acc, res.best_epoch,
                 paths.model, paths.last);
        else
          printf("\nmodel: %s\n", paths.model);
      }
    }
  }
  if (!ok) {
    tr_dist_report_error("train", error);
    g_clear_error(&error);
  }
  tr_run_paths_clear(&paths);
  g_free(folds);
  tr_dataset_free(ds);
  tr_options_clear(&o);
  return rc;
}
