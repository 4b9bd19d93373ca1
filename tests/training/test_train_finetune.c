/* test_train_finetune.c - acrnn-train train --init-from MODEL (fine-tuning)
 * on tiny synthetic datasets: with the dataset's labels every weight is
 * taken; with other labels the classifier is new and the rest taken; the
 * fine-tuned model keeps MODEL's feature parameters and normalisation (or
 * the data's with --init-norm data), a contradicting feature option and a
 * file that is no model are clear errors; --freeze-conv leaves every conv
 * and batch norm tensor bit-identical (with --bn-groups 3 too, whose
 * averaging of running statistics could round) and trains the rest; a
 * fine-tuning run stopped and resumed ends as an uninterrupted one; cv
 * fine-tunes every fold. */
#include "train_test_util.h"
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

static const char *data, *folds_csv;
static char *data2, *folds_csv2, *base;

/* Runs acrnn-train CMD on dataset d (folds f) with extra options; the fast
 * feature options unless features is FALSE. */
static int run(const char *cmd, const char *d, const char *f, gboolean features,
               const char *const *extra, char **err) {
  const char *common[] = {"--data",       d,   "--folds-csv", f,
                          "--batch-size", "4", "--seed",      "11",
                          "--no-cache",   NULL};
  char *e = NULL, **perr = err ? err : &e;
  int rc =
      tt_run(cmd, features ? TT_FAST : TT_NO_FAST, common, extra, NULL, perr);
  if (rc != 0 && g_test_verbose())
    g_printerr("acrnn-train %s: exit %d: %s\n", cmd, rc, *perr);
  g_free(e);
  return rc;
}

/* The largest difference between a tensor of a and the same of b. */
static double max_diff(AcrnnNet *a, AcrnnNet *b, const char *name) {
  const AcrnnTensorInfo *ta = acrnn_net_find_tensor(a, name);
  const AcrnnTensorInfo *tb = acrnn_net_find_tensor(b, name);
  g_assert_nonnull(ta);
  g_assert_nonnull(tb);
  g_assert_cmpuint(ta->numel, ==, tb->numel);
  const float *x = acrnn_net_tensor_data(a, ta),
              *y = acrnn_net_tensor_data(b, tb);
  double m = 0;
  for (size_t i = 0; i < ta->numel; i++)
    m = MAX(m, fabs((double)x[i] - y[i]));
  return m;
}

static gboolean is_classifier(const char *name) {
  return g_str_has_prefix(name, "classifier.");
}

static gboolean is_conv(const char *name) {
  return g_str_has_prefix(name, "conv.") || g_str_has_prefix(name, "bn.");
}

/* One epoch at a learning rate too small to move a weight visibly: what
 * the run started from shows through. */
static const char *const still[] = {"--epochs",   "1", "--lr", "1e-9",
                                    "--val-fold", "0", NULL};

static char **with(const char *const *a, const char *const *b) {
  GPtrArray *v = g_ptr_array_new();
  for (int i = 0; a && a[i]; i++)
    g_ptr_array_add(v, (char *)a[i]);
  for (int i = 0; b && b[i]; i++)
    g_ptr_array_add(v, (char *)b[i]);
  g_ptr_array_add(v, NULL);
  return (char **)g_ptr_array_free(v, FALSE);
}

/* Trains with the options of still and opts. */
static int train_still(const char *d, const char *f, gboolean features,
                       const char *const *opts, char **err) {
  char **argv = with(still, opts);
  int rc = run("train", d, f, features, (const char *const *)argv, err);
  g_free(argv);
  return rc;
}

/* The dataset's labels are MODEL's: every weight is taken, classifier
 * included, and MODEL's normalisation. */
