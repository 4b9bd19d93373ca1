/* test-classify-batch.c - acrnnclassify's batch=0 (the default) chooses
 * when the stream starts: 16 for a file classified as fast as it can be
 * (labels to fakesink), 1 when something waits for the labels: a live
 * source, a sink that syncs to the clock anywhere in the pipeline, labels
 * going to another element (textoverlay). The choice shows in the read-only
 * current-batch property (also on soundclassifier) and in the answered
 * latency. */
#include "gst-test-harness.h"

#include <gst/gst.h>

static const char *tmpdir;
static char *model;

/* acrnnclassify (default batch) fed by a harness that reports a live or a
 * non-live upstream: current-batch before and after the caps, and the
 * latency: upstream's + 127 frames + (batch - 1) segment hops. */
static void check_harness(gboolean live, guint want) {
  GstElement *e = gst_element_factory_make("acrnnclassify", NULL);
  g_object_set(e, "model", model, NULL);
  guint batch = 99;
  g_object_get(e, "batch", &batch, NULL);
  g_assert_cmpuint(batch, ==, 0);
  GstHarness *h = test_harness_new(e);
  gst_harness_set_live(h, live);
  gst_harness_set_upstream_latency(h, 10 * GST_MSECOND);
  g_assert_cmpuint(gst_harness_query_latency(h), ==,
                   10 * GST_MSECOND + test_frame_time(127 + (want - 1) * 64));
  guint current = 99;
  g_object_get(e, "current-batch", &current, NULL);
  g_assert_cmpuint(current, ==, 0);
  gst_harness_set_src_caps_str(h, TEST_FEATURE_CAPS);
  g_object_get(e, "current-batch", &current, NULL);
  g_assert_cmpuint(current, ==, want);
  g_assert_cmpuint(gst_harness_query_latency(h), ==,
                   10 * GST_MSECOND + test_frame_time(127 + (want - 1) * 64));
  gst_object_unref(e);
  gst_harness_teardown(h);
}

static void test_harness_live(void) {
  check_harness(TRUE, 1);
}

static void test_harness_not_live(void) {
  check_harness(FALSE, 16);
}

/* Plays description to EOS and returns the current-batch of its element
 * "c" at EOS. */
static guint current_batch_at_eos(const char *description) {
  g_test_message("%s", description);
  GstElement *c = NULL;
  GstElement *pipeline = test_parse(description, "c", &c);
  test_play_to_eos(pipeline, 60, GST_MESSAGE_ERROR);
  guint current = 0;
  g_object_get(c, "current-batch", &current, NULL);
  gst_element_set_state(pipeline, GST_STATE_NULL);
  guint after = 99;
  g_object_get(c, "current-batch", &after, NULL);
  g_assert_cmpuint(after, ==, 0);
  gst_object_unref(c);
  gst_object_unref(pipeline);
  return current;
}

/* A live microphone-like source gets batches of 1. */
static void test_live_source(void) {
  char *d = g_strdup_printf(
      "audiotestsrc is-live=true num-buffers=3 samplesperbuffer=4410 ! "
      "soundclassifier name=c model=\"%s\" ! fakesink",
      model);
  g_assert_cmpuint(current_batch_at_eos(d), ==, 1);
  g_free(d);
}

/* A sound file (decoded by decodebin) gets batches of 16. */
static void test_file(void) {
  char *wav = g_build_filename(tmpdir, "tone.wav", NULL);
  char *d = g_strdup_printf("audiotestsrc num-buffers=20 samplesperbuffer=4410 "
                            "! wavenc ! filesink location=\"%s\"",
                            wav);
  GstElement *p = test_parse(d, NULL, NULL);
  test_play_to_eos(p, 60, GST_MESSAGE_ERROR);
  gst_element_set_state(p, GST_STATE_NULL);
  gst_object_unref(p);
  g_free(d);

  d = g_strdup_printf("filesrc location=\"%s\" ! decodebin ! soundclassifier "
                      "name=c model=\"%s\" ! fakesink",
                      wav, model);
  g_assert_cmpuint(current_batch_at_eos(d), ==, 16);
  g_free(d);
  /* the same with acrnnclassify itself */
  d = g_strdup_printf("filesrc location=\"%s\" ! decodebin ! audioconvert ! "
                      "audioresample ! gammatonespec bands=32 ! acrnnclassify "
                      "name=c model=\"%s\" ! fakesink",
                      wav, model);
  g_assert_cmpuint(current_batch_at_eos(d), ==, 16);
  g_free(d);
  g_free(wav);
}

