/* acrnnclassify.c - the acrnnclassify element: runs the ACRNN network of a
 * model file on the log-gammatone frames of gammatonespec.
 *
 * Segment s covers frames [s*hop_s, s*hop_s + S) (S = segment_frames, hop_s
 * = segment_hop of the model); it is classified as soon as its frames have
 * arrived (up to `batch` segments per forward). For each classified segment
 * it posts an element message "acrnn" and pushes the label as a text buffer
 * (PTS = segment start, duration = segment hop, so consecutive labels tile
 * the timeline); a segment under `threshold` gives a GAP event instead. At
 * EOS a run with frames but no whole segment gives one segment padded with
 * silence, then the "final" message holds the decision over the stream: the
 * class of highest mean probability over its segments. With threads = N > 1
 * a batch is split over N copies of the network run by N threads (the
 * results are the same). A DISCONT buffer whose
 * PTS is not where the previous frames end, or a GAP event, starts a new run
 * (segments restart there); a flush forgets everything; a new stream
 * (STREAM_START with another stream id, as after concat) first ends the
 * previous one with its final message.
 *
 * Message times: "timestamp" is the PTS of the segment's first frame;
 * "stream-time" and "running-time" are that position converted through the
 * current segment (clipped to it, so that they are always valid).
 */
#include "acrnnclassify.h"
#include "features-caps.h"
#include "run-start.h"

#include <acrnn/model.h>
#include <acrnn/network.h>
#include <math.h>
#include <string.h>

GST_DEBUG_CATEGORY_STATIC(gst_acrnn_classify_debug);
#define GST_CAT_DEFAULT gst_acrnn_classify_debug

enum {
  PROP_0,
  PROP_MODEL,
  PROP_TOP_K,
  PROP_THRESHOLD,
  PROP_POST_MESSAGES,
  PROP_BATCH,
  PROP_LABELS,
  PROP_THREADS,
};

#define DEFAULT_TOP_K 3
#define DEFAULT_THRESHOLD 0.0
#define DEFAULT_POST_MESSAGES TRUE
#define DEFAULT_BATCH 1
#define DEFAULT_THREADS 1

/* A segment waiting in the batch. */
typedef struct {
  guint64 index;                /* in the stream */
  GstClockTime start, duration; /* audio the segment covers */
  GstClockTime text_duration;
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

  /* the model (READY and up); info and loaded_path under the object lock */
  AcrnnNet *net;
  AcrnnModelInfo info;
  gboolean have_model;
  gchar *loaded_path;
  gchar *loaded_property; /* the model property the model was loaded for */
  AcrnnNet **copies;      /* n_copies copies of net for threads > 1 */
  guint n_copies;

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
  guint64 run_segments;   /* segments classified or pending in this run */
  float *frames;          /* frames [buf_first, run_frames) of the run */
  guint64 buf_first;
  size_t buf_cap; /* in frames */

  guint batch_size; /* batch in use */
  float *batch_in;  /* [batch_size][2][bands][S] */
  PendingSegment *pending;
  guint n_pending;
  float *probs; /* [batch_size][n_classes] */

  double *prob_sum; /* over the stream's segments */
  guint64 n_segments;
  GstClockTime stream_start, stream_end;
  guint64 next_index; /* segment index in the stream */
};

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE(
    "sink", GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS(ACRNN_FEATURES_CAPS));

static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE(
    "src", GST_PAD_SRC, GST_PAD_ALWAYS,
    GST_STATIC_CAPS("text/x-raw, format = (string) utf8"));

#define gst_acrnn_classify_parent_class parent_class
G_DEFINE_TYPE(GstAcrnnClassify, gst_acrnn_classify, GST_TYPE_ELEMENT);
GST_ELEMENT_REGISTER_DEFINE(acrnnclassify, "acrnnclassify", GST_RANK_NONE,
                            GST_TYPE_ACRNN_CLASSIFY);

gboolean gst_acrnn_classify_get_feature_params(GstAcrnnClassify *self,
                                               AcrnnFeatureParams *params) {
  g_return_val_if_fail(GST_IS_ACRNN_CLASSIFY(self), FALSE);
  GST_OBJECT_LOCK(self);
  gboolean have = self->have_model;
  if (have)
    *params = self->info.features;
  GST_OBJECT_UNLOCK(self);
  return have;
}

/* ---- model ---- */

static void unload_model(GstAcrnnClassify *self) {
  GST_OBJECT_LOCK(self);
  if (self->net != NULL)
    acrnn_net_free(self->net);
  self->net = NULL;
  for (guint i = 0; i < self->n_copies; i++)
    acrnn_net_free(self->copies[i]);
  g_clear_pointer(&self->copies, g_free);
  self->n_copies = 0;
  if (self->have_model)
    acrnn_model_info_clear(&self->info);
  self->have_model = FALSE;
  g_clear_pointer(&self->loaded_path, g_free);
  g_clear_pointer(&self->loaded_property, g_free);
  GST_OBJECT_UNLOCK(self);
}

