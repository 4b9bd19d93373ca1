/* event-tracker.c - sound events from per-segment probabilities (see
 * event-tracker.h). */
#include "event-tracker.h"

typedef struct {
  gboolean active;    /* an event of the class is going on */
  gboolean announced; /* its START was reported */
  GstClockTime onset;
  double peak;
  /* of the event's last segment: where it ends if it ends after it */
  GstClockTime offset_est, last_loud;
} ClassState;

struct GstAcrnnEventTracker {
  int n_classes;
  ClassState *classes;
  double on, off;
  GstClockTime min_duration;
  gboolean after_quiet; /* the run starts, or the last segment was silent */
  GstAcrnnEventFunc func;
  gpointer user_data;
};

GstAcrnnEventTracker *gst_acrnn_event_tracker_new(int n_classes,
                                                  GstAcrnnEventFunc func,
                                                  gpointer user_data) {
  GstAcrnnEventTracker *t = g_new0(GstAcrnnEventTracker, 1);
  t->n_classes = n_classes;
  t->classes = g_new0(ClassState, n_classes);
  t->on = 0.5;
  t->off = 0.5;
  t->after_quiet = TRUE;
  t->func = func;
  t->user_data = user_data;
  return t;
}

void gst_acrnn_event_tracker_free(GstAcrnnEventTracker *tracker) {
  if (tracker == NULL)
    return;
  g_free(tracker->classes);
  g_free(tracker);
}

void gst_acrnn_event_tracker_configure(GstAcrnnEventTracker *tracker, double on,
                                       double off, GstClockTime min_duration) {
  tracker->on = on;
  tracker->off = MIN(off, on);
  tracker->min_duration = min_duration;
}

static void emit(GstAcrnnEventTracker *t, int c, GstAcrnnEventState state,
                 GstClockTime end) {
  const ClassState *s = &t->classes[c];
  GstAcrnnEvent e = {c, state, s->onset, end, s->peak};
  t->func(&e, t->user_data);
}

static GstClockTime later(GstClockTime a, GstClockTime b) {
  return a > b ? a : b;
}

/* Where the event of class state s ends if its last segment was the last:
 * by_frames (silence or the end of the run follows) at the last loud frame,
 * else at the estimate (never after the last loud frame). */
static GstClockTime end_time(const ClassState *s, gboolean by_frames) {
  GstClockTime end;
  if (!GST_CLOCK_TIME_IS_VALID(s->last_loud))
    end = s->offset_est;
  else if (by_frames)
    end = s->last_loud;
  else
    end = MIN(s->offset_est, s->last_loud);
  return later(end, s->onset);
}

static void close_event(GstAcrnnEventTracker *t, int c, gboolean by_frames) {
  ClassState *s = &t->classes[c];
  GstClockTime end = end_time(s, by_frames);
  if (!s->announced && end - s->onset >= t->min_duration) {
    emit(t, c, GST_ACRNN_EVENT_START, GST_CLOCK_TIME_NONE);
    s->announced = TRUE;
  }
  if (s->announced) /* a blip shorter than min_duration: nothing */
    emit(t, c, GST_ACRNN_EVENT_END, end);
  s->active = FALSE;
  s->announced = FALSE;
}

static void extend(GstAcrnnEventTracker *t, int c,
                   const GstAcrnnEventSegment *seg, double p) {
  ClassState *s = &t->classes[c];
  s->peak = MAX(s->peak, p);
  s->offset_est = seg->offset_est;
  s->last_loud = seg->last_loud;
  if (!s->announced && end_time(s, FALSE) - s->onset >= t->min_duration) {
    emit(t, c, GST_ACRNN_EVENT_START, GST_CLOCK_TIME_NONE);
    s->announced = TRUE;
  }
}

void gst_acrnn_event_tracker_push(GstAcrnnEventTracker *tracker,
                                  const GstAcrnnEventSegment *segment) {
  GstAcrnnEventTracker *t = tracker;
  if (segment->probs == NULL) { /* silence ends every event */
    gst_acrnn_event_tracker_end_run(t);
    return;
  }
  /* offsets first, so that a class taking over ends before it starts */
  for (int c = 0; c < t->n_classes; c++)
    if (t->classes[c].active && segment->probs[c] < t->off)
      close_event(t, c, FALSE);
  for (int c = 0; c < t->n_classes; c++) {
    ClassState *s = &t->classes[c];
    double p = segment->probs[c];
    if (!s->active) {
      if (p < t->on)
        continue;
      s->active = TRUE;
      s->announced = FALSE;
      s->peak = p;
      s->onset = segment->onset_est;
      if (GST_CLOCK_TIME_IS_VALID(segment->first_loud) &&
          (t->after_quiet || segment->first_loud > s->onset))
        s->onset = segment->first_loud;
    }
    extend(t, c, segment, p);
  }
  t->after_quiet = FALSE;
}

void gst_acrnn_event_tracker_end_run(GstAcrnnEventTracker *tracker) {
  for (int c = 0; c < tracker->n_classes; c++)
    if (tracker->classes[c].active)
      close_event(tracker, c, TRUE);
  tracker->after_quiet = TRUE;
}

guint gst_acrnn_event_tracker_active(const GstAcrnnEventTracker *tracker) {
  guint n = 0;
  for (int c = 0; c < tracker->n_classes; c++)
    n += tracker->classes[c].active;
  return n;
}
