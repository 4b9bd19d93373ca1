/* test-classify-events.c - acrnnclassify fed by a harness: stream-time and
 * running-time go through the segment (non-zero start, time, base, rate 2),
 * frames without PTS are timed from the segment start, a new stream id ends
 * the previous stream with its final message, a BYTES segment counts as a
 * default TIME segment, a GAP ends the run, so does a DISCONT buffer without
 * PTS, a non-flushing seek starts a new
 * run and the final message sums what was classified, the latency counts
 * the batch,
 * repeated state changes and a model set in READY, and a source feeding
 * gammatonespec sample-rate=0 picks the model's rate. */
#include "gst-test-harness.h"

#include <gst/gst.h>
#include <string.h>

static const char *tmpdir;
static char *model;

/* Random feature frames: log energies in [-5, 10). */
static GstBuffer *frames(guint n, GstClockTime pts, guint32 seed) {
  return test_feature_frames(n, pts, -5, 10, seed);
}

static guint64 get_time(const GstStructure *s, const char *field) {
  guint64 t = GST_CLOCK_TIME_NONE;
  g_assert_true(gst_structure_get_uint64(s, field, &t));
  return t;
}

static gboolean is_final(const GstStructure *s) {
  gboolean final = FALSE;
  g_assert_true(gst_structure_get_boolean(s, "final", &final));
  return final;
}

/* segment start 10 s, time 100 s, base 5 s, rate 2: stream time = pts - 10 s
 * + 100 s, running time = (pts - 10 s) / 2 + 5 s. */
static void test_segment_times(void) {
  TestClassifier f;
  test_classifier_start(&f, model, NULL);
  GstSegment seg;
  gst_segment_init(&seg, GST_FORMAT_TIME);
  seg.start = 10 * GST_SECOND;
  seg.time = 100 * GST_SECOND;
  seg.base = 5 * GST_SECOND;
  seg.rate = 2.0;
  seg.position = seg.start;
  g_assert_true(gst_harness_push_event(f.h, gst_event_new_segment(&seg)));
  GstClockTime pts = 11 * GST_SECOND;
  g_assert_cmpint(gst_harness_push(f.h, frames(200, pts, 1)), ==, GST_FLOW_OK);
  g_assert_true(gst_harness_push_event(f.h, gst_event_new_eos()));
  GPtrArray *m = test_pop_messages(f.bus, "acrnn");
  /* 2 whole segments, the one of the last 128 frames, the final */
  g_assert_cmpuint(m->len, ==, 4);
  const guint64 first[] = {0, 64, 72, 0};
  for (guint i = 0; i < m->len; i++) {
    const GstStructure *s = g_ptr_array_index(m, i);
    test_check_result_fields(s, 3);
    GstClockTime ts = pts + test_frame_time(first[i]);
    g_assert_cmpuint(get_time(s, "timestamp"), ==, ts);
    g_assert_cmpuint(get_time(s, "stream-time"), ==,
                     ts - 10 * GST_SECOND + 100 * GST_SECOND);
    g_assert_cmpuint(get_time(s, "running-time"), ==,
                     (ts - 10 * GST_SECOND) / 2 + 5 * GST_SECOND);
  }
  g_assert_true(is_final(g_ptr_array_index(m, 3)));
  g_ptr_array_unref(m);
  test_classifier_stop(&f);
}

/* Pushes seg and 130 frames (one segment) at pts: the one result message
 * has the timestamp pts and the given stream and running times. */
static void check_one_result(const GstSegment *seg, GstClockTime pts,
                             guint32 seed, GstClockTime stream_time,
                             GstClockTime running_time) {
  TestClassifier f;
  test_classifier_start(&f, model, NULL);
  g_assert_true(gst_harness_push_event(f.h, gst_event_new_segment(seg)));
  gst_harness_push(f.h, frames(130, pts, seed));
  GPtrArray *m = test_pop_messages(f.bus, "acrnn");
  g_assert_cmpuint(m->len, ==, 1);
  const GstStructure *s = g_ptr_array_index(m, 0);
  g_assert_cmpuint(get_time(s, "timestamp"), ==, pts);
  g_assert_cmpuint(get_time(s, "stream-time"), ==, stream_time);
  g_assert_cmpuint(get_time(s, "running-time"), ==, running_time);
  g_ptr_array_unref(m);
  test_classifier_stop(&f);
}

