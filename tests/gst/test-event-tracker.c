/* test-event-tracker.c - the sound event state machine of acrnnclassify
 * (gst-plugins/event-tracker.c) on made-up segment probabilities: hysteresis
 * between event-on and event-off, several classes at once, the minimum
 * duration, silence and the end of a run ending events, and the boundaries
 * (the estimates, the loud frames next to silence). */
#include "../../gst-plugins/event-tracker.h"

#include <gst/gst.h>

#define MS GST_MSECOND
#define N_CLASSES 3
/* segments of 1000 ms every 500 ms: estimates at start + 250 / + 750 ms */
#define HOP (500 * MS)

typedef struct {
  GArray *events; /* GstAcrnnEvent */
} Log;

static void record(const GstAcrnnEvent *event, gpointer user_data) {
  Log *log = user_data;
  g_array_append_val(log->events, *event);
}

/* Segment i of the run: starts at i * HOP, all of it loud. */
static void push(GstAcrnnEventTracker *t, guint i, const float *probs) {
  GstClockTime start = i * HOP;
  GstAcrnnEventSegment seg = {start + 250 * MS, start + 750 * MS, start,
                              start + 1000 * MS, probs};
  gst_acrnn_event_tracker_push(t, &seg);
}

static void push_silent(GstAcrnnEventTracker *t, guint i) {
  GstClockTime start = i * HOP;
  GstAcrnnEventSegment seg = {start + 250 * MS, start + 750 * MS,
                              GST_CLOCK_TIME_NONE, GST_CLOCK_TIME_NONE, NULL};
  gst_acrnn_event_tracker_push(t, &seg);
}

static GstAcrnnEvent *event_at(Log *log, guint i) {
  g_assert_cmpuint(i, <, log->events->len);
  return &g_array_index(log->events, GstAcrnnEvent, i);
}

static void check(Log *log, guint i, int class_id, GstAcrnnEventState state,
                  GstClockTime start, GstClockTime end, double confidence) {
  const GstAcrnnEvent *e = event_at(log, i);
  g_assert_cmpint(e->class_id, ==, class_id);
  g_assert_cmpint(e->state, ==, state);
  g_assert_cmpuint(e->start, ==, start);
  if (state == GST_ACRNN_EVENT_START)
    g_assert_cmpuint(e->end, ==, GST_CLOCK_TIME_NONE);
  else
    g_assert_cmpuint(e->end, ==, end);
  g_assert_cmpfloat_with_epsilon(e->confidence, confidence, 1e-6);
}

static GstAcrnnEventTracker *tracker(Log *log, double on, double off,
                                     GstClockTime min_duration) {
  log->events = g_array_new(FALSE, FALSE, sizeof(GstAcrnnEvent));
  GstAcrnnEventTracker *t = gst_acrnn_event_tracker_new(N_CLASSES, record, log);
  gst_acrnn_event_tracker_configure(t, on, off, min_duration);
  return t;
}

static void done(GstAcrnnEventTracker *t, Log *log) {
  gst_acrnn_event_tracker_free(t);
  g_array_unref(log->events);
}

/* Class 0 rises to 0.6 in segment 1, hovers at 0.4 and 0.35 (above
 * event-off 0.3) and falls in segment 4: one event, from the onset estimate
 * of segment 1 to the offset estimate of segment 3, peak 0.6. A class that
 * only reaches 0.45 (below event-on) has none. */
static void test_hysteresis(void) {
  Log log;
  GstAcrnnEventTracker *t = tracker(&log, 0.5, 0.3, 0);
  const float p[][N_CLASSES] = {{0.2f, 0.45f, 0.35f}, {0.6f, 0.2f, 0.2f},
                                {0.4f, 0.3f, 0.3f},   {0.35f, 0.45f, 0.2f},
                                {0.2f, 0.45f, 0.35f}, {0.2f, 0.45f, 0.35f}};
  push(t, 0, p[0]);
  g_assert_cmpuint(log.events->len, ==, 0);
  push(t, 1, p[1]);
  g_assert_cmpuint(log.events->len, ==, 1); /* min-duration 0: at once */
  check(&log, 0, 0, GST_ACRNN_EVENT_START, HOP + 250 * MS, 0, 0.6);
  for (guint i = 2; i < 6; i++)
    push(t, i, p[i]);
  g_assert_cmpuint(log.events->len, ==, 2);
  check(&log, 1, 0, GST_ACRNN_EVENT_END, HOP + 250 * MS, 3 * HOP + 750 * MS,
        0.6);
  g_assert_cmpuint(gst_acrnn_event_tracker_active(t), ==, 0);
  /* with off = on it would have ended in segment 2 */
  gst_acrnn_event_tracker_configure(t, 0.5, 0.5, 0);
  push(t, 6, p[1]);
  push(t, 7, p[2]);
  g_assert_cmpuint(log.events->len, ==, 4);
  check(&log, 3, 0, GST_ACRNN_EVENT_END, 6 * HOP + 250 * MS, 6 * HOP + 750 * MS,
        0.6);
  done(t, &log);
}

