/* cmd_cv.c - "acrnn-train cv": k-fold cross-validation, one model per
 * held-out fold, with the per-fold and mean accuracy (+- std over folds)
 * as the paper's tables report it. */
#include "commands.h"
#include "dataset.h"
#include "dist.h"
#include "fingerprint.h"
#include "options.h"
#include "output_path.h"
#include "reporter.h"
#include "trainer.h"
#include <acrnn/acrnn.h>
#include <errno.h>
#include <json-glib/json-glib.h>
#include <math.h>
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

static gboolean write_result(const char *path, int fold, const TrRunResult *res,
                             const char *opts, GError **error) {
  JsonBuilder *b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "fold");
  json_builder_add_int_value(b, fold);
  json_builder_set_member_name(b, "accuracy");
  json_builder_add_double_value(b, res->last_val_acc);
  json_builder_set_member_name(b, "best_accuracy");
  json_builder_add_double_value(b, res->best_val_acc);
  json_builder_set_member_name(b, "best_epoch");
  json_builder_add_int_value(b, res->best_epoch);
  json_builder_set_member_name(b, "epochs");
  json_builder_add_int_value(b, res->epochs_done);
  json_builder_set_member_name(b, "time_s");
  json_builder_add_double_value(b, res->total_s);
  json_builder_set_member_name(b, "options");
  json_builder_add_value(b, json_from_string(opts, NULL));
  json_builder_end_object(b);
  JsonNode *root = json_builder_get_root(b);
  char *text = json_to_string(root, TRUE);
  gboolean ok = g_file_set_contents(path, text, -1, error); /* atomic */
  g_free(text);
  json_node_unref(root);
  g_object_unref(b);
  return ok;
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
static gboolean read_result(const char *path, const char *opts,
                            TrRunResult *res, GError **error) {
  if (!g_file_test(path, G_FILE_TEST_EXISTS))
    return FALSE;
  JsonParser *p = json_parser_new();
  gboolean ok = json_parser_load_from_file(p, path, error);
  JsonObject *o = NULL;
  if (ok) {
    JsonNode *root = json_parser_get_root(p);
    o = root && JSON_NODE_HOLDS_OBJECT(root) ? json_node_get_object(root)
                                             : NULL;
    ok = o && json_object_has_member(o, "accuracy") &&
         json_object_has_member(o, "best_accuracy") &&
         json_object_has_member(o, "best_epoch") &&
         json_object_has_member(o, "options");
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
  if (ok) {
    memset(res, 0, sizeof *res);
    res->last_val_acc = json_object_get_double_member(o, "accuracy");
    res->best_val_acc = json_object_get_double_member(o, "best_accuracy");
    res->best_epoch = (int)json_object_get_int_member(o, "best_epoch");
    res->total_s = json_object_get_double_member_with_default(o, "time_s", 0);
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
  char *theirs = acrnn_model_read_meta(ckpt, "acrnn-train.options", error);
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

static void mean_std(const double *v, int n, double *mean, double *std) {
  double s = 0, q = 0;
  for (int i = 0; i < n; i++)
    s += v[i];
  *mean = n ? s / n : 0;
  for (int i = 0; i < n; i++)
    q += (v[i] - *mean) * (v[i] - *mean);
  *std = n > 1 ? sqrt(q / (n - 1)) : 0;
}

int tr_cmd_cv(int argc, char **argv) {
  TrOptions o;
  tr_options_init(&o);
  GError *error = NULL;
  int rc = 1;
  TrDataset *ds = NULL;
  int *holdout = NULL, n_hold = 0;
  gboolean ok = tr_options_parse(&o, TR_CMD_CV, summary, &argc, &argv, &error);
  if (ok && !o.out_dir) {
    g_set_error(&error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                "no output directory: give --out-dir DIR");
    ok = FALSE;
  }
  if (ok && g_strcmp0(o.parallel, "batch") && g_strcmp0(o.parallel, "folds")) {
    g_set_error(&error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                "--parallel %s: expected batch or folds", o.parallel);
    ok = FALSE;
  }
  if (ok)
    ok = (ds = tr_dataset_load(&o, &error)) != NULL;
  if (ok && tr_dist_rank() == 0)
    tr_dataset_print_warnings(ds);
  if (ok)
    ok = tr_check_same_run(&o, ds, &error);
  if (ok)
    ok = (holdout = tr_training_folds(ds, o.folds, 0, &n_hold, &error)) != NULL;
  if (ok && n_hold < 2 && ds->n_folds < 2) {
    g_set_error(&error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                "%s has only one fold: cross-validation needs at least two "
                "(use --split-by-source K or --random-folds K)",
                ds->root);
    ok = FALSE;
  }
  if (ok && tr_dist_rank() == 0 && g_mkdir_with_parents(o.out_dir, 0755) != 0) {
    g_set_error(&error, G_FILE_ERROR, g_file_error_from_errno(errno),
                "--out-dir %s: cannot create the directory: %s", o.out_dir,
                g_strerror(errno));
    ok = FALSE;
  }
  if (ok && tr_dist_rank() == 0) { /* an existing folder may be read-only */
    char *summary_path = g_build_filename(o.out_dir, "cv-summary.json", NULL);
    ok = tr_output_path_check("--out-dir", summary_path, &error);
    g_free(summary_path);
  }
  /* --parallel folds under MPI: fold k on rank k mod N, trained alone */
  gboolean by_fold = tr_dist_size() > 1 && g_strcmp0(o.parallel, "folds") == 0;
  int me = tr_dist_rank();
  TrOptions ro = o;
  ro.local_run = by_fold;
  if (ok && tr_dist_size() > 1)
    tr_dist_barrier(); /* out_dir exists */
  /* per held-out fold: last, best, best epoch, time, done; summed over
   * ranks */
  enum { NV = 5 };
  double *res_all = g_new0(double, NV *(size_t)(n_hold + 1));
  /* the options each fold is trained with, as its checkpoint stores them */
  char *opts = tr_options_to_json(&ro);
  gboolean stopped = FALSE;
  if (ok)
    tr_interrupt_install();
  for (int k = 0; ok && !stopped && k < n_hold; k++) {
    if (by_fold && k % tr_dist_size() != me)
      continue;
    int f = holdout[k], n_train = 0;
    int *train = g_new0(int, ds->n_folds + 1);
    for (int g = 1; g <= ds->n_folds; g++)
      if (g != f && tr_dataset_fold_size(ds, g) > 0)
        train[n_train++] = g;
    char *name = g_strdup_printf("fold-%d.safetensors", f);
    char *out = g_build_filename(o.out_dir, name, NULL);
    g_free(name);
    TrRunPaths paths;
    TrOptions fo = o; /* per-fold paths derive from out */
    fo.log = fo.plot = fo.checkpoint = NULL;
    tr_run_paths_init(&paths, out, &fo);
    TrRunResult res;
    char *rpath = result_path(o.out_dir, f);
    gboolean have = FALSE;
    const char *resume = NULL;
    if (o.cont) {
      have = read_result(rpath, opts, &res, &error);
      ok = have || !error;
      if (ok && !have)
        ok = stopped_fold(paths.checkpoint, opts, &resume, &error);
    }
    if (ok && have) /* even with --quiet: nothing was trained */
      tr_report_note("fold %d: finished before, result from %s", f, rpath);
    if (ok && resume) /* even with --quiet, as the above */
      tr_report_note("fold %d: resuming from %s", f, resume);
    if (ok && !have && !o.quiet)
      tr_report_note("fold %d: training on %d folds, %zu clips held out", f,
                     n_train, tr_dataset_fold_size(ds, f));
    if (ok && !have)
      ok = tr_train_run(&ro, ds, train, n_train, f, &paths, resume, &res,
                        &error);
    if (ok && !have && !res.stopped && (by_fold || me == 0))
      ok = write_result(rpath, f, &res, opts, &error);
    g_free(rpath);
    if (ok && res.stopped) {
      tr_report_note("cross-validation stopped in fold %d; continue it with "
                     "the same command and --continue",
                     f);
      stopped = TRUE;
    } else if (ok) {
      double *v = res_all + NV * (size_t)k;
      v[0] = res.last_val_acc;
      v[1] = res.best_val_acc;
      v[2] = res.best_epoch;
      v[3] = res.total_s;
      v[4] = 1;
      if (!by_fold && me == 0) {
        printf("fold %d: accuracy %.4f (best epoch %d: %.4f)\n", f,
               res.last_val_acc, res.best_epoch, res.best_val_acc);
        fflush(stdout);
      }
    }
    tr_run_paths_clear(&paths);
    g_free(out);
    g_free(train);
  }
  /* a failing rank has ended the job (tr_dist_report_error) */
  if (!ok) {
    tr_dist_report_error("cv", error);
    g_clear_error(&error);
  }
  double *last = g_new0(double, n_hold + 1), *best = g_new0(double, n_hold + 1);
  int *best_ep = g_new0(int, n_hold + 1), *fold_of = g_new0(int, n_hold + 1);
  double *secs = g_new0(double, n_hold + 1);
  int done = 0;
  if (ok && by_fold) {
    tr_dist_idle_barrier(); /* a rank with fewer folds sleeps till the last */
    double flag = stopped;
    tr_dist_sum_doubles(res_all, NV * (size_t)n_hold);
    tr_dist_sum_doubles(&flag, 1);
    stopped = flag > 0;
  }
  if (ok && stopped) {
    rc = 130;
    ok = FALSE;
  }
  for (int k = 0; ok && k < n_hold; k++) {
    const double *v = res_all + NV * (size_t)k;
    if (v[4] < 0.5)
      continue;
    last[done] = v[0];
    best[done] = v[1];
    best_ep[done] = (int)v[2];
    secs[done] = v[3];
    fold_of[done] = holdout[k];
    done++;
    if (by_fold && me == 0)
      printf("fold %d: accuracy %.4f (best epoch %d: %.4f; rank %d)\n",
             holdout[k], v[0], (int)v[2], v[1], k % tr_dist_size());
  }
  if (ok && me != 0) {
    rc = 0;
    ok = FALSE; /* rank 0 writes the table and the summary */
  }
  if (ok) {
    double m, s, bm, bsd;
    mean_std(last, done, &m, &s);
    mean_std(best, done, &bm, &bsd);
    printf("\n%-8s %-8s %-10s %-10s\n", "fold", "clips", "accuracy",
           "best-epoch");
    for (int k = 0; k < done; k++)
      printf("%-8d %-8zu %-10.4f %-10.4f\n", fold_of[k],
             tr_dataset_fold_size(ds, fold_of[k]), last[k], best[k]);
    printf("mean     %-8s %.4f +- %.4f (best-epoch %.4f +- %.4f; std over "
           "%d folds)\n",
           "", m, s, bm, bsd, done);
    JsonBuilder *b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "dataset");
    json_builder_add_string_value(b, ds->root);
    json_builder_set_member_name(b, "folds");
    json_builder_begin_array(b);
    for (int k = 0; k < done; k++) {
      json_builder_begin_object(b);
      json_builder_set_member_name(b, "fold");
      json_builder_add_int_value(b, fold_of[k]);
      json_builder_set_member_name(b, "clips");
      json_builder_add_int_value(b,
                                 (gint64)tr_dataset_fold_size(ds, fold_of[k]));
      json_builder_set_member_name(b, "accuracy");
      json_builder_add_double_value(b, last[k]);
      json_builder_set_member_name(b, "best_accuracy");
      json_builder_add_double_value(b, best[k]);
      json_builder_set_member_name(b, "best_epoch");
      json_builder_add_int_value(b, best_ep[k]);
      json_builder_set_member_name(b, "time_s");
      json_builder_add_double_value(b, secs[k]);
      json_builder_end_object(b);
    }
    json_builder_end_array(b);
    json_builder_set_member_name(b, "mean_accuracy");
    json_builder_add_double_value(b, m);
    json_builder_set_member_name(b, "std_accuracy");
    json_builder_add_double_value(b, s);
    json_builder_set_member_name(b, "mean_best_accuracy");
    json_builder_add_double_value(b, bm);
    json_builder_set_member_name(b, "std_best_accuracy");
    json_builder_add_double_value(b, bsd);
    double total = 0;
    for (int k = 0; k < done; k++)
      total += secs[k];
    json_builder_set_member_name(b, "time_s"); /* training, all folds */
    json_builder_add_double_value(b, total);
    json_builder_set_member_name(b, "options");
    json_builder_add_value(b, json_from_string(opts, NULL));
    json_builder_end_object(b);
    JsonNode *root = json_builder_get_root(b);
    char *text = json_to_string(root, TRUE);
    char *path = g_build_filename(o.out_dir, "cv-summary.json", NULL);
    ok = g_file_set_contents(path, text, -1, &error);
    if (ok && !o.quiet)
      printf("summary: %s\n", path);
    g_free(path);
    g_free(text);
    json_node_unref(root);
    g_object_unref(b);
    if (ok)
      rc = 0;
  }
  if (!ok && error) {
    tr_report_error("cv", error);
    g_clear_error(&error);
  }
  g_free(res_all);
  g_free(opts);
  g_free(fold_of);
  g_free(last);
  g_free(best);
  g_free(best_ep);
  g_free(secs);
  g_free(holdout);
  tr_dataset_free(ds);
  tr_options_clear(&o);
  return rc;
}
