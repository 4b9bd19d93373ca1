/* test-sound-events.c - acrnnclassify events=TRUE on streams of known
 * sounds and silences at known times (feature frames from a harness, a
 * random test model): with event-on=0 every class is active exactly while
 * there is sound, so every event must start and end at the sound's first
 * and last frame; with event-on=0.34 and the default event-off and
 * event-min-duration every start is followed by its end, inside the sound to
 * within a segment hop. A flush, a GAP and a
 * non-flushing seek in the middle of an event end it, so does events=FALSE;
 * the times are stream times; soundclassifier and soundanalyzer take the
 * properties and post the events of a live source. */
#include "gst-test-harness.h"

#include <gst/gst.h>
#include <math.h>
#include <string.h>

#define HOP_FRAMES 64 /* the test model's segment hop */

static const char *tmpdir;
static char *model;

/* acrnnclassify batch=1 events=TRUE with more properties (gst-launch
 * syntax, "name=value name=value"). */
static void fixture_start(TestClassifier *f, const char *props) {
  char *all = g_strconcat("batch=1 events=true ", props, NULL);
  test_classifier_start(f, model, all);
  g_free(all);
}

/* The centre of frame i's window (1024 samples), where the element places a
 * boundary at a loud frame. */
static GstClockTime frame_centre(guint64 frame) {
  return gst_util_uint64_scale_int(frame * 512 + 512, GST_SECOND,
                                   TEST_FEATURE_RATE);
}

/* n frames from frame `first` on: loud (random log energies) or silent
 * (the log of the 1e-10 floor, digital silence). */
static GstBuffer *frames(guint64 first, guint n, gboolean loud, guint32 seed) {
  GRand *rand = g_rand_new_with_seed(seed);
  size_t len = (size_t)n * 2 * TEST_FEATURE_BANDS;
  float *x = g_new(float, len);
  for (size_t i = 0; i < len; i++) {
    gboolean log_band = i % (2 * TEST_FEATURE_BANDS) < TEST_FEATURE_BANDS;
    if (!loud)
      x[i] = log_band ? logf(1e-10f) : 0.0f;
    else
      x[i] = (float)(log_band ? g_rand_double_range(rand, -5, 10)
                              : g_rand_double_range(rand, -1, 1));
  }
  g_rand_free(rand);
  GstBuffer *buf = gst_buffer_new_wrapped(x, len * sizeof(float));
  GST_BUFFER_PTS(buf) = test_frame_time(first);
  return buf;
}

/* The known stream: silence and sound, in frames; sound in [300, 700) and
 * [1000, 1200). */
static const guint stretches[][2] = {
    {300, 0}, {400, 1}, {300, 0}, {200, 1}, {200, 0}};
static const guint64 sound[][2] = {{300, 699}, {1000, 1199}};

static void push_known_stream(TestClassifier *f) {
  guint64 at = 0;
  for (guint i = 0; i < G_N_ELEMENTS(stretches); i++) {
    g_assert_cmpint(gst_harness_push(f->h, frames(at, stretches[i][0],
                                                  stretches[i][1], i + 1)),
                    ==, GST_FLOW_OK);
    at += stretches[i][0];
  }
}

static void push_time_segment(TestClassifier *f, GstClockTime time) {
  GstSegment seg;
  gst_segment_init(&seg, GST_FORMAT_TIME);
  seg.time = time;
  g_assert_true(gst_harness_push_event(f->h, gst_event_new_segment(&seg)));
}

static guint64 get_u64(const GstStructure *s, const char *field) {
  guint64 v = 0;
  g_assert_true(gst_structure_get_uint64(s, field, &v));
  return v;
}

static const char *get_state(const GstStructure *s) {
  const char *state = gst_structure_get_string(s, "state");
  g_assert_nonnull(state);
  return state;
}

static int get_class(const GstStructure *s) {
  int c = -2;
  g_assert_true(gst_structure_get_int(s, "class-id", &c));
  return c;
}

/* Checks the fields of every event message and that each start is followed
 * by one end of the same class and start, none left open. Returns the end
 * messages. */
