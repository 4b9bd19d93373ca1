/* test_train_esc50.c - acrnn-train on a synthetic ESC-50 layout: the ESC-10
 * subset, the feature cache (hits, and a changed file noticed), folds split
 * by source recording, and a 2-fold cross-validation. */
#include "dataset.h"
#include "train_test_util.h"
#include <string.h>
#include <utime.h>

static const char *data;

/* Runs acrnn-train features with the fast options (the cache on) and
 * extra; returns its stdout (g_free). */
static char *features(const char *const *extra) {
  char *out = NULL;
  g_assert_cmpint(tt_run("features", TT_FAST_CACHED, extra, NULL, &out, NULL),
                  ==, 0);
  return out;
}

static void test_cache(void) {
  char *cache = tt_path("cache");
  const char *extra[] = {"--data", data, "--esc10", "--cache", cache, NULL};
  char *out = features(extra);
  /* ESC-10 rows: classes 0 and 2, 4 clips each */
  g_assert_nonnull(strstr(out, "8 clips"));
  g_assert_nonnull(strstr(out, "0 from the cache, 8 computed"));
  g_free(out);
  out = features(extra);
  g_assert_nonnull(strstr(out, "8 from the cache, 0 computed"));
  g_free(out);
  /* a file changes: its entry is computed again */
  char *csv = g_build_filename(data, "meta", "esc50.csv", NULL);
  char *text = NULL;
  g_assert_true(g_file_get_contents(csv, &text, NULL, NULL));
  char **lines = g_strsplit(text, "\n", -1);
  char **fields = g_strsplit(lines[1], ",", -1);
  char *audio = g_build_filename(data, "audio", fields[0], NULL);
  struct utimbuf t = {1000000000, 1000000000};
  g_assert_cmpint(utime(audio, &t), ==, 0);
  out = features(extra);
  g_assert_nonnull(strstr(out, "7 from the cache, 1 computed"));
  g_free(out);
  /* other feature parameters: computed again */
  const char *extra2[] = {"--data", data,     "--esc10", "--cache",
                          cache,    "--fmin", "60",      NULL};
  out = features(extra2);
  g_assert_nonnull(strstr(out, "0 from the cache, 8 computed"));
  g_free(out);
  /* another filterbank: computed again, then cached beside the gammatone
   * entries, which still hit */
  const char *extra3[] = {"--data", data,           "--esc10", "--cache",
                          cache,    "--filterbank", "mel",     NULL};
  out = features(extra3);
  g_assert_nonnull(strstr(out, "0 from the cache, 8 computed"));
  g_free(out);
  out = features(extra3);
  g_assert_nonnull(strstr(out, "8 from the cache, 0 computed"));
  g_free(out);
  out = features(extra2);
  g_assert_nonnull(strstr(out, "8 from the cache, 0 computed"));
  g_free(out);
  g_free(audio);
  g_strfreev(fields);
  g_strfreev(lines);
  g_free(text);
  g_free(csv);
  g_free(cache);
}

static void test_split_by_source(void) {
  TrDatasetConfig o = {.data = data, .split_by_source = 2, .seed = 5};
  GError *error = NULL;
  TrDataset *ds = tr_dataset_load(&o, &error);
  g_assert_no_error(error);
  g_assert_cmpint(ds->n_labels, ==, 3);
  g_assert_cmpuint(ds->n_clips, ==, 12);
  g_assert_cmpint(ds->n_folds, ==, 2);
  g_assert_cmpstr(ds->labels[1], ==, "noise");
  for (size_t i = 0; i < ds->n_clips; i++)
    for (size_t j = 0; j < ds->n_clips; j++)
      if (strcmp(ds->clips[i].source, ds->clips[j].source) == 0)
        g_assert_cmpint(ds->clips[i].fold, ==, ds->clips[j].fold);
  for (int c = 0; c < 3; c++) {
    int per_fold[3] = {0, 0, 0};
    for (size_t i = 0; i < ds->n_clips; i++)
      if (ds->clips[i].label == c)
        per_fold[ds->clips[i].fold]++;
    g_assert_cmpint(per_fold[1], ==, 2); /* stratified: 2 + 2 */
    g_assert_cmpint(per_fold[2], ==, 2);
  }
  tr_dataset_free(ds);
  /* ESC-10: classes 0 and 2 only, as ids 0 and 1 */
  o.esc10 = TRUE;
  ds = tr_dataset_load(&o, &error);
  g_assert_no_error(error);
  g_assert_cmpint(ds->n_labels, ==, 2);
  g_assert_cmpstr(ds->labels[0], ==, "tone");
  g_assert_cmpstr(ds->labels[1], ==, "click");
  tr_dataset_free(ds);
}

/* The folds come out the same size overall, not only per class: 10
 * classes of 3 single-clip sources into 2 folds give 15 + 15 (filling the
 * low fold first in every class would give 20 + 10), and sources of
 * several clips go first, so that 2 + 1 + 1 + 1 + 1 clips of a class into
 * 2 folds give 3 + 3. */