static gboolean load_model(GstAcrnnClassify *self) {
  GST_OBJECT_LOCK(self);
  gchar *property = g_strdup(self->model_path);
  GST_OBJECT_UNLOCK(self);
  gchar *path =
      property != NULL ? g_strdup(property) : acrnn_model_default_path();
  if (path == NULL) {
    GST_ELEMENT_ERROR(self, RESOURCE, NOT_FOUND,
                      ("No acrnn model: the model property is not set and "
                       "the bundled model was not found (set model=FILE or "
                       "the ACRNN_MODEL environment variable)."),
                      (NULL));
    g_free(property);
    return FALSE;
  }
  GError *error = NULL;
  AcrnnModelInfo info;
  AcrnnNet *net = acrnn_model_load(path, &info, &error);
  if (net == NULL) {
    gboolean io =
        g_error_matches(error, ACRNN_MODEL_ERROR, ACRNN_MODEL_ERROR_IO);
    if (io && !g_file_test(path, G_FILE_TEST_EXISTS))
      GST_ELEMENT_ERROR(
          self, RESOURCE, NOT_FOUND,
          ("Could not load the acrnn model \"%s\": %s", path, error->message),
          ("model property: %s", GST_STR_NULL(property)));
    else if (io)
      GST_ELEMENT_ERROR(
          self, RESOURCE, OPEN_READ,
          ("Could not load the acrnn model \"%s\": %s", path, error->message),
          ("model property: %s", GST_STR_NULL(property)));
    else
      GST_ELEMENT_ERROR(
          self, RESOURCE, FAILED,
          ("Could not load the acrnn model \"%s\": %s", path, error->message),
          ("model property: %s", GST_STR_NULL(property)));
    g_error_free(error);
    g_free(path);
    g_free(property);
    return FALSE;
  }
  GST_INFO_OBJECT(self, "loaded model %s: %d classes, %d bands, %d Hz", path,
                  info.n_labels, info.features.bands,
                  info.features.sample_rate);
  GST_OBJECT_LOCK(self);
  self->net = net;
  self->info = info;
  self->have_model = TRUE;
  self->loaded_path = path;
  self->loaded_property = property;
  GST_OBJECT_UNLOCK(self);
  return TRUE;
}

gboolean gst_acrnn_classify_update_model(GstAcrnnClassify *self) {
  g_return_val_if_fail(GST_IS_ACRNN_CLASSIFY(self), FALSE);
  GST_OBJECT_LOCK(self);
  gboolean changed = !self->have_model ||
                     g_strcmp0(self->model_path, self->loaded_property) != 0;
  GST_OBJECT_UNLOCK(self);
  if (!changed)
    return TRUE;
  unload_model(self);
  return load_model(self);
}

/* ---- stream state ---- */

static void reset_run(GstAcrnnClassify *self) {
  self->need_start = TRUE;
  self->run_frames = 0;
  self->run_segments = 0;
  self->buf_first = 0;
}

static void reset_stream(GstAcrnnClassify *self) {
  reset_run(self);
  self->n_pending = 0;
  self->n_segments = 0;
  self->next_index = 0;
  self->stream_start = GST_CLOCK_TIME_NONE;
  self->stream_end = GST_CLOCK_TIME_NONE;
  if (self->prob_sum != NULL && self->have_model)
    memset(self->prob_sum, 0, sizeof(double) * self->info.n_labels);
}

static void free_stream(GstAcrnnClassify *self) {
  g_clear_pointer(&self->frames, g_free);
  self->buf_cap = 0;
  g_clear_pointer(&self->batch_in, g_free);
  g_clear_pointer(&self->pending, g_free);
  g_clear_pointer(&self->probs, g_free);
  g_clear_pointer(&self->prob_sum, g_free);
  self->negotiated = FALSE;
  self->caps_refused = FALSE;
  self->text_caps_sent = FALSE;
  gst_segment_init(&self->segment, GST_FORMAT_TIME);
  g_clear_pointer(&self->stream_id, g_free);
  reset_stream(self);
}

static GstClockTime samples_time(GstAcrnnClassify *self, guint64 samples) {
  return gst_util_uint64_scale_int(samples, GST_SECOND, self->fp.sample_rate);
}

static GstClockTime frame_time(GstAcrnnClassify *self, guint64 frame) {
  return self->run_start + samples_time(self, frame * self->fp.hop);
}

/* ---- results ---- */

static void take_array(GstStructure *s, const char *field, GValue *array) {
  gst_structure_take_value(s, field, array);
}

/* Stream and running time of position: converted through the segment,
 * the position clipped to it first; a segment in another format (not from
 * gammatonespec), or a reverse one without a stop, counts as the default
 * TIME segment. */
static void segment_times(GstAcrnnClassify *self, GstClockTime position,
                          GstClockTime *stream_time,
                          GstClockTime *running_time) {
  GstSegment def;
  const GstSegment *seg = &self->segment;
  /* reverse playback without a stop has no running time either */
  if (seg->format != GST_FORMAT_TIME ||
      (seg->rate < 0 && !GST_CLOCK_TIME_IS_VALID(seg->stop))) {
    gst_segment_init(&def, GST_FORMAT_TIME);
    seg = &def;
  }
  if (!GST_CLOCK_TIME_IS_VALID(position))
    position = seg->start;
  if (position < seg->start)
    position = seg->start;
  if (GST_CLOCK_TIME_IS_VALID(seg->stop) && position > seg->stop)
    position = seg->stop;
  *stream_time = gst_segment_to_stream_time(seg, GST_FORMAT_TIME, position);
  *running_time = gst_segment_to_running_time(seg, GST_FORMAT_TIME, position);
}

