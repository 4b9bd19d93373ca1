/* cmd_cv.c - "acrnn-train cv": k-fold cross-validation, one model per
 * held-out fold, with the per-fold and mean accuracy (+- std over folds)
 * as the paper's tables report it. */
#include "checkpoint_state.h"
#include "commands.h"
#include "cv_report.h"
#include "dataset.h"
#include "dist.h"
#include "fingerprint.h"
#include "options.h"
#include "output_path.h"
#include "reporter.h"
#include "trainer.h"
#include <acrnn/acrnn.h>
#include <json-glib/json-glib.h>
#include <stdio.h>
#include <string.h>

static const char summary[] =
    "Cross-validation: for each fold (all folds, or --folds), trains a\n"
    "model on the other folds with the options of 'train' and reports the\n"
    "clip-level accuracy on the held-out fold after the last epoch (and\n"
    "the best epoch, an optimistic figure), then the mean and standard\n"
    "deviation over the folds. Writes DIR/fold-N.* and DIR/cv-summary.json.\n"
    "\n"
    "Under mpirun -np N: with --parallel batch each fold is trained in\n"
    "turn by all ranks together (as 'train' does); with --parallel folds\n"
    "whole folds run on different ranks (the i-th held-out fold, from 0,\n"
    "on rank i mod N, one process each) and rank 0 gathers the table.";

/* DIR/fold-N.result.json: a finished fold's figures and the options it was
 * trained with, so that --continue reports it without training again. */
static char *result_path(const char *dir, int fold) {
  char *name = g_strdup_printf("fold-%d.result.json", fold);
  char *path = g_build_filename(dir, name, NULL);
  g_free(name);
  return path;
}

/* Whether the options a file was made with (JSON) are this run's, opts;
 * if not, an error naming the first option that differs. An option the
 * stopped run's version did not have counts as its default. */
static gboolean same_options(const char *file, const char *theirs,
                             const char *opts, GError **error) {
  TrOptions d;
  tr_options_init(&d);
  char *defaults = tr_options_to_json(&d);
  tr_options_clear(&d);
  JsonNode *a = json_from_string(theirs, NULL),
           *b = json_from_string(opts, NULL),
           *def = json_from_string(defaults, NULL);
  g_free(defaults);
  const char *differs = NULL;
  if (!a || !b || !JSON_NODE_HOLDS_OBJECT(a)) {
    differs = "(unreadable)";
  } else {
    JsonObject *oa = json_node_get_object(a), *ob = json_node_get_object(b);
    GList *names = json_object_get_members(ob);
    for (GList *l = names; l && !differs; l = l->next) {
      JsonNode *va = json_object_get_member(oa, l->data);
      if (!va)
        va = json_object_get_member(json_node_get_object(def), l->data);
      if (!va || !json_node_equal(va, json_object_get_member(ob, l->data)))
        differs = l->data;
    }
    g_list_free(names);
  }
  json_node_unref(def);
  gboolean ok = differs == NULL;
  if (!ok)
    g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                "--continue: %s was made with other options than this run's "
                "(--%s differs): give the options of the stopped run, or "
                "leave out --continue to start over",
                file, differs);
  if (a)
    json_node_unref(a);
  if (b)
    json_node_unref(b);
  return ok;
}

/* Reads a finished fold's result: FALSE without an error when there is
 * none, FALSE with one when it is unreadable or from other options. */
static gboolean read_result(const char *path, const char *opts, TrCvFold *fold,
                            GError **error) {
  if (!g_file_test(path, G_FILE_TEST_EXISTS))
    return FALSE;
  JsonParser *p = json_parser_new();
  gboolean ok = json_parser_load_from_file(p, path, error);
  JsonObject *o = NULL;
  if (ok) {
    JsonNode *root = json_parser_get_root(p);
    o = root && JSON_NODE_HOLDS_OBJECT(root) ? json_node_get_object(root)
                                             : NULL;
    ok = o && json_object_has_member(o, "options") &&
         tr_cv_fold_from_json(o, fold);
    if (!ok)
      g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                  "%s: expected a JSON object with accuracy, best_accuracy, "
                  "best_epoch and options (delete it to train the fold again)",
                  path);
  } else {
    g_prefix_error(error, "--continue: ");
  }
  if (ok) {
    char *theirs = json_to_string(json_object_get_member(o, "options"), FALSE);
    ok = same_options(path, theirs, opts, error);
    g_free(theirs);
  }
  g_object_unref(p);
  return ok;
}

/* The checkpoint of a stopped fold, if there is one made with opts:
 * TRUE and *resume set; FALSE with an error if it is from other options. */
static gboolean stopped_fold(const char *ckpt, const char *opts,
                             const char **resume, GError **error) {
  *resume = NULL;
  if (!g_file_test(ckpt, G_FILE_TEST_EXISTS))
    return TRUE;
  char *theirs = tr_checkpoint_read_options(ckpt, error);
  if (!theirs) {
    g_prefix_error(error, "--continue: ");
    return FALSE;
  }
  gboolean ok = same_options(ckpt, theirs, opts, error);
  g_free(theirs);
  if (ok)
    *resume = ckpt;
  return ok;
}