static void test_split_balanced(void) {
  enum { N = 36 };
  TrClip clips[N];
  char *src[N];
  for (int i = 0; i < 30; i++) {
    src[i] = g_strdup_printf("s%d", i);
    clips[i] = (TrClip){.label = i / 3, .source = src[i]};
  }
  for (int i = 30; i < N; i++) { /* class 10: sources a, a, b, c, d, e */
    src[i] = g_strdup_printf("%c", i == 30 ? 'a' : 'a' + i - 31);
    clips[i] = (TrClip){.label = 10, .source = src[i]};
  }
  for (guint64 seed = 1; seed <= 20; seed++) {
    tr_assign_folds(clips, N, 11, 2, seed, TRUE);
    int total[3] = {0, 0, 0}, c10[3] = {0, 0, 0};
    for (int i = 0; i < N; i++) {
      g_assert_cmpint(clips[i].fold, >=, 1);
      g_assert_cmpint(clips[i].fold, <=, 2);
      if (i < 30)
        total[clips[i].fold]++;
      else
        c10[clips[i].fold]++;
    }
    g_assert_cmpint(total[1], ==, 15);
    g_assert_cmpint(c10[1], ==, 3);
    g_assert_cmpint(clips[30].fold, ==, clips[31].fold); /* one source */
  }
  for (int i = 0; i < N; i++)
    g_free(src[i]);
}

/* A fold's figures are written once: DIR/fold-N.result.json holds the
 * members of the summary's entry for fold N, with the same values. */
static void check_fold_result(const char *dir, JsonObject *entry, int f) {
  char *name = g_strdup_printf("fold-%d.result.json", f);
  char *path = g_build_filename(dir, name, NULL);
  JsonObject *r = tt_json_file(path);
  g_assert_nonnull(r);
  const char *members[] = {"fold",       "clips",  "accuracy", "best_accuracy",
                           "best_epoch", "epochs", "time_s"};
  for (size_t i = 0; i < G_N_ELEMENTS(members); i++) {
    g_assert_true(json_object_has_member(entry, members[i]));
    g_assert_true(json_object_has_member(r, members[i]));
    g_assert_true(json_node_equal(json_object_get_member(entry, members[i]),
                                  json_object_get_member(r, members[i])));
  }
  g_assert_cmpint(json_object_get_int_member(r, "fold"), ==, f);
  g_assert_cmpint(json_object_get_int_member(r, "epochs"), ==, 2);
  g_assert_true(json_object_has_member(r, "options"));
  json_object_unref(r);
  g_free(path);
  g_free(name);
}

/* Runs cv on the tiny dataset into dir with the extra arguments; returns
 * the exit status, stdout and stderr. */
static int run_cv(const char *dir, const char *const *more, char **out,
                  char **err) {
  const char *base[] = {"--data",     data, "--out-dir",    dir,
                        "--epochs",   "2",  "--batch-size", "8",
                        "--no-cache", NULL};
  return tt_run("cv", TT_FAST_CACHED, base, more, out, err);
}

static void test_cv(void) {
  char *dir = tt_path("cv");
  char *out = NULL, *err = NULL;
  int rc = run_cv(dir, NULL, &out, &err);
  if (rc != 0)
    g_printerr("cv failed: %s\n%s\n", out, err);
  g_assert_cmpint(rc, ==, 0);
  g_assert_nonnull(strstr(out, "fold 1: accuracy"));
  g_assert_nonnull(strstr(out, "fold 2: accuracy"));
  g_assert_nonnull(strstr(out, "+-"));
  char *summary = g_build_filename(dir, "cv-summary.json", NULL);
  JsonObject *o = tt_json_file(summary);
  g_assert_nonnull(o);
  JsonArray *folds = json_object_get_array_member(o, "folds");
  g_assert_cmpuint(json_array_get_length(folds), ==, 2);
  g_assert_cmpfloat(json_object_get_double_member(o, "time_s"), >, 0.0);
  double m = json_object_get_double_member(o, "mean_accuracy");
  g_assert_cmpfloat(m, >=, 0.0);
  g_assert_cmpfloat(m, <=, 1.0);
  for (int f = 1; f <= 2; f++) {
    char *name = g_strdup_printf("fold-%d.safetensors", f);
    char *path = g_build_filename(dir, name, NULL);
    g_assert_true(g_file_test(path, G_FILE_TEST_EXISTS));
    g_free(path);
    g_free(name);
    check_fold_result(dir, json_array_get_object_element(folds, f - 1), f);
  }
  json_object_unref(o);
  g_free(summary);
  g_free(out);
  g_free(err);
  g_free(dir);
}

static GBytes *file_bytes(const char *dir, const char *name) {
  char *path = g_build_filename(dir, name, NULL);
  GBytes *b = tt_file_bytes(path);
  g_free(path);
  return b;
}

/* A cross-validation stopped in its first fold and continued with
 * --continue ends with the same models and table as one run straight
 * through; continuing a finished one reads every fold back; continuing
 * with other options is refused, naming the option. */
