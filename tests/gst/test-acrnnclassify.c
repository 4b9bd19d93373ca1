/* test-acrnnclassify.c - acrnnclassify in pipelines with a small random test
 * model: one message per segment with all fields and the right timing, one
 * final message (mean probability) before EOS, batching gives the same
 * results, the last segment of a stream (its last 128 frames) equals the
 * network on those frames, short and empty streams, threshold and top-k,
 * the labels property, the text output (a label and a newline) and a file of
 * it, the silence gate on digital silence and faint noise, a model change in
 * PAUSED refused, and a live source. */
#include "gst-test-util.h"

#include <acrnn/features.h>
#include <acrnn/model.h>
#include <acrnn/network.h>
#include <glib/gstdio.h>
#include <gst/app/gstappsink.h>
#include <gst/gst.h>
#include <math.h>
#include <string.h>

#define RATE 44100
#define BANDS 32

static const char *tmpdir;
static char *model;

static char *classify_pipeline(int num_buffers, const char *extra) {
  return g_strdup_printf(
      "audiotestsrc num-buffers=%d samplesperbuffer=1024 wave=saw freq=330 ! "
      "audioconvert ! audioresample ! gammatonespec bands=%d ! "
      "acrnnclassify model=\"%s\" %s ! fakesink",
      num_buffers, BANDS, model, extra != NULL ? extra : "");
}

static TestRun *run_classify(int num_buffers, const char *extra) {
  char *desc = classify_pipeline(num_buffers, extra);
  TestRun *run = test_run_to_eos(desc, 50);
  g_free(desc);
  return run;
}

static GstClockTime samples_time(guint64 samples) {
  return gst_util_uint64_scale_int(samples, GST_SECOND, RATE);
}

/* scores of s, by label index (top-k must cover every label) */
static void scores_by_label(const GstStructure *s, double *p) {
  const GValue *labels = gst_structure_get_value(s, "labels");
  const GValue *scores = gst_structure_get_value(s, "scores");
  g_assert_cmpuint(gst_value_array_get_size(labels), ==, TEST_N_LABELS);
  for (int i = 0; i < TEST_N_LABELS; i++) {
    const char *l = g_value_get_string(gst_value_array_get_value(labels, i));
    int c = 0;
    while (c < TEST_N_LABELS && strcmp(test_labels[c], l) != 0)
      c++;
    g_assert_cmpint(c, <, TEST_N_LABELS);
    p[c] = g_value_get_double(gst_value_array_get_value(scores, i));
  }
}

/* 172 buffers of 1024 samples: 343 frames, 4 whole segments (to frame 320)
 * and the segment of the last 128 frames, [215, 343). */
static void test_segments(void) {
  TestRun *run = run_classify(172, NULL);
  g_assert_cmpuint(run->results->len, ==, 6);
  const GstStructure *final = test_final_result(run);
  g_assert_nonnull(final);
  double mean[TEST_N_LABELS] = {0};
  for (guint s = 0; s < 5; s++) {
    const GstStructure *r = g_ptr_array_index(run->results, s);
    test_check_result_fields(r, 3);
    guint64 index, ts, st, rt, dur;
    g_assert_true(gst_structure_get_uint64(r, "segment", &index));
    g_assert_cmpuint(index, ==, s);
    gst_structure_get_uint64(r, "timestamp", &ts);
    gst_structure_get_uint64(r, "stream-time", &st);
    gst_structure_get_uint64(r, "running-time", &rt);
    gst_structure_get_uint64(r, "duration", &dur);
    g_assert_cmpuint(ts, ==, samples_time((s < 4 ? s * 64 : 215) * 512));
    g_assert_cmpuint(st, ==, ts);
    g_assert_cmpuint(rt, ==, ts);
    g_assert_cmpuint(dur, ==, samples_time(127 * 512 + 1024));
    double p[TEST_N_LABELS];
    scores_by_label(r, p);
    for (int c = 0; c < TEST_N_LABELS; c++)
      mean[c] += p[c] / 5;
  }
  test_check_result_fields(final, 3);
  guint64 count, ts, dur;
  g_assert_true(gst_structure_get_uint64(final, "segments", &count));
  g_assert_cmpuint(count, ==, 5);
  gst_structure_get_uint64(final, "timestamp", &ts);
  gst_structure_get_uint64(final, "duration", &dur);
  g_assert_cmpuint(ts, ==, 0);
  g_assert_cmpuint(dur, ==, samples_time(342 * 512 + 1024));
  double p[TEST_N_LABELS];
  scores_by_label(final, p);
  int best = 0;
  for (int c = 0; c < TEST_N_LABELS; c++) {
    g_assert_cmpfloat_with_epsilon(p[c], mean[c], 1e-5);
    if (mean[c] > mean[best])
      best = c;
  }
  g_assert_cmpstr(gst_structure_get_string(final, "label"), ==,
                  test_labels[best]);
  test_run_free(run);
}