/* A cross-validation: its options, dataset and held-out folds. */
typedef struct {
  TrOptions o;
  TrOptions run; /* o as each fold's run gets it (shares o's strings) */
  char *opts;    /* run's options JSON, as each fold's checkpoint stores it */
  TrDataset *ds;
  int *holdout; /* the folds held out in turn */
  int n_hold;
  gboolean by_fold; /* --parallel folds under MPI: fold k on rank k mod N */
} Cv;

static void cv_clear(Cv *c) {
  g_free(c->opts);
  g_free(c->holdout);
  tr_dataset_free(c->ds);
  tr_options_clear(&c->o);
}

/* Parses and checks the options, loads the dataset and makes --out-dir. */
static gboolean cv_prepare(Cv *c, int argc, char **argv, GError **error) {
  TrOptions *o = &c->o;
  gboolean ok = tr_options_parse(o, TR_CMD_CV, summary, &argc, &argv, error);
  if (ok && !o->out_dir) {
    g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                "no output directory: give --out-dir DIR");
    ok = FALSE;
  }
  if (ok && g_strcmp0(o->parallel, "batch") &&
      g_strcmp0(o->parallel, "folds")) {
    g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                "--parallel %s: expected batch or folds", o->parallel);
    ok = FALSE;
  }
  TrDatasetConfig dc = tr_options_dataset(o);
  if (ok)
    ok = (c->ds = tr_dataset_load(&dc, error)) != NULL;
  if (ok)
    tr_dataset_print_warnings(c->ds);
  if (ok)
    ok = tr_check_same_run(o, c->ds, error);
  if (ok)
    ok = (c->holdout =
              tr_training_folds(c->ds, o->folds, 0, &c->n_hold, error)) != NULL;
  if (ok && c->n_hold < 2 && c->ds->n_folds < 2) {
    g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                "%s has only one fold: cross-validation needs at least two "
                "(use --split-by-source K or --random-folds K)",
                c->ds->root);
    ok = FALSE;
  }
  if (ok && tr_dist_rank() == 0) {
    char *summary_path = g_build_filename(o->out_dir, "cv-summary.json", NULL);
    ok = tr_output_dir_make("--out-dir", o->out_dir, error) &&
         tr_output_path_check("--out-dir", summary_path, error);
    g_free(summary_path);
  }
  c->by_fold = tr_dist_size() > 1 && g_strcmp0(o->parallel, "folds") == 0;
  c->run = *o;
  c->run.local_run = c->by_fold; /* a fold is then this process's alone */
  c->opts = tr_options_to_json(&c->run);
  if (ok && tr_dist_size() > 1)
    tr_dist_barrier(); /* out_dir exists */
  return ok;
}

/* Trains held-out fold f on the others (or takes its finished result, or
 * resumes it, with --continue) into *fold; fold->res.stopped when it was
 * stopped. */
static gboolean cv_fold(const Cv *c, int f, TrCvFold *fold, GError **error) {
  const TrOptions *o = &c->o;
  int n_train = 0;
  int *train = g_new0(int, c->ds->n_folds + 1);
  for (int g = 1; g <= c->ds->n_folds; g++)
    if (g != f && tr_dataset_fold_size(c->ds, g) > 0)
      train[n_train++] = g;
  char *name = g_strdup_printf("fold-%d.safetensors", f);
  char *out = g_build_filename(o->out_dir, name, NULL);
  g_free(name);
  TrRunPaths paths;
  TrOptions fo = *o; /* per-fold paths derive from out */
  fo.log = fo.plot = fo.checkpoint = NULL;
  tr_run_paths_init(&paths, out, &fo);
  char *rpath = result_path(o->out_dir, f);
  gboolean have = FALSE, ok = TRUE;
  const char *resume = NULL;
  if (o->cont) {
    have = read_result(rpath, c->opts, fold, error);
    ok = have || !*error;
    if (ok && !have)
      ok = stopped_fold(paths.checkpoint, c->opts, &resume, error);
  }
  fold->fold = f;
  fold->clips = tr_dataset_fold_size(c->ds, f);
  fold->rank = tr_dist_rank();
  if (ok && have) /* even with --quiet: nothing was trained */
    tr_report_note("fold %d: finished before, result from %s", f, rpath);
  if (ok && resume) /* even with --quiet, as the above */
    tr_report_note("fold %d: resuming from %s", f, resume);
  if (ok && !have && !o->quiet)
    tr_report_note("fold %d: training on %d folds, %zu clips held out", f,
                   n_train, fold->clips);
  if (ok && !have) {
    TrTrainConfig tc;
    ok = tr_train_config_init(&tc, &c->run, error) &&
         tr_train_run(&tc, c->ds, train, n_train, f, &paths, resume, &fold->res,
                      error);
    tr_train_config_clear(&tc);
  }
  if (ok && !have && !fold->res.stopped && (c->by_fold || tr_dist_rank() == 0))
    ok = tr_cv_write_fold_result(rpath, fold, c->opts, error);
  g_free(rpath);
  tr_run_paths_clear(&paths);
  g_free(out);
  g_free(train);
  return ok;
}

