/* test-gammatonespec-events.c - gammatonespec's handling of what a real
 * pipeline sends besides audio: a BYTES segment (raw audio from filesrc)
 * becomes a TIME segment, a DISCONT buffer without PTS continues the
 * timeline, a GAP pushes the run's tail, bad properties fail the state
 * change, and the sink caps query honours downstream's sample rate. */
#include "gst-test-util.h"

#include <acrnn/features.h>
#include <gst/check/gstharness.h>
#include <gst/gst.h>
#include <string.h>

#define RATE 44100
#define CAPS                                                                   \
  "audio/x-raw, format=F32LE, channels=1, layout=interleaved, rate=44100"

static GstBuffer *noise(size_t n, GstClockTime pts, guint32 seed) {
  GRand *rand = g_rand_new_with_seed(seed);
  float *x = g_new(float, n);
  for (size_t i = 0; i < n; i++)
    x[i] = (float)g_rand_double_range(rand, -0.5, 0.5);
  g_rand_free(rand);
  GstBuffer *buf = gst_buffer_new_wrapped(x, n * sizeof(float));
  GST_BUFFER_PTS(buf) = pts;
  return buf;
}

static GstClockTime frame_time(guint64 frame) {
  return gst_util_uint64_scale_int(frame * 512, GST_SECOND, RATE);
}

/* The last SEGMENT event the harness received. */
static GstEvent *last_segment(GstHarness *h) {
  GstEvent *seg = NULL, *ev;
  while ((ev = gst_harness_try_pull_event(h)) != NULL) {
    if (GST_EVENT_TYPE(ev) == GST_EVENT_SEGMENT) {
      if (seg != NULL)
        gst_event_unref(seg);
      seg = ev;
    } else {
      gst_event_unref(ev);
    }
  }
  return seg;
}

/* Frames pulled so far; checks their PTS against first_pts + offset time. */
static guint64 pull_frames(GstHarness *h, GstClockTime first_pts,
                           guint64 *discont_at) {
  guint64 frames = 0;
  GstBuffer *buf;
  while ((buf = gst_harness_try_pull(h)) != NULL) {
    guint64 n = gst_buffer_get_size(buf) / (2 * 128 * sizeof(float));
    if (GST_BUFFER_IS_DISCONT(buf) && discont_at != NULL)
      *discont_at = GST_BUFFER_PTS(buf);
    g_assert_cmpuint(GST_BUFFER_PTS(buf), ==,
                     first_pts + frame_time(GST_BUFFER_OFFSET(buf)));
    frames += n;
    gst_buffer_unref(buf);
  }
  return frames;
}

/* filesrc ! audio/x-raw,... gives a BYTES segment and no timestamps: the
 * frames are timed from 0 in a TIME segment. */
static void test_bytes_segment(void) {
  GstHarness *h = gst_harness_new("gammatonespec");
  gst_harness_set_src_caps_str(h, CAPS);
  GstSegment bytes;
  gst_segment_init(&bytes, GST_FORMAT_BYTES);
  g_assert_true(gst_harness_push_event(h, gst_event_new_segment(&bytes)));
  for (int i = 0; i < 4; i++)
    g_assert_cmpint(
        gst_harness_push(h, noise(4096, GST_CLOCK_TIME_NONE, (guint32)i)), ==,
        GST_FLOW_OK);
  GstEvent *ev = last_segment(h);
  g_assert_nonnull(ev);
  const GstSegment *seg;
  gst_event_parse_segment(ev, &seg);
  g_assert_cmpint(seg->format, ==, GST_FORMAT_TIME);
  g_assert_cmpuint(seg->start, ==, 0);
  gst_event_unref(ev);
  g_assert_cmpuint(pull_frames(h, 0, NULL), >, 0);
  gst_harness_teardown(h);
}

/* A DISCONT buffer without PTS starts a new run where the old one ended,
 * never back at the segment start. */
static void test_discont_without_pts(void) {
  GstHarness *h = gst_harness_new("gammatonespec");
  gst_harness_set_src_caps_str(h, CAPS);
  GstClockTime start = 3 * GST_SECOND;
  gst_harness_push(h, noise(RATE / 2, start, 1));
  GstBuffer *b = noise(RATE / 2, GST_CLOCK_TIME_NONE, 2);
  GST_BUFFER_FLAG_SET(b, GST_BUFFER_FLAG_DISCONT);
  gst_harness_push(h, b);
  gst_harness_push_event(h, gst_event_new_eos());

  GstClockTime prev = 0, second_run = GST_CLOCK_TIME_NONE;
  guint64 runs = 0;
  GstBuffer *buf;
  while ((buf = gst_harness_try_pull(h)) != NULL) {
    g_assert_cmpuint(GST_BUFFER_PTS(buf), >=, prev);
    prev = GST_BUFFER_PTS(buf);
    if (GST_BUFFER_OFFSET(buf) == 0) {
      g_assert_true(GST_BUFFER_IS_DISCONT(buf));
      if (runs++ == 1)
        second_run = GST_BUFFER_PTS(buf);
    }
    gst_buffer_unref(buf);
  }
  g_assert_cmpuint(runs, ==, 2);
  g_assert_cmpuint(second_run, ==,
                   start +
                       gst_util_uint64_scale_int(RATE / 2, GST_SECOND, RATE));
  gst_harness_teardown(h);
}

