/* test_mpi_mismatch.c - ranks that would train on different data or with
 * different options are refused at the start with a message naming the
 * rank and the difference: another file list, the same files with other
 * audio, other options. */
#include "../training/synth_dataset.h"
#include "mpi_helpers.h"
#include <string.h>

static MpiEnv env;

/* mpirun -np 1 acrnn-train ... --data A : -np 1 acrnn-train ... --data B */
static int run_pair(const char *data_b, const char *const *extra_b, char **err,
                    double *secs) {
  char *csv_b = g_build_filename(data_b, "folds.csv", NULL);
  char *model = mpi_path(&env, "m.safetensors");
  GPtrArray *a = g_ptr_array_new_with_free_func(g_free);
  const char *head[] = {"mpirun", "--allow-run-as-root", "--oversubscribe",
                        NULL};
  for (int i = 0; head[i]; i++)
    g_ptr_array_add(a, g_strdup(head[i]));
  for (int r = 0; r < 2; r++) {
    if (r == 1)
      g_ptr_array_add(a, g_strdup(":"));
    g_ptr_array_add(a, g_strdup("-np"));
    g_ptr_array_add(a, g_strdup("1"));
    g_ptr_array_add(a, g_strdup(env.train_exe));
    g_ptr_array_add(a, g_strdup("train"));
    for (int i = 0; synth_fast_options[i]; i++)
      g_ptr_array_add(a, g_strdup(synth_fast_options[i]));
    const char *opts[] = {"--data",      r ? data_b : env.data,
                          "--folds-csv", r ? csv_b : env.folds_csv,
                          "--val-fold",  "3",
                          "--epochs",    "1",
                          "--out",       model,
                          NULL};
    for (int i = 0; opts[i]; i++)
      g_ptr_array_add(a, g_strdup(opts[i]));
    for (int i = 0; r == 1 && extra_b && extra_b[i]; i++)
      g_ptr_array_add(a, g_strdup(extra_b[i]));
  }
  g_ptr_array_add(a, NULL);
  int rc = mpi_spawn((char **)a->pdata, 60, NULL, err, secs);
  g_ptr_array_unref(a);
  g_free(csv_b);
  g_free(model);
  return rc;
}

static void expect_refused(const char *data_b, const char *const *extra_b,
                           const char *message) {
  char *err = NULL;
  double secs = 0;
  int rc = run_pair(data_b, extra_b, &err, &secs);
  g_test_message("exit %d after %.1f s:\n%s", rc, secs, err);
  g_assert_cmpint(rc, !=, 0);
  g_assert_cmpint(rc, !=, 124);
  g_assert_nonnull(strstr(err, message));
  g_free(err);
}

/* A copy of the dataset in the temporary directory's name (g_free). */
static char *copy_data(const char *name) {
  char *copy = mpi_path(&env, name);
  char *argv_cp[] = {"cp", "-a", env.data, copy, NULL};
  g_assert_true(g_spawn_sync(NULL, argv_cp, NULL, G_SPAWN_SEARCH_PATH, NULL,
                             NULL, NULL, NULL, NULL, NULL));
  return copy;
}

static void test_same_data(void) {
  /* the same dataset at another path: accepted */
  char *copy = copy_data("copy");
  char *err = NULL;
  int rc = run_pair(copy, NULL, &err, NULL);
  if (rc != 0)
    g_printerr("%s\n", err);
  g_assert_cmpint(rc, ==, 0);
  g_free(err);
  g_free(copy);
}

static void test_other_files(void) {
  char *other = mpi_path(&env, "other");
  synth_folder_dataset(other, 5, 3); /* one clip more per class */
  expect_refused(other, NULL,
                 "refusing to train: rank 1 does not match rank 0: "
                 "different dataset");
  g_free(other);
}

static void test_other_audio(void) {
  /* the same names and sizes, another tone in one WAV file */
  char *other = copy_data("audio");
  float *x = g_new(float, SYNTH_RATE);
  synth_clip(0, 9, x, SYNTH_RATE);
  char *wav = g_build_filename(other, "tone", "clip0.wav", NULL);
  g_assert_true(g_file_test(wav, G_FILE_TEST_EXISTS));
  synth_write_wav(wav, x, SYNTH_RATE, SYNTH_RATE);
  expect_refused(other, NULL,
                 "rank 1's features differ from rank 0's (feature mean");
  g_free(wav);
  g_free(x);
  g_free(other);
}

static void test_other_options(void) {
  const char *lr[] = {"--lr", "0.02", NULL};
  expect_refused(env.data, lr,
                 "refusing to train: rank 1 does not match rank 0: "
                 "different options");
}

int main(int argc, char **argv) {
  mpi_env_init(&env, &argc, &argv, 4, 3);
  g_test_add_func("/mpi/mismatch/same-data", test_same_data);
  g_test_add_func("/mpi/mismatch/other-files", test_other_files);
  g_test_add_func("/mpi/mismatch/other-audio", test_other_audio);
  g_test_add_func("/mpi/mismatch/other-options", test_other_options);
  return mpi_env_run(&env);
}
