/**
 * SECTION:element-acrnnclassify
 * @title: acrnnclassify
 * @short_description: classifies environmental sounds with an ACRNN model
 *
 * acrnnclassify runs the attention-based convolutional recurrent network of
 * a model file (the model property; by default the bundled ESC-50 model) on
 * the feature frames of gammatonespec. It classifies every segment of 128
 * frames (about 1.49 s at 44.1 kHz), one every 64 frames, and at the end of
 * a run one more of its last 128 frames, so that every frame counts.
 *
 * For each segment it posts an element message named "acrnn" (as level and
 * spectrum do) and pushes the label as a line of UTF-8 text on its src pad
 * (a GAP below threshold or for silence). At the end of a stream a last
 * "acrnn" message with final=TRUE gives the decision over the stream: the
 * class of highest mean probability over its segments, the same rule as
 * acrnn-train eval (acrnn/clip_score.h). The fields (docs/gstreamer.md):
 *
 * * "label" G_TYPE_STRING: the most probable class ("silence" for a silent
 *   segment).
 * * "class-id" G_TYPE_INT: its index in the model's labels (-1: silence).
 * * "confidence" G_TYPE_DOUBLE: its probability (final: mean probability).
 * * "labels", "scores" GST_TYPE_ARRAY: the top-k classes and their
 *   probabilities, best first; "top-k" G_TYPE_STRING the same as one string,
 *   "dog:0.5700,rain:0.2300".
 * * "timestamp", "stream-time", "running-time", "duration" G_TYPE_UINT64:
 *   where the segment starts (buffer, stream and running time) and how long
 *   it is; final: the stream's start and the audio classified.
 * * "final" G_TYPE_BOOLEAN, "silent" G_TYPE_BOOLEAN.
 * * per segment: "segment" G_TYPE_UINT64 (its index) and "level"
 *   G_TYPE_DOUBLE (dBFS); final: "segments" and "silent-segments"
 *   G_TYPE_UINT64.
 *
 * With events=TRUE it also posts an element message named "acrnn-event"
 * when a class's probability rises to event-on (state "start") and when it
 * falls below event-off (state "end"); several classes can be active at
 * once, an event shorter than event-min-duration gives no message, and a
 * silent segment, the end of a run (EOS, a discontinuity, a GAP, a seek), a
 * flush or a stop ends every event. The fields:
 *
 * * "label" G_TYPE_STRING, "class-id" G_TYPE_INT: the class.
 * * "state" G_TYPE_STRING: "start" or "end".
 * * "start", "end" G_TYPE_UINT64: the onset and the offset in stream time
 *   (end is GST_CLOCK_TIME_NONE in a start message).
 * * "confidence" G_TYPE_DOUBLE: the peak probability during the event.
 *
 * Boundaries lie between the middles of the last segment without the class
 * and the first with it (at most half a segment hop off, 0.37 s with the
 * bundled model), and at the first or last loud frame next to silence (to
 * about 12 ms); see gst-plugins/event-tracker.h.
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 -m filesrc location=dog.wav ! decodebin ! audioconvert ! \
 *     audioresample ! gammatonespec ! acrnnclassify ! fakesink
 * ]| prints one "acrnn" message per segment and the final decision.
 * |[
 * gst-launch-1.0 -m filesrc location=street.wav ! decodebin ! \
 *     audioconvert ! audioresample ! gammatonespec ! \
 *     acrnnclassify events=true post-messages=false ! fakesink
 * ]| prints an "acrnn-event" message at each onset and offset.
 */

