/* test_train_faults.c - acrnn-train under faults, on a tiny synthetic
 * dataset:
 * - SIGKILL at random moments (up to twice the time a run takes to its
 *   first checkpoint) while it trains with a checkpoint every epoch (so
 *   the kills land while it writes checkpoints and models), and
 *   while "export" writes: the paths hold complete files, and --resume
 *   works from the checkpoint that is left;
 * - a full disk (RLIMIT_FSIZE): export and training fail with an error
 *   naming the file, the previous file stays as it was, and training can
 *   resume from its last good checkpoint;
 * - SIGTERM and SIGINT during training: a checkpoint is saved, the exit
 *   status is 130, and --resume continues from it;
 * - a clip that cannot be decoded (not audio, empty) refuses the dataset
 *   with an error naming the file, and nothing of it stays in the feature
 *   cache; a truncated clip is what its decoder delivers (a short clip is
 *   padded with silence); a silent clip is a valid clip.
 * ACRNN_FAULT_KILLS=N sets the number of kills of each loop (default 200
 * for export, a tenth of it for training). */
#include "../training/synth_dataset.h"
#include <acrnn/acrnn.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *train_exe;
static char *tmp, *data, *folds_csv;
static int kills = 200;

static char *path(const char *name) {
  return g_build_filename(tmp, name, NULL);
}

/* The arguments of a training run: the fast options, the dataset, extra
 * (NULL-terminated) options. */
static GPtrArray *train_args(const char *out, const char *const *extra) {
  GPtrArray *a = g_ptr_array_new();
  g_ptr_array_add(a, (char *)train_exe);
  g_ptr_array_add(a, "train");
  for (int i = 0; synth_fast_options[i]; i++)
    g_ptr_array_add(a, (char *)synth_fast_options[i]);
  const char *base[] = {"--data",     data, "--folds-csv",  folds_csv,
                        "--val-fold", "3",  "--batch-size", "4",
                        "--seed",     "11", "--out",        out,
                        NULL};
  for (int i = 0; base[i]; i++)
    g_ptr_array_add(a, (char *)base[i]);
  for (int i = 0; extra && extra[i]; i++)
    g_ptr_array_add(a, (char *)extra[i]);
  g_ptr_array_add(a, NULL);
  return a;
}

static rlim_t file_size_limit; /* 0: none */

static void child_setup(gpointer user_data) {
  if (file_size_limit) {
    /* a write past the limit fails with EFBIG, as on a full disk, instead
     * of killing the process with SIGXFSZ */
    signal(SIGXFSZ, SIG_IGN);
    struct rlimit rl = {file_size_limit, file_size_limit};
    setrlimit(RLIMIT_FSIZE, &rl);
  }
}

static GPid spawn(char **argv) {
  GPid pid;
  GError *error = NULL;
  g_assert_true(g_spawn_async(NULL, argv, NULL,
                              G_SPAWN_DO_NOT_REAP_CHILD |
                                  G_SPAWN_STDOUT_TO_DEV_NULL |
                                  G_SPAWN_STDERR_TO_DEV_NULL,
                              child_setup, NULL, &pid, &error));
  g_assert_no_error(error);
  return pid;
}

