/* classify-events.c - acrnnclassify's sound events (events=TRUE): the
 * segments' probabilities and frame levels go to an event tracker
 * (event-tracker.h), whose onsets and offsets are posted as "acrnn-event"
 * element messages, their times in stream time. */
#include "acrnnclassify-private.h"
#include "run-timing.h"

/* Posts one "acrnn-event" message. */
static void post_event(const GstAcrnnEvent *event, gpointer user_data) {
  GstAcrnnClassify *self = user_data;
  GstClockTime start, end = GST_CLOCK_TIME_NONE, running;
  gst_acrnn_classify_segment_times(self, event->start, &start, &running);
  if (event->state == GST_ACRNN_EVENT_END)
    gst_acrnn_classify_segment_times(self, event->end, &end, &running);
  GstStructure *s = gst_structure_new(
      "acrnn-event", "label", G_TYPE_STRING, self->info.labels[event->class_id],
      "class-id", G_TYPE_INT, event->class_id, "state", G_TYPE_STRING,
      event->state == GST_ACRNN_EVENT_START ? "start" : "end", "start",
      G_TYPE_UINT64, start, "end", G_TYPE_UINT64, end, "confidence",
      G_TYPE_DOUBLE, event->confidence, NULL);
  GST_DEBUG_OBJECT(self, "%" GST_PTR_FORMAT, s);
  gst_element_post_message(GST_ELEMENT(self),
                           gst_message_new_element(GST_OBJECT(self), s));
}

/* The tracker, configured from the properties; NULL when events are off
 * (events that were going on end first). */
static GstAcrnnEventTracker *tracker(GstAcrnnClassify *self) {
  GST_OBJECT_LOCK(self);
  gboolean on = self->events;
  double event_on = self->event_on, event_off = self->event_off;
  GstClockTime min_duration = self->event_min_duration;
  GST_OBJECT_UNLOCK(self);
  if (!on) {
    gst_acrnn_classify_events_end(self);
    return NULL;
  }
  if (self->events_tracker == NULL)
    self->events_tracker =
        gst_acrnn_event_tracker_new(self->info.n_labels, post_event, self);
  gst_acrnn_event_tracker_configure(self->events_tracker, event_on, event_off,
                                    min_duration);
  return self->events_tracker;
}

/* The centre of the window of frame `frame` of the run. */
static GstClockTime centre(GstAcrnnClassify *self, guint64 frame) {
  return gst_acrnn_run_time(self->run_start,
                            frame * self->fp.hop + self->fp.n_fft / 2,
                            self->fp.sample_rate);
}

void gst_acrnn_classify_events_measure(GstAcrnnClassify *self,
                                       PendingSegment *seg, const float *frames,
                                       guint64 first, guint64 used) {
  seg->first_loud = seg->last_loud = GST_CLOCK_TIME_NONE;
  GST_OBJECT_LOCK(self);
  gboolean on = self->events;
  double threshold = self->silence_threshold;
  GST_OBJECT_UNLOCK(self);
  if (!on || seg->silent)
    return;
  guint64 loud_first = G_MAXUINT64, loud_last = 0;
  for (guint64 f = 0; f < used; f++) {
    const float *frame = frames + f * self->frame_floats;
    if (self->meter == NULL ||
        acrnn_level_meter_db(self->meter, frame, 1) >= threshold) {
      loud_first = MIN(loud_first, f);
      loud_last = f;
    }
  }
  if (loud_first == G_MAXUINT64)
    return;
  /* the centre of the frame's window */
  seg->first_loud = centre(self, first + loud_first);
  seg->last_loud = centre(self, first + loud_last);
}

void gst_acrnn_classify_events_push(GstAcrnnClassify *self,
                                    const PendingSegment *seg,
                                    const float *probs) {
  GstAcrnnEventTracker *t = tracker(self);
  if (t == NULL)
    return;
  int S = self->info.segment_frames, H = self->seg_hop;
  GstAcrnnEventSegment es = {
      .onset_est =
          seg->start + gst_acrnn_classify_samples_time(
                           self, (guint64)MAX(S - H, 0) * self->fp.hop / 2),
      .offset_est = seg->start + gst_acrnn_classify_samples_time(
                                     self, (guint64)(S + H) * self->fp.hop / 2),
      .first_loud = seg->first_loud,
      .last_loud = seg->last_loud,
      .probs = probs,
  };
  gst_acrnn_event_tracker_push(t, &es);
}

void gst_acrnn_classify_events_end(GstAcrnnClassify *self) {
  if (self->events_tracker != NULL)
    gst_acrnn_event_tracker_end_run(self->events_tracker);
}

void gst_acrnn_classify_events_free(GstAcrnnClassify *self) {
  gst_acrnn_classify_events_end(self);
  g_clear_pointer(&self->events_tracker, gst_acrnn_event_tracker_free);
}