/* Class 0 from segment 0 to 3, class 2 from segment 2 to 5: both active in
 * segments 2 and 3; an offset comes before an onset in the same segment. */
static void test_overlapping_classes(void) {
  Log log;
  GstAcrnnEventTracker *t = tracker(&log, 0.5, 0.3, 0);
  const float p[][N_CLASSES] = {{0.9f, 0.05f, 0.05f}, {0.8f, 0.1f, 0.1f},
                                {0.5f, 0.0f, 0.5f},   {0.45f, 0.0f, 0.55f},
                                {0.1f, 0.2f, 0.7f},   {0.1f, 0.2f, 0.7f},
                                {0.1f, 0.8f, 0.1f}};
  for (guint i = 0; i < 7; i++)
    push(t, i, p[i]);
  g_assert_cmpuint(gst_acrnn_event_tracker_active(t), ==, 1);
  gst_acrnn_event_tracker_end_run(t);
  g_assert_cmpuint(log.events->len, ==, 6);
  /* the run starts: the onset is the first loud frame, segment 0's start */
  check(&log, 0, 0, GST_ACRNN_EVENT_START, 0, 0, 0.9);
  check(&log, 1, 2, GST_ACRNN_EVENT_START, 2 * HOP + 250 * MS, 0, 0.5);
  check(&log, 2, 0, GST_ACRNN_EVENT_END, 0, 3 * HOP + 750 * MS, 0.9);
  /* class 1 takes over in segment 6: class 2 ends first */
  check(&log, 3, 2, GST_ACRNN_EVENT_END, 2 * HOP + 250 * MS, 5 * HOP + 750 * MS,
        0.7);
  check(&log, 4, 1, GST_ACRNN_EVENT_START, 6 * HOP + 250 * MS, 0, 0.8);
  /* the end of the run: at the last loud frame of segment 6 */
  check(&log, 5, 1, GST_ACRNN_EVENT_END, 6 * HOP + 250 * MS,
        6 * HOP + 1000 * MS, 0.8);
  done(t, &log);
}

/* min-duration 800 ms: a one-segment blip (500 ms by the estimates) gives no
 * message; a longer event is announced once it has lasted 800 ms (in its
 * second segment), with its onset where it began. */
static void test_min_duration(void) {
  Log log;
  GstAcrnnEventTracker *t = tracker(&log, 0.5, 0.3, 800 * MS);
  const float quiet[N_CLASSES] = {0.1f, 0.1f, 0.1f};
  const float dog[N_CLASSES] = {0.9f, 0.05f, 0.05f};
  push(t, 0, quiet);
  push(t, 1, dog);
  push(t, 2, quiet);
  g_assert_cmpuint(log.events->len, ==, 0);
  push(t, 3, dog);
  g_assert_cmpuint(log.events->len, ==, 0);
  push(t, 4, dog);
  g_assert_cmpuint(log.events->len, ==, 1);
  check(&log, 0, 0, GST_ACRNN_EVENT_START, 3 * HOP + 250 * MS, 0, 0.9);
  push(t, 5, quiet);
  g_assert_cmpuint(log.events->len, ==, 2);
  check(&log, 1, 0, GST_ACRNN_EVENT_END, 3 * HOP + 250 * MS, 4 * HOP + 750 * MS,
        0.9);
  /* a blip at the end of a run is dropped as well */
  push(t, 6, dog);
  gst_acrnn_event_tracker_end_run(t);
  g_assert_cmpuint(log.events->len, ==, 2);
  done(t, &log);
}

/* A silent segment ends every event at the last loud frame of its last
 * segment; the next onset is the first loud frame after the silence, and
 * an onset is never before the first loud frame of its segment. */