/* Posts an "acrnn" message for probabilities probs. */
static void post_result(GstAcrnnClassify *self, const float *probs,
                        GstClockTime start, GstClockTime duration,
                        gboolean final, guint64 index_or_count) {
  int n = self->info.n_labels;
  GST_OBJECT_LOCK(self);
  int k = MIN((int)self->top_k, n);
  GST_OBJECT_UNLOCK(self);
  int *order = g_new(int, n);
  for (int i = 0; i < n; i++)
    order[i] = i;
  for (int i = 0; i < k; i++) /* partial selection sort, descending */
    for (int j = i + 1; j < n; j++)
      if (probs[order[j]] > probs[order[i]]) {
        int t = order[i];
        order[i] = order[j];
        order[j] = t;
      }
  int best = order[0];

  GValue labels = G_VALUE_INIT, scores = G_VALUE_INIT;
  g_value_init(&labels, GST_TYPE_ARRAY);
  g_value_init(&scores, GST_TYPE_ARRAY);
  for (int i = 0; i < k; i++) {
    GValue v = G_VALUE_INIT;
    g_value_init(&v, G_TYPE_STRING);
    g_value_set_string(&v, self->info.labels[order[i]]);
    gst_value_array_append_and_take_value(&labels, &v);
    GValue d = G_VALUE_INIT;
    g_value_init(&d, G_TYPE_DOUBLE);
    g_value_set_double(&d, probs[order[i]]);
    gst_value_array_append_and_take_value(&scores, &d);
  }
  GstClockTime stream_time, running_time;
  segment_times(self, start, &stream_time, &running_time);
  GstStructure *s = gst_structure_new(
      "acrnn", "label", G_TYPE_STRING, self->info.labels[best], "class-id",
      G_TYPE_INT, best, "confidence", G_TYPE_DOUBLE, (double)probs[best],
      "timestamp", G_TYPE_UINT64, start, "stream-time", G_TYPE_UINT64,
      stream_time, "running-time", G_TYPE_UINT64, running_time, "duration",
      G_TYPE_UINT64, duration, "final", G_TYPE_BOOLEAN, final, NULL);
  take_array(s, "labels", &labels);
  take_array(s, "scores", &scores);
  gst_structure_set(s, final ? "segments" : "segment", G_TYPE_UINT64,
                    index_or_count, NULL);
  g_free(order);
  GST_DEBUG_OBJECT(self, "%" GST_PTR_FORMAT, s);
  gst_element_post_message(GST_ELEMENT(self),
                           gst_message_new_element(GST_OBJECT(self), s));
}

static GstFlowReturn push_text(GstAcrnnClassify *self, const char *text,
                               GstClockTime start, GstClockTime duration) {
  if (text == NULL) {
    gst_pad_push_event(self->srcpad, gst_event_new_gap(start, duration));
    return GST_FLOW_OK;
  }
  size_t len = strlen(text);
  GstBuffer *buf = gst_buffer_new_allocate(NULL, len, NULL);
  gst_buffer_fill(buf, 0, text, len);
  GST_BUFFER_PTS(buf) = start;
  GST_BUFFER_DURATION(buf) = duration;
  return gst_pad_push(self->srcpad, buf);
}

/* ---- the network, on one or more threads ---- */

/* Part of a batch for one copy of the network. */
typedef struct {
  AcrnnNet *net;
  const float *x;
  float *probs;
  int count;
} ForwardJob;

static gpointer forward_job(gpointer data) {
  ForwardJob *job = data;
  acrnn_net_forward(job->net, job->x, job->count, FALSE, NULL);
  acrnn_net_probabilities(job->net, job->probs);
  return NULL;
}

/* At least n copies of the network (same weights and statistics). */
static gboolean ensure_copies(GstAcrnnClassify *self, guint n) {
  if (self->n_copies >= n)
    return TRUE;
  const AcrnnNetConfig *cfg = acrnn_net_config(self->net);
  GST_OBJECT_LOCK(self);
  self->copies = g_renew(AcrnnNet *, self->copies, n);
  GST_OBJECT_UNLOCK(self);
  while (self->n_copies < n) {
    GError *error = NULL;
    AcrnnNet *copy = acrnn_net_new(cfg, &error);
    if (copy == NULL) {
      GST_WARNING_OBJECT(self, "no copy of the network: %s", error->message);
      g_error_free(error);
      return FALSE;
    }
    memcpy(acrnn_net_params(copy), acrnn_net_params(self->net),
           acrnn_net_n_params(self->net) * sizeof(float));
    memcpy(acrnn_net_buffers(copy), acrnn_net_buffers(self->net),
           acrnn_net_n_buffers(self->net) * sizeof(float));
    GST_OBJECT_LOCK(self);
    self->copies[self->n_copies++] = copy;
    GST_OBJECT_UNLOCK(self);
  }
  return TRUE;
}

/* Probabilities of the pending segments into self->probs: split over up to
 * `threads` copies of the network, each part on its own thread (this one
 * runs the first). */
