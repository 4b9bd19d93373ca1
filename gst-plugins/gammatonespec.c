/**
 * SECTION:element-gammatonespec
 * @title: gammatonespec
 * @short_description: log-gammatone (or log-mel) spectrogram of mono audio
 *
 * gammatonespec turns mono float audio into the feature frames the ACRNN
 * network is trained on (docs/features.md): every hop samples a frame of
 * n-fft samples is Hamming-windowed, its power spectrum weighted by bands
 * 4th-order gammatone filters on the ERB scale (filterbank=mel: triangular
 * mel filters), and the log band energies are followed by their deltas. An
 * output buffer holds whole frames of 2*bands float32 values with caps
 * audio/x-acrnn-features, timestamped with its first frame's first sample.
 *
 * The sink pad accepts the rate of the sample-rate property (0: any) that
 * downstream accepts. A DISCONT buffer whose timestamp is not where the
 * previous samples end, or that has no timestamp, starts a new run
 * (run-timing.h), as do GAP events, flushes and new streams. A NaN or Inf
 * sample is a STREAM/FORMAT error; reverse playback is refused.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 filesrc location=dog.wav ! decodebin ! audioconvert ! \
 *     audioresample ! gammatonespec ! filesink location=dog.f32
 * ]| writes the log-gammatone frames of dog.wav as raw float32.
 */

/* gammatonespec.c - the gammatonespec element: turns mono F32 audio into
 * log-gammatone feature frames (docs/features.md), or log-mel frames with
 * filterbank=mel, with the streaming AcrnnFeatureExtractor.
 *
 * Timing: frame t of a run starts at sample t*hop; its buffer PTS is the run's
 * start PTS + t*hop/rate, buffer offsets are frame indices. A run starts at
 * the first buffer, after a flush, a new stream, a rate change, a GAP event,
 * or a DISCONT buffer whose PTS is not where the previous samples end; the
 * frames still waiting for their delta context are pushed (end-of-run edge
 * rule) before a new run starts, and at EOS. Input without timestamps is
 * timed from the segment start (a run after a DISCONT without PTS goes on
 * where the previous one ended). A segment in another format than TIME
 * (raw audio straight from filesrc) is replaced downstream by a TIME segment
 * from 0, the time base of the frames.
 *
 * The sink caps query honours downstream: the rates it offers are those of
 * the sample-rate property (0: any) that downstream accepts for features of
 * the other properties, in downstream's order of preference.
 *
 * Audio is analysed forwards only: a seek with a negative rate is refused
 * (with a WARNING saying why) and a segment that plays backwards (rate or
 * applied rate < 0) is a STREAM/NOT_IMPLEMENTED error. A NaN or Inf sample
 * is a STREAM/FORMAT error giving its stream time.
 */
#include "features-caps.h"
#include "gammatonespec-private.h"
#include "run-timing.h"

#include <acrnn/features.h>
#include <gst/audio/audio.h>
#include <math.h>

GST_DEBUG_CATEGORY(gst_gammatone_spec_debug);

enum {
  PROP_0,
  PROP_SAMPLE_RATE,
  PROP_BANDS,
  PROP_N_FFT,
  PROP_HOP,
  PROP_FMIN,
  PROP_FMAX,
  PROP_DELTA_WIDTH,
  PROP_FILTERBANK,
};

/* The property defaults are the library's (acrnn_feature_params_init()),
 * but fmax, whose default 0 means the Nyquist frequency of the rate. */
#define DEFAULT_FMAX 0.0

#define SINK_CAPS                                                              \
  "audio/x-raw, format = (string) " GST_AUDIO_NE(                              \
      F32) ", channels = (int) 1, layout = (string) interleaved, "             \
           "rate = (int) [ 1000, 384000 ]"

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE(
    "sink", GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS(SINK_CAPS));

static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE(
    "src", GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS(ACRNN_FEATURES_CAPS));

