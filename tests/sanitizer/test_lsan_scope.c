/* test_lsan_scope.c - the sanitizer build's leak suppressions
 * (tests/lsan.supp) hide only third-party libraries. Run without
 * arguments, it runs itself three times:
 *   clean           GStreamer with every installed plugin scanned, a
 *                   decodebin pipeline and acrnn's elements: no report
 *                   (what the suppressions exist for);
 *   leak-libacrnn   a feature extractor never freed: reported, naming
 *                   libacrnn's allocation;
 *   leak-plugin     a gammatonespec element never unreffed: reported.
 * Built and run only in a sanitizer build (tests/meson.build). */
#include <acrnn/features.h>
#include <gst/gst.h>
#include <string.h>

static void *volatile kept; /* so the compiler keeps the leaked pointer */

static int run_clean(void) {
  GError *error = NULL;
  /* decodebin plugs the typefinders and a decoder of whatever set of
   * plugins is installed; gammatonespec and acrnnclassify are acrnn's */
  GstElement *p = gst_parse_launch(
      "audiotestsrc num-buffers=50 ! audioconvert ! wavenc ! "
      "decodebin ! audioconvert ! audioresample ! "
      "audio/x-raw,format=F32LE,channels=1,rate=44100 ! gammatonespec ! "
      "fakesink",
      &error);
  g_assert_no_error(error);
  gst_element_set_state(p, GST_STATE_PLAYING);
  GstBus *bus = gst_element_get_bus(p);
  GstMessage *m = gst_bus_timed_pop_filtered(
      bus, 30 * GST_SECOND, GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  g_assert_nonnull(m);
  g_assert_cmpint(GST_MESSAGE_TYPE(m), ==, GST_MESSAGE_EOS);
  gst_message_unref(m);
  gst_object_unref(bus);
  gst_element_set_state(p, GST_STATE_NULL);
  gst_object_unref(p);
  GstElement *c = gst_element_factory_make("acrnnclassify", NULL);
  g_assert_nonnull(c);
  gst_object_unref(c);
  return 0;
}

/* Makes an element on a thread of its own and drops it, so that no stale
 * copy of the pointer stays on the main thread's stack. */
static gpointer make_and_drop(gpointer factory) {
  GstElement *e = gst_element_factory_make(factory, NULL);
  g_assert_nonnull(e);
  return NULL;
}

static int run_child(const char *mode) {
  if (strcmp(mode, "clean") == 0)
    return run_clean();
  if (strcmp(mode, "leak-libacrnn") == 0) {
    AcrnnFeatureParams params;
    acrnn_feature_params_init(&params);
    GError *error = NULL;
    kept = acrnn_feature_extractor_new(&params, &error);
    g_assert_nonnull(kept);
    kept = NULL;
    return 0;
  }
  if (strcmp(mode, "leak-plugin") == 0) {
    g_thread_join(g_thread_new("leak", make_and_drop, "gammatonespec"));
    return 0;
  }
  return 2;
}

/* Runs this program in mode; its exit status and standard error. */
static int spawn(const char *self, const char *mode, char **err) {
  const char *argv[] = {self, mode, NULL};
  int status = 0;
  GError *error = NULL;
  g_assert_true(g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_DEFAULT, NULL,
                             NULL, NULL, err, &status, &error));
  g_assert_no_error(error);
  return status;
}

static const char *self;

static void test_clean(void) {
  char *err = NULL;
  int status = spawn(self, "clean", &err);
  if (status != 0)
    g_printerr("%s", err);
  g_assert_null(strstr(err, "LeakSanitizer"));
  g_assert_cmpint(status, ==, 0);
  g_free(err);
}

static void check_reported(const char *mode, const char *allocator) {
  char *err = NULL;
  int status = spawn(self, mode, &err);
  g_test_message("%s: exit status %d", mode, status);
  g_assert_cmpint(status, !=, 0);
  g_assert_nonnull(strstr(err, "ERROR: LeakSanitizer: detected memory leaks"));
  g_assert_nonnull(strstr(err, allocator));
  g_free(err);
}

static void test_leak_libacrnn(void) {
  check_reported("leak-libacrnn", "acrnn_feature_extractor_new");
}

static void test_leak_plugin(void) {
  check_reported("leak-plugin", "gst_element_factory_make");
}

int main(int argc, char **argv) {
  if (argc == 2) {
    gst_init(NULL, NULL);
    return run_child(argv[1]);
  }
  self = argv[0];
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/lsan/third-party-only/clean", test_clean);
  g_test_add_func("/lsan/third-party-only/libacrnn-leak", test_leak_libacrnn);
  g_test_add_func("/lsan/third-party-only/plugin-leak", test_leak_plugin);
  return g_test_run();
}