static void test_silence_and_loud_frames(void) {
  Log log;
  GstAcrnnEventTracker *t = tracker(&log, 0.5, 0.3, 0);
  const float dog[N_CLASSES] = {0.9f, 0.05f, 0.05f};
  const float both[N_CLASSES] = {0.6f, 0.0f, 0.4f};
  const float rain[N_CLASSES] = {0.1f, 0.1f, 0.8f};
  GstAcrnnEventSegment seg = {1 * HOP + 250 * MS, 1 * HOP + 750 * MS,
                              1 * HOP + 600 * MS, 1 * HOP + 900 * MS, dog};
  push(t, 0, (const float[]){0.2f, 0.2f, 0.2f});
  gst_acrnn_event_tracker_push(t, &seg); /* quiet until 600 ms */
  g_assert_cmpuint(log.events->len, ==, 1);
  check(&log, 0, 0, GST_ACRNN_EVENT_START, HOP + 600 * MS, 0, 0.9);
  seg = (GstAcrnnEventSegment){2 * HOP + 250 * MS, 2 * HOP + 750 * MS,
                               2 * HOP + 10 * MS, 2 * HOP + 420 * MS, both};
  gst_acrnn_event_tracker_push(t, &seg);
  g_assert_cmpuint(log.events->len, ==, 1);
  push_silent(t, 3);
  g_assert_cmpuint(log.events->len, ==, 2);
  check(&log, 1, 0, GST_ACRNN_EVENT_END, HOP + 600 * MS, 2 * HOP + 420 * MS,
        0.9);
  /* after the silence: the first loud frame, before the estimate */
  seg = (GstAcrnnEventSegment){4 * HOP + 250 * MS, 4 * HOP + 750 * MS,
                               4 * HOP + 100 * MS, 4 * HOP + 1000 * MS, rain};
  gst_acrnn_event_tracker_push(t, &seg);
  check(&log, 2, 2, GST_ACRNN_EVENT_START, 4 * HOP + 100 * MS, 0, 0.8);
  gst_acrnn_event_tracker_end_run(t);
  check(&log, 3, 2, GST_ACRNN_EVENT_END, 4 * HOP + 100 * MS,
        4 * HOP + 1000 * MS, 0.8);
  /* a new run: the onset is its first loud frame */
  seg.first_loud = 4 * HOP + 700 * MS;
  seg.probs = dog;
  gst_acrnn_event_tracker_push(t, &seg);
  check(&log, 4, 0, GST_ACRNN_EVENT_START, 4 * HOP + 700 * MS, 0, 0.9);
  /* ended by probability: the estimate, not after the last loud frame */
  seg = (GstAcrnnEventSegment){5 * HOP + 250 * MS, 5 * HOP + 750 * MS, 5 * HOP,
                               5 * HOP + 300 * MS, dog};
  gst_acrnn_event_tracker_push(t, &seg);
  push(t, 6, rain);
  check(&log, 5, 0, GST_ACRNN_EVENT_END, 4 * HOP + 700 * MS, 5 * HOP + 300 * MS,
        0.9);
  g_assert_cmpuint(log.events->len, ==, 7); /* and rain starts */
  done(t, &log);
}

/* event-off above event-on counts as event-on: no event that never ends. */
static void test_off_above_on(void) {
  Log log;
  GstAcrnnEventTracker *t = tracker(&log, 0.5, 0.9, 0);
  const float dog[N_CLASSES] = {0.7f, 0.2f, 0.1f};
  const float less[N_CLASSES] = {0.45f, 0.3f, 0.25f};
  push(t, 0, dog);
  push(t, 1, dog);
  push(t, 2, less);
  g_assert_cmpuint(log.events->len, ==, 2);
  check(&log, 1, 0, GST_ACRNN_EVENT_END, 0, HOP + 750 * MS, 0.7);
  done(t, &log);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/event-tracker/hysteresis", test_hysteresis);
  g_test_add_func("/event-tracker/overlapping-classes",
                  test_overlapping_classes);
  g_test_add_func("/event-tracker/min-duration", test_min_duration);
  g_test_add_func("/event-tracker/silence-and-loud-frames",
                  test_silence_and_loud_frames);
  g_test_add_func("/event-tracker/off-above-on", test_off_above_on);
  return g_test_run();
}