#define gst_gammatone_spec_parent_class parent_class
G_DEFINE_TYPE(GstGammatoneSpec, gst_gammatone_spec, GST_TYPE_ELEMENT);
GST_ELEMENT_REGISTER_DEFINE(gammatonespec, "gammatonespec", GST_RANK_NONE,
                            GST_TYPE_GAMMATONE_SPEC);

/* A segment that plays backwards: an error; FALSE refuses the event. */
static gboolean check_forwards(GstGammatoneSpec *self, GstEvent *event) {
  const GstSegment *segment;
  gst_event_parse_segment(event, &segment);
  if (segment->rate > 0.0 && segment->applied_rate > 0.0)
    return TRUE;
  GST_ELEMENT_ERROR(
      self, STREAM, NOT_IMPLEMENTED,
      ("The audio plays backwards (segment rate %g, applied rate %g): sounds "
       "are classified only as they sound forwards. Seek with a positive rate.",
       segment->rate, segment->applied_rate),
      ("segment %" GST_SEGMENT_FORMAT, segment));
  return FALSE;
}

static gboolean sink_event(GstPad *pad, GstObject *parent, GstEvent *event) {
  GstGammatoneSpec *self = GST_GAMMATONE_SPEC(parent);
  switch (GST_EVENT_TYPE(event)) {
  case GST_EVENT_CAPS: {
    GstCaps *caps;
    gst_event_parse_caps(event, &caps);
    gboolean ok = gst_gammatone_spec_set_caps(self, caps);
    gst_event_unref(event);
    return ok;
  }
  case GST_EVENT_SEGMENT:
    if (!check_forwards(self, event)) {
      gst_event_unref(event);
      return FALSE;
    }
    gst_event_copy_segment(event, &self->segment);
    if (self->segment.format != GST_FORMAT_TIME) {
      /* the frames are timed from 0 (the input has no timestamps) */
      GST_DEBUG_OBJECT(self, "%s segment: pushing a TIME segment instead",
                       gst_format_get_name(self->segment.format));
      GstSegment time;
      gst_segment_init(&time, GST_FORMAT_TIME);
      GstEvent *out = gst_event_new_segment(&time);
      gst_event_set_seqnum(out, gst_event_get_seqnum(event));
      gst_event_unref(event);
      event = out;
    }
    break;
  case GST_EVENT_GAP: {
    /* no audio for a while: the run ends (its tail goes before the gap) */
    GstClockTime timestamp, duration;
    gst_event_parse_gap(event, &timestamp, &duration);
    if (duration != 0)
      gst_gammatone_spec_drain(self);
    break;
  }
  case GST_EVENT_STREAM_START:
    gst_gammatone_spec_drain(self);
    self->run_end = GST_CLOCK_TIME_NONE;
    break;
  case GST_EVENT_EOS:
    gst_gammatone_spec_drain(self);
    break;
  case GST_EVENT_FLUSH_STOP:
    gst_gammatone_spec_reset_run(self);
    self->run_end = GST_CLOCK_TIME_NONE;
    gst_segment_init(&self->segment, GST_FORMAT_UNDEFINED);
    break;
  default:
    break;
  }
  return gst_pad_event_default(pad, parent, event);
}

/* Seeks with a negative rate (reverse playback) are refused here, before
 * anything upstream flushes. */
static gboolean src_event(GstPad *pad, GstObject *parent, GstEvent *event) {
  GstGammatoneSpec *self = GST_GAMMATONE_SPEC(parent);
  if (GST_EVENT_TYPE(event) == GST_EVENT_SEEK) {
    gdouble rate;
    gst_event_parse_seek(event, &rate, NULL, NULL, NULL, NULL, NULL, NULL);
    if (rate < 0.0) {
      GST_ELEMENT_WARNING(
          self, CORE, SEEK,
          ("Reverse playback is not supported: sounds are classified only "
           "as they sound forwards. The seek (rate %g) was refused; seek with "
           "a positive rate.",
           rate),
          ("%" GST_PTR_FORMAT, event));
      gst_event_unref(event);
      return FALSE;
    }
  }
  return gst_pad_event_default(pad, parent, event);
}