/* batch=3 (a batch of 3 then 2 at EOS) gives the results of batch=1. */
static void test_batch(void) {
  TestRun *one = run_classify(172, "batch=1");
  TestRun *three = run_classify(172, "batch=3");
  g_assert_cmpuint(one->results->len, ==, 6);
  g_assert_cmpuint(three->results->len, ==, 6);
  for (guint i = 0; i < 6; i++) {
    const GstStructure *a = g_ptr_array_index(one->results, i);
    const GstStructure *b = g_ptr_array_index(three->results, i);
    double pa[TEST_N_LABELS], pb[TEST_N_LABELS];
    scores_by_label(a, pa);
    scores_by_label(b, pb);
    for (int c = 0; c < TEST_N_LABELS; c++)
      g_assert_cmpfloat_with_epsilon(pa[c], pb[c], 1e-5);
    guint64 ta, tb;
    gst_structure_get_uint64(a, "timestamp", &ta);
    gst_structure_get_uint64(b, "timestamp", &tb);
    g_assert_cmpuint(ta, ==, tb);
  }
  test_run_free(one);
  test_run_free(three);
}

/* The segments' probabilities are the network's on the frames the library
 * cuts from the whole stream (acrnn_segment_extract, as acrnn-train eval):
 * the last one on the last 128 frames, so that the end of the stream is
 * classified. In fp32, as the library's default network here (precision
 * auto is bf16 on CPUs with AVX512_BF16). */
static void test_tail_segment(void) {
  char *desc = g_strdup_printf(
      "audiotestsrc num-buffers=172 samplesperbuffer=1024 wave=saw freq=330 ! "
      "audioconvert ! audioresample ! gammatonespec bands=%d ! tee name=t ! "
      "queue ! acrnnclassify model=\"%s\" precision=fp32 ! fakesink t. ! "
      "queue ! appsink name=frames sync=false",
      BANDS, model);
  GstElement *pipeline = gst_parse_launch(desc, NULL);
  g_free(desc);
  GstElement *sink = gst_bin_get_by_name(GST_BIN(pipeline), "frames");
  gst_element_set_state(pipeline, GST_STATE_PLAYING);
  GByteArray *bytes = g_byte_array_new();
  GstSample *sample;
  while ((sample = gst_app_sink_try_pull_sample(GST_APP_SINK(sink),
                                                30 * GST_SECOND)) != NULL) {
    GstMapInfo map;
    gst_buffer_map(gst_sample_get_buffer(sample), &map, GST_MAP_READ);
    g_byte_array_append(bytes, map.data, (guint)map.size);
    gst_buffer_unmap(gst_sample_get_buffer(sample), &map);
    gst_sample_unref(sample);
  }
  g_assert_true(gst_app_sink_is_eos(GST_APP_SINK(sink)));
  GstBus *bus = gst_element_get_bus(pipeline);
  GPtrArray *results =
      g_ptr_array_new_with_free_func((GDestroyNotify)gst_structure_free);
  GstMessage *msg;
  while (
      (msg = gst_bus_timed_pop_filtered(bus, 30 * GST_SECOND,
                                        GST_MESSAGE_ELEMENT | GST_MESSAGE_EOS |
                                            GST_MESSAGE_ERROR)) != NULL) {
    GstMessageType type = GST_MESSAGE_TYPE(msg);
    const GstStructure *s = gst_message_get_structure(msg);
    if (type == GST_MESSAGE_ELEMENT && gst_structure_has_name(s, "acrnn"))
      g_ptr_array_add(results, gst_structure_copy(s));
    gst_message_unref(msg);
    g_assert_cmpint(type, !=, GST_MESSAGE_ERROR);
    if (type == GST_MESSAGE_EOS)
      break;
  }
  gst_element_set_state(pipeline, GST_STATE_NULL);

  size_t n_frames = bytes->len / (2 * BANDS * sizeof(float));
  g_assert_cmpuint(n_frames, ==, 343);
  size_t count = acrnn_segment_count_covering(n_frames, 128, 64);
  g_assert_cmpuint(count, ==, 5);
  g_assert_cmpuint(results->len, ==, count + 1);
  GError *error = NULL;
  AcrnnModelInfo info;
  AcrnnNet *net = acrnn_model_load(model, &info, &error);
  g_assert_no_error(error);
  float *x = g_new(float, 2 * BANDS * 128);
  float probs[TEST_N_LABELS];
  for (size_t s = 0; s < count; s++) {
    acrnn_segment_extract((const float *)bytes->data, n_frames, BANDS, 128, 64,
                          s, info.mean, info.std, x);
    acrnn_net_forward(net, x, 1, FALSE, NULL);
    acrnn_net_probabilities(net, probs);
    double p[TEST_N_LABELS];
    scores_by_label(g_ptr_array_index(results, s), p);
    for (int c = 0; c < TEST_N_LABELS; c++)
      g_assert_cmpfloat_with_epsilon(p[c], probs[c], 1e-5);
  }
  g_free(x);
  acrnn_net_free(net);
  acrnn_model_info_clear(&info);
  g_ptr_array_unref(results);
  g_byte_array_unref(bytes);
  gst_object_unref(bus);
  gst_object_unref(sink);
  gst_object_unref(pipeline);
}

