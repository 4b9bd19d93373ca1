/* test-gammatonespec.c - gammatonespec against the offline features
 * (acrnn_features_compute): any input buffer sizes give the same frames (with
 * either filterbank), timestamps and offsets are continuous, a flush restarts
 * cleanly, a rate change and EOS push the tail, caps and latency are
 * answered, NaN input is an error. */
#include "gst-test-util.h"

#include <acrnn/features.h>
#include <gst/check/gstharness.h>
#include <gst/gst.h>
#include <math.h>
#include <string.h>

#define RATE 44100
#define CAPS_FMT                                                               \
  "audio/x-raw, format=F32LE, channels=1, layout=interleaved, rate=%d"

static float *make_signal(size_t n, int rate, guint32 seed) {
  GRand *rand = g_rand_new_with_seed(seed);
  float *x = g_new(float, n);
  for (size_t i = 0; i < n; i++) {
    double t = (double)i / rate;
    x[i] = (float)(0.3 * sin(2 * G_PI * 440.0 * t) +
                   0.2 * sin(2 * G_PI * 3000.0 * t * (1.0 + t)) +
                   0.1 * g_rand_double_range(rand, -1.0, 1.0));
  }
  g_rand_free(rand);
  return x;
}

static GstBuffer *wrap(const float *x, size_t n, GstClockTime pts) {
  GstBuffer *buf = gst_buffer_new_memdup(x, n * sizeof(float));
  GST_BUFFER_PTS(buf) = pts;
  return buf;
}

/* A harness around a gammatonespec with the given properties (NULL
 * terminated name, value pairs) fed with F32 mono at rate. */
static GstHarness *new_harness(int rate, const char *first_prop, ...) {
  GstHarness *h = gst_harness_new("gammatonespec");
  if (first_prop != NULL) {
    va_list ap;
    va_start(ap, first_prop);
    g_object_set_valist(G_OBJECT(h->element), first_prop, ap);
    va_end(ap);
  }
  char *caps = g_strdup_printf(CAPS_FMT, rate);
  gst_harness_set_src_caps_str(h, caps);
  g_free(caps);
  return h;
}

/* Pulls every buffer the element has pushed: checks frame alignment,
 * continuity of offsets and timestamps (from start), and appends the frames
 * to out. Returns the number of buffers. */
static guint pull_upto(GstHarness *h, GArray *out, int bands, int hop, int rate,
                       GstClockTime start, guint64 *next_offset,
                       guint64 limit) {
  guint count = 0;
  GstBuffer *buf;
  size_t frame_bytes = 2 * (size_t)bands * sizeof(float);
  while (*next_offset < limit && (buf = gst_harness_try_pull(h)) != NULL) {
    gsize size = gst_buffer_get_size(buf);
    g_assert_cmpuint(size % frame_bytes, ==, 0);
    g_assert_cmpuint(size, >, 0);
    guint64 n = size / frame_bytes;
    g_assert_cmpuint(GST_BUFFER_OFFSET(buf), ==, *next_offset);
    g_assert_cmpuint(GST_BUFFER_OFFSET_END(buf), ==, *next_offset + n);
    GstClockTime pts =
        start + gst_util_uint64_scale_int(*next_offset * hop, GST_SECOND, rate);
    GstClockTime end = start + gst_util_uint64_scale_int(
                                   (*next_offset + n) * hop, GST_SECOND, rate);
    g_assert_cmpuint(GST_BUFFER_PTS(buf), ==, pts);
    g_assert_cmpuint(GST_BUFFER_DURATION(buf), ==, end - pts);
    g_assert_true(GST_BUFFER_IS_DISCONT(buf) == (*next_offset == 0));
    GstMapInfo map;
    gst_buffer_map(buf, &map, GST_MAP_READ);
    g_array_append_vals(out, map.data, n * 2 * bands);
    gst_buffer_unmap(buf, &map);
    gst_buffer_unref(buf);
    *next_offset += n;
    count++;
  }
  return count;
}

static guint pull_all(GstHarness *h, GArray *out, int bands, int hop, int rate,
                      GstClockTime start, guint64 *next_offset) {
  return pull_upto(h, out, bands, hop, rate, start, next_offset, G_MAXUINT64);
}

static void assert_same_frames(const GArray *got, const float *want,
                               size_t n_frames, int bands) {
  g_assert_cmpuint(got->len, ==, n_frames * 2 * bands);
  size_t mismatches = 0;
  double worst = 0;
  for (size_t i = 0; i < got->len; i++) {
    float a = g_array_index(got, float, i);
    if (a != want[i]) {
      mismatches++;
      worst = MAX(worst, fabs((double)a - want[i]));
    }
  }
  if (mismatches > 0)
    g_test_message("%zu of %u values differ, worst by %g", mismatches, got->len,
                   worst);
  g_assert_cmpuint(mismatches, ==, 0);
}