static GstClockTime own_latency(GstElement *element, gboolean live) {
  GstGammatoneSpec *self = GST_GAMMATONE_SPEC(element);
  (void)live;
  GST_OBJECT_LOCK(self);
  GstClockTime ours = self->latency;
  GST_OBJECT_UNLOCK(self);
  return ours;
}

static gboolean src_query(GstPad *pad, GstObject *parent, GstQuery *query) {
  GstGammatoneSpec *self = GST_GAMMATONE_SPEC(parent);
  if (GST_QUERY_TYPE(query) != GST_QUERY_LATENCY)
    return gst_pad_query_default(pad, parent, query);
  return gst_acrnn_answer_latency(GST_ELEMENT(self), self->sinkpad, query,
                                  own_latency);
}

static void free_stream(GstGammatoneSpec *self) {
  if (self->fx != NULL)
    acrnn_feature_extractor_free(self->fx);
  self->fx = NULL;
  self->samples_in = 0;
  self->need_start = TRUE;
  self->discont = FALSE;
  self->run_end = GST_CLOCK_TIME_NONE;
  gst_segment_init(&self->segment, GST_FORMAT_UNDEFINED);
  GST_OBJECT_LOCK(self);
  self->latency = GST_CLOCK_TIME_NONE;
  GST_OBJECT_UNLOCK(self);
}

/* With a fixed sample-rate the properties can be checked before any data:
 * bad ones fail the state change with a message naming them. */
static gboolean check_properties(GstGammatoneSpec *self) {
  GST_OBJECT_LOCK(self);
  int rate = self->sample_rate;
  GST_OBJECT_UNLOCK(self);
  if (rate <= 0)
    return TRUE; /* checked when the caps give the rate */
  AcrnnFeatureParams p;
  gst_gammatone_spec_params_for_rate(self, rate, &p);
  GError *error = NULL;
  if (acrnn_feature_params_validate(&p, &error))
    return TRUE;
  GST_ELEMENT_ERROR(self, LIBRARY, SETTINGS,
                    ("Invalid gammatonespec properties: %s", error->message),
                    ("sample-rate %d, bands %d, n-fft %d, hop %d, fmin %g, "
                     "fmax %g, delta-width %d, filterbank %s",
                     p.sample_rate, p.bands, p.n_fft, p.hop, p.fmin, p.fmax,
                     p.delta_width, acrnn_filterbank_to_string(p.filterbank)));
  g_error_free(error);
  return FALSE;
}

static GstStateChangeReturn change_state(GstElement *element,
                                         GstStateChange transition) {
  GstGammatoneSpec *self = GST_GAMMATONE_SPEC(element);
  if (transition == GST_STATE_CHANGE_READY_TO_PAUSED && !check_properties(self))
    return GST_STATE_CHANGE_FAILURE;
  GstStateChangeReturn ret =
      GST_ELEMENT_CLASS(parent_class)->change_state(element, transition);
  if (transition == GST_STATE_CHANGE_PAUSED_TO_READY)
    free_stream(self);
  return ret;
}

static void set_property(GObject *object, guint prop_id, const GValue *value,
                         GParamSpec *pspec) {
  GstGammatoneSpec *self = GST_GAMMATONE_SPEC(object);
  GST_OBJECT_LOCK(self);
  switch (prop_id) {
  case PROP_SAMPLE_RATE:
    self->sample_rate = g_value_get_int(value);
    break;
  case PROP_BANDS:
    self->bands = g_value_get_int(value);
    break;
  case PROP_N_FFT:
    self->n_fft = g_value_get_int(value);
    break;
  case PROP_HOP:
    self->hop = g_value_get_int(value);
    break;
  case PROP_FMIN:
    self->fmin = g_value_get_double(value);
    break;
  case PROP_FMAX:
    self->fmax = g_value_get_double(value);
    break;
  case PROP_DELTA_WIDTH:
    self->delta_width = g_value_get_int(value);
    break;
  case PROP_FILTERBANK:
    self->filterbank = (AcrnnFilterbank)g_value_get_enum(value);
    break;
  default:
    G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
    break;
  }
  GST_OBJECT_UNLOCK(self);
}