/* Frames before the segment start (a seek into the middle of a segment):
 * stream and running time are those of the segment start, never NONE. */
static void test_before_segment(void) {
  GstSegment seg;
  gst_segment_init(&seg, GST_FORMAT_TIME);
  seg.start = 2 * GST_SECOND;
  seg.time = 2 * GST_SECOND;
  check_one_result(&seg, GST_SECOND, 2, 2 * GST_SECOND, 0);
}

/* A segment in another format (features not from gammatonespec, e.g. read
 * back with filesrc) counts as the default TIME segment. */
static void test_bytes_segment(void) {
  GstSegment seg;
  gst_segment_init(&seg, GST_FORMAT_BYTES);
  check_one_result(&seg, 4 * GST_SECOND, 6, 4 * GST_SECOND, 4 * GST_SECOND);
}

/* No PTS at all: the frames are timed from the segment start. */
static void test_no_pts(void) {
  TestClassifier f;
  test_classifier_start(&f, model, NULL);
  GstSegment seg;
  gst_segment_init(&seg, GST_FORMAT_TIME);
  seg.start = 3 * GST_SECOND;
  seg.time = 3 * GST_SECOND;
  g_assert_true(gst_harness_push_event(f.h, gst_event_new_segment(&seg)));
  for (int i = 0; i < 4; i++)
    gst_harness_push(f.h, frames(50, GST_CLOCK_TIME_NONE, (guint32)i));
  GPtrArray *m = test_pop_messages(f.bus, "acrnn");
  g_assert_cmpuint(m->len, ==, 2); /* 200 frames: segments 0 and 1 */
  for (guint i = 0; i < 2; i++) {
    const GstStructure *s = g_ptr_array_index(m, i);
    GstClockTime ts = 3 * GST_SECOND + test_frame_time(64 * i);
    g_assert_cmpuint(get_time(s, "timestamp"), ==, ts);
    g_assert_cmpuint(get_time(s, "stream-time"), ==, ts);
    g_assert_cmpuint(get_time(s, "running-time"), ==, ts - 3 * GST_SECOND);
  }
  g_ptr_array_unref(m);
  test_classifier_stop(&f);
}

/* concat-like input: a new stream id without EOS ends the first stream
 * (its final message), the second gets its own. */
static void test_new_stream(void) {
  TestClassifier f;
  test_classifier_start(&f, model, NULL);
  gst_harness_push(f.h, frames(200, 0, 3));
  g_assert_true(
      gst_harness_push_event(f.h, gst_event_new_stream_start("second")));
  GstSegment seg;
  gst_segment_init(&seg, GST_FORMAT_TIME);
  gst_harness_push_event(f.h, gst_event_new_segment(&seg));
  gst_harness_push(f.h, frames(100, 0, 4));
  gst_harness_push_event(f.h, gst_event_new_eos());
  GPtrArray *m = test_pop_messages(f.bus, "acrnn");
  /* 200 frames: 3 segments (the last one of the last 128 frames), final;
   * 100 frames: 1 segment, final */
  g_assert_cmpuint(m->len, ==, 6);
  for (guint i = 0; i < 6; i++)
    g_assert_true(is_final(g_ptr_array_index(m, i)) == (i == 3 || i == 5));
  guint64 count = 0;
  gst_structure_get_uint64(g_ptr_array_index(m, 3), "segments", &count);
  g_assert_cmpuint(count, ==, 3);
  gst_structure_get_uint64(g_ptr_array_index(m, 5), "segments", &count);
  g_assert_cmpuint(count, ==, 1);
  g_ptr_array_unref(m);
  test_classifier_stop(&f);
}

/* A non-flushing seek: a new SEGMENT event without a flush, then frames
 * from the new position (here without DISCONT). They are a new run, timed
 * from their PTS, and the final message describes what was classified:
 * 200 + 150 frames' worth of audio in 3 + 2 segments, not the 11.7 s from
 * the first frame to the last. */
