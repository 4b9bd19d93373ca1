/* test-soundclassifier.c - the soundclassifier bin takes its feature
 * parameters from the model (here 64 bands, not gammatonespec's default;
 * a log-mel model sets the mel filterbank),
 * converts any audio, follows a model set in READY, and classifies the audio
 * track of a Matroska video (raw video + Vorbis 48 kHz stereo) through
 * decodebin. Its messages come from the bin under the name it was given;
 * a quiet real sound passes the silence gate (silence-threshold is
 * proxied); a model set while PAUSED is refused; precision=bf16 gives the
 * confidences of fp32 within 0.02. */
#include "gst-test-util.h"

#include <acrnn/features.h>
#include <gst/gst.h>
#include <math.h>
#include <string.h>

static const char *tmpdir;
static char *model;

static void test_any_audio(void) {
  char *desc = g_strdup_printf(
      "audiotestsrc num-buffers=100 samplesperbuffer=1000 wave=pink-noise ! "
      "audio/x-raw,format=S16LE,rate=22050,channels=2 ! "
      "soundclassifier model=\"%s\" top-k=2 ! fakesink",
      model);
  TestRun *run = test_run_pipeline(desc, 50, 0);
  g_free(desc);
  g_assert_no_error(run->error);
  g_assert_true(run->eos);
  /* 100000 samples at 22050 Hz = 4.5 s: (200000 - 1024) / 512 + 1 = 389
   * frames at 44100 Hz, 5 whole segments (to frame 384) and the one of the
   * last 128 frames */
  g_assert_cmpuint(run->results->len, ==, 7);
  for (guint i = 0; i < run->results->len; i++)
    test_check_result_fields(g_ptr_array_index(run->results, i), 2);
  g_assert_nonnull(test_final_result(run));
  test_run_free(run);
}

/* Two classifiers in one pipeline: each one's messages come from the bin
 * under the name it was given, not from its inner acrnnclassify. */
static void test_message_source(void) {
  char *desc = g_strdup_printf(
      "audiotestsrc num-buffers=50 samplesperbuffer=1000 wave=pink-noise ! "
      "tee name=t t. ! queue ! soundclassifier name=left model=\"%s\" ! "
      "fakesink t. ! queue ! soundclassifier name=right model=\"%s\" ! "
      "fakesink",
      model, model);
  TestRun *run = test_run_pipeline(desc, 50, 0);
  g_free(desc);
  g_assert_no_error(run->error);
  g_assert_true(run->eos);
  guint left = 0, right = 0, left_final = 0, right_final = 0;
  for (guint i = 0; i < run->results->len; i++) {
    const char *src = g_ptr_array_index(run->sources, i);
    gboolean final = FALSE;
    gst_structure_get_boolean(g_ptr_array_index(run->results, i), "final",
                              &final);
    if (g_strcmp0(src, "left") == 0) {
      left++;
      left_final += final;
    } else {
      g_assert_cmpstr(src, ==, "right");
      right++;
      right_final += final;
    }
  }
  g_assert_cmpuint(left, >=, 2);
  g_assert_cmpuint(left, ==, right);
  g_assert_cmpuint(left_final, ==, 1);
  g_assert_cmpuint(right_final, ==, 1);
  test_run_free(run);
}

/* A quiet real sound above the silence gate is classified: the bundled
 * model on the bundled dog clip at a twentieth of its amplitude (-26 dB).
 * Segments of the clip's digital-silence padding, if any, are silence; the
 * sound's are not, nor is the decision. */