static GPtrArray *check_pairs(GPtrArray *m) {
  GPtrArray *ends = g_ptr_array_new();
  GHashTable *open = g_hash_table_new(NULL, NULL);
  for (guint i = 0; i < m->len; i++) {
    const GstStructure *s = g_ptr_array_index(m, i);
    int c = get_class(s);
    g_assert_cmpint(c, >=, 0);
    g_assert_cmpint(c, <, TEST_N_LABELS);
    g_assert_cmpstr(gst_structure_get_string(s, "label"), ==, test_labels[c]);
    double conf = -1;
    g_assert_true(gst_structure_get_double(s, "confidence", &conf));
    g_assert_cmpfloat(conf, >=, 0.0);
    g_assert_cmpfloat(conf, <=, 1.0);
    guint64 start = get_u64(s, "start"), end = get_u64(s, "end");
    gpointer key = GINT_TO_POINTER(c + 1);
    if (strcmp(get_state(s), "start") == 0) {
      g_assert_false(g_hash_table_contains(open, key));
      g_assert_cmpuint(end, ==, GST_CLOCK_TIME_NONE);
      g_hash_table_insert(open, key, (gpointer)s);
    } else {
      g_assert_cmpstr(get_state(s), ==, "end");
      const GstStructure *st = g_hash_table_lookup(open, key);
      g_assert_nonnull(st);
      g_assert_cmpuint(get_u64(st, "start"), ==, start);
      g_assert_cmpuint(end, >=, start);
      g_hash_table_remove(open, key);
      g_ptr_array_add(ends, (gpointer)s);
    }
  }
  g_assert_cmpuint(g_hash_table_size(open), ==, 0);
  g_hash_table_unref(open);
  return ends;
}

/* event-on=0 event-off=0: every class is active exactly while there is
 * sound; its events start and end at the sound's first and last frames
 * (in stream time: the segment's time is 100 s). */
static void test_known_times(void) {
  TestClassifier f;
  fixture_start(&f, "event-on=0 event-off=0 event-min-duration=0");
  push_time_segment(&f, 100 * GST_SECOND);
  push_known_stream(&f);
  g_assert_true(gst_harness_push_event(f.h, gst_event_new_eos()));
  GPtrArray *m = test_pop_messages(f.bus, "acrnn-event");
  GPtrArray *ends = check_pairs(m);
  g_assert_cmpuint(ends->len, ==, 2 * TEST_N_LABELS);
  for (guint i = 0; i < ends->len; i++) {
    const GstStructure *s = g_ptr_array_index(ends, i);
    const guint64 *want = sound[i / TEST_N_LABELS];
    g_assert_cmpint(get_class(s), ==, (int)(i % TEST_N_LABELS));
    g_assert_cmpuint(get_u64(s, "start"), ==,
                     100 * GST_SECOND + frame_centre(want[0]));
    g_assert_cmpuint(get_u64(s, "end"), ==,
                     100 * GST_SECOND + frame_centre(want[1]));
  }
  g_ptr_array_unref(ends);
  g_ptr_array_unref(m);
  test_classifier_stop(&f);
}

/* event-on=0.34 (the best of 3 classes is at least 1/3), the default
 * event-off and event-min-duration: whatever the random model says, the events
 * come in pairs and lie in the sound, to within one segment hop. */
static void test_pairs_in_sound(void) {
  TestClassifier f;
  fixture_start(&f, "event-on=0.34");
  push_time_segment(&f, 0);
  push_known_stream(&f);
  g_assert_true(gst_harness_push_event(f.h, gst_event_new_eos()));
  GPtrArray *m = test_pop_messages(f.bus, "acrnn-event");
  GPtrArray *ends = check_pairs(m);
  g_assert_cmpuint(ends->len, >, 0);
  GstClockTime hop = test_frame_time(HOP_FRAMES);
  for (guint i = 0; i < ends->len; i++) {
    const GstStructure *s = g_ptr_array_index(ends, i);
    guint64 start = get_u64(s, "start"), end = get_u64(s, "end");
    gboolean inside = FALSE;
    for (guint k = 0; k < G_N_ELEMENTS(sound); k++)
      inside |= start + hop >= frame_centre(sound[k][0]) &&
                end <= frame_centre(sound[k][1]) + hop;
    g_assert_true(inside);
    g_assert_cmpuint(end - start, >=, 500 * GST_MSECOND); /* the default */
  }
  g_ptr_array_unref(ends);
  g_ptr_array_unref(m);
  test_classifier_stop(&f);
}