static void test_non_flushing_seek(void) {
  TestClassifier f;
  test_classifier_start(&f, model, NULL);
  GstSegment seg;
  gst_segment_init(&seg, GST_FORMAT_TIME);
  g_assert_true(gst_harness_push_event(f.h, gst_event_new_segment(&seg)));
  gst_harness_push(f.h, frames(200, 0, 7));
  seg.start = seg.time = seg.position = 10 * GST_SECOND;
  g_assert_true(gst_harness_push_event(f.h, gst_event_new_segment(&seg)));
  gst_harness_push(f.h, frames(150, 10 * GST_SECOND, 8));
  g_assert_true(gst_harness_push_event(f.h, gst_event_new_eos()));
  GPtrArray *m = test_pop_messages(f.bus, "acrnn");
  g_assert_cmpuint(m->len, ==, 6);
  /* segments: [0, 128), [64, 192), [72, 200); then from 10 s [0, 128),
   * [22, 150) */
  const GstClockTime want[] = {test_frame_time(0), test_frame_time(64),
                               test_frame_time(72), 10 * GST_SECOND,
                               10 * GST_SECOND + test_frame_time(22)};
  for (guint i = 0; i < 5; i++) {
    g_assert_false(is_final(g_ptr_array_index(m, i)));
    g_assert_cmpuint(get_time(g_ptr_array_index(m, i), "timestamp"), ==,
                     want[i]);
  }
  const GstStructure *final = g_ptr_array_index(m, 5);
  g_assert_true(is_final(final));
  test_check_result_fields(final, 3);
  guint64 count = 0;
  g_assert_true(gst_structure_get_uint64(final, "segments", &count));
  g_assert_cmpuint(count, ==, 5);
  g_assert_cmpuint(get_time(final, "timestamp"), ==, 0);
  GstClockTime audio = gst_util_uint64_scale_int(199 * 512 + 1024, GST_SECOND,
                                                 TEST_FEATURE_RATE) +
                       gst_util_uint64_scale_int(149 * 512 + 1024, GST_SECOND,
                                                 TEST_FEATURE_RATE);
  g_assert_cmpuint(get_time(final, "duration"), ==, audio);
  g_ptr_array_unref(m);
  test_classifier_stop(&f);
}

/* Silent segments (frames of digital silence: every log band energy at
 * the floor) are reported as silence and left out of the decision: 200
 * loud frames then 300 silent ones give 4 classified segments (the 4th
 * holds 8 loud frames) and 3 silent ones; the final message's scores are
 * the mean over the 4. */
static void test_silence_decision(void) {
  TestClassifier f;
  test_classifier_start(&f, model, NULL);
  gst_harness_push(f.h, frames(200, 0, 9));
  size_t len = 300 * 2 * TEST_FEATURE_BANDS;
  float *x = g_new(float, len);
  for (size_t i = 0; i < len; i++)
    x[i] = i % (2 * TEST_FEATURE_BANDS) < TEST_FEATURE_BANDS
               ? -23.025850929940457f
               : 0.0f;
  GstBuffer *buf = gst_buffer_new_wrapped(x, len * sizeof(float));
  GST_BUFFER_PTS(buf) = test_frame_time(200);
  gst_harness_push(f.h, buf);
  g_assert_true(gst_harness_push_event(f.h, gst_event_new_eos()));
  GPtrArray *m = test_pop_messages(f.bus, "acrnn");
  g_assert_cmpuint(m->len, ==, 8);
  double mean[3] = {0, 0, 0};
  for (guint i = 0; i < 7; i++) {
    const GstStructure *s = g_ptr_array_index(m, i);
    test_check_result_fields(s, 3);
    gboolean silent = TRUE;
    gst_structure_get_boolean(s, "silent", &silent);
    g_assert_true(silent == (i >= 4));
    if (silent)
      continue;
    const GValue *labels = gst_structure_get_value(s, "labels");
    const GValue *scores = gst_structure_get_value(s, "scores");
    for (guint k = 0; k < 3; k++) {
      const char *l = g_value_get_string(gst_value_array_get_value(labels, k));
      guint c = 0;
      while (strcmp(test_labels[c], l) != 0)
        c++;
      mean[c] += g_value_get_double(gst_value_array_get_value(scores, k)) / 4;
    }
  }
  const GstStructure *final = g_ptr_array_index(m, 7);
  test_check_result_fields(final, 3);
  guint64 count = 0, n_silent = 0;
  gst_structure_get_uint64(final, "segments", &count);
  gst_structure_get_uint64(final, "silent-segments", &n_silent);
  g_assert_cmpuint(count, ==, 4);
  g_assert_cmpuint(n_silent, ==, 3);
  double best = 0;
  for (guint c = 0; c < 3; c++)
    best = MAX(best, mean[c]);
  double confidence = 0;
  gst_structure_get_double(final, "confidence", &confidence);
  g_assert_cmpfloat_with_epsilon(confidence, best, 1e-6);
  g_ptr_array_unref(m);
  test_classifier_stop(&f);
}

