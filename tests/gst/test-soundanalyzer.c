/* test-soundanalyzer.c - the soundanalyzer bin: the audio comes out byte for
 * byte as it went in (with its timestamps), the acrnn messages are posted
 * (the final one before the pipeline's EOS), it works as playbin's
 * audio-filter, a seek reaches the source once, and reverse playback is
 * refused. */
#include "gst-test-harness.h"

#include <gst/gst.h>
#include <string.h>

static const char *tmpdir;
static char *model;

/* 0.1 s of random stereo S16LE at 48 kHz. */
#define BUFFER_BYTES (4800 * 2 * 2)

static GstBuffer *random_buffer(GRand *rand, guint index) {
  guint8 *data = g_malloc(BUFFER_BYTES);
  for (guint i = 0; i < BUFFER_BYTES; i++)
    data[i] = (guint8)g_rand_int_range(rand, 0, 256);
  GstBuffer *buf = gst_buffer_new_wrapped(data, BUFFER_BYTES);
  GST_BUFFER_PTS(buf) = index * GST_SECOND / 10;
  GST_BUFFER_DURATION(buf) = GST_SECOND / 10;
  GST_BUFFER_OFFSET(buf) = index * 4800;
  GST_BUFFER_OFFSET_END(buf) = (index + 1) * 4800;
  return buf;
}

/* The acrnn messages on bus until the final one (or timeout_s). */
static GPtrArray *messages_until_final(GstBus *bus, guint timeout_s) {
  GPtrArray *out =
      g_ptr_array_new_with_free_func((GDestroyNotify)gst_structure_free);
  gint64 deadline = g_get_monotonic_time() + timeout_s * G_USEC_PER_SEC;
  gboolean final = FALSE;
  while (!final && g_get_monotonic_time() < deadline) {
    GstMessage *msg =
        gst_bus_timed_pop_filtered(bus, 100 * GST_MSECOND, GST_MESSAGE_ELEMENT);
    if (msg == NULL)
      continue;
    const GstStructure *s = gst_message_get_structure(msg);
    if (gst_structure_has_name(s, "acrnn")) {
      g_ptr_array_add(out, gst_structure_copy(s));
      gst_structure_get_boolean(s, "final", &final);
    }
    gst_message_unref(msg);
  }
  return out;
}

/* 3 s of random stereo 48 kHz audio through a harness: every buffer comes
 * out with the same bytes, timestamps and offsets, and the copy is
 * classified: 3 segments of 44.1 kHz frames, then the final message. */
static void test_passthrough(void) {
  GstElement *e = gst_element_factory_make("soundanalyzer", NULL);
  g_assert_nonnull(e);
  g_object_set(e, "model", model, NULL);
  GstBus *bus = gst_bus_new();
  gst_element_set_bus(e, bus);
  GstHarness *h = test_harness_new(e);
  gst_harness_set_src_caps_str(h, "audio/x-raw, format=S16LE, channels=2, "
                                  "layout=interleaved, rate=48000, "
                                  "channel-mask=(bitmask)0x3");
  GRand *in = g_rand_new_with_seed(11), *want = g_rand_new_with_seed(11);
  for (guint i = 0; i < 30; i++) {
    g_assert_cmpint(gst_harness_push(h, random_buffer(in, i)), ==, GST_FLOW_OK);
    GstBuffer *got = gst_harness_pull(h);
    GstBuffer *ref = random_buffer(want, i);
    g_assert_cmpuint(gst_buffer_get_size(got), ==, BUFFER_BYTES);
    GstMapInfo a, b;
    gst_buffer_map(got, &a, GST_MAP_READ);
    gst_buffer_map(ref, &b, GST_MAP_READ);
    g_assert_cmpmem(a.data, a.size, b.data, b.size);
    gst_buffer_unmap(got, &a);
    gst_buffer_unmap(ref, &b);
    g_assert_cmpuint(GST_BUFFER_PTS(got), ==, GST_BUFFER_PTS(ref));
    g_assert_cmpuint(GST_BUFFER_DURATION(got), ==, GST_BUFFER_DURATION(ref));
    g_assert_cmpuint(GST_BUFFER_OFFSET(got), ==, GST_BUFFER_OFFSET(ref));
    gst_buffer_unref(got);
    gst_buffer_unref(ref);
  }
  g_rand_free(in);
  g_rand_free(want);
  /* the caps go out as they came in */
  GstCaps *caps = gst_pad_get_current_caps(h->sinkpad);
  GstCaps *in_caps = gst_pad_get_current_caps(h->srcpad);
  g_assert_true(gst_caps_is_equal(caps, in_caps));
  gst_caps_unref(caps);
  gst_caps_unref(in_caps);

  g_assert_true(gst_harness_push_event(h, gst_event_new_eos()));
  GPtrArray *m = messages_until_final(bus, 60);
  /* 3 s at 44.1 kHz: 257 frames, segments at frames 0, 64 and 128, and
   * the last 128 frames (129 to 256) for the tail, then the final one */
  g_assert_cmpuint(m->len, ==, 5);
  for (guint i = 0; i < m->len; i++) {
    gboolean final = TRUE;
    gst_structure_get_boolean(g_ptr_array_index(m, i), "final", &final);
    g_assert_true(final == (i == 4));
    test_check_result_fields(g_ptr_array_index(m, i), 3);
  }
  g_ptr_array_unref(m);
  gst_element_set_bus(e, NULL);
  gst_object_unref(bus);
  gst_harness_teardown(h);
}

