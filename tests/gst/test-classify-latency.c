/* test-classify-latency.c - the latency the elements answer is the README's
 * formula: gammatonespec (n-fft + (delta-width - 1) / 2 * hop) / rate,
 * 69.7 ms at the defaults; acrnnclassify (S - 1) * hop / rate for one
 * segment plus (batch - 1) segment hops. The segment-hop property (0: the
 * model's 64) sets how often segments are classified: a segment at hop 16
 * is classified exactly as the same frames at hop 64, the labels tile the
 * timeline at the new hop, and the latency counts it. */
#include "gst-test-harness.h"

#include <gst/gst.h>
#include <math.h>

static const char *tmpdir;
static char *model;

static GstClockTime samples_time(guint64 samples) {
  return gst_util_uint64_scale_int(samples, GST_SECOND, TEST_FEATURE_RATE);
}

/* acrnnclassify with batch and segment_hop (0: the model's), fed frames
 * by a harness whose upstream has 10 ms of latency. */
static void fixture_start(TestClassifier *f, guint batch, guint segment_hop) {
  /* the synthetic frames are quieter than the default silence gate, which
   * is not what these tests are about */
  char *props = g_strdup_printf("batch=%u silence-threshold=-1000", batch);
  if (segment_hop > 0) {
    char *more = g_strdup_printf("%s segment-hop=%u", props, segment_hop);
    g_free(props);
    props = more;
  }
  test_classifier_start(f, model, props);
  g_free(props);
  gst_harness_set_upstream_latency(f->h, 10 * GST_MSECOND);
}

/* The per-segment acrnn messages posted so far (not the final one). */
static GPtrArray *segment_messages(TestClassifier *f) {
  GPtrArray *out =
      g_ptr_array_new_with_free_func((GDestroyNotify)gst_structure_free);
  GstMessage *msg;
  while ((msg = gst_bus_pop_filtered(f->bus, GST_MESSAGE_ELEMENT)) != NULL) {
    const GstStructure *s = gst_message_get_structure(msg);
    gboolean final = TRUE;
    if (gst_structure_has_name(s, "acrnn") &&
        gst_structure_get_boolean(s, "final", &final) && !final)
      g_ptr_array_add(out, gst_structure_copy(s));
    gst_message_unref(msg);
  }
  return out;
}

/* Random feature frames: log energies in [-20, -5). */
static GstBuffer *frames(guint n, GstClockTime pts, guint32 seed) {
  return test_feature_frames(n, pts, -20, -5, seed);
}

/* acrnnclassify alone: 10 ms upstream + 127 frames + (batch - 1) hops. */
static void test_classify_latency(void) {
  const guint cases[][2] = {{1, 0}, {4, 0}, {1, 16}, {3, 16}, {2, 100}};
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    guint batch = cases[i][0], hop = cases[i][1];
    TestClassifier f;
    fixture_start(&f, batch, hop);
    guint64 segment_hop = hop > 0 ? hop : 64;
    g_assert_cmpuint(gst_harness_query_latency(f.h), ==,
                     10 * GST_MSECOND +
                         test_frame_time(127 + (batch - 1) * segment_hop));
    test_classifier_stop(&f);
  }
}

/* The whole chain as the README spells it out, at the defaults:
 * gammatonespec 3072 samples (69.7 ms) + acrnnclassify batch=1 127 frames
 * (1.474 s) = 1.544 s, plus upstream's 10 ms. */
static void test_chain_latency(void) {
  char *d = g_strdup_printf("gammatonespec bands=32 ! acrnnclassify "
                            "model=\"%s\" batch=1",
                            model);
  GstHarness *h = gst_harness_new_parse(d);
  g_free(d);
  gst_harness_set_src_caps_str(h, "audio/x-raw, format=F32LE, channels=1, "
                                  "layout=interleaved, rate=44100");
  gst_harness_set_upstream_latency(h, 10 * GST_MSECOND);
  GstClockTime latency = gst_harness_query_latency(h);
  g_assert_cmpuint(latency, ==,
                   10 * GST_MSECOND + samples_time(1024 + 4 * 512) +
                       samples_time(127 * 512));
  g_assert_cmpuint(samples_time(1024 + 4 * 512) / (100 * GST_USECOND), ==,
                   696); /* 69.7 ms, as documented */
  g_assert_cmpuint(latency / GST_MSECOND, ==, 1554); /* 1.544 s + 10 ms */
  gst_harness_teardown(h);
}