/* A file played in real time (a sink syncs to the clock, on the labels'
 * branch or on another one) gets batches of 1: its labels keep pace. */
static void test_real_time(void) {
  char *d = g_strdup_printf("audiotestsrc num-buffers=3 samplesperbuffer=4410 "
                            "! soundclassifier name=c model=\"%s\" ! "
                            "fakesink sync=true",
                            model);
  g_assert_cmpuint(current_batch_at_eos(d), ==, 1);
  g_free(d);
  d = g_strdup_printf(
      "audiotestsrc num-buffers=3 samplesperbuffer=4410 ! tee name=t "
      "t. ! queue ! soundclassifier name=c model=\"%s\" ! fakesink "
      "t. ! queue ! fakesink sync=true",
      model);
  g_assert_cmpuint(current_batch_at_eos(d), ==, 1);
  g_free(d);
  /* the same without the syncing sink: 16 */
  d = g_strdup_printf(
      "audiotestsrc num-buffers=3 samplesperbuffer=4410 ! tee name=t "
      "t. ! queue ! soundclassifier name=c model=\"%s\" ! fakesink "
      "t. ! queue ! fakesink",
      model);
  g_assert_cmpuint(current_batch_at_eos(d), ==, 16);
  g_free(d);
}

/* Labels that feed another element than a sink get batches of 1: it waits
 * for them (textoverlay holds the video until its label comes; 16 segments
 * would need 12 s of queued video, and pipelines/video-label.sh stalled). */
static void test_labels_waited_for(void) {
  char *d = g_strdup_printf("audiotestsrc num-buffers=3 samplesperbuffer=4410 "
                            "! soundclassifier name=c model=\"%s\" ! queue ! "
                            "fakesink",
                            model);
  g_assert_cmpuint(current_batch_at_eos(d), ==, 1);
  g_free(d);
  GstElementFactory *overlay = gst_element_factory_find("textoverlay");
  if (overlay == NULL) {
    g_test_skip("textoverlay is not installed (gstreamer1.0-x)");
    return;
  }
  gst_object_unref(overlay);
  d = g_strdup_printf(
      "videotestsrc num-buffers=10 ! video/x-raw,framerate=25/1 ! queue ! "
      "textoverlay name=o ! fakesink audiotestsrc num-buffers=3 "
      "samplesperbuffer=4410 ! soundclassifier name=c model=\"%s\" ! "
      "o.text_sink",
      model);
  g_assert_cmpuint(current_batch_at_eos(d), ==, 1);
  g_free(d);
}

/* A batch that is set is used as it is, live or not. */
static void test_explicit(void) {
  char *d = g_strdup_printf(
      "audiotestsrc is-live=true num-buffers=3 samplesperbuffer=4410 ! "
      "soundclassifier name=c model=\"%s\" batch=4 ! fakesink",
      model);
  g_assert_cmpuint(current_batch_at_eos(d), ==, 4);
  g_free(d);
  d = g_strdup_printf("audiotestsrc num-buffers=3 samplesperbuffer=4410 ! "
                      "soundclassifier name=c model=\"%s\" batch=1 ! fakesink",
                      model);
  g_assert_cmpuint(current_batch_at_eos(d), ==, 1);
  g_free(d);
}

int main(int argc, char **argv) {
  tmpdir = test_init(&argc, &argv);
  model = test_make_model(tmpdir, "model.safetensors", 32, 7);
  g_test_add_func("/acrnnclassify/batch/harness-live", test_harness_live);
  g_test_add_func("/acrnnclassify/batch/harness-not-live",
                  test_harness_not_live);
  g_test_add_func("/acrnnclassify/batch/live-source", test_live_source);
  g_test_add_func("/acrnnclassify/batch/file", test_file);
  g_test_add_func("/acrnnclassify/batch/real-time", test_real_time);
  g_test_add_func("/acrnnclassify/batch/labels-waited-for",
                  test_labels_waited_for);
  g_test_add_func("/acrnnclassify/batch/explicit", test_explicit);
  int ret = test_run_tests();
  g_free(model);
  return ret;
}