/* A GAP ends the run: a short run is classified (padded) at the gap, not
 * when more frames or EOS come. */
static void test_gap(void) {
  TestClassifier f;
  test_classifier_start(&f, model, NULL);
  gst_harness_push(f.h, frames(100, 0, 5));
  GPtrArray *m = test_pop_messages(f.bus, "acrnn");
  g_assert_cmpuint(m->len, ==, 0);
  g_ptr_array_unref(m);
  g_assert_true(gst_harness_push_event(
      f.h, gst_event_new_gap(test_frame_time(100), GST_SECOND)));
  m = test_pop_messages(f.bus, "acrnn");
  g_assert_cmpuint(m->len, ==, 1);
  g_assert_false(is_final(g_ptr_array_index(m, 0)));
  g_ptr_array_unref(m);
  test_classifier_stop(&f);
}

/* The DISCONT rule of both elements (run-timing.h): a DISCONT buffer without
 * PTS starts a new run, timed where the previous run's audio ended; the
 * short first run is classified (padded) when the DISCONT comes. */
static void test_discont_no_pts(void) {
  TestClassifier f;
  test_classifier_start(&f, model, NULL);
  gst_harness_push(f.h, frames(100, 0, 5));
  GstBuffer *b = frames(100, GST_CLOCK_TIME_NONE, 6);
  GST_BUFFER_FLAG_SET(b, GST_BUFFER_FLAG_DISCONT);
  gst_harness_push(f.h, b);
  GPtrArray *m = test_pop_messages(f.bus, "acrnn");
  g_assert_cmpuint(m->len, ==, 1); /* not segments 0 and 1 of one run */
  g_assert_cmpuint(get_time(g_ptr_array_index(m, 0), "timestamp"), ==, 0);
  g_ptr_array_unref(m);
  g_assert_true(gst_harness_push_event(f.h, gst_event_new_eos()));
  m = test_pop_messages(f.bus, "acrnn");
  g_assert_cmpuint(m->len, ==, 2);
  GstClockTime end =
      gst_util_uint64_scale_int(99 * 512 + 1024, GST_SECOND, TEST_FEATURE_RATE);
  g_assert_cmpuint(get_time(g_ptr_array_index(m, 0), "timestamp"), ==, end);
  g_assert_true(is_final(g_ptr_array_index(m, 1)));
  g_ptr_array_unref(m);
  test_classifier_stop(&f);
}

/* Latency: upstream's plus 127 frames, plus (batch - 1) segment hops. */
static void test_latency(void) {
  TestClassifier f;
  test_classifier_start(&f, model, "batch=3");
  gst_harness_set_upstream_latency(f.h, 10 * GST_MSECOND);
  g_assert_cmpuint(gst_harness_query_latency(f.h), ==,
                   10 * GST_MSECOND + test_frame_time(127 + 2 * 64));
  test_classifier_stop(&f);
}

/* NULL -> READY -> NULL again and again, through PAUSED too; a model set in
 * READY is loaded at PAUSED and a missing one fails there, naming it. */