static void test_same_labels(void) {
  char *out = tt_path("same.safetensors"),
       *scratch = tt_path("same0.safetensors");
  const char *opts[] = {"--init-from", base, "--out", out, NULL};
  char *err = NULL;
  g_assert_cmpint(train_still(data, folds_csv, TRUE, opts, &err), ==, 0);
  g_assert_nonnull(strstr(err, "tensors taken"));
  g_assert_null(strstr(err, "new:"));
  g_free(err);
  const char *opts0[] = {"--out", scratch, NULL};
  g_assert_cmpint(train_still(data, folds_csv, TRUE, opts0, NULL), ==, 0);
  AcrnnModelInfo ib, io, is;
  AcrnnNet *b = tt_load(base, &ib), *o = tt_load(out, &io),
           *s = tt_load(scratch, &is);
  for (size_t i = 0; i < acrnn_net_n_tensors(b); i++) {
    const AcrnnTensorInfo *t = acrnn_net_tensor(b, i);
    if (t->kind != ACRNN_TENSOR_PARAM)
      continue;
    g_assert_cmpfloat(max_diff(b, o, t->name), <, 1e-5);
    /* the check could fail: a run from scratch is elsewhere (batch norm's
     * beta starts at 0 and may stay near it) */
    if (strstr(t->name, "weight") && !g_str_has_prefix(t->name, "bn."))
      g_assert_cmpfloat(max_diff(b, s, t->name), >, 1e-3);
  }
  g_assert_cmpmem(io.mean, sizeof io.mean, ib.mean, sizeof ib.mean);
  g_assert_cmpmem(io.std, sizeof io.std, ib.std, sizeof ib.std);
  acrnn_net_free(b);
  acrnn_net_free(o);
  acrnn_net_free(s);
  acrnn_model_info_clear(&ib);
  acrnn_model_info_clear(&io);
  acrnn_model_info_clear(&is);
  g_free(out);
  g_free(scratch);
}

/* Other labels (as many, so the shapes fit): the classifier is new, as a
 * run from scratch with the same seed initialises it; the rest is taken.
 * --init-norm data: the training clips' statistics. */
static void test_other_labels(void) {
  char *out = tt_path("other.safetensors"),
       *scratch = tt_path("other0.safetensors");
  /* folds 1 and 2: other clips than base's, other statistics */
  const char *opts[] = {"--init-from", base,         "--init-norm",
                        "data",        "--val-fold", "3",
                        "--out",       out,          NULL};
  char *err = NULL;
  g_assert_cmpint(train_still(data2, folds_csv2, TRUE, opts, &err), ==, 0);
  g_assert_nonnull(strstr(err, "new: classifier.weight, classifier.bias"));
  g_free(err);
  const char *opts0[] = {"--val-fold", "3", "--out", scratch, NULL};
  g_assert_cmpint(train_still(data2, folds_csv2, TRUE, opts0, NULL), ==, 0);
  AcrnnModelInfo ib, io, is;
  AcrnnNet *b = tt_load(base, &ib), *o = tt_load(out, &io),
           *s = tt_load(scratch, &is);
  g_assert_cmpstr(io.labels[0], ==, "clap"); /* alphabetical */
  for (size_t i = 0; i < acrnn_net_n_tensors(b); i++) {
    const AcrnnTensorInfo *t = acrnn_net_tensor(b, i);
    if (t->kind != ACRNN_TENSOR_PARAM)
      continue;
    if (is_classifier(t->name)) {
      g_assert_cmpfloat(max_diff(s, o, t->name), <, 1e-5);
      if (strstr(t->name, "weight"))
        g_assert_cmpfloat(max_diff(b, o, t->name), >, 1e-3);
    } else {
      g_assert_cmpfloat(max_diff(b, o, t->name), <, 1e-5);
    }
  }
  /* the data's statistics, those of the run from scratch */
  g_assert_cmpmem(io.mean, sizeof io.mean, is.mean, sizeof is.mean);
  g_assert_true(memcmp(io.mean, ib.mean, sizeof io.mean) != 0);
  acrnn_net_free(b);
  acrnn_net_free(o);
  acrnn_net_free(s);
  acrnn_model_info_clear(&ib);
  acrnn_model_info_clear(&io);
  acrnn_model_info_clear(&is);
  g_free(out);
  g_free(scratch);
}

/* Every conv and batch norm tensor of out is base's bit for bit, running
 * statistics included; every other tensor moved. */
