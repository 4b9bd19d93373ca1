/* features-caps.h - the caps of the log-gammatone (or log-mel) feature
 * stream that gammatonespec produces and acrnnclassify consumes.
 *
 * audio/x-acrnn-features: each buffer holds whole frames of 2*bands native
 * endian float32 values (the bands log values, then the bands deltas). The
 * fields carry the feature parameters (see acrnn/features.h) and frame-rate =
 * sample-rate/hop frames per second. gammatonespec adds filterbank =
 * (string) { gammatone, mel }; it is left out of the template so that caps
 * written without it (raw feature files read back) still fit: caps without
 * it are gammatone features.
 */
#ifndef GST_ACRNN_FEATURES_CAPS_H
#define GST_ACRNN_FEATURES_CAPS_H

#include <acrnn/features.h>
#include <gst/audio/audio.h>
#include <gst/gst.h>

G_BEGIN_DECLS

#define ACRNN_FEATURES_MEDIA_TYPE "audio/x-acrnn-features"

#define ACRNN_FEATURES_CAPS                                                    \
  ACRNN_FEATURES_MEDIA_TYPE ", "                                               \
                            "format = (string) " GST_AUDIO_NE(                 \
                                F32) ", "                                      \
                                     "bands = (int) [ 1, 1024 ], "             \
                                     "frame-rate = (fraction) [ 0/1, MAX ], "  \
                                     "sample-rate = (int) [ 1000, 384000 ], "  \
                                     "n-fft = (int) [ 16, 65536 ], "           \
                                     "hop = (int) [ 1, 65536 ], "              \
                                     "fmin = (double) [ 0.0, 192000.0 ], "     \
                                     "fmax = (double) [ 0.0, 192000.0 ], "     \
                                     "delta-width = (int) [ 3, 1025 ]"

/* The GEnum type of AcrnnFilterbank, for element properties. */
#define GST_TYPE_ACRNN_FILTERBANK (gst_acrnn_filterbank_get_type())
GType gst_acrnn_filterbank_get_type(void);

/* The fields of the feature caps beyond the frame layout (format, bands,
 * n-fft, hop, delta-width), which are always there. */
typedef enum {
  GST_ACRNN_FEATURES_SAMPLE_RATE = 1 << 0, /* sample-rate */
  GST_ACRNN_FEATURES_FRAME_RATE = 1 << 1,  /* frame-rate = sample-rate/hop */
  GST_ACRNN_FEATURES_FMIN = 1 << 2,
  GST_ACRNN_FEATURES_FMAX = 1 << 3,
  GST_ACRNN_FEATURES_FILTERBANK = 1 << 4,
  GST_ACRNN_FEATURES_ALL = (1 << 5) - 1,
} GstAcrnnFeaturesFields;

/* The one builder of feature caps: caps of one structure holding the frame
 * layout of p and the fields of p named in fields (the others left open, as
 * for a filter or a preference). */
GstCaps *gst_acrnn_features_caps_build(const AcrnnFeatureParams *p,
                                       GstAcrnnFeaturesFields fields);

/* Fixed caps describing a stream of frames made with p (every field). */
GstCaps *gst_acrnn_features_caps_new(const AcrnnFeatureParams *p);

/* Reads fixed features caps into p; FALSE when a field is missing. */
gboolean gst_acrnn_features_caps_parse(const GstCaps *caps,
                                       AcrnnFeatureParams *p);

/* Answers a CAPS query with caps (taken), intersected with the query's
 * filter when it has one (the filter's order first); TRUE. */
gboolean gst_acrnn_answer_caps_query(GstQuery *query, GstCaps *caps);

G_END_DECLS

#endif
