/* test_train_checks.c - what acrnn-train says before it works: output paths
 * in missing folders are refused before training starts, naming the path. */
#include "synth_dataset.h"
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <string.h>

static const char *train_exe;
static char *tmp, *data, *folds_csv;

/* acrnn-train CMD with the tiny network's options and extra (NULL-ended). */
static char **argv_new(const char *cmd, const char *const *extra) {
  GPtrArray *a = g_ptr_array_new();
  g_ptr_array_add(a, g_strdup(train_exe));
  g_ptr_array_add(a, g_strdup(cmd));
  for (int i = 0; synth_fast_options[i]; i++)
    if (strcmp(cmd, "eval") != 0 ||
        strcmp(synth_fast_options[i], "--quiet") == 0 ||
        strcmp(synth_fast_options[i], "--no-cache") == 0)
      g_ptr_array_add(a, g_strdup(synth_fast_options[i]));
  for (int i = 0; extra[i]; i++)
    g_ptr_array_add(a, g_strdup(extra[i]));
  g_ptr_array_add(a, NULL);
  return (char **)g_ptr_array_free(a, FALSE);
}

/* Runs acrnn-train CMD; returns the status, stderr in *err (g_free). */
static int run(const char *cmd, const char *const *extra, char **out,
               char **err) {
  char **argv = argv_new(cmd, extra);
  int rc = synth_run(argv, out, err);
  g_strfreev(argv);
  return rc;
}

static char *tmp_path(const char *name) {
  return g_build_filename(tmp, name, NULL);
}

/* --out, --checkpoint, --log in a folder that does not exist: an error
 * naming the path at once, and nothing trained or written (the best model
 * would be written after the first epoch). */
static void test_output_folders(void) {
  char *missing = tmp_path("no-such-folder");
  char *model = tmp_path("out-check.safetensors");
  char *in_missing = g_build_filename(missing, "x.safetensors", NULL);
  const char *options[] = {"--out", "--checkpoint", "--log", "--plot"};
  for (size_t i = 0; i < G_N_ELEMENTS(options); i++) {
    const gboolean out = i == 0;
    const char *extra[] = {"--data",
                           data,
                           "--folds-csv",
                           folds_csv,
                           "--val-fold",
                           "3",
                           "--epochs",
                           "2",
                           "--batch-size",
                           "8",
                           "--checkpoint-every",
                           "0",
                           "--out",
                           out ? in_missing : model,
                           out ? NULL : options[i],
                           in_missing,
                           NULL};
    char *err = NULL;
    int rc = run("train", extra, NULL, &err);
    g_test_message("%s: %s", options[i], err);
    g_assert_cmpint(rc, !=, 0);
    char *want = g_strdup_printf("%s %s: the folder %s does not exist",
                                 options[i], in_missing, missing);
    g_assert_nonnull(strstr(err, want));
    g_free(want);
    g_assert_false(g_file_test(model, G_FILE_TEST_EXISTS));
    g_free(err);
  }
  /* --out naming a folder */
  const char *extra[] = {"--data", data, "--folds-csv", folds_csv,
                         "--out",  tmp,  NULL};
  char *err = NULL;
  g_assert_cmpint(run("train", extra, NULL, &err), !=, 0);
  g_assert_nonnull(strstr(err, "is a folder, expected a file name"));
  g_free(err);
  /* eval --report in a missing folder: refused before evaluating */
  const char *eval_extra[] = {
      "--data",   data,       "--model", "/nonexistent-model.safetensors",
      "--report", in_missing, NULL};
  g_assert_cmpint(run("eval", eval_extra, NULL, &err), !=, 0);
  g_assert_nonnull(strstr(err, "--report"));
  g_assert_nonnull(strstr(err, "does not exist"));
  g_free(err);
  g_free(in_missing);
  g_free(model);
  g_free(missing);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  train_exe = synth_train_exe(argc, argv, "test_train_checks");
  if (!train_exe)
    return 1;
  tmp = g_dir_make_tmp("acrnn-train-checks-XXXXXX", NULL);
  g_assert_nonnull(tmp);
  data = g_build_filename(tmp, "data", NULL);
  synth_folder_dataset(data, 6, 3);
  folds_csv = g_build_filename(data, "folds.csv", NULL);
  g_test_add_func("/training/checks/output-folders", test_output_folders);
  int rc = g_test_run();
  if (rc == 0)
    synth_remove_tree(tmp);
  g_free(folds_csv);
  g_free(data);
  g_free(tmp);
  return rc;
}
