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
#include "gst-test-util.h"

#include <gst/check/gstharness.h>
#include <gst/gst.h>
#include <math.h>
#include <string.h>

#define RATE 44100
#define BANDS 32
#define HOP_FRAMES 64 /* the test model's segment hop */
#define FEATURE_CAPS                                                           \
  "audio/x-acrnn-features, format=F32LE, bands=32, "                           \
  "frame-rate=(fraction)44100/512, sample-rate=44100, n-fft=1024, hop=512, "   \
  "fmin=50.0, fmax=22050.0, delta-width=9"

static char *tmpdir, *model;

static GstStaticPadTemplate harness_src = GST_STATIC_PAD_TEMPLATE(
    "src", GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);
static GstStaticPadTemplate harness_sink = GST_STATIC_PAD_TEMPLATE(
    "sink", GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);

typedef struct {
  GstHarness *h;
  GstBus *bus;
} Fixture;

/* acrnnclassify batch=1 events=TRUE with more properties (gst-launch
 * syntax, "name=value name=value"). */
static void fixture_start(Fixture *f, const char *props) {
  f->h = gst_harness_new_empty();
  GstElement *e = gst_element_factory_make("acrnnclassify", NULL);
  g_object_set(e, "model", model, "batch", 1, "events", TRUE, NULL);
  if (props != NULL) {
    gchar **kv = g_strsplit(props, " ", -1);
    for (gchar **p = kv; *p != NULL; p++) {
      gchar **nv = g_strsplit(*p, "=", 2);
      gst_util_set_object_arg(G_OBJECT(e), nv[0], nv[1]);
      g_strfreev(nv);
    }
    g_strfreev(kv);
  }
  f->bus = gst_bus_new();
  gst_element_set_bus(e, f->bus);
  gst_harness_add_element_full(f->h, e, &harness_src, "sink", &harness_sink,
                               "src");
  gst_object_unref(e);
  gst_harness_set_src_caps_str(f->h, FEATURE_CAPS);
}

static void fixture_stop(Fixture *f) {
  gst_element_set_bus(f->h->element, NULL);
  gst_object_unref(f->bus);
  gst_harness_teardown(f->h);
}

/* The acrnn-event messages posted since the last call. */
static GPtrArray *events(GstBus *bus) {
  GPtrArray *out =
      g_ptr_array_new_with_free_func((GDestroyNotify)gst_structure_free);
  GstMessage *msg;
  while ((msg = gst_bus_pop_filtered(bus, GST_MESSAGE_ELEMENT)) != NULL) {
    const GstStructure *s = gst_message_get_structure(msg);
    if (gst_structure_has_name(s, "acrnn-event"))
      g_ptr_array_add(out, gst_structure_copy(s));
    gst_message_unref(msg);
  }
  return out;
}

static GstClockTime frame_time(guint64 frame) {
  return gst_util_uint64_scale_int(frame * 512, GST_SECOND, RATE);
}

/* The centre of frame i's window (1024 samples), where the element places a
 * boundary at a loud frame. */
static GstClockTime frame_centre(guint64 frame) {
  return gst_util_uint64_scale_int(frame * 512 + 512, GST_SECOND, RATE);
}

/* n frames from frame `first` on: loud (random log energies) or silent
 * (the log of the 1e-10 floor, digital silence). */
static GstBuffer *frames(guint64 first, guint n, gboolean loud, guint32 seed) {
  GRand *rand = g_rand_new_with_seed(seed);
  size_t len = (size_t)n * 2 * BANDS;
  float *x = g_new(float, len);
  for (size_t i = 0; i < len; i++) {
    gboolean log_band = i % (2 * BANDS) < BANDS;
    if (!loud)
      x[i] = log_band ? logf(1e-10f) : 0.0f;
    else
      x[i] = (float)(log_band ? g_rand_double_range(rand, -5, 10)
                              : g_rand_double_range(rand, -1, 1));
  }
  g_rand_free(rand);
  GstBuffer *buf = gst_buffer_new_wrapped(x, len * sizeof(float));
  GST_BUFFER_PTS(buf) = frame_time(first);
  return buf;
}

/* The known stream: silence and sound, in frames; sound in [300, 700) and
 * [1000, 1200). */
static const guint stretches[][2] = {
    {300, 0}, {400, 1}, {300, 0}, {200, 1}, {200, 0}};
static const guint64 sound[][2] = {{300, 699}, {1000, 1199}};

static void push_known_stream(Fixture *f) {
  guint64 at = 0;
  for (guint i = 0; i < G_N_ELEMENTS(stretches); i++) {
    g_assert_cmpint(gst_harness_push(f->h, frames(at, stretches[i][0],
                                                  stretches[i][1], i + 1)),
                    ==, GST_FLOW_OK);
    at += stretches[i][0];
  }
}

static void push_time_segment(Fixture *f, GstClockTime time) {
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
  Fixture f;
  fixture_start(&f, "event-on=0 event-off=0 event-min-duration=0");
  push_time_segment(&f, 100 * GST_SECOND);
  push_known_stream(&f);
  g_assert_true(gst_harness_push_event(f.h, gst_event_new_eos()));
  GPtrArray *m = events(f.bus);
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
  fixture_stop(&f);
}

/* event-on=0.34 (the best of 3 classes is at least 1/3), the default
 * event-off and event-min-duration: whatever the random model says, the events
 * come in pairs and lie in the sound, to within one segment hop. */
