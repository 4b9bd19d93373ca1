/* gammatonespec-caps.c - gammatonespec's caps: a new input format (a new
 * extractor, the output caps) and the rates the sink pad accepts. */
#include "features-caps.h"
#include "gammatonespec-private.h"

#include <gst/audio/audio.h>

static gboolean params_equal(const AcrnnFeatureParams *a,
                             const AcrnnFeatureParams *b) {
  return a->sample_rate == b->sample_rate && a->n_fft == b->n_fft &&
         a->hop == b->hop && a->bands == b->bands && a->fmin == b->fmin &&
         a->fmax == b->fmax && a->delta_width == b->delta_width &&
         a->filterbank == b->filterbank;
}

/* The feature parameters the properties give at rate. */
void gst_gammatone_spec_params_for_rate(GstGammatoneSpec *self, int rate,
                                        AcrnnFeatureParams *p) {
  acrnn_feature_params_init(p);
  GST_OBJECT_LOCK(self);
  p->sample_rate = rate;
  p->bands = self->bands;
  p->n_fft = self->n_fft;
  p->hop = self->hop;
  p->fmin = self->fmin;
  p->fmax = self->fmax > 0.0 ? self->fmax : rate / 2.0;
  p->delta_width = self->delta_width;
  p->filterbank = self->filterbank;
  GST_OBJECT_UNLOCK(self);
}

gboolean gst_gammatone_spec_set_caps(GstGammatoneSpec *self, GstCaps *caps) {
  GstAudioInfo info;
  if (!gst_audio_info_from_caps(&info, caps)) {
    GST_ELEMENT_ERROR(
        self, CORE, NEGOTIATION, (NULL),
        ("could not parse the input caps %" GST_PTR_FORMAT, caps));
    return FALSE;
  }
  AcrnnFeatureParams p;
  gst_gammatone_spec_params_for_rate(self, GST_AUDIO_INFO_RATE(&info), &p);
  if (self->fx != NULL && params_equal(&p, &self->params))
    return TRUE;

  GError *error = NULL;
  AcrnnFeatureExtractor *fx = acrnn_feature_extractor_new(&p, &error);
  if (fx == NULL) {
    GST_ELEMENT_ERROR(self, LIBRARY, SETTINGS,
                      ("Invalid gammatonespec properties for %d Hz audio: %s",
                       p.sample_rate, error->message),
                      ("input caps %" GST_PTR_FORMAT, caps));
    g_error_free(error);
    return FALSE;
  }
  if (self->fx != NULL) {
    GST_DEBUG_OBJECT(self, "new input format: ending the run");
    gst_gammatone_spec_drain(self);
    acrnn_feature_extractor_free(self->fx);
  }
  self->fx = fx;
  self->params = p;
  gst_gammatone_spec_reset_run(self);
  GST_OBJECT_LOCK(self);
  self->latency = gst_util_uint64_scale_int(
      acrnn_feature_extractor_latency_samples(fx), GST_SECOND, p.sample_rate);
  GST_OBJECT_UNLOCK(self);

  GstCaps *out = gst_acrnn_features_caps_new(&p);
  gboolean ok = gst_pad_set_caps(self->srcpad, out);
  gst_caps_unref(out);
  return ok;
}

/* The feature caps the properties allow downstream, the sample rate (and
 * with it fmax = 0) left open when rate is 0. */
static GstCaps *output_filter(GstGammatoneSpec *self, int rate) {
  AcrnnFeatureParams p;
  acrnn_feature_params_init(&p);
  GST_OBJECT_LOCK(self);
  p.bands = self->bands;
  p.n_fft = self->n_fft;
  p.hop = self->hop;
  p.fmin = self->fmin;
  p.fmax = self->fmax;
  p.delta_width = self->delta_width;
  p.filterbank = self->filterbank;
  GST_OBJECT_UNLOCK(self);
  GstAcrnnFeaturesFields fields =
      GST_ACRNN_FEATURES_FMIN | GST_ACRNN_FEATURES_FILTERBANK;
  if (rate > 0) {
    p.sample_rate = rate;
    fields |= GST_ACRNN_FEATURES_SAMPLE_RATE;
    if (p.fmax <= 0.0)
      p.fmax = rate / 2.0;
  }
  if (p.fmax > 0.0)
    fields |= GST_ACRNN_FEATURES_FMAX;
  return gst_acrnn_features_caps_build(&p, fields);
}

/* The input rates downstream accepts, as audio caps in its order of
 * preference; NULL when downstream does not restrict them. */
static GstCaps *downstream_rates(GstGammatoneSpec *self, int rate) {
  GstCaps *filter = output_filter(self, rate);
  GstCaps *peer = gst_pad_peer_query_caps(self->srcpad, filter);
  GST_LOG_OBJECT(self,
                 "downstream accepts %" GST_PTR_FORMAT " of %" GST_PTR_FORMAT,
                 peer, filter);
  gst_caps_unref(filter);
  if (peer == NULL || gst_caps_is_any(peer)) {
    if (peer != NULL)
      gst_caps_unref(peer);
    return NULL;
  }
  GstCaps *rates = gst_caps_new_empty();
  for (guint i = 0; i < gst_caps_get_size(peer); i++) {
    const GValue *v =
        gst_structure_get_value(gst_caps_get_structure(peer, i), "sample-rate");
    GstStructure *s = gst_structure_new_empty("audio/x-raw");
    if (v != NULL)
      gst_structure_set_value(s, "rate", v);
    rates = gst_caps_merge_structure(rates, s);
  }
  gst_caps_unref(peer);
  return rates;
}

/* The sink accepts the rates of the template, or the one the sample-rate
 * property fixes, that downstream accepts. */
gboolean gst_gammatone_spec_sink_query(GstPad *pad, GstObject *parent,
                                       GstQuery *query) {
  GstGammatoneSpec *self = GST_GAMMATONE_SPEC(parent);
  if (GST_QUERY_TYPE(query) != GST_QUERY_CAPS)
    return gst_pad_query_default(pad, parent, query);
  GstCaps *caps = gst_pad_get_pad_template_caps(pad);
  GST_OBJECT_LOCK(self);
  int rate = self->sample_rate;
  GST_OBJECT_UNLOCK(self);
  if (rate > 0) {
    caps = gst_caps_make_writable(caps);
    gst_caps_set_simple(caps, "rate", G_TYPE_INT, rate, NULL);
  }
  GstCaps *rates = downstream_rates(self, rate);
  if (rates != NULL) {
    GstCaps *tmp =
        gst_caps_intersect_full(rates, caps, GST_CAPS_INTERSECT_FIRST);
    gst_caps_unref(caps);
    gst_caps_unref(rates);
    caps = tmp;
    GST_LOG_OBJECT(self, "with downstream: %" GST_PTR_FORMAT, caps);
  }
  return gst_acrnn_answer_caps_query(query, caps);
}