/* Runs argv to its end; returns the exit status, stderr in *err. */
static int run(char **argv, char **err) {
  int status = 0;
  GError *error = NULL;
  g_assert_true(g_spawn_sync(NULL, argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL,
                             child_setup, NULL, NULL, err, &status, &error));
  g_assert_no_error(error);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* A file that must be a complete model or checkpoint, when present. */
static void assert_complete(const char *p) {
  if (!g_file_test(p, G_FILE_TEST_EXISTS))
    return;
  AcrnnModelInfo info;
  GError *error = NULL;
  AcrnnNet *net = acrnn_model_load(p, &info, &error);
  if (!net)
    g_error("after a kill, %s is not a complete model: %s", p, error->message);
  acrnn_net_free(net);
  acrnn_model_info_clear(&info);
}

/* Removes the temporary files that killed saves leave; returns how many. */
static int remove_temporaries(void) {
  int n = 0;
  GDir *d = g_dir_open(tmp, 0, NULL);
  const char *name;
  while ((name = g_dir_read_name(d)))
    if (strstr(name, ".tmp-")) {
      char *p = path(name);
      g_unlink(p);
      g_free(p);
      n++;
    }
  g_dir_close(d);
  return n;
}

static GBytes *read_file(const char *p) {
  GBytes *b = synth_read(p);
  g_assert_nonnull(b);
  return b;
}

static void test_kill_train(void) {
  char *out = path("k.safetensors"), *ckpt = path("k.ckpt.safetensors"),
       *last = path("k.last.safetensors");
  /* a fresh start until there is a checkpoint, then resumed runs */
  const char *opts[] = {
      "--epochs", "100000", "--checkpoint-every", "1", "--resume", ckpt, NULL};
  GRand *rand = g_rand_new_with_seed(5);
  int n = MAX(kills / 10, 5), resumed = 0;
  gint32 window = 0; /* us: 2 x the time to the first checkpoint */
  for (int k = 0; k < n; k++) {
    gboolean have = g_file_test(ckpt, G_FILE_TEST_EXISTS);
    resumed += have;
    opts[4] = have ? "--resume" : NULL;
    GPtrArray *a = train_args(out, opts);
    GPid pid = spawn((char **)a->pdata);
    if (k == 0) { /* the first run: killed once it has a checkpoint */
      gint64 t0 = g_get_monotonic_time();
      for (int i = 0; i < 6000 && !g_file_test(ckpt, G_FILE_TEST_EXISTS); i++)
        g_usleep(20000);
      window = (gint32)MAX(2 * (g_get_monotonic_time() - t0), 1000000);
    } else {
      g_usleep((gulong)g_rand_int_range(rand, 0, window));
    }
    kill(pid, SIGKILL);
    int status;
    waitpid(pid, &status, 0);
    g_spawn_close_pid(pid);
    g_ptr_array_unref(a);
    assert_complete(ckpt);
    assert_complete(out);
    assert_complete(last);
  }
  /* --resume works from what the kills left */
  g_assert_true(g_file_test(ckpt, G_FILE_TEST_EXISTS));
  const char *more[] = {
      "--epochs", "100000", "--resume", ckpt, "--stop-after-epochs", "1", NULL};
  GPtrArray *a = train_args(out, more);
  char *err = NULL;
  int rc = run((char **)a->pdata, &err);
  if (rc != 0)
    g_error("--resume after the kills failed (%d): %s", rc, err);
  g_free(err);
  g_ptr_array_unref(a);
  assert_complete(ckpt);
  g_print("# train: %d kills (%d resumed from the checkpoint), 0 corrupt "
          "files, %d temporary files left by killed saves\n",
          n, resumed, remove_temporaries());
  g_rand_free(rand);
  g_free(out);
  g_free(ckpt);
  g_free(last);
}

/* A small model to export: the best model of a 1-epoch run. */
static char *small_model(void) {
  char *m = path("small.safetensors");
  if (!g_file_test(m, G_FILE_TEST_EXISTS)) {
    const char *opts[] = {"--epochs", "1", NULL};
    GPtrArray *a = train_args(m, opts);
    g_assert_cmpint(run((char **)a->pdata, NULL), ==, 0);
    g_ptr_array_unref(a);
  }
  return m;
}

static void test_kill_export(void) {
  char *in = small_model(), *out = path("e.safetensors");
  const char *dtypes[] = {"f32", "f16", "bf16"};
  /* how long one export takes */
  char *argv[] = {(char *)train_exe, "export", "--model", in, "--out", out,
                  "--dtype",         "f16",    NULL};
  gint64 t0 = g_get_monotonic_time();
  g_assert_cmpint(run(argv, NULL), ==, 0);
  gint64 us = g_get_monotonic_time() - t0;
  GRand *rand = g_rand_new_with_seed(9);
  int changed = 0;
  for (int k = 0; k < kills; k++) {
    argv[7] = (char *)dtypes[k % 3];
    GBytes *before = read_file(out);
    GPid pid = spawn(argv);
    g_usleep((gulong)g_rand_int_range(rand, 0, (gint32)MAX(3 * us / 2, 1000)));
    kill(pid, SIGKILL);
    int status;
    waitpid(pid, &status, 0);
    g_spawn_close_pid(pid);
    assert_complete(out);
    GBytes *after = read_file(out);
    changed += !g_bytes_equal(before, after);
    g_bytes_unref(before);
    g_bytes_unref(after);
  }
  g_print("# export: %d kills, 0 corrupt files, %d replaced by the new "
          "file, %d temporary files left by killed saves\n",
          kills, changed, remove_temporaries());
  g_assert_cmpint(changed, >, 0);
  g_assert_cmpint(changed, <, kills); /* the kills landed during exports */
  g_rand_free(rand);
  g_free(in);
  g_free(out);
}

static void test_full_disk(void) {
  char *in = small_model(), *out = path("d.safetensors");
  /* export: the previous file stays, the error names the new one */
  char *argv[] = {(char *)train_exe, "export", "--model", in, "--out", out,
                  "--dtype",         "f16",    NULL};
  g_assert_cmpint(run(argv, NULL), ==, 0);
  GBytes *before = read_file(out);
  argv[7] = "f32";
  file_size_limit = 64 * 1024;
  char *err = NULL;
  g_assert_cmpint(run(argv, &err), !=, 0);
  file_size_limit = 0;
  g_assert_nonnull(strstr(err, out));
  g_print("# full disk, export: %s", err);
  g_free(err);
  GBytes *after = read_file(out);
  g_assert_true(g_bytes_equal(before, after));
  g_bytes_unref(after);
  g_bytes_unref(before);
  g_assert_cmpint(remove_temporaries(), ==, 0);

  /* training: two epochs, then a resumed run on a full disk stops with an
   * error and leaves the checkpoint of epoch 2 */
  char *tout = path("f.safetensors"), *ckpt = path("f.ckpt.safetensors");
  const char *two[] = {"--epochs", "2", "--checkpoint-every", "1", NULL};
  GPtrArray *a = train_args(tout, two);
  g_assert_cmpint(run((char **)a->pdata, NULL), ==, 0);
  g_ptr_array_unref(a);
  GBytes *good = read_file(ckpt);
  const char *four[] = {"--epochs", "4", "--checkpoint-every", "1", "--resume",
                        ckpt,       NULL};
  a = train_args(tout, four);
  file_size_limit = g_bytes_get_size(good) / 2;
  int rc = run((char **)a->pdata, &err);
  file_size_limit = 0;
  g_assert_cmpint(rc, !=, 0);
  g_print("# full disk, train: %s", err);
  g_assert_nonnull(strstr(err, tmp)); /* names the file it could not write */
  g_free(err);
  after = read_file(ckpt);
  g_assert_true(g_bytes_equal(good, after)); /* the last good checkpoint */
  g_bytes_unref(after);
  g_bytes_unref(good);
  g_assert_cmpint(remove_temporaries(), ==, 0);
  /* and training resumes from it once there is room */
  g_assert_cmpint(run((char **)a->pdata, NULL), ==, 0);
  g_ptr_array_unref(a);
  g_free(tout);
  g_free(ckpt);
  g_free(in);
  g_free(out);
}

static void signal_during_training(int sig) {
  char *name = g_strdup_printf("s%d.safetensors", sig);
  char *ckpt_name = g_strdup_printf("s%d.ckpt.safetensors", sig);
  char *log_name = g_strdup_printf("s%d.log.jsonl", sig);
  char *out = path(name), *ckpt = path(ckpt_name), *log = path(log_name);
  const char *opts[] = {"--epochs", "100000", NULL};
  GPtrArray *a = train_args(out, opts);
  GPid pid = spawn((char **)a->pdata);
  /* wait for the first epoch (its log line), then signal */
  for (int i = 0; i < 1200 && !g_file_test(log, G_FILE_TEST_EXISTS); i++)
    g_usleep(50000);
  g_assert_true(g_file_test(log, G_FILE_TEST_EXISTS));
  g_assert_false(g_file_test(ckpt, G_FILE_TEST_EXISTS));
  kill(pid, sig);
  int status;
  waitpid(pid, &status, 0);
  g_spawn_close_pid(pid);
  g_assert_true(WIFEXITED(status));
  g_assert_cmpint(WEXITSTATUS(status), ==, 130);
  assert_complete(ckpt);
  g_assert_true(g_file_test(ckpt, G_FILE_TEST_EXISTS));
  g_ptr_array_unref(a);
  const char *more[] = {
      "--epochs", "100000", "--resume", ckpt, "--stop-after-epochs", "1", NULL};
  a = train_args(out, more);
  g_assert_cmpint(run((char **)a->pdata, NULL), ==, 0);
  g_ptr_array_unref(a);
  g_free(out);
  g_free(ckpt);
  g_free(log);
  g_free(name);
  g_free(ckpt_name);
  g_free(log_name);
}

static void test_sigterm(void) {
  signal_during_training(SIGTERM);
}

static void test_sigint(void) {
  signal_during_training(SIGINT);
}

/* Counts the files of the feature cache. */
static int cache_entries(const char *dir) {
  int n = 0;
  GDir *d = g_dir_open(dir, 0, NULL);
  if (!d)
    return 0;
  const char *name;
  while ((name = g_dir_read_name(d))) {
    char *p = g_build_filename(dir, name, NULL);
    n += g_file_test(p, G_FILE_TEST_IS_DIR) ? cache_entries(p) : 1;
    g_free(p);
  }
  g_dir_close(d);
  return n;
}

/* Runs "features" on the dataset with tone/bad.wav holding bytes: refused
 * naming the file (refused = TRUE), or read as the audio it holds. */
static void bad_clip(const char *what, const char *bytes, gssize len,
                     gboolean refused) {
  char *bad = g_build_filename(data, "tone", "bad.wav", NULL);
  char *cache = path("cache");
  g_assert_true(g_file_set_contents(bad, bytes, len, NULL));
  char *argv[] = {(char *)train_exe,
                  "features",
                  "--data",
                  data,
                  "--folds-csv",
                  folds_csv,
                  "--cache",
                  cache,
                  "--sample-rate",
                  "8000",
                  "--n-fft",
                  "256",
                  "--hop",
                  "128",
                  "--bands",
                  "32",
                  NULL};
  char *err = NULL;
  int rc = run(argv, &err);
  g_print("# %s clip: exit %d: %s", what, rc, err);
  if (refused) {
    g_assert_cmpint(rc, ==, 1);
    g_assert_nonnull(strstr(err, bad)); /* names the file */
    /* the good clips read before it may be cached; nothing of the bad one */
    g_assert_cmpint(cache_entries(cache), <=, 9);
  } else {
    g_assert_cmpint(rc, ==, 0);
    g_assert_cmpint(cache_entries(cache), ==, 10);
  }
  g_free(err);
  g_unlink(bad);
  /* without it: one entry for each of the 9 good clips (and one for the
   * truncated clip that was read) */
  g_assert_cmpint(run(argv, NULL), ==, 0);
  g_assert_cmpint(cache_entries(cache), ==, refused ? 9 : 10);
  if (!refused)
    synth_remove_tree(cache);
  g_free(bad);
  g_free(cache);
}

static void test_bad_clips(void) {
  /* the folds CSV must place the bad clip: add it */
  char *csv = NULL;
  g_assert_true(g_file_get_contents(folds_csv, &csv, NULL, NULL));
  char *with = g_strconcat(csv, "tone/bad.wav,1\n", NULL);
  g_assert_true(g_file_set_contents(folds_csv, with, -1, NULL));
  bad_clip("text", "this is not audio\n", -1, TRUE);
  bad_clip("empty", "", 0, TRUE);
  /* a WAV header announcing 8000 samples, with 10: the decoder gives the
   * 10, a clip shorter than a window, padded with silence */
  float x[8000];
  synth_clip(0, 0, x, 8000);
  char *good = path("good.wav");
  synth_write_wav(good, x, 8000, SYNTH_RATE);
  gchar *wav = NULL;
  gsize n = 0;
  g_assert_true(g_file_get_contents(good, &wav, &n, NULL));
  bad_clip("truncated", wav, 44 + 20, FALSE);
  g_free(wav);
  /* a silent clip is a clip */
  memset(x, 0, sizeof x);
  char *silent = g_build_filename(data, "tone", "bad.wav", NULL);
  synth_write_wav(silent, x, 8000, SYNTH_RATE);
  char *argv[] = {(char *)train_exe,
                  "features",
                  "--data",
                  data,
                  "--folds-csv",
                  folds_csv,
                  "--no-cache",
                  "--sample-rate",
                  "8000",
                  "--n-fft",
                  "256",
                  "--hop",
                  "128",
                  "--bands",
                  "32",
                  NULL};
  g_assert_cmpint(run(argv, NULL), ==, 0);
  g_unlink(silent);
  g_assert_true(g_file_set_contents(folds_csv, csv, -1, NULL));
  g_free(silent);
  g_free(good);
  g_free(with);
  g_free(csv);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  train_exe = synth_train_exe(argc, argv, "test_train_faults");
  if (!train_exe)
    return 1;
  if (g_getenv("ACRNN_FAULT_KILLS"))
    kills = MAX(atoi(g_getenv("ACRNN_FAULT_KILLS")), 1);
  tmp = g_dir_make_tmp("acrnn-train-faults-XXXXXX", NULL);
  data = g_build_filename(tmp, "data", NULL);
  synth_folder_dataset(data, 3, 3);
  folds_csv = g_build_filename(data, "folds.csv", NULL);
  g_test_add_func("/faults/train/sigterm", test_sigterm);
  g_test_add_func("/faults/train/sigint", test_sigint);
  g_test_add_func("/faults/train/full-disk", test_full_disk);
  g_test_add_func("/faults/train/bad-clips", test_bad_clips);
  g_test_add_func("/faults/train/kill-export", test_kill_export);
  g_test_add_func("/faults/train/kill-train", test_kill_train);
  int rc = g_test_run();
  if (rc == 0)
    synth_remove_tree(tmp);
  g_free(folds_csv);
  g_free(data);
  g_free(tmp);
  return rc;
}
