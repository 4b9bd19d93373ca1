/**
 * SECTION:element-soundanalyzer
 * @title: soundanalyzer
 * @short_description: passes audio through and classifies a copy of it
 *
 * soundanalyzer passes raw audio through unchanged, as level and spectrum
 * do, and classifies a copy with soundclassifier in a thread of its own,
 * posting the same "acrnn" element messages: one per segment, then one with
 * final=TRUE before EOS. It fits in an audio chain or in playbin's
 * audio-filter, and adds no latency to the audio.
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 -m playbin uri=file:///tmp/dog.ogg audio-filter=soundanalyzer
 * gst-launch-1.0 -m autoaudiosrc ! soundanalyzer ! autoaudiosink
 * ]|
 */

/* soundanalyzer.c - the soundanalyzer bin: passes the audio through
 * unchanged, as level and spectrum do, and classifies a copy of it:
 *
 *   sink -> tee -> src                                   (the audio, as is)
 *            \--> queue ! soundclassifier ! fakesink     (the acrnn messages)
 *
 * so that it can sit in an audio chain or in playbin's audio-filter. The
 * audio path adds no latency; the classifier runs in the queue's thread.
 *
 * The bin holds a sink (the fakesink), so a pipeline waits for it at EOS:
 * the final "acrnn" message is on the bus before the pipeline's EOS. A
 * pipeline sends a seek to every sink, this bin included, so the same seek
 * comes several times: through the src pad from the sink downstream, from
 * GstBin to the src pad and to the inner fakesink. The inner copy is
 * dropped before the tee, and the src pad passes a seek upstream once (a
 * seek with the seqnum of the last one gets its result again), so the
 * source sees it once. A seek with a negative rate is refused at the src
 * pad, as gammatonespec refuses it on the classifier's path. The properties
 * are soundclassifier's (model, top-k, threshold, batch, ...); batch=0
 * gives batches of 1 while the audio is played (its sink syncs to the
 * clock), 16 when it runs as fast as it can (auto-batch.h). */
#include "soundanalyzer.h"
#include "bin-children.h"
#include "property-proxy.h"
#include "soundclassifier.h"

GST_DEBUG_CATEGORY_STATIC(gst_sound_analyzer_debug);
#define GST_CAT_DEFAULT gst_sound_analyzer_debug

struct _GstSoundAnalyzer {
  GstBin parent;
  GstElement *tee, *queue, *classifier, *sink;
  GstPad *srcpad;
  const char *missing; /* factory that could not be made, or NULL */
  guint32 seek_seqnum; /* of the last seek passed upstream (object lock) */
  gboolean seek_result;
};

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE(
    "sink", GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS("audio/x-raw"));

static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE(
    "src", GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS("audio/x-raw"));

#define gst_sound_analyzer_parent_class parent_class
G_DEFINE_TYPE(GstSoundAnalyzer, gst_sound_analyzer, GST_TYPE_BIN);
GST_ELEMENT_REGISTER_DEFINE(soundanalyzer, "soundanalyzer", GST_RANK_NONE,
                            GST_TYPE_SOUND_ANALYZER);

static GstStateChangeReturn change_state(GstElement *element,
                                         GstStateChange transition) {
  GstSoundAnalyzer *self = GST_SOUND_ANALYZER(element);
  if (transition == GST_STATE_CHANGE_NULL_TO_READY &&
      !gst_acrnn_bin_check_children(element, self->missing))
    return GST_STATE_CHANGE_FAILURE;
  return GST_ELEMENT_CLASS(parent_class)->change_state(element, transition);
}

/* Seeks from downstream of the audio path: reverse playback is refused,
 * and a seek already passed upstream is not passed again. */
static gboolean src_event(GstPad *pad, GstObject *parent, GstEvent *event) {
  GstSoundAnalyzer *self = GST_SOUND_ANALYZER(parent);
  if (GST_EVENT_TYPE(event) == GST_EVENT_SEEK) {
    gdouble rate;
    gst_event_parse_seek(event, &rate, NULL, NULL, NULL, NULL, NULL, NULL);
    guint32 seqnum = gst_event_get_seqnum(event);
    GST_OBJECT_LOCK(self);
    gboolean again = seqnum == self->seek_seqnum;
    gboolean result = self->seek_result;
    GST_OBJECT_UNLOCK(self);
    if (again) {
      GST_DEBUG_OBJECT(self, "seek %u already handled", seqnum);
      gst_event_unref(event);
      return result;
    }
    if (rate < 0.0) {
      GST_ELEMENT_WARNING(
          parent, CORE, SEEK,
          ("Reverse playback is not supported: sounds are classified only "
           "as they sound forwards. The seek (rate %g) was refused; seek with "
           "a positive rate.",
           rate),
          ("%" GST_PTR_FORMAT, event));
      gst_event_unref(event);
      result = FALSE;
    } else {
      result = gst_pad_event_default(pad, parent, event);
    }
    GST_OBJECT_LOCK(self);
    self->seek_seqnum = seqnum;
    self->seek_result = result;
    GST_OBJECT_UNLOCK(self);
    return result;
  }
  return gst_pad_event_default(pad, parent, event);
}

/* The seek the pipeline sends to the inner fakesink: the same one comes
 * through the src pad, so this copy stops here (a forward seek: it has
 * passed gammatonespec, which refuses the others). */