static void test_pairs_in_sound(void) {
  Fixture f;
  fixture_start(&f, "event-on=0.34");
  push_time_segment(&f, 0);
  push_known_stream(&f);
  g_assert_true(gst_harness_push_event(f.h, gst_event_new_eos()));
  GPtrArray *m = events(f.bus);
  GPtrArray *ends = check_pairs(m);
  g_assert_cmpuint(ends->len, >, 0);
  GstClockTime hop = frame_time(HOP_FRAMES);
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
  fixture_stop(&f);
}

/* 300 silent and 200 loud frames: each class's event has started and not
 * ended (the whole segments, 0 to 5, end at frame 447). */
static void start_events(Fixture *f) {
  push_time_segment(f, 0);
  gst_harness_push(f->h, frames(0, 300, FALSE, 1));
  gst_harness_push(f->h, frames(300, 200, TRUE, 2));
  GPtrArray *m = events(f->bus);
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
static void check_ended(Fixture *f, guint64 last) {
  GPtrArray *m = events(f->bus);
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
  Fixture f;
  fixture_start(&f, "event-on=0 event-off=0 event-min-duration=0");
  start_events(&f);
  g_assert_true(gst_harness_push_event(f.h, gst_event_new_flush_start()));
  g_assert_true(gst_harness_push_event(f.h, gst_event_new_flush_stop(TRUE)));
  check_ended(&f, 447);
  start_events(&f);
  g_assert_true(gst_harness_push_event(f.h, gst_event_new_eos()));
  check_ended(&f, 499);
  fixture_stop(&f);
}

/* A non-flushing seek (a new segment) and a GAP in the middle of an event
 * end the run, and so the event. */
static void test_seek_and_gap(void) {
  Fixture f;
  fixture_start(&f, "event-on=0 event-off=0 event-min-duration=0");
  start_events(&f);
  push_time_segment(&f, 0); /* non-flushing seek */
  check_ended(&f, 499);
  start_events(&f);
  g_assert_true(gst_harness_push_event(
      f.h, gst_event_new_gap(frame_time(500), GST_SECOND)));
  check_ended(&f, 499);
  fixture_stop(&f);
}

/* events=FALSE in the middle of an event ends it with the next segment;
 * nothing more comes after. */
static void test_switch_off(void) {
  Fixture f;
  fixture_start(&f, "event-on=0 event-off=0 event-min-duration=0");
  start_events(&f);
  g_object_set(f.h->element, "events", FALSE, NULL);
  gst_harness_push(f.h, frames(500, 100, TRUE, 3));
  check_ended(&f, 447);
  g_assert_true(gst_harness_push_event(f.h, gst_event_new_eos()));
  GPtrArray *m = events(f.bus);
  g_assert_cmpuint(m->len, ==, 0);
  g_ptr_array_unref(m);
  fixture_stop(&f);
}

/* Runs description until EOS; returns the acrnn-event messages and the
 * names of their sources. */
static GPtrArray *run_events(const char *description, GPtrArray *sources) {
  GError *error = NULL;
  GstElement *pipeline = gst_parse_launch(description, &error);
  g_assert_no_error(error);
  GstBus *bus = gst_element_get_bus(pipeline);
  g_assert_cmpint(gst_element_set_state(pipeline, GST_STATE_PLAYING), !=,
                  GST_STATE_CHANGE_FAILURE);
  GPtrArray *out =
      g_ptr_array_new_with_free_func((GDestroyNotify)gst_structure_free);
  for (;;) {
    GstMessage *msg = gst_bus_timed_pop_filtered(
        bus, 60 * GST_SECOND,
        GST_MESSAGE_ELEMENT | GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
    g_assert_nonnull(msg);
    g_assert_cmpint(GST_MESSAGE_TYPE(msg), !=, GST_MESSAGE_ERROR);
    gboolean eos = GST_MESSAGE_TYPE(msg) == GST_MESSAGE_EOS;
    const GstStructure *s = gst_message_get_structure(msg);
    if (!eos && gst_structure_has_name(s, "acrnn-event")) {
      g_ptr_array_add(out, gst_structure_copy(s));
      g_ptr_array_add(sources, g_strdup(GST_MESSAGE_SRC_NAME(msg)));
    }
    gst_message_unref(msg);
    if (eos)
      break;
  }
  gst_element_set_state(pipeline, GST_STATE_NULL);
  gst_object_unref(bus);
  gst_object_unref(pipeline);
  return out;
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
    GPtrArray *sources = g_ptr_array_new_with_free_func(g_free);
    GPtrArray *m = run_events(desc, sources);
    GPtrArray *ends = check_pairs(m);
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
    for (guint i = 0; i < sources->len; i++)
      if (b == 0)
        g_assert_cmpstr(g_ptr_array_index(sources, i), ==, "c");
    g_ptr_array_unref(ends);
    g_ptr_array_unref(m);
    g_ptr_array_unref(sources);
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
  gst_init(&argc, &argv);
  g_test_init(&argc, &argv, NULL);
  tmpdir = test_tmpdir();
  model = test_make_model(tmpdir, "events.safetensors", BANDS, 7);
  g_test_add_func("/sound-events/known-times", test_known_times);
  g_test_add_func("/sound-events/pairs-in-sound", test_pairs_in_sound);
  g_test_add_func("/sound-events/flush", test_flush);
  g_test_add_func("/sound-events/seek-and-gap", test_seek_and_gap);
  g_test_add_func("/sound-events/switch-off", test_switch_off);
  g_test_add_func("/sound-events/live-bins", test_live_bins);
  g_test_add_func("/sound-events/properties", test_properties);
  int ret = g_test_run();
  test_rmdir(tmpdir);
  g_free(model);
  g_free(tmpdir);
  return ret;
}
