/* acrnnclassify-private.h - the state of the acrnnclassify element, shared
 * by the files that implement it (internal to the plugin):
 *
 *   acrnnclassify.c      the element: properties, model, stream state, states
 *   classify-pads.c      the pads: buffers, events, caps, queries
 *   classify-segments.c  segments of a run, batches, the end of a run
 *   classify-workers.c   the network on one or more threads
 *   classify-results.c   the "acrnn" messages and the text buffers
 *   classify-events.c    the "acrnn-event" messages (event-tracker.h)
 */
#ifndef GST_ACRNN_CLASSIFY_PRIVATE_H
#define GST_ACRNN_CLASSIFY_PRIVATE_H

#include "acrnnclassify.h"
#include "event-tracker.h"

#include <acrnn/clip_score.h>
#include <acrnn/level.h>
#include <acrnn/model.h>
#include <acrnn/network.h>
#include <gst/gst.h>

G_BEGIN_DECLS

GST_DEBUG_CATEGORY_EXTERN(gst_acrnn_classify_debug);
#define GST_CAT_DEFAULT gst_acrnn_classify_debug
/* The label, class id and confidence of a silent segment. */
#define SILENCE_LABEL "silence"
#define SILENCE_CLASS_ID -1
/* The most threads a batch is shared among (the threads property). */
#define GST_ACRNN_CLASSIFY_MAX_THREADS 64

/* A segment waiting in the batch. */
typedef struct {
  guint64 index;                /* in the stream */
  GstClockTime start, duration; /* audio the segment covers */
  GstClockTime text_start, text_duration;
  double level;    /* dBFS */
  gboolean silent; /* under silence-threshold: not run through the network */
  guint input;     /* its row in batch_in and probs when not silent */
  GstClockTime first_loud, last_loud; /* events: classify-events.c */
} PendingSegment;

struct _GstAcrnnClassify {
  GstElement parent;
  GstPad *sinkpad, *srcpad;

  /* properties, object lock */
  gchar *model_path; /* NULL: acrnn_model_default_path() */
  guint top_k;
  gdouble threshold;
  gboolean post_messages;
  guint batch;
  guint threads;
  guint segment_hop; /* 0: the model's */
  gdouble silence_threshold;
  gint precision; /* GstAcrnnPrecision (acrnnclassify.c) */
  gboolean events;
  gdouble event_on, event_off;
  GstClockTime event_min_duration;

  /* the model (READY and up); info and loaded_path under the object lock */
  AcrnnNet *net;
  AcrnnModelInfo info;
  gboolean have_model;
  gchar *loaded_path;
  gchar *loaded_property; /* the model property the model was loaded for */
  AcrnnNet **copies;      /* n_copies copies of net for threads > 1 */
  guint n_copies;

  /* classify-workers.c: helper threads that take chunks of a batch's
   * inputs as they arrive (work_lock for all but the pool) */
  GThreadPool *helper_pool;
  GMutex work_lock;
  GCond work_done;
  guint n_published;     /* inputs of the batch complete in batch_in */
  guint n_taken;         /* inputs [0, n_taken) taken by a thread */
  guint work_chunk;      /* inputs taken at a time; 0: no helpers */
  gboolean work_closing; /* batch complete: a partial chunk may go */
  guint n_helpers, helpers_running;
  gboolean helper_busy[GST_ACRNN_CLASSIFY_MAX_THREADS];
  AcrnnNet *helper_net[GST_ACRNN_CLASSIFY_MAX_THREADS];
  guint helper_count[GST_ACRNN_CLASSIFY_MAX_THREADS];  /* its chunk */
  gint64 helper_since[GST_ACRNN_CLASSIFY_MAX_THREADS]; /* started (us) */
  double us_per_input; /* the streaming thread's last forward, 0: none */

  /* stream (streaming thread) */
  AcrnnFeatureParams fp; /* from the caps */
  gboolean negotiated;
  gboolean caps_refused; /* the caps error was posted (sticky caps retry) */
  gboolean text_caps_sent;
  GstSegment segment;
  gchar *stream_id; /* of the last STREAM_START */
  int frame_floats; /* 2 * bands */

  gboolean need_start;
  GstClockTime run_start; /* PTS of frame 0 of the run */
  guint64 run_frames;     /* frames received in this run */
  guint64 run_segments;   /* whole segments classified or pending */
  float *frames;          /* frames [buf_first, run_frames) of the run */
  guint64 buf_first;
  size_t buf_cap; /* in frames */

