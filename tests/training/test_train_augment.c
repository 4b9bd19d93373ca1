/* test_train_augment.c - acrnn-train's time stretch and pitch shift,
 * offline and online: the same seed gives the same model, and the stretch
 * range reaches the augmentation (another --stretch-min, another model).
 * One run, not one per vector level: five short trainings. */
#include "train_test_util.h"

static const char *data, *folds_csv;

/* Trains one epoch with --augment MODE and the extra options into name;
 * returns the model's bytes. */
static GBytes *augmented_model(const char *name, const char *mode,
                               const char *stretch_min) {
  char *model = tt_path(name);
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
  tt_run_ok("train", TT_FAST, extra, NULL, NULL, NULL);
  GBytes *bytes = tt_file_bytes(model);
  g_free(model);
  return bytes;
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
  if (!tt_init(&argc, &argv, "test_train_augment"))
    return 1;
  data = tt_folder_dataset("data", 6, 3, &folds_csv);
  g_test_add_func("/training/cli/augment", test_augment);
  return tt_run_tests();
}
