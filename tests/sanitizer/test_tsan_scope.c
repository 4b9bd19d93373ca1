/* test_tsan_scope.c - ThreadSanitizer in the -Db_sanitize=thread build sees
 * GLib's and GStreamer's synchronisation (tsan-glib-sync.c, preloaded)
 * and still reports acrnn's races. Run without arguments, it runs itself:
 *   race      two GThreads add to a g_new0() counter without a lock (a race
 *             in this program's code, on memory from g_malloc, in threads
 *             from g_thread_new: the frames a suppression of the libraries
 *             would match): must be reported, naming racy_add;
 *   locked    the same under a GMutex: no report;
 *   bus       a GThread writes a block and posts a message holding it on a
 *             GstBus; the main thread pops it and reads the block: no
 *             report;
 *   train     acrnn-train train --threads 2 on a tiny synthetic dataset
 *             (when given the acrnn-train path): no report.
 * Built and run only in a TSan build (tests/sanitizer/meson.build,
 * tests/sanitizer/tsan.sh). */
#include "../training/synth_dataset.h"
#include <gst/gst.h>
#include <string.h>

#define ADDS 100000

static GMutex lock;

static gpointer racy_add(gpointer data) {
  int *counter = data;
  for (int i = 0; i < ADDS; i++)
    (*counter)++;
  return NULL;
}

static gpointer locked_add(gpointer data) {
  int *counter = data;
  for (int i = 0; i < ADDS; i++) {
    g_mutex_lock(&lock);
    (*counter)++;
    g_mutex_unlock(&lock);
  }
  return NULL;
}

static int run_adds(GThreadFunc f) {
  int *counter = g_new0(int, 1);
  GThread *a = g_thread_new("add-a", f, counter);
  GThread *b = g_thread_new("add-b", f, counter);
  g_thread_join(a);
  g_thread_join(b);
  g_print("counter %d\n", *counter);
  g_free(counter);
  return 0;
}

static gpointer post_block(gpointer data) {
  GstBus *bus = data;
  int *block = g_new(int, 64);
  for (int i = 0; i < 64; i++)
    block[i] = i * i;
  GstStructure *s =
      gst_structure_new("block", "data", G_TYPE_POINTER, block, NULL);
  gst_bus_post(bus, gst_message_new_application(NULL, s));
  return NULL;
}

static int run_bus(void) {
  GstBus *bus = gst_bus_new();
  GThread *t = g_thread_new("post", post_block, bus);
  GstMessage *m = gst_bus_timed_pop(bus, 10 * GST_SECOND);
  g_assert_nonnull(m);
  int *block = NULL;
  g_assert_true(gst_structure_get(gst_message_get_structure(m), "data",
                                  G_TYPE_POINTER, &block, NULL));
  int sum = 0;
  for (int i = 0; i < 64; i++)
    sum += block[i];
  g_assert_cmpint(sum, ==, 85344);
  g_free(block);
  gst_message_unref(m);
  g_thread_join(t);
  gst_object_unref(bus);
  return 0;
}

static int run_child(const char *mode) {
  if (strcmp(mode, "race") == 0)
    return run_adds(racy_add);
  if (strcmp(mode, "locked") == 0)
    return run_adds(locked_add);
  if (strcmp(mode, "bus") == 0)
    return run_bus();
  return 2;
}

static const char *self, *train;

/* Runs argv; its exit status and standard error. */
static int spawn(const char **argv, char **err) {
  int status = 0;
  GError *error = NULL;
  g_assert_true(g_spawn_sync(NULL, (char **)argv, NULL,
                             G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL, err,
                             &status, &error));
  g_assert_no_error(error);
  return status;
}

static int count_reports(const char *err) {
  int n = 0;
  for (const char *p = err; (p = strstr(p, "WARNING: ThreadSanitizer:")); p++)
    n++;
  return n;
}

static void expect_clean(const char *mode) {
  char *err = NULL;
  const char *argv[] = {self, mode, NULL};
  int status = spawn(argv, &err);
  g_print("# %s: %d ThreadSanitizer reports\n", mode, count_reports(err));
  if (status != 0 || count_reports(err))
    g_printerr("%s", err);
  g_assert_cmpint(count_reports(err), ==, 0);
  g_assert_cmpint(status, ==, 0);
  g_free(err);
}

static void test_race(void) {
  char *err = NULL;
  const char *argv[] = {self, "race", NULL};
  int status = spawn(argv, &err);
  g_print("# race: %d ThreadSanitizer reports, exit status %d\n",
          count_reports(err), status);
  g_assert_cmpint(status, !=, 0);
  g_assert_nonnull(strstr(err, "WARNING: ThreadSanitizer: data race"));
  g_assert_nonnull(strstr(err, "racy_add"));
  g_free(err);
}

static void test_locked(void) {
  expect_clean("locked");
}

static void test_bus(void) {
  expect_clean("bus");
}

static void test_train(void) {
  if (!train) {
    g_test_skip("no acrnn-train given");
    return;
  }
  char *dir = g_dir_make_tmp("acrnn-tsan-XXXXXX", NULL);
  char *data = g_build_filename(dir, "data", NULL);
  char *folds = g_build_filename(data, "folds.csv", NULL);
  char *out = g_build_filename(dir, "model.safetensors", NULL);
  synth_folder_dataset(data, 4, 2);
  GPtrArray *argv = g_ptr_array_new();
  const char *head[] = {train,         "train", "--data",       data,
                        "--folds-csv", folds,   "--val-fold",   "0",
                        "--epochs",    "1",     "--batch-size", "4",
                        "--threads",   "2",     "--out",        out};
  for (size_t i = 0; i < G_N_ELEMENTS(head); i++)
    g_ptr_array_add(argv, (char *)head[i]);
  for (int i = 0; synth_fast_options[i]; i++)
    g_ptr_array_add(argv, (char *)synth_fast_options[i]);
  g_ptr_array_add(argv, NULL);
  char *err = NULL;
  int status = spawn((const char **)argv->pdata, &err);
  g_print("# acrnn-train train --threads 2: %d ThreadSanitizer reports, "
          "exit status %d\n",
          count_reports(err), status);
  if (status != 0 || count_reports(err))
    g_printerr("%s", err);
  g_assert_cmpint(count_reports(err), ==, 0);
  g_assert_cmpint(status, ==, 0);
  g_free(err);
  g_ptr_array_unref(argv);
  synth_remove_tree(dir);
  g_free(out);
  g_free(folds);
  g_free(data);
  g_free(dir);
}

int main(int argc, char **argv) {
  if (argc == 2 && !g_str_has_suffix(argv[1], "acrnn-train")) {
    gst_init(NULL, NULL);
    return run_child(argv[1]);
  }
  self = argv[0];
  train = argc == 2 ? argv[1] : NULL;
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/tsan/scope/race-reported", test_race);
  g_test_add_func("/tsan/scope/gmutex-seen", test_locked);
  g_test_add_func("/tsan/scope/bus-seen", test_bus);
  g_test_add_func("/tsan/train-threads-2", test_train);
  return g_test_run();
}