/* Pushes x in buffers of the sizes next_size gives to a gammatonespec with
 * the filterbank property fb ("gammatone", "mel") and compares the output
 * with acrnn_features_compute. */
static void check_filterbank_sizes(const char *fb, size_t n,
                                   size_t (*next_size)(gpointer), gpointer data,
                                   GstClockTime start) {
  float *x = make_signal(n, RATE, 7);
  AcrnnFeatureParams p;
  acrnn_feature_params_init(&p);
  g_assert_true(acrnn_filterbank_parse(fb, &p.filterbank, NULL));
  size_t want_frames = 0;
  GError *error = NULL;
  float *want = acrnn_features_compute(&p, x, n, &want_frames, &error);
  g_assert_no_error(error);

  GstHarness *h = gst_harness_new("gammatonespec");
  gst_util_set_object_arg(G_OBJECT(h->element), "filterbank", fb);
  char *caps_str = g_strdup_printf(CAPS_FMT, RATE);
  gst_harness_set_src_caps_str(h, caps_str);
  g_free(caps_str);
  GstCaps *caps = gst_pad_get_current_caps(h->sinkpad);
  g_assert_cmpstr(
      gst_structure_get_string(gst_caps_get_structure(caps, 0), "filterbank"),
      ==, fb);
  gst_caps_unref(caps);
  GArray *got = g_array_new(FALSE, FALSE, sizeof(float));
  guint64 offset = 0;
  size_t pos = 0;
  while (pos < n) {
    size_t len = next_size(data); /* once: MIN() evaluates twice */
    len = MIN(len, n - pos);
    GstClockTime pts = start + gst_util_uint64_scale_int(pos, GST_SECOND, RATE);
    g_assert_cmpint(gst_harness_push(h, wrap(x + pos, len, pts)), ==,
                    GST_FLOW_OK);
    pos += len;
    pull_all(h, got, p.bands, p.hop, RATE, start, &offset);
  }
  g_assert_true(gst_harness_push_event(h, gst_event_new_eos()));
  pull_all(h, got, p.bands, p.hop, RATE, start, &offset);
  assert_same_frames(got, want, want_frames, p.bands);

  g_array_unref(got);
  gst_harness_teardown(h);
  g_free(want);
  g_free(x);
}

static void check_sizes(size_t n, size_t (*next_size)(gpointer), gpointer data,
                        GstClockTime start) {
  check_filterbank_sizes("gammatone", n, next_size, data, start);
}

static size_t fixed_size(gpointer data) {
  return GPOINTER_TO_SIZE(data);
}

static size_t random_size(gpointer data) {
  return (size_t)g_rand_int_range((GRand *)data, 1, 5000);
}

static void test_size_1(void) {
  check_sizes(RATE / 4, fixed_size, GSIZE_TO_POINTER(1), 0);
}

static void test_size_7(void) {
  check_sizes(RATE / 2, fixed_size, GSIZE_TO_POINTER(7), GST_SECOND);
}

static void test_size_1024(void) {
  check_sizes(2 * RATE, fixed_size, GSIZE_TO_POINTER(1024), 0);
}

static void test_size_44100(void) {
  check_sizes(3 * RATE + 123, fixed_size, GSIZE_TO_POINTER(44100),
              5 * GST_SECOND);
}

static void test_size_random(void) {
  GRand *rand = g_rand_new_with_seed(42);
  check_sizes(3 * RATE, random_size, rand, 0);
  g_rand_free(rand);
}

static void test_mel_random(void) {
  GRand *rand = g_rand_new_with_seed(43);
  check_filterbank_sizes("mel", 3 * RATE, random_size, rand, 0);
  g_rand_free(rand);
}

/* A flush in the middle: the output restarts at offset 0 with the frames of
 * the new data alone. */
