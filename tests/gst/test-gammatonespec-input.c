/* test-gammatonespec-input.c - input gammatonespec refuses, and how it says
 * so: a segment that plays backwards (rate or applied rate < 0) is an error,
 * a seek with a negative rate is refused (in a harness and in a whole
 * soundclassifier pipeline), and a NaN or Inf sample is an error that gives
 * the sample's stream time. */
#include "gst-test-util.h"

#include <gst/check/gstharness.h>
#include <gst/gst.h>
#include <math.h>
#include <string.h>

#define RATE 44100
#define CAPS                                                                   \
  "audio/x-raw, format=F32LE, channels=1, layout=interleaved, rate=44100"

static GstBuffer *tone(size_t n, GstClockTime pts) {
  float *x = g_new(float, n);
  for (size_t i = 0; i < n; i++)
    x[i] = 0.25f * sinf(2.0f * (float)G_PI * 440.0f * (float)i / RATE);
  GstBuffer *buf = gst_buffer_new_wrapped(x, n * sizeof(float));
  GST_BUFFER_PTS(buf) = pts;
  return buf;
}

typedef struct {
  GstHarness *h;
  GstBus *bus;
} Fixture;

static void fixture_start(Fixture *f) {
  f->h = gst_harness_new("gammatonespec");
  f->bus = gst_bus_new();
  gst_element_set_bus(f->h->element, f->bus);
  gst_harness_set_src_caps_str(f->h, CAPS);
}

static void fixture_stop(Fixture *f) {
  gst_element_set_bus(f->h->element, NULL);
  gst_object_unref(f->bus);
  gst_harness_teardown(f->h);
}

/* The message of the first ERROR (or WARNING) on the bus, checked to be in
 * domain/code; g_free it. */
static char *pop_message(GstBus *bus, GstMessageType type, GQuark domain,
                         gint code) {
  GstMessage *msg = gst_bus_pop_filtered(bus, type);
  g_assert_nonnull(msg);
  GError *error = NULL;
  if (type == GST_MESSAGE_ERROR)
    gst_message_parse_error(msg, &error, NULL);
  else
    gst_message_parse_warning(msg, &error, NULL);
  g_test_message("%s: %s", gst_message_type_get_name(type), error->message);
  g_assert_true(g_error_matches(error, domain, code));
  char *text = g_strdup(error->message);
  g_error_free(error);
  gst_message_unref(msg);
  return text;
}

/* A segment with a negative rate (reverse playback) or a negative applied
 * rate (audio already reversed) is refused with an error that says so, and
 * no feature frame comes out of the audio after it. */
static void check_reverse_segment(gdouble rate, gdouble applied_rate) {
  Fixture f;
  fixture_start(&f);
  GstSegment seg;
  gst_segment_init(&seg, GST_FORMAT_TIME);
  seg.rate = rate;
  seg.applied_rate = applied_rate;
  seg.stop = 5 * GST_SECOND;
  seg.position = seg.stop;
  /* a sticky event is stored upstream even when refused: the push itself
   * says TRUE; the refusal is the error and the failing buffer */
  gst_harness_push_event(f.h, gst_event_new_segment(&seg));
  char *text = pop_message(f.bus, GST_MESSAGE_ERROR, GST_STREAM_ERROR,
                           GST_STREAM_ERROR_NOT_IMPLEMENTED);
  g_assert_nonnull(strstr(text, "backwards"));
  g_assert_nonnull(strstr(text, "positive rate"));
  g_free(text);
  g_assert_cmpint(gst_harness_push(f.h, tone(RATE, 4 * GST_SECOND)), !=,
                  GST_FLOW_OK);
  gst_harness_push_event(f.h, gst_event_new_eos());
  g_assert_null(gst_harness_try_pull(f.h));
  fixture_stop(&f);
}

static void test_reverse_segment(void) {
  check_reverse_segment(-1.0, 1.0);
}

static void test_reversed_audio_segment(void) {
  check_reverse_segment(1.0, -1.0);
}

/* A forward segment at another rate (fast forward) is accepted. */
static void test_fast_forward_segment(void) {
  Fixture f;
  fixture_start(&f);
  GstSegment seg;
  gst_segment_init(&seg, GST_FORMAT_TIME);
  seg.rate = 2.0;
  g_assert_true(gst_harness_push_event(f.h, gst_event_new_segment(&seg)));
  g_assert_cmpint(gst_harness_push(f.h, tone(RATE, 0)), ==, GST_FLOW_OK);
  GstBuffer *buf = gst_harness_try_pull(f.h);
  g_assert_nonnull(buf);
  gst_buffer_unref(buf);
  fixture_stop(&f);
}

static GstEvent *seek_event(gdouble rate) {
  return gst_event_new_seek(rate, GST_FORMAT_TIME, GST_SEEK_FLAG_FLUSH,
                            GST_SEEK_TYPE_SET, 0, GST_SEEK_TYPE_SET,
                            2 * GST_SECOND);
}

/* A seek with a negative rate coming from downstream is refused (with a
 * warning that says why); a forward one goes upstream as before. */