static void assert_frozen(const char *out) {
  AcrnnModelInfo ib, io;
  AcrnnNet *b = tt_load(base, &ib), *o = tt_load(out, &io);
  int frozen = 0, trained = 0;
  for (size_t i = 0; i < acrnn_net_n_tensors(b); i++) {
    const AcrnnTensorInfo *t = acrnn_net_tensor(b, i);
    double d = max_diff(b, o, t->name);
    if (is_conv(t->name)) {
      g_assert_cmpfloat(d, ==, 0.0);
      frozen++;
    } else if (!g_str_has_suffix(t->name, "bias") || is_classifier(t->name)) {
      if (d == 0.0)
        g_printerr("%s did not change\n", t->name);
      g_assert_cmpfloat(d, >, 0.0);
      trained++;
    }
  }
  g_assert_cmpint(frozen, ==, 8 * 6);
  g_assert_cmpint(trained, >=, 10);
  acrnn_net_free(b);
  acrnn_net_free(o);
  acrnn_model_info_clear(&ib);
  acrnn_model_info_clear(&io);
}

static void test_freeze(void) {
  char *out = tt_path("frozen.safetensors"),
       *out3 = tt_path("frozen3.safetensors");
  const char *opts[] = {"--init-from", base, "--freeze-conv", "--epochs", "2",
                        "--val-fold",  "0",  "--out",         out,        NULL};
  g_assert_cmpint(run("train", data2, folds_csv2, TRUE, opts, NULL), ==, 0);
  assert_frozen(out);
  /* three shards a batch: the mean of three equal running statistics is
   * not always the same float */
  const char *opts3[] = {
      "--init-from", base, "--freeze-conv", "--epochs", "2", "--bn-groups", "3",
      "--val-fold",  "0",  "--out",         out3,       NULL};
  g_assert_cmpint(run("train", data2, folds_csv2, TRUE, opts3, NULL), ==, 0);
  assert_frozen(out3);
  g_free(out);
  g_free(out3);
}

/* Without feature options the fine-tuned model computes MODEL's features
 * (8 kHz, 32 bands, ...; not the defaults); a feature option that
 * contradicts MODEL is refused, naming both. */
static void test_features(void) {
  char *out = tt_path("features.safetensors"), *err = NULL;
  const char *opts[] = {"--init-from", base, "--out", out, NULL};
  g_assert_cmpint(train_still(data2, folds_csv2, FALSE, opts, NULL), ==, 0);
  AcrnnModelInfo ib, io;
  AcrnnNet *b = tt_load(base, &ib), *o = tt_load(out, &io);
  g_assert_cmpint(io.features.sample_rate, ==, 8000);
  g_assert_cmpint(io.features.bands, ==, 32);
  g_assert_cmpmem(&io.features, sizeof io.features, &ib.features,
                  sizeof ib.features);
  g_assert_cmpint(io.segment_frames, ==, ib.segment_frames);
  g_assert_cmpint(io.segment_hop, ==, ib.segment_hop);
  acrnn_net_free(b);
  acrnn_net_free(o);
  acrnn_model_info_clear(&ib);
  acrnn_model_info_clear(&io);
  const char *bad[] = {"--init-from", base, "--bands", "64",
                       "--out",       out,  NULL};
  g_assert_cmpint(train_still(data2, folds_csv2, FALSE, bad, &err), ==, 1);
  g_assert_nonnull(strstr(err, "--init-from"));
  g_assert_nonnull(strstr(err, base));
  g_assert_nonnull(strstr(err, "--bands 64 (the model's: 32)"));
  g_free(err);
  g_free(out);
}

/* A file that is no model, a missing one, a bad --init-norm: one error
 * line naming the file and the problem, exit status 1, no model. */
static void test_bad_input(void) {
  char *text = tt_path("notes.txt"), *missing = tt_path("missing.safetensors");
  char *out = tt_path("bad.safetensors");
  g_assert_true(g_file_set_contents(text, "not a model\n", -1, NULL));
  const char *const files[] = {text, missing};
  for (int i = 0; i < 2; i++) {
    char *err = NULL;
    const char *opts[] = {"--init-from", files[i], "--out", out, NULL};
    g_assert_cmpint(train_still(data, folds_csv, TRUE, opts, &err), ==, 1);
    g_assert_nonnull(strstr(err, "--init-from"));
    g_assert_nonnull(strstr(err, files[i]));
    g_free(err);
  }
  char *err = NULL;
  const char *norm[] = {"--init-from", base, "--init-norm", "both",
                        "--out",       out,  NULL};
  g_assert_cmpint(train_still(data, folds_csv, TRUE, norm, &err), ==, 1);
  g_assert_nonnull(strstr(err, "--init-norm both: expected model or data"));
  g_free(err);
  g_assert_false(g_file_test(out, G_FILE_TEST_EXISTS));
  g_free(text);
  g_free(missing);
  g_free(out);
}