static void forward_pending(GstAcrnnClassify *self) {
  GST_OBJECT_LOCK(self);
  guint threads = self->threads;
  GST_OBJECT_UNLOCK(self);
  guint parts = MIN(threads, self->n_pending);
  if (parts > 1 && !ensure_copies(self, parts - 1))
    parts = 1 + self->n_copies;
  size_t in_floats =
      2 * (size_t)self->fp.bands * (size_t)self->info.segment_frames;
  ForwardJob *jobs = g_newa(ForwardJob, parts);
  GThread **workers = g_newa(GThread *, parts);
  guint first = 0;
  for (guint p = 0; p < parts; p++) {
    guint count = self->n_pending / parts + (p < self->n_pending % parts);
    jobs[p].net = p == 0 ? self->net : self->copies[p - 1];
    jobs[p].x = self->batch_in + first * in_floats;
    jobs[p].probs = self->probs + (size_t)first * self->info.n_labels;
    jobs[p].count = (int)count;
    first += count;
  }
  for (guint p = 1; p < parts; p++)
    workers[p] = g_thread_try_new("acrnn-forward", forward_job, &jobs[p], NULL);
  forward_job(&jobs[0]);
  for (guint p = 1; p < parts; p++) {
    if (workers[p] != NULL)
      g_thread_join(workers[p]);
    else
      forward_job(&jobs[p]); /* no thread: here */
  }
}

/* Runs the network on the pending segments and reports them. */
static GstFlowReturn run_batch(GstAcrnnClassify *self) {
  if (self->n_pending == 0)
    return GST_FLOW_OK;
  int n = self->info.n_labels;
  forward_pending(self);
  GST_OBJECT_LOCK(self);
  double threshold = self->threshold;
  gboolean post = self->post_messages;
  GST_OBJECT_UNLOCK(self);
  GstFlowReturn ret = GST_FLOW_OK;
  for (guint b = 0; b < self->n_pending; b++) {
    const float *p = self->probs + (size_t)b * n;
    const PendingSegment *seg = &self->pending[b];
    int best = 0;
    for (int c = 0; c < n; c++) {
      self->prob_sum[c] += p[c];
      if (p[c] > p[best])
        best = c;
    }
    self->n_segments++;
    gboolean pass = p[best] >= threshold;
    if (post && pass)
      post_result(self, p, seg->start, seg->duration, FALSE, seg->index);
    GstFlowReturn r = push_text(self, pass ? self->info.labels[best] : NULL,
                                seg->start, seg->text_duration);
    /* An unlinked or flushing text pad does not stop the classification. */
    if (r != GST_FLOW_OK && r != GST_FLOW_NOT_LINKED && ret == GST_FLOW_OK)
      ret = r;
  }
  self->n_pending = 0;
  return ret;
}

/* Adds segment s of the run (frames [s*hop_s, s*hop_s + S), fewer when the
 * run is short) to the batch. */
static GstFlowReturn queue_segment(GstAcrnnClassify *self, guint64 s) {
  int S = self->info.segment_frames, H = self->info.segment_hop;
  guint64 first = s * H;
  g_assert(first >= self->buf_first);
  guint64 have = self->run_frames - first;
  guint64 used = MIN(have, (guint64)S);
  size_t in_floats = 2 * (size_t)self->fp.bands * S;
  acrnn_segment_extract(
      self->frames + (first - self->buf_first) * self->frame_floats,
      (size_t)have, self->fp.bands, S, H, 0, self->info.mean, self->info.std,
      self->batch_in + self->n_pending * in_floats);
  PendingSegment *seg = &self->pending[self->n_pending++];
  seg->index = self->next_index++;
  seg->start = frame_time(self, first);
  seg->duration =
      samples_time(self, (used - 1) * self->fp.hop + self->fp.n_fft);
  seg->text_duration = used < (guint64)S
                           ? seg->duration
                           : frame_time(self, first + H) - seg->start;
  self->run_segments = s + 1;
  if (self->n_pending == self->batch_size)
    return run_batch(self);
  return GST_FLOW_OK;
}

/* Queues every whole segment of the run and drops frames no segment needs. */
static GstFlowReturn process_ready(GstAcrnnClassify *self) {
  int S = self->info.segment_frames, H = self->info.segment_hop;
  GstFlowReturn ret = GST_FLOW_OK;
  while (ret == GST_FLOW_OK && self->run_frames >= self->run_segments * H + S)
    ret = queue_segment(self, self->run_segments);
  guint64 keep_from = self->run_segments * H;
  if (keep_from > self->buf_first) {
    guint64 drop = MIN(keep_from, self->run_frames) - self->buf_first;
    guint64 left = self->run_frames - self->buf_first - drop;
    memmove(self->frames, self->frames + drop * self->frame_floats,
            left * self->frame_floats * sizeof(float));
    self->buf_first += drop;
  }
  return ret;
}

/* Ends the run: a run with frames but no segment gives a padded one. */
static GstFlowReturn end_run(GstAcrnnClassify *self) {
  GstFlowReturn ret = GST_FLOW_OK;
  if (self->have_model && self->run_frames > 0 && self->run_segments == 0)
    ret = queue_segment(self, 0);
  if (ret == GST_FLOW_OK)
    ret = run_batch(self);
  reset_run(self);
  return ret;
}

static void post_final(GstAcrnnClassify *self) {
  GST_OBJECT_LOCK(self);
  gboolean post = self->post_messages;
  GST_OBJECT_UNLOCK(self);
  if (!post || self->n_segments == 0)
    return;
  int n = self->info.n_labels;
  float *mean = g_new(float, n);
  for (int c = 0; c < n; c++)
    mean[c] = (float)(self->prob_sum[c] / (double)self->n_segments);
  GstClockTime duration = 0;
  if (GST_CLOCK_TIME_IS_VALID(self->stream_end) &&
      self->stream_end > self->stream_start)
    duration = self->stream_end - self->stream_start;
  post_result(self, mean, self->stream_start, duration, TRUE, self->n_segments);
  g_free(mean);
}

