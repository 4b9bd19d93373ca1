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

/* Fixed caps describing a stream of frames made with p. */
GstCaps *gst_acrnn_features_caps_new(const AcrnnFeatureParams *p);

/* Reads fixed features caps into p; FALSE when a field is missing. */
gboolean gst_acrnn_features_caps_parse(const GstCaps *caps,
                                       AcrnnFeatureParams *p);

G_END_DECLS

#endif
