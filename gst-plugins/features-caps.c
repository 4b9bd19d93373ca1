/* features-caps.c - conversion between AcrnnFeatureParams and the
 * audio/x-acrnn-features caps. */
#include "features-caps.h"

GType gst_acrnn_filterbank_get_type(void) {
  static GType type = 0;
  static const GEnumValue values[] = {
      {ACRNN_FILTERBANK_GAMMATONE,
       "4th-order gammatone responses on the ERB scale (the paper's Log-GTs)",
       "gammatone"},
      {ACRNN_FILTERBANK_MEL,
       "Triangular filters on the Slaney mel scale, area-normalised "
       "(librosa's default log-mel)",
       "mel"},
      {0, NULL, NULL},
  };
  if (g_once_init_enter(&type))
    g_once_init_leave(&type,
                      g_enum_register_static("GstAcrnnFilterbank", values));
  return type;
}

GstCaps *gst_acrnn_features_caps_build(const AcrnnFeatureParams *p,
                                       GstAcrnnFeaturesFields fields) {
  GstStructure *s =
      gst_structure_new(ACRNN_FEATURES_MEDIA_TYPE, "format", G_TYPE_STRING,
                        GST_AUDIO_NE(F32), "bands", G_TYPE_INT, p->bands, NULL);
  if (fields & GST_ACRNN_FEATURES_FRAME_RATE)
    gst_structure_set(s, "frame-rate", GST_TYPE_FRACTION, p->sample_rate,
                      p->hop, NULL);
  if (fields & GST_ACRNN_FEATURES_SAMPLE_RATE)
    gst_structure_set(s, "sample-rate", G_TYPE_INT, p->sample_rate, NULL);
  gst_structure_set(s, "n-fft", G_TYPE_INT, p->n_fft, "hop", G_TYPE_INT, p->hop,
                    NULL);
  if (fields & GST_ACRNN_FEATURES_FMIN)
    gst_structure_set(s, "fmin", G_TYPE_DOUBLE, p->fmin, NULL);
  if (fields & GST_ACRNN_FEATURES_FMAX)
    gst_structure_set(s, "fmax", G_TYPE_DOUBLE, p->fmax, NULL);
  gst_structure_set(s, "delta-width", G_TYPE_INT, p->delta_width, NULL);
  if (fields & GST_ACRNN_FEATURES_FILTERBANK)
    gst_structure_set(s, "filterbank", G_TYPE_STRING,
                      acrnn_filterbank_to_string(p->filterbank), NULL);
  return gst_caps_new_full(s, NULL);
}

GstCaps *gst_acrnn_features_caps_new(const AcrnnFeatureParams *p) {
  return gst_acrnn_features_caps_build(p, GST_ACRNN_FEATURES_ALL);
}

gboolean gst_acrnn_features_caps_parse(const GstCaps *caps,
                                       AcrnnFeatureParams *p) {
  if (caps == NULL || gst_caps_get_size(caps) < 1)
    return FALSE;
  const GstStructure *s = gst_caps_get_structure(caps, 0);
  if (!gst_structure_has_name(s, ACRNN_FEATURES_MEDIA_TYPE))
    return FALSE;
  acrnn_feature_params_init(p);
  const char *fb = gst_structure_get_string(s, "filterbank");
  if (fb != NULL && !acrnn_filterbank_parse(fb, &p->filterbank, NULL))
    return FALSE;
  return gst_structure_get_int(s, "bands", &p->bands) &&
         gst_structure_get_int(s, "sample-rate", &p->sample_rate) &&
         gst_structure_get_int(s, "n-fft", &p->n_fft) &&
         gst_structure_get_int(s, "hop", &p->hop) &&
         gst_structure_get_double(s, "fmin", &p->fmin) &&
         gst_structure_get_double(s, "fmax", &p->fmax) &&
         gst_structure_get_int(s, "delta-width", &p->delta_width);
}

gboolean gst_acrnn_answer_caps_query(GstQuery *query, GstCaps *caps) {
  GstCaps *filter;
  gst_query_parse_caps(query, &filter);
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
