/* event-tracker.h - sound events from the probabilities of consecutive
 * segments: per class, a state machine with hysteresis (an event starts when
 * the class's probability reaches `on`, ends when it falls below `off`), a
 * minimum duration, and boundaries placed finer than a segment (internal to
 * the plugin; acrnnclassify feeds it, classify-events.c posts what it says).
 *
 * Several classes can be active at once. A silent segment, the end of a run
 * and a flush end every event.
 *
 * Boundaries. A segment of S frames is classified as a class when the class
 * fills a good part of it, so an event first seen in a segment that starts
 * at frame a (the previous one, H frames earlier, did not see it) started
 * between the middle of the previous segment and the middle of this one: the
 * tracker takes the middle of that interval, a + (S - H) / 2, the middle of
 * the two segments' overlap when H = S / 2; an event last seen in the segment
 * that starts at a ends at a + (S + H) / 2. The error is at most H / 2 (the
 * caller passes these two times, onset_est and offset_est). Where silence
 * bounds the sound the frames say more: an onset is never before the
 * first loud frame of its segment (and is that frame after a silent segment
 * or at the start of a run), an offset never after the last loud frame of
 * the event's last segment (and is that frame before a silent segment or at
 * the end of a run); first_loud and last_loud are the centres of the frames'
 * windows, so these boundaries are good to about one frame (11.6 ms at
 * 44.1 kHz). */
#ifndef GST_ACRNN_EVENT_TRACKER_H
#define GST_ACRNN_EVENT_TRACKER_H

#include <gst/gst.h>

G_BEGIN_DECLS

typedef struct GstAcrnnEventTracker GstAcrnnEventTracker;

/* What the tracker knows of one segment (times in buffer time). */
typedef struct {
  GstClockTime onset_est;  /* an onset seen first here: a + (S - H) / 2 */
  GstClockTime offset_est; /* an offset after this one: a + (S + H) / 2 */
  GstClockTime first_loud; /* centre of its first loud frame; NONE: none */
  GstClockTime last_loud;  /* centre of its last loud frame; NONE: none */
  const float *probs;      /* n_classes probabilities; NULL: silent */
} GstAcrnnEventSegment;

typedef enum {
  GST_ACRNN_EVENT_START,
  GST_ACRNN_EVENT_END,
} GstAcrnnEventState;

/* An onset (START: end is GST_CLOCK_TIME_NONE, confidence the peak so far)
 * or an offset (END: the peak probability of the whole event). */
typedef struct {
  int class_id;
  GstAcrnnEventState state;
  GstClockTime start, end;
  double confidence;
} GstAcrnnEvent;

typedef void (*GstAcrnnEventFunc)(const GstAcrnnEvent *event,
                                  gpointer user_data);

/* A tracker for n_classes classes that reports events to func. */
GstAcrnnEventTracker *gst_acrnn_event_tracker_new(int n_classes,
                                                  GstAcrnnEventFunc func,
                                                  gpointer user_data);
void gst_acrnn_event_tracker_free(GstAcrnnEventTracker *tracker);

/* The thresholds (probabilities; off is taken as at most on) and the
 * shortest event reported. An event is announced (START) once it has lasted
 * min_duration, so a blip shorter than that gives no message at all. */
void gst_acrnn_event_tracker_configure(GstAcrnnEventTracker *tracker, double on,
                                       double off, GstClockTime min_duration);

/* The next segment of the run. */
void gst_acrnn_event_tracker_push(GstAcrnnEventTracker *tracker,
                                  const GstAcrnnEventSegment *segment);

/* The run ends (EOS, discontinuity, gap, flush): every event ends, at the
 * last loud frame of its last segment. The next segment starts a run. */
void gst_acrnn_event_tracker_end_run(GstAcrnnEventTracker *tracker);

/* Events active now (announced or not). */
guint gst_acrnn_event_tracker_active(const GstAcrnnEventTracker *tracker);

G_END_DECLS

#endif