static void test_quiet_sound(void) {
  const char *root = g_getenv("ACRNN_SOURCE_ROOT");
  char *clip = g_build_filename(root, "samples", "dog-4-183992-A-0.flac", NULL);
  char *bundled =
      g_build_filename(root, "models", "esc50-acrnn.safetensors", NULL);
  if (!g_file_test(clip, G_FILE_TEST_EXISTS) ||
      !g_file_test(bundled, G_FILE_TEST_EXISTS)) {
    g_test_skip("the bundled sample clip or model is absent");
    g_free(clip);
    g_free(bundled);
    return;
  }
  char *desc = g_strdup_printf(
      "filesrc location=\"%s\" ! decodebin ! audioconvert ! volume "
      "volume=0.05 ! soundclassifier model=\"%s\" batch=8 ! fakesink",
      clip, bundled);
  TestRun *run = test_run_pipeline(desc, 100, 0);
  g_free(desc);
  g_assert_no_error(run->error);
  g_assert_true(run->eos);
  g_assert_cmpuint(run->results->len, >=, 2);
  guint classified = 0;
  for (guint i = 0; i + 1 < run->results->len; i++) {
    const GstStructure *s = g_ptr_array_index(run->results, i);
    gboolean silent = TRUE;
    double level = 0;
    int class_id = -1;
    g_assert_true(gst_structure_get_boolean(s, "silent", &silent));
    g_assert_true(gst_structure_get_double(s, "level", &level));
    g_assert_true(gst_structure_get_int(s, "class-id", &class_id));
    g_test_message("segment %u: %.1f dBFS, %s", i, level,
                   gst_structure_get_string(s, "label"));
    g_assert_true(silent == (level < -60));
    g_assert_true(silent == (class_id == -1));
    classified += !silent;
  }
  g_assert_cmpuint(classified, >=, 2);
  const GstStructure *final = test_final_result(run);
  gboolean silent = TRUE;
  int class_id = -1;
  g_assert_true(gst_structure_get_boolean(final, "silent", &silent));
  g_assert_true(gst_structure_get_int(final, "class-id", &class_id));
  g_assert_false(silent);
  g_assert_cmpint(class_id, >=, 0);
  g_assert_cmpint(class_id, <, 50);
  test_run_free(run);
  g_free(clip);
  g_free(bundled);
}

/* silence-threshold is exposed on the bin. */
static void test_silence_threshold_property(void) {
  GstElement *bin = gst_element_factory_make("soundclassifier", NULL);
  double t = 0;
  g_object_get(bin, "silence-threshold", &t, NULL);
  g_assert_cmpfloat(t, ==, -60.0);
  g_object_set(bin, "silence-threshold", -45.0, NULL);
  g_object_get(bin, "silence-threshold", &t, NULL);
  g_assert_cmpfloat(t, ==, -45.0);
  gst_object_unref(bin);
}

/* The model of a PAUSED soundclassifier does not change: the property
 * keeps naming the model in use and a WARNING names the refused file. */
static void test_model_change_refused(void) {
  char *other = test_make_model(tmpdir, "other64.safetensors", 64, 8);
  char *desc = g_strdup_printf(
      "audiotestsrc num-buffers=20 ! soundclassifier name=s model=\"%s\" ! "
      "fakesink",
      model);
  GstElement *pipeline = gst_parse_launch(desc, NULL);
  g_free(desc);
  GstElement *s = gst_bin_get_by_name(GST_BIN(pipeline), "s");
  GstObject *source = NULL;
  GError *error = test_refuse_model_change(pipeline, s, model, other, &source);
  g_assert_nonnull(strstr(error->message, "other64.safetensors"));
  g_error_free(error);
  gst_object_unref(source);
  gst_element_set_state(pipeline, GST_STATE_NULL);
  gst_object_unref(s);
  gst_object_unref(pipeline);
  g_free(other);
}

static TestRun *run_precision(const char *precision) {
  char *desc = g_strdup_printf(
      "audiotestsrc num-buffers=100 samplesperbuffer=1000 wave=pink-noise ! "
      "audio/x-raw,format=S16LE,rate=22050,channels=2 ! "
      "soundclassifier model=\"%s\" precision=%s ! fakesink",
      model, precision);
  TestRun *run = test_run_pipeline(desc, 50, 0);
  g_free(desc);
  g_assert_no_error(run->error);
  g_assert_true(run->eos);
  return run;
}