static void test_flush_restart(void) {
  size_t n = RATE;
  float *x = make_signal(n, RATE, 3);
  float *y = make_signal(n, RATE, 4);
  AcrnnFeatureParams p;
  acrnn_feature_params_init(&p);
  size_t want_frames;
  float *want = acrnn_features_compute(&p, y, n, &want_frames, NULL);
  g_assert_nonnull(want);

  GstHarness *h = new_harness(RATE, NULL, NULL);
  gst_harness_push(h, wrap(x, 5000, 0));
  gst_harness_push(h, wrap(x + 5000, 3000, GST_CLOCK_TIME_NONE));
  GstBuffer *buf;
  while ((buf = gst_harness_try_pull(h)) != NULL)
    gst_buffer_unref(buf);

  g_assert_true(gst_harness_push_event(h, gst_event_new_flush_start()));
  g_assert_true(gst_harness_push_event(h, gst_event_new_flush_stop(TRUE)));
  GstSegment segment;
  gst_segment_init(&segment, GST_FORMAT_TIME);
  segment.start = 2 * GST_SECOND;
  segment.time = 2 * GST_SECOND;
  g_assert_true(gst_harness_push_event(h, gst_event_new_segment(&segment)));
  GArray *got = g_array_new(FALSE, FALSE, sizeof(float));
  guint64 offset = 0;
  for (size_t pos = 0; pos < n; pos += 4410) {
    GstClockTime pts =
        2 * GST_SECOND + gst_util_uint64_scale_int(pos, GST_SECOND, RATE);
    gst_harness_push(h, wrap(y + pos, MIN(4410, n - pos), pts));
  }
  gst_harness_push_event(h, gst_event_new_eos());
  pull_all(h, got, p.bands, p.hop, RATE, 2 * GST_SECOND, &offset);
  assert_same_frames(got, want, want_frames, p.bands);
  g_array_unref(got);
  gst_harness_teardown(h);
  g_free(want);
  g_free(x);
  g_free(y);
}

/* A DISCONT buffer with a timestamp gap starts a new run; one that continues
 * the timeline does not. */
static void test_discont(void) {
  size_t n = RATE / 2;
  float *x = make_signal(n, RATE, 5);
  AcrnnFeatureParams p;
  acrnn_feature_params_init(&p);
  size_t want_frames;
  float *want = acrnn_features_compute(&p, x, n, &want_frames, NULL);

  GstHarness *h = new_harness(RATE, NULL, NULL);
  GArray *got = g_array_new(FALSE, FALSE, sizeof(float));
  guint64 offset = 0;
  /* continuous timeline, DISCONT flag on the second half: one run */
  gst_harness_push(h, wrap(x, n / 2, 0));
  GstBuffer *b = wrap(x + n / 2, n - n / 2,
                      gst_util_uint64_scale_int(n / 2, GST_SECOND, RATE));
  GST_BUFFER_FLAG_SET(b, GST_BUFFER_FLAG_DISCONT);
  gst_harness_push(h, b);
  /* the same signal again 10 s later: a new run */
  b = wrap(x, n, 10 * GST_SECOND);
  GST_BUFFER_FLAG_SET(b, GST_BUFFER_FLAG_DISCONT);
  gst_harness_push(h, b);
  pull_upto(h, got, p.bands, p.hop, RATE, 0, &offset, want_frames);
  g_assert_cmpuint(offset, ==, want_frames);
  assert_same_frames(got, want, want_frames, p.bands);

  g_array_set_size(got, 0);
  offset = 0;
  gst_harness_push_event(h, gst_event_new_eos());
  pull_all(h, got, p.bands, p.hop, RATE, 10 * GST_SECOND, &offset);
  assert_same_frames(got, want, want_frames, p.bands);
  g_array_unref(got);
  gst_harness_teardown(h);
  g_free(want);
  g_free(x);
}

/* New caps with another rate: the old run's tail is pushed, then frames at
 * the new rate with new src caps. */
static void test_rate_change(void) {
  float *x = make_signal(RATE / 2, RATE, 8);
  float *y = make_signal(16000, 16000, 9);
  AcrnnFeatureParams p;
  acrnn_feature_params_init(&p);
  size_t nx, ny;
  float *wx = acrnn_features_compute(&p, x, RATE / 2, &nx, NULL);
  AcrnnFeatureParams q = p;
  q.sample_rate = 16000;
  q.fmax = 8000;
  float *wy = acrnn_features_compute(&q, y, 16000, &ny, NULL);

  GstHarness *h = new_harness(RATE, "sample-rate", 0, NULL);
  gst_harness_push(h, wrap(x, RATE / 2, 0));
  gst_harness_set_src_caps_str(h, "audio/x-raw, format=F32LE, channels=1, "
                                  "layout=interleaved, rate=16000");
  GArray *got = g_array_new(FALSE, FALSE, sizeof(float));
  guint64 offset = 0;
  pull_all(h, got, p.bands, p.hop, RATE, 0, &offset);
  assert_same_frames(got, wx, nx, p.bands);

  gst_harness_push(h, wrap(y, 16000, GST_SECOND));
  gst_harness_push_event(h, gst_event_new_eos());
  GstCaps *caps = gst_pad_get_current_caps(h->sinkpad);
  GstStructure *s = gst_caps_get_structure(caps, 0);
  int rate = 0;
  g_assert_true(gst_structure_get_int(s, "sample-rate", &rate));
  g_assert_cmpint(rate, ==, 16000);
  double fmax = 0;
  g_assert_true(gst_structure_get_double(s, "fmax", &fmax));
  g_assert_cmpfloat(fmax, ==, 8000.0);
  gst_caps_unref(caps);
  g_array_set_size(got, 0);
  offset = 0;
  pull_all(h, got, q.bands, q.hop, 16000, GST_SECOND, &offset);
  assert_same_frames(got, wy, ny, q.bands);
  g_array_unref(got);
  gst_harness_teardown(h);
  g_free(wx);
  g_free(wy);
  g_free(x);
  g_free(y);
}