/* ---- pads ---- */

static GstFlowReturn chain(GstPad *pad, GstObject *parent, GstBuffer *buf) {
  GstAcrnnClassify *self = GST_ACRNN_CLASSIFY(parent);
  if (!self->negotiated) {
    GST_ELEMENT_ERROR(self, CORE, NEGOTIATION, (NULL),
                      ("received features before their caps"));
    gst_buffer_unref(buf);
    return GST_FLOW_NOT_NEGOTIATED;
  }
  if (gst_buffer_get_size(buf) == 0) { /* no frames, nothing to do */
    gst_buffer_unref(buf);
    return GST_FLOW_OK;
  }
  GstFlowReturn ret = GST_FLOW_OK;
  GstClockTime pts = GST_BUFFER_PTS(buf);
  if (GST_BUFFER_IS_DISCONT(buf) && !self->need_start &&
      GST_CLOCK_TIME_IS_VALID(pts)) {
    GstClockTime expected = frame_time(self, self->run_frames);
    GstClockTime tolerance = samples_time(self, 1);
    if (GST_CLOCK_DIFF(expected, pts) > (GstClockTimeDiff)tolerance ||
        GST_CLOCK_DIFF(pts, expected) > (GstClockTimeDiff)tolerance) {
      GST_DEBUG_OBJECT(self, "discontinuity: new run at %" GST_TIME_FORMAT,
                       GST_TIME_ARGS(pts));
      ret = end_run(self);
    }
  }
  if (self->need_start) {
    self->run_start = acrnn_run_start(pts, self->stream_end, &self->segment);
    if (!GST_CLOCK_TIME_IS_VALID(self->stream_start))
      self->stream_start = self->run_start;
    self->need_start = FALSE;
    /* No label before the first segment is complete: tell downstream (a
     * live sink can preroll, textoverlay need not wait). */
    gst_pad_push_event(self->srcpad, gst_event_new_gap(self->run_start, 0));
  }

  gsize size = gst_buffer_get_size(buf);
  size_t frame_bytes = self->frame_floats * sizeof(float);
  if (size % frame_bytes != 0) {
    GST_ELEMENT_ERROR(self, STREAM, FORMAT,
                      ("Feature buffers must hold whole frames"),
                      ("buffer of %" G_GSIZE_FORMAT " bytes, frames of %zu "
                       "bytes (2*%d float32)",
                       size, frame_bytes, self->fp.bands));
    gst_buffer_unref(buf);
    return GST_FLOW_ERROR;
  }
  guint64 n = size / frame_bytes;
  guint64 held = self->run_frames - self->buf_first;
  if (held + n > self->buf_cap) {
    self->buf_cap = MAX(held + n, 2 * self->buf_cap);
    self->frames = g_realloc_n(self->frames, self->buf_cap, frame_bytes);
  }
  gst_buffer_extract(buf, 0, self->frames + held * self->frame_floats, size);
  gst_buffer_unref(buf);
  self->run_frames += n;
  GstClockTime end = self->run_start +
                     samples_time(self, (self->run_frames - 1) * self->fp.hop +
                                            self->fp.n_fft);
  if (!GST_CLOCK_TIME_IS_VALID(self->stream_end) || end > self->stream_end)
    self->stream_end = end;
  if (ret == GST_FLOW_OK)
    ret = process_ready(self);
  return ret;
}

static void ensure_text_caps(GstAcrnnClassify *self) {
  if (self->text_caps_sent)
    return;
  GstCaps *caps = gst_pad_get_pad_template_caps(self->srcpad);
  gst_pad_set_caps(self->srcpad, caps);
  gst_caps_unref(caps);
  self->text_caps_sent = TRUE;
}

static gboolean params_close(double a, double b) {
  return fabs(a - b) <= 1e-6 * MAX(fabs(a), fabs(b)) + 1e-9;
}

/* Posts the error that features do not fit the model, once for the sticky
 * caps retried on every buffer; returns FALSE. */
static gboolean refuse_caps(GstAcrnnClassify *self, GstCaps *caps,
                            const char *fmt, ...) G_GNUC_PRINTF(3, 4);

static gboolean refuse_caps(GstAcrnnClassify *self, GstCaps *caps,
                            const char *fmt, ...) {
  if (self->caps_refused)
    return FALSE;
  self->caps_refused = TRUE;
  va_list ap;
  va_start(ap, fmt);
  char *msg = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  GST_ELEMENT_ERROR(self, CORE, NEGOTIATION, ("%s", msg),
                    ("caps %" GST_PTR_FORMAT, caps));
  g_free(msg);
  return FALSE;
}