/* Figures of a fold that cross the ranks (summed: each fold has one rank
 * that trained it under --parallel folds). */
enum { CV_LAST, CV_BEST, CV_BEST_EPOCH, CV_EPOCHS, CV_TIME, CV_DONE, CV_NV };

static void pack_fold(double *v, const TrCvFold *fold) {
  v[CV_LAST] = fold->res.last_val_acc;
  v[CV_BEST] = fold->res.best_val_acc;
  v[CV_BEST_EPOCH] = fold->res.best_epoch;
  v[CV_EPOCHS] = fold->res.epochs_done;
  v[CV_TIME] = fold->res.total_s;
  v[CV_DONE] = 1;
}

static void unpack_fold(const double *v, TrCvFold *fold) {
  fold->res.last_val_acc = v[CV_LAST];
  fold->res.best_val_acc = v[CV_BEST];
  fold->res.best_epoch = (int)v[CV_BEST_EPOCH];
  fold->res.epochs_done = (int)v[CV_EPOCHS];
  fold->res.total_s = v[CV_TIME];
}

/* Every held-out fold in turn (under --parallel folds, this rank's), into
 * s: the folds finished, on every rank. *stopped: a fold was stopped (on
 * any rank). A failing rank has ended the job (tr_dist_report_error). */
static gboolean cv_compute(const Cv *c, TrCvSummary *s, gboolean *stopped,
                           GError **error) {
  int me = tr_dist_rank(), size = tr_dist_size();
  double *all = g_new0(double, CV_NV *(size_t)(c->n_hold + 1));
  gboolean ok = TRUE;
  *stopped = FALSE;
  tr_interrupt_install();
  for (int k = 0; ok && !*stopped && k < c->n_hold; k++) {
    if (c->by_fold && k % size != me)
      continue;
    TrCvFold fold = {0};
    ok = cv_fold(c, c->holdout[k], &fold, error);
    if (ok && fold.res.stopped) {
      tr_report_note("cross-validation stopped in fold %d; continue it with "
                     "the same command and --continue",
                     fold.fold);
      *stopped = TRUE;
    } else if (ok) {
      pack_fold(all + CV_NV * (size_t)k, &fold);
      if (!c->by_fold && me == 0)
        tr_cv_print_fold(&fold, FALSE);
    }
  }
  if (!ok)
    tr_dist_report_error("cv", *error);
  if (ok && c->by_fold) {
    tr_dist_idle_barrier(); /* a rank with fewer folds sleeps till the last */
    double flag = *stopped;
    tr_dist_sum_doubles(all, CV_NV * (size_t)c->n_hold);
    tr_dist_sum_doubles(&flag, 1);
    *stopped = flag > 0;
  }
  s->folds = g_new0(TrCvFold, c->n_hold + 1);
  for (int k = 0; ok && !*stopped && k < c->n_hold; k++) {
    const double *v = all + CV_NV * (size_t)k;
    if (v[CV_DONE] < 0.5)
      continue;
    TrCvFold *fold = &s->folds[s->n++];
    fold->fold = c->holdout[k];
    fold->clips = tr_dataset_fold_size(c->ds, fold->fold);
    fold->rank = c->by_fold ? k % size : 0;
    unpack_fold(v, fold);
    if (c->by_fold && me == 0)
      tr_cv_print_fold(fold, TRUE);
  }
  tr_cv_summary_finish(s);
  g_free(all);
  return ok;
}

int tr_cmd_cv(int argc, char **argv) {
  Cv c = {0};
  tr_options_init(&c.o);
  TrCvSummary s = {0};
  GError *error = NULL;
  gboolean stopped = FALSE;
  gboolean ok = cv_prepare(&c, argc, argv, &error);
  if (!ok) {
    tr_dist_report_error("cv", error);
    g_clear_error(&error);
  } else if (!cv_compute(&c, &s, &stopped, &error)) {
    g_clear_error(&error); /* reported */
    ok = FALSE;
  }
  int rc = !ok ? 1 : stopped ? 130 : 0;
  if (rc == 0 && tr_dist_rank() == 0) { /* rank 0 writes the summary */
    tr_cv_print_table(&s);
    char *path = g_build_filename(c.o.out_dir, "cv-summary.json", NULL);
    if (tr_cv_write_summary(path, c.ds->root, &s, c.opts, &error)) {
      if (!c.o.quiet)
        printf("summary: %s\n", path);
    } else {
      tr_report_error("cv", error);
      g_clear_error(&error);
      rc = 1;
    }
    g_free(path);
  }
  g_free(s.folds);
  cv_clear(&c);
  return rc;
}