  guint batch_size;     /* batch in use (object lock to write), 0 before caps */
  int seg_hop;          /* segment hop in use (object lock to write), as well */
  float *batch_in;      /* [batch_size][2][bands][S] */
  gint64 *batch_starts; /* [batch_size]: each input's first frame in the run */
  PendingSegment *pending;
  guint n_pending;
  guint n_inputs;         /* pending segments that are not silent */
  AcrnnLevelMeter *meter; /* for the negotiated features */
  float *probs;           /* [batch_size][n_classes] */

  AcrnnClipScore *score; /* classified (not silent) segments of the stream */
  guint64 n_silent;      /* silent segments of the stream */
  GstClockTime stream_start, stream_end;
  GstClockTime classified; /* audio of the stream's ended runs, summed */
  guint64 next_index;      /* segment index in the stream */

  GstAcrnnEventTracker *events_tracker; /* events=TRUE, made when needed */
};

/* acrnnclassify.c: stream state and timing */
/* The network precision the precision property asks for here (auto: bf16
 * where the CPU has AVX512_BF16); takes the object lock. */
AcrnnPrecision gst_acrnn_classify_precision(GstAcrnnClassify *self);
void gst_acrnn_classify_reset_run(GstAcrnnClassify *self);
void gst_acrnn_classify_reset_stream(GstAcrnnClassify *self);
GstClockTime gst_acrnn_classify_samples_time(GstAcrnnClassify *self,
                                             guint64 samples);
GstClockTime gst_acrnn_classify_frame_time(GstAcrnnClassify *self,
                                           guint64 frame);

/* classify-pads.c */
GstFlowReturn gst_acrnn_classify_chain(GstPad *pad, GstObject *parent,
                                       GstBuffer *buf);
gboolean gst_acrnn_classify_sink_event(GstPad *pad, GstObject *parent,
                                       GstEvent *event);
gboolean gst_acrnn_classify_sink_query(GstPad *pad, GstObject *parent,
                                       GstQuery *query);
gboolean gst_acrnn_classify_src_query(GstPad *pad, GstObject *parent,
                                      GstQuery *query);

/* classify-segments.c */
/* Queues every whole segment of the run that has arrived. */
GstFlowReturn gst_acrnn_classify_process_ready(GstAcrnnClassify *self);
/* Ends the run so that every frame is classified. */
GstFlowReturn gst_acrnn_classify_end_run(GstAcrnnClassify *self);
/* Posts the final message of the stream (the clip decision). */
void gst_acrnn_classify_post_final(GstAcrnnClassify *self);

/* classify-workers.c */
/* Input n_inputs - 1 is complete in batch_in: helpers may start on it. */
void gst_acrnn_classify_input_ready(GstAcrnnClassify *self);
/* Probabilities of the pending segments into self->probs. */
void gst_acrnn_classify_forward(GstAcrnnClassify *self);
/* Waits for the helpers, which take no more inputs of this batch: before
 * the batch, the copies or the stream change. */
void gst_acrnn_classify_workers_drain(GstAcrnnClassify *self);
/* Drains and stops the helper threads (finalize). */
void gst_acrnn_classify_workers_free(GstAcrnnClassify *self);

/* classify-results.c */
/* Posts an "acrnn" message for probabilities probs, or for silence when
 * probs is NULL. */
void gst_acrnn_classify_post_result(GstAcrnnClassify *self, const float *probs,
                                    GstClockTime start, GstClockTime duration,
                                    gboolean final, guint64 index_or_count,
                                    double level);
/* Stream and running time of position (a PTS), clipped to the segment. */
void gst_acrnn_classify_segment_times(GstAcrnnClassify *self,
                                      GstClockTime position,
                                      GstClockTime *stream_time,
                                      GstClockTime *running_time);
/* Pushes text (a label) as a line, or a GAP when text is NULL. */
GstFlowReturn gst_acrnn_classify_push_text(GstAcrnnClassify *self,
                                           const char *text, GstClockTime start,
                                           GstClockTime duration);

/* classify-events.c (events=TRUE) */
/* The first and last loud frames of seg (frames [first, first + used) of the
 * run, at frames) when events are on. */
void gst_acrnn_classify_events_measure(GstAcrnnClassify *self,
                                       PendingSegment *seg, const float *frames,
                                       guint64 first, guint64 used);
/* The next segment of the run: probs, or NULL when it is silent. */
void gst_acrnn_classify_events_push(GstAcrnnClassify *self,
                                    const PendingSegment *seg,
                                    const float *probs);
/* Ends the events going on (end of a run, flush, stop). */
void gst_acrnn_classify_events_end(GstAcrnnClassify *self);
void gst_acrnn_classify_events_free(GstAcrnnClassify *self);

G_END_DECLS

#endif