static gboolean set_caps(GstAcrnnClassify *self, GstCaps *caps) {
  AcrnnFeatureParams p;
  if (!gst_acrnn_features_caps_parse(caps, &p)) {
    GST_ELEMENT_ERROR(self, CORE, NEGOTIATION,
                      ("The input is not a feature stream of gammatonespec"),
                      ("caps %" GST_PTR_FORMAT, caps));
    return FALSE;
  }
  if (!self->have_model) {
    GST_ELEMENT_ERROR(self, CORE, NEGOTIATION, ("No model is loaded"), (NULL));
    return FALSE;
  }
  const AcrnnFeatureParams *m = &self->info.features;
  if (p.bands != m->bands)
    return refuse_caps(
        self, caps,
        "The features have %d bands but the model \"%s\" expects %d: set "
        "bands=%d on gammatonespec (or use soundclassifier, which takes its "
        "feature parameters from the model).",
        p.bands, self->loaded_path, m->bands, m->bands);
  if (p.filterbank != m->filterbank) {
    const char *want = acrnn_filterbank_to_string(m->filterbank);
    return refuse_caps(
        self, caps,
        "The features come from the %s filterbank but the model \"%s\" was "
        "trained on %s features: set filterbank=%s on gammatonespec (or use "
        "soundclassifier, which takes its feature parameters from the "
        "model).",
        acrnn_filterbank_to_string(p.filterbank), self->loaded_path, want,
        want);
  }
  if (p.sample_rate != m->sample_rate || p.n_fft != m->n_fft ||
      p.hop != m->hop || p.delta_width != m->delta_width ||
      !params_close(p.fmin, m->fmin) || !params_close(p.fmax, m->fmax))
    GST_ELEMENT_WARNING(
        self, STREAM, FORMAT,
        ("The features differ from those the model \"%s\" was trained on "
         "(sample rate %d Hz, n-fft %d, hop %d, fmin %g Hz, fmax %g Hz, "
         "delta width %d); results may be wrong.",
         self->loaded_path, m->sample_rate, m->n_fft, m->hop, m->fmin, m->fmax,
         m->delta_width),
        ("caps %" GST_PTR_FORMAT, caps));

  if (self->negotiated && p.hop == self->fp.hop &&
      p.sample_rate == self->fp.sample_rate && p.n_fft == self->fp.n_fft) {
    self->fp = p; /* same frame layout and timing */
    return TRUE;
  }
  if (self->negotiated)
    end_run(self);
  self->fp = p;
  self->frame_floats = 2 * p.bands;
  GST_OBJECT_LOCK(self);
  self->batch_size = self->batch;
  GST_OBJECT_UNLOCK(self);
  size_t in_floats = 2 * (size_t)p.bands * self->info.segment_frames;
  int n = self->info.n_labels;
  g_free(self->batch_in);
  self->batch_in = g_new(float, self->batch_size *in_floats);
  g_free(self->pending);
  self->pending = g_new0(PendingSegment, self->batch_size);
  g_free(self->probs);
  self->probs = g_new(float, (size_t)self->batch_size *n);
  if (self->prob_sum == NULL)
    self->prob_sum = g_new0(double, n);
  self->n_pending = 0;
  self->negotiated = TRUE;
  ensure_text_caps(self);
  return TRUE;
}

/* The end of a stream: its last segments, then its final message. */
static void end_stream(GstAcrnnClassify *self) {
  if (self->negotiated)
    end_run(self);
  post_final(self);
  reset_stream(self);
}

static gboolean sink_event(GstPad *pad, GstObject *parent, GstEvent *event) {
  GstAcrnnClassify *self = GST_ACRNN_CLASSIFY(parent);
  switch (GST_EVENT_TYPE(event)) {
  case GST_EVENT_CAPS: {
    GstCaps *caps;
    gst_event_parse_caps(event, &caps);
    gboolean ok = set_caps(self, caps);
    gst_event_unref(event);
    return ok;
  }
  case GST_EVENT_SEGMENT:
    gst_event_copy_segment(event, &self->segment);
    ensure_text_caps(self);
    break;
  case GST_EVENT_GAP: {
    GstClockTime timestamp, duration;
    gst_event_parse_gap(event, &timestamp, &duration);
    if (duration != 0 && self->negotiated)
      end_run(self); /* no features for a while: the run ends */
    ensure_text_caps(self);
    break;
  }
  case GST_EVENT_STREAM_START: {
    const gchar *id = NULL;
    gst_event_parse_stream_start(event, &id);
    if (self->stream_id != NULL && g_strcmp0(id, self->stream_id) != 0) {
      GST_DEBUG_OBJECT(self, "new stream %s: ending %s", GST_STR_NULL(id),
                       self->stream_id);
      end_stream(self);
    }
    g_free(self->stream_id);
    self->stream_id = g_strdup(id);
    break;
  }
  case GST_EVENT_EOS:
    end_stream(self);
    break;
  case GST_EVENT_FLUSH_STOP:
    reset_stream(self);
    break;
  default:
    break;
  }
  return gst_pad_event_default(pad, parent, event);
}

/* Any features of the template, those of the loaded model first (so that a
 * source before gammatonespec sample-rate=0 picks the model's rate; an
 * audioresample keeps its input rate when it can, as always); other ones
 * are refused or warned about in set_caps with a message that says what to
 * change. */