static void test_precision(void) {
  GstElement *bin = gst_element_factory_make("soundclassifier", NULL);
  int p = -1;
  g_object_get(bin, "precision", &p, NULL);
  g_assert_cmpint(p, ==, 0); /* auto */
  gst_util_set_object_arg(G_OBJECT(bin), "precision", "bf16");
  g_object_get(bin, "precision", &p, NULL);
  g_assert_cmpint(p, ==, 2);
  gst_object_unref(bin);

  TestRun *a = run_precision("fp32"), *b = run_precision("bf16");
  g_assert_cmpuint(a->results->len, ==, b->results->len);
  for (guint i = 0; i < a->results->len; i++) {
    double ca, cb;
    g_assert_true(gst_structure_get_double(g_ptr_array_index(a->results, i),
                                           "confidence", &ca));
    g_assert_true(gst_structure_get_double(g_ptr_array_index(b->results, i),
                                           "confidence", &cb));
    g_assert_cmpfloat(fabs(ca - cb), <=, 0.02);
  }
  test_run_free(a);
  test_run_free(b);
}

static void test_properties(void) {
  GstElement *bin = gst_element_factory_make("soundclassifier", NULL);
  g_assert_nonnull(bin);
  g_object_set(bin, "model", model, "top-k", 5, "threshold", 0.25, "batch", 4,
               NULL);
  char *m;
  guint k, b;
  double t;
  g_object_get(bin, "model", &m, "top-k", &k, "threshold", &t, "batch", &b,
               NULL);
  g_assert_cmpstr(m, ==, model);
  g_assert_cmpuint(k, ==, 5);
  g_assert_cmpfloat(t, ==, 0.25);
  g_assert_cmpuint(b, ==, 4);
  g_free(m);
  g_assert_cmpint(gst_element_set_state(bin, GST_STATE_READY), ==,
                  GST_STATE_CHANGE_SUCCESS);
  test_check_labels(bin);
  gst_element_set_state(bin, GST_STATE_NULL);
  gst_object_unref(bin);
}

/* A model set in READY (here with 32 bands instead of 64) configures the
 * children before the source starts: no band mismatch. */
static void test_model_set_in_ready(void) {
  char *model32 = test_make_model(tmpdir, "test32.safetensors", 32, 4);
  char *desc = g_strdup_printf(
      "audiotestsrc num-buffers=60 samplesperbuffer=1024 wave=pink-noise ! "
      "soundclassifier name=c model=\"%s\" ! fakesink",
      model);
  GstElement *pipeline = gst_parse_launch(desc, NULL);
  g_free(desc);
  g_assert_nonnull(pipeline);
  g_assert_cmpint(gst_element_set_state(pipeline, GST_STATE_READY), ==,
                  GST_STATE_CHANGE_SUCCESS);
  GstElement *c = gst_bin_get_by_name(GST_BIN(pipeline), "c");
  g_object_set(c, "model", model32, NULL);
  gst_object_unref(c);
  GstBus *bus = gst_element_get_bus(pipeline);
  gst_element_set_state(pipeline, GST_STATE_PLAYING);
  guint results = 0;
  GstMessage *msg;
  while ((msg = gst_bus_timed_pop_filtered(bus, 30 * GST_SECOND,
                                           GST_MESSAGE_EOS | GST_MESSAGE_ERROR |
                                               GST_MESSAGE_ELEMENT)) != NULL) {
    GstMessageType type = GST_MESSAGE_TYPE(msg);
    if (type == GST_MESSAGE_ERROR) {
      GError *error = NULL;
      gst_message_parse_error(msg, &error, NULL);
      g_error("%s", error->message);
    }
    if (type == GST_MESSAGE_ELEMENT &&
        gst_structure_has_name(gst_message_get_structure(msg), "acrnn"))
      results++;
    gst_message_unref(msg);
    if (type == GST_MESSAGE_EOS)
      break;
  }
  g_assert_cmpuint(results, ==, 2); /* one padded segment and the final */
  gst_element_set_state(pipeline, GST_STATE_NULL);
  gst_object_unref(bus);
  gst_object_unref(pipeline);
  g_free(model32);
}

/* A log-mel model: the bin's gammatonespec computes log-mel features, and the
 * stream is classified without a filterbank mismatch. */