static void test_caps_and_latency(void) {
  GstHarness *h = new_harness(RATE, "bands", 64, "hop", 256, NULL);
  /* output caps describe the frames */
  GstCaps *caps = gst_pad_get_current_caps(h->sinkpad);
  g_assert_nonnull(caps);
  GstCaps *want = gst_caps_from_string(
      "audio/x-acrnn-features, format=F32LE, bands=64, "
      "frame-rate=(fraction)44100/256, sample-rate=44100, n-fft=1024, "
      "hop=256, fmin=50.0, fmax=22050.0, delta-width=9, "
      "filterbank=gammatone");
  g_assert_true(gst_caps_is_equal(caps, want));
  gst_caps_unref(want);
  gst_caps_unref(caps);

  /* the sink asks for the sample-rate property's rate */
  GstPad *sink = gst_element_get_static_pad(h->element, "sink");
  caps = gst_pad_query_caps(sink, NULL);
  GstCaps *other = gst_caps_from_string(
      "audio/x-raw, format=F32LE, channels=1, layout=interleaved, rate=48000");
  g_assert_false(gst_caps_can_intersect(caps, other));
  gst_caps_unref(other);
  other = gst_caps_from_string(
      "audio/x-raw, format=S16LE, channels=1, layout=interleaved, rate=44100");
  g_assert_false(gst_caps_can_intersect(caps, other));
  gst_caps_unref(other);
  gst_caps_unref(caps);
  g_object_set(h->element, "sample-rate", 0, NULL);
  caps = gst_pad_query_caps(sink, NULL);
  other = gst_caps_from_string(
      "audio/x-raw, format=F32LE, channels=1, layout=interleaved, rate=48000");
  g_assert_true(gst_caps_can_intersect(caps, other));
  gst_caps_unref(other);
  gst_caps_unref(caps);
  gst_object_unref(sink);

  /* latency: a window plus the delta look-ahead (4 hops) */
  gst_harness_set_upstream_latency(h, 10 * GST_MSECOND);
  GstClockTime latency = gst_harness_query_latency(h);
  g_assert_cmpuint(latency, ==,
                   10 * GST_MSECOND + gst_util_uint64_scale_int(
                                          1024 + 4 * 256, GST_SECOND, RATE));
  gst_harness_teardown(h);
}

static void test_nan_is_error(void) {
  GstHarness *h = new_harness(RATE, NULL, NULL);
  GstBus *bus = gst_bus_new();
  gst_element_set_bus(h->element, bus);
  float x[2048] = {0};
  x[100] = NAN;
  g_assert_cmpint(gst_harness_push(h, wrap(x, 2048, 0)), ==, GST_FLOW_ERROR);
  GError *error = test_pop_error(bus);
  g_test_message("error: %s", error->message);
  g_assert_true(
      g_error_matches(error, GST_STREAM_ERROR, GST_STREAM_ERROR_FORMAT));
  char *lower = g_ascii_strdown(error->message, -1);
  g_assert_true(strstr(lower, "nan") != NULL || strstr(lower, "inf") != NULL);
  g_free(lower);
  g_error_free(error);
  gst_element_set_bus(h->element, NULL);
  gst_object_unref(bus);
  gst_harness_teardown(h);
}

int main(int argc, char **argv) {
  gst_init(&argc, &argv);
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/gammatonespec/size-1", test_size_1);
  g_test_add_func("/gammatonespec/size-7", test_size_7);
  g_test_add_func("/gammatonespec/size-1024", test_size_1024);
  g_test_add_func("/gammatonespec/size-44100", test_size_44100);
  g_test_add_func("/gammatonespec/size-random", test_size_random);
  g_test_add_func("/gammatonespec/mel-random", test_mel_random);
  g_test_add_func("/gammatonespec/flush-restart", test_flush_restart);
  g_test_add_func("/gammatonespec/discont", test_discont);
  g_test_add_func("/gammatonespec/rate-change", test_rate_change);
  g_test_add_func("/gammatonespec/caps-latency", test_caps_and_latency);
  g_test_add_func("/gammatonespec/nan", test_nan_is_error);
  int ret = g_test_run();
  gst_deinit();
  return ret;
}