static gboolean sink_query(GstPad *pad, GstObject *parent, GstQuery *query) {
  GstAcrnnClassify *self = GST_ACRNN_CLASSIFY(parent);
  if (GST_QUERY_TYPE(query) != GST_QUERY_CAPS)
    return gst_pad_query_default(pad, parent, query);
  GstCaps *filter, *caps = gst_caps_new_empty();
  gst_query_parse_caps(query, &filter);
  GST_OBJECT_LOCK(self);
  if (self->have_model) {
    const AcrnnFeatureParams *m = &self->info.features;
    gst_caps_append_structure(
        caps,
        gst_structure_new(ACRNN_FEATURES_MEDIA_TYPE, "format", G_TYPE_STRING,
                          GST_AUDIO_NE(F32), "bands", G_TYPE_INT, m->bands,
                          "sample-rate", G_TYPE_INT, m->sample_rate, "n-fft",
                          G_TYPE_INT, m->n_fft, "hop", G_TYPE_INT, m->hop,
                          "delta-width", G_TYPE_INT, m->delta_width, NULL));
  }
  GST_OBJECT_UNLOCK(self);
  GstCaps *templ = gst_pad_get_pad_template_caps(pad);
  GstCaps *model = gst_caps_intersect(caps, templ);
  gst_caps_unref(caps);
  caps = gst_caps_merge(model, templ);
  if (filter != NULL) {
    GstCaps *tmp =
        gst_caps_intersect_full(filter, caps, GST_CAPS_INTERSECT_FIRST);
    gst_caps_unref(caps);
    caps = tmp;
  }
  gst_query_set_caps_result(query, caps);
  gst_caps_unref(caps);
  return TRUE;
}

static gboolean src_query(GstPad *pad, GstObject *parent, GstQuery *query) {
  GstAcrnnClassify *self = GST_ACRNN_CLASSIFY(parent);
  if (GST_QUERY_TYPE(query) != GST_QUERY_LATENCY)
    return gst_pad_query_default(pad, parent, query);
  if (!gst_pad_peer_query(self->sinkpad, query))
    return FALSE;
  gboolean live;
  GstClockTime min, max;
  gst_query_parse_latency(query, &live, &min, &max);
  /* A segment's label leaves when the last frame of the last segment of its
   * batch arrives. */
  GST_OBJECT_LOCK(self);
  GstClockTime ours = 0;
  if (self->have_model && self->info.features.sample_rate > 0)
    ours = gst_util_uint64_scale_int(
        ((guint64)(self->info.segment_frames - 1) +
         (guint64)(self->batch - 1) * self->info.segment_hop) *
            self->info.features.hop,
        GST_SECOND, self->info.features.sample_rate);
  GST_OBJECT_UNLOCK(self);
  min += ours;
  if (GST_CLOCK_TIME_IS_VALID(max))
    max += ours;
  gst_query_set_latency(query, live, min, max);
  return TRUE;
}

/* ---- GObject / GstElement ---- */

static GstStateChangeReturn change_state(GstElement *element,
                                         GstStateChange transition) {
  GstAcrnnClassify *self = GST_ACRNN_CLASSIFY(element);
  switch (transition) {
  case GST_STATE_CHANGE_NULL_TO_READY:
    if (!load_model(self))
      return GST_STATE_CHANGE_FAILURE;
    break;
  case GST_STATE_CHANGE_READY_TO_PAUSED:
    if (!gst_acrnn_classify_update_model(self))
      return GST_STATE_CHANGE_FAILURE;
    free_stream(self);
    break;
  default:
    break;
  }
  GstStateChangeReturn ret =
      GST_ELEMENT_CLASS(parent_class)->change_state(element, transition);
  switch (transition) {
  case GST_STATE_CHANGE_PAUSED_TO_READY:
    free_stream(self);
    break;
  case GST_STATE_CHANGE_READY_TO_NULL:
    unload_model(self);
    break;
  default:
    break;
  }
  return ret;
}

static void set_property(GObject *object, guint prop_id, const GValue *value,
                         GParamSpec *pspec) {
  GstAcrnnClassify *self = GST_ACRNN_CLASSIFY(object);
  GST_OBJECT_LOCK(self);
  switch (prop_id) {
  case PROP_MODEL:
    g_free(self->model_path);
    self->model_path = g_value_dup_string(value);
    break;
  case PROP_TOP_K:
    self->top_k = g_value_get_uint(value);
    break;
  case PROP_THRESHOLD:
    self->threshold = g_value_get_double(value);
    break;
  case PROP_POST_MESSAGES:
    self->post_messages = g_value_get_boolean(value);
    break;
  case PROP_BATCH:
    self->batch = g_value_get_uint(value);
    break;
  case PROP_THREADS:
    self->threads = g_value_get_uint(value);
    break;
  default:
    G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
    break;
  }
  GST_OBJECT_UNLOCK(self);
}

static void get_property(GObject *object, guint prop_id, GValue *value,
                         GParamSpec *pspec) {
  GstAcrnnClassify *self = GST_ACRNN_CLASSIFY(object);
  GST_OBJECT_LOCK(self);
  switch (prop_id) {
  case PROP_MODEL:
    g_value_set_string(value, self->model_path);
    break;
  case PROP_TOP_K:
    g_value_set_uint(value, self->top_k);
    break;
  case PROP_THRESHOLD:
    g_value_set_double(value, self->threshold);
    break;
  case PROP_POST_MESSAGES:
    g_value_set_boolean(value, self->post_messages);
    break;
  case PROP_BATCH:
    g_value_set_uint(value, self->batch);
    break;
  case PROP_THREADS:
    g_value_set_uint(value, self->threads);
    break;
  case PROP_LABELS:
    g_value_set_boxed(value, self->have_model ? self->info.labels : NULL);
    break;
  default:
    G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
    break;
  }
  GST_OBJECT_UNLOCK(self);
}