static void test_cv_continue(void) {
  char *whole = tt_path("cv-whole");
  char *parts = tt_path("cv-parts");
  char *out, *err, *out2, *err2;
  g_assert_cmpint(run_cv(whole, NULL, &out, &err), ==, 0);

  const char *stop[] = {"--stop-after-epochs", "1", NULL};
  g_assert_cmpint(run_cv(parts, stop, &out2, &err2), ==, 130);
  g_assert_nonnull(strstr(err2, "--continue"));
  g_free(out2), g_free(err2);

  const char *cont[] = {"--continue", NULL};
  g_assert_cmpint(run_cv(parts, cont, &out2, &err2), ==, 0);
  g_assert_nonnull(strstr(err2, "fold 1: resuming from"));
  g_assert_null(strstr(err2, "fold 2: resuming"));
  g_assert_cmpstr(out2, ==, out); /* the table */
  for (int f = 1; f <= 2; f++) {
    char *name = g_strdup_printf("fold-%d.safetensors", f);
    GBytes *a = file_bytes(whole, name), *b = file_bytes(parts, name);
    g_assert_true(g_bytes_equal(a, b));
    g_bytes_unref(a), g_bytes_unref(b), g_free(name);
  }
  g_free(out2), g_free(err2);

  g_assert_cmpint(run_cv(parts, cont, &out2, &err2), ==, 0);
  g_assert_cmpstr(out2, ==, out);
  g_assert_nonnull(strstr(err2, "fold 1: finished before"));
  g_assert_nonnull(strstr(err2, "fold 2: finished before"));
  g_free(out2), g_free(err2);

  const char *other[] = {"--continue", "--lr", "0.05", NULL};
  g_assert_cmpint(run_cv(parts, other, &out2, &err2), !=, 0);
  g_assert_nonnull(strstr(err2, "--lr differs"));
  g_free(out2), g_free(err2);

  /* a result written before an option existed: the option's default
   * matches it, another value does not */
  char *result = g_build_filename(parts, "fold-2.result.json", NULL);
  JsonParser *p = json_parser_new();
  g_assert_true(json_parser_load_from_file(p, result, NULL));
  JsonObject *opts = json_object_get_object_member(
      json_node_get_object(json_parser_get_root(p)), "options");
  g_assert_true(json_object_has_member(opts, "filterbank"));
  json_object_remove_member(opts, "filterbank");
  char *text = json_to_string(json_parser_get_root(p), TRUE);
  g_assert_true(g_file_set_contents(result, text, -1, NULL));
  g_assert_cmpint(run_cv(parts, cont, &out2, &err2), ==, 0);
  g_assert_cmpstr(out2, ==, out);
  g_free(out2), g_free(err2);
  const char *mel[] = {"--continue", "--filterbank", "mel", NULL};
  g_assert_cmpint(run_cv(parts, mel, &out2, &err2), !=, 0);
  g_assert_nonnull(strstr(err2, "--filterbank differs"));
  g_free(out2), g_free(err2);
  g_free(text);
  g_object_unref(p);
  g_free(result);

  g_free(out), g_free(err);
  g_free(whole), g_free(parts);
}

/* Fold k of cv is the run of train --val-fold k: the same last model, byte
 * for byte (so a cv's fold can stand for a model trained on its own). */
static void test_cv_fold_is_train(void) {
  char *dir = tt_path("cv-fold2");
  char *out = NULL, *err = NULL;
  const char *fold[] = {"--folds", "2", NULL};
  g_assert_cmpint(run_cv(dir, fold, &out, &err), ==, 0);
  g_free(out), g_free(err);
  char *model = g_build_filename(dir, "alone.safetensors", NULL);
  const char *extra[] = {
      "--data",     data,         "--epochs", "2",     "--batch-size", "8",
      "--no-cache", "--val-fold", "2",        "--out", model,          NULL};
  g_assert_cmpint(tt_run("train", TT_FAST_CACHED, extra, NULL, &out, &err), ==,
                  0);
  GBytes *a = file_bytes(dir, "fold-2.last.safetensors");
  GBytes *b = file_bytes(dir, "alone.last.safetensors");
  g_assert_true(g_bytes_equal(a, b));
  g_bytes_unref(a), g_bytes_unref(b);
  g_free(out), g_free(err), g_free(model), g_free(dir);
}

int main(int argc, char **argv) {
  if (!tt_init(&argc, &argv, "test_train_esc50"))
    return 1;
  data = tt_esc50_dataset("esc", 4, 2);
  g_test_add_func("/training/esc50/cache", test_cache);
  g_test_add_func("/training/esc50/split-by-source", test_split_by_source);
  g_test_add_func("/training/esc50/split-balanced", test_split_balanced);
  g_test_add_func("/training/esc50/cv", test_cv);
  g_test_add_func("/training/esc50/cv-continue", test_cv_continue);
  g_test_add_func("/training/esc50/cv-fold-is-train", test_cv_fold_is_train);
  return tt_run_tests();
}