/* acrnnclassify.c - the acrnnclassify element: runs the ACRNN network of a
 * model file on the log-gammatone frames of gammatonespec.
 *
 * Segment s covers frames [s*hop_s, s*hop_s + S) (S = segment_frames, hop_s
 * = segment_hop of the model); it is classified as soon as its frames have
 * arrived (up to `batch` segments per forward). For each classified segment
 * it posts an element message "acrnn" and pushes the label and a newline
 * as a text buffer (PTS = segment start, duration = segment hop, so
 * consecutive labels tile the timeline); a segment under `threshold` gives a
 * GAP event instead. At the end of a run (EOS, discontinuity, gap, new
 * stream) a run with frames but no whole segment gives one segment padded
 * with silence, and frames after the last whole segment give one more
 * segment, the run's last S frames, so that every frame is classified (as
 * acrnn_segment_count_covering() counts them). At EOS the "final" message
 * then holds the decision over the stream: the class of highest mean
 * probability over its segments. With threads = N > 1 a batch is split over N
 * copies of the network run by N threads (the results are the same; with a
 * batch of 2N or more, N - 1 of them start on its segments as they arrive,
 * classify-workers.c). A DISCONT
 * buffer whose PTS is not where the previous frames end, or that has no PTS
 * (run-timing.h), a GAP event, or a
 * SEGMENT event without a flush (a non-flushing seek) starts a new run
 * (segments restart there); the final message's duration is the audio of the
 * stream's runs summed, what was classified; a flush forgets everything; a new
 * stream (STREAM_START with another stream id, as after concat) first ends the
 * previous one with its final message.
 *
 * Silence: a segment whose level (measured from its band energies,
 * AcrnnLevelMeter) is below silence-threshold is not run through the
 * network; it is reported as "silence" (class-id -1, silent=TRUE), gives a
 * GAP on the text pad and stays out of the stream's decision.
 *
 * Message times: "timestamp" is the PTS of the segment's first frame;
 * "stream-time" and "running-time" are that position converted through the
 * current segment (clipped to it, so that they are always valid).
 *
 * Two properties change that: segment-hop sets hop_s (0: the model's), and
 * batch=0 chooses the batch when the caps come (auto-batch.h).
 */
#include "acrnnclassify-private.h"
#include "auto-batch.h"
#include "features-caps.h"
#include "run-timing.h"

#include <string.h>

GST_DEBUG_CATEGORY(gst_acrnn_classify_debug);

enum {
  PROP_0,
  PROP_MODEL,
  PROP_TOP_K,
  PROP_THRESHOLD,
  PROP_POST_MESSAGES,
  PROP_BATCH,
  PROP_LABELS,
  PROP_THREADS,
  PROP_CURRENT_BATCH,
  PROP_SEGMENT_HOP,
  PROP_SILENCE_THRESHOLD,
  PROP_PRECISION,
  PROP_EVENTS,
  PROP_EVENT_ON,
  PROP_EVENT_OFF,
  PROP_EVENT_MIN_DURATION,
};

#define DEFAULT_TOP_K 3
#define DEFAULT_THRESHOLD 0.0
#define DEFAULT_POST_MESSAGES TRUE
#define DEFAULT_BATCH 0 /* auto */
#define DEFAULT_THREADS 1
#define DEFAULT_SEGMENT_HOP 0 /* the model's */
#define DEFAULT_SILENCE_THRESHOLD -60.0
#define DEFAULT_PRECISION GST_ACRNN_PRECISION_AUTO
#define DEFAULT_EVENTS FALSE
#define DEFAULT_EVENT_ON 0.5
#define DEFAULT_EVENT_OFF 0.3
#define DEFAULT_EVENT_MIN_DURATION (500 * GST_MSECOND)

/* The precision property's values. */
typedef enum {
  GST_ACRNN_PRECISION_AUTO,
  GST_ACRNN_PRECISION_FP32,
  GST_ACRNN_PRECISION_BF16,
} GstAcrnnPrecision;

static GType gst_acrnn_precision_get_type(void) {
  static GType type = 0;
  static const GEnumValue values[] = {
      {GST_ACRNN_PRECISION_AUTO,
       "bf16 where the CPU has AVX512_BF16 (faster there), else fp32", "auto"},
      {GST_ACRNN_PRECISION_FP32, "fp32 products and sums", "fp32"},
      {GST_ACRNN_PRECISION_BF16,
       "bf16 products with fp32 sums (AVX512_BF16; emulated, slowly, on "
       "other CPUs)",
       "bf16"},
      {0, NULL, NULL}};
  if (g_once_init_enter(&type))
    g_once_init_leave(&type,
                      g_enum_register_static("GstAcrnnPrecision", values));
  return type;
}