/* Stopped mid-run and resumed (the checkpoint holds the options, so
 * --resume alone continues the fine-tuning): the weights of an
 * uninterrupted run, and still frozen. */
static void test_resume(void) {
  char *a = tt_path("ra.safetensors"), *b = tt_path("rb.safetensors");
  char *ckpt = tt_path("rb.ckpt.safetensors");
  const char *opts_a[] = {
      "--init-from", base, "--freeze-conv", "--epochs", "2",
      "--val-fold",  "0",  "--out",         a,          NULL};
  g_assert_cmpint(run("train", data2, folds_csv2, TRUE, opts_a, NULL), ==, 0);
  const char *opts_b[] = {
      "--init-from", base, "--freeze-conv", "--epochs", "2",
      "--val-fold",  "0",  "--out",         b,          "--stop-after-steps",
      "2",           NULL};
  g_assert_cmpint(run("train", data2, folds_csv2, TRUE, opts_b, NULL), ==, 0);
  g_assert_true(g_file_test(ckpt, G_FILE_TEST_EXISTS));
  const char *resume[] = {"--resume", ckpt, "--out", b, NULL};
  g_assert_cmpint(run("train", data2, folds_csv2, TRUE, resume, NULL), ==, 0);
  g_assert_true(tt_same_weights(a, b));
  assert_frozen(b);
  g_free(a);
  g_free(b);
  g_free(ckpt);
}

/* cv fine-tunes each fold from MODEL. */
static void test_cv(void) {
  char *dir = tt_path("cv");
  const char *opts[] = {"--init-from", base, "--freeze-conv", "--epochs", "1",
                        "--folds",     "2",  "--out-dir",     dir,        NULL};
  g_assert_cmpint(run("cv", data2, folds_csv2, TRUE, opts, NULL), ==, 0);
  char *model = g_build_filename(dir, "fold-2.safetensors", NULL);
  assert_frozen(model);
  g_free(model);
  g_free(dir);
}

/* data with the class "click" renamed "clap": the same number of classes,
 * other labels. */
static void make_renamed(void) {
  data2 = tt_path("data2");
  synth_folder_dataset(data2, 3, 3);
  char *from = g_build_filename(data2, "click", NULL);
  char *to = g_build_filename(data2, "clap", NULL);
  g_assert_cmpint(g_rename(from, to), ==, 0);
  folds_csv2 = g_build_filename(data2, "folds.csv", NULL);
  tt_file_replace(folds_csv2, "click/", "clap/");
  g_free(from);
  g_free(to);
}

int main(int argc, char **argv) {
  if (!tt_init(&argc, &argv, "test_train_finetune"))
    return 1;
  data = tt_folder_dataset("data", 3, 3, &folds_csv);
  make_renamed();
  /* the model to start from: 2 epochs on every clip of data, from another
   * seed than the runs (whose initial weights are then not base's) */
  base = tt_path("base.safetensors");
  const char *opts[] = {"--epochs", "2",     "--val-fold", "0", "--seed",
                        "5",        "--out", base,         NULL};
  if (run("train", data, folds_csv, TRUE, opts, NULL) != 0) {
    g_printerr("could not train the model to start from\n");
    return 1;
  }
  g_test_add_func("/training/finetune/same-labels", test_same_labels);
  g_test_add_func("/training/finetune/other-labels", test_other_labels);
  g_test_add_func("/training/finetune/freeze-conv", test_freeze);
  g_test_add_func("/training/finetune/features", test_features);
  g_test_add_func("/training/finetune/bad-input", test_bad_input);
  g_test_add_func("/training/finetune/resume", test_resume);
  g_test_add_func("/training/finetune/cv", test_cv);
  int rc = tt_run_tests();
  g_free(base);
  g_free(folds_csv2);
  g_free(data2);
  return rc;
}
