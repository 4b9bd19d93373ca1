/* test_train_augment.c - acrnn-train's time stretch and pitch shift,
 * offline and online: the same seed gives the same model, and the stretch
 * range reaches the augmentation (another --stretch-min, another model).
 * One run, not one per vector level: five short trainings. */
#include "train_test_util.h"
#include <string.h>

static const char *data, *folds_csv;

/* Trains one epoch with --augment MODE and the extra options into name;
 * returns the model's bytes. */
static GBytes *cached_model(const char *name, const char *mode,
                            const char *stretch_min, const char *cache,
                            char **out);

static GBytes *augmented_model(const char *name, const char *mode,
                               const char *stretch_min) {
  return cached_model(name, mode, stretch_min, NULL, NULL);
}

/* The same with --augment-cache cache (NULL: none), its output in out. */
static GBytes *cached_model(const char *name, const char *mode,
                            const char *stretch_min, const char *cache,
                            char **out) {
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
  const char *with_cache[] = {"--augment-cache", cache, NULL};
  tt_run_ok("train", TT_FAST, extra, cache ? with_cache : NULL, out, NULL);
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

/* The files in dir, sorted (g_strfreev). */
static char **dir_files(const char *dir) {
  GPtrArray *names = g_ptr_array_new();
  GDir *d = g_dir_open(dir, 0, NULL);
  g_assert_nonnull(d);
  const char *name;
  while ((name = g_dir_read_name(d)) != NULL)
    g_ptr_array_add(names, g_build_filename(dir, name, NULL));
  g_dir_close(d);
  g_ptr_array_sort(names, (GCompareFunc)g_strcmp0);
  g_ptr_array_add(names, NULL);
  return (char **)g_ptr_array_free(names, FALSE);
}

/* --augment-cache: the first run stores a copy per training clip, a second
 * run gives the same model, both the model made without the cache, bit
 * for bit; with two cached copies swapped, a third run gives another
 * model: it read them. */
static void test_augment_cache(void) {
  GBytes *plain = augmented_model("cache-plain.safetensors", "online", "0.8");
  char *cache = tt_path("augment-cache");
  GBytes *first =
      cached_model("cache-a.safetensors", "online", "0.8", cache, NULL);
  g_assert_true(g_bytes_equal(plain, first));
  char **files = dir_files(cache);
  /* one copy of each training clip (6 a class in folds 1 and 2) */
  g_assert_cmpuint(g_strv_length(files), ==, 12);
  GBytes *second =
      cached_model("cache-b.safetensors", "online", "0.8", cache, NULL);
  g_assert_true(g_bytes_equal(plain, second));

  char *a = NULL, *b = NULL;
  gsize na = 0, nb = 0;
  g_assert_true(g_file_get_contents(files[0], &a, &na, NULL));
  g_assert_true(g_file_get_contents(files[1], &b, &nb, NULL));
  g_assert_true(g_file_set_contents(files[0], b, (gssize)nb, NULL));
  g_assert_true(g_file_set_contents(files[1], a, (gssize)na, NULL));
  GBytes *swapped =
      cached_model("cache-c.safetensors", "online", "0.8", cache, NULL);
  g_assert_false(g_bytes_equal(plain, swapped));
  g_free(a), g_free(b);
  g_strfreev(files);
  g_bytes_unref(plain), g_bytes_unref(first), g_bytes_unref(second);
  g_bytes_unref(swapped);
  g_free(cache);
}

int main(int argc, char **argv) {
  if (!tt_init(&argc, &argv, "test_train_augment"))
    return 1;
  data = tt_folder_dataset("data", 6, 3, &folds_csv);
  g_test_add_func("/training/cli/augment", test_augment);
  g_test_add_func("/training/cli/augment-cache", test_augment_cache);
  return tt_run_tests();
}