static void test_reverse_seek_refused(void) {
  Fixture f;
  fixture_start(&f);
  gst_harness_push(f.h, tone(RATE, 0));
  guint before = gst_harness_upstream_events_received(f.h);
  g_assert_false(gst_harness_push_upstream_event(f.h, seek_event(-1.0)));
  char *text = pop_message(f.bus, GST_MESSAGE_WARNING, GST_CORE_ERROR,
                           GST_CORE_ERROR_SEEK);
  g_assert_nonnull(strstr(text, "Reverse playback"));
  g_free(text);
  /* the harness's source got nothing; a forward seek reaches it */
  g_assert_cmpuint(gst_harness_upstream_events_received(f.h), ==, before);
  gst_harness_push_upstream_event(f.h, seek_event(1.0));
  g_assert_cmpuint(gst_harness_upstream_events_received(f.h), ==, before + 1);
  fixture_stop(&f);
}

/* In a pipeline: gst_element_seek() with rate -1 on a paused
 * audiotestsrc ! soundclassifier ! fakesink returns FALSE, and the pipeline
 * still plays forwards to EOS afterwards. */
static void test_pipeline_reverse_seek(void) {
  char *dir = test_tmpdir();
  char *model = test_make_model(dir, "m.safetensors", 32, 3);
  char *desc =
      g_strdup_printf("audiotestsrc num-buffers=100 samplesperbuffer=4410 ! "
                      "audio/x-raw,rate=44100 ! soundclassifier model=\"%s\" ! "
                      "fakesink name=sink",
                      model);
  GstElement *pipeline = test_parse(desc, NULL, NULL);
  g_assert_cmpint(gst_element_set_state(pipeline, GST_STATE_PAUSED), !=,
                  GST_STATE_CHANGE_FAILURE);
  g_assert_cmpint(gst_element_get_state(pipeline, NULL, NULL, 30 * GST_SECOND),
                  ==, GST_STATE_CHANGE_SUCCESS);
  g_assert_false(gst_element_seek(pipeline, -1.0, GST_FORMAT_TIME,
                                  GST_SEEK_FLAG_FLUSH, GST_SEEK_TYPE_SET, 0,
                                  GST_SEEK_TYPE_SET, 5 * GST_SECOND));
  GstBus *bus = gst_element_get_bus(pipeline);
  GstMessage *msg = gst_bus_pop_filtered(bus, GST_MESSAGE_WARNING);
  g_assert_nonnull(msg);
  gst_message_unref(msg);
  gst_object_unref(bus);
  test_play_to_eos(pipeline, 60, GST_MESSAGE_ERROR);
  gst_element_set_state(pipeline, GST_STATE_NULL);
  gst_object_unref(pipeline);
  g_free(desc);
  g_free(model);
  test_rmdir(dir);
  g_free(dir);
}

/* A non-finite sample at `index` of the second of two one-second buffers
 * (PTS 2 s and 3 s) in a segment whose stream time starts at 10 s: the
 * error gives that sample's stream time, 10 + 3 + index / RATE s. */
static void check_non_finite(float value, size_t index, const char *kind,
                             const char *when) {
  Fixture f;
  fixture_start(&f);
  GstSegment seg;
  gst_segment_init(&seg, GST_FORMAT_TIME);
  seg.start = 2 * GST_SECOND;
  seg.time = 12 * GST_SECOND;
  seg.position = seg.start;
  g_assert_true(gst_harness_push_event(f.h, gst_event_new_segment(&seg)));
  g_assert_cmpint(gst_harness_push(f.h, tone(RATE, 2 * GST_SECOND)), ==,
                  GST_FLOW_OK);
  GstBuffer *bad = tone(RATE, 3 * GST_SECOND);
  GstMapInfo map;
  gst_buffer_map(bad, &map, GST_MAP_WRITE);
  ((float *)map.data)[index] = value;
  gst_buffer_unmap(bad, &map);
  g_assert_cmpint(gst_harness_push(f.h, bad), ==, GST_FLOW_ERROR);
  char *text = pop_message(f.bus, GST_MESSAGE_ERROR, GST_STREAM_ERROR,
                           GST_STREAM_ERROR_FORMAT);
  char *want =
      g_strdup_printf("non-finite sample (%s) at %s stream time", kind, when);
  g_assert_nonnull(strstr(text, want));
  g_free(want);
  g_free(text);
  fixture_stop(&f);
}

static void test_nan_stream_time(void) {
  /* 13 s + 15201 / 44100 s = 13.344694 s */
  check_non_finite(NAN, 15201, "NaN", "0:00:13.344");
}

static void test_inf_stream_time(void) {
  /* 13 s + 44099 / 44100 s = 13.999977 s: truncated, never rounded up */
  check_non_finite(-INFINITY, 44099, "-Inf", "0:00:13.999");
}

int main(int argc, char **argv) {
  gst_init(&argc, &argv);
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/gammatonespec/input/reverse-segment", test_reverse_segment);
  g_test_add_func("/gammatonespec/input/reversed-audio-segment",
                  test_reversed_audio_segment);
  g_test_add_func("/gammatonespec/input/fast-forward-segment",
                  test_fast_forward_segment);
  g_test_add_func("/gammatonespec/input/reverse-seek",
                  test_reverse_seek_refused);
  g_test_add_func("/gammatonespec/input/pipeline-reverse-seek",
                  test_pipeline_reverse_seek);
  g_test_add_func("/gammatonespec/input/nan-stream-time", test_nan_stream_time);
  g_test_add_func("/gammatonespec/input/inf-stream-time", test_inf_stream_time);
  return g_test_run();
}