/* 1 s (85 frames): one segment padded with silence, then the final. */
static void test_short_stream(void) {
  TestRun *run = run_classify(43, NULL);
  g_assert_cmpuint(run->results->len, ==, 2);
  const GstStructure *seg = g_ptr_array_index(run->results, 0);
  test_check_result_fields(seg, 3);
  guint64 dur;
  gst_structure_get_uint64(seg, "duration", &dur);
  g_assert_cmpuint(dur, ==, samples_time(84 * 512 + 1024));
  const GstStructure *final = test_final_result(run);
  g_assert_nonnull(final);
  guint64 count;
  gst_structure_get_uint64(final, "segments", &count);
  g_assert_cmpuint(count, ==, 1);
  g_assert_cmpstr(gst_structure_get_string(final, "label"), ==,
                  gst_structure_get_string(seg, "label"));
  test_run_free(run);
}

/* No audio at all: EOS and no message (there is nothing to decide). */
static void test_empty_stream(void) {
  TestRun *run = run_classify(0, NULL);
  g_assert_cmpuint(run->results->len, ==, 0);
  test_run_free(run);
  /* less than one window: no frame, no message either */
  char *desc = g_strdup_printf(
      "audiotestsrc num-buffers=1 samplesperbuffer=500 ! gammatonespec "
      "bands=%d ! acrnnclassify model=\"%s\" ! fakesink",
      BANDS, model);
  run = test_run_to_eos(desc, 30);
  g_free(desc);
  g_assert_cmpuint(run->results->len, ==, 0);
  test_run_free(run);
}

/* threshold=1 hides every segment (a softmax of 3 classes from random
 * weights is below 1), the final is still posted; top-k=1. */
static void test_threshold_top_k(void) {
  TestRun *run = run_classify(172, "threshold=1.0 top-k=1");
  g_assert_cmpuint(run->results->len, ==, 1);
  const GstStructure *final = test_final_result(run);
  g_assert_nonnull(final);
  test_check_result_fields(final, 1);
  test_run_free(run);
  run = run_classify(172, "post-messages=false");
  g_assert_cmpuint(run->results->len, ==, 0);
  test_run_free(run);
}

static void test_labels_property(void) {
  GstElement *e = gst_element_factory_make("acrnnclassify", NULL);
  g_assert_nonnull(e);
  g_object_set(e, "model", model, NULL);
  char **labels = NULL;
  g_object_get(e, "labels", &labels, NULL);
  g_assert_null(labels);
  g_assert_cmpint(gst_element_set_state(e, GST_STATE_READY), ==,
                  GST_STATE_CHANGE_SUCCESS);
  test_check_labels(e);
  gst_element_set_state(e, GST_STATE_NULL);
  gst_object_unref(e);
}

/* The src pad gives each segment's label as text, timestamped: the whole
 * segments' texts tile the timeline one segment hop each, the last
 * segment's (the last 128 frames) lasts from there to the end of the
 * audio. */