static void finalize(GObject *object) {
  GstAcrnnClassify *self = GST_ACRNN_CLASSIFY(object);
  free_stream(self);
  unload_model(self);
  g_free(self->model_path);
  G_OBJECT_CLASS(parent_class)->finalize(object);
}

static void gst_acrnn_classify_class_init(GstAcrnnClassifyClass *klass) {
  GObjectClass *gobject_class = G_OBJECT_CLASS(klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS(klass);

  gobject_class->set_property = set_property;
  gobject_class->get_property = get_property;
  gobject_class->finalize = finalize;

  g_object_class_install_property(
      gobject_class, PROP_MODEL,
      g_param_spec_string(
          "model", "Model",
          "Model file (safetensors) to load when going to READY; NULL = the "
          "bundled model ($ACRNN_MODEL, the build tree or the installed "
          "copy). A change in READY is loaded when going to PAUSED",
          NULL,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
              GST_PARAM_MUTABLE_READY));
  g_object_class_install_property(
      gobject_class, PROP_TOP_K,
      g_param_spec_uint("top-k", "Top k",
                        "Number of best labels and scores in each message", 1,
                        50, DEFAULT_TOP_K,
                        G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
                            GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property(
      gobject_class, PROP_THRESHOLD,
      g_param_spec_double(
          "threshold", "Threshold",
          "Lowest confidence of a segment that is posted and given as text "
          "(below it: no message, a gap on the text pad); the final message "
          "is always posted",
          0.0, 1.0, DEFAULT_THRESHOLD,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
              GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property(
      gobject_class, PROP_POST_MESSAGES,
      g_param_spec_boolean("post-messages", "Post messages",
                           "Post an \"acrnn\" element message for each "
                           "segment and a final one at end of stream",
                           DEFAULT_POST_MESSAGES,
                           G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
                               GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property(
      gobject_class, PROP_BATCH,
      g_param_spec_uint("batch", "Batch",
                        "Segments per network forward (1 reports each "
                        "segment as soon as it is complete; larger is faster "
                        "for files)",
                        1, 256, DEFAULT_BATCH,
                        G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
                            GST_PARAM_MUTABLE_READY));
  g_object_class_install_property(
      gobject_class, PROP_THREADS,
      g_param_spec_uint(
          "threads", "Threads",
          "Threads that share each batch, each running its own copy of the "
          "network (use with batch >= threads; for files on N cores: "
          "threads=N batch=16 and OPENBLAS_NUM_THREADS=1, which scales "
          "better than a multi-threaded BLAS)",
          1, 64, DEFAULT_THREADS,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
              GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property(
      gobject_class, PROP_LABELS,
      g_param_spec_boxed("labels", "Labels",
                         "Class names of the loaded model, index = class-id "
                         "(available from READY)",
                         G_TYPE_STRV,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));

  gst_element_class_add_static_pad_template(element_class, &sink_template);
  gst_element_class_add_static_pad_template(element_class, &src_template);
  gst_element_class_set_static_metadata(
      element_class, "ACRNN sound classifier", "Filter/Analyzer/Audio",
      "Classifies environmental sounds with an attention-based convolutional "
      "recurrent network. Takes the frames of gammatonespec, classifies "
      "every segment (128 frames, every 64 frames) and posts an element "
      "message \"acrnn\" (label, class-id, confidence, timestamp, "
      "stream-time, running-time, duration, labels, scores, final=false, "
      "segment), then at EOS one with final=true and the decision over the "
      "whole stream (mean probability). The src pad gives each segment's "
      "label as text (for textoverlay; otherwise link it to fakesink). "
      "Example: gst-launch-1.0 -m filesrc location=dog.wav ! decodebin ! "
      "audioconvert ! audioresample ! gammatonespec ! acrnnclassify "
      "model=model.safetensors ! fakesink",
      "acrnn developers");

  element_class->change_state = GST_DEBUG_FUNCPTR(change_state);

  GST_DEBUG_CATEGORY_INIT(gst_acrnn_classify_debug, "acrnnclassify", 0,
                          "ACRNN sound classification");
}

static void gst_acrnn_classify_init(GstAcrnnClassify *self) {
  self->sinkpad = gst_pad_new_from_static_template(&sink_template, "sink");
  gst_pad_set_chain_function(self->sinkpad, GST_DEBUG_FUNCPTR(chain));
  gst_pad_set_event_function(self->sinkpad, GST_DEBUG_FUNCPTR(sink_event));
  gst_pad_set_query_function(self->sinkpad, GST_DEBUG_FUNCPTR(sink_query));
  gst_element_add_pad(GST_ELEMENT(self), self->sinkpad);

  self->srcpad = gst_pad_new_from_static_template(&src_template, "src");
  gst_pad_set_query_function(self->srcpad, GST_DEBUG_FUNCPTR(src_query));
  gst_pad_use_fixed_caps(self->srcpad);
  gst_element_add_pad(GST_ELEMENT(self), self->srcpad);

  self->top_k = DEFAULT_TOP_K;
  self->threshold = DEFAULT_THRESHOLD;
  self->post_messages = DEFAULT_POST_MESSAGES;
  self->batch = DEFAULT_BATCH;
  self->threads = DEFAULT_THREADS;
  gst_segment_init(&self->segment, GST_FORMAT_TIME);
  reset_stream(self);
}
