/* feature_error.h - the GError domain of the feature extractor (internal). */
#ifndef ACRNN_FEATURE_ERROR_H
#define ACRNN_FEATURE_ERROR_H

#include <glib.h>

G_BEGIN_DECLS

#define ACRNN_FEATURES_ERROR (acrnn_features_error_quark())

typedef enum {
  ACRNN_FEATURES_ERROR_PARAMS, /**< a feature parameter is out of range */
  ACRNN_FEATURES_ERROR_INPUT,  /**< the samples cannot be used */
  ACRNN_FEATURES_ERROR_STATE,  /**< the call does not fit the stream state */
} AcrnnFeaturesError;

GQuark acrnn_features_error_quark(void);

G_END_DECLS

#endif