AcrnnPrecision gst_acrnn_classify_precision(GstAcrnnClassify *self) {
  GST_OBJECT_LOCK(self);
  GstAcrnnPrecision p = self->precision;
  GST_OBJECT_UNLOCK(self);
  if (p == GST_ACRNN_PRECISION_AUTO)
    return acrnn_bf16_native() ? ACRNN_PRECISION_BF16 : ACRNN_PRECISION_FP32;
  return p == GST_ACRNN_PRECISION_BF16 ? ACRNN_PRECISION_BF16
                                       : ACRNN_PRECISION_FP32;
}

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
  gst_acrnn_classify_workers_drain(self);
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
  AcrnnNet *net = acrnn_model_load_shared(path, &info, &error);
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

void gst_acrnn_classify_reset_run(GstAcrnnClassify *self) {
  self->need_start = TRUE;
  self->run_frames = 0;
  self->run_segments = 0;
  self->buf_first = 0;
}

void gst_acrnn_classify_reset_stream(GstAcrnnClassify *self) {
  gst_acrnn_classify_workers_drain(self);
  gst_acrnn_classify_events_end(self); /* flushed: the events end */
  gst_acrnn_classify_reset_run(self);
  self->n_pending = 0;
  self->n_inputs = 0;
  self->n_silent = 0;
  self->next_index = 0;
  self->stream_start = GST_CLOCK_TIME_NONE;
  self->stream_end = GST_CLOCK_TIME_NONE;
  self->classified = 0;
  if (self->score != NULL)
    acrnn_clip_score_reset(self->score);
}

static void free_stream(GstAcrnnClassify *self) {
  gst_acrnn_classify_workers_drain(self);
  gst_acrnn_classify_events_free(self); /* stopped: the events end */
  g_clear_pointer(&self->frames, g_free);
  self->buf_cap = 0;
  g_clear_pointer(&self->batch_in, g_free);
  g_clear_pointer(&self->batch_starts, g_free);
  g_clear_pointer(&self->pending, g_free);
  g_clear_pointer(&self->probs, g_free);
  g_clear_pointer(&self->score, acrnn_clip_score_free);
  g_clear_pointer(&self->meter, acrnn_level_meter_free);
  self->negotiated = FALSE;
  GST_OBJECT_LOCK(self);
  self->batch_size = 0;
  self->seg_hop = 0;
  GST_OBJECT_UNLOCK(self);
  self->caps_refused = FALSE;
  self->text_caps_sent = FALSE;
  gst_segment_init(&self->segment, GST_FORMAT_TIME);
  g_clear_pointer(&self->stream_id, g_free);
  gst_acrnn_classify_reset_stream(self);
}

GstClockTime gst_acrnn_classify_samples_time(GstAcrnnClassify *self,
                                             guint64 samples) {
  return gst_util_uint64_scale_int(samples, GST_SECOND, self->fp.sample_rate);
}