/* In a pipeline that does not sync to the clock, the final message of the
 * classifying branch is on the bus before the pipeline's EOS. */
static void test_pipeline_messages(void) {
  char *d = g_strdup_printf(
      "audiotestsrc num-buffers=40 samplesperbuffer=2205 wave=pink-noise ! "
      "audio/x-raw,rate=22050,channels=2 ! soundanalyzer model=\"%s\" ! "
      "fakesink sync=false",
      model);
  TestRun *run = test_run_to_eos(d, 60);
  /* 4 s at 44.1 kHz: 343 frames, 4 whole segments and the tail's, then the
   * final message */
  g_assert_cmpuint(run->results->len, ==, 6);
  g_assert_nonnull(test_final_result(run));
  test_run_free(run);
  g_free(d);
}

/* As playbin's audio-filter, with a fakesink as audio sink: the file plays
 * to EOS and its segments and final decision are posted. */
static void test_playbin_audio_filter(void) {
  char *wav = g_build_filename(tmpdir, "tone.wav", NULL);
  char *d = g_strdup_printf("audiotestsrc num-buffers=25 samplesperbuffer=4410 "
                            "! audio/x-raw,rate=44100,channels=1 ! wavenc ! "
                            "filesink location=\"%s\"",
                            wav);
  TestRun *run = test_run_pipeline(d, 60, 0);
  g_assert_true(run->eos);
  test_run_free(run);
  g_free(d);

  char *uri = gst_filename_to_uri(wav, NULL);
  d = g_strdup_printf("playbin uri=\"%s\" audio-filter=\"soundanalyzer "
                      "model=%s\" audio-sink=\"fakesink sync=false\" "
                      "video-sink=fakesink",
                      uri, model);
  run = test_run_to_eos(d, 60);
  /* 2.5 s: 214 frames, 2 whole segments and the tail's, and the final
   * message */
  g_assert_cmpuint(run->results->len, ==, 4);
  const GstStructure *final = test_final_result(run);
  g_assert_nonnull(final);
  guint64 segments = 0;
  gst_structure_get_uint64(final, "segments", &segments);
  g_assert_cmpuint(segments, ==, 3);
  test_run_free(run);
  g_free(d);
  g_free(uri);
  g_free(wav);
}

static GstPadProbeReturn count_seeks(GstPad *pad, GstPadProbeInfo *info,
                                     gpointer user_data) {
  if (GST_EVENT_TYPE(GST_PAD_PROBE_INFO_EVENT(info)) == GST_EVENT_SEEK)
    g_atomic_int_inc((gint *)user_data);
  return GST_PAD_PROBE_OK;
}

/* A seek on the pipeline (sent to every sink, the bin among them) reaches
 * the source once; a reverse one is refused and reaches nothing. */