/* A GAP ends the run: every frame of the audio before it comes out at
 * once (the tail with the edge rule), as at EOS. */
static void test_gap_drains(void) {
  GstHarness *h = gst_harness_new("gammatonespec");
  gst_harness_set_src_caps_str(h, CAPS);
  size_t n = RATE / 2;
  gst_harness_push(h, noise(n, 0, 5));
  guint64 before = pull_frames(h, 0, NULL);
  guint64 all = (n - 1024) / 512 + 1;
  g_assert_cmpuint(before, <, all);
  GstClockTime end = gst_util_uint64_scale_int(n, GST_SECOND, RATE);
  g_assert_true(gst_harness_push_event(h, gst_event_new_gap(end, GST_SECOND)));
  g_assert_cmpuint(before + pull_frames(h, 0, NULL), ==, all);
  /* the GAP itself goes downstream */
  gboolean gap = FALSE;
  GstEvent *ev;
  while ((ev = gst_harness_try_pull_event(h)) != NULL) {
    gap |= GST_EVENT_TYPE(ev) == GST_EVENT_GAP;
    gst_event_unref(ev);
  }
  g_assert_true(gap);
  /* after it, a new run at the next buffer's time */
  GstClockTime next = end + GST_SECOND;
  gst_harness_push(h, noise(n, next, 6));
  gst_harness_push_event(h, gst_event_new_eos());
  guint64 discont_at = GST_CLOCK_TIME_NONE;
  g_assert_cmpuint(pull_frames(h, next, &discont_at), ==, all);
  g_assert_cmpuint(discont_at, ==, next);
  gst_harness_teardown(h);
}

/* hop larger than n-fft: READY to PAUSED fails with a message naming it. */
static void test_bad_properties(void) {
  GstElement *e = gst_element_factory_make("gammatonespec", NULL);
  g_object_set(e, "hop", 2048, NULL);
  GstBus *bus = gst_bus_new();
  gst_element_set_bus(e, bus);
  g_assert_cmpint(gst_element_set_state(e, GST_STATE_PAUSED), ==,
                  GST_STATE_CHANGE_FAILURE);
  GError *error = test_pop_error(bus);
  g_test_message("%s", error->message);
  g_assert_true(
      g_error_matches(error, GST_LIBRARY_ERROR, GST_LIBRARY_ERROR_SETTINGS));
  g_assert_nonnull(strstr(error->message, "hop"));
  g_error_free(error);
  gst_element_set_state(e, GST_STATE_NULL);
  gst_element_set_bus(e, NULL);
  gst_object_unref(bus);
  gst_object_unref(e);
}

/* The rate gammatonespec negotiated in a pipeline that ran to EOS. */
static int negotiated_rate(const char *description) {
  GstElement *spec = NULL;
  GstElement *pipeline = test_parse(description, "spec", &spec);
  test_play_to_eos(pipeline, 30, GST_MESSAGE_ERROR | GST_MESSAGE_WARNING);
  GstPad *sink = gst_element_get_static_pad(spec, "sink");
  GstCaps *caps = gst_pad_get_current_caps(sink);
  g_assert_nonnull(caps);
  int rate = 0;
  gst_structure_get_int(gst_caps_get_structure(caps, 0), "rate", &rate);
  gst_caps_unref(caps);
  gst_object_unref(sink);
  gst_element_set_state(pipeline, GST_STATE_NULL);
  gst_object_unref(spec);
  gst_object_unref(pipeline);
  return rate;
}

/* sample-rate=0: the rate downstream asks for, through audioresample. */
static void test_downstream_rate(void) {
  g_assert_cmpint(
      negotiated_rate("audiotestsrc num-buffers=20 ! audioresample ! "
                      "gammatonespec name=spec sample-rate=0 ! "
                      "audio/x-acrnn-features,sample-rate=16000 ! fakesink"),
      ==, 16000);
  /* without a downstream preference the input's rate passes */
  g_assert_cmpint(
      negotiated_rate("audiotestsrc num-buffers=20 ! audio/x-raw,rate=22050 ! "
                      "audioresample ! gammatonespec name=spec sample-rate=0 "
                      "! fakesink"),
      ==, 22050);
}

int main(int argc, char **argv) {
  gst_init(&argc, &argv);
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/gammatonespec/events/bytes-segment", test_bytes_segment);
  g_test_add_func("/gammatonespec/events/discont-without-pts",
                  test_discont_without_pts);
  g_test_add_func("/gammatonespec/events/gap", test_gap_drains);
  g_test_add_func("/gammatonespec/events/bad-properties", test_bad_properties);
  g_test_add_func("/gammatonespec/events/downstream-rate",
                  test_downstream_rate);
  int ret = g_test_run();
  gst_deinit();
  return ret;
}