static void test_state_cycles(void) {
  GstElement *e = gst_element_factory_make("acrnnclassify", NULL);
  GstBus *bus = gst_bus_new();
  gst_element_set_bus(e, bus);
  g_object_set(e, "model", model, NULL);
  for (int i = 0; i < 3; i++) {
    g_assert_cmpint(gst_element_set_state(e, GST_STATE_READY), ==,
                    GST_STATE_CHANGE_SUCCESS);
    if (i == 1) {
      g_assert_cmpint(gst_element_set_state(e, GST_STATE_PAUSED), !=,
                      GST_STATE_CHANGE_FAILURE);
      g_assert_cmpint(gst_element_set_state(e, GST_STATE_READY), ==,
                      GST_STATE_CHANGE_SUCCESS);
    }
    test_check_labels(e);
    g_assert_cmpint(gst_element_set_state(e, GST_STATE_NULL), ==,
                    GST_STATE_CHANGE_SUCCESS);
  }
  g_assert_cmpint(gst_element_set_state(e, GST_STATE_READY), ==,
                  GST_STATE_CHANGE_SUCCESS);
  char *missing = g_build_filename(tmpdir, "missing.safetensors", NULL);
  g_object_set(e, "model", missing, NULL);
  g_assert_cmpint(gst_element_set_state(e, GST_STATE_PAUSED), ==,
                  GST_STATE_CHANGE_FAILURE);
  GError *error = test_pop_error(bus);
  g_assert_true(
      g_error_matches(error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NOT_FOUND));
  g_assert_nonnull(strstr(error->message, missing));
  g_error_free(error);
  g_free(missing);
  gst_element_set_state(e, GST_STATE_NULL);
  gst_element_set_bus(e, NULL);
  gst_object_unref(bus);
  gst_object_unref(e);
}

/* gammatonespec sample-rate=0 before acrnnclassify: the source picks the
 * 16 kHz of the model (no mismatch warning), not its default 44.1 kHz. */
static void test_model_rate(void) {
  char *model16 = test_make_model_at_rate(tmpdir, "model16k.safetensors",
                                          TEST_FEATURE_BANDS, 16000, 5);
  char *desc = g_strdup_printf(
      "audiotestsrc num-buffers=20 ! gammatonespec name=spec sample-rate=0 "
      "bands=%d ! acrnnclassify model=\"%s\" ! fakesink",
      TEST_FEATURE_BANDS, model16);
  g_free(model16);
  GstElement *pipeline = gst_parse_launch(desc, NULL);
  g_free(desc);
  g_assert_nonnull(pipeline);
  GstElement *spec = gst_bin_get_by_name(GST_BIN(pipeline), "spec");
  test_play_to_eos(pipeline, 30, GST_MESSAGE_ERROR | GST_MESSAGE_WARNING);
  GstPad *pad = gst_element_get_static_pad(spec, "sink");
  GstCaps *caps = gst_pad_get_current_caps(pad);
  int rate = 0;
  gst_structure_get_int(gst_caps_get_structure(caps, 0), "rate", &rate);
  g_assert_cmpint(rate, ==, 16000);
  gst_caps_unref(caps);
  gst_object_unref(pad);
  gst_element_set_state(pipeline, GST_STATE_NULL);
  gst_object_unref(spec);
  gst_object_unref(pipeline);
}

int main(int argc, char **argv) {
  tmpdir = test_init(&argc, &argv);
  model = test_make_model(tmpdir, "events.safetensors", TEST_FEATURE_BANDS, 4);
  g_test_add_func("/acrnnclassify/events/segment-times", test_segment_times);
  g_test_add_func("/acrnnclassify/events/before-segment", test_before_segment);
  g_test_add_func("/acrnnclassify/events/bytes-segment", test_bytes_segment);
  g_test_add_func("/acrnnclassify/events/no-pts", test_no_pts);
  g_test_add_func("/acrnnclassify/events/new-stream", test_new_stream);
  g_test_add_func("/acrnnclassify/events/gap", test_gap);
  g_test_add_func("/acrnnclassify/events/discont-no-pts", test_discont_no_pts);
  g_test_add_func("/acrnnclassify/events/silence-decision",
                  test_silence_decision);
  g_test_add_func("/acrnnclassify/events/non-flushing-seek",
                  test_non_flushing_seek);
  g_test_add_func("/acrnnclassify/events/latency", test_latency);
  g_test_add_func("/acrnnclassify/events/state-cycles", test_state_cycles);
  g_test_add_func("/acrnnclassify/events/model-rate", test_model_rate);
  int ret = test_run_tests();
  g_free(model);
  return ret;
}