/* 300 silent and 200 loud frames: each class's event has started and not
 * ended (the whole segments, 0 to 5, end at frame 447). */
static void start_events(TestClassifier *f) {
  push_time_segment(f, 0);
  gst_harness_push(f->h, frames(0, 300, FALSE, 1));
  gst_harness_push(f->h, frames(300, 200, TRUE, 2));
  GPtrArray *m = test_pop_messages(f->bus, "acrnn-event");
  g_assert_cmpuint(m->len, ==, TEST_N_LABELS);
  for (guint i = 0; i < m->len; i++) {
    const GstStructure *s = g_ptr_array_index(m, i);
    g_assert_cmpstr(get_state(s), ==, "start");
    g_assert_cmpuint(get_u64(s, "start"), ==, frame_centre(300));
  }
  g_ptr_array_unref(m);
}

/* Each class's event ends at frame `last`: the last loud frame seen, 447
 * after a flush (the frames after the last whole segment are dropped), 499
 * at the end of a run (its last frames are classified first). */
static void check_ended(TestClassifier *f, guint64 last) {
  GPtrArray *m = test_pop_messages(f->bus, "acrnn-event");
  g_assert_cmpuint(m->len, ==, TEST_N_LABELS);
  for (guint i = 0; i < m->len; i++) {
    const GstStructure *s = g_ptr_array_index(m, i);
    g_assert_cmpstr(get_state(s), ==, "end");
    g_assert_cmpuint(get_u64(s, "start"), ==, frame_centre(300));
    g_assert_cmpuint(get_u64(s, "end"), ==, frame_centre(last));
  }
  g_ptr_array_unref(m);
}

/* A flush in the middle of an event ends it; events start again after. */
static void test_flush(void) {
  TestClassifier f;
  fixture_start(&f, "event-on=0 event-off=0 event-min-duration=0");
  start_events(&f);
  g_assert_true(gst_harness_push_event(f.h, gst_event_new_flush_start()));
  g_assert_true(gst_harness_push_event(f.h, gst_event_new_flush_stop(TRUE)));
  check_ended(&f, 447);
  start_events(&f);
  g_assert_true(gst_harness_push_event(f.h, gst_event_new_eos()));
  check_ended(&f, 499);
  test_classifier_stop(&f);
}

/* A non-flushing seek (a new segment) and a GAP in the middle of an event
 * end the run, and so the event. */
static void test_seek_and_gap(void) {
  TestClassifier f;
  fixture_start(&f, "event-on=0 event-off=0 event-min-duration=0");
  start_events(&f);
  push_time_segment(&f, 0); /* non-flushing seek */
  check_ended(&f, 499);
  start_events(&f);
  g_assert_true(gst_harness_push_event(
      f.h, gst_event_new_gap(test_frame_time(500), GST_SECOND)));
  check_ended(&f, 499);
  test_classifier_stop(&f);
}

/* events=FALSE in the middle of an event ends it with the next segment;
 * nothing more comes after. */
static void test_switch_off(void) {
  TestClassifier f;
  fixture_start(&f, "event-on=0 event-off=0 event-min-duration=0");
  start_events(&f);
  g_object_set(f.h->element, "events", FALSE, NULL);
  gst_harness_push(f.h, frames(500, 100, TRUE, 3));
  check_ended(&f, 447);
  g_assert_true(gst_harness_push_event(f.h, gst_event_new_eos()));
  GPtrArray *m = test_pop_messages(f.bus, "acrnn-event");
  g_assert_cmpuint(m->len, ==, 0);
  g_ptr_array_unref(m);
  test_classifier_stop(&f);
}