static void get_property(GObject *object, guint prop_id, GValue *value,
                         GParamSpec *pspec) {
  GstGammatoneSpec *self = GST_GAMMATONE_SPEC(object);
  GST_OBJECT_LOCK(self);
  switch (prop_id) {
  case PROP_SAMPLE_RATE:
    g_value_set_int(value, self->sample_rate);
    break;
  case PROP_BANDS:
    g_value_set_int(value, self->bands);
    break;
  case PROP_N_FFT:
    g_value_set_int(value, self->n_fft);
    break;
  case PROP_HOP:
    g_value_set_int(value, self->hop);
    break;
  case PROP_FMIN:
    g_value_set_double(value, self->fmin);
    break;
  case PROP_FMAX:
    g_value_set_double(value, self->fmax);
    break;
  case PROP_DELTA_WIDTH:
    g_value_set_int(value, self->delta_width);
    break;
  case PROP_FILTERBANK:
    g_value_set_enum(value, self->filterbank);
    break;
  default:
    G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
    break;
  }
  GST_OBJECT_UNLOCK(self);
}

static void finalize(GObject *object) {
  free_stream(GST_GAMMATONE_SPEC(object));
  G_OBJECT_CLASS(parent_class)->finalize(object);
}

/* The properties, their defaults the library's (acrnn_feature_params_init())
 * but fmax's. */
static void install_properties(GObjectClass *gobject_class) {
  GParamFlags flags =
      G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY;
  AcrnnFeatureParams d;
  acrnn_feature_params_init(&d);

  g_object_class_install_property(
      gobject_class, PROP_SAMPLE_RATE,
      g_param_spec_int("sample-rate", "Sample rate",
                       "Sample rate in Hz the sink pad asks for (put "
                       "audioresample before this element); 0 accepts any "
                       "rate from 1000 to 384000 Hz",
                       0, 384000, d.sample_rate, flags));
  g_object_class_install_property(
      gobject_class, PROP_BANDS,
      g_param_spec_int("bands", "Bands",
                       "Number of gammatone bands (a frame has 2*bands "
                       "values: logs then deltas)",
                       1, 1024, d.bands, flags));
  g_object_class_install_property(
      gobject_class, PROP_N_FFT,
      g_param_spec_int("n-fft", "Window",
                       "Analysis window (FFT) length in samples, a power of "
                       "two",
                       16, 65536, d.n_fft, flags));
  g_object_class_install_property(
      gobject_class, PROP_HOP,
      g_param_spec_int("hop", "Hop",
                       "Samples between the starts of two frames (at most "
                       "n-fft)",
                       1, 65536, d.hop, flags));
  g_object_class_install_property(
      gobject_class, PROP_FMIN,
      g_param_spec_double("fmin", "Lowest frequency",
                          "Centre frequency of the lowest band in Hz (mel: its "
                          "lower edge)",
                          1.0, 192000.0, d.fmin, flags));
  g_object_class_install_property(
      gobject_class, PROP_FMAX,
      g_param_spec_double("fmax", "Highest frequency",
                          "Centre frequency of the highest band in Hz (mel: "
                          "its upper edge; 0 = half the sample rate)",
                          0.0, 192000.0, DEFAULT_FMAX, flags));
  g_object_class_install_property(
      gobject_class, PROP_DELTA_WIDTH,
      g_param_spec_int("delta-width", "Delta width",
                       "Width in frames of the delta regression window (odd)",
                       3, 1025, d.delta_width, flags));
  g_object_class_install_property(
      gobject_class, PROP_FILTERBANK,
      g_param_spec_enum("filterbank", "Filterbank",
                        "Filterbank applied to the power spectrum: gammatone "
                        "(the paper's log-gammatone features) or mel (log-mel, "
                        "the paper's baseline input); a model expects the one "
                        "it was trained on",
                        GST_TYPE_ACRNN_FILTERBANK, d.filterbank, flags));
  gst_type_mark_as_plugin_api(GST_TYPE_ACRNN_FILTERBANK, 0);
}

