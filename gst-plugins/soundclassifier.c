/**
 * SECTION:element-soundclassifier
 * @title: soundclassifier
 * @short_description: classifies any raw audio with an ACRNN model
 *
 * soundclassifier is audioconvert ! audioresample ! gammatonespec !
 * acrnnclassify in one bin, its feature parameters (sample rate, bands,
 * filterbank, ...) taken from the model. It has acrnnclassify's properties
 * and posts its "acrnn" messages again with itself as their source, so an
 * application tells two classifiers apart by their names. The src pad
 * gives the labels as text.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 -m uridecodebin uri=file:///tmp/dog.ogg ! \
 *     soundclassifier ! fakesink
 * ]|
 */

/* soundclassifier.c - the soundclassifier bin. Its children are
 * audioconvert ! audioresample ! capsfilter ! gammatonespec ! acrnnclassify;
 * once acrnnclassify has loaded its model (NULL to READY), the capsfilter
 * asks for mono F32 at the model's rate and gammatonespec gets the model's
 * feature parameters. The classifier's properties are proxied, and its
 * "acrnn" and "acrnn-event" messages are posted again with the bin as their
 * source, so that an application tells two classifiers apart by the name it
 * gave them. */
#include "soundclassifier.h"
#include "acrnnclassify.h"
#include "bin-children.h"
#include "property-proxy.h"

#include <gst/audio/audio.h>

GST_DEBUG_CATEGORY_STATIC(gst_sound_classifier_debug);
#define GST_CAT_DEFAULT gst_sound_classifier_debug

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

struct _GstSoundClassifier {
  GstBin parent;
  GstElement *convert, *resample, *filter, *spec, *classify;
  const char *missing; /* factory that could not be made, or NULL */
};

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE(
    "sink", GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS("audio/x-raw"));

static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE(
    "src", GST_PAD_SRC, GST_PAD_ALWAYS,
    GST_STATIC_CAPS("text/x-raw, format = (string) utf8"));

#define gst_sound_classifier_parent_class parent_class
G_DEFINE_TYPE(GstSoundClassifier, gst_sound_classifier, GST_TYPE_BIN);
GST_ELEMENT_REGISTER_DEFINE(soundclassifier, "soundclassifier", GST_RANK_NONE,
                            GST_TYPE_SOUND_CLASSIFIER);

/* Sets the capsfilter and gammatonespec from the loaded model. */
static void configure_from_model(GstSoundClassifier *self) {
  AcrnnFeatureParams p;
  if (!gst_acrnn_classify_get_feature_params(GST_ACRNN_CLASSIFY(self->classify),
                                             &p))
    return;
  GstCaps *caps = gst_caps_new_simple("audio/x-raw", "format", G_TYPE_STRING,
                                      GST_AUDIO_NE(F32), "channels", G_TYPE_INT,
                                      1, "layout", G_TYPE_STRING, "interleaved",
                                      "rate", G_TYPE_INT, p.sample_rate, NULL);
  g_object_set(self->filter, "caps", caps, NULL);
  gst_caps_unref(caps);
  g_object_set(self->spec, "sample-rate", p.sample_rate, "bands", p.bands,
               "n-fft", p.n_fft, "hop", p.hop, "fmin", p.fmin, "fmax", p.fmax,
               "delta-width", p.delta_width, "filterbank", p.filterbank, NULL);
  GST_DEBUG_OBJECT(self, "configured for %d Hz, %d bands", p.sample_rate,
                   p.bands);
}

static GstStateChangeReturn change_state(GstElement *element,
                                         GstStateChange transition) {
  GstSoundClassifier *self = GST_SOUND_CLASSIFIER(element);
  if (transition == GST_STATE_CHANGE_NULL_TO_READY &&
      !gst_acrnn_bin_check_children(element, self->missing))
    return GST_STATE_CHANGE_FAILURE;
  if (transition == GST_STATE_CHANGE_READY_TO_PAUSED &&
      self->classify != NULL) {
    /* a model set in READY: configured before the source starts */
    if (!gst_acrnn_classify_update_model(GST_ACRNN_CLASSIFY(self->classify)))
      return GST_STATE_CHANGE_FAILURE;
    configure_from_model(self);
  }
  GstStateChangeReturn ret =
      GST_ELEMENT_CLASS(parent_class)->change_state(element, transition);
  if (ret != GST_STATE_CHANGE_FAILURE &&
      transition == GST_STATE_CHANGE_NULL_TO_READY)
    configure_from_model(self);
  return ret;
}

/* The classifier's result messages come from the bin: the element the user
 * placed and named. */
static void handle_message(GstBin *bin, GstMessage *message) {
  GstSoundClassifier *self = GST_SOUND_CLASSIFIER(bin);
  if (GST_MESSAGE_TYPE(message) == GST_MESSAGE_ELEMENT &&
      self->classify != NULL &&
      GST_MESSAGE_SRC(message) == GST_OBJECT(self->classify)) {
    const GstStructure *s = gst_message_get_structure(message);
    if (gst_structure_has_name(s, "acrnn") ||
        gst_structure_has_name(s, "acrnn-event")) {
      GstMessage *own =
          gst_message_new_element(GST_OBJECT(self), gst_structure_copy(s));
      gst_message_set_seqnum(own, gst_message_get_seqnum(message));
      gst_message_unref(message);
      message = own;
    }
  }
  GST_BIN_CLASS(parent_class)->handle_message(bin, message);
}