/* A live source through soundclassifier and soundanalyzer (the properties
 * set on the bins): one event per class, from the first frame to the last,
 * closed at EOS, posted by the bin (soundclassifier) or its
 * classifier (soundanalyzer). */
static void test_live_bins(void) {
  const char *bins[] = {"soundclassifier name=c", "soundanalyzer name=c"};
  for (guint b = 0; b < G_N_ELEMENTS(bins); b++) {
    /* 3 s of a sine: 30 buffers of 4410 samples */
    gchar *desc = g_strdup_printf(
        "audiotestsrc is-live=true samplesperbuffer=4410 num-buffers=30 ! "
        "audio/x-raw,rate=44100 ! %s model=%s events=true event-on=0 "
        "event-off=0 event-min-duration=0 ! fakesink",
        bins[b], model);
    TestRun *run = test_run_pipeline_messages(desc, 60, 0, "acrnn-event");
    g_assert_no_error(run->error);
    g_assert_true(run->eos);
    GPtrArray *ends = check_pairs(run->results);
    g_assert_cmpuint(ends->len, ==, TEST_N_LABELS);
    for (guint i = 0; i < ends->len; i++) {
      const GstStructure *s = g_ptr_array_index(ends, i);
      /* a live source starts at the running time it started at */
      guint64 start = get_u64(s, "start"), end = get_u64(s, "end");
      g_assert_cmpuint(start, >=, frame_centre(0));
      g_assert_cmpuint(start, <, frame_centre(0) + GST_SECOND);
      /* from the first frame to the last of the 257 frames of 3 s */
      gint64 span =
          (gint64)(end - start) - (gint64)(frame_centre(256) - frame_centre(0));
      g_assert_cmpint(ABS(span), <, GST_MSECOND);
    }
    for (guint i = 0; i < run->sources->len; i++)
      if (b == 0)
        g_assert_cmpstr(g_ptr_array_index(run->sources, i), ==, "c");
    g_ptr_array_unref(ends);
    test_run_free(run);
    g_free(desc);
  }
}

/* The properties and their defaults, on the element and the bins. */
static void test_properties(void) {
  const char *factories[] = {"acrnnclassify", "soundclassifier",
                             "soundanalyzer"};
  for (guint i = 0; i < G_N_ELEMENTS(factories); i++) {
    GstElement *e = gst_element_factory_make(factories[i], NULL);
    g_assert_nonnull(e);
    gboolean on;
    double event_on, event_off;
    guint64 min;
    g_object_get(e, "events", &on, "event-on", &event_on, "event-off",
                 &event_off, "event-min-duration", &min, NULL);
    g_assert_false(on);
    g_assert_cmpfloat(event_on, ==, 0.5);
    g_assert_cmpfloat(event_off, ==, 0.3);
    g_assert_cmpuint(min, ==, 500 * GST_MSECOND);
    g_object_set(e, "events", TRUE, "event-on", 0.7, "event-off", 0.2,
                 "event-min-duration", (guint64)GST_SECOND, NULL);
    g_object_get(e, "events", &on, "event-on", &event_on, "event-off",
                 &event_off, "event-min-duration", &min, NULL);
    g_assert_true(on);
    g_assert_cmpfloat(event_on, ==, 0.7);
    g_assert_cmpfloat(event_off, ==, 0.2);
    g_assert_cmpuint(min, ==, GST_SECOND);
    gst_object_unref(e);
  }
}

int main(int argc, char **argv) {
  tmpdir = test_init(&argc, &argv);
  model = test_make_model(tmpdir, "events.safetensors", TEST_FEATURE_BANDS, 7);
  g_test_add_func("/sound-events/known-times", test_known_times);
  g_test_add_func("/sound-events/pairs-in-sound", test_pairs_in_sound);
  g_test_add_func("/sound-events/flush", test_flush);
  g_test_add_func("/sound-events/seek-and-gap", test_seek_and_gap);
  g_test_add_func("/sound-events/switch-off", test_switch_off);
  g_test_add_func("/sound-events/live-bins", test_live_bins);
  g_test_add_func("/sound-events/properties", test_properties);
  int ret = test_run_tests();
  g_free(model);
  return ret;
}