static void test_text_output(void) {
  char *desc = g_strdup_printf(
      "audiotestsrc num-buffers=172 samplesperbuffer=1024 wave=pink-noise ! "
      "gammatonespec bands=%d ! acrnnclassify model=\"%s\" ! "
      "appsink name=sink sync=false",
      BANDS, model);
  GstElement *pipeline = gst_parse_launch(desc, NULL);
  g_free(desc);
  g_assert_nonnull(pipeline);
  GstElement *sink = gst_bin_get_by_name(GST_BIN(pipeline), "sink");
  gst_element_set_state(pipeline, GST_STATE_PLAYING);
  guint n = 0;
  GstSample *sample;
  while ((sample = gst_app_sink_try_pull_sample(GST_APP_SINK(sink),
                                                30 * GST_SECOND)) != NULL) {
    if (n == 0) {
      GstCaps *caps = gst_sample_get_caps(sample);
      GstCaps *want = gst_caps_from_string("text/x-raw, format=utf8");
      g_assert_true(gst_caps_is_equal(caps, want));
      gst_caps_unref(want);
    }
    GstBuffer *buf = gst_sample_get_buffer(sample);
    g_assert_cmpuint(GST_BUFFER_PTS(buf), ==, samples_time(n * 64 * 512));
    GstClockTime end = n < 4 ? samples_time((n + 1) * 64 * 512)
                             : samples_time(342 * 512 + 1024);
    g_assert_cmpuint(GST_BUFFER_DURATION(buf), ==,
                     end - samples_time(n * 64 * 512));
    GstMapInfo map;
    gst_buffer_map(buf, &map, GST_MAP_READ);
    /* a label and a newline */
    g_assert_cmpuint(map.size, >, 1);
    g_assert_cmpint(map.data[map.size - 1], ==, '\n');
    char *text = g_strndup((const char *)map.data, map.size - 1);
    gst_buffer_unmap(buf, &map);
    g_assert_true(g_strv_contains(test_labels, text));
    g_free(text);
    gst_sample_unref(sample);
    n++;
  }
  g_assert_true(gst_app_sink_is_eos(GST_APP_SINK(sink)));
  g_assert_cmpuint(n, ==, 5);
  gst_element_set_state(pipeline, GST_STATE_NULL);
  gst_object_unref(sink);
  gst_object_unref(pipeline);
}

/* Plays pipeline to EOS; the final acrnn message (a copy). */
static GstStructure *play_to_final(GstElement *pipeline) {
  GstBus *bus = gst_element_get_bus(pipeline);
  gst_element_set_state(pipeline, GST_STATE_PLAYING);
  GstStructure *final = NULL;
  GstMessage *msg;
  while ((msg = gst_bus_timed_pop_filtered(bus, 50 * GST_SECOND,
                                           GST_MESSAGE_EOS | GST_MESSAGE_ERROR |
                                               GST_MESSAGE_ELEMENT)) != NULL) {
    GstMessageType type = GST_MESSAGE_TYPE(msg);
    const GstStructure *s = gst_message_get_structure(msg);
    gboolean is_final = FALSE;
    if (type == GST_MESSAGE_ELEMENT && gst_structure_has_name(s, "acrnn") &&
        gst_structure_get_boolean(s, "final", &is_final) && is_final)
      final = gst_structure_copy(s);
    gst_message_unref(msg);
    g_assert_cmpint(type, !=, GST_MESSAGE_ERROR);
    if (type == GST_MESSAGE_EOS)
      break;
  }
  gst_object_unref(bus);
  g_assert_nonnull(final);
  return final;
}

/* Setting the model in PAUSED is refused with a WARNING that names both
 * files: the property still names the model in use, which classifies the
 * whole stream; once stopped (READY), the new model is loaded. */