static void set_property(GObject *object, guint prop_id, const GValue *value,
                         GParamSpec *pspec) {
  GstSoundClassifier *self = GST_SOUND_CLASSIFIER(object);
  if (self->classify == NULL)
    return;
  g_object_set_property(G_OBJECT(self->classify), pspec->name, value);
}

static void get_property(GObject *object, guint prop_id, GValue *value,
                         GParamSpec *pspec) {
  GstSoundClassifier *self = GST_SOUND_CLASSIFIER(object);
  if (self->classify == NULL)
    return;
  g_object_get_property(G_OBJECT(self->classify), pspec->name, value);
}

/* Installs on klass a copy of acrnnclassify's property name. */
static void proxy_property(GObjectClass *klass, GObjectClass *classify_class,
                           guint id, const char *name) {
  GParamSpec *src = g_object_class_find_property(classify_class, name);
  g_assert(src != NULL);
  GParamSpec *copy = gst_acrnn_param_spec_copy(src);
  g_assert(copy != NULL);
  g_object_class_install_property(klass, id, copy);
}

static void gst_sound_classifier_class_init(GstSoundClassifierClass *klass) {
  GObjectClass *gobject_class = G_OBJECT_CLASS(klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS(klass);
  GstBinClass *bin_class = GST_BIN_CLASS(klass);

  gobject_class->set_property = set_property;
  gobject_class->get_property = get_property;

  GObjectClass *cc = g_type_class_ref(GST_TYPE_ACRNN_CLASSIFY);
  proxy_property(gobject_class, cc, PROP_MODEL, "model");
  proxy_property(gobject_class, cc, PROP_TOP_K, "top-k");
  proxy_property(gobject_class, cc, PROP_THRESHOLD, "threshold");
  proxy_property(gobject_class, cc, PROP_POST_MESSAGES, "post-messages");
  proxy_property(gobject_class, cc, PROP_BATCH, "batch");
  proxy_property(gobject_class, cc, PROP_THREADS, "threads");
  proxy_property(gobject_class, cc, PROP_SILENCE_THRESHOLD,
                 "silence-threshold");
  proxy_property(gobject_class, cc, PROP_PRECISION, "precision");
  proxy_property(gobject_class, cc, PROP_LABELS, "labels");
  proxy_property(gobject_class, cc, PROP_CURRENT_BATCH, "current-batch");
  proxy_property(gobject_class, cc, PROP_SEGMENT_HOP, "segment-hop");
  proxy_property(gobject_class, cc, PROP_EVENTS, "events");
  proxy_property(gobject_class, cc, PROP_EVENT_ON, "event-on");
  proxy_property(gobject_class, cc, PROP_EVENT_OFF, "event-off");
  proxy_property(gobject_class, cc, PROP_EVENT_MIN_DURATION,
                 "event-min-duration");
  g_type_class_unref(cc);

  gst_element_class_add_static_pad_template(element_class, &sink_template);
  gst_element_class_add_static_pad_template(element_class, &src_template);
  gst_element_class_set_static_metadata(
      element_class, "ACRNN sound classifier bin", "Filter/Analyzer/Audio",
      "Classifies any raw audio with an ACRNN model: converts it to mono "
      "float at the model's sample rate, computes the model's log-gammatone "
      "features (gammatonespec) and classifies them (acrnnclassify, whose "
      "properties and \"acrnn\" and \"acrnn-event\" bus messages it "
      "shares; the messages come "
      "from the bin itself, so their source is the name given to "
      "soundclassifier). The src pad gives the labels as text. Example: "
      "gst-launch-1.0 -m uridecodebin "
      "uri=file:///tmp/dog.ogg ! soundclassifier ! fakesink",
      "acrnn developers");

  element_class->change_state = GST_DEBUG_FUNCPTR(change_state);
  bin_class->handle_message = GST_DEBUG_FUNCPTR(handle_message);

  GST_DEBUG_CATEGORY_INIT(gst_sound_classifier_debug, "soundclassifier", 0,
                          "ACRNN sound classifier bin");
}

static GstElement *make(GstSoundClassifier *self, const char *factory) {
  return gst_acrnn_bin_add_new(GST_BIN(self), factory, &self->missing);
}

static void add_ghost(GstSoundClassifier *self, GstElement *target,
                      const char *target_pad, GstStaticPadTemplate *templ) {
  GstPadTemplate *t = gst_static_pad_template_get(templ);
  GstPad *ghost;
  if (target != NULL) {
    GstPad *pad = gst_element_get_static_pad(target, target_pad);
    ghost = gst_ghost_pad_new_from_template(templ->name_template, pad, t);
    gst_object_unref(pad);
  } else {
    ghost = gst_ghost_pad_new_no_target_from_template(templ->name_template, t);
  }
  gst_object_unref(t);
  gst_element_add_pad(GST_ELEMENT(self), ghost);
}

static void gst_sound_classifier_init(GstSoundClassifier *self) {
  self->convert = make(self, "audioconvert");
  self->resample = make(self, "audioresample");
  self->filter = make(self, "capsfilter");
  self->spec = make(self, "gammatonespec");
  self->classify = make(self, "acrnnclassify");
  if (self->missing == NULL)
    gst_element_link_many(self->convert, self->resample, self->filter,
                          self->spec, self->classify, NULL);
  add_ghost(self, self->convert, "sink", &sink_template);
  add_ghost(self, self->classify, "src", &src_template);
}
