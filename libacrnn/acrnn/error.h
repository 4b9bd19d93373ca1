/* acrnn/error.h - the GError domains of libacrnn's network and model files.
 * (Feature errors are in ACRNN_FEATURES_ERROR, acrnn/features.h.) Every
 * message names what is wrong and what was expected; file errors start with
 * the file's path.
 */
#ifndef ACRNN_ERROR_H
#define ACRNN_ERROR_H

#include <glib.h>

G_BEGIN_DECLS

/** Errors of model and checkpoint files, and of the safetensors files
 * under them. */
#define ACRNN_MODEL_ERROR (acrnn_model_error_quark())
GQuark acrnn_model_error_quark(void);

typedef enum {
  ACRNN_MODEL_ERROR_IO,      /**< cannot open, read or write the file */
  ACRNN_MODEL_ERROR_FORMAT,  /**< not a valid safetensors file */
  ACRNN_MODEL_ERROR_CONTENT, /**< valid file, but not a valid acrnn model */
} AcrnnModelErrorCode;

/** Errors of the network's configuration (acrnn_net_new(),
 * acrnn_attention_parse()). */
#define ACRNN_NET_ERROR (acrnn_net_error_quark())
GQuark acrnn_net_error_quark(void);

typedef enum {
  ACRNN_NET_ERROR_CONFIG, /**< a configuration value is out of range */
} AcrnnNetErrorCode;

G_END_DECLS

#endif