/* 300 frames at hop 16: segments at frames 0, 16, ..., 160 (11), each
 * classified as the same frames are at hop 64, the text buffers 16 frames
 * long. */
static void test_segment_hop_results(void) {
  TestClassifier f;
  fixture_start(&f, 1, 0);
  gst_harness_push(f.h, frames(300, 0, 3));
  GPtrArray *at64 = segment_messages(&f);
  test_classifier_stop(&f);
  g_assert_cmpuint(at64->len, ==, 3);

  fixture_start(&f, 1, 16);
  gst_harness_push(f.h, frames(300, 0, 3));
  GPtrArray *at16 = segment_messages(&f);
  g_assert_cmpuint(at16->len, ==, 11);
  for (guint i = 0; i < at16->len; i++) {
    const GstStructure *s = g_ptr_array_index(at16, i);
    guint64 ts = 0, index = 99;
    gst_structure_get_uint64(s, "timestamp", &ts);
    gst_structure_get_uint64(s, "segment", &index);
    g_assert_cmpuint(ts, ==, test_frame_time(16 * i));
    g_assert_cmpuint(index, ==, i);
    if (i % 4 == 0) {
      const GstStructure *t = g_ptr_array_index(at64, i / 4);
      gdouble a = 0, b = 1;
      gst_structure_get_double(s, "confidence", &a);
      gst_structure_get_double(t, "confidence", &b);
      g_assert_cmpfloat(fabs(a - b), <=, 1e-6);
      g_assert_cmpstr(gst_structure_get_string(s, "label"), ==,
                      gst_structure_get_string(t, "label"));
    }
  }
  guint texts = 0;
  GstBuffer *buf;
  while ((buf = gst_harness_try_pull(f.h)) != NULL) {
    g_assert_cmpuint(GST_BUFFER_PTS(buf), ==, test_frame_time(16 * texts));
    g_assert_cmpuint(GST_BUFFER_DURATION(buf), ==,
                     test_frame_time(16 * (texts + 1)) -
                         test_frame_time(16 * texts));
    texts++;
    gst_buffer_unref(buf);
  }
  g_assert_cmpuint(texts, ==, 11);
  g_ptr_array_unref(at64);
  g_ptr_array_unref(at16);
  test_classifier_stop(&f);
}

/* soundclassifier (and soundanalyzer) offer segment-hop too. */
static void test_bins_have_segment_hop(void) {
  const char *bins[] = {"soundclassifier", "soundanalyzer"};
  for (guint i = 0; i < G_N_ELEMENTS(bins); i++) {
    GstElement *e = gst_element_factory_make(bins[i], NULL);
    g_assert_nonnull(e);
    guint hop = 99;
    g_object_get(e, "segment-hop", &hop, NULL);
    g_assert_cmpuint(hop, ==, 0);
    g_object_set(e, "segment-hop", 32, NULL);
    g_object_get(e, "segment-hop", &hop, NULL);
    g_assert_cmpuint(hop, ==, 32);
    gst_object_unref(e);
  }
}

int main(int argc, char **argv) {
  tmpdir = test_init(&argc, &argv);
  model = test_make_model(tmpdir, "model.safetensors", TEST_FEATURE_BANDS, 9);
  g_test_add_func("/acrnnclassify/latency/classify", test_classify_latency);
  g_test_add_func("/acrnnclassify/latency/chain", test_chain_latency);
  g_test_add_func("/acrnnclassify/latency/segment-hop-results",
                  test_segment_hop_results);
  g_test_add_func("/acrnnclassify/latency/bins", test_bins_have_segment_hop);
  int ret = test_run_tests();
  g_free(model);
  return ret;
}