static GstPadProbeReturn drop_inner_seek(GstPad *pad, GstPadProbeInfo *info,
                                         gpointer user_data) {
  GstEvent *event = GST_PAD_PROBE_INFO_EVENT(info);
  if (GST_EVENT_TYPE(event) != GST_EVENT_SEEK)
    return GST_PAD_PROBE_OK;
  GST_DEBUG_OBJECT(pad, "classifier's copy of the seek dropped");
  return GST_PAD_PROBE_DROP;
}

static void set_property(GObject *object, guint prop_id, const GValue *value,
                         GParamSpec *pspec) {
  GstSoundAnalyzer *self = GST_SOUND_ANALYZER(object);
  if (self->classifier != NULL)
    g_object_set_property(G_OBJECT(self->classifier), pspec->name, value);
}

static void get_property(GObject *object, guint prop_id, GValue *value,
                         GParamSpec *pspec) {
  GstSoundAnalyzer *self = GST_SOUND_ANALYZER(object);
  if (self->classifier != NULL)
    g_object_get_property(G_OBJECT(self->classifier), pspec->name, value);
}

static void gst_sound_analyzer_class_init(GstSoundAnalyzerClass *klass) {
  GObjectClass *gobject_class = G_OBJECT_CLASS(klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS(klass);

  gobject_class->set_property = set_property;
  gobject_class->get_property = get_property;

  /* soundclassifier's properties */
  GObjectClass *bin_class = g_type_class_ref(GST_TYPE_SOUND_CLASSIFIER);
  guint n = 0, id = 1;
  GParamSpec **specs = g_object_class_list_properties(bin_class, &n);
  for (guint i = 0; i < n; i++) {
    if (specs[i]->owner_type != GST_TYPE_SOUND_CLASSIFIER)
      continue;
    GParamSpec *copy = gst_acrnn_param_spec_copy(specs[i]);
    g_assert(copy != NULL);
    g_object_class_install_property(gobject_class, id++, copy);
  }
  g_free(specs);
  g_type_class_unref(bin_class);

  gst_element_class_add_static_pad_template(element_class, &sink_template);
  gst_element_class_add_static_pad_template(element_class, &src_template);
  gst_element_class_set_static_metadata(
      element_class, "ACRNN sound analyzer", "Filter/Analyzer/Audio",
      "Passes raw audio through unchanged (like level and spectrum) and "
      "classifies a copy of it with an ACRNN model, posting the same "
      "\"acrnn\" element messages as soundclassifier: one per segment, then "
      "one with final=true before EOS (and, with events=true, its "
      "\"acrnn-event\" messages). The audio path adds no latency; the "
      "classification runs in a thread of its own. Examples: gst-launch-1.0 "
      "-m playbin uri=file:///tmp/dog.ogg audio-filter=soundanalyzer; "
      "gst-launch-1.0 -m autoaudiosrc ! soundanalyzer ! autoaudiosink",
      "acrnn developers");

  element_class->change_state = GST_DEBUG_FUNCPTR(change_state);

  GST_DEBUG_CATEGORY_INIT(gst_sound_analyzer_debug, "soundanalyzer", 0,
                          "ACRNN sound analyzer bin (audio passed through)");
}

static GstElement *make(GstSoundAnalyzer *self, const char *factory) {
  return gst_acrnn_bin_add_new(GST_BIN(self), factory, &self->missing);
}

static GstPad *add_ghost(GstSoundAnalyzer *self, GstPad *target,
                         GstStaticPadTemplate *templ) {
  GstPadTemplate *t = gst_static_pad_template_get(templ);
  GstPad *ghost =
      target != NULL
          ? gst_ghost_pad_new_from_template(templ->name_template, target, t)
          : gst_ghost_pad_new_no_target_from_template(templ->name_template, t);
  gst_object_unref(t);
  gst_element_add_pad(GST_ELEMENT(self), ghost);
  return ghost;
}

static void gst_sound_analyzer_init(GstSoundAnalyzer *self) {
  self->seek_seqnum = GST_SEQNUM_INVALID;
  self->tee = make(self, "tee");
  self->queue = make(self, "queue");
  self->classifier = make(self, "soundclassifier");
  self->sink = make(self, "fakesink");
  GstPad *tee_sink = NULL, *tee_audio = NULL;
  if (self->missing == NULL) {
    /* the messages are the output: no clock, no preroll, no last sample */
    g_object_set(self->sink, "sync", FALSE, "async", FALSE,
                 "enable-last-sample", FALSE, NULL);
    tee_sink = gst_element_get_static_pad(self->tee, "sink");
    tee_audio = gst_element_request_pad_simple(self->tee, "src_%u");
    GstPad *tee_copy = gst_element_request_pad_simple(self->tee, "src_%u");
    GstPad *queue_sink = gst_element_get_static_pad(self->queue, "sink");
    gst_pad_link(tee_copy, queue_sink);
    gst_pad_add_probe(queue_sink, GST_PAD_PROBE_TYPE_EVENT_UPSTREAM,
                      drop_inner_seek, NULL, NULL);
    gst_object_unref(queue_sink);
    gst_object_unref(tee_copy);
    gst_element_link_many(self->queue, self->classifier, self->sink, NULL);
  }
  add_ghost(self, tee_sink, &sink_template);
  self->srcpad = add_ghost(self, tee_audio, &src_template);
  gst_pad_set_event_function(self->srcpad, GST_DEBUG_FUNCPTR(src_event));
  if (tee_sink != NULL)
    gst_object_unref(tee_sink);
  if (tee_audio != NULL)
    gst_object_unref(tee_audio);
}