static void test_model_change_refused(void) {
  char *other = test_make_model(tmpdir, "other.safetensors", BANDS, 2);
  TestRun *ref = run_classify(172, NULL);
  const GstStructure *want = test_final_result(ref);
  char *desc = classify_pipeline(172, "name=c");
  GstElement *pipeline = gst_parse_launch(desc, NULL);
  g_free(desc);
  GstElement *c = gst_bin_get_by_name(GST_BIN(pipeline), "c");
  GstObject *source = NULL;
  GError *error = test_refuse_model_change(pipeline, c, model, other, &source);
  g_assert_true(source == GST_OBJECT(c));
  g_assert_nonnull(strstr(error->message, "other.safetensors"));
  g_assert_nonnull(strstr(error->message, "test.safetensors"));
  g_error_free(error);
  gst_object_unref(source);
  GstStructure *got = play_to_final(pipeline);
  double a[TEST_N_LABELS], b[TEST_N_LABELS];
  scores_by_label(want, a);
  scores_by_label(got, b);
  for (int i = 0; i < TEST_N_LABELS; i++)
    g_assert_cmpfloat_with_epsilon(a[i], b[i], 1e-6);
  gst_structure_free(got);

  /* stopped: the change is taken */
  gst_element_set_state(pipeline, GST_STATE_READY);
  g_object_set(c, "model", other, NULL);
  char *now = NULL;
  g_object_get(c, "model", &now, NULL);
  g_assert_cmpstr(now, ==, other);
  g_free(now);
  got = play_to_final(pipeline);
  scores_by_label(got, b);
  double diff = 0;
  for (int i = 0; i < TEST_N_LABELS; i++)
    diff = MAX(diff, fabs(a[i] - b[i]));
  g_assert_cmpfloat(diff, >, 1e-3);
  gst_structure_free(got);
  gst_element_set_state(pipeline, GST_STATE_NULL);
  gst_object_unref(c);
  gst_object_unref(pipeline);
  test_run_free(ref);
  g_unlink(other);
  g_free(other);
}

/* A stream of 4 s of wave with the given extra properties (audiotestsrc),
 * classified with extra classifier properties. */
static TestRun *run_wave(const char *wave, const char *extra) {
  char *desc = g_strdup_printf(
      "audiotestsrc num-buffers=172 samplesperbuffer=1024 wave=%s ! "
      "audioconvert ! audioresample ! gammatonespec bands=%d ! "
      "acrnnclassify model=\"%s\" %s ! fakesink",
      wave, BANDS, model, extra != NULL ? extra : "");
  TestRun *run = test_run_to_eos(desc, 50);
  g_free(desc);
  for (guint i = 0; i < run->results->len; i++)
    test_check_result_fields(g_ptr_array_index(run->results, i), 3);
  return run;
}

/* Segments of run that are silent, and whether each level is in [lo, hi]. */
static guint count_silent(const TestRun *run, double lo, double hi) {
  guint silent = 0;
  for (guint i = 0; i + 1 < run->results->len; i++) {
    const GstStructure *s = g_ptr_array_index(run->results, i);
    gboolean is_silent = FALSE;
    double level = 0;
    gst_structure_get_boolean(s, "silent", &is_silent);
    gst_structure_get_double(s, "level", &level);
    g_test_message("segment %u: level %.1f dBFS, %s", i, level,
                   gst_structure_get_string(s, "label"));
    g_assert_cmpfloat(level, >=, lo);
    g_assert_cmpfloat(level, <=, hi);
    silent += is_silent;
  }
  return silent;
}

/* Digital silence and faint noise (about -70 dBFS) are silence under the
 * default gate (-60 dBFS): every segment and the final message say so, and
 * no class is named. The same noise is classified with the gate lowered,
 * and loud noise is classified under the default. */
static void test_silence(void) {
  TestRun *run = run_wave("silence", NULL);
  g_assert_cmpuint(run->results->len, ==, 6);
  g_assert_cmpuint(count_silent(run, -200, -100), ==, 5);
  const GstStructure *final = test_final_result(run);
  gboolean silent = FALSE;
  guint64 segments = 99, n_silent = 0;
  g_assert_true(gst_structure_get_boolean(final, "silent", &silent));
  g_assert_true(silent);
  g_assert_cmpstr(gst_structure_get_string(final, "label"), ==, "silence");
  g_assert_cmpstr(gst_structure_get_string(final, "top-k"), ==,
                  "silence:1.0000");
  gst_structure_get_uint64(final, "segments", &segments);
  gst_structure_get_uint64(final, "silent-segments", &n_silent);
  g_assert_cmpuint(segments, ==, 0);
  g_assert_cmpuint(n_silent, ==, 5);
  test_run_free(run);

  /* no label on the text pad: a file of it stays empty */
  char *path = g_build_filename(tmpdir, "silence.txt", NULL);
  char *desc = g_strdup_printf(
      "audiotestsrc num-buffers=172 samplesperbuffer=1024 wave=silence ! "
      "gammatonespec bands=%d ! acrnnclassify model=\"%s\" ! "
      "filesink location=\"%s\"",
      BANDS, model, path);
  run = test_run_pipeline(desc, 50, 0);
  g_free(desc);
  g_assert_true(run->eos);
  g_assert_cmpuint(run->results->len, ==, 6);
  test_run_free(run);
  char *text = NULL;
  gsize len = 99;
  g_assert_true(g_file_get_contents(path, &text, &len, NULL));
  g_assert_cmpuint(len, ==, 0);
  g_free(text);
  g_unlink(path);
  g_free(path);

  run = run_wave("pink-noise volume=0.003", NULL);
  g_assert_cmpuint(count_silent(run, -72, -67), ==, 5);
  g_assert_true(
      gst_structure_get_boolean(test_final_result(run), "silent", &silent));
  g_assert_true(silent);
  test_run_free(run);

  run = run_wave("pink-noise volume=0.003", "silence-threshold=-80");
  g_assert_cmpuint(count_silent(run, -72, -67), ==, 0);
  g_assert_true(
      gst_structure_get_boolean(test_final_result(run), "silent", &silent));
  g_assert_false(silent);
  test_run_free(run);

  run = run_wave("pink-noise", NULL);
  g_assert_cmpuint(count_silent(run, -40, 0), ==, 0);
  test_run_free(run);
}