static void test_seeks(void) {
  char *d = g_strdup_printf(
      "audiotestsrc name=src num-buffers=40 samplesperbuffer=4410 ! "
      "soundanalyzer name=a model=\"%s\" ! fakesink",
      model);
  GstElement *a = NULL;
  GstElement *pipeline = test_parse(d, "a", &a);
  g_assert_true(GST_OBJECT_FLAG_IS_SET(a, GST_ELEMENT_FLAG_SINK));
  gst_object_unref(a);
  GstElement *src = gst_bin_get_by_name(GST_BIN(pipeline), "src");
  GstPad *pad = gst_element_get_static_pad(src, "src");
  gint seeks = 0;
  gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_EVENT_UPSTREAM, count_seeks, &seeks,
                    NULL);
  gst_object_unref(pad);
  gst_object_unref(src);
  gst_element_set_state(pipeline, GST_STATE_PAUSED);
  g_assert_cmpint(gst_element_get_state(pipeline, NULL, NULL, 30 * GST_SECOND),
                  ==, GST_STATE_CHANGE_SUCCESS);

  g_assert_false(gst_element_seek(pipeline, -1.0, GST_FORMAT_TIME,
                                  GST_SEEK_FLAG_FLUSH, GST_SEEK_TYPE_SET, 0,
                                  GST_SEEK_TYPE_SET, 2 * GST_SECOND));
  g_assert_cmpint(g_atomic_int_get(&seeks), ==, 0);
  GstBus *bus = gst_element_get_bus(pipeline);
  GstMessage *msg = gst_bus_pop_filtered(bus, GST_MESSAGE_WARNING);
  g_assert_nonnull(msg);
  GError *warning = NULL;
  gst_message_parse_warning(msg, &warning, NULL);
  g_assert_true(g_error_matches(warning, GST_CORE_ERROR, GST_CORE_ERROR_SEEK));
  g_error_free(warning);
  gst_message_unref(msg);

  g_assert_true(gst_element_seek_simple(pipeline, GST_FORMAT_TIME,
                                        GST_SEEK_FLAG_FLUSH, 1 * GST_SECOND));
  g_assert_cmpint(g_atomic_int_get(&seeks), ==, 1);
  gst_object_unref(bus);
  test_play_to_eos(pipeline, 60, GST_MESSAGE_ERROR);
  gst_element_set_state(pipeline, GST_STATE_NULL);
  gst_object_unref(pipeline);
  g_free(d);
}

/* The classifier's properties are the bin's. */
static void test_properties(void) {
  GstElement *e = gst_element_factory_make("soundanalyzer", NULL);
  guint batch = 0, top_k = 0;
  g_object_get(e, "batch", &batch, "top-k", &top_k, NULL);
  g_assert_cmpuint(batch, ==, 0);
  g_assert_cmpuint(top_k, ==, 3);
  g_object_set(e, "model", model, "top-k", 2, "batch", 5, NULL);
  char *m = NULL;
  g_object_get(e, "model", &m, "top-k", &top_k, "batch", &batch, NULL);
  g_assert_cmpstr(m, ==, model);
  g_assert_cmpuint(top_k, ==, 2);
  g_assert_cmpuint(batch, ==, 5);
  g_free(m);
  g_assert_cmpint(gst_element_set_state(e, GST_STATE_READY), ==,
                  GST_STATE_CHANGE_SUCCESS);
  test_check_labels(e);
  gst_element_set_state(e, GST_STATE_NULL);
  gst_object_unref(e);
}

int main(int argc, char **argv) {
  tmpdir = test_init(&argc, &argv);
  model = test_make_model(tmpdir, "model.safetensors", 32, 5);
  g_test_add_func("/soundanalyzer/passthrough", test_passthrough);
  g_test_add_func("/soundanalyzer/pipeline-messages", test_pipeline_messages);
  g_test_add_func("/soundanalyzer/playbin-audio-filter",
                  test_playbin_audio_filter);
  g_test_add_func("/soundanalyzer/seeks", test_seeks);
  g_test_add_func("/soundanalyzer/properties", test_properties);
  int ret = test_run_tests();
  g_free(model);
  return ret;
}