static void gst_gammatone_spec_class_init(GstGammatoneSpecClass *klass) {
  GObjectClass *gobject_class = G_OBJECT_CLASS(klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS(klass);

  gobject_class->set_property = set_property;
  gobject_class->get_property = get_property;
  gobject_class->finalize = finalize;
  install_properties(gobject_class);

  gst_element_class_add_static_pad_template(element_class, &sink_template);
  gst_element_class_add_static_pad_template(element_class, &src_template);
  gst_element_class_set_static_metadata(
      element_class, "Log-gammatone spectrogram", "Filter/Analyzer/Audio",
      "Computes log-gammatone band energies and their deltas from mono float "
      "audio: frames of n-fft samples every hop samples, Hamming window, "
      "power spectrum weighted by 4th-order gammatone responses on the ERB "
      "scale (filterbank=mel: triangular mel filters). Each output buffer "
      "holds whole frames of 2*bands float32 "
      "values (bands logs, then bands deltas), timestamped with the time of "
      "its first frame's first sample. Example: gst-launch-1.0 filesrc "
      "location=dog.wav ! decodebin ! audioconvert ! audioresample ! "
      "gammatonespec ! filesink location=dog.f32",
      "acrnn developers");

  element_class->change_state = GST_DEBUG_FUNCPTR(change_state);

  GST_DEBUG_CATEGORY_INIT(gst_gammatone_spec_debug, "gammatonespec", 0,
                          "log-gammatone feature extraction");
}

static void gst_gammatone_spec_init(GstGammatoneSpec *self) {
  self->sinkpad = gst_pad_new_from_static_template(&sink_template, "sink");
  gst_pad_set_chain_function(self->sinkpad,
                             GST_DEBUG_FUNCPTR(gst_gammatone_spec_chain));
  gst_pad_set_event_function(self->sinkpad, GST_DEBUG_FUNCPTR(sink_event));
  gst_pad_set_query_function(self->sinkpad,
                             GST_DEBUG_FUNCPTR(gst_gammatone_spec_sink_query));
  gst_element_add_pad(GST_ELEMENT(self), self->sinkpad);

  self->srcpad = gst_pad_new_from_static_template(&src_template, "src");
  gst_pad_set_query_function(self->srcpad, GST_DEBUG_FUNCPTR(src_query));
  gst_pad_set_event_function(self->srcpad, GST_DEBUG_FUNCPTR(src_event));
  gst_pad_use_fixed_caps(self->srcpad);
  gst_element_add_pad(GST_ELEMENT(self), self->srcpad);

  AcrnnFeatureParams d;
  acrnn_feature_params_init(&d);
  self->sample_rate = d.sample_rate;
  self->bands = d.bands;
  self->n_fft = d.n_fft;
  self->hop = d.hop;
  self->fmin = d.fmin;
  self->fmax = DEFAULT_FMAX;
  self->delta_width = d.delta_width;
  self->filterbank = d.filterbank;
  self->need_start = TRUE;
  self->run_end = GST_CLOCK_TIME_NONE;
  self->latency = GST_CLOCK_TIME_NONE;
  gst_segment_init(&self->segment, GST_FORMAT_UNDEFINED);
}