/* The text stream written by filesink is one label a line, one line per
 * classified segment. */
static void test_text_file(void) {
  char *path = g_build_filename(tmpdir, "labels.txt", NULL);
  char *desc = g_strdup_printf(
      "audiotestsrc num-buffers=172 samplesperbuffer=1024 wave=pink-noise ! "
      "gammatonespec bands=%d ! acrnnclassify model=\"%s\" ! "
      "filesink location=\"%s\"",
      BANDS, model, path);
  TestRun *run = test_run_to_eos(desc, 50);
  g_free(desc);
  char *text = NULL;
  g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
  g_assert_true(g_str_has_suffix(text, "\n"));
  char **lines = g_strsplit(text, "\n", -1);
  guint n = g_strv_length(lines) - 1; /* after the last newline: "" */
  g_assert_cmpstr(lines[n], ==, "");
  g_assert_cmpuint(n, ==, run->results->len - 1);
  for (guint i = 0; i < n; i++) {
    const GstStructure *r = g_ptr_array_index(run->results, i);
    g_assert_cmpstr(lines[i], ==, gst_structure_get_string(r, "label"));
  }
  g_strfreev(lines);
  g_free(text);
  g_unlink(path);
  g_free(path);
  test_run_free(run);
}

/* A live source: the first message arrives while the pipeline plays. */
static void test_live(void) {
  char *desc = g_strdup_printf(
      "audiotestsrc is-live=true samplesperbuffer=441 wave=pink-noise ! "
      "audioconvert ! audioresample ! gammatonespec bands=%d ! "
      "acrnnclassify model=\"%s\" ! fakesink",
      BANDS, model);
  TestRun *run = test_run_pipeline(desc, 30, 1);
  g_free(desc);
  g_assert_no_error(run->error);
  g_assert_false(run->timed_out);
  g_assert_false(run->eos);
  g_assert_true(run->result_while_playing);
  g_assert_cmpuint(run->results->len, ==, 1);
  test_check_result_fields(g_ptr_array_index(run->results, 0), 3);
  test_run_free(run);
}

int main(int argc, char **argv) {
  tmpdir = test_init(&argc, &argv);
  model = test_make_model(tmpdir, "test.safetensors", BANDS, 1);
  g_test_add_func("/acrnnclassify/segments", test_segments);
  g_test_add_func("/acrnnclassify/batch", test_batch);
  g_test_add_func("/acrnnclassify/tail-segment", test_tail_segment);
  g_test_add_func("/acrnnclassify/short-stream", test_short_stream);
  g_test_add_func("/acrnnclassify/empty-stream", test_empty_stream);
  g_test_add_func("/acrnnclassify/threshold-top-k", test_threshold_top_k);
  g_test_add_func("/acrnnclassify/labels-property", test_labels_property);
  g_test_add_func("/acrnnclassify/text-output", test_text_output);
  g_test_add_func("/acrnnclassify/text-file", test_text_file);
  g_test_add_func("/acrnnclassify/silence", test_silence);
  g_test_add_func("/acrnnclassify/model-change-refused",
                  test_model_change_refused);
  g_test_add_func("/acrnnclassify/live", test_live);
  int ret = test_run_tests();
  g_free(model);
  return ret;
}