GstClockTime gst_acrnn_classify_frame_time(GstAcrnnClassify *self,
                                           guint64 frame) {
  return gst_acrnn_run_time(self->run_start, frame * self->fp.hop,
                            self->fp.sample_rate);
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

/* The model property. In PAUSED and PLAYING the stream is being classified
 * with the loaded model (its feature parameters negotiated, its decision
 * accumulating): a new path there is refused with a WARNING, and the
 * property keeps naming the model in use. */
static void set_model(GstAcrnnClassify *self, const char *path) {
  GST_OBJECT_LOCK(self);
  gboolean running = GST_STATE(self) >= GST_STATE_PAUSED;
  gchar *in_use = NULL;
  if (running)
    in_use = g_strdup(self->loaded_path);
  else {
    g_free(self->model_path);
    self->model_path = g_strdup(path);
  }
  GST_OBJECT_UNLOCK(self);
  if (!running)
    return;
  GST_ELEMENT_WARNING(
      self, LIBRARY, SETTINGS,
      ("The model cannot change while the pipeline is PAUSED or PLAYING: "
       "\"%s\" was not loaded, \"%s\" goes on classifying. Set the model "
       "in the NULL or READY state (stop the pipeline, set it, play again).",
       GST_STR_NULL(path), GST_STR_NULL(in_use)),
      ("model property set in state %s",
       gst_element_state_get_name(GST_STATE(self))));
  g_free(in_use);
}

static void set_property(GObject *object, guint prop_id, const GValue *value,
                         GParamSpec *pspec) {
  GstAcrnnClassify *self = GST_ACRNN_CLASSIFY(object);
  if (prop_id == PROP_MODEL) {
    set_model(self, g_value_get_string(value));
    return;
  }
  GST_OBJECT_LOCK(self);
  switch (prop_id) {
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
  case PROP_SEGMENT_HOP:
    self->segment_hop = g_value_get_uint(value);
    break;
  case PROP_SILENCE_THRESHOLD:
    self->silence_threshold = g_value_get_double(value);
    break;
  case PROP_PRECISION:
    self->precision = g_value_get_enum(value);
    if (self->precision == GST_ACRNN_PRECISION_BF16 && !acrnn_bf16_native())
      GST_WARNING_OBJECT(self, "this CPU has no AVX512_BF16: bf16 is "
                               "emulated, with the same results, slowly");
    break;
  case PROP_EVENTS:
    self->events = g_value_get_boolean(value);
    break;
  case PROP_EVENT_ON:
    self->event_on = g_value_get_double(value);
    break;
  case PROP_EVENT_OFF:
    self->event_off = g_value_get_double(value);
    break;
  case PROP_EVENT_MIN_DURATION:
    self->event_min_duration = g_value_get_uint64(value);
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
  case PROP_SILENCE_THRESHOLD:
    g_value_set_double(value, self->silence_threshold);
    break;
  case PROP_PRECISION:
    g_value_set_enum(value, self->precision);
    break;
  case PROP_LABELS:
    g_value_set_boxed(value, self->have_model ? self->info.labels : NULL);
    break;
  case PROP_CURRENT_BATCH:
    g_value_set_uint(value, self->batch_size);
    break;
  case PROP_SEGMENT_HOP:
    g_value_set_uint(value, self->segment_hop);
    break;
  case PROP_EVENTS:
    g_value_set_boolean(value, self->events);
    break;
  case PROP_EVENT_ON:
    g_value_set_double(value, self->event_on);
    break;
  case PROP_EVENT_OFF:
    g_value_set_double(value, self->event_off);
    break;
  case PROP_EVENT_MIN_DURATION:
    g_value_set_uint64(value, self->event_min_duration);
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
  gst_acrnn_classify_workers_free(self);
  g_mutex_clear(&self->work_lock);
  g_cond_clear(&self->work_done);
  g_free(self->model_path);
  G_OBJECT_CLASS(parent_class)->finalize(object);
}

static void install_event_properties(GObjectClass *gobject_class) {
  g_object_class_install_property(
      gobject_class, PROP_EVENTS,
      g_param_spec_boolean(
          "events", "Events",
          "Post an \"acrnn-event\" element message when a sound starts "
          "(state=start, end=GST_CLOCK_TIME_NONE) and when it ends "
          "(state=end), with label, class-id, start and end (stream time) "
          "and confidence (the peak probability of the event). Several "
          "classes can be active at once; silence (silence-threshold), the "
          "end of a run, EOS, a flush or a stop end every event. Boundaries "
          "are at the loud frames next to silence (about 12 ms), else within "
          "half a segment hop (0.37 s with the bundled model)",
          DEFAULT_EVENTS,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
              GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property(
      gobject_class, PROP_EVENT_ON,
      g_param_spec_double(
          "event-on", "Event on",
          "Probability of a class in a segment at which its event starts "
          "(events=TRUE)",
          0.0, 1.0, DEFAULT_EVENT_ON,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
              GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property(
      gobject_class, PROP_EVENT_OFF,
      g_param_spec_double(
          "event-off", "Event off",
          "Probability of a class under which its event ends (events=TRUE); "
          "below event-on, so that a sound hovering around event-on is one "
          "event, not many (a value above event-on counts as event-on)",
          0.0, 1.0, DEFAULT_EVENT_OFF,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
              GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property(
      gobject_class, PROP_EVENT_MIN_DURATION,
      g_param_spec_uint64(
          "event-min-duration", "Event minimum duration",
          "Shortest event reported, in nanoseconds (events=TRUE): an event is "
          "announced once it has lasted this long, and a shorter blip gives "
          "no message at all",
          0, G_MAXUINT64, DEFAULT_EVENT_MIN_DURATION,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
              GST_PARAM_MUTABLE_PLAYING));
}

static void install_properties(GObjectClass *gobject_class) {
  g_object_class_install_property(
      gobject_class, PROP_MODEL,
      g_param_spec_string(
          "model", "Model",
          "Model file (safetensors) to load when going to READY; NULL = the "
          "bundled model ($ACRNN_MODEL, the build tree or the installed "
          "copy). A change in READY is loaded when going to PAUSED; in "
          "PAUSED or PLAYING a change is refused with a WARNING message and "
          "the model in use goes on (stop the pipeline to change it). "
          "Elements of one process loading the same file share one "
          "read-only copy of its weights; a file changed on disk since "
          "(rewritten, edited, touched) is loaded anew",
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
                        "Segments per network forward: 1 reports each "
                        "segment as soon as it is complete, larger is faster "
                        "for files (consecutive segments of a batch overlap "
                        "by half and compute their first conv blocks once); "
                        "0 chooses when the stream "
                        "starts: 16 when nothing waits for the labels (a "
                        "source that is not live, no sink that syncs to the "
                        "clock, the text pad unlinked or to such a sink), "
                        "else 1 (see current-batch)",
                        0, 256, DEFAULT_BATCH,
                        G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
                            GST_PARAM_MUTABLE_READY));
  g_object_class_install_property(
      gobject_class, PROP_THREADS,
      g_param_spec_uint(
          "threads", "Threads",
          "Threads that share each batch, each running its own copy of the "
          "network (use with batch >= threads; for files on N cores: "
          "threads=N batch=16 and OPENBLAS_NUM_THREADS=1, which scales "
          "better than a multi-threaded BLAS). With batch >= 2 x threads "
          "the threads other than the streaming one start on the batch's "
          "segments as they arrive, while the features of the next ones "
          "are still being computed; the results are the same",
          1, 64, DEFAULT_THREADS,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
              GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property(
      gobject_class, PROP_SEGMENT_HOP,
      g_param_spec_uint(
          "segment-hop", "Segment hop",
          "Frames between the starts of two classified segments; 0 = the "
          "model's (64 for the bundled model, 0.74 s). Smaller values give "
          "labels more often (a sound is reported up to one hop sooner) at "
          "the cost of more network runs; the latency stays one segment",
          0, 1024, DEFAULT_SEGMENT_HOP,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
              GST_PARAM_MUTABLE_READY));
  g_object_class_install_property(
      gobject_class, PROP_CURRENT_BATCH,
      g_param_spec_uint("current-batch", "Current batch",
                        "Segments per network forward in use for this "
                        "stream: batch, or what batch=0 chose (0 until the "
                        "stream's caps arrive)",
                        0, 256, 0, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property(
      gobject_class, PROP_SILENCE_THRESHOLD,
      g_param_spec_double(
          "silence-threshold", "Silence threshold",
          "Level in dBFS (full-scale sine = -3 dB, as the rms of the level "
          "element) under which a segment is silence: it is reported with "
          "label \"silence\", class-id -1 and silent=true, not run through "
          "the network, left out of the final decision (a stream of silence "
          "only gets a final message saying silence) and gives a gap on the "
          "text pad. The level is the segment's mean power measured from its "
          "band energies, the sound between fmin and fmax. Below -200 the "
          "gate is off",
          -1000.0, 0.0, DEFAULT_SILENCE_THRESHOLD,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
              GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property(
      gobject_class, PROP_PRECISION,
      g_param_spec_enum(
          "precision", "Precision",
          "Arithmetic of the network: fp32, or bf16 (bf16 products with fp32 "
          "sums in the convolutions, GRU and dense layers, as PyTorch's bf16 "
          "autocast; the labels agree with fp32 on at least 98 % of clips), "
          "or auto (bf16 where the CPU has AVX512_BF16, else fp32)",
          gst_acrnn_precision_get_type(), DEFAULT_PRECISION,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
              GST_PARAM_MUTABLE_PLAYING));
  install_event_properties(gobject_class);
  g_object_class_install_property(
      gobject_class, PROP_LABELS,
      g_param_spec_boxed("labels", "Labels",
                         "Class names of the loaded model, index = class-id "
                         "(available from READY)",
                         G_TYPE_STRV,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
}

static void gst_acrnn_classify_class_init(GstAcrnnClassifyClass *klass) {
  GObjectClass *gobject_class = G_OBJECT_CLASS(klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS(klass);

  gobject_class->set_property = set_property;
  gobject_class->get_property = get_property;
  gobject_class->finalize = finalize;
  install_properties(gobject_class);

  gst_element_class_add_static_pad_template(element_class, &sink_template);
  gst_element_class_add_static_pad_template(element_class, &src_template);
  gst_element_class_set_static_metadata(
      element_class, "ACRNN sound classifier", "Filter/Analyzer/Audio",
      "Classifies environmental sounds with an attention-based convolutional "
      "recurrent network. Takes the frames of gammatonespec, classifies "
      "every segment (128 frames, every 64 frames; at the end of the stream "
      "one more of its last 128 frames, so that every frame counts) and "
      "posts an element message \"acrnn\" (label, class-id, confidence, "
      "timestamp, stream-time, running-time, duration, labels, scores, "
      "top-k (the same as one string, \"dog:0.5700,rain:0.2300\", for "
      "bindings that cannot read arrays), level (dBFS), silent, final=false, "
      "segment), then at EOS one with final=true and the decision over the "
      "whole stream (mean probability; segments, silent-segments). A "
      "segment below silence-threshold is reported as label=silence, "
      "class-id=-1, silent=true and left out of the decision. With "
      "events=true it also posts \"acrnn-event\" messages (label, class-id, "
      "state=start or end, start, end, confidence) when a sound starts and "
      "ends (event-on, event-off, event-min-duration). The src pad "
      "gives each segment's label as a line of UTF-8 text ending in a "
      "newline (for textoverlay, a subtitle track or a filesink, which "
      "writes one label a line; otherwise link it to fakesink). Example: "
      "gst-launch-1.0 -m filesrc location=dog.wav ! decodebin ! "
      "audioconvert ! audioresample ! gammatonespec ! acrnnclassify "
      "model=model.safetensors ! fakesink",
      "acrnn developers");

  element_class->change_state = GST_DEBUG_FUNCPTR(change_state);

  GST_DEBUG_CATEGORY_INIT(gst_acrnn_classify_debug, "acrnnclassify", 0,
                          "ACRNN sound classification");
}

static void gst_acrnn_classify_init(GstAcrnnClassify *self) {
  g_mutex_init(&self->work_lock);
  g_cond_init(&self->work_done);
  self->sinkpad = gst_pad_new_from_static_template(&sink_template, "sink");
  gst_pad_set_chain_function(self->sinkpad,
                             GST_DEBUG_FUNCPTR(gst_acrnn_classify_chain));
  gst_pad_set_event_function(self->sinkpad,
                             GST_DEBUG_FUNCPTR(gst_acrnn_classify_sink_event));
  gst_pad_set_query_function(self->sinkpad,
                             GST_DEBUG_FUNCPTR(gst_acrnn_classify_sink_query));
  gst_element_add_pad(GST_ELEMENT(self), self->sinkpad);

  self->srcpad = gst_pad_new_from_static_template(&src_template, "src");
  gst_pad_set_query_function(self->srcpad,
                             GST_DEBUG_FUNCPTR(gst_acrnn_classify_src_query));
  gst_pad_use_fixed_caps(self->srcpad);
  gst_element_add_pad(GST_ELEMENT(self), self->srcpad);

  self->top_k = DEFAULT_TOP_K;
  self->threshold = DEFAULT_THRESHOLD;
  self->post_messages = DEFAULT_POST_MESSAGES;
  self->batch = DEFAULT_BATCH;
  self->threads = DEFAULT_THREADS;
  self->segment_hop = DEFAULT_SEGMENT_HOP;
  self->silence_threshold = DEFAULT_SILENCE_THRESHOLD;
  self->precision = DEFAULT_PRECISION;
  self->events = DEFAULT_EVENTS;
  self->event_on = DEFAULT_EVENT_ON;
  self->event_off = DEFAULT_EVENT_OFF;
  self->event_min_duration = DEFAULT_EVENT_MIN_DURATION;
  gst_segment_init(&self->segment, GST_FORMAT_TIME);
  gst_acrnn_classify_reset_stream(self);
}
