/* test_train_augment.c - acrnn-train's time stretch and pitch shift,
 * offline and online: the same seed gives the same model, and the stretch
 * range reaches the augmentation (another --stretch-min, another model).
 * One run, not one per vector level: five short trainings. */
#include "synth_dataset.h"
#include <string.h>

static const char *train_exe;
static char *tmp, *data, *folds_csv;

static char **argv_new(const char *cmd, const char *const *extra) {
  GPtrArray *a = g_ptr_array_new();
  g_ptr_array_add(a, g_strdup(train_exe));
  g_ptr_array_add(a, g_strdup(cmd));
  for (int i = 0; synth_fast_options[i]; i++)
    g_ptr_array_add(a, g_strdup(synth_fast_options[i]));
  for (int i = 0; extra[i]; i++)
    g_ptr_array_add(a, g_strdup(extra[i]));
  g_ptr_array_add(a, NULL);
  return (char **)g_ptr_array_free(a, FALSE);
}

/* Trains one epoch with --augment MODE and the extra options into name;
 * returns the model's bytes. */
static GBytes *augmented_model(const char *name, const char *mode,
                               const char *stretch_min) {
  char *model = g_build_filename(tmp, name, NULL);
  const char *extra[] = {"--data",
                         data,
                         "--folds-csv",
                         folds_csv,
                         "--folds",
                         "1,2",
                         "--epochs",
                         "1",
                         "--batch-size",
                         "8",
                         "--augment",
                         mode,
                         "--stretch-min",
                         stretch_min,
                         "--augment-copies",
                         "1",
                         "--out",
                         model,
                         "--checkpoint-every",
                         "0",
                         NULL};
  char **argv = argv_new("train", extra);
  char *err = NULL;
  int rc = synth_run(argv, NULL, &err);
  if (rc != 0)
    g_printerr("%s\n", err);
  g_assert_cmpint(rc, ==, 0);
  char *text = NULL;
  gsize len = 0;
  g_assert_true(g_file_get_contents(model, &text, &len, NULL));
  g_strfreev(argv);
  g_free(err);
  g_free(model);
  return g_bytes_new_take(text, len);
}

/* Time stretch and pitch shift, offline and online: the same seed gives
 * the same model, and the stretch range reaches the augmentation (another
 * --stretch-min, another model). */
static void test_augment(void) {
  const char *modes[] = {"offline", "online"};
  for (size_t i = 0; i < G_N_ELEMENTS(modes); i++) {
    GBytes *a = augmented_model("aug-a.safetensors", modes[i], "0.8");
    GBytes *c = augmented_model("aug-c.safetensors", modes[i], "1.2");
    g_assert_false(g_bytes_equal(a, c));
    if (i == 0) {
      GBytes *b = augmented_model("aug-b.safetensors", modes[i], "0.8");
      g_assert_true(g_bytes_equal(a, b));
      g_bytes_unref(b);
    }
    g_bytes_unref(a), g_bytes_unref(c);
  }
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  train_exe = synth_train_exe(argc, argv, "test_train_augment");
  if (!train_exe)
    return 1;
  tmp = g_dir_make_tmp("acrnn-train-augment-XXXXXX", NULL);
  g_assert_nonnull(tmp);
  data = g_build_filename(tmp, "data", NULL);
  synth_folder_dataset(data, 6, 3);
  folds_csv = g_build_filename(data, "folds.csv", NULL);
  g_test_add_func("/training/cli/augment", test_augment);
  int rc = g_test_run();
  if (rc == 0)
    synth_remove_tree(tmp);
  g_free(folds_csv);
  g_free(data);
  g_free(tmp);
  return rc;
}