static void test_mel_model(void) {
  char *mel = test_make_mel_model(tmpdir, "mel64.safetensors", 64, 6);
  char *desc = g_strdup_printf(
      "audiotestsrc num-buffers=60 samplesperbuffer=1024 wave=pink-noise ! "
      "soundclassifier name=c model=\"%s\" ! fakesink",
      mel);
  TestRun *run = test_run_pipeline(desc, 30, 0);
  g_free(desc);
  g_assert_no_error(run->error);
  g_assert_true(run->eos);
  g_assert_cmpuint(run->results->len, ==, 2); /* a padded segment, the final */
  test_run_free(run);

  GstElement *bin = gst_element_factory_make("soundclassifier", NULL);
  g_object_set(bin, "model", mel, NULL);
  g_assert_cmpint(gst_element_set_state(bin, GST_STATE_READY), ==,
                  GST_STATE_CHANGE_SUCCESS);
  GstElement *spec = NULL;
  GstIterator *it = gst_bin_iterate_elements(GST_BIN(bin));
  GValue item = G_VALUE_INIT;
  while (gst_iterator_next(it, &item) == GST_ITERATOR_OK) {
    GstElement *e = g_value_get_object(&item);
    if (g_str_has_prefix(GST_OBJECT_NAME(gst_element_get_factory(e)),
                         "gammatonespec"))
      spec = gst_object_ref(e);
    g_value_reset(&item);
  }
  g_value_unset(&item);
  gst_iterator_free(it);
  g_assert_nonnull(spec);
  int fb = -1, bands = 0;
  g_object_get(spec, "filterbank", &fb, "bands", &bands, NULL);
  g_assert_cmpint(fb, ==, ACRNN_FILTERBANK_MEL);
  g_assert_cmpint(bands, ==, 64);
  gst_object_unref(spec);
  gst_element_set_state(bin, GST_STATE_NULL);
  gst_object_unref(bin);
  g_free(mel);
}

static void test_video_audio_track(void) {
  char *mkv = g_build_filename(tmpdir, "clip.mkv", NULL);
  char *make = g_strdup_printf(
      "videotestsrc num-buffers=30 ! "
      "video/x-raw,width=64,height=48,framerate=10/1 ! queue ! mux. "
      "audiotestsrc num-buffers=72 samplesperbuffer=2000 wave=pink-noise ! "
      "audio/x-raw,rate=48000,channels=2 ! audioconvert ! vorbisenc ! queue ! "
      "mux. matroskamux name=mux ! filesink location=\"%s\"",
      mkv);
  TestRun *run = test_run_pipeline(make, 50, 0);
  g_free(make);
  g_assert_no_error(run->error);
  g_assert_true(run->eos);
  test_run_free(run);

  char *desc = g_strdup_printf(
      "filesrc location=\"%s\" ! decodebin name=d "
      "d. ! audio/x-raw ! queue ! soundclassifier model=\"%s\" ! fakesink "
      "d. ! video/x-raw ! queue ! fakesink",
      mkv, model);
  run = test_run_pipeline(desc, 50, 0);
  g_free(desc);
  g_assert_no_error(run->error);
  g_assert_true(run->eos);
  /* 3 s of audio: 257 frames at 44100 Hz, 3 segments, and the final */
  g_assert_cmpuint(run->results->len, >=, 3);
  const GstStructure *final = test_final_result(run);
  g_assert_nonnull(final);
  guint64 count;
  gst_structure_get_uint64(final, "segments", &count);
  g_assert_cmpuint(count, ==, run->results->len - 1);
  test_run_free(run);
  g_free(mkv);
}

int main(int argc, char **argv) {
  tmpdir = test_init(&argc, &argv);
  model = test_make_model(tmpdir, "test64.safetensors", 64, 3);
  g_test_add_func("/soundclassifier/any-audio", test_any_audio);
  g_test_add_func("/soundclassifier/message-source", test_message_source);
  g_test_add_func("/soundclassifier/properties", test_properties);
  g_test_add_func("/soundclassifier/precision", test_precision);
  g_test_add_func("/soundclassifier/quiet-sound", test_quiet_sound);
  g_test_add_func("/soundclassifier/model-change-refused",
                  test_model_change_refused);
  g_test_add_func("/soundclassifier/silence-threshold",
                  test_silence_threshold_property);
  g_test_add_func("/soundclassifier/model-set-in-ready",
                  test_model_set_in_ready);
  g_test_add_func("/soundclassifier/mel-model", test_mel_model);
  g_test_add_func("/soundclassifier/video-audio-track", test_video_audio_track);
  int ret = test_run_tests();
  g_free(model);
  return ret;
}
